/* task — keyword taxonomy, per-make schedules, WMI to make. */
#include "task.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One day per month on average over four years: 1461 / 48. */
#define DAYS_PER_MONTH 30.4375
#define TASK_LINE_MAX 512

#include "ptrain.h"

static const char *const cat_names[TASK_NCATS] = {
    "oil", "tire_rotation", "tires", "brakes", "filters", "fluids",
    "battery", "inspection", "wipers", "repair", "recall", "other"
};

const char *task_cat_name(int cat)
{
    return cat >= 0 && cat < TASK_NCATS ? cat_names[cat] : NULL;
}

int task_cat_parse(const char *name)
{
    for (int i = 0; i < TASK_NCATS; i++) {
        if (strcmp(cat_names[i], name) == 0)
            return i;
    }
    return -1;
}

struct keyword {
    char *text;      /* folded to lower case */
    size_t len;
    int cat;
};

/*
 * Keywords are indexed by their first two bytes (all are at least two
 * bytes long once folded), so classifying a description looks, at each of
 * its positions, only at the keywords that could start there.
 */
#define BIGRAMS 65536

struct task_map {
    struct keyword *kw;          /* sorted by first two bytes */
    size_t n;
    unsigned *first;             /* BIGRAMS + 1 offsets into kw */
};

static unsigned bigram(const char *s)
{
    return (unsigned)(unsigned char)s[0] << 8 | (unsigned char)s[1];
}

static int cmp_keyword(const void *a, const void *b)
{
    const struct keyword *x = a, *y = b;
    unsigned bx = bigram(x->text), by = bigram(y->text);
    if (bx != by)
        return bx < by ? -1 : 1;
    return strcmp(x->text, y->text);
}

static int build_index(struct task_map *map, struct eng_err *err)
{
    qsort(map->kw, map->n, sizeof(*map->kw), cmp_keyword);
    map->first = calloc(BIGRAMS + 1, sizeof(*map->first));
    if (!map->first)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    size_t k = 0;
    for (unsigned b = 0; b < BIGRAMS; b++) {
        map->first[b] = (unsigned)k;
        while (k < map->n && bigram(map->kw[k].text) == b)
            k++;
    }
    map->first[BIGRAMS] = (unsigned)k;
    return ENG_OK;
}

/*
 * Folds ASCII and the Latin-1 letters of UTF-8 (U+00C0..U+00DE, two bytes
 * C3 80..C3 9E, except the multiplication sign) to lower case, in place.
 * Every other byte, and so every other UTF-8 sequence, is left as it is:
 * enough for the four languages of the taxonomy.
 */
static void fold_case(char *s, size_t len)
{
    unsigned char *p = (unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        if (p[i] >= 'A' && p[i] <= 'Z') {
            p[i] = (unsigned char)(p[i] + 32);
        } else if (p[i] == 0xC3 && i + 1 < len && p[i + 1] >= 0x80 &&
                   p[i + 1] <= 0x9E && p[i + 1] != 0x97) {
            p[i + 1] = (unsigned char)(p[i + 1] + 0x20);
            i++;
        }
    }
}

/* Strips a trailing newline and CR; returns the new length. */
static size_t chomp(char *line)
{
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    return len;
}

/* True for lines to skip: empty, blank, or a '#' comment. */
static int skip_line(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    return *line == '\0' || *line == '#';
}

/*
 * Splits a line on tabs into at most max fields, in place; returns the count.
 */
static int split_tabs(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

/* Reads the next line; returns 1, 0 at end, or ENG_ELIMIT when too long. */
static int read_line(FILE *f, char *buf, size_t size)
{
    if (!fgets(buf, (int)size, f))
        return 0;
    size_t len = strlen(buf);
    if (len == size - 1 && buf[len - 1] != '\n' && !feof(f))
        return ENG_ELIMIT;
    return 1;
}

void task_map_free(struct task_map *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->n; i++)
        free(map->kw[i].text);
    free(map->kw);
    free(map->first);
    free(map);
}

