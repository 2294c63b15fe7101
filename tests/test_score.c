/*
 * Tests for score: the header README.md gives (Outputs) exactly, one row per
 * vehicle with as many columns as the header whatever its status, the values of
 * an ok row, empty score fields on other rows, quoting of commas and quotes,
 * and neutralised spreadsheet formulas.  Rows are split back into fields with
 * an RFC 4180 reader of the test's own.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "buf.h"
#include "feat.h"
#include "glm.h"
#include "hist.h"
#include "model.h"
#include "model_internal.h"
#include "score.h"

#define N_COLS 21
#define MAX_FIELD 160

static const char spec_header[] =
    "vin,vehicle_id,policy_id,status,score,band,relativity,"
    "reason_1,reason_2,reason_3,reason_4,"
    "n_services,first_service_date,last_service_date,"
    "days_since_last_service,last_odometer_km,est_annual_km,"
    "odometer_rollback,overdue_oil_change,data_completeness,model_id\n";

enum {
    C_VIN, C_VEHICLE_ID, C_POLICY_ID, C_STATUS, C_SCORE, C_BAND,
    C_RELATIVITY, C_REASON_1, C_REASON_2, C_REASON_3, C_REASON_4,
    C_N_SERVICES, C_FIRST, C_LAST, C_DAYS_SINCE, C_LAST_KM, C_ANNUAL_KM,
    C_ROLLBACK, C_OVERDUE_OIL, C_COMPLETENESS, C_MODEL_ID
};

/*
 * Splits one CSV line (RFC 4180, ending in \n) into fields; returns the
 * number of fields, or -1 if the line is not well formed or has more than
 * max fields.
 */
static int split(const char *line, char out[][MAX_FIELD], int max)
{
    int n = 0;
    const char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        size_t k = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    p += 2;
                    if (k + 1 < MAX_FIELD)
                        out[n][k++] = '"';
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    if (k + 1 < MAX_FIELD)
                        out[n][k++] = *p;
                    p++;
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\n') {
                if (*p == '"' || *p == '\r')
                    return -1;
                if (k + 1 < MAX_FIELD)
                    out[n][k++] = *p;
                p++;
            }
        }
        out[n++][k] = '\0';
        if (*p == ',') {
            p++;
            continue;
        }
        return *p == '\n' && p[1] == '\0' ? n : -1;
    }
}

/*
 * A model of two inputs: days since the last service (R03) and the longest
 * gap (R01, whose text holds a comma).  Both adverse above their centre.
 */
static struct model *score_model(void)
{
    struct model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->inputs = calloc(2, sizeof(*m->inputs));
    if (!m->inputs) {
        free(m);
        return NULL;
    }
    m->n_inputs = 2;
    m->family = GLM_POISSON;
    m->link = GLM_LOG;
    m->transform = 1;
    m->intercept = log(0.1);
    static const struct {
        const char *name, *code, *text;
        double center;
    } def[2] = {
        {"days_since_last_service", "R03", "last service %s days ago", 180},
        {"interval_days_max", "R01", "longest gap, in days: %s", 365},
    };
    for (int i = 0; i < 2; i++) {
        struct model_input *in = &m->inputs[i];
        snprintf(in->name, sizeof(in->name), "%s", def[i].name);
        in->feat = feat_find(def[i].name);
        in->shown = in->feat;
        in->cap_lo = -INFINITY;
        in->cap_hi = INFINITY;
        in->impute = def[i].center;
        in->center = def[i].center;
        in->scale = 100;
        in->beta = 0.2;
        in->se = 0.01;
        in->value_kind = MODEL_VALUE_COUNT;
        snprintf(in->code, sizeof(in->code), "%s", def[i].code);
        snprintf(in->text, sizeof(in->text), "%s", def[i].text);
        snprintf(in->missing_text, sizeof(in->missing_text), "unknown");
    }
    m->log_mean_rate = log(0.1);
    m->score_center = 600;
    m->score_factor = 50 / log(2.0);
    m->score_min = 1;
    m->score_max = 999;
    m->band_cuts[0] = 650;
    m->band_cuts[1] = 620;
    m->band_cuts[2] = 590;
    m->band_cuts[3] = 560;
    /* the id the rows carry */
    if (model_save(m, "tmp/score_model.json", NULL) != ENG_OK) {
        model_free(m);
        return NULL;
    }
    return m;
}

