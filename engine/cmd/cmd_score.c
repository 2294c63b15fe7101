/* svcscore score — histories (files or the API) -> scores CSV (README.md,
 * Outputs). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "api/fetch.h"
#include "factors.h"
#include "model.h"
#include "runsum.h"
#include "score.h"
#include "store.h"
#include "task.h"

/* batch workers are at most this many (cli clamps --jobs) */
#define CLI_MAX_JOBS_UNSEEN 256

static const char usage[] =
    "usage: svcscore score --vehicles FILE --histories PATH [options]\n"
    "       svcscore score --histories BUNDLE.jsonl [options]\n"
    "       svcscore score --vehicles FILE --api [URL] [options]\n"
    "       svcscore score --store FILE [--vehicles FILE] [options]\n"
    "\n"
    "Scores each vehicle's maintenance quality: one CSV row per input row,\n"
    "in input order, with the score, band, relativity and up to four\n"
    "reasons.\n\noptions:\n"
    CLI_COMMON_HELP
    "  --model FILE         model file (default: models/default.json)\n"
    "  --severity-model FILE  a severity model (train --family gamma):\n"
    "                       adds expected_severity and\n"
    "                       pure_premium_relativity at the end of each row\n"
    "  --factors FILE       own rating factors by vin or policy_id, for\n"
    "                       models trained on them\n"
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
    "\nnightly runs (README: Running it nightly):\n"
    CLI_OPS_HELP
    "\nwith --store (histories read from the history store, no API; the\n"
    "run and its scores are recorded there, and the summary says what\n"
    "changed since the store's previous run):\n"
    "  --store FILE         the store (without --vehicles: all its vehicles)\n"
    "  --no-record          do not record this run (drift is still shown)\n"
    "with --api and --store, the listed vehicles are first fetched into\n"
    "the store incrementally (README: Incremental fetch), then scored:\n"
    CLI_INCR_HELP
    "  --help               this text\n";

enum {
    OPT_MODEL = CLI_OPT_FIRST_FREE, OPT_MAX_ERROR_RATE, OPT_HISTORIES_OUT,
    OPT_CSV_GUARD, OPT_STORE, OPT_NO_RECORD, OPT_SEVERITY_MODEL, OPT_FACTORS,
    OPT_REPORT, OPT_OVERLAP, OPT_REFRESH_AFTER, OPT_RETRY_ERRORS
};

/*
 * The recorder: rows are gathered in `fill` (the batch's consumer, the main
 * thread) and stored by a thread of their own, STORE_BATCH rows to a
 * transaction, so that SQLite's inserts overlap the run instead of
 * stalling its ordered output.  Each handed-over entry is the row's index
 * (size_t), its length (size_t) and its text.
 */
struct recorder {
    struct store *s;
    long long run;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct buf fill, work;
    size_t fill_rows;
    int have_work, done, failed, started;
    struct eng_err err;
};

struct score_ctx {
    const struct model *model;
    FILE *log;
    int csv_guard;
    size_t total;
    struct recorder *rec;        /* where the run is recorded, or NULL */
    struct score_opts opts;
    struct runsum_acc *acc;    /* one per worker: the run's counts */
};

