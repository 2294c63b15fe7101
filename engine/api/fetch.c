/* fetch — API -> journal -> JSONL bundle, resumable. */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hist.h"
#include "out.h"
#include "ptrain.h"
#include "shard.h"
#include "store.h"
#include "tok.h"
#include "veh.h"

/* The journal is fsync'd at least this often (seconds). */
#define FETCH_SYNC_EVERY 1.0
/*
 * Journal lines are written in batches of this many bytes, or after this
 * many seconds, whichever comes first: a write per vehicle cost the
 * client's one thread a few percent at a thousand connections.  A kill
 * loses at most one batch, whose rows the next run fetches again.
 */
#define FETCH_BATCH_BYTES (256 * 1024)
#define FETCH_BATCH_EVERY 0.25
/*
 * Lines that arrive ahead of an earlier row's are held back, up to this
 * many bytes, so that the journal is written in input order and becomes
 * the bundle by a rename, not a copy (a copy was a twelfth of the wall
 * time of a 200,000-vehicle run).  A row that waits longer (a long
 * Retry-After) ends the order: the lines are written as they come, and
 * the bundle is copied in order at the end, as after a resumed run.
 */
#define FETCH_HOLD_BYTES (16 * 1024 * 1024)
/* What of a journal line the end reads when only its status is needed. */
#define FETCH_HEAD_BYTES 512
/* With a store, a transaction is committed at least this often. */
#define FETCH_COMMIT_EVERY 1.0

/*
 * The journal's fsync, off the client's thread: an fsync can take tens of
 * milliseconds on a busy disk, during which a thousand transfers would
 * stand still.  The thread syncs the journal every FETCH_SYNC_EVERY
 * seconds while lines were written since its last sync.  Owned by the run.
 */
struct syncer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int fd;
    int dirty;                     /* written since the last sync */
    int stopping;
    int running;                   /* the thread was started */
};

/* Where each input row's line lies in the journal. */
struct place {
    off_t off;
    size_t len;
    char vin[VEH_VIN_LEN + 8];     /* as the journal line names it */
    int other_shard;               /* not a row of this run */
    long since;                    /* store mode: the window's start */
};

