/* Tests for veh: VIN checks and the streaming vehicle-list reader. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ptrain.h"
#include "veh.h"

#define TMP_DIR "tmp"

/* Writes len bytes of text to tmp/<name> and returns the path (static). */
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

/* Reads every row of path into rows[] (at most max); returns the count. */
static int read_all(const char *path, struct veh_row *rows, int max)
{
    struct eng_err err = {0};
    struct veh_reader *r = veh_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    int n = 0;
    struct veh_row row = VEH_ROW_INIT;
    int rc = veh_next(r, &row, &err);
    for (; rc == 1; rc = veh_next(r, &row, &err)) {
        CU_ASSERT_FATAL(n < max);
        rows[n] = row;
        memset(&row, 0, sizeof(row));
        n++;
    }
    CU_ASSERT_EQUAL(rc, 0);
    veh_close(r);
    return n;
}

static void release_all(struct veh_row *rows, int n)
{
    for (int i = 0; i < n; i++)
        veh_row_release(&rows[i]);
}

/* ---------------- VIN checks ---------------- */

static void test_veh_check_digit_matches_known_vins(void)
{
    CU_ASSERT_EQUAL(veh_vin_check_digit("1HGCM82633A004352"), '3');
    CU_ASSERT_EQUAL(veh_vin_check_digit("11111111111111111"), '1');
    CU_ASSERT_EQUAL(veh_vin_check_digit("1M8GDM9AXKP042788"), 'X');
    /* position 9 does not take part in its own computation */
    CU_ASSERT_EQUAL(veh_vin_check_digit("1M8GDM9A0KP042788"), 'X');
    CU_ASSERT_EQUAL(veh_vin_check_digit("JH4KA8260MC000000"), '8');
    CU_ASSERT_EQUAL(veh_vin_check_digit("1HGCM82633A00435"), '\0');
    CU_ASSERT_EQUAL(veh_vin_check_digit("1HGCM82633A0043520"), '\0');
    CU_ASSERT_EQUAL(veh_vin_check_digit("1HGCM82633I004352"), '\0');
    CU_ASSERT_EQUAL(veh_vin_check_digit("1hgcm82633a004352"), '\0');
    CU_ASSERT_EQUAL(veh_vin_check_digit(NULL), '\0');
}

static void test_veh_vin_check_accepts_valid_vins(void)
{
    char why[128];
    CU_ASSERT_EQUAL(veh_vin_check("1HGCM82633A004352", why, sizeof(why)),
                    VEH_VIN_OK);
    CU_ASSERT_STRING_EQUAL(why, "");
    CU_ASSERT_EQUAL(veh_vin_check("11111111111111111", NULL, 0), VEH_VIN_OK);
    CU_ASSERT_EQUAL(veh_vin_check("1M8GDM9AXKP042788", NULL, 0), VEH_VIN_OK);
}

static void test_veh_vin_check_rejects_bad_length_and_letters(void)
{
    char why[128];
    CU_ASSERT_EQUAL(veh_vin_check("", why, sizeof(why)), VEH_VIN_MISSING);
    CU_ASSERT_EQUAL(veh_vin_check(NULL, NULL, 0), VEH_VIN_MISSING);
    CU_ASSERT_EQUAL(veh_vin_check("1HGCM82633A00435", why, sizeof(why)),
                    VEH_VIN_LENGTH);
    CU_ASSERT_STRING_EQUAL(why, "vin has 16 characters, not 17");
    CU_ASSERT_EQUAL(veh_vin_check("1HGCM82633A0043521", NULL, 0),
                    VEH_VIN_LENGTH);
    const char *bad[] = {"1HGCM8263IA004352", "1HGCM8263OA004352",
                         "1HGCM8263QA004352"};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(veh_vin_check(bad[i], why, sizeof(why)),
                        VEH_VIN_CHARS);
        CU_ASSERT_PTR_NOT_NULL(strstr(why, "letter"));
    }
    CU_ASSERT_EQUAL(veh_vin_check("1HGCM8263-A004352", why, sizeof(why)),
                    VEH_VIN_CHARS);
    CU_ASSERT_STRING_EQUAL(why, "vin holds the character '-'");
    CU_ASSERT_EQUAL(veh_vin_check("1hgcm82633a004352", NULL, 0),
                    VEH_VIN_CHARS);
}

