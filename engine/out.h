/*
 * out — output files: regular files replaced atomically, anything else
 * written directly, optionally gzip-compressed.
 *
 * A regular file (or a name that does not exist yet) is written to a
 * temporary file beside it (same folder, so rename() is atomic);
 * out_commit() flushes, fsyncs, renames it over the destination and fsyncs
 * the folder.  Until then the destination is untouched: a crash or a failed
 * run never leaves a half-written output.  A replaced file keeps its
 * permission bits; a new one gets 0644.
 *
 * A symbolic link is followed (to any depth, dangling or not): the file it
 * points to is replaced and the link stays a link.  A character device
 * (/dev/null), a FIFO or a Unix socket is opened and written directly:
 * nothing is renamed, created or synced, and out_abort() cannot take back
 * what was already sent.  A folder or a block device is refused.  The path
 * "-" writes to stdout directly.
 *
 * With OUT_GZIP (or OUT_GZIP_BY_NAME and a path ending in ".gz") the bytes
 * are written as one gzip member (zlib, level 6).
 */
#ifndef OUT_H
#define OUT_H

#include <stddef.h>

#include "eng.h"

struct out_file;

#define OUT_GZIP 1u             /* compress with gzip */
#define OUT_GZIP_BY_NAME 2u     /* compress when the path ends in ".gz" */

/*
 * Starts an output.  Returns a new handle, finished with out_commit() or
 * out_abort() (each frees it), or NULL with ENG_EIO / ENG_ENOMEM.  Opening
 * a FIFO waits for a reader, as a shell redirection does.
 */
struct out_file *out_open(const char *path, struct eng_err *err);

/* As out_open(), with OUT_* flags (0 = as out_open()). */
struct out_file *out_open_flags(const char *path, unsigned flags,
                                struct eng_err *err);

/* Writes n bytes; ENG_OK, ENG_EIO or ENG_ENOMEM (the output is doomed). */
int out_write(struct out_file *o, const void *data, size_t n,
              struct eng_err *err);

/*
 * Makes the output final (see above) and frees o.  Returns ENG_OK, or
 * ENG_EIO with the temporary file removed and the destination untouched
 * (a direct output may hold part of the data).
 */
int out_commit(struct out_file *o, struct eng_err *err);

/*
 * Puts src, a finished and synced file, in place of path, as out_commit()
 * would after writing the same bytes: links followed, a replaced file's
 * permissions kept, the rename synced.  Returns ENG_OK; 1 when a rename
 * cannot do it (stdout, a device, FIFO or socket, a gzip output, another
 * file system), src untouched, for the caller to copy it with out_open();
 * or an error.
 */
int out_install(const char *src, const char *path, unsigned flags,
                struct eng_err *err);

/* Drops the output: removes the temporary file, frees o.  Accepts NULL. */
void out_abort(struct out_file *o);

#endif
