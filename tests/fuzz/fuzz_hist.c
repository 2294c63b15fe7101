/*
 * fuzz_hist — a service-history response body (hist_parse).
 *
 * Invariants: the code is one hist.h names; a failure leaves the history
 * empty; every kept record has a day within the limits, a plausible
 * odometer and cost, a 3-letter upper-case currency or none, a known
 * source and NUL-terminated strings; the same body read as imperial gives
 * the same records with the odometers in miles turned into km.
 */
#include <math.h>
#include <stdlib.h>

#include "fuzz_common_hist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hist_limits lim;
    hist_limits_default(&lim);
    lim.max_records = 1000;
    const struct task_map *tasks = fuzz_tasks();
    struct hist h, hi;
    hist_init(&h);
    hist_init(&hi);
    struct eng_err err = {0};
    int rc = hist_parse(&h, (const char *)data, size, 0, &lim, tasks, &err);
    FUZZ_CHECK(fuzz_hist_code(rc));
    if (rc < 0) {
        FUZZ_CHECK(h.n == 0);
        FUZZ_CHECK(err.code == rc && err.msg[0]);
    }
    fuzz_check_hist(&h, &lim);

    int rci = hist_parse(&hi, (const char *)data, size, 1, &lim, tasks,
                         NULL);
    FUZZ_CHECK(rci == rc);
    FUZZ_CHECK(hi.n == h.n);
    fuzz_check_hist(&hi, &lim);
    for (size_t i = 0; i < h.n; i++) {
        const struct hist_rec *a = &h.rec[i], *b = &hi.rec[i];
        FUZZ_CHECK(a->day == b->day && a->cats == b->cats
                   && a->n_tasks == b->n_tasks && a->source == b->source);
        FUZZ_CHECK(strcmp(a->service_id, b->service_id) == 0);
        FUZZ_CHECK(isnan(a->cost) ? isnan(b->cost) : a->cost == b->cost);
        if (isnan(a->km) || a->km * HIST_KM_PER_MILE > 2e6)
            FUZZ_CHECK(isnan(b->km));
        else
            FUZZ_CHECK(fabs(b->km - a->km * HIST_KM_PER_MILE)
                       <= 1e-9 * (1 + b->km));
    }
    FUZZ_CHECK(hi.bad_fields >= h.bad_fields);

    /* the same body again into a used history gives the same result */
    int rc2 = hist_parse(&h, (const char *)data, size, 0, &lim, tasks, NULL);
    FUZZ_CHECK(rc2 == rc && h.n == hi.n);
    hist_release(&h);
    hist_release(&hi);
    return 0;
}
