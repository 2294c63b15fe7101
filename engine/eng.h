/*
 * eng — the error type shared by every svcscore module, and calendar days.
 *
 * Every fallible function returns ENG_OK (0) or a negative ENG_E* code (int
 * functions) or NULL (pointer functions), and takes as its last parameter a
 * struct eng_err *err that may be NULL.  On failure the message is written to
 * err->msg (lowercase, no full stop, git's grammar) and out-params and the
 * objects passed in are left unchanged.  Modules never print or exit: the
 * commands (engine/cmd/) turn err.msg into one stderr line.
 *
 * Days are counted as days since 1970-01-01 (UTC) in a long; the helpers below
 * are pure and cannot fail except where they say so.
 */
#ifndef ENG_H
#define ENG_H

#include <stddef.h>

enum eng_code {
    ENG_OK = 0,
    ENG_ENOMEM = -1,  /* allocation failed */
    ENG_EIO = -2,     /* file or stream I/O */
    ENG_EHTTP = -3,   /* transport or HTTP status */
    ENG_EJSON = -4,   /* JSON that does not parse */
    ENG_EDATA = -5,   /* parses, but means nothing usable */
    ENG_ESTAT = -6,   /* numerical failure (GSL) */
    ENG_ECSV = -7,    /* CSV that does not parse */
    ENG_ELIMIT = -8,  /* a size cap was reached */
    ENG_EUSAGE = -9   /* bad option or configuration */
};

#define ENG_ERR_LEN 256

struct eng_err {
    int code;
    char msg[ENG_ERR_LEN];
};

/*
 * Records code and a printf-style message in err (when err is not NULL) and
 * returns code, so that a failure is one line:
 *     return eng_err_set(err, ENG_EIO, "cannot open '%s'", path);
 * Cannot fail; long messages are truncated.
 */
int eng_err_set(struct eng_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * FNV-1a 64-bit hash of n bytes, continued from h (start with
 * ENG_FNV_BASIS): hash tables, content ids, fingerprints.  Not for
 * secrecy.  Cannot fail.
 */
#define ENG_FNV_BASIS 14695981039346656037ull
unsigned long long eng_fnv(unsigned long long h, const void *data, size_t n);

/* A short name for a code ("ENOMEM", "EIO", ...); cannot fail. */
const char *eng_code_name(int code);

/* Days since 1970-01-01 for a proleptic Gregorian date; cannot fail. */
long eng_days_from_civil(int y, int m, int d);

/* The date of a day number; cannot fail. */
void eng_civil_from_days(long days, int *y, int *m, int *d);

/*
 * Parses "YYYY-MM-DD" with an optional time part ("THH:MM:SS[.fff][Z|±hh:mm]")
 * into a UTC day.  Times with an offset are moved to UTC first.  The date must
 * exist (2023-02-30 is refused) and lie within years min_year..max_year.
 * Returns ENG_OK and sets *days, or ENG_EDATA with *days unchanged.
 */
int eng_parse_day(const char *s, int min_year, int max_year, long *days,
                  struct eng_err *err);

/*
 * The same text as a UTC instant in seconds since 1970-01-01T00:00:00Z
 * (a date alone is its midnight).  Returns ENG_OK and sets *secs, or
 * ENG_EDATA with *secs unchanged.
 */
int eng_parse_instant(const char *s, int min_year, int max_year,
                      long long *secs, struct eng_err *err);

/* Writes "YYYY-MM-DD" and a NUL into out (at least 11 bytes); cannot fail. */
void eng_format_day(long days, char *out);

/* Today's UTC day from the system clock; cannot fail. */
long eng_today(void);

/*
 * Overwrites n bytes at p with zeros in a way the compiler may not drop,
 * for secrets about to be freed (C11 and POSIX have no explicit_bzero).
 * NULL-safe when n is 0; cannot fail.
 */
void eng_wipe(void *p, size_t n);

#endif
