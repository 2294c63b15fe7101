/* jscan — strict, allocation-free JSON pull scanner. */
#include "jscan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void js_init(struct js *s, const char *text, size_t len)
{
    s->start = text;
    s->p = text;
    s->end = text + len;
    s->depth = 0;
    s->failed = 0;
    s->err_off = 0;
    s->err_what = NULL;
}

static int fail(struct js *s, const char *what)
{
    if (!s->failed) {
        s->failed = 1;
        s->err_off = (size_t)(s->p - s->start);
        s->err_what = what;
    }
    return -1;
}

static void skip_ws(struct js *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
                             *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

enum js_type js_peek(struct js *s)
{
    if (s->failed)
        return JS_ERROR;
    skip_ws(s);
    if (s->p >= s->end) {
        fail(s, "unexpected end of input");
        return JS_ERROR;
    }
    switch (*s->p) {
    case '{': return JS_OBJECT;
    case '[': return JS_ARRAY;
    case '"': return JS_STRING;
    case 't': return JS_TRUE;
    case 'f': return JS_FALSE;
    case 'n': return JS_NULL;
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return JS_NUMBER;
        fail(s, "unexpected character");
        return JS_ERROR;
    }
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Appends a code point as UTF-8 if it fits; returns bytes it needed. */
static size_t put_utf8(unsigned cp, char *out, size_t room)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (n <= room)
        memcpy(out, b, n);
    return n;
}

int js_string(struct js *s, char *out, size_t cap, size_t *len)
{
    if (js_peek(s) != JS_STRING)
        return fail(s, "expected a string");
    s->p++;
    size_t n = 0;
    size_t room = cap ? cap - 1 : 0;
    int full = 0;   /* once something did not fit, store nothing more */
    for (;;) {
        /* the plain run up to the next quote, backslash or control byte */
        const char *q = s->p;
        while (q < s->end && *q != '"' && *q != '\\' &&
               (unsigned char)*q >= 0x20)
            q++;
        size_t run = (size_t)(q - s->p);
        if (!full) {
            size_t take = run <= room - n ? run : room - n;
            /* a cut never splits a UTF-8 character: back up over the
             * continuation bytes (10xxxxxx) of the one that does not fit */
            while (take < run && take > 0 &&
                   ((unsigned char)s->p[take] & 0xC0) == 0x80)
                take--;
            memcpy(out + n, s->p, take);
            n += take;
            full = take < run;
        }
        s->p = q;
        if (q >= s->end)
            return fail(s, "unterminated string");
        if (*q == '"')
            break;
        if ((unsigned char)*q < 0x20)
            return fail(s, "control character in string");
        /* an escape */
        if (s->end - q < 2)
            return fail(s, "unterminated string");
        char e = q[1];
        unsigned cp;
        s->p = q + 2;
        switch (e) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (s->end - s->p < 4 || hex4(s->p, &cp) < 0)
                return fail(s, "bad \\u escape");
            s->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u' &&
                    hex4(s->p + 2, &lo) == 0 && lo >= 0xDC00 &&
                    lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    s->p += 6;
                } else {
                    cp = 0xFFFD;       /* a lone surrogate */
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            break;
        default:
            s->p = q + 1;
            return fail(s, "bad escape");
        }
        if (!full) {
            size_t need = put_utf8(cp, out + n, room - n);
            if (need <= room - n)
                n += need;
            else
                full = 1;
        }
    }
    s->p++;                 /* the closing quote */
    if (cap)
        out[n] = '\0';
    if (len)
        *len = n;
    return 0;
}

/* Exact powers of ten a double holds. */
static const double pow10_exact[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

int js_number(struct js *s, double *v)
{
    if (js_peek(s) != JS_NUMBER)
        return fail(s, "expected a number");
    const char *p = s->p, *b = p;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    unsigned long long mant = 0;
    int digits = 0, scale = 0;
    if (p < s->end && *p == '0') {
        p++;
        /* "01" is not a number followed by another: say so here, where a
         * caller that reads a number last would otherwise accept it */
        if (p < s->end && *p >= '0' && *p <= '9') {
            s->p = p;
            return fail(s, "leading zero");
        }
    } else if (p < s->end && *p >= '1' && *p <= '9') {
        while (p < s->end && *p >= '0' && *p <= '9') {
            if (digits < 19)
                mant = mant * 10 + (unsigned)(*p - '0');
            else
                scale++;
            digits += mant != 0 || digits;
            p++;
        }
    } else {
        s->p = p;
        return fail(s, "bad number");
    }
    if (p < s->end && *p == '.') {
        p++;
        if (p >= s->end || *p < '0' || *p > '9') {
            s->p = p;
            return fail(s, "bad number");
        }
        while (p < s->end && *p >= '0' && *p <= '9') {
            if (digits < 19) {
                mant = mant * 10 + (unsigned)(*p - '0');
                scale--;
                digits += mant != 0 || digits;
            }
            p++;
        }
    }
    int exp10 = 0;
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < s->end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= s->end || *p < '0' || *p > '9') {
            s->p = p;
            return fail(s, "bad number");
        }
        while (p < s->end && *p >= '0' && *p <= '9') {
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            exp10 = -exp10;
    }
    s->p = p;
    int e = scale + exp10;
    double x;
    if (digits <= 15 && e >= -22 && e <= 22) {
        /* both factors exact: one correctly rounded operation */
        x = (double)mant;
        x = e < 0 ? x / pow10_exact[-e] : x * pow10_exact[e];
    } else {
        /* rare: let strtod round the text exactly */
        char tmp[JS_MAX_NUMBER_LEN + 1];
        size_t n = (size_t)(p - b);
        if (n >= sizeof(tmp))
            return fail(s, "number too long");
        memcpy(tmp, b, n);
        tmp[n] = '\0';
        x = strtod(tmp, NULL);
        neg = 0;
    }
    /* valid JSON past the double range reads as an infinity: the caller
     * judges the value, the text is not wrong */
    *v = neg ? -x : x;
    return 0;
}

