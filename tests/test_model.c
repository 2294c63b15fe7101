/*
 * Tests for model: a model built by hand (model_internal.h) is saved to
 * tests/tmp, loaded back and compared field by field; scores, relativities,
 * bands and reasons of hand-made feature vectors are checked against
 * figures worked out in the comments; the id is a content hash; and bad
 * model files, written as small JSON texts, are refused with a message
 * that names the field.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "feat.h"
#include "glm.h"
#include "model.h"
#include "model_internal.h"
#include "sha256.h"
#include "test_util.h"
#include "ptrain.h"

#define TOL 1e-12
#define FACTOR (50 / log(2.0))      /* 72.1348 points per unit of ln */
#define MEAN_FREQ 0.12

/* ===================== A hand-built model ===================== */

static void numeric(struct model_input *in, const char *name, double beta,
                    double center, double scale, int kind)
{
    memset(in, 0, sizeof(*in));
    snprintf(in->name, sizeof(in->name), "%s", name);
    in->feat = feat_find(name);
    in->shown = in->feat;
    in->use_log = MODEL_LOG_NONE;
    in->cap_lo = -INFINITY;
    in->cap_hi = INFINITY;
    in->center = center;
    in->scale = scale;
    in->beta = beta;
    in->se = 0.05;
    in->value_kind = kind;
}

static void reason(struct model_input *in, const char *code, const char *text,
                   const char *missing_text)
{
    snprintf(in->code, sizeof(in->code), "%s", code);
    snprintf(in->text, sizeof(in->text), "%s", text);
    snprintf(in->missing_text, sizeof(in->missing_text), "%s",
             missing_text);
}

/*
 * Six inputs, every transform and kind:
 *   0 days_since_last_service: caps [0, 1000], impute 200, (x - 180) / 90,
 *     beta 0.3, missing indicator 0.4, count
 *   1 oil_in_schedule_share: caps [0, 1], impute 0.5, (x - 0.6) / 0.25,
 *     beta -0.2, share
 *   2 overdue_oil_change: (x - 0.3) / 0.5, beta 0.15, yes/no
 *   3 services_per_year: ln(1 + x) with caps [0, 10], (x - 0.9) / 0.4,
 *     beta -0.25, number
 *   4 make: base TOYOTA; BMW 0.2, FORD aliased, KIA -0.1
 *   5 interval_days_cv: aliased (NaN) beta, with a ln transform
 * Intercept -2, mean frequency 0.12, bands 650 / 620 / 590 / 560.
 */
static struct model *hand_model(void)
{
    struct model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->n_inputs = 6;
    m->inputs = calloc(m->n_inputs, sizeof(*m->inputs));
    if (!m->inputs) {
        free(m);
        return NULL;
    }
    m->family = GLM_POISSON;
    m->link = GLM_LOG;
    m->transform = 1;
    m->intercept = -2.0;
    m->intercept_se = 0.1;

    struct model_input *in = m->inputs;
    numeric(&in[0], "days_since_last_service", 0.3, 180, 90,
            MODEL_VALUE_COUNT);
    in[0].cap_lo = 0;
    in[0].cap_hi = 1000;
    in[0].impute = 200;
    in[0].has_missing = 1;
    in[0].beta_missing = 0.4;
    in[0].se_missing = 0.11;
    in[0].baseline = 0.01;
    reason(&in[0], "R03", "last service %s days ago",
           "no dated service on record");

    numeric(&in[1], "oil_in_schedule_share", -0.2, 0.6, 0.25,
            MODEL_VALUE_SHARE);
    in[1].cap_lo = 0;
    in[1].cap_hi = 1;
    in[1].impute = 0.5;
    in[1].baseline = -0.02;
    reason(&in[1], "R05", "%s of oil changes on schedule",
           "fewer than two dated oil changes");

    numeric(&in[2], "overdue_oil_change", 0.15, 0.3, 0.5,
            MODEL_VALUE_YESNO);
    reason(&in[2], "R06", "oil change overdue: %s",
           "no dated service to judge the oil change");

    numeric(&in[3], "services_per_year", -0.25, 0.9, 0.4,
            MODEL_VALUE_NUMBER);
    in[3].use_log = MODEL_LOG1P;
    in[3].cap_lo = 0;
    in[3].cap_hi = 10;
    in[3].impute = 1.5;
    reason(&in[3], "R04", "%s services per year",
           "no dated service on record");

    memset(&in[4], 0, sizeof(in[4]));
    snprintf(in[4].name, sizeof(in[4].name), "make");
    in[4].feat = MODEL_INPUT_MAKE;
    in[4].shown = MODEL_INPUT_MAKE;
    in[4].beta = NAN;
    snprintf(in[4].base_level, sizeof(in[4].base_level), "TOYOTA");
    in[4].n_levels = 3;
    snprintf(in[4].levels[0], MODEL_LEVEL_LEN, "BMW");
    snprintf(in[4].levels[1], MODEL_LEVEL_LEN, "FORD");
    snprintf(in[4].levels[2], MODEL_LEVEL_LEN, "KIA");
    in[4].beta_level[0] = 0.2;
    in[4].beta_level[1] = NAN;
    in[4].beta_level[2] = -0.1;
    in[4].se_level[0] = 0.07;
    in[4].se_level[1] = NAN;
    in[4].se_level[2] = 0.08;
    in[4].baseline = 0.03;
    in[4].value_kind = MODEL_VALUE_NUMBER;
    reason(&in[4], "R30", "make %s", "make unknown");

    numeric(&in[5], "interval_days_cv", NAN, -0.5, 0.7, MODEL_VALUE_NUMBER);
    in[5].se = NAN;
    in[5].use_log = MODEL_LOG;
    in[5].cap_lo = 0.05;
    in[5].cap_hi = 3;
    in[5].impute = 0.4;
    reason(&in[5], "R09", "irregular service intervals (variation %s)", "");

    m->log_mean_rate = log(MEAN_FREQ);
    m->score_center = 600;
    m->score_factor = FACTOR;
    m->score_min = 1;
    m->score_max = 999;
    m->band_cuts[0] = 650;
    m->band_cuts[1] = 620;
    m->band_cuts[2] = 590;
    m->band_cuts[3] = 560;
    m->fit.n = 1234;
    m->fit.deviance = 456.5;
    m->fit.null_deviance = 500.25;
    m->fit.df_residual = 1225;
    m->fit.df_null = 1233;
    m->fit.aic = 900.75;
    m->fit.loglik = -441.375;
    m->fit.dispersion = 1;
    m->fit.pearson_dispersion = 1.0625;
    m->fit.iterations = 6;
    m->fit.converged = 1;
    snprintf(m->trained_at, sizeof(m->trained_at), "2024-06-01T00:00:00Z");
    snprintf(m->command, sizeof(m->command),
             "svcscore train --features f.csv --labels \"l.csv\"");
    snprintf(m->data_fingerprint, sizeof(m->data_fingerprint),
             "0123456789abcdef");
    return m;
}

/* A feature vector with every value missing. */
static void empty_features(struct feat_vec *f)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < FEAT_COUNT; i++)
        f->v[i] = NAN;
    f->last_km = NAN;
}

/* NaN equals NaN here; otherwise the same double. */
static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* ===================== Files ===================== */

static void test_model_saves_and_loads_every_field(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* doubles that 15 significant digits do not hold */
    m->inputs[0].beta = nextafter(0.3, 1);
    m->inputs[1].center = 0.1 + 0.2;
    m->inputs[2].baseline = 1.0 / 3;
    m->inputs[3].cap_hi = 1e300 / 7;
    m->inputs[4].beta_level[2] = -nextafter(0.1, 0);
    m->intercept = -2.0000000000000004;
    m->score_factor = 50 / log(2.0);
    m->fit.aic = 5e-324;
    m->band_cuts[1] = nextafter(620, 621);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(model_save(m, "tmp/model_hand.json", &err), ENG_OK);
    struct model *b = model_load("tmp/model_hand.json", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);

    CU_ASSERT_STRING_EQUAL(model_id(b), model_id(m));
    CU_ASSERT_EQUAL(b->family, m->family);
    CU_ASSERT_EQUAL(b->link, m->link);
    CU_ASSERT_EQUAL(b->transform, m->transform);
    CU_ASSERT_TRUE(same(b->intercept, m->intercept));
    CU_ASSERT_TRUE(same(b->intercept_se, m->intercept_se));
    CU_ASSERT_EQUAL_FATAL(b->n_inputs, m->n_inputs);
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct model_input *x = &m->inputs[i], *y = &b->inputs[i];
        CU_ASSERT_STRING_EQUAL(y->name, x->name);
        CU_ASSERT_EQUAL(y->feat, x->feat);
        CU_ASSERT_EQUAL(y->use_log, x->use_log);
        CU_ASSERT_TRUE(same(y->cap_lo, x->cap_lo));
        CU_ASSERT_TRUE(same(y->cap_hi, x->cap_hi));
        CU_ASSERT_TRUE(same(y->beta, x->beta));
        if (x->feat != MODEL_INPUT_MAKE) {
            CU_ASSERT_TRUE(same(y->impute, x->impute));
            CU_ASSERT_TRUE(same(y->center, x->center));
            CU_ASSERT_TRUE(same(y->scale, x->scale));
            CU_ASSERT_TRUE(same(y->se, x->se));
            CU_ASSERT_EQUAL(y->has_missing, x->has_missing);
            if (x->has_missing) {
                CU_ASSERT_TRUE(same(y->beta_missing, x->beta_missing));
                CU_ASSERT_TRUE(same(y->se_missing, x->se_missing));
            }
        }
        CU_ASSERT_EQUAL(y->n_levels, x->n_levels);
        CU_ASSERT_STRING_EQUAL(y->base_level, x->base_level);
        for (size_t k = 0; k < x->n_levels; k++) {
            CU_ASSERT_STRING_EQUAL(y->levels[k], x->levels[k]);
            CU_ASSERT_TRUE(same(y->beta_level[k], x->beta_level[k]));
            CU_ASSERT_TRUE(same(y->se_level[k], x->se_level[k]));
        }
        CU_ASSERT_TRUE(same(y->baseline, x->baseline));
        CU_ASSERT_STRING_EQUAL(y->code, x->code);
        CU_ASSERT_STRING_EQUAL(y->text, x->text);
        CU_ASSERT_STRING_EQUAL(y->missing_text, x->missing_text);
        CU_ASSERT_EQUAL(y->value_kind, x->value_kind);
        CU_ASSERT_EQUAL(y->shown, x->shown);
    }
    /* the file holds the mean frequency, the struct its logarithm */
    CU_ASSERT_DOUBLE_EQUAL(b->log_mean_rate, m->log_mean_rate, TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_mean_frequency(b), MEAN_FREQ, TOL);
    CU_ASSERT_TRUE(same(b->score_center, m->score_center));
    CU_ASSERT_TRUE(same(b->score_factor, m->score_factor));
    CU_ASSERT_EQUAL(b->score_min, m->score_min);
    CU_ASSERT_EQUAL(b->score_max, m->score_max);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_TRUE(same(b->band_cuts[i], m->band_cuts[i]));
    CU_ASSERT_EQUAL(b->fit.n, m->fit.n);
    CU_ASSERT_TRUE(same(b->fit.deviance, m->fit.deviance));
    CU_ASSERT_TRUE(same(b->fit.null_deviance, m->fit.null_deviance));
    CU_ASSERT_EQUAL(b->fit.df_residual, m->fit.df_residual);
    CU_ASSERT_EQUAL(b->fit.df_null, m->fit.df_null);
    CU_ASSERT_TRUE(same(b->fit.aic, m->fit.aic));
    CU_ASSERT_TRUE(same(b->fit.loglik, m->fit.loglik));
    CU_ASSERT_TRUE(same(b->fit.dispersion, m->fit.dispersion));
    CU_ASSERT_TRUE(same(b->fit.pearson_dispersion,
                        m->fit.pearson_dispersion));
    CU_ASSERT_EQUAL(b->fit.iterations, m->fit.iterations);
    CU_ASSERT_EQUAL(b->fit.converged, m->fit.converged);
    CU_ASSERT_STRING_EQUAL(b->trained_at, m->trained_at);
    CU_ASSERT_STRING_EQUAL(b->command, m->command);
    CU_ASSERT_STRING_EQUAL(b->data_fingerprint, m->data_fingerprint);
    model_free(b);
    model_free(m);
}

