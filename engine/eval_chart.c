/* eval_chart — figures behind the validation charts (eval_chart.h). */
#include "eval_chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct key {
    double k;
    size_t i;
};

static int by_key(const void *pa, const void *pb)
{
    const struct key *a = pa, *b = pb;
    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

int evalc_lorenz(const double *y, const double *e, const double *score,
                 size_t n, size_t max, struct evalc_point *pts, size_t *np,
                 struct eng_err *err)
{
    if (n == 0 || max < 2 || max > EVALC_MAX_POINTS)
        return eng_err_set(err, ENG_EDATA, "a Lorenz curve needs rows and "
                           "2 to %d points", EVALC_MAX_POINTS);
    struct key *k = malloc(n * sizeof(*k));
    if (!k)
        return eng_err_set(err, ENG_ENOMEM, "out of memory for the curve");
    double te = 0, tl = 0;
    for (size_t i = 0; i < n; i++) {
        k[i].k = score[i] / e[i];
        k[i].i = i;
        te += e[i];
        tl += y[i];
    }
    qsort(k, n, sizeof(*k), by_key);
    size_t m = 0;
    pts[m].x = 0;
    pts[m++].y = 0;
    double ce = 0, cl = 0;
    for (size_t j = 0; j < n && m < max - 1; j++) {
        ce += e[k[j].i];
        cl += y[k[j].i];
        double x = ce / te;
        if (x >= (double)m / (double)(max - 1) && j + 1 < n) {
            pts[m].x = x;
            pts[m++].y = tl > 0 ? cl / tl : NAN;
        }
    }
    pts[m].x = 1;
    pts[m++].y = tl > 0 ? 1 : NAN;
    free(k);
    *np = m;
    return ENG_OK;
}

/* Equal-exposure bucket of a row (eval.h's midpoint rule). */
static size_t bucket_of(double before, double e, double total, size_t k)
{
    size_t b = (size_t)floor((double)k * (before + e / 2) / total);
    return b >= k ? k - 1 : b;
}

int evalc_double_lift(const struct eval_row *rows, const double *pred_b,
                      size_t n, size_t k, struct evalc_dl_bucket *out,
                      struct eng_err *err)
{
    if (n == 0 || k == 0 || k > EVAL_MAX_BUCKETS)
        return eng_err_set(err, ENG_EDATA, "a double lift needs rows and 1 "
                           "to %d buckets", EVAL_MAX_BUCKETS);
    double te = 0, ta = 0, tb = 0, ty = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(rows[i].pred > 0) || !(pred_b[i] > 0) || !(rows[i].exposure > 0))
            return eng_err_set(err, ENG_EDATA, "row %zu: predictions and "
                               "exposure must be > 0", i + 1);
        te += rows[i].exposure;
        ta += rows[i].pred;
        tb += pred_b[i];
        ty += rows[i].y;
    }
    struct key *key = malloc(n * sizeof(*key));
    if (!key)
        return eng_err_set(err, ENG_ENOMEM, "out of memory for the lift");
    double fa = ta / te, fb = tb / te, fy = ty / te;
    for (size_t i = 0; i < n; i++) {
        double e = rows[i].exposure;
        key[i].k = (rows[i].pred / e / fa) / (pred_b[i] / e / fb);
        key[i].i = i;
    }
    qsort(key, n, sizeof(*key), by_key);
    struct evalc_dl_bucket b[EVAL_MAX_BUCKETS];
    memset(b, 0, sizeof(b));
    for (size_t j = 0; j < k; j++)
        b[j].ratio_lo = b[j].ratio_hi = NAN;
    double before = 0;
    for (size_t j = 0; j < n; j++) {
        const struct eval_row *r = &rows[key[j].i];
        size_t q = bucket_of(before, r->exposure, te, k);
        before += r->exposure;
        struct evalc_dl_bucket *c = &b[q];
        if (c->n == 0)
            c->ratio_lo = key[j].k;
        c->ratio_hi = key[j].k;
        c->n++;
        c->exposure += r->exposure;
        c->actual += r->y;
        c->pred_a += r->pred;
        c->pred_b += pred_b[key[j].i];
    }
    free(key);
    for (size_t j = 0; j < k; j++) {
        struct evalc_dl_bucket *c = &b[j];
        if (c->n == 0) {
            c->actual = c->pred_a = c->pred_b = NAN;
            continue;
        }
        c->actual = fy > 0 ? c->actual / c->exposure / fy : NAN;
        c->pred_a = c->pred_a / c->exposure / fa;
        c->pred_b = c->pred_b / c->exposure / fb;
    }
    memcpy(out, b, k * sizeof(*out));
    return ENG_OK;
}

static int by_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* A value for a bin label: whole numbers and values from 100 on as whole
   numbers, else 3 significant digits. */
static void value_text(double v, char *s, size_t n)
{
    if ((v == floor(v) || fabs(v) >= 100) && fabs(v) < 1e15)
        snprintf(s, n, "%.0f", v);
    else
        snprintf(s, n, "%.3g", v);
}

