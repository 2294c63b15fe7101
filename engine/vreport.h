/*
 * vreport — the validation report of 'evaluate --report': one
 * self-contained HTML page (the frame of report.h) with the charts an
 * actuary files for a claim-frequency model, and the same figures as JSON
 * for 'evaluate --json'.
 *
 * Charts: the ordered Lorenz curve with the Gini (and the oracle's curve
 * with the truth), the quantile lift chart (actual and predicted frequency
 * by equal-exposure bucket), actual / expected by band, calibration
 * (actual against predicted frequency in finer buckets), the one-way
 * actual / expected by each input's bins, and with a second model the
 * double-lift chart and both Ginis; bootstrap intervals on the Gini when
 * asked.  Each chart is followed by a table of its figures.
 *
 * struct vreport is plain data filled by the caller (eval.h, eval_chart.h);
 * every pointer is borrowed; optional parts are NULL or 0.
 */
#ifndef VREPORT_H
#define VREPORT_H

#include <stddef.h>

#include "buf.h"
#include "eng.h"
#include "eval.h"
#include "eval_chart.h"

#define VREPORT_MAX_INPUTS 32

struct vreport_oneway {
    const char *name;                 /* the input's name */
    struct evalc_bin bins[EVALC_MAX_BINS];
    size_t n_bins;
};

struct vreport {
    const char *model_id;
    const char *compare_id;           /* NULL: no second model */
    const char *features, *labels, *truth;  /* file names (truth may be NULL) */
    size_t skipped, unlabelled;       /* rows left out */
    const struct eval_report *main;   /* the model: lift, bands, Gini */
    const struct eval_report *calib;  /* the same in finer buckets */
    const struct eval_report *other;  /* the second model, or NULL */
    const struct evalc_point *lorenz, *lorenz_oracle, *lorenz_other;
    size_t n_lorenz, n_lorenz_oracle, n_lorenz_other;
    const struct evalc_dl_bucket *dl; /* double lift, or NULL */
    size_t n_dl;
    const struct vreport_oneway *oneway;
    size_t n_oneway;
    size_t boot_reps;                 /* 0: no bootstrap */
    unsigned long long boot_seed;
    struct evalc_ci ci, ci_other, ci_diff;
};

/* Appends the page; as buf_add(). */
int vreport_html(const struct vreport *v, struct buf *out,
                 struct eng_err *err);

/* Writes the page to path atomically; ENG_OK, ENG_ENOMEM or ENG_EIO. */
int vreport_write(const char *path, const struct vreport *v,
                  struct eng_err *err);

/*
 * The chart figures as a cJSON object (cJSON *, declared void * here so
 * this header needs no cJSON), to be added to evaluate's JSON: "lorenz",
 * "lorenz_oracle", "calibration", "oneway", "double_lift", "compare",
 * "bootstrap".  Returns NULL with ENG_ENOMEM.
 */
void *vreport_json(const struct vreport *v, struct eng_err *err);

#endif
