/* buf — bounded growable byte buffer. */
#include "buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_release(struct buf *b)
{
    if (!b)
        return;
    free(b->data);
    buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for n more bytes and the NUL. */
static int grow(struct buf *b, size_t n, struct eng_err *err)
{
    if (n > b->max - b->len)
        return eng_err_set(err, ENG_ELIMIT, "buffer limit of %zu bytes reached",
                           b->max);
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return ENG_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    b->data = p;
    b->cap = cap;
    return ENG_OK;
}

int buf_add(struct buf *b, const void *data, size_t n, struct eng_err *err)
{
    int rc = grow(b, n, err);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ENG_OK;
}

char *buf_extend(struct buf *b, size_t n, struct eng_err *err)
{
    if (grow(b, n, err) < 0)
        return NULL;
    char *p = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
    return p;
}

int buf_adds(struct buf *b, const char *s, struct eng_err *err)
{
    return buf_add(b, s, strlen(s), err);
}

int buf_printf(struct buf *b, struct eng_err *err, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return eng_err_set(err, ENG_EIO, "cannot format text");
    if ((size_t)n < sizeof(small))
        return buf_add(b, small, (size_t)n, err);
    int rc = grow(b, (size_t)n, err);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ENG_OK;
}

int buf_csv(struct buf *b, const char *s, int neutralise, struct eng_err *err)
{
    if (!s)
        return ENG_OK;
    size_t start = b->len;
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    int prefix = neutralise && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
                                s[0] == '@' || s[0] == '\t' || s[0] == '\r');
    int rc = ENG_OK;
    if (quote)
        rc = buf_add(b, "\"", 1, err);
    if (rc == ENG_OK && prefix)
        rc = buf_add(b, "'", 1, err);
    for (const char *p = s; rc == ENG_OK && *p; p++) {
        if (*p == '"')
            rc = buf_add(b, "\"\"", 2, err);
        else
            rc = buf_add(b, p, 1, err);
    }
    if (rc == ENG_OK && quote)
        rc = buf_add(b, "\"", 1, err);
    if (rc < 0) {
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
    }
    return rc;
}

int buf_num(struct buf *b, double v, struct eng_err *err)
{
    if (isnan(v))
        return ENG_OK;
    if (v == 0)
        return buf_add(b, "0", 1, err);
    if (v == floor(v) && fabs(v) < 1e15)
        return buf_printf(b, err, "%.0f", v);
    return buf_printf(b, err, "%.10g", v);
}
