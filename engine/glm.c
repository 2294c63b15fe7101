/* glm — GLM fitting by IRLS, following R's glm.fit; see glm.h. */
#include "glm.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_vector.h>

/* ===================== Links ===================== */

/*
 * One link: g, its inverse, dmu/deta and the range of eta, with R's guards
 * copied exactly (they decide when step halving starts).  mu_eta gets mu as
 * well as eta so that the log link need not call exp() twice per row: R's
 * mu.eta for log is pmax(exp(eta), eps), which is mu itself.
 */
struct link_ops {
    const char *name;
    double (*fun)(double mu);
    double (*inv)(double eta);
    double (*mu_eta)(double eta, double mu);
    int (*valid_eta)(double eta);
};

/* R's THRESH and MTHRESH for the logit link (family.c). */
static const double LOGIT_THRESH = 30.0;

static int eta_any(double eta)
{
    (void)eta;
    return 1;
}

static double log_fun(double mu)
{
    return log(mu);
}

static double log_inv(double eta)
{
    double mu = exp(eta);
    return mu > DBL_EPSILON ? mu : DBL_EPSILON;
}

static double log_mu_eta(double eta, double mu)
{
    (void)eta;
    return mu;
}

static double logit_fun(double mu)
{
    return log(mu / (1.0 - mu));
}

static double logit_inv(double eta)
{
    double t;
    if (eta < -LOGIT_THRESH)
        t = DBL_EPSILON;
    else if (eta > LOGIT_THRESH)
        t = 1.0 / DBL_EPSILON;
    else
        t = exp(eta);
    return t / (1.0 + t);
}

static double logit_mu_eta(double eta, double mu)
{
    (void)mu;
    if (eta > LOGIT_THRESH || eta < -LOGIT_THRESH)
        return DBL_EPSILON;
    double e = exp(eta);
    double ope = 1.0 + e;
    return e / (ope * ope);
}

static double inverse_fun(double mu)
{
    return 1.0 / mu;
}

static double inverse_inv(double eta)
{
    return 1.0 / eta;
}

static double inverse_mu_eta(double eta, double mu)
{
    (void)mu;
    return -1.0 / (eta * eta);
}

static int inverse_valid_eta(double eta)
{
    return isfinite(eta) && eta != 0.0;
}

static double identity_fun(double mu)
{
    return mu;
}

static double identity_mu_eta(double eta, double mu)
{
    (void)eta;
    (void)mu;
    return 1.0;
}

static const struct link_ops LINKS[] = {
    [GLM_LOG] = {"log", log_fun, log_inv, log_mu_eta, eta_any},
    [GLM_LOGIT] = {"logit", logit_fun, logit_inv, logit_mu_eta, eta_any},
    [GLM_INVERSE] = {"inverse", inverse_fun, inverse_inv, inverse_mu_eta,
                     inverse_valid_eta},
    [GLM_IDENTITY] = {"identity", identity_fun, identity_fun,
                      identity_mu_eta, eta_any},
};

#define N_LINKS (sizeof(LINKS) / sizeof(LINKS[0]))

/* ===================== Families ===================== */

/*
 * One family: variance, deviance residual, the range of mu, R's starting
 * mu, the range of y, and the per-row log-likelihood term the AIC sums
 * (disp is the gamma family's deviance / sum(w); others ignore it).
 */
struct family_ops {
    const char *name;
    enum glm_link default_link;
    int estimates_dispersion;
    double (*variance)(double mu);
    double (*dev_resid)(double y, double mu, double w);
    int (*valid_mu)(double mu);
    double (*mustart)(double y, double w);
    int (*valid_y)(double y);
    const char *y_range;
    double (*loglik)(double y, double mu, double w, double disp);
};

/* y log(y / mu) with the limit 0 at y = 0 (R's y_log_y). */
static double y_log_y(double y, double mu)
{
    return y != 0.0 ? y * log(y / mu) : 0.0;
}

static int mu_positive(double mu)
{
    return isfinite(mu) && mu > 0.0;
}

static int mu_any(double mu)
{
    (void)mu;
    return 1;
}

/* log(y!) for y >= 0; GSL's lnfact is a table lookup below 171. */
static double log_factorial(double y)
{
    if (y < 1e6)
        return gsl_sf_lnfact((unsigned)y);
    return gsl_sf_lngamma(y + 1.0);
}

/* R's R_nonint(): not a whole number, with R's relative slack. */
static int non_integer(double x)
{
    return fabs(x - nearbyint(x)) > 1e-7 * fmax(1.0, fabs(x));
}

static double poisson_variance(double mu)
{
    return mu;
}

static double poisson_dev_resid(double y, double mu, double w)
{
    if (y > 0.0)
        return 2.0 * w * (y * log(y / mu) - (y - mu));
    return 2.0 * mu * w;
}

static double poisson_mustart(double y, double w)
{
    (void)w;
    return y + 0.1;
}

static int poisson_valid_y(double y)
{
    return y >= 0.0;
}

/* R's dpois(y, mu, log = TRUE) is -Inf for a non-whole y (with a warning). */
static double poisson_loglik(double y, double mu, double w, double disp)
{
    (void)disp;
    if (non_integer(y))
        return -INFINITY;
    double yr = nearbyint(y);
    if (mu == 0.0)
        return yr == 0.0 ? 0.0 : -INFINITY;
    double l = -mu - log_factorial(yr);
    if (yr > 0.0)
        l += yr * log(mu);
    return w * l;
}

static double binomial_variance(double mu)
{
    return mu * (1.0 - mu);
}

static double binomial_dev_resid(double y, double mu, double w)
{
    return 2.0 * w * (y_log_y(y, mu) + y_log_y(1.0 - y, 1.0 - mu));
}

static int binomial_valid_mu(double mu)
{
    return isfinite(mu) && mu > 0.0 && mu < 1.0;
}

static double binomial_mustart(double y, double w)
{
    return (w * y + 0.5) / (w + 1.0);
}

static int binomial_valid_y(double y)
{
    return y >= 0.0 && y <= 1.0;
}

/*
 * R's binomial aic term for a proportion y with w trials:
 * log dbinom(round(w y), round(w), mu).
 */
static double binomial_loglik(double y, double mu, double w, double disp)
{
    (void)disp;
    double trials = nearbyint(w);
    double k = nearbyint(w * y);
    if (trials < 1.0)
        return 0.0;
    double l;
    if (trials < 4e9)
        l = gsl_sf_lnchoose((unsigned)trials, (unsigned)k);
    else
        l = gsl_sf_lngamma(trials + 1.0) - gsl_sf_lngamma(k + 1.0)
            - gsl_sf_lngamma(trials - k + 1.0);
    if (k > 0.0)
        l += k * log(mu);
    if (trials - k > 0.0)
        l += (trials - k) * log1p(-mu);
    return l;
}

static double gamma_variance(double mu)
{
    return mu * mu;
}

static double gamma_dev_resid(double y, double mu, double w)
{
    double r = y == 0.0 ? 1.0 : y / mu;
    return -2.0 * w * (log(r) - (y - mu) / mu);
}

static double gamma_mustart(double y, double w)
{
    (void)w;
    return y;
}

static int gamma_valid_y(double y)
{
    return y > 0.0;
}

/* w log dgamma(y, shape = 1 / disp, scale = mu disp). */
static double gamma_loglik(double y, double mu, double w, double disp)
{
    double shape = 1.0 / disp;
    double scale = mu * disp;
    double l = (shape - 1.0) * log(y) - y / scale
               - gsl_sf_lngamma(shape) - shape * log(scale);
    return w * l;
}

static double gaussian_variance(double mu)
{
    (void)mu;
    return 1.0;
}

static double gaussian_dev_resid(double y, double mu, double w)
{
    double r = y - mu;
    return w * r * r;
}

static double gaussian_mustart(double y, double w)
{
    (void)w;
    return y;
}

static int gaussian_valid_y(double y)
{
    (void)y;
    return 1;
}

/* The gaussian AIC is a function of the deviance; see fit_aic(). */
static double gaussian_loglik(double y, double mu, double w, double disp)
{
    (void)y;
    (void)mu;
    (void)disp;
    return log(w);
}

