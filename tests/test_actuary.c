/*
 * Own rating factors, interactions, severity and the audit trail, against
 * R's glm() on a simulated book (tests/data/actuary: make-ref.R wrote the
 * CSVs and printed the reference figures held below; R is not needed to
 * run the tests).
 */
#include <CUnit/CUnit.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factors.h"
#include "feat.h"
#include "glm.h"
#include "model.h"
#include "model_internal.h"
#include "rating.h"
#include "train.h"
#include "test_util.h"

#define DIR "data/actuary/"

struct ref {
    const char *name;
    double coef, se;
    const char *pvalue;            /* as R's format.pval(digits = 3) */
};

/* R: glm(claims ~ driver_age + territory + vgroup + density +
 * driver_age:density + driver_age:territory + territory:vgroup +
 * offset(log(expo)), family = poisson), territory relevelled to West. */
static const struct ref freq_ref[] = {
    {"(Intercept)", -0.606916047229252, 0.444630441915908, "0.172"},
    {"driver_age", -0.0226322542029888, 0.00905982634532312, "0.0125"},
    {"territoryEast", -1.09912410566752, 0.569780432558534, "0.0537"},
    {"territoryNorth", -0.253680385532134, 0.498820489221647, "0.611"},
    {"territorySouth", -0.571623015908587, 0.497559560758838, "0.251"},
    {"vgroupB", -0.631314387300978, 0.460917583311906, "0.171"},
    {"vgroupC", 0.478739489445344, 0.351816344367753, "0.174"},
    {"density", 0.013895465048825, 0.0424091996193083, "0.743"},
    {"driver_age:density", 0.00102478998196388, 0.000875658394571179,
     "0.242"},
    {"driver_age:territoryEast", 0.013886371837524, 0.0110987439393541,
     "0.211"},
    {"driver_age:territoryNorth", 0.000439061718331886, 0.0100080476595322,
     "0.965"},
    {"driver_age:territorySouth", 0.00981976892768322, 0.00992015272101581,
     "0.322"},
    {"territoryEast:vgroupB", 0.864540037508937, 0.543288679312409, "0.112"},
    {"territoryNorth:vgroupB", 0.643997200440611, 0.505181998748888,
     "0.202"},
    {"territorySouth:vgroupB", 0.731442684429711, 0.506239340479325,
     "0.148"},
    {"territoryEast:vgroupC", -0.304377948071877, 0.487706237215002,
     "0.533"},
    {"territoryNorth:vgroupC", -0.201899944707276, 0.408843984145765,
     "0.621"},
    {"territorySouth:vgroupC", -0.233665374403638, 0.416162937718931,
     "0.574"},
};
#define FREQ_DEVIANCE 1497.7045948525
#define FREQ_AIC 2233.0472358245

/* R: glm(avg ~ driver_age + territory, family = Gamma(link = "log"),
 * weights = claims) on the rows with claims, territory based on North. */
static const struct ref sev_ref[] = {
    {"(Intercept)", 6.58257405544112, 0.113361874230282, "<2e-16"},
    {"driver_age", 0.00873931588484075, 0.00216536085028662, "6.73e-05"},
    {"territoryEast", 0.0546627189540658, 0.11115871233078, "0.623"},
    {"territorySouth", 0.046759848740958, 0.0892777184470984, "0.601"},
    {"territoryWest", -0.0547189695954658, 0.129007749702239, "0.672"},
};
#define SEV_DEVIANCE 179.747259404765
#define SEV_AIC 5776.18832719362

static const char *const freq_cols[] = {
    "driver_age", "territory", "vgroup", "density", "driver_age:density",
    "driver_age:territory", "territory:vgroup"
};
static const char *const west[] = {"territory=West"};

static void freq_config(struct train_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->features_path = DIR "features.csv";
    cfg->factors_path = DIR "factors.csv";
    cfg->labels_path = DIR "claims.csv";
    cfg->columns = freq_cols;
    cfg->n_columns = sizeof(freq_cols) / sizeof(freq_cols[0]);
    cfg->bases = west;
    cfg->n_bases = 1;
    cfg->family = GLM_POISSON;
    cfg->link = GLM_LOG;
    cfg->transform = 0;
    cfg->seed = 1;
    cfg->jobs = 1;
}

static double rel(double a, double b)
{
    return fabs(a - b) / fmax(fabs(b), 1e-300);
}

