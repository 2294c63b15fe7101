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

#endif
