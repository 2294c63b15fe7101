/* Tests of the token store: pairs, refresh protocol, rotation file. */
#include <CUnit/CUnit.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/tok.h"
#include "test_util.h"

static char dir[64];

static int suite_init(void)
{
    mkdir("tmp", 0700);
    snprintf(dir, sizeof(dir), "tmp/tokXXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int suite_clean(void)
{
    return 0;
}

/* A fresh path under the suite's directory (the file is removed). */
static const char *path_for(const char *name)
{
    static char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    unlink(p);
    return p;
}

static void write_file(const char *path, const char *text)
{
    CU_ASSERT_EQUAL_FATAL(tu_write_text(path, text), 0);
}

static const char *const TOKEN_BODY =
    "{\"access_token\":\"at_new_1\",\"token_type\":\"Bearer\","
    "\"expires_in\":7200,\"refresh_token\":\"rt_new_1\"}";

static void test_tok_fingerprint_is_short_stable_and_hides_the_secret(void)
{
    char a[12];
    char b[12];
    char c[12];
    tok_fingerprint("rt_0123456789abcdef0123456789abcdef", a);
    tok_fingerprint("rt_0123456789abcdef0123456789abcdef", b);
    tok_fingerprint("rt_0123456789abcdef0123456789abcdee", c);
    CU_ASSERT_EQUAL(strlen(a), 11);
    CU_ASSERT_NSTRING_EQUAL(a, "tk-", 3);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    CU_ASSERT_PTR_NULL(strstr(a, "0123"));
}

static void test_tok_parse_time_reads_iso_and_unix_seconds(void)
{
    long long t = 0;
    CU_ASSERT_EQUAL(tok_parse_time("2024-05-01T12:00:00Z", &t, NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, 1714564800LL);
    CU_ASSERT_EQUAL(tok_parse_time("2024-05-01T14:00:00+02:00", &t, NULL),
                    ENG_OK);
    CU_ASSERT_EQUAL(t, 1714564800LL);
    CU_ASSERT_EQUAL(tok_parse_time("2024-05-01T12:00Z", &t, NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, 1714564800LL);
    CU_ASSERT_EQUAL(tok_parse_time("2024-05-01T12:00:00.250Z", &t, NULL),
                    ENG_OK);
    CU_ASSERT_EQUAL(t, 1714564800LL);
    CU_ASSERT_EQUAL(tok_parse_time("1714564800", &t, NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, 1714564800LL);
    CU_ASSERT_EQUAL(tok_parse_time("2024-05-01", &t, NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, 1714521600LL);
}

static void test_tok_parse_time_refuses_garbage_and_keeps_output(void)
{
    long long t = 42;
    struct eng_err e;
    CU_ASSERT_EQUAL(tok_parse_time("soon", &t, &e), ENG_EDATA);
    CU_ASSERT_EQUAL(tok_parse_time("2024-02-30T00:00:00Z", &t, NULL),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(tok_parse_time("2024-05-01T25:00:00Z", &t, NULL),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(tok_parse_time("2024-05-01T12:00:00Zjunk", &t, NULL),
                    ENG_EDATA);
    CU_ASSERT_EQUAL(tok_parse_time("", &t, NULL), ENG_EDATA);
    CU_ASSERT_EQUAL(tok_parse_time(NULL, &t, NULL), ENG_EDATA);
    CU_ASSERT_EQUAL(t, 42);
}

static void test_tok_format_time_round_trips(void)
{
    char s[21];
    tok_format_time(1714564801LL, s);
    CU_ASSERT_STRING_EQUAL(s, "2024-05-01T12:00:01Z");
    long long t = 0;
    CU_ASSERT_EQUAL(tok_parse_time(s, &t, NULL), ENG_OK);
    CU_ASSERT_EQUAL(t, 1714564801LL);
}

static void test_tok_register_shares_one_pair_per_refresh_token(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct tok_pair *a = tok_register(st, "at_1", "rt_1", 100, NULL);
    struct tok_pair *b = tok_register(st, "at_1", "rt_1", 100, NULL);
    struct tok_pair *c = tok_register(st, "at_2", "rt_2", 100, NULL);
    struct tok_pair *d = tok_register(st, "at_only", NULL, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_EQUAL(a, b);
    CU_ASSERT_PTR_NOT_EQUAL(a, c);
    CU_ASSERT_PTR_NOT_NULL(d);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(a), "at_1");
    struct tok_stats s;
    tok_store_stats(st, &s);
    CU_ASSERT_EQUAL(s.pairs, 3);
    tok_store_free(st);
}

static void test_tok_register_refuses_a_vehicle_without_tokens(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct eng_err e = {0};
    CU_ASSERT_PTR_NULL(tok_register(st, NULL, "", 0, &e));
    CU_ASSERT_EQUAL(e.code, ENG_EDATA);
    tok_store_free(st);
}

static void test_tok_pair_state_follows_expiry_with_skew(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct tok_pair *p = tok_register(st, "at_1", "rt_1", 1000, NULL);
    struct tok_pair *unknown = tok_register(st, "at_2", "rt_2", 0, NULL);
    struct tok_pair *none = tok_register(st, NULL, "rt_3", 0, NULL);
    struct tok_pair *fixed = tok_register(st, "at_4", NULL, 1000, NULL);
    CU_ASSERT_EQUAL(tok_pair_state(p, 1000 - TOK_EXPIRY_SKEW - 1), TOK_READY);
    CU_ASSERT_EQUAL(tok_pair_state(p, 1000 - TOK_EXPIRY_SKEW), TOK_STALE);
    CU_ASSERT_EQUAL(tok_pair_state(unknown, 1LL << 40), TOK_READY);
    CU_ASSERT_EQUAL(tok_pair_state(none, 0), TOK_STALE);
    /* without a refresh token an expired token is still tried */
    CU_ASSERT_EQUAL(tok_pair_state(fixed, 5000), TOK_READY);
    tok_store_free(st);
}

static void test_tok_refresh_protocol_rotates_once_and_bumps_generation(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct tok_pair *p = tok_register(st, "at_old", "rt_old", 1000, NULL);
    const char *rt = NULL;
    const char *again = NULL;
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(rt, "rt_old");
    CU_ASSERT_EQUAL(tok_pair_state(p, 5000), TOK_REFRESHING);
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &again, NULL), ENG_EUSAGE);
    CU_ASSERT_PTR_NULL(again);
    unsigned g = tok_pair_generation(p);
    CU_ASSERT_EQUAL(tok_refresh_complete(st, p, TOKEN_BODY,
                                         strlen(TOKEN_BODY), 5000, NULL),
                    ENG_OK);
    CU_ASSERT_EQUAL(tok_pair_state(p, 5000), TOK_READY);
    CU_ASSERT_EQUAL(tok_pair_generation(p), g + 1);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(p), "at_new_1");
    CU_ASSERT_EQUAL(tok_pair_expires_at(p), 5000 + 7200);
    /* the new and the old refresh token both name the pair */
    CU_ASSERT_PTR_EQUAL(tok_register(st, NULL, "rt_new_1", 0, NULL), p);
    CU_ASSERT_PTR_EQUAL(tok_register(st, "x", "rt_old", 0, NULL), p);
    tok_store_free(st);
}

static void test_tok_refresh_complete_refuses_bad_bodies(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct tok_pair *p = tok_register(st, "at_old", "rt_secret_old", 1, NULL);
    const char *rt;
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_OK);
    struct eng_err e = {0};
    const char *cut = "{\"access_token\":\"at_n";
    CU_ASSERT_EQUAL(tok_refresh_complete(st, p, cut, strlen(cut), 10, &e),
                    ENG_EJSON);
    CU_ASSERT_PTR_NULL(strstr(e.msg, "rt_secret_old"));
    const char *noat = "{\"refresh_token\":\"rt_x\",\"expires_in\":10}";
    CU_ASSERT_EQUAL(tok_refresh_complete(st, p, noat, strlen(noat), 10, &e),
                    ENG_EDATA);
    const char *badexp = "{\"access_token\":\"a\",\"expires_in\":\"soon\"}";
    CU_ASSERT_EQUAL(tok_refresh_complete(st, p, badexp, strlen(badexp), 10,
                                         &e), ENG_EDATA);
    CU_ASSERT_EQUAL(tok_pair_state(p, 10), TOK_REFRESHING);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(p), "at_old");
    tok_store_free(st);
}

static void test_tok_refresh_fail_gives_every_vehicle_the_status(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct tok_pair *p = tok_register(st, "at", "rt", 1, NULL);
    const char *rt;
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_OK);
    tok_refresh_fail(p, "error:AUTHENTICATION:REFRESH_FAILED");
    CU_ASSERT_EQUAL(tok_pair_state(p, 0), TOK_FAILED);
    CU_ASSERT_STRING_EQUAL(tok_pair_failure(p),
                           "error:AUTHENTICATION:REFRESH_FAILED");
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_EUSAGE);
    /* a vehicle registered later with the same token shares the failure */
    CU_ASSERT_PTR_EQUAL(tok_register(st, "at", "rt", 1, NULL), p);
    tok_store_free(st);
}

static void test_tok_reject_marks_stale_only_for_the_current_generation(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct tok_pair *p = tok_register(st, "at", "rt", 0, NULL);
    unsigned g = tok_pair_generation(p);
    tok_pair_reject(p, g + 7);
    CU_ASSERT_EQUAL(tok_pair_state(p, 0), TOK_READY);
    tok_pair_reject(p, g);
    CU_ASSERT_EQUAL(tok_pair_state(p, 0), TOK_STALE);
    tok_refresh_abandon(p); /* not refreshing: nothing happens */
    CU_ASSERT_EQUAL(tok_pair_state(p, 0), TOK_STALE);

    struct tok_pair *q = tok_register(st, "at_only", NULL, 0, NULL);
    tok_pair_reject(q, tok_pair_generation(q));
    CU_ASSERT_EQUAL(tok_pair_state(q, 0), TOK_FAILED);
    CU_ASSERT_STRING_EQUAL(tok_pair_failure(q), "error:AUTHENTICATION");
    tok_store_free(st);
}

static void test_tok_abandon_returns_a_refreshing_pair_to_stale(void)
{
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct tok_pair *p = tok_register(st, "at", "rt", 1, NULL);
    const char *rt;
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_OK);
    tok_refresh_abandon(p);
    CU_ASSERT_EQUAL(tok_pair_state(p, 100), TOK_STALE);
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_OK);
    tok_store_free(st);
}