static struct model *model;

static int suite_init(void)
{
    model = score_model();
    return model ? 0 : -1;
}

static int suite_clean(void)
{
    model_free(model);
    return 0;
}

/* Features of a vehicle serviced 2023-01-10 .. 2023-12-01. */
static void features(struct feat_vec *f)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < FEAT_COUNT; i++)
        f->v[i] = NAN;
    f->v[FEAT_N_RECORDS] = 9;
    f->v[FEAT_DUPLICATE_RECORDS] = 2;
    f->v[FEAT_DAYS_SINCE_LAST_SERVICE] = 380;
    f->v[FEAT_INTERVAL_DAYS_MAX] = 565;
    f->v[FEAT_EST_ANNUAL_KM] = 15234.6;
    f->v[FEAT_ODOMETER_ROLLBACKS] = 2;
    f->v[FEAT_OVERDUE_OIL_CHANGE] = 1;
    f->v[FEAT_DATA_COMPLETENESS] = 0.83333;
    f->first_day = eng_days_from_civil(2023, 1, 10);
    f->last_day = eng_days_from_civil(2023, 12, 1);
    f->last_km = 45678.94;
}

static struct batch_vehicle vehicle(const char *vin, const char *status,
                                    const struct feat_vec *f)
{
    struct batch_vehicle v = {0};
    v.vin = vin;
    v.vehicle_id = "veh-1";
    v.policy_id = "POL-9";
    v.make = NULL;
    v.status = status;
    v.feat = f;
    return v;
}

/* Formats one row (guard on or off) and splits it; returns the field
 * count (or -1). */
static int row_fields_guard(const struct batch_vehicle *v, int guard,
                            char out[][MAX_FIELD])
{
    struct buf b;
    buf_init(&b, 1 << 16);
    struct eng_err err = {0};
    int rc = score_row(model, v, guard, &b, &err);
    CU_ASSERT_EQUAL(rc, ENG_OK);
    int n = rc == ENG_OK && b.data ? split(b.data, out, N_COLS + 4) : -1;
    buf_release(&b);
    return n;
}

static int row_fields(const struct batch_vehicle *v, char out[][MAX_FIELD])
{
    return row_fields_guard(v, 1, out);
}

