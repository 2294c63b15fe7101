/* sim_rate — token bucket and fixed window for the simulator. */
#include "sim_rate.h"

#include <math.h>

void sim_rate_bucket_init(struct sim_rate_bucket *b, double capacity,
                          double refill_per_min, double now)
{
    b->capacity = capacity > 0 ? capacity : 0;
    b->tokens = b->capacity;
    b->refill_per_s = refill_per_min > 0 ? refill_per_min / 60.0 : 0;
    b->last = now;
}

int sim_rate_bucket_take(struct sim_rate_bucket *b, double now)
{
    if (b->capacity <= 0)
        return 1;
    if (now > b->last) {
        b->tokens += (now - b->last) * b->refill_per_s;
        if (b->tokens > b->capacity)
            b->tokens = b->capacity;
        b->last = now;
    }
    if (b->tokens < 1.0)
        return 0;
    b->tokens -= 1.0;
    return 1;
}

long sim_rate_window_take(struct sim_rate_window *w, unsigned long limit,
                          double window_s, double now)
{
    if (limit == 0)
        return 0;
    if (w->count == 0 || now >= w->start + window_s) {
        w->start = now;
        w->count = 0;
    }
    if (w->count < limit) {
        w->count++;
        return 0;
    }
    double left = ceil(w->start + window_s - now);
    return left < 1 ? 1 : (long)left;
}
