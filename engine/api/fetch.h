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
 * Store mode (cfg->store_path): no journal and no bundle; each vehicle's
 * outcome goes to the history store (store.h) as it completes, committed
 * every STORE_BATCH vehicles or second, so a killed run loses at most the
 * last transaction and the next run fetches those vehicles again (records
 * seen twice are stored once).  A vehicle the store holds with records is
 * asked only for the window from its latest record less cfg->overlap_days
 * (never before cfg->sc.since_day); a new one for the whole window.  A row
 * is due (fetch_due()) unless its stored status says otherwise; rows not
 * due keep their stored history and status and are counted in not_due.
 *
 * Retry rules, the same for the store and for a resumed journal: a row
 * whose last status is transient (fetch_status_transient()) is fetched
 * again on the next run; a row with any other error keeps it until
 * cfg->retry_errors.
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
struct hist_limits;
struct store_state;
struct task_map;
struct task_sched_table;

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
    /*
     * NULL, or called at the end for every row, in input order (store
     * mode: as each row completes, "not_due" for a row not due).
     */
    void (*row)(void *ud, size_t index, const char *status);
    /* Store mode: the store's path (out_path unused), else NULL. */
    const char *store_path;
    const struct hist_limits *limits;       /* store mode: parse limits */
    const struct task_map *tasks;           /* store mode: task taxonomy */
    const struct task_sched_table *sched;   /* store mode: makes; or NULL */
    int overlap_days;              /* window start = latest record - this */
    int refresh_after_days;        /* store mode: an ok vehicle is due when
                                      its last success is this old; -1:
                                      always */
    int retry_errors;              /* permanent errors are due again */
    size_t hold_bytes;             /* journal lines held back to keep it in
                                      input order; 0: 16 MiB (fetch.c) */
    void *ud;                      /* for progress() and row() */
};

struct fetch_stats {
    size_t total;                  /* rows to do (this shard's), counted
                                      first when progress() is set and the
                                      list is a file; else 0 */
    size_t rows;                   /* vehicle-list rows (this shard's) */
    size_t resumed;                /* rows of this run found in the journal */
    size_t fetched;                /* rows completed by this run */
    size_t not_due;                /* store mode: rows not due, kept */
    size_t ok, no_history, errors; /* over all rows */
    struct sc_stats sc;            /* the client's counters, this run */
    int started;                   /* the client ran: the counts mean
                                      something even if it then failed */
    size_t held;                   /* lines that waited for earlier rows' */
    int renamed;                   /* the journal became the bundle */
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

/*
 * True for a status retried on the next run whatever its age:
 * error:NETWORK, TIMEOUT, SERVER, UPSTREAM, RATE_LIMIT, VEHICLE_STATE (with
 * or without a code).  Cannot fail.
 */
int fetch_status_transient(const char *status);

/*
 * Whether a vehicle in state ss (store_vehicle_state()) is fetched by a run
 * started at now (Unix seconds): a new vehicle always; a transient error
 * always; another error only with cfg->retry_errors; an ok / no_history one
 * when cfg->refresh_after_days is -1 or its last success is at least that
 * many days old.  Cannot fail.
 */
int fetch_due(const struct fetch_config *cfg, const struct store_state *ss,
              long long now);

#endif
