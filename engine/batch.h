/*
 * batch — one pass over a fleet: histories in, one output row per vehicle.
 *
 * A batch reads vehicles from a source, parses each history (hist), computes
 * its features (feat) and hands the result to a row callback that formats
 * the output line (features CSV, scores CSV, ...).  Parsing, features and
 * formatting run on cfg->jobs worker threads through pipe, so rows come out
 * in input order whatever the number of jobs, and memory stays bounded.
 *
 * Sources (cfg->histories_path, cfg->vehicles_path):
 *   - a JSONL bundle alone: one row per non-blank line, streamed;
 *   - a vehicle list and a JSONL bundle: one row per vehicle-list row; the
 *     bundle is indexed by VIN first (about 80 bytes of memory per line);
 *   - a history store (cfg->store_path, see store.h; each worker reads it
 *     through its own read-only handle and snapshot), with or without a vehicle
 *     list: the stored records of each listed vehicle (all vehicles in the
 *     store's order without a list); a listed vehicle the store does not
 *     hold gets error:INPUT:NOT_IN_BUNDLE, as with a bundle;
 *   - a vehicle list and a directory of response bodies: <vin>.json, else
 *     <vehicle_id>.json; a vehicle with neither gets
 *     error:INPUT:NO_HISTORY_FILE.
 * A bundle may be gzip-compressed (found by its magic bytes, not its name);
 * with a vehicle list it is first decompressed to an unlinked temporary
 * file under $TMPDIR (else /tmp) so lines can be read by offset.
 * A vehicle whose history cannot be used gets a status row, never no row:
 * error:PARSE (not JSON / not a history; the byte offset goes to the log),
 * error:LIMIT (a size cap), error:INPUT:* (vehicle-list problems), or a status
 * carried by the bundle line (a failed fetch).
 */
#ifndef BATCH_H
#define BATCH_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"
#include "hist.h"

struct task_map;
struct task_sched_table;
struct feat_vec;
struct shard_spec;
struct batch_stats;

/* What a row callback sees of one vehicle; every pointer is borrowed. */
struct batch_vehicle {
    size_t index;              /* input row, 0-based */
    const char *vin;           /* "" when unknown */
    const char *vehicle_id;    /* "" when unknown */
    const char *policy_id;     /* "" when unknown */
    const char *make;          /* from the list or the VIN, or NULL */
    const char *status;        /* "ok", "no_history" or "error:..." */
    const struct hist *hist;   /* parsed records (empty on error) */
    const struct feat_vec *feat; /* NULL unless status is ok/no_history */
};

struct batch_config {
    const char *vehicles_path;     /* NULL: the bundle drives the rows */
    const char *histories_path;    /* bundle file or directory */
    const char *out_path;          /* "-" for stdout */
    long as_of;
    int jobs;
    struct hist_limits limits;
    const struct task_map *tasks;
    const struct task_sched_table *sched;
    /* Writes the header line; called once, before any row. */
    int (*header)(void *ud, struct buf *out, struct eng_err *err);
    /* Formats one row into out; runs on worker threads (worker 0..jobs-1). */
    int (*row)(void *ud, int worker, const struct batch_vehicle *v,
               struct buf *out, struct eng_err *err);
    /* Receives one log line (no newline) in input order; may be NULL. */
    void (*log)(void *ud, const char *line);
    void *ud;
    /* With a vehicle list: only the rows of this shard (shard.h); NULL all. */
    const struct shard_spec *shard;
    /*
     * Called after each row is written, in input order, with the counts so
     * far and the row's status; may be NULL.
     */
    void (*progress)(void *ud, const struct batch_stats *st,
                     const char *status);
    /* The history store to read instead of histories_path, or NULL. */
    const char *store_path;
    /* Sees each output row (no NUL) in input order; may be NULL. */
    int (*row_out)(void *ud, size_t index, const char *row, size_t len,
                   struct eng_err *err);
};

struct batch_stats {
    size_t rows;
    size_t ok;
    size_t no_history;
    size_t errors;
    size_t bad_records;            /* records dropped across the fleet */
    size_t bad_fields;             /* fields dropped across the fleet */
    size_t blank_lines;            /* bundle lines skipped as blank */
    size_t bytes;                  /* history bytes read */
};

/*
 * Runs the batch and writes cfg->out_path atomically.  Returns ENG_OK with
 * stats filled (per-vehicle problems are rows, not failures), or a fatal
 * error: inputs that cannot be read (ENG_EIO, ENG_ECSV), an output that
 * cannot be written, a callback failure; the output is then not created.
 */
int batch_run(const struct batch_config *cfg, struct batch_stats *stats,
              struct eng_err *err);

/* True for a status counted as an error row ("error:..."). */
int batch_is_error(const char *status);

#endif
