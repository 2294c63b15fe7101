/*
 * sim_auth — the simulator's tokens: user access and refresh tokens (seeded
 * from vehicles.csv, then rotated by refresh grants) and client-credentials
 * tokens for the v3 API.
 *
 * Rules:
 *   - an access token is valid until its expiry: expires_at from the CSV for
 *     the initial ones, now + access_ttl for refreshed ones, now + 3600 for
 *     client-credentials ones; refreshing never revokes an older access
 *     token;
 *   - a refresh token rotates: its first use returns a new access and a new
 *     refresh token; for grace seconds after that first use, presenting it
 *     again returns the same new pair (so a client that lost the answer can
 *     retry); after the grace it is refused (invalid_grant), as is an
 *     unknown token.  Refresh tokens themselves do not expire.
 * New tokens are "at_", "rt_" or "v3_" followed by 32 hex digits drawn from
 * a generator seeded with the run's seed.
 *
 * Thread safety: every function may be called from any thread.  Times are
 * seconds (with fractions) on the simulator's clock (see sim_api.h).
 *
 * Ownership: sim_auth_new() returns a new table freed with sim_auth_free();
 * it copies what it keeps from the fleet.
 */
#ifndef SIM_AUTH_H
#define SIM_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "eng.h"
#include "sim_fleet.h"

struct sim_auth;

#define SIM_AUTH_TOKEN_LEN 35       /* "at_" + 32 hex digits */
#define SIM_AUTH_V3_TTL 3600

enum sim_auth_kind {
    SIM_AUTH_USER = 1,      /* user access token (v2 and v3) */
    SIM_AUTH_CLIENT = 2     /* client-credentials token (v3 only) */
};

enum sim_auth_status {
    /*
     * Positive, so that no answer about a token can be mistaken for an
     * ENG_E* failure (ENG_ENOMEM is -1).
     */
    SIM_AUTH_OK = 0,
    SIM_AUTH_UNKNOWN = 1,
    SIM_AUTH_EXPIRED = 2
};

/*
 * Builds the table from the fleet's grants.  access_ttl is the life of
 * refreshed access tokens, grace the reuse window of a used refresh token.
 * Returns NULL with ENG_ENOMEM, or ENG_EDATA when one token belongs to two
 * users.
 */
struct sim_auth *sim_auth_new(const struct sim_fleet *fleet,
                              double access_ttl, double grace,
                              uint64_t seed, struct eng_err *err);

/* Frees the table; NULL does nothing. */
void sim_auth_free(struct sim_auth *a);

/*
 * Checks access token tok (len bytes) at time now.  On SIM_AUTH_OK sets
 * *kind and, for a user token, *user.  Otherwise returns SIM_AUTH_UNKNOWN
 * (including refresh tokens presented as access tokens) or
 * SIM_AUTH_EXPIRED.
 */
int sim_auth_check(struct sim_auth *a, const char *tok, size_t len,
                   double now, enum sim_auth_kind *kind, size_t *user);

/*
 * Uses refresh token rt at time now.  On SIM_AUTH_OK writes the new access
 * and refresh tokens (NUL-terminated) into access and refresh (each at
 * least SIM_AUTH_TOKEN_LEN + 1 bytes) and the access token's remaining life
 * into *expires_in (whole seconds, rounded).  *replay is 1 when this was a
 * reuse inside the grace.
 * Returns SIM_AUTH_UNKNOWN for an unknown token, SIM_AUTH_EXPIRED for a used
 * one past its grace, ENG_ENOMEM when out of memory; the outputs are then
 * untouched.
 */
int sim_auth_refresh(struct sim_auth *a, const char *rt, double now,
                     char *access, char *refresh, long long *expires_in,
                     int *replay);

/*
 * Issues a client-credentials token valid SIM_AUTH_V3_TTL seconds into
 * token (at least SIM_AUTH_TOKEN_LEN + 1 bytes).  Returns SIM_AUTH_OK or
 * ENG_ENOMEM.
 */
int sim_auth_client_token(struct sim_auth *a, double now, char *token);

/*
 * A short, non-secret fingerprint of a token for logs: 8 hex digits and a
 * NUL into out (9 bytes).  Cannot fail.
 */
void sim_auth_fingerprint(const char *tok, size_t len, char *out);

#endif
