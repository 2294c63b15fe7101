/* Tests for buf (bounded buffer, CSV fields), out (atomic files) and pipe
 * (ordered parallel map). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

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
    const char *in[] = {"plain", "a,b", "say \"hi\"", "=1+2", "+x", "-3x",
                        "@SUM(A1)", "\tx", "line\nbreak", "-", "+.", "-1e",
                        "-1-1", "- 1", "-1,5", "\t42", "=42"};
    const char *want[] = {"plain", "\"a,b\"", "\"say \"\"hi\"\"\"", "'=1+2",
                          "'+x", "'-3x", "'@SUM(A1)", "'\tx",
                          "\"line\nbreak\"", "'-", "'+.", "'-1e", "'-1-1",
                          "'- 1", "\"'-1,5\"", "'\t42", "'=42"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        buf_reset(&b);
        CU_ASSERT_EQUAL(buf_csv(&b, in[i], 1, NULL), ENG_OK);
        CU_ASSERT_STRING_EQUAL(b.data, want[i]);
    }
    /* a field that is entirely a number is data, not a formula */
    const char *numbers[] = {"-0042", "+1.5", "-3e2", "-3", "+0", "-.5",
                             "-7.", "+2E-3", "-1e+9", "0042"};
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        buf_reset(&b);
        CU_ASSERT_EQUAL(buf_csv(&b, numbers[i], 1, NULL), ENG_OK);
        CU_ASSERT_STRING_EQUAL(b.data, numbers[i]);
    }
    /* without the guard nothing is prefixed; quoting still applies */
    buf_reset(&b);
    CU_ASSERT_EQUAL(buf_csv(&b, "=1+2", 0, NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "=1+2");
    buf_reset(&b);
    CU_ASSERT_EQUAL(buf_csv(&b, "@a,b", 0, NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "\"@a,b\"");
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

/* Reads a FIFO or an accepted socket to its end, in a thread of its own. */
struct reader {
    const char *path;      /* a FIFO to open, or NULL */
    int fd;                /* else a listening socket to accept on */
    char text[256];
    size_t len;
};

static void *read_all(void *arg)
{
    struct reader *r = arg;
    /*
     * Non-blocking with a time-out, so that a writer that never comes (the
     * FIFO replaced by a file) fails the test instead of hanging it; Linux
     * reports no hang-up on a FIFO before its first writer.
     */
    int fd = r->path ? open(r->path, O_RDONLY | O_NONBLOCK)
                     : accept(r->fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 10000) <= 0)
            break;
        ssize_t n = read(fd, r->text + r->len, sizeof(r->text) - 1 - r->len);
        if (n < 0 && errno == EAGAIN)
            continue;
        if (n <= 0)
            break;
        r->len += (size_t)n;
    }
    r->text[r->len] = '\0';
    close(fd);
    return NULL;
}

/* Writes text through out and commits; ENG_OK or the failure. */
static int out_text(const char *path, const char *text,
                    struct eng_err *err)
{
    struct out_file *o = out_open(path, err);
    if (!o)
        return err->code;
    int rc = out_write(o, text, strlen(text), err);
    if (rc < 0) {
        out_abort(o);
        return rc;
    }
    return out_commit(o, err);
}

/* Files in tmp/ whose name starts with prefix (leftover temporary files). */
static int count_prefixed(const char *prefix)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls tmp | grep -c '^%s' 2>/dev/null", prefix);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

static void test_out_writes_a_fifo_directly(void)
{
    const char *path = "tmp/out_fifo";
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
    struct reader r = {.path = path};
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, read_all, &r), 0);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(out_text(path, "row 1\nrow 2\n", &err), ENG_OK);
    pthread_join(t, NULL);
    CU_ASSERT_STRING_EQUAL(r.text, "row 1\nrow 2\n");
    struct stat sb;
    CU_ASSERT_EQUAL(lstat(path, &sb), 0);
    CU_ASSERT(S_ISFIFO(sb.st_mode));
    CU_ASSERT_EQUAL(count_prefixed("out_fifo.tmp"), 0);
    unlink(path);
}

