/*
 * sim_fault — which fault the Smartcar simulator injects into a request.
 *
 * The choice is a pure function of (seed, vehicle id, attempt number), never
 * of thread timing, so a run with the same seed and the same per-vehicle
 * request order sees the same faults.  Attempts are numbered from 1 per
 * vehicle by the caller.
 *
 * Transient faults (drawn per attempt, with probability rate, the kind by
 * weight from a mix):
 *   500      SERVER:INTERNAL, v2 envelope
 *   502      UPSTREAM:UNKNOWN_ISSUE, v2 envelope
 *   409      VEHICLE_STATE:ASLEEP, v2 envelope
 *   429      RATE_LIMIT:VEHICLE with Retry-After 1..3 s
 *   slow     the normal answer after a long delay (longer than a client
 *            timeout)
 *   trunc    Content-Length announces the whole body, half of it is sent,
 *            then the connection is closed
 *   cut      a well-framed 200 whose JSON body stops half-way
 *   badjson  a well-framed 200 whose JSON has a syntax error
 *   reset    the connection is reset without an answer
 *   html     a 502 text/html page, as from a proxy in front of the API
 *   v1       a 409 in the v1 envelope {error, message, code}
 * Permanent faults (drawn once per vehicle, with probability rate, half and
 * half by the hash): 430 BILLING:VEHICLE_REQUEST_LIMIT and 501
 * COMPATIBILITY:MAKE_NOT_COMPATIBLE.
 *
 * Nothing here allocates or keeps state.
 */
#ifndef SIM_FAULT_H
#define SIM_FAULT_H

#include <stdint.h>

#include "eng.h"

enum sim_fault_kind {
    SIM_FAULT_NONE = 0,
    SIM_FAULT_500,
    SIM_FAULT_502,
    SIM_FAULT_409,
    SIM_FAULT_429,
    SIM_FAULT_SLOW,
    SIM_FAULT_TRUNC,
    SIM_FAULT_CUT,
    SIM_FAULT_BADJSON,
    SIM_FAULT_RESET,
    SIM_FAULT_HTML,
    SIM_FAULT_V1,
    SIM_FAULT_430,  /* permanent only */
    SIM_FAULT_501,  /* permanent only */
    SIM_FAULT_COUNT
};

/* The weights of the transient kinds; total is their sum. */
struct sim_fault_mix {
    double weight[SIM_FAULT_COUNT];
    double total;
};

/* The mix used when --fault-mix is not given. */
#define SIM_FAULT_DEFAULT_MIX \
    "500=2,502=2,409=1,429=2,slow=1,trunc=1,badjson=1,reset=1,html=1,v1=1"

/*
 * Parses "name=weight,name=weight,..." with the transient names above and
 * non-negative finite weights; a name may appear once.  Returns ENG_OK and
 * fills *mix, or ENG_EUSAGE naming the bad item (*mix unchanged).  A mix
 * whose weights are all zero is refused.
 */
int sim_fault_mix_parse(const char *spec, struct sim_fault_mix *mix,
                        struct eng_err *err);

/* The short name of a kind ("none", "500", "slow", ...); cannot fail. */
const char *sim_fault_name(enum sim_fault_kind kind);

/*
 * A 64-bit hash of (seed, vehicle id, n), well mixed in every bit; the basis
 * of every choice below.  Cannot fail.
 */
uint64_t sim_fault_hash(uint64_t seed, const char *vehicle_id, uint64_t n);

/*
 * The transient fault for attempt number attempt (1, 2, ...) on vehicle_id:
 * SIM_FAULT_NONE with probability 1 - rate, else a kind drawn by weight.
 * rate is clamped to [0, 1].  Cannot fail.
 */
enum sim_fault_kind sim_fault_pick(const struct sim_fault_mix *mix,
                                   double rate, uint64_t seed,
                                   const char *vehicle_id,
                                   unsigned long attempt);

/*
 * The permanent fault of vehicle_id: SIM_FAULT_430 or SIM_FAULT_501 for a
 * share rate of the vehicles, SIM_FAULT_NONE for the others.  Cannot fail.
 */
enum sim_fault_kind sim_fault_permanent(double rate, uint64_t seed,
                                        const char *vehicle_id);

/* The Retry-After (1..3 s) of an injected 429; cannot fail. */
int sim_fault_retry_after(uint64_t seed, const char *vehicle_id,
                          unsigned long attempt);

#endif
