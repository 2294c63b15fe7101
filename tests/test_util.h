/*
 * test_util — file helpers shared by the unit tests: read a file whole,
 * write one, count lines.  Test code only; these never report through
 * CUnit themselves, so a caller asserts on what they return.
 *
 * Ownership: tu_slurp() returns a new string for the caller to free();
 * tu_read_text() returns a static buffer that the next call overwrites.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stddef.h>

/*
 * The whole file at path as a new NUL-terminated string (free it), its
 * length in *len when len is not NULL; NULL when the file cannot be read
 * or memory runs out (*len then unchanged).
 */
char *tu_slurp(const char *path, size_t *len);

/*
 * The file's text in a static buffer, at most 64 KiB - 1 bytes of it; ""
 * when the file cannot be read.  Valid until the next call.
 */
const char *tu_read_text(const char *path);

/* Writes len bytes to path, replacing the file; 0, or -1 on any failure. */
int tu_write_bytes(const char *path, const void *data, size_t len);

/* Writes the string text to path, replacing the file; 0 or -1. */
int tu_write_text(const char *path, const char *text);

/* The number of '\n' bytes in text; cannot fail. */
int tu_count_lines(const char *text);

#endif
