/* svcscore explain — one vehicle's maintenance report, with its reasons. */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "cli.h"
#include "feat.h"
#include "hist.h"
#include "model.h"
#include "ptrain.h"
#include "task.h"
#include "veh.h"

static const char usage[] =
    "usage: svcscore explain --vin VIN --histories PATH [--vehicles FILE]\n"
    "                        [--model M] [--as-of YYYY-MM-DD]\n"
    "\n"
    "A readable report for one vehicle: its powertrain and where it came\n"
    "from, the observed window, its service timeline, each feature with its\n"
    "percentile in the model's training portfolio, the score, band and\n"
    "reasons, and what is overdue.\n\noptions:\n"
    CLI_COMMON_HELP
    "  --vin VIN            the vehicle to explain\n"
    "  --model FILE         model file (default: models/default.json)\n"
    "  --help               this text\n";

enum { OPT_VIN = CLI_OPT_FIRST_FREE, OPT_MODEL };

/* What the pass over the histories keeps: the one vehicle. */
struct explain {
    const char *vin;
    pthread_mutex_t lock;
    int found;
    char status[64];
    char vehicle_id[64];
    char make[32];
    struct feat_vec feat;
    struct hist_rec *recs;
    size_t n_recs;
    int failed;
};

static int header_cb(void *ud, struct buf *out, struct eng_err *err)
{
    (void)ud;
    (void)out;
    (void)err;
    return ENG_OK;
}

static int keep_vehicle(struct explain *x, const struct batch_vehicle *v)
{
    x->found = 1;
    snprintf(x->status, sizeof(x->status), "%s", v->status);
    snprintf(x->vehicle_id, sizeof(x->vehicle_id), "%s", v->vehicle_id);
    snprintf(x->make, sizeof(x->make), "%s", v->make ? v->make : "");
    if (v->feat)
        x->feat = *v->feat;
    x->recs = malloc((v->hist->n ? v->hist->n : 1) * sizeof(*x->recs));
    if (!x->recs)
        return -1;
    memcpy(x->recs, v->hist->rec, v->hist->n * sizeof(*x->recs));
    x->n_recs = v->hist->n;
    return 0;
}

static int row_cb(void *ud, int worker, const struct batch_vehicle *v,
                  struct buf *out, struct eng_err *err)
{
    (void)worker;
    (void)out;
    struct explain *x = ud;
    pthread_mutex_lock(&x->lock);
    int rc = ENG_OK;
    if (!x->found && strcmp(v->vin, x->vin) == 0 && keep_vehicle(x, v) < 0)
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
    pthread_mutex_unlock(&x->lock);
    return rc;
}

static int cmp_rec(const void *a, const void *b)
{
    const struct hist_rec *x = a, *y = b;
    if (x->day != y->day)
        return x->day == HIST_NO_DAY ? 1 : y->day == HIST_NO_DAY ? -1
               : x->day < y->day ? -1 : 1;
    return 0;
}

static void print_timeline(const struct explain *x)
{
    printf("\nService timeline (%zu records):\n", x->n_recs);
    printf("  %-10s %11s  %-7s %10s  %s\n", "date", "odometer", "by",
           "cost", "work");
    struct hist_rec *r = x->recs;
    qsort(r, x->n_recs, sizeof(*r), cmp_rec);
    for (size_t i = 0; i < x->n_recs; i++) {
        char day[11] = "undated";
        if (r[i].day != HIST_NO_DAY)
            eng_format_day(r[i].day, day);
        char km[24] = "-", cost[24] = "-";
        if (!isnan(r[i].km))
            snprintf(km, sizeof(km), "%.0f km", r[i].km);
        if (!isnan(r[i].cost))
            snprintf(cost, sizeof(cost), "%.2f %s", r[i].cost,
                     r[i].currency);
        const char *by = r[i].source == HIST_SRC_DEALER ? "dealer"
                         : r[i].source == HIST_SRC_OWNER ? "owner" : "-";
        printf("  %-10s %11s  %-7s %10s  ", day, km, by, cost);
        int first = 1;
        for (int c = 0; c < TASK_NCATS; c++) {
            if (r[i].cats & TASK_BIT(c)) {
                printf("%s%s", first ? "" : ", ", task_cat_name(c));
                first = 0;
            }
        }
        printf("%s\n", first ? "(no tasks listed)" : "");
    }
}

static const char *const src_words[] = {
    "unknown: treated as a combustion engine", "from the vehicle list",
    "from the API's vehicle attributes", "from the maker's VIN code"
};

