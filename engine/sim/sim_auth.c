/* sim_auth — token tables with refresh rotation. */
#include "sim_auth.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind { TOK_ACCESS, TOK_REFRESH, TOK_CLIENT };

struct tok {
    char *str;
    size_t len;
    enum tok_kind kind;
    size_t user;
    double expires;         /* access and client tokens; 0: never */
    double used_at;         /* refresh tokens: -1 until first use */
    size_t next_access;     /* refresh tokens, once used: the pair given */
    size_t next_refresh;
};

/*
 * Tokens live in a growing array; an open-addressing table maps strings to
 * positions.  One read-write lock covers both: checks (the hot path) share
 * it, refreshes and new tokens take it alone.
 */
struct sim_auth {
    pthread_rwlock_t lock;
    struct tok *toks;
    size_t n;
    size_t cap;
    size_t *slots;          /* position + 1; 0 is empty */
    size_t mask;
    double access_ttl;
    double grace;
    uint64_t rng;
};

static uint64_t hash_tok(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 31);
}

/* The slot holding tok, or the empty slot where it would go. */
static size_t *probe(const struct sim_auth *a, const char *s, size_t n)
{
    size_t i = (size_t)hash_tok(s, n) & a->mask;
    for (;;) {
        size_t *slot = &a->slots[i];
        if (*slot == 0)
            return slot;
        const struct tok *t = &a->toks[*slot - 1];
        if (t->len == n && memcmp(t->str, s, n) == 0)
            return slot;
        i = (i + 1) & a->mask;
    }
}

static struct tok *find(const struct sim_auth *a, const char *s, size_t n)
{
    if (!a->slots)
        return NULL;
    size_t *slot = probe(a, s, n);
    return *slot ? &a->toks[*slot - 1] : NULL;
}

static int rehash(struct sim_auth *a)
{
    size_t size = a->slots ? (a->mask + 1) * 2 : 256;
    size_t *slots = calloc(size, sizeof(*slots));
    if (!slots)
        return ENG_ENOMEM;
    free(a->slots);
    a->slots = slots;
    a->mask = size - 1;
    for (size_t i = 0; i < a->n; i++)
        *probe(a, a->toks[i].str, a->toks[i].len) = i + 1;
    return ENG_OK;
}

/* Adds a token (copied); returns its position or -1 when out of memory. */
static long add(struct sim_auth *a, const char *s, enum tok_kind kind,
                size_t user, double expires)
{
    if (a->n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct tok *t = realloc(a->toks, cap * sizeof(*t));
        if (!t)
            return -1;
        a->toks = t;
        a->cap = cap;
    }
    if (!a->slots || (a->n + 1) * 2 > a->mask + 1) {
        if (rehash(a) < 0)
            return -1;
    }
    struct tok *t = &a->toks[a->n];
    memset(t, 0, sizeof(*t));
    t->len = strlen(s);
    t->str = malloc(t->len + 1);
    if (!t->str)
        return -1;
    memcpy(t->str, s, t->len + 1);
    t->kind = kind;
    t->user = user;
    t->expires = expires;
    t->used_at = -1;
    *probe(a, t->str, t->len) = a->n + 1;
    return (long)a->n++;
}

/* Adds a token from the fleet unless present; a clash across users fails. */
static int seed_token(struct sim_auth *a, const char *s, enum tok_kind kind,
                      size_t user, double expires, struct eng_err *err)
{
    const struct tok *t = find(a, s, strlen(s));
    if (t) {
        if (t->user != user || t->kind != kind)
            return eng_err_set(err, ENG_EDATA,
                               "a token of user %zu is also given to "
                               "user %zu", t->user, user);
        return ENG_OK;
    }
    if (add(a, s, kind, user, expires) < 0)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    return ENG_OK;
}

struct sim_auth *sim_auth_new(const struct sim_fleet *fleet,
                              double access_ttl, double grace,
                              uint64_t seed, struct eng_err *err)
{
    struct sim_auth *a = calloc(1, sizeof(*a));
    if (!a) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    if (pthread_rwlock_init(&a->lock, NULL) != 0) {
        free(a);
        eng_err_set(err, ENG_ENOMEM, "cannot create a lock");
        return NULL;
    }
    a->access_ttl = access_ttl;
    a->grace = grace;
    a->rng = seed ^ 0x746f6b656e73ULL;
    for (size_t i = 0; i < sim_fleet_grant_count(fleet); i++) {
        const struct sim_grant *g = sim_fleet_grant(fleet, i);
        int rc = ENG_OK;
        if (g->access)
            rc = seed_token(a, g->access, TOK_ACCESS, g->user,
                            (double)g->expires_at, err);
        if (rc == ENG_OK && g->refresh)
            rc = seed_token(a, g->refresh, TOK_REFRESH, g->user, 0, err);
        if (rc < 0) {
            sim_auth_free(a);
            return NULL;
        }
    }
    return a;
}