static int map_add(struct task_map *map, size_t *cap, int cat,
                   const char *text, struct eng_err *err)
{
    if (map->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct keyword *kw = realloc(map->kw, ncap * sizeof(*kw));
        if (!kw)
            return eng_err_set(err, ENG_ENOMEM, "out of memory");
        map->kw = kw;
        *cap = ncap;
    }
    char *copy = strdup(text);
    if (!copy)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    size_t len = strlen(copy);
    fold_case(copy, len);
    map->kw[map->n].text = copy;
    map->kw[map->n].len = len;
    map->kw[map->n].cat = cat;
    map->n++;
    return ENG_OK;
}

struct task_map *task_map_load(const char *path, struct eng_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        eng_err_set(err, ENG_EIO, "cannot open task taxonomy '%s': %s", path,
                    strerror(errno));
        return NULL;
    }
    struct task_map *map = calloc(1, sizeof(*map));
    size_t cap = 0;
    char line[TASK_LINE_MAX];
    int lineno = 0;
    int rc = map ? ENG_OK : eng_err_set(err, ENG_ENOMEM, "out of memory");
    while (rc == ENG_OK) {
        int got = read_line(f, line, sizeof(line));
        if (got == 0)
            break;
        lineno++;
        if (got < 0) {
            rc = eng_err_set(err, ENG_EDATA, "%s:%d: line too long", path,
                             lineno);
            break;
        }
        chomp(line);
        if (skip_line(line))
            continue;
        char *fields[3];
        int nf = split_tabs(line, fields, 3);
        int cat = nf == 2 ? task_cat_parse(fields[0]) : -1;
        if (nf != 2)
            rc = eng_err_set(err, ENG_EDATA,
                             "%s:%d: expected 'category<TAB>keyword'", path,
                             lineno);
        else if (cat < 0)
            rc = eng_err_set(err, ENG_EDATA, "%s:%d: unknown category '%s'",
                             path, lineno, fields[0]);
        else if (strlen(fields[1]) < 2)
            rc = eng_err_set(err, ENG_EDATA, "%s:%d: keyword shorter than "
                             "two bytes", path, lineno);
        else
            rc = map_add(map, &cap, cat, fields[1], err);
    }
    if (rc == ENG_OK && ferror(f))
        rc = eng_err_set(err, ENG_EIO, "cannot read '%s'", path);
    if (rc == ENG_OK && map->n == 0)
        rc = eng_err_set(err, ENG_EDATA, "task taxonomy '%s' has no keyword",
                         path);
    if (rc == ENG_OK)
        rc = build_index(map, err);
    fclose(f);
    if (rc != ENG_OK) {
        task_map_free(map);
        return NULL;
    }
    return map;
}

unsigned task_classify(const struct task_map *map, const char *desc)
{
    if (!desc || !*desc)
        return 0;
    char small[256];
    size_t len = strlen(desc);
    char *text = len < sizeof(small) ? small : malloc(len + 1);
    if (!text)
        return TASK_BIT(TASK_OTHER);
    memcpy(text, desc, len + 1);
    fold_case(text, len);
    unsigned mask = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned b = bigram(text + i);
        for (unsigned k = map->first[b]; k < map->first[b + 1]; k++) {
            const struct keyword *kw = &map->kw[k];
            if (!(mask & TASK_BIT(kw->cat)) && kw->len <= len - i &&
                memcmp(text + i + 2, kw->text + 2, kw->len - 2) == 0)
                mask |= TASK_BIT(kw->cat);
        }
    }
    if (text != small)
        free(text);
    return mask ? mask : TASK_BIT(TASK_OTHER);
}

struct wmi_make {
    char wmi[4];
    char make[32];
    int ptrain;                  /* PTRAIN_BEV or PTRAIN_UNKNOWN */
};

struct task_sched_table {
    struct task_sched *rows;     /* rows[0] is the default */
    size_t n;
    struct wmi_make *wmis;
    size_t n_wmis;
};

void task_sched_free(struct task_sched_table *table)
{
    if (!table)
        return;
    free(table->rows);
    free(table->wmis);
    free(table);
}

/* Parses a positive finite number; returns 0 or -1. */
static int parse_positive(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 1e7)
        return -1;
    *out = v;
    return 0;
}

