/* sim_api — routes, auth, limits and faults of the Smartcar simulator. */
#include "sim_api.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sim_envelope.h"
#include "sim_rate.h"
#include "sim_window.h"

#define JSON_TYPE "application/json"
#define HTML_TYPE "text/html"
#define LIST_DEFAULT_LIMIT 10
#define LIST_MAX_LIMIT 50
#define STRIPES 64

/* Mutable per-vehicle state, guarded by the stripe lock vi % STRIPES. */
struct vstate {
    unsigned long attempts;
    struct sim_rate_window window;
    double not_before;      /* monotonic s: a 429 asked to wait till then */
};

struct sim_api {
    const struct sim_fleet *fleet;
    struct sim_auth *auth;
    struct sim_log *log;
    struct sim_api_opts o;
    double mono_start;
    double clock_start;     /* simulator seconds at mono_start */
    struct vstate *veh;
    pthread_mutex_t stripe[STRIPES];
    pthread_mutex_t bucket_lock;
    struct sim_rate_bucket bucket;
};

/* What a request's log line reports, filled as the request goes. */
struct logrec {
    const char *route;
    const struct sim_vehicle *vehicle;
    const char *fault;
    unsigned long attempt;
    int early;
    long retry_after;
    char tok[9];
    char window[24];
    const char *unit;
    long records;
    const char *grant;
    const char *result;
    char new_tok[9];
};

enum shape { SHAPE_V2, SHAPE_V3 };

/* ===== clocks and randomness ===== */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double sim_now(const struct sim_api *api)
{
    return api->clock_start + (mono_s() - api->mono_start);
}

double sim_api_uptime_ms(const struct sim_api *api)
{
    return (mono_s() - api->mono_start) * 1000.0;
}

/*
 * Request ids and latency jitter need no reproducibility, only independence
 * between threads: one generator per thread, seeded from the clock and its
 * own address.
 */
static _Thread_local uint64_t tl_rng;

