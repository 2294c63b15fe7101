/* store — the history store on SQLite. */
#include "store.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "jscan.h"
#include "out.h"
#include "task.h"
#include "veh.h"

#define BUSY_MS 10000
#define MAX_TASK_KEYS 64

/* ------------------------------------------------------------------ */
/* Schema and migrations. */

/*
 * migrations[k] takes a store from user_version k to k + 1.  A new version
 * appends an entry; entries already shipped are never edited, since files
 * made by them exist.
 */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE vehicle ("
    " id INTEGER PRIMARY KEY,"
    " vin TEXT NOT NULL UNIQUE,"
    " vehicle_id TEXT,"
    " make TEXT,"
    " model_year INTEGER,"
    " unit_system TEXT,"
    " last_fetch_at TEXT,"
    " last_status TEXT,"
    " last_ok_at TEXT);"
    "CREATE TABLE fetch ("
    " id INTEGER PRIMARY KEY,"
    " vehicle INTEGER NOT NULL REFERENCES vehicle(id),"
    " fetched_at TEXT,"
    " window_from TEXT,"
    " window_to TEXT,"
    " status TEXT NOT NULL,"
    " request_id TEXT,"
    " bytes INTEGER,"
    " records INTEGER NOT NULL DEFAULT 0,"
    " records_added INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX fetch_key ON fetch(vehicle, ifnull(fetched_at, ''),"
    " ifnull(window_from, ''), ifnull(window_to, ''), status,"
    " ifnull(request_id, ''));"
    "CREATE TABLE record ("
    " id INTEGER PRIMARY KEY,"
    " vehicle INTEGER NOT NULL REFERENCES vehicle(id),"
    " seq INTEGER NOT NULL,"
    " ident TEXT NOT NULL,"
    " service_id TEXT,"
    " service_date TEXT,"
    " day INTEGER,"
    " odometer_km REAL,"
    " cost REAL,"
    " currency TEXT,"
    " categories TEXT,"
    " cat_mask INTEGER NOT NULL,"
    " n_tasks INTEGER NOT NULL,"
    " source TEXT,"
    " shape INTEGER NOT NULL,"
    " imperial INTEGER NOT NULL,"
    " first_seen TEXT,"
    " raw TEXT NOT NULL);"
    "CREATE UNIQUE INDEX record_ident ON record(vehicle, ident);"
    "CREATE TABLE run ("
    " id INTEGER PRIMARY KEY,"
    " uid TEXT NOT NULL UNIQUE,"
    " started_at TEXT NOT NULL,"
    " ended_at TEXT,"
    " command TEXT,"
    " model_id TEXT,"
    " as_of TEXT,"
    " rows INTEGER,"
    " ok INTEGER,"
    " no_history INTEGER,"
    " errors INTEGER,"
    " exit_code INTEGER);"
    "CREATE TABLE run_status ("
    " run INTEGER NOT NULL REFERENCES run(id),"
    " status TEXT NOT NULL,"
    " n INTEGER NOT NULL,"
    " PRIMARY KEY (run, status)) WITHOUT ROWID;"
    "CREATE TABLE score ("
    " run INTEGER NOT NULL REFERENCES run(id),"
    " row INTEGER NOT NULL,"
    " vin TEXT NOT NULL,"
    " policy_id TEXT,"
    " status TEXT NOT NULL,"
    " score INTEGER,"
    " band TEXT,"
    " relativity REAL,"
    " reason_1 TEXT,"
    " reason_2 TEXT,"
    " reason_3 TEXT,"
    " reason_4 TEXT,"
    " model_id TEXT,"
    " PRIMARY KEY (run, row)) WITHOUT ROWID;",
    /* 1 -> 2: powertrain (bundle lines may carry it), the run's drift */
    "ALTER TABLE vehicle ADD COLUMN powertrain TEXT;"
    "ALTER TABLE vehicle ADD COLUMN powertrain_source TEXT;"
    "ALTER TABLE run ADD COLUMN drift TEXT;"
    /* what scoring reads, in order, from the index alone */
    "CREATE INDEX record_read ON record(vehicle, seq, day, odometer_km,"
    " cost, currency, cat_mask, n_tasks, source, service_id);",
};

/*
 * The run and score tables of runs not recorded (store_run_begin temp):
 * only what drift compares (kept in SQLite's temporary file, with no
 * journal: nothing there needs a rollback).
 */
static const char temp_tables[] =
    "PRAGMA temp.cache_size = -65536;"
    "PRAGMA temp.journal_mode = OFF;"
    "CREATE TEMP TABLE IF NOT EXISTS trun (id INTEGER PRIMARY KEY,"
    " uid TEXT, started_at TEXT, ended_at TEXT, command TEXT, model_id TEXT,"
    " as_of TEXT, rows INTEGER, ok INTEGER, no_history INTEGER,"
    " errors INTEGER, exit_code INTEGER, drift TEXT);"
    "CREATE TEMP TABLE IF NOT EXISTS tscore (run INTEGER, row INTEGER,"
    " vin TEXT, status TEXT, score INTEGER, band TEXT);";

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
               STORE_SCHEMA_VERSION, "one migration per schema version");

/* ------------------------------------------------------------------ */
/* The handle. */

enum stmt_id {
    ST_VEH_GET, ST_VEH_INSERT, ST_VEH_UPDATE, ST_FETCH_FIND, ST_FETCH_INSERT,
    ST_VEH_FETCHED, ST_FETCH_COUNTS, ST_REC_SEQ, ST_REC_INSERT,
    ST_HIST_VEH, ST_HIST_RECS, ST_HIST_RAW, ST_FETCH_AT, ST_NEXT_VIN, ST_STATE, ST_SCORE, ST_TSCORE,
    ST_NEXT_RUN, ST_COUNT
};

struct span {
    size_t off, len;
    int shape;
};

struct store {
    sqlite3 *db;
    int version;
    int readonly;
    int in_tx;
    sqlite3_stmt *st[ST_COUNT];
    /* store_get()'s results, reused */
    struct hist_rec *rec;
    size_t rec_cap;
    char **raw;
    int *shape;
    int *imperial;
    size_t raw_n;
    char *text[8];
    /* record spans of the body being merged, reused */
    struct span *spans;
    size_t spans_n, spans_cap;
    struct hist hist;
};

static int db_fail(struct store *s, struct eng_err *err, const char *what)
{
    return eng_err_set(err, ENG_EIO, "store: %s: %s", what,
                       sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql, struct eng_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return ENG_OK;
    int rc = eng_err_set(err, ENG_EIO, "store: %s",
                         msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return rc;
}

/* A cached prepared statement, reset and unbound; NULL on failure. */
static sqlite3_stmt *prep(struct store *s, enum stmt_id id, const char *sql,
                          struct eng_err *err)
{
    if (!s->st[id]) {
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                               &s->st[id], NULL) != SQLITE_OK) {
            db_fail(s, err, "cannot prepare a statement");
            s->st[id] = NULL;
            return NULL;
        }
    } else {
        sqlite3_reset(s->st[id]);
        sqlite3_clear_bindings(s->st[id]);
    }
    return s->st[id];
}

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, i);
}

static void bind_real(sqlite3_stmt *q, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_double(q, i, v);
}

static const char *col_text(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? (const char *)t : "";
}

static int read_version(struct store *s, int *v, struct eng_err *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL)
        != SQLITE_OK)
        return db_fail(s, err, "cannot read the schema version");
    int rc = sqlite3_step(q);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? ENG_OK
                            : db_fail(s, err, "cannot read the schema version");
}

