/* Tests for sim_window: service-history windows and ISO instants. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "sim/sim_window.h"

static long day(int y, int m, int d)
{
    return eng_days_from_civil(y, m, d);
}

static void test_sim_window_default_is_the_last_year(void)
{
    struct sim_window w;
    long today = day(2026, 3, 1);
    CU_ASSERT_EQUAL(sim_window_resolve(NULL, NULL, today, &w, NULL), ENG_OK);
    CU_ASSERT_EQUAL(w.first_day, day(2025, 3, 1));
    CU_ASSERT_EQUAL(w.last_day, today);
    CU_ASSERT_EQUAL(w.explicit_start, 0);
}

static void test_sim_window_start_only_runs_to_today(void)
{
    struct sim_window w;
    long today = day(2026, 3, 1);
    CU_ASSERT_EQUAL(sim_window_resolve("2015-01-01", NULL, today, &w, NULL),
                    ENG_OK);
    CU_ASSERT_EQUAL(w.first_day, day(2015, 1, 1));
    CU_ASSERT_EQUAL(w.last_day, today);
    CU_ASSERT_EQUAL(w.explicit_start, 1);
}

static void test_sim_window_end_only_keeps_one_year(void)
{
    struct sim_window w;
    CU_ASSERT_EQUAL(sim_window_resolve(NULL, "2024-02-29", day(2026, 3, 1),
                                       &w, NULL), ENG_OK);
    CU_ASSERT_EQUAL(w.first_day, day(2023, 2, 28));
    CU_ASSERT_EQUAL(w.last_day, day(2024, 2, 29));
    CU_ASSERT_EQUAL(w.explicit_start, 0);
}

static void test_sim_window_accepts_full_date_times(void)
{
    struct sim_window w;
    CU_ASSERT_EQUAL(sim_window_resolve("2020-01-01T00:00:00.000Z",
                                       "2021-06-30T23:30:00-02:00",
                                       day(2026, 3, 1), &w, NULL), ENG_OK);
    CU_ASSERT_EQUAL(w.first_day, day(2020, 1, 1));
    CU_ASSERT_EQUAL(w.last_day, day(2021, 7, 1));   /* 01:30 UTC */
}

