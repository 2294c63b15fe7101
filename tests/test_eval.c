/*
 * Tests for eval: Gini, lift, bands, deviance and the two output formats, on
 * hand-made rows (figures worked out by hand in the comments) and on 50,000
 * rows simulated with GSL, where the true expected counts are known.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "eval.h"

/*
 * Rows are written {y, exposure, pred, truth, band}: the subgroup keys
 * after them are left 0 (unknown) on purpose, which the warning flags.
 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define TOL 1e-12
#define SIM_N 50000

/* Simulated portfolio, made once for the suite. */
static struct eval_row *sim;        /* pred: noisy but unbiased */
static struct eval_row *sim_ties;   /* pred: coarse frequency levels */

static int suite_init(void)
{
    /* zeroed: the subgroup keys stay unknown */
    sim = calloc(SIM_N, sizeof(*sim));
    sim_ties = calloc(SIM_N, sizeof(*sim_ties));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!sim || !sim_ties || !rng) {
        gsl_rng_free(rng);
        return -1;
    }
    gsl_rng_set(rng, 1);
    for (size_t i = 0; i < SIM_N; i++) {
        struct eval_row *r = &sim[i];
        r->exposure = 0.2 + 0.8 * gsl_rng_uniform(rng);
        double rate = gsl_ran_lognormal(rng, log(0.1), 0.7);
        r->truth = rate * r->exposure;
        r->y = (double)gsl_ran_poisson(rng, r->truth);
        /* a multiplicative error with mean 1: exp(N(-s^2/2, s^2)) */
        r->pred = r->truth * gsl_ran_lognormal(rng, -0.18, 0.6);
        r->band = i % 6 == 0 ? 0 : (char)('A' + i % 5);
        sim_ties[i] = *r;
        /*
         * Frequency rounded up to a multiple of 0.05 and exposures that
         * are powers of 2, so that pred / exposure gives back the level
         * exactly: many exact ties.
         */
        double level = 0.05 * ceil(r->pred / r->exposure / 0.05);
        sim_ties[i].exposure = ldexp(1.0, -(int)(i % 3));
        sim_ties[i].pred = level * sim_ties[i].exposure;
    }
    gsl_rng_free(rng);
    return 0;
}

