/*
 * sim_fleet — the simulator's fleet, loaded once into memory and read-only
 * afterwards (so every function below that takes a const fleet is safe from
 * any number of threads without locking).
 *
 * A fleet directory holds:
 *   vehicles.csv     header vin,vehicle_id,policy_id,make,model_year,
 *                    unit_system,user_id,access_token,refresh_token,
 *                    expires_at (RFC 4180; column order free; unknown
 *                    columns ignored; an optional model column names the
 *                    model, an optional powertrain column the powertrain
 *                    the v3 vehicle object serves).  vehicle_id and
 *                    user_id are required per row.
 *                    Rows sharing user_id belong to one user and normally
 *                    carry the same token pair.
 *   histories.jsonl  one line per vehicle: {"vin", "vehicle_id",
 *                    "unit_system", "fetched_at", "history"}.  history is
 *                    the v2 response body: an array of service records is
 *                    served filtered by date window; any other JSON value is
 *                    served verbatim, whatever the window; a JSON string is
 *                    served as its raw text (so a fleet can carry a
 *                    malformed body on purpose).  A vehicle without a line
 *                    has an empty history.  unit_system here (else in the
 *                    CSV, else metric) is the unit of the stored odometers.
 *
 * Ownership: sim_fleet_load() returns a new fleet, freed with
 * sim_fleet_free(); every pointer the accessors return is borrowed and lives
 * as long as the fleet.
 */
#ifndef SIM_FLEET_H
#define SIM_FLEET_H

#include <stddef.h>

#include "eng.h"
#include "sim_buf.h"
#include "sim_window.h"

struct sim_fleet;

/* A vehicle; callers read the fields, never write them. */
struct sim_vehicle {
    size_t index;           /* position in the fleet, 0-based */
    const char *id;         /* vehicle_id */
    const char *vin;
    const char *make;       /* upper case; "UNKNOWN" when absent */
    const char *model;      /* "UNKNOWN" when absent */
    int year;               /* 0 when absent */
    const char *powertrain; /* ICE, HEV, PHEV or BEV (upper case), from
                               the optional powertrain column; NULL when
                               absent, empty or anything else */
    int imperial;           /* stored odometers are miles */
    size_t user;            /* user index */
    const char *fetched_at; /* from histories.jsonl, or NULL */
};

/* One token pair from vehicles.csv, as the auth tables start with it. */
struct sim_grant {
    size_t user;
    const char *access;     /* may be NULL (empty cell) */
    const char *refresh;    /* may be NULL */
    long long expires_at;   /* seconds since 1970 UTC; 0 when absent */
};

/*
 * Loads dir/vehicles.csv and dir/histories.jsonl.  Returns a new fleet, or
 * NULL with ENG_EIO (unreadable file), ENG_ECSV (CSV syntax, read with
 * tab: the row and its line), ENG_EJSON (a line that does not parse, with
 * its number), ENG_EDATA (missing column, empty vehicle_id or user_id, a
 * vehicle_id with space, control characters or any of / ? # % " \, a VIN
 * over 17 characters, a duplicate vehicle_id or history line, a bad
 * expires_at, fetched_at or unit_system, a line without history),
 * ENG_ELIMIT (a line over 256 MiB, more than 64 columns) or ENG_ENOMEM.
 */
struct sim_fleet *sim_fleet_load(const char *dir, struct eng_err *err);

/* Frees the fleet; NULL does nothing. */
void sim_fleet_free(struct sim_fleet *f);

size_t sim_fleet_vehicle_count(const struct sim_fleet *f);
size_t sim_fleet_user_count(const struct sim_fleet *f);

/* Vehicle i (i < count); borrowed. */
const struct sim_vehicle *sim_fleet_vehicle(const struct sim_fleet *f,
                                            size_t i);

/* The vehicle with id (len bytes, need not be NUL-terminated), or NULL. */
const struct sim_vehicle *sim_fleet_find(const struct sim_fleet *f,
                                         const char *id, size_t len);

/* The user's id string; borrowed. */
const char *sim_fleet_user_id(const struct sim_fleet *f, size_t user);

/* The index of the user named id, or -1 when unknown. */
long sim_fleet_find_user(const struct sim_fleet *f, const char *id);

/*
 * The user's vehicles in vehicles.csv order: returns the count and points
 * *idx at their indices (borrowed).
 */
size_t sim_fleet_user_vehicles(const struct sim_fleet *f, size_t user,
                               const size_t **idx);

size_t sim_fleet_grant_count(const struct sim_fleet *f);
const struct sim_grant *sim_fleet_grant(const struct sim_fleet *f, size_t i);

/*
 * Appends vehicle vi's v2 history body to out: the records inside window w
 * (see sim_window.h), as a JSON array, odometers converted to miles when
 * imperial_out is 1 and to kilometres when 0 (when that differs from the
 * stored unit).  A verbatim body is appended whatever w says.  Returns the
 * number of records written (0 for a verbatim body), or -1 when out failed.
 */
long sim_fleet_render_history(const struct sim_fleet *f, size_t vi,
                              const struct sim_window *w, int imperial_out,
                              struct sim_buf *out);

/*
 * Appends vehicle vi's history in the v3 signal shape
 * {"values":[{id, time, odometer, tasks[{id, description}],
 * details[{id, description}], cost{amount, currency}}]}, every record, with
 * the same odometer conversion; a verbatim body is appended as is.  Returns
 * the number of records, or -1 on no memory.
 */
long sim_fleet_render_v3(const struct sim_fleet *f, size_t vi,
                         int imperial_out, struct sim_buf *out);

#endif
