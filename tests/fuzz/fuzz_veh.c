/*
 * fuzz_veh — a vehicle list (veh_open, veh_next) and the VIN rules.
 *
 * Invariants: a refused file fails with a code veh.h names; rows come with
 * indexes 0, 1, 2, ... and non-decreasing lines; every string is set; the
 * VIN is normalised (no blanks, no lower case) and the status is "" or
 * "error:INPUT:<CODE>" with a documented code (never a comma, quote or
 * line break); a usable row has a 17-character VIN veh_vin_check() accepts
 * and a known unit system; model_year is 0 or 1900..2100; make is upper
 * case; the warning never holds a token; after the end or a failure every
 * later call answers the same; normalising twice changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "veh.h"

static const char *const codes[] = {
    "error:INPUT:BAD_ROW", "error:INPUT:MISSING_VIN",
    "error:INPUT:INVALID_VIN", "error:INPUT:INVALID_UNIT_SYSTEM",
};

static int known_status(const char *s)
{
    if (!s[0])
        return 1;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(s, codes[i]) == 0)
            return 1;
    }
    return 0;
}

static void check_vin_rules(const char *raw)
{
    char a[64], b[64];
    int changed = 0;
    size_t n = veh_vin_normalise(raw, a, sizeof(a), &changed);
    if (n >= sizeof(a))
        return;
    FUZZ_CHECK(strlen(a) == n);
    FUZZ_CHECK(!strchr(a, ' ') && !strchr(a, '\t'));
    int again = 1;
    FUZZ_CHECK(veh_vin_normalise(a, b, sizeof(b), &again) == n);
    FUZZ_CHECK(strcmp(a, b) == 0 && again == 0);
    char why[VEH_WARNING_LEN];
    enum veh_vin_status vs = veh_vin_check(a, why, sizeof(why));
    FUZZ_CHECK(vs >= VEH_VIN_OK && vs <= VEH_VIN_CHECK);
    FUZZ_CHECK((vs == VEH_VIN_OK) == (why[0] == '\0'));
    char cd = veh_vin_check_digit(a);
    if (vs == VEH_VIN_OK)
        FUZZ_CHECK(n == VEH_VIN_LEN && cd == a[8]);
    if (vs == VEH_VIN_CHECK_WARN || vs == VEH_VIN_CHECK)
        FUZZ_CHECK(cd != '\0' && cd != a[8]);
    int y = veh_vin_model_year(a, 2030);
    FUZZ_CHECK(y == 0 || (y >= 1980 && y <= 2030));
}

/*
 * A token-like value (16 or more bytes without a blank) inside text.  The
 * warnings are fixed words with a count or a character put in, none 16
 * bytes without a blank, so such a value in one came from the row.
 */
static int token_in(const char *text, const char *tok)
{
    return strlen(tok) >= 16 && !strpbrk(tok, " \t") && strstr(text, tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch(".csv", data, size);
    struct eng_err err = {0};
    struct veh_reader *r = veh_open(path, &err);
    if (!r) {
        FUZZ_CHECK(err.code == ENG_EIO || err.code == ENG_ECSV
                   || err.code == ENG_ELIMIT || err.code == ENG_EDATA
                   || err.code == ENG_ENOMEM);
        FUZZ_CHECK(err.msg[0]);
        return 0;
    }
    FUZZ_CHECK(veh_columns(r) >= 1 && veh_columns(r) <= VEH_MAX_COLUMNS);
    struct veh_row row = VEH_ROW_INIT;
    size_t expect = 0;
    long last_line = 1;
    int rc;
    while ((rc = veh_next(r, &row, &err)) == 1) {
        FUZZ_CHECK(row.index == expect++);
        FUZZ_CHECK(row.line >= last_line);
        last_line = row.line;
        FUZZ_CHECK(row.vin && row.vin_raw && row.vehicle_id && row.policy_id
                   && row.access_token && row.refresh_token
                   && row.expires_at && row.unit_system && row.make);
        FUZZ_CHECK(memchr(row.status, '\0', sizeof(row.status)));
        FUZZ_CHECK(memchr(row.warning, '\0', sizeof(row.warning)));
        FUZZ_CHECK(known_status(row.status) && fuzz_csv_safe(row.status));
        for (const char *p = row.vin; *p; p++)
            FUZZ_CHECK(*p != ' ' && *p != '\t' && !(*p >= 'a' && *p <= 'z'));
        for (const char *p = row.make; *p; p++)
            FUZZ_CHECK(!(*p >= 'a' && *p <= 'z'));
        FUZZ_CHECK(row.model_year == 0
                   || (row.model_year >= 1900 && row.model_year <= 2100));
        if (!row.status[0]) {
            enum veh_vin_status vs = veh_vin_check(row.vin, NULL, 0);
            FUZZ_CHECK(vs == VEH_VIN_OK || vs == VEH_VIN_CHECK_WARN);
            FUZZ_CHECK(strlen(row.vin) == VEH_VIN_LEN);
            FUZZ_CHECK(!row.unit_system[0]
                       || strcmp(row.unit_system, "metric") == 0
                       || strcmp(row.unit_system, "imperial") == 0);
        }
        FUZZ_CHECK(!token_in(row.warning, row.access_token));
        FUZZ_CHECK(!token_in(row.warning, row.refresh_token));
        check_vin_rules(row.vin_raw);
    }
    if (rc == 0) {
        FUZZ_CHECK(veh_next(r, &row, &err) == 0);
    } else {
        FUZZ_CHECK(rc == ENG_EIO || rc == ENG_ECSV || rc == ENG_ELIMIT
                   || rc == ENG_ENOMEM);
        FUZZ_CHECK(veh_next(r, &row, &err) == rc);
    }
    veh_row_release(&row);
    veh_close(r);
    return 0;
}
