/*
 * hist — Smartcar service-history responses into our own records.
 *
 * A response body (SPEC §3.2) is parsed with cJSON and copied, field by field,
 * into struct hist_rec values; no cJSON object leaves hist.c.  The parser is
 * lenient on types and strict on meaning:
 *   - a field of the wrong type, or with an impossible value (a date that
 *     does not exist or lies outside the configured years, a negative or
 *     absurd odometer, a negative cost), is dropped: that field is missing
 *     and hist.bad_fields counts it;
 *   - an element of the records array that is not an object is dropped and
 *     counted in hist.bad_records;
 *   - a body that is not JSON, or JSON that is not a history, fails the
 *     whole vehicle (ENG_EJSON / ENG_EDATA, the message gives the byte
 *     offset), and a body or record count past the caps fails with
 *     ENG_ELIMIT.  The caller turns those into error:PARSE / error:LIMIT.
 *
 * Accepted shapes: the v2.0 top-level array (authoritative), an object
 * wrapping it as "serviceHistory", a single record object (the API
 * reference's example), and the v3 signal shape with "values".  Odometers are
 * stored in kilometres: a history marked imperial is converted from miles.
 *
 * struct hist is a small value type owned by the caller: hist_init() it,
 * reuse it for many bodies (hist_parse() clears it first), hist_release() it.
 * Callers read rec[0..n) and the counters; they do not change them.
 */
#ifndef HIST_H
#define HIST_H

#include <limits.h>
#include <stddef.h>

#include "eng.h"

struct task_map;

#define HIST_NO_DAY LONG_MIN
#define HIST_KM_PER_MILE 1.609344
#define HIST_ID_LEN 40

enum hist_source {
    HIST_SRC_UNKNOWN = 0,
    HIST_SRC_DEALER,
    HIST_SRC_OWNER
};

struct hist_rec {
    long day;                  /* UTC day of service, or HIST_NO_DAY */
    double km;                 /* odometer in km, or NAN */
    double cost;               /* total cost, or NAN */
    char currency[4];          /* ISO 4217 code, or "" */
    unsigned cats;             /* TASK_BIT() mask of task categories */
    unsigned n_tasks;          /* tasks listed, described or not */
    int source;                /* enum hist_source */
    char service_id[HIST_ID_LEN]; /* as given (truncated), or "" */
};

struct hist {
    struct hist_rec *rec;      /* in the order given; feat sorts a copy */
    size_t n;
    size_t cap;
    size_t bad_records;        /* array elements that were not records */
    size_t bad_fields;         /* fields dropped for type or meaning */
    char first_bad[128];       /* what the first dropped field was, or "" */
};

struct hist_limits {
    size_t max_body;           /* bytes of one body */
    size_t max_records;        /* records of one history */
    int min_year;              /* dates outside min_year..max_year dropped */
    int max_year;
};

/* The defaults: 8 MiB, 10,000 records, years 1980..2100.  Cannot fail. */
void hist_limits_default(struct hist_limits *lim);

void hist_init(struct hist *h);

/* Empties h and keeps its memory; cannot fail. */
void hist_clear(struct hist *h);

/* Frees the records; h is empty afterwards and may be reused. */
void hist_release(struct hist *h);

/*
 * Parses one response body of len bytes (need not be NUL-terminated; a
 * UTF-8 byte-order mark is skipped).  imperial: odometers are in miles.
 * tasks classifies task descriptions (may be NULL: no categories).
 * Returns ENG_OK with h filled, or ENG_EJSON (not JSON; message names the
 * byte offset), ENG_EDATA (JSON, but not a history), ENG_ELIMIT (a cap) or
 * ENG_ENOMEM; on failure h is left empty.
 */
int hist_parse(struct hist *h, const char *body, size_t len, int imperial,
               const struct hist_limits *lim, const struct task_map *tasks,
               struct eng_err *err);

/*
 * One line of a JSONL bundle: {"vin", "vehicle_id",
 * "unit_system", "fetched_at", "status"?, "powertrain"?,
 * "powertrain_source"?, "model_year"?, "history"}.  The strings are copies
 * owned by the entry; hist_entry_release() frees them and the records.
 */
struct hist_entry {
    char *vin;                 /* NULL when absent */
    char *vehicle_id;          /* NULL when absent */
    char *status;              /* a fetch status carried by the line, or NULL */
    int imperial;              /* unit_system was "imperial" */
    /* optional: the vehicle's powertrain as the fetch learnt it (enum
     * ptrain and enum ptrain_src, 0 when absent) and its model year (0) */
    int powertrain;
    int powertrain_src;
    int model_year;
    struct hist hist;
};

void hist_entry_init(struct hist_entry *e);

/* Empties e (frees its strings, keeps record memory); cannot fail. */
void hist_entry_clear(struct hist_entry *e);
void hist_entry_release(struct hist_entry *e);

/*
 * Parses a bundle line into e (cleared first).  The history is parsed as by
 * hist_parse(); a line whose "status" is not "ok"/"no_history" keeps that
 * status and an empty history.  On failure the return is as hist_parse()'s,
 * and e->vin is still set when the line's VIN could be read, so the caller
 * can name the vehicle in its status row.
 */
int hist_parse_line(struct hist_entry *e, const char *line, size_t len,
                    const struct hist_limits *lim,
                    const struct task_map *tasks, struct eng_err *err);

/*
 * Finds the value of "vin" in the first len bytes of a bundle line without
 * parsing it (to index a bundle, or to name the vehicle of a line that does
 * not parse).  Only a plain run of letters and digits is taken.  Returns 1
 * and writes it to out (size bytes, NUL-terminated), or 0.  Cannot fail.
 */
int hist_peek_vin(const char *line, size_t len, char *out, size_t size);

#endif