static void test_score_header_is_exactly_the_spec(void)
{
    struct buf b;
    buf_init(&b, 4096);
    CU_ASSERT_EQUAL(score_header(&b, NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(b.data, spec_header);
    char f[N_COLS + 4][MAX_FIELD];
    CU_ASSERT_EQUAL(split(b.data, f, N_COLS + 4), N_COLS);
    buf_release(&b);
    /* a header that does not fit leaves the buffer as it was */
    buf_init(&b, 16);
    CU_ASSERT_EQUAL(score_header(&b, NULL), ENG_ELIMIT);
    CU_ASSERT_EQUAL(b.len, 0);
    buf_release(&b);
}

/*
 * eta = ln 0.1 + 0.2 (380 - 180) / 100 + 0.2 (565 - 365) / 100
 *     = ln 0.1 + 0.8: relativity e^0.8 = 2.2255, score
 *     600 - 72.13 * 0.8 = 542.3 -> 542, band E.
 * Points: 72.13 * 0.4 = 28.85 each, a tie: input order, R03 first.
 */
static void test_score_ok_row_holds_every_value(void)
{
    struct feat_vec f;
    features(&f);
    struct batch_vehicle v = vehicle("1HGCM82633A004352", "ok", &f);
    char c[N_COLS + 4][MAX_FIELD];
    CU_ASSERT_EQUAL_FATAL(row_fields(&v, c), N_COLS);
    CU_ASSERT_STRING_EQUAL(c[C_VIN], "1HGCM82633A004352");
    CU_ASSERT_STRING_EQUAL(c[C_VEHICLE_ID], "veh-1");
    CU_ASSERT_STRING_EQUAL(c[C_POLICY_ID], "POL-9");
    CU_ASSERT_STRING_EQUAL(c[C_STATUS], "ok");
    CU_ASSERT_STRING_EQUAL(c[C_SCORE], "542");
    CU_ASSERT_STRING_EQUAL(c[C_BAND], "E");
    CU_ASSERT_STRING_EQUAL(c[C_RELATIVITY], "2.2255");
    CU_ASSERT_STRING_EQUAL(c[C_REASON_1], "R03 last service 380 days ago");
    CU_ASSERT_STRING_EQUAL(c[C_REASON_2], "R01 longest gap, in days: 565");
    CU_ASSERT_STRING_EQUAL(c[C_REASON_3], "");
    CU_ASSERT_STRING_EQUAL(c[C_REASON_4], "");
    CU_ASSERT_STRING_EQUAL(c[C_N_SERVICES], "7");          /* 9 - 2 dups */
    CU_ASSERT_STRING_EQUAL(c[C_FIRST], "2023-01-10");
    CU_ASSERT_STRING_EQUAL(c[C_LAST], "2023-12-01");
    CU_ASSERT_STRING_EQUAL(c[C_DAYS_SINCE], "380");
    CU_ASSERT_STRING_EQUAL(c[C_LAST_KM], "45678.9");
    CU_ASSERT_STRING_EQUAL(c[C_ANNUAL_KM], "15235");
    CU_ASSERT_STRING_EQUAL(c[C_ROLLBACK], "1");
    CU_ASSERT_STRING_EQUAL(c[C_OVERDUE_OIL], "1");
    CU_ASSERT_STRING_EQUAL(c[C_COMPLETENESS], "0.833");
    CU_ASSERT_STRING_EQUAL(c[C_MODEL_ID], model_id(model));
    CU_ASSERT_EQUAL(strlen(c[C_MODEL_ID]), 18);
    /* the same figures as model_score() */
    struct model_result r;
    model_score(model, &f, NULL, &r);
    CU_ASSERT_EQUAL(r.score, 542);
    CU_ASSERT_EQUAL(r.band, 'E');
}

static void test_score_quotes_reasons_with_commas(void)
{
    struct feat_vec f;
    features(&f);
    struct batch_vehicle v = vehicle("1HGCM82633A004352", "ok", &f);
    struct buf b;
    buf_init(&b, 1 << 16);
    CU_ASSERT_EQUAL_FATAL(score_row(model, &v, 1, &b, NULL), ENG_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data,
                                  ",\"R01 longest gap, in days: 565\","));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, ",R03 last service 380 days ago,"));
    CU_ASSERT_EQUAL(b.data[b.len - 1], '\n');
    CU_ASSERT_PTR_NULL(strchr(b.data, '\r'));
    buf_release(&b);
}

