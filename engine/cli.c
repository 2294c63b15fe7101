/* cli — helpers shared by the command layer. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eng.h"
#include "task.h"

int cli_fail(int status, const char *fmt, ...)
{
    va_list ap;
    fputs("svcscore: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    fputs("svcscore: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

void cli_common_init(struct cli_common *c)
{
    memset(c, 0, sizeof(*c));
    c->out = "-";
    c->as_of = eng_today();
    c->jobs = cli_default_jobs();
    c->max_body = 8L << 20;
    c->max_records = 10000;
}

int cli_common_opt(struct cli_common *c, int opt, const char *arg)
{
    long v;
    switch (opt) {
    case CLI_OPT_VEHICLES:
        c->vehicles = arg;
        return 1;
    case CLI_OPT_HISTORIES:
        c->histories = arg;
        return 1;
    case CLI_OPT_OUT:
        c->out = arg;
        return 1;
    case CLI_OPT_DATA_DIR:
        c->data_dir = arg;
        return 1;
    case CLI_OPT_LOG:
        c->log_path = arg;
        return 1;
    case CLI_OPT_AS_OF: {
        struct eng_err err;
        if (eng_parse_day(arg, 1980, 2200, &c->as_of, &err) < 0) {
            cli_fail(CLI_USAGE, "--as-of: %s", err.msg);
            return -1;
        }
        return 1;
    }
    case CLI_OPT_JOBS:
        if (cli_parse_long(arg, 1, 256, &v) < 0) {
            cli_fail(CLI_USAGE, "--jobs takes a whole number from 1 to 256");
            return -1;
        }
        c->jobs = (int)v;
        return 1;
    case CLI_OPT_MAX_BODY:
        if (cli_parse_long(arg, 1024, 1L << 30, &v) < 0) {
            cli_fail(CLI_USAGE, "--max-body takes bytes from 1024 to 1 GiB");
            return -1;
        }
        c->max_body = v;
        return 1;
    case CLI_OPT_MAX_RECORDS:
        if (cli_parse_long(arg, 1, 10000000, &v) < 0) {
            cli_fail(CLI_USAGE, "--max-records takes 1 to 10000000");
            return -1;
        }
        c->max_records = v;
        return 1;
    default:
        return 0;
    }
}

#ifndef SVCSCORE_SHARE
#define SVCSCORE_SHARE "/usr/local/share/svcscore"
#endif

int cli_find_file(const char *rel, char *out, size_t size)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                snprintf(out, size, "%s/%s", exe, rel);
                if (access(out, R_OK) == 0)
                    return 0;
                /* installed: PREFIX/bin/svcscore -> PREFIX/share/svcscore */
                snprintf(out, size, "%s/share/svcscore/%s", exe, rel);
                if (access(out, R_OK) == 0)
                    return 0;
            }
        }
    }
    snprintf(out, size, "%s/%s", SVCSCORE_SHARE, rel);
    return access(out, R_OK) == 0 ? 0 : -1;
}

int cli_load_taxonomy(const char *dir, struct task_map **tasks,
                      struct task_sched_table **sched)
{
    char t[4096], s[4096], m[4096];
    if (dir) {
        snprintf(t, sizeof(t), "%s/tasks.tsv", dir);
        snprintf(s, sizeof(s), "%s/schedules.tsv", dir);
        snprintf(m, sizeof(m), "%s/makes.tsv", dir);
    } else if (cli_find_file("data/tasks.tsv", t, sizeof(t)) < 0 ||
               cli_find_file("data/schedules.tsv", s, sizeof(s)) < 0 ||
               cli_find_file("data/makes.tsv", m, sizeof(m)) < 0) {
        cli_fail(CLI_FAIL, "cannot find the data folder (tasks.tsv, "
                 "schedules.tsv, makes.tsv): use --data-dir");
        return -1;
    }
    struct eng_err err = {0};
    *tasks = task_map_load(t, &err);
    if (!*tasks) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        return -1;
    }
    *sched = task_sched_load(s, m, &err);
    if (!*sched) {
        task_map_free(*tasks);
        *tasks = NULL;
        cli_fail(CLI_FAIL, "%s", err.msg);
        return -1;
    }
    return 0;
}

FILE *cli_open_log(const char *path)
{
    if (!path)
        return stderr;
    FILE *f = fopen(path, "a");
    if (!f)
        cli_fail(CLI_FAIL, "cannot open log '%s': %s", path, strerror(errno));
    return f;
}
