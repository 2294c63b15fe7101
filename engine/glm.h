/*
 * glm — generalised linear models fitted by iteratively reweighted least
 * squares (IRLS), with the algorithm, defaults and reported figures of R's
 * glm(), glm.fit() and summary.glm(), so that an actuary can check a fit
 * against R line by line.
 *
 * Families and links: poisson (log), binomial (logit), gamma (log or
 * inverse) and gaussian (identity).  The first link named is the family's
 * default; gamma's canonical link is inverse, as in R, but log is what
 * severity models use.
 *
 * Model.  The caller builds the design matrix: n rows, p columns, row-major
 * (x[i * p + j]), with the intercept column of ones included explicitly as
 * column 0 when the model has one (glm_options.intercept, default on).  A
 * gsl_matrix whose tda equals its size2 can be passed as m->data.  The
 * response y, the optional offset (added to the linear predictor with a
 * coefficient fixed to 1, e.g. log(exposure)) and the optional prior weights
 * are n-vectors.  Binomial responses are proportions in [0, 1] with the
 * number of trials as prior weight, as R's glm(y ~ ..., weights = trials).
 *
 * Algorithm, and how it relates to R's glm.fit:
 *   - Starting values as R: mu = y + 0.1 (poisson), (w y + 0.5) / (w + 1)
 *     (binomial), y (gamma, gaussian); eta = link(mu).
 *   - Each iteration forms the working response z and working weights W
 *     from the current mu exactly as R, then solves the weighted least
 *     squares problem.  R does that with a Householder QR of sqrt(W) X; here
 *     X'WX and X'Wz are accumulated in one pass over the rows (O(n p^2),
 *     cache-friendly) and the p x p system is solved, which is many times
 *     faster on long data.  Squaring the condition number is what the
 *     normal equations risk, so when the model has an unpenalised intercept
 *     the columns are centred on their W-weighted means (an exact
 *     reparameterisation, undone before anything is reported: prior
 *     weights at the first iteration, the previous iteration's working
 *     weights after, which costs no extra pass), and the system is
 *     equilibrated to unit diagonal before it is factorised.  When at
 *     least a quarter of the columns are zero on three rows in four or
 *     more (the indicators of categorical levels and their interactions),
 *     those are left uncentred, which is as exact, and enter X'WX by their
 *     nonzero entries only: a design with two 20-level factors and a
 *     numeric x factor term (76 columns)
 *     costs about what its 19 dense columns do.  On the
 *     benchmark design (a model year near 2019, correlated normals, 2e5
 *     rows) the estimates agree with an IRLS solved by SVD to 2e-12
 *     relative; at the default epsilon both stop within about 1e-10 of the
 *     maximum, as R does.  The tests hold R's printed digits.
 *   - Aliasing: the columns are examined in their given order, as LINPACK's
 *     dqrdc2 (R's QR) does.  A column whose residual, after projection on
 *     the earlier accepted columns in the W metric, has a norm below
 *     alias_tol times the column's own (uncentred, weighted) norm is aliased:
 *     its coefficient, standard error, statistic and p-value are NaN, its
 *     covariance row and column are NaN, aliased[j] is 1 and rank counts the
 *     others.  Nothing is dropped silently: the later of two collinear
 *     columns is the one aliased, as in R.  R's glm.fit uses a tolerance of
 *     min(1e-7, epsilon / 1000) = 1e-11 on the QR; the normal equations
 *     cannot resolve residuals that small (rounding alone leaves about 1e-8),
 *     so the default here is 1e-7, lm()'s tolerance.  The two agree except
 *     for columns collinear to within 1e-7 but not 1e-11, whose coefficients
 *     R reports with no meaningful digits anyway.
 *   - Step halving as R: when the deviance is not finite, or eta or mu
 *     leaves its valid range, the step is halved towards the previous
 *     coefficients, up to maxit times per iteration; at the first iteration
 *     there is no previous estimate and the fit fails, as in R.
 *   - Convergence as R: |dev - dev_old| / (|dev| + 0.1) < epsilon, with
 *     dev the (penalised, see lambda) deviance; iterations counts the IRLS
 *     iterations (R's "Number of Fisher Scoring iterations").
 *   - Standard errors come from the factorisation of the last iteration, as
 *     summary.glm's do, so they match R's to rounding.
 *
 * L2 penalty (glm_options.lambda > 0): the fit minimises
 *     deviance / 2 + (lambda / 2) * sum of beta_j^2
 * over the penalised columns (all but column 0 when it is the intercept,
 * unless penalize_first).  The penalty is not scale-invariant: standardise
 * the columns first.  With lambda > 0 the covariance is the inverse of the
 * penalised information (X'WX + lambda I)^-1 times the dispersion, the
 * usual approximate (Bayesian) ridge covariance; deviance and AIC are the
 * unpenalised ones and AIC counts rank, not effective degrees of freedom.
 * lambda = 0 is exactly the unpenalised fit.
 *
 * Determinism and threads: the rows are cut into fixed chunks that depend on
 * n and p only; each chunk's sums are accumulated in row order and the
 * chunks are combined in chunk order.  Results are therefore bit-identical
 * whatever the number of threads (glm_options.threads) and their timing.
 *
 * Ownership: glm_fit() reads the caller's arrays during the call and keeps
 * no pointer to them; it returns a new struct glm_result that owns all its
 * arrays; free it with glm_result_free().  The module has no global state;
 * concurrent fits are safe.  GSL's error handler must be off
 * (gsl_set_error_handler_off(), done by main and the test runner); every GSL
 * status is checked and reported as ENG_ESTAT with gsl_strerror's text.
 */
