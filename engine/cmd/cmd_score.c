/* svcscore score — histories (files or the API) -> scores CSV (README.md,
 * Outputs). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "cli.h"
#include "api/fetch.h"
#include "model.h"
#include "runsum.h"
#include "score.h"
#include "task.h"

static const char usage[] =
    "usage: svcscore score --vehicles FILE --histories PATH [options]\n"
    "       svcscore score --histories BUNDLE.jsonl [options]\n"
    "       svcscore score --vehicles FILE --api [URL] [options]\n"
    "\n"
    "Scores each vehicle's maintenance quality: one CSV row per input row,\n"
    "in input order, with the score, band, relativity and up to four\n"
    "reasons.\n\noptions:\n"
    CLI_COMMON_HELP
    "  --model FILE         model file (default: models/default.json)\n"
    "  --max-error-rate X   exit 3 when the share of error rows is above X\n"
    "                       (default 0.05)\n"
    "  --csv-guard on|off   quote text a spreadsheet would run as a formula\n"
    "                       with a leading ' (default on; off for programs)\n"
    "  --report FILE.html   also write the run report, one page that opens\n"
    "                       offline (README.md, Reports); a file output also\n"
    "                       gets OUT.manifest.json\n"
    "\nwith --api (histories pulled from the API first, then scored the same\n"
    "way; the pulled bundle is kept, and a stopped run resumes):\n"
    "  --histories-out FILE where the pulled bundle goes (default:\n"
    "                       OUT.histories.jsonl, or scores.histories.jsonl)\n"
    CLI_API_HELP
    "  --help               this text\n";

enum {
    OPT_MODEL = CLI_OPT_FIRST_FREE, OPT_MAX_ERROR_RATE, OPT_HISTORIES_OUT,
    OPT_CSV_GUARD, OPT_REPORT
};

struct score_ctx {
    const struct model *model;
    FILE *log;
    int csv_guard;
    struct runsum_acc *acc;    /* one per worker: the run's counts */
};

static int header_cb(void *ud, struct buf *out, struct eng_err *err)
{
    (void)ud;
    return score_header(out, err);
}

/*
 * Counts one scores CSV line for the report and the manifest: status
 * (field 4), score, band and the reason texts (fields 5, 6 and 8 to 11).
 * Read back from the line rather than scored again, which would cost as
 * much as the row itself; the e2e tests compare the counts with the CSV.
 */
#define ROW_FIELDS 11
static void count_row(struct runsum_acc *a, const char *line, size_t len)
{
    char text[ROW_FIELDS][MODEL_REASON_LEN + 8];
    size_t i = 0;
    for (int f = 0; f < ROW_FIELDS; f++) {
        size_t n = 0;
        int quoted = i < len && line[i] == '"';
        i += (size_t)quoted;
        while (i < len) {
            char ch = line[i];
            if (quoted && ch == '"') {
                if (i + 1 < len && line[i + 1] == '"') {
                    i++;             /* a doubled quote is one quote */
                } else {
                    quoted = 0;
                    i++;
                    continue;
                }
            } else if (!quoted && (ch == ',' || ch == '\n')) {
                break;
            }
            if (n + 1 < sizeof(text[f]))
                text[f][n++] = ch;
            i++;
        }
        text[f][n] = '\0';
        i++;                         /* the comma */
    }
    const char *why[MODEL_MAX_REASONS];
    for (int k = 0; k < MODEL_MAX_REASONS; k++)
        why[k] = text[7 + k];
    int ok = strcmp(text[3], "ok") == 0 && text[4][0];
    runsum_acc_row(a, text[3], ok ? atoi(text[4]) : -1, ok ? text[5][0] : 0,
                   why, ok ? MODEL_MAX_REASONS : 0);
}

static int row_cb(void *ud, int worker, const struct batch_vehicle *v,
                  struct buf *out, struct eng_err *err)
{
    const struct score_ctx *c = ud;
    size_t start = out->len;
    int rc = score_row(c->model, v, c->csv_guard, out, err);
    if (rc == ENG_OK)
        count_row(&c->acc[worker], out->data + start, out->len - start);
    return rc;
}

static void log_cb(void *ud, const char *line)
{
    const struct score_ctx *c = ud;
    fprintf(c->log, "svcscore: %s\n", line);
}

int cli_load_model(const char *path, struct model **m)
{
    char found[4096];
    if (!path) {
        if (cli_find_file("models/default.json", found, sizeof(found)) < 0)
            return cli_fail(CLI_FAIL, "cannot find models/default.json: "
                            "use --model");
        path = found;
    }
    struct eng_err err = {0};
    *m = model_load(path, &err);
    if (!*m)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    return CLI_OK;
}

