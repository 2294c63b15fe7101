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
 * The page frame, sections and tables come from html.h, shared with the
 * validation report (vreport.h).
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

#endif
