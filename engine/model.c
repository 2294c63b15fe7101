/* model — model files (JSON), scoring and reasons. */
#include "model_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "buf.h"
#include "feat.h"
#include "glm.h"
#include "out.h"
#include "sha256.h"

#define MODEL_MAX_FILE (16u << 20)
#define MODEL_DAYS_PER_MONTH 30.4375

const char *model_id(const struct model *m)
{
    return m->id;
}

double model_percentile(const struct model *m, int feat, double x)
{
    if (isnan(x))
        return NAN;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct model_input *in = &m->inputs[i];
        if (in->feat != feat || !in->has_benchmark ||
            in->n_quantiles == 0)
            continue;
        int below = 0, equal = 0;
        for (int k = 0; k < in->n_quantiles; k++) {
            below += in->quantiles[k] < x;
            equal += in->quantiles[k] == x;
        }
        /* mid-rank among the cut points, on 0 .. 100 */
        return 100.0 * ((double)below + 0.5 * (double)equal) /
               (double)in->n_quantiles;
    }
    return NAN;
}

double model_band_share(const struct model *m, int b)
{
    return m->has_band_share && b >= 0 && b < 5 ? m->band_share[b] : NAN;
}

double model_mean_frequency(const struct model *m)
{
    return exp(m->log_mean_rate);
}

void model_free(struct model *m)
{
    if (!m)
        return;
    free(m->inputs);
    free(m);
}

/* ------------------------------------------------------------------ */
/* Scoring */

static int level_index(const struct model_input *in, const char *make)
{
    if (!make)
        return -1;
    for (size_t k = 0; k < in->n_levels; k++) {
        if (strcmp(in->levels[k], make) == 0)
            return (int)k;
    }
    return -1;
}

/* The make, or an own text factor. */
static int is_cat(const struct model_input *in)
{
    return in->categorical || in->feat == MODEL_INPUT_MAKE;
}

/* An aliased (NaN) coefficient contributes nothing. */
static double coef(double b)
{
    return isnan(b) ? 0.0 : b;
}

double model_input_contribution(const struct model_input *in,
                                const struct feat_vec *f, const char *make)
{
    if (in->feat == MODEL_INPUT_MAKE) {
        int k = level_index(in, make);
        return k < 0 ? 0.0 : coef(in->beta_level[k]);
    }
    if (!feat_applies(in->feat, f))
        return 0.0;
    double x = f->v[in->feat];
    double c = isnan(x) && in->has_missing ? coef(in->beta_missing) : 0;
    return c + coef(in->beta) * model_transform(in, x);
}

/* The smallest value ln() is taken of: keeps a stray 0 finite. */
#define MODEL_LOG_FLOOR 1e-6

double model_transform(const struct model_input *in, double x)
{
    if (isnan(x))
        x = in->impute;
    x = fmin(fmax(x, in->cap_lo), in->cap_hi);
    if (in->use_log == MODEL_LOG1P)
        x = log1p(fmax(x, 0.0));
    else if (in->use_log == MODEL_LOG)
        x = log(fmax(x, MODEL_LOG_FLOOR));
    return (x - in->center) / in->scale;
}

double model_raw_value(const struct model_input *in,
                       const struct feat_vec *f,
                       const struct model_factors *fx)
{
    if (in->feat >= 0)
        return f->v[in->feat];
    if (in->feat != MODEL_INPUT_OWN || !fx || !fx->value)
        return NAN;
    const char *s = fx->value(fx->ud, in->name);
    if (!s || !*s)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end || !isfinite(v) ? NAN : v;
}

int model_level(const struct model_input *in, const char *make,
                const struct model_factors *fx, int *unseen)
{
    const char *v = make;
    if (in->feat == MODEL_INPUT_OWN)
        v = fx && fx->value ? fx->value(fx->ud, in->name) : NULL;
    if (!v || !*v || strcmp(v, in->base_level) == 0)
        return -1;
    int k = level_index(in, v);
    if (k < 0 && unseen)
        *unseen = 1;
    return k;
}

/* A numeric operand's transformed value; 0 where it does not apply. */
static double operand_z(const struct model_input *in,
                        const struct feat_vec *f,
                        const struct model_factors *fx)
{
    if (in->feat >= 0 && !feat_applies(in->feat, f))
        return 0.0;
    return model_transform(in, model_raw_value(in, f, fx));
}

double model_contribution(const struct model *m, size_t i,
                          const struct feat_vec *f, const char *make,
                          const struct model_factors *fx, int *unseen)
{
    const struct model_input *in = &m->inputs[i];
    if (in->feat == MODEL_INPUT_INTERACTION) {
        const struct model_input *a = &m->inputs[in->ia];
        const struct model_input *b = &m->inputs[in->ib];
        if (!is_cat(a) && !is_cat(b))
            return coef(in->beta) * operand_z(a, f, fx) *
                   operand_z(b, f, fx);
        if (is_cat(a) && is_cat(b)) {
            int ka = model_level(a, make, fx, NULL);
            int kb = model_level(b, make, fx, NULL);
            if (ka < 0 || kb < 0)
                return 0.0;
            return coef(in->beta_level[(size_t)kb * a->n_levels +
                                       (size_t)ka]);
        }
        const struct model_input *c = is_cat(a) ? a : b;
        const struct model_input *x = is_cat(a) ? b : a;
        int k = model_level(c, make, fx, NULL);
        return k < 0 ? 0.0 : coef(in->beta_level[k]) * operand_z(x, f, fx);
    }
    if (is_cat(in)) {
        int k = model_level(in, make, fx, unseen);
        return k < 0 ? 0.0 : coef(in->beta_level[k]);
    }
    if (in->feat == MODEL_INPUT_OWN) {
        double x = model_raw_value(in, f, fx);
        double c = isnan(x) && in->has_missing ? coef(in->beta_missing) : 0;
        return c + coef(in->beta) * model_transform(in, x);
    }
    return model_input_contribution(in, f, make);
}

int model_has_own(const struct model *m)
{
    for (size_t i = 0; i < m->n_inputs; i++) {
        if (m->inputs[i].feat == MODEL_INPUT_OWN)
            return 1;
    }
    return 0;
}

double model_eta(const struct model *m, const struct feat_vec *f,
                 const char *make)
{
    double eta = m->intercept;
    for (size_t i = 0; i < m->n_inputs; i++)
        eta += model_contribution(m, i, f, make, NULL, NULL);
    return eta;
}

int model_score_of(const struct model *m, double relativity)
{
    if (!(relativity > 0))
        return m->score_max;
    double s = m->score_center - m->score_factor * log(relativity);
    if (!(s < m->score_max))     /* also catches NaN */
        return isnan(s) ? m->score_min : m->score_max;
    if (s < m->score_min)
        return m->score_min;
    return (int)lround(s);
}

static void format_number(int kind, double x, char *out, size_t n);

/* The vehicle's own value, as the reason text shows it. */
static void format_value(const struct model_input *in,
                         const struct feat_vec *f, const char *make,
                         char *out, size_t n)
{
    if (in->feat == MODEL_INPUT_MAKE) {
        snprintf(out, n, "%s", make ? make : "unknown");
        return;
    }
    format_number(in->value_kind, f->v[in->shown], out, n);
}

