/*
 * sc_xfer — one transfer of the Smartcar client: a reusable easy handle and
 * its options, the bounded body buffer, header capture, and the building of
 * each request (URL, headers, form body).  TLS verification stays on;
 * nothing is ever logged here, least of all the Authorization header.
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

#include <curl/curl.h>
#include <zlib.h>

/* Bytes of the answer arrived: the low-speed window starts at the first. */
static void note_bytes(struct sc_slot *s, size_t k)
{
    if (s->win_at == 0)
        s->win_at = sc_mono();
    s->got += k;
}

/*
 * The low-speed limit.  libcurl's own (CURLOPT_LOW_SPEED_LIMIT) counts from
 * the moment the request is sent, and the API may legitimately think for
 * minutes before the first byte (hence --timeout 310); so the window opens
 * with the first byte of the answer, and each min_speed_time seconds from
 * then must bring min_speed bytes per second, or the transfer ends as a
 * timeout.  A server trickling a byte at a time thus holds a slot for
 * min_speed_time seconds past its first byte, not for the whole timeout.
 */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    struct sc_slot *s = ud;
    const struct sc_config *c = &s->sc->cfg;
    if (c->min_speed <= 0 || s->win_at == 0)
        return 0;
    double now = sc_mono();
    if (now - s->win_at < c->min_speed_time)
        return 0;
    double need = c->min_speed * (now - s->win_at);
    if ((double)(s->got - s->win_got) < need) {
        s->slow = 1;
        return 1;
    }
    s->win_at = now;
    s->win_got = s->got;
    return 0;
}

/*
 * Formats into *buf, a buffer of *cap bytes kept between requests, growing
 * it when the text does not fit (the old one is wiped: it may have held a
 * token).  Returns ENG_OK, or ENG_ENOMEM with *buf unchanged.
 */
static int vfmt_into(char **buf, size_t *cap, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(*buf, *cap, fmt, ap);
    if (n < 0 || (size_t)n < *cap) {
        va_end(again);
        return n < 0 ? ENG_ENOMEM : ENG_OK;
    }
    size_t ncap = (size_t)n + 1 < 128 ? 128 : (size_t)n + 1;
    char *nb = malloc(ncap);
    if (!nb) {
        va_end(again);
        return ENG_ENOMEM;
    }
    vsnprintf(nb, ncap, fmt, again);
    va_end(again);
    if (*buf) {
        eng_wipe(*buf, *cap);
        free(*buf);
    }
    *buf = nb;
    *cap = ncap;
    return ENG_OK;
}

static int fmt_into(char **buf, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfmt_into(buf, cap, fmt, ap);
    va_end(ap);
    return rc;
}

/* Forgets the request's header lines, wiping each (one holds the token). */
static void free_headers(struct sc_slot *s)
{
    for (int i = 0; i < s->nhdr; i++)
        eng_wipe(s->hline[i], strlen(s->hline[i]));
    s->nhdr = 0;
    s->headers = NULL;
}

/*
 * Gzip bodies are decoded here rather than by libcurl, which sets up and
 * tears down a zlib stream (and its 32 KB window) for every answer: at a
 * thousand connections that was a tenth of the client's CPU.  A decoder is
 * taken from the client's pool at an answer's first gzip byte and given
 * back at its end, so there are only as many as answers being decoded at
 * one moment, not one per slot.
 */
struct sc_inflater {
    z_stream zs;
    struct sc_inflater *next;
};

static struct sc_inflater *inflater_take(struct sc_client *sc)
{
    struct sc_inflater *f = sc->inflaters;
    if (f) {
        sc->inflaters = f->next;
        if (inflateReset(&f->zs) == Z_OK)
            return f;
        inflateEnd(&f->zs);
        free(f);
    }
    f = calloc(1, sizeof(*f));
    if (f && inflateInit2(&f->zs, 15 + 16) != Z_OK) {   /* gzip only */
        free(f);
        f = NULL;
    }
    return f;
}

static void inflater_give(struct sc_slot *s)
{
    if (!s->inf)
        return;
    s->inf->next = s->sc->inflaters;
    s->sc->inflaters = s->inf;
    s->inf = NULL;
}

