/* feat — maintenance features from one vehicle's records. */
#include "feat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "hist.h"
#include "ptrain.h"
#include "task.h"

#define DAYS_PER_YEAR 365.25

static const char *const names[FEAT_COUNT] = {
    "n_records", "n_dated", "n_with_odometer", "n_with_cost",
    "duplicate_records", "span_days", "services_per_year",
    "interval_days_median", "interval_days_cv", "interval_days_max",
    "interval_km_median", "interval_km_max", "days_since_last_service",
    "km_per_day", "odometer_r2", "km_per_day_cv", "est_annual_km",
    "est_current_km", "odometer_rollbacks", "rollback_max_km",
    "implausible_segments", "oil_changes", "oil_interval_km_median",
    "oil_interval_days_median", "oil_in_schedule_share",
    "overdue_oil_change", "overdue_tire_rotation", "cost_total",
    "cost_per_service_median", "cost_per_1000km", "repair_cost_share",
    "currency", "cost_other_currency_records", "dealer_share",
    "task_categories", "data_completeness", "interval_schedule_ratio",
    "tire_rotation_share", "repair_record_share", "annual_km_corrected",
    "vehicle_age_years", "low_rate_segments", "first_service_ratio",
    "interval_ratio_spread", "dealer_logit", "tire_rotation_logit",
    "history_from_new", "routine_items_overdue"
};

void feat_vec_init(struct feat_vec *f)
{
    for (int i = 0; i < FEAT_COUNT; i++)
        f->v[i] = NAN;
    f->currency[0] = '\0';
    f->ptrain = PTRAIN_UNKNOWN;
    f->ptrain_src = PTRAIN_SRC_NONE;
    f->first_day = f->last_day = HIST_NO_DAY;
    f->first_km = f->last_km = NAN;
    f->oil_over_days = f->oil_over_km = f->oil_due_days = NAN;
    f->oil_due_km = f->rot_over_days = f->rot_over_km = NAN;
    f->rot_due_days = f->rot_due_km = NAN;
}

int feat_applies(int id, const struct feat_vec *f)
{
    switch (id) {
    case FEAT_OIL_CHANGES:
    case FEAT_OIL_INTERVAL_KM_MEDIAN:
    case FEAT_OIL_INTERVAL_DAYS_MEDIAN:
    case FEAT_OIL_IN_SCHEDULE_SHARE:
    case FEAT_OVERDUE_OIL_CHANGE:
        return ptrain_has_oil(f->ptrain);
    case FEAT_FIRST_SERVICE_RATIO:
        return f->v[FEAT_HISTORY_FROM_NEW] == 1;
    case FEAT_ROUTINE_ITEMS_OVERDUE:
        return f->ptrain == PTRAIN_BEV;
    default:
        return id >= 0 && id < FEAT_COUNT;
    }
}

const char *feat_name(int id)
{
    return id >= 0 && id < FEAT_COUNT ? names[id] : NULL;
}

int feat_find(const char *name)
{
    for (int i = 0; i < FEAT_COUNT; i++) {
        if (strcmp(names[i], name) == 0)
            return i;
    }
    return -1;
}

/* Orders records by date (undated last), then by every other field. */
static int cmp_rec(const void *a, const void *b)
{
    const struct hist_rec *x = *(const struct hist_rec *const *)a;
    const struct hist_rec *y = *(const struct hist_rec *const *)b;
    int xd = x->day == HIST_NO_DAY, yd = y->day == HIST_NO_DAY;
    if (xd != yd)
        return xd - yd;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    /* NAN sorts first: isnan() is 1 for it */
    int xk = !isnan(x->km), yk = !isnan(y->km);
    if (xk != yk)
        return xk - yk;
    if (xk && x->km != y->km)
        return x->km < y->km ? -1 : 1;
    int xc = !isnan(x->cost), yc = !isnan(y->cost);
    if (xc != yc)
        return xc - yc;
    if (xc && x->cost != y->cost)
        return x->cost < y->cost ? -1 : 1;
    if (x->cats != y->cats)
        return x->cats < y->cats ? -1 : 1;
    if (x->source != y->source)
        return x->source - y->source;
    int c = strcmp(x->currency, y->currency);
    return c ? c : strcmp(x->service_id, y->service_id);
}

