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
    "  --columns A,B,...    features to use (default: the shipped model's;\n"
    "                       'make' adds the make as a categorical input)\n"
    "  --transform MODE     standard (default) or none (columns as given)\n"
    "  --holdout SHARE      share of vehicles held out for validation (0)\n"
    "  --seed N             seed of the holdout split (default 1)\n"
    "  --lambda L           L2 penalty on the standardised coefficients (0)\n"
    "  --jobs N             threads for the fit (default: cores)\n"
    "  --help               this text\n";

enum {
    OPT_FEATURES = CLI_OPT_FIRST_FREE, OPT_LABELS, OPT_FAMILY, OPT_LINK,
    OPT_COLUMNS, OPT_TRANSFORM, OPT_HOLDOUT, OPT_SEED, OPT_LAMBDA
};

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
    printf("Call: glm(claims ~ ., family = %s(link = \"%s\")%s)\n\n",
           glm_family_name(g->family), glm_link_name(g->link),
           cfg->family == GLM_POISSON || cfg->family == GLM_BINOMIAL
           ? ", offset = log(exposure_years)" : "");
    printf("Coefficients:\n%-34s %12s %11s %8s %10s %9s\n", "",
           "Estimate", "Std. Error", g->stat_is_t ? "t value" : "z value",
           g->stat_is_t ? "Pr(>|t|)" : "Pr(>|z|)", "exp(b)");
    for (size_t c = 0; c < g->p; c++) {
        if (g->aliased[c]) {
            printf("%-34.34s %12s %11s %8s %10s %9s\n", o->col_names[c],
                   "NA", "NA", "NA", "NA", "");
            continue;
        }
        printf("%-34.34s %12.6g %11.4g %8.3f %10.3g %9.4f %s\n",
               o->col_names[c], g->coef[c], g->se[c], g->stat[c],
               g->pvalue[c], exp(g->coef[c]), stars(g->pvalue[c]));
    }
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
        return cli_fail(CLI_FAIL, "%s", err.msg);
    print_summary(&o, &cfg);
    int status = CLI_OK;
    if (model_save(o.model, c.out, &err) < 0)
        status = cli_fail(CLI_FAIL, "%s", err.msg);
    else
        printf("\nModel %s written to %s\n", model_id(o.model), c.out);
    if (status == CLI_OK)
        print_holdout(&o, c.out);
    train_output_release(&o);
    return status;
}
