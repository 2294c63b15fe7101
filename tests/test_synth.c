/* Tests for synth: reproducibility, file formats, rates of the model. */
#include <CUnit/CUnit.h>
#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "synth.h"
#include "synth_internal.h"
#include "veh.h"
#include "test_util.h"

#define AS_OF_Y 2026
#define FLEET_N 2000

static const char *const files[] = {
    "vehicles.csv", "histories.jsonl", "claims.csv", "truth.csv"
};
#define N_FILES 4

static long as_of(void)
{
    return eng_days_from_civil(AS_OF_Y, 6, 30);
}

/* ---------------- helpers ---------------- */

/* A new empty directory under tmp/; the path is malloc'd. */
static char *new_dir(void)
{
    mkdir("tmp", 0777);
    char *dir = strdup("tmp/synthXXXXXX");
    if (dir && !mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* Removes the four files (and anything left by a failed run) and dir. */
static void remove_dir(char *dir)
{
    if (!dir)
        return;
    char path[512];
    for (int i = 0; i < N_FILES; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        remove(path);
    }
    rmdir(dir);
    free(dir);
}

/* dir/name whole (tu_slurp()); NULL when unreadable. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return tu_slurp(path, len);
}

/* Splits text into lines in place; returns the count (at most max). */
static int split_lines(char *text, char **lines, int max)
{
    int n = 0;
    char *p = text;
    while (*p && n < max) {
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    return n;
}

/* Splits a CSV line without quotes in place; returns the field count. */
static int split_fields(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == ',') {
            *p = '\0';
            f[n++] = p + 1;
        }
    }
    return n;
}

static int write_fleet(const char *dir, const struct synth_params *p, long n,
                       unsigned long seed)
{
    struct eng_err err = {0};
    int rc = synth_fleet_write(dir, p, n, seed, as_of(), NULL, &err);
    if (rc < 0)
        fprintf(stderr, "synth_fleet_write: %s\n", err.msg);
    return rc;
}

/* ---------------- one shared fleet, parsed once ---------------- */

struct vinfo {
    char vin[18];
    double diligence;
    double annual_km;
    int rollback;
    int unit_confusion;
    double lambda;
    char ptrain[8];
    int from_new;
    int high_km;
    int api_ptrain;        /* the history line names the powertrain */
    char api_name[8];
    int claims;
    double exposure;
    double amount;
    int imperial;
    int n_records;
    int n_oil;             /* tasks whose text names engine oil */
    int n_engine;          /* tasks naming another engine part */
    int n_rotation;        /* tire rotations */
    int n_routine;         /* cabin filters and fluids */
    long first_day;        /* earliest dated record, or -1 */
    int n_dated;           /* distinct dated days */
    double mean_gap;       /* days between distinct dated records */
    double gap_cv;         /* their coefficient of variation */
};

static struct {
    char *dir;
    struct synth_stats stats;
    struct vinfo v[FLEET_N];
    int parsed;
} fleet;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a;
    long y = *(const long *)b;
    return (x > y) - (x < y);
}

static void parse_history(struct vinfo *vi, const cJSON *hist)
{
    long days[512];
    int nd = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, hist) {
        vi->n_records++;
        const cJSON *task;
        cJSON_ArrayForEach(task, cJSON_GetObjectItemCaseSensitive(
                                     rec, "serviceTasks")) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(
                task, "taskDescription");
            for (size_t k = 0; cJSON_IsString(t) && k < synth_n_task_texts;
                 k++) {
                const struct synth_task_text *x = &synth_task_texts[k];
                if (strcmp(x->text, t->valuestring) != 0)
                    continue;
                vi->n_oil += x->kind == SYNTH_OIL;
                vi->n_engine += x->ice_only;
                vi->n_rotation += x->kind == SYNTH_TIRE_ROTATION;
                vi->n_routine += x->kind == SYNTH_FILTERS
                                 || x->kind == SYNTH_FLUIDS;
            }
        }
        const cJSON *date = cJSON_GetObjectItemCaseSensitive(rec,
                                                             "serviceDate");
        long d;
        if (cJSON_IsString(date) && nd < 512
            && eng_parse_day(date->valuestring, 2000, 2100, &d, NULL) == 0)
            days[nd++] = d;
    }
    qsort(days, (size_t)nd, sizeof(days[0]), cmp_long);
    vi->first_day = nd ? days[0] : -1;
    int distinct = 0;
    for (int i = 0; i < nd; i++) {
        if (i == 0 || days[i] != days[i - 1])
            days[distinct++] = days[i];
    }
    vi->n_dated = distinct;
    if (distinct < 2)
        return;
    double sum = 0, sum2 = 0;
    for (int i = 1; i < distinct; i++) {
        double g = (double)(days[i] - days[i - 1]);
        sum += g;
        sum2 += g * g;
    }
    int n = distinct - 1;
    vi->mean_gap = sum / n;
    double var = sum2 / n - vi->mean_gap * vi->mean_gap;
    vi->gap_cv = sqrt(var > 0 ? var : 0) / vi->mean_gap;
}

