/* tab — row-by-row CSV tables on libcsv. */
#include "tab.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAB_CHUNK 65536
#define TAB_REASON_LEN 128

struct row {
    char **field;
    size_t n, cap;
};

struct tab {
    FILE *f;
    char *path;
    struct tab_opts o;
    unsigned char csv_opts;
    struct csv_parser p;
    int in_header;
    struct row head;
    struct row cur;          /* the row being built */
    struct row done;         /* the last complete row, handed out */
    const char **view;       /* done's fields padded with "" */
    int have_row;            /* done holds a row not yet handed out */

    /* the row being built: where it starts, what is wrong with it */
    long row_start;
    char row_err[TAB_REASON_LEN];
    int row_code;
    /* the row handed out */
    long done_start, done_end;
    char done_err[TAB_REASON_LEN];
    int done_code;

    int cb_code;             /* a hard failure inside a callback */
    char cb_msg[TAB_REASON_LEN];
    int fail;                /* sticky failure of the reader */
    struct eng_err fail_err;

    long line;               /* physical line of the next byte fed */
    int prev_cr;             /* the last byte fed was a CR */
    int started;             /* first chunk read, BOM handled */
    int eof;                 /* the file has no more bytes */
    int finished;            /* csv_fini ran on everything */
    int skip_line;           /* recovering: drop bytes to the next break */
    char chunk[TAB_CHUNK];
    size_t chunk_len, chunk_pos;

    /* recover mode: the bytes of the row being built, and bytes to read
       again after a malformed row */
    char *raw;
    size_t raw_len, raw_cap;
    char *rep;
    size_t rep_len, rep_pos;
};

static void row_free(struct row *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->field[i]);
    free(r->field);
    memset(r, 0, sizeof(*r));
}

static void row_clear(struct row *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->field[i]);
    r->n = 0;
}

static int row_add(struct row *r, const char *data, size_t len)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        char **f = realloc(r->field, cap * sizeof(*f));
        if (!f)
            return ENG_ENOMEM;
        r->field = f;
        r->cap = cap;
    }
    char *s = malloc(len + 1);
    if (!s)
        return ENG_ENOMEM;
    if (len)
        memcpy(s, data, len);
    s[len] = '\0';
    r->field[r->n++] = s;
    return ENG_OK;
}

static size_t max_fields(const struct tab *t)
{
    return t->o.max_fields ? t->o.max_fields : TAB_MAX_FIELDS;
}

/*
 * A fault of the row being built: in recover mode (and outside the header)
 * it marks the row, the first fault winning; otherwise it fails the reader.
 */
static void row_fault(struct tab *t, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void row_fault(struct tab *t, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (t->o.recover) {
        if (!t->row_code) {
            t->row_code = code;
            vsnprintf(t->row_err, sizeof(t->row_err), fmt, ap);
        }
    } else if (!t->cb_code) {
        t->cb_code = code;
        vsnprintf(t->cb_msg, sizeof(t->cb_msg), fmt, ap);
    }
    va_end(ap);
}

static void on_field(void *data, size_t len, void *ud)
{
    struct tab *t = ud;
    struct row *r = &t->cur;
    const char *s = data ? data : "";
    if (t->cb_code)
        return;
    if (r->n == max_fields(t)) {
        row_fault(t, ENG_ELIMIT, "row has more than %zu fields",
                  max_fields(t));
        return;
    }
    if (t->o.max_field && len > t->o.max_field) {
        row_fault(t, ENG_ELIMIT, "field longer than %zu bytes",
                  t->o.max_field);
        s = "";
        len = 0;
    }
    if (t->o.recover && memchr(s, '\0', len))
        row_fault(t, ENG_EDATA, "row holds a NUL byte");
    if (row_add(r, s, len) < 0) {
        t->cb_code = ENG_ENOMEM;
        snprintf(t->cb_msg, sizeof(t->cb_msg), "out of memory");
    }
}

/* Hands the row being built out as done, with its fault if any. */
static void row_done(struct tab *t, long end)
{
    struct row tmp = t->done;
    t->done = t->cur;
    t->cur = tmp;
    row_clear(&t->cur);
    t->have_row = 1;
    t->done_start = t->row_start;
    t->done_end = end;
    t->done_code = t->row_code;
    memcpy(t->done_err, t->row_err, sizeof(t->done_err));
    t->row_code = 0;
    t->row_err[0] = '\0';
}

static void on_row(int c, void *ud)
{
    (void)c;
    struct tab *t = ud;
    if (t->cb_code)
        return;
    row_done(t, t->line);
}

static int fail(struct tab *t, struct eng_err *err, int code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct tab *t, struct eng_err *err, int code,
                const char *fmt, ...)
{
    char msg[ENG_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    t->fail = code;
    eng_err_set(&t->fail_err, code, "%s", msg);
    if (err)
        *err = t->fail_err;
    return code;
}

static int is_break(char c)
{
    return c == '\n' || c == '\r';
}

/* Counts the line breaks of bytes just fed (CRLF once). */
static void count_lines(struct tab *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r') {
            t->line++;
            t->prev_cr = 1;
        } else {
            if (s[i] == '\n' && !t->prev_cr)
                t->line++;
            t->prev_cr = 0;
        }
    }
}

