/*
 * End-to-end tests of the Smartcar client against bin/smartcar-sim: each
 * test writes a small fleet, starts the simulator on a free loopback port,
 * drives sc_run() in-process, then reads the simulator's request log.
 */
#include <CUnit/CUnit.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <curl/curl.h>

#include "api/fetch.h"
#include "api/sc.h"
#include "ptrain.h"
#include "test_util.h"

/* The simulator built with the tests; SVCSCORE_SIM may name another. */
static const char *sim_bin(void)
{
    const char *e = getenv("SVCSCORE_SIM");
    return e && *e ? e : "../bin/smartcar-sim";
}
#define CLIENT_ID "sim-client-id"
#define CLIENT_SECRET "sim-client-secret"
#define MAX_JOBS 64

static char root[64];

static int suite_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    mkdir("tmp", 0700);
    snprintf(root, sizeof(root), "tmp/scsimXXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int suite_clean(void)
{
    curl_global_cleanup();
    return 0;
}

/* ---- fleets ---- */

struct fv {
    const char *vin;
    const char *vid;
    const char *user;
    const char *unit;      /* stored unit of the odometers */
    const char *access;
    const char *refresh;
    long long expires_in;  /* seconds from now; 0 leaves the cell empty */
    const char *history;   /* JSON text, NULL for no line */
};

static const char *in_secs(long long s, char *buf)
{
    tok_format_time((long long)time(NULL) + s, buf);
    return buf;
}

static void make_dir(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", root, name);
    mkdir(out, 0700);
}

/* The fleet of v; ptrain NULL, or the powertrain cell of each (NULL: ""). */
static void write_fleet_pt(const char *dir, const struct fv *v, size_t n,
                           const char *const *ptrain)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/vehicles.csv", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "vin,vehicle_id,policy_id,make,model_year,unit_system,"
               "user_id,access_token,refresh_token,expires_at,"
               "powertrain\n");
    for (size_t i = 0; i < n; i++) {
        char exp[24] = "";
        if (v[i].expires_in)
            in_secs(v[i].expires_in, exp);
        fprintf(f, "%s,%s,POL-%zu,Ford,2019,%s,%s,%s,%s,%s,%s\n",
                v[i].vin, v[i].vid, i, v[i].unit ? v[i].unit : "metric",
                v[i].user, v[i].access, v[i].refresh, exp,
                ptrain && ptrain[i] ? ptrain[i] : "");
    }
    fclose(f);
    snprintf(path, sizeof(path), "%s/histories.jsonl", dir);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (size_t i = 0; i < n; i++) {
        if (!v[i].history)
            continue;
        fprintf(f, "{\"vin\":\"%s\",\"vehicle_id\":\"%s\",\"unit_system\":"
                   "\"%s\",\"history\":%s}\n", v[i].vin, v[i].vid,
                v[i].unit ? v[i].unit : "metric", v[i].history);
    }
    fclose(f);
}

static void write_fleet(const char *dir, const struct fv *v, size_t n)
{
    write_fleet_pt(dir, v, n, NULL);
}

static const char *const HIST_OLD_AND_NEW =
    "[{\"serviceId\":\"1001\",\"serviceDate\":\"2012-05-01T10:00:00.000Z\","
    "\"odometerDistance\":15000.5,\"serviceTasks\":[{\"taskId\":\"3262\","
    "\"taskDescription\":\"Oil and filter change\"}],\"serviceDetails\":[],"
    "\"serviceCost\":{\"totalCost\":89.99,\"currency\":\"USD\"}},"
    "{\"serviceId\":\"1002\",\"serviceDate\":\"2025-11-01T10:00:00.000Z\","
    "\"odometerDistance\":95000,\"serviceTasks\":[],\"serviceDetails\":[],"
    "\"serviceCost\":{\"totalCost\":null,\"currency\":null}}]";

static const char *const HIST_ONE =
    "[{\"serviceId\":\"7\",\"serviceDate\":\"2020-01-01\","
    "\"odometerDistance\":1000,\"serviceTasks\":[],\"serviceDetails\":[],"
    "\"serviceCost\":{\"totalCost\":null,\"currency\":null}}]";

/* ---- the simulator ---- */

struct sim {
    pid_t pid;
    char dir[128];
    char origin[64];
    char log[160];
    char err[160];
};

