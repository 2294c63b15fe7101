/*
 * sim_buf — a growable byte buffer for building response bodies.
 *
 * Invariants: data is NULL (empty, nothing allocated) or holds len bytes plus
 * a NUL; cap is the allocated size.  A failed append leaves the buffer as it
 * was and sets failed, so a caller may append freely and check once at the
 * end.  Append functions never shrink; sim_buf_release() frees the bytes,
 * sim_buf_detach() hands them over.  Bodies are capped at SIM_BUF_MAX bytes
 * (past that, appends fail as on out-of-memory).
 */
#ifndef SIM_BUF_H
#define SIM_BUF_H

#include <stddef.h>

#define SIM_BUF_MAX ((size_t)1 << 30)

struct sim_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed;
};

#define SIM_BUF_INIT {NULL, 0, 0, 0}

/* Appends n bytes of p; returns 0, or -1 (failed set) on no memory. */
int sim_buf_add(struct sim_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string; as sim_buf_add. */
int sim_buf_puts(struct sim_buf *b, const char *s);

/* Appends printf output; as sim_buf_add. */
int sim_buf_printf(struct sim_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Appends s (n bytes) as a JSON string literal with its quotes, escaping
 * quotes, backslashes and control characters; s NULL appends null.  As
 * sim_buf_add.
 */
int sim_buf_json_str(struct sim_buf *b, const char *s, size_t n);

/* Same for a NUL-terminated string (or NULL). */
int sim_buf_json_cstr(struct sim_buf *b, const char *s);

/*
 * Returns the bytes (NUL-terminated, never NULL unless out of memory) and
 * leaves b empty; free the result with free().  *len gets the length when
 * len is not NULL.
 */
char *sim_buf_detach(struct sim_buf *b, size_t *len);

/* Frees the bytes and empties b; b may hold nothing.  Cannot fail. */
void sim_buf_release(struct sim_buf *b);

#endif
