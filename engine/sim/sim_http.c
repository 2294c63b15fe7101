/* sim_http — MHD glue: requests in, delayed or damaged answers out. */
#include "sim_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <zlib.h>

#include "sim_buf.h"

#define MAX_BODY (16 * 1024)
#define GZIP_MIN 20             /* smaller bodies gain nothing */
#define CONNECTION_LIMIT 8192
#define CONNECTION_TIMEOUT_S 120

struct sim_http {
    struct MHD_Daemon *daemon;
    struct sim_api *api;
    struct sim_delay *delay;
    unsigned port;
};

enum stage { STAGE_BODY, STAGE_WAIT };

/* One request's state, from its first handler call to completion. */
struct conn_req {
    enum stage stage;
    struct sim_buf body;
    int body_too_large;
    struct sim_reply reply;
    int gzip;
};

/* The body of a truncated answer: half of it goes out, then an error. */
struct trunc_body {
    char *data;
    size_t len;
};

/* Whether Accept-Encoding lists gzip with a non-zero quality. */
static int accepts_gzip(const char *h)
{
    while (h && *h) {
        while (*h == ' ' || *h == ',')
            h++;
        const char *tok = h;
        while (*h && *h != ',' && *h != ';' && *h != ' ')
            h++;
        int is_gzip = h - tok == 4 && strncasecmp(tok, "gzip", 4) == 0;
        int zero_q = 0;
        while (*h && *h != ',') {
            if (*h == 'q' && h[1] == '=') {
                const char *q = h + 2;
                zero_q = *q == '0';
                for (q++; zero_q && *q && *q != ',' && *q != ';'; q++)
                    zero_q = *q == '.' || *q == '0';
            }
            h++;
        }
        if (is_gzip && !zero_q)
            return 1;
    }
    return 0;
}

/*
 * One deflate stream per server thread, reset between bodies: setting one
 * up costs more than compressing a typical history.  The key's destructor
 * frees it when the thread ends.
 */
static pthread_key_t zs_key;
static pthread_once_t zs_once = PTHREAD_ONCE_INIT;
static int zs_key_ok;

static void zs_free(void *p)
{
    deflateEnd(p);
    free(p);
}

static void zs_key_init(void)
{
    zs_key_ok = pthread_key_create(&zs_key, zs_free) == 0;
}

/*
 * The fastest level: the default one costs about three times the CPU for
 * a tenth fewer bytes.  memLevel 5 (a 4,096-entry hash) compresses
 * histories of a few kilobytes as well as the default 8 does, and a reset
 * clears 8 KB of hash instead of 64 KB.
 */
static z_stream *thread_stream(void)
{
    pthread_once(&zs_once, zs_key_init);
    if (!zs_key_ok)
        return NULL;
    z_stream *zs = pthread_getspecific(zs_key);
    if (zs) {
        if (deflateReset(zs) == Z_OK)
            return zs;
        pthread_setspecific(zs_key, NULL);
        zs_free(zs);
    }
    zs = calloc(1, sizeof(*zs));
    if (!zs)
        return NULL;
    if (deflateInit2(zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 5,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        free(zs);
        return NULL;
    }
    if (pthread_setspecific(zs_key, zs) != 0) {
        zs_free(zs);
        return NULL;
    }
    return zs;
}

/* Compresses the reply body in place; leaves it unchanged on failure. */
static int gzip_body(struct sim_reply *rp)
{
    z_stream *zs = thread_stream();
    if (!zs)
        return -1;
    uLong bound = deflateBound(zs, (uLong)rp->body_len) + 32;
    unsigned char *out = malloc(bound);
    if (!out)
        return -1;
    zs->next_in = (unsigned char *)rp->body;
    zs->avail_in = (uInt)rp->body_len;
    zs->next_out = out;
    zs->avail_out = (uInt)bound;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END) {
        free(out);
        return -1;
    }
    free(rp->body);
    rp->body = (char *)out;
    rp->body_len = zs->total_out;
    return 0;
}

static ssize_t trunc_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    const struct trunc_body *t = cls;
    size_t half = t->len / 2;
    if (pos >= half)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = half - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, t->data + pos, n);
    return (ssize_t)n;
}

static void trunc_free(void *cls)
{
    struct trunc_body *t = cls;
    free(t->data);
    free(t);
}

