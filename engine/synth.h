/*
 * synth — a synthetic fleet with known ground truth (README.md, The synthetic
 * fleet), for demos, tests and benchmarks.  Nothing in it is real: VINs are
 * valid but invented, tokens are random hex, claims come from a stated model.
 *
 * synth_fleet_write() writes four files into a directory, one line per
 * vehicle in the same order:
 *   vehicles.csv     vin,vehicle_id,policy_id,make,model_year,unit_system,
 *                    user_id,access_token,refresh_token,expires_at,
 *                    powertrain (ICE, HEV, PHEV, BEV; empty on the rows
 *                    whose list does not say)
 *   histories.jsonl  {"vin","vehicle_id","unit_system","fetched_at",
 *                    ["powertrain",] "history":[Smartcar v2.0 service
 *                    records]}; powertrain only where the API knows it
 *   claims.csv       vin,claim_count,exposure_years,claim_amount
 *   truth.csv        vin,diligence,annual_km,rollback,unit_confusion,
 *                    true_frequency,powertrain,history_from_new,
 *                    high_mileage (the last two 0/1)
 * Each file is written to a temporary name, flushed to disk and renamed,
 * so a reader never sees a half-written file (the four renames are not one
 * atomic step).
 *
 * Reproducibility: the output depends only on the seed, the vehicle count,
 * the as-of day and the parameters; the same inputs give byte-identical
 * files on the same build.  Vehicle k does not depend on how many vehicles
 * follow it, so a fleet of 1,000 is the first 1,000 rows of a fleet of
 * 10,000 with the same seed.  GSL's mt19937 treats seed 0 as 4357, so
 * those two seeds give the same fleet.
 *
 * Memory does not grow with the number of vehicles: each vehicle is made,
 * written and forgotten.
 *
 * The generating model.  Every number is a field of struct synth_params;
 * synth_params_default() gives the values in brackets.  logistic(x) =
 * 1 / (1 + exp(-x)).
 *
 * Vehicle (one stream of random numbers):
 *   - make by make_weight [Toyota 0.16, Lexus 0.04, Ford 0.15, Lincoln
 *     0.03, Mazda 0.06, Volkswagen 0.08, Honda 0.14, Chevrolet 0.13,
 *     Nissan 0.10, BMW 0.06, Mercedes-Benz 0.05, Tesla 0.025]; WMI
 *     uniform among the make's WMIs (data/makes.tsv); model year uniform
 *     in min_model_year [2012] .. as-of year - 1; first registration on 1
 *     April of the model year + N(0, reg_sd_days [75]) days, kept within
 *     1 July of the year before .. as-of - 30 days.  VIN: WMI, five
 *     random VDS characters, check digit, model-year code, then plant and
 *     serial from a permutation of the vehicle number (unique by
 *     construction).
 *   - powertrain by the make's ptrain_share (HEV, PHEV, BEV; ICE the
 *     rest): Tesla all BEV; Toyota 0.25/0.02/0.01, Lexus 0.30/0.03/0.02,
 *     Ford 0.05/0.01/0.04, Lincoln 0.04/0.05/0, Mazda 0/0.01/0.005,
 *     Volkswagen 0/0.01/0.06, Honda 0.12/0/0.005, Chevrolet 0/0.01/0.05,
 *     Nissan 0.01/0/0.05, BMW 0/0.08/0.04, Mercedes-Benz 0.01/0.03/0.03:
 *     about 7% HEV, 1.5% PHEV and 5% BEV over the fleet.  The vehicle
 *     list names it with p = ptrain_list_p [0.70], the API (the history
 *     line) with p = ptrain_api_p [0.60], independently.
 *   - diligence d ~ N(0, 1); annual km lognormal with median km_median
 *     [16700] and sigma km_sigma [0.45], independent of d; a share
 *     high_km_share [0.05] are high-mileage fleet vehicles with annual
 *     km U(high_km_min [40000], high_km_max [60000]) instead.
 *   - the history's start: a vehicle registered more than late_min_years
 *     [1.5] + 2 years before as-of is, with p = late_start_p [0.75], a
 *     used or late-connected one: its history starts on a uniform day
 *     from registration + late_min_years to as-of - 2 years, and
 *     nothing before that day is reported (about 60% of the fleet);
 *     otherwise the history starts at registration (history_from_new =
 *     1).
 *   - imperial_share [0.05] report every reading in miles; rollback,
 *     unit confusion and an empty history are drawn here too (below).
 *   - users own 1, 2 or 3 consecutive vehicles (user_share [0.70, 0.22,
 *     0.08]) and hold one synthetic access and refresh token each.
 *   - task language per vehicle: English, French, German, Spanish by
 *     lang_share [0.85, 0.05, 0.05, 0.05].
 *
 * History (a second stream):
 *   - no_history_share [0.027] of vehicles have no record at all; a few
 *     more have none because their first service would fall after as-of.
 *   - odometer at registration U(5, 50) km; each stretch between events
 *     adds daily_km * days * exp(N(0, km_segment_sigma [0.10])).
 *   - the life is simulated from registration; a late start drops the
 *     records before it, so the first record comes years after the model
 *     year at a high odometer, anywhere within a service interval.
 *   - service interval: the sooner of the make's oil interval in months
 *     and in km (data/schedules.tsv; for a BEV the make's tire rotation
 *     interval, Tesla 10,000 km / 12 months), both times exp(interval_d
 *     [-0.45] * d), then times exp(N(0, interval_sigma [0.15] *
 *     exp(interval_sigma_d [-0.40] * d))); the first service comes after
 *     first_service_share [0.5] of that; a later one is skipped
 *     (interval doubled) with p = logistic(skip_a [-1.8] + skip_b [-1.0]
 *     * d); at least 14 days.
 *   - each service record: source dealer with p = logistic(dealer_a [0.4]
 *     + dealer_b [1.5] * d), else owner; an oil change (not on a BEV, see
 *     below); tire rotation with p = logistic(rotation_a [0.3] +
 *     rotation_b [1.5] * d); an air or cabin filter with filter_p [0.5];
 *     brakes every brake_km [50000] km, new tires every tire_km [60000]
 *     km, a battery every battery_years [4.5], fluids every fluid_years
 *     [3] (each period times exp(N(0, 0.2)), drawn again at each
 *     renewal); inspection with
 *     inspection_dealer_p [0.6] at a dealer, inspection_owner_p [0.15]
 *     otherwise; wipers with wiper_p [0.15]; an unlisted task (software
 *     update...) with other_p [0.03].
 *   - a BEV's service has no oil change and no engine air filter: tire
 *     rotation as above, the cabin filter and the brake fluid at the
 *     make's BEV intervals (data/schedules.tsv; Tesla 24 and 48 months,
 *     makes without a BEV row 24 and 24), each done at the first
 *     service after it falls due with p = logistic(rotation_a +
 *     rotation_b * d), else left to a later one; brakes every 2 *
 *     brake_km (regenerative braking), tires, 12 V battery, inspection,
 *     wipers and other as above; a record that would hold nothing gets
 *     an inspection.
 *   - in each interval, on a uniform day strictly inside it: a repair
 *     record with p = logistic(repair_a [-2.5] + repair_b [-0.6] * d)
 *     (source drawn as above), a recall record (dealer) with recall_p
 *     [0.02].
 *   - cost: per task lognormal with median task_cost[k] USD and sigma
 *     task_cost_sigma[k] (oil 80/0.25, rotation 30/0.30, tires 720/0.25,
 *     brakes 320/0.30, filters 55/0.30, fluids 140/0.30, battery
 *     210/0.20, inspection 45/0.40, wipers 35/0.25, repair 900/0.80,
 *     recall 0, other 60/0.50), summed per record, times
 *     dealer_cost_factor [1.2] at a dealer.
 *   - odometer faults: a vehicle drawn with p = rollback_share [0.035]
 *     and holding two or more records gets a rollback: from a uniformly
 *     chosen record after the first on, readings drop by U(rollback_min
 *     [0.3], rollback_max [0.7]) times the odometer at that record; a
 *     metric vehicle drawn with p = unit_confusion_share [0.01] and
 *     holding two or more records gets one reading written in miles.
 *     truth.csv flags only the faults actually applied.
 *   - record shapes, drawn per record as written: serviceId null
 *     id_null_p [0.10], a JSON number id_number_p [0.10], else a string
 *     of 8 digits; odometerDistance null odo_null_p [0.03], a numeric
 *     string odo_string_p [0.02], else a number with 2 decimals;
 *     serviceDate null date_null_p [0.01], date-only date_only_p [0.05],
 *     else "YYYY-MM-DDTHH:MM:SS.mmmZ" between 07:00 and 18:00; an empty
 *     task list tasks_empty_p [0.01]; per task taskId null task_id_null_p
 *     [0.03] and taskDescription null task_desc_null_p [0.02];
 *     serviceDetails null details_null_p [0.03], a single object
 *     details_object_p [0.03], else [{"type":"source","value":...}];
 *     serviceCost null or {null, null} (half each) cost_null_p [0.05],
 *     always {null, null} for makes that give no cost (MAZDA); an empty
 *     task list always for makes that give no tasks (LINCOLN); CAD (x1.36)
 *     or EUR (x0.92) other_currency_p [0.02], else USD; each record is
 *     followed by an exact repeat with duplicate_p [0.015].
 *   - order: records are chronological, except newest_first_share [0.05]
 *     of vehicles listed newest first and swap_share [0.05] with two
 *     neighbours swapped.
 *   - task texts: realistic wordings in the vehicle's language, each
 *     matching exactly its own category of data/tasks.tsv (unlisted tasks
 *     match none).
 *
 * Claims (a third stream):
 *   - exposure U(exposure_min [0.25], exposure_max [1.0]) years, rounded
 *     to 4 decimals; lambda = freq_base [0.10] * exp(beta_d [-0.45] * d +
 *     beta_km [0.35] * ln(annual_km / km_median) + beta_rollback [0.40] *
 *     rollback + beta_age [0.05] * (age_years - 5) / 5), with rollback as
 *     written to truth.csv and age from registration to as-of.  Neither
 *     the powertrain nor the history's start enters lambda: a model that
 *     penalises either is wrong by construction;
 *     claim_count ~ Poisson(lambda * exposure); claim_amount = sum over
 *     the claims of Gamma(shape sev_shape [2], scale sev_scale [2500] *
 *     exp(sev_d [-0.1] * d)), 0 without a claim.  truth.csv writes lambda
 *     (claims per year) as true_frequency.
 *
 * The three streams are seeded from one mt19937 seeded with the seed, so
 * tuning the history faults leaves the vehicles and (unless a rollback
 * appears or vanishes) their claims unchanged.
 */