/* A value as reason texts show it, by kind. */
static void format_number(int kind, double x, char *out, size_t n)
{
    switch (kind) {
    case MODEL_VALUE_COUNT:
        snprintf(out, n, "%.0f", x);
        break;
    case MODEL_VALUE_SHARE:
        snprintf(out, n, "%.0f%%", 100.0 * x);
        break;
    case MODEL_VALUE_YESNO:
        snprintf(out, n, "%s", x > 0.5 ? "yes" : "no");
        break;
    default:
        if (fabs(x) >= 100)
            snprintf(out, n, "%.0f", x);
        else
            snprintf(out, n, "%.3g", x);
    }
}

/*
 * "overdue by 7 months (due every 12 months)" for an overdue item whose
 * schedule the features carry; 0 when they do not (features read back
 * from a CSV).
 */
static int overdue_text(const struct model_input *in,
                        const struct feat_vec *f, char *out, size_t n)
{
    const char *item;
    double over_d, over_km, due_d, due_km;
    if (in->feat == FEAT_OVERDUE_OIL_CHANGE) {
        item = "oil change";
        over_d = f->oil_over_days;
        over_km = f->oil_over_km;
        due_d = f->oil_due_days;
        due_km = f->oil_due_km;
    } else if (in->feat == FEAT_OVERDUE_TIRE_ROTATION) {
        item = "tire rotation";
        over_d = f->rot_over_days;
        over_km = f->rot_over_km;
        due_d = f->rot_due_days;
        due_km = f->rot_due_km;
    } else {
        return 0;
    }
    if (!(f->v[in->feat] > 0.5))
        return 0;
    if (over_d > 0 && due_d > 0) {
        double mo = fmax(1, round(over_d / MODEL_DAYS_PER_MONTH));
        snprintf(out, n, "%s %s overdue by %.0f month%s (due every %.0f "
                 "months)", in->code, item, mo, mo == 1 ? "" : "s",
                 round(due_d / MODEL_DAYS_PER_MONTH));
        return 1;
    }
    if (over_km > 0 && due_km > 0) {
        snprintf(out, n, "%s %s overdue by %.0f km (due every %.0f km)",
                 in->code, item, over_km, due_km);
        return 1;
    }
    return 0;
}

/*
 * Writes "CODE text (typical T)": the template with the vehicle's value in
 * place of the first %s, and the portfolio's typical value (when the model
 * has it) as the benchmark; an overdue item names the maker's interval
 * instead.
 */
static void reason_text(const struct model_input *in,
                        const struct feat_vec *f, const char *make,
                        char *out, size_t n)
{
    if (overdue_text(in, f, out, n))
        return;
    int missing = in->feat != MODEL_INPUT_MAKE &&
                  (isnan(f->v[in->feat]) || isnan(f->v[in->shown]));
    int use_missing = missing && in->missing_text[0];
    const char *tmpl = use_missing ? in->missing_text : in->text;
    /* without a missing text of its own, the value reads "unknown" rather
     * than the template's bare "%s" or "nan" */
    char value[48] = "unknown";
    if (!missing)
        format_value(in, f, make, value, sizeof(value));
    char bench[192] = "";
    if (in->has_benchmark && !isnan(in->typical)) {
        char t[48];
        format_number(in->value_kind, in->typical, t, sizeof(t));
        const char *th = strstr(in->text, "%s");
        if (use_missing && th)
            /* the missing text has no value of its own: the benchmark
               reads as the value's sentence, "(typical: services at 97%
               of the maker's interval)" */
            snprintf(bench, sizeof(bench), " (typical: %.*s%s%s)",
                     (int)(th - in->text), in->text, t, th + 2);
        else
            snprintf(bench, sizeof(bench), " (typical %s)", t);
    }
    const char *hole = use_missing ? NULL : strstr(tmpl, "%s");
    if (hole)
        snprintf(out, n, "%s %.*s%s%s", in->code, (int)(hole - tmpl), tmpl,
                 value, hole + 2);
    else
        snprintf(out, n, "%s %s", in->code, tmpl);
    /* the benchmark after the text, cut to what fits */
    size_t len = strlen(out);
    size_t bl = strlen(bench);
    if (len + 1 < n) {
        if (bl > n - len - 1)
            bl = n - len - 1;
        memcpy(out + len, bench, bl);
        out[len + bl] = '\0';
    }
}

/*
 * Is the vehicle on the adverse side of the portfolio's median for this
 * input?  Above it when a higher value raises the expected frequency, below
 * it otherwise.  A missing value is judged by its indicator alone (1); a
 * model without benchmarks judges by points alone (1).
 */
static int adverse(const struct model_input *in, const struct feat_vec *f)
{
    if (!in->has_benchmark || isnan(in->median) || isnan(in->beta))
        return 1;
    double x = f->v[in->feat];
    if (isnan(x))
        return 1;
    return in->beta > 0 ? x > in->median : x < in->median;
}

static char band_of(const struct model *m, int score)
{
    for (int i = 0; i < 4; i++) {
        if (score >= m->band_cuts[i])
            return (char)('A' + i);
    }
    return 'E';
}

void model_score(const struct model *m, const struct feat_vec *f,
                 const char *make, struct model_result *out)
{
    model_score_with(m, f, make, NULL, out, NULL);
}

void model_score_with(const struct model *m, const struct feat_vec *f,
                      const char *make, const struct model_factors *fx,
                      struct model_result *out, int *unseen)
{
    double eta = m->intercept;
    /* points below baseline of each input; the top ones become reasons */
    double pts[MODEL_MAX_REASONS];
    size_t who[MODEL_MAX_REASONS];
    int n = 0;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct model_input *in = &m->inputs[i];
        int u = 0;
        double c = model_contribution(m, i, f, make, fx, &u);
        if (u && unseen)
            (*unseen)++;
        eta += c;
        /* own factors and interactions rate; they give no reasons */
        if (in->feat == MODEL_INPUT_OWN ||
            in->feat == MODEL_INPUT_INTERACTION)
            continue;
        /* not applicable: no reason either way */
        if (in->feat != MODEL_INPUT_MAKE && !feat_applies(in->feat, f))
            continue;
        double p = m->score_factor * (c - in->baseline);
        if (!(p > MODEL_REASON_MIN_POINTS) || !adverse(in, f))
            continue;
        /* insertion into the top list, ties kept in input order */
        int k = n < MODEL_MAX_REASONS ? n++ : MODEL_MAX_REASONS;
        if (k == MODEL_MAX_REASONS && p <= pts[k - 1])
            continue;
        if (k == MODEL_MAX_REASONS)
            k--;
        while (k > 0 && pts[k - 1] < p) {
            pts[k] = pts[k - 1];
            who[k] = who[k - 1];
            k--;
        }
        pts[k] = p;
        who[k] = i;
    }
    out->eta = eta;
    double mu = glm_linkinv((enum glm_link)m->link, eta);
    out->relativity = mu / exp(m->log_mean_rate);
    out->score = model_score_of(m, out->relativity);
    out->band = band_of(m, out->score);
    out->n_reasons = n;
    for (int k = 0; k < n; k++) {
        out->reasons[k].points = pts[k];
        reason_text(&m->inputs[who[k]], f, make, out->reasons[k].text,
                    sizeof(out->reasons[k].text));
    }
}

/* ------------------------------------------------------------------ */
/* Saving */

/*
 * The mean frequency as the file holds it: a loaded model keeps the file's
 * value, since exp(log(x)) need not give x back to the last bit.
 */