static int fleet_init(void)
{
    fleet.dir = new_dir();
    if (!fleet.dir)
        return 1;
    struct synth_params p;
    synth_params_default(&p);
    struct eng_err err = {0};
    if (synth_fleet_write(fleet.dir, &p, FLEET_N, 2024, as_of(),
                          &fleet.stats, &err) < 0) {
        fprintf(stderr, "fleet: %s\n", err.msg);
        return 1;
    }
    char *truth = slurp(fleet.dir, "truth.csv", NULL);
    char *claims = slurp(fleet.dir, "claims.csv", NULL);
    char *hist = slurp(fleet.dir, "histories.jsonl", NULL);
    int ok = truth && claims && hist;
    static char *tl[FLEET_N + 2], *cl[FLEET_N + 2], *hl[FLEET_N + 2];
    if (ok)
        ok = split_lines(truth, tl, FLEET_N + 2) == FLEET_N + 1
             && split_lines(claims, cl, FLEET_N + 2) == FLEET_N + 1
             && split_lines(hist, hl, FLEET_N + 2) == FLEET_N;
    for (int i = 0; ok && i < FLEET_N; i++) {
        struct vinfo *vi = &fleet.v[i];
        char *f[12];
        ok = split_fields(tl[i + 1], f, 12) == 9 && strlen(f[0]) == 17
             && strlen(f[6]) < sizeof(vi->ptrain);
        if (!ok)
            break;
        memcpy(vi->vin, f[0], 18);
        vi->diligence = atof(f[1]);
        vi->annual_km = atof(f[2]);
        vi->rollback = atoi(f[3]);
        vi->unit_confusion = atoi(f[4]);
        vi->lambda = atof(f[5]);
        strcpy(vi->ptrain, f[6]);
        vi->from_new = atoi(f[7]);
        vi->high_km = atoi(f[8]);
        ok = split_fields(cl[i + 1], f, 8) == 4 && strcmp(f[0], vi->vin) == 0;
        if (!ok)
            break;
        vi->claims = atoi(f[1]);
        vi->exposure = atof(f[2]);
        vi->amount = atof(f[3]);
        cJSON *j = cJSON_Parse(hl[i]);
        const cJSON *vin = cJSON_GetObjectItemCaseSensitive(j, "vin");
        const cJSON *units = cJSON_GetObjectItemCaseSensitive(j,
                                                              "unit_system");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "history");
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(j, "powertrain");
        ok = cJSON_IsString(vin) && strcmp(vin->valuestring, vi->vin) == 0
             && cJSON_IsString(units) && cJSON_IsArray(h)
             && (!pt || (cJSON_IsString(pt) && strlen(pt->valuestring) < 8));
        if (ok && pt) {
            vi->api_ptrain = 1;
            strcpy(vi->api_name, pt->valuestring);
        }
        if (ok) {
            vi->imperial = strcmp(units->valuestring, "imperial") == 0;
            parse_history(vi, h);
        }
        cJSON_Delete(j);
    }
    free(truth);
    free(claims);
    free(hist);
    fleet.parsed = ok;
    return 0;
}

static int fleet_clean(void)
{
    remove_dir(fleet.dir);
    fleet.dir = NULL;
    return 0;
}

/* ---------------- parameters ---------------- */

static void test_synth_defaults_pass_their_own_check(void)
{
    struct synth_params p;
    synth_params_default(&p);
    CU_ASSERT_EQUAL(synth_params_check(&p, NULL), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(p.rollback_share, 0.035, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(p.km_median, 16700, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(p.beta_d, -0.45, 1e-12);
}

static void test_synth_check_rejects_bad_parameters(void)
{
    struct synth_params p;
    struct eng_err err = {0};
    synth_params_default(&p);
    p.duplicate_p = 1.5;
    CU_ASSERT_EQUAL(synth_params_check(&p, &err), ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "duplicate_p"));
    synth_params_default(&p);
    p.km_median = NAN;
    CU_ASSERT_EQUAL(synth_params_check(&p, &err), ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "km_median"));
    synth_params_default(&p);
    p.make_weight[SYNTH_BMW] = -1;
    CU_ASSERT_EQUAL(synth_params_check(&p, &err), ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "make_weight"));
    synth_params_default(&p);
    p.rollback_min = 0.8;
    CU_ASSERT_EQUAL(synth_params_check(&p, &err), ENG_EUSAGE);
    synth_params_default(&p);
    p.odo_null_p = 0.6;
    p.odo_string_p = 0.6;
    CU_ASSERT_EQUAL(synth_params_check(&p, &err), ENG_EUSAGE);
    synth_params_default(&p);
    p.min_model_year = 1970;
    CU_ASSERT_EQUAL(synth_params_check(&p, &err), ENG_EUSAGE);
}

/* ---------------- reproducibility ---------------- */

static void test_synth_same_seed_gives_identical_files(void)
{
    struct synth_params p;
    synth_params_default(&p);
    char *a = new_dir();
    char *b = new_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(write_fleet(a, &p, 300, 99), ENG_OK);
    CU_ASSERT_EQUAL(write_fleet(b, &p, 300, 99), ENG_OK);
    for (int i = 0; i < N_FILES; i++) {
        size_t la = 0, lb = 0;
        char *x = slurp(a, files[i], &la);
        char *y = slurp(b, files[i], &lb);
        CU_ASSERT_PTR_NOT_NULL(x);
        CU_ASSERT_PTR_NOT_NULL(y);
        CU_ASSERT(la > 100);
        CU_ASSERT(x && y && la == lb && memcmp(x, y, la) == 0);
        free(x);
        free(y);
    }
    remove_dir(a);
    remove_dir(b);
}

static void test_synth_different_seeds_give_different_fleets(void)
{
    struct synth_params p;
    synth_params_default(&p);
    char *a = new_dir();
    char *b = new_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(write_fleet(a, &p, 50, 1), ENG_OK);
    CU_ASSERT_EQUAL(write_fleet(b, &p, 50, 2), ENG_OK);
    for (int i = 0; i < N_FILES; i++) {
        size_t la = 0, lb = 0;
        char *x = slurp(a, files[i], &la);
        char *y = slurp(b, files[i], &lb);
        CU_ASSERT(x && y && (la != lb || memcmp(x, y, la) != 0));
        free(x);
        free(y);
    }
    remove_dir(a);
    remove_dir(b);
}

