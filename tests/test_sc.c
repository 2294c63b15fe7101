/*
 * Tests of the Smartcar client's pure pieces: envelopes, statuses, the
 * retry decision, backoff, headers, body shapes, and config checks.
 */
#include <CUnit/CUnit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

#include "api/sc.h"
#include "api/sc_policy.h"

static int suite_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int suite_clean(void)
{
    curl_global_cleanup();
    return 0;
}

static void parse(const char *body, const char *ctype, struct sc_envelope *e)
{
    sc_parse_envelope(body, strlen(body), ctype, e);
}

/* ---- envelopes ---- */

static void test_sc_envelope_reads_v2_with_object_resolution(void)
{
    struct sc_envelope e;
    parse("{\"type\":\"RATE_LIMIT\",\"code\":\"VEHICLE\",\"description\":"
          "\"Too many\",\"docURL\":\"x\",\"statusCode\":429,\"requestId\":"
          "\"5f1c-77\",\"resolution\":{\"type\":\"RETRY_LATER\"}}",
          "application/json", &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_V2);
    CU_ASSERT_STRING_EQUAL(e.type, "RATE_LIMIT");
    CU_ASSERT_STRING_EQUAL(e.code, "VEHICLE");
    CU_ASSERT_STRING_EQUAL(e.request_id, "5f1c-77");
    CU_ASSERT_STRING_EQUAL(e.resolution, "RETRY_LATER");
    CU_ASSERT_STRING_EQUAL(e.description, "Too many");
    CU_ASSERT_EQUAL(e.status, 429);
}

static void test_sc_envelope_reads_every_resolution_variant(void)
{
    struct sc_envelope e;
    parse("{\"type\":\"AUTHENTICATION\",\"code\":null,\"resolution\":null}",
          NULL, &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_V2);
    CU_ASSERT_STRING_EQUAL(e.code, "");
    CU_ASSERT_STRING_EQUAL(e.resolution, "");
    parse("{\"type\":\"AUTHENTICATION\",\"resolution\":\"REAUTHENTICATE\"}",
          NULL, &e);
    CU_ASSERT_STRING_EQUAL(e.resolution, "REAUTHENTICATE");
    parse("{\"type\":\"SERVER\",\"code\":\"INTERNAL\",\"resolution\":"
          "{\"type\":null}}", NULL, &e);
    CU_ASSERT_STRING_EQUAL(e.resolution, "");
    parse("{\"type\":\"SERVER\",\"resolution\":{\"type\":\"CONTACT_SUPPORT\","
          "\"url\":\"https://x\"}}", NULL, &e);
    CU_ASSERT_STRING_EQUAL(e.resolution, "CONTACT_SUPPORT");
}

static void test_sc_envelope_maps_v1_errors_to_v2_types(void)
{
    struct sc_envelope e;
    parse("{\"error\":\"vehicle_state_error\",\"message\":\"Asleep\","
          "\"code\":\"VS_000\"}", "application/json; charset=utf-8", &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_V1);
    CU_ASSERT_STRING_EQUAL(e.type, "VEHICLE_STATE");
    CU_ASSERT_STRING_EQUAL(e.code, "VS_000");
    CU_ASSERT_STRING_EQUAL(e.description, "Asleep");
    parse("{\"error\":\"monthly_limit_exceeded\",\"message\":\"m\"}", NULL,
          &e);
    CU_ASSERT_STRING_EQUAL(e.type, "BILLING");
    parse("{\"error\":\"odd_new_error\",\"message\":\"m\"}", NULL, &e);
    CU_ASSERT_STRING_EQUAL(e.type, "ODD_NEW_ERROR");
}

static void test_sc_envelope_reads_oauth_errors(void)
{
    struct sc_envelope e;
    parse("{\"error\":\"invalid_grant\",\"error_description\":"
          "\"Invalid or expired token\"}", "application/json", &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_OAUTH);
    CU_ASSERT_STRING_EQUAL(e.type, "AUTHENTICATION");
    CU_ASSERT_STRING_EQUAL(e.code, "INVALID_GRANT");
    CU_ASSERT_STRING_EQUAL(e.description, "Invalid or expired token");
}

