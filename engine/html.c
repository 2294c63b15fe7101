/*
 * html — the page-building pieces shared by the run report (report.c) and
 * the validation report (vreport.c): page frame, sections, tables, key
 * figures and the atomic save (html.h).
 */
#include "html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "out.h"
#include "svg.h"

/* ===== The page frame ================================================= */

static const char css[] =
    ":root{--ink:#1b1f24;--mute:#59636e;--line:#d0d7de;--bg:#fff;"
    "--s0:#2f6db5;--s1:#e07b39;--s2:#3a9a5b;--s3:#8e5bb5;--s4:#c4463a;"
    "--s5:#6b7785}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:#f6f8fa}"
    "main{max-width:1100px;margin:0 auto;padding:16px;background:var(--bg)}"
    "h1{font-size:1.5em;margin:.2em 0 .4em}h2{font-size:1.2em;margin:0 0 "
    ".4em;border-bottom:2px solid var(--line);padding-bottom:.2em}"
    "section{margin:1.6em 0;break-inside:avoid-page}"
    "p.lead,p.note{color:var(--mute);margin:.3em 0 .8em}"
    "p.summary{font-size:1.08em;margin:.4em 0 1em}"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,"
    "1fr));gap:8px;margin:.8em 0}.kpi{border:1px solid var(--line);"
    "border-radius:6px;padding:8px 10px}.kpi b{display:block;font-size:1.5em}"
    ".kpi span{color:var(--mute);font-size:.9em}"
    ".kpi.warn{border-color:#c4463a;background:#fdf1f0}"
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,"
    "1fr));gap:16px}.grid2.wide{grid-template-columns:repeat(auto-fit,"
    "minmax(440px,1fr))}@media (max-width:600px){.grid2.wide{"
    "grid-template-columns:1fr}}"
    ".pair>.tw table{width:100%}"
    "@media (min-width:1000px){.pair{display:grid;grid-template-columns:"
    "minmax(0,3fr) minmax(0,2fr);gap:24px;align-items:start}}"
    "figure.chart{margin:0 0 .5em;max-width:780px}figcaption.ctitle{"
    "font-weight:600;margin:.2em 0}figure.chart svg{width:100%;"
    "height:auto;display:block}"
    "svg text{font-size:13px;fill:var(--ink)}"
    "svg .tick{fill:var(--mute);font-size:12px}"
    "svg .label{fill:var(--mute)}svg .axis-x line,svg .axis-y line{"
    "stroke:var(--ink);stroke-width:1}svg line.grid{stroke:#eaeef2}"
    "svg line.tickmark{stroke:var(--ink)}svg line.ref{stroke:#888;"
    "stroke-dasharray:4 3}svg path.line{fill:none;stroke-width:2.2}"
    "svg path.dashed{stroke-dasharray:6 4}"
    ".s0{fill:var(--s0);stroke:var(--s0)}.s1{fill:var(--s1);stroke:var(--s1)}"
    ".s2{fill:var(--s2);stroke:var(--s2)}.s3{fill:var(--s3);stroke:var(--s3)}"
    ".s4{fill:var(--s4);stroke:var(--s4)}.s5{fill:var(--s5);stroke:var(--s5)}"
    "svg rect.bar,svg circle.pt,svg rect.key{stroke:none}"
    "svg path.line.s0{fill:none}svg path.line.s1{fill:none}"
    "svg path.line.s2{fill:none}svg path.line.s3{fill:none}"
    ".tw{overflow-x:auto}table{border-collapse:collapse;margin:.3em 0 1em;"
    "font-size:.92em;min-width:50%}th,td{border-bottom:1px solid var(--line);"
    "padding:3px 8px;text-align:left;vertical-align:top}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f6f8fa}caption{text-align:left;color:var(--mute);"
    "padding:2px 0;font-size:.95em}"
    "dl.id{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;"
    "margin:.5em 0}dl.id dt{color:var(--mute)}dl.id dd{margin:0;"
    "overflow-wrap:anywhere}code{font-size:.95em}"
    "footer{color:var(--mute);font-size:.88em;border-top:1px solid "
    "var(--line);margin-top:2em;padding-top:.6em}"
    "@media (max-width:600px){body{font-size:14px}main{padding:10px}"
    "th,td{padding:2px 5px}svg text{font-size:18px}svg .tick{font-size:15px}"
    "}"
    "@media print{body{background:#fff;font-size:11pt}main{max-width:none;"
    "padding:0}section{break-inside:avoid}.grid2{display:block}"
    "figure.chart{max-width:560px}a{color:inherit}}";

int html_begin(struct buf *out, const char *title, struct eng_err *err)
{
    int rc = buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                      "<meta charset=\"utf-8\"><meta name=\"viewport\" "
                      "content=\"width=device-width,initial-scale=1\">"
                      "<meta http-equiv=\"Content-Security-Policy\" "
                      "content=\"default-src 'none'; style-src "
                      "'unsafe-inline'\"><title>", err);
    if (rc == ENG_OK)
        rc = svg_esc(out, title, err);
    if (rc == ENG_OK)
        rc = buf_printf(out, err, "</title><style>%s</style></head>\n"
                        "<body><main>\n<h1>", css);
    if (rc == ENG_OK)
        rc = svg_esc(out, title, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, "</h1>\n", err);
    return rc;
}

