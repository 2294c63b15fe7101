/* out — atomic output files (temporary file + fsync + rename), direct
 * writes to devices, FIFOs and sockets, optional gzip. */
#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>

/* The stdio buffer of a file output (not of stdout). */
#define OUT_BUFFER (256 * 1024)

#define MAX_LINKS 40            /* as the kernel's limit on a path */
#define GZ_CHUNK (64u << 10)

struct out_file {
    FILE *f;
    char *name;       /* as given, for messages; NULL for stdout */
    char *path;       /* the file replaced: name with links resolved */
    char *tmp;        /* temporary file beside path, NULL when direct */
    z_stream *z;      /* gzip state, or NULL */
    unsigned char *zbuf;
    char *vbuf;       /* f's buffer, OUT_BUFFER bytes; freed after fclose */
    int failed;
};

static const char *shown(const struct out_file *o)
{
    return o->name ? o->name : "stdout";
}

/*
 * Follows path while it names a symbolic link.  Returns a new string (the
 * last name reached: it may not exist), or NULL with err set.  A relative
 * link is read against the folder of the link, as the kernel does.
 */
static char *resolve_links(const char *path, struct eng_err *err)
{
    char *cur = strdup(path);
    for (int hops = 0; cur; hops++) {
        struct stat sb;
        if (lstat(cur, &sb) != 0) {
            if (errno == ENOENT)
                return cur;
            eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                        strerror(errno));
            free(cur);
            return NULL;
        }
        if (!S_ISLNK(sb.st_mode))
            return cur;
        if (hops == MAX_LINKS) {
            eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                        strerror(ELOOP));
            free(cur);
            return NULL;
        }
        char target[4096];
        ssize_t n = readlink(cur, target, sizeof(target) - 1);
        if (n < 0 || (size_t)n >= sizeof(target) - 1) {
            eng_err_set(err, ENG_EIO, "cannot read link '%s': %s", cur,
                        n < 0 ? strerror(errno) : "target too long");
            free(cur);
            return NULL;
        }
        target[n] = '\0';
        char *next;
        if (target[0] == '/') {
            next = strdup(target);
        } else {
            char *copy = strdup(cur);
            const char *dir = copy ? dirname(copy) : NULL;
            size_t len = dir ? strlen(dir) + strlen(target) + 2 : 0;
            next = dir ? malloc(len) : NULL;
            if (next)
                snprintf(next, len, "%s/%s", dir, target);
            free(copy);
        }
        free(cur);
        cur = next;
    }
    eng_err_set(err, ENG_ENOMEM, "out of memory");
    return NULL;
}

