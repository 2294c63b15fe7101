/*
 * The single registry of test suites (as libuv's test-list.h): one line per
 * tests/test_<module>.c, each naming the CU_SuiteInfo array it exports.
 */
X(test_eng_suites)
X(test_tok_suites)
X(test_sc_suites)
X(test_sim_fault_suites)
X(test_sim_jscan_suites)
X(test_sim_rate_suites)
X(test_sim_window_suites)
X(test_sc_sim_suites)
