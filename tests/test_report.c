/*
 * Tests for report and vreport: the run report's sections and figures,
 * escaping of hostile input text, the drift section from a hand-built
 * struct, a page that refers to nothing outside itself; the validation
 * report's charts.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "runsum.h"
#include "vreport.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The text of the first <section id="id"> .. </section>, in out. */
static void section(const char *html, const char *id, char *out, size_t n)
{
    char open[64];
    snprintf(open, sizeof(open), "<section id=\"%s\">", id);
    const char *a = strstr(html, open);
    out[0] = '\0';
    if (!a)
        return;
    const char *b = strstr(a, "</section>");
    size_t len = b ? (size_t)(b - a) : strlen(a);
    if (len >= n)
        len = n - 1;
    memcpy(out, a, len);
    out[len] = '\0';
}

/* A summary of 6 rows counted the way cmd_score counts them. */
static void sample(struct runsum *s, struct runsum_input *hostile)
{
    runsum_init(s);
    s->command = "score";
    s->version = "0.1.0";
    s->model_id = "m-0123456789abcdef";
    snprintf(s->as_of, sizeof(s->as_of), "2026-06-30");
    runsum_time(0, s->started);
    s->duration_s = 2.5;
    s->exit_code = 3;
    s->out_path = "out/<b>scores</b>.csv";
    const char *r1[] = {"R03 longest gap 540 days", "R07 <script>x</script>"};
    const char *r2[] = {"R03 longest gap 100 days"};
    runsum_acc_row(&s->rows, "ok", 620, 'B', r1, 2);
    runsum_acc_row(&s->rows, "ok", 700, 'A', r2, 1);
    runsum_acc_row(&s->rows, "ok", 540, 'E', NULL, 0);
    runsum_acc_row(&s->rows, "no_history", -1, 0, NULL, 0);
    runsum_acc_row(&s->rows, "error:PARSE", -1, 0, NULL, 0);
    runsum_acc_row(&s->rows, "error:<img src=x>", -1, 0, NULL, 0);
    runsum_sort(&s->rows);
    s->has_scores = 1;
    *hostile = (struct runsum_input){"vehicles", "fleet<script>.csv", 10, 0,
                                     "00000000000000ff", "content"};
    s->inputs[0] = *hostile;
    s->n_inputs = 1;
}

static char *render(const struct runsum *s)
{
    struct buf b;
    struct eng_err err = {0};
    buf_init(&b, 64u << 20);
    CU_ASSERT_EQUAL(report_html(s, &b, &err), ENG_OK);
    return b.data;
}

static void test_report_shows_the_counts_and_sections(void)
{
    struct runsum s;
    struct runsum_input in;
    sample(&s, &in);
    char *h = render(&s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT(strncmp(h, "<!DOCTYPE html>", 15) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "m-0123456789abcdef"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "1970-01-01T00:00:00Z"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "<p class=\"summary\">3 of 6 vehicles "
                                  "were scored; 1 had no service history; 2 "
                                  "could not be used (see Rows by status). "
                                  "The run completed, but more rows failed "
                                  "than --max-error-rate allows.</p>"));
    static char sec[1 << 16];
    section(h, "status", sec, sizeof(sec));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td>ok</td><td class=\"n\">3</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td>no_history</td><td class=\"n\">"
                                  "1</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td>error:PARSE</td><td class=\"n\">"
                                  "1</td>"));
    section(h, "bands", sec, sizeof(sec));
    /* one bar per band, an empty band's of height 0 */
    CU_ASSERT_EQUAL(count(sec, "class=\"bar s0\""), 5);
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<title>this run: C = 0.00%</title>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "not recorded"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td>A</td><td class=\"n\">1</td>"));
    section(h, "reasons", sec, sizeof(sec));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td>R03</td><td class=\"n\">2</td>"));
    section(h, "scores", sec, sizeof(sec));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "id=\"chart-scores\""));
    /* no API, no drift: no such sections */
    CU_ASSERT_PTR_NULL(strstr(h, "<section id=\"api\">"));
    CU_ASSERT_PTR_NULL(strstr(h, "<section id=\"drift\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "@media print"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "name=\"viewport\""));
    free(h);
}