static int suite_clean(void)
{
    free(sim);
    free(sim_ties);
    return 0;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

/*
 * Four rows (exposure, claims, score, score/exposure):
 *   r1 1 0 0.1 0.1 | r2 2 1 1.0 0.5 | r3 1 1 1.0 1.0 | r4 1 2 2.0 2.0
 * Total premium 5, total loss 4.  Ordered by actual frequency the curve
 * runs through x = 0 .2 .6 .8 1, y = 0 0 .25 .5 1; trapezoids
 * 0 + .05 + .075 + .15 = .275, so Gini = 1 - 2 (.275) = .45.
 */
static const double hy[] = {0, 1, 1, 2};
static const double he[] = {1, 2, 1, 1};
static const double hscore[] = {0.1, 1.0, 1.0, 2.0};

static void test_eval_gini_of_a_perfect_score_equals_the_hand_value(void)
{
    double g = 99.0;
    CU_ASSERT_EQUAL_FATAL(eval_gini(hy, he, hscore, 4, &g, NULL), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(g, 0.45, TOL);

    /* the same through eval_compute, with the score as prediction */
    struct eval_row rows[4];
    for (size_t i = 0; i < 4; i++)
        rows[i] = (struct eval_row){hy[i], he[i], hscore[i], NAN, 0};
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 4, 2, &r, NULL), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(r.gini, 0.45, TOL);
    CU_ASSERT(isnan(r.gini_oracle));
    CU_ASSERT(isnan(r.gini_ratio));
}

static void test_eval_constant_score_gives_zero(void)
{
    const double flat[] = {0.3, 0.6, 0.3, 0.3};  /* 0.3 per year */
    double g = 99.0;
    CU_ASSERT_EQUAL_FATAL(eval_gini(hy, he, flat, 4, &g, NULL), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(g, 0.0, 1e-15);

    double *y = malloc(SIM_N * sizeof(*y));
    double *e = malloc(SIM_N * sizeof(*e));
    double *s = malloc(SIM_N * sizeof(*s));
    CU_ASSERT_FATAL(y && e && s);
    for (size_t i = 0; i < SIM_N; i++) {
        y[i] = sim[i].y;
        e[i] = sim[i].exposure;
        s[i] = 0.125 * e[i];  /* exact: s / e is 0.125 on every row */
    }
    CU_ASSERT_EQUAL(eval_gini(y, e, s, SIM_N, &g, NULL), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(g, 0.0, 1e-15);
    free(s);
    free(e);
    free(y);
}

static void test_eval_reversed_score_negates_the_gini(void)
{
    double rev[4];
    for (size_t i = 0; i < 4; i++)
        rev[i] = he[i] * he[i] / hscore[i];  /* relativity 1 / R */
    double g = 99.0;
    CU_ASSERT_EQUAL_FATAL(eval_gini(hy, he, rev, 4, &g, NULL), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(g, -0.45, TOL);

    double *y = malloc(SIM_N * sizeof(*y));
    double *e = malloc(SIM_N * sizeof(*e));
    double *s = malloc(SIM_N * sizeof(*s));
    double *neg = malloc(SIM_N * sizeof(*neg));
    CU_ASSERT_FATAL(y && e && s && neg);
    for (size_t i = 0; i < SIM_N; i++) {
        y[i] = sim[i].y;
        e[i] = sim[i].exposure;
        s[i] = sim[i].pred;
        neg[i] = -sim[i].pred;  /* relativity -R: the exact reverse order */
    }
    double gs = 0.0;
    double gn = 0.0;
    CU_ASSERT_EQUAL(eval_gini(y, e, s, SIM_N, &gs, NULL), ENG_OK);
    CU_ASSERT_EQUAL(eval_gini(y, e, neg, SIM_N, &gn, NULL), ENG_OK);
    CU_ASSERT(gs > 0.1);
    CU_ASSERT_DOUBLE_EQUAL(gn, -gs, TOL);
    free(neg);
    free(s);
    free(e);
    free(y);
}

/*
 * r2 and r3 given the same relativity 0.5: one segment from (.2, 0) to
 * (.8, .5); area 0 + .15 + .15 = .3, Gini .4 — the mean of the two orders
 * (.45 with r2 first, .35 with r3 first).
 */
static void test_eval_tied_scores_form_one_segment(void)
{
    const double tie[] = {0.1, 1.0, 0.5, 2.0};
    const double y2[] = {0, 1, 1, 2};
    const double e2[] = {1, 2, 1, 1};
    const double y3[] = {0, 1, 1, 2};  /* r3 before r2 in the input */
    const double e3[] = {1, 1, 2, 1};
    const double tie3[] = {0.1, 0.5, 1.0, 2.0};
    double g2 = 99.0;
    double g3 = 98.0;
    CU_ASSERT_EQUAL_FATAL(eval_gini(y2, e2, tie, 4, &g2, NULL), ENG_OK);
    CU_ASSERT_EQUAL_FATAL(eval_gini(y3, e3, tie3, 4, &g3, NULL), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(g2, 0.4, TOL);
    CU_ASSERT(same_bits(g2, g3));
}

static void shuffle_rows(struct eval_row *rows, size_t n, unsigned long seed)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    CU_ASSERT_FATAL(rng != NULL);
    gsl_rng_set(rng, seed);
    gsl_ran_shuffle(rng, rows, n, sizeof(*rows));
    gsl_rng_free(rng);
}

static void assert_same_report(const struct eval_report *a,
                               const struct eval_report *b)
{
    CU_ASSERT(same_bits(a->gini, b->gini));
    CU_ASSERT(same_bits(a->gini_oracle, b->gini_oracle));
    CU_ASSERT(same_bits(a->mean_poisson_deviance,
                        b->mean_poisson_deviance));
    CU_ASSERT(same_bits(a->exposure, b->exposure));
    CU_ASSERT(same_bits(a->predicted, b->predicted));
    for (size_t i = 0; i < a->n_buckets; i++) {
        CU_ASSERT_EQUAL(a->lift[i].n, b->lift[i].n);
        CU_ASSERT(same_bits(a->lift[i].exposure, b->lift[i].exposure));
        CU_ASSERT(same_bits(a->lift[i].actual, b->lift[i].actual));
        CU_ASSERT(same_bits(a->lift[i].predicted, b->lift[i].predicted));
    }
    for (size_t i = 0; i < EVAL_N_BANDS; i++) {
        CU_ASSERT_EQUAL(a->bands[i].n, b->bands[i].n);
        CU_ASSERT(same_bits(a->bands[i].ae, b->bands[i].ae));
    }
}

static void test_eval_row_order_and_ties_do_not_change_the_result(void)
{
    struct eval_row *copy = malloc(SIM_N * sizeof(*copy));
    CU_ASSERT_FATAL(copy != NULL);
    /* the tied set really has ties: few distinct relativities */
    size_t distinct = 0;
    for (size_t i = 0; i < SIM_N && distinct <= 200; i++) {
        double rel = sim_ties[i].pred / sim_ties[i].exposure;
        size_t j = 0;
        while (j < i && sim_ties[j].pred / sim_ties[j].exposure != rel)
            j++;
        distinct += j == i;
    }
    CU_ASSERT(distinct < 200);
    const struct eval_row *sets[] = {sim, sim_ties};
    for (size_t s = 0; s < 2; s++) {
        struct eval_report a;
        struct eval_report b;
        CU_ASSERT_EQUAL_FATAL(eval_compute(sets[s], SIM_N, 10, &a, NULL),
                              ENG_OK);
        memcpy(copy, sets[s], SIM_N * sizeof(*copy));
        shuffle_rows(copy, SIM_N, 7 + s);
        CU_ASSERT_EQUAL_FATAL(eval_compute(copy, SIM_N, 10, &b, NULL),
                              ENG_OK);
        assert_same_report(&a, &b);
    }
    free(copy);
}

static void test_eval_oracle_beats_a_noisy_score_on_simulated_data(void)
{
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(sim, SIM_N, 10, &r, NULL), ENG_OK);
    printf("\n  simulated: gini %.4f, oracle %.4f, ratio %.4f, A/E %.4f\n",
           r.gini, r.gini_oracle, r.gini_ratio, r.ae);
    CU_ASSERT(r.gini > 0.0);
    CU_ASSERT(r.gini_oracle > r.gini);
    CU_ASSERT_DOUBLE_EQUAL(r.gini_ratio, r.gini / r.gini_oracle, TOL);
    CU_ASSERT(r.gini_ratio > 0.0 && r.gini_ratio < 1.0);
    /* the noise has mean 1: about 5,000 claims, A/E within 5% */
    CU_ASSERT_DOUBLE_EQUAL(r.ae, 1.0, 0.05);
}

static void test_eval_lift_buckets_partition_the_rows(void)
{
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(sim, SIM_N, 10, &r, NULL), ENG_OK);
    CU_ASSERT_EQUAL(r.n_buckets, 10);
    size_t n = 0;
    double e = 0.0;
    double a = 0.0;
    double p = 0.0;
    for (size_t i = 0; i < 10; i++) {
        n += r.lift[i].n;
        e += r.lift[i].exposure;
        a += r.lift[i].actual;
        p += r.lift[i].predicted;
        /* equal exposure, give or take one row (at most 1 year) */
        CU_ASSERT_DOUBLE_EQUAL(r.lift[i].exposure, r.exposure / 10, 1.0);
        CU_ASSERT_DOUBLE_EQUAL(r.lift[i].ae,
                               r.lift[i].actual / r.lift[i].predicted, TOL);
        if (i > 0)
            CU_ASSERT(r.lift[i].predicted_freq
                      >= r.lift[i - 1].predicted_freq);
    }
    CU_ASSERT_EQUAL(n, SIM_N);
    CU_ASSERT_DOUBLE_EQUAL(e, r.exposure, 1e-9 * r.exposure);
    CU_ASSERT_DOUBLE_EQUAL(a, r.actual, 0.0);  /* whole counts: exact */
    CU_ASSERT_DOUBLE_EQUAL(p, r.predicted, 1e-9 * r.predicted);
    CU_ASSERT(r.lift[9].actual_freq > 2.0 * r.lift[0].actual_freq);
    for (size_t i = 10; i < EVAL_MAX_BUCKETS; i++)
        CU_ASSERT_EQUAL(r.lift[i].n, 0);
}

/*
 * Exposures 3, 1, 1, 1 in frequency order, 2 buckets of 3 years: the
 * midpoints 1.5, 3.5, 4.5, 5.5 put row 1 in bucket 1 and the rest in 2.
 * Exposures 10 and 1 in 4 buckets: midpoints 5 and 10.5 of 11 fall in
 * buckets 2 and 4, leaving 1 and 3 empty.
 */
static void test_eval_lift_places_rows_by_exposure_midpoint(void)
{
    struct eval_row rows[] = {
        {1, 1, 0.3, NAN, 0},
        {0, 1, 0.4, NAN, 0},
        {2, 1, 0.5, NAN, 0},
        {0, 3, 0.3, NAN, 0},  /* frequency 0.1: first */
    };
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 4, 2, &r, NULL), ENG_OK);
    CU_ASSERT_EQUAL(r.lift[0].n, 1);
    CU_ASSERT_DOUBLE_EQUAL(r.lift[0].exposure, 3.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.lift[0].actual, 0.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.lift[0].predicted_freq, 0.1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.lift[0].ae, 0.0, TOL);
    CU_ASSERT_EQUAL(r.lift[1].n, 3);
    CU_ASSERT_DOUBLE_EQUAL(r.lift[1].exposure, 3.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.lift[1].actual, 3.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.lift[1].predicted, 1.2, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.lift[1].actual_freq, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.lift[1].ae, 2.5, TOL);

    struct eval_row big[] = {
        {1, 10, 1.0, NAN, 0},
        {1, 1, 0.5, NAN, 0},
    };
    CU_ASSERT_EQUAL_FATAL(eval_compute(big, 2, 4, &r, NULL), ENG_OK);
    CU_ASSERT_EQUAL(r.lift[0].n, 0);
    CU_ASSERT_EQUAL(r.lift[1].n, 1);
    CU_ASSERT_EQUAL(r.lift[2].n, 0);
    CU_ASSERT_EQUAL(r.lift[3].n, 1);
    CU_ASSERT(isnan(r.lift[0].actual_freq));
    CU_ASSERT(isnan(r.lift[0].predicted_freq));
    CU_ASSERT(isnan(r.lift[2].ae));
}