static int sim_vstart(struct sim *s, const char *fleet, va_list ap)
{
    char portf[160];
    snprintf(s->dir, sizeof(s->dir), "%s", fleet);
    snprintf(portf, sizeof(portf), "%s/port", fleet);
    snprintf(s->log, sizeof(s->log), "%s/sim.log", fleet);
    snprintf(s->err, sizeof(s->err), "%s/sim.err", fleet);
    unlink(portf);
    const char *argv[40];
    int n = 0;
    argv[n++] = sim_bin();
    argv[n++] = "--fleet";
    argv[n++] = fleet;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = portf;
    argv[n++] = "--log";
    argv[n++] = s->log;
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 38)
        argv[n++] = a;
    argv[n] = NULL;
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        int fd = open(s->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(sim_bin(), (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(portf, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(s->origin, sizeof(s->origin), "http://127.0.0.1:%d",
                     port);
            return 0;
        }
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Starts the simulator on fleet; the extra arguments end with NULL. */
static int sim_start(struct sim *s, const char *fleet, ...)
{
    va_list ap;
    va_start(ap, fleet);
    int rc = sim_vstart(s, fleet, ap);
    va_end(ap);
    return rc;
}

static void sim_stop(struct sim *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

/* The whole of a file as a new string ("" when unreadable). */
static char *slurp(const char *path)
{
    char *s = tu_slurp(path, NULL);
    return s ? s : strdup("");
}

/* Lines of text containing every one of the given fragments. */
static int count_lines_with(const char *text, const char *a, const char *b)
{
    int n = 0;
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, len);
        if (copy && strstr(copy, a) && (!b || strstr(copy, b)))
            n++;
        free(copy);
        if (!end)
            break;
        line = end + 1;
    }
    return n;
}

/* ---- driving the client ---- */

struct jobspec {
    const char *vin;
    const char *vid;
    const char *user;
    struct tok_pair *pair;
};

struct got {
    int done;
    char status[112];
    char vid[80];
    char unit[16];
    char message[256];
    char request_id[80];
    int attempts;
    int powertrain;
    size_t body_len;
    char *body;
    int order;
    double at;          /* seconds since the run began */
};

struct run {
    const struct jobspec *jobs;
    size_t n;
    size_t next;
    size_t max_outstanding;
    size_t outstanding;
    int fail_next_at;   /* next() fails at this index; -1 never */
    int fail_done_at;   /* done() fails on this call; -1 never */
    int want_ptrain[MAX_JOBS]; /* job.want_powertrain by index */
    int dones;
    double t0;
    struct got got[MAX_JOBS];
    char *log;
    size_t log_len;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_log(void *ud, const char *line)
{
    struct run *r = ud;
    size_t n = strlen(line);
    char *nl = realloc(r->log, r->log_len + n + 2);
    if (!nl)
        return;
    r->log = nl;
    memcpy(r->log + r->log_len, line, n);
    r->log[r->log_len + n] = '\n';
    r->log_len += n + 1;
    r->log[r->log_len] = '\0';
}

static int next_job(void *ud, struct sc_job *job)
{
    struct run *r = ud;
    if (r->fail_next_at >= 0 && r->next == (size_t)r->fail_next_at)
        return ENG_EIO;
    if (r->next >= r->n)
        return 0;
    const struct jobspec *j = &r->jobs[r->next];
    job->index = r->next++;
    job->vin = j->vin;
    job->vehicle_id = j->vid;
    job->user_id = j->user;
    job->tokens = j->pair;
    job->want_powertrain = r->want_ptrain[job->index];
    r->outstanding++;
    if (r->outstanding > r->max_outstanding)
        r->max_outstanding = r->outstanding;
    return 1;
}

static int job_done(void *ud, const struct sc_result *res)
{
    struct run *r = ud;
    struct got *g = &r->got[res->index];
    r->outstanding--;
    g->done++;
    g->order = r->dones++;
    g->at = now_s() - r->t0;
    snprintf(g->status, sizeof(g->status), "%s", res->status);
    snprintf(g->vid, sizeof(g->vid), "%s",
             res->vehicle_id ? res->vehicle_id : "");
    snprintf(g->unit, sizeof(g->unit), "%s", res->unit_system);
    snprintf(g->message, sizeof(g->message), "%s", res->message);
    snprintf(g->request_id, sizeof(g->request_id), "%s", res->request_id);
    g->attempts = res->attempts;
    g->powertrain = res->powertrain;
    g->body_len = res->body_len;
    free(g->body);
    g->body = res->body ? strndup(res->body, res->body_len) : NULL;
    if (r->fail_done_at >= 0 && g->order == r->fail_done_at)
        return ENG_EIO;
    return 0;
}

static void run_init(struct run *r, const struct jobspec *jobs, size_t n)
{
    memset(r, 0, sizeof(*r));
    r->jobs = jobs;
    r->n = n;
    r->fail_next_at = -1;
    r->fail_done_at = -1;
}

static void run_release(struct run *r)
{
    for (size_t i = 0; i < MAX_JOBS; i++)
        free(r->got[i].body);
    free(r->log);
}

/* A config for the simulator at origin: fast backoff, short timeouts. */
static void test_config(struct sc_config *c, const char *origin,
                        struct tok_store *st, struct run *r)
{
    sc_config_init(c);
    c->api_origin = origin;
    c->api_v3_origin = origin;
    c->auth_origin = origin;
    c->client_id = CLIENT_ID;
    c->client_secret = CLIENT_SECRET;
    c->tokens = st;
    c->concurrency = 4;
    c->retries = 3;
    c->timeout = 5;
    c->connect_timeout = 2;
    c->backoff_base = 0.01;
    c->backoff_cap = 0.05;
    c->seed = 12345;
    c->log = on_log;
    c->log_ud = r;
}

static int drive(const struct sc_config *c, struct run *r,
                 struct sc_stats *stats)
{
    struct eng_err e = {0};
    struct sc_client *sc = sc_new(c, &e);
    CU_ASSERT_PTR_NOT_NULL(sc);
    if (!sc) {
        fprintf(stderr, "\nsc_new: %s\n", e.msg);
        return e.code;
    }
    r->t0 = now_s();
    int rc = sc_run(sc, next_job, job_done, r, &e);
    if (stats)
        sc_get_stats(sc, stats);
    sc_free(sc);
    return rc;
}

/*
 * No secret of the run may appear in text: the fleet's tokens, the client
 * secret, and the simulator's rotated tokens (at_/rt_/v3_ + 32 hex).
 */
static void assert_no_secrets(const char *text, const struct fv *fleet,
                              size_t n)
{
    if (!text)
        return;
    CU_ASSERT_PTR_NULL(strstr(text, CLIENT_SECRET));
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_PTR_NULL(strstr(text, fleet[i].access));
        CU_ASSERT_PTR_NULL(strstr(text, fleet[i].refresh));
    }
    static const char *const prefixes[] = {"at_", "rt_", "v3_"};
    for (size_t k = 0; k < 3; k++) {
        for (const char *p = strstr(text, prefixes[k]); p;
             p = strstr(p + 1, prefixes[k])) {
            size_t hex = strspn(p + 3, "0123456789abcdef");
            CU_ASSERT(hex < 16);
        }
    }
}

static void check_outputs_hold_no_secrets(const struct run *r,
                                          const struct sim *s,
                                          const struct fv *fleet, size_t n)
{
    assert_no_secrets(r->log, fleet, n);
    for (size_t i = 0; i < r->n; i++) {
        assert_no_secrets(r->got[i].message, fleet, n);
        assert_no_secrets(r->got[i].status, fleet, n);
    }
    char *simlog = slurp(s->log);
    char *simerr = slurp(s->err);
    assert_no_secrets(simlog, fleet, n);
    assert_no_secrets(simerr, fleet, n);
    free(simlog);
    free(simerr);
}

/* ---- a standard fleet: user 1 has three vehicles, user 2 one ---- */

#define U1_AT "AT-u1-0f2e9d8c7b6a5f4e3d2c1b0a"
#define U1_RT "RT-u1-a1b2c3d4e5f60718293a4b5c"
#define U2_AT "AT-u2-11112222333344445555aaaa"
#define U2_RT "RT-u2-9999888877776666bbbbcccc"

static void std_fleet(struct fv *v, long long u1_expires, long long u2_expires)
{
    struct fv f[4] = {
        {"1FTFW1E50NFA00001", "veh-0001", "user-1", "metric", U1_AT, U1_RT,
         u1_expires, HIST_OLD_AND_NEW},
        {"JTDKARFU0K3000002", "veh-0002", "user-1", "imperial", U1_AT, U1_RT,
         u1_expires, HIST_ONE},
        {"WVWZZZAUZKW000003", "veh-0003", "user-1", "metric", U1_AT, U1_RT,
         u1_expires, "[]"},
        {"JM1BPACL0M1000004", "veh-0004", "user-2", "metric", U2_AT, U2_RT,
         u2_expires, HIST_ONE},
    };
    memcpy(v, f, sizeof(f));
}

/* Jobs by vehicle id for the standard fleet, pairs registered in st. */
static void std_jobs(struct jobspec *j, const struct fv *v,
                     struct tok_store *st)
{
    for (int i = 0; i < 4; i++) {
        long long exp = v[i].expires_in ? (long long)time(NULL)
                                              + v[i].expires_in : 0;
        j[i].vin = v[i].vin;
        j[i].vid = v[i].vid;
        j[i].user = v[i].user;
        j[i].pair = tok_register(st, v[i].access, v[i].refresh, exp, NULL);
        CU_ASSERT_PTR_NOT_NULL(j[i].pair);
    }
}

/* ---- the fixture: a standard fleet, its simulator, its jobs ---- */

/*
 * One test's world: tmp/<root>/<name> holding the standard fleet (user 1's
 * pair expiring in u1_expires seconds, user 2's in u2_expires), the
 * simulator serving it with the given arguments, an in-memory token store
 * with the fleet's pairs, jobs[0..3] by vehicle id, a run over the first
 * njobs of them and a config for the simulator.  A test may change the
 * fleet before fix_serve(), the jobs and config before drive().  Not to be
 * copied: the config's log points into it.
 */
struct fix {
    char dir[128];
    struct fv fleet[4];
    struct sim s;
    struct tok_store *st;
    struct jobspec jobs[MAX_JOBS];
    struct run r;
    struct sc_config c;
    struct sc_stats stats;
    const char *ptrain[4];  /* the fleet's powertrain cells, NULL empty */
};

/* Makes the directory and the standard fleet (not yet written). */
static void fix_init(struct fix *f, const char *name, long long u1_expires,
                     long long u2_expires)
{
    memset(f, 0, sizeof(*f));
    make_dir(name, f->dir, sizeof(f->dir));
    std_fleet(f->fleet, u1_expires, u2_expires);
}

/*
 * Writes the fleet, starts the simulator (extra arguments end with NULL),
 * opens the store, registers the jobs and prepares a run of njobs.
 * Returns 0, or -1 when the simulator did not start.
 */
static int fix_serve(struct fix *f, size_t njobs, ...)
{
    write_fleet_pt(f->dir, f->fleet, 4, f->ptrain);
    va_list ap;
    va_start(ap, njobs);
    int rc = sim_vstart(&f->s, f->dir, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    f->st = tok_store_open(NULL, NULL);
    std_jobs(f->jobs, f->fleet, f->st);
    run_init(&f->r, f->jobs, njobs);
    test_config(&f->c, f->s.origin, f->st, &f->r);
    return 0;
}

/* Runs the client over f->r with f->c; returns sc_run()'s code. */
static int fix_drive(struct fix *f)
{
    return drive(&f->c, &f->r, &f->stats);
}

/* Starts the next run over the same simulator and store. */
static void fix_rerun(struct fix *f, const struct jobspec *jobs, size_t n)
{
    run_release(&f->r);
    run_init(&f->r, jobs, n);
    test_config(&f->c, f->s.origin, f->st, &f->r);
}

/* Stops the simulator (before its log is read); may be called twice. */
static void fix_stop(struct fix *f)
{
    sim_stop(&f->s);
}

static void fix_check_no_secrets(const struct fix *f)
{
    check_outputs_hold_no_secrets(&f->r, &f->s, f->fleet, 4);
}

static void fix_release(struct fix *f)
{
    sim_stop(&f->s);
    run_release(&f->r);
    tok_store_free(f->st);
    f->st = NULL;
}

/* ---- tests ---- */

static void test_sc_sim_fetches_the_full_history_window(void)
{
    struct fix f;
    fix_init(&f, "window", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 4, NULL) == 0);
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    struct run *r = &f.r;

    CU_ASSERT_STRING_EQUAL(r->got[0].status, "ok");
    CU_ASSERT_PTR_NOT_NULL(r->got[0].body
                           && strstr(r->got[0].body, "2012-05-01"));
    CU_ASSERT_STRING_EQUAL(r->got[0].unit, "metric");
    CU_ASSERT(r->got[0].request_id[0] != '\0');
    CU_ASSERT_EQUAL(r->got[0].attempts, 1);
    CU_ASSERT_STRING_EQUAL(r->got[1].status, "ok");
    CU_ASSERT_STRING_EQUAL(r->got[2].status, "no_history");
    CU_ASSERT_STRING_EQUAL(r->got[3].status, "ok");
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(r->got[i].done, 1);
    CU_ASSERT_EQUAL(f.stats.jobs, 4);
    CU_ASSERT_EQUAL(f.stats.ok, 3);
    CU_ASSERT_EQUAL(f.stats.no_history, 1);
    CU_ASSERT_EQUAL(f.stats.refreshes, 0);

    char *log = slurp(f.s.log);
    char today[11];
    char expect[48];
    eng_format_day(eng_today(), today);
    snprintf(expect, sizeof(expect), "window=1990-01-01..%s", today);
    CU_ASSERT_EQUAL(count_lines_with(log, "route=history", expect), 4);
    CU_ASSERT_EQUAL(count_lines_with(log, "path=/v2.0/vehicles/veh-0001/",
                                     "records=2"), 1);
    free(log);
    fix_check_no_secrets(&f);
    fix_release(&f);
}

/* A fetch of the fixture's vehicle list into out; fills st. */
static int fetch_into(struct fix *f, const char *out, const char *tokens,
                      size_t hold_bytes, struct fetch_stats *st)
{
    char list[160];
    snprintf(list, sizeof(list), "%s/vehicles.csv", f->dir);
    struct fetch_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.vehicles_path = list;
    cfg.out_path = out;
    cfg.token_store = tokens;
    cfg.sc = f->c;
    cfg.sc.tokens = NULL;
    cfg.hold_bytes = hold_bytes;
    cfg.refresh_after_days = -1;
    memset(st, 0, sizeof(*st));
    struct eng_err e = {0};
    int rc = fetch_run(&cfg, st, &e);
    if (rc != ENG_OK)
        fprintf(stderr, "fetch: %s\n", e.msg);
    return rc;
}

/* A bundle line without what differs between two fetches of it. */
static void strip_run_fields(char *line)
{
    static const char *const keys[] = {"\"fetched_at\":\"",
                                       "\"request_id\":\""};
    for (size_t k = 0; k < 2; k++) {
        char *p = strstr(line, keys[k]);
        if (!p)
            continue;
        char *v = p + strlen(keys[k]);
        char *end = strchr(v, '"');
        if (end)
            memmove(v, end, strlen(end) + 1);
    }
}

static void test_sc_sim_fetch_writes_the_bundle_in_order_renamed_or_copied(void)
{
    /* rows 1 and 4 fail their VIN check digit: status rows, journalled
     * as they are read, so row 4's line comes before the answers of rows
     * 2 and 3 and must be held back */
    struct fix f;
    fix_init(&f, "fetchorder", 3600, 3600);
    f.fleet[3].vin = "1FTFW1E50NFA00004";
    CU_ASSERT_FATAL(fix_serve(&f, 4, "--latency-ms", "20", NULL) == 0);
    char a[160], b[160], ta[160], tb[160];
    snprintf(a, sizeof(a), "%s/renamed.jsonl", f.dir);
    snprintf(b, sizeof(b), "%s/copied.jsonl", f.dir);
    snprintf(ta, sizeof(ta), "%s/tok-a.jsonl", f.dir);
    snprintf(tb, sizeof(tb), "%s/tok-b.jsonl", f.dir);
    struct fetch_stats sa, sb;
    CU_ASSERT_EQUAL(fetch_into(&f, a, ta, 0, &sa), ENG_OK);
    CU_ASSERT_EQUAL(fetch_into(&f, b, tb, 1, &sb), ENG_OK);
    fix_stop(&f);
    CU_ASSERT(sa.held >= 1);
    CU_ASSERT_EQUAL(sa.renamed, 1);
    CU_ASSERT_EQUAL(sb.held, 0);           /* nothing may be held ... */
    CU_ASSERT_EQUAL(sb.renamed, 0);        /* ... so it was copied */
    CU_ASSERT_EQUAL(sa.ok + sa.no_history, 2);
    CU_ASSERT_EQUAL(sb.ok + sb.no_history, 2);
    CU_ASSERT_EQUAL(sa.errors, 2);
    char pa[200], pb[200];
    snprintf(pa, sizeof(pa), "%s.partial", a);
    snprintf(pb, sizeof(pb), "%s.partial", b);
    CU_ASSERT_EQUAL(access(pa, F_OK), -1);
    CU_ASSERT_EQUAL(access(pb, F_OK), -1);
    struct stat st;
    CU_ASSERT_FATAL(stat(a, &st) == 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);
    /* both in input order, and alike but for the fetch's own fields */
    char *ta_text = slurp(a), *tb_text = slurp(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ta_text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tb_text);
    char *sa_p = NULL, *sb_p = NULL;
    char *la = strtok_r(ta_text, "\n", &sa_p);
    char *lb = strtok_r(tb_text, "\n", &sb_p);
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(la);
        CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
        char want[32];
        snprintf(want, sizeof(want), "{\"index\":%d,", i);
        CU_ASSERT_EQUAL(strncmp(la, want, strlen(want)), 0);
        strip_run_fields(la);
        strip_run_fields(lb);
        CU_ASSERT_STRING_EQUAL(la, lb);
        la = strtok_r(NULL, "\n", &sa_p);
        lb = strtok_r(NULL, "\n", &sb_p);
    }
    CU_ASSERT_PTR_NULL(la);
    CU_ASSERT_PTR_NULL(lb);
    free(ta_text);
    free(tb_text);
    fix_release(&f);
}

static void test_sc_sim_refreshes_once_per_pair_and_next_run_uses_rotation(void)
{
    char dir[128];
    char store[160];
    make_dir("rotate", dir, sizeof(dir));
    snprintf(store, sizeof(store), "%s/tokens.jsonl", dir);
    struct fv fleet[4];
    std_fleet(fleet, -3600, 86400);
    write_fleet(dir, fleet, 4);
    struct sim s;
    CU_ASSERT_FATAL(sim_start(&s, dir, "--refresh-grace-s", "0", NULL) == 0);

    /* run 1: user 1's three vehicles need one refresh */
    struct tok_store *st = tok_store_open(store, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct jobspec jobs[4];
    std_jobs(jobs, fleet, st);
    struct run r;
    run_init(&r, jobs, 4);
    struct sc_config c;
    test_config(&c, s.origin, st, &r);
    struct sc_stats stats;
    CU_ASSERT_EQUAL(drive(&c, &r, &stats), ENG_OK);
    CU_ASSERT_STRING_EQUAL(r.got[0].status, "ok");
    CU_ASSERT_STRING_EQUAL(r.got[1].status, "ok");
    CU_ASSERT_STRING_EQUAL(r.got[2].status, "no_history");
    CU_ASSERT_STRING_EQUAL(r.got[3].status, "ok");
    CU_ASSERT_EQUAL(stats.refreshes, 1);
    CU_ASSERT_EQUAL(stats.rotations, 1);
    tok_store_free(st);
    char *text = slurp(store);
    CU_ASSERT_EQUAL(count_lines_with(text, "\"key\":\"" U1_RT "\"", NULL), 1);
    free(text);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(store, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
    check_outputs_hold_no_secrets(&r, &s, fleet, 4);
    run_release(&r);

    /* run 2: the same vehicle list; the store supplies the rotated pair */
    st = tok_store_open(store, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    std_jobs(jobs, fleet, st);
    run_init(&r, jobs, 4);
    test_config(&c, s.origin, st, &r);
    CU_ASSERT_EQUAL(drive(&c, &r, &stats), ENG_OK);
    CU_ASSERT_STRING_EQUAL(r.got[0].status, "ok");
    CU_ASSERT_STRING_EQUAL(r.got[1].status, "ok");
    CU_ASSERT_STRING_EQUAL(r.got[3].status, "ok");
    CU_ASSERT_EQUAL(stats.refreshes, 0);
    tok_store_free(st);
    run_release(&r);

    /*
     * run 3: without the store the dead refresh token is refused.  The
     * simulator counts the grace in whole seconds: let one pass.
     */
    struct timespec pause = {1, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    st = tok_store_open(NULL, NULL);
    std_jobs(jobs, fleet, st);
    run_init(&r, jobs, 4);
    test_config(&c, s.origin, st, &r);
    CU_ASSERT_EQUAL(drive(&c, &r, &stats), ENG_OK);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_STRING_EQUAL(r.got[i].status,
                               "error:AUTHENTICATION:REFRESH_FAILED");
    CU_ASSERT_STRING_EQUAL(r.got[3].status, "ok");
    CU_ASSERT_EQUAL(stats.refreshes, 1);
    CU_ASSERT_EQUAL(stats.refresh_failures, 1);
    tok_store_free(st);
    sim_stop(&s);

    char *log = slurp(s.log);
    CU_ASSERT_EQUAL(count_lines_with(log, "grant=refresh_token", NULL), 2);
    CU_ASSERT_EQUAL(count_lines_with(log, "grant=refresh_token",
                                     "result=ok"), 1);
    CU_ASSERT_EQUAL(count_lines_with(log, "grant=refresh_token",
                                     "result=invalid_grant"), 1);
    CU_ASSERT_EQUAL(count_lines_with(log, "route=history", "status=401"), 0);
    free(log);
    check_outputs_hold_no_secrets(&r, &s, fleet, 4);
    run_release(&r);
}

static void test_sc_sim_answers_a_401_with_one_refresh_then_retries(void)
{
    struct fix f;
    fix_init(&f, "reauth", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 3, NULL) == 0);
    /*
     * The vehicle list holds an access token the API does not know: a
     * store of its own, as the fixture's already holds user 1's pair.
     */
    tok_store_free(f.st);
    f.st = tok_store_open(NULL, NULL);
    f.c.tokens = f.st;
    struct tok_pair *p = tok_register(f.st, "AT-revoked-000000000000000000",
                                      U1_RT, 0, NULL);
    for (int i = 0; i < 3; i++) {
        f.jobs[i].user = NULL;
        f.jobs[i].pair = p;
    }
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "ok");
    CU_ASSERT_STRING_EQUAL(f.r.got[1].status, "ok");
    CU_ASSERT_STRING_EQUAL(f.r.got[2].status, "no_history");
    CU_ASSERT_EQUAL(f.stats.refreshes, 1);
    CU_ASSERT(f.stats.reauths >= 1);
    char *log = slurp(f.s.log);
    CU_ASSERT_EQUAL(count_lines_with(log, "grant=refresh_token", NULL), 1);
    CU_ASSERT(count_lines_with(log, "route=history", "status=401") >= 1);
    free(log);
    fix_check_no_secrets(&f);
    fix_release(&f);
}

struct fault_case {
    const char *mix;
    int retries;
    const char *status;   /* expected, or a prefix ending in ':' */
};

static void test_sc_sim_ends_each_fault_kind_with_its_status(void)
{
    static const struct fault_case cases[] = {
        {"500=1", 1, "error:SERVER:INTERNAL"},
        {"502=1", 1, "error:UPSTREAM:UNKNOWN_ISSUE"},
        {"409=1", 1, "error:VEHICLE_STATE:ASLEEP"},
        {"429=1", 0, "error:RATE_LIMIT:VEHICLE"},
        {"slow=1", 1, "error:TIMEOUT"},
        {"trunc=1", 1, "error:NETWORK:PARTIAL_FILE"},
        {"cut=1", 1, "error:PARSE"},
        {"badjson=1", 1, "error:PARSE"},
        {"reset=1", 1, "error:NETWORK:"},
        {"html=1", 1, "error:UPSTREAM:HTTP_502"},
        {"v1=1", 1, "error:VEHICLE_STATE:VS_000"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct fix f;
        fix_init(&f, "faults", 86400, 86400);
        CU_ASSERT_FATAL(fix_serve(&f, 1, "--fault-rate", "1", "--fault-mix",
                                  cases[k].mix, "--slow-ms", "700",
                                  NULL) == 0);
        f.c.retries = cases[k].retries;
        f.c.timeout = 0.25;
        CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
        fix_stop(&f);
        const struct got *g = &f.r.got[0];
        size_t n = strlen(cases[k].status);
        int prefix = cases[k].status[n - 1] == ':';
        int match = prefix ? strncmp(g->status, cases[k].status, n) == 0
                           : strcmp(g->status, cases[k].status) == 0;
        if (!match)
            fprintf(stderr, "\nfault %s: got %s (%s)\n", cases[k].mix,
                    g->status, g->message);
        CU_ASSERT(match);
        CU_ASSERT_EQUAL(g->attempts, 1 + cases[k].retries);
        CU_ASSERT(g->message[0] != '\0');
        fix_check_no_secrets(&f);
        fix_release(&f);
    }
}

static void test_sc_sim_never_retries_permanent_refusals(void)
{
    struct fix f;
    fix_init(&f, "permanent", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 4, "--permanent-fault-rate", "1",
                              NULL) == 0);
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    for (int i = 0; i < 4; i++) {
        const char *st_i = f.r.got[i].status;
        CU_ASSERT(strcmp(st_i, "error:BILLING:VEHICLE_REQUEST_LIMIT") == 0
                  || strcmp(st_i, "error:COMPATIBILITY:MAKE_NOT_COMPATIBLE")
                         == 0);
        CU_ASSERT_EQUAL(f.r.got[i].attempts, 1);
    }
    fix_release(&f);
}

static void test_sc_sim_recovers_from_transient_faults_by_retrying(void)
{
    struct fix f;
    fix_init(&f, "flaky", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 12, "--fault-rate", "0.6", "--fault-mix",
                              "500=1,502=1,409=1,trunc=1,cut=1,badjson=1,"
                              "reset=1,html=1,v1=1", "--seed", "7",
                              NULL) == 0);
    for (int i = 4; i < 12; i++)
        f.jobs[i] = f.jobs[i % 4];
    f.c.retries = 12;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    for (int i = 0; i < 12; i++)
        CU_ASSERT(strcmp(f.r.got[i].status, "ok") == 0
                  || strcmp(f.r.got[i].status, "no_history") == 0);
    CU_ASSERT(f.stats.retries > 0);
    CU_ASSERT_EQUAL(f.stats.retries + 12, f.stats.history_requests);
    CU_ASSERT(f.stats.retry_server + f.stats.retry_vehicle_state
              + f.stats.retry_network + f.stats.retry_parse > 0);
    fix_release(&f);
}

static void test_sc_sim_waits_retry_after_for_that_vehicle_only(void)
{
    struct fix f;
    fix_init(&f, "retryafter", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 5, "--vehicle-limit", "1",
                              "--vehicle-window-s", "1", NULL) == 0);
    /* vehicle 1 twice: its second request meets the per-vehicle limit */
    struct jobspec jobs[5] = {f.jobs[0], f.jobs[0], f.jobs[1], f.jobs[2],
                              f.jobs[3]};
    f.r.jobs = jobs;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    const struct got *got = f.r.got;
    for (int i = 0; i < 5; i++)
        CU_ASSERT(strcmp(got[i].status, "ok") == 0
                  || strcmp(got[i].status, "no_history") == 0);
    int late = got[0].attempts > 1 ? 0 : 1;
    CU_ASSERT_EQUAL(got[late].attempts, 2);
    CU_ASSERT(got[late].at >= 0.9);
    /* the others did not wait for it */
    for (int i = 2; i < 5; i++) {
        CU_ASSERT(got[i].order < got[late].order);
        CU_ASSERT(got[i].at < 0.5);
    }
    CU_ASSERT_EQUAL(f.stats.retry_rate_vehicle, 1);
    char *log = slurp(f.s.log);
    CU_ASSERT_EQUAL(count_lines_with(log, "status=429", NULL), 1);
    CU_ASSERT_EQUAL(count_lines_with(log, "early_retry=1", NULL), 0);
    free(log);
    fix_release(&f);
}

static void test_sc_sim_rate_cap_avoids_the_app_limit_and_pauses_help(void)
{
    struct fix f;
    fix_init(&f, "rate", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 6, "--rate-bucket", "3",
                              "--rate-refill-per-min", "600", NULL) == 0);
    for (int i = 4; i < 10; i++)
        f.jobs[i] = f.jobs[i % 4];

    /* 8 requests/s under a bucket refilled at 10/s: never refused */
    f.c.rate = 8;
    double t0 = now_s();
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    double took = now_s() - t0;
    CU_ASSERT(took >= 5 / 8.0 - 0.01); /* the first goes at once */
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(f.r.got[i].attempts, 1);
    CU_ASSERT_EQUAL(f.stats.pauses, 0);
    char *log = slurp(f.s.log);
    CU_ASSERT_EQUAL(count_lines_with(log, "status=429", NULL), 0);
    free(log);

    /* uncapped, the bucket runs dry: the app-wide pause gets all through */
    fix_rerun(&f, f.jobs, 10);
    f.c.concurrency = 10;
    f.c.retries = 20;
    f.c.backoff_base = 0.05;
    f.c.backoff_cap = 0.2;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    for (int i = 0; i < 10; i++)
        CU_ASSERT(strcmp(f.r.got[i].status, "ok") == 0
                  || strcmp(f.r.got[i].status, "no_history") == 0);
    CU_ASSERT(f.stats.pauses >= 1);
    CU_ASSERT(f.stats.retry_rate_app >= 1);
    CU_ASSERT_PTR_NOT_NULL(f.r.log && strstr(f.r.log, "app rate limit"));
    fix_release(&f);
}

