/* sim_fleet — load a synthetic fleet directory into memory. */
#include "sim_fleet.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jscan.h"
#include "tab.h"
#include "vinmap.h"

#define KM_PER_MILE 1.609344
#define MAX_COLUMNS 64
#define MAX_LINE ((size_t)256 << 20)

/* One service record, serialised once at load time. */
struct rec {
    size_t off;         /* into hist.text */
    size_t len;
    long day;
    int has_day;
    size_t odo_off;     /* the odometer's text inside the record */
    size_t odo_len;     /* 0: no convertible odometer */
    double odo;
    int odo_quoted;     /* the odometer was a numeric string */
};

struct hist {
    char *text;         /* records back to back, or the verbatim body */
    size_t text_len;
    struct rec *recs;
    size_t n;
    int verbatim;
};

struct user {
    char *id;
    size_t *veh;
    size_t n;
    size_t cap;
};

struct slot {
    const char *key;    /* NULL: empty */
    size_t len;
    size_t idx;
};

/* Open addressing, linear probing, at most half full. */
struct smap {
    struct slot *slots;
    size_t mask;
    size_t used;
};

struct sim_fleet {
    struct sim_vehicle *veh;
    struct hist *hist;
    size_t nveh;
    size_t capveh;
    struct user *users;
    size_t nusers;
    size_t capusers;
    struct sim_grant *grants;
    size_t ngrants;
    size_t capgrants;
    struct smap by_id;
    struct vinmap *by_vin;     /* VIN -> size_t index into veh */
    struct smap by_user;
};

/* ===== hash map ===== */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

static struct slot *smap_probe(const struct smap *m, const char *key,
                               size_t len)
{
    size_t i = (size_t)hash_bytes(key, len) & m->mask;
    for (;;) {
        struct slot *s = &m->slots[i];
        if (!s->key || (s->len == len && memcmp(s->key, key, len) == 0))
            return s;
        i = (i + 1) & m->mask;
    }
}

static int smap_grow(struct smap *m)
{
    size_t n = m->slots ? (m->mask + 1) * 2 : 64;
    struct slot *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return ENG_ENOMEM;
    struct smap next = {slots, n - 1, m->used};
    for (size_t i = 0; m->slots && i <= m->mask; i++) {
        if (m->slots[i].key)
            *smap_probe(&next, m->slots[i].key, m->slots[i].len) =
                m->slots[i];
    }
    free(m->slots);
    *m = next;
    return ENG_OK;
}

/* Looks key up; returns its index or -1. */
static long smap_get(const struct smap *m, const char *key, size_t len)
{
    if (!m->slots)
        return -1;
    const struct slot *s = smap_probe(m, key, len);
    return s->key ? (long)s->idx : -1;
}

/* Adds key (borrowed, must outlive the map); key must be absent. */
static int smap_put(struct smap *m, const char *key, size_t idx)
{
    if (!m->slots || (m->used + 1) * 2 > m->mask + 1) {
        if (smap_grow(m) < 0)
            return ENG_ENOMEM;
    }
    size_t len = strlen(key);
    struct slot *s = smap_probe(m, key, len);
    s->key = key;
    s->len = len;
    s->idx = idx;
    m->used++;
    return ENG_OK;
}

/* ===== growth helpers ===== */

/*
 * Returns an array with room for need elements: p itself when cap allows,
 * else a larger copy (*cap updated), or NULL with p untouched.
 */
static void *reserve(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * size);
    if (q)
        *cap = n;
    return q;
}

/* ===== vehicles.csv ===== */

enum col {
    COL_VIN, COL_VEHICLE_ID, COL_MAKE, COL_MODEL, COL_MODEL_YEAR,
    COL_UNIT_SYSTEM, COL_USER_ID, COL_ACCESS, COL_REFRESH, COL_EXPIRES,
    COL_POWERTRAIN, COL_COUNT
};

static const char *const col_names[COL_COUNT] = {
    "vin", "vehicle_id", "make", "model", "model_year", "unit_system",
    "user_id", "access_token", "refresh_token", "expires_at", "powertrain"
};