void sc_xfer_free_inflaters(struct sc_client *sc)
{
    while (sc->inflaters) {
        struct sc_inflater *f = sc->inflaters;
        sc->inflaters = f->next;
        inflateEnd(&f->zs);
        free(f);
    }
}

/* Makes room for at least one more byte past body.len, within max_body. */
static int body_room(struct sc_slot *s, size_t want)
{
    size_t max = s->sc->cfg.max_body;
    if (want > max - s->body.len) {
        s->too_big = 1;
        return -1;
    }
    if (s->body.len + want + 1 <= s->body.cap)
        return 0;
    size_t ncap = s->body.cap ? s->body.cap : 16384;
    while (ncap < s->body.len + want + 1)
        ncap *= 2;
    if (ncap > max + 1)
        ncap = max + 1;
    char *np = realloc(s->body.p, ncap);
    if (!np) {
        s->oom = 1;
        return -1;
    }
    s->body.p = np;
    s->body.cap = ncap;
    return 0;
}

/* Decodes k gzip bytes into the body; 0 to stop the transfer. */
static size_t gunzip(struct sc_slot *s, char *data, size_t k)
{
    if (s->enc == SC_ENC_DONE && k > 0)
        s->enc = SC_ENC_BAD;    /* bytes past the stream's end */
    if (s->enc != SC_ENC_GZIP)
        return k;       /* unreadable: refused when the answer ends */
    if (!s->inf && !(s->inf = inflater_take(s->sc))) {
        s->oom = 1;
        return 0;
    }
    z_stream *zs = &s->inf->zs;
    zs->next_in = (unsigned char *)data;
    zs->avail_in = (uInt)k;
    /* inflate may hold output back when it filled the room given: it
     * runs again then, even with no input left */
    int full = 0;
    while (zs->avail_in > 0 || full) {
        size_t left = s->sc->cfg.max_body - s->body.len;
        /* at the cap only the stream's end may follow: inflate gets one
         * spare byte, and a byte written there is one too many */
        unsigned char spare;
        unsigned char *out = &spare;
        size_t room = 1;
        if (left > 0) {
            if (s->body.cap <= s->body.len + 1) {
                /* a history is usually four to eight times its gzip size */
                size_t want = k < 4096 ? 16384 : 8 * k;
                if (body_room(s, want < left ? want : left) < 0)
                    return 0;
            }
            out = (unsigned char *)s->body.p + s->body.len;
            room = s->body.cap - s->body.len - 1;
            if (room > left)
                room = left;
        }
        zs->next_out = out;
        zs->avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
        uInt before = zs->avail_out;
        int zrc = inflate(zs, Z_NO_FLUSH);
        size_t made = before - zs->avail_out;
        if (out == &spare && made > 0) {
            s->too_big = 1;
            return 0;
        }
        full = zs->avail_out == 0 && made > 0;
        if (out != &spare) {
            s->body.len += made;
            s->body.p[s->body.len] = '\0';
        }
        if (zrc == Z_STREAM_END) {
            /* one member, as servers send; anything after it is refused */
            s->enc = zs->avail_in > 0 ? SC_ENC_BAD : SC_ENC_DONE;
            inflater_give(s);
            return k;
        }
        if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            s->enc = SC_ENC_BAD;
            inflater_give(s);
            return k;
        }
    }
    return k;
}

CURLcode sc_xfer_body_result(struct sc_slot *s, CURLcode cc)
{
    if (cc != CURLE_OK)
        return cc;
    if (s->enc == SC_ENC_OTHER) {
        snprintf(s->errbuf, sizeof(s->errbuf), "an answer in Content-Encoding"
                 " '%s', not the gzip asked for", s->enc_name);
        return CURLE_BAD_CONTENT_ENCODING;
    }
    /* a decoder still held: the stream began and never ended */
    if (s->enc == SC_ENC_BAD || (s->enc == SC_ENC_GZIP && s->inf)) {
        snprintf(s->errbuf, sizeof(s->errbuf), "the gzip body is %s",
                 s->enc == SC_ENC_BAD ? "damaged" : "cut short");
        return CURLE_BAD_CONTENT_ENCODING;
    }
    return CURLE_OK;
}

