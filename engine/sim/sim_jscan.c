/* sim_jscan — validating JSON span scanner. */
#include "sim_jscan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int hexdigit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* p at the opening quote; returns just past the closing one, or NULL. */
static const char *scan_string(const char *p, const char *end,
                               const char **bad)
{
    p++;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20) {
            *bad = p;
            return NULL;
        }
        if (c != '\\') {
            p++;
            continue;
        }
        if (p + 1 >= end) {
            *bad = p;
            return NULL;
        }
        switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            p += 2;
            break;
        case 'u':
            for (int i = 2; i < 6; i++) {
                if (p + i >= end || hexdigit((unsigned char)p[i]) < 0) {
                    *bad = p;
                    return NULL;
                }
            }
            p += 6;
            break;
        default:
            *bad = p;
            return NULL;
        }
    }
    *bad = p;
    return NULL;
}

static const char *digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

/* RFC 8259 number; returns just past it, or NULL. */
static const char *scan_number(const char *p, const char *end,
                               const char **bad)
{
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        p = digits(p, end);
    } else {
        *bad = p;
        return NULL;
    }
    if (p < end && *p == '.') {
        const char *q = digits(p + 1, end);
        if (q == p + 1) {
            *bad = q;
            return NULL;
        }
        p = q;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const char *q = digits(p, end);
        if (q == p) {
            *bad = q;
            return NULL;
        }
        p = q;
    }
    return p;
}

static const char *scan_literal(const char *p, const char *end,
                                const char *lit, const char **bad)
{
    size_t n = strlen(lit);
    if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0) {
        *bad = p;
        return NULL;
    }
    return p + n;
}

/*
 * Iterative scan with an explicit stack of open containers, so deep input
 * cannot exhaust the C stack.  Returns just past the value, or NULL with
 * *bad at the offending byte.
 */
static const char *scan(const char *p, const char *end, const char **bad)
{
    enum { WANT_VALUE, WANT_KEY, AFTER_VALUE } state = WANT_VALUE;
    char closer[SIM_JSCAN_MAX_DEPTH];
    int depth = 0;
    for (;;) {
        if (state == AFTER_VALUE && depth == 0)
            return p;
        p = skip_ws(p, end);
        if (p >= end) {
            *bad = p;
            return NULL;
        }
        if (state == WANT_KEY) {
            if (*p != '"') {
                *bad = p;
                return NULL;
            }
            p = scan_string(p, end, bad);
            if (!p)
                return NULL;
            p = skip_ws(p, end);
            if (p >= end || *p != ':') {
                *bad = p;
                return NULL;
            }
            p++;
            state = WANT_VALUE;
        } else if (state == AFTER_VALUE) {
            if (*p == closer[depth - 1]) {
                depth--;
                p++;
            } else if (*p == ',') {
                p++;
                state = closer[depth - 1] == '}' ? WANT_KEY : WANT_VALUE;
            } else {
                *bad = p;
                return NULL;
            }
        } else if (*p == '{' || *p == '[') {
            if (depth == SIM_JSCAN_MAX_DEPTH) {
                *bad = p;
                return NULL;
            }
            char close = *p == '{' ? '}' : ']';
            closer[depth++] = close;
            p = skip_ws(p + 1, end);
            if (p < end && *p == close) {
                depth--;
                p++;
                state = AFTER_VALUE;
            } else {
                state = close == '}' ? WANT_KEY : WANT_VALUE;
            }
        } else {
            if (*p == '"')
                p = scan_string(p, end, bad);
            else if (*p == 't')
                p = scan_literal(p, end, "true", bad);
            else if (*p == 'f')
                p = scan_literal(p, end, "false", bad);
            else if (*p == 'n')
                p = scan_literal(p, end, "null", bad);
            else
                p = scan_number(p, end, bad);
            if (!p)
                return NULL;
            state = AFTER_VALUE;
        }
    }
}

int sim_jscan_value(const char **p, const char *end, struct sim_jspan *v,
                    struct eng_err *err)
{
    const char *start = skip_ws(*p, end);
    const char *bad = start;
    const char *stop = scan(start, end, &bad);
    if (!stop) {
        *p = bad;
        return eng_err_set(err, ENG_EJSON, "bad JSON");
    }
    v->p = start;
    v->n = (size_t)(stop - start);
    *p = stop;
    return ENG_OK;
}

int sim_jscan_document(const char *text, size_t len, struct sim_jspan *v,
                       size_t *bad_at, struct eng_err *err)
{
    const char *p = text;
    const char *end = text + len;
    struct sim_jspan s;
    if (sim_jscan_value(&p, end, &s, NULL) == ENG_OK) {
        p = skip_ws(p, end);
        if (p == end) {
            *v = s;
            return ENG_OK;
        }
    }
    if (bad_at)
        *bad_at = (size_t)(p - text);
    return eng_err_set(err, ENG_EJSON, "bad JSON at byte %zu",
                       (size_t)(p - text));
}

enum sim_jtype sim_jscan_type(const struct sim_jspan *v)
{
    switch (v->n ? v->p[0] : 'n') {
    case '{': return SIM_JOBJECT;
    case '[': return SIM_JARRAY;
    case '"': return SIM_JSTRING;
    case 't': case 'f': return SIM_JBOOL;
    case 'n': return SIM_JNULL;
    default: return SIM_JNUMBER;
    }
}

