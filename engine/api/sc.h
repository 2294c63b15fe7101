/*
 * sc — the Smartcar API client: service histories for a stream of vehicles,
 * many transfers at once on libcurl multi handles in one thread.
 *
 * Driving is pull-style, so that a batch of millions of vehicles runs in
 * bounded memory: sc_run() asks the caller's next() for a vehicle whenever
 * it can take one (at most cfg.max_active vehicles are in the client at a
 * time, those waiting out a Retry-After included), and calls done()
 * exactly once per vehicle it took, in completion order, with the vehicle's
 * status (README, Outputs) and, for "ok" and "no_history", the response body.
 *
 * What happens to one vehicle: its token pair (from the tok_ store) is
 * refreshed first if it has expired (one refresh per pair however many
 * vehicles share it; the others wait); its vehicle id is discovered from its
 * VIN if the job has none (the user's vehicles are listed and their VINs
 * read once per pair, then cached for the run); then GET
 * {api}/v2.0/vehicles/{id}/service/history?start_date=..&end_date=.. (v3:
 * {v3}/v3/vehicles/{id}/signals/service-records with the same window and an
 * application token from the client-credentials grant).  start_date and
 * end_date are always sent: without them the API answers only the last year.
 * A job with want_powertrain first asks GET {v3}/v3/vehicles/{id} for the
 * vehicle object's powertrainType (v3 with the application token; v2.0
 * with the user's token, and only when a v3 origin was configured: field
 * or $SMARTCAR_API_V3_ORIGIN); whatever that answers, the history follows,
 * and a failure there only leaves the powertrain unknown (logged).
 *
 * Retries and statuses follow the one table in the README (API client
 * section), implemented by sc_policy.c: transient failures are retried
 * after a full-jitter exponential backoff, a 429 RATE_LIMIT:VEHICLE waits
 * for that vehicle alone, a 429 RATE_LIMIT:SMARTCAR_API pauses every API
 * request, a 401 refreshes the pair once, permanent refusals are final.  A
 * request is sent at most 1 + cfg.retries times (the retry after a 401
 * refresh is not counted); the final status of a vehicle is that of its
 * last answer.  The statuses of svcscore's own failures (network, timeout,
 * body size, parse, input, authentication) are in the same table.
 * Every vehicle of a pair whose refresh failed gets the refresh's status.
 *
 * Secrets: tokens and the client secret are never logged or put in
 * messages; a pair is named by its tok_ fingerprint.  Log lines (cfg.log)
 * name the request (e.g. "history of <vin>"), its status and cause, the
 * request id, the attempt and the retry delay; failed refreshes and pauses
 * are logged too, rotations and discovery (a line per pair) only with
 * cfg.verbose; plain successes are not.
 *
 * The caller initialises libcurl (curl_global_init) before sc_new().
 * Not thread-safe: one thread drives a client.  The token store given in
 * the config must outlive every sc_run() on the client.
 */
#ifndef SC_H
#define SC_H

#include <signal.h>
#include <stddef.h>

#include "eng.h"
#include "tok.h"

/* cfg.until_day value meaning "today (UTC) when sc_new() runs". */
#define SC_UNTIL_TODAY (-1L)