static void test_report_escapes_every_input_text(void)
{
    struct runsum s;
    struct runsum_input in;
    sample(&s, &in);
    struct runsum_drift d;
    memset(&d, 0, sizeof(d));
    d.previous = "run <i>of</i> yesterday";
    d.n_moves = 1;
    snprintf(d.moves[0].vin, sizeof(d.moves[0].vin), "<script>alert(1)");
    s.drift = &d;
    char *h = render(&s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NULL(strstr(h, "<script"));
    CU_ASSERT_PTR_NULL(strstr(h, "<img"));
    CU_ASSERT_PTR_NULL(strstr(h, "<b>scores"));
    CU_ASSERT_PTR_NULL(strstr(h, "<i>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "fleet&lt;script&gt;.csv"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "&lt;script&gt;alert(1)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "error:&lt;img src=x&gt;"));
    free(h);
}

static void test_report_refers_to_nothing_outside(void)
{
    struct runsum s;
    struct runsum_input in;
    sample(&s, &in);
    s.has_api = 1;
    s.api.requests = 12;
    s.api.history_requests = 10;
    s.api.retries = 2;
    s.api.retry_server = 2;
    s.api.refreshes = 1;
    s.fetch_s = 4;
    char *h = render(&s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NULL(strstr(h, "http:"));
    CU_ASSERT_PTR_NULL(strstr(h, "https:"));
    CU_ASSERT_PTR_NULL(strstr(h, "src=\""));
    CU_ASSERT_PTR_NULL(strstr(h, "href"));
    CU_ASSERT_PTR_NULL(strstr(h, "url("));
    CU_ASSERT_PTR_NULL(strstr(h, "@import"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "default-src 'none'"));
    static char sec[1 << 16];
    section(h, "api", sec, sizeof(sec));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td>requests sent</td><td "
                                  "class=\"n\">12</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td>token refreshes</td><td "
                                  "class=\"n\">1</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td>mean requests per second</td>"
                                  "<td class=\"n\">3.0</td>"));
    free(h);
}

static void test_report_draws_the_drift_it_is_given(void)
{
    struct runsum s;
    struct runsum_input in;
    sample(&s, &in);
    struct runsum_drift d;
    memset(&d, 0, sizeof(d));
    d.previous = "score run of 2026-06-29";
    d.matrix[0][0] = 40;      /* A stayed A */
    d.matrix[0][1] = 7;       /* A -> B */
    d.matrix[4][3] = 3;       /* E -> D */
    d.matrix[5][2] = 2;       /* new vehicles in C */
    d.n_moves = 2;
    d.moves[0] = (struct runsum_move){"WVWZZZ1JZXW000001", 690, 560, 'A',
                                      'E'};
    d.moves[1] = (struct runsum_move){"WVWZZZ1JZXW000002", 500, 580, 'E',
                                      'D'};
    s.drift = &d;
    char *h = render(&s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    static char sec[1 << 16];
    section(h, "drift", sec, sizeof(sec));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "52 vehicles, 40 kept their band"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, ">7</td>"));
    /* a row and a column per band and for none */
    static const char *const bands[] = {"A", "B", "C", "D", "E", "none"};
    for (int i = 0; i < 6; i++) {
        char row[32], col[40];
        snprintf(row, sizeof(row), "<tr><th>%s</th>", bands[i]);
        snprintf(col, sizeof(col), "<th class=\"n\">%s</th>", bands[i]);
        CU_ASSERT_EQUAL(count(sec, row), 1);
        CU_ASSERT_EQUAL(count(sec, col), 1);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td>WVWZZZ1JZXW000001</td><td "
                                  "class=\"n\">690</td><td class=\"n\">560"
                                  "</td><td class=\"n\">-130</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<td class=\"n\">+80</td>"));
    /* grouped bars: the previous run (47 in A, 3 in E) and this one */
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<title>previous run: A = 47"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sec, "<title>this run: C = 2"));
    free(h);
}