static uint64_t rnd(void)
{
    if (tl_rng == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        tl_rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec
                 ^ (uint64_t)(uintptr_t)&tl_rng;
    }
    uint64_t z = (tl_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void new_request_id(char *out)
{
    uint64_t a = rnd();
    uint64_t b = rnd();
    /* version 4, variant 10xx */
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx",
             (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffffu,
             (unsigned)a & 0xfffu, (unsigned)((b >> 48) & 0x3fffu) | 0x8000u,
             (unsigned long long)(b & 0xffffffffffffULL));
}

static unsigned jitter(unsigned mean_ms)
{
    if (mean_ms == 0)
        return 0;
    double u = (double)(rnd() >> 11) / 9007199254740992.0;
    return (unsigned)lround(mean_ms * (0.5 + u));
}

/* ===== replies ===== */

static void add_header(struct sim_reply *rp, const char *name,
                       const char *value)
{
    if (rp->nhdr >= SIM_REPLY_HEADERS)
        return;
    struct sim_reply_header *h = &rp->hdr[rp->nhdr++];
    h->name = name;
    snprintf(h->value, sizeof(h->value), "%s", value);
}

/* Moves the built body into the reply; ENG_ENOMEM when building failed. */
static int set_body(struct sim_reply *rp, unsigned status,
                    const char *type, struct sim_buf *b)
{
    rp->status = status;
    rp->content_type = type;
    rp->body = sim_buf_detach(b, &rp->body_len);
    return rp->body ? ENG_OK : ENG_ENOMEM;
}

static int reply_error(struct sim_reply *rp, enum shape shape,
                       enum sim_error e, const char *rid, const char *field,
                       const char *message)
{
    struct sim_buf b = SIM_BUF_INIT;
    if (shape == SHAPE_V3)
        sim_envelope_v3(&b, e, rid, field, message);
    else
        sim_envelope_v2(&b, e, rid, field, message);
    return set_body(rp, sim_envelope_status(e), JSON_TYPE, &b);
}

static int reply_oauth(struct sim_reply *rp, unsigned status,
                       const char *error, const char *description)
{
    struct sim_buf b = SIM_BUF_INIT;
    sim_envelope_oauth(&b, error, description);
    add_header(rp, "Cache-Control", "no-store");
    return set_body(rp, status, JSON_TYPE, &b);
}

void sim_reply_release(struct sim_reply *rp)
{
    free(rp->body);
    rp->body = NULL;
    rp->body_len = 0;
}

/* ===== small parsers ===== */

/* A whole decimal number 0..max, digits only; -1 otherwise. */
static long parse_count(const char *s, long max)
{
    if (!s || !*s || strlen(s) > 9)
        return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v <= max ? v : -1;
}

/* The token of "Bearer <token>", or NULL; *len gets its length. */
static const char *bearer(const char *h, size_t *len)
{
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    const char *t = h + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    while (n && t[n - 1] == ' ')
        n--;
    if (n == 0)
        return NULL;
    *len = n;
    return t;
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/*
 * Decodes "Basic base64(id:secret)" into out (size cap); returns 0 and
 * splits at the first ':' (*secret points into out), or -1.
 */
static int basic_auth(const char *h, char *out, size_t cap, char **secret)
{
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return -1;
    const char *p = h + 6;
    while (*p == ' ')
        p++;
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *p && *p != '='; p++) {
        int v = b64_value((unsigned char)*p);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap)
                return -1;
            out[n++] = (char)((acc >> bits) & 0xffu);
        }
    }
    out[n] = '\0';
    char *colon = memchr(out, ':', n);
    if (!colon || strlen(out) != n)
        return -1;
    *colon = '\0';
    *secret = colon + 1;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Finds key in an application/x-www-form-urlencoded body and decodes its
 * value into out (size cap).  Returns 1 when found, 0 when absent, -1 when
 * too long or badly encoded.
 */
static int form_value(const char *body, size_t len, const char *key,
                      char *out, size_t cap)
{
    size_t klen = strlen(key);
    const char *p = body;
    const char *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > klen && memcmp(p, key, klen) == 0
            && p[klen] == '=') {
            size_t n = 0;
            for (const char *q = p + klen + 1; q < stop; q++) {
                int c = (unsigned char)*q;
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    int hi = q + 2 < stop ? hexval(q[1]) : -1;
                    int lo = hi >= 0 ? hexval(q[2]) : -1;
                    if (lo < 0)
                        return -1;
                    c = hi * 16 + lo;
                    q += 2;
                }
                if (n + 1 >= cap || c == 0)
                    return -1;
                out[n++] = (char)c;
            }
            out[n] = '\0';
            return 1;
        }
        p = stop + 1;
    }
    return 0;
}

