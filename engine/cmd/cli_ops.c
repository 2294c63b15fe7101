/* cli_ops — progress, log lines, metrics and shard options of a run. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "buf.h"
#include "metrics.h"
#include "runsum.h"
#include "version.h"
#include "api/sc.h"

void cli_ops_init(struct cli_ops *o)
{
    memset(o, 0, sizeof(*o));
    o->progress_every = 30;
    o->format = LOGX_TEXT;
    o->lock_timeout = 60;
}

int cli_ops_opt(struct cli_ops *o, int opt, const char *arg)
{
    struct eng_err err;
    switch (opt) {
    case CLI_OPT_PROGRESS_EVERY:
        if (cli_parse_double(arg, 0, 86400, &o->progress_every) < 0) {
            cli_fail(CLI_USAGE, "--progress-every takes seconds from 0 to "
                     "86400");
            return -1;
        }
        return 1;
    case CLI_OPT_LOG_FORMAT:
        if (strcmp(arg, "text") == 0) {
            o->format = LOGX_TEXT;
        } else if (strcmp(arg, "json") == 0) {
            o->format = LOGX_JSON;
        } else {
            cli_fail(CLI_USAGE, "--log-format takes text or json");
            return -1;
        }
        return 1;
    case CLI_OPT_VERBOSE:
        o->verbose = 1;
        return 1;
    case CLI_OPT_METRICS:
        o->metrics = arg;
        return 1;
    case CLI_OPT_SHARD:
        if (shard_parse(arg, &o->shard, &err) < 0) {
            cli_fail(CLI_USAGE, "%s", err.msg);
            return -1;
        }
        return 1;
    case CLI_OPT_LOCK_TIMEOUT:
        if (cli_parse_double(arg, 0, 86400, &o->lock_timeout) < 0) {
            cli_fail(CLI_USAGE, "--lock-timeout takes seconds from 0 to "
                     "86400");
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* The run's reporting state: one run per process. */

struct report {
    int begun;
    enum logx_format format;
    const char *command;
    const char *metrics;
    double every;
    double start_mono;
    double start_wall;
    int tty;                       /* stderr is a terminal */
    int tty_line;                  /* an updating line is on screen */
    double last_progress;
    /* metrics */
    struct metrics_tally rows;     /* ok, no_history, error */
    struct metrics_tally types;    /* error types */
    int have_api;
    struct sc_stats api;
};

static struct report rep = {.every = 30};

/* The API's request rate over the run, for the run report. */
static struct runsum_rate rate;

const struct runsum_rate *cli_rate(void)
{
    return rate.n >= 2 ? &rate : NULL;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_report_begin(const struct cli_ops *o, const char *command)
{
    rep.begun = 1;
    rep.format = o->format;
    rep.command = command;
    rep.metrics = o->metrics;
    rep.every = o->progress_every;
    rep.start_mono = mono();
    rep.start_wall = wall();
    rep.last_progress = rep.start_mono;
    rep.tty = isatty(STDERR_FILENO);
    /* every status has its sample, 0 included, so alerts need no absent() */
    metrics_tally_add(&rep.rows, "ok", 0);
    metrics_tally_add(&rep.rows, "no_history", 0);
    metrics_tally_add(&rep.rows, "error", 0);
}

const char *cli_command(void)
{
    return rep.command ? rep.command : "";
}

double cli_elapsed(void)
{
    return rep.begun ? mono() - rep.start_mono : 0;
}

/* Takes the updating progress line off the screen before other output. */
static void clear_tty_line(FILE *f)
{
    if (rep.tty_line && (f == stderr || !f)) {
        fputs("\r\033[K", stderr);
        rep.tty_line = 0;
    }
}

static void emit(FILE *f, const struct buf *b)
{
    if (!f)
        f = stderr;
    clear_tty_line(f);
    fwrite(b->data, 1, b->len, f);
    fflush(f);
}

void cli_log_fields(FILE *f, enum logx_level level, const char *event,
                    const char *msg, const struct logx_field *fields,
                    size_t n)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    if (logx_line(&b, rep.format, wall(), level, event, msg, fields, n,
                  NULL) == ENG_OK)
        emit(f, &b);
    buf_release(&b);
}

void cli_log(FILE *f, enum logx_level level, const char *event,
             const char *msg)
{
    cli_log_fields(f, level, event, msg, NULL, 0);
}

