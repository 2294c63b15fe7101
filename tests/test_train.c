/*
 * Tests for train: a features CSV and a labels CSV are simulated with GSL
 * (mt19937, fixed seed) from a known Poisson model on two features and the
 * make, plus columns shaped to trigger each transform, and written to
 * tests/tmp.  Checked: recovery of the true coefficients, skipped rows, the
 * standard transforms learned on training rows only, the round trip of the
 * fitted model through its file, the make's one-hot coding, the holdout
 * split, label and column errors, the portfolio mean frequency and the
 * band cut points.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "feat.h"
#include "glm.h"
#include "model.h"
#include "model_internal.h"
#include "train.h"

#define N_ROWS 1500            /* rows with status ok and a label */
#define N_NOT_OK 12            /* feature rows with an error status */
#define N_UNLABELLED 9         /* ok rows without a label */
#define N_DAYS_MISSING 60      /* days_since_last_service empty */
#define N_CV_MISSING (TRAIN_MIN_MISSING - 1)
#define N_SHARE_MISSING TRAIN_MIN_MISSING

#define FEATURES "tmp/train_features.csv"
#define LABELS "tmp/train_labels.csv"

/* The truth: ln(rate) = B0 + B_DAYS days + B_SPY spy + make effect. */
#define B0 (-0.3)
#define B_DAYS 0.0015
#define B_SPY (-0.35)
#define B_FORD 0.3
#define B_BMW (-0.2)

struct row {
    char vin[18];
    const char *make;
    double days, spy, km, rollbacks, cv, share;
    double exposure, claims;
};

static struct row rows[N_ROWS];

/* ===================== Simulated data ===================== */

static void put_cell(FILE *f, double v)
{
    if (!isnan(v))
        fprintf(f, "%.17g", v);
}

static int write_files(void)
{
    FILE *f = fopen(FEATURES, "w");
    FILE *l = fopen(LABELS, "w");
    if (!f || !l) {
        if (f)
            fclose(f);
        if (l)
            fclose(l);
        return -1;
    }
    fprintf(f, "vin,vehicle_id,status,make,days_since_last_service,"
               "services_per_year,est_annual_km,odometer_rollbacks,"
               "interval_days_cv,oil_in_schedule_share\n");
    fprintf(l, "vin,claim_count,exposure_years\n");
    for (int i = 0; i < N_ROWS; i++) {
        const struct row *r = &rows[i];
        fprintf(f, "%s,v%d,ok,%s,", r->vin, i, r->make);
        put_cell(f, r->days);
        fputc(',', f);
        put_cell(f, r->spy);
        fputc(',', f);
        put_cell(f, r->km);
        fputc(',', f);
        put_cell(f, r->rollbacks);
        fputc(',', f);
        put_cell(f, r->cv);
        fputc(',', f);
        put_cell(f, r->share);
        fputc('\n', f);
        fprintf(l, "%s,%.0f,%.17g\n", r->vin, r->claims, r->exposure);
        /* rows that must be skipped, spread through the file */
        if (i < N_NOT_OK)
            fprintf(f, "BADVIN%011d,,error:PARSE,,,,,,,\n", i);
        if (i < N_UNLABELLED)
            fprintf(f, "NOLABEL%010d,,ok,FORD,1,1,1,1,1,1\n", i);
    }
    /* a label without features changes nothing */
    fprintf(l, "ORPHAN00000000000,3,1\n");
    int bad = ferror(f) || ferror(l);
    bad |= fclose(f) != 0;
    bad |= fclose(l) != 0;
    return bad ? -1 : 0;
}

static int suite_init(void)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng)
        return -1;
    gsl_rng_set(rng, 77);
    for (int i = 0; i < N_ROWS; i++) {
        struct row *r = &rows[i];
        snprintf(r->vin, sizeof(r->vin), "TESTVIN%010d", i);
        double u = gsl_rng_uniform(rng);
        r->make = u < 0.5 ? "TOYOTA" : u < 0.8 ? "FORD" : "BMW";
        r->days = 720 * gsl_rng_uniform(rng);
        r->spy = 0.5 + 3.5 * gsl_rng_uniform(rng);
        r->km = gsl_ran_lognormal(rng, log(15000), 0.8);
        r->rollbacks = (double)gsl_ran_poisson(rng, 0.3);
        r->cv = 0.2 + gsl_rng_uniform(rng);
        r->share = gsl_rng_uniform(rng);
        r->exposure = 0.5 + gsl_rng_uniform(rng);
        double eta = B0 + B_DAYS * r->days + B_SPY * r->spy +
                     (r->make[0] == 'F' ? B_FORD
                      : r->make[0] == 'B' ? B_BMW : 0);
        r->claims = (double)gsl_ran_poisson(rng, exp(eta) * r->exposure);
        /* missing values on rows spread through the file */
        if (i % 25 == 3)
            r->days = NAN;
        if (i % 30 == 7 && i / 30 < N_CV_MISSING)
            r->cv = NAN;
        if (i % 29 == 11 && i / 29 < N_SHARE_MISSING)
            r->share = NAN;
    }
    gsl_rng_free(rng);
    return write_files();
}

