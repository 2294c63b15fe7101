/* svg — charts as inline SVG text (svg.h). */
#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The drawing's own units; the browser scales the viewBox to the page. */
#define W 600.0
#define H 340.0
#define LEFT 64.0
#define RIGHT 16.0
#define TOP 14.0
#define BOTTOM 74.0

void svg_chart_init(struct svg_chart *c)
{
    memset(c, 0, sizeof(*c));
    c->id = "";
    c->title = "";
    c->desc = "";
    c->x_label = "";
    c->y_label = "";
    c->x_min = c->x_max = c->y_min = c->y_max = NAN;
    c->ref_y = NAN;
}

int svg_esc(struct buf *out, const char *s, struct eng_err *err)
{
    const char *run = s;
    int rc = ENG_OK;
    for (const char *p = s; *p && rc == ENG_OK; p++) {
        const char *rep = NULL;
        unsigned char ch = (unsigned char)*p;
        if (ch == '&')
            rep = "&amp;";
        else if (ch == '<')
            rep = "&lt;";
        else if (ch == '>')
            rep = "&gt;";
        else if (ch == '"')
            rep = "&quot;";
        else if (ch == '\'')
            rep = "&#39;";
        else if (ch < 0x20 && ch != '\t' && ch != '\n')
            rep = "";
        if (!rep)
            continue;
        rc = buf_add(out, run, (size_t)(p - run), err);
        if (rc == ENG_OK)
            rc = buf_adds(out, rep, err);
        run = p + 1;
    }
    if (rc == ENG_OK)
        rc = buf_adds(out, run, err);
    return rc;
}

void svg_ticks(double lo, double hi, int want, double *ticks, int *n)
{
    double span = hi - lo;
    double raw = span / (want > 1 ? want : 1);
    double mag = pow(10, floor(log10(raw)));
    double step = mag;
    if (raw / mag > 5)
        step = 10 * mag;
    else if (raw / mag > 2)
        step = 5 * mag;
    else if (raw / mag > 1)
        step = 2 * mag;
    double t = ceil(lo / step - 1e-9) * step;
    *n = 0;
    while (t <= hi + step * 1e-9 && *n < 16) {
        ticks[(*n)++] = fabs(t) < step * 1e-9 ? 0 : t;
        t += step;
    }
}

/* A tick label: integers as such, else up to 3 significant decimals. */
static void tick_text(double v, int percent, char *s, size_t n)
{
    if (percent)
        v *= 100;
    double a = fabs(v);
    if (a >= 1e6)
        snprintf(s, n, "%.3gM", v / 1e6);
    else if (a >= 1e4 || v == floor(v))
        snprintf(s, n, "%.0f", v);
    else
        snprintf(s, n, "%.3g", v);
    if (percent && strlen(s) + 1 < n)
        strcat(s, "%");
}

struct frame {
    double x0, x1, y0, y1;     /* data limits */
};

static double px(const struct frame *f, double x)
{
    return LEFT + (x - f->x0) / (f->x1 - f->x0) * (W - LEFT - RIGHT);
}

static double py(const struct frame *f, double y)
{
    return H - BOTTOM - (y - f->y0) / (f->y1 - f->y0) * (H - TOP - BOTTOM);
}