static double mean_in_file(const struct model *m)
{
    return m->mean_frequency > 0 ? m->mean_frequency : exp(m->log_mean_rate);
}

/*
 * A finite double as text that reads back as the very same double: the
 * first of 15, 16 or 17 significant digits (%g) that does.  cJSON's own
 * printing keeps 15 digits whenever they read back within DBL_EPSILON,
 * which can lose the last bit.  The content id uses the same text.
 */
static void num_text(double v, char out[40])
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, 40, "%.*g", digits, v);
        if (strtod(out, NULL) == v)
            break;
    }
}

/* A number for the file, or null for NaN and infinities (JSON has neither). */
static cJSON *num(double v)
{
    if (!isfinite(v))
        return cJSON_CreateNull();
    char text[40];
    num_text(v, text);
    return cJSON_CreateRaw(text);
}

static void put(cJSON *obj, const char *name, cJSON *item)
{
    cJSON_AddItemToObject(obj, name, item);
}

static const char *const kind_names[] = {"number", "count", "share", "yesno"};
static const char *const log_names[] = {"none", "log1p", "log"};

static cJSON *input_json(const struct model_input *in)
{
    cJSON *o = cJSON_CreateObject();
    put(o, "name", cJSON_CreateString(in->name));
    if (in->feat == MODEL_INPUT_INTERACTION) {
        put(o, "kind", cJSON_CreateString("interaction"));
        cJSON *of = cJSON_CreateArray();
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)in->ia));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)in->ib));
        put(o, "of", of);
        if (in->n_levels == 0) {
            put(o, "estimate", num(in->beta));
            put(o, "se", num(in->se));
        }
    } else if (is_cat(in)) {
        put(o, "kind", cJSON_CreateString("categorical"));
        put(o, "base_level", cJSON_CreateString(in->base_level));
        put(o, "base_exposure", num(in->base_exposure));
    } else {
        put(o, "kind", cJSON_CreateString("numeric"));
        cJSON *t = cJSON_CreateObject();
        put(t, "impute", num(in->impute));
        put(t, "cap_lo", num(in->cap_lo));
        put(t, "cap_hi", num(in->cap_hi));
        put(t, "log", cJSON_CreateString(log_names[in->use_log % 3]));
        put(t, "center", num(in->center));
        put(t, "scale", num(in->scale));
        put(o, "transform", t);
        put(o, "estimate", num(in->beta));
        put(o, "se", num(in->se));
        if (in->has_missing) {
            cJSON *mi = cJSON_CreateObject();
            put(mi, "estimate", num(in->beta_missing));
            put(mi, "se", num(in->se_missing));
            put(o, "missing_indicator", mi);
        } else {
            put(o, "missing_indicator", cJSON_CreateNull());
        }
        if (in->n_bins) {
            cJSON *bins = cJSON_CreateObject();
            cJSON *e = cJSON_CreateArray(), *x = cJSON_CreateArray();
            for (int k = 0; k < in->n_bins; k++) {
                if (k + 1 < in->n_bins)
                    cJSON_AddItemToArray(e, num(in->bin_edges[k]));
                cJSON_AddItemToArray(x, num(in->bin_exposure[k]));
            }
            put(bins, "edges", e);
            put(bins, "exposure", x);
            put(o, "bins", bins);
        }
    }
    if (is_cat(in) || (in->feat == MODEL_INPUT_INTERACTION &&
                            in->n_levels > 0)) {
        cJSON *levels = cJSON_CreateArray();
        for (size_t k = 0; k < in->n_levels; k++) {
            cJSON *l = cJSON_CreateObject();
            put(l, "level", cJSON_CreateString(in->levels[k]));
            put(l, "estimate", num(in->beta_level[k]));
            put(l, "se", num(in->se_level[k]));
            if (is_cat(in))
                put(l, "exposure", num(in->level_exposure[k]));
            cJSON_AddItemToArray(levels, l);
        }
        put(o, "levels", levels);
    }
    if (in->feat == MODEL_INPUT_OWN)
        put(o, "own", cJSON_CreateTrue());
    put(o, "baseline", num(in->baseline));
    if (in->feat == MODEL_INPUT_OWN || in->feat == MODEL_INPUT_INTERACTION)
        goto benchmark;
    cJSON *r = cJSON_CreateObject();
    put(r, "code", cJSON_CreateString(in->code));
    put(r, "text", cJSON_CreateString(in->text));
    put(r, "missing_text", cJSON_CreateString(in->missing_text));
    put(r, "value", cJSON_CreateString(kind_names[in->value_kind & 3]));
    if (in->feat != MODEL_INPUT_MAKE)
        put(r, "value_of", cJSON_CreateString(feat_name(in->shown)));
    put(o, "reason", r);
benchmark:
    if (in->has_benchmark) {
        cJSON *bm = cJSON_CreateObject();
        put(bm, "median", num(in->median));
        put(bm, "typical", num(in->typical));
        cJSON *q = cJSON_CreateArray();
        for (int k = 0; k < in->n_quantiles; k++)
            cJSON_AddItemToArray(q, num(in->quantiles[k]));
        put(bm, "quantiles", q);
        put(o, "benchmark", bm);
    }
    return o;
}

static cJSON *model_json(const struct model *m)
{
    cJSON *o = cJSON_CreateObject();
    put(o, "format", cJSON_CreateNumber(MODEL_FORMAT));
    put(o, "model_id", cJSON_CreateString(m->id));
    put(o, "family", cJSON_CreateString(glm_family_name(
                                            (enum glm_family)m->family)));
    put(o, "link", cJSON_CreateString(glm_link_name((enum glm_link)m->link)));
    put(o, "transform", cJSON_CreateString(m->transform ? "standard"
                                                        : "none"));
    cJSON *ic = cJSON_CreateObject();
    put(ic, "estimate", num(m->intercept));
    put(ic, "se", num(m->intercept_se));
    put(o, "intercept", ic);
    cJSON *inputs = cJSON_CreateArray();
    for (size_t i = 0; i < m->n_inputs; i++)
        cJSON_AddItemToArray(inputs, input_json(&m->inputs[i]));
    put(o, "inputs", inputs);
    cJSON *pf = cJSON_CreateObject();
    put(pf, "mean_frequency", num(mean_in_file(m)));
    put(o, "portfolio", pf);
    cJSON *sc = cJSON_CreateObject();
    put(sc, "center", num(m->score_center));
    put(sc, "factor", num(m->score_factor));
    put(sc, "min", cJSON_CreateNumber(m->score_min));
    put(sc, "max", cJSON_CreateNumber(m->score_max));
    put(o, "score", sc);
    cJSON *bands = cJSON_CreateArray();
    for (int i = 0; i < 5; i++) {
        cJSON *b = cJSON_CreateObject();
        char name[2] = {(char)('A' + i), '\0'};
        put(b, "band", cJSON_CreateString(name));
        put(b, "min_score", i < 4 ? num(m->band_cuts[i])
                                  : cJSON_CreateNumber(m->score_min));
        /* what the training rows gave; informs reports, not scores */
        if (m->has_band_share)
            put(b, "share", num(m->band_share[i]));
        cJSON_AddItemToArray(bands, b);
    }
    put(o, "bands", bands);
    cJSON *fit = cJSON_CreateObject();
    put(fit, "n", cJSON_CreateNumber((double)m->fit.n));
    put(fit, "deviance", num(m->fit.deviance));
    put(fit, "null_deviance", num(m->fit.null_deviance));
    put(fit, "df_residual", cJSON_CreateNumber((double)m->fit.df_residual));
    put(fit, "df_null", cJSON_CreateNumber((double)m->fit.df_null));
    put(fit, "aic", num(m->fit.aic));
    put(fit, "loglik", num(m->fit.loglik));
    put(fit, "dispersion", num(m->fit.dispersion));
    put(fit, "pearson_dispersion", num(m->fit.pearson_dispersion));
    put(fit, "iterations", cJSON_CreateNumber(m->fit.iterations));
    put(fit, "converged", cJSON_CreateBool(m->fit.converged));
    put(o, "fit", fit);
    cJSON *pv = cJSON_CreateObject();
    put(pv, "trained_at", cJSON_CreateString(m->trained_at));
    put(pv, "command", cJSON_CreateString(m->command));
    put(pv, "data_fingerprint", cJSON_CreateString(m->data_fingerprint));
    put(o, "provenance", pv);
    return o;
}

