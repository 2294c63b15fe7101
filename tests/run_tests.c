/* Runs every CUnit suite listed in test_list.h; exits 1 on any failure. */
#include <CUnit/Basic.h>
#include <stdio.h>
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

int main(void)
{
    gsl_set_error_handler_off();
    /* scratch files of the tests go to tests/tmp (ignored by git) */
    mkdir("tmp", 0755);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "run_tests: %s\n", CU_get_error_msg());
        return 1;
    }
    for (size_t i = 0; i < sizeof(all_suites) / sizeof(all_suites[0]); i++) {
        if (CU_register_suites(all_suites[i]) != CUE_SUCCESS) {
            fprintf(stderr, "run_tests: %s\n", CU_get_error_msg());
            CU_cleanup_registry();
            return 1;
        }
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
