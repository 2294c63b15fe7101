/*
 * fuzz_common_hist — the checks the history targets share (hist, line).
 */
#ifndef FUZZ_COMMON_HIST_H
#define FUZZ_COMMON_HIST_H

#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "hist.h"
#include "task.h"

/* The task table when the target runs from the source tree, else NULL. */
static const struct task_map *fuzz_tasks(void)
{
    static int tried;
    static struct task_map *map;
    if (!tried) {
        tried = 1;
        map = task_map_load("data/tasks.tsv", NULL);
    }
    return map;
}

/* What hist.h promises about a parsed history of the limits lim. */
static void fuzz_check_hist(const struct hist *h,
                            const struct hist_limits *lim)
{
    long lo = eng_days_from_civil(lim->min_year, 1, 1);
    long hi = eng_days_from_civil(lim->max_year, 12, 31);
    FUZZ_CHECK(h->n <= lim->max_records);
    FUZZ_CHECK(h->n <= h->cap);
    FUZZ_CHECK(memchr(h->first_bad, '\0', sizeof(h->first_bad)));
    FUZZ_CHECK((h->bad_fields == 0) == (h->first_bad[0] == '\0'));
    for (size_t i = 0; i < h->n; i++) {
        const struct hist_rec *r = &h->rec[i];
        FUZZ_CHECK(r->day == HIST_NO_DAY || (r->day >= lo && r->day <= hi));
        FUZZ_CHECK(isnan(r->km) || (r->km >= 0 && r->km <= 2e6));
        FUZZ_CHECK(isnan(r->cost) || (r->cost >= 0 && r->cost <= 1e7));
        FUZZ_CHECK(memchr(r->currency, '\0', sizeof(r->currency)));
        size_t cl = strlen(r->currency);
        FUZZ_CHECK(cl == 0 || cl == 3);
        for (size_t k = 0; k < cl; k++)
            FUZZ_CHECK(r->currency[k] >= 'A' && r->currency[k] <= 'Z');
        FUZZ_CHECK(r->source == HIST_SRC_UNKNOWN
                   || r->source == HIST_SRC_DEALER
                   || r->source == HIST_SRC_OWNER);
        FUZZ_CHECK(memchr(r->service_id, '\0', sizeof(r->service_id)));
    }
}

/* A failure code hist_parse() may return. */
static int fuzz_hist_code(int rc)
{
    return rc == ENG_OK || rc == ENG_EJSON || rc == ENG_EDATA
           || rc == ENG_ELIMIT || rc == ENG_ENOMEM;
}

#endif
