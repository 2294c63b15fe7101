/*
 * Tests of the nightly-run modules: log and progress lines (logx), the
 * Prometheus text (metrics), shards (shard) and the token store's lock
 * wait (tok_store_open_wait).
 */
#include <CUnit/CUnit.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "buf.h"
#include "logx.h"
#include "metrics.h"
#include "shard.h"
#include "veh.h"
#include "api/tok.h"

static char dir[64];

static int suite_init(void)
{
    mkdir("tmp", 0700);
    snprintf(dir, sizeof(dir), "tmp/opsXXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int suite_clean(void)
{
    return 0;
}

static const char *path_for(const char *name)
{
    static char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    unlink(p);
    return p;
}

/* ---- logx ---- */

static void test_logx_timestamp_is_rfc3339_utc_with_milliseconds(void)
{
    char ts[LOGX_TS_LEN];
    logx_timestamp(1796185537.25, ts);
    CU_ASSERT_STRING_EQUAL(ts, "2026-12-02T04:25:37.250Z");
    logx_timestamp(0, ts);
    CU_ASSERT_STRING_EQUAL(ts, "1970-01-01T00:00:00.000Z");
}

static void test_logx_text_line_has_timestamp_level_and_one_line(void)
{
    struct buf b;
    buf_init(&b, 4096);
    CU_ASSERT_EQUAL(logx_line(&b, LOGX_TEXT, 1796185537.0, LOGX_WARN, "x",
                              "two\nlines", NULL, 0, NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "2026-12-02T04:25:37.000Z svcscore: "
                           "warning: two lines\n");
    buf_reset(&b);
    logx_line(&b, LOGX_TEXT, 0, LOGX_INFO, NULL, "plain", NULL, 0, NULL);
    CU_ASSERT_STRING_EQUAL(b.data, "1970-01-01T00:00:00.000Z svcscore: "
                           "plain\n");
    buf_release(&b);
}

static void test_logx_json_line_escapes_and_parses_back(void)
{
    struct buf b;
    buf_init(&b, 4096);
    struct logx_field f[] = {
        {"vin", LOGX_STR, "a\"b\\c\x01", 0, 0},
        {"n", LOGX_INT, NULL, -42, 0},
        {"rate", LOGX_NUM, NULL, 0, 2.5},
        {"eta", LOGX_NUM, NULL, 0, NAN},
        {"none", LOGX_STR, NULL, 0, 0},
    };
    CU_ASSERT_EQUAL(logx_line(&b, LOGX_JSON, 1796185537.0, LOGX_ERROR, "row",
                              "tab\there\nnl \x7f", f, 5, NULL), ENG_OK);
    CU_ASSERT_EQUAL(b.data[b.len - 1], '\n');
    CU_ASSERT_PTR_NULL(memchr(b.data, '\n', b.len - 1));
    cJSON *o = cJSON_Parse(b.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "ts")->valuestring,
                           "2026-12-02T04:25:37.000Z");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "level")->valuestring,
                           "error");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "event")->valuestring,
                           "row");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "msg")->valuestring,
                           "tab\there\nnl \x7f");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "vin")->valuestring,
                           "a\"b\\c\x01");
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(o, "n")->valuedouble, -42,
                           1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(o, "rate")->valuedouble, 2.5,
                           1e-9);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(o, "eta")));
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(o, "none")));
    cJSON_Delete(o);
    buf_release(&b);
}

static void test_logx_line_leaves_buffer_unchanged_when_full(void)
{
    struct buf b;
    buf_init(&b, 40);
    buf_adds(&b, "keep", NULL);
    struct eng_err e = {0};
    CU_ASSERT_EQUAL(logx_line(&b, LOGX_TEXT, 0, LOGX_INFO, NULL,
                              "a message much longer than the buffer takes",
                              NULL, 0, &e), ENG_ELIMIT);
    CU_ASSERT_EQUAL(b.len, 4);
    CU_ASSERT_STRING_EQUAL(b.data, "keep");
    buf_release(&b);
}

