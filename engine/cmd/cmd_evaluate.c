/* svcscore evaluate — a model on labelled data: Gini, lift, A/E, deviance. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "eval.h"
#include "eval_chart.h"
#include "feat.h"
#include "glm.h"
#include "label.h"
#include "model.h"
#include "ptrain.h"
#include "tab.h"
#include "factors.h"
#include "vreport.h"

static const char usage[] =
    "usage: svcscore evaluate --model M --features F --labels L "
    "[--truth T] [--json]\n"
    "\n"
    "Validates a model on labelled vehicles: Gini of the ordered Lorenz\n"
    "curve (and the oracle Gini when the synthetic truth is given), a\n"
    "decile lift table with equal-exposure buckets, actual/expected by\n"
    "band and the mean Poisson deviance; then Gini, oracle Gini and\n"
    "actual/expected by subgroup (history from new or mid-life, each\n"
    "powertrain, high mileage), keyed by the truth file's powertrain,\n"
    "history_from_new and high_mileage columns, else by the features'\n"
    "powertrain, history_from_new and est_annual_km (40,000 km or more\n"
    "is high) where present.\n\noptions:\n"
    "  --model FILE      the model (default: models/default.json)\n"
    "  --features FILE   features CSV ('svcscore features')\n"
    "  --labels FILE     claims: vin, claim_count, exposure_years\n"
    "  --truth FILE      synthetic truth: vin, true_frequency\n"
    "  --factors FILE    own rating factors by vin or policy_id (else the\n"
    "                    features CSV's own columns are used)\n"
    "  --buckets N       lift buckets (default 10)\n"
    "  --min-group N     smallest subgroup given figures (default 2000)\n"
    "  --json            machine-readable output\n"
    "  --json            machine-readable output (with the charts' figures)\n"
    "  --report FILE     the validation report, one HTML page that opens\n"
    "                    offline: Lorenz curve, lift, A/E by band and by\n"
    "                    input, calibration (README.md, Reports)\n"
    "  --compare MODEL   a second model: both Ginis and the double lift\n"
    "  --bootstrap N     N resamples for a 95% interval on the Gini (and on\n"
    "                    the difference with --compare); default 0, off\n"
    "  --seed S          the bootstrap's seed (default 1)\n"
    "  --help            this text\n";

enum {
    OPT_MODEL = CLI_OPT_FIRST_FREE, OPT_FEATURES, OPT_LABELS, OPT_TRUTH,
    OPT_JSON, OPT_BUCKETS, OPT_FACTORS, OPT_REPORT, OPT_COMPARE,
    OPT_BOOTSTRAP, OPT_SEED, OPT_MIN_GROUP
};

/* ===== subgroup keys ===== */

#define HIGH_KM 40000.0     /* est_annual_km from which a vehicle counts as
                               high-mileage, as the synthetic fleet's */

/* One vehicle's subgroup keys, from the truth file. */
struct gkey {
    char vin[24];
    unsigned char history, ptrain, mileage;
};

struct gkeys {
    struct gkey *k;
    size_t n;
};

static unsigned char ptrain_key(const char *s)
{
    switch (ptrain_parse(s)) {
    case PTRAIN_ICE: return EVAL_PT_ICE;
    case PTRAIN_HEV: return EVAL_PT_HEV;
    case PTRAIN_PHEV: return EVAL_PT_PHEV;
    case PTRAIN_BEV: return EVAL_PT_BEV;
    default: return EVAL_PT_UNKNOWN;
    }
}

/* "1" from new, "0" mid-life, else unknown. */
static unsigned char history_key(const char *s)
{
    if (s && strcmp(s, "1") == 0)
        return EVAL_HIST_NEW;
    if (s && strcmp(s, "0") == 0)
        return EVAL_HIST_MIDLIFE;
    return EVAL_HIST_UNKNOWN;
}

static unsigned char km_key(const char *s, double high)
{
    char *end;
    if (!s || !s[0])
        return EVAL_KM_UNKNOWN;
    double x = strtod(s, &end);
    if (*end != '\0' || !(x >= 0))
        return EVAL_KM_UNKNOWN;
    return x >= high ? EVAL_KM_HIGH : EVAL_KM_NORMAL;
}

static int gkey_cmp(const void *a, const void *b)
{
    return strcmp(((const struct gkey *)a)->vin,
                  ((const struct gkey *)b)->vin);
}

/* Loads the truth file's key columns (those present; none: no keys);
 * returns 0 or -1. */
