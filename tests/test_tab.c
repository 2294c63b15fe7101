/* Tests for tab: the CSV driver, lenient and with per-row recovery. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tab.h"

#define TMP_DIR "tmp"

static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[256];
    mkdir(TMP_DIR, 0777);
    snprintf(path, sizeof(path), TMP_DIR "/%s", name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(text, 1, len, f), len);
    CU_ASSERT_EQUAL(fclose(f), 0);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

/*
 * Reads every row of path in recover mode and describes each as
 * "line:first field:error|", so one string compare checks a whole file.
 */
static void describe(const char *path, char *out, size_t n)
{
    struct tab_opts o = {.recover = 1, .max_field = 100};
    struct eng_err err = {0};
    struct tab *t = tab_open_with(path, &o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    size_t used = 0;
    out[0] = '\0';
    const char *const *f;
    int rc;
    while ((rc = tab_next(t, &f, &err)) == 1) {
        const char *e = tab_row_error(t);
        used += (size_t)snprintf(out + used, n - used, "%ld:%s:%s|",
                                 tab_row_line(t), f[0],
                                 e ? (strstr(e, "quote inside") ? "quote"
                                      : strstr(e, "not closed") ? "open"
                                      : strstr(e, "longer") ? "long"
                                      : strstr(e, "NUL") ? "nul" : e)
                                   : "");
        CU_ASSERT_FATAL(used < n);
    }
    CU_ASSERT_EQUAL(rc, 0);
    tab_close(t);
}

static void test_tab_lenient_mode_takes_a_stray_quote_as_text(void)
{
    const char *path = write_text("lenient.csv", "a,b\nx,y\"z\n\n1,2\n");
    struct eng_err err = {0};
    struct tab *t = tab_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    const char *const *f;
    CU_ASSERT_EQUAL(tab_next(t, &f, &err), 1);
    CU_ASSERT_STRING_EQUAL(f[1], "y\"z");
    CU_ASSERT_PTR_NULL(tab_row_error(t));
    CU_ASSERT_EQUAL(tab_next(t, &f, &err), 1);
    CU_ASSERT_STRING_EQUAL(f[0], "1");
    CU_ASSERT_EQUAL(tab_line(t), 4);
    CU_ASSERT_EQUAL(tab_next(t, &f, &err), 0);
    tab_close(t);
}

static void test_tab_counts_physical_lines_across_quoted_breaks(void)
{
    char got[512];
    describe(write_text("lines.csv",
        "h,i\r\n"
        "a,\"one\r\ntwo\"\r\n"
        "b,\"x\ry\"\r"
        "c,\"\n\n\"\n"
        "\n"
        "d,1"), got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "2:a:|4:b:|6:c:|10:d:|");
}

static void test_tab_recovers_each_malformed_row(void)
{
    char got[512];
    describe(write_text("bad.csv",
        "h,i\n"
        "a,b\"c\n"          /* a quote inside an unquoted field */
        "\"b\"x,1\n"        /* text after a closing quote */
        "c,\"open\n"        /* a quote opened by mistake ... */
        "d,2\n"             /* ... swallows no other row */
        "e,\"ok\nok\"\n"
        "f,\"never closed\n"
        "g,3"), got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "2:a:quote|3:b:quote|4:c:quote|5:d:|"
                                "6:e:|8:f:open|9:g:|");
}

static void test_tab_recovers_a_fault_split_across_reads(void)
{
    /* a 100 KB line with a stray quote in its first read chunk */
    size_t big = 100000;
    const char *head = "h,i\nx,y\"";
    const char *tail = "\nz,1\n";
    size_t len = strlen(head) + big + strlen(tail);
    char *text = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    memcpy(text, head, strlen(head));
    memset(text + strlen(head), 'q', big);
    memcpy(text + strlen(head) + big, tail, strlen(tail));
    char got[256];
    describe(write_file("split.csv", text, len), got, sizeof(got));
    free(text);
    CU_ASSERT_STRING_EQUAL(got, "2:x:quote|3:z:|");
}

static void test_tab_gives_limits_and_nul_bytes_their_row(void)
{
    char text[512];
    size_t len = (size_t)snprintf(text, sizeof(text), "h,i\nlong,%0150d\n"
                                  "n,a", 0);
    text[len++] = '\0';
    len += (size_t)snprintf(text + len, sizeof(text) - len, "b\nok,1\n");
    char got[256];
    describe(write_file("limits.csv", text, len), got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "2:long:long|3:n:nul|4:ok:|");
}

static void test_tab_fails_on_a_header_it_cannot_read(void)
{
    struct tab_opts o = {.recover = 1, .max_fields = 2};
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(tab_open_with(write_text("h1.csv", "a,\"b\nc\n"),
                                     &o, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ECSV);
    CU_ASSERT_PTR_NULL(tab_open_with(write_text("h2.csv", "a,b,c\n"), &o,
                                     &err));
    CU_ASSERT_EQUAL(err.code, ENG_ELIMIT);
    CU_ASSERT_PTR_NULL(tab_open_with("tmp/no-such.csv", &o, &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    CU_ASSERT_PTR_NULL(tab_open_with(write_text("h3.csv", "\xEF\xBB\xBF\n"),
                                     &o, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ECSV);
}

static void test_tab_skips_a_bom_before_a_quoted_header(void)
{
    struct tab_opts o = {.recover = 1};
    struct eng_err err = {0};
    struct tab *t = tab_open_with(write_text("bom.csv",
                                             "\xEF\xBB\xBF\"vin\",x\n1,2\n"),
                                  &o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(tab_col(t, "vin"), 0);
    tab_close(t);
}

static CU_TestInfo tab_tests[] = {
    {"lenient mode takes a stray quote as text",
     test_tab_lenient_mode_takes_a_stray_quote_as_text},
    {"counts physical lines across quoted breaks",
     test_tab_counts_physical_lines_across_quoted_breaks},
    {"recovers each malformed row", test_tab_recovers_each_malformed_row},
    {"recovers a fault split across reads",
     test_tab_recovers_a_fault_split_across_reads},
    {"gives limits and NUL bytes their row",
     test_tab_gives_limits_and_nul_bytes_their_row},
    {"fails on a header it cannot read",
     test_tab_fails_on_a_header_it_cannot_read},
    {"skips a BOM before a quoted header",
     test_tab_skips_a_bom_before_a_quoted_header},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_tab_suites[] = {
    {"tab", NULL, NULL, NULL, NULL, tab_tests},
    CU_SUITE_INFO_NULL
};
