/*
 * smartcar-sim — a local HTTP server that behaves like the Smartcar API, for
 * tests, the demo and benchmarks.  This file reads the options, loads the
 * fleet, starts the server and waits for SIGTERM or SIGINT; it is the only
 * part of the simulator that prints or chooses an exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "eng.h"
#include "sim_api.h"
#include "sim_auth.h"
#include "sim_delay.h"
#include "sim_fault.h"
#include "sim_fleet.h"
#include "sim_http.h"
#include "sim_log.h"
#include "sim_window.h"
#include "version.h"

#define DEFAULT_CLIENT_ID "sim-client-id"
#define DEFAULT_CLIENT_SECRET "sim-client-secret"

static const char usage_text[] =
"usage: smartcar-sim --fleet DIR [options]\n"
"\n"
"Serves a synthetic fleet (DIR/vehicles.csv, DIR/histories.jsonl) the way\n"
"the Smartcar API does, on plain HTTP, until SIGTERM or SIGINT.\n"
"\n"
"Server:\n"
"  --fleet DIR               fleet directory (required)\n"
"  --bind ADDR               IPv4 address to listen on (127.0.0.1)\n"
"  --port N                  port; 0 picks a free one (0)\n"
"  --port-file F             write the bound port to F once listening\n"
"  --threads N               server threads (2)\n"
"  --log F                   request log, one key=value line per request\n"
"Time and tokens:\n"
"  --now YYYY-MM-DDTHH:MM:SSZ  the clock's start (default: real time);\n"
"                            token expiry and the one-year default window\n"
"                            of service history follow this clock\n"
"  --access-ttl-s S          life of refreshed access tokens (7200)\n"
"  --refresh-grace-s S       a used refresh token replays its answer for\n"
"                            S seconds, then is refused (60)\n"
"Limits:\n"
"  --rate-bucket N           application token bucket size; 0 = no limit\n"
"                            (120)\n"
"  --rate-refill-per-min R   bucket refill per minute (2)\n"
"  --vehicle-limit N         requests per vehicle per window; 0 = off (0)\n"
"  --vehicle-window-s W      the per-vehicle window (60)\n"
"Latency and faults:\n"
"  --latency-ms M            mean added latency, uniform +-50% (0)\n"
"  --slow-ms M               delay of the 'slow' fault (3000)\n"
"  --fault-rate R            share of vehicle requests given a fault (0)\n"
"  --fault-mix MIX           kind=weight list, kinds 500 502 409 429 slow\n"
"                            trunc cut badjson reset html v1\n"
"                            (" SIM_FAULT_DEFAULT_MIX ")\n"
"  --permanent-fault-rate P  share of vehicles that always answer 430 or\n"
"                            501 (0)\n"
"  --seed S                  seed of fault choices and new tokens (1)\n"
"  --ignore-unit-header      answer in each vehicle's stored unit whatever\n"
"                            sc-unit-system asks\n"
"  --help, --version\n"
"\n"
"Client credentials come from SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET\n"
"(default " DEFAULT_CLIENT_ID " / " DEFAULT_CLIENT_SECRET ").\n";

enum opt_id {
    OPT_FLEET = 256, OPT_BIND, OPT_PORT, OPT_PORT_FILE, OPT_THREADS, OPT_LOG,
    OPT_NOW, OPT_ACCESS_TTL, OPT_GRACE, OPT_BUCKET, OPT_REFILL,
    OPT_VLIMIT, OPT_VWINDOW, OPT_LATENCY, OPT_SLOW, OPT_FAULT_RATE,
    OPT_FAULT_MIX, OPT_PERMANENT, OPT_SEED, OPT_IGNORE_UNIT, OPT_HELP,
    OPT_VERSION
};

static const struct option long_opts[] = {
    {"fleet", required_argument, NULL, OPT_FLEET},
    {"bind", required_argument, NULL, OPT_BIND},
    {"port", required_argument, NULL, OPT_PORT},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"log", required_argument, NULL, OPT_LOG},
    {"now", required_argument, NULL, OPT_NOW},
    {"access-ttl-s", required_argument, NULL, OPT_ACCESS_TTL},
    {"refresh-grace-s", required_argument, NULL, OPT_GRACE},
    {"rate-bucket", required_argument, NULL, OPT_BUCKET},
    {"rate-refill-per-min", required_argument, NULL, OPT_REFILL},
    {"vehicle-limit", required_argument, NULL, OPT_VLIMIT},
    {"vehicle-window-s", required_argument, NULL, OPT_VWINDOW},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"slow-ms", required_argument, NULL, OPT_SLOW},
    {"fault-rate", required_argument, NULL, OPT_FAULT_RATE},
    {"fault-mix", required_argument, NULL, OPT_FAULT_MIX},
    {"permanent-fault-rate", required_argument, NULL, OPT_PERMANENT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"ignore-unit-header", no_argument, NULL, OPT_IGNORE_UNIT},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}
};

struct config {
    const char *fleet;
    const char *bind;
    long port;
    const char *port_file;
    long threads;
    const char *log;
    const char *mix;
    long access_ttl;
    long grace;
    struct sim_api_opts api;
};

static int fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("smartcar-sim: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

static int bad_value(const char *name, const char *value)
{
    return fail(CLI_USAGE, "bad value '%s' for --%s", value, name);
}

static int parse_args(int argc, char **argv, struct config *c)
{
    double d;
    long l;
    opterr = 0;
    optind = 1;
    for (;;) {
        int idx = 0;
        int o = getopt_long(argc, argv, "", long_opts, &idx);
        if (o == -1)
            break;
        const char *v = optarg;
        const char *name = o >= OPT_FLEET && o <= OPT_VERSION
                           ? long_opts[o - OPT_FLEET].name : "";
        switch (o) {
        case OPT_FLEET: c->fleet = v; break;
        case OPT_BIND: c->bind = v; break;
        case OPT_PORT_FILE: c->port_file = v; break;
        case OPT_LOG: c->log = v; break;
        case OPT_FAULT_MIX: c->mix = v; break;
        case OPT_IGNORE_UNIT: c->api.ignore_unit_header = 1; break;
        case OPT_HELP:
            fputs(usage_text, stdout);
            return 1;
        case OPT_VERSION:
            printf("smartcar-sim %s (libmicrohttpd %s)\n", SVCSCORE_VERSION,
                   MHD_get_version());
            return 1;
        case OPT_PORT:
            if (cli_parse_long(v, 0, 65535, &c->port) < 0)
                return bad_value(name, v);
            break;
        case OPT_THREADS:
            if (cli_parse_long(v, 1, 64, &c->threads) < 0)
                return bad_value(name, v);
            break;
        case OPT_NOW: {
            long long secs;
            if (sim_window_parse_instant(v, &secs, NULL) < 0)
                return bad_value(name, v);
            c->api.now = secs;
            break;
        }
        case OPT_ACCESS_TTL:
            if (cli_parse_long(v, 1, 100000000, &c->access_ttl) < 0)
                return bad_value(name, v);
            break;
        case OPT_GRACE:
            if (cli_parse_long(v, 0, 100000000, &c->grace) < 0)
                return bad_value(name, v);
            break;
        case OPT_BUCKET:
            if (cli_parse_double(v, 0, 1e12, &c->api.bucket) < 0)
                return bad_value(name, v);
            break;
        case OPT_REFILL:
            if (cli_parse_double(v, 0, 1e12, &c->api.refill_per_min) < 0)
                return bad_value(name, v);
            break;
        case OPT_VLIMIT:
            if (cli_parse_long(v, 0, 1000000000, &l) < 0)
                return bad_value(name, v);
            c->api.vehicle_limit = (unsigned long)l;
            break;
        case OPT_VWINDOW:
            if (cli_parse_double(v, 0.001, 1e9, &c->api.vehicle_window_s) < 0)
                return bad_value(name, v);
            break;
        case OPT_LATENCY:
            if (cli_parse_long(v, 0, 3600000, &l) < 0)
                return bad_value(name, v);
            c->api.latency_ms = (unsigned)l;
            break;
        case OPT_SLOW:
            if (cli_parse_long(v, 0, 3600000, &l) < 0)
                return bad_value(name, v);
            c->api.slow_ms = (unsigned)l;
            break;
        case OPT_FAULT_RATE:
            if (cli_parse_double(v, 0, 1, &c->api.fault_rate) < 0)
                return bad_value(name, v);
            break;
        case OPT_PERMANENT:
            if (cli_parse_double(v, 0, 1, &c->api.permanent_rate) < 0)
                return bad_value(name, v);
            break;
        case OPT_SEED:
            if (cli_parse_double(v, 0, 18446744073709551615.0, &d) < 0
                || d != floor(d))
                return bad_value(name, v);
            c->api.seed = (uint64_t)d;
            break;
        default:
            if (optopt >= OPT_FLEET && optopt <= OPT_VERSION)
                return fail(CLI_USAGE, "--%s needs a value",
                            long_opts[optopt - OPT_FLEET].name);
            return fail(CLI_USAGE, "unknown option '%s' (see --help)",
                        argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!c->fleet)
        return fail(CLI_USAGE, "--fleet DIR is required (see --help)");
    struct eng_err err = {0};
    if (sim_fault_mix_parse(c->mix, &c->api.mix, &err) < 0)
        return fail(CLI_USAGE, "--fault-mix: %s", err.msg);
    return 0;
}

/* Writes the port to path through a temporary file and a rename. */
static int write_port_file(const char *path, unsigned port,
                           struct eng_err *err)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    int rc = ENG_OK;
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        rc = eng_err_set(err, ENG_EIO, "cannot write '%s': %s", tmp,
                         strerror(errno));
        goto out;
    }
    int bad = fprintf(fp, "%u\n", port) < 0;
    bad |= fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, path) != 0) {
        rc = eng_err_set(err, ENG_EIO, "cannot write '%s': %s", path,
                         strerror(errno));
        unlink(tmp);
    }