static void test_veh_check_digit_binds_only_north_american_wmis(void)
{
    char why[128];
    /* 1HG... with 4 instead of 3 in position 9 */
    CU_ASSERT_EQUAL(veh_vin_check("1HGCM82643A004352", why, sizeof(why)),
                    VEH_VIN_CHECK);
    CU_ASSERT_STRING_EQUAL(why, "vin check digit is '4', expected '3'");
    CU_ASSERT_EQUAL(veh_vin_check("5YJSA1E25HF000001", NULL, 0),
                    VEH_VIN_CHECK);
    /* Japanese and German WMIs: a wrong check digit only warns */
    CU_ASSERT_EQUAL(veh_vin_check("JH4KA8260MC000000", why, sizeof(why)),
                    VEH_VIN_CHECK_WARN);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "not binding"));
    CU_ASSERT_EQUAL(veh_vin_check("WVWZZZ1JZXW000001", NULL, 0),
                    VEH_VIN_CHECK_WARN);
    CU_ASSERT_EQUAL(veh_vin_check("WVWZZZ1J0XW000001", NULL, 0), VEH_VIN_OK);
}

static void test_veh_normalise_removes_blanks_and_upper_cases(void)
{
    char out[32];
    int changed = -1;
    CU_ASSERT_EQUAL(veh_vin_normalise(" 1hgcm8263 3a004352\t", out,
                                      sizeof(out), &changed), 17);
    CU_ASSERT_STRING_EQUAL(out, "1HGCM82633A004352");
    CU_ASSERT_EQUAL(changed, 1);
    CU_ASSERT_EQUAL(veh_vin_normalise("  1HGCM82633A004352 ", out,
                                      sizeof(out), &changed), 17);
    CU_ASSERT_EQUAL(changed, 0);
    char small[5];
    CU_ASSERT_EQUAL(veh_vin_normalise("1HGCM82633A004352", small,
                                      sizeof(small), NULL), 17);
    CU_ASSERT_STRING_EQUAL(small, "1HGC");
}

/* ---------------- reader ---------------- */

static void test_veh_reader_maps_columns_by_header_name(void)
{
    const char *path = write_text("basic.csv",
        "Policy_ID, VIN ,colour,Vehicle_Id,unit_system,make,model_year,"
        "access_token,refresh_token,expires_at\n"
        "POL-1,1HGCM82633A004352,red,v-1,Imperial,honda,2019,at_1,rt_1,"
        "2026-06-30T00:00:00Z\n"
        "POL-2,11111111111111111,blue,v-2,,,,,,\n");
    struct veh_row rows[4];
    int n = read_all(path, rows, 4);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(rows[0].index, 0);
    CU_ASSERT_EQUAL(rows[0].line, 2);
    CU_ASSERT_STRING_EQUAL(rows[0].vin, "1HGCM82633A004352");
    CU_ASSERT_STRING_EQUAL(rows[0].policy_id, "POL-1");
    CU_ASSERT_STRING_EQUAL(rows[0].vehicle_id, "v-1");
    CU_ASSERT_STRING_EQUAL(rows[0].unit_system, "imperial");
    CU_ASSERT_STRING_EQUAL(rows[0].make, "HONDA");
    CU_ASSERT_EQUAL(rows[0].model_year, 2019);
    CU_ASSERT_STRING_EQUAL(rows[0].access_token, "at_1");
    CU_ASSERT_STRING_EQUAL(rows[0].refresh_token, "rt_1");
    CU_ASSERT_STRING_EQUAL(rows[0].expires_at, "2026-06-30T00:00:00Z");
    CU_ASSERT_STRING_EQUAL(rows[0].status, "");
    CU_ASSERT_STRING_EQUAL(rows[0].warning, "");
    CU_ASSERT_EQUAL(rows[1].index, 1);
    CU_ASSERT_EQUAL(rows[1].line, 3);
    CU_ASSERT_STRING_EQUAL(rows[1].status, "");
    CU_ASSERT_STRING_EQUAL(rows[1].unit_system, "");
    CU_ASSERT_STRING_EQUAL(rows[1].access_token, "");
    CU_ASSERT_EQUAL(rows[1].model_year, 0);
    release_all(rows, n);
}

