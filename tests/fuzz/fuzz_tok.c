/*
 * fuzz_tok — the token store's file (tok_store_open), then a rotation
 * written to it and read back.
 *
 * Invariants: a store opens on any content (only I/O and memory fail);
 * its counters agree (skipped <= read, pairs <= read, torn bytes within
 * the file); a registered pair has a "tk-" and 8 hex digits fingerprint
 * and a state that matches its tokens; opening the file again (torn line
 * cut off, maybe compacted) finds no more pairs, no torn line and nothing
 * to compact; a rotation completed on top of the content survives a reopen:
 * registering the first refresh token again gives the rotated tokens.
 */
#include <stdio.h>
#include <string.h>

#include "api/tok.h"
#include "fuzz.h"

#define NOW 1700000000LL

static void check_fingerprint(const struct tok_pair *p)
{
    const char *fp = tok_pair_fingerprint(p);
    FUZZ_CHECK(strlen(fp) == 11 && strncmp(fp, "tk-", 3) == 0);
    FUZZ_CHECK(strspn(fp + 3, "0123456789abcdef") == 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "%s", fuzz_scratch(".tok", data, size));
    struct eng_err err = {0};
    struct tok_store *st = tok_store_open(path, &err);
    FUZZ_CHECK(st != NULL);
    struct tok_stats a;
    tok_store_stats(st, &a);
    FUZZ_CHECK(a.lines_skipped <= a.lines_read);
    FUZZ_CHECK(a.pairs <= a.lines_read);
    FUZZ_CHECK(a.torn_bytes <= size);
    FUZZ_CHECK(a.rotations == 0);
    tok_store_free(st);

    st = tok_store_open(path, &err);
    FUZZ_CHECK(st != NULL);
    struct tok_stats b;
    tok_store_stats(st, &b);
    /*
     * Not b.pairs == a.pairs: a token that is one pair's key and another
     * pair's refresh token makes reading depend on the order of the lines,
     * and compaction writes them newest first, so such a file may merge
     * two pairs on the next open (see tests/fuzz/README.md).  Server-issued
     * tokens are unique, so only a damaged file gets there.
     */
    FUZZ_CHECK(b.pairs <= a.pairs);
    FUZZ_CHECK(b.torn_bytes == 0 && b.compacted == 0);
    FUZZ_CHECK(b.lines_read <= a.lines_read);

    /* a rotation on top of whatever the file held */
    struct tok_pair *p = tok_register(st, "fuzz-access-0", "fuzz-refresh-0",
                                      NOW + 3600, &err);
    FUZZ_CHECK(p != NULL);
    check_fingerprint(p);
    enum tok_state s = tok_pair_state(p, NOW);
    FUZZ_CHECK(s == TOK_READY || s == TOK_STALE);
    if (s == TOK_STALE) {
        FUZZ_CHECK(!tok_pair_access(p)
                   || tok_pair_expires_at(p) - TOK_EXPIRY_SKEW <= NOW);
    }
    const char *refresh = NULL;
    FUZZ_CHECK(tok_refresh_begin(p, &refresh, &err) == ENG_OK);
    FUZZ_CHECK(refresh && *refresh);
    FUZZ_CHECK(tok_pair_state(p, NOW) == TOK_REFRESHING);
    unsigned gen = tok_pair_generation(p);
    static const char body[] = "{\"access_token\":\"fuzz-access-1\","
                               "\"refresh_token\":\"fuzz-refresh-1\","
                               "\"expires_in\":7200}";
    FUZZ_CHECK(tok_refresh_complete(st, p, body, sizeof(body) - 1, NOW,
                                    &err) == ENG_OK);
    FUZZ_CHECK(tok_pair_generation(p) == gen + 1);
    FUZZ_CHECK(strcmp(tok_pair_access(p), "fuzz-access-1") == 0);
    FUZZ_CHECK(tok_pair_state(p, NOW) == TOK_READY);
    tok_store_free(st);

    st = tok_store_open(path, &err);
    FUZZ_CHECK(st != NULL);
    p = tok_register(st, "stale", "fuzz-refresh-0", 0, &err);
    FUZZ_CHECK(p != NULL);
    FUZZ_CHECK(tok_pair_access(p)
               && strcmp(tok_pair_access(p), "fuzz-access-1") == 0);
    FUZZ_CHECK(tok_pair_expires_at(p) == NOW + 7200);
    struct tok_pair *q = tok_register(st, NULL, "fuzz-refresh-1", 0, &err);
    FUZZ_CHECK(q == p);
    tok_store_free(st);
    remove(path);
    return 0;
}
