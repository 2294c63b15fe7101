/*
 * Tests for store: a new file gets the current schema; a version-1 file made
 * by the first schema's text is migrated with its rows kept; a newer or a
 * foreign file is refused; records merge with dedupe (by id, else day,
 * odometer and sorted tasks), a record listed twice in one body stays two,
 * and a body merged again adds nothing; a fetch is recorded once; stored
 * records read back as parsed; a merge of two stores dedupes; drift counts
 * band moves, new and gone vehicles and the mean score change.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hist.h"
#include "store.h"

/* The first schema as shipped (a copy: the test must not read the code's). */
static const char schema_v1[] =
    "CREATE TABLE vehicle (id INTEGER PRIMARY KEY, vin TEXT NOT NULL UNIQUE,"
    " vehicle_id TEXT, make TEXT, model_year INTEGER, unit_system TEXT,"
    " last_fetch_at TEXT, last_status TEXT, last_ok_at TEXT);"
    "CREATE TABLE fetch (id INTEGER PRIMARY KEY, vehicle INTEGER NOT NULL"
    " REFERENCES vehicle(id), fetched_at TEXT, window_from TEXT,"
    " window_to TEXT, status TEXT NOT NULL, request_id TEXT, bytes INTEGER,"
    " records INTEGER NOT NULL DEFAULT 0,"
    " records_added INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX fetch_key ON fetch(vehicle, ifnull(fetched_at, ''),"
    " ifnull(window_from, ''), ifnull(window_to, ''), status,"
    " ifnull(request_id, ''));"
    "CREATE TABLE record (id INTEGER PRIMARY KEY, vehicle INTEGER NOT NULL"
    " REFERENCES vehicle(id), seq INTEGER NOT NULL, ident TEXT NOT NULL,"
    " service_id TEXT, service_date TEXT, day INTEGER, odometer_km REAL,"
    " cost REAL, currency TEXT, categories TEXT, cat_mask INTEGER NOT NULL,"
    " n_tasks INTEGER NOT NULL, source TEXT, shape INTEGER NOT NULL,"
    " imperial INTEGER NOT NULL, first_seen TEXT, raw TEXT NOT NULL);"
    "CREATE UNIQUE INDEX record_ident ON record(vehicle, ident);"
    "CREATE TABLE run (id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE,"
    " started_at TEXT NOT NULL, ended_at TEXT, command TEXT, model_id TEXT,"
    " as_of TEXT, rows INTEGER, ok INTEGER, no_history INTEGER,"
    " errors INTEGER, exit_code INTEGER);"
    "CREATE TABLE run_status (run INTEGER NOT NULL REFERENCES run(id),"
    " status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (run, status))"
    " WITHOUT ROWID;"
    "CREATE TABLE score (run INTEGER NOT NULL REFERENCES run(id),"
    " row INTEGER NOT NULL, vin TEXT NOT NULL, policy_id TEXT,"
    " status TEXT NOT NULL, score INTEGER, band TEXT, relativity REAL,"
    " reason_1 TEXT, reason_2 TEXT, reason_3 TEXT, reason_4 TEXT,"
    " model_id TEXT, PRIMARY KEY (run, row)) WITHOUT ROWID;"
    "PRAGMA user_version = 1;";

static const char vin1[] = "1HGCM82633A004352";
static const char vin2[] = "WBAATBNZ2GV846414";

static void fresh(const char *path)
{
    char p[256];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static long long count(const char *path, const char *sql)
{
    sqlite3 *db;
    long long n = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
            if (sqlite3_step(q) == SQLITE_ROW)
                n = sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
        }
    }
    sqlite3_close(db);
    return n;
}

static long long add_vehicle(struct store *s, const char *vin)
{
    struct store_vehicle v = {.vin = vin, .vehicle_id = "veh-1",
                              .unit_system = "metric"};
    long long id = 0;
    CU_ASSERT_EQUAL(store_upsert_vehicle(s, &v, &id, NULL), ENG_OK);
    return id;
}

static int merge(struct store *s, long long vid, const char *body,
                 struct store_merge_stats *st)
{
    struct hist_limits lim;
    hist_limits_default(&lim);
    memset(st, 0, sizeof(*st));
    return store_merge_history(s, vid, 0, body, strlen(body), 0, &lim, NULL,
                               st, NULL);
}

