/*
 * sim_http — the simulator's HTTP server on libmicrohttpd: reads requests
 * into sim_request, asks sim_api for the answer and sends it, with
 *   - gzip (Content-Encoding) when the client accepts it,
 *   - the delay done by suspending the connection (sim_delay), so waiting
 *     answers hold no server thread,
 *   - the transport faults: a truncated body (Content-Length larger than
 *     what is sent, then close) and a connection reset (SO_LINGER 0, close).
 * The server runs its own polling threads (epoll, a pool of threads).
 *
 * Ownership: sim_http_start() borrows api and delay, which must outlive the
 * server; it returns a new server stopped and freed by sim_http_stop().
 */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include "eng.h"
#include "sim_api.h"
#include "sim_delay.h"

struct sim_http;

struct sim_http_opts {
    const char *bind;       /* IPv4 address, e.g. "127.0.0.1" */
    unsigned port;          /* 0: any free port */
    unsigned threads;       /* polling threads, at least 1 */
};

/*
 * Binds and starts serving.  Returns NULL with ENG_EUSAGE (bad address) or
 * ENG_EIO (cannot bind or start; the message says why).
 */
struct sim_http *sim_http_start(const struct sim_http_opts *o,
                                struct sim_api *api, struct sim_delay *delay,
                                struct eng_err *err);

/* The bound port; cannot fail. */
unsigned sim_http_port(const struct sim_http *h);

/*
 * Stops serving and frees the server; NULL does nothing.  The caller must
 * have stopped the delay first (sim_delay_stop) so that no connection stays
 * suspended.
 */
void sim_http_stop(struct sim_http *h);

#endif
