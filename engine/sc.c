/*
 * sc — the Smartcar client's engine: jobs, discovery, token refreshes and
 * retries scheduled over one libcurl multi handle.
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

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "version.h"

#define SC_LIST_LIMIT 50        /* vehicles per GET /vehicles page */
#define SC_MAX_IDS 100000       /* vehicles listed for one user, at most */
#define SC_BODY_KEEP (1u << 20) /* a slot keeps this much buffer between
                                   transfers; bigger ones are released */
#define SC_MAX_WAIT_MS 1000     /* longest poll, so cfg.stop is seen */

enum kind { K_HISTORY, K_LIST, K_VIN, K_REFRESH, K_CCTOKEN };

struct job;
struct disc;

struct task {
    enum kind kind;
    struct job *job;        /* HISTORY */
    struct disc *disc;      /* LIST, VIN */
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
    struct task *prev;
    struct task *next;
};

struct job {
    size_t index;
    char *vin;
    char *vehicle_id;
    char *user_id;
    struct tok_pair *pair;
    struct task task;
    struct job *wnext;      /* waiting for discovery */
};

/* A user's vehicles, listed once per pair and kept for the run. */
struct disc {
    struct tok_pair *pair;
    char **ids;
    char **vins;            /* NULL until read */
    size_t n;
    size_t cap;
    size_t pending;         /* LIST and VIN tasks not finished */
    int listed;             /* the last page was read */
    int sorted;             /* ids/vins sorted by vin (after settling) */
    char fail[SC_STATUS_LEN];
    struct job *waiting;
    struct disc *next;
};

struct body {
    char *p;
    size_t len;
    size_t cap;
};