size_t sc_xfer_on_body(char *data, size_t size, size_t n, void *ud)
{
    struct sc_slot *s = ud;
    size_t k = size * n;
    note_bytes(s, k);
    if (s->enc != SC_ENC_IDENTITY)
        return gunzip(s, data, k);
    if (body_room(s, k) < 0)
        return 0;
    memcpy(s->body.p + s->body.len, data, k);
    s->body.len += k;
    s->body.p[s->body.len] = '\0';
    return k;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    struct sc_slot *s = ud;
    size_t k = size * n;
    char v[96];
    note_bytes(s, k);
    if (k >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue, say): forget the last. */
        s->request_id[0] = '\0';
        s->unit[0] = '\0';
        s->retry_after[0] = '\0';
        s->content_type[0] = '\0';
        s->enc = SC_ENC_IDENTITY;
        s->body.len = 0;
        inflater_give(s);
    } else if (sc_header_value(line, k, "content-encoding", v, sizeof(v))) {
        /* we ask for gzip only: anything else cannot be read */
        if (strcasecmp(v, "gzip") == 0 || strcasecmp(v, "x-gzip") == 0)
            s->enc = SC_ENC_GZIP;
        else if (strcasecmp(v, "identity") != 0) {
            s->enc = SC_ENC_OTHER;
            sc_clean_token(v, s->enc_name, sizeof(s->enc_name), 0);
        }
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

/*
 * Appends a header line to slot s's list: its own nodes and lines, kept
 * between requests, so that a request allocates nothing for its headers.
 */
static int add_header(struct sc_slot *s, const char *fmt, ...)
{
    int i = s->nhdr;
    if (i >= SC_HDR_MAX)
        return ENG_ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    int rc = vfmt_into(&s->hline[i], &s->hcap[i], fmt, ap);
    va_end(ap);
    if (rc < 0)
        return rc;
    s->hnode[i].data = s->hline[i];
    s->hnode[i].next = NULL;
    if (i > 0)
        s->hnode[i - 1].next = &s->hnode[i];
    s->headers = &s->hnode[0];
    s->nhdr = i + 1;
    return ENG_OK;
}

/* URL, headers and body of a task's request. */
static int build_request(struct sc_client *sc, struct sc_slot *s,
                         const struct sc_task *t, const char *access)
{
    char *id = NULL;
    int rc = ENG_ENOMEM;
    int urc = ENG_ENOMEM;
    switch (t->kind) {
    case SC_K_HISTORY:
        id = sc_escape(t->job->vehicle_id);
        if (!id)
            goto out;
        if (sc->v3mode)
            urc = fmt_into(&s->url, &s->url_cap,
                           "%s/v3/vehicles/%s/signals/service-records"
                           "?start_date=%s&end_date=%s",
                           sc->v3, id, t->job->since[0] ? t->job->since
                                            : sc->since, sc->until);
        else
            urc = fmt_into(&s->url, &s->url_cap,
                           "%s/v2.0/vehicles/%s/service/history"
                           "?start_date=%s&end_date=%s",
                           sc->api, id, t->job->since[0] ? t->job->since
                                             : sc->since, sc->until);
        break;
    case SC_K_VEHICLE:
        id = sc_escape(t->job->vehicle_id);
        if (!id)
            goto out;
        urc = fmt_into(&s->url, &s->url_cap, "%s/v3/vehicles/%s", sc->v3,
                       id);
        break;
    case SC_K_LIST:
        urc = fmt_into(&s->url, &s->url_cap,
                       "%s/v2.0/vehicles?limit=%d&offset=%zu", sc->api,
                       SC_LIST_LIMIT, t->arg);
        break;
    case SC_K_VIN:
        id = sc_escape(t->disc->ids[t->arg]);
        if (!id)
            goto out;
        urc = fmt_into(&s->url, &s->url_cap, "%s/v2.0/vehicles/%s/vin",
                       sc->api, id);
        break;
    case SC_K_REFRESH: {
        char *enc = sc_escape(t->secret);
        if (!enc)
            goto out;
        s->post = sc_fmt_new("grant_type=refresh_token&refresh_token=%s", enc);
        sc_wipe_free(enc);
        urc = fmt_into(&s->url, &s->url_cap, "%s", sc->token_url);
        break;
    }
    case SC_K_CCTOKEN: {
        char *cid = sc_escape(sc->client_id);
        char *sec = sc_escape(sc->client_secret);
        if (cid && sec)
            s->post = sc_fmt_new("grant_type=client_credentials"
                                 "&client_id=%s&client_secret=%s", cid, sec);
        free(cid);
        sc_wipe_free(sec);
        urc = fmt_into(&s->url, &s->url_cap, "%s", sc->cc_url);
        break;
    }
    }
    int token_request = t->kind == SC_K_REFRESH || t->kind == SC_K_CCTOKEN;
    if (urc < 0 || (token_request && !s->post))
        goto out;
    if (add_header(s, "Accept: application/json") < 0
        || add_header(s, "Accept-Encoding: gzip") < 0)
        goto out;
    if (sc_is_api(t)) {
        if (add_header(s, "Authorization: Bearer %s", access ? access : "")
            < 0 || add_header(s, "SC-Unit-System: %.31s", sc->unit) < 0)
            goto out;
        if (sc->v3mode && t->job && t->job->user_id) {
            char uid[96];
            sc_clean_token(t->job->user_id, uid, sizeof(uid), 0);
            if (add_header(s, "sc-user-id: %.115s", uid) < 0)
                goto out;
        }
    } else {
        if (add_header(s, "Content-Type: "
                       "application/x-www-form-urlencoded") < 0)
            goto out;
        if (t->kind == SC_K_REFRESH && add_header(s, "%s", sc->basic) < 0)
            goto out;
    }
    rc = ENG_OK;
out:
    free(id);
    return rc;
}

void sc_xfer_reset(struct sc_slot *s)
{
    if (s->secret_body && s->body.p)
        eng_wipe(s->body.p, s->body.len);
    s->secret_body = 0;
    inflater_give(s);
    s->enc = SC_ENC_IDENTITY;
    free_headers(s);
    sc_wipe_free(s->post);
    s->post = NULL;
    if (s->url)
        s->url[0] = '\0';
    s->task = NULL;
    if (s->body.cap > SC_BODY_KEEP) {
        free(s->body.p);
        s->body.p = NULL;
        s->body.cap = 0;
    }
    s->body.len = 0;
}

void sc_xfer_free(struct sc_slot *s)
{
    for (int i = 0; i < SC_HDR_MAX; i++) {
        if (s->hline[i])
            eng_wipe(s->hline[i], s->hcap[i]);
        free(s->hline[i]);
        s->hline[i] = NULL;
        s->hcap[i] = 0;
    }
    free(s->url);
    s->url = NULL;
    s->url_cap = 0;
}

int sc_xfer_send(struct sc_client *sc, struct sc_slot *s,
                 const struct sc_task *t, const char *access)
{
    s->body.len = 0;
    s->too_big = 0;
    s->oom = 0;
    s->enc = SC_ENC_IDENTITY;
    s->request_id[0] = '\0';
    s->unit[0] = '\0';
    s->retry_after[0] = '\0';
    s->content_type[0] = '\0';
    s->errbuf[0] = '\0';
    s->slow = 0;
    s->got = 0;
    s->win_got = 0;
    s->win_at = 0;
    s->secret_body = t->kind == SC_K_REFRESH || t->kind == SC_K_CCTOKEN;
    if (build_request(sc, s, t, access) < 0) {
        sc_xfer_reset(s);
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
    if (curl_multi_add_handle(s->mu->m, e) != CURLM_OK) {
        sc_xfer_reset(s);
        return ENG_EHTTP;
    }
    return ENG_OK;
}

int sc_xfer_init(struct sc_client *sc, struct sc_slot *s)
{
    CURL *e = curl_easy_init();
    if (!e)
        return ENG_EHTTP;
    s->easy = e;
    s->sc = sc;
    s->mu = &sc->multis[(s - sc->slots) % sc->nmulti];
    CURLcode rc = CURLE_OK;
    /* a macro, not a function: curl_easy_setopt checks each value's type */
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
    SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);  /* gunzip() decodes */
    SET(CURLOPT_TIMEOUT_MS, (long)(sc->cfg.timeout * 1000));
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(sc->cfg.connect_timeout * 1000));
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, sc->ua);
    SET(CURLOPT_WRITEFUNCTION, sc_xfer_on_body);
    SET(CURLOPT_WRITEDATA, (void *)s);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)s);
    SET(CURLOPT_ERRORBUFFER, s->errbuf);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, (void *)s);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_MAXREDIRS, 0L);