static void test_sc_sim_discovers_vehicle_ids_once_per_user(void)
{
    char dir[128];
    make_dir("discover", dir, sizeof(dir));
    /* user 1: 3 vehicles; user 3: 55 vehicles (two list pages) */
    static char vins[55][18];
    static char vids[55][16];
    struct fv fleet[59];
    std_fleet(fleet, 86400, 86400);
    for (int i = 0; i < 55; i++) {
        snprintf(vins[i], sizeof(vins[i]), "5YJ3E1EA0KF%06u", (unsigned)i);
        snprintf(vids[i], sizeof(vids[i]), "u3-veh-%03u", (unsigned)i);
        fleet[4 + i] = (struct fv){vins[i], vids[i], "user-3", "metric",
                                   "AT-u3-77778888999900001111",
                                   "RT-u3-2222333344445555dddd", 86400,
                                   i == 54 ? HIST_ONE : NULL};
    }
    write_fleet(dir, fleet, 59);
    struct sim s;
    CU_ASSERT_FATAL(sim_start(&s, dir, NULL) == 0);
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct jobspec base[4];
    std_jobs(base, fleet, st);
    struct tok_pair *p3 = tok_register(st, "AT-u3-77778888999900001111",
                                       "RT-u3-2222333344445555dddd",
                                       (long long)time(NULL) + 86400, NULL);
    struct jobspec jobs[6] = {
        {fleet[0].vin, NULL, NULL, base[0].pair},
        {fleet[1].vin, NULL, NULL, base[1].pair},
        {fleet[2].vin, "", NULL, base[2].pair},
        {fleet[3].vin, NULL, NULL, base[0].pair}, /* user 2's, not user 1's */
        {vins[54], NULL, NULL, p3},               /* on the second page */
        {vins[3], NULL, NULL, p3},
    };
    struct run r;
    run_init(&r, jobs, 6);
    struct sc_config c;
    test_config(&c, s.origin, st, &r);
    struct sc_stats stats;
    CU_ASSERT_EQUAL(drive(&c, &r, &stats), ENG_OK);
    sim_stop(&s);
    CU_ASSERT_STRING_EQUAL(r.got[0].status, "ok");
    CU_ASSERT_STRING_EQUAL(r.got[0].vid, "veh-0001");
    CU_ASSERT_STRING_EQUAL(r.got[1].vid, "veh-0002");
    CU_ASSERT_STRING_EQUAL(r.got[2].status, "no_history");
    CU_ASSERT_STRING_EQUAL(r.got[2].vid, "veh-0003");
    CU_ASSERT_STRING_EQUAL(r.got[3].status, "error:INPUT:VIN_NOT_FOUND");
    CU_ASSERT_STRING_EQUAL(r.got[4].status, "ok");
    CU_ASSERT_STRING_EQUAL(r.got[4].vid, "u3-veh-054");
    CU_ASSERT_STRING_EQUAL(r.got[5].status, "no_history");
    CU_ASSERT_STRING_EQUAL(r.got[5].vid, "u3-veh-003");
    CU_ASSERT_EQUAL(stats.list_requests, 3);
    CU_ASSERT_EQUAL(stats.vin_requests, 58);
    char *log = slurp(s.log);
    CU_ASSERT_EQUAL(count_lines_with(log, "route=vehicles", NULL), 3);
    CU_ASSERT_EQUAL(count_lines_with(log, "route=vin", NULL), 58);
    free(log);
    check_outputs_hold_no_secrets(&r, &s, fleet, 4);
    run_release(&r);
    tok_store_free(st);
}