static void test_store_new_file_has_the_current_schema(void)
{
    const char *path = "tmp/store_new.db";
    fresh(path);
    struct eng_err err = {0};
    struct store *s = store_open(path, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(store_version(s), STORE_SCHEMA_VERSION);
    store_close(s);
    CU_ASSERT_EQUAL(count(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM pragma_table_info("
                          "'vehicle') WHERE name = 'powertrain'"), 1);
}

static void test_store_migrates_a_version_1_file(void)
{
    const char *path = "tmp/store_v1.db";
    fresh(path);
    sqlite3 *db;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_exec(db, "INSERT INTO vehicle (vin, make) VALUES"
                                 " ('1HGCM82633A004352', 'HONDA')", NULL,
                                 NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    struct store *s = store_open(path, STORE_READONLY, NULL);
    CU_ASSERT_PTR_NULL(s);     /* read-only cannot migrate */
    s = store_open(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(store_version(s), 2);
    CU_ASSERT_EQUAL(store_begin(s, NULL), ENG_OK);
    struct store_vehicle v = {.vin = vin1, .powertrain = "BEV"};
    long long id = 0;
    CU_ASSERT_EQUAL(store_upsert_vehicle(s, &v, &id, NULL), ENG_OK);
    CU_ASSERT_EQUAL(id, 1);
    CU_ASSERT_EQUAL(store_commit(s, NULL), ENG_OK);
    store_close(s);
    CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM vehicle WHERE make ="
                          " 'HONDA' AND powertrain = 'BEV'"), 1);
    CU_ASSERT_EQUAL(count(path, "PRAGMA user_version"), 2);
}

static void test_store_refuses_newer_and_foreign_files(void)
{
    const char *path = "tmp/store_future.db";
    fresh(path);
    sqlite3 *db;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(db);
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(store_open(path, 0, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "newer"));

    const char *text = "tmp/store_text.db";
    FILE *f = fopen(text, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("this is not an SQLite file, just some text that is long enough "
          "to hold a header of one hundred bytes and then some more....\n",
          f);
    fclose(f);
    memset(&err, 0, sizeof(err));
    CU_ASSERT_PTR_NULL(store_open(text, 0, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
}

static const char body_a[] =
    "[{\"serviceId\":\"A1\",\"serviceDate\":\"2024-01-10\","
    "\"odometerDistance\":1000,\"serviceTasks\":[{\"taskId\":\"1\","
    "\"taskDescription\":\"Oil change\"}]},"
    "{\"serviceId\":null,\"serviceDate\":\"2024-06-01\","
    "\"odometerDistance\":5000.5,\"serviceTasks\":["
    "{\"taskId\":\"2\",\"taskDescription\":\"Rotate tires\"},"
    "{\"taskId\":null,\"taskDescription\":\"Cabin air filter\"}]}]";

/* The same two records (tasks in another order, other spacing) and a third */
static const char body_b[] =
    "[ {\"serviceId\":null,\"serviceDate\":\"2024-06-01T10:00:00Z\","
    "\"odometerDistance\":5000.5,\"serviceTasks\":["
    "{\"taskId\":null,\"taskDescription\":\"Cabin air filter\"},"
    "{\"taskId\":\"2\",\"taskDescription\":\"Rotate tires\"}]},"
    "{\"serviceId\":\"A1\",\"serviceDate\":\"2024-01-10\","
    "\"odometerDistance\":1000},"
    "{\"serviceId\":\"A3\",\"serviceDate\":\"2025-01-10\","
    "\"odometerDistance\":9000,\"serviceCost\":{\"totalCost\":80,"
    "\"currency\":\"eur\"}} ]";

static void test_store_merge_dedupes_records_across_bodies(void)
{
    const char *path = "tmp/store_merge.db";
    fresh(path);
    struct store *s = store_open(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(store_begin(s, NULL), ENG_OK);
    long long vid = add_vehicle(s, vin1);
    struct store_merge_stats st;
    CU_ASSERT_EQUAL(merge(s, vid, body_a, &st), ENG_OK);
    CU_ASSERT_EQUAL(st.records, 2);
    CU_ASSERT_EQUAL(st.added, 2);
    CU_ASSERT_EQUAL(merge(s, vid, body_b, &st), ENG_OK);
    CU_ASSERT_EQUAL(st.records, 3);
    CU_ASSERT_EQUAL(st.added, 1);
    CU_ASSERT_EQUAL(merge(s, vid, body_b, &st), ENG_OK);
    CU_ASSERT_EQUAL(st.added, 0);
    CU_ASSERT_EQUAL(store_commit(s, NULL), ENG_OK);

    struct store_hist h;
    CU_ASSERT_EQUAL(store_get(s, vin1, 1, &h, NULL), 1);
    CU_ASSERT_EQUAL_FATAL(h.n, 3);
    /* the order first seen, the fields as parsed */
    CU_ASSERT_STRING_EQUAL(h.rec[0].service_id, "A1");
    CU_ASSERT_STRING_EQUAL(h.rec[1].service_id, "");
    CU_ASSERT_STRING_EQUAL(h.rec[2].service_id, "A3");
    CU_ASSERT_DOUBLE_EQUAL(h.rec[1].km, 5000.5, 1e-9);
    CU_ASSERT_EQUAL(h.rec[1].n_tasks, 2);
    CU_ASSERT_EQUAL(h.rec[0].day, eng_days_from_civil(2024, 1, 10));
    CU_ASSERT_DOUBLE_EQUAL(h.rec[2].cost, 80, 1e-9);
    CU_ASSERT_STRING_EQUAL(h.rec[2].currency, "EUR");
    CU_ASSERT_TRUE(isnan(h.rec[0].cost));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.raw[2], "\"A3\""));
    CU_ASSERT_EQUAL(h.raw[2][0], '{');
    CU_ASSERT_STRING_EQUAL(h.status, "ok");
    CU_ASSERT_EQUAL(store_get(s, vin2, 0, &h, NULL), 0);
    store_close(s);
    CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM record WHERE"
                          " service_date = '2024-06-01' AND"
                          " odometer_km = 5000.5"), 1);
}

static void test_store_keeps_a_record_listed_twice_in_one_body(void)
{
    const char *path = "tmp/store_twice.db";
    fresh(path);
    static const char twice[] =
        "[{\"serviceDate\":\"2024-01-10\",\"odometerDistance\":1000},"
        "{\"serviceDate\":\"2024-01-10\",\"odometerDistance\":1000}]";
    struct store *s = store_open(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(store_begin(s, NULL), ENG_OK);
    long long vid = add_vehicle(s, vin1);
    struct store_merge_stats st;
    CU_ASSERT_EQUAL(merge(s, vid, twice, &st), ENG_OK);
    CU_ASSERT_EQUAL(st.added, 2);
    CU_ASSERT_EQUAL(merge(s, vid, twice, &st), ENG_OK);
    CU_ASSERT_EQUAL(st.added, 0);
    /* a later body listing it once adds nothing either */
    CU_ASSERT_EQUAL(merge(s, vid, "[{\"serviceDate\":\"2024-01-10\","
                          "\"odometerDistance\":1000}]", &st), ENG_OK);
    CU_ASSERT_EQUAL(st.added, 0);
    CU_ASSERT_EQUAL(store_commit(s, NULL), ENG_OK);
    store_close(s);
    CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM record"), 2);
}

static void test_store_merge_refuses_a_body_that_is_no_history(void)
{
    const char *path = "tmp/store_bad.db";
    fresh(path);
    struct store *s = store_open(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(store_begin(s, NULL), ENG_OK);
    long long vid = add_vehicle(s, vin1);
    struct store_merge_stats st;
    CU_ASSERT_EQUAL(merge(s, vid, "[{\"serviceDate\":", &st), ENG_EJSON);
    CU_ASSERT_EQUAL(merge(s, vid, "\"text\"", &st), ENG_EDATA);
    CU_ASSERT_EQUAL(store_commit(s, NULL), ENG_OK);
    store_close(s);
    CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM record"), 0);
}

static void test_store_records_a_fetch_once(void)
{
    const char *path = "tmp/store_fetch.db";
    fresh(path);
    struct store *s = store_open(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(store_begin(s, NULL), ENG_OK);
    long long vid = add_vehicle(s, vin1);
    struct store_fetch f = {.vehicle = vid,
                            .fetched_at = "2026-06-30T00:00:00Z",
                            .status = "error:SERVER", .bytes = 10};
    long long id1 = 0, id2 = 0;
    CU_ASSERT_EQUAL(store_record_fetch(s, &f, &id1, NULL), 1);
    CU_ASSERT_EQUAL(store_record_fetch(s, &f, &id2, NULL), 0);
    CU_ASSERT_EQUAL(id1, id2);
    struct store_hist h;
    CU_ASSERT_EQUAL(store_get(s, vin1, 0, &h, NULL), 1);
    CU_ASSERT_STRING_EQUAL(h.status, "error:SERVER");
    /* a later successful fetch: the records decide again */
    f.fetched_at = "2026-07-01T00:00:00Z";
    f.status = "ok";
    CU_ASSERT_EQUAL(store_record_fetch(s, &f, &id2, NULL), 1);
    CU_ASSERT_NOT_EQUAL(id1, id2);
    CU_ASSERT_EQUAL(store_get(s, vin1, 0, &h, NULL), 1);
    CU_ASSERT_STRING_EQUAL(h.status, "ok");
    struct store_state state;
    CU_ASSERT_EQUAL(store_vehicle_state(s, vin1, &state, NULL), ENG_OK);
    CU_ASSERT_EQUAL(state.id, vid);
    CU_ASSERT_STRING_EQUAL(state.last_ok_at, "2026-07-01T00:00:00Z");
    CU_ASSERT_EQUAL(state.last_day, HIST_NO_DAY);
    CU_ASSERT_EQUAL(store_commit(s, NULL), ENG_OK);
    store_close(s);
}

static void test_store_merge_from_dedupes_shards(void)
{
    const char *a = "tmp/store_shard_a.db", *b = "tmp/store_shard_b.db";
    const char *out = "tmp/store_shard_out.db";
    fresh(a);
    fresh(b);
    fresh(out);
    struct store_merge_stats st;
    struct store *s = store_open(a, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(store_begin(s, NULL), ENG_OK);
    CU_ASSERT_EQUAL(merge(s, add_vehicle(s, vin1), body_a, &st), ENG_OK);
    CU_ASSERT_EQUAL(store_commit(s, NULL), ENG_OK);
    store_close(s);
    s = store_open(b, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(store_begin(s, NULL), ENG_OK);
    CU_ASSERT_EQUAL(merge(s, add_vehicle(s, vin1), body_b, &st), ENG_OK);
    CU_ASSERT_EQUAL(merge(s, add_vehicle(s, vin2), body_a, &st), ENG_OK);
    CU_ASSERT_EQUAL(store_commit(s, NULL), ENG_OK);
    store_close(s);

    s = store_open(out, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    struct store_merge_in_stats ms;
    CU_ASSERT_EQUAL(store_merge_from(s, a, &ms, NULL), ENG_OK);
    CU_ASSERT_EQUAL(ms.records_added, 2);
    CU_ASSERT_EQUAL(store_merge_from(s, b, &ms, NULL), ENG_OK);
    CU_ASSERT_EQUAL(ms.vehicles, 2);
    CU_ASSERT_EQUAL(ms.records_added, 1 + 2);
    CU_ASSERT_EQUAL(store_merge_from(s, b, &ms, NULL), ENG_OK);
    CU_ASSERT_EQUAL(ms.records_added, 0);
    struct store_hist h;
    CU_ASSERT_EQUAL(store_get(s, vin1, 0, &h, NULL), 1);
    CU_ASSERT_EQUAL_FATAL(h.n, 3);
    CU_ASSERT_STRING_EQUAL(h.rec[0].service_id, "A1");
    CU_ASSERT_STRING_EQUAL(h.rec[2].service_id, "A3");
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(store_merge_from(s, "tmp/no-such-store.db", &ms, &err),
                    ENG_EIO);
    store_close(s);
}

static void score(struct store *s, long long run, size_t row,
                  const char *vin, int sc, char band)
{
    struct store_score x = {.row = row, .vin = vin, .status = "ok",
                            .has_score = band != 0, .score = sc,
                            .band = band, .relativity = 1.0};
    if (!band)
        x.status = "error:PARSE";
    CU_ASSERT_EQUAL(store_run_score(s, run, &x, NULL), ENG_OK);
}

static void test_store_drift_counts_moves_new_and_gone(void)
{
    const char *path = "tmp/store_drift.db";
    fresh(path);
    struct store *s = store_open(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    struct store_run r = {"2026-06-01T00:00:00Z", "score", "m-1",
                          "2026-06-01"};
    long long r1, r2, r3;
    struct store_drift d;
    CU_ASSERT_EQUAL(store_run_begin(s, &r, 0, &r1, NULL), ENG_OK);
    CU_ASSERT_EQUAL(store_begin(s, NULL), ENG_OK);
    score(s, r1, 0, "V1", 800, 'A');
    score(s, r1, 1, "V2", 600, 'C');
    score(s, r1, 2, "V3", 500, 'D');
    score(s, r1, 3, "V4", 0, 0);
    CU_ASSERT_EQUAL(store_commit(s, NULL), ENG_OK);
    CU_ASSERT_EQUAL(store_drift(s, r1, &d, NULL), ENG_OK);
    CU_ASSERT_EQUAL(d.prev, 0);
    struct store_run_end end = {"2026-06-01T00:01:00Z", 0, &d};
    CU_ASSERT_EQUAL(store_run_end(s, r1, &end, NULL), ENG_OK);

    CU_ASSERT_EQUAL(store_run_begin(s, &r, 0, &r2, NULL), ENG_OK);
    CU_ASSERT_EQUAL(store_begin(s, NULL), ENG_OK);
    score(s, r2, 0, "V1", 790, 'A');      /* same band */
    score(s, r2, 1, "V2", 420, 'E');      /* C -> E: two bands */
    score(s, r2, 2, "V4", 700, 'B');      /* scored now: new */
    score(s, r2, 3, "V5", 650, 'B');      /* new; V3 is gone */
    CU_ASSERT_EQUAL(store_commit(s, NULL), ENG_OK);
    CU_ASSERT_EQUAL(store_drift(s, r2, &d, NULL), ENG_OK);
    CU_ASSERT_EQUAL(d.prev, r1);
    CU_ASSERT_EQUAL(d.both, 2);
    CU_ASSERT_EQUAL(d.moved, 1);
    CU_ASSERT_EQUAL(d.by[2], 1);
    CU_ASSERT_EQUAL(d.matrix[0][0], 1);
    CU_ASSERT_EQUAL(d.matrix[2][4], 1);
    CU_ASSERT_EQUAL(d.added, 2);
    CU_ASSERT_EQUAL(d.gone, 1);
    CU_ASSERT_DOUBLE_EQUAL(d.mean_change, (-10.0 - 180.0) / 2, 1e-9);
    end.exit_code = 1;                    /* a failed run is no baseline */
    CU_ASSERT_EQUAL(store_run_end(s, r2, &end, NULL), ENG_OK);

    /* a run not recorded compares with the last good one, run 1 */
    CU_ASSERT_EQUAL(store_run_begin(s, &r, 1, &r3, NULL), ENG_OK);
    CU_ASSERT_TRUE(r3 < 0);
    score(s, r3, 0, "V1", 800, 'A');
    CU_ASSERT_EQUAL(store_drift(s, r3, &d, NULL), ENG_OK);
    CU_ASSERT_EQUAL(d.prev, r1);
    CU_ASSERT_EQUAL(d.both, 1);
    CU_ASSERT_EQUAL(d.gone, 2);
    store_close(s);
    CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM run"), 2);
    CU_ASSERT_EQUAL(count(path, "SELECT errors FROM run WHERE id = 1"), 1);
    CU_ASSERT_EQUAL(count(path, "SELECT n FROM run_status WHERE run = 1"
                          " AND status = 'ok'"), 3);
    CU_ASSERT_EQUAL(count(path, "SELECT json_extract(drift, '$.gone') FROM"
                          " run WHERE id = 2"), 1);
}

static CU_TestInfo store_tests[] = {
    {"new file has the current schema",
     test_store_new_file_has_the_current_schema},
    {"migrates a version 1 file", test_store_migrates_a_version_1_file},
    {"refuses newer and foreign files",
     test_store_refuses_newer_and_foreign_files},
    {"merge dedupes records across bodies",
     test_store_merge_dedupes_records_across_bodies},
    {"keeps a record listed twice in one body",
     test_store_keeps_a_record_listed_twice_in_one_body},
    {"merge refuses a body that is no history",
     test_store_merge_refuses_a_body_that_is_no_history},
    {"records a fetch once", test_store_records_a_fetch_once},
    {"merge from dedupes shards", test_store_merge_from_dedupes_shards},
    {"drift counts moves, new and gone",
     test_store_drift_counts_moves_new_and_gone},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_store_suites[] = {
    {"store", NULL, NULL, NULL, NULL, store_tests},
    CU_SUITE_INFO_NULL
};
