/* Tests for ptrain: powertrain aliases, names and sources. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "ptrain.h"

static void test_ptrain_parses_every_alias(void)
{
    static const struct {
        const char *text;
        enum ptrain want;
    } cases[] = {
        {"ICE", PTRAIN_ICE}, {"gas", PTRAIN_ICE}, {"Gasoline", PTRAIN_ICE},
        {"PETROL", PTRAIN_ICE}, {"diesel", PTRAIN_ICE},
        {"combustion", PTRAIN_ICE},
        {"HEV", PTRAIN_HEV}, {"hybrid", PTRAIN_HEV}, {" Hybrid ", PTRAIN_HEV},
        {"PHEV", PTRAIN_PHEV}, {"phev", PTRAIN_PHEV},
        {"PLUG_IN_HYBRID", PTRAIN_PHEV}, {"Plug-in Hybrid", PTRAIN_PHEV},
        {"plug-in hybrid", PTRAIN_PHEV}, {"PLUGIN HYBRID", PTRAIN_PHEV},
        {"plug-in", PTRAIN_PHEV},
        {"BEV", PTRAIN_BEV}, {"ev", PTRAIN_BEV}, {"Electric", PTRAIN_BEV},
        {"BATTERY_ELECTRIC", PTRAIN_BEV}, {"battery electric", PTRAIN_BEV},
        {"", PTRAIN_UNKNOWN}, {"   ", PTRAIN_UNKNOWN},
        {"steam", PTRAIN_UNKNOWN}, {"EVX", PTRAIN_UNKNOWN},
        {"hybrid electric vehicle with a very long name", PTRAIN_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CU_ASSERT_EQUAL(ptrain_parse(cases[i].text), cases[i].want);
    CU_ASSERT_EQUAL(ptrain_parse(NULL), PTRAIN_UNKNOWN);
}

static void test_ptrain_names_round_trip(void)
{
    for (int p = PTRAIN_ICE; p < PTRAIN_COUNT; p++)
        CU_ASSERT_EQUAL(ptrain_parse(ptrain_name(p)), p);
    CU_ASSERT_STRING_EQUAL(ptrain_name(PTRAIN_UNKNOWN), "");
    CU_ASSERT_STRING_EQUAL(ptrain_name(99), "");
    CU_ASSERT_STRING_EQUAL(ptrain_name(PTRAIN_BEV), "BEV");
    for (int s = PTRAIN_SRC_LIST; s < PTRAIN_SRC_COUNT; s++)
        CU_ASSERT_EQUAL(ptrain_src_parse(ptrain_src_name(s)), s);
    CU_ASSERT_EQUAL(ptrain_src_parse("WMI"), PTRAIN_SRC_WMI);
    CU_ASSERT_EQUAL(ptrain_src_parse("wm"), PTRAIN_SRC_NONE);
    CU_ASSERT_EQUAL(ptrain_src_parse(""), PTRAIN_SRC_NONE);
    CU_ASSERT_EQUAL(ptrain_src_parse(NULL), PTRAIN_SRC_NONE);
    CU_ASSERT_STRING_EQUAL(ptrain_src_name(PTRAIN_SRC_NONE), "");
}

static void test_ptrain_only_bev_has_no_oil(void)
{
    CU_ASSERT_FALSE(ptrain_has_oil(PTRAIN_BEV));
    CU_ASSERT_TRUE(ptrain_has_oil(PTRAIN_ICE));
    CU_ASSERT_TRUE(ptrain_has_oil(PTRAIN_HEV));
    CU_ASSERT_TRUE(ptrain_has_oil(PTRAIN_PHEV));
    CU_ASSERT_TRUE(ptrain_has_oil(PTRAIN_UNKNOWN));
}

static CU_TestInfo ptrain_tests[] = {
    {"parses every alias", test_ptrain_parses_every_alias},
    {"names round-trip", test_ptrain_names_round_trip},
    {"only a BEV has no oil", test_ptrain_only_bev_has_no_oil},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_ptrain_suites[] = {
    {"ptrain", NULL, NULL, NULL, NULL, ptrain_tests},
    CU_SUITE_INFO_NULL
};