/* Compares two secrets without stopping at the first difference. */
static int same_secret(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    unsigned diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

/* ===== /oauth/token ===== */

#define FORM_LEN 512

static int oauth(struct sim_api *api, const struct sim_request *rq,
                 struct sim_reply *rp, struct logrec *lr)
{
    lr->route = "token";
    if (strcmp(rq->method, "POST") != 0)
        return reply_oauth(rp, 405, "invalid_request",
                           "Use POST for the token endpoint");
    if (rq->body_too_large)
        return reply_oauth(rp, 400, "invalid_request", "Body too large");
    char grant[64];
    const char *body = rq->body ? rq->body : "";
    if (form_value(body, rq->body_len, "grant_type", grant,
                   sizeof(grant)) != 1)
        return reply_oauth(rp, 400, "invalid_request",
                           "grant_type is required");
    char basic[FORM_LEN];
    char *secret = NULL;
    int have_basic = basic_auth(rq->authorization, basic, sizeof(basic),
                                &secret) == 0;
    double now = sim_now(api);
    if (strcmp(grant, "client_credentials") == 0) {
        lr->grant = "client_credentials";
        char id[FORM_LEN];
        char sec[FORM_LEN];
        int ok;
        if (form_value(body, rq->body_len, "client_id", id,
                       sizeof(id)) == 1
            && form_value(body, rq->body_len, "client_secret", sec,
                          sizeof(sec)) == 1)
            ok = same_secret(id, api->o.client_id)
                 & same_secret(sec, api->o.client_secret);
        else
            ok = have_basic && same_secret(basic, api->o.client_id)
                 & same_secret(secret, api->o.client_secret);
        if (!ok) {
            lr->result = "invalid_client";
            return reply_oauth(rp, 401, "invalid_client",
                               "Invalid client credentials");
        }
        char tok[SIM_AUTH_TOKEN_LEN + 1];
        if (sim_auth_client_token(api->auth, now, tok) < 0)
            return ENG_ENOMEM;
        sim_auth_fingerprint(tok, strlen(tok), lr->new_tok);
        lr->result = "ok";
        struct sim_buf b = SIM_BUF_INIT;
        sim_buf_printf(&b, "{\"access_token\":\"%s\",\"token_type\":"
                       "\"Bearer\",\"expires_in\":%d}", tok,
                       SIM_AUTH_V3_TTL);
        add_header(rp, "Cache-Control", "no-store");
        return set_body(rp, 200, JSON_TYPE, &b);
    }
    if (strcmp(grant, "refresh_token") != 0) {
        lr->grant = "other";
        return reply_oauth(rp, 400, "unsupported_grant_type",
                           "grant_type must be refresh_token or "
                           "client_credentials");
    }
    lr->grant = "refresh_token";
    if (!have_basic || !(same_secret(basic, api->o.client_id)
                         & same_secret(secret, api->o.client_secret))) {
        lr->result = "invalid_client";
        return reply_oauth(rp, 401, "invalid_client",
                           "Invalid client credentials");
    }
    char rt[FORM_LEN];
    if (form_value(body, rq->body_len, "refresh_token", rt,
                   sizeof(rt)) != 1 || !rt[0]) {
        lr->result = "invalid_request";
        return reply_oauth(rp, 400, "invalid_request",
                           "refresh_token is required");
    }
    sim_auth_fingerprint(rt, strlen(rt), lr->tok);
    char at[SIM_AUTH_TOKEN_LEN + 1];
    char nrt[SIM_AUTH_TOKEN_LEN + 1];
    long long expires_in = 0;
    int replay = 0;
    int rc = sim_auth_refresh(api->auth, rt, now, at, nrt, &expires_in,
                              &replay);
    if (rc == ENG_ENOMEM)
        return ENG_ENOMEM;
    if (rc != SIM_AUTH_OK) {
        lr->result = "invalid_grant";
        return reply_oauth(rp, 400, "invalid_grant",
                           "Invalid or expired token");
    }
    lr->result = replay ? "replay" : "ok";
    sim_auth_fingerprint(at, strlen(at), lr->new_tok);
    struct sim_buf b = SIM_BUF_INIT;
    sim_buf_printf(&b, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\","
                   "\"expires_in\":%lld,\"refresh_token\":\"%s\"}", at,
                   expires_in, nrt);
    add_header(rp, "Cache-Control", "no-store");
    return set_body(rp, 200, JSON_TYPE, &b);
}

/* ===== shared steps of the vehicle API ===== */

/*
 * Checks the bearer token; on success sets *kind and *user.  Returns 0, or
 * 1 when an error reply has been set (or a negative code).
 */
static int authenticate(struct sim_api *api, const struct sim_request *rq,
                        struct sim_reply *rp, struct logrec *lr,
                        enum shape shape, const char *rid,
                        enum sim_auth_kind *kind, size_t *user)
{
    size_t len = 0;
    const char *tok = bearer(rq->authorization, &len);
    if (!tok) {
        int rc = reply_error(rp, shape, SIM_E_AUTHENTICATION, rid, NULL,
                             NULL);
        return rc < 0 ? rc : 1;
    }
    sim_auth_fingerprint(tok, len, lr->tok);
    double now = sim_now(api);
    if (sim_auth_check(api->auth, tok, len, now, kind, user) != SIM_AUTH_OK
        || (shape == SHAPE_V2 && *kind != SIM_AUTH_USER)) {
        int rc = reply_error(rp, shape, SIM_E_AUTHENTICATION, rid, NULL,
                             NULL);
        return rc < 0 ? rc : 1;
    }
    return 0;
}

/* Takes one token from the application bucket; 1 when refused. */
static int app_bucket(struct sim_api *api, struct sim_reply *rp,
                      enum shape shape, const char *rid, int *rc)
{
    pthread_mutex_lock(&api->bucket_lock);
    int ok = sim_rate_bucket_take(&api->bucket, mono_s());
    pthread_mutex_unlock(&api->bucket_lock);
    if (ok)
        return 0;
    *rc = reply_error(rp, shape, SIM_E_RATE_APP, rid, NULL, NULL);
    return 1;
}

/* The unit of the answer: the request header unless told to ignore it. */
static int unit_out(const struct sim_api *api, const struct sim_request *rq,
                    const struct sim_vehicle *v)
{
    if (!api->o.ignore_unit_header && rq->unit_system) {
        if (strcasecmp(rq->unit_system, "imperial") == 0)
            return 1;
        if (strcasecmp(rq->unit_system, "metric") == 0)
            return 0;
    }
    return v->imperial;
}

static void add_retry_after(struct sim_reply *rp, long secs)
{
    char v[24];
    snprintf(v, sizeof(v), "%ld", secs);
    add_header(rp, "Retry-After", v);
}

/*
 * The per-vehicle gate, in order: an early retry after a 429, a permanent
 * fault, the vehicle's request window, then the transient fault draw.
 * Returns the fault to apply (SIM_FAULT_NONE to answer normally); a 429
 * kind comes with *retry_after.
 */
static enum sim_fault_kind vehicle_gate(struct sim_api *api,
                                        const struct sim_vehicle *v,
                                        struct logrec *lr, long *retry_after)
{
    pthread_mutex_t *m = &api->stripe[v->index % STRIPES];
    struct vstate *st = &api->veh[v->index];
    double now = mono_s();
    enum sim_fault_kind k = SIM_FAULT_NONE;
    pthread_mutex_lock(m);
    unsigned long attempt = ++st->attempts;
    lr->attempt = attempt;
    if (now < st->not_before) {
        lr->early = 1;
        *retry_after = (long)ceil(st->not_before - now);
        k = SIM_FAULT_429;
        lr->fault = "early";
        goto out;
    }
    k = sim_fault_permanent(api->o.permanent_rate, api->o.seed, v->id);
    if (k != SIM_FAULT_NONE) {
        lr->fault = sim_fault_name(k);
        goto out;
    }
    long wait = sim_rate_window_take(&st->window, api->o.vehicle_limit,
                                     api->o.vehicle_window_s, now);
    if (wait > 0) {
        k = SIM_FAULT_429;
        *retry_after = wait;
        st->not_before = now + (double)wait;
        lr->fault = "vehicle_limit";
        goto out;
    }
    k = sim_fault_pick(&api->o.mix, api->o.fault_rate, api->o.seed, v->id,
                       attempt);
    lr->fault = sim_fault_name(k);
    if (k == SIM_FAULT_429) {
        *retry_after = sim_fault_retry_after(api->o.seed, v->id, attempt);
        st->not_before = now + (double)*retry_after;
    }
out:
    pthread_mutex_unlock(m);
    if (k == SIM_FAULT_429)
        lr->retry_after = *retry_after;
    return k;
}

/*
 * Applies fault k to a reply whose normal body is already set: error kinds
 * replace it, body kinds damage it, transport kinds mark it.
 */
static int apply_fault(struct sim_api *api, struct sim_reply *rp,
                       enum sim_fault_kind k, enum shape shape,
                       const char *rid, long retry_after)
{
    enum sim_error e = SIM_E_COUNT;
    struct sim_buf b = SIM_BUF_INIT;
    switch (k) {
    case SIM_FAULT_NONE:
        return ENG_OK;
    case SIM_FAULT_500: e = SIM_E_SERVER; break;
    case SIM_FAULT_502: e = SIM_E_UPSTREAM; break;
    case SIM_FAULT_409: e = SIM_E_ASLEEP; break;
    case SIM_FAULT_429: e = SIM_E_RATE_VEHICLE; break;
    case SIM_FAULT_430: e = SIM_E_BILLING; break;
    case SIM_FAULT_501: e = SIM_E_COMPATIBILITY; break;
    case SIM_FAULT_SLOW:
        rp->delay_ms = api->o.slow_ms;
        return ENG_OK;
    case SIM_FAULT_TRUNC:
        rp->transport = SIM_SEND_TRUNC;
        return ENG_OK;
    case SIM_FAULT_RESET:
        rp->transport = SIM_SEND_RESET;
        return ENG_OK;
    case SIM_FAULT_CUT:
        rp->body_len /= 2;
        rp->body[rp->body_len] = '\0';
        return ENG_OK;
    case SIM_FAULT_BADJSON: {
        char *colon = strchr(rp->body, ':');
        if (colon) {
            *colon = '=';
        } else {
            sim_reply_release(rp);
            sim_buf_puts(&b, "[=]");
            return set_body(rp, 200, JSON_TYPE, &b);
        }
        return ENG_OK;
    }
    case SIM_FAULT_HTML:
        sim_reply_release(rp);
        rp->nhdr = 0;   /* a proxy's page carries no SC-* header */
        sim_envelope_html_502(&b);
        return set_body(rp, 502, HTML_TYPE, &b);
    case SIM_FAULT_V1:
        sim_reply_release(rp);
        rp->nhdr = 1;   /* keep SC-Request-Id only */
        sim_envelope_v1_asleep(&b);
        return set_body(rp, 409, JSON_TYPE, &b);
    case SIM_FAULT_COUNT:
        break;
    }
    if (e == SIM_E_COUNT)
        return ENG_OK;
    sim_reply_release(rp);
    rp->nhdr = 1;   /* keep SC-Request-Id only */
    if (e == SIM_E_RATE_VEHICLE)
        add_retry_after(rp, retry_after);
    return reply_error(rp, shape, e, rid, NULL, NULL);
}

static void add_data_headers(const struct sim_api *api, struct sim_reply *rp,
                             const struct sim_vehicle *v, int imperial)
{
    char fetched[SIM_WINDOW_INSTANT_LEN];
    sim_window_format_instant((long long)floor(sim_now(api) * 1000.0),
                              fetched);
    add_header(rp, "SC-Data-Age", v->fetched_at ? v->fetched_at : fetched);
    add_header(rp, "SC-Fetched-At", fetched);
    add_header(rp, "SC-Unit-System", imperial ? "imperial" : "metric");
}

/* ===== vehicle routes ===== */

enum route {
    R_NONE, R_ATTRIBUTES, R_VIN, R_HISTORY, R_V3_RECORDS, R_V3_VEHICLE
};

static int vehicle_route(struct sim_api *api, const struct sim_request *rq,
                         struct sim_reply *rp, struct logrec *lr,
                         enum route route, const char *id, size_t idlen,
                         const char *rid)
{
    enum shape shape = route == R_V3_RECORDS || route == R_V3_VEHICLE
                       ? SHAPE_V3 : SHAPE_V2;
    const struct sim_vehicle *v = sim_fleet_find(api->fleet, id, idlen);
    lr->vehicle = v;    /* for the log only: auth is still checked first */
    enum sim_auth_kind kind;
    size_t user = 0;
    int rc = authenticate(api, rq, rp, lr, shape, rid, &kind, &user);
    if (rc != 0)
        return rc < 0 ? rc : ENG_OK;
    if (kind == SIM_AUTH_CLIENT) {
        long u = rq->user_id ? sim_fleet_find_user(api->fleet, rq->user_id)
                             : -1;
        if (!rq->user_id)
            return reply_error(rp, shape, SIM_E_VALIDATION, rid,
                               "sc-user-id",
                               "the sc-user-id header is required with an "
                               "application token");
        if (u < 0)
            return reply_error(rp, shape, SIM_E_PERMISSION, rid, NULL,
                               NULL);
        user = (size_t)u;
    }
    if (app_bucket(api, rp, shape, rid, &rc))
        return rc;
    if (!v)
        return reply_error(rp, shape, SIM_E_NOT_FOUND, rid, NULL, NULL);
    if (v->user != user)
        return reply_error(rp, shape, SIM_E_PERMISSION, rid, NULL, NULL);

    struct sim_window w;
    if (route == R_HISTORY) {
        struct eng_err e = {0};
        long today = (long)floor(sim_now(api) / 86400.0);
        if (sim_window_resolve(rq->start_date, rq->end_date, today, &w,
                               &e) < 0)
            return reply_error(rp, shape, SIM_E_VALIDATION, rid,
                               strncmp(e.msg, "end_date", 8) == 0
                               ? "end_date" : "start_date", e.msg);
        char a[11];
        char z[11];
        eng_format_day(w.first_day, a);
        eng_format_day(w.last_day, z);
        snprintf(lr->window, sizeof(lr->window), "%s..%s", a, z);
    }

    long retry_after = 0;
    enum sim_fault_kind fault = vehicle_gate(api, v, lr, &retry_after);

    int imperial = unit_out(api, rq, v);
    struct sim_buf b = SIM_BUF_INIT;
    if (route == R_VIN) {
        sim_buf_puts(&b, "{\"vin\":");
        sim_buf_json_cstr(&b, v->vin);
        sim_buf_puts(&b, "}");
    } else if (route == R_ATTRIBUTES) {
        sim_buf_puts(&b, "{\"id\":");
        sim_buf_json_cstr(&b, v->id);
        sim_buf_puts(&b, ",\"make\":");
        sim_buf_json_cstr(&b, v->make);
        sim_buf_puts(&b, ",\"model\":");
        sim_buf_json_cstr(&b, v->model);
        sim_buf_printf(&b, ",\"year\":%d}", v->year);
    } else if (route == R_V3_VEHICLE) {
        /* JSON:API: data{id, type, attributes{...}, links{self}} */
        sim_buf_puts(&b, "{\"data\":{\"id\":");
        sim_buf_json_cstr(&b, v->id);
        sim_buf_puts(&b, ",\"type\":\"vehicle\",\"attributes\":{\"make\":");
        sim_buf_json_cstr(&b, v->make);
        sim_buf_puts(&b, ",\"model\":");
        sim_buf_json_cstr(&b, v->model);
        sim_buf_printf(&b, ",\"year\":%d,\"powertrainType\":", v->year);
        if (v->powertrain)
            sim_buf_json_cstr(&b, v->powertrain);
        else
            sim_buf_puts(&b, "null");
        sim_buf_puts(&b, ",\"mode\":\"simulated\"},\"links\":{\"self\":");
        sim_buf_puts(&b, "\"/v3/vehicles/");
        sim_buf_puts(&b, v->id);    /* path-safe by the fleet's check */
        sim_buf_puts(&b, "\"}}}");
    } else {
        lr->unit = imperial ? "imperial" : "metric";
        lr->records = route == R_HISTORY
            ? sim_fleet_render_history(api->fleet, v->index, &w, imperial, &b)
            : sim_fleet_render_v3(api->fleet, v->index, imperial, &b);
        add_data_headers(api, rp, v, imperial);
    }
    rc = set_body(rp, 200, JSON_TYPE, &b);
    if (rc < 0)
        return rc;
    return apply_fault(api, rp, fault, shape, rid, retry_after);
}

static int list_route(struct sim_api *api, const struct sim_request *rq,
                      struct sim_reply *rp, struct logrec *lr,
                      const char *rid, int user_only)
{
    enum sim_auth_kind kind;
    size_t user = 0;
    int rc = authenticate(api, rq, rp, lr, SHAPE_V2, rid, &kind, &user);
    if (rc != 0)
        return rc < 0 ? rc : ENG_OK;
    if (app_bucket(api, rp, SHAPE_V2, rid, &rc))
        return rc;
    struct sim_buf b = SIM_BUF_INIT;
    if (user_only) {
        sim_buf_puts(&b, "{\"id\":");
        sim_buf_json_cstr(&b, sim_fleet_user_id(api->fleet, user));
        sim_buf_puts(&b, "}");
        return set_body(rp, 200, JSON_TYPE, &b);
    }
    long limit = rq->limit ? parse_count(rq->limit, LIST_MAX_LIMIT)
                           : LIST_DEFAULT_LIMIT;
    if (limit < 1)
        return reply_error(rp, SHAPE_V2, SIM_E_VALIDATION, rid, "limit",
                           "limit must be a whole number from 1 to 50");
    long offset = rq->offset ? parse_count(rq->offset, 999999999) : 0;
    if (offset < 0)
        return reply_error(rp, SHAPE_V2, SIM_E_VALIDATION, rid, "offset",
                           "offset must be a whole number, 0 or more");
    const size_t *idx;
    size_t n = sim_fleet_user_vehicles(api->fleet, user, &idx);
    sim_buf_puts(&b, "{\"vehicles\":[");
    for (size_t i = (size_t)offset, k = 0; i < n && k < (size_t)limit;
         i++, k++) {
        if (k)
            sim_buf_add(&b, ",", 1);
        sim_buf_json_cstr(&b, sim_fleet_vehicle(api->fleet, idx[i])->id);
    }
    sim_buf_printf(&b, "],\"paging\":{\"count\":%zu,\"offset\":%ld}}", n,
                   offset);
    return set_body(rp, 200, JSON_TYPE, &b);
}

/* ===== routing ===== */

/* Splits path into at most max segments (pointers into path, lengths). */
static size_t segments(const char *path, const char **seg, size_t *len,
                       size_t max)
{
    size_t n = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        if (n == max)
            return max + 1;
        seg[n] = s;
        len[n] = (size_t)(p - s);
        n++;
    }
    return n;
}

