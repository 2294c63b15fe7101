/*
 * sc — the Smartcar client's engine: jobs, discovery, token refreshes and
 * retries scheduled over libcurl multi handles, one per 256 transfer slots
 * (the transfers themselves are in sc_xfer.c, the set-up in sc_client.c,
 * the policy in sc_policy.c).
 *
 * Every HTTP request is a task.  Pending tasks wait in one queue with a due
 * time; each turn of the loop starts those that are due, whose token is
 * usable, that the app-wide pause and the rate bucket allow, while a
 * transfer slot is free.  Nothing ever sleeps on behalf of one vehicle: a
 * Retry-After is a due time, a refresh is a task the waiting requests find
 * finished on a later turn.
 */
#include "sc.h"
#include "sc_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "ptrain.h"

#define SC_MAX_IDS 100000       /* vehicles listed for one user, at most */
#define SC_MAX_WAIT_MS 1000     /* longest poll, so cfg.stop is seen */
#define SC_EVENTS 256           /* socket events taken per wait */

/* ---- logging ---- */

static void say(struct sc_client *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(struct sc_client *sc, const char *fmt, ...)
{
    if (!sc->cfg.log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    sc->cfg.log(sc->cfg.log_ud, line);
}

/* Lines one per pair (rotations, discovery): only with cfg.verbose. */
static void say_verbose(struct sc_client *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say_verbose(struct sc_client *sc, const char *fmt, ...)
{
    if (!sc->cfg.log || !sc->cfg.verbose)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    sc->cfg.log(sc->cfg.log_ud, line);
}

/* ---- the queue ---- */

static void queue_remove(struct sc_task *t)
{
    if (!t->queued)
        return;
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->queued = 0;
}

static void queue_back(struct sc_client *sc, struct sc_task *t)
{
    t->prev = sc->queue.prev;
    t->next = &sc->queue;
    sc->queue.prev->next = t;
    sc->queue.prev = t;
    t->queued = 1;
}

static void queue_front(struct sc_client *sc, struct sc_task *t)
{
    t->next = sc->queue.next;
    t->prev = &sc->queue;
    sc->queue.next->prev = t;
    sc->queue.next = t;
    t->queued = 1;
    sc->kick = 1;
}

static void fatal(struct sc_client *sc, int code, const char *what)
{
    if (sc->stop_rc == 0)
        sc->stop_rc = eng_err_set(sc->err, code, "%s", what);
}

/* ---- jobs ---- */

static void job_free(struct sc_vehicle *j)
{
    if (!j)
        return;
    free(j->vin);
    free(j->vehicle_id);
    free(j->user_id);
    free(j);
}

static const char *job_name(const struct sc_vehicle *j)
{
    return j->vin ? j->vin : j->vehicle_id ? j->vehicle_id : "(unnamed)";
}

/*
 * The one place a job ends.  slot is the transfer of the last answer
 * (NULL when the job ends without one).
 */
static void job_finish(struct sc_client *sc, struct sc_vehicle *j,
                       const char *status, const struct sc_slot *slot,
                       long http, const char *request_id,
                       const char *message)
{
    char at[21];
    tok_format_time(sc_wall(), at);
    int with_body = slot && (strcmp(status, "ok") == 0
                             || strcmp(status, "no_history") == 0);
    const char *unit = sc->unit;
    if (slot && (strcasecmp(slot->unit, "metric") == 0
                 || strcasecmp(slot->unit, "imperial") == 0))
        unit = strcasecmp(slot->unit, "metric") == 0 ? "metric" : "imperial";
    struct sc_result r = {
        .index = j->index,
        .vin = j->vin,
        .vehicle_id = j->vehicle_id,
        .status = status,
        .body = with_body ? slot->body.p : NULL,
        .body_len = with_body ? slot->body.len : 0,
        .unit_system = unit,
        .request_id = request_id ? request_id : "",
        .message = message ? message : "",
        .http_status = http,
        .attempts = j->task.attempts,
        .powertrain = j->ptrain,
        .fetched_at = at,
    };
    sc->stats.jobs++;
    if (strcmp(status, "ok") == 0)
        sc->stats.ok++;
    else if (strcmp(status, "no_history") == 0)
        sc->stats.no_history++;
    else
        sc->stats.errors++;
    if (strncmp(status, "error", 5) == 0)
        say(sc, "vehicle %s: %s%s%s%s%s", job_name(j),
            status, request_id && *request_id ? " request_id=" : "",
            request_id ? request_id : "", message && *message ? ": " : "",
            message ? message : "");
    queue_remove(&j->task);
    sc->active--;
    int rc = sc->done(sc->ud, &r);
    job_free(j);
    if (rc < 0 && sc->stop_rc == 0)
        sc->stop_rc = rc;
}

/* The job's next request: its vehicle object when asked, else its history. */
static void queue_history(struct sc_client *sc, struct sc_vehicle *j)
{
    j->task.kind = j->ask_ptrain ? SC_K_VEHICLE : SC_K_HISTORY;
    j->task.job = j;
    j->task.pair = sc->v3mode ? NULL : j->pair;
    j->task.due = 0;
    queue_back(sc, &j->task);
}

/* The vehicle object is answered or given up: on to the history, afresh. */
static void vehicle_step_done(struct sc_client *sc, struct sc_vehicle *j)
{
    queue_remove(&j->task);
    j->ask_ptrain = 0;
    j->task.attempts = 0;
    j->task.reauthed = 0;
    queue_history(sc, j);
}

/* ---- discovery ---- */

static struct sc_task *task_new(enum sc_kind kind)
{
    struct sc_task *t = calloc(1, sizeof(*t));
    if (t)
        t->kind = kind;
    return t;
}

static int disc_add_task(struct sc_client *sc, struct sc_disc *d,
                         enum sc_kind k, size_t arg)
{
    struct sc_task *t = task_new(k);
    if (!t)
        return ENG_ENOMEM;
    t->disc = d;
    t->pair = d->pair;
    t->arg = arg;
    d->pending++;
    queue_back(sc, t);
    return ENG_OK;
}

static struct sc_disc *disc_for(struct sc_client *sc, struct tok_pair *p)
{
    struct sc_disc *d = tok_pair_user(p);
    if (d)
        return d;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->pair = p;
    if (disc_add_task(sc, d, SC_K_LIST, 0) < 0) {
        free(d);
        return NULL;
    }
    d->next = sc->discs;
    sc->discs = d;
    tok_pair_set_user(p, d);
    say_verbose(sc, "listing the vehicles of pair %s", tok_pair_fingerprint(p));
    return d;
}

static void disc_free(struct sc_disc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->ids[i]);
        free(d->vins[i]);
    }
    free(d->ids);
    free(d->vins);
    free(d);
}

static int by_vin(const void *a, const void *b)
{
    const char *const *x = a;
    const char *const *y = b;
    if (!*x || !*y)
        return (*x == NULL) - (*y == NULL);
    return strcasecmp(*x, *y);
}

/* Sorts ids along with vins, so that later lookups are a binary search. */
static void disc_sort(struct sc_disc *d)
{
    char **pairs = malloc(2 * d->n * sizeof(*pairs));
    if (!pairs)
        return; /* stays unsorted: lookups stay linear */
    for (size_t i = 0; i < d->n; i++) {
        pairs[2 * i] = d->vins[i];
        pairs[2 * i + 1] = d->ids[i];
    }
    qsort(pairs, d->n, 2 * sizeof(*pairs), by_vin);
    for (size_t i = 0; i < d->n; i++) {
        d->vins[i] = pairs[2 * i];
        d->ids[i] = pairs[2 * i + 1];
    }
    free(pairs);
    d->sorted = 1;
}

static const char *disc_find(const struct sc_disc *d, const char *vin)
{
    if (d->sorted) {
        size_t lo = 0;
        size_t hi = d->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = d->vins[mid] ? strcasecmp(d->vins[mid], vin) : 1;
            if (c == 0)
                return d->ids[mid];
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return NULL;
    }
    for (size_t i = 0; i < d->n; i++) {
        if (d->vins[i] && strcasecmp(d->vins[i], vin) == 0)
            return d->ids[i];
    }
    return NULL;
}

/* A job found its vehicle id: on to the history. */
static int job_found(struct sc_client *sc, struct sc_vehicle *j, const char *id)
{
    j->vehicle_id = strdup(id);
    if (!j->vehicle_id)
        return ENG_ENOMEM;
    queue_history(sc, j);
    return ENG_OK;
}

/* The last list page and VIN lookup are in: whoever still waits, fails. */
static void disc_settle(struct sc_client *sc, struct sc_disc *d)
{
    if (!d->listed || d->pending > 0)
        return;
    disc_sort(d);
    say_verbose(sc, "pair %s has %zu vehicles",
                tok_pair_fingerprint(d->pair), d->n);
    while (d->waiting && !sc->stop_rc) {
        struct sc_vehicle *j = d->waiting;
        d->waiting = j->wnext;
        job_finish(sc, j, d->fail[0] ? d->fail : "error:INPUT:VIN_NOT_FOUND",
                   NULL, 0, NULL, "the vin is not among the user's vehicles");
    }
}

static void disc_note_failure(struct sc_disc *d, const char *status)
{
    if (!d->fail[0])
        snprintf(d->fail, sizeof(d->fail), "%s", status);
}

/* ---- the application token (v3) ---- */

static void cc_fail(struct sc_client *sc, const char *status)
{
    sc->cc.state = TOK_FAILED;
    snprintf(sc->cc.fail, sizeof(sc->cc.fail), "%s", status);
    say(sc, "application token: %s", status);
}

static enum tok_state cc_state(struct sc_client *sc, const char **access,
                               unsigned *gen)
{
    struct sc_cc *c = &sc->cc;
    if (c->state == TOK_READY
        && (!c->access || sc_wall() >= c->expires - TOK_EXPIRY_SKEW))
        c->state = TOK_STALE;
    if (c->state == TOK_STALE) {
        if (!sc->client_id || !sc->client_secret) {
            cc_fail(sc, "error:AUTHENTICATION:NO_CLIENT_CREDENTIALS");
        } else {
            struct sc_task *t = task_new(SC_K_CCTOKEN);
            if (!t) {
                fatal(sc, ENG_ENOMEM, "out of memory");
                return TOK_REFRESHING;
            }
            c->state = TOK_REFRESHING;
            queue_front(sc, t);
        }
    }
    *access = c->access;
    *gen = c->gen;
    return c->state;
}

/* ---- token pairs ---- */

static enum tok_state pair_state(struct sc_client *sc, struct tok_pair *p)
{
    enum tok_state st = tok_pair_state(p, sc_wall());
    if (st != TOK_STALE)
        return st;
    if (!sc->basic) {
        tok_refresh_fail(p, "error:AUTHENTICATION:NO_CLIENT_CREDENTIALS");
        sc->stats.refresh_failures++;
        say(sc, "pair %s needs a refresh but no client credentials were "
                "given", tok_pair_fingerprint(p));
        return TOK_FAILED;
    }
    const char *refresh;
    if (tok_refresh_begin(p, &refresh, NULL) < 0)
        return tok_pair_state(p, sc_wall());
    struct sc_task *t = task_new(SC_K_REFRESH);
    if (!t) {
        tok_refresh_abandon(p);
        fatal(sc, ENG_ENOMEM, "out of memory");
        return TOK_REFRESHING;
    }
    t->pair = p;
    t->secret = refresh;
    queue_front(sc, t);
    return TOK_REFRESHING;
}

/* ---- failing and retrying tasks ---- */

static void task_fail(struct sc_client *sc, struct sc_task *t,
                      const char *status, long http, const char *request_id,
                      const char *message)
{
    queue_remove(t);
    switch (t->kind) {
    case SC_K_HISTORY:
        job_finish(sc, t->job, status, NULL, http, request_id, message);
        return;
    case SC_K_VEHICLE:
        say(sc, "powertrain of %s: %s%s%s%s%s; unknown, history fetched "
            "anyway", job_name(t->job), status,
            request_id && *request_id ? " request_id=" : "",
            request_id ? request_id : "", message && *message ? ": " : "",
            message ? message : "");
        vehicle_step_done(sc, t->job);
        return;
    case SC_K_LIST:
        t->disc->listed = 1;
        /* fall through */
    case SC_K_VIN:
        disc_note_failure(t->disc, status);
        t->disc->pending--;
        say(sc, "pair %s: %s failed: %s", tok_pair_fingerprint(t->pair),
            t->kind == SC_K_LIST ? "vehicle list" : "vin lookup", status);
        disc_settle(sc, t->disc);
        free(t);
        return;
    case SC_K_REFRESH:
        tok_refresh_fail(t->pair, status);
        sc->stats.refresh_failures++;
        say(sc, "pair %s: refresh failed: %s%s%s",
            tok_pair_fingerprint(t->pair), status,
            request_id && *request_id ? " request_id=" : "",
            request_id ? request_id : "");
        free(t);
        return;
    case SC_K_CCTOKEN:
        cc_fail(sc, status);
        free(t);
        return;
    }
}

static void count_retry(struct sc_client *sc, enum sc_cause c)
{
    struct sc_stats *s = &sc->stats;
    s->retries++;
    switch (c) {
    case SC_CAUSE_RATE_VEHICLE: s->retry_rate_vehicle++; break;
    case SC_CAUSE_RATE_APP: s->retry_rate_app++; break;
    case SC_CAUSE_SERVER: s->retry_server++; break;
    case SC_CAUSE_VEHICLE_STATE: s->retry_vehicle_state++; break;
    case SC_CAUSE_RETRY_LATER: s->retry_later++; break;
    case SC_CAUSE_NETWORK: s->retry_network++; break;
    case SC_CAUSE_TIMEOUT: s->retry_timeout++; break;
    case SC_CAUSE_PARSE: s->retry_parse++; break;
    default: break;
    }
}

static const char *task_name(const struct sc_task *t, char *buf, size_t n)
{
    switch (t->kind) {
    case SC_K_HISTORY:
        snprintf(buf, n, "history of %s", job_name(t->job));
        break;
    case SC_K_VEHICLE:
        snprintf(buf, n, "powertrain of %s", job_name(t->job));
        break;
    case SC_K_LIST:
        snprintf(buf, n, "vehicle list of pair %s offset %zu",
                 tok_pair_fingerprint(t->pair), t->arg);
        break;
    case SC_K_VIN:
        snprintf(buf, n, "vin of %s", t->disc->ids[t->arg]);
        break;
    case SC_K_REFRESH:
        snprintf(buf, n, "refresh of pair %s", tok_pair_fingerprint(t->pair));
        break;
    case SC_K_CCTOKEN:
        snprintf(buf, n, "application token");
        break;
    }
    return buf;
}

/*
 * Acts on a decision that is not OK: requeue with a due time, or fail when
 * the attempts are spent.
 */
static void task_retry(struct sc_client *sc, struct sc_task *t,
                       const struct sc_decision *d, double retry_after,
                       long http, const char *request_id, const char *message)
{
    char name[160];
    double now = sc_mono();
    if (d->verdict == SC_V_FAIL) {
        task_fail(sc, t, d->status, http, request_id, message);
        return;
    }
    if (d->verdict == SC_V_REAUTH) {
        if (t->reauthed || (!t->pair && !sc->v3mode)) {
            task_fail(sc, t, d->status, http, request_id, message);
            return;
        }
        t->reauthed = 1;
        sc->stats.reauths++;
        if (t->pair) {
            tok_pair_reject(t->pair, t->gen);
        } else if (sc->cc.gen == t->gen && sc->cc.state == TOK_READY) {
            sc->cc.state = TOK_STALE; /* v3: fetch the app token anew */
        }
        say(sc, "%s: 401%s%s, getting a new token once",
            task_name(t, name, sizeof(name)),
            request_id && *request_id ? " request_id=" : "",
            request_id ? request_id : "");
        t->due = now;
        queue_back(sc, t);
        return;
    }
    int max = 1 + sc->cfg.retries;
    int used = t->attempts - t->reauthed;
    if (used >= max) {
        char msg[200];
        snprintf(msg, sizeof(msg), "gave up after %d attempts%s%.160s", used,
                 message && *message ? ": " : "", message ? message : "");
        task_fail(sc, t, d->status, http, request_id, msg);
        return;
    }
    /*
     * Every wait a server asks for is capped, whichever path it takes: a
     * Retry-After a year away would hold the vehicle (or, as an app-wide
     * pause, the whole batch) that long.
     */
    double asked = d->verdict == SC_V_RETRY ? retry_after : d->delay;
    if (asked > sc->cfg.max_retry_after) {
        char msg[200];
        snprintf(msg, sizeof(msg), "Retry-After %.0f s is beyond the %.0f s "
                 "limit", asked, sc->cfg.max_retry_after);
        task_fail(sc, t, d->status, http, request_id, msg);
        return;
    }
    double delay;
    const char *why = "backoff";
    if (d->verdict == SC_V_RETRY_AFTER) {
        /* Never early; a little late spreads the herd. */
        delay = d->delay + sc_backoff(0.25, 0.25, 1, &sc->rng);
        why = "Retry-After";
    } else if (d->verdict == SC_V_PAUSE) {
        if (t->sent >= sc->pause_set) {
            sc->pause_streak++;
            double p = sc_backoff(sc->cfg.backoff_base, sc->cfg.backoff_cap,
                                  sc->pause_streak, &sc->rng);
            if (d->delay > p)
                p = d->delay;
            if (now + p > sc->pause_until) {
                double from = sc->pause_until > now ? sc->pause_until : now;
                sc->stats.paused_seconds += now + p - from;
                sc->pause_until = now + p;
            }
            sc->pause_set = now;
            sc->stats.pauses++;
            say(sc, "app rate limit (%s): no API request for %.1f s",
                request_id && *request_id ? request_id : "no request id",
                sc->pause_until - now);
        }
        delay = sc->pause_until - now;
        why = "app pause";
    } else {
        delay = sc_backoff(sc->cfg.backoff_base, sc->cfg.backoff_cap, used,
                           &sc->rng);
        if (retry_after > delay) {
            delay = retry_after;
            why = "Retry-After";
        }
    }
    count_retry(sc, d->cause);
    say(sc, "%s: %s (%s)%s%s attempt %d/%d, retry in %.2f s (%s)",
        task_name(t, name, sizeof(name)), d->status, sc_cause_name(d->cause),
        request_id && *request_id ? " request_id=" : "",
        request_id ? request_id : "", used, max, delay, why);
    t->due = now + delay;
    queue_back(sc, t);
}

/* ---- successful answers ---- */

static const cJSON *item(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* GET /vehicles: ids of this page, then the next page or the VINs. */
static int on_list(struct sc_client *sc, struct sc_task *t, cJSON *o)
{
    struct sc_disc *d = t->disc;
    const cJSON *ids = item(o, "vehicles");
    if (!cJSON_IsArray(ids))
        return 0;
    size_t got = 0;
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        /* an id that is not visible ASCII is no id: never logged or sent */
        if (!cJSON_IsString(id) || !tok_header_safe(id->valuestring))
            continue;
        if (d->n >= SC_MAX_IDS)
            break;
        if (d->n == d->cap) {
            size_t ncap = d->cap ? 2 * d->cap : 16;
            char **ni = realloc(d->ids, ncap * sizeof(*ni));
            if (!ni)
                return ENG_ENOMEM;
            d->ids = ni;
            char **nv = realloc(d->vins, ncap * sizeof(*nv));
            if (!nv)
                return ENG_ENOMEM;
            d->vins = nv;
            d->cap = ncap;
        }
        d->ids[d->n] = strdup(id->valuestring);
        if (!d->ids[d->n])
            return ENG_ENOMEM;
        d->vins[d->n] = NULL;
        if (disc_add_task(sc, d, SC_K_VIN, d->n) < 0)
            return ENG_ENOMEM;
        d->n++;
        got++;
    }
    const cJSON *count = item(item(o, "paging"), "count");
    size_t next = t->arg + (size_t)cJSON_GetArraySize(ids);
    if (got > 0 && cJSON_IsNumber(count) && (double)next < count->valuedouble
        && d->n < SC_MAX_IDS) {
        if (disc_add_task(sc, d, SC_K_LIST, next) < 0)
            return ENG_ENOMEM;
    } else {
        d->listed = 1;
    }
    return 1;
}

static int on_vin(struct sc_client *sc, struct sc_task *t, cJSON *o)
{
    struct sc_disc *d = t->disc;
    const cJSON *v = item(o, "vin");
    if (!cJSON_IsString(v))
        return 0;
    char vin[24];
    sc_clean_token(v->valuestring, vin, sizeof(vin), 1);
    d->vins[t->arg] = strdup(vin);
    if (!d->vins[t->arg])
        return ENG_ENOMEM;
    struct sc_vehicle **pp = &d->waiting;
    while (*pp) {
        struct sc_vehicle *j = *pp;
        if (j->vin && strcasecmp(j->vin, vin) == 0) {
            /* unlinked only once queued, so a failure leaves it waiting */
            struct sc_vehicle *after = j->wnext;
            if (job_found(sc, j, d->ids[t->arg]) < 0)
                return ENG_ENOMEM;
            *pp = after;
        } else {
            pp = &j->wnext;
        }
    }
    return 1;
}

static int on_cc(struct sc_client *sc, cJSON *o)
{
    const cJSON *a = item(o, "access_token");
    const cJSON *e = item(o, "expires_in");
    if (!cJSON_IsString(a) || !a->valuestring[0])
        return 0;
    if (!tok_header_safe(a->valuestring)) {
        cc_fail(sc, "error:AUTHENTICATION:BAD_TOKEN_RESPONSE");
        return 1;
    }
    char *copy = strdup(a->valuestring);
    eng_wipe(a->valuestring, strlen(a->valuestring));
    if (!copy)
        return ENG_ENOMEM;
    sc_wipe_free(sc->cc.access);
    sc->cc.access = copy;
    sc->cc.expires = sc_wall() + (cJSON_IsNumber(e) && e->valuedouble > 0
                                      ? (long long)e->valuedouble
                                      : 3600);
    sc->cc.state = TOK_READY;
    sc->cc.gen++;
    say(sc, "application token obtained");
    return 1;
}

/*
 * GET /v3/vehicles/{id}: data.attributes.powertrainType, read by
 * ptrain_parse().  null or absent: the API does not know it; a value
 * ptrain_parse() does not know is logged and left unknown.  0 when the
 * body is not a vehicle object.
 */
static int on_vehicle(struct sc_client *sc, struct sc_vehicle *j,
                      const cJSON *o)
{
    const cJSON *a = item(item(o, "data"), "attributes");
    if (!cJSON_IsObject(a))
        return 0;
    const cJSON *pt = item(a, "powertrainType");
    if (!cJSON_IsString(pt))
        return 1;
    j->ptrain = ptrain_parse(pt->valuestring);
    if (j->ptrain != PTRAIN_UNKNOWN) {
        sc->stats.powertrains++;
    } else if (pt->valuestring[0]) {
        char v[40];
        sc_clean_token(pt->valuestring, v, sizeof(v), 0);
        say(sc, "powertrain of %s: powertrainType '%s' is not one svcscore "
            "knows; unknown", job_name(j), v);
    }
    return 1;
}

/* What a 2xx answer amounted to. */
enum answer {
    ANSWER_DONE,      /* the task is finished (and freed unless HISTORY) */
    ANSWER_SHAPE,     /* JSON, but not what this request returns */
    ANSWER_MALFORMED, /* not whole JSON: worth another try */
    ANSWER_FATAL      /* the run must stop; the task is untouched */
};

static enum answer on_success(struct sc_client *sc, struct sc_task *t,
                              struct sc_slot *s, long http)
{
    if (t->kind == SC_K_HISTORY) {
        long n = 0;
        int r = sc_history_records(s->body.p, s->body.len, &n);
        if (r < 0)
            return ANSWER_MALFORMED;
        if (r == 0)
            return ANSWER_SHAPE;
        job_finish(sc, t->job, n > 0 ? "ok" : "no_history", s, http,
                   s->request_id, NULL);
        return ANSWER_DONE;
    }
    if (t->kind == SC_K_VEHICLE) {
        cJSON *o = sc_json_parse(s->body.p, s->body.len);
        if (!o)
            return ANSWER_MALFORMED;
        int r = on_vehicle(sc, t->job, o);
        cJSON_Delete(o);
        if (r == 0)
            return ANSWER_SHAPE;
        vehicle_step_done(sc, t->job);
        return ANSWER_DONE;
    }
    if (t->kind == SC_K_REFRESH) {
        struct eng_err e;
        int rc = tok_refresh_complete(sc->cfg.tokens, t->pair, s->body.p,
                                      s->body.len, sc_wall(), &e);
        if (rc == ENG_EJSON || rc == ENG_EDATA)
            return ANSWER_MALFORMED;
        if (rc == ENG_EHTTP) {
            /* the store failed the pair and kept nothing */
            sc->stats.refresh_failures++;
            say(sc, "pair %s: refresh failed: %s%s%s",
                tok_pair_fingerprint(t->pair), tok_pair_failure(t->pair),
                s->request_id[0] ? " request_id=" : "", s->request_id);
            free(t);
            return ANSWER_DONE;
        }
        if (rc < 0) {
            sc->stats.refresh_failures++;
            fatal(sc, rc, e.msg);
            return ANSWER_FATAL;
        }
        sc->stats.rotations++;
        say_verbose(sc, "pair %s rotated%s%s", tok_pair_fingerprint(t->pair),
            s->request_id[0] ? " request_id=" : "", s->request_id);
        free(t);
        return ANSWER_DONE;
    }
    cJSON *o = sc_json_parse(s->body.p, s->body.len);
    if (!o)
        return ANSWER_MALFORMED;
    int r = 0;
    if (cJSON_IsObject(o)) {
        if (t->kind == SC_K_LIST)
            r = on_list(sc, t, o);
        else if (t->kind == SC_K_VIN)
            r = on_vin(sc, t, o);
        else
            r = on_cc(sc, o);
    }
    cJSON_Delete(o);
    if (r < 0) {
        fatal(sc, r, "out of memory");
        return ANSWER_FATAL;
    }
    if (r == 0)
        return ANSWER_SHAPE;
    if (t->kind == SC_K_LIST || t->kind == SC_K_VIN) {
        struct sc_disc *d = t->disc;
        d->pending--;
        free(t);
        disc_settle(sc, d);
    } else {
        free(t);
    }
    return ANSWER_DONE;
}

/* ---- transfers ---- */

static int start(struct sc_client *sc, struct sc_slot *s, struct sc_task *t,
                 const char *access, unsigned gen)
{
    int rc = sc_xfer_send(sc, s, t, access);
    if (rc < 0) {
        fatal(sc, rc, rc == ENG_ENOMEM ? "out of memory"
                                       : "libcurl refused a transfer");
        return rc;
    }
    s->task = t;
    t->attempts++;
    t->gen = gen;
    t->sent = sc_mono();
    sc->busy++;
    sc->stats.requests++;
    switch (t->kind) {
    case SC_K_HISTORY: sc->stats.history_requests++; break;
    case SC_K_LIST: sc->stats.list_requests++; break;
    case SC_K_VIN: sc->stats.vin_requests++; break;
    case SC_K_VEHICLE: sc->stats.vehicle_requests++; break;
    case SC_K_REFRESH:
        sc->stats.refreshes++;
        sc->refreshes_running++;
        break;
    case SC_K_CCTOKEN: sc->stats.token_requests++; break;
    }
    return ENG_OK;
}

static void finish_transfer(struct sc_client *sc, struct sc_slot *s,
                            CURLcode cc)
{
    struct sc_task *t = s->task;
    long http = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &http);
    curl_multi_remove_handle(s->mu->m, s->easy);
    sc->busy--;
    if (t->kind == SC_K_REFRESH)
        sc->refreshes_running--;
    sc->stats.bytes += s->body.len;
    sc->stats.wire_bytes += s->got;
    cc = sc_xfer_body_result(s, cc);
    sc->stats.responses[http >= 100 && http < SC_HTTP_CODES ? http : 0]++;
    if (s->slow) {
        cc = CURLE_OPERATION_TIMEDOUT;
        snprintf(s->errbuf, sizeof(s->errbuf), "under %.0f bytes/s for "
                 "%.0f s", sc->cfg.min_speed, sc->cfg.min_speed_time);
    }
    if (s->oom) {
        fatal(sc, ENG_ENOMEM, "out of memory");
        sc_xfer_reset(s);
        queue_back(sc, t); /* for clear_run() to free */
        return;
    }

    struct sc_envelope env;
    memset(&env, 0, sizeof(env));
    if (cc == CURLE_OK && (http < 200 || http >= 300))
        sc_parse_envelope(s->body.p, s->body.len, s->content_type, &env);
    struct sc_outcome o = {
        .curl_code = cc,
        .too_big = s->too_big,
        .http_status = http,
        .env = &env,
        .retry_after = sc_parse_retry_after(s->retry_after, sc_wall()),
        .token_endpoint = t->kind == SC_K_REFRESH || t->kind == SC_K_CCTOKEN,
    };
    struct sc_decision d;
    sc_decide(&o, &d);
    char rid[72];
    snprintf(rid, sizeof(rid), "%s", s->request_id[0] ? s->request_id
                                                      : env.request_id);
    char msg[200] = "";
    if (cc != CURLE_OK)
        snprintf(msg, sizeof(msg), "%.190s", s->errbuf[0] ? s->errbuf
                                          : curl_easy_strerror(cc));
    else if (env.description[0])
        snprintf(msg, sizeof(msg), "HTTP %ld: %s", http, env.description);
    else if (http >= 300 || http < 200)
        snprintf(msg, sizeof(msg), "HTTP %ld", http);

    if (d.verdict == SC_V_OK) {
        if (sc_is_api(t))
            sc->pause_streak = 0;
        enum answer a = on_success(sc, t, s, http);
        if (a == ANSWER_MALFORMED) {
            d.verdict = SC_V_RETRY;
            d.cause = SC_CAUSE_PARSE;
            snprintf(d.status, sizeof(d.status), "error:PARSE");
            snprintf(msg, sizeof(msg), "HTTP %ld with a body that is not "
                     "whole JSON (%zu bytes)", http, s->body.len);
        } else if (a == ANSWER_SHAPE) {
            d.verdict = SC_V_FAIL;
            snprintf(d.status, sizeof(d.status), "error:PARSE:SHAPE");
            snprintf(msg, sizeof(msg), "HTTP %ld with JSON of an unexpected "
                     "shape", http);
        } else {
            sc_xfer_reset(s);
            if (a == ANSWER_FATAL)
                queue_back(sc, t); /* for clear_run() to free */
            return;
        }
    }
    sc_xfer_reset(s);
    task_retry(sc, t, &d, o.retry_after, http, rid, msg);
}