static void check_fit(const struct train_output *o, const struct ref *r,
                      size_t n, double dev, double aic)
{
    CU_ASSERT_EQUAL_FATAL(o->fit->p, n);
    for (size_t c = 0; c < n; c++) {
        CU_ASSERT_STRING_EQUAL(o->col_names[c], r[c].name);
        CU_ASSERT(rel(o->fit->coef[c], r[c].coef) < 1e-6);
        CU_ASSERT(rel(o->fit->se[c], r[c].se) < 1e-6);
    }
    CU_ASSERT(rel(o->fit->deviance, dev) < 1e-8);
    CU_ASSERT(rel(o->fit->aic, aic) < 1e-8);
}

static void test_own_factors_and_interactions_equal_r(void)
{
    struct train_config cfg;
    freq_config(&cfg);
    struct train_output o;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &o, &err), ENG_OK);
    check_fit(&o, freq_ref, sizeof(freq_ref) / sizeof(freq_ref[0]),
              FREQ_DEVIANCE, FREQ_AIC);
    /* the base and every level with its training exposure */
    const struct model_input *t = &o.model->inputs[1];
    CU_ASSERT_STRING_EQUAL(t->name, "territory");
    CU_ASSERT(t->categorical && t->feat == MODEL_INPUT_OWN);
    CU_ASSERT_STRING_EQUAL(t->base_level, "West");
    CU_ASSERT_EQUAL(t->n_levels, 3);
    double expo = t->base_exposure;
    for (size_t k = 0; k < t->n_levels; k++)
        expo += t->level_exposure[k];
    const struct model_input *g = &o.model->inputs[2];
    double expo_g = g->base_exposure;
    for (size_t k = 0; k < g->n_levels; k++)
        expo_g += g->level_exposure[k];
    CU_ASSERT_STRING_EQUAL(g->base_level, "A");   /* most frequent */
    CU_ASSERT(rel(expo, expo_g) < 1e-12);
    CU_ASSERT(expo > 1000);
    CU_ASSERT_EQUAL(o.model->inputs[6].feat, MODEL_INPUT_INTERACTION);
    CU_ASSERT_EQUAL(o.model->inputs[6].n_levels, 6);
    train_output_release(&o);
}

static void test_severity_gamma_weights_equal_r(void)
{
    static const char *const cols[] = {"driver_age", "territory"};
    static const char *const north[] = {"territory=North"};
    struct train_config cfg;
    freq_config(&cfg);
    cfg.factors_path = NULL;
    cfg.columns = cols;
    cfg.n_columns = 2;
    cfg.bases = north;
    cfg.family = GLM_GAMMA;
    struct train_output o;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &o, &err), ENG_OK);
    check_fit(&o, sev_ref, sizeof(sev_ref) / sizeof(sev_ref[0]),
              SEV_DEVIANCE, SEV_AIC);
    CU_ASSERT_EQUAL(o.n_train + o.skipped_family, 3000);
    train_output_release(&o);
}

/* One vehicle's own factors for model_score_with(). */
struct own {
    const char *age, *territory, *vgroup, *density;
};

static const char *own_value(const void *ud, const char *name)
{
    const struct own *w = ud;
    return strcmp(name, "driver_age") == 0 ? w->age
           : strcmp(name, "territory") == 0 ? w->territory
           : strcmp(name, "vgroup") == 0 ? w->vgroup
           : strcmp(name, "density") == 0 ? w->density : NULL;
}

