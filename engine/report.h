/*
 * report — the run report: one self-contained HTML page of a 'score' or
 * 'fetch' run (README.md, Reports), drawn from a struct runsum.
 *
 * The page needs nothing but itself: inline CSS, inline SVG charts (svg.h),
 * no script, no font, no image, no link to anything outside.  Every text
 * that came from the inputs (file names, statuses, reasons, VINs) is
 * escaped.  Sections: identity, rows by status, score distribution, bands
 * beside the model's expected shares, most frequent reasons, API traffic
 * (when s->has_api), what changed since the previous run (when s->drift),
 * each chart followed by a table of its figures.
 *
 * The page frame (report_begin/report_end, report_section) is shared with
 * the validation report (vreport.h).
 */
#ifndef REPORT_H
#define REPORT_H

#include "buf.h"
#include "eng.h"
#include "runsum.h"

/* Appends the run report of s to out; as buf_add(). */
/* A cap on a page: far above what any run needs (about 100 KiB). */
#define REPORT_MAX_BYTES (64u << 20)

int report_html(const struct runsum *s, struct buf *out,
                struct eng_err *err);

/*
 * Writes report_html(s) to path atomically (out.h).  Returns ENG_OK, or
 * ENG_ENOMEM / ENG_EIO with path untouched.
 */
int report_write(const char *path, const struct runsum *s,
                 struct eng_err *err);

/* The page's head (title escaped), stylesheet and <body><main>. */
int report_begin(struct buf *out, const char *title, struct eng_err *err);

/* The closing note and </main></body></html>. */
int report_end(struct buf *out, struct eng_err *err);

/* <section><h2>title</h2> and an optional <p> of lead text (escaped). */
int report_section(struct buf *out, const char *id, const char *title,
                   const char *lead, struct eng_err *err);

/*
 * A table: caption, header cells (a leading '#' marks a numeric column,
 * right-aligned) and nrow rows of ncol cells; all text escaped.
 */
int report_table(struct buf *out, const char *caption,
                 const char *const *head, size_t ncol,
                 const char *const *cells, size_t nrow, const char *cls,
                 struct eng_err *err);

/* Cells of a table being built (heap-allocate it: about 80 KiB). */
#define REPORT_CELLS 512
#define REPORT_CELL_LEN 160
struct report_cells {
    char text[REPORT_CELLS][REPORT_CELL_LEN];
    const char *cells[REPORT_CELLS];
    size_t n;
};

/* Appends one formatted cell; cells past REPORT_CELLS are dropped. */
void report_put(struct report_cells *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the bytes of out to path atomically; as report_write(). */
int report_save(const char *path, const struct buf *out,
                struct eng_err *err);

#endif