static void test_sc_sim_reports_the_unit_system_of_the_answer(void)
{
    struct fix f;
    fix_init(&f, "imperial", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 2, "--ignore-unit-header", NULL) == 0);
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].unit, "metric");
    CU_ASSERT_STRING_EQUAL(f.r.got[1].status, "ok");
    CU_ASSERT_STRING_EQUAL(f.r.got[1].unit, "imperial");
    fix_release(&f);
}

static void test_sc_sim_caps_the_body_size(void)
{
    struct fix f;
    fix_init(&f, "cap", 86400, 86400);
    /* vehicle 4: 200 alike records, small gzipped, 20 kB decoded */
    size_t one = strlen(HIST_ONE) - 2;
    char *big = malloc(200 * (one + 1) + 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    char *o = big;
    *o++ = '[';
    for (int i = 0; i < 200; i++) {
        if (i > 0)
            *o++ = ',';
        memcpy(o, HIST_ONE + 1, one);
        o += one;
    }
    *o++ = ']';
    *o = '\0';
    f.fleet[3].history = big;
    CU_ASSERT_FATAL(fix_serve(&f, 4, NULL) == 0);
    f.c.max_body = 400;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "error:LIMIT:BODY_SIZE");
    CU_ASSERT_EQUAL(f.r.got[0].attempts, 1);
    CU_ASSERT_PTR_NULL(f.r.got[0].body);
    CU_ASSERT_STRING_EQUAL(f.r.got[1].status, "ok");
    CU_ASSERT_STRING_EQUAL(f.r.got[2].status, "no_history");
    /* the cap counts decoded bytes, whatever the gzipped size */
    CU_ASSERT_STRING_EQUAL(f.r.got[3].status, "error:LIMIT:BODY_SIZE");

    /* under a cap that fits, the same gzipped body arrives whole */
    fix_rerun(&f, f.jobs + 3, 1);
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "ok");
    CU_ASSERT_EQUAL(f.r.got[0].body_len, strlen(big));
    char *log = slurp(f.s.log);
    CU_ASSERT(count_lines_with(log, "path=/v2.0/vehicles/veh-0004/", NULL)
              == 2);
    free(log);
    fix_release(&f);
    free(big);
}