void cli_progress(const struct logx_progress *p, int final)
{
    double now = mono();
    if (p->has_api)
        runsum_rate_sample(&rate, now, p->requests);
    struct buf b;
    buf_init(&b, 4096);
    if (final) {
        if (logx_progress_line(&b, rep.format, wall(), p, 1, NULL) == ENG_OK)
            emit(stderr, &b);
    } else if (rep.tty) {
        if (now - rep.last_progress >= 0.5
            && logx_progress_tty(&b, p, NULL) == ENG_OK) {
            fwrite(b.data, 1, b.len, stderr);
            fflush(stderr);
            rep.tty_line = 1;
            rep.last_progress = now;
        }
    } else if (rep.every > 0 && now - rep.last_progress >= rep.every) {
        if (logx_progress_line(&b, rep.format, wall(), p, 0, NULL) == ENG_OK)
            emit(stderr, &b);
        rep.last_progress = now;
    }
    buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Metrics. */

void cli_metrics_row(const char *status)
{
    if (!rep.metrics)
        return;
    if (strcmp(status, "ok") == 0 || strcmp(status, "no_history") == 0
        || strcmp(status, "not_due") == 0) {
        metrics_tally_add(&rep.rows, status, 1);
        return;
    }
    metrics_tally_add(&rep.rows, "error", 1);
    char type[METRICS_KEY_LEN];
    metrics_error_type(status, type, sizeof(type));
    metrics_tally_add(&rep.types, type[0] ? type : "UNKNOWN", 1);
}

void cli_metrics_api(const struct sc_stats *s)
{
    rep.have_api = 1;
    rep.api = *s;
}

/* One family with its unlabelled sample. */
static int one(struct buf *b, const char *name, const char *type,
               const char *help, double v, struct eng_err *err)
{
    int rc = metrics_family(b, name, type, help, err);
    return rc == ENG_OK ? metrics_sample(b, name, NULL, NULL, v, err) : rc;
}

static int tally(struct buf *b, const char *name, const char *help,
                 const char *label, const struct metrics_tally *t,
                 struct eng_err *err)
{
    int rc = metrics_family(b, name, "counter", help, err);
    for (size_t i = 0; rc == ENG_OK && i < t->n; i++)
        rc = metrics_sample(b, name, label, t->e[i].key,
                            (double)t->e[i].count, err);
    return rc;
}

static int api_metrics(struct buf *b, const struct sc_stats *s,
                       struct eng_err *err)
{
    int rc = metrics_family(b, "svcscore_http_requests_total", "counter",
                            "HTTP requests sent, by the status of their "
                            "answer (none: no answer)", err);
    for (int c = 0; rc == ENG_OK && c < SC_HTTP_CODES; c++) {
        if (!s->responses[c])
            continue;
        char code[8];
        snprintf(code, sizeof(code), "%d", c);
        rc = metrics_sample(b, "svcscore_http_requests_total", "code",
                            c ? code : "none", (double)s->responses[c], err);
    }
    struct {
        const char *cause;
        unsigned long n;
    } causes[] = {
        {"rate_limit_vehicle", s->retry_rate_vehicle},
        {"rate_limit_app", s->retry_rate_app},
        {"server", s->retry_server},
        {"vehicle_state", s->retry_vehicle_state},
        {"retry_later", s->retry_later},
        {"network", s->retry_network},
        {"timeout", s->retry_timeout},
        {"bad_body", s->retry_parse},
    };
    if (rc == ENG_OK)
        rc = metrics_family(b, "svcscore_retries_total", "counter",
                            "Requests sent again, by cause", err);
    for (size_t i = 0; rc == ENG_OK && i < sizeof(causes) / sizeof(*causes);
         i++)
        rc = metrics_sample(b, "svcscore_retries_total", "cause",
                            causes[i].cause, (double)causes[i].n, err);
    if (rc == ENG_OK)
        rc = one(b, "svcscore_token_refreshes_total", "counter",
                 "Token refresh requests sent", (double)s->refreshes, err);
    if (rc == ENG_OK)
        rc = one(b, "svcscore_token_rotations_total", "counter",
                 "Refreshes that gave a new token pair",
                 (double)s->rotations, err);
    if (rc == ENG_OK)
        rc = one(b, "svcscore_token_refresh_failures_total", "counter",
                 "Token pairs whose refresh failed",
                 (double)s->refresh_failures, err);
    if (rc == ENG_OK)
        rc = one(b, "svcscore_rate_limit_paused_seconds_total", "counter",
                 "Seconds every API request was paused by the application "
                 "rate limit", s->paused_seconds, err);
    if (rc == ENG_OK)
        rc = one(b, "svcscore_response_bytes_total", "counter",
                 "Bytes of API answer bodies, decoded", (double)s->bytes,
                 err);
    if (rc == ENG_OK)
        rc = one(b, "svcscore_received_bytes_total", "counter",
                 "Bytes received from the API as sent: headers and "
                 "compressed bodies", (double)s->wire_bytes, err);
    return rc;
}

static int all_metrics(struct buf *b, int status, double last_ok,
                       struct eng_err *err)
{
    int rc = metrics_family(b, "svcscore_run_info", "gauge",
                            "The last run: command and program version",
                            err);
    if (rc == ENG_OK) {
        char v[64];
        snprintf(v, sizeof(v), "%s", rep.command ? rep.command : "");
        rc = buf_printf(b, err, "svcscore_run_info{command=\"%s\","
                        "version=\"%s\"} 1\n", v, SVCSCORE_VERSION);
    }
    if (rc == ENG_OK)
        rc = tally(b, "svcscore_rows_total", "Rows written by the last run, "
                   "by status (ok, no_history, error)", "status", &rep.rows,
                   err);
    if (rc == ENG_OK)
        rc = tally(b, "svcscore_row_errors_total", "Error rows of the last "
                   "run, by error type", "type", &rep.types, err);
    if (rc == ENG_OK && rep.have_api)
        rc = api_metrics(b, &rep.api, err);
    if (rc == ENG_OK)
        rc = one(b, "svcscore_run_duration_seconds", "gauge",
                 "Wall time of the last run", cli_elapsed(), err);
    if (rc == ENG_OK)
        rc = one(b, "svcscore_run_exit_status", "gauge",
                 "Exit status of the last run (0 success, 3 error rate "
                 "above the limit)", status, err);
    if (rc == ENG_OK)
        rc = one(b, "svcscore_last_run_timestamp_seconds", "gauge",
                 "Unix time the last run ended", wall(), err);
    if (rc == ENG_OK && last_ok > 0)
        rc = one(b, "svcscore_last_success_timestamp_seconds", "gauge",
                 "Unix time the last successful run (exit 0) ended",
                 last_ok, err);
    return rc;
}

int cli_report_end(int status)
{
    clear_tty_line(stderr);
    if (!rep.metrics)
        return status;
    double last_ok = 0;
    if (status == CLI_OK)
        last_ok = wall();
    else
        metrics_read_value(rep.metrics,
                           "svcscore_last_success_timestamp_seconds",
                           &last_ok);
    struct buf b;
    buf_init(&b, 1 << 20);
    struct eng_err err = {0};
    int rc = all_metrics(&b, status, last_ok, &err);
    if (rc == ENG_OK)
        rc = metrics_write(rep.metrics, &b, &err);
    if (rc < 0)
        cli_warn("cannot write the metrics file '%s': %s", rep.metrics,
                 err.msg);
    buf_release(&b);
    return status;
}

/* ------------------------------------------------------------------ */
/* Row counts for progress. */

static size_t count_lines(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static char chunk[1 << 16];
    size_t lines = 0;
    int first = 1;
    int ends_in_newline = 1;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (first && n >= 2 && (unsigned char)chunk[0] == 0x1f
            && (unsigned char)chunk[1] == 0x8b) {
            lines = 0;             /* gzip: its lines are not countable */
            ends_in_newline = 1;
            break;
        }
        first = 0;
        const char *p = chunk;
        const char *end = chunk + n;
        for (;;) {
            p = memchr(p, '\n', (size_t)(end - p));
            if (!p)
                break;
            lines++;
            p++;
        }
        ends_in_newline = chunk[n - 1] == '\n';
    }
    close(fd);
    return lines + (ends_in_newline ? 0 : 1);
}

