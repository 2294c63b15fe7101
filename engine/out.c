/* out — atomic output files (temporary file + fsync + rename). */
#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct out_file {
    FILE *f;
    char *path;       /* destination, NULL for stdout */
    char *tmp;        /* temporary file beside it */
    int failed;
};

struct out_file *out_open(const char *path, struct eng_err *err)
{
    struct out_file *o = calloc(1, sizeof(*o));
    if (!o) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return o;
    }
    size_t n = strlen(path) + 32;
    o->path = strdup(path);
    o->tmp = malloc(n);
    if (!o->path || !o->tmp) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(o->tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        eng_err_set(err, ENG_EIO, "cannot create '%s': %s", o->tmp,
                    strerror(errno));
        goto fail;
    }
    fchmod(fd, 0644);
    o->f = fdopen(fd, "w");
    if (!o->f) {
        eng_err_set(err, ENG_EIO, "cannot open '%s': %s", o->tmp,
                    strerror(errno));
        close(fd);
        unlink(o->tmp);
        goto fail;
    }
    return o;
fail:
    free(o->path);
    free(o->tmp);
    free(o);
    return NULL;
}

int out_write(struct out_file *o, const void *data, size_t n,
              struct eng_err *err)
{
    if (n && fwrite(data, 1, n, o->f) != n) {
        o->failed = 1;
        return eng_err_set(err, ENG_EIO, "cannot write '%s': %s",
                           o->path ? o->path : "stdout", strerror(errno));
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
    if (!o->path) {
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = eng_err_set(err, ENG_EIO, "cannot write stdout: %s",
                             strerror(errno));
        free(o);
        return rc;
    }
    if (o->failed || fflush(o->f) != 0 || ferror(o->f) ||
        fsync(fileno(o->f)) != 0)
        rc = eng_err_set(err, ENG_EIO, "cannot write '%s': %s", o->path,
                         strerror(errno));
    if (fclose(o->f) != 0 && rc == ENG_OK)
        rc = eng_err_set(err, ENG_EIO, "cannot close '%s': %s", o->path,
                         strerror(errno));
    if (rc == ENG_OK && rename(o->tmp, o->path) != 0)
        rc = eng_err_set(err, ENG_EIO, "cannot rename to '%s': %s", o->path,
                         strerror(errno));
    if (rc == ENG_OK)
        sync_dir(o->path);
    else
        unlink(o->tmp);
    free(o->path);
    free(o->tmp);
    free(o);
    return rc;
}

void out_abort(struct out_file *o)
{
    if (!o)
        return;
    if (o->path) {
        fclose(o->f);
        unlink(o->tmp);
    }
    free(o->path);
    free(o->tmp);
    free(o);
}
