/* Tests for task: taxonomy matching, schedules, WMI to make, bad files. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ptrain.h"
#include "task.h"

static struct task_map *map;

static int suite_init(void)
{
    map = task_map_load("../data/tasks.tsv", NULL);
    return map ? 0 : -1;
}

static int suite_clean(void)
{
    task_map_free(map);
    return 0;
}

static void test_task_classifies_four_languages(void)
{
    unsigned oil = TASK_BIT(TASK_OIL);
    CU_ASSERT_EQUAL(task_classify(map, "Oil and filter change") & oil, oil);
    CU_ASSERT_EQUAL(task_classify(map, "VIDANGE huile moteur") & oil, oil);
    CU_ASSERT_EQUAL(task_classify(map, "ÖLWECHSEL mit Filter") & oil, oil);
    CU_ASSERT_EQUAL(task_classify(map, "Cambio de aceite y filtro") & oil,
                    oil);
    CU_ASSERT_EQUAL(task_classify(map, "Rotate tires"),
                    TASK_BIT(TASK_TIRE_ROTATION));
    CU_ASSERT_EQUAL(task_classify(map, "Reifen tauschen"),
                    TASK_BIT(TASK_TIRE_ROTATION));
    CU_ASSERT_EQUAL(task_classify(map, "Remplacement plaquettes de frein"),
                    TASK_BIT(TASK_BRAKES));
    CU_ASSERT(task_classify(map, "Brake fluid flush") &
              TASK_BIT(TASK_FLUIDS));
    CU_ASSERT(task_classify(map, "Brake fluid flush") &
              TASK_BIT(TASK_BRAKES));
    CU_ASSERT_EQUAL(task_classify(map, "Recall campaign 23V-123"),
                    TASK_BIT(TASK_RECALL));
    CU_ASSERT_EQUAL(task_classify(map, "Repair: water pump"),
                    TASK_BIT(TASK_REPAIR));
    CU_ASSERT_EQUAL(task_classify(map, "Service Task 0"),
                    TASK_BIT(TASK_OTHER));
    CU_ASSERT_EQUAL(task_classify(map, ""), 0);
    CU_ASSERT_EQUAL(task_classify(map, NULL), 0);
}

static void test_task_classifies_long_descriptions(void)
{
    char text[2000];
    memset(text, 'x', sizeof(text));
    memcpy(text + 1500, "oil change", 10);
    text[sizeof(text) - 1] = '\0';
    CU_ASSERT_EQUAL(task_classify(map, text), TASK_BIT(TASK_OIL));
}

static void test_task_cat_names_round_trip(void)
{
    for (int i = 0; i < TASK_NCATS; i++)
        CU_ASSERT_EQUAL(task_cat_parse(task_cat_name(i)), i);
    CU_ASSERT_EQUAL(task_cat_parse("nope"), -1);
    CU_ASSERT_PTR_NULL(task_cat_name(TASK_NCATS));
}

static void test_task_schedules_by_make_and_vin(void)
{
    struct task_sched_table *t =
        task_sched_load("../data/schedules.tsv", "../data/makes.tsv", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    const struct task_sched *d = task_sched_for(t, NULL);
    CU_ASSERT_STRING_EQUAL(d->make, "default");
    CU_ASSERT_DOUBLE_EQUAL(d->oil_km, 16000, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(d->oil_days, 365.25, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(d->tolerance, 0.10, 1e-12);
    CU_ASSERT_STRING_EQUAL(task_sched_for(t, "nissan")->make, "NISSAN");
    CU_ASSERT_PTR_EQUAL(task_sched_for(t, "UNKNOWNMAKE"), d);
    CU_ASSERT_STRING_EQUAL(task_make_of_vin(t, "JTDKB20U693123456"),
                           "TOYOTA");
    CU_ASSERT_STRING_EQUAL(task_make_of_vin(t, "wvwzzz1kz6w000001"),
                           "VOLKSWAGEN");
    CU_ASSERT_PTR_NULL(task_make_of_vin(t, "ZZZ12345678901234"));
    CU_ASSERT_PTR_NULL(task_make_of_vin(t, "1H"));
    task_sched_free(t);
}

static void test_task_schedules_by_powertrain(void)
{
    struct task_sched_table *t =
        task_sched_load("../data/schedules.tsv", "../data/makes.tsv", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    /* Tesla's own row: no oil, rotation 10,000 km, filter 2 y, fluid 4 y */
    const struct task_sched *s = task_sched_find(t, "TESLA", PTRAIN_BEV);
    CU_ASSERT_STRING_EQUAL(s->make, "TESLA");
    CU_ASSERT_EQUAL(s->ptrain, PTRAIN_BEV);
    CU_ASSERT(isnan(s->oil_km) && isnan(s->oil_days));
    CU_ASSERT_DOUBLE_EQUAL(s->rotation_km, 10000, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(s->cabin_days, 24 * 30.4375, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(s->brake_fluid_days, 48 * 30.4375, 1e-9);
    CU_ASSERT(isnan(s->coolant_days));
    /* Ford: a BEV row of its own (Mach-E), the "*" row for the rest */
    s = task_sched_find(t, "FORD", PTRAIN_BEV);
    CU_ASSERT_EQUAL(s->ptrain, PTRAIN_BEV);
    CU_ASSERT_DOUBLE_EQUAL(s->coolant_days, 120 * 30.4375, 1e-9);
    s = task_sched_find(t, "ford", PTRAIN_HEV);
    CU_ASSERT_STRING_EQUAL(s->make, "FORD");
    CU_ASSERT_EQUAL(s->ptrain, PTRAIN_UNKNOWN);
    CU_ASSERT_DOUBLE_EQUAL(s->oil_km, 16000, 1e-9);
    /* a Toyota hybrid keeps Toyota's oil schedule */
    s = task_sched_find(t, "TOYOTA", PTRAIN_HEV);
    CU_ASSERT_STRING_EQUAL(s->make, "TOYOTA");
    CU_ASSERT_DOUBLE_EQUAL(s->oil_km, 16000, 1e-9);
    CU_ASSERT_PTR_EQUAL(task_sched_find(t, "TOYOTA", PTRAIN_PHEV), s);
    /* a BEV of a make without a BEV row: the default BEV row, no oil */
    s = task_sched_find(t, "HONDA", PTRAIN_BEV);
    CU_ASSERT_STRING_EQUAL(s->make, "default");
    CU_ASSERT_EQUAL(s->ptrain, PTRAIN_BEV);
    CU_ASSERT(isnan(s->oil_km));
    CU_ASSERT_PTR_EQUAL(task_sched_find(t, NULL, PTRAIN_BEV), s);
    /* unknown powertrain: the make's combustion schedule, as before */
    CU_ASSERT_PTR_EQUAL(task_sched_find(t, "HONDA", PTRAIN_UNKNOWN),
                        task_sched_for(t, "HONDA"));
    CU_ASSERT_PTR_EQUAL(task_sched_find(t, "TESLA", PTRAIN_UNKNOWN),
                        task_sched_for(t, NULL));
    task_sched_free(t);
}

static void test_task_knows_electric_only_makers_by_wmi(void)
{
    struct task_sched_table *t =
        task_sched_load("../data/schedules.tsv", "../data/makes.tsv", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    static const char *const bev[] = {
        "5YJ3E1EA7KF000001", "7SAYGDEE0PF000001", "LRW3E7FA0MC000001",
        "XP7YGCEK0PB000001", "LPSED3KA0ML000001", "YSMED3KA0NL000001",
        "7FCTGAAA0NN000001", "7PDSGABA0PN000001", "50EA1TEA0PA000001"
    };
    for (size_t i = 0; i < sizeof(bev) / sizeof(bev[0]); i++)
        CU_ASSERT_EQUAL(task_ptrain_of_vin(t, bev[i]), PTRAIN_BEV);
    CU_ASSERT_STRING_EQUAL(task_make_of_vin(t, bev[0]), "TESLA");
    CU_ASSERT_STRING_EQUAL(task_make_of_vin(t, bev[4]), "POLESTAR");
    CU_ASSERT_STRING_EQUAL(task_make_of_vin(t, bev[6]), "RIVIAN");
    CU_ASSERT_STRING_EQUAL(task_make_of_vin(t, bev[8]), "LUCID");
    /* a mixed maker (Ford Mexico builds the Mach-E and the Bronco Sport) */
    CU_ASSERT_STRING_EQUAL(task_make_of_vin(t, "3FMTK3SU0MM000001"), "FORD");
    CU_ASSERT_EQUAL(task_ptrain_of_vin(t, "3FMTK3SU0MM000001"),
                    PTRAIN_UNKNOWN);
    CU_ASSERT_EQUAL(task_ptrain_of_vin(t, "JTDKB20U693123456"),
                    PTRAIN_UNKNOWN);
    CU_ASSERT_EQUAL(task_ptrain_of_vin(t, "ZZZ12345678901234"),
                    PTRAIN_UNKNOWN);
    CU_ASSERT_EQUAL(task_ptrain_of_vin(t, NULL), PTRAIN_UNKNOWN);
    task_sched_free(t);
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "tmp/%s", name);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_task_rejects_bad_files_with_line_numbers(void)
{
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(task_map_load("no/such/file.tsv", &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    const char *p = write_tmp("bad_tasks.tsv", "# c\noil\toil change\n"
                                               "engine\tmotor\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NULL(task_map_load(p, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":3: unknown category 'engine'"));
    p = write_tmp("bad_tasks2.tsv", "oil\n");
    CU_ASSERT_PTR_NULL(task_map_load(p, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: expected"));
    p = write_tmp("bad_tasks3.tsv", "# only a comment\n");
    CU_ASSERT_PTR_NULL(task_map_load(p, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no keyword"));

    p = write_tmp("bad_sched.tsv",
                  "FORD\t*\t16000\t12\t12000\t12\t-\t-\t-\t0.1\n"
                  "default\tBEV\t-\t-\t12000\t12\t24\t24\t-\t0.1\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no 'default' row"));
    p = write_tmp("bad_sched2.tsv",
                  "default\t*\t16000\t-12\t12000\t12\t-\t-\t-\t0.1\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: expected"));
    p = write_tmp("bad_sched3.tsv",
                  "default\t*\t16000\t12\t12000\t12\t-\t-\t-\t1.5\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    /* the old six-column format is refused, not misread */
    p = write_tmp("bad_sched4.tsv", "default\t16000\t12\t12000\t12\t0.1\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: expected 'make<TAB>power"));
    /* a BEV row with oil, a combustion row without, a bad powertrain */
    p = write_tmp("bad_sched5.tsv",
                  "default\t*\t16000\t12\t12000\t12\t-\t-\t-\t0.1\n"
                  "TESLA\tBEV\t16000\t12\t10000\t12\t24\t48\t-\t0.1\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":2: expected"));
    p = write_tmp("bad_sched6.tsv",
                  "default\tICE\t-\t-\t12000\t12\t-\t-\t-\t0.1\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: expected"));
    p = write_tmp("bad_sched7.tsv",
                  "default\tev\t-\t-\t12000\t12\t-\t-\t-\t0.1\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    p = write_tmp("bad_makes2.tsv", "5YJ\tTESLA\tNA\tDIESEL\n");
    CU_ASSERT_PTR_NULL(task_sched_load("../data/schedules.tsv", p, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: expected 'wmi"));
    p = write_tmp("bad_makes.tsv", "TOOLONG\tFORD\n");
    CU_ASSERT_PTR_NULL(task_sched_load("../data/schedules.tsv", p, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: expected 'wmi"));
}

static CU_TestInfo task_tests[] = {
    {"classifies four languages", test_task_classifies_four_languages},
    {"classifies long descriptions", test_task_classifies_long_descriptions},
    {"category names round-trip", test_task_cat_names_round_trip},
    {"schedules by make and VIN", test_task_schedules_by_make_and_vin},
    {"schedules by powertrain", test_task_schedules_by_powertrain},
    {"knows electric-only makers by WMI",
     test_task_knows_electric_only_makers_by_wmi},
    {"rejects bad files with line numbers",
     test_task_rejects_bad_files_with_line_numbers},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_task_suites[] = {
    {"task", suite_init, suite_clean, NULL, NULL, task_tests},
    CU_SUITE_INFO_NULL
};