/*
 * Recovery after a row broke the CSV rules: the row goes out with what was
 * read of it, the parser starts afresh, and the bytes of the row after its
 * first line are read again (a row of one line is skipped to its end).
 * partial: also hand out the field libcsv was building (its first line is
 * the best guess at a VIN cut short by the fault).
 */
static int recover(struct tab *t, int partial, int code, const char *why,
                   long end, struct eng_err *err)
{
    if (partial && t->p.entry_pos > 0 && t->cur.n < max_fields(t)) {
        const char *s = (const char *)t->p.entry_buf;
        size_t n = 0;
        while (n < t->p.entry_pos && !is_break(s[n]))
            n++;
        /* libcsv keeps a closing quote until it knows it is not "" */
        if (t->p.quoted && n == t->p.entry_pos && n > 0 && s[n - 1] == '"')
            n--;
        if (row_add(&t->cur, s, n) < 0)
            return fail(t, err, ENG_ENOMEM, "out of memory");
    }
    if (!t->row_code) {
        t->row_code = code;
        snprintf(t->row_err, sizeof(t->row_err), "%s", why);
    }
    row_done(t, end);
    csv_free(&t->p);
    if (csv_init(&t->p, t->csv_opts) != 0)
        return fail(t, err, ENG_ENOMEM, "out of memory");

    size_t b = 0;
    while (b < t->raw_len && !is_break(t->raw[b]))
        b++;
    if (b == t->raw_len) {
        /* no line break yet: the row's one line goes on in the input */
        t->skip_line = !(t->eof && t->rep_pos == t->rep_len &&
                         t->chunk_pos == t->chunk_len);
        t->raw_len = 0;
        return ENG_OK;
    }
    size_t after = b + 1;
    if (t->raw[b] == '\r' && after < t->raw_len && t->raw[after] == '\n')
        after++;
    if (after == t->raw_len) {
        t->raw_len = 0;       /* a row of one line, read to its end */
        return ENG_OK;
    }
    size_t keep = t->rep_len - t->rep_pos;
    size_t n = t->raw_len - after + keep;
    char *rep = malloc(n);
    if (!rep)
        return fail(t, err, ENG_ENOMEM, "out of memory");
    memcpy(rep, t->raw + after, t->raw_len - after);
    if (keep)
        memcpy(rep + t->raw_len - after, t->rep + t->rep_pos, keep);
    free(t->rep);
    t->rep = rep;
    t->rep_len = n;
    t->rep_pos = 0;
    t->done_end = t->row_start;
    t->line = t->row_start + 1;
    t->prev_cr = 0;
    t->finished = 0;
    t->raw_len = 0;
    return ENG_OK;
}

static int raw_add(struct tab *t, const char *s, size_t n,
                   struct eng_err *err)
{
    if (t->raw_len + n > t->raw_cap) {
        size_t cap = t->raw_cap ? t->raw_cap : 4096;
        while (cap < t->raw_len + n)
            cap *= 2;
        char *p = realloc(t->raw, cap);
        if (!p)
            return fail(t, err, ENG_ENOMEM, "out of memory");
        t->raw = p;
        t->raw_cap = cap;
    }
    memcpy(t->raw + t->raw_len, s, n);
    t->raw_len += n;
    return ENG_OK;
}