static int match(struct js *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail(s, "bad literal");
    s->p += n;
    return 0;
}

enum js_type js_literal(struct js *s)
{
    enum js_type t = js_peek(s);
    int rc = t == JS_TRUE ? match(s, "true", 4)
             : t == JS_FALSE ? match(s, "false", 5)
             : t == JS_NULL ? match(s, "null", 4)
             : fail(s, "expected a literal");
    return rc < 0 ? JS_ERROR : t;
}

static int open_container(struct js *s, char c, enum js_type t)
{
    if (js_peek(s) != t)
        return fail(s, c == '{' ? "expected an object" : "expected an array");
    if (s->depth >= JS_MAX_DEPTH)
        return fail(s, "nested too deeply");
    s->p++;
    s->first[s->depth++] = 1;
    return 0;
}

int js_object_begin(struct js *s)
{
    return open_container(s, '{', JS_OBJECT);
}

int js_array_begin(struct js *s)
{
    return open_container(s, '[', JS_ARRAY);
}

/* Eats the comma before an element, or the closing bracket: 1, 0, -1. */
static int next_element(struct js *s, char close)
{
    if (s->failed)
        return -1;
    skip_ws(s);
    if (s->p >= s->end)
        return fail(s, "unexpected end of input");
    int first = s->first[s->depth - 1];
    if (*s->p == close) {
        s->p++;
        s->depth--;
        return 0;
    }
    if (!first) {
        if (*s->p != ',')
            return fail(s, "expected ',' or a closing bracket");
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close)
            return fail(s, "trailing comma");
    }
    s->first[s->depth - 1] = 0;
    return 1;
}

int js_object_next(struct js *s, char *key, size_t cap)
{
    int rc = next_element(s, '}');
    if (rc <= 0)
        return rc;
    if (js_peek(s) != JS_STRING)
        return fail(s, "expected a member name");
    if (js_string(s, key, cap, NULL) < 0)
        return -1;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return fail(s, "expected ':'");
    s->p++;
    return 1;
}

int js_array_next(struct js *s)
{
    return next_element(s, ']');
}

int js_skip(struct js *s)
{
    char scratch[1];
    double d;
    int rc;
    switch (js_peek(s)) {
    case JS_STRING:
        return js_string(s, scratch, 0, NULL);
    case JS_NUMBER:
        return js_number(s, &d);
    case JS_TRUE:
    case JS_FALSE:
    case JS_NULL:
        return js_literal(s) == JS_ERROR ? -1 : 0;
    case JS_ARRAY:
        if (js_array_begin(s) < 0)
            return -1;
        while ((rc = js_array_next(s)) == 1) {
            if (js_skip(s) < 0)
                return -1;
        }
        return rc;
    case JS_OBJECT:
        if (js_object_begin(s) < 0)
            return -1;
        while ((rc = js_object_next(s, scratch, 0)) == 1) {
            if (js_skip(s) < 0)
                return -1;
        }
        return rc;
    default:
        return -1;
    }
}

int js_span(struct js *s, struct js_span *v)
{
    if (js_peek(s) == JS_ERROR)
        return -1;
    size_t off = (size_t)(s->p - s->start);
    if (js_skip(s) < 0)
        return -1;
    v->off = off;
    v->len = (size_t)(s->p - s->start) - off;
    return 0;
}

size_t js_offset(const struct js *s)
{
    return (size_t)(s->p - s->start);
}

int js_finish(struct js *s)
{
    if (s->failed)
        return -1;
    skip_ws(s);
    return s->p == s->end ? 0 : fail(s, "trailing data");
}