static const struct family_ops FAMILIES[] = {
    [GLM_POISSON] = {"poisson", GLM_LOG, 0, poisson_variance,
                     poisson_dev_resid, mu_positive, poisson_mustart,
                     poisson_valid_y, "counts >= 0", poisson_loglik},
    [GLM_BINOMIAL] = {"binomial", GLM_LOGIT, 0, binomial_variance,
                      binomial_dev_resid, binomial_valid_mu,
                      binomial_mustart, binomial_valid_y,
                      "proportions in [0, 1]", binomial_loglik},
    [GLM_GAMMA] = {"gamma", GLM_LOG, 1, gamma_variance, gamma_dev_resid,
                   mu_positive, gamma_mustart, gamma_valid_y, "y > 0",
                   gamma_loglik},
    [GLM_GAUSSIAN] = {"gaussian", GLM_IDENTITY, 1, gaussian_variance,
                      gaussian_dev_resid, mu_any, gaussian_mustart,
                      gaussian_valid_y, "finite y", gaussian_loglik},
};

#define N_FAMILIES (sizeof(FAMILIES) / sizeof(FAMILIES[0]))

/* ===================== Names and small helpers ===================== */

const char *glm_family_name(enum glm_family family)
{
    if ((unsigned)family >= N_FAMILIES)
        return "?";
    return FAMILIES[family].name;
}

const char *glm_link_name(enum glm_link link)
{
    if ((unsigned)link >= N_LINKS)
        return "?";
    return LINKS[link].name;
}

int glm_family_parse(const char *s, enum glm_family *out,
                     struct eng_err *err)
{
    for (size_t i = 0; s && i < N_FAMILIES; i++) {
        if (strcasecmp(s, FAMILIES[i].name) == 0) {
            *out = (enum glm_family)i;
            return ENG_OK;
        }
    }
    return eng_err_set(err, ENG_EUSAGE, "unknown glm family '%s' (expected "
                       "poisson, binomial, gamma or gaussian)",
                       s ? s : "");
}

int glm_link_parse(const char *s, enum glm_link *out, struct eng_err *err)
{
    for (size_t i = 0; s && i < N_LINKS; i++) {
        if (strcasecmp(s, LINKS[i].name) == 0) {
            *out = (enum glm_link)i;
            return ENG_OK;
        }
    }
    return eng_err_set(err, ENG_EUSAGE, "unknown glm link '%s' (expected "
                       "log, logit, inverse or identity)", s ? s : "");
}

enum glm_link glm_default_link(enum glm_family family)
{
    if ((unsigned)family >= N_FAMILIES)
        return GLM_IDENTITY;
    return FAMILIES[family].default_link;
}

int glm_link_valid(enum glm_family family, enum glm_link link)
{
    switch (family) {
    case GLM_POISSON:
        return link == GLM_LOG;
    case GLM_BINOMIAL:
        return link == GLM_LOGIT;
    case GLM_GAMMA:
        return link == GLM_LOG || link == GLM_INVERSE;
    case GLM_GAUSSIAN:
        return link == GLM_IDENTITY;
    }
    return 0;
}

void glm_options_init(struct glm_options *opts, enum glm_family family)
{
    memset(opts, 0, sizeof(*opts));
    opts->family = family;
    opts->link = glm_default_link(family);
    opts->intercept = 1;
    opts->maxit = GLM_DEFAULT_MAXIT;
    opts->epsilon = GLM_DEFAULT_EPSILON;
    opts->alias_tol = GLM_DEFAULT_ALIAS_TOL;
    opts->lambda = 0.0;
    opts->penalize_first = 0;
    opts->allow_unconverged = 0;
    opts->allow_separation = 0;
    opts->threads = 1;
}

double glm_predict_eta(const double *coef, const double *x, size_t p)
{
    double eta = 0.0;
    for (size_t j = 0; j < p; j++) {
        if (!isnan(coef[j]))
            eta += coef[j] * x[j];
    }
    return eta;
}

double glm_linkinv(enum glm_link link, double eta)
{
    if ((unsigned)link >= N_LINKS)
        return NAN;
    return LINKS[link].inv(eta);
}

double glm_linkfun(enum glm_link link, double mu)
{
    if ((unsigned)link >= N_LINKS)
        return NAN;
    return LINKS[link].fun(mu);
}

double glm_deviance(enum glm_family family, const double *y,
                    const double *mu, const double *w, size_t n)
{
    if ((unsigned)family >= N_FAMILIES)
        return NAN;
    const struct family_ops *fm = &FAMILIES[family];
    double dev = 0.0;
    for (size_t i = 0; i < n; i++)
        dev += fm->dev_resid(y[i], mu[i], w ? w[i] : 1.0);
    return dev;
}

double glm_mean_poisson_deviance(const double *y, const double *yhat,
                                 size_t n)
{
    if (n == 0)
        return NAN;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(y[i] >= 0.0) || !(yhat[i] > 0.0))
            return NAN;
        sum += y_log_y(y[i], yhat[i]) - y[i] + yhat[i];
    }
    return 2.0 * sum / (double)n;
}

/* ===================== IRLS state ===================== */

/* Scalar sums each pass leaves in its chunk's slot. */
enum {
    SC_DEV,         /* deviance */
    SC_INVALID,     /* rows whose eta or mu is out of range */
    SC_GOOD,        /* rows in the weighted least squares */
    SC_BADVAR,      /* rows with unusable V(mu), dmu/deta, w or z */
    SC_PEARSON,     /* sum w (y - mu)^2 / V(mu) */
    SC_WORKRES,     /* sum of working weight * working residual^2 */
    SC_LOGLIK,      /* sum of the family's log-likelihood terms */
    SC_EXTREME,     /* fitted values numerically at the boundary */
    SC_NONINT,      /* counts or successes that are not whole */
    SC_WSUM,        /* sum of prior weights */
    SC_COUNT
};

/* Rows per chunk, at least; see chunk_plan(). */
#define MIN_CHUNK_ROWS 4096
/* Bound on the doubles all chunk slots hold together (32 MB). */
#define MAX_PARTIAL_DOUBLES ((size_t)1 << 22)
/* Rows folded into X'WX at a time by rank_update(). */
#define BLOCK 4

/*
 * One IRLS problem.  x, y, offset, pw are the caller's (x NULL stands for a
 * single column of ones: the null model); eta, mu and wt are n-arrays
 * borrowed from glm_fit() so that the null fit can reuse them.  Each chunk
 * c owns the slot part + c * stride: pp * pp sums of X'WX (lower triangle,
 * row stride pp), p of X'Wz, SC_COUNT scalars, then 2 * BLOCK * pp doubles
 * of scratch.
 */
struct irls {
    const double *x;
    const double *y;
    const double *off;
    const double *pw;
    size_t n;
    size_t p;
    size_t pp;          /* p rounded up to even: row stride of the sums */
    const struct link_ops *lk;
    const struct family_ops *fm;
    enum glm_family family;
    int intercept;
    int centre;
    int use_mu_start;   /* 1: start from the values already in mu */
    double lambda;
    int penalize_first;
    int maxit;
    double epsilon;
    double alias_tol;
    int threads;
    double disp;        /* gamma log-likelihood scale, for pass_stats */

    double *eta;
    double *mu;
    double *wt;         /* working weights of the last iteration */

    size_t chunk_rows;
    size_t nchunks;
    size_t stride;
    double *part;
    double sums[SC_COUNT];

    double *shift;      /* centring constants of the current system (0
                           when not centring) */
    double *next_shift; /* the W-weighted column means of the current
                           system: the next iteration's centring */
    double *beta;       /* current coefficients, uncentred, aliased = 0 */
    double *beta_old;
    double *scale;      /* equilibration of the last system */
    double *unorm;      /* uncentred weighted column norms^2 (+ penalty) */
    double *lfac;       /* p * p ordered Cholesky used for aliasing */
    size_t *keep;       /* accepted columns, in order */
    unsigned char *aliased;
    size_t rank;
    gsl_matrix *xtwx;   /* p x p */
    gsl_vector *xtwz;   /* p */
    /*
     * Sparse columns (indicators of levels and their interactions: at
     * most a quarter of the rows nonzero) are not centred and enter the
     * sums by their nonzero entries only.  perm lists the dense columns
     * first, then the sparse ones; pd counts the dense.  perm is NULL when
     * no column is sparse (the dense path alone).
     */
    size_t *perm;
    unsigned char *sparse;  /* by original column */
    size_t pd;
    gsl_matrix *red;    /* leading rank x rank: the last factorisation */
    gsl_vector *sol;    /* p */

    double dev;
    double pdev;
    double change;
    int iter;
    int converged;
    int boundary;
};

