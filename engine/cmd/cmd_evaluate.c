/* svcscore evaluate — a model on labelled data: Gini, lift, A/E, deviance. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval.h"
#include "feat.h"
#include "glm.h"
#include "model.h"
#include "ptrain.h"
#include "tab.h"

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
    "  --buckets N       lift buckets (default 10)\n"
    "  --min-group N     smallest subgroup given figures (default 2000)\n"
    "  --json            machine-readable output\n"
    "  --help            this text\n";

enum {
    OPT_MODEL = CLI_OPT_FIRST_FREE, OPT_FEATURES, OPT_LABELS, OPT_TRUTH,
    OPT_JSON, OPT_BUCKETS, OPT_MIN_GROUP
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

/* vin -> two numbers, open addressing; enough for labels and truth. */
struct pair {
    char vin[24];
    double a, b;
};

struct pairs {
    struct pair *slot;
    size_t cap;
};

static size_t hash(const char *s)
{
    return (size_t)eng_fnv(ENG_FNV_BASIS, s, strlen(s));
}

static struct pair *find(const struct pairs *p, const char *vin)
{
    for (size_t i = hash(vin) & (p->cap - 1);; i = (i + 1) & (p->cap - 1)) {
        if (!p->slot[i].vin[0] || strcmp(p->slot[i].vin, vin) == 0)
            return &p->slot[i];
    }
}

/* Loads columns ca and cb of a CSV keyed by vin; returns 0 or -1. */
static int load_pairs(const char *path, const char *ca, const char *cb,
                      struct pairs *p)
{
    struct eng_err err = {0};
    struct tab *t = tab_open(path, &err);
    if (!t)
        return cli_fail(-1, "%s", err.msg);
    int iv = tab_col(t, "vin"), ia = tab_col(t, ca);
    int ib = cb ? tab_col(t, cb) : -1;
    if (iv < 0 || ia < 0 || (cb && ib < 0)) {
        tab_close(t);
        return cli_fail(-1, "'%s' needs columns vin, %s%s%s", path, ca,
                        cb ? " and " : "", cb ? cb : "");
    }
    size_t n = 0;
    const char *const *f;
    int rc;
    while ((rc = tab_next(t, &f, &err)) == 1) {
        if (2 * (n + 1) > p->cap) {
            struct pairs np = {calloc(p->cap ? p->cap * 2 : 4096,
                                      sizeof(struct pair)),
                               p->cap ? p->cap * 2 : 4096};
            if (!np.slot) {
                tab_close(t);
                return cli_fail(-1, "out of memory");
            }
            for (size_t i = 0; i < p->cap; i++) {
                if (p->slot[i].vin[0])
                    *find(&np, p->slot[i].vin) = p->slot[i];
            }
            free(p->slot);
            *p = np;
        }
        char *end;
        double a = strtod(f[ia], &end);
        int bad = *end != '\0' || !f[ia][0];
        double b = ib >= 0 ? strtod(f[ib], &end) : 0;
        bad |= ib >= 0 && (*end != '\0' || !f[ib][0]);
        if (bad || strlen(f[iv]) >= sizeof(p->slot[0].vin)) {
            tab_close(t);
            return cli_fail(-1, "%s:%ld: bad values for '%s'", path,
                            tab_line(t), f[iv]);
        }
        struct pair *s = find(p, f[iv]);
        n += !s->vin[0];
        snprintf(s->vin, sizeof(s->vin), "%s", f[iv]);
        s->a = a;
        s->b = b;
    }
    tab_close(t);
    if (rc < 0)
        return cli_fail(-1, "%s", err.msg);
    return 0;
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
        {"min-group", required_argument, NULL, OPT_MIN_GROUP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *model_path = NULL, *features = NULL, *labels = NULL;
    const char *truth = NULL;
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

    struct model *m = NULL;
    if (cli_load_model(model_path, &m) != CLI_OK)
        return CLI_FAIL;
    struct pairs lab = {0}, tru = {0};
    struct gkeys gk = {0};
    struct eval_row *rows = NULL;
    struct tab *t = NULL;
    int status = CLI_FAIL;
    if (load_pairs(labels, "claim_count", "exposure_years", &lab) < 0 ||
        (truth && load_pairs(truth, "true_frequency", NULL, &tru) < 0) ||
        (truth && load_gkeys(truth, &gk) < 0))
        goto out;

    struct eng_err err = {0};
    t = tab_open(features, &err);
    if (!t) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    int iv = tab_col(t, "vin"), is = tab_col(t, "status");
    int im = tab_col(t, "make");
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
        const struct pair *l = lab.cap ? find(&lab, f[iv]) : NULL;
        const struct pair *tr = tru.cap ? find(&tru, f[iv]) : NULL;
        if (!l || !l->vin[0] || (truth && (!tr || !tr->vin[0]))) {
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
            if (!r) {
                cli_fail(CLI_FAIL, "out of memory");
                goto out;
            }
            rows = r;
        }
        struct model_result res;
        model_score(m, &v, im >= 0 && f[im][0] ? f[im] : NULL, &res);
        double rate = res.relativity * model_mean_frequency(m);
        rows[n].y = l->a;
        rows[n].exposure = l->b;
        rows[n].pred = rate * l->b;
        rows[n].truth = truth ? tr->a * l->b : NAN;
        rows[n].band = res.band;
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
    if (json) {
        char *text = eval_to_json(&rep, &err);
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
    }
    status = CLI_OK;
out:
    tab_close(t);
    free(rows);
    free(lab.slot);
    free(tru.slot);
    free(gk.k);
    model_free(m);
    return status;
}