static int count_missing(size_t offset)
{
    int n = 0;
    for (int i = 0; i < N_ROWS; i++)
        n += isnan(*(const double *)((const char *)&rows[i] + offset));
    return n;
}

static void config(struct train_config *cfg, const char *const *columns,
                   size_t n, int transform)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->features_path = FEATURES;
    cfg->labels_path = LABELS;
    cfg->columns = columns;
    cfg->n_columns = n;
    cfg->family = GLM_POISSON;
    cfg->link = GLM_LOG;
    cfg->transform = transform;
    cfg->holdout = 0;
    cfg->seed = 1;
    cfg->jobs = 1;
    cfg->command = "svcscore train (test)";
    cfg->trained_at = "2024-01-01T00:00:00Z";
}

static void features_of(const struct row *r, struct feat_vec *f)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < FEAT_COUNT; i++)
        f->v[i] = NAN;
    f->last_km = NAN;
    f->v[FEAT_DAYS_SINCE_LAST_SERVICE] = r->days;
    f->v[FEAT_SERVICES_PER_YEAR] = r->spy;
    f->v[FEAT_EST_ANNUAL_KM] = r->km;
    f->v[FEAT_ODOMETER_ROLLBACKS] = r->rollbacks;
    f->v[FEAT_INTERVAL_DAYS_CV] = r->cv;
    f->v[FEAT_OIL_IN_SCHEDULE_SHARE] = r->share;
}

static const struct model_input *input_named(const struct model *m,
                                             const char *name)
{
    for (size_t i = 0; i < m->n_inputs; i++) {
        if (strcmp(m->inputs[i].name, name) == 0)
            return &m->inputs[i];
    }
    return NULL;
}

static const char *const all_columns[] = {
    "days_since_last_service", "services_per_year", "est_annual_km",
    "odometer_rollbacks", "interval_days_cv", "oil_in_schedule_share", "make"
};
#define N_ALL (sizeof(all_columns) / sizeof(all_columns[0]))

/* ===================== Fitting ===================== */

static void test_train_recovers_the_true_coefficients(void)
{
    static const char *const cols[] = {"days_since_last_service",
                                       "services_per_year", "make"};
    struct train_config cfg;
    config(&cfg, cols, 3, 0);
    struct train_output out;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, &err), ENG_OK);
    const struct glm_result *g = out.fit;
    CU_ASSERT_EQUAL_FATAL(g->p, 5);
    static const char *const names[] = {"(Intercept)",
                                        "days_since_last_service",
                                        "services_per_year", "makeBMW",
                                        "makeFORD"};
    static const double truth[] = {B0, B_DAYS, B_SPY, B_BMW, B_FORD};
    for (size_t c = 0; c < 5; c++) {
        CU_ASSERT_STRING_EQUAL(out.col_names[c], names[c]);
        CU_ASSERT_FALSE(g->aliased[c]);
        double z = (g->coef[c] - truth[c]) / g->se[c];
        CU_ASSERT_TRUE(fabs(z) < 4);
        if (!(fabs(z) < 4))
            fprintf(stderr, "\n  %s: %g (se %g), truth %g\n", names[c],
                    g->coef[c], g->se[c], truth[c]);
        /* standard errors small enough for the check to mean something */
        CU_ASSERT_TRUE(g->se[c] < 0.5 * fabs(truth[c]));
    }
    CU_ASSERT_TRUE(g->converged);
    /* the model carries the same coefficients, untransformed */
    const struct model *m = out.model;
    CU_ASSERT_EQUAL(m->transform, 0);
    CU_ASSERT_DOUBLE_EQUAL(m->intercept, g->coef[0], 0);
    const struct model_input *days = input_named(m,
                                                 "days_since_last_service");
    CU_ASSERT_PTR_NOT_NULL_FATAL(days);
    CU_ASSERT_DOUBLE_EQUAL(days->beta, g->coef[1], 0);
    CU_ASSERT_DOUBLE_EQUAL(days->se, g->se[1], 0);
    CU_ASSERT_DOUBLE_EQUAL(days->center, 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(days->scale, 1, 0);
    CU_ASSERT_EQUAL(days->use_log, MODEL_LOG_NONE);
    CU_ASSERT_TRUE(isinf(days->cap_lo) && isinf(days->cap_hi));
    CU_ASSERT_FALSE(days->has_missing);
    CU_ASSERT_EQUAL(m->fit.n, out.n_train);
    CU_ASSERT_STRING_EQUAL(m->command, "svcscore train (test)");
    CU_ASSERT_STRING_EQUAL(m->trained_at, "2024-01-01T00:00:00Z");
    CU_ASSERT_EQUAL(strlen(m->data_fingerprint), 16);
    train_output_release(&out);
}

