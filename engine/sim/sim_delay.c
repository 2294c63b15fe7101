/* sim_delay — timer thread resuming suspended connections. */
#include "sim_delay.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct due {
    uint64_t at_ns;
    uint64_t seq;           /* ties resume in arrival order */
    struct MHD_Connection *conn;
};

struct sim_delay {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int started;
    int stopping;
    struct due *heap;
    size_t n;
    size_t cap;
    uint64_t seq;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int earlier(const struct due *a, const struct due *b)
{
    return a->at_ns < b->at_ns || (a->at_ns == b->at_ns && a->seq < b->seq);
}

static void sift_up(struct due *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(&h[i], &h[parent]))
            break;
        struct due t = h[i];
        h[i] = h[parent];
        h[parent] = t;
        i = parent;
    }
}

static void sift_down(struct due *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1;
        size_t m = i;
        if (l < n && earlier(&h[l], &h[m]))
            m = l;
        if (l + 1 < n && earlier(&h[l + 1], &h[m]))
            m = l + 1;
        if (m == i)
            return;
        struct due t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static struct MHD_Connection *pop(struct sim_delay *d)
{
    struct MHD_Connection *c = d->heap[0].conn;
    d->heap[0] = d->heap[--d->n];
    sift_down(d->heap, d->n, 0);
    return c;
}

/*
 * Connections due within this much of the earliest are resumed with it: a
 * thousand connections at 50 ms would otherwise wake the thread for each
 * one, twenty thousand times a second.
 */
#define SLACK_NS 1000000ULL
#define BATCH 256

static void *run(void *arg)
{
    struct sim_delay *d = arg;
    struct MHD_Connection *batch[BATCH];
    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        if (d->n == 0) {
            pthread_cond_wait(&d->wake, &d->lock);
            continue;
        }
        uint64_t now = mono_ns();
        if (d->heap[0].at_ns > now + SLACK_NS) {
            uint64_t at = d->heap[0].at_ns;
            struct timespec ts = {
                (time_t)(at / 1000000000ULL), (long)(at % 1000000000ULL)
            };
            pthread_cond_timedwait(&d->wake, &d->lock, &ts);
            continue;
        }
        size_t k = 0;
        while (k < BATCH && d->n > 0 && d->heap[0].at_ns <= now + SLACK_NS)
            batch[k++] = pop(d);
        /* resume outside our lock: MHD takes its own */
        pthread_mutex_unlock(&d->lock);
        for (size_t i = 0; i < k; i++)
            MHD_resume_connection(batch[i]);
        pthread_mutex_lock(&d->lock);
    }
    while (d->n > 0) {
        struct MHD_Connection *c = pop(d);
        pthread_mutex_unlock(&d->lock);
        MHD_resume_connection(c);
        pthread_mutex_lock(&d->lock);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

struct sim_delay *sim_delay_new(struct eng_err *err)
{
    struct sim_delay *d = calloc(1, sizeof(*d));
    if (!d) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&d->thread, NULL, run, d) != 0) {
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->lock);
        free(d);
        eng_err_set(err, ENG_ENOMEM, "cannot start the timer thread");
        return NULL;
    }
    d->started = 1;
    return d;
}

int sim_delay_suspend(struct sim_delay *d, struct MHD_Connection *c,
                      unsigned ms)
{
    pthread_mutex_lock(&d->lock);
    if (d->stopping || d->n == SIZE_MAX / sizeof(*d->heap) / 2) {
        pthread_mutex_unlock(&d->lock);
        return -1;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        struct due *h = realloc(d->heap, cap * sizeof(*h));
        if (!h) {
            pthread_mutex_unlock(&d->lock);
            return -1;
        }
        d->heap = h;
        d->cap = cap;
    }
    /*
     * Suspend before the entry is visible to the timer thread, so it can
     * never resume a connection that is not suspended yet.
     */
    MHD_suspend_connection(c);
    uint64_t seq = d->seq++;
    struct due *e = &d->heap[d->n];
    e->at_ns = mono_ns() + (uint64_t)ms * 1000000ULL;
    e->seq = seq;
    e->conn = c;
    sift_up(d->heap, d->n++);
    if (d->heap[0].seq == seq)     /* a new earliest: re-arm the wait */
        pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

void sim_delay_stop(struct sim_delay *d)
{
    if (!d || !d->started)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = 1;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    d->started = 0;
}

void sim_delay_free(struct sim_delay *d)
{
    if (!d)
        return;
    sim_delay_stop(d);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d->heap);
    free(d);
}
