/* runsum — what one run did, as plain data (runsum.h). */
#include "runsum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

void runsum_acc_init(struct runsum_acc *a)
{
    memset(a, 0, sizeof(*a));
}

void runsum_rate_init(struct runsum_rate *r)
{
    memset(r, 0, sizeof(*r));
}

void runsum_rate_sample(struct runsum_rate *r, double t,
                        unsigned long requests)
{
    if (r->step == 0) {
        r->step = 1;
        r->t0 = r->last_t = t;
        r->last_requests = requests;
        return;
    }
    /* one window at a time: requests between samples spread evenly */
    while (t - r->last_t >= r->step) {
        double span = t - r->last_t;
        double got = requests > r->last_requests
                     ? (double)(requests - r->last_requests) : 0;
        double in_window = got * r->step / span;
        if (r->n == RUNSUM_MAX_RATE) {
            for (size_t i = 0; i < RUNSUM_MAX_RATE / 2; i++)
                r->rate[i] = (r->rate[2 * i] + r->rate[2 * i + 1]) / 2;
            r->n = RUNSUM_MAX_RATE / 2;
            r->step *= 2;
            continue;
        }
        r->rate[r->n++] = in_window / r->step;
        r->last_t += r->step;
        r->last_requests += (unsigned long)(in_window + 0.5);
        if (r->last_requests > requests)
            r->last_requests = requests;
    }
}

void runsum_init(struct runsum *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < 5; i++)
        s->band_expected[i] = NAN;
}

/* The slot of name in list, added when there is room; NULL when full. */
static struct runsum_count *slot(struct runsum_count *list, size_t *n,
                                 size_t max, const char *name, size_t len)
{
    if (len >= RUNSUM_NAME_LEN)
        len = RUNSUM_NAME_LEN - 1;
    for (size_t i = 0; i < *n; i++)
        if (strncmp(list[i].name, name, len) == 0
            && list[i].name[len] == '\0')
            return &list[i];
    if (*n == max)
        return NULL;
    struct runsum_count *c = &list[(*n)++];
    memcpy(c->name, name, len);
    c->name[len] = '\0';
    c->example[0] = '\0';
    c->n = 0;
    return c;
}

void runsum_acc_row(struct runsum_acc *a, const char *status, int score,
                    char band, const char *const *reasons, int n_reasons)
{
    a->rows++;
    if (strcmp(status, "no_history") == 0) {
        a->no_history++;
        return;
    }
    if (strcmp(status, "ok") != 0) {
        a->errors++;
        struct runsum_count *c = slot(a->kinds, &a->n_kinds,
                                      RUNSUM_MAX_KINDS, status,
                                      strlen(status));
        if (c)
            c->n++;
        else
            a->other_errors++;
        return;
    }
    a->ok++;
    if (score >= 0 && score <= RUNSUM_MAX_SCORE)
        a->scores[score]++;
    if (band >= 'A' && band <= 'E')
        a->bands[band - 'A']++;
    for (int i = 0; i < n_reasons; i++) {
        const char *t = reasons[i];
        if (!t[0])
            continue;
        a->reasons_total++;
        struct runsum_count *c = slot(a->reasons, &a->n_reasons,
                                      RUNSUM_MAX_REASONS, t,
                                      strcspn(t, " "));
        if (!c)
            continue;
        /* the smallest text as the example: the same whatever the order
           rows were counted in */
        if (!c->example[0] || strcmp(t, c->example) < 0)
            snprintf(c->example, sizeof(c->example), "%s", t);
        c->n++;
    }
}

static void merge_list(struct runsum_count *a, size_t *na,
                       const struct runsum_count *b, size_t nb, size_t max,
                       size_t *lost)
{
    for (size_t i = 0; i < nb; i++) {
        struct runsum_count *c = slot(a, na, max, b[i].name,
                                      strlen(b[i].name));
        if (!c) {
            if (lost)
                *lost += b[i].n;
            continue;
        }
        if (!c->example[0] || strcmp(b[i].example, c->example) < 0)
            memcpy(c->example, b[i].example, sizeof(c->example));
        c->n += b[i].n;
    }
}