/* ------------------------------------------------------------------ */
/* The content id */

/*
 * The canonical text (the rule is in models/README.md): one "path=value"
 * line per field that decides a score, a band or a reason, in a fixed
 * order; numbers as num_text() prints them (the same double gives the
 * same text, however the file spells it) or null; strings quoted,
 * with '"', '\' and control bytes escaped.  Standard errors, the transform
 * mode, the fit statistics and the provenance are left out.
 */
struct canon {
    struct buf *b;
    struct eng_err *err;
    int rc;
};

static void canon_num(struct canon *c, const char *path, double v)
{
    if (c->rc < 0)
        return;
    char text[40] = "null";
    if (isfinite(v))
        num_text(v, text);
    c->rc = buf_printf(c->b, c->err, "%s=%s\n", path, text);
}

static void canon_str(struct canon *c, const char *path, const char *s)
{
    if (c->rc < 0)
        return;
    c->rc = buf_printf(c->b, c->err, "%s=\"", path);
    for (const unsigned char *p = (const unsigned char *)s;
         *p && c->rc == ENG_OK; p++) {
        if (*p == '"' || *p == '\\')
            c->rc = buf_printf(c->b, c->err, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            c->rc = buf_printf(c->b, c->err, "\\u%04x", *p);
        else
            c->rc = buf_add(c->b, p, 1, c->err);
    }
    if (c->rc == ENG_OK)
        c->rc = buf_adds(c->b, "\"\n", c->err);
}

static void canon_input(struct canon *c, const struct model_input *in,
                        size_t i)
{
    char p[96];
#define AT(field) (snprintf(p, sizeof(p), "inputs[%zu].%s", i, field), p)
    canon_str(c, AT("name"), in->name);
    if (in->feat == MODEL_INPUT_OWN)
        canon_str(c, AT("own"), "true");
    if (in->feat == MODEL_INPUT_INTERACTION) {
        canon_str(c, AT("kind"), "interaction");
        canon_num(c, AT("of[0]"), (double)in->ia);
        canon_num(c, AT("of[1]"), (double)in->ib);
        if (in->n_levels == 0)
            canon_num(c, AT("estimate"), in->beta);
        for (size_t k = 0; k < in->n_levels; k++) {
            char q[96];
            snprintf(q, sizeof(q), "inputs[%zu].levels[%zu].estimate", i, k);
            canon_num(c, q, in->beta_level[k]);
        }
        canon_num(c, AT("baseline"), in->baseline);
        return;
    }
    if (is_cat(in)) {
        canon_str(c, AT("kind"), "categorical");
        canon_str(c, AT("base_level"), in->base_level);
        for (size_t k = 0; k < in->n_levels; k++) {
            char q[96];
            snprintf(q, sizeof(q), "inputs[%zu].levels[%zu].level", i, k);
            canon_str(c, q, in->levels[k]);
            snprintf(q, sizeof(q), "inputs[%zu].levels[%zu].estimate", i, k);
            canon_num(c, q, in->beta_level[k]);
        }
    } else {
        canon_str(c, AT("kind"), "numeric");
        canon_num(c, AT("transform.impute"), in->impute);
        canon_num(c, AT("transform.cap_lo"), in->cap_lo);
        canon_num(c, AT("transform.cap_hi"), in->cap_hi);
        canon_str(c, AT("transform.log"), log_names[in->use_log % 3]);
        canon_num(c, AT("transform.center"), in->center);
        canon_num(c, AT("transform.scale"), in->scale);
        canon_num(c, AT("estimate"), in->beta);
        if (in->has_missing)
            canon_num(c, AT("missing_indicator.estimate"), in->beta_missing);
        else
            canon_num(c, AT("missing_indicator"), NAN);
    }
    canon_num(c, AT("baseline"), in->baseline);
    if (in->feat == MODEL_INPUT_OWN)
        return;
    canon_str(c, AT("reason.code"), in->code);
    canon_str(c, AT("reason.text"), in->text);
    canon_str(c, AT("reason.missing_text"), in->missing_text);
    canon_str(c, AT("reason.value"), kind_names[in->value_kind & 3]);
    if (in->feat != MODEL_INPUT_MAKE)
        canon_str(c, AT("reason.value_of"), feat_name(in->shown));
    /* the median decides whether a reason is listed, typical is its text;
       the quantiles only inform explain and stay out */
    if (in->has_benchmark) {
        canon_num(c, AT("benchmark.median"), in->median);
        canon_num(c, AT("benchmark.typical"), in->typical);
    }
#undef AT
}

int model_canonical(const struct model *m, struct buf *out,
                    struct eng_err *err)
{
    size_t len = out->len;
    struct canon c = {out, err, ENG_OK};
    canon_num(&c, "format", MODEL_FORMAT);
    canon_str(&c, "family", glm_family_name((enum glm_family)m->family));
    canon_str(&c, "link", glm_link_name((enum glm_link)m->link));
    canon_num(&c, "intercept.estimate", m->intercept);
    for (size_t i = 0; i < m->n_inputs; i++)
        canon_input(&c, &m->inputs[i], i);
    canon_num(&c, "portfolio.mean_frequency", mean_in_file(m));
    canon_num(&c, "score.center", m->score_center);
    canon_num(&c, "score.factor", m->score_factor);
    canon_num(&c, "score.min", m->score_min);
    canon_num(&c, "score.max", m->score_max);
    for (int i = 0; i < 4; i++) {
        char p[32];
        snprintf(p, sizeof(p), "bands[%d].min_score", i);
        canon_num(&c, p, m->band_cuts[i]);
    }
    if (c.rc < 0 && out->len > len) {
        /* unchanged on failure: drop what this call appended */
        out->len = len;
        out->data[len] = '\0';
    }
    return c.rc;
}

int model_compute_id(const struct model *m, char id[MODEL_ID_LEN],
                     struct eng_err *err)
{
    struct buf b;
    buf_init(&b, MODEL_MAX_FILE);
    int rc = model_canonical(m, &b, err);
    if (rc == ENG_OK) {
        unsigned char d[SHA256_LEN];
        sha256(b.data ? b.data : "", b.len, d);
        snprintf(id, MODEL_ID_LEN, "m-%02x%02x%02x%02x%02x%02x%02x%02x",
                 d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
    }
    buf_release(&b);
    return rc;
}

int model_save(struct model *m, const char *path, struct eng_err *err)
{
    char id[MODEL_ID_LEN];
    int rc = model_compute_id(m, id, err);
    if (rc < 0)
        return rc;
    snprintf(m->id, sizeof(m->id), "%s", id);
    cJSON *j = model_json(m);
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!text)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    struct out_file *o = out_open(path, err);
    rc = o ? ENG_OK : ENG_EIO;
    if (o)
        rc = out_write(o, text, strlen(text), err);
    if (rc == ENG_OK)
        rc = out_write(o, "\n", 1, err);
    if (rc == ENG_OK) {
        rc = out_commit(o, err);
        o = NULL;
    }
    out_abort(o);
    cJSON_free(text);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Loading */

/*
 * Every field is checked when read, so that a model file either scores as
 * the README says (1..999, bands A..E, one reason per input) or is refused
 * with one line that names the field's path, "inputs[3].transform.scale".
 * The first failure is kept: later reads do nothing once rc is set.
 */
struct reader {
    struct eng_err *err;
    int rc;
    const char *file;
    char where[96];               /* path of the object being read */
};

static void fail(struct reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct reader *r, const char *fmt, ...)
{
    if (r->rc < 0)
        return;
    char text[ENG_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    r->rc = eng_err_set(r->err, ENG_EDATA, "model '%.100s': %s", r->file,
                        text);
}

/* The field's full path, "inputs[0].transform.scale", into out. */
static const char *path_of(const struct reader *r, const char *name,
                           char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", r->where, r->where[0] ? "." : "", name);
    return out;
}

static void enter(struct reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void enter(struct reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->where, sizeof(r->where), fmt, ap);
    va_end(ap);
}

static const cJSON *need(struct reader *r, const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    char p[128];
    if (!it)
        fail(r, "missing '%s'", path_of(r, name, p, sizeof(p)));
    return it;
}

/* An object (or, with null_ok, null, returned as NULL without failing). */
static const cJSON *need_object(struct reader *r, const cJSON *obj,
                                const char *name, int null_ok)
{
    const cJSON *it = need(r, obj, name);
    char p[128];
    if (!it || (null_ok && cJSON_IsNull(it)))
        return NULL;
    if (!cJSON_IsObject(it)) {
        fail(r, "'%s' is not an object", path_of(r, name, p, sizeof(p)));
        return NULL;
    }
    return it;
}

/* A finite number; with nan_ok, null reads as null_value (aliased, no cap). */
static double get_num(struct reader *r, const cJSON *obj, const char *name,
                      int nan_ok, double null_value)
{
    const cJSON *it = need(r, obj, name);
    char p[128];
    if (!it)
        return NAN;
    if (nan_ok && cJSON_IsNull(it))
        return null_value;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
        fail(r, "'%s' is not a finite number%s",
             path_of(r, name, p, sizeof(p)), nan_ok ? " or null" : "");
        return NAN;
    }
    return it->valuedouble;
}

/* A standard error: a finite number >= 0, or null (aliased). */
static double get_se(struct reader *r, const cJSON *obj, const char *name)
{
    double v = get_num(r, obj, name, 1, NAN);
    char p[128];
    if (v < 0)
        fail(r, "'%s' is negative (%g)", path_of(r, name, p, sizeof(p)), v);
    return v;
}

/*
 * A whole number in lo..hi: converting a NaN or a huge double to int is
 * undefined behaviour, so the range is checked before the cast.
 */
static int get_int(struct reader *r, const cJSON *obj, const char *name,
                   int lo, int hi)
{
    double v = get_num(r, obj, name, 0, 0);
    char p[128];
    if (r->rc < 0)
        return 0;
    if (v != floor(v) || !(fabs(v) <= 1e6)) {
        fail(r, "'%s' must be a whole number",
             path_of(r, name, p, sizeof(p)));
        return 0;
    }
    if (v < lo || v > hi) {
        fail(r, "'%s' is %g, outside %d..%d",
             path_of(r, name, p, sizeof(p)), v, lo, hi);
        return 0;
    }
    return (int)v;
}

/*
 * A string that fits out (n - 1 bytes: never silently cut) and holds no
 * control character (the texts end up in CSV rows and log lines).
 */
static void get_str(struct reader *r, const cJSON *obj, const char *name,
                    char *out, size_t n)
{
    const cJSON *it = need(r, obj, name);
    char p[128];
    out[0] = '\0';
    if (!it)
        return;
    if (!cJSON_IsString(it)) {
        fail(r, "'%s' is not a string", path_of(r, name, p, sizeof(p)));
        return;
    }
    const char *v = it->valuestring;
    if (strlen(v) >= n) {
        fail(r, "'%s' is longer than %zu bytes",
             path_of(r, name, p, sizeof(p)), n - 1);
        return;
    }
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            fail(r, "'%s' holds a control character",
                 path_of(r, name, p, sizeof(p)));
            return;
        }
    }
    memcpy(out, v, strlen(v) + 1);
}

