/* Tests for feat: each feature on hand-built histories. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat.h"
#include "hist.h"
#include "ptrain.h"
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
    CU_ASSERT_EQUAL_FATAL(feat_compute(&h, def, as_of, HIST_NO_DAY,
                                       PTRAIN_UNKNOWN, f, NULL), ENG_OK);
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
    CU_ASSERT_EQUAL_FATAL(feat_compute(&h, def, as_of, HIST_NO_DAY,
                                       PTRAIN_UNKNOWN, &f, NULL), 0);
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

/* feat_compute() with a schedule, a start day and a powertrain. */
static void compute_as(struct hist_rec *recs, size_t n, long as_of,
                       const struct task_sched *sc, long start, int ptrain,
                       struct feat_vec *f)
{
    struct hist h;
    hist_init(&h);
    h.rec = recs;
    h.n = n;
    CU_ASSERT_EQUAL_FATAL(feat_compute(&h, sc, as_of, start, ptrain, f,
                                       NULL), ENG_OK);
}

#define ROT TASK_BIT(TASK_TIRE_ROTATION)
#define FILT TASK_BIT(TASK_FILTERS)

static const int oil_feats[] = {
    FEAT_OIL_CHANGES, FEAT_OIL_INTERVAL_KM_MEDIAN,
    FEAT_OIL_INTERVAL_DAYS_MEDIAN, FEAT_OIL_IN_SCHEDULE_SHARE,
    FEAT_OVERDUE_OIL_CHANGE
};
#define N_OIL_FEATS (sizeof(oil_feats) / sizeof(oil_feats[0]))

static void test_feat_bev_has_no_oil_and_follows_its_rotation(void)
{
    const struct task_sched *tesla = task_sched_find(sched, "TESLA",
                                                     PTRAIN_BEV);
    long start = eng_days_from_civil(2021, 1, 1);
    long t0 = eng_days_from_civil(2021, 11, 1);
    /* rotation every 300 days / 10,000 km: exactly on Tesla's distance */
    struct hist_rec r[3] = {
        rec(t0, 10000, 90, "USD", ROT, HIST_SRC_DEALER),
        rec(t0 + 300, 20000, 90, "USD", ROT | FILT, HIST_SRC_DEALER),
        rec(t0 + 600, 30000, 90, "USD", ROT, HIST_SRC_DEALER),
    };
    struct feat_vec f;
    compute_as(r, 3, t0 + 700, tesla, start, PTRAIN_BEV, &f);
    CU_ASSERT_EQUAL(f.ptrain, PTRAIN_BEV);
    for (size_t i = 0; i < N_OIL_FEATS; i++) {
        CU_ASSERT(isnan(f.v[oil_feats[i]]));
        CU_ASSERT_FALSE(feat_applies(oil_feats[i], &f));
    }
    CU_ASSERT(isnan(f.oil_over_days) && isnan(f.oil_due_days));
    /* "serviced on schedule" from the routine visits: 1.0 = when due */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_SCHEDULE_RATIO], 1.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_TIRE_ROTATION], 0, TOL);
    /* 10,000 km at 10 months: starts near new, first service on time */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_HISTORY_FROM_NEW], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_FIRST_SERVICE_RATIO], 1.0, 1e-9);
    /* the same history for an unknown powertrain keeps the oil features:
     * no oil change on record is what a neglected engine looks like */
    compute_as(r, 3, t0 + 700, def, start, PTRAIN_UNKNOWN, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OIL_CHANGES], 0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_OIL_CHANGE], 1, TOL);
    CU_ASSERT_TRUE(feat_applies(FEAT_OVERDUE_OIL_CHANGE, &f));
}

