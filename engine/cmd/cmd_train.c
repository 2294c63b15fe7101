/* svcscore train — features + claims labels -> model file (README.md,
 * Outputs: Model file). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_cdf.h>

#include "cli.h"
#include "eval.h"
#include "glm.h"
#include "model.h"
#include "model_internal.h"
#include "train.h"

static const char usage[] =
    "usage: svcscore train --features F --labels L --out MODEL [options]\n"
    "\n"
    "Fits a GLM of claims on maintenance features and writes a model file.\n"
    "\noptions:\n"
    "  --features FILE      features CSV from 'svcscore features'\n"
    "  --labels FILE        claims: vin, claim_count, exposure_years\n"
    "                       [, claim_amount, weight]\n"
    "  --out FILE           the model file to write (atomically)\n"
    "  --family NAME        poisson (default), gamma, binomial, gaussian\n"
    "  --link NAME          the family's link (default: poisson log, gamma\n"
    "                       log, binomial logit, gaussian identity)\n"
    "  --columns A,B,...    inputs (default: the shipped model's): features,\n"
    "                       'make', own columns (text ones categorical),\n"
    "                       and a:b interactions of two of them\n"
    "  --transform MODE     standard (default) or none (columns as given)\n"
    "  --holdout SHARE      share of vehicles held out for validation (0)\n"
    "  --seed N             seed of the holdout split (default 1)\n"
    "  --lambda L           L2 penalty on the standardised coefficients (0)\n"
    "  --factors FILE       own rating factors: a CSV keyed by vin (or\n"
    "                       policy_id); its columns, like the features\n"
    "                       CSV's own, can be named in --columns\n"
    "  --base COL=LEVEL     base level of a categorical column (default:\n"
    "                       its most frequent level; repeatable)\n"
    "  --sign COL=+|-       the sign COL's estimate must have; a fit that\n"
    "                       breaks it is refitted without COL (repeatable)\n"
    "  --holdout-out FILE   write the held-out VINs, one a line\n"
    "  --design-out FILE    write the design matrix, response, weight and\n"
    "                       offset as CSV\n"
    "  --jobs N             threads for the fit (default: cores)\n"
    "  --help               this text\n";

enum {
    OPT_FEATURES = CLI_OPT_FIRST_FREE, OPT_LABELS, OPT_FAMILY, OPT_LINK,
    OPT_COLUMNS, OPT_TRANSFORM, OPT_HOLDOUT, OPT_SEED, OPT_LAMBDA,
    OPT_FACTORS, OPT_BASE, OPT_SIGN, OPT_HOLDOUT_OUT, OPT_DESIGN_OUT
};

/*
 * p-values as R's printCoefmat prints them (format.pval with 3 digits):
 * below the machine epsilon "<2e-16"; the others with 3 significant
 * digits, fixed notation (common decimals) from 1e-3 up, scientific
 * (common mantissa digits) below.
 */
static int sig_needed(double v)
{
    char a[32], b[32];
    snprintf(b, sizeof(b), "%.2e", v);
    for (int d = 1; d < 3; d++) {
        snprintf(a, sizeof(a), "%.*e", d - 1, v);
        if (strtod(a, NULL) == strtod(b, NULL))
            return d;
    }
    return 3;
}

static void r_pvalues(const double *pv, const unsigned char *skip, size_t n,
                      char (*out)[16])
{
    int fix_dec = 0, sci_dig = 0, small_dec = 0;
    for (size_t i = 0; i < n; i++) {
        double v = pv[i];
        if (skip[i] || isnan(v) || v < 2.220446049250313e-16)
            continue;
        int e = (int)floor(log10(v));
        /* rounding to 3 digits can carry into the next power of ten */
        char t[32];
        snprintf(t, sizeof(t), "%.2e", v);
        e = (int)floor(log10(strtod(t, NULL)));
        int sig = sig_needed(v);
        if (e >= -3 || v == 0) {
            int dec = sig - 1 - e;
            fix_dec = dec > fix_dec ? dec : fix_dec;
        } else {
            sci_dig = sig - 1 > sci_dig ? sig - 1 : sci_dig;
            small_dec = sig - 1 - e > small_dec ? sig - 1 - e : small_dec;
        }
    }
    /* R's format(): fixed when no wider than scientific */
    int small_fixed = 2 + small_dec <= (sci_dig ? 2 + sci_dig : 1) + 4;
    for (size_t i = 0; i < n; i++) {
        double v = pv[i];
        if (skip[i] || isnan(v)) {
            snprintf(out[i], 16, "NA");
        } else if (v < 2.220446049250313e-16) {
            snprintf(out[i], 16, "<2e-16");
        } else {
            char t[32];
            snprintf(t, sizeof(t), "%.2e", v);
            if (floor(log10(strtod(t, NULL))) >= -3)
                snprintf(out[i], 16, "%.*f", fix_dec, v);
            else if (small_fixed)
                snprintf(out[i], 16, "%.*f", small_dec, v);
            else
                snprintf(out[i], 16, "%.*e", sci_dig, v);
        }
    }
}

