/* batch — histories to rows over the ordered parallel pipeline. */
#include "batch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "feat.h"
#include "out.h"
#include "pipe.h"
#include "ptrain.h"
#include "shard.h"
#include "store.h"
#include "task.h"
#include "veh.h"
#include "vinmap.h"

#define READ_CHUNK (256u << 10)
#define SALVAGE_BYTES 4096

/*
 * Each pipeline item's input starts with one tag byte saying what follows,
 * so the bundle-only path needs no per-item allocation.
 */
enum tag {
    TAG_LINE = 'L',       /* a bundle line */
    TAG_BODY = 'B',       /* a raw response body (directory mode) */
    TAG_TOOLONG = 'X',    /* the start of a bundle line past the cap */
    TAG_STATUS = 'S',     /* no history to read: the job carries a status */
    TAG_STORED = 'V'      /* the job's vehicle is read from the store */
};

/* ------------------------------------------------------------------ */
/* Line reader: whole lines of any length up to a cap, CR LF stripped. */

/*
 * zlib's gzread() reads a gzip file (found by its magic bytes 1f 8b, not
 * its name; concatenated members too) and passes any other file through
 * as it is, straight into our buffer, so one reader serves both.
 */
struct lines {
    gzFile f;
    const char *path;
    char *buf;
    size_t cap, start, end;
    size_t max;            /* longest line kept whole */
    int eof;
};

/*
 * After gzread() returned 0: whether the input ended inside a gzip member.
 * zlib reports that softly (Z_BUF_ERROR, for files still being written);
 * for us a cut bundle would silently lose its last vehicles.
 */
static int truncated_gzip(gzFile f)
{
    int zerr;
    gzerror(f, &zerr);
    return zerr == Z_BUF_ERROR;
}

static int lines_open(struct lines *l, const char *path, size_t max,
                      struct eng_err *err)
{
    memset(l, 0, sizeof(*l));
    l->path = path;
    l->max = max;
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO)
                                    : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                           strerror(errno));
    l->f = gzdopen(fd, "rb");
    if (!l->f)
        close(fd);
    l->cap = READ_CHUNK;
    l->buf = l->f ? malloc(l->cap) : NULL;
    if (!l->buf) {
        if (l->f)
            gzclose(l->f);
        l->f = NULL;
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    }
    gzbuffer(l->f, READ_CHUNK);
    return ENG_OK;
}

static void lines_close(struct lines *l)
{
    if (l->f)
        gzclose(l->f);
    free(l->buf);
    memset(l, 0, sizeof(*l));
}