static void test_feat_bev_routine_items_follow_the_makers_months(void)
{
    const struct task_sched *tesla = task_sched_find(sched, "TESLA",
                                                     PTRAIN_BEV);
    long t0 = eng_days_from_civil(2021, 11, 1);
    unsigned fluid = TASK_BIT(TASK_FLUIDS) | TASK_BIT(TASK_BRAKES);
    struct hist_rec r[3] = {
        rec(t0, 10000, 90, "USD", ROT, HIST_SRC_DEALER),
        rec(t0 + 700, 20000, 90, "USD", ROT | FILT, HIST_SRC_DEALER),
        rec(t0 + 1400, 30000, 90, "USD", ROT | FILT | fluid,
            HIST_SRC_DEALER),
    };
    struct feat_vec f;
    /* cabin filter 24 months, brake fluid 48: all done in time */
    compute_as(r, 3, t0 + 1500, tesla, HIST_NO_DAY, PTRAIN_BEV, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ROUTINE_ITEMS_OVERDUE], 0, TOL);
    /* the filter 24 months + 10% after its last change: overdue */
    compute_as(r, 3, t0 + 1400 + 804, tesla, HIST_NO_DAY, PTRAIN_BEV, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ROUTINE_ITEMS_OVERDUE], 1, TOL);
    /* never a brake fluid change: counted from the first visit, 48 months
     * + 10% = 1607 days */
    compute_as(r, 2, t0 + 1600, tesla, HIST_NO_DAY, PTRAIN_BEV, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ROUTINE_ITEMS_OVERDUE], 1, TOL);
    compute_as(r, 2, t0 + 1610, tesla, HIST_NO_DAY, PTRAIN_BEV, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_ROUTINE_ITEMS_OVERDUE], 2, TOL);
    /* not a BEV: does not apply */
    compute_as(r, 3, t0 + 1500, def, HIST_NO_DAY, PTRAIN_ICE, &f);
    CU_ASSERT(isnan(f.v[FEAT_ROUTINE_ITEMS_OVERDUE]));
    CU_ASSERT_FALSE(feat_applies(FEAT_ROUTINE_ITEMS_OVERDUE, &f));
}

static void test_feat_rotation_overdue_says_by_how_much(void)
{
    const struct task_sched *tesla = task_sched_find(sched, "TESLA",
                                                     PTRAIN_BEV);
    long t0 = eng_days_from_civil(2022, 3, 1);
    struct hist_rec r[1] = {rec(t0, 26000, 40, "USD", ROT, HIST_SRC_OWNER)};
    struct feat_vec f;
    compute_as(r, 1, t0 + 600, tesla, HIST_NO_DAY, PTRAIN_BEV, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_TIRE_ROTATION], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.rot_over_days, 600 - 12 * 30.4375, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.rot_due_days, 12 * 30.4375, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.rot_due_km, 10000, TOL);
}

static void test_feat_hybrid_keeps_its_oil_schedule(void)
{
    const struct task_sched *toy = task_sched_find(sched, "TOYOTA",
                                                   PTRAIN_HEV);
    long t0 = eng_days_from_civil(2022, 7, 1);
    struct hist_rec r[3] = {
        rec(t0, 8000, 90, "USD", OIL | ROT, HIST_SRC_DEALER),
        rec(t0 + 365, 24000, 90, "USD", OIL | ROT, HIST_SRC_DEALER),
        rec(t0 + 730, 40000, 90, "USD", OIL | ROT, HIST_SRC_DEALER),
    };
    struct feat_vec f;
    compute_as(r, 3, t0 + 800, toy, eng_days_from_civil(2022, 1, 1),
               PTRAIN_HEV, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OIL_CHANGES], 3, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OIL_IN_SCHEDULE_SHARE], 1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(f.oil_due_km, 16000, TOL);
    for (size_t i = 0; i < N_OIL_FEATS; i++)
        CU_ASSERT_TRUE(feat_applies(oil_feats[i], &f));
}

