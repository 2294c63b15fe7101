/*
 * fuzz_line — a line of a JSONL bundle (hist_parse_line, hist_peek_vin),
 * as the batch reads them and fetch writes them.
 *
 * Invariants: the code is one hist.h names; a failure leaves the history
 * empty; a line that carries a failed fetch status keeps it with an empty
 * history; the records keep the history's promises; hist_peek_vin() gives
 * only a non-empty run of letters and digits that fits its buffer, and a
 * object line that does not parse still names a VIN when
 * hist_peek_vin() finds one.
 */
#include <stdlib.h>

#include "fuzz_common_hist.h"

static int alnum_only(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z')
              || (*s >= 'a' && *s <= 'z')))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    char vin[18];
    memset(vin, 'x', sizeof(vin));
    int peek = hist_peek_vin(line, size, vin, sizeof(vin));
    FUZZ_CHECK(peek == 0 || peek == 1);
    if (peek) {
        FUZZ_CHECK(memchr(vin, '\0', sizeof(vin)));
        FUZZ_CHECK(alnum_only(vin));
    }
    char big[64];
    int peek_big = hist_peek_vin(line, size, big, sizeof(big));

    struct hist_limits lim;
    hist_limits_default(&lim);
    lim.max_records = 1000;
    struct hist_entry e;
    hist_entry_init(&e);
    struct eng_err err = {0};
    int rc = hist_parse_line(&e, line, size, &lim, fuzz_tasks(), &err);
    FUZZ_CHECK(fuzz_hist_code(rc));
    fuzz_check_hist(&e.hist, &lim);
    if (rc < 0) {
        FUZZ_CHECK(e.hist.n == 0);
        FUZZ_CHECK(err.code == rc && err.msg[0]);
        /* an object line cut short still names its vehicle */
        if (rc == ENG_EJSON && peek_big && size > 0 && line[0] == '{')
            FUZZ_CHECK(e.vin != NULL);
    }
    if (rc == ENG_OK && e.status && strcmp(e.status, "ok") != 0
        && strcmp(e.status, "no_history") != 0)
        FUZZ_CHECK(e.hist.n == 0);
    FUZZ_CHECK(!e.vin || strlen(e.vin) < 256);
    FUZZ_CHECK(!e.status || strlen(e.status) < 256);

    /* an entry is reused line after line: a second parse agrees */
    size_t n = e.hist.n;
    int rc2 = hist_parse_line(&e, line, size, &lim, fuzz_tasks(), NULL);
    FUZZ_CHECK(rc2 == rc && e.hist.n == n);
    hist_entry_release(&e);
    return 0;
}