/*
 * The optional benchmarks.  A model file made before they existed has
 * none: it still loads and scores the same, its reasons then carry no
 * "typical" benchmark and explain shows no portfolio percentiles.  When
 * present they must be well formed.
 */
static void read_benchmark(struct reader *r, const cJSON *o,
                           struct model_input *in, size_t i)
{
    in->has_benchmark = 0;
    in->median = in->typical = NAN;
    in->n_quantiles = 0;
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(o, "benchmark");
    if (!bm || cJSON_IsNull(bm))
        return;
    if (in->feat == MODEL_INPUT_MAKE) {
        fail(r, "'inputs[%zu].benchmark': the make has no benchmark", i);
        return;
    }
    if (!cJSON_IsObject(bm)) {
        fail(r, "'inputs[%zu].benchmark' is not an object", i);
        return;
    }
    in->has_benchmark = 1;
    enter(r, "inputs[%zu].benchmark", i);
    in->median = get_num(r, bm, "median", 0, 0);
    in->typical = get_num(r, bm, "typical", 0, 0);
    const cJSON *q = need(r, bm, "quantiles");
    if (r->rc < 0)
        return;
    int nq = cJSON_GetArraySize(q);
    if (!cJSON_IsArray(q) || (nq != 0 && nq != MODEL_N_QUANTILES)) {
        fail(r, "'%s.quantiles' must list %d numbers", r->where,
             MODEL_N_QUANTILES);
        return;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, q) {
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) ||
            (in->n_quantiles > 0 &&
             it->valuedouble < in->quantiles[in->n_quantiles - 1])) {
            fail(r, "'%s.quantiles' must be finite and increasing",
                 r->where);
            return;
        }
        in->quantiles[in->n_quantiles++] = it->valuedouble;
    }
}

/* A string that must be one of names[0 .. n-1]; returns its index. */
static int get_choice(struct reader *r, const cJSON *obj, const char *name,
                      const char *const *names, int n, const char *list)
{
    char v[32];
    char p[128];
    get_str(r, obj, name, v, sizeof(v));
    if (r->rc < 0)
        return 0;
    for (int k = 0; k < n; k++) {
        if (strcmp(v, names[k]) == 0)
            return k;
    }
    fail(r, "'%s' must be %s, not '%s'", path_of(r, name, p, sizeof(p)),
         list, v);
    return 0;
}

/* "R03": an upper-case letter, then one to six upper-case letters or digits. */
static int code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 7 || !(s[0] >= 'A' && s[0] <= 'Z'))
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

