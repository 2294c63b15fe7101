/*
 * Tests for glm: R's reference fits (Dobson, clotting, budworm, plant
 * weights), recovery of simulated coefficients, aliasing, convergence
 * failures, offsets and weights, bad input, the L2 penalty, determinism
 * across threads, and the helpers.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_multifit.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "glm.h"

/*
 * A macro rather than a function so that CUnit reports the caller's line:
 * got must lie within rel * |want| of want.
 */
#define ASSERT_REL(got, want, rel) \
    CU_ASSERT_DOUBLE_EQUAL((got), (want), (rel) * fabs(want))

/* ===================== Reference data sets ===================== */

/* Dobson (1990) p. 93: counts ~ outcome + treatment, both factors. */
static void dobson(double x[45], double y[9])
{
    static const double counts[9] = {18, 17, 15, 20, 10, 20, 25, 13, 12};
    for (int i = 0; i < 9; i++) {
        int outcome = i % 3;
        int treatment = i / 3;
        double *xi = x + i * 5;
        xi[0] = 1.0;
        xi[1] = outcome == 1;
        xi[2] = outcome == 2;
        xi[3] = treatment == 1;
        xi[4] = treatment == 2;
        y[i] = counts[i];
    }
}

/* McCullagh & Nelder (1989) clotting times, lot 1: lot1 ~ log(u). */
static void clotting(double x[18], double y[9])
{
    static const double u[9] = {5, 10, 15, 20, 30, 40, 60, 80, 100};
    static const double lot1[9] = {118, 58, 42, 35, 27, 25, 21, 19, 18};
    for (int i = 0; i < 9; i++) {
        x[2 * i] = 1.0;
        x[2 * i + 1] = log(u[i]);
        y[i] = lot1[i];
    }
}

/*
 * Venables & Ripley's budworm data: numdead of 20 ~ sex * ldose, as a
 * proportion with 20 trials as prior weight.
 */
static void budworm(double x[48], double y[12], double w[12])
{
    static const double dead[12] = {1, 4, 9, 13, 18, 20, 0, 2, 6, 10, 12,
                                    16};
    for (int i = 0; i < 12; i++) {
        double male = i < 6;
        double ldose = i % 6;
        double *xi = x + i * 4;
        xi[0] = 1.0;
        xi[1] = male;
        xi[2] = ldose;
        xi[3] = male * ldose;
        y[i] = dead[i] / 20.0;
        w[i] = 20.0;
    }
}

/* Dobson's plant weights from R's ?lm: weight ~ group. */
static void plant(double x[40], double y[20])
{
    static const double wt[20] = {
        4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14,
        4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69
    };
    for (int i = 0; i < 20; i++) {
        x[2 * i] = 1.0;
        x[2 * i + 1] = i >= 10;
        y[i] = wt[i];
    }
}

static struct glm_result *fit(const double *x, const double *y,
                              const double *off, const double *w, size_t n,
                              size_t p, const struct glm_options *o,
                              struct eng_err *err)
{
    struct glm_data d = {x, y, off, w, n, p};
    return glm_fit(&d, o, err);
}

/* ===================== Simulated data ===================== */

struct sim {
    double *x;
    double *y;
    double *off;
    double *w;
    size_t n;
    size_t p;
};

static void sim_free(struct sim *s)
{
    free(s->w);
    free(s->off);
    free(s->y);
    free(s->x);
}

/*
 * n rows of an intercept, a normal, a 0/1 flag and a uniform, with the
 * response drawn from the family at the given coefficients; poisson gets
 * an exposure offset, binomial 1 to 5 trials as weights, gamma shape 2,
 * gaussian sd 1.5.
 */
static int simulate(struct sim *s, enum glm_family family,
                    const double beta[4], size_t n, unsigned long seed)
{
    memset(s, 0, sizeof(*s));
    s->n = n;
    s->p = 4;
    s->x = malloc(n * 4 * sizeof(double));
    s->y = malloc(n * sizeof(double));
    s->off = malloc(n * sizeof(double));
    s->w = malloc(n * sizeof(double));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s->x || !s->y || !s->off || !s->w || !r) {
        gsl_rng_free(r);
        sim_free(s);
        return -1;
    }
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < n; i++) {
        double *xi = s->x + i * 4;
        xi[0] = 1.0;
        xi[1] = gsl_ran_gaussian(r, 1.0);
        xi[2] = gsl_rng_uniform(r) < 0.4;
        xi[3] = gsl_rng_uniform(r);
        double eta = beta[0] + beta[1] * xi[1] + beta[2] * xi[2]
                     + beta[3] * xi[3];
        s->off[i] = 0.0;
        s->w[i] = 1.0;
        switch (family) {
        case GLM_POISSON: {
            double expo = 0.2 + 0.8 * gsl_rng_uniform(r);
            s->off[i] = log(expo);
            s->y[i] = gsl_ran_poisson(r, expo * exp(eta));
            break;
        }
        case GLM_BINOMIAL: {
            unsigned m = 1 + (unsigned)gsl_rng_uniform_int(r, 5);
            double pr = 1.0 / (1.0 + exp(-eta));
            s->w[i] = m;
            s->y[i] = gsl_ran_binomial(r, pr, m) / (double)m;
            break;
        }
        case GLM_GAMMA:
            s->y[i] = gsl_ran_gamma(r, 2.0, exp(eta) / 2.0);
            break;
        case GLM_GAUSSIAN:
            s->y[i] = eta + gsl_ran_gaussian(r, 1.5);
            break;
        }
    }
    gsl_rng_free(r);
    return 0;
}

/* ===================== R reference fits ===================== */

