/*
 * The single registry of test suites (as libuv's test-list.h): one line per
 * tests/test_<module>.c, each naming the CU_SuiteInfo array it exports.
 */
X(test_eng_suites)
X(test_hist_suites)
X(test_feat_suites)
X(test_task_suites)
X(test_io_suites)
X(test_veh_suites)
X(test_synth_suites)
X(test_glm_suites)
X(test_eval_suites)
X(test_tok_suites)
X(test_sc_suites)
X(test_sim_fault_suites)
X(test_sim_rate_suites)
X(test_sim_window_suites)
X(test_sc_sim_suites)
X(test_jscan_suites)
X(test_model_suites)
X(test_train_suites)
X(test_score_suites)
