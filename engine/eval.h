/*
 * eval — validation statistics of a claim-frequency model, as actuaries read
 * them (README.md, The model; models/README.md): Gini of the ordered Lorenz
 * curve beside the oracle Gini, an
 * equal-exposure lift table, actual / expected by band and by subgroup,
 * and the mean Poisson deviance.
 *
 * Everything here is a pure function of the arrays passed in: no global
 * state, no file I/O except eval_print_text() writing to the caller's
 * stream, so any number of threads may call it.  Inputs are never changed.
 * The caller owns every struct; the only heap result is eval_to_json()'s
 * string, which the caller releases with free().
 *
 * Units.  y, pred and truth are claim counts over the row's exposure (pred
 * and truth already include the exposure); exposure is in years.  The
 * "frequency" of a row or of a group of rows is count / exposure.
 *
 * Definitions, as implemented:
 *
 *   Gini (Frees, Meyers & Cummings, ordered Lorenz curve).  Each row has a
 *   base premium P_i = exposure_i (a flat rate), a loss L_i = y_i and a
 *   relativity R_i = score_i / exposure_i (the predicted frequency).  Rows
 *   are sorted by R ascending; the curve joins (0, 0) to the points
 *   (cumulative P / total P, cumulative L / total L) and ends at (1, 1).
 *   Rows with equal R form one group, that is one straight segment, so the
 *   result does not depend on how ties are ordered.  Gini = 1 - 2 x (area
 *   under the curve) by the trapezoid rule.  A score that ranks risks well
 *   puts low losses first and gives a high Gini; a constant score gives
 *   exactly 0; reversing a score's order negates its Gini.  The Gini is NAN
 *   when the total loss is 0 (the curve is undefined).  The oracle Gini is
 *   the same with the true expected count as the score: the best a model
 *   could do on this sample.
 *
 *   Lift.  Rows sorted by predicted frequency ascending are cut into
 *   n_buckets groups of equal exposure: a row goes to the bucket that
 *   contains the midpoint of its cumulative-exposure interval, i.e. bucket
 *   floor(k x (E_before + e_i / 2) / E_total) for k buckets (the last one
 *   when rounding reaches k).  Every row lies in exactly one bucket, so the
 *   buckets partition the rows, their exposure and their counts; a row
 *   larger than a bucket can leave a neighbouring bucket empty.
 *
 *   Bands.  Rows with band letter 'A'..'E' are summed per letter; band 0
 *   means "no band" and such rows are left out of the band table only.
 *
 *   Per bucket or band: actual_freq = actual / exposure, predicted_freq =
 *   predicted / exposure and ae = actual / predicted; all three are NAN for
 *   an empty group.
 *
 *   Mean Poisson deviance (as scikit-learn's mean_poisson_deviance):
 *   (1/n) sum 2 (y log(y / mu) - y + mu), with y log(y / mu) = 0 when
 *   y = 0; every mu must be > 0.
 *
 *   Subgroups (eval_subgroups).  Rows are grouped by the keys they carry:
 *   history from new / mid-life, each powertrain (and "unknown" when some
 *   rows know theirs), high / normal mileage.  A dimension no row knows
 *   gives no groups.  Per group: rows, exposure, actual, predicted, A/E,
 *   Gini and oracle Gini of the group's rows alone, and their ratio; a
 *   group with fewer than min_rows rows is marked small and its A/E and
 *   Ginis are NAN (noise, not figures).
 *
 * Ties and order.  eval_compute() and eval_gini() sort on the relativity
 * and then on every other field of a row, so a permutation of the input
 * rows gives a bit-for-bit identical result.  Relativities tie only when
 * exactly equal: (rate x exposure) / exposure may come back one unit in
 * the last place away from rate, and such rows are ordered, not grouped.
 *
 * Errors.  Data errors return ENG_EDATA with the row number (counted from
 * 1) in err->msg; out-params are left unchanged on any failure.
 */
#ifndef EVAL_H
#define EVAL_H

#include <stddef.h>
#include <stdio.h>

#include "eng.h"

#define EVAL_DEFAULT_BUCKETS 10
#define EVAL_MAX_BUCKETS 100
#define EVAL_N_BANDS 5  /* 'A'..'E' */
#define EVAL_MIN_GROUP 2000     /* default smallest subgroup reported */

/* Subgroup keys of a row; 0 always means "not known". */
enum eval_history { EVAL_HIST_UNKNOWN, EVAL_HIST_NEW, EVAL_HIST_MIDLIFE };
enum eval_ptrain {
    EVAL_PT_UNKNOWN, EVAL_PT_ICE, EVAL_PT_HEV, EVAL_PT_PHEV, EVAL_PT_BEV
};
enum eval_mileage { EVAL_KM_UNKNOWN, EVAL_KM_NORMAL, EVAL_KM_HIGH };

/* The subgroups, in report order. */
enum eval_group_id {
    EVAL_G_NEW, EVAL_G_MIDLIFE, EVAL_G_ICE, EVAL_G_HEV, EVAL_G_PHEV,
    EVAL_G_BEV, EVAL_G_PT_UNKNOWN, EVAL_G_HIGH_KM, EVAL_G_NORMAL_KM,
    EVAL_N_GROUPS
};

/* One scored row.  All fields are read only. */
struct eval_row {
    double y;         /* observed claim count, >= 0 */
    double exposure;  /* years, > 0 */
    double pred;      /* model's expected count for the row, > 0 */
    double truth;     /* true expected count (>= 0), or NAN when unknown */
    char band;        /* 'A'..'E', or 0 when the row has no band */
    unsigned char history;  /* enum eval_history */
    unsigned char ptrain;   /* enum eval_ptrain */
    unsigned char mileage;  /* enum eval_mileage */
};