static void test_sc_envelope_reads_v3_errors(void)
{
    struct sc_envelope e;
    parse("{\"errors\":[{\"status\":\"502\",\"type\":\"UPSTREAM\",\"code\":"
          "\"NO_RESPONSE\",\"title\":\"t\",\"detail\":\"No answer\","
          "\"resolution\":{\"type\":\"RETRY_LATER\"}}]}", NULL, &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_V3);
    CU_ASSERT_STRING_EQUAL(e.type, "UPSTREAM");
    CU_ASSERT_STRING_EQUAL(e.code, "NO_RESPONSE");
    CU_ASSERT_EQUAL(e.status, 502);
    CU_ASSERT_STRING_EQUAL(e.resolution, "RETRY_LATER");
    CU_ASSERT_STRING_EQUAL(e.description, "No answer");
    parse("{\"errors\":[]}", NULL, &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_V3);
    CU_ASSERT_STRING_EQUAL(e.type, "");
}

static void test_sc_envelope_treats_html_and_broken_json_as_text(void)
{
    struct sc_envelope e;
    parse("<html>502 Bad Gateway</html>", "text/html", &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_TEXT);
    CU_ASSERT_STRING_EQUAL(e.type, "");
    /* JSON by content, but the server says HTML: not parsed */
    parse("{\"type\":\"SERVER\"}", "text/html", &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_TEXT);
    parse("{\"type\":\"SERV", "application/json", &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_TEXT);
    parse("{\"hello\":1}", NULL, &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_TEXT);
    parse("[1,2]", NULL, &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_TEXT);
    sc_parse_envelope("", 0, NULL, &e);
    CU_ASSERT_EQUAL(e.shape, SC_SHAPE_NONE);
}

static void test_sc_envelope_cleans_hostile_strings(void)
{
    struct sc_envelope e;
    parse("{\"type\":\"rate_limit,\\n=cmd\",\"code\":\"a b\\\"c\","
          "\"requestId\":\"id\\r\\nX-Evil: 1\","
          "\"description\":\"line\\nbreak\"}",
          NULL, &e);
    CU_ASSERT_STRING_EQUAL(e.type, "RATE_LIMITCMD");
    CU_ASSERT_STRING_EQUAL(e.code, "ABC");
    CU_ASSERT_STRING_EQUAL(e.request_id, "idX-Evil1");
    CU_ASSERT_STRING_EQUAL(e.description, "line break");
}

/* ---- statuses ---- */

static void test_sc_error_status_uses_type_and_code(void)
{
    struct sc_envelope e;
    char s[SC_STATUS_LEN];
    parse("{\"type\":\"COMPATIBILITY\",\"code\":\"MAKE_NOT_COMPATIBLE\"}",
          NULL, &e);
    sc_error_status(&e, 501, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "error:COMPATIBILITY:MAKE_NOT_COMPATIBLE");
    parse("{\"type\":\"AUTHENTICATION\",\"code\":null}", NULL, &e);
    sc_error_status(&e, 401, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "error:AUTHENTICATION");
}

static void test_sc_error_status_maps_bare_http_statuses(void)
{
    char s[SC_STATUS_LEN];
    struct sc_envelope e;
    parse("<html/>", "text/html", &e);
    sc_error_status(&e, 502, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "error:UPSTREAM:HTTP_502");
    sc_error_status(&e, 503, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "error:SERVER:HTTP_503");
    sc_error_status(&e, 430, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "error:BILLING:HTTP_430");
    sc_error_status(NULL, 418, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "error:HTTP:418");
}

static void test_sc_curl_code_names_are_plain(void)
{
    CU_ASSERT_STRING_EQUAL(sc_curl_code_name(CURLE_COULDNT_CONNECT),
                           "COULDNT_CONNECT");
    CU_ASSERT_STRING_EQUAL(sc_curl_code_name(CURLE_RECV_ERROR), "RECV_ERROR");
    CU_ASSERT_STRING_EQUAL(sc_curl_code_name(9999), "OTHER");
}

/* ---- the retry decision ---- */

struct decide_case {
    long http;
    const char *body;
    double retry_after;
    int token_endpoint;
    enum sc_verdict verdict;
    enum sc_cause cause;
    const char *status;
};

