/* eval — Gini, lift, bands and deviance of a claim-frequency model. */
#include "eval.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

/*
 * One row as the sorts see it.  rel is the relativity of the current sort
 * (pred / exposure, then truth / exposure for the oracle).  The comparator
 * breaks ties on every other field, so rows that compare equal are
 * interchangeable and the order of every sum below is fixed by the
 * multiset of rows, not by the input order.
 */
struct key {
    double rel;
    double y;
    double e;
    double p;
    double t;
    char band;
};

static int cmp_double(double a, double b)
{
    return (a > b) - (a < b);
}

static int key_cmp(const void *pa, const void *pb)
{
    const struct key *a = pa;
    const struct key *b = pb;
    int c = cmp_double(a->rel, b->rel);
    if (c == 0)
        c = cmp_double(a->y, b->y);
    if (c == 0)
        c = cmp_double(a->e, b->e);
    if (c == 0)
        c = cmp_double(a->p, b->p);
    if (c == 0)
        c = cmp_double(a->t, b->t);
    if (c == 0)
        c = (a->band > b->band) - (a->band < b->band);
    return c;
}

/*
 * The Gini of keys already sorted by rel.  The area is accumulated in
 * unnormalised units (premium x loss) and divided once at the end; the
 * totals are the final cumulative sums, so one group covering all rows
 * gives exactly 0.
 */
static double gini_sorted(const struct key *k, size_t n)
{
    double ptot = 0.0;
    double ltot = 0.0;
    for (size_t i = 0; i < n; i++) {
        ptot += k[i].e;
        ltot += k[i].y;
    }
    if (!(ltot > 0.0))
        return NAN;
    double twice_area = 0.0;
    double p = 0.0;
    double l = 0.0;
    size_t i = 0;
    while (i < n) {
        double p0 = p;
        double l0 = l;
        size_t j = i;
        /* equal relativities make one segment of the curve */
        while (j < n && k[j].rel == k[i].rel) {
            p += k[j].e;
            l += k[j].y;
            j++;
        }
        twice_area += (p - p0) * (l0 + l);
        i = j;
    }
    return 1.0 - twice_area / (ptot * ltot);
}

static double dev_term(double y, double mu)
{
    double t = mu - y;
    if (y > 0.0)
        t += y * log(y / mu);
    return 2.0 * t;
}

static void bucket_add(struct eval_bucket *b, const struct key *k)
{
    b->n++;
    b->exposure += k->e;
    b->actual += k->y;
    b->predicted += k->p;
}

static void bucket_finish(struct eval_bucket *b)
{
    if (b->n == 0) {
        b->actual_freq = NAN;
        b->predicted_freq = NAN;
        b->ae = NAN;
        return;
    }
    b->actual_freq = b->actual / b->exposure;
    b->predicted_freq = b->predicted / b->exposure;
    b->ae = b->actual / b->predicted;
}

static int check_row(const struct eval_row *r, size_t row, int has_truth,
                     struct eng_err *err)
{
    if (!isfinite(r->y) || r->y < 0.0)
        return eng_err_set(err, ENG_EDATA,
                           "row %zu: claim count %g is not a number >= 0",
                           row, r->y);
    if (!isfinite(r->exposure) || r->exposure <= 0.0)
        return eng_err_set(err, ENG_EDATA,
                           "row %zu: exposure %g is not a number > 0",
                           row, r->exposure);
    if (!isfinite(r->pred) || r->pred <= 0.0)
        return eng_err_set(err, ENG_EDATA,
                           "row %zu: prediction %g is not a number > 0",
                           row, r->pred);
    if (isnan(r->truth)) {
        if (has_truth)
            return eng_err_set(err, ENG_EDATA,
                               "row %zu: truth missing while row 1 has one",
                               row);
    } else {
        if (!has_truth)
            return eng_err_set(err, ENG_EDATA,
                               "row %zu: truth given while row 1 has none",
                               row);
        if (!isfinite(r->truth) || r->truth < 0.0)
            return eng_err_set(err, ENG_EDATA,
                               "row %zu: truth %g is not a number >= 0",
                               row, r->truth);
    }
    if (r->band != 0 && (r->band < 'A' || r->band > 'E'))
        return eng_err_set(err, ENG_EDATA,
                           "row %zu: band '%c' is not one of A to E",
                           row, r->band);
    return ENG_OK;
}

