/*
 * tab — a CSV table read row by row (libcsv): the one CSV driver, used for
 * the vehicle list, the simulator's fleet and the features, labels and
 * truth files that train and evaluate read.
 *
 * The first row is the header.  tab_col() finds a column by name.  Each
 * tab_next() returns the next data row as an array of NUL-terminated fields,
 * borrowed until the next call; a row with fewer fields than the header reads
 * as if the missing ones were empty, and tab_row_fields() tells how many it
 * had.  Memory holds one row at a time.  Free with tab_close() (NULL-safe).
 *
 * Input: an optional UTF-8 byte-order mark is skipped; lines may end in
 * CRLF, LF or CR; quoted fields may hold commas, line breaks and doubled
 * quotes.  Lines that are empty or hold only blanks are not rows.  Line
 * numbers are physical lines (1-based), counting the line breaks inside
 * quoted fields.
 *
 * Two modes.  tab_open() is lenient: libcsv's non-strict parse takes a
 * stray quote as a character, and a row made of one empty field is skipped.
 * tab_open_with() and opts.recover give strict RFC 4180 parsing that
 * recovers per row: a row with a stray quote, text after a closing quote, a
 * quote never closed, a field over opts.max_field bytes, more than
 * opts.max_fields fields or a NUL byte is still returned by tab_next(),
 * with the fields read before the fault (best effort) and tab_row_error()
 * saying why; the reader then goes on with the next row.  The fault is
 * blamed on the row's first line: when the row spans more lines, the lines
 * after its first are read again as rows, so that a quote opened by mistake
 * swallows no other row.  Only a header that cannot be read, or an I/O
 * error, fails the reader.
 */
#ifndef TAB_H
#define TAB_H

#include <stddef.h>

#include "eng.h"

#define TAB_MAX_FIELDS 4096
#define TAB_MAX_ROW ((size_t)4 << 20)   /* recover mode: bytes of one row */

struct tab;

/* Options of tab_open_with(); zero values mean the defaults. */
struct tab_opts {
    int recover;          /* strict CSV, malformed rows reported per row */
    size_t max_field;     /* longest field in bytes (0: no limit) */
    size_t max_fields;    /* most fields in a row (0: TAB_MAX_FIELDS) */
};

/*
 * Opens path ("-" = stdin, which is not closed) leniently and reads its
 * header.  Returns a new reader or NULL with ENG_EIO (cannot open or read),
 * ENG_ECSV (no header, broken CSV), ENG_ELIMIT or ENG_ENOMEM.
 */
struct tab *tab_open(const char *path, struct eng_err *err);

/*
 * As tab_open() with options (opts may be NULL).  A header that breaks the
 * CSV rules in recover mode is ENG_ECSV ("path:line: ..."); a header field
 * or column count over the limits is ENG_ELIMIT.
 */
struct tab *tab_open_with(const char *path, const struct tab_opts *opts,
                          struct eng_err *err);

void tab_close(struct tab *t);

/* The index of a header column (exact name), or -1. */
int tab_col(const struct tab *t, const char *name);

/* The number of header columns. */
size_t tab_ncols(const struct tab *t);

/* The header name of column i (borrowed), or NULL past the last. */
const char *tab_name(const struct tab *t, size_t i);

/*
 * Reads the next data row: returns 1 and sets *fields (tab_ncols() entries,
 * borrowed until the next call), 0 at the end, or ENG_EIO / ENG_ENOMEM, and
 * in lenient mode ENG_ECSV / ENG_ELIMIT (the message gives the line).  In
 * recover mode a malformed row is returned (1) with tab_row_error() set.
 * After a failure every later call fails the same way.
 */
int tab_next(struct tab *t, const char *const **fields, struct eng_err *err);

/* Fields the current row really had (may differ from tab_ncols()). */
size_t tab_row_fields(const struct tab *t);

/*
 * Why the current row is malformed (recover mode), e.g. "a quote inside an
 * unquoted field, or text after a closing quote"; NULL when it is not.
 * Borrowed until the next tab_next().
 */
const char *tab_row_error(const struct tab *t);

/* The physical line (1-based) where the current row starts. */
long tab_row_line(const struct tab *t);

/* The physical line (1-based) where the current row ended. */
long tab_line(const struct tab *t);

#endif