#ifndef SYNTH_H
#define SYNTH_H

#include "eng.h"

/* The task kinds a service record can hold (the data/tasks.tsv names). */
enum synth_task {
    SYNTH_OIL,
    SYNTH_TIRE_ROTATION,
    SYNTH_TIRES,
    SYNTH_BRAKES,
    SYNTH_FILTERS,
    SYNTH_FLUIDS,
    SYNTH_BATTERY,
    SYNTH_INSPECTION,
    SYNTH_WIPERS,
    SYNTH_REPAIR,
    SYNTH_RECALL,
    SYNTH_OTHER,
    SYNTH_N_TASKS
};

/* The makes, in this order (the data/makes.tsv names). */
enum synth_make {
    SYNTH_TOYOTA,
    SYNTH_LEXUS,
    SYNTH_FORD,
    SYNTH_LINCOLN,
    SYNTH_MAZDA,
    SYNTH_VOLKSWAGEN,
    SYNTH_HONDA,
    SYNTH_CHEVROLET,
    SYNTH_NISSAN,
    SYNTH_BMW,
    SYNTH_MERCEDES_BENZ,
    SYNTH_TESLA,
    SYNTH_N_MAKES
};

/* Powertrains, as the vehicle list and truth.csv write them. */
enum synth_ptrain {
    SYNTH_ICE,
    SYNTH_HEV,
    SYNTH_PHEV,
    SYNTH_BEV,
    SYNTH_N_PTRAINS
};

