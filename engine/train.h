/*
 * train — fit a model file from a features CSV and claims labels.
 *
 * train_run() joins the features (README.md, Outputs: Features CSV; rows
 * with status ok) with the labels (README.md, Inputs: Claims labels) on
 * vin, splits off a holdout share by a hash of
 * (vin, seed), learns each input's transform on the training rows, builds
 * the design matrix, fits the GLM (glm_fit) and fills a struct model ready
 * for model_save(): coefficients, transforms, reason table, portfolio
 * baseline of every input's contribution, portfolio mean frequency and band
 * cut points (training score quintiles: A is the best fifth).
 *
 * Transforms ("standard", learned on training rows only): a missing
 * indicator when at least TRAIN_MIN_MISSING training values are missing,
 * imputation by the median;
 * caps at the 1st and 99th percentiles (columns with more than two distinct
 * values); when the capped values are non-negative and their skewness is
 * above TRAIN_SKEW_LOG, ln (all positive) or ln(1 + x); centring on the
 * mean and scaling by the standard deviation.  "none": the columns enter
 * as they are, rows with a missing value are left out (counted), as R's
 * na.omit would, so results compare one to one with other GLM tools.
 *
 * Columns: catalogue features, "make", own rating factors (any other
 * column of the features CSV, else of cfg->factors_path joined by vin or
 * policy_id: numeric when every value is a number, else categorical with
 * the base from cfg->bases or the most frequent training level), and
 * "a:b" interactions of two of them, after the main effects, as R's model
 * matrix builds them.  cfg->signs: a fit whose estimate of a named input
 * breaks its sign is refitted without it (out->sign_dropped says so).
 * cfg->design_out: the design matrix, response, weight and offset as CSV.
 *
 * Families: poisson (claim_count with offset ln(exposure_years)), gamma
 * (claim_amount / claim_count, weighted by claim_count, rows with claims
 * only), binomial (1 if claim_count > 0, offset ln(exposure)), gaussian
 * (claim_count / exposure_years, weighted by exposure).
 *
 * The output owns everything in it: train_output_release().
 */
#ifndef TRAIN_H
#define TRAIN_H

#include <stddef.h>

#include "eng.h"

struct model;
struct glm_result;

#define TRAIN_SKEW_LOG 1.0
#define TRAIN_MIN_MISSING 50
#define TRAIN_MAX_COLUMNS 64
#define TRAIN_MAX_CATEGORICAL 8

struct train_config {
    const char *features_path;
    const char *labels_path;
    const char *const *columns;    /* feature names, "make" allowed */
    size_t n_columns;
    int family;                    /* enum glm_family */
    int link;                      /* enum glm_link */
    int transform;                 /* 1 standard, 0 none */
    double holdout;                /* share held out, 0 .. 0.9 */
    unsigned long seed;
    double lambda;                 /* L2 penalty, 0 = none */
    int jobs;
    const char *factors_path;      /* own factors by vin or policy_id,
                                      or NULL */
    const char *const *bases;      /* "col=level": base levels */
    size_t n_bases;
    const char *const *signs;      /* "col=+" or "col=-": sign kept */
    size_t n_signs;
    const char *design_out;        /* design matrix CSV, or NULL */
    const char *command;           /* recorded in the model's provenance */
    const char *trained_at;        /* likewise, ISO-8601 */
};

/* One held-out (or training) row, for evaluation. */
struct train_row {
    double y, exposure, pred;      /* claims, years, expected claims */
};

struct train_output {
    struct model *model;           /* fitted; owned */
    struct glm_result *fit;        /* the GLM result; owned */
    char **col_names;              /* design column names (fit->p) */
    size_t n_train, n_test;
    size_t skipped_status;         /* feature rows not ok */
    size_t skipped_label;          /* feature rows without a label */
    size_t skipped_missing;        /* transform none: rows with a NaN */
    size_t skipped_family;         /* gamma: rows without claims */
    size_t unseen_test;            /* held-out rows with a level never
                                      seen in training (scored at base) */
    double resid_q[5];             /* deviance residuals: min, 1Q, median,
                                      3Q, max (as summary.glm) */
    char sign_dropped[512];        /* inputs refitted away by --sign:
                                      "name (estimate -0.12, wanted +)" */
    struct train_row *test;        /* n_test held-out rows */
    char *test_vins;               /* n_test VINs, 18 bytes each */
};

/*
 * Runs the training.  Returns ENG_OK with out filled, or: ENG_EIO /
 * ENG_ECSV (files), ENG_EDATA (a named column missing from the features, a
 * bad label value with its line, no training rows), ENG_EUSAGE (too many
 * columns, bad family), ENG_ESTAT (the GLM failed: its message) or
 * ENG_ENOMEM; out is then empty.
 */
int train_run(const struct train_config *cfg, struct train_output *out,
              struct eng_err *err);

void train_output_release(struct train_output *out);

/* The default columns of the shipped model (NULL-terminated). */
extern const char *const train_default_columns[];

/* Is vin in the holdout share for this seed?  Deterministic; cannot fail. */
int train_is_holdout(const char *vin, unsigned long seed, double share);

#endif
