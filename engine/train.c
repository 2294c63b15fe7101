/* train — features + labels -> fitted model. */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "feat.h"
#include "glm.h"
#include "model_internal.h"
#include "ptrain.h"
#include "tab.h"

/*
 * The shipped model's inputs: each with the sign an underwriter expects
 * (longer or later maintenance, rollback signs, more driving: more risk),
 * kept only where the fit agrees with that sign on the synthetic fleet.
 */
const char *const train_default_columns[] = {
    "days_since_last_service", "services_per_year",
    "dealer_logit", "oil_in_schedule_share", "overdue_oil_change",
    "overdue_tire_rotation", "odometer_rollbacks", "implausible_segments",
    "repair_cost_share", "data_completeness", "interval_schedule_ratio",
    "tire_rotation_logit", "annual_km_corrected", "low_rate_segments",
    "first_service_ratio", "interval_ratio_spread",
    NULL
};

/*
 * The reason table: a stable code and wording per input.  Codes never move
 * to another feature; a new feature takes a new code.
 */
struct reason_def {
    const char *name, *code, *text, *missing_text;
    int kind;
    const char *shown;     /* feature whose value the text shows, or NULL */
};

static const struct reason_def reason_defs[] = {
    {"interval_days_max", "R01", "longest gap between services %s days",
     "fewer than two dated services", MODEL_VALUE_COUNT, NULL},
    {"interval_days_median", "R02", "typical gap between services %s days",
     "fewer than two dated services", MODEL_VALUE_COUNT, NULL},
    {"days_since_last_service", "R03", "last service %s days ago",
     "no dated service on record", MODEL_VALUE_COUNT, NULL},
    {"services_per_year", "R04", "%s services a year",
     "no dated service on record", MODEL_VALUE_NUMBER, NULL},
    {"oil_in_schedule_share", "R05", "%s of oil changes on schedule",
     "fewer than two dated oil changes", MODEL_VALUE_SHARE, NULL},
    {"overdue_oil_change", "R06", "oil change overdue: %s",
     "no dated service to judge the oil change", MODEL_VALUE_YESNO, NULL},
    {"overdue_tire_rotation", "R07", "tire rotation overdue: %s",
     "no dated service to judge the tire rotation", MODEL_VALUE_YESNO, NULL},
    {"dealer_share", "R08", "%s of services done at a dealer",
     "no record says who did the service", MODEL_VALUE_SHARE, NULL},
    {"interval_days_cv", "R09", "irregular service intervals: variation "
     "%s", "too few services to judge regularity", MODEL_VALUE_NUMBER, NULL},
    {"odometer_rollbacks", "R10", "odometer readings lower than earlier "
     "ones: %s", "no odometer readings", MODEL_VALUE_COUNT, NULL},
    {"implausible_segments", "R11", "implausible odometer segments: %s",
     "no odometer readings", MODEL_VALUE_COUNT, NULL},
    {"est_annual_km", "R12", "estimated %s km driven per year",
     "too few odometer readings to estimate mileage", MODEL_VALUE_COUNT, NULL},
    {"repair_cost_share", "R13", "%s of service spend on repairs",
     "no service costs on record", MODEL_VALUE_SHARE, NULL},
    {"data_completeness", "R14", "service records %s complete",
     "no service records", MODEL_VALUE_SHARE, NULL},
    {"km_per_day_cv", "R15", "irregular mileage between services: "
     "variation %s", "too few odometer readings", MODEL_VALUE_NUMBER, NULL},
    {"n_records", "R16", "service records on file: %s", "no service records",
     MODEL_VALUE_COUNT, NULL},
    {"interval_km_max", "R17", "longest distance between services %s km",
     "too few odometer readings", MODEL_VALUE_COUNT, NULL},
    {"interval_km_median", "R18", "typical distance between services %s km",
     "too few odometer readings", MODEL_VALUE_COUNT, NULL},
    {"oil_changes", "R19", "oil changes on record: %s", "no service records",
     MODEL_VALUE_COUNT, NULL},
    {"task_categories", "R20", "kinds of maintenance on record: %s",
     "no service records", MODEL_VALUE_COUNT, NULL},
    {"cost_per_1000km", "R21", "service spend %s per 1,000 km",
     "no service costs on record", MODEL_VALUE_NUMBER, NULL},
    {"odometer_r2", "R22", "odometer readings fit a steady rate to %s",
     "too few odometer readings", MODEL_VALUE_NUMBER, NULL},
    {"rollback_max_km", "R23", "largest odometer drop %s km",
     "no odometer readings", MODEL_VALUE_COUNT, NULL},
    {"interval_schedule_ratio", "R24", "services at %s of the maker's "
     "interval", "fewer than two dated services", MODEL_VALUE_SHARE, NULL},
    {"tire_rotation_share", "R25", "tires rotated at %s of services",
     "no service records", MODEL_VALUE_SHARE, NULL},
    {"repair_record_share", "R26", "%s of records are repairs",
     "no service records", MODEL_VALUE_SHARE, NULL},
    {"annual_km_corrected", "R27", "about %s km driven per year",
     "mileage unknown", MODEL_VALUE_COUNT, NULL},
    {"vehicle_age_years", "R28", "vehicle about %s years old",
     "vehicle age unknown", MODEL_VALUE_NUMBER, NULL},
    {"low_rate_segments", "R29", "stretches driven far below the usual "
     "pace: %s", "too few odometer readings", MODEL_VALUE_COUNT, NULL},
    {"first_service_ratio", "R31", "first service at %s of the maker's "
     "interval", "no first service on record", MODEL_VALUE_SHARE, NULL},
    {"interval_ratio_spread", "R32", "uneven timing of scheduled services: "
     "spread %s", "too few scheduled services to judge their timing",
     MODEL_VALUE_NUMBER, NULL},
    {"dealer_logit", "R33", "%s of services at a dealer",
     "no record says who did the service", MODEL_VALUE_SHARE,
     "dealer_share"},
    {"tire_rotation_logit", "R34", "tires rotated at %s of services",
     "no service records", MODEL_VALUE_SHARE, "tire_rotation_share"},
    {"make", "R30", "make %s", "make unknown", MODEL_VALUE_NUMBER, NULL},
};