struct run {
    const struct fetch_config *cfg;
    struct fetch_stats *st;
    struct veh_reader *veh;
    struct veh_row row;
    struct tok_store *tokens;
    int fd;                        /* the journal */
    off_t end;                     /* its length */
    struct place *places;          /* by row index; len 0 = not yet */
    size_t cap;
    struct buf line;
    struct buf pend;               /* journal lines not yet written */
    int ordered;                   /* every line so far in input order */
    size_t next;                   /* while ordered: the row due next */
    struct held *held;             /* lines of later rows: a min-heap */
    size_t nheld, held_cap, held_bytes;
    double last_write;             /* when pend was last written */
    double last_sync;              /* when the syncer is not running */
    struct syncer sync;
    int failed;                    /* a journal write failed */
    struct eng_err werr;
    size_t seen;                   /* rows read, every shard's */
    size_t journal_rows;           /* lines an earlier run left */
    struct sc_client *sc;
    double last_tick;
    struct store *store;           /* store mode, else NULL */
    size_t in_batch;               /* lines in the open transaction */
    double last_commit;
    long until;                    /* the window's end (day) */
    long long now;                 /* the run's start, Unix seconds */
    struct store_import_stats ist;
    int api_ptrain;                /* enum ptrain the API gave the vehicle
                                      job_done() is journalling, else
                                      PTRAIN_UNKNOWN */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *sync_main(void *arg)
{
    struct syncer *y = arg;
    pthread_mutex_lock(&y->lock);
    while (!y->stopping) {
        struct timespec at;
        clock_gettime(CLOCK_MONOTONIC, &at);
        at.tv_sec += (time_t)FETCH_SYNC_EVERY;
        int rc = 0;
        while (!y->stopping && rc == 0) /* 0: woken early, or spuriously */
            rc = pthread_cond_timedwait(&y->wake, &y->lock, &at);
        if (y->stopping || !y->dirty)
            continue;
        y->dirty = 0;
        pthread_mutex_unlock(&y->lock);
        fsync(y->fd);
        pthread_mutex_lock(&y->lock);
    }
    pthread_mutex_unlock(&y->lock);
    return NULL;
}

/* Starts the syncer on fd; without a thread, journal() syncs inline. */
static void sync_start(struct syncer *y, int fd)
{
    pthread_condattr_t ca;
    y->fd = fd;
    y->dirty = 0;
    y->stopping = 0;
    pthread_mutex_init(&y->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&y->wake, &ca);
    pthread_condattr_destroy(&ca);
    y->running = pthread_create(&y->thread, NULL, sync_main, y) == 0;
}

/* Stops, joins and frees the syncer; the caller then fsyncs as it must. */
static void sync_stop(struct syncer *y)
{
    if (y->running) {
        pthread_mutex_lock(&y->lock);
        y->stopping = 1;
        pthread_cond_signal(&y->wake);
        pthread_mutex_unlock(&y->lock);
        pthread_join(y->thread, NULL);
        y->running = 0;
    }
    pthread_cond_destroy(&y->wake);
    pthread_mutex_destroy(&y->lock);
}

static int grow_places(struct run *r, size_t index, struct eng_err *err)
{
    if (index < r->cap)
        return ENG_OK;
    size_t cap = r->cap ? r->cap : 1024;
    while (cap <= index)
        cap *= 2;
    struct place *p = realloc(r->places, cap * sizeof(*p));
    if (!p)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    memset(p + r->cap, 0, (cap - r->cap) * sizeof(*p));
    r->places = p;
    r->cap = cap;
    return ENG_OK;
}

/*
 * Store mode: the line goes to the store (its records merged), in
 * transactions of STORE_BATCH lines or FETCH_COMMIT_EVERY seconds, so that
 * a killed run loses at most the open one (fetched again next time).
 */
static int store_line(struct run *r, size_t index, const char *status,
                      struct eng_err *err)
{
    struct buf *b = &r->line;
    int rc = store_import_line(r->store, b->data, b->len - 1,
                               r->cfg->limits, r->cfg->tasks, r->cfg->sched,
                               &r->ist, err);
    if (rc < 0)
        return rc;
    r->st->fetched++;
    if (strcmp(status, "ok") == 0)
        r->st->ok++;
    else if (strcmp(status, "no_history") == 0)
        r->st->no_history++;
    else
        r->st->errors++;
    if (r->cfg->row)
        r->cfg->row(r->cfg->ud, index, status);
    double t = now_s();
    if (++r->in_batch >= STORE_BATCH
        || t - r->last_commit >= FETCH_COMMIT_EVERY) {
        rc = store_commit(r->store, err);
        if (rc == ENG_OK)
            rc = store_begin(r->store, err);
        r->in_batch = 0;
        r->last_commit = t;
    }
    return rc;
}

/* A journal line held back until the rows before it have theirs. */
struct held {
    size_t index;
    char *line;
    size_t len;
};

static void held_sift_down(struct held *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h[l].index < h[m].index)
            m = l;
        if (l + 1 < n && h[l + 1].index < h[m].index)
            m = l + 1;
        if (m == i)
            return;
        struct held t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Holds a copy of line for row index; -1 when it cannot (memory, cap). */
static int hold(struct run *r, size_t index, const char *line, size_t len)
{
    size_t cap_bytes = r->cfg->hold_bytes ? r->cfg->hold_bytes
                                          : FETCH_HOLD_BYTES;
    if (r->held_bytes + len > cap_bytes)
        return -1;
    if (r->nheld == r->held_cap) {
        size_t cap = r->held_cap ? 2 * r->held_cap : 256;
        struct held *h = realloc(r->held, cap * sizeof(*h));
        if (!h)
            return -1;
        r->held = h;
        r->held_cap = cap;
    }
    char *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, line, len);
    size_t i = r->nheld++;
    r->held[i] = (struct held){index, copy, len};
    while (i > 0 && r->held[(i - 1) / 2].index > r->held[i].index) {
        struct held t = r->held[i];
        r->held[i] = r->held[(i - 1) / 2];
        r->held[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
    r->held_bytes += len;
    r->st->held++;
    return 0;
}

/* Appends row index's line to the journal's pending bytes, where it lies. */
static int place_line(struct run *r, size_t index, const char *line,
                      size_t len, struct eng_err *err)
{
    if (buf_add(&r->pend, line, len, err) < 0)
        return ENG_ENOMEM;
    r->places[index].off = r->end;
    r->end += (off_t)len;
    return ENG_OK;
}

/* The row whose line the journal takes next, past other shards' rows. */
static size_t next_row(struct run *r)
{
    while (r->next < r->seen && r->places[r->next].other_shard)
        r->next++;
    return r->next;
}

/* Places the held lines whose turn has come (all of them when the order
 * is given up), lowest row first. */
static int place_held(struct run *r, struct eng_err *err)
{
    while (r->nheld > 0) {
        if (r->ordered) {
            if (r->held[0].index != next_row(r))
                return ENG_OK;
            r->next++;
        }
        struct held h = r->held[0];
        r->held[0] = r->held[--r->nheld];
        held_sift_down(r->held, r->nheld, 0);
        r->held_bytes -= h.len;
        int rc = place_line(r, h.index, h.line, h.len, err);
        free(h.line);
        if (rc < 0)
            return rc;
    }
    return ENG_OK;
}

static void free_held(struct run *r)
{
    for (size_t i = 0; i < r->nheld; i++)
        free(r->held[i].line);
    free(r->held);
    r->held = NULL;
    r->nheld = r->held_cap = r->held_bytes = 0;
}

static int write_pending(struct run *r, struct eng_err *err);

/* Writes one journal line for row index; updates counts and places. */
static int journal(struct run *r, size_t index, const char *vin,
                   const char *vehicle_id, const char *units,
                   const char *fetched_at, const char *status,
                   const char *request_id, const char *body, size_t body_len,
                   struct eng_err *err)
{
    struct buf *b = &r->line;
    buf_reset(b);
    /* a history body is whole JSON: the client checked it (sc.h) */
    int rc = buf_printf(b, err, "{\"index\":%zu,\"vin\":", index);
    if (rc == ENG_OK)
        rc = buf_json_str(b, vin ? vin : "", err);
    if (rc == ENG_OK)
        rc = buf_adds(b, ",\"vehicle_id\":", err);
    if (rc == ENG_OK)
        rc = buf_json_str(b, vehicle_id ? vehicle_id : "", err);
    if (rc == ENG_OK)
        rc = buf_adds(b, ",\"unit_system\":", err);
    if (rc == ENG_OK)
        rc = buf_json_str(b, units && *units ? units : "metric", err);
    if (rc == ENG_OK)
        rc = buf_adds(b, ",\"fetched_at\":", err);
    if (rc == ENG_OK)
        rc = buf_json_str(b, fetched_at ? fetched_at : "", err);
    if (rc == ENG_OK)
        rc = buf_adds(b, ",\"status\":", err);
    if (rc == ENG_OK)
        rc = buf_json_str(b, status, err);
    if (rc == ENG_OK)
        rc = buf_adds(b, ",\"request_id\":", err);
    if (rc == ENG_OK)
        rc = buf_json_str(b, request_id ? request_id : "", err);
    if (rc == ENG_OK && r->store && fetched_at) {
        char from[16], to[16];
        eng_format_day(r->places[index].since, from);
        eng_format_day(r->until, to);
        rc = buf_printf(b, err, ",\"window_from\":\"%s\","
                        "\"window_to\":\"%s\"", from, to);
    }
    if (rc == ENG_OK && r->api_ptrain != PTRAIN_UNKNOWN)
        rc = buf_printf(b, err, ",\"powertrain\":\"%s\","
                        "\"powertrain_source\":\"api\"",
                        ptrain_name(r->api_ptrain));
    if (rc == ENG_OK)
        rc = buf_adds(b, ",\"history\":", err);
    if (rc == ENG_OK && body) {
        size_t start = b->len;
        rc = buf_add(b, body, body_len, err);
        /* raw line breaks are white space in valid JSON: keep one line */
        for (int k = 0; rc == ENG_OK && k < 2; k++) {
            char *q = b->data + start, *end = b->data + b->len;
            while ((q = memchr(q, k ? '\r' : '\n', (size_t)(end - q))))
                *q++ = ' ';
        }
    } else if (rc == ENG_OK) {
        rc = buf_adds(b, "null", err);
    }
    if (rc == ENG_OK)
        rc = buf_adds(b, "}\n", err);
    if (rc == ENG_OK)
        rc = grow_places(r, index, err);
    if (rc < 0)
        return rc;
    if (r->store)
        return store_line(r, index, status, err);
    struct place *p = &r->places[index];
    p->len = b->len;
    snprintf(p->vin, sizeof(p->vin), "%s", vin ? vin : "");
    r->st->fetched++;
    if (r->ordered) {
        if (index == next_row(r))
            r->next++;
        else if (hold(r, index, b->data, b->len) == 0)
            return ENG_OK;
        else
            r->ordered = 0;     /* held too long: write as lines come */
    }
    if (place_line(r, index, b->data, b->len, err) < 0
        || place_held(r, err) < 0)
        return ENG_ENOMEM;
    double t = now_s();
    if (r->pend.len < FETCH_BATCH_BYTES && t - r->last_write
                                                < FETCH_BATCH_EVERY)
        return ENG_OK;
    r->last_write = t;
    return write_pending(r, err);
}

/* Writes the journal lines held in r->pend; the syncer then syncs them. */
static int write_pending(struct run *r, struct eng_err *err)
{
    struct buf *b = &r->pend;
    size_t done = 0;
    while (done < b->len) {
        ssize_t w = write(r->fd, b->data + done, b->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return eng_err_set(err, ENG_EIO, "cannot write the journal: %s",
                               strerror(errno));
        done += (size_t)w;
    }
    buf_reset(b);
    if (r->sync.running) {
        pthread_mutex_lock(&r->sync.lock);
        r->sync.dirty = 1;
        pthread_mutex_unlock(&r->sync.lock);
        return ENG_OK;
    }
    double t = now_s();
    if (t - r->last_sync >= FETCH_SYNC_EVERY) {
        fsync(r->fd);
        r->last_sync = t;
    }
    return ENG_OK;
}

/* ------------------------------------------------------------------ */
/* Which rows are due: the retry rules of stored and journalled statuses. */

int fetch_status_transient(const char *status)
{
    static const char *const kinds[] = {
        "NETWORK", "TIMEOUT", "SERVER", "UPSTREAM", "RATE_LIMIT",
        "VEHICLE_STATE"
    };
    if (strncmp(status, "error:", 6) != 0)
        return 0;
    const char *type = status + 6;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i]);
        if (strncmp(type, kinds[i], n) == 0
            && (type[n] == '\0' || type[n] == ':'))
            return 1;
    }
    return 0;
}