static void test_model_loaded_copy_scores_as_the_original(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL_FATAL(model_save(m, "tmp/model_copy.json", NULL),
                          ENG_OK);
    struct model *b = model_load("tmp/model_copy.json", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    static const char *const makes[] = {"BMW", "FORD", "KIA", "TOYOTA",
                                        "SAAB", NULL};
    for (int i = 0; i < 64; i++) {
        struct feat_vec f;
        empty_features(&f);
        if (i % 5)
            f.v[FEAT_DAYS_SINCE_LAST_SERVICE] = 37.0 * i - 200;
        if (i % 3)
            f.v[FEAT_OIL_IN_SCHEDULE_SHARE] = (i % 11) / 10.0;
        f.v[FEAT_OVERDUE_OIL_CHANGE] = i % 2;
        if (i % 7)
            f.v[FEAT_SERVICES_PER_YEAR] = (i % 13) * 0.9;
        f.v[FEAT_INTERVAL_DAYS_CV] = i * 0.1;
        const char *make = makes[i % 6];
        struct model_result r1, r2;
        model_score(m, &f, make, &r1);
        model_score(b, &f, make, &r2);
        CU_ASSERT_DOUBLE_EQUAL(r2.eta, r1.eta, TOL);
        CU_ASSERT_DOUBLE_EQUAL(model_eta(b, &f, make), r1.eta, TOL);
        CU_ASSERT_EQUAL(r2.score, r1.score);
        CU_ASSERT_EQUAL(r2.band, r1.band);
        CU_ASSERT_EQUAL_FATAL(r2.n_reasons, r1.n_reasons);
        for (int k = 0; k < r1.n_reasons; k++)
            CU_ASSERT_STRING_EQUAL(r2.reasons[k].text, r1.reasons[k].text);
    }
    model_free(b);
    model_free(m);
}

static void test_model_id_is_a_content_hash(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL_FATAL(model_save(m, "tmp/model_id.json", NULL), ENG_OK);
    char id[24];
    snprintf(id, sizeof(id), "%s", model_id(m));
    /* "m-" and 16 hex digits */
    CU_ASSERT_EQUAL(strlen(id), 18);
    CU_ASSERT_EQUAL(strncmp(id, "m-", 2), 0);
    CU_ASSERT_EQUAL(strspn(id + 2, "0123456789abcdef"), 16);
    /* the same content gives the same id, whatever id it held before */
    snprintf(m->id, sizeof(m->id), "m-ffffffffffffffff");
    CU_ASSERT_EQUAL(model_save(m, "tmp/model_id2.json", NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(model_id(m), id);
    struct model *other = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    CU_ASSERT_EQUAL(model_save(other, "tmp/model_id3.json", NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(model_id(other), id);
    model_free(other);

    /* a change to what decides scores, bands or reasons: another id */
    for (int change = 0; change < 16; change++) {
        struct model *c = hand_model();
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        switch (change) {
        case 0: c->inputs[0].beta = nextafter(0.3, 1); break;
        case 1: c->intercept = -2.0001; break;
        case 2: c->inputs[1].cap_hi = 0.99; break;
        case 3: c->inputs[3].use_log = MODEL_LOG; break;
        case 4: c->inputs[4].beta_level[2] = -0.11; break;
        case 5: c->inputs[2].text[0] = 'O'; break;
        case 6: c->band_cuts[3] = 561; break;
        case 7: c->log_mean_rate = log(0.13); break;
        case 8: c->inputs[0].beta_missing = 0.41; break;
        case 9: c->inputs[1].baseline = -0.021; break;
        case 10: c->score_factor = 40 / log(2.0); break;
        case 11: c->score_max = 998; break;
        case 12: c->inputs[0].code[2] = '4'; break;
        case 13: c->family = GLM_GAUSSIAN; break;
        case 14: c->inputs[3].impute = 1.25; break;
        default: c->inputs[5].beta = 0; break;
        }
        CU_ASSERT_EQUAL(model_save(c, "tmp/model_id4.json", NULL), ENG_OK);
        CU_ASSERT_STRING_NOT_EQUAL(model_id(c), id);
        model_free(c);
    }
    /* the record of how it was made, or its standard errors: the same id */
    for (int change = 0; change < 9; change++) {
        struct model *c = hand_model();
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        switch (change) {
        case 0: c->trained_at[3] = '5'; break;
        case 1: snprintf(c->command, sizeof(c->command), "other"); break;
        case 2: c->data_fingerprint[0] = 'f'; break;
        case 3: c->fit.deviance = 1; break;
        case 4: c->fit.n = 99; break;
        case 5: c->inputs[0].se = 0.5; break;
        case 6: c->intercept_se = NAN; break;
        case 7: c->inputs[4].se_level[0] = 0.01; break;
        default: c->transform = 0; break;
        }
        CU_ASSERT_EQUAL(model_save(c, "tmp/model_id5.json", NULL), ENG_OK);
        CU_ASSERT_STRING_EQUAL(model_id(c), id);
        /* and the file, which holds the change, loads */
        struct model *b = model_load("tmp/model_id5.json", NULL);
        CU_ASSERT_PTR_NOT_NULL(b);
        model_free(b);
        model_free(c);
    }
    /* the loaded model reports the id its file carries */
    struct model *b = model_load("tmp/model_id.json", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(model_id(b), id);
    model_free(b);
    model_free(m);
}

static void test_model_save_fails_on_an_unwritable_path(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct eng_err err = {0};
    int rc = model_save(m, "tmp/no/such/dir/model.json", &err);
    CU_ASSERT_EQUAL(rc, ENG_EIO);
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "tmp/no/such/dir"));
    model_free(m);
    model_free(NULL);
}

/* ===================== Scoring ===================== */

/*
 * Values: 300 days (z = 120/90), share 0.4 (z = -0.8), overdue 1
 * (z = 1.4), 3 services a year (z = (ln 4 - 0.9) / 0.4), BMW (0.2), CV 2
 * (aliased: 0).
 *   eta = -2 + 0.3 * 4/3 + (-0.2)(-0.8) + 0.15 * 1.4
 *         - 0.25 (ln 4 - 0.9) / 0.4 + 0.2
 *       = -2 + 0.4 + 0.16 + 0.21 - 0.3039340 + 0.2 = -1.3339340
 */
static void test_model_scores_a_vehicle_by_hand(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct feat_vec f;
    empty_features(&f);
    f.v[FEAT_DAYS_SINCE_LAST_SERVICE] = 300;
    f.v[FEAT_OIL_IN_SCHEDULE_SHARE] = 0.4;
    f.v[FEAT_OVERDUE_OIL_CHANGE] = 1;
    f.v[FEAT_SERVICES_PER_YEAR] = 3;
    f.v[FEAT_INTERVAL_DAYS_CV] = 2;
    struct model_result r;
    model_score(m, &f, "BMW", &r);
    double eta = -2 + 0.4 + 0.16 + 0.21 - 0.25 * (log(4) - 0.9) / 0.4 + 0.2;
    CU_ASSERT_DOUBLE_EQUAL(r.eta, eta, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.eta, -1.333934, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(model_eta(m, &f, "BMW"), eta, TOL);
    double rel = exp(eta) / MEAN_FREQ;
    CU_ASSERT_DOUBLE_EQUAL(r.relativity, rel, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.relativity, 2.195324, 1e-6);
    /* 600 - 72.1348 ln 2.195324 = 600 - 56.72 = 543.28 */
    CU_ASSERT_EQUAL(r.score, (int)lround(600 - FACTOR * log(rel)));
    CU_ASSERT_EQUAL(r.score, 543);
    CU_ASSERT_EQUAL(r.band, 'E');
    model_free(m);
}

static void test_model_imputes_caps_and_flags_missing_values(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    const struct model_input *in = m->inputs;
    /* imputation, then the caps, then centring and scaling */
    CU_ASSERT_DOUBLE_EQUAL(model_transform(&in[0], NAN), 20.0 / 90, TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_transform(&in[0], 5000), 820.0 / 90, TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_transform(&in[0], -7), -2.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_transform(&in[0], INFINITY), 820.0 / 90,
                           TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_transform(&in[3], 3),
                           (log1p(3) - 0.9) / 0.4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_transform(&in[3], 99),
                           (log1p(10) - 0.9) / 0.4, TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_transform(&in[5], 0.01),
                           (log(0.05) + 0.5) / 0.7, TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_transform(&in[5], NAN),
                           (log(0.4) + 0.5) / 0.7, TOL);
    /* a ln of a value that reaches 0 stays finite */
    struct model_input bare = in[5];
    bare.cap_lo = -INFINITY;
    CU_ASSERT_TRUE(isfinite(model_transform(&bare, 0)));
    CU_ASSERT_TRUE(isfinite(model_transform(&bare, -3)));

    /* missing: imputed value plus the indicator's coefficient */
    struct feat_vec f;
    empty_features(&f);
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&in[0], &f, NULL),
                           0.3 * 20.0 / 90 + 0.4, TOL);
    f.v[FEAT_DAYS_SINCE_LAST_SERVICE] = 200;
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&in[0], &f, NULL),
                           0.3 * 20.0 / 90, TOL);
    /* no indicator: the imputed value alone */
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&in[1], &f, NULL),
                           -0.2 * (0.5 - 0.6) / 0.25, TOL);
    model_free(m);
}