int eval_compute(const struct eval_row *rows, size_t n, size_t n_buckets,
                 struct eval_report *out, struct eng_err *err)
{
    if (n_buckets == 0)
        n_buckets = EVAL_DEFAULT_BUCKETS;
    if (n_buckets > EVAL_MAX_BUCKETS)
        return eng_err_set(err, ENG_EUSAGE,
                           "%zu lift buckets: at most %d allowed",
                           n_buckets, EVAL_MAX_BUCKETS);
    if (n == 0)
        return eng_err_set(err, ENG_EDATA, "no rows to evaluate");
    int has_truth = !isnan(rows[0].truth);
    for (size_t i = 0; i < n; i++) {
        int rc = check_row(&rows[i], i + 1, has_truth, err);
        if (rc < 0)
            return rc;
    }
    struct key *k = n <= SIZE_MAX / sizeof(*k) ? malloc(n * sizeof(*k))
                                                : NULL;
    if (!k)
        return eng_err_set(err, ENG_ENOMEM, "out of memory sorting %zu rows",
                           n);
    for (size_t i = 0; i < n; i++) {
        k[i].rel = rows[i].pred / rows[i].exposure;
        k[i].y = rows[i].y;
        k[i].e = rows[i].exposure;
        k[i].p = rows[i].pred;
        k[i].t = rows[i].truth;
        k[i].band = rows[i].band;
    }
    qsort(k, n, sizeof(*k), key_cmp);

    /* built aside and copied out, so *out changes only on success */
    struct eval_report rep;
    memset(&rep, 0, sizeof(rep));
    struct eval_report *r = &rep;
    r->n = n;
    r->n_buckets = n_buckets;
    double dev = 0.0;
    for (size_t i = 0; i < n; i++) {
        r->exposure += k[i].e;
        r->actual += k[i].y;
        r->predicted += k[i].p;
        dev += dev_term(k[i].y, k[i].p);
        if (k[i].band)
            bucket_add(&r->bands[k[i].band - 'A'], &k[i]);
    }
    r->ae = r->actual / r->predicted;
    r->mean_poisson_deviance = dev / (double)n;
    r->gini = gini_sorted(k, n);

    double before = 0.0;
    for (size_t i = 0; i < n; i++) {
        double mid = before + 0.5 * k[i].e;
        size_t b = (size_t)((double)n_buckets * (mid / r->exposure));
        if (b >= n_buckets)
            b = n_buckets - 1;
        bucket_add(&r->lift[b], &k[i]);
        before += k[i].e;
    }
    for (size_t b = 0; b < n_buckets; b++)
        bucket_finish(&r->lift[b]);
    for (size_t b = 0; b < EVAL_N_BANDS; b++)
        bucket_finish(&r->bands[b]);

    r->gini_oracle = NAN;
    if (has_truth) {
        for (size_t i = 0; i < n; i++)
            k[i].rel = k[i].t / k[i].e;
        qsort(k, n, sizeof(*k), key_cmp);
        r->gini_oracle = gini_sorted(k, n);
    }
    r->gini_ratio = NAN;
    if (isfinite(r->gini) && isfinite(r->gini_oracle)
        && r->gini_oracle != 0.0)
        r->gini_ratio = r->gini / r->gini_oracle;

    *out = rep;
    free(k);
    return ENG_OK;
}

static const char *const group_names[EVAL_N_GROUPS] = {
    "history from new", "history mid-life", "ICE", "HEV", "PHEV", "BEV",
    "powertrain unknown", "high mileage", "normal mileage"
};