/* A row an earlier outcome leaves to do again: transient, or asked for. */
static int status_redo(const struct fetch_config *cfg, const char *status)
{
    if (strncmp(status, "error", 5) != 0)
        return 0;
    return fetch_status_transient(status) || cfg->retry_errors;
}

int fetch_due(const struct fetch_config *cfg, const struct store_state *ss,
              long long now)
{
    if (ss->id == 0 || ss->last_fetch_at[0] == '\0')
        return 1;                  /* new to the store */
    if (strncmp(ss->last_status, "error", 5) == 0)
        return status_redo(cfg, ss->last_status);
    if (cfg->refresh_after_days < 0 || ss->last_ok_at[0] == '\0')
        return 1;
    long long ok_at = 0;
    if (tok_parse_time(ss->last_ok_at, &ok_at, NULL) < 0)
        return 1;
    return now - ok_at >= (long long)cfg->refresh_after_days * 86400;
}

/* The window's start for a stored vehicle: its latest record less the
 * overlap, never before cfg->sc.since_day nor after the window's end. */
static long window_start(const struct run *r, const struct store_state *ss)
{
    long since = r->cfg->sc.since_day;
    if (ss->id && ss->last_ok_at[0] && ss->last_day != HIST_NO_DAY) {
        long s = ss->last_day - (long)r->cfg->overlap_days;
        if (s > since)
            since = s;
    }
    return since > r->until ? r->until : since;
}