static int load_gkeys(const char *path, struct gkeys *g)
{
    struct eng_err err = {0};
    struct tab *t = tab_open(path, &err);
    if (!t)
        return cli_fail(-1, "%s", err.msg);
    int iv = tab_col(t, "vin"), ip = tab_col(t, "powertrain");
    int ih = tab_col(t, "history_from_new"), ik = tab_col(t, "high_mileage");
    size_t cap = 0;
    const char *const *f;
    int rc = 0;
    /* a truth file without any key column leaves the keys to the features */
    if (ip < 0 && ih < 0 && ik < 0)
        iv = -1;
    while (iv >= 0 && (rc = tab_next(t, &f, &err)) == 1) {
        if (g->n == cap) {
            cap = cap ? cap * 2 : 4096;
            struct gkey *k = realloc(g->k, cap * sizeof(*k));
            if (!k) {
                tab_close(t);
                return cli_fail(-1, "out of memory");
            }
            g->k = k;
        }
        struct gkey *k = &g->k[g->n++];
        snprintf(k->vin, sizeof(k->vin), "%s", f[iv]);
        k->ptrain = ip >= 0 ? ptrain_key(f[ip]) : EVAL_PT_UNKNOWN;
        k->history = ih >= 0 ? history_key(f[ih]) : EVAL_HIST_UNKNOWN;
        k->mileage = ik >= 0 ? km_key(f[ik], 1) : EVAL_KM_UNKNOWN;
    }
    tab_close(t);
    if (iv >= 0 && rc < 0)
        return cli_fail(-1, "%s", err.msg);
    if (g->n)
        qsort(g->k, g->n, sizeof(*g->k), gkey_cmp);
    return 0;
}

static const struct gkey *find_gkey(const struct gkeys *g, const char *vin)
{
    struct gkey want;
    if (!g->n || strlen(vin) >= sizeof(want.vin))
        return NULL;
    snprintf(want.vin, sizeof(want.vin), "%s", vin);
    return bsearch(&want, g->k, g->n, sizeof(*g->k), gkey_cmp);
}


/* A features row's own factors: its own columns, else --factors. */
struct eval_own {
    const struct tab *t;
    const char *const *f;
    const struct factors *fx;
    long row;
};

static const char *eval_own_value(const void *ud, const char *name)
{
    const struct eval_own *o = ud;
    int c = tab_col(o->t, name);
    if (c >= 0)
        return o->f[c];
    int k = o->fx && o->row >= 0 ? factors_col(o->fx, name) : -1;
    return k < 0 ? NULL : factors_cell(o->fx, o->row, k);
}

/* Calibration groups and one-way bins of the validation report. */
#define CALIB_BUCKETS 20
#define ONEWAY_BINS 5

/*
 * The chart figures (vreport.h) of the n rows: feats holds FEAT_COUNT
 * values per row; pred2 the second model's predictions or NULL.  The
 * model's inputs are the features it holds benchmarks for.
 */
