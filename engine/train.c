/* train — features + labels -> fitted model. */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "factors.h"
#include "feat.h"
#include "glm.h"
#include "label.h"
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

/* ------------------------------------------------------------------ */
/* The joined data set: raw feature values per row, labels, split. */

/* A raw value that does not apply to the row's vehicle (feat_applies()). */
#define TRAIN_NOT_APPLICABLE INFINITY

/* A categorical column's levels as met in the data. */
struct catdict {
    size_t n;
    char names[MODEL_MAX_LEVELS + 1][MODEL_LEVEL_LEN];
    int map[MODEL_MAX_LEVELS + 1];  /* -> model level index, -1 = base */
    int base;                       /* the base level's index */
};

/* What one --columns entry is, and where its values come from. */
enum { SPEC_FEAT, SPEC_MAKE, SPEC_OWN_NUM, SPEC_OWN_CAT, SPEC_INTERACTION };

struct spec {
    char name[MODEL_NAME_LEN];
    int kind;
    int feat;                      /* SPEC_FEAT: feat id */
    const struct factors *fx;      /* own: the table holding it */
    int fxcol;
    size_t slot;                   /* index in data x (numeric) or lev */
    size_t ia, ib;                 /* interaction: spec indices */
};

struct data {
    size_t n, cap, k;              /* rows, capacity, raw columns */
    size_t nc;                     /* categorical columns */
    int *lev;                      /* n * nc dictionary indices, -1 none */
    struct catdict cat[TRAIN_MAX_CATEGORICAL];
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
    free(d->lev);
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
    int *lv = realloc(d->lev, cap * (d->nc ? d->nc : 1) * sizeof(int));
    if (lv)
        d->lev = lv;
    if (!ok || !t || !lv)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    d->cap = cap;
    return ENG_OK;
}

/*
 * The dictionary index of level s in column c, added when new, into *code
 * (-1 for an empty cell).  ENG_EDATA when the column has too many levels
 * or the level is too long.
 */
static int dict_code(struct data *d, size_t c, const char *name,
                     const char *s, int *code, struct eng_err *err)
{
    struct catdict *cd = &d->cat[c];
    *code = -1;
    if (!*s)
        return ENG_OK;
    for (size_t k = 0; k < cd->n; k++) {
        if (strcmp(cd->names[k], s) == 0) {
            *code = (int)k;
            return ENG_OK;
        }
    }
    if (cd->n == MODEL_MAX_LEVELS + 1)
        return eng_err_set(err, ENG_EDATA, "'%s' has more than %d levels",
                           name, MODEL_MAX_LEVELS + 1);
    if (strlen(s) >= MODEL_LEVEL_LEN)
        return eng_err_set(err, ENG_EDATA, "'%s': level '%.40s' is longer "
                           "than %d bytes", name, s, MODEL_LEVEL_LEN - 1);
    snprintf(cd->names[cd->n], MODEL_LEVEL_LEN, "%s", s);
    *code = (int)cd->n++;
    return ENG_OK;
}

/* The text of own column sp for the features row (vin, policy). */
static const char *own_cell(const struct spec *sp, const char *vin,
                            const char *policy)
{
    const char *key = strcmp(factors_key(sp->fx), "vin") == 0 ? vin
                                                                 : policy;
    long r = key ? factors_find(sp->fx, key) : -1;
    return r < 0 ? "" : factors_cell(sp->fx, r, sp->fxcol);
}