static void test_eval_zero_buckets_means_the_default(void)
{
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(sim, 1000, 0, &r, NULL), ENG_OK);
    CU_ASSERT_EQUAL(r.n_buckets, EVAL_DEFAULT_BUCKETS);
}

/*
 * Band A: claims 1 + 0, predicted 0.5 + 0.3, exposure 1 + 2 -> A/E 1.25;
 * band C: 2 claims, predicted 1 over 0.5 years -> A/E 2, frequency 4;
 * the unbanded row counts in the totals only; B, D and E are empty.
 */
static void test_eval_reports_actual_over_expected_by_band(void)
{
    struct eval_row rows[] = {
        {1, 1.0, 0.5, NAN, 'A'},
        {2, 0.5, 1.0, NAN, 'C'},
        {0, 2.0, 0.3, NAN, 'A'},
        {5, 1.0, 1.0, NAN, 0},
    };
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 4, 2, &r, NULL), ENG_OK);
    CU_ASSERT_EQUAL(r.bands[0].n, 2);
    CU_ASSERT_DOUBLE_EQUAL(r.bands[0].exposure, 3.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.bands[0].actual, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.bands[0].predicted, 0.8, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.bands[0].ae, 1.25, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.bands[0].actual_freq, 1.0 / 3.0, TOL);
    CU_ASSERT_EQUAL(r.bands[2].n, 1);
    CU_ASSERT_DOUBLE_EQUAL(r.bands[2].ae, 2.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.bands[2].actual_freq, 4.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.bands[2].predicted_freq, 2.0, TOL);
    CU_ASSERT_EQUAL(r.bands[1].n, 0);
    CU_ASSERT(isnan(r.bands[1].ae));
    CU_ASSERT_EQUAL(r.bands[3].n, 0);
    CU_ASSERT_EQUAL(r.bands[4].n, 0);
    CU_ASSERT_EQUAL(r.n, 4);
    CU_ASSERT_DOUBLE_EQUAL(r.actual, 8.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.predicted, 2.8, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.ae, 8.0 / 2.8, TOL);
}

