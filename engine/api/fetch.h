/*
 * fetch — a vehicle list's service histories from the API into a JSONL
 * bundle (the README's Inputs section gives its lines), resumably.
 *
 * Every vehicle-list row gets one bundle line, in input order: the history
 * when the API gave one, else the row's status ("error:TYPE:CODE") with a
 * null history.  Lines are first appended, in completion order, to a journal
 * beside the output (<out>.partial), written with write(2) as each vehicle
 * completes so that a killed process loses none of them; at the end the
 * journal is copied in input order to a temporary file that is renamed over
 * the output, and removed.  A run started again with the same arguments
 * reads the journal, skips every vehicle already in it, and fetches the
 * rest.  A journal that does not match the vehicle list (another VIN at a
 * row) is refused, never silently mixed.
 *
 * Shards (cfg->shard, shard.h): only the rows of one shard are fetched and
 * written, the others are not rows of this run at all.
 *
 * Tokens: each row's pair is registered with the token store (rows with the
 * same refresh token share one pair and one refresh); rotated tokens are
 * written durably by the store before use.  Secrets never reach the log.
 */
#ifndef FETCH_H
#define FETCH_H

#include <signal.h>
#include <stddef.h>

#include "eng.h"
#include "sc.h"

struct shard_spec;
struct fetch_stats;

struct fetch_config {
    const char *vehicles_path;
    const char *out_path;          /* the bundle; not "-" */
    const char *token_store;       /* path of the token store, or NULL */
    struct sc_config sc;           /* client settings; tokens/stop set here */
    volatile sig_atomic_t *stop;   /* raised by a signal: stop, resumable */
    void (*log)(void *ud, const char *line);
    void *log_ud;
    const struct shard_spec *shard; /* only this shard's rows; NULL all */
    double lock_timeout;           /* seconds to wait for the token store's
                                      lock (tok_store_open_wait); 0 none */
    /*
     * NULL, or called with the counts so far (st->sc filled) about four
     * times a second while requests run, so the caller can report
     * progress; st->total is set before the first call.
     */
    void (*progress)(void *ud, const struct fetch_stats *st);
    /* NULL, or called at the end for every row, in input order. */
    void (*row)(void *ud, size_t index, const char *status);
    void *ud;                      /* for progress() and row() */
};

struct fetch_stats {
    size_t total;                  /* rows to do (this shard's), counted
                                      first when progress() is set and the
                                      list is a file; else 0 */
    size_t rows;                   /* vehicle-list rows (this shard's) */
    size_t resumed;                /* rows of this run found in the journal */
    size_t fetched;                /* rows completed by this run */
    size_t ok, no_history, errors; /* over all rows */
    struct sc_stats sc;            /* the client's counters, this run */
    int started;                   /* the client ran: the counts mean
                                      something even if it then failed */
};

/*
 * Runs the fetch.  Returns ENG_OK with the bundle written, or a fatal
 * error: the vehicle list or journal unreadable or mismatched (ENG_EIO,
 * ENG_ECSV, ENG_EDATA), the token store unusable, an output that cannot be
 * written; before any request (st->started 0, nothing sent, no journal
 * made): a bad client configuration such as an origin that is not an
 * http(s) URL (ENG_EUSAGE), an output folder that takes no file (ENG_EIO),
 * rows that need a refresh (v3: any row) while no client credentials are
 * set (ENG_EUSAGE); or ENG_EUSAGE when stopped by cfg->stop (the journal
 * is kept for the next run; the output is not created).
 */
int fetch_run(const struct fetch_config *cfg, struct fetch_stats *st,
              struct eng_err *err);

#endif