static void test_train_counts_the_rows_it_skips(void)
{
    static const char *const cols[] = {"days_since_last_service",
                                       "services_per_year"};
    struct train_config cfg;
    config(&cfg, cols, 2, 0);
    struct train_output out;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    int missing = count_missing(offsetof(struct row, days));
    CU_ASSERT_EQUAL(missing, N_DAYS_MISSING);
    CU_ASSERT_EQUAL(out.skipped_status, N_NOT_OK);
    CU_ASSERT_EQUAL(out.skipped_label, N_UNLABELLED);
    CU_ASSERT_EQUAL(out.skipped_missing, N_DAYS_MISSING);
    CU_ASSERT_EQUAL(out.skipped_family, 0);
    CU_ASSERT_EQUAL(out.n_train, N_ROWS - N_DAYS_MISSING);
    CU_ASSERT_EQUAL(out.n_test, 0);
    train_output_release(&out);

    /* standard transforms impute instead: every labelled ok row counts */
    config(&cfg, cols, 2, 1);
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    CU_ASSERT_EQUAL(out.skipped_missing, 0);
    CU_ASSERT_EQUAL(out.n_train, N_ROWS);
    train_output_release(&out);
}

/* The sorted non-missing values of a column over the training rows. */
static size_t training_values(size_t offset, unsigned long seed,
                              double share, double *v)
{
    size_t n = 0;
    for (int i = 0; i < N_ROWS; i++) {
        double x = *(const double *)((const char *)&rows[i] + offset);
        if (!isnan(x) && !train_is_holdout(rows[i].vin, seed, share))
            v[n++] = x;
    }
    gsl_sort(v, 1, n);
    return n;
}

/* Checks one learned transform against the training rows. */
static void check_transform(const struct model_input *in, size_t offset,
                            unsigned long seed, double share, int want_log)
{
    static double v[N_ROWS], t[N_ROWS];
    size_t n = training_values(offset, seed, share, v);
    CU_ASSERT_FATAL(n > 100);
    CU_ASSERT_DOUBLE_EQUAL(in->impute,
                           gsl_stats_median_from_sorted_data(v, 1, n), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(in->cap_lo, gsl_stats_quantile_from_sorted_data(
                                           v, 1, n, 0.01), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(in->cap_hi, gsl_stats_quantile_from_sorted_data(
                                           v, 1, n, 0.99), 1e-12);
    CU_ASSERT_EQUAL(in->use_log, want_log);
    /* centre and scale: mean and sd of the values as scoring sees them */
    size_t k = 0;
    for (int i = 0; i < N_ROWS; i++) {
        if (train_is_holdout(rows[i].vin, seed, share))
            continue;
        double x = *(const double *)((const char *)&rows[i] + offset);
        x = isnan(x) ? in->impute : x;
        x = fmin(fmax(x, in->cap_lo), in->cap_hi);
        t[k++] = want_log == MODEL_LOG ? log(x)
                 : want_log == MODEL_LOG1P ? log1p(x) : x;
    }
    double mean = gsl_stats_mean(t, 1, k);
    CU_ASSERT_DOUBLE_EQUAL(in->center, mean, 1e-9 * (1 + fabs(mean)));
    double sd = gsl_stats_sd_m(t, 1, k, mean);
    CU_ASSERT_DOUBLE_EQUAL(in->scale, sd, 1e-9 * sd);
}

static void test_train_learns_standard_transforms(void)
{
    struct train_config cfg;
    config(&cfg, all_columns, N_ALL, 1);
    struct train_output out;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, &err), ENG_OK);
    const struct model *m = out.model;
    CU_ASSERT_EQUAL(m->transform, 1);
    const struct model_input *days = input_named(m,
                                                 "days_since_last_service");
    const struct model_input *spy = input_named(m, "services_per_year");
    const struct model_input *km = input_named(m, "est_annual_km");
    const struct model_input *rb = input_named(m, "odometer_rollbacks");
    const struct model_input *cv = input_named(m, "interval_days_cv");
    const struct model_input *share = input_named(m,
                                                  "oil_in_schedule_share");
    CU_ASSERT_FATAL(days && spy && km && rb && cv && share);
    /* uniform columns stay linear; a lognormal one takes ln; counts with
     * zeros take ln(1 + x) */
    check_transform(days, offsetof(struct row, days), 1, 0, MODEL_LOG_NONE);
    check_transform(spy, offsetof(struct row, spy), 1, 0, MODEL_LOG_NONE);
    check_transform(km, offsetof(struct row, km), 1, 0, MODEL_LOG);
    check_transform(rb, offsetof(struct row, rollbacks), 1, 0,
                    MODEL_LOG1P);
    check_transform(cv, offsetof(struct row, cv), 1, 0, MODEL_LOG_NONE);
    check_transform(share, offsetof(struct row, share), 1, 0,
                    MODEL_LOG_NONE);
    /* a missing indicator from TRAIN_MIN_MISSING missing rows on */
    CU_ASSERT_EQUAL(count_missing(offsetof(struct row, cv)), N_CV_MISSING);
    CU_ASSERT_EQUAL(count_missing(offsetof(struct row, share)),
                    N_SHARE_MISSING);
    CU_ASSERT_TRUE(days->has_missing);
    CU_ASSERT_FALSE(spy->has_missing);
    CU_ASSERT_FALSE(cv->has_missing);
    CU_ASSERT_TRUE(share->has_missing);
    /* the design names them */
    int seen_log = 0, seen_log1p = 0, seen_missing = 0;
    for (size_t c = 0; c < out.fit->p; c++) {
        seen_log += strcmp(out.col_names[c], "log:est_annual_km") == 0;
        seen_log1p += strcmp(out.col_names[c],
                             "log1p:odometer_rollbacks") == 0;
        seen_missing += strcmp(out.col_names[c],
                               "oil_in_schedule_share:missing") == 0;
    }
    CU_ASSERT_EQUAL(seen_log, 1);
    CU_ASSERT_EQUAL(seen_log1p, 1);
    CU_ASSERT_EQUAL(seen_missing, 1);
    /* 1 + 6 values + 2 indicators + 2 make levels */
    CU_ASSERT_EQUAL(out.fit->p, 11);
    train_output_release(&out);
}