static void test_eval_bands_are_calibrated_on_simulated_data(void)
{
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(sim, SIM_N, 10, &r, NULL), ENG_OK);
    size_t banded = 0;
    for (size_t b = 0; b < EVAL_N_BANDS; b++) {
        banded += r.bands[b].n;
        /* about 1,000 claims per band: A/E within 10% */
        CU_ASSERT_DOUBLE_EQUAL(r.bands[b].ae, 1.0, 0.1);
    }
    CU_ASSERT_EQUAL(banded, SIM_N - (SIM_N + 5) / 6);
}

/* sklearn's example: y = 2 0 1 4, mu = 0.5 0.5 2 2 give 1.4260. */
static void test_eval_mean_poisson_deviance_matches_the_reference(void)
{
    const double y[] = {2, 0, 1, 4};
    const double mu[] = {0.5, 0.5, 2, 2};
    double want = 2.0 * ((2 * log(2 / 0.5) - 2 + 0.5)
                         + (0.5)
                         + (1 * log(1 / 2.0) - 1 + 2)
                         + (4 * log(4 / 2.0) - 4 + 2)) / 4.0;
    double d = 99.0;
    CU_ASSERT_EQUAL_FATAL(eval_mean_poisson_deviance(y, mu, 4, &d, NULL),
                          ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(d, want, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(d, 1.4260, 5e-5);

    struct eval_row rows[4];
    for (size_t i = 0; i < 4; i++)
        rows[i] = (struct eval_row){y[i], 1.0, mu[i], NAN, 0};
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 4, 2, &r, NULL), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(r.mean_poisson_deviance, want, 1e-14);
}

static void test_eval_deviance_rejects_bad_input(void)
{
    const double y[] = {1, 2};
    const double mu_zero[] = {1, 0};
    const double mu_nan[] = {NAN, 1};
    const double y_neg[] = {1, -1};
    const double mu[] = {1, 1};
    struct eng_err err = {0, ""};
    double d = 42.0;
    CU_ASSERT_EQUAL(eval_mean_poisson_deviance(y, mu_zero, 2, &d, &err),
                    ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "row 2"));
    CU_ASSERT_EQUAL(eval_mean_poisson_deviance(y, mu_nan, 2, &d, &err),
                    ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "row 1"));
    CU_ASSERT_EQUAL(eval_mean_poisson_deviance(y_neg, mu, 2, &d, &err),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(eval_mean_poisson_deviance(y, mu, 0, &d, &err),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(err.code, ENG_EDATA);
    CU_ASSERT_DOUBLE_EQUAL(d, 42.0, 0.0);
}

static void test_eval_gini_rejects_bad_input(void)
{
    const double y[] = {1, 2, 0};
    const double e[] = {1, 1, 1};
    const double s[] = {1, 2, 3};
    const double e_zero[] = {1, 1, 0};
    const double s_inf[] = {1, INFINITY, 3};
    const double y_neg[] = {-1, 2, 0};
    struct eng_err err = {0, ""};
    double g = 42.0;
    CU_ASSERT_EQUAL(eval_gini(y, e, s, 0, &g, &err), ENG_EDATA);
    CU_ASSERT_EQUAL(eval_gini(y, e_zero, s, 3, &g, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "row 3"));
    CU_ASSERT_EQUAL(eval_gini(y, e, s_inf, 3, &g, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "row 2"));
    CU_ASSERT_EQUAL(eval_gini(y_neg, e, s, 3, &g, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "row 1"));
    CU_ASSERT_DOUBLE_EQUAL(g, 42.0, 0.0);
}

static void test_eval_gini_without_claims_is_nan(void)
{
    const double y[] = {0, 0};
    const double e[] = {1, 1};
    const double s[] = {1, 2};
    double g = 42.0;
    CU_ASSERT_EQUAL(eval_gini(y, e, s, 2, &g, NULL), ENG_OK);
    CU_ASSERT(isnan(g));

    struct eval_row rows[] = {{0, 1, 0.1, 0.1, 0}, {0, 1, 0.2, 0.2, 0}};
    struct eval_report r;
    CU_ASSERT_EQUAL(eval_compute(rows, 2, 2, &r, NULL), ENG_OK);
    CU_ASSERT(isnan(r.gini));
    CU_ASSERT(isnan(r.gini_oracle));
    CU_ASSERT(isnan(r.gini_ratio));
    CU_ASSERT_DOUBLE_EQUAL(r.ae, 0.0, 0.0);
}

/* Row 3 of a good set of four is replaced by bad; checks code and row. */
static void expect_rejected(struct eval_row bad, const char *what, int code)
{
    struct eval_row rows[] = {
        {1, 1, 0.5, 0.4, 'A'},
        {0, 1, 0.5, 0.4, 'B'},
        {0, 1, 0.5, 0.4, 0},
        {2, 1, 0.5, 0.4, 'E'},
    };
    rows[2] = bad;
    struct eval_report out;
    struct eval_report before;
    memset(&out, 0x5a, sizeof(out));
    memcpy(&before, &out, sizeof(out));
    struct eng_err err = {0, ""};
    int rc = eval_compute(rows, 4, 2, &out, &err);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(err.code, code);
    if (code == ENG_EDATA && !strstr(err.msg, "row 3"))
        printf("\n  %s: message '%s' names no row 3\n", what, err.msg);
    CU_ASSERT(code != ENG_EDATA || strstr(err.msg, "row 3") != NULL);
    CU_ASSERT(memcmp(&out, &before, sizeof(out)) == 0);
}

static void test_eval_compute_rejects_bad_rows(void)
{
    expect_rejected((struct eval_row){NAN, 1, 0.5, 0.4, 0}, "nan y",
                    ENG_EDATA);
    expect_rejected((struct eval_row){-1, 1, 0.5, 0.4, 0}, "negative y",
                    ENG_EDATA);
    expect_rejected((struct eval_row){INFINITY, 1, 0.5, 0.4, 0}, "inf y",
                    ENG_EDATA);
    expect_rejected((struct eval_row){0, 0, 0.5, 0.4, 0}, "zero exposure",
                    ENG_EDATA);
    expect_rejected((struct eval_row){0, -1, 0.5, 0.4, 0},
                    "negative exposure", ENG_EDATA);
    expect_rejected((struct eval_row){0, INFINITY, 0.5, 0.4, 0},
                    "infinite exposure", ENG_EDATA);
    expect_rejected((struct eval_row){0, 1, 0, 0.4, 0}, "zero pred",
                    ENG_EDATA);
    expect_rejected((struct eval_row){0, 1, -0.5, 0.4, 0}, "negative pred",
                    ENG_EDATA);
    expect_rejected((struct eval_row){0, 1, NAN, 0.4, 0}, "nan pred",
                    ENG_EDATA);
    expect_rejected((struct eval_row){0, 1, 0.5, -0.4, 0}, "negative truth",
                    ENG_EDATA);
    expect_rejected((struct eval_row){0, 1, 0.5, INFINITY, 0},
                    "infinite truth", ENG_EDATA);
    expect_rejected((struct eval_row){0, 1, 0.5, NAN, 0}, "missing truth",
                    ENG_EDATA);
    expect_rejected((struct eval_row){0, 1, 0.5, 0.4, 'F'}, "band F",
                    ENG_EDATA);
    expect_rejected((struct eval_row){0, 1, 0.5, 0.4, 'a'}, "band a",
                    ENG_EDATA);
}

static void test_eval_compute_rejects_empty_input_and_too_many_buckets(void)
{
    struct eval_row rows[] = {{1, 1, 0.5, NAN, 0}, {1, 1, 0.5, 0.1, 0}};
    struct eval_report out;
    struct eval_report before;
    memset(&out, 0x5a, sizeof(out));
    memcpy(&before, &out, sizeof(out));
    struct eng_err err = {0, ""};
    CU_ASSERT_EQUAL(eval_compute(rows, 0, 10, &out, &err), ENG_EDATA);
    CU_ASSERT_EQUAL(eval_compute(rows, 1, EVAL_MAX_BUCKETS + 1, &out, &err),
                    ENG_EUSAGE);
    CU_ASSERT_EQUAL(err.code, ENG_EUSAGE);
    /* truth on row 2 only */
    CU_ASSERT_EQUAL(eval_compute(rows, 2, 10, &out, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "row 2"));
    CU_ASSERT(memcmp(&out, &before, sizeof(out)) == 0);
    CU_ASSERT_EQUAL(eval_compute(rows, 1, EVAL_MAX_BUCKETS, &out, &err),
                    ENG_OK);
}

/* The hand rows with a truth, so every figure is known. */
static void hand_report(struct eval_report *r)
{
    struct eval_row rows[4];
    for (size_t i = 0; i < 4; i++)
        rows[i] = (struct eval_row){hy[i], he[i], hscore[i],
                                    hy[i] + 0.5, (char)('A' + i % 2)};
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 4, 2, r, NULL), ENG_OK);
}

