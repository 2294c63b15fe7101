/*
 * pipe — an ordered parallel map: produce in order, work in parallel, consume
 * in order.
 *
 * pipe_run() calls produce() in the calling thread to gather items into
 * batches, hands whole batches to `jobs` worker threads that call work() on
 * each item, and calls consume() in the calling thread for every item in
 * input order.  Output is therefore the same for any number of jobs.  At most
 * PIPE_SLOTS_PER_JOB * jobs batches exist at once, each holding at most
 * PIPE_BATCH_ITEMS items or about PIPE_BATCH_BYTES of input, so memory does
 * not grow with the number of items.
 *
 * Items: produce() appends an item's input bytes to `in` and may set *ctx to
 * an object of its own; work() receives the bytes, the ctx, and appends the
 * item's output to `out`; consume() receives both; free_ctx() (may be NULL)
 * releases the ctx after consume().  work() runs concurrently with other
 * work() calls and with produce()/consume(): it must only touch the item
 * and data it is given (the worker number lets it keep per-thread state).
 */
#ifndef PIPE_H
#define PIPE_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"

#define PIPE_BATCH_ITEMS 128
#define PIPE_BATCH_BYTES (1u << 20)
#define PIPE_SLOTS_PER_JOB 4
#define PIPE_MAX_JOBS 256

struct pipe_item {
    size_t index;              /* 0-based position in input order */
    const char *in;            /* input bytes (NUL-terminated copy) */
    size_t in_len;
    void *ctx;                 /* produce()'s object, or NULL */
};

struct pipe_ops {
    /* 1 = one item produced, 0 = end of input, < 0 = fatal (err set) */
    int (*produce)(void *ud, struct buf *in, void **ctx, struct eng_err *err);
    /* ENG_OK, or < 0 = fatal: the run stops (err set) */
    int (*work)(void *ud, int worker, const struct pipe_item *it,
                struct buf *out, struct eng_err *err);
    /* ENG_OK, or < 0 = fatal (err set) */
    int (*consume)(void *ud, const struct pipe_item *it, const char *out,
                   size_t out_len, struct eng_err *err);
    void (*free_ctx)(void *ud, void *ctx);
};

/*
 * Runs the pipeline to the end of input with jobs worker threads (1 ..
 * PIPE_MAX_JOBS).  Returns ENG_OK, or the first fatal error of any callback
 * (the run stops early; every ctx is still freed), or ENG_ENOMEM / ENG_EIO
 * when threads cannot be started.
 */
int pipe_run(const struct pipe_ops *ops, void *ud, int jobs,
             struct eng_err *err);

#endif