static void test_score_missing_values_are_empty_cells(void)
{
    struct feat_vec f;
    features(&f);
    f.v[FEAT_DAYS_SINCE_LAST_SERVICE] = NAN;
    f.v[FEAT_EST_ANNUAL_KM] = NAN;
    f.v[FEAT_OVERDUE_OIL_CHANGE] = NAN;
    f.v[FEAT_ODOMETER_ROLLBACKS] = 0;
    f.v[FEAT_DATA_COMPLETENESS] = 1;
    f.first_day = HIST_NO_DAY;
    f.last_day = HIST_NO_DAY;
    f.last_km = NAN;
    struct batch_vehicle v = vehicle("1HGCM82633A004352", "ok", &f);
    char c[N_COLS + 4][MAX_FIELD];
    CU_ASSERT_EQUAL_FATAL(row_fields(&v, c), N_COLS);
    CU_ASSERT_STRING_EQUAL(c[C_FIRST], "");
    CU_ASSERT_STRING_EQUAL(c[C_LAST], "");
    CU_ASSERT_STRING_EQUAL(c[C_DAYS_SINCE], "");
    CU_ASSERT_STRING_EQUAL(c[C_LAST_KM], "");
    CU_ASSERT_STRING_EQUAL(c[C_ANNUAL_KM], "");
    CU_ASSERT_STRING_EQUAL(c[C_ROLLBACK], "0");
    CU_ASSERT_STRING_EQUAL(c[C_OVERDUE_OIL], "");
    CU_ASSERT_STRING_EQUAL(c[C_COMPLETENESS], "1");
    /* missing days are imputed at their centre: no reason of their own */
    CU_ASSERT_STRING_EQUAL(c[C_REASON_1], "R01 longest gap, in days: 565");
    CU_ASSERT_STRING_EQUAL(c[C_REASON_2], "");
    CU_ASSERT_STRING_NOT_EQUAL(c[C_SCORE], "");
}

static void test_score_other_statuses_keep_ids_and_drop_scores(void)
{
    struct feat_vec f;
    features(&f);
    static const char *const statuses[] = {
        "no_history", "error:PARSE", "error:AUTHENTICATION:EXPIRED",
        "error:INPUT:INVALID_VIN", "error:LIMIT"
    };
    for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
        for (int with_feat = 0; with_feat < 2; with_feat++) {
            struct batch_vehicle v = vehicle("1HGCM82633A00435X",
                                             statuses[s],
                                             with_feat ? &f : NULL);
            char c[N_COLS + 4][MAX_FIELD];
            CU_ASSERT_EQUAL_FATAL(row_fields(&v, c), N_COLS);
            CU_ASSERT_STRING_EQUAL(c[C_VIN], "1HGCM82633A00435X");
            CU_ASSERT_STRING_EQUAL(c[C_VEHICLE_ID], "veh-1");
            CU_ASSERT_STRING_EQUAL(c[C_POLICY_ID], "POL-9");
            CU_ASSERT_STRING_EQUAL(c[C_STATUS], statuses[s]);
            for (int k = C_SCORE; k <= C_REASON_4; k++)
                CU_ASSERT_STRING_EQUAL(c[k], "");
            /* the history's facts when there are features, else empty */
            CU_ASSERT_STRING_EQUAL(c[C_N_SERVICES], with_feat ? "7" : "");
            CU_ASSERT_STRING_EQUAL(c[C_LAST], with_feat ? "2023-12-01" : "");
            for (int k = C_N_SERVICES; !with_feat && k < C_MODEL_ID; k++)
                CU_ASSERT_STRING_EQUAL(c[k], "");
            CU_ASSERT_STRING_EQUAL(c[C_MODEL_ID], model_id(model));
        }
    }
    /* unknown identifiers are empty strings, still in their columns */
    struct batch_vehicle v = vehicle("", "error:INPUT:NO_FILE", NULL);
    v.vehicle_id = "";
    v.policy_id = "";
    char c[N_COLS + 4][MAX_FIELD];
    CU_ASSERT_EQUAL_FATAL(row_fields(&v, c), N_COLS);
    CU_ASSERT_STRING_EQUAL(c[C_VIN], "");
    CU_ASSERT_STRING_EQUAL(c[C_STATUS], "error:INPUT:NO_FILE");
}

