/* veh — the vehicle list reader (libcsv, streaming) and VIN checks. */
#include "veh.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptrain.h"

#define CHUNK_SIZE 65536

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

/* A growable copy of one field of the row being parsed. */
struct field {
    char *s;
    size_t len;
    size_t cap;
};

struct veh_reader {
    FILE *fp;
    int is_stdin;
    char *name;               /* for messages */
    struct csv_parser csv;
    unsigned char *chunk;
    size_t chunk_len;
    size_t chunk_pos;
    int started;              /* first chunk read, BOM handled */
    int at_eof;               /* the file has no more bytes */
    int done;                 /* csv_fini has run */
    long line;                /* physical line of the next byte fed */
    int prev_cr;              /* the last byte fed was a CR */

    int in_header;
    int *colmap;              /* header column -> enum col, or -1 */
    size_t ncols;
    size_t colcap;

    /* the row being parsed, then (have_row) the row waiting for veh_next */
    size_t nfields;
    long breaks;              /* line breaks inside the row's fields */
    int nul_byte;
    struct field cur[N_COLS];
    int have_row;
    long row_line;
    size_t next_index;

    int cb_fail;              /* failure raised inside a libcsv callback */
    struct eng_err cb_err;
    int fail;                 /* sticky failure of the reader */
    struct eng_err fail_err;
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

/* Line breaks in s: CRLF, lone CR and lone LF each count once. */
static long count_breaks(const char *s, size_t len)
{
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            n++;
        else if (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n'))
            n++;
    }
    return n;
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
 * Builds a row from the fields of the waiting row.  The row's strings live
 * in one block: the normalised VIN, then each field trimmed (the raw VIN
 * untrimmed).
 */
static int make_row(struct veh_reader *r, struct veh_row *row)
{
    const struct field *f = r->cur;
    size_t total = 2 * (f[COL_VIN].len + 1);
    for (int c = 1; c < N_COLS; c++)
        total += f[c].len + 1;
    char *mem = malloc(total);
    if (!mem)
        return ENG_ENOMEM;

    struct veh_row out = VEH_ROW_INIT;
    out.mem_ = mem;
    out.index = r->next_index;
    out.line = r->row_line;
    char *at = mem;
    out.vin_raw = put(&at, f[COL_VIN].s, f[COL_VIN].len);
    int changed = 0;
    size_t vlen = veh_vin_normalise(out.vin_raw, at, f[COL_VIN].len + 1,
                                    &changed);
    out.vin = at;
    at += vlen + 1;

    char *strs[N_COLS] = {0};
    for (int c = 1; c < N_COLS; c++) {
        const char *s = f[c].s ? f[c].s : "";
        size_t len = f[c].len;
        trim(&s, &len);
        strs[c] = put(&at, s, len);
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
    if (r->nfields != r->ncols || r->nul_byte) {
        code = "BAD_ROW";
        char note[96];
        if (r->nul_byte)
            snprintf(note, sizeof(note), "row holds a NUL byte");
        else
            snprintf(note, sizeof(note), "row has %zu fields, header has %zu",
                     r->nfields, r->ncols);
        append_note(out.warning, sizeof(out.warning), note);
    } else if (vs == VEH_VIN_MISSING) {
        code = "MISSING_VIN";
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

/* Forgets the fields of the row just handed out, keeping their buffers. */
static void reset_row(struct veh_reader *r)
{
    for (int c = 0; c < N_COLS; c++)
        r->cur[c].len = 0;
    r->nfields = 0;
    r->breaks = 0;
    r->nul_byte = 0;
    r->have_row = 0;
}

/* ======================= libcsv callbacks ======================= */

static void cb_fail(struct veh_reader *r, int code, const char *msg)
{
    if (r->cb_fail)
        return;
    r->cb_fail = code;
    eng_err_set(&r->cb_err, code, "%s", msg);
}

static void header_field(struct veh_reader *r, const char *s, size_t len)
{
    if (r->ncols == VEH_MAX_COLUMNS) {
        char msg[128];
        snprintf(msg, sizeof(msg), "header has more than %d columns",
                 VEH_MAX_COLUMNS);
        cb_fail(r, ENG_ELIMIT, msg);
        return;
    }
    if (r->ncols == r->colcap) {
        size_t cap = r->colcap ? 2 * r->colcap : 16;
        int *map = realloc(r->colmap, cap * sizeof(*map));
        if (!map) {
            cb_fail(r, ENG_ENOMEM, "out of memory");
            return;
        }
        r->colmap = map;
        r->colcap = cap;
    }
    trim(&s, &len);
    int which = -1;
    for (int c = 0; c < N_COLS && which < 0; c++) {
        size_t n = strlen(col_names[c]);
        if (n != len)
            continue;
        size_t i = 0;
        while (i < n && to_lower((unsigned char)s[i]) == col_names[c][i])
            i++;
        if (i == n)
            which = c;
    }
    for (size_t k = 0; which >= 0 && k < r->ncols; k++) {
        if (r->colmap[k] == which) {
            char msg[128];
            snprintf(msg, sizeof(msg), "column '%s' appears twice",
                     col_names[which]);
            cb_fail(r, ENG_ECSV, msg);
        }
    }
    r->colmap[r->ncols++] = which;
}

static void on_field(void *data, size_t len, void *vr)
{
    struct veh_reader *r = vr;
    const char *s = data ? data : "";
    if (r->cb_fail)
        return;
    if (len > VEH_MAX_FIELD) {
        char msg[128];
        snprintf(msg, sizeof(msg), "field longer than %d bytes",
                 VEH_MAX_FIELD);
        cb_fail(r, ENG_ELIMIT, msg);
        return;
    }
    r->breaks += count_breaks(s, len);
    if (r->in_header) {
        header_field(r, s, len);
        return;
    }
    size_t k = r->nfields++;
    if (memchr(s, '\0', len))
        r->nul_byte = 1;
    if (k >= r->ncols || r->colmap[k] < 0)
        return;
    struct field *f = &r->cur[r->colmap[k]];
    if (len + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 32;
        while (cap < len + 1)
            cap *= 2;
        char *p = realloc(f->s, cap);
        if (!p) {
            cb_fail(r, ENG_ENOMEM, "out of memory");
            return;
        }
        f->s = p;
        f->cap = cap;
    }
    if (len > 0)
        memcpy(f->s, s, len);
    f->s[len] = '\0';
    f->len = len;
}

static void on_row(int c, void *vr)
{
    struct veh_reader *r = vr;
    (void)c;
    if (r->cb_fail)
        return;
    if (r->in_header) {
        r->in_header = 0;
        r->breaks = 0;
        return;
    }
    /*
     * Input is fed to libcsv in pieces that end at the first CR or LF, so
     * at most one row can end per piece and veh_next takes it before the
     * next piece; a second row here would mean that invariant broke.
     */
    if (r->have_row) {
        cb_fail(r, ENG_EDATA, "internal error: two rows in one piece");
        return;
    }
    r->have_row = 1;
    r->row_line = r->line - r->breaks;
}

/* ======================= feeding ======================= */

/* Records a sticky failure "vehicle list 'name': <message>" and returns it. */
static int reader_fail(struct veh_reader *r, struct eng_err *err, int code,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reader_fail(struct veh_reader *r, struct eng_err *err, int code,
                       const char *fmt, ...)
{
    char msg[ENG_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->fail = code;
    eng_err_set(&r->fail_err, code, "vehicle list '%s': %s", r->name, msg);
    if (err)
        *err = r->fail_err;
    return code;
}

/* Turns a failure raised inside a callback into the reader's failure. */
static int callback_failure(struct veh_reader *r, struct eng_err *err)
{
    return reader_fail(r, err, r->cb_fail, "line %ld: %s", r->line,
                       r->cb_err.msg);
}

static int csv_failure(struct veh_reader *r, struct eng_err *err)
{
    int e = csv_error(&r->csv);
    if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
        return reader_fail(r, err, ENG_ENOMEM, "line %ld: %s", r->line,
                           csv_strerror(e));
    return reader_fail(r, err, ENG_ECSV,
                       "line %ld: broken CSV (a quote inside an unquoted "
                       "field, or text after a closing quote)", r->line);
}

/* Reads the next chunk; sets at_eof at the end of the file. */
static int read_chunk(struct veh_reader *r, struct eng_err *err)
{
    size_t n = fread(r->chunk, 1, CHUNK_SIZE, r->fp);
    if (n == 0 && ferror(r->fp))
        return reader_fail(r, err, ENG_EIO, "cannot read: %s",
                           strerror(errno));
    r->chunk_len = n;
    r->chunk_pos = 0;
    if (n == 0)
        r->at_eof = 1;
    if (!r->started) {
        r->started = 1;
        if (n >= 3 && r->chunk[0] == 0xEF && r->chunk[1] == 0xBB
            && r->chunk[2] == 0xBF)
            r->chunk_pos = 3;
    }
    return ENG_OK;
}

static int finish(struct veh_reader *r, struct eng_err *err)
{
    int rc = csv_fini(&r->csv, on_field, on_row, r);
    r->done = 1;
    if (r->cb_fail)
        return callback_failure(r, err);
    if (rc != 0)
        return reader_fail(r, err, ENG_ECSV,
                           "line %ld: quoted field not closed at the end of "
                           "the file", r->line);
    return ENG_OK;
}

/*
 * Feeds libcsv the bytes up to and including the next CR or LF (or the end
 * of the chunk), reads a chunk, or finishes the parse at the end of the
 * file.  Keeping a piece within one line tells the callbacks which line
 * they are on, and lets at most one row end per piece.
 */
static int feed(struct veh_reader *r, struct eng_err *err)
{
    if (r->chunk_pos == r->chunk_len)
        return r->at_eof ? finish(r, err) : read_chunk(r, err);

    const unsigned char *start = r->chunk + r->chunk_pos;
    size_t avail = r->chunk_len - r->chunk_pos;
    size_t len = 0;
    while (len < avail && start[len] != '\n' && start[len] != '\r')
        len++;
    if (len < avail)
        len++;
    size_t used = csv_parse(&r->csv, start, len, on_field, on_row, r);
    r->chunk_pos += len;
    if (r->cb_fail)
        return callback_failure(r, err);
    if (used != len)
        return csv_failure(r, err);
    /* entry_pos is the length of a field still open (a public member) */
    if (r->csv.entry_pos > VEH_MAX_FIELD)
        return reader_fail(r, err, ENG_ELIMIT,
                           "line %ld: field longer than %d bytes", r->line,
                           VEH_MAX_FIELD);
    unsigned char last = start[len - 1];
    if (last == '\r') {
        r->line++;
        r->prev_cr = 1;
    } else {
        if (last == '\n' && !r->prev_cr)
            r->line++;
        r->prev_cr = 0;
    }
    return ENG_OK;
}

/* ======================= reader ======================= */

void veh_close(struct veh_reader *r)
{
    if (!r)
        return;
    if (r->fp && !r->is_stdin)
        fclose(r->fp);
    csv_free(&r->csv);
    for (int c = 0; c < N_COLS; c++)
        free(r->cur[c].s);
    free(r->colmap);
    free(r->chunk);
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
    r->is_stdin = strcmp(path, "-") == 0;
    r->name = strdup(r->is_stdin ? "stdin" : path);
    r->chunk = malloc(CHUNK_SIZE);
    if (!r->name || !r->chunk) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto out;
    }
    r->fp = r->is_stdin ? stdin : fopen(path, "rb");
    if (!r->fp) {
        eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                    strerror(errno));
        goto out;
    }
    r->line = 1;
    r->in_header = 1;
    while (r->in_header && !r->done) {
        if (feed(r, err) < 0)
            goto out;
    }
    if (r->in_header) {
        eng_err_set(err, ENG_ECSV, "vehicle list '%s' is empty (no header "
                    "row)", r->name);
        goto out;
    }
    for (size_t k = 0; k < r->ncols; k++) {
        if (r->colmap[k] == COL_VIN)
            return r;
    }
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
    if (r->fail) {
        if (err)
            *err = r->fail_err;
        return r->fail;
    }
    while (!r->have_row) {
        if (r->done)
            return 0;
        int rc = feed(r, err);
        if (rc < 0)
            return rc;
    }
    if (make_row(r, row) < 0)
        return reader_fail(r, err, ENG_ENOMEM, "line %ld: out of memory",
                           r->row_line);
    r->next_index++;
    reset_row(r);
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