int html_end(struct buf *out, struct eng_err *err)
{
    return buf_adds(out, "<footer>Made by svcscore. This page is complete "
                    "in itself: its charts are drawn into the file, and it "
                    "loads nothing from anywhere, so it opens offline and "
                    "can be filed as it is. Hover over a bar or point for "
                    "its figure; every chart's figures are also in the "
                    "table beside or under it.</footer>\n"
                    "</main></body></html>\n",
                    err);
}

int html_section(struct buf *out, const char *id, const char *title,
                   const char *lead, struct eng_err *err)
{
    int rc = buf_adds(out, "<section id=\"", err);
    if (rc == ENG_OK)
        rc = svg_esc(out, id, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, "\"><h2>", err);
    if (rc == ENG_OK)
        rc = svg_esc(out, title, err);
    if (rc == ENG_OK)
        rc = buf_adds(out, "</h2>\n", err);
    if (rc == ENG_OK && lead && lead[0]) {
        rc = buf_adds(out, "<p class=\"lead\">", err);
        if (rc == ENG_OK)
            rc = svg_esc(out, lead, err);
        if (rc == ENG_OK)
            rc = buf_adds(out, "</p>\n", err);
    }
    return rc;
}

int html_save(const char *path, const struct buf *b, struct eng_err *err)
{
    struct out_file *f = out_open(path, err);
    if (!f)
        return ENG_EIO;
    int rc = out_write(f, b->data, b->len, err);
    if (rc == ENG_OK)
        return out_commit(f, err);
    out_abort(f);
    return rc;
}

/* ===== Tables ========================================================= */

/* A cell: text escaped; numeric cells are right-aligned. */
static int cell(struct buf *o, const char *tag, int numeric, const char *s,
                struct eng_err *err)
{
    int rc = buf_printf(o, err, "<%s%s>", tag, numeric ? " class=\"n\"" : "");
    if (rc == ENG_OK)
        rc = svg_esc(o, s, err);
    if (rc == ENG_OK)
        rc = buf_printf(o, err, "</%s>", tag);
    return rc;
}

/*
 * A table: caption, header cells (a leading '#' marks a numeric column)
 * and rows of cells, ncol per row, all escaped.
 */
int html_table(struct buf *o, const char *caption,
                 const char *const *head, size_t ncol,
                 const char *const *cells, size_t nrow, const char *cls,
                 struct eng_err *err)
{
    int rc = buf_printf(o, err, "<div class=\"tw\"><table class=\"%s\">"
                        "<caption>", cls);
    if (rc == ENG_OK)
        rc = svg_esc(o, caption, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</caption><thead><tr>", err);
    for (size_t j = 0; rc == ENG_OK && j < ncol; j++)
        rc = cell(o, "th", head[j][0] == '#', head[j] + (head[j][0] == '#'),
                  err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</tr></thead><tbody>", err);
    for (size_t i = 0; rc == ENG_OK && i < nrow; i++) {
        rc = buf_adds(o, "<tr>", err);
        for (size_t j = 0; rc == ENG_OK && j < ncol; j++)
            rc = cell(o, "td", head[j][0] == '#', cells[i * ncol + j], err);
        if (rc == ENG_OK)
            rc = buf_adds(o, "</tr>", err);
    }
    if (rc == ENG_OK)
        rc = buf_adds(o, "</tbody></table></div>\n", err);
    return rc;
}

void html_put(struct html_cells *a, const char *fmt, ...)
{
    if (a->n == HTML_CELLS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->text[a->n], HTML_CELL_LEN, fmt, ap);
    va_end(ap);
    a->cells[a->n] = a->text[a->n];
    a->n++;
}

/* ===== Key figures, paragraphs, sections ============================== */

int html_kpi(struct buf *o, const char *label, const char *value, int warn,
             struct eng_err *err)
{
    int rc = buf_printf(o, err, "<div class=\"kpi%s\"><b>", warn ? " warn"
                                                                 : "");
    if (rc == ENG_OK)
        rc = svg_esc(o, value, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</b><span>", err);
    if (rc == ENG_OK)
        rc = svg_esc(o, label, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</span></div>", err);
    return rc;
}

int html_para(struct buf *o, const char *cls, const char *text,
              struct eng_err *err)
{
    int rc = buf_printf(o, err, "<p class=\"%s\">", cls);
    if (rc == ENG_OK)
        rc = svg_esc(o, text, err);
    if (rc == ENG_OK)
        rc = buf_adds(o, "</p>\n", err);
    return rc;
}

int html_close_section(struct buf *o, int rc, struct eng_err *err)
{
    return rc == ENG_OK ? buf_adds(o, "</section>\n", err) : rc;
}
