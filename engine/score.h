/*
 * score — the scores CSV (README.md, Outputs): its header and one row per
 * vehicle.
 *
 * score_row() turns what the batch knows of a vehicle (status, features)
 * and a model into one CSV line.  Vehicles whose status is not ok get their
 * status and the identifying columns, nothing else: a row is never
 * dropped.  With csv_guard set, text fields are neutralised against
 * spreadsheet formulas (see buf_csv()).  Pure and thread-safe: the model is
 * only read.
 */
#ifndef SCORE_H
#define SCORE_H

#include "batch.h"
#include "buf.h"
#include "eng.h"

struct model;

/* Appends the header line; as buf_add(). */
int score_header(struct buf *out, struct eng_err *err);

/*
 * Appends the row of vehicle v under model m, text fields neutralised
 * against formulas when csv_guard is set; as buf_add().
 */
int score_row(const struct model *m, const struct batch_vehicle *v,
              int csv_guard, struct buf *out, struct eng_err *err);

/*
 * What score_row_with() adds to score_row(): own rating factors for
 * models that use them, and a severity model.
 *   factors   own factors keyed by vin or policy_id, or NULL
 *   severity  a severity model (family gamma), or NULL: when given, two
 *             columns end each row: expected_severity (the severity
 *             model's expected average claim amount) and
 *             pure_premium_relativity (frequency relativity times the
 *             expected severity over the training claims' mean severity)
 *   unseen    when not NULL, unseen[worker] counts the vehicles with a
 *             level the training never saw (scored at the base)
 */
struct factors;

struct score_opts {
    const struct factors *factors;
    const struct model *severity;
    size_t *unseen;
};

/* The header; with a severity model its two columns at the end. */
int score_header_with(const struct score_opts *o, struct buf *out,
                      struct eng_err *err);

/* As score_row() with the options (o may be NULL), on worker's counter. */
int score_row_with(const struct model *m, const struct score_opts *o,
                   int worker, const struct batch_vehicle *v, int csv_guard,
                   struct buf *out, struct eng_err *err);

#endif
