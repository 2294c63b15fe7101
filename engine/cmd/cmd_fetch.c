/* svcscore fetch — the API's service histories into a JSONL bundle. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hist.h"
#include "task.h"
#include "api/fetch.h"
#include "runsum.h"

static const char usage[] =
    "usage: svcscore fetch --vehicles FILE --out BUNDLE.jsonl [options]\n"
    "       svcscore fetch --vehicles FILE --store FILE [options]\n"
    "\n"
    "Pulls each vehicle's service history from the Smartcar API into a\n"
    "JSONL bundle (one line per vehicle-list row, in input order).  A run\n"
    "that is stopped or killed keeps what it fetched in BUNDLE.partial; the\n"
    "same command run again fetches only the rest.\n\noptions:\n"
    "  --vehicles FILE      vehicle list CSV with tokens (README: Inputs)\n"
    "  --out FILE           the bundle to write (atomically); a name ending\n"
    "                       in .gz writes it gzip-compressed\n"
    "  --log FILE           per-vehicle log lines (default: stderr)\n"
    "  --max-body BYTES     cap on one response (default 8 MiB)\n"
    "  --max-error-rate X   exit 3 when more than this share of rows are\n"
    "                       errors (default 0.05)\n"
    "  --report FILE.html   also write the run report, one page that opens\n"
    "                       offline (README.md, Reports); the bundle always\n"
    "                       gets BUNDLE.manifest.json\n"
    CLI_API_HELP
    CLI_OPS_HELP
    "\nincremental (README: Incremental fetch): histories merged into a\n"
    "history store instead of a bundle; a stored vehicle is asked only for\n"
    "its recent window, and a failed one again per the retry rules:\n"
    "  --store FILE         the store (created if missing)\n"
    CLI_INCR_HELP
    "  --help               this text\n";

enum {
    OPT_MAX_ERROR_RATE = CLI_OPT_FIRST_FREE, OPT_REPORT, OPT_STORE, OPT_OVERLAP,
    OPT_REFRESH_AFTER, OPT_RETRY_ERRORS
};

struct log_ctx {
    FILE *f;
    int count_rows;                /* rows go to the metrics (fetch alone) */
};

static void log_line(void *ud, const char *line)
{
    struct log_ctx *l = ud;
    cli_log(l->f, LOGX_INFO, "api", line);
}

static void fill_progress(const struct fetch_stats *st,
                          struct logx_progress *p)
{
    memset(p, 0, sizeof(*p));
    p->command = "fetch";
    p->total = st->total;
    p->done = st->resumed + st->not_due + st->fetched;
    p->start = st->resumed + st->not_due;
    p->ok = st->sc.ok + st->sc.no_history;
    p->errors = st->fetched > p->ok ? st->fetched - p->ok : 0;
    p->elapsed = cli_elapsed();
    p->has_api = 1;
    p->requests = st->sc.requests;
    p->rotations = st->sc.rotations;
}

static void progress_cb(void *ud, const struct fetch_stats *st)
{
    (void)ud;
    struct logx_progress p;
    fill_progress(st, &p);
    cli_progress(&p, 0);
}

static void row_cb(void *ud, size_t index, const char *status)
{
    (void)index;
    const struct log_ctx *l = ud;
    if (l->count_rows)
        cli_metrics_row(status);
}

