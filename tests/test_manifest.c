/*
 * Tests for runsum and manifest: counting rows on several accumulators and
 * merging them, fingerprints, reading a bundle's statuses back, and the
 * manifest's fields; and for eval_chart: Lorenz points, double lift,
 * one-way bins and a seeded bootstrap.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "eval_chart.h"
#include "manifest.h"
#include "runsum.h"
#include "test_util.h"

static void test_runsum_merge_equals_counting_in_one(void)
{
    static struct runsum_acc one, a, b;
    runsum_acc_init(&one);
    runsum_acc_init(&a);
    runsum_acc_init(&b);
    const char *why[] = {"R01 one", "R02 two"};
    for (int i = 0; i < 100; i++) {
        const char *st = i % 10 == 0 ? "no_history"
                         : i % 7 == 0 ? "error:PARSE"
                         : i % 11 == 0 ? "error:HTTP:500" : "ok";
        int score = 500 + i;
        char band = (char)('A' + i % 5);
        int nr = i % 3;
        runsum_acc_row(&one, st, score, band, why, nr);
        runsum_acc_row(i % 2 ? &a : &b, st, score, band, why, nr);
    }
    runsum_merge(&a, &b);
    runsum_sort(&a);
    runsum_sort(&one);
    CU_ASSERT_EQUAL(a.rows, 100);
    CU_ASSERT_EQUAL(a.rows, a.ok + a.no_history + a.errors);
    CU_ASSERT_EQUAL(a.ok, one.ok);
    CU_ASSERT_EQUAL(a.no_history, 10);
    CU_ASSERT_EQUAL(a.errors, one.errors);
    CU_ASSERT_EQUAL(a.n_kinds, 2);
    CU_ASSERT_STRING_EQUAL(a.kinds[0].name, "error:PARSE");
    CU_ASSERT_EQUAL(a.kinds[0].n, one.kinds[0].n);
    CU_ASSERT_EQUAL(a.kinds[0].n + a.kinds[1].n, a.errors);
    CU_ASSERT_EQUAL(memcmp(a.scores, one.scores, sizeof(a.scores)), 0);
    CU_ASSERT_EQUAL(memcmp(a.bands, one.bands, sizeof(a.bands)), 0);
    CU_ASSERT_EQUAL(a.n_reasons, 2);
    CU_ASSERT_STRING_EQUAL(a.reasons[0].name, "R01");
    CU_ASSERT_STRING_EQUAL(a.reasons[0].example, "R01 one");
    CU_ASSERT_EQUAL(a.reasons[0].n, one.reasons[0].n);
    CU_ASSERT(a.reasons[0].n > a.reasons[1].n);
}

static void test_runsum_keeps_counts_beyond_its_kinds(void)
{
    static struct runsum_acc a;
    runsum_acc_init(&a);
    char st[32];
    for (int i = 0; i < RUNSUM_MAX_KINDS + 5; i++) {
        snprintf(st, sizeof(st), "error:K%d", i);
        runsum_acc_row(&a, st, -1, 0, NULL, 0);
    }
    CU_ASSERT_EQUAL(a.errors, RUNSUM_MAX_KINDS + 5);
    CU_ASSERT_EQUAL(a.n_kinds, RUNSUM_MAX_KINDS);
    CU_ASSERT_EQUAL(a.other_errors, 5);
}

static void test_runsum_input_fingerprints_the_content(void)
{
    struct runsum_input a, b, c;
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/fp1.txt", "same"), 0);
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/fp2.txt", "same"), 0);
    runsum_input(&a, "vehicles", "tmp/fp1.txt");
    runsum_input(&b, "vehicles", "tmp/fp2.txt");
    CU_ASSERT_STRING_EQUAL(a.method, "content");
    CU_ASSERT_EQUAL(a.size, 4);
    CU_ASSERT_STRING_EQUAL(a.fingerprint, b.fingerprint);
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/fp2.txt", "Same"), 0);
    runsum_input(&b, "vehicles", "tmp/fp2.txt");
    CU_ASSERT_STRING_NOT_EQUAL(a.fingerprint, b.fingerprint);
    runsum_input(&c, "vehicles", "tmp/no-such-file");
    CU_ASSERT_EQUAL(c.size, -1);
    CU_ASSERT_STRING_EQUAL(c.fingerprint, "-");
    runsum_input(&c, "histories", "tmp");   /* a folder: size and mtime */
    CU_ASSERT_STRING_EQUAL(c.method, "size+mtime");
    CU_ASSERT_EQUAL(strlen(c.fingerprint), 16);
}