static void test_logx_progress_gives_share_rate_and_eta(void)
{
    struct logx_progress p = {
        .command = "fetch", .done = 1200, .total = 1500, .start = 200,
        .ok = 1190, .errors = 10, .elapsed = 100, .has_api = 1,
        .requests = 2500, .rotations = 7,
    };
    CU_ASSERT_DOUBLE_EQUAL(logx_rate(&p), 10.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(logx_eta(&p), 30.0, 1e-9);
    struct buf b;
    buf_init(&b, 4096);
    CU_ASSERT_EQUAL(logx_progress_line(&b, LOGX_TEXT, 0, &p, 0, NULL),
                    ENG_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "fetch: 1200/1500 rows (80%), "
                                  "1190 ok, 10 errors, 10.0 rows/s, 25.0 "
                                  "requests/s, 7 token rotations, ETA 30s"));
    buf_reset(&b);
    CU_ASSERT_EQUAL(logx_progress_tty(&b, &p, NULL), ENG_OK);
    CU_ASSERT_EQUAL(b.data[0], '\r');
    CU_ASSERT_STRING_EQUAL(b.data + b.len - 3, "\033[K");
    CU_ASSERT_PTR_NULL(strchr(b.data, '\n'));
    buf_reset(&b);
    CU_ASSERT_EQUAL(logx_progress_line(&b, LOGX_JSON, 0, &p, 1, NULL),
                    ENG_OK);
    cJSON *o = cJSON_Parse(b.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "event")->valuestring,
                           "finished");
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(o, "done")->valuedouble,
                           1200, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(o, "total")->valuedouble,
                           1500, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(
        cJSON_GetObjectItem(o, "token_rotations")->valuedouble, 7, 1e-9);
    cJSON_Delete(o);
    buf_release(&b);
}

static void test_logx_eta_is_unknown_without_total_or_rate(void)
{
    struct logx_progress p = {.command = "score", .done = 10,
                              .elapsed = 1};
    CU_ASSERT_DOUBLE_EQUAL(logx_eta(&p), -1, 1e-9);
    p.total = 20;
    p.elapsed = 0;
    CU_ASSERT_DOUBLE_EQUAL(logx_eta(&p), -1, 1e-9);
    char d[16];
    logx_duration(-1, d, sizeof(d));
    CU_ASSERT_STRING_EQUAL(d, "?");
    logx_duration(725, d, sizeof(d));
    CU_ASSERT_STRING_EQUAL(d, "12m05s");
    logx_duration(3 * 3600 + 7 * 60 + 10, d, sizeof(d));
    CU_ASSERT_STRING_EQUAL(d, "3h07m");
}

/* ---- metrics ---- */

static void test_metrics_family_and_samples_follow_the_text_format(void)
{
    struct buf b;
    buf_init(&b, 4096);
    CU_ASSERT_EQUAL(metrics_family(&b, "svcscore_rows_total", "counter",
                                   "Rows\\ by\nstatus", NULL), ENG_OK);
    CU_ASSERT_EQUAL(metrics_sample(&b, "svcscore_rows_total", "status",
                                   "a\"b\\c\nd", 12, NULL), ENG_OK);
    CU_ASSERT_EQUAL(metrics_sample(&b, "svcscore_x", NULL, NULL, 0.5, NULL),
                    ENG_OK);
    CU_ASSERT_EQUAL(metrics_sample(&b, "svcscore_y", NULL, NULL, NAN, NULL),
                    ENG_OK);
    CU_ASSERT_STRING_EQUAL(b.data,
        "# HELP svcscore_rows_total Rows\\\\ by\\nstatus\n"
        "# TYPE svcscore_rows_total counter\n"
        "svcscore_rows_total{status=\"a\\\"b\\\\c\\nd\"} 12\n"
        "svcscore_x 0.5\n"
        "svcscore_y NaN\n");
    buf_release(&b);
}

