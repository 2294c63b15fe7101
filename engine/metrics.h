/*
 * metrics — a run's figures in the Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector, and a small
 * tally of labelled counts.
 *
 * The caller builds the file in a struct buf: metrics_family() for each
 * metric's "# HELP" and "# TYPE" lines, then metrics_sample() for each of
 * its samples, every sample of one family right after its header (the
 * format requires it).  metrics_write() puts the text in place atomically
 * (out.c: temporary file beside it, fsync, rename), so the collector never
 * reads half a file; the temporary file's name does not end in ".prom",
 * so the collector skips it.
 *
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]*; label values and help text are escaped here.
 *
 * Ownership: callers own every buffer and string; nothing is kept.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"

/*
 * Appends "# HELP name help" and "# TYPE name type" (type "counter",
 * "gauge", "untyped", ...).  Returns ENG_OK; ENG_EUSAGE for an invalid
 * name; ENG_ELIMIT / ENG_ENOMEM; b is unchanged on failure.
 */
int metrics_family(struct buf *b, const char *name, const char *type,
                   const char *help, struct eng_err *err);

/*
 * Appends one sample "name{label="value"} v" (no braces when label is
 * NULL).  Whole values up to 2^53 print without a fraction; NaN and the
 * infinities as the format spells them.  Returns as metrics_family()
 * (ENG_EUSAGE also for an invalid label name).
 */
int metrics_sample(struct buf *b, const char *name, const char *label,
                   const char *value, double v, struct eng_err *err);

/*
 * Writes the text of b to path atomically.  Returns ENG_OK, or ENG_EIO
 * with the old file (if any) untouched.
 */
int metrics_write(const char *path, const struct buf *b,
                  struct eng_err *err);

/*
 * Reads the value of the first sample of name without labels from an
 * existing metrics file.  Returns 1 and sets *out, 0 when the file or the
 * sample is missing or unreadable (*out unchanged).  Cannot fail.
 */
int metrics_read_value(const char *path, const char *name, double *out);

/*
 * Counts by a short key (an error type, an HTTP status): e[0..n-1].  Once
 * METRICS_TALLY_MAX - 1 keys are in use, new keys (and keys longer than
 * METRICS_KEY_LEN - 1 bytes) are counted under "other".  Zero it to start
 * ({0} or memset).
 */
#define METRICS_TALLY_MAX 48
#define METRICS_KEY_LEN 32

struct metrics_tally {
    size_t n;
    struct {
        char key[METRICS_KEY_LEN];
        unsigned long count;
    } e[METRICS_TALLY_MAX];
};

/* Adds count under key; cannot fail. */
void metrics_tally_add(struct metrics_tally *t, const char *key,
                       unsigned long count);

/*
 * The error type of a row status: "error:NETWORK:..." gives "NETWORK",
 * "error:PARSE" gives "PARSE", into out (n bytes); "" for a status that is
 * not an error.  Cannot fail.
 */
void metrics_error_type(const char *status, char *out, size_t n);

#endif
