/* Tests for sim_rate: the application bucket and the per-vehicle window. */
#include <CUnit/CUnit.h>

#include "sim/sim_rate.h"

static void test_sim_rate_bucket_empties_then_refills(void)
{
    struct sim_rate_bucket b;
    sim_rate_bucket_init(&b, 3, 2, 100.0);     /* 2 a minute */
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 100.0), 1);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 100.0), 1);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 100.0), 1);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 100.0), 0);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 129.0), 0);  /* 0.97 token */
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 130.5), 1);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 130.5), 0);
}

static void test_sim_rate_bucket_refill_stops_at_capacity(void)
{
    struct sim_rate_bucket b;
    sim_rate_bucket_init(&b, 2, 60, 0.0);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 0.0), 1);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 0.0), 1);
    /* an hour idle refills two tokens, not 3600 */
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 3600.0), 1);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 3600.0), 1);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 3600.0), 0);
    CU_ASSERT_DOUBLE_EQUAL(b.tokens, 0.0, 1e-9);
}

static void test_sim_rate_bucket_zero_capacity_is_unlimited(void)
{
    struct sim_rate_bucket b;
    sim_rate_bucket_init(&b, 0, 0, 0.0);
    for (int i = 0; i < 10000; i++)
        CU_ASSERT_EQUAL_FATAL(sim_rate_bucket_take(&b, 0.0), 1);
}

static void test_sim_rate_bucket_ignores_time_going_back(void)
{
    struct sim_rate_bucket b;
    sim_rate_bucket_init(&b, 1, 60, 50.0);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 50.0), 1);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 10.0), 0);
    CU_ASSERT_EQUAL(sim_rate_bucket_take(&b, 51.0), 1);
}

static void test_sim_rate_window_limits_and_reports_wait(void)
{
    struct sim_rate_window w = {0, 0};
    CU_ASSERT_EQUAL(sim_rate_window_take(&w, 2, 10.0, 0.0), 0);
    CU_ASSERT_EQUAL(sim_rate_window_take(&w, 2, 10.0, 1.0), 0);
    CU_ASSERT_EQUAL(sim_rate_window_take(&w, 2, 10.0, 2.5), 8);  /* ceil */
    CU_ASSERT_EQUAL(sim_rate_window_take(&w, 2, 10.0, 9.9), 1);
    CU_ASSERT_EQUAL(sim_rate_window_take(&w, 2, 10.0, 10.0), 0);
    CU_ASSERT_EQUAL(sim_rate_window_take(&w, 2, 10.0, 10.5), 0);
    CU_ASSERT_EQUAL(sim_rate_window_take(&w, 2, 10.0, 11.0), 9);
}

static void test_sim_rate_window_refusals_are_not_counted(void)
{
    struct sim_rate_window w = {0, 0};
    CU_ASSERT_EQUAL(sim_rate_window_take(&w, 1, 5.0, 0.0), 0);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_TRUE(sim_rate_window_take(&w, 1, 5.0, 1.0) > 0);
    CU_ASSERT_EQUAL(w.count, 1);
    CU_ASSERT_EQUAL(sim_rate_window_take(&w, 1, 5.0, 5.0), 0);
}

static void test_sim_rate_window_zero_limit_is_unlimited(void)
{
    struct sim_rate_window w = {0, 0};
    for (int i = 0; i < 1000; i++)
        CU_ASSERT_EQUAL_FATAL(sim_rate_window_take(&w, 0, 1.0, 0.0), 0);
}

static CU_TestInfo sim_rate_tests[] = {
    {"the bucket empties, then refills at its rate",
     test_sim_rate_bucket_empties_then_refills},
    {"refill stops at capacity", test_sim_rate_bucket_refill_stops_at_capacity},
    {"capacity 0 is unlimited",
     test_sim_rate_bucket_zero_capacity_is_unlimited},
    {"time going back refills nothing",
     test_sim_rate_bucket_ignores_time_going_back},
    {"the vehicle window limits and reports the wait in whole seconds",
     test_sim_rate_window_limits_and_reports_wait},
    {"refused requests are not counted",
     test_sim_rate_window_refusals_are_not_counted},
    {"limit 0 is unlimited", test_sim_rate_window_zero_limit_is_unlimited},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_sim_rate_suites[] = {
    {"sim_rate", NULL, NULL, NULL, NULL, sim_rate_tests},
    CU_SUITE_INFO_NULL
};