static void test_sc_sim_fetches_v3_records_with_an_app_token(void)
{
    struct fix f;
    fix_init(&f, "v3", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 3, NULL) == 0);
    struct jobspec jobs[3] = {
        {f.fleet[0].vin, f.fleet[0].vid, "user-1", NULL},
        {f.fleet[3].vin, f.fleet[3].vid, "user-2", NULL},
        {f.fleet[3].vin, f.fleet[3].vid, NULL, NULL},
    };
    f.r.jobs = jobs;
    f.c.tokens = NULL;
    f.c.api_version = "3";
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "ok");
    CU_ASSERT_PTR_NOT_NULL(f.r.got[0].body && strstr(f.r.got[0].body,
                                                     "\"values\""));
    CU_ASSERT_STRING_EQUAL(f.r.got[1].status, "ok");
    CU_ASSERT_NSTRING_EQUAL(f.r.got[2].status, "error:VALIDATION", 16);
    CU_ASSERT_EQUAL(f.stats.token_requests, 1);
    char *log = slurp(f.s.log);
    CU_ASSERT_EQUAL(count_lines_with(log, "grant=client_credentials",
                                     "result=ok"), 1);
    CU_ASSERT_EQUAL(count_lines_with(log, "route=service_records", NULL), 3);
    free(log);
    fix_check_no_secrets(&f);
    fix_release(&f);
}

static void test_sc_sim_reports_a_refused_connection_after_retries(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct tok_pair *p = tok_register(st, "AT-x", "RT-x", 0, NULL);
    struct jobspec jobs[1] = {{"1FTFW1E50NFA00001", "veh-1", NULL, p}};
    struct run r;
    run_init(&r, jobs, 1);
    struct sc_config c;
    test_config(&c, "http://127.0.0.1:1", st, &r);
    c.retries = 2;
    struct sc_stats stats;
    CU_ASSERT_EQUAL(drive(&c, &r, &stats), ENG_OK);
    CU_ASSERT_STRING_EQUAL(r.got[0].status, "error:NETWORK:COULDNT_CONNECT");
    CU_ASSERT_EQUAL(r.got[0].attempts, 3);
    CU_ASSERT_EQUAL(stats.retry_network, 2);
    run_release(&r);
    tok_store_free(st);
}

static void test_sc_sim_holds_at_most_max_active_vehicles(void)
{
    struct fix f;
    fix_init(&f, "bounded", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 40, NULL) == 0);
    for (int i = 4; i < 40; i++)
        f.jobs[i] = f.jobs[i % 4];
    f.c.concurrency = 2;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    CU_ASSERT_EQUAL(f.r.max_outstanding, 4);
    CU_ASSERT_EQUAL(f.r.dones, 40);
    for (int i = 0; i < 40; i++)
        CU_ASSERT_EQUAL(f.r.got[i].done, 1);

    /* a failing source stops the run with its code */
    fix_rerun(&f, f.jobs, 40);
    f.r.fail_next_at = 6;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_EIO);
    CU_ASSERT(f.r.dones <= 6);

    /* so does a failing sink */
    fix_rerun(&f, f.jobs, 40);
    f.r.fail_done_at = 2;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_EIO);
    CU_ASSERT_EQUAL(f.r.dones, 3);

    /* and a raised stop flag */
    volatile sig_atomic_t stop = 1;
    fix_rerun(&f, f.jobs, 40);
    f.c.stop = &stop;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_EUSAGE);
    CU_ASSERT_EQUAL(f.r.dones, 0);
    fix_release(&f);
}

static void test_sc_sim_gives_input_statuses_without_a_request(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct tok_pair *expired = tok_register(st, "AT-e", "RT-e",
                                            (long long)time(NULL) - 10, NULL);
    struct jobspec jobs[4] = {
        {"1FTFW1E50NFA00001", "veh-1", NULL, NULL},  /* v2 without tokens */
        {NULL, NULL, NULL, expired},                 /* nothing to look up */
        {"1FTFW1E50NFA00001", NULL, NULL, NULL},     /* vin, no tokens */
        {"1FTFW1E50NFA00001", "veh-1", NULL, expired}, /* no client creds */
    };
    struct run r;
    run_init(&r, jobs, 4);
    struct sc_config c;
    test_config(&c, "http://127.0.0.1:1", st, &r);
    c.client_id = NULL;
    c.client_secret = NULL;
    struct sc_stats stats;
    CU_ASSERT_EQUAL(drive(&c, &r, &stats), ENG_OK);
    CU_ASSERT_STRING_EQUAL(r.got[0].status, "error:INPUT:NO_TOKEN");
    CU_ASSERT_STRING_EQUAL(r.got[1].status, "error:INPUT:NO_VEHICLE");
    CU_ASSERT_STRING_EQUAL(r.got[2].status, "error:INPUT:NO_TOKEN");
    CU_ASSERT_STRING_EQUAL(r.got[3].status,
                           "error:AUTHENTICATION:NO_CLIENT_CREDENTIALS");
    CU_ASSERT_EQUAL(stats.requests, 0);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(r.got[i].attempts, 0);
    run_release(&r);

    /* v3 without client credentials cannot get an application token */
    run_init(&r, jobs, 1);
    test_config(&c, "http://127.0.0.1:1", NULL, &r);
    c.api_version = "3";
    c.client_secret = NULL;
    CU_ASSERT_EQUAL(drive(&c, &r, &stats), ENG_OK);
    CU_ASSERT_STRING_EQUAL(r.got[0].status,
                           "error:AUTHENTICATION:NO_CLIENT_CREDENTIALS");
    run_release(&r);
    tok_store_free(st);
}

static void test_sc_sim_fails_every_vehicle_of_a_pair_on_a_refused_client(void)
{
    struct fix f;
    fix_init(&f, "badclient", -3600, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 4, NULL) == 0);
    f.c.client_secret = "not-the-secret";
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_STRING_EQUAL(f.r.got[i].status,
                               "error:AUTHENTICATION:INVALID_CLIENT");
    CU_ASSERT_STRING_EQUAL(f.r.got[3].status, "ok");
    CU_ASSERT_EQUAL(f.stats.refreshes, 1);
    CU_ASSERT_PTR_NULL(f.r.log ? strstr(f.r.log, "not-the-secret") : NULL);
    fix_check_no_secrets(&f);
    fix_release(&f);
}

static void test_sc_sim_fails_at_once_on_a_retry_after_beyond_the_limit(void)
{
    struct fix f;
    fix_init(&f, "longwait", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 2, "--vehicle-limit", "1",
                              "--vehicle-window-s", "60", NULL) == 0);
    f.jobs[1] = f.jobs[0];
    f.c.concurrency = 1;
    f.c.max_retry_after = 5;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "ok");
    CU_ASSERT_STRING_EQUAL(f.r.got[1].status, "error:RATE_LIMIT:VEHICLE");
    CU_ASSERT_EQUAL(f.r.got[1].attempts, 1);
    CU_ASSERT(f.r.got[1].at < 1.0);
    CU_ASSERT_PTR_NOT_NULL(strstr(f.r.got[1].message, "Retry-After"));
    fix_release(&f);
}

static void test_sc_sim_reports_json_of_another_shape(void)
{
    struct fix f;
    fix_init(&f, "shape", 86400, 86400);
    f.fleet[0].history = "{\"odd\":true}";
    CU_ASSERT_FATAL(fix_serve(&f, 1, NULL) == 0);
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "error:PARSE:SHAPE");
    CU_ASSERT_EQUAL(f.r.got[0].attempts, 1);
    fix_release(&f);
}

/*
 * A rotation that cannot be written stops the run (ENG_EIO) rather than
 * use tokens that would be lost.  In a child: the file size limit is
 * process-wide.
 */