static const struct decide_case cases[] = {
    {200, "[]", -1, 0, SC_V_OK, SC_CAUSE_NONE, "ok"},
    {429, "{\"type\":\"RATE_LIMIT\",\"code\":\"VEHICLE\"}", 7, 0,
     SC_V_RETRY_AFTER, SC_CAUSE_RATE_VEHICLE, "error:RATE_LIMIT:VEHICLE"},
    {429, "{\"type\":\"RATE_LIMIT\",\"code\":\"VEHICLE\"}", -1, 0,
     SC_V_RETRY, SC_CAUSE_RATE_VEHICLE, "error:RATE_LIMIT:VEHICLE"},
    {429, "{\"type\":\"RATE_LIMIT\",\"code\":\"SMARTCAR_API\"}", -1, 0,
     SC_V_PAUSE, SC_CAUSE_RATE_APP, "error:RATE_LIMIT:SMARTCAR_API"},
    {409, "{\"type\":\"VEHICLE_STATE\",\"code\":\"ASLEEP\"}", -1, 0,
     SC_V_RETRY, SC_CAUSE_VEHICLE_STATE, "error:VEHICLE_STATE:ASLEEP"},
    {500, "{\"type\":\"SERVER\",\"code\":\"INTERNAL\"}", -1, 0, SC_V_RETRY,
     SC_CAUSE_SERVER, "error:SERVER:INTERNAL"},
    {500, "{\"type\":\"SERVER\",\"code\":\"INTERNAL\",\"resolution\":"
          "{\"type\":\"RETRY_LATER\"}}", -1, 0, SC_V_RETRY, SC_CAUSE_SERVER,
     "error:SERVER:INTERNAL"},
    {502, "{\"type\":\"UPSTREAM\",\"code\":\"NO_RESPONSE\"}", -1, 0,
     SC_V_RETRY, SC_CAUSE_SERVER, "error:UPSTREAM:NO_RESPONSE"},
    {502, "<html>bad gateway</html>", -1, 0, SC_V_RETRY, SC_CAUSE_SERVER,
     "error:UPSTREAM:HTTP_502"},
    {504, "", -1, 0, SC_V_RETRY, SC_CAUSE_SERVER, "error:SERVER:HTTP_504"},
    {408, "", -1, 0, SC_V_RETRY, SC_CAUSE_SERVER, "error:HTTP:408"},
    {401, "{\"type\":\"AUTHENTICATION\",\"code\":null}", -1, 0, SC_V_REAUTH,
     SC_CAUSE_AUTH, "error:AUTHENTICATION"},
    {400, "{\"type\":\"VALIDATION\",\"code\":\"PARAMETER\","
          "\"resolution\":{\"type\":\"RETRY_LATER\"}}", -1, 0, SC_V_FAIL,
     SC_CAUSE_NONE, "error:VALIDATION:PARAMETER"},
    {403, "{\"type\":\"PERMISSION\",\"code\":null}", -1, 0, SC_V_FAIL,
     SC_CAUSE_NONE, "error:PERMISSION"},
    {404, "{\"type\":\"RESOURCE_NOT_FOUND\",\"code\":\"PATH\"}", -1, 0,
     SC_V_FAIL, SC_CAUSE_NONE, "error:RESOURCE_NOT_FOUND:PATH"},
    {430, "{\"type\":\"BILLING\",\"code\":\"VEHICLE_REQUEST_LIMIT\"}", 30, 0,
     SC_V_FAIL, SC_CAUSE_NONE, "error:BILLING:VEHICLE_REQUEST_LIMIT"},
    {501, "{\"type\":\"COMPATIBILITY\",\"code\":\"MAKE_NOT_COMPATIBLE\"}", -1,
     0, SC_V_FAIL, SC_CAUSE_NONE, "error:COMPATIBILITY:MAKE_NOT_COMPATIBLE"},
    {400, "{\"type\":\"CONNECTED_SERVICES_ACCOUNT\",\"code\":"
          "\"SUBSCRIPTION\"}", -1, 0, SC_V_FAIL, SC_CAUSE_NONE,
     "error:CONNECTED_SERVICES_ACCOUNT:SUBSCRIPTION"},
    {418, "{\"type\":\"ODD\",\"resolution\":\"RETRY_LATER\"}", -1, 0,
     SC_V_RETRY, SC_CAUSE_RETRY_LATER, "error:ODD"},
    {418, "", -1, 0, SC_V_FAIL, SC_CAUSE_NONE, "error:HTTP:418"},
    {400, "{\"error\":\"invalid_grant\",\"error_description\":\"x\"}", -1, 1,
     SC_V_FAIL, SC_CAUSE_NONE, "error:AUTHENTICATION:REFRESH_FAILED"},
    {401, "{\"error\":\"invalid_client\",\"error_description\":\"x\"}", -1, 1,
     SC_V_FAIL, SC_CAUSE_NONE, "error:AUTHENTICATION:INVALID_CLIENT"},
    {503, "", 2, 1, SC_V_RETRY, SC_CAUSE_SERVER, "error:SERVER:HTTP_503"},
};

