/* Tests for eng: error setting and calendar days. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "eng.h"

static void test_eng_err_set_returns_code_and_formats(void)
{
    struct eng_err err = {0};
    int rc = eng_err_set(&err, ENG_EIO, "cannot open '%s'", "x.csv");
    CU_ASSERT_EQUAL(rc, ENG_EIO);
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    CU_ASSERT_STRING_EQUAL(err.msg, "cannot open 'x.csv'");
    CU_ASSERT_EQUAL(eng_err_set(NULL, ENG_ENOMEM, "x"), ENG_ENOMEM);
}

static void test_eng_days_round_trip_over_four_centuries(void)
{
    CU_ASSERT_EQUAL(eng_days_from_civil(1970, 1, 1), 0);
    CU_ASSERT_EQUAL(eng_days_from_civil(2000, 3, 1), 11017);
    for (long d = -150000; d < 150000; d += 7) {
        int y, m, dd;
        eng_civil_from_days(d, &y, &m, &dd);
        CU_ASSERT_EQUAL_FATAL(eng_days_from_civil(y, m, dd), d);
    }
}

static void test_eng_parse_day_accepts_iso_forms(void)
{
    long d = -1;
    CU_ASSERT_EQUAL(eng_parse_day("2023-06-28T22:21:41.583Z", 1980, 2100,
                                  &d, NULL), ENG_OK);
    CU_ASSERT_EQUAL(d, eng_days_from_civil(2023, 6, 28));
    CU_ASSERT_EQUAL(eng_parse_day("2022-06-15", 1980, 2100, &d, NULL), 0);
    CU_ASSERT_EQUAL(d, eng_days_from_civil(2022, 6, 15));
    /* 23:30 at -02:00 is 01:30 UTC the next day */
    CU_ASSERT_EQUAL(eng_parse_day("2022-06-15T23:30:00-02:00", 1980, 2100,
                                  &d, NULL), 0);
    CU_ASSERT_EQUAL(d, eng_days_from_civil(2022, 6, 16));
    CU_ASSERT_EQUAL(eng_parse_day("2024-02-29", 1980, 2100, &d, NULL), 0);
}

static void test_eng_parse_day_rejects_impossible_dates(void)
{
    struct eng_err err = {0};
    long d = 42;
    CU_ASSERT_EQUAL(eng_parse_day("2023-13-45", 1980, 2100, &d, &err),
                    ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "impossible date"));
    CU_ASSERT_EQUAL(d, 42);
    CU_ASSERT_EQUAL(eng_parse_day("2023-02-29", 1980, 2100, &d, NULL),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(eng_parse_day("1900-01-01", 1980, 2100, &d, &err),
                    ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "out of range"));
    CU_ASSERT_EQUAL(eng_parse_day("2200-01-01", 1980, 2100, &d, NULL),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(eng_parse_day("2023-06", 1980, 2100, &d, NULL),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(eng_parse_day("2023-06-01junk", 1980, 2100, &d, NULL),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(eng_parse_day("", 1980, 2100, &d, NULL), ENG_EDATA);
    CU_ASSERT_EQUAL(d, 42);
}

static void test_eng_format_day_writes_iso(void)
{
    char buf[11];
    eng_format_day(eng_days_from_civil(2015, 1, 9), buf);
    CU_ASSERT_STRING_EQUAL(buf, "2015-01-09");
}

static CU_TestInfo eng_tests[] = {
    {"eng_err_set returns the code and formats",
     test_eng_err_set_returns_code_and_formats},
    {"days round-trip over four centuries",
     test_eng_days_round_trip_over_four_centuries},
    {"parse_day accepts ISO forms", test_eng_parse_day_accepts_iso_forms},
    {"parse_day rejects impossible dates",
     test_eng_parse_day_rejects_impossible_dates},
    {"format_day writes ISO", test_eng_format_day_writes_iso},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_eng_suites[] = {
    {"eng", NULL, NULL, NULL, NULL, eng_tests},
    CU_SUITE_INFO_NULL
};
