/* sim_log — line-buffered request log shared by the server threads. */
#include "sim_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024

struct sim_log {
    pthread_mutex_t lock;
    FILE *fp;
    int write_failed;
};

struct sim_log *sim_log_open(const char *path, struct eng_err *err)
{
    struct sim_log *log = calloc(1, sizeof(*log));
    if (!log) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    log->fp = fopen(path, "w");
    if (!log->fp) {
        eng_err_set(err, ENG_EIO, "cannot open log '%s': %s", path,
                    strerror(errno));
        free(log);
        return NULL;
    }
    pthread_mutex_init(&log->lock, NULL);
    return log;
}

void sim_log_line(struct sim_log *log, double t_ms, const char *fmt, ...)
{
    if (!log)
        return;
    char line[LINE_MAX_LEN];
    int n = snprintf(line, sizeof(line), "t_ms=%.3f ", t_ms);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log->lock);
    if (fputs(line, log->fp) == EOF || fputc('\n', log->fp) == EOF
        || fflush(log->fp) == EOF)
        log->write_failed = 1;
    pthread_mutex_unlock(&log->lock);
}

int sim_log_close(struct sim_log *log, struct eng_err *err)
{
    if (!log)
        return ENG_OK;
    int failed = log->write_failed;
    if (fclose(log->fp) == EOF)
        failed = 1;
    pthread_mutex_destroy(&log->lock);
    free(log);
    if (failed)
        return eng_err_set(err, ENG_EIO, "cannot write the request log");
    return ENG_OK;
}