static void test_feat_used_car_history_starts_mid_life(void)
{
    const struct task_sched *honda = task_sched_for(sched, "HONDA");
    long start = eng_days_from_civil(2012, 1, 1);
    long t0 = eng_days_from_civil(2021, 3, 5);
    struct hist_rec r[4];
    for (int i = 0; i < 4; i++)
        r[i] = rec(t0 + 182 * i, 142000 + 8000 * i, 90, "USD", OIL | ROT,
                   HIST_SRC_DEALER);
    struct feat_vec f;
    compute_as(r, 4, t0 + 600, honda, start, PTRAIN_UNKNOWN, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_HISTORY_FROM_NEW], 0, TOL);
    CU_ASSERT(isnan(f.v[FEAT_FIRST_SERVICE_RATIO]));
    CU_ASSERT_FALSE(feat_applies(FEAT_FIRST_SERVICE_RATIO, &f));
    /* pace over the observed window only: 4 visits in 600 days */
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_SERVICES_PER_YEAR], 4 / (600 / 365.25),
                           1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_INTERVAL_SCHEDULE_RATIO], 0.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_OVERDUE_OIL_CHANGE], 0, TOL);

    /* low mileage but first seen 9 years after the model year: mid-life */
    for (int i = 0; i < 4; i++)
        r[i].km -= 140000;
    compute_as(r, 4, t0 + 600, honda, start, PTRAIN_UNKNOWN, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_HISTORY_FROM_NEW], 0, TOL);
    /* the same readings on a 2020 car: near new (2,000 km, 14 months) */
    compute_as(r, 4, t0 + 600, honda, eng_days_from_civil(2020, 1, 1),
               PTRAIN_UNKNOWN, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_HISTORY_FROM_NEW], 1, TOL);
    CU_ASSERT_FALSE(isnan(f.v[FEAT_FIRST_SERVICE_RATIO]));
    /* 18 months is the limit: 549 days after the start is mid-life */
    compute_as(r, 4, t0 + 600, honda, t0 - FEAT_NEW_DAYS, PTRAIN_UNKNOWN,
               &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_HISTORY_FROM_NEW], 1, TOL);
    compute_as(r, 4, t0 + 600, honda, t0 - FEAT_NEW_DAYS - 1,
               PTRAIN_UNKNOWN, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_HISTORY_FROM_NEW], 0, TOL);
    /* no model year and a low reading: cannot tell, so not applicable */
    compute_as(r, 4, t0 + 600, honda, HIST_NO_DAY, PTRAIN_UNKNOWN, &f);
    CU_ASSERT(isnan(f.v[FEAT_HISTORY_FROM_NEW]));
    CU_ASSERT(isnan(f.v[FEAT_FIRST_SERVICE_RATIO]));
    /* 1.5 oil intervals of distance is the limit (Honda: 24,000 km) */
    for (int i = 0; i < 4; i++)
        r[i].km = 24001 + 8000 * i;
    compute_as(r, 4, t0 + 600, honda, eng_days_from_civil(2020, 1, 1),
               PTRAIN_UNKNOWN, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.v[FEAT_HISTORY_FROM_NEW], 0, TOL);
}

static void test_feat_vec_init_is_all_unknown(void)
{
    struct feat_vec f;
    memset(&f, 0x5a, sizeof(f));
    feat_vec_init(&f);
    for (int i = 0; i < FEAT_COUNT; i++)
        CU_ASSERT(isnan(f.v[i]));
    CU_ASSERT_EQUAL(f.ptrain, PTRAIN_UNKNOWN);
    CU_ASSERT_EQUAL(f.ptrain_src, PTRAIN_SRC_NONE);
    CU_ASSERT_EQUAL(f.first_day, HIST_NO_DAY);
    CU_ASSERT_STRING_EQUAL(f.currency, "");
    CU_ASSERT(isnan(f.oil_over_days) && isnan(f.rot_due_km));
    /* everything applies but the first service, unknown whether new */
    CU_ASSERT_TRUE(feat_applies(FEAT_OIL_CHANGES, &f));
    CU_ASSERT_FALSE(feat_applies(FEAT_FIRST_SERVICE_RATIO, &f));
    CU_ASSERT_FALSE(feat_applies(FEAT_COUNT, &f));
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
    {"a BEV has no oil and follows its rotation",
     test_feat_bev_has_no_oil_and_follows_its_rotation},
    {"a BEV's routine items follow the maker's months",
     test_feat_bev_routine_items_follow_the_makers_months},
    {"a rotation overdue says by how much",
     test_feat_rotation_overdue_says_by_how_much},
    {"a hybrid keeps its oil schedule",
     test_feat_hybrid_keeps_its_oil_schedule},
    {"a used car's history starts mid-life",
     test_feat_used_car_history_starts_mid_life},
    {"feat_vec_init is all unknown", test_feat_vec_init_is_all_unknown},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_feat_suites[] = {
    {"feat", suite_init, suite_clean, NULL, NULL, feat_tests},
    CU_SUITE_INFO_NULL
};
