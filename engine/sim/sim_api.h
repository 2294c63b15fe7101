/*
 * sim_api — what the simulator answers: routing, authentication, rate
 * limits, injected faults and the bodies of the Smartcar endpoints.  It
 * knows nothing of sockets: the HTTP layer (sim_http) fills a sim_request
 * and sends the sim_reply, including its delay and transport fault.
 *
 * Endpoints:
 *   POST /oauth/token, /oauth2/token   refresh_token (HTTP Basic client
 *                                      credentials) and client_credentials
 *                                      (credentials in the body or Basic)
 *   GET  /v2.0/user
 *   GET  /v2.0/vehicles?limit=&offset=
 *   GET  /v2.0/vehicles/{id}
 *   GET  /v2.0/vehicles/{id}/vin
 *   GET  /v2.0/vehicles/{id}/service/history?start_date=&end_date=
 *   GET  /v3/vehicles/{id}/signals/service-records
 * Anything else answers 404 RESOURCE_NOT_FOUND:PATH.
 *
 * The simulator's clock starts at opts.now (or the real time) and runs with
 * the monotonic clock; token expiry and the one-year default window use it.
 *
 * Thread safety: sim_api_handle() may run on many threads at once.
 * Ownership: sim_api_new() borrows fleet, auth and log, which must outlive
 * the api; it returns a new api freed with sim_api_free().  A reply's body
 * belongs to the reply until sim_reply_release() or until taken.
 */
#ifndef SIM_API_H
#define SIM_API_H

#include <stddef.h>
#include <stdint.h>

#include "eng.h"
#include "sim_auth.h"
#include "sim_fault.h"
#include "sim_fleet.h"
#include "sim_log.h"

struct sim_api_opts {
    const char *client_id;          /* borrowed */
    const char *client_secret;      /* borrowed */
    long long now;                  /* clock start, seconds; < 0: real */
    double fault_rate;              /* 0..1 per vehicle request */
    struct sim_fault_mix mix;
    double permanent_rate;          /* share of vehicles, 0..1 */
    uint64_t seed;
    double bucket;                  /* app bucket size; 0 unlimited */
    double refill_per_min;
    unsigned long vehicle_limit;    /* per window; 0 unlimited */
    double vehicle_window_s;
    unsigned latency_ms;            /* mean; uniform +-50% */
    unsigned slow_ms;               /* delay of the slow fault */
    int ignore_unit_header;         /* always answer in the stored unit */
};

/* The parts of a request the api reads; NULL when absent. */
struct sim_request {
    const char *method;
    const char *path;               /* without the query */
    const char *authorization;
    const char *unit_system;        /* sc-unit-system */
    const char *user_id;            /* sc-user-id */
    const char *limit;
    const char *offset;
    const char *start_date;
    const char *end_date;
    const char *body;               /* POST body, NUL-terminated */
    size_t body_len;
    int body_too_large;
};

enum sim_transport {
    SIM_SEND_NORMAL = 0,
    SIM_SEND_TRUNC,     /* announce body_len, send half, close */
    SIM_SEND_RESET      /* close the connection with a reset, no answer */
};

#define SIM_REPLY_HEADERS 8
#define SIM_REPLY_VALUE_LEN 64

struct sim_reply_header {
    const char *name;               /* static string */
    char value[SIM_REPLY_VALUE_LEN];
};

struct sim_reply {
    unsigned status;
    const char *content_type;       /* static string */
    char *body;                     /* malloc'd, NUL-terminated */
    size_t body_len;
    struct sim_reply_header hdr[SIM_REPLY_HEADERS];
    size_t nhdr;
    enum sim_transport transport;
    unsigned delay_ms;              /* answer after this long */
};

/*
 * Starts the api: per-vehicle state, the application bucket, the clock.
 * Returns NULL with ENG_ENOMEM.
 */
struct sim_api *sim_api_new(const struct sim_fleet *fleet,
                            struct sim_auth *auth, struct sim_log *log,
                            const struct sim_api_opts *opts,
                            struct eng_err *err);

/* Frees the api; NULL does nothing. */
void sim_api_free(struct sim_api *api);

/*
 * Answers rq into *rp (which it initialises) and writes the request's log
 * line.  Returns ENG_OK, or ENG_ENOMEM when the answer could not be built:
 * *rp then holds a bodiless 500 the caller can still send.
 */
int sim_api_handle(struct sim_api *api, const struct sim_request *rq,
                   struct sim_reply *rp);

/* Frees the reply's body; cannot fail. */
void sim_reply_release(struct sim_reply *rp);

/* Milliseconds since the api started (monotonic); cannot fail. */
double sim_api_uptime_ms(const struct sim_api *api);

#endif
