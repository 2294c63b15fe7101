/* Tests for sim_fault: the fault mix and its deterministic draws. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim_fault.h"

static void test_sim_fault_default_mix_parses(void)
{
    struct sim_fault_mix m;
    CU_ASSERT_EQUAL(sim_fault_mix_parse(SIM_FAULT_DEFAULT_MIX, &m, NULL),
                    ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(m.total, 13.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(m.weight[SIM_FAULT_500], 2.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(m.weight[SIM_FAULT_RESET], 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(m.weight[SIM_FAULT_CUT], 0.0, 1e-12);
}

static void test_sim_fault_mix_refuses_bad_specs(void)
{
    struct sim_fault_mix m;
    memset(&m, 0x5a, sizeof(m));
    struct sim_fault_mix before = m;
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(sim_fault_mix_parse("500=1,teapot=2", &m, &err),
                    ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "teapot"));
    CU_ASSERT_EQUAL(sim_fault_mix_parse("500=1,500=2", &m, &err),
                    ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "twice"));
    CU_ASSERT_EQUAL(sim_fault_mix_parse("500", &m, NULL), ENG_EUSAGE);
    CU_ASSERT_EQUAL(sim_fault_mix_parse("500=-1", &m, NULL), ENG_EUSAGE);
    CU_ASSERT_EQUAL(sim_fault_mix_parse("500=x", &m, NULL), ENG_EUSAGE);
    CU_ASSERT_EQUAL(sim_fault_mix_parse("500=", &m, NULL), ENG_EUSAGE);
    CU_ASSERT_EQUAL(sim_fault_mix_parse("500=0,502=0", &m, &err),
                    ENG_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no weight"));
    CU_ASSERT_EQUAL(sim_fault_mix_parse("", &m, NULL), ENG_EUSAGE);
    /* permanent kinds are not transient faults */
    CU_ASSERT_EQUAL(sim_fault_mix_parse("430=1", &m, NULL), ENG_EUSAGE);
    CU_ASSERT_EQUAL(memcmp(&m, &before, sizeof(m)), 0);
}

static void test_sim_fault_pick_is_a_function_of_its_inputs(void)
{
    struct sim_fault_mix m;
    sim_fault_mix_parse(SIM_FAULT_DEFAULT_MIX, &m, NULL);
    enum sim_fault_kind first[200];
    for (unsigned long a = 1; a <= 200; a++)
        first[a - 1] = sim_fault_pick(&m, 0.3, 42, "veh-a", a);
    /* drawn again in another order: the same answers */
    for (unsigned long a = 200; a >= 1; a--)
        CU_ASSERT_EQUAL_FATAL(sim_fault_pick(&m, 0.3, 42, "veh-a", a),
                              first[a - 1]);
    int differ_seed = 0;
    int differ_vehicle = 0;
    for (unsigned long a = 1; a <= 200; a++) {
        differ_seed += sim_fault_pick(&m, 0.3, 43, "veh-a", a)
                       != first[a - 1];
        differ_vehicle += sim_fault_pick(&m, 0.3, 42, "veh-b", a)
                          != first[a - 1];
    }
    CU_ASSERT_TRUE(differ_seed > 20);
    CU_ASSERT_TRUE(differ_vehicle > 20);
}

static void test_sim_fault_pick_follows_rate_and_weights(void)
{
    struct sim_fault_mix m;
    sim_fault_mix_parse("500=3,reset=1", &m, NULL);
    int n500 = 0;
    int nreset = 0;
    int other = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "v%d", i % 100);
        enum sim_fault_kind k = sim_fault_pick(&m, 0.2, 7, id,
                                               (unsigned long)(i / 100 + 1));
        n500 += k == SIM_FAULT_500;
        nreset += k == SIM_FAULT_RESET;
        other += k != SIM_FAULT_NONE && k != SIM_FAULT_500
                 && k != SIM_FAULT_RESET;
    }
    CU_ASSERT_EQUAL(other, 0);
    CU_ASSERT_DOUBLE_EQUAL((double)(n500 + nreset) / n, 0.2, 0.015);
    CU_ASSERT_DOUBLE_EQUAL((double)n500 / (n500 + nreset), 0.75, 0.03);
}