static void test_out_leaves_a_character_device_a_device(void)
{
    /* /dev/null itself, and /dev/zero, which also discards what it gets */
    const char *devs[] = {"/dev/null", "/dev/zero"};
    int tried = 0;
    for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
        struct stat before, after;
        if (stat(devs[i], &before) != 0 || !S_ISCHR(before.st_mode))
            continue;
        tried++;
        struct eng_err err = {0};
        CU_ASSERT_EQUAL(out_text(devs[i], "vin,score\nX,1\n", &err), ENG_OK);
        CU_ASSERT_EQUAL_FATAL(lstat(devs[i], &after), 0);
        CU_ASSERT(S_ISCHR(after.st_mode));
        CU_ASSERT_EQUAL(after.st_rdev, before.st_rdev);
        CU_ASSERT_EQUAL(after.st_ino, before.st_ino);
    }
    CU_ASSERT(tried > 0);
    /* a device that fails a write fails the output, and stays a device */
    struct stat sb;
    if (stat("/dev/full", &sb) == 0 && S_ISCHR(sb.st_mode)) {
        struct eng_err err = {0};
        CU_ASSERT_EQUAL(out_text("/dev/full", "x\n", &err), ENG_EIO);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/dev/full"));
        CU_ASSERT_EQUAL(lstat("/dev/full", &sb), 0);
        CU_ASSERT(S_ISCHR(sb.st_mode));
    }
}

