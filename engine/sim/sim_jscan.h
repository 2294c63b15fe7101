/*
 * sim_jscan — a validating JSON scanner that finds values without building
 * a tree: each value is reported as a span of the input text, so a caller
 * can keep a record's original bytes and look inside it later.
 *
 * The grammar is RFC 8259's, strictly: no trailing commas, no comments, no
 * control characters inside strings, valid escapes, numbers without leading
 * zeros or a lone '-'.  Nesting deeper than SIM_JSCAN_MAX_DEPTH is refused.
 *
 * Nothing here allocates; spans borrow the caller's text, which must stay
 * alive and unchanged while they are used.
 */
#ifndef SIM_JSCAN_H
#define SIM_JSCAN_H

#include <stddef.h>

#include "eng.h"

#define SIM_JSCAN_MAX_DEPTH 256

/* A JSON value's text: p[0..n). */
struct sim_jspan {
    const char *p;
    size_t n;
};

enum sim_jtype {
    SIM_JNULL, SIM_JBOOL, SIM_JNUMBER, SIM_JSTRING, SIM_JARRAY, SIM_JOBJECT
};

/*
 * Scans one value at *p (leading white space skipped), no further than end.
 * Returns ENG_OK with *v set and *p just past the value, or ENG_EJSON with
 * *p at the offending byte (v unchanged).
 */
int sim_jscan_value(const char **p, const char *end, struct sim_jspan *v,
                    struct eng_err *err);

/*
 * Scans a whole document: one value and nothing but white space after it.
 * Returns ENG_OK and sets *v, or ENG_EJSON with the byte offset in the
 * message and in *bad_at (when not NULL).
 */
int sim_jscan_document(const char *text, size_t len, struct sim_jspan *v,
                       size_t *bad_at, struct eng_err *err);

/* The type of a scanned value, from its first byte; cannot fail. */
enum sim_jtype sim_jscan_type(const struct sim_jspan *v);

/*
 * Walks the members of an object or the elements of an array.  Initialise
 * with sim_jscan_iter_init(); each sim_jscan_next() returns 1 and sets *val
 * (and *key for objects; key may be NULL), 0 at the end, or -1 when the
 * span is not a container or its contents are not valid JSON (missing or
 * trailing commas, a bad member or value).  The span need not have been
 * scanned before: walking validates everything between its brackets, so a
 * text that starts with '{', ends with '}' and walks to 0 is a valid object.
 * Fields are private.
 */
struct sim_jiter {
    const char *p;
    const char *end;
    size_t count;
    int object;
    int done;
    int bad;
};

void sim_jscan_iter_init(struct sim_jiter *it, const struct sim_jspan *v);
int sim_jscan_next(struct sim_jiter *it, struct sim_jspan *key,
                   struct sim_jspan *val);

/*
 * Decodes a scanned string value into out (cap bytes, NUL added), escapes
 * resolved to UTF-8.  Returns ENG_OK and the length in *len (when not
 * NULL), ENG_EDATA when v is not a string, or ENG_ELIMIT when out is too
 * small (out then holds a truncated prefix).  A decoded NUL byte is refused
 * with ENG_EDATA.
 */
int sim_jscan_string(const struct sim_jspan *v, char *out, size_t cap,
                     size_t *len);

/* Whether a scanned string equals the text lit (after decoding). */
int sim_jscan_string_is(const struct sim_jspan *v, const char *lit);

/*
 * The value of a scanned number, or of a string holding exactly a number
 * (JSON number syntax); returns ENG_OK and sets *out, else ENG_EDATA.
 */
int sim_jscan_number(const struct sim_jspan *v, double *out);

#endif