/* Is row r in group g? */
static int in_group(const struct eval_row *r, int g)
{
    switch (g) {
    case EVAL_G_NEW: return r->history == EVAL_HIST_NEW;
    case EVAL_G_MIDLIFE: return r->history == EVAL_HIST_MIDLIFE;
    case EVAL_G_ICE: return r->ptrain == EVAL_PT_ICE;
    case EVAL_G_HEV: return r->ptrain == EVAL_PT_HEV;
    case EVAL_G_PHEV: return r->ptrain == EVAL_PT_PHEV;
    case EVAL_G_BEV: return r->ptrain == EVAL_PT_BEV;
    case EVAL_G_PT_UNKNOWN: return r->ptrain == EVAL_PT_UNKNOWN;
    case EVAL_G_HIGH_KM: return r->mileage == EVAL_KM_HIGH;
    case EVAL_G_NORMAL_KM: return r->mileage == EVAL_KM_NORMAL;
    default: return 0;
    }
}

int eval_subgroups(const struct eval_row *rows, size_t n, size_t min_rows,
                   struct eval_report *r, struct eng_err *err)
{
    if (min_rows == 0)
        min_rows = EVAL_MIN_GROUP;
    int any_pt = 0;
    for (size_t i = 0; i < n; i++) {
        const struct eval_row *w = &rows[i];
        if (w->history > EVAL_HIST_MIDLIFE || w->ptrain > EVAL_PT_BEV
            || w->mileage > EVAL_KM_HIGH)
            return eng_err_set(err, ENG_EDATA, "row %zu: a subgroup key is "
                               "out of range", i + 1);
        any_pt |= w->ptrain != EVAL_PT_UNKNOWN;
    }
    struct key *k = n <= SIZE_MAX / sizeof(*k) ? malloc(n * sizeof(*k))
                                                : NULL;
    if (!k && n)
        return eng_err_set(err, ENG_ENOMEM, "out of memory sorting %zu rows",
                           n);
    struct eval_group groups[EVAL_N_GROUPS];
    memset(groups, 0, sizeof(groups));
    for (int g = 0; g < EVAL_N_GROUPS; g++) {
        struct eval_group *o = &groups[g];
        o->name = group_names[g];
        size_t m = 0;
        int has_truth = 0;
        for (size_t i = 0; i < n; i++) {
            if (!in_group(&rows[i], g))
                continue;
            k[m].rel = rows[i].pred / rows[i].exposure;
            k[m].y = rows[i].y;
            k[m].e = rows[i].exposure;
            k[m].p = rows[i].pred;
            k[m].t = rows[i].truth;
            k[m].band = rows[i].band;
            has_truth = !isnan(rows[i].truth);
            o->exposure += k[m].e;
            o->actual += k[m].y;
            o->predicted += k[m].p;
            m++;
        }
        /* "unknown" is a group only beside known powertrains */
        if (g == EVAL_G_PT_UNKNOWN && !any_pt)
            m = 0;
        o->n = m;
        o->small = m < min_rows;
        o->ae = o->gini = o->gini_oracle = o->gini_ratio = NAN;
        if (m == 0 || o->small)
            continue;
        o->ae = o->actual / o->predicted;
        qsort(k, m, sizeof(*k), key_cmp);
        o->gini = gini_sorted(k, m);
        if (has_truth) {
            for (size_t i = 0; i < m; i++)
                k[i].rel = k[i].t / k[i].e;
            qsort(k, m, sizeof(*k), key_cmp);
            o->gini_oracle = gini_sorted(k, m);
        }
        if (isfinite(o->gini) && isfinite(o->gini_oracle)
            && o->gini_oracle != 0.0)
            o->gini_ratio = o->gini / o->gini_oracle;
    }
    free(k);
    memcpy(r->groups, groups, sizeof(groups));
    r->min_group = min_rows;
    return ENG_OK;
}