static int seg_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static const char *method_name(const char *m)
{
    static const char *const known[] = {
        "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(m, known[i]) == 0)
            return known[i];
    }
    return "OTHER";
}

static void write_log(struct sim_api *api, const struct sim_request *rq,
                      const struct sim_reply *rp, const struct logrec *lr)
{
    if (!api->log)
        return;
    char path[160];
    const char *vid = lr->vehicle ? lr->vehicle->id : "-";
    /* rebuilt from the route: raw request text could carry a secret */
    if (strcmp(lr->route, "history") == 0)
        snprintf(path, sizeof(path), "/v2.0/vehicles/%s/service/history",
                 lr->vehicle ? vid : "?");
    else if (strcmp(lr->route, "vin") == 0)
        snprintf(path, sizeof(path), "/v2.0/vehicles/%s/vin",
                 lr->vehicle ? vid : "?");
    else if (strcmp(lr->route, "attributes") == 0)
        snprintf(path, sizeof(path), "/v2.0/vehicles/%s",
                 lr->vehicle ? vid : "?");
    else if (strcmp(lr->route, "vehicle_v3") == 0)
        snprintf(path, sizeof(path), "/v3/vehicles/%s",
                 lr->vehicle ? vid : "?");
    else if (strcmp(lr->route, "service_records") == 0)
        snprintf(path, sizeof(path),
                 "/v3/vehicles/%s/signals/service-records",
                 lr->vehicle ? vid : "?");
    else if (strcmp(lr->route, "vehicles") == 0)
        snprintf(path, sizeof(path), "/v2.0/vehicles");
    else if (strcmp(lr->route, "user") == 0)
        snprintf(path, sizeof(path), "/v2.0/user");
    else if (strcmp(lr->route, "token") == 0)
        snprintf(path, sizeof(path), "%s",
                 strncmp(rq->path, "/oauth2/", 8) == 0 ? "/oauth2/token"
                                                       : "/oauth/token");
    else
        snprintf(path, sizeof(path), "?");
    const char *transport = rp->transport == SIM_SEND_RESET ? "reset"
                            : rp->transport == SIM_SEND_TRUNC ? "trunc"
                            : "none";
    sim_log_line(api->log, sim_api_uptime_ms(api),
                 "method=%s route=%s path=%s vehicle=%s status=%u "
                 "fault=%s attempt=%lu early_retry=%d retry_after=%ld "
                 "tok=%s window=%s unit=%s records=%ld delay_ms=%u "
                 "transport=%s grant=%s result=%s new_tok=%s",
                 method_name(rq->method), lr->route, path, vid, rp->status,
                 lr->fault, lr->attempt, lr->early, lr->retry_after,
                 lr->tok[0] ? lr->tok : "-",
                 lr->window[0] ? lr->window : "-",
                 lr->unit ? lr->unit : "-", lr->records, rp->delay_ms,
                 transport, lr->grant ? lr->grant : "-",
                 lr->result ? lr->result : "-",
                 lr->new_tok[0] ? lr->new_tok : "-");
}

