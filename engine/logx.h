/*
 * logx — the text of svcscore's log and progress lines: timestamps, the
 * plain-text and JSON line formats, and the progress line's figures.
 *
 * This module formats only; it never prints.  The command layer hands in a
 * struct buf, gets back one complete line (ending in a newline) and writes
 * it where the user asked.  Every line begins with (text) or holds (JSON,
 * key "ts") an RFC 3339 UTC timestamp with milliseconds, e.g.
 * "2026-12-02T04:18:47.123Z".
 *
 * Text:  <ts> svcscore: [<level>: ]<msg>        (level shown for warnings
 *                                                 and errors only)
 * JSON:  {"ts":"...","level":"info","event":"...","msg":"...",<fields>}
 *        one object per line, every string escaped per RFC 8259 (control
 *        characters as \u00XX, bytes >= 0x80 passed through as they are).
 *
 * Ownership: callers own every buffer and string; nothing is kept.
 */
#ifndef LOGX_H
#define LOGX_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"

enum logx_format { LOGX_TEXT, LOGX_JSON };

enum logx_level { LOGX_DEBUG, LOGX_INFO, LOGX_WARN, LOGX_ERROR };

/* "debug", "info", "warning" or "error"; cannot fail. */
const char *logx_level_name(enum logx_level level);

/* Length of a timestamp written by logx_timestamp(), NUL included. */
#define LOGX_TS_LEN 32

/*
 * Writes t (Unix seconds, fractions kept to the millisecond) as an RFC 3339
 * UTC timestamp "YYYY-MM-DDTHH:MM:SS.mmmZ" into out; cannot fail.
 */
void logx_timestamp(double t, char out[LOGX_TS_LEN]);

/* One extra field of a JSON line: a string, a whole number or a number. */
enum logx_type { LOGX_STR, LOGX_INT, LOGX_NUM };

struct logx_field {
    const char *key;       /* plain ASCII name, not escaped */
    enum logx_type type;
    const char *s;         /* LOGX_STR; NULL is written as null */
    long long i;           /* LOGX_INT */
    double d;              /* LOGX_NUM; not finite is written as null */
};

/* Appends s as a JSON string literal (quotes included); ENG_OK or ENG_E*. */
int logx_json_str(struct buf *b, const char *s, struct eng_err *err);

/*
 * Appends one log line for time t to b.  msg is the human text (text
 * format: the whole line after the prefix; JSON: the "msg" key, left out
 * when NULL); event names the kind of line in JSON ("log" when NULL) and
 * is not shown in text; fields (n of them) are extra JSON keys, ignored in
 * text.  Returns ENG_OK, or ENG_ELIMIT / ENG_ENOMEM with b unchanged.
 */
int logx_line(struct buf *b, enum logx_format fmt, double t,
              enum logx_level level, const char *event, const char *msg,
              const struct logx_field *fields, size_t n,
              struct eng_err *err);

/*
 * Where a run stands, for a progress line.  done counts rows finished
 * (earlier runs' rows included, so done/total is the share of the work);
 * start is how many of them were already done when this run began, so
 * the rate is this run's own.  total 0 means unknown (no share, no ETA).
 * requests, rotations: shown when has_api is set.
 */
struct logx_progress {
    const char *command;   /* "fetch", "score", ... */
    size_t done, total, start;
    size_t ok, errors;
    double elapsed;        /* seconds since the run began */
    int has_api;
    unsigned long requests;
    unsigned long rotations;
};

/* Rows per second of this run (0 before any time has passed). */
double logx_rate(const struct logx_progress *p);

/*
 * Seconds left at the current rate, or -1 when unknown (no total, no rate
 * yet).  Cannot fail.
 */
double logx_eta(const struct logx_progress *p);

/*
 * Writes a duration as "45s", "12m05s" or "3h07m" into out (n bytes);
 * a negative one as "?".  Cannot fail.
 */
void logx_duration(double s, char *out, size_t n);

/*
 * Appends a progress line (event "progress", or "finished" when final is
 * set) in fmt, e.g. in text:
 *   <ts> svcscore: fetch: 1200/1500 rows (80%), 1190 ok, 10 errors,
 *   41.2 rows/s, 96.0 requests/s, 3 token rotations, ETA 7s
 * Returns as logx_line().
 */
int logx_progress_line(struct buf *b, enum logx_format fmt, double t,
                       const struct logx_progress *p, int final,
                       struct eng_err *err);

/*
 * Appends the terminal form: the same figures without timestamp, starting
 * with a carriage return and ending with "erase to end of line" (ESC [ K)
 * and no newline, so that each one overwrites the last.  Returns as
 * logx_line().
 */
int logx_progress_tty(struct buf *b, const struct logx_progress *p,
                      struct eng_err *err);

#endif
