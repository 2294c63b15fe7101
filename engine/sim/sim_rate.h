/*
 * sim_rate — the simulator's rate limits: the application token bucket
 * (RATE_LIMIT:SMARTCAR_API) and the per-vehicle fixed window
 * (RATE_LIMIT:VEHICLE).
 *
 * Both are plain values the caller allocates and locks; time is passed in as
 * seconds on any monotonic scale, so the functions are pure and testable.
 * A request that is refused consumes nothing.
 */
#ifndef SIM_RATE_H
#define SIM_RATE_H

/*
 * A token bucket of capacity tokens refilled continuously at refill_per_s.
 * Fields are private to sim_rate.c; capacity 0 means unlimited.
 */
struct sim_rate_bucket {
    double capacity;
    double tokens;
    double refill_per_s;
    double last;
};

/*
 * Starts a full bucket of capacity tokens (0 = unlimited) refilled at
 * refill_per_min tokens a minute, at time now.  Cannot fail.
 */
void sim_rate_bucket_init(struct sim_rate_bucket *b, double capacity,
                          double refill_per_min, double now);

/*
 * Takes one token at time now: returns 1 when taken, 0 when the bucket is
 * empty (nothing taken).  Time going backwards refills nothing.  Cannot
 * fail.
 */
int sim_rate_bucket_take(struct sim_rate_bucket *b, double now);

/*
 * A fixed window: at most limit requests in window_s seconds, the window
 * opening at the first request after the previous one closed.  Zero-filled
 * is a valid, fresh window.
 */
struct sim_rate_window {
    double start;
    unsigned long count;
};

/*
 * Counts one request at time now.  Returns 0 when allowed (counted), or the
 * whole seconds (at least 1, rounded up) until the window closes when the
 * limit is reached (nothing counted).  limit 0 means unlimited.  Cannot
 * fail.
 */
long sim_rate_window_take(struct sim_rate_window *w, unsigned long limit,
                          double window_s, double now);

#endif