/* The powertrain a cell names (case-insensitive), as a static string. */
static const char *powertrain_of(const char *s)
{
    static const char *const names[] = {"ICE", "HEV", "PHEV", "BEV"};
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i]) == 0)
            return names[i];
    }
    return NULL;
}

struct fleet_csv {
    struct sim_fleet *f;
    const char *const *field;   /* the row tab read, borrowed */
    size_t nfield;
    int col[COL_COUNT];     /* column of each known name, -1 absent */
    long row;               /* data rows seen, header excluded */
    struct eng_err *err;
};

static const char *cell(const struct fleet_csv *st, enum col c)
{
    int i = st->col[c];
    if (i < 0 || (size_t)i >= st->nfield || st->field[i][0] == '\0')
        return NULL;
    return st->field[i];
}

static char *dup_or(const char *s, const char *fallback)
{
    return strdup(s ? s : fallback);
}

static long find_or_add_user(struct sim_fleet *f, const char *id)
{
    long u = smap_get(&f->by_user, id, strlen(id));
    if (u >= 0)
        return u;
    struct user *users = reserve(f->users, &f->capusers, f->nusers + 1,
                                 sizeof(*f->users));
    if (!users)
        return -1;
    f->users = users;
    struct user *usr = &f->users[f->nusers];
    memset(usr, 0, sizeof(*usr));
    usr->id = strdup(id);
    if (!usr->id || smap_put(&f->by_user, usr->id, f->nusers) < 0) {
        free(usr->id);
        return -1;
    }
    return (long)f->nusers++;
}

static int parse_unit(const char *s, int *imperial)
{
    if (!s || strcmp(s, "metric") == 0) {
        *imperial = 0;
        return ENG_OK;
    }
    if (strcmp(s, "imperial") == 0) {
        *imperial = 1;
        return ENG_OK;
    }
    return ENG_EDATA;
}

/*
 * A vehicle id travels as one URL path segment and as a log field: printable
 * ASCII without space, '/', '?', '#', '%', quotes or backslash.
 */
static int path_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || strchr("/?#%\"\\", *p))
            return 0;
    }
    return 1;
}