static void test_train_learns_transforms_on_training_rows_only(void)
{
    struct train_config cfg;
    config(&cfg, all_columns, N_ALL, 1);
    cfg.holdout = 0.3;
    cfg.seed = 11;
    struct train_output out;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    const struct model *m = out.model;
    check_transform(input_named(m, "days_since_last_service"),
                    offsetof(struct row, days), 11, 0.3, MODEL_LOG_NONE);
    check_transform(input_named(m, "est_annual_km"),
                    offsetof(struct row, km), 11, 0.3, MODEL_LOG);
    /* and the median over all rows is a different number */
    static double v[N_ROWS];
    size_t n = training_values(offsetof(struct row, km), 11, 0, v);
    CU_ASSERT_TRUE(fabs(input_named(m, "est_annual_km")->impute -
                        gsl_stats_median_from_sorted_data(v, 1, n)) > 1e-6);
    train_output_release(&out);
}

static void test_train_model_round_trips_through_its_file(void)
{
    struct train_config cfg;
    config(&cfg, all_columns, N_ALL, 1);
    cfg.holdout = 0.2;
    struct train_output out;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(model_save(out.model, "tmp/train_model.json",
                                     &err), ENG_OK);
    struct model *b = model_load("tmp/train_model.json", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(model_id(b), model_id(out.model));
    double worst = 0;
    for (int i = 0; i < N_ROWS; i++) {
        struct feat_vec f;
        features_of(&rows[i], &f);
        /* every fifth row pushed past the caps, or with a stray make */
        const char *make = rows[i].make;
        if (i % 5 == 1) {
            f.v[FEAT_EST_ANNUAL_KM] *= 1000;
            f.v[FEAT_ODOMETER_ROLLBACKS] = 50;
            f.v[FEAT_SERVICES_PER_YEAR] = -3;
            make = i % 10 == 1 ? "LADA" : NULL;
        }
        if (i % 7 == 2)
            f.v[FEAT_EST_ANNUAL_KM] = NAN;
        double e1 = model_eta(out.model, &f, make);
        double e2 = model_eta(b, &f, make);
        CU_ASSERT_TRUE(isfinite(e1));
        worst = fmax(worst, fabs(e1 - e2));
        struct model_result r1, r2;
        model_score(out.model, &f, make, &r1);
        model_score(b, &f, make, &r2);
        CU_ASSERT_EQUAL(r1.score, r2.score);
        CU_ASSERT_EQUAL(r1.band, r2.band);
        CU_ASSERT_EQUAL(r1.n_reasons, r2.n_reasons);
    }
    CU_ASSERT_DOUBLE_EQUAL(worst, 0, 1e-12);
    model_free(b);
    train_output_release(&out);
}

static void test_train_holdout_predictions_match_the_model(void)
{
    struct train_config cfg;
    config(&cfg, all_columns, N_ALL, 1);
    cfg.holdout = 0.25;
    cfg.seed = 3;
    struct train_output out;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    CU_ASSERT_EQUAL(out.n_train + out.n_test, N_ROWS);
    /* the held-out rows, in file order, with the model's prediction */
    size_t t = 0;
    for (int i = 0; i < N_ROWS && t < out.n_test; i++) {
        if (!train_is_holdout(rows[i].vin, 3, 0.25))
            continue;
        CU_ASSERT_STRING_EQUAL(out.test_vins + 18 * t, rows[i].vin);
        struct feat_vec f;
        features_of(&rows[i], &f);
        double eta = model_eta(out.model, &f, rows[i].make);
        const struct train_row *r = &out.test[t];
        CU_ASSERT_DOUBLE_EQUAL(r->pred, exp(eta) * rows[i].exposure,
                               1e-12 * r->pred);
        CU_ASSERT_DOUBLE_EQUAL(r->y, rows[i].claims, 0);
        CU_ASSERT_DOUBLE_EQUAL(r->exposure, rows[i].exposure, 0);
        t++;
    }
    CU_ASSERT_EQUAL(t, out.n_test);
    train_output_release(&out);
}

static void test_train_codes_the_make_against_its_most_frequent_level(void)
{
    static const char *const cols[] = {"make", "services_per_year"};
    struct train_config cfg;
    config(&cfg, cols, 2, 1);
    struct train_output out;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    const struct model_input *mk = input_named(out.model, "make");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mk);
    CU_ASSERT_EQUAL(mk->feat, MODEL_INPUT_MAKE);
    CU_ASSERT_STRING_EQUAL(mk->base_level, "TOYOTA");
    CU_ASSERT_EQUAL_FATAL(mk->n_levels, 2);
    CU_ASSERT_STRING_EQUAL(mk->levels[0], "BMW");     /* by name */
    CU_ASSERT_STRING_EQUAL(mk->levels[1], "FORD");
    CU_ASSERT_STRING_EQUAL(out.col_names[1], "makeBMW");
    CU_ASSERT_STRING_EQUAL(out.col_names[2], "makeFORD");
    CU_ASSERT_DOUBLE_EQUAL(mk->beta_level[0], out.fit->coef[1], 0);
    CU_ASSERT_DOUBLE_EQUAL(mk->beta_level[1], out.fit->coef[2], 0);
    CU_ASSERT_TRUE(mk->beta_level[1] > mk->beta_level[0]);
    /* the base level, an unseen make and no make all score alike */
    struct feat_vec f;
    features_of(&rows[0], &f);
    double base = model_eta(out.model, &f, "TOYOTA");
    CU_ASSERT_DOUBLE_EQUAL(model_eta(out.model, &f, "SKODA"), base, 0);
    CU_ASSERT_DOUBLE_EQUAL(model_eta(out.model, &f, NULL), base, 0);
    CU_ASSERT_DOUBLE_EQUAL(model_eta(out.model, &f, "FORD") - base,
                           mk->beta_level[1], 1e-12);
    /* the make's baseline is its mean contribution in training */
    double mean = 0;
    for (int i = 0; i < N_ROWS; i++)
        mean += rows[i].make[0] == 'F' ? mk->beta_level[1]
                : rows[i].make[0] == 'B' ? mk->beta_level[0] : 0;
    CU_ASSERT_DOUBLE_EQUAL(mk->baseline, mean / N_ROWS, 1e-12);
    CU_ASSERT_STRING_EQUAL(mk->code, "R30");
    train_output_release(&out);
}