static void test_model_makes_contribute_by_level(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    const struct model_input *mk = &m->inputs[4];
    struct feat_vec f;
    empty_features(&f);
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(mk, &f, "BMW"), 0.2,
                           TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(mk, &f, "KIA"), -0.1,
                           TOL);
    /* base level, aliased level, unseen level, no make: all 0 */
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(mk, &f, "TOYOTA"), 0,
                           0);
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(mk, &f, "FORD"), 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(mk, &f, "SAAB"), 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(mk, &f, "bmw"), 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(mk, &f, NULL), 0, 0);
    /* and eta moves by exactly the level's coefficient */
    double base = model_eta(m, &f, "TOYOTA");
    CU_ASSERT_DOUBLE_EQUAL(model_eta(m, &f, "KIA") - base, -0.1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(model_eta(m, &f, "SAAB"), base, 0);
    CU_ASSERT_DOUBLE_EQUAL(model_eta(m, &f, NULL), base, 0);
    model_free(m);
}

static void test_model_aliased_coefficients_contribute_nothing(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct feat_vec f;
    empty_features(&f);
    /* input 5 has beta NaN: whatever its value, nothing */
    for (double x = 0; x < 5; x += 0.7) {
        f.v[FEAT_INTERVAL_DAYS_CV] = x;
        CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&m->inputs[5], &f,
                                                        NULL), 0, 0);
    }
    /* an aliased missing indicator, too */
    m->inputs[0].beta_missing = NAN;
    f.v[FEAT_DAYS_SINCE_LAST_SERVICE] = NAN;
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&m->inputs[0], &f, NULL),
                           0.3 * 20.0 / 90, TOL);
    struct model_result r;
    model_score(m, &f, NULL, &r);
    CU_ASSERT_TRUE(isfinite(r.eta));
    model_free(m);
}

static void test_model_score_follows_the_formula_and_clamps(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(model_score_of(m, 1.0), 600);
    CU_ASSERT_EQUAL(model_score_of(m, 2.0), 550);    /* +50 doubles it */
    CU_ASSERT_EQUAL(model_score_of(m, 0.5), 650);
    CU_ASSERT_EQUAL(model_score_of(m, 0.25), 700);
    /* rounding to the nearest point: 600 - 72.1348 ln 1.1 = 593.125 */
    CU_ASSERT_EQUAL(model_score_of(m, 1.1), 593);
    /* 600 - 72.1348 ln 0.99 = 600.725 */
    CU_ASSERT_EQUAL(model_score_of(m, 0.99), 601);
    /* clamped to [1, 999] */
    CU_ASSERT_EQUAL(model_score_of(m, 1e-6), 999);   /* 1596.6 */
    CU_ASSERT_EQUAL(model_score_of(m, 0), 999);
    CU_ASSERT_EQUAL(model_score_of(m, 1e6), 1);      /* -396.6 */
    CU_ASSERT_EQUAL(model_score_of(m, INFINITY), 1);
    /* the edges: 999 at ln r = -399/72.13, 1 at ln r = 599/72.13 */
    CU_ASSERT_EQUAL(model_score_of(m, exp(-399.0 / FACTOR)), 999);
    CU_ASSERT_EQUAL(model_score_of(m, exp(-398.0 / FACTOR)), 998);
    CU_ASSERT_EQUAL(model_score_of(m, exp(-420.0 / FACTOR)), 999);
    CU_ASSERT_EQUAL(model_score_of(m, exp(599.0 / FACTOR)), 1);
    CU_ASSERT_EQUAL(model_score_of(m, exp(598.0 / FACTOR)), 2);
    CU_ASSERT_EQUAL(model_score_of(m, exp(620.0 / FACTOR)), 1);

    /* through model_score: a vehicle at the portfolio mean scores 600 */
    struct model *flat = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(flat);
    flat->n_inputs = 0;
    flat->intercept = flat->log_mean_rate;
    struct feat_vec f;
    empty_features(&f);
    struct model_result r;
    model_score(flat, &f, NULL, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.relativity, 1.0, 0);
    CU_ASSERT_EQUAL(r.score, 600);
    CU_ASSERT_EQUAL(r.n_reasons, 0);
    flat->intercept = flat->log_mean_rate + 20;
    model_score(flat, &f, NULL, &r);
    CU_ASSERT_EQUAL(r.score, 1);
    CU_ASSERT_EQUAL(r.band, 'E');
    flat->intercept = flat->log_mean_rate - 20;
    model_score(flat, &f, NULL, &r);
    CU_ASSERT_EQUAL(r.score, 999);
    CU_ASSERT_EQUAL(r.band, 'A');
    model_free(flat);
    model_free(m);
}

/* The band of a vehicle whose score is s under a model without inputs. */
static char band_at(struct model *m, int s)
{
    m->intercept = m->log_mean_rate + (600 - s) / m->score_factor;
    struct feat_vec f;
    empty_features(&f);
    struct model_result r;
    model_score(m, &f, NULL, &r);
    CU_ASSERT_EQUAL(r.score, s);
    return r.band;
}

static void test_model_bands_follow_the_cut_points(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    m->n_inputs = 0;
    /* cuts 650 / 620 / 590 / 560: a cut point belongs to the better band */
    CU_ASSERT_EQUAL(band_at(m, 999), 'A');
    CU_ASSERT_EQUAL(band_at(m, 650), 'A');
    CU_ASSERT_EQUAL(band_at(m, 649), 'B');
    CU_ASSERT_EQUAL(band_at(m, 620), 'B');
    CU_ASSERT_EQUAL(band_at(m, 619), 'C');
    CU_ASSERT_EQUAL(band_at(m, 590), 'C');
    CU_ASSERT_EQUAL(band_at(m, 589), 'D');
    CU_ASSERT_EQUAL(band_at(m, 560), 'D');
    CU_ASSERT_EQUAL(band_at(m, 559), 'E');
    CU_ASSERT_EQUAL(band_at(m, 1), 'E');
    /* cut points that are not whole numbers, and equal ones */
    m->band_cuts[0] = 640.5;
    m->band_cuts[1] = 600;
    m->band_cuts[2] = 600;
    CU_ASSERT_EQUAL(band_at(m, 641), 'A');
    CU_ASSERT_EQUAL(band_at(m, 640), 'B');
    CU_ASSERT_EQUAL(band_at(m, 600), 'B');
    CU_ASSERT_EQUAL(band_at(m, 599), 'D');
    model_free(m);
}

/* ===================== Reasons ===================== */

/*
 * A model of n inputs that each contribute their value (center 0, scale 1,
 * beta 1, baseline 0): points below the baseline = FACTOR * value.
 */
static const char *const plain_names[] = {
    "n_records", "span_days", "interval_days_max", "interval_km_max",
    "oil_changes", "cost_total", "task_categories"
};

static struct model *plain_model(size_t n)
{
    struct model *m = hand_model();
    if (!m)
        return NULL;
    free(m->inputs);
    m->inputs = calloc(n, sizeof(*m->inputs));
    if (!m->inputs) {
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct model_input *in = &m->inputs[i];
        numeric(in, plain_names[i], 1, 0, 1, MODEL_VALUE_NUMBER);
        char code[8], text[48];
        snprintf(code, sizeof(code), "R%02zu", 70 + i);
        snprintf(text, sizeof(text), "input %zu is %%s", i);
        reason(in, code, text, "");
    }
    m->n_inputs = n;
    return m;
}

/* The reason codes of a result, space-separated. */
static void codes(const struct model_result *r, char *out, size_t n)
{
    out[0] = '\0';
    for (int k = 0; k < r->n_reasons; k++) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%.3s", k ? " " : "",
                 r->reasons[k].text);
    }
}

static struct model_result plain_score(const struct model *m,
                                       const double *values, size_t n)
{
    struct feat_vec f;
    empty_features(&f);
    for (size_t i = 0; i < n; i++)
        f.v[m->inputs[i].feat] = values[i];
    struct model_result r;
    model_score(m, &f, NULL, &r);
    return r;
}

