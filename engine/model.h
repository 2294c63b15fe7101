/*
 * model — fitted model files (README.md, Outputs: Model file): load, save,
 * and score a vehicle.
 *
 * A model turns one vehicle's features into a linear predictor eta, an
 * expected claim frequency relative to the training portfolio's mean (the
 * relativity), a score (600 - factor * ln(relativity), rounded, clamped), a
 * band (A best .. E) and up to MODEL_MAX_REASONS reasons.  Everything
 * needed to do so is in the file: the transforms of each input (missing
 * indicator and imputation, caps, log, centring and scaling, one-hot levels),
 * the coefficients, the portfolio baseline of each input's contribution, the
 * reason table, the score scaling and band cut points.  Scoring is a pure
 * function of (model, features): deterministic and thread-safe.
 *
 * Reasons ("points below" the baseline, as PMML scorecards rank them): each
 * input's contribution to eta minus its mean contribution over the training
 * portfolio, in score points (factor * difference).  Inputs that push the
 * score down by more than MODEL_REASON_MIN_POINTS are reported, largest
 * first, each with its stable code and the vehicle's own value in the text.
 *
 * A struct model is read-only after loading: free with model_free().
 * struct model_result is a value type the caller owns.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>

#include "eng.h"

struct feat_vec;
struct model;

#define MODEL_MAX_REASONS 4
#define MODEL_REASON_MIN_POINTS 0.5
#define MODEL_REASON_LEN 128

struct model_reason {
    char text[MODEL_REASON_LEN];   /* "R03 longest gap between ... 540 days" */
    double points;                 /* score points below the baseline */
};

struct model_result {
    double eta;                    /* linear predictor, per year of exposure */
    double relativity;             /* exp(eta) / portfolio mean frequency */
    int score;                     /* 1 .. 999 */
    char band;                     /* 'A' .. 'E' */
    int n_reasons;
    struct model_reason reasons[MODEL_MAX_REASONS];
};

/*
 * The vehicle's own rating factors (README.md, The model: own factors):
 * value(ud, name) gives the text of the vehicle's column name, or NULL
 * when it has none.
 */
struct model_factors {
    const char *(*value)(const void *ud, const char *name);
    const void *ud;
};

/*
 * As model_score() with own factors (fx may be NULL).  *unseen (may be
 * NULL) is increased by the number of categorical inputs whose level the
 * training never saw: they are scored at their base level.  Own factors
 * and interactions give no reasons.
 */
void model_score_with(const struct model *m, const struct feat_vec *f,
                      const char *make, const struct model_factors *fx,
                      struct model_result *out, int *unseen);

/* 1 if the model has own rating factors (needs a model_factors). */
int model_has_own(const struct model *m);

/*
 * Reads and validates a model file.  Returns a new model (free with
 * model_free()) or NULL with ENG_EIO (unreadable), ENG_ELIMIT (larger
 * than 16 MiB), ENG_EJSON (not JSON) or ENG_ENOMEM, or ENG_EDATA with a
 * one-line message that names the field's path ("inputs[2].transform.scale"):
 * a missing or mistyped field, another format version, an unknown family,
 * link or feature, a value out of its range (score.min and score.max in
 * 1..999 with min < max, score.center between them, score.factor > 0,
 * band cut points strictly decreasing from A to D within score.min + 1 ..
 * score.max, coefficients and transform values finite, standard errors
 * finite and >= 0 or null, scales > 0, cap_lo <= cap_hi, 1 to
 * MODEL_MAX_INPUTS inputs with distinct names, make levels distinct and
 * not the base, reason codes distinct and texts with at most one %s), or
 * a model_id that is not the id of the content (the file was edited after
 * it was saved).  The fit statistics and provenance are optional: read
 * when present.
 */
struct model *model_load(const char *path, struct eng_err *err);

/* Frees the model; NULL does nothing. */
void model_free(struct model *m);

/*
 * The model's id: "m-" and the first 16 hex digits of the SHA-256 of its
 * canonical text (what decides scores, bands and reasons; not the
 * standard errors, fit statistics or provenance: see models/README.md).
 * Borrowed, valid until model_free().
 */
const char *model_id(const struct model *m);

/*
 * Scores one vehicle.  make may be NULL (unknown).  Cannot fail: missing
 * features take the model's imputation.
 */
void model_score(const struct model *m, const struct feat_vec *f,
                 const char *make, struct model_result *out);

/* The linear predictor alone (eta), as model_score() computes it. */
double model_eta(const struct model *m, const struct feat_vec *f,
                 const char *make);

/*
 * Where value x of feature feat (a feat id) falls in the training
 * portfolio, 0..100 (mid-rank over the stored 1st..99th percentiles of
 * the model input on that feature).  NAN when x is NAN or the model holds
 * no percentiles for it (not an input, or a file made before train stored
 * them).  Cannot fail.
 */
double model_percentile(const struct model *m, int feat, double x);

/* The training portfolio's mean claim frequency (per year); > 0. */
double model_mean_frequency(const struct model *m);

/* The score for a relativity under m's scaling (rounded and clamped). */
int model_score_of(const struct model *m, double relativity);

/*
 * Writes the model as JSON to path, atomically; the id is computed from the
 * content first (and set in m).  Returns ENG_OK, or ENG_EIO / ENG_ENOMEM.
 */
int model_save(struct model *m, const char *path, struct eng_err *err);

#endif