static void test_saved_model_scores_as_the_design(void)
{
    struct train_config cfg;
    freq_config(&cfg);
    cfg.design_out = "tmp/actuary_design.csv";
    struct train_output o;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &o, &err), ENG_OK);
    CU_ASSERT_EQUAL_FATAL(model_save(o.model, "tmp/actuary_freq.json", &err),
                          ENG_OK);
    struct model *m = model_load("tmp/actuary_freq.json", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* the first vehicle: 35, South, vgroup C, density 3.92 */
    struct own w = {"35", "South", "C", "3.92"};
    struct model_factors fx = {own_value, &w};
    struct feat_vec f;
    feat_vec_init(&f);
    struct model_result res;
    int unseen = 0;
    model_score_with(m, &f, NULL, &fx, &res, &unseen);
    /* the design file's first row, times R's coefficients */
    char *text = tu_slurp(cfg.design_out, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(tu_count_lines(text), 3001);
    const char *row = strchr(text, '\n') + 1;
    double eta = 0;
    for (size_t c = 0; c < sizeof(freq_ref) / sizeof(freq_ref[0]); c++) {
        char *end;
        eta += freq_ref[c].coef * strtod(row, &end);
        row = end + 1;
    }
    free(text);
    CU_ASSERT(fabs(res.eta - eta) < 1e-9);
    CU_ASSERT_EQUAL(unseen, 0);
    /* a level never seen in training is the base, and counted */
    struct own mars = {"35", "Mars", "C", "3.92"};
    struct own base = {"35", "West", "C", "3.92"};
    struct model_result r1, r2;
    fx.ud = &mars;
    model_score_with(m, &f, NULL, &fx, &r1, &unseen);
    CU_ASSERT_EQUAL(unseen, 1);
    fx.ud = &base;
    int none = 0;
    model_score_with(m, &f, NULL, &fx, &r2, &none);
    CU_ASSERT_EQUAL(none, 0);
    CU_ASSERT_DOUBLE_EQUAL(r1.eta, r2.eta, 0);
    CU_ASSERT_STRING_EQUAL(model_id(m), model_id(o.model));
    model_free(m);
    train_output_release(&o);
}

/* A file whose interaction does not fit its operands is refused. */
static void test_interaction_file_checked(void)
{
    struct train_config cfg;
    freq_config(&cfg);
    struct train_output o;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &o, &err), ENG_OK);
    CU_ASSERT_EQUAL_FATAL(model_save(o.model, "tmp/actuary_ix.json", &err),
                          ENG_OK);
    train_output_release(&o);
    char *text = tu_slurp("tmp/actuary_ix.json", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char *of = strstr(text, "\"of\":\t[1, 2]");
    CU_ASSERT_PTR_NOT_NULL_FATAL(of);
    memcpy(of, "\"of\":\t[0, 2]", 12);
    CU_ASSERT_EQUAL(tu_write_text("tmp/actuary_ix_bad.json", text), 0);
    CU_ASSERT_PTR_NULL(model_load("tmp/actuary_ix_bad.json", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "inputs[6]: the interaction's "
                                  "terms do not match its operands"));
    of = strstr(text, "\"of\":\t[0, 2]");
    memcpy(of, "\"of\":\t[2, 1]", 12);
    CU_ASSERT_EQUAL(tu_write_text("tmp/actuary_ix_bad.json", text), 0);
    CU_ASSERT_PTR_NULL(model_load("tmp/actuary_ix_bad.json", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'inputs[6].of' must name two "
                                  "earlier inputs"));
    free(text);
}

static void test_id_is_deterministic(void)
{
    struct train_config cfg;
    freq_config(&cfg);
    struct train_output a, b;
    struct eng_err err = {0};
    cfg.trained_at = "2026-01-01T00:00:00Z";
    cfg.command = "svcscore train one";
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &a, &err), ENG_OK);
    cfg.trained_at = "2026-03-04T05:06:07Z";
    cfg.command = "svcscore train two";
    cfg.jobs = 2;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &b, &err), ENG_OK);
    char ia[MODEL_ID_LEN], ib[MODEL_ID_LEN];
    CU_ASSERT_EQUAL(model_compute_id(a.model, ia, &err), ENG_OK);
    CU_ASSERT_EQUAL(model_compute_id(b.model, ib, &err), ENG_OK);
    CU_ASSERT_STRING_EQUAL(ia, ib);
    /* another base is another model */
    static const char *const east[] = {"territory=East"};
    struct train_output c;
    cfg.bases = east;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &c, &err), ENG_OK);
    char ic[MODEL_ID_LEN];
    CU_ASSERT_EQUAL(model_compute_id(c.model, ic, &err), ENG_OK);
    CU_ASSERT_STRING_NOT_EQUAL(ia, ic);
    /* the same fit: deviance equal whatever the base */
    CU_ASSERT(rel(c.fit->deviance, a.fit->deviance) < 1e-9);
    train_output_release(&a);
    train_output_release(&b);
    train_output_release(&c);
}

static void test_holdout_vins_are_the_split(void)
{
    struct train_config cfg;
    freq_config(&cfg);
    cfg.holdout = 0.25;
    cfg.seed = 7;
    struct train_output o;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &o, &err), ENG_OK);
    CU_ASSERT(o.n_test > 600 && o.n_test < 900);
    CU_ASSERT_EQUAL(o.n_test + o.n_train, 3000);
    size_t bad = 0;
    for (size_t i = 0; i < o.n_test; i++)
        bad += !train_is_holdout(o.test_vins + 18 * i, 7, 0.25);
    CU_ASSERT_EQUAL(bad, 0);
    train_output_release(&o);
}

