/*
 * synth_internal — the generator's compiled-in tables (makes and
 * service-task texts), shared with the tests so that they can check them
 * against data/makes.tsv, data/schedules.tsv and data/tasks.tsv.
 * Read-only static data; nothing to free.
 */
#ifndef SYNTH_INTERNAL_H
#define SYNTH_INTERNAL_H

#include <stddef.h>

#include "synth.h"

enum synth_lang { SYNTH_EN, SYNTH_FR, SYNTH_DE, SYNTH_ES };

struct synth_task_text {
    enum synth_task kind;
    enum synth_lang lang;
    const char *text;       /* UTF-8 */
    int ice_only;           /* 1: names an engine part (not for a BEV) */
};

struct synth_make_info {
    const char *name;           /* as in data/makes.tsv */
    const char *wmi[5];
    int n_wmi;
    double oil_months;          /* as in data/schedules.tsv */
    double oil_km;
    double rotation_months;     /* the (make, *) row */
    double rotation_km;
    /* a BEV's: the (make, BEV) row, else rotation from (make, *) and the
     * cabin filter and brake fluid from (default, BEV) */
    double bev_rotation_months; /* also the BEV's service interval */
    double bev_rotation_km;
    double bev_cabin_months;
    double bev_fluid_months;
    int gives_cost;             /* 0: every record's cost is null */
    int gives_tasks;            /* 0: every record's task list is empty */
};

/* The compiled-in make table, indexed by enum synth_make. */
extern const struct synth_make_info synth_makes[SYNTH_N_MAKES];

/* All texts, grouped by kind then language; synth_n_task_texts entries. */
extern const struct synth_task_text synth_task_texts[];
extern const size_t synth_n_task_texts;

/* The data/tasks.tsv category name of a kind ("oil", "tire_rotation"...). */
const char *synth_task_name(enum synth_task kind);

#endif
