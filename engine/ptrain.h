/*
 * ptrain — a vehicle's powertrain and where it was learnt from.
 *
 * The powertrain decides which maintenance items a vehicle has: an electric
 * car (BEV) has no engine oil, hybrids (HEV, PHEV) and combustion cars (ICE)
 * do.  It is taken, first found wins, from the vehicle list's powertrain
 * column, the API's vehicle attributes, or the make of the VIN's world
 * manufacturer identifier when that maker builds only electric cars.  It is
 * never inferred from the history itself: a history without oil changes is
 * what a neglected combustion car looks like too.
 *
 * Pure functions on constant tables: any thread may call them; none fails.
 */
#ifndef PTRAIN_H
#define PTRAIN_H

enum ptrain {
    PTRAIN_UNKNOWN = 0,
    PTRAIN_ICE,         /* internal combustion engine only */
    PTRAIN_HEV,         /* hybrid, not chargeable from the grid */
    PTRAIN_PHEV,        /* plug-in hybrid */
    PTRAIN_BEV,         /* battery electric: no engine */
    PTRAIN_COUNT
};

enum ptrain_src {
    PTRAIN_SRC_NONE = 0,
    PTRAIN_SRC_LIST,    /* the vehicle list's powertrain column */
    PTRAIN_SRC_API,     /* the API's vehicle attributes */
    PTRAIN_SRC_WMI,     /* an electric-only maker's WMI (data/makes.tsv) */
    PTRAIN_SRC_COUNT
};

/*
 * The powertrain named by s, case-insensitive, blanks around it ignored:
 * ICE, GAS, GASOLINE, PETROL, DIESEL, COMBUSTION -> ICE; HEV, HYBRID ->
 * HEV; PHEV, PLUG_IN_HYBRID, PLUG-IN HYBRID, PLUGIN HYBRID, PLUG-IN ->
 * PHEV; BEV, EV, ELECTRIC, BATTERY_ELECTRIC -> BEV.  NULL, "" or anything
 * else gives PTRAIN_UNKNOWN.
 */
enum ptrain ptrain_parse(const char *s);

/* "ICE", "HEV", "PHEV", "BEV"; "" for PTRAIN_UNKNOWN or out of range. */
const char *ptrain_name(int p);

/* "list", "api", "wmi"; "" for PTRAIN_SRC_NONE or out of range. */
const char *ptrain_src_name(int src);

/* The source named by s ("list", "api", "wmi", case-insensitive), else
 * PTRAIN_SRC_NONE. */
enum ptrain_src ptrain_src_parse(const char *s);

/* Does the vehicle have engine oil to change?  ICE, HEV, PHEV: yes; BEV:
 * no; unknown: yes (treated as the common case, a combustion engine). */
int ptrain_has_oil(int p);

#endif