static int add_row(struct fleet_csv *st)
{
    struct sim_fleet *f = st->f;
    const char *id = cell(st, COL_VEHICLE_ID);
    const char *uid = cell(st, COL_USER_ID);
    long line = st->row + 1;    /* data row numbers, as a user counts */
    if (!id || !uid)
        return eng_err_set(st->err, ENG_EDATA,
                           "vehicles.csv row %ld: empty %s", line,
                           id ? "user_id" : "vehicle_id");
    if (!path_safe(id))
        return eng_err_set(st->err, ENG_EDATA,
                           "vehicles.csv row %ld: vehicle_id '%.64s' has "
                           "characters a URL path cannot carry", line, id);
    if (smap_get(&f->by_id, id, strlen(id)) >= 0)
        return eng_err_set(st->err, ENG_EDATA,
                           "vehicles.csv row %ld: duplicate vehicle_id "
                           "'%.64s'", line, id);
    int imperial;
    if (parse_unit(cell(st, COL_UNIT_SYSTEM), &imperial) < 0)
        return eng_err_set(st->err, ENG_EDATA,
                           "vehicles.csv row %ld: unit_system must be "
                           "metric or imperial", line);
    long long expires = 0;
    const char *exp = cell(st, COL_EXPIRES);
    if (exp && sim_window_parse_instant(exp, &expires, NULL) < 0)
        return eng_err_set(st->err, ENG_EDATA,
                           "vehicles.csv row %ld: bad expires_at", line);
    long user = find_or_add_user(f, uid);
    if (user < 0)
        return eng_err_set(st->err, ENG_ENOMEM, "out of memory");
    struct sim_vehicle *veh = reserve(f->veh, &f->capveh, f->nveh + 1,
                                      sizeof(*f->veh));
    if (!veh)
        return eng_err_set(st->err, ENG_ENOMEM, "out of memory");
    f->veh = veh;

    struct sim_vehicle *v = &f->veh[f->nveh];
    memset(v, 0, sizeof(*v));
    v->index = f->nveh;
    v->user = (size_t)user;
    v->imperial = imperial;
    const char *year = cell(st, COL_MODEL_YEAR);
    v->year = year ? (int)strtol(year, NULL, 10) : 0;
    v->powertrain = powertrain_of(cell(st, COL_POWERTRAIN));
    char *sid = strdup(id);
    char *vin = dup_or(cell(st, COL_VIN), "");
    char *make = dup_or(cell(st, COL_MAKE), "UNKNOWN");
    char *model = dup_or(cell(st, COL_MODEL), "UNKNOWN");
    struct user *usr = &f->users[user];
    int rc = sid && vin && make && model ? ENG_OK : ENG_ENOMEM;
    if (rc == ENG_OK) {
        size_t *uv = reserve(usr->veh, &usr->cap, usr->n + 1,
                             sizeof(*usr->veh));
        if (uv)
            usr->veh = uv;
        else
            rc = ENG_ENOMEM;
    }
    if (rc == ENG_OK)
        rc = smap_put(&f->by_id, sid, f->nveh);
    if (rc == ENG_OK && vin[0]) {
        int added;
        size_t *at = vinmap_put(f->by_vin, vin, &added, NULL);
        if (!at)
            rc = strlen(vin) > VINMAP_KEY_MAX ? ENG_EDATA : ENG_ENOMEM;
        else if (added)
            *at = f->nveh;
    }
    if (rc < 0) {
        free(sid);
        free(vin);
        free(make);
        free(model);
        if (rc == ENG_EDATA)
            return eng_err_set(st->err, ENG_EDATA, "vehicles.csv row %ld: "
                               "vin '%.40s' is longer than %d characters",
                               line, cell(st, COL_VIN), VINMAP_KEY_MAX);
        return eng_err_set(st->err, ENG_ENOMEM, "out of memory");
    }
    for (char *p = make; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    v->id = sid;
    v->vin = vin;
    v->make = make;
    v->model = model;
    usr->veh[usr->n++] = f->nveh;
    f->nveh++;

    const char *at = cell(st, COL_ACCESS);
    const char *rt = cell(st, COL_REFRESH);
    if (!at && !rt)
        return ENG_OK;
    struct sim_grant *grants = reserve(f->grants, &f->capgrants,
                                       f->ngrants + 1, sizeof(*f->grants));
    if (!grants)
        return eng_err_set(st->err, ENG_ENOMEM, "out of memory");
    f->grants = grants;
    struct sim_grant *g = &f->grants[f->ngrants];
    g->user = (size_t)user;
    g->access = at ? strdup(at) : NULL;
    g->refresh = rt ? strdup(rt) : NULL;
    g->expires_at = expires;
    f->ngrants++;
    if ((at && !g->access) || (rt && !g->refresh))
        return eng_err_set(st->err, ENG_ENOMEM, "out of memory");
    return ENG_OK;
}

/*
 * vehicles.csv is read with tab in its strict mode: a row that breaks the
 * CSV rules refuses the fleet (the simulator serves what it was given, or
 * nothing), where the vehicle list gives such a row its own status.
 */
static int load_csv(struct sim_fleet *f, const char *path,
                    struct eng_err *err)
{
    struct tab_opts opts = {.recover = 1, .max_fields = MAX_COLUMNS};
    struct tab *t = tab_open_with(path, &opts, err);
    if (!t)
        return err ? err->code : ENG_EIO;
    struct fleet_csv st;
    memset(&st, 0, sizeof(st));
    st.f = f;
    st.err = err;
    for (int k = 0; k < COL_COUNT; k++)
        st.col[k] = tab_col(t, col_names[k]);
    int rc = ENG_OK;
    if (st.col[COL_VEHICLE_ID] < 0 || st.col[COL_USER_ID] < 0)
        rc = eng_err_set(err, ENG_EDATA, "vehicles.csv: header lacks %s",
                         st.col[COL_VEHICLE_ID] < 0 ? "vehicle_id"
                                                    : "user_id");
    while (rc == ENG_OK && (rc = tab_next(t, &st.field, err)) == 1) {
        rc = ENG_OK;
        st.nfield = tab_row_fields(t);
        if (tab_row_error(t)) {
            rc = eng_err_set(err, ENG_ECSV, "vehicles.csv row %ld (line "
                             "%ld): %s", st.row + 1, tab_row_line(t),
                             tab_row_error(t));
            break;
        }
        if (st.nfield > tab_ncols(t))
            st.nfield = tab_ncols(t);
        /* a line holding only "" comes through as one empty field */
        if (st.nfield == 1 && st.field[0][0] == '\0')
            continue;
        rc = add_row(&st);
        st.row++;
    }
    tab_close(t);
    return rc < 0 ? rc : ENG_OK;
}

/* The vehicle with this VIN, or -1. */
static long vin_index(const struct sim_fleet *f, const char *vin)
{
    const size_t *at = vinmap_get(f->by_vin, vin);
    return at ? (long)*at : -1;
}

/* ===== histories.jsonl ===== */

/*
 * Records keep their bytes exactly as the file has them: the history array
 * is copied once and each record is a span of it, with its date parsed and
 * its odometer located so that a response in the other unit rewrites just
 * that number.  The line is validated once, by jscan, as it is walked; the
 * history and each record are then walked again from their spans.
 */

/* Longest member name looked for here ("odometerDistance"), plus a byte. */
#define KEY_CAP 24

/*
 * A buffer for a string of at most max bytes: js_string() cuts a long
 * string at a character boundary, up to 3 bytes short of its room, so 4
 * spare bytes tell a string that fits from one that was cut.
 */
#define STR_BUF(max) ((max) + 5)

/*
 * Decodes the string at span v of text into buf (size bytes, from
 * STR_BUF()).  Returns buf, or NULL when v is not a string, is longer than
 * size - 5 bytes or holds a NUL.
 */
static const char *span_str(const char *text, const struct js_span *v,
                            char *buf, size_t size)
{
    struct js s;
    size_t n;
    js_init(&s, text + v->off, v->len);
    if (js_string(&s, buf, size, &n) < 0 || n + 5 > size
        || memchr(buf, '\0', n))
        return NULL;
    return buf;
}

/*
 * The odometer: a number, or a string holding exactly a JSON number, that
 * strtod reads without ERANGE.  Returns ENG_OK and sets *out, else
 * ENG_EDATA.
 */
static int span_odometer(const char *text, const struct js_span *v,
                         double *out)
{
    char buf[STR_BUF(63)];
    size_t n;
    struct js s;
    js_init(&s, text + v->off, v->len);
    enum js_type t = js_peek(&s);
    if (t == JS_STRING) {
        if (!span_str(text, v, buf, sizeof(buf)))
            return ENG_EDATA;
        n = strlen(buf);
        struct js_span num;
        js_init(&s, buf, n);
        if (js_peek(&s) != JS_NUMBER || js_span(&s, &num) < 0
            || num.off != 0 || num.len != n)
            return ENG_EDATA;
    } else if (t == JS_NUMBER) {
        if (v->len > 63)
            return ENG_EDATA;
        n = v->len;
        memcpy(buf, text + v->off, n);
        buf[n] = '\0';
    } else {
        return ENG_EDATA;
    }
    errno = 0;
    char *end = NULL;
    double d = strtod(buf, &end);
    if (errno == ERANGE || end != buf + n)
        return ENG_EDATA;
    *out = d;
    return ENG_OK;
}

/*
 * Indexes the record the scanner s stands on (in the history text base)
 * and moves past it: one walk both finds the record's span and reads its
 * date and odometer.  The history was validated with its line, so an error
 * here cannot happen; it would stop the walk.
 */
static int index_record(struct rec *r, struct js *s, const char *base)
{
    memset(r, 0, sizeof(*r));
    if (js_peek(s) != JS_OBJECT) {
        struct js_span v;
        if (js_span(s, &v) < 0)
            return -1;
        r->off = v.off;
        r->len = v.len;
        return 0;
    }
    r->off = js_offset(s);
    if (js_object_begin(s) < 0)
        return -1;
    char key[KEY_CAP];
    struct js_span val;
    int seen_date = 0;
    int seen_odo = 0;
    int rc;
    while ((rc = js_object_next(s, key, sizeof(key))) == 1) {
        if (js_span(s, &val) < 0)
            return -1;
        if (!seen_date && strcmp(key, "serviceDate") == 0) {
            seen_date = 1;
            char date[STR_BUF(63)];
            if (span_str(base, &val, date, sizeof(date))
                && eng_parse_day(date, SIM_WINDOW_MIN_YEAR,
                                 SIM_WINDOW_MAX_YEAR, &r->day,
                                 NULL) == ENG_OK)
                r->has_day = 1;
        } else if (!seen_odo && strcmp(key, "odometerDistance") == 0) {
            seen_odo = 1;
            if (span_odometer(base, &val, &r->odo) == ENG_OK) {
                r->odo_quoted = base[val.off] == '"';
                r->odo_off = val.off - r->off;
                r->odo_len = val.len;
            }
        }
    }
    r->len = js_offset(s) - r->off;
    return rc;
}

static int set_history(struct hist *h, const char *line,
                       const struct js_span *body)
{
    struct js s;
    js_init(&s, line + body->off, body->len);
    enum js_type t = js_peek(&s);
    h->text = malloc(body->len + 1);
    if (!h->text)
        return ENG_ENOMEM;
    if (t == JS_STRING) {
        /* a string is the raw body, possibly not JSON at all; its decoded
         * text is never longer than its JSON form */
        h->verbatim = 1;
        if (js_string(&s, h->text, body->len + 1, &h->text_len) < 0
            || memchr(h->text, '\0', h->text_len)) {
            free(h->text);
            h->text = NULL;
            return ENG_EDATA;
        }
        return ENG_OK;
    }
    memcpy(h->text, line + body->off, body->len);
    h->text[body->len] = '\0';
    h->text_len = body->len;
    if (t != JS_ARRAY) {
        h->verbatim = 1;
        return ENG_OK;
    }
    size_t cap = 0;
    js_init(&s, h->text, h->text_len);
    js_array_begin(&s);
    while (js_array_next(&s) == 1) {
        struct rec *recs = reserve(h->recs, &cap, h->n + 1,
                                   sizeof(*h->recs));
        if (!recs)
            return ENG_ENOMEM;
        h->recs = recs;
        if (index_record(&h->recs[h->n], &s, h->text) < 0)
            break;
        h->n++;
    }
    return ENG_OK;
}

static int add_line(struct sim_fleet *f, const char *line, size_t len,
                    long lineno, struct eng_err *err)
{
    struct js s;
    js_init(&s, line, len);
    if (js_peek(&s) != JS_OBJECT)
        return eng_err_set(err, ENG_EJSON,
                           "histories.jsonl line %ld: not a JSON object",
                           lineno);
    struct js_span none = {0, 0};
    struct js_span vid = none;
    struct js_span vin = none;
    struct js_span unit = none;
    struct js_span fetched = none;
    struct js_span body = none;
    struct js_span val;
    char key[KEY_CAP];
    int rc = js_object_begin(&s);
    while (rc == 0 && (rc = js_object_next(&s, key, sizeof(key))) == 1) {
        rc = js_span(&s, &val);
        if (rc < 0)
            break;
        if (strcmp(key, "vehicle_id") == 0)
            vid = val;
        else if (strcmp(key, "vin") == 0)
            vin = val;
        else if (strcmp(key, "unit_system") == 0)
            unit = val;
        else if (strcmp(key, "fetched_at") == 0)
            fetched = val;
        else if (strcmp(key, "history") == 0)
            body = val;
    }
    if (rc < 0 || js_finish(&s) < 0)
        return eng_err_set(err, ENG_EJSON,
                           "histories.jsonl line %ld: bad JSON at byte %zu "
                           "(%s)", lineno, s.err_off, s.err_what);
    /* a span of length 0 is a member that was absent */
    char idbuf[STR_BUF(255)];
    char vinbuf[STR_BUF(63)];
    char unitbuf[STR_BUF(15)];
    char fetchedbuf[STR_BUF(63)];
    const char *id = vid.len ? span_str(line, &vid, idbuf, sizeof(idbuf))
                     : NULL;
    const char *vs = vin.len ? span_str(line, &vin, vinbuf, sizeof(vinbuf))
                     : NULL;
    long vi = id ? smap_get(&f->by_id, id, strlen(id))
              : vs ? vin_index(f, vs) : -1;
    if (vi < 0)
        return ENG_OK;  /* not in vehicles.csv: nobody can ask for it */
    struct hist *h = &f->hist[vi];
    struct sim_vehicle *v = &f->veh[vi];
    if (h->text)
        return eng_err_set(err, ENG_EDATA,
                           "histories.jsonl line %ld: second history for "
                           "vehicle '%.64s'", lineno, v->id);
    if (unit.len) {
        const char *u = span_str(line, &unit, unitbuf, sizeof(unitbuf));
        if (!u || parse_unit(u, &v->imperial) < 0)
            return eng_err_set(err, ENG_EDATA,
                               "histories.jsonl line %ld: unit_system must "
                               "be metric or imperial", lineno);
    }
    /* it becomes the SC-Data-Age header: only a real instant will do */
    const char *fa = fetched.len ? span_str(line, &fetched, fetchedbuf,
                                            sizeof(fetchedbuf))
                     : NULL;
    long long secs;
    if (fa && sim_window_parse_instant(fa, &secs, NULL) < 0)
        return eng_err_set(err, ENG_EDATA,
                           "histories.jsonl line %ld: bad fetched_at",
                           lineno);
    if (fa) {
        v->fetched_at = strdup(fa);
        if (!v->fetched_at)
            return eng_err_set(err, ENG_ENOMEM, "out of memory");
    }
    if (!body.len)
        return eng_err_set(err, ENG_EDATA,
                           "histories.jsonl line %ld: no history", lineno);
    rc = set_history(h, line, &body);
    if (rc == ENG_EDATA)
        return eng_err_set(err, ENG_EDATA,
                           "histories.jsonl line %ld: history string holds "
                           "a NUL", lineno);
    if (rc < 0)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    return ENG_OK;
}

static int load_jsonl(struct sim_fleet *f, const char *path,
                      struct eng_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return eng_err_set(err, ENG_EIO, "cannot open '%s': %s", path,
                           strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = ENG_OK;
    while (rc == ENG_OK) {
        ssize_t n = getline(&line, &cap, fp);
        if (n < 0)
            break;
        lineno++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        if (len > MAX_LINE) {
            rc = eng_err_set(err, ENG_ELIMIT,
                             "histories.jsonl line %ld is too long", lineno);
            break;
        }
        rc = add_line(f, line, len, lineno, err);
    }
    if (rc == ENG_OK && ferror(fp))
        rc = eng_err_set(err, ENG_EIO, "cannot read '%s'", path);
    free(line);
    fclose(fp);
    return rc;
}

/* ===== public ===== */

struct sim_fleet *sim_fleet_load(const char *dir, struct eng_err *err)
{
    struct sim_fleet *f = calloc(1, sizeof(*f));
    if (!f) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    size_t dlen = strlen(dir);
    char *path = malloc(dlen + 32);
    f->by_vin = vinmap_new(sizeof(size_t), NULL);
    if (!path || !f->by_vin) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(path, dlen + 32, "%s/vehicles.csv", dir);
    if (load_csv(f, path, err) < 0)
        goto fail;
    f->hist = calloc(f->nveh ? f->nveh : 1, sizeof(*f->hist));
    if (!f->hist) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(path, dlen + 32, "%s/histories.jsonl", dir);
    if (load_jsonl(f, path, err) < 0)
        goto fail;
    free(path);
    return f;
fail:
    free(path);
    sim_fleet_free(f);
    return NULL;
}

void sim_fleet_free(struct sim_fleet *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nveh; i++) {
        free((char *)f->veh[i].id);
        free((char *)f->veh[i].vin);
        free((char *)f->veh[i].make);
        free((char *)f->veh[i].model);
        free((char *)f->veh[i].fetched_at);
        if (f->hist) {
            free(f->hist[i].text);
            free(f->hist[i].recs);
        }
    }
    for (size_t i = 0; i < f->nusers; i++) {
        free(f->users[i].id);
        free(f->users[i].veh);
    }
    for (size_t i = 0; i < f->ngrants; i++) {
        free((char *)f->grants[i].access);
        free((char *)f->grants[i].refresh);
    }
    free(f->veh);
    free(f->hist);
    free(f->users);
    free(f->grants);
    free(f->by_id.slots);
    vinmap_free(f->by_vin);
    free(f->by_user.slots);
    free(f);
}

size_t sim_fleet_vehicle_count(const struct sim_fleet *f)
{
    return f->nveh;
}

size_t sim_fleet_user_count(const struct sim_fleet *f)
{
    return f->nusers;
}

const struct sim_vehicle *sim_fleet_vehicle(const struct sim_fleet *f,
                                            size_t i)
{
    return i < f->nveh ? &f->veh[i] : NULL;
}

const struct sim_vehicle *sim_fleet_find(const struct sim_fleet *f,
                                         const char *id, size_t len)
{
    long i = smap_get(&f->by_id, id, len);
    return i < 0 ? NULL : &f->veh[i];
}

const char *sim_fleet_user_id(const struct sim_fleet *f, size_t user)
{
    return user < f->nusers ? f->users[user].id : NULL;
}

long sim_fleet_find_user(const struct sim_fleet *f, const char *id)
{
    return smap_get(&f->by_user, id, strlen(id));
}

size_t sim_fleet_user_vehicles(const struct sim_fleet *f, size_t user,
                               const size_t **idx)
{
    if (user >= f->nusers) {
        *idx = NULL;
        return 0;
    }
    *idx = f->users[user].veh;
    return f->users[user].n;
}

size_t sim_fleet_grant_count(const struct sim_fleet *f)
{
    return f->ngrants;
}

const struct sim_grant *sim_fleet_grant(const struct sim_fleet *f, size_t i)
{
    return i < f->ngrants ? &f->grants[i] : NULL;
}

/* The stored odometer in the unit asked for, 0.01 precision. */
static void add_odometer(struct sim_buf *out, const struct rec *r,
                         int convert_to_miles)
{
    double v = convert_to_miles ? r->odo / KM_PER_MILE : r->odo * KM_PER_MILE;
    sim_buf_printf(out, r->odo_quoted ? "\"%.2f\"" : "%.2f", v);
}

static void add_rec(struct sim_buf *out, const struct hist *h,
                    const struct rec *r, int stored_imperial,
                    int imperial_out)
{
    const char *t = h->text + r->off;
    if (!r->odo_len || stored_imperial == imperial_out) {
        sim_buf_add(out, t, r->len);
        return;
    }
    sim_buf_add(out, t, r->odo_off);
    add_odometer(out, r, imperial_out);
    sim_buf_add(out, t + r->odo_off + r->odo_len,
                r->len - r->odo_off - r->odo_len);
}

long sim_fleet_render_history(const struct sim_fleet *f, size_t vi,
                              const struct sim_window *w, int imperial_out,
                              struct sim_buf *out)
{
    const struct hist *h = &f->hist[vi];
    int stored = f->veh[vi].imperial;
    if (h->verbatim) {
        sim_buf_add(out, h->text, h->text_len);
        return out->failed ? -1 : 0;
    }
    long n = 0;
    sim_buf_add(out, "[", 1);
    for (size_t i = 0; i < h->n; i++) {
        const struct rec *r = &h->recs[i];
        if (!sim_window_includes(w, r->has_day, r->day))
            continue;
        if (n > 0)
            sim_buf_add(out, ",", 1);
        add_rec(out, h, r, stored, imperial_out);
        n++;
    }
    sim_buf_add(out, "]", 1);
    return out->failed ? -1 : n;
}

/* Copies a string-or-number field as a JSON value (null otherwise). */
static void add_scalar(struct sim_buf *out, const cJSON *v)
{
    if (cJSON_IsString(v))
        sim_buf_json_cstr(out, v->valuestring);
    else if (cJSON_IsNumber(v))
        sim_buf_printf(out, "%.17g", v->valuedouble);
    else
        sim_buf_puts(out, "null");
}

/* Maps a v2 list of {from_id, from_text} objects to v3 {id, description}. */
static void add_v3_list(struct sim_buf *out, const cJSON *list,
                        const char *from_id, const char *from_text)
{
    sim_buf_add(out, "[", 1);
    int first = 1;
    const cJSON *item;
    if (cJSON_IsObject(list)) {
        item = list;    /* a single object is accepted for an array */
    } else {
        item = cJSON_IsArray(list) ? list->child : NULL;
    }
    for (; item; item = cJSON_IsArray(list) ? item->next : NULL) {
        if (!cJSON_IsObject(item))
            continue;
        if (!first)
            sim_buf_add(out, ",", 1);
        first = 0;
        sim_buf_puts(out, "{\"id\":");
        add_scalar(out, cJSON_GetObjectItemCaseSensitive(item, from_id));
        sim_buf_puts(out, ",\"description\":");
        add_scalar(out, cJSON_GetObjectItemCaseSensitive(item, from_text));
        sim_buf_add(out, "}", 1);
    }
    sim_buf_add(out, "]", 1);
}

static int add_v3_record(struct sim_buf *out, const struct hist *h,
                         const struct rec *r, int stored_imperial,
                         int imperial_out)
{
    cJSON *item = cJSON_ParseWithLength(h->text + r->off, r->len);
    if (!item)
        return -1;
    sim_buf_puts(out, "{\"id\":");
    add_scalar(out, cJSON_GetObjectItemCaseSensitive(item, "serviceId"));
    sim_buf_puts(out, ",\"time\":");
    add_scalar(out, cJSON_GetObjectItemCaseSensitive(item, "serviceDate"));
    sim_buf_puts(out, ",\"odometer\":");
    if (!r->odo_len)
        sim_buf_puts(out, "null");
    else if (stored_imperial == imperial_out)
        sim_buf_printf(out, "%.15g", r->odo);
    else
        sim_buf_printf(out, "%.2f", imperial_out ? r->odo / KM_PER_MILE
                                                 : r->odo * KM_PER_MILE);
    sim_buf_puts(out, ",\"tasks\":");
    add_v3_list(out, cJSON_GetObjectItemCaseSensitive(item, "serviceTasks"),
                "taskId", "taskDescription");
    sim_buf_puts(out, ",\"details\":");
    add_v3_list(out, cJSON_GetObjectItemCaseSensitive(item, "serviceDetails"),
                "type", "value");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(item, "serviceCost");
    sim_buf_puts(out, ",\"cost\":{\"amount\":");
    add_scalar(out, cJSON_GetObjectItemCaseSensitive(cost, "totalCost"));
    sim_buf_puts(out, ",\"currency\":");
    add_scalar(out, cJSON_GetObjectItemCaseSensitive(cost, "currency"));
    sim_buf_puts(out, "}}");
    cJSON_Delete(item);
    return 0;
}

long sim_fleet_render_v3(const struct sim_fleet *f, size_t vi,
                         int imperial_out, struct sim_buf *out)
{
    const struct hist *h = &f->hist[vi];
    if (h->verbatim) {
        sim_buf_add(out, h->text, h->text_len);
        return out->failed ? -1 : 0;
    }
    long n = 0;
    sim_buf_puts(out, "{\"values\":[");
    for (size_t i = 0; i < h->n; i++) {
        if (n > 0)
            sim_buf_add(out, ",", 1);
        if (add_v3_record(out, h, &h->recs[i], f->veh[vi].imperial,
                          imperial_out) < 0)
            return -1;
        n++;
    }
    sim_buf_puts(out, "]}");
    return out->failed ? -1 : n;
}
