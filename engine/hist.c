/* hist — service-history JSON into struct hist_rec records. */
#include "hist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

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

/*
 * A number given as a JSON number or as a string holding only a decimal
 * number (strtod alone would also take "nan", "inf" and hex).
 */
static enum field get_number(const cJSON *it, double *out)
{
    if (!it || cJSON_IsNull(it))
        return F_MISSING;
    if (cJSON_IsNumber(it)) {
        if (!isfinite(it->valuedouble))
            return F_BAD;
        *out = it->valuedouble;
        return F_OK;
    }
    if (!cJSON_IsString(it))
        return F_BAD;
    const char *s = it->valuestring;
    while (*s == ' ')
        s++;
    if (*s == '\0')
        return F_MISSING;
    if (strspn(s, "0123456789+-.eE ") != strlen(s))
        return F_BAD;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end || !isfinite(v))
        return F_BAD;
    *out = v;
    return F_OK;
}

/* A string (copied, truncated to size) or a number printed as an integer. */
static enum field get_id(const cJSON *it, char *out, size_t size)
{
    if (!it || cJSON_IsNull(it))
        return F_MISSING;
    if (cJSON_IsString(it)) {
        snprintf(out, size, "%s", it->valuestring);
        return F_OK;
    }
    if (cJSON_IsNumber(it) && isfinite(it->valuedouble) &&
        fabs(it->valuedouble) < 1e15) {
        snprintf(out, size, "%.0f", it->valuedouble);
        return F_OK;
    }
    return F_BAD;
}

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

