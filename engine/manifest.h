/*
 * manifest — OUT.manifest.json: a run's identity and counts in machine
 * form, beside the output it describes (README.md, Outputs: the manifest).
 *
 * The fields, their names and units are listed in README.md; every count
 * is the one the CSV or bundle holds (rows by status, errors by status).
 */
#ifndef MANIFEST_H
#define MANIFEST_H

#include "eng.h"
#include "runsum.h"

/*
 * Returns the manifest of s as a new NUL-terminated JSON text (free() it),
 * or NULL with ENG_ENOMEM.
 */
char *manifest_json(const struct runsum *s, struct eng_err *err);

/*
 * Writes manifest_json(s) to path atomically (out.h).  Returns ENG_OK, or
 * ENG_ENOMEM / ENG_EIO with path untouched.
 */
int manifest_write(const char *path, const struct runsum *s,
                   struct eng_err *err);

#endif
