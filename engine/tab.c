/* tab — row-by-row CSV tables on libcsv. */
#include "tab.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAB_CHUNK 65536
#define TAB_MAX_FIELDS 4096

struct row {
    char **field;
    size_t n, cap;
};

struct tab {
    FILE *f;
    const char *path;
    struct csv_parser p;
    struct row head;
    struct row cur;          /* the row being built */
    struct row done;         /* the last complete row, handed out */
    const char **view;       /* done's fields padded with "" */
    int have_row;            /* done holds a row not yet handed out */
    int failed;              /* a callback ran out of memory */
    int eof;
    long line;               /* the line being fed to the parser */
    long row_line;           /* the line where the last row ended */
    char chunk[TAB_CHUNK];
    size_t chunk_len, chunk_pos;
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

static void on_field(void *data, size_t len, void *ud)
{
    struct tab *t = ud;
    struct row *r = &t->cur;
    if (t->failed)
        return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        char **f = cap <= TAB_MAX_FIELDS ? realloc(r->field, cap * sizeof(*f))
                                         : NULL;
        if (!f) {
            t->failed = 1;
            return;
        }
        r->field = f;
        r->cap = cap;
    }
    char *s = malloc(len + 1);
    if (!s) {
        t->failed = 1;
        return;
    }
    if (len)
        memcpy(s, data, len);
    s[len] = '\0';
    r->field[r->n++] = s;
}

static void on_row(int c, void *ud)
{
    (void)c;
    struct tab *t = ud;
    struct row tmp = t->done;
    t->done = t->cur;
    t->cur = tmp;
    row_clear(&t->cur);
    t->have_row = 1;
    t->row_line = t->line;
}

/* Feeds input until a row is complete or the file ends. */
static int pump(struct tab *t, struct eng_err *err)
{
    while (!t->have_row) {
        if (t->chunk_pos == t->chunk_len) {
            if (t->eof)
                return 0;
            t->chunk_len = fread(t->chunk, 1, sizeof(t->chunk), t->f);
            t->chunk_pos = 0;
            if (t->chunk_len == 0) {
                if (ferror(t->f))
                    return eng_err_set(err, ENG_EIO, "cannot read '%s': %s",
                                       t->path, strerror(errno));
                t->eof = 1;
                if (csv_fini(&t->p, on_field, on_row, t) != 0)
                    return eng_err_set(err, ENG_ECSV, "%s:%ld: %s", t->path,
                                       t->line,
                                       csv_strerror(csv_error(&t->p)));
                continue;
            }
        }
        /* feed up to the next newline so rows are taken one at a time */
        size_t start = t->chunk_pos;
        char *nl = memchr(t->chunk + start, '\n', t->chunk_len - start);
        size_t end = nl ? (size_t)(nl - t->chunk) + 1 : t->chunk_len;
        t->chunk_pos = end;
        if (csv_parse(&t->p, t->chunk + start, end - start, on_field, on_row,
                      t) != end - start)
            return eng_err_set(err, ENG_ECSV, "%s:%ld: %s", t->path, t->line,
                               csv_strerror(csv_error(&t->p)));
        if (t->failed)
            return eng_err_set(err, ENG_ENOMEM, "out of memory");
        /* counted after the parse: a row ends on the line of its newline */
        if (nl)
            t->line++;
    }
    return 1;
}

struct tab *tab_open(const char *path, struct eng_err *err)
{
    struct tab *t = calloc(1, sizeof(*t));
    if (!t) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    t->path = path;
    t->line = 1;
    t->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!t->f) {
        eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                    strerror(errno));
        free(t);
        return NULL;
    }
    if (csv_init(&t->p, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        tab_close(t);
        return NULL;
    }
    csv_set_opts(&t->p, CSV_APPEND_NULL);
    int rc = pump(t, err);
    if (rc == 0)
        rc = eng_err_set(err, ENG_ECSV, "'%s' is empty: no header row",
                         path);
    if (rc < 0) {
        tab_close(t);
        return NULL;
    }
    t->head = t->done;
    memset(&t->done, 0, sizeof(t->done));
    t->have_row = 0;
    /* a byte-order mark on the first header name is not part of it */
    if (t->head.n && strncmp(t->head.field[0], "\xEF\xBB\xBF", 3) == 0)
        memmove(t->head.field[0], t->head.field[0] + 3,
                strlen(t->head.field[0]) - 2);
    t->view = calloc(t->head.n ? t->head.n : 1, sizeof(*t->view));
    if (!t->view) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        tab_close(t);
        return NULL;
    }
    return t;
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
        /* a blank line reads as one empty field: not a row */
        if (t->done.n == 1 && t->done.field[0][0] == '\0' && t->head.n > 1)
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

long tab_line(const struct tab *t)
{
    return t->row_line;
}