/* ---- scheduling ---- */

static struct sc_slot *free_slot(struct sc_client *sc)
{
    for (int i = 0; i < sc->nslots; i++) {
        if (!sc->slots[i].task)
            return &sc->slots[i];
    }
    return NULL;
}

/*
 * Starts what can start; returns the monotonic time at which a waiting task
 * next becomes startable (HUGE_VAL if none is waiting on a clock).
 */
static double schedule(struct sc_client *sc, double now)
{
    double wake = HUGE_VAL;
    if (sc->cfg.rate > 0) {
        sc->bucket += (now - sc->bucket_at) * sc->cfg.rate;
        if (sc->bucket > sc->cfg.rate_burst)
            sc->bucket = sc->cfg.rate_burst;
    }
    sc->bucket_at = now;
    struct sc_task *t = sc->queue.next;
    while (t != &sc->queue && sc->busy < sc->nslots && !sc->stop_rc) {
        struct sc_task *next = t->next;
        if (t->due > now) {
            if (t->due < wake)
                wake = t->due;
            t = next;
            continue;
        }
        int api = sc_is_api(t);
        if (api && now < sc->pause_until) {
            if (sc->pause_until < wake)
                wake = sc->pause_until;
            t = next;
            continue;
        }
        const char *access = NULL;
        unsigned gen = 0;
        enum tok_state st = TOK_READY;
        if (t->job && sc->v3mode) {
            st = cc_state(sc, &access, &gen);
        } else if (api) {
            st = pair_state(sc, t->pair);
            access = tok_pair_access(t->pair);
            gen = tok_pair_generation(t->pair);
        }
        if (st == TOK_FAILED) {
            const char *why = t->job && sc->v3mode
                                  ? sc->cc.fail
                                  : tok_pair_failure(t->pair);
            task_fail(sc, t, why ? why : "error:AUTHENTICATION", 0, NULL,
                      "no usable token");
            /* the failure may have queued or freed neighbours: restart */
            t = sc->queue.next;
            continue;
        }
        if (st != TOK_READY) {
            t = next;
            continue;
        }
        if (api && sc->cfg.rate > 0) {
            if (sc->bucket < 1) {
                double at = now + (1 - sc->bucket) / sc->cfg.rate;
                if (at < wake)
                    wake = at;
                t = next;
                continue;
            }
            sc->bucket -= 1;
        }
        if (start(sc, free_slot(sc), t, access, gen) < 0)
            break; /* t stays queued, for clear_run() to free */
        queue_remove(t);
        t = next;
    }
    if (sc->kick) {
        /* a token request was queued ahead of where this pass was */
        sc->kick = 0;
        wake = now;
    }
    return wake;
}

