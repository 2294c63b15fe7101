/*
 * Tests for jscan: every value type through the pull calls, string escapes
 * and truncation, the number grammar and its values (bit-for-bit against
 * strtod on 10,000 random decimals), nesting, each kind of bad input with
 * the offset the scanner reports, and the spans of values.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "jscan.h"

/* Skips one value and checks that nothing follows: 0 valid, -1 not. */
static int scan_all(const char *text, size_t len, struct js *s)
{
    js_init(s, text, len);
    if (js_skip(s) < 0)
        return -1;
    return js_finish(s);
}

static int valid(const char *text)
{
    struct js s;
    return scan_all(text, strlen(text), &s) == 0;
}

/* The offset of the first error of text (which must be invalid). */
static size_t error_offset(const char *text)
{
    struct js s;
    int rc = scan_all(text, strlen(text), &s);
    CU_ASSERT_EQUAL(rc, -1);
    CU_ASSERT_EQUAL(s.failed, 1);
    return s.err_off;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

/* Reads text as one number and the end of input: 0, or -1. */
static int read_number(const char *text, double *v)
{
    struct js s;
    js_init(&s, text, strlen(text));
    if (js_number(&s, v) < 0)
        return -1;
    return js_finish(&s);
}

/* Reads text as one string into a buffer of cap bytes: 0, or -1. */
static int read_string(const char *text, char *out, size_t cap, size_t *len)
{
    struct js s;
    js_init(&s, text, strlen(text));
    if (js_string(&s, out, cap, len) < 0)
        return -1;
    return js_finish(&s);
}

/* ============================ Values ============================ */

static void test_jscan_reads_every_value_type(void)
{
    static const char doc[] =
        " {\"s\": \"text\", \"n\": -12.5e1, \"t\": true, \"f\": false,\n"
        "   \"z\": null, \"a\": [1, \"two\", [], {}], \"o\": {\"k\": 0}} ";
    struct js s;
    js_init(&s, doc, strlen(doc));
    char key[16], str[16];
    double v;
    CU_ASSERT_EQUAL(js_peek(&s), JS_OBJECT);
    CU_ASSERT_EQUAL(js_object_begin(&s), 0);

    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
    CU_ASSERT_STRING_EQUAL(key, "s");
    CU_ASSERT_EQUAL(js_peek(&s), JS_STRING);
    CU_ASSERT_EQUAL(js_string(&s, str, sizeof(str), NULL), 0);
    CU_ASSERT_STRING_EQUAL(str, "text");

    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
    CU_ASSERT_STRING_EQUAL(key, "n");
    CU_ASSERT_EQUAL(js_peek(&s), JS_NUMBER);
    CU_ASSERT_EQUAL(js_number(&s, &v), 0);
    CU_ASSERT_DOUBLE_EQUAL(v, -125.0, 0);

    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
    CU_ASSERT_EQUAL(js_peek(&s), JS_TRUE);
    CU_ASSERT_EQUAL(js_literal(&s), JS_TRUE);
    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
    CU_ASSERT_EQUAL(js_peek(&s), JS_FALSE);
    CU_ASSERT_EQUAL(js_literal(&s), JS_FALSE);
    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
    CU_ASSERT_STRING_EQUAL(key, "z");
    CU_ASSERT_EQUAL(js_peek(&s), JS_NULL);
    CU_ASSERT_EQUAL(js_literal(&s), JS_NULL);

    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
    CU_ASSERT_STRING_EQUAL(key, "a");
    CU_ASSERT_EQUAL(js_peek(&s), JS_ARRAY);
    CU_ASSERT_EQUAL(js_array_begin(&s), 0);
    CU_ASSERT_EQUAL(js_array_next(&s), 1);
    CU_ASSERT_EQUAL(js_number(&s, &v), 0);
    CU_ASSERT_DOUBLE_EQUAL(v, 1.0, 0);
    CU_ASSERT_EQUAL(js_array_next(&s), 1);
    CU_ASSERT_EQUAL(js_string(&s, str, sizeof(str), NULL), 0);
    CU_ASSERT_STRING_EQUAL(str, "two");
    CU_ASSERT_EQUAL(js_array_next(&s), 1);
    CU_ASSERT_EQUAL(js_array_begin(&s), 0);
    CU_ASSERT_EQUAL(js_array_next(&s), 0);          /* [] */
    CU_ASSERT_EQUAL(js_array_next(&s), 1);
    CU_ASSERT_EQUAL(js_object_begin(&s), 0);
    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 0);  /* {} */
    CU_ASSERT_EQUAL(js_array_next(&s), 0);

    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
    CU_ASSERT_STRING_EQUAL(key, "o");
    CU_ASSERT_EQUAL(js_skip(&s), 0);
    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 0);
    CU_ASSERT_EQUAL(js_finish(&s), 0);
    CU_ASSERT_EQUAL(s.failed, 0);
}

