/* pipe — ordered parallel map over chunks of items. */
#include "pipe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum slot_state { SLOT_FREE, SLOT_READY, SLOT_WORKING, SLOT_DONE };

/* A group of consecutive items, worked on by one thread at a time. */
struct chunk {
    enum slot_state state;
    size_t seq;                      /* chunk number in input order */
    size_t n;
    struct pipe_item items[PIPE_CHUNK_ITEMS];
    size_t in_off[PIPE_CHUNK_ITEMS + 1];
    size_t out_off[PIPE_CHUNK_ITEMS + 1];
    size_t note_off[PIPE_CHUNK_ITEMS + 1];  /* each note ends with a NUL */
    int status[PIPE_CHUNK_ITEMS];
    size_t count[PIPE_CHUNK_ITEMS][PIPE_COUNTS];
    char label[PIPE_CHUNK_ITEMS][PIPE_LABEL_LEN];
    struct buf in;
    struct buf out;
    struct buf note;
};

struct pipe {
    const struct pipe_ops *ops;
    void *ud;
    struct chunk *slots;
    size_t n_slots;
    pthread_mutex_t lock;
    pthread_cond_t work_cv;          /* a chunk is READY, or stopping */
    pthread_cond_t done_cv;          /* a chunk is DONE */
    size_t next_work;                /* lowest seq not yet claimed */
    int stop;
    int failed;                      /* a worker hit a fatal error */
    struct eng_err werr;             /* that error */
};

struct worker_arg {
    struct pipe *p;
    int id;
};

static struct chunk *find_slot(struct pipe *p, size_t seq)
{
    return &p->slots[seq % p->n_slots];
}

static int work_chunk(struct pipe *p, int id, struct chunk *b,
                      struct eng_err *err)
{
    buf_reset(&b->out);
    buf_reset(&b->note);
    b->out_off[0] = 0;
    b->note_off[0] = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct pipe_item *it = &b->items[i];
        it->in = b->in.data + b->in_off[i];
        it->in_len = b->in_off[i + 1] - b->in_off[i] - 1;
        struct pipe_out o = {.data = &b->out, .note = &b->note};
        o.label[0] = '\0';
        int rc = p->ops->work(p->ud, id, it, &o, err);
        if (rc == ENG_OK)
            rc = buf_add(&b->note, "", 1, err);
        if (rc < 0)
            return rc;
        b->out_off[i + 1] = b->out.len;
        b->note_off[i + 1] = b->note.len;
        b->status[i] = o.status;
        memcpy(b->count[i], o.count, sizeof(o.count));
        o.label[PIPE_LABEL_LEN - 1] = '\0';
        memcpy(b->label[i], o.label, sizeof(o.label));
    }
    return ENG_OK;
}

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    struct pipe *p = wa->p;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct chunk *b = find_slot(p, p->next_work);
        while (!p->stop && !(b->state == SLOT_READY &&
                             b->seq == p->next_work)) {
            pthread_cond_wait(&p->work_cv, &p->lock);
            b = find_slot(p, p->next_work);
        }
        if (p->stop)
            break;
        b->state = SLOT_WORKING;
        p->next_work++;
        pthread_mutex_unlock(&p->lock);

        struct eng_err err = {0};
        int rc = work_chunk(p, wa->id, b, &err);

        pthread_mutex_lock(&p->lock);
        if (rc < 0 && !p->failed) {
            p->failed = 1;
            p->werr = err;
            p->werr.code = rc;
        }
        b->state = SLOT_DONE;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Fills a FREE chunk from produce(); returns items added or < 0. */
static int fill_chunk(struct pipe *p, struct chunk *b, size_t *index,
                      int *eof, struct eng_err *err)
{
    buf_reset(&b->in);
    b->n = 0;
    b->in_off[0] = 0;
    while (b->n < PIPE_CHUNK_ITEMS && b->in.len < PIPE_CHUNK_BYTES) {
        void *ctx = NULL;
        int rc = p->ops->produce(p->ud, &b->in, &ctx, err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            *eof = 1;
            break;
        }
        /* items are NUL-separated so each reads as a C string */
        rc = buf_add(&b->in, "", 1, err);
        if (rc < 0) {
            if (ctx && p->ops->free_ctx)
                p->ops->free_ctx(p->ud, ctx);
            return rc;
        }
        struct pipe_item *it = &b->items[b->n];
        it->index = (*index)++;
        it->ctx = ctx;
        b->in_off[++b->n] = b->in.len;
    }
    return (int)b->n;
}