/* R's significance stars. */
static const char *stars(double p)
{
    return isnan(p) ? "" : p < 0.001 ? "***" : p < 0.01 ? "**"
           : p < 0.05 ? "*" : p < 0.1 ? "." : "";
}

static void print_summary(const struct train_output *o,
                          const struct train_config *cfg)
{
    const struct glm_result *g = o->fit;
    printf("Call: glm(%s ~ ., family = %s(link = \"%s\")%s)\n\n",
           cfg->family == GLM_GAMMA ? "claim_amount / claim_count"
           : "claims", glm_family_name(g->family), glm_link_name(g->link),
           cfg->family == GLM_POISSON || cfg->family == GLM_BINOMIAL
           ? ", offset = log(exposure_years)"
           : cfg->family == GLM_GAMMA ? ", weights = claim_count" : "");
    printf("Deviance Residuals:\n    Min       1Q   Median       3Q      "
           "Max\n%8.4f %8.4f %8.4f %8.4f %8.4f\n\n", o->resid_q[0],
           o->resid_q[1], o->resid_q[2], o->resid_q[3], o->resid_q[4]);
    printf("Coefficients:\n%-34s %12s %11s %8s %10s %9s\n", "",
           "Estimate", "Std. Error", g->stat_is_t ? "t value" : "z value",
           g->stat_is_t ? "Pr(>|t|)" : "Pr(>|z|)", "exp(b)");
    char (*pv)[16] = calloc(g->p, sizeof(*pv));
    if (pv)
        r_pvalues(g->pvalue, g->aliased, g->p, pv);
    for (size_t c = 0; c < g->p; c++) {
        if (g->aliased[c]) {
            printf("%-34.34s %12s %11s %8s %10s %9s\n", o->col_names[c],
                   "NA", "NA", "NA", "NA", "");
            continue;
        }
        printf("%-34.34s %12.6g %11.4g %8.3f %10s %9.4f %s\n",
               o->col_names[c], g->coef[c], g->se[c], g->stat[c],
               pv ? pv[c] : "?", exp(g->coef[c]), stars(g->pvalue[c]));
    }
    free(pv);
    printf("---\nSignif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1\n\n");
    if (g->rank < g->p)
        printf("(%zu coefficients not defined because of singularities)\n",
               g->p - g->rank);
    printf("(Dispersion parameter for %s family taken to be %.6g)\n\n",
           glm_family_name(g->family), g->dispersion);
    printf("    Null deviance: %.4f  on %ld  degrees of freedom\n",
           g->null_deviance, g->df_null);
    printf("Residual deviance: %.4f  on %ld  degrees of freedom\n",
           g->deviance, g->df_residual);
    printf("AIC: %.4f    log-likelihood: %.4f    Pearson dispersion: %.4f\n",
           g->aic, g->loglik, g->pearson_dispersion);
    printf("Number of Fisher Scoring iterations: %d%s\n", g->iterations,
           g->converged ? "" : " (not converged)");
    if (g->warning_text[0])
        printf("Warning: %s\n", g->warning_text);
    printf("\nRows: %zu trained, %zu held out; skipped: %zu not ok, %zu "
           "without label, %zu with a missing value, %zu without claims "
           "(gamma)\n", o->n_train, o->n_test, o->skipped_status,
           o->skipped_label, o->skipped_missing, o->skipped_family);
    const struct model *m = o->model;
    int head = 0;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct model_input *in = &m->inputs[i];
        if (!in->categorical)
            continue;
        if (!head++)
            printf("\nLevels (training exposure in years; the base is the "
                   "reference level):\n");
        printf("  %s: base %s (%.2f)", in->name, in->base_level,
               in->base_exposure);
        for (size_t k = 0; k < in->n_levels; k++)
            printf(", %s (%.2f)", in->levels[k], in->level_exposure[k]);
        printf("\n");
    }
    if (o->unseen_test)
        printf("Held-out rows with a level not seen in training (scored at "
               "the base): %zu\n", o->unseen_test);
    if (o->sign_dropped[0])
        printf("Refitted without inputs whose sign broke --sign: %s\n",
               o->sign_dropped);
}

