/* Tests for sim_jscan: the validating JSON span scanner. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_jscan.h"

static int valid(const char *s)
{
    struct sim_jspan v;
    return sim_jscan_document(s, strlen(s), &v, NULL, NULL) == ENG_OK;
}

static void test_sim_jscan_accepts_valid_documents(void)
{
    CU_ASSERT_TRUE(valid("[]"));
    CU_ASSERT_TRUE(valid(" {} "));
    CU_ASSERT_TRUE(valid("null"));
    CU_ASSERT_TRUE(valid("-0.5e+10"));
    CU_ASSERT_TRUE(valid("\"a\\u00e9\\n\\\"\""));
    CU_ASSERT_TRUE(valid("[{\"a\":[1,2,{\"b\":null}],\"c\":true},false]"));
    CU_ASSERT_TRUE(valid("{\"serviceDate\":\"2023-06-28T22:21:41.583Z\","
                         "\"odometerDistance\":46047.22}"));
}

static void test_sim_jscan_refuses_invalid_documents(void)
{
    CU_ASSERT_FALSE(valid(""));
    CU_ASSERT_FALSE(valid("[1,]"));
    CU_ASSERT_FALSE(valid("{\"a\":1,}"));
    CU_ASSERT_FALSE(valid("{\"a\" 1}"));
    CU_ASSERT_FALSE(valid("{a:1}"));
    CU_ASSERT_FALSE(valid("[01]"));
    CU_ASSERT_FALSE(valid("[-]"));
    CU_ASSERT_FALSE(valid("[1.]"));
    CU_ASSERT_FALSE(valid("[1e]"));
    CU_ASSERT_FALSE(valid("\"\\x\""));
    CU_ASSERT_FALSE(valid("\"\\u12\""));
    CU_ASSERT_FALSE(valid("\"tab\there\""));
    CU_ASSERT_FALSE(valid("\"open"));
    CU_ASSERT_FALSE(valid("[1] x"));
    CU_ASSERT_FALSE(valid("[1 2]"));
    CU_ASSERT_FALSE(valid("tru"));
    CU_ASSERT_FALSE(valid("{\"serviceId\"=\"1\"}"));
}

static void test_sim_jscan_reports_the_bad_byte(void)
{
    size_t at = 0;
    struct sim_jspan v;
    struct eng_err err = {0};
    const char *s = "[1,2,,3]";
    CU_ASSERT_EQUAL(sim_jscan_document(s, strlen(s), &v, &at, &err),
                    ENG_EJSON);
    CU_ASSERT_EQUAL(at, 5);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "byte 5"));
}

static void test_sim_jscan_limits_nesting(void)
{
    char deep[2 * SIM_JSCAN_MAX_DEPTH + 3];
    size_t n = SIM_JSCAN_MAX_DEPTH;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    CU_ASSERT_TRUE(valid(deep));
    memset(deep, '[', n + 1);
    memset(deep + n + 1, ']', n + 1);
    deep[2 * n + 2] = '\0';
    CU_ASSERT_FALSE(valid(deep));
}

static void test_sim_jscan_value_spans_without_the_white_space(void)
{
    const char *s = "  {\"a\": [1, 2]}  ,";
    const char *p = s;
    struct sim_jspan v;
    CU_ASSERT_EQUAL(sim_jscan_value(&p, s + strlen(s), &v, NULL), ENG_OK);
    CU_ASSERT_EQUAL(v.p, s + 2);
    CU_ASSERT_EQUAL(v.n, 13);
    CU_ASSERT_EQUAL(sim_jscan_type(&v), SIM_JOBJECT);
    CU_ASSERT_EQUAL(*p, ' ');
}

static void test_sim_jscan_walks_objects_and_arrays(void)
{
    const char *s = "{\"a\": 1, \"b\" : [true, \"x\", null], \"c\":{}}";
    struct sim_jspan root = {s, strlen(s)};
    struct sim_jiter it;
    struct sim_jspan k;
    struct sim_jspan v;
    sim_jscan_iter_init(&it, &root);
    CU_ASSERT_EQUAL(sim_jscan_next(&it, &k, &v), 1);
    CU_ASSERT_TRUE(sim_jscan_string_is(&k, "a"));
    CU_ASSERT_EQUAL(sim_jscan_type(&v), SIM_JNUMBER);
    CU_ASSERT_EQUAL(sim_jscan_next(&it, &k, &v), 1);
    CU_ASSERT_TRUE(sim_jscan_string_is(&k, "b"));
    CU_ASSERT_EQUAL(v.n, strlen("[true, \"x\", null]"));
    struct sim_jiter inner;
    struct sim_jspan e;
    int types[3];
    int count = 0;
    sim_jscan_iter_init(&inner, &v);
    while (count < 3 && sim_jscan_next(&inner, NULL, &e) > 0)
        types[count++] = (int)sim_jscan_type(&e);
    CU_ASSERT_EQUAL(count, 3);
    CU_ASSERT_EQUAL(types[0], SIM_JBOOL);
    CU_ASSERT_EQUAL(types[1], SIM_JSTRING);
    CU_ASSERT_EQUAL(types[2], SIM_JNULL);
    CU_ASSERT_EQUAL(sim_jscan_next(&inner, NULL, &e), 0);
    CU_ASSERT_EQUAL(sim_jscan_next(&it, &k, &v), 1);
    CU_ASSERT_EQUAL(sim_jscan_type(&v), SIM_JOBJECT);
    CU_ASSERT_EQUAL(sim_jscan_next(&it, &k, &v), 0);
    CU_ASSERT_EQUAL(sim_jscan_next(&it, &k, &v), 0);
}

static int walk(const char *s)
{
    struct sim_jspan root = {s, strlen(s)};
    struct sim_jiter it;
    struct sim_jspan k;
    struct sim_jspan v;
    int rc;
    sim_jscan_iter_init(&it, &root);
    do {
        rc = sim_jscan_next(&it, &k, &v);
    } while (rc > 0);
    return rc;
}

static void test_sim_jscan_walk_validates(void)
{
    CU_ASSERT_EQUAL(walk("{\"a\":1,\"b\":2}"), 0);
    CU_ASSERT_EQUAL(walk("[1,2,3]"), 0);
    CU_ASSERT_EQUAL(walk("{}"), 0);
    CU_ASSERT_EQUAL(walk("{\"a\":1 \"b\":2}"), -1);
    CU_ASSERT_EQUAL(walk("{\"a\":1,}"), -1);
    CU_ASSERT_EQUAL(walk("[1,,2]"), -1);
    CU_ASSERT_EQUAL(walk("{1:2}"), -1);
    CU_ASSERT_EQUAL(walk("{\"a\":\"}"), -1);
    CU_ASSERT_EQUAL(walk("{\"a\":1}}"), -1);
    CU_ASSERT_EQUAL(walk("\"str\""), -1);
    CU_ASSERT_EQUAL(walk("42"), -1);
}

static void test_sim_jscan_string_decodes_escapes(void)
{
    const char *s = "\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude97\"";
    struct sim_jspan v = {s, strlen(s)};
    char out[64];
    size_t len = 0;
    CU_ASSERT_EQUAL(sim_jscan_string(&v, out, sizeof(out), &len), ENG_OK);
    CU_ASSERT_STRING_EQUAL(out, "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x9a\x97");
    CU_ASSERT_EQUAL(len, strlen(out));
    CU_ASSERT_EQUAL(sim_jscan_string(&v, out, 4, NULL), ENG_ELIMIT);
    const char *nul = "\"a\\u0000b\"";
    struct sim_jspan vn = {nul, strlen(nul)};
    CU_ASSERT_EQUAL(sim_jscan_string(&vn, out, sizeof(out), NULL), ENG_EDATA);
    const char *num = "12";
    struct sim_jspan vnum = {num, 2};
    CU_ASSERT_EQUAL(sim_jscan_string(&vnum, out, sizeof(out), NULL),
                    ENG_EDATA);
}

static void test_sim_jscan_string_is_compares_decoded_text(void)
{
    const char *plain = "\"history\"";
    const char *escaped = "\"hist\\u006fry\"";
    struct sim_jspan a = {plain, strlen(plain)};
    struct sim_jspan b = {escaped, strlen(escaped)};
    CU_ASSERT_TRUE(sim_jscan_string_is(&a, "history"));
    CU_ASSERT_TRUE(sim_jscan_string_is(&b, "history"));
    CU_ASSERT_FALSE(sim_jscan_string_is(&a, "histor"));
    CU_ASSERT_FALSE(sim_jscan_string_is(&a, "historyx"));
}

static void test_sim_jscan_number_reads_numbers_and_numeric_strings(void)
{
    double d = -1;
    struct sim_jspan n = {"46047.22", 8};
    CU_ASSERT_EQUAL(sim_jscan_number(&n, &d), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(d, 46047.22, 1e-9);
    struct sim_jspan s = {"\"91234.5\"", 9};
    CU_ASSERT_EQUAL(sim_jscan_number(&s, &d), ENG_OK);
    CU_ASSERT_DOUBLE_EQUAL(d, 91234.5, 1e-9);
    d = 7;
    struct sim_jspan bad = {"\"12 km\"", 7};
    CU_ASSERT_EQUAL(sim_jscan_number(&bad, &d), ENG_EDATA);
    struct sim_jspan empty = {"\"\"", 2};
    CU_ASSERT_EQUAL(sim_jscan_number(&empty, &d), ENG_EDATA);
    struct sim_jspan t = {"true", 4};
    CU_ASSERT_EQUAL(sim_jscan_number(&t, &d), ENG_EDATA);
    struct sim_jspan huge = {"1e999", 5};
    CU_ASSERT_EQUAL(sim_jscan_number(&huge, &d), ENG_EDATA);
    CU_ASSERT_DOUBLE_EQUAL(d, 7, 1e-12);
}

static CU_TestInfo sim_jscan_tests[] = {
    {"valid documents are accepted", test_sim_jscan_accepts_valid_documents},
    {"invalid documents are refused",
     test_sim_jscan_refuses_invalid_documents},
    {"the offending byte is reported", test_sim_jscan_reports_the_bad_byte},
    {"nesting is limited", test_sim_jscan_limits_nesting},
    {"a value's span excludes white space",
     test_sim_jscan_value_spans_without_the_white_space},
    {"objects and arrays can be walked",
     test_sim_jscan_walks_objects_and_arrays},
    {"walking validates separators and members",
     test_sim_jscan_walk_validates},
    {"strings decode escapes to UTF-8",
     test_sim_jscan_string_decodes_escapes},
    {"string_is compares decoded text",
     test_sim_jscan_string_is_compares_decoded_text},
    {"numbers and numeric strings are read",
     test_sim_jscan_number_reads_numbers_and_numeric_strings},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_sim_jscan_suites[] = {
    {"sim_jscan", NULL, NULL, NULL, NULL, sim_jscan_tests},
    CU_SUITE_INFO_NULL
};
