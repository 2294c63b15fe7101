/*
 * store — the history store: one SQLite file holding vehicles, their
 * service records, each fetch, each run and its scores.
 *
 * The file is SQLite in WAL mode with a busy timeout, so one writer and
 * any number of readers (other processes, the sqlite3 shell) can share it.
 * The schema is versioned with PRAGMA user_version; store_open() brings an
 * older file up to STORE_SCHEMA_VERSION by running the migrations in
 * order, each in its own transaction (README "History store" documents
 * every table and column).
 *
 * Writes: every write function needs an open transaction (store_begin());
 * the caller commits in batches (STORE_BATCH vehicles is the house
 * default), so a process killed at any point leaves the store as of the
 * last commit, never half a vehicle.  Record identity makes a re-run
 * harmless: a record already stored for the vehicle (same service id, or
 * without one the same day, odometer and sorted task ids/descriptions) is
 * not stored twice, and a fetch already recorded (same vehicle, time,
 * window, status and request id) is not recorded twice.
 *
 * Threads: one struct store is one SQLite connection, used by one thread
 * at a time.  A reader thread and a writer thread each open their own.
 *
 * Ownership: store_open() returns a handle freed with store_close().
 * Strings and records a read call hands back (struct store_hist) are
 * borrowed from the handle and valid until the next read call on it.
 * Strings passed in are copied by SQLite.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>

#include "eng.h"
#include "hist.h"

struct task_map;
struct task_sched_table;

#define STORE_SCHEMA_VERSION 2
#define STORE_BATCH 500
#define STORE_BANDS 5              /* bands A..E in the drift matrix */

struct store;

enum store_flags {
    STORE_READONLY = 1             /* open an existing file, never write */
};

/*
 * Opens (or creates, unless STORE_READONLY) the store at path, sets WAL and
 * a 10 s busy timeout, and migrates an older schema.  Returns a new handle
 * (free with store_close()), or NULL with ENG_EIO (cannot open, not a
 * store, a schema newer than this program, a read-only file that needs
 * migrating) or ENG_ENOMEM.
 */
struct store *store_open(const char *path, int flags, struct eng_err *err);

/* Closes the handle, rolling back an open transaction; NULL-safe. */
void store_close(struct store *s);

/* The file's schema version (after migration); cannot fail. */
int store_version(const struct store *s);

/* True when the handle was opened read-only; cannot fail. */
int store_readonly(const struct store *s);

/*
 * A read snapshot for many reads (store_get() per vehicle of a run): one
 * read transaction instead of one per statement, and one consistent view
 * of the store while writers go on.  ENG_OK or ENG_EIO; the end cannot
 * fail.
 */
int store_read_begin(struct store *s, struct eng_err *err);
void store_read_end(struct store *s);

/* Transactions: ENG_OK or ENG_EIO.  Rollback cannot fail. */
int store_begin(struct store *s, struct eng_err *err);
int store_commit(struct store *s, struct eng_err *err);
void store_rollback(struct store *s);

/* ------------------------------------------------------------------ */
/* Vehicles, fetches and records. */

/* A vehicle's identity and attributes; NULL or 0 = not known. */
struct store_vehicle {
    const char *vin;               /* the key; required */
    const char *vehicle_id;
    const char *make;
    int model_year;
    const char *powertrain;
    const char *powertrain_source;
    const char *unit_system;       /* "metric" / "imperial" */
};

/*
 * Inserts the vehicle or updates it: known fields replace stored ones,
 * NULL fields keep them.  Sets *id to its row id.  ENG_OK or ENG_EIO.
 */
int store_upsert_vehicle(struct store *s, const struct store_vehicle *v,
                         long long *id, struct eng_err *err);

/* One fetch of a vehicle's history, as recorded. */
struct store_fetch {
    long long vehicle;             /* from store_upsert_vehicle() */
    const char *fetched_at;        /* RFC 3339 UTC, or NULL */
    const char *window_from;       /* YYYY-MM-DD, or NULL: whole history */
    const char *window_to;
    const char *status;            /* "ok", "no_history", "error:..." */
    const char *request_id;        /* or NULL */
    long long bytes;               /* body or bundle-line bytes */
};

/*
 * Records a fetch's outcome and updates the vehicle's last fetch (and last
 * successful fetch for ok/no_history).  *id gets the fetch's row id; a
 * fetch already recorded is not added again (*id is the existing one and
 * the return is 0 instead of 1).  Returns 1, 0, or ENG_EIO.
 */
int store_record_fetch(struct store *s, const struct store_fetch *f,
                       long long *id, struct eng_err *err);

struct store_merge_stats {
    size_t records;                /* records in the body */
    size_t added;                  /* of which new to the store */
};