static void test_sim_fault_pick_rate_bounds(void)
{
    struct sim_fault_mix m;
    sim_fault_mix_parse("502=1", &m, NULL);
    for (unsigned long a = 1; a <= 500; a++) {
        CU_ASSERT_EQUAL_FATAL(sim_fault_pick(&m, 0.0, 1, "v", a),
                              SIM_FAULT_NONE);
        CU_ASSERT_EQUAL_FATAL(sim_fault_pick(&m, 1.0, 1, "v", a),
                              SIM_FAULT_502);
    }
    CU_ASSERT_EQUAL(sim_fault_pick(NULL, 1.0, 1, "v", 1), SIM_FAULT_NONE);
}

static void test_sim_fault_permanent_share_and_kinds(void)
{
    int n430 = 0;
    int n501 = 0;
    for (int i = 0; i < 4000; i++) {
        char id[32];
        snprintf(id, sizeof(id), "vehicle-%d", i);
        CU_ASSERT_EQUAL_FATAL(sim_fault_permanent(0.0, 9, id),
                              SIM_FAULT_NONE);
        enum sim_fault_kind k = sim_fault_permanent(0.1, 9, id);
        CU_ASSERT_EQUAL_FATAL(k, sim_fault_permanent(0.1, 9, id));
        n430 += k == SIM_FAULT_430;
        n501 += k == SIM_FAULT_501;
        k = sim_fault_permanent(1.0, 9, id);
        CU_ASSERT_FATAL(k == SIM_FAULT_430 || k == SIM_FAULT_501);
    }
    CU_ASSERT_DOUBLE_EQUAL((n430 + n501) / 4000.0, 0.1, 0.02);
    CU_ASSERT_TRUE(n430 > 100);
    CU_ASSERT_TRUE(n501 > 100);
}

static void test_sim_fault_retry_after_is_one_to_three(void)
{
    int seen[4] = {0};
    for (unsigned long a = 1; a <= 300; a++) {
        int r = sim_fault_retry_after(5, "v", a);
        CU_ASSERT_FATAL(r >= 1 && r <= 3);
        CU_ASSERT_EQUAL(r, sim_fault_retry_after(5, "v", a));
        seen[r]++;
    }
    CU_ASSERT_TRUE(seen[1] > 0 && seen[2] > 0 && seen[3] > 0);
}

static void test_sim_fault_names(void)
{
    CU_ASSERT_STRING_EQUAL(sim_fault_name(SIM_FAULT_NONE), "none");
    CU_ASSERT_STRING_EQUAL(sim_fault_name(SIM_FAULT_BADJSON), "badjson");
    CU_ASSERT_STRING_EQUAL(sim_fault_name(SIM_FAULT_501), "501");
    CU_ASSERT_STRING_EQUAL(sim_fault_name(SIM_FAULT_COUNT), "?");
}

static CU_TestInfo sim_fault_tests[] = {
    {"the default mix parses", test_sim_fault_default_mix_parses},
    {"bad mixes are refused and leave the mix unchanged",
     test_sim_fault_mix_refuses_bad_specs},
    {"a draw depends only on seed, vehicle and attempt",
     test_sim_fault_pick_is_a_function_of_its_inputs},
    {"draws follow the rate and the weights",
     test_sim_fault_pick_follows_rate_and_weights},
    {"rate 0 never faults, rate 1 always does",
     test_sim_fault_pick_rate_bounds},
    {"permanent faults hit the given share, as 430 or 501",
     test_sim_fault_permanent_share_and_kinds},
    {"an injected Retry-After is 1 to 3 seconds",
     test_sim_fault_retry_after_is_one_to_three},
    {"kinds have short names", test_sim_fault_names},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_sim_fault_suites[] = {
    {"sim_fault", NULL, NULL, NULL, NULL, sim_fault_tests},
    CU_SUITE_INFO_NULL
};