static const double ONE = 1.0;

static const double *row_of(const struct irls *ir, size_t i)
{
    return ir->x ? ir->x + i * ir->p : &ONE;
}

static double prior_weight(const struct irls *ir, size_t i)
{
    return ir->pw ? ir->pw[i] : 1.0;
}

static double offset_of(const struct irls *ir, size_t i)
{
    return ir->off ? ir->off[i] : 0.0;
}

static int penalised(const struct irls *ir, size_t j)
{
    return ir->lambda > 0.0
           && (j > 0 || !ir->intercept || ir->penalize_first);
}

static double penalty_of(const struct irls *ir, const double *beta)
{
    double s = 0.0;
    for (size_t j = 0; j < ir->p; j++) {
        if (penalised(ir, j))
            s += beta[j] * beta[j];
    }
    return ir->lambda * s;
}

/*
 * Chunks depend on n and p only, never on the thread count: that is what
 * makes the sums, and so the fit, bit-identical for any number of threads.
 */
static void chunk_plan(struct irls *ir)
{
    size_t p = ir->p;
    ir->pp = (p + 1) & ~(size_t)1;
    ir->stride = ir->pp * ir->pp + p + SC_COUNT + 2 * BLOCK * ir->pp;
    size_t max_chunks = MAX_PARTIAL_DOUBLES / ir->stride;
    if (max_chunks < 1)
        max_chunks = 1;
    size_t rows = MIN_CHUNK_ROWS;
    if ((ir->n + rows - 1) / rows > max_chunks)
        rows = (ir->n + max_chunks - 1) / max_chunks;
    ir->chunk_rows = rows;
    ir->nchunks = (ir->n + rows - 1) / rows;
    if (ir->nchunks == 0)
        ir->nchunks = 1;
}

/*
 * Sets up an IRLS problem for the caller's data and options (no
 * allocation); eta, mu and wt are n-arrays lent to it.
 */
static void irls_configure(struct irls *ir, const struct glm_data *d,
                           const struct glm_options *o, double *eta,
                           double *mu, double *wt)
{
    memset(ir, 0, sizeof(*ir));
    ir->x = d->x;
    ir->y = d->y;
    ir->off = d->offset;
    ir->pw = d->weights;
    ir->n = d->n;
    ir->p = d->p;
    ir->lk = &LINKS[o->link];
    ir->fm = &FAMILIES[o->family];
    ir->family = o->family;
    ir->intercept = o->intercept != 0;
    ir->lambda = o->lambda;
    ir->penalize_first = o->penalize_first != 0;
    /* centring is exact only when the intercept absorbs it unpenalised */
    ir->centre = ir->intercept && d->p > 1
                 && !(ir->penalize_first && ir->lambda > 0.0);
    ir->maxit = o->maxit;
    ir->epsilon = o->epsilon;
    ir->alias_tol = o->alias_tol;
    ir->threads = o->threads > GLM_MAX_THREADS ? GLM_MAX_THREADS
                                               : o->threads;
    ir->eta = eta;
    ir->mu = mu;
    ir->wt = wt;
}

static void irls_release(struct irls *ir)
{
    gsl_vector_free(ir->sol);
    gsl_matrix_free(ir->red);
    gsl_vector_free(ir->xtwz);
    gsl_matrix_free(ir->xtwx);
    free(ir->aliased);
    free(ir->keep);
    free(ir->lfac);
    free(ir->unorm);
    free(ir->scale);
    free(ir->beta_old);
    free(ir->beta);
    free(ir->next_shift);
    free(ir->shift);
    free(ir->part);
    free(ir->perm);
    free(ir->sparse);
    memset(ir, 0, sizeof(*ir));
}

/* Allocates the buffers of an IRLS problem whose fields are set. */
static int irls_alloc(struct irls *ir, struct eng_err *err)
{
    size_t p = ir->p;
    chunk_plan(ir);
    ir->part = malloc(ir->nchunks * ir->stride * sizeof(double));
    ir->shift = calloc(p, sizeof(double));
    ir->next_shift = calloc(p, sizeof(double));
    ir->beta = calloc(p, sizeof(double));
    ir->beta_old = calloc(p, sizeof(double));
    ir->scale = calloc(p, sizeof(double));
    ir->unorm = calloc(p, sizeof(double));
    ir->lfac = calloc(p * p, sizeof(double));
    ir->keep = calloc(p, sizeof(size_t));
    ir->aliased = calloc(p, 1);
    ir->xtwx = gsl_matrix_alloc(p, p);
    ir->xtwz = gsl_vector_alloc(p);
    ir->red = gsl_matrix_alloc(p, p);
    ir->sol = gsl_vector_alloc(p);
    if (!ir->part || !ir->shift || !ir->next_shift || !ir->beta
        || !ir->beta_old || !ir->scale || !ir->unorm || !ir->lfac
        || !ir->keep || !ir->aliased || !ir->xtwx || !ir->xtwz || !ir->red
        || !ir->sol)
        return eng_err_set(err, ENG_ENOMEM, "glm: out of memory for %zu "
                           "columns", p);
    return ENG_OK;
}

/* A column is sparse when at most a quarter of its rows are nonzero. */
#define SPARSE_SHARE 0.25
#define SPARSE_ROW_MAX 64

/*
 * Finds the sparse columns (one pass over x) and orders the columns dense
 * first.  Leaves perm NULL (and so the dense path) when fewer than a
 * quarter of the columns are sparse, when the model is not centred, or
 * for the null model.
 */
static int plan_sparse(struct irls *ir, struct eng_err *err)
{
    size_t p = ir->p, n = ir->n;
    if (!ir->x || p < 3 || !ir->centre || n == 0)
        return ENG_OK;
    size_t *nz = calloc(p, sizeof(size_t));
    if (!nz)
        return eng_err_set(err, ENG_ENOMEM, "glm: out of memory");
    for (size_t i = 0; i < n; i++) {
        const double *xi = ir->x + i * p;
        for (size_t j = 1; j < p; j++)
            nz[j] += xi[j] != 0.0;
    }
    size_t ns = 0;
    for (size_t j = 1; j < p; j++)
        ns += (double)nz[j] <= SPARSE_SHARE * (double)n;
    /* a few sparse columns save less than the gather costs */
    if (ns == 0 || 4 * ns < p) {
        free(nz);
        return ENG_OK;
    }
    ir->perm = malloc(p * sizeof(size_t));
    ir->sparse = calloc(p, 1);
    if (!ir->perm || !ir->sparse) {
        free(nz);
        return eng_err_set(err, ENG_ENOMEM, "glm: out of memory");
    }
    size_t k = 0;
    for (size_t j = 0; j < p; j++) {
        ir->sparse[j] = j > 0 && (double)nz[j] <= SPARSE_SHARE * (double)n;
        if (!ir->sparse[j])
            ir->perm[k++] = j;
    }
    ir->pd = k;
    for (size_t j = 0; j < p; j++) {
        if (ir->sparse[j])
            ir->perm[k++] = j;
    }
    free(nz);
    return ENG_OK;
}

/* ===================== Passes over the rows ===================== */

static double *slot_of(const struct irls *ir, size_t c)
{
    return ir->part + c * ir->stride;
}

static double *scalars_of(const struct irls *ir, size_t c)
{
    return slot_of(ir, c) + ir->pp * ir->pp + ir->p;
}

static void chunk_rows_of(const struct irls *ir, size_t c, size_t *r0,
                          size_t *r1)
{
    *r0 = c * ir->chunk_rows;
    *r1 = *r0 + ir->chunk_rows;
    if (*r1 > ir->n)
        *r1 = ir->n;
}

struct span {
    struct irls *ir;
    void (*fn)(struct irls *ir, size_t c);
    size_t c0;
    size_t c1;
};

static void *span_run(void *arg)
{
    struct span *s = arg;
    for (size_t c = s->c0; c < s->c1; c++)
        s->fn(s->ir, c);
    return NULL;
}

/*
 * Runs fn on every chunk, on up to ir->threads threads with contiguous
 * ranges of chunks.  Each chunk writes only its own slot, so the threads
 * share nothing.  A thread that cannot be created has its range run here
 * instead: the result is the same either way.
 */