/* One subgroup's figures (see Subgroups above). */
struct eval_group {
    const char *name;       /* static text, e.g. "history mid-life" */
    size_t n;               /* rows; 0: the group is not reported */
    int small;              /* n below the minimum: figures are NAN */
    double exposure;
    double actual;
    double predicted;
    double ae;
    double gini;
    double gini_oracle;
    double gini_ratio;
};

/* Sums over a group of rows (a lift bucket or a band). */
struct eval_bucket {
    size_t n;               /* rows */
    double exposure;        /* years */
    double actual;          /* sum of y */
    double predicted;       /* sum of pred */
    double actual_freq;     /* actual / exposure; NAN when empty */
    double predicted_freq;  /* predicted / exposure; NAN when empty */
    double ae;              /* actual / predicted; NAN when empty */
};

/*
 * The whole validation; plain data, every field may be read.  lift[i] for
 * i >= n_buckets is zero.  bands[0] is band 'A', bands[4] band 'E'.
 */
struct eval_report {
    size_t n;                      /* rows */
    double exposure;               /* total years */
    double actual;                 /* total observed count */
    double predicted;              /* total predicted count */
    double ae;                     /* actual / predicted */
    double gini;                   /* model Gini; NAN when actual is 0 */
    double gini_oracle;            /* Gini of truth; NAN without truth */
    double gini_ratio;             /* gini / gini_oracle; NAN when either
                                      is NAN or the oracle is 0 */
    double mean_poisson_deviance;  /* of y against pred */
    size_t n_buckets;
    struct eval_bucket lift[EVAL_MAX_BUCKETS];
    struct eval_bucket bands[EVAL_N_BANDS];
    size_t min_group;              /* 0: no subgroups computed */
    struct eval_group groups[EVAL_N_GROUPS];
};

/*
 * Computes the report for n rows with n_buckets lift buckets (0 means
 * EVAL_DEFAULT_BUCKETS).  Either every row has a truth or none has (all
 * NAN, giving a NAN oracle Gini).
 *
 * Returns ENG_OK and fills *out, or, with *out unchanged:
 *   ENG_EDATA  n is 0; a value is not finite (truth may be NAN, not
 *              infinite); y < 0; exposure <= 0; pred <= 0; truth < 0;
 *              truth given on some rows only; a band other than 0 or
 *              'A'..'E' — the message names the first bad row;
 *   ENG_EUSAGE n_buckets above EVAL_MAX_BUCKETS;
 *   ENG_ENOMEM no memory for the sort keys (one per row).
 */
int eval_compute(const struct eval_row *rows, size_t n, size_t n_buckets,
                 struct eval_report *out, struct eng_err *err);

/*
 * Fills r->groups and r->min_group from the same rows r was computed on
 * (eval_compute() leaves them empty); min_rows 0 means EVAL_MIN_GROUP.
 * Returns ENG_OK, or ENG_EDATA (a key out of range, the row named) or
 * ENG_ENOMEM, with *r unchanged.
 */
int eval_subgroups(const struct eval_row *rows, size_t n, size_t min_rows,
                   struct eval_report *r, struct eng_err *err);

/*
 * The ordered-Lorenz Gini (definition above) of losses y with base premium
 * exposure, ordered by score / exposure.  y must be finite and >= 0,
 * exposure finite and > 0, score finite (any sign).
 *
 * Returns ENG_OK and sets *gini (NAN when the sum of y is 0), or ENG_EDATA
 * (n is 0 or a bad value; the row is named) or ENG_ENOMEM, with *gini
 * unchanged.
 */
int eval_gini(const double *y, const double *exposure, const double *score,
              size_t n, double *gini, struct eng_err *err);

/*
 * The mean Poisson deviance of counts y against means mu (definition
 * above).  Returns ENG_OK and sets *dev, or ENG_EDATA with *dev unchanged
 * when n is 0, a value is not finite, a y is < 0 or a mu is <= 0.
 */
int eval_mean_poisson_deviance(const double *y, const double *mu, size_t n,
                               double *dev, struct eng_err *err);

/*
 * Writes the report to f as aligned plain-text tables (totals, Gini, lift,
 * then the bands that hold rows); NAN shows as "-".  Lines fit in 80
 * columns while the figures fit their columns.  Subgroups follow when
 * computed, a small one as "fewer than N rows".  Returns ENG_OK, or ENG_EIO
 * when writing or flushing f fails (part of the text may have been
 * written).  Does not close f.
 */
int eval_print_text(const struct eval_report *r, FILE *f,
                    struct eng_err *err);

/*
 * Returns the report as a new NUL-terminated JSON text, to be released
 * with free(), or NULL with ENG_ENOMEM.  Shape: an object with the totals
 * and Gini fields of struct eval_report under the same names, "n_buckets",
 * "lift": [one object per bucket with "bucket" (from 1) and the fields of
 * struct eval_bucket] and "bands": [five objects, "band": "A".."E", same
 * fields] and, when computed, "min_group" and "subgroups": [one object
 * per reported group: "group", "n", "small" (true/false), "exposure",
 * "actual", "predicted", "ae", "gini", "gini_oracle", "gini_ratio"].
 * NAN values are written as null.
 */
char *eval_to_json(const struct eval_report *r, struct eng_err *err);

#endif