#define SYNTH_N_LANGS 4         /* English, French, German, Spanish */
#define SYNTH_MAX_VEHICLES 33000000L
#define SYNTH_MIN_YEAR 2016     /* earliest as-of year */

/* Every tunable number of the generating model; see the header comment. */
struct synth_params {
    /* fleet */
    double make_weight[SYNTH_N_MAKES];
    double ptrain_share[SYNTH_N_MAKES][SYNTH_N_PTRAINS]; /* ICE unused */
    double ptrain_list_p;
    double ptrain_api_p;
    double late_start_p;
    double late_min_years;
    int min_model_year;
    double reg_sd_days;
    double imperial_share;
    double no_history_share;
    double user_share[3];       /* users with 1, 2, 3 vehicles */
    double lang_share[SYNTH_N_LANGS];
    /* mileage */
    double km_median;
    double km_sigma;
    double km_segment_sigma;
    double high_km_share;
    double high_km_min, high_km_max;
    /* service timing */
    double interval_d;
    double interval_sigma;
    double interval_sigma_d;
    double first_service_share;
    double skip_a, skip_b;
    /* service content */
    double rotation_a, rotation_b;
    double filter_p;
    double inspection_dealer_p;
    double inspection_owner_p;
    double wiper_p;
    double other_p;
    double brake_km;
    double tire_km;
    double battery_years;
    double fluid_years;
    double repair_a, repair_b;
    double recall_p;
    double dealer_a, dealer_b;
    /* costs (USD) */
    double task_cost[SYNTH_N_TASKS];
    double task_cost_sigma[SYNTH_N_TASKS];
    double dealer_cost_factor;
    /* faults */
    double rollback_share;
    double rollback_min, rollback_max;
    double unit_confusion_share;
    double duplicate_p;
    double date_null_p;
    double date_only_p;
    double odo_null_p;
    double odo_string_p;
    double cost_null_p;
    double other_currency_p;
    double id_null_p;
    double id_number_p;
    double details_object_p;
    double details_null_p;
    double tasks_empty_p;
    double task_desc_null_p;
    double task_id_null_p;
    double newest_first_share;
    double swap_share;
    /* claims */
    double exposure_min, exposure_max;
    double freq_base;
    double beta_d;
    double beta_km;
    double beta_rollback;
    double beta_age;
    double sev_shape;
    double sev_scale;
    double sev_d;
};