static int same_rec(const struct hist_rec *x, const struct hist_rec *y)
{
    const struct hist_rec *p[2] = {x, y};
    return cmp_rec(&p[0], &p[1]) == 0 && x->n_tasks == y->n_tasks;
}

/* Median of n values, sorting them in place; NAN when n is 0. */
static double median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    gsl_sort(v, 1, n);
    return gsl_stats_median_from_sorted_data(v, 1, n);
}

static double max_of(const double *v, size_t n)
{
    return n == 0 ? NAN : gsl_stats_max(v, 1, n);
}

/* Coefficient of variation (sample sd / mean); NAN below two values. */
static double cv(const double *v, size_t n)
{
    if (n < 2)
        return NAN;
    double mean = gsl_stats_mean(v, 1, n);
    if (!(mean > 0))
        return NAN;
    return gsl_stats_sd_m(v, 1, n, mean) / mean;
}

/* Scratch space of one call, carved from a single allocation. */
struct scratch {
    const struct hist_rec **rec;  /* deduplicated, sorted by date */
    size_t n;                     /* records kept */
    size_t n_dated;               /* rec[0..n_dated) are dated, <= as_of */
    double *a, *b, *c;            /* work arrays of n values each */
};

struct odo {
    double slope, r2, rate_cv;
    double slope_corrected;       /* slope after undoing rollbacks, slips */
    int rollbacks, implausible, low_segments;
    double rollback_max;
    double first_km, last_km;
    long last_day;
};

/*
 * Is reading i a miles-for-km slip?  Its value in km must sit between the
 * highest earlier reading and the next reading (or above the earlier one
 * when it is the last).
 */
static int unit_slip(const double *km, size_t n, size_t i, double high,
                     double tol)
{
    double as_km = km[i] * HIST_KM_PER_MILE;
    if (as_km < high - tol)
        return 0;
    return i + 1 >= n || as_km <= km[i + 1] + tol;
}

static void odometer_features(const struct scratch *s, struct odo *o)
{
    double *day = s->a, *km = s->b, *rate = s->c;
    size_t n = 0;
    for (size_t i = 0; i < s->n_dated; i++) {
        if (!isnan(s->rec[i]->km)) {
            day[n] = (double)s->rec[i]->day;
            km[n] = s->rec[i]->km;
            n++;
        }
    }
    memset(o, 0, sizeof(*o));
    o->slope = o->r2 = o->rate_cv = o->rollback_max = NAN;
    o->slope_corrected = NAN;
    o->first_km = o->last_km = NAN;
    if (n == 0)
        return;
    o->first_km = km[0];
    o->last_km = km[n - 1];
    o->last_day = (long)day[n - 1];

    double high = km[0];
    size_t n_rate = 0;
    for (size_t i = 1; i < n; i++) {
        double tol = fmax(FEAT_ROLLBACK_TOL_KM, 0.01 * high);
        if (km[i] < high - tol) {
            if (unit_slip(km, n, i, high, tol)) {
                o->implausible++;
            } else {
                o->rollbacks++;
                double drop = high - km[i];
                o->rollback_max = isnan(o->rollback_max)
                                  ? drop : fmax(o->rollback_max, drop);
            }
        }
        high = fmax(high, km[i]);
        double gap = day[i] - day[i - 1];
        double dk = km[i] - km[i - 1];
        if (gap >= 1 && dk >= 0) {
            double r = dk / gap;
            if (r > FEAT_MAX_KM_PER_DAY ||
                (gap >= 30 && r * DAYS_PER_YEAR > FEAT_MAX_KM_PER_YEAR))
                o->implausible++;
            rate[n_rate++] = r;
        }
    }
    o->rate_cv = cv(rate, n_rate);
    /*
     * A rollback that stays above the previous reading shows only as a
     * stretch driven far slower than the vehicle's usual pace.
     */
    o->low_segments = 0;
    if (n_rate >= 3) {
        double typical = median(rate, n_rate);     /* sorts rate[] */
        for (size_t i = 0; i < n_rate; i++)
            o->low_segments += rate[i] < FEAT_LOW_RATE_SHARE * typical;
    }

    /*
     * The same readings with each rollback undone (later readings lifted
     * by the drop) and each unit slip read as miles: the vehicle's real
     * mileage as well as it can be told.  rate[] is free again.
     */
    double *fixed = rate;
    double lift = 0;
    high = km[0];
    fixed[0] = km[0];
    for (size_t i = 1; i < n; i++) {
        double tol = fmax(FEAT_ROLLBACK_TOL_KM, 0.01 * high);
        double v = km[i];
        if (v < high - tol) {
            if (unit_slip(km, n, i, high, tol)) {
                fixed[i] = v * HIST_KM_PER_MILE + lift;
                continue;
            }
            lift += high - v;
            high = v;
        }
        high = fmax(high, v);
        fixed[i] = v + lift;
    }
    o->slope_corrected = NAN;

    if (n >= 2 && day[n - 1] > day[0]) {
        double c0, c1, cov00, cov01, cov11, sumsq;
        if (gsl_fit_linear(day, 1, km, 1, n, &c0, &c1, &cov00, &cov01,
                           &cov11, &sumsq) == GSL_SUCCESS) {
            o->slope = c1;
            double var = gsl_stats_variance(km, 1, n);
            double sst = var * (double)(n - 1);
            o->r2 = sst > 0 ? 1.0 - sumsq / sst : NAN;
        }
        if (day[n - 1] - day[0] >= FEAT_MIN_SPAN_DAYS &&
            gsl_fit_linear(day, 1, fixed, 1, n, &c0, &c1, &cov00, &cov01,
                           &cov11, &sumsq) == GSL_SUCCESS)
            o->slope_corrected = c1;
    }
}

