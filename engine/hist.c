/* hist — service-history JSON into struct hist_rec records. */
#include "hist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "ptrain.h"

#include "task.h"

/* An odometer past this is a data error, not a vehicle (2 million km). */
#define HIST_MAX_KM 2e6
/* A single service costing more than this is a data error. */
#define HIST_MAX_COST 1e7

void hist_limits_default(struct hist_limits *lim)
{
    lim->max_body = 8u << 20;
    lim->max_records = 10000;
    lim->min_year = 1980;
    lim->max_year = 2100;
}

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
}

void hist_release(struct hist *h)
{
    free(h->rec);
    hist_init(h);
}

void hist_clear(struct hist *h)
{
    h->n = 0;
    h->bad_records = 0;
    h->bad_fields = 0;
    h->first_bad[0] = '\0';
}

static int hist_reserve(struct hist *h, size_t n, struct eng_err *err)
{
    if (n <= h->cap)
        return ENG_OK;
    size_t cap = h->cap ? h->cap : 16;
    while (cap < n)
        cap *= 2;
    struct hist_rec *r = realloc(h->rec, cap * sizeof(*r));
    if (!r)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    h->rec = r;
    h->cap = cap;
    return ENG_OK;
}

/* Results of reading one field. */
enum field { F_MISSING = 0, F_OK = 1, F_BAD = -1 };

/* Counts a dropped field; the first one of a history is described. */
static void count(struct hist *h, enum field f, const char *name,
                  const char *why)
{
    if (f != F_BAD)
        return;
    if (h->bad_fields++ == 0)
        snprintf(h->first_bad, sizeof(h->first_bad), "record %zu: %.24s %.90s",
                 h->n, name, why);
}

/* Longest task description looked at; the rest is cut (and still checked). */
#define HIST_TEXT_MAX 512

/*
 * Field readers.  Each consumes one value whatever its type and returns
 * F_OK, F_MISSING (null) or F_BAD (a type or value we cannot use); a JSON
 * syntax error shows as s->failed, checked by the caller.
 */

/* A string of at most cap-1 bytes (longer ones are cut). */
static enum field read_text(struct js *s, char *out, size_t cap)
{
    enum js_type t = js_peek(s);
    if (t == JS_STRING)
        return js_string(s, out, cap, NULL) < 0 ? F_BAD : F_OK;
    if (js_skip(s) < 0)
        return F_BAD;
    return t == JS_NULL ? F_MISSING : F_BAD;
}

/*
 * A number given as a JSON number or as a string holding only a decimal
 * number (strtod alone would also take "nan", "inf" and hex).
 */
static enum field read_number(struct js *s, double *out)
{
    enum js_type t = js_peek(s);
    if (t == JS_NUMBER) {
        double v;
        if (js_number(s, &v) < 0 || !isfinite(v))
            return F_BAD;
        *out = v;
        return F_OK;
    }
    if (t != JS_STRING) {
        js_skip(s);
        return t == JS_NULL ? F_MISSING : F_BAD;
    }
    char text[64];
    size_t n;
    if (js_string(s, text, sizeof(text), &n) < 0)
        return F_BAD;
    const char *p = text;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return F_MISSING;
    if (n == sizeof(text) - 1 || strspn(p, "0123456789+-.eE ") != strlen(p))
        return F_BAD;
    char *end;
    double v = strtod(p, &end);
    while (*end == ' ')
        end++;
    if (end == p || *end || !isfinite(v))
        return F_BAD;
    *out = v;
    return F_OK;
}

/* An id: a string (copied, truncated) or a number printed as an integer. */
static enum field read_id(struct js *s, char *out, size_t size)
{
    enum js_type t = js_peek(s);
    if (t == JS_NUMBER) {
        double v;
        if (js_number(s, &v) < 0 || !(fabs(v) < 1e15))
            return F_BAD;
        snprintf(out, size, "%.0f", v);
        return F_OK;
    }
    return read_text(s, out, size);
}

static void read_date(struct js *s, struct hist *h, struct hist_rec *r,
                      const struct hist_limits *lim)
{
    char text[64];
    enum field f = read_text(s, text, sizeof(text));
    if (f == F_BAD) {
        count(h, F_BAD, "date", "is not a string");
        return;
    }
    if (f == F_MISSING)
        return;
    struct eng_err err;
    long day;
    if (eng_parse_day(text, lim->min_year, lim->max_year, &day, &err) < 0) {
        count(h, F_BAD, "date:", err.msg);
        return;
    }
    r->day = day;
}

