/* tok — token pairs shared by a user's vehicles, and the rotation file. */
#include "tok.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

/* A store line longer than this is not ours: it is skipped unread. */
#define TOK_MAX_LINE 65536

/* 10000-01-01T00:00:00Z: the first time tok_format_time() cannot write. */
#define TOK_TIME_END 253402300800LL

/* Compact on open when lines exceed twice the pairs by this much. */
#define TOK_COMPACT_SLACK 64

struct tok_pair {
    char *key;            /* refresh token of the first registration */
    char *access;         /* NULL when unknown */
    char *refresh;        /* NULL when the pair cannot be refreshed */
    long long expires_at; /* Unix seconds, 0 unknown */
    enum tok_state state; /* READY, STALE, REFRESHING or FAILED */
    unsigned gen;
    int in_file;          /* a rotation of this pair is in the file */
    char fp[12];
    char *failure;
    void *user;
    struct tok_pair *next;
};

/*
 * Open addressing, linear probing, no deletion.  Each token ever seen for a
 * pair (its key, every refresh token it rotated through) maps to the pair,
 * which is what makes a dead token from an old vehicle list find the newest
 * pair of its chain.
 */
struct slot {
    char *token;
    uint64_t hash;
    struct tok_pair *pair;
};

struct tok_store {
    int fd;
    char *path;
    struct slot *tab;
    size_t cap;
    size_t used;
    struct tok_pair *pairs;
    struct tok_stats stats;
    double lock_timeout;  /* seconds to wait for another process's lock */
    void (*waiting)(void *ud, const char *line);
    void *waiting_ud;
};

static uint64_t fnv1a(const char *s)
{
    return eng_fnv(ENG_FNV_BASIS, s, strlen(s));
}

void tok_fingerprint(const char *secret, char *out)
{
    uint64_t h = fnv1a(secret ? secret : "");
    snprintf(out, 12, "tk-%08x", (unsigned)((h >> 32) ^ (h & 0xffffffffu)));
}

/* Overwrites a secret before its memory goes back to the allocator. */
static void wipe_free(char *s)
{
    if (!s)
        return;
    eng_wipe(s, strlen(s));
    free(s);
}

int tok_pair_header_safe(const struct tok_pair *p)
{
    return (!p->access || tok_header_safe(p->access))
           && (!p->refresh || tok_header_safe(p->refresh));
}

int tok_header_safe(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x21 || *p > 0x7e)
            return 0;
    }
    return 1;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static struct slot *find_slot(const struct tok_store *st, const char *token,
                              uint64_t h)
{
    size_t i = (size_t)h & (st->cap - 1);
    while (st->tab[i].token) {
        if (st->tab[i].hash == h && strcmp(st->tab[i].token, token) == 0)
            return &st->tab[i];
        i = (i + 1) & (st->cap - 1);
    }
    return &st->tab[i];
}

static struct tok_pair *lookup(const struct tok_store *st, const char *token)
{
    if (!token || !*token || st->cap == 0)
        return NULL;
    return find_slot(st, token, fnv1a(token))->pair;
}

static int grow(struct tok_store *st)
{
    size_t ncap = st->cap ? st->cap * 2 : 64;
    struct slot *ntab = calloc(ncap, sizeof(*ntab));
    if (!ntab)
        return ENG_ENOMEM;
    struct slot *old = st->tab;
    size_t ocap = st->cap;
    st->tab = ntab;
    st->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].token)
            *find_slot(st, old[i].token, old[i].hash) = old[i];
    }
    free(old);
    return ENG_OK;
}

/* Maps token to p (re-pointing it if it named another pair). */
static int map_token(struct tok_store *st, const char *token,
                     struct tok_pair *p)
{
    if (!token || !*token)
        return ENG_OK;
    if ((st->used + 1) * 4 > st->cap * 3 && grow(st) < 0)
        return ENG_ENOMEM;
    uint64_t h = fnv1a(token);
    struct slot *s = find_slot(st, token, h);
    if (s->token) {
        s->pair = p;
        return ENG_OK;
    }
    char *copy = strdup(token);
    if (!copy)
        return ENG_ENOMEM;
    s->token = copy;
    s->hash = h;
    s->pair = p;
    st->used++;
    return ENG_OK;
}