static void test_sign_refits_without_the_input(void)
{
    /* density's estimate is positive: asking for - drops it and its
     * interaction, and says so */
    static const char *const neg[] = {"density=-"};
    struct train_config cfg;
    freq_config(&cfg);
    cfg.signs = neg;
    cfg.n_signs = 1;
    struct train_output o;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &o, &err), ENG_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.sign_dropped, "density (estimate 0.0139"));
    CU_ASSERT_EQUAL(o.model->n_inputs, 5);
    for (size_t i = 0; i < o.model->n_inputs; i++)
        CU_ASSERT_PTR_NULL(strstr(o.model->inputs[i].name, "density"));
    train_output_release(&o);
    /* a sign the fit keeps changes nothing */
    static const char *const pos[] = {"density=+"};
    cfg.signs = pos;
    CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &o, &err), ENG_OK);
    CU_ASSERT_STRING_EQUAL(o.sign_dropped, "");
    CU_ASSERT_EQUAL(o.model->n_inputs, 7);
    train_output_release(&o);
    /* a categorical column takes no sign */
    static const char *const cat[] = {"territory=+"};
    cfg.signs = cat;
    CU_ASSERT_EQUAL(train_run(&cfg, &o, &err), ENG_EUSAGE);
}

static void test_bad_columns_are_usage_errors(void)
{
    struct train_config cfg;
    freq_config(&cfg);
    struct train_output o;
    struct eng_err err = {0};
    static const char *const a[] = {"driver_age", "driver_age:nope"};
    cfg.columns = a;
    cfg.n_columns = 2;
    cfg.n_bases = 0;
    CU_ASSERT_EQUAL(train_run(&cfg, &o, &err), ENG_EUSAGE);
    static const char *const b[] = {"driver_age", "shoe_size"};
    cfg.columns = b;
    CU_ASSERT_EQUAL(train_run(&cfg, &o, &err), ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "shoe_size"));
    static const char *const c[] = {"driver_age", "territory"};
    static const char *const mars[] = {"territory=Mars"};
    cfg.columns = c;
    cfg.bases = mars;
    cfg.n_bases = 1;
    CU_ASSERT_EQUAL(train_run(&cfg, &o, &err), ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "Mars"));
}

static void test_factors_table_joins_and_types(void)
{
    struct eng_err err = {0};
    struct factors *fx = factors_load(DIR "factors.csv", NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx);
    CU_ASSERT_STRING_EQUAL(factors_key(fx), "vin");
    CU_ASSERT_EQUAL(factors_rows(fx), 3000);
    int g = factors_col(fx, "vgroup"), d = factors_col(fx, "density");
    CU_ASSERT(g >= 0 && d >= 0);
    CU_ASSERT_FALSE(factors_numeric(fx, g));
    CU_ASSERT_TRUE(factors_numeric(fx, d));
    long r = factors_find(fx, "1HGCM8261AB000002");
    CU_ASSERT_EQUAL(r, 1);
    CU_ASSERT_STRING_EQUAL(factors_cell(fx, r, d), "1.23");
    CU_ASSERT_EQUAL(factors_find(fx, "1HGCM8261AB999999"), -1);
    factors_free(fx);
    CU_ASSERT_EQUAL(tu_write_text("tmp/factors_dup.csv", "policy_id,x\n"
                                  "P1,a\nP2,b\nP1,c\n"), 0);
    fx = factors_load("tmp/factors_dup.csv", NULL, 0, &err);
    CU_ASSERT_PTR_NULL(fx);
    CU_ASSERT_EQUAL(err.code, ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":4: policy_id 'P1' repeats "
                                  "line 2"));
}


/* The row of input i with level (and level2), or NULL. */
static const struct rating_row *find_row(const struct rating_row *r,
                                         size_t n, size_t i, int level,
                                         int level2)
{
    for (size_t k = 0; k < n; k++) {
        if (r[k].kind > RATING_BASE && r[k].input == i &&
            r[k].level == level && r[k].level2 == level2 &&
            (r[k].kind == RATING_LEVEL || r[k].kind == RATING_BIN ||
             r[k].kind == RATING_CELL))
            return &r[k];
    }
    return NULL;
}

/* The bin of x: the row whose (lower, upper] holds it. */
static const struct rating_row *find_bin(const struct rating_row *r,
                                         size_t n, size_t i, double x)
{
    for (size_t k = 0; k < n; k++) {
        if (r[k].kind == RATING_BIN && r[k].input == i &&
            x > r[k].lower && x <= r[k].upper)
            return &r[k];
    }
    return NULL;
}