static void test_metrics_refuses_invalid_names(void)
{
    struct buf b;
    buf_init(&b, 4096);
    struct eng_err e = {0};
    CU_ASSERT_EQUAL(metrics_family(&b, "9bad", "gauge", "x", &e),
                    ENG_EUSAGE);
    CU_ASSERT_EQUAL(metrics_sample(&b, "ok_name", "bad-label", "v", 1, &e),
                    ENG_EUSAGE);
    CU_ASSERT_EQUAL(metrics_sample(&b, "bad name", NULL, NULL, 1, &e),
                    ENG_EUSAGE);
    CU_ASSERT_EQUAL(b.len, 0);
    buf_release(&b);
}

static void test_metrics_write_is_atomic_and_reads_back(void)
{
    const char *path = path_for("m.prom");
    struct buf b;
    buf_init(&b, 4096);
    metrics_family(&b, "svcscore_last_success_timestamp_seconds", "gauge",
                   "t", NULL);
    metrics_sample(&b, "svcscore_last_success_timestamp_seconds", NULL,
                   NULL, 1796185537.5, NULL);
    CU_ASSERT_EQUAL(metrics_write(path, &b, NULL), ENG_OK);
    double v = 0;
    CU_ASSERT_EQUAL(metrics_read_value(path,
                    "svcscore_last_success_timestamp_seconds", &v), 1);
    CU_ASSERT_DOUBLE_EQUAL(v, 1796185537.5, 1e-6);
    CU_ASSERT_EQUAL(metrics_read_value(path, "svcscore_last", &v), 0);
    CU_ASSERT_EQUAL(metrics_read_value(path_for("none.prom"), "x", &v), 0);
    /* nothing but the file itself is left in the folder */
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "test $(ls %s | grep -c tmp) -eq 0", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    struct eng_err e = {0};
    CU_ASSERT_EQUAL(metrics_write("tmp/no/such/dir/m.prom", &b, &e),
                    ENG_EIO);
    buf_release(&b);
}

static void test_metrics_tally_counts_and_overflows_into_other(void)
{
    struct metrics_tally t;
    memset(&t, 0, sizeof(t));
    metrics_tally_add(&t, "NETWORK", 1);
    metrics_tally_add(&t, "NETWORK", 2);
    metrics_tally_add(&t, "TIMEOUT", 1);
    CU_ASSERT_EQUAL(t.n, 2);
    CU_ASSERT_STRING_EQUAL(t.e[0].key, "NETWORK");
    CU_ASSERT_EQUAL(t.e[0].count, 3);
    for (int i = 0; i < 2 * METRICS_TALLY_MAX; i++) {
        char k[16];
        snprintf(k, sizeof(k), "K%d", i);
        metrics_tally_add(&t, k, 1);
    }
    CU_ASSERT_EQUAL(t.n, METRICS_TALLY_MAX);
    CU_ASSERT_STRING_EQUAL(t.e[METRICS_TALLY_MAX - 1].key, "other");
    unsigned long sum = 0;
    for (size_t i = 0; i < t.n; i++)
        sum += t.e[i].count;
    CU_ASSERT_EQUAL(sum, 4 + 2 * METRICS_TALLY_MAX);
}

static void test_metrics_error_type_takes_the_first_part(void)
{
    char t[32];
    metrics_error_type("error:NETWORK:RESET", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "NETWORK");
    metrics_error_type("error:PARSE", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "PARSE");
    metrics_error_type("ok", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "");
    metrics_error_type("error", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "UNKNOWN");
}

/* ---- shard ---- */