static void test_tok_store_persists_rotation_and_next_open_uses_newest(void)
{
    const char *path = path_for("chain.jsonl");
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);

    struct tok_pair *p = tok_register(st, "at_0", "rt_0", 1, NULL);
    const char *rt;
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_OK);
    CU_ASSERT_EQUAL(tok_refresh_complete(st, p, TOKEN_BODY,
                                         strlen(TOKEN_BODY), 1714564800LL,
                                         NULL), ENG_OK);
    const char *text = tu_read_text(path);
    CU_ASSERT_EQUAL(tu_count_lines(text), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"key\":\"rt_0\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"refresh_token\":\"rt_new_1\""));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(text, "\"expires_at\":\"2024-05-01T14:00:00Z\""));
    tok_store_free(st);

    /* a second rotation in another run, registered with the dead token */
    st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    p = tok_register(st, "at_0", "rt_0", 1, NULL);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(p), "at_new_1");
    CU_ASSERT_EQUAL(tok_pair_expires_at(p), 1714564800LL + 7200);
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_OK);
    CU_ASSERT_STRING_EQUAL(rt, "rt_new_1");
    const char *body2 = "{\"access_token\":\"at_new_2\",\"expires_in\":60,"
                        "\"refresh_token\":\"rt_new_2\"}";
    CU_ASSERT_EQUAL(tok_refresh_complete(st, p, body2, strlen(body2), 2000,
                                         NULL), ENG_OK);
    tok_store_free(st);

    st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct tok_stats s;
    tok_store_stats(st, &s);
    CU_ASSERT_EQUAL(s.lines_read, 2);
    CU_ASSERT_EQUAL(s.lines_skipped, 0);
    p = tok_register(st, "at_0", "rt_0", 1, NULL);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(p), "at_new_2");
    /* the intermediate token of the chain finds the same, newest pair */
    CU_ASSERT_PTR_EQUAL(tok_register(st, NULL, "rt_new_1", 0, NULL), p);
    CU_ASSERT_PTR_EQUAL(tok_register(st, NULL, "rt_new_2", 0, NULL), p);
    tok_store_free(st);
}