/*
 * The product rule: base risk times the vehicle's row of every input is
 * its model relativity, exactly for levels and at the bin's value for
 * numeric inputs; the vehicle's real value differs from it by no more
 * than its bin's spread.
 */
static void test_rating_table_product_rule(void)
{
    struct eng_err err = {0};
    struct factors *ff = factors_load(DIR "features.csv", NULL, 0, &err);
    struct factors *fo = factors_load(DIR "factors.csv", NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ff);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fo);
    for (int transform = 0; transform < 2; transform++) {
        struct train_config cfg;
        freq_config(&cfg);
        cfg.transform = transform;
        struct train_output o;
        CU_ASSERT_EQUAL_FATAL(train_run(&cfg, &o, &err), ENG_OK);
        const struct model *m = o.model;
        struct rating_row *rows;
        size_t n;
        CU_ASSERT_EQUAL_FATAL(rating_build(m, &rows, &n, &err), ENG_OK);
        CU_ASSERT_EQUAL(rows[0].kind, RATING_INTERCEPT);
        CU_ASSERT_EQUAL(rows[1].kind, RATING_BASE);
        CU_ASSERT_DOUBLE_EQUAL(rows[0].relativity, exp(m->intercept), 1e-12);
        double expo = 0;
        size_t checked = 0, inner = 0, within = 0;
        for (long v = 0; v < 400; v++) {
            char age[32], dens[32];
            int ca = factors_col(ff, "driver_age");
            int cd = factors_col(fo, "density");
            double xa = factors_num(factors_cell(ff, v, ca));
            double xd = factors_num(factors_cell(fo, v, cd));
            const struct rating_row *ba = find_bin(rows, n, 0, xa);
            const struct rating_row *bd = find_bin(rows, n, 3, xd);
            CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
            CU_ASSERT_PTR_NOT_NULL_FATAL(bd);
            snprintf(age, sizeof(age), "%.17g", ba->value);
            snprintf(dens, sizeof(dens), "%.17g", bd->value);
            struct own w = {age, factors_cell(ff, v, factors_col(ff,
                                                                 "territory")),
                            factors_cell(fo, v, factors_col(fo, "vgroup")),
                            dens};
            struct model_factors fx = {own_value, &w};
            struct feat_vec f;
            feat_vec_init(&f);
            struct model_result res;
            model_score_with(m, &f, NULL, &fx, &res, NULL);
            int kt = model_level(&m->inputs[1], NULL, &fx, NULL);
            int kg = model_level(&m->inputs[2], NULL, &fx, NULL);
            const struct rating_row *parts[] = {
                ba, find_row(rows, n, 1, kt, -1), find_row(rows, n, 2, kg, -1),
                bd, find_row(rows, n, 4, ba->level, bd->level),
                find_row(rows, n, 5, ba->level, kt),
                find_row(rows, n, 6, kt, kg)
            };
            double prod = rows[1].relativity;
            for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
                CU_ASSERT_PTR_NOT_NULL_FATAL(parts[k]);
                prod *= parts[k]->relativity;
            }
            CU_ASSERT(rel(prod, res.relativity) < 1e-10);
            checked++;
            /* the real values: within the bins' spread of the table */
            char ra[32], rd[32];
            snprintf(ra, sizeof(ra), "%.17g", xa);
            snprintf(rd, sizeof(rd), "%.17g", xd);
            w.age = ra;
            w.density = rd;
            struct model_result real;
            model_score_with(m, &f, NULL, &fx, &real, NULL);
            /* the model is bilinear in the two numeric inputs' values
             * (through their monotone transforms): the real relativity
             * lies between those at the corners of the two bins */
            if (!isfinite(ba->lower) || !isfinite(ba->upper) ||
                !isfinite(bd->lower) || !isfinite(bd->upper))
                continue;
            double lo = INFINITY, hi = -INFINITY;
            for (int c = 0; c < 4; c++) {
                snprintf(ra, sizeof(ra), "%.17g", c & 1 ? ba->upper
                                                        : ba->lower);
                snprintf(rd, sizeof(rd), "%.17g", c & 2 ? bd->upper
                                                        : bd->lower);
                struct model_result corner;
                model_score_with(m, &f, NULL, &fx, &corner, NULL);
                lo = fmin(lo, corner.relativity);
                hi = fmax(hi, corner.relativity);
            }
            inner++;
            within += real.relativity >= lo * (1 - 1e-12) &&
                      real.relativity <= hi * (1 + 1e-12) &&
                      res.relativity >= lo * (1 - 1e-12) &&
                      res.relativity <= hi * (1 + 1e-12);
        }
        CU_ASSERT_EQUAL(checked, 400);
        CU_ASSERT(inner > 200);
        CU_ASSERT_EQUAL(within, inner);
        for (size_t k = 0; k < n; k++) {
            if (rows[k].kind == RATING_LEVEL && rows[k].input == 1)
                expo += rows[k].exposure;
        }
        CU_ASSERT(rel(expo, m->inputs[1].base_exposure +
                      m->inputs[1].level_exposure[0] +
                      m->inputs[1].level_exposure[1] +
                      m->inputs[1].level_exposure[2]) < 1e-12);
        free(rows);
        train_output_release(&o);
    }
    factors_free(ff);
    factors_free(fo);
}

