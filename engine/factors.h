/*
 * factors — a table of own rating factors (driver age, territory, vehicle
 * group, ...) keyed by vin or policy_id, for train, evaluate and score.
 *
 * factors_load() reads a CSV (tab) whose header has a "vin" or, failing
 * that, a "policy_id" column: the key.  Every other column (or, when want
 * is given, only the named ones) is kept as text; factors_numeric() says
 * whether a column reads as numbers.  A key given twice is refused with
 * both lines named; an empty key likewise.
 *
 * Ownership: factors_load() returns a new table; free with factors_free().
 * Strings returned are borrowed until factors_free().
 */
#ifndef FACTORS_H
#define FACTORS_H

#include <stddef.h>

#include "eng.h"

struct factors;

/*
 * Loads path, keeping the columns want[0 .. n_want-1] that the file has
 * (want NULL: all).  Returns a new table or NULL with ENG_EIO / ENG_ECSV
 * (the file), ENG_EDATA (no vin or policy_id column, an empty or repeated
 * key, with its line) or ENG_ENOMEM.
 */
struct factors *factors_load(const char *path, const char *const *want,
                             size_t n_want, struct eng_err *err);

void factors_free(struct factors *fx);

/* "vin" or "policy_id": the key column. */
const char *factors_key(const struct factors *fx);

/* The index of column name among the kept ones, or -1. */
int factors_col(const struct factors *fx, const char *name);

/* The number of rows. */
size_t factors_rows(const struct factors *fx);

/*
 * The row of key, or -1.  With a policy_id key, key is the vehicle's
 * policy_id; with a vin key, its VIN.
 */
long factors_find(const struct factors *fx, const char *key);

/* Cell (row, col): "" when empty; never NULL for valid indices. */
const char *factors_cell(const struct factors *fx, long row, int col);

/*
 * 1 if every non-empty cell of the column is a finite number (and at
 * least one is), else 0.
 */
int factors_numeric(const struct factors *fx, int col);

/* A cell as a number: NaN for "" or text. */
double factors_num(const char *s);

#endif
