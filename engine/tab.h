/*
 * tab — a CSV table read row by row (libcsv), for the features, labels and
 * truth files that train and evaluate read.
 *
 * The first row is the header.  tab_col() finds a column by name.  Each
 * tab_next() returns the next data row as an array of NUL-terminated fields,
 * borrowed until the next call; a row with fewer fields than the header reads
 * as if the missing ones were empty, and tab_row_fields() tells how many it
 * had.  Memory holds one row at a time.  Free with tab_close() (NULL-safe).
 */
#ifndef TAB_H
#define TAB_H

#include <stddef.h>

#include "eng.h"

struct tab;

/*
 * Opens path ("-" = stdin) and reads its header.  Returns a new reader or
 * NULL with ENG_EIO (cannot open or read), ENG_ECSV (no header, broken CSV)
 * or ENG_ENOMEM.
 */
struct tab *tab_open(const char *path, struct eng_err *err);

void tab_close(struct tab *t);

/* The index of a header column (exact name), or -1. */
int tab_col(const struct tab *t, const char *name);

/* The number of header columns. */
size_t tab_ncols(const struct tab *t);

/* The header name of column i (borrowed). */
const char *tab_name(const struct tab *t, size_t i);

/*
 * Reads the next data row: returns 1 and sets *fields (tab_ncols() entries,
 * borrowed until the next call), 0 at the end, or ENG_ECSV / ENG_EIO /
 * ENG_ENOMEM (the message gives the line).  Blank lines are skipped.
 */
int tab_next(struct tab *t, const char *const **fields, struct eng_err *err);

/* Fields the current row really had (may differ from tab_ncols()). */
size_t tab_row_fields(const struct tab *t);

/* The 1-based line number where the current row ended. */
long tab_line(const struct tab *t);

#endif