/*
 * Merges one history body (a response body or a bundle line's "history"
 * value: any shape hist_parse() accepts) into the vehicle's records:
 * records not yet stored are appended in the order given, with their
 * normalised fields (km, day, categories by tasks, cost) and raw JSON.
 * fetch_id (may be 0) is the fetch that brought it.  Returns ENG_OK, the
 * hist_parse() failure for a body that is no usable history (nothing is
 * stored; the caller records the fetch as error:PARSE / error:LIMIT), or
 * ENG_EIO.  st may be NULL.
 */
int store_merge_history(struct store *s, long long vehicle,
                        long long fetch_id, const char *body, size_t len,
                        int imperial, const struct hist_limits *lim,
                        const struct task_map *tasks,
                        struct store_merge_stats *st, struct eng_err *err);

/* What the incremental fetch needs to know of one vehicle. */
struct store_state {
    long long id;                  /* 0: not in the store */
    long last_day;                 /* latest record's day, or HIST_NO_DAY */
    char last_fetch_at[32];        /* "" when never fetched */
    char last_status[48];
    char last_ok_at[32];           /* last ok/no_history fetch, or "" */
};

/* Fills *st for vin (id 0 when absent).  ENG_OK or ENG_EIO. */
int store_vehicle_state(struct store *s, const char *vin,
                        struct store_state *st, struct eng_err *err);

/*
 * One vehicle's stored history.  Every pointer is borrowed until the next
 * store_get() on the handle; strings are "" when not known.
 */
struct store_hist {
    long long id;
    const char *vin;
    const char *vehicle_id;
    const char *make;
    const char *unit_system;
    const char *powertrain;
    const char *powertrain_source;
    const char *fetched_at;        /* last fetch */
    int model_year;
    /*
     * "ok" once any fetch succeeded (the records decide), else the last
     * fetch's status (e.g. error:PARSE); "ok" also for a vehicle never
     * fetched.
     */
    const char *status;
    const struct hist_rec *rec;    /* in the order first seen */
    size_t n;
    /* with want_raw only: each record's JSON and shape (0 v2, 1 v3) */
    const char *const *raw;
    const int *shape;
    const int *imperial;           /* raw odometer in miles */
};

/*
 * Reads the vehicle vin's history into *h.  Returns 1, 0 when the store
 * has no such vehicle (*h unchanged), or ENG_EIO / ENG_ENOMEM.
 */
int store_get(struct store *s, const char *vin, int want_raw,
              struct store_hist *h, struct eng_err *err);

/*
 * Iterates the store's vehicles in row-id order: start with *after = 0;
 * each call writes the next VIN to vin (VIN buffer of 64 bytes), moves
 * *after, and returns 1, or 0 at the end, or ENG_EIO.
 */
int store_next_vin(struct store *s, long long *after, char *vin,
                   struct eng_err *err);

/* ------------------------------------------------------------------ */
/* Import and export of JSONL bundles, merge of stores. */

struct store_import_stats {
    size_t lines;
    size_t blank;
    size_t skipped;                /* no readable VIN: not stored */
    size_t vehicles;               /* lines stored */
    size_t failed;                 /* of which with a failed status */
    size_t records;
    size_t added;
    size_t dup_fetches;            /* lines already imported */
};

/*
 * Imports a JSONL bundle (one line per vehicle fetch, as written by
 * 'fetch') into the store, committing every STORE_BATCH lines.  Each line
 * is parsed as the scorer parses it; a line that does not parse or carries
 * a failed status becomes a fetch with that status and no records.  sched
 * gives the make of a VIN when the line has none (may be NULL).  Running
 * it again (e.g. after a kill) adds nothing twice.  Returns ENG_OK, or
 * ENG_EIO / ENG_ENOMEM (the last batch is rolled back).
 */
int store_import(struct store *s, const char *bundle,
                 const struct hist_limits *lim, const struct task_map *tasks,
                 const struct task_sched_table *sched,
                 struct store_import_stats *st, struct eng_err *err);

/*
 * Stores one bundle line (no newline) as store_import() stores a line of a
 * bundle file: the vehicle, the fetch (its "window_from" / "window_to"
 * fields give the window asked) and the records not yet stored; st's counts
 * grow.  Needs an open transaction.  ENG_OK, ENG_EIO or ENG_ENOMEM.
 */
int store_import_line(struct store *s, const char *line, size_t len,
                      const struct hist_limits *lim,
                      const struct task_map *tasks,
                      const struct task_sched_table *sched,
                      struct store_import_stats *st, struct eng_err *err);

struct store_export_stats {
    size_t vehicles;
    size_t missing;                /* listed but not in the store */
    size_t mixed;                  /* records of both unit systems/shapes */
};