static void test_eval_text_output_holds_the_figures(void)
{
    struct eval_report r;
    hand_report(&r);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(eval_print_text(&r, f, NULL), ENG_OK);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char want[64];
    snprintf(want, sizeof(want), "%.4f", r.gini);
    CU_ASSERT_STRING_EQUAL(want, "0.4500");
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Gini                      0.4500"));
    snprintf(want, sizeof(want), "%.4f", r.gini_oracle);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
    snprintf(want, sizeof(want), "%.6f", r.mean_poisson_deviance);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "rows                      4\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "2 equal-exposure buckets"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "bands: actual / expected"));
    /* band B holds r2 and r4: 3 claims, predicted 3.0, 3 years */
    CU_ASSERT_PTR_NOT_NULL(strstr(text,
        "     B       2         3.0           3         3.0    1.0000"
        "    1.0000   1.000\n"));
    /* no line wider than 80 columns */
    size_t col = 0;
    size_t widest = 0;
    for (const char *c = text; *c; c++) {
        col = *c == '\n' ? 0 : col + 1;
        if (col > widest)
            widest = col;
    }
    CU_ASSERT(widest <= 80);
    free(text);
}

static void test_eval_text_output_shows_nan_as_a_dash(void)
{
    struct eval_row rows[] = {{1, 1, 0.5, NAN, 0}, {0, 1, 0.2, NAN, 0}};
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 2, 4, &r, NULL), ENG_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(eval_print_text(&r, f, NULL), ENG_OK);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Gini of truth (oracle)    -\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Gini ratio                -\n"));
    CU_ASSERT_PTR_NULL(strstr(text, "bands"));  /* no banded rows */
    free(text);
}