/* Connects to a Unix stream socket; returns the fd or -1 (errno set). */
static int connect_socket(const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/*
 * Opens what o->path names for writing: a temporary file beside a regular
 * file (or a new name), else the device, FIFO or socket itself.  Returns an
 * fd or -1 with err set.
 */
static int open_target(struct out_file *o, struct eng_err *err)
{
    struct stat sb;
    int exists = stat(o->path, &sb) == 0;
    if (!exists && errno != ENOENT) {
        eng_err_set(err, ENG_EIO, "cannot open '%s': %s", o->name,
                    strerror(errno));
        return -1;
    }
    if (exists && S_ISDIR(sb.st_mode)) {
        eng_err_set(err, ENG_EIO, "cannot write '%s': it is a folder",
                    o->name);
        return -1;
    }
    if (exists && S_ISBLK(sb.st_mode)) {
        eng_err_set(err, ENG_EIO, "cannot write '%s': it is a block device",
                    o->name);
        return -1;
    }
    if (exists && !S_ISREG(sb.st_mode)) {
        /* a device, FIFO or socket: renaming over it would replace it */
        int fd = S_ISSOCK(sb.st_mode)
                 ? connect_socket(o->path)
                 : open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            eng_err_set(err, ENG_EIO, "cannot open '%s': %s", o->name,
                        strerror(errno));
        return fd;
    }
    size_t n = strlen(o->path) + 32;
    o->tmp = malloc(n);
    if (!o->tmp) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return -1;
    }
    snprintf(o->tmp, n, "%s.tmp.XXXXXX", o->path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        eng_err_set(err, ENG_EIO, "cannot create '%s': %s", o->tmp,
                    strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return -1;
    }
    /* a replaced file keeps its permissions (a 0600 file stays private) */
    fchmod(fd, exists ? (sb.st_mode & 07777) : 0644);
    return fd;
}

static int ends_with_gz(const char *path)
{
    size_t n = strlen(path);
    return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

static int start_gzip(struct out_file *o, struct eng_err *err)
{
    o->z = calloc(1, sizeof(*o->z));
    o->zbuf = malloc(GZ_CHUNK);
    if (!o->z || !o->zbuf)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    /* 15 + 16: a gzip header and trailer around the deflate stream */
    if (deflateInit2(o->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        != Z_OK) {
        free(o->z);
        o->z = NULL;
        return eng_err_set(err, ENG_ENOMEM, "cannot start gzip: out of "
                           "memory");
    }
    return ENG_OK;
}

static void free_file(struct out_file *o)
{
    if (o->z)
        deflateEnd(o->z);
    free(o->z);
    free(o->zbuf);
    free(o->vbuf);
    free(o->name);
    free(o->path);
    free(o->tmp);
    free(o);
}

struct out_file *out_open_flags(const char *path, unsigned flags,
                                struct eng_err *err)
{
    struct out_file *o = calloc(1, sizeof(*o));
    if (!o) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    int gz = (flags & OUT_GZIP) ||
             ((flags & OUT_GZIP_BY_NAME) && ends_with_gz(path));
    if (gz && start_gzip(o, err) < 0)
        goto fail;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return o;
    }
    o->name = strdup(path);
    if (!o->name) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto fail;
    }
    o->path = resolve_links(path, err);
    if (!o->path)
        goto fail;
    int fd = open_target(o, err);
    if (fd < 0)
        goto fail;
    o->f = fdopen(fd, "w");
    if (!o->f) {
        eng_err_set(err, ENG_EIO, "cannot open '%s': %s",
                    o->tmp ? o->tmp : path, strerror(errno));
        close(fd);
        if (o->tmp)
            unlink(o->tmp);
        goto fail;
    }
    /* stdio's 4 KB would mean a write() per bundle line; glibc ignores a
     * size without a buffer, so the buffer is ours */
    o->vbuf = malloc(OUT_BUFFER);
    if (o->vbuf)
        setvbuf(o->f, o->vbuf, _IOFBF, OUT_BUFFER);
    return o;
fail:
    free_file(o);
    return NULL;
}

struct out_file *out_open(const char *path, struct eng_err *err)
{
    return out_open_flags(path, 0, err);
}

static int write_raw(struct out_file *o, const void *data, size_t n,
                     struct eng_err *err)
{
    if (n && fwrite(data, 1, n, o->f) != n) {
        o->failed = 1;
        return eng_err_set(err, ENG_EIO, "cannot write '%s': %s", shown(o),
                           strerror(errno));
    }
    return ENG_OK;
}

/* Runs deflate over the pending input with flush, writing what it gives. */
static int deflate_out(struct out_file *o, int flush, struct eng_err *err)
{
    for (;;) {
        o->z->next_out = o->zbuf;
        o->z->avail_out = GZ_CHUNK;
        int zrc = deflate(o->z, flush);
        if (zrc == Z_STREAM_ERROR) {
            o->failed = 1;
            return eng_err_set(err, ENG_EIO, "cannot compress '%s'",
                               shown(o));
        }
        int rc = write_raw(o, o->zbuf, GZ_CHUNK - o->z->avail_out, err);
        if (rc < 0)
            return rc;
        if (flush == Z_FINISH ? zrc == Z_STREAM_END : o->z->avail_out != 0)
            return ENG_OK;
    }
}

int out_write(struct out_file *o, const void *data, size_t n,
              struct eng_err *err)
{
    if (!o->z)
        return write_raw(o, data, n, err);
    const unsigned char *p = data;
    while (n > 0) {
        /* zlib counts in uInt: feed large writes in pieces */
        uInt part = n > (1u << 30) ? (1u << 30) : (uInt)n;
        o->z->next_in = (unsigned char *)p;
        o->z->avail_in = part;
        int rc = deflate_out(o, Z_NO_FLUSH, err);
        if (rc < 0)
            return rc;
        p += part;
        n -= part;
    }
    return ENG_OK;
}

/* fsyncs the folder holding path, so the rename itself is durable. */
static int sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int fd = open(dirname(copy), O_RDONLY);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int out_commit(struct out_file *o, struct eng_err *err)
{
    int rc = ENG_OK;
    if (o->z && !o->failed) {
        o->z->next_in = NULL;
        o->z->avail_in = 0;
        rc = deflate_out(o, Z_FINISH, err);
    }
    if (!o->name) {
        if (rc == ENG_OK && (fflush(stdout) != 0 || ferror(stdout)))
            rc = eng_err_set(err, ENG_EIO, "cannot write stdout: %s",
                             strerror(errno));
        free_file(o);
        return rc;
    }
    /* a device, FIFO or socket cannot be synced (EINVAL): flushing is all */
    if (rc == ENG_OK &&
        (o->failed || fflush(o->f) != 0 || ferror(o->f) ||
         (o->tmp && fsync(fileno(o->f)) != 0)))
        rc = eng_err_set(err, ENG_EIO, "cannot write '%s': %s", o->name,
                         strerror(errno));
    if (fclose(o->f) != 0 && rc == ENG_OK)
        rc = eng_err_set(err, ENG_EIO, "cannot close '%s': %s", o->name,
                         strerror(errno));
    if (o->tmp) {
        if (rc == ENG_OK && rename(o->tmp, o->path) != 0)
            rc = eng_err_set(err, ENG_EIO, "cannot rename to '%s': %s",
                             o->path, strerror(errno));
        if (rc == ENG_OK)
            sync_dir(o->path);
        else
            unlink(o->tmp);
    }
    free_file(o);
    return rc;
}

int out_install(const char *src, const char *path, unsigned flags,
                struct eng_err *err)
{
    if (strcmp(path, "-") == 0 || (flags & OUT_GZIP)
        || ((flags & OUT_GZIP_BY_NAME) && ends_with_gz(path)))
        return 1;
    char *real = resolve_links(path, err);
    if (!real)
        return err ? err->code : ENG_EIO;
    struct stat sb;
    int exists = stat(real, &sb) == 0;
    int rc = ENG_OK;
    if ((exists && !S_ISREG(sb.st_mode)) || (!exists && errno != ENOENT)) {
        rc = 1;             /* out_open() says what it makes of it */
    } else {
        /* a replaced file keeps its permissions, as out_open() does */
        chmod(src, exists ? (sb.st_mode & 07777) : 0644);
        if (rename(src, real) == 0)
            sync_dir(real);
        else if (errno == EXDEV)
            rc = 1;         /* the link leads to another file system */
        else
            rc = eng_err_set(err, ENG_EIO, "cannot rename to '%s': %s",
                             real, strerror(errno));
    }
    free(real);
    return rc;
}

void out_abort(struct out_file *o)
{
    if (!o)
        return;
    if (o->name) {
        fclose(o->f);
        if (o->tmp)
            unlink(o->tmp);
    }
    free_file(o);
}