#define N_REASON_DEFS (sizeof(reason_defs) / sizeof(reason_defs[0]))

static void set_reason(struct model_input *in)
{
    for (size_t i = 0; i < N_REASON_DEFS; i++) {
        if (strcmp(reason_defs[i].name, in->name) == 0) {
            snprintf(in->code, sizeof(in->code), "%s", reason_defs[i].code);
            snprintf(in->text, sizeof(in->text), "%s", reason_defs[i].text);
            snprintf(in->missing_text, sizeof(in->missing_text), "%s",
                     reason_defs[i].missing_text);
            in->value_kind = reason_defs[i].kind;
            in->shown = reason_defs[i].shown ? feat_find(reason_defs[i].shown)
                                             : in->feat;
            return;
        }
    }
    /* a feature without wording of its own: generic but specific */
    int id = feat_find(in->name);
    snprintf(in->code, sizeof(in->code), "R%02u",
             50u + (unsigned)(id < 0 ? 0 : id % 50));
    snprintf(in->text, sizeof(in->text), "%s %%s", in->name);
    snprintf(in->missing_text, sizeof(in->missing_text), "%s unknown",
             in->name);
    in->value_kind = MODEL_VALUE_NUMBER;
    in->shown = in->feat;
}

int train_is_holdout(const char *vin, unsigned long seed, double share)
{
    unsigned long long h = eng_fnv(ENG_FNV_BASIS, &seed, sizeof(seed));
    h = eng_fnv(h, vin, strlen(vin));
    /*
     * FNV-1a leaves its top bits badly mixed by the last bytes, and VINs
     * end in a serial number: without this finaliser (MurmurHash3's fmix64)
     * a 20% share held out 12% of a run of consecutive VINs.
     */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    /* top 53 bits as a uniform number in [0, 1) */
    double u = (double)(h >> 11) / 9007199254740992.0;
    return u < share;
}

/* ------------------------------------------------------------------ */
/* Labels: vin -> claims, exposure, amount, weight (open addressing). */

struct label {
    char vin[24];
    double claims, exposure, amount, weight;
};

struct labels {
    struct label *slot;
    size_t cap, n;
};

static size_t hash_str(const char *s)
{
    return (size_t)eng_fnv(ENG_FNV_BASIS, s, strlen(s));
}

static struct label *label_slot(const struct labels *l, const char *vin)
{
    size_t mask = l->cap - 1;
    for (size_t i = hash_str(vin) & mask;; i = (i + 1) & mask) {
        if (!l->slot[i].vin[0] || strcmp(l->slot[i].vin, vin) == 0)
            return &l->slot[i];
    }
}

static int labels_grow(struct labels *l, struct eng_err *err)
{
    struct labels nl = {0};
    nl.cap = l->cap ? l->cap * 2 : 4096;
    nl.slot = calloc(nl.cap, sizeof(*nl.slot));
    if (!nl.slot)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (size_t i = 0; i < l->cap; i++) {
        if (l->slot[i].vin[0])
            *label_slot(&nl, l->slot[i].vin) = l->slot[i];
    }
    nl.n = l->n;
    free(l->slot);
    *l = nl;
    return ENG_OK;
}

