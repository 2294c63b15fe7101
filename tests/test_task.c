/* Tests for task: taxonomy matching, schedules, WMI to make, bad files. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

    p = write_tmp("bad_sched.tsv", "FORD\t16000\t12\t12000\t12\t0.1\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no 'default' row"));
    p = write_tmp("bad_sched2.tsv", "default\t16000\t-12\t12000\t12\t0.1\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: expected"));
    p = write_tmp("bad_sched3.tsv", "default\t16000\t12\t12000\t12\t1.5\n");
    CU_ASSERT_PTR_NULL(task_sched_load(p, NULL, &err));
    p = write_tmp("bad_makes.tsv", "TOOLONG\tFORD\n");
    CU_ASSERT_PTR_NULL(task_sched_load("../data/schedules.tsv", p, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: expected 'wmi"));
}

static CU_TestInfo task_tests[] = {
    {"classifies four languages", test_task_classifies_four_languages},
    {"classifies long descriptions", test_task_classifies_long_descriptions},
    {"category names round-trip", test_task_cat_names_round_trip},
    {"schedules by make and VIN", test_task_schedules_by_make_and_vin},
    {"rejects bad files with line numbers",
     test_task_rejects_bad_files_with_line_numbers},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_task_suites[] = {
    {"task", suite_init, suite_clean, NULL, NULL, task_tests},
    CU_SUITE_INFO_NULL
};
