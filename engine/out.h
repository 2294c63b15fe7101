/*
 * out — output files written atomically.
 *
 * out_open() creates a temporary file beside the destination (same folder, so
 * rename() is atomic); out_commit() flushes, fsyncs, renames it over the
 * destination and fsyncs the folder.  Until then the destination is
 * untouched: a crash or a failed run never leaves a half-written output.
 * out_abort() (or out_commit() failing) removes the temporary file.  The path
 * "-" writes to stdout directly, with no temporary file.
 */
#ifndef OUT_H
#define OUT_H

#include <stddef.h>

#include "eng.h"

struct out_file;

/*
 * Starts an output.  Returns a new handle, finished with out_commit() or
 * out_abort() (each frees it), or NULL with ENG_EIO / ENG_ENOMEM.
 */
struct out_file *out_open(const char *path, struct eng_err *err);

/* Writes n bytes; ENG_OK or ENG_EIO (the output is then doomed). */
int out_write(struct out_file *o, const void *data, size_t n,
              struct eng_err *err);

/*
 * Makes the output final (see above) and frees o.  Returns ENG_OK, or
 * ENG_EIO with the temporary file removed and the destination untouched.
 */
int out_commit(struct out_file *o, struct eng_err *err);

/* Drops the output: removes the temporary file, frees o.  Accepts NULL. */
void out_abort(struct out_file *o);

#endif
