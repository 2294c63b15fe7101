/*
 * task — maintenance taxonomy and schedules, loaded from data files.
 *
 * A struct task_map turns free-text service-task descriptions (English,
 * French, German, Spanish) into a bitmask of categories, from keyword rows in
 * data/tasks.tsv.  A struct task_sched_table gives each make's maintenance
 * schedule (data/schedules.tsv, with a "default" row) and knows which make a
 * VIN's world manufacturer identifier belongs to (data/makes.tsv).
 *
 * Both are loaded once at start, validated (a bad line is an error naming the
 * file and line, not a silent skip), and read-only afterwards: any number of
 * threads may use them at once.  Free with task_map_free() and
 * task_sched_free(); both accept NULL.
 */
#ifndef TASK_H
#define TASK_H

#include <stddef.h>

#include "eng.h"

enum task_cat {
    TASK_OIL,
    TASK_TIRE_ROTATION,
    TASK_TIRES,
    TASK_BRAKES,
    TASK_FILTERS,
    TASK_FLUIDS,
    TASK_BATTERY,
    TASK_INSPECTION,
    TASK_WIPERS,
    TASK_REPAIR,
    TASK_RECALL,
    TASK_OTHER,
    TASK_NCATS
};

#define TASK_BIT(cat) (1u << (cat))

/* The category's name as in data/tasks.tsv ("oil", ...); NULL if out of range. */
const char *task_cat_name(int cat);

/* The category for a name, or -1. */
int task_cat_parse(const char *name);

struct task_map;

/*
 * Loads a keyword table.  Returns a new map (free with task_map_free()) or
 * NULL with ENG_EIO (unreadable), ENG_EDATA (a line that is not
 * "category<TAB>keyword", an unknown category, an empty keyword; the message
 * names file and line) or ENG_ENOMEM.
 */
struct task_map *task_map_load(const char *path, struct eng_err *err);

void task_map_free(struct task_map *map);

/*
 * The categories one task description belongs to, as a TASK_BIT() mask.
 * Matching is case-insensitive (ASCII and Latin-1 letters in UTF-8) on
 * keyword substrings.  A non-empty description that matches nothing gives
 * TASK_BIT(TASK_OTHER); NULL or an empty one gives 0.  Cannot fail.
 */
unsigned task_classify(const struct task_map *map, const char *desc);

/*
 * One make's schedule for one powertrain: intervals before an item is due.
 * An item the maker does not list is NAN (a BEV's oil, most makes' cabin
 * filter and fluids).
 */
struct task_sched {
    char make[32];
    int ptrain;             /* enum ptrain; PTRAIN_UNKNOWN = any ("*") */
    double oil_km;          /* oil change distance interval, km, or NAN */
    double oil_days;        /* oil change time interval, days, or NAN */
    double rotation_km;     /* tire rotation distance interval, km */
    double rotation_days;   /* tire rotation time interval, days */
    double cabin_days;      /* cabin air filter, days, or NAN */
    double brake_fluid_days; /* brake fluid, days, or NAN */
    double coolant_days;    /* coolant, days, or NAN */
    double tolerance;       /* share past the interval before "overdue" */
};

struct task_sched_table;

/*
 * Loads the schedules file and the WMI-to-make file (makes_path may be NULL:
 * then no make is known from a VIN).  The schedules file must have a
 * "default" row.  Returns a new table (free with task_sched_free()) or NULL
 * with ENG_EIO, ENG_EDATA (bad line: file and line named; non-positive
 * interval; a BEV row with oil intervals or another row without; no
 * default "*" row) or ENG_ENOMEM.  The makes file's optional 4th column
 * is a powertrain every vehicle of that WMI has (BEV), or empty.
 */
struct task_sched_table *task_sched_load(const char *sched_path,
                                         const char *makes_path,
                                         struct eng_err *err);

void task_sched_free(struct task_sched_table *table);

/*
 * The make of a VIN from its first three characters, or NULL when unknown.
 * Returns a borrowed string valid while the table lives.  Cannot fail.
 */
const char *task_make_of_vin(const struct task_sched_table *table,
                             const char *vin);

/*
 * The powertrain of every vehicle with this VIN's WMI (makes.tsv's 4th
 * column): PTRAIN_BEV for electric-only makers, else PTRAIN_UNKNOWN.
 * Cannot fail.
 */
int task_ptrain_of_vin(const struct task_sched_table *table, const char *vin);

/*
 * The schedule for a make (case-insensitive) and powertrain (enum ptrain):
 * the (make, powertrain) row, else (make, *), else (default, powertrain),
 * else (default, *).  make may be NULL.  Returns a borrowed pointer valid
 * while the table lives; never NULL.
 */
const struct task_sched *task_sched_find(const struct task_sched_table *table,
                                         const char *make, int ptrain);

/* task_sched_find() for an unknown powertrain. */
const struct task_sched *task_sched_for(const struct task_sched_table *table,
                                        const char *make);

#endif