/* ---- the run ---- */

/*
 * Waits up to ms for the transfers' sockets, and lets libcurl act on those
 * that are ready and on its timer when due.  0, or -1 with the run failed.
 */
static int events(struct sc_client *sc, int ms)
{
    struct epoll_event ev[SC_EVENTS];
    int n = epoll_wait(sc->epfd, ev, SC_EVENTS, ms);
    if (n < 0 && errno != EINTR) {
        fatal(sc, ENG_EHTTP, "waiting for the transfers' sockets failed");
        return -1;
    }
    int running = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)ev[i].data.u64;
        struct sc_multi *mu = &sc->multis[ev[i].data.u64 >> 32];
        if (fd >= 0 && (size_t)fd < sc->nfdstate
            && (sc->fdstate[fd] & SC_FD_PARKED)) {
            /* a parked socket libcurl no longer watches (on_socket()) */
            epoll_ctl(sc->epfd, EPOLL_CTL_DEL, fd, NULL);
            sc->fdstate[fd] = 0;
            continue;
        }
        int what = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0)
                   | (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0)
                   | (ev[i].events & (EPOLLERR | EPOLLHUP)
                          ? CURL_CSELECT_ERR : 0);
        if (curl_multi_socket_action(mu->m, fd, what,
                                     &running) != CURLM_OK) {
            fatal(sc, ENG_EHTTP, "libcurl socket action failed");
            return -1;
        }
    }
    double now = sc_mono();
    for (int k = 0; k < sc->nmulti; k++) {
        struct sc_multi *mu = &sc->multis[k];
        if (now < mu->due)
            continue;
        mu->due = HUGE_VAL;     /* the call sets the next one */
        if (curl_multi_socket_action(mu->m, CURL_SOCKET_TIMEOUT, 0,
                                     &running) != CURLM_OK) {
            fatal(sc, ENG_EHTTP, "libcurl socket action failed");
            return -1;
        }
    }
    return 0;
}