/* A number of a CSV cell: empty is NaN, junk is an error. */
static int cell(const char *s, double *out)
{
    if (!*s) {
        *out = NAN;
        return 0;
    }
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int load_labels(const char *path, struct labels *l,
                       struct eng_err *err)
{
    struct tab *t = tab_open(path, err);
    if (!t)
        return err ? err->code : ENG_EIO;
    int cv = tab_col(t, "vin"), cc = tab_col(t, "claim_count");
    int ce = tab_col(t, "exposure_years"), ca = tab_col(t, "claim_amount");
    int cw = tab_col(t, "weight");
    int rc = ENG_OK;
    if (cv < 0 || cc < 0 || ce < 0)
        rc = eng_err_set(err, ENG_EDATA, "labels '%s' need columns vin, "
                         "claim_count and exposure_years", path);
    const char *const *f;
    while (rc == ENG_OK && (rc = tab_next(t, &f, err)) == 1) {
        rc = ENG_OK;
        struct label lb = {0};
        snprintf(lb.vin, sizeof(lb.vin), "%s", f[cv]);
        lb.weight = 1;
        lb.amount = NAN;
        if (cell(f[cc], &lb.claims) < 0 || !(lb.claims >= 0) ||
            cell(f[ce], &lb.exposure) < 0 || !(lb.exposure > 0) ||
            (ca >= 0 && cell(f[ca], &lb.amount) < 0) ||
            (cw >= 0 && f[cw][0] && (cell(f[cw], &lb.weight) < 0 ||
                                     !(lb.weight >= 0)))) {
            rc = eng_err_set(err, ENG_EDATA, "%s:%ld: bad label values for "
                             "'%s' (claim_count >= 0, exposure_years > 0)",
                             path, tab_line(t), lb.vin);
            break;
        }
        if (2 * (l->n + 1) > l->cap && (rc = labels_grow(l, err)) < 0)
            break;
        struct label *s = label_slot(l, lb.vin);
        if (!s->vin[0])
            l->n++;
        *s = lb;
    }
    tab_close(t);
    return rc < 0 ? rc : ENG_OK;
}

/* ------------------------------------------------------------------ */
/* The joined data set: raw feature values per row, labels, split. */

/* A raw value that does not apply to the row's vehicle (feat_applies()). */
#define TRAIN_NOT_APPLICABLE INFINITY

struct data {
    size_t n, cap, k;              /* rows, capacity, raw columns */
    double *x;                     /* n * k raw values, NaN = missing,
                                      TRAIN_NOT_APPLICABLE */
    char (*make)[MODEL_LEVEL_LEN];
    char (*vin)[24];
    double *claims, *exposure, *amount, *weight;
    unsigned char *test;
};

static void data_free(struct data *d)
{
    free(d->x);
    free(d->make);
    free(d->vin);
    free(d->claims);
    free(d->exposure);
    free(d->amount);
    free(d->weight);
    free(d->test);
    memset(d, 0, sizeof(*d));
}

static int data_grow(struct data *d, struct eng_err *err)
{
    size_t cap = d->cap ? d->cap * 2 : 4096;
    double *x = realloc(d->x, cap * (d->k ? d->k : 1) * sizeof(double));
    if (x)
        d->x = x;
    void *p[7];
    p[0] = realloc(d->make, cap * sizeof(*d->make));
    if (p[0])
        d->make = p[0];
    p[1] = realloc(d->vin, cap * sizeof(*d->vin));
    if (p[1])
        d->vin = p[1];
    double **cols[4] = {&d->claims, &d->exposure, &d->amount, &d->weight};
    int ok = x && p[0] && p[1];
    for (int i = 0; i < 4; i++) {
        double *c = realloc(*cols[i], cap * sizeof(double));
        if (c)
            *cols[i] = c;
        ok = ok && c;
    }
    unsigned char *t = realloc(d->test, cap);
    if (t)
        d->test = t;
    if (!ok || !t)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    d->cap = cap;
    return ENG_OK;
}

static int load_data(const struct train_config *cfg, const int *feat_of,
                     int want_make, const struct labels *lb, struct data *d,
                     struct train_output *out, struct eng_err *err)
{
    struct tab *t = tab_open(cfg->features_path, err);
    if (!t)
        return err ? err->code : ENG_EIO;
    int cv = tab_col(t, "vin"), cs = tab_col(t, "status");
    int cm = tab_col(t, "make");
    /* what tells a feature that does not apply from a missing one */
    int cpt = tab_col(t, "powertrain");
    int cnew = tab_col(t, feat_name(FEAT_HISTORY_FROM_NEW));
    struct feat_vec ctx;
    feat_vec_init(&ctx);
    int rc = ENG_OK;
    int col[TRAIN_MAX_COLUMNS];
    if (cv < 0 || cs < 0)
        rc = eng_err_set(err, ENG_EDATA, "features '%s' need columns vin "
                         "and status", cfg->features_path);
    if (want_make && cm < 0)
        rc = eng_err_set(err, ENG_EDATA, "features '%s' have no 'make' "
                         "column", cfg->features_path);
    for (size_t j = 0; rc == ENG_OK && j < d->k; j++) {
        col[j] = tab_col(t, feat_name(feat_of[j]));
        if (col[j] < 0)
            rc = eng_err_set(err, ENG_EDATA, "features '%s' have no column "
                             "'%s'", cfg->features_path, feat_name(feat_of[j]));
    }
    const char *const *f;
    while (rc == ENG_OK && (rc = tab_next(t, &f, err)) == 1) {
        rc = ENG_OK;
        if (strcmp(f[cs], "ok") != 0) {
            out->skipped_status++;
            continue;
        }
        const struct label *l = label_slot(lb, f[cv]);
        if (!l->vin[0] || strlen(f[cv]) >= sizeof(l->vin)) {
            out->skipped_label++;
            continue;
        }
        if (d->n == d->cap && (rc = data_grow(d, err)) < 0)
            break;
        size_t i = d->n;
        int missing = 0;
        ctx.ptrain = cpt >= 0 ? ptrain_parse(f[cpt]) : PTRAIN_UNKNOWN;
        if (cnew < 0 || cell(f[cnew], &ctx.v[FEAT_HISTORY_FROM_NEW]) < 0)
            ctx.v[FEAT_HISTORY_FROM_NEW] = NAN;
        for (size_t j = 0; j < d->k; j++) {
            double v;
            if (cell(f[col[j]], &v) < 0) {
                rc = eng_err_set(err, ENG_EDATA, "%s:%ld: '%s' is not a "
                                 "number in column '%s'", cfg->features_path,
                                 tab_line(t), f[col[j]], tab_name(t, col[j]));
                break;
            }
            if (!feat_applies(feat_of[j], &ctx))
                v = TRAIN_NOT_APPLICABLE;
            d->x[i * d->k + j] = v;
            missing |= isnan(v);
        }
        if (rc < 0)
            break;
        if (!cfg->transform && missing) {
            out->skipped_missing++;
            continue;
        }
        snprintf(d->make[i], sizeof(d->make[i]), "%s", cm >= 0 ? f[cm] : "");
        snprintf(d->vin[i], sizeof(d->vin[i]), "%s", f[cv]);
        d->claims[i] = l->claims;
        d->exposure[i] = l->exposure;
        d->amount[i] = l->amount;
        d->weight[i] = l->weight;
        d->test[i] = (unsigned char)train_is_holdout(f[cv], cfg->seed,
                                                     cfg->holdout);
        d->n++;
    }
    tab_close(t);
    return rc < 0 ? rc : ENG_OK;
}

/* ------------------------------------------------------------------ */
/* Transforms learned on the training rows. */

static double quantile(const double *sorted, size_t n, double q)
{
    return gsl_stats_quantile_from_sorted_data(sorted, 1, n, q);
}

/*
 * The portfolio benchmarks of an input from its m sorted training values
 * (missing and not-applicable ones left out): the median, the typical value
 * of the feature the reason shows (for a *_logit input, the share its
 * median stands for), and the 1st..99th percentiles.
 */
static void set_benchmark(struct model_input *in, const double *sorted,
                          size_t m)
{
    in->has_benchmark = 1;
    in->median = quantile(sorted, m, 0.5);
    in->typical = in->median;
    if (in->shown != in->feat)
        in->typical = 1.0 / (1.0 + exp(-in->median));
    in->n_quantiles = MODEL_N_QUANTILES;
    /* interpolating between equal values can wobble by an ulp: kept
     * non-decreasing, as the loader requires */
    for (int k = 0; k < MODEL_N_QUANTILES; k++) {
        in->quantiles[k] = quantile(sorted, m, (k + 1) / 100.0);
        if (k > 0 && in->quantiles[k] < in->quantiles[k - 1])
            in->quantiles[k] = in->quantiles[k - 1];
    }
}

/* Learns input j's transform from training values (NaN = missing,
 * TRAIN_NOT_APPLICABLE left out of everything). */
static int learn_numeric(const struct data *d, size_t j, int standard,
                         struct model_input *in, struct eng_err *err)
{
    double *v = malloc((d->n ? d->n : 1) * sizeof(double));
    if (!v)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    size_t m = 0, total = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->test[i])
            continue;
        double x = d->x[i * d->k + j];
        if (x == TRAIN_NOT_APPLICABLE)
            continue;
        total++;
        if (!isnan(x))
            v[m++] = x;
    }
    in->has_benchmark = 0;
    in->median = in->typical = NAN;
    in->n_quantiles = 0;
    if (m > 0) {
        gsl_sort(v, 1, m);
        set_benchmark(in, v, m);
    }
    in->cap_lo = -INFINITY;
    in->cap_hi = INFINITY;
    in->center = 0;
    in->scale = 1;
    in->impute = 0;
    if (!standard || m == 0) {
        /* none: as given.  All missing: the column cannot enter. */
        free(v);
        return m == 0 && standard
               ? eng_err_set(err, ENG_EDATA, "feature '%s' is missing or "
                             "not applicable on every training row", in->name)
               : ENG_OK;
    }
    in->impute = quantile(v, m, 0.5);
    /* an indicator learnt from a handful of rows would be noise */
    in->has_missing = total - m >= TRAIN_MIN_MISSING;
    size_t distinct = 1;
    for (size_t i = 1; i < m && distinct < 3; i++)
        distinct += v[i] != v[i - 1];
    if (distinct > 2) {
        in->cap_lo = quantile(v, m, 0.01);
        in->cap_hi = quantile(v, m, 0.99);
    }
    /* the values as scoring will see them: imputed, capped */
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->test[i])
            continue;
        double x = d->x[i * d->k + j];
        if (x == TRAIN_NOT_APPLICABLE)
            continue;
        if (isnan(x))
            x = in->impute;
        v[n++] = fmin(fmax(x, in->cap_lo), in->cap_hi);
    }
    double lo = n ? gsl_stats_min(v, 1, n) : 0;
    if (distinct > 2 && lo >= 0 && gsl_stats_skew(v, 1, n) > TRAIN_SKEW_LOG) {
        /* ln where every value is positive, so a power law stays linear */
        in->use_log = lo > 0 ? MODEL_LOG : MODEL_LOG1P;
        for (size_t i = 0; i < n; i++)
            v[i] = in->use_log == MODEL_LOG ? log(v[i]) : log1p(v[i]);
    }
    in->center = gsl_stats_mean(v, 1, n);
    double sd = n > 1 ? gsl_stats_sd_m(v, 1, n, in->center) : 0;
    in->scale = sd > 0 ? sd : 1;
    free(v);
    return ENG_OK;
}

