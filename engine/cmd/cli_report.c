/* The run's report and manifest, for 'score' and 'fetch' (cli.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "manifest.h"
#include "report.h"
#include "runsum.h"
#include "version.h"

static struct timespec started;

void cli_run_begin(struct runsum *s, const char *command)
{
    runsum_init(s);
    s->command = command;
    s->version = SVCSCORE_VERSION;
    runsum_time((long long)time(NULL), s->started);
    clock_gettime(CLOCK_MONOTONIC, &started);
}

int cli_run_finish(struct runsum *s, const char *out, const char *report,
                   int status)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    s->duration_s = (double)(now.tv_sec - started.tv_sec)
                    + (double)(now.tv_nsec - started.tv_nsec) / 1e9;
    s->exit_code = status;
    if (s->has_api && s->fetch_s == 0)
        s->fetch_s = s->duration_s;    /* fetch: the whole run */
    s->out_path = out;
    if (s->has_api && !s->rate)
        s->rate = cli_rate();
    runsum_sort(&s->rows);
    struct eng_err err = {0};
    /* a manifest beside a file, not beside stdout or a device */
    struct stat st;
    if (out && strcmp(out, "-") != 0 && stat(out, &st) == 0
        && S_ISREG(st.st_mode)) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%s.manifest.json", out)
            >= (int)sizeof(path))
            return cli_fail(CLI_FAIL, "output name too long for its "
                            "manifest");
        if (manifest_write(path, s, &err) < 0)
            return cli_fail(CLI_FAIL, "%s", err.msg);
    }
    if (!report)
        return status;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (report_write(report, s, &err) < 0)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long size = stat(report, &st) == 0 ? (long long)st.st_size : -1;
    fprintf(stderr, "svcscore: %s: report written to %s (%lld bytes in "
            "%.3f s)\n", s->command, report, size,
            (double)(t1.tv_sec - t0.tv_sec)
            + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return status;
}
