/*
 * pipe — an ordered parallel map: produce in order, work in parallel, consume
 * in order.
 *
 * pipe_run() calls produce() in the calling thread to gather items into
 * chunks, hands whole chunks to `jobs` worker threads that call work() on
 * each item, and calls consume() in the calling thread for every item in
 * input order.  Output is therefore the same for any number of jobs.  At most
 * PIPE_SLOTS_PER_JOB * jobs chunks exist at once, each holding at most
 * PIPE_CHUNK_ITEMS items or about PIPE_CHUNK_BYTES of input, so memory does
 * not grow with the number of items.
 *
 * Items: produce() appends an item's input bytes to `in` and may set *ctx to
 * an object of its own; work() receives the bytes, the ctx, and fills the
 * item's struct pipe_out: output bytes, a note (log text), a status code and
 * counters; consume() receives the item and that result as struct
 * pipe_done; free_ctx() (may be NULL) releases the ctx after consume().
 * work() runs concurrently with other work() calls and with
 * produce()/consume(): it must only touch the item and data it is given
 * (the worker number lets it keep per-thread state).  The status and
 * counters mean what the caller says: pipe only carries them.
 */
#ifndef PIPE_H
#define PIPE_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"

#define PIPE_CHUNK_ITEMS 128
#define PIPE_CHUNK_BYTES (1u << 20)
#define PIPE_SLOTS_PER_JOB 4
#define PIPE_MAX_JOBS 256
#define PIPE_COUNTS 4
#define PIPE_LABEL_LEN 112

struct pipe_item {
    size_t index;              /* 0-based position in input order */
    const char *in;            /* input bytes (NUL-terminated copy) */
    size_t in_len;
    void *ctx;                 /* produce()'s object, or NULL */
};

/*
 * What work() fills for one item.  data and note are pipe's buffers, shared
 * by the items of a chunk: append to them, never touch what is already
 * there.  status and count[] start at 0, label at "".
 */
struct pipe_out {
    struct buf *data;          /* the item's output bytes */
    struct buf *note;          /* text about the item (a log line), or empty */
    int status;                /* the caller's code for the item */
    size_t count[PIPE_COUNTS]; /* the caller's counters for the item */
    char label[PIPE_LABEL_LEN];/* a short name for the outcome (a row's
                                  status text), NUL-terminated */
};

/* What consume() sees of one item; the pointers are valid during the call. */
struct pipe_done {
    const char *data;          /* work()'s output bytes */
    size_t len;
    const char *note;          /* work()'s note, NUL-terminated ("" if none) */
    size_t note_len;
    int status;
    size_t count[PIPE_COUNTS];
    const char *label;         /* work()'s label ("" if none) */
};

struct pipe_ops {
    /* 1 = one item produced, 0 = end of input, < 0 = fatal (err set) */
    int (*produce)(void *ud, struct buf *in, void **ctx, struct eng_err *err);
    /* ENG_OK, or < 0 = fatal: the run stops (err set) */
    int (*work)(void *ud, int worker, const struct pipe_item *it,
                struct pipe_out *out, struct eng_err *err);
    /* ENG_OK, or < 0 = fatal (err set) */
    int (*consume)(void *ud, const struct pipe_item *it,
                   const struct pipe_done *done, struct eng_err *err);
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