static void test_eval_text_output_reports_a_failed_write(void)
{
    struct eval_report r;
    hand_report(&r);
    FILE *f = fopen("/dev/null", "r");
    CU_ASSERT_FATAL(f != NULL);
    struct eng_err err = {0, ""};
    CU_ASSERT_EQUAL(eval_print_text(&r, f, &err), ENG_EIO);
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    fclose(f);
}

/* cJSON writes 15 significant digits when they read back within 1 ulp */
#define JSON_TOL 1e-14

static double num_at(const cJSON *o, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(item) ? item->valuedouble : NAN;
}

static void test_eval_json_output_parses_back_to_the_figures(void)
{
    struct eval_report r;
    hand_report(&r);
    struct eng_err err = {0, ""};
    char *text = eval_to_json(&r, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    cJSON *o = cJSON_Parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_DOUBLE_EQUAL(num_at(o, "n"), 4.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(num_at(o, "gini"), 0.45, TOL);
    CU_ASSERT_DOUBLE_EQUAL(num_at(o, "gini"), r.gini, JSON_TOL);
    CU_ASSERT_DOUBLE_EQUAL(num_at(o, "gini_oracle"), r.gini_oracle,
                           JSON_TOL);
    CU_ASSERT_DOUBLE_EQUAL(num_at(o, "gini_ratio"), r.gini_ratio,
                           JSON_TOL);
    CU_ASSERT_DOUBLE_EQUAL(num_at(o, "mean_poisson_deviance"),
                           r.mean_poisson_deviance, JSON_TOL);
    CU_ASSERT_DOUBLE_EQUAL(num_at(o, "exposure"), 5.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(num_at(o, "actual"), 4.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(num_at(o, "n_buckets"), 2.0, 0.0);

    const cJSON *lift = cJSON_GetObjectItemCaseSensitive(o, "lift");
    CU_ASSERT_FATAL(cJSON_IsArray(lift));
    CU_ASSERT_EQUAL(cJSON_GetArraySize(lift), 2);
    const cJSON *b2 = cJSON_GetArrayItem(lift, 1);
    CU_ASSERT_DOUBLE_EQUAL(num_at(b2, "bucket"), 2.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(num_at(b2, "n"), (double)r.lift[1].n, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(num_at(b2, "ae"), r.lift[1].ae, JSON_TOL);
    CU_ASSERT_DOUBLE_EQUAL(num_at(b2, "actual_freq"), r.lift[1].actual_freq,
                           JSON_TOL);

    const cJSON *bands = cJSON_GetObjectItemCaseSensitive(o, "bands");
    CU_ASSERT_FATAL(cJSON_IsArray(bands));
    CU_ASSERT_EQUAL(cJSON_GetArraySize(bands), EVAL_N_BANDS);
    const cJSON *a = cJSON_GetArrayItem(bands, 0);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(a, "band");
    CU_ASSERT(cJSON_IsString(name) && strcmp(name->valuestring, "A") == 0);
    CU_ASSERT_DOUBLE_EQUAL(num_at(a, "ae"), r.bands[0].ae, JSON_TOL);
    /* band C is empty: its ratios are null */
    const cJSON *c = cJSON_GetArrayItem(bands, 2);
    CU_ASSERT_DOUBLE_EQUAL(num_at(c, "n"), 0.0, 0.0);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c, "ae")));
    cJSON_Delete(o);
    free(text);
}

static void test_eval_json_output_writes_nan_as_null(void)
{
    struct eval_row rows[] = {{1, 1, 0.5, NAN, 0}, {0, 1, 0.2, NAN, 0}};
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 2, 2, &r, NULL), ENG_OK);
    char *text = eval_to_json(&r, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    cJSON *o = cJSON_Parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o,
                                                            "gini_oracle")));
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o,
                                                            "gini_ratio")));
    CU_ASSERT(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "gini")));
    cJSON_Delete(o);
    free(text);
}

/* ---------------- subgroups ---------------- */

/* sim with keys: history by parity, powertrain cycling, 1 in 10 high-km;
 * BEV predictions 1.5 times too high.  Caller frees. */