static void test_score_neutralises_formulas(void)
{
    static const struct {
        const char *in, *field;
    } cases[] = {
        {"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
        {"+1x", "'+1x"}, {"-2+3", "'-2+3"}, {"@SUM(A1)", "'@SUM(A1)"},
        {"-", "'-"}, {"-1-", "'-1-"},
        /* plain numbers are ids and amounts, not formulas */
        {"-0042", "-0042"}, {"+1.5", "+1.5"}, {"-3e2", "-3e2"}, {"+1", "+1"},
        {"\tx", "'\tx"}, {"\rx", "'\rx"}, {"=1,2", "'=1,2"},
        {"P=1", "P=1"}, {"", ""}, {"'quoted", "'quoted"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct feat_vec f;
        features(&f);
        struct batch_vehicle v = vehicle(cases[i].in, "ok", &f);
        v.policy_id = cases[i].in;
        v.vehicle_id = cases[i].in;
        char c[N_COLS + 4][MAX_FIELD];
        CU_ASSERT_EQUAL_FATAL(row_fields(&v, c), N_COLS);
        CU_ASSERT_STRING_EQUAL(c[C_VIN], cases[i].field);
        CU_ASSERT_STRING_EQUAL(c[C_VEHICLE_ID], cases[i].field);
        CU_ASSERT_STRING_EQUAL(c[C_POLICY_ID], cases[i].field);
        CU_ASSERT_STRING_EQUAL(c[C_SCORE], "542");
    }
    /* error rows too */
    struct batch_vehicle v = vehicle("=cmd|' /C calc'!A0", "error:PARSE",
                                     NULL);
    char c[N_COLS + 4][MAX_FIELD];
    CU_ASSERT_EQUAL_FATAL(row_fields(&v, c), N_COLS);
    CU_ASSERT_STRING_EQUAL(c[C_VIN], "'=cmd|' /C calc'!A0");
}

static void test_score_without_the_guard_writes_text_as_it_is(void)
{
    struct feat_vec f;
    features(&f);
    struct batch_vehicle v = vehicle("=1+2", "ok", &f);
    v.policy_id = "-0042x";
    v.vehicle_id = "@a,b";
    char c[N_COLS + 4][MAX_FIELD];
    CU_ASSERT_EQUAL_FATAL(row_fields_guard(&v, 0, c), N_COLS);
    CU_ASSERT_STRING_EQUAL(c[C_VIN], "=1+2");
    CU_ASSERT_STRING_EQUAL(c[C_POLICY_ID], "-0042x");
    CU_ASSERT_STRING_EQUAL(c[C_VEHICLE_ID], "@a,b");
    CU_ASSERT_STRING_EQUAL(c[C_SCORE], "542");
    /* the same row with the guard */
    CU_ASSERT_EQUAL_FATAL(row_fields_guard(&v, 1, c), N_COLS);
    CU_ASSERT_STRING_EQUAL(c[C_VIN], "'=1+2");
    CU_ASSERT_STRING_EQUAL(c[C_POLICY_ID], "'-0042x");
}

static void test_score_quotes_commas_quotes_and_line_breaks(void)
{
    struct feat_vec f;
    features(&f);
    struct batch_vehicle v = vehicle("1HGCM82633A004352", "ok", &f);
    v.policy_id = "A,B";
    v.vehicle_id = "say \"hi\"";
    struct buf b;
    buf_init(&b, 1 << 16);
    CU_ASSERT_EQUAL_FATAL(score_row(model, &v, 1, &b, NULL), ENG_OK);
    static const char start[] =
        "1HGCM82633A004352,\"say \"\"hi\"\"\",\"A,B\",ok,";
    CU_ASSERT_EQUAL(strncmp(b.data, start, strlen(start)), 0);
    buf_release(&b);
    char c[N_COLS + 4][MAX_FIELD];
    CU_ASSERT_EQUAL_FATAL(row_fields(&v, c), N_COLS);
    CU_ASSERT_STRING_EQUAL(c[C_POLICY_ID], "A,B");
    CU_ASSERT_STRING_EQUAL(c[C_VEHICLE_ID], "say \"hi\"");
    /* a line break inside a field stays inside its quotes */
    v.policy_id = "two\nlines";
    buf_init(&b, 1 << 16);
    CU_ASSERT_EQUAL_FATAL(score_row(model, &v, 1, &b, NULL), ENG_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, ",\"two\nlines\","));
    buf_release(&b);
}

static void test_score_rows_have_as_many_columns_as_the_header(void)
{
    /* many shapes of rows, one buffer: every line has 21 fields */
    static const char *const ids[] = {"", "x", "a,b", "\"q\"", "=f", "-1"};
    static const char *const statuses[] = {"ok", "no_history",
                                           "error:PARSE"};
    struct buf b;
    buf_init(&b, 1 << 20);
    CU_ASSERT_EQUAL_FATAL(score_header(&b, NULL), ENG_OK);
    int rows = 0;
    for (int i = 0; i < 6 * 3 * 4; i++) {
        struct feat_vec f;
        features(&f);
        if (i % 4 == 1) {
            for (int k = 0; k < FEAT_COUNT; k++)
                f.v[k] = NAN;
            f.first_day = f.last_day = HIST_NO_DAY;
            f.last_km = NAN;
        }
        if (i % 4 == 2)
            f.v[FEAT_DAYS_SINCE_LAST_SERVICE] = 100000;
        const char *status = statuses[(i / 4) % 3];
        struct batch_vehicle v = vehicle(ids[i % 6], status,
                                         i % 4 == 3 ? NULL : &f);
        v.policy_id = ids[(i + 2) % 6];
        v.vehicle_id = ids[(i + 4) % 6];
        CU_ASSERT_EQUAL_FATAL(score_row(model, &v, 1, &b, NULL), ENG_OK);
        rows++;
    }
    /* walk the buffer line by line (no field here holds a newline) */
    int lines = 0;
    for (char *p = b.data; *p;) {
        char *nl = strchr(p, '\n');
        CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
        char line[1024];
        size_t len = (size_t)(nl - p) + 1;
        CU_ASSERT_FATAL(len < sizeof(line));
        memcpy(line, p, len);
        line[len] = '\0';
        char c[N_COLS + 4][MAX_FIELD];
        int n = split(line, c, N_COLS + 4);
        CU_ASSERT_EQUAL(n, N_COLS);
        if (n != N_COLS)
            fprintf(stderr, "\n  %d fields: %s", n, line);
        lines++;
        p = nl + 1;
    }
    CU_ASSERT_EQUAL(lines, rows + 1);
    buf_release(&b);
}

static void test_score_row_that_does_not_fit_leaves_the_buffer(void)
{
    struct feat_vec f;
    features(&f);
    struct batch_vehicle v = vehicle("1HGCM82633A004352", "ok", &f);
    struct buf b;
    buf_init(&b, 120);
    CU_ASSERT_EQUAL_FATAL(buf_adds(&b, "kept,", NULL), ENG_OK);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(score_row(model, &v, 1, &b, &err), ENG_ELIMIT);
    CU_ASSERT_EQUAL(err.code, ENG_ELIMIT);
    CU_ASSERT_EQUAL(b.len, 5);
    CU_ASSERT_STRING_EQUAL(b.data, "kept,");
    buf_release(&b);
}

static CU_TestInfo score_tests[] = {
    {"header is exactly the spec", test_score_header_is_exactly_the_spec},
    {"ok row holds every value", test_score_ok_row_holds_every_value},
    {"quotes reasons with commas", test_score_quotes_reasons_with_commas},
    {"missing values are empty cells",
     test_score_missing_values_are_empty_cells},
    {"other statuses keep ids and drop scores",
     test_score_other_statuses_keep_ids_and_drop_scores},
    {"neutralises formulas", test_score_neutralises_formulas},
    {"without the guard writes text as it is",
     test_score_without_the_guard_writes_text_as_it_is},
    {"quotes commas, quotes and line breaks",
     test_score_quotes_commas_quotes_and_line_breaks},
    {"rows have as many columns as the header",
     test_score_rows_have_as_many_columns_as_the_header},
    {"row that does not fit leaves the buffer",
     test_score_row_that_does_not_fit_leaves_the_buffer},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_score_suites[] = {
    {"score", suite_init, suite_clean, NULL, NULL, score_tests},
    CU_SUITE_INFO_NULL
};