void sim_auth_free(struct sim_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->toks[i].str);
    free(a->toks);
    free(a->slots);
    pthread_rwlock_destroy(&a->lock);
    free(a);
}

int sim_auth_check(struct sim_auth *a, const char *tok, size_t len,
                   double now, enum sim_auth_kind *kind, size_t *user)
{
    pthread_rwlock_rdlock(&a->lock);
    const struct tok *t = find(a, tok, len);
    int rc = SIM_AUTH_UNKNOWN;
    if (t && t->kind != TOK_REFRESH) {
        if (t->expires > 0 && now >= t->expires) {
            rc = SIM_AUTH_EXPIRED;
        } else {
            rc = SIM_AUTH_OK;
            *kind = t->kind == TOK_CLIENT ? SIM_AUTH_CLIENT : SIM_AUTH_USER;
            *user = t->user;
        }
    }
    pthread_rwlock_unlock(&a->lock);
    return rc;
}

/* splitmix64: cheap, and good enough for tokens nobody attacks. */
static uint64_t next_random(struct sim_auth *a)
{
    uint64_t z = (a->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A fresh token string not yet in the table; caller holds the write lock. */
static void new_token(struct sim_auth *a, const char *prefix, char *out)
{
    do {
        uint64_t hi = next_random(a);
        uint64_t lo = next_random(a);
        snprintf(out, SIM_AUTH_TOKEN_LEN + 1, "%s%016llx%016llx", prefix,
                 (unsigned long long)hi, (unsigned long long)lo);
    } while (find(a, out, strlen(out)));
}

int sim_auth_refresh(struct sim_auth *a, const char *rt, double now,
                     char *access, char *refresh, long long *expires_in,
                     int *replay)
{
    pthread_rwlock_wrlock(&a->lock);
    int rc = SIM_AUTH_OK;
    struct tok *t = find(a, rt, strlen(rt));
    if (!t || t->kind != TOK_REFRESH) {
        rc = SIM_AUTH_UNKNOWN;
        goto out;
    }
    if (t->used_at >= 0) {
        if (now - t->used_at > a->grace) {
            rc = SIM_AUTH_EXPIRED;
            goto out;
        }
        const struct tok *na = &a->toks[t->next_access];
        memcpy(access, na->str, na->len + 1);
        memcpy(refresh, a->toks[t->next_refresh].str,
               a->toks[t->next_refresh].len + 1);
        *expires_in = na->expires > now
                      ? (long long)llround(na->expires - now) : 0;
        *replay = 1;
        goto out;
    }
    char at[SIM_AUTH_TOKEN_LEN + 1];
    char nrt[SIM_AUTH_TOKEN_LEN + 1];
    new_token(a, "at_", at);
    size_t pos = (size_t)(t - a->toks);   /* add() may move the array */
    size_t user = t->user;
    long ia = add(a, at, TOK_ACCESS, user, now + a->access_ttl);
    if (ia < 0) {
        rc = ENG_ENOMEM;
        goto out;
    }
    new_token(a, "rt_", nrt);
    long ir = add(a, nrt, TOK_REFRESH, user, 0);
    if (ir < 0) {
        rc = ENG_ENOMEM;
        goto out;
    }
    t = &a->toks[pos];
    t->used_at = now;
    t->next_access = (size_t)ia;
    t->next_refresh = (size_t)ir;
    memcpy(access, at, sizeof(at));
    memcpy(refresh, nrt, sizeof(nrt));
    *expires_in = (long long)llround(a->access_ttl);
    *replay = 0;
out:
    pthread_rwlock_unlock(&a->lock);
    return rc;
}

int sim_auth_client_token(struct sim_auth *a, double now, char *token)
{
    char tok[SIM_AUTH_TOKEN_LEN + 1];
    pthread_rwlock_wrlock(&a->lock);
    new_token(a, "v3_", tok);
    long i = add(a, tok, TOK_CLIENT, 0, now + SIM_AUTH_V3_TTL);
    pthread_rwlock_unlock(&a->lock);
    if (i < 0)
        return ENG_ENOMEM;
    memcpy(token, tok, sizeof(tok));
    return SIM_AUTH_OK;
}

void sim_auth_fingerprint(const char *tok, size_t len, char *out)
{
    uint64_t h = hash_tok(tok, len);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    snprintf(out, 9, "%08x", (unsigned)(h >> 32));
}
