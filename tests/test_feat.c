/* Tests for feat: each feature on hand-built histories. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat.h"
#include "hist.h"
#include "task.h"

#define TOL 1e-9

static struct task_sched_table *sched;
static const struct task_sched *def;
static long d0;

static int suite_init(void)
{
    sched = task_sched_load("../data/schedules.tsv", "../data/makes.tsv",
                            NULL);
    def = sched ? task_sched_for(sched, NULL) : NULL;
    d0 = eng_days_from_civil(2020, 1, 1);
    return sched ? 0 : -1;
}

static int suite_clean(void)
{
    task_sched_free(sched);
    return 0;
}

static struct hist_rec rec(long day, double km, double cost,
                           const char *cur, unsigned cats, int source)
{
    struct hist_rec r;
    memset(&r, 0, sizeof(r));
    r.day = day;
    r.km = km;
    r.cost = cost;
    snprintf(r.currency, sizeof(r.currency), "%s", cur);
    r.cats = cats;
    r.n_tasks = cats ? 1 : 0;
    r.source = source;
    return r;
}

static void compute(struct hist_rec *recs, size_t n, long as_of,
                    struct feat_vec *f)
{
    struct hist h;
    hist_init(&h);
    h.rec = recs;
    h.n = n;
    CU_ASSERT_EQUAL_FATAL(feat_compute(&h, def, as_of, HIST_NO_DAY, 0, f, NULL), ENG_OK);
}

#define OIL TASK_BIT(TASK_OIL)

static void test_feat_regular_history_gives_exact_features(void)
{
    struct hist_rec r[4] = {
        rec(d0, 10000, 80, "USD", OIL, HIST_SRC_DEALER),
        rec(d0 + 180, 16000, 80, "USD", OIL, HIST_SRC_DEALER),
        rec(d0 + 360, 22000, 80, "USD", OIL, HIST_SRC_DEALER),
        rec(d0 + 540, 28000, 80, "USD", OIL, HIST_SRC_OWNER),
    };
    struct feat_vec f;
    compute(r, 4, d0 + 600, &f);
    double slope = 6000.0 / 180.0;
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_RECORDS], 4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_DATED], 4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_WITH_ODOMETER], 4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_WITH_COST], 4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_DUPLICATE_RECORDS], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_SPAN_DAYS], 540, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_SERVICES_PER_YEAR], 4 / (600 / 365.25),
                           TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_DAYS_MEDIAN], 180, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_DAYS_CV], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_DAYS_MAX], 180, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_KM_MEDIAN], 6000, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_KM_MAX], 6000, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_DAYS_SINCE_LAST_SERVICE], 60, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_KM_PER_DAY], slope, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ODOMETER_R2], 1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_KM_PER_DAY_CV], 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_EST_ANNUAL_KM], slope * 365.25, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_EST_CURRENT_KM], 30000, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ODOMETER_ROLLBACKS], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ROLLBACK_MAX_KM], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_IMPLAUSIBLE_SEGMENTS], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OIL_CHANGES], 4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OIL_INTERVAL_KM_MEDIAN], 6000, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OIL_INTERVAL_DAYS_MEDIAN], 180, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OIL_IN_SCHEDULE_SHARE], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_OIL_CHANGE], 0, TOL);
    /* never rotated, first service 600 days ago: past 12 months + 10% */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_TIRE_ROTATION], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_COST_TOTAL], 320, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_COST_PER_SERVICE_MEDIAN], 80, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_COST_PER_1000KM], 320.0 / 18.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_REPAIR_COST_SHARE], 0, TOL);
    CU_ASSERT_STRING_EQUAL(f.currency, "USD");
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_COST_OTHER_CURRENCY_RECORDS], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_DEALER_SHARE], 0.75, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_TASK_CATEGORIES], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_DATA_COMPLETENESS], 1, TOL);
    CU_ASSERT_EQUAL(f.first_day, d0);
    CU_ASSERT_EQUAL(f.last_day, d0 + 540);
    CU_ASSERT_DOUBLE_EQUAL(f.last_km, 28000, TOL);
}

static void test_feat_irregular_intervals_give_cv_and_max(void)
{
    struct hist_rec r[4] = {
        rec(d0, 1000, NAN, "", OIL, 0),
        rec(d0 + 100, 3000, NAN, "", OIL, 0),
        rec(d0 + 400, 9000, NAN, "", OIL, 0),
        rec(d0 + 600, 13000, NAN, "", OIL, 0),
    };
    struct feat_vec f;
    compute(r, 4, d0 + 700, &f);
    /* intervals 100, 300, 200: mean 200, sample sd 100 */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_DAYS_MEDIAN], 200, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_DAYS_CV], 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_DAYS_MAX], 300, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_KM_MAX], 6000, TOL);
    /* every reading gives 20 km/day: cv 0, exact line */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_KM_PER_DAY], 20, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_KM_PER_DAY_CV], 0, 1e-12);
    /* no cost anywhere */
    CU_ASSERT(isnan(f.v[FEAT_COST_TOTAL]));
    CU_ASSERT(isnan(f.v[FEAT_DEALER_SHARE]));
    CU_ASSERT_STRING_EQUAL(f.currency, "");
    /* date, odometer, task: 3 of 5 */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_DATA_COMPLETENESS], 0.6, 1e-12);
}