static void test_glm_poisson_matches_r_on_dobson_data(void)
{
    double x[45];
    double y[9];
    dobson(x, y);
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct eng_err err = {0};
    struct glm_result *r = fit(x, y, NULL, NULL, 9, 5, &o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* coef(glm.D93), printed to 7 digits */
    ASSERT_REL(r->coef[0], 3.044522, 1e-6);
    ASSERT_REL(r->coef[1], -0.4542553, 1e-6);
    ASSERT_REL(r->coef[2], -0.2929871, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(r->coef[3], 0.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r->coef[4], 0.0, 1e-12);
    /* standard errors, printed to 6 decimals */
    CU_ASSERT_DOUBLE_EQUAL(r->se[0], 0.170899, 5e-7);
    CU_ASSERT_DOUBLE_EQUAL(r->se[1], 0.202171, 5e-7);
    CU_ASSERT_DOUBLE_EQUAL(r->se[2], 0.192742, 5e-7);
    CU_ASSERT_DOUBLE_EQUAL(r->se[3], 0.2, 5e-7);
    CU_ASSERT_DOUBLE_EQUAL(r->se[4], 0.2, 5e-7);
    /* summary(): z values and Pr(>|z|) as printed */
    CU_ASSERT_DOUBLE_EQUAL(r->stat[0], 17.815, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(r->stat[1], -2.247, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(r->stat[2], -1.520, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(r->pvalue[1], 0.0246, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->pvalue[2], 0.1285, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->pvalue[3], 1.0, 1e-9);
    CU_ASSERT_FALSE(r->stat_is_t);
    ASSERT_REL(r->deviance, 5.129141, 1e-6);
    ASSERT_REL(r->null_deviance, 10.581446, 1e-6);
    CU_ASSERT_EQUAL(r->df_residual, 4);
    CU_ASSERT_EQUAL(r->df_null, 8);
    CU_ASSERT_DOUBLE_EQUAL(r->aic, 56.761, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(r->loglik, 5.0 - r->aic / 2.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r->dispersion, 1.0, 0.0);
    CU_ASSERT_EQUAL(r->iterations, 4);
    CU_ASSERT_TRUE(r->converged);
    CU_ASSERT_FALSE(r->boundary);
    CU_ASSERT_EQUAL(r->rank, 5);
    CU_ASSERT_EQUAL(r->warnings, 0);
    CU_ASSERT_STRING_EQUAL(r->warning_text, "");
    for (int j = 0; j < 5; j++) {
        CU_ASSERT_FALSE(r->aliased[j]);
        CU_ASSERT_DOUBLE_EQUAL(r->cov[j * 5 + j], r->se[j] * r->se[j],
                               1e-15);
    }
    /* the covariance is symmetric */
    CU_ASSERT_DOUBLE_EQUAL(r->cov[1 * 5 + 2], r->cov[2 * 5 + 1], 1e-15);
    glm_result_free(r);
}

static void test_glm_gamma_inverse_matches_r_on_clotting_data(void)
{
    double x[18];
    double y[9];
    clotting(x, y);
    struct glm_options o;
    glm_options_init(&o, GLM_GAMMA);
    o.link = GLM_INVERSE;
    struct eng_err err = {0};
    struct glm_result *r = fit(x, y, NULL, NULL, 9, 2, &o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    ASSERT_REL(r->coef[0], -0.01655438, 1e-6);
    ASSERT_REL(r->coef[1], 0.01534311, 1e-6);
    /* printed to 5 significant digits: rel 1e-5 */
    ASSERT_REL(r->se[0], 0.00092755, 1e-5);
    ASSERT_REL(r->se[1], 0.00041496, 1e-5);
    ASSERT_REL(r->deviance, 0.01672972, 1e-6);
    ASSERT_REL(r->null_deviance, 3.51282626, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(r->aic, 37.98992, 5e-6);
    /* summary(): "Dispersion parameter ... taken to be 0.002446059" */
    ASSERT_REL(r->dispersion, 0.002446059, 1e-6);
    ASSERT_REL(r->pearson_dispersion, 0.002446059, 1e-5);
    CU_ASSERT_TRUE(r->stat_is_t);
    /* t = estimate / SE from the reference figures */
    CU_ASSERT_DOUBLE_EQUAL(r->stat[0], -0.01655438 / 0.00092755, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(r->stat[1], 0.01534311 / 0.00041496, 1e-3);
    ASSERT_REL(r->pvalue[0], 4.28e-07, 2e-3);
    ASSERT_REL(r->pvalue[1], 2.75e-09, 2e-3);
    CU_ASSERT_EQUAL(r->df_residual, 7);
    CU_ASSERT_EQUAL(r->df_null, 8);
    CU_ASSERT_EQUAL(r->iterations, 3);
    CU_ASSERT_DOUBLE_EQUAL(r->loglik, 3.0 - r->aic / 2.0, 1e-12);
    glm_result_free(r);
}

static void test_glm_binomial_with_trials_matches_r_on_budworm_data(void)
{
    double x[48];
    double y[12];
    double w[12];
    budworm(x, y, w);
    struct glm_options o;
    glm_options_init(&o, GLM_BINOMIAL);
    struct eng_err err = {0};
    struct glm_result *r = fit(x, y, NULL, w, 12, 4, &o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* MASS, summary(glm(SF ~ sex*ldose, binomial)), printed digits */
    CU_ASSERT_DOUBLE_EQUAL(r->coef[0], -2.9935, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->coef[1], 0.1750, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->coef[2], 0.9060, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->coef[3], 0.3529, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->se[0], 0.5527, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->se[1], 0.7783, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->se[2], 0.1671, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->se[3], 0.2700, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->stat[0], -5.416, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(r->stat[3], 1.307, 5e-4);
    ASSERT_REL(r->pvalue[0], 6.09e-08, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(r->pvalue[1], 0.822, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(r->pvalue[3], 0.191, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(r->null_deviance, 124.8756, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->deviance, 4.9937, 5e-5);
    CU_ASSERT_EQUAL(r->df_null, 11);
    CU_ASSERT_EQUAL(r->df_residual, 8);
    CU_ASSERT_DOUBLE_EQUAL(r->aic, 43.104, 5e-4);
    CU_ASSERT_EQUAL(r->iterations, 4);
    CU_ASSERT_EQUAL(r->warnings, 0);
    glm_result_free(r);
}

static void test_glm_gaussian_matches_r_lm_on_plant_weights(void)
{
    double x[40];
    double y[20];
    plant(x, y);
    struct glm_options o;
    glm_options_init(&o, GLM_GAUSSIAN);
    struct eng_err err = {0};
    struct glm_result *r = fit(x, y, NULL, NULL, 20, 2, &o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* summary(lm.D9) and AIC(lm.D9) */
    CU_ASSERT_DOUBLE_EQUAL(r->coef[0], 5.0320, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->coef[1], -0.3710, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->se[0], 0.2202, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->se[1], 0.3114, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->stat[1], -1.191, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(r->pvalue[1], 0.249, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(sqrt(r->dispersion), 0.6964, 5e-5);
    CU_ASSERT_DOUBLE_EQUAL(r->aic, 46.176, 5e-4);
    CU_ASSERT_EQUAL(r->df_residual, 18);
    CU_ASSERT_EQUAL(r->iterations, 2);
    /* for the gaussian family the two dispersion estimates coincide */
    ASSERT_REL(r->pearson_dispersion, r->dispersion, 1e-12);
    glm_result_free(r);
}

static void test_glm_mean_poisson_deviance_matches_sklearn(void)
{
    const double y[4] = {2, 0, 1, 4};
    const double yhat[4] = {0.5, 0.5, 2, 2};
    CU_ASSERT_DOUBLE_EQUAL(glm_mean_poisson_deviance(y, yhat, 4), 1.4260,
                           1e-4);
    const double bad[1] = {0.0};
    CU_ASSERT_TRUE(isnan(glm_mean_poisson_deviance(y, bad, 1)));
    CU_ASSERT_TRUE(isnan(glm_mean_poisson_deviance(y, yhat, 0)));
}

/* ===================== Simulated recovery ===================== */

static void check_recovery(enum glm_family family, enum glm_link link,
                           const double beta[4], unsigned long seed)
{
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, family, beta, 20000, seed), 0);
    struct glm_options o;
    glm_options_init(&o, family);
    o.link = link;
    struct eng_err err = {0};
    const double *off = family == GLM_POISSON ? s.off : NULL;
    struct glm_result *r = fit(s.x, s.y, off, s.w, s.n, s.p, &o, &err);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r) {
        CU_ASSERT_TRUE(r->converged);
        CU_ASSERT_EQUAL(r->rank, 4);
        for (int j = 0; j < 4; j++) {
            CU_ASSERT(fabs(r->coef[j] - beta[j]) < 4.0 * r->se[j]);
            CU_ASSERT(r->se[j] > 0.0 && r->se[j] < 0.1);
        }
        if (family == GLM_GAMMA)
            CU_ASSERT_DOUBLE_EQUAL(r->dispersion, 0.5, 0.05);
        if (family == GLM_GAUSSIAN)
            CU_ASSERT_DOUBLE_EQUAL(r->dispersion, 2.25, 0.1);
        if (family == GLM_POISSON || family == GLM_BINOMIAL)
            CU_ASSERT_DOUBLE_EQUAL(r->pearson_dispersion, 1.0, 0.05);
        CU_ASSERT(r->deviance < r->null_deviance);
    }
    glm_result_free(r);
    sim_free(&s);
}

static void test_glm_recovers_simulated_poisson_with_exposure(void)
{
    const double beta[4] = {-1.5, 0.3, -0.2, 0.5};
    check_recovery(GLM_POISSON, GLM_LOG, beta, 11);
}

static void test_glm_recovers_simulated_binomial_with_trials(void)
{
    const double beta[4] = {-0.5, 0.8, -0.6, 0.4};
    check_recovery(GLM_BINOMIAL, GLM_LOGIT, beta, 12);
}

static void test_glm_recovers_simulated_gamma_log(void)
{
    const double beta[4] = {6.0, 0.2, -0.3, 0.4};
    check_recovery(GLM_GAMMA, GLM_LOG, beta, 13);
}

static void test_glm_recovers_simulated_gaussian(void)
{
    const double beta[4] = {1.0, 2.0, -1.0, 0.5};
    check_recovery(GLM_GAUSSIAN, GLM_IDENTITY, beta, 14);
}

/* ===================== Accuracy ===================== */

/*
 * Poisson IRLS with each step solved by GSL's SVD (gsl_multifit_wlinear)
 * from the same start, run until the coefficients move by less than 1e-10
 * relative: the reference for the normal equations.  Returns 0, or -1 on failure.
 */
static int svd_irls(const double *x, const double *y, const double *off,
                    size_t n, size_t p, double *coef)
{
    int rc = -1;
    gsl_matrix *xm = gsl_matrix_alloc(n, p);
    gsl_vector *w = gsl_vector_alloc(n);
    gsl_vector *z = gsl_vector_alloc(n);
    gsl_vector *c = gsl_vector_alloc(p);
    gsl_matrix *cov = gsl_matrix_alloc(p, p);
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, p);
    double *eta = malloc(n * sizeof(double));
    if (!xm || !w || !z || !c || !cov || !ws || !eta)
        goto out;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++)
            gsl_matrix_set(xm, i, j, x[i * p + j]);
        eta[i] = log(y[i] + 0.1);
    }
    for (size_t j = 0; j < p; j++)
        coef[j] = 0.0;
    for (int it = 0; it < 50; it++) {
        for (size_t i = 0; i < n; i++) {
            double mu = exp(eta[i]);
            gsl_vector_set(w, i, mu);
            gsl_vector_set(z, i, eta[i] - off[i] + (y[i] - mu) / mu);
        }
        double chisq;
        if (gsl_multifit_wlinear(xm, w, z, c, cov, &chisq, ws)
            != GSL_SUCCESS)
            goto out;
        double moved = 0.0;
        for (size_t j = 0; j < p; j++) {
            double cj = gsl_vector_get(c, j);
            moved = fmax(moved, fabs(cj - coef[j]) / fabs(cj));
            coef[j] = cj;
        }
        for (size_t i = 0; i < n; i++)
            eta[i] = off[i] + glm_predict_eta(coef, x + i * p, p);
        /* the SVD solution itself jitters by about 2e-12 here */
        if (moved < 1e-10) {
            rc = 0;
            break;
        }
    }
out:
    free(eta);
    gsl_multifit_linear_free(ws);
    gsl_matrix_free(cov);
    gsl_vector_free(c);
    gsl_vector_free(z);
    gsl_vector_free(w);
    gsl_matrix_free(xm);
    return rc;
}

static void test_glm_normal_equations_agree_with_an_svd_solution(void)
{
    /*
     * An ill-conditioned design: a model year of 2018, 2019 or 2020 (its
     * mean is 2500 standard deviations from 0: without centring X'WX has a
     * condition number near 1e7 and the estimates lose 1e-8), two normals
     * correlated at 0.95, and a rare flag.  Both fits run to a tight tolerance, so what is left is
     * the accuracy of the linear algebra.
     */
    const size_t n = 4000;
    const size_t p = 5;
    double *x = malloc(n * p * sizeof(double));
    double *y = malloc(n * sizeof(double));
    double *off = malloc(n * sizeof(double));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    CU_ASSERT_FATAL(x && y && off && rng);
    gsl_rng_set(rng, 61);
    for (size_t i = 0; i < n; i++) {
        double *xi = x + i * p;
        double z1 = gsl_ran_gaussian(rng, 1.0);
        xi[0] = 1.0;
        xi[1] = 2018.0 + (double)gsl_rng_uniform_int(rng, 3);
        xi[2] = z1;
        xi[3] = 0.95 * z1 + sqrt(1.0 - 0.95 * 0.95)
                * gsl_ran_gaussian(rng, 1.0);
        xi[4] = gsl_rng_uniform(rng) < 0.02;
        off[i] = log(0.2 + 0.8 * gsl_rng_uniform(rng));
        double eta = 60.0 - 0.03 * xi[1] + 0.3 * xi[2] - 0.2 * xi[3]
                     + 0.5 * xi[4] + off[i];
        y[i] = gsl_ran_poisson(rng, exp(eta));
    }
    double ref[5];
    CU_ASSERT_EQUAL_FATAL(svd_irls(x, y, off, n, p, ref), 0);
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    o.epsilon = 1e-15;
    o.maxit = 50;
    o.allow_unconverged = 1;
    struct glm_result *r = fit(x, y, off, NULL, n, p, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r) {
        for (size_t j = 0; j < p; j++)
            ASSERT_REL(r->coef[j], ref[j], 1e-9);
    }
    glm_result_free(r);
    gsl_rng_free(rng);
    free(off);
    free(y);
    free(x);
}

/* ===================== Aliasing ===================== */

/*
 * Copies the n x 4 simulated design into n x 5 with column `at` (1..4)
 * made from the others by `make`, the rest shifted right.
 */
static double *with_extra_column(const struct sim *s, size_t at,
                                 double (*make)(const double *xi))
{
    double *x = malloc(s->n * 5 * sizeof(double));
    if (!x)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        const double *xi = s->x + i * 4;
        double *xo = x + i * 5;
        size_t k = 0;
        for (size_t j = 0; j < 5; j++)
            xo[j] = j == at ? make(xi) : xi[k++];
    }
    return x;
}

static double copy_of_x1(const double *xi)
{
    return xi[1];
}

static double combination(const double *xi)
{
    return xi[1] + 2.0 * xi[3] - 0.5;
}

static double zero(const double *xi)
{
    (void)xi;
    return 0.0;
}

/*
 * Fits the design with the extra column at `at`, and checks that column
 * `gone` (the later one of the dependent set, as in R) is the one aliased
 * and that the rest equals the fit of the design without it.
 */
static void check_aliased(double (*make)(const double *xi), size_t at,
                          size_t gone)
{
    const double beta[4] = {-1.0, 0.3, -0.2, 0.5};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, GLM_POISSON, beta, 500, 21), 0);
    double *x5 = with_extra_column(&s, at, make);
    double *x4 = malloc(s.n * 4 * sizeof(double));
    CU_ASSERT_FATAL(x5 && x4);
    for (size_t i = 0; i < s.n; i++) {
        size_t k = 0;
        for (size_t j = 0; j < 5; j++) {
            if (j != gone)
                x4[i * 4 + k++] = x5[i * 5 + j];
        }
    }
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct eng_err err = {0};
    struct glm_result *ref = fit(x4, s.y, s.off, NULL, s.n, 4, &o, &err);
    struct glm_result *r = fit(x5, s.y, s.off, NULL, s.n, 5, &o, &err);
    CU_ASSERT_PTR_NOT_NULL(ref);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (ref && r) {
        CU_ASSERT_EQUAL(r->rank, 4);
        CU_ASSERT_EQUAL(r->df_residual, ref->df_residual);
        size_t k = 0;
        for (size_t j = 0; j < 5; j++) {
            if (j == gone) {
                CU_ASSERT_TRUE(r->aliased[j]);
                CU_ASSERT_TRUE(isnan(r->coef[j]));
                CU_ASSERT_TRUE(isnan(r->se[j]));
                CU_ASSERT_TRUE(isnan(r->pvalue[j]));
                CU_ASSERT_TRUE(isnan(r->cov[j * 5 + 0]));
                CU_ASSERT_TRUE(isnan(r->cov[0 * 5 + j]));
                continue;
            }
            CU_ASSERT_FALSE(r->aliased[j]);
            ASSERT_REL(r->coef[j], ref->coef[k], 1e-9);
            ASSERT_REL(r->se[j], ref->se[k], 1e-9);
            k++;
        }
        ASSERT_REL(r->deviance, ref->deviance, 1e-12);
        ASSERT_REL(r->aic, ref->aic, 1e-12);
        /* aliasing is reported in aliased[] and rank, not as a warning */
        CU_ASSERT_EQUAL(r->warnings, 0);
    }
    glm_result_free(r);
    glm_result_free(ref);
    free(x4);
    free(x5);
    sim_free(&s);
}

static void test_glm_aliases_an_exact_copy_of_a_column(void)
{
    check_aliased(copy_of_x1, 4, 4);
}

static void test_glm_aliases_a_linear_combination_with_the_intercept(void)
{
    check_aliased(combination, 4, 4);
    /* placed before x3, the combination stays and x3 goes */
    check_aliased(combination, 2, 4);
}

static void test_glm_aliases_a_zero_column(void)
{
    check_aliased(zero, 3, 3);
}

static void test_glm_aliases_the_later_of_two_equal_columns(void)
{
    /* column 1 is x1 and so is column 2: R gives NA to column 2 */
    check_aliased(copy_of_x1, 2, 2);
    check_aliased(copy_of_x1, 1, 2);
}

static void test_glm_aliases_a_level_sum_on_dobson_data(void)
{
    /* treatment2 + treatment3 as a sixth column, after the others */
    double x5[45];
    double y[9];
    dobson(x5, y);
    double x6[54];
    for (int i = 0; i < 9; i++) {
        memcpy(x6 + i * 6, x5 + i * 5, 5 * sizeof(double));
        x6[i * 6 + 5] = x5[i * 5 + 3] + x5[i * 5 + 4];
    }
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct glm_result *r = fit(x6, y, NULL, NULL, 9, 6, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->rank, 5);
    CU_ASSERT_TRUE(r->aliased[5]);
    CU_ASSERT_TRUE(isnan(r->coef[5]));
    ASSERT_REL(r->coef[0], 3.044522, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(r->se[1], 0.202171, 5e-7);
    ASSERT_REL(r->deviance, 5.129141, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(r->aic, 56.761, 5e-4);
    glm_result_free(r);
}

static double nearly_x1(const double *xi)
{
    /* a deterministic wobble of relative size 1e-4: collinear, not exact */
    return xi[1] + 1e-4 * sin(1e3 * xi[3]);
}

static void test_glm_keeps_a_nearly_collinear_column(void)
{
    const double beta[4] = {-1.0, 0.3, -0.2, 0.5};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, GLM_GAUSSIAN, beta, 500, 22), 0);
    double *x5 = with_extra_column(&s, 4, nearly_x1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x5);
    struct glm_options o;
    glm_options_init(&o, GLM_GAUSSIAN);
    struct glm_result *r = fit(x5, s.y, NULL, NULL, s.n, 5, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r) {
        CU_ASSERT_EQUAL(r->rank, 5);
        CU_ASSERT_FALSE(r->aliased[4]);
        CU_ASSERT_TRUE(isfinite(r->coef[4]));
        /* the split between x1 and its twin is poorly determined */
        CU_ASSERT(r->se[4] > 100.0 * r->se[2]);
    }
    glm_result_free(r);
    free(x5);
    sim_free(&s);
}

/* ===================== Convergence and range failures ===================== */

static void test_glm_reports_non_convergence_clearly(void)
{
    double x[45];
    double y[9];
    dobson(x, y);
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    o.maxit = 2;
    struct eng_err err = {0};
    struct glm_result *r = fit(x, y, NULL, NULL, 9, 5, &o, &err);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_EQUAL(err.code, ENG_ESTAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg,
                                  "glm did not converge in 2 iterations"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "relative deviance change"));
    glm_result_free(r);
}

static void test_glm_returns_an_unconverged_fit_when_allowed(void)
{
    double x[45];
    double y[9];
    dobson(x, y);
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    o.maxit = 2;
    o.allow_unconverged = 1;
    struct glm_result *r = fit(x, y, NULL, NULL, 9, 5, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_FALSE(r->converged);
    CU_ASSERT_EQUAL(r->iterations, 2);
    CU_ASSERT_TRUE(r->warnings & GLM_WARN_NOT_CONVERGED);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->warning_text, "did not converge"));
    /* close to, but not at, the converged estimate */
    CU_ASSERT_DOUBLE_EQUAL(r->coef[0], 3.044522, 1e-2);
    glm_result_free(r);
}

/* y = 1 exactly when x >= 4: the logit slope runs off to infinity. */
static void separated(double x[16], double y[8])
{
    for (int i = 0; i < 8; i++) {
        x[2 * i] = 1.0;
        x[2 * i + 1] = i;
        y[i] = i >= 4;
    }
}

static void test_glm_refuses_perfect_separation_by_default(void)
{
    double x[16];
    double y[8];
    separated(x, y);
    struct glm_options o;
    glm_options_init(&o, GLM_BINOMIAL);
    struct eng_err err = {0};
    struct glm_result *r = fit(x, y, NULL, NULL, 8, 2, &o, &err);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_EQUAL(err.code, ENG_ESTAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "separat"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "numerically 0 or 1"));
}

static void test_glm_flags_separation_when_allowed(void)
{
    double x[16];
    double y[8];
    separated(x, y);
    struct glm_options o;
    glm_options_init(&o, GLM_BINOMIAL);
    o.allow_separation = 1;
    o.allow_unconverged = 1;
    struct glm_result *r = fit(x, y, NULL, NULL, 8, 2, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_TRUE(r->warnings & GLM_WARN_FITTED_01);
    CU_ASSERT(r->n_extreme >= 4);
    CU_ASSERT(r->coef[1] > 10.0);
    CU_ASSERT(r->deviance < 1e-6);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->warning_text, "separation"));
    glm_result_free(r);
}

static void test_glm_flags_fitted_rates_of_zero(void)
{
    /*
     * An all-zero level drives its rate towards 0, one unit of eta per
     * iteration; R's test stops it near 1e-9.  With a tighter epsilon it
     * reaches the log link's floor, DBL_EPSILON: R warns, the fit stands.
     */
    double x[12] = {1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1};
    double y[6] = {3, 5, 4, 0, 0, 0};
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct glm_result *r = fit(x, y, NULL, NULL, 6, 2, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_FALSE(r->warnings & GLM_WARN_FITTED_ZERO);
    CU_ASSERT(r->coef[1] < -15.0);
    glm_result_free(r);
    o.epsilon = 1e-30;
    o.maxit = 60;
    r = fit(x, y, NULL, NULL, 6, 2, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_TRUE(r->warnings & GLM_WARN_FITTED_ZERO);
    CU_ASSERT_EQUAL(r->n_extreme, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->warning_text, "numerically 0"));
    glm_result_free(r);
}

static void test_glm_halves_a_diverging_step(void)
{
    /*
     * Gamma, log link, intercept only: the second iteration overshoots to
     * eta ~ 1580, mu = inf; two halvings bring it back into range.
     */
    double x[2] = {1, 1};
    double y[2] = {1e-3, 1e4};
    struct glm_options o;
    glm_options_init(&o, GLM_GAMMA);
    o.maxit = 2;
    o.allow_unconverged = 1;
    struct glm_result *r = fit(x, y, NULL, NULL, 2, 1, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_TRUE(r->boundary);
    CU_ASSERT_TRUE(r->warnings & GLM_WARN_BOUNDARY);
    CU_ASSERT_TRUE(isfinite(r->coef[0]));
    CU_ASSERT(r->coef[0] < 709.0);
    glm_result_free(r);
}

static void test_glm_fails_when_halving_cannot_correct_the_step(void)
{
    double x[2] = {1, 1};
    double y[2] = {1e-5, 1e5};
    struct glm_options o;
    glm_options_init(&o, GLM_GAMMA);
    o.maxit = 2;
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(fit(x, y, NULL, NULL, 2, 1, &o, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ESTAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot correct the step size"));
}

static void test_glm_fails_without_valid_first_coefficients(void)
{
    /* the heavy rows' line goes below 0 at x = 3: mu < 0, no previous fit */
    double x[8] = {1, 0, 1, 1, 1, 3, 1, 4};
    double y[4] = {500, 1000, 1, 1};
    struct glm_options o;
    glm_options_init(&o, GLM_GAMMA);
    o.link = GLM_INVERSE;
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(fit(x, y, NULL, NULL, 4, 2, &o, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ESTAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no valid set of coefficients"));
}

static void test_glm_reports_overflowing_fitted_values(void)
{
    double x[2] = {1, 1};
    double y[2] = {1e-300, 1e300};
    struct glm_options o;
    glm_options_init(&o, GLM_GAMMA);
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(fit(x, y, NULL, NULL, 2, 1, &o, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ESTAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "are not finite"));
}

/* ===================== Offsets and weights ===================== */

static void test_glm_weights_equal_replicated_rows(void)
{
    const double beta[4] = {-0.5, 0.3, -0.2, 0.5};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, GLM_POISSON, beta, 300, 31), 0);
    size_t total = 0;
    for (size_t i = 0; i < s.n; i++) {
        s.w[i] = (double)(1 + i % 3);
        total += 1 + i % 3;
    }
    double *xr = malloc(total * 4 * sizeof(double));
    double *yr = malloc(total * sizeof(double));
    double *or = malloc(total * sizeof(double));
    CU_ASSERT_FATAL(xr && yr && or);
    size_t k = 0;
    for (size_t i = 0; i < s.n; i++) {
        for (size_t c = 0; c < 1 + i % 3; c++, k++) {
            memcpy(xr + k * 4, s.x + i * 4, 4 * sizeof(double));
            yr[k] = s.y[i];
            or[k] = s.off[i];
        }
    }
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct glm_result *a = fit(s.x, s.y, s.off, s.w, s.n, 4, &o, NULL);
    struct glm_result *b = fit(xr, yr, or, NULL, total, 4, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    if (a && b) {
        for (int j = 0; j < 4; j++) {
            ASSERT_REL(a->coef[j], b->coef[j], 1e-9);
            ASSERT_REL(a->se[j], b->se[j], 1e-9);
        }
        ASSERT_REL(a->deviance, b->deviance, 1e-9);
        ASSERT_REL(a->null_deviance, b->null_deviance, 1e-9);
        ASSERT_REL(a->aic, b->aic, 1e-9);
        /* as in R, degrees of freedom count rows, not weight */
        CU_ASSERT_EQUAL(a->df_residual, (long)s.n - 4);
        CU_ASSERT_EQUAL(b->df_residual, (long)total - 4);
    }
    glm_result_free(b);
    glm_result_free(a);
    free(or);
    free(yr);
    free(xr);
    sim_free(&s);
}

static void test_glm_ignores_rows_of_zero_weight(void)
{
    const double beta[4] = {1.0, 0.2, -0.1, 0.3};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, GLM_GAMMA, beta, 200, 32), 0);
    for (size_t i = 0; i < s.n; i++)
        s.w[i] = i < 150;
    struct glm_options o;
    glm_options_init(&o, GLM_GAMMA);
    struct glm_result *a = fit(s.x, s.y, NULL, s.w, s.n, 4, &o, NULL);
    struct glm_result *b = fit(s.x, s.y, NULL, NULL, 150, 4, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    if (a && b) {
        for (int j = 0; j < 4; j++) {
            ASSERT_REL(a->coef[j], b->coef[j], 1e-10);
            ASSERT_REL(a->se[j], b->se[j], 1e-10);
        }
        ASSERT_REL(a->deviance, b->deviance, 1e-10);
        ASSERT_REL(a->null_deviance, b->null_deviance, 1e-10);
        ASSERT_REL(a->aic, b->aic, 1e-10);
        CU_ASSERT_EQUAL(a->n, 200);
        CU_ASSERT_EQUAL(a->n_ok, 150);
        CU_ASSERT_EQUAL(a->df_residual, 146);
        CU_ASSERT_EQUAL(a->df_null, 149);
    }
    glm_result_free(b);
    glm_result_free(a);
    sim_free(&s);
}

static void test_glm_offset_of_a_column_shifts_its_coefficient(void)
{
    const double beta[4] = {-1.0, 0.3, -0.2, 0.5};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, GLM_POISSON, beta, 400, 33), 0);
    double *off2 = malloc(s.n * sizeof(double));
    CU_ASSERT_PTR_NOT_NULL_FATAL(off2);
    for (size_t i = 0; i < s.n; i++)
        off2[i] = s.off[i] + 0.7 * s.x[i * 4 + 1];
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct glm_result *a = fit(s.x, s.y, s.off, NULL, s.n, 4, &o, NULL);
    struct glm_result *b = fit(s.x, s.y, off2, NULL, s.n, 4, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    if (a && b) {
        CU_ASSERT_DOUBLE_EQUAL(b->coef[1], a->coef[1] - 0.7, 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(b->coef[0], a->coef[0], 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(b->coef[2], a->coef[2], 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(b->coef[3], a->coef[3], 1e-9);
        ASSERT_REL(b->se[1], a->se[1], 1e-8);
        ASSERT_REL(b->deviance, a->deviance, 1e-10);
        /* the null model differs: its offset now carries 0.7 x1 */
        CU_ASSERT(fabs(b->null_deviance - a->null_deviance) > 1.0);
    }
    glm_result_free(b);
    glm_result_free(a);
    free(off2);
    sim_free(&s);
}

static void test_glm_gaussian_offset_equals_fitting_y_minus_offset(void)
{
    const double beta[4] = {1.0, 2.0, -1.0, 0.5};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, GLM_GAUSSIAN, beta, 300, 34), 0);
    double *yo = malloc(s.n * sizeof(double));
    CU_ASSERT_PTR_NOT_NULL_FATAL(yo);
    for (size_t i = 0; i < s.n; i++) {
        s.off[i] = sin((double)i);
        yo[i] = s.y[i] - s.off[i];
    }
    struct glm_options o;
    glm_options_init(&o, GLM_GAUSSIAN);
    struct glm_result *a = fit(s.x, s.y, s.off, NULL, s.n, 4, &o, NULL);
    struct glm_result *b = fit(s.x, yo, NULL, NULL, s.n, 4, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    if (a && b) {
        for (int j = 0; j < 4; j++) {
            CU_ASSERT_DOUBLE_EQUAL(a->coef[j], b->coef[j], 1e-10);
            ASSERT_REL(a->se[j], b->se[j], 1e-10);
        }
        ASSERT_REL(a->deviance, b->deviance, 1e-10);
        ASSERT_REL(a->null_deviance, b->null_deviance, 1e-10);
    }
    glm_result_free(b);
    glm_result_free(a);
    free(yo);
    sim_free(&s);
}

/*
 * With an offset the null deviance is that of the intercept-only model
 * with the same offset: fit that model and compare.  Poisson takes the
 * closed form, binomial and gamma/inverse the IRLS.
 */
static void check_null_with_offset(enum glm_family family,
                                   enum glm_link link, double off_scale)
{
    const double beta[4] = {0.5, 0.3, -0.2, 0.5};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, family, beta, 400, 35), 0);
    double *ones = malloc(s.n * sizeof(double));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ones);
    for (size_t i = 0; i < s.n; i++) {
        ones[i] = 1.0;
        s.off[i] = off_scale * cos((double)i);
    }
    if (family == GLM_GAMMA) {
        for (size_t i = 0; i < s.n; i++)
            s.off[i] += 1.0;
    }
    struct glm_options o;
    glm_options_init(&o, family);
    o.link = link;
    struct eng_err err = {0};
    struct glm_result *a = fit(s.x, s.y, s.off, s.w, s.n, 4, &o, &err);
    struct glm_result *b = fit(ones, s.y, s.off, s.w, s.n, 1, &o, &err);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    if (a && b) {
        ASSERT_REL(a->null_deviance, b->deviance, 1e-9);
        ASSERT_REL(b->null_deviance, b->deviance, 1e-9);
        CU_ASSERT_EQUAL(a->df_null, b->df_residual);
    }
    glm_result_free(b);
    glm_result_free(a);
    free(ones);
    sim_free(&s);
}

static void test_glm_null_deviance_refits_the_intercept_with_offset(void)
{
    check_null_with_offset(GLM_POISSON, GLM_LOG, 0.5);
    check_null_with_offset(GLM_BINOMIAL, GLM_LOGIT, 0.5);
    check_null_with_offset(GLM_GAMMA, GLM_LOG, 0.3);
    check_null_with_offset(GLM_GAMMA, GLM_INVERSE, 0.1);
    check_null_with_offset(GLM_GAUSSIAN, GLM_IDENTITY, 2.0);
}

static void test_glm_null_deviance_without_intercept_uses_the_offset(void)
{
    double x[45];
    double y[9];
    dobson(x, y);
    double off[9];
    for (int i = 0; i < 9; i++)
        off[i] = 2.5 + 0.1 * i;
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    o.intercept = 0;
    struct glm_result *r = fit(x, y, off, NULL, 9, 5, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    double mu[9];
    for (int i = 0; i < 9; i++)
        mu[i] = exp(off[i]);
    ASSERT_REL(r->null_deviance, glm_deviance(GLM_POISSON, y, mu, NULL, 9),
               1e-12);
    CU_ASSERT_EQUAL(r->df_null, 9);
    CU_ASSERT_EQUAL(r->df_residual, 4);
    CU_ASSERT(r->deviance < r->null_deviance);
    glm_result_free(r);
}

/* ===================== Bad input ===================== */

static void expect_data_error(const double *x, const double *y,
                              const double *off, const double *w, size_t n,
                              size_t p, enum glm_family family,
                              const char *needle)
{
    struct glm_options o;
    glm_options_init(&o, family);
    struct eng_err err = {0};
    struct glm_result *r = fit(x, y, off, w, n, p, &o, &err);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_EQUAL(err.code, ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
    glm_result_free(r);
}

static void test_glm_rejects_bad_input_with_specific_messages(void)
{
    double x[45];
    double y[9];
    dobson(x, y);
    /* more columns than rows */
    expect_data_error(x, y, NULL, NULL, 4, 5, GLM_POISSON,
                      "4 rows of nonzero weight for 5 columns");
    double w[9] = {1, 1, 1, 1, 0, 0, 0, 0, 0};
    expect_data_error(x, y, NULL, w, 9, 5, GLM_POISSON,
                      "4 rows of nonzero weight for 5 columns");
    x[2 * 5 + 1] = NAN;
    expect_data_error(x, y, NULL, NULL, 9, 5, GLM_POISSON,
                      "x[2][1] is not a finite number");
    x[2 * 5 + 1] = INFINITY;
    expect_data_error(x, y, NULL, NULL, 9, 5, GLM_POISSON, "x[2][1]");
    dobson(x, y);
    y[6] = NAN;
    expect_data_error(x, y, NULL, NULL, 9, 5, GLM_POISSON,
                      "y[6] is not a finite number");
    y[6] = -1.0;
    expect_data_error(x, y, NULL, NULL, 9, 5, GLM_POISSON,
                      "y[6] is -1: the poisson family needs counts >= 0");
    dobson(x, y);
    double off[9] = {0, 0, 0, 0, 0, 0, 0, NAN, 0};
    expect_data_error(x, y, off, NULL, 9, 5, GLM_POISSON,
                      "offset[7] is not a finite number");
    double wn[9] = {1, 1, 1, -2, 1, 1, 1, 1, 1};
    expect_data_error(x, y, NULL, wn, 9, 5, GLM_POISSON,
                      "weight of row 3 is negative");
    wn[3] = NAN;
    expect_data_error(x, y, NULL, wn, 9, 5, GLM_POISSON,
                      "weight of row 3 is not a finite number");
    x[5 * 5] = 2.0;
    expect_data_error(x, y, NULL, NULL, 9, 5, GLM_POISSON,
                      "x[5][0] is 2, but column 0 is declared the "
                      "intercept");
    dobson(x, y);
    expect_data_error(x, y, NULL, NULL, 9, 0, GLM_POISSON,
                      "at least one column");

    double xb[16];
    double yb[8];
    separated(xb, yb);
    yb[2] = 1.5;
    expect_data_error(xb, yb, NULL, NULL, 8, 2, GLM_BINOMIAL,
                      "y[2] is 1.5: the binomial family needs proportions "
                      "in [0, 1]");
    /* where the binomial weight is 0, y is not looked at (as R) */
    double wb[8] = {1, 1, 0, 1, 1, 1, 1, 1};
    yb[5] = 0.0;
    struct glm_options o;
    glm_options_init(&o, GLM_BINOMIAL);
    struct glm_result *r = fit(xb, yb, NULL, wb, 8, 2, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL(r);
    glm_result_free(r);

    double xc[18];
    double yc[9];
    clotting(xc, yc);
    yc[4] = 0.0;
    expect_data_error(xc, yc, NULL, NULL, 9, 2, GLM_GAMMA,
                      "y[4] is 0: the gamma family needs y > 0");
    yc[4] = -3.0;
    expect_data_error(xc, yc, NULL, NULL, 9, 2, GLM_GAMMA, "y[4] is -3");
}

static void test_glm_rejects_bad_options(void)
{
    double x[45];
    double y[9];
    dobson(x, y);
    struct glm_data d = {x, y, NULL, NULL, 9, 5};
    struct glm_options o;
    struct eng_err err = {0};

    glm_options_init(&o, GLM_POISSON);
    o.link = GLM_IDENTITY;
    CU_ASSERT_PTR_NULL(glm_fit(&d, &o, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EUSAGE);
    CU_ASSERT_STRING_EQUAL(err.msg, "link 'identity' cannot be used with "
                           "the poisson family");
    glm_options_init(&o, GLM_POISSON);
    o.maxit = 0;
    CU_ASSERT_PTR_NULL(glm_fit(&d, &o, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "maxit"));
    glm_options_init(&o, GLM_POISSON);
    o.epsilon = 0.0;
    CU_ASSERT_PTR_NULL(glm_fit(&d, &o, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "epsilon"));
    glm_options_init(&o, GLM_POISSON);
    o.alias_tol = 1.0;
    CU_ASSERT_PTR_NULL(glm_fit(&d, &o, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "alias_tol"));
    glm_options_init(&o, GLM_POISSON);
    o.lambda = -1.0;
    CU_ASSERT_PTR_NULL(glm_fit(&d, &o, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lambda"));
    glm_options_init(&o, GLM_POISSON);
    o.threads = 0;
    CU_ASSERT_PTR_NULL(glm_fit(&d, &o, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "threads"));
    CU_ASSERT_EQUAL(err.code, ENG_EUSAGE);
    glm_options_init(&o, GLM_POISSON);
    struct glm_data nod = {NULL, y, NULL, NULL, 9, 5};
    CU_ASSERT_PTR_NULL(glm_fit(&nod, &o, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EUSAGE);
    CU_ASSERT_PTR_NULL(glm_fit(&d, NULL, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EUSAGE);
    /* too many threads are clamped, not refused */
    o.threads = 1000;
    struct glm_result *r = glm_fit(&d, &o, &err);
    CU_ASSERT_PTR_NOT_NULL(r);
    glm_result_free(r);
}

/* ===================== L2 penalty ===================== */

static double slope_norm(const struct glm_result *r)
{
    double s = 0.0;
    for (size_t j = 1; j < r->p; j++)
        s += r->coef[j] * r->coef[j];
    return sqrt(s);
}

static void test_glm_penalty_shrinks_slopes_monotonically(void)
{
    const double beta[4] = {-1.0, 0.6, -0.4, 0.8};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, GLM_POISSON, beta, 2000, 41), 0);
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct glm_result *plain = fit(s.x, s.y, s.off, NULL, s.n, 4, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
    static const double lambdas[] = {0.0, 1.0, 10.0, 100.0, 1e3, 1e4, 1e6};
    double prev = INFINITY;
    for (size_t k = 0; k < sizeof(lambdas) / sizeof(lambdas[0]); k++) {
        o.lambda = lambdas[k];
        struct glm_result *r = fit(s.x, s.y, s.off, NULL, s.n, 4, &o, NULL);
        CU_ASSERT_PTR_NOT_NULL(r);
        if (!r)
            continue;
        double norm = slope_norm(r);
        CU_ASSERT(norm < prev);
        prev = norm;
        CU_ASSERT_DOUBLE_EQUAL(r->lambda, lambdas[k], 0.0);
        if (lambdas[k] == 0.0) {
            for (int j = 0; j < 4; j++)
                CU_ASSERT_DOUBLE_EQUAL(r->coef[j], plain->coef[j], 0.0);
            CU_ASSERT_DOUBLE_EQUAL(r->deviance, plain->deviance, 0.0);
        } else {
            /* the unpenalised deviance can only get worse */
            CU_ASSERT(r->deviance > plain->deviance);
        }
        glm_result_free(r);
    }
    CU_ASSERT(prev < 1e-3);
    /*
     * Slopes gone, the unpenalised intercept is the offset-adjusted mean
     * rate: log(sum y / sum exposure).
     */
    o.lambda = 1e9;
    struct glm_result *r = fit(s.x, s.y, s.off, NULL, s.n, 4, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    double sy = 0.0;
    double se = 0.0;
    for (size_t i = 0; i < s.n; i++) {
        sy += s.y[i];
        se += exp(s.off[i]);
    }
    CU_ASSERT_DOUBLE_EQUAL(r->coef[0], log(sy / se), 1e-4);
    glm_result_free(r);
    /* penalize_first shrinks the intercept too */
    o.lambda = 1e9;
    o.penalize_first = 1;
    r = fit(s.x, s.y, s.off, NULL, s.n, 4, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_DOUBLE_EQUAL(r->coef[0], 0.0, 1e-3);
    glm_result_free(r);
    glm_result_free(plain);
    sim_free(&s);
}

static void test_glm_penalty_lets_collinear_columns_share(void)
{
    /* with lambda > 0 a duplicate column is identified: the two share */
    const double beta[4] = {-1.0, 0.6, -0.4, 0.8};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, GLM_POISSON, beta, 500, 42), 0);
    double *x5 = with_extra_column(&s, 4, copy_of_x1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x5);
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    o.lambda = 1.0;
    struct glm_result *r = fit(x5, s.y, s.off, NULL, s.n, 5, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r) {
        CU_ASSERT_EQUAL(r->rank, 5);
        CU_ASSERT_DOUBLE_EQUAL(r->coef[1], r->coef[4], 1e-9);
    }
    glm_result_free(r);
    free(x5);
    sim_free(&s);
}

/* ===================== Determinism ===================== */

static void test_glm_is_bit_identical_across_thread_counts(void)
{
    const double beta[4] = {-1.0, 0.3, -0.2, 0.5};
    struct sim s;
    CU_ASSERT_EQUAL_FATAL(simulate(&s, GLM_POISSON, beta, 30000, 51), 0);
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct glm_result *one = fit(s.x, s.y, s.off, NULL, s.n, 4, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(one);
    for (int t = 2; t <= 3; t++) {
        o.threads = t;
        struct glm_result *r = fit(s.x, s.y, s.off, NULL, s.n, 4, &o, NULL);
        CU_ASSERT_PTR_NOT_NULL(r);
        if (!r)
            continue;
        CU_ASSERT_EQUAL(memcmp(r->coef, one->coef, 4 * sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(r->cov, one->cov, 16 * sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(&r->deviance, &one->deviance,
                               sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(&r->aic, &one->aic, sizeof(double)), 0);
        glm_result_free(r);
    }
    glm_result_free(one);
    sim_free(&s);
}

/* ===================== Names and helpers ===================== */

static void test_glm_names_round_trip_and_pairs_are_checked(void)
{
    for (int f = GLM_POISSON; f <= GLM_GAUSSIAN; f++) {
        enum glm_family got = GLM_GAUSSIAN;
        CU_ASSERT_EQUAL(glm_family_parse(glm_family_name(f), &got, NULL),
                        ENG_OK);
        CU_ASSERT_EQUAL(got, f);
        CU_ASSERT_TRUE(glm_link_valid(f, glm_default_link(f)));
    }
    for (int l = GLM_LOG; l <= GLM_IDENTITY; l++) {
        enum glm_link got = GLM_IDENTITY;
        CU_ASSERT_EQUAL(glm_link_parse(glm_link_name(l), &got, NULL), 0);
        CU_ASSERT_EQUAL(got, l);
    }
    enum glm_family f = GLM_POISSON;
    CU_ASSERT_EQUAL(glm_family_parse("Gamma", &f, NULL), ENG_OK);
    CU_ASSERT_EQUAL(f, GLM_GAMMA);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(glm_family_parse("tweedie", &f, &err), ENG_EUSAGE);
    CU_ASSERT_EQUAL(f, GLM_GAMMA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'tweedie'"));
    enum glm_link l = GLM_LOG;
    CU_ASSERT_EQUAL(glm_link_parse("probit", &l, &err), ENG_EUSAGE);
    CU_ASSERT_EQUAL(l, GLM_LOG);
    CU_ASSERT_STRING_EQUAL(glm_family_name((enum glm_family)9), "?");
    CU_ASSERT_STRING_EQUAL(glm_link_name((enum glm_link)9), "?");
    CU_ASSERT_EQUAL(glm_default_link(GLM_POISSON), GLM_LOG);
    CU_ASSERT_EQUAL(glm_default_link(GLM_BINOMIAL), GLM_LOGIT);
    CU_ASSERT_EQUAL(glm_default_link(GLM_GAMMA), GLM_LOG);
    CU_ASSERT_EQUAL(glm_default_link(GLM_GAUSSIAN), GLM_IDENTITY);
    CU_ASSERT_TRUE(glm_link_valid(GLM_GAMMA, GLM_INVERSE));
    CU_ASSERT_FALSE(glm_link_valid(GLM_GAMMA, GLM_LOGIT));
    CU_ASSERT_FALSE(glm_link_valid(GLM_POISSON, GLM_IDENTITY));
    CU_ASSERT_FALSE(glm_link_valid(GLM_BINOMIAL, GLM_LOG));
    CU_ASSERT_FALSE(glm_link_valid(GLM_GAUSSIAN, GLM_LOG));
}

static void test_glm_helpers_predict_and_match_the_fit(void)
{
    double x[45];
    double y[9];
    dobson(x, y);
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct glm_result *r = fit(x, y, NULL, NULL, 9, 5, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    double mu[9];
    for (int i = 0; i < 9; i++) {
        double eta = glm_predict_eta(r->coef, x + i * 5, 5);
        mu[i] = glm_linkinv(GLM_LOG, eta);
    }
    ASSERT_REL(glm_deviance(GLM_POISSON, y, mu, NULL, 9), r->deviance,
               1e-10);
    glm_result_free(r);

    const double coef[3] = {1.0, NAN, 2.0};
    const double row[3] = {1.0, 5.0, 0.5};
    CU_ASSERT_DOUBLE_EQUAL(glm_predict_eta(coef, row, 3), 2.0, 0.0);
    /* R's guards */
    CU_ASSERT_DOUBLE_EQUAL(glm_linkinv(GLM_LOG, -800.0), 2.220446e-16,
                           1e-21);
    CU_ASSERT_DOUBLE_EQUAL(glm_linkinv(GLM_LOGIT, 0.0), 0.5, 0.0);
    CU_ASSERT(glm_linkinv(GLM_LOGIT, 40.0) < 1.0);
    CU_ASSERT(glm_linkinv(GLM_LOGIT, -40.0) > 0.0);
    CU_ASSERT_DOUBLE_EQUAL(glm_linkinv(GLM_INVERSE, 4.0), 0.25, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(glm_linkfun(GLM_LOGIT, 0.5), 0.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(glm_linkfun(GLM_LOG, 1.0), 0.0, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(glm_linkfun(GLM_IDENTITY, 3.5), 3.5, 0.0);
    /* deviance residuals of each family at a known point */
    const double yy[1] = {2.0};
    const double mm[1] = {1.0};
    const double ww[1] = {3.0};
    CU_ASSERT_DOUBLE_EQUAL(glm_deviance(GLM_GAUSSIAN, yy, mm, ww, 1), 3.0,
                           1e-15);
    CU_ASSERT_DOUBLE_EQUAL(glm_deviance(GLM_POISSON, yy, mm, NULL, 1),
                           2.0 * (2.0 * log(2.0) - 1.0), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(glm_deviance(GLM_GAMMA, yy, mm, NULL, 1),
                           -2.0 * (log(2.0) - 1.0), 1e-15);
    const double yb[1] = {1.0};
    const double mb[1] = {0.5};
    CU_ASSERT_DOUBLE_EQUAL(glm_deviance(GLM_BINOMIAL, yb, mb, NULL, 1),
                           2.0 * log(2.0), 1e-15);
}

static void test_glm_reports_non_integer_counts_as_r_does(void)
{
    double x[45];
    double y[9];
    dobson(x, y);
    y[0] = 18.5;
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    struct glm_result *r = fit(x, y, NULL, NULL, 9, 5, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_TRUE(r->warnings & GLM_WARN_NONINTEGER);
    CU_ASSERT_TRUE(isinf(r->aic) && r->aic > 0);
    CU_ASSERT_TRUE(isfinite(r->deviance));
    glm_result_free(r);
}

static CU_TestInfo glm_tests[] = {
    {"poisson fit matches R on Dobson's data",
     test_glm_poisson_matches_r_on_dobson_data},
    {"gamma inverse fit matches R on the clotting data",
     test_glm_gamma_inverse_matches_r_on_clotting_data},
    {"binomial fit with trials matches R on the budworm data",
     test_glm_binomial_with_trials_matches_r_on_budworm_data},
    {"gaussian fit matches R's lm on the plant weights",
     test_glm_gaussian_matches_r_lm_on_plant_weights},
    {"mean poisson deviance matches sklearn",
     test_glm_mean_poisson_deviance_matches_sklearn},
    {"recovers simulated poisson coefficients with exposure",
     test_glm_recovers_simulated_poisson_with_exposure},
    {"recovers simulated binomial coefficients with trials",
     test_glm_recovers_simulated_binomial_with_trials},
    {"recovers simulated gamma log coefficients",
     test_glm_recovers_simulated_gamma_log},
    {"recovers simulated gaussian coefficients",
     test_glm_recovers_simulated_gaussian},
    {"normal equations agree with an SVD solution",
     test_glm_normal_equations_agree_with_an_svd_solution},
    {"aliases an exact copy of a column",
     test_glm_aliases_an_exact_copy_of_a_column},
    {"aliases a linear combination with the intercept",
     test_glm_aliases_a_linear_combination_with_the_intercept},
    {"aliases a zero column", test_glm_aliases_a_zero_column},
    {"aliases the later of two equal columns",
     test_glm_aliases_the_later_of_two_equal_columns},
    {"aliases a sum of levels on Dobson's data",
     test_glm_aliases_a_level_sum_on_dobson_data},
    {"keeps a nearly collinear column",
     test_glm_keeps_a_nearly_collinear_column},
    {"reports non-convergence clearly",
     test_glm_reports_non_convergence_clearly},
    {"returns an unconverged fit when allowed",
     test_glm_returns_an_unconverged_fit_when_allowed},
    {"refuses perfect separation by default",
     test_glm_refuses_perfect_separation_by_default},
    {"flags separation when allowed", test_glm_flags_separation_when_allowed},
    {"flags fitted rates of zero", test_glm_flags_fitted_rates_of_zero},
    {"halves a diverging step", test_glm_halves_a_diverging_step},
    {"fails when halving cannot correct the step",
     test_glm_fails_when_halving_cannot_correct_the_step},
    {"fails without valid first coefficients",
     test_glm_fails_without_valid_first_coefficients},
    {"reports overflowing fitted values",
     test_glm_reports_overflowing_fitted_values},
    {"weights equal replicated rows", test_glm_weights_equal_replicated_rows},
    {"ignores rows of zero weight", test_glm_ignores_rows_of_zero_weight},
    {"offset of a column shifts its coefficient",
     test_glm_offset_of_a_column_shifts_its_coefficient},
    {"gaussian offset equals fitting y minus offset",
     test_glm_gaussian_offset_equals_fitting_y_minus_offset},
    {"null deviance refits the intercept with the offset",
     test_glm_null_deviance_refits_the_intercept_with_offset},
    {"null deviance without intercept uses the offset",
     test_glm_null_deviance_without_intercept_uses_the_offset},
    {"rejects bad input with specific messages",
     test_glm_rejects_bad_input_with_specific_messages},
    {"rejects bad options", test_glm_rejects_bad_options},
    {"penalty shrinks slopes monotonically",
     test_glm_penalty_shrinks_slopes_monotonically},
    {"penalty lets collinear columns share",
     test_glm_penalty_lets_collinear_columns_share},
    {"is bit-identical across thread counts",
     test_glm_is_bit_identical_across_thread_counts},
    {"names round-trip and pairs are checked",
     test_glm_names_round_trip_and_pairs_are_checked},
    {"helpers predict and match the fit",
     test_glm_helpers_predict_and_match_the_fit},
    {"reports non-integer counts as R does",
     test_glm_reports_non_integer_counts_as_r_does},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_glm_suites[] = {
    {"glm", NULL, NULL, NULL, NULL, glm_tests},
    CU_SUITE_INFO_NULL
};
