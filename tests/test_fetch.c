/*
 * Tests for fetch's retry rules: which statuses are transient, and which
 * stored vehicles a store fetch asks again (new ones, transient failures,
 * permanent failures only with retry_errors, successes by age).
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "hist.h"
#include "store.h"
#include "api/fetch.h"

static void test_fetch_transient_statuses(void)
{
    const char *transient[] = {
        "error:NETWORK", "error:TIMEOUT", "error:SERVER:INTERNAL",
        "error:UPSTREAM:UNKNOWN", "error:RATE_LIMIT:VEHICLE",
        "error:VEHICLE_STATE:ASLEEP"
    };
    const char *permanent[] = {
        "ok", "no_history", "error:COMPATIBILITY:X", "error:BILLING:Y",
        "error:PERMISSION", "error:REFRESH_FAILED", "error:INPUT:NO_TOKEN",
        "error:PARSE", "error:SERVERS", "error:NETWORKX:1", "NETWORK"
    };
    for (size_t i = 0; i < sizeof(transient) / sizeof(*transient); i++)
        CU_ASSERT_TRUE(fetch_status_transient(transient[i]));
    for (size_t i = 0; i < sizeof(permanent) / sizeof(*permanent); i++)
        CU_ASSERT_FALSE(fetch_status_transient(permanent[i]));
}

/* A stored vehicle whose last fetch (at at) had status. */
static struct store_state stored(const char *status, const char *at,
                                 const char *ok_at)
{
    struct store_state ss;
    memset(&ss, 0, sizeof(ss));
    ss.id = 7;
    ss.last_day = HIST_NO_DAY;
    snprintf(ss.last_fetch_at, sizeof(ss.last_fetch_at), "%s", at);
    snprintf(ss.last_status, sizeof(ss.last_status), "%s", status);
    snprintf(ss.last_ok_at, sizeof(ss.last_ok_at), "%s", ok_at);
    return ss;
}

static void test_fetch_due_rules(void)
{
    struct fetch_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.refresh_after_days = 7;
    long long now = 1782864000;    /* 2026-07-01T00:00:00Z */
    struct store_state none;
    memset(&none, 0, sizeof(none));
    CU_ASSERT_TRUE(fetch_due(&cfg, &none, now));
    struct store_state never = stored("", "", "");
    CU_ASSERT_TRUE(fetch_due(&cfg, &never, now));
    /* successes by the age of the last one: 6 days no, 7 days yes */
    struct store_state fresh = stored("ok", "2026-06-25T00:00:00Z",
                                      "2026-06-25T00:00:00Z");
    struct store_state old = stored("no_history", "2026-06-24T00:00:00Z",
                                    "2026-06-24T00:00:00Z");
    CU_ASSERT_FALSE(fetch_due(&cfg, &fresh, now));
    CU_ASSERT_TRUE(fetch_due(&cfg, &old, now));
    /* a transient failure whatever its age, a permanent one never */
    struct store_state tr = stored("error:SERVER:INTERNAL",
                                   "2026-06-30T23:00:00Z",
                                   "2026-06-30T00:00:00Z");
    struct store_state perm = stored("error:PERMISSION",
                                     "2026-01-01T00:00:00Z",
                                     "2025-01-01T00:00:00Z");
    CU_ASSERT_TRUE(fetch_due(&cfg, &tr, now));
    CU_ASSERT_FALSE(fetch_due(&cfg, &perm, now));
    cfg.refresh_after_days = -1;   /* not given: every success is due */
    CU_ASSERT_TRUE(fetch_due(&cfg, &fresh, now));
    CU_ASSERT_FALSE(fetch_due(&cfg, &perm, now));
    cfg.retry_errors = 1;
    CU_ASSERT_TRUE(fetch_due(&cfg, &perm, now));
}

static CU_TestInfo fetch_tests[] = {
    {"transient statuses", test_fetch_transient_statuses},
    {"due rules", test_fetch_due_rules},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_fetch_suites[] = {
    {"fetch", NULL, NULL, NULL, NULL, fetch_tests},
    CU_SUITE_INFO_NULL
};