static void test_runsum_scan_bundle_counts_its_statuses(void)
{
    /* the third line's history holds a "status" of its own */
    const char *text =
        "{\"index\":0,\"vin\":\"V1\",\"vehicle_id\":\"a\",\"unit_system\":"
        "\"metric\",\"fetched_at\":\"x\",\"status\":\"ok\",\"history\":[]}\n"
        "{\"index\":1,\"vin\":\"V\\\",\\\"status\\\":\\\"ok\",\"vehicle_id\":"
        "\"b\",\"unit_system\":\"metric\",\"fetched_at\":\"\",\"status\":"
        "\"error:HTTP:404\",\"history\":null}\n"
        "{\"index\":2,\"vin\":\"V3\",\"vehicle_id\":\"c\",\"unit_system\":"
        "\"metric\",\"fetched_at\":\"x\",\"status\":\"no_history\","
        "\"history\":[{\"status\":\"error:X\"}]}\n";
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/scan.jsonl", text), 0);
    static struct runsum_acc a;
    runsum_acc_init(&a);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(runsum_scan_bundle(&a, "tmp/scan.jsonl", &err), ENG_OK);
    CU_ASSERT_EQUAL(a.rows, 3);
    CU_ASSERT_EQUAL(a.ok, 1);
    CU_ASSERT_EQUAL(a.no_history, 1);
    CU_ASSERT_EQUAL(a.errors, 1);
    CU_ASSERT_STRING_EQUAL(a.kinds[0].name, "error:HTTP:404");
    CU_ASSERT_EQUAL(runsum_scan_bundle(&a, "tmp/no-such.jsonl", &err),
                    ENG_EIO);
}

static void test_manifest_holds_the_identity_and_counts(void)
{
    static struct runsum s;
    runsum_init(&s);
    s.command = "score";
    s.version = "0.1.0";
    s.model_id = "m-1";
    snprintf(s.as_of, sizeof(s.as_of), "2026-06-30");
    s.exit_code = 3;
    s.duration_s = 1.5;
    runsum_acc_row(&s.rows, "ok", 600, 'C', NULL, 0);
    runsum_acc_row(&s.rows, "error:PARSE", -1, 0, NULL, 0);
    runsum_acc_row(&s.rows, "error:PARSE", -1, 0, NULL, 0);
    s.has_scores = 1;
    s.has_api = 1;
    s.api.requests = 9;
    s.api.retries = 2;
    s.api.retry_timeout = 2;
    s.api.refreshes = 1;
    runsum_input(&s.inputs[s.n_inputs++], "model", "tmp/no-such-model");
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(manifest_write("tmp/m.manifest.json", &s, &err),
                          ENG_OK);
    char *text = tu_slurp("tmp/m.manifest.json", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    cJSON *o = cJSON_Parse(text);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "model_id")->valuestring,
                           "m-1");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "rows")->valuedouble, 3);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "ok")->valuedouble, 1);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "errors")->valuedouble, 2);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "exit_code")->valuedouble, 3);
    cJSON *k = cJSON_GetObjectItem(o, "errors_by_status");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(k, "error:PARSE")->valuedouble, 2);
    cJSON *b = cJSON_GetObjectItem(o, "bands");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(b, "C")->valuedouble, 1);
    cJSON *api = cJSON_GetObjectItem(o, "api");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(api, "requests")->valuedouble, 9);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(cJSON_GetObjectItem(api,
                    "retries_by_cause"), "timeout")->valuedouble, 2);
    cJSON *in = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "inputs"), 0);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(in, "bytes")));
    cJSON_Delete(o);
}

/* Rows whose loss rises with pred: a Gini above 0 and a curve below y=x. */
static void rows_of(struct eval_row *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        r[i] = (struct eval_row){
            .y = (double)(i % 4 == 0) * (double)(i / 10), .exposure = 1.0,
            .pred = 0.1 + (double)i / 100, .truth = NAN};
}

