/*
 * sc_internal — what the files of the Smartcar client share and the unit
 * tests may use.  First the pure pieces (sc_error.c): error envelopes, the
 * retry decision, backoff, response headers, and the status strings of
 * SPEC §4.1.  Then the client's state (sc.c: jobs, discovery, retries, the
 * run; sc_http.c: transfers and set-up).
 *
 * The pure pieces do no I/O and allocate only where they say so; every
 * function cannot fail unless its comment says otherwise.  Strings taken
 * from a response (types, codes, request ids) are cut to their fields' sizes
 * and reduced to safe characters, so that a hostile body cannot put commas,
 * quotes or newlines into a status or a log line.
 */
#ifndef SC_INTERNAL_H
#define SC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "sc.h"
#include "tok.h"

/* Longest status string ("error:TYPE:CODE"), with its NUL. */
#define SC_STATUS_LEN 112

enum sc_shape {
    SC_SHAPE_NONE,  /* empty body */
    SC_SHAPE_V2,    /* {type, code, description, statusCode, requestId,
                       resolution} */
    SC_SHAPE_V1,    /* {error, message, code} */
    SC_SHAPE_V3,    /* {errors: [{status, type, code, ...}]} */
    SC_SHAPE_OAUTH, /* {error, error_description} */
    SC_SHAPE_TEXT   /* not JSON (by Content-Type or by a failed parse), or
                       JSON of no known error shape */
};

struct sc_envelope {
    enum sc_shape shape;
    char type[48];        /* upper case, e.g. "RATE_LIMIT"; "" if none */
    char code[48];        /* e.g. "VEHICLE"; "" when null or absent */
    char request_id[72];  /* from the body; "" if absent */
    char resolution[24];  /* "RETRY_LATER", "REAUTHENTICATE", ...; "" */
    char description[160];/* printable ASCII only, may be cut */
    long status;          /* statusCode / status in the body, 0 if absent */
};

/*
 * Reads an error body.  content_type may be NULL (then the body is tried as
 * JSON); one that names neither json nor is empty makes the body TEXT.  A v1
 * error name is mapped to the v2 type ("vehicle_state_error" becomes
 * VEHICLE_STATE); an OAuth body gets type AUTHENTICATION and its error as
 * code ("invalid_grant" becomes INVALID_GRANT).  Fills *env completely.
 */
void sc_parse_envelope(const char *body, size_t len, const char *content_type,
                       struct sc_envelope *env);

/*
 * The status for an error response: "error:TYPE:CODE", or "error:TYPE"
 * when the code is null.  Without a type (TEXT bodies) the type comes from
 * the HTTP status as in the v2 table (400 VALIDATION, 401 AUTHENTICATION,
 * 403 PERMISSION, 404 RESOURCE_NOT_FOUND, 409 VEHICLE_STATE, 429
 * RATE_LIMIT, 430 BILLING, 500/503/504 SERVER, 501 COMPATIBILITY, 502
 * UPSTREAM) with code "HTTP_<status>"; other statuses give
 * "error:HTTP:<status>".  Writes at most n bytes into out.
 */
void sc_error_status(const struct sc_envelope *env, long http_status,
                     char *out, size_t n);

/* The name of a libcurl error code without CURLE_ ("COULDNT_CONNECT"). */
const char *sc_curl_code_name(int code);

enum sc_verdict {
    SC_V_OK,          /* 2xx: the body is for the caller to judge */
    SC_V_FAIL,        /* final: status holds the row's status */
    SC_V_RETRY,       /* retry after a backoff (at least retry_after) */
    SC_V_RETRY_AFTER, /* retry this request only, after delay seconds */
    SC_V_PAUSE,       /* app rate limit: pause every API request */
    SC_V_REAUTH       /* 401: refresh the token once, then retry */
};

enum sc_cause {
    SC_CAUSE_NONE,
    SC_CAUSE_RATE_VEHICLE,
    SC_CAUSE_RATE_APP,
    SC_CAUSE_SERVER,        /* 5xx, UPSTREAM, 408 */
    SC_CAUSE_VEHICLE_STATE, /* 409 */
    SC_CAUSE_RETRY_LATER,   /* resolution RETRY_LATER on another error */
    SC_CAUSE_NETWORK,
    SC_CAUSE_TIMEOUT,
    SC_CAUSE_PARSE,         /* a 2xx body that is not JSON or cut short */
    SC_CAUSE_AUTH,          /* 401 answered by a refresh */
    SC_CAUSE_COUNT
};