static void limits(const struct svg_chart *c, const struct svg_series *s,
                   size_t ns, struct frame *f)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int bars = 0;
    for (size_t k = 0; k < ns; k++) {
        bars |= s[k].style == SVG_BARS;
        for (size_t i = 0; i < s[k].n; i++) {
            double y = s[k].y[i];
            if (isfinite(y)) {
                y0 = fmin(y0, y);
                y1 = fmax(y1, y);
            }
            if (!c->categories && s[k].x && isfinite(s[k].x[i])) {
                x0 = fmin(x0, s[k].x[i]);
                x1 = fmax(x1, s[k].x[i]);
            }
        }
    }
    if (c->categories) {
        x0 = 0;
        x1 = (double)c->n_categories;
    }
    if (bars && y0 > 0)
        y0 = 0;
    if (isfinite(c->ref_y)) {
        y0 = fmin(y0, c->ref_y);
        y1 = fmax(y1, c->ref_y);
    }
    if (isfinite(c->x_min))
        x0 = c->x_min;
    if (isfinite(c->x_max))
        x1 = c->x_max;
    if (isfinite(c->y_min))
        y0 = c->y_min;
    if (isfinite(c->y_max))
        y1 = c->y_max;
    if (!isfinite(x0) || !isfinite(x1)) {
        x0 = 0;
        x1 = 1;
    }
    if (!isfinite(y0) || !isfinite(y1)) {
        y0 = 0;
        y1 = 1;
    }
    if (x1 <= x0)
        x1 = x0 + 1;
    if (y1 <= y0)
        y1 = y0 + (y0 == 0 ? 1 : fabs(y0) * 0.1);
    else if (!isfinite(c->y_max))
        y1 += (y1 - y0) * 0.05;  /* headroom over the tallest mark */
    f->x0 = x0;
    f->x1 = x1;
    f->y0 = y0;
    f->y1 = y1;
}