static int read_chunk(struct tab *t, struct eng_err *err)
{
    t->chunk_len = fread(t->chunk, 1, sizeof(t->chunk), t->f);
    t->chunk_pos = 0;
    if (t->chunk_len == 0) {
        if (ferror(t->f))
            return fail(t, err, ENG_EIO, "cannot read '%s': %s", t->path,
                        strerror(errno));
        t->eof = 1;
    }
    if (!t->started) {
        t->started = 1;
        if (t->chunk_len >= 3 && memcmp(t->chunk, "\xEF\xBB\xBF", 3) == 0)
            t->chunk_pos = 3;
    }
    return ENG_OK;
}

static int finish(struct tab *t, struct eng_err *err)
{
    t->finished = 1;
    int rc = csv_fini(&t->p, on_field, on_row, t);
    if (t->cb_code)
        return fail(t, err, t->cb_code, "%s:%ld: %s", t->path, t->line,
                    t->cb_msg);
    if (rc != 0) {
        if (!t->o.recover || t->in_header)
            return fail(t, err, ENG_ECSV, "%s:%ld: a quoted field is not "
                        "closed at the end of the file", t->path,
                        t->row_start);
        return recover(t, 0, ENG_ECSV, "a quoted field is not closed at "
                       "the end of the file", t->line, err);
    }
    t->raw_len = 0;
    return ENG_OK;
}

/*
 * Feeds libcsv the next piece: the bytes up to and including the next CR or
 * LF, from the bytes to read again first, then from the file.  Keeping a
 * piece within one line tells which line a row starts and ends on, and lets
 * at most one row end per piece, so rows are taken one at a time.
 */
static int feed(struct tab *t, struct eng_err *err)
{
    const char *src;
    size_t avail;
    size_t *pos;
    if (t->rep_pos < t->rep_len) {
        src = t->rep + t->rep_pos;
        avail = t->rep_len - t->rep_pos;
        pos = &t->rep_pos;
    } else if (t->chunk_pos < t->chunk_len) {
        src = t->chunk + t->chunk_pos;
        avail = t->chunk_len - t->chunk_pos;
        pos = &t->chunk_pos;
    } else if (t->eof) {
        return finish(t, err);
    } else {
        return read_chunk(t, err);
    }
    size_t n = 0;
    while (n < avail && !is_break(src[n]))
        n++;
    if (n < avail)
        n++;
    if (t->skip_line) {
        *pos += n;
        count_lines(t, src, n);
        t->skip_line = !is_break(src[n - 1]);
        return ENG_OK;
    }
    /* pstate is libcsv's public parser state; 0: no row begun */
    if (t->p.pstate == 0) {
        t->row_start = t->line;
        t->raw_len = 0;
    }
    if (t->o.recover && !t->in_header) {
        if (t->raw_len + n > TAB_MAX_ROW) {
            char why[TAB_REASON_LEN];
            snprintf(why, sizeof(why), "row longer than %zu bytes",
                     TAB_MAX_ROW);
            return recover(t, 0, ENG_ELIMIT, why, t->line, err);
        }
        int rc = raw_add(t, src, n, err);
        if (rc < 0)
            return rc;
    }
    size_t used = csv_parse(&t->p, src, n, on_field, on_row, t);
    *pos += n;
    if (t->cb_code)
        return fail(t, err, t->cb_code, "%s:%ld: %s", t->path, t->line,
                    t->cb_msg);
    int open_too_long = t->o.max_field && t->p.entry_pos > t->o.max_field;
    if (used != n || open_too_long) {
        int e = csv_error(&t->p);
        if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
            return fail(t, err, ENG_ENOMEM, "%s:%ld: %s", t->path, t->line,
                        csv_strerror(e));
        char why[TAB_REASON_LEN];
        int code = ENG_ECSV;
        if (used != n) {
            snprintf(why, sizeof(why), "a quote inside an unquoted field, "
                     "or text after a closing quote");
        } else {
            code = ENG_ELIMIT;
            snprintf(why, sizeof(why), "field longer than %zu bytes",
                     t->o.max_field);
        }
        if (!t->o.recover || t->in_header)
            return fail(t, err, code, "%s:%ld: %s", t->path, t->line, why);
        long end = t->line;
        count_lines(t, src, n);
        return recover(t, used != n, code, why, end, err);
    }
    count_lines(t, src, n);
    return ENG_OK;
}