static size_t count_of(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static void read_reason(struct reader *r, const cJSON *o,
                        struct model_input *in, size_t i)
{
    enter(r, "inputs[%zu]", i);
    const cJSON *rs = need_object(r, o, "reason", 0);
    if (!rs)
        return;
    enter(r, "inputs[%zu].reason", i);
    get_str(r, rs, "code", in->code, sizeof(in->code));
    if (r->rc == ENG_OK && !code_ok(in->code))
        fail(r, "'%s.code' must be a capital letter and 1 to 6 capitals or "
             "digits, not '%s'", r->where, in->code);
    get_str(r, rs, "text", in->text, sizeof(in->text));
    if (r->rc == ENG_OK && (!in->text[0] || count_of(in->text, "%s") > 1))
        fail(r, "'%s.text' must be a text with at most one %%s", r->where);
    get_str(r, rs, "missing_text", in->missing_text,
            sizeof(in->missing_text));
    if (r->rc == ENG_OK && strstr(in->missing_text, "%s"))
        fail(r, "'%s.missing_text' must not hold %%s (it has no value)",
             r->where);
    in->value_kind = get_choice(r, rs, "value", kind_names, 4,
                                "number, count, share or yesno");
    in->shown = in->feat;
    if (in->feat != MODEL_INPUT_MAKE) {
        char of[MODEL_NAME_LEN];
        get_str(r, rs, "value_of", of, sizeof(of));
        in->shown = feat_find(of);
        if (r->rc == ENG_OK && (in->shown < 0 || in->shown == FEAT_CURRENCY))
            fail(r, "'%s.value_of' names no numeric feature ('%s')",
                 r->where, of);
    }
}

/* An optional number: NaN when absent, null or not a number. */
static double opt_num(const cJSON *obj, const char *name);

static void read_levels(struct reader *r, const cJSON *o,
                        struct model_input *in, size_t i)
{
    get_str(r, o, "base_level", in->base_level, sizeof(in->base_level));
    if (r->rc == ENG_OK && !in->base_level[0])
        fail(r, "'inputs[%zu].base_level' is empty", i);
    const cJSON *levels = need(r, o, "levels");
    if (r->rc < 0)
        return;
    if (!cJSON_IsArray(levels) ||
        cJSON_GetArraySize(levels) > MODEL_MAX_LEVELS) {
        fail(r, "'inputs[%zu].levels' is not a list of at most %d", i,
             MODEL_MAX_LEVELS);
        return;
    }
    const cJSON *l;
    cJSON_ArrayForEach(l, levels) {
        size_t k = in->n_levels++;
        enter(r, "inputs[%zu].levels[%zu]", i, k);
        if (!cJSON_IsObject(l)) {
            fail(r, "'%s' is not an object", r->where);
            return;
        }
        get_str(r, l, "level", in->levels[k], sizeof(in->levels[k]));
        in->beta_level[k] = get_num(r, l, "estimate", 1, NAN);
        in->se_level[k] = get_se(r, l, "se");
        in->level_exposure[k] = opt_num(l, "exposure");
        if (r->rc < 0)
            return;
        if (!in->levels[k][0])
            fail(r, "'%s.level' is empty", r->where);
        if (strcmp(in->levels[k], in->base_level) == 0)
            fail(r, "'%s.level' is the base level '%s'", r->where,
                 in->base_level);
        for (size_t j = 0; j < k; j++) {
            if (strcmp(in->levels[j], in->levels[k]) == 0)
                fail(r, "'%s.level' repeats level '%s'", r->where,
                     in->levels[k]);
        }
    }
}

static void read_numeric(struct reader *r, const cJSON *o,
                         struct model_input *in, size_t i, int own)
{
    in->feat = own ? MODEL_INPUT_OWN : feat_find(in->name);
    if (!own && (in->feat < 0 || in->feat == FEAT_CURRENCY)) {
        fail(r, "inputs[%zu]: unknown feature '%s'", i, in->name);
        return;
    }
    const cJSON *t = need_object(r, o, "transform", 0);
    if (!t)
        return;
    enter(r, "inputs[%zu].transform", i);
    in->impute = get_num(r, t, "impute", 0, 0);
    in->cap_lo = get_num(r, t, "cap_lo", 1, -INFINITY);
    in->cap_hi = get_num(r, t, "cap_hi", 1, INFINITY);
    if (r->rc == ENG_OK && in->cap_lo > in->cap_hi)
        fail(r, "'%s.cap_lo' (%g) is above cap_hi (%g)", r->where,
             in->cap_lo, in->cap_hi);
    in->use_log = get_choice(r, t, "log", log_names, 3,
                             "none, log1p or log");
    in->center = get_num(r, t, "center", 0, 0);
    in->scale = get_num(r, t, "scale", 0, 0);
    if (r->rc == ENG_OK && !(in->scale > 0))
        fail(r, "'%s.scale' must be positive", r->where);
    enter(r, "inputs[%zu]", i);
    in->beta = get_num(r, o, "estimate", 1, NAN);
    in->se = get_se(r, o, "se");
    const cJSON *mi = need_object(r, o, "missing_indicator", 1);
    if (mi) {
        in->has_missing = 1;
        enter(r, "inputs[%zu].missing_indicator", i);
        in->beta_missing = get_num(r, mi, "estimate", 1, NAN);
        in->se_missing = get_se(r, mi, "se");
        enter(r, "inputs[%zu]", i);
    }
}

/* The optional rating-table bins of a numeric input. */
static void read_bins(struct reader *r, const cJSON *o,
                      struct model_input *in, size_t i)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "bins");
    if (!b || r->rc < 0)
        return;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(b, "edges");
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(b, "exposure");
    if (cJSON_GetArraySize(e) != MODEL_N_BINS - 1 ||
        cJSON_GetArraySize(x) != MODEL_N_BINS) {
        fail(r, "'inputs[%zu].bins' must hold %d edges and %d exposures", i,
             MODEL_N_BINS - 1, MODEL_N_BINS);
        return;
    }
    for (int k = 0; k < MODEL_N_BINS; k++) {
        const cJSON *v = cJSON_GetArrayItem(x, k);
        in->bin_exposure[k] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        if (k + 1 < MODEL_N_BINS) {
            v = cJSON_GetArrayItem(e, k);
            in->bin_edges[k] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
            if (!isfinite(in->bin_edges[k]) ||
                (k > 0 && in->bin_edges[k] < in->bin_edges[k - 1])) {
                fail(r, "'inputs[%zu].bins.edges' must be finite and "
                     "increasing", i);
                return;
            }
        }
    }
    in->n_bins = MODEL_N_BINS;
}