static int route_request(struct sim_api *api, const struct sim_request *rq,
                         struct sim_reply *rp, struct logrec *lr,
                         const char *rid)
{
    const char *seg[8];
    size_t len[8];
    size_t n = segments(rq->path, seg, len, 7);
    int get = strcmp(rq->method, "GET") == 0;

    if (n == 2 && (seg_is(seg[0], len[0], "oauth")
                   || seg_is(seg[0], len[0], "oauth2"))
        && seg_is(seg[1], len[1], "token"))
        return oauth(api, rq, rp, lr);
    if (get && n >= 2 && seg_is(seg[0], len[0], "v2.0")) {
        if (n == 2 && seg_is(seg[1], len[1], "user")) {
            lr->route = "user";
            return list_route(api, rq, rp, lr, rid, 1);
        }
        if (seg_is(seg[1], len[1], "vehicles")) {
            if (n == 2) {
                lr->route = "vehicles";
                return list_route(api, rq, rp, lr, rid, 0);
            }
            if (n == 3) {
                lr->route = "attributes";
                return vehicle_route(api, rq, rp, lr, R_ATTRIBUTES, seg[2],
                                     len[2], rid);
            }
            if (n == 4 && seg_is(seg[3], len[3], "vin")) {
                lr->route = "vin";
                return vehicle_route(api, rq, rp, lr, R_VIN, seg[2], len[2],
                                     rid);
            }
            if (n == 5 && seg_is(seg[3], len[3], "service")
                && seg_is(seg[4], len[4], "history")) {
                lr->route = "history";
                return vehicle_route(api, rq, rp, lr, R_HISTORY, seg[2],
                                     len[2], rid);
            }
        }
    }
    if (get && n == 3 && seg_is(seg[0], len[0], "v3")
        && seg_is(seg[1], len[1], "vehicles")) {
        lr->route = "vehicle_v3";
        return vehicle_route(api, rq, rp, lr, R_V3_VEHICLE, seg[2], len[2],
                             rid);
    }
    if (get && n == 5 && seg_is(seg[0], len[0], "v3")
        && seg_is(seg[1], len[1], "vehicles")
        && seg_is(seg[3], len[3], "signals")
        && seg_is(seg[4], len[4], "service-records")) {
        lr->route = "service_records";
        return vehicle_route(api, rq, rp, lr, R_V3_RECORDS, seg[2], len[2],
                             rid);
    }
    lr->route = "unknown";
    return reply_error(rp, n >= 1 && seg_is(seg[0], len[0], "v3")
                       ? SHAPE_V3 : SHAPE_V2, SIM_E_NOT_FOUND, rid, NULL,
                       NULL);
}

