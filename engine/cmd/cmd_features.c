/* svcscore features — histories to the features CSV (README.md, Outputs). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "cli.h"
#include "feat.h"
#include "ptrain.h"
#include "task.h"

static const char usage[] =
    "usage: svcscore features --histories PATH [--vehicles FILE] [options]\n"
    "\n"
    "Writes one CSV row per vehicle: vin, vehicle_id, status, then one\n"
    "column per feature (empty = not computable or not applicable), then the\n"
    "make (from the vehicle list, else the VIN's manufacturer code), the\n"
    "powertrain (ICE, HEV, PHEV, BEV or empty) and where it came from (list,\n"
    "api, wmi).\n\noptions:\n"
    CLI_COMMON_HELP
    "  --csv-guard on|off   quote text a spreadsheet would run as a formula\n"
    "                       with a leading ' (default on; off for programs)\n"
    CLI_OPS_HELP
    "  --help               this text\n";

enum { OPT_CSV_GUARD = CLI_OPT_FIRST_FREE };

struct features_ctx {
    FILE *log;
    size_t total;                /* rows expected, for progress */
    int guard;                   /* --csv-guard */
};

static int features_header(void *ud, struct buf *out, struct eng_err *err)
{
    (void)ud;
    int rc = buf_adds(out, "vin,vehicle_id,status", err);
    for (int i = 0; rc == ENG_OK && i < FEAT_COUNT; i++)
        rc = buf_printf(out, err, ",%s", feat_name(i));
    return rc == ENG_OK ? buf_adds(out, ",make,powertrain,powertrain_source\n",
                                   err) : rc;
}

static int features_row(void *ud, int worker, const struct batch_vehicle *v,
                        struct buf *out, struct eng_err *err)
{
    (void)worker;
    int guard = ((const struct features_ctx *)ud)->guard;
    int rc = buf_csv(out, v->vin, guard, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, ",", err);
    if (rc == ENG_OK)
        rc = buf_csv(out, v->vehicle_id, guard, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, ",", err);
    if (rc == ENG_OK)
        rc = buf_csv(out, v->status, guard, err);
    for (int i = 0; rc == ENG_OK && i < FEAT_COUNT; i++) {
        rc = buf_adds(out, ",", err);
        if (rc < 0 || !v->feat)
            continue;
        if (i == FEAT_CURRENCY)
            rc = buf_csv(out, v->feat->currency, guard, err);
        else
            rc = buf_num(out, v->feat->v[i], err);
    }
    if (rc == ENG_OK)
        rc = buf_adds(out, ",", err);
    if (rc == ENG_OK && v->make)
        rc = buf_csv(out, v->make, guard, err);
    if (rc == ENG_OK)
        rc = buf_printf(out, err, ",%s,%s",
                        v->feat ? ptrain_name(v->feat->ptrain) : "",
                        v->feat ? ptrain_src_name(v->feat->ptrain_src) : "");
    return rc == ENG_OK ? buf_adds(out, "\n", err) : rc;
}

static void log_line(void *ud, const char *line)
{
    const struct features_ctx *c = ud;
    cli_log(c->log, LOGX_INFO, "row", line);
}

static void progress_cb(void *ud, const struct batch_stats *st,
                        const char *status)
{
    const struct features_ctx *c = ud;
    cli_metrics_row(status);
    struct logx_progress p;
    cli_batch_progress("features", c->total, st, &p);
    cli_progress(&p, 0);
}

int cmd_features(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"csv-guard", required_argument, NULL, OPT_CSV_GUARD},
        CLI_OPS_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    struct cli_common c;
    struct cli_ops ops;
    cli_common_init(&c);
    int guard = 1;
    cli_ops_init(&ops);
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int used = cli_batch_opt(&c, NULL, &ops, opt, optarg, argc, argv,
                                 &optind);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        if (opt == OPT_CSV_GUARD) {
            guard = cli_parse_on_off(optarg);
            if (guard < 0)
                return cli_fail(CLI_USAGE, "--csv-guard takes on or off");
            continue;
        }
        return cli_usage_opt(usage, opt);
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!c.histories)
        return cli_fail(CLI_USAGE, "--histories is required");
    if (ops.shard.n > 1 && !c.vehicles)
        return cli_fail(CLI_USAGE, "--shard needs --vehicles (a shard is a "
                        "set of vehicle-list rows)");
    cli_report_begin(&ops, "features");

    struct task_map *tasks = NULL;
    struct task_sched_table *sched = NULL;
    if (cli_load_taxonomy(c.data_dir, &tasks, &sched) < 0)
        return cli_report_end(CLI_FAIL);
    FILE *log = cli_open_log(c.log_path);
    if (!log) {
        task_map_free(tasks);
        task_sched_free(sched);
        return cli_report_end(CLI_FAIL);
    }
    const struct shard_spec *shard = ops.shard.n > 1 ? &ops.shard : NULL;
    struct features_ctx ctx = {log,
                               cli_count_rows(c.vehicles, c.histories, shard),
                               guard};

    struct batch_config cfg;
    cli_batch_config(&c, tasks, sched, &cfg);
    cfg.header = features_header;
    cfg.row = features_row;
    cfg.log = log_line;
    cfg.ud = &ctx;
    cfg.shard = shard;
    cfg.progress = progress_cb;

    struct batch_stats st;
    struct eng_err err = {0};
    int rc = batch_run(&cfg, &st, &err);
    int status = CLI_OK;
    if (rc < 0) {
        status = cli_fail(CLI_FAIL, "%s", err.msg);
    } else {
        struct logx_progress p;
        cli_batch_progress("features", ctx.total, &st, &p);
        cli_progress(&p, 1);
        char msg[512];
        snprintf(msg, sizeof(msg), "features: %zu rows (%zu ok, %zu "
                 "no_history, %zu errors); %zu records and %zu fields "
                 "dropped; %zu blank lines skipped", st.rows, st.ok,
                 st.no_history, st.errors, st.bad_records, st.bad_fields,
                 st.blank_lines);
        struct logx_field f[] = {
            {"command", LOGX_STR, "features", 0, 0},
            {"rows", LOGX_INT, NULL, (long long)st.rows, 0},
            {"ok", LOGX_INT, NULL, (long long)st.ok, 0},
            {"no_history", LOGX_INT, NULL, (long long)st.no_history, 0},
            {"errors", LOGX_INT, NULL, (long long)st.errors, 0},
            {"bad_records", LOGX_INT, NULL, (long long)st.bad_records, 0},
            {"bad_fields", LOGX_INT, NULL, (long long)st.bad_fields, 0},
        };
        cli_log_fields(stderr, LOGX_INFO, "summary", msg, f,
                       sizeof(f) / sizeof(f[0]));
    }
    if (log != stderr)
        fclose(log);
    task_map_free(tasks);
    task_sched_free(sched);
    return cli_report_end(status);
}