static void test_veh_reader_needs_only_the_vin_column(void)
{
    const char *path = write_text("vinonly.csv",
                                  "vin\n1HGCM82633A004352\n");
    struct eng_err err = {0};
    struct veh_reader *r = veh_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(veh_columns(r), 1);
    struct veh_row row = VEH_ROW_INIT;
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), 1);
    CU_ASSERT_STRING_EQUAL(row.vin, "1HGCM82633A004352");
    CU_ASSERT_STRING_EQUAL(row.vehicle_id, "");
    CU_ASSERT_STRING_EQUAL(row.policy_id, "");
    CU_ASSERT_STRING_EQUAL(row.make, "");
    /* at the end the row is left as it was */
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), 0);
    CU_ASSERT_STRING_EQUAL(row.vin, "1HGCM82633A004352");
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), 0);
    veh_row_release(&row);
    CU_ASSERT_PTR_NULL(row.vin);
    veh_row_release(&row);
    veh_row_release(NULL);
    veh_close(r);
    veh_close(NULL);
}

static void test_veh_reader_reads_stdin_for_a_dash(void)
{
    const char *path = write_text("stdin.csv", "vin\n11111111111111111\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(freopen(path, "rb", stdin));
    struct eng_err err = {0};
    struct veh_reader *r = veh_open("-", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    struct veh_row row = VEH_ROW_INIT;
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), 1);
    CU_ASSERT_STRING_EQUAL(row.vin, "11111111111111111");
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), 0);
    veh_row_release(&row);
    veh_close(r);
    /* stdin stays open */
    CU_ASSERT_EQUAL(fileno(stdin), 0);
    CU_ASSERT_EQUAL(fgetc(stdin), EOF);
    CU_ASSERT_FALSE(ferror(stdin));
    CU_ASSERT_PTR_NOT_NULL(freopen("/dev/null", "rb", stdin));
}

static void test_veh_reader_skips_bom_and_reads_crlf(void)
{
    const char *path = write_text("bom.csv",
        "\xEF\xBB\xBFvin,policy_id\r\n"
        "1HGCM82633A004352,P1\r\n"
        "11111111111111111,P2\r\n");
    struct veh_row rows[4];
    int n = read_all(path, rows, 4);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(rows[0].vin, "1HGCM82633A004352");
    CU_ASSERT_STRING_EQUAL(rows[0].policy_id, "P1");
    CU_ASSERT_EQUAL(rows[0].line, 2);
    CU_ASSERT_STRING_EQUAL(rows[1].policy_id, "P2");
    CU_ASSERT_EQUAL(rows[1].line, 3);
    release_all(rows, n);
}

static void test_veh_reader_reads_lone_cr_line_ends(void)
{
    const char *path = write_text("cr.csv",
        "vin,policy_id\r1HGCM82633A004352,P1\r11111111111111111,P2");
    struct veh_row rows[4];
    int n = read_all(path, rows, 4);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(rows[0].line, 2);
    CU_ASSERT_EQUAL(rows[1].line, 3);
    CU_ASSERT_STRING_EQUAL(rows[1].policy_id, "P2");
    release_all(rows, n);
}

static void test_veh_reader_unquotes_commas_newlines_and_quotes(void)
{
    const char *path = write_text("quoted.csv",
        "vin,policy_id,vehicle_id\n"
        "\"1HGCM82633A004352\",\"POL, \"\"gold\"\"\",\"a\r\nb\nc\"\n"
        "11111111111111111,\"\",\"x\"\n"
        "\n"
        "   \n"
        "1M8GDM9AXKP042788,\"multi\n"
        "line\",v3");
    struct veh_row rows[4];
    int n = read_all(path, rows, 4);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(rows[0].policy_id, "POL, \"gold\"");
    CU_ASSERT_STRING_EQUAL(rows[0].vehicle_id, "a\r\nb\nc");
    CU_ASSERT_EQUAL(rows[0].line, 2);
    CU_ASSERT_EQUAL(rows[1].line, 5);
    CU_ASSERT_STRING_EQUAL(rows[1].policy_id, "");
    /* the blank and blank-only lines 6 and 7 are not rows */
    CU_ASSERT_EQUAL(rows[2].index, 2);
    CU_ASSERT_EQUAL(rows[2].line, 8);
    CU_ASSERT_STRING_EQUAL(rows[2].policy_id, "multi\nline");
    CU_ASSERT_STRING_EQUAL(rows[2].vehicle_id, "v3");
    release_all(rows, n);
}