static void test_tok_store_cuts_a_torn_last_line_and_appends_after_it(void)
{
    const char *path = path_for("torn.jsonl");
    const char *torn = "{\"key\":\"rt_b\",\"access_token\":\"at_b1\",\"refr";
    char text0[256];
    snprintf(text0, sizeof(text0), "%s%s",
             "{\"key\":\"rt_a\",\"access_token\":\"at_a1\","
             "\"refresh_token\":\"rt_a1\",\"expires_at\":\"\"}\n", torn);
    write_file(path, text0);
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct tok_stats s;
    tok_store_stats(st, &s);
    CU_ASSERT_EQUAL(s.lines_read, 1);
    CU_ASSERT_EQUAL(s.lines_skipped, 0);
    CU_ASSERT_EQUAL(s.torn_bytes, strlen(torn));
    struct tok_pair *a = tok_register(st, "at_a", "rt_a", 0, NULL);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(a), "at_a1");
    struct tok_pair *b = tok_register(st, "at_b", "rt_b", 0, NULL);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(b), "at_b");
    const char *rt;
    CU_ASSERT_EQUAL(tok_refresh_begin(b, &rt, NULL), ENG_OK);
    CU_ASSERT_EQUAL(tok_refresh_complete(st, b, TOKEN_BODY,
                                         strlen(TOKEN_BODY), 10, NULL),
                    ENG_OK);
    tok_store_free(st);

    const char *text = tu_read_text(path);
    CU_ASSERT_EQUAL(tu_count_lines(text), 2);
    CU_ASSERT_PTR_NULL(strstr(text, "\"refr{"));
    st = tok_store_open(path, NULL);
    tok_store_stats(st, &s);
    CU_ASSERT_EQUAL(s.lines_read, 2);
    CU_ASSERT_EQUAL(s.torn_bytes, 0);
    b = tok_register(st, "at_b", "rt_b", 0, NULL);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(b), "at_new_1");
    tok_store_free(st);
}

