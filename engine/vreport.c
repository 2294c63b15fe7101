/* vreport — the validation report (vreport.h). */
#include "vreport.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "html.h"
#include "svg.h"

#define put html_put

/* A figure, or "-" for NAN. */
static void fig(struct html_cells *a, int decimals, double v)
{
    if (isfinite(v))
        put(a, "%.*f", decimals, v);
    else
        put(a, "-");
}

static struct html_cells *cells_new(struct eng_err *err)
{
    struct html_cells *a = calloc(1, sizeof(*a));
    if (!a)
        eng_err_set(err, ENG_ENOMEM, "out of memory for the report");
    return a;
}

static void ci_text(const struct evalc_ci *c, char *s, size_t n)
{
    if (isfinite(c->lo))
        snprintf(s, n, "%.3f to %.3f", c->lo, c->hi);
    else
        snprintf(s, n, "-");
}

static int summary(struct buf *o, const struct vreport *v,
                   struct eng_err *err)
{
    const struct eval_report *r = v->main;
    char s[64];
    int rc = buf_adds(o, "<div class=\"kpis\">", err);
    snprintf(s, sizeof(s), "%zu", r->n);
    if (rc == ENG_OK)
        rc = html_kpi(o, "vehicles", s, 0, err);
    snprintf(s, sizeof(s), "%.0f", r->exposure);
    if (rc == ENG_OK)
        rc = html_kpi(o, "years of exposure", s, 0, err);
    snprintf(s, sizeof(s), "%.0f / %.1f", r->actual, r->predicted);
    if (rc == ENG_OK)
        rc = html_kpi(o, "claims: actual / expected", s, 0, err);
    snprintf(s, sizeof(s), "%.3f", r->ae);
    if (rc == ENG_OK)
        rc = html_kpi(o, "actual / expected", s, 0, err);
    snprintf(s, sizeof(s), "%.3f", r->gini);
    if (rc == ENG_OK)
        rc = html_kpi(o, "Gini of the model", s, 0, err);
    if (rc == ENG_OK && v->boot_reps) {
        ci_text(&v->ci, s, sizeof(s));
        rc = html_kpi(o, "95% bootstrap interval of the Gini", s, 0, err);
    }
    if (rc == ENG_OK && isfinite(r->gini_oracle)) {
        snprintf(s, sizeof(s), "%.3f", r->gini_oracle);
        rc = html_kpi(o, "Gini of the truth (oracle)", s, 0, err);
    }
    if (rc == ENG_OK && v->other) {
        snprintf(s, sizeof(s), "%.3f", v->other->gini);
        rc = html_kpi(o, "Gini of the compared model", s, 0, err);
    }
    if (rc == ENG_OK)
        rc = buf_adds(o, "</div>\n", err);
    /* the finding in one sentence */
    char line[400];
    int n = snprintf(line, sizeof(line), "On %zu vehicles the model "
                     "predicted %.1f claims and %.0f happened (actual / "
                     "expected %.3f). Its Gini is %.3f", r->n, r->predicted,
                     r->actual, r->ae, r->gini);
    if (v->boot_reps && isfinite(v->ci.lo) && n > 0
        && (size_t)n < sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, " (95%% "
                      "interval %.3f to %.3f)", v->ci.lo, v->ci.hi);
    if (isfinite(r->gini_ratio) && n > 0 && (size_t)n < sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, ", %.0f%% of "
                      "the oracle's %.3f", 100 * r->gini_ratio,
                      r->gini_oracle);
    if (v->other && n > 0 && (size_t)n < sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, "; the compared "
                      "model's is %.3f", v->other->gini);
    if (n > 0 && (size_t)n < sizeof(line))
        snprintf(line + n, sizeof(line) - (size_t)n, ".");
    if (rc == ENG_OK)
        rc = html_para(o, "summary", line, err);
    if (rc < 0)
        return rc;
    rc = html_section(o, "identity", "What was validated", NULL, err);
    struct html_cells *a = cells_new(err);
    if (!a)
        return ENG_ENOMEM;
    put(a, "model");
    put(a, "%s", v->model_id);
    if (v->compare_id) {
        put(a, "compared with model");
        put(a, "%s", v->compare_id);
    }
    put(a, "features");
    put(a, "%s", v->features);
    put(a, "claims (labels)");
    put(a, "%s", v->labels);
    if (v->truth) {
        put(a, "true frequencies");
        put(a, "%s", v->truth);
    }
    put(a, "vehicles used");
    put(a, "%zu", r->n);
    put(a, "left out: not scored (status not ok)");
    put(a, "%zu", v->skipped);
    put(a, "left out: no claims record");
    put(a, "%zu", v->unlabelled);
    put(a, "mean Poisson deviance");
    put(a, "%.5f", r->mean_poisson_deviance);
    if (v->boot_reps) {
        put(a, "bootstrap");
        put(a, "%zu resamples, seed %llu", v->boot_reps, v->boot_seed);
    }
    static const char *const head[] = {"", "Value"};
    if (rc == ENG_OK)
        rc = html_table(o, "The model and the data", head, 2, a->cells,
                          a->n / 2, "identity", err);
    free(a);
    return html_close_section(o, rc, err);
}