static int header_cb(void *ud, struct buf *out, struct eng_err *err)
{
    const struct score_ctx *c = ud;
    return score_header_with(&c->opts, out, err);
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

/* The store's drift as the run report draws it (runsum.h). */
static void report_drift(const struct store_drift *d, struct runsum_drift *rd,
                         struct runsum *sum)
{
    memset(rd, 0, sizeof(*rd));
    rd->previous = d->prev_started;
    for (int p = 0; p < STORE_BANDS && p < RUNSUM_BANDS; p++) {
        for (int c = 0; c < STORE_BANDS && c < RUNSUM_BANDS; c++)
            rd->matrix[p][c] = d->matrix[p][c];
    }
    /* new and gone vehicles had no band in one of the runs */
    rd->matrix[RUNSUM_BANDS - 1][RUNSUM_BANDS - 1] = 0;
    for (size_t i = 0; i < d->n_moves && i < RUNSUM_MAX_MOVES; i++) {
        struct runsum_move *m = &rd->moves[rd->n_moves++];
        snprintf(m->vin, sizeof(m->vin), "%s", d->moves[i].vin);
        m->from_score = d->moves[i].from_score;
        m->to_score = d->moves[i].to_score;
        m->from_band = d->moves[i].from_band;
        m->to_band = d->moves[i].to_band;
    }
    sum->drift = rd;
}

static int row_cb(void *ud, int worker, const struct batch_vehicle *v,
                  struct buf *out, struct eng_err *err)
{
    const struct score_ctx *c = ud;
    size_t start = out->len;
    int rc = score_row_with(c->model, &c->opts, worker, v, c->csv_guard, out,
                            err);
    if (rc == ENG_OK)
        count_row(&c->acc[worker], out->data + start, out->len - start);
    return rc;
}

/*
 * Splits one scores-CSV row (our own writer's quoting: "..." with doubled
 * quotes) into at most max fields, in place.  Returns the field count.
 */
static int split_csv(char *row, char **f, int max)
{
    int n = 0;
    char *p = row;
    while (n < max) {
        char *dst = p;
        f[n++] = p;
        if (*p == '"') {
            char *src = p + 1;
            for (;;) {
                if (*src == '\0')
                    break;
                if (*src == '"' && src[1] == '"') {
                    *dst++ = '"';
                    src += 2;
                } else if (*src == '"') {
                    src++;
                    break;
                } else {
                    *dst++ = *src++;
                }
            }
            p = src;
        } else {
            while (*p && *p != ',')
                p++;
            dst = p;
        }
        int more = *p == ',';
        *dst = '\0';
        if (!more)
            break;
        p++;
    }
    return n;
}

/* Stores one scores-CSV row (row has len + 1 bytes, writable). */
static int store_row(struct recorder *r, size_t index, char *row, size_t len,
                     struct eng_err *err)
{
    row[len] = '\0';
    while (len > 0 && (row[len - 1] == '\n' || row[len - 1] == '\r'))
        row[--len] = '\0';
    char *f[24];
    int n = split_csv(row, f, 24);
    if (n < 12)
        return ENG_OK;
    struct store_score sc = {
        .row = index, .vin = f[0], .policy_id = f[2], .status = f[3],
        .has_score = f[4][0] != '\0' && f[5][0] != '\0',
        .score = atoi(f[4]), .band = f[5][0],
        .relativity = strtod(f[6], NULL),
        .reasons = {f[7], f[8], f[9], f[10]},
        .model_id = f[n - 1],
    };
    return store_run_score(r->s, r->run, &sc, err);
}

/* Stores the handed-over rows in one transaction. */
static int store_work(struct recorder *r, struct eng_err *err)
{
    int rc = store_begin(r->s, err);
    size_t off = 0;
    while (rc == ENG_OK && off < r->work.len) {
        size_t index, len;
        memcpy(&index, r->work.data + off, sizeof(index));
        memcpy(&len, r->work.data + off + sizeof(index), sizeof(len));
        off += 2 * sizeof(size_t);
        rc = store_row(r, index, r->work.data + off, len, err);
        off += len + 1;
    }
    if (rc == ENG_OK)
        rc = store_commit(r->s, err);
    else
        store_rollback(r->s);
    return rc;
}

static void *recorder_main(void *arg)
{
    struct recorder *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->have_work && !r->done)
            pthread_cond_wait(&r->cv, &r->mu);
        if (!r->have_work)
            break;
        pthread_mutex_unlock(&r->mu);
        struct eng_err err = {0};
        int rc = r->failed ? ENG_OK : store_work(r, &err);
        pthread_mutex_lock(&r->mu);
        if (rc < 0 && !r->failed) {
            r->failed = 1;
            r->err = err;
        }
        buf_reset(&r->work);
        r->have_work = 0;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Hands the gathered rows to the recorder thread (waits for it first). */
static int hand_over(struct recorder *r, struct eng_err *err)
{
    pthread_mutex_lock(&r->mu);
    while (r->have_work)
        pthread_cond_wait(&r->cv, &r->mu);
    struct buf t = r->work;
    r->work = r->fill;
    r->fill = t;
    r->fill_rows = 0;
    r->have_work = r->work.len > 0;
    int failed = r->failed;
    if (failed && err)
        *err = r->err;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return failed ? r->err.code ? r->err.code : ENG_EIO : ENG_OK;
}

static int recorder_start(struct recorder *r, struct store *s, long long run,
                          struct eng_err *err)
{
    memset(r, 0, sizeof(*r));
    r->s = s;
    r->run = run;
    buf_init(&r->fill, (size_t)1 << 32);
    buf_init(&r->work, (size_t)1 << 32);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, recorder_main, r) != 0)
        return eng_err_set(err, ENG_ENOMEM, "cannot start the recorder");
    r->started = 1;
    return ENG_OK;
}

