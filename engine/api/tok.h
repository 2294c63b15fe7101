/*
 * tok — the token store: users' OAuth token pairs, their refresh state, and
 * the file where rotated refresh tokens are kept across runs.
 *
 * A token pair (access token, refresh token, expiry) belongs to a user, and
 * every vehicle of that user shares it.  tok_register() hands back one
 * struct tok_pair per refresh token, so that fifty vehicles of one user
 * trigger one refresh, not fifty.  The refresh token given at the first
 * registration is the pair's key: every rotation is recorded under it, so a
 * later run that registers the same (by then dead) refresh token from its
 * vehicle list is given the newest pair of the chain instead.
 *
 * The store file (optional) holds one JSON object per line, one line per
 * rotation:
 *     {"key":"<registered refresh token>","access_token":"...",
 *      "refresh_token":"...","expires_at":"2024-05-01T12:00:00Z",
 *      "rotated_at":"2024-05-01T10:00:00Z"}
 * The last line for a key wins.  The file is created with mode 0600, opened
 * O_APPEND and locked (fcntl write lock) for the life of the store, so two
 * processes never share one file.  Each rotation is written with one write()
 * and fsync'd before the new access token becomes visible through
 * tok_pair_access(): a crash at any point loses no consent.  A torn last line
 * (a crash during the write) is ignored and cut off on the next open; other
 * unreadable lines are skipped and counted.  When most lines are superseded
 * the file is compacted on open (temporary file, fsync, rename), as far as
 * the directory allows: a failed compaction leaves the file as it was.
 *
 * This module does no HTTP.  The caller performs the refresh request:
 * tok_refresh_begin() gives the refresh token and marks the pair refreshing,
 * tok_refresh_complete() takes the token endpoint's 200 body, and
 * tok_refresh_fail() records a refresh that cannot succeed.  While a pair is
 * refreshing, other users of it wait (tok_pair_state() says so).
 *
 * Secrets: tokens never appear in error messages; tok_pair_fingerprint()
 * names a pair in logs with 32 bits of a hash of its key, from which the
 * token cannot be recovered.
 *
 * Ownership: the store owns every pair; pairs are borrowed pointers valid
 * until tok_store_free().  Not thread-safe: one thread drives a store.
 * Memory grows with the number of distinct pairs registered or read from the
 * file (about 200 bytes each plus the tokens).
 */
#ifndef TOK_H
#define TOK_H

#include <stddef.h>

#include "eng.h"

struct tok_store;
struct tok_pair;

/* Seconds before expires_at at which a pair is already treated as stale. */
#define TOK_EXPIRY_SKEW 60

/* Lifetime assumed when the token endpoint sends no expires_in. */
#define TOK_DEFAULT_LIFETIME 7200

enum tok_state {
    TOK_READY,      /* the access token may be used */
    TOK_STALE,      /* expired or rejected: a refresh must run first */
    TOK_REFRESHING, /* a refresh is in flight: wait for it */
    TOK_FAILED      /* no refresh can succeed in this run */
};

/*
 * Opens the store.  path NULL keeps rotations in memory only (they are lost
 * at exit).  Otherwise the file is created if absent (0600; an existing file
 * with group or other permissions is narrowed to 0600), locked, read, its
 * torn last line cut off, and compacted when most lines are superseded
 * (best effort).
 * Returns a new store; free with tok_store_free().  Returns NULL with
 * ENG_EIO (cannot open, create, lock or truncate; locked by another process)
 * or ENG_ENOMEM.
 */
struct tok_store *tok_store_open(const char *path, struct eng_err *err);

/*
 * As tok_store_open(), but a lock held by another process is waited for,
 * up to timeout seconds (polled every 0.1 s): waiting (when not NULL) is
 * called once, with a line saying so ("waiting for the lock on token
 * store '...' (held by pid N), up to T s"), when the wait begins.  After
 * the timeout: NULL with ENG_EIO, naming the holder's pid.  timeout 0 is
 * tok_store_open().
 */
struct tok_store *tok_store_open_wait(const char *path, double timeout,
                                      void (*waiting)(void *ud,
                                                      const char *line),
                                      void *ud, struct eng_err *err);

/* Closes the file (releasing the lock) and frees every pair; NULL-safe. */
void tok_store_free(struct tok_store *st);

/*
 * Registers a vehicle's token pair and returns the pair shared by every
 * vehicle registered with the same refresh token (or, when refresh is NULL
 * or empty, the same access token).  If the store already holds a newer pair
 * for that refresh token (an earlier rotation, in this run or recorded in the
 * file), the newest pair is used and the arguments are ignored.  access may
 * be NULL or empty: the pair then starts stale.  expires_at is Unix seconds,
 * 0 when unknown (the token is tried, and a 401 triggers the refresh).
 * Returns a borrowed pointer valid until tok_store_free(); NULL with
 * ENG_EDATA when both tokens are missing, or ENG_ENOMEM.
 */
struct tok_pair *tok_register(struct tok_store *st, const char *access,
                              const char *refresh, long long expires_at,
                              struct eng_err *err);

/*
 * The pair's state at Unix time now: READY turns STALE when
 * now >= expires_at - TOK_EXPIRY_SKEW and the pair has a refresh token, or
 * when it has no access token.  Cannot fail.
 */
enum tok_state tok_pair_state(const struct tok_pair *p, long long now);