void cli_print_fetch_summary(const struct fetch_stats *st)
{
    const struct sc_stats *s = &st->sc;
    char rows[256], reqs[640];
    snprintf(rows, sizeof(rows), "fetch: %zu rows (%zu ok, %zu no_history, "
             "%zu errors); %zu from an earlier run, %zu now", st->rows,
             st->ok, st->no_history, st->errors, st->resumed, st->fetched);
    if (st->not_due) {
        size_t used = strlen(rows);
        snprintf(rows + used, sizeof(rows) - used, ", %zu not due (kept "
                 "as stored)", st->not_due);
    }
    snprintf(reqs, sizeof(reqs), "fetch: %lu requests (%lu histories, %lu "
             "vehicle lists, %lu VIN look-ups, %lu vehicle objects giving "
             "%lu powertrains); %lu retries (rate limits %lu "
             "vehicle + %lu application, server %lu, vehicle state %lu, "
             "network %lu, timeouts %lu, bad bodies %lu); %lu token "
             "refreshes, %lu token rotations, %lu refresh failures, %.1f s "
             "paused", s->requests, s->history_requests, s->list_requests,
             s->vin_requests, s->vehicle_requests, s->powertrains,
             s->retries, s->retry_rate_vehicle,
             s->retry_rate_app, s->retry_server, s->retry_vehicle_state,
             s->retry_network, s->retry_timeout, s->retry_parse,
             s->refreshes, s->rotations, s->refresh_failures,
             s->paused_seconds);
    struct logx_field f[] = {
        {"command", LOGX_STR, "fetch", 0, 0},
        {"rows", LOGX_INT, NULL, (long long)st->rows, 0},
        {"ok", LOGX_INT, NULL, (long long)st->ok, 0},
        {"no_history", LOGX_INT, NULL, (long long)st->no_history, 0},
        {"errors", LOGX_INT, NULL, (long long)st->errors, 0},
        {"resumed", LOGX_INT, NULL, (long long)st->resumed, 0},
        {"fetched", LOGX_INT, NULL, (long long)st->fetched, 0},
        {"not_due", LOGX_INT, NULL, (long long)st->not_due, 0},
        {"requests", LOGX_INT, NULL, (long long)s->requests, 0},
        {"retries", LOGX_INT, NULL, (long long)s->retries, 0},
        {"token_refreshes", LOGX_INT, NULL, (long long)s->refreshes, 0},
        {"token_rotations", LOGX_INT, NULL, (long long)s->rotations, 0},
        {"refresh_failures", LOGX_INT, NULL,
         (long long)s->refresh_failures, 0},
        {"paused_seconds", LOGX_NUM, NULL, 0, s->paused_seconds},
    };
    cli_log_fields(stderr, LOGX_INFO, "summary", rows, f,
                   sizeof(f) / sizeof(f[0]));
    cli_log(stderr, LOGX_INFO, "summary", reqs);
}

void cli_incr_init(struct cli_incr *in)
{
    memset(in, 0, sizeof(*in));
    in->overlap = 90;
    in->refresh_after = -1;
}

int cli_incr_opt(struct cli_incr *in, const char *name, const char *arg)
{
    double d;
    if (strcmp(name, "retry-errors") == 0) {
        in->retry_errors = 1;
        return 1;
    }
    int *dst = strcmp(name, "overlap") == 0 ? &in->overlap
               : strcmp(name, "refresh-after") == 0 ? &in->refresh_after
               : NULL;
    if (!dst)
        return 0;
    if (cli_parse_double(arg, 0, 36500, &d) < 0 || d != (double)(int)d) {
        cli_fail(CLI_USAGE, "--%s takes a whole number of days (0 to "
                 "36500)", name);
        return -1;
    }
    *dst = (int)d;
    return 1;
}

int cli_fetch(const struct cli_api *api, const struct cli_ops *ops,
              const char *vehicles, const char *out, long max_body,
              FILE *log, struct fetch_stats *st)
{
    return cli_fetch_incr(api, ops, NULL, vehicles, out, max_body, log, st);
}

int cli_fetch_incr(const struct cli_api *api, const struct cli_ops *ops,
                   const struct cli_incr *incr, const char *vehicles,
                   const char *out, long max_body, FILE *log,
                   struct fetch_stats *st)
{
    char store[4096];
    struct fetch_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (cli_api_config(api, &cfg.sc, store, sizeof(store)) < 0)
        return CLI_FAIL;
    static volatile sig_atomic_t stop;
    cli_catch_stop(&stop);
    /* rows reach the metrics here only for 'fetch': 'score' counts its own */
    struct log_ctx lc = {log, 0};
    cfg.vehicles_path = vehicles;
    cfg.out_path = out;
    cfg.token_store = store;
    cfg.sc.max_body = (size_t)max_body;
    cfg.sc.verbose = ops->verbose;
    cfg.stop = &stop;
    cfg.log = log_line;
    cfg.log_ud = &lc;
    cfg.shard = ops->shard.n > 1 ? &ops->shard : NULL;
    cfg.lock_timeout = ops->lock_timeout;
    cfg.progress = progress_cb;
    cfg.row = row_cb;
    cfg.ud = &lc;
    lc.count_rows = strcmp(cli_command(), "fetch") == 0;
    struct task_map *tasks = NULL;
    struct task_sched_table *sched = NULL;
    struct hist_limits lim;
    hist_limits_default(&lim);
    lim.max_body = (size_t)max_body;
    if (incr && incr->store) {
        if (cli_load_taxonomy(incr->data_dir, &tasks, &sched) < 0)
            return CLI_FAIL;
        cfg.store_path = incr->store;
        cfg.limits = &lim;
        cfg.tasks = tasks;
        cfg.sched = sched;
        cfg.overlap_days = incr->overlap;
        cfg.refresh_after_days = incr->refresh_after;
        cfg.retry_errors = incr->retry_errors;
    } else if (incr) {
        cfg.retry_errors = incr->retry_errors;
    }
    struct eng_err err = {0};
    int rc = fetch_run(&cfg, st, &err);
    task_map_free(tasks);
    task_sched_free(sched);
    if (st->started) {
        struct logx_progress p;
        fill_progress(st, &p);
        cli_progress(&p, 1);
        cli_print_fetch_summary(st); /* else nothing was sent: one line */
        cli_metrics_api(&st->sc);
    }
    if (rc < 0)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    return CLI_OK;
}