/* The powertrain, where it came from, and the observed window. */
static void print_context(const struct explain *x)
{
    const struct feat_vec *f = &x->feat;
    const char *pt = ptrain_name(f->ptrain);
    printf("Powertrain: %s (%s)\n", pt[0] ? pt : "unknown",
           src_words[f->ptrain_src >= 0 && f->ptrain_src < PTRAIN_SRC_COUNT
                     ? f->ptrain_src : 0]);
    if (f->first_day == HIST_NO_DAY) {
        printf("Observed window: no dated record\n");
        return;
    }
    char from[11], to[11];
    eng_format_day(f->first_day, from);
    eng_format_day(f->last_day, to);
    printf("Observed window: %s to %s (%.1f years)", from, to,
           (double)(f->last_day - f->first_day) / 365.25);
    if (!isnan(f->first_km))
        printf(", %.0f to %.0f km", f->first_km, f->last_km);
    double n = f->v[FEAT_HISTORY_FROM_NEW];
    printf("; starts near new: %s\n", isnan(n) ? "cannot tell"
           : n > 0.5 ? "yes" : "no (features about the life before the "
           "first record do not apply)");
}

static void print_features(const struct explain *x, const struct model *m)
{
    printf("\nFeatures (percentile in the model's training portfolio, "
           "where the model uses the feature; n/a = does not apply):\n");
    for (int i = 0; i < FEAT_COUNT; i++) {
        if (i == FEAT_CURRENCY) {
            printf("  %-30s %14s\n", feat_name(i),
                   x->feat.currency[0] ? x->feat.currency : "-");
            continue;
        }
        double v = x->feat.v[i];
        double p = model_percentile(m, i, v);
        char text[32];
        if (!feat_applies(i, &x->feat))
            snprintf(text, sizeof(text), "n/a");
        else if (isnan(v))
            snprintf(text, sizeof(text), "-");
        else if (fabs(v) >= 1000)
            snprintf(text, sizeof(text), "%.0f", v);
        else
            snprintf(text, sizeof(text), "%.4g", v);
        if (isnan(p))
            printf("  %-30s %14s\n", feat_name(i), text);
        else
            printf("  %-30s %14s   p%.0f\n", feat_name(i), text, p);
    }
}