/* Distinct visit days and the readings at them, in date order. */
struct visits {
    size_t n;
    double *day;   /* visit day */
    double *km;    /* highest reading that day, or NAN */
};

static void collect_visits(const struct scratch *s, unsigned need_cats,
                           double *day, double *km, struct visits *v)
{
    v->n = 0;
    v->day = day;
    v->km = km;
    for (size_t i = 0; i < s->n_dated; i++) {
        const struct hist_rec *r = s->rec[i];
        if (need_cats && !(r->cats & need_cats))
            continue;
        if (v->n > 0 && v->day[v->n - 1] == (double)r->day) {
            if (!isnan(r->km))
                v->km[v->n - 1] = isnan(v->km[v->n - 1])
                                  ? r->km : fmax(v->km[v->n - 1], r->km);
            continue;
        }
        v->day[v->n] = (double)r->day;
        v->km[v->n] = r->km;
        v->n++;
    }
}

/* Interval lengths in days and (where both ends have readings) in km. */
static void intervals(const struct visits *v, double *days, size_t *n_days,
                      double *kms, size_t *n_kms)
{
    *n_days = 0;
    *n_kms = 0;
    for (size_t i = 1; i < v->n; i++) {
        days[(*n_days)++] = v->day[i] - v->day[i - 1];
        double dk = v->km[i] - v->km[i - 1];
        if (!isnan(dk) && dk >= 0)
            kms[(*n_kms)++] = dk;
    }
}

/*
 * Overdue as of as_of: the time or the estimated distance since the last
 * visit of this kind exceeds the interval plus tolerance, whichever comes
 * first.  With no visit of this kind, the clock starts at the first service.
 */
static double overdue(const struct visits *v, long first_day, double est_km,
                      double first_km, long as_of, double int_km,
                      double int_days, double tol, double *over_days,
                      double *over_km)
{
    *over_days = *over_km = NAN;
    if (first_day == HIST_NO_DAY)
        return NAN;
    long since_day = v->n ? (long)v->day[v->n - 1] : first_day;
    double since_km = v->n ? v->km[v->n - 1] : first_km;
    double late = 0;
    if ((double)(as_of - since_day) > int_days * (1 + tol)) {
        *over_days = (double)(as_of - since_day) - int_days;
        late = 1;
    }
    if (!isnan(est_km) && !isnan(since_km) &&
        est_km - since_km > int_km * (1 + tol)) {
        *over_km = est_km - since_km - int_km;
        late = 1;
    }
    return late;
}

/* One time-based routine item: the categories a record must have. */
struct routine_item {
    unsigned cats;
    double days;
};