static void run_chunks(struct irls *ir, void (*fn)(struct irls *, size_t))
{
    size_t nt = (size_t)ir->threads;
    if (nt > ir->nchunks)
        nt = ir->nchunks;
    if (nt <= 1) {
        for (size_t c = 0; c < ir->nchunks; c++)
            fn(ir, c);
        return;
    }
    struct span spans[GLM_MAX_THREADS];
    pthread_t tids[GLM_MAX_THREADS];
    int started[GLM_MAX_THREADS] = {0};
    for (size_t t = 0; t < nt; t++) {
        spans[t].ir = ir;
        spans[t].fn = fn;
        spans[t].c0 = ir->nchunks * t / nt;
        spans[t].c1 = ir->nchunks * (t + 1) / nt;
    }
    for (size_t t = 1; t < nt; t++)
        started[t] = pthread_create(&tids[t], NULL, span_run, &spans[t])
                     == 0;
    span_run(&spans[0]);
    for (size_t t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            span_run(&spans[t]);
    }
}

/* Adds up the chunks' scalars in chunk order into ir->sums. */
static void reduce_scalars(struct irls *ir)
{
    memset(ir->sums, 0, sizeof(ir->sums));
    for (size_t c = 0; c < ir->nchunks; c++) {
        const double *sc = scalars_of(ir, c);
        for (size_t k = 0; k < SC_COUNT; k++)
            ir->sums[k] += sc[k];
    }
}

/* Deviance and validity of the current eta and mu, for one row. */
static void tally_row(struct irls *ir, size_t i, double *sc)
{
    double eta = ir->eta[i];
    double mu = ir->mu[i];
    if (!ir->lk->valid_eta(eta) || !ir->fm->valid_mu(mu))
        sc[SC_INVALID] += 1.0;
    double w = prior_weight(ir, i);
    if (w > 0.0)
        sc[SC_DEV] += ir->fm->dev_resid(ir->y[i], mu, w);
}

/* Starting values: eta = g(mustart), mu = g^-1(eta), as glm.fit. */
static void pass_start(struct irls *ir, size_t c)
{
    double *sc = scalars_of(ir, c);
    memset(sc, 0, SC_COUNT * sizeof(*sc));
    size_t r0, r1;
    chunk_rows_of(ir, c, &r0, &r1);
    for (size_t i = r0; i < r1; i++) {
        double ms;
        if (ir->use_mu_start)
            ms = ir->mu[i];
        else
            ms = ir->fm->mustart(ir->y[i], prior_weight(ir, i));
        double eta = ir->lk->fun(ms);
        ir->eta[i] = eta;
        ir->mu[i] = ir->lk->inv(eta);
        tally_row(ir, i, sc);
    }
}

/*
 * x . beta with four partial sums: a single running sum would make each
 * row wait on p dependent additions.
 */
static double dot(const double *x, const double *beta, size_t p)
{
    double s0 = 0.0;
    double s1 = 0.0;
    double s2 = 0.0;
    double s3 = 0.0;
    size_t j = 0;
    for (; j + 4 <= p; j += 4) {
        s0 += x[j] * beta[j];
        s1 += x[j + 1] * beta[j + 1];
        s2 += x[j + 2] * beta[j + 2];
        s3 += x[j + 3] * beta[j + 3];
    }
    for (; j < p; j++)
        s0 += x[j] * beta[j];
    return (s0 + s1) + (s2 + s3);
}

/* eta = X beta + offset, mu = g^-1(eta), and the deviance. */
static void pass_update(struct irls *ir, size_t c)
{
    double *sc = scalars_of(ir, c);
    memset(sc, 0, SC_COUNT * sizeof(*sc));
    size_t r0, r1;
    chunk_rows_of(ir, c, &r0, &r1);
    const double *beta = ir->beta;
    size_t p = ir->p;
    for (size_t i = r0; i < r1; i++) {
        double eta = dot(row_of(ir, i), beta, p) + offset_of(ir, i);
        ir->eta[i] = eta;
        ir->mu[i] = ir->lk->inv(eta);
        tally_row(ir, i, sc);
    }
}

/* Prior-weighted column sums, for the centring constants. */
static void pass_means(struct irls *ir, size_t c)
{
    size_t p = ir->p;
    double *b = slot_of(ir, c) + ir->pp * ir->pp;
    double *sc = b + p;
    memset(b, 0, (p + SC_COUNT) * sizeof(*b));
    size_t r0, r1;
    chunk_rows_of(ir, c, &r0, &r1);
    for (size_t i = r0; i < r1; i++) {
        double w = prior_weight(ir, i);
        if (w == 0.0)
            continue;
        const double *xi = row_of(ir, i);
        for (size_t j = 0; j < p; j++)
            b[j] += w * xi[j];
        sc[SC_WSUM] += w;
    }
}

/*
 * The working response and weight of row i (R: z = eta - offset + (y -
 * mu) / mu.eta, w = prior * mu.eta^2 / V(mu)); records the weight in wt.
 * Returns 1 if the row enters the least squares, else 0.
 */
static int working_row(struct irls *ir, size_t i, double *w, double *z,
                       double *sc)
{
    double pw = prior_weight(ir, i);
    ir->wt[i] = 0.0;
    if (pw == 0.0)
        return 0;
    double eta = ir->eta[i];
    double mu = ir->mu[i];
    double var = ir->fm->variance(mu);
    double me = ir->lk->mu_eta(eta, mu);
    if (isnan(var) || var == 0.0 || isnan(me)) {
        sc[SC_BADVAR] += 1.0;
        return 0;
    }
    if (me == 0.0)
        return 0;
    double zi = (eta - offset_of(ir, i)) + (ir->y[i] - mu) / me;
    double wi = pw * me * me / var;
    /* overflowing fitted values (gamma: mu^2 = inf) end here */
    if (!isfinite(zi) || !isfinite(wi)) {
        sc[SC_BADVAR] += 1.0;
        return 0;
    }
    *z = zi;
    *w = wi;
    ir->wt[i] = wi;
    sc[SC_GOOD] += 1.0;
    return 1;
}

/*
 * Folds BLOCK rows into the lower triangle of m (row stride pp) and into b:
 * u holds the rows' centred x, v the same times the working weight (rows
 * of stride pp, zero-padded), z the working responses.  Four rows per
 * sweep cut the loads and stores of m fourfold.  The inner loop works on
 * pairs of adjacent elements, running one past the diagonal when j is even
 * (into the unused upper triangle), so that the trip count is a whole
 * number of pairs: that is what lets gcc vectorise it at -O2.
 */
static void rank_update(double *restrict m, double *restrict b,
                        const double *restrict u, const double *restrict v,
                        const double *restrict z, size_t p, size_t pp)
{
    const double *u0 = u;
    const double *u1 = u + pp;
    const double *u2 = u + 2 * pp;
    const double *u3 = u + 3 * pp;
    for (size_t j = 0; j < p; j++) {
        double a0 = v[j];
        double a1 = v[pp + j];
        double a2 = v[2 * pp + j];
        double a3 = v[3 * pp + j];
        double *mj = m + j * pp;
        size_t kend = (j + 2) & ~(size_t)1;
        for (size_t k = 0; k < kend; k += 2) {
            mj[k] += a0 * u0[k] + a1 * u1[k] + a2 * u2[k] + a3 * u3[k];
            mj[k + 1] += a0 * u0[k + 1] + a1 * u1[k + 1] + a2 * u2[k + 1]
                         + a3 * u3[k + 1];
        }
        b[j] += a0 * z[0] + a1 * z[1] + a2 * z[2] + a3 * z[3];
    }
}

/*
 * A row of a design with sparse columns, in permuted order: its dense
 * part, centred, into u and v (for the blocked rank update), and its
 * sparse entries straight into m and b: against the dense part, against
 * each other, and into X'Wz.
 */
static void sparse_row(const struct irls *ir, const double *xi, double w,
                       double zi, double *u, double *v, double *m,
                       double *b)
{
    size_t pd = ir->pd, p = ir->p, pp = ir->pp;
    for (size_t j = 0; j < pd; j++) {
        size_t o = ir->perm[j];
        u[j] = xi[o] - ir->shift[o];
        v[j] = w * u[j];
    }
    /* the row's nonzero sparse entries so far; a row with more than
     * SPARSE_ROW_MAX of them pairs the rest by scanning instead */
    size_t idx[SPARSE_ROW_MAX];
    double val[SPARSE_ROW_MAX];
    size_t nnz = 0;
    int scan = 0;
    for (size_t j = pd; j < p; j++) {
        double x = xi[ir->perm[j]];
        if (x == 0.0)
            continue;
        double wx = w * x;
        double *mj = m + j * pp;
        for (size_t k = 0; k < pd; k++)
            mj[k] += wx * u[k];
        if (!scan && nnz == SPARSE_ROW_MAX)
            scan = 1;
        if (scan) {
            for (size_t k = pd; k < j; k++)
                mj[k] += wx * xi[ir->perm[k]];
            mj[j] += wx * x;
        } else {
            idx[nnz] = j;
            val[nnz++] = x;
            for (size_t a = 0; a < nnz; a++)
                mj[idx[a]] += wx * val[a];
        }
        b[j] += wx * zi;
    }
}