static void pair_free(struct tok_pair *p)
{
    if (!p)
        return;
    wipe_free(p->key);
    wipe_free(p->access);
    wipe_free(p->refresh);
    free(p->failure);
    free(p);
}

static struct tok_pair *pair_new(const char *key, const char *access,
                                 const char *refresh, long long expires_at)
{
    struct tok_pair *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->key = strdup(key);
    p->access = dup_or_null(access);
    p->refresh = dup_or_null(refresh);
    if (!p->key || (access && *access && !p->access)
        || (refresh && *refresh && !p->refresh)) {
        pair_free(p);
        return NULL;
    }
    p->expires_at = expires_at;
    p->state = TOK_READY;
    tok_fingerprint(key, p->fp);
    return p;
}

/* Replaces the pair's tokens; on ENG_ENOMEM the pair is unchanged. */
static int pair_set(struct tok_pair *p, const char *access,
                    const char *refresh, long long expires_at)
{
    char *a = dup_or_null(access);
    char *r = refresh && *refresh ? strdup(refresh) : NULL;
    if ((access && *access && !a) || (refresh && *refresh && !r)) {
        wipe_free(a);
        wipe_free(r);
        return ENG_ENOMEM;
    }
    wipe_free(p->access);
    p->access = a;
    if (r) {
        wipe_free(p->refresh);
        p->refresh = r;
    }
    p->expires_at = expires_at;
    return ENG_OK;
}

int tok_parse_time(const char *s, long long *out, struct eng_err *err)
{
    if (!s || !*s)
        return eng_err_set(err, ENG_EDATA, "missing time");
    size_t n = strlen(s);
    if (strspn(s, "0123456789") == n && n <= 12) {
        long long t = strtoll(s, NULL, 10);
        if (t >= TOK_TIME_END)
            return eng_err_set(err, ENG_EDATA, "time after year 9999: "
                               "'%.40s'", s);
        *out = t;
        return ENG_OK;
    }
    if (n < 10 || eng_parse_instant(s, 1970, 9999, out, NULL) < 0)
        return eng_err_set(err, ENG_EDATA, "not a time: '%.40s'", s);
    return ENG_OK;
}

void tok_format_time(long long t, char *out)
{
    long long day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    long long rem = t - day * 86400;
    eng_format_day((long)day, out);
    unsigned r = (unsigned)rem % 86400u;
    snprintf(out + 10, 11, "T%02u:%02u:%02uZ", r / 3600u % 24u,
             r / 60u % 60u, r % 60u);
}

/* ---- the file ---- */

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return -1;
    int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    close(dfd);
    return rc;
}

static int lock_fd(int fd)
{
    struct flock fl;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    return fcntl(fd, F_SETLK, &fl);
}

/* One rotation as a JSON line; returns a new string or NULL (no memory). */
static char *format_line(const struct tok_pair *p, long long now)
{
    char exp[21] = "";
    char at[21] = "";
    if (now > 0)
        tok_format_time(now, at);
    if (p->expires_at > 0)
        tok_format_time(p->expires_at, exp);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char *text = NULL;
    if (!cJSON_AddStringToObject(o, "key", p->key)
        || !cJSON_AddStringToObject(o, "access_token",
                                    p->access ? p->access : "")
        || !cJSON_AddStringToObject(o, "refresh_token",
                                    p->refresh ? p->refresh : "")
        || !cJSON_AddStringToObject(o, "expires_at", exp)
        || (*at && !cJSON_AddStringToObject(o, "rotated_at", at)))
        goto out;
    text = cJSON_PrintUnformatted(o);
out:
    cJSON_Delete(o);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    if (line) {
        memcpy(line, text, n);
        line[n] = '\n';
        line[n + 1] = '\0';
    }
    wipe_free(text);
    return line;
}

