/*
 * svg — charts as inline SVG text, for the HTML reports (report, vreport).
 *
 * svg_chart() appends one <figure> holding an <svg> element: a plot area
 * with both axes, "nice" ticks with labels, the axis titles, a legend and
 * the chart's title.  The SVG carries role="img", a <title> and a <desc>
 * for screen readers, and every bar or point its own <title> (a tooltip on
 * hover, no script needed).  It scales with its container (viewBox, width
 * 100%), so the same text reads on a phone and on a wide screen.
 *
 * Two kinds of chart:
 *   - categories (c->categories set): one slot per category on the x axis;
 *     SVG_BARS series are drawn side by side in each slot (grouped bars, a
 *     histogram with one series), SVG_LINE / SVG_POINTS series join the
 *     slot centres; x values are ignored;
 *   - numeric x (c->categories NULL): every series is a line or points at
 *     its (x, y) pairs (a Lorenz curve, a calibration plot).
 * NAN values are skipped (a gap in a line, no bar).
 *
 * Elements carry classes the tests and the stylesheet rely on: "axis-x",
 * "axis-y", "tick", "bar s<k>", "line s<k>", "pt s<k>" (k = series index,
 * 0..SVG_MAX_SERIES-1), "ref" (reference lines).
 *
 * Every text that came from outside (titles, labels, category names) is
 * escaped by svg_esc(), which the reports also use for HTML text.
 * Pure functions of their arguments; on failure the buffer may hold part
 * of the chart (the caller drops the whole report).
 */
#ifndef SVG_H
#define SVG_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"

#define SVG_MAX_SERIES 6

enum svg_style { SVG_BARS, SVG_LINE, SVG_POINTS, SVG_DASHED };

struct svg_series {
    const char *name;          /* legend text */
    const double *x;           /* numeric charts; ignored with categories */
    const double *y;
    size_t n;
    enum svg_style style;
};

struct svg_chart {
    const char *id;            /* the figure's id attribute ("" = none) */
    const char *title;
    const char *desc;          /* what the chart shows, for screen readers */
    const char *x_label;
    const char *y_label;
    const char *const *categories;  /* NULL: numeric x */
    size_t n_categories;
    double x_min, x_max;       /* NAN: from the data */
    double y_min, y_max;       /* NAN: from the data (y_min 0 for bars) */
    int x_percent, y_percent;  /* tick labels as 100 x value "%" */
    int diagonal;              /* a y = x reference line */
    double ref_y;              /* a horizontal reference line; NAN = none */
};

/* Sets every field to its default (NAN limits, no references). */
void svg_chart_init(struct svg_chart *c);

/*
 * Appends the chart of ns series (1..SVG_MAX_SERIES) to out.  Returns
 * ENG_OK, ENG_EUSAGE (no series, too many, or a category chart whose
 * series length differs from n_categories), or buf_add()'s errors.
 */
int svg_chart(struct buf *out, const struct svg_chart *c,
              const struct svg_series *s, size_t ns, struct eng_err *err);

/*
 * Appends s with &, <, >, " and ' escaped (safe in HTML and SVG text and
 * in quoted attributes); bytes below 0x20 other than tab and newline are
 * dropped.  As buf_add().
 */
int svg_esc(struct buf *out, const char *s, struct eng_err *err);

/*
 * Fills ticks[0..*n) with about want "nice" values (1, 2 or 5 x 10^k
 * steps) covering lo..hi; *n is at most 16.  lo < hi.
 */
void svg_ticks(double lo, double hi, int want, double *ticks, int *n);

#endif