int eval_gini(const double *y, const double *exposure, const double *score,
              size_t n, double *gini, struct eng_err *err)
{
    if (n == 0)
        return eng_err_set(err, ENG_EDATA, "no rows for a Gini");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || y[i] < 0.0)
            return eng_err_set(err, ENG_EDATA,
                               "row %zu: loss %g is not a number >= 0",
                               i + 1, y[i]);
        if (!isfinite(exposure[i]) || exposure[i] <= 0.0)
            return eng_err_set(err, ENG_EDATA,
                               "row %zu: exposure %g is not a number > 0",
                               i + 1, exposure[i]);
        if (!isfinite(score[i]))
            return eng_err_set(err, ENG_EDATA,
                               "row %zu: score %g is not finite",
                               i + 1, score[i]);
    }
    struct key *k = n <= SIZE_MAX / sizeof(*k) ? malloc(n * sizeof(*k))
                                                : NULL;
    if (!k)
        return eng_err_set(err, ENG_ENOMEM, "out of memory sorting %zu rows",
                           n);
    for (size_t i = 0; i < n; i++) {
        k[i].rel = score[i] / exposure[i];
        k[i].y = y[i];
        k[i].e = exposure[i];
        k[i].p = score[i];
        k[i].t = 0.0;
        k[i].band = 0;
    }
    qsort(k, n, sizeof(*k), key_cmp);
    *gini = gini_sorted(k, n);
    free(k);
    return ENG_OK;
}

int eval_mean_poisson_deviance(const double *y, const double *mu, size_t n,
                               double *dev, struct eng_err *err)
{
    if (n == 0)
        return eng_err_set(err, ENG_EDATA, "no rows for a deviance");
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || y[i] < 0.0)
            return eng_err_set(err, ENG_EDATA,
                               "row %zu: count %g is not a number >= 0",
                               i + 1, y[i]);
        if (!isfinite(mu[i]) || mu[i] <= 0.0)
            return eng_err_set(err, ENG_EDATA,
                               "row %zu: mean %g is not a number > 0",
                               i + 1, mu[i]);
        sum += dev_term(y[i], mu[i]);
    }
    *dev = sum / (double)n;
    return ENG_OK;
}

/* ===== Plain text ===== */

/* Remembers the first failed write so callers check once at the end. */
__attribute__((format(printf, 3, 4)))
static void put(FILE *f, int *bad, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(f, fmt, ap) < 0)
        *bad = 1;
    va_end(ap);
}

/* A number with prec decimals, "-" for NAN or infinity. */
static const char *num(char *s, size_t size, double v, int prec)
{
    if (!isfinite(v))
        snprintf(s, size, "-");
    else
        snprintf(s, size, "%.*f", prec, v);
    return s;
}

/* Counts are whole numbers in practice; show decimals only when not. */
static const char *count(char *s, size_t size, double v)
{
    return num(s, size, v, v == floor(v) ? 0 : 2);
}

static void put_header(FILE *f, int *bad, const char *first)
{
    put(f, bad, "%6s%8s%12s%12s%12s%10s%10s%8s\n", first, "rows",
        "exposure", "actual", "predicted", "act.freq", "pred.freq", "A/E");
}

static void put_bucket(FILE *f, int *bad, const char *label,
                       const struct eval_bucket *b)
{
    char s[5][48];
    char ae[48];
    put(f, bad, "%6s%8zu%12s%12s%12s%10s%10s%8s\n", label, b->n,
        num(s[0], sizeof(s[0]), b->exposure, 1),
        count(s[1], sizeof(s[1]), b->actual),
        num(s[2], sizeof(s[2]), b->predicted, 1),
        num(s[3], sizeof(s[3]), b->actual_freq, 4),
        num(s[4], sizeof(s[4]), b->predicted_freq, 4),
        num(ae, sizeof(ae), b->ae, 3));
}

