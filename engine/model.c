/* model — model files (JSON), scoring and reasons. */
#include "model_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "feat.h"
#include "glm.h"
#include "out.h"

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

double model_eta(const struct model *m, const struct feat_vec *f,
                 const char *make)
{
    double eta = m->intercept;
    for (size_t i = 0; i < m->n_inputs; i++)
        eta += model_input_contribution(&m->inputs[i], f, make);
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
    char bench[64] = "";
    if (in->has_benchmark && !isnan(in->typical)) {
        char t[48];
        format_number(in->value_kind, in->typical, t, sizeof(t));
        snprintf(bench, sizeof(bench), " (typical %s)", t);
    }
    const char *hole = use_missing ? NULL : strstr(tmpl, "%s");
    if (hole)
        snprintf(out, n, "%s %.*s%s%s", in->code, (int)(hole - tmpl), tmpl,
                 value, hole + 2);
    else
        snprintf(out, n, "%s %s", in->code, tmpl);
    size_t len = strlen(out);
    if (len + 1 < n)
        snprintf(out + len, n - len, "%s", bench);
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
    double eta = m->intercept;
    /* points below baseline of each input; the top ones become reasons */
    double pts[MODEL_MAX_REASONS];
    size_t who[MODEL_MAX_REASONS];
    int n = 0;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct model_input *in = &m->inputs[i];
        double c = model_input_contribution(in, f, make);
        eta += c;
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
 * A number that reads back as the very same double, or null for NaN and
 * infinities (JSON has neither).  cJSON's own printing keeps 15 digits
 * whenever they read back within DBL_EPSILON, which can lose the last bit:
 * here the shortest of 15, 16 or 17 digits that reads back exactly is used.
 */
static cJSON *num(double v)
{
    if (!isfinite(v))
        return cJSON_CreateNull();
    char text[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof(text), "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
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
    if (in->feat == MODEL_INPUT_MAKE) {
        put(o, "kind", cJSON_CreateString("categorical"));
        put(o, "base_level", cJSON_CreateString(in->base_level));
        cJSON *levels = cJSON_CreateArray();
        for (size_t k = 0; k < in->n_levels; k++) {
            cJSON *l = cJSON_CreateObject();
            put(l, "level", cJSON_CreateString(in->levels[k]));
            put(l, "estimate", num(in->beta_level[k]));
            put(l, "se", num(in->se_level[k]));
            cJSON_AddItemToArray(levels, l);
        }
        put(o, "levels", levels);
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
    }
    put(o, "baseline", num(in->baseline));
    cJSON *r = cJSON_CreateObject();
    put(r, "code", cJSON_CreateString(in->code));
    put(r, "text", cJSON_CreateString(in->text));
    put(r, "missing_text", cJSON_CreateString(in->missing_text));
    put(r, "value", cJSON_CreateString(kind_names[in->value_kind & 3]));
    if (in->feat != MODEL_INPUT_MAKE)
        put(r, "value_of", cJSON_CreateString(feat_name(in->shown)));
    put(o, "reason", r);
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
    put(pf, "mean_frequency", num(exp(m->log_mean_rate)));
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

int model_save(struct model *m, const char *path, struct eng_err *err)
{
    /* the id hashes the content with an empty id in its place */
    m->id[0] = '\0';
    cJSON *j = model_json(m);
    char *flat = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!flat)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    unsigned long long h = eng_fnv(ENG_FNV_BASIS, flat, strlen(flat));
    cJSON_free(flat);
    snprintf(m->id, sizeof(m->id), "m-%016llx", h);
    j = model_json(m);
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!text)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    struct out_file *o = out_open(path, err);
    int rc = o ? ENG_OK : ENG_EIO;
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

struct reader {
    struct eng_err *err;
    int rc;
    const char *where;            /* path of the object being read */
};

static const cJSON *need(struct reader *r, const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!it && r->rc == ENG_OK)
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: missing '%s%s%s'",
                            r->where, r->where[0] ? "." : "", name);
    return it;
}