static void test_tok_store_keeps_a_whole_last_record_missing_its_newline(void)
{
    const char *path = path_for("nonl.jsonl");
    write_file(path, "{\"key\":\"rt_a\",\"access_token\":\"at_a1\","
                     "\"refresh_token\":\"rt_a1\",\"expires_at\":\"\"}");
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct tok_pair *a = tok_register(st, "at_a", "rt_a", 0, NULL);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(a), "at_a1");
    tok_store_free(st);
    const char *text = tu_read_text(path);
    CU_ASSERT_EQUAL(tu_count_lines(text), 1);
    CU_ASSERT_EQUAL(text[strlen(text) - 1], '\n');
}

static void test_tok_store_skips_and_counts_unreadable_lines(void)
{
    const char *path = path_for("junk.jsonl");
    write_file(path, "not json at all\n"
                     "{\"key\":\"rt_a\"}\n"
                     "{\"key\":\"rt_a\",\"access_token\":\"at_a1\","
                     "\"refresh_token\":\"rt_a1\",\"expires_at\":\"bad\"}\n"
                     "{\"key\":\"rt_a\",\"access_token\":\"at_a2\","
                     "\"refresh_token\":\"rt_a2\","
                     "\"expires_at\":\"2024-05-01T12:00:00Z\"}\n");
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct tok_stats s;
    tok_store_stats(st, &s);
    CU_ASSERT_EQUAL(s.lines_read, 4);
    CU_ASSERT_EQUAL(s.lines_skipped, 3);
    struct tok_pair *a = tok_register(st, NULL, "rt_a", 0, NULL);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(a), "at_a2");
    CU_ASSERT_EQUAL(tok_pair_expires_at(a), 1714564800LL);
    tok_store_free(st);
}

