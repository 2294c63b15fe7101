/*
 * Runs the CUnit suites listed in test_list.h, from the tests/ directory:
 *
 *   run_tests              every suite
 *   run_tests NAME...      only the suites named: a suite's name as
 *                          --list prints it, or a test file's (sc_sim for
 *                          test_sc_sim.c, all of its suites)
 *   run_tests --list       the suite names, one a line
 *
 * Exits 0 when every test passed, 1 on a failure (or when no test ran),
 * 2 on an unknown suite name (the names are then listed on stderr).
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_errno.h>

#define X(name) extern CU_SuiteInfo name[];
#include "test_list.h"
#undef X

static CU_SuiteInfo *all_suites[] = {
#define X(name) name,
#include "test_list.h"
#undef X
};

/* Each file's name for its suites: test_sc_sim_suites is "sc_sim". */
static const char *const group_names[] = {
#define X(name) #name,
#include "test_list.h"
#undef X
};

#define NGROUPS (sizeof(all_suites) / sizeof(all_suites[0]))

/* Whether group i is the file called name (test_<name>_suites). */
static int is_group(size_t i, const char *name)
{
    const char *g = group_names[i] + strlen("test_");
    size_t n = strlen(g) - strlen("_suites");
    return strlen(name) == n && strncmp(g, name, n) == 0;
}

/* Whether name selects suite s of group i: the suite's or the file's. */
static int selects(const char *name, size_t i, const CU_SuiteInfo *s)
{
    return strcmp(s->pName, name) == 0 || is_group(i, name);
}

static int known(const char *name)
{
    for (size_t i = 0; i < NGROUPS; i++)
        for (const CU_SuiteInfo *s = all_suites[i]; s->pName; s++)
            if (selects(name, i, s))
                return 1;
    return 0;
}

static void list_suites(FILE *f, const char *indent)
{
    for (size_t i = 0; i < NGROUPS; i++)
        for (const CU_SuiteInfo *s = all_suites[i]; s->pName; s++)
            fprintf(f, "%s%s\n", indent, s->pName);
}

/*
 * Registers, in test_list.h order, the suites that one of names[0..n)
 * selects, or every suite when n is 0; each suite once.
 */
static int register_suites(char *const *names, int n)
{
    for (size_t i = 0; i < NGROUPS; i++) {
        for (const CU_SuiteInfo *s = all_suites[i]; s->pName; s++) {
            int want = n == 0;
            for (int k = 0; k < n && !want; k++)
                want = selects(names[k], i, s);
            if (!want)
                continue;
            /* one suite and the terminator, as CU_register_suites wants */
            CU_SuiteInfo one[2] = {*s, CU_SUITE_INFO_NULL};
            if (CU_register_suites(one) != CUE_SUCCESS)
                return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        list_suites(stdout, "");
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (!known(argv[i])) {
            fprintf(stderr, "run_tests: unknown suite '%s'; the suites:\n",
                    argv[i]);
            list_suites(stderr, "  ");
            fprintf(stderr, "or a test file's name:");
            for (size_t g = 0; g < NGROUPS; g++) {
                const char *f = group_names[g] + strlen("test_");
                fprintf(stderr, " %.*s", (int)(strlen(f) - strlen("_suites")),
                        f);
            }
            fprintf(stderr, "\n");
            return 2;
        }
    }
    gsl_set_error_handler_off();
    /* scratch files of the tests go to tests/tmp (ignored by git) */
    mkdir("tmp", 0755);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "run_tests: %s\n", CU_get_error_msg());
        return 1;
    }
    if (register_suites(argv + 1, argc - 1) < 0) {
        fprintf(stderr, "run_tests: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "run_tests: no test ran\n");
        return 1;
    }
    return fails > 0 || CU_get_error() != CUE_SUCCESS;
}
