/*
 * rating — a model as a rating table (README.md, The model: rating
 * table): one row per level of each categorical input, per bin of each
 * numeric input (its training deciles), per cell of each interaction, with
 * the relativity to the input's base and the training exposure, and two
 * rows of their own: the intercept and the base risk.
 *
 * The product rule: a vehicle's model relativity (the scores CSV's) equals
 * the base risk's relativity times the relativity of its row of every
 * input: exactly for categorical inputs and the missing and not-applicable
 * rows; to the bin's resolution for numeric values (the table shows each
 * bin at its middle percentile: the 5th, 15th, ... 95th).  Log link only
 * (poisson, gamma): a relativity is exp of a sum.
 *
 * Ownership: rating_build() returns a new array; free() it.
 */
#ifndef RATING_H
#define RATING_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"

struct model;

enum rating_kind {
    RATING_INTERCEPT,      /* exp(intercept): every input at zero / base */
    RATING_BASE,           /* the base risk over the portfolio mean */
    RATING_LEVEL,          /* a categorical level (the base: 1) */
    RATING_BIN,            /* a numeric bin */
    RATING_MISSING,        /* a numeric input's missing value */
    RATING_NOT_APPLICABLE, /* a feature that does not apply */
    RATING_CELL            /* an interaction's cell */
};

struct rating_row {
    size_t input;                  /* model input index */
    int kind;                      /* enum rating_kind */
    int level, level2;             /* level index (-1 base) or bin index;
                                      level2: the second operand's */
    char label[64], label2[64];    /* level names or "bin 3" */
    double lower, upper;           /* a bin's raw edges (-inf / +inf) */
    double lower2, upper2;         /* the second operand's, cells */
    double value, value2;          /* the raw values the row shows */
    double relativity;
    double exposure;               /* training exposure, NaN if unknown */
};

/*
 * Builds the table.  Returns ENG_OK with *rows (n rows), or ENG_EUSAGE
 * (not a log-link model, or a numeric input without stored bins: a model
 * file made before they were) or ENG_ENOMEM.
 */
int rating_build(const struct model *m, struct rating_row **rows, size_t *n,
                 struct eng_err *err);

/* The table as CSV, header first; as buf_add(). */
int rating_csv(const struct model *m, const struct rating_row *rows,
               size_t n, struct buf *out, struct eng_err *err);

#endif