static int charts(const struct model *m, const struct eval_row *rows,
                  const double *feats, const double *pred2, size_t n,
                  const struct eval_report *rep, struct vreport *v,
                  struct eval_report *calib, struct eval_report *other,
                  struct vreport_oneway *ow, struct evalc_dl_bucket *dl,
                  struct eng_err *err)
{
    static struct evalc_point lz[3][EVALC_MAX_POINTS];
    double *y = malloc(n * sizeof(*y)), *e = malloc(n * sizeof(*e));
    double *p = malloc(n * sizeof(*p)), *x = malloc(n * sizeof(*x));
    int rc = y && e && p && x ? ENG_OK
             : eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (size_t i = 0; rc == ENG_OK && i < n; i++) {
        y[i] = rows[i].y;
        e[i] = rows[i].exposure;
        p[i] = rows[i].pred;
    }
    v->main = rep;
    if (rc == ENG_OK)
        rc = evalc_lorenz(y, e, p, n, EVALC_MAX_POINTS, lz[0], &v->n_lorenz,
                          err);
    v->lorenz = lz[0];
    if (rc == ENG_OK && isfinite(rep->gini_oracle)) {
        for (size_t i = 0; i < n; i++)
            p[i] = rows[i].truth;
        rc = evalc_lorenz(y, e, p, n, EVALC_MAX_POINTS, lz[1],
                          &v->n_lorenz_oracle, err);
        v->lorenz_oracle = lz[1];
    }
    if (rc == ENG_OK)
        rc = eval_compute(rows, n, CALIB_BUCKETS, calib, err);
    v->calib = calib;
    if (rc == ENG_OK && pred2) {
        struct eval_row *r2 = malloc(n * sizeof(*r2));
        if (!r2) {
            rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
        } else {
            for (size_t i = 0; i < n; i++) {
                r2[i] = rows[i];
                r2[i].pred = pred2[i];
                r2[i].band = 0;
            }
            rc = eval_compute(r2, n, rep->n_buckets, other, err);
            free(r2);
        }
        if (rc == ENG_OK)
            rc = evalc_lorenz(y, e, pred2, n, EVALC_MAX_POINTS, lz[2],
                              &v->n_lorenz_other, err);
        if (rc == ENG_OK)
            rc = evalc_double_lift(rows, pred2, n, rep->n_buckets, dl, err);
        v->other = other;
        v->lorenz_other = lz[2];
        v->dl = dl;
        v->n_dl = rep->n_buckets;
    }
    for (int f = 0; rc == ENG_OK && f < FEAT_COUNT; f++) {
        if (isnan(model_percentile(m, f, 0)) || v->n_oneway ==
            VREPORT_MAX_INPUTS)
            continue;
        for (size_t i = 0; i < n; i++)
            x[i] = feats[i * FEAT_COUNT + (size_t)f];
        struct vreport_oneway *w = &ow[v->n_oneway];
        w->name = feat_name(f);
        rc = evalc_oneway(x, rows, n, ONEWAY_BINS, w->bins, &w->n_bins, err);
        v->n_oneway++;
    }
    v->oneway = ow;
    if (rc == ENG_OK && v->boot_reps)
        rc = evalc_bootstrap_gini(rows, pred2, n, v->boot_reps, v->boot_seed,
                                  &v->ci, &v->ci_other, &v->ci_diff, err);
    free(y);
    free(e);
    free(p);
    free(x);
    return rc;
}

/* evaluate's JSON: eval_to_json() with the charts under "charts". */
static char *json_with_charts(const struct eval_report *rep,
                              const struct vreport *v, struct eng_err *err)
{
    char *text = eval_to_json(rep, err);
    if (!text)
        return NULL;
    cJSON *o = cJSON_Parse(text);
    free(text);
    cJSON *c = o ? vreport_json(v, err) : NULL;
    if (!c) {
        cJSON_Delete(o);
        eng_err_set(err, ENG_ENOMEM, "out of memory for the JSON");
        return NULL;
    }
    cJSON_AddItemToObject(o, "charts", c);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        eng_err_set(err, ENG_ENOMEM, "out of memory for the JSON");
    return text;
}