static void test_model_reasons_rank_the_adverse_inputs(void)
{
    struct model *m = plain_model(7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* points: 0.72, 0.36, 3.6, 3.6, 7.2, -72, 1.44 */
    const double v[7] = {0.01, 0.005, 0.05, 0.05, 0.1, -1, 0.02};
    struct model_result r = plain_score(m, v, 7);
    char got[64];
    codes(&r, got, sizeof(got));
    /* at most four, largest first, the tie in input order */
    CU_ASSERT_STRING_EQUAL(got, "R74 R72 R73 R76");
    CU_ASSERT_EQUAL(r.n_reasons, MODEL_MAX_REASONS);
    CU_ASSERT_DOUBLE_EQUAL(r.reasons[0].points, FACTOR * 0.1, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.reasons[1].points, FACTOR * 0.05, TOL);
    CU_ASSERT_DOUBLE_EQUAL(r.reasons[3].points, FACTOR * 0.02, TOL);
    for (int k = 1; k < r.n_reasons; k++)
        CU_ASSERT_TRUE(r.reasons[k].points <= r.reasons[k - 1].points);
    model_free(m);
}

static void test_model_reasons_need_more_than_the_minimum_points(void)
{
    struct model *m = plain_model(4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    double just_below = (MODEL_REASON_MIN_POINTS - 0.01) / FACTOR;
    double just_above = (MODEL_REASON_MIN_POINTS + 0.01) / FACTOR;
    const double v[4] = {just_below, just_above, 0, -0.5};
    struct model_result r = plain_score(m, v, 4);
    CU_ASSERT_EQUAL(r.n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text, "R71 input 1 is 0.00707");
    /* nothing adverse: no reasons */
    const double good[4] = {-1, -2, 0, just_below};
    r = plain_score(m, good, 4);
    CU_ASSERT_EQUAL(r.n_reasons, 0);
    model_free(m);
}

static void test_model_reasons_keep_ties_in_input_order(void)
{
    struct model *m = plain_model(7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* all equal: the first four inputs */
    const double same_pts[7] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    struct model_result r = plain_score(m, same_pts, 7);
    char got[64];
    codes(&r, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "R70 R71 R72 R73");
    /* a larger one late moves ahead; the ties behind it keep their order */
    const double late[7] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3};
    r = plain_score(m, late, 7);
    codes(&r, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "R76 R70 R71 R72");
    /* ascending values come out reversed */
    const double up[7] = {0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07};
    r = plain_score(m, up, 7);
    codes(&r, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "R76 R75 R74 R73");
    /* the same result every time */
    struct model_result again = plain_score(m, up, 7);
    CU_ASSERT_EQUAL_FATAL(again.n_reasons, r.n_reasons);
    for (int k = 0; k < r.n_reasons; k++) {
        CU_ASSERT_STRING_EQUAL(again.reasons[k].text, r.reasons[k].text);
        CU_ASSERT_DOUBLE_EQUAL(again.reasons[k].points, r.reasons[k].points,
                               0);
    }
    model_free(m);
}

static void test_model_reasons_measure_from_the_baseline(void)
{
    struct model *m = plain_model(2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* a baseline of 0.2: a value of 0.25 is 0.05 above it, 0.1 below */
    m->inputs[0].baseline = 0.2;
    m->inputs[1].baseline = 0.2;
    const double v[2] = {0.25, 0.1};
    struct model_result r = plain_score(m, v, 2);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_DOUBLE_EQUAL(r.reasons[0].points, FACTOR * 0.05, 1e-9);
    CU_ASSERT_EQUAL(strncmp(r.reasons[0].text, "R70 ", 4), 0);
    model_free(m);
}

/* The one reason of input 0 of the hand model for value x. */
static void reason_of(struct model *m, int input, double x, const char *make,
                      char *out, size_t n)
{
    struct feat_vec f;
    empty_features(&f);
    /* every other input at its baseline-neutral best */
    f.v[FEAT_DAYS_SINCE_LAST_SERVICE] = 0;
    f.v[FEAT_OIL_IN_SCHEDULE_SHARE] = 1;
    f.v[FEAT_OVERDUE_OIL_CHANGE] = 0;
    f.v[FEAT_SERVICES_PER_YEAR] = 10;
    f.v[FEAT_INTERVAL_DAYS_CV] = 0.1;
    const struct model_input *in = &m->inputs[input];
    if (in->feat != MODEL_INPUT_MAKE)
        f.v[in->feat] = x;
    struct model_result r;
    model_score(m, &f, make, &r);
    out[0] = '\0';
    for (int k = 0; k < r.n_reasons; k++) {
        if (strncmp(r.reasons[k].text, in->code, 3) == 0)
            snprintf(out, n, "%s", r.reasons[k].text);
    }
}

static void test_model_reason_texts_show_the_vehicles_value(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* the best make so only the input under test is adverse */
    char t[MODEL_REASON_LEN];
    reason_of(m, 0, 540, "KIA", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "R03 last service 540 days ago");
    reason_of(m, 0, 1540.4, "KIA", t, sizeof(t));        /* count, uncapped */
    CU_ASSERT_STRING_EQUAL(t, "R03 last service 1540 days ago");
    reason_of(m, 0, NAN, "KIA", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "R03 no dated service on record");
    reason_of(m, 1, 0.234, "KIA", t, sizeof(t));          /* share */
    CU_ASSERT_STRING_EQUAL(t, "R05 23% of oil changes on schedule");
    reason_of(m, 1, 0, "KIA", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "R05 0% of oil changes on schedule");
    reason_of(m, 2, 1, "KIA", t, sizeof(t));              /* yes/no */
    CU_ASSERT_STRING_EQUAL(t, "R06 oil change overdue: yes");
    reason_of(m, 3, 0.456, "KIA", t, sizeof(t));          /* number */
    CU_ASSERT_STRING_EQUAL(t, "R04 0.456 services per year");
    reason_of(m, 3, 0.0123, "KIA", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "R04 0.0123 services per year");
    /* missing: imputed 1.5, which is no worse than the baseline */
    reason_of(m, 3, NAN, "KIA", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "");
    /* the make: its level as the value */
    reason_of(m, 4, 0, "BMW", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "R30 make BMW");
    model_free(m);
}

static void test_model_reason_number_formats(void)
{
    struct model *m = plain_model(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    static const struct {
        double x;
        const char *text;
    } cases[] = {
        {0.125, "R70 input 0 is 0.125"}, {2.3456, "R70 input 0 is 2.35"},
        {99.94, "R70 input 0 is 99.9"}, {1234.4, "R70 input 0 is 1234"},
        {150000, "R70 input 0 is 150000"}, {0.01, "R70 input 0 is 0.01"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct model_result r = plain_score(m, &cases[i].x, 1);
        CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
        CU_ASSERT_STRING_EQUAL(r.reasons[0].text, cases[i].text);
    }
    /* count: whole numbers; share: a percentage; yes/no */
    m->inputs[0].value_kind = MODEL_VALUE_COUNT;
    double x = 12.6;
    CU_ASSERT_STRING_EQUAL(plain_score(m, &x, 1).reasons[0].text,
                           "R70 input 0 is 13");
    m->inputs[0].value_kind = MODEL_VALUE_SHARE;
    x = 0.875;
    CU_ASSERT_STRING_EQUAL(plain_score(m, &x, 1).reasons[0].text,
                           "R70 input 0 is 88%");
    m->inputs[0].value_kind = MODEL_VALUE_YESNO;
    x = 0.9;
    CU_ASSERT_STRING_EQUAL(plain_score(m, &x, 1).reasons[0].text,
                           "R70 input 0 is yes");
    model_free(m);
}

static void test_model_reason_shows_the_value_of_its_shown_feature(void)
{
    struct model *m = plain_model(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* a logit input whose reason shows the share it came from */
    numeric(&m->inputs[0], "dealer_logit", 1, 0, 1, MODEL_VALUE_SHARE);
    m->inputs[0].shown = FEAT_DEALER_SHARE;
    reason(&m->inputs[0], "R33", "%s of services done at a dealer",
           "no record says who did the service");
    struct feat_vec f;
    empty_features(&f);
    f.v[FEAT_DEALER_LOGIT] = 1.5;
    f.v[FEAT_DEALER_SHARE] = 0.8176;
    struct model_result r;
    model_score(m, &f, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text,
                           "R33 82% of services done at a dealer");
    /* the shown value missing makes the reason the missing text */
    f.v[FEAT_DEALER_SHARE] = NAN;
    model_score(m, &f, NULL, &r);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text,
                           "R33 no record says who did the service");
    model_free(m);
}

static void test_model_reason_without_missing_text_says_unknown(void)
{
    struct model *m = plain_model(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    m->inputs[0].impute = 0.5;      /* adverse when imputed */
    double x = NAN;
    struct model_result r = plain_score(m, &x, 1);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text, "R70 input 0 is unknown");
    model_free(m);
}

static void test_model_reason_for_an_unknown_make(void)
{
    struct model *m = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* every level below the base: an unseen make sits above the baseline */
    m->inputs[4].beta_level[0] = -0.3;
    m->inputs[4].baseline = -0.2;
    char t[MODEL_REASON_LEN];
    reason_of(m, 4, 0, NULL, t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "R30 make unknown");
    reason_of(m, 4, 0, "SAAB", t, sizeof(t));
    CU_ASSERT_STRING_EQUAL(t, "R30 make SAAB");
    model_free(m);
}

static void test_model_reason_texts_fit_their_buffer(void)
{
    struct model *m = plain_model(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* the longest template and a 41-digit value: cut, NUL terminated */
    memset(m->inputs[0].text, 'x', MODEL_TEXT_LEN - 1);
    m->inputs[0].text[MODEL_TEXT_LEN - 1] = '\0';
    memcpy(m->inputs[0].text + 40, "%s", 2);
    double x = 1e40;
    struct model_result r = plain_score(m, &x, 1);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_EQUAL(strlen(r.reasons[0].text), MODEL_REASON_LEN - 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reasons[0].text, "xxx10000000000"));
    model_free(m);
}

/* ===================== Bad model files ===================== */

/*
 * A small valid model with one numeric input and the make.  Its id is the
 * SHA-256 of the canonical text that test_model_id_is_the_sha256_of_its_
 * canonical_text writes out by hand.
 */
#define GOOD_ID "m-0b15fa04a5327b59"
/* 100 bytes, longer than any string field */
#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define INPUT0 \
    "{\"name\":\"days_since_last_service\",\"kind\":\"numeric\"," \
    "\"transform\":{\"impute\":200,\"cap_lo\":0,\"cap_hi\":1000," \
    "\"log\":\"none\",\"center\":180,\"scale\":90}," \
    "\"estimate\":0.3,\"se\":0.05,\"missing_indicator\":null," \
    "\"baseline\":0,\"reason\":{\"code\":\"R03\"," \
    "\"text\":\"last service %s days ago\",\"missing_text\":\"none\"," \
    "\"value\":\"count\",\"value_of\":\"days_since_last_service\"}}"
static const char good_model[] =
    "{\"format\":1,\"model_id\":\"" GOOD_ID "\",\"family\":\"poisson\","
    "\"link\":\"log\",\"transform\":\"standard\","
    "\"intercept\":{\"estimate\":-2,\"se\":0.1},"
    "\"inputs\":[" INPUT0 ","
    "{\"name\":\"make\",\"kind\":\"categorical\",\"base_level\":\"KIA\","
    "\"levels\":[{\"level\":\"BMW\",\"estimate\":0.1,\"se\":null}],"
    "\"baseline\":0,\"reason\":{\"code\":\"R30\",\"text\":\"make %s\","
    "\"missing_text\":\"\",\"value\":\"number\"}}],"
    "\"portfolio\":{\"mean_frequency\":0.12},"
    "\"score\":{\"center\":600,\"factor\":72.13475204444817,\"min\":1,"
    "\"max\":999},"
    "\"bands\":[{\"band\":\"A\",\"min_score\":650},{\"band\":\"B\","
    "\"min_score\":620},{\"band\":\"C\",\"min_score\":590},{\"band\":\"D\","
    "\"min_score\":560},{\"band\":\"E\",\"min_score\":1}]}";

/* good_model with its one occurrence of from replaced by to. */
static char *edited(const char *from, const char *to)
{
    const char *at = strstr(good_model, from);
    CU_ASSERT_PTR_NOT_NULL(at);
    if (!at)
        return NULL;
    CU_ASSERT_PTR_NULL(strstr(at + 1, from));
    size_t n = strlen(good_model) - strlen(from) + strlen(to);
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    size_t head = (size_t)(at - good_model);
    memcpy(s, good_model, head);
    strcpy(s + head, to);
    strcat(s, at + strlen(from));
    return s;
}

static void test_model_small_model_text_loads(void)
{
    /* trailing white space is fine */
    char *spaced = edited("\"min_score\":1}]}", "\"min_score\":1}]} \r\n\t\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(spaced);
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_good.json", spaced), 0);
    free(spaced);
    struct eng_err err = {0};
    struct model *m = model_load("tmp/model_good.json", &err);
    CU_ASSERT_PTR_NOT_NULL(m);
    model_free(m);
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_good.json", good_model), 0);
    m = model_load("tmp/model_good.json", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(model_id(m), GOOD_ID);
    CU_ASSERT_EQUAL(m->n_inputs, 2);
    CU_ASSERT_TRUE(isnan(m->inputs[1].se_level[0]));
    /* no fit, no provenance: allowed, read as empty */
    CU_ASSERT_EQUAL(m->fit.n, 0);
    CU_ASSERT_TRUE(isnan(m->fit.deviance));
    CU_ASSERT_STRING_EQUAL(m->trained_at, "");
    CU_ASSERT_DOUBLE_EQUAL(model_mean_frequency(m), 0.12, TOL);
    struct feat_vec f;
    empty_features(&f);
    f.v[FEAT_DAYS_SINCE_LAST_SERVICE] = 270;
    CU_ASSERT_DOUBLE_EQUAL(model_eta(m, &f, "BMW"), -2 + 0.3 + 0.1, TOL);
    model_free(m);
}

struct bad_case {
    const char *from, *to;      /* the edit of good_model */
    int code;
    const char *says;           /* part of the message */
};

/* Every check model_load() makes on a field, one edit of good_model each. */
static const struct bad_case bad_cases[] = {
    /* missing fields */
    {"\"format\":1,", "", ENG_EDATA, "missing 'format'"},
    {"\"family\":\"poisson\",", "", ENG_EDATA, "missing 'family'"},
    {"\"link\":\"log\",", "", ENG_EDATA, "missing 'link'"},
    {"\"transform\":\"standard\",", "", ENG_EDATA, "missing 'transform'"},
    {"\"inputs\":[", "\"input\":[", ENG_EDATA, "missing 'inputs'"},
    {"\"intercept\":{", "\"icept\":{", ENG_EDATA, "missing 'intercept'"},
    {"\"bands\":[", "\"band_list\":[", ENG_EDATA, "missing 'bands'"},
    {"\"score\":{", "\"scoring\":{", ENG_EDATA, "missing 'score'"},
    {"\"portfolio\":{", "\"book\":{", ENG_EDATA, "missing 'portfolio'"},
    {"{\"mean_frequency\":0.12}", "{}", ENG_EDATA,
     "missing 'portfolio.mean_frequency'"},
    {"\"estimate\":-2,", "", ENG_EDATA, "missing 'intercept.estimate'"},
    {"\"se\":0.1}", "\"x\":0.1}", ENG_EDATA, "missing 'intercept.se'"},
    {"\"center\":180,", "", ENG_EDATA,
     "missing 'inputs[0].transform.center'"},
    {"\"missing_indicator\":null,", "", ENG_EDATA,
     "missing 'inputs[0].missing_indicator'"},
    {"\"value_of\":\"days_since_last_service\"", "\"x\":1", ENG_EDATA,
     "missing 'inputs[0].reason.value_of'"},
    {"\"min_score\":590", "\"min\":590", ENG_EDATA,
     "missing 'bands[2].min_score'"},
    {"{\"band\":\"B\",", "{", ENG_EDATA, "missing 'bands[1].band'"},
    /* format, id, family, link, transform mode */
    {"\"format\":1,", "\"format\":2,", ENG_EDATA, "format version 2"},
    {"\"format\":1,", "\"format\":\"1\",", ENG_EDATA,
     "'format' is not a finite number"},
    {"\"model_id\":\"" GOOD_ID "\"", "\"model_id\":\"m-12\"", ENG_EDATA,
     "'model_id' must be m- and 16 hex digits"},
    {"\"model_id\":\"" GOOD_ID "\"", "\"model_id\":\"M-0B15FA04A5327B59\"",
     ENG_EDATA, "'model_id' must be m- and 16 hex digits"},
    {"\"family\":\"poisson\"", "\"family\":1", ENG_EDATA,
     "'family' is not a string"},
    {"\"link\":\"log\"", "\"link\":\"identity\"", ENG_EDATA,
     "unsupported family 'poisson' with link 'identity'"},
    {"\"link\":\"log\"", "\"link\":\"probit\"", ENG_EDATA,
     "unsupported family 'poisson' with link 'probit'"},
    {"\"family\":\"poisson\"", "\"family\":\"tweedie\"", ENG_EDATA,
     "unsupported family 'tweedie'"},
    {"\"transform\":\"standard\"", "\"transform\":\"fancy\"", ENG_EDATA,
     "'transform' must be 'standard' or 'none', not 'fancy'"},
    /* the intercept */
    {"\"intercept\":{", "\"intercept\":3,\"x\":{", ENG_EDATA,
     "'intercept' is not an object"},
    {"\"estimate\":-2,", "\"estimate\":\"-2\",", ENG_EDATA,
     "'intercept.estimate' is not a finite number"},
    {"\"estimate\":-2,", "\"estimate\":null,", ENG_EDATA,
     "'intercept.estimate' is not a finite number"},
    {"\"se\":0.1}", "\"se\":-0.1}", ENG_EDATA,
     "'intercept.se' is negative"},
    {"\"se\":0.1}", "\"se\":1e999}", ENG_EDATA,
     "'intercept.se' is not a finite number or null"},
    /* the list of inputs */
    {"\"inputs\":[", "\"inputs\":{\"a\":1},\"x\":[", ENG_EDATA,
     "'inputs' is not a list"},
    {"\"inputs\":[{", "\"inputs\":[],\"x\":[{", ENG_EDATA,
     "'inputs' is not a list of 1 to 64 inputs"},
    {"\"inputs\":[{", "\"inputs\":[7,{", ENG_EDATA,
     "'inputs[0]' is not an object"},
    {"\"inputs\":[{", "\"inputs\":[" INPUT0 ",{", ENG_EDATA,
     "'inputs[1].name' repeats inputs[0] ('days_since_last_service')"},
    {"\"name\":\"days_since_last_service\"", "\"name\":\"" X100 "\"",
     ENG_EDATA, "'inputs[0].name' is longer than 47 bytes"},
    {"\"name\":\"days_since_last_service\"", "\"name\":\"no_such_feature\"",
     ENG_EDATA, "inputs[0]: unknown feature 'no_such_feature'"},
    {"\"name\":\"days_since_last_service\"", "\"name\":\"currency\"",
     ENG_EDATA, "unknown feature 'currency'"},
    {"\"kind\":\"numeric\"", "\"kind\":\"ordinal\"", ENG_EDATA,
     "'inputs[0].kind' must be 'numeric', 'categorical' or 'interaction'"},
    /* a numeric input's transform and coefficients */
    {"\"transform\":{\"impute\"", "\"transform\":7,\"x\":{\"impute\"",
     ENG_EDATA, "'inputs[0].transform' is not an object"},
    {"\"impute\":200", "\"impute\":null", ENG_EDATA,
     "'inputs[0].transform.impute' is not a finite number"},
    {"\"cap_lo\":0", "\"cap_lo\":2000", ENG_EDATA,
     "'inputs[0].transform.cap_lo' (2000) is above cap_hi (1000)"},
    {"\"cap_hi\":1000", "\"cap_hi\":1e999", ENG_EDATA,
     "'inputs[0].transform.cap_hi' is not a finite number or null"},
    {"\"log\":\"none\"", "\"log\":\"sqrt\"", ENG_EDATA,
     "'inputs[0].transform.log' must be none, log1p or log"},
    {"\"center\":180", "\"center\":1e999", ENG_EDATA,
     "'inputs[0].transform.center' is not a finite number"},
    {"\"scale\":90", "\"scale\":0", ENG_EDATA,
     "'inputs[0].transform.scale' must be positive"},
    {"\"scale\":90", "\"scale\":-90", ENG_EDATA,
     "'inputs[0].transform.scale' must be positive"},
    {"\"scale\":90", "\"scale\":1e999", ENG_EDATA,
     "'inputs[0].transform.scale' is not a finite number"},
    {"\"estimate\":0.3,", "\"estimate\":\"x\",", ENG_EDATA,
     "'inputs[0].estimate' is not a finite number"},
    {"\"estimate\":0.3,", "\"estimate\":1e999,", ENG_EDATA,
     "'inputs[0].estimate' is not a finite number"},
    {"\"se\":0.05", "\"se\":\"x\"", ENG_EDATA,
     "'inputs[0].se' is not a finite number or null"},
    {"\"se\":0.05", "\"se\":-0.05", ENG_EDATA, "'inputs[0].se' is negative"},
    {"\"missing_indicator\":null", "\"missing_indicator\":5", ENG_EDATA,
     "'inputs[0].missing_indicator' is not an object"},
    {"\"missing_indicator\":null",
     "\"missing_indicator\":{\"estimate\":\"x\",\"se\":null}", ENG_EDATA,
     "'inputs[0].missing_indicator.estimate' is not a finite number"},
    {"\"missing_indicator\":null",
     "\"missing_indicator\":{\"estimate\":0.2,\"se\":-1}", ENG_EDATA,
     "'inputs[0].missing_indicator.se' is negative"},
    {"\"baseline\":0,\"reason\":{\"code\":\"R03\"",
     "\"baseline\":\"x\",\"reason\":{\"code\":\"R03\"", ENG_EDATA,
     "'inputs[0].baseline' is not a finite number"},
    /* the reason table */
    {"\"reason\":{\"code\":\"R03\",", "\"reason\":[],\"x\":{\"code\":\"R03\",",
     ENG_EDATA, "'inputs[0].reason' is not an object"},
    {"\"code\":\"R03\"", "\"code\":\"r3\"", ENG_EDATA,
     "'inputs[0].reason.code' must be a capital letter"},
    {"\"code\":\"R03\"", "\"code\":\"R\"", ENG_EDATA,
     "'inputs[0].reason.code' must be a capital letter"},
    {"\"code\":\"R03\"", "\"code\":\"R0 3\"", ENG_EDATA,
     "'inputs[0].reason.code' must be a capital letter"},
    {"\"code\":\"R03\"", "\"code\":\"R0300000\"", ENG_EDATA,
     "'inputs[0].reason.code' is longer than 7 bytes"},
    {"\"code\":\"R30\"", "\"code\":\"R03\"", ENG_EDATA,
     "'inputs[1].reason.code' repeats inputs[0]'s ('R03')"},
    {"\"last service %s days ago\"", "\"%s last %s\"", ENG_EDATA,
     "'inputs[0].reason.text' must be a text with at most one %s"},
    {"\"text\":\"make %s\"", "\"text\":\"\"", ENG_EDATA,
     "'inputs[1].reason.text' must be a text with at most one %s"},
    {"\"last service %s days ago\"", "\"last\\nservice %s\"", ENG_EDATA,
     "'inputs[0].reason.text' holds a control character"},
    {"\"last service %s days ago\"", "\"" X100 "\"", ENG_EDATA,
     "'inputs[0].reason.text' is longer than 95 bytes"},
    {"\"missing_text\":\"none\"", "\"missing_text\":\"none %s\"", ENG_EDATA,
     "'inputs[0].reason.missing_text' must not hold %s"},
    {"\"missing_text\":\"none\"", "\"missing_text\":7", ENG_EDATA,
     "'inputs[0].reason.missing_text' is not a string"},
    {"\"value\":\"count\"", "\"value\":\"percent\"", ENG_EDATA,
     "'inputs[0].reason.value' must be number, count, share or yesno, "
     "not 'percent'"},
    {"\"value_of\":\"days_since_last_service\"", "\"value_of\":\"nope\"",
     ENG_EDATA, "'inputs[0].reason.value_of' names no numeric feature"},
    /* the make: levels */
    {"\"name\":\"make\"", "\"name\":\"model\"", ENG_EDATA,
     "inputs[1]: only 'make' and own factors can be categorical"},
    {"\"base_level\":\"KIA\"", "\"base_level\":\"\"", ENG_EDATA,
     "'inputs[1].base_level' is empty"},
    {"\"levels\":[", "\"levels\":{\"a\":1},\"x\":[", ENG_EDATA,
     "'inputs[1].levels' is not a list of at most 64"},
    {"[{\"level\":\"BMW\"", "[3,{\"level\":\"BMW\"", ENG_EDATA,
     "'inputs[1].levels[0]' is not an object"},
    {"\"level\":\"BMW\"", "\"level\":\"\"", ENG_EDATA,
     "'inputs[1].levels[0].level' is empty"},
    {"\"level\":\"BMW\"", "\"level\":\"KIA\"", ENG_EDATA,
     "'inputs[1].levels[0].level' is the base level 'KIA'"},
    {"\"se\":null}]", "\"se\":null},{\"level\":\"BMW\",\"estimate\":0.2,"
     "\"se\":null}]", ENG_EDATA,
     "'inputs[1].levels[1].level' repeats level 'BMW'"},
    {"\"estimate\":0.1,", "\"estimate\":[],", ENG_EDATA,
     "'inputs[1].levels[0].estimate' is not a finite number"},
    {"\"se\":null}]", "\"se\":-0.5}]", ENG_EDATA,
     "'inputs[1].levels[0].se' is negative"},
    /* the portfolio and the score scaling */
    {"\"portfolio\":{\"mean_frequency\":0.12}", "\"portfolio\":[0.12]",
     ENG_EDATA, "'portfolio' is not an object"},
    {"\"mean_frequency\":0.12", "\"mean_frequency\":0", ENG_EDATA,
     "'portfolio.mean_frequency' must be positive"},
    {"\"mean_frequency\":0.12", "\"mean_frequency\":-0.12", ENG_EDATA,
     "'portfolio.mean_frequency' must be positive"},
    {"\"score\":{", "\"score\":600,\"x\":{", ENG_EDATA,
     "'score' is not an object"},
    {"\"min\":1,", "\"min\":\"x\",", ENG_EDATA,
     "'score.min' is not a finite number"},
    {"\"max\":999", "\"max\":1e300", ENG_EDATA,
     "'score.max' must be a whole number"},
    {"\"min\":1,", "\"min\":1.5,", ENG_EDATA,
     "'score.min' must be a whole number"},
    {"\"min\":1,", "\"min\":0,", ENG_EDATA, "'score.min' is 0, outside 1..999"},
    {"\"min\":1,", "\"min\":-5,", ENG_EDATA,
     "'score.min' is -5, outside 1..999"},
    {"\"max\":999", "\"max\":1000", ENG_EDATA,
     "'score.max' is 1000, outside 1..999"},
    {"\"max\":999", "\"max\":0", ENG_EDATA, "'score.max' is 0, outside 1..999"},
    {"\"min\":1,", "\"min\":999,", ENG_EDATA,
     "'score.min' (999) must be below score.max (999)"},
    {"\"max\":999", "\"max\":500", ENG_EDATA,
     "'score.center' (600) is outside score.min..score.max"},
    {"\"center\":600", "\"center\":1000", ENG_EDATA,
     "'score.center' (1000) is outside score.min..score.max"},
    {"\"center\":600", "\"center\":null", ENG_EDATA,
     "'score.center' is not a finite number"},
    {"\"factor\":72.13475204444817", "\"factor\":-72", ENG_EDATA,
     "'score.factor' (points per unit of ln relativity, PDO / ln 2) must be "
     "positive"},
    {"\"factor\":72.13475204444817", "\"factor\":0", ENG_EDATA,
     "'score.factor'"},
    {"\"factor\":72.13475204444817", "\"factor\":1e999", ENG_EDATA,
     "'score.factor' is not a finite number"},
    /* the bands */
    {",{\"band\":\"E\",\"min_score\":1}", "", ENG_EDATA,
     "'bands' must list A to E"},
    {"{\"band\":\"E\",\"min_score\":1}", "5", ENG_EDATA,
     "'bands[4]' is not an object"},
    {"\"band\":\"C\"", "\"band\":\"X\"", ENG_EDATA,
     "'bands[2].band' must be 'C', not 'X'"},
    {"\"band\":\"A\"", "\"band\":\"AB\"", ENG_EDATA,
     "'bands[0].band' must be 'A', not 'AB'"},
    {"\"min_score\":620", "\"min_score\":660", ENG_EDATA,
     "'bands[1].min_score' (660) must be below band A's (650)"},
    {"\"min_score\":620", "\"min_score\":650", ENG_EDATA,
     "'bands[1].min_score' (650) must be below band A's (650)"},
    {"\"min_score\":560", "\"min_score\":595", ENG_EDATA,
     "'bands[3].min_score' (595) must be below band C's (590)"},
    {"\"min_score\":650", "\"min_score\":1000", ENG_EDATA,
     "'bands[0].min_score' (1000) is outside score.min+1..score.max"},
    {"\"min_score\":560", "\"min_score\":1", ENG_EDATA,
     "'bands[3].min_score' (1) is outside score.min+1..score.max"},
    {"\"min_score\":560", "\"min_score\":-4", ENG_EDATA,
     "'bands[3].min_score' (-4) is outside score.min+1..score.max"},
    {"\"min_score\":590", "\"min_score\":1e999", ENG_EDATA,
     "'bands[2].min_score' is not a finite number"},
    {"\"min_score\":1}", "\"min_score\":2}", ENG_EDATA,
     "'bands[4].min_score' (2) must equal score.min (1)"},
    /* the id: a coefficient, a cut point, a reason text edited */
    {"\"estimate\":0.3,", "\"estimate\":0.31,", ENG_EDATA,
     "model_id " GOOD_ID " does not match the content (m-"},
    {"\"min_score\":620", "\"min_score\":621", ENG_EDATA,
     "model_id " GOOD_ID " does not match the content"},
    {"\"text\":\"make %s\"", "\"text\":\"brand %s\"", ENG_EDATA,
     "model_id " GOOD_ID " does not match the content"},
    /* not JSON at all */
    {"\"format\":1,", "\"format\":1,,", ENG_EJSON, "is not JSON (byte 1"},
    {"\"estimate\":0.3,", "\"estimate\":NaN,", ENG_EJSON, "is not JSON"},
    {"{\"format\"", "[{\"format\"", ENG_EJSON, "is not JSON"},
    {"\"min_score\":1}]}", "\"min_score\":1}]}}", ENG_EJSON, "is not JSON"},
    {"\"min_score\":1}]}", "\"min_score\":1}]} x", ENG_EJSON,
     "is not JSON"},
    {"\"min_score\":1}]}", "\"min_score\":1}]}{}", ENG_EJSON,
     "is not JSON"},
};

static void test_model_rejects_bad_files_naming_the_field(void)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char *text = edited(c->from, c->to);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_bad.json", text), 0);
        free(text);
        struct eng_err err = {0};
        struct model *m = model_load("tmp/model_bad.json", &err);
        CU_ASSERT_PTR_NULL(m);
        CU_ASSERT_EQUAL(err.code, c->code);
        int says = strstr(err.msg, c->says) != NULL;
        CU_ASSERT_TRUE(says);
        if (!m && says && err.code == c->code)
            continue;
        fprintf(stderr, "\n  case %zu (%s -> %s): code %d, '%s'\n", i,
                c->from, c->to, err.code, err.msg);
        model_free(m);
    }
}

static void test_model_id_is_the_sha256_of_its_canonical_text(void)
{
    /* the rule of models/README.md applied by hand to good_model */
    static const char expected[] =
        "format=1\n"
        "family=\"poisson\"\n"
        "link=\"log\"\n"
        "intercept.estimate=-2\n"
        "inputs[0].name=\"days_since_last_service\"\n"
        "inputs[0].kind=\"numeric\"\n"
        "inputs[0].transform.impute=200\n"
        "inputs[0].transform.cap_lo=0\n"
        "inputs[0].transform.cap_hi=1000\n"
        "inputs[0].transform.log=\"none\"\n"
        "inputs[0].transform.center=180\n"
        "inputs[0].transform.scale=90\n"
        "inputs[0].estimate=0.3\n"
        "inputs[0].missing_indicator=null\n"
        "inputs[0].baseline=0\n"
        "inputs[0].reason.code=\"R03\"\n"
        "inputs[0].reason.text=\"last service %s days ago\"\n"
        "inputs[0].reason.missing_text=\"none\"\n"
        "inputs[0].reason.value=\"count\"\n"
        "inputs[0].reason.value_of=\"days_since_last_service\"\n"
        "inputs[1].name=\"make\"\n"
        "inputs[1].kind=\"categorical\"\n"
        "inputs[1].base_level=\"KIA\"\n"
        "inputs[1].levels[0].level=\"BMW\"\n"
        "inputs[1].levels[0].estimate=0.1\n"
        "inputs[1].baseline=0\n"
        "inputs[1].reason.code=\"R30\"\n"
        "inputs[1].reason.text=\"make %s\"\n"
        "inputs[1].reason.missing_text=\"\"\n"
        "inputs[1].reason.value=\"number\"\n"
        "portfolio.mean_frequency=0.12\n"
        "score.center=600\n"
        /* 72.13475204444817 reads as a double that 16 digits give back */
        "score.factor=72.13475204444816\n"
        "score.min=1\n"
        "score.max=999\n"
        "bands[0].min_score=650\n"
        "bands[1].min_score=620\n"
        "bands[2].min_score=590\n"
        "bands[3].min_score=560\n";
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_good.json", good_model), 0);
    struct eng_err err = {0};
    struct model *m = model_load("tmp/model_good.json", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct buf b;
    buf_init(&b, 1 << 20);
    CU_ASSERT_EQUAL_FATAL(model_canonical(m, &b, &err), ENG_OK);
    CU_ASSERT_STRING_EQUAL(b.data, expected);
    unsigned char d[SHA256_LEN];
    sha256(expected, strlen(expected), d);
    char id[MODEL_ID_LEN];
    snprintf(id, sizeof(id), "m-%02x%02x%02x%02x%02x%02x%02x%02x", d[0], d[1],
             d[2], d[3], d[4], d[5], d[6], d[7]);
    CU_ASSERT_STRING_EQUAL(id, GOOD_ID);
    CU_ASSERT_STRING_EQUAL(model_id(m), GOOD_ID);
    /* strings are quoted, with '"', '\' and control bytes escaped */
    snprintf(m->inputs[0].text, sizeof(m->inputs[0].text), "a\"b\\c\td%%s");
    buf_reset(&b);
    CU_ASSERT_EQUAL(model_canonical(m, &b, &err), ENG_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "\ninputs[0].reason.text="
                                  "\"a\\\"b\\\\c\\u0009d%s\"\n"));
    /* too small a buffer: ENG_ELIMIT, and the buffer as it was */
    struct buf small;
    buf_init(&small, 100);
    CU_ASSERT_EQUAL(buf_adds(&small, "x", NULL), ENG_OK);
    CU_ASSERT_EQUAL(model_canonical(m, &small, &err), ENG_ELIMIT);
    CU_ASSERT_EQUAL(small.len, 1);
    CU_ASSERT_STRING_EQUAL(small.data, "x");
    buf_release(&small);
    buf_release(&b);
    model_free(m);
}

/* text with white space added outside strings and numbers respelled. */
static char *reindented(const char *text)
{
    char *out = malloc(strlen(text) * 4 + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    int in_string = 0;
    for (const char *p = text; *p; p++) {
        out[n++] = *p;
        if (in_string) {
            if (*p == '\\')
                out[n++] = *++p;
            else if (*p == '"')
                in_string = 0;
            continue;
        }
        if (*p == '"')
            in_string = 1;
        else if (*p == ',' || *p == '{' || *p == '[')
            n += (size_t)sprintf(out + n, "\n    ");
        else if (*p == ':')
            out[n++] = ' ';
    }
    out[n] = '\0';
    return out;
}

static void test_model_reindented_file_keeps_its_id(void)
{
    char *text = reindented(good_model);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"center\": 180,\n    "));
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_reindented.json", text), 0);
    free(text);
    struct eng_err err = {0};
    struct model *m = model_load("tmp/model_reindented.json", &err);
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m)
        CU_ASSERT_STRING_EQUAL(model_id(m), GOOD_ID);
    model_free(m);
    /* the same numbers spelled otherwise, and the keys in another order */
    char *a = edited("\"center\":600,\"factor\":72.13475204444817,\"min\":1,",
                     "\"min\":1.0,\"factor\":7213475204444817e-14,"
                     "\"center\":6E2,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_respelled.json", a), 0);
    free(a);
    m = model_load("tmp/model_respelled.json", &err);
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m)
        CU_ASSERT_STRING_EQUAL(model_id(m), GOOD_ID);
    model_free(m);
    /* a saved file (tabs, 17 digits) re-indented keeps its id too */
    struct model *h = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(model_save(h, "tmp/model_saved.json", NULL),
                          ENG_OK);
    FILE *f = fopen("tmp/model_saved.json", "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char saved[1 << 16];
    size_t n = fread(saved, 1, sizeof(saved) - 1, f);
    fclose(f);
    saved[n] = '\0';
    char *flat = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(flat);
    size_t k = 0;
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        if (saved[i] == '"' && (i == 0 || saved[i - 1] != '\\'))
            in_string = !in_string;
        if (in_string || !strchr(" \t\r\n", saved[i]))
            flat[k++] = saved[i];
    }
    flat[k] = '\0';
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_flat.json", flat), 0);
    free(flat);
    m = model_load("tmp/model_flat.json", &err);
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m)
        CU_ASSERT_STRING_EQUAL(model_id(m), model_id(h));
    model_free(m);
    model_free(h);
}