static void test_veh_reader_gives_each_bad_row_a_status(void)
{
    const char *path = write_text("statuses.csv",
        "vin,policy_id,unit_system\n"
        "1HGCM82633A004352,P1\n"                  /* missing a field */
        "1HGCM82633A004352,P2,metric,extra\n"     /* one field too many */
        ",P3,metric\n"
        "1HGCM82643A004352,P4,metric\n"           /* NA check digit */
        "JH4KA8260MC000000,P5,metric\n"           /* non-NA check digit */
        " 1hgcm 82633a004352,P6,metric\n"
        "1HGCM8263,P7,metric\n"
        "1HGCM82633A004352,P8,furlongs\n"
        "1HGCM8263QA004352,P9,\n");
    struct veh_row rows[12];
    int n = read_all(path, rows, 12);
    CU_ASSERT_EQUAL_FATAL(n, 9);
    CU_ASSERT_STRING_EQUAL(rows[0].status, "error:INPUT:BAD_ROW");
    CU_ASSERT_STRING_EQUAL(rows[0].vin, "1HGCM82633A004352");
    CU_ASSERT_PTR_NOT_NULL(strstr(rows[0].warning, "2 fields"));
    CU_ASSERT_STRING_EQUAL(rows[1].status, "error:INPUT:BAD_ROW");
    CU_ASSERT_STRING_EQUAL(rows[2].status, "error:INPUT:MISSING_VIN");
    CU_ASSERT_STRING_EQUAL(rows[3].status, "error:INPUT:INVALID_VIN");
    CU_ASSERT_PTR_NOT_NULL(strstr(rows[3].warning, "check digit"));
    CU_ASSERT_STRING_EQUAL(rows[4].status, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(rows[4].warning, "not binding"));
    CU_ASSERT_STRING_EQUAL(rows[5].status, "");
    CU_ASSERT_STRING_EQUAL(rows[5].vin, "1HGCM82633A004352");
    /* libcsv drops the blanks around an unquoted field */
    CU_ASSERT_STRING_EQUAL(rows[5].vin_raw, "1hgcm 82633a004352");
    CU_ASSERT_PTR_NOT_NULL(strstr(rows[5].warning, "normalised"));
    CU_ASSERT_STRING_EQUAL(rows[6].status, "error:INPUT:INVALID_VIN");
    CU_ASSERT_STRING_EQUAL(rows[7].status,
                           "error:INPUT:INVALID_UNIT_SYSTEM");
    CU_ASSERT_STRING_EQUAL(rows[8].status, "error:INPUT:INVALID_VIN");
    for (int i = 0; i < n; i++)
        CU_ASSERT_EQUAL(rows[i].index, (size_t)i);
    release_all(rows, n);
}

static void test_veh_reader_marks_nul_bytes_as_bad_rows(void)
{
    static const char text[] = "vin\n1HGCM82633A004352\0junk\n"
                               "11111111111111111\n";
    const char *path = write_file("nul.csv", text, sizeof(text) - 1);
    struct veh_row rows[4];
    int n = read_all(path, rows, 4);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(rows[0].status, "error:INPUT:BAD_ROW");
    CU_ASSERT_STRING_EQUAL(rows[1].status, "");
    release_all(rows, n);
}

static void test_veh_reader_ignores_an_invalid_model_year(void)
{
    const char *path = write_text("year.csv", "vin,model_year\n"
                                  "1HGCM82633A004352,20x9\n");
    struct veh_row rows[2];
    int n = read_all(path, rows, 2);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(rows[0].model_year, 0);
    CU_ASSERT_STRING_EQUAL(rows[0].status, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(rows[0].warning, "model_year"));
    release_all(rows, n);
}