#ifndef GLM_H
#define GLM_H

#include <stddef.h>

#include "eng.h"

enum glm_family {
    GLM_POISSON = 0,
    GLM_BINOMIAL,
    GLM_GAMMA,
    GLM_GAUSSIAN
};

enum glm_link {
    GLM_LOG = 0,
    GLM_LOGIT,
    GLM_INVERSE,
    GLM_IDENTITY
};

/* The number of threads glm_options.threads is clamped to. */
#define GLM_MAX_THREADS 16

/* Defaults, as R's glm.control() (maxit, epsilon) and lm() (alias_tol). */
#define GLM_DEFAULT_MAXIT 25
#define GLM_DEFAULT_EPSILON 1e-8
#define GLM_DEFAULT_ALIAS_TOL 1e-7

/* Bits of glm_result.warnings: conditions R reports as warnings. */
enum glm_warning {
    GLM_WARN_NOT_CONVERGED = 1u << 0,   /* stopped at maxit */
    GLM_WARN_BOUNDARY = 1u << 1,        /* last iteration halved its step */
    GLM_WARN_FITTED_01 = 1u << 2,       /* binomial: mu within 10 eps of
                                           0 or 1 (separation) */
    GLM_WARN_FITTED_ZERO = 1u << 3,     /* poisson: mu within 10 eps of 0 */
    GLM_WARN_NONINTEGER = 1u << 4,      /* poisson y or binomial w*y not
                                           whole: aic and loglik are
                                           infinite (poisson) as in R */
    GLM_WARN_NULL_NOT_CONVERGED = 1u << 5 /* the intercept-only fit for the
                                             null deviance stopped at maxit */
};

/*
 * The data of a fit; all arrays are borrowed for the duration of the call.
 * x: n * p doubles, row-major; y: n; offset: n or NULL (no offset);
 * weights: n prior weights >= 0, or NULL (all 1).  Rows with weight 0 take
 * no part in the fit or its statistics, except that their eta and mu must
 * stay valid, as in R.
 */
struct glm_data {
    const double *x;
    const double *y;
    const double *offset;
    const double *weights;
    size_t n;
    size_t p;
};

/*
 * Fit options; set them with glm_options_init() and change what you need.
 *   family, link      the model; the pair must be valid (glm_link_valid)
 *   intercept         1: column 0 is the intercept and must be all ones
 *                     (checked).  It decides the null model (as R's
 *                     intercept term), df_null, centring and which column
 *                     the penalty skips.  0: no intercept
 *   maxit             IRLS iterations allowed (R's maxit, default 25)
 *   epsilon           convergence tolerance (R's epsilon, default 1e-8)
 *   alias_tol         aliasing tolerance, in (0, 1) (default 1e-7)
 *   lambda            L2 penalty >= 0 (default 0, none)
 *   penalize_first    1: the penalty applies to column 0 too (default 0)
 *   allow_unconverged 0 (default): stopping at maxit is an ENG_ESTAT error.
 *                     1: the fit is returned with converged = 0 and
 *                     GLM_WARN_NOT_CONVERGED set
 *   allow_separation  0 (default): a binomial fit with fitted
 *                     probabilities numerically 0 or 1 (perfect or
 *                     quasi-complete separation; R warns "fitted
 *                     probabilities numerically 0 or 1 occurred") is an
 *                     ENG_ESTAT error.  1: returned with GLM_WARN_FITTED_01
 *   threads           worker threads for the passes over the rows, >= 1
 *                     (default 1; clamped to GLM_MAX_THREADS).  Results do
 *                     not depend on it
 */