static const cJSON *field(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

static void read_date(struct hist *h, struct hist_rec *r, const cJSON *it,
                      const struct hist_limits *lim)
{
    if (!it || cJSON_IsNull(it))
        return;
    long day;
    struct eng_err err;
    if (!cJSON_IsString(it)) {
        count(h, F_BAD, "date", "is not a string");
        return;
    }
    if (eng_parse_day(it->valuestring, lim->min_year, lim->max_year, &day,
                      &err) != ENG_OK) {
        count(h, F_BAD, "date:", err.msg);
        return;
    }
    r->day = day;
}

static void read_odometer(struct hist *h, struct hist_rec *r,
                          const cJSON *it, int imperial)
{
    double v;
    enum field f = get_number(it, &v);
    if (f == F_OK) {
        if (imperial)
            v *= HIST_KM_PER_MILE;
        if (v < 0 || v > HIST_MAX_KM)
            f = F_BAD;
        else
            r->km = v;
    }
    count(h, f, "odometer", "is not a plausible distance");
}

static void read_cost(struct hist *h, struct hist_rec *r, const cJSON *cost,
                      const char *amount_name)
{
    if (!cost || cJSON_IsNull(cost))
        return;
    if (!cJSON_IsObject(cost)) {
        count(h, F_BAD, "cost", "is not an object");
        return;
    }
    double v;
    enum field f = get_number(field(cost, amount_name), &v);
    if (f == F_OK) {
        if (v < 0 || v > HIST_MAX_COST)
            f = F_BAD;
        else
            r->cost = v;
    }
    count(h, f, "cost", "is not a plausible amount");
    const cJSON *cur = field(cost, "currency");
    if (!cur || cJSON_IsNull(cur))
        return;
    const char *s = cJSON_IsString(cur) ? cur->valuestring : "";
    int ok = strlen(s) == 3;
    for (int i = 0; ok && i < 3; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        ok = c >= 'A' && c <= 'Z';
        r->currency[i] = c;
    }
    r->currency[ok ? 3 : 0] = '\0';
    count(h, ok ? F_OK : F_BAD, "currency", "is not a 3-letter code");
}

/* Calls fn for each element of an array, or once for a lone object. */
static int each_item(const cJSON *it, void (*fn)(const cJSON *, void *),
                     void *ud)
{
    if (!it || cJSON_IsNull(it))
        return F_MISSING;
    if (cJSON_IsObject(it)) {
        fn(it, ud);
        return F_OK;
    }
    if (!cJSON_IsArray(it))
        return F_BAD;
    const cJSON *el;
    cJSON_ArrayForEach(el, it) {
        if (cJSON_IsObject(el))
            fn(el, ud);
    }
    return F_OK;
}

struct task_ctx {
    struct hist_rec *rec;
    const struct task_map *map;
    const char *desc_name;
};

static void add_task(const cJSON *task, void *ud)
{
    struct task_ctx *c = ud;
    c->rec->n_tasks++;
    const cJSON *d = field(task, c->desc_name);
    if (c->map && cJSON_IsString(d))
        c->rec->cats |= task_classify(c->map, d->valuestring);
}

/* Case-insensitive ASCII substring test for the source vocabulary. */
static int has_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] &&
               (s[i] | 0x20) == word[i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static void add_detail(const cJSON *detail, void *ud)
{
    struct hist_rec *r = ud;
    const char *names[] = {"value", "type", "description"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *s = field(detail, names[i]);
        if (!cJSON_IsString(s))
            continue;
        if (has_word(s->valuestring, "dealer"))
            r->source = HIST_SRC_DEALER;
        else if (r->source == HIST_SRC_UNKNOWN &&
                 (has_word(s->valuestring, "owner") ||
                  has_word(s->valuestring, "manual") ||
                  has_word(s->valuestring, "self")))
            r->source = HIST_SRC_OWNER;
    }
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

static void read_record(struct hist *h, const cJSON *obj,
                        const struct shape *sh, int imperial,
                        const struct hist_limits *lim,
                        const struct task_map *tasks)
{
    struct hist_rec *r = &h->rec[h->n++];
    memset(r, 0, sizeof(*r));
    r->day = HIST_NO_DAY;
    r->km = NAN;
    r->cost = NAN;

    count(h, get_id(field(obj, sh->id), r->service_id, sizeof(r->service_id)),
          "service id", "is neither a string nor a number");
    if (!field(obj, sh->id) && sh == &v2_shape)
        count(h, get_id(field(obj, "serviceID"), r->service_id,
                        sizeof(r->service_id)),
              "service id", "is neither a string nor a number");
    read_date(h, r, field(obj, sh->date), lim);
    read_odometer(h, r, field(obj, sh->odometer), imperial);
    struct task_ctx tc = {r, tasks, sh->task_desc};
    count(h, each_item(field(obj, sh->tasks), add_task, &tc), "tasks",
          "are not a list");
    count(h, each_item(field(obj, sh->details), add_detail, r), "details",
          "are not a list");
    read_cost(h, r, field(obj, sh->cost), sh->amount);
}

static int looks_like_record(const cJSON *obj)
{
    return field(obj, "serviceDate") || field(obj, "odometerDistance") ||
           field(obj, "serviceTasks") || field(obj, "serviceCost");
}

static int read_records(struct hist *h, const cJSON *root, int imperial,
                        const struct hist_limits *lim,
                        const struct task_map *tasks, struct eng_err *err)
{
    const struct shape *sh = &v2_shape;
    const cJSON *arr = root;
    if (cJSON_IsObject(root)) {
        const cJSON *wrapped = field(root, "serviceHistory");
        const cJSON *values = field(root, "values");
        if (cJSON_IsArray(wrapped)) {
            arr = wrapped;
        } else if (cJSON_IsArray(values)) {
            arr = values;
            sh = &v3_shape;
        } else if (looks_like_record(root)) {
            int rc = hist_reserve(h, 1, err);
            if (rc < 0)
                return rc;
            read_record(h, root, sh, imperial, lim, tasks);
            return ENG_OK;
        } else {
            return eng_err_set(err, ENG_EDATA,
                               "not a service history: an object without "
                               "'serviceHistory', 'values' or record fields");
        }
    } else if (!cJSON_IsArray(root)) {
        return eng_err_set(err, ENG_EDATA,
                           "not a service history: a JSON %s where an array "
                           "of records belongs",
                           cJSON_IsString(root) ? "string"
                           : cJSON_IsNumber(root) ? "number"
                           : cJSON_IsBool(root) ? "boolean" : "null");
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n > lim->max_records)
        return eng_err_set(err, ENG_ELIMIT,
                           "history has %zu records, above the cap of %zu", n,
                           lim->max_records);
    int rc = hist_reserve(h, n, err);
    if (rc < 0)
        return rc;
    const cJSON *el;
    cJSON_ArrayForEach(el, arr) {
        if (cJSON_IsObject(el))
            read_record(h, el, sh, imperial, lim, tasks);
        else
            h->bad_records++;
    }
    return ENG_OK;
}

/* Parses JSON text; on failure the message gives the byte offset. */
static cJSON *parse_json(const char *text, size_t len, size_t base,
                         struct eng_err *err)
{
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
        base += 3;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        eng_err_set(err, ENG_EJSON, "invalid JSON at byte %zu", base + off);
        return NULL;
    }
    /* Allow trailing white space only: "[] x" is not a history. */
    size_t used = (size_t)(end - text);
    while (used < len && (text[used] == ' ' || text[used] == '\t' ||
                          text[used] == '\r' || text[used] == '\n'))
        used++;
    if (used < len) {
        cJSON_Delete(root);
        eng_err_set(err, ENG_EJSON, "trailing data at byte %zu", base + used);
        return NULL;
    }
    return root;
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
    cJSON *root = parse_json(body, len, 0, err);
    if (!root)
        return ENG_EJSON;
    int rc = read_records(h, root, imperial, lim, tasks, err);
    cJSON_Delete(root);
    if (rc < 0)
        hist_clear(h);
    return rc;
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
    hist_clear(&e->hist);
}

void hist_entry_release(struct hist_entry *e)
{
    hist_entry_clear(e);
    hist_release(&e->hist);
}

static int copy_string(const cJSON *it, char **out, struct eng_err *err)
{
    if (!cJSON_IsString(it))
        return ENG_OK;
    *out = strdup(it->valuestring);
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
    cJSON *root = parse_json(line, len, 0, err);
    if (!root) {
        e->vin = salvage_vin(line, len);
        return ENG_EJSON;
    }
    int rc = ENG_OK;
    if (!cJSON_IsObject(root)) {
        rc = eng_err_set(err, ENG_EDATA, "bundle line is not a JSON object");
        goto out;
    }
    rc = copy_string(field(root, "vin"), &e->vin, err);
    if (rc == ENG_OK)
        rc = copy_string(field(root, "vehicle_id"), &e->vehicle_id, err);
    if (rc == ENG_OK)
        rc = copy_string(field(root, "status"), &e->status, err);
    if (rc < 0)
        goto out;
    const cJSON *units = field(root, "unit_system");
    e->imperial = cJSON_IsString(units) &&
                  strcmp(units->valuestring, "imperial") == 0;
    if (e->status && strcmp(e->status, "ok") != 0 &&
        strcmp(e->status, "no_history") != 0)
        goto out;
    const cJSON *history = field(root, "history");
    if (!history) {
        rc = eng_err_set(err, ENG_EDATA, "bundle line has no 'history'");
        goto out;
    }
    rc = read_records(&e->hist, history, e->imperial, lim, tasks, err);
    if (rc < 0)
        hist_clear(&e->hist);
out:
    cJSON_Delete(root);
    return rc;
}