static void print_holdout(const struct train_output *o, const char *path)
{
    if (o->n_test == 0)
        return;
    struct eval_row *rows = calloc(o->n_test, sizeof(*rows));
    if (!rows)
        return;
    for (size_t i = 0; i < o->n_test; i++) {
        rows[i].y = o->test[i].y;
        rows[i].exposure = o->test[i].exposure;
        rows[i].pred = o->test[i].pred;
        rows[i].truth = NAN;
    }
    struct eval_report rep;
    struct eng_err err = {0};
    if (eval_compute(rows, o->n_test, 10, &rep, &err) == ENG_OK) {
        printf("\nHeld-out validation (%zu vehicles) of %s:\n", o->n_test,
               path);
        eval_print_text(&rep, stdout, NULL);
    } else {
        cli_warn("holdout evaluation: %s", err.msg);
    }
    free(rows);
}

/* Splits a comma list in place into at most max names. */
static size_t split_columns(char *s, const char **out, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
        out[n++] = tok;
    return n;
}

int cmd_train(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"features", required_argument, NULL, OPT_FEATURES},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"out", required_argument, NULL, CLI_OPT_OUT},
        {"family", required_argument, NULL, OPT_FAMILY},
        {"link", required_argument, NULL, OPT_LINK},
        {"columns", required_argument, NULL, OPT_COLUMNS},
        {"transform", required_argument, NULL, OPT_TRANSFORM},
        {"holdout", required_argument, NULL, OPT_HOLDOUT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"lambda", required_argument, NULL, OPT_LAMBDA},
        {"factors", required_argument, NULL, OPT_FACTORS},
        {"base", required_argument, NULL, OPT_BASE},
        {"sign", required_argument, NULL, OPT_SIGN},
        {"holdout-out", required_argument, NULL, OPT_HOLDOUT_OUT},
        {"design-out", required_argument, NULL, OPT_DESIGN_OUT},
        {"jobs", required_argument, NULL, CLI_OPT_JOBS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    struct train_config cfg = {0};
    struct cli_common c;
    cli_common_init(&c);
    c.out = NULL;
    const char *family = "poisson", *link = NULL;
    char *columns = NULL;
    const char *names[TRAIN_MAX_COLUMNS];
    cfg.transform = 1;
    cfg.seed = 1;
    const char *bases[TRAIN_MAX_COLUMNS], *signs[TRAIN_MAX_COLUMNS];
    const char *holdout_out = NULL;
    long v;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_FEATURES:
            cfg.features_path = optarg;
            break;
        case OPT_LABELS:
            cfg.labels_path = optarg;
            break;
        case OPT_FAMILY:
            family = optarg;
            break;
        case OPT_LINK:
            link = optarg;
            break;
        case OPT_COLUMNS:
            columns = optarg;
            break;
        case OPT_TRANSFORM:
            if (strcmp(optarg, "none") != 0 && strcmp(optarg, "standard"))
                return cli_fail(CLI_USAGE, "--transform is standard or none");
            cfg.transform = strcmp(optarg, "none") != 0;
            break;
        case OPT_HOLDOUT:
            if (cli_parse_double(optarg, 0, 0.9, &cfg.holdout) < 0)
                return cli_fail(CLI_USAGE, "--holdout takes 0 to 0.9");
            break;
        case OPT_SEED:
            if (cli_parse_long(optarg, 0, 2147483647L, &v) < 0)
                return cli_fail(CLI_USAGE, "--seed takes a whole number");
            cfg.seed = (unsigned long)v;
            break;
        case OPT_LAMBDA:
            if (cli_parse_double(optarg, 0, 1e6, &cfg.lambda) < 0)
                return cli_fail(CLI_USAGE, "--lambda takes 0 to 1e6");
            break;
        case OPT_FACTORS:
            cfg.factors_path = optarg;
            break;
        case OPT_BASE:
        case OPT_SIGN:
            if (!strchr(optarg, '=') || cfg.n_bases == TRAIN_MAX_COLUMNS ||
                cfg.n_signs == TRAIN_MAX_COLUMNS)
                return cli_fail(CLI_USAGE, "--%s takes COL=%s",
                                opt == OPT_BASE ? "base" : "sign",
                                opt == OPT_BASE ? "LEVEL" : "+ or COL=-");
            if (opt == OPT_BASE)
                bases[cfg.n_bases++] = optarg;
            else
                signs[cfg.n_signs++] = optarg;
            break;
        case OPT_HOLDOUT_OUT:
            holdout_out = optarg;
            break;
        case OPT_DESIGN_OUT:
            cfg.design_out = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_OK;
        default:
            if (cli_common_opt(&c, opt, optarg) > 0)
                break;
            fputs(usage, stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!cfg.features_path || !cfg.labels_path || !c.out)
        return cli_fail(CLI_USAGE, "--features, --labels and --out are "
                        "required");
    struct eng_err err = {0};
    enum glm_family fam;
    enum glm_link lk;
    if (glm_family_parse(family, &fam, &err) < 0)
        return cli_fail(CLI_USAGE, "--family: %s", err.msg);
    lk = glm_default_link(fam);
    if (link && glm_link_parse(link, &lk, &err) < 0)
        return cli_fail(CLI_USAGE, "--link: %s", err.msg);
    if (!glm_link_valid(fam, lk))
        return cli_fail(CLI_USAGE, "family %s does not take link %s", family,
                        glm_link_name(lk));
    cfg.bases = bases;
    cfg.signs = signs;
    cfg.family = fam;
    cfg.link = lk;
    cfg.jobs = c.jobs;
    if (columns) {
        cfg.n_columns = split_columns(columns, names, TRAIN_MAX_COLUMNS);
        cfg.columns = names;
    } else {
        cfg.columns = train_default_columns;
        while (train_default_columns[cfg.n_columns])
            cfg.n_columns++;
    }

    /* provenance: the command (no secrets are ever on it) and the date */
    char command[512] = "svcscore";
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(command);
        snprintf(command + len, sizeof(command) - len, " %s", argv[i]);
    }
    cfg.command = command;
    char when[32];
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    time_t t = epoch ? (time_t)strtoll(epoch, NULL, 10) : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cfg.trained_at = when;

    struct train_output o;
    if (train_run(&cfg, &o, &err) < 0)
        return cli_fail(err.code == ENG_EUSAGE ? CLI_USAGE : CLI_FAIL, "%s",
                        err.msg);
    print_summary(&o, &cfg);
    int status = CLI_OK;
    if (model_save(o.model, c.out, &err) < 0)
        status = cli_fail(CLI_FAIL, "%s", err.msg);
    else
        printf("\nModel %s written to %s\n", model_id(o.model), c.out);
    if (status == CLI_OK && holdout_out) {
        FILE *f = fopen(holdout_out, "w");
        int bad = !f;
        for (size_t i = 0; f && i < o.n_test; i++)
            fprintf(f, "%s\n", o.test_vins + 18 * i);
        if (f && (ferror(f) | fclose(f)))
            bad = 1;
        if (bad)
            status = cli_fail(CLI_FAIL, "cannot write '%s'", holdout_out);
        else
            printf("Held-out VINs (%zu, seed %lu, share %g) written to %s\n",
                   o.n_test, cfg.seed, cfg.holdout, holdout_out);
    }
    if (status == CLI_OK)
        print_holdout(&o, c.out);
    train_output_release(&o);
    return status;
}