/* An interval in months ("-" = not listed: NAN) as days; 0 or -1. */
static int parse_months(const char *s, double *days)
{
    double mo;
    if (strcmp(s, "-") == 0) {
        *days = NAN;
        return 0;
    }
    if (parse_positive(s, &mo) < 0)
        return -1;
    *days = mo * DAYS_PER_MONTH;
    return 0;
}

static int parse_sched_row(char **f, struct task_sched *row)
{
    memset(row, 0, sizeof(*row));
    if (strlen(f[0]) >= sizeof(row->make))
        return -1;
    if (strcmp(f[1], "*") == 0)
        row->ptrain = PTRAIN_UNKNOWN;
    else if ((row->ptrain = ptrain_parse(f[1])) == PTRAIN_UNKNOWN ||
             strcmp(f[1], ptrain_name(row->ptrain)) != 0)
        return -1;
    int no_oil = strcmp(f[2], "-") == 0 && strcmp(f[3], "-") == 0;
    if (no_oil != (row->ptrain == PTRAIN_BEV))
        return -1;
    if (no_oil) {
        row->oil_km = row->oil_days = NAN;
    } else if (parse_positive(f[2], &row->oil_km) < 0 ||
               parse_months(f[3], &row->oil_days) < 0 ||
               isnan(row->oil_days)) {
        return -1;
    }
    if (parse_positive(f[4], &row->rotation_km) < 0 ||
        parse_months(f[5], &row->rotation_days) < 0 ||
        isnan(row->rotation_days) ||
        parse_months(f[6], &row->cabin_days) < 0 ||
        parse_months(f[7], &row->brake_fluid_days) < 0 ||
        parse_months(f[8], &row->coolant_days) < 0 ||
        parse_positive(f[9], &row->tolerance) < 0 || row->tolerance >= 1)
        return -1;
    snprintf(row->make, sizeof(row->make), "%s", f[0]);
    return 0;
}

static int load_schedules(struct task_sched_table *t, const char *path,
                          struct eng_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return eng_err_set(err, ENG_EIO, "cannot open schedules '%s': %s",
                           path, strerror(errno));
    size_t cap = 16;
    t->rows = calloc(cap, sizeof(*t->rows));
    t->n = 1;                    /* slot 0 waits for the default row */
    int have_default = 0;
    int rc = t->rows ? ENG_OK : eng_err_set(err, ENG_ENOMEM, "out of memory");
    char line[TASK_LINE_MAX];
    int lineno = 0;
    while (rc == ENG_OK) {
        int got = read_line(f, line, sizeof(line));
        if (got == 0)
            break;
        lineno++;
        chomp(line);
        if (got > 0 && skip_line(line))
            continue;
        char *fields[11];
        struct task_sched row;
        if (got < 0 || split_tabs(line, fields, 11) != 10 ||
            parse_sched_row(fields, &row) < 0) {
            rc = eng_err_set(err, ENG_EDATA,
                             "%s:%d: expected 'make<TAB>powertrain<TAB>"
                             "oil_km<TAB>oil_months<TAB>rotation_km<TAB>"
                             "rotation_months<TAB>cabin_months<TAB>"
                             "brake_fluid_months<TAB>coolant_months<TAB>"
                             "tolerance' with positive numbers or '-' (oil "
                             "'-' exactly on BEV rows) and tolerance below "
                             "1", path, lineno);
            break;
        }
        if (strcmp(row.make, "default") == 0 && row.ptrain == 0) {
            t->rows[0] = row;
            have_default = 1;
            continue;
        }
        if (t->n == cap) {
            struct task_sched *r = realloc(t->rows, 2 * cap * sizeof(*r));
            if (!r) {
                rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
                break;
            }
            t->rows = r;
            cap *= 2;
        }
        t->rows[t->n++] = row;
    }
    if (rc == ENG_OK && !have_default)
        rc = eng_err_set(err, ENG_EDATA, "schedules '%s' have no 'default' row",
                         path);
    fclose(f);
    return rc;
}