/* ------------------------------------------------------------------ */
/* Resuming: what an earlier run left in the journal. */

static int line_status(const char *line, size_t n, char *status,
                       size_t size);

/* A journal line whose row is fetched again (status_redo()). */
static int line_redo(const struct fetch_config *cfg, const char *line,
                     size_t n)
{
    char status[64];
    line_status(line, n, status, sizeof(status));
    return status_redo(cfg, status);
}

static int read_journal(struct run *r, const char *path, struct eng_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? ENG_OK
               : eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                             strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    off_t off = 0, good = 0;
    int rc = ENG_OK;
    while (rc == ENG_OK && (n = getline(&line, &cap, f)) > 0) {
        size_t index;
        int used = 0;
        if (line[n - 1] != '\n' ||
            sscanf(line, "{\"index\":%zu,%n", &index, &used) < 1 || !used)
            break;                 /* a torn last line: cut it below */
        char vin[VEH_VIN_LEN + 8] = "";
        hist_peek_vin(line, (size_t)n, vin, sizeof(vin));
        rc = grow_places(r, index, err);
        if (rc == ENG_OK && r->places[index].len == 0
            && !line_redo(r->cfg, line, (size_t)n)) {
            r->places[index].off = off;
            r->places[index].len = (size_t)n;
            snprintf(r->places[index].vin, sizeof(r->places[index].vin),
                     "%s", vin);
            r->journal_rows++;
        }
        off += n;
        good = off;
    }
    free(line);
    fclose(f);
    if (rc == ENG_OK && truncate(path, good) != 0)
        rc = eng_err_set(err, ENG_EIO, "cannot truncate '%s': %s", path,
                         strerror(errno));
    r->end = good;
    return rc;
}

