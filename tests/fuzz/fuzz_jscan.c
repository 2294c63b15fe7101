/*
 * fuzz_jscan — the JSON pull scanner (jscan).
 *
 * The target walks the whole text with the typed calls and checks after
 * every step that the scanner's position stays within the text and only
 * moves forward; that after the first error every call fails and the
 * error's offset lies within the text; that js_skip() of a value ends where
 * walking it ends; that a string read into a small buffer is a prefix of
 * the same string read whole, NUL-terminated, cut at a character boundary;
 * that js_peek() names the value that follows; and that a text jscan
 * accepts whole (strict RFC 8259) cJSON accepts too, but for a lone
 * surrogate escape, which jscan reads as U+FFFD and cJSON refuses.
 */
#include <cJSON.h>
#include <string.h>

#include "fuzz.h"
#include "jscan.h"

static const char *text_end;

static void check_pos(const struct js *s, const char **last)
{
    FUZZ_CHECK(s->start <= s->p && s->p <= s->end && s->end == text_end);
    FUZZ_CHECK(s->p >= *last);
    FUZZ_CHECK(s->depth >= 0 && s->depth <= JS_MAX_DEPTH);
    if (s->failed) {
        FUZZ_CHECK(s->err_off <= (size_t)(s->end - s->start));
        FUZZ_CHECK(s->err_what != NULL);
    }
    *last = s->p;
}

static int utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
                   : (c >> 3) == 30 ? 4 : 0;
        if (k == 0 || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
        }
        i += k;
    }
    return 1;
}

/* A \\uD800..\\uDFFF escape somewhere (a backslash before it is enough). */
static int surrogate_escape(const char *p, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++) {
        if (p[i] == '\\' && p[i + 1] == 'u' && (p[i + 2] | 0x20) == 'd'
            && strchr("89abcdefABCDEF", p[i + 3]) && p[i + 3])
            return 1;
    }
    return 0;
}

static char big[70000];

static int walk(struct js *s, const char **last);

static int walk_string(struct js *s, const char **last)
{
    struct js t = *s;
    char small[6];
    size_t ns = 99, nb = 99;
    int a = js_string(&t, small, sizeof(small), &ns);
    int b = js_string(s, big, sizeof(big), &nb);
    check_pos(s, last);
    FUZZ_CHECK(a == b && t.p == s->p);
    if (b < 0)
        return -1;
    FUZZ_CHECK(ns < sizeof(small) && small[ns] == '\0');
    FUZZ_CHECK(nb < sizeof(big) && big[nb] == '\0');
    FUZZ_CHECK(ns <= nb && memcmp(small, big, ns) == 0);
    if (nb < sizeof(big) - 1 && utf8_valid((const unsigned char *)big, nb))
        FUZZ_CHECK(utf8_valid((const unsigned char *)small, ns));
    return 0;
}

static int walk(struct js *s, const char **last)
{
    struct js skip = *s;
    int sk = js_skip(&skip);
    enum js_type t = js_peek(s);
    check_pos(s, last);
    int rc;
    const char *p0 = s->p;
    switch (t) {
    case JS_STRING:
        FUZZ_CHECK(*p0 == '"');
        rc = walk_string(s, last);
        break;
    case JS_NUMBER: {
        double v;
        FUZZ_CHECK(*p0 == '-' || (*p0 >= '0' && *p0 <= '9'));
        rc = js_number(s, &v);
        FUZZ_CHECK(rc == 0 || rc == -1);
        break;
    }
    case JS_NULL:
    case JS_TRUE:
    case JS_FALSE: {
        enum js_type l = js_literal(s);
        FUZZ_CHECK(l == t || l == JS_ERROR);
        rc = l == t ? 0 : -1;
        break;
    }
    case JS_ARRAY:
        FUZZ_CHECK(*p0 == '[');
        rc = js_array_begin(s);
        while (rc == 0) {
            check_pos(s, last);
            int n = js_array_next(s);
            if (n <= 0) {
                rc = n;
                break;
            }
            rc = walk(s, last);
        }
        break;
    case JS_OBJECT:
        FUZZ_CHECK(*p0 == '{');
        rc = js_object_begin(s);
        while (rc == 0) {
            char key[8];
            check_pos(s, last);
            int n = js_object_next(s, key, sizeof(key));
            check_pos(s, last);
            if (n <= 0) {
                rc = n;
                break;
            }
            FUZZ_CHECK(memchr(key, '\0', sizeof(key)));
            rc = walk(s, last);
        }
        break;
    default:
        rc = -1;
        FUZZ_CHECK(t == JS_ERROR);
    }
    check_pos(s, last);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK((rc < 0) == (s->failed != 0));
    /* skipping the value agrees with walking it */
    FUZZ_CHECK(sk == rc);
    if (rc == 0)
        FUZZ_CHECK(skip.p == s->p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct js s;
    const char *text = (const char *)data;
    text_end = text + size;
    js_init(&s, text, size);
    const char *last = text;
    check_pos(&s, &last);
    int rc = walk(&s, &last);
    if (rc == 0)
        rc = js_finish(&s);
    check_pos(&s, &last);
    if (rc < 0) {
        /* the first error sticks */
        FUZZ_CHECK(s.failed);
        size_t off = s.err_off;
        FUZZ_CHECK(js_peek(&s) == JS_ERROR && js_skip(&s) == -1);
        FUZZ_CHECK(js_finish(&s) == -1 && s.err_off == off);
        return 0;
    }
    cJSON *o = cJSON_ParseWithLength(text, size);
    FUZZ_CHECK(o != NULL || surrogate_escape(text, size));
    cJSON_Delete(o);
    return 0;
}
