/* Tests for vinmap (the VIN table) and label (claims labels, truth). */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "label.h"
#include "vinmap.h"

#define TMP_DIR "tmp"

static const char *write_text(const char *name, const char *text)
{
    static char path[256];
    mkdir(TMP_DIR, 0777);
    snprintf(path, sizeof(path), TMP_DIR "/%s", name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    CU_ASSERT_EQUAL(fclose(f), 0);
    return path;
}

/* ---------------- vinmap ---------------- */

struct pair {
    long a;
    double b;
};

static void test_vinmap_keeps_every_value_across_growth(void)
{
    struct vinmap *m = vinmap_new(sizeof(struct pair), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    const int n = 20000;
    char vin[32];          /* room for any int; the keys are 17 */
    for (int i = 0; i < n; i++) {
        snprintf(vin, sizeof(vin), "1FTEW1E5%09u", (unsigned)i);
        int added = -1;
        struct pair *p = vinmap_put(m, vin, &added, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL(added, 1);
        CU_ASSERT_EQUAL(p->a, 0);           /* new values start zeroed */
        p->a = i;
        p->b = i / 2.0;
    }
    CU_ASSERT_EQUAL(vinmap_count(m), (size_t)n);
    int wrong = 0;
    for (int i = 0; i < n; i++) {
        snprintf(vin, sizeof(vin), "1FTEW1E5%09u", (unsigned)i);
        const struct pair *p = vinmap_get(m, vin);
        if (!p || p->a != i || fabs(p->b - i / 2.0) > 1e-12)
            wrong++;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    int added = -1;
    struct pair *p = vinmap_put(m, "1FTEW1E5000000007", &added, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(added, 0);
    CU_ASSERT_EQUAL(p->a, 7);
    CU_ASSERT_EQUAL(vinmap_count(m), (size_t)n);
    CU_ASSERT_PTR_NULL(vinmap_get(m, "1FTEW1E500000000X"));
    vinmap_free(m);
    vinmap_free(NULL);
}

static void test_vinmap_refuses_empty_and_long_keys(void)
{
    struct vinmap *m = vinmap_new(8, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(vinmap_put(m, "", NULL, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EDATA);
    CU_ASSERT_PTR_NULL(vinmap_put(m, "1HGCM82633A0043521", NULL, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "18 characters"));
    CU_ASSERT_EQUAL(vinmap_count(m), 0);
    /* a long key is never found, not even by its first 17 characters */
    CU_ASSERT_PTR_NOT_NULL(vinmap_put(m, "1HGCM82633A004352", NULL, NULL));
    CU_ASSERT_PTR_NULL(vinmap_get(m, "1HGCM82633A0043521"));
    CU_ASSERT_PTR_NULL(vinmap_get(m, ""));
    vinmap_free(m);
}

/* ---------------- label ---------------- */

static struct label_set *load(const char *text, enum label_kind kind,
                              struct eng_err *err)
{
    return label_load(write_text("labels.csv", text), kind, err);
}

static void test_label_load_reads_claims_with_defaults(void)
{
    struct eng_err err = {0};
    struct label_set *s = load("vin,exposure_years,claim_count,claim_amount,"
                               "weight,other\n"
                               "1HGCM82633A004352,0.5,2,1200.5,,x\n"
                               /* a non-binding check digit is a VIN */
                               "JH4KA8260MC000001,1,0,,3,y\n", LABEL_CLAIMS,
                               &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(label_count(s), 2);
    const struct label *l = label_find(s, "1HGCM82633A004352");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_DOUBLE_EQUAL(l->claims, 2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(l->exposure, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(l->amount, 1200.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(l->weight, 1, 1e-12);
    CU_ASSERT_TRUE(isnan(l->truth));
    CU_ASSERT_EQUAL(l->line, 2);
    l = label_find(s, "JH4KA8260MC000001");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_TRUE(isnan(l->amount));
    CU_ASSERT_DOUBLE_EQUAL(l->weight, 3, 1e-12);
    CU_ASSERT_PTR_NULL(label_find(s, "11111111111111111"));
    label_free(s);
    label_free(NULL);
}

static void test_label_load_reads_a_truth_file(void)
{
    struct eng_err err = {0};
    struct label_set *s = load("vin,true_frequency\n"
                               "1HGCM82633A004352,0.125\n", LABEL_TRUTH,
                               &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    const struct label *l = label_find(s, "1HGCM82633A004352");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_DOUBLE_EQUAL(l->truth, 0.125, 1e-12);
    label_free(s);
    CU_ASSERT_PTR_NULL(load("vin,true_frequency\n1HGCM82633A004352,\n",
                            LABEL_TRUTH, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "tmp/labels.csv:2: vin "
                           "'1HGCM82633A004352': true_frequency must be a "
                           "number, not ''");
    CU_ASSERT_PTR_NULL(load("vin,claim_count\n1HGCM82633A004352,1\n",
                            LABEL_TRUTH, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "truth 'tmp/labels.csv' needs columns "
                           "vin and true_frequency");
}

/* Loads one claims row after a good one; returns the error message. */
static const char *refuse(const char *row)
{
    static struct eng_err err;
    char text[256];
    snprintf(text, sizeof(text), "vin,claim_count,exposure_years,weight\n"
             "11111111111111111,0,1,\n%s\n", row);
    memset(&err, 0, sizeof(err));
    struct label_set *s = load(text, LABEL_CLAIMS, &err);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(err.code, ENG_EDATA);
    label_free(s);
    return err.msg;
}

static void test_label_load_refuses_bad_rows_with_their_line(void)
{
    /* a long VIN is refused, not cut to fit */
    CU_ASSERT_STRING_EQUAL(refuse("1HGCM82633A0043529,1,1,"),
                           "tmp/labels.csv:3: vin '1HGCM82633A0043529' is "
                           "not a VIN: vin has 18 characters, not 17");
    CU_ASSERT_STRING_EQUAL(refuse(",1,1,"), "tmp/labels.csv:3: vin '' is "
                           "not a VIN: vin is empty");
    CU_ASSERT_PTR_NOT_NULL(strstr(refuse("1HGCM82643A004352,1,1,"),
                                  "check digit is '4', expected '3'"));
    CU_ASSERT_STRING_EQUAL(refuse("1HGCM82633A004352,1,0,"),
                           "tmp/labels.csv:3: vin '1HGCM82633A004352': "
                           "exposure_years must be a number > 0, not '0'");
    CU_ASSERT_PTR_NOT_NULL(strstr(refuse("1HGCM82633A004352,1,-1,"),
                                  "exposure_years must be a number > 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(refuse("1HGCM82633A004352,1,,"),
                                  "exposure_years must be a number > 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(refuse("1HGCM82633A004352,-1,1,"),
                                  "claim_count must be a number >= 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(refuse("1HGCM82633A004352,1,inf,"),
                                  "exposure_years"));
    CU_ASSERT_PTR_NOT_NULL(strstr(refuse("1HGCM82633A004352,1,1,-2"),
                                  "weight must be a number >= 0"));
    CU_ASSERT_STRING_EQUAL(refuse("11111111111111111,2,1,"),
                           "tmp/labels.csv:3: vin '11111111111111111' "
                           "appears twice (first on line 2)");
}

static void test_label_load_fails_on_missing_columns_and_files(void)
{
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(load("vin,claim_count\n1HGCM82633A004352,1\n",
                            LABEL_CLAIMS, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EDATA);
    CU_ASSERT_STRING_EQUAL(err.msg, "labels 'tmp/labels.csv' need columns "
                           "vin, claim_count and exposure_years");
    CU_ASSERT_PTR_NULL(label_load("tmp/no-such-labels.csv", LABEL_CLAIMS,
                                  &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
}

static CU_TestInfo label_tests[] = {
    {"vinmap keeps every value across growth",
     test_vinmap_keeps_every_value_across_growth},
    {"vinmap refuses empty and long keys",
     test_vinmap_refuses_empty_and_long_keys},
    {"load reads claims with defaults",
     test_label_load_reads_claims_with_defaults},
    {"load reads a truth file", test_label_load_reads_a_truth_file},
    {"load refuses bad rows with their line",
     test_label_load_refuses_bad_rows_with_their_line},
    {"load fails on missing columns and files",
     test_label_load_fails_on_missing_columns_and_files},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_label_suites[] = {
    {"label", NULL, NULL, NULL, NULL, label_tests},
    CU_SUITE_INFO_NULL
};
