/* label — claims labels and truth files keyed by VIN. */
#include "label.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tab.h"
#include "veh.h"
#include "vinmap.h"

struct label_set {
    struct vinmap *map;
};

/* A number of a CSV cell: empty is NaN, junk or infinity is -1. */
static int cell(const char *s, double *out)
{
    if (!*s) {
        *out = NAN;
        return 0;
    }
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Checks one row into *lb; returns NULL or why the row is refused. */
static const char *check_row(const char *const *f, const int *col,
                             enum label_kind kind, struct label *lb,
                             char *why, size_t n)
{
    lb->amount = NAN;
    lb->weight = 1;
    lb->truth = NAN;
    if (kind == LABEL_TRUTH) {
        if (cell(f[col[1]], &lb->truth) < 0 || isnan(lb->truth))
            snprintf(why, n, "true_frequency must be a number, not '%.40s'",
                     f[col[1]]);
        return why[0] ? why : NULL;
    }
    if (cell(f[col[1]], &lb->claims) < 0 || !(lb->claims >= 0))
        snprintf(why, n, "claim_count must be a number >= 0, not '%.40s'",
                 f[col[1]]);
    else if (cell(f[col[2]], &lb->exposure) < 0 || !(lb->exposure > 0))
        snprintf(why, n, "exposure_years must be a number > 0, not '%.40s'",
                 f[col[2]]);
    else if (col[3] >= 0 && cell(f[col[3]], &lb->amount) < 0)
        snprintf(why, n, "claim_amount must be a number or empty, not "
                 "'%.40s'", f[col[3]]);
    else if (col[4] >= 0 && f[col[4]][0] &&
             (cell(f[col[4]], &lb->weight) < 0 || !(lb->weight >= 0)))
        snprintf(why, n, "weight must be a number >= 0 or empty, not "
                 "'%.40s'", f[col[4]]);
    return why[0] ? why : NULL;
}

static int load_rows(struct label_set *s, struct tab *t, const char *path,
                     enum label_kind kind, struct eng_err *err)
{
    static const char *const names[2][5] = {
        {"vin", "claim_count", "exposure_years", "claim_amount", "weight"},
        {"vin", "true_frequency", NULL, NULL, NULL},
    };
    int col[5];
    for (int i = 0; i < 5; i++) {
        const char *name = names[kind == LABEL_TRUTH][i];
        col[i] = name ? tab_col(t, name) : -1;
    }
    if (kind == LABEL_TRUTH && (col[0] < 0 || col[1] < 0))
        return eng_err_set(err, ENG_EDATA, "truth '%s' needs columns vin "
                           "and true_frequency", path);
    if (kind == LABEL_CLAIMS && (col[0] < 0 || col[1] < 0 || col[2] < 0))
        return eng_err_set(err, ENG_EDATA, "labels '%s' need columns vin, "
                           "claim_count and exposure_years", path);
    const char *const *f;
    int rc;
    while ((rc = tab_next(t, &f, err)) == 1) {
        long line = tab_row_line(t);
        const char *vin = f[col[0]];
        char why[160];
        enum veh_vin_status vs = veh_vin_check(vin, why, sizeof(why));
        if (vs != VEH_VIN_OK && vs != VEH_VIN_CHECK_WARN)
            return eng_err_set(err, ENG_EDATA, "%s:%ld: vin '%.40s' is not "
                               "a VIN: %s", path, line, vin, why);
        struct label lb = {0};
        why[0] = '\0';
        if (check_row(f, col, kind, &lb, why, sizeof(why)))
            return eng_err_set(err, ENG_EDATA, "%s:%ld: vin '%s': %s", path,
                               line, vin, why);
        lb.line = line;
        int added;
        struct label *slot = vinmap_put(s->map, vin, &added, err);
        if (!slot)
            return err ? err->code : ENG_ENOMEM;
        if (!added)
            return eng_err_set(err, ENG_EDATA, "%s:%ld: vin '%s' appears "
                               "twice (first on line %ld)", path, line, vin,
                               slot->line);
        *slot = lb;
    }
    return rc;
}

struct label_set *label_load(const char *path, enum label_kind kind,
                             struct eng_err *err)
{
    struct label_set *s = calloc(1, sizeof(*s));
    if (!s) {
        eng_err_set(err, ENG_ENOMEM, "out of memory");
        return NULL;
    }
    s->map = vinmap_new(sizeof(struct label), err);
    struct tab *t = s->map ? tab_open(path, err) : NULL;
    int rc = t ? load_rows(s, t, path, kind, err) : ENG_EIO;
    tab_close(t);
    if (rc < 0) {
        label_free(s);
        return NULL;
    }
    return s;
}

const struct label *label_find(const struct label_set *s, const char *vin)
{
    return vinmap_get(s->map, vin);
}

size_t label_count(const struct label_set *s)
{
    return vinmap_count(s->map);
}

void label_free(struct label_set *s)
{
    if (!s)
        return;
    vinmap_free(s->map);
    free(s);
}