/* A finite number; with nan_ok, null reads as NaN (aliased, no cap). */
static double get_num(struct reader *r, const cJSON *obj, const char *name,
                      int nan_ok, double null_value)
{
    const cJSON *it = need(r, obj, name);
    if (!it)
        return NAN;
    if (nan_ok && cJSON_IsNull(it))
        return null_value;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
        if (r->rc == ENG_OK)
            r->rc = eng_err_set(r->err, ENG_EDATA,
                                "model: '%s%s%s' is not a finite number",
                                r->where, r->where[0] ? "." : "", name);
        return NAN;
    }
    return it->valuedouble;
}

/*
 * A whole number of modest size: converting a NaN or a huge double to int
 * is undefined behaviour, so the range is checked before the cast.
 */
static int get_int(struct reader *r, const cJSON *obj, const char *name)
{
    double v = get_num(r, obj, name, 0, 0);
    if (r->rc < 0)
        return 0;
    if (!(fabs(v) <= 1e6) || v != floor(v)) {
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: '%s%s%s' must be a "
                            "whole number", r->where,
                            r->where[0] ? "." : "", name);
        return 0;
    }
    return (int)v;
}

static void get_str(struct reader *r, const cJSON *obj, const char *name,
                    char *out, size_t n)
{
    const cJSON *it = need(r, obj, name);
    if (it && !cJSON_IsString(it) && r->rc == ENG_OK)
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: '%s%s%s' is not a "
                            "string", r->where, r->where[0] ? "." : "", name);
    snprintf(out, n, "%s", cJSON_IsString(it) ? it->valuestring : "");
}

/*
 * The optional benchmarks.  A model file made before they existed has
 * none: it still loads and scores the same, its reasons then carry no
 * "typical" benchmark and explain shows no portfolio percentiles.  When
 * present they must be well formed.
 */
static void read_benchmark_values(struct reader *r, const cJSON *bm,
                                  struct model_input *in);

static void read_benchmark(struct reader *r, const cJSON *o,
                           struct model_input *in)
{
    in->has_benchmark = 0;
    in->median = in->typical = NAN;
    in->n_quantiles = 0;
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(o, "benchmark");
    if (!bm || cJSON_IsNull(bm))
        return;
    if (in->feat == MODEL_INPUT_MAKE) {
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s: the make has no "
                            "benchmark", r->where);
        return;
    }
    in->has_benchmark = 1;
    char bw[96];
    snprintf(bw, sizeof(bw), "%s.benchmark", r->where);
    r->where = bw;
    read_benchmark_values(r, bm, in);
}

static void read_benchmark_values(struct reader *r, const cJSON *bm,
                                  struct model_input *in)
{
    in->median = get_num(r, bm, "median", 0, 0);
    in->typical = get_num(r, bm, "typical", 0, 0);
    const cJSON *q = need(r, bm, "quantiles");
    if (r->rc < 0)
        return;
    int nq = cJSON_GetArraySize(q);
    if (!cJSON_IsArray(q) || (nq != 0 && nq != MODEL_N_QUANTILES)) {
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s."
                            "quantiles must list %d numbers", r->where,
                            MODEL_N_QUANTILES);
        return;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, q) {
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) ||
            (in->n_quantiles > 0 &&
             it->valuedouble < in->quantiles[in->n_quantiles - 1])) {
            r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s."
                                "quantiles must be finite and increasing",
                                r->where);
            return;
        }
        in->quantiles[in->n_quantiles++] = it->valuedouble;
    }
}