/*
 * How many of the schedule's time-based items (those it lists) are past
 * their interval plus tolerance as of as_of; an item never on record is
 * counted from the first visit, so only the observed window counts.
 */
static double routine_overdue(const struct scratch *s,
                              const struct task_sched *sc, long first_day,
                              long as_of)
{
    const struct routine_item items[3] = {
        {TASK_BIT(TASK_FILTERS), sc->cabin_days},
        {TASK_BIT(TASK_FLUIDS) | TASK_BIT(TASK_BRAKES), sc->brake_fluid_days},
        {TASK_BIT(TASK_FLUIDS), sc->coolant_days},
    };
    int late = 0;
    for (int k = 0; k < 3; k++) {
        if (isnan(items[k].days))
            continue;
        long last = first_day;
        for (size_t i = 0; i < s->n_dated; i++) {
            if ((s->rec[i]->cats & items[k].cats) == items[k].cats)
                last = s->rec[i]->day;
        }
        late += (double)(as_of - last) > items[k].days * (1 + sc->tolerance);
    }
    return late;
}

static void cost_features(const struct scratch *s, double km_driven,
                          struct feat_vec *out)
{
    /* The main currency: the most frequent, ties to the first in order. */
    const char *cur[16];
    size_t cnt[16];
    size_t ncur = 0;
    size_t with_cost = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct hist_rec *r = s->rec[i];
        if (isnan(r->cost))
            continue;
        with_cost++;
        if (!r->currency[0])
            continue;
        size_t j = 0;
        while (j < ncur && strcmp(cur[j], r->currency) != 0)
            j++;
        if (j == ncur && ncur < 16) {
            cur[ncur] = r->currency;
            cnt[ncur++] = 0;
        }
        if (j < ncur)
            cnt[j]++;
    }
    const char *main_cur = NULL;
    size_t best = 0;
    for (size_t j = 0; j < ncur; j++) {
        if (cnt[j] > best || (cnt[j] == best && main_cur &&
                              strcmp(cur[j], main_cur) < 0)) {
            best = cnt[j];
            main_cur = cur[j];
        }
    }
    out->v[FEAT_N_WITH_COST] = (double)with_cost;
    snprintf(out->currency, sizeof(out->currency), "%s",
             main_cur ? main_cur : "");

    double total = 0, repair = 0, other = 0;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct hist_rec *r = s->rec[i];
        if (isnan(r->cost))
            continue;
        if (r->currency[0] && main_cur && strcmp(r->currency, main_cur)) {
            other++;
            continue;
        }
        total += r->cost;
        if (r->cats & TASK_BIT(TASK_REPAIR))
            repair += r->cost;
        s->c[n++] = r->cost;
    }
    out->v[FEAT_COST_OTHER_CURRENCY_RECORDS] = other;
    if (n == 0)
        return;
    out->v[FEAT_COST_TOTAL] = total;
    out->v[FEAT_COST_PER_SERVICE_MEDIAN] = median(s->c, n);
    if (km_driven >= 500)
        out->v[FEAT_COST_PER_1000KM] = total / km_driven * 1000.0;
    if (total > 0)
        out->v[FEAT_REPAIR_COST_SHARE] = repair / total;
}

static void record_features(const struct scratch *s, struct feat_vec *out)
{
    size_t dealer = 0, owner = 0, odo = 0;
    unsigned cats = 0;
    double complete = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct hist_rec *r = s->rec[i];
        dealer += r->source == HIST_SRC_DEALER;
        owner += r->source == HIST_SRC_OWNER;
        odo += !isnan(r->km);
        cats |= r->cats;
        /* five core fields: date, odometer, described task, cost, source */
        int have = (r->day != HIST_NO_DAY) + !isnan(r->km) +
                   ((r->cats & ~TASK_BIT(TASK_OTHER)) != 0) +
                   !isnan(r->cost) + (r->source != HIST_SRC_UNKNOWN);
        complete += have / 5.0;
    }
    out->v[FEAT_N_WITH_ODOMETER] = (double)odo;
    if (dealer + owner > 0)
        out->v[FEAT_DEALER_SHARE] = (double)dealer / (double)(dealer + owner);
    /* the same evidence as an empirical logit: few records, mild value */
    out->v[FEAT_DEALER_LOGIT] = log((dealer + 0.5) / (owner + 0.5));
    unsigned known = cats & ~TASK_BIT(TASK_OTHER);
    out->v[FEAT_TASK_CATEGORIES] = (double)__builtin_popcount(known);
    out->v[FEAT_DATA_COMPLETENESS] = s->n ? complete / (double)s->n : 0;
}

