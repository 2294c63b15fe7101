/* cli — helpers shared by the command layer. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "batch.h"
#include "eng.h"
#include "model.h"
#include "api/sc.h"
#include "task.h"

int cli_fail(int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cli_log(stderr, LOGX_ERROR, "error", msg);
    return status;
}

void cli_warn(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cli_log(stderr, LOGX_WARN, "warning", msg);
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

int cli_parse_on_off(const char *s)
{
    if (strcmp(s, "on") == 0)
        return 1;
    return strcmp(s, "off") == 0 ? 0 : -1;
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

const char *cli_model_path(const char *path, char *found, size_t size)
{
    if (path)
        return path;
    if (cli_find_file("models/default.json", found, size) < 0)
        return NULL;
    return found;
}

int cli_load_model(const char *path, struct model **m)
{
    char found[4096];
    path = cli_model_path(path, found, sizeof(found));
    if (!path)
        return cli_fail(CLI_FAIL, "cannot find models/default.json: "
                        "use --model");
    struct eng_err err = {0};
    *m = model_load(path, &err);
    if (!*m)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    return CLI_OK;
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

void cli_api_init(struct cli_api *a)
{
    memset(a, 0, sizeof(*a));
    a->concurrency = 16;
    a->retries = 5;
    a->timeout = 310;
    a->since = eng_days_from_civil(1990, 1, 1);
    a->version = "2.0";
    a->max_retry_wait = 900;
    a->min_speed = 64;
}

int cli_api_opt(struct cli_api *a, int opt, const char *arg, int argc,
                char **argv, int *optind_io)
{
    struct eng_err err;
    int bad = 0;
    switch (opt) {
    case CLI_OPT_API:
        if (!arg && *optind_io < argc && strstr(argv[*optind_io], "://"))
            arg = argv[(*optind_io)++];
        a->api = arg;
        a->api_mode = 1;
        break;
    case CLI_OPT_CONCURRENCY:
        bad = cli_parse_long(arg, 1, 1024, &a->concurrency) < 0;
        break;
    case CLI_OPT_RATE:
        bad = cli_parse_double(arg, 0, 1e6, &a->rate) < 0;
        break;
    case CLI_OPT_RETRIES:
        bad = cli_parse_long(arg, 0, 100, &a->retries) < 0;
        break;
    case CLI_OPT_TIMEOUT:
        bad = cli_parse_double(arg, 0.1, 86400, &a->timeout) < 0;
        break;
    case CLI_OPT_SINCE:
        if (eng_parse_day(arg, 1900, 2200, &a->since, &err) < 0) {
            cli_fail(CLI_USAGE, "--since: %s", err.msg);
            return -1;
        }
        break;
    case CLI_OPT_API_VERSION:
        bad = strcmp(arg, "2.0") != 0 && strcmp(arg, "3") != 0;
        a->version = arg;
        break;
    case CLI_OPT_TOKEN_STORE:
        a->token_store = arg;
        break;
    case CLI_OPT_API_SEED:
        bad = cli_parse_long(arg, 0, 2147483647L, &a->seed) < 0;
        break;
    case CLI_OPT_MAX_RETRY_WAIT:
        bad = cli_parse_double(arg, 0, 86400, &a->max_retry_wait) < 0;
        break;
    case CLI_OPT_MIN_SPEED:
        bad = cli_parse_double(arg, 0, 1e9, &a->min_speed) < 0;
        break;
    default:
        return 0;
    }
    if (bad) {
        cli_fail(CLI_USAGE, "bad value '%s' for an API option (see --help)",
                 arg);
        return -1;
    }
    a->used = 1;
    return 1;
}

/* mkdir -p for the default token store's folder. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int cli_api_config(const struct cli_api *a, struct sc_config *cfg,
                   char *store_path, size_t size)
{
    sc_config_init(cfg);
    cfg->api_origin = a->api;
    cfg->api_version = a->version;
    cfg->client_id = getenv("SMARTCAR_CLIENT_ID");
    cfg->client_secret = getenv("SMARTCAR_CLIENT_SECRET");
    cfg->concurrency = (int)a->concurrency;
    cfg->rate = a->rate;
    /*
     * A bucket one request deep loses whatever a late wake-up earned; a
     * few requests' depth (20 ms worth, at most 5) keeps the average rate
     * without a burst any server bucket would notice.
     */
    cfg->rate_burst = a->rate * 0.02 > 5 ? 5 : a->rate * 0.02 < 1 ? 1
                      : a->rate * 0.02;
    cfg->retries = (int)a->retries;
    cfg->timeout = a->timeout;
    cfg->since_day = a->since;
    cfg->seed = (unsigned long long)a->seed;
    cfg->max_retry_after = a->max_retry_wait;
    cfg->min_speed = a->min_speed;
    if (a->token_store) {
        snprintf(store_path, size, "%s", a->token_store);
        return 0;
    }
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char dir[4096];
    if (state && *state)
        snprintf(dir, sizeof(dir), "%s/svcscore", state);
    else if (home && *home)
        snprintf(dir, sizeof(dir), "%s/.local/state/svcscore", home);
    else
        return cli_fail(-1, "no --token-store and no $HOME: say where "
                        "rotated tokens are to be kept");
    if (make_dirs(dir) < 0)
        return cli_fail(-1, "cannot create '%s': %s", dir, strerror(errno));
    snprintf(store_path, size, "%s/tokens.jsonl", dir);
    return 0;
}

static volatile sig_atomic_t *stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    if (stop_flag)
        *stop_flag = 1;
}

void cli_catch_stop(volatile sig_atomic_t *flag)
{
    stop_flag = flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_batch_config(const struct cli_common *c,
                      const struct task_map *tasks,
                      const struct task_sched_table *sched,
                      struct batch_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->vehicles_path = c->vehicles;
    cfg->histories_path = c->histories;
    cfg->out_path = c->out;
    cfg->as_of = c->as_of;
    cfg->jobs = c->jobs;
    cfg->tasks = tasks;
    cfg->sched = sched;
    hist_limits_default(&cfg->limits);
    cfg->limits.max_body = (size_t)c->max_body;
    cfg->limits.max_records = (size_t)c->max_records;
}
