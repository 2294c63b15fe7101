/* sim_fault — deterministic fault choice for the simulator. */
#include "sim_fault.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[SIM_FAULT_COUNT] = {
    "none", "500", "502", "409", "429", "slow", "trunc", "cut", "badjson",
    "reset", "html", "v1", "430", "501"
};

/* Distinct streams so that the draws below do not reuse the same bits. */
enum {
    STREAM_TRANSIENT = 0x7472616e,
    STREAM_KIND = 0x6b696e64,
    STREAM_PERMANENT = 0x7065726d,
    STREAM_RETRY = 0x72657472
};

const char *sim_fault_name(enum sim_fault_kind kind)
{
    if ((unsigned)kind >= SIM_FAULT_COUNT)
        return "?";
    return names[kind];
}

static int transient(enum sim_fault_kind k)
{
    return k > SIM_FAULT_NONE && k < SIM_FAULT_430;
}

int sim_fault_mix_parse(const char *spec, struct sim_fault_mix *mix,
                        struct eng_err *err)
{
    struct sim_fault_mix m;
    memset(&m, 0, sizeof(m));
    int seen[SIM_FAULT_COUNT] = {0};
    const char *p = spec ? spec : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return eng_err_set(err, ENG_EUSAGE,
                               "fault mix item '%.*s' has no '='",
                               (int)len, p);
        size_t nlen = (size_t)(eq - p);
        enum sim_fault_kind kind = SIM_FAULT_NONE;
        for (int k = 0; k < SIM_FAULT_COUNT; k++) {
            if (transient((enum sim_fault_kind)k)
                && strlen(names[k]) == nlen
                && memcmp(names[k], p, nlen) == 0)
                kind = (enum sim_fault_kind)k;
        }
        if (kind == SIM_FAULT_NONE)
            return eng_err_set(err, ENG_EUSAGE,
                               "unknown fault kind '%.*s'", (int)nlen, p);
        if (seen[kind])
            return eng_err_set(err, ENG_EUSAGE,
                               "fault kind '%s' given twice", names[kind]);
        seen[kind] = 1;
        char num[32];
        size_t vlen = len - nlen - 1;
        if (vlen == 0 || vlen >= sizeof(num))
            return eng_err_set(err, ENG_EUSAGE,
                               "bad weight for fault kind '%s'", names[kind]);
        memcpy(num, eq + 1, vlen);
        num[vlen] = '\0';
        char *end = NULL;
        double w = strtod(num, &end);
        if (*end != '\0' || !isfinite(w) || w < 0)
            return eng_err_set(err, ENG_EUSAGE,
                               "bad weight '%s' for fault kind '%s'", num,
                               names[kind]);
        m.weight[kind] = w;
        m.total += w;
        p += len;
        if (*p == ',')
            p++;
    }
    if (!(m.total > 0))
        return eng_err_set(err, ENG_EUSAGE, "fault mix has no weight");
    *mix = m;
    return ENG_OK;
}

/* splitmix64's finaliser: a bijection that spreads every input bit. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t sim_fault_hash(uint64_t seed, const char *vehicle_id, uint64_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;     /* FNV-1a over the id */
    for (const unsigned char *p = (const unsigned char *)vehicle_id;
         p && *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return mix64(mix64(h ^ mix64(seed)) + n * 0x9e3779b97f4a7c15ULL);
}

/* A uniform double in [0, 1) from the top 53 bits. */
static double unit(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

enum sim_fault_kind sim_fault_pick(const struct sim_fault_mix *mix,
                                   double rate, uint64_t seed,
                                   const char *vehicle_id,
                                   unsigned long attempt)
{
    if (!(rate > 0) || !mix || !(mix->total > 0))
        return SIM_FAULT_NONE;
    uint64_t n = (uint64_t)attempt;
    double u = unit(sim_fault_hash(seed ^ STREAM_TRANSIENT, vehicle_id, n));
    if (u >= rate)
        return SIM_FAULT_NONE;
    double x = unit(sim_fault_hash(seed ^ STREAM_KIND, vehicle_id, n))
               * mix->total;
    enum sim_fault_kind last = SIM_FAULT_NONE;
    for (int k = 0; k < SIM_FAULT_COUNT; k++) {
        if (!transient((enum sim_fault_kind)k) || !(mix->weight[k] > 0))
            continue;
        last = (enum sim_fault_kind)k;
        if (x < mix->weight[k])
            return last;
        x -= mix->weight[k];
    }
    return last;    /* rounding left x just above the last weight */
}

enum sim_fault_kind sim_fault_permanent(double rate, uint64_t seed,
                                        const char *vehicle_id)
{
    if (!(rate > 0))
        return SIM_FAULT_NONE;
    uint64_t h = sim_fault_hash(seed ^ STREAM_PERMANENT, vehicle_id, 0);
    if (unit(h) >= rate)
        return SIM_FAULT_NONE;
    return h & 1 ? SIM_FAULT_501 : SIM_FAULT_430;
}

int sim_fault_retry_after(uint64_t seed, const char *vehicle_id,
                          unsigned long attempt)
{
    uint64_t h = sim_fault_hash(seed ^ STREAM_RETRY, vehicle_id,
                                (uint64_t)attempt);
    return 1 + (int)(h % 3);
}
