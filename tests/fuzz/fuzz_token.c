/*
 * fuzz_token — an answer of the OAuth token endpoint
 * (tok_refresh_complete), kept in a store file and read back.
 *
 * Invariants: a body that is not a token answer fails with ENG_EJSON or
 * ENG_EDATA and leaves the pair refreshing with its old token and
 * generation, and its message holds no token; an accepted one gives the
 * next generation, a non-empty access token and an expiry in
 * [now, now + 1e9], READY unless the lifetime is inside TOK_EXPIRY_SKEW
 * (then stale at once, as tok.h says); the rotation is in the file: a new
 * store on the same file gives the first refresh token's pair the same
 * access token and expiry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/tok.h"
#include "fuzz.h"

#define NOW 1700000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "%s", fuzz_scratch(".tok", NULL, 0));
    struct eng_err err = {0};
    struct tok_store *st = tok_store_open(path, &err);
    FUZZ_CHECK(st != NULL);
    struct tok_pair *p = tok_register(st, "fuzz-access-0",
                                      "fuzz-refresh-secret-0", NOW + 60,
                                      &err);
    FUZZ_CHECK(p != NULL);
    const char *refresh;
    FUZZ_CHECK(tok_refresh_begin(p, &refresh, &err) == ENG_OK);
    unsigned gen = tok_pair_generation(p);
    int rc = tok_refresh_complete(st, p, (const char *)data, size, NOW, &err);
    FUZZ_CHECK(rc == ENG_OK || rc == ENG_EJSON || rc == ENG_EDATA
               || rc == ENG_EHTTP);
    if (rc == ENG_EHTTP) {
        /* a token unfit for a header: the pair fails, nothing is stored */
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(!strstr(err.msg, "fuzz-refresh-secret-0"));
        FUZZ_CHECK(tok_pair_state(p, NOW) == TOK_FAILED);
        FUZZ_CHECK(tok_pair_generation(p) == gen);
        tok_store_free(st);
        remove(path);
        return 0;
    }
    if (rc < 0) {
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(!strstr(err.msg, "fuzz-refresh-secret-0"));
        FUZZ_CHECK(!strstr(err.msg, "fuzz-access-0"));
        FUZZ_CHECK(tok_pair_state(p, NOW) == TOK_REFRESHING);
        FUZZ_CHECK(tok_pair_generation(p) == gen);
        FUZZ_CHECK(strcmp(tok_pair_access(p), "fuzz-access-0") == 0);
        tok_refresh_abandon(p);
        FUZZ_CHECK(tok_pair_state(p, NOW) == TOK_STALE);
        tok_store_free(st);
        remove(path);
        return 0;
    }
    FUZZ_CHECK(tok_pair_generation(p) == gen + 1);
    const char *acc = tok_pair_access(p);
    FUZZ_CHECK(acc && *acc);
    long long exp = tok_pair_expires_at(p);
    FUZZ_CHECK(exp >= NOW && exp <= NOW + 1000000000LL);
    /* a lifetime inside the skew is stale at once, as tok.h says */
    FUZZ_CHECK(tok_pair_state(p, NOW)
               == (NOW < exp - TOK_EXPIRY_SKEW ? TOK_READY : TOK_STALE));
    char *copy = strdup(acc);
    FUZZ_CHECK(copy != NULL);
    tok_store_free(st);

    st = tok_store_open(path, &err);
    FUZZ_CHECK(st != NULL);
    p = tok_register(st, "stale", "fuzz-refresh-secret-0", 0, &err);
    FUZZ_CHECK(p != NULL);
    FUZZ_CHECK(tok_pair_access(p) && strcmp(tok_pair_access(p), copy) == 0);
    FUZZ_CHECK(tok_pair_expires_at(p) == exp);
    free(copy);
    tok_store_free(st);
    remove(path);
    return 0;
}