static void xy(const struct evalc_point *p, size_t n, double *x, double *y)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = p[i].x;
        y[i] = p[i].y;
    }
}

static int lorenz(struct buf *o, const struct vreport *v, struct eng_err *err)
{
    int rc = html_section(o, "lorenz", "Ordered Lorenz curve and Gini",
                            "Vehicles sorted from the lowest to the highest "
                            "predicted frequency: the curve shows the share "
                            "of claims against the share of exposure. The "
                            "further below the diagonal (a model that cannot "
                            "tell risks apart), the better the model ranks "
                            "risks; the Gini is twice the area between them."
                            " The oracle curve uses the true frequencies: "
                            "the best any model could do on these data.",
                            err);
    double x[3][EVALC_MAX_POINTS], y[3][EVALC_MAX_POINTS];
    struct svg_series se[3];
    size_t ns = 0;
    xy(v->lorenz, v->n_lorenz, x[0], y[0]);
    se[ns++] = (struct svg_series){"model", x[0], y[0], v->n_lorenz,
                                   SVG_LINE};
    if (v->lorenz_oracle) {
        xy(v->lorenz_oracle, v->n_lorenz_oracle, x[1], y[1]);
        se[ns++] = (struct svg_series){"oracle (truth)", x[1], y[1],
                                       v->n_lorenz_oracle, SVG_DASHED};
    }
    if (v->lorenz_other) {
        xy(v->lorenz_other, v->n_lorenz_other, x[2], y[2]);
        se[ns++] = (struct svg_series){"compared model", x[2], y[2],
                                       v->n_lorenz_other, SVG_LINE};
    }
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-lorenz";
    c.title = "Ordered Lorenz curve";
    c.desc = "Cumulative share of claims against cumulative share of "
             "exposure, vehicles ordered by predicted frequency.";
    c.x_label = "share of exposure (lowest predicted first)";
    c.y_label = "share of claims";
    c.x_min = c.y_min = 0;
    c.x_max = c.y_max = 1;
    c.x_percent = c.y_percent = 1;
    c.diagonal = 1;
    if (rc == ENG_OK)
        rc = svg_chart(o, &c, se, ns, err);
    struct html_cells *a = cells_new(err);
    if (!a)
        return ENG_ENOMEM;
    char ci[64];
    put(a, "model");
    fig(a, 4, v->main->gini);
    ci_text(&v->ci, ci, sizeof(ci));
    put(a, "%s", v->boot_reps ? ci : "not computed");
    if (isfinite(v->main->gini_oracle)) {
        put(a, "oracle (truth)");
        fig(a, 4, v->main->gini_oracle);
        put(a, "-");
        put(a, "model / oracle");
        fig(a, 4, v->main->gini_ratio);
        put(a, "-");
    }
    if (v->other) {
        put(a, "compared model");
        fig(a, 4, v->other->gini);
        ci_text(&v->ci_other, ci, sizeof(ci));
        put(a, "%s", v->boot_reps ? ci : "not computed");
        put(a, "difference (model - compared)");
        put(a, "%+.4f", v->main->gini - v->other->gini);
        ci_text(&v->ci_diff, ci, sizeof(ci));
        put(a, "%s", v->boot_reps ? ci : "not computed");
    }
    static const char *const head[] = {"Curve", "#Gini",
                                       "#95% bootstrap interval"};
    if (rc == ENG_OK)
        rc = html_table(o, "Gini coefficients", head, 3, a->cells,
                          a->n / 3, "gini", err);
    free(a);
    if (rc == ENG_OK && v->other && v->boot_reps)
        rc = buf_adds(o, "<p class=\"note\">When the interval of the "
                      "difference contains 0, the two models' ranking "
                      "cannot be told apart on these data.</p>", err);
    return html_close_section(o, rc, err);
}

