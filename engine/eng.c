/* eng — shared error type and calendar arithmetic. */
#include "eng.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int eng_err_set(struct eng_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

unsigned long long eng_fnv(unsigned long long h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

const char *eng_code_name(int code)
{
    switch (code) {
    case ENG_OK: return "OK";
    case ENG_ENOMEM: return "ENOMEM";
    case ENG_EIO: return "EIO";
    case ENG_EHTTP: return "EHTTP";
    case ENG_EJSON: return "EJSON";
    case ENG_EDATA: return "EDATA";
    case ENG_ESTAT: return "ESTAT";
    case ENG_ECSV: return "ECSV";
    case ENG_ELIMIT: return "ELIMIT";
    case ENG_EUSAGE: return "EUSAGE";
    default: return "EUNKNOWN";
    }
}

/*
 * Howard Hinnant's civil-date algorithms: exact for the proleptic Gregorian
 * calendar, no tables, no time zone (timegm is not in POSIX).
 */
long eng_days_from_civil(int y, int m, int d)
{
    long yy = (long)y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void eng_civil_from_days(long days, int *y, int *m, int *d)
{
    long z = days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long dd = doy - (153 * mp + 2) / 5 + 1;
    long mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

static int days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : len[m - 1];
}

/* Reads exactly n digits; returns -1 when a character is not a digit. */
static int read_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int eng_parse_instant(const char *s, int min_year, int max_year,
                      long long *secs, struct eng_err *err)
{
    if (!s)
        return eng_err_set(err, ENG_EDATA, "missing date");
    int y = read_digits(s, 4);
    int m = y >= 0 && s[4] == '-' ? read_digits(s + 5, 2) : -1;
    int d = m >= 0 && s[7] == '-' ? read_digits(s + 8, 2) : -1;
    if (y < 0 || m < 0 || d < 0)
        return eng_err_set(err, ENG_EDATA, "not a date: '%.32s'", s);
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return eng_err_set(err, ENG_EDATA, "impossible date: '%.32s'", s);

    long long t = (long long)eng_days_from_civil(y, m, d) * 86400;
    const char *p = s + 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        int hh = read_digits(p + 1, 2);
        int mi = hh >= 0 && p[3] == ':' ? read_digits(p + 4, 2) : -1;
        if (hh < 0 || mi < 0 || hh > 23 || mi > 59)
            return eng_err_set(err, ENG_EDATA, "bad time in '%.32s'", s);
        t += hh * 3600LL + mi * 60LL;
        p += 6;
        if (*p == ':') {
            int ss = read_digits(p + 1, 2);
            if (ss < 0 || ss > 60)
                return eng_err_set(err, ENG_EDATA, "bad time in '%.32s'", s);
            t += ss;
            p += 3;
            if (*p == '.' || *p == ',') {
                p++;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh = read_digits(p + 1, 2);
            int colon = oh >= 0 && p[3] == ':';
            int om = oh < 0 ? -1 : read_digits(p + (colon ? 4 : 3), 2);
            if (oh < 0 || om < 0 || oh > 23 || om > 59)
                return eng_err_set(err, ENG_EDATA, "bad offset in '%.32s'", s);
            long long off = oh * 3600LL + om * 60LL;
            t -= *p == '+' ? off : -off;
            p += colon ? 6 : 5;
        }
    }
    if (*p != '\0')
        return eng_err_set(err, ENG_EDATA, "trailing text in date '%.32s'", s);
    int cy, cm, cd;
    long day = (long)(t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
    eng_civil_from_days(day, &cy, &cm, &cd);
    if (cy < min_year || cy > max_year)
        return eng_err_set(err, ENG_EDATA, "date out of range %d..%d: '%.32s'",
                           min_year, max_year, s);
    *secs = t;
    return ENG_OK;
}

int eng_parse_day(const char *s, int min_year, int max_year, long *days,
                  struct eng_err *err)
{
    long long t;
    int rc = eng_parse_instant(s, min_year, max_year, &t, err);
    if (rc < 0)
        return rc;
    *days = (long)(t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
    return ENG_OK;
}

void eng_format_day(long days, char *out)
{
    int y, m, d;
    eng_civil_from_days(days, &y, &m, &d);
    unsigned uy = (unsigned)(y < 0 ? 0 : y % 10000);
    unsigned um = (unsigned)m % 100u;
    unsigned ud = (unsigned)d % 100u;
    out[0] = (char)('0' + uy / 1000);
    out[1] = (char)('0' + uy / 100 % 10);
    out[2] = (char)('0' + uy / 10 % 10);
    out[3] = (char)('0' + uy % 10);
    out[4] = '-';
    out[5] = (char)('0' + um / 10);
    out[6] = (char)('0' + um % 10);
    out[7] = '-';
    out[8] = (char)('0' + ud / 10);
    out[9] = (char)('0' + ud % 10);
    out[10] = '\0';
}

long eng_today(void)
{
    return (long)(time(NULL) / 86400);
}

void eng_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}
