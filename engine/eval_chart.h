/*
 * eval_chart — the figures behind the validation report's charts (vreport),
 * beside eval.h's statistics: the ordered Lorenz curve as points, the
 * double lift of two models, the one-way actual / expected by the bins of
 * an input, and a seeded bootstrap interval on the Gini.
 *
 * Definitions, as implemented (eval.h gives the Gini and the lift):
 *
 *   Lorenz points.  The ordered Lorenz curve of eval.h (rows by predicted
 *   frequency score / exposure ascending; x = cumulative exposure share,
 *   y = cumulative loss share), sampled at up to max points: (0, 0), the
 *   first point whose x reaches each k / (max - 1), and (1, 1).
 *
 *   Double lift.  Each row's ratio is (pred_a / mean pred_a) / (pred_b /
 *   mean pred_b), the means being exposure-weighted frequencies; rows are
 *   sorted by the ratio ascending and cut into k buckets of equal exposure
 *   (the midpoint rule of eval.h).  Per bucket: the actual frequency and
 *   each model's predicted frequency, each divided by its own overall
 *   frequency (1 = average).  Where the ratio is low model A predicts less
 *   than B; the model whose line follows the actual one is the better.
 *
 *   One-way bins.  The finite values of an input are cut at its quantiles
 *   (k equal-count bins, cut points that repeat merged); rows whose value
 *   is NAN form a last "missing" bin.  Per bin: rows, exposure, actual,
 *   predicted, ae = actual / predicted (NAN when predicted is 0).
 *
 *   Bootstrap.  reps resamples of n rows drawn with replacement (splitmix64
 *   seeded with seed: the same seed gives the same interval); the Gini of
 *   each, and with a second model its Gini and the difference A - B on
 *   the same resample.  The interval is the 2.5th and 97.5th percentiles
 *   (linear between order statistics).  Resamples without any loss are
 *   skipped (their Gini is undefined).
 *
 * Pure functions of their inputs; the caller owns every array.  Errors:
 * ENG_EDATA (n is 0, or eval.h's row checks fail), ENG_ENOMEM; out-params
 * unchanged on failure.
 */
#ifndef EVAL_CHART_H
#define EVAL_CHART_H

#include <stddef.h>

#include "eng.h"
#include "eval.h"

#define EVALC_MAX_POINTS 201
#define EVALC_MAX_BINS 12

struct evalc_point {
    double x, y;
};

/*
 * The Lorenz points of losses y, base exposure e ordered by score / e
 * (definition above); max 2..EVALC_MAX_POINTS.  Sets *np.
 */
int evalc_lorenz(const double *y, const double *e, const double *score,
                 size_t n, size_t max, struct evalc_point *pts, size_t *np,
                 struct eng_err *err);

struct evalc_dl_bucket {
    size_t n;
    double exposure;
    double ratio_lo, ratio_hi;   /* the bucket's range of ratios */
    double actual, pred_a, pred_b; /* relative to their overall level */
};

/* The double lift of rows[].pred (model A) against pred_b, k buckets. */
int evalc_double_lift(const struct eval_row *rows, const double *pred_b,
                      size_t n, size_t k, struct evalc_dl_bucket *out,
                      struct eng_err *err);

struct evalc_bin {
    char label[48];              /* "0 to 30", ">30 to 90", "missing" */
    double lo, hi;               /* value range; NAN for missing */
    size_t n;
    double exposure, actual, predicted, ae;
};

/*
 * One-way bins of input x over rows (definition above), k 1 ..
 * EVALC_MAX_BINS - 1 value bins; sets *nb.
 */
int evalc_oneway(const double *x, const struct eval_row *rows, size_t n,
                 size_t k, struct evalc_bin *bins, size_t *nb,
                 struct eng_err *err);

struct evalc_ci {
    double lo, hi;               /* NAN when no resample had a loss */
    size_t reps;                 /* resamples used */
};

/*
 * Bootstrap intervals (definition above) of the Gini of rows[].pred, and,
 * when pred_b is not NULL, of pred_b's Gini and of the difference (b and
 * diff are then filled).  reps >= 1.
 */
int evalc_bootstrap_gini(const struct eval_row *rows, const double *pred_b,
                         size_t n, size_t reps, unsigned long long seed,
                         struct evalc_ci *a, struct evalc_ci *b,
                         struct evalc_ci *diff, struct eng_err *err);

#endif