static void test_model_refuses_an_edited_saved_file(void)
{
    struct model *h = hand_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(model_save(h, "tmp/model_edit.json", NULL),
                          ENG_OK);
    FILE *f = fopen("tmp/model_edit.json", "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    /* the intercept -2 made -1.9: a higher frequency, the same id */
    char *at = strstr(text, "\"estimate\":\t-2,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    char edit[1 << 16];
    snprintf(edit, sizeof(edit), "%.*s\"estimate\":\t-1.9,%s",
             (int)(at - text), text, at + strlen("\"estimate\":\t-2,"));
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_edit.json", edit), 0);
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(model_load("tmp/model_edit.json", &err));
    CU_ASSERT_EQUAL(err.code, ENG_EDATA);
    char says[128];
    snprintf(says, sizeof(says), "model 'tmp/model_edit.json': model_id %s "
             "does not match the content (m-", model_id(h));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, says));
    CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
    /* the provenance edited instead: loads, same id */
    at = strstr(text, "2024-06-01T00:00:00Z");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    memcpy(at, "2025", 4);
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_edit.json", text), 0);
    struct model *m = model_load("tmp/model_edit.json", &err);
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m) {
        CU_ASSERT_STRING_EQUAL(model_id(m), model_id(h));
        CU_ASSERT_STRING_EQUAL(m->trained_at, "2025-06-01T00:00:00Z");
    }
    model_free(m);
    model_free(h);
}