static int load_makes(struct task_sched_table *t, const char *path,
                      struct eng_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return eng_err_set(err, ENG_EIO, "cannot open makes '%s': %s", path,
                           strerror(errno));
    size_t cap = 0;
    int rc = ENG_OK;
    char line[TASK_LINE_MAX];
    int lineno = 0;
    while (rc == ENG_OK) {
        int got = read_line(f, line, sizeof(line));
        if (got == 0)
            break;
        lineno++;
        chomp(line);
        if (got > 0 && skip_line(line))
            continue;
        char *fields[4];
        int nf = got < 0 ? 0 : split_tabs(line, fields, 4);
        int pt = nf >= 4 ? ptrain_parse(fields[3]) : PTRAIN_UNKNOWN;
        if (nf < 2 || strlen(fields[0]) != 3 ||
            strlen(fields[1]) >= sizeof(t->wmis[0].make) ||
            (nf >= 4 && fields[3][0] && pt != PTRAIN_BEV)) {
            rc = eng_err_set(err, ENG_EDATA,
                             "%s:%d: expected 'wmi<TAB>make[<TAB>region"
                             "[<TAB>BEV]]'", path, lineno);
            break;
        }
        if (t->n_wmis == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            struct wmi_make *w = realloc(t->wmis, ncap * sizeof(*w));
            if (!w) {
                rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
                break;
            }
            t->wmis = w;
            cap = ncap;
        }
        struct wmi_make *w = &t->wmis[t->n_wmis++];
        memcpy(w->wmi, fields[0], 4);
        snprintf(w->make, sizeof(w->make), "%s", fields[1]);
        w->ptrain = pt;
    }
    fclose(f);
    return rc;
}

struct task_sched_table *task_sched_load(const char *sched_path,
                                         const char *makes_path,
                                         struct eng_err *err)
{
    struct task_sched_table *t = calloc(1, sizeof(*t));
    if (!t) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    int rc = load_schedules(t, sched_path, err);
    if (rc == ENG_OK && makes_path)
        rc = load_makes(t, makes_path, err);
    if (rc != ENG_OK) {
        task_sched_free(t);
        return NULL;
    }
    return t;
}

const char *task_make_of_vin(const struct task_sched_table *table,
                             const char *vin)
{
    if (!vin || strlen(vin) < 3)
        return NULL;
    for (size_t i = 0; i < table->n_wmis; i++) {
        if (strncasecmp(table->wmis[i].wmi, vin, 3) == 0)
            return table->wmis[i].make;
    }
    return NULL;
}

int task_ptrain_of_vin(const struct task_sched_table *table, const char *vin)
{
    if (!vin || strlen(vin) < 3)
        return PTRAIN_UNKNOWN;
    for (size_t i = 0; i < table->n_wmis; i++) {
        if (strncasecmp(table->wmis[i].wmi, vin, 3) == 0)
            return table->wmis[i].ptrain;
    }
    return PTRAIN_UNKNOWN;
}

/* The row of (make, ptrain) exactly, or NULL; make NULL = "default". */
static const struct task_sched *sched_row(const struct task_sched_table *t,
                                          const char *make, int ptrain)
{
    if (!make)
        return ptrain == PTRAIN_UNKNOWN ? &t->rows[0] : NULL;
    for (size_t i = 1; i < t->n; i++) {
        if (t->rows[i].ptrain == ptrain &&
            strcasecmp(t->rows[i].make, make) == 0)
            return &t->rows[i];
    }
    return NULL;
}

const struct task_sched *task_sched_find(const struct task_sched_table *table,
                                         const char *make, int ptrain)
{
    const struct task_sched *s = NULL;
    if (make && strcasecmp(make, "default") == 0)
        make = NULL;
    if (make && ptrain != PTRAIN_UNKNOWN)
        s = sched_row(table, make, ptrain);
    if (!s && make)
        s = sched_row(table, make, PTRAIN_UNKNOWN);
    /* a make's "*" row is its combustion schedule: a BEV of that make
     * without a row of its own takes the default BEV row instead */
    if (s && ptrain == PTRAIN_BEV && s->ptrain != PTRAIN_BEV)
        s = NULL;
    if (!s && ptrain != PTRAIN_UNKNOWN)
        s = sched_row(table, "default", ptrain);
    return s ? s : &table->rows[0];
}

const struct task_sched *task_sched_for(const struct task_sched_table *table,
                                        const char *make)
{
    return task_sched_find(table, make, PTRAIN_UNKNOWN);
}