static void test_veh_reader_reads_the_powertrain_column(void)
{
    const char *path = write_text("pt.csv", "vin,Powertrain\n"
                                  "1HGCM82633A004352,EV\n"
                                  "1HGCM82633A004352, plug-in hybrid \n"
                                  "1HGCM82633A004352,Diesel\n"
                                  "1HGCM82633A004352,\n"
                                  "1HGCM82633A004352,steam\n");
    struct veh_row rows[5];
    int n = read_all(path, rows, 5);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    CU_ASSERT_EQUAL(rows[0].powertrain, PTRAIN_BEV);
    CU_ASSERT_EQUAL(rows[1].powertrain, PTRAIN_PHEV);
    CU_ASSERT_EQUAL(rows[2].powertrain, PTRAIN_ICE);
    CU_ASSERT_EQUAL(rows[3].powertrain, PTRAIN_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(rows[3].warning, "");
    /* not understood: unknown, with a warning, the row still usable */
    CU_ASSERT_EQUAL(rows[4].powertrain, PTRAIN_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(rows[4].status, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(rows[4].warning, "powertrain"));
    release_all(rows, n);
}

static void test_veh_open_fails_without_a_vin_column(void)
{
    const char *path = write_text("novin.csv", "policy_id,make\nP1,FORD\n");
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(veh_open(path, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ECSV);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "vehicle list 'tmp/novin.csv' has no 'vin' column");
}

static void test_veh_open_fails_on_a_missing_file(void)
{
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(veh_open("tmp/does-not-exist.csv", &err));
    CU_ASSERT_EQUAL(err.code, ENG_EIO);
    CU_ASSERT_STRING_EQUAL(err.msg, "cannot open 'tmp/does-not-exist.csv': "
                           "No such file or directory");
    CU_ASSERT_PTR_NULL(veh_open(NULL, NULL));
}

static void test_veh_open_fails_on_an_empty_file(void)
{
    struct eng_err err = {0};
    const char *path = write_text("empty.csv", "");
    CU_ASSERT_PTR_NULL(veh_open(path, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ECSV);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no header"));
    path = write_text("blank.csv", "\n\r\n  \n");
    CU_ASSERT_PTR_NULL(veh_open(path, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ECSV);
    path = write_text("bomonly.csv", "\xEF\xBB\xBF");
    CU_ASSERT_PTR_NULL(veh_open(path, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ECSV);
}

static void test_veh_reader_with_only_a_header_has_no_rows(void)
{
    struct veh_row rows[1];
    CU_ASSERT_EQUAL(read_all(write_text("hdr.csv", "vin,policy_id\n"),
                             rows, 1), 0);
    CU_ASSERT_EQUAL(read_all(write_text("hdr2.csv", "vin"), rows, 1), 0);
}

static void test_veh_open_fails_on_a_repeated_column(void)
{
    struct eng_err err = {0};
    const char *path = write_text("dup.csv", "vin,VIN\nA,B\n");
    CU_ASSERT_PTR_NULL(veh_open(path, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ECSV);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "column 'vin' appears twice"));
}

static void test_veh_open_fails_on_too_many_columns(void)
{
    size_t cap = (VEH_MAX_COLUMNS + 2) * 4 + 8;
    char *text = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    size_t len = 0;
    len += (size_t)snprintf(text + len, cap - len, "vin");
    for (int i = 0; i < VEH_MAX_COLUMNS; i++)
        len += (size_t)snprintf(text + len, cap - len, ",c");
    text[len++] = '\n';
    const char *path = write_file("wide.csv", text, len);
    free(text);
    struct eng_err err = {0};
    CU_ASSERT_PTR_NULL(veh_open(path, &err));
    CU_ASSERT_EQUAL(err.code, ENG_ELIMIT);
}

static void test_veh_reader_stops_on_broken_csv_with_the_line(void)
{
    const char *path = write_text("broken.csv",
        "vin,policy_id\n"
        "1HGCM82633A004352,P1\n"
        "1HGCM82633A004352,P\"2\n"
        "11111111111111111,P3\n");
    struct eng_err err = {0};
    struct veh_reader *r = veh_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    struct veh_row row = VEH_ROW_INIT;
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), 1);
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), ENG_ECSV);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "line 3: broken CSV"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "tmp/broken.csv"));
    CU_ASSERT_STRING_EQUAL(row.policy_id, "P1");
    /* the failure sticks */
    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), ENG_ECSV);
    CU_ASSERT_EQUAL(err.code, ENG_ECSV);
    veh_row_release(&row);
    veh_close(r);
}

static void test_veh_reader_stops_on_text_after_a_closing_quote(void)
{
    const char *path = write_text("after.csv",
        "vin,policy_id\n\"1HGCM82633A004352\"x,P1\n");
    struct eng_err err = {0};
    struct veh_reader *r = veh_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    struct veh_row row = VEH_ROW_INIT;
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), ENG_ECSV);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "line 2"));
    veh_close(r);
}

static void test_veh_reader_stops_on_a_quote_never_closed(void)
{
    const char *path = write_text("open.csv",
        "vin,policy_id\n1HGCM82633A004352,\"P1\n11111111111111111,P2\n");
    struct eng_err err = {0};
    struct veh_reader *r = veh_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    struct veh_row row = VEH_ROW_INIT;
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), ENG_ECSV);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not closed"));
    veh_close(r);
}

static void test_veh_reader_stops_on_a_field_too_long(void)
{
    size_t len = 2 * VEH_MAX_FIELD + 64;
    char *text = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    memcpy(text, "vin,policy_id\nX,\"", 17);
    memset(text + 17, 'a', len - 17);
    const char *path = write_file("long.csv", text, len);
    free(text);
    struct eng_err err = {0};
    struct veh_reader *r = veh_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    struct veh_row row = VEH_ROW_INIT;
    CU_ASSERT_EQUAL(veh_next(r, &row, &err), ENG_ELIMIT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "field longer than"));
    veh_close(r);
}