/* An interaction: its operands (earlier inputs) and coefficients. */
static void read_interaction(struct reader *r, const cJSON *o,
                             struct model_input *in, size_t i)
{
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(o, "of");
    const cJSON *a = cJSON_GetArrayItem(of, 0), *b = cJSON_GetArrayItem(of, 1);
    if (cJSON_GetArraySize(of) != 2 || !cJSON_IsNumber(a) ||
        !cJSON_IsNumber(b) || !(a->valuedouble >= 0) ||
        !(a->valuedouble < b->valuedouble) || !(b->valuedouble < (double)i)) {
        fail(r, "'inputs[%zu].of' must name two earlier inputs by index, "
             "in order", i);
        return;
    }
    in->ia = (int)a->valuedouble;
    in->ib = (int)b->valuedouble;
    in->beta = NAN;
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(o, "levels");
    if (!levels) {
        in->beta = get_num(r, o, "estimate", 1, NAN);
        in->se = get_se(r, o, "se");
        return;
    }
    if (!cJSON_IsArray(levels) ||
        cJSON_GetArraySize(levels) > MODEL_MAX_LEVELS) {
        fail(r, "'inputs[%zu].levels' is not a list of at most %d", i,
             MODEL_MAX_LEVELS);
        return;
    }
    const cJSON *l;
    cJSON_ArrayForEach(l, levels) {
        size_t k = in->n_levels++;
        enter(r, "inputs[%zu].levels[%zu]", i, k);
        get_str(r, l, "level", in->levels[k], sizeof(in->levels[k]));
        in->beta_level[k] = get_num(r, l, "estimate", 1, NAN);
        in->se_level[k] = get_se(r, l, "se");
        if (r->rc < 0)
            return;
    }
}

/* The operands of each interaction must fit its coefficients. */
static void check_interactions(struct reader *r, const struct model *m)
{
    for (size_t i = 0; i < m->n_inputs && r->rc == ENG_OK; i++) {
        const struct model_input *in = &m->inputs[i];
        if (in->feat != MODEL_INPUT_INTERACTION)
            continue;
        const struct model_input *a = &m->inputs[in->ia];
        const struct model_input *b = &m->inputs[in->ib];
        size_t want = is_cat(a) && is_cat(b) ? a->n_levels * b->n_levels
                      : is_cat(a) ? a->n_levels
                      : is_cat(b) ? b->n_levels : 0;
        if (a->feat == MODEL_INPUT_INTERACTION ||
            b->feat == MODEL_INPUT_INTERACTION || in->n_levels != want)
            fail(r, "inputs[%zu]: the interaction's terms do not match its "
                 "operands (%zu terms for %zu)", i, in->n_levels, want);
    }
}

static void read_input(struct reader *r, const cJSON *o, size_t i,
                       struct model_input *in)
{
    enter(r, "inputs[%zu]", i);
    memset(in, 0, sizeof(*in));
    if (!cJSON_IsObject(o)) {
        fail(r, "'%s' is not an object", r->where);
        return;
    }
    get_str(r, o, "name", in->name, sizeof(in->name));
    static const char *const kinds[] = {"numeric", "categorical",
                                        "interaction"};
    int kind = get_choice(r, o, "kind", kinds, 3,
                          "'numeric', 'categorical' or 'interaction'");
    if (r->rc < 0)
        return;
    int own = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "own"));
    if (kind == 2) {
        in->feat = MODEL_INPUT_INTERACTION;
        read_interaction(r, o, in, i);
        enter(r, "inputs[%zu]", i);
        in->baseline = get_num(r, o, "baseline", 0, 0);
        return;
    }
    if (kind == 1) {
        in->feat = own ? MODEL_INPUT_OWN : MODEL_INPUT_MAKE;
        in->categorical = 1;
        in->beta = NAN;
        if (!own && strcmp(in->name, "make") != 0)
            fail(r, "inputs[%zu]: only 'make' and own factors can be "
                 "categorical", i);
        read_levels(r, o, in, i);
        in->base_exposure = opt_num(o, "base_exposure");
    } else {
        read_numeric(r, o, in, i, own);
        read_bins(r, o, in, i);
    }
    enter(r, "inputs[%zu]", i);
    in->baseline = get_num(r, o, "baseline", 0, 0);
    if (!own)
        read_reason(r, o, in, i);
    read_benchmark(r, o, in, i);
}

/* An optional number: NaN when absent, null or not a number. */
static double opt_num(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

/* An optional count: 0 unless a whole number in range (no UB cast). */
static double opt_count(const cJSON *obj, const char *name, double max)
{
    double v = opt_num(obj, name);
    return fabs(v) <= max && v == floor(v) ? v : 0;
}

static void opt_str(const cJSON *obj, const char *name, char *out, size_t n)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    snprintf(out, n, "%s", cJSON_IsString(it) ? it->valuestring : "");
}

/*
 * The fit statistics and the provenance: a record of how the model was
 * made that scoring does not use (and the id does not cover), so they are
 * read when present and never make a load fail.
 */
static void read_record(const cJSON *root, struct model *m)
{
    const cJSON *fit = cJSON_GetObjectItemCaseSensitive(root, "fit");
    m->fit.n = (size_t)fmax(opt_count(fit, "n", 9007199254740992.0), 0);
    m->fit.deviance = opt_num(fit, "deviance");
    m->fit.null_deviance = opt_num(fit, "null_deviance");
    m->fit.df_residual = (long)opt_count(fit, "df_residual", 1e15);
    m->fit.df_null = (long)opt_count(fit, "df_null", 1e15);
    m->fit.aic = opt_num(fit, "aic");
    m->fit.loglik = opt_num(fit, "loglik");
    m->fit.dispersion = opt_num(fit, "dispersion");
    m->fit.pearson_dispersion = opt_num(fit, "pearson_dispersion");
    m->fit.iterations = (int)opt_count(fit, "iterations", 1e6);
    m->fit.converged = cJSON_IsTrue(
        cJSON_GetObjectItemCaseSensitive(fit, "converged"));
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(root, "provenance");
    opt_str(pv, "trained_at", m->trained_at, sizeof(m->trained_at));
    opt_str(pv, "command", m->command, sizeof(m->command));
    opt_str(pv, "data_fingerprint", m->data_fingerprint,
            sizeof(m->data_fingerprint));
}

/* "m-" and 16 lower-case hex digits. */
static int id_ok(const char *s)
{
    return strlen(s) == 18 && strncmp(s, "m-", 2) == 0 &&
           strspn(s + 2, "0123456789abcdef") == 16;
}

static void read_inputs(struct reader *r, const cJSON *root, struct model *m)
{
    const cJSON *inputs = need(r, root, "inputs");
    if (r->rc < 0)
        return;
    int n = cJSON_IsArray(inputs) ? cJSON_GetArraySize(inputs) : -1;
    if (n < 1 || n > MODEL_MAX_INPUTS) {
        fail(r, "'inputs' is not a list of 1 to %d inputs",
             MODEL_MAX_INPUTS);
        return;
    }
    m->inputs = calloc((size_t)n, sizeof(*m->inputs));
    if (!m->inputs) {
        r->rc = eng_err_set(r->err, ENG_ENOMEM, "out of memory");
        return;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, inputs) {
        if (r->rc < 0)
            return;
        size_t i = m->n_inputs++;
        read_input(r, it, i, &m->inputs[i]);
        for (size_t j = 0; j < i && r->rc == ENG_OK; j++) {
            if (strcmp(m->inputs[j].name, m->inputs[i].name) == 0)
                fail(r, "'inputs[%zu].name' repeats inputs[%zu] ('%s')", i,
                     j, m->inputs[i].name);
            else if (m->inputs[i].code[0] &&
                     strcmp(m->inputs[j].code, m->inputs[i].code) == 0)
                fail(r, "'inputs[%zu].reason.code' repeats inputs[%zu]'s "
                     "('%s')", i, j, m->inputs[i].code);
        }
    }
}

