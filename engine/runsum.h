/*
 * runsum — what one run of 'score' or 'fetch' did, as plain data: the
 * input of the run report (report.h) and of the manifest (manifest.h).
 *
 * The command fills struct runsum: its identity (command, version, model,
 * as-of, inputs with fingerprints, start, duration, exit code), the rows by
 * status, and for 'score' the score histogram, rows per band and reasons.
 * Rows are counted on worker threads with one struct runsum_acc per worker
 * (no locks) and merged into the summary at the end with runsum_merge().
 * API traffic is the client's counters (struct sc_stats) copied in.
 *
 * The drift section (struct runsum_drift) is optional: the report shows it
 * only when the summary points at one.  A history store that keeps earlier
 * runs fills it from the previous run of the same vehicle list: the band
 * migration matrix (previous band by current band, "none" for a vehicle
 * without a band in that run) and the largest score moves, VIN by VIN.
 *
 * Plain data, no hidden state; strings are borrowed unless the field is an
 * array.  Thread-safe as long as each accumulator has one writer.
 */
#ifndef RUNSUM_H
#define RUNSUM_H

#include <stddef.h>

#include "api/sc.h"
#include "eng.h"

#define RUNSUM_MAX_SCORE 999
#define RUNSUM_MAX_KINDS 24       /* distinct error statuses kept */
#define RUNSUM_MAX_REASONS 32     /* distinct reason codes kept */
#define RUNSUM_MAX_INPUTS 6
#define RUNSUM_MAX_MOVES 20
#define RUNSUM_NAME_LEN 64
#define RUNSUM_BANDS 6            /* A..E and "none" */

struct runsum_count {
    char name[RUNSUM_NAME_LEN];   /* "error:PARSE", "R03" */
    char example[128];            /* a reason's full text (the smallest);
                                     "" for statuses */
    size_t n;
};

/* Counts over rows; one per worker thread. */
struct runsum_acc {
    size_t rows, ok, no_history, errors;
    size_t scores[RUNSUM_MAX_SCORE + 1];   /* rows per score (ok rows) */
    size_t bands[5];                        /* rows per band A..E */
    struct runsum_count kinds[RUNSUM_MAX_KINDS];
    size_t n_kinds;
    size_t other_errors;                    /* beyond RUNSUM_MAX_KINDS */
    struct runsum_count reasons[RUNSUM_MAX_REASONS];
    size_t n_reasons;
    size_t reasons_total;                   /* reasons given, all codes */
};

/* A file the run read, and how it was fingerprinted. */
struct runsum_input {
    const char *role;             /* "vehicles", "histories", "model" */
    const char *path;
    long long size;               /* bytes; -1 when it cannot be read */
    long long mtime;              /* seconds since 1970 */
    char fingerprint[17];         /* 16 hex digits */
    const char *method;           /* "content" or "size+mtime" */
};

struct runsum_move {
    char vin[32];
    int from_score, to_score;
    char from_band, to_band;      /* 'A'..'E', or 0 for none */
};

/* What changed since the previous run (see above). */
struct runsum_drift {
    const char *previous;          /* the previous run's identity (text) */
    size_t matrix[RUNSUM_BANDS][RUNSUM_BANDS]; /* [previous][current] */
    struct runsum_move moves[RUNSUM_MAX_MOVES]; /* largest |move| first */
    size_t n_moves;
};

struct runsum {
    const char *command;          /* "score" or "fetch" */
    const char *version;
    const char *model_id;         /* NULL: no model (fetch) */
    char as_of[11];               /* YYYY-MM-DD */
    char started[21];             /* YYYY-MM-DDThh:mm:ssZ */
    double duration_s;
    int exit_code;
    const char *out_path;
    struct runsum_input inputs[RUNSUM_MAX_INPUTS];
    size_t n_inputs;
    struct runsum_acc rows;       /* the merged counts */
    int has_scores;               /* score: histogram, bands, reasons */
    double band_expected[5];      /* the model's shares; NAN = unknown */
    int has_api;                  /* the API was used: api, fetch_s */
    struct sc_stats api;
    double fetch_s;               /* seconds spent fetching */
    size_t resumed, fetched;
    const struct runsum_drift *drift;  /* NULL: no drift section */
    const struct runsum_rate *rate;    /* NULL: no rate over time */
};

/*
 * The request rate over the run: requests per second in consecutive
 * windows of step seconds (the window at index i ends at (i + 1) * step
 * seconds after the first sample).  When the windows fill the array, pairs
 * are merged and step doubles, so a run of any length keeps at most
 * RUNSUM_MAX_RATE points.
 */
#define RUNSUM_MAX_RATE 120

struct runsum_rate {
    double step;                   /* seconds per window; 0 = no sample */
    double t0, last_t;             /* first sample's time, window start */
    unsigned long last_requests;   /* requests at the window's start */
    double rate[RUNSUM_MAX_RATE];  /* requests per second */
    size_t n;
};

/* Zeroes r (one-second windows once sampled).  Cannot fail. */
void runsum_rate_init(struct runsum_rate *r);

/*
 * Takes a sample: t seconds on a monotonic clock, the run's request count
 * so far.  Closes every window that t has passed.  Cannot fail.
 */
void runsum_rate_sample(struct runsum_rate *r, double t,
                        unsigned long requests);

/* Zeroes s and sets the unknown fields (band_expected NAN). */
void runsum_init(struct runsum *s);

/* Zeroes a. */
void runsum_acc_init(struct runsum_acc *a);

/*
 * Counts one row: its status ("ok", "no_history", "error:..."), and for
 * an ok row its score, band and reason texts (the code is the text's
 * first word).  Cannot fail: counts beyond the kept kinds go to "other".
 */
void runsum_acc_row(struct runsum_acc *a, const char *status, int score,
                    char band, const char *const *reasons, int n_reasons);

/* Adds b's counts to a. */
void runsum_merge(struct runsum_acc *a, const struct runsum_acc *b);

/* Sorts a's error kinds and reasons by count, most frequent first. */
void runsum_sort(struct runsum_acc *a);

/*
 * Fills in->size, mtime, fingerprint and method for the file or folder at
 * path: the FNV-1a hash of the content for a regular file up to
 * RUNSUM_HASH_MAX bytes, else of its size and mtime.  Cannot fail: an
 * unreadable path gets size -1 and fingerprint "-".
 */
#define RUNSUM_HASH_MAX (256LL << 20)
void runsum_input(struct runsum_input *in, const char *role,
                  const char *path);

/*
 * Counts the rows of a fetch bundle (JSONL, gzip or not) by the "status"
 * of each line into a (runsum_acc_row() with no score).  Returns ENG_OK,
 * or ENG_EIO when path cannot be read (a is then partly filled).
 */
int runsum_scan_bundle(struct runsum_acc *a, const char *path,
                       struct eng_err *err);

/* Formats the epoch seconds t as YYYY-MM-DDThh:mm:ssZ into out[21]. */
void runsum_time(long long t, char *out);

#endif