/*
 * The current access token, or NULL when there is none.  Borrowed: valid
 * until the next rotation of the pair; copy it into the request at once.
 */
const char *tok_pair_access(const struct tok_pair *p);

/* Bumped by every rotation; lets a 401 tell a stale token from a new one. */
unsigned tok_pair_generation(const struct tok_pair *p);

/* Expiry of the current access token in Unix seconds, 0 when unknown. */
long long tok_pair_expires_at(const struct tok_pair *p);

/* "tk-" and 8 hex digits naming the pair in logs; borrowed, cannot fail. */
const char *tok_pair_fingerprint(const struct tok_pair *p);

/* The status given to every vehicle of a FAILED pair, else NULL. */
const char *tok_pair_failure(const struct tok_pair *p);

/*
 * A request made with generation gen was refused (HTTP 401).  If the pair is
 * still at that generation and READY, it becomes STALE so that exactly one
 * refresh follows; a pair without a refresh token becomes FAILED with
 * "error:AUTHENTICATION".  Cannot fail.
 */
void tok_pair_reject(struct tok_pair *p, unsigned gen);

/*
 * Starts a refresh: the pair must be STALE (or READY, for an early refresh)
 * and have a refresh token.  Marks it REFRESHING and sets *refresh to the
 * refresh token to send (borrowed: valid until the refresh completes, fails
 * or is abandoned; a secret, never to be logged).  Returns ENG_OK, or
 * ENG_EUSAGE (pair refreshing, failed, or without refresh token) with the
 * pair and *refresh unchanged.
 */
int tok_refresh_begin(struct tok_pair *p, const char **refresh,
                      struct eng_err *err);

/*
 * Gives up a refresh that was begun but never sent: REFRESHING becomes
 * STALE again.  Cannot fail; does nothing in any other state.
 */
void tok_refresh_abandon(struct tok_pair *p);

/*
 * Completes a refresh with the token endpoint's 200 body: reads
 * access_token, refresh_token (kept unchanged if absent) and expires_in
 * (TOK_DEFAULT_LIFETIME if absent), appends the rotation to the store file
 * and fsyncs it, and only then makes the new pair current (READY, next
 * generation).  now is the Unix time of the response.
 * Returns ENG_OK.  ENG_EHTTP (a token holds a byte outside visible ASCII,
 * so it cannot go into a header): the pair becomes FAILED
 * ("error:AUTHENTICATION:BAD_TOKEN_RESPONSE") and nothing is stored.
 * ENG_EJSON or ENG_EDATA (the body is not a token
 * response): the pair stays REFRESHING, so the caller may retry or call
 * tok_refresh_fail().  ENG_EIO (write or fsync failed): the pair becomes
 * FAILED ("error:AUTHENTICATION:TOKEN_STORE") and the new tokens are
 * dropped; the caller should stop the run, since the consent can no longer
 * be kept.  ENG_ENOMEM: pair unchanged.
 */
int tok_refresh_complete(struct tok_store *st, struct tok_pair *p,
                         const char *body, size_t len, long long now,
                         struct eng_err *err);

/*
 * 1 when s is a non-empty string of visible ASCII (0x21..0x7e) only, the
 * bytes a token may hold to be put into an HTTP header or form; else 0
 * (NULL included).  Cannot fail.
 */
int tok_header_safe(const char *s);

/*
 * 1 when each token the pair holds passes tok_header_safe(), else 0 (a
 * vehicle list's token with CR/LF, say).  Cannot fail.
 */
int tok_pair_header_safe(const struct tok_pair *p);

/*
 * Records a refresh that will not succeed in this run: the pair becomes
 * FAILED and status (e.g. "error:AUTHENTICATION:REFRESH_FAILED", copied) is
 * what every vehicle of the pair gets.  Only when memory runs out is a
 * fixed "error:AUTHENTICATION" used instead.  Cannot fail.
 */
void tok_refresh_fail(struct tok_pair *p, const char *status);

/*
 * The caller's slot on a pair (e.g. a cache of the user's vehicle ids).
 * The store never reads or frees it.  Cannot fail.
 */
void tok_pair_set_user(struct tok_pair *p, void *user);
void *tok_pair_user(const struct tok_pair *p);

struct tok_stats {
    size_t pairs;         /* distinct pairs known */
    size_t lines_read;    /* complete lines read from the file */
    size_t lines_skipped; /* unreadable complete lines (not the torn one) */
    size_t torn_bytes;    /* bytes of a torn last line that were cut off */
    size_t rotations;     /* refreshes completed in this run */
    int compacted;        /* the file was rewritten on open */
};

/* Fills *out; cannot fail. */
void tok_store_stats(const struct tok_store *st, struct tok_stats *out);

/*
 * Parses an ISO-8601 timestamp "YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+hh:mm]"
 * (no zone = UTC) or a whole number of Unix seconds before the year 10000
 * into *out.  Returns ENG_OK, or ENG_EDATA with *out unchanged.
 */
int tok_parse_time(const char *s, long long *out, struct eng_err *err);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" into out (21 bytes); cannot fail. */
void tok_format_time(long long t, char *out);

/*
 * The fingerprint of any secret: "tk-" and 8 hex digits (32 bits of a
 * 64-bit FNV-1a hash) into out (12 bytes).  Cannot fail.
 */
void tok_fingerprint(const char *secret, char *out);

#endif