static const char *json_string(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/*
 * Applies one line.  Returns 1 when it was a rotation record, 0 when it was
 * not (skipped), ENG_ENOMEM.
 */
static int apply_line(struct tok_store *st, const char *line, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    int rc = 0;
    if (!cJSON_IsObject(o))
        goto out;
    const char *key = json_string(o, "key");
    const char *access = json_string(o, "access_token");
    const char *refresh = json_string(o, "refresh_token");
    if (!key || !access || !refresh)
        goto out;
    long long exp = 0;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "expires_at");
    if (cJSON_IsString(e) && e->valuestring[0]
        && tok_parse_time(e->valuestring, &exp, NULL) < 0)
        goto out;
    if (cJSON_IsNumber(e)) {
        /* the range tok_parse_time() reads; a cast beyond it is undefined */
        if (!(e->valuedouble >= 0 && e->valuedouble < TOK_TIME_END))
            goto out;
        exp = (long long)e->valuedouble;
    }

    struct tok_pair *p = lookup(st, key);
    if (p) {
        rc = pair_set(p, access, refresh, exp);
    } else {
        p = pair_new(key, access, refresh, exp);
        if (!p) {
            rc = ENG_ENOMEM;
            goto out;
        }
        p->next = st->pairs;
        st->pairs = p;
        st->stats.pairs++;
        rc = map_token(st, key, p);
    }
    if (rc == ENG_OK)
        rc = map_token(st, refresh, p);
    if (rc == ENG_OK) {
        p->in_file = 1;
        rc = 1;
    }
out:
    cJSON_Delete(o);
    return rc;
}

/*
 * Reads every line.  Sets *good to the length of the prefix that ends with
 * a complete line, and *tail_ok when a last line without its newline was
 * nevertheless a whole record (a crash just before the newline).  Reads with
 * read() on the locked descriptor: a stdio stream on a dup() would release
 * the fcntl lock when closed.
 */