int cmd_score(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        CLI_API_LONGOPTS,
        {"histories-out", required_argument, NULL, OPT_HISTORIES_OUT},
        {"model", required_argument, NULL, OPT_MODEL},
        {"max-error-rate", required_argument, NULL, OPT_MAX_ERROR_RATE},
        {"csv-guard", required_argument, NULL, OPT_CSV_GUARD},
        {"report", required_argument, NULL, OPT_REPORT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    struct cli_common c;
    struct cli_api api;
    cli_common_init(&c);
    cli_api_init(&api);
    const char *model_path = NULL, *histories_out = NULL, *report = NULL;
    struct runsum sum;
    cli_run_begin(&sum, "score");
    double max_error_rate = 0.05;
    int csv_guard = 1;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int used = cli_common_opt(&c, opt, optarg);
        if (used == 0)
            used = cli_api_opt(&api, opt, optarg, argc, argv, &optind);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        if (opt == OPT_HISTORIES_OUT) {
            histories_out = optarg;
        } else if (opt == OPT_REPORT) {
            report = optarg;
        } else if (opt == OPT_MODEL) {
            model_path = optarg;
        } else if (opt == OPT_MAX_ERROR_RATE) {
            if (cli_parse_double(optarg, 0, 1, &max_error_rate) < 0)
                return cli_fail(CLI_USAGE, "--max-error-rate takes 0 to 1");
        } else if (opt == OPT_CSV_GUARD) {
            csv_guard = cli_parse_on_off(optarg);
            if (csv_guard < 0)
                return cli_fail(CLI_USAGE, "--csv-guard takes on or off");
        } else if (opt == 'h') {
            fputs(usage, stdout);
            return CLI_OK;
        } else {
            fputs(usage, stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    char bundle[4096];
    if (api.api_mode) {
        if (c.histories)
            return cli_fail(CLI_USAGE, "--api and --histories exclude each "
                            "other");
        if (!c.vehicles)
            return cli_fail(CLI_USAGE, "--api needs --vehicles");
        if (histories_out)
            snprintf(bundle, sizeof(bundle), "%s", histories_out);
        else if (strcmp(c.out, "-") == 0)
            snprintf(bundle, sizeof(bundle), "scores.histories.jsonl");
        else
            snprintf(bundle, sizeof(bundle), "%s.histories.jsonl", c.out);
        c.histories = bundle;
    } else if (!c.histories) {
        return cli_fail(CLI_USAGE, "--histories or --api is required");
    } else if (api.used || histories_out) {
        return cli_fail(CLI_USAGE, "API options need --api");
    }

    struct model *model = NULL;
    if (cli_load_model(model_path, &model) != CLI_OK)
        return CLI_FAIL;
    struct task_map *tasks = NULL;
    struct task_sched_table *sched = NULL;
    FILE *log = NULL;
    struct runsum_acc *acc = NULL;
    int status = CLI_FAIL;
    if (cli_load_taxonomy(c.data_dir, &tasks, &sched) < 0)
        goto out;
    log = cli_open_log(c.log_path);
    if (!log)
        goto out;
    if (api.api_mode) {
        struct fetch_stats fs;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (cli_fetch(&api, c.vehicles, c.histories, c.max_body, log, &fs)
            != CLI_OK)
            goto out;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        sum.has_api = 1;
        sum.api = fs.sc;
        sum.resumed = fs.resumed;
        sum.fetched = fs.fetched;
        sum.fetch_s = (double)(t1.tv_sec - t0.tv_sec)
                      + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    }

    struct batch_config cfg;
    cli_batch_config(&c, tasks, sched, &cfg);
    acc = calloc((size_t)cfg.jobs, sizeof(*acc));
    if (!acc) {
        cli_fail(CLI_FAIL, "out of memory");
        goto out;
    }
    struct score_ctx ctx = {model, log, csv_guard, acc};
    cfg.header = header_cb;
    cfg.row = row_cb;
    cfg.log = log_cb;
    cfg.ud = &ctx;
    struct batch_stats st;
    struct eng_err err = {0};
    if (batch_run(&cfg, &st, &err) < 0) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    fprintf(stderr, "svcscore: score: %zu rows (%zu ok, %zu no_history, "
            "%zu errors) with model %s\n", st.rows, st.ok, st.no_history,
            st.errors, model_id(model));
    status = CLI_OK;
    if (st.rows && (double)st.errors / (double)st.rows > max_error_rate) {
        cli_warn("%zu of %zu rows are errors, above --max-error-rate %g",
                 st.errors, st.rows, max_error_rate);
        status = CLI_ERROR_RATE;
    }
    for (int i = 0; i < cfg.jobs; i++)
        runsum_merge(&sum.rows, &acc[i]);
    sum.has_scores = 1;
    sum.model_id = model_id(model);
    eng_format_day(c.as_of, sum.as_of);
    if (c.vehicles)
        runsum_input(&sum.inputs[sum.n_inputs++], "vehicles", c.vehicles);
    runsum_input(&sum.inputs[sum.n_inputs++], "histories", c.histories);
    char found[4096];
    if (!model_path && cli_find_file("models/default.json", found,
                                     sizeof(found)) == 0)
        model_path = found;
    runsum_input(&sum.inputs[sum.n_inputs++], "model", model_path);
    status = cli_run_finish(&sum, c.out, report, status);
out:
    free(acc);
    if (log && log != stderr)
        fclose(log);
    task_map_free(tasks);
    task_sched_free(sched);
    model_free(model);
    return status;
}
