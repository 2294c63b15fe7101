/*
 * cli — the command layer: one cmd_<name>() per subcommand, each in its own
 * engine/cmd/cmd_<name>.c, called by main.c with argv starting at the command
 * name.  Only main.c and the cmd_*.c files print or choose exit codes; the
 * modules below them report through struct eng_err.
 *
 * Exit codes (README.md, Commands): CLI_OK done; CLI_FAIL the run failed
 * (inputs, outputs, model, configuration); CLI_USAGE a usage error;
 * CLI_ERROR_RATE done, but the share of error rows exceeded --max-error-rate.
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

enum cli_exit {
    CLI_OK = 0,
    CLI_FAIL = 1,
    CLI_USAGE = 2,
    CLI_ERROR_RATE = 3
};

/*
 * Prints "<timestamp> svcscore: error: <message>" on stderr (a JSON object
 * under --log-format json) and returns status.
 */
int cli_fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "<timestamp> svcscore: warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parses a whole non-negative integer option (decimal, no sign, no trailing
 * text) within lo..hi; returns 0 and sets *out, or -1 (out unchanged).
 */
int cli_parse_long(const char *s, long lo, long hi, long *out);

/* Parses a finite double within lo..hi; returns 0 or -1 (out unchanged). */
int cli_parse_double(const char *s, double lo, double hi, double *out);

/* Parses "on" (1) or "off" (0); returns -1 for anything else. */
int cli_parse_on_off(const char *s);

/* The number of online cores, at least 1: the default for --jobs. */
int cli_default_jobs(void);