/* X'WX and X'Wz of one chunk, centred. */
static void pass_accumulate(struct irls *ir, size_t c)
{
    size_t p = ir->p;
    size_t pp = ir->pp;
    double *m = slot_of(ir, c);
    double *b = m + pp * pp;
    double *sc = b + p;
    double *u = sc + SC_COUNT;
    double *v = u + BLOCK * pp;
    memset(m, 0, (pp * pp + p + SC_COUNT + 2 * BLOCK * pp) * sizeof(*m));
    size_t r0, r1;
    chunk_rows_of(ir, c, &r0, &r1);
    size_t i = r0;
    while (i < r1) {
        double z[BLOCK];
        size_t k = 0;
        for (; k < BLOCK && i < r1; i++) {
            double w, zi;
            if (!working_row(ir, i, &w, &zi, sc))
                continue;
            const double *xi = row_of(ir, i);
            double *uk = u + k * pp;
            double *vk = v + k * pp;
            if (ir->perm) {
                sparse_row(ir, xi, w, zi, uk, vk, m, b);
            } else {
                for (size_t j = 0; j < p; j++) {
                    uk[j] = xi[j] - ir->shift[j];
                    vk[j] = w * uk[j];
                }
            }
            z[k] = zi;
            k++;
        }
        if (k == 0)
            break;
        for (; k < BLOCK; k++) {
            memset(u + k * pp, 0, p * sizeof(*u));
            memset(v + k * pp, 0, p * sizeof(*v));
            z[k] = 0.0;
        }
        rank_update(m, b, u, v, z, ir->perm ? ir->pd : p, pp);
    }
}

/* Fit statistics at the final mu; see glm.h for their definitions. */
static void pass_stats(struct irls *ir, size_t c)
{
    double *sc = scalars_of(ir, c);
    memset(sc, 0, SC_COUNT * sizeof(*sc));
    size_t r0, r1;
    chunk_rows_of(ir, c, &r0, &r1);
    const double eps10 = 10.0 * DBL_EPSILON;
    for (size_t i = r0; i < r1; i++) {
        double mu = ir->mu[i];
        if (ir->family == GLM_BINOMIAL && (mu > 1.0 - eps10 || mu < eps10))
            sc[SC_EXTREME] += 1.0;
        if (ir->family == GLM_POISSON && mu < eps10)
            sc[SC_EXTREME] += 1.0;
        double w = prior_weight(ir, i);
        if (w == 0.0)
            continue;
        double y = ir->y[i];
        double r = y - mu;
        sc[SC_PEARSON] += w * r * r / ir->fm->variance(mu);
        if (ir->wt[i] > 0.0) {
            double wr = r / ir->lk->mu_eta(ir->eta[i], mu);
            sc[SC_WORKRES] += ir->wt[i] * wr * wr;
        }
        sc[SC_LOGLIK] += ir->fm->loglik(y, mu, w, ir->disp);
        sc[SC_WSUM] += w;
        if ((ir->family == GLM_BINOMIAL
             && fabs(w * y - nearbyint(w * y)) > 1e-3)
            || (ir->family == GLM_POISSON && non_integer(y)))
            sc[SC_NONINT] += 1.0;
    }
}

/* ===================== The least-squares step ===================== */

/*
 * Adds up the chunks' X'WX and X'Wz in chunk order into xtwx (both
 * triangles) and xtwz, adds the penalty, and records the uncentred norms
 * the aliasing test needs.
 */
static int gather_system(struct irls *ir, struct eng_err *err)
{
    size_t p = ir->p;
    size_t pp = ir->pp;
    double *a = ir->xtwx->data;
    double *b = ir->xtwz->data;
    memset(a, 0, p * p * sizeof(*a));
    memset(b, 0, p * sizeof(*b));
    memset(ir->sums, 0, sizeof(ir->sums));
    for (size_t c = 0; c < ir->nchunks; c++) {
        const double *m = slot_of(ir, c);
        if (ir->perm) {
            /* back to the caller's order, into the lower triangle */
            for (size_t j = 0; j < p; j++) {
                size_t oj = ir->perm[j];
                for (size_t k = 0; k <= j; k++) {
                    size_t ok = ir->perm[k];
                    size_t hi = oj > ok ? oj : ok, lo = oj > ok ? ok : oj;
                    a[hi * p + lo] += m[j * pp + k];
                }
                b[oj] += m[pp * pp + j];
            }
        } else {
            for (size_t j = 0; j < p; j++) {
                for (size_t k = 0; k <= j; k++)
                    a[j * p + k] += m[j * pp + k];
                b[j] += m[pp * pp + j];
            }
        }
        const double *sc = scalars_of(ir, c);
        ir->sums[SC_GOOD] += sc[SC_GOOD];
        ir->sums[SC_BADVAR] += sc[SC_BADVAR];
    }
    if (ir->sums[SC_BADVAR] > 0.0)
        return eng_err_set(err, ENG_ESTAT, "glm: at iteration %d the "
                           "working weights of %.0f row(s) are not finite "
                           "(the variance or dmu/deta of the fitted values "
                           "is 0 or overflows)", ir->iter,
                           ir->sums[SC_BADVAR]);
    if (ir->sums[SC_GOOD] == 0.0)
        return eng_err_set(err, ENG_ESTAT, "glm: no observation is "
                           "informative at iteration %d", ir->iter);
    for (size_t j = 0; j < p; j++) {
        for (size_t k = 0; k < j; k++)
            a[k * p + j] = a[j * p + k];
    }
    /*
     * In centred coordinates column j is x_j - s_j * 1, so its uncentred
     * norm is a_jj + 2 s_j a_0j + s_j^2 a_00, and its W-weighted mean is
     * s_j + a_0j / a_00.
     */
    for (size_t j = 0; j < p; j++) {
        double s = ir->shift[j];
        double u = a[j * p + j];
        ir->next_shift[j] = 0.0;
        if (ir->centre && j > 0 && !(ir->sparse && ir->sparse[j])) {
            u += 2.0 * s * a[j] + s * s * a[0];
            ir->next_shift[j] = s + a[j] / a[0];
        }
        if (penalised(ir, j)) {
            a[j * p + j] += ir->lambda;
            u += ir->lambda;
        }
        ir->unorm[j] = u;
    }
    return ENG_OK;
}

/*
 * Decides which columns are aliased, in column order as dqrdc2 does: an
 * ordered Cholesky of the equilibrated system in which column j is
 * accepted when its squared residual, after the earlier accepted columns,
 * exceeds alias_tol^2 times its uncentred squared norm (both in the W
 * metric, so this is R's criterion on sqrt(W) X).  Aliased columns keep a
 * zero row in lfac and are skipped by later columns.
 */
static void detect_aliasing(struct irls *ir)
{
    size_t p = ir->p;
    const double *a = ir->xtwx->data;
    double *l = ir->lfac;
    double tol2 = ir->alias_tol * ir->alias_tol;
    memset(l, 0, p * p * sizeof(*l));
    ir->rank = 0;
    for (size_t j = 0; j < p; j++) {
        double ajj = a[j * p + j];
        ir->scale[j] = ajj > 0.0 ? 1.0 / sqrt(ajj) : 0.0;
    }
    for (size_t j = 0; j < p; j++) {
        ir->aliased[j] = 1;
        double sj = ir->scale[j];
        if (sj == 0.0)
            continue;
        double *lj = l + j * p;
        double d = a[j * p + j] * sj * sj;
        for (size_t k = 0; k < j; k++) {
            if (ir->aliased[k])
                continue;
            const double *lk = l + k * p;
            double s = a[j * p + k] * sj * ir->scale[k];
            for (size_t m = 0; m < k; m++)
                s -= lj[m] * lk[m];
            lj[k] = s / lk[k];
            d -= lj[k] * lj[k];
        }
        if (!(d > tol2 * ir->unorm[j] * sj * sj)) {
            memset(lj, 0, p * sizeof(*lj));
            continue;
        }
        lj[j] = sqrt(d);
        ir->aliased[j] = 0;
        ir->keep[ir->rank++] = j;
    }
}

