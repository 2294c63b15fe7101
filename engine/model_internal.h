/*
 * model_internal — the layout of struct model, shared by model.c (files,
 * scoring) and train.c (which builds models).  Besides them cmd_train.c
 * includes it, and the tests that build models by hand (test_model.c,
 * test_train.c, test_score.c); every other user goes through model.h.
 *
 * An input is one feature column of the features CSV (or the make, a
 * categorical input).  A numeric input's value x goes through, in order:
 *   missing -> impute (and the missing indicator is 1, when the input has
 *   one); clamp to [cap_lo, cap_hi]; ln or ln(1 + x) as use_log says;
 *   (x - center) / scale.  Its contribution to eta is beta * z +
 *   beta_missing * indicator.
 * A categorical input contributes beta_level[k] for its level k, 0 for the
 * base level and for levels not seen in training.  An aliased coefficient
 * is stored as NaN and contributes 0.
 */
#ifndef MODEL_INTERNAL_H
#define MODEL_INTERNAL_H

#include "model.h"

#define MODEL_FORMAT 1
#define MODEL_ID_LEN 24                /* "m-" + 16 hex digits + NUL */
#define MODEL_MAX_INPUTS 64
#define MODEL_SCORE_LO 1               /* score.min and score.max lie in */
#define MODEL_SCORE_HI 999             /* MODEL_SCORE_LO .. MODEL_SCORE_HI */
#define MODEL_INPUT_MAKE (-2)
#define MODEL_INPUT_OWN (-3)           /* an own rating factor */
#define MODEL_INPUT_INTERACTION (-4)   /* a:b of two earlier inputs */
#define MODEL_MAX_LEVELS 64
#define MODEL_N_BINS 10                /* rating-table bins, at deciles */
#define MODEL_NAME_LEN 48
#define MODEL_LEVEL_LEN 32
#define MODEL_TEXT_LEN 96
#define MODEL_N_QUANTILES 99         /* the 1st .. 99th percentiles */

enum model_value_kind {
    MODEL_VALUE_NUMBER,     /* printed with up to 3 significant decimals */
    MODEL_VALUE_COUNT,      /* whole number */
    MODEL_VALUE_SHARE,      /* printed as a percentage */
    MODEL_VALUE_YESNO       /* 1 = "yes", 0 = "no" */
};

enum model_log {
    MODEL_LOG_NONE = 0,
    MODEL_LOG1P,                     /* ln(1 + x), for x >= 0 */
    MODEL_LOG                        /* ln(x), for x > 0 */
};

struct model_input {
    char name[MODEL_NAME_LEN];
    int feat;                        /* feat id, or MODEL_INPUT_MAKE */
    int use_log;                     /* enum model_log */
    double cap_lo, cap_hi;           /* -inf/+inf when not capped */
    double impute;
    double center, scale;
    int has_missing;
    double beta, se;
    double beta_missing, se_missing;
    size_t n_levels;                 /* categorical: non-base levels */
    char base_level[MODEL_LEVEL_LEN];
    char levels[MODEL_MAX_LEVELS][MODEL_LEVEL_LEN];
    double beta_level[MODEL_MAX_LEVELS];
    double se_level[MODEL_MAX_LEVELS];
    /*
     * Categorical inputs (the make, own text factors): categorical is 1;
     * the training exposure of the base level and of each level.  Own
     * inputs (MODEL_INPUT_OWN) have no reason and no feature id.
     * Interactions (MODEL_INPUT_INTERACTION): ia < ib are the operands'
     * input indices (main effects, earlier in the list); numeric x numeric
     * has beta; numeric x categorical one coefficient per non-base level
     * of the categorical operand (beta_level[k]); categorical x
     * categorical one per pair of non-base levels, the first operand's
     * level varying fastest (beta_level[kb * na + ka]), as R's model
     * matrix orders them.  levels[] then hold the terms' names.
     */
    int categorical;
    double base_exposure;
    double level_exposure[MODEL_MAX_LEVELS];
    int ia, ib;
    /*
     * Numeric inputs: rating-table bins, the raw values' deciles (n_bins
     * - 1 inner edges) and the training exposure in each bin.
     */
    int n_bins;                      /* 0 (none) or MODEL_N_BINS */
    double bin_edges[MODEL_N_BINS - 1];
    double bin_exposure[MODEL_N_BINS];
    double baseline;                 /* mean contribution in training */
    char code[8];                    /* reason code, e.g. "R03" */
    char text[MODEL_TEXT_LEN];       /* reason text, "%s" = the value */
    char missing_text[MODEL_TEXT_LEN]; /* reason text when missing */
    int value_kind;                  /* enum model_value_kind */
    int shown;                       /* feat id whose value the text shows */
    /*
     * The training portfolio's benchmarks, when has_benchmark (a model
     * file made before they existed has none): the median of the input's
     * own values, the typical value of the shown feature (the same median,
     * or for a *_logit input the share it stands for), and the 1st..99th
     * percentiles of the input's values.  Missing and not-applicable
     * values are left out of all three.
     */
    int has_benchmark;
    double median;
    double typical;
    int n_quantiles;                 /* 0 or MODEL_N_QUANTILES */
    double quantiles[MODEL_N_QUANTILES];
};