static struct eval_row *keyed_rows(void)
{
    struct eval_row *rows = malloc(SIM_N * sizeof(*rows));
    if (!rows)
        return NULL;
    for (size_t i = 0; i < SIM_N; i++) {
        rows[i] = sim[i];
        rows[i].history = i % 2 ? EVAL_HIST_MIDLIFE : EVAL_HIST_NEW;
        rows[i].ptrain = (unsigned char)(EVAL_PT_ICE + i % 4);
        rows[i].mileage = i % 10 == 0 ? EVAL_KM_HIGH : EVAL_KM_NORMAL;
        if (rows[i].ptrain == EVAL_PT_BEV)
            rows[i].pred *= 1.5;
    }
    return rows;
}

static void test_eval_subgroups_equal_the_group_evaluated_alone(void)
{
    struct eval_row *rows = keyed_rows();
    struct eval_row *sub = malloc(SIM_N * sizeof(*sub));
    CU_ASSERT_FATAL(rows && sub);
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, SIM_N, 10, &r, NULL), ENG_OK);
    CU_ASSERT_EQUAL(r.min_group, 0);
    CU_ASSERT_EQUAL_FATAL(eval_subgroups(rows, SIM_N, 0, &r, NULL), ENG_OK);
    CU_ASSERT_EQUAL(r.min_group, EVAL_MIN_GROUP);
    /* group -> the rows it should hold */
    for (int g = 0; g < EVAL_N_GROUPS; g++) {
        size_t m = 0;
        for (size_t i = 0; i < SIM_N; i++) {
            const struct eval_row *w = &rows[i];
            int in = g == EVAL_G_NEW ? w->history == EVAL_HIST_NEW
                : g == EVAL_G_MIDLIFE ? w->history == EVAL_HIST_MIDLIFE
                : g == EVAL_G_ICE ? w->ptrain == EVAL_PT_ICE
                : g == EVAL_G_HEV ? w->ptrain == EVAL_PT_HEV
                : g == EVAL_G_PHEV ? w->ptrain == EVAL_PT_PHEV
                : g == EVAL_G_BEV ? w->ptrain == EVAL_PT_BEV
                : g == EVAL_G_HIGH_KM ? w->mileage == EVAL_KM_HIGH
                : g == EVAL_G_NORMAL_KM ? w->mileage == EVAL_KM_NORMAL : 0;
            if (in)
                sub[m++] = *w;
        }
        const struct eval_group *o = &r.groups[g];
        CU_ASSERT_PTR_NOT_NULL(o->name);
        CU_ASSERT_EQUAL(o->n, m);
        if (m == 0)
            continue;
        struct eval_report alone;
        CU_ASSERT_EQUAL_FATAL(eval_compute(sub, m, 10, &alone, NULL),
                              ENG_OK);
        CU_ASSERT_FALSE(o->small);
        CU_ASSERT_DOUBLE_EQUAL(o->gini, alone.gini, TOL);
        CU_ASSERT_DOUBLE_EQUAL(o->gini_oracle, alone.gini_oracle, TOL);
        CU_ASSERT_DOUBLE_EQUAL(o->gini_ratio, alone.gini_ratio, TOL);
        CU_ASSERT_DOUBLE_EQUAL(o->ae, alone.ae, TOL);
        CU_ASSERT_DOUBLE_EQUAL(o->exposure, alone.exposure, 1e-6);
    }
    /* every powertrain known: no "unknown" group */
    CU_ASSERT_EQUAL(r.groups[EVAL_G_PT_UNKNOWN].n, 0);
    free(rows);
    free(sub);
}

static void test_eval_subgroups_show_a_group_the_average_hides(void)
{
    struct eval_row *rows = keyed_rows();
    CU_ASSERT_FATAL(rows != NULL);
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, SIM_N, 10, &r, NULL), ENG_OK);
    CU_ASSERT_EQUAL_FATAL(eval_subgroups(rows, SIM_N, 0, &r, NULL), ENG_OK);
    /* the BEVs' predictions are 1.5 times too high */
    CU_ASSERT_DOUBLE_EQUAL(r.groups[EVAL_G_BEV].ae, 1 / 1.5, 0.05);
    CU_ASSERT_DOUBLE_EQUAL(r.groups[EVAL_G_ICE].ae, 1.0, 0.05);
    CU_ASSERT(r.ae > 0.85 && r.ae < 1.0);
    free(rows);
}