/* ------------------------------------------------------------------ */
/* The client's callbacks. */

static int row_vin_mismatch(struct run *r, const struct veh_row *row,
                            struct eng_err *err)
{
    return eng_err_set(err, ENG_EDATA, "the journal '%s.partial' was "
                       "written for another vehicle list (row %zu is '%s' "
                       "there, '%s' here): remove it to start afresh",
                       r->cfg->out_path, row->index + 1,
                       r->places[row->index].vin, row->vin);
}

static int next_job(void *ud, struct sc_job *job)
{
    struct run *r = ud;
    struct eng_err *err = &r->werr;
    for (;;) {
        int rc = veh_next(r->veh, &r->row, err);
        if (rc <= 0)
            return rc;
        const struct veh_row *row = &r->row;
        if (grow_places(r, row->index, err) < 0)
            return ENG_ENOMEM;
        if (row->index >= r->seen)
            r->seen = row->index + 1;
        if (!shard_keeps(r->cfg->shard, row)) {
            r->places[row->index].other_shard = 1;
            continue;
        }
        r->st->rows++;
        if (r->places[row->index].len) {
            if (strcmp(r->places[row->index].vin, row->vin) != 0)
                return row_vin_mismatch(r, row, err);
            r->st->resumed++;
            continue;              /* fetched by an earlier run */
        }
        r->places[row->index].since = r->cfg->sc.since_day;
        if (r->store && !row->status[0]) {
            struct store_state ss;
            if (store_vehicle_state(r->store, row->vin, &ss, err) < 0)
                return err->code;
            if (!fetch_due(r->cfg, &ss, r->now)) {
                r->st->not_due++;  /* keeps its history and status */
                if (r->cfg->row)
                    r->cfg->row(r->cfg->ud, row->index, "not_due");
                continue;
            }
            r->places[row->index].since = window_start(r, &ss);
        }
        const char *status = row->status[0] ? row->status : NULL;
        int v3 = r->cfg->sc.api_version &&
                 strcmp(r->cfg->sc.api_version, "3") == 0;
        struct tok_pair *pair = NULL;
        if (!status && !(v3 && row->vehicle_id[0])) {
            long long exp = 0;
            if (row->expires_at[0] &&
                tok_parse_time(row->expires_at, &exp, NULL) < 0)
                exp = 0;           /* unreadable: try it, refresh on 401 */
            if (!row->access_token[0] && !row->refresh_token[0])
                status = "error:INPUT:NO_TOKEN";
            else
                pair = tok_register(r->tokens, row->access_token,
                                    row->refresh_token, exp, err);
            if (!status && !pair)
                return err->code;
        }
        if (status) {
            rc = journal(r, row->index, row->vin, row->vehicle_id, NULL,
                         NULL, status, NULL, NULL, 0, err);
            if (rc < 0)
                return rc;
            continue;
        }
        job->index = row->index;
        job->vin = row->vin;
        job->vehicle_id = row->vehicle_id;
        job->user_id = NULL;
        job->tokens = pair;
        job->since_day = r->places[row->index].since > r->cfg->sc.since_day
                         ? r->places[row->index].since : 0;
        /* the list's column wins: ask the API only where it is empty */
        job->want_powertrain = row->powertrain == PTRAIN_UNKNOWN;
        return 1;
    }
}