int sim_api_handle(struct sim_api *api, const struct sim_request *rq,
                   struct sim_reply *rp)
{
    memset(rp, 0, sizeof(*rp));
    struct logrec lr;
    memset(&lr, 0, sizeof(lr));
    lr.route = "unknown";
    lr.fault = "none";
    lr.records = -1;
    char rid[40];
    new_request_id(rid);
    add_header(rp, "SC-Request-Id", rid);
    int rc = route_request(api, rq, rp, &lr, rid);
    if (rc < 0) {
        sim_reply_release(rp);
        rp->status = 500;
        rp->content_type = JSON_TYPE;
        rp->transport = SIM_SEND_NORMAL;
    }
    if (rp->delay_ms == 0)
        rp->delay_ms = jitter(api->o.latency_ms);
    write_log(api, rq, rp, &lr);
    return rc < 0 ? rc : ENG_OK;
}

/* ===== life cycle ===== */

struct sim_api *sim_api_new(const struct sim_fleet *fleet,
                            struct sim_auth *auth, struct sim_log *log,
                            const struct sim_api_opts *opts,
                            struct eng_err *err)
{
    struct sim_api *api = calloc(1, sizeof(*api));
    size_t n = sim_fleet_vehicle_count(fleet);
    if (api)
        api->veh = calloc(n ? n : 1, sizeof(*api->veh));
    if (!api || !api->veh) {
        free(api);
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    api->fleet = fleet;
    api->auth = auth;
    api->log = log;
    api->o = *opts;
    api->mono_start = mono_s();
    api->clock_start = opts->now >= 0 ? (double)opts->now
                                      : (double)time(NULL);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&api->stripe[i], NULL);
    pthread_mutex_init(&api->bucket_lock, NULL);
    sim_rate_bucket_init(&api->bucket, opts->bucket, opts->refill_per_min,
                         api->mono_start);
    return api;
}

void sim_api_free(struct sim_api *api)
{
    if (!api)
        return;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&api->stripe[i]);
    pthread_mutex_destroy(&api->bucket_lock);
    free(api->veh);
    free(api);
}