static char *dup_job_field(const char *s, int *failed)
{
    if (!s || !*s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = 1;
    return d;
}

static void job_begin(struct sc_client *sc, const struct sc_job *in)
{
    struct sc_vehicle *j = calloc(1, sizeof(*j));
    int failed = !j;
    if (j) {
        j->index = in->index;
        j->pair = in->tokens;
        j->vin = dup_job_field(in->vin, &failed);
        j->vehicle_id = dup_job_field(in->vehicle_id, &failed);
        j->user_id = dup_job_field(in->user_id, &failed);
        if (in->since_day > 0)
            eng_format_day(in->since_day, j->since);
        j->ask_ptrain = in->want_powertrain && sc->ptrain_ok;
    }
    if (failed) {
        job_free(j);
        fatal(sc, ENG_ENOMEM, "out of memory");
        return;
    }
    sc->active++;
    if (j->pair && !tok_pair_header_safe(j->pair)) {
        /* CR/LF in a token would add headers of the sender's choosing */
        job_finish(sc, j, "error:INPUT:BAD_TOKEN", NULL, 0, NULL,
                   "a token holds a byte outside visible ASCII");
        return;
    }
    if (j->vehicle_id) {
        if (!sc->v3mode && !j->pair) {
            job_finish(sc, j, "error:INPUT:NO_TOKEN", NULL, 0, NULL,
                       "no token pair for the vehicle");
            return;
        }
        queue_history(sc, j);
        return;
    }
    if (!j->vin) {
        job_finish(sc, j, "error:INPUT:NO_VEHICLE", NULL, 0, NULL,
                   "neither vin nor vehicle id");
        return;
    }
    if (!j->pair) {
        job_finish(sc, j, "error:INPUT:NO_TOKEN", NULL, 0, NULL,
                   "finding a vehicle id needs the user's token pair");
        return;
    }
    struct sc_disc *d = disc_for(sc, j->pair);
    if (!d) {
        job_free(j);
        sc->active--;
        fatal(sc, ENG_ENOMEM, "out of memory");
        return;
    }
    const char *id = disc_find(d, j->vin);
    if (id) {
        if (job_found(sc, j, id) < 0) {
            job_free(j);
            sc->active--;
            fatal(sc, ENG_ENOMEM, "out of memory");
        }
        return;
    }
    if (d->listed && d->pending == 0) {
        job_finish(sc, j, d->fail[0] ? d->fail : "error:INPUT:VIN_NOT_FOUND",
                   NULL, 0, NULL, "the vin is not among the user's vehicles");
        return;
    }
    j->wnext = d->waiting;
    d->waiting = j;
}

/* Frees a task that will not run, whatever it belonged to. */
static void drop_task(struct sc_client *sc, struct sc_task *t)
{
    queue_remove(t);
    if (t->kind == SC_K_HISTORY || t->kind == SC_K_VEHICLE) {
        job_free(t->job);
        sc->active--;
        return;
    }
    if (t->kind == SC_K_REFRESH)
        tok_refresh_abandon(t->pair);
    if (t->kind == SC_K_CCTOKEN)
        sc->cc.state = TOK_STALE;
    free(t);
}

/* Ends a run: drops every transfer, task, waiting job and discovery. */
static void clear_run(struct sc_client *sc)
{
    for (int i = 0; i < sc->nslots; i++) {
        struct sc_slot *s = &sc->slots[i];
        if (!s->task)
            continue;
        curl_multi_remove_handle(s->mu->m, s->easy);
        sc->busy--;
        struct sc_task *t = s->task;
        sc_xfer_reset(s);
        if (t->kind == SC_K_REFRESH) {
            /* Sent and unanswered: the server may have rotated it. */
            tok_refresh_fail(t->pair, "error:AUTHENTICATION:INTERRUPTED");
        }
        drop_task(sc, t);
    }
    sc->refreshes_running = 0;
    while (sc->queue.next != &sc->queue)
        drop_task(sc, sc->queue.next);
    while (sc->discs) {
        struct sc_disc *d = sc->discs;
        sc->discs = d->next;
        while (d->waiting) {
            struct sc_vehicle *j = d->waiting;
            d->waiting = j->wnext;
            job_free(j);
            sc->active--;
        }
        tok_pair_set_user(d->pair, NULL);
        disc_free(d);
    }
    sc->active = 0;
}

int sc_run(struct sc_client *sc, sc_next_fn next, sc_done_fn done, void *ud,
           struct eng_err *err)
{
    sc->done = done;
    sc->ud = ud;
    sc->stop_rc = 0;
    sc->err = err;
    int eof = 0;
    for (;;) {
        if (sc->cfg.stop && *sc->cfg.stop) {
            fatal(sc, ENG_EUSAGE, "stopped");
            break;
        }
        while (!eof && sc->active < sc->max_active && !sc->stop_rc) {
            struct sc_job j;
            memset(&j, 0, sizeof(j));
            int r = next(ud, &j);
            if (r < 0) {
                sc->stop_rc = r;
                break;
            }
            if (r == 0) {
                eof = 1;
                break;
            }
            job_begin(sc, &j);
        }
        if (sc->stop_rc)
            break;
        if (eof && sc->active == 0 && sc->refreshes_running == 0)
            break;

        double now = sc_mono();
        double wake = schedule(sc, now);
        if (sc->stop_rc)
            break;
        if (eof && sc->active == 0 && sc->refreshes_running == 0)
            break;
        for (int k = 0; k < sc->nmulti; k++) {
            if (sc->multis[k].due < wake)
                wake = sc->multis[k].due;
        }
        double wait = wake - sc_mono();
        int ms = wait <= 0 ? 0
                 : wait * 1000 > SC_MAX_WAIT_MS ? SC_MAX_WAIT_MS
                 : (int)ceil(wait * 1000);
        if (events(sc, ms) < 0)
            break;
        if (sc->cfg.tick)
            sc->cfg.tick(sc->cfg.tick_ud);
        for (int k = 0; k < sc->nmulti; k++) {
            CURLMsg *m;
            int left;
            while (!sc->stop_rc && (m = curl_multi_info_read(
                                        sc->multis[k].m, &left)) != NULL) {
                if (m->msg != CURLMSG_DONE)
                    continue;
                char *priv = NULL;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
                finish_transfer(sc, (struct sc_slot *)priv, m->data.result);
            }
        }
    }
    int rc = sc->stop_rc;
    clear_run(sc);
    sc->done = NULL;
    sc->ud = NULL;
    sc->err = NULL;
    return rc;
}