int evalc_oneway(const double *x, const struct eval_row *rows, size_t n,
                 size_t k, struct evalc_bin *bins, size_t *nb,
                 struct eng_err *err)
{
    if (n == 0 || k == 0 || k >= EVALC_MAX_BINS)
        return eng_err_set(err, ENG_EDATA, "one-way bins need rows and 1 to "
                           "%d bins", EVALC_MAX_BINS - 1);
    double *v = malloc(n * sizeof(*v));
    if (!v)
        return eng_err_set(err, ENG_ENOMEM, "out of memory for the bins");
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[m++] = x[i];
    qsort(v, m, sizeof(*v), by_double);
    struct evalc_bin b[EVALC_MAX_BINS];
    memset(b, 0, sizeof(b));
    size_t nbins = 0;
    /* upper edges at the quantiles j / k, repeats merged */
    double edge[EVALC_MAX_BINS];
    for (size_t j = 1; m && j <= k; j++) {
        double q = v[j == k ? m - 1 : (m * j) / k];
        if (nbins && q <= edge[nbins - 1])
            continue;
        edge[nbins++] = q;
    }
    if (m)
        edge[nbins - 1] = v[m - 1];
    for (size_t j = 0; j < nbins; j++) {
        b[j].lo = j ? edge[j - 1] : v[0];
        b[j].hi = edge[j];
        char lo[20], hi[20];
        value_text(b[j].lo, lo, sizeof(lo));
        value_text(b[j].hi, hi, sizeof(hi));
        /* the first bin holds its lower edge, the others do not */
        if (b[j].lo == b[j].hi)
            snprintf(b[j].label, sizeof(b[j].label), "%s", hi);
        else if (j == 0)
            snprintf(b[j].label, sizeof(b[j].label), "%s to %s", lo, hi);
        else
            snprintf(b[j].label, sizeof(b[j].label), ">%s to %s", lo, hi);
    }
    size_t miss = nbins;
    snprintf(b[miss].label, sizeof(b[miss].label), "missing");
    b[miss].lo = b[miss].hi = NAN;
    int any_missing = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = miss;
        if (isfinite(x[i])) {
            j = 0;
            while (j + 1 < nbins && x[i] > edge[j])
                j++;
        } else {
            any_missing = 1;
        }
        b[j].n++;
        b[j].exposure += rows[i].exposure;
        b[j].actual += rows[i].y;
        b[j].predicted += rows[i].pred;
    }
    free(v);
    size_t total = nbins + (size_t)any_missing;
    for (size_t j = 0; j < total; j++)
        b[j].ae = b[j].predicted > 0 ? b[j].actual / b[j].predicted : NAN;
    memcpy(bins, b, total * sizeof(*bins));
    *nb = total;
    return ENG_OK;
}

static unsigned long long splitmix(unsigned long long *s)
{
    unsigned long long z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The p-quantile of sorted v[0..n), linear between order statistics. */
static double quantile(const double *v, size_t n, double p)
{
    double h = p * (double)(n - 1);
    size_t i = (size_t)floor(h);
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

static void interval(double *v, size_t n, struct evalc_ci *ci)
{
    ci->reps = n;
    ci->lo = ci->hi = NAN;
    if (n == 0)
        return;
    qsort(v, n, sizeof(*v), by_double);
    ci->lo = quantile(v, n, 0.025);
    ci->hi = quantile(v, n, 0.975);
}

int evalc_bootstrap_gini(const struct eval_row *rows, const double *pred_b,
                         size_t n, size_t reps, unsigned long long seed,
                         struct evalc_ci *a, struct evalc_ci *b,
                         struct evalc_ci *diff, struct eng_err *err)
{
    if (n == 0 || reps == 0)
        return eng_err_set(err, ENG_EDATA, "a bootstrap needs rows and "
                           "resamples");
    double *y = malloc(n * sizeof(*y)), *e = malloc(n * sizeof(*e));
    double *sa = malloc(n * sizeof(*sa)), *sb = malloc(n * sizeof(*sb));
    double *ga = malloc(reps * sizeof(*ga)), *gb = malloc(reps * sizeof(*gb));
    double *gd = malloc(reps * sizeof(*gd));
    int rc = ENG_OK;
    if (!y || !e || !sa || !sb || !ga || !gb || !gd) {
        rc = eng_err_set(err, ENG_ENOMEM, "out of memory for the bootstrap");
        goto out;
    }
    unsigned long long state = seed;
    size_t used = 0;
    for (size_t r = 0; r < reps; r++) {
        for (size_t i = 0; i < n; i++) {
            size_t j = (size_t)(splitmix(&state) % n);
            y[i] = rows[j].y;
            e[i] = rows[j].exposure;
            sa[i] = rows[j].pred;
            sb[i] = pred_b ? pred_b[j] : 1;
        }
        double g1, g2 = NAN;
        rc = eval_gini(y, e, sa, n, &g1, err);
        if (rc == ENG_OK && pred_b)
            rc = eval_gini(y, e, sb, n, &g2, err);
        if (rc < 0)
            goto out;
        if (isnan(g1))
            continue;
        ga[used] = g1;
        gb[used] = g2;
        gd[used] = g1 - g2;
        used++;
    }
    interval(ga, used, a);
    if (pred_b) {
        interval(gb, used, b);
        interval(gd, used, diff);
    }
out:
    free(y);
    free(e);
    free(sa);
    free(sb);
    free(ga);
    free(gb);
    free(gd);
    return rc;
}