/* qsort's comparator for level names (strcmp cast to it would be called
 * through a pointer of another type, which C leaves undefined). */
static int cmp_level(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The make's levels: base = most frequent in training, others by name. */
static int learn_levels(const struct data *d, struct model_input *in,
                        struct eng_err *err)
{
    char names[MODEL_MAX_LEVELS + 1][MODEL_LEVEL_LEN];
    size_t count[MODEL_MAX_LEVELS + 1];
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->test[i] || !d->make[i][0])
            continue;
        size_t k = 0;
        while (k < n && strcmp(names[k], d->make[i]) != 0)
            k++;
        if (k == n) {
            if (n == MODEL_MAX_LEVELS + 1)
                return eng_err_set(err, ENG_EDATA, "make has more than %d "
                                   "levels", MODEL_MAX_LEVELS + 1);
            snprintf(names[n], MODEL_LEVEL_LEN, "%s", d->make[i]);
            count[n++] = 0;
        }
        count[k]++;
    }
    if (n < 2)
        return eng_err_set(err, ENG_EDATA, "make needs at least two levels "
                           "in training");
    size_t base = 0;
    for (size_t k = 1; k < n; k++) {
        if (count[k] > count[base] ||
            (count[k] == count[base] && strcmp(names[k], names[base]) < 0))
            base = k;
    }
    snprintf(in->base_level, sizeof(in->base_level), "%s", names[base]);
    in->n_levels = 0;
    for (size_t k = 0; k < n; k++) {
        if (k != base)
            memcpy(in->levels[in->n_levels++], names[k], MODEL_LEVEL_LEN);
    }
    /* sorted by name, so the design does not depend on row order */
    qsort(in->levels, in->n_levels, MODEL_LEVEL_LEN, cmp_level);
    return ENG_OK;
}