static void test_shard_parse_takes_k_of_n_zero_based(void)
{
    struct shard_spec s = {9, 9};
    CU_ASSERT_EQUAL(shard_parse("0/3", &s, NULL), ENG_OK);
    CU_ASSERT(s.k == 0 && s.n == 3);
    CU_ASSERT_EQUAL(shard_parse("2/3", &s, NULL), ENG_OK);
    CU_ASSERT(s.k == 2 && s.n == 3);
    const char *bad[] = {"3/3", "1", "/3", "1/", "-1/3", "1/0", "a/b",
                         "1/3x", "1/1000001", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct eng_err e = {0};
        CU_ASSERT_EQUAL(shard_parse(bad[i], &s, &e), ENG_EUSAGE);
    }
    CU_ASSERT(s.k == 2 && s.n == 3);
}

static void row_with(struct veh_row *r, char *vin, char *refresh,
                     size_t index)
{
    static char empty[] = "";
    memset(r, 0, sizeof(*r));
    r->vin = vin;
    r->refresh_token = refresh ? refresh : empty;
    r->access_token = empty;
    r->index = index;
}

static void test_shard_keeps_one_token_pair_in_one_shard(void)
{
    /* 400 users of 3 vehicles each: every user's rows share one shard */
    unsigned seen[5] = {0};
    for (int u = 0; u < 400; u++) {
        char tok[32];
        snprintf(tok, sizeof(tok), "refresh-%d", u);
        unsigned first = 0;
        for (int v = 0; v < 3; v++) {
            char vin[32];
            snprintf(vin, sizeof(vin), "VIN%05d%d", u, v);
            struct veh_row r;
            row_with(&r, vin, tok, (size_t)(u * 3 + v));
            unsigned s = shard_of(&r, 5);
            CU_ASSERT(s < 5);
            if (v == 0)
                first = s;
            CU_ASSERT_EQUAL(s, first);
            struct shard_spec spec = {s, 5};
            CU_ASSERT(shard_keeps(&spec, &r));
            spec.k = (s + 1) % 5;
            CU_ASSERT(!shard_keeps(&spec, &r));
        }
        seen[first]++;
    }
    /* and the users spread over every shard, none with more than half */
    for (int s = 0; s < 5; s++)
        CU_ASSERT(seen[s] > 40 && seen[s] < 200);
}

static void test_shard_without_split_keeps_every_row(void)
{
    char vin[] = "1HGCM82633A004352";
    struct veh_row r;
    row_with(&r, vin, NULL, 7);
    CU_ASSERT(shard_keeps(NULL, &r));
    struct shard_spec one = {0, 1};
    CU_ASSERT(shard_keeps(&one, &r));
    CU_ASSERT_EQUAL(shard_of(&r, 0), 0);
}

static void test_shard_count_counts_the_rows_of_a_shard(void)
{
    const char *path = path_for("veh.csv");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("vin,refresh_token\n", f);
    for (int i = 0; i < 60; i++)
        fprintf(f, "1HGCM82633A%06d,tok%d\n", i, i / 4);
    fclose(f);
    size_t all = 0, sum = 0;
    CU_ASSERT_EQUAL(shard_count(path, NULL, &all, NULL), ENG_OK);
    CU_ASSERT_EQUAL(all, 60);
    for (unsigned k = 0; k < 3; k++) {
        struct shard_spec s = {k, 3};
        size_t n = 0;
        CU_ASSERT_EQUAL(shard_count(path, &s, &n, NULL), ENG_OK);
        CU_ASSERT_EQUAL(n % 4, 0);     /* four rows per token */
        sum += n;
    }
    CU_ASSERT_EQUAL(sum, 60);
    size_t n = 99;
    struct eng_err e = {0};
    CU_ASSERT(shard_count(path_for("missing.csv"), NULL, &n, &e) < 0);
    CU_ASSERT_EQUAL(n, 99);
}

/* ---- the token store's lock ---- */

struct waited {
    int calls;
    char line[300];
};