/* Feeds input until a row is complete; 1 with a row, 0 at the end. */
static int pump(struct tab *t, struct eng_err *err)
{
    if (t->fail) {
        if (err)
            *err = t->fail_err;
        return t->fail;
    }
    while (!t->have_row) {
        if (t->finished && t->rep_pos == t->rep_len)
            return 0;
        int rc = feed(t, err);
        if (rc < 0)
            return rc;
    }
    return 1;
}

struct tab *tab_open_with(const char *path, const struct tab_opts *opts,
                          struct eng_err *err)
{
    struct tab *t = calloc(1, sizeof(*t));
    if (!t) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    if (opts)
        t->o = *opts;
    t->path = strdup(path);
    t->line = 1;
    t->in_header = 1;
    t->csv_opts = CSV_APPEND_NULL;
    if (t->o.recover)
        t->csv_opts |= CSV_STRICT | CSV_STRICT_FINI;
    if (!t->path || csv_init(&t->p, t->csv_opts) != 0) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        free(t->path);
        free(t);
        return NULL;
    }
    t->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!t->f) {
        eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                    strerror(errno));
        tab_close(t);
        return NULL;
    }
    int rc = pump(t, err);
    if (rc == 0)
        rc = eng_err_set(err, ENG_ECSV, "'%s' is empty: no header row",
                         path);
    if (rc > 0 && t->done_code)
        rc = eng_err_set(err, t->done_code, "%s:%ld: header: %s", path,
                         t->done_start, t->done_err);
    if (rc < 0) {
        tab_close(t);
        return NULL;
    }
    t->head = t->done;
    memset(&t->done, 0, sizeof(t->done));
    t->have_row = 0;
    t->in_header = 0;
    t->view = calloc(t->head.n ? t->head.n : 1, sizeof(*t->view));
    if (!t->view) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        tab_close(t);
        return NULL;
    }
    return t;
}

struct tab *tab_open(const char *path, struct eng_err *err)
{
    return tab_open_with(path, NULL, err);
}

void tab_close(struct tab *t)
{
    if (!t)
        return;
    if (t->f && t->f != stdin)
        fclose(t->f);
    csv_free(&t->p);
    row_free(&t->head);
    row_free(&t->cur);
    row_free(&t->done);
    free(t->view);
    free(t->raw);
    free(t->rep);
    free(t->path);
    free(t);
}

int tab_col(const struct tab *t, const char *name)
{
    for (size_t i = 0; i < t->head.n; i++) {
        if (strcmp(t->head.field[i], name) == 0)
            return (int)i;
    }
    return -1;
}

size_t tab_ncols(const struct tab *t)
{
    return t->head.n;
}

const char *tab_name(const struct tab *t, size_t i)
{
    return i < t->head.n ? t->head.field[i] : NULL;
}

int tab_next(struct tab *t, const char *const **fields, struct eng_err *err)
{
    for (;;) {
        int rc = pump(t, err);
        if (rc <= 0)
            return rc;
        t->have_row = 0;
        /* lenient: a row of one empty field (a blank line) is not a row */
        if (!t->o.recover && t->done.n == 1 &&
            t->done.field[0][0] == '\0' && t->head.n > 1)
            continue;
        for (size_t i = 0; i < t->head.n; i++)
            t->view[i] = i < t->done.n ? t->done.field[i] : "";
        *fields = t->view;
        return 1;
    }
}

size_t tab_row_fields(const struct tab *t)
{
    return t->done.n;
}

const char *tab_row_error(const struct tab *t)
{
    return t->done_code ? t->done_err : NULL;
}

long tab_row_line(const struct tab *t)
{
    return t->done_start;
}

long tab_line(const struct tab *t)
{
    return t->done_end;
}