/*
 * The sparse path of glm_fit (mostly-zero columns by their nonzero
 * entries, rows with more than 64 of them paired by scanning) against
 * GSL's least squares: a gaussian fit is one least-squares solve.
 */
static void test_sparse_design_equals_least_squares(void)
{
    enum { N = 600, P = 81 };
    double *x = calloc(N * P, sizeof(double));
    double *y = calloc(N, sizeof(double));
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    gsl_matrix *X = gsl_matrix_alloc(N, P);
    gsl_vector *Y = gsl_vector_alloc(N), *b = gsl_vector_alloc(P);
    gsl_matrix *cov = gsl_matrix_alloc(P, P);
    for (size_t i = 0; i < N; i++) {
        double eta = 1;
        x[i * P] = 1;
        for (size_t j = 1; j < P; j++) {
            /* the first 10 rows are nonzero everywhere: over 64 */
            int on = i < 10 || gsl_rng_uniform(r) < 0.12;
            x[i * P + j] = on ? (j % 3 ? 1.0 : gsl_ran_gaussian(r, 1)) : 0;
            eta += 0.01 * (double)(j % 7) * x[i * P + j];
        }
        y[i] = eta + gsl_ran_gaussian(r, 0.5);
        for (size_t j = 0; j < P; j++)
            gsl_matrix_set(X, i, j, x[i * P + j]);
        gsl_vector_set(Y, i, y[i]);
    }
    double chisq;
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(N, P);
    CU_ASSERT_EQUAL(gsl_multifit_linear(X, Y, b, cov, &chisq, ws), 0);
    struct glm_options o;
    glm_options_init(&o, GLM_GAUSSIAN);
    o.threads = 2;
    struct glm_data d = {x, y, NULL, NULL, N, P};
    struct eng_err err = {0};
    struct glm_result *g = glm_fit(&d, &o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    double worst = 0;
    for (size_t j = 0; j < P; j++)
        worst = fmax(worst, fabs(g->coef[j] - gsl_vector_get(b, j)) /
                                fmax(fabs(gsl_vector_get(b, j)), 1e-3));
    CU_ASSERT(worst < 1e-8);
    CU_ASSERT(rel(g->deviance, chisq) < 1e-10);
    glm_result_free(g);
    gsl_multifit_linear_free(ws);
    gsl_matrix_free(cov);
    gsl_vector_free(b);
    gsl_vector_free(Y);
    gsl_matrix_free(X);
    gsl_rng_free(r);
    free(x);
    free(y);
}

static CU_TestInfo actuary_tests[] = {
    {"own factors and every interaction equal R's glm()",
     test_own_factors_and_interactions_equal_r},
    {"severity: gamma with claim_count weights equals R",
     test_severity_gamma_weights_equal_r},
    {"a saved model scores as its design; unseen level at base",
     test_saved_model_scores_as_the_design},
    {"the id is the same for the same fit", test_id_is_deterministic},
    {"an interaction that does not fit its operands is refused",
     test_interaction_file_checked},
    {"held-out VINs are the hash split", test_holdout_vins_are_the_split},
    {"--sign refits without a wrong-signed input",
     test_sign_refits_without_the_input},
    {"bad columns, interactions and bases are usage errors",
     test_bad_columns_are_usage_errors},
    {"rating table: base risk times the rows is the relativity",
     test_rating_table_product_rule},
    {"sparse design columns: glm equals least squares",
     test_sparse_design_equals_least_squares},
    {"factors table: key, join, types, repeated key",
     test_factors_table_joins_and_types},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_actuary_suites[] = {
    {"actuary", NULL, NULL, NULL, NULL, actuary_tests},
    CU_SUITE_INFO_NULL
};