/* A bucket table: label, rows, exposure, actual, predicted, freqs, A/E. */
static int bucket_table(struct buf *o, const char *caption, const char *first,
                        const char *const *labels, const struct eval_bucket *b,
                        size_t n, struct eng_err *err)
{
    struct html_cells *a = cells_new(err);
    if (!a)
        return ENG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        put(a, "%s", labels[i]);
        put(a, "%zu", b[i].n);
        put(a, "%.1f", b[i].exposure);
        put(a, "%.0f", b[i].actual);
        put(a, "%.1f", b[i].predicted);
        fig(a, 4, b[i].actual_freq);
        fig(a, 4, b[i].predicted_freq);
        fig(a, 3, b[i].ae);
    }
    const char *head[] = {first, "#Vehicles", "#Exposure (years)",
                          "#Actual claims", "#Expected claims",
                          "#Actual frequency", "#Expected frequency",
                          "#A/E"};
    int rc = html_table(o, caption, head, 8, a->cells, n, "buckets", err);
    free(a);
    return rc;
}

static int lift(struct buf *o, const struct vreport *v, struct eng_err *err)
{
    const struct eval_report *r = v->main;
    size_t k = r->n_buckets;
    char lab[EVAL_MAX_BUCKETS][24];
    const char *names[EVAL_MAX_BUCKETS];
    double act[EVAL_MAX_BUCKETS], pre[EVAL_MAX_BUCKETS];
    for (size_t i = 0; i < k; i++) {
        snprintf(lab[i], sizeof(lab[i]), "%zu", i + 1);
        names[i] = lab[i];
        act[i] = r->lift[i].actual_freq;
        pre[i] = r->lift[i].predicted_freq;
    }
    int rc = html_section(o, "lift", "Quantile lift chart",
                            "Vehicles sorted by predicted frequency and cut "
                            "into groups of equal exposure, 1 the lowest "
                            "predicted. A good model's actual frequency "
                            "rises from group to group and stays close to "
                            "the predicted one.", err);
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-lift";
    c.title = "Actual and predicted frequency by predicted-frequency group";
    c.desc = "Bars: actual claim frequency per equal-exposure group; line: "
             "the model's predicted frequency.";
    c.x_label = "group (equal exposure, lowest predicted first)";
    c.y_label = "claims per vehicle-year";
    c.categories = names;
    c.n_categories = k;
    struct svg_series se[2] = {
        {"actual", NULL, act, k, SVG_BARS},
        {"predicted", NULL, pre, k, SVG_LINE}
    };
    if (rc == ENG_OK)
        rc = svg_chart(o, &c, se, 2, err);
    if (rc == ENG_OK)
        rc = bucket_table(o, "Lift by equal-exposure group", "Group", names,
                          r->lift, k, err);
    return html_close_section(o, rc, err);
}

static int bands(struct buf *o, const struct vreport *v, struct eng_err *err)
{
    static const char *const names[5] = {"A", "B", "C", "D", "E"};
    double ae[5];
    for (int i = 0; i < 5; i++)
        ae[i] = v->main->bands[i].ae;
    int rc = html_section(o, "bands", "Actual / expected by band",
                            "Claims that happened divided by the claims the "
                            "model expected, per band; 1 (the dashed line) "
                            "means the band is priced right on these data.",
                            err);
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-band-ae";
    c.title = "Actual / expected claims by band";
    c.desc = "Bar chart of actual over expected claims in each band A to E.";
    c.x_label = "band (A best, E worst)";
    c.y_label = "actual / expected";
    c.categories = names;
    c.n_categories = 5;
    c.ref_y = 1;
    struct svg_series se = {"A/E", NULL, ae, 5, SVG_BARS};
    if (rc == ENG_OK)
        rc = svg_chart(o, &c, &se, 1, err);
    if (rc == ENG_OK)
        rc = bucket_table(o, "Actual / expected by band", "Band", names,
                          v->main->bands, 5, err);
    return html_close_section(o, rc, err);
}

