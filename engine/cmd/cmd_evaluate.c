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
#include "label.h"
#include "model.h"
#include "ptrain.h"
#include "tab.h"
#include "factors.h"

static const char usage[] =
    "usage: svcscore evaluate --model M --features F --labels L "
    "[--truth T] [--json]\n"
    "\n"
    "Validates a model on labelled vehicles: Gini of the ordered Lorenz\n"
    "curve (and the oracle Gini when the synthetic truth is given), a\n"
    "decile lift table with equal-exposure buckets, actual/expected by\n"
    "band and the mean Poisson deviance.\n\noptions:\n"
    "  --model FILE      the model (default: models/default.json)\n"
    "  --features FILE   features CSV ('svcscore features')\n"
    "  --labels FILE     claims: vin, claim_count, exposure_years\n"
    "  --truth FILE      synthetic truth: vin, true_frequency\n"
    "  --factors FILE    own rating factors by vin or policy_id (else the\n"
    "                    features CSV's own columns are used)\n"
    "  --buckets N       lift buckets (default 10)\n"
    "  --json            machine-readable output\n"
    "  --help            this text\n";

enum {
    OPT_MODEL = CLI_OPT_FIRST_FREE, OPT_FEATURES, OPT_LABELS, OPT_TRUTH,
    OPT_JSON, OPT_BUCKETS, OPT_FACTORS
};

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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *model_path = NULL, *features = NULL, *labels = NULL;
    const char *truth = NULL, *factors_path = NULL;
    int json = 0;
    long buckets = EVAL_DEFAULT_BUCKETS;
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
        case OPT_BUCKETS:
            if (cli_parse_long(optarg, 1, EVAL_MAX_BUCKETS, &buckets) < 0)
                return cli_fail(CLI_USAGE, "--buckets takes 1 to %d",
                                EVAL_MAX_BUCKETS);
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
    struct label_set *lab = NULL, *tru = NULL;
    struct eval_row *rows = NULL;
    struct tab *t = NULL;
    struct factors *fx = NULL;
    size_t unseen = 0;
    int status = CLI_FAIL;
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
            if (!r) {
                cli_fail(CLI_FAIL, "out of memory");
                goto out;
            }
            rows = r;
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
        n++;
    }
    if (rc < 0) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    struct eval_report rep;
    if (eval_compute(rows, n, (size_t)buckets, &rep, &err) < 0) {
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
    if (unseen)
        cli_warn("%zu vehicles have a level of an own factor not seen in "
                 "training: scored at its base level", unseen);
    status = CLI_OK;
out:
    factors_free(fx);
    tab_close(t);
    free(rows);
    label_free(lab);
    label_free(tru);
    model_free(m);
    return status;
}