/* ===================== Holdout ===================== */

static void test_train_holdout_is_deterministic_by_vin_and_seed(void)
{
    int in1 = 0, in2 = 0, moved = 0, held = 0;
    for (int i = 0; i < 10000; i++) {
        char vin[18];
        snprintf(vin, sizeof(vin), "SPLIT%012d", i);
        int a = train_is_holdout(vin, 1, 0.2);
        CU_ASSERT_EQUAL(train_is_holdout(vin, 1, 0.2), a);
        int b = train_is_holdout(vin, 2, 0.2);
        in1 += a;
        in2 += b;
        moved += a != b;
        /* a larger share keeps every vehicle a smaller one held out */
        int c = train_is_holdout(vin, 1, 0.5);
        CU_ASSERT_TRUE(!a || c);
        held += c;
        CU_ASSERT_FALSE(train_is_holdout(vin, 1, 0));
        CU_ASSERT_TRUE(train_is_holdout(vin, 1, 1));
    }
    /* binomial sd of the share: 0.004 */
    CU_ASSERT_DOUBLE_EQUAL(in1 / 10000.0, 0.2, 0.02);
    CU_ASSERT_DOUBLE_EQUAL(in2 / 10000.0, 0.2, 0.02);
    CU_ASSERT_DOUBLE_EQUAL(held / 10000.0, 0.5, 0.02);
    /* another seed, another draw: about 2 * 0.2 * 0.8 of them move */
    CU_ASSERT_DOUBLE_EQUAL(moved / 10000.0, 0.32, 0.03);
}

static void test_train_holdout_takes_the_requested_share(void)
{
    struct train_config cfg;
    static const char *const cols[] = {"services_per_year"};
    config(&cfg, cols, 1, 1);
    cfg.holdout = 0.3;
    cfg.seed = 5;
    struct train_output a, b;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &a, NULL), ENG_OK);
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &b, NULL), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL((double)a.n_test / N_ROWS, 0.3, 0.04);
    /* the same split and the same fit twice */
    CU_ASSERT_EQUAL(a.n_test, b.n_test);
    CU_ASSERT_EQUAL(memcmp(a.test_vins, b.test_vins, 18 * a.n_test), 0);
    CU_ASSERT_DOUBLE_EQUAL(a.fit->coef[1], b.fit->coef[1], 0);
    CU_ASSERT_STRING_EQUAL(a.model->data_fingerprint,
                           b.model->data_fingerprint);
    train_output_release(&b);
    /* another seed holds out other vehicles */
    cfg.seed = 6;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &b, NULL), ENG_OK);
    CU_ASSERT_TRUE(a.n_test != b.n_test ||
                   memcmp(a.test_vins, b.test_vins, 18 * a.n_test) != 0);
    train_output_release(&a);
    train_output_release(&b);
}

/* ===================== Portfolio and bands ===================== */

