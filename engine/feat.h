/*
 * feat — the feature catalogue: pure functions of (records, schedule, as-of).
 *
 * feat_compute() turns one vehicle's parsed history into a struct feat_vec:
 * one double per catalogue column (insurance-facts §4), NAN where a feature
 * cannot be computed (too few readings, no cost, ...), plus the history's
 * main currency and the dates the score row reports.  It does not change its
 * inputs and keeps no state, so any number of threads may call it.
 *
 * Conventions:
 *   - records are deduplicated first (identical date, odometer, cost,
 *     currency, tasks and id); undated records count in n_records but not in
 *     time features; records dated after as_of are left out of everything
 *     but n_records;
 *   - a "visit" is a distinct service day: intervals are between visits;
 *   - the odometer features use the dated readings in date order; a
 *     decrease by more than FEAT_ROLLBACK_TOL_KM (or 1% of the highest
 *     earlier reading, whichever is larger) is a rollback unless the
 *     reading times 1.609344 fits the sequence (a miles/km slip, counted as
 *     an implausible segment instead).
 * The README's feature table gives each column's unit and definition.
 */
#ifndef FEAT_H
#define FEAT_H

#include "eng.h"

struct hist;
struct task_sched;

enum feat_id {
    FEAT_N_RECORDS,
    FEAT_N_DATED,
    FEAT_N_WITH_ODOMETER,
    FEAT_N_WITH_COST,
    FEAT_DUPLICATE_RECORDS,
    FEAT_SPAN_DAYS,
    FEAT_SERVICES_PER_YEAR,
    FEAT_INTERVAL_DAYS_MEDIAN,
    FEAT_INTERVAL_DAYS_CV,
    FEAT_INTERVAL_DAYS_MAX,
    FEAT_INTERVAL_KM_MEDIAN,
    FEAT_INTERVAL_KM_MAX,
    FEAT_DAYS_SINCE_LAST_SERVICE,
    FEAT_KM_PER_DAY,
    FEAT_ODOMETER_R2,
    FEAT_KM_PER_DAY_CV,
    FEAT_EST_ANNUAL_KM,
    FEAT_EST_CURRENT_KM,
    FEAT_ODOMETER_ROLLBACKS,
    FEAT_ROLLBACK_MAX_KM,
    FEAT_IMPLAUSIBLE_SEGMENTS,
    FEAT_OIL_CHANGES,
    FEAT_OIL_INTERVAL_KM_MEDIAN,
    FEAT_OIL_INTERVAL_DAYS_MEDIAN,
    FEAT_OIL_IN_SCHEDULE_SHARE,
    FEAT_OVERDUE_OIL_CHANGE,
    FEAT_OVERDUE_TIRE_ROTATION,
    FEAT_COST_TOTAL,
    FEAT_COST_PER_SERVICE_MEDIAN,
    FEAT_COST_PER_1000KM,
    FEAT_REPAIR_COST_SHARE,
    FEAT_CURRENCY,              /* a text column: see feat_vec.currency */
    FEAT_COST_OTHER_CURRENCY_RECORDS,
    FEAT_DEALER_SHARE,
    FEAT_TASK_CATEGORIES,
    FEAT_DATA_COMPLETENESS,
    /* beyond the minimum catalogue */
    FEAT_INTERVAL_SCHEDULE_RATIO,
    FEAT_TIRE_ROTATION_SHARE,
    FEAT_REPAIR_RECORD_SHARE,
    FEAT_ANNUAL_KM_CORRECTED,
    FEAT_VEHICLE_AGE_YEARS,
    FEAT_LOW_RATE_SEGMENTS,
    FEAT_FIRST_SERVICE_RATIO,
    FEAT_INTERVAL_RATIO_SPREAD,
    FEAT_DEALER_LOGIT,
    FEAT_TIRE_ROTATION_LOGIT,
    FEAT_HISTORY_FROM_NEW,
    FEAT_ROUTINE_ITEMS_OVERDUE,
    FEAT_COUNT
};