/* ------------------------------------------------------------------ */
/* Design matrix */

/* What a design column is: input i's value, its missing flag, or a level. */
struct dcol {
    size_t input;
    int role;                      /* 0 value, 1 missing, 2 level */
    size_t level;
};

static void design_row(const struct model *m, const struct dcol *dc,
                       size_t p, const struct data *d, size_t i,
                       const size_t *raw_of, double *row)
{
    row[0] = 1;
    for (size_t c = 1; c < p; c++) {
        const struct model_input *in = &m->inputs[dc[c].input];
        if (dc[c].role == 2) {
            row[c] = strcmp(d->make[i], in->levels[dc[c].level]) == 0;
            continue;
        }
        double x = d->x[i * d->k + raw_of[dc[c].input]];
        /* not applicable: no weight, as model_input_contribution() */
        if (x == TRAIN_NOT_APPLICABLE)
            row[c] = 0;
        else
            row[c] = dc[c].role == 1 ? (double)isnan(x)
                                     : model_transform(in, x);
    }
}

/* The response, weight and offset of row i for the family; 0 = skip. */
static int response(int family, const struct data *d, size_t i, double *y,
                    double *w, double *off)
{
    *w = d->weight[i];
    *off = log(d->exposure[i]);
    switch (family) {
    case GLM_GAMMA:
        if (!(d->claims[i] > 0) || !(d->amount[i] > 0))
            return 0;
        *y = d->amount[i] / d->claims[i];
        *w *= d->claims[i];
        *off = 0;
        return 1;
    case GLM_BINOMIAL:
        *y = d->claims[i] > 0;
        return 1;
    case GLM_GAUSSIAN:
        *y = d->claims[i] / d->exposure[i];
        *w *= d->exposure[i];
        *off = 0;
        return 1;
    default:
        *y = d->claims[i];
        return 1;
    }
}