int eval_print_text(const struct eval_report *r, FILE *f,
                    struct eng_err *err)
{
    assert(r && f);
    int bad = 0;
    char s[48];
    put(f, &bad, "%-26s%zu\n", "rows", r->n);
    put(f, &bad, "%-26s%s\n", "exposure (years)",
        num(s, sizeof(s), r->exposure, 1));
    put(f, &bad, "%-26s%s\n", "actual claims", count(s, sizeof(s), r->actual));
    put(f, &bad, "%-26s%s\n", "predicted claims",
        num(s, sizeof(s), r->predicted, 1));
    put(f, &bad, "%-26s%s\n", "actual / predicted",
        num(s, sizeof(s), r->ae, 4));
    put(f, &bad, "%-26s%s\n", "Gini", num(s, sizeof(s), r->gini, 4));
    put(f, &bad, "%-26s%s\n", "Gini of truth (oracle)",
        num(s, sizeof(s), r->gini_oracle, 4));
    put(f, &bad, "%-26s%s\n", "Gini ratio",
        num(s, sizeof(s), r->gini_ratio, 4));
    put(f, &bad, "%-26s%s\n", "mean Poisson deviance",
        num(s, sizeof(s), r->mean_poisson_deviance, 6));

    put(f, &bad, "\nlift: %zu equal-exposure buckets by predicted "
        "frequency\n", r->n_buckets);
    put_header(f, &bad, "bucket");
    for (size_t b = 0; b < r->n_buckets && b < EVAL_MAX_BUCKETS; b++) {
        char label[24];
        snprintf(label, sizeof(label), "%zu", b + 1);
        put_bucket(f, &bad, label, &r->lift[b]);
    }

    int any_band = 0;
    for (size_t b = 0; b < EVAL_N_BANDS; b++)
        any_band |= r->bands[b].n > 0;
    if (any_band) {
        put(f, &bad, "\nbands: actual / expected\n");
        put_header(f, &bad, "band");
        for (size_t b = 0; b < EVAL_N_BANDS; b++) {
            if (r->bands[b].n == 0)
                continue;
            char label[2] = {(char)('A' + b), 0};
            put_bucket(f, &bad, label, &r->bands[b]);
        }
    }
    int any_group = 0;
    for (int g = 0; r->min_group && g < EVAL_N_GROUPS; g++)
        any_group |= r->groups[g].n > 0;
    if (any_group) {
        put(f, &bad, "\nsubgroups (figures for groups of %zu rows or more)"
            "\n%-20s%8s%11s%8s%8s%8s%8s%8s\n", r->min_group, "group",
            "rows", "exposure", "actual", "A/E", "Gini", "oracle", "ratio");
        for (int g = 0; g < EVAL_N_GROUPS; g++) {
            const struct eval_group *o = &r->groups[g];
            char e[48], a[48], x[48], gi[48], go[48], gr[48];
            if (o->n == 0)
                continue;
            if (o->small) {
                put(f, &bad, "%-20s%8zu  fewer than %zu rows: not "
                    "reported\n", o->name, o->n, r->min_group);
                continue;
            }
            put(f, &bad, "%-20s%8zu%11s%8s%8s%8s%8s%8s\n", o->name, o->n,
                num(e, sizeof(e), o->exposure, 1),
                count(a, sizeof(a), o->actual),
                num(x, sizeof(x), o->ae, 3),
                num(gi, sizeof(gi), o->gini, 4),
                num(go, sizeof(go), o->gini_oracle, 4),
                num(gr, sizeof(gr), o->gini_ratio, 3));
        }
    }
    if (fflush(f) != 0 || ferror(f))
        bad = 1;
    if (bad)
        return eng_err_set(err, ENG_EIO, "cannot write the evaluation");
    return ENG_OK;
}

/* ===== JSON ===== */

/* Adds a number, or null for NAN; 0 or -1 when cJSON runs out of memory. */
static int add_num(cJSON *o, const char *name, double v)
{
    cJSON *item = isfinite(v) ? cJSON_AddNumberToObject(o, name, v)
                              : cJSON_AddNullToObject(o, name);
    return item ? 0 : -1;
}