static void on_wait(void *ud, const char *line)
{
    struct waited *w = ud;
    w->calls++;
    snprintf(w->line, sizeof(w->line), "%s", line);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_tok_store_waits_for_the_lock_then_gets_it(void)
{
    const char *path = path_for("wait.jsonl");
    char p[128];
    snprintf(p, sizeof(p), "%s", path);
    fflush(NULL);
    int ready[2];
    CU_ASSERT_FATAL(pipe(ready) == 0);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        struct tok_store *st = tok_store_open(p, NULL);
        if (write(ready[1], "x", 1) != 1)
            _exit(2);
        struct timespec hold = {0, 600 * 1000 * 1000};
        nanosleep(&hold, NULL);
        tok_store_free(st);
        _exit(st ? 0 : 1);
    }
    close(ready[1]);
    char c;
    CU_ASSERT_EQUAL(read(ready[0], &c, 1), 1);
    close(ready[0]);
    struct waited w = {0};
    double t0 = mono_s();
    struct eng_err e = {0};
    struct tok_store *st = tok_store_open_wait(p, 10, on_wait, &w, &e);
    double waited = mono_s() - t0;
    CU_ASSERT_PTR_NOT_NULL(st);
    CU_ASSERT_EQUAL(w.calls, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(w.line, "waiting for the lock on token "
                                  "store"));
    CU_ASSERT(waited > 0.3 && waited < 5);
    tok_store_free(st);
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_tok_store_gives_up_on_the_lock_after_the_timeout(void)
{
    const char *path = path_for("busy.jsonl");
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    char p[128];
    snprintf(p, sizeof(p), "%s", path);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct waited w = {0};
        struct eng_err e = {0};
        double t0 = mono_s();
        struct tok_store *other = tok_store_open_wait(p, 0.4, on_wait, &w,
                                                      &e);
        double waited = mono_s() - t0;
        int ok = !other && e.code == ENG_EIO && strstr(e.msg, "still in use")
                 && strstr(e.msg, "after 0.4 s") && w.calls == 1
                 && waited >= 0.35 && waited < 3;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    tok_store_free(st);
}

static CU_TestInfo ops_tests[] = {
    {"logx timestamp is RFC 3339 UTC with milliseconds",
     test_logx_timestamp_is_rfc3339_utc_with_milliseconds},
    {"logx text line has timestamp, level and one line",
     test_logx_text_line_has_timestamp_level_and_one_line},
    {"logx JSON line escapes and parses back",
     test_logx_json_line_escapes_and_parses_back},
    {"logx line leaves the buffer unchanged when full",
     test_logx_line_leaves_buffer_unchanged_when_full},
    {"logx progress gives share, rate and ETA",
     test_logx_progress_gives_share_rate_and_eta},
    {"logx ETA is unknown without total or rate",
     test_logx_eta_is_unknown_without_total_or_rate},
    {"metrics family and samples follow the text format",
     test_metrics_family_and_samples_follow_the_text_format},
    {"metrics refuses invalid names", test_metrics_refuses_invalid_names},
    {"metrics write is atomic and reads back",
     test_metrics_write_is_atomic_and_reads_back},
    {"metrics tally counts and overflows into other",
     test_metrics_tally_counts_and_overflows_into_other},
    {"metrics error type takes the first part",
     test_metrics_error_type_takes_the_first_part},
    {"shard parse takes K/N, zero-based",
     test_shard_parse_takes_k_of_n_zero_based},
    {"shard keeps one token pair in one shard",
     test_shard_keeps_one_token_pair_in_one_shard},
    {"shard without a split keeps every row",
     test_shard_without_split_keeps_every_row},
    {"shard count counts the rows of a shard",
     test_shard_count_counts_the_rows_of_a_shard},
    {"token store waits for the lock, then gets it",
     test_tok_store_waits_for_the_lock_then_gets_it},
    {"token store gives up on the lock after the timeout",
     test_tok_store_gives_up_on_the_lock_after_the_timeout},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo test_ops_suites[] = {
    {"ops", suite_init, suite_clean, NULL, NULL, ops_tests},
    CU_SUITE_INFO_NULL,
};
