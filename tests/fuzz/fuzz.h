/*
 * fuzz — what the fuzz targets share: the libFuzzer entry point, a check
 * that aborts on a broken invariant, and a scratch file for the parsers
 * that read a path.
 *
 * Each target is one file defining LLVMFuzzerTestOneInput().  Built with
 * clang -fsanitize=fuzzer it is a fuzzer; linked with replay.c (any C
 * compiler, with the sanitizers) it replays a corpus.  A target asserts
 * what the module promises about its result, not only that it returns:
 * FUZZ_CHECK() prints the broken promise and aborts, which both libFuzzer
 * and the replay report as a crash.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "file:line: invariant broken: what" and aborts. */
void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

#define FUZZ_CHECK(cond) \
    ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

/*
 * A new NUL-terminated copy of data (free with free()); aborts when memory
 * runs out, which libFuzzer's own limits report first.
 */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * Writes data to this process's scratch file (on a tmpfs when there is
 * one) and returns its path, valid until the next call; the files are
 * removed at exit.  Aborts when the file cannot be written: that is the
 * machine, not the target.
 */
const char *fuzz_scratch(const char *suffix, const uint8_t *data,
                         size_t size);

/* 1 when s holds no comma, quote or control byte (CR, LF, ...): safe
 * for a CSV field and a log line. */
int fuzz_csv_safe(const char *s);

#endif