static void test_model_refuses_more_inputs_than_the_limit(void)
{
    /* MODEL_MAX_INPUTS + 1 copies of input 0: refused on the count */
    size_t n = strlen(good_model) + (MODEL_MAX_INPUTS + 1) *
               (strlen(INPUT0) + 1);
    char *text = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    const char *at = strstr(good_model, "\"inputs\":[");
    size_t head = (size_t)(at - good_model) + strlen("\"inputs\":[");
    memcpy(text, good_model, head);
    text[head] = '\0';
    for (int i = 0; i <= MODEL_MAX_INPUTS; i++) {
        strcat(text, INPUT0);
        strcat(text, ",");
    }
    strcat(text, good_model + head + strlen(INPUT0) + 1);
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_bad.json", text), 0);
    free(text);
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(model_load("tmp/model_bad.json", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'inputs' is not a list of 1 to "
                                  "64 inputs"));
}

static void test_model_rejects_other_bad_files(void)
{
    static const struct {
        const char *text;
        int code;
        const char *says;
    } cases[] = {
        {"", ENG_EJSON, "is not JSON"},
        {"   \n", ENG_EJSON, "is not JSON"},
        {"not json", ENG_EJSON, "is not JSON (byte 0)"},
        {"[]", ENG_EDATA, "not a JSON object"},
        {"42", ENG_EDATA, "not a JSON object"},
        {"{}", ENG_EDATA, "missing 'format'"},
        {"{\"format\":1}", ENG_EDATA, "missing 'model_id'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_bad.json", cases[i].text),
                              0);
        struct eng_err err = {0};
        struct model *m = model_load("tmp/model_bad.json", &err);
        CU_ASSERT_PTR_NULL(m);
        CU_ASSERT_EQUAL(err.code, cases[i].code);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].says));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "model"));
        model_free(m);
    }
    /* no file, and NULL err allowed */
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(model_load("tmp/no_such_model.json", &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg,
                                  "cannot open model "
                                  "'tmp/no_such_model.json'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "No such file"));
    CU_ASSERT_PTR_NULL(model_load("tmp/no_such_model.json", NULL));
    /* a directory */
    CU_ASSERT_PTR_NULL(model_load("tmp", &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
}

static void test_model_rejects_a_file_over_the_size_cap(void)
{
    FILE *f = fopen("tmp/model_big.json", "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    /* 16 MiB and a byte, as a sparse file of zeros */
    CU_ASSERT_EQUAL(ftruncate(fileno(f), (16l << 20) + 1), 0);
    fclose(f);
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(model_load("tmp/model_big.json", &err));
    CU_ASSERT_EQUAL(err.code, ENG_ELIMIT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "larger than 16 MiB"));
    remove("tmp/model_big.json");
}

static void test_model_shipped_model_loads_and_scores(void)
{
    struct eng_err err = {0};
    struct model *m = model_load("../models/default.json", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(strncmp(model_id(m), "m-", 2), 0);
    CU_ASSERT_TRUE(m->n_inputs > 0);
    CU_ASSERT_TRUE(model_mean_frequency(m) > 0);
    CU_ASSERT_TRUE(m->fit.n > 0);
    CU_ASSERT_TRUE(m->trained_at[0] != '\0');
    for (int i = 1; i < 4; i++)
        CU_ASSERT_TRUE(m->band_cuts[i] <= m->band_cuts[i - 1]);
    struct feat_vec f;
    empty_features(&f);
    struct model_result r;
    model_score(m, &f, NULL, &r);
    CU_ASSERT_TRUE(r.score >= 1 && r.score <= 999);
    CU_ASSERT_TRUE(r.band >= 'A' && r.band <= 'E');
    CU_ASSERT_TRUE(r.n_reasons >= 0 && r.n_reasons <= MODEL_MAX_REASONS);
    for (int k = 0; k < r.n_reasons; k++) {
        CU_ASSERT_EQUAL(r.reasons[k].text[0], 'R');
        CU_ASSERT_PTR_NULL(strstr(r.reasons[k].text, "%s"));
        CU_ASSERT_PTR_NULL(strstr(r.reasons[k].text, "nan"));
    }
    model_free(m);
}

/* ===================== Benchmarks and applicability ===================== */

/* Input in with portfolio benchmarks: median = typical = med, and
 * percentiles med - 0.49 .. med + 0.49 in steps of 0.01. */
static void benchmark(struct model_input *in, double med)
{
    in->has_benchmark = 1;
    in->median = in->typical = med;
    in->n_quantiles = MODEL_N_QUANTILES;
    for (int k = 0; k < MODEL_N_QUANTILES; k++)
        in->quantiles[k] = med + (k - 49) / 100.0;
}

static void test_model_reasons_name_the_typical_value(void)
{
    struct model *m = plain_model(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    numeric(&m->inputs[0], "services_per_year", -1, 2, 1, MODEL_VALUE_NUMBER);
    reason(&m->inputs[0], "R04", "%s services a year", "no dated service");
    benchmark(&m->inputs[0], 1.1);
    double x = 0.44;
    struct model_result r = plain_score(m, &x, 1);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text,
                           "R04 0.44 services a year (typical 1.1)");
    /* missing: the missing text, with its yardstick as the value's
       sentence (a bare "typical 1.1" would not say of what) */
    m->inputs[0].has_missing = 1;
    m->inputs[0].beta_missing = 1;
    x = NAN;
    r = plain_score(m, &x, 1);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text,
                           "R04 no dated service (typical: 1.1 services a "
                           "year)");
    model_free(m);
}

static void test_model_no_reason_on_the_good_side_of_typical(void)
{
    struct model *m = plain_model(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* a dealer share: more is better (beta < 0); centred at 0.9, so 0.8
     * is below the centre and costs points, but above the typical 0.75 */
    numeric(&m->inputs[0], "dealer_share", -1, 0.9, 0.1, MODEL_VALUE_SHARE);
    reason(&m->inputs[0], "R33", "%s of services at a dealer", "");
    benchmark(&m->inputs[0], 0.75);
    double x = 0.8;
    struct model_result r = plain_score(m, &x, 1);
    CU_ASSERT_EQUAL(r.n_reasons, 0);
    x = 0.4;
    r = plain_score(m, &x, 1);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text,
                           "R33 40% of services at a dealer (typical 75%)");
    /* more is worse (beta > 0): only above typical */
    numeric(&m->inputs[0], "interval_schedule_ratio", 1, 0.5, 0.5,
            MODEL_VALUE_SHARE);
    reason(&m->inputs[0], "R24", "services at %s of the maker's interval",
           "");
    benchmark(&m->inputs[0], 0.95);
    x = 0.9;
    r = plain_score(m, &x, 1);
    CU_ASSERT_EQUAL(r.n_reasons, 0);
    x = 1.67;
    r = plain_score(m, &x, 1);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text, "R24 services at 167% of the "
                           "maker's interval (typical 95%)");
    model_free(m);
}

static void test_model_overdue_reason_names_the_makers_interval(void)
{
    struct model *m = plain_model(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    numeric(&m->inputs[0], "overdue_oil_change", 1, 0, 1, MODEL_VALUE_YESNO);
    reason(&m->inputs[0], "R06", "oil change overdue: %s", "");
    benchmark(&m->inputs[0], 0);
    struct feat_vec f;
    empty_features(&f);
    f.v[FEAT_OVERDUE_OIL_CHANGE] = 1;
    f.oil_over_days = 7 * 30.4375 + 3;
    f.oil_due_days = 365.25;
    f.oil_due_km = 16000;
    struct model_result r;
    model_score(m, &f, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text, "R06 oil change overdue by 7 "
                           "months (due every 12 months)");
    /* overdue by distance only */
    f.oil_over_days = NAN;
    f.oil_over_km = 4200;
    model_score(m, &f, NULL, &r);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text, "R06 oil change overdue by "
                           "4200 km (due every 16000 km)");
    /* read back from a CSV, without the schedule: the typical value */
    f.oil_over_km = NAN;
    model_score(m, &f, NULL, &r);
    CU_ASSERT_STRING_EQUAL(r.reasons[0].text,
                           "R06 oil change overdue: yes (typical no)");
    model_free(m);
}

static void test_model_not_applicable_is_neutral_not_missing(void)
{
    struct model *m = plain_model(2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    numeric(&m->inputs[0], "oil_in_schedule_share", -1, 0.6, 0.25,
            MODEL_VALUE_SHARE);
    m->inputs[0].has_missing = 1;
    m->inputs[0].beta_missing = 0.8;
    m->inputs[0].impute = 0.6;
    m->inputs[0].baseline = -0.05;
    numeric(&m->inputs[1], "first_service_ratio", 0.5, 1, 0.5,
            MODEL_VALUE_SHARE);
    m->inputs[1].impute = 3;
    struct feat_vec f;
    empty_features(&f);
    /* a combustion car without oil changes: the missing-data penalty */
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&m->inputs[0], &f, NULL),
                           0.8, TOL);
    struct model_result r;
    model_score(m, &f, NULL, &r);
    CU_ASSERT_EQUAL(r.n_reasons, 1);
    /* a BEV: no oil, no weight, no reason */
    f.ptrain = PTRAIN_BEV;
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&m->inputs[0], &f, NULL),
                           0, TOL);
    model_score(m, &f, NULL, &r);
    CU_ASSERT_EQUAL(r.n_reasons, 0);
    CU_ASSERT_DOUBLE_EQUAL(r.eta, m->intercept, TOL);
    /* a value the BEV should not have is ignored the same way */
    f.v[FEAT_OIL_IN_SCHEDULE_SHARE] = 0;
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&m->inputs[0], &f, NULL),
                           0, TOL);
    /* first service: only for a history that starts near new */
    f.v[FEAT_FIRST_SERVICE_RATIO] = 3;
    f.v[FEAT_HISTORY_FROM_NEW] = 0;
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&m->inputs[1], &f, NULL),
                           0, TOL);
    f.v[FEAT_HISTORY_FROM_NEW] = 1;
    CU_ASSERT_DOUBLE_EQUAL(model_input_contribution(&m->inputs[1], &f, NULL),
                           0.5 * (3 - 1) / 0.5, TOL);
    model_free(m);
}