/* Overdue items: time or distance since the last one, whichever first. */
static void print_overdue(const struct explain *x,
                          const struct task_sched *sc, long as_of)
{
    const char *pt = ptrain_name(sc->ptrain);
    if (isnan(sc->oil_km))
        printf("\nMaintenance due (%s %s schedule: no engine oil, tire "
               "rotation %.0f km or %.0f days, %.0f%% tolerance):\n",
               sc->make, pt, sc->rotation_km, sc->rotation_days,
               100 * sc->tolerance);
    else
        printf("\nMaintenance due (%s%s%s schedule: oil %.0f km or %.0f "
               "days, tire rotation %.0f km or %.0f days, %.0f%% "
               "tolerance):\n", sc->make, pt[0] ? " " : "", pt, sc->oil_km,
               sc->oil_days, sc->rotation_km, sc->rotation_days,
               100 * sc->tolerance);
    const char *names[2] = {"oil change", "tire rotation"};
    unsigned bits[2] = {TASK_BIT(TASK_OIL), TASK_BIT(TASK_TIRE_ROTATION)};
    double km_iv[2] = {sc->oil_km, sc->rotation_km};
    double day_iv[2] = {sc->oil_days, sc->rotation_days};
    int feat[2] = {FEAT_OVERDUE_OIL_CHANGE, FEAT_OVERDUE_TIRE_ROTATION};
    double est = x->feat.v[FEAT_EST_CURRENT_KM];
    for (int k = 0; k < 2; k++) {
        if (!feat_applies(feat[k], &x->feat)) {
            printf("  %-14s does not apply\n", names[k]);
            continue;
        }
        long last = HIST_NO_DAY;
        double last_km = NAN;
        for (size_t i = 0; i < x->n_recs; i++) {
            if ((x->recs[i].cats & bits[k]) && x->recs[i].day != HIST_NO_DAY
                && x->recs[i].day <= as_of && (last == HIST_NO_DAY ||
                                               x->recs[i].day >= last)) {
                last = x->recs[i].day;
                last_km = x->recs[i].km;
            }
        }
        double od = x->feat.v[feat[k]];
        const char *verdict = isnan(od) ? "cannot tell" : od > 0.5
                              ? "OVERDUE" : "not overdue";
        if (last == HIST_NO_DAY) {
            printf("  %-14s %s: none on record\n", names[k], verdict);
            continue;
        }
        char d[11];
        eng_format_day(last, d);
        printf("  %-14s %s: last on %s, %ld days ago (due every %.0f)",
               names[k], verdict, d, as_of - last, day_iv[k]);
        if (!isnan(est) && !isnan(last_km))
            printf(", about %.0f km since (due every %.0f)", est - last_km,
                   km_iv[k]);
        printf("\n");
    }
    if (!feat_applies(FEAT_ROUTINE_ITEMS_OVERDUE, &x->feat))
        return;
    const char *rn[3] = {"cabin filter", "brake fluid", "coolant"};
    unsigned rc[3] = {TASK_BIT(TASK_FILTERS),
                      TASK_BIT(TASK_FLUIDS) | TASK_BIT(TASK_BRAKES),
                      TASK_BIT(TASK_FLUIDS)};
    double rd[3] = {sc->cabin_days, sc->brake_fluid_days, sc->coolant_days};
    for (int k = 0; k < 3; k++) {
        if (isnan(rd[k])) {
            printf("  %-14s not on the maker's schedule\n", rn[k]);
            continue;
        }
        long last = HIST_NO_DAY;
        for (size_t i = 0; i < x->n_recs; i++) {
            if ((x->recs[i].cats & rc[k]) == rc[k] &&
                x->recs[i].day != HIST_NO_DAY && x->recs[i].day <= as_of &&
                (last == HIST_NO_DAY || x->recs[i].day >= last))
                last = x->recs[i].day;
        }
        long since = last != HIST_NO_DAY ? last : x->feat.first_day;
        if (since == HIST_NO_DAY) {
            printf("  %-14s cannot tell: no dated record\n", rn[k]);
            continue;
        }
        int late = 
                   (double)(as_of - since) > rd[k] * (1 + sc->tolerance);
        char d[11];
        eng_format_day(since, d);
        printf("  %-14s %s: %s %s (due every %.0f months)\n", rn[k],
               late ? "OVERDUE" : "not overdue",
               last != HIST_NO_DAY ? "last on" : "none on record since", d,
               rd[k] / 30.4375);
    }
}
int cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"vin", required_argument, NULL, OPT_VIN},
        {"model", required_argument, NULL, OPT_MODEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    struct cli_common c;
    cli_common_init(&c);
    const char *vin_arg = NULL, *model_path = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int used = cli_common_opt(&c, opt, optarg);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        if (opt == OPT_VIN) {
            vin_arg = optarg;
        } else if (opt == OPT_MODEL) {
            model_path = optarg;
        } else {
            return cli_usage_opt(usage, opt);
        }
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!vin_arg || !c.histories)
        return cli_fail(CLI_USAGE, "--vin and --histories are required");
    char vin[VEH_VIN_LEN + 8];
    veh_vin_normalise(vin_arg, vin, sizeof(vin), NULL);

    struct model *model = NULL;
    if (cli_load_model(model_path, &model) != CLI_OK)
        return CLI_FAIL;
    if (model_has_own(model)) {
        /* its score needs the vehicle's own factors, which explain does
           not read: refuse rather than show a score the model never gives */
        model_free(model);
        return cli_fail(CLI_USAGE, "the model uses own rating factors: "
                        "explain scores maintenance-only models (score "
                        "--factors scores this one)");
    }
    struct task_map *tasks = NULL;
    struct task_sched_table *sched = NULL;
    struct explain x;
    memset(&x, 0, sizeof(x));
    x.vin = vin;
    pthread_mutex_init(&x.lock, NULL);
    int status = CLI_FAIL;
    if (cli_load_taxonomy(c.data_dir, &tasks, &sched) < 0)
        goto out;
    struct batch_config cfg;
    cli_batch_config(&c, tasks, sched, &cfg);
    cfg.out_path = "/dev/null";
    cfg.header = header_cb;
    cfg.row = row_cb;
    cfg.log = NULL;
    cfg.ud = &x;
    struct batch_stats st;
    struct eng_err err = {0};
    if (batch_run(&cfg, &st, &err) < 0) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    if (!x.found) {
        cli_fail(CLI_FAIL, "vin '%s' is not in '%s'", vin, c.histories);
        goto out;
    }
    char day[11];
    eng_format_day(c.as_of, day);
    int my = veh_vin_model_year(vin, 0);
    printf("Vehicle %s%s%s  make %s  model year %d  as of %s\n", vin,
           x.vehicle_id[0] ? "  id " : "", x.vehicle_id,
           x.make[0] ? x.make : "unknown", my, day);
    printf("Status: %s\n", x.status);
    if (strcmp(x.status, "ok") != 0 && strcmp(x.status, "no_history") != 0) {
        status = CLI_OK;
        goto out;
    }
    print_context(&x);
    print_timeline(&x);
    print_features(&x, model);
    print_overdue(&x, task_sched_find(sched, x.make[0] ? x.make : NULL,
                                      x.feat.ptrain), c.as_of);
    if (strcmp(x.status, "ok") == 0) {
        struct model_result res;
        model_score(model, &x.feat, x.make[0] ? x.make : NULL, &res);
        printf("\nScore %d, band %c, relativity %.4f (model %s)\n",
               res.score, res.band, res.relativity, model_id(model));
        if (res.n_reasons == 0)
            printf("No factor lowers this score below the portfolio "
                   "baseline.\n");
        for (int i = 0; i < res.n_reasons; i++)
            printf("  %d. %s  (-%.0f points)\n", i + 1, res.reasons[i].text,
                   res.reasons[i].points);
    } else {
        printf("\nNo score: the vehicle has no service record.\n");
    }
    status = CLI_OK;
out:
    pthread_mutex_destroy(&x.lock);
    free(x.recs);
    task_map_free(tasks);
    task_sched_free(sched);
    model_free(model);
    return status;
}
