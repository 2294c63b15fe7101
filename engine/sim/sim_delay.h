/*
 * sim_delay — answers later without holding a server thread: a connection
 * is suspended (MHD_suspend_connection) and a timer thread resumes it when
 * its time comes, from a min-heap of due times.  The request handler is then
 * called again and sends the answer it stored before suspending.
 *
 * Thread safety: sim_delay_suspend() may be called from any server thread;
 * sim_delay_stop() once, from the thread that owns the object, before the
 * daemon is stopped (MHD refuses to stop with suspended connections).
 *
 * Ownership: sim_delay_new() returns a new timer freed with
 * sim_delay_free(), which stops it first if needed.
 */
#ifndef SIM_DELAY_H
#define SIM_DELAY_H

#include <microhttpd.h>

#include "eng.h"

struct sim_delay;

/* Starts the timer thread.  Returns NULL with ENG_ENOMEM on failure. */
struct sim_delay *sim_delay_new(struct eng_err *err);

/*
 * Suspends connection c and schedules its resumption ms milliseconds from
 * now.  Returns 0 when suspended, or -1 when the timer is stopping or out of
 * memory: c is then not suspended and the caller answers at once.
 */
int sim_delay_suspend(struct sim_delay *d, struct MHD_Connection *c,
                      unsigned ms);

/*
 * Resumes every waiting connection at once, refuses new ones and joins the
 * timer thread.  Calling it twice is harmless.
 */
void sim_delay_stop(struct sim_delay *d);

/* Stops and frees; NULL does nothing. */
void sim_delay_free(struct sim_delay *d);

#endif