int cmd_evaluate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, OPT_MODEL},
        {"features", required_argument, NULL, OPT_FEATURES},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"truth", required_argument, NULL, OPT_TRUTH},
        {"buckets", required_argument, NULL, OPT_BUCKETS},
        {"json", no_argument, NULL, OPT_JSON},
        {"factors", required_argument, NULL, OPT_FACTORS},
        {"report", required_argument, NULL, OPT_REPORT},
        {"compare", required_argument, NULL, OPT_COMPARE},
        {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
        {"seed", required_argument, NULL, OPT_SEED},
        {"min-group", required_argument, NULL, OPT_MIN_GROUP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *model_path = NULL, *features = NULL, *labels = NULL;
    const char *truth = NULL, *factors_path = NULL;
    const char *report = NULL, *compare = NULL;
    long boot = 0, seed = 1;
    int json = 0;
    long buckets = EVAL_DEFAULT_BUCKETS;
    long min_group = EVAL_MIN_GROUP;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_MODEL: model_path = optarg; break;
        case OPT_FEATURES: features = optarg; break;
        case OPT_LABELS: labels = optarg; break;
        case OPT_TRUTH: truth = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_FACTORS: factors_path = optarg; break;
        case OPT_REPORT: report = optarg; break;
        case OPT_COMPARE: compare = optarg; break;
        case OPT_BOOTSTRAP:
            if (cli_parse_long(optarg, 0, 100000, &boot) < 0)
                return cli_fail(CLI_USAGE, "--bootstrap takes 0 to 100000");
            break;
        case OPT_SEED:
            if (cli_parse_long(optarg, 0, 2147483647L, &seed) < 0)
                return cli_fail(CLI_USAGE, "--seed takes 0 to 2147483647");
            break;
        case OPT_BUCKETS:
            if (cli_parse_long(optarg, 1, EVAL_MAX_BUCKETS, &buckets) < 0)
                return cli_fail(CLI_USAGE, "--buckets takes 1 to %d",
                                EVAL_MAX_BUCKETS);
            break;
        case OPT_MIN_GROUP:
            if (cli_parse_long(optarg, 1, 1000000000L, &min_group) < 0)
                return cli_fail(CLI_USAGE, "--min-group takes a whole "
                                "number from 1");
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_OK;
        default:
            fputs(usage, stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!features || !labels)
        return cli_fail(CLI_USAGE, "--features and --labels are required");

    struct model *m = NULL, *m2 = NULL;
    if (cli_load_model(model_path, &m) != CLI_OK)
        return CLI_FAIL;
    if (compare && cli_load_model(compare, &m2) != CLI_OK) {
        model_free(m);
        return CLI_FAIL;
    }
    int want_charts = json || report || compare || boot;
    double *feats = NULL, *pred2 = NULL;
    struct vreport_oneway *ow = NULL;
    struct label_set *lab = NULL, *tru = NULL;
    struct gkeys gk = {0};
    struct eval_row *rows = NULL;
    struct tab *t = NULL;
    struct factors *fx = NULL;
    size_t unseen = 0;
    int status = CLI_FAIL;
    if (truth && load_gkeys(truth, &gk) < 0)
        goto out;
    struct eng_err err = {0};
    if (factors_path && !(fx = factors_load(factors_path, NULL, 0, &err))) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    lab = label_load(labels, LABEL_CLAIMS, &err);
    if (lab && truth)
        tru = label_load(truth, LABEL_TRUTH, &err);
    if (!lab || (truth && !tru)) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }

    t = tab_open(features, &err);
    if (!t) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    int iv = tab_col(t, "vin"), is = tab_col(t, "status");
    int im = tab_col(t, "make"), ipol = tab_col(t, "policy_id");
    int ipt = tab_col(t, "powertrain");
    int fhn = tab_col(t, "history_from_new");
    int fkm = tab_col(t, "est_annual_km");
    int col[FEAT_COUNT];
    for (int i = 0; i < FEAT_COUNT; i++)
        col[i] = tab_col(t, feat_name(i));
    if (iv < 0 || is < 0) {
        cli_fail(CLI_FAIL, "features '%s' need columns vin and status",
                 features);
        goto out;
    }
    size_t n = 0, cap = 0, skipped = 0, unlabelled = 0;
    const char *const *f;
    int rc;
    while ((rc = tab_next(t, &f, &err)) == 1) {
        if (strcmp(f[is], "ok") != 0) {
            skipped++;
            continue;
        }
        const struct label *l = label_find(lab, f[iv]);
        const struct label *tr = tru ? label_find(tru, f[iv]) : NULL;
        if (!l || (truth && !tr)) {
            unlabelled++;
            continue;
        }
        struct feat_vec v;
        feat_vec_init(&v);
        v.ptrain = ipt >= 0 ? ptrain_parse(f[ipt]) : PTRAIN_UNKNOWN;
        for (int i = 0; i < FEAT_COUNT; i++) {
            char *end;
            v.v[i] = NAN;
            if (col[i] >= 0 && f[col[i]][0]) {
                double x = strtod(f[col[i]], &end);
                if (*end == '\0')
                    v.v[i] = x;
            }
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            struct eval_row *r = realloc(rows, cap * sizeof(*rows));
            if (r)
                rows = r;
            double *nf = want_charts ? realloc(feats, cap * FEAT_COUNT
                                               * sizeof(*feats)) : feats;
            if (nf)
                feats = nf;
            double *p2 = m2 ? realloc(pred2, cap * sizeof(*pred2)) : pred2;
            if (p2)
                pred2 = p2;
            if (!r || (want_charts && !nf) || (m2 && !p2)) {
                cli_fail(CLI_FAIL, "out of memory");
                goto out;
            }
        }
        struct model_result res;
        struct eval_own own = {t, f, fx, -1};
        if (fx) {
            int by_vin = strcmp(factors_key(fx), "vin") == 0;
            own.row = by_vin ? factors_find(fx, f[iv])
                      : ipol >= 0 ? factors_find(fx, f[ipol]) : -1;
        }
        struct model_factors mf = {eval_own_value, &own};
        int u = 0;
        model_score_with(m, &v, im >= 0 && f[im][0] ? f[im] : NULL, &mf,
                         &res, &u);
        unseen += u > 0;
        double rate = res.relativity * model_mean_frequency(m);
        rows[n].y = l->claims;
        rows[n].exposure = l->exposure;
        rows[n].pred = rate * l->exposure;
        rows[n].truth = truth ? tr->truth * l->exposure : NAN;
        rows[n].band = res.band;
        if (want_charts)
            memcpy(&feats[n * FEAT_COUNT], v.v, FEAT_COUNT * sizeof(*feats));
        if (m2) {
            struct model_result r2;
            int u2 = 0;
            model_score_with(m2, &v, im >= 0 && f[im][0] ? f[im] : NULL, &mf,
                             &r2, &u2);
            pred2[n] = r2.relativity * model_mean_frequency(m2)
                       * l->exposure;
        }
        const struct gkey *key = find_gkey(&gk, f[iv]);
        if (key) {
            rows[n].ptrain = key->ptrain;
            rows[n].history = key->history;
            rows[n].mileage = key->mileage;
        } else {
            rows[n].ptrain = ipt >= 0 ? ptrain_key(f[ipt]) : EVAL_PT_UNKNOWN;
            rows[n].history = fhn >= 0 ? history_key(f[fhn])
                                       : EVAL_HIST_UNKNOWN;
            rows[n].mileage = fkm >= 0 ? km_key(f[fkm], HIGH_KM)
                                       : EVAL_KM_UNKNOWN;
        }
        n++;
    }
    if (rc < 0) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    struct eval_report rep;
    if (eval_compute(rows, n, (size_t)buckets, &rep, &err) < 0
        || eval_subgroups(rows, n, (size_t)min_group, &rep, &err) < 0) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    static struct eval_report calib, other;
    static struct evalc_dl_bucket dl[EVAL_MAX_BUCKETS];
    struct vreport vr;
    memset(&vr, 0, sizeof(vr));
    vr.model_id = model_id(m);
    vr.compare_id = m2 ? model_id(m2) : NULL;
    vr.features = features;
    vr.labels = labels;
    vr.truth = truth;
    vr.skipped = skipped;
    vr.unlabelled = unlabelled;
    vr.boot_reps = (size_t)boot;
    vr.boot_seed = (unsigned long long)seed;
    ow = calloc(VREPORT_MAX_INPUTS, sizeof(*ow));
    if (!ow) {
        cli_fail(CLI_FAIL, "out of memory");
        goto out;
    }
    if (want_charts && charts(m, rows, feats, pred2, n, &rep, &vr, &calib,
                              &other, ow, dl, &err) < 0) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    if (report) {
        if (vreport_write(report, &vr, &err) < 0) {
            cli_fail(CLI_FAIL, "%s", err.msg);
            goto out;
        }
        fprintf(stderr, "svcscore: evaluate: report written to %s\n",
                report);
    }
    if (json) {
        char *text = json_with_charts(&rep, &vr, &err);
        if (!text) {
            cli_fail(CLI_FAIL, "%s", err.msg);
            goto out;
        }
        puts(text);
        free(text);
    } else {
        printf("model %s on %s (%zu vehicles; %zu not ok and %zu without "
               "label left out)\n", model_id(m), features, n, skipped,
               unlabelled);
        if (eval_print_text(&rep, stdout, &err) < 0) {
            cli_fail(CLI_FAIL, "%s", err.msg);
            goto out;
        }
        if (m2)
            printf("compared model %s: Gini %.4f (difference %+.4f)\n",
                   model_id(m2), other.gini, rep.gini - other.gini);
        if (boot)
            printf("bootstrap (%ld resamples, seed %ld): Gini 95%% interval "
                   "%.4f to %.4f\n", boot, seed, vr.ci.lo, vr.ci.hi);
        if (boot && m2)
            printf("  compared model %.4f to %.4f; difference %.4f to "
                   "%.4f\n", vr.ci_other.lo, vr.ci_other.hi, vr.ci_diff.lo,
                   vr.ci_diff.hi);
    }
    if (unseen)
        cli_warn("%zu vehicles have a level of an own factor not seen in "
                 "training: scored at its base level", unseen);
    status = CLI_OK;
out:
    factors_free(fx);
    tab_close(t);
    free(rows);
    free(feats);
    free(pred2);
    free(ow);
    model_free(m2);
    label_free(lab);
    label_free(tru);
    free(gk.k);
    model_free(m);
    return status;
}