int cmd_fetch(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        CLI_API_LONGOPTS,
        CLI_OPS_LONGOPTS,
        {"max-error-rate", required_argument, NULL, OPT_MAX_ERROR_RATE},
        {"report", required_argument, NULL, OPT_REPORT},
        {"store", required_argument, NULL, OPT_STORE},
        {"overlap", required_argument, NULL, OPT_OVERLAP},
        {"refresh-after", required_argument, NULL, OPT_REFRESH_AFTER},
        {"retry-errors", no_argument, NULL, OPT_RETRY_ERRORS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    struct cli_common c;
    struct cli_api api;
    struct cli_ops ops;
    cli_common_init(&c);
    cli_api_init(&api);
    cli_ops_init(&ops);
    struct cli_incr incr;
    cli_incr_init(&incr);
    c.out = NULL;
    double max_error_rate = 0.05;
    const char *report = NULL;
    struct runsum sum;
    cli_run_begin(&sum, "fetch");
    int opt, li;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, &li)) != -1) {
        int used = cli_batch_opt(&c, &api, &ops, opt, optarg, argc, argv,
                                 &optind);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        if (opt == OPT_MAX_ERROR_RATE) {
            if (cli_parse_double(optarg, 0, 1, &max_error_rate) < 0)
                return cli_fail(CLI_USAGE, "--max-error-rate takes 0 to 1");
            continue;
        }
        if (opt == OPT_REPORT) {
            report = optarg;
            continue;
        }
        if (opt == OPT_STORE) {
            incr.store = optarg;
            continue;
        }
        if (opt >= OPT_OVERLAP && opt <= OPT_RETRY_ERRORS) {
            if (cli_incr_opt(&incr, longopts[li].name, optarg) < 0)
                return CLI_USAGE;
            continue;
        }
        return cli_usage_opt(usage, opt);
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (incr.store && c.out)
        return cli_fail(CLI_USAGE, "--store and --out: one or the other "
                        "(store export writes a bundle from the store)");
    if (incr.store && !c.vehicles)
        return cli_fail(CLI_USAGE, "--store needs --vehicles");
    if (!incr.store && incr.refresh_after >= 0)
        return cli_fail(CLI_USAGE, "--refresh-after needs --store");
    if (!incr.store && (!c.vehicles || !c.out))
        return cli_fail(CLI_USAGE, "--vehicles and --out are required");
    if (!incr.store && strcmp(c.out, "-") == 0)
        return cli_fail(CLI_USAGE, "fetch writes a file: --out - is not "
                        "possible (the bundle is resumable)");
    cli_report_begin(&ops, "fetch");
    FILE *log = cli_open_log(c.log_path);
    if (!log)
        return cli_report_end(CLI_FAIL);
    struct fetch_stats st;
    incr.data_dir = c.data_dir;
    int status = cli_fetch_incr(&api, &ops, &incr, c.vehicles, c.out,
                                c.max_body, log, &st);
    if (log != stderr)
        fclose(log);
    if (status == CLI_OK && st.rows
        && (double)st.errors / (double)st.rows > max_error_rate) {
        cli_warn("%zu of %zu rows are errors, above --max-error-rate %g",
                 st.errors, st.rows, max_error_rate);
        status = CLI_ERROR_RATE;
    }
    if (status == CLI_FAIL)
        return cli_report_end(status);
    /* the counts the bundle holds, by status */
    struct eng_err err = {0};
    if (incr.store) {              /* no bundle: this run's rows */
        sum.rows.rows = st.rows;
        sum.rows.ok = st.ok;
        sum.rows.no_history = st.no_history;
        sum.rows.errors = st.errors;
    } else if (runsum_scan_bundle(&sum.rows, c.out, &err) < 0) {
        return cli_report_end(cli_fail(CLI_FAIL, "%s", err.msg));
    }
    sum.has_api = 1;
    sum.api = st.sc;
    sum.resumed = st.resumed;
    sum.fetched = st.fetched;
    runsum_input(&sum.inputs[sum.n_inputs++], "vehicles", c.vehicles);
    return cli_report_end(cli_run_finish(&sum, c.out, report, status));
}