static void test_train_mean_frequency_is_claims_over_exposure(void)
{
    struct train_config cfg;
    config(&cfg, all_columns, N_ALL, 1);
    struct train_output out;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    double claims = 0, exposure = 0;
    for (int i = 0; i < N_ROWS; i++) {
        claims += rows[i].claims;
        exposure += rows[i].exposure;
    }
    /* a Poisson GLM with an intercept fits total claims exactly */
    double want = claims / exposure;
    CU_ASSERT_DOUBLE_EQUAL(model_mean_frequency(out.model), want,
                           1e-6 * want);
    train_output_release(&out);

    /* with transform none, over the rows it kept */
    static const char *const cols[] = {"days_since_last_service", "make"};
    config(&cfg, cols, 2, 0);
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    claims = exposure = 0;
    for (int i = 0; i < N_ROWS; i++) {
        if (isnan(rows[i].days))
            continue;
        claims += rows[i].claims;
        exposure += rows[i].exposure;
    }
    want = claims / exposure;
    CU_ASSERT_DOUBLE_EQUAL(model_mean_frequency(out.model), want,
                           1e-6 * want);
    train_output_release(&out);
}

static void test_train_bands_split_training_scores_into_fifths(void)
{
    struct train_config cfg;
    config(&cfg, all_columns, N_ALL, 1);
    struct train_output out;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    const struct model *m = out.model;
    for (int b = 0; b < 4; b++) {
        /* whole scores, not increasing from A to E */
        CU_ASSERT_DOUBLE_EQUAL(m->band_cuts[b], round(m->band_cuts[b]), 0);
        if (b > 0)
            CU_ASSERT_TRUE(m->band_cuts[b] <= m->band_cuts[b - 1]);
    }
    CU_ASSERT_EQUAL(m->score_min, 1);
    CU_ASSERT_EQUAL(m->score_max, 999);
    CU_ASSERT_DOUBLE_EQUAL(m->score_center, 600, 0);
    CU_ASSERT_DOUBLE_EQUAL(m->score_factor, 50 / log(2.0), 1e-12);
    int count[5] = {0};
    double rel_sum = 0, exposure = 0, mean_score = 0;
    for (int i = 0; i < N_ROWS; i++) {
        struct feat_vec f;
        features_of(&rows[i], &f);
        struct model_result r;
        model_score(m, &f, rows[i].make, &r);
        CU_ASSERT_FATAL(r.band >= 'A' && r.band <= 'E');
        count[r.band - 'A']++;
        rel_sum += r.relativity * rows[i].exposure;
        exposure += rows[i].exposure;
        mean_score += r.score / (double)N_ROWS;
    }
    /* ties of whole scores at a cut can move a few rows */
    for (int b = 0; b < 5; b++) {
        CU_ASSERT_DOUBLE_EQUAL(count[b] / (double)N_ROWS, 0.2, 0.03);
        if (fabs(count[b] / (double)N_ROWS - 0.2) > 0.03)
            fprintf(stderr, "\n  band %c: %d of %d\n", 'A' + b, count[b],
                    N_ROWS);
    }
    /* relativities average 1 over the exposure, scores sit near 600 */
    CU_ASSERT_DOUBLE_EQUAL(rel_sum / exposure, 1.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(mean_score, 600, 15);
    train_output_release(&out);
}

static void test_train_baselines_are_mean_contributions(void)
{
    struct train_config cfg;
    config(&cfg, all_columns, N_ALL, 1);
    struct train_output out;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, NULL), ENG_OK);
    const struct model *m = out.model;
    for (size_t k = 0; k < m->n_inputs; k++) {
        double mean = 0;
        for (int i = 0; i < N_ROWS; i++) {
            struct feat_vec f;
            features_of(&rows[i], &f);
            mean += model_input_contribution(&m->inputs[k], &f,
                                             rows[i].make);
        }
        mean /= N_ROWS;
        CU_ASSERT_DOUBLE_EQUAL(m->inputs[k].baseline, mean, 1e-9);
        /* with centred inputs the mean contribution of a numeric input
         * without indicator is zero */
        if (m->inputs[k].feat != MODEL_INPUT_MAKE &&
            !m->inputs[k].has_missing)
            CU_ASSERT_DOUBLE_EQUAL(m->inputs[k].baseline, 0, 1e-9);
    }
    train_output_release(&out);
}

/* ===================== Errors ===================== */

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* Runs a training on rows' features and the labels text given. */
static int train_labels(const char *labels, struct eng_err *err)
{
    CU_ASSERT_EQUAL_FATAL(write_text("tmp/train_bad_labels.csv", labels), 0);
    static const char *const cols[] = {"services_per_year"};
    struct train_config cfg;
    config(&cfg, cols, 1, 1);
    cfg.labels_path = "tmp/train_bad_labels.csv";
    struct train_output out;
    int rc = train_run(&cfg, &out, err);
    if (rc == ENG_OK)
        train_output_release(&out);
    else
        CU_ASSERT_PTR_NULL(out.model);
    return rc;
}

