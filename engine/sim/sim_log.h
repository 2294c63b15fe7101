/*
 * sim_log — the simulator's request log: one line per request, fields as
 * space-separated key=value pairs, written and flushed whole under a lock so
 * that a reader sees complete lines while the server runs.
 *
 * The log never holds a token or a secret: callers pass fingerprints
 * (sim_auth_fingerprint) and paths rebuilt from known parts, never raw
 * request text.
 *
 * Ownership: sim_log_open() returns a new log closed with sim_log_close();
 * a NULL log accepts writes and drops them.
 */
#ifndef SIM_LOG_H
#define SIM_LOG_H

#include "eng.h"

struct sim_log;

/*
 * Opens (truncates) path for the log.  Returns NULL with ENG_EIO when it
 * cannot be opened, or ENG_ENOMEM.
 */
struct sim_log *sim_log_open(const char *path, struct eng_err *err);

/*
 * Writes one line: "t_ms=<ms since start>" then the formatted fields, then a
 * newline, and flushes.  Lines longer than 1 KiB are cut.  Write errors are
 * counted, not reported (the server keeps serving).  log may be NULL.
 */
void sim_log_line(struct sim_log *log, double t_ms, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Flushes and closes the log; returns ENG_OK, or ENG_EIO when a write
 * failed at any point.  NULL does nothing and returns ENG_OK.
 */
int sim_log_close(struct sim_log *log, struct eng_err *err);

#endif