static void read_scaling(struct reader *r, const cJSON *root, struct model *m)
{
    enter(r, "%s", "");
    const cJSON *pf = need_object(r, root, "portfolio", 0);
    enter(r, "portfolio");
    double mean = pf ? get_num(r, pf, "mean_frequency", 0, 0) : 0;
    if (r->rc == ENG_OK && !(mean > 0))
        fail(r, "'portfolio.mean_frequency' must be positive");
    m->mean_frequency = mean;
    m->log_mean_rate = log(mean);
    enter(r, "%s", "");
    const cJSON *sc = need_object(r, root, "score", 0);
    enter(r, "score");
    if (!sc)
        return;
    m->score_min = get_int(r, sc, "min", MODEL_SCORE_LO, MODEL_SCORE_HI);
    m->score_max = get_int(r, sc, "max", MODEL_SCORE_LO, MODEL_SCORE_HI);
    if (r->rc == ENG_OK && m->score_min >= m->score_max)
        fail(r, "'score.min' (%d) must be below score.max (%d)",
             m->score_min, m->score_max);
    m->score_center = get_num(r, sc, "center", 0, 0);
    if (r->rc == ENG_OK && !(m->score_center >= m->score_min &&
                             m->score_center <= m->score_max))
        fail(r, "'score.center' (%g) is outside score.min..score.max",
             m->score_center);
    m->score_factor = get_num(r, sc, "factor", 0, 0);
    if (r->rc == ENG_OK && !(m->score_factor > 0))
        fail(r, "'score.factor' (points per unit of ln relativity, "
             "PDO / ln 2) must be positive");
}

/*
 * Five bands A to E; the cut points (min_score of A to D) strictly
 * decrease and lie above score.min and at most score.max, so that every
 * band can hold a score, and E starts at score.min.
 */
static void read_bands(struct reader *r, const cJSON *root, struct model *m)
{
    enter(r, "%s", "");
    const cJSON *bands = need(r, root, "bands");
    if (r->rc < 0)
        return;
    if (!cJSON_IsArray(bands) || cJSON_GetArraySize(bands) != 5) {
        fail(r, "'bands' must list A to E");
        return;
    }
    for (int i = 0; i < 5 && r->rc == ENG_OK; i++) {
        const cJSON *b = cJSON_GetArrayItem(bands, i);
        enter(r, "bands[%d]", i);
        if (!cJSON_IsObject(b)) {
            fail(r, "'%s' is not an object", r->where);
            return;
        }
        char name[4];
        get_str(r, b, "band", name, sizeof(name));
        if (r->rc == ENG_OK && (name[0] != 'A' + i || name[1]))
            fail(r, "'%s.band' must be '%c', not '%s'", r->where, 'A' + i,
                 name);
        double cut = get_num(r, b, "min_score", 0, 0);
        if (r->rc < 0)
            return;
        if (i == 0)
            m->has_band_share =
                cJSON_GetObjectItemCaseSensitive(b, "share") != NULL;
        if (m->has_band_share) {
            m->band_share[i] = get_num(r, b, "share", 0, 0);
            if (r->rc == ENG_OK &&
                !(m->band_share[i] >= 0 && m->band_share[i] <= 1))
                fail(r, "'%s.share' (%g) is outside 0..1", r->where,
                     m->band_share[i]);
            if (r->rc < 0)
                return;
        }
        if (i == 4) {
            if (cut != m->score_min)
                fail(r, "'bands[4].min_score' (%g) must equal score.min "
                     "(%d)", cut, m->score_min);
            return;
        }
        m->band_cuts[i] = cut;
        if (i > 0 && !(cut < m->band_cuts[i - 1]))
            fail(r, "'bands[%d].min_score' (%g) must be below band %c's "
                 "(%g)", i, cut, 'A' + i - 1, m->band_cuts[i - 1]);
        else if (!(cut > m->score_min && cut <= m->score_max))
            fail(r, "'bands[%d].min_score' (%g) is outside score.min+1.."
                 "score.max", i, cut);
    }
}

static void read_model(struct reader *r, const cJSON *root, struct model *m)
{
    enter(r, "%s", "");
    if (!cJSON_IsObject(root)) {
        fail(r, "not a JSON object");
        return;
    }
    double format = get_num(r, root, "format", 0, 0);
    if (r->rc == ENG_OK && format != MODEL_FORMAT) {
        fail(r, "format version %g is not supported (this build reads %d)",
             format, MODEL_FORMAT);
        return;
    }
    get_str(r, root, "model_id", m->id, sizeof(m->id));
    if (r->rc == ENG_OK && !id_ok(m->id))
        fail(r, "'model_id' must be m- and 16 hex digits, not '%s'", m->id);
    char fam[16], link[16];
    get_str(r, root, "family", fam, sizeof(fam));
    get_str(r, root, "link", link, sizeof(link));
    static const char *const modes[] = {"none", "standard"};
    m->transform = get_choice(r, root, "transform", modes, 2,
                              "'standard' or 'none'");
    if (r->rc < 0)
        return;
    enum glm_family f;
    enum glm_link l;
    if (glm_family_parse(fam, &f, NULL) < 0 ||
        glm_link_parse(link, &l, NULL) < 0 || !glm_link_valid(f, l)) {
        fail(r, "unsupported family '%s' with link '%s'", fam, link);
        return;
    }
    m->family = f;
    m->link = l;
    const cJSON *ic = need_object(r, root, "intercept", 0);
    if (ic) {
        enter(r, "intercept");
        m->intercept = get_num(r, ic, "estimate", 0, 0);
        m->intercept_se = get_se(r, ic, "se");
        enter(r, "%s", "");
    }
    read_inputs(r, root, m);
    check_interactions(r, m);
    read_scaling(r, root, m);
    read_bands(r, root, m);
    read_record(root, m);
}

/* The id the file states must be the id of what it holds. */
static void check_id(struct reader *r, const struct model *m)
{
    char id[MODEL_ID_LEN];
    r->rc = model_compute_id(m, id, r->err);
    if (r->rc == ENG_OK && strcmp(id, m->id) != 0)
        fail(r, "model_id %s does not match the content (%s): the file was "
             "changed after it was saved", m->id, id);
}

struct model *model_load(const char *path, struct eng_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        eng_err_set(err, ENG_EIO, "cannot open model '%s': %s", path,
                    strerror(errno));
        return NULL;
    }
    char *text = malloc(MODEL_MAX_FILE + 1);
    size_t n = text ? fread(text, 1, MODEL_MAX_FILE + 1, f) : 0;
    int bad_read = ferror(f);
    fclose(f);
    if (!text) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    if (bad_read || n > MODEL_MAX_FILE) {
        free(text);
        eng_err_set(err, bad_read ? ENG_EIO : ENG_ELIMIT,
                    "cannot read model '%s'%s", path,
                    bad_read ? "" : ": larger than 16 MiB");
        return NULL;
    }
    /* NUL-terminated and parsed with the NUL, so that cJSON refuses
     * anything but white space after the model's object */
    text[n] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, n + 1, &end, 1);
    if (!root) {
        eng_err_set(err, ENG_EJSON, "model '%s' is not JSON (byte %zu)", path,
                    end ? (size_t)(end - text) : 0);
        free(text);
        return NULL;
    }
    free(text);
    struct model *m = calloc(1, sizeof(*m));
    struct reader r = {err, ENG_OK, path, ""};
    if (!m)
        r.rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
    else
        read_model(&r, root, m);
    cJSON_Delete(root);
    if (r.rc == ENG_OK)
        check_id(&r, m);
    if (r.rc < 0) {
        model_free(m);
        return NULL;
    }
    return m;
}