static void test_sc_sim_stops_when_a_rotation_cannot_be_stored(void)
{
    char dir[128];
    char store[160];
    make_dir("fullstore", dir, sizeof(dir));
    snprintf(store, sizeof(store), "%s/tokens.jsonl", dir);
    struct fv fleet[4];
    std_fleet(fleet, -3600, 86400);
    write_fleet(dir, fleet, 4);
    struct sim s;
    CU_ASSERT_FATAL(sim_start(&s, dir, NULL) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct tok_store *st = tok_store_open(store, NULL);
        if (!st)
            _exit(2);
        struct rlimit rl = {10, 10};
        setrlimit(RLIMIT_FSIZE, &rl);
        struct jobspec jobs[4];
        std_jobs(jobs, fleet, st);
        struct run r;
        run_init(&r, jobs, 4);
        struct sc_config c;
        test_config(&c, s.origin, st, &r);
        struct eng_err e = {0};
        struct sc_client *sc = sc_new(&c, &e);
        int rc = sc ? sc_run(sc, next_job, job_done, &r, &e) : -99;
        int ok = rc == ENG_EIO && strstr(e.msg, "token store")
                 && !strstr(e.msg, "RT-") && !strstr(e.msg, "rt_");
        for (int i = 0; i < 3; i++)
            ok = ok && strcmp(r.got[i].status, "ok") != 0;
        sc_free(sc);
        run_release(&r);
        tok_store_free(st);
        /* exit(), not _exit(): under LeakSanitizer the child is checked */
        exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    sim_stop(&s);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- a hostile server: canned answers, as a misbehaving origin gives ---- */

/*
 * A one-connection-at-a-time HTTP server on 127.0.0.1 answering every
 * POST to /oauth/token with token_reply and every other request with
 * api_reply (both whole HTTP responses), the api reply's body sent a byte
 * every trickle_ms milliseconds when trickle_ms > 0.  Each request, as
 * received, is appended to log.  Runs in a child until hostile_stop().
 */
struct hostile {
    pid_t pid;
    char origin[64];
    char log[160];
};

/* The api reply's length when it holds NUL bytes (gzip); 0: strlen(). */
static size_t hostile_api_len;

static void hostile_serve(int ls, const struct hostile *h,
                          const char *api_reply, const char *token_reply,
                          int trickle_ms)
{
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        char req[8192];
        size_t len = 0;
        ssize_t r;
        char *end = NULL;
        while (len + 1 < sizeof(req)
               && (r = read(fd, req + len, sizeof(req) - 1 - len)) > 0) {
            len += (size_t)r;
            req[len] = '\0';
            end = strstr(req, "\r\n\r\n");
            if (!end)
                continue;
            const char *cl = strstr(req, "Content-Length: ");
            size_t want = (size_t)(end + 4 - req)
                          + (cl ? (size_t)atol(cl + 16) : 0);
            if (len >= want)
                break;
        }
        int lf = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (lf >= 0) {
            if (write(lf, req, len) < 0 || write(lf, "\n", 1) < 0)
                _exit(3);
            close(lf);
        }
        int token = strncmp(req, "POST /oauth/token", 17) == 0;
        const char *reply = token ? token_reply : api_reply;
        size_t rlen = !token && hostile_api_len ? hostile_api_len
                                                : strlen(reply);
        const char *body = strstr(reply, "\r\n\r\n");
        size_t head = body && !token && trickle_ms > 0
                          ? (size_t)(body + 4 - reply) : rlen;
        if (write(fd, reply, head) < 0)
            head = rlen;
        for (size_t i = head; i < rlen; i++) {
            struct timespec ts = {trickle_ms / 1000,
                                  (trickle_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            if (write(fd, reply + i, 1) < 0)
                break;
        }
        close(fd);
    }
}

static int hostile_start(struct hostile *h, const char *dir,
                         const char *api_reply, const char *token_reply,
                         int trickle_ms)
{
    memset(h, 0, sizeof(*h));
    snprintf(h->log, sizeof(h->log), "%s/requests.log", dir);
    unlink(h->log);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 16) < 0
        || getsockname(ls, (struct sockaddr *)&a, &alen) < 0) {
        close(ls);
        return -1;
    }
    snprintf(h->origin, sizeof(h->origin), "http://127.0.0.1:%d",
             ntohs(a.sin_port));
    fflush(NULL);
    h->pid = fork();
    if (h->pid == 0) {
        hostile_serve(ls, h, api_reply, token_reply, trickle_ms);
        _exit(0);
    }
    close(ls);
    return h->pid > 0 ? 0 : -1;
}

static void hostile_stop(struct hostile *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
        h->pid = 0;
    }
}

/* Requests the hostile server received (a request line each). */
static int hostile_requests(const struct hostile *h, const char *with)
{
    char *log = slurp(h->log);
    int n = count_lines_with(log, " HTTP/1.1\r", with);
    free(log);
    return n;
}

/* One job for vehicle id veh-1 with the given tokens, against origin. */
struct hostile_run {
    struct tok_store *st;
    struct jobspec jobs[2];
    struct run r;
    struct sc_config c;
    struct sc_stats stats;
};

static void hostile_run_init(struct hostile_run *hr, const char *origin,
                             const char *store, const char *access,
                             const char *refresh, long long expires_in,
                             size_t njobs)
{
    memset(hr, 0, sizeof(*hr));
    hr->st = tok_store_open(store, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hr->st);
    long long exp = expires_in ? (long long)time(NULL) + expires_in : 0;
    struct tok_pair *p = tok_register(hr->st, access, refresh, exp, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    hr->jobs[0] = (struct jobspec){"1FTFW1E50NFA00001", "veh-1", NULL, p};
    hr->jobs[1] = (struct jobspec){"JTDKARFU0K3000002", "veh-2", NULL, p};
    run_init(&hr->r, hr->jobs, njobs);
    test_config(&hr->c, origin, hr->st, &hr->r);
    hr->c.retries = 2;
}

static void hostile_run_release(struct hostile_run *hr)
{
    run_release(&hr->r);
    tok_store_free(hr->st);
}

#define TEXT_503_FAR                                                     \
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"   \
    "Retry-After: 9999999\r\nContent-Length: 4\r\n"                      \
    "Connection: close\r\n\r\nbusy"
#define TEXT_503_YEAR_9999                                               \
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"   \
    "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\nContent-Length: 4\r\n" \
    "Connection: close\r\n\r\nbusy"
#define APP_LIMIT_FAR                                                    \
    "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n" \
    "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\nContent-Length: 49\r\n" \
    "Connection: close\r\n\r\n"                                          \
    "{\"type\":\"RATE_LIMIT\",\"code\":\"SMARTCAR_API\",\"x\":1}"
#define NO_TOKEN_CALL                                                    \
    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"        \
    "Connection: close\r\n\r\n"

static void test_sc_sim_caps_every_retry_after_a_server_asks_for(void)
{
    static const struct {
        const char *reply;
        const char *status;
    } cases[] = {
        {TEXT_503_FAR, "error:SERVER:HTTP_503"},
        {TEXT_503_YEAR_9999, "error:SERVER:HTTP_503"},
        {APP_LIMIT_FAR, "error:RATE_LIMIT:SMARTCAR_API"},
    };
    char dir[128];
    make_dir("farwait", dir, sizeof(dir));
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct hostile h;
        CU_ASSERT_FATAL(hostile_start(&h, dir, cases[k].reply, NO_TOKEN_CALL,
                                      0) == 0);
        struct hostile_run hr;
        hostile_run_init(&hr, h.origin, NULL, "AT-far", "RT-far", 86400, 2);
        double t0 = now_s();
        CU_ASSERT_EQUAL(drive(&hr.c, &hr.r, &hr.stats), ENG_OK);
        double took = now_s() - t0;
        hostile_stop(&h);
        /* each vehicle fails at its first answer; the batch went on */
        for (int i = 0; i < 2; i++) {
            CU_ASSERT_STRING_EQUAL(hr.r.got[i].status, cases[k].status);
            CU_ASSERT_EQUAL(hr.r.got[i].attempts, 1);
            CU_ASSERT_PTR_NOT_NULL(strstr(hr.r.got[i].message,
                                          "beyond the 900 s limit"));
        }
        CU_ASSERT(took < 3.0);
        CU_ASSERT_EQUAL(hr.stats.pauses, 0);
        CU_ASSERT_EQUAL(hostile_requests(&h, NULL), 2);
        hostile_run_release(&hr);
    }
}

static void test_sc_sim_cuts_a_server_that_trickles_its_answer(void)
{
    char dir[128];
    make_dir("trickle", dir, sizeof(dir));
    struct hostile h;
    CU_ASSERT_FATAL(hostile_start(&h, dir,
                                  "HTTP/1.1 200 OK\r\nContent-Type: "
                                  "application/json\r\nContent-Length: 40\r\n"
                                  "Connection: close\r\n\r\n"
                                  "[                                      ]",
                                  NO_TOKEN_CALL, 100) == 0);
    struct hostile_run hr;
    hostile_run_init(&hr, h.origin, NULL, "AT-slow", "RT-slow", 86400, 1);
    hr.c.retries = 0;
    hr.c.timeout = 20;
    hr.c.min_speed = 64;
    hr.c.min_speed_time = 0.5;
    double t0 = now_s();
    CU_ASSERT_EQUAL(drive(&hr.c, &hr.r, &hr.stats), ENG_OK);
    double took = now_s() - t0;
    hostile_stop(&h);
    CU_ASSERT_STRING_EQUAL(hr.r.got[0].status, "error:TIMEOUT");
    CU_ASSERT_PTR_NOT_NULL(strstr(hr.r.got[0].message, "bytes/s"));
    /* 40 bytes at 10 a second would take 4 s; the limit cut it first */
    CU_ASSERT(took < 2.5);
    hostile_run_release(&hr);

    /* with the limit off, the same answer arrives whole */
    CU_ASSERT_FATAL(hostile_start(&h, dir,
                                  "HTTP/1.1 200 OK\r\nContent-Type: "
                                  "application/json\r\nContent-Length: 4\r\n"
                                  "Connection: close\r\n\r\n[  ]",
                                  NO_TOKEN_CALL, 100) == 0);
    hostile_run_init(&hr, h.origin, NULL, "AT-slow", "RT-slow", 86400, 1);
    hr.c.min_speed = 0;
    CU_ASSERT_EQUAL(drive(&hr.c, &hr.r, &hr.stats), ENG_OK);
    hostile_stop(&h);
    CU_ASSERT_STRING_EQUAL(hr.r.got[0].status, "no_history");
    hostile_run_release(&hr);
}