static void test_sc_decide_follows_the_retry_policy_for_each_answer(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct decide_case *c = &cases[i];
        struct sc_envelope env;
        sc_parse_envelope(c->body, strlen(c->body),
                          c->body[0] == '<' ? "text/html" : NULL, &env);
        struct sc_outcome o = {CURLE_OK, 0, c->http, &env, c->retry_after,
                               c->token_endpoint};
        struct sc_decision d;
        sc_decide(&o, &d);
        if (d.verdict != c->verdict || d.cause != c->cause
            || strcmp(d.status, c->status) != 0)
            fprintf(stderr, "\ncase %zu: verdict %d cause %d status %s\n", i,
                    d.verdict, d.cause, d.status);
        CU_ASSERT_EQUAL(d.verdict, c->verdict);
        CU_ASSERT_EQUAL(d.cause, c->cause);
        CU_ASSERT_STRING_EQUAL(d.status, c->status);
    }
}

static void test_sc_decide_passes_retry_after_to_vehicle_and_app_limits(void)
{
    struct sc_envelope env;
    parse("{\"type\":\"RATE_LIMIT\",\"code\":\"SMARTCAR_API\"}", NULL, &env);
    struct sc_outcome o = {CURLE_OK, 0, 429, &env, 12, 0};
    struct sc_decision d;
    sc_decide(&o, &d);
    CU_ASSERT_EQUAL(d.verdict, SC_V_PAUSE);
    CU_ASSERT_DOUBLE_EQUAL(d.delay, 12.0, 1e-9);
}

static void test_sc_decide_handles_transport_failures(void)
{
    struct sc_decision d;
    struct sc_outcome o = {CURLE_OPERATION_TIMEDOUT, 0, 0, NULL, -1, 0};
    sc_decide(&o, &d);
    CU_ASSERT_EQUAL(d.verdict, SC_V_RETRY);
    CU_ASSERT_EQUAL(d.cause, SC_CAUSE_TIMEOUT);
    CU_ASSERT_STRING_EQUAL(d.status, "error:TIMEOUT");

    o.curl_code = CURLE_RECV_ERROR;
    sc_decide(&o, &d);
    CU_ASSERT_EQUAL(d.verdict, SC_V_RETRY);
    CU_ASSERT_EQUAL(d.cause, SC_CAUSE_NETWORK);
    CU_ASSERT_STRING_EQUAL(d.status, "error:NETWORK:RECV_ERROR");

    o.curl_code = CURLE_PEER_FAILED_VERIFICATION;
    sc_decide(&o, &d);
    CU_ASSERT_EQUAL(d.verdict, SC_V_FAIL);
    CU_ASSERT_STRING_EQUAL(d.status, "error:NETWORK:PEER_FAILED_VERIFICATION");

    o.curl_code = CURLE_WRITE_ERROR;
    o.too_big = 1;
    sc_decide(&o, &d);
    CU_ASSERT_EQUAL(d.verdict, SC_V_FAIL);
    CU_ASSERT_STRING_EQUAL(d.status, "error:LIMIT:BODY_SIZE");
}

/* ---- backoff, headers, bodies ---- */

static void test_sc_backoff_stays_within_full_jitter_bounds(void)
{
    uint64_t rng = 42;
    double max_seen = 0;
    for (int attempt = 1; attempt <= 12; attempt++) {
        double ceiling = 0.5 * (double)(1 << (attempt - 1));
        if (ceiling > 30)
            ceiling = 30;
        for (int k = 0; k < 200; k++) {
            double b = sc_backoff(0.5, 30, attempt, &rng);
            CU_ASSERT(b >= 0 && b <= ceiling);
            if (b > max_seen)
                max_seen = b;
        }
    }
    /* the draws do reach up towards the cap */
    CU_ASSERT(max_seen > 25);
    CU_ASSERT(sc_backoff(0.5, 30, 1000, &rng) <= 30);
}