#define FEAT_ROLLBACK_TOL_KM 100.0
#define FEAT_MAX_KM_PER_DAY 400.0
#define FEAT_MAX_KM_PER_YEAR 64000.0
/* A stretch driven below this share of the usual pace is suspect. */
#define FEAT_LOW_RATE_SHARE 0.4
/* Readings must span this long before a rate is estimated from them. */
#define FEAT_MIN_SPAN_DAYS 90

/*
 * A history plausibly starts near new when its first odometer reading is
 * within FEAT_NEW_INTERVALS of the schedule's main distance interval (oil,
 * or tire rotation for a BEV) and its first visit within FEAT_NEW_DAYS of
 * the model year's start.
 */
#define FEAT_NEW_INTERVALS 1.5
#define FEAT_NEW_DAYS 548

/*
 * One vehicle's features.  v[] holds NAN both where a feature cannot be
 * computed (missing data) and where it does not apply to the vehicle;
 * feat_applies() tells the two apart from ptrain and
 * v[FEAT_HISTORY_FROM_NEW] alone, so a row read back from the features CSV
 * (with its powertrain column) means the same.
 */
struct feat_vec {
    double v[FEAT_COUNT];       /* NAN = not computable or not applicable */
    char currency[4];           /* main currency, "" when no cost */
    int ptrain;                 /* enum ptrain the features assumed */
    int ptrain_src;             /* enum ptrain_src: where it came from */
    long first_day;             /* first dated visit, or HIST_NO_DAY */
    long last_day;              /* last dated visit, or HIST_NO_DAY */
    double first_km;            /* first odometer reading, or NAN */
    double last_km;             /* last odometer reading, or NAN */
    /*
     * Not in the CSV: how far past due the oil change and the tire rotation
     * are (NAN when not overdue or not applicable), and their intervals,
     * for reasons that name the maker's schedule.
     */
    double oil_over_days, oil_over_km, oil_due_days, oil_due_km;
    double rot_over_days, rot_over_km, rot_due_days, rot_due_km;
};

/* Every value NAN, no currency or dates, powertrain unknown. */
void feat_vec_init(struct feat_vec *f);

/*
 * Does feature id apply to the vehicle f describes?  Not for a BEV: the
 * oil features (oil_changes, oil_interval_*, oil_in_schedule_share,
 * overdue_oil_change).  Not unless the history plausibly starts near new
 * (history_from_new = 1): first_service_ratio, the only feature about the
 * life before the first record.  Only for a BEV: routine_items_overdue.
 * Everything else applies.  A feature that
 * does not apply is NAN in v[] and empty in the CSV; the model gives it no
 * weight at all (neither value nor missing-data indicator).
 */
int feat_applies(int id, const struct feat_vec *f);

/* The CSV column name of a feature; NULL when id is out of range. */
const char *feat_name(int id);

/* The feature id of a column name, or -1. */
int feat_find(const char *name);

/*
 * Computes every feature of one history as of day as_of, with the vehicle's
 * schedule s and powertrain ptrain (enum ptrain; out->ptrain_src is left
 * PTRAIN_SRC_NONE for the caller to set).  start_day is when the vehicle's
 * life began as far as known (the model year's start), or HIST_NO_DAY.
 * Pace, intervals and coverage are measured over the observed window (first
 * to last record); nothing before the first record counts.  For a BEV the
 * "serviced on schedule" features (interval_schedule_ratio,
 * interval_ratio_spread, first_service_ratio) follow its routine visits
 * (tire rotation, filters, fluids, inspection) against the rotation
 * interval, and routine_items_overdue counts the schedule's time-based
 * items (cabin filter: a filters task; brake fluid: fluids and brakes;
 * coolant: fluids) past due, each clock starting at the first visit when
 * the item is not on record.  Returns ENG_OK with out filled, or
 * ENG_ENOMEM (out is then unchanged).
 */
int feat_compute(const struct hist *h, const struct task_sched *s,
                 long as_of, long start_day, int ptrain,
                 struct feat_vec *out, struct eng_err *err);

#endif