static void oil_features(const struct scratch *s, const struct task_sched *sc,
                         double *buf, struct feat_vec *out,
                         struct visits *oil)
{
    size_t n_oil = 0;
    for (size_t i = 0; i < s->n; i++)
        n_oil += (s->rec[i]->cats & TASK_BIT(TASK_OIL)) != 0;
    out->v[FEAT_OIL_CHANGES] = (double)n_oil;

    collect_visits(s, TASK_BIT(TASK_OIL), buf, buf + s->n, oil);
    double *days = buf + 2 * s->n, *kms = buf + 3 * s->n;
    size_t nd, nk;
    intervals(oil, days, &nd, kms, &nk);
    size_t in_sched = 0;
    for (size_t i = 1; i < oil->n; i++) {
        double dd = oil->day[i] - oil->day[i - 1];
        double dk = oil->km[i] - oil->km[i - 1];
        int late = dd > sc->oil_days * (1 + sc->tolerance) ||
                   (!isnan(dk) && dk > sc->oil_km * (1 + sc->tolerance));
        in_sched += !late;
    }
    if (nd > 0)
        out->v[FEAT_OIL_IN_SCHEDULE_SHARE] = (double)in_sched / (double)nd;
    out->v[FEAT_OIL_INTERVAL_DAYS_MEDIAN] = median(days, nd);
    out->v[FEAT_OIL_INTERVAL_KM_MEDIAN] = median(kms, nk);
}

int feat_compute(const struct hist *h, const struct task_sched *sc,
                 long as_of, long start_day, int ptrain,
                 struct feat_vec *out, struct eng_err *err)
{
    size_t n = h->n ? h->n : 1;
    /* pointers, then 9 double arrays: 3 scratch + 6 for visits/oil */
    void *mem = malloc(n * (sizeof(void *) + 9 * sizeof(double)));
    if (!mem)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    struct scratch s = {0};
    s.rec = mem;
    double *d = (double *)(s.rec + n);
    s.a = d;
    s.b = d + n;
    s.c = d + 2 * n;
    double *more = d + 3 * n;    /* 6n doubles */

    struct feat_vec f;
    feat_vec_init(&f);
    f.ptrain = ptrain;
    int oil = ptrain_has_oil(ptrain) && !isnan(sc->oil_km);

    /* Sort, drop exact duplicates and records after as_of. */
    for (size_t i = 0; i < h->n; i++)
        s.rec[i] = &h->rec[i];
    qsort(s.rec, h->n, sizeof(*s.rec), cmp_rec);
    size_t dups = 0, kept = 0, dated = 0;
    for (size_t i = 0; i < h->n; i++) {
        const struct hist_rec *r = s.rec[i];
        if (kept > 0 && same_rec(s.rec[kept - 1], r)) {
            dups++;
            continue;
        }
        if (r->day != HIST_NO_DAY && r->day > as_of)
            continue;
        dated += r->day != HIST_NO_DAY;
        s.rec[kept++] = r;
    }
    s.n = kept;
    s.n_dated = dated;
    f.v[FEAT_N_RECORDS] = (double)h->n;
    f.v[FEAT_N_DATED] = (double)dated;
    f.v[FEAT_DUPLICATE_RECORDS] = (double)dups;
    f.v[FEAT_ODOMETER_ROLLBACKS] = 0;
    f.v[FEAT_IMPLAUSIBLE_SEGMENTS] = 0;

    record_features(&s, &f);

