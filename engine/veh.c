/* veh — the vehicle list reader (on tab, streaming) and VIN checks. */
#include "veh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tab.h"
#include "ptrain.h"


enum col {
    COL_VIN,
    COL_VEHICLE_ID,
    COL_POLICY_ID,
    COL_ACCESS_TOKEN,
    COL_REFRESH_TOKEN,
    COL_EXPIRES_AT,
    COL_UNIT_SYSTEM,
    COL_MAKE,
    COL_MODEL_YEAR,
    COL_POWERTRAIN,
    N_COLS
};

static const char *const col_names[N_COLS] = {
    "vin", "vehicle_id", "policy_id", "access_token", "refresh_token",
    "expires_at", "unit_system", "make", "model_year", "powertrain"
};

struct veh_reader {
    struct tab *t;
    char *name;               /* for messages */
    int *colmap;              /* header column -> enum col, or -1 */
    size_t ncols;
    size_t next_index;
};

static int is_blank(int c)
{
    return c == ' ' || c == '\t';
}

static int to_upper(int c)
{
    return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static int to_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Bounds of s[0..len) without leading and trailing blanks. */
static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_blank((unsigned char)(*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_blank((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

/* ======================= VIN checks ======================= */

/* Transliteration of 49 CFR 565.15; 0 for characters a VIN cannot hold. */
static int vin_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    switch (c) {
    case 'A': case 'J': return 1;
    case 'B': case 'K': case 'S': return 2;
    case 'C': case 'L': case 'T': return 3;
    case 'D': case 'M': case 'U': return 4;
    case 'E': case 'N': case 'V': return 5;
    case 'F': case 'W': return 6;
    case 'G': case 'P': case 'X': return 7;
    case 'H': case 'Y': return 8;
    case 'R': case 'Z': return 9;
    default: return -1;
    }
}

char veh_vin_check_digit(const char *vin)
{
    static const int weight[VEH_VIN_LEN] = {8, 7, 6, 5, 4, 3, 2, 10, 0,
                                            9, 8, 7, 6, 5, 4, 3, 2};
    if (!vin || strlen(vin) != VEH_VIN_LEN)
        return '\0';
    int sum = 0;
    for (int i = 0; i < VEH_VIN_LEN; i++) {
        int v = vin_value((unsigned char)vin[i]);
        if (v < 0)
            return '\0';
        sum += v * weight[i];
    }
    int rem = sum % 11;
    return rem == 10 ? 'X' : (char)('0' + rem);
}

enum veh_vin_status veh_vin_check(const char *vin, char *why, size_t n)
{
    char dummy[1];
    if (!why) {
        why = dummy;
        n = sizeof(dummy);
    }
    if (n > 0)
        why[0] = '\0';
    size_t len = vin ? strlen(vin) : 0;
    if (len == 0) {
        snprintf(why, n, "vin is empty");
        return VEH_VIN_MISSING;
    }
    if (len != VEH_VIN_LEN) {
        snprintf(why, n, "vin has %zu characters, not 17", len);
        return VEH_VIN_LENGTH;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)vin[i];
        if (vin_value(c) < 0) {
            if (c == 'I' || c == 'O' || c == 'Q')
                snprintf(why, n, "vin holds the letter '%c' (never used)",
                         c);
            else if (c >= 0x21 && c < 0x7f)
                snprintf(why, n, "vin holds the character '%c'", c);
            else
                snprintf(why, n, "vin holds the byte 0x%02X", c);
            return VEH_VIN_CHARS;
        }
    }
    char want = veh_vin_check_digit(vin);
    if (vin[8] == want)
        return VEH_VIN_OK;
    int na = vin[0] >= '1' && vin[0] <= '5';
    snprintf(why, n, "vin check digit is '%c', expected '%c'%s", vin[8], want,
             na ? "" : " (not binding outside North America)");
    return na ? VEH_VIN_CHECK : VEH_VIN_CHECK_WARN;
}

size_t veh_vin_normalise(const char *raw, char *out, size_t n, int *changed)
{
    size_t len = raw ? strlen(raw) : 0;
    const char *s = raw ? raw : "";
    trim(&s, &len);
    size_t k = 0;
    int diff = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (is_blank(c)) {
            diff = 1;
            continue;
        }
        int u = to_upper(c);
        if (u != c)
            diff = 1;
        if (k + 1 < n)
            out[k] = (char)u;
        k++;
    }
    if (n > 0)
        out[k < n ? k : n - 1] = '\0';
    if (changed)
        *changed = diff;
    return k;
}

/* ======================= rows ======================= */

void veh_row_release(struct veh_row *row)
{
    if (!row)
        return;
    free(row->mem_);
    memset(row, 0, sizeof(*row));
}

static void append_note(char *buf, size_t n, const char *note)
{
    size_t used = strlen(buf);
    const char *parts[2] = {used ? "; " : "", note};
    for (int i = 0; i < 2; i++) {
        for (const char *p = parts[i]; *p && used + 1 < n; p++)
            buf[used++] = *p;
    }
    buf[used] = '\0';
}

/* A year 1900..2100 written as four digits with optional blanks, else 0. */
static int parse_year(const char *s, size_t len)
{
    trim(&s, &len);
    if (len != 4)
        return 0;
    int y = 0;
    for (size_t i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        y = y * 10 + (s[i] - '0');
    }
    return y >= 1900 && y <= 2100 ? y : 0;
}

/* Copies s[0..len) into *at, NUL-terminated, and moves *at past it. */
static char *put(char **at, const char *s, size_t len)
{
    char *dst = *at;
    if (len > 0)
        memcpy(dst, s, len);
    dst[len] = '\0';
    *at += len + 1;
    return dst;
}

/*
 * Builds a row from the fields of the row tab just read.  The row's strings
 * live in one block: the raw VIN, the normalised VIN, then each other field
 * trimmed.
 */
static int make_row(struct veh_reader *r, const char *const *fields,
                    struct veh_row *row)
{
    const char *src[N_COLS];
    size_t len[N_COLS];
    size_t total = 0;
    for (int c = 0; c < N_COLS; c++) {
        src[c] = "";
        for (size_t k = 0; k < r->ncols; k++) {
            if (r->colmap[k] == c)
                src[c] = fields[k];
        }
        len[c] = strlen(src[c]);
        total += len[c] + 1;
    }
    total += len[COL_VIN] + 1;
    char *mem = malloc(total);
    if (!mem)
        return ENG_ENOMEM;

    struct veh_row out = VEH_ROW_INIT;
    out.mem_ = mem;
    out.index = r->next_index;
    out.line = tab_row_line(r->t);
    char *at = mem;
    out.vin_raw = put(&at, src[COL_VIN], len[COL_VIN]);
    int changed = 0;
    size_t vlen = veh_vin_normalise(out.vin_raw, at, len[COL_VIN] + 1,
                                    &changed);
    out.vin = at;
    at += vlen + 1;

    char *strs[N_COLS] = {0};
    for (int c = 1; c < N_COLS; c++) {
        const char *s = src[c];
        size_t n = len[c];
        trim(&s, &n);
        strs[c] = put(&at, s, n);
    }
    out.vehicle_id = strs[COL_VEHICLE_ID];
    out.policy_id = strs[COL_POLICY_ID];
    out.access_token = strs[COL_ACCESS_TOKEN];
    out.refresh_token = strs[COL_REFRESH_TOKEN];
    out.expires_at = strs[COL_EXPIRES_AT];
    out.unit_system = strs[COL_UNIT_SYSTEM];
    out.make = strs[COL_MAKE];
    for (char *p = out.unit_system; *p; p++)
        *p = (char)to_lower((unsigned char)*p);
    for (char *p = out.make; *p; p++)
        *p = (char)to_upper((unsigned char)*p);

    char why[VEH_WARNING_LEN];
    enum veh_vin_status vs = veh_vin_check(out.vin, why, sizeof(why));
    const char *code = NULL;
    const char *broken = tab_row_error(r->t);
    size_t nfields = tab_row_fields(r->t);
    if (broken || nfields != r->ncols) {
        code = "BAD_ROW";
        char note[96];
        if (broken)
            snprintf(note, sizeof(note), "%s", broken);
        else
            snprintf(note, sizeof(note), "row has %zu fields, header has %zu",
                     nfields, r->ncols);
        append_note(out.warning, sizeof(out.warning), note);
    } else if (vs == VEH_VIN_MISSING) {
        code = "MISSING_VIN";
        append_note(out.warning, sizeof(out.warning), why);
    } else if (vs != VEH_VIN_OK && vs != VEH_VIN_CHECK_WARN) {
        code = "INVALID_VIN";
        append_note(out.warning, sizeof(out.warning), why);
    } else if (out.unit_system[0] && strcmp(out.unit_system, "metric") != 0
               && strcmp(out.unit_system, "imperial") != 0) {
        code = "INVALID_UNIT_SYSTEM";
        append_note(out.warning, sizeof(out.warning),
                    "unit_system is neither metric nor imperial");
    }
    if (!code && vs == VEH_VIN_CHECK_WARN)
        append_note(out.warning, sizeof(out.warning), why);
    if (changed && vs != VEH_VIN_MISSING)
        append_note(out.warning, sizeof(out.warning),
                    "vin normalised (blanks removed, upper case)");
    if (code)
        snprintf(out.status, sizeof(out.status), "error:INPUT:%s", code);

    out.model_year = parse_year(strs[COL_MODEL_YEAR],
                                strlen(strs[COL_MODEL_YEAR]));
    if (strs[COL_MODEL_YEAR][0] && out.model_year == 0)
        append_note(out.warning, sizeof(out.warning),
                    "model_year is not a year, ignored");

    out.powertrain = ptrain_parse(strs[COL_POWERTRAIN]);
    if (strs[COL_POWERTRAIN][0] && out.powertrain == PTRAIN_UNKNOWN)
        append_note(out.warning, sizeof(out.warning),
                    "powertrain is not ICE, HEV, PHEV or BEV, ignored");

    veh_row_release(row);
    *row = out;
    return ENG_OK;
}

/* ======================= reader ======================= */

/* Which known column a header name is: trimmed, case-insensitive; or -1. */
static int known_column(const char *name)
{
    size_t len = strlen(name);
    trim(&name, &len);
    for (int c = 0; c < N_COLS; c++) {
        size_t n = strlen(col_names[c]);
        if (n != len)
            continue;
        size_t i = 0;
        while (i < n && to_lower((unsigned char)name[i]) == col_names[c][i])
            i++;
        if (i == n)
            return c;
    }
    return -1;
}

void veh_close(struct veh_reader *r)
{
    if (!r)
        return;
    tab_close(r->t);
    free(r->colmap);
    free(r->name);
    free(r);
}

struct veh_reader *veh_open(const char *path, struct eng_err *err)
{
    if (!path) {
        eng_err_set(err, ENG_EIO, "no vehicle list given");
        return NULL;
    }
    struct veh_reader *r = calloc(1, sizeof(*r));
    if (!r) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    r->name = strdup(strcmp(path, "-") == 0 ? "stdin" : path);
    if (!r->name) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    struct tab_opts opts = {
        .recover = 1,
        .max_field = VEH_MAX_FIELD,
        .max_fields = VEH_MAX_COLUMNS,
    };
    r->t = tab_open_with(path, &opts, err);
    if (!r->t)
        goto out;
    r->ncols = tab_ncols(r->t);
    r->colmap = calloc(r->ncols ? r->ncols : 1, sizeof(*r->colmap));
    if (!r->colmap) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    int have_vin = 0;
    for (size_t k = 0; k < r->ncols; k++) {
        int which = known_column(tab_name(r->t, k));
        for (size_t j = 0; which >= 0 && j < k; j++) {
            if (r->colmap[j] == which) {
                eng_err_set(err, ENG_ECSV, "vehicle list '%s': column '%s' "
                            "appears twice", r->name, col_names[which]);
                goto out;
            }
        }
        r->colmap[k] = which;
        have_vin |= which == COL_VIN;
    }
    if (have_vin)
        return r;
    eng_err_set(err, ENG_ECSV, "vehicle list '%s' has no 'vin' column",
                r->name);
out:
    veh_close(r);
    return NULL;
}

size_t veh_columns(const struct veh_reader *r)
{
    return r->ncols;
}

int veh_next(struct veh_reader *r, struct veh_row *row, struct eng_err *err)
{
    const char *const *fields;
    int rc = tab_next(r->t, &fields, err);
    if (rc <= 0)
        return rc;
    if (make_row(r, fields, row) < 0)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    r->next_index++;
    return 1;
}

int veh_vin_model_year(const char *vin, int latest)
{
    static const char cycle[] = "ABCDEFGHJKLMNPRSTVWXY123456789";
    if (!vin || strlen(vin) != VEH_VIN_LEN)
        return 0;
    const char *at = strchr(cycle, vin[9]);
    if (!at || vin[9] == '\0')
        return 0;
    if (latest == 0) {
        int y, m, d;
        eng_civil_from_days(eng_today(), &y, &m, &d);
        latest = y + 1;
    }
    int year = 1980 + (int)(at - cycle);
    while (year + 30 <= latest)
        year += 30;
    return year;
}