/* Reads more input; returns bytes read, 0 at end, or < 0. */
static int lines_fill(struct lines *l, struct eng_err *err)
{
    if (l->start > 0) {
        memmove(l->buf, l->buf + l->start, l->end - l->start);
        l->end -= l->start;
        l->start = 0;
    }
    if (l->end == l->cap) {
        size_t ncap = l->cap * 2;
        char *p = realloc(l->buf, ncap);
        if (!p)
            return eng_err_set(err, ENG_ENOMEM, "out of memory");
        l->buf = p;
        l->cap = ncap;
    }
    size_t want = l->cap - l->end;
    int n = gzread(l->f, l->buf + l->end,
                   want > INT_MAX ? INT_MAX : (unsigned)want);
    if (n < 0) {
        int zerr;
        const char *msg = gzerror(l->f, &zerr);
        return eng_err_set(err, ENG_EIO, "cannot read '%s': %s", l->path,
                           zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    if (n == 0 && truncated_gzip(l->f))
        return eng_err_set(err, ENG_EIO, "cannot read '%s': the gzip data "
                           "ends early (a truncated file)", l->path);
    l->end += (size_t)n;
    return n > 0;
}

/*
 * The next line: 1 with *line and *len set (valid until the next call), 0 at
 * the end.  A line longer than max is skipped to its end and returned cut
 * to its first SALVAGE_BYTES with *too_long set.
 */
static int lines_next(struct lines *l, const char **line, size_t *len,
                      int *too_long, struct eng_err *err)
{
    *too_long = 0;
    size_t scan = l->start;
    for (;;) {
        char *nl = memchr(l->buf + scan, '\n', l->end - scan);
        if (nl) {
            size_t n = (size_t)(nl - (l->buf + l->start));
            *line = l->buf + l->start;
            l->start += n + 1;
            if (*too_long)
                n = n < SALVAGE_BYTES ? n : SALVAGE_BYTES;
            while (n > 0 && (*line)[n - 1] == '\r')
                n--;
            *len = n;
            return 1;
        }
        scan = l->end;
        if (scan - l->start > l->max && !*too_long) {
            /* keep the first bytes for the VIN; drop the rest as it comes */
            *too_long = 1;
        }
        if (*too_long && l->end - l->start > SALVAGE_BYTES) {
            l->end = l->start + SALVAGE_BYTES;
            scan = l->end;
        }
        if (l->eof) {
            if (l->end == l->start)
                return 0;
            size_t n = l->end - l->start;
            *line = l->buf + l->start;
            l->start = l->end;
            while (n > 0 && (*line)[n - 1] == '\r')
                n--;
            *len = n;
            return 1;
        }
        size_t before = l->start;
        int rc = lines_fill(l, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            l->eof = 1;
        scan -= before;   /* lines_fill moved the data to the front */
    }
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* A gzip bundle made seekable, for the bundle index. */

/* write(2) all of n bytes; 0 or -1 with errno set. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * Opens the bundle for pread(): the file itself, or, when it starts with
 * gzip's magic bytes 1f 8b, its decompressed text in a temporary file
 * (under $TMPDIR, else /tmp), unlinked at once so it goes away with the fd.
 * A compressed stream cannot be read at an offset without decompressing
 * everything before it, and keeping the text in memory would grow with the
 * fleet; the temporary file keeps memory at one READ_CHUNK and costs the
 * uncompressed size on disk for the run.  Returns an fd or -1 (err set).
 */
static int open_seekable(const char *path, struct eng_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                    strerror(errno));
        return -1;
    }
    unsigned char magic[2];
    if (pread(fd, magic, 2, 0) != 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        return fd;
    gzFile z = gzdopen(fd, "rb");
    if (!z) {
        close(fd);
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return -1;
    }
    const char *dir = getenv("TMPDIR");
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/svcscore-bundle.XXXXXX",
             dir && dir[0] ? dir : "/tmp");
    int out = mkstemp(tmp);
    char *chunk = malloc(READ_CHUNK);
    int rc = ENG_OK;
    if (out < 0)
        rc = eng_err_set(err, ENG_EIO, "cannot create a temporary file for "
                         "'%s' in '%s': %s", path, dir && dir[0] ? dir
                         : "/tmp", strerror(errno));
    else
        unlink(tmp);
    if (rc == ENG_OK && !chunk)
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
    gzbuffer(z, READ_CHUNK);
    while (rc == ENG_OK) {
        int n = gzread(z, chunk, READ_CHUNK);
        if (n < 0) {
            int zerr;
            const char *msg = gzerror(z, &zerr);
            rc = eng_err_set(err, ENG_EIO, "cannot read '%s': %s", path,
                             zerr == Z_ERRNO ? strerror(errno) : msg);
        } else if (n == 0) {
            if (truncated_gzip(z))
                rc = eng_err_set(err, ENG_EIO, "cannot read '%s': the gzip "
                                 "data ends early (a truncated file)", path);
            break;
        } else if (write_all(out, chunk, (size_t)n) != 0) {
            rc = eng_err_set(err, ENG_EIO, "cannot write the decompressed "
                             "'%s' to '%s': %s", path, tmp, strerror(errno));
        }
    }
    free(chunk);
    gzclose(z);
    /* the index reads the file from its start */
    if (rc == ENG_OK && lseek(out, 0, SEEK_SET) != 0)
        rc = eng_err_set(err, ENG_EIO, "cannot read back '%s': %s", tmp,
                         strerror(errno));
    if (rc < 0 && out >= 0) {
        close(out);
        out = -1;
    }
    return out;
}

/* ------------------------------------------------------------------ */
/* Bundle index: VIN -> where its line is, for list-driven runs. */

/* Where a VIN's line is; the VIN is the key of index.map. */
struct slot {
    off_t off;
    size_t len;                      /* SIZE_MAX: past the line cap */
};

struct index {
    struct vinmap *map;              /* VIN -> struct slot */
    int fd;
};

static int index_add(struct index *ix, const char *prefix, size_t plen,
                     off_t off, size_t len, size_t max,
                     struct eng_err *err)
{
    char vin[VEH_VIN_LEN + 16];
    if (!hist_peek_vin(prefix, plen, vin, sizeof(vin)) || !vin[0] ||
        strlen(vin) > VEH_VIN_LEN)
        return ENG_OK;
    int added;
    struct slot *sl = vinmap_put(ix->map, vin, &added, err);
    if (!sl)
        return err ? err->code : ENG_ENOMEM;
    if (!added)
        return ENG_OK;           /* the first line of a VIN wins */
    sl->off = off;
    sl->len = len > max ? SIZE_MAX : len;
    return ENG_OK;
}

/*
 * Reads the bundle once and remembers where each VIN's line starts.  Only
 * the first SALVAGE_BYTES of a line are looked at (the writer puts "vin"
 * first); lines without a readable VIN are left out: no vehicle-list row
 * can ask for them.
 */
static int index_build(struct index *ix, const char *path, size_t max,
                       struct eng_err *err)
{
    memset(ix, 0, sizeof(*ix));
    ix->map = vinmap_new(sizeof(struct slot), err);
    if (!ix->map)
        return err ? err->code : ENG_ENOMEM;
    ix->fd = open_seekable(path, err);
    if (ix->fd < 0)
        return err ? err->code : ENG_EIO;
    char *chunk = malloc(READ_CHUNK);
    char *prefix = malloc(SALVAGE_BYTES);
    int rc = chunk && prefix ? ENG_OK
                             : eng_err_set(err, ENG_ENOMEM, "out of memory");
    off_t pos = 0, line_off = 0;
    size_t plen = 0;
    while (rc == ENG_OK) {
        ssize_t n = read(ix->fd, chunk, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = eng_err_set(err, ENG_EIO, "cannot read '%s': %s", path,
                             strerror(errno));
            break;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n && rc == ENG_OK; i++) {
            if (chunk[i] != '\n') {
                if (plen < SALVAGE_BYTES)
                    prefix[plen++] = chunk[i];
                continue;
            }
            off_t end = pos + i;
            rc = index_add(ix, prefix, plen, line_off,
                           (size_t)(end - line_off), max, err);
            line_off = end + 1;
            plen = 0;
        }
        pos += n;
    }
    if (rc == ENG_OK && pos > line_off)
        rc = index_add(ix, prefix, plen, line_off, (size_t)(pos - line_off),
                       max, err);
    free(chunk);
    free(prefix);
    return rc;
}

static void index_free(struct index *ix)
{
    if (ix->fd > 0)
        close(ix->fd);
    vinmap_free(ix->map);
    memset(ix, 0, sizeof(*ix));
}

/* ------------------------------------------------------------------ */
/* The run: producer, workers, consumer. */

/* A list-driven item's vehicle: one allocation, strings after the struct. */
struct job {
    const char *vin;
    const char *vehicle_id;
    const char *policy_id;
    const char *make;
    int imperial;
    int powertrain;                  /* the list's column, enum ptrain */
    int model_year;                  /* the list's column, or 0 */
    char status[VEH_STATUS_LEN];
    long line;                       /* in the vehicle list */
    char warning[VEH_WARNING_LEN];   /* for the log: why, or a note */
};

static struct job *job_new(const struct veh_row *row)
{
    const char *src[4] = {row->vin, row->vehicle_id, row->policy_id,
                          row->make};
    size_t size = sizeof(struct job);
    for (int i = 0; i < 4; i++)
        size += strlen(src[i]) + 1;
    struct job *j = malloc(size);
    if (!j)
        return NULL;
    char *p = (char *)(j + 1);
    const char **dst[4] = {&j->vin, &j->vehicle_id, &j->policy_id,
                           &j->make};
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(src[i]) + 1;
        memcpy(p, src[i], n);
        *dst[i] = p;
        p += n;
    }
    j->imperial = strcmp(row->unit_system, "imperial") == 0;
    j->powertrain = row->powertrain;
    j->model_year = row->model_year;
    snprintf(j->status, sizeof(j->status), "%s", row->status);
    j->line = row->line;
    snprintf(j->warning, sizeof(j->warning), "%s", row->warning);
    return j;
}

struct worker_state {
    struct hist_entry entry;
    struct hist hist;
    struct store *store;             /* the worker's own read handle */
    struct feat_vec feat;
    struct buf log;
};

struct run {
    const struct batch_config *cfg;
    struct batch_stats *stats;
    struct lines lines;              /* bundle-driven runs */
    struct veh_reader *veh;          /* list-driven runs */
    struct veh_row row;
    struct index index;              /* list + bundle */
    int dir_mode;                    /* list + directory */
    struct store *store_iter;        /* store without a list: the VINs */
    long long store_after;
    struct out_file *out;
    struct worker_state *ws;
};

static int add_tagged(struct buf *in, char tag, const char *data, size_t n,
                      struct eng_err *err)
{
    int rc = buf_add(in, &tag, 1, err);
    if (rc == ENG_OK && n)
        rc = buf_add(in, data, n, err);
    return rc < 0 ? rc : 1;
}

static int produce_bundle(void *ud, struct buf *in, void **ctx,
                          struct eng_err *err)
{
    struct run *r = ud;
    *ctx = NULL;
    for (;;) {
        const char *line;
        size_t len;
        int too_long;
        int rc = lines_next(&r->lines, &line, &len, &too_long, err);
        if (rc <= 0)
            return rc;
        r->stats->bytes += len;
        if (!too_long && blank(line, len)) {
            r->stats->blank_lines++;
            continue;
        }
        return add_tagged(in, too_long ? TAG_TOOLONG : TAG_LINE, line, len,
                          err);
    }
}

/*
 * Appends TAG_BODY and the whole file dir/<name>.json to in.  Returns 1 when
 * added, 0 when there is no such file, 2 when the file is there but
 * unusable (j->status says why), or a fatal error.
 */
static int read_body(struct run *r, struct job *j, const char *name,
                     struct buf *in, struct eng_err *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.json", r->cfg->histories_path, name);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    struct stat sb;
    int rc = 2;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(j->status, sizeof(j->status), "error:INPUT:NOT_A_FILE");
    } else if ((size_t)sb.st_size > r->cfg->limits.max_body) {
        snprintf(j->status, sizeof(j->status), "error:LIMIT");
    } else {
        size_t start = in->len;
        size_t size = (size_t)sb.st_size;
        char *dst = buf_extend(in, 1 + size, err);
        if (!dst) {
            close(fd);
            return err ? err->code : ENG_ENOMEM;
        }
        dst[0] = TAG_BODY;
        size_t got = 0;
        while (got < size) {
            ssize_t n = read(fd, dst + 1 + got, size - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got == size) {
            r->stats->bytes += size;
            rc = 1;
        } else {
            in->len = start;     /* shrank or failed while being read */
            snprintf(j->status, sizeof(j->status), "error:INPUT:READ");
        }
    }
    close(fd);
    return rc;
}

/* Store without a list: every stored vehicle, in the store's order. */
static int produce_store(void *ud, struct buf *in, void **ctx,
                         struct eng_err *err)
{
    struct run *r = ud;
    char vin[64];
    int rc = store_next_vin(r->store_iter, &r->store_after, vin, err);
    if (rc <= 0)
        return rc;
    char none[1] = "";
    struct veh_row row = {.vin = vin, .vehicle_id = none, .policy_id = none,
                          .make = none, .unit_system = none};
    struct job *j = job_new(&row);
    if (!j)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    *ctx = j;
    return add_tagged(in, TAG_STORED, NULL, 0, err);
}

static int produce_listed(void *ud, struct buf *in, void **ctx,
                          struct eng_err *err)
{
    struct run *r = ud;
    int rc;
    do {
        rc = veh_next(r->veh, &r->row, err);
        if (rc <= 0)
            return rc;
    } while (!shard_keeps(r->cfg->shard, &r->row));
    struct job *j = job_new(&r->row);
    if (!j)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    *ctx = j;
    if (j->status[0])
        return add_tagged(in, TAG_STATUS, NULL, 0, err);
    if (r->cfg->store_path)
        return add_tagged(in, TAG_STORED, NULL, 0, err);
    if (r->dir_mode) {
        rc = read_body(r, j, j->vin, in, err);
        if (rc == 0 && j->vehicle_id[0])
            rc = read_body(r, j, j->vehicle_id, in, err);
        if (rc < 0 || rc == 1)
            return rc;
        if (rc == 0)
            snprintf(j->status, sizeof(j->status),
                     "error:INPUT:NO_HISTORY_FILE");
        return add_tagged(in, TAG_STATUS, NULL, 0, err);
    }
    const struct slot *sl = vinmap_get(r->index.map, j->vin);
    if (!sl || sl->len == SIZE_MAX) {
        snprintf(j->status, sizeof(j->status), "%s",
                 sl ? "error:LIMIT" : "error:INPUT:NOT_IN_BUNDLE");
        return add_tagged(in, TAG_STATUS, NULL, 0, err);
    }
    size_t start = in->len;
    char *dst = buf_extend(in, 1 + sl->len, err);
    if (!dst)
        return err ? err->code : ENG_ENOMEM;
    dst[0] = TAG_LINE;
    ssize_t got = pread(r->index.fd, dst + 1, sl->len, sl->off);
    if (got != (ssize_t)sl->len) {
        in->len = start;
        snprintf(j->status, sizeof(j->status), "error:INPUT:READ");
        return add_tagged(in, TAG_STATUS, NULL, 0, err);
    }
    /* the index kept the whole line: drop a CR before its newline */
    while (in->len > start + 1 && in->data[in->len - 1] == '\r')
        in->len--;
    r->stats->bytes += sl->len;
    return 1;
}

static void free_job(void *ud, void *ctx)
{
    (void)ud;
    free(ctx);
}

/* Status of a failed parse: error:PARSE or error:LIMIT. */
static const char *parse_status(int rc)
{
    return rc == ENG_ELIMIT ? "error:LIMIT" : "error:PARSE";
}

/* What a row tells the consumer besides its text (struct pipe_out). */
enum row_kind { ROW_OTHER, ROW_OK, ROW_NO_HISTORY, ROW_ERROR };
enum row_count { COUNT_BAD_RECORDS, COUNT_BAD_FIELDS };
/*
 * The powertrain, first found wins: the vehicle list's column, the bundle
 * line's (as the fetch learnt it), an electric-only maker's WMI.  Never the
 * history: a history without oil changes may be a neglected engine.
 */
static void resolve_ptrain(const struct batch_config *cfg,
                           const struct job *j, const struct hist_entry *e,
                           const char *vin, int *pt, int *src)
{
    *pt = PTRAIN_UNKNOWN;
    *src = PTRAIN_SRC_NONE;
    if (j && j->powertrain != PTRAIN_UNKNOWN) {
        *pt = j->powertrain;
        *src = PTRAIN_SRC_LIST;
    } else if (e && e->powertrain != PTRAIN_UNKNOWN) {
        *pt = e->powertrain;
        *src = e->powertrain_src ? e->powertrain_src : PTRAIN_SRC_API;
    } else if ((*pt = task_ptrain_of_vin(cfg->sched, vin)) !=
               PTRAIN_UNKNOWN) {
        *src = PTRAIN_SRC_WMI;
    }
}

static int work_item(void *ud, int worker, const struct pipe_item *it,
                     struct pipe_out *out, struct eng_err *err)
{
    struct run *r = ud;
    const struct batch_config *cfg = r->cfg;
    struct worker_state *w = &r->ws[worker];
    struct hist_entry *e = &w->entry;
    const struct job *j = it->ctx;
    const char *payload = it->in + 1;
    size_t len = it->in_len - 1;
    struct eng_err perr = {0};
    const struct hist *h = &w->hist;
    const char *status = "ok";
    int rc = ENG_OK;
    struct hist stored = {0};
    const char *stored_id = NULL;
    /* what the store knows of the vehicle besides its records, as a
       bundle line would carry it */
    struct hist_entry stored_line;
    memset(&stored_line, 0, sizeof(stored_line));
    stored_line.powertrain = PTRAIN_UNKNOWN;

    buf_reset(&w->log);
    hist_clear(&w->hist);
    hist_entry_clear(e);
    switch (it->in[0]) {
    case TAG_LINE:
        rc = hist_parse_line(e, payload, len, &cfg->limits, cfg->tasks,
                             &perr);
        h = &e->hist;
        if (rc == ENG_OK && e->status && strcmp(e->status, "ok") != 0 &&
            strcmp(e->status, "no_history") != 0)
            status = e->status;
        break;
    case TAG_BODY:
        rc = hist_parse(&w->hist, payload, len, j->imperial, &cfg->limits,
                        cfg->tasks, &perr);
        break;
    case TAG_TOOLONG:
        hist_parse_line(e, payload, len, &cfg->limits, NULL, NULL);
        rc = eng_err_set(&perr, ENG_ELIMIT, "bundle line is above the cap "
                         "of %zu bytes", cfg->limits.max_body);
        break;
    case TAG_STATUS:
        status = j->status;
        break;
    case TAG_STORED: {
        /* read here, on the worker's handle, so reads run in parallel */
        struct store_hist sh;
        rc = store_get(w->store, j->vin, 0, &sh, err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            status = "error:INPUT:NOT_IN_BUNDLE";
        } else {
            /* a view of the handle's records, valid until its next read */
            stored.rec = (struct hist_rec *)sh.rec;
            stored.n = sh.n;
            stored_id = sh.vehicle_id;
            if (sh.powertrain && sh.powertrain[0]) {
                stored_line.powertrain = ptrain_parse(sh.powertrain);
                stored_line.powertrain_src =
                    ptrain_src_parse(sh.powertrain_source);
            }
            stored_line.model_year = sh.model_year;
            if (strcmp(sh.status, "ok") != 0)
                status = sh.status;
        }
        rc = ENG_OK;
        h = &stored;
        break;
    }
    default:
        return eng_err_set(err, ENG_EDATA, "unknown item tag %d", it->in[0]);
    }
    const char *vin = j ? j->vin : e->vin ? e->vin : "";
    if (rc < 0) {
        status = parse_status(rc);
        buf_printf(&w->log, NULL, "row %zu: vin '%s': %s", it->index + 1,
                   vin, perr.msg);
    } else if (h->bad_fields || h->bad_records) {
        buf_printf(&w->log, NULL, "row %zu: vin '%s': %zu fields and %zu "
                   "records dropped (first: %s)", it->index + 1, vin,
                   h->bad_fields, h->bad_records,
                   h->first_bad[0] ? h->first_bad : "a record that is not "
                   "an object");
    }
    /* the vehicle list's reason for the row's status, or its warning */
    if (j && j->warning[0] && w->log.len)
        buf_printf(&w->log, NULL, "; line %ld: %s", j->line, j->warning);
    else if (j && j->warning[0])
        buf_printf(&w->log, NULL, "row %zu: vin '%s': line %ld: %s",
                   it->index + 1, vin, j->line, j->warning);

    struct batch_vehicle v = {
        .index = it->index,
        .vin = vin,
        .vehicle_id = j && j->vehicle_id[0] ? j->vehicle_id
                      : stored_id ? stored_id
                      : e->vehicle_id ? e->vehicle_id : "",
        .policy_id = j ? j->policy_id : "",
        .make = j && j->make[0] ? j->make : NULL,
        .status = status,
        .hist = h,
        .feat = NULL,
    };
    if (strcmp(status, "ok") == 0) {
        if (h->n == 0)
            v.status = "no_history";
        if (!v.make)
            v.make = task_make_of_vin(cfg->sched, v.vin);
        int pt, src;
        const struct hist_entry *line = it->in[0] == TAG_LINE ? e
                                        : it->in[0] == TAG_STORED
                                        ? &stored_line : NULL;
        resolve_ptrain(cfg, j, line, v.vin, &pt, &src);
        const struct task_sched *sc = task_sched_find(cfg->sched, v.make,
                                                      pt);
        int ay, am, ad;
        eng_civil_from_days(cfg->as_of, &ay, &am, &ad);
        int my = j && j->model_year ? j->model_year
                 : line && line->model_year ? line->model_year
                 : veh_vin_model_year(v.vin, ay + 1);
        /* a model year's vehicles are sold around its first of January */
        long start = my ? eng_days_from_civil(my, 1, 1) : HIST_NO_DAY;
        rc = feat_compute(h, sc, cfg->as_of, start, pt, &w->feat, err);
        if (rc < 0)
            return rc;
        w->feat.ptrain_src = src;
        v.feat = &w->feat;
    }
    rc = cfg->row(cfg->ud, worker, &v, out->data, err);
    if (rc < 0)
        return rc;
    out->status = strcmp(v.status, "ok") == 0 ? ROW_OK
                  : strcmp(v.status, "no_history") == 0 ? ROW_NO_HISTORY
                  : batch_is_error(v.status) ? ROW_ERROR : ROW_OTHER;
    snprintf(out->label, sizeof(out->label), "%s", v.status);
    out->count[COUNT_BAD_RECORDS] = h->bad_records;
    out->count[COUNT_BAD_FIELDS] = h->bad_fields;
    return w->log.len ? buf_add(out->note, w->log.data, w->log.len, err)
                      : ENG_OK;
}

static int consume_item(void *ud, const struct pipe_item *it,
                        const struct pipe_done *d, struct eng_err *err)
{
    (void)it;
    struct run *r = ud;
    int rc = out_write(r->out, d->data, d->len, err);
    if (rc == ENG_OK && r->cfg->row_out)
        rc = r->cfg->row_out(r->cfg->ud, it->index, d->data, d->len, err);
    if (rc < 0)
        return rc;
    struct batch_stats *st = r->stats;
    st->rows++;
    if (d->status == ROW_OK)
        st->ok++;
    else if (d->status == ROW_NO_HISTORY)
        st->no_history++;
    else if (d->status == ROW_ERROR)
        st->errors++;
    st->bad_records += d->count[COUNT_BAD_RECORDS];
    st->bad_fields += d->count[COUNT_BAD_FIELDS];
    if (d->note_len && r->cfg->log)
        r->cfg->log(r->cfg->ud, d->note);
    if (r->cfg->progress)
        r->cfg->progress(r->cfg->ud, st, d->label);
    return ENG_OK;
}



int batch_is_error(const char *status)
{
    return strncmp(status, "error", 5) == 0;
}

static void free_workers(struct run *r, int jobs)
{
    if (!r->ws)
        return;
    for (int i = 0; i < jobs; i++) {
        hist_entry_release(&r->ws[i].entry);
        hist_release(&r->ws[i].hist);
        store_close(r->ws[i].store);
        buf_release(&r->ws[i].log);
    }
    free(r->ws);
    r->ws = NULL;
}

/*
 * One read-only handle per worker, and one for the list of VINs when there
 * is no vehicle list, each holding a read snapshot for the whole run.
 */
static int open_stores(struct run *r, struct eng_err *err)
{
    const struct batch_config *cfg = r->cfg;
    for (int i = 0; i <= cfg->jobs; i++) {
        if (i == cfg->jobs && cfg->vehicles_path)
            break;
        struct store *s = store_open(cfg->store_path, STORE_READONLY, err);
        if (!s)
            return err ? err->code : ENG_EIO;
        if (i < cfg->jobs)
            r->ws[i].store = s;
        else
            r->store_iter = s;
        int rc = store_read_begin(s, err);
        if (rc < 0)
            return rc;
    }
    return ENG_OK;
}

int batch_run(const struct batch_config *cfg, struct batch_stats *stats,
              struct eng_err *err)
{
    struct run r = {0};
    r.cfg = cfg;
    r.stats = stats;
    memset(stats, 0, sizeof(*stats));
    if (!cfg->sched)
        return eng_err_set(err, ENG_EUSAGE, "no maintenance schedules");
    r.ws = calloc((size_t)cfg->jobs, sizeof(*r.ws));
    if (!r.ws)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (int i = 0; i < cfg->jobs; i++) {
        hist_entry_init(&r.ws[i].entry);
        hist_init(&r.ws[i].hist);
        buf_init(&r.ws[i].log, 4096);
    }
    struct pipe_ops ops = {
        .produce = produce_bundle,
        .work = work_item,
        .consume = consume_item,
        .free_ctx = free_job,
    };
    size_t max_line = cfg->limits.max_body + 65536;
    int rc;
    if (cfg->store_path) {
        rc = open_stores(&r, err);
        if (rc == ENG_OK && !cfg->vehicles_path) {
            ops.produce = produce_store;
        } else if (rc == ENG_OK) {
            ops.produce = produce_listed;
            r.veh = veh_open(cfg->vehicles_path, err);
            rc = r.veh ? ENG_OK : err ? err->code : ENG_EIO;
        }
    } else if (!cfg->vehicles_path) {
        rc = lines_open(&r.lines, cfg->histories_path, max_line, err);
    } else {
        struct stat sb;
        if (stat(cfg->histories_path, &sb) != 0) {
            rc = eng_err_set(err, ENG_EIO, "cannot open '%s': %s",
                             cfg->histories_path, strerror(errno));
            goto out;
        }
        r.dir_mode = S_ISDIR(sb.st_mode);
        ops.produce = produce_listed;
        r.veh = veh_open(cfg->vehicles_path, err);
        rc = r.veh ? ENG_OK : err ? err->code : ENG_EIO;
        if (rc == ENG_OK && !r.dir_mode)
            rc = index_build(&r.index, cfg->histories_path, max_line, err);
    }
    if (rc < 0)
        goto out;
    r.out = out_open(cfg->out_path, err);
    if (!r.out) {
        rc = err ? err->code : ENG_EIO;
        goto out;
    }
    struct buf head;
    buf_init(&head, 1 << 20);
    rc = cfg->header(cfg->ud, &head, err);
    if (rc == ENG_OK)
        rc = out_write(r.out, head.data, head.len, err);
    buf_release(&head);
    if (rc == ENG_OK)
        rc = pipe_run(&ops, &r, cfg->jobs, err);
    if (rc == ENG_OK) {
        rc = out_commit(r.out, err);
        r.out = NULL;
    }
out:
    out_abort(r.out);
    lines_close(&r.lines);
    veh_row_release(&r.row);
    veh_close(r.veh);
    index_free(&r.index);
    store_close(r.store_iter);
    free_workers(&r, cfg->jobs);
    return rc;
}