static void test_tok_store_compacts_superseded_lines(void)
{
    const char *path = path_for("compact.jsonl");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 1; i <= 100; i++)
        fprintf(f, "{\"key\":\"rt_k\",\"access_token\":\"at_%d\","
                   "\"refresh_token\":\"rt_%d\",\"expires_at\":\"\"}\n",
                i, i);
    fclose(f);
    chmod(path, 0600);
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct tok_stats s;
    tok_store_stats(st, &s);
    CU_ASSERT_EQUAL(s.compacted, 1);
    CU_ASSERT_EQUAL(s.pairs, 1);
    struct tok_pair *p = tok_register(st, NULL, "rt_k", 0, NULL);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(p), "at_100");
    tok_store_free(st);
    const char *text = tu_read_text(path);
    CU_ASSERT_EQUAL(tu_count_lines(text), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "rt_100"));
    struct stat sb;
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
}

static void test_tok_store_opens_even_when_compaction_fails(void)
{
    const char *path = path_for("nocompact.jsonl");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 1; i <= 100; i++)
        fprintf(f, "{\"key\":\"rt_k\",\"access_token\":\"at_%d\","
                   "\"refresh_token\":\"rt_%d\",\"expires_at\":\"\"}\n",
                i, i);
    fclose(f);
    /* the temporary file cannot be made: its name is taken by a directory */
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    CU_ASSERT_EQUAL_FATAL(mkdir(tmp, 0700), 0);
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct tok_stats s;
    tok_store_stats(st, &s);
    CU_ASSERT_EQUAL(s.compacted, 0);
    struct tok_pair *p = tok_register(st, NULL, "rt_k", 0, NULL);
    CU_ASSERT_STRING_EQUAL(tok_pair_access(p), "at_100");
    /* and the file still takes rotations */
    const char *rt;
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_OK);
    CU_ASSERT_EQUAL(tok_refresh_complete(st, p, TOKEN_BODY,
                                         strlen(TOKEN_BODY), 10, NULL),
                    ENG_OK);
    tok_store_free(st);
    CU_ASSERT_EQUAL(tu_count_lines(tu_read_text(path)), 101);
    rmdir(tmp);
}

static void test_tok_store_narrows_a_readable_file_to_0600(void)
{
    const char *path = path_for("wide.jsonl");
    write_file(path, "");
    chmod(path, 0644);
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(st);
    tok_store_free(st);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
}

static void test_tok_store_refuses_a_file_locked_by_another_process(void)
{
    const char *path = path_for("locked.jsonl");
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct eng_err e = {0};
        struct tok_store *other = tok_store_open(path, &e);
        int ok = !other && e.code == ENG_EIO && strstr(e.msg, "in use");
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    tok_store_free(st);
}

static void test_tok_store_cannot_open_a_path_in_a_missing_directory(void)
{
    struct eng_err e = {0};
    CU_ASSERT_PTR_NULL(tok_store_open("tmp/no/such/dir/store.jsonl", &e));
    CU_ASSERT_EQUAL(e.code, ENG_EIO);
}