struct slot {
    struct sc_client *sc;
    CURL *easy;
    struct task *task;      /* NULL when free */
    struct body body;
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
struct cc {
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
    struct slot *slots;
    int nslots;
    int busy;
    int refreshes_running;
    int kick;               /* a task was queued in front during a pass */
    struct task queue;      /* sentinel of the pending tasks */
    size_t active;          /* jobs held */
    size_t max_active;
    double pause_until;
    double pause_set;
    int pause_streak;
    double bucket;
    double bucket_at;
    uint64_t rng;
    struct disc *discs;
    struct cc cc;
    struct sc_stats stats;
    sc_done_fn done;
    void *ud;
    int stop_rc;
    struct eng_err *err;
};

/* ---- small helpers ---- */

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long wall(void)
{
    return (long long)time(NULL);
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *v = s;
    while (*v)
        *v++ = 0;
    free(s);
}

static char *fmt_new(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *fmt_new(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

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

static char *base64(const char *s)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    char *o = out;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        *o++ = tab[v >> 18 & 63];
        *o++ = tab[v >> 12 & 63];
        *o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? tab[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int is_api(const struct task *t)
{
    return t->kind == K_HISTORY || t->kind == K_LIST || t->kind == K_VIN;
}

/* ---- the queue ---- */

static void queue_remove(struct task *t)
{
    if (!t->queued)
        return;
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->queued = 0;
}

static void queue_back(struct sc_client *sc, struct task *t)
{
    t->prev = sc->queue.prev;
    t->next = &sc->queue;
    sc->queue.prev->next = t;
    sc->queue.prev = t;
    t->queued = 1;
}

static void queue_front(struct sc_client *sc, struct task *t)
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

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->vin);
    free(j->vehicle_id);
    free(j->user_id);
    free(j);
}

static const char *job_name(const struct job *j)
{
    return j->vin ? j->vin : j->vehicle_id ? j->vehicle_id : "(unnamed)";
}

/*
 * The one place a job ends.  slot is the transfer of the last answer
 * (NULL when the job ends without one).
 */
static void job_finish(struct sc_client *sc, struct job *j, const char *status,
                       const struct slot *slot, long http,
                       const char *request_id, const char *message)
{
    char at[21];
    tok_format_time(wall(), at);
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

static void queue_history(struct sc_client *sc, struct job *j)
{
    j->task.kind = K_HISTORY;
    j->task.job = j;
    j->task.pair = sc->v3mode ? NULL : j->pair;
    j->task.due = 0;
    queue_back(sc, &j->task);
}

/* ---- discovery ---- */

static struct task *task_new(enum kind kind)
{
    struct task *t = calloc(1, sizeof(*t));
    if (t)
        t->kind = kind;
    return t;
}

static int disc_add_task(struct sc_client *sc, struct disc *d, enum kind k,
                         size_t arg)
{
    struct task *t = task_new(k);
    if (!t)
        return ENG_ENOMEM;
    t->disc = d;
    t->pair = d->pair;
    t->arg = arg;
    d->pending++;
    queue_back(sc, t);
    return ENG_OK;
}

static struct disc *disc_for(struct sc_client *sc, struct tok_pair *p)
{
    struct disc *d = tok_pair_user(p);
    if (d)
        return d;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->pair = p;
    if (disc_add_task(sc, d, K_LIST, 0) < 0) {
        free(d);
        return NULL;
    }
    d->next = sc->discs;
    sc->discs = d;
    tok_pair_set_user(p, d);
    say(sc, "listing the vehicles of pair %s", tok_pair_fingerprint(p));
    return d;
}

static void disc_free(struct disc *d)
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
static void disc_sort(struct disc *d)
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

static const char *disc_find(const struct disc *d, const char *vin)
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
static int job_found(struct sc_client *sc, struct job *j, const char *id)
{
    j->vehicle_id = strdup(id);
    if (!j->vehicle_id)
        return ENG_ENOMEM;
    queue_history(sc, j);
    return ENG_OK;
}

/* The last list page and VIN lookup are in: whoever still waits, fails. */
static void disc_settle(struct sc_client *sc, struct disc *d)
{
    if (!d->listed || d->pending > 0)
        return;
    disc_sort(d);
    say(sc, "pair %s has %zu vehicles", tok_pair_fingerprint(d->pair), d->n);
    while (d->waiting && !sc->stop_rc) {
        struct job *j = d->waiting;
        d->waiting = j->wnext;
        job_finish(sc, j, d->fail[0] ? d->fail : "error:INPUT:VIN_NOT_FOUND",
                   NULL, 0, NULL, "the vin is not among the user's vehicles");
    }
}

static void disc_note_failure(struct disc *d, const char *status)
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
    struct cc *c = &sc->cc;
    if (c->state == TOK_READY
        && (!c->access || wall() >= c->expires - TOK_EXPIRY_SKEW))
        c->state = TOK_STALE;
    if (c->state == TOK_STALE) {
        if (!sc->client_id || !sc->client_secret) {
            cc_fail(sc, "error:AUTHENTICATION:NO_CLIENT_CREDENTIALS");
        } else {
            struct task *t = task_new(K_CCTOKEN);
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
    enum tok_state st = tok_pair_state(p, wall());
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
        return tok_pair_state(p, wall());
    struct task *t = task_new(K_REFRESH);
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

static void task_fail(struct sc_client *sc, struct task *t, const char *status,
                      long http, const char *request_id, const char *message)
{
    queue_remove(t);
    switch (t->kind) {
    case K_HISTORY:
        job_finish(sc, t->job, status, NULL, http, request_id, message);
        return;
    case K_LIST:
        t->disc->listed = 1;
        /* fall through */
    case K_VIN:
        disc_note_failure(t->disc, status);
        t->disc->pending--;
        say(sc, "pair %s: %s failed: %s", tok_pair_fingerprint(t->pair),
            t->kind == K_LIST ? "vehicle list" : "vin lookup", status);
        disc_settle(sc, t->disc);
        free(t);
        return;
    case K_REFRESH:
        tok_refresh_fail(t->pair, status);
        sc->stats.refresh_failures++;
        say(sc, "pair %s: refresh failed: %s%s%s",
            tok_pair_fingerprint(t->pair), status,
            request_id && *request_id ? " request_id=" : "",
            request_id ? request_id : "");
        free(t);
        return;
    case K_CCTOKEN:
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

static const char *task_name(const struct task *t, char *buf, size_t n)
{
    switch (t->kind) {
    case K_HISTORY:
        snprintf(buf, n, "history of %s", job_name(t->job));
        break;
    case K_LIST:
        snprintf(buf, n, "vehicle list of pair %s offset %zu",
                 tok_pair_fingerprint(t->pair), t->arg);
        break;
    case K_VIN:
        snprintf(buf, n, "vin of %s", t->disc->ids[t->arg]);
        break;
    case K_REFRESH:
        snprintf(buf, n, "refresh of pair %s", tok_pair_fingerprint(t->pair));
        break;
    case K_CCTOKEN:
        snprintf(buf, n, "application token");
        break;
    }
    return buf;
}

/*
 * Acts on a decision that is not OK: requeue with a due time, or fail when
 * the attempts are spent.
 */
static void task_retry(struct sc_client *sc, struct task *t,
                       const struct sc_decision *d, double retry_after,
                       long http, const char *request_id, const char *message)
{
    char name[160];
    double now = mono();
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
    double delay;
    const char *why = "backoff";
    if (d->verdict == SC_V_RETRY_AFTER) {
        if (d->delay > sc->cfg.max_retry_after) {
            char msg[200];
            snprintf(msg, sizeof(msg), "Retry-After %.0f s is beyond the "
                     "%.0f s limit", d->delay, sc->cfg.max_retry_after);
            task_fail(sc, t, d->status, http, request_id, msg);
            return;
        }
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
static int on_list(struct sc_client *sc, struct task *t, cJSON *o)
{
    struct disc *d = t->disc;
    const cJSON *ids = item(o, "vehicles");
    if (!cJSON_IsArray(ids))
        return 0;
    size_t got = 0;
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        if (!cJSON_IsString(id) || !id->valuestring[0])
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
        if (disc_add_task(sc, d, K_VIN, d->n) < 0)
            return ENG_ENOMEM;
        d->n++;
        got++;
    }
    const cJSON *count = item(item(o, "paging"), "count");
    size_t next = t->arg + (size_t)cJSON_GetArraySize(ids);
    if (got > 0 && cJSON_IsNumber(count) && (double)next < count->valuedouble
        && d->n < SC_MAX_IDS) {
        if (disc_add_task(sc, d, K_LIST, next) < 0)
            return ENG_ENOMEM;
    } else {
        d->listed = 1;
    }
    return 1;
}

static int on_vin(struct sc_client *sc, struct task *t, cJSON *o)
{
    struct disc *d = t->disc;
    const cJSON *v = item(o, "vin");
    if (!cJSON_IsString(v))
        return 0;
    char vin[24];
    sc_clean_token(v->valuestring, vin, sizeof(vin), 1);
    d->vins[t->arg] = strdup(vin);
    if (!d->vins[t->arg])
        return ENG_ENOMEM;
    struct job **pp = &d->waiting;
    while (*pp) {
        struct job *j = *pp;
        if (j->vin && strcasecmp(j->vin, vin) == 0) {
            *pp = j->wnext;
            if (job_found(sc, j, d->ids[t->arg]) < 0)
                return ENG_ENOMEM;
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
    char *copy = strdup(a->valuestring);
    if (!copy)
        return ENG_ENOMEM;
    wipe_free(sc->cc.access);
    sc->cc.access = copy;
    sc->cc.expires = wall() + (cJSON_IsNumber(e) && e->valuedouble > 0
                                   ? (long long)e->valuedouble
                                   : 3600);
    sc->cc.state = TOK_READY;
    sc->cc.gen++;
    say(sc, "application token obtained");
    return 1;
}

/*
 * A 2xx answer.  Returns 1 when the task is finished, 0 for a body of the
 * wrong shape, -1 for a body that is not JSON (retried), or ENG_* (fatal).
 */
static int on_success(struct sc_client *sc, struct task *t, struct slot *s,
                      long http)
{
    if (t->kind == K_HISTORY) {
        long n = 0;
        int r = sc_history_records(s->body.p, s->body.len, &n);
        if (r == 1)
            job_finish(sc, t->job, n > 0 ? "ok" : "no_history", s, http,
                       s->request_id, NULL);
        return r;
    }
    if (t->kind == K_REFRESH) {
        struct eng_err e;
        int rc = tok_refresh_complete(sc->cfg.tokens, t->pair, s->body.p,
                                      s->body.len, wall(), &e);
        if (rc == ENG_EJSON || rc == ENG_EDATA)
            return -1;
        if (rc < 0) {
            sc->stats.refresh_failures++;
            fatal(sc, rc, e.msg);
            return rc;
        }
        sc->stats.rotations++;
        say(sc, "pair %s rotated%s%s", tok_pair_fingerprint(t->pair),
            s->request_id[0] ? " request_id=" : "", s->request_id);
        free(t);
        return 1;
    }
    cJSON *o = sc_json_parse(s->body.p, s->body.len);
    if (!o)
        return -1;
    int r = 0;
    if (cJSON_IsObject(o)) {
        if (t->kind == K_LIST)
            r = on_list(sc, t, o);
        else if (t->kind == K_VIN)
            r = on_vin(sc, t, o);
        else
            r = on_cc(sc, o);
    }
    cJSON_Delete(o);
    if (r < 0) {
        fatal(sc, r, "out of memory");
        return r;
    }
    if (r == 1 && (t->kind == K_LIST || t->kind == K_VIN)) {
        struct disc *d = t->disc;
        d->pending--;
        free(t);
        disc_settle(sc, d);
    } else if (r == 1) {
        free(t);
    }
    return r;
}

/* ---- transfers ---- */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct slot *s = ud;
    size_t k = size * n;
    size_t max = s->sc->cfg.max_body;
    if (k > max - s->body.len) {
        s->too_big = 1;
        return 0;
    }
    if (s->body.len + k + 1 > s->body.cap) {
        size_t ncap = s->body.cap ? s->body.cap : 16384;
        while (ncap < s->body.len + k + 1)
            ncap *= 2;
        if (ncap > max + 1)
            ncap = max + 1;
        char *np = realloc(s->body.p, ncap);
        if (!np) {
            s->oom = 1;
            return 0;
        }
        s->body.p = np;
        s->body.cap = ncap;
    }
    memcpy(s->body.p + s->body.len, data, k);
    s->body.len += k;
    s->body.p[s->body.len] = '\0';
    return k;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    struct slot *s = ud;
    size_t k = size * n;
    char v[96];
    if (k >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue, say): forget the last. */
        s->request_id[0] = '\0';
        s->unit[0] = '\0';
        s->retry_after[0] = '\0';
        s->content_type[0] = '\0';
    } else if (sc_header_value(line, k, "sc-request-id", v, sizeof(v))) {
        sc_clean_token(v, s->request_id, sizeof(s->request_id), 0);
    } else if (sc_header_value(line, k, "sc-unit-system", v, sizeof(v))) {
        sc_clean_token(v, s->unit, sizeof(s->unit), 0);
    } else if (sc_header_value(line, k, "retry-after", s->retry_after,
                               sizeof(s->retry_after))) {
        /* kept raw: a number or an HTTP date */
    } else if (sc_header_value(line, k, "content-type", s->content_type,
                               sizeof(s->content_type))) {
        /* kept raw */
    } else if (sc_header_value(line, k, "content-length", v, sizeof(v))) {
        char *end;
        unsigned long long len = strtoull(v, &end, 10);
        if (end != v && len > s->sc->cfg.max_body) {
            s->too_big = 1;
            return 0;
        }
    }
    return k;
}

static int add_header(struct curl_slist **h, const char *line)
{
    struct curl_slist *n = curl_slist_append(*h, line);
    if (!n)
        return ENG_ENOMEM;
    *h = n;
    return ENG_OK;
}

static int add_bearer(struct curl_slist **h, const char *token)
{
    char *line = fmt_new("Authorization: Bearer %s", token ? token : "");
    if (!line)
        return ENG_ENOMEM;
    int rc = add_header(h, line);
    wipe_free(line);
    return rc;
}

/* URL, headers and body of a task's request. */
static int build_request(struct sc_client *sc, struct slot *s, struct task *t,
                         const char *access)
{
    char *id = NULL;
    int rc = ENG_ENOMEM;
    switch (t->kind) {
    case K_HISTORY:
        id = sc_escape(t->job->vehicle_id);
        if (!id)
            goto out;
        if (sc->v3mode)
            s->url = fmt_new("%s/v3/vehicles/%s/signals/service-records"
                             "?start_date=%s&end_date=%s",
                             sc->v3, id, sc->since, sc->until);
        else
            s->url = fmt_new("%s/v2.0/vehicles/%s/service/history"
                             "?start_date=%s&end_date=%s",
                             sc->api, id, sc->since, sc->until);
        break;
    case K_LIST:
        s->url = fmt_new("%s/v2.0/vehicles?limit=%d&offset=%zu", sc->api,
                         SC_LIST_LIMIT, t->arg);
        break;
    case K_VIN:
        id = sc_escape(t->disc->ids[t->arg]);
        if (!id)
            goto out;
        s->url = fmt_new("%s/v2.0/vehicles/%s/vin", sc->api, id);
        break;
    case K_REFRESH: {
        char *enc = sc_escape(t->secret);
        if (!enc)
            goto out;
        s->post = fmt_new("grant_type=refresh_token&refresh_token=%s", enc);
        wipe_free(enc);
        s->url = strdup(sc->token_url);
        break;
    }
    case K_CCTOKEN: {
        char *cid = sc_escape(sc->client_id);
        char *sec = sc_escape(sc->client_secret);
        if (cid && sec)
            s->post = fmt_new("grant_type=client_credentials&client_id=%s"
                              "&client_secret=%s", cid, sec);
        free(cid);
        wipe_free(sec);
        s->url = strdup(sc->cc_url);
        break;
    }
    }
    if (!s->url || ((t->kind == K_REFRESH || t->kind == K_CCTOKEN) && !s->post))
        goto out;
    if (add_header(&s->headers, "Accept: application/json") < 0)
        goto out;
    if (is_api(t)) {
        char unit[48];
        snprintf(unit, sizeof(unit), "SC-Unit-System: %s", sc->unit);
        if (add_bearer(&s->headers, access) < 0
            || add_header(&s->headers, unit) < 0)
            goto out;
        if (sc->v3mode && t->kind == K_HISTORY && t->job->user_id) {
            char line[128];
            char uid[96];
            sc_clean_token(t->job->user_id, uid, sizeof(uid), 0);
            snprintf(line, sizeof(line), "sc-user-id: %s", uid);
            if (add_header(&s->headers, line) < 0)
                goto out;
        }
    } else {
        if (add_header(&s->headers, "Content-Type: "
                       "application/x-www-form-urlencoded") < 0)
            goto out;
        if (t->kind == K_REFRESH && add_header(&s->headers, sc->basic) < 0)
            goto out;
    }
    rc = ENG_OK;
out:
    free(id);
    return rc;
}

static void slot_reset(struct slot *s)
{
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    wipe_free(s->post);
    s->post = NULL;
    free(s->url);
    s->url = NULL;
    s->task = NULL;
    if (s->body.cap > SC_BODY_KEEP) {
        free(s->body.p);
        s->body.p = NULL;
        s->body.cap = 0;
    }
    s->body.len = 0;
}

static int start(struct sc_client *sc, struct slot *s, struct task *t,
                 const char *access, unsigned gen)
{
    s->body.len = 0;
    s->too_big = 0;
    s->oom = 0;
    s->request_id[0] = '\0';
    s->unit[0] = '\0';
    s->retry_after[0] = '\0';
    s->content_type[0] = '\0';
    s->errbuf[0] = '\0';
    if (build_request(sc, s, t, access) < 0) {
        slot_reset(s);
        fatal(sc, ENG_ENOMEM, "out of memory");
        return ENG_ENOMEM;
    }
    CURL *e = s->easy;
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    if (s->post) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->post);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(s->post));
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    if (curl_multi_add_handle(sc->multi, e) != CURLM_OK) {
        slot_reset(s);
        fatal(sc, ENG_EHTTP, "libcurl refused a transfer");
        return ENG_EHTTP;
    }
    s->task = t;
    t->attempts++;
    t->gen = gen;
    t->sent = mono();
    sc->busy++;
    sc->stats.requests++;
    switch (t->kind) {
    case K_HISTORY: sc->stats.history_requests++; break;
    case K_LIST: sc->stats.list_requests++; break;
    case K_VIN: sc->stats.vin_requests++; break;
    case K_REFRESH:
        sc->stats.refreshes++;
        sc->refreshes_running++;
        break;
    case K_CCTOKEN: sc->stats.token_requests++; break;
    }
    return ENG_OK;
}

static void finish_transfer(struct sc_client *sc, struct slot *s, CURLcode cc)
{
    struct task *t = s->task;
    long http = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &http);
    curl_multi_remove_handle(sc->multi, s->easy);
    sc->busy--;
    if (t->kind == K_REFRESH)
        sc->refreshes_running--;
    sc->stats.bytes += s->body.len;
    if (s->oom) {
        fatal(sc, ENG_ENOMEM, "out of memory");
        slot_reset(s);
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
        .retry_after = sc_parse_retry_after(s->retry_after, wall()),
        .token_endpoint = t->kind == K_REFRESH || t->kind == K_CCTOKEN,
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
        if (is_api(t))
            sc->pause_streak = 0;
        int r = on_success(sc, t, s, http);
        if (r == -1) {
            d.verdict = SC_V_RETRY;
            d.cause = SC_CAUSE_PARSE;
            snprintf(d.status, sizeof(d.status), "error:PARSE");
            snprintf(msg, sizeof(msg), "HTTP %ld with a body that is not "
                     "whole JSON (%zu bytes)", http, s->body.len);
        } else if (r == 0) {
            d.verdict = SC_V_FAIL;
            snprintf(d.status, sizeof(d.status), "error:PARSE:SHAPE");
            snprintf(msg, sizeof(msg), "HTTP %ld with JSON of an unexpected "
                     "shape", http);
        } else {
            slot_reset(s);
            return;
        }
    }
    slot_reset(s);
    task_retry(sc, t, &d, o.retry_after, http, rid, msg);
}

/* ---- scheduling ---- */

static struct slot *free_slot(struct sc_client *sc)
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
    struct task *t = sc->queue.next;
    while (t != &sc->queue && sc->busy < sc->nslots && !sc->stop_rc) {
        struct task *next = t->next;
        if (t->due > now) {
            if (t->due < wake)
                wake = t->due;
            t = next;
            continue;
        }
        int api = is_api(t);
        if (api && now < sc->pause_until) {
            if (sc->pause_until < wake)
                wake = sc->pause_until;
            t = next;
            continue;
        }
        const char *access = NULL;
        unsigned gen = 0;
        enum tok_state st = TOK_READY;
        if (t->kind == K_HISTORY && sc->v3mode) {
            st = cc_state(sc, &access, &gen);
        } else if (api) {
            st = pair_state(sc, t->pair);
            access = tok_pair_access(t->pair);
            gen = tok_pair_generation(t->pair);
        }
        if (st == TOK_FAILED) {
            const char *why = t->kind == K_HISTORY && sc->v3mode
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
        queue_remove(t);
        struct slot *s = free_slot(sc);
        if (start(sc, s, t, access, gen) < 0)
            break;
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
    struct job *j = calloc(1, sizeof(*j));
    int failed = !j;
    if (j) {
        j->index = in->index;
        j->pair = in->tokens;
        j->vin = dup_job_field(in->vin, &failed);
        j->vehicle_id = dup_job_field(in->vehicle_id, &failed);
        j->user_id = dup_job_field(in->user_id, &failed);
    }
    if (failed) {
        job_free(j);
        fatal(sc, ENG_ENOMEM, "out of memory");
        return;
    }
    sc->active++;
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
    struct disc *d = disc_for(sc, j->pair);
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
static void drop_task(struct sc_client *sc, struct task *t)
{
    queue_remove(t);
    if (t->kind == K_HISTORY) {
        job_free(t->job);
        sc->active--;
        return;
    }
    if (t->kind == K_REFRESH)
        tok_refresh_abandon(t->pair);
    if (t->kind == K_CCTOKEN)
        sc->cc.state = TOK_STALE;
    free(t);
}

/* Ends a run: drops every transfer, task, waiting job and discovery. */
static void clear_run(struct sc_client *sc)
{
    for (int i = 0; i < sc->nslots; i++) {
        struct slot *s = &sc->slots[i];
        if (!s->task)
            continue;
        curl_multi_remove_handle(sc->multi, s->easy);
        sc->busy--;
        struct task *t = s->task;
        slot_reset(s);
        if (t->kind == K_REFRESH) {
            /* Sent and unanswered: the server may have rotated it. */
            tok_refresh_fail(t->pair, "error:AUTHENTICATION:INTERRUPTED");
        }
        drop_task(sc, t);
    }
    sc->refreshes_running = 0;
    while (sc->queue.next != &sc->queue)
        drop_task(sc, sc->queue.next);
    while (sc->discs) {
        struct disc *d = sc->discs;
        sc->discs = d->next;
        while (d->waiting) {
            struct job *j = d->waiting;
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

        double now = mono();
        double wake = schedule(sc, now);
        if (sc->stop_rc)
            break;
        if (eof && sc->active == 0 && sc->refreshes_running == 0)
            break;
        double wait = wake - mono();
        int ms = wait <= 0 ? 0
                 : wait * 1000 > SC_MAX_WAIT_MS ? SC_MAX_WAIT_MS
                 : (int)ceil(wait * 1000);
        if (curl_multi_poll(sc->multi, NULL, 0, ms, NULL) != CURLM_OK) {
            fatal(sc, ENG_EHTTP, "libcurl multi poll failed");
            break;
        }
        int running = 0;
        if (curl_multi_perform(sc->multi, &running) != CURLM_OK) {
            fatal(sc, ENG_EHTTP, "libcurl multi perform failed");
            break;
        }
        CURLMsg *m;
        int left;
        while (!sc->stop_rc
               && (m = curl_multi_info_read(sc->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            finish_transfer(sc, (struct slot *)priv, m->data.result);
        }
    }
    int rc = sc->stop_rc;
    clear_run(sc);
    sc->done = NULL;
    sc->ud = NULL;
    sc->err = NULL;
    return rc;
}

/* ---- set-up ---- */

void sc_config_init(struct sc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->api_version = "2.0";
    cfg->unit_system = "metric";
    cfg->concurrency = 16;
    cfg->rate_burst = 1;
    cfg->retries = 5;
    cfg->timeout = 310;
    cfg->connect_timeout = 30;
    cfg->backoff_base = 0.5;
    cfg->backoff_cap = 30;
    cfg->max_retry_after = 900;
    cfg->since_day = eng_days_from_civil(1990, 1, 1);
    cfg->until_day = SC_UNTIL_TODAY;
    cfg->max_body = 8u << 20;
}

/* An origin without its trailing slashes; NULL when not http(s). */
static char *origin_from(const char *given, const char *env, const char *dflt,
                         int *bad)
{
    const char *o = given ? given : getenv(env);
    if (!o || !*o)
        o = dflt;
    if (strncmp(o, "http://", 7) != 0 && strncmp(o, "https://", 8) != 0) {
        *bad = 1;
        return NULL;
    }
    size_t n = strlen(o);
    while (n > 0 && o[n - 1] == '/')
        n--;
    return strndup(o, n);
}

static char *user_agent(void)
{
    struct utsname u;
    const char *os = "unknown";
    const char *arch = "unknown";
    if (uname(&u) == 0) {
        os = u.sysname;
        arch = u.machine;
    }
    return fmt_new("svcscore/%s (%s; %s) libcurl/%s", SVCSCORE_VERSION, os,
                   arch, curl_version_info(CURLVERSION_NOW)->version);
}

static int check_config(const struct sc_config *c, struct eng_err *err)
{
    if (!c->api_version || (strcmp(c->api_version, "2.0") != 0
                            && strcmp(c->api_version, "3") != 0))
        return eng_err_set(err, ENG_EUSAGE, "api version must be 2.0 or 3");
    if (c->concurrency < 1 || c->concurrency > 1024)
        return eng_err_set(err, ENG_EUSAGE, "concurrency must be 1..1024");
    if (c->retries < 0 || c->retries > 100)
        return eng_err_set(err, ENG_EUSAGE, "retries must be 0..100");
    if (!(c->timeout > 0) || !(c->connect_timeout > 0))
        return eng_err_set(err, ENG_EUSAGE, "timeouts must be positive");
    if (!(c->rate >= 0) || !(c->rate_burst >= 1))
        return eng_err_set(err, ENG_EUSAGE,
                           "rate must be >= 0 and its burst >= 1");
    if (!(c->backoff_base > 0) || !(c->backoff_cap >= c->backoff_base)
        || !(c->max_retry_after >= 0))
        return eng_err_set(err, ENG_EUSAGE, "bad backoff settings");
    if (c->max_body == 0)
        return eng_err_set(err, ENG_EUSAGE, "max body size must be positive");
    if (!c->unit_system || (strcmp(c->unit_system, "metric") != 0
                            && strcmp(c->unit_system, "imperial") != 0))
        return eng_err_set(err, ENG_EUSAGE,
                           "unit system must be metric or imperial");
    if (strcmp(c->api_version, "2.0") == 0 && !c->tokens)
        return eng_err_set(err, ENG_EUSAGE, "api version 2.0 needs a token "
                           "store");
    return ENG_OK;
}

static int setup_easy(struct sc_client *sc, struct slot *s)
{
    CURL *e = curl_easy_init();
    if (!e)
        return ENG_EHTTP;
    s->easy = e;
    s->sc = sc;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                      \
    do {                                                                   \
        if (rc == CURLE_OK)                                                \
            rc = curl_easy_setopt(e, opt, val);                            \
    } while (0)
    SET(CURLOPT_PRIVATE, (void *)s);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_VERBOSE, 0L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    SET(CURLOPT_PIPEWAIT, 1L);
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_TIMEOUT_MS, (long)(sc->cfg.timeout * 1000));
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(sc->cfg.connect_timeout * 1000));
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, sc->ua);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)s);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)s);
    SET(CURLOPT_ERRORBUFFER, s->errbuf);
#undef SET
    return rc == CURLE_OK ? ENG_OK : ENG_EHTTP;
}

struct sc_client *sc_new(const struct sc_config *cfg, struct eng_err *err)
{
    if (check_config(cfg, err) < 0)
        return NULL;
    struct sc_client *sc = calloc(1, sizeof(*sc));
    if (!sc) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    sc->cfg = *cfg;
    sc->queue.next = sc->queue.prev = &sc->queue;
    sc->v3mode = strcmp(cfg->api_version, "3") == 0;
    sc->max_active = cfg->max_active > 0 ? (size_t)cfg->max_active
                                         : 2 * (size_t)cfg->concurrency;
    int bad = 0;
    const char *auth_given = cfg->auth_origin ? cfg->auth_origin
                                              : getenv("SMARTCAR_AUTH_ORIGIN");
    char *auth = origin_from(cfg->auth_origin, "SMARTCAR_AUTH_ORIGIN",
                             "https://auth.smartcar.com", &bad);
    sc->api = origin_from(cfg->api_origin, "SMARTCAR_API_ORIGIN",
                          "https://api.smartcar.com", &bad);
    sc->v3 = origin_from(cfg->api_v3_origin, "SMARTCAR_API_V3_ORIGIN",
                         "https://vehicle.api.smartcar.com", &bad);
    if (bad) {
        free(auth);
        eng_err_set(err, ENG_EUSAGE, "an API or auth origin is not an "
                    "http(s) URL");
        goto fail;
    }
    if (!auth || !sc->api || !sc->v3)
        goto oom;
    sc->token_url = fmt_new("%s/oauth/token", auth);
    if (cfg->cc_token_url)
        sc->cc_url = strdup(cfg->cc_token_url);
    else if (auth_given && *auth_given)
        sc->cc_url = strdup(sc->token_url);
    else
        sc->cc_url = strdup("https://iam.smartcar.com/oauth2/token");
    free(auth);
    sc->unit = strdup(cfg->unit_system);
    sc->ua = user_agent();
    if (!sc->token_url || !sc->cc_url || !sc->unit || !sc->ua)
        goto oom;
    if (cfg->client_id && *cfg->client_id && cfg->client_secret
        && *cfg->client_secret) {
        sc->client_id = strdup(cfg->client_id);
        sc->client_secret = strdup(cfg->client_secret);
        char *pair = fmt_new("%s:%s", cfg->client_id, cfg->client_secret);
        char *b64 = pair ? base64(pair) : NULL;
        wipe_free(pair);
        sc->basic = b64 ? fmt_new("Authorization: Basic %s", b64) : NULL;
        wipe_free(b64);
        if (!sc->client_id || !sc->client_secret || !sc->basic)
            goto oom;
    }
    /* the caller's strings are not kept */
    sc->cfg.api_origin = sc->cfg.api_v3_origin = sc->cfg.auth_origin = NULL;
    sc->cfg.cc_token_url = sc->cfg.client_id = sc->cfg.client_secret = NULL;
    sc->cfg.api_version = NULL;
    sc->cfg.unit_system = NULL;

    long until = cfg->until_day == SC_UNTIL_TODAY ? eng_today()
                                                  : cfg->until_day;
    if (until < cfg->since_day) {
        eng_err_set(err, ENG_EUSAGE, "the history window ends before it "
                    "starts");
        goto fail;
    }
    eng_format_day(cfg->since_day, sc->since);
    eng_format_day(until, sc->until);
    sc->rng = cfg->seed ? cfg->seed
                        : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    sc->bucket = cfg->rate_burst;
    sc->bucket_at = mono();
    sc->cc.state = TOK_STALE;

    sc->multi = curl_multi_init();
    if (!sc->multi
        || curl_multi_setopt(sc->multi, CURLMOPT_MAXCONNECTS,
                             (long)cfg->concurrency + 4) != CURLM_OK) {
        eng_err_set(err, ENG_EHTTP, "libcurl multi interface unavailable");
        goto fail;
    }
    sc->slots = calloc((size_t)cfg->concurrency, sizeof(*sc->slots));
    if (!sc->slots)
        goto oom;
    sc->nslots = cfg->concurrency;
    for (int i = 0; i < sc->nslots; i++) {
        if (setup_easy(sc, &sc->slots[i]) < 0) {
            eng_err_set(err, ENG_EHTTP, "libcurl refused a transfer option");
            goto fail;
        }
    }
    return sc;
oom:
    eng_err_set(err, ENG_ENOMEM, "out of memory");
fail:
    sc_free(sc);
    return NULL;
}

void sc_free(struct sc_client *sc)
{
    if (!sc)
        return;
    for (int i = 0; i < sc->nslots; i++) {
        struct slot *s = &sc->slots[i];
        if (s->easy)
            curl_easy_cleanup(s->easy);
        curl_slist_free_all(s->headers);
        wipe_free(s->post);
        free(s->url);
        free(s->body.p);
    }
    free(sc->slots);
    if (sc->multi)
        curl_multi_cleanup(sc->multi);
    free(sc->api);
    free(sc->v3);
    free(sc->token_url);
    free(sc->cc_url);
    free(sc->client_id);
    wipe_free(sc->client_secret);
    wipe_free(sc->basic);
    wipe_free(sc->cc.access);
    free(sc->unit);
    free(sc->ua);
    free(sc);
}

void sc_get_stats(const struct sc_client *sc, struct sc_stats *out)
{
    *out = sc->stats;
}

const char *sc_user_agent(const struct sc_client *sc)
{
    return sc->ua;
}
