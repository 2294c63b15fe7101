/*
 * cli — the command layer: one cmd_<name>() per subcommand, each in its own
 * engine/cmd_<name>.c, called by main.c with argv starting at the command
 * name.  Only main.c and the cmd_*.c files print or choose exit codes; the
 * modules below them report through struct eng_err.
 *
 * Exit codes (SPEC §5): CLI_OK done; CLI_FAIL the run failed (inputs,
 * outputs, model, configuration); CLI_USAGE a usage error; CLI_ERROR_RATE
 * done, but the share of error rows exceeded --max-error-rate.
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

/* Prints "svcscore: error: <message>" on stderr and returns status. */
int cli_fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "svcscore: warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parses a whole non-negative integer option (decimal, no sign, no trailing
 * text) within lo..hi; returns 0 and sets *out, or -1 (out unchanged).
 */
int cli_parse_long(const char *s, long lo, long hi, long *out);

/* Parses a finite double within lo..hi; returns 0 or -1 (out unchanged). */
int cli_parse_double(const char *s, double lo, double hi, double *out);

/* The number of online cores, at least 1: the default for --jobs. */
int cli_default_jobs(void);

int cmd_features(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_fetch(int argc, char **argv);



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
    "  --vehicles FILE      vehicle list CSV (SPEC 3.1), - for stdin\n"  \
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

/* An open log stream for --log (stderr when path is NULL); NULL on error. */
FILE *cli_open_log(const char *path);
#endif
