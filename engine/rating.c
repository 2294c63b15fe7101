/* rating — a model as a rating table. */
#include "rating.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glm.h"
#include "model_internal.h"

static int is_cat(const struct model_input *in)
{
    return in->categorical || in->feat == MODEL_INPUT_MAKE;
}

static double beta0(double b)
{
    return isnan(b) ? 0.0 : b;
}

/* The value bin k shows: its middle percentile. */
static double bin_value(const struct model_input *in, int k)
{
    return in->quantiles[10 * k + 4];
}

static void bin_edges(const struct model_input *in, int k, double *lo,
                      double *hi)
{
    *lo = k == 0 ? -INFINITY : in->bin_edges[k - 1];
    *hi = k + 1 == in->n_bins ? INFINITY : in->bin_edges[k];
}

/* The base value of a numeric input: its training median. */
static double base_z(const struct model_input *in)
{
    return model_transform(in, in->median);
}

struct rows {
    struct rating_row *r;
    size_t n, cap;
};

static struct rating_row *add(struct rows *t, size_t input, int kind)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct rating_row *r = realloc(t->r, cap * sizeof(*r));
        if (!r)
            return NULL;
        t->r = r;
        t->cap = cap;
    }
    struct rating_row *r = &t->r[t->n++];
    memset(r, 0, sizeof(*r));
    r->input = input;
    r->kind = kind;
    r->level = r->level2 = -1;
    r->lower = r->lower2 = -INFINITY;
    r->upper = r->upper2 = INFINITY;
    r->value = r->value2 = NAN;
    r->exposure = NAN;
    return r;
}

/* An operand's "axis": its levels (base first) or its bins. */
static int axis_len(const struct model_input *in)
{
    return is_cat(in) ? (int)in->n_levels + 1 : in->n_bins;
}

static void axis_row(const struct model_input *in, int k, char *label,
                     double *lo, double *hi, double *value, int *level)
{
    if (is_cat(in)) {
        *level = k - 1;
        snprintf(label, 64, "%s", k == 0 ? in->base_level
                                         : in->levels[k - 1]);
        return;
    }
    *level = k;
    snprintf(label, 64, "bin %d", k + 1);
    bin_edges(in, k, lo, hi);
    *value = bin_value(in, k);
}