/* What one finished transfer amounts to, as sc_decide() sees it. */
struct sc_outcome {
    int curl_code;         /* CURLE_OK or the transfer's error */
    int too_big;           /* the body passed the size cap */
    long http_status;      /* 0 when no response */
    const struct sc_envelope *env; /* parsed body of a non-2xx answer */
    double retry_after;    /* seconds from Retry-After, < 0 if absent */
    int token_endpoint;    /* the request went to the OAuth token URL */
};

struct sc_decision {
    enum sc_verdict verdict;
    enum sc_cause cause;
    double delay;               /* RETRY_AFTER/PAUSE: the server's wait,
                                   < 0 when it gave none */
    char status[SC_STATUS_LEN]; /* the status if this is the last word */
};

/*
 * The retry policy of smartcar-api.md §10, for one response.  A 401 or 400
 * from the token endpoint fails ("error:AUTHENTICATION:REFRESH_FAILED", or
 * ":INVALID_CLIENT" for invalid_client) instead of asking for a refresh.
 */
void sc_decide(const struct sc_outcome *o, struct sc_decision *d);

/* A short name for a cause ("rate_vehicle", "server", ...). */
const char *sc_cause_name(enum sc_cause c);

/* splitmix64: the next value of the seeded generator at *state. */
uint64_t sc_rand(uint64_t *state);

/*
 * Full-jitter exponential backoff: a uniform draw in
 * [0, min(cap, base * 2^(attempt-1))] seconds; attempt counts from 1.
 */
double sc_backoff(double base, double cap, int attempt, uint64_t *rng);

/*
 * Parses a Retry-After value: delta seconds (a decimal number) or an HTTP
 * date, which is turned into seconds after now (Unix time).  Returns the
 * seconds (0 for a date in the past), or -1 when the value means nothing.
 */
double sc_parse_retry_after(const char *v, long long now);

/*
 * If the raw header line (as libcurl hands it: "Name: value\r\n", no NUL)
 * is the header name (compared case-insensitively), copies its value without
 * surrounding blanks into out (cut to n-1 bytes) and returns 1; otherwise
 * returns 0 and leaves out alone.
 */
int sc_header_value(const char *line, size_t len, const char *name,
                    char *out, size_t n);

/*
 * Copies s into out keeping only [A-Za-z0-9_.-] (and upper-casing letters
 * when upper), at most n-1 bytes.  Used for ids and codes from responses.
 */
void sc_clean_token(const char *s, char *out, size_t n, int upper);

/*
 * Percent-encodes s (all but [A-Za-z0-9-._~]) into a new string; free with
 * free().  Returns NULL when memory runs out.
 */
char *sc_escape(const char *s);

struct cJSON;

/*
 * Parses a whole body as JSON: trailing text other than blanks makes it
 * fail.  Returns a new tree (free with cJSON_Delete(); it never leaves the
 * sc module) or NULL.
 */
struct cJSON *sc_json_parse(const char *body, size_t len);

/*
 * Judges a 2xx service-history body.  Returns 1 with *count set for a JSON
 * array, the wrapped {"serviceHistory": [...]} form, or the v3
 * {"values": [...]} form (possibly under "data"); 0 for JSON of another
 * shape; -1 for a body that is not JSON or is cut short.
 */
int sc_history_records(const char *body, size_t len, long *count);

/*
 * ---- the client's state, shared by sc.c and sc_http.c ----
 *
 * Everything below belongs to one struct sc_client and is read and written
 * only by sc.c and sc_http.c; tests use the pure pieces above.  A slot owns
 * its easy handle, buffers, header list and request body; a task is owned by
 * its vehicle (SC_K_HISTORY, embedded) or by the client (the others, freed
 * when they finish); a discovery record is owned by the client and hung on
 * its pair's user slot for the length of one sc_run().
 */

#define SC_LIST_LIMIT 50        /* vehicles per GET /vehicles page */
#define SC_BODY_KEEP (1u << 20) /* a slot keeps this much buffer between
                                   transfers; bigger ones are released */

/* What a request is for. */
enum sc_kind {
    SC_K_HISTORY, /* a vehicle's service history */
    SC_K_LIST,    /* a page of a user's vehicle ids */
    SC_K_VIN,     /* the vin of one listed vehicle */
    SC_K_REFRESH, /* a refresh of a user's token pair */
    SC_K_CCTOKEN  /* the v3 application token */
};

struct sc_vehicle;
struct sc_disc;