static void test_sc_sim_does_not_follow_redirects(void)
{
    char dir[128];
    make_dir("redirect", dir, sizeof(dir));
    struct hostile h;
    CU_ASSERT_FATAL(hostile_start(&h, dir,
                                  "HTTP/1.1 302 Found\r\nLocation: "
                                  "/elsewhere\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n",
                                  NO_TOKEN_CALL, 0) == 0);
    struct hostile_run hr;
    hostile_run_init(&hr, h.origin, NULL, "AT-redir", "RT-redir", 86400, 1);
    CU_ASSERT_EQUAL(drive(&hr.c, &hr.r, &hr.stats), ENG_OK);
    hostile_stop(&h);
    CU_ASSERT_STRING_EQUAL(hr.r.got[0].status, "error:HTTP:302");
    CU_ASSERT_EQUAL(hostile_requests(&h, NULL), 1);
    CU_ASSERT_EQUAL(hostile_requests(&h, "/elsewhere"), 0);
    hostile_run_release(&hr);
}

/* An HTTP answer of status 200 whose body is gz (n bytes), as encoding. */
static size_t gzip_reply(char *out, size_t cap, const char *encoding,
                         const unsigned char *gz, size_t n)
{
    int h = snprintf(out, cap, "HTTP/1.1 200 OK\r\nContent-Type: "
                     "application/json\r\nContent-Encoding: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     encoding, n);
    CU_ASSERT_FATAL(h > 0 && (size_t)h + n < cap);
    memcpy(out + h, gz, n);
    return (size_t)h + n;
}

static void test_sc_sim_decodes_gzip_and_refuses_a_damaged_body(void)
{
    static const char history[] =
        "[{\"serviceId\":\"s1\",\"odometerDistance\":1000,"
        "\"serviceDate\":\"2024-01-02\",\"serviceTasks\":[],"
        "\"serviceDetails\":[],\"serviceCost\":{}},"
        "{\"serviceId\":\"s2\",\"odometerDistance\":9000,"
        "\"serviceDate\":\"2024-09-02\",\"serviceTasks\":[],"
        "\"serviceDetails\":[],\"serviceCost\":{}}]";
    unsigned char gz[1024];
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    CU_ASSERT_FATAL(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
                                 Z_DEFAULT_STRATEGY) == Z_OK);
    zs.next_in = (unsigned char *)history;
    zs.avail_in = (uInt)strlen(history);
    zs.next_out = gz;
    zs.avail_out = sizeof(gz);
    CU_ASSERT_FATAL(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    size_t n = zs.total_out;
    deflateEnd(&zs);
    unsigned char bad[1024];
    memcpy(bad, gz, n);
    for (size_t i = 12; i < n - 8; i += 3)
        bad[i] ^= 0x5a;
    static const struct {
        const char *what, *encoding, *status, *message;
        int variant;            /* 0 whole, 1 damaged, 2 cut short */
    } cases[] = {
        {"whole", "gzip", "ok", NULL, 0},
        {"x-gzip", "x-gzip", "ok", NULL, 0},
        {"damaged", "gzip", "error:NETWORK:BAD_CONTENT_ENCODING", "damaged", 1},
        {"cut", "gzip", "error:NETWORK:BAD_CONTENT_ENCODING", "cut short", 2},
        {"brotli", "br", "error:NETWORK:BAD_CONTENT_ENCODING", "'br'", 0},
    };
    char dir[128];
    make_dir("gzip", dir, sizeof(dir));
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char reply[2048];
        const unsigned char *body = cases[k].variant == 1 ? bad : gz;
        size_t len = cases[k].variant == 2 ? n / 2 : n;
        hostile_api_len = gzip_reply(reply, sizeof(reply), cases[k].encoding,
                                     body, len);
        struct hostile h;
        CU_ASSERT_FATAL(hostile_start(&h, dir, reply, NO_TOKEN_CALL, 0) == 0);
        struct hostile_run hr;
        hostile_run_init(&hr, h.origin, NULL, "AT-gz", "RT-gz", 86400, 1);
        hr.c.retries = 1;
        CU_ASSERT_EQUAL(drive(&hr.c, &hr.r, &hr.stats), ENG_OK);
        hostile_stop(&h);
        hostile_api_len = 0;
        CU_ASSERT_STRING_EQUAL(hr.r.got[0].status, cases[k].status);
        if (cases[k].message)
            CU_ASSERT_PTR_NOT_NULL(strstr(hr.r.got[0].message,
                                          cases[k].message));
        /* one request each try, and each asked for gzip alone */
        int tries = strcmp(cases[k].status, "ok") == 0 ? 1 : 2;
        CU_ASSERT_EQUAL(hostile_requests(&h, NULL), tries);
        char *log = slurp(h.log);
        CU_ASSERT_EQUAL(count_lines_with(log, "Accept-Encoding: gzip\r",
                                         NULL), tries);
        free(log);
        if (strcmp(cases[k].status, "ok") == 0) {
            /* decoded bytes counted as the body, compressed as received */
            CU_ASSERT_EQUAL(hr.stats.bytes, strlen(history));
            CU_ASSERT(hr.stats.wire_bytes >= n);
            CU_ASSERT(hr.stats.wire_bytes < strlen(history) + 200);
        }
        hostile_run_release(&hr);
    }
}

static void test_sc_sim_refuses_a_token_that_would_add_headers(void)
{
    char dir[128];
    make_dir("crlf", dir, sizeof(dir));
    struct hostile h;
    CU_ASSERT_FATAL(hostile_start(&h, dir, NO_TOKEN_CALL, NO_TOKEN_CALL,
                                  0) == 0);
    static const char *const bad[] = {
        "at\r\nX-Injected: yes", "at with blank", "at\x7f", "at\xc3\xa9",
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        struct hostile_run hr;
        hostile_run_init(&hr, h.origin, NULL, bad[k], "RT-ok", 86400, 1);
        CU_ASSERT_EQUAL(drive(&hr.c, &hr.r, &hr.stats), ENG_OK);
        CU_ASSERT_STRING_EQUAL(hr.r.got[0].status, "error:INPUT:BAD_TOKEN");
        CU_ASSERT_EQUAL(hr.r.got[0].attempts, 0);
        hostile_run_release(&hr);
    }
    /* a bad refresh token is refused the same way */
    struct hostile_run hr;
    hostile_run_init(&hr, h.origin, NULL, "AT-ok", "rt\r\nX-Injected: yes",
                     -3600, 1);
    CU_ASSERT_EQUAL(drive(&hr.c, &hr.r, &hr.stats), ENG_OK);
    CU_ASSERT_STRING_EQUAL(hr.r.got[0].status, "error:INPUT:BAD_TOKEN");
    hostile_run_release(&hr);
    CU_ASSERT_EQUAL(hostile_requests(&h, NULL), 0);

    /* a vehicle id goes into the path percent-encoded */
    hostile_run_init(&hr, h.origin, NULL, "AT-ok", "RT-ok", 86400, 1);
    hr.jobs[0].vid = "veh\r\nX-Injected: yes";
    hr.c.retries = 0;
    CU_ASSERT_EQUAL(drive(&hr.c, &hr.r, &hr.stats), ENG_OK);
    hostile_run_release(&hr);
    hostile_stop(&h);
    CU_ASSERT_EQUAL(hostile_requests(&h, "/veh%0D%0AX-Injected%3A%20yes/"),
                    1);
    char *log = slurp(h.log);
    CU_ASSERT_PTR_NULL(strstr(log, "\nX-Injected"));
    free(log);

    /* client credentials and origins follow the same rule */
    struct sc_config c;
    struct eng_err e = {0};
    test_config(&c, "http://127.0.0.1:1", NULL, NULL);
    c.api_version = "3";
    c.client_id = "id\r\nX-Injected: yes";
    CU_ASSERT_PTR_NULL(sc_new(&c, &e));
    CU_ASSERT_EQUAL(e.code, ENG_EUSAGE);
    test_config(&c, "http://127.0.0.1:1/a b", NULL, NULL);
    c.api_version = "3";
    CU_ASSERT_PTR_NULL(sc_new(&c, &e));
    CU_ASSERT_EQUAL(e.code, ENG_EUSAGE);
}

static void test_sc_sim_stores_nothing_from_a_token_answer_with_crlf(void)
{
    char dir[128];
    char store[160];
    make_dir("crlfanswer", dir, sizeof(dir));
    snprintf(store, sizeof(store), "%s/tokens.jsonl", dir);
    unlink(store);
    static const char answer[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Content-Length: 105\r\nConnection: close\r\n\r\n"
        "{\"access_token\":\"at\\r\\nX-Injected: yes\",\"token_type\":"
        "\"Bearer\",\"expires_in\":7200,\"refresh_token\":\"rt-new\"}";
    struct hostile h;
    CU_ASSERT_FATAL(hostile_start(&h, dir, NO_TOKEN_CALL, answer, 0) == 0);
    struct hostile_run hr;
    hostile_run_init(&hr, h.origin, store, "AT-old", "RT-old", -3600, 2);
    CU_ASSERT_EQUAL(drive(&hr.c, &hr.r, &hr.stats), ENG_OK);
    hostile_stop(&h);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_STRING_EQUAL(hr.r.got[i].status,
                               "error:AUTHENTICATION:BAD_TOKEN_RESPONSE");
    CU_ASSERT_EQUAL(hr.stats.refreshes, 1);
    CU_ASSERT_EQUAL(hr.stats.rotations, 0);
    CU_ASSERT_EQUAL(hr.stats.history_requests, 0);
    CU_ASSERT_EQUAL(hostile_requests(&h, "/oauth/token"), 1);
    CU_ASSERT_EQUAL(hostile_requests(&h, NULL), 1);
    hostile_run_release(&hr);
    char *text = slurp(store);
    CU_ASSERT_PTR_NULL(strstr(text, "rt-new"));
    CU_ASSERT_PTR_NULL(strstr(text, "Injected"));
    free(text);
}

static void test_sc_sim_fails_a_never_issued_refresh_token(void)
{
    struct fix f;
    fix_init(&f, "neverissued", 86400, 86400);
    CU_ASSERT_FATAL(fix_serve(&f, 1, NULL) == 0);
    struct tok_pair *p = tok_register(f.st, "AT-never-000000000000000000",
                                      "RT-never-issued-0000000000000",
                                      (long long)time(NULL) - 3600, NULL);
    f.jobs[0].pair = p;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status,
                           "error:AUTHENTICATION:REFRESH_FAILED");
    CU_ASSERT_EQUAL(f.r.got[0].attempts, 0);
    char *log = slurp(f.s.log);
    CU_ASSERT_EQUAL(count_lines_with(log, "grant=refresh_token",
                                     "result=invalid_grant"), 1);
    CU_ASSERT_EQUAL(count_lines_with(log, "status=500", NULL), 0);
    free(log);
    fix_check_no_secrets(&f);
    fix_release(&f);
}

