/*
 * sc_internal — the state of one Smartcar client, shared by the files that
 * implement sc.h: sc.c (jobs, discovery, retries, the run), sc_xfer.c (one
 * transfer: building a request, capturing its answer) and sc_client.c
 * (set-up and teardown).  The pure policy they apply is sc_policy.h.
 */
#ifndef SC_INTERNAL_H
#define SC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "sc.h"
#include "sc_policy.h"
#include "tok.h"

/*
 * Everything here belongs to one struct sc_client and is read and written
 * only by the client's files; tests use sc_policy.h.  A slot owns its easy
 * handle, buffers, header list and request body; a task is owned by its
 * vehicle (SC_K_HISTORY, SC_K_VEHICLE, embedded) or by the client (the
 * others, freed when they finish); a discovery record is owned by the
 * client and hung on its pair's user slot for the length of one sc_run().
 */

#define SC_LIST_LIMIT 50        /* vehicles per GET /vehicles page */
#define SC_BODY_KEEP (1u << 20) /* a slot keeps this much buffer between
                                   transfers; bigger ones are released */
#define SC_HDR_MAX 6            /* header lines of one request, at most */
#define SC_FD_SPARE 64          /* open files beyond one per transfer:
                                   the cache's spare connections, the
                                   run's own files */

/* What a request is for. */
enum sc_kind {
    SC_K_HISTORY, /* a vehicle's service history */
    SC_K_LIST,    /* a page of a user's vehicle ids */
    SC_K_VIN,     /* the vin of one listed vehicle */
    SC_K_REFRESH, /* a refresh of a user's token pair */
    SC_K_CCTOKEN, /* the v3 application token */
    SC_K_VEHICLE  /* a vehicle's v3 object, for its powertrain */
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
    char since[11];         /* window start, "" = the client's */
    int ask_ptrain;         /* the VEHICLE step is still to do */
    int ptrain;             /* enum ptrain it gave, else PTRAIN_UNKNOWN */
    struct sc_task task;    /* VEHICLE first when asked, then HISTORY */
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
    struct sc_multi *mu;    /* the multi handle the slot's transfers use */
    CURL *easy;
    struct sc_task *task;   /* NULL when free */
    struct sc_body body;
    int too_big;
    int oom;
    int slow;               /* cut by the low-speed limit */
    int secret_body;        /* the answer may hold tokens: wipe it */
    int enc;                /* the answer's Content-Encoding (SC_ENC_*) */
    char enc_name[24];      /* its name when it is not gzip */
    struct sc_inflater *inf; /* held while a gzip body is being decoded */
    unsigned long long got; /* bytes of this answer so far */
    unsigned long long win_got; /* got when the speed window began */
    double win_at;          /* when it began; 0 before the first byte */
    char request_id[72];
    char unit[16];
    char retry_after[64];
    char content_type[96];
    struct curl_slist *headers; /* NULL, or &hnode[0]: nodes the slot owns */
    struct curl_slist hnode[SC_HDR_MAX];
    char *hline[SC_HDR_MAX]; /* the nodes' lines, kept between requests;
                                one holds the token: wiped at reset */
    size_t hcap[SC_HDR_MAX];
    int nhdr;               /* lines the current request uses */
    char *post;             /* form body: a secret for token requests */
    char *url;              /* kept between requests, url_cap bytes */
    size_t url_cap;
    char errbuf[CURL_ERROR_SIZE];
};

/*
 * One libcurl multi handle, its share of the slots and its timer.  libcurl
 * looks for a free kept-alive connection by walking all of a host's
 * connections in a multi handle's cache, once per request: at a thousand
 * connections that walk was a twentieth of the client's CPU, so a client
 * has a multi handle per SC_CONNS_PER_MULTI slots.
 */
#define SC_CONNS_PER_MULTI 256

struct sc_multi {
    CURLM *m;
    double due;             /* libcurl's timer, monotonic; HUGE_VAL none */
    struct sc_client *sc;
    unsigned idx;           /* in sc->multis */
};

/* What epoll holds of a descriptor: in the set, and libcurl's interest. */
enum { SC_FD_IN_SET = 1, SC_FD_PARKED = 2, SC_FD_OUT = 4 };

/* Content-Encoding of an answer: svcscore asks for gzip and decodes it. */
enum { SC_ENC_IDENTITY, SC_ENC_GZIP, SC_ENC_DONE, SC_ENC_BAD, SC_ENC_OTHER };

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
    int ptrain_ok;          /* the powertrain can be asked: v3, or v2.0
                               with a v3 origin configured */
    char since[11];
    char until[11];
    struct sc_multi *multis;
    int nmulti;
    int epfd;               /* the sockets libcurl watches (epoll) */
    unsigned char *fdstate; /* by descriptor: SC_FD_* bits (on_socket()) */
    size_t nfdstate;
    struct sc_slot *slots;
    int nslots;
    struct sc_inflater *inflaters; /* free gzip decoders, kept for reuse */
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
           || t->kind == SC_K_VIN || t->kind == SC_K_VEHICLE;
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
int sc_xfer_send(struct sc_client *sc, struct sc_slot *s,
                 const struct sc_task *t, const char *access);

/*
 * Frees what the last request of slot s held (headers, the wiped body of a
 * token request, the URL), marks it free and empties its buffer, releasing
 * a buffer grown past SC_BODY_KEEP.  Cannot fail.
 */
void sc_xfer_reset(struct sc_slot *s);

/* Frees the buffers slot s keeps between requests (after sc_xfer_reset). */
void sc_xfer_free(struct sc_slot *s);

/*
 * libcurl's write callback (ud is the slot): appends n bytes of the answer
 * to s->body, decoding them when s->enc is SC_ENC_GZIP; sets s->too_big
 * past cfg.max_body decoded bytes, s->enc to SC_ENC_DONE at the gzip
 * stream's end or SC_ENC_BAD on damage.  Returns n, or 0 to stop the
 * transfer.  s->inf is still held when a gzip stream has not ended.
 */
size_t sc_xfer_on_body(char *data, size_t size, size_t n, void *ud);

/*
 * The transfer's code once its answer has ended: cc, or, for an answer
 * that came whole, CURLE_BAD_CONTENT_ENCODING (with s->errbuf saying why)
 * when its body was in an encoding not asked for, or gzip that was
 * damaged or cut short.
 */
CURLcode sc_xfer_body_result(struct sc_slot *s, CURLcode cc);

/* Frees the client's pool of gzip decoders. */
void sc_xfer_free_inflaters(struct sc_client *sc);

/*
 * Makes slot s's easy handle and sets the options every request shares
 * (no redirects, http(s) only, TLS verified, timeouts, callbacks).  Returns
 * ENG_OK, or ENG_EHTTP when libcurl refused (s->easy may then be set; the
 * caller frees it with the client).
 */
int sc_xfer_init(struct sc_client *sc, struct sc_slot *s);

/*
 * Hands each multi handle's sockets and timer to sc's epoll set and its due
 * (the multi socket interface: each turn touches only the sockets that are
 * ready, however many transfers run).  Returns ENG_OK or ENG_EHTTP.
 */
int sc_events_init(struct sc_client *sc);

#endif