/* Fills p with the defaults documented above; cannot fail. */
void synth_params_default(struct synth_params *p);

/* "ICE", "HEV", "PHEV", "BEV"; "" out of range. */
const char *synth_ptrain_name(int ptrain);

/*
 * Checks that every probability lies in 0..1, weights are non-negative
 * with a positive sum (a make's HEV, PHEV and BEV shares at most 1), and
 * scales are positive and finite.  Returns ENG_OK
 * or ENG_EUSAGE naming the first bad field.
 */
int synth_params_check(const struct synth_params *p, struct eng_err *err);

/* What a run wrote, for a summary line. */
struct synth_stats {
    long vehicles;
    long records;            /* history records, duplicates included */
    long empty_histories;
    long imperial;
    long rollbacks;
    long unit_confusions;
    long users;
    long claims;
    long late_starts;        /* history_from_new = 0 */
    long high_mileage;
    long by_ptrain[SYNTH_N_PTRAINS];
};

/*
 * Writes a fleet of n vehicles (1..SYNTH_MAX_VEHICLES) into dir, created
 * with its parents when missing, replacing the four files if present.
 * as_of_day (days since 1970-01-01) must fall in SYNTH_MIN_YEAR..2100; it
 * ends every history and is each token's expiry.  stats may be NULL.
 * Returns ENG_OK, or ENG_EUSAGE (bad n, day or parameters), ENG_EIO
 * (directory or file cannot be made, written, synced or renamed; the
 * temporary files are removed and files already renamed stay), ENG_ENOMEM.
 */
int synth_fleet_write(const char *dir, const struct synth_params *p, long n,
                      unsigned long seed, long as_of_day,
                      struct synth_stats *stats, struct eng_err *err);

#endif