struct sc_config {
    const char *api_origin;    /* NULL: $SMARTCAR_API_ORIGIN, else
                                  https://api.smartcar.com */
    const char *api_v3_origin; /* NULL: $SMARTCAR_API_V3_ORIGIN, else
                                  https://vehicle.api.smartcar.com */
    const char *auth_origin;   /* NULL: $SMARTCAR_AUTH_ORIGIN, else
                                  https://auth.smartcar.com; the refresh
                                  goes to {auth_origin}/oauth/token (not
                                  appended twice if already there) */
    const char *cc_token_url;  /* v3 client-credentials token URL.  NULL:
                                  {auth_origin}/oauth/token when an auth
                                  origin was given (field or environment;
                                  the simulator serves both grants there),
                                  else https://iam.smartcar.com/oauth2/token */
    const char *api_version;   /* "2.0" (default) or "3" */
    const char *client_id;     /* copied; NULL when not configured */
    const char *client_secret; /* copied and wiped on sc_free() */
    const char *unit_system;   /* requested SC-Unit-System, "metric" */
    int concurrency;           /* transfers in flight, >= 1; 16 */
    int max_active;            /* vehicles held at once; 0: 2 * concurrency */
    double rate;               /* API requests per second, 0: no cap */
    double rate_burst;         /* token-bucket depth, >= 1; 1 */
    int retries;               /* extra attempts per request, >= 0; 5 */
    double timeout;            /* seconds per request; 310 */
    double connect_timeout;    /* seconds to connect; 30 */
    double backoff_base;       /* seconds; 0.5 */
    double backoff_cap;        /* seconds; 30 */
    double max_retry_after;    /* a longer Retry-After (for one vehicle or
                                  an app-wide pause) fails the vehicle at
                                  once instead of waiting; 900 */
    double min_speed;          /* once an answer has begun, fewer bytes
                                  than this per second over
                                  min_speed_time is a timeout; 0: off; 64 */
    double min_speed_time;     /* seconds; 30 */
    long since_day;            /* window start, days since 1970-01-01;
                                  1990-01-01 */
    long until_day;            /* window end (inclusive); SC_UNTIL_TODAY */
    size_t max_body;           /* response cap in bytes; 8 MiB */
    unsigned long long seed;   /* jitter generator seed; 0: time and pid */
    struct tok_store *tokens;  /* borrowed; required for v2 */
    void (*log)(void *ud, const char *line); /* NULL: no log */
    void *log_ud;
    int verbose;               /* also log one line per pair: rotations,
                                  vehicle discovery; 0 */
    void (*tick)(void *ud);    /* NULL, or called about once a second or
                                  more often while sc_run() runs (progress
                                  reports); may read sc_get_stats(), must
                                  not otherwise call into the client */
    void *tick_ud;
    volatile sig_atomic_t *stop; /* NULL, or set non-zero (e.g. from a
                                    signal handler) to stop sc_run() */
};

/* Fills *cfg with the defaults above; cannot fail. */
void sc_config_init(struct sc_config *cfg);

/*
 * A vehicle to fetch, filled by the caller's next().  The strings are
 * copied before next() returns to sc_run(), so the caller may reuse them.
 */
struct sc_job {
    size_t index;             /* the caller's, given back in the result */
    const char *vin;          /* needed when vehicle_id is NULL */
    const char *vehicle_id;   /* NULL or "": discovered from the vin */
    const char *user_id;      /* v3: sent as sc-user-id; may be NULL */
    struct tok_pair *tokens;  /* from tok_register(); NULL only for v3
                                 jobs that have a vehicle id */
    long since_day;           /* this vehicle's window start (days since
                                 1970-01-01), later than cfg.since_day;
                                 0: cfg.since_day */
    int want_powertrain;      /* ask the API for the powertrain first (one
                                 request more; see above when it is sent) */
};

/* What became of one job; every pointer is borrowed for done() only. */
struct sc_result {
    size_t index;
    const char *vin;          /* as given, or NULL */
    const char *vehicle_id;   /* as given or discovered, or NULL */
    const char *status;       /* "ok", "no_history" or "error:..." */
    const char *body;         /* the response body when status is "ok" or
                                 "no_history" (NUL-terminated, whole
                                 RFC 8259 JSON: checked), else NULL */
    size_t body_len;
    const char *unit_system;  /* the SC-Unit-System response header
                                 ("metric"/"imperial"), else the one asked */
    const char *request_id;   /* SC-Request-Id or the body's requestId of
                                 the last answer, "" if none */
    const char *message;      /* one-line detail for an error, else "" */
    long http_status;         /* of the last answer, 0 if none */
    int attempts;             /* HTTP requests made for the history */
    int powertrain;           /* enum ptrain from the vehicle object's
                                 powertrainType; PTRAIN_UNKNOWN when not
                                 asked, not given or not learnt */
    const char *fetched_at;   /* "YYYY-MM-DDTHH:MM:SSZ", completion time */
};

struct sc_client;