static void test_feat_counts_rollbacks_beyond_tolerance(void)
{
    struct hist_rec r[4] = {
        rec(d0, 10000, NAN, "", OIL, 0),
        rec(d0 + 200, 20000, NAN, "", OIL, 0),
        rec(d0 + 300, 19950, NAN, "", OIL, 0),   /* within tolerance */
        rec(d0 + 400, 8000, NAN, "", OIL, 0),    /* rolled back */
    };
    struct feat_vec f;
    compute(r, 4, d0 + 500, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ODOMETER_ROLLBACKS], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ROLLBACK_MAX_KM], 12000, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_IMPLAUSIBLE_SEGMENTS], 0, TOL);
}

static void test_feat_tells_a_unit_slip_from_a_rollback(void)
{
    struct hist_rec r[4] = {
        rec(d0, 10000, NAN, "", OIL, 0),
        rec(d0 + 300, 20000, NAN, "", OIL, 0),
        rec(d0 + 600, 30000 / 1.609344, NAN, "", OIL, 0),
        rec(d0 + 900, 40000, NAN, "", OIL, 0),
    };
    struct feat_vec f;
    compute(r, 4, d0 + 950, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ODOMETER_ROLLBACKS], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_IMPLAUSIBLE_SEGMENTS], 1, TOL);
}

static void test_feat_flags_implausible_rates(void)
{
    struct hist_rec r[3] = {
        rec(d0, 10000, NAN, "", OIL, 0),
        rec(d0 + 10, 30000, NAN, "", OIL, 0),     /* 2,000 km/day */
        rec(d0 + 375, 110000, NAN, "", OIL, 0),   /* 80,000 km/year */
    };
    struct feat_vec f;
    compute(r, 3, d0 + 400, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_IMPLAUSIBLE_SEGMENTS], 2, TOL);
}

static void test_feat_drops_duplicates_undated_and_future_records(void)
{
    struct hist_rec r[5] = {
        rec(d0, 10000, 50, "USD", OIL, HIST_SRC_DEALER),
        rec(d0, 10000, 50, "USD", OIL, HIST_SRC_DEALER),
        rec(HIST_NO_DAY, 12000, NAN, "", TASK_BIT(TASK_BRAKES), 0),
        rec(d0 + 100, 12000, 60, "USD", OIL, HIST_SRC_DEALER),
        rec(d0 + 900, 30000, 70, "USD", OIL, HIST_SRC_DEALER),
    };
    struct feat_vec f;
    compute(r, 5, d0 + 200, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_RECORDS], 5, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_DUPLICATE_RECORDS], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_DATED], 2, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OIL_CHANGES], 2, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_COST_TOTAL], 110, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_TASK_CATEGORIES], 2, TOL);
    CU_ASSERT_EQUAL(f.last_day, d0 + 100);
}

static void test_feat_uses_the_main_currency(void)
{
    struct hist_rec r[4] = {
        rec(d0, 1000, 100, "USD", OIL, 0),
        rec(d0 + 100, 3000, 300, "USD", TASK_BIT(TASK_REPAIR), 0),
        rec(d0 + 200, 5000, 900, "CAD", OIL, 0),
        rec(d0 + 300, 7000, 100, "", OIL, 0),     /* no currency: main */
    };
    struct feat_vec f;
    compute(r, 4, d0 + 400, &f);
    CU_ASSERT_STRING_EQUAL(f.currency, "USD");
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_COST_OTHER_CURRENCY_RECORDS], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_COST_TOTAL], 500, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_COST_PER_SERVICE_MEDIAN], 100, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_REPAIR_COST_SHARE], 0.6, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_COST_PER_1000KM], 500.0 / 6.0, 1e-9);
}