size_t cli_count_rows(const char *vehicles, const char *histories,
                      const struct shard_spec *shard)
{
    size_t n = 0;
    if (vehicles) {
        if (strcmp(vehicles, "-") == 0
            || shard_count(vehicles, shard, &n, NULL) < 0)
            return 0;
        return n;
    }
    if (!histories || strcmp(histories, "-") == 0)
        return 0;
    return count_lines(histories);
}

void cli_batch_progress(const char *command, size_t total,
                        const struct batch_stats *st,
                        struct logx_progress *p)
{
    memset(p, 0, sizeof(*p));
    p->command = command;
    p->total = total;
    p->done = st->rows;
    p->ok = st->ok + st->no_history;
    p->errors = st->errors;
    p->elapsed = cli_elapsed();
}

int cli_batch_opt(struct cli_common *c, struct cli_api *api,
                  struct cli_ops *ops, int opt, const char *arg, int argc,
                  char **argv, int *ind)
{
    int used = cli_common_opt(c, opt, arg);
    if (used == 0 && api)
        used = cli_api_opt(api, opt, arg, argc, argv, ind);
    if (used == 0)
        used = cli_ops_opt(ops, opt, arg);
    return used;
}

int cli_usage_opt(const char *usage, int opt)
{
    if (opt == 'h') {
        fputs(usage, stdout);
        return CLI_OK;
    }
    fputs(usage, stderr);
    return CLI_USAGE;
}