static void test_synth_a_smaller_fleet_is_a_prefix_of_a_larger_one(void)
{
    struct synth_params p;
    synth_params_default(&p);
    char *a = new_dir();
    char *b = new_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(write_fleet(a, &p, 40, 5), ENG_OK);
    CU_ASSERT_EQUAL(write_fleet(b, &p, 120, 5), ENG_OK);
    for (int i = 0; i < N_FILES; i++) {
        size_t la = 0, lb = 0;
        char *x = slurp(a, files[i], &la);
        char *y = slurp(b, files[i], &lb);
        CU_ASSERT(x && y && la < lb && memcmp(x, y, la) == 0);
        free(x);
        free(y);
    }
    remove_dir(a);
    remove_dir(b);
}

/* ---------------- formats ---------------- */

static void test_synth_headers_are_exact(void)
{
    static const char *const headers[] = {
        "vin,vehicle_id,policy_id,make,model_year,unit_system,user_id,"
        "access_token,refresh_token,expires_at,powertrain",
        NULL,
        "vin,claim_count,exposure_years,claim_amount",
        "vin,diligence,annual_km,rollback,unit_confusion,true_frequency,"
        "powertrain,history_from_new,high_mileage"
    };
    CU_ASSERT_FATAL(fleet.dir != NULL);
    for (int i = 0; i < N_FILES; i++) {
        char *s = slurp(fleet.dir, files[i], NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        char *nl = strchr(s, '\n');
        CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
        *nl = '\0';
        if (headers[i]) {
            CU_ASSERT_STRING_EQUAL(s, headers[i]);
        } else {
            CU_ASSERT_EQUAL(strncmp(s, "{\"vin\":\"", 8), 0);
        }
        free(s);
    }
    CU_ASSERT_EQUAL(fleet.stats.vehicles, FLEET_N);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_synth_vins_are_valid_unique_and_match_the_model_year(void)
{
    static const char year_chars[] = "CDEFGHJKLMNPRST"; /* 2012..2026 */
    char path[512];
    snprintf(path, sizeof(path), "%s/vehicles.csv", fleet.dir);
    struct eng_err err = {0};
    struct veh_reader *r = veh_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(veh_columns(r), 11);
    static char *vins[FLEET_N];
    struct veh_row row = VEH_ROW_INIT;
    int n = 0, bad = 0, unknown_wmi = 0;
    while (veh_next(r, &row, &err) == 1 && n < FLEET_N) {
        if (veh_vin_check(row.vin, NULL, 0) != VEH_VIN_OK || row.status[0]
            || row.model_year < 2012 || row.model_year > 2025
            || row.vin[9] != year_chars[row.model_year - 2012]
            || strlen(row.vehicle_id) != 36
            || strncmp(row.access_token, "at_", 3) != 0
            || strlen(row.refresh_token) != 35
            || strcmp(row.expires_at, "2026-06-30T00:00:00Z") != 0)
            bad++;
        int wmi_ok = 0;
        for (int m = 0; m < SYNTH_N_MAKES; m++) {
            if (strcmp(row.make, synth_makes[m].name) != 0)
                continue;
            for (int w = 0; w < synth_makes[m].n_wmi; w++)
                wmi_ok |= strncmp(row.vin, synth_makes[m].wmi[w], 3) == 0;
        }
        unknown_wmi += !wmi_ok;
        vins[n++] = strdup(row.vin);
    }
    veh_row_release(&row);
    veh_close(r);
    CU_ASSERT_EQUAL(n, FLEET_N);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(unknown_wmi, 0);
    qsort(vins, (size_t)n, sizeof(vins[0]), cmp_str);
    int dups = 0;
    for (int i = 1; i < n; i++)
        dups += vins[i] && vins[i - 1] && strcmp(vins[i], vins[i - 1]) == 0;
    CU_ASSERT_EQUAL(dups, 0);
    for (int i = 0; i < n; i++)
        free(vins[i]);
}

static void test_synth_histories_parse_in_vehicle_order(void)
{
    /* fleet_init parsed every line with cJSON and matched it to truth.csv
     * and claims.csv by position and VIN */
    CU_ASSERT_TRUE(fleet.parsed);
    long records = 0;
    for (int i = 0; i < FLEET_N; i++)
        records += fleet.v[i].n_records;
    CU_ASSERT_EQUAL(records, fleet.stats.records);
    CU_ASSERT(records > 5 * FLEET_N);
}

/* Every record field takes each of its documented shapes somewhere. */
static void test_synth_records_take_every_documented_shape(void)
{
    char *hist = slurp(fleet.dir, "histories.jsonl", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hist);
    static const char *const shapes[] = {
        "\"serviceId\":null", "\"serviceId\":1", "\"serviceId\":\"",
        "\"odometerDistance\":null", "\"odometerDistance\":\"",
        "\"serviceDate\":null", "\"taskDescription\":null",
        "\"serviceDetails\":null", "\"serviceDetails\":{",
        "\"serviceCost\":null", "\"totalCost\":null", "\"currency\":\"CAD\"",
        "\"currency\":\"EUR\"", "\"value\":\"owner\"", "\"value\":\"dealer\"",
        "\"serviceTasks\":[]", "\"history\":[]", "Ölwechsel",
        "Vidange", "Cambio de aceite", "Recall campaign"
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        if (!strstr(hist, shapes[i]))
            fprintf(stderr, "missing shape %s\n", shapes[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(hist, shapes[i]));
    }
    free(hist);
}

/* ---------------- the model ---------------- */

static void test_synth_fault_rates_are_close_to_the_parameters(void)
{
    CU_ASSERT_TRUE_FATAL(fleet.parsed);
    int rollback = 0, imperial = 0, confusion = 0, empty = 0;
    for (int i = 0; i < FLEET_N; i++) {
        rollback += fleet.v[i].rollback;
        imperial += fleet.v[i].imperial;
        confusion += fleet.v[i].unit_confusion;
        empty += fleet.v[i].n_records == 0;
        if (fleet.v[i].unit_confusion)
            CU_ASSERT_FALSE(fleet.v[i].imperial);
    }
    CU_ASSERT_DOUBLE_EQUAL(rollback / (double)FLEET_N, 0.035, 0.015);
    CU_ASSERT_DOUBLE_EQUAL(imperial / (double)FLEET_N, 0.05, 0.015);
    CU_ASSERT_DOUBLE_EQUAL(confusion / (double)FLEET_N, 0.01, 0.008);
    /* 2.7% drawn empty, more whose history starts within the last year */
    CU_ASSERT_DOUBLE_EQUAL(empty / (double)FLEET_N, 0.045, 0.02);
    CU_ASSERT_EQUAL(fleet.stats.rollbacks, rollback);
    CU_ASSERT_EQUAL(fleet.stats.empty_histories, empty);
}

static void test_synth_annual_km_is_lognormal_around_16700(void)
{
    double km[FLEET_N];
    double sum_log = 0, sum_log2 = 0;
    int n = 0, high = 0;
    for (int i = 0; i < FLEET_N; i++) {
        if (fleet.v[i].high_km) {
            high++;
            CU_ASSERT(fleet.v[i].annual_km >= 40000
                      && fleet.v[i].annual_km <= 60000);
            continue;
        }
        km[n] = fleet.v[i].annual_km;
        double l = log(km[n] / 16700);
        sum_log += l;
        sum_log2 += l * l;
        n++;
    }
    /* 5% high-mileage fleet vehicles at 40,000-60,000 km a year */
    CU_ASSERT_DOUBLE_EQUAL(high / (double)FLEET_N, 0.05, 0.015);
    qsort(km, (size_t)n, sizeof(km[0]), cmp_double);
    CU_ASSERT_DOUBLE_EQUAL(km[n / 2], 16700, 900);
    double mean = sum_log / n;
    double sd = sqrt(sum_log2 / n - mean * mean);
    CU_ASSERT_DOUBLE_EQUAL(sd, 0.45, 0.03);
}

/* ---------------- the mix ---------------- */

static int make_of(const char *vin)
{
    for (int m = 0; m < SYNTH_N_MAKES; m++) {
        for (int w = 0; w < synth_makes[m].n_wmi; w++) {
            if (strncmp(vin, synth_makes[m].wmi[w], 3) == 0)
                return m;
        }
    }
    return -1;
}

static void test_synth_powertrains_follow_the_make(void)
{
    CU_ASSERT_TRUE_FATAL(fleet.parsed);
    int n[SYNTH_N_MAKES] = {0}, hev[SYNTH_N_MAKES] = {0};
    int bev[SYNTH_N_MAKES] = {0}, api = 0, api_wrong = 0, all_bev = 0;
    for (int i = 0; i < FLEET_N; i++) {
        const struct vinfo *vi = &fleet.v[i];
        int m = make_of(vi->vin);
        CU_ASSERT_FATAL(m >= 0);
        n[m]++;
        hev[m] += strcmp(vi->ptrain, "HEV") == 0;
        bev[m] += strcmp(vi->ptrain, "BEV") == 0;
        all_bev += strcmp(vi->ptrain, "BEV") == 0;
        api += vi->api_ptrain;
        api_wrong += vi->api_ptrain && strcmp(vi->api_name, vi->ptrain);
    }
    CU_ASSERT(n[SYNTH_TESLA] > 20);
    CU_ASSERT_EQUAL(bev[SYNTH_TESLA], n[SYNTH_TESLA]);
    CU_ASSERT_DOUBLE_EQUAL(hev[SYNTH_TOYOTA] / (double)n[SYNTH_TOYOTA], 0.25,
                           0.06);
    CU_ASSERT_EQUAL(hev[SYNTH_TESLA] + hev[SYNTH_VOLKSWAGEN], 0);
    CU_ASSERT_DOUBLE_EQUAL(all_bev / (double)FLEET_N, 0.05, 0.015);
    /* the API names it for 60%, always the true one */
    CU_ASSERT_DOUBLE_EQUAL(api / (double)FLEET_N, 0.60, 0.04);
    CU_ASSERT_EQUAL(api_wrong, 0);
}

static void test_synth_the_list_names_the_powertrain_on_part_of_the_rows(
    void)
{
    char *csv = slurp(fleet.dir, "vehicles.csv", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    static char *lines[FLEET_N + 2];
    CU_ASSERT_EQUAL_FATAL(split_lines(csv, lines, FLEET_N + 2), FLEET_N + 1);
    int named = 0, wrong = 0;
    for (int i = 0; i < FLEET_N; i++) {
        char *f[16];
        CU_ASSERT_EQUAL_FATAL(split_fields(lines[i + 1], f, 16), 11);
        if (f[10][0]) {
            named++;
            wrong += strcmp(f[10], fleet.v[i].ptrain) != 0;
        }
    }
    CU_ASSERT_DOUBLE_EQUAL(named / (double)FLEET_N, 0.70, 0.04);
    CU_ASSERT_EQUAL(wrong, 0);
    free(csv);
}

static void test_synth_electric_cars_have_no_oil_changes(void)
{
    CU_ASSERT_TRUE_FATAL(fleet.parsed);
    int bev = 0, bev_oil = 0, ice = 0, ice_oil = 0, engine = 0;
    int rotated = 0, routine = 0;
    for (int i = 0; i < FLEET_N; i++) {
        const struct vinfo *vi = &fleet.v[i];
        if (vi->n_records < 3 || make_of(vi->vin) == SYNTH_LINCOLN)
            continue;
        if (strcmp(vi->ptrain, "BEV") == 0) {
            bev++;
            bev_oil += vi->n_oil > 0;
            engine += vi->n_engine;
            rotated += vi->n_rotation > 0;
            routine += vi->n_routine > 0;
        } else if (strcmp(vi->ptrain, "ICE") == 0) {
            ice++;
            ice_oil += vi->n_oil > 0;
        }
    }
    CU_ASSERT(bev > 30);
    CU_ASSERT_EQUAL(bev_oil, 0);
    CU_ASSERT_EQUAL(engine, 0);
    /* their schedule: tire rotations, cabin filter, brake fluid */
    CU_ASSERT(rotated > 0.8 * bev);
    CU_ASSERT(routine > 0.5 * bev);
    CU_ASSERT(ice_oil > 0.95 * ice);
}

static void test_synth_used_histories_start_years_after_registration(void)
{
    CU_ASSERT_TRUE_FATAL(fleet.parsed);
    int late = 0, eligible = 0, early_late = 0, new_late = 0;
    char *csv = slurp(fleet.dir, "vehicles.csv", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    static char *lines[FLEET_N + 2];
    CU_ASSERT_EQUAL_FATAL(split_lines(csv, lines, FLEET_N + 2), FLEET_N + 1);
    for (int i = 0; i < FLEET_N; i++) {
        const struct vinfo *vi = &fleet.v[i];
        char *f[16];
        split_fields(lines[i + 1], f, 16);
        int year = atoi(f[4]);
        late += !vi->from_new;
        eligible += year <= AS_OF_Y - 4;
        if (vi->first_day < 0)
            continue;
        /* registration is within 1 July of year - 1 .. ; a late start
         * comes at least 1.5 years after it */
        long reg_lo = eng_days_from_civil(year - 1, 7, 1);
        if (!vi->from_new && vi->first_day < reg_lo + 547)
            early_late++;
        /* from new: the first service within about a year */
        if (vi->from_new && vi->first_day > eng_days_from_civil(year + 2, 6,
                                                                 1))
            new_late++;
    }
    CU_ASSERT_DOUBLE_EQUAL(late / (double)FLEET_N, 0.60, 0.05);
    CU_ASSERT(late < eligible);
    CU_ASSERT_EQUAL(early_late, 0);
    CU_ASSERT(new_late < FLEET_N / 100);
    free(csv);
}

/*
 * The frequency does not depend on the powertrain or on when the history
 * starts: the same seed with every vehicle electric, or every history from
 * new, gives every vehicle the same lambda (rollbacks aside, which need two
 * records).
 */
static void test_synth_claims_ignore_powertrain_and_history_start(void)
{
    struct synth_params p;
    synth_params_default(&p);
    char *a = new_dir(), *b = new_dir(), *c = new_dir();
    CU_ASSERT_FATAL(a && b && c);
    CU_ASSERT_EQUAL_FATAL(write_fleet(a, &p, 300, 77), ENG_OK);
    for (int m = 0; m < SYNTH_N_MAKES; m++) {
        p.ptrain_share[m][SYNTH_HEV] = 0;
        p.ptrain_share[m][SYNTH_PHEV] = 0;
        p.ptrain_share[m][SYNTH_BEV] = 1;
    }
    CU_ASSERT_EQUAL_FATAL(write_fleet(b, &p, 300, 77), ENG_OK);
    synth_params_default(&p);
    p.late_start_p = 0;
    CU_ASSERT_EQUAL_FATAL(write_fleet(c, &p, 300, 77), ENG_OK);
    char *t[3] = {slurp(a, "truth.csv", NULL), slurp(b, "truth.csv", NULL),
                  slurp(c, "truth.csv", NULL)};
    CU_ASSERT_FATAL(t[0] && t[1] && t[2]);
    static char *l[3][302];
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL_FATAL(split_lines(t[k], l[k], 302), 301);
    int compared = 0, differ = 0, bev = 0, from_new = 0, late = 0;
    for (int i = 1; i <= 300; i++) {
        char *f[3][12];
        for (int k = 0; k < 3; k++)
            CU_ASSERT_EQUAL_FATAL(split_fields(l[k][i], f[k], 12), 9);
        bev += strcmp(f[1][6], "BEV") == 0;
        from_new += atoi(f[2][7]);
        late += !atoi(f[0][7]);
        for (int k = 1; k < 3; k++) {
            if (strcmp(f[0][3], "0") || strcmp(f[k][3], "0"))
                continue;
            compared++;
            differ += strcmp(f[0][5], f[k][5]) != 0;
        }
    }
    CU_ASSERT_EQUAL(bev, 300);
    CU_ASSERT_EQUAL(from_new, 300);
    CU_ASSERT(late > 100);
    CU_ASSERT(compared > 500);
    CU_ASSERT_EQUAL(differ, 0);
    for (int k = 0; k < 3; k++)
        free(t[k]);
    remove_dir(a);
    remove_dir(b);
    remove_dir(c);
}

static int cmp_diligence(const void *a, const void *b)
{
    const struct vinfo *x = a, *y = b;
    return (x->diligence > y->diligence) - (x->diligence < y->diligence);
}

static void test_synth_diligent_owners_service_more_often_and_regularly(
    void)
{
    CU_ASSERT_TRUE_FATAL(fleet.parsed);
    static struct vinfo v[FLEET_N];
    int n = 0;
    for (int i = 0; i < FLEET_N; i++) {
        if (fleet.v[i].n_dated >= 3)
            v[n++] = fleet.v[i];
    }
    CU_ASSERT_FATAL(n > FLEET_N / 2);
    qsort(v, (size_t)n, sizeof(v[0]), cmp_diligence);
    int q = n / 4;
    double low = 0, high = 0, low_cv = 0, high_cv = 0;
    for (int i = 0; i < q; i++) {
        low += v[i].mean_gap;
        high += v[n - 1 - i].mean_gap;
        low_cv += v[i].gap_cv;
        high_cv += v[n - 1 - i].gap_cv;
    }
    /* the top quartile's intervals are much shorter (exp(-0.45 d), fewer
     * skipped services) and steadier (noise sigma 0.15 exp(-0.4 d)) */
    CU_ASSERT(high < 0.75 * low);
    CU_ASSERT(high_cv < 0.8 * low_cv);
}

static void test_synth_claims_follow_the_frequency_model(void)
{
    CU_ASSERT_TRUE_FATAL(fleet.parsed);
    double claims = 0, exposure = 0, expected = 0;
    int bad_amount = 0;
    for (int i = 0; i < FLEET_N; i++) {
        const struct vinfo *vi = &fleet.v[i];
        claims += vi->claims;
        exposure += vi->exposure;
        expected += vi->lambda * vi->exposure;
        if ((vi->claims == 0) != (vi->amount == 0))
            bad_amount++;
        if (vi->exposure < 0.25 || vi->exposure > 1.0 || vi->lambda <= 0)
            bad_amount++;
    }
    CU_ASSERT_EQUAL(bad_amount, 0);
    /* portfolio frequency near freq_base, Poisson noise on ~1200 years */
    CU_ASSERT(claims / exposure > 0.07 && claims / exposure < 0.16);
    CU_ASSERT(fabs(claims - expected) < 4 * sqrt(expected));
    CU_ASSERT_EQUAL(fleet.stats.claims, (long)claims);
    /* lambda is exactly the documented function of the truth columns */
    struct synth_params p;
    synth_params_default(&p);
    const struct vinfo *vi = &fleet.v[0];
    double low = p.freq_base * exp(p.beta_d * vi->diligence
                                   + p.beta_km * log(vi->annual_km / 16700)
                                   + p.beta_rollback * vi->rollback
                                   - 2 * fabs(p.beta_age));
    double high = low * exp(4 * fabs(p.beta_age));
    CU_ASSERT(vi->lambda > low * 0.99 && vi->lambda < high * 1.01);
}

static void test_synth_imperial_vehicles_report_miles(void)
{
    struct synth_params p;
    synth_params_default(&p);
    p.unit_confusion_share = 0;
    p.odo_string_p = 0;
    char *a = new_dir();
    char *b = new_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    p.imperial_share = 0;
    CU_ASSERT_EQUAL(write_fleet(a, &p, 20, 3), ENG_OK);
    p.imperial_share = 1;
    CU_ASSERT_EQUAL(write_fleet(b, &p, 20, 3), ENG_OK);
    char *x = slurp(a, "histories.jsonl", NULL);
    char *y = slurp(b, "histories.jsonl", NULL);
    CU_ASSERT_FATAL(x && y);
    const char *key = "\"odometerDistance\":";
    int compared = 0, wrong = 0;
    const char *px = x, *py = y;
    for (;;) {
        px = strstr(px, key);
        py = strstr(py, key);
        if (!px || !py)
            break;
        px += strlen(key);
        py += strlen(key);
        if (*px == 'n' || *py == 'n')
            continue;
        double km = atof(px), mi = atof(py);
        compared++;
        if (fabs(km / 1.609344 - mi) > 0.01)
            wrong++;
    }
    CU_ASSERT(compared > 50);
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_PTR_NULL(strstr(y, "\"unit_system\":\"metric\""));
    free(x);
    free(y);
    remove_dir(a);
    remove_dir(b);
}

/* ---------------- tables against data/ ---------------- */

/* Lower-cases ASCII and the Latin-1 capitals of UTF-8 (C3 80..9E). */
static void fold(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; s[i] && k + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        else if (i > 0 && (unsigned char)s[i - 1] == 0xC3 && c >= 0x80
                 && c <= 0x9E && c != 0x97)
            c = (unsigned char)(c + 32);
        out[k++] = (char)c;
    }
    out[k] = '\0';
}

static void test_synth_task_texts_match_the_taxonomy(void)
{
    FILE *f = fopen("../data/tasks.tsv", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char cat[400][32], key[400][64];
    int nk = 0;
    char line[256];
    while (fgets(line, sizeof(line), f) && nk < 400) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        CU_ASSERT_FATAL(strlen(line) < sizeof(cat[nk]));
        memcpy(cat[nk], line, strlen(line) + 1);
        fold(tab + 1, key[nk], sizeof(key[nk]));
        nk++;
    }
    fclose(f);
    CU_ASSERT(nk > 100);
    int langs[SYNTH_N_TASKS][SYNTH_N_LANGS] = {{0}};
    for (size_t i = 0; i < synth_n_task_texts; i++) {
        const struct synth_task_text *t = &synth_task_texts[i];
        char text[128];
        fold(t->text, text, sizeof(text));
        const char *want = synth_task_name(t->kind);
        int right = 0, wrong = 0;
        for (int k = 0; k < nk; k++) {
            if (!strstr(text, key[k]))
                continue;
            if (strcmp(cat[k], want) == 0)
                right++;
            /* brake fluid is a fluid, and its wordings say "brake" */
            else if (!(t->kind == SYNTH_FLUIDS
                       && strcmp(cat[k], "brakes") == 0))
                wrong++;
        }
        if ((t->kind == SYNTH_OTHER ? right + wrong != 0 : !right || wrong))
            fprintf(stderr, "task text '%s' does not map to %s only\n",
                    t->text, want);
        CU_ASSERT(t->kind == SYNTH_OTHER ? right + wrong == 0
                                         : right > 0 && wrong == 0);
        langs[t->kind][t->lang]++;
    }
    for (int k = 0; k < SYNTH_N_TASKS; k++) {
        for (int l = 0; l < SYNTH_N_LANGS; l++)
            CU_ASSERT(langs[k][l] > 0);
    }
}

static void test_synth_make_table_matches_the_data_files(void)
{
    FILE *f = fopen("../data/makes.tsv", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[256];
    int found = 0, total = 0;
    while (fgets(line, sizeof(line), f)) {
        char wmi[8], make[32];
        if (line[0] == '#' || sscanf(line, "%7s %31s", wmi, make) != 2)
            continue;
        for (int m = 0; m < SYNTH_N_MAKES; m++) {
            for (int w = 0; w < synth_makes[m].n_wmi; w++) {
                if (strcmp(synth_makes[m].wmi[w], wmi) == 0) {
                    found++;
                    CU_ASSERT_STRING_EQUAL(synth_makes[m].name, make);
                }
            }
        }
    }
    fclose(f);
    for (int m = 0; m < SYNTH_N_MAKES; m++)
        total += synth_makes[m].n_wmi;
    CU_ASSERT_EQUAL(found, total);

    /* (make, *) rows give oil and rotation; (make, BEV) rows the BEV's
     * rotation, cabin filter and brake fluid; a BEV without a row of its
     * make takes the cabin filter and brake fluid of (default, BEV) */
    f = fopen("../data/schedules.tsv", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int checked = 0, with_oil = 0, bev_rows = 0;
    double def_cabin = 0, def_fluid = 0;
    int has_bev_row[SYNTH_N_MAKES] = {0};
    while (fgets(line, sizeof(line), f)) {
        char make[32], ptrain[8], c[8][16];
        if (line[0] == '#'
            || sscanf(line, "%31s %7s %15s %15s %15s %15s %15s %15s %15s "
                      "%15s", make, ptrain, c[0], c[1], c[2], c[3], c[4],
                      c[5], c[6], c[7]) != 10)
            continue;
        if (strcmp(make, "default") == 0 && strcmp(ptrain, "BEV") == 0) {
            def_cabin = atof(c[4]);
            def_fluid = atof(c[5]);
        }
        for (int m = 0; m < SYNTH_N_MAKES; m++) {
            const struct synth_make_info *mk = &synth_makes[m];
            if (strcmp(mk->name, make) != 0)
                continue;
            if (strcmp(ptrain, "*") == 0) {
                CU_ASSERT_DOUBLE_EQUAL(mk->oil_km, atof(c[0]), 1e-9);
                CU_ASSERT_DOUBLE_EQUAL(mk->oil_months, atof(c[1]), 1e-9);
                CU_ASSERT_DOUBLE_EQUAL(mk->rotation_km, atof(c[2]), 1e-9);
                CU_ASSERT_DOUBLE_EQUAL(mk->rotation_months, atof(c[3]),
                                       1e-9);
                checked++;
            } else if (strcmp(ptrain, "BEV") == 0) {
                CU_ASSERT_DOUBLE_EQUAL(mk->bev_rotation_km, atof(c[2]), 1e-9);
                CU_ASSERT_DOUBLE_EQUAL(mk->bev_rotation_months, atof(c[3]),
                                       1e-9);
                CU_ASSERT_DOUBLE_EQUAL(mk->bev_cabin_months, atof(c[4]),
                                       1e-9);
                CU_ASSERT_DOUBLE_EQUAL(mk->bev_fluid_months, atof(c[5]),
                                       1e-9);
                has_bev_row[m] = 1;
                bev_rows++;
            }
        }
    }
    fclose(f);
    CU_ASSERT(def_cabin > 0 && def_fluid > 0);
    for (int m = 0; m < SYNTH_N_MAKES; m++) {
        const struct synth_make_info *mk = &synth_makes[m];
        with_oil += mk->oil_months > 0;
        if (has_bev_row[m])
            continue;
        CU_ASSERT_DOUBLE_EQUAL(mk->bev_rotation_km, mk->rotation_km, 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(mk->bev_rotation_months, mk->rotation_months,
                               1e-9);
        CU_ASSERT_DOUBLE_EQUAL(mk->bev_cabin_months, def_cabin, 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(mk->bev_fluid_months, def_fluid, 1e-9);
    }
    CU_ASSERT_EQUAL(checked, with_oil);
    CU_ASSERT(bev_rows >= 4);
}

/* ---------------- failures ---------------- */

static void test_synth_refuses_bad_counts_and_dates(void)
{
    struct synth_params p;
    synth_params_default(&p);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(synth_fleet_write("tmp/never", &p, 0, 1, as_of(), NULL,
                                      &err), ENG_EUSAGE);
    CU_ASSERT_EQUAL(synth_fleet_write("tmp/never", &p,
                                      SYNTH_MAX_VEHICLES + 1, 1, as_of(),
                                      NULL, &err), ENG_EUSAGE);
    CU_ASSERT_EQUAL(synth_fleet_write("tmp/never", &p, 10, 1,
                                      eng_days_from_civil(2015, 6, 1), NULL,
                                      &err), ENG_EUSAGE);
    p.min_model_year = 2026;
    CU_ASSERT_EQUAL(synth_fleet_write("tmp/never", &p, 10, 1, as_of(), NULL,
                                      &err), ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "min_model_year"));
    p.min_model_year = 2015;
    p.filter_p = -0.1;
    CU_ASSERT_EQUAL(synth_fleet_write("tmp/never", &p, 10, 1, as_of(), NULL,
                                      &err), ENG_EUSAGE);
    struct stat st;
    CU_ASSERT_NOT_EQUAL(stat("tmp/never", &st), 0);
}

static void test_synth_fails_when_the_output_is_not_a_directory(void)
{
    struct synth_params p;
    synth_params_default(&p);
    mkdir("tmp", 0777);
    FILE *f = fopen("tmp/synth-file", "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(synth_fleet_write("tmp/synth-file", &p, 5, 1, as_of(),
                                      NULL, &err), ENG_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a directory"));
    CU_ASSERT_EQUAL(synth_fleet_write("tmp/synth-file/sub", &p, 5, 1,
                                      as_of(), NULL, &err), ENG_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot create directory"));
    remove("tmp/synth-file");
}

static void test_synth_creates_missing_parents_and_leaves_no_temp_files(void)
{
    struct synth_params p;
    synth_params_default(&p);
    char *dir = new_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char sub[512];
    snprintf(sub, sizeof(sub), "%s/a/b", dir);
    CU_ASSERT_EQUAL(write_fleet(sub, &p, 3, 1), ENG_OK);
    int count = 0;
    DIR *dp = opendir(sub);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
    int hidden = -2;        /* . and .. */
    for (const struct dirent *de = readdir(dp); de; de = readdir(dp)) {
        if (de->d_name[0] == '.')
            hidden++;
        else
            count++;
    }
    closedir(dp);
    CU_ASSERT_EQUAL(count, N_FILES);
    CU_ASSERT_EQUAL(hidden, 0);
    for (int i = 0; i < N_FILES; i++) {
        char path[600];
        snprintf(path, sizeof(path), "%s/%s", sub, files[i]);
        remove(path);
    }
    rmdir(sub);
    snprintf(sub, sizeof(sub), "%s/a", dir);
    rmdir(sub);
    remove_dir(dir);
}

static CU_TestInfo synth_param_tests[] = {
    {"defaults pass their own check",
     test_synth_defaults_pass_their_own_check},
    {"check rejects bad parameters", test_synth_check_rejects_bad_parameters},
    {"same seed gives identical files",
     test_synth_same_seed_gives_identical_files},
    {"different seeds give different fleets",
     test_synth_different_seeds_give_different_fleets},
    {"a smaller fleet is a prefix of a larger one",
     test_synth_a_smaller_fleet_is_a_prefix_of_a_larger_one},
    {"imperial vehicles report miles",
     test_synth_imperial_vehicles_report_miles},
    {"task texts match the taxonomy",
     test_synth_task_texts_match_the_taxonomy},
    {"make table matches the data files",
     test_synth_make_table_matches_the_data_files},
    {"refuses bad counts and dates", test_synth_refuses_bad_counts_and_dates},
    {"fails when the output is not a directory",
     test_synth_fails_when_the_output_is_not_a_directory},
    {"creates missing parents and leaves no temp files",
     test_synth_creates_missing_parents_and_leaves_no_temp_files},
    CU_TEST_INFO_NULL
};

static CU_TestInfo synth_fleet_tests[] = {
    {"headers are exact", test_synth_headers_are_exact},
    {"VINs are valid, unique and match the model year",
     test_synth_vins_are_valid_unique_and_match_the_model_year},
    {"histories parse in vehicle order",
     test_synth_histories_parse_in_vehicle_order},
    {"records take every documented shape",
     test_synth_records_take_every_documented_shape},
    {"fault rates are close to the parameters",
     test_synth_fault_rates_are_close_to_the_parameters},
    {"annual km is lognormal around 16,700",
     test_synth_annual_km_is_lognormal_around_16700},
    {"diligent owners service more often and regularly",
     test_synth_diligent_owners_service_more_often_and_regularly},
    {"claims follow the frequency model",
     test_synth_claims_follow_the_frequency_model},
    {"powertrains follow the make", test_synth_powertrains_follow_the_make},
    {"the list names the powertrain on part of the rows",
     test_synth_the_list_names_the_powertrain_on_part_of_the_rows},
    {"electric cars have no oil changes",
     test_synth_electric_cars_have_no_oil_changes},
    {"used histories start years after registration",
     test_synth_used_histories_start_years_after_registration},
    {"claims ignore powertrain and history start",
     test_synth_claims_ignore_powertrain_and_history_start},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_synth_suites[] = {
    {"synth", NULL, NULL, NULL, NULL, synth_param_tests},
    {"synth fleet", fleet_init, fleet_clean, NULL, NULL, synth_fleet_tests},
    CU_SUITE_INFO_NULL
};