/*
 * One weighted least-squares solve: gathers the system, detects aliasing,
 * factorises the accepted part with GSL's Cholesky and sets ir->beta
 * (uncentred; aliased coefficients 0, as dqrls leaves them).  The
 * factorisation stays in ir->red for the covariance.
 */
static int solve_step(struct irls *ir, struct eng_err *err)
{
    int rc = gather_system(ir, err);
    if (rc < 0)
        return rc;
    detect_aliasing(ir);
    size_t p = ir->p;
    size_t r = ir->rank;
    if (r == 0)
        return eng_err_set(err, ENG_ESTAT, "glm: every column is aliased "
                           "at iteration %d", ir->iter);
    const double *a = ir->xtwx->data;
    const double *b = ir->xtwz->data;
    gsl_matrix_view red = gsl_matrix_submatrix(ir->red, 0, 0, r, r);
    gsl_vector_view sol = gsl_vector_subvector(ir->sol, 0, r);
    for (size_t i = 0; i < r; i++) {
        size_t ki = ir->keep[i];
        for (size_t k = 0; k < r; k++) {
            size_t kk = ir->keep[k];
            gsl_matrix_set(&red.matrix, i, k, a[ki * p + kk]
                           * ir->scale[ki] * ir->scale[kk]);
        }
        gsl_vector_set(&sol.vector, i, b[ki] * ir->scale[ki]);
    }
    int st = gsl_linalg_cholesky_decomp1(&red.matrix);
    if (st != GSL_SUCCESS)
        return eng_err_set(err, ENG_ESTAT, "glm: cannot factorise X'WX at "
                           "iteration %d: %s", ir->iter, gsl_strerror(st));
    st = gsl_linalg_cholesky_svx(&red.matrix, &sol.vector);
    if (st != GSL_SUCCESS)
        return eng_err_set(err, ENG_ESTAT, "glm: cannot solve the weighted "
                           "least squares at iteration %d: %s", ir->iter,
                           gsl_strerror(st));
    double *beta = ir->beta;
    memset(beta, 0, p * sizeof(*beta));
    for (size_t i = 0; i < r; i++) {
        size_t ki = ir->keep[i];
        beta[ki] = gsl_vector_get(&sol.vector, i) * ir->scale[ki];
    }
    if (ir->centre) {
        for (size_t j = 1; j < p; j++)
            beta[0] -= ir->shift[j] * beta[j];
    }
    for (size_t j = 0; j < p; j++) {
        if (!isfinite(beta[j]))
            return eng_err_set(err, ENG_ESTAT, "glm: non-finite "
                               "coefficients at iteration %d", ir->iter);
    }
    return ENG_OK;
}

/* ===================== The IRLS loop ===================== */

static void update_fit(struct irls *ir)
{
    run_chunks(ir, pass_update);
    reduce_scalars(ir);
    ir->dev = ir->sums[SC_DEV];
    ir->pdev = ir->dev + penalty_of(ir, ir->beta);
}

static void halve_step(struct irls *ir)
{
    for (size_t j = 0; j < ir->p; j++)
        ir->beta[j] = (ir->beta[j] + ir->beta_old[j]) / 2.0;
    update_fit(ir);
}

/*
 * R's step-halving loops: towards the previous coefficients, at most maxit
 * times, first while the deviance is not finite, then while eta or mu is
 * out of range.
 */
static int correct_step(struct irls *ir, int have_old, struct eng_err *err)
{
    int bad_dev = !isfinite(ir->pdev);
    int bad_range = ir->sums[SC_INVALID] > 0.0;
    if (!bad_dev && !bad_range)
        return ENG_OK;
    if (!have_old)
        return eng_err_set(err, ENG_ESTAT, "glm: no valid set of "
                           "coefficients at iteration 1 (%s); try another "
                           "link or check the data", bad_dev
                           ? "the deviance is not finite"
                           : "fitted values out of the family's range");
    for (int ii = 1; !isfinite(ir->pdev); ii++) {
        if (ii > ir->maxit)
            return eng_err_set(err, ENG_ESTAT, "glm: cannot correct the "
                               "step size at iteration %d: the deviance "
                               "stays non-finite after %d halvings",
                               ir->iter, ir->maxit);
        halve_step(ir);
    }
    for (int ii = 1; ir->sums[SC_INVALID] > 0.0; ii++) {
        if (ii > ir->maxit)
            return eng_err_set(err, ENG_ESTAT, "glm: cannot correct the "
                               "step size at iteration %d: fitted values "
                               "stay out of range after %d halvings",
                               ir->iter, ir->maxit);
        halve_step(ir);
    }
    ir->boundary = 1;
    return ENG_OK;
}

/*
 * glm.fit's loop.  On return ir->beta, eta, mu, dev and the last
 * factorisation describe the fit; converged says whether the test was met.
 */
static int irls_run(struct irls *ir, struct eng_err *err)
{
    if (ir->centre) {
        run_chunks(ir, pass_means);
        double wsum = 0.0;
        memset(ir->shift, 0, ir->p * sizeof(*ir->shift));
        for (size_t c = 0; c < ir->nchunks; c++) {
            const double *b = slot_of(ir, c) + ir->pp * ir->pp;
            for (size_t j = 1; j < ir->p; j++)
                ir->shift[j] += b[j];
            wsum += b[ir->p + SC_WSUM];
        }
        for (size_t j = 1; j < ir->p; j++)
            ir->shift[j] = ir->sparse && ir->sparse[j] ? 0.0
                                                       : ir->shift[j] / wsum;
    }
    run_chunks(ir, pass_start);
    reduce_scalars(ir);
    if (ir->sums[SC_INVALID] > 0.0 || !isfinite(ir->sums[SC_DEV]))
        return eng_err_set(err, ENG_ESTAT, "glm: cannot find valid "
                           "starting values");
    double devold = ir->sums[SC_DEV];
    int have_old = 0;
    ir->converged = 0;
    ir->change = NAN;
    for (ir->iter = 1; ir->iter <= ir->maxit; ir->iter++) {
        if (ir->iter > 1 && ir->centre)
            memcpy(ir->shift, ir->next_shift, ir->p * sizeof(*ir->shift));
        run_chunks(ir, pass_accumulate);
        int rc = solve_step(ir, err);
        if (rc < 0)
            return rc;
        update_fit(ir);
        ir->boundary = 0;
        rc = correct_step(ir, have_old, err);
        if (rc < 0)
            return rc;
        ir->change = fabs(ir->pdev - devold) / (fabs(ir->pdev) + 0.1);
        if (ir->change < ir->epsilon) {
            ir->converged = 1;
            break;
        }
        devold = ir->pdev;
        memcpy(ir->beta_old, ir->beta, ir->p * sizeof(*ir->beta));
        have_old = 1;
    }
    if (ir->iter > ir->maxit)
        ir->iter = ir->maxit;
    return ENG_OK;
}

/* ===================== Checks ===================== */

static int check_options(const struct glm_options *o, struct eng_err *err)
{
    if (!o)
        return eng_err_set(err, ENG_EUSAGE, "glm needs options");
    if ((unsigned)o->family >= N_FAMILIES)
        return eng_err_set(err, ENG_EUSAGE, "unknown glm family %d",
                           (int)o->family);
    if ((unsigned)o->link >= N_LINKS)
        return eng_err_set(err, ENG_EUSAGE, "unknown glm link %d",
                           (int)o->link);
    if (!glm_link_valid(o->family, o->link))
        return eng_err_set(err, ENG_EUSAGE, "link '%s' cannot be used with "
                           "the %s family", glm_link_name(o->link),
                           glm_family_name(o->family));
    if (o->maxit < 1)
        return eng_err_set(err, ENG_EUSAGE, "glm maxit must be at least 1 "
                           "(got %d)", o->maxit);
    if (!(o->epsilon > 0.0) || !isfinite(o->epsilon))
        return eng_err_set(err, ENG_EUSAGE, "glm epsilon must be a positive "
                           "number (got %g)", o->epsilon);
    if (!(o->alias_tol > 0.0 && o->alias_tol < 1.0))
        return eng_err_set(err, ENG_EUSAGE, "glm alias_tol must lie in "
                           "(0, 1) (got %g)", o->alias_tol);
    if (!(o->lambda >= 0.0) || !isfinite(o->lambda))
        return eng_err_set(err, ENG_EUSAGE, "glm lambda must be a finite "
                           "number >= 0 (got %g)", o->lambda);
    if (o->threads < 1)
        return eng_err_set(err, ENG_EUSAGE, "glm threads must be at least "
                           "1 (got %d)", o->threads);
    return ENG_OK;
}