static int calibration(struct buf *o, const struct vreport *v,
                       struct eng_err *err)
{
    const struct eval_report *r = v->calib;
    size_t k = r->n_buckets;
    double x[EVAL_MAX_BUCKETS], y[EVAL_MAX_BUCKETS];
    char lab[EVAL_MAX_BUCKETS][24];
    const char *names[EVAL_MAX_BUCKETS];
    for (size_t i = 0; i < k; i++) {
        x[i] = r->lift[i].predicted_freq;
        y[i] = r->lift[i].actual_freq;
        snprintf(lab[i], sizeof(lab[i]), "%zu", i + 1);
        names[i] = lab[i];
    }
    int rc = html_section(o, "calibration", "Calibration",
                            "Actual against predicted frequency in finer "
                            "groups of equal exposure: points on the "
                            "diagonal mean the predicted frequencies are "
                            "right in level, not only in order.", err);
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-calibration";
    c.title = "Calibration: actual against predicted frequency";
    c.desc = "One point per equal-exposure group: predicted frequency on "
             "the x axis, actual frequency on the y axis, and the diagonal.";
    c.x_label = "predicted claims per vehicle-year";
    c.y_label = "actual claims per vehicle-year";
    c.diagonal = 1;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < k; i++) {
        if (isfinite(x[i])) {
            lo = fmin(lo, x[i]);
            hi = fmax(hi, x[i]);
        }
        if (isfinite(y[i])) {
            lo = fmin(lo, y[i]);
            hi = fmax(hi, y[i]);
        }
    }
    if (isfinite(lo)) {
        c.x_min = c.y_min = fmax(0, lo - (hi - lo) * 0.05);
        c.x_max = c.y_max = hi + (hi - lo) * 0.05;
    }
    struct svg_series se = {"group", x, y, k, SVG_POINTS};
    if (rc == ENG_OK)
        rc = svg_chart(o, &c, &se, 1, err);
    if (rc == ENG_OK)
        rc = bucket_table(o, "Calibration groups", "Group", names, r->lift,
                          k, err);
    return html_close_section(o, rc, err);
}

static int oneway(struct buf *o, const struct vreport *v, struct eng_err *err)
{
    int rc = html_section(o, "oneway", "Actual / expected by input",
                            "For each input of the model, vehicles are cut "
                            "into bins of its value (equal counts; "
                            "\"missing\" where the input could not be "
                            "computed). Bars far from 1 show where the "
                            "model misprices a range of the input.", err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "<div class=\"grid2 wide\">", err);
    for (size_t j = 0; rc == ENG_OK && j < v->n_oneway; j++) {
        const struct vreport_oneway *w = &v->oneway[j];
        const char *names[EVALC_MAX_BINS];
        double ae[EVALC_MAX_BINS];
        for (size_t i = 0; i < w->n_bins; i++) {
            names[i] = w->bins[i].label;
            ae[i] = w->bins[i].ae;
        }
        char title[96], id[96];
        snprintf(title, sizeof(title), "A/E by %s", w->name);
        snprintf(id, sizeof(id), "chart-oneway-%s", w->name);
        struct svg_chart c;
        svg_chart_init(&c);
        c.id = id;
        c.title = title;
        c.desc = "Bar chart of actual over expected claims in each bin of "
                 "the input's value.";
        c.x_label = w->name;
        c.y_label = "actual / expected";
        c.categories = names;
        c.n_categories = w->n_bins;
        c.ref_y = 1;
        struct svg_series se = {"A/E", NULL, ae, w->n_bins, SVG_BARS};
        rc = buf_adds(o, "<div>", err);
        if (rc == ENG_OK)
            rc = svg_chart(o, &c, &se, 1, err);
        struct html_cells *a = cells_new(err);
        if (!a)
            return ENG_ENOMEM;
        for (size_t i = 0; i < w->n_bins; i++) {
            put(a, "%s", w->bins[i].label);
            put(a, "%zu", w->bins[i].n);
            put(a, "%.0f", w->bins[i].actual);
            put(a, "%.1f", w->bins[i].predicted);
            fig(a, 3, w->bins[i].ae);
        }
        static const char *const head[] = {"Value", "#Vehicles", "#Actual",
                                           "#Expected", "#A/E"};
        if (rc == ENG_OK)
            rc = html_table(o, title, head, 5, a->cells, w->n_bins,
                              "oneway", err);
        free(a);
        if (rc == ENG_OK)
            rc = buf_adds(o, "</div>", err);
    }
    if (rc == ENG_OK)
        rc = buf_adds(o, "</div>", err);
    return html_close_section(o, rc, err);
}

