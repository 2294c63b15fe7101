/* factors — own rating factors keyed by vin or policy_id. */
#include "factors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tab.h"

struct factors {
    char key[16];
    size_t n_cols;
    char **names;                  /* n_cols */
    size_t n, cap;
    char **cells;                  /* n * (n_cols + 1): key, then columns */
    long *line;
    size_t n_slots;
    long *slot;                    /* hash slots: row or -1 */
};

static unsigned long long hash(const char *s)
{
    return eng_fnv(ENG_FNV_BASIS, s, strlen(s));
}

void factors_free(struct factors *fx)
{
    if (!fx)
        return;
    for (size_t i = 0; i < fx->n * (fx->n_cols + 1); i++)
        free(fx->cells[i]);
    for (size_t j = 0; j < fx->n_cols; j++)
        free(fx->names[j]);
    free(fx->names);
    free(fx->cells);
    free(fx->line);
    free(fx->slot);
    free(fx);
}

const char *factors_key(const struct factors *fx)
{
    return fx->key;
}

int factors_col(const struct factors *fx, const char *name)
{
    for (size_t j = 0; j < fx->n_cols; j++) {
        if (strcmp(fx->names[j], name) == 0)
            return (int)j;
    }
    return -1;
}

size_t factors_rows(const struct factors *fx)
{
    return fx->n;
}

long factors_find(const struct factors *fx, const char *key)
{
    if (!key || !fx->n_slots)
        return -1;
    size_t s = (size_t)(hash(key) % fx->n_slots);
    while (fx->slot[s] >= 0) {
        if (strcmp(fx->cells[(size_t)fx->slot[s] * (fx->n_cols + 1)],
                   key) == 0)
            return fx->slot[s];
        s = (s + 1) % fx->n_slots;
    }
    return -1;
}

const char *factors_cell(const struct factors *fx, long row, int col)
{
    return fx->cells[(size_t)row * (fx->n_cols + 1) + (size_t)col + 1];
}

double factors_num(const char *s)
{
    if (!*s)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end || !isfinite(v) ? NAN : v;
}

int factors_numeric(const struct factors *fx, int col)
{
    size_t seen = 0;
    for (size_t i = 0; i < fx->n; i++) {
        const char *s = factors_cell(fx, (long)i, col);
        if (!*s)
            continue;
        if (isnan(factors_num(s)))
            return 0;
        seen++;
    }
    return seen > 0;
}

static int build_index(struct factors *fx, const char *path,
                       struct eng_err *err)
{
    fx->n_slots = fx->n * 2 + 1;
    fx->slot = malloc(fx->n_slots * sizeof(long));
    if (!fx->slot)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (size_t s = 0; s < fx->n_slots; s++)
        fx->slot[s] = -1;
    for (size_t i = 0; i < fx->n; i++) {
        const char *k = fx->cells[i * (fx->n_cols + 1)];
        size_t s = (size_t)(hash(k) % fx->n_slots);
        while (fx->slot[s] >= 0) {
            size_t j = (size_t)fx->slot[s];
            if (strcmp(fx->cells[j * (fx->n_cols + 1)], k) == 0)
                return eng_err_set(err, ENG_EDATA, "%s:%ld: %s '%s' repeats "
                                   "line %ld", path, fx->line[i], fx->key,
                                   k, fx->line[j]);
            s = (s + 1) % fx->n_slots;
        }
        fx->slot[s] = (long)i;
    }
    return ENG_OK;
}

struct factors *factors_load(const char *path, const char *const *want,
                             size_t n_want, struct eng_err *err)
{
    struct tab *t = tab_open(path, err);
    if (!t)
        return NULL;
    struct factors *fx = calloc(1, sizeof(*fx));
    int *src = calloc(tab_ncols(t) + 1, sizeof(int));
    int rc = fx && src ? ENG_OK
                       : eng_err_set(err, ENG_ENOMEM, "out of memory");
    int ck = tab_col(t, "vin");
    if (rc == ENG_OK) {
        snprintf(fx->key, sizeof(fx->key), "vin");
        if (ck < 0) {
            ck = tab_col(t, "policy_id");
            snprintf(fx->key, sizeof(fx->key), "policy_id");
        }
        if (ck < 0)
            rc = eng_err_set(err, ENG_EDATA, "'%s' has neither a vin nor a "
                             "policy_id column", path);
    }
    if (rc == ENG_OK)
        fx->names = calloc(tab_ncols(t) + 1, sizeof(char *));
    if (rc == ENG_OK && !fx->names)
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
    for (size_t j = 0; rc == ENG_OK && j < tab_ncols(t); j++) {
        const char *name = tab_name(t, j);
        if ((int)j == ck)
            continue;
        int keep = !want;
        for (size_t w = 0; w < n_want && !keep; w++)
            keep = strcmp(want[w], name) == 0;
        if (!keep)
            continue;
        src[fx->n_cols] = (int)j;
        fx->names[fx->n_cols] = strdup(name);
        if (!fx->names[fx->n_cols++])
            rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
    }
    const char *const *f;
    while (rc == ENG_OK && (rc = tab_next(t, &f, err)) == 1) {
        rc = ENG_OK;
        if (!f[ck][0]) {
            rc = eng_err_set(err, ENG_EDATA, "%s:%ld: empty %s", path,
                             tab_row_line(t), fx->key);
            break;
        }
        size_t w = fx->n_cols + 1;
        if (fx->n == fx->cap) {
            size_t cap = fx->cap ? fx->cap * 2 : 1024;
            char **c = realloc(fx->cells, cap * w * sizeof(char *));
            if (c)
                fx->cells = c;
            long *l = realloc(fx->line, cap * sizeof(long));
            if (l)
                fx->line = l;
            if (!c || !l) {
                rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
                break;
            }
            fx->cap = cap;
        }
        char **row = fx->cells + fx->n * w;
        fx->line[fx->n] = tab_row_line(t);
        row[0] = strdup(f[ck]);
        int ok = row[0] != NULL;
        for (size_t j = 0; j < fx->n_cols; j++) {
            row[j + 1] = strdup(f[src[j]]);
            ok = ok && row[j + 1];
        }
        fx->n++;
        if (!ok)
            rc = eng_err_set(err, ENG_ENOMEM, "out of memory");
    }
    tab_close(t);
    free(src);
    if (rc == ENG_OK)
        rc = build_index(fx, path, err);
    if (rc < 0) {
        factors_free(fx);
        return NULL;
    }
    return fx;
}