static int consume_chunk(struct pipe *p, struct chunk *b, int *failed,
                         struct eng_err *err)
{
    int rc = ENG_OK;
    for (size_t i = 0; i < b->n; i++) {
        struct pipe_item *it = &b->items[i];
        if (!*failed) {
            struct pipe_done d = {
                .data = b->out.data + b->out_off[i],
                .len = b->out_off[i + 1] - b->out_off[i],
                .note = b->note.data + b->note_off[i],
                .note_len = b->note_off[i + 1] - b->note_off[i] - 1,
                .status = b->status[i],
                .label = b->label[i],
            };
            memcpy(d.count, b->count[i], sizeof(d.count));
            rc = p->ops->consume(p->ud, it, &d, err);
            if (rc < 0)
                *failed = 1;
        }
        if (it->ctx && p->ops->free_ctx)
            p->ops->free_ctx(p->ud, it->ctx);
        it->ctx = NULL;
    }
    b->n = 0;
    return rc;
}

static void free_ctxs(struct pipe *p, struct chunk *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->items[i].ctx && p->ops->free_ctx)
            p->ops->free_ctx(p->ud, b->items[i].ctx);
    }
    b->n = 0;
}

/* The calling thread: produce, then consume in order, until done. */
static int drive(struct pipe *p, struct eng_err *err)
{
    size_t next_read = 0, next_write = 0, index = 0;
    int eof = 0, failed = 0, rc = ENG_OK;
    pthread_mutex_lock(&p->lock);
    while (!failed) {
        struct chunk *w = find_slot(p, next_write);
        if (next_write < next_read && w->state == SLOT_DONE) {
            if (p->failed) {
                *err = p->werr;
                rc = p->werr.code;
                break;
            }
            pthread_mutex_unlock(&p->lock);
            rc = consume_chunk(p, w, &failed, err);
            pthread_mutex_lock(&p->lock);
            w->state = SLOT_FREE;
            next_write++;
            continue;
        }
        struct chunk *r = find_slot(p, next_read);
        if (!eof && r->state == SLOT_FREE) {
            pthread_mutex_unlock(&p->lock);
            int n = fill_chunk(p, r, &index, &eof, err);
            pthread_mutex_lock(&p->lock);
            if (n < 0) {
                free_ctxs(p, r);
                rc = n;
                break;
            }
            if (n > 0) {
                r->seq = next_read++;
                r->state = SLOT_READY;
                pthread_cond_broadcast(&p->work_cv);
            }
            continue;
        }
        if (eof && next_write == next_read)
            break;
        pthread_cond_wait(&p->done_cv, &p->lock);
    }
    if (failed && rc == ENG_OK)
        rc = ENG_EIO;
    p->stop = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int pipe_run(const struct pipe_ops *ops, void *ud, int jobs,
             struct eng_err *err)
{
    if (jobs < 1 || jobs > PIPE_MAX_JOBS)
        return eng_err_set(err, ENG_EUSAGE, "jobs must be 1..%d",
                           PIPE_MAX_JOBS);
    struct pipe p;
    memset(&p, 0, sizeof(p));
    p.ops = ops;
    p.ud = ud;
    p.n_slots = (size_t)jobs * PIPE_SLOTS_PER_JOB;
    p.slots = calloc(p.n_slots, sizeof(*p.slots));
    pthread_t *threads = calloc((size_t)jobs, sizeof(*threads));
    struct worker_arg *args = calloc((size_t)jobs, sizeof(*args));
    if (!p.slots || !threads || !args) {
        free(p.slots);
        free(threads);
        free(args);
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < p.n_slots; i++) {
        buf_init(&p.slots[i].in, (size_t)-1 / 2);
        buf_init(&p.slots[i].out, (size_t)-1 / 2);
        buf_init(&p.slots[i].note, (size_t)-1 / 2);
    }
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.work_cv, NULL);
    pthread_cond_init(&p.done_cv, NULL);

    int started = 0, rc = ENG_OK;
    for (; started < jobs; started++) {
        args[started].p = &p;
        args[started].id = started;
        if (pthread_create(&threads[started], NULL, worker_main,
                           &args[started]) != 0) {
            rc = eng_err_set(err, ENG_EIO, "cannot start worker thread");
            break;
        }
    }
    if (rc == ENG_OK)
        rc = drive(&p, err);
    else {
        pthread_mutex_lock(&p.lock);
        p.stop = 1;
        pthread_cond_broadcast(&p.work_cv);
        pthread_mutex_unlock(&p.lock);
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    /* A stopped run may leave produced chunks behind: free their ctx. */
    for (size_t i = 0; i < p.n_slots; i++) {
        free_ctxs(&p, &p.slots[i]);
        buf_release(&p.slots[i].in);
        buf_release(&p.slots[i].out);
        buf_release(&p.slots[i].note);
    }
    pthread_cond_destroy(&p.done_cv);
    pthread_cond_destroy(&p.work_cv);
    pthread_mutex_destroy(&p.lock);
    free(p.slots);
    free(threads);
    free(args);
    return rc;
}
