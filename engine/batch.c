/* batch — histories to rows over the ordered parallel pipeline. */
#include "batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat.h"
#include "out.h"
#include "pipe.h"
#include "task.h"

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
    TAG_STATUS = 'S'      /* no history to read: the job carries a status */
};

/* ------------------------------------------------------------------ */
/* Line reader: whole lines of any length up to a cap, CR LF stripped. */

struct lines {
    FILE *f;
    const char *path;
    char *buf;
    size_t cap, start, end;
    size_t max;            /* longest line kept whole */
    int eof;
};

static int lines_open(struct lines *l, const char *path, size_t max,
                      struct eng_err *err)
{
    memset(l, 0, sizeof(*l));
    l->path = path;
    l->max = max;
    l->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!l->f)
        return eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                           strerror(errno));
    l->cap = READ_CHUNK;
    l->buf = malloc(l->cap);
    if (!l->buf) {
        if (l->f != stdin)
            fclose(l->f);
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    }
    return ENG_OK;
}

static void lines_close(struct lines *l)
{
    if (l->f && l->f != stdin)
        fclose(l->f);
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
    size_t n = fread(l->buf + l->end, 1, l->cap - l->end, l->f);
    if (n == 0 && ferror(l->f))
        return eng_err_set(err, ENG_EIO, "cannot read '%s': %s", l->path,
                           strerror(errno));
    l->end += n;
    return (int)(n > 0);
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
/* The run: producer, workers, consumer. */

struct worker_state {
    struct hist_entry entry;
    struct hist hist;
    struct feat_vec feat;
    struct buf log;
};

struct run {
    const struct batch_config *cfg;
    struct batch_stats *stats;
    struct lines lines;
    struct out_file *out;
    struct worker_state *ws;
};

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
        char tag = too_long ? TAG_TOOLONG : TAG_LINE;
        rc = buf_add(in, &tag, 1, err);
        if (rc == ENG_OK)
            rc = buf_add(in, line, len, err);
        return rc < 0 ? rc : 1;
    }
}

/* Status of a failed parse: error:PARSE or error:LIMIT. */
static const char *parse_status(int rc)
{
    return rc == ENG_ELIMIT ? "error:LIMIT" : "error:PARSE";
}

static int work_item(void *ud, int worker, const struct pipe_item *it,
                     struct buf *out, struct eng_err *err)
{
    struct run *r = ud;
    const struct batch_config *cfg = r->cfg;
    struct worker_state *w = &r->ws[worker];
    struct hist_entry *e = &w->entry;
    const char *payload = it->in + 1;
    size_t len = it->in_len - 1;
    struct eng_err perr = {0};
    const struct hist *h = &w->hist;
    const char *status = "ok";

    buf_reset(&w->log);
    hist_clear(&w->hist);
    switch (it->in[0]) {
    case TAG_LINE: {
        int rc = hist_parse_line(e, payload, len, &cfg->limits, cfg->tasks,
                                 &perr);
        h = &e->hist;
        if (rc < 0) {
            status = parse_status(rc);
            buf_printf(&w->log, NULL, "row %zu: vin '%s': %s", it->index + 1,
                       e->vin ? e->vin : "", perr.msg);
        } else if (e->status && strcmp(e->status, "ok") != 0 &&
                   strcmp(e->status, "no_history") != 0) {
            status = e->status;
        }
        break;
    }
    case TAG_TOOLONG: {
        hist_parse_line(e, payload, len, &cfg->limits, NULL, NULL);
        h = &e->hist;
        status = "error:LIMIT";
        buf_printf(&w->log, NULL, "row %zu: vin '%s': bundle line is above "
                   "the cap of %zu bytes", it->index + 1,
                   e->vin ? e->vin : "", cfg->limits.max_body);
        break;
    }
    default:
        return eng_err_set(err, ENG_EDATA, "unknown item tag %d", it->in[0]);
    }

    struct batch_vehicle v = {
        .index = it->index,
        .vin = e->vin ? e->vin : "",
        .vehicle_id = e->vehicle_id ? e->vehicle_id : "",
        .policy_id = "",
        .make = NULL,
        .status = status,
        .hist = h,
        .feat = NULL,
    };
    if (strcmp(status, "ok") == 0) {
        if (h->n == 0)
            v.status = "no_history";
        v.make = cfg->sched ? task_make_of_vin(cfg->sched, v.vin) : NULL;
        const struct task_sched *sc = task_sched_for(cfg->sched, v.make);
        int rc = feat_compute(h, sc, cfg->as_of, &w->feat, err);
        if (rc < 0)
            return rc;
        v.feat = &w->feat;
    }
    int rc = cfg->row(cfg->ud, worker, &v, out, err);
    if (rc < 0)
        return rc;
    /*
     * Behind the row, after a NUL, ride what the consumer counts and logs:
     * "status<TAB>bad_records<TAB>bad_fields<TAB>log text" and a NUL.
     */
    rc = buf_printf(out, err, "%c%s\t%zu\t%zu\t", '\0', v.status,
                    h->bad_records, h->bad_fields);
    if (rc == ENG_OK && w->log.len)
        rc = buf_add(out, w->log.data, w->log.len, err);
    return rc == ENG_OK ? buf_add(out, "", 1, err) : rc;
}

static int consume_item(void *ud, const struct pipe_item *it, const char *out,
                        size_t len, struct eng_err *err)
{
    (void)it;
    struct run *r = ud;
    size_t row_len = strnlen(out, len);
    int rc = out_write(r->out, out, row_len, err);
    if (rc < 0)
        return rc;
    struct batch_stats *st = r->stats;
    st->rows++;
    const char *status = out + row_len + 1;
    const char *tab = memchr(status, '\t', len - row_len - 1);
    if (!tab)
        return ENG_OK;
    if (strncmp(status, "ok\t", 3) == 0)
        st->ok++;
    else if (strncmp(status, "no_history\t", 11) == 0)
        st->no_history++;
    else if (batch_is_error(status))
        st->errors++;
    char *end;
    st->bad_records += strtoul(tab + 1, &end, 10);
    st->bad_fields += strtoul(end + 1, &end, 10);
    /* the trailer ends with a NUL inside len, so the log is a C string */
    if (*end == '\t' && end[1] && r->cfg->log)
        r->cfg->log(r->cfg->ud, end + 1);
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
        buf_release(&r->ws[i].log);
    }
    free(r->ws);
    r->ws = NULL;
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
        .free_ctx = NULL,
    };
    int rc = lines_open(&r.lines, cfg->histories_path,
                        cfg->limits.max_body + 65536, err);
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
    free_workers(&r, cfg->jobs);
    return rc;
}