static int job_done(void *ud, const struct sc_result *res)
{
    struct run *r = ud;
    const char *body = NULL;
    size_t len = 0;
    if (strcmp(res->status, "ok") == 0 ||
        strcmp(res->status, "no_history") == 0) {
        body = res->body;
        len = res->body_len;
    }
    if (r->cfg->log && res->request_id && res->request_id[0] &&
        strncmp(res->status, "error", 5) == 0) {
        char line[512];
        snprintf(line, sizeof(line), "row %zu: vin '%s': %s (request %s)%s%s",
                 res->index + 1, res->vin ? res->vin : "", res->status,
                 res->request_id, res->message && *res->message ? ": " : "",
                 res->message ? res->message : "");
        r->cfg->log(r->cfg->log_ud, line);
    }
    r->api_ptrain = res->powertrain;
    int rc = journal(r, res->index, res->vin, res->vehicle_id,
                     res->unit_system, res->fetched_at, res->status,
                     res->request_id, body, len, &r->werr);
    r->api_ptrain = PTRAIN_UNKNOWN;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Finishing: the journal, in input order, becomes the bundle. */

/*
 * The "status" value of a journal line's first n bytes, "" if none.
 * Returns 1 when the value ends within them, 0 when n cut it or it is
 * not there.
 */
static int line_status(const char *line, size_t n, char *status,
                       size_t size)
{
    const char *p = line;
    const char *key = "\"status\":\"";
    status[0] = '\0';
    for (size_t i = 0; i + 10 < n; i++) {
        if (memcmp(p + i, key, 10) == 0) {
            size_t j = 0;
            while (j + 1 < size && i + 10 + j < n &&
                   p[i + 10 + j] != '"') {
                status[j] = p[i + 10 + j];
                j++;
            }
            status[j] = '\0';
            return memchr(p + i + 10, '"', n - i - 10) != NULL;
        }
    }
    return 0;
}

/* Counts row index's status and tells the caller's row callback. */
static void count_status(const struct run *r, size_t index,
                         const char *status)
{
    struct fetch_stats *st = r->st;
    if (r->cfg->row)
        r->cfg->row(r->cfg->ud, index, status);
    if (strcmp(status, "ok") == 0)
        st->ok++;
    else if (strcmp(status, "no_history") == 0)
        st->no_history++;
    else
        st->errors++;
}

/*
 * Whether the journal is exactly the bundle: every row's line, in input
 * order, back to back, and nothing else in the file.
 */
static int journal_is_bundle(const struct run *r)
{
    if (!r->ordered || r->nheld > 0)
        return 0;
    off_t at = 0;
    for (size_t i = 0; i < r->seen; i++) {
        const struct place *p = &r->places[i];
        if (p->other_shard)
            continue;
        if (p->len == 0 || p->off != at)
            return 0;
        at += (off_t)p->len;
    }
    struct stat sb;
    return at == r->end && fstat(r->fd, &sb) == 0 && sb.st_size == r->end;
}

static int finish(struct run *r, const char *journal_path,
                  struct eng_err *err)
{
    int rc = place_held(r, err);   /* none, unless a row never came */
    if (rc < 0)
        return rc;
    if (write_pending(r, err) < 0)
        return err ? err->code : ENG_EIO;
    if (fsync(r->fd) != 0)
        return eng_err_set(err, ENG_EIO, "cannot sync '%s': %s",
                           journal_path, strerror(errno));
    for (size_t i = 0; i < r->seen; i++) {
        if (!r->places[i].other_shard && r->places[i].len == 0)
            return eng_err_set(err, ENG_EDATA, "row %zu has no journal line",
                               i + 1);
    }
    struct buf b;
    buf_init(&b, (size_t)-1 / 2);
    int whole = journal_is_bundle(r);
    struct out_file *o = NULL;
    if (whole) {
        rc = out_install(journal_path, r->cfg->out_path, OUT_GZIP_BY_NAME,
                         err);
        whole = rc == ENG_OK;
        r->st->renamed = whole;
        if (rc > 0)
            rc = ENG_OK;       /* not a plain file: copied below */
    }
    if (rc == ENG_OK && !whole) {
        o = out_open_flags(r->cfg->out_path, OUT_GZIP_BY_NAME, err);
        if (!o)
            rc = err ? err->code : ENG_EIO;
    }
    /*
     * Each line is read with pread(), not through a mapping of the whole
     * journal, whose pages would count in the process's memory (3.5 GB
     * for a million vehicles).  Renamed, only each line's head is read:
     * the status comes within its first few hundred bytes.
     */
    for (size_t i = 0; rc == ENG_OK && i < r->seen; i++) {
        const struct place *p = &r->places[i];
        if (p->other_shard)
            continue;
        size_t n = !o && p->len > FETCH_HEAD_BYTES ? FETCH_HEAD_BYTES
                                                   : p->len;
        char status[64];
        for (;;) {
            buf_reset(&b);
            char *dst = buf_extend(&b, n, err);
            if (!dst) {
                rc = ENG_ENOMEM;
                break;
            }
            if (pread(r->fd, dst, n, p->off) != (ssize_t)n) {
                rc = eng_err_set(err, ENG_EIO, "cannot read '%s'",
                                 journal_path);
                break;
            }
            if (line_status(dst, n, status, sizeof(status)) || n == p->len)
                break;
            n = p->len;         /* a head too short: the whole line */
        }
        if (rc < 0)
            break;
        count_status(r, i, status);
        if (o)
            rc = out_write(o, b.data, n, err);
    }
    buf_release(&b);
    if (rc == ENG_OK && o) {
        rc = out_commit(o, err);
        o = NULL;
    }
    out_abort(o);
    if (rc == ENG_OK && !whole)
        unlink(journal_path);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Before the first request: what a run cannot survive, found at once. */

static int have_credentials(const struct sc_config *c)
{
    return c->client_id && *c->client_id && c->client_secret
           && *c->client_secret;
}

/* The output's folder must take a new file (the journal, the bundle). */
static int check_writable(const char *out, struct eng_err *err)
{
    struct stat sb;
    if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode))
        return eng_err_set(err, ENG_EIO, "cannot write '%s': it is a "
                           "directory", out);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", out);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK | X_OK) != 0)
        return eng_err_set(err, ENG_EIO, "cannot write '%s': %s", out,
                           strerror(errno));
    return ENG_OK;
}