static void test_jscan_reads_scalars_as_whole_documents(void)
{
    static const char *const ok[] = {
        "0", "-0", "7", "\"\"", "\"x\"", "true", "false", "null", "[]",
        "{}", " \t\r\n[ ]\n", "[[[]]]", "{\"\":{}}"
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        CU_ASSERT_TRUE(valid(ok[i]));
}

static void test_jscan_literals_must_be_spelled_exactly(void)
{
    static const char *const bad[] = {
        "tru", "nul", "fals", "True", "NULL", "truex", "nulll", "t", "f"
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(valid(bad[i]));
    struct js s;
    js_init(&s, "tru", 3);
    CU_ASSERT_EQUAL(js_literal(&s), JS_ERROR);
    CU_ASSERT_STRING_EQUAL(s.err_what, "bad literal");
}

static void test_jscan_calls_check_the_type_they_consume(void)
{
    struct js s;
    double v;
    char buf[8];
    js_init(&s, "\"1\"", 3);
    CU_ASSERT_EQUAL(js_number(&s, &v), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "expected a number");
    js_init(&s, "1", 1);
    CU_ASSERT_EQUAL(js_string(&s, buf, sizeof(buf), NULL), -1);
    js_init(&s, "[]", 2);
    CU_ASSERT_EQUAL(js_object_begin(&s), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "expected an object");
    js_init(&s, "{}", 2);
    CU_ASSERT_EQUAL(js_array_begin(&s), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "expected an array");
    js_init(&s, "1", 1);
    CU_ASSERT_EQUAL(js_literal(&s), JS_ERROR);
}

static void test_jscan_errors_are_sticky(void)
{
    struct js s;
    static const char doc[] = "[x, 1]";
    js_init(&s, doc, strlen(doc));
    CU_ASSERT_EQUAL(js_array_begin(&s), 0);
    CU_ASSERT_EQUAL(js_array_next(&s), 1);
    CU_ASSERT_EQUAL(js_peek(&s), JS_ERROR);
    CU_ASSERT_EQUAL(s.err_off, 1);
    /* every later call fails and the first error is kept */
    CU_ASSERT_EQUAL(js_array_next(&s), -1);
    CU_ASSERT_EQUAL(js_peek(&s), JS_ERROR);
    CU_ASSERT_EQUAL(js_skip(&s), -1);
    CU_ASSERT_EQUAL(js_finish(&s), -1);
    CU_ASSERT_EQUAL(s.err_off, 1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "unexpected character");
}

/* ============================ Strings ============================ */

static void test_jscan_decodes_simple_escapes(void)
{
    char out[32];
    size_t len = 99;
    CU_ASSERT_EQUAL(read_string("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"",
                                out, sizeof(out), &len), 0);
    CU_ASSERT_STRING_EQUAL(out, "a\"b\\c/d\be\ff\ng\rh\ti");
    CU_ASSERT_EQUAL(len, 17);
    CU_ASSERT_EQUAL(read_string("\"\"", out, sizeof(out), &len), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_EQUAL(len, 0);
}

static void test_jscan_decodes_unicode_escapes_to_utf8(void)
{
    static const struct {
        const char *json, *utf8;
    } cases[] = {
        {"\"\\u0041\"", "A"},
        {"\"\\u00e9\\u00E9\"", "\xc3\xa9\xc3\xa9"},
        {"\"\\u07ff\"", "\xdf\xbf"},
        {"\"\\u0800\"", "\xe0\xa0\x80"},
        {"\"\\u20ac\"", "\xe2\x82\xac"},
        {"\"\\uffff\"", "\xef\xbf\xbf"},
        /* a valid pair is one code point in four bytes */
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"},
        {"\"\\uD800\\uDC00\"", "\xf0\x90\x80\x80"},
        {"\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf"},
        /* lone surrogates become U+FFFD, what follows is kept */
        {"\"\\ud800\"", "\xef\xbf\xbd"},
        {"\"\\ud800x\"", "\xef\xbf\xbdx"},
        {"\"\\udc00\"", "\xef\xbf\xbd"},
        {"\"\\ude00\\ud83d\"", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\"\\ud83d\\u0041\"", "\xef\xbf\xbd" "A"},
        {"\"\\ud83d\\ud83d\\ude00\"", "\xef\xbf\xbd\xf0\x9f\x98\x80"},
        {"\"\\ud83d\\n\"", "\xef\xbf\xbd\n"},
        /* raw UTF-8 passes through */
        {"\"caf\xc3\xa9\"", "caf\xc3\xa9"},
        {"\"\x7f\"", "\x7f"},
        /* \u0000 is stored (the length tells) */
        {"\"a\\u0000b\"", "a"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[32];
        size_t len;
        CU_ASSERT_EQUAL(read_string(cases[i].json, out, sizeof(out), &len),
                        0);
        CU_ASSERT_STRING_EQUAL(out, cases[i].utf8);
    }
    char out[8];
    size_t len;
    CU_ASSERT_EQUAL(read_string("\"a\\u0000b\"", out, sizeof(out), &len), 0);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_EQUAL(memcmp(out, "a\0b", 4), 0);
}

static void test_jscan_rejects_bad_escapes(void)
{
    static const char *const bad[] = {
        "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\u\"", "\"\\U0041\"",
        "\"\\'\"", "\"\\0\"", "\"\\", "\"\\u00", "\"abc\\\""
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(valid(bad[i]));
    CU_ASSERT_EQUAL(error_offset("\"ab\\x\""), 4);     /* the 'x' */
    CU_ASSERT_EQUAL(error_offset("[\"\\u12g4\"]"), 4); /* after \u */
}

static void test_jscan_rejects_control_characters_in_strings(void)
{
    for (int c = 0; c < 0x20; c++) {
        char doc[8] = {'"', 'a', 'b', (char)c, 'c', '"', '\0'};
        struct js s;
        CU_ASSERT_EQUAL(scan_all(doc, 6, &s), -1);
        CU_ASSERT_EQUAL(s.err_off, 3);
        CU_ASSERT_STRING_EQUAL(s.err_what, "control character in string");
    }
    /* DEL is not a control character for JSON */
    CU_ASSERT_TRUE(valid("\"a\x7f\""));
    /* nor is a control character outside strings an error (white space) */
    CU_ASSERT_TRUE(valid("\t[\r\n1\t]"));
    CU_ASSERT_FALSE(valid("[1,\f2]"));
}

static void test_jscan_truncates_long_strings_and_still_checks_them(void)
{
    char out[8];
    size_t len = 99;
    CU_ASSERT_EQUAL(read_string("\"abcdefghijklmnop\"", out, sizeof(out),
                                &len), 0);
    CU_ASSERT_STRING_EQUAL(out, "abcdefg");
    CU_ASSERT_EQUAL(len, 7);
    /* exactly cap - 1 bytes fit */
    CU_ASSERT_EQUAL(read_string("\"abcdefg\"", out, sizeof(out), &len), 0);
    CU_ASSERT_STRING_EQUAL(out, "abcdefg");
    /* an escape that does not fit is not stored in part ... */
    CU_ASSERT_EQUAL(read_string("\"abcde\\u20ac\"", out, sizeof(out), &len),
                    0);
    CU_ASSERT_STRING_EQUAL(out, "abcde");
    CU_ASSERT_EQUAL(len, 5);
    /* ... and nothing after it is stored either */
    CU_ASSERT_EQUAL(read_string("\"abcde\\u20acz\"", out, sizeof(out), &len),
                    0);
    CU_ASSERT_STRING_EQUAL(out, "abcde");
    /* nor is half a raw UTF-8 character */
    CU_ASSERT_EQUAL(read_string("\"abcdef\xc3\xa9\"", out, sizeof(out),
                                &len), 0);
    CU_ASSERT_STRING_EQUAL(out, "abcdef");
    CU_ASSERT_EQUAL(len, 6);
    CU_ASSERT_EQUAL(read_string("\"abcd\xf0\x9f\x98\x80xyz\"", out,
                                sizeof(out), &len), 0);
    CU_ASSERT_STRING_EQUAL(out, "abcd");
    CU_ASSERT_EQUAL(read_string("\"abc\xe2\x82\xac\"", out, sizeof(out),
                                &len), 0);
    CU_ASSERT_STRING_EQUAL(out, "abc\xe2\x82\xac");
    /* a one-byte buffer holds the empty string */
    CU_ASSERT_EQUAL(read_string("\"abc\"", out, 1, &len), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_EQUAL(len, 0);
    /* past the cut, errors are still found */
    CU_ASSERT_EQUAL(read_string("\"abcdefghij\x01\"", out, sizeof(out),
                                &len), -1);
    CU_ASSERT_EQUAL(read_string("\"abcdefghij\\q\"", out, sizeof(out),
                                &len), -1);
    CU_ASSERT_EQUAL(read_string("\"abcdefghij\\u12\"", out, sizeof(out),
                                &len), -1);
    CU_ASSERT_EQUAL(read_string("\"abcdefghij", out, sizeof(out), &len), -1);
    /* and the scanner ends where the string ends */
    struct js s;
    static const char doc[] = "[\"abcdefghijklmnop\", 5]";
    js_init(&s, doc, strlen(doc));
    double v;
    CU_ASSERT_EQUAL(js_array_begin(&s), 0);
    CU_ASSERT_EQUAL(js_array_next(&s), 1);
    CU_ASSERT_EQUAL(js_string(&s, out, sizeof(out), NULL), 0);
    CU_ASSERT_EQUAL(js_array_next(&s), 1);
    CU_ASSERT_EQUAL(js_number(&s, &v), 0);
    CU_ASSERT_DOUBLE_EQUAL(v, 5.0, 0);
    CU_ASSERT_EQUAL(js_array_next(&s), 0);
    CU_ASSERT_EQUAL(js_finish(&s), 0);
}

static void test_jscan_truncates_member_names(void)
{
    struct js s;
    static const char doc[] = "{\"a_long_name\": 1, \"\\u00e9t\\u00e9\": 2}";
    js_init(&s, doc, strlen(doc));
    char key[5];
    CU_ASSERT_EQUAL(js_object_begin(&s), 0);
    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
    CU_ASSERT_STRING_EQUAL(key, "a_lo");
    CU_ASSERT_EQUAL(js_skip(&s), 0);
    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
    CU_ASSERT_STRING_EQUAL(key, "\xc3\xa9t");
    CU_ASSERT_EQUAL(js_skip(&s), 0);
    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 0);
    CU_ASSERT_EQUAL(js_finish(&s), 0);
}

static void test_jscan_rejects_unterminated_strings(void)
{
    CU_ASSERT_EQUAL(error_offset("\"abc"), 4);
    CU_ASSERT_EQUAL(error_offset("[\"abc\\\"]"), 8);
    CU_ASSERT_EQUAL(error_offset("\""), 1);
}

/* ============================ Numbers ============================ */

static void test_jscan_reads_typical_decimals_exactly(void)
{
    static const struct {
        const char *text;
        double want;
    } cases[] = {
        {"0", 0.0}, {"1", 1.0}, {"-1", -1.0}, {"10", 10.0},
        {"0.1", 0.1}, {"0.2", 0.2}, {"0.3", 0.3}, {"1.5", 1.5},
        {"123.45", 123.45}, {"-98.765", -98.765}, {"1e3", 1e3},
        {"1E3", 1e3}, {"1e+3", 1e3}, {"1e-3", 1e-3}, {"2.5E-2", 0.025},
        {"12000", 12000.0}, {"12000.0", 12000.0}, {"89.99", 89.99},
        {"0.000001", 1e-6}, {"4.35", 4.35}, {"1234567.891", 1234567.891},
        {"9007199254740993", 9007199254740992.0},
        {"12345678901234567890", 12345678901234567890.0},
        {"1.7976931348623157e308", 1.7976931348623157e308},
        {"2.2250738585072014e-308", 2.2250738585072014e-308},
        {"4.9406564584124654e-324", 4.9406564584124654e-324},
        {"0.1e1", 1.0}, {"100e-2", 1.0}, {"123456789012345e-15",
                                          0.123456789012345},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double v = NAN;
        CU_ASSERT_EQUAL(read_number(cases[i].text, &v), 0);
        CU_ASSERT_TRUE(same_bits(v, cases[i].want));
        if (!same_bits(v, cases[i].want))
            fprintf(stderr, "\n  %s read as %.17g\n", cases[i].text, v);
    }
    double v = 0;
    CU_ASSERT_EQUAL(read_number("-0", &v), 0);
    CU_ASSERT_TRUE(v == 0 && signbit(v));
    CU_ASSERT_EQUAL(read_number("-0.0e5", &v), 0);
    CU_ASSERT_TRUE(v == 0 && signbit(v));
}

static void test_jscan_rejects_numbers_outside_the_grammar(void)
{
    static const char *const bad[] = {
        "01", "-01", "00", "012.5", "1.", "-1.", "1.e5", ".5", "-.5", "-",
        "--1", "-a", "1e", "1e+", "1E-", "1ee2", "+1", "0x10", "1.5.2",
        "1e5.5", "Infinity", "-Infinity", "NaN", "-NaN", "nan", "inf",
        "[01]", "{\"a\":01}", "[1.]", "[-]", "[.5]", "[+1]", "[NaN]",
        "[Infinity]", "[1e]"
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_FALSE(valid(bad[i]));
        if (valid(bad[i]))
            fprintf(stderr, "\n  accepted: %s\n", bad[i]);
    }
}

static void test_jscan_number_reports_a_leading_zero_itself(void)
{
    double v = 42;
    struct js s;
    js_init(&s, "01", 2);
    CU_ASSERT_EQUAL(js_number(&s, &v), -1);
    CU_ASSERT_EQUAL(s.err_off, 1);
    js_init(&s, "-007", 4);
    CU_ASSERT_EQUAL(js_number(&s, &v), -1);
    CU_ASSERT_EQUAL(s.err_off, 2);
    /* a zero followed by what may follow a value is fine */
    js_init(&s, "[0,0]", 5);
    CU_ASSERT_EQUAL(js_skip(&s), 0);
}

static void test_jscan_number_errors_point_at_the_bad_byte(void)
{
    CU_ASSERT_EQUAL(error_offset("1."), 2);
    CU_ASSERT_EQUAL(error_offset("[1.x]"), 3);
    CU_ASSERT_EQUAL(error_offset("-"), 1);
    CU_ASSERT_EQUAL(error_offset("[2, 1e]"), 6);
    CU_ASSERT_EQUAL(error_offset("[+1]"), 1);
    CU_ASSERT_EQUAL(error_offset("NaN"), 0);
    CU_ASSERT_EQUAL(error_offset("[1, Infinity]"), 4);
}

static void test_jscan_reads_numbers_past_the_range_as_infinity(void)
{
    double v = 0;
    CU_ASSERT_EQUAL(read_number("1e400", &v), 0);
    CU_ASSERT_TRUE(isinf(v) && v > 0);
    CU_ASSERT_EQUAL(read_number("-1e400", &v), 0);
    CU_ASSERT_TRUE(isinf(v) && v < 0);
    CU_ASSERT_EQUAL(read_number("1e99999999999", &v), 0);
    CU_ASSERT_TRUE(isinf(v) && v > 0);
    CU_ASSERT_EQUAL(read_number("1e-400", &v), 0);
    CU_ASSERT_TRUE(v == 0 && !signbit(v));
    CU_ASSERT_EQUAL(read_number("-1e-99999999999", &v), 0);
    CU_ASSERT_TRUE(v == 0 && signbit(v));
    CU_ASSERT_EQUAL(read_number("0e99999", &v), 0);
    CU_ASSERT_TRUE(v == 0);
    CU_ASSERT_TRUE(valid("[1e400, -1e400]"));
}

/* Appends n random digits, the first from first..9. */
static char *put_digits(char *p, gsl_rng *rng, unsigned n, int first)
{
    for (unsigned i = 0; i < n; i++) {
        int lo = i == 0 ? first : 0;
        *p++ = (char)('0' + lo + (int)gsl_rng_uniform_int(rng,
                                                          (unsigned)(10 - lo)));
    }
    return p;
}

/* A random decimal in JSON's grammar, mostly short, sometimes extreme. */
static void random_decimal(gsl_rng *rng, char *out)
{
    char *p = out;
    if (gsl_rng_uniform(rng) < 0.3)
        *p++ = '-';
    int wide = gsl_rng_uniform(rng) < 0.2;
    unsigned max_digits = wide ? 25 : 9;
    if (gsl_rng_uniform(rng) < 0.25)
        *p++ = '0';
    else
        p = put_digits(p, rng, 1 + (unsigned)gsl_rng_uniform_int(
                                            rng, max_digits), 1);
    if (gsl_rng_uniform(rng) < 0.6) {
        *p++ = '.';
        p = put_digits(p, rng, 1 + (unsigned)gsl_rng_uniform_int(
                                            rng, max_digits), 0);
    }
    if (gsl_rng_uniform(rng) < 0.5) {
        *p++ = gsl_rng_uniform(rng) < 0.5 ? 'e' : 'E';
        double u = gsl_rng_uniform(rng);
        if (u < 0.4)
            *p++ = '-';
        else if (u < 0.6)
            *p++ = '+';
        unsigned long e = gsl_rng_uniform(rng) < 0.25
                          ? gsl_rng_uniform_int(rng, 360)
                          : gsl_rng_uniform_int(rng, 30);
        p += sprintf(p, "%s%lu", gsl_rng_uniform(rng) < 0.1 ? "0" : "", e);
    }
    *p = '\0';
}

static void test_jscan_numbers_equal_strtod_bit_for_bit(void)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rng);
    gsl_rng_set(rng, 20240611);
    int mismatches = 0, fast = 0;
    for (int i = 0; i < 10000; i++) {
        char text[96];
        random_decimal(rng, text);
        double v = NAN;
        int rc = read_number(text, &v);
        double want = strtod(text, NULL);
        if (rc != 0 || !same_bits(v, want)) {
            if (mismatches++ < 5)
                fprintf(stderr, "\n  %s: rc %d, got %.17g, strtod %.17g\n",
                        text, rc, v, want);
        }
        fast += strlen(text) < 12;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    /* both paths of js_number were taken many times */
    CU_ASSERT_TRUE(fast > 2000 && fast < 8000);
    gsl_rng_free(rng);
}

static void test_jscan_limits_number_length(void)
{
    /* 127 characters are read; longer numbers are refused (RFC 8259 §9
     * lets a parser limit the precision it accepts) */
    char text[200];
    memset(text, '1', 127);
    text[127] = '\0';
    double v = 0;
    CU_ASSERT_EQUAL(read_number(text, &v), 0);
    CU_ASSERT_DOUBLE_EQUAL(v / 1.1111111111111111e126, 1.0, 1e-15);
    memset(text, '1', 128);
    text[128] = '\0';
    struct js s;
    js_init(&s, text, strlen(text));
    CU_ASSERT_EQUAL(js_number(&s, &v), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "number too long");
}

/* ============================ Structure ============================ */

/* depth levels of '[' then as many ']' (into buf, NUL terminated). */
static char *nested(char open, char close, int depth)
{
    char *t = malloc((size_t)depth * 2 + 1);
    if (!t)
        return NULL;
    memset(t, open, (size_t)depth);
    memset(t + depth, close, (size_t)depth);
    t[depth * 2] = '\0';
    return t;
}

static void test_jscan_nests_exactly_up_to_the_limit(void)
{
    char *ok = nested('[', ']', JS_MAX_DEPTH);
    char *deep = nested('[', ']', JS_MAX_DEPTH + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ok);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    CU_ASSERT_TRUE(valid(ok));
    struct js s;
    CU_ASSERT_EQUAL(scan_all(deep, strlen(deep), &s), -1);
    CU_ASSERT_EQUAL(s.err_off, JS_MAX_DEPTH);
    CU_ASSERT_STRING_EQUAL(s.err_what, "nested too deeply");
    free(ok);
    free(deep);

    /* objects count the same way */
    size_t cap = (size_t)(JS_MAX_DEPTH + 1) * 6 + 8;
    char *obj = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    for (int depth = JS_MAX_DEPTH; depth <= JS_MAX_DEPTH + 1; depth++) {
        char *p = obj;
        for (int i = 0; i < depth - 1; i++)
            p += sprintf(p, "{\"a\":");
        p += sprintf(p, "{}");
        for (int i = 0; i < depth - 1; i++)
            *p++ = '}';
        *p = '\0';
        CU_ASSERT_EQUAL(valid(obj), depth == JS_MAX_DEPTH);
    }
    free(obj);
}

static void test_jscan_depth_returns_after_closing(void)
{
    /* many containers side by side never add up to the limit */
    size_t n = JS_MAX_DEPTH * 4;
    char *t = malloc(n * 3 + 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    char *p = t;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        *p++ = '[';
        *p++ = ']';
        *p++ = i + 1 < n ? ',' : ']';
    }
    *p = '\0';
    CU_ASSERT_TRUE(valid(t));
    free(t);
}

static void test_jscan_rejects_trailing_and_doubled_commas(void)
{
    static const char *const bad[] = {
        "[1,]", "[1, ]", "{\"a\":1,}", "{\"a\":1 , }", "[1,,2]", "[,1]",
        "[,]", "{,}", "{,\"a\":1}", "{\"a\":1,,\"b\":2}", "[[],]"
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(valid(bad[i]));
    struct js s;
    CU_ASSERT_EQUAL(scan_all("[1, ]", 5, &s), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "trailing comma");
    CU_ASSERT_EQUAL(s.err_off, 4);
}

static void test_jscan_requires_colons_names_and_commas(void)
{
    struct js s;
    CU_ASSERT_EQUAL(scan_all("{\"a\" 1}", 7, &s), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "expected ':'");
    CU_ASSERT_EQUAL(s.err_off, 5);
    CU_ASSERT_EQUAL(scan_all("{\"a\"}", 5, &s), -1);
    CU_ASSERT_EQUAL(s.err_off, 4);
    CU_ASSERT_EQUAL(scan_all("{1:2}", 5, &s), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "expected a member name");
    CU_ASSERT_EQUAL(scan_all("{\"a\":}", 6, &s), -1);
    CU_ASSERT_EQUAL(s.err_off, 5);
    CU_ASSERT_EQUAL(scan_all("[1 2]", 5, &s), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "expected ',' or a closing bracket");
    CU_ASSERT_EQUAL(s.err_off, 3);
    CU_ASSERT_EQUAL(scan_all("{\"a\":1 \"b\":2}", 13, &s), -1);
    CU_ASSERT_EQUAL(s.err_off, 7);
    CU_ASSERT_FALSE(valid("{\"a\"::1}"));
    CU_ASSERT_FALSE(valid("{'a':1}"));
    CU_ASSERT_FALSE(valid("{a:1}"));
}

static void test_jscan_rejects_mismatched_and_unclosed_brackets(void)
{
    static const char *const bad[] = {
        "[1}", "{\"a\":1]", "[", "[1", "[1,", "{", "{\"a\"", "{\"a\":",
        "{\"a\":1", "]", "}", "[]]", "[[]"
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(valid(bad[i]));
    struct js s;
    CU_ASSERT_EQUAL(scan_all("[1, [2", 6, &s), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "unexpected end of input");
    CU_ASSERT_EQUAL(s.err_off, 6);
}

static void test_jscan_finish_rejects_trailing_data(void)
{
    struct js s;
    CU_ASSERT_EQUAL(scan_all("1 2", 3, &s), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "trailing data");
    CU_ASSERT_EQUAL(s.err_off, 2);
    CU_ASSERT_EQUAL(scan_all("{} x", 4, &s), -1);
    CU_ASSERT_EQUAL(s.err_off, 3);
    CU_ASSERT_EQUAL(scan_all("[]]", 3, &s), -1);
    CU_ASSERT_EQUAL(s.err_off, 2);
    CU_ASSERT_EQUAL(scan_all("true false", 10, &s), -1);
    CU_ASSERT_EQUAL(s.err_off, 5);
    CU_ASSERT_EQUAL(scan_all("\"a\"\"b\"", 6, &s), -1);
    CU_ASSERT_EQUAL(s.err_off, 3);
    /* white space after the value is fine */
    CU_ASSERT_EQUAL(scan_all("[] \r\n\t ", 7, &s), 0);
    /* and the length, not a NUL, ends the text */
    CU_ASSERT_EQUAL(scan_all("[1]garbage", 3, &s), 0);
    CU_ASSERT_EQUAL(scan_all("[1]\0", 4, &s), -1);
}

static void test_jscan_rejects_empty_input(void)
{
    struct js s;
    js_init(&s, "", 0);
    CU_ASSERT_EQUAL(js_peek(&s), JS_ERROR);
    CU_ASSERT_STRING_EQUAL(s.err_what, "unexpected end of input");
    CU_ASSERT_EQUAL(s.err_off, 0);
    CU_ASSERT_EQUAL(scan_all("", 0, &s), -1);
    CU_ASSERT_EQUAL(scan_all(" \n\t ", 4, &s), -1);
    CU_ASSERT_EQUAL(s.err_off, 4);
}

static void test_jscan_rejects_bytes_no_value_starts_with(void)
{
    static const char *const bad[] = {
        "'a'", "/* c */ 1", "// c\n1", "#", "undefined", "\xef\xbb\xbf[]",
        "[1]x", "=", "[\x01]"
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(valid(bad[i]));
    CU_ASSERT_EQUAL(error_offset("  @"), 2);
    CU_ASSERT_EQUAL(error_offset("{\"a\": [1, 2, {\"b\": x}]}"), 19);
}

/* ============================ Spans ============================ */

static void test_jscan_span_excludes_white_space(void)
{
    static const char doc[] = "  {\"a\": [1, 2]}  ,";
    struct js s;
    struct js_span v = {99, 99};
    js_init(&s, doc, strlen(doc));
    CU_ASSERT_EQUAL(js_span(&s, &v), 0);
    CU_ASSERT_EQUAL(v.off, 2);
    CU_ASSERT_EQUAL(v.len, 13);
    CU_ASSERT_EQUAL(memcmp(doc + v.off, "{\"a\": [1, 2]}", v.len), 0);
    /* the scanner stands just past the value, before the white space */
    CU_ASSERT_EQUAL(js_offset(&s), 15);
    CU_ASSERT_EQUAL(js_finish(&s), -1);
    CU_ASSERT_EQUAL(s.err_off, 17);
}

static void test_jscan_spans_scalars_of_every_type(void)
{
    static const char doc[] = "[\"a\\\"b\", -1.5e3, true, false, null]";
    static const char *const want[] = {
        "\"a\\\"b\"", "-1.5e3", "true", "false", "null"
    };
    struct js s;
    js_init(&s, doc, strlen(doc));
    CU_ASSERT_EQUAL(js_array_begin(&s), 0);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct js_span v;
        CU_ASSERT_EQUAL(js_array_next(&s), 1);
        CU_ASSERT_EQUAL(js_span(&s, &v), 0);
        CU_ASSERT_EQUAL(v.len, strlen(want[i]));
        CU_ASSERT_EQUAL(memcmp(doc + v.off, want[i], v.len), 0);
    }
    CU_ASSERT_EQUAL(js_array_next(&s), 0);
    CU_ASSERT_EQUAL(js_finish(&s), 0);
}

static void test_jscan_spans_can_be_scanned_again(void)
{
    static const char doc[] =
        "{\"a\": 1, \"b\" : [true, \"x\", null], \"c\":{}}";
    struct js s;
    struct js_span v[3];
    char key[4];
    js_init(&s, doc, strlen(doc));
    CU_ASSERT_EQUAL(js_object_begin(&s), 0);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 1);
        CU_ASSERT_EQUAL(key[0], 'a' + i);
        CU_ASSERT_EQUAL(js_span(&s, &v[i]), 0);
    }
    CU_ASSERT_EQUAL(js_object_next(&s, key, sizeof(key)), 0);
    CU_ASSERT_EQUAL(js_finish(&s), 0);
    CU_ASSERT_EQUAL(v[0].len, 1);
    CU_ASSERT_EQUAL(v[1].len, strlen("[true, \"x\", null]"));
    CU_ASSERT_EQUAL(memcmp(doc + v[2].off, "{}", 2), 0);

    /* a second scanner on b's bytes walks it as a document of its own */
    struct js in;
    js_init(&in, doc + v[1].off, v[1].len);
    CU_ASSERT_EQUAL(js_array_begin(&in), 0);
    CU_ASSERT_EQUAL(js_array_next(&in), 1);
    CU_ASSERT_EQUAL(js_literal(&in), JS_TRUE);
    CU_ASSERT_EQUAL(js_array_next(&in), 1);
    CU_ASSERT_EQUAL(js_peek(&in), JS_STRING);
    struct js_span x;
    CU_ASSERT_EQUAL(js_span(&in, &x), 0);
    CU_ASSERT_EQUAL(x.off, 7);
    CU_ASSERT_EQUAL(x.len, 3);
    CU_ASSERT_EQUAL(js_array_next(&in), 1);
    CU_ASSERT_EQUAL(js_literal(&in), JS_NULL);
    CU_ASSERT_EQUAL(js_array_next(&in), 0);
    CU_ASSERT_EQUAL(js_finish(&in), 0);
}

static void test_jscan_span_fails_as_skip_and_leaves_the_span(void)
{
    struct js s;
    struct js_span v = {99, 98};
    js_init(&s, "[1,2,,3]", 8);
    CU_ASSERT_EQUAL(js_span(&s, &v), -1);
    CU_ASSERT_EQUAL(s.err_off, 5);
    CU_ASSERT_EQUAL(v.off, 99);
    CU_ASSERT_EQUAL(v.len, 98);
    js_init(&s, "   ", 3);
    CU_ASSERT_EQUAL(js_span(&s, &v), -1);
    CU_ASSERT_STRING_EQUAL(s.err_what, "unexpected end of input");
    CU_ASSERT_EQUAL(v.off, 99);
    /* after an error every call fails, js_span included */
    js_init(&s, "x 1", 3);
    CU_ASSERT_EQUAL(js_peek(&s), JS_ERROR);
    CU_ASSERT_EQUAL(js_span(&s, &v), -1);
    CU_ASSERT_EQUAL(s.err_off, 0);
    CU_ASSERT_EQUAL(v.len, 98);
}

static void test_jscan_offset_gives_a_walked_container_its_span(void)
{
    static const char doc[] = " [ {\"k\": [1]} , 2 ] ";
    struct js s, t;
    struct js_span whole;
    js_init(&t, doc, strlen(doc));
    CU_ASSERT_EQUAL(js_span(&t, &whole), 0);

    js_init(&s, doc, strlen(doc));
    CU_ASSERT_EQUAL(js_offset(&s), 0);
    CU_ASSERT_EQUAL(js_peek(&s), JS_ARRAY);
    size_t start = js_offset(&s);
    CU_ASSERT_EQUAL(js_array_begin(&s), 0);
    int n = 0;
    while (js_array_next(&s) == 1) {
        CU_ASSERT_EQUAL(js_skip(&s), 0);
        n++;
    }
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(start, whole.off);
    CU_ASSERT_EQUAL(js_offset(&s) - start, whole.len);
    CU_ASSERT_EQUAL(whole.len, strlen("[ {\"k\": [1]} , 2 ]"));
}

static void test_jscan_judges_fleet_lines_strictly(void)
{
    /* the shapes of the simulator's histories.jsonl records */
    static const char *const good[] = {
        "{\"serviceDate\":\"2023-06-28T22:21:41.583Z\","
        "\"odometerDistance\":46047.22}",
        "[{\"a\":[1,2,{\"b\":null}],\"c\":true},false]",
        "\"a\\u00e9\\n\\\"\"", "-0.5e+10", " {} "
    };
    static const char *const bad[] = {
        "{\"serviceId\"=\"1\"}", "[-]", "[1.]", "[1e]", "\"\\u12\"", "tru",
        "\"tab\there\"", "{\"a\":\"}", "{\"a\":1}}"
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CU_ASSERT_TRUE(valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(valid(bad[i]));
}

static CU_TestInfo jscan_tests[] = {
    {"reads every value type", test_jscan_reads_every_value_type},
    {"reads scalars as whole documents",
     test_jscan_reads_scalars_as_whole_documents},
    {"literals must be spelled exactly",
     test_jscan_literals_must_be_spelled_exactly},
    {"calls check the type they consume",
     test_jscan_calls_check_the_type_they_consume},
    {"errors are sticky", test_jscan_errors_are_sticky},
    {"decodes simple escapes", test_jscan_decodes_simple_escapes},
    {"decodes unicode escapes to UTF-8",
     test_jscan_decodes_unicode_escapes_to_utf8},
    {"rejects bad escapes", test_jscan_rejects_bad_escapes},
    {"rejects control characters in strings",
     test_jscan_rejects_control_characters_in_strings},
    {"truncates long strings and still checks them",
     test_jscan_truncates_long_strings_and_still_checks_them},
    {"truncates member names", test_jscan_truncates_member_names},
    {"rejects unterminated strings", test_jscan_rejects_unterminated_strings},
    {"reads typical decimals exactly",
     test_jscan_reads_typical_decimals_exactly},
    {"rejects numbers outside the grammar",
     test_jscan_rejects_numbers_outside_the_grammar},
    {"number reports a leading zero itself",
     test_jscan_number_reports_a_leading_zero_itself},
    {"number errors point at the bad byte",
     test_jscan_number_errors_point_at_the_bad_byte},
    {"reads numbers past the range as infinity",
     test_jscan_reads_numbers_past_the_range_as_infinity},
    {"numbers equal strtod bit for bit",
     test_jscan_numbers_equal_strtod_bit_for_bit},
    {"limits number length", test_jscan_limits_number_length},
    {"nests exactly up to the limit",
     test_jscan_nests_exactly_up_to_the_limit},
    {"depth returns after closing", test_jscan_depth_returns_after_closing},
    {"rejects trailing and doubled commas",
     test_jscan_rejects_trailing_and_doubled_commas},
    {"requires colons, names and commas",
     test_jscan_requires_colons_names_and_commas},
    {"rejects mismatched and unclosed brackets",
     test_jscan_rejects_mismatched_and_unclosed_brackets},
    {"finish rejects trailing data",
     test_jscan_finish_rejects_trailing_data},
    {"rejects empty input", test_jscan_rejects_empty_input},
    {"rejects bytes no value starts with",
     test_jscan_rejects_bytes_no_value_starts_with},
    {"span excludes white space", test_jscan_span_excludes_white_space},
    {"spans scalars of every type", test_jscan_spans_scalars_of_every_type},
    {"spans can be scanned again", test_jscan_spans_can_be_scanned_again},
    {"span fails as skip and leaves the span",
     test_jscan_span_fails_as_skip_and_leaves_the_span},
    {"offset gives a walked container its span",
     test_jscan_offset_gives_a_walked_container_its_span},
    {"judges fleet lines strictly", test_jscan_judges_fleet_lines_strictly},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_jscan_suites[] = {
    {"jscan", NULL, NULL, NULL, NULL, jscan_tests},
    CU_SUITE_INFO_NULL
};
