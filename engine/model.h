/*
 * model — fitted model files (SPEC §4.3): load, save, and score a vehicle.
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
 * Reads and validates a model file.  Returns a new model (free with
 * model_free()) or NULL with ENG_EIO (unreadable), ENG_ELIMIT (larger
 * than 16 MiB), ENG_EJSON (not JSON), ENG_EDATA (wrong format version, a
 * missing or mistyped field, a coefficient or transform value that is not
 * finite, an unknown feature; the message names the field) or ENG_ENOMEM.
 * The fit statistics and provenance are optional: read when present.
 */
struct model *model_load(const char *path, struct eng_err *err);

/* Frees the model; NULL does nothing. */
void model_free(struct model *m);

/* The model's id ("m-" and 16 hex digits of its content hash); borrowed. */
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
 * content first.  Returns ENG_OK, or ENG_EIO / ENG_ENOMEM.
 */
int model_save(struct model *m, const char *path, struct eng_err *err);

#endif
