/*
 * sim_window — dates for the Smartcar simulator: the service-history date
 * window and ISO-8601 instants.
 *
 * The simulator's service-history endpoint filters records by the inclusive
 * window [first_day, last_day] (days since 1970-01-01, UTC), resolved from the
 * optional start_date and end_date query parameters:
 *   - a given parameter is parsed as YYYY-MM-DD or a full ISO date-time (the
 *     UTC day of that instant counts);
 *   - end_date absent: the window ends today;
 *   - start_date absent: the window starts one calendar year before its end
 *     (29 February falls back to 28 February), so a client that omits
 *     start_date sees only the last year, as the real API;
 *   - start after end, an empty value or a malformed date is refused.
 * Records without a usable date are served only when start_date was given
 * (explicit is then 1): a full pull names its start, a default pull does not.
 *
 * Everything here is pure: no allocation, no global state, no clock.
 */
#ifndef SIM_WINDOW_H
#define SIM_WINDOW_H

#include "eng.h"

struct sim_window {
    long first_day;     /* inclusive */
    long last_day;      /* inclusive */
    int explicit_start; /* 1 when start_date was given */
};

/* Dates outside these years are refused as parameters. */
#define SIM_WINDOW_MIN_YEAR 1900
#define SIM_WINDOW_MAX_YEAR 2200

/*
 * Resolves the window for parameters start and end (either may be NULL when
 * absent) on day today.  Returns ENG_OK and fills *w, or ENG_EDATA with a
 * message naming the bad parameter; *w is unchanged on failure.
 */
int sim_window_resolve(const char *start, const char *end, long today,
                       struct sim_window *w, struct eng_err *err);

/*
 * Whether a record belongs to w: dated records (has_day 1) when day lies in
 * the window, undated ones only when w->explicit_start.  Cannot fail.
 */
int sim_window_includes(const struct sim_window *w, int has_day, long day);

/* The same calendar day one year earlier (29 Feb -> 28 Feb); cannot fail. */
long sim_window_year_before(long day);

/*
 * Parses an ISO-8601 instant, "YYYY-MM-DD" (midnight UTC) or
 * "YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+hh:mm|-hh:mm]", into seconds since
 * 1970-01-01 UTC (fractions dropped).  Returns ENG_OK and sets *secs, or
 * ENG_EDATA with *secs unchanged.
 */
int sim_window_parse_instant(const char *s, long long *secs,
                             struct eng_err *err);

/*
 * Writes msecs (milliseconds since 1970 UTC) as "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * and a NUL into out, which holds at least SIM_WINDOW_INSTANT_LEN bytes.
 * Cannot fail.
 */
#define SIM_WINDOW_INSTANT_LEN 25
void sim_window_format_instant(long long msecs, char *out);

#endif