static int read_file(struct tok_store *st, off_t *good, int *tail_ok,
                     struct eng_err *err)
{
    char *buf = malloc(TOK_MAX_LINE + 1);
    if (!buf)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    size_t have = 0;
    off_t consumed = 0;
    off_t skip_from = 0;
    int skipping = 0;
    int rc = ENG_OK;
    *good = 0;
    *tail_ok = 0;
    for (;;) {
        ssize_t r = read(st->fd, buf + have, TOK_MAX_LINE - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = eng_err_set(err, ENG_EIO, "cannot read token store '%s': %s",
                             st->path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        have += (size_t)r;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', have - start);
            if (!nl)
                break;
            size_t len = (size_t)(nl - (buf + start));
            if (skipping) {
                skipping = 0;
            } else {
                st->stats.lines_read++;
                int a = apply_line(st, buf + start, len);
                if (a < 0) {
                    rc = eng_err_set(err, a, "out of memory");
                    goto out;
                }
                if (a == 0)
                    st->stats.lines_skipped++;
            }
            start += len + 1;
            consumed += (off_t)(len + 1);
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == TOK_MAX_LINE) {
            /* Too long to be ours: drop it up to its newline. */
            if (!skipping) {
                st->stats.lines_skipped++;
                skip_from = consumed;
            }
            skipping = 1;
            consumed += (off_t)have;
            have = 0;
        }
    }
    *good = consumed;
    if (skipping) {
        /* A long line cut by a crash: torn, not skipped. */
        st->stats.lines_skipped--;
        *good = skip_from;
    } else if (have > 0) {
        int a = apply_line(st, buf, have);
        if (a < 0) {
            rc = eng_err_set(err, a, "out of memory");
            goto out;
        }
        if (a == 1) {
            st->stats.lines_read++;
            *tail_ok = 1;
            *good = consumed + (off_t)have;
        }
    }
out:
    free(buf);
    return rc;
}

/* Rewrites the file with one line per pair, then swaps it in. */
static int compact(struct tok_store *st, struct eng_err *err)
{
    size_t n = strlen(st->path);
    char *tmp = malloc(n + 5);
    if (!tmp)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    memcpy(tmp, st->path, n);
    memcpy(tmp + n, ".tmp", 5);
    int rc = ENG_OK;
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                  0600);
    if (fd < 0 || lock_fd(fd) < 0) {
        rc = eng_err_set(err, ENG_EIO, "cannot compact token store '%s': %s",
                         st->path, strerror(errno));
        goto out;
    }
    for (const struct tok_pair *p = st->pairs; p; p = p->next) {
        if (!p->in_file)
            continue;
        char *line = format_line(p, 0);
        if (!line) {
            rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
            goto out;
        }
        int w = write_all(fd, line, strlen(line));
        wipe_free(line);
        if (w < 0) {
            rc = eng_err_set(err, ENG_EIO, "cannot write '%s': %s", tmp,
                             strerror(errno));
            goto out;
        }
    }
    if (fsync(fd) < 0 || rename(tmp, st->path) < 0
        || fsync_dir_of(st->path) < 0) {
        rc = eng_err_set(err, ENG_EIO, "cannot compact token store '%s': %s",
                         st->path, strerror(errno));
        goto out;
    }
    close(st->fd);
    st->fd = fd;
    fd = -1;
    st->stats.compacted = 1;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* The process holding the lock on fd, or 0 when unknown. */
static long lock_holder(int fd)
{
    struct flock fl;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
        return 0;
    return (long)fl.l_pid;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Opens and locks st->path, waiting up to st->lock_timeout seconds for a
 * lock held by another process.  The holder may compact the file (a new
 * file renamed over the path) before it lets go: a lock won on a file no
 * longer at the path is dropped and the path opened again.
 */
static int open_locked(struct tok_store *st, struct eng_err *err)
{
    double deadline = mono_now() + st->lock_timeout;
    int told = 0;
    for (;;) {
        st->fd = open(st->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
                      0600);
        if (st->fd < 0)
            return eng_err_set(err, ENG_EIO,
                               "cannot open token store '%s': %s", st->path,
                               strerror(errno));
        if (lock_fd(st->fd) == 0) {
            struct stat a, b;
            if (fstat(st->fd, &a) == 0 && stat(st->path, &b) == 0
                && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                return ENG_OK;
            close(st->fd);         /* replaced while we waited */
            st->fd = -1;
            continue;
        }
        int e = errno;
        if (e != EACCES && e != EAGAIN)
            return eng_err_set(err, ENG_EIO,
                               "cannot lock token store '%s': %s", st->path,
                               strerror(e));
        long pid = lock_holder(st->fd);
        if (mono_now() >= deadline) {
            if (st->lock_timeout > 0)
                return eng_err_set(err, ENG_EIO, "token store '%s' is "
                                   "still in use by another process (pid "
                                   "%ld) after %g s waiting for its lock",
                                   st->path, pid, st->lock_timeout);
            return eng_err_set(err, ENG_EIO,
                               "token store '%s' is in use by another process",
                               st->path);
        }
        if (!told && st->waiting) {
            char line[300];
            snprintf(line, sizeof(line), "waiting for the lock on token "
                     "store '%s' (held by pid %ld), up to %g s", st->path,
                     pid, st->lock_timeout);
            st->waiting(st->waiting_ud, line);
            told = 1;
        }
        close(st->fd);
        st->fd = -1;
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static int open_file(struct tok_store *st, struct eng_err *err)
{
    struct stat sb;
    int existed = stat(st->path, &sb) == 0;
    int rc = open_locked(st, err);
    if (rc < 0)
        return rc;
    if (fstat(st->fd, &sb) < 0
        || ((sb.st_mode & 077) && fchmod(st->fd, 0600) < 0))
        return eng_err_set(err, ENG_EIO, "cannot secure token store '%s': %s",
                           st->path, strerror(errno));
    if (!existed && fsync_dir_of(st->path) < 0)
        return eng_err_set(err, ENG_EIO,
                           "cannot sync the directory of '%s': %s", st->path,
                           strerror(errno));

    off_t good = 0;
    int tail_ok = 0;
    rc = read_file(st, &good, &tail_ok, err);
    if (rc < 0)
        return rc;
    if (tail_ok) {
        if (write_all(st->fd, "\n", 1) < 0 || fsync(st->fd) < 0)
            return eng_err_set(err, ENG_EIO,
                               "cannot repair token store '%s': %s", st->path,
                               strerror(errno));
    } else if (good < sb.st_size) {
        if (ftruncate(st->fd, good) < 0 || fsync(st->fd) < 0)
            return eng_err_set(err, ENG_EIO,
                               "cannot cut torn line of token store '%s': %s",
                               st->path, strerror(errno));
        st->stats.torn_bytes = (size_t)(sb.st_size - good);
    }
    /*
     * Best effort: a directory we cannot write to leaves the file as it is
     * (compact() swaps descriptors only once the new file is in place).
     */
    if (st->stats.lines_read > 2 * st->stats.pairs + TOK_COMPACT_SLACK)
        compact(st, NULL);
    return ENG_OK;
}

struct tok_store *tok_store_open(const char *path, struct eng_err *err)
{
    return tok_store_open_wait(path, 0, NULL, NULL, err);
}

struct tok_store *tok_store_open_wait(const char *path, double timeout,
                                      void (*waiting)(void *ud,
                                                      const char *line),
                                      void *ud, struct eng_err *err)
{
    struct tok_store *st = calloc(1, sizeof(*st));
    if (!st) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    st->fd = -1;
    st->lock_timeout = timeout > 0 ? timeout : 0;
    st->waiting = waiting;
    st->waiting_ud = ud;
    if (grow(st) < 0) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto fail;
    }
    if (path) {
        st->path = strdup(path);
        if (!st->path) {
            eng_err_set(err, ENG_ENOMEM, "out of memory");
            goto fail;
        }
        if (open_file(st, err) < 0)
            goto fail;
    }
    return st;
fail:
    tok_store_free(st);
    return NULL;
}

void tok_store_free(struct tok_store *st)
{
    if (!st)
        return;
    if (st->fd >= 0)
        close(st->fd);
    for (size_t i = 0; i < st->cap; i++)
        wipe_free(st->tab[i].token);
    free(st->tab);
    struct tok_pair *p = st->pairs;
    while (p) {
        struct tok_pair *next = p->next;
        pair_free(p);
        p = next;
    }
    free(st->path);
    free(st);
}

struct tok_pair *tok_register(struct tok_store *st, const char *access,
                              const char *refresh, long long expires_at,
                              struct eng_err *err)
{
    int has_refresh = refresh && *refresh;
    const char *key = has_refresh ? refresh : access;
    if (!key || !*key) {
        eng_err_set(err, ENG_EDATA, "no access or refresh token");
        return NULL;
    }
    struct tok_pair *p = lookup(st, key);
    if (p)
        return p;
    p = pair_new(key, access, refresh, expires_at);
    if (!p || map_token(st, key, p) < 0) {
        pair_free(p);
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    p->next = st->pairs;
    st->pairs = p;
    st->stats.pairs++;
    return p;
}

enum tok_state tok_pair_state(const struct tok_pair *p, long long now)
{
    if (p->state != TOK_READY)
        return p->state;
    if (!p->access)
        return p->refresh ? TOK_STALE : TOK_FAILED;
    if (p->refresh && p->expires_at > 0
        && now >= p->expires_at - TOK_EXPIRY_SKEW)
        return TOK_STALE;
    return TOK_READY;
}

const char *tok_pair_access(const struct tok_pair *p)
{
    return p->access;
}

unsigned tok_pair_generation(const struct tok_pair *p)
{
    return p->gen;
}

long long tok_pair_expires_at(const struct tok_pair *p)
{
    return p->expires_at;
}

const char *tok_pair_fingerprint(const struct tok_pair *p)
{
    return p->fp;
}

const char *tok_pair_failure(const struct tok_pair *p)
{
    if (p->state == TOK_FAILED)
        return p->failure ? p->failure : "error:AUTHENTICATION";
    if (p->state == TOK_READY && !p->access && !p->refresh)
        return "error:AUTHENTICATION";
    return NULL;
}

void tok_pair_reject(struct tok_pair *p, unsigned gen)
{
    if (p->gen != gen || p->state != TOK_READY)
        return;
    if (p->refresh)
        p->state = TOK_STALE;
    else
        tok_refresh_fail(p, "error:AUTHENTICATION");
}

int tok_refresh_begin(struct tok_pair *p, const char **refresh,
                      struct eng_err *err)
{
    if (!p->refresh)
        return eng_err_set(err, ENG_EUSAGE, "pair %s has no refresh token",
                           p->fp);
    if (p->state == TOK_REFRESHING || p->state == TOK_FAILED)
        return eng_err_set(err, ENG_EUSAGE, "pair %s is %s", p->fp,
                           p->state == TOK_FAILED ? "failed" : "refreshing");
    p->state = TOK_REFRESHING;
    *refresh = p->refresh;
    return ENG_OK;
}

void tok_refresh_abandon(struct tok_pair *p)
{
    if (p->state == TOK_REFRESHING)
        p->state = TOK_STALE;
}

int tok_refresh_complete(struct tok_store *st, struct tok_pair *p,
                         const char *body, size_t len, long long now,
                         struct eng_err *err)
{
    cJSON *o = cJSON_ParseWithLength(body, len);
    int rc = ENG_OK;
    if (!cJSON_IsObject(o)) {
        rc = eng_err_set(err, ENG_EJSON, "token response for %s is not a "
                         "JSON object", p->fp);
        goto out;
    }
    const char *access = json_string(o, "access_token");
    const char *refresh = json_string(o, "refresh_token");
    const cJSON *ein = cJSON_GetObjectItemCaseSensitive(o, "expires_in");
    if (!access || (ein && !cJSON_IsNumber(ein))) {
        rc = eng_err_set(err, ENG_EDATA, "token response for %s lacks "
                         "access_token or has a bad expires_in", p->fp);
        goto out;
    }
    if (!tok_header_safe(access) || (refresh && !tok_header_safe(refresh))) {
        /* it would go into a header: CR/LF there adds headers of its own */
        rc = eng_err_set(err, ENG_EHTTP, "token response for %s holds a "
                         "token with bytes outside visible ASCII", p->fp);
        tok_refresh_fail(p, "error:AUTHENTICATION:BAD_TOKEN_RESPONSE");
        goto out;
    }
    double life = ein ? ein->valuedouble : TOK_DEFAULT_LIFETIME;
    if (!(life > 0 && life < 1e9)) {
        rc = eng_err_set(err, ENG_EDATA, "token response for %s has "
                         "expires_in out of range", p->fp);
        goto out;
    }

    /* Build the new pair apart, persist it, and only then swap it in. */
    struct tok_pair next = *p;
    next.access = (char *)access;
    next.refresh = refresh ? (char *)refresh : p->refresh;
    next.expires_at = now + (long long)life;
    if (st->fd >= 0) {
        char *line = format_line(&next, now);
        if (!line) {
            rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
            goto out;
        }
        int w = write_all(st->fd, line, strlen(line));
        wipe_free(line);
        if (w < 0 || fsync(st->fd) < 0) {
            rc = eng_err_set(err, ENG_EIO, "cannot write token store '%s': "
                             "%s", st->path, strerror(errno));
            tok_refresh_fail(p, "error:AUTHENTICATION:TOKEN_STORE");
            goto out;
        }
        p->in_file = 1;
    }
    if (map_token(st, next.refresh, p) < 0
        || pair_set(p, next.access, refresh, next.expires_at) < 0) {
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    p->state = TOK_READY;
    p->gen++;
    st->stats.rotations++;
out:
    if (cJSON_IsObject(o)) {
        /* the parse tree holds copies of the new secrets */
        char *a = (char *)json_string(o, "access_token");
        char *r = (char *)json_string(o, "refresh_token");
        if (a)
            eng_wipe(a, strlen(a));
        if (r)
            eng_wipe(r, strlen(r));
    }
    cJSON_Delete(o);
    return rc;
}

void tok_refresh_fail(struct tok_pair *p, const char *status)
{
    free(p->failure);
    p->failure = status ? strdup(status) : NULL;
    p->state = TOK_FAILED;
}

void tok_pair_set_user(struct tok_pair *p, void *user)
{
    p->user = user;
}

void *tok_pair_user(const struct tok_pair *p)
{
    return p->user;
}

void tok_store_stats(const struct tok_store *st, struct tok_stats *out)
{
    *out = st->stats;
}