void runsum_merge(struct runsum_acc *a, const struct runsum_acc *b)
{
    a->rows += b->rows;
    a->ok += b->ok;
    a->no_history += b->no_history;
    a->errors += b->errors;
    for (int i = 0; i <= RUNSUM_MAX_SCORE; i++)
        a->scores[i] += b->scores[i];
    for (int i = 0; i < 5; i++)
        a->bands[i] += b->bands[i];
    a->other_errors += b->other_errors;
    merge_list(a->kinds, &a->n_kinds, b->kinds, b->n_kinds,
               RUNSUM_MAX_KINDS, &a->other_errors);
    merge_list(a->reasons, &a->n_reasons, b->reasons, b->n_reasons,
               RUNSUM_MAX_REASONS, NULL);
    a->reasons_total += b->reasons_total;
}

static int by_count(const void *pa, const void *pb)
{
    const struct runsum_count *a = pa, *b = pb;
    if (a->n != b->n)
        return a->n < b->n ? 1 : -1;
    return strcmp(a->name, b->name);
}

void runsum_sort(struct runsum_acc *a)
{
    qsort(a->kinds, a->n_kinds, sizeof(a->kinds[0]), by_count);
    qsort(a->reasons, a->n_reasons, sizeof(a->reasons[0]), by_count);
}

void runsum_input(struct runsum_input *in, const char *role,
                  const char *path)
{
    memset(in, 0, sizeof(*in));
    in->role = role;
    in->path = path;
    in->size = -1;
    in->method = "size+mtime";
    snprintf(in->fingerprint, sizeof(in->fingerprint), "-");
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return;
    in->size = (long long)st.st_size;
    in->mtime = (long long)st.st_mtime;
    unsigned long long h = ENG_FNV_BASIS;
    FILE *f = NULL;
    if (S_ISREG(st.st_mode) && in->size <= RUNSUM_HASH_MAX)
        f = fopen(path, "rb");
    if (f) {
        char b[65536];
        size_t n;
        while ((n = fread(b, 1, sizeof(b), f)) > 0)
            h = eng_fnv(h, b, n);
        int bad = ferror(f);
        fclose(f);
        if (!bad) {
            in->method = "content";
            snprintf(in->fingerprint, sizeof(in->fingerprint), "%016llx", h);
            return;
        }
        h = ENG_FNV_BASIS;
    }
    h = eng_fnv(h, &in->size, sizeof(in->size));
    h = eng_fnv(h, &in->mtime, sizeof(in->mtime));
    snprintf(in->fingerprint, sizeof(in->fingerprint), "%016llx", h);
}

void runsum_time(long long t, char *out)
{
    long days = (long)(t / 86400);
    long s = (long)(t % 86400);
    if (s < 0) {
        s += 86400;
        days--;
    }
    int y, m, d;
    eng_civil_from_days(days, &y, &m, &d);
    char t2[48];
    snprintf(t2, sizeof(t2), "%04d-%02d-%02dT%02d:%02d:%02dZ",
             (y % 10000 + 10000) % 10000, (m % 13 + 13) % 13,
             (d % 32 + 32) % 32, (int)(s / 3600), (int)(s / 60 % 60),
             (int)(s % 60));
    memcpy(out, t2, 20);
    out[20] = '\0';
}

/*
 * A bundle line starts {"index":N,"vin":"..","vehicle_id":"..",
 * "unit_system":"..","fetched_at":"..","status":"..": the values before
 * it are escaped JSON strings, so the first ,"status":" is the line's own.
 */
int runsum_scan_bundle(struct runsum_acc *a, const char *path,
                       struct eng_err *err)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return eng_err_set(err, ENG_EIO, "cannot read '%s'", path);
    static const char key[] = ",\"status\":\"";
    char line[8192];
    int fresh = 1;   /* line[] starts a bundle line */
    while (gzgets(f, line, sizeof(line))) {
        size_t len = strlen(line);
        int ends = len && line[len - 1] == '\n';
        if (fresh && line[0] == '{') {
            char *p = strstr(line, key);
            if (p) {
                p += sizeof(key) - 1;
                char *q = strchr(p, '"');
                if (q) {
                    *q = '\0';
                    runsum_acc_row(a, p, -1, 0, NULL, 0);
                }
            }
        }
        fresh = ends;
    }
    int bad = !gzeof(f);
    gzclose(f);
    if (bad)
        return eng_err_set(err, ENG_EIO, "cannot read '%s'", path);
    return ENG_OK;
}
