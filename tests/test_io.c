/* Tests for buf (bounded buffer, CSV fields), out (atomic files) and pipe
 * (ordered parallel map). */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "out.h"
#include "pipe.h"
#include "test_util.h"

static void test_buf_refuses_to_pass_its_limit(void)
{
    struct buf b;
    buf_init(&b, 8);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(buf_adds(&b, "12345", &err), ENG_OK);
    CU_ASSERT_EQUAL(buf_adds(&b, "6789", &err), ENG_ELIMIT);
    CU_ASSERT_EQUAL(b.len, 5);
    CU_ASSERT_STRING_EQUAL(b.data, "12345");
    CU_ASSERT_EQUAL(buf_printf(&b, &err, "%d", 678), ENG_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "12345678");
    buf_reset(&b);
    CU_ASSERT_EQUAL(b.len, 0);
    buf_release(&b);
    buf_release(NULL);
}

static void test_buf_csv_quotes_and_neutralises_formulas(void)
{
    struct buf b;
    buf_init(&b, 1024);
    const char *in[] = {"plain", "a,b", "say \"hi\"", "=1+2", "+x", "-3",
                        "@SUM(A1)", "\tx", "line\nbreak"};
    const char *want[] = {"plain", "\"a,b\"", "\"say \"\"hi\"\"\"", "'=1+2",
                          "'+x", "'-3", "'@SUM(A1)", "'\tx",
                          "\"line\nbreak\""};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        buf_reset(&b);
        CU_ASSERT_EQUAL(buf_csv(&b, in[i], 1, NULL), ENG_OK);
        CU_ASSERT_STRING_EQUAL(b.data, want[i]);
    }
    buf_reset(&b);
    CU_ASSERT_EQUAL(buf_csv(&b, "-3", 0, NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "-3");
    /* a field that does not fit leaves the buffer as it was */
    struct buf small;
    buf_init(&small, 4);
    buf_adds(&small, "ab", NULL);
    CU_ASSERT_EQUAL(buf_csv(&small, "a,b", 1, NULL), ENG_ELIMIT);
    CU_ASSERT_STRING_EQUAL(small.data, "ab");
    buf_release(&small);
    buf_release(&b);
}

static void test_buf_num_formats_for_csv(void)
{
    struct buf b;
    buf_init(&b, 1024);
    buf_num(&b, NAN, NULL);
    CU_ASSERT_EQUAL(b.len, 0);
    buf_num(&b, 42, NULL);
    buf_adds(&b, ",", NULL);
    buf_num(&b, -0.0, NULL);
    buf_adds(&b, ",", NULL);
    buf_num(&b, 1.0 / 3.0, NULL);
    CU_ASSERT_STRING_EQUAL(b.data, "42,0,0.3333333333");
    buf_release(&b);
}

