/* svcscore features — histories to the features CSV (SPEC §4.2). */
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
    "  --help               this text\n";

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
    (void)ud;
    (void)worker;
    int rc = buf_csv(out, v->vin, 1, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, ",", err);
    if (rc == ENG_OK)
        rc = buf_csv(out, v->vehicle_id, 1, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, ",", err);
    if (rc == ENG_OK)
        rc = buf_csv(out, v->status, 1, err);
    for (int i = 0; rc == ENG_OK && i < FEAT_COUNT; i++) {
        rc = buf_adds(out, ",", err);
        if (rc < 0 || !v->feat)
            continue;
        if (i == FEAT_CURRENCY)
            rc = buf_csv(out, v->feat->currency, 1, err);
        else
            rc = buf_num(out, v->feat->v[i], err);
    }
    if (rc == ENG_OK)
        rc = buf_adds(out, ",", err);
    if (rc == ENG_OK && v->make)
        rc = buf_csv(out, v->make, 1, err);
    if (rc == ENG_OK)
        rc = buf_printf(out, err, ",%s,%s",
                        v->feat ? ptrain_name(v->feat->ptrain) : "",
                        v->feat ? ptrain_src_name(v->feat->ptrain_src) : "");
    return rc == ENG_OK ? buf_adds(out, "\n", err) : rc;
}

static void log_line(void *ud, const char *line)
{
    fprintf((FILE *)ud, "svcscore: %s\n", line);
}

int cmd_features(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    struct cli_common c;
    cli_common_init(&c);
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int used = cli_common_opt(&c, opt, optarg);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        if (opt == 'h') {
            fputs(usage, stdout);
            return CLI_OK;
        }
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!c.histories)
        return cli_fail(CLI_USAGE, "--histories is required");

    struct task_map *tasks = NULL;
    struct task_sched_table *sched = NULL;
    if (cli_load_taxonomy(c.data_dir, &tasks, &sched) < 0)
        return CLI_FAIL;
    FILE *log = cli_open_log(c.log_path);
    if (!log) {
        task_map_free(tasks);
        task_sched_free(sched);
        return CLI_FAIL;
    }

    struct batch_config cfg;
    cli_batch_config(&c, tasks, sched, &cfg);
    cfg.header = features_header;
    cfg.row = features_row;
    cfg.log = log_line;
    cfg.ud = log;

    struct batch_stats st;
    struct eng_err err = {0};
    int rc = batch_run(&cfg, &st, &err);
    int status = CLI_OK;
    if (rc < 0)
        status = cli_fail(CLI_FAIL, "%s", err.msg);
    else
        fprintf(stderr, "svcscore: features: %zu rows (%zu ok, %zu "
                "no_history, %zu errors); %zu records and %zu fields "
                "dropped; %zu blank lines skipped\n", st.rows, st.ok,
                st.no_history, st.errors, st.bad_records, st.bad_fields,
                st.blank_lines);
    if (log != stderr)
        fclose(log);
    task_map_free(tasks);
    task_sched_free(sched);
    return status;
}
