/*
 * model_internal — the layout of struct model, shared by model.c (files,
 * scoring) and train.c (which builds models).  Nothing else includes it.
 *
 * An input is one feature column of the features CSV (or the make, a
 * categorical input).  A numeric input's value x goes through, in order:
 *   missing -> impute (and the missing indicator is 1, when the input has
 *   one); clamp to [cap_lo, cap_hi]; ln or ln(1 + x) as use_log says;
 *   (x - center) / scale.  Its contribution to eta is beta * z + beta_missing * indicator.
 * A categorical input contributes beta_level[k] for its level k, 0 for the
 * base level and for levels not seen in training.  An aliased coefficient
 * is stored as NaN and contributes 0.
 */
#ifndef MODEL_INTERNAL_H
#define MODEL_INTERNAL_H

#include "model.h"

#define MODEL_FORMAT 1
#define MODEL_INPUT_MAKE (-2)
#define MODEL_MAX_LEVELS 32
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
    char id[24];
    int family, link;                /* enum glm_family, enum glm_link */
    int transform;                   /* 1 = standard transforms, 0 = none */
    double intercept, intercept_se;
    size_t n_inputs;
    struct model_input *inputs;
    double log_mean_rate;            /* ln of the portfolio mean frequency */
    double score_center;             /* 600 */
    double score_factor;             /* PDO / ln 2 = 72.1348 for PDO 50 */
    int score_min, score_max;
    double band_cuts[4];             /* A >= cuts[0] > B >= cuts[1] ... */
    struct model_fit fit;
    char trained_at[32];
    char command[512];
    char data_fingerprint[24];
};

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


#endif