/* Case-insensitive ASCII substring test for the source vocabulary. */
static int has_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && (s[i] | 0x20) == word[i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* Field names of the two record shapes. */
struct shape {
    const char *id, *date, *odometer, *tasks, *task_desc, *details, *cost,
        *amount;
};

static const struct shape v2_shape = {
    "serviceId", "serviceDate", "odometerDistance", "serviceTasks",
    "taskDescription", "serviceDetails", "serviceCost", "totalCost"
};

static const struct shape v3_shape = {
    "id", "time", "odometer", "tasks", "description", "details", "cost",
    "amount"
};

/* One task object: counted, its description classified. */
static void read_task(struct js *s, struct hist_rec *r,
                      const struct shape *sh, const struct task_map *tasks)
{
    char key[32];
    int rc;
    r->n_tasks++;
    js_object_begin(s);
    while ((rc = js_object_next(s, key, sizeof(key))) == 1) {
        char text[HIST_TEXT_MAX];
        if (strcmp(key, sh->task_desc) == 0 &&
            read_text(s, text, sizeof(text)) == F_OK) {
            if (tasks)
                r->cats |= task_classify(tasks, text);
        } else if (strcmp(key, sh->task_desc) != 0) {
            js_skip(s);
        }
    }
}

/* One detail object: says who did the service, if it says so. */
static void read_detail(struct js *s, struct hist_rec *r)
{
    char key[32];
    while (js_object_next(s, key, sizeof(key)) == 1) {
        if (strcmp(key, "value") != 0 && strcmp(key, "type") != 0 &&
            strcmp(key, "description") != 0) {
            js_skip(s);
            continue;
        }
        char text[128];
        if (read_text(s, text, sizeof(text)) != F_OK)
            continue;
        if (has_word(text, "dealer"))
            r->source = HIST_SRC_DEALER;
        else if (r->source == HIST_SRC_UNKNOWN &&
                 (has_word(text, "owner") || has_word(text, "manual") ||
                  has_word(text, "self")))
            r->source = HIST_SRC_OWNER;
    }
}

/*
 * A list of task or detail objects, or one lone object.  Elements that are
 * not objects are passed over.
 */
static enum field read_items(struct js *s, struct hist_rec *r,
                             const struct shape *sh,
                             const struct task_map *tasks, int is_tasks)
{
    enum js_type t = js_peek(s);
    if (t == JS_OBJECT) {
        if (is_tasks) {
            read_task(s, r, sh, tasks);
        } else {
            js_object_begin(s);
            read_detail(s, r);
        }
        return F_OK;
    }
    if (t != JS_ARRAY) {
        js_skip(s);
        return t == JS_NULL ? F_MISSING : F_BAD;
    }
    js_array_begin(s);
    while (js_array_next(s) == 1) {
        if (js_peek(s) != JS_OBJECT)
            js_skip(s);
        else if (is_tasks)
            read_task(s, r, sh, tasks);
        else {
            js_object_begin(s);
            read_detail(s, r);
        }
    }
    return F_OK;
}

static void read_cost(struct js *s, struct hist *h, struct hist_rec *r,
                      const struct shape *sh)
{
    enum js_type t = js_peek(s);
    if (t != JS_OBJECT) {
        js_skip(s);
        count(h, t == JS_NULL ? F_MISSING : F_BAD, "cost",
              "is not an object");
        return;
    }
    js_object_begin(s);
    char key[32];
    while (js_object_next(s, key, sizeof(key)) == 1) {
        if (strcmp(key, sh->amount) == 0) {
            double v;
            enum field f = read_number(s, &v);
            if (f == F_OK && (v < 0 || v > HIST_MAX_COST))
                f = F_BAD;
            if (f == F_OK)
                r->cost = v;
            count(h, f, "cost", "is not a plausible amount");
        } else if (strcmp(key, "currency") == 0) {
            char cur[8];
            enum field f = read_text(s, cur, sizeof(cur));
            if (f == F_MISSING)
                continue;
            int ok = f == F_OK && strlen(cur) == 3;
            for (int i = 0; ok && i < 3; i++) {
                char c = cur[i];
                if (c >= 'a' && c <= 'z')
                    c = (char)(c - 32);
                ok = c >= 'A' && c <= 'Z';
                r->currency[i] = c;
            }
            r->currency[ok ? 3 : 0] = '\0';
            count(h, ok ? F_OK : F_BAD, "currency", "is not a 3-letter code");
        } else {
            js_skip(s);
        }
    }
}

/* One record object ('{' not yet read); appends it to h. */
static void read_record(struct js *s, struct hist *h, const struct shape *sh,
                        const struct hist_limits *lim,
                        const struct task_map *tasks)
{
    struct hist_rec *r = &h->rec[h->n++];
    memset(r, 0, sizeof(*r));
    r->day = HIST_NO_DAY;
    r->km = NAN;
    r->cost = NAN;
    js_object_begin(s);
    char key[32];
    while (js_object_next(s, key, sizeof(key)) == 1) {
        if (strcmp(key, sh->id) == 0 ||
            (sh == &v2_shape && strcmp(key, "serviceID") == 0)) {
            count(h, read_id(s, r->service_id, sizeof(r->service_id)),
                  "service id", "is neither a string nor a number");
        } else if (strcmp(key, sh->date) == 0) {
            read_date(s, h, r, lim);
        } else if (strcmp(key, sh->odometer) == 0) {
            double v;
            enum field f = read_number(s, &v);
            if (f == F_OK && (v < 0 || v > HIST_MAX_KM))
                f = F_BAD;
            if (f == F_OK)
                r->km = v;
            count(h, f, "odometer", "is not a plausible distance");
        } else if (strcmp(key, sh->tasks) == 0) {
            count(h, read_items(s, r, sh, tasks, 1), "tasks",
                  "are not a list");
        } else if (strcmp(key, sh->details) == 0) {
            count(h, read_items(s, r, sh, tasks, 0), "details",
                  "are not a list");
        } else if (strcmp(key, sh->cost) == 0) {
            read_cost(s, h, r, sh);
        } else {
            js_skip(s);
        }
    }
}

static int is_record_key(const char *key)
{
    return strcmp(key, "serviceDate") == 0 ||
           strcmp(key, "odometerDistance") == 0 ||
           strcmp(key, "serviceTasks") == 0 ||
           strcmp(key, "serviceCost") == 0;
}

static int syntax_error(const struct js *s, size_t base, struct eng_err *err)
{
    return eng_err_set(err, ENG_EJSON, "invalid JSON at byte %zu: %s",
                       base + s->err_off, s->err_what);
}

/* The records of an array ('[' not yet read). */
static int read_array(struct js *s, struct hist *h, const struct shape *sh,
                      const struct hist_limits *lim,
                      const struct task_map *tasks, struct eng_err *err)
{
    js_array_begin(s);
    int rc;
    while ((rc = js_array_next(s)) == 1) {
        if (js_peek(s) != JS_OBJECT) {
            if (js_skip(s) == 0)
                h->bad_records++;
            continue;
        }
        if (h->n == lim->max_records) {
            /* read on to the end: the text is still checked, and counted */
            size_t total = h->n + h->bad_records + 1;
            while (js_skip(s) == 0 && js_array_next(s) == 1)
                total++;
            if (s->failed)
                return ENG_EJSON;
            return eng_err_set(err, ENG_ELIMIT, "history has %zu records, "
                               "above the cap of %zu", total,
                               lim->max_records);
        }
        if (h->n == h->cap && hist_reserve(h, h->n + 1, err) < 0)
            return ENG_ENOMEM;
        read_record(s, h, sh, lim, tasks);
    }
    return ENG_OK;
}

/*
 * A history value of any accepted shape.  For an object the shape is found
 * in a first pass over its keys, then the object is read again from its
 * start: objects are the rare shapes.
 */
static int read_history(struct js *s, struct hist *h,
                        const struct hist_limits *lim,
                        const struct task_map *tasks, struct eng_err *err)
{
    enum js_type t = js_peek(s);
    if (t == JS_ARRAY)
        return read_array(s, h, &v2_shape, lim, tasks, err);
    if (t != JS_OBJECT) {
        if (t == JS_ERROR || js_skip(s) < 0)
            return ENG_EJSON;
        return eng_err_set(err, ENG_EDATA, "not a service history: a JSON "
                           "%s where an array of records belongs",
                           t == JS_STRING ? "string"
                           : t == JS_NUMBER ? "number"
                           : t == JS_NULL ? "null" : "boolean");
    }
    struct js probe = *s;
    char key[32];
    int shape = 0;   /* 1 wrapped v2, 2 v3 values, 3 a lone record */
    js_object_begin(&probe);
    while (!shape && js_object_next(&probe, key, sizeof(key)) == 1) {
        if ((strcmp(key, "serviceHistory") == 0 ||
             strcmp(key, "values") == 0) && js_peek(&probe) == JS_ARRAY)
            shape = key[0] == 's' ? 1 : 2;
        else if (is_record_key(key))
            shape = 3;
        else
            js_skip(&probe);
    }
    if (probe.failed) {
        *s = probe;
        return ENG_EJSON;
    }
    if (shape == 3) {
        if (hist_reserve(h, 1, err) < 0)
            return ENG_ENOMEM;
        read_record(s, h, &v2_shape, lim, tasks);
        return ENG_OK;
    }
    if (shape == 0) {
        js_skip(s);
        if (s->failed)
            return ENG_EJSON;
        return eng_err_set(err, ENG_EDATA, "not a service history: an "
                           "object without 'serviceHistory', 'values' or "
                           "record fields");
    }
    const char *want = shape == 1 ? "serviceHistory" : "values";
    int rc = ENG_OK;
    js_object_begin(s);
    while (rc == ENG_OK && js_object_next(s, key, sizeof(key)) == 1) {
        if (strcmp(key, want) == 0 && js_peek(s) == JS_ARRAY && h->n == 0)
            rc = read_array(s, h, shape == 1 ? &v2_shape : &v3_shape, lim,
                            tasks, err);
        else
            js_skip(s);
    }
    return rc;
}

/* Miles to km after the fact (the unit may come after the history). */
static void convert_imperial(struct hist *h)
{
    for (size_t i = 0; i < h->n; i++) {
        struct hist_rec *r = &h->rec[i];
        if (isnan(r->km))
            continue;
        r->km *= HIST_KM_PER_MILE;
        if (r->km > HIST_MAX_KM) {
            r->km = NAN;
            count(h, F_BAD, "odometer", "is not a plausible distance");
        }
    }
}

/* Skips a UTF-8 byte-order mark; returns how many bytes it took. */
static size_t skip_bom(const char **text, size_t *len)
{
    if (*len >= 3 && memcmp(*text, "\xEF\xBB\xBF", 3) == 0) {
        *text += 3;
        *len -= 3;
        return 3;
    }
    return 0;
}

int hist_parse(struct hist *h, const char *body, size_t len, int imperial,
               const struct hist_limits *lim, const struct task_map *tasks,
               struct eng_err *err)
{
    hist_clear(h);
    if (len > lim->max_body)
        return eng_err_set(err, ENG_ELIMIT,
                           "history body of %zu bytes is above the cap of %zu",
                           len, lim->max_body);
    size_t base = skip_bom(&body, &len);
    struct js s;
    js_init(&s, body, len);
    int rc = read_history(&s, h, lim, tasks, err);
    if (rc == ENG_OK || rc == ENG_EJSON) {
        if (s.failed || js_finish(&s) < 0)
            rc = syntax_error(&s, base, err);
    }
    if (rc < 0) {
        hist_clear(h);
        return rc;
    }
    if (imperial)
        convert_imperial(h);
    return ENG_OK;
}

void hist_entry_init(struct hist_entry *e)
{
    memset(e, 0, sizeof(*e));
    hist_init(&e->hist);
}

void hist_entry_clear(struct hist_entry *e)
{
    free(e->vin);
    free(e->vehicle_id);
    free(e->status);
    e->vin = NULL;
    e->vehicle_id = NULL;
    e->status = NULL;
    e->imperial = 0;
    e->powertrain = e->powertrain_src = e->model_year = 0;
    hist_clear(&e->hist);
}

void hist_entry_release(struct hist_entry *e)
{
    hist_entry_clear(e);
    hist_release(&e->hist);
}

/* Reads a string member into a new copy (NULL stays for non-strings). */
static int copy_text(struct js *s, char **out, struct eng_err *err)
{
    char text[256];
    if (read_text(s, text, sizeof(text)) != F_OK)
        return ENG_OK;
    free(*out);
    *out = strdup(text);
    return *out ? ENG_OK : eng_err_set(err, ENG_ENOMEM, "out of memory");
}

int hist_peek_vin(const char *line, size_t len, char *out, size_t size)
{
    static const char key[] = "\"vin\"";
    for (size_t i = 0; i + sizeof(key) - 1 < len; i++) {
        if (memcmp(line + i, key, sizeof(key) - 1) != 0)
            continue;
        size_t j = i + sizeof(key) - 1;
        while (j < len && (line[j] == ' ' || line[j] == ':'))
            j++;
        if (j >= len || line[j] != '"')
            return 0;
        size_t start = ++j;
        while (j < len && j - start < size - 1 &&
               ((line[j] >= '0' && line[j] <= '9') ||
                (line[j] >= 'A' && line[j] <= 'Z') ||
                (line[j] >= 'a' && line[j] <= 'z')))
            j++;
        if (j >= len || line[j] != '"' || j == start)
            return 0;
        memcpy(out, line + start, j - start);
        out[j - start] = '\0';
        return 1;
    }
    return 0;
}

/* The VIN of a line that failed to parse, so its status row can name it. */
static char *salvage_vin(const char *line, size_t len)
{
    char vin[64];
    return hist_peek_vin(line, len, vin, sizeof(vin)) ? strdup(vin) : NULL;
}

int hist_parse_line(struct hist_entry *e, const char *line, size_t len,
                    const struct hist_limits *lim,
                    const struct task_map *tasks, struct eng_err *err)
{
    hist_entry_clear(e);
    if (len > lim->max_body + 4096) {
        e->vin = salvage_vin(line, len < 4096 ? len : 4096);
        return eng_err_set(err, ENG_ELIMIT,
                           "bundle line of %zu bytes is above the cap of %zu",
                           len, lim->max_body);
    }
    size_t base = skip_bom(&line, &len);
    struct js s;
    js_init(&s, line, len);
    int rc = ENG_OK, hist_rc = ENG_OK;
    struct eng_err hist_err = {0};
    int have_history = 0;
    if (js_peek(&s) != JS_OBJECT) {
        if (!s.failed && js_skip(&s) == 0 && js_finish(&s) == 0)
            return eng_err_set(err, ENG_EDATA, "bundle line is not a JSON "
                               "object");
        return syntax_error(&s, base, err);
    }
    js_object_begin(&s);
    char key[32];
    while (rc == ENG_OK && js_object_next(&s, key, sizeof(key)) == 1) {
        if (strcmp(key, "vin") == 0) {
            rc = copy_text(&s, &e->vin, err);
        } else if (strcmp(key, "vehicle_id") == 0) {
            rc = copy_text(&s, &e->vehicle_id, err);
        } else if (strcmp(key, "status") == 0) {
            rc = copy_text(&s, &e->status, err);
        } else if (strcmp(key, "unit_system") == 0) {
            char units[16];
            e->imperial = read_text(&s, units, sizeof(units)) == F_OK &&
                          strcmp(units, "imperial") == 0;
        } else if (strcmp(key, "powertrain") == 0) {
            char pt[32];
            if (read_text(&s, pt, sizeof(pt)) == F_OK)
                e->powertrain = ptrain_parse(pt);
        } else if (strcmp(key, "powertrain_source") == 0) {
            char src[16];
            if (read_text(&s, src, sizeof(src)) == F_OK)
                e->powertrain_src = ptrain_src_parse(src);
        } else if (strcmp(key, "model_year") == 0) {
            double y;
            if (read_number(&s, &y) == F_OK && y >= 1900 && y <= 2100 &&
                y == floor(y))
                e->model_year = (int)y;
        } else if (strcmp(key, "history") == 0 && !have_history) {
            have_history = 1;
            int hrc = read_history(&s, &e->hist, lim, tasks, &hist_err);
            /* a history that is no history: read on, decide at the end */
            if (hrc == ENG_EDATA || hrc == ENG_ELIMIT)
                hist_rc = hrc;
            else if (hrc == ENG_ENOMEM)
                rc = eng_err_set(err, hrc, "out of memory");        } else {
            js_skip(&s);
        }
    }
    if (rc == ENG_OK || rc == ENG_EJSON) {
        if (s.failed || js_finish(&s) < 0) {
            if (!e->vin)
                e->vin = salvage_vin(line, len);
            hist_clear(&e->hist);
            return syntax_error(&s, base, err);
        }
    }
    if (rc < 0) {
        hist_clear(&e->hist);
        return rc;
    }
    int failed_fetch = e->status && strcmp(e->status, "ok") != 0 &&
                       strcmp(e->status, "no_history") != 0;
    if (failed_fetch) {
        hist_clear(&e->hist);
        return ENG_OK;
    }
    if (hist_rc < 0) {
        hist_clear(&e->hist);
        if (err)
            *err = hist_err;
        return hist_rc;
    }
    if (!have_history)
        return eng_err_set(err, ENG_EDATA, "bundle line has no 'history'");
    if (e->imperial)
        convert_imperial(&e->hist);
    return ENG_OK;
}
