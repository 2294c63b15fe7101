/*
 * label — claims labels (and the synthetic truth) keyed by VIN, for train
 * and evaluate: one loader, one set of rules.
 *
 * A claims file is CSV (read with tab) with the columns vin, claim_count,
 * exposure_years and optional claim_amount and weight; a truth file has vin
 * and true_frequency.  Other columns are ignored.  Every row must hold:
 *   - a VIN: 17 characters of [A-HJ-NPR-Z0-9] whose check digit holds where
 *     it binds (veh_vin_check; compared exactly, so give VINs as the
 *     vehicle list's output spells them, upper case);
 *   - claim_count a number >= 0 and exposure_years a number > 0 (a zero
 *     exposure would divide by zero in every rate);
 *   - claim_amount a number or empty, weight a number >= 0 or empty (1);
 *   - true_frequency (truth files) a number.
 * A VIN given twice is refused: the second row names the line of the first
 * (summing or picking one would hide an error in whatever wrote the file).
 * The first row breaking a rule fails the load with ENG_EDATA and
 * "path:line: ..." (the line where the row starts).
 *
 * Ownership: label_load() returns a new set; free it with label_free().
 * label_find() returns borrowed pointers valid until label_free().
 */
#ifndef LABEL_H
#define LABEL_H

#include <stddef.h>

#include "eng.h"

enum label_kind {
    LABEL_CLAIMS,        /* vin, claim_count, exposure_years, ... */
    LABEL_TRUTH          /* vin, true_frequency */
};

struct label {
    double claims;       /* claim_count (0 in a truth file) */
    double exposure;     /* exposure_years (0 in a truth file) */
    double amount;       /* claim_amount, NaN when absent or empty */
    double weight;       /* weight, 1 when absent or empty */
    double truth;        /* true_frequency, NaN in a claims file */
    long line;           /* where the row starts in the file */
};

struct label_set;

/*
 * Loads path ("-" = stdin).  Returns a new set, or NULL with ENG_EIO (cannot
 * open or read), ENG_ECSV (no header, broken CSV), ENG_EDATA (a column
 * missing, a row breaking a rule above) or ENG_ENOMEM.
 */
struct label_set *label_load(const char *path, enum label_kind kind,
                             struct eng_err *err);

/* The label of vin, or NULL when it has none; cannot fail. */
const struct label *label_find(const struct label_set *s, const char *vin);

/* The number of VINs in the set; cannot fail. */
size_t label_count(const struct label_set *s);

/* Frees the set; NULL-safe. */
void label_free(struct label_set *s);

#endif