struct glm_options {
    enum glm_family family;
    enum glm_link link;
    int intercept;
    int maxit;
    double epsilon;
    double alias_tol;
    double lambda;
    int penalize_first;
    int allow_unconverged;
    int allow_separation;
    int threads;
};

/*
 * The result of a fit, read-only for callers; free with glm_result_free().
 * Arrays of length p are indexed by design column.  R equivalents in [].
 *
 *   family, link, n, p   as fitted; n counts all rows
 *   n_ok                 rows with nonzero weight (R's n.ok)
 *   intercept            column 0 was the intercept
 *   coef                 estimates; NaN when aliased [coef()]
 *   se                   standard errors, sqrt(dispersion * unscaled
 *                        variance) [summary()$coefficients[, 2]]
 *   stat                 coef / se: z for poisson and binomial, t for gamma
 *                        and gaussian (stat_is_t says which)
 *   pvalue               two-sided: normal for z, Student t on df_residual
 *                        for t (NaN when df_residual is 0)
 *   aliased              1 for aliased columns [is.na(coef())]
 *   cov                  p * p row-major covariance of coef, scaled by the
 *                        dispersion; NaN rows and columns for aliased
 *                        columns [vcov(fit, complete = TRUE)]
 *   rank                 columns not aliased [fit$rank]
 *   deviance             residual deviance, unpenalised [deviance()]
 *   null_deviance        deviance of the intercept-only model with the same
 *                        offset and weights, or, without intercept, of
 *                        mu = linkinv(offset) [null.deviance].  With an
 *                        offset glm() refits that model by IRLS; here the
 *                        closed-form maximum is used where there is one
 *                        (poisson/log, gamma/log, gaussian) and the IRLS
 *                        otherwise
 *   df_residual          n_ok - rank [df.residual]
 *   df_null              n_ok - intercept [df.null]
 *   aic                  as R's family aic() + 2 rank [AIC()], with one
 *                        deliberate difference: rows of weight 0 are left
 *                        out (R's gaussian aic gives Inf when any weight is
 *                        0).  Poisson: -2 sum w log dpois(y, mu) + 2 rank;
 *                        binomial: -2 sum log dbinom(round(w y), round(w),
 *                        mu) + 2 rank; gamma: -2 sum w log dgamma(y, shape
 *                        1/d, scale mu d) + 2 + 2 rank with d = deviance /
 *                        sum(w); gaussian: n_ok (log(2 pi deviance / n_ok)
 *                        + 1) + 2 - sum log w + 2 rank
 *   loglik               rank (+1 for gamma and gaussian) - aic / 2
 *                        [logLik()]
 *   dispersion           the dispersion the standard errors use: 1 for
 *                        poisson and binomial; otherwise summary.glm's
 *                        estimate, sum of working weight * working
 *                        residual^2 over df_residual (NaN if df_residual
 *                        is 0) [summary()$dispersion]
 *   pearson_chi2         sum w (y - mu)^2 / V(mu) at the fitted mu
 *   pearson_dispersion   pearson_chi2 / df_residual, for every family (the
 *                        overdispersion check for poisson); equals
 *                        dispersion to within the last step's change
 *   lambda               the penalty used
 *   iterations           IRLS iterations [fit$iter]
 *   converged            1 if the convergence test was met [fit$converged]
 *   boundary             1 if the last iteration halved its step
 *                        [fit$boundary]
 *   warnings             GLM_WARN_* bits
 *   n_extreme            fitted values numerically 0 or 1 (binomial) or 0
 *                        (poisson): see GLM_WARN_FITTED_*
 *   warning_text         the warnings in words, "" when there are none
 */
