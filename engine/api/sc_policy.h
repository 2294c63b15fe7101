/*
 * sc_policy — what a Smartcar response means, with no I/O and no client
 * state: error envelopes, the status strings, the retry decision, backoff,
 * response headers (Retry-After among them), and the cleaning of strings
 * taken from responses.  The statuses and retry rules are the README's
 * table (API client section); this module is their one implementation.
 *
 * Functions allocate only where they say so and cannot fail unless their
 * comment says otherwise.  Strings taken from a response (types, codes,
 * request ids) are cut to their fields' sizes and reduced to safe
 * characters, so that a hostile body cannot put commas, quotes or newlines
 * into a status or a log line.
 */
#ifndef SC_POLICY_H
#define SC_POLICY_H

#include <stddef.h>
#include <stdint.h>

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
 * The retry policy (the README's table of statuses and retries), for one
 * response.  A 401 or 400 from the token endpoint fails
 * ("error:AUTHENTICATION:REFRESH_FAILED", or ":INVALID_CLIENT" for
 * invalid_client) instead of asking for a refresh.
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

/* The longest wait sc_parse_retry_after() reports (about 31 years). */
#define SC_RETRY_AFTER_MAX 1e9

/*
 * Parses a Retry-After value: delta seconds (a decimal number) or an HTTP
 * date, which is turned into seconds after now (Unix time).  Returns the
 * seconds (0 for a date in the past, at most SC_RETRY_AFTER_MAX however
 * far the value lies), or -1 when the value means nothing.  The client
 * refuses a wait past its own limit (sc_config.max_retry_after).
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
 * shape; -1 for a body that is not JSON or is cut short.  One pass of the
 * strict scanner (jscan.h), allocating nothing: a body it accepts is whole
 * RFC 8259 JSON.
 */
int sc_history_records(const char *body, size_t len, long *count);

#endif