static void test_sim_window_refuses_bad_parameters(void)
{
    struct sim_window w = {7, 8, 1};
    struct eng_err err = {0};
    long today = day(2026, 3, 1);
    CU_ASSERT_EQUAL(sim_window_resolve("2015-13-01", NULL, today, &w, &err),
                    ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "start_date"));
    CU_ASSERT_EQUAL(sim_window_resolve(NULL, "yesterday", today, &w, &err),
                    ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "end_date"));
    CU_ASSERT_EQUAL(sim_window_resolve("", NULL, today, &w, NULL),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(sim_window_resolve("2022-01-02", "2022-01-01", today,
                                       &w, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "after"));
    CU_ASSERT_EQUAL(sim_window_resolve("1850-01-01", NULL, today, &w, NULL),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(w.first_day, 7);
    CU_ASSERT_EQUAL(w.last_day, 8);
}

static void test_sim_window_includes_bounds_and_undated_when_explicit(void)
{
    struct sim_window w = {day(2020, 1, 1), day(2020, 12, 31), 0};
    CU_ASSERT_TRUE(sim_window_includes(&w, 1, day(2020, 1, 1)));
    CU_ASSERT_TRUE(sim_window_includes(&w, 1, day(2020, 12, 31)));
    CU_ASSERT_FALSE(sim_window_includes(&w, 1, day(2019, 12, 31)));
    CU_ASSERT_FALSE(sim_window_includes(&w, 1, day(2021, 1, 1)));
    CU_ASSERT_FALSE(sim_window_includes(&w, 0, 0));
    w.explicit_start = 1;
    CU_ASSERT_TRUE(sim_window_includes(&w, 0, 0));
}

static void test_sim_window_year_before_handles_leap_day(void)
{
    CU_ASSERT_EQUAL(sim_window_year_before(day(2024, 2, 29)),
                    day(2023, 2, 28));
    CU_ASSERT_EQUAL(sim_window_year_before(day(2026, 3, 1)),
                    day(2025, 3, 1));
    CU_ASSERT_EQUAL(sim_window_year_before(day(2025, 1, 1)),
                    day(2024, 1, 1));
}

static void test_sim_window_parse_instant_forms(void)
{
    long long t = -1;
    CU_ASSERT_EQUAL(sim_window_parse_instant("1970-01-01T00:00:00Z", &t,
                                             NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, 0);
    CU_ASSERT_EQUAL(sim_window_parse_instant("2026-06-30T00:00:00Z", &t,
                                             NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, day(2026, 6, 30) * 86400LL);
    CU_ASSERT_EQUAL(sim_window_parse_instant("2026-06-30", &t, NULL),
                    ENG_OK);
    CU_ASSERT_EQUAL(t, day(2026, 6, 30) * 86400LL);
    CU_ASSERT_EQUAL(sim_window_parse_instant("2026-06-30T12:34:56.789Z", &t,
                                             NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, day(2026, 6, 30) * 86400LL + 12 * 3600 + 34 * 60
                       + 56);
    CU_ASSERT_EQUAL(sim_window_parse_instant("2026-06-30T02:00:00+02:00", &t,
                                             NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, day(2026, 6, 30) * 86400LL);
    CU_ASSERT_EQUAL(sim_window_parse_instant("2026-06-30T00:00-0130", &t,
                                             NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, day(2026, 6, 30) * 86400LL + 90 * 60);
}

static void test_sim_window_parse_instant_refuses_junk(void)
{
    long long t = 42;
    CU_ASSERT_EQUAL(sim_window_parse_instant(NULL, &t, NULL), ENG_EDATA);
    CU_ASSERT_EQUAL(sim_window_parse_instant("2026", &t, NULL), ENG_EDATA);
    CU_ASSERT_EQUAL(sim_window_parse_instant("2026-02-30T00:00:00Z", &t,
                                             NULL), ENG_EDATA);
    CU_ASSERT_EQUAL(sim_window_parse_instant("2026-01-01T25:00:00Z", &t,
                                             NULL), ENG_EDATA);
    CU_ASSERT_EQUAL(sim_window_parse_instant("2026-01-01T10:00:00Zjunk", &t,
                                             NULL), ENG_EDATA);
    CU_ASSERT_EQUAL(t, 42);
}

static void test_sim_window_format_instant_writes_iso_ms(void)
{
    char buf[SIM_WINDOW_INSTANT_LEN];
    sim_window_format_instant(0, buf);
    CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00.000Z");
    sim_window_format_instant((day(2026, 3, 1) * 86400LL + 3723) * 1000
                              + 45, buf);
    CU_ASSERT_STRING_EQUAL(buf, "2026-03-01T01:02:03.045Z");
    sim_window_format_instant(-1, buf);
    CU_ASSERT_STRING_EQUAL(buf, "1969-12-31T23:59:59.999Z");
}

static CU_TestInfo sim_window_tests[] = {
    {"the default window is the last year",
     test_sim_window_default_is_the_last_year},
    {"start_date alone runs to today",
     test_sim_window_start_only_runs_to_today},
    {"end_date alone keeps one year",
     test_sim_window_end_only_keeps_one_year},
    {"full date-times are accepted",
     test_sim_window_accepts_full_date_times},
    {"bad parameters are refused and name themselves",
     test_sim_window_refuses_bad_parameters},
    {"bounds are inclusive; undated records only when start is explicit",
     test_sim_window_includes_bounds_and_undated_when_explicit},
    {"a year before 29 February is 28 February",
     test_sim_window_year_before_handles_leap_day},
    {"instants parse in every ISO form",
     test_sim_window_parse_instant_forms},
    {"junk instants are refused", test_sim_window_parse_instant_refuses_junk},
    {"instants format as ISO with milliseconds",
     test_sim_window_format_instant_writes_iso_ms},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_sim_window_suites[] = {
    {"sim_window", NULL, NULL, NULL, NULL, sim_window_tests},
    CU_SUITE_INFO_NULL
};