static void test_train_rejects_bad_labels_with_their_line(void)
{
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(train_labels("vin,claim_count,exposure_years\n"
                                 "TESTVIN0000000000,0,1\n"
                                 "TESTVIN0000000001,-1,1\n", &err),
                    ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "train_bad_labels.csv:3:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "TESTVIN0000000001"));
    CU_ASSERT_EQUAL(train_labels("vin,claim_count,exposure_years\n"
                                 "TESTVIN0000000000,0,1\n"
                                 "TESTVIN0000000001,1,0.5\n"
                                 "TESTVIN0000000002,1,0\n", &err),
                    ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "train_bad_labels.csv:4:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "exposure_years > 0"));
    static const char *const bad_rows[] = {
        "V,1,-0.5\n", "V,x,1\n", "V,1,\n", "V,,1\n", "V,1,inf\n",
        "V,nan,1\n", "V,1,1y\n"
    };
    for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        char text[96];
        snprintf(text, sizeof(text), "vin,claim_count,exposure_years\n%s",
                 bad_rows[i]);
        CU_ASSERT_EQUAL(train_labels(text, &err), ENG_EDATA);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "train_bad_labels.csv:2:"));
    }
    /* a weight column: negative weights are wrong too */
    CU_ASSERT_EQUAL(train_labels("vin,claim_count,exposure_years,weight\n"
                                 "V,1,1,-2\n", &err), ENG_EDATA);
    /* a missing column */
    CU_ASSERT_EQUAL(train_labels("vin,claim_count\nV,1\n", &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "need columns vin, claim_count "
                                           "and exposure_years"));
    CU_ASSERT_EQUAL(train_labels("VIN,claims,exposure\nV,1,1\n", &err),
                    ENG_EDATA);
    /* labels that share no VIN with the features */
    CU_ASSERT_EQUAL(train_labels("vin,claim_count,exposure_years\n"
                                 "NOBODY,1,1\n", &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no training rows"));
    /* a labels file that is not there */
    CU_ASSERT_EQUAL(train_labels("", &err) < 0, 1);
    static const char *const cols[] = {"services_per_year"};
    struct train_config cfg;
    config(&cfg, cols, 1, 1);
    cfg.labels_path = "tmp/no_such_labels.csv";
    struct train_output out;
    CU_ASSERT_EQUAL(train_run(&cfg, &out, &err), ENG_EIO);
    CU_ASSERT_PTR_NULL(out.model);
}

static void test_train_rejects_unknown_columns_as_usage_errors(void)
{
    struct eng_err err = {0};
    struct train_config cfg;
    struct train_output out;
    static const char *const unknown[] = {"services_per_year", "no_such"};
    config(&cfg, unknown, 2, 1);
    CU_ASSERT_EQUAL(train_run(&cfg, &out, &err), ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'no_such'"));
    static const char *const text[] = {"currency"};
    config(&cfg, text, 1, 1);
    CU_ASSERT_EQUAL(train_run(&cfg, &out, &err), ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'currency'"));
    config(&cfg, text, 0, 1);
    CU_ASSERT_EQUAL(train_run(&cfg, &out, &err), ENG_EUSAGE);
    config(&cfg, text, TRAIN_MAX_COLUMNS + 1, 1);
    CU_ASSERT_EQUAL(train_run(&cfg, &out, &err), ENG_EUSAGE);
    /* a known feature the CSV does not have is a data error */
    static const char *const absent[] = {"interval_km_max"};
    config(&cfg, absent, 1, 1);
    CU_ASSERT_EQUAL(train_run(&cfg, &out, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no column 'interval_km_max'"));
}

static void test_train_rejects_bad_feature_cells_with_their_line(void)
{
    CU_ASSERT_EQUAL_FATAL(write_text("tmp/train_bad_features.csv",
                                     "vin,status,services_per_year\n"
                                     "TESTVIN0000000000,ok,1.5\n"
                                     "TESTVIN0000000001,ok,fast\n"), 0);
    static const char *const cols[] = {"services_per_year"};
    struct train_config cfg;
    config(&cfg, cols, 1, 1);
    cfg.features_path = "tmp/train_bad_features.csv";
    struct train_output out;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(train_run(&cfg, &out, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "train_bad_features.csv:3:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'fast'"));
    /* no make column while the make is asked for */
    static const char *const with_make[] = {"services_per_year", "make"};
    config(&cfg, with_make, 2, 1);
    cfg.features_path = "tmp/train_bad_features.csv";
    CU_ASSERT_EQUAL(train_run(&cfg, &out, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'make'"));
}

/* ===================== Not applicable vs missing ===================== */

#define NA_FEATURES "tmp/train_na_features.csv"
#define NA_LABELS "tmp/train_na_labels.csv"
#define NA_ROWS 600
#define NA_BEV 200             /* BEV rows: no oil share, not applicable */
#define NA_MISSING 40          /* combustion rows with the share missing */

/* Writes the files; with_pt = 0 leaves out the powertrain column. */
static int write_na_files(int with_pt, double *ice_shares, size_t *n_ice)
{
    FILE *f = fopen(NA_FEATURES, "w");
    FILE *l = fopen(NA_LABELS, "w");
    if (!f || !l) {
        if (f)
            fclose(f);
        if (l)
            fclose(l);
        return -1;
    }
    fprintf(f, "vin,vehicle_id,status,oil_in_schedule_share,"
               "services_per_year%s\n", with_pt ? ",powertrain" : "");
    fprintf(l, "vin,claim_count,exposure_years\n");
    *n_ice = 0;
    for (int i = 0; i < NA_ROWS; i++) {
        int bev = i % 3 == 0;
        int missing = !bev && i % 3 == 1 && i / 3 < NA_MISSING;
        double share = (double)((i * 37) % 100) / 100.0;
        fprintf(f, "NAVIN%012d,v%d,ok,", i, i);
        if (!bev && !missing) {
            fprintf(f, "%.2f", share);
            ice_shares[(*n_ice)++] = share;
        }
        fprintf(f, ",%.2f", 0.5 + (double)(i % 7) / 2);
        if (with_pt)
            fprintf(f, ",%s", bev ? "BEV" : i % 2 ? "ICE" : "");
        fputc('\n', f);
        fprintf(l, "NAVIN%012d,%d,1\n", i, i % 5 == 0);
    }
    int bad = ferror(f) || ferror(l);
    bad |= fclose(f) != 0;
    bad |= fclose(l) != 0;
    return bad ? -1 : 0;
}

static void test_train_tells_not_applicable_from_missing(void)
{
    static const char *const cols[] = {"oil_in_schedule_share",
                                       "services_per_year"};
    double ice[NA_ROWS];
    size_t n_ice;
    CU_ASSERT_EQUAL_FATAL(write_na_files(1, ice, &n_ice), 0);
    struct train_config cfg;
    config(&cfg, cols, 2, 1);
    cfg.features_path = NA_FEATURES;
    cfg.labels_path = NA_LABELS;
    struct train_output out;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, &err), ENG_OK);
    const struct model_input *in = input_named(out.model,
                                               "oil_in_schedule_share");
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    /* 40 missing is below the indicator's threshold: the 200 BEVs do not
     * count as missing */
    CU_ASSERT_FALSE(in->has_missing);
    /* the benchmarks come from the combustion rows' values alone */
    gsl_sort(ice, 1, n_ice);
    CU_ASSERT_TRUE(in->has_benchmark);
    CU_ASSERT_DOUBLE_EQUAL(in->median,
                           gsl_stats_median_from_sorted_data(ice, 1, n_ice),
                           1e-12);
    CU_ASSERT_DOUBLE_EQUAL(in->typical, in->median, 0);
    CU_ASSERT_EQUAL(in->n_quantiles, MODEL_N_QUANTILES);
    CU_ASSERT_DOUBLE_EQUAL(in->quantiles[0],
                           gsl_stats_quantile_from_sorted_data(ice, 1, n_ice,
                                                               0.01), 1e-12);
    for (int k = 1; k < in->n_quantiles; k++)
        CU_ASSERT_TRUE(in->quantiles[k] >= in->quantiles[k - 1]);
    train_output_release(&out);

    /* without the powertrain column the same empty cells are missing */
    CU_ASSERT_EQUAL_FATAL(write_na_files(0, ice, &n_ice), 0);
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &out, &err), ENG_OK);
    in = input_named(out.model, "oil_in_schedule_share");
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    CU_ASSERT_TRUE(in->has_missing);
    train_output_release(&out);
}

static CU_TestInfo train_tests[] = {
    {"recovers the true coefficients",
     test_train_recovers_the_true_coefficients},
    {"counts the rows it skips", test_train_counts_the_rows_it_skips},
    {"learns standard transforms", test_train_learns_standard_transforms},
    {"learns transforms on training rows only",
     test_train_learns_transforms_on_training_rows_only},
    {"model round-trips through its file",
     test_train_model_round_trips_through_its_file},
    {"holdout predictions match the model",
     test_train_holdout_predictions_match_the_model},
    {"codes the make against its most frequent level",
     test_train_codes_the_make_against_its_most_frequent_level},
    {"holdout is deterministic by vin and seed",
     test_train_holdout_is_deterministic_by_vin_and_seed},
    {"holdout takes the requested share",
     test_train_holdout_takes_the_requested_share},
    {"mean frequency is claims over exposure",
     test_train_mean_frequency_is_claims_over_exposure},
    {"bands split training scores into fifths",
     test_train_bands_split_training_scores_into_fifths},
    {"baselines are mean contributions",
     test_train_baselines_are_mean_contributions},
    {"rejects bad labels with their line",
     test_train_rejects_bad_labels_with_their_line},
    {"rejects unknown columns as usage errors",
     test_train_rejects_unknown_columns_as_usage_errors},
    {"rejects bad feature cells with their line",
     test_train_rejects_bad_feature_cells_with_their_line},
    {"tells not applicable from missing",
     test_train_tells_not_applicable_from_missing},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_train_suites[] = {
    {"train", suite_init, NULL, NULL, NULL, train_tests},
    CU_SUITE_INFO_NULL
};