static void test_lorenz_points_run_from_0_to_1_below_the_diagonal(void)
{
    struct eval_row r[100];
    rows_of(r, 100);
    double y[100], e[100], p[100];
    for (int i = 0; i < 100; i++) {
        y[i] = r[i].y;
        e[i] = r[i].exposure;
        p[i] = r[i].pred;
    }
    struct evalc_point pt[EVALC_MAX_POINTS];
    size_t n;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(evalc_lorenz(y, e, p, 100, 11, pt, &n, &err),
                          ENG_OK);
    CU_ASSERT_EQUAL(n, 11);
    CU_ASSERT_DOUBLE_EQUAL(pt[0].x, 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(pt[n - 1].y, 1, 1e-12);
    for (size_t i = 1; i < n; i++) {
        CU_ASSERT(pt[i].x >= pt[i - 1].x);
        CU_ASSERT(pt[i].y >= pt[i - 1].y);
        CU_ASSERT(pt[i].y <= pt[i].x + 1e-12);
    }
    /* the points are the curve's: at x = 0.5, the first 50 rows' loss */
    double first = 0, all = 0;
    for (int i = 0; i < 100; i++) {
        all += y[i];
        first += i < 50 ? y[i] : 0;
    }
    CU_ASSERT_DOUBLE_EQUAL(pt[5].x, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(pt[5].y, first / all, 1e-12);
}

static void test_double_lift_of_a_model_against_itself_is_flat(void)
{
    struct eval_row r[100];
    double b[100];
    rows_of(r, 100);
    for (int i = 0; i < 100; i++)
        b[i] = 3 * r[i].pred;    /* the same order, another level */
    struct evalc_dl_bucket dl[5];
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(evalc_double_lift(r, b, 100, 5, dl, &err), ENG_OK);
    double ex = 0, act = 0;
    for (int j = 0; j < 5; j++) {
        CU_ASSERT_DOUBLE_EQUAL(dl[j].ratio_lo, 1, 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(dl[j].pred_a, dl[j].pred_b, 1e-9);
        ex += dl[j].exposure;
        act += dl[j].actual * dl[j].exposure;
    }
    CU_ASSERT_DOUBLE_EQUAL(ex, 100, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(act / ex, 1, 1e-9);  /* relative to average */
    b[0] = -1;
    CU_ASSERT_EQUAL(evalc_double_lift(r, b, 100, 5, dl, &err), ENG_EDATA);
}

static void test_oneway_bins_partition_rows_and_keep_missing(void)
{
    struct eval_row r[50];
    double x[50];
    for (int i = 0; i < 50; i++) {
        r[i] = (struct eval_row){.y = (double)(i % 3 == 0), .exposure = 1,
                                 .pred = 0.4, .truth = NAN};
        x[i] = i < 5 ? NAN : (double)(i % 4);   /* 4 distinct values */
    }
    struct evalc_bin b[EVALC_MAX_BINS];
    size_t nb;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(evalc_oneway(x, r, 50, 8, b, &nb, &err), ENG_OK);
    /* 8 quantile bins merge into the 4 values, and a missing bin */
    CU_ASSERT_EQUAL(nb, 5);
    CU_ASSERT_STRING_EQUAL(b[0].label, "0");
    CU_ASSERT_STRING_EQUAL(b[nb - 1].label, "missing");
    CU_ASSERT_EQUAL(b[nb - 1].n, 5);
    size_t rows = 0;
    double actual = 0;
    for (size_t j = 0; j < nb; j++) {
        rows += b[j].n;
        actual += b[j].actual;
        CU_ASSERT_DOUBLE_EQUAL(b[j].ae, b[j].actual / b[j].predicted, 1e-12);
    }
    CU_ASSERT_EQUAL(rows, 50);
    CU_ASSERT_DOUBLE_EQUAL(actual, 17, 1e-12);
}

static void test_bootstrap_is_seeded_and_covers_the_gini(void)
{
    struct eval_row r[400];
    for (int i = 0; i < 400; i++)
        r[i] = (struct eval_row){
            .y = (double)((i * 7919) % 13 < i / 40), .exposure = 1,
            .pred = 0.05 + i / 400.0, .truth = NAN};
    double y[400], e[400], p[400], g;
    for (int i = 0; i < 400; i++) {
        y[i] = r[i].y;
        e[i] = r[i].exposure;
        p[i] = r[i].pred;
    }
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(eval_gini(y, e, p, 400, &g, &err), ENG_OK);
    struct evalc_ci a1, a2, a3, b, d;
    CU_ASSERT_EQUAL(evalc_bootstrap_gini(r, NULL, 400, 100, 7, &a1, NULL,
                                         NULL, &err), ENG_OK);
    CU_ASSERT_EQUAL(evalc_bootstrap_gini(r, NULL, 400, 100, 7, &a2, NULL,
                                         NULL, &err), ENG_OK);
    CU_ASSERT_EQUAL(evalc_bootstrap_gini(r, NULL, 400, 100, 8, &a3, NULL,
                                         NULL, &err), ENG_OK);
    CU_ASSERT_EQUAL(a1.lo, a2.lo);
    CU_ASSERT_EQUAL(a1.hi, a2.hi);
    CU_ASSERT(a1.lo != a3.lo || a1.hi != a3.hi);
    CU_ASSERT(a1.lo < g && g < a1.hi);
    CU_ASSERT_EQUAL(a1.reps, 100);
    /* a model against itself: the difference is exactly 0 */
    double same[400];
    for (int i = 0; i < 400; i++)
        same[i] = 2 * r[i].pred;
    CU_ASSERT_EQUAL(evalc_bootstrap_gini(r, same, 400, 50, 7, &a1, &b, &d,
                                         &err), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(d.lo, 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(d.hi, 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(a1.lo, b.lo, 1e-12);
}

static void test_runsum_rate_gives_requests_per_second_per_window(void)
{
    struct runsum_rate r;
    runsum_rate_init(&r);
    /* 100 requests a second, sampled four times a second for 10 s */
    for (int i = 0; i <= 40; i++)
        runsum_rate_sample(&r, 50.0 + i * 0.25, (unsigned long)(i * 25));
    CU_ASSERT_EQUAL(r.n, 10);
    CU_ASSERT_DOUBLE_EQUAL(r.step, 1, 1e-12);
    for (size_t i = 0; i < r.n; i++)
        CU_ASSERT_DOUBLE_EQUAL(r.rate[i], 100, 1e-9);
    /* a pause: no request for 3 s, then the same pace again */
    runsum_rate_sample(&r, 63.0, 1000);
    runsum_rate_sample(&r, 64.0, 1100);
    CU_ASSERT_EQUAL(r.n, 14);
    CU_ASSERT_DOUBLE_EQUAL(r.rate[10], 0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(r.rate[12], 0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(r.rate[13], 100, 1e-9);
}

static void test_runsum_rate_keeps_a_long_run_in_its_points(void)
{
    struct runsum_rate r;
    runsum_rate_init(&r);
    /* 1,000 s at 20 requests a second, one sample a second */
    for (int i = 0; i <= 1000; i++)
        runsum_rate_sample(&r, i, (unsigned long)(i * 20));
    CU_ASSERT(r.n <= RUNSUM_MAX_RATE);
    CU_ASSERT(r.n >= RUNSUM_MAX_RATE / 2);
    CU_ASSERT_DOUBLE_EQUAL(r.step, 16, 1e-12);
    double sum = 0;
    for (size_t i = 0; i < r.n; i++) {
        CU_ASSERT_DOUBLE_EQUAL(r.rate[i], 20, 1e-9);
        sum += r.rate[i] * r.step;
    }
    CU_ASSERT_DOUBLE_EQUAL(sum, 20 * r.step * (double)r.n, 1e-6);
}

static CU_TestInfo manifest_tests[] = {
    {"runsum rate gives requests per second per window",
     test_runsum_rate_gives_requests_per_second_per_window},
    {"runsum rate keeps a long run in its points",
     test_runsum_rate_keeps_a_long_run_in_its_points},
    {"runsum merge equals counting in one",
     test_runsum_merge_equals_counting_in_one},
    {"runsum keeps counts beyond its kinds",
     test_runsum_keeps_counts_beyond_its_kinds},
    {"runsum input fingerprints the content",
     test_runsum_input_fingerprints_the_content},
    {"runsum scan bundle counts its statuses",
     test_runsum_scan_bundle_counts_its_statuses},
    {"manifest holds the identity and counts",
     test_manifest_holds_the_identity_and_counts},
    CU_TEST_INFO_NULL
};

static CU_TestInfo eval_chart_tests[] = {
    {"lorenz points run from 0 to 1 below the diagonal",
     test_lorenz_points_run_from_0_to_1_below_the_diagonal},
    {"double lift of a model against itself is flat",
     test_double_lift_of_a_model_against_itself_is_flat},
    {"oneway bins partition rows and keep missing",
     test_oneway_bins_partition_rows_and_keep_missing},
    {"bootstrap is seeded and covers the Gini",
     test_bootstrap_is_seeded_and_covers_the_gini},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_manifest_suites[] = {
    {"manifest", NULL, NULL, NULL, NULL, manifest_tests},
    {"eval_chart", NULL, NULL, NULL, NULL, eval_chart_tests},
    CU_SUITE_INFO_NULL
};