static void test_veh_reader_streams_a_hundred_thousand_rows(void)
{
    const int rows = 100000;
    mkdir(TMP_DIR, 0777);
    const char *path = TMP_DIR "/big.csv";
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("vin,policy_id,vehicle_id,note\n", f);
    for (int i = 0; i < rows; i++) {
        if (i % 1000 == 7)
            fprintf(f, "1HGCM82633A004352,POL-%d,\"v,%d\",\"two\nlines\"\n",
                    i, i);
        else
            fprintf(f, "1HGCM82633A004352,POL-%d,v-%d,plain\n", i, i);
    }
    CU_ASSERT_EQUAL_FATAL(fclose(f), 0);

    struct eng_err err = {0};
    struct veh_reader *r = veh_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    struct veh_row row = VEH_ROW_INIT;
    int n = 0;
    int wrong = 0;
    long line = 2;
    int rc = veh_next(r, &row, &err);
    for (; rc == 1; rc = veh_next(r, &row, &err)) {
        char want[32];
        snprintf(want, sizeof(want), "POL-%d", n);
        if (row.index != (size_t)n || row.line != line
            || strcmp(row.policy_id, want) != 0 || row.status[0])
            wrong++;
        line += n % 1000 == 7 ? 2 : 1;
        n++;
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(n, rows);
    CU_ASSERT_EQUAL(wrong, 0);
    veh_row_release(&row);
    veh_close(r);
    remove(path);
}

static CU_TestInfo veh_tests[] = {
    {"reader reads the powertrain column",
     test_veh_reader_reads_the_powertrain_column},
    {"check digit matches known VINs",
     test_veh_check_digit_matches_known_vins},
    {"vin_check accepts valid VINs", test_veh_vin_check_accepts_valid_vins},
    {"vin_check rejects bad length and letters I O Q",
     test_veh_vin_check_rejects_bad_length_and_letters},
    {"check digit binds only North American WMIs",
     test_veh_check_digit_binds_only_north_american_wmis},
    {"normalise removes blanks and upper-cases",
     test_veh_normalise_removes_blanks_and_upper_cases},
    {"reader maps columns by header name",
     test_veh_reader_maps_columns_by_header_name},
    {"reader needs only the vin column",
     test_veh_reader_needs_only_the_vin_column},
    {"reader reads stdin for a dash", test_veh_reader_reads_stdin_for_a_dash},
    {"reader skips a BOM and reads CRLF",
     test_veh_reader_skips_bom_and_reads_crlf},
    {"reader reads lone CR line ends",
     test_veh_reader_reads_lone_cr_line_ends},
    {"reader unquotes commas, newlines and quotes",
     test_veh_reader_unquotes_commas_newlines_and_quotes},
    {"reader gives each bad row a status",
     test_veh_reader_gives_each_bad_row_a_status},
    {"reader marks NUL bytes as bad rows",
     test_veh_reader_marks_nul_bytes_as_bad_rows},
    {"reader ignores an invalid model year",
     test_veh_reader_ignores_an_invalid_model_year},
    {"open fails without a vin column",
     test_veh_open_fails_without_a_vin_column},
    {"open fails on a missing file", test_veh_open_fails_on_a_missing_file},
    {"open fails on an empty file", test_veh_open_fails_on_an_empty_file},
    {"reader with only a header has no rows",
     test_veh_reader_with_only_a_header_has_no_rows},
    {"open fails on a repeated column",
     test_veh_open_fails_on_a_repeated_column},
    {"open fails on too many columns",
     test_veh_open_fails_on_too_many_columns},
    {"reader stops on broken CSV with the line",
     test_veh_reader_stops_on_broken_csv_with_the_line},
    {"reader stops on text after a closing quote",
     test_veh_reader_stops_on_text_after_a_closing_quote},
    {"reader stops on a quote never closed",
     test_veh_reader_stops_on_a_quote_never_closed},
    {"reader stops on a field too long",
     test_veh_reader_stops_on_a_field_too_long},
    {"reader streams a hundred thousand rows",
     test_veh_reader_streams_a_hundred_thousand_rows},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_veh_suites[] = {
    {"veh", NULL, NULL, NULL, NULL, veh_tests},
    CU_SUITE_INFO_NULL
};