static void read_input(struct reader *r, const cJSON *o, size_t i,
                       struct model_input *in)
{
    char where[64];
    snprintf(where, sizeof(where), "inputs[%zu]", i);
    r->where = where;
    memset(in, 0, sizeof(*in));
    get_str(r, o, "name", in->name, sizeof(in->name));
    char kind[16];
    get_str(r, o, "kind", kind, sizeof(kind));
    if (r->rc < 0)
        return;
    if (strcmp(kind, "categorical") == 0) {
        in->feat = MODEL_INPUT_MAKE;
        if (strcmp(in->name, "make") != 0) {
            r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s: only 'make' "
                                "can be categorical", where);
            return;
        }
        get_str(r, o, "base_level", in->base_level, sizeof(in->base_level));
        const cJSON *levels = need(r, o, "levels");
        if (levels && (!cJSON_IsArray(levels) ||
                       cJSON_GetArraySize(levels) > MODEL_MAX_LEVELS)) {
            r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s.levels is not "
                                "a list of at most %d", where,
                                MODEL_MAX_LEVELS);
            return;
        }
        const cJSON *l;
        cJSON_ArrayForEach(l, levels) {
            size_t k = in->n_levels++;
            get_str(r, l, "level", in->levels[k], sizeof(in->levels[k]));
            in->beta_level[k] = get_num(r, l, "estimate", 1, NAN);
            in->se_level[k] = get_num(r, l, "se", 1, NAN);
        }
        in->beta = NAN;
    } else if (strcmp(kind, "numeric") == 0) {
        in->feat = feat_find(in->name);
        if (in->feat < 0 || in->feat == FEAT_CURRENCY) {
            r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s: unknown "
                                "feature '%s'", where, in->name);
            return;
        }
        const cJSON *t = need(r, o, "transform");
        if (!t)
            return;
        char tw[80];
        snprintf(tw, sizeof(tw), "%s.transform", where);
        r->where = tw;
        in->impute = get_num(r, t, "impute", 0, 0);
        in->cap_lo = get_num(r, t, "cap_lo", 1, -INFINITY);
        in->cap_hi = get_num(r, t, "cap_hi", 1, INFINITY);
        char lg[8];
        get_str(r, t, "log", lg, sizeof(lg));
        in->use_log = -1;
        for (int k = 0; k < 3; k++) {
            if (strcmp(lg, log_names[k]) == 0)
                in->use_log = k;
        }
        if (in->use_log < 0 && r->rc == ENG_OK)
            r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s.transform.log "
                                "must be none, log1p or log", where);
        in->center = get_num(r, t, "center", 0, 0);
        in->scale = get_num(r, t, "scale", 0, 0);
        r->where = where;
        if (r->rc == ENG_OK && !(in->scale > 0))
            r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s.transform.scale"
                                " must be positive", where);
        in->beta = get_num(r, o, "estimate", 1, NAN);
        in->se = get_num(r, o, "se", 1, NAN);
        const cJSON *mi = need(r, o, "missing_indicator");
        if (mi && !cJSON_IsNull(mi)) {
            in->has_missing = 1;
            in->beta_missing = get_num(r, mi, "estimate", 1, NAN);
            in->se_missing = get_num(r, mi, "se", 1, NAN);
        }
    } else {
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s.kind must be "
                            "'numeric' or 'categorical'", where);
        return;
    }
    in->baseline = get_num(r, o, "baseline", 0, 0);
    const cJSON *rs = need(r, o, "reason");
    if (!rs)
        return;
    char rw[80];
    snprintf(rw, sizeof(rw), "%s.reason", where);
    r->where = rw;
    get_str(r, rs, "code", in->code, sizeof(in->code));
    get_str(r, rs, "text", in->text, sizeof(in->text));
    get_str(r, rs, "missing_text", in->missing_text,
            sizeof(in->missing_text));
    char vk[16];
    get_str(r, rs, "value", vk, sizeof(vk));
    in->value_kind = MODEL_VALUE_NUMBER;
    for (int k = 0; k < 4; k++) {
        if (strcmp(vk, kind_names[k]) == 0)
            in->value_kind = k;
    }
    in->shown = in->feat;
    if (in->feat != MODEL_INPUT_MAKE) {
        char of[MODEL_NAME_LEN];
        get_str(r, rs, "value_of", of, sizeof(of));
        in->shown = feat_find(of);
        if (r->rc == ENG_OK && (in->shown < 0 || in->shown == FEAT_CURRENCY))
            r->rc = eng_err_set(r->err, ENG_EDATA, "model: %s.reason."
                                "value_of names no numeric feature", where);
    }
    r->where = where;
    read_benchmark(r, o, in);
    r->where = "";
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
 * made that scoring does not use, so they are read when present and never
 * make a load fail.
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