static void test_eval_small_subgroups_give_no_figures(void)
{
    struct eval_row *rows = keyed_rows();
    CU_ASSERT_FATAL(rows != NULL);
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, SIM_N, 10, &r, NULL), ENG_OK);
    /* 5,000 high-mileage rows, 12,500 per powertrain, 25,000 per history */
    CU_ASSERT_EQUAL_FATAL(eval_subgroups(rows, SIM_N, 12501, &r, NULL),
                          ENG_OK);
    const struct eval_group *hk = &r.groups[EVAL_G_HIGH_KM];
    CU_ASSERT_EQUAL(hk->n, 5000);
    CU_ASSERT_TRUE(hk->small);
    CU_ASSERT_TRUE(isnan(hk->gini) && isnan(hk->ae) && isnan(hk->gini_ratio));
    CU_ASSERT_TRUE(r.groups[EVAL_G_BEV].small);
    CU_ASSERT_FALSE(r.groups[EVAL_G_NEW].small);
    CU_ASSERT_TRUE(isfinite(r.groups[EVAL_G_NEW].gini));

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(eval_print_text(&r, f, NULL), ENG_OK);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "subgroups (figures for groups of "
                                        "12501 rows or more)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "high mileage            5000  "
                                        "fewer than 12501 rows: not "
                                        "reported\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "history mid-life       25000"));
    CU_ASSERT_PTR_NULL(strstr(text, "powertrain unknown"));
    size_t col = 0, widest = 0;
    for (const char *c = text; *c; c++) {
        col = *c == '\n' ? 0 : col + 1;
        if (col > widest)
            widest = col;
    }
    CU_ASSERT(widest <= 80);
    free(text);

    char *json = eval_to_json(&r, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    cJSON *o = cJSON_Parse(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(o, "subgroups");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(groups), 8);
    int seen_small = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, groups) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "group");
        const cJSON *small = cJSON_GetObjectItemCaseSensitive(g, "small");
        const cJSON *gini = cJSON_GetObjectItemCaseSensitive(g, "gini");
        CU_ASSERT_TRUE(cJSON_IsString(name) && cJSON_IsBool(small));
        if (cJSON_IsTrue(small)) {
            seen_small++;
            CU_ASSERT_TRUE(cJSON_IsNull(gini));
        } else {
            CU_ASSERT_TRUE(cJSON_IsNumber(gini));
        }
    }
    CU_ASSERT_EQUAL(seen_small, 5);     /* four powertrains, high km */
    cJSON_Delete(o);
    free(json);
    free(rows);
}

static void test_eval_rows_without_keys_give_no_subgroups(void)
{
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(sim, SIM_N, 10, &r, NULL), ENG_OK);
    CU_ASSERT_EQUAL_FATAL(eval_subgroups(sim, SIM_N, 10, &r, NULL), ENG_OK);
    for (int g = 0; g < EVAL_N_GROUPS; g++)
        CU_ASSERT_EQUAL(r.groups[g].n, 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(eval_print_text(&r, f, NULL), ENG_OK);
    fclose(f);
    CU_ASSERT_PTR_NULL(strstr(text, "subgroups"));
    free(text);
}

static void test_eval_subgroups_reject_bad_keys(void)
{
    struct eval_row rows[] = {{1, 1, 0.5, NAN, 0}, {0, 1, 0.2, NAN, 0}};
    rows[1].ptrain = 9;
    struct eval_report r;
    CU_ASSERT_EQUAL_FATAL(eval_compute(rows, 2, 4, &r, NULL), ENG_OK);
    struct eval_report before = r;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(eval_subgroups(rows, 2, 1, &r, &err), ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "row 2"));
    CU_ASSERT_EQUAL(memcmp(&before, &r, sizeof(r)), 0);
}

static CU_TestInfo eval_tests[] = {
    {"subgroups equal the group evaluated alone",
     test_eval_subgroups_equal_the_group_evaluated_alone},
    {"subgroups show a group the average hides",
     test_eval_subgroups_show_a_group_the_average_hides},
    {"small subgroups give no figures",
     test_eval_small_subgroups_give_no_figures},
    {"rows without keys give no subgroups",
     test_eval_rows_without_keys_give_no_subgroups},
    {"subgroups reject bad keys", test_eval_subgroups_reject_bad_keys},
    {"Gini of a perfect score equals the hand value",
     test_eval_gini_of_a_perfect_score_equals_the_hand_value},
    {"a constant score gives zero", test_eval_constant_score_gives_zero},
    {"a reversed score negates the Gini",
     test_eval_reversed_score_negates_the_gini},
    {"tied scores form one segment", test_eval_tied_scores_form_one_segment},
    {"row order and ties do not change the result",
     test_eval_row_order_and_ties_do_not_change_the_result},
    {"the oracle beats a noisy score on simulated data",
     test_eval_oracle_beats_a_noisy_score_on_simulated_data},
    {"lift buckets partition the rows",
     test_eval_lift_buckets_partition_the_rows},
    {"lift places rows by exposure midpoint",
     test_eval_lift_places_rows_by_exposure_midpoint},
    {"zero buckets means the default",
     test_eval_zero_buckets_means_the_default},
    {"reports actual over expected by band",
     test_eval_reports_actual_over_expected_by_band},
    {"bands are calibrated on simulated data",
     test_eval_bands_are_calibrated_on_simulated_data},
    {"mean Poisson deviance matches the reference",
     test_eval_mean_poisson_deviance_matches_the_reference},
    {"deviance rejects bad input", test_eval_deviance_rejects_bad_input},
    {"Gini rejects bad input", test_eval_gini_rejects_bad_input},
    {"Gini without claims is NAN", test_eval_gini_without_claims_is_nan},
    {"compute rejects bad rows", test_eval_compute_rejects_bad_rows},
    {"compute rejects empty input and too many buckets",
     test_eval_compute_rejects_empty_input_and_too_many_buckets},
    {"text output holds the figures",
     test_eval_text_output_holds_the_figures},
    {"text output shows NAN as a dash",
     test_eval_text_output_shows_nan_as_a_dash},
    {"text output reports a failed write",
     test_eval_text_output_reports_a_failed_write},
    {"JSON output parses back to the figures",
     test_eval_json_output_parses_back_to_the_figures},
    {"JSON output writes NAN as null",
     test_eval_json_output_writes_nan_as_null},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_eval_suites[] = {
    {"eval", suite_init, suite_clean, NULL, NULL, eval_tests},
    CU_SUITE_INFO_NULL
};