/*
 * Without client credentials, a row whose pair must be refreshed (or any
 * row, in v3, for the application token) can only fail: thousands of rows
 * saying so help nobody, so the run stops before its first request.  Reads
 * the vehicle list once more; rows the journal holds are skipped.  The
 * pairs registered here are the ones next_job() will find.
 */
static int check_credentials(struct run *r, struct eng_err *err)
{
    const struct fetch_config *cfg = r->cfg;
    if (have_credentials(&cfg->sc))
        return ENG_OK;
    int v3 = cfg->sc.api_version && strcmp(cfg->sc.api_version, "3") == 0;
    struct veh_reader *veh = veh_open(cfg->vehicles_path, err);
    if (!veh)
        return err ? err->code : ENG_EIO;
    struct veh_row row;
    memset(&row, 0, sizeof(row));
    long long now = (long long)time(NULL);
    int rc;
    while ((rc = veh_next(veh, &row, err)) > 0) {
        if (row.status[0] || (row.index < r->cap && r->places[row.index].len)
            || !shard_keeps(cfg->shard, &row))
            continue;
        int needs = v3;
        if (!v3 && (row.access_token[0] || row.refresh_token[0])) {
            long long exp = 0;
            if (row.expires_at[0]
                && tok_parse_time(row.expires_at, &exp, NULL) < 0)
                exp = 0;
            struct tok_pair *p = tok_register(r->tokens, row.access_token,
                                              row.refresh_token, exp, err);
            if (!p) {
                rc = err ? err->code : ENG_ENOMEM;
                break;
            }
            needs = tok_pair_header_safe(p)
                    && tok_pair_state(p, now) == TOK_STALE;
        }
        if (needs) {
            rc = eng_err_set(err, ENG_EUSAGE, "row %zu (vin '%s') needs %s, "
                             "but no client credentials are set "
                             "(SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET)",
                             row.index + 1, row.vin,
                             v3 ? "an application token"
                                : "a token refresh");
            break;
        }
    }
    veh_row_release(&row);
    veh_close(veh);
    return rc < 0 ? rc : ENG_OK;
}

/* The client's tick: a progress report, at most four a second. */
static void tick(void *ud)
{
    struct run *r = ud;
    double t = now_s();
    if (t - r->last_tick < 0.25)
        return;
    r->last_tick = t;
    sc_get_stats(r->sc, &r->st->sc);
    r->cfg->progress(r->cfg->ud, r->st);
}

int fetch_run(const struct fetch_config *cfg, struct fetch_stats *st,
              struct eng_err *err)
{
    memset(st, 0, sizeof(*st));
    struct run r;
    memset(&r, 0, sizeof(r));
    r.cfg = cfg;
    r.st = st;
    r.fd = -1;
    r.last_sync = now_s();
    buf_init(&r.line, cfg->sc.max_body + 65536);
    buf_init(&r.pend, (size_t)-1 / 2);
    char journal_path[4096];
    snprintf(journal_path, sizeof(journal_path), "%s.partial",
             cfg->out_path);
    struct sc_client *sc = NULL;
    int rc = ENG_OK;