static void test_vreport_draws_every_chart(void)
{
    struct eval_row rows[40];
    double pred2[40], x[40];
    for (int i = 0; i < 40; i++) {
        rows[i] = (struct eval_row){
            .y = (double)(i % 7 == 0) + (i > 30), .exposure = 1,
            .pred = 0.05 + 0.01 * i, .truth = NAN,
            .band = (char)('A' + i / 8)};
        pred2[i] = 0.45 - 0.01 * i;
        x[i] = i % 5 == 0 ? NAN : (double)i;
    }
    struct eng_err err = {0};
    struct eval_report rep, calib, other;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 40, 4, &rep, &err), ENG_OK);
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 40, 8, &calib, &err), ENG_OK);
    other = rep;
    struct evalc_point lz[EVALC_MAX_POINTS];
    struct evalc_dl_bucket dl[4];
    static struct vreport_oneway ow;
    ow.name = "days_since_last_service";
    struct vreport v;
    memset(&v, 0, sizeof(v));
    v.model_id = "m-1";
    v.compare_id = "m-<2>";
    v.features = "f.csv";
    v.labels = "l.csv";
    v.main = &rep;
    v.calib = &calib;
    v.other = &other;
    double y[40], e[40], p[40];
    for (int i = 0; i < 40; i++) {
        y[i] = rows[i].y;
        e[i] = rows[i].exposure;
        p[i] = rows[i].pred;
    }
    CU_ASSERT_EQUAL(evalc_lorenz(y, e, p, 40, 21, lz, &v.n_lorenz, &err),
                    ENG_OK);
    v.lorenz = v.lorenz_other = lz;
    v.n_lorenz_other = v.n_lorenz;
    CU_ASSERT_EQUAL(evalc_double_lift(rows, pred2, 40, 4, dl, &err), ENG_OK);
    v.dl = dl;
    v.n_dl = 4;
    CU_ASSERT_EQUAL(evalc_oneway(x, rows, 40, 4, ow.bins, &ow.n_bins, &err),
                    ENG_OK);
    v.oneway = &ow;
    v.n_oneway = 1;
    struct buf b;
    buf_init(&b, 64u << 20);
    CU_ASSERT_EQUAL_FATAL(vreport_html(&v, &b, &err), ENG_OK);
    const char *ids[] = {"chart-lorenz", "chart-lift", "chart-band-ae",
                         "chart-calibration",
                         "chart-oneway-days_since_last_service",
                         "chart-double-lift"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char id[96];
        snprintf(id, sizeof(id), "id=\"%s\"", ids[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(b.data, id));
    }
    static char sec[1 << 17];
    section(b.data, "bands", sec, sizeof(sec));
    CU_ASSERT_EQUAL(count(sec, "class=\"bar s0\""), 5);
    section(b.data, "lift", sec, sizeof(sec));
    CU_ASSERT_EQUAL(count(sec, "class=\"bar s0\""), 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "m-&lt;2&gt;"));
    CU_ASSERT_PTR_NULL(strstr(b.data, "http:"));
    CU_ASSERT_PTR_NULL(strstr(b.data, "https:"));
    buf_release(&b);
}

static CU_TestInfo report_tests[] = {
    {"report shows the counts and sections",
     test_report_shows_the_counts_and_sections},
    {"report escapes every input text", test_report_escapes_every_input_text},
    {"report refers to nothing outside",
     test_report_refers_to_nothing_outside},
    {"report draws the drift it is given",
     test_report_draws_the_drift_it_is_given},
    {"vreport draws every chart", test_vreport_draws_every_chart},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_report_suites[] = {
    {"report", NULL, NULL, NULL, NULL, report_tests},
    CU_SUITE_INFO_NULL
};