static int add_bucket(cJSON *arr, const char *key, const char *label,
                      double index, const struct eval_bucket *b)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -1;
    if (!cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return -1;
    }
    cJSON *id = label ? cJSON_AddStringToObject(o, key, label)
                      : cJSON_AddNumberToObject(o, key, index);
    if (!id)
        return -1;
    if (add_num(o, "n", (double)b->n) < 0
        || add_num(o, "exposure", b->exposure) < 0
        || add_num(o, "actual", b->actual) < 0
        || add_num(o, "predicted", b->predicted) < 0
        || add_num(o, "actual_freq", b->actual_freq) < 0
        || add_num(o, "predicted_freq", b->predicted_freq) < 0
        || add_num(o, "ae", b->ae) < 0)
        return -1;
    return 0;
}

static int add_groups(cJSON *o, const struct eval_report *r)
{
    if (add_num(o, "min_group", (double)r->min_group) < 0)
        return -1;
    cJSON *arr = cJSON_AddArrayToObject(o, "subgroups");
    if (!arr)
        return -1;
    for (int g = 0; g < EVAL_N_GROUPS; g++) {
        const struct eval_group *s = &r->groups[g];
        if (s->n == 0)
            continue;
        cJSON *e = cJSON_CreateObject();
        if (!e)
            return -1;
        if (!cJSON_AddItemToArray(arr, e)) {
            cJSON_Delete(e);
            return -1;
        }
        if (!cJSON_AddStringToObject(e, "group", s->name)
            || add_num(e, "n", (double)s->n) < 0
            || !cJSON_AddBoolToObject(e, "small", s->small)
            || add_num(e, "exposure", s->exposure) < 0
            || add_num(e, "actual", s->actual) < 0
            || add_num(e, "predicted", s->predicted) < 0
            || add_num(e, "ae", s->ae) < 0
            || add_num(e, "gini", s->gini) < 0
            || add_num(e, "gini_oracle", s->gini_oracle) < 0
            || add_num(e, "gini_ratio", s->gini_ratio) < 0)
            return -1;
    }
    return 0;
}

static cJSON *report_json(const struct eval_report *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (add_num(o, "n", (double)r->n) < 0
        || add_num(o, "exposure", r->exposure) < 0
        || add_num(o, "actual", r->actual) < 0
        || add_num(o, "predicted", r->predicted) < 0
        || add_num(o, "ae", r->ae) < 0
        || add_num(o, "gini", r->gini) < 0
        || add_num(o, "gini_oracle", r->gini_oracle) < 0
        || add_num(o, "gini_ratio", r->gini_ratio) < 0
        || add_num(o, "mean_poisson_deviance",
                   r->mean_poisson_deviance) < 0
        || add_num(o, "n_buckets", (double)r->n_buckets) < 0)
        goto out;
    cJSON *lift = cJSON_AddArrayToObject(o, "lift");
    if (!lift)
        goto out;
    for (size_t b = 0; b < r->n_buckets && b < EVAL_MAX_BUCKETS; b++)
        if (add_bucket(lift, "bucket", NULL, (double)(b + 1),
                       &r->lift[b]) < 0)
            goto out;
    cJSON *bands = cJSON_AddArrayToObject(o, "bands");
    if (!bands)
        goto out;
    for (size_t b = 0; b < EVAL_N_BANDS; b++) {
        char label[2] = {(char)('A' + b), 0};
        if (add_bucket(bands, "band", label, 0.0, &r->bands[b]) < 0)
            goto out;
    }
    if (r->min_group && add_groups(o, r) < 0)
        goto out;
    return o;
out:
    cJSON_Delete(o);
    return NULL;
}

char *eval_to_json(const struct eval_report *r, struct eng_err *err)
{
    assert(r);
    char *copy = NULL;
    char *text = NULL;
    cJSON *o = report_json(r);
    if (!o)
        goto out;
    text = cJSON_Print(o);
    if (!text)
        goto out;
    /* cJSON's allocator may be hooked; the caller is promised free() */
    copy = strdup(text);
out:
    cJSON_free(text);
    cJSON_Delete(o);
    if (!copy)
        eng_err_set(err, ENG_ENOMEM, "out of memory writing the evaluation");
    return copy;
}