static int check_data(const struct glm_data *d, const struct glm_options *o,
                      size_t *n_ok, struct eng_err *err)
{
    if (!d || !d->x || !d->y)
        return eng_err_set(err, ENG_EUSAGE, "glm needs a design matrix and "
                           "a response");
    if (d->p == 0)
        return eng_err_set(err, ENG_EDATA, "glm needs at least one column");
    const struct family_ops *fm = &FAMILIES[o->family];
    size_t ok = 0;
    for (size_t i = 0; i < d->n; i++) {
        double w = d->weights ? d->weights[i] : 1.0;
        if (!isfinite(w))
            return eng_err_set(err, ENG_EDATA, "weight of row %zu is not a "
                               "finite number", i);
        if (w < 0.0)
            return eng_err_set(err, ENG_EDATA, "weight of row %zu is "
                               "negative (%g)", i, w);
        if (w > 0.0)
            ok++;
        const double *xi = d->x + i * d->p;
        for (size_t j = 0; j < d->p; j++) {
            if (!isfinite(xi[j]))
                return eng_err_set(err, ENG_EDATA, "x[%zu][%zu] is not a "
                                   "finite number", i, j);
        }
        if (o->intercept && xi[0] != 1.0)
            return eng_err_set(err, ENG_EDATA, "x[%zu][0] is %g, but "
                               "column 0 is declared the intercept (all "
                               "ones)", i, xi[0]);
        double y = d->y[i];
        if (!isfinite(y))
            return eng_err_set(err, ENG_EDATA, "y[%zu] is not a finite "
                               "number", i);
        /* R resets y to 0 where a binomial weight is 0, so y is free. */
        int check_y = o->family != GLM_BINOMIAL || w > 0.0;
        if (check_y && !fm->valid_y(y))
            return eng_err_set(err, ENG_EDATA, "y[%zu] is %g: the %s "
                               "family needs %s", i, y, fm->name,
                               fm->y_range);
        if (d->offset && !isfinite(d->offset[i]))
            return eng_err_set(err, ENG_EDATA, "offset[%zu] is not a "
                               "finite number", i);
    }
    if (ok < d->p)
        return eng_err_set(err, ENG_EDATA, "glm has %zu rows of nonzero "
                           "weight for %zu columns: it needs at least as "
                           "many rows as columns", ok, d->p);
    *n_ok = ok;
    return ENG_OK;
}

/* ===================== Results ===================== */

void glm_result_free(struct glm_result *res)
{
    if (!res)
        return;
    free(res->cov);
    free(res->aliased);
    free(res->pvalue);
    free(res->stat);
    free(res->se);
    free(res->coef);
    free(res);
}

static struct glm_result *result_new(size_t p)
{
    struct glm_result *res = calloc(1, sizeof(*res));
    if (!res)
        return NULL;
    res->coef = malloc(p * sizeof(double));
    res->se = malloc(p * sizeof(double));
    res->stat = malloc(p * sizeof(double));
    res->pvalue = malloc(p * sizeof(double));
    res->aliased = malloc(p);
    res->cov = malloc(p * p * sizeof(double));
    if (!res->coef || !res->se || !res->stat || !res->pvalue
        || !res->aliased || !res->cov) {
        glm_result_free(res);
        return NULL;
    }
    return res;
}

/*
 * The covariance of the coefficients, unscaled: the inverse of the last
 * factorised system, back from equilibrated and centred coordinates
 * (beta_0 = beta~_0 - sum_j s_j beta~_j, so cov = T cov~ T' with T the
 * identity but for row 0).  NaN for aliased rows and columns.
 */
static int covariance(struct irls *ir, double *cov, struct eng_err *err)
{
    size_t p = ir->p;
    size_t r = ir->rank;
    gsl_matrix_view red = gsl_matrix_submatrix(ir->red, 0, 0, r, r);
    int st = gsl_linalg_cholesky_invert(&red.matrix);
    if (st != GSL_SUCCESS)
        return eng_err_set(err, ENG_ESTAT, "glm: cannot invert X'WX: %s",
                           gsl_strerror(st));
    memset(cov, 0, p * p * sizeof(*cov));
    for (size_t i = 0; i < r; i++) {
        size_t ki = ir->keep[i];
        for (size_t k = 0; k < r; k++) {
            size_t kk = ir->keep[k];
            cov[ki * p + kk] = gsl_matrix_get(&red.matrix, i, k)
                               * ir->scale[ki] * ir->scale[kk];
        }
    }
    if (ir->centre) {
        /* row 0 of T cov~, then column 0 of (T cov~) T' */
        for (size_t k = 0; k < p; k++) {
            for (size_t j = 1; j < p; j++)
                cov[k] -= ir->shift[j] * cov[j * p + k];
        }
        for (size_t i = 0; i < p; i++) {
            double c0 = cov[i * p];
            for (size_t j = 1; j < p; j++)
                c0 -= ir->shift[j] * cov[i * p + j];
            cov[i * p] = c0;
        }
    }
    for (size_t i = 0; i < p; i++) {
        for (size_t k = 0; k < p; k++) {
            if (ir->aliased[i] || ir->aliased[k])
                cov[i * p + k] = NAN;
        }
    }
    return ENG_OK;
}

static double fit_aic(const struct irls *ir, size_t n_ok, double dev)
{
    double rank2 = 2.0 * (double)ir->rank;
    double ll = ir->sums[SC_LOGLIK];
    switch (ir->family) {
    case GLM_POISSON:
    case GLM_BINOMIAL:
        return -2.0 * ll + rank2;
    case GLM_GAMMA:
        return -2.0 * ll + 2.0 + rank2;
    case GLM_GAUSSIAN: {
        double nn = (double)n_ok;
        return nn * (log(2.0 * M_PI * dev / nn) + 1.0) + 2.0 - ll + rank2;
    }
    }
    return NAN;
}

/* Appends "; text" (or text) to the result's warning text. */
static void add_warning(struct glm_result *res, unsigned bit,
                        const char *text)
{
    size_t len = strlen(res->warning_text);
    res->warnings |= bit;
    snprintf(res->warning_text + len, sizeof(res->warning_text) - len,
             "%s%s", len ? "; " : "", text);
}

/*
 * Coefficients, standard errors, tests and fit statistics from a finished
 * IRLS run, as summary.glm computes them.
 */
static int summarise(struct irls *ir, const struct glm_data *d,
                     size_t n_ok, struct glm_result *res,
                     struct eng_err *err)
{
    size_t p = ir->p;
    const struct family_ops *fm = ir->fm;
    double wsum = 0.0;
    for (size_t i = 0; i < d->n; i++)
        wsum += prior_weight(ir, i);
    ir->disp = ir->dev / wsum;
    run_chunks(ir, pass_stats);
    reduce_scalars(ir);

    res->n = d->n;
    res->p = p;
    res->n_ok = n_ok;
    res->intercept = ir->intercept;
    res->rank = ir->rank;
    res->deviance = ir->dev;
    res->df_residual = (long)n_ok - (long)ir->rank;
    res->df_null = (long)n_ok - (ir->intercept ? 1 : 0);
    res->lambda = ir->lambda;
    res->iterations = ir->iter;
    res->converged = ir->converged;
    res->boundary = ir->boundary;
    res->n_extreme = (size_t)ir->sums[SC_EXTREME];
    res->pearson_chi2 = ir->sums[SC_PEARSON];
    double df = (double)res->df_residual;
    res->pearson_dispersion = df > 0 ? res->pearson_chi2 / df : NAN;
    if (fm->estimates_dispersion)
        res->dispersion = df > 0 ? ir->sums[SC_WORKRES] / df : NAN;
    else
        res->dispersion = 1.0;
    res->stat_is_t = fm->estimates_dispersion;
    res->aic = fit_aic(ir, n_ok, ir->dev);
    res->loglik = (double)ir->rank + (fm->estimates_dispersion ? 1.0 : 0.0)
                  - res->aic / 2.0;