void sim_jscan_iter_init(struct sim_jiter *it, const struct sim_jspan *v)
{
    enum sim_jtype t = sim_jscan_type(v);
    it->object = t == SIM_JOBJECT;
    it->bad = !(t == SIM_JOBJECT || t == SIM_JARRAY) || v->n < 2;
    it->done = it->bad;
    it->count = 0;
    it->p = v->p + 1;
    it->end = v->p + v->n - 1;  /* the closing bracket */
}

int sim_jscan_next(struct sim_jiter *it, struct sim_jspan *key,
                   struct sim_jspan *val)
{
    if (it->bad)
        return -1;
    if (it->done)
        return 0;
    const char *p = skip_ws(it->p, it->end);
    if (p >= it->end) {
        it->done = 1;
        return 0;
    }
    if (it->count > 0) {
        if (*p != ',') {
            it->bad = 1;
            return -1;
        }
        p = skip_ws(p + 1, it->end);
        if (p >= it->end) {    /* a trailing comma */
            it->bad = 1;
            return -1;
        }
    }
    struct sim_jspan k;
    if (it->object) {
        if (p >= it->end || *p != '"'
            || sim_jscan_value(&p, it->end, &k, NULL) < 0) {
            it->bad = 1;
            return -1;
        }
        p = skip_ws(p, it->end);
        if (p >= it->end || *p != ':') {
            it->bad = 1;
            return -1;
        }
        p++;
        if (key)
            *key = k;
    }
    if (sim_jscan_value(&p, it->end, val, NULL) < 0) {
        it->bad = 1;
        return -1;
    }
    it->p = p;
    it->count++;
    return 1;
}

/* Appends code point cp as UTF-8; returns the bytes written or 0. */
static size_t put_utf8(unsigned long cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static unsigned long hex4(const char *p)
{
    unsigned long v = 0;
    for (int i = 0; i < 4; i++)
        v = v * 16 + (unsigned long)hexdigit((unsigned char)p[i]);
    return v;
}

int sim_jscan_string(const struct sim_jspan *v, char *out, size_t cap,
                     size_t *len)
{
    if (sim_jscan_type(v) != SIM_JSTRING || v->n < 2 || cap == 0)
        return ENG_EDATA;
    const char *p = v->p + 1;
    const char *end = v->p + v->n - 1;
    size_t n = 0;
    while (p < end) {
        char tmp[4];
        size_t k = 1;
        if (*p != '\\') {
            tmp[0] = *p++;
        } else {
            char e = p[1];
            p += 2;
            switch (e) {
            case 'b': tmp[0] = '\b'; break;
            case 'f': tmp[0] = '\f'; break;
            case 'n': tmp[0] = '\n'; break;
            case 'r': tmp[0] = '\r'; break;
            case 't': tmp[0] = '\t'; break;
            case 'u': {
                unsigned long cp = hex4(p);
                p += 4;
                if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6
                    && p[0] == '\\' && p[1] == 'u') {
                    unsigned long lo = hex4(p + 2);
                    if (lo >= 0xdc00 && lo < 0xe000) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        p += 6;
                    }
                }
                if (cp == 0)
                    return ENG_EDATA;
                if (cp >= 0xd800 && cp < 0xe000)
                    cp = 0xfffd;    /* a lone surrogate */
                k = put_utf8(cp, tmp);
                break;
            }
            default: tmp[0] = e; break;
            }
        }
        if (n + k >= cap) {
            out[n] = '\0';
            return ENG_ELIMIT;
        }
        memcpy(out + n, tmp, k);
        n += k;
    }
    out[n] = '\0';
    if (len)
        *len = n;
    return ENG_OK;
}

int sim_jscan_string_is(const struct sim_jspan *v, const char *lit)
{
    size_t n = strlen(lit);
    if (sim_jscan_type(v) != SIM_JSTRING)
        return 0;
    if (v->n == n + 2 && memchr(v->p, '\\', v->n) == NULL)
        return memcmp(v->p + 1, lit, n) == 0;
    char buf[256];
    size_t len;
    return n < sizeof(buf) && sim_jscan_string(v, buf, sizeof(buf), &len) == 0
           && len == n && memcmp(buf, lit, n) == 0;
}

int sim_jscan_number(const struct sim_jspan *v, double *out)
{
    char buf[64];
    struct sim_jspan num = *v;
    if (sim_jscan_type(v) == SIM_JSTRING) {
        size_t len;
        if (sim_jscan_string(v, buf, sizeof(buf), &len) != ENG_OK)
            return ENG_EDATA;
        num.p = buf;
        num.n = len;
        const char *bad = NULL;
        const char *stop = scan_number(buf, buf + len, &bad);
        if (len == 0 || stop != buf + len)
            return ENG_EDATA;
    } else if (sim_jscan_type(v) == SIM_JNUMBER) {
        if (v->n >= sizeof(buf))
            return ENG_EDATA;
        memcpy(buf, v->p, v->n);
        buf[v->n] = '\0';
    } else {
        return ENG_EDATA;
    }
    errno = 0;
    char *end = NULL;
    double d = strtod(buf, &end);
    if (errno == ERANGE || end != buf + num.n)
        return ENG_EDATA;
    *out = d;
    return ENG_OK;
}
