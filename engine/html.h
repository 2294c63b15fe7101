/*
 * html — the pieces both HTML reports are built from: the run report
 * (report.h) and the validation report (vreport.h).
 *
 * One page frame (head, inline stylesheet, closing note), sections with a
 * title and lead text, tables of escaped cells, key-figure boxes and
 * paragraphs.  Every text passed in is escaped (svg_esc()); class names,
 * ids and table classes are the caller's constants and are not.  Every
 * function appends to a caller-owned struct buf and returns ENG_OK, or a
 * negative ENG_* code with err set (as buf_add()); nothing is allocated
 * that the caller must free except a struct html_cells it allocates itself.
 */
#ifndef HTML_H
#define HTML_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"

/* The page's head (title escaped), stylesheet and <body><main>. */
int html_begin(struct buf *out, const char *title, struct eng_err *err);

/* The closing note and </main></body></html>. */
int html_end(struct buf *out, struct eng_err *err);

/* <section><h2>title</h2> and an optional <p> of lead text (escaped). */
int html_section(struct buf *out, const char *id, const char *title,
                 const char *lead, struct eng_err *err);

/* Appends </section> when rc is ENG_OK; returns that result, else rc. */
int html_close_section(struct buf *out, int rc, struct eng_err *err);

/* A key figure: <div class="kpi"> (plus " warn" when warn) value, label. */
int html_kpi(struct buf *out, const char *label, const char *value, int warn,
             struct eng_err *err);

/* <p class="cls">text</p> and a newline, text escaped. */
int html_para(struct buf *out, const char *cls, const char *text,
              struct eng_err *err);

/*
 * A table: caption, header cells (a leading '#' marks a numeric column,
 * right-aligned) and nrow rows of ncol cells; all text escaped.
 */
int html_table(struct buf *out, const char *caption,
               const char *const *head, size_t ncol,
               const char *const *cells, size_t nrow, const char *cls,
               struct eng_err *err);

/* Cells of a table being built (heap-allocate it: about 80 KiB). */
#define HTML_CELLS 512
#define HTML_CELL_LEN 160
struct html_cells {
    char text[HTML_CELLS][HTML_CELL_LEN];
    const char *cells[HTML_CELLS];
    size_t n;
};

/* Appends one formatted cell; cells past HTML_CELLS are dropped. */
void html_put(struct html_cells *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Writes the bytes of out to path atomically (out.h).  Returns ENG_OK, or
 * ENG_ENOMEM / ENG_EIO with path untouched.
 */
int html_save(const char *path, const struct buf *out, struct eng_err *err);

#endif