static void test_sc_backoff_is_repeatable_for_a_seed(void)
{
    uint64_t a = 7;
    uint64_t b = 7;
    uint64_t c = 8;
    double x = sc_backoff(0.5, 30, 4, &a);
    double y = sc_backoff(0.5, 30, 4, &b);
    double z = sc_backoff(0.5, 30, 4, &c);
    CU_ASSERT_DOUBLE_EQUAL(x, y, 0);
    CU_ASSERT(x != z);
}

static void test_sc_retry_after_reads_seconds_and_dates(void)
{
    CU_ASSERT_DOUBLE_EQUAL(sc_parse_retry_after("120", 0), 120, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(sc_parse_retry_after("1.5 ", 0), 1.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(sc_parse_retry_after("", 0), -1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(sc_parse_retry_after(NULL, 0), -1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(sc_parse_retry_after("soon", 0), -1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(sc_parse_retry_after("-3", 0), -1, 1e-9);
    /* Wed, 01 May 2024 12:00:30 GMT is 30 s after 12:00:00 */
    CU_ASSERT_DOUBLE_EQUAL(
        sc_parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", 1714564800LL),
        30, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(
        sc_parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", 1714564800LL),
        0, 1e-9);
}

static void test_sc_retry_after_reports_a_far_wait_as_long_not_absent(void)
{
    /* absent (-1) would mean "back off and retry": a far wait is a wait */
    CU_ASSERT(sc_parse_retry_after("9999999", 0) >= 9999999);
    CU_ASSERT_DOUBLE_EQUAL(sc_parse_retry_after("1e300", 0),
                           SC_RETRY_AFTER_MAX, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(
        sc_parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", 1714564800LL),
        SC_RETRY_AFTER_MAX, 1e-9);
    CU_ASSERT(sc_parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", 0)
              > 900);
}

static void test_sc_header_value_matches_names_case_insensitively(void)
{
    char v[32] = "untouched";
    const char *l1 = "SC-Request-Id:  ab-12 \r\n";
    CU_ASSERT_EQUAL(sc_header_value(l1, strlen(l1), "sc-request-id", v,
                                    sizeof(v)), 1);
    CU_ASSERT_STRING_EQUAL(v, "ab-12");
    const char *l2 = "sc-request-idx: no\r\n";
    strcpy(v, "untouched");
    CU_ASSERT_EQUAL(sc_header_value(l2, strlen(l2), "sc-request-id", v,
                                    sizeof(v)), 0);
    CU_ASSERT_STRING_EQUAL(v, "untouched");
    const char *l3 = "retry-after:7\r\n";
    CU_ASSERT_EQUAL(sc_header_value(l3, strlen(l3), "Retry-After", v,
                                    sizeof(v)), 1);
    CU_ASSERT_STRING_EQUAL(v, "7");
    char small[4];
    const char *l4 = "Content-Type: application/json\r\n";
    CU_ASSERT_EQUAL(sc_header_value(l4, strlen(l4), "content-type", small,
                                    sizeof(small)), 1);
    CU_ASSERT_STRING_EQUAL(small, "app");
}

static void test_sc_history_records_accepts_the_known_shapes(void)
{
    long n = -1;
    const char *arr = "[{\"serviceId\":null},{\"serviceId\":\"2\"}]";
    CU_ASSERT_EQUAL(sc_history_records(arr, strlen(arr), &n), 1);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(sc_history_records("[]", 2, &n), 1);
    CU_ASSERT_EQUAL(n, 0);
    const char *wrapped = "{\"serviceHistory\":[{}]}";
    CU_ASSERT_EQUAL(sc_history_records(wrapped, strlen(wrapped), &n), 1);
    CU_ASSERT_EQUAL(n, 1);
    const char *v3 = "{\"values\":[{},{},{}]}";
    CU_ASSERT_EQUAL(sc_history_records(v3, strlen(v3), &n), 1);
    CU_ASSERT_EQUAL(n, 3);
    const char *v3data = "{\"data\":{\"attributes\":{\"values\":[]}}}";
    CU_ASSERT_EQUAL(sc_history_records(v3data, strlen(v3data), &n), 1);
    CU_ASSERT_EQUAL(n, 0);
}

static void test_sc_history_records_tells_broken_from_foreign_bodies(void)
{
    long n = 99;
    const char *cut = "[{\"serviceId\":null},{\"servi";
    CU_ASSERT_EQUAL(sc_history_records(cut, strlen(cut), &n), -1);
    const char *tail = "[] trailing";
    CU_ASSERT_EQUAL(sc_history_records(tail, strlen(tail), &n), -1);
    CU_ASSERT_EQUAL(sc_history_records("<html>", 6, &n), -1);
    CU_ASSERT_EQUAL(sc_history_records("{\"a\":1}", 7, &n), 0);
    CU_ASSERT_EQUAL(sc_history_records("42", 2, &n), 0);
    CU_ASSERT_EQUAL(n, 99);
    /* blanks after the value are fine */
    CU_ASSERT_EQUAL(sc_history_records("[]\r\n ", 5, &n), 1);
}

static void test_sc_history_records_finds_the_array_a_tree_would(void)
{
    long n = -1;
    /* serviceHistory wins over values, wherever it comes */
    const char *both = "{\"values\":[1],\"serviceHistory\":[1,2]}";
    CU_ASSERT_EQUAL(sc_history_records(both, strlen(both), &n), 1);
    CU_ASSERT_EQUAL(n, 2);
    /* the first member of a name counts, as in a tree */
    const char *dup = "{\"values\":{},\"values\":[1,2,3]}";
    CU_ASSERT_EQUAL(sc_history_records(dup, strlen(dup), &n), 0);
    const char *dup2 = "{\"values\":[1],\"values\":[1,2,3]}";
    CU_ASSERT_EQUAL(sc_history_records(dup2, strlen(dup2), &n), 1);
    CU_ASSERT_EQUAL(n, 1);
    /* data.values before data.data before data.attributes */
    const char *nest = "{\"data\":{\"attributes\":{\"values\":[1]},"
                       "\"data\":{\"values\":[1,2]}}}";
    CU_ASSERT_EQUAL(sc_history_records(nest, strlen(nest), &n), 1);
    CU_ASSERT_EQUAL(n, 2);
    const char *deep = "{\"data\":{\"data\":{\"attributes\":"
                       "{\"values\":[{\"values\":[]},2,3,[4]]}}}}";
    CU_ASSERT_EQUAL(sc_history_records(deep, strlen(deep), &n), 1);
    CU_ASSERT_EQUAL(n, 4);
    /* attributes of the body itself, or an escaped key, are not read */
    n = 99;
    const char *top = "{\"attributes\":{\"values\":[1]}}";
    CU_ASSERT_EQUAL(sc_history_records(top, strlen(top), &n), 0);
    const char *esc = "{\"\\u0076alues\":[1,2]}";
    CU_ASSERT_EQUAL(sc_history_records(esc, strlen(esc), &n), 1);
    CU_ASSERT_EQUAL(n, 2);
    const char *inner = "{\"data\":{\"serviceHistory\":[1]}}";
    CU_ASSERT_EQUAL(sc_history_records(inner, strlen(inner), &n), 0);
    CU_ASSERT_EQUAL(n, 2);
}

static void test_sc_history_records_checks_the_whole_body(void)
{
    long n = 99;
    /* found early, broken later: still not JSON */
    const char *late = "{\"serviceHistory\":[],\"x\":[1,}";
    CU_ASSERT_EQUAL(sc_history_records(late, strlen(late), &n), -1);
    const char *ctl = "[\"a\tb\"]";
    CU_ASSERT_EQUAL(sc_history_records(ctl, strlen(ctl), &n), -1);
    CU_ASSERT_EQUAL(sc_history_records("[NaN]", 5, &n), -1);
    CU_ASSERT_EQUAL(sc_history_records("[1,]", 4, &n), -1);
    CU_ASSERT_EQUAL(sc_history_records("", 0, &n), -1);
    CU_ASSERT_EQUAL(sc_history_records("[] []", 5, &n), -1);
    /* the length given is the body: a NUL inside ends nothing */
    CU_ASSERT_EQUAL(sc_history_records("[]\0", 3, &n), -1);
    CU_ASSERT_EQUAL(n, 99);
    /* nesting beyond the scanner's depth is refused, not overflowed */
    size_t d = 100000;
    char *b = malloc(2 * d + 1);
    CU_ASSERT_FATAL(b != NULL);
    memset(b, '[', d);
    memset(b + d, ']', d);
    b[2 * d] = '\0';
    CU_ASSERT_EQUAL(sc_history_records(b, 2 * d, &n), -1);
    free(b);
    /* a large array is counted exactly */
    size_t k = 5000;
    b = malloc(2 * k + 2);
    CU_ASSERT_FATAL(b != NULL);
    b[0] = '[';
    for (size_t i = 0; i < k; i++) {
        b[1 + 2 * i] = '0';
        b[2 + 2 * i] = i + 1 < k ? ',' : ']';
    }
    CU_ASSERT_EQUAL(sc_history_records(b, 2 * k + 1, &n), 1);
    CU_ASSERT_EQUAL(n, (long)k);
    free(b);
}

static void test_sc_escape_and_clean_token_keep_urls_and_statuses_safe(void)
{
    char *e = sc_escape("a b/c?d=é");
    CU_ASSERT_STRING_EQUAL(e, "a%20b%2Fc%3Fd%3D%C3%A9");
    free(e);
    e = sc_escape("../v\r\nX: y");
    CU_ASSERT_STRING_EQUAL(e, "..%2Fv%0D%0AX%3A%20y");
    free(e);
    char out[8];
    sc_clean_token("ab,cd\nef-gh", out, sizeof(out), 1);
    CU_ASSERT_STRING_EQUAL(out, "ABCDEF-");
}

/* ---- configuration ---- */

static void test_sc_new_refuses_bad_configuration(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct sc_config c;
    struct eng_err e;

    sc_config_init(&c);
    c.tokens = st;
    c.api_origin = "http://127.0.0.1:9";
    c.api_version = "2";
    CU_ASSERT_PTR_NULL(sc_new(&c, &e));
    CU_ASSERT_EQUAL(e.code, ENG_EUSAGE);

    sc_config_init(&c);
    c.api_origin = "http://127.0.0.1:9";
    CU_ASSERT_PTR_NULL(sc_new(&c, &e)); /* v2 without a token store */
    CU_ASSERT_EQUAL(e.code, ENG_EUSAGE);

    sc_config_init(&c);
    c.tokens = st;
    c.api_origin = "ftp://example.org";
    CU_ASSERT_PTR_NULL(sc_new(&c, &e));
    CU_ASSERT_EQUAL(e.code, ENG_EUSAGE);

    sc_config_init(&c);
    c.tokens = st;
    c.api_origin = "http://127.0.0.1:9";
    c.concurrency = 0;
    CU_ASSERT_PTR_NULL(sc_new(&c, &e));
    c.concurrency = 4;
    c.retries = -1;
    CU_ASSERT_PTR_NULL(sc_new(&c, &e));
    c.retries = 2;
    c.since_day = 20000;
    c.until_day = 19999;
    CU_ASSERT_PTR_NULL(sc_new(&c, &e));
    CU_ASSERT_EQUAL(e.code, ENG_EUSAGE);
    c.until_day = SC_UNTIL_TODAY;
    c.rate = -1;
    CU_ASSERT_PTR_NULL(sc_new(&c, &e));
    c.rate = 0;
    c.unit_system = "furlongs";
    CU_ASSERT_PTR_NULL(sc_new(&c, &e));
    tok_store_free(st);
}

static void test_sc_new_makes_room_for_its_sockets(void)
{
    struct rlimit saved;
    CU_ASSERT_FATAL(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 1200)
        return; /* no room to test in */
    struct rlimit low = saved;
    low.rlim_cur = 256;
    CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &low) == 0);
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct sc_config c;
    struct eng_err e;
    sc_config_init(&c);
    c.tokens = st;
    c.api_origin = "http://127.0.0.1:9";
    c.concurrency = 1024;
    struct sc_client *sc = sc_new(&c, &e);
    CU_ASSERT_PTR_NOT_NULL(sc);
    struct rlimit now;
    CU_ASSERT(getrlimit(RLIMIT_NOFILE, &now) == 0);
    CU_ASSERT(now.rlim_cur >= 1024 + 64);
    sc_free(sc);
    /* a limit high enough already is left alone */
    CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &low) == 0);
    c.concurrency = 16;
    sc = sc_new(&c, &e);
    CU_ASSERT_PTR_NOT_NULL(sc);
    CU_ASSERT(getrlimit(RLIMIT_NOFILE, &now) == 0);
    CU_ASSERT_EQUAL(now.rlim_cur, 256);
    sc_free(sc);
    tok_store_free(st);
    setrlimit(RLIMIT_NOFILE, &saved);
}

static void test_sc_user_agent_names_program_system_and_libcurl(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct sc_config c;
    sc_config_init(&c);
    c.tokens = st;
    c.api_origin = "http://127.0.0.1:9/";
    struct sc_client *sc = sc_new(&c, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    const char *ua = sc_user_agent(sc);
    CU_ASSERT_NSTRING_EQUAL(ua, "svcscore/", 9);
    CU_ASSERT_PTR_NOT_NULL(strstr(ua, " ("));
    CU_ASSERT_PTR_NOT_NULL(strstr(ua, "; "));
    CU_ASSERT_PTR_NOT_NULL(strstr(ua, ") libcurl/"));
    sc_free(sc);
    sc_free(NULL);
    tok_store_free(st);
}

static void test_sc_token_url_appends_the_path_once(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct sc_config c;
    sc_config_init(&c);
    c.tokens = st;
    c.api_origin = "http://127.0.0.1:9";
    c.auth_origin = "http://127.0.0.1:9/";
    struct sc_client *sc = sc_new(&c, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_STRING_EQUAL(sc_token_url(sc), "http://127.0.0.1:9/oauth/token");
    sc_free(sc);
    c.auth_origin = "https://auth.example.org/oauth/token";
    sc = sc_new(&c, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_STRING_EQUAL(sc_token_url(sc),
                           "https://auth.example.org/oauth/token");
    sc_free(sc);
    tok_store_free(st);
}

static CU_TestInfo sc_tests[] = {
    {"envelope reads v2 with object resolution",
     test_sc_envelope_reads_v2_with_object_resolution},
    {"envelope reads every resolution variant",
     test_sc_envelope_reads_every_resolution_variant},
    {"envelope maps v1 errors to v2 types",
     test_sc_envelope_maps_v1_errors_to_v2_types},
    {"envelope reads OAuth errors", test_sc_envelope_reads_oauth_errors},
    {"envelope reads v3 errors", test_sc_envelope_reads_v3_errors},
    {"envelope treats HTML and broken JSON as text",
     test_sc_envelope_treats_html_and_broken_json_as_text},
    {"envelope cleans hostile strings",
     test_sc_envelope_cleans_hostile_strings},
    {"error status uses type and code",
     test_sc_error_status_uses_type_and_code},
    {"error status maps bare HTTP statuses",
     test_sc_error_status_maps_bare_http_statuses},
    {"curl code names are plain", test_sc_curl_code_names_are_plain},
    {"decide follows the retry policy for each answer",
     test_sc_decide_follows_the_retry_policy_for_each_answer},
    {"decide passes Retry-After to vehicle and app limits",
     test_sc_decide_passes_retry_after_to_vehicle_and_app_limits},
    {"decide handles transport failures",
     test_sc_decide_handles_transport_failures},
    {"backoff stays within full-jitter bounds",
     test_sc_backoff_stays_within_full_jitter_bounds},
    {"backoff is repeatable for a seed",
     test_sc_backoff_is_repeatable_for_a_seed},
    {"Retry-After reads seconds and dates",
     test_sc_retry_after_reads_seconds_and_dates},
    {"Retry-After reports a far wait as long, not absent",
     test_sc_retry_after_reports_a_far_wait_as_long_not_absent},
    {"header value matches names case-insensitively",
     test_sc_header_value_matches_names_case_insensitively},
    {"history records accepts the known shapes",
     test_sc_history_records_accepts_the_known_shapes},
    {"history records tells broken from foreign bodies",
     test_sc_history_records_tells_broken_from_foreign_bodies},
    {"history records: the array a tree would find",
     test_sc_history_records_finds_the_array_a_tree_would},
    {"history records: the whole body is checked",
     test_sc_history_records_checks_the_whole_body},
    {"escape and clean_token keep URLs and statuses safe",
     test_sc_escape_and_clean_token_keep_urls_and_statuses_safe},
    {"sc_new refuses bad configuration",
     test_sc_new_refuses_bad_configuration},
    {"user agent names program, system and libcurl",
     test_sc_user_agent_names_program_system_and_libcurl},
    {"sc_new raises the open-file limit its sockets need",
     test_sc_new_makes_room_for_its_sockets},
    {"token URL appends the path once",
     test_sc_token_url_appends_the_path_once},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo test_sc_suites[] = {
    {"sc", suite_init, suite_clean, NULL, NULL, sc_tests},
    CU_SUITE_INFO_NULL,
};