static int double_lift(struct buf *o, const struct vreport *v,
                       struct eng_err *err)
{
    size_t k = v->n_dl;
    char lab[EVAL_MAX_BUCKETS][24];
    const char *names[EVAL_MAX_BUCKETS];
    double act[EVAL_MAX_BUCKETS], pa[EVAL_MAX_BUCKETS], pb[EVAL_MAX_BUCKETS];
    for (size_t i = 0; i < k; i++) {
        snprintf(lab[i], sizeof(lab[i]), "%zu", i + 1);
        names[i] = lab[i];
        act[i] = v->dl[i].actual;
        pa[i] = v->dl[i].pred_a;
        pb[i] = v->dl[i].pred_b;
    }
    int rc = html_section(o, "double-lift", "Double lift",
                            "Vehicles sorted by the ratio of the two models' "
                            "predictions (each divided by its own average) "
                            "and cut into groups of equal exposure: on the "
                            "left the model predicts less than the compared "
                            "one, on the right more. Each line is relative "
                            "to its own average (1). The model whose line "
                            "follows the actual one is the better.", err);
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-double-lift";
    c.title = "Double lift: model against compared model";
    c.desc = "Lines of actual frequency and of each model's predicted "
             "frequency, relative to their averages, by group of the ratio "
             "of the two predictions.";
    c.x_label = "group (model / compared, lowest ratio first)";
    c.y_label = "relative to average";
    c.categories = names;
    c.n_categories = k;
    c.ref_y = 1;
    struct svg_series se[3] = {
        {"actual", NULL, act, k, SVG_LINE},
        {"model", NULL, pa, k, SVG_LINE},
        {"compared model", NULL, pb, k, SVG_LINE}
    };
    if (rc == ENG_OK)
        rc = svg_chart(o, &c, se, 3, err);
    struct html_cells *a = cells_new(err);
    if (!a)
        return ENG_ENOMEM;
    for (size_t i = 0; i < k; i++) {
        put(a, "%s", names[i]);
        put(a, "%zu", v->dl[i].n);
        fig(a, 3, v->dl[i].ratio_lo);
        fig(a, 3, v->dl[i].ratio_hi);
        fig(a, 3, act[i]);
        fig(a, 3, pa[i]);
        fig(a, 3, pb[i]);
    }
    static const char *const head[] = {"Group", "#Vehicles", "#Ratio from",
                                       "#Ratio to", "#Actual", "#Model",
                                       "#Compared"};
    if (rc == ENG_OK)
        rc = html_table(o, "Double lift by group", head, 7, a->cells, k,
                          "double-lift", err);
    free(a);
    return html_close_section(o, rc, err);
}

int vreport_html(const struct vreport *v, struct buf *o, struct eng_err *err)
{
    char title[128];
    snprintf(title, sizeof(title), "Validation of model %s", v->model_id);
    int rc = html_begin(o, title, err);
    if (rc == ENG_OK)
        rc = summary(o, v, err);
    if (rc == ENG_OK)
        rc = lorenz(o, v, err);
    if (rc == ENG_OK)
        rc = lift(o, v, err);
    if (rc == ENG_OK)
        rc = bands(o, v, err);
    if (rc == ENG_OK && v->calib)
        rc = calibration(o, v, err);
    if (rc == ENG_OK && v->n_oneway)
        rc = oneway(o, v, err);
    if (rc == ENG_OK && v->dl)
        rc = double_lift(o, v, err);
    if (rc == ENG_OK)
        rc = html_end(o, err);
    return rc;
}

int vreport_write(const char *path, const struct vreport *v,
                  struct eng_err *err)
{
    struct buf b;
    buf_init(&b, 64u << 20);
    int rc = vreport_html(v, &b, err);
    if (rc == ENG_OK)
        rc = html_save(path, &b, err);
    buf_release(&b);
    return rc;
}

/* ===== JSON =========================================================== */

static cJSON *num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *points(const struct evalc_point *p, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *pt = cJSON_CreateArray();
        cJSON_AddItemToArray(pt, num(p[i].x));
        cJSON_AddItemToArray(pt, num(p[i].y));
        cJSON_AddItemToArray(a, pt);
    }
    return a;
}

