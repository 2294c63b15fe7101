/*
 * fuzz_instant — ISO-8601 instants and days (eng_parse_instant,
 * eng_parse_day) and the token store's times (tok_parse_time).
 *
 * Invariants: an accepted instant lies in its years' range; written back
 * as "YYYY-MM-DDTHH:MM:SSZ" it reads as the same second; its day is the
 * day eng_parse_day() gives; a date alone is a midnight; what a narrow
 * year range accepts a wide one accepts with the same value; a refused
 * text leaves the output alone; tok_parse_time() reads whole numbers as
 * Unix seconds before the year 10000 and otherwise agrees with
 * eng_parse_instant(), and any time it reads tok_format_time() writes so
 * that it reads back the same.
 */
#include <stdlib.h>
#include <string.h>

#include "api/tok.h"
#include "eng.h"
#include "fuzz.h"

static long long floor_day(long long t)
{
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    long long t = -12345, w = -12345;
    struct eng_err err = {0};
    int rc = eng_parse_instant(s, 1980, 2100, &t, &err);
    int rcw = eng_parse_instant(s, 1, 9999, &w, NULL);
    FUZZ_CHECK(rc == ENG_OK || rc == ENG_EDATA);
    FUZZ_CHECK(rcw == ENG_OK || rcw == ENG_EDATA);
    if (rc < 0) {
        FUZZ_CHECK(t == -12345 && err.code == ENG_EDATA && err.msg[0]);
    } else {
        FUZZ_CHECK(rcw == ENG_OK && w == t);
        FUZZ_CHECK(t >= eng_days_from_civil(1980, 1, 1) * 86400LL);
        FUZZ_CHECK(t < eng_days_from_civil(2101, 1, 1) * 86400LL);
        char out[21];
        tok_format_time(t, out);
        long long back = -1;
        FUZZ_CHECK(eng_parse_instant(out, 1980, 2100, &back, NULL) == 0);
        FUZZ_CHECK(back == t);
        long day = -1;
        FUZZ_CHECK(eng_parse_day(s, 1980, 2100, &day, NULL) == ENG_OK);
        FUZZ_CHECK(day == floor_day(t));
        char d10[11];
        eng_format_day(day, d10);
        FUZZ_CHECK(strncmp(d10, out, 10) == 0);
        if (strlen(s) == 10)
            FUZZ_CHECK(t % 86400 == 0);
    }
    if (rcw < 0)
        FUZZ_CHECK(w == -12345);
    else
        FUZZ_CHECK(w >= eng_days_from_civil(1, 1, 1) * 86400LL
                   && w < eng_days_from_civil(10000, 1, 1) * 86400LL);

    long long u = -12345;
    int rt = tok_parse_time(s, &u, NULL);
    FUZZ_CHECK(rt == ENG_OK || rt == ENG_EDATA);
    size_t n = strlen(s);
    if (n > 0 && n <= 12 && strspn(s, "0123456789") == n) {
        long long x = strtoll(s, NULL, 10);
        if (x < eng_days_from_civil(10000, 1, 1) * 86400LL)
            FUZZ_CHECK(rt == ENG_OK && u == x);
        else
            FUZZ_CHECK(rt == ENG_EDATA && u == -12345);
    } else if (rt == ENG_OK) {
        long long v = -1;
        FUZZ_CHECK(eng_parse_instant(s, 1970, 9999, &v, NULL) == ENG_OK);
        FUZZ_CHECK(u == v && u >= 0);
    } else {
        FUZZ_CHECK(u == -12345);
    }
    if (rt == ENG_OK && u > 0) {
        /* what the store reads, its own writer writes back unchanged */
        char out[21];
        long long again = -1;
        tok_format_time(u, out);
        FUZZ_CHECK(tok_parse_time(out, &again, NULL) == ENG_OK);
        FUZZ_CHECK(again == u);
    }
    free(s);
    return 0;
}
