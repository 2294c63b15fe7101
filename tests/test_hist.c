/* Tests for hist: every accepted shape, and bad input of every kind. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "ptrain.h"
#include "task.h"

static struct task_map *tasks;

static int suite_init(void)
{
    tasks = task_map_load("../data/tasks.tsv", NULL);
    return tasks ? 0 : -1;
}

static int suite_clean(void)
{
    task_map_free(tasks);
    return 0;
}

/* Parses a NUL-terminated body with default limits. */
static int parse(struct hist *h, const char *body, int imperial,
                 struct eng_err *err)
{
    struct hist_limits lim;
    hist_limits_default(&lim);
    return hist_parse(h, body, strlen(body), imperial, &lim, tasks, err);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

static void test_hist_parses_the_documented_example(void)
{
    size_t len = 0;
    char *body = read_file("data/hist/example-response.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    struct hist h;
    hist_init(&h);
    struct hist_limits lim;
    hist_limits_default(&lim);
    CU_ASSERT_EQUAL(hist_parse(&h, body, len, 0, &lim, tasks, NULL), ENG_OK);
    CU_ASSERT_EQUAL_FATAL(h.n, 1);
    const struct hist_rec *r = &h.rec[0];
    CU_ASSERT_EQUAL(r->day, eng_days_from_civil(2023, 6, 28));
    CU_ASSERT_DOUBLE_EQUAL(r->km, 46047.22, 1e-9);
    CU_ASSERT(isnan(r->cost));
    CU_ASSERT_STRING_EQUAL(r->currency, "");
    CU_ASSERT_EQUAL(r->n_tasks, 3);
    CU_ASSERT_EQUAL(r->cats, TASK_BIT(TASK_OTHER));
    CU_ASSERT_EQUAL(r->source, HIST_SRC_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(r->service_id, "");
    CU_ASSERT_EQUAL(h.bad_fields, 0);
    hist_release(&h);
    free(body);
}

static void test_hist_accepts_wrapped_single_and_v3_shapes(void)
{
    struct hist h;
    hist_init(&h);
    CU_ASSERT_EQUAL(parse(&h, "{\"serviceHistory\":[{\"serviceDate\":"
                              "\"2022-06-15\",\"odometerDistance\":12500.5}]}",
                          0, NULL), ENG_OK);
    CU_ASSERT_EQUAL(h.n, 1);
    CU_ASSERT_DOUBLE_EQUAL(h.rec[0].km, 12500.5, 1e-9);

    CU_ASSERT_EQUAL(parse(&h, "{\"serviceId\":7,\"serviceDate\":"
                              "\"2022-06-15\"}", 0, NULL), ENG_OK);
    CU_ASSERT_EQUAL(h.n, 1);
    CU_ASSERT_STRING_EQUAL(h.rec[0].service_id, "7");

    CU_ASSERT_EQUAL(parse(&h, "{\"values\":[{\"id\":\"a1\",\"time\":"
                              "\"2024-01-02T10:00:00Z\",\"odometer\":500,"
                              "\"tasks\":[{\"id\":1,\"description\":"
                              "\"Oil change\"}],\"details\":[{\"id\":1,"
                              "\"description\":\"dealer\"}],\"cost\":{"
                              "\"amount\":99.5,\"currency\":\"EUR\"}}]}",
                          0, NULL), ENG_OK);
    CU_ASSERT_EQUAL_FATAL(h.n, 1);
    CU_ASSERT_EQUAL(h.rec[0].day, eng_days_from_civil(2024, 1, 2));
    CU_ASSERT_EQUAL(h.rec[0].cats, TASK_BIT(TASK_OIL));
    CU_ASSERT_EQUAL(h.rec[0].source, HIST_SRC_DEALER);
    CU_ASSERT_DOUBLE_EQUAL(h.rec[0].cost, 99.5, 1e-9);
    CU_ASSERT_STRING_EQUAL(h.rec[0].currency, "EUR");
    hist_release(&h);
}

static void test_hist_is_lenient_on_types(void)
{
    struct hist h;
    hist_init(&h);
    /* numeric string odometer, object details, numeric id, owner source */
    CU_ASSERT_EQUAL(parse(&h, "[{\"serviceId\":12345,\"odometerDistance\":"
                              "\"1000.25\",\"serviceDetails\":{\"type\":"
                              "\"source\",\"value\":\"Owner entered\"},"
                              "\"serviceTasks\":{\"taskDescription\":"
                              "\"Ölwechsel\"},\"serviceCost\":{\"totalCost\":"
                              "\"45\",\"currency\":\"cad\"}}]", 0, NULL),
                    ENG_OK);
    CU_ASSERT_EQUAL_FATAL(h.n, 1);
    CU_ASSERT_DOUBLE_EQUAL(h.rec[0].km, 1000.25, 1e-9);
    CU_ASSERT_STRING_EQUAL(h.rec[0].service_id, "12345");
    CU_ASSERT_EQUAL(h.rec[0].source, HIST_SRC_OWNER);
    CU_ASSERT_EQUAL(h.rec[0].cats, TASK_BIT(TASK_OIL));
    CU_ASSERT_DOUBLE_EQUAL(h.rec[0].cost, 45, 1e-9);
    CU_ASSERT_STRING_EQUAL(h.rec[0].currency, "CAD");
    CU_ASSERT_EQUAL(h.bad_fields, 0);
    hist_release(&h);
}

static void test_hist_drops_bad_fields_and_counts_them(void)
{
    struct hist h;
    hist_init(&h);
    /* number where a string belongs, string where a number belongs,
     * negative and absurd odometers, impossible and out-of-range dates */
    CU_ASSERT_EQUAL(parse(&h, "[{\"serviceDate\":20230101,"
                              "\"odometerDistance\":\"abc\"},"
                              "{\"serviceDate\":\"2023-13-45\","
                              "\"odometerDistance\":-5},"
                              "{\"serviceDate\":\"1900-01-01\","
                              "\"odometerDistance\":1e300},"
                              "{\"serviceDate\":\"2200-01-01\","
                              "\"serviceCost\":{\"totalCost\":-3,"
                              "\"currency\":\"DOLLARS\"}},"
                              "{\"odometerDistance\":\"NaN\","
                              "\"serviceTasks\":\"oil\"}]", 0, NULL),
                    ENG_OK);
    CU_ASSERT_EQUAL_FATAL(h.n, 5);
    for (size_t i = 0; i < h.n; i++) {
        CU_ASSERT_EQUAL(h.rec[i].day, HIST_NO_DAY);
        CU_ASSERT(isnan(h.rec[i].km));
        CU_ASSERT(isnan(h.rec[i].cost));
    }
    CU_ASSERT_STRING_EQUAL(h.rec[3].currency, "");
    CU_ASSERT_EQUAL(h.bad_fields, 11);
    CU_ASSERT_STRING_EQUAL(h.first_bad, "record 1: date is not a string");
    hist_release(&h);
}

static void test_hist_drops_records_that_are_not_objects(void)
{
    struct hist h;
    hist_init(&h);
    CU_ASSERT_EQUAL(parse(&h, "[1, \"x\", null, [], {\"serviceDate\":"
                              "\"2021-02-03\"}]", 0, NULL), ENG_OK);
    CU_ASSERT_EQUAL(h.n, 1);
    CU_ASSERT_EQUAL(h.bad_records, 4);
    hist_release(&h);
}

static void test_hist_converts_imperial_odometers(void)
{
    struct hist h;
    hist_init(&h);
    CU_ASSERT_EQUAL(parse(&h, "[{\"odometerDistance\":1000}]", 1, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(h.rec[0].km, 1609.344, 1e-9);
    hist_release(&h);
}

static void test_hist_rejects_bodies_that_are_not_histories(void)
{
    struct hist h;
    hist_init(&h);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(parse(&h, "", 0, &err), ENG_EJSON);
    CU_ASSERT_EQUAL(parse(&h, "not json", 0, &err), ENG_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "byte 0"));
    CU_ASSERT_EQUAL(parse(&h, "[{\"a\":1}", 0, &err), ENG_EJSON);
    CU_ASSERT_EQUAL(parse(&h, "[1] x", 0, &err), ENG_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "byte 4"));
    CU_ASSERT_EQUAL(parse(&h, "[NaN]", 0, &err), ENG_EJSON);
    CU_ASSERT_EQUAL(parse(&h, "[Infinity]", 0, &err), ENG_EJSON);
    CU_ASSERT_EQUAL(parse(&h, "{\"foo\":[1]}", 0, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a service history"));
    CU_ASSERT_EQUAL(parse(&h, "\"text\"", 0, &err), ENG_EDATA);
    CU_ASSERT_EQUAL(parse(&h, "42", 0, &err), ENG_EDATA);
    CU_ASSERT_EQUAL(h.n, 0);
    hist_release(&h);
}

static void test_hist_survives_deep_nesting(void)
{
    size_t depth = 100000;
    char *s = malloc(2 * depth + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    struct hist h;
    hist_init(&h);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(parse(&h, s, 0, &err), ENG_EJSON);
    hist_release(&h);
    free(s);
}

static void test_hist_caps_records_and_body_size(void)
{
    size_t n = 100000;
    char *s = malloc(n * 3 + 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char *p = s;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(p, "{},", 3);
        p += 3;
    }
    p[-1] = ']';
    *p = '\0';
    struct hist h;
    hist_init(&h);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(parse(&h, s, 0, &err), ENG_ELIMIT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "100000 records"));
    struct hist_limits lim;
    hist_limits_default(&lim);
    lim.max_body = 1000;
    CU_ASSERT_EQUAL(hist_parse(&h, s, strlen(s), 0, &lim, tasks, &err),
                    ENG_ELIMIT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bytes"));
    hist_release(&h);
    free(s);
}

static void test_hist_skips_bom_and_keeps_invalid_utf8_harmless(void)
{
    struct hist h;
    hist_init(&h);
    CU_ASSERT_EQUAL(parse(&h, "\xEF\xBB\xBF[{\"serviceTasks\":[{"
                              "\"taskDescription\":\"Oil \xC3\x28 change\"}],"
                              "\"serviceId\":\"\xFF\xFE\"}]\r\n", 0, NULL),
                    ENG_OK);
    CU_ASSERT_EQUAL_FATAL(h.n, 1);
    CU_ASSERT_EQUAL(h.rec[0].n_tasks, 1);
    hist_release(&h);
}

static int parse_line(struct hist_entry *e, const char *line,
                      struct eng_err *err)
{
    struct hist_limits lim;
    hist_limits_default(&lim);
    return hist_parse_line(e, line, strlen(line), &lim, tasks, err);
}

static void test_hist_parse_line_reads_bundle_lines(void)
{
    struct hist_entry e;
    hist_entry_init(&e);
    CU_ASSERT_EQUAL(parse_line(&e, "{\"vin\":\"1HGCM82633A004352\","
                                   "\"vehicle_id\":\"v-1\",\"unit_system\":"
                                   "\"imperial\",\"history\":[{"
                                   "\"odometerDistance\":10}]}", NULL),
                    ENG_OK);
    CU_ASSERT_STRING_EQUAL(e.vin, "1HGCM82633A004352");
    CU_ASSERT_STRING_EQUAL(e.vehicle_id, "v-1");
    CU_ASSERT_EQUAL(e.imperial, 1);
    CU_ASSERT_DOUBLE_EQUAL(e.hist.rec[0].km, 16.09344, 1e-9);
    CU_ASSERT_EQUAL(e.powertrain, PTRAIN_UNKNOWN);
    CU_ASSERT_EQUAL(e.model_year, 0);

    /* the powertrain and model year the fetch learnt */
    CU_ASSERT_EQUAL(parse_line(&e, "{\"vin\":\"A\",\"powertrain\":\"BEV\","
                                   "\"powertrain_source\":\"api\","
                                   "\"model_year\":2022,\"history\":[]}",
                               NULL), ENG_OK);
    CU_ASSERT_EQUAL(e.powertrain, PTRAIN_BEV);
    CU_ASSERT_EQUAL(e.powertrain_src, PTRAIN_SRC_API);
    CU_ASSERT_EQUAL(e.model_year, 2022);
    /* values it cannot use are ignored, not errors */
    CU_ASSERT_EQUAL(parse_line(&e, "{\"vin\":\"A\",\"powertrain\":7,"
                                   "\"powertrain_source\":\"x\","
                                   "\"model_year\":1850.5,\"history\":[]}",
                               NULL), ENG_OK);
    CU_ASSERT_EQUAL(e.powertrain, PTRAIN_UNKNOWN);
    CU_ASSERT_EQUAL(e.powertrain_src, PTRAIN_SRC_NONE);
    CU_ASSERT_EQUAL(e.model_year, 0);

    /* a failed fetch carried by the line keeps its status */
    CU_ASSERT_EQUAL(parse_line(&e, "{\"vin\":\"A\",\"status\":"
                                   "\"error:BILLING:VEHICLE_LIMIT\","
                                   "\"history\":null}", NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(e.status, "error:BILLING:VEHICLE_LIMIT");
    CU_ASSERT_EQUAL(e.hist.n, 0);

    /* a truncated line still names its vehicle */
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(parse_line(&e, "{\"vin\":\"1FTEW1E53JFA00001\","
                                   "\"history\":[{\"serviceDate\":", &err),
                    ENG_EJSON);
    CU_ASSERT_STRING_EQUAL(e.vin, "1FTEW1E53JFA00001");
    CU_ASSERT_EQUAL(parse_line(&e, "[1,2]", &err), ENG_EDATA);
    CU_ASSERT_EQUAL(parse_line(&e, "{\"vin\":\"A\"}", &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no 'history'"));
    hist_entry_release(&e);
}

static CU_TestInfo hist_tests[] = {
    {"parses the documented example", test_hist_parses_the_documented_example},
    {"accepts wrapped, single-record and v3 shapes",
     test_hist_accepts_wrapped_single_and_v3_shapes},
    {"is lenient on types", test_hist_is_lenient_on_types},
    {"drops bad fields and counts them",
     test_hist_drops_bad_fields_and_counts_them},
    {"drops records that are not objects",
     test_hist_drops_records_that_are_not_objects},
    {"converts imperial odometers", test_hist_converts_imperial_odometers},
    {"rejects bodies that are not histories",
     test_hist_rejects_bodies_that_are_not_histories},
    {"survives 100,000 levels of nesting", test_hist_survives_deep_nesting},
    {"caps records and body size", test_hist_caps_records_and_body_size},
    {"skips a BOM and keeps invalid UTF-8 harmless",
     test_hist_skips_bom_and_keeps_invalid_utf8_harmless},
    {"parse_line reads bundle lines", test_hist_parse_line_reads_bundle_lines},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_hist_suites[] = {
    {"hist", suite_init, suite_clean, NULL, NULL, hist_tests},
    CU_SUITE_INFO_NULL
};
