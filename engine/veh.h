/*
 * veh — the vehicle list (SPEC §3.1): a CSV file read one row at a time,
 * and VIN validation.
 *
 * The list is RFC 4180 CSV with a header row, in UTF-8; an optional UTF-8
 * byte-order mark is skipped, lines may end in CRLF, LF or CR, and quoted
 * fields may hold commas, line breaks and doubled quotes.  The parser is
 * libcsv in strict mode: a stray quote inside an unquoted field, text after
 * a closing quote, or a quote left open at the end of the file is a broken
 * file (ENG_ECSV with the line number), not a bad row.
 *
 * Columns are found by header name, case-insensitively and with surrounding
 * blanks trimmed.  Required: vin.  Optional: vehicle_id, policy_id,
 * access_token, refresh_token, expires_at, unit_system, make, model_year,
 * powertrain (ICE, HEV, PHEV, BEV or an alias: see ptrain_parse()).
 * Other columns are ignored; a known column named twice is an error.
 *
 * Rows: every data row yields one struct veh_row, in input order, so that
 * every input row can yield one output row.  A row's own problems (wrong
 * number of fields, missing or invalid VIN, unknown unit system) go into its
 * status, never into a failure of the reader.  Lines that are empty or hold
 * only blanks are not rows and are skipped (libcsv's behaviour, which we
 * keep: a blank line in a list of VINs is a gap, not a vehicle).
 *
 * Memory: the file is read in 64 KiB chunks and only the current row is
 * kept, so memory does not grow with the number of rows.  A single field
 * longer than VEH_MAX_FIELD bytes (usually a quote never closed) stops the
 * reader with ENG_ELIMIT.
 *
 * Ownership: a reader owns its file (not stdin) and is freed with
 * veh_close().  A row owns its strings (one block); veh_next() releases what
 * the row held before, and veh_row_release() frees the last one.
 */
#ifndef VEH_H
#define VEH_H

#include <stddef.h>

#include "eng.h"

#define VEH_VIN_LEN 17
#define VEH_MAX_FIELD 65536
#define VEH_MAX_COLUMNS 1024
#define VEH_STATUS_LEN 48
#define VEH_WARNING_LEN 160

/*
 * One data row.  Callers read every field and may edit status and warning;
 * the string pointers belong to the row.  After a successful veh_next()
 * every string field is non-NULL ("" when the column is absent or empty).
 */
struct veh_row {
    size_t index;       /* data row number, 0-based, in input order */
    long line;          /* physical line (1-based) where the row starts */
    char *vin;          /* normalised: trimmed, blanks removed, upper case */
    char *vin_raw;      /* the vin field as given (unquoted; libcsv drops
                           blanks around unquoted fields) */
    char *vehicle_id;
    char *policy_id;
    char *access_token; /* secret: never print or log */
    char *refresh_token; /* secret: never print or log */
    char *expires_at;   /* as given (ISO-8601 expected), trimmed */
    char *unit_system;  /* "metric", "imperial" or "" (lower-cased) */
    char *make;         /* upper-cased, trimmed */
    int model_year;     /* 0 when absent or not a year 1900..2100 */
    int powertrain;     /* enum ptrain; PTRAIN_UNKNOWN when absent or not
                           understood (a warning says so) */
    /*
     * "" when the row is usable, else "error:INPUT:<CODE>" with CODE one of
     * BAD_ROW (field count differs from the header, or a NUL byte),
     * MISSING_VIN, INVALID_VIN, INVALID_UNIT_SYSTEM.
     */
    char status[VEH_STATUS_LEN];
    /* "" or a note (VIN normalised, check digit failed on a non-North-
     * American WMI, model_year ignored); never contains a token */
    char warning[VEH_WARNING_LEN];
    char *mem_;         /* private: the block holding the strings */
};

/* An all-zero row, ready for veh_next(). */
#define VEH_ROW_INIT {0}

/* Frees the row's strings and zeroes it; NULL-safe, cannot fail. */
void veh_row_release(struct veh_row *row);

struct veh_reader;

/*
 * Opens a vehicle list ("-" reads stdin, which is not closed) and reads its
 * header.  Returns a new reader (free with veh_close()), or NULL with:
 * ENG_EIO the file cannot be opened or read; ENG_ECSV the file is empty
 * (no header), the header does not parse, has no 'vin' column or names a
 * known column twice; ENG_ELIMIT the header has more than VEH_MAX_COLUMNS
 * columns or a field over VEH_MAX_FIELD bytes; ENG_ENOMEM.
 */
struct veh_reader *veh_open(const char *path, struct eng_err *err);

/*
 * Reads the next data row into *row, which must be zeroed (VEH_ROW_INIT) or
 * hold a row from an earlier call: its old strings are released.  Returns
 * 1 with a row, 0 at the end of the list, or a negative code: ENG_EIO read
 * error; ENG_ECSV broken CSV ("line N: ..."); ENG_ELIMIT field too long;
 * ENG_ENOMEM.  On 0 or a failure *row is unchanged.  After a failure every
 * later call fails the same way.
 */
int veh_next(struct veh_reader *r, struct veh_row *row, struct eng_err *err);

/* Number of header columns; cannot fail. */
size_t veh_columns(const struct veh_reader *r);

/* Closes the reader (and its file unless stdin); NULL-safe. */
void veh_close(struct veh_reader *r);

/* VIN verdicts: OK and CHECK_WARN are usable VINs, the others are not. */
enum veh_vin_status {
    VEH_VIN_OK = 0,
    VEH_VIN_CHECK_WARN, /* check digit wrong, but not a North American WMI */
    VEH_VIN_MISSING,    /* empty */
    VEH_VIN_LENGTH,     /* not 17 characters */
    VEH_VIN_CHARS,      /* a character outside [A-HJ-NPR-Z0-9] */
    VEH_VIN_CHECK       /* check digit wrong on a North American WMI */
};

/*
 * Checks an already normalised VIN (see veh_vin_normalise): 17 characters
 * of [A-HJ-NPR-Z0-9] (I, O, Q are never used) and the check digit in
 * position 9 (49 CFR 565).  The check digit is binding for WMIs starting
 * with 1-5 (North America); elsewhere a mismatch is only a warning.  When
 * why is not NULL it receives a short reason ("" when OK), truncated to n
 * bytes.  Returns a veh_vin_status; cannot fail.
 */
enum veh_vin_status veh_vin_check(const char *vin, char *why, size_t n);

/*
 * The check character ('0'..'9' or 'X') that position 9 of vin should
 * hold, computed from the 16 other positions; '\0' when vin is not 17
 * characters of [A-HJ-NPR-Z0-9].  Cannot fail.
 */
char veh_vin_check_digit(const char *vin);

/*
 * Writes raw without blanks (space, tab), upper-cased (ASCII), into out
 * (n bytes, NUL-terminated, truncated when short) and returns the length of
 * the full result (snprintf-style).  *changed (when not NULL) is set to 1
 * when anything other than leading or trailing blanks was changed.
 * Cannot fail.
 */
size_t veh_vin_normalise(const char *raw, char *out, size_t n, int *changed);

/*
 * The model year coded in position 10 of a 17-character VIN (a 30-year
 * cycle: A = 1980 or 2010, ..., Y = 2000 or 2030, 1..9 = 2001..2009 or
 * 2031..2039), taken as the latest year of the cycle not after latest (0:
 * the current year plus one).  Returns 0 when the VIN or its code is not
 * valid.  Cannot fail.
 */
int veh_vin_model_year(const char *vin, int latest);

#endif