/*
 * The lowest whole score of the band above quantile f of the sorted
 * scores.  It puts the same scores in the band as the interpolated
 * quantile would, but exactly: interpolating between two equal scores can
 * give 618.0000000000001, which put a score of 618 below its own cut and
 * then, once written to the model file as 618, above it.
 */
static double band_cut(const double *sorted, size_t n, double f)
{
    double delta = (double)(n - 1) * f;
    size_t lo = (size_t)delta;
    return delta > (double)lo && lo + 1 < n ? sorted[lo + 1] : sorted[lo];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void train_output_release(struct train_output *out)
{
    model_free(out->model);
    glm_result_free(out->fit);
    free(out->col_names ? out->col_names[0] : NULL);
    free(out->col_names);
    free(out->test);
    free(out->test_vins);
    memset(out, 0, sizeof(*out));
}

int train_run(const struct train_config *cfg, struct train_output *out,
              struct eng_err *err)
{
    memset(out, 0, sizeof(*out));
    if (cfg->n_columns == 0 || cfg->n_columns > TRAIN_MAX_COLUMNS)
        return eng_err_set(err, ENG_EUSAGE, "between 1 and %d columns",
                           TRAIN_MAX_COLUMNS);
    int feat_of[TRAIN_MAX_COLUMNS];
    int want_make = 0;
    size_t k = 0;
    for (size_t c = 0; c < cfg->n_columns; c++) {
        if (strcmp(cfg->columns[c], "make") == 0) {
            want_make = 1;
            continue;
        }
        int id = feat_find(cfg->columns[c]);
        if (id < 0 || id == FEAT_CURRENCY)
            return eng_err_set(err, ENG_EUSAGE, "unknown or non-numeric "
                               "feature '%s'", cfg->columns[c]);
        feat_of[k++] = id;
    }

    struct labels lb = {0};
    struct data d = {0};
    d.k = k;
    struct model *m = calloc(1, sizeof(*m));
    double *x = NULL, *y = NULL, *w = NULL, *off = NULL, *eta = NULL;
    struct dcol *dc = NULL;
    size_t raw_of[TRAIN_MAX_COLUMNS];
    int rc = m ? labels_grow(&lb, err)
               : eng_err_set(err, ENG_ENOMEM, "out of memory");
    if (rc == ENG_OK)
        rc = load_labels(cfg->labels_path, &lb, err);
    if (rc == ENG_OK)
        rc = load_data(cfg, feat_of, want_make, &lb, &d, out, err);
    if (rc < 0)
        goto out;
    /* said before the transforms, which would blame a feature instead */
    size_t n_fit = 0;
    for (size_t i = 0; i < d.n; i++)
        n_fit += !d.test[i];
    if (n_fit == 0) {
        rc = eng_err_set(err, ENG_EDATA, "no training rows: check that the "
                         "features and labels share VINs");
        goto out;
    }

    /* inputs and their transforms */
    m->family = cfg->family;
    m->link = cfg->link;
    m->transform = cfg->transform;
    m->n_inputs = k + (size_t)want_make;
    m->inputs = calloc(m->n_inputs, sizeof(*m->inputs));
    if (!m->inputs) {
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    size_t ni = 0;
    for (size_t c = 0; c < cfg->n_columns && rc == ENG_OK; c++) {
        struct model_input *in = &m->inputs[ni];
        snprintf(in->name, sizeof(in->name), "%s", cfg->columns[c]);
        in->feat = strcmp(in->name, "make") == 0 ? MODEL_INPUT_MAKE
                                                 : feat_find(in->name);
        set_reason(in);
        if (in->feat == MODEL_INPUT_MAKE) {
            in->beta = NAN;
            rc = learn_levels(&d, in, err);
        } else {
            raw_of[ni] = 0;
            while (feat_of[raw_of[ni]] != in->feat)
                raw_of[ni]++;
            rc = learn_numeric(&d, raw_of[ni], cfg->transform, in, err);
        }
        ni++;
    }
    if (rc < 0)
        goto out;

    /* design columns: intercept, then each input's columns */
    size_t p = 1;
    for (size_t i = 0; i < m->n_inputs; i++)
        p += m->inputs[i].feat == MODEL_INPUT_MAKE ? m->inputs[i].n_levels
             : 1 + (size_t)m->inputs[i].has_missing;
    dc = calloc(p, sizeof(*dc));
    out->col_names = calloc(p, sizeof(char *));
    char *names = calloc(p, 96);
    if (!dc || !out->col_names || !names) {
        free(names);
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < p; c++)
        out->col_names[c] = names + 96 * c;
    snprintf(out->col_names[0], 96, "(Intercept)");
    size_t c = 1;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct model_input *in = &m->inputs[i];
        if (in->feat == MODEL_INPUT_MAKE) {
            for (size_t l = 0; l < in->n_levels; l++, c++) {
                dc[c] = (struct dcol){i, 2, l};
                snprintf(out->col_names[c], 96, "make%s", in->levels[l]);
            }
            continue;
        }
        dc[c] = (struct dcol){i, 0, 0};
        snprintf(out->col_names[c++], 96, "%s%s",
                 in->use_log == MODEL_LOG ? "log:"
                 : in->use_log == MODEL_LOG1P ? "log1p:" : "", in->name);
        if (in->has_missing) {
            dc[c] = (struct dcol){i, 1, 0};
            snprintf(out->col_names[c++], 96, "%s:missing", in->name);
        }
    }

    /* training rows into the design */
    size_t n = 0;
    for (size_t i = 0; i < d.n; i++)
        n += !d.test[i];
    x = malloc((n ? n : 1) * p * sizeof(double));
    y = malloc((n ? n : 1) * sizeof(double));
    w = malloc((n ? n : 1) * sizeof(double));
    off = malloc((n ? n : 1) * sizeof(double));
    if (!x || !y || !w || !off) {
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    size_t r = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (d.test[i])
            continue;
        if (!response(cfg->family, &d, i, &y[r], &w[r], &off[r])) {
            out->skipped_family++;
            continue;
        }
        design_row(m, dc, p, &d, i, raw_of, &x[r * p]);
        r++;
    }
    n = r;
    out->n_train = n;
    if (n == 0) {
        rc = eng_err_set(err, ENG_EDATA, "no training rows: check that the "
                         "features and labels share VINs");
        goto out;
    }

    struct glm_options opts;
    glm_options_init(&opts, (enum glm_family)cfg->family);
    opts.link = (enum glm_link)cfg->link;
    opts.lambda = cfg->lambda;
    opts.threads = cfg->jobs > 0 ? cfg->jobs : 1;
    struct glm_data gd = {x, y, cfg->family == GLM_GAMMA ||
                                cfg->family == GLM_GAUSSIAN ? NULL : off,
                          w, n, p};
    out->fit = glm_fit(&gd, &opts, err);
    if (!out->fit) {
        rc = err ? err->code : ENG_ESTAT;
        goto out;
    }
    const struct glm_result *g = out->fit;

    /* coefficients into the inputs */
    m->intercept = g->coef[0];
    m->intercept_se = g->se[0];
    for (c = 1; c < p; c++) {
        struct model_input *in = &m->inputs[dc[c].input];
        double b = g->aliased[c] ? NAN : g->coef[c];
        double se = g->aliased[c] ? NAN : g->se[c];
        if (dc[c].role == 0) {
            in->beta = b;
            in->se = se;
        } else if (dc[c].role == 1) {
            in->beta_missing = b;
            in->se_missing = se;
        } else {
            in->beta_level[dc[c].level] = b;
            in->se_level[dc[c].level] = se;
        }
    }
    if (isnan(m->intercept)) {
        rc = eng_err_set(err, ENG_ESTAT, "the intercept is aliased");
        goto out;
    }

    /* baselines, portfolio mean frequency, scores for the band cuts */
    eta = malloc(n * sizeof(double));
    if (!eta) {
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    double mu_sum = 0, expo_sum = 0;
    for (size_t i = 0; i < n; i++) {
        const double *row = &x[i * p];
        double e = m->intercept;
        for (c = 1; c < p; c++) {
            double b = g->aliased[c] ? 0 : g->coef[c];
            double contrib = b * row[c];
            e += contrib;
            m->inputs[dc[c].input].baseline += contrib / (double)n;
        }
        eta[i] = e;
        double expo = gd.offset ? exp(off[i]) : 1.0;
        mu_sum += glm_linkinv((enum glm_link)cfg->link, e) * expo * w[i];
        expo_sum += expo * w[i];
    }
    m->log_mean_rate = log(mu_sum / expo_sum);
    m->score_center = 600;
    m->score_factor = 50 / log(2.0);
    m->score_min = 1;
    m->score_max = 999;
    for (size_t i = 0; i < n; i++) {
        double rel = glm_linkinv((enum glm_link)cfg->link, eta[i]) /
                     exp(m->log_mean_rate);
        eta[i] = model_score_of(m, rel);
    }
    qsort(eta, n, sizeof(double), cmp_double);
    for (int b = 0; b < 4; b++)
        m->band_cuts[b] = band_cut(eta, n, 0.8 - 0.2 * b);

    m->fit.n = n;
    m->fit.deviance = g->deviance;
    m->fit.null_deviance = g->null_deviance;
    m->fit.df_residual = g->df_residual;
    m->fit.df_null = g->df_null;
    m->fit.aic = g->aic;
    m->fit.loglik = g->loglik;
    m->fit.dispersion = g->dispersion;
    m->fit.pearson_dispersion = g->pearson_dispersion;
    m->fit.iterations = g->iterations;
    m->fit.converged = g->converged;
    snprintf(m->trained_at, sizeof(m->trained_at), "%s",
             cfg->trained_at ? cfg->trained_at : "");
    snprintf(m->command, sizeof(m->command), "%s",
             cfg->command ? cfg->command : "");
    /* fingerprint of the joined training data, in row order */
    unsigned long long h = ENG_FNV_BASIS;
    for (size_t i = 0; i < d.n; i++) {
        h = eng_fnv(h, d.vin[i], strlen(d.vin[i]));
        h = eng_fnv(h, &d.claims[i], sizeof(double));
        h = eng_fnv(h, &d.exposure[i], sizeof(double));
        h = eng_fnv(h, &d.x[i * d.k], d.k * sizeof(double));
    }
    snprintf(m->data_fingerprint, sizeof(m->data_fingerprint), "%016llx", h);

    /* held-out rows, scored with the fitted model */
    size_t nt = 0;
    for (size_t i = 0; i < d.n; i++)
        nt += d.test[i];
    out->test = calloc(nt ? nt : 1, sizeof(*out->test));
    out->test_vins = calloc(nt ? nt : 1, 18);
    if (!out->test || !out->test_vins) {
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    double *row = malloc(p * sizeof(double));
    if (!row) {
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < d.n; i++) {
        if (!d.test[i])
            continue;
        design_row(m, dc, p, &d, i, raw_of, row);
        double e = m->intercept;
        for (c = 1; c < p; c++)
            e += (g->aliased[c] ? 0 : g->coef[c]) * row[c];
        struct train_row *t = &out->test[out->n_test];
        t->y = d.claims[i];
        t->exposure = d.exposure[i];
        t->pred = glm_linkinv((enum glm_link)cfg->link, e) * d.exposure[i];
        snprintf(out->test_vins + 18 * out->n_test, 18, "%s", d.vin[i]);
        out->n_test++;
    }
    free(row);
    out->model = m;
    m = NULL;
out:
    if (rc < 0)
        train_output_release(out);
    model_free(m);
    free(dc);
    free(x);
    free(y);
    free(w);
    free(off);
    free(eta);
    free(lb.slot);
    data_free(&d);
    return rc;
}