/*
 * Writes the store's vehicles (all, or those of the vehicle list
 * vehicles_path, in its order) as a JSONL bundle at out ("-" stdout,
 * else written atomically): the raw records in the order first seen, so
 * the bundle scores as the store does.  A listed vehicle that is not in
 * the store is left out (counted).  A vehicle whose records came in
 * different unit systems or shapes is written in its last fetch's and
 * counted in mixed.  Returns ENG_OK, or ENG_EIO / ENG_ECSV / ENG_ENOMEM.
 */
int store_export(struct store *s, const char *out, const char *vehicles_path,
                 struct store_export_stats *st, struct eng_err *err);

struct store_merge_in_stats {
    size_t vehicles;               /* vehicles of the source */
    size_t records_added;
    size_t fetches_added;
    size_t runs_added;
};

/*
 * Merges the store at src_path (not modified) into s in one transaction:
 * vehicles by VIN, records deduped and appended after s's, fetches and
 * runs not yet present (runs by their uid) with their scores.  Returns
 * ENG_OK, or ENG_EIO (src is no store, or of another schema version).
 */
int store_merge_from(struct store *s, const char *src_path,
                     struct store_merge_in_stats *st, struct eng_err *err);

/* ------------------------------------------------------------------ */
/* Runs, scores and drift. */

struct store_run {
    const char *started_at;        /* RFC 3339 UTC */
    const char *command;           /* e.g. "score" with its options */
    const char *model_id;
    const char *as_of;             /* YYYY-MM-DD */
};

/*
 * Starts a run record (no end yet) and sets *id.  temp: the run and its
 * scores go to temporary tables that vanish with the handle (a read-only
 * store, or a run not to be recorded), so drift still works.  ENG_OK or
 * ENG_EIO.
 */
int store_run_begin(struct store *s, const struct store_run *r, int temp,
                    long long *id, struct eng_err *err);

/* One scores-CSV row as recorded. */
struct store_score {
    size_t row;                    /* 0-based input row */
    const char *vin;
    const char *policy_id;
    const char *status;
    int has_score;                 /* score, band, relativity set */
    int score;
    char band;                     /* 'A'..'E' */
    double relativity;
    const char *reasons[4];        /* NULL or "" for none */
    const char *model_id;
};

/* Adds one score to run id (inside a transaction).  ENG_OK or ENG_EIO. */
int store_run_score(struct store *s, long long id,
                    const struct store_score *sc, struct eng_err *err);

/* What changed since the previous run. */
#define STORE_MAX_MOVES 20         /* the largest score moves kept */

struct store_move {
    char vin[24];
    int from_score, to_score;
    char from_band, to_band;       /* 'A'..'E' */
};

struct store_drift {
    long long prev;                /* previous run's id, 0 if none */
    char prev_started[32];
    size_t both;                   /* scored (banded) in both runs */
    size_t moved;                  /* of which changed band */
    size_t by[STORE_BANDS];        /* moved by k bands, k = 1..4 */
    size_t matrix[STORE_BANDS][STORE_BANDS]; /* [previous][now] */
    size_t added;                  /* scored now, not in the previous run */
    size_t gone;                   /* scored then, not now */
    double mean_change;            /* mean score change over 'both' */
    struct store_move moves[STORE_MAX_MOVES]; /* largest |change| first,
                                                 then by VIN */
    size_t n_moves;
};

/*
 * Compares run id with the latest earlier run of the store that finished
 * and did not fail (exit code other than 1; d->prev 0 when there is
 * none).  Bands and scores are compared by VIN.  ENG_OK or ENG_EIO.
 */
int store_drift(struct store *s, long long id, struct store_drift *d,
                struct eng_err *err);

struct store_run_end {
    const char *ended_at;
    int exit_code;
    const struct store_drift *drift;   /* may be NULL */
};

/*
 * Finishes run id: end time, exit code, counts by status (from its scores)
 * and the drift as JSON.  ENG_OK or ENG_EIO.
 */
int store_run_end(struct store *s, long long id,
                  const struct store_run_end *e, struct eng_err *err);

/* One line per run, for 'store runs'. */
struct store_run_info {
    long long id;
    char started_at[32];
    char ended_at[32];
    char model_id[80];
    char as_of[16];
    size_t rows, ok, no_history, errors;
    int exit_code;                 /* -1 while unfinished */
};

/*
 * Iterates finished and unfinished runs by id: start with *after = 0.
 * Returns 1 with *r filled, 0 at the end, or ENG_EIO.
 */
int store_next_run(struct store *s, long long *after,
                   struct store_run_info *r, struct eng_err *err);

#endif
