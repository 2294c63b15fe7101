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

/*
 * True when the whole of s is a decimal number: an optional sign, digits
 * with an optional fraction (or a fraction alone), an optional exponent.  A
 * spreadsheet reads such a field as that number, not as a formula, and ids
 * like "-0042" must reach a machine reader unchanged.
 */
static int plain_number(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9') {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
            digits++;
        }
    }
    if (digits == 0)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

int buf_csv(struct buf *b, const char *s, int neutralise, struct eng_err *err)
{
    if (!s)
        return ENG_OK;
    size_t start = b->len;
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    /* OWASP's rule for CSV injection, numbers excepted */
    int prefix = neutralise && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
                                s[0] == '@' || s[0] == '\t' || s[0] == '\r')
                 && !plain_number(s);
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

/* Writes the decimal digits of u backwards ending at end; returns start. */
static char *put_digits(char *end, unsigned long long u)
{
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return end;
}

static const double pow10_tab[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
    1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19
};

/*
 * Numbers are most of the output, and printf's exact decimal conversion is
 * slow; this writes the same kind of text ("%.10g" without an exponent for
 * moderate magnitudes) from one scaled integer.  The last digit may differ
 * from printf's in rare halfway cases; the text is the same on every run.
 */
int buf_num(struct buf *b, double v, struct eng_err *err)
{
    if (isnan(v))
        return ENG_OK;
    if (v == 0)
        return buf_add(b, "0", 1, err);
    char tmp[48];
    char *end = tmp + sizeof(tmp);
    double a = fabs(v);
    if (v == floor(v) && a < 1e15) {
        char *p = put_digits(end, (unsigned long long)a);
        if (v < 0)
            *--p = '-';
        return buf_add(b, p, (size_t)(end - p), err);
    }
    int e = (int)floor(log10(a));
    if (e < -4 || e >= 10)
        return buf_printf(b, err, "%.10g", v);
    /* ten significant digits: a * 10^(9 - e) as an integer */
    int k = 9 - e;
    double scaled = k >= 0 ? a * pow10_tab[k] : a / pow10_tab[-k];
    unsigned long long m = (unsigned long long)llround(scaled);
    if (m >= 10000000000ull) {      /* rounded up to eleven digits */
        m /= 10;
        k--;
    }
    /* k digits after the decimal point; drop trailing zeros */
    while (k > 0 && m % 10 == 0) {
        m /= 10;
        k--;
    }
    char *p;
    if (k <= 0) {
        for (int i = 0; i < -k; i++)
            *--end = '0';
        p = put_digits(end, m);
    } else {
        char digits[24];
        char *dend = digits + sizeof(digits);
        char *d = put_digits(dend, m);
        int nd = (int)(dend - d);
        p = end;
        if (nd > k) {
            /* integer part and fraction */
            size_t frac = (size_t)k;
            p -= frac;
            memcpy(p, dend - frac, frac);
            *--p = '.';
            size_t ip = (size_t)(nd - k);
            p -= ip;
            memcpy(p, d, ip);
        } else {
            size_t nf = (size_t)nd;
            p -= nf;
            memcpy(p, d, nf);
            for (int i = nd; i < k; i++)
                *--p = '0';
            *--p = '.';
            *--p = '0';
        }
    }
    if (v < 0)
        *--p = '-';
    return buf_add(b, p, (size_t)(end - p), err);
}

int buf_json_str(struct buf *b, const char *s, struct eng_err *err)
{
    int rc = buf_add(b, "\"", 1, err);
    for (const unsigned char *p = (const unsigned char *)s;
         rc == ENG_OK && p && *p; p++) {
        if (*p == '"' || *p == '\\')
            rc = buf_printf(b, err, "\\%c", *p);
        else if (*p < 0x20)
            rc = buf_printf(b, err, "\\u%04x", *p);
        else
            rc = buf_add(b, p, 1, err);
    }
    return rc == ENG_OK ? buf_add(b, "\"", 1, err) : rc;
}