/* One HTTP request to make, remade on each retry. */
struct sc_task {
    enum sc_kind kind;
    struct sc_vehicle *job; /* HISTORY */
    struct sc_disc *disc;   /* LIST, VIN */
    struct tok_pair *pair;  /* REFRESH: the pair; LIST, VIN, v2 HISTORY:
                               the pair that authorises it */
    size_t arg;             /* LIST: offset; VIN: index of the id */
    const char *secret;     /* REFRESH: the refresh token, borrowed from
                               the pair while it is REFRESHING */
    int attempts;           /* requests sent */
    int reauthed;           /* a 401 was answered by a refresh */
    unsigned gen;           /* token generation of the last request */
    double due;             /* monotonic seconds */
    double sent;            /* when the last request left */
    int queued;
    struct sc_task *prev;
    struct sc_task *next;
};

/* One job taken from next(), until done(). */
struct sc_vehicle {
    size_t index;
    char *vin;
    char *vehicle_id;
    char *user_id;
    struct tok_pair *pair;
    struct sc_task task;
    struct sc_vehicle *wnext; /* waiting for discovery */
};

/* A user's vehicles, listed once per pair and kept for the run. */
struct sc_disc {
    struct tok_pair *pair;
    char **ids;
    char **vins;            /* NULL until read */
    size_t n;
    size_t cap;
    size_t pending;         /* LIST and VIN tasks not finished */
    int listed;             /* the last page was read */
    int sorted;             /* ids/vins sorted by vin (after settling) */
    char fail[SC_STATUS_LEN];
    struct sc_vehicle *waiting;
    struct sc_disc *next;
};

struct sc_body {
    char *p;
    size_t len;
    size_t cap;
};

/* One reusable transfer: an easy handle and its buffers. */
struct sc_slot {
    struct sc_client *sc;
    CURL *easy;
    struct sc_task *task;   /* NULL when free */
    struct sc_body body;
    int too_big;
    int oom;
    char request_id[72];
    char unit[16];
    char retry_after[64];
    char content_type[96];
    struct curl_slist *headers;
    char *post;             /* form body: a secret for token requests */
    char *url;
    char errbuf[CURL_ERROR_SIZE];
};

/* The application token of the client-credentials grant (v3). */
struct sc_cc {
    char *access;
    long long expires;
    enum tok_state state;
    unsigned gen;
    char fail[SC_STATUS_LEN];
};

struct sc_client {
    struct sc_config cfg;
    char *api;
    char *v3;
    char *token_url;
    char *cc_url;
    char *client_id;
    char *client_secret;
    char *basic;            /* "Authorization: Basic ..." */
    char *unit;
    char *ua;
    int v3mode;
    char since[11];
    char until[11];
    CURLM *multi;
    struct sc_slot *slots;
    int nslots;
    int busy;
    int refreshes_running;
    int kick;               /* a task was queued in front during a pass */
    struct sc_task queue;   /* sentinel of the pending tasks */
    size_t active;          /* jobs held */
    size_t max_active;
    double pause_until;
    double pause_set;
    int pause_streak;
    double bucket;
    double bucket_at;
    uint64_t rng;
    struct sc_disc *discs;
    struct sc_cc cc;
    struct sc_stats stats;
    sc_done_fn done;
    void *ud;
    int stop_rc;
    struct eng_err *err;
};

/* Whether a task goes to the API (paced, paused) rather than to OAuth. */
static inline int sc_is_api(const struct sc_task *t)
{
    return t->kind == SC_K_HISTORY || t->kind == SC_K_LIST
           || t->kind == SC_K_VIN;
}

/* Monotonic seconds, and Unix seconds; cannot fail. */
double sc_mono(void);
long long sc_wall(void);

/* Overwrites a secret string before freeing it; NULL-safe. */
void sc_wipe_free(char *s);

/* A new printf-formatted string (free with free()), or NULL. */
char *sc_fmt_new(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Builds task t's request (URL, headers, body) on slot s with access as
 * bearer token, and hands it to the multi handle.  Returns ENG_OK, or
 * ENG_ENOMEM / ENG_EHTTP with the slot reset and free.  Does not touch t.
 */
int sc_http_send(struct sc_client *sc, struct sc_slot *s,
                 const struct sc_task *t, const char *access);

/*
 * Frees what the last request of slot s held (headers, the wiped body of a
 * token request, the URL), marks it free and empties its buffer, releasing
 * a buffer grown past SC_BODY_KEEP.  Cannot fail.
 */
void sc_http_reset(struct sc_slot *s);

#endif