/* Stores what is left, stops the thread; the first failure, if any. */
static int recorder_finish(struct recorder *r, struct eng_err *err)
{
    int rc = ENG_OK;
    if (r->started) {
        rc = hand_over(r, err);
        pthread_mutex_lock(&r->mu);
        r->done = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
        r->started = 0;
        if (rc == ENG_OK && r->failed) {
            rc = r->err.code ? r->err.code : ENG_EIO;
            if (err)
                *err = r->err;
        }
    }
    buf_release(&r->fill);
    buf_release(&r->work);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    return rc;
}

/* The batch's row_out: gathers one output row for the recorder. */
static int record_cb(void *ud, size_t index, const char *row, size_t len,
                     struct eng_err *err)
{
    struct recorder *r = ((struct score_ctx *)ud)->rec;
    int rc = buf_add(&r->fill, &index, sizeof(index), err);
    if (rc == ENG_OK)
        rc = buf_add(&r->fill, &len, sizeof(len), err);
    if (rc == ENG_OK)
        rc = buf_add(&r->fill, row, len, err);
    if (rc == ENG_OK)
        rc = buf_add(&r->fill, "", 1, err);
    if (rc == ENG_OK && ++r->fill_rows == STORE_BATCH)
        rc = hand_over(r, err);
    return rc;
}