struct model_fit {
    size_t n;                        /* training rows */
    double deviance, null_deviance;
    long df_residual, df_null;
    double aic, loglik, dispersion, pearson_dispersion;
    int iterations, converged;
};

struct model {
    char id[MODEL_ID_LEN];
    int family, link;                /* enum glm_family, enum glm_link */
    int transform;                   /* 1 = standard transforms, 0 = none */
    double intercept, intercept_se;
    size_t n_inputs;
    struct model_input *inputs;
    double log_mean_rate;            /* ln of the portfolio mean frequency */
    double mean_frequency;           /* as read from a file; 0 = not read */
    double score_center;             /* 600 */
    double score_factor;             /* PDO / ln 2 = 72.1348 for PDO 50 */
    int score_min, score_max;
    double band_cuts[4];             /* A >= cuts[0] > B >= cuts[1] ... */
    struct model_fit fit;
    char trained_at[32];
    char command[512];
    char data_fingerprint[24];
};

struct buf;

/*
 * Appends the model's canonical text to out: the part of the model that
 * decides scores, bands and reasons, one "path=value" line per field, as
 * models/README.md gives the rule.  Returns ENG_OK, or ENG_ENOMEM /
 * ENG_ELIMIT with out unchanged.
 */
int model_canonical(const struct model *m, struct buf *out,
                    struct eng_err *err);

/*
 * Writes the model's content id to id: "m-" and the first 16 hex digits
 * of the SHA-256 of its canonical text.  The id field of m is not read.
 * Returns ENG_OK, or ENG_ENOMEM with id unchanged.
 */
int model_compute_id(const struct model *m, char id[MODEL_ID_LEN],
                     struct eng_err *err);

/* A numeric input's value after its transform (missing -> imputed). */
double model_transform(const struct model_input *in, double x);

/*
 * The contribution of one input to eta for a vehicle (see above).  A
 * feature that does not apply to the vehicle (feat_applies(): a BEV's oil,
 * the first service of a history that starts mid-life) contributes 0 from
 * both its value and its missing indicator: the vehicle sits at the
 * portfolio's centre for it, neither rewarded nor charged the missing-data
 * penalty.
 */
double model_input_contribution(const struct model_input *in,
                                const struct feat_vec *f, const char *make);

/*
 * The contribution of input i of m, own factors and interactions
 * included (fx may be NULL: no own factors known).  *unseen, when not
 * NULL, is set to 1 if the vehicle's level of a categorical input was not
 * seen in training (it is scored at the base).
 */
double model_contribution(const struct model *m, size_t i,
                          const struct feat_vec *f, const char *make,
                          const struct model_factors *fx, int *unseen);

/* An input's raw value for the vehicle (NaN: missing), numeric inputs. */
double model_raw_value(const struct model_input *in,
                       const struct feat_vec *f,
                       const struct model_factors *fx);

/* The level index of a categorical input, -1 at the base. */
int model_level(const struct model_input *in, const char *make,
                const struct model_factors *fx, int *unseen);


#endif
