/*
 * vinmap — a hash table keyed by VIN, each VIN holding one fixed-size value:
 * the one VIN table of the project (claims labels, the bundle index, the
 * simulator's fleet).
 *
 * Open addressing with linear probing on eng_fnv (FNV-1a), kept at most
 * half full; it doubles when it would pass that.  Keys are 1 to
 * VINMAP_KEY_MAX bytes, copied into the map and compared exactly (callers
 * normalise first if they need to).  A value is value_size bytes, zeroed
 * when its key is added; the map owns it.
 *
 * Pointers to values are borrowed: valid until the next vinmap_put() (which
 * may move every value) or vinmap_free().  Not safe for concurrent writers;
 * concurrent vinmap_get() calls are fine.
 */
#ifndef VINMAP_H
#define VINMAP_H

#include <stddef.h>

#include "eng.h"

#define VINMAP_KEY_MAX 17

struct vinmap;

/*
 * Returns a new empty map for values of value_size bytes (at least 1); free
 * with vinmap_free().  NULL with ENG_ENOMEM.
 */
struct vinmap *vinmap_new(size_t value_size, struct eng_err *err);

/* Frees the map and its values; NULL-safe. */
void vinmap_free(struct vinmap *m);

/*
 * The value of vin (borrowed, see above), or NULL when vin is not in the map
 * (a key too long or empty is never in it).  Cannot fail.
 */
void *vinmap_get(const struct vinmap *m, const char *vin);

/*
 * Finds vin or adds it with a zeroed value; returns the value (borrowed)
 * and sets *added (when not NULL) to 1 when the key was new, else 0.
 * Returns NULL with ENG_EDATA when vin is empty or longer than
 * VINMAP_KEY_MAX bytes, ENG_ENOMEM when the map cannot grow; the map is
 * then unchanged.
 */
void *vinmap_put(struct vinmap *m, const char *vin, int *added,
                 struct eng_err *err);

/* The number of keys; cannot fail. */
size_t vinmap_count(const struct vinmap *m);

#endif
