/* shard — a deterministic split of a vehicle list by token pair. */
#include "shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "veh.h"

int shard_parse(const char *s, struct shard_spec *out, struct eng_err *err)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    unsigned long k = 0, n = 0;
    int ok = slash && s[0] >= '0' && s[0] <= '9' && slash[1] >= '0'
             && slash[1] <= '9';
    if (ok) {
        char *end;
        errno = 0;
        k = strtoul(s, &end, 10);
        ok = end == slash && errno == 0;
        if (ok) {
            n = strtoul(slash + 1, &end, 10);
            ok = *end == '\0' && errno == 0;
        }
    }
    if (!ok || n < 1 || n > SHARD_MAX || k >= n)
        return eng_err_set(err, ENG_EUSAGE, "--shard takes K/N with N from "
                           "1 to %d and K from 0 to N-1, not '%s'",
                           SHARD_MAX, s ? s : "");
    out->k = (unsigned)k;
    out->n = (unsigned)n;
    return ENG_OK;
}

unsigned shard_of(const struct veh_row *row, unsigned n)
{
    if (n <= 1)
        return 0;
    unsigned long long h;
    if (row->refresh_token && row->refresh_token[0]) {
        h = eng_fnv(ENG_FNV_BASIS, "r", 1);
        h = eng_fnv(h, row->refresh_token, strlen(row->refresh_token));
    } else if (row->vin && row->vin[0]) {
        h = eng_fnv(ENG_FNV_BASIS, "v", 1);
        h = eng_fnv(h, row->vin, strlen(row->vin));
    } else {
        char num[32];
        int len = snprintf(num, sizeof(num), "i%zu", row->index);
        h = eng_fnv(ENG_FNV_BASIS, num, (size_t)len);
    }
    /* the high bits mix best in FNV-1a */
    return (unsigned)((h >> 32) % n);
}

int shard_keeps(const struct shard_spec *spec, const struct veh_row *row)
{
    return !spec || spec->n <= 1 || shard_of(row, spec->n) == spec->k;
}

int shard_count(const char *path, const struct shard_spec *spec,
                size_t *count, struct eng_err *err)
{
    struct veh_reader *r = veh_open(path, err);
    if (!r)
        return err ? err->code : ENG_EIO;
    struct veh_row row = VEH_ROW_INIT;
    size_t n = 0;
    int rc;
    while ((rc = veh_next(r, &row, err)) > 0) {
        if (shard_keeps(spec, &row))
            n++;
    }
    veh_row_release(&row);
    veh_close(r);
    if (rc < 0)
        return rc;
    *count = n;
    return ENG_OK;
}