/*
 * The powertrain from the v3 vehicle object: asked only for the jobs that
 * want it (one request more each), read from powertrainType; a null
 * powertrainType leaves it unknown; the history is fetched as before.
 */
static void test_sc_sim_learns_the_powertrain_from_the_vehicle_object(void)
{
    struct fix f;
    fix_init(&f, "ptrain", 86400, 86400);
    f.ptrain[0] = "BEV";
    f.ptrain[1] = "hev";
    f.ptrain[3] = "PHEV";
    CU_ASSERT_FATAL(fix_serve(&f, 4, NULL) == 0);

    /* nobody wants it: one request per vehicle, as before */
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    CU_ASSERT_EQUAL(f.stats.vehicle_requests, 0);
    CU_ASSERT_EQUAL(f.stats.requests, 4);
    CU_ASSERT_EQUAL(f.r.got[0].powertrain, PTRAIN_UNKNOWN);

    fix_rerun(&f, f.jobs, 4);
    for (int i = 0; i < 3; i++)
        f.r.want_ptrain[i] = 1;  /* vehicle 3's list gave it */
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "ok");
    CU_ASSERT_STRING_EQUAL(f.r.got[1].status, "ok");
    CU_ASSERT_STRING_EQUAL(f.r.got[2].status, "no_history");
    CU_ASSERT_STRING_EQUAL(f.r.got[3].status, "ok");
    CU_ASSERT_EQUAL(f.r.got[0].powertrain, PTRAIN_BEV);
    CU_ASSERT_EQUAL(f.r.got[1].powertrain, PTRAIN_HEV);
    CU_ASSERT_EQUAL(f.r.got[2].powertrain, PTRAIN_UNKNOWN);
    CU_ASSERT_EQUAL(f.r.got[3].powertrain, PTRAIN_UNKNOWN);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(f.r.got[i].attempts, 1);
    CU_ASSERT_EQUAL(f.stats.vehicle_requests, 3);
    CU_ASSERT_EQUAL(f.stats.powertrains, 2);
    CU_ASSERT_EQUAL(f.stats.history_requests, 4);
    CU_ASSERT_EQUAL(f.stats.requests, 7);
    char *log = slurp(f.s.log);
    CU_ASSERT_EQUAL(count_lines_with(log, "route=vehicle_v3", NULL), 3);
    CU_ASSERT_EQUAL(count_lines_with(log, "route=vehicle_v3", "veh-0004"),
                    0);
    CU_ASSERT_EQUAL(count_lines_with(log, "route=vehicle_v3", "status=200"),
                    3);
    free(log);
    fix_check_no_secrets(&f);
    fix_release(&f);
}

/* v3: the vehicle object with the application token and sc-user-id. */
static void test_sc_sim_learns_the_powertrain_in_v3(void)
{
    struct fix f;
    fix_init(&f, "ptrain3", 86400, 86400);
    f.ptrain[3] = "BEV";
    CU_ASSERT_FATAL(fix_serve(&f, 1, NULL) == 0);
    struct jobspec jobs[1] = {
        {f.fleet[3].vin, f.fleet[3].vid, "user-2", NULL},
    };
    f.r.jobs = jobs;
    f.r.want_ptrain[0] = 1;
    f.c.tokens = NULL;
    f.c.api_version = "3";
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    fix_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "ok");
    CU_ASSERT_EQUAL(f.r.got[0].powertrain, PTRAIN_BEV);
    CU_ASSERT_EQUAL(f.stats.vehicle_requests, 1);
    CU_ASSERT_EQUAL(f.stats.token_requests, 1);
    fix_release(&f);
}

/*
 * A vehicle object that cannot be had is no row error: the history comes,
 * the powertrain stays unknown, the log says why.  v2.0 without a v3
 * origin configured does not ask at all.
 */
static void test_sc_sim_fetches_the_history_when_the_powertrain_fails(void)
{
    struct fix f;
    fix_init(&f, "ptrainfail", 86400, 86400);
    f.ptrain[0] = "BEV";
    CU_ASSERT_FATAL(fix_serve(&f, 1, NULL) == 0);
    f.r.want_ptrain[0] = 1;
    f.c.api_v3_origin = "http://127.0.0.1:1";
    f.c.retries = 1;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "ok");
    CU_ASSERT_EQUAL(f.r.got[0].attempts, 1);
    CU_ASSERT_EQUAL(f.r.got[0].powertrain, PTRAIN_UNKNOWN);
    CU_ASSERT_EQUAL(f.stats.vehicle_requests, 2);
    CU_ASSERT_EQUAL(f.stats.errors, 0);
    CU_ASSERT_EQUAL(count_lines_with(f.r.log ? f.r.log : "",
                                     "powertrain of 1FTFW1E50NFA00001",
                                     "history fetched anyway"), 1);

    char *saved = getenv("SMARTCAR_API_V3_ORIGIN");
    saved = saved ? strdup(saved) : NULL;
    unsetenv("SMARTCAR_API_V3_ORIGIN");
    fix_rerun(&f, f.jobs, 1);
    f.r.want_ptrain[0] = 1;
    f.c.api_v3_origin = NULL;
    CU_ASSERT_EQUAL(fix_drive(&f), ENG_OK);
    if (saved)
        setenv("SMARTCAR_API_V3_ORIGIN", saved, 1);
    free(saved);
    CU_ASSERT_STRING_EQUAL(f.r.got[0].status, "ok");
    CU_ASSERT_EQUAL(f.stats.vehicle_requests, 0);
    CU_ASSERT_EQUAL(f.stats.requests, 1);
    fix_release(&f);
}

static CU_TestInfo sim_tests[] = {
    {"fetches the full history window",
     test_sc_sim_fetches_the_full_history_window},
    {"refreshes once per pair and next run uses rotation",
     test_sc_sim_refreshes_once_per_pair_and_next_run_uses_rotation},
    {"answers a 401 with one refresh then retries",
     test_sc_sim_answers_a_401_with_one_refresh_then_retries},
    {"ends each fault kind with its status",
     test_sc_sim_ends_each_fault_kind_with_its_status},
    {"never retries permanent refusals",
     test_sc_sim_never_retries_permanent_refusals},
    {"recovers from transient faults by retrying",
     test_sc_sim_recovers_from_transient_faults_by_retrying},
    {"waits Retry-After for that vehicle only",
     test_sc_sim_waits_retry_after_for_that_vehicle_only},
    {"rate cap avoids the app limit and pauses help",
     test_sc_sim_rate_cap_avoids_the_app_limit_and_pauses_help},
    {"discovers vehicle ids once per user",
     test_sc_sim_discovers_vehicle_ids_once_per_user},
    {"reports the unit system of the answer",
     test_sc_sim_reports_the_unit_system_of_the_answer},
    {"caps the body size", test_sc_sim_caps_the_body_size},
    {"fetches v3 records with an app token",
     test_sc_sim_fetches_v3_records_with_an_app_token},
    {"reports a refused connection after retries",
     test_sc_sim_reports_a_refused_connection_after_retries},
    {"holds at most max_active vehicles",
     test_sc_sim_holds_at_most_max_active_vehicles},
    {"gives input statuses without a request",
     test_sc_sim_gives_input_statuses_without_a_request},
    {"fails every vehicle of a pair on a refused client",
     test_sc_sim_fails_every_vehicle_of_a_pair_on_a_refused_client},
    {"fails at once on a Retry-After beyond the limit",
     test_sc_sim_fails_at_once_on_a_retry_after_beyond_the_limit},
    {"reports JSON of another shape",
     test_sc_sim_reports_json_of_another_shape},
    {"stops when a rotation cannot be stored",
     test_sc_sim_stops_when_a_rotation_cannot_be_stored},
    {"caps every Retry-After a server asks for",
     test_sc_sim_caps_every_retry_after_a_server_asks_for},
    {"cuts a server that trickles its answer",
     test_sc_sim_cuts_a_server_that_trickles_its_answer},
    {"does not follow redirects", test_sc_sim_does_not_follow_redirects},
    {"fetch writes the bundle in order, renamed or copied",
     test_sc_sim_fetch_writes_the_bundle_in_order_renamed_or_copied},
    {"decodes gzip and refuses a damaged body",
     test_sc_sim_decodes_gzip_and_refuses_a_damaged_body},
    {"refuses a token that would add headers",
     test_sc_sim_refuses_a_token_that_would_add_headers},
    {"stores nothing from a token answer with CR/LF",
     test_sc_sim_stores_nothing_from_a_token_answer_with_crlf},
    {"fails a never-issued refresh token",
     test_sc_sim_fails_a_never_issued_refresh_token},
    {"learns the powertrain from the vehicle object",
     test_sc_sim_learns_the_powertrain_from_the_vehicle_object},
    {"learns the powertrain in v3", test_sc_sim_learns_the_powertrain_in_v3},
    {"fetches the history when the powertrain fails",
     test_sc_sim_fetches_the_history_when_the_powertrain_fails},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo test_sc_sim_suites[] = {
    {"sc against smartcar-sim", suite_init, suite_clean, NULL, NULL,
     sim_tests},
    CU_SUITE_INFO_NULL,
};