int cmd_features(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_rating(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_store(int argc, char **argv);



/*
 * Options shared by the commands that read histories.  cli_common_init()
 * sets the defaults; cli_common_opt() handles one getopt_long() result for
 * the options in CLI_COMMON_LONGOPTS and returns 1 if it was one of them, 0
 * if not, or -1 after printing a usage error.
 */
struct cli_common {
    const char *vehicles;        /* --vehicles */
    const char *histories;       /* --histories */
    const char *out;             /* --out */
    const char *data_dir;        /* --data-dir, else found next to the binary */
    const char *log_path;        /* --log, else stderr */
    long as_of;                  /* --as-of, default today (UTC) */
    int jobs;                    /* --jobs */
    long max_body;               /* --max-body (bytes) */
    long max_records;            /* --max-records */
};

enum cli_opt_id {
    CLI_OPT_VEHICLES = 1000,
    CLI_OPT_HISTORIES,
    CLI_OPT_OUT,
    CLI_OPT_DATA_DIR,
    CLI_OPT_LOG,
    CLI_OPT_AS_OF,
    CLI_OPT_JOBS,
    CLI_OPT_MAX_BODY,
    CLI_OPT_MAX_RECORDS,
    CLI_OPT_FIRST_FREE
};

#define CLI_COMMON_LONGOPTS                                            \
    {"vehicles", required_argument, NULL, CLI_OPT_VEHICLES},           \
    {"histories", required_argument, NULL, CLI_OPT_HISTORIES},         \
    {"out", required_argument, NULL, CLI_OPT_OUT},                     \
    {"data-dir", required_argument, NULL, CLI_OPT_DATA_DIR},           \
    {"log", required_argument, NULL, CLI_OPT_LOG},                     \
    {"as-of", required_argument, NULL, CLI_OPT_AS_OF},                 \
    {"jobs", required_argument, NULL, CLI_OPT_JOBS},                   \
    {"max-body", required_argument, NULL, CLI_OPT_MAX_BODY},           \
    {"max-records", required_argument, NULL, CLI_OPT_MAX_RECORDS}

#define CLI_COMMON_HELP                                                  \
    "  --vehicles FILE      vehicle list CSV (README: Inputs), - for stdin\n" \
    "  --histories PATH     JSONL bundle or directory of response files\n" \
    "  --out FILE           output file, - for stdout (written atomically)\n" \
    "  --as-of YYYY-MM-DD   scoring date (default: today, UTC)\n"        \
    "  --jobs N             worker threads (default: number of cores)\n" \
    "  --data-dir DIR       taxonomy and schedules (default: found beside\n" \
    "                       the program, else the installed copy)\n"     \
    "  --log FILE           per-vehicle log lines (default: stderr)\n"   \
    "  --max-body BYTES     cap on one history body (default 8 MiB)\n"  \
    "  --max-records N      cap on records of one history (default 10000)\n"

void cli_common_init(struct cli_common *c);
int cli_common_opt(struct cli_common *c, int opt, const char *arg);

/*
 * Finds a file of the project's data (rel like "data/tasks.tsv" or
 * "models/default.json"): beside the program (its folder's parent), then
 * under the installed share folder.  Writes the path to out and returns 0,
 * or -1 when not found.
 */
int cli_find_file(const char *rel, char *out, size_t size);

/*
 * Loads the task taxonomy, schedules and makes from dir (or the found data
 * folder when dir is NULL).  Returns 0, or prints an error and returns -1.
 */
struct task_map;
struct task_sched_table;
int cli_load_taxonomy(const char *dir, struct task_map **tasks,
                      struct task_sched_table **sched);

/*
 * Loads a model file (path NULL: models/default.json found beside the
 * program or installed).  Returns CLI_OK, or prints the error and returns
 * CLI_FAIL.
 */
struct model;
int cli_load_model(const char *path, struct model **m);

/*
 * The model file to use: path, else models/default.json found beside the
 * program or installed (written into found, size bytes), else NULL.
 */
const char *cli_model_path(const char *path, char *found, size_t size);

/*
 * A batch configuration from the common options: inputs, output, as-of,
 * jobs, size caps, taxonomy; the caller sets the callbacks.  Cannot fail.
 */
struct batch_config;
void cli_batch_config(const struct cli_common *c,
                      const struct task_map *tasks,
                      const struct task_sched_table *sched,
                      struct batch_config *cfg);

/* An open log stream for --log (stderr when path is NULL); NULL on error. */
FILE *cli_open_log(const char *path);


/*
 * API options shared by 'fetch' and 'score --api'.  cli_api_init() sets
 * the defaults; cli_api_opt() handles one getopt_long() result for the
 * options in CLI_API_LONGOPTS (1 used, 0 not one of them, -1 after a usage
 * error); cli_api_config() fills a client configuration, with credentials
 * and origins from the environment (never from the command line).
 */
struct sc_config;

struct cli_api {
    const char *api;             /* --api URL (else $SMARTCAR_API_ORIGIN) */
    const char *token_store;     /* --token-store FILE */
    const char *version;         /* --api-version 2.0|3 */
    long concurrency;
    double rate;
    long retries;
    double timeout;
    long since;                  /* day */
    long seed;                   /* --seed for retry jitter; 0 = clock */
    double max_retry_wait;       /* --max-retry-wait S: longest server-asked
                                    wait honoured; 900 */
    double min_speed;            /* --min-speed B: bytes/s an answer must
                                    keep up (30 s windows); 64, 0 off */
    int used;                    /* an API option was given */
    int api_mode;                /* --api was given */
};

enum cli_api_opt_id {
    CLI_OPT_API = 1100,
    CLI_OPT_CONCURRENCY,
    CLI_OPT_RATE,
    CLI_OPT_RETRIES,
    CLI_OPT_TIMEOUT,
    CLI_OPT_SINCE,
    CLI_OPT_API_VERSION,
    CLI_OPT_TOKEN_STORE,
    CLI_OPT_API_SEED,
    CLI_OPT_MAX_RETRY_WAIT,
    CLI_OPT_MIN_SPEED
};

#define CLI_API_LONGOPTS                                               \
    {"api", optional_argument, NULL, CLI_OPT_API},                     \
    {"concurrency", required_argument, NULL, CLI_OPT_CONCURRENCY},     \
    {"rate", required_argument, NULL, CLI_OPT_RATE},                   \
    {"retries", required_argument, NULL, CLI_OPT_RETRIES},             \
    {"timeout", required_argument, NULL, CLI_OPT_TIMEOUT},             \
    {"since", required_argument, NULL, CLI_OPT_SINCE},                 \
    {"api-version", required_argument, NULL, CLI_OPT_API_VERSION},     \
    {"token-store", required_argument, NULL, CLI_OPT_TOKEN_STORE},     \
    {"retry-seed", required_argument, NULL, CLI_OPT_API_SEED},         \
    {"max-retry-wait", required_argument, NULL, CLI_OPT_MAX_RETRY_WAIT}, \
    {"min-speed", required_argument, NULL, CLI_OPT_MIN_SPEED}

#define CLI_API_HELP                                                       \
    "  --api URL            API origin (default $SMARTCAR_API_ORIGIN, else\n" \
    "                       https://api.smartcar.com); token requests go to\n" \
    "                       $SMARTCAR_AUTH_ORIGIN/oauth/token\n"              \
    "  --concurrency N      requests in flight (default 16)\n"              \
    "  --rate R             at most R requests per second (default: none)\n" \
    "  --retries N          retries of a failed request (default 5)\n"      \
    "  --timeout S          seconds per request (default 310)\n"            \
    "  --since YYYY-MM-DD   start of the history window (default 1990-01-01)\n" \
    "  --api-version V      2.0 (default) or 3\n"                           \
    "  --token-store FILE   where rotated tokens are kept (default\n"       \
    "                       $XDG_STATE_HOME/svcscore/tokens.jsonl)\n"       \
    "  --retry-seed N       seed of the retry jitter (default: clock)\n"    \
    "  --max-retry-wait S   longest Retry-After obeyed; a longer one\n"    \
    "                       fails the vehicle at once (default 900)\n"    \
    "  --min-speed B        an answer slower than B bytes/s over 30 s is a\n" \
    "                       timeout (default 64; 0 turns it off)\n"        \
    "  Credentials: $SMARTCAR_CLIENT_ID and $SMARTCAR_CLIENT_SECRET.\n"

void cli_api_init(struct cli_api *a);

/*
 * As above; argc, argv and *optind let "--api URL" (a separate argument
 * holding "://") work beside "--api=URL" and a bare "--api".
 */
int cli_api_opt(struct cli_api *a, int opt, const char *arg, int argc,
                char **argv, int *optind_io);

/*
 * Fills cfg (after sc_config_init) from a; path receives the token store
 * path (size bytes).  Returns 0, or prints an error and returns -1 (for
 * instance when the default token store folder cannot be made).
 */
int cli_api_config(const struct cli_api *a, struct sc_config *cfg,
                   char *store_path, size_t size);

/* Incremental fetch into a history store (fetch --store, score --api
 * --store): the store and the options of which vehicles are due. */
struct cli_incr {
    const char *store;             /* NULL: a bundle fetch */
    int overlap;                   /* --overlap DAYS, 90 */
    int refresh_after;             /* --refresh-after DAYS, -1: not given */
    int retry_errors;              /* --retry-errors */
    const char *data_dir;          /* taxonomy folder (--data) */
};
#define CLI_INCR_HELP \
    "  --overlap DAYS       a stored vehicle is asked from its latest\n" \
    "                       record less DAYS (default 90)\n" \
    "  --refresh-after DAYS fetch only vehicles last fetched DAYS or more\n" \
    "                       ago (new ones and transient failures always)\n" \
    "  --retry-errors       fetch again vehicles whose last fetch failed\n" \
    "                       for good (permission, billing, ...)\n"

/* Defaults; cannot fail. */
void cli_incr_init(struct cli_incr *in);

/*
 * Parses one of the options above by its long name: 1 when used, 0 when
 * not one of them, -1 when its value is bad (message printed).
 */
int cli_incr_opt(struct cli_incr *in, const char *name, const char *arg);

/*
 * Runs a resumable fetch of the vehicles into the bundle out (see fetch.h),
 * or with incr->store set into that store (out unused), prints its
 * summary, and returns CLI_OK or CLI_FAIL (error printed).  incr may be
 * NULL.
 */
struct fetch_stats;
struct cli_ops;
int cli_fetch(const struct cli_api *api, const struct cli_ops *ops,
              const char *vehicles, const char *out, long max_body,
              FILE *log, struct fetch_stats *st);
int cli_fetch_incr(const struct cli_api *api, const struct cli_ops *ops,
                   const struct cli_incr *incr, const char *vehicles,
                   const char *out, long max_body, FILE *log,
                   struct fetch_stats *st);
void cli_print_fetch_summary(const struct fetch_stats *st);

/* Sets *flag when SIGINT or SIGTERM arrives (first one); cannot fail. */
#include <signal.h>
void cli_catch_stop(volatile sig_atomic_t *flag);

/*
 * Options of a nightly run, shared by 'fetch', 'score' and 'features'
 * (cli_ops.c): progress, log format, metrics, shards, the token store's
 * lock.  cli_ops_init() sets the defaults; cli_ops_opt() handles one
 * getopt_long() result for CLI_OPS_LONGOPTS (1 used, 0 not one of them,
 * -1 after a usage error).
 */
#include "logx.h"
#include "shard.h"

struct cli_ops {
    double progress_every;       /* --progress-every S; 30, 0: end only */
    enum logx_format format;     /* --log-format text|json */
    int verbose;                 /* --verbose: one line per token pair */
    const char *metrics;         /* --metrics FILE */
    struct shard_spec shard;     /* --shard K/N; n 0: none */
    double lock_timeout;         /* --lock-timeout S; 60 */
};

enum cli_ops_opt_id {
    CLI_OPT_PROGRESS_EVERY = 1200,
    CLI_OPT_LOG_FORMAT,
    CLI_OPT_VERBOSE,
    CLI_OPT_METRICS,
    CLI_OPT_SHARD,
    CLI_OPT_LOCK_TIMEOUT
};

#define CLI_OPS_LONGOPTS                                                 \
    {"progress-every", required_argument, NULL, CLI_OPT_PROGRESS_EVERY}, \
    {"log-format", required_argument, NULL, CLI_OPT_LOG_FORMAT},         \
    {"verbose", no_argument, NULL, CLI_OPT_VERBOSE},                     \
    {"metrics", required_argument, NULL, CLI_OPT_METRICS},               \
    {"shard", required_argument, NULL, CLI_OPT_SHARD},                   \
    {"lock-timeout", required_argument, NULL, CLI_OPT_LOCK_TIMEOUT}

#define CLI_OPS_HELP                                                       \
    "  --progress-every S   a progress line every S seconds when stderr is\n" \
    "                       not a terminal (default 30; 0: at the end only)\n" \
    "  --log-format F       text (default) or json: one object per line\n"   \
    "  --verbose            also log each token rotation and listing\n"  \
    "  --metrics FILE       the run's figures in Prometheus text format\n"   \
    "                       (written atomically; keep the .prom suffix)\n"  \
    "  --shard K/N          only shard K of N (K = 0..N-1); rows of one\n"   \
    "                       token pair always share a shard\n"             \
    "  --lock-timeout S     wait up to S s for a token store another\n"     \
    "                       process holds (default 60)\n"

void cli_ops_init(struct cli_ops *o);
int cli_ops_opt(struct cli_ops *o, int opt, const char *arg);

/*
 * The run's reporting, process-wide (one run per process): every line
 * svcscore writes to stderr or the --log file goes through here and
 * carries a timestamp, in the chosen format.  cli_report_begin() starts
 * the clock, learns the format and whether stderr is a terminal (then
 * progress is one updating line).  Before it, lines are text.
 */
void cli_report_begin(const struct cli_ops *o, const char *command);

/* One log line (msg without newline) to f (stderr when NULL). */
void cli_log(FILE *f, enum logx_level level, const char *event,
             const char *msg);

/* As cli_log(), with extra JSON fields (text: msg only). */
void cli_log_fields(FILE *f, enum logx_level level, const char *event,
                    const char *msg, const struct logx_field *fields,
                    size_t n);

/*
 * A progress report: printed when due (terminal: at most twice a second;
 * else every --progress-every seconds), always when final.
 */
void cli_progress(const struct logx_progress *p, int final);

/* The command given to cli_report_begin(), else ""; borrowed. */
const char *cli_command(void);

/* Seconds since cli_report_begin(). */
double cli_elapsed(void);

/*
 * Fills p with a batch run's progress: command, total rows expected (0:
 * unknown), rows done, ok (no_history counts as ok) and errors so far,
 * and the elapsed time.
 */
struct batch_stats;
void cli_batch_progress(const char *command, size_t total,
                        const struct batch_stats *st,
                        struct logx_progress *p);

/*
 * One getopt_long() result for the option groups a batch command shares:
 * the common options, then the API's (api NULL: none), then the
 * operational ones.  Returns 1 when taken, 0 when none knows it, -1 on a
 * bad value (printed).
 */
int cli_batch_opt(struct cli_common *c, struct cli_api *api,
                  struct cli_ops *ops, int opt, const char *arg, int argc,
                  char **argv, int *ind);

/*
 * An option a command's loop did not take: for -h/--help prints usage to
 * stdout and returns CLI_OK; for anything else prints it to stderr and
 * returns CLI_USAGE.
 */
int cli_usage_opt(const char *usage, int opt);

/*
 * Metrics of the run: rows by status (cli_metrics_row, per row), the API
 * client's counters (cli_metrics_api, once, at the end).  Kept only when
 * --metrics was given.
 */
struct sc_stats;
void cli_metrics_row(const char *status);
void cli_metrics_api(const struct sc_stats *s);

/*
 * Ends the run: writes the --metrics file (exit status, duration, and the
 * time of the last successful run: now when status is CLI_OK, else the
 * value the old file held) and returns status.  A metrics file that cannot
 * be written is a warning, not a failure of the run.
 */
int cli_report_end(int status);

/*
 * The number of rows a batch over these inputs will have, for progress
 * (0 when unknown): the vehicle list's rows of the shard, else the
 * bundle's lines (0 for a directory or a compressed bundle).
 */
size_t cli_count_rows(const char *vehicles, const char *histories,
                      const struct shard_spec *shard);

/*
 * The run's report and manifest (cli_report.c): cli_run_begin() notes the
 * start; cli_run_finish() sets the duration and exit code, writes
 * OUT.manifest.json beside out (not for "-") and the HTML report to
 * report (when not NULL).  Returns status, or CLI_FAIL (error printed)
 * when either cannot be written.
 */
struct runsum;
void cli_run_begin(struct runsum *s, const char *command);

/*
 * The API's request rate over this run, as the progress reports sampled
 * it (at most four times a second); NULL with fewer than two windows.
 * Borrowed, valid for the process.
 */
struct runsum_rate;
const struct runsum_rate *cli_rate(void);
int cli_run_finish(struct runsum *s, const char *out, const char *report,
                   int status);

#endif
