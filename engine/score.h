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

#endif