static int load_data(const struct train_config *cfg, const struct spec *sp,
                     size_t ns, const struct label_set *lb, struct data *d,
                     struct train_output *out, struct eng_err *err)
{
    struct tab *t = tab_open(cfg->features_path, err);
    if (!t)
        return err ? err->code : ENG_EIO;
    int cv = tab_col(t, "vin"), cs = tab_col(t, "status");
    int cm = tab_col(t, "make"), cpol = tab_col(t, "policy_id");
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
    for (size_t j = 0; rc == ENG_OK && j < ns; j++) {
        col[j] = -1;
        if ((sp[j].kind == SPEC_OWN_NUM || sp[j].kind == SPEC_OWN_CAT) &&
            strcmp(factors_key(sp[j].fx), "policy_id") == 0 && cpol < 0)
            rc = eng_err_set(err, ENG_EDATA, "features '%s' have no "
                             "policy_id column to join '%s' by policy_id",
                             cfg->features_path, sp[j].name);
        if (sp[j].kind == SPEC_MAKE && cm < 0)
            rc = eng_err_set(err, ENG_EDATA, "features '%s' have no 'make' "
                             "column", cfg->features_path);
        if (sp[j].kind != SPEC_FEAT)
            continue;
        col[j] = tab_col(t, feat_name(sp[j].feat));
        if (col[j] < 0)
            rc = eng_err_set(err, ENG_EDATA, "features '%s' have no column "
                             "'%s'", cfg->features_path, feat_name(sp[j].feat));
    }
    const char *const *f;
    while (rc == ENG_OK && (rc = tab_next(t, &f, err)) == 1) {
        rc = ENG_OK;
        if (strcmp(f[cs], "ok") != 0) {
            out->skipped_status++;
            continue;
        }
        const struct label *l = label_find(lb, f[cv]);
        if (!l) {
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
        const char *pol = cpol >= 0 ? f[cpol] : NULL;
        for (size_t j = 0; j < ns && rc == ENG_OK; j++) {
            double v;
            const char *txt;
            int code;
            switch (sp[j].kind) {
            case SPEC_FEAT:
                if (cell(f[col[j]], &v) < 0) {
                    rc = eng_err_set(err, ENG_EDATA, "%s:%ld: '%s' is not a "
                                     "number in column '%s'",
                                     cfg->features_path, tab_line(t),
                                     f[col[j]], tab_name(t, (size_t)col[j]));
                    break;
                }
                if (!feat_applies(sp[j].feat, &ctx))
                    v = TRAIN_NOT_APPLICABLE;
                d->x[i * d->k + sp[j].slot] = v;
                missing |= isnan(v);
                break;
            case SPEC_OWN_NUM:
                v = factors_num(own_cell(&sp[j], f[cv], pol));
                d->x[i * d->k + sp[j].slot] = v;
                missing |= isnan(v);
                break;
            case SPEC_MAKE:
            case SPEC_OWN_CAT:
                txt = sp[j].kind == SPEC_MAKE ? f[cm]
                                              : own_cell(&sp[j], f[cv], pol);
                rc = dict_code(d, sp[j].slot, sp[j].name, txt, &code, err);
                if (rc < 0)
                    break;
                d->lev[i * d->nc + sp[j].slot] = code;
                /* the make may be unknown; an own factor must be given */
                missing |= code < 0 && sp[j].kind == SPEC_OWN_CAT;
                break;
            default:
                break;
            }
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

/*
 * A categorical column's levels: the base is the level given by --base,
 * else the most frequent in training (ties by name); the others sorted by
 * name, so the design does not depend on row order.  The training
 * exposure of each level is kept for the summary and the rating table.
 */
static int learn_levels(struct data *d, size_t c, const char *base_want,
                        struct model_input *in, struct eng_err *err)
{
    struct catdict *cd = &d->cat[c];
    size_t count[MODEL_MAX_LEVELS + 1] = {0};
    double expo[MODEL_MAX_LEVELS + 1] = {0};
    for (size_t i = 0; i < d->n; i++) {
        int k = d->lev[i * d->nc + c];
        if (d->test[i] || k < 0)
            continue;
        count[k]++;
        expo[k] += d->exposure[i];
    }
    size_t n = 0, base = 0;
    for (size_t k = 0; k < cd->n; k++)
        n += count[k] > 0;
    if (n < 2)
        return eng_err_set(err, ENG_EDATA, "%s needs at least two levels "
                           "in training", in->name);
    if (n > MODEL_MAX_LEVELS + 1)
        return eng_err_set(err, ENG_EDATA, "%s has more than %d levels",
                           in->name, MODEL_MAX_LEVELS + 1);
    int found = 0;
    for (size_t k = 0; k < cd->n; k++) {
        if (!count[k])
            continue;
        if (base_want) {
            if (strcmp(cd->names[k], base_want) == 0) {
                base = k;
                found = 1;
            }
        } else if (!found || count[k] > count[base] ||
                   (count[k] == count[base] &&
                    strcmp(cd->names[k], cd->names[base]) < 0)) {
            base = k;
            found = 1;
        }
    }
    if (!found)
        return eng_err_set(err, ENG_EUSAGE, "--base %s=%s: no training row "
                           "has that level", in->name, base_want);
    snprintf(in->base_level, sizeof(in->base_level), "%s", cd->names[base]);
    in->base_exposure = expo[base];
    cd->base = (int)base;
    in->n_levels = 0;
    for (size_t k = 0; k < cd->n; k++) {
        if (k != base && count[k])
            memcpy(in->levels[in->n_levels++], cd->names[k],
                   MODEL_LEVEL_LEN);
    }
    qsort(in->levels, in->n_levels, MODEL_LEVEL_LEN, cmp_level);
    for (size_t k = 0; k < cd->n; k++) {
        cd->map[k] = -1;
        for (size_t l = 0; l < in->n_levels; l++) {
            if (strcmp(in->levels[l], cd->names[k]) == 0) {
                cd->map[k] = (int)l;
                in->level_exposure[l] = expo[k];
            }
        }
    }
    return ENG_OK;
}

/*
 * A numeric input's rating-table bins: its training deciles as edges
 * (from the stored percentiles) and the exposure whose value falls in
 * each; missing and not-applicable values are in none.
 */
static void learn_bins(const struct data *d, size_t j,
                       struct model_input *in)
{
    if (in->n_quantiles != MODEL_N_QUANTILES)
        return;
    in->n_bins = MODEL_N_BINS;
    for (int b = 0; b + 1 < MODEL_N_BINS; b++)
        in->bin_edges[b] = in->quantiles[(b + 1) * 10 - 1];
    for (size_t i = 0; i < d->n; i++) {
        double x = d->x[i * d->k + j];
        if (d->test[i] || isnan(x) || x == TRAIN_NOT_APPLICABLE)
            continue;
        int b = 0;
        while (b + 1 < MODEL_N_BINS && x > in->bin_edges[b])
            b++;
        in->bin_exposure[b] += d->exposure[i];
    }
}

/* ------------------------------------------------------------------ */
/* Design matrix */

/*
 * What a design column is: input i's value, its missing flag, a level, or
 * a term of an interaction.
 */
struct dcol {
    size_t input;
    int role;                      /* 0 value, 1 missing, 2 level, 3 term */
    size_t level;
};

/* Input i's transformed value on data row r (0 where not applicable). */
static double row_z(const struct model_input *in, const struct data *d,
                    size_t r, size_t slot)
{
    double x = d->x[r * d->k + slot];
    return x == TRAIN_NOT_APPLICABLE ? 0.0 : model_transform(in, x);
}

/* Input i's model level on data row r, -1 at the base. */
static int row_level(const struct data *d, size_t r, size_t slot)
{
    int code = d->lev[r * d->nc + slot];
    return code < 0 ? -1 : d->cat[slot].map[code];
}

static void design_row(const struct model *m, const struct dcol *dc,
                       size_t p, const struct data *d, size_t i,
                       const size_t *slot, double *row)
{
    row[0] = 1;
    for (size_t c = 1; c < p; c++) {
        size_t ii = dc[c].input;
        const struct model_input *in = &m->inputs[ii];
        if (dc[c].role == 2) {
            row[c] = row_level(d, i, slot[ii]) == (int)dc[c].level;
            continue;
        }
        if (dc[c].role == 3) {
            const struct model_input *a = &m->inputs[in->ia];
            const struct model_input *b = &m->inputs[in->ib];
            size_t sa = slot[in->ia], sb = slot[in->ib];
            size_t t = dc[c].level;
            if (!a->categorical && !b->categorical)
                row[c] = row_z(a, d, i, sa) * row_z(b, d, i, sb);
            else if (a->categorical && b->categorical)
                row[c] = row_level(d, i, sa) == (int)(t % a->n_levels) &&
                         row_level(d, i, sb) == (int)(t / a->n_levels);
            else if (a->categorical)
                row[c] = (row_level(d, i, sa) == (int)t) *
                         row_z(b, d, i, sb);
            else
                row[c] = (row_level(d, i, sb) == (int)t) *
                         row_z(a, d, i, sa);
            continue;
        }
        double x = d->x[i * d->k + slot[ii]];
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

/*
 * Few distinct training scores (a make-only model has one per level) give
 * equal fifths; a model file needs cut points that strictly decrease from
 * A to D and lie in score_min + 1 .. score_max, so that each band can hold
 * a score.  Tied cuts are moved a point apart, upwards first.
 */
static void separate_cuts(struct model *m)
{
    double floor_cut = m->score_min + 1;
    for (int b = 3; b >= 0; b--) {
        m->band_cuts[b] = fmax(m->band_cuts[b], floor_cut);
        floor_cut = m->band_cuts[b] + 1;
    }
    double ceil_cut = m->score_max;
    for (int b = 0; b < 4; b++) {
        m->band_cuts[b] = fmin(m->band_cuts[b], ceil_cut);
        ceil_cut = m->band_cuts[b] - 1;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The linear predictor of a design row (aliased columns count 0). */
static double eta_raw(const struct glm_result *g, const double *row,
                      size_t p)
{
    double e = 0;
    for (size_t c = 0; c < p; c++)
        e += (g->aliased[c] ? 0 : g->coef[c]) * row[c];
    return e;
}

/*
 * The design matrix as CSV: R's column names, then the response, the
 * prior weight and the offset (0 when the family has none), one row per
 * training row, numbers that read back exactly.
 */
static int write_design(const char *path, char *const *names,
                        const double *x, const double *y, const double *w,
                        const double *off, size_t n, size_t p,
                        struct eng_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return eng_err_set(err, ENG_EIO, "cannot write '%s': %s", path,
                           strerror(errno));
    for (size_t c = 0; c < p; c++)
        fprintf(f, "\"%s\",", names[c]);
    fprintf(f, "y,weight,offset\n");
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < p; c++)
            fprintf(f, "%.17g,", x[i * p + c]);
        fprintf(f, "%.17g,%.17g,%.17g\n", y[i], w[i], off ? off[i] : 0.0);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return eng_err_set(err, ENG_EIO, "cannot write '%s'", path);
    return ENG_OK;
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

/* The level "col=level" of --base names for col, or NULL. */
static const char *base_of(const struct train_config *cfg, const char *col)
{
    size_t n = strlen(col);
    for (size_t i = 0; i < cfg->n_bases; i++) {
        if (strncmp(cfg->bases[i], col, n) == 0 && cfg->bases[i][n] == '=')
            return cfg->bases[i] + n + 1;
    }
    return NULL;
}

static int spec_find(const struct spec *sp, size_t ns, const char *name)
{
    for (size_t j = 0; j < ns; j++) {
        if (strcmp(sp[j].name, name) == 0)
            return (int)j;
    }
    return -1;
}

/*
 * What each --columns entry is: a catalogue feature, the make, an own
 * factor (a column of the features CSV, else of --factors; numeric when
 * every value is a number), or a:b of two other entries.  Main effects
 * keep their order; interactions follow them, as R's formula orders
 * terms.
 */
static int parse_specs(const struct train_config *cfg, struct factors *ff,
                       struct factors *fo, struct spec *sp, size_t *ns,
                       struct data *d, struct eng_err *err)
{
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t c = 0; c < cfg->n_columns; c++) {
            const char *name = cfg->columns[c];
            const char *colon = strchr(name, ':');
            if ((colon != NULL) != pass)
                continue;
            if (strlen(name) >= MODEL_NAME_LEN)
                return eng_err_set(err, ENG_EUSAGE, "column name '%.40s...' "
                                   "is too long", name);
            if (spec_find(sp, n, name) >= 0)
                return eng_err_set(err, ENG_EUSAGE, "column '%s' is given "
                                   "twice", name);
            struct spec *s = &sp[n];
            memset(s, 0, sizeof(*s));
            snprintf(s->name, sizeof(s->name), "%s", name);
            if (colon) {
                char a[MODEL_NAME_LEN];
                snprintf(a, sizeof(a), "%.*s", (int)(colon - name), name);
                int ia = spec_find(sp, n, a), ib = spec_find(sp, n, colon + 1);
                if (ia < 0 || ib < 0 || ia == ib)
                    return eng_err_set(err, ENG_EUSAGE, "interaction '%s': "
                                       "both sides must be other columns "
                                       "of --columns (main effects)", name);
                if (sp[ia].kind == SPEC_INTERACTION ||
                    sp[ib].kind == SPEC_INTERACTION)
                    return eng_err_set(err, ENG_EUSAGE, "interaction '%s': "
                                       "only two-way interactions", name);
                s->kind = SPEC_INTERACTION;
                s->ia = (size_t)(ia < ib ? ia : ib);
                s->ib = (size_t)(ia < ib ? ib : ia);
            } else if (strcmp(name, "make") == 0) {
                s->kind = SPEC_MAKE;
            } else if ((s->feat = feat_find(name)) >= 0) {
                if (s->feat == FEAT_CURRENCY)
                    return eng_err_set(err, ENG_EUSAGE, "feature '%s' is not "
                                       "numeric", name);
                s->kind = SPEC_FEAT;
            } else {
                s->fx = ff && factors_col(ff, name) >= 0 ? ff
                        : fo && factors_col(fo, name) >= 0 ? fo : NULL;
                if (!s->fx)
                    return eng_err_set(err, ENG_EUSAGE, "unknown column '%s': "
                                       "not a feature, nor a column of the "
                                       "features CSV%s", name,
                                       cfg->factors_path ? " or --factors"
                                                         : "");
                s->fxcol = factors_col(s->fx, name);
                s->kind = factors_numeric(s->fx, s->fxcol) ? SPEC_OWN_NUM
                                                           : SPEC_OWN_CAT;
            }
            if (s->kind == SPEC_MAKE || s->kind == SPEC_OWN_CAT) {
                if (d->nc == TRAIN_MAX_CATEGORICAL)
                    return eng_err_set(err, ENG_EUSAGE, "at most %d "
                                       "categorical columns",
                                       TRAIN_MAX_CATEGORICAL);
                s->slot = d->nc++;
            } else if (s->kind != SPEC_INTERACTION) {
                s->slot = d->k++;
            }
            n++;
        }
    }
    for (size_t i = 0; i < cfg->n_bases; i++) {
        const char *eq = strchr(cfg->bases[i], '=');
        int j = eq ? spec_find(sp, n, "") : -1;
        for (size_t k = 0; eq && k < n; k++) {
            if (strlen(sp[k].name) == (size_t)(eq - cfg->bases[i]) &&
                strncmp(sp[k].name, cfg->bases[i], (size_t)(eq - cfg->bases[i]))
                == 0)
                j = (int)k;
        }
        if (j < 0 || (sp[j].kind != SPEC_MAKE && sp[j].kind != SPEC_OWN_CAT))
            return eng_err_set(err, ENG_EUSAGE, "--base %s: not a "
                               "categorical column of --columns",
                               cfg->bases[i]);
    }
    for (size_t i = 0; i < cfg->n_signs; i++) {
        const char *eq = strchr(cfg->signs[i], '=');
        int j = -1;
        for (size_t k = 0; eq && k < n; k++) {
            if (strlen(sp[k].name) == (size_t)(eq - cfg->signs[i]) &&
                strncmp(sp[k].name, cfg->signs[i], (size_t)(eq - cfg->signs[i]))
                == 0)
                j = (int)k;
        }
        if (j < 0 || !(strcmp(eq + 1, "+") == 0 || strcmp(eq + 1, "-") == 0)
            || sp[j].kind == SPEC_MAKE || sp[j].kind == SPEC_OWN_CAT)
            return eng_err_set(err, ENG_EUSAGE, "--sign %s: give a numeric "
                               "column of --columns and + or -",
                               cfg->signs[i]);
    }
    *ns = n;
    return ENG_OK;
}

/* R's name of a categorical input's level column: "territoryNorth". */
static void level_name(const struct model_input *in, size_t k, char *out,
                       size_t n)
{
    snprintf(out, n, "%s%s", in->name, in->levels[k]);
}

static int train_once(const struct train_config *cfg,
                      struct train_output *out, struct eng_err *err);

/*
 * --sign: a fit whose estimate for a constrained input has the wrong sign
 * is refitted without that input (and its interactions), until none is
 * wrong; what was dropped is reported in out->sign_dropped.
 */
int train_run(const struct train_config *cfg, struct train_output *out,
              struct eng_err *err)
{
    const char *cols[TRAIN_MAX_COLUMNS], *keep[TRAIN_MAX_COLUMNS];
    struct train_config c = *cfg;
    char dropped[512] = "";
    for (;;) {
        int rc = train_once(&c, out, err);
        if (rc < 0 || c.n_signs == 0)
            break;
        const struct model *m = out->model;
        const char *bad = NULL;
        char why[128] = "";
        for (size_t i = 0; i < c.n_signs && !bad; i++) {
            const char *eq = strchr(c.signs[i], '=');
            for (size_t k = 0; k < m->n_inputs; k++) {
                const struct model_input *in = &m->inputs[k];
                if (strlen(in->name) != (size_t)(eq - c.signs[i]) ||
                    strncmp(in->name, c.signs[i], strlen(in->name)) != 0)
                    continue;
                double want = eq[1] == '+' ? 1 : -1;
                if (in->beta * want < 0) {
                    bad = c.signs[i];
                    snprintf(why, sizeof(why), "%s (estimate %.4g, wanted "
                             "%c)", in->name, in->beta, eq[1]);
                }
            }
        }
        if (!bad)
            break;
        size_t len = strlen(dropped);
        snprintf(dropped + len, sizeof(dropped) - len, "%s%s",
                 len ? "; " : "", why);
        size_t nl = (size_t)(strchr(bad, '=') - bad), n = 0;
        for (size_t k = 0; k < c.n_columns; k++) {
            const char *col = c.columns[k];
            const char *colon = strchr(col, ':');
            int same = strlen(col) == nl && strncmp(col, bad, nl) == 0;
            int in_ix = colon &&
                        ((size_t)(colon - col) == nl &&
                         strncmp(col, bad, nl) == 0 ? 1
                         : strlen(colon + 1) == nl &&
                           strncmp(colon + 1, bad, nl) == 0);
            if (!same && !in_ix)
                cols[n++] = col;
        }
        if (n == 0) {
            train_output_release(out);
            return eng_err_set(err, ENG_ESTAT, "--sign: every input has the "
                               "wrong sign (%s)", dropped);
        }
        c.columns = cols;
        c.n_columns = n;
        /* the constraint of the dropped input goes with it */
        const char *sg[TRAIN_MAX_COLUMNS];
        size_t ng = 0;
        for (size_t k = 0; k < c.n_signs; k++) {
            if (c.signs[k] != bad)
                sg[ng++] = c.signs[k];
        }
        memcpy(keep, sg, ng * sizeof(*sg));
        c.signs = keep;
        c.n_signs = ng;
        train_output_release(out);
    }
    if (out->model)
        snprintf(out->sign_dropped, sizeof(out->sign_dropped), "%s",
                 dropped);
    return out->model ? ENG_OK : err ? err->code : ENG_ESTAT;
}

static int train_once(const struct train_config *cfg,
                      struct train_output *out, struct eng_err *err)
{
    memset(out, 0, sizeof(*out));
    if (cfg->n_columns == 0 || cfg->n_columns > TRAIN_MAX_COLUMNS)
        return eng_err_set(err, ENG_EUSAGE, "between 1 and %d columns",
                           TRAIN_MAX_COLUMNS);
    struct label_set *lb = NULL;
    struct data d = {0};
    struct spec sp[TRAIN_MAX_COLUMNS];
    size_t ns = 0;
    struct factors *ff = NULL, *fo = NULL;
    struct model *m = calloc(1, sizeof(*m));
    double *x = NULL, *y = NULL, *w = NULL, *off = NULL, *eta = NULL;
    struct dcol *dc = NULL;
    size_t slot[TRAIN_MAX_COLUMNS];
    int rc = m ? ENG_OK : eng_err_set(err, ENG_ENOMEM, "out of memory");
    /* own factors: the features CSV's other columns, then --factors */
    const char *own[TRAIN_MAX_COLUMNS];
    size_t n_own = 0;
    for (size_t c = 0; c < cfg->n_columns; c++) {
        if (!strchr(cfg->columns[c], ':') &&
            strcmp(cfg->columns[c], "make") != 0 &&
            feat_find(cfg->columns[c]) < 0)
            own[n_own++] = cfg->columns[c];
    }
    if (rc == ENG_OK && n_own) {
        ff = factors_load(cfg->features_path, own, n_own, err);
        rc = ff ? ENG_OK : err ? err->code : ENG_EDATA;
    }
    if (rc == ENG_OK && n_own && cfg->factors_path) {
        fo = factors_load(cfg->factors_path, own, n_own, err);
        rc = fo ? ENG_OK : err ? err->code : ENG_EDATA;
    }
    if (rc == ENG_OK)
        rc = parse_specs(cfg, ff, fo, sp, &ns, &d, err);
    if (rc == ENG_OK) {
        lb = label_load(cfg->labels_path, LABEL_CLAIMS, err);
        rc = lb ? ENG_OK : err ? err->code : ENG_EDATA;
    }
    if (rc == ENG_OK)
        rc = load_data(cfg, sp, ns, lb, &d, out, err);
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

    /* inputs and their transforms, in the order of the specs */
    m->family = cfg->family;
    m->link = cfg->link;
    m->transform = cfg->transform;
    m->n_inputs = ns;
    m->inputs = calloc(m->n_inputs, sizeof(*m->inputs));
    if (!m->inputs) {
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ns && rc == ENG_OK; i++) {
        struct model_input *in = &m->inputs[i];
        memcpy(in->name, sp[i].name, sizeof(in->name));
        slot[i] = sp[i].slot;
        switch (sp[i].kind) {
        case SPEC_INTERACTION:
            in->feat = MODEL_INPUT_INTERACTION;
            in->ia = (int)sp[i].ia;
            in->ib = (int)sp[i].ib;
            in->beta = NAN;
            break;
        case SPEC_MAKE:
        case SPEC_OWN_CAT:
            in->feat = sp[i].kind == SPEC_MAKE ? MODEL_INPUT_MAKE
                                               : MODEL_INPUT_OWN;
            in->categorical = 1;
            if (sp[i].kind == SPEC_MAKE)
                set_reason(in);
            in->beta = NAN;
            rc = learn_levels(&d, sp[i].slot, base_of(cfg, in->name), in,
                              err);
            break;
        default:
            in->feat = sp[i].kind == SPEC_FEAT ? sp[i].feat
                                               : MODEL_INPUT_OWN;
            if (sp[i].kind == SPEC_FEAT)
                set_reason(in);
            else
                in->shown = -1;
            rc = learn_numeric(&d, sp[i].slot, cfg->transform, in, err);
            if (rc == ENG_OK)
                learn_bins(&d, sp[i].slot, in);
            break;
        }
    }
    if (rc < 0)
        goto out;
    /* an interaction's terms, now that its operands' levels are known */
    for (size_t i = 0; i < ns; i++) {
        struct model_input *in = &m->inputs[i];
        if (in->feat != MODEL_INPUT_INTERACTION)
            continue;
        const struct model_input *a = &m->inputs[in->ia];
        const struct model_input *b = &m->inputs[in->ib];
        size_t na = a->categorical ? a->n_levels : 1;
        size_t nb = b->categorical ? b->n_levels : 1;
        in->n_levels = a->categorical || b->categorical ? na * nb : 0;
        if (in->n_levels > MODEL_MAX_LEVELS) {
            rc = eng_err_set(err, ENG_EUSAGE, "interaction '%s' has %zu "
                             "terms, more than %d", in->name, in->n_levels,
                             MODEL_MAX_LEVELS);
            goto out;
        }
        for (size_t t = 0; t < in->n_levels; t++) {
            const char *la = a->categorical ? a->levels[t % na] : "";
            const char *lbn = b->categorical ? b->levels[t / na] : "";
            snprintf(in->levels[t], MODEL_LEVEL_LEN, "%.15s%s%.15s", la,
                     *la && *lbn ? ":" : "", lbn);
        }
    }

    /* design columns: intercept, then each input's columns */
    size_t p = 1;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct model_input *in = &m->inputs[i];
        p += in->feat == MODEL_INPUT_INTERACTION
             ? (in->n_levels ? in->n_levels : 1)
             : in->categorical ? in->n_levels : 1 + (size_t)in->has_missing;
    }
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
        if (in->feat == MODEL_INPUT_INTERACTION) {
            const struct model_input *a = &m->inputs[in->ia];
            const struct model_input *b = &m->inputs[in->ib];
            size_t na = a->categorical ? a->n_levels : 1;
            size_t nt = in->n_levels ? in->n_levels : 1;
            for (size_t t = 0; t < nt; t++, c++) {
                char sa[64], sb[64];
                if (a->categorical)
                    level_name(a, t % na, sa, sizeof(sa));
                else
                    snprintf(sa, sizeof(sa), "%s", a->name);
                if (b->categorical)
                    level_name(b, t / na, sb, sizeof(sb));
                else
                    snprintf(sb, sizeof(sb), "%s", b->name);
                dc[c] = (struct dcol){i, 3, t};
                snprintf(out->col_names[c], 96, "%.47s:%.47s", sa, sb);
            }
            continue;
        }
        if (in->categorical) {
            for (size_t l = 0; l < in->n_levels; l++, c++) {
                dc[c] = (struct dcol){i, 2, l};
                level_name(in, l, out->col_names[c], 96);
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
        design_row(m, dc, p, &d, i, slot, &x[r * p]);
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
        if (dc[c].role == 3 && in->n_levels == 0) {
            in->beta = b;
            in->se = se;
        } else if (dc[c].role == 3 || dc[c].role == 2) {
            in->beta_level[dc[c].level] = b;
            in->se_level[dc[c].level] = se;
        } else if (dc[c].role == 0) {
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
    separate_cuts(m);

    /* deviance residuals, as summary.glm prints their quantiles */
    for (size_t i = 0; i < n; i++) {
        double mu = glm_linkinv((enum glm_link)cfg->link,
                                eta_raw(g, &x[i * p], p) +
                                (gd.offset ? off[i] : 0));
        double dv = glm_deviance((enum glm_family)cfg->family, &y[i], &mu,
                                 &w[i], 1);
        eta[i] = (y[i] > mu ? 1 : -1) * sqrt(fmax(dv, 0));
    }
    qsort(eta, n, sizeof(double), cmp_double);
    for (int q = 0; q < 5; q++)
        out->resid_q[q] = gsl_stats_quantile_from_sorted_data(eta, 1, n,
                                                              q / 4.0);
    if (cfg->design_out &&
        (rc = write_design(cfg->design_out, out->col_names, x, y, w,
                           gd.offset ? off : NULL, n, p, err)) < 0)
        goto out;

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
        int unseen = 0;
        for (size_t s = 0; s < d.nc; s++) {
            int code = d.lev[i * d.nc + s];
            unseen |= code >= 0 && d.cat[s].map[code] < 0 &&
                      code != d.cat[s].base;
        }
        out->unseen_test += (size_t)unseen;
        design_row(m, dc, p, &d, i, slot, row);
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
    label_free(lb);
    data_free(&d);
    factors_free(ff);
    factors_free(fo);
    return rc;
}