static void test_model_benchmarks_round_trip_and_give_percentiles(void)
{
    struct model *m = plain_model(2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    benchmark(&m->inputs[1], 2.0);
    m->inputs[1].typical = 0.7;
    CU_ASSERT_EQUAL_FATAL(model_save(m, "tmp/model_bench.json", NULL), 0);
    struct eng_err err = {0};
    struct model *b = model_load("tmp/model_bench.json", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_FALSE(b->inputs[0].has_benchmark);
    CU_ASSERT_TRUE(b->inputs[1].has_benchmark);
    CU_ASSERT_DOUBLE_EQUAL(b->inputs[1].median, 2.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(b->inputs[1].typical, 0.7, 0);
    CU_ASSERT_EQUAL(b->inputs[1].n_quantiles, MODEL_N_QUANTILES);
    for (int k = 0; k < MODEL_N_QUANTILES; k++)
        CU_ASSERT_DOUBLE_EQUAL(b->inputs[1].quantiles[k],
                               m->inputs[1].quantiles[k], 0);
    int feat = b->inputs[1].feat;
    /* the median sits at the 50th, below and above the ends at 0, 100 */
    CU_ASSERT_DOUBLE_EQUAL(model_percentile(b, feat, 2.0), 50, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(model_percentile(b, feat, 2.005), 5000.0 / 99,
                           1e-9);
    CU_ASSERT_DOUBLE_EQUAL(model_percentile(b, feat, -5), 0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(model_percentile(b, feat, 9), 100, 1e-9);
    CU_ASSERT(isnan(model_percentile(b, feat, NAN)));
    /* no percentiles for an input without benchmarks or a non-input */
    CU_ASSERT(isnan(model_percentile(b, b->inputs[0].feat, 1)));
    CU_ASSERT(isnan(model_percentile(b, FEAT_N_RECORDS, 1)));
    model_free(b);
    model_free(m);
}

static void test_model_rejects_bad_benchmarks(void)
{
    static const char *const bad[] = {
        "\"benchmark\":{\"median\":1,\"typical\":1,\"quantiles\":[1,2]},",
        "\"benchmark\":{\"median\":\"x\",\"typical\":1,\"quantiles\":[]},",
        "\"benchmark\":{\"median\":1,\"typical\":1},",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char to[256];
        snprintf(to, sizeof(to), "%s\"baseline\":0,\"reason\":{\"code\":"
                 "\"R03\"", bad[i]);
        char *text = edited("\"baseline\":0,\"reason\":{\"code\":\"R03\"",
                            to);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_badbm.json", text), 0);
        free(text);
        struct eng_err err = {0};
        CU_ASSERT_PTR_NULL(model_load("tmp/model_badbm.json", &err));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "benchmark"));
    }
    /* no benchmark at all (a file from before them): loads, scores */
    CU_ASSERT_EQUAL_FATAL(tu_write_text("tmp/model_badbm.json", good_model), 0);
    struct model *m = model_load("tmp/model_badbm.json", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_FALSE(m->inputs[0].has_benchmark);
    model_free(m);
}

static CU_TestInfo model_tests[] = {
    {"saves and loads every field", test_model_saves_and_loads_every_field},
    {"loaded copy scores as the original",
     test_model_loaded_copy_scores_as_the_original},
    {"id is a content hash", test_model_id_is_a_content_hash},
    {"save fails on an unwritable path",
     test_model_save_fails_on_an_unwritable_path},
    {"scores a vehicle by hand", test_model_scores_a_vehicle_by_hand},
    {"imputes, caps and flags missing values",
     test_model_imputes_caps_and_flags_missing_values},
    {"makes contribute by level", test_model_makes_contribute_by_level},
    {"aliased coefficients contribute nothing",
     test_model_aliased_coefficients_contribute_nothing},
    {"score follows the formula and clamps",
     test_model_score_follows_the_formula_and_clamps},
    {"bands follow the cut points", test_model_bands_follow_the_cut_points},
    {"reasons rank the adverse inputs",
     test_model_reasons_rank_the_adverse_inputs},
    {"reasons need more than the minimum points",
     test_model_reasons_need_more_than_the_minimum_points},
    {"reasons keep ties in input order",
     test_model_reasons_keep_ties_in_input_order},
    {"reasons measure from the baseline",
     test_model_reasons_measure_from_the_baseline},
    {"reason texts show the vehicle's value",
     test_model_reason_texts_show_the_vehicles_value},
    {"reason number formats", test_model_reason_number_formats},
    {"reason shows the value of its shown feature",
     test_model_reason_shows_the_value_of_its_shown_feature},
    {"reason without missing text says unknown",
     test_model_reason_without_missing_text_says_unknown},
    {"reason for an unknown make", test_model_reason_for_an_unknown_make},
    {"reason texts fit their buffer",
     test_model_reason_texts_fit_their_buffer},
    {"small model text loads", test_model_small_model_text_loads},
    {"rejects bad files naming the field",
     test_model_rejects_bad_files_naming_the_field},
    {"id is the sha256 of its canonical text",
     test_model_id_is_the_sha256_of_its_canonical_text},
    {"reindented file keeps its id", test_model_reindented_file_keeps_its_id},
    {"refuses an edited saved file", test_model_refuses_an_edited_saved_file},
    {"refuses more inputs than the limit",
     test_model_refuses_more_inputs_than_the_limit},
    {"rejects other bad files", test_model_rejects_other_bad_files},
    {"rejects a file over the size cap",
     test_model_rejects_a_file_over_the_size_cap},
    {"shipped model loads and scores",
     test_model_shipped_model_loads_and_scores},
    {"reasons name the typical value",
     test_model_reasons_name_the_typical_value},
    {"no reason on the good side of typical",
     test_model_no_reason_on_the_good_side_of_typical},
    {"overdue reason names the maker's interval",
     test_model_overdue_reason_names_the_makers_interval},
    {"not applicable is neutral, not missing",
     test_model_not_applicable_is_neutral_not_missing},
    {"benchmarks round-trip and give percentiles",
     test_model_benchmarks_round_trip_and_give_percentiles},
    {"rejects bad benchmarks", test_model_rejects_bad_benchmarks},
    CU_TEST_INFO_NULL
};

/* ===================== SHA-256 (the id's hash) ===================== */

static void hex(const unsigned char d[SHA256_LEN], char out[65])
{
    for (int i = 0; i < SHA256_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* FIPS 180-4 examples (NIST's SHA256.pdf) and the empty message. */
static void test_sha256_matches_the_published_examples(void)
{
    static const struct {
        const char *msg, *digest;
    } v[] = {
        {"",
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc",
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
         "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        unsigned char d[SHA256_LEN];
        char h[65];
        sha256(v[i].msg, strlen(v[i].msg), d);
        hex(d, h);
        CU_ASSERT_STRING_EQUAL(h, v[i].digest);
    }
    /* a million 'a', fed in uneven pieces */
    static char a[1000];
    memset(a, 'a', sizeof(a));
    struct sha256 s;
    sha256_init(&s);
    size_t left = 1000000, step = 1;
    while (left > 0) {
        size_t n = step < left ? step : left;
        sha256_update(&s, a, n);
        left -= n;
        step = step % 977 + 13;      /* at most 989 */
    }
    unsigned char d[SHA256_LEN];
    char h[65];
    sha256_final(&s, d);
    hex(d, h);
    CU_ASSERT_STRING_EQUAL(h, "cdc76e5c9914fb9281a1c7e284d73e67"
                              "f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_pieces_give_the_digest_of_the_whole(void)
{
    /* every length around the 55/56/64-byte padding edges */
    unsigned char msg[200];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i * 31 + 7);
    for (size_t n = 0; n <= sizeof(msg); n++) {
        unsigned char whole[SHA256_LEN], parts[SHA256_LEN];
        sha256(msg, n, whole);
        struct sha256 s;
        sha256_init(&s);
        sha256_update(&s, msg, n / 3);
        sha256_update(&s, msg + n / 3, 0);
        sha256_update(&s, msg + n / 3, n - n / 3);
        sha256_final(&s, parts);
        CU_ASSERT_EQUAL(memcmp(whole, parts, SHA256_LEN), 0);
    }
}

static CU_TestInfo sha256_tests[] = {
    {"matches the published examples",
     test_sha256_matches_the_published_examples},
    {"pieces give the digest of the whole",
     test_sha256_pieces_give_the_digest_of_the_whole},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_model_suites[] = {
    {"model", NULL, NULL, NULL, NULL, model_tests},
    {"sha256", NULL, NULL, NULL, NULL, sha256_tests},
    CU_SUITE_INFO_NULL
};