static void test_feat_overdue_by_distance_or_time(void)
{
    /* 200 km/day: 20,000 km in the 100 days since the last oil change */
    struct hist_rec r[2] = {
        rec(d0, 10000, NAN, "", OIL | TASK_BIT(TASK_TIRE_ROTATION), 0),
        rec(d0 + 100, 30000, NAN, "", OIL | TASK_BIT(TASK_TIRE_ROTATION), 0),
    };
    struct feat_vec f;
    compute(r, 2, d0 + 200, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_OIL_CHANGE], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_TIRE_ROTATION], 1, TOL);
    /* 10 km/day, 30 days on: neither */
    struct hist_rec s[2] = {
        rec(d0, 10000, NAN, "", OIL | TASK_BIT(TASK_TIRE_ROTATION), 0),
        rec(d0 + 100, 11000, NAN, "", OIL | TASK_BIT(TASK_TIRE_ROTATION), 0),
    };
    compute(s, 2, d0 + 130, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_OIL_CHANGE], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_TIRE_ROTATION], 0, TOL);
    /* by time alone: 13 months with hardly any driving */
    compute(s, 2, d0 + 100 + 410, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_OIL_CHANGE], 1, TOL);
}

static void test_feat_empty_history_is_mostly_not_computable(void)
{
    struct feat_vec f;
    compute(NULL, 0, d0, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_RECORDS], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_DATA_COMPLETENESS], 0, TOL);
    CU_ASSERT(isnan(f.v[FEAT_DAYS_SINCE_LAST_SERVICE]));
    CU_ASSERT(isnan(f.v[FEAT_OVERDUE_OIL_CHANGE]));
    CU_ASSERT(isnan(f.v[FEAT_KM_PER_DAY]));
    CU_ASSERT_EQUAL(f.first_day, HIST_NO_DAY);
}

static void test_feat_example_response_matches_hand_computation(void)
{
    FILE *fp = fopen("data/hist/example-response.json", "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    char body[4096];
    size_t n = fread(body, 1, sizeof(body), fp);
    fclose(fp);
    struct task_map *tasks = task_map_load("../data/tasks.tsv", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tasks);
    struct hist h;
    hist_init(&h);
    struct hist_limits lim;
    hist_limits_default(&lim);
    CU_ASSERT_EQUAL_FATAL(hist_parse(&h, body, n, 0, &lim, tasks, NULL), 0);
    long as_of = eng_days_from_civil(2024, 1, 1);
    struct feat_vec f;
    CU_ASSERT_EQUAL_FATAL(feat_compute(&h, def, as_of, HIST_NO_DAY, 0, &f, NULL), 0);
    /* one record, 2023-06-28, 46,047.22 km, no cost, unknown source */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_RECORDS], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_WITH_ODOMETER], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_N_WITH_COST], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_SPAN_DAYS], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_DAYS_SINCE_LAST_SERVICE], 187, TOL);
    /* one visit over max(0.5, 187/365.25) years */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_SERVICES_PER_YEAR], 365.25 / 187, 1e-9);
    CU_ASSERT(isnan(f.v[FEAT_INTERVAL_DAYS_MEDIAN]));
    CU_ASSERT(isnan(f.v[FEAT_KM_PER_DAY]));
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OIL_CHANGES], 0, TOL);
    /* 187 days < 12 months + 10%, no distance known: not overdue */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_OIL_CHANGE], 0, TOL);
    CU_ASSERT(isnan(f.v[FEAT_COST_TOTAL]));
    CU_ASSERT(isnan(f.v[FEAT_DEALER_SHARE]));
    /* "Service Task 0" is no known category */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_TASK_CATEGORIES], 0, TOL);
    /* date and odometer: 2 of 5 core fields */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_DATA_COMPLETENESS], 0.4, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(f.last_km, 46047.22, 1e-9);
    hist_release(&h);
    task_map_free(tasks);
}

static void test_feat_names_round_trip(void)
{
    for (int i = 0; i < FEAT_COUNT; i++)
        CU_ASSERT_EQUAL(feat_find(feat_name(i)), i);
    CU_ASSERT_EQUAL(feat_find("no_such_feature"), -1);
    CU_ASSERT_PTR_NULL(feat_name(FEAT_COUNT));
}

static CU_TestInfo feat_tests[] = {
    {"a regular history gives exact features",
     test_feat_regular_history_gives_exact_features},
    {"irregular intervals give cv and max",
     test_feat_irregular_intervals_give_cv_and_max},
    {"counts rollbacks beyond tolerance",
     test_feat_counts_rollbacks_beyond_tolerance},
    {"tells a unit slip from a rollback",
     test_feat_tells_a_unit_slip_from_a_rollback},
    {"flags implausible rates", test_feat_flags_implausible_rates},
    {"drops duplicates, undated and future records",
     test_feat_drops_duplicates_undated_and_future_records},
    {"uses the main currency", test_feat_uses_the_main_currency},
    {"overdue by distance or time", test_feat_overdue_by_distance_or_time},
    {"an empty history is mostly not computable",
     test_feat_empty_history_is_mostly_not_computable},
    {"the example response matches the hand computation",
     test_feat_example_response_matches_hand_computation},
    {"names round-trip", test_feat_names_round_trip},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_feat_suites[] = {
    {"feat", suite_init, suite_clean, NULL, NULL, feat_tests},
    CU_SUITE_INFO_NULL
};