static cJSON *ci(const struct evalc_ci *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "lo", num(c->lo));
    cJSON_AddItemToObject(o, "hi", num(c->hi));
    cJSON_AddItemToObject(o, "resamples", num((double)c->reps));
    return o;
}

void *vreport_json(const struct vreport *v, struct eng_err *err)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        eng_err_set(err, ENG_ENOMEM, "out of memory for the JSON");
        return NULL;
    }
    cJSON_AddItemToObject(o, "lorenz", points(v->lorenz, v->n_lorenz));
    if (v->lorenz_oracle)
        cJSON_AddItemToObject(o, "lorenz_oracle",
                              points(v->lorenz_oracle, v->n_lorenz_oracle));
    if (v->calib) {
        cJSON *c = cJSON_AddArrayToObject(o, "calibration");
        for (size_t i = 0; c && i < v->calib->n_buckets; i++) {
            const struct eval_bucket *b = &v->calib->lift[i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToObject(e, "bucket", num((double)i + 1));
            cJSON_AddItemToObject(e, "n", num((double)b->n));
            cJSON_AddItemToObject(e, "exposure", num(b->exposure));
            cJSON_AddItemToObject(e, "predicted_freq",
                                  num(b->predicted_freq));
            cJSON_AddItemToObject(e, "actual_freq", num(b->actual_freq));
            cJSON_AddItemToArray(c, e);
        }
    }
    cJSON *ow = cJSON_AddArrayToObject(o, "oneway");
    for (size_t j = 0; ow && j < v->n_oneway; j++) {
        const struct vreport_oneway *w = &v->oneway[j];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "input", w->name);
        cJSON *bins = cJSON_AddArrayToObject(e, "bins");
        for (size_t i = 0; bins && i < w->n_bins; i++) {
            const struct evalc_bin *b = &w->bins[i];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "bin", b->label);
            cJSON_AddItemToObject(x, "lo", num(b->lo));
            cJSON_AddItemToObject(x, "hi", num(b->hi));
            cJSON_AddItemToObject(x, "n", num((double)b->n));
            cJSON_AddItemToObject(x, "exposure", num(b->exposure));
            cJSON_AddItemToObject(x, "actual", num(b->actual));
            cJSON_AddItemToObject(x, "predicted", num(b->predicted));
            cJSON_AddItemToObject(x, "ae", num(b->ae));
            cJSON_AddItemToArray(bins, x);
        }
        cJSON_AddItemToArray(ow, e);
    }
    if (v->other) {
        cJSON *c = cJSON_AddObjectToObject(o, "compare");
        cJSON_AddStringToObject(c, "model_id", v->compare_id);
        cJSON_AddItemToObject(c, "gini", num(v->other->gini));
        cJSON_AddItemToObject(c, "gini_difference",
                              num(v->main->gini - v->other->gini));
        cJSON_AddItemToObject(c, "lorenz",
                              points(v->lorenz_other, v->n_lorenz_other));
        cJSON *d = cJSON_AddArrayToObject(c, "double_lift");
        for (size_t i = 0; d && i < v->n_dl; i++) {
            const struct evalc_dl_bucket *b = &v->dl[i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToObject(e, "bucket", num((double)i + 1));
            cJSON_AddItemToObject(e, "n", num((double)b->n));
            cJSON_AddItemToObject(e, "exposure", num(b->exposure));
            cJSON_AddItemToObject(e, "ratio_lo", num(b->ratio_lo));
            cJSON_AddItemToObject(e, "ratio_hi", num(b->ratio_hi));
            cJSON_AddItemToObject(e, "actual", num(b->actual));
            cJSON_AddItemToObject(e, "model", num(b->pred_a));
            cJSON_AddItemToObject(e, "compared", num(b->pred_b));
            cJSON_AddItemToArray(d, e);
        }
    }
    if (v->boot_reps) {
        cJSON *b = cJSON_AddObjectToObject(o, "bootstrap");
        cJSON_AddItemToObject(b, "resamples", num((double)v->boot_reps));
        cJSON_AddItemToObject(b, "seed", num((double)v->boot_seed));
        cJSON_AddItemToObject(b, "gini", ci(&v->ci));
        if (v->other) {
            cJSON_AddItemToObject(b, "gini_compared", ci(&v->ci_other));
            cJSON_AddItemToObject(b, "gini_difference", ci(&v->ci_diff));
        }
    }
    return o;
}