/*
 * A write that fails (file size limit) must fail the pair and drop the new
 * tokens: they are never used unless they are on disk.  Run in a child, as
 * the limit is process-wide.
 */
static void test_tok_failed_write_drops_new_tokens_and_fails_the_pair(void)
{
    const char *path = path_for("full.jsonl");
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct tok_store *st = tok_store_open(path, NULL);
        if (!st)
            _exit(2);
        struct rlimit rl = {10, 10};
        setrlimit(RLIMIT_FSIZE, &rl);
        struct tok_pair *p = tok_register(st, "at_0", "rt_0", 1, NULL);
        const char *rt;
        struct eng_err e = {0};
        tok_refresh_begin(p, &rt, NULL);
        int rc = tok_refresh_complete(st, p, TOKEN_BODY, strlen(TOKEN_BODY),
                                      5, &e);
        int ok = rc == ENG_EIO && tok_pair_state(p, 5) == TOK_FAILED
                 && strcmp(tok_pair_failure(p),
                           "error:AUTHENTICATION:TOKEN_STORE") == 0
                 && strcmp(tok_pair_access(p), "at_0") == 0
                 && !strstr(e.msg, "rt_") && !strstr(e.msg, "at_");
        tok_store_free(st);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_tok_header_safe_takes_visible_ascii_only(void)
{
    CU_ASSERT_EQUAL(tok_header_safe("at_0123-abc.DEF~!/+="), 1);
    CU_ASSERT_EQUAL(tok_header_safe("at\r\nX-Injected: yes"), 0);
    CU_ASSERT_EQUAL(tok_header_safe("a b"), 0);
    CU_ASSERT_EQUAL(tok_header_safe("a\tb"), 0);
    CU_ASSERT_EQUAL(tok_header_safe("a\x7f"), 0);
    CU_ASSERT_EQUAL(tok_header_safe("caf\xc3\xa9"), 0);
    CU_ASSERT_EQUAL(tok_header_safe(""), 0);
    CU_ASSERT_EQUAL(tok_header_safe(NULL), 0);
    struct tok_store *st = tok_store_open(NULL, NULL);
    struct tok_pair *good = tok_register(st, "AT-1", "RT-1", 0, NULL);
    struct tok_pair *bad = tok_register(st, "AT-2", "RT-2\n", 0, NULL);
    struct tok_pair *noat = tok_register(st, NULL, "RT-3", 0, NULL);
    CU_ASSERT_EQUAL(tok_pair_header_safe(good), 1);
    CU_ASSERT_EQUAL(tok_pair_header_safe(bad), 0);
    CU_ASSERT_EQUAL(tok_pair_header_safe(noat), 1);
    tok_store_free(st);
}

static void test_tok_refresh_with_crlf_token_fails_and_stores_nothing(void)
{
    char path[] = "tmp/tokcrlfXXXXXX";
    mkdir("tmp", 0700);
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    struct tok_store *st = tok_store_open(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct tok_pair *p = tok_register(st, "AT-old", "RT-old", 1, NULL);
    const char *rt;
    CU_ASSERT_EQUAL(tok_refresh_begin(p, &rt, NULL), ENG_OK);
    static const char body[] = "{\"access_token\":\"at\\r\\nX-Injected: "
                               "yes\",\"expires_in\":7200,"
                               "\"refresh_token\":\"rt-new\"}";
    struct eng_err e = {0};
    CU_ASSERT_EQUAL(tok_refresh_complete(st, p, body, strlen(body), 100, &e),
                    ENG_EHTTP);
    CU_ASSERT_EQUAL(tok_pair_state(p, 100), TOK_FAILED);
    CU_ASSERT_STRING_EQUAL(tok_pair_failure(p),
                           "error:AUTHENTICATION:BAD_TOKEN_RESPONSE");
    CU_ASSERT_STRING_EQUAL(tok_pair_access(p), "AT-old");
    CU_ASSERT_PTR_NULL(strstr(e.msg, "Injected"));
    tok_store_free(st);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_size, 0);
    unlink(path);
}

static void test_eng_wipe_zeroes_every_byte(void)
{
    char secret[] = "rt_0123456789abcdef";
    size_t n = strlen(secret);
    eng_wipe(secret, n);
    for (size_t i = 0; i < sizeof(secret); i++)
        CU_ASSERT_EQUAL(secret[i], 0);
    char keep[] = "abcd";
    eng_wipe(keep, 2);
    CU_ASSERT_EQUAL(keep[1], 0);
    CU_ASSERT_EQUAL(keep[2], 'c');
    eng_wipe(NULL, 0);
}

static CU_TestInfo tok_tests[] = {
    {"fingerprint is short, stable and hides the secret",
     test_tok_fingerprint_is_short_stable_and_hides_the_secret},
    {"parse_time reads ISO and Unix seconds",
     test_tok_parse_time_reads_iso_and_unix_seconds},
    {"parse_time refuses garbage and keeps output",
     test_tok_parse_time_refuses_garbage_and_keeps_output},
    {"format_time round-trips", test_tok_format_time_round_trips},
    {"register shares one pair per refresh token",
     test_tok_register_shares_one_pair_per_refresh_token},
    {"register refuses a vehicle without tokens",
     test_tok_register_refuses_a_vehicle_without_tokens},
    {"pair state follows expiry with skew",
     test_tok_pair_state_follows_expiry_with_skew},
    {"refresh protocol rotates once and bumps generation",
     test_tok_refresh_protocol_rotates_once_and_bumps_generation},
    {"refresh_complete rejects bad bodies and stays refreshing",
     test_tok_refresh_complete_refuses_bad_bodies},
    {"refresh_fail gives every vehicle the status",
     test_tok_refresh_fail_gives_every_vehicle_the_status},
    {"reject marks stale only for the current generation",
     test_tok_reject_marks_stale_only_for_the_current_generation},
    {"abandon returns a refreshing pair to stale",
     test_tok_abandon_returns_a_refreshing_pair_to_stale},
    {"store persists rotation and next open uses newest",
     test_tok_store_persists_rotation_and_next_open_uses_newest},
    {"store cuts a torn last line and appends after it",
     test_tok_store_cuts_a_torn_last_line_and_appends_after_it},
    {"store keeps a whole last record missing its newline",
     test_tok_store_keeps_a_whole_last_record_missing_its_newline},
    {"store skips and counts unreadable lines",
     test_tok_store_skips_and_counts_unreadable_lines},
    {"store compacts superseded lines",
     test_tok_store_compacts_superseded_lines},
    {"store opens even when compaction fails",
     test_tok_store_opens_even_when_compaction_fails},
    {"store narrows a readable file to 0600",
     test_tok_store_narrows_a_readable_file_to_0600},
    {"store refuses a file locked by another process",
     test_tok_store_refuses_a_file_locked_by_another_process},
    {"store cannot open a path in a missing directory",
     test_tok_store_cannot_open_a_path_in_a_missing_directory},
    {"failed write drops new tokens and fails the pair",
     test_tok_failed_write_drops_new_tokens_and_fails_the_pair},
    {"header_safe takes visible ASCII only",
     test_tok_header_safe_takes_visible_ascii_only},
    {"refresh with a CR/LF token fails and stores nothing",
     test_tok_refresh_with_crlf_token_fails_and_stores_nothing},
    {"eng_wipe zeroes every byte", test_eng_wipe_zeroes_every_byte},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo test_tok_suites[] = {
    {"tok", suite_init, suite_clean, NULL, NULL, tok_tests},
    CU_SUITE_INFO_NULL,
};