static int axes(struct buf *o, const struct svg_chart *c,
                const struct frame *f, struct eng_err *err)
{
    double t[16];
    int nt, rc;
    char s[32];
    rc = buf_printf(o, err, "<g class=\"axis-y\"><line x1=\"%.1f\" y1=\"%.1f\" "
                    "x2=\"%.1f\" y2=\"%.1f\"/>", LEFT, TOP, LEFT, H - BOTTOM);
    svg_ticks(f->y0, f->y1, 5, t, &nt);
    for (int i = 0; rc == ENG_OK && i < nt; i++) {
        tick_text(t[i], c->y_percent, s, sizeof(s));
        double y = py(f, t[i]);
        rc = buf_printf(o, err, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
                        "x2=\"%.1f\" y2=\"%.1f\"/><text class=\"tick\" "
                        "x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                        LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, s);
    }
    if (rc == ENG_OK)
        rc = buf_printf(o, err, "<text class=\"label\" transform=\"translate("
                        "14 %.1f) rotate(-90)\" text-anchor=\"middle\">",
                        (TOP + H - BOTTOM) / 2);
    if (rc == ENG_OK)
        rc = svg_esc(o, c->y_label, err);
    if (rc == ENG_OK)
        rc = buf_printf(o, err, "</text></g><g class=\"axis-x\"><line "
                        "x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                        LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM);
    if (c->categories) {
        /* labels on two staggered rows when one row is too narrow, and
           every k-th label when two are (about 8 units a character) */
        size_t longest = 1;
        for (size_t i = 0; i < c->n_categories; i++)
            if (strlen(c->categories[i]) > longest)
                longest = strlen(c->categories[i]);
        double slot = px(f, 1) - px(f, 0);
        double need = (double)longest * 8 + 6;
        int stagger = need > slot && c->n_categories > 1;
        size_t every = (size_t)ceil(need / (stagger ? 2 * slot : slot));
        if (every < 1)
            every = 1;
        for (size_t i = 0; rc == ENG_OK && i < c->n_categories; i++) {
            if (i % every)
                continue;
            double dy = stagger && (i / every) % 2 ? 30 : 16;
            rc = buf_printf(o, err, "<text class=\"tick\" x=\"%.1f\" "
                            "y=\"%.1f\" text-anchor=\"middle\">",
                            px(f, (double)i + 0.5), H - BOTTOM + dy);
            if (rc == ENG_OK)
                rc = svg_esc(o, c->categories[i], err);
            if (rc == ENG_OK)
                rc = buf_adds(o, "</text>", err);
        }
    } else {
        svg_ticks(f->x0, f->x1, 6, t, &nt);
        for (int i = 0; rc == ENG_OK && i < nt; i++) {
            tick_text(t[i], c->x_percent, s, sizeof(s));
            double x = px(f, t[i]);
            rc = buf_printf(o, err, "<line class=\"tickmark\" x1=\"%.1f\" "
                            "y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/><text "
                            "class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
                            "text-anchor=\"middle\">%s</text>", x,
                            H - BOTTOM, x, H - BOTTOM + 5, x,
                            H - BOTTOM + 18, s);
        }
    }
    if (rc == ENG_OK)
        rc = buf_printf(o, err, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" "
                        "text-anchor=\"middle\">", (LEFT + W - RIGHT) / 2,
                        H - BOTTOM + 50);
    if (rc == ENG_OK)
        rc = svg_esc(o, c->x_label, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</text></g>", err);
    return rc;
}

/* The tooltip of one mark: "series: category or x, y". */
static int mark_title(struct buf *o, const struct svg_chart *c,
                      const struct svg_series *s, size_t i,
                      struct eng_err *err)
{
    char v[32];
    int rc = buf_adds(o, "<title>", err);
    if (rc == ENG_OK && s->name && s->name[0]) {
        rc = svg_esc(o, s->name, err);
        if (rc == ENG_OK)
            rc = buf_adds(o, ": ", err);
    }
    if (rc == ENG_OK && c->categories) {
        rc = svg_esc(o, c->categories[i], err);
    } else if (rc == ENG_OK) {
        snprintf(v, sizeof(v), c->x_percent ? "%.1f%%" : "%.4g",
                 c->x_percent ? 100 * s->x[i] : s->x[i]);
        rc = buf_adds(o, v, err);
    }
    snprintf(v, sizeof(v), c->y_percent ? "%.2f%%" : "%.6g",
             c->y_percent ? 100 * s->y[i] : s->y[i]);
    if (rc == ENG_OK)
        rc = buf_printf(o, err, " = %s</title>", v);
    return rc;
}

static int series(struct buf *o, const struct svg_chart *c,
                  const struct frame *f, const struct svg_series *s,
                  size_t ns, struct eng_err *err)
{
    size_t nbars = 0, bar = 0;
    for (size_t k = 0; k < ns; k++)
        nbars += s[k].style == SVG_BARS;
    int rc = ENG_OK;
    for (size_t k = 0; rc == ENG_OK && k < ns; k++) {
        const struct svg_series *e = &s[k];
        if (e->style == SVG_BARS) {
            double slot = px(f, 1) - px(f, 0);
            double bw = slot * 0.8 / (double)nbars;
            double base = py(f, f->y0 > 0 ? f->y0 : fmin(0, f->y1));
            for (size_t i = 0; rc == ENG_OK && i < e->n; i++) {
                if (!isfinite(e->y[i]))
                    continue;
                double x = px(f, (double)i) + slot * 0.1 + bw * (double)bar;
                double y = py(f, e->y[i]);
                rc = buf_printf(o, err, "<rect class=\"bar s%zu\" x=\"%.1f\""
                                " y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">",
                                k, x, fmin(y, base), bw > 1.5 ? bw - 0.5 : bw,
                                fabs(base - y));
                if (rc == ENG_OK)
                    rc = mark_title(o, c, e, i, err);
                if (rc == ENG_OK)
                    rc = buf_adds(o, "</rect>", err);
            }
            bar++;
            continue;
        }
        /* a line: one path, pen lifted over NAN values */
        if (e->style != SVG_POINTS) {
            rc = buf_printf(o, err, "<path class=\"line s%zu%s\" d=\"", k,
                            e->style == SVG_DASHED ? " dashed" : "");
            int pen = 0;
            for (size_t i = 0; rc == ENG_OK && i < e->n; i++) {
                double xv = c->categories ? (double)i + 0.5 : e->x[i];
                if (!isfinite(e->y[i]) || !isfinite(xv)) {
                    pen = 0;
                    continue;
                }
                rc = buf_printf(o, err, "%c%.1f %.1f", pen ? 'L' : 'M',
                                px(f, xv), py(f, e->y[i]));
                pen = 1;
            }
            if (rc == ENG_OK)
                rc = buf_adds(o, "\"/>", err);
        }
        /* points with tooltips, unless the line is a dense curve */
        if (e->n <= 60 || e->style == SVG_POINTS) {
            for (size_t i = 0; rc == ENG_OK && i < e->n; i++) {
                double xv = c->categories ? (double)i + 0.5 : e->x[i];
                if (!isfinite(e->y[i]) || !isfinite(xv))
                    continue;
                rc = buf_printf(o, err, "<circle class=\"pt s%zu\" "
                                "cx=\"%.1f\" cy=\"%.1f\" r=\"3\">", k,
                                px(f, xv), py(f, e->y[i]));
                if (rc == ENG_OK)
                    rc = mark_title(o, c, e, i, err);
                if (rc == ENG_OK)
                    rc = buf_adds(o, "</circle>", err);
            }
        }
    }
    return rc;
}

static int legend(struct buf *o, const struct svg_series *s, size_t ns,
                  struct eng_err *err)
{
    int rc = ENG_OK;
    double x = LEFT;
    for (size_t k = 0; rc == ENG_OK && k < ns; k++) {
        if (!s[k].name || !s[k].name[0])
            continue;
        rc = buf_printf(o, err, "<g class=\"legend\"><rect class=\"key s%zu\" "
                        "x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\">", k, x, H - 14.0,
                        x + 16, H - 3.0);
        if (rc == ENG_OK)
            rc = svg_esc(o, s[k].name, err);
        if (rc == ENG_OK)
            rc = buf_adds(o, "</text></g>", err);
        x += 30 + 10.0 * (double)strlen(s[k].name);
    }
    return rc;
}

int svg_chart(struct buf *out, const struct svg_chart *c,
              const struct svg_series *s, size_t ns, struct eng_err *err)
{
    if (ns == 0 || ns > SVG_MAX_SERIES)
        return eng_err_set(err, ENG_EUSAGE, "a chart takes 1 to %d series",
                           SVG_MAX_SERIES);
    for (size_t k = 0; k < ns; k++)
        if ((c->categories && s[k].n != c->n_categories)
            || (!c->categories && !s[k].x))
            return eng_err_set(err, ENG_EUSAGE, "series '%s' does not fit "
                               "its chart", s[k].name ? s[k].name : "");
    struct frame f;
    limits(c, s, ns, &f);
    int rc = buf_adds(out, "<figure class=\"chart\"", err);
    if (rc == ENG_OK && c->id[0]) {
        rc = buf_adds(out, " id=\"", err);
        if (rc == ENG_OK)
            rc = svg_esc(out, c->id, err);
        if (rc == ENG_OK)
            rc = buf_adds(out, "\"", err);
    }
    /* the title above the drawing is HTML, so it wraps on a phone */
    if (rc == ENG_OK)
        rc = buf_adds(out, "><figcaption class=\"ctitle\">", err);
    if (rc == ENG_OK)
        rc = svg_esc(out, c->title, err);
    if (rc == ENG_OK)
        rc = buf_printf(out, err, "</figcaption><svg viewBox=\"0 0 %.0f "
                        "%.0f\" role=\"img\" aria-label=\"", W, H);
    if (rc == ENG_OK)
        rc = svg_esc(out, c->title, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, "\"><title>", err);
    if (rc == ENG_OK)
        rc = svg_esc(out, c->title, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, "</title><desc>", err);
    if (rc == ENG_OK)
        rc = svg_esc(out, c->desc, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, "</desc>", err);
    if (rc == ENG_OK)
        rc = axes(out, c, &f, err);
    if (rc == ENG_OK && c->diagonal) {
        double lo = fmax(f.x0, f.y0), hi = fmin(f.x1, f.y1);
        if (hi > lo)
            rc = buf_printf(out, err, "<line class=\"ref\" x1=\"%.1f\" "
                            "y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                            px(&f, lo), py(&f, lo), px(&f, hi), py(&f, hi));
    }
    if (rc == ENG_OK && isfinite(c->ref_y))
        rc = buf_printf(out, err, "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\""
                        " x2=\"%.1f\" y2=\"%.1f\"/>", LEFT, py(&f, c->ref_y),
                        W - RIGHT, py(&f, c->ref_y));
    if (rc == ENG_OK)
        rc = series(out, c, &f, s, ns, err);
    if (rc == ENG_OK)
        rc = legend(out, s, ns, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, "</svg></figure>\n", err);
    return rc;
}