out:
    free(tmp);
    return rc;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

int main(int argc, char **argv)
{
    struct config c = {
        .bind = "127.0.0.1",
        .port = 0,
        .threads = 2,
        .mix = SIM_FAULT_DEFAULT_MIX,
        .access_ttl = 7200,
        .grace = 60,
        .api = {
            .now = -1,
            .seed = 1,
            .bucket = 120,
            .refill_per_min = 2,
            .vehicle_window_s = 60,
            .slow_ms = 3000,
        },
    };
    int st = parse_args(argc, argv, &c);
    if (st != 0)
        return st == 1 ? CLI_OK : st;
    c.api.client_id = env_or("SMARTCAR_CLIENT_ID", DEFAULT_CLIENT_ID);
    c.api.client_secret = env_or("SMARTCAR_CLIENT_SECRET",
                                 DEFAULT_CLIENT_SECRET);

    /*
     * Block the stop signals before any thread starts, so that every
     * thread inherits the mask and only sigwait() below receives them.
     */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct eng_err err = {0};
    struct sim_fleet *fleet = NULL;
    struct sim_auth *auth = NULL;
    struct sim_log *log = NULL;
    struct sim_api *api = NULL;
    struct sim_delay *delay = NULL;
    struct sim_http *http = NULL;
    int status = CLI_FAIL;

    fleet = sim_fleet_load(c.fleet, &err);
    if (!fleet) {
        fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    auth = sim_auth_new(fleet, (double)c.access_ttl, (double)c.grace,
                        c.api.seed, &err);
    if (!auth) {
        fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    if (c.log) {
        log = sim_log_open(c.log, &err);
        if (!log) {
            fail(CLI_FAIL, "%s", err.msg);
            goto out;
        }
    }
    api = sim_api_new(fleet, auth, log, &c.api, &err);
    delay = api ? sim_delay_new(&err) : NULL;
    if (!delay) {
        fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    struct sim_http_opts ho = {c.bind, (unsigned)c.port,
                               (unsigned)c.threads};
    http = sim_http_start(&ho, api, delay, &err);
    if (!http) {
        fail(err.code == ENG_EUSAGE ? CLI_USAGE : CLI_FAIL, "%s", err.msg);
        status = err.code == ENG_EUSAGE ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    unsigned port = sim_http_port(http);
    if (c.port_file && write_port_file(c.port_file, port, &err) < 0) {
        fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    fprintf(stderr, "smartcar-sim: listening on http://%s:%u "
            "(%zu vehicles, %zu users)\n", c.bind, port,
            sim_fleet_vehicle_count(fleet), sim_fleet_user_count(fleet));

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    fprintf(stderr, "smartcar-sim: stopping on signal %d\n", sig);
    status = CLI_OK;
out:
    /* waiting connections must be resumed before the daemon stops */
    sim_delay_stop(delay);
    sim_http_stop(http);
    sim_delay_free(delay);
    sim_api_free(api);
    if (sim_log_close(log, &err) < 0) {
        fail(CLI_FAIL, "%s", err.msg);
        status = CLI_FAIL;
    }
    sim_auth_free(auth);
    sim_fleet_free(fleet);
    return status;
}