    int rc = covariance(ir, res->cov, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < p * p; i++)
        res->cov[i] *= res->dispersion;
    for (size_t j = 0; j < p; j++) {
        res->aliased[j] = ir->aliased[j];
        if (ir->aliased[j]) {
            res->coef[j] = NAN;
            res->se[j] = NAN;
            res->stat[j] = NAN;
            res->pvalue[j] = NAN;
            continue;
        }
        res->coef[j] = ir->beta[j];
        res->se[j] = sqrt(res->cov[j * p + j]);
        res->stat[j] = res->coef[j] / res->se[j];
        double t = fabs(res->stat[j]);
        if (!fm->estimates_dispersion)
            res->pvalue[j] = 2.0 * gsl_cdf_ugaussian_Q(t);
        else if (df > 0)
            res->pvalue[j] = 2.0 * gsl_cdf_tdist_Q(t, df);
        else
            res->pvalue[j] = NAN;
    }

    char text[ENG_ERR_LEN];
    if (!ir->converged) {
        snprintf(text, sizeof(text), "glm did not converge in %d "
                 "iterations (relative deviance change %.1e)", ir->iter,
                 ir->change);
        add_warning(res, GLM_WARN_NOT_CONVERGED, text);
    }
    if (ir->boundary)
        add_warning(res, GLM_WARN_BOUNDARY, "the last iteration halved its "
                    "step: the fit stopped at a boundary value");
    if (ir->family == GLM_BINOMIAL && res->n_extreme > 0) {
        snprintf(text, sizeof(text), "%zu fitted probabilities are "
                 "numerically 0 or 1 (separation)", res->n_extreme);
        add_warning(res, GLM_WARN_FITTED_01, text);
    }
    if (ir->family == GLM_POISSON && res->n_extreme > 0) {
        snprintf(text, sizeof(text), "%zu fitted rates are numerically 0",
                 res->n_extreme);
        add_warning(res, GLM_WARN_FITTED_ZERO, text);
    }
    if (ir->sums[SC_NONINT] > 0.0) {
        snprintf(text, sizeof(text), "%.0f row(s) with a non-integer %s",
                 ir->sums[SC_NONINT], ir->family == GLM_POISSON
                 ? "count (aic is infinite, as in R)"
                 : "number of successes");
        add_warning(res, GLM_WARN_NONINTEGER, text);
    }
    return ENG_OK;
}

/*
 * The intercept of the intercept-only model with an offset, where the
 * likelihood equation has a closed form: poisson/log, sum w y = e^b0 sum w
 * e^off; gamma/log, e^b0 = sum w y e^-off / sum w; gaussian/identity, the
 * weighted mean of y - off.  Returns 1 and sets *b0, or 0 when the IRLS is
 * needed (other pairs, or no finite solution).
 */
static int null_intercept(const struct irls *ir, double *b0)
{
    double num = 0.0;
    double den = 0.0;
    for (size_t i = 0; i < ir->n; i++) {
        double w = prior_weight(ir, i);
        if (w == 0.0)
            continue;
        double y = ir->y[i];
        double off = offset_of(ir, i);
        if (ir->family == GLM_POISSON && ir->lk == &LINKS[GLM_LOG]) {
            num += w * y;
            den += w * exp(off);
        } else if (ir->family == GLM_GAMMA && ir->lk == &LINKS[GLM_LOG]) {
            num += w * y * exp(-off);
            den += w;
        } else if (ir->family == GLM_GAUSSIAN) {
            num += w * (y - off);
            den += w;
        } else {
            return 0;
        }
    }
    double b = ir->family == GLM_GAUSSIAN ? num / den : log(num / den);
    if (!isfinite(b))
        return 0;
    *b0 = b;
    return 1;
}

/*
 * The null deviance, as glm() computes it: with an intercept and an
 * offset, the deviance of the intercept-only model fitted with that offset
 * (R refits it by IRLS from the model's fitted values; where the maximum
 * has a closed form it is used directly, which R's IRLS reaches to its
 * tolerance, and saves several passes over the rows); with an intercept
 * only, of the weighted mean of y; without intercept, of mu =
 * linkinv(offset).  The IRLS null fit reuses the n-arrays of the main fit,
 * which must be finished.
 */
static int null_deviance(const struct irls *full, const struct glm_data *d,
                         const struct glm_options *opts,
                         struct glm_result *res, struct eng_err *err)
{
    const struct family_ops *fm = full->fm;
    double b0 = 0.0;
    int closed = full->intercept && d->offset && null_intercept(full, &b0);
    if (full->intercept && d->offset && !closed) {
        struct irls nu;
        irls_configure(&nu, d, opts, full->eta, full->mu, full->wt);
        nu.x = NULL;
        nu.p = 1;
        nu.centre = 0;
        nu.use_mu_start = 1;
        nu.lambda = 0.0;
        int rc = irls_alloc(&nu, err);
        if (rc == ENG_OK)
            rc = irls_run(&nu, err);
        if (rc == ENG_OK) {
            res->null_deviance = nu.dev;
            if (!nu.converged)
                add_warning(res, GLM_WARN_NULL_NOT_CONVERGED, "the "
                            "intercept-only fit for the null deviance did "
                            "not converge");
        }
        irls_release(&nu);
        return rc;
    }
    double mean = 0.0;
    if (full->intercept && !closed) {
        double sw = 0.0;
        double swy = 0.0;
        for (size_t i = 0; i < d->n; i++) {
            double w = prior_weight(full, i);
            sw += w;
            swy += w * d->y[i];
        }
        mean = swy / sw;
    }
    double dev = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        double w = prior_weight(full, i);
        if (w == 0.0)
            continue;
        double mu;
        if (closed)
            mu = full->lk->inv(b0 + offset_of(full, i));
        else if (full->intercept)
            mu = mean;
        else
            mu = full->lk->inv(offset_of(full, i));
        dev += fm->dev_resid(d->y[i], mu, w);
    }
    res->null_deviance = dev;
    return ENG_OK;
}

/* Turns the conditions the options do not allow into an ENG_ESTAT. */
static int enforce_strictness(const struct glm_result *res,
                              const struct glm_options *o,
                              struct eng_err *err)
{
    int sep = (res->warnings & GLM_WARN_FITTED_01) != 0;
    if ((res->warnings & GLM_WARN_NOT_CONVERGED) && !o->allow_unconverged)
        return eng_err_set(err, ENG_ESTAT, "%s", res->warning_text);
    if (sep && !o->allow_separation)
        return eng_err_set(err, ENG_ESTAT, "binomial fit separates the "
                           "data: %zu fitted probabilities are numerically "
                           "0 or 1 (perfect or quasi-complete separation)",
                           res->n_extreme);
    return ENG_OK;
}

struct glm_result *glm_fit(const struct glm_data *data,
                           const struct glm_options *opts,
                           struct eng_err *err)
{
    struct glm_result *res = NULL;
    struct irls ir = {0};
    double *eta = NULL;
    double *mu = NULL;
    double *wt = NULL;
    size_t n_ok = 0;
    int rc = check_options(opts, err);
    if (rc < 0)
        goto out;
    rc = check_data(data, opts, &n_ok, err);
    if (rc < 0)
        goto out;

    size_t n = data->n;
    eta = malloc(n * sizeof(double));
    mu = malloc(n * sizeof(double));
    wt = malloc(n * sizeof(double));
    res = result_new(data->p);
    if (!eta || !mu || !wt || !res) {
        rc = eng_err_set(err, ENG_ENOMEM, "glm: out of memory for %zu rows",
                         n);
        goto out;
    }
    irls_configure(&ir, data, opts, eta, mu, wt);
    rc = irls_alloc(&ir, err);
    if (rc == ENG_OK)
        rc = plan_sparse(&ir, err);
    if (rc < 0)
        goto out;
    rc = irls_run(&ir, err);
    if (rc < 0)
        goto out;
    res->family = opts->family;
    res->link = opts->link;
    rc = summarise(&ir, data, n_ok, res, err);
    if (rc < 0)
        goto out;
    rc = enforce_strictness(res, opts, err);
    if (rc < 0)
        goto out;
    rc = null_deviance(&ir, data, opts, res, err);
out:
    irls_release(&ir);
    free(wt);
    free(mu);
    free(eta);
    if (rc < 0) {
        glm_result_free(res);
        return NULL;
    }
    return res;
}
