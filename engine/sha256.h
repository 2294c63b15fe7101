/*
 * sha256 — SHA-256 (FIPS 180-4) of a byte stream, for content ids that must
 * hold against deliberate edits (model ids), where FNV-1a (eng_fnv) would
 * not: FNV is invertible enough that a chosen edit can be compensated to
 * give any 64-bit value.  Not a signature: anyone can recompute a hash.
 *
 * struct sha256 is a value type the caller allocates: sha256_init(), any
 * number of sha256_update(), then sha256_final(), which leaves the digest
 * and the struct needing a new sha256_init() before reuse.  Nothing is
 * allocated; no function can fail.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
    uint32_t h[8];
    uint64_t bytes;                  /* message length so far */
    unsigned char block[64];
    size_t used;                     /* bytes waiting in block */
};

/* Starts a new hash; cannot fail. */
void sha256_init(struct sha256 *s);

/* Adds n bytes of data (n may be 0); cannot fail. */
void sha256_update(struct sha256 *s, const void *data, size_t n);

/* Writes the 32-byte digest to out; cannot fail. */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);

/* The digest of n bytes in one call; cannot fail. */
void sha256(const void *data, size_t n, unsigned char out[SHA256_LEN]);

#endif