static void read_model(struct reader *r, const cJSON *root, struct model *m)
{
    r->where = "";
    if (!cJSON_IsObject(root)) {
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: not a JSON object");
        return;
    }
    double format = get_num(r, root, "format", 0, 0);
    if (r->rc == ENG_OK && format != MODEL_FORMAT) {
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: format version %g is "
                            "not supported (this build reads %d)", format,
                            MODEL_FORMAT);
        return;
    }
    get_str(r, root, "model_id", m->id, sizeof(m->id));
    char fam[16], link[16], tr[16];
    get_str(r, root, "family", fam, sizeof(fam));
    get_str(r, root, "link", link, sizeof(link));
    get_str(r, root, "transform", tr, sizeof(tr));
    if (r->rc < 0)
        return;
    enum glm_family f;
    enum glm_link l;
    if (glm_family_parse(fam, &f, r->err) < 0 ||
        glm_link_parse(link, &l, r->err) < 0 || !glm_link_valid(f, l)) {
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: unsupported family "
                            "'%s' with link '%s'", fam, link);
        return;
    }
    m->family = f;
    m->link = l;
    m->transform = strcmp(tr, "none") != 0;
    const cJSON *ic = need(r, root, "intercept");
    if (ic) {
        r->where = "intercept";
        m->intercept = get_num(r, ic, "estimate", 0, 0);
        m->intercept_se = get_num(r, ic, "se", 1, NAN);
        r->where = "";
    }
    const cJSON *inputs = need(r, root, "inputs");
    if (r->rc < 0)
        return;
    if (!cJSON_IsArray(inputs)) {
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: 'inputs' is not a "
                            "list");
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(inputs);
    m->inputs = calloc(n ? n : 1, sizeof(*m->inputs));
    if (!m->inputs) {
        r->rc = eng_err_set(r->err, ENG_ENOMEM, "out of memory");
        return;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, inputs) {
        if (r->rc < 0)
            return;
        read_input(r, it, m->n_inputs, &m->inputs[m->n_inputs]);
        m->n_inputs++;
    }
    r->where = "";              /* read_input() pointed it at its stack */
    const cJSON *pf = need(r, root, "portfolio");
    r->where = "portfolio";
    double mean = pf ? get_num(r, pf, "mean_frequency", 0, 0) : 0;
    if (r->rc == ENG_OK && !(mean > 0))
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: "
                            "portfolio.mean_frequency must be positive");
    m->log_mean_rate = log(mean);
    r->where = "";
    const cJSON *sc = need(r, root, "score");
    r->where = "score";
    if (sc) {
        m->score_center = get_num(r, sc, "center", 0, 0);
        m->score_factor = get_num(r, sc, "factor", 0, 0);
        m->score_min = get_int(r, sc, "min");
        m->score_max = get_int(r, sc, "max");
    }
    r->where = "";
    const cJSON *bands = need(r, root, "bands");
    if (r->rc == ENG_OK &&
        (!cJSON_IsArray(bands) || cJSON_GetArraySize(bands) != 5)) {
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: 'bands' must list A "
                            "to E");
        return;
    }
    r->where = "bands[]";
    for (int i = 0; i < 4 && r->rc == ENG_OK; i++)
        m->band_cuts[i] = get_num(r, cJSON_GetArrayItem(bands, i),
                                  "min_score", 0, 0);
    for (int i = 1; i < 4 && r->rc == ENG_OK; i++) {
        if (m->band_cuts[i] > m->band_cuts[i - 1])
            r->rc = eng_err_set(r->err, ENG_EDATA, "model: band cut points "
                                "must not increase from A to E");
    }
    read_record(root, m);
    if (r->rc == ENG_OK && !(m->score_factor > 0 &&
                             m->score_min < m->score_max))
        r->rc = eng_err_set(r->err, ENG_EDATA, "model: bad score scaling");
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
    struct reader r = {err, ENG_OK, ""};
    if (!m)
        r.rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
    else
        read_model(&r, root, m);
    cJSON_Delete(root);
    if (r.rc < 0) {
        model_free(m);
        return NULL;
    }
    return m;
}
