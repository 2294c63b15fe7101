/* score — scores CSV rows (README.md, Outputs). */
#include "score.h"

#include <math.h>
#include <string.h>

#include "factors.h"
#include "feat.h"
#include "hist.h"
#include "model.h"

static const char header[] =
    "vin,vehicle_id,policy_id,status,score,band,relativity,"
    "reason_1,reason_2,reason_3,reason_4,"
    "n_services,first_service_date,last_service_date,"
    "days_since_last_service,last_odometer_km,est_annual_km,"
    "odometer_rollback,overdue_oil_change,data_completeness,model_id\n";

int score_header(struct buf *out, struct eng_err *err)
{
    return buf_adds(out, header, err);
}

int score_header_with(const struct score_opts *o, struct buf *out,
                      struct eng_err *err)
{
    if (!o || !o->severity)
        return buf_adds(out, header, err);
    int rc = buf_add(out, header, sizeof(header) - 2, err);
    return rc == ENG_OK ? buf_adds(out, ",expected_severity,"
                                   "pure_premium_relativity\n", err) : rc;
}

/* The own factors of the vehicle being scored. */
struct own_row {
    const struct factors *fx;
    long row;
};

static const char *own_value(const void *ud, const char *name)
{
    const struct own_row *r = ud;
    if (r->row < 0)
        return NULL;
    int c = factors_col(r->fx, name);
    return c < 0 ? NULL : factors_cell(r->fx, r->row, c);
}

static int text(struct buf *out, const char *s, int guard,
                struct eng_err *err)
{
    int rc = buf_csv(out, s, guard, err);
    return rc == ENG_OK ? buf_adds(out, ",", err) : rc;
}

static int number(struct buf *out, double v, struct eng_err *err)
{
    int rc = buf_num(out, v, err);
    return rc == ENG_OK ? buf_adds(out, ",", err) : rc;
}

static int day(struct buf *out, long d, struct eng_err *err)
{
    if (d != HIST_NO_DAY) {
        char s[11];
        eng_format_day(d, s);
        int rc = buf_adds(out, s, err);
        if (rc < 0)
            return rc;
    }
    return buf_adds(out, ",", err);
}

int score_row(const struct model *m, const struct batch_vehicle *v,
              int csv_guard, struct buf *out, struct eng_err *err)
{
    return score_row_with(m, NULL, 0, v, csv_guard, out, err);
}

int score_row_with(const struct model *m, const struct score_opts *o,
                   int worker, const struct batch_vehicle *v, int csv_guard,
                   struct buf *out, struct eng_err *err)
{
    size_t start = out->len;
    struct own_row own = {NULL, -1};
    struct model_factors fx = {own_value, &own};
    if (o && o->factors) {
        own.fx = o->factors;
        own.row = factors_find(o->factors,
                               strcmp(factors_key(o->factors), "vin") == 0
                               ? v->vin : v->policy_id);
    }
    double freq_rel = NAN;
    int rc = text(out, v->vin, csv_guard, err);
    if (rc == ENG_OK)
        rc = text(out, v->vehicle_id, csv_guard, err);
    if (rc == ENG_OK)
        rc = text(out, v->policy_id, csv_guard, err);
    if (rc == ENG_OK)
        rc = text(out, v->status, csv_guard, err);
    const struct feat_vec *f = v->feat;
    if (rc == ENG_OK && f && strcmp(v->status, "ok") == 0) {
        struct model_result res;
        int unseen = 0;
        model_score_with(m, f, v->make, &fx, &res, &unseen);
        freq_rel = res.relativity;
        if (unseen && o && o->unseen)
            o->unseen[worker]++;
        char band[2] = {res.band, '\0'};
        rc = buf_printf(out, err, "%d,%s,%.4f,", res.score, band,
                        res.relativity);
        for (int i = 0; rc == ENG_OK && i < MODEL_MAX_REASONS; i++)
            rc = text(out, i < res.n_reasons ? res.reasons[i].text : "",
                      csv_guard, err);
    } else if (rc == ENG_OK) {
        rc = buf_adds(out, ",,,,,,,", err);
    }
    if (rc == ENG_OK && f) {
        double dups = f->v[FEAT_DUPLICATE_RECORDS];
        rc = number(out, f->v[FEAT_N_RECORDS] - dups, err);
        if (rc == ENG_OK)
            rc = day(out, f->first_day, err);
        if (rc == ENG_OK)
            rc = day(out, f->last_day, err);
        if (rc == ENG_OK)
            rc = number(out, f->v[FEAT_DAYS_SINCE_LAST_SERVICE], err);
        if (rc == ENG_OK)
            rc = number(out, isnan(f->last_km) ? NAN
                             : round(f->last_km * 10) / 10, err);
        if (rc == ENG_OK)
            rc = number(out, isnan(f->v[FEAT_EST_ANNUAL_KM]) ? NAN
                             : round(f->v[FEAT_EST_ANNUAL_KM]), err);
        if (rc == ENG_OK)
            rc = number(out, f->v[FEAT_ODOMETER_ROLLBACKS] > 0, err);
        if (rc == ENG_OK)
            rc = number(out, f->v[FEAT_OVERDUE_OIL_CHANGE], err);
        if (rc == ENG_OK)
            rc = number(out, round(f->v[FEAT_DATA_COMPLETENESS] * 1000) /
                             1000, err);
    } else if (rc == ENG_OK) {
        rc = buf_adds(out, ",,,,,,,,,", err);
    }
    if (rc == ENG_OK)
        rc = buf_csv(out, model_id(m), csv_guard, err);
    if (rc == ENG_OK && o && o->severity) {
        if (isnan(freq_rel)) {
            rc = buf_adds(out, ",,", err);
        } else {
            struct model_result sv;
            model_score_with(o->severity, f, v->make, &fx, &sv, NULL);
            double sev = sv.relativity * model_mean_frequency(o->severity);
            rc = buf_printf(out, err, ",%.2f,%.4f", sev,
                            freq_rel * sv.relativity);
        }
    }
    if (rc == ENG_OK)
        rc = buf_adds(out, "\n", err);
    if (rc < 0 && out->data) {
        /* the buffer as it was, its NUL included (buf.h's invariant) */
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}
