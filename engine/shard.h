/*
 * shard — which rows of a vehicle list belong to shard K of N.
 *
 * A book is split between N processes (K = 0..N-1, as Kubernetes'
 * JOB_COMPLETION_INDEX and Slurm's SLURM_ARRAY_TASK_ID count) so that no
 * two shards ever share a token pair: a row with a refresh token goes to
 * the shard of a hash of that token, so every vehicle of one user (one
 * pair, one refresh) is in one shard, and only that shard rotates the
 * pair; a row without one goes by its VIN (as normalised by the reader),
 * and a row with neither by its row number.  The hash is FNV-1a
 * (eng_fnv) and is never shown: it is no fingerprint of the token.
 *
 * The same list and N always give the same split, on any machine.
 * A plain value type; nothing to free.
 */
#ifndef SHARD_H
#define SHARD_H

#include <stddef.h>

#include "eng.h"

#define SHARD_MAX 100000

struct shard_spec {
    unsigned k;         /* this shard, 0..n-1 */
    unsigned n;         /* shards in all; 0 or 1: no split */
};

/*
 * Parses "K/N" (whole numbers, 1 <= N <= SHARD_MAX, 0 <= K < N).
 * Returns ENG_OK and sets *out, or ENG_EUSAGE with *out unchanged.
 */
int shard_parse(const char *s, struct shard_spec *out, struct eng_err *err);

struct veh_row;

/* The shard (0..n-1) of a row; 0 when n <= 1.  Cannot fail. */
unsigned shard_of(const struct veh_row *row, unsigned n);

/* 1 when the row belongs to spec's shard (always, without a split). */
int shard_keeps(const struct shard_spec *spec, const struct veh_row *row);

/*
 * Counts the rows of the vehicle list at path that spec keeps (every row
 * when spec is NULL).  Returns ENG_OK with *count set, or the reader's
 * error (veh_open, veh_next) with *count unchanged.
 */
int shard_count(const char *path, const struct shard_spec *spec,
                size_t *count, struct eng_err *err);

#endif