    struct odo o;
    odometer_features(&s, &o);
    f.v[FEAT_KM_PER_DAY] = o.slope;
    f.v[FEAT_ODOMETER_R2] = o.r2;
    f.v[FEAT_KM_PER_DAY_CV] = o.rate_cv;
    f.v[FEAT_ODOMETER_ROLLBACKS] = o.rollbacks;
    f.v[FEAT_ROLLBACK_MAX_KM] = o.rollbacks ? o.rollback_max : 0;
    f.v[FEAT_IMPLAUSIBLE_SEGMENTS] = o.implausible;
    f.v[FEAT_LOW_RATE_SEGMENTS] = o.low_segments;
    double rate = o.slope_corrected;
    if (isnan(rate) && !isnan(o.last_km) && start_day != HIST_NO_DAY &&
        o.last_day - start_day >= FEAT_MIN_SPAN_DAYS)
        rate = o.last_km / (double)(o.last_day - start_day);
    if (rate >= 0)
        f.v[FEAT_ANNUAL_KM_CORRECTED] = rate * DAYS_PER_YEAR;
    if (start_day != HIST_NO_DAY && as_of >= start_day)
        f.v[FEAT_VEHICLE_AGE_YEARS] = (double)(as_of - start_day) /
                                      DAYS_PER_YEAR;
    f.first_km = o.first_km;
    f.last_km = o.last_km;
    double est_km = NAN;
    if (o.slope >= 0) {
        f.v[FEAT_EST_ANNUAL_KM] = o.slope * DAYS_PER_YEAR;
        est_km = o.last_km + o.slope * (double)(as_of - o.last_day);
        f.v[FEAT_EST_CURRENT_KM] = est_km;
    } else if (!isnan(o.last_km)) {
        est_km = o.last_km;
    }

    struct visits all;
    collect_visits(&s, 0, more, more + n, &all);
    if (all.n > 0) {
        f.first_day = (long)all.day[0];
        f.last_day = (long)all.day[all.n - 1];
        double span = all.day[all.n - 1] - all.day[0];
        f.v[FEAT_SPAN_DAYS] = span;
        double years = fmax(0.5, (double)(as_of - f.first_day) /
                                 DAYS_PER_YEAR);
        f.v[FEAT_SERVICES_PER_YEAR] = (double)all.n / years;
        f.v[FEAT_DAYS_SINCE_LAST_SERVICE] = (double)(as_of - f.last_day);
    }
    double *days = more + 2 * n, *kms = more + 3 * n;
    size_t nd, nk;
    intervals(&all, days, &nd, kms, &nk);
    f.v[FEAT_INTERVAL_DAYS_MAX] = max_of(days, nd);
    f.v[FEAT_INTERVAL_DAYS_CV] = cv(days, nd);
    f.v[FEAT_INTERVAL_DAYS_MEDIAN] = median(days, nd);
    f.v[FEAT_INTERVAL_KM_MAX] = max_of(kms, nk);
    f.v[FEAT_INTERVAL_KM_MEDIAN] = median(kms, nk);

    size_t n_rot = 0, rep = 0;
    for (size_t i = 0; i < s.n; i++) {
        n_rot += (s.rec[i]->cats & TASK_BIT(TASK_TIRE_ROTATION)) != 0;
        rep += (s.rec[i]->cats & TASK_BIT(TASK_REPAIR)) != 0;
    }
    if (s.n > 0) {
        f.v[FEAT_TIRE_ROTATION_SHARE] = (double)n_rot / (double)s.n;
        f.v[FEAT_TIRE_ROTATION_LOGIT] = log((n_rot + 0.5) /
                                            ((double)(s.n - n_rot) + 0.5));
        f.v[FEAT_REPAIR_RECORD_SHARE] = (double)rep / (double)s.n;
    }

    double km_driven = isnan(o.first_km) ? NAN : o.last_km - o.first_km;
    cost_features(&s, km_driven, &f);