static void test_out_leaves_the_destination_untouched_until_commit(void)
{
    const char *path = "tmp/out_atomic.csv";
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("old\n", f);
    fclose(f);
    struct out_file *o = out_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_EQUAL(out_write(o, "new\n", 4, NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(tu_read_text(path), "old\n");
    CU_ASSERT_EQUAL(out_commit(o, NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(tu_read_text(path), "new\n");

    o = out_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    out_write(o, "half", 4, NULL);
    out_abort(o);
    CU_ASSERT_STRING_EQUAL(tu_read_text(path), "new\n");
    out_abort(NULL);
}

static void test_out_fails_clearly_on_a_missing_folder(void)
{
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(out_open("tmp/no/such/dir/x.csv", &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot create"));
}

/* A pipeline of the numbers 0..n-1, each squared by the workers. */
struct squares {
    size_t n, next, seen;
    size_t fail_at;          /* consume fails at this index, or SIZE_MAX */
    int ordered;
    int freed;
};

static int sq_produce(void *ud, struct buf *in, void **ctx,
                      struct eng_err *err)
{
    struct squares *s = ud;
    if (s->next == s->n)
        return 0;
    int *box = malloc(sizeof(*box));
    if (!box)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    *box = 7;
    *ctx = box;
    int rc = buf_printf(in, err, "%zu", s->next++);
    return rc < 0 ? rc : 1;
}

static int sq_work(void *ud, int worker, const struct pipe_item *it,
                   struct buf *out, struct eng_err *err)
{
    (void)ud;
    (void)worker;
    unsigned long v = strtoul(it->in, NULL, 10);
    /* uneven work, so that batches finish out of order */
    if (v % 97 == 0) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return buf_printf(out, err, "%lu", v * v);
}

static int sq_consume(void *ud, const struct pipe_item *it, const char *out,
                      size_t len, struct eng_err *err)
{
    struct squares *s = ud;
    if (it->index == s->fail_at)
        return eng_err_set(err, ENG_EIO, "stop at %zu", it->index);
    char want[32];
    snprintf(want, sizeof(want), "%zu", s->seen * s->seen);
    if (it->index != s->seen || strlen(want) != len ||
        memcmp(want, out, len) != 0 || *(int *)it->ctx != 7)
        s->ordered = 0;
    s->seen++;
    return ENG_OK;
}

static void sq_free(void *ud, void *ctx)
{
    struct squares *s = ud;
    s->freed++;
    free(ctx);
}

static const struct pipe_ops sq_ops = {
    sq_produce, sq_work, sq_consume, sq_free
};

static void test_pipe_keeps_input_order_for_any_jobs(void)
{
    for (int jobs = 1; jobs <= 4; jobs++) {
        struct squares s = {.n = 5000, .fail_at = (size_t)-1, .ordered = 1};
        CU_ASSERT_EQUAL(pipe_run(&sq_ops, &s, jobs, NULL), ENG_OK);
        CU_ASSERT_EQUAL(s.seen, 5000);
        CU_ASSERT(s.ordered);
        CU_ASSERT_EQUAL(s.freed, 5000);
    }
}

static void test_pipe_handles_empty_input(void)
{
    struct squares s = {.n = 0, .fail_at = (size_t)-1, .ordered = 1};
    CU_ASSERT_EQUAL(pipe_run(&sq_ops, &s, 2, NULL), ENG_OK);
    CU_ASSERT_EQUAL(s.seen, 0);
}

static void test_pipe_stops_on_a_fatal_error_and_frees_everything(void)
{
    struct squares s = {.n = 5000, .fail_at = 1234, .ordered = 1};
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(pipe_run(&sq_ops, &s, 2, &err), ENG_EIO);
    CU_ASSERT_STRING_EQUAL(err.msg, "stop at 1234");
    CU_ASSERT_EQUAL(s.seen, 1234);
    CU_ASSERT_EQUAL((size_t)s.freed, s.next);
    CU_ASSERT_EQUAL(pipe_run(&sq_ops, &s, 0, &err), ENG_EUSAGE);
}

static CU_TestInfo io_tests[] = {
    {"buf refuses to pass its limit", test_buf_refuses_to_pass_its_limit},
    {"buf_csv quotes and neutralises formulas",
     test_buf_csv_quotes_and_neutralises_formulas},
    {"buf_num formats for CSV", test_buf_num_formats_for_csv},
    {"out leaves the destination untouched until commit",
     test_out_leaves_the_destination_untouched_until_commit},
    {"out fails clearly on a missing folder",
     test_out_fails_clearly_on_a_missing_folder},
    {"pipe keeps input order for any jobs",
     test_pipe_keeps_input_order_for_any_jobs},
    {"pipe handles empty input", test_pipe_handles_empty_input},
    {"pipe stops on a fatal error and frees everything",
     test_pipe_stops_on_a_fatal_error_and_frees_everything},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_io_suites[] = {
    {"io", NULL, NULL, NULL, NULL, io_tests},
    CU_SUITE_INFO_NULL
};