/*
 * Checks the config (ENG_EUSAGE: version not "2.0"/"3", concurrency < 1,
 * retries < 0, timeouts <= 0, rate < 0, window ends before it starts,
 * max_body 0, origins not http(s)), copies what it needs and prepares
 * cfg.concurrency reusable transfers.  Raises the soft limit on open files
 * to cfg.concurrency + 64 when it is lower (ENG_EUSAGE when the hard limit
 * does not allow it).  Returns a new client; free with sc_free().  NULL
 * with ENG_EUSAGE, ENG_EHTTP (libcurl refused) or ENG_ENOMEM.
 */
struct sc_client *sc_new(const struct sc_config *cfg, struct eng_err *err);

/* Frees the client, wiping the client secret; NULL-safe. */
void sc_free(struct sc_client *sc);

/*
 * next(ud, job) fills *job and returns 1, returns 0 at the end of the input,
 * or a negative ENG_E* code to stop the run.  It is called only when the
 * client can take another vehicle, and may block.
 *
 * done(ud, res) is called exactly once for every job next() gave, in
 * completion order; it returns 0, or a negative code to stop the run.
 */
typedef int (*sc_next_fn)(void *ud, struct sc_job *job);
typedef int (*sc_done_fn)(void *ud, const struct sc_result *res);

/*
 * Runs until next() says the input ended and every job taken is done.
 * Per-vehicle failures are statuses, not errors.  Returns ENG_OK, or a
 * negative code when the run stopped early: the code next() or done()
 * returned; ENG_EIO when a rotated token could not be written to the store
 * (the consent could not be kept, so the run stops rather than burn more);
 * ENG_EUSAGE when cfg.stop was raised; ENG_EHTTP when libcurl's multi
 * interface failed; ENG_ENOMEM.  After an early stop, jobs not yet done get
 * no done() call, and transfers in flight are dropped.
 */
int sc_run(struct sc_client *sc, sc_next_fn next, sc_done_fn done, void *ud,
           struct eng_err *err);

/* Counters, cumulated over every sc_run() of the client. */
#define SC_HTTP_CODES 600
struct sc_stats {
    unsigned long jobs;             /* done() calls */
    unsigned long ok;
    unsigned long no_history;
    unsigned long errors;
    unsigned long requests;         /* HTTP requests sent, all kinds */
    unsigned long history_requests;
    unsigned long list_requests;    /* GET /vehicles pages */
    unsigned long vin_requests;     /* GET /vehicles/{id}/vin */
    unsigned long vehicle_requests; /* GET /v3/vehicles/{id} (powertrain) */
    unsigned long powertrains;      /* powertrains learnt from them */
    unsigned long refreshes;        /* refresh requests sent */
    unsigned long rotations;        /* refreshes that gave a new pair */
    unsigned long refresh_failures; /* pairs that ended FAILED */
    unsigned long token_requests;   /* client-credentials requests (v3) */
    unsigned long retries;          /* all retries, by cause below */
    unsigned long retry_rate_vehicle; /* 429 RATE_LIMIT:VEHICLE et al. */
    unsigned long retry_rate_app;   /* 429 RATE_LIMIT:SMARTCAR_API */
    unsigned long retry_server;     /* 5xx, UPSTREAM, 408 */
    unsigned long retry_vehicle_state; /* 409 */
    unsigned long retry_later;      /* resolution RETRY_LATER */
    unsigned long retry_network;
    unsigned long retry_timeout;
    unsigned long retry_parse;      /* 2xx body not JSON */
    unsigned long reauths;          /* 401s answered by a refresh */
    unsigned long pauses;           /* app-wide rate-limit pauses */
    double paused_seconds;
    unsigned long long bytes;       /* response bytes (decoded) */
    unsigned long long wire_bytes;  /* as received: headers and bodies,
                                       gzip bodies still compressed */
    unsigned long responses[SC_HTTP_CODES]; /* answers by HTTP status;
                                       [0]: none (network, timeout) */
};

/* Fills *out; cannot fail. */
void sc_get_stats(const struct sc_client *sc, struct sc_stats *out);

/*
 * The User-Agent sent, e.g. "svcscore/0.1.0 (Linux; x86_64) libcurl/7.88.1";
 * borrowed, valid until sc_free().
 */
const char *sc_user_agent(const struct sc_client *sc);

/*
 * The OAuth token URL refreshes go to; borrowed, valid until sc_free().
 */
const char *sc_token_url(const struct sc_client *sc);

#endif