    /*
     * The visits that follow the maker's main schedule and its interval:
     * oil changes, or for a vehicle without oil (a BEV) its routine visits
     * against the tire rotation interval.
     */
    struct visits main;
    double main_km = sc->rotation_km, main_days = sc->rotation_days;
    if (oil) {
        oil_features(&s, sc, more, &f, &main);
        f.v[FEAT_OVERDUE_OIL_CHANGE] =
            overdue(&main, f.first_day, est_km, o.first_km, as_of,
                    sc->oil_km, sc->oil_days, sc->tolerance,
                    &f.oil_over_days, &f.oil_over_km);
        f.oil_due_days = sc->oil_days;
        f.oil_due_km = sc->oil_km;
        main_km = sc->oil_km;
        main_days = sc->oil_days;
    } else {
        collect_visits(&s, TASK_BIT(TASK_TIRE_ROTATION) |
                       TASK_BIT(TASK_FILTERS) | TASK_BIT(TASK_FLUIDS) |
                       TASK_BIT(TASK_INSPECTION), more, more + n, &main);
    }
    /*
     * How far each interval ran against the schedule, whichever of time and
     * distance came first: 1.0 = exactly when due.  Scheduled visits only:
     * a repair or recall visit in between is no maintenance interval.
     */
    size_t nr = 0;
    double *ratio = more + 4 * n;
    for (size_t i = 1; i < main.n; i++) {
        double dd = main.day[i] - main.day[i - 1];
        double dk = main.km[i] - main.km[i - 1];
        double r = dd / main_days;
        if (!isnan(dk) && dk >= 0)
            r = fmax(r, dk / main_km);
        ratio[nr++] = r;
    }
    f.v[FEAT_INTERVAL_SCHEDULE_RATIO] = median(ratio, nr);
    /* how steady that pace is: robust spread (MAD) of the log ratios */
    if (nr >= 3) {
        double mid = log(f.v[FEAT_INTERVAL_SCHEDULE_RATIO]);
        for (size_t i = 0; i < nr; i++)
            ratio[i] = fabs(log(fmax(ratio[i], 1e-6)) - mid);
        f.v[FEAT_INTERVAL_RATIO_SPREAD] = 1.4826 * median(ratio, nr);
    }
    /*
     * Does the history start near new?  Its first odometer reading within
     * 1.5 intervals of distance and its first visit within 18 months of the
     * model year's start.  Either test failing says no; both passing says
     * yes; otherwise it cannot be told.
     */
    if (f.first_day != HIST_NO_DAY) {
        int km_known = !isnan(o.first_km);
        int day_known = start_day != HIST_NO_DAY;
        int km_ok = km_known &&
                    o.first_km <= FEAT_NEW_INTERVALS * main_km;
        int day_ok = day_known &&
                     f.first_day - start_day <= FEAT_NEW_DAYS;
        if ((km_known && !km_ok) || (day_known && !day_ok))
            f.v[FEAT_HISTORY_FROM_NEW] = 0;
        else if (km_ok && day_ok)
            f.v[FEAT_HISTORY_FROM_NEW] = 1;
    }
    /*
     * The stretch from new to the first service, against the schedule:
     * the only pace a vehicle with one service on record shows.  Only for
     * a history that starts near new: otherwise the first record is not
     * the first service.
     */
    const struct visits *fv = main.n ? &main : &all;
    if (fv->n > 0 && feat_applies(FEAT_FIRST_SERVICE_RATIO, &f)) {
        double r = NAN;
        if (!isnan(fv->km[0]) && fv->km[0] >= 0)
            r = fv->km[0] / main_km;
        if (fv->day[0] >= (double)start_day) {
            double t = (fv->day[0] - (double)start_day) / main_days;
            r = isnan(r) ? t : fmax(r, t);
        }
        f.v[FEAT_FIRST_SERVICE_RATIO] = r;
    }

    struct visits rot;
    collect_visits(&s, TASK_BIT(TASK_TIRE_ROTATION), more, more + n, &rot);
    f.v[FEAT_OVERDUE_TIRE_ROTATION] =
        overdue(&rot, f.first_day, est_km, o.first_km, as_of,
                sc->rotation_km, sc->rotation_days, sc->tolerance,
                &f.rot_over_days, &f.rot_over_km);
    f.rot_due_days = sc->rotation_days;
    f.rot_due_km = sc->rotation_km;

    if (feat_applies(FEAT_ROUTINE_ITEMS_OVERDUE, &f) &&
        f.first_day != HIST_NO_DAY) {
        f.v[FEAT_ROUTINE_ITEMS_OVERDUE] =
            routine_overdue(&s, sc, f.first_day, as_of);
    }

    free(mem);
    *out = f;
    return ENG_OK;
}