    r.now = (long long)time(NULL);
    r.until = cfg->sc.until_day == SC_UNTIL_TODAY ? eng_today()
                                                  : cfg->sc.until_day;
    r.veh = veh_open(cfg->vehicles_path, err);
    if (!r.veh) {
        rc = err ? err->code : ENG_EIO;
        goto out;
    }
    if (cfg->progress && strcmp(cfg->vehicles_path, "-") != 0) {
        rc = shard_count(cfg->vehicles_path, cfg->shard, &st->total, err);
        if (rc < 0)
            goto out;
    }
    r.tokens = tok_store_open_wait(cfg->token_store, cfg->lock_timeout,
                                   cfg->log, cfg->log_ud, err);
    if (!r.tokens) {
        rc = err ? err->code : ENG_EIO;
        goto out;
    }
    if (cfg->store_path) {
        r.store = store_open(cfg->store_path, 0, err);
        rc = r.store ? store_begin(r.store, err)
                     : err ? err->code : ENG_EIO;
        r.last_commit = now_s();
    } else {
        rc = read_journal(&r, journal_path, err);
        /* a fresh journal is kept in input order (FETCH_HOLD_BYTES) */
        r.ordered = r.end == 0;
    }
    if (rc < 0)
        goto out;
    struct sc_config scc = cfg->sc;
    scc.tokens = r.tokens;
    scc.stop = cfg->stop;
    scc.log = cfg->log;
    scc.log_ud = cfg->log_ud;
    if (cfg->progress) {
        scc.tick = tick;
        scc.tick_ud = &r;
    }
    sc = sc_new(&scc, err);
    if (!sc) {
        rc = err ? err->code : ENG_EUSAGE;
        goto out;
    }
    rc = r.store ? ENG_OK : check_writable(cfg->out_path, err);
    if (rc == ENG_OK)
        rc = check_credentials(&r, err);
    if (rc < 0)
        goto out;
    if (!r.store)
        r.fd = open(journal_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
                    0644);
    if (!r.store && r.fd < 0) {
        rc = eng_err_set(err, ENG_EIO, "cannot open '%s': %s", journal_path,
                         strerror(errno));
        goto out;
    }
    st->started = 1;
    r.sc = sc;
    sync_start(&r.sync, r.fd);
    rc = sc_run(sc, next_job, job_done, &r, err);
    sync_stop(&r.sync);
    sc_get_stats(sc, &st->sc);
    if (r.store) {
        /* what was stored is kept, even when the run stopped early */
        struct eng_err cerr = {0};
        int crc = store_commit(r.store, &cerr);
        if (rc == ENG_OK && crc < 0) {
            rc = crc;
            if (err)
                *err = cerr;
        }
    }
    if (rc < 0 && r.store) {
        if (r.werr.msg[0] && err && rc != ENG_EUSAGE)
            *err = r.werr;
        if (rc == ENG_EUSAGE && cfg->stop && *cfg->stop)
            eng_err_set(err, ENG_EUSAGE, "stopped: %zu rows are in the "
                        "store; run again to fetch the rest", st->fetched);
        goto out;
    }
    if (rc < 0) {
        /* a callback's own error is in r.werr */
        if (r.werr.msg[0] && err && rc != ENG_EUSAGE)
            *err = r.werr;
        if (rc == ENG_EUSAGE && cfg->stop && *cfg->stop)
            eng_err_set(err, ENG_EUSAGE, "stopped: %zu rows are in the "
                        "journal '%s'; run again to fetch the rest",
                        r.journal_rows + st->fetched, journal_path);
        struct eng_err werr = {0};
        if (write_pending(&r, &werr) < 0 && rc == ENG_EUSAGE && err)
            *err = werr;
        fsync(r.fd);
        goto out;
    }
    if (!r.store)
        rc = finish(&r, journal_path, err);
out:
    store_close(r.store);
    sc_free(sc);
    if (r.fd >= 0)
        close(r.fd);
    veh_row_release(&r.row);
    veh_close(r.veh);
    tok_store_free(r.tokens);
    free(r.places);
    buf_release(&r.line);
    buf_release(&r.pend);
    free_held(&r);
    return rc;
}
