/*
 * buf — a growable byte buffer with a hard size limit (curl's dynbuf idea).
 *
 * Invariants: data is NULL or holds len bytes followed by a NUL, len < cap;
 * len never exceeds max.  An append that would pass max fails with
 * ENG_ELIMIT and leaves the buffer as it was; an allocation failure returns
 * ENG_ENOMEM, also leaving it as it was.  The caller owns the struct:
 * buf_init() it, buf_release() it; buf_reset() empties it and keeps memory.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

#include "eng.h"

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

/* Sets up an empty buffer that may hold up to max bytes; cannot fail. */
void buf_init(struct buf *b, size_t max);

/* Frees the memory; b is empty (same max) afterwards.  Accepts NULL. */
void buf_release(struct buf *b);

/* Empties b and keeps its memory; cannot fail. */
void buf_reset(struct buf *b);

/* Appends n bytes; ENG_OK, ENG_ELIMIT or ENG_ENOMEM (b unchanged). */
int buf_add(struct buf *b, const void *data, size_t n, struct eng_err *err);

/*
 * Extends b by n bytes the caller fills in (the data is NUL-terminated
 * after them).  Returns a pointer to the first new byte, valid until the
 * next change of b, or NULL with ENG_ELIMIT / ENG_ENOMEM (b unchanged).
 */
char *buf_extend(struct buf *b, size_t n, struct eng_err *err);

/* Appends a NUL-terminated string; as buf_add(). */
int buf_adds(struct buf *b, const char *s, struct eng_err *err);

/* Appends formatted text; as buf_add(). */
int buf_printf(struct buf *b, struct eng_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Appends one CSV field (RFC 4180): quoted when it holds a comma, quote,
 * CR or LF.  With neutralise set, a value starting with '=', '+', '-', '@',
 * tab or CR is prefixed with a single quote first, so that spreadsheets do
 * not run it as a formula, unless the whole value is a plain decimal
 * number ("-0042", "+1.5", "-3e2" stay as they are).  NULL appends
 * nothing.  As buf_add().
 */
int buf_csv(struct buf *b, const char *s, int neutralise,
            struct eng_err *err);

/* Appends a number for CSV: empty for NAN, integers without a fraction,
 * others with up to 10 significant digits.  As buf_add(). */
int buf_num(struct buf *b, double v, struct eng_err *err);

/*
 * Appends s (NULL: "") as a JSON string literal, quotes included: '"' and
 * '\\' get a backslash, other bytes below 0x20 a \u00XX escape, the rest
 * (UTF-8 included) is copied.  As buf_add().
 */
int buf_json_str(struct buf *b, const char *s, struct eng_err *err);

#endif