#undef SET
    return rc == CURLE_OK ? ENG_OK : ENG_EHTTP;
}

/*
 * libcurl says which events a socket waits for: mirror it in epoll.  A
 * kept-alive connection is dropped from libcurl's set after each answer
 * and added again for the next request; rather than two more epoll_ctl()
 * calls a request, a socket that waited only for input stays in the epoll
 * set, parked: should it become readable while parked (the server closed
 * it), events() in sc.c takes it out then.
 */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *ud,
                     void *sockp)
{
    (void)easy;
    struct sc_multi *mu = ud;
    struct sc_client *sc = mu->sc;
    if (fd < 0)
        return -1;
    if ((size_t)fd >= sc->nfdstate) {
        size_t n = sc->nfdstate ? sc->nfdstate : 1024;
        while (n <= (size_t)fd)
            n *= 2;
        unsigned char *st = realloc(sc->fdstate, n);
        if (!st)
            return -1;
        memset(st + sc->nfdstate, 0, n - sc->nfdstate);
        sc->fdstate = st;
        sc->nfdstate = n;
    }
    unsigned char *st = &sc->fdstate[fd];
    if (what == CURL_POLL_REMOVE) {
        if (*st == SC_FD_IN_SET) {      /* in the set, for input only */
            *st = SC_FD_IN_SET | SC_FD_PARKED;
            return 0;
        }
        *st = 0;
        /* it may be closed already, which removed it: no error then */
        epoll_ctl(sc->epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u)
                | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    /* the multi handle's number beside the descriptor (sc.c: events()) */
    ev.data.u64 = (uint64_t)mu->idx << 32 | (uint32_t)fd;
    int op = *st & SC_FD_IN_SET ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(sc->epfd, op, fd, &ev) != 0) {
        /* a parked socket closed and its number given to a new one */
        op = errno == EEXIST ? EPOLL_CTL_MOD
             : errno == ENOENT ? EPOLL_CTL_ADD : -1;
        if (op < 0 || epoll_ctl(sc->epfd, op, fd, &ev) != 0) {
            *st = 0;
            return -1;
        }
    }
    *st = SC_FD_IN_SET | (what & CURL_POLL_OUT ? SC_FD_OUT : 0);
    if (!sockp)
        curl_multi_assign(mu->m, fd, mu);
    return 0;
}

/* A multi handle's timer: when it next wants CURL_SOCKET_TIMEOUT. */
static int on_timer(CURLM *multi, long ms, void *ud)
{
    (void)multi;
    struct sc_multi *mu = ud;
    mu->due = ms < 0 ? HUGE_VAL : sc_mono() + (double)ms / 1000;
    return 0;
}

int sc_events_init(struct sc_client *sc)
{
    sc->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sc->epfd < 0)
        return ENG_EHTTP;
    for (int i = 0; i < sc->nmulti; i++) {
        struct sc_multi *mu = &sc->multis[i];
        CURLM *m = mu->m;
        mu->due = HUGE_VAL;
        if (curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket)
            != CURLM_OK
            || curl_multi_setopt(m, CURLMOPT_SOCKETDATA, (void *)mu)
            != CURLM_OK
            || curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer)
            != CURLM_OK
            || curl_multi_setopt(m, CURLMOPT_TIMERDATA, (void *)mu)
            != CURLM_OK)
            return ENG_EHTTP;
    }
    return ENG_OK;
}
