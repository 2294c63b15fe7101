/* sim_window — service-history date windows and ISO instants. */
#include "sim_window.h"

#include <string.h>

int sim_window_resolve(const char *start, const char *end, long today,
                       struct sim_window *w, struct eng_err *err)
{
    long last = today;
    if (end) {
        struct eng_err e = {0};
        if (eng_parse_day(end, SIM_WINDOW_MIN_YEAR, SIM_WINDOW_MAX_YEAR,
                          &last, &e) < 0)
            return eng_err_set(err, ENG_EDATA, "end_date: %s", e.msg);
    }
    long first = sim_window_year_before(last);
    if (start) {
        struct eng_err e = {0};
        if (eng_parse_day(start, SIM_WINDOW_MIN_YEAR, SIM_WINDOW_MAX_YEAR,
                          &first, &e) < 0)
            return eng_err_set(err, ENG_EDATA, "start_date: %s", e.msg);
    }
    if (first > last)
        return eng_err_set(err, ENG_EDATA,
                           "start_date is after end_date");
    w->first_day = first;
    w->last_day = last;
    w->explicit_start = start != NULL;
    return ENG_OK;
}

int sim_window_includes(const struct sim_window *w, int has_day, long day)
{
    if (!has_day)
        return w->explicit_start;
    return day >= w->first_day && day <= w->last_day;
}

long sim_window_year_before(long day)
{
    int y, m, d;
    eng_civil_from_days(day, &y, &m, &d);
    if (m == 2 && d == 29)
        d = 28;
    return eng_days_from_civil(y - 1, m, d);
}

int sim_window_parse_instant(const char *s, long long *secs,
                             struct eng_err *err)
{
    if (!s || strlen(s) < 10)
        return eng_err_set(err, ENG_EDATA, "not an instant: '%.32s'",
                           s ? s : "");
    return eng_parse_instant(s, 1, 9999, secs, err);
}

void sim_window_format_instant(long long msecs, char *out)
{
    long long secs = msecs >= 0 ? msecs / 1000 : (msecs - 999) / 1000;
    long ms = (long)(msecs - secs * 1000);
    long long sod = secs % 86400;
    long day = (long)(secs / 86400);
    if (sod < 0) {
        sod += 86400;
        day -= 1;
    }
    eng_format_day(day, out);
    int hh = (int)(sod / 3600);
    int mi = (int)(sod / 60 % 60);
    int ss = (int)(sod % 60);
    char *p = out + 10;
    *p++ = 'T';
    *p++ = (char)('0' + hh / 10);
    *p++ = (char)('0' + hh % 10);
    *p++ = ':';
    *p++ = (char)('0' + mi / 10);
    *p++ = (char)('0' + mi % 10);
    *p++ = ':';
    *p++ = (char)('0' + ss / 10);
    *p++ = (char)('0' + ss % 10);
    *p++ = '.';
    *p++ = (char)('0' + ms / 100);
    *p++ = (char)('0' + ms / 10 % 10);
    *p++ = (char)('0' + ms % 10);
    *p++ = 'Z';
    *p = '\0';
}