int rating_build(const struct model *m, struct rating_row **rows, size_t *n,
                 struct eng_err *err)
{
    *rows = NULL;
    *n = 0;
    if (m->link != GLM_LOG)
        return eng_err_set(err, ENG_EUSAGE, "a rating table needs a log "
                           "link (relativities multiply)");
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct model_input *in = &m->inputs[i];
        if (!is_cat(in) && in->feat != MODEL_INPUT_INTERACTION &&
            (in->n_bins != MODEL_N_BINS || !in->has_benchmark))
            return eng_err_set(err, ENG_EUSAGE, "input '%s' has no stored "
                               "bins: refit the model with this version",
                               in->name);
    }
    struct rows t = {0};
    struct rating_row *r = add(&t, 0, RATING_INTERCEPT);
    double base_eta = m->intercept;
    for (size_t i = 0; r && i < m->n_inputs; i++) {
        const struct model_input *in = &m->inputs[i];
        if (!is_cat(in) && in->feat != MODEL_INPUT_INTERACTION)
            base_eta += beta0(in->beta) * base_z(in);
    }
    if (r) {
        r->relativity = exp(m->intercept);
        snprintf(r->label, sizeof(r->label), "(intercept)");
        r = add(&t, 0, RATING_BASE);
    }
    if (r) {
        r->relativity = exp(base_eta) / model_mean_frequency(m);
        r->value = exp(base_eta);
        snprintf(r->label, sizeof(r->label), "(base risk)");
    }
    for (size_t i = 0; r && i < m->n_inputs; i++) {
        const struct model_input *in = &m->inputs[i];
        if (in->feat == MODEL_INPUT_INTERACTION) {
            const struct model_input *a = &m->inputs[in->ia];
            const struct model_input *b = &m->inputs[in->ib];
            for (int kb = 0; r && kb < axis_len(b); kb++) {
                for (int ka = 0; r && ka < axis_len(a); ka++) {
                    if (!(r = add(&t, i, RATING_CELL)))
                        break;
                    axis_row(a, ka, r->label, &r->lower, &r->upper,
                             &r->value, &r->level);
                    axis_row(b, kb, r->label2, &r->lower2, &r->upper2,
                             &r->value2, &r->level2);
                    double c;
                    if (is_cat(a) && is_cat(b))
                        c = r->level < 0 || r->level2 < 0 ? 0
                            : beta0(in->beta_level[(size_t)r->level2 *
                                                   a->n_levels +
                                                   (size_t)r->level]);
                    else if (is_cat(a))
                        c = r->level < 0 ? 0
                            : beta0(in->beta_level[r->level]) *
                              model_transform(b, r->value2);
                    else if (is_cat(b))
                        c = r->level2 < 0 ? 0
                            : beta0(in->beta_level[r->level2]) *
                              model_transform(a, r->value);
                    else
                        c = beta0(in->beta) * model_transform(a, r->value) *
                            model_transform(b, r->value2);
                    r->relativity = exp(c);
                }
            }
            continue;
        }
        if (is_cat(in)) {
            for (int k = 0; r && k <= (int)in->n_levels; k++) {
                if (!(r = add(&t, i, RATING_LEVEL)))
                    break;
                axis_row(in, k, r->label, &r->lower, &r->upper, &r->value,
                         &r->level);
                r->relativity = k == 0 ? 1 : exp(beta0(in->beta_level[k - 1]));
                r->exposure = k == 0 ? in->base_exposure
                                     : in->level_exposure[k - 1];
            }
            continue;
        }
        double zb = base_z(in), b = beta0(in->beta);
        for (int k = 0; r && k < in->n_bins; k++) {
            if (!(r = add(&t, i, RATING_BIN)))
                break;
            axis_row(in, k, r->label, &r->lower, &r->upper, &r->value,
                     &r->level);
            r->relativity = exp(b * (model_transform(in, r->value) - zb));
            r->exposure = in->bin_exposure[k];
        }
        if (r && in->has_missing && (r = add(&t, i, RATING_MISSING))) {
            snprintf(r->label, sizeof(r->label), "missing");
            r->value = in->impute;
            r->relativity = exp(beta0(in->beta_missing) +
                                b * (model_transform(in, NAN) - zb));
        }
        if (r && in->feat >= 0 &&
            (r = add(&t, i, RATING_NOT_APPLICABLE))) {
            snprintf(r->label, sizeof(r->label), "not applicable");
            r->relativity = exp(-b * zb);
        }
    }
    if (!r) {
        free(t.r);
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    }
    *rows = t.r;
    *n = t.n;
    return ENG_OK;
}

static int num(struct buf *out, double v, struct eng_err *err)
{
    if (!isfinite(v))
        return buf_adds(out, ",", err);
    return buf_printf(out, err, "%.10g,", v);
}

int rating_csv(const struct model *m, const struct rating_row *rows,
               size_t n, struct buf *out, struct eng_err *err)
{
    static const char *const kinds[] = {
        "intercept", "base", "level", "bin", "missing", "not_applicable",
        "cell"
    };
    int rc = buf_adds(out, "input,kind,level,lower,upper,value,level_2,"
                      "lower_2,upper_2,value_2,relativity,exposure\n", err);
    for (size_t i = 0; rc == ENG_OK && i < n; i++) {
        const struct rating_row *r = &rows[i];
        const char *name = r->kind <= RATING_BASE ? r->label
                           : m->inputs[r->input].name;
        rc = buf_csv(out, name, 1, err);
        if (rc == ENG_OK)
            rc = buf_printf(out, err, ",%s,", kinds[r->kind]);
        if (rc == ENG_OK && r->kind > RATING_BASE)
            rc = buf_csv(out, r->label, 1, err);
        if (rc == ENG_OK)
            rc = buf_adds(out, ",", err);
        if (rc == ENG_OK)
            rc = num(out, r->lower, err);
        if (rc == ENG_OK)
            rc = num(out, r->upper, err);
        if (rc == ENG_OK)
            rc = num(out, r->value, err);
        if (rc == ENG_OK)
            rc = buf_csv(out, r->label2, 1, err);
        if (rc == ENG_OK)
            rc = buf_adds(out, ",", err);
        if (rc == ENG_OK)
            rc = num(out, r->lower2, err);
        if (rc == ENG_OK)
            rc = num(out, r->upper2, err);
        if (rc == ENG_OK)
            rc = num(out, r->value2, err);
        if (rc == ENG_OK)
            rc = buf_printf(out, err, "%.10g,", r->relativity);
        if (rc == ENG_OK && isfinite(r->exposure))
            rc = buf_printf(out, err, "%.4f", r->exposure);
        if (rc == ENG_OK)
            rc = buf_adds(out, "\n", err);
    }
    return rc;
}
