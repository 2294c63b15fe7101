/*
 * sc_client — the Smartcar client's set-up and teardown: defaults, checks
 * of the configuration, origins and credentials, the transfer slots; and
 * the small helpers the client's files share.
 */
#include "sc.h"
#include "sc_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "version.h"

/* ---- helpers ---- */

double sc_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

long long sc_wall(void)
{
    return (long long)time(NULL);
}

void sc_wipe_free(char *s)
{
    if (!s)
        return;
    eng_wipe(s, strlen(s));
    free(s);
}

char *sc_fmt_new(const char *fmt, ...)
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

/* ---- set-up ---- */

/*
 * Each transfer holds a socket, and the connection cache a few more: a
 * soft limit on open files below that (1,024 is a common default) would
 * fail connections, then the run's own files.  Raises the soft limit to
 * what the transfers need, within the hard one.
 */
static int fd_room(int concurrency, struct eng_err *err)
{
    rlim_t need = (rlim_t)concurrency + SC_FD_SPARE;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY
        || rl.rlim_cur >= need)
        return ENG_OK;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
        return eng_err_set(err, ENG_EUSAGE, "concurrency %d needs %lu open "
                           "files, over the hard limit of %lu (ulimit -Hn)",
                           concurrency, (unsigned long)need,
                           (unsigned long)rl.rlim_max);
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return eng_err_set(err, ENG_EUSAGE, "concurrency %d needs %lu open "
                           "files, and the limit cannot be raised",
                           concurrency, (unsigned long)need);
    return ENG_OK;
}

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
    cfg->min_speed = 64;
    cfg->min_speed_time = 30;
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
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)o[i] < 0x21 || (unsigned char)o[i] > 0x7e) {
            *bad = 1; /* blanks or CR/LF have no place in a URL */
            return NULL;
        }
    }
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
    return sc_fmt_new("svcscore/%s (%s; %s) libcurl/%s", SVCSCORE_VERSION,
                      os, arch, curl_version_info(CURLVERSION_NOW)->version);
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
    if (!(c->min_speed >= 0) || !(c->min_speed_time > 0))
        return eng_err_set(err, ENG_EUSAGE, "bad low-speed settings");
    if (c->max_body == 0)
        return eng_err_set(err, ENG_EUSAGE, "max body size must be positive");
    if (!c->unit_system || (strcmp(c->unit_system, "metric") != 0
                            && strcmp(c->unit_system, "imperial") != 0))
        return eng_err_set(err, ENG_EUSAGE,
                           "unit system must be metric or imperial");
    if ((c->client_id && *c->client_id && !tok_header_safe(c->client_id))
        || (c->client_secret && *c->client_secret
            && !tok_header_safe(c->client_secret)))
        return eng_err_set(err, ENG_EUSAGE, "the client id or secret holds "
                           "a byte outside visible ASCII");
    if (c->cc_token_url && !tok_header_safe(c->cc_token_url))
        return eng_err_set(err, ENG_EUSAGE, "the token URL holds a byte "
                           "outside visible ASCII");
    if (strcmp(c->api_version, "2.0") == 0 && !c->tokens)
        return eng_err_set(err, ENG_EUSAGE, "api version 2.0 needs a token "
                           "store");
    return ENG_OK;
}

struct sc_client *sc_new(const struct sc_config *cfg, struct eng_err *err)
{
    if (check_config(cfg, err) < 0 || fd_room(cfg->concurrency, err) < 0)
        return NULL;
    struct sc_client *sc = calloc(1, sizeof(*sc));
    if (!sc) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    sc->cfg = *cfg;
    sc->queue.next = sc->queue.prev = &sc->queue;
    sc->epfd = -1;
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
    /* v2.0 asks v3 for the powertrain only where it was told to go */
    sc->ptrain_ok = sc->v3mode || cfg->api_v3_origin
                    || getenv("SMARTCAR_API_V3_ORIGIN");
    if (bad) {
        free(auth);
        eng_err_set(err, ENG_EUSAGE, "an API or auth origin is not an "
                    "http(s) URL");
        goto fail;
    }
    if (!auth || !sc->api || !sc->v3)
        goto oom;
    /* one SDK documents the variable as the whole token URL: accept both */
    size_t alen = strlen(auth);
    int whole = alen >= 12 && strcmp(auth + alen - 12, "/oauth/token") == 0;
    sc->token_url = whole ? strdup(auth) : sc_fmt_new("%s/oauth/token", auth);
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
        char *pair = sc_fmt_new("%s:%s", cfg->client_id, cfg->client_secret);
        char *b64 = pair ? base64(pair) : NULL;
        sc_wipe_free(pair);
        sc->basic = b64 ? sc_fmt_new("Authorization: Basic %s", b64) : NULL;
        sc_wipe_free(b64);
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
    sc->bucket_at = sc_mono();
    sc->cc.state = TOK_STALE;

    sc->nmulti = (cfg->concurrency + SC_CONNS_PER_MULTI - 1)
                 / SC_CONNS_PER_MULTI;
    sc->multis = calloc((size_t)sc->nmulti, sizeof(*sc->multis));
    if (!sc->multis)
        goto oom;
    for (int i = 0; i < sc->nmulti; i++) {
        struct sc_multi *mu = &sc->multis[i];
        /* slot k uses multi handle k % nmulti: its share, rounded up */
        long share = (cfg->concurrency - i + sc->nmulti - 1) / sc->nmulti;
        mu->sc = sc;
        mu->idx = (unsigned)i;
        mu->m = curl_multi_init();
        if (!mu->m || curl_multi_setopt(mu->m, CURLMOPT_MAXCONNECTS,
                                        share + 4) != CURLM_OK) {
            eng_err_set(err, ENG_EHTTP, "libcurl multi interface "
                        "unavailable");
            goto fail;
        }
    }
    if (sc_events_init(sc) < 0) {
        eng_err_set(err, ENG_EHTTP, "cannot watch the transfers' sockets "
                    "(epoll)");
        goto fail;
    }
    sc->slots = calloc((size_t)cfg->concurrency, sizeof(*sc->slots));
    if (!sc->slots)
        goto oom;
    sc->nslots = cfg->concurrency;
    for (int i = 0; i < sc->nslots; i++) {
        if (sc_xfer_init(sc, &sc->slots[i]) < 0) {
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
        struct sc_slot *s = &sc->slots[i];
        if (s->easy)
            curl_easy_cleanup(s->easy);
        sc_xfer_reset(s);
        sc_xfer_free(s);
        free(s->body.p);
    }
    free(sc->slots);
    sc_xfer_free_inflaters(sc);
    free(sc->fdstate);
    for (int i = 0; sc->multis && i < sc->nmulti; i++) {
        if (sc->multis[i].m)
            curl_multi_cleanup(sc->multis[i].m);
    }
    free(sc->multis);
    if (sc->epfd >= 0)
        close(sc->epfd);
    free(sc->api);
    free(sc->v3);
    free(sc->token_url);
    free(sc->cc_url);
    free(sc->client_id);
    sc_wipe_free(sc->client_secret);
    sc_wipe_free(sc->basic);
    sc_wipe_free(sc->cc.access);
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

const char *sc_token_url(const struct sc_client *sc)
{
    return sc->token_url;
}
