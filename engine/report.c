/* report — the run report as one self-contained HTML page (report.h). */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "svg.h"

#define put html_put

static void pct(struct html_cells *a, size_t n, size_t of)
{
    if (of)
        put(a, "%.1f%%", 100.0 * (double)n / (double)of);
    else
        put(a, "-");
}

/* ===== Sections ======================================================= */

static const char *exit_meaning(int code)
{
    switch (code) {
    case 0: return "done";
    case 1: return "the run failed";
    case 2: return "usage error";
    case 3: return "done, but more error rows than --max-error-rate allows";
    default: return "";
    }
}

static int dl_item(struct buf *o, const char *k, const char *v,
                   struct eng_err *err)
{
    int rc = buf_adds(o, "<dt>", err);
    if (rc == ENG_OK)
        rc = svg_esc(o, k, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</dt><dd>", err);
    if (rc == ENG_OK)
        rc = svg_esc(o, v, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</dd>", err);
    return rc;
}

static int identity(struct buf *o, const struct runsum *s,
                    struct eng_err *err)
{
    const struct runsum_acc *r = &s->rows;
    char v[64];
    int rc = buf_adds(o, "<div class=\"kpis\">", err);
    snprintf(v, sizeof(v), "%zu", r->rows);
    if (rc == ENG_OK)
        rc = html_kpi(o, "vehicles (rows)", v, 0, err);
    snprintf(v, sizeof(v), "%zu", r->ok);
    if (rc == ENG_OK)
        rc = html_kpi(o, s->has_scores ? "scored (ok)"
                      : "with a history (ok)", v, 0, err);
    snprintf(v, sizeof(v), "%zu", r->no_history);
    if (rc == ENG_OK)
        rc = html_kpi(o, "no service history", v, 0, err);
    snprintf(v, sizeof(v), "%zu", r->errors);
    if (rc == ENG_OK)
        rc = html_kpi(o, "errors (no score)", v, r->errors > 0, err);
    snprintf(v, sizeof(v), "%d", s->exit_code);
    if (rc == ENG_OK)
        rc = html_kpi(o, s->exit_code == 0 ? "exit code: done"
                      : "exit code: see The run", v, s->exit_code != 0, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</div>\n", err);
    /* the run in one sentence */
    char line[320];
    int n = snprintf(line, sizeof(line), "%zu of %zu vehicles %s", r->ok,
                     r->rows, s->has_scores ? "were scored" : "have a "
                     "service history");
    if (r->no_history && n > 0 && (size_t)n < sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, "; %zu had no "
                      "service history", r->no_history);
    if (n > 0 && (size_t)n < sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, r->errors
                      ? "; %zu could not be used (see Rows by status)"
                      : "; none failed", r->errors);
    if (n > 0 && (size_t)n < sizeof(line))
        snprintf(line + n, sizeof(line) - (size_t)n, ". %s",
                 s->exit_code == 0 ? "The run completed."
                 : s->exit_code == 3 ? "The run completed, but more rows "
                   "failed than --max-error-rate allows."
                 : "The run did not complete.");
    if (rc == ENG_OK)
        rc = html_para(o, "summary", line, err);
    if (rc == ENG_OK)
        rc = html_section(o, "identity", "The run", NULL, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "<dl class=\"id\">", err);
    snprintf(v, sizeof(v), "svcscore %s", s->command ? s->command : "");
    if (rc == ENG_OK)
        rc = dl_item(o, "Command", v, err);
    if (rc == ENG_OK)
        rc = dl_item(o, "svcscore version", s->version ? s->version : "-",
                     err);
    if (rc == ENG_OK && s->model_id)
        rc = dl_item(o, "Model", s->model_id, err);
    if (rc == ENG_OK && s->as_of[0])
        rc = dl_item(o, "As of (scoring date)", s->as_of, err);
    if (rc == ENG_OK)
        rc = dl_item(o, "Started (UTC)", s->started, err);
    snprintf(v, sizeof(v), "%.1f s", s->duration_s);
    if (rc == ENG_OK)
        rc = dl_item(o, "Duration", v, err);
    snprintf(v, sizeof(v), "%d (%s)", s->exit_code, exit_meaning(s->exit_code));
    if (rc == ENG_OK)
        rc = dl_item(o, "Exit code", v, err);
    if (rc == ENG_OK && s->out_path)
        rc = dl_item(o, "Output", s->out_path, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</dl>\n", err);
    struct html_cells *a = calloc(1, sizeof(*a));
    if (!a)
        return rc == ENG_OK ? eng_err_set(err, ENG_ENOMEM, "out of memory")
                            : rc;
    for (size_t i = 0; i < s->n_inputs; i++) {
        const struct runsum_input *p = &s->inputs[i];
        put(a, "%s", p->role);
        put(a, "%s", p->path ? p->path : "-");
        if (p->size >= 0)
            put(a, "%lld", p->size);
        else
            put(a, "unreadable");
        put(a, "%s", p->fingerprint);
        put(a, "%s", strcmp(p->method, "content") == 0
                         ? "FNV-1a of the content"
                         : "FNV-1a of size and time modified");
    }
    static const char *const head[] = {"Input", "File", "#Bytes",
                                       "Fingerprint", "Fingerprint of"};
    if (rc == ENG_OK)
        rc = html_table(o, "Inputs: the same fingerprint means the same file",
                          head, 5, a->cells, s->n_inputs, "inputs", err);
    free(a);
    return html_close_section(o, rc, err);
}

/*
 * A chart beside its table: pair_begin() opens the pair and draws the
 * chart; pair_end() writes the table of a's cells, frees a and closes the
 * pair and the section.  Both do nothing but pass rc on when it is not
 * ENG_OK (pair_end() still frees a).
 */
static int pair_begin(struct buf *o, int rc, const struct svg_chart *c,
                      const struct svg_series *se, size_t n,
                      struct eng_err *err)
{
    if (rc == ENG_OK)
        rc = buf_adds(o, "<div class=\"pair\">", err);
    if (rc == ENG_OK)
        rc = svg_chart(o, c, se, n, err);
    return rc;
}

static int pair_end(struct buf *o, int rc, struct html_cells *a,
                    const char *caption, const char *const *head,
                    size_t ncol, size_t nrow, const char *cls,
                    struct eng_err *err)
{
    if (rc == ENG_OK)
        rc = html_table(o, caption, head, ncol, a->cells, nrow, cls, err);
    free(a);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</div>", err);
    return html_close_section(o, rc, err);
}

static int statuses(struct buf *o, const struct runsum *s,
                    struct eng_err *err)
{
    const struct runsum_acc *r = &s->rows;
    const char *names[RUNSUM_MAX_KINDS + 3];
    double y[RUNSUM_MAX_KINDS + 3];
    size_t n = 0;
    names[n] = "ok";
    y[n++] = (double)r->ok;
    names[n] = "no_history";
    y[n++] = (double)r->no_history;
    for (size_t i = 0; i < r->n_kinds; i++) {
        names[n] = r->kinds[i].name;
        y[n++] = (double)r->kinds[i].n;
    }
    if (r->other_errors) {
        names[n] = "other errors";
        y[n++] = (double)r->other_errors;
    }
    int rc = html_section(o, "status", "Rows by status",
                            "Every vehicle of the input gets one row. "
                            "\"ok\" rows are scored; \"no_history\" means "
                            "the vehicle has no service record; every "
                            "\"error:\" status names why a vehicle could "
                            "not be used.", err);
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-status";
    c.title = "Rows by status";
    c.desc = "Bar chart of the number of rows with each status.";
    c.x_label = "status";
    c.y_label = "rows";
    c.categories = names;
    c.n_categories = n;
    struct svg_series se = {"rows", NULL, y, n, SVG_BARS};
    rc = pair_begin(o, rc, &c, &se, 1, err);
    struct html_cells *a = calloc(1, sizeof(*a));
    if (!a)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        put(a, "%s", names[i]);
        put(a, "%.0f", y[i]);
        pct(a, (size_t)y[i], r->rows);
    }
    static const char *const head[] = {"Status", "#Rows", "#Share"};
    return pair_end(o, rc, a, "Rows by status", head, 3, n,
                    "status", err);
}

/* A bin width of 1, 2, 5, 10, 20, 25 or 50 giving at most 24 bins. */
static int bin_width(int lo, int hi)
{
    static const int w[] = {1, 2, 5, 10, 20, 25, 50, 100};
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        if ((hi / w[i]) - (lo / w[i]) + 1 <= 24)
            return w[i];
    return 100;
}

static int histogram(struct buf *o, const struct runsum *s,
                     struct eng_err *err)
{
    const struct runsum_acc *r = &s->rows;
    int lo = -1, hi = -1;
    size_t total = 0;
    for (int i = 0; i <= RUNSUM_MAX_SCORE; i++)
        if (r->scores[i]) {
            if (lo < 0)
                lo = i;
            hi = i;
            total += r->scores[i];
        }
    int rc = html_section(o, "scores", "Score distribution",
                            "Scores run from 1 to 999; a higher score means "
                            "a better maintained vehicle and a lower "
                            "expected claim frequency. Each bar counts the "
                            "scored vehicles whose score falls in its range.",
                            err);
    if (rc < 0 || total == 0)
        return rc == ENG_OK ? buf_adds(o, "<p class=\"note\">No vehicle was "
                                       "scored.</p></section>\n", err) : rc;
    int w = bin_width(lo, hi);
    int b0 = lo / w, nb = hi / w - b0 + 1;
    char labels[40][16];
    const char *names[40];
    double y[40];
    for (int b = 0; b < nb; b++) {
        int from = (b0 + b) * w, to = from + w - 1;
        if (w == 1)
            snprintf(labels[b], sizeof(labels[b]), "%d", from);
        else
            snprintf(labels[b], sizeof(labels[b]), "%d-%d", from, to);
        names[b] = labels[b];
        y[b] = 0;
        for (int i = from; i <= to && i <= RUNSUM_MAX_SCORE; i++)
            y[b] += (double)r->scores[i];
    }
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-scores";
    c.title = "Scored vehicles by score";
    c.desc = "Histogram of the scores of the vehicles scored in this run.";
    c.x_label = "score";
    c.y_label = "vehicles";
    c.categories = names;
    c.n_categories = (size_t)nb;
    struct svg_series se = {"vehicles", NULL, y, (size_t)nb, SVG_BARS};
    rc = pair_begin(o, rc, &c, &se, 1, err);
    struct html_cells *a = calloc(1, sizeof(*a));
    if (!a)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (int b = 0; b < nb; b++) {
        put(a, "%s", names[b]);
        put(a, "%.0f", y[b]);
        pct(a, (size_t)y[b], total);
    }
    static const char *const head[] = {"Score", "#Vehicles", "#Share"};
    return pair_end(o, rc, a, "Scored vehicles by score range", head, 3,
                    (size_t)nb, "scores", err);
}

static int bands(struct buf *o, const struct runsum *s, struct eng_err *err)
{
    const struct runsum_acc *r = &s->rows;
    static const char *const names[5] = {"A", "B", "C", "D", "E"};
    double got[5], want[5];
    size_t total = 0;
    int has_expected = 1;
    for (int i = 0; i < 5; i++) {
        total += r->bands[i];
        want[i] = s->band_expected[i];
        has_expected &= isfinite(want[i]);
    }
    for (int i = 0; i < 5; i++)
        got[i] = total ? (double)r->bands[i] / (double)total : NAN;
    int rc = html_section(o, "bands", "Bands",
                            "Band A holds the best maintained vehicles, E "
                            "the worst. Each band's share of the scored "
                            "vehicles is shown beside the share the model "
                            "expects from its training data; a large gap "
                            "means this fleet differs from the one the "
                            "model was fitted on.", err);
    if (rc == ENG_OK && !has_expected)
        rc = buf_adds(o, "<p class=\"note\">The model file does not record "
                      "the share of each band in its training data, so no "
                      "expected share is drawn. (svcscore train sets the "
                      "band limits at the quintiles of the training "
                      "fleet's scores: a model it fitted expects about "
                      "20% of vehicles in each band.)</p>", err);
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-bands";
    c.title = "Share of scored vehicles by band";
    c.desc = "Bars: the share of scored vehicles in each band A to E"
             " in this run, and the model's expected share when known.";
    c.x_label = "band (A best, E worst)";
    c.y_label = "share of scored vehicles";
    c.categories = names;
    c.n_categories = 5;
    c.y_percent = 1;
    c.y_min = 0;
    struct svg_series se[2] = {
        {"this run", NULL, got, 5, SVG_BARS},
        {"model's expected share", NULL, want, 5, SVG_BARS}
    };
    rc = pair_begin(o, rc, &c, se, has_expected ? 2 : 1, err);
    struct html_cells *a = calloc(1, sizeof(*a));
    if (!a)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (int i = 0; i < 5; i++) {
        put(a, "%s", names[i]);
        put(a, "%zu", r->bands[i]);
        pct(a, r->bands[i], total);
        if (has_expected)
            put(a, "%.1f%%", 100 * want[i]);
        else
            put(a, "not recorded");
    }
    static const char *const head[] = {"Band", "#Vehicles", "#Share",
                                       "#Expected share"};
    return pair_end(o, rc, a, "Scored vehicles by band", head, 4, 5,
                    "bands", err);
}

static int reasons(struct buf *o, const struct runsum *s, struct eng_err *err)
{
    const struct runsum_acc *r = &s->rows;
    size_t n = r->n_reasons < 10 ? r->n_reasons : 10;
    int rc = html_section(o, "reasons", "Most frequent reasons",
                            "Each scored vehicle gets up to four reasons: "
                            "the inputs that lowered its score most. The "
                            "share is of all scored vehicles.", err);
    if (rc < 0 || n == 0)
        return rc == ENG_OK ? buf_adds(o, "<p class=\"note\">No reason was "
                                       "given.</p></section>\n", err) : rc;
    const char *names[10];
    double y[10];
    for (size_t i = 0; i < n; i++) {
        names[i] = r->reasons[i].name;
        y[i] = (double)r->reasons[i].n;
    }
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-reasons";
    c.title = "Vehicles given each reason (top 10)";
    c.desc = "Bar chart of how many scored vehicles were given each reason "
             "code; the table below gives each code's text.";
    c.x_label = "reason code";
    c.y_label = "vehicles";
    c.categories = names;
    c.n_categories = n;
    struct svg_series se = {"vehicles", NULL, y, n, SVG_BARS};
    rc = pair_begin(o, rc, &c, &se, 1, err);
    struct html_cells *a = calloc(1, sizeof(*a));
    if (!a)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        put(a, "%s", names[i]);
        put(a, "%zu", r->reasons[i].n);
        pct(a, r->reasons[i].n, r->ok);
        put(a, "%s", r->reasons[i].example);
    }
    static const char *const head[] = {"Code", "#Vehicles",
                                       "#Share of scored", "Example"};
    return pair_end(o, rc, a, "Most frequent reasons", head, 4, n,
                    "reasons", err);
}

/* Requests per second in each window of the run, as a line. */
static int rate_chart(struct buf *o, const struct runsum_rate *r,
                      struct eng_err *err)
{
    double x[RUNSUM_MAX_RATE];
    for (size_t i = 0; i < r->n; i++)
        x[i] = (double)(i + 1) * r->step;
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-rate";
    c.title = "Request rate over the run";
    c.desc = "Line chart of the requests sent per second, in windows of "
             "equal length from the start of the fetch.";
    c.x_label = "seconds since the fetch began";
    c.y_label = "requests per second";
    c.x_min = 0;
    c.y_min = 0;
    struct svg_series se = {"requests per second", x, r->rate, r->n,
                            SVG_LINE};
    int rc = svg_chart(o, &c, &se, 1, err);
    if (rc == ENG_OK)
        rc = buf_printf(o, err, "<p class=\"note\">Each point is the mean "
                        "rate over %g s; a dip is a pause (a rate limit, "
                        "retries waiting) or the end of the list.</p>",
                        r->step);
    return rc;
}

static int traffic(struct buf *o, const struct runsum *s, struct eng_err *err)
{
    const struct sc_stats *p = &s->api;
    int rc = html_section(o, "api", "API traffic",
                            "Requests sent to the Smartcar API while the "
                            "histories were fetched, retries by their cause "
                            "and token refreshes.", err);
    static const char *const kinds[] = {"histories", "vehicle lists",
                                        "VIN look-ups"};
    double ky[3] = {(double)p->history_requests, (double)p->list_requests,
                    (double)p->vin_requests};
    static const char *const causes[] = {
        "rate (vehicle)", "rate (app)", "server", "vehicle state",
        "retry later", "network", "timeout", "bad body"
    };
    static const char *const causes_long[] = {
        "rate limit of the vehicle (429)", "rate limit of the application "
        "(429)", "server error (5xx)", "vehicle asleep or busy (409)",
        "told to retry later", "network error", "timeout",
        "answer not JSON"
    };
    double cy[8] = {(double)p->retry_rate_vehicle, (double)p->retry_rate_app,
                    (double)p->retry_server, (double)p->retry_vehicle_state,
                    (double)p->retry_later, (double)p->retry_network,
                    (double)p->retry_timeout, (double)p->retry_parse};
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-requests";
    c.title = "Requests by kind";
    c.desc = "Bar chart of the API requests sent, by kind.";
    c.x_label = "request";
    c.y_label = "requests";
    c.categories = kinds;
    c.n_categories = 3;
    struct svg_series se = {"requests", NULL, ky, 3, SVG_BARS};
    if (rc == ENG_OK)
        rc = buf_adds(o, "<div class=\"grid2\">", err);
    if (rc == ENG_OK)
        rc = svg_chart(o, &c, &se, 1, err);
    c.id = "chart-retries";
    c.title = "Retries by cause";
    c.desc = "Bar chart of the requests that were retried, by the cause.";
    c.x_label = "cause";
    c.y_label = "retries";
    c.categories = causes;
    c.n_categories = 8;
    struct svg_series sr = {"retries", NULL, cy, 8, SVG_BARS};
    if (rc == ENG_OK)
        rc = svg_chart(o, &c, &sr, 1, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</div>", err);
    struct html_cells *a = calloc(1, sizeof(*a));
    if (!a)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    put(a, "requests sent");
    put(a, "%lu", p->requests);
    for (int i = 0; i < 3; i++) {
        put(a, "\xe2\x80\x93 %s", kinds[i]);
        put(a, "%.0f", ky[i]);
    }
    put(a, "retries");
    put(a, "%lu", p->retries);
    for (int i = 0; i < 8; i++) {
        put(a, "\xe2\x80\x93 %s", causes_long[i]);
        put(a, "%.0f", cy[i]);
    }
    put(a, "token refreshes");
    put(a, "%lu", p->refreshes);
    put(a, "refresh failures");
    put(a, "%lu", p->refresh_failures);
    put(a, "seconds paused by rate limits");
    put(a, "%.1f", p->paused_seconds);
    put(a, "seconds fetching");
    put(a, "%.1f", s->fetch_s);
    put(a, "mean requests per second");
    if (s->fetch_s > 0)
        put(a, "%.1f", (double)p->requests / s->fetch_s);
    else
        put(a, "-");
    put(a, "rows fetched by this run");
    put(a, "%zu", s->fetched);
    put(a, "rows kept from an earlier run");
    put(a, "%zu", s->resumed);
    static const char *const head[] = {"API", "#Count"};
    if (rc == ENG_OK)
        rc = html_table(o, "API traffic", head, 2, a->cells, a->n / 2,
                          "api", err);
    free(a);
    if (rc == ENG_OK && s->rate)
        rc = rate_chart(o, s->rate, err);
    else if (rc == ENG_OK)
        rc = buf_adds(o, "<p class=\"note\">The run was too short to draw "
                      "the request rate over time; the table gives the "
                      "mean rate.</p>", err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</section>\n", err);
    return rc;
}

static int drift(struct buf *o, const struct runsum_drift *d,
                 struct eng_err *err)
{
    static const char *const names[RUNSUM_BANDS] = {"A", "B", "C", "D", "E",
                                                    "none"};
    int rc = html_section(o, "drift", "Changes since the previous run",
                            "How each vehicle's band moved since the "
                            "previous run of the same vehicles: rows are the "
                            "previous band, columns this run's band; the "
                            "diagonal holds the vehicles that kept their "
                            "band. \"none\" is a vehicle without a band "
                            "(not scored, or not in that run).", err);
    if (rc == ENG_OK && d->previous) {
        rc = buf_adds(o, "<p class=\"note\">Previous run: ", err);
        if (rc == ENG_OK)
            rc = svg_esc(o, d->previous, err);
        if (rc == ENG_OK)
            rc = buf_adds(o, "</p>", err);
    }
    double before[5] = {0}, after[5] = {0};
    size_t total = 0, kept = 0;
    for (int i = 0; i < RUNSUM_BANDS; i++)
        for (int j = 0; j < RUNSUM_BANDS; j++) {
            size_t n = d->matrix[i][j];
            total += n;
            kept += i == j ? n : 0;
            if (i < 5)
                before[i] += (double)n;
            if (j < 5)
                after[j] += (double)n;
        }
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-drift";
    c.title = "Vehicles per band: previous run and this run";
    c.desc = "Grouped bars of the vehicles in each band in the previous run "
             "and in this run.";
    c.x_label = "band";
    c.y_label = "vehicles";
    c.categories = names;
    c.n_categories = 5;
    struct svg_series se[2] = {
        {"previous run", NULL, before, 5, SVG_BARS},
        {"this run", NULL, after, 5, SVG_BARS}
    };
    if (rc == ENG_OK)
        rc = svg_chart(o, &c, se, 2, err);
    if (rc == ENG_OK)
        rc = buf_printf(o, err, "<div class=\"tw\"><table class=\"migration\">"
                        "<caption>Band migration: %zu vehicles, %zu kept "
                        "their band</caption><thead><tr><th>previous \\ "
                        "now</th>", total, kept);
    for (int j = 0; rc == ENG_OK && j < RUNSUM_BANDS; j++)
        rc = buf_printf(o, err, "<th class=\"n\">%s</th>", names[j]);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</tr></thead><tbody>", err);
    for (int i = 0; rc == ENG_OK && i < RUNSUM_BANDS; i++) {
        rc = buf_printf(o, err, "<tr><th>%s</th>", names[i]);
        double row = 0;
        for (int j = 0; j < RUNSUM_BANDS; j++)
            row += (double)d->matrix[i][j];
        for (int j = 0; rc == ENG_OK && j < RUNSUM_BANDS; j++) {
            double f = row > 0 ? (double)d->matrix[i][j] / row : 0;
            rc = buf_printf(o, err, "<td class=\"n\" style=\"background:"
                            "rgba(47,109,181,%.2f)\">%zu</td>", 0.6 * f,
                            d->matrix[i][j]);
        }
        if (rc == ENG_OK)
            rc = buf_adds(o, "</tr>", err);
    }
    if (rc == ENG_OK)
        rc = buf_adds(o, "</tbody></table></div>\n", err);
    struct html_cells *a = calloc(1, sizeof(*a));
    if (!a)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->n_moves && i < RUNSUM_MAX_MOVES; i++) {
        const struct runsum_move *m = &d->moves[i];
        put(a, "%s", m->vin);
        put(a, "%d", m->from_score);
        put(a, "%d", m->to_score);
        put(a, "%+d", m->to_score - m->from_score);
        put(a, "%c", m->from_band ? m->from_band : '-');
        put(a, "%c", m->to_band ? m->to_band : '-');
    }
    static const char *const head[] = {"VIN", "#Previous score", "#Score",
                                       "#Change", "Previous band", "Band"};
    if (rc == ENG_OK)
        rc = html_table(o, "The largest score moves", head, 6, a->cells,
                          a->n / 6, "moves", err);
    free(a);
    return html_close_section(o, rc, err);
}

int report_html(const struct runsum *s, struct buf *o, struct eng_err *err)
{
    char title[96];
    snprintf(title, sizeof(title), "svcscore %s run of %s", s->command,
             s->started);
    int rc = html_begin(o, title, err);
    if (rc == ENG_OK)
        rc = identity(o, s, err);
    if (rc == ENG_OK)
        rc = statuses(o, s, err);
    if (rc == ENG_OK && s->has_scores)
        rc = histogram(o, s, err);
    if (rc == ENG_OK && s->has_scores)
        rc = bands(o, s, err);
    if (rc == ENG_OK && s->has_scores)
        rc = reasons(o, s, err);
    if (rc == ENG_OK && s->has_api)
        rc = traffic(o, s, err);
    if (rc == ENG_OK && s->drift)
        rc = drift(o, s->drift, err);
    if (rc == ENG_OK)
        rc = html_end(o, err);
    return rc;
}

int report_write(const char *path, const struct runsum *s,
                 struct eng_err *err)
{
    struct buf b;
    buf_init(&b, REPORT_MAX_BYTES);
    int rc = report_html(s, &b, err);
    if (rc == ENG_OK)
        rc = html_save(path, &b, err);
    buf_release(&b);
    return rc;
}