static int migrate(struct store *s, const char *path, struct eng_err *err)
{
    int v;
    int rc = read_version(s, &v, err);
    if (rc < 0)
        return rc;
    if (v > STORE_SCHEMA_VERSION)
        return eng_err_set(err, ENG_EIO, "store '%s' has schema version %d, "
                           "newer than this program's %d", path, v,
                           STORE_SCHEMA_VERSION);
    if (v < STORE_SCHEMA_VERSION && s->readonly)
        return eng_err_set(err, ENG_EIO, "store '%s' has schema version %d "
                           "and is opened read-only: open it writable once "
                           "to migrate it", path, v);
    for (; v < STORE_SCHEMA_VERSION; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        /* one transaction per step: a kill leaves a whole version */
        rc = exec(s, "BEGIN IMMEDIATE", err);
        if (rc == ENG_OK)
            rc = exec(s, migrations[v], err);
        if (rc == ENG_OK)
            rc = exec(s, pragma, err);
        if (rc == ENG_OK)
            rc = exec(s, "COMMIT", err);
        if (rc < 0) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    s->version = v;
    return ENG_OK;
}

/*
 * SQLite counts every allocation under one global mutex unless told not
 * to, which serialises the workers' reads; this must run before SQLite is
 * first used, so it runs once, from the first open.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Copies a column's text into a fixed field, truncated; cannot fail. */
static void copy_col(sqlite3_stmt *q, int i, char *dst, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(q, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(q, i) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, t, n);
    dst[n] = '\0';
}

struct store *store_open(const char *path, int flags, struct eng_err *err)
{
    pthread_once(&sqlite_once, sqlite_setup);
    struct store *s = calloc(1, sizeof(*s));
    if (!s) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    hist_init(&s->hist);
    s->readonly = (flags & STORE_READONLY) != 0;
    int oflags = s->readonly ? SQLITE_OPEN_READONLY
                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        eng_err_set(err, ENG_EIO, "cannot open store '%s': %s", path,
                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, BUSY_MS);
    sqlite3_extended_result_codes(s->db, 1);
    int rc = ENG_OK;
    if (!s->readonly)
        rc = exec(s, "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = NORMAL;", err);
    /*
     * 64 MiB of page cache per connection: a book's VIN index (about 40
     * bytes a vehicle) stays in it, so looking vehicles up in list order
     * does not read the same pages again and again.
     */
    if (rc == ENG_OK)
        rc = exec(s, "PRAGMA foreign_keys = ON;"
                     "PRAGMA cache_size = -65536;", err);
    if (rc == ENG_OK)
        rc = migrate(s, path, err);
    if (rc == ENG_OK)
        rc = exec(s, temp_tables, err);
    if (rc < 0) {
        if (err && strstr(err->msg, "file is not a database"))
            eng_err_set(err, ENG_EIO, "'%s' is not a store (not an SQLite "
                        "file)", path);
        store_close(s);
        return NULL;
    }
    return s;
}

static void free_raw(struct store *s)
{
    for (size_t i = 0; i < s->raw_n; i++)
        free(s->raw[i]);
    s->raw_n = 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->in_tx)
        store_rollback(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free_raw(s);
    free(s->raw);
    free(s->shape);
    free(s->imperial);
    free(s->rec);
    for (size_t i = 0; i < sizeof(s->text) / sizeof(s->text[0]); i++)
        free(s->text[i]);
    free(s->spans);
    hist_release(&s->hist);
    free(s);
}

int store_version(const struct store *s)
{
    return s->version;
}

int store_readonly(const struct store *s)
{
    return s->readonly;
}

int store_begin(struct store *s, struct eng_err *err)
{
    int rc = exec(s, "BEGIN IMMEDIATE", err);
    if (rc == ENG_OK)
        s->in_tx = 1;
    return rc;
}

int store_commit(struct store *s, struct eng_err *err)
{
    int rc = exec(s, "COMMIT", err);
    if (rc == ENG_OK)
        s->in_tx = 0;
    return rc;
}

int store_read_begin(struct store *s, struct eng_err *err)
{
    /* a deferred transaction takes its snapshot at the first read */
    int rc = exec(s, "BEGIN; SELECT count(*) FROM sqlite_schema;", err);
    if (rc == ENG_OK)
        s->in_tx = 1;
    return rc;
}

void store_read_end(struct store *s)
{
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    s->in_tx = 0;
}

void store_rollback(struct store *s)
{
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = 0;
}

/* ------------------------------------------------------------------ */
/* Vehicles and fetches. */

static int find_vehicle(struct store *s, const char *vin, long long *id,
                        struct eng_err *err)
{
    sqlite3_stmt *q = prep(s, ST_VEH_GET,
                           "SELECT id FROM vehicle WHERE vin = ?1", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_text(q, 1, vin, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        return 1;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : db_fail(s, err, "cannot read vehicles");
}

int store_upsert_vehicle(struct store *s, const struct store_vehicle *v,
                         long long *id, struct eng_err *err)
{
    long long vid = 0;
    int rc = find_vehicle(s, v->vin, &vid, err);
    if (rc < 0)
        return rc;
    sqlite3_stmt *q;
    if (rc == 0)
        q = prep(s, ST_VEH_INSERT, "INSERT INTO vehicle (vin, vehicle_id,"
                 " make, model_year, unit_system, powertrain,"
                 " powertrain_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 err);
    else
        q = prep(s, ST_VEH_UPDATE, "UPDATE vehicle SET"
                 " vehicle_id = coalesce(?2, vehicle_id),"
                 " make = coalesce(?3, make),"
                 " model_year = coalesce(?4, model_year),"
                 " unit_system = coalesce(?5, unit_system),"
                 " powertrain = coalesce(?6, powertrain),"
                 " powertrain_source = coalesce(?7, powertrain_source)"
                 " WHERE id = ?8", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_text(q, 1, v->vin, -1, SQLITE_TRANSIENT);
    bind_text(q, 2, v->vehicle_id);
    bind_text(q, 3, v->make);
    if (v->model_year)
        sqlite3_bind_int(q, 4, v->model_year);
    bind_text(q, 5, v->unit_system);
    bind_text(q, 6, v->powertrain);
    bind_text(q, 7, v->powertrain_source);
    if (rc == 1)
        sqlite3_bind_int64(q, 8, vid);
    if (sqlite3_step(q) != SQLITE_DONE)
        return db_fail(s, err, "cannot store a vehicle");
    *id = rc == 1 ? vid : sqlite3_last_insert_rowid(s->db);
    return ENG_OK;
}

static int status_ok(const char *status)
{
    return strcmp(status, "ok") == 0 || strcmp(status, "no_history") == 0;
}

int store_record_fetch(struct store *s, const struct store_fetch *f,
                       long long *id, struct eng_err *err)
{
    sqlite3_stmt *q = prep(s, ST_FETCH_FIND, "SELECT id FROM fetch WHERE"
                           " vehicle = ?1 AND ifnull(fetched_at, '') = ?2"
                           " AND ifnull(window_from, '') = ?3"
                           " AND ifnull(window_to, '') = ?4"
                           " AND status = ?5 AND ifnull(request_id, '') = ?6",
                           err);
    if (!q)
        return ENG_EIO;
    const char *key[5] = {f->fetched_at, f->window_from, f->window_to,
                          f->status, f->request_id};
    sqlite3_bind_int64(q, 1, f->vehicle);
    for (int i = 0; i < 5; i++)
        sqlite3_bind_text(q, i + 2, key[i] ? key[i] : "", -1,
                          SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        return 0;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return db_fail(s, err, "cannot read fetches");
    q = prep(s, ST_FETCH_INSERT, "INSERT INTO fetch (vehicle, fetched_at,"
             " window_from, window_to, status, request_id, bytes)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_int64(q, 1, f->vehicle);
    bind_text(q, 2, f->fetched_at);
    bind_text(q, 3, f->window_from);
    bind_text(q, 4, f->window_to);
    sqlite3_bind_text(q, 5, f->status, -1, SQLITE_TRANSIENT);
    bind_text(q, 6, f->request_id);
    sqlite3_bind_int64(q, 7, f->bytes);
    if (sqlite3_step(q) != SQLITE_DONE)
        return db_fail(s, err, "cannot record a fetch");
    *id = sqlite3_last_insert_rowid(s->db);
    /* the latest fetch by time decides; an older one arriving later not */
    q = prep(s, ST_VEH_FETCHED, "UPDATE vehicle SET"
             " last_status = CASE WHEN last_fetch_at IS NULL OR"
             "   ifnull(?2, '') >= last_fetch_at THEN ?3 ELSE last_status END,"
             " last_fetch_at = CASE WHEN last_fetch_at IS NULL OR"
             "   ifnull(?2, '') >= last_fetch_at THEN ifnull(?2, '')"
             "   ELSE last_fetch_at END,"
             " last_ok_at = CASE WHEN ?4 AND (last_ok_at IS NULL OR"
             "   ifnull(?2, '') >= last_ok_at) THEN ifnull(?2, '')"
             "   ELSE last_ok_at END"
             " WHERE id = ?1", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_int64(q, 1, f->vehicle);
    bind_text(q, 2, f->fetched_at);
    sqlite3_bind_text(q, 3, f->status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 4, status_ok(f->status));
    if (sqlite3_step(q) != SQLITE_DONE)
        return db_fail(s, err, "cannot update a vehicle");
    return 1;
}

int store_vehicle_state(struct store *s, const char *vin,
                        struct store_state *st, struct eng_err *err)
{
    memset(st, 0, sizeof(*st));
    st->last_day = HIST_NO_DAY;
    sqlite3_stmt *q = prep(s, ST_STATE, "SELECT v.id, v.last_fetch_at,"
                           " v.last_status, v.last_ok_at,"
                           " (SELECT max(day) FROM record WHERE vehicle = v.id)"
                           " FROM vehicle v WHERE v.vin = ?1", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_text(q, 1, vin, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        st->id = sqlite3_column_int64(q, 0);
        snprintf(st->last_fetch_at, sizeof(st->last_fetch_at), "%s",
                 col_text(q, 1));
        snprintf(st->last_status, sizeof(st->last_status), "%s",
                 col_text(q, 2));
        snprintf(st->last_ok_at, sizeof(st->last_ok_at), "%s",
                 col_text(q, 3));
        if (sqlite3_column_type(q, 4) != SQLITE_NULL)
            st->last_day = (long)sqlite3_column_int64(q, 4);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? ENG_OK : db_fail(s, err, "cannot read "
                                                "vehicles");
}

/* ------------------------------------------------------------------ */
/* Records: where each one is in a body, and its identity. */

static int add_span(struct store *s, size_t off, size_t len, int shape,
                    struct eng_err *err)
{
    if (s->spans_n == s->spans_cap) {
        size_t cap = s->spans_cap ? s->spans_cap * 2 : 64;
        struct span *p = realloc(s->spans, cap * sizeof(*p));
        if (!p)
            return eng_err_set(err, ENG_ENOMEM, "out of memory");
        s->spans = p;
        s->spans_cap = cap;
    }
    s->spans[s->spans_n++] = (struct span){off, len, shape};
    return ENG_OK;
}

/* The object elements of an array ('[' next) as spans of text. */
static int array_spans(struct store *s, struct js *j, const char *text,
                       int shape, struct eng_err *err)
{
    js_array_begin(j);
    while (js_array_next(j) == 1) {
        int is_obj = js_peek(j) == JS_OBJECT;
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
                                 *j->p == '\n' || *j->p == '\r'))
            j->p++;
        const char *start = j->p;
        if (js_skip(j) < 0)
            break;
        if (is_obj) {
            int rc = add_span(s, (size_t)(start - text),
                              (size_t)(j->p - start), shape, err);
            if (rc < 0)
                return rc;
        }
    }
    return ENG_OK;
}

/*
 * Finds the records of a history value as hist.c reads them (the same
 * shape rules, in the same order), so the n-th span is the n-th parsed
 * record.
 */
static int find_spans(struct store *s, const char *text, size_t len,
                      struct eng_err *err)
{
    s->spans_n = 0;
    struct js j;
    js_init(&j, text, len);
    enum js_type t = js_peek(&j);
    if (t == JS_ARRAY)
        return array_spans(s, &j, text, 0, err);
    if (t != JS_OBJECT)
        return ENG_OK;
    struct js probe = j;
    char key[32];
    int shape = 0;
    js_object_begin(&probe);
    while (!shape && js_object_next(&probe, key, sizeof(key)) == 1) {
        if ((strcmp(key, "serviceHistory") == 0 ||
             strcmp(key, "values") == 0) && js_peek(&probe) == JS_ARRAY)
            shape = key[0] == 's' ? 1 : 2;
        else if (strcmp(key, "serviceDate") == 0 ||
                 strcmp(key, "odometerDistance") == 0 ||
                 strcmp(key, "serviceTasks") == 0 ||
                 strcmp(key, "serviceCost") == 0)
            shape = 3;
        else
            js_skip(&probe);
    }
    if (shape == 3) {
        while (j.p < j.end && *j.p != '{')
            j.p++;
        const char *start = j.p;
        js_skip(&j);
        return add_span(s, (size_t)(start - text), (size_t)(j.p - start), 0,
                        err);
    }
    if (shape == 0)
        return ENG_OK;
    const char *want = shape == 1 ? "serviceHistory" : "values";
    js_object_begin(&j);
    while (js_object_next(&j, key, sizeof(key)) == 1) {
        if (strcmp(key, want) == 0 && js_peek(&j) == JS_ARRAY &&
            s->spans_n == 0) {
            int rc = array_spans(s, &j, text, shape == 2, err);
            if (rc < 0)
                return rc;
        } else {
            js_skip(&j);
        }
    }
    return ENG_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One task's id, else its description, into out. */
static void task_key(struct js *j, int v3, char *out, size_t cap)
{
    const char *id_key = v3 ? "id" : "taskId";
    const char *desc_key = v3 ? "description" : "taskDescription";
    char key[32], id[96] = "", desc[96] = "";
    js_object_begin(j);
    while (js_object_next(j, key, sizeof(key)) == 1) {
        enum js_type t = js_peek(j);
        char *dst = strcmp(key, id_key) == 0 ? id
                    : strcmp(key, desc_key) == 0 ? desc : NULL;
        if (dst && t == JS_STRING) {
            js_string(j, dst, sizeof(id), NULL);
        } else if (dst && t == JS_NUMBER) {
            double v;
            if (js_number(j, &v) == 0)
                snprintf(dst, sizeof(id), "%.17g", v);
        } else {
            js_skip(j);
        }
    }
    snprintf(out, cap, "%s", id[0] ? id : desc);
}

/*
 * The identity of a record without a service id: day, odometer and its
 * sorted task ids (or descriptions where a task has no id).
 */
static int record_ident(const struct hist_rec *r, const char *raw,
                        size_t len, int v3, struct buf *out,
                        struct eng_err *err)
{
    buf_reset(out);
    if (r->service_id[0])
        return buf_printf(out, err, "id:%s", r->service_id);
    char day[16] = "-";
    if (r->day != HIST_NO_DAY)
        eng_format_day(r->day, day);
    int rc = buf_printf(out, err, "d:%s|km:", day);
    if (rc == ENG_OK)
        rc = isnan(r->km) ? buf_adds(out, "-", err)
                          : buf_printf(out, err, "%.2f", r->km);
    if (rc == ENG_OK)
        rc = buf_adds(out, "|t:", err);
    if (rc < 0)
        return rc;
    char keys[MAX_TASK_KEYS][96];
    const char *sorted[MAX_TASK_KEYS];
    size_t n = 0;
    struct js j;
    js_init(&j, raw, len);
    char key[32];
    const char *tasks_key = v3 ? "tasks" : "serviceTasks";
    js_object_begin(&j);
    while (js_object_next(&j, key, sizeof(key)) == 1) {
        if (strcmp(key, tasks_key) != 0) {
            js_skip(&j);
            continue;
        }
        enum js_type t = js_peek(&j);
        if (t == JS_OBJECT && n < MAX_TASK_KEYS) {
            task_key(&j, v3, keys[n], sizeof(keys[n]));
            n++;
        } else if (t == JS_ARRAY) {
            js_array_begin(&j);
            while (js_array_next(&j) == 1) {
                if (js_peek(&j) == JS_OBJECT && n < MAX_TASK_KEYS) {
                    task_key(&j, v3, keys[n], sizeof(keys[n]));
                    n++;
                } else {
                    js_skip(&j);
                }
            }
        } else {
            js_skip(&j);
        }
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = keys[i];
    qsort(sorted, n, sizeof(sorted[0]), cmp_str);
    for (size_t i = 0; rc == ENG_OK && i < n; i++) {
        rc = i ? buf_adds(out, ",", err) : ENG_OK;
        if (rc == ENG_OK)
            rc = buf_adds(out, sorted[i], err);
    }
    return rc;
}

static int cat_names(unsigned mask, struct buf *out, struct eng_err *err)
{
    buf_reset(out);
    int rc = ENG_OK;
    for (int c = 0; rc == ENG_OK && c < TASK_NCATS; c++) {
        if (!(mask & TASK_BIT(c)))
            continue;
        if (out->len)
            rc = buf_adds(out, ",", err);
        if (rc == ENG_OK)
            rc = buf_adds(out, task_cat_name(c), err);
    }
    return rc;
}

/*
 * Stores the parsed records h of one body whose text is body (the spans
 * found in it line up with h).  Within one body a record listed twice is
 * two records (the identity carries its occurrence), so that a history
 * scores from the store as it was served; across bodies the same record
 * is stored once.
 */
static int merge_parsed(struct store *s, long long vehicle,
                        long long fetch_id, const struct hist *h,
                        const char *body, size_t len, int imperial,
                        struct store_merge_stats *st, struct eng_err *err)
{
    int rc = find_spans(s, body, len, err);
    if (rc < 0)
        return rc;
    if (s->spans_n != h->n)
        return eng_err_set(err, ENG_EDATA, "store: %zu records parsed but "
                           "%zu found in the text", h->n, s->spans_n);
    sqlite3_stmt *q = prep(s, ST_REC_SEQ, "SELECT ifnull(max(seq), 0) FROM "
                           "record WHERE vehicle = ?1", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_int64(q, 1, vehicle);
    if (sqlite3_step(q) != SQLITE_ROW)
        return db_fail(s, err, "cannot read records");
    long long seq = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);

    char fetched_at[40] = "";
    if (fetch_id) {
        sqlite3_stmt *f = prep(s, ST_FETCH_AT, "SELECT fetched_at FROM fetch"
                               " WHERE id = ?1", err);
        if (!f)
            return ENG_EIO;
        sqlite3_bind_int64(f, 1, fetch_id);
        if (sqlite3_step(f) == SQLITE_ROW)
            copy_col(f, 0, fetched_at, sizeof(fetched_at));
        sqlite3_reset(f);
    }
    q = prep(s, ST_REC_INSERT, "INSERT OR IGNORE INTO record (vehicle, seq,"
             " ident, service_id, service_date, day, odometer_km, cost,"
             " currency, categories, cat_mask, n_tasks, source, shape,"
             " imperial, first_seen, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
             " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)", err);
    if (!q)
        return ENG_EIO;
    struct buf ident, cats, all;
    buf_init(&ident, 1 << 16);
    buf_init(&cats, 4096);
    buf_init(&all, (size_t)1 << 30);
    size_t *offs = malloc((h->n + 1) * sizeof(*offs));
    if (!offs)
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
    /* every identity first (NUL-separated in all), then the occurrences */
    for (size_t i = 0; rc == ENG_OK && i < h->n; i++) {
        const struct span *sp = &s->spans[i];
        offs[i] = all.len;
        rc = record_ident(&h->rec[i], body + sp->off, sp->len, sp->shape,
                          &ident, err);
        if (rc == ENG_OK)
            rc = buf_add(&all, ident.data, ident.len + 1, err);
    }
    size_t added = 0;
    for (size_t i = 0; rc == ENG_OK && i < h->n; i++) {
        const struct hist_rec *r = &h->rec[i];
        const struct span *sp = &s->spans[i];
        const char *id_i = all.data + offs[i];
        buf_reset(&ident);
        rc = buf_adds(&ident, id_i, err);
        /* the k-th listing of the same record in this body */
        size_t k = 0;
        for (size_t m = 0; rc == ENG_OK && m < i; m++)
            k += strcmp(all.data + offs[m], id_i) == 0;
        if (rc == ENG_OK && k)
            rc = buf_printf(&ident, err, "#%zu", k + 1);
        if (rc == ENG_OK)
            rc = cat_names(r->cats, &cats, err);
        if (rc < 0)
            break;
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        sqlite3_bind_int64(q, 1, vehicle);
        sqlite3_bind_int64(q, 2, seq + 1);
        sqlite3_bind_text(q, 3, ident.data, (int)ident.len,
                          SQLITE_TRANSIENT);
        bind_text(q, 4, r->service_id);
        if (r->day != HIST_NO_DAY) {
            char day[16];
            eng_format_day(r->day, day);
            sqlite3_bind_text(q, 5, day, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 6, r->day);
        }
        bind_real(q, 7, r->km);
        bind_real(q, 8, r->cost);
        bind_text(q, 9, r->currency);
        bind_text(q, 10, cats.len ? cats.data : NULL);
        sqlite3_bind_int64(q, 11, r->cats);
        sqlite3_bind_int(q, 12, (int)r->n_tasks);
        bind_text(q, 13, r->source == HIST_SRC_DEALER ? "dealer"
                         : r->source == HIST_SRC_OWNER ? "owner" : NULL);
        sqlite3_bind_int(q, 14, sp->shape);
        sqlite3_bind_int(q, 15, imperial != 0);
        bind_text(q, 16, fetched_at);
        sqlite3_bind_text(q, 17, body + sp->off, (int)sp->len,
                          SQLITE_TRANSIENT);
        if (sqlite3_step(q) != SQLITE_DONE) {
            rc = db_fail(s, err, "cannot store a record");
            break;
        }
        if (sqlite3_changes(s->db) == 1) {
            seq++;
            added++;
        }
    }
    sqlite3_reset(q);
    free(offs);
    buf_release(&all);
    buf_release(&ident);
    buf_release(&cats);
    if (rc < 0)
        return rc;
    if (fetch_id) {
        q = prep(s, ST_FETCH_COUNTS, "UPDATE fetch SET records = ?2,"
                 " records_added = records_added + ?3 WHERE id = ?1", err);
        if (!q)
            return ENG_EIO;
        sqlite3_bind_int64(q, 1, fetch_id);
        sqlite3_bind_int64(q, 2, (long long)h->n);
        sqlite3_bind_int64(q, 3, (long long)added);
        if (sqlite3_step(q) != SQLITE_DONE)
            return db_fail(s, err, "cannot update a fetch");
    }
    if (st) {
        st->records += h->n;
        st->added += added;
    }
    return ENG_OK;
}

int store_merge_history(struct store *s, long long vehicle,
                        long long fetch_id, const char *body, size_t len,
                        int imperial, const struct hist_limits *lim,
                        const struct task_map *tasks,
                        struct store_merge_stats *st, struct eng_err *err)
{
    int rc = hist_parse(&s->hist, body, len, imperial, lim, tasks, err);
    if (rc < 0)
        return rc;
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
        body += 3;
        len -= 3;
    }
    return merge_parsed(s, vehicle, fetch_id, &s->hist, body, len, imperial,
                        st, err);
}

/* ------------------------------------------------------------------ */
/* Reading histories. */

static int keep_text(struct store *s, int slot, const char *t,
                     struct eng_err *err)
{
    char *copy = strdup(t ? t : "");
    if (!copy)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    free(s->text[slot]);
    s->text[slot] = copy;
    return ENG_OK;
}

static int reserve_recs(struct store *s, size_t n, struct eng_err *err)
{
    if (n <= s->rec_cap)
        return ENG_OK;
    size_t cap = s->rec_cap ? s->rec_cap : 16;
    while (cap < n)
        cap *= 2;
    struct hist_rec *r = realloc(s->rec, cap * sizeof(*r));
    if (!r)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    s->rec = r;
    char **raw = realloc(s->raw, cap * sizeof(*raw));
    if (raw)
        s->raw = raw;
    int *sh = raw ? realloc(s->shape, cap * sizeof(*sh)) : NULL;
    if (sh)
        s->shape = sh;
    int *im = sh ? realloc(s->imperial, cap * sizeof(*im)) : NULL;
    if (im)
        s->imperial = im;
    if (!im)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    s->rec_cap = cap;
    return ENG_OK;
}

int store_get(struct store *s, const char *vin, int want_raw,
              struct store_hist *h, struct eng_err *err)
{
    sqlite3_stmt *q = prep(s, ST_HIST_VEH, "SELECT id, vin, vehicle_id,"
                           " make, unit_system, powertrain, powertrain_source,"
                           " last_fetch_at, model_year, last_status,"
                           " last_ok_at FROM vehicle WHERE vin = ?1", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_text(q, 1, vin, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q);
        return rc == SQLITE_DONE ? 0 : db_fail(s, err, "cannot read "
                                               "vehicles");
    }
    struct store_hist out = {0};
    out.id = sqlite3_column_int64(q, 0);
    out.model_year = sqlite3_column_int(q, 8);
    int never_ok = sqlite3_column_type(q, 10) == SQLITE_NULL &&
                   sqlite3_column_type(q, 9) != SQLITE_NULL;
    int e = ENG_OK;
    for (int i = 0; e == ENG_OK && i < 7; i++)
        e = keep_text(s, i, col_text(q, i + 1), err);
    if (e == ENG_OK)
        e = keep_text(s, 7, never_ok ? col_text(q, 9) : "ok", err);
    sqlite3_reset(q);
    if (e < 0)
        return e;
    free_raw(s);
    q = want_raw
        ? prep(s, ST_HIST_RAW, "SELECT day, odometer_km, cost, currency,"
               " cat_mask, n_tasks, source, service_id, raw, shape, imperial"
               " FROM record WHERE vehicle = ?1 ORDER BY seq", err)
        : prep(s, ST_HIST_RECS, "SELECT day, odometer_km, cost, currency,"
               " cat_mask, n_tasks, source, service_id FROM record"
               " WHERE vehicle = ?1 ORDER BY seq", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_int64(q, 1, out.id);
    size_t n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        e = reserve_recs(s, n + 1, err);
        if (e < 0)
            break;
        struct hist_rec *r = &s->rec[n];
        memset(r, 0, sizeof(*r));
        r->day = sqlite3_column_type(q, 0) == SQLITE_NULL
                 ? HIST_NO_DAY : (long)sqlite3_column_int64(q, 0);
        r->km = sqlite3_column_type(q, 1) == SQLITE_NULL
                ? NAN : sqlite3_column_double(q, 1);
        r->cost = sqlite3_column_type(q, 2) == SQLITE_NULL
                  ? NAN : sqlite3_column_double(q, 2);
        copy_col(q, 3, r->currency, sizeof(r->currency));
        r->cats = (unsigned)sqlite3_column_int64(q, 4);
        r->n_tasks = (unsigned)sqlite3_column_int(q, 5);
        const char *src = col_text(q, 6);
        r->source = strcmp(src, "dealer") == 0 ? HIST_SRC_DEALER
                    : strcmp(src, "owner") == 0 ? HIST_SRC_OWNER
                    : HIST_SRC_UNKNOWN;
        copy_col(q, 7, r->service_id, sizeof(r->service_id));
        if (want_raw) {
            s->raw[n] = strdup(col_text(q, 8));
            if (!s->raw[n]) {
                e = eng_err_set(err, ENG_ENOMEM, "out of memory");
                break;
            }
            s->raw_n = n + 1;
            s->shape[n] = sqlite3_column_int(q, 9);
            s->imperial[n] = sqlite3_column_int(q, 10);
        }
        n++;
    }
    sqlite3_reset(q);
    if (e < 0)
        return e;
    if (rc != SQLITE_DONE)
        return db_fail(s, err, "cannot read records");
    out.vin = s->text[0];
    out.vehicle_id = s->text[1];
    out.make = s->text[2];
    out.unit_system = s->text[3];
    out.powertrain = s->text[4];
    out.powertrain_source = s->text[5];
    out.fetched_at = s->text[6];
    out.status = s->text[7];
    out.rec = s->rec;
    out.n = n;
    if (want_raw) {
        out.raw = (const char *const *)s->raw;
        out.shape = s->shape;
        out.imperial = s->imperial;
    }
    *h = out;
    return 1;
}

int store_next_vin(struct store *s, long long *after, char *vin,
                   struct eng_err *err)
{
    sqlite3_stmt *q = prep(s, ST_NEXT_VIN, "SELECT id, vin FROM vehicle"
                           " WHERE id > ?1 ORDER BY id LIMIT 1", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_int64(q, 1, *after);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *after = sqlite3_column_int64(q, 0);
        snprintf(vin, 64, "%s", col_text(q, 1));
        sqlite3_reset(q);
        return 1;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : db_fail(s, err, "cannot read vehicles");
}

/* ------------------------------------------------------------------ */
/* Import. */

/* The bundle line's members hist_parse_line() does not keep. */
struct line_extra {
    char fetched_at[40];
    char request_id[80];
    char window_from[16];
    char window_to[16];
    char make[32];
    char unit_system[16];
    char powertrain[32];
    char powertrain_source[32];
    int model_year;
    size_t hist_off, hist_len;
    int have_history;
};

static void read_extra(const char *line, size_t len, struct line_extra *x)
{
    memset(x, 0, sizeof(*x));
    struct {
        const char *key;
        char *dst;
        size_t cap;
    } keys[] = {
        {"fetched_at", x->fetched_at, sizeof(x->fetched_at)},
        {"request_id", x->request_id, sizeof(x->request_id)},
        {"window_from", x->window_from, sizeof(x->window_from)},
        {"window_to", x->window_to, sizeof(x->window_to)},
        {"make", x->make, sizeof(x->make)},
        {"unit_system", x->unit_system, sizeof(x->unit_system)},
        {"powertrain", x->powertrain, sizeof(x->powertrain)},
        {"powertrain_source", x->powertrain_source,
         sizeof(x->powertrain_source)},
    };
    struct js j;
    js_init(&j, line, len);
    if (js_object_begin(&j) < 0)
        return;
    char key[32];
    while (js_object_next(&j, key, sizeof(key)) == 1) {
        enum js_type t = js_peek(&j);
        size_t k = 0;
        while (k < sizeof(keys) / sizeof(keys[0]) &&
               strcmp(keys[k].key, key) != 0)
            k++;
        if (k < sizeof(keys) / sizeof(keys[0]) && t == JS_STRING) {
            js_string(&j, keys[k].dst, keys[k].cap, NULL);
        } else if (strcmp(key, "model_year") == 0 && t == JS_NUMBER) {
            double v;
            if (js_number(&j, &v) == 0 && v >= 1900 && v <= 2100)
                x->model_year = (int)v;
        } else if (strcmp(key, "history") == 0 && !x->have_history) {
            while (j.p < j.end && (*j.p == ' ' || *j.p == '\t'))
                j.p++;
            const char *start = j.p;
            if (js_skip(&j) < 0)
                return;
            x->have_history = 1;
            x->hist_off = (size_t)(start - line);
            x->hist_len = (size_t)(j.p - start);
        } else {
            js_skip(&j);
        }
    }
}

static void upper(char *s)
{
    for (; *s; s++) {
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 32);
    }
}

static int import_line(struct store *s, const char *line, size_t len,
                       int too_long, struct hist_entry *e,
                       const struct hist_limits *lim,
                       const struct task_map *tasks,
                       const struct task_sched_table *sched,
                       struct store_import_stats *st, struct eng_err *err)
{
    char vin[VEH_VIN_LEN + 16];
    /* the scorer's bundle index keys lines the same way */
    if (!hist_peek_vin(line, len < 4096 ? len : 4096, vin, sizeof(vin)) ||
        strlen(vin) > VEH_VIN_LEN) {
        st->skipped++;
        return ENG_OK;
    }
    const char *status = "error:LIMIT";
    int rc = ENG_ELIMIT;
    struct line_extra x;
    memset(&x, 0, sizeof(x));
    hist_entry_clear(e);
    if (!too_long) {
        rc = hist_parse_line(e, line, len, lim, tasks, NULL);
        if (rc < 0)
            status = rc == ENG_ELIMIT ? "error:LIMIT" : "error:PARSE";
        else if (e->status && !status_ok(e->status))
            status = e->status;
        else
            status = e->status ? e->status : "ok";
        if (rc != ENG_EJSON)
            read_extra(line, len, &x);
    }
    upper(x.make);
    const char *make = x.make[0] ? x.make : task_make_of_vin(sched, vin);
    int year = x.model_year ? x.model_year : veh_vin_model_year(vin, 0);
    struct store_vehicle v = {
        .vin = vin,
        .vehicle_id = e->vehicle_id,
        .make = make,
        .model_year = year,
        .powertrain = x.powertrain,
        .powertrain_source = x.powertrain_source,
        .unit_system = x.unit_system[0] ? x.unit_system
                       : e->imperial ? "imperial" : NULL,
    };
    long long vid, fid;
    int e2 = store_upsert_vehicle(s, &v, &vid, err);
    if (e2 < 0)
        return e2;
    struct store_fetch f = {
        .vehicle = vid,
        .fetched_at = x.fetched_at,
        .window_from = x.window_from,
        .window_to = x.window_to,
        .status = status,
        .request_id = x.request_id,
        .bytes = (long long)len,
    };
    e2 = store_record_fetch(s, &f, &fid, err);
    if (e2 < 0)
        return e2;
    if (e2 == 0)
        st->dup_fetches++;
    st->vehicles++;
    if (!status_ok(status)) {
        st->failed++;
        return ENG_OK;
    }
    if (!x.have_history)
        return ENG_OK;
    struct store_merge_stats ms = {0};
    e2 = merge_parsed(s, vid, fid, &e->hist, line + x.hist_off, x.hist_len,
                      e->imperial, &ms, err);
    if (e2 < 0)
        return e2;
    st->records += ms.records;
    st->added += ms.added;
    return ENG_OK;
}

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    }
    return 1;
}

int store_import_line(struct store *s, const char *line, size_t len,
                      const struct hist_limits *lim,
                      const struct task_map *tasks,
                      const struct task_sched_table *sched,
                      struct store_import_stats *st, struct eng_err *err)
{
    struct hist_entry e;
    hist_entry_init(&e);
    st->lines++;
    int rc = import_line(s, line, len, len > lim->max_body + 65536, &e, lim,
                         tasks, sched, st, err);
    hist_entry_release(&e);
    return rc;
}

int store_import(struct store *s, const char *bundle,
                 const struct hist_limits *lim, const struct task_map *tasks,
                 const struct task_sched_table *sched,
                 struct store_import_stats *st, struct eng_err *err)
{
    memset(st, 0, sizeof(*st));
    FILE *f = strcmp(bundle, "-") == 0 ? stdin : fopen(bundle, "rb");
    if (!f)
        return eng_err_set(err, ENG_EIO, "cannot open '%s': %s", bundle,
                           strerror(errno));
    struct hist_entry e;
    hist_entry_init(&e);
    char *line = NULL;
    size_t cap = 0;
    size_t max_line = lim->max_body + 65536;
    size_t in_batch = 0;
    int rc = store_begin(s, err);
    ssize_t got;
    while (rc == ENG_OK && (got = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        st->lines++;
        if (is_blank(line, len)) {
            st->blank++;
            continue;
        }
        rc = import_line(s, line, len, len > max_line, &e, lim, tasks,
                         sched, st, err);
        if (rc == ENG_OK && ++in_batch == STORE_BATCH) {
            rc = store_commit(s, err);
            if (rc == ENG_OK)
                rc = store_begin(s, err);
            in_batch = 0;
        }
    }
    if (rc == ENG_OK && ferror(f))
        rc = eng_err_set(err, ENG_EIO, "cannot read '%s': %s", bundle,
                         strerror(errno));
    if (rc == ENG_OK)
        rc = store_commit(s, err);
    else if (s->in_tx)
        store_rollback(s);
    free(line);
    hist_entry_release(&e);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Export. */

static int member(struct buf *b, const char *key, const char *val,
                  struct eng_err *err)
{
    if (!val || !val[0])
        return ENG_OK;
    int rc = buf_printf(b, err, ",\"%s\":", key);
    return rc == ENG_OK ? buf_json_str(b, val, err) : rc;
}

/* One bundle line for h (with raw records) into b. */
static int export_line(const struct store_hist *h, struct buf *b,
                       struct store_export_stats *st, struct eng_err *err)
{
    buf_reset(b);
    int v3 = h->n && h->shape[h->n - 1] == 1;
    int imperial = strcmp(h->unit_system, "imperial") == 0;
    int mixed = 0;
    for (size_t i = 0; i < h->n; i++)
        mixed |= h->shape[i] != v3 || h->imperial[i] != imperial;
    if (mixed)
        st->mixed++;
    int rc = buf_adds(b, "{\"vin\":", err);
    if (rc == ENG_OK)
        rc = buf_json_str(b, h->vin, err);
    if (rc == ENG_OK)
        rc = member(b, "vehicle_id", h->vehicle_id, err);
    if (rc == ENG_OK)
        rc = member(b, "unit_system", h->unit_system[0] ? h->unit_system
                    : "metric", err);
    if (rc == ENG_OK)
        rc = member(b, "fetched_at", h->fetched_at, err);
    if (rc == ENG_OK && strcmp(h->status, "ok") != 0)
        rc = member(b, "status", h->status, err);
    if (rc == ENG_OK)
        rc = member(b, "make", h->make, err);
    if (rc == ENG_OK && h->model_year)
        rc = buf_printf(b, err, ",\"model_year\":%d", h->model_year);
    if (rc == ENG_OK)
        rc = member(b, "powertrain", h->powertrain, err);
    if (rc == ENG_OK)
        rc = member(b, "powertrain_source", h->powertrain_source, err);
    if (rc == ENG_OK)
        rc = buf_adds(b, v3 ? ",\"history\":{\"values\":[" : ",\"history\":[",
                      err);
    for (size_t i = 0; rc == ENG_OK && i < h->n; i++) {
        if (i)
            rc = buf_add(b, ",", 1, err);
        if (rc == ENG_OK)
            rc = buf_adds(b, h->raw[i], err);
    }
    if (rc == ENG_OK)
        rc = buf_adds(b, v3 ? "]}}\n" : "]}\n", err);
    return rc;
}

int store_export(struct store *s, const char *out, const char *vehicles_path,
                 struct store_export_stats *st, struct eng_err *err)
{
    memset(st, 0, sizeof(*st));
    struct veh_reader *vr = NULL;
    struct veh_row row = VEH_ROW_INIT;
    if (vehicles_path) {
        vr = veh_open(vehicles_path, err);
        if (!vr)
            return err ? err->code : ENG_EIO;
    }
    struct out_file *of = out_open(out, err);
    if (!of) {
        veh_close(vr);
        return err ? err->code : ENG_EIO;
    }
    struct buf b;
    buf_init(&b, (size_t)1 << 34);
    long long after = 0;
    char vin[64];
    int rc = exec(s, "BEGIN", err);   /* one snapshot for the whole file */
    while (rc == ENG_OK) {
        if (vr) {
            rc = veh_next(vr, &row, err);
            if (rc <= 0)
                break;
            snprintf(vin, sizeof(vin), "%s", row.vin);
        } else {
            rc = store_next_vin(s, &after, vin, err);
            if (rc <= 0)
                break;
        }
        struct store_hist h;
        rc = store_get(s, vin, 1, &h, err);
        if (rc == 0) {
            st->missing++;
            rc = ENG_OK;
            continue;
        }
        if (rc < 0)
            break;
        rc = export_line(&h, &b, st, err);
        if (rc == ENG_OK)
            rc = out_write(of, b.data, b.len, err);
        st->vehicles++;
    }
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc == ENG_OK)
        rc = out_commit(of, err);
    else
        out_abort(of);
    buf_release(&b);
    veh_row_release(&row);
    veh_close(vr);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Merge. */

static int count_changes(struct store *s, const char *sql, size_t *n,
                         struct eng_err *err)
{
    int rc = exec(s, sql, err);
    if (rc == ENG_OK && n)
        *n += (size_t)sqlite3_changes(s->db);
    return rc;
}

int store_merge_from(struct store *s, const char *src_path,
                     struct store_merge_in_stats *st, struct eng_err *err)
{
    memset(st, 0, sizeof(*st));
    struct store *src = store_open(src_path, STORE_READONLY, err);
    if (!src)
        return err ? err->code : ENG_EIO;
    store_close(src);   /* checked: a store of this schema version */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "ATTACH DATABASE ?1 AS src", -1, &q, NULL)
        != SQLITE_OK)
        return db_fail(s, err, "cannot attach");
    sqlite3_bind_text(q, 1, src_path, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(q);
    sqlite3_finalize(q);
    if (step != SQLITE_DONE)
        return db_fail(s, err, "cannot attach the source store");
    int rc = store_begin(s, err);
    if (rc == ENG_OK)
        rc = count_changes(s, "INSERT OR IGNORE INTO vehicle (vin) "
                           "SELECT vin FROM src.vehicle ORDER BY id", NULL,
                           err);
    if (rc == ENG_OK)
        rc = exec(s, "CREATE TEMP TABLE vmap AS SELECT sv.id AS sid,"
                  " mv.id AS did, (SELECT ifnull(max(seq), 0) FROM"
                  " main.record WHERE vehicle = mv.id) AS base"
                  " FROM src.vehicle sv JOIN main.vehicle mv ON"
                  " mv.vin = sv.vin;"
                  "CREATE INDEX temp.vmap_sid ON vmap(sid);", err);
    if (rc == ENG_OK)
        rc = exec(s, "UPDATE main.vehicle SET"
                  " vehicle_id = coalesce((SELECT vehicle_id FROM"
                  "  src.vehicle sv WHERE sv.vin = vehicle.vin), vehicle_id),"
                  " make = coalesce((SELECT make FROM src.vehicle sv"
                  "  WHERE sv.vin = vehicle.vin), make),"
                  " model_year = coalesce((SELECT model_year FROM"
                  "  src.vehicle sv WHERE sv.vin = vehicle.vin), model_year),"
                  " unit_system = coalesce((SELECT unit_system FROM"
                  "  src.vehicle sv WHERE sv.vin = vehicle.vin), unit_system),"
                  " powertrain = coalesce((SELECT powertrain FROM"
                  "  src.vehicle sv WHERE sv.vin = vehicle.vin), powertrain),"
                  " powertrain_source = coalesce((SELECT powertrain_source"
                  "  FROM src.vehicle sv WHERE sv.vin = vehicle.vin),"
                  "  powertrain_source)"
                  " WHERE id IN (SELECT did FROM vmap)", err);
    if (rc == ENG_OK)
        rc = count_changes(s, "INSERT OR IGNORE INTO main.fetch (vehicle,"
                           " fetched_at, window_from, window_to, status,"
                           " request_id, bytes, records, records_added)"
                           " SELECT m.did, f.fetched_at, f.window_from,"
                           " f.window_to, f.status, f.request_id, f.bytes,"
                           " f.records, f.records_added FROM src.fetch f"
                           " JOIN vmap m ON m.sid = f.vehicle ORDER BY f.id",
                           &st->fetches_added, err);
    if (rc == ENG_OK)
        rc = count_changes(s, "INSERT OR IGNORE INTO main.record (vehicle,"
                           " seq, ident, service_id, service_date, day,"
                           " odometer_km, cost, currency, categories,"
                           " cat_mask, n_tasks, source, shape, imperial,"
                           " first_seen, raw) SELECT m.did, m.base + r.seq,"
                           " r.ident, r.service_id, r.service_date, r.day,"
                           " r.odometer_km, r.cost, r.currency, r.categories,"
                           " r.cat_mask, r.n_tasks, r.source, r.shape,"
                           " r.imperial, r.first_seen, r.raw FROM src.record r"
                           " JOIN vmap m ON m.sid = r.vehicle"
                           " ORDER BY r.vehicle, r.seq",
                           &st->records_added, err);
    /* the vehicles' last fetches, from all their fetches now */
    if (rc == ENG_OK)
        rc = exec(s, "UPDATE main.vehicle SET"
                  " last_fetch_at = (SELECT ifnull(fetched_at, '') FROM"
                  "  main.fetch f WHERE f.vehicle = vehicle.id"
                  "  ORDER BY ifnull(fetched_at, '') DESC, id DESC LIMIT 1),"
                  " last_status = (SELECT status FROM main.fetch f"
                  "  WHERE f.vehicle = vehicle.id"
                  "  ORDER BY ifnull(fetched_at, '') DESC, id DESC LIMIT 1),"
                  " last_ok_at = (SELECT max(ifnull(fetched_at, '')) FROM"
                  "  main.fetch f WHERE f.vehicle = vehicle.id AND"
                  "  f.status IN ('ok', 'no_history'))"
                  " WHERE id IN (SELECT did FROM vmap)", err);
    if (rc == ENG_OK)
        rc = exec(s, "CREATE TEMP TABLE rmap AS SELECT r.id AS sid,"
                  " r.uid AS uid FROM src.run r WHERE r.uid NOT IN"
                  " (SELECT uid FROM main.run) ORDER BY r.id", err);
    if (rc == ENG_OK)
        rc = count_changes(s, "INSERT INTO main.run (uid, started_at,"
                           " ended_at, command, model_id, as_of, rows, ok,"
                           " no_history, errors, exit_code, drift)"
                           " SELECT uid, started_at, ended_at, command,"
                           " model_id, as_of, rows, ok, no_history, errors,"
                           " exit_code, drift FROM src.run WHERE id IN"
                           " (SELECT sid FROM rmap) ORDER BY id",
                           &st->runs_added, err);
    if (rc == ENG_OK)
        rc = exec(s, "INSERT INTO main.run_status (run, status, n)"
                  " SELECT mr.id, rs.status, rs.n FROM src.run_status rs"
                  " JOIN rmap ON rmap.sid = rs.run"
                  " JOIN main.run mr ON mr.uid = rmap.uid;"
                  "INSERT INTO main.score SELECT mr.id, sc.row, sc.vin,"
                  " sc.policy_id, sc.status, sc.score, sc.band,"
                  " sc.relativity, sc.reason_1, sc.reason_2, sc.reason_3,"
                  " sc.reason_4, sc.model_id FROM src.score sc"
                  " JOIN rmap ON rmap.sid = sc.run"
                  " JOIN main.run mr ON mr.uid = rmap.uid;", err);
    if (rc == ENG_OK) {
        sqlite3_stmt *c;
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM src.vehicle", -1,
                               &c, NULL) == SQLITE_OK) {
            if (sqlite3_step(c) == SQLITE_ROW)
                st->vehicles = (size_t)sqlite3_column_int64(c, 0);
            sqlite3_finalize(c);
        }
        rc = store_commit(s, err);
    }
    if (rc < 0 && s->in_tx)
        store_rollback(s);
    sqlite3_exec(s->db, "DROP TABLE IF EXISTS temp.vmap;"
                 "DROP TABLE IF EXISTS temp.rmap;"
                 "DETACH DATABASE src", NULL, NULL, NULL);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Runs, scores, drift. */

/* Runs not recorded have negative ids, kept in the temporary tables. */
static const char *run_table(long long id)
{
    return id < 0 ? "temp.trun" : "main.run";
}

static const char *score_table(long long id)
{
    return id < 0 ? "temp.tscore" : "main.score";
}

int store_run_begin(struct store *s, const struct store_run *r, int temp,
                    long long *id, struct eng_err *err)
{
    char uid[40];
    unsigned long long a = 0, b = 0;
    FILE *rnd = fopen("/dev/urandom", "rb");
    if (rnd) {
        if (fread(&a, sizeof(a), 1, rnd) != 1 ||
            fread(&b, sizeof(b), 1, rnd) != 1)
            a = b = 0;
        fclose(rnd);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    a ^= (unsigned long long)ts.tv_nsec * 0x9E3779B97F4A7C15ull;
    b ^= (unsigned long long)ts.tv_sec ^ ((unsigned long long)getpid() << 32);
    snprintf(uid, sizeof(uid), "%016llx%016llx", a, b);
    char sql[256];
    snprintf(sql, sizeof(sql), "INSERT INTO %s (id, uid, started_at, command,"
             " model_id, as_of) VALUES (%s, ?1, ?2, ?3, ?4, ?5)",
             temp ? "temp.trun" : "main.run",
             temp ? "-1 - (SELECT count(*) FROM temp.trun)" : "NULL");
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "cannot record a run");
    sqlite3_bind_text(q, 1, uid, -1, SQLITE_TRANSIENT);
    bind_text(q, 2, r->started_at);
    bind_text(q, 3, r->command);
    bind_text(q, 4, r->model_id);
    bind_text(q, 5, r->as_of);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return db_fail(s, err, "cannot record a run");
    *id = sqlite3_last_insert_rowid(s->db);
    return ENG_OK;
}

int store_run_score(struct store *s, long long id,
                    const struct store_score *sc, struct eng_err *err)
{
    sqlite3_stmt *q = id < 0
        /* binding the parameters it does not use is a harmless no-op */
        ? prep(s, ST_TSCORE, "INSERT INTO temp.tscore (run, row, vin,"
               " status, score, band) VALUES (?1, ?2, ?3, ?5, ?6, ?7)", err)
        : prep(s, ST_SCORE, "INSERT OR REPLACE INTO main.score (run, row,"
               " vin, policy_id, status, score, band, relativity, reason_1,"
               " reason_2, reason_3, reason_4, model_id) VALUES (?1, ?2, ?3,"
               " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, (long long)sc->row);
    sqlite3_bind_text(q, 3, sc->vin ? sc->vin : "", -1, SQLITE_TRANSIENT);
    bind_text(q, 4, sc->policy_id);
    sqlite3_bind_text(q, 5, sc->status, -1, SQLITE_TRANSIENT);
    if (sc->has_score) {
        char band[2] = {sc->band, '\0'};
        sqlite3_bind_int(q, 6, sc->score);
        sqlite3_bind_text(q, 7, band, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(q, 8, sc->relativity);
    }
    for (int i = 0; i < 4; i++)
        bind_text(q, 9 + i, sc->reasons[i]);
    bind_text(q, 13, sc->model_id);
    if (sqlite3_step(q) != SQLITE_DONE)
        return db_fail(s, err, "cannot record a score");
    return ENG_OK;
}

/* Runs one statement of a few int64 parameters; calls row() per result. */
static int query(struct store *s, const char *sql, const long long *args,
                 int nargs, void (*row)(sqlite3_stmt *, void *), void *ud,
                 struct eng_err *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "cannot prepare a query");
    for (int i = 0; i < nargs; i++)
        sqlite3_bind_int64(q, i + 1, args[i]);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        row(q, ud);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? ENG_OK : db_fail(s, err, "query failed");
}

static void prev_row(sqlite3_stmt *q, void *ud)
{
    struct store_drift *d = ud;
    d->prev = sqlite3_column_int64(q, 0);
    snprintf(d->prev_started, sizeof(d->prev_started), "%s",
             col_text(q, 1));
}

static void matrix_row(sqlite3_stmt *q, void *ud)
{
    struct store_drift *d = ud;
    const char *pb = col_text(q, 0), *cb = col_text(q, 1);
    int p = pb[0] - 'A', c = cb[0] - 'A';
    size_t n = (size_t)sqlite3_column_int64(q, 2);
    d->both += n;
    /* the sum of changes rides in mean_change until the end */
    d->mean_change += sqlite3_column_double(q, 3);
    if (p < 0 || p >= STORE_BANDS || c < 0 || c >= STORE_BANDS)
        return;
    d->matrix[p][c] += n;
    if (p != c) {
        d->moved += n;
        d->by[p > c ? p - c : c - p] += n;
    }
}

static void move_row(sqlite3_stmt *q, void *ud)
{
    struct store_drift *d = ud;
    if (d->n_moves == STORE_MAX_MOVES)
        return;
    struct store_move *m = &d->moves[d->n_moves++];
    snprintf(m->vin, sizeof(m->vin), "%s", col_text(q, 0));
    m->from_score = sqlite3_column_int(q, 1);
    m->to_score = sqlite3_column_int(q, 2);
    m->from_band = col_text(q, 3)[0];
    m->to_band = col_text(q, 4)[0];
}

static void count_row(sqlite3_stmt *q, void *ud)
{
    *(size_t *)ud = (size_t)sqlite3_column_int64(q, 0);
}

int store_drift(struct store *s, long long id, struct store_drift *d,
                struct eng_err *err)
{
    memset(d, 0, sizeof(*d));
    long long args[2] = {id, 0};
    int rc = query(s, id < 0
                   ? "SELECT id, started_at FROM main.run WHERE exit_code"
                     " IS NOT NULL AND exit_code <> 1 AND ?1 < 0"
                     " ORDER BY id DESC LIMIT 1"
                   : "SELECT id, started_at FROM main.run WHERE exit_code"
                     " IS NOT NULL AND exit_code <> 1 AND id < ?1"
                     " ORDER BY id DESC LIMIT 1",
                   args, 1, prev_row, d, err);
    if (rc < 0 || d->prev == 0)
        return rc;
    args[1] = d->prev;
    /*
     * The banded rows of both runs, copied and indexed by VIN in bulk: an
     * index by VIN kept while scores arrive in list order would rewrite
     * random pages at every commit, costing more than the run itself.
     */
    char sql[512];
    snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS temp.dcur;"
             "DROP TABLE IF EXISTS temp.dprev;"
             "CREATE TEMP TABLE dcur AS SELECT vin, band, score FROM %s"
             " WHERE run = %lld AND band IS NOT NULL;"
             "CREATE TEMP TABLE dprev AS SELECT vin, band, score FROM"
             " main.score WHERE run = %lld AND band IS NOT NULL;"
             "CREATE INDEX temp.dcur_vin ON dcur(vin, band, score);"
             "CREATE INDEX temp.dprev_vin ON dprev(vin, band, score);",
             score_table(id), id, d->prev);
    rc = exec(s, sql, err);
    /* grouped by VIN: a VIN listed twice has one score */
    if (rc == ENG_OK)
        rc = query(s, "SELECT pb, cb, count(*), total(d) FROM"
                   " (SELECT c.vin, c.band AS cb, p.band AS pb,"
                   " c.score - p.score AS d FROM temp.dcur c INDEXED BY"
                   " dcur_vin JOIN temp.dprev p INDEXED BY dprev_vin"
                   " ON p.vin = c.vin GROUP BY c.vin) GROUP BY 1, 2",
                   args, 0, matrix_row, d, err);
    if (rc == ENG_OK)
        rc = query(s, "SELECT c.vin, p.score, c.score, p.band, c.band FROM"
                   " temp.dcur c INDEXED BY dcur_vin JOIN temp.dprev p"
                   " INDEXED BY dprev_vin ON p.vin = c.vin"
                   " WHERE c.score <> p.score GROUP BY c.vin"
                   " ORDER BY abs(c.score - p.score) DESC, c.vin LIMIT 20",
                   args, 0, move_row, d, err);
    if (rc == ENG_OK)
        rc = query(s, "SELECT count(DISTINCT vin) FROM temp.dcur WHERE vin"
                   " NOT IN (SELECT vin FROM temp.dprev)", args, 0,
                   count_row, &d->added, err);
    if (rc == ENG_OK)
        rc = query(s, "SELECT count(DISTINCT vin) FROM temp.dprev WHERE vin"
                   " NOT IN (SELECT vin FROM temp.dcur)", args, 0,
                   count_row, &d->gone, err);
    sqlite3_exec(s->db, "DROP TABLE IF EXISTS temp.dcur;"
                 "DROP TABLE IF EXISTS temp.dprev;", NULL, NULL, NULL);
    d->mean_change = d->both ? d->mean_change / (double)d->both : 0;
    return rc;
}

static int drift_json(const struct store_drift *d, struct buf *b,
                      struct eng_err *err)
{
    int rc = buf_printf(b, err, "{\"previous_run\":%lld,\"both\":%zu,"
                        "\"moved\":%zu,\"moved_by\":{", d->prev, d->both,
                        d->moved);
    for (int k = 1; rc == ENG_OK && k < STORE_BANDS; k++)
        rc = buf_printf(b, err, "%s\"%d\":%zu", k > 1 ? "," : "", k,
                        d->by[k]);
    if (rc == ENG_OK)
        rc = buf_adds(b, "},\"matrix\":[", err);
    for (int p = 0; rc == ENG_OK && p < STORE_BANDS; p++) {
        rc = buf_adds(b, p ? ",[" : "[", err);
        for (int c = 0; rc == ENG_OK && c < STORE_BANDS; c++)
            rc = buf_printf(b, err, "%s%zu", c ? "," : "", d->matrix[p][c]);
        if (rc == ENG_OK)
            rc = buf_adds(b, "]", err);
    }
    if (rc == ENG_OK)
        rc = buf_printf(b, err, "],\"new\":%zu,\"gone\":%zu,"
                        "\"mean_score_change\":%.4f}", d->added, d->gone,
                        d->mean_change);
    return rc;
}

int store_run_end(struct store *s, long long id,
                  const struct store_run_end *e, struct eng_err *err)
{
    struct buf dj;
    buf_init(&dj, 1 << 16);
    int rc = ENG_OK;
    if (e->drift && e->drift->prev)
        rc = drift_json(e->drift, &dj, err);
    char sql[1024];
    const char *t = score_table(id);
    snprintf(sql, sizeof(sql), "UPDATE %s SET ended_at = ?2,"
             " exit_code = ?3, drift = ?4,"
             " rows = (SELECT count(*) FROM %s WHERE run = ?1),"
             " ok = (SELECT count(*) FROM %s WHERE run = ?1 AND"
             "  status = 'ok'),"
             " no_history = (SELECT count(*) FROM %s WHERE run = ?1 AND"
             "  status = 'no_history'),"
             " errors = (SELECT count(*) FROM %s WHERE run = ?1 AND"
             "  status LIKE 'error%%')"
             " WHERE id = ?1", run_table(id), t, t, t, t);
    sqlite3_stmt *q = NULL;
    if (rc == ENG_OK &&
        sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        rc = db_fail(s, err, "cannot finish the run");
    if (rc == ENG_OK) {
        sqlite3_bind_int64(q, 1, id);
        bind_text(q, 2, e->ended_at);
        sqlite3_bind_int(q, 3, e->exit_code);
        bind_text(q, 4, dj.len ? dj.data : NULL);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = db_fail(s, err, "cannot finish the run");
    }
    sqlite3_finalize(q);
    buf_release(&dj);
    if (rc == ENG_OK && id > 0) {
        q = NULL;
        if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO run_status"
                               " (run, status, n) SELECT run, status,"
                               " count(*) FROM score WHERE run = ?1"
                               " GROUP BY status", -1, &q, NULL)
            != SQLITE_OK)
            return db_fail(s, err, "cannot count the run's statuses");
        sqlite3_bind_int64(q, 1, id);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = db_fail(s, err, "cannot count the run's statuses");
        sqlite3_finalize(q);
    }
    return rc;
}

int store_next_run(struct store *s, long long *after,
                   struct store_run_info *r, struct eng_err *err)
{
    sqlite3_stmt *q = prep(s, ST_NEXT_RUN, "SELECT id, started_at,"
                           " ended_at, model_id, as_of, rows, ok, no_history,"
                           " errors, exit_code FROM run WHERE id > ?1"
                           " ORDER BY id LIMIT 1", err);
    if (!q)
        return ENG_EIO;
    sqlite3_bind_int64(q, 1, *after);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q);
        return rc == SQLITE_DONE ? 0 : db_fail(s, err, "cannot read runs");
    }
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(q, 0);
    snprintf(r->started_at, sizeof(r->started_at), "%s", col_text(q, 1));
    snprintf(r->ended_at, sizeof(r->ended_at), "%s", col_text(q, 2));
    snprintf(r->model_id, sizeof(r->model_id), "%s", col_text(q, 3));
    snprintf(r->as_of, sizeof(r->as_of), "%s", col_text(q, 4));
    r->rows = (size_t)sqlite3_column_int64(q, 5);
    r->ok = (size_t)sqlite3_column_int64(q, 6);
    r->no_history = (size_t)sqlite3_column_int64(q, 7);
    r->errors = (size_t)sqlite3_column_int64(q, 8);
    r->exit_code = sqlite3_column_type(q, 9) == SQLITE_NULL
                   ? -1 : sqlite3_column_int(q, 9);
    *after = r->id;
    sqlite3_reset(q);
    return 1;
}