/* Makes the kernel answer the close with a reset instead of a FIN. */
static void arm_reset(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    struct linger lg = {1, 0};
    setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static enum MHD_Result send_reply(struct MHD_Connection *c,
                                  struct conn_req *r)
{
    struct sim_reply *rp = &r->reply;
    if (rp->transport == SIM_SEND_RESET) {
        arm_reset(c);
        return MHD_NO;
    }
    struct MHD_Response *resp = NULL;
    if (rp->transport == SIM_SEND_TRUNC && rp->body_len >= 2) {
        struct trunc_body *t = malloc(sizeof(*t));
        if (t) {
            t->data = rp->body;
            t->len = rp->body_len;
            resp = MHD_create_response_from_callback(rp->body_len, 4096,
                                                     trunc_read, t,
                                                     trunc_free);
            if (resp)
                rp->body = NULL;
            else
                free(t);
        }
    } else {
        if (r->gzip && rp->body && rp->body_len >= GZIP_MIN
            && gzip_body(rp) == 0)
            r->gzip = 2;    /* compressed */
        if (rp->body) {
            resp = MHD_create_response_from_buffer_with_free_callback(
                rp->body_len, rp->body, free);
            if (resp)
                rp->body = NULL;
        } else {
            resp = MHD_create_response_from_buffer(0, (void *)"",
                                                   MHD_RESPMEM_PERSISTENT);
        }
    }
    if (!resp)
        return MHD_NO;
    if (rp->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                rp->content_type);
    if (r->gzip == 2)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
                                "gzip");
    if (r->gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
                                "Accept-Encoding");
    for (size_t i = 0; i < rp->nhdr; i++)
        MHD_add_response_header(resp, rp->hdr[i].name, rp->hdr[i].value);
    enum MHD_Result ret = MHD_queue_response(c, rp->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct sim_http *h = cls;
    struct conn_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        *con_cls = r;
        return MHD_YES;
    }
    if (r->stage == STAGE_WAIT)
        return send_reply(c, r);    /* resumed after the delay */
    if (*upload_data_size > 0) {
        if (r->body.len + *upload_data_size > MAX_BODY)
            r->body_too_large = 1;
        else if (sim_buf_add(&r->body, upload_data, *upload_data_size) < 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }

    struct sim_request rq = {
        .method = method,
        .path = url,
        .authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION),
        .unit_system = header(c, "sc-unit-system"),
        .user_id = header(c, "sc-user-id"),
        .limit = arg(c, "limit"),
        .offset = arg(c, "offset"),
        .start_date = arg(c, "start_date"),
        .end_date = arg(c, "end_date"),
        .body = r->body.data ? r->body.data : "",
        .body_len = r->body.len,
        .body_too_large = r->body_too_large,
    };
    sim_api_handle(h->api, &rq, &r->reply);
    r->gzip = accepts_gzip(header(c, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    r->stage = STAGE_WAIT;
    if (r->reply.delay_ms > 0
        && sim_delay_suspend(h->delay, c, r->reply.delay_ms) == 0)
        return MHD_YES;
    return send_reply(c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c,
                         void **con_cls, enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    struct conn_req *r = *con_cls;
    if (!r)
        return;
    sim_reply_release(&r->reply);
    sim_buf_release(&r->body);
    free(r);
    *con_cls = NULL;
}

struct sim_http *sim_http_start(const struct sim_http_opts *o,
                                struct sim_api *api, struct sim_delay *delay,
                                struct eng_err *err)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->bind, &sa.sin_addr) != 1) {
        eng_err_set(err, ENG_EUSAGE, "not an IPv4 address: '%s'", o->bind);
        return NULL;
    }
    struct sim_http *h = calloc(1, sizeof(*h));
    if (!h) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    h->api = api;
    h->delay = delay;
    /*
     * No MHD_OPTION_LISTENING_ADDRESS_REUSE: it means SO_REUSEPORT, which
     * would let a second simulator share a busy port instead of failing.
     */
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &sa},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         (intptr_t)o->threads, NULL},
        {MHD_OPTION_END, 0, NULL}
    };
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
                     | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    errno = 0;
    h->daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL,
                                 on_request, h, MHD_OPTION_ARRAY, ops,
                                 MHD_OPTION_END);
    if (!h->daemon) {
        eng_err_set(err, ENG_EIO, "cannot listen on %s:%u%s%s", o->bind,
                    o->port, errno ? ": " : "",
                    errno ? strerror(errno) : "");
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : o->port;
    return h;
}

unsigned sim_http_port(const struct sim_http *h)
{
    return h->port;
}

void sim_http_stop(struct sim_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
}