struct glm_result {
    enum glm_family family;
    enum glm_link link;
    size_t n;
    size_t p;
    size_t n_ok;
    int intercept;
    double *coef;
    double *se;
    double *stat;
    double *pvalue;
    unsigned char *aliased;
    double *cov;
    int stat_is_t;
    size_t rank;
    double deviance;
    double null_deviance;
    long df_residual;
    long df_null;
    double aic;
    double loglik;
    double dispersion;
    double pearson_chi2;
    double pearson_dispersion;
    double lambda;
    int iterations;
    int converged;
    int boundary;
    unsigned warnings;
    size_t n_extreme;
    char warning_text[ENG_ERR_LEN];
};

/* "poisson", "binomial", "gamma", "gaussian"; "?" if out of range. */
const char *glm_family_name(enum glm_family family);

/* "log", "logit", "inverse", "identity"; "?" if out of range. */
const char *glm_link_name(enum glm_link link);

/*
 * Parses a family name, case-insensitively (so R's "Gamma" is accepted).
 * Returns ENG_OK and sets *out, or ENG_EUSAGE with *out unchanged.
 */
int glm_family_parse(const char *s, enum glm_family *out,
                     struct eng_err *err);

/* The same for a link name. */
int glm_link_parse(const char *s, enum glm_link *out, struct eng_err *err);

/* The family's default link (gamma: log, see above); cannot fail. */
enum glm_link glm_default_link(enum glm_family family);

/* 1 if the pair is supported, else 0; cannot fail. */
int glm_link_valid(enum glm_family family, enum glm_link link);

/* Fills opts with the defaults above and family's default link. */
void glm_options_init(struct glm_options *opts, enum glm_family family);

/*
 * Fits the model.  Returns a new result (free with glm_result_free()), or
 * NULL with err set:
 *   ENG_EUSAGE  bad options (invalid family/link pair, maxit < 1, epsilon
 *               <= 0, alias_tol outside (0, 1), lambda < 0, threads < 1)
 *               or NULL data, x, y or opts pointers
 *   ENG_EDATA   p = 0; fewer rows of nonzero weight than columns; a value
 *               of x, y, offset or weights that is not finite; a negative
 *               weight; y outside the family's range (poisson y >= 0,
 *               binomial 0 <= y <= 1 where the weight is nonzero, gamma
 *               y > 0); a column 0 that is not all ones when intercept is
 *               set.  The message names the row and column
 *   ENG_ESTAT   the IRLS failed: no valid coefficients at the first
 *               iteration, a step that halving cannot correct, non-finite
 *               coefficients, a factorisation GSL rejects, no informative
 *               row; or, unless allowed by the options, no convergence in
 *               maxit iterations ("glm did not converge in 25 iterations
 *               (relative deviance change 3.2e-02)") or binomial
 *               separation
 *   ENG_ENOMEM  allocation failed
 */
struct glm_result *glm_fit(const struct glm_data *data,
                           const struct glm_options *opts,
                           struct eng_err *err);

/* Frees a result and its arrays; NULL does nothing. */
void glm_result_free(struct glm_result *res);

/*
 * The linear predictor sum_j coef[j] x[j] of one row, without offset.  NaN
 * (aliased) coefficients count as 0, as R's predict() uses only the
 * estimable columns.  Cannot fail.
 */
double glm_predict_eta(const double *coef, const double *x, size_t p);

/*
 * The inverse link, with R's guards: log gives max(exp(eta), DBL_EPSILON);
 * logit is clamped for |eta| > 30.  Cannot fail.
 */
double glm_linkinv(enum glm_link link, double eta);

/* The link function g(mu); NaN or infinite outside its domain. */
double glm_linkfun(enum glm_link link, double mu);

/*
 * The deviance sum_i of the family's deviance residuals (R's
 * sum(family$dev.resids(y, mu, w))); w NULL means all 1.  Cannot fail:
 * values outside the family's domain give NaN or infinity.
 */
double glm_deviance(enum glm_family family, const double *y,
                    const double *mu, const double *w, size_t n);

/*
 * scikit-learn's mean_poisson_deviance: (2 / n) sum (y log(y / yhat) - y +
 * yhat), with y log y = 0 at y = 0.  Needs y >= 0 and yhat > 0; returns NaN
 * for n = 0 or values outside that domain.  Cannot fail.
 */
double glm_mean_poisson_deviance(const double *y, const double *yhat,
                                 size_t n);

#endif