static void test_out_replaces_the_file_a_symlink_points_to(void)
{
    const char *target = "tmp/out_link_target.csv";
    const char *link = "tmp/out_link.csv";
    const char *link2 = "tmp/out_link2.csv";
    unlink(link);
    unlink(link2);
    FILE *f = fopen(target, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("old\n", f);
    fclose(f);
    chmod(target, 0600);
    /* relative links, one through the other */
    CU_ASSERT_EQUAL_FATAL(symlink("out_link_target.csv", link), 0);
    CU_ASSERT_EQUAL_FATAL(symlink("out_link.csv", link2), 0);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(out_text(link2, "new\n", &err), ENG_OK);
    struct stat sb;
    CU_ASSERT_EQUAL(lstat(link, &sb), 0);
    CU_ASSERT(S_ISLNK(sb.st_mode));
    CU_ASSERT_EQUAL(lstat(link2, &sb), 0);
    CU_ASSERT(S_ISLNK(sb.st_mode));
    CU_ASSERT_STRING_EQUAL(tu_read_text(target), "new\n");
    CU_ASSERT_EQUAL(lstat(target, &sb), 0);
    CU_ASSERT(S_ISREG(sb.st_mode));
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
    /* a dangling link: the file it names is created, the link stays */
    unlink(target);
    CU_ASSERT_EQUAL(out_text(link, "made\n", &err), ENG_OK);
    CU_ASSERT_EQUAL(lstat(link, &sb), 0);
    CU_ASSERT(S_ISLNK(sb.st_mode));
    CU_ASSERT_STRING_EQUAL(tu_read_text(target), "made\n");
    /* a loop of links is refused */
    unlink(link2);
    unlink(link);
    CU_ASSERT_EQUAL_FATAL(symlink("out_link2.csv", link), 0);
    CU_ASSERT_EQUAL_FATAL(symlink("out_link.csv", link2), 0);
    CU_ASSERT_EQUAL(out_text(link, "x\n", &err), ENG_EIO);
    CU_ASSERT_EQUAL(lstat(link, &sb), 0);
    CU_ASSERT(S_ISLNK(sb.st_mode));
    unlink(link2);
    unlink(link);
    unlink(target);
}

static void test_out_writes_a_unix_socket_directly(void)
{
    const char *path = "tmp/out_sock";
    unlink(path);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(ls >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    CU_ASSERT_EQUAL_FATAL(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CU_ASSERT_EQUAL_FATAL(listen(ls, 1), 0);
    struct reader r = {.fd = ls};
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, read_all, &r), 0);
    struct eng_err err = {0};
    CU_ASSERT_EQUAL(out_text(path, "a,b\n", &err), ENG_OK);
    pthread_join(t, NULL);
    close(ls);
    CU_ASSERT_STRING_EQUAL(r.text, "a,b\n");
    struct stat sb;
    CU_ASSERT_EQUAL(lstat(path, &sb), 0);
    CU_ASSERT(S_ISSOCK(sb.st_mode));
    unlink(path);
}

/* Writes text to path, a file made for out_install() to put in place. */
static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_out_install_renames_a_file_as_commit_would(void)
{
    const char *src = "tmp/out_inst.partial";
    const char *dst = "tmp/out_inst.jsonl";
    const char *link = "tmp/out_inst_link.jsonl";
    struct eng_err err = {0};
    struct stat sb, lb;
    unlink(dst);
    unlink(link);
    /* a new file: renamed, 0644 whatever the source's mode */
    write_file(src, "a\n");
    chmod(src, 0600);
    CU_ASSERT_EQUAL_FATAL(stat(src, &sb), 0);
    CU_ASSERT_EQUAL(out_install(src, dst, OUT_GZIP_BY_NAME, &err), ENG_OK);
    CU_ASSERT_EQUAL(access(src, F_OK), -1);
    CU_ASSERT_STRING_EQUAL(tu_read_text(dst), "a\n");
    CU_ASSERT_EQUAL(stat(dst, &lb), 0);
    CU_ASSERT_EQUAL(lb.st_ino, sb.st_ino);      /* not a copy */
    CU_ASSERT_EQUAL(lb.st_mode & 0777, 0644);
    /* a replaced file keeps its permissions */
    chmod(dst, 0600);
    write_file(src, "b\n");
    CU_ASSERT_EQUAL(out_install(src, dst, 0, &err), ENG_OK);
    CU_ASSERT_STRING_EQUAL(tu_read_text(dst), "b\n");
    CU_ASSERT_EQUAL(stat(dst, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
    /* through a link: the target is replaced, the link stays a link */
    CU_ASSERT_EQUAL_FATAL(symlink("out_inst.jsonl", link), 0);
    write_file(src, "c\n");
    CU_ASSERT_EQUAL(out_install(src, link, 0, &err), ENG_OK);
    CU_ASSERT_EQUAL(lstat(link, &sb), 0);
    CU_ASSERT(S_ISLNK(sb.st_mode));
    CU_ASSERT_STRING_EQUAL(tu_read_text(dst), "c\n");
    /* what a rename cannot do is left to out_open(), src untouched */
    write_file(src, "d\n");
    CU_ASSERT_EQUAL(out_install(src, "-", 0, &err), 1);
    CU_ASSERT_EQUAL(out_install(src, "tmp/out_inst.jsonl.gz",
                                OUT_GZIP_BY_NAME, &err), 1);
    CU_ASSERT_EQUAL(out_install(src, dst, OUT_GZIP, &err), 1);
    if (stat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode)) {
        CU_ASSERT_EQUAL(out_install(src, "/dev/null", 0, &err), 1);
        CU_ASSERT_EQUAL(stat("/dev/null", &lb), 0);
        CU_ASSERT(S_ISCHR(lb.st_mode));
    }
    CU_ASSERT_EQUAL(out_install(src, "tmp", 0, &err), 1);   /* a folder */
    /* a link to another file system, where rename() cannot go */
    struct stat here, there;
    const char *far = "/dev/shm/svcscore_out_inst.jsonl";
    if (stat("tmp", &here) == 0 && stat("/dev/shm", &there) == 0
        && here.st_dev != there.st_dev) {
        unlink(link);
        CU_ASSERT_EQUAL_FATAL(symlink(far, link), 0);
        CU_ASSERT_EQUAL(out_install(src, link, 0, &err), 1);
        CU_ASSERT_EQUAL(access(far, F_OK), -1);
        unlink(far);
    }
    CU_ASSERT_STRING_EQUAL(tu_read_text(src), "d\n");
    CU_ASSERT_STRING_EQUAL(tu_read_text(dst), "c\n");
    unlink(src);
    unlink(link);
    unlink(dst);
}

static void test_out_refuses_a_folder(void)
{
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(out_open("tmp", &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "folder"));
}

static void test_out_gzip_by_name_round_trips(void)
{
    /* enough text for several deflate output chunks */
    struct buf text;
    buf_init(&text, 1 << 24);
    for (int i = 0; i < 60000; i++)
        buf_printf(&text, NULL, "{\"vin\":\"V%07d\",\"n\":%d}\n", i, i * 7);
    struct eng_err err = {0};
    const char *path = "tmp/out_gz.jsonl.gz";
    struct out_file *o = out_open_flags(path, OUT_GZIP_BY_NAME, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    /* in two writes, to cross a write boundary */
    CU_ASSERT_EQUAL(out_write(o, text.data, 1000, &err), ENG_OK);
    CU_ASSERT_EQUAL(out_write(o, text.data + 1000, text.len - 1000, &err),
                    ENG_OK);
    CU_ASSERT_EQUAL_FATAL(out_commit(o, &err), ENG_OK);
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    unsigned char magic[2] = {0, 0};
    CU_ASSERT_EQUAL(fread(magic, 1, 2, f), 2);
    fclose(f);
    CU_ASSERT(magic[0] == 0x1f && magic[1] == 0x8b);
    gzFile gz = gzopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
    char *back = malloc(text.len + 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    int n = gzread(gz, back, (unsigned)text.len + 16);
    gzclose(gz);
    CU_ASSERT_EQUAL((size_t)n, text.len);
    CU_ASSERT(n > 0 && memcmp(back, text.data, text.len) == 0);
    free(back);
    /* the same flag and a plain name: plain text */
    o = out_open_flags("tmp/out_plain.jsonl", OUT_GZIP_BY_NAME, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    out_write(o, "{}\n", 3, &err);
    CU_ASSERT_EQUAL(out_commit(o, &err), ENG_OK);
    CU_ASSERT_STRING_EQUAL(tu_read_text("tmp/out_plain.jsonl"), "{}\n");
    buf_release(&text);
}

/* A pipeline of the numbers 0..n-1, each squared by the workers. */
struct squares {
    size_t n, next, seen;
    size_t fail_at;          /* consume fails at this index, or SIZE_MAX */
    int ordered;
    int typed;               /* every status, count and note as sent */
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
                   struct pipe_out *out, struct eng_err *err)
{
    (void)ud;
    (void)worker;
    unsigned long v = strtoul(it->in, NULL, 10);
    /* uneven work, so that batches finish out of order */
    if (v % 97 == 0) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    /* the typed result: a status, counters and a note beside the bytes */
    out->status = (int)(v % 3);
    out->count[0] = v;
    out->count[PIPE_COUNTS - 1] = v + 1;
    if (v % 10 == 0 && buf_printf(out->note, err, "note %lu", v) < 0)
        return ENG_ENOMEM;
    return buf_printf(out->data, err, "%lu", v * v);
}

static int sq_consume(void *ud, const struct pipe_item *it,
                      const struct pipe_done *d, struct eng_err *err)
{
    struct squares *s = ud;
    if (it->index == s->fail_at)
        return eng_err_set(err, ENG_EIO, "stop at %zu", it->index);
    char want[32];
    snprintf(want, sizeof(want), "%zu", s->seen * s->seen);
    if (it->index != s->seen || strlen(want) != d->len ||
        memcmp(want, d->data, d->len) != 0 || *(int *)it->ctx != 7)
        s->ordered = 0;
    char note[32] = "";
    if (s->seen % 10 == 0)
        snprintf(note, sizeof(note), "note %zu", s->seen);
    if (d->status != (int)(s->seen % 3) || d->count[0] != s->seen ||
        d->count[1] != 0 || d->count[PIPE_COUNTS - 1] != s->seen + 1 ||
        strcmp(d->note, note) != 0 || d->note_len != strlen(note))
        s->typed = 0;
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

static void test_pipe_keeps_input_order_and_results_for_any_jobs(void)
{
    for (int jobs = 1; jobs <= 4; jobs++) {
        struct squares s = {.n = 5000, .fail_at = (size_t)-1, .ordered = 1,
                            .typed = 1};
        CU_ASSERT_EQUAL(pipe_run(&sq_ops, &s, jobs, NULL), ENG_OK);
        CU_ASSERT_EQUAL(s.seen, 5000);
        CU_ASSERT(s.ordered);
        CU_ASSERT(s.typed);
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
    {"out writes a FIFO directly", test_out_writes_a_fifo_directly},
    {"out leaves a character device a device",
     test_out_leaves_a_character_device_a_device},
    {"out replaces the file a symlink points to",
     test_out_replaces_the_file_a_symlink_points_to},
    {"out writes a Unix socket directly",
     test_out_writes_a_unix_socket_directly},
    {"out refuses a folder", test_out_refuses_a_folder},
    {"out_install renames a file as commit would",
     test_out_install_renames_a_file_as_commit_would},
    {"out gzip by name round-trips", test_out_gzip_by_name_round_trips},
    {"pipe keeps input order and results for any jobs",
     test_pipe_keeps_input_order_and_results_for_any_jobs},
    {"pipe handles empty input", test_pipe_handles_empty_input},
    {"pipe stops on a fatal error and frees everything",
     test_pipe_stops_on_a_fatal_error_and_frees_everything},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_io_suites[] = {
    {"io", NULL, NULL, NULL, NULL, io_tests},
    CU_SUITE_INFO_NULL
};