static void now_text(char *out, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The summary's drift lines: the band migration counts and the rest. */
static void print_drift(const struct store_drift *d)
{
    if (!d->prev) {
        fprintf(stderr, "svcscore: drift: no earlier run in this store\n");
        return;
    }
    fprintf(stderr, "svcscore: drift since run %lld (%s): %zu scored in "
            "both, %zu changed band (%zu by 1, %zu by 2, %zu by 3, %zu by "
            "4), %zu new, %zu gone, mean score change %+.2f\n", d->prev,
            d->prev_started, d->both, d->moved, d->by[1], d->by[2], d->by[3],
            d->by[4], d->added, d->gone, d->mean_change);
    fprintf(stderr, "svcscore: band migration (rows: run %lld, columns: "
            "this run)\nsvcscore:    ", d->prev);
    for (int c = 0; c < STORE_BANDS; c++)
        fprintf(stderr, " %8c", 'A' + c);
    fprintf(stderr, "\n");
    for (int p = 0; p < STORE_BANDS; p++) {
        fprintf(stderr, "svcscore:   %c", 'A' + p);
        for (int c = 0; c < STORE_BANDS; c++)
            fprintf(stderr, " %8zu", d->matrix[p][c]);
        fprintf(stderr, "\n");
    }
}

/*
 * Opens the handle the run is recorded with (the batch's workers open
 * read-only handles of their own).  A store that cannot be written (or
 * --no-record) records into temporary tables only, so the drift is still
 * reported.  Opening it first migrates an older file.
 */
static int open_store(const char *path, int no_record, struct store **rec,
                      int *temp)
{
    struct eng_err err = {0};
    /* scoring never creates a store: a mistyped path would score nothing */
    if (access(path, F_OK) != 0)
        return cli_fail(CLI_FAIL, "cannot open store '%s': %s", path,
                        strerror(errno));
    *temp = no_record || access(path, W_OK) != 0;
    *rec = store_open(path, *temp ? STORE_READONLY : 0, &err);
    if (!*rec)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    if (*temp && !no_record)
        cli_warn("store '%s' is read-only: this run is not recorded", path);
    return CLI_OK;
}

static void log_cb(void *ud, const char *line)
{
    const struct score_ctx *c = ud;
    cli_log(c->log, LOGX_INFO, "row", line);
}

static void progress_cb(void *ud, const struct batch_stats *st,
                        const char *status)
{
    const struct score_ctx *c = ud;
    cli_metrics_row(status);
    struct logx_progress p;
    cli_batch_progress("score", c->total, st, &p);
    cli_progress(&p, 0);
}

int cmd_score(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        CLI_API_LONGOPTS,
        CLI_OPS_LONGOPTS,
        {"histories-out", required_argument, NULL, OPT_HISTORIES_OUT},
        {"model", required_argument, NULL, OPT_MODEL},
        {"max-error-rate", required_argument, NULL, OPT_MAX_ERROR_RATE},
        {"csv-guard", required_argument, NULL, OPT_CSV_GUARD},
        {"store", required_argument, NULL, OPT_STORE},
        {"no-record", no_argument, NULL, OPT_NO_RECORD},
        {"severity-model", required_argument, NULL, OPT_SEVERITY_MODEL},
        {"factors", required_argument, NULL, OPT_FACTORS},
        {"report", required_argument, NULL, OPT_REPORT},
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
    const char *model_path = NULL, *histories_out = NULL, *report = NULL;
    const char *store_path = NULL;
    int no_record = 0;
    const char *severity_path = NULL, *factors_path = NULL;
    struct runsum sum;
    cli_run_begin(&sum, "score");
    double max_error_rate = 0.05;
    int csv_guard = 1;
    struct cli_incr incr;
    cli_incr_init(&incr);
    int opt, li, incr_used = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, &li)) != -1) {
        int used = cli_batch_opt(&c, &api, &ops, opt, optarg, argc, argv,
                                 &optind);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        if (opt >= OPT_OVERLAP && opt <= OPT_RETRY_ERRORS) {
            if (cli_incr_opt(&incr, longopts[li].name, optarg) < 0)
                return CLI_USAGE;
            incr_used = 1;
        } else if (opt == OPT_STORE) {
            store_path = optarg;
        } else if (opt == OPT_NO_RECORD) {
            no_record = 1;
        } else if (opt == OPT_HISTORIES_OUT) {
            histories_out = optarg;
        } else if (opt == OPT_REPORT) {
            report = optarg;
        } else if (opt == OPT_MODEL) {
            model_path = optarg;
        } else if (opt == OPT_SEVERITY_MODEL) {
            severity_path = optarg;
        } else if (opt == OPT_FACTORS) {
            factors_path = optarg;
        } else if (opt == OPT_MAX_ERROR_RATE) {
            if (cli_parse_double(optarg, 0, 1, &max_error_rate) < 0)
                return cli_fail(CLI_USAGE, "--max-error-rate takes 0 to 1");
        } else if (opt == OPT_CSV_GUARD) {
            csv_guard = cli_parse_on_off(optarg);
            if (csv_guard < 0)
                return cli_fail(CLI_USAGE, "--csv-guard takes on or off");
        } else {
            return cli_usage_opt(usage, opt);
        }
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    char bundle[4096];
    if (store_path) {
        if (c.histories || histories_out)
            return cli_fail(CLI_USAGE, "--store excludes --histories and "
                            "--histories-out");
        if (api.api_mode && !c.vehicles)
            return cli_fail(CLI_USAGE, "--api needs --vehicles");
        if (incr_used && !api.api_mode)
            return cli_fail(CLI_USAGE, "--overlap, --refresh-after and "
                            "--retry-errors need --api");
        incr.store = store_path;
        incr.data_dir = c.data_dir;
    } else if (incr_used) {
        return cli_fail(CLI_USAGE, "--overlap, --refresh-after and "
                        "--retry-errors need --api and --store");
    } else if (no_record) {
        return cli_fail(CLI_USAGE, "--no-record needs --store");
    } else if (api.api_mode) {
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
    if (ops.shard.n > 1 && !c.vehicles)
        return cli_fail(CLI_USAGE, "--shard needs --vehicles (a shard is a "
                        "set of vehicle-list rows)");
    cli_report_begin(&ops, "score");

    struct model *model = NULL, *severity = NULL;
    struct factors *factors = NULL;
    size_t unseen[CLI_MAX_JOBS_UNSEEN] = {0};
    if (cli_load_model(model_path, &model) != CLI_OK)
        return cli_report_end(CLI_FAIL);
    if (severity_path && cli_load_model(severity_path, &severity) != CLI_OK) {
        model_free(model);
        return cli_report_end(CLI_FAIL);
    }
    if (factors_path) {
        struct eng_err ferr = {0};
        factors = factors_load(factors_path, NULL, 0, &ferr);
        if (!factors) {
            model_free(model);
            model_free(severity);
            return cli_report_end(cli_fail(CLI_FAIL, "%s", ferr.msg));
        }
    } else if (model_has_own(model) ||
               (severity && model_has_own(severity))) {
        model_free(model);
        model_free(severity);
        return cli_report_end(cli_fail(CLI_USAGE, "the model uses own "
                                       "rating factors: give them with "
                                       "--factors"));
    }
    struct task_map *tasks = NULL;
    struct task_sched_table *sched = NULL;
    struct store *rec = NULL;
    FILE *log = NULL;
    struct runsum_acc *acc = NULL;
    int status = CLI_FAIL;
    /* set before the first goto: the clean-up reads ctx.rec */
    struct score_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    int temp = 0;
    char started[32];
    now_text(started, sizeof(started));
    if (cli_load_taxonomy(c.data_dir, &tasks, &sched) < 0)
        goto out;
    log = cli_open_log(c.log_path);
    if (!log)
        goto out;
    if (api.api_mode) {
        struct fetch_stats fs;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (cli_fetch_incr(&api, &ops, &incr, c.vehicles, c.histories,
                           c.max_body, log, &fs) != CLI_OK)
            goto out;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        sum.has_api = 1;
        sum.api = fs.sc;
        sum.resumed = fs.resumed;
        sum.fetched = fs.fetched;
        sum.fetch_s = (double)(t1.tv_sec - t0.tv_sec)
                      + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    }

    const struct shard_spec *shard = ops.shard.n > 1 ? &ops.shard : NULL;
    ctx.model = model;
    ctx.log = log;
    ctx.csv_guard = csv_guard;
    ctx.total = cli_count_rows(c.vehicles, c.histories, shard);
    ctx.opts.factors = factors;
    ctx.opts.severity = severity;
    ctx.opts.unseen = unseen;
    struct recorder recorder;
    long long run_id = 0;
    struct batch_config cfg;
    cli_batch_config(&c, tasks, sched, &cfg);
    acc = calloc((size_t)cfg.jobs, sizeof(*acc));
    if (!acc) {
        cli_fail(CLI_FAIL, "out of memory");
        goto out;
    }
    ctx.acc = acc;
    cfg.header = header_cb;
    cfg.row = row_cb;
    cfg.log = log_cb;
    cfg.ud = &ctx;
    cfg.shard = shard;
    cfg.progress = progress_cb;
    struct batch_stats st;
    struct eng_err err = {0};
    if (store_path) {
        if (open_store(store_path, no_record, &rec, &temp) != CLI_OK)
            goto out;
        char as_of[16], command[1024] = "score";
        eng_format_day(c.as_of, as_of);
        for (int i = 1; i < argc; i++) {
            size_t used = strlen(command);
            snprintf(command + used, sizeof(command) - used, " %s",
                     argv[i]);
        }
        struct store_run run = {started, command, model_id(model), as_of};
        if (store_run_begin(rec, &run, temp, &run_id, &err) < 0 ||
            recorder_start(&recorder, rec, run_id, &err) < 0) {
            cli_fail(CLI_FAIL, "%s", err.msg);
            goto out;
        }
        ctx.rec = &recorder;
        cfg.store_path = store_path;
        cfg.row_out = record_cb;
    }
    int brc = batch_run(&cfg, &st, &err);
    if (ctx.rec) {
        struct eng_err rerr = {0};
        int rrc = recorder_finish(ctx.rec, &rerr);
        ctx.rec = NULL;
        if (brc == ENG_OK && rrc < 0) {
            brc = rrc;
            err = rerr;
        }
    }
    if (brc < 0) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    struct logx_progress p;
    cli_batch_progress("score", ctx.total, &st, &p);
    cli_progress(&p, 1);
    char msg[512];
    snprintf(msg, sizeof(msg), "score: %zu rows (%zu ok, %zu no_history, "
             "%zu errors) with model %s", st.rows, st.ok, st.no_history,
             st.errors, model_id(model));
    struct logx_field f[] = {
        {"command", LOGX_STR, "score", 0, 0},
        {"rows", LOGX_INT, NULL, (long long)st.rows, 0},
        {"ok", LOGX_INT, NULL, (long long)st.ok, 0},
        {"no_history", LOGX_INT, NULL, (long long)st.no_history, 0},
        {"errors", LOGX_INT, NULL, (long long)st.errors, 0},
        {"model", LOGX_STR, model_id(model), 0, 0},
    };
    cli_log_fields(stderr, LOGX_INFO, "summary", msg, f,
                   sizeof(f) / sizeof(f[0]));
    status = CLI_OK;
    size_t n_unseen = 0;
    for (int i = 0; i < CLI_MAX_JOBS_UNSEEN; i++)
        n_unseen += unseen[i];
    if (n_unseen)
        cli_warn("%zu vehicles have a level of an own factor not seen in "
                 "training: scored at its base level", n_unseen);
    if (st.rows && (double)st.errors / (double)st.rows > max_error_rate) {
        cli_warn("%zu of %zu rows are errors, above --max-error-rate %g",
                 st.errors, st.rows, max_error_rate);
        status = CLI_ERROR_RATE;
    }
    static struct store_drift d;
    static struct runsum_drift rd;
    if (rec) {
        char ended[32];
        now_text(ended, sizeof(ended));
        struct store_run_end end = {ended, status, &d};
        if (store_drift(rec, run_id, &d, &err) < 0 ||
            store_begin(rec, &err) < 0 ||
            store_run_end(rec, run_id, &end, &err) < 0 ||
            store_commit(rec, &err) < 0) {
            status = cli_fail(CLI_FAIL, "%s", err.msg);
            goto out;
        }
        print_drift(&d);
        if (d.prev)
            report_drift(&d, &rd, &sum);
        if (!temp)
            fprintf(stderr, "svcscore: recorded as run %lld in '%s'\n",
                    run_id, store_path);
    }
    for (int i = 0; i < cfg.jobs; i++)
        runsum_merge(&sum.rows, &acc[i]);
    sum.has_scores = 1;
    for (int b = 0; b < 5; b++)
        sum.band_expected[b] = model_band_share(model, b);
    sum.model_id = model_id(model);
    eng_format_day(c.as_of, sum.as_of);
    if (c.vehicles)
        runsum_input(&sum.inputs[sum.n_inputs++], "vehicles", c.vehicles);
    if (c.histories)
        runsum_input(&sum.inputs[sum.n_inputs++], "histories", c.histories);
    if (store_path)
        runsum_input(&sum.inputs[sum.n_inputs++], "store", store_path);
    char found[4096];
    model_path = cli_model_path(model_path, found, sizeof(found));
    runsum_input(&sum.inputs[sum.n_inputs++], "model", model_path);
    status = cli_run_finish(&sum, c.out, report, status);
out:
    if (ctx.rec)
        recorder_finish(ctx.rec, NULL);
    if (rec && status == CLI_FAIL && run_id > 0) {
        /* a failed run stays on record, marked by its exit code */
        char ended[32];
        now_text(ended, sizeof(ended));
        struct store_run_end end = {ended, CLI_FAIL, NULL};
        store_rollback(rec);
        if (store_begin(rec, NULL) == ENG_OK &&
            store_run_end(rec, run_id, &end, NULL) == ENG_OK)
            store_commit(rec, NULL);
    }
    store_close(rec);
    free(acc);
    if (log && log != stderr)
        fclose(log);
    task_map_free(tasks);
    task_sched_free(sched);
    model_free(model);
    model_free(severity);
    factors_free(factors);
    return cli_report_end(status);
}
