/* synth — the synthetic fleet generator (model in synth.h). */
#include "synth.h"
#include "synth_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "veh.h"

#define MAX_RECORDS 256         /* per vehicle, before duplicates */
#define MAX_TASKS 12            /* per record */
#define RECORD_BUF 8192         /* one record rendered as JSON */
#define KM_PER_MILE 1.609344
#define DAYS_PER_YEAR 365.25
#define DAYS_PER_MONTH 30.4375
#define N_FILES 4

/* ======================= static data ======================= */

/*
 * Makes as in data/makes.tsv (WMIs) and data/schedules.tsv (intervals).
 * The tables are compiled in so the generator does not depend on the
 * working directory; the test suite checks them against the files.
 */
const struct synth_make_info synth_makes[SYNTH_N_MAKES] = {
    /* name, WMIs, oil months / km, rotation months / km, BEV rotation
     * months / km, BEV cabin filter and brake fluid months, cost, tasks */
    {"TOYOTA", {"4T1", "5YF", "JTD", "JTE", "2T3"}, 5, 12, 16000, 6, 8000,
     6, 8000, 24, 24, 1, 1},
    {"LEXUS", {"JTH", "2T2"}, 2, 12, 16000, 6, 8000, 6, 8000, 24, 24, 1, 1},
    {"FORD", {"1FA", "1FT", "1FM", "3FA", "WF0"}, 5, 12, 16000, 12, 16000,
     12, 16000, 24, 36, 1, 1},
    {"LINCOLN", {"5LM", "1LN"}, 2, 12, 16000, 12, 16000, 12, 16000, 24, 24,
     1, 0},
    {"MAZDA", {"JM1", "JM3", "3MZ"}, 3, 12, 12000, 12, 12000, 12, 12000, 24,
     24, 0, 1},
    {"VOLKSWAGEN", {"WVW", "WVG", "3VW", "1VW"}, 4, 12, 16000, 12, 16000,
     12, 16000, 24, 24, 1, 1},
    {"HONDA", {"1HG", "2HG", "JHM"}, 3, 12, 16000, 12, 12000, 12, 12000, 24,
     24, 1, 1},
    {"CHEVROLET", {"1G1", "3GN"}, 2, 12, 12000, 12, 12000, 12, 12000, 24, 60,
     1, 1},
    {"NISSAN", {"1N4", "JN1"}, 2, 6, 8000, 6, 8000, 6, 12000, 12, 24, 1, 1},
    {"BMW", {"WBA", "5UX"}, 2, 24, 24000, 12, 16000, 12, 16000, 24, 24, 1,
     1},
    {"MERCEDES-BENZ", {"WDD", "4JG"}, 2, 12, 24000, 12, 16000, 12, 16000, 24,
     24, 1, 1},
    /* electric only: no oil, no (make, *) row */
    {"TESLA", {"5YJ", "7SA"}, 2, 0, 0, 0, 0, 12, 10000, 24, 48, 1, 1},
};

const struct synth_task_text synth_task_texts[] = {
    {SYNTH_OIL, SYNTH_EN, "Oil and filter change", 0},
    {SYNTH_OIL, SYNTH_EN, "Oil change", 0},
    {SYNTH_OIL, SYNTH_EN, "Synthetic oil change 0W-20", 0},
    {SYNTH_OIL, SYNTH_EN, "Engine oil and filter replacement", 0},
    {SYNTH_OIL, SYNTH_EN, "Lube oil filter service", 0},
    {SYNTH_OIL, SYNTH_FR, "Vidange huile moteur", 0},
    {SYNTH_OIL, SYNTH_FR, "Vidange et filtre à huile", 0},
    {SYNTH_OIL, SYNTH_DE, "Ölwechsel mit Filter", 0},
    {SYNTH_OIL, SYNTH_DE, "Motoröl und Ölfilter erneuert", 0},
    {SYNTH_OIL, SYNTH_ES, "Cambio de aceite y filtro", 0},
    {SYNTH_OIL, SYNTH_ES, "Cambio de aceite de motor", 0},
    {SYNTH_TIRE_ROTATION, SYNTH_EN, "Tire rotation", 0},
    {SYNTH_TIRE_ROTATION, SYNTH_EN, "Rotate tires", 0},
    {SYNTH_TIRE_ROTATION, SYNTH_FR, "Permutation des pneus", 0},
    {SYNTH_TIRE_ROTATION, SYNTH_DE, "Reifen tauschen", 0},
    {SYNTH_TIRE_ROTATION, SYNTH_DE, "Reifenrotation", 0},
    {SYNTH_TIRE_ROTATION, SYNTH_ES, "Rotación de neumáticos", 0},
    {SYNTH_TIRES, SYNTH_EN, "New tires, mount and balance", 0},
    {SYNTH_TIRES, SYNTH_EN, "Tire replacement (4)", 0},
    {SYNTH_TIRES, SYNTH_FR, "Pneus neufs (4)", 0},
    {SYNTH_TIRES, SYNTH_DE, "Neue Reifen montiert", 0},
    {SYNTH_TIRES, SYNTH_ES, "Neumáticos nuevos (4)", 0},
    {SYNTH_BRAKES, SYNTH_EN, "Brake pad replacement", 0},
    {SYNTH_BRAKES, SYNTH_EN, "Front brake pads and rotors", 0},
    {SYNTH_BRAKES, SYNTH_FR, "Plaquettes de frein avant", 0},
    {SYNTH_BRAKES, SYNTH_DE, "Bremsbeläge vorne erneuert", 0},
    {SYNTH_BRAKES, SYNTH_ES, "Pastillas de freno delanteras", 0},
    {SYNTH_FILTERS, SYNTH_EN, "Cabin air filter", 0},
    {SYNTH_FILTERS, SYNTH_EN, "Engine air filter replacement", 1},
    {SYNTH_FILTERS, SYNTH_FR, "Filtre d'habitacle", 0},
    {SYNTH_FILTERS, SYNTH_FR, "Filtre à air moteur", 1},
    {SYNTH_FILTERS, SYNTH_DE, "Innenraumfilter erneuert", 0},
    {SYNTH_FILTERS, SYNTH_DE, "Luftfilter ersetzt", 1},
    {SYNTH_FILTERS, SYNTH_ES, "Filtro de habitáculo", 0},
    {SYNTH_FILTERS, SYNTH_ES, "Filtro de aire del motor", 1},
    {SYNTH_FLUIDS, SYNTH_EN, "Coolant flush", 0},
    {SYNTH_FLUIDS, SYNTH_EN, "Power steering fluid exchange", 1},
    {SYNTH_FLUIDS, SYNTH_EN, "Transmission fluid exchange", 1},
    {SYNTH_FLUIDS, SYNTH_EN, "Brake fluid flush", 0},
    {SYNTH_FLUIDS, SYNTH_FR, "Liquide de refroidissement", 0},
    {SYNTH_FLUIDS, SYNTH_FR, "Remplacement liquide de refroidissement", 0},
    {SYNTH_FLUIDS, SYNTH_FR, "Remplacement liquide de frein", 0},
    {SYNTH_FLUIDS, SYNTH_DE, "Kühlmittel erneuert", 0},
    {SYNTH_FLUIDS, SYNTH_DE, "Bremsflüssigkeit gewechselt", 0},
    {SYNTH_FLUIDS, SYNTH_ES, "Cambio de refrigerante", 0},
    {SYNTH_FLUIDS, SYNTH_ES, "Purga de refrigerante", 0},
    {SYNTH_FLUIDS, SYNTH_ES, "Cambio de líquido de frenos", 0},
    {SYNTH_BATTERY, SYNTH_EN, "Battery replacement", 0},
    {SYNTH_BATTERY, SYNTH_EN, "12V battery test and replace", 0},
    {SYNTH_BATTERY, SYNTH_FR, "Remplacement batterie", 0},
    {SYNTH_BATTERY, SYNTH_DE, "Batterie ersetzt", 0},
    {SYNTH_BATTERY, SYNTH_ES, "Cambio de batería", 0},
    {SYNTH_INSPECTION, SYNTH_EN, "Multi-point inspection", 0},
    {SYNTH_INSPECTION, SYNTH_EN, "Safety check", 0},
    {SYNTH_INSPECTION, SYNTH_FR, "Inspection multipoints", 0},
    {SYNTH_INSPECTION, SYNTH_DE, "Inspektion", 0},
    {SYNTH_INSPECTION, SYNTH_DE, "Durchsicht nach Herstellervorgabe", 0},
    {SYNTH_INSPECTION, SYNTH_ES, "Inspección multipunto", 0},
    {SYNTH_WIPERS, SYNTH_EN, "Wiper blades", 0},
    {SYNTH_WIPERS, SYNTH_EN, "Replace wiper blades", 0},
    {SYNTH_WIPERS, SYNTH_FR, "Balais d'essuie-glace", 0},
    {SYNTH_WIPERS, SYNTH_DE, "Wischerblätter erneuert", 0},
    {SYNTH_WIPERS, SYNTH_ES, "Escobillas limpiaparabrisas", 0},
    {SYNTH_REPAIR, SYNTH_EN, "Repair: water pump", 0},
    {SYNTH_REPAIR, SYNTH_EN, "Collision repair", 0},
    {SYNTH_REPAIR, SYNTH_EN, "Repair: alternator", 0},
    {SYNTH_REPAIR, SYNTH_EN, "Repair: A/C compressor", 0},
    {SYNTH_REPAIR, SYNTH_FR, "Réparation : pompe à eau", 0},
    {SYNTH_REPAIR, SYNTH_FR, "Réparation carrosserie", 0},
    {SYNTH_REPAIR, SYNTH_DE, "Reparatur: Wasserpumpe", 0},
    {SYNTH_REPAIR, SYNTH_DE, "Unfallinstandsetzung", 0},
    {SYNTH_REPAIR, SYNTH_ES, "Reparación: bomba de agua", 0},
    {SYNTH_REPAIR, SYNTH_ES, "Reparación de carrocería", 0},
    {SYNTH_RECALL, SYNTH_EN, "Recall campaign 23V-123", 0},
    {SYNTH_RECALL, SYNTH_EN, "Safety recall 21V-456", 0},
    {SYNTH_RECALL, SYNTH_FR, "Rappel constructeur 23V-123", 0},
    {SYNTH_RECALL, SYNTH_DE, "Rückruf 23V-123", 0},
    {SYNTH_RECALL, SYNTH_ES, "Campaña de seguridad 23V-123", 0},
    {SYNTH_OTHER, SYNTH_EN, "Software update", 0},
    {SYNTH_OTHER, SYNTH_EN, "Key fob programming", 0},
    {SYNTH_OTHER, SYNTH_FR, "Mise à jour logiciel", 0},
    {SYNTH_OTHER, SYNTH_DE, "Software-Update", 0},
    {SYNTH_OTHER, SYNTH_ES, "Actualización de software", 0},
};

const size_t synth_n_task_texts =
    sizeof(synth_task_texts) / sizeof(synth_task_texts[0]);

const char *synth_ptrain_name(int ptrain)
{
    static const char *const names[SYNTH_N_PTRAINS] = {
        "ICE", "HEV", "PHEV", "BEV"
    };
    return ptrain >= 0 && ptrain < SYNTH_N_PTRAINS ? names[ptrain] : "";
}

const char *synth_task_name(enum synth_task kind)
{
    static const char *const names[SYNTH_N_TASKS] = {
        "oil", "tire_rotation", "tires", "brakes", "filters", "fluids",
        "battery", "inspection", "wipers", "repair", "recall", "other"
    };
    return kind < SYNTH_N_TASKS ? names[kind] : "other";
}

/* Characters a VIN may hold, except the check digit's X. */
static const char vin_chars[] = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
#define N_VIN_CHARS 33

/*
 * Positions 11-17 (plant and six-digit serial) are a permutation of the
 * vehicle number over 33 * 10^6 values: A is coprime with 33 * 10^6 =
 * 2^6 * 3 * 5^6 * 11, so (A * i + B) mod M never repeats for i < M and
 * VINs are unique without remembering them.
 */
#define VIN_SPACE 33000000ULL
#define VIN_MULT 7654321ULL

/* ======================= parameters ======================= */

void synth_params_default(struct synth_params *p)
{
    static const double make_weight[SYNTH_N_MAKES] = {
        0.16, 0.04, 0.15, 0.03, 0.06, 0.08, 0.14, 0.13, 0.10, 0.06, 0.05,
        0.025
    };
    /* ICE (unused: the rest), HEV, PHEV, BEV; see synth.h */
    static const double ptrain[SYNTH_N_MAKES][SYNTH_N_PTRAINS] = {
        {0, 0.25, 0.02, 0.01},      /* TOYOTA */
        {0, 0.30, 0.03, 0.02},      /* LEXUS */
        {0, 0.05, 0.01, 0.04},      /* FORD */
        {0, 0.04, 0.05, 0},         /* LINCOLN */
        {0, 0, 0.01, 0.005},        /* MAZDA */
        {0, 0, 0.01, 0.06},         /* VOLKSWAGEN */
        {0, 0.12, 0, 0.005},        /* HONDA */
        {0, 0, 0.01, 0.05},         /* CHEVROLET */
        {0, 0.01, 0, 0.05},         /* NISSAN */
        {0, 0, 0.08, 0.04},         /* BMW */
        {0, 0.01, 0.03, 0.03},      /* MERCEDES-BENZ */
        {0, 0, 0, 1},               /* TESLA */
    };
    static const double cost[SYNTH_N_TASKS] = {
        80, 30, 720, 320, 55, 140, 210, 45, 35, 900, 0, 60
    };
    static const double cost_sigma[SYNTH_N_TASKS] = {
        0.25, 0.30, 0.25, 0.30, 0.30, 0.30, 0.20, 0.40, 0.25, 0.80, 0, 0.50
    };
    memset(p, 0, sizeof(*p));
    memcpy(p->make_weight, make_weight, sizeof(make_weight));
    memcpy(p->ptrain_share, ptrain, sizeof(ptrain));
    p->ptrain_list_p = 0.70;
    p->ptrain_api_p = 0.60;
    p->late_start_p = 0.75;
    p->late_min_years = 1.5;
    p->min_model_year = 2012;
    p->reg_sd_days = 75;
    p->imperial_share = 0.05;
    p->no_history_share = 0.027;
    p->user_share[0] = 0.70;
    p->user_share[1] = 0.22;
    p->user_share[2] = 0.08;
    p->lang_share[SYNTH_EN] = 0.85;
    p->lang_share[SYNTH_FR] = 0.05;
    p->lang_share[SYNTH_DE] = 0.05;
    p->lang_share[SYNTH_ES] = 0.05;

    p->km_median = 16700;
    p->km_sigma = 0.45;
    p->km_segment_sigma = 0.10;
    p->high_km_share = 0.05;
    p->high_km_min = 40000;
    p->high_km_max = 60000;

    p->interval_d = -0.45;
    p->interval_sigma = 0.15;
    p->interval_sigma_d = -0.40;
    p->first_service_share = 0.5;
    p->skip_a = -1.8;
    p->skip_b = -1.0;

    p->rotation_a = 0.3;
    p->rotation_b = 1.5;
    p->filter_p = 0.5;
    p->inspection_dealer_p = 0.6;
    p->inspection_owner_p = 0.15;
    p->wiper_p = 0.15;
    p->other_p = 0.03;
    p->brake_km = 50000;
    p->tire_km = 60000;
    p->battery_years = 4.5;
    p->fluid_years = 3;
    p->repair_a = -2.5;
    p->repair_b = -0.6;
    p->recall_p = 0.02;
    p->dealer_a = 0.4;
    p->dealer_b = 1.5;

    memcpy(p->task_cost, cost, sizeof(cost));
    memcpy(p->task_cost_sigma, cost_sigma, sizeof(cost_sigma));
    p->dealer_cost_factor = 1.2;

    p->rollback_share = 0.035;
    p->rollback_min = 0.30;
    p->rollback_max = 0.70;
    p->unit_confusion_share = 0.01;
    p->duplicate_p = 0.015;
    p->date_null_p = 0.01;
    p->date_only_p = 0.05;
    p->odo_null_p = 0.03;
    p->odo_string_p = 0.02;
    p->cost_null_p = 0.05;
    p->other_currency_p = 0.02;
    p->id_null_p = 0.10;
    p->id_number_p = 0.10;
    p->details_object_p = 0.03;
    p->details_null_p = 0.03;
    p->tasks_empty_p = 0.01;
    p->task_desc_null_p = 0.02;
    p->task_id_null_p = 0.03;
    p->newest_first_share = 0.05;
    p->swap_share = 0.05;

    p->exposure_min = 0.25;
    p->exposure_max = 1.0;
    p->freq_base = 0.10;
    p->beta_d = -0.45;
    p->beta_km = 0.35;
    p->beta_rollback = 0.40;
    p->beta_age = 0.05;
    p->sev_shape = 2;
    p->sev_scale = 2500;
    p->sev_d = -0.1;
}

/* How a parameter is checked. */
enum check { PROB, POS, FIN, NONNEG };

struct param_rule {
    const char *name;
    size_t offset;              /* of a double in struct synth_params */
    enum check check;
};

#define RULE(field, check) {#field, offsetof(struct synth_params, field), check}

static const struct param_rule rules[] = {
    RULE(ptrain_list_p, PROB), RULE(ptrain_api_p, PROB),
    RULE(late_start_p, PROB), RULE(late_min_years, NONNEG),
    RULE(high_km_share, PROB), RULE(high_km_min, POS),
    RULE(high_km_max, POS),
    RULE(reg_sd_days, NONNEG), RULE(imperial_share, PROB),
    RULE(no_history_share, PROB), RULE(km_median, POS),
    RULE(km_sigma, NONNEG), RULE(km_segment_sigma, NONNEG),
    RULE(interval_d, FIN), RULE(interval_sigma, NONNEG),
    RULE(interval_sigma_d, FIN), RULE(first_service_share, POS),
    RULE(skip_a, FIN), RULE(skip_b, FIN),
    RULE(rotation_a, FIN), RULE(rotation_b, FIN),
    RULE(filter_p, PROB), RULE(inspection_dealer_p, PROB),
    RULE(inspection_owner_p, PROB), RULE(wiper_p, PROB),
    RULE(other_p, PROB), RULE(brake_km, POS), RULE(tire_km, POS),
    RULE(battery_years, POS), RULE(fluid_years, POS),
    RULE(repair_a, FIN), RULE(repair_b, FIN), RULE(recall_p, PROB),
    RULE(dealer_a, FIN), RULE(dealer_b, FIN),
    RULE(dealer_cost_factor, POS),
    RULE(rollback_share, PROB), RULE(rollback_min, PROB),
    RULE(rollback_max, PROB), RULE(unit_confusion_share, PROB),
    RULE(duplicate_p, PROB), RULE(date_null_p, PROB),
    RULE(date_only_p, PROB), RULE(odo_null_p, PROB),
    RULE(odo_string_p, PROB), RULE(cost_null_p, PROB),
    RULE(other_currency_p, PROB), RULE(id_null_p, PROB),
    RULE(id_number_p, PROB), RULE(details_object_p, PROB),
    RULE(details_null_p, PROB), RULE(tasks_empty_p, PROB),
    RULE(task_desc_null_p, PROB), RULE(task_id_null_p, PROB),
    RULE(newest_first_share, PROB), RULE(swap_share, PROB),
    RULE(exposure_min, POS), RULE(exposure_max, POS),
    RULE(freq_base, POS), RULE(beta_d, FIN), RULE(beta_km, FIN),
    RULE(beta_rollback, FIN), RULE(beta_age, FIN),
    RULE(sev_shape, POS), RULE(sev_scale, POS), RULE(sev_d, FIN),
};

#undef RULE

static int check_value(double v, enum check check, const char *name,
                       struct eng_err *err)
{
    switch (check) {
    case PROB:
        if (!(v >= 0 && v <= 1))
            return eng_err_set(err, ENG_EUSAGE, "synth parameter %s must "
                               "be within 0..1", name);
        break;
    case POS:
        if (!(v > 0 && isfinite(v)))
            return eng_err_set(err, ENG_EUSAGE, "synth parameter %s must "
                               "be positive", name);
        break;
    case NONNEG:
        if (!(v >= 0 && isfinite(v)))
            return eng_err_set(err, ENG_EUSAGE, "synth parameter %s must "
                               "not be negative", name);
        break;
    case FIN:
        if (!isfinite(v))
            return eng_err_set(err, ENG_EUSAGE, "synth parameter %s must "
                               "be finite", name);
        break;
    }
    return ENG_OK;
}

static int check_weights(const double *w, size_t n, const char *name,
                         struct eng_err *err)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(w[i] >= 0 && isfinite(w[i])))
            return eng_err_set(err, ENG_EUSAGE, "synth parameter %s has "
                               "a negative weight", name);
        sum += w[i];
    }
    if (!(sum > 0))
        return eng_err_set(err, ENG_EUSAGE,
                           "synth parameter %s has no positive weight", name);
    return ENG_OK;
}

int synth_params_check(const struct synth_params *p, struct eng_err *err)
{
    if (check_weights(p->make_weight, SYNTH_N_MAKES, "make_weight", err)
        || check_weights(p->user_share, 3, "user_share", err)
        || check_weights(p->lang_share, SYNTH_N_LANGS, "lang_share", err))
        return ENG_EUSAGE;
    for (int m = 0; m < SYNTH_N_MAKES; m++) {
        double sum = 0;
        for (int k = SYNTH_HEV; k < SYNTH_N_PTRAINS; k++) {
            int rc = check_value(p->ptrain_share[m][k], PROB,
                                 "ptrain_share", err);
            if (rc < 0)
                return rc;
            sum += p->ptrain_share[m][k];
        }
        if (sum > 1 + 1e-12)
            return eng_err_set(err, ENG_EUSAGE, "synth parameter "
                               "ptrain_share of %s adds up to more than 1",
                               synth_makes[m].name);
    }
    if (p->min_model_year < 1981 || p->min_model_year > 2099)
        return eng_err_set(err, ENG_EUSAGE, "synth parameter min_model_year "
                           "must be within 1981..2099");
    const char *base = (const char *)p;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        double v;
        memcpy(&v, base + rules[i].offset, sizeof(v));
        int rc = check_value(v, rules[i].check, rules[i].name, err);
        if (rc < 0)
            return rc;
    }
    for (int k = 0; k < SYNTH_N_TASKS; k++) {
        int rc = check_value(p->task_cost[k], NONNEG, "task_cost", err);
        if (rc == ENG_OK)
            rc = check_value(p->task_cost_sigma[k], NONNEG,
                             "task_cost_sigma", err);
        if (rc < 0)
            return rc;
    }
    if (p->rollback_min > p->rollback_max)
        return eng_err_set(err, ENG_EUSAGE, "synth parameter rollback_min "
                           "exceeds rollback_max");
    if (p->high_km_min > p->high_km_max)
        return eng_err_set(err, ENG_EUSAGE, "synth parameter high_km_min "
                           "exceeds high_km_max");
    if (p->exposure_min > p->exposure_max)
        return eng_err_set(err, ENG_EUSAGE, "synth parameter exposure_min "
                           "exceeds exposure_max");
    if (p->date_null_p + p->date_only_p > 1
        || p->odo_null_p + p->odo_string_p > 1
        || p->id_null_p + p->id_number_p > 1
        || p->details_object_p + p->details_null_p > 1)
        return eng_err_set(err, ENG_EUSAGE, "synth parameters: two shares "
                           "of one field add up to more than 1");
    return ENG_OK;
}

/* ======================= generation ======================= */

enum rec_kind { REC_SERVICE, REC_REPAIR, REC_RECALL };

struct rec {
    long day;
    double odo_km;              /* true odometer */
    double reading;             /* as reported, in the vehicle's unit */
    enum rec_kind kind;
    int dealer;
    int ntasks;
    short text[MAX_TASKS];      /* indexes into synth_task_texts */
    double cost_usd;
};

struct user {
    char id[40];
    char access[40];
    char refresh[40];
    int left;                   /* vehicles still to give this user */
};

struct vehicle {
    long index;
    int make;
    int model_year;
    long reg_day;
    char vin[VEH_VIN_LEN + 1];
    char id[40];
    int ptrain;                 /* enum synth_ptrain */
    int list_ptrain;            /* 1: vehicles.csv names it */
    int api_ptrain;             /* 1: the history line carries it */
    int from_new;               /* 1: the history starts at registration */
    long start_day;             /* first day the history reports */
    int high_km;                /* a high-mileage fleet vehicle */
    double d;
    double annual_km;
    int imperial;
    int lang;
    int want_rollback;
    int want_confusion;
    int no_history;
    int rollback;               /* applied: written to truth.csv */
    int unit_confusion;
    int nrec;
    struct rec recs[MAX_RECORDS];
    double exposure;
    double lambda;
    unsigned claims;
    double amount;
};

/* A bounded text buffer for one record; overflow is remembered. */
struct rbuf {
    char s[RECORD_BUF];
    size_t len;
    int overflow;
};

/* Text indexes of one kind in one language. */
struct text_range {
    int first;
    int count;
};

struct gen {
    const struct synth_params *p;
    gsl_rng *attr;              /* vehicle, latent truth */
    gsl_rng *hist;              /* events and record faults */
    gsl_rng *claim;             /* exposure and claims */
    gsl_ran_discrete_t *make_pick;
    gsl_ran_discrete_t *lang_pick;
    gsl_ran_discrete_t *user_pick;
    struct text_range texts[SYNTH_N_TASKS][SYNTH_N_LANGS];
    long as_of;
    int as_of_year;
    char as_of_text[16];
    unsigned long long vin_offset;
    struct user user;
    struct vehicle v;
    struct rbuf rb;
};

static double logistic(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static int chance(gsl_rng *r, double p)
{
    return gsl_rng_uniform(r) < p;
}

/* 32 random lowercase hex digits (128 bits from four 32-bit draws). */
static void random_hex(gsl_rng *r, char *out)
{
    for (int i = 0; i < 4; i++)
        snprintf(out + 8 * i, 9, "%08lx", gsl_rng_get(r) & 0xffffffffUL);
}

/* A UUID version 4 shape: 8-4-4-4-12 lowercase hex. */
static void random_uuid(gsl_rng *r, char *out)
{
    char h[33];
    random_hex(r, h);
    h[12] = '4';
    h[16] = "89ab"[(h[16] >= 'a' ? h[16] - 'a' + 10 : h[16] - '0') & 3];
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
             h + 20);
}

static char model_year_char(int year)
{
    /* the 30-year cycle of position 10 from 1980: letters, then digits */
    static const char cycle[] = "ABCDEFGHJKLMNPRSTVWXY123456789";
    return cycle[(year - 1980) % 30];
}

static void make_vin(struct gen *g, struct vehicle *v)
{
    const struct synth_make_info *m = &synth_makes[v->make];
    const char *wmi = m->wmi[gsl_rng_uniform_int(g->attr,
                                                 (unsigned long)m->n_wmi)];
    memcpy(v->vin, wmi, 3);
    for (int i = 3; i < 8; i++)
        v->vin[i] = vin_chars[gsl_rng_uniform_int(g->attr, N_VIN_CHARS)];
    v->vin[8] = '0';
    v->vin[9] = model_year_char(v->model_year);
    unsigned long long s = (VIN_MULT * (unsigned long long)v->index
                            + g->vin_offset) % VIN_SPACE;
    v->vin[10] = vin_chars[s / 1000000ULL];
    snprintf(v->vin + 11, 7, "%06llu", s % 1000000ULL);
    v->vin[VEH_VIN_LEN] = '\0';
    v->vin[8] = veh_vin_check_digit(v->vin);
}

static void next_user(struct gen *g)
{
    if (g->user.left > 0)
        return;
    g->user.left = 1 + (int)gsl_ran_discrete(g->attr, g->user_pick);
    random_uuid(g->attr, g->user.id);
    memcpy(g->user.access, "at_", 3);
    random_hex(g->attr, g->user.access + 3);
    memcpy(g->user.refresh, "rt_", 3);
    random_hex(g->attr, g->user.refresh + 3);
}

/* The vehicle's identity and latent truth, all from the attr stream. */
static void draw_vehicle(struct gen *g, struct vehicle *v, long index)
{
    const struct synth_params *p = g->p;
    gsl_rng *r = g->attr;
    memset(v, 0, sizeof(*v));
    v->index = index;
    v->make = (int)gsl_ran_discrete(r, g->make_pick);
    double u = gsl_rng_uniform(r);
    v->ptrain = SYNTH_ICE;
    for (int k = SYNTH_HEV; k < SYNTH_N_PTRAINS; k++) {
        u -= p->ptrain_share[v->make][k];
        if (u < 0) {
            v->ptrain = k;
            break;
        }
    }
    v->list_ptrain = chance(r, p->ptrain_list_p);
    v->api_ptrain = chance(r, p->ptrain_api_p);
    int years = g->as_of_year - p->min_model_year;
    v->model_year = p->min_model_year
                    + (int)gsl_rng_uniform_int(r, (unsigned long)years);
    long reg = eng_days_from_civil(v->model_year, 4, 1)
               + lround(gsl_ran_gaussian(r, p->reg_sd_days));
    long lo = eng_days_from_civil(v->model_year - 1, 7, 1);
    long hi = g->as_of - 30;
    v->reg_day = reg < lo ? lo : reg > hi ? hi : reg;
    make_vin(g, v);
    random_uuid(r, v->id);
    v->d = gsl_ran_gaussian(r, 1.0);
    v->annual_km = p->km_median * exp(p->km_sigma * gsl_ran_gaussian(r, 1));
    v->high_km = chance(r, p->high_km_share);
    u = gsl_rng_uniform(r);
    if (v->high_km)
        v->annual_km = p->high_km_min + (p->high_km_max - p->high_km_min) * u;
    /* a late start needs room: late_min_years, then two years to as-of */
    long late_min = lround(p->late_min_years * DAYS_PER_YEAR);
    long room = g->as_of - 730 - (v->reg_day + late_min);
    int late = chance(r, p->late_start_p);
    u = gsl_rng_uniform(r);
    v->from_new = !(late && room > 0);
    v->start_day = v->from_new ? v->reg_day
                               : v->reg_day + late_min + lround(u * room);
    v->imperial = chance(r, p->imperial_share);
    v->lang = (int)gsl_ran_discrete(r, g->lang_pick);
    v->want_rollback = chance(r, p->rollback_share);
    v->want_confusion = chance(r, p->unit_confusion_share);
    v->no_history = chance(r, p->no_history_share);
}

/* A text of the kind in the language; for a BEV none naming an engine
 * part (every kind and language has one that does not). */
static short pick_text(struct gen *g, enum synth_task kind, int lang,
                       int bev)
{
    struct text_range tr = g->texts[kind][lang];
    if (tr.count == 0)
        tr = g->texts[kind][SYNTH_EN];
    int usable = 0;
    for (int i = tr.first; i < tr.first + tr.count; i++)
        usable += !(bev && synth_task_texts[i].ice_only);
    int k = (int)gsl_rng_uniform_int(g->hist, (unsigned long)usable);
    for (int i = tr.first;; i++) {
        if (bev && synth_task_texts[i].ice_only)
            continue;
        if (k-- == 0)
            return (short)i;
    }
}

static void add_task(struct gen *g, struct vehicle *v, struct rec *rc,
                     enum synth_task kind)
{
    const struct synth_params *p = g->p;
    if (rc->ntasks == MAX_TASKS)
        return;
    rc->text[rc->ntasks++] = pick_text(g, kind, v->lang,
                                       v->ptrain == SYNTH_BEV);
    if (p->task_cost[kind] > 0)
        rc->cost_usd += p->task_cost[kind]
                        * exp(p->task_cost_sigma[kind]
                              * gsl_ran_gaussian(g->hist, 1.0));
}

/* Renewal thresholds of wear items, per vehicle. */
struct wear {
    double brake_km, tire_km;   /* odometer at the next renewal */
    long battery_day, fluid_day;
    long cabin_day;             /* BEV: cabin filter due */
};

static double jitter(struct gen *g)
{
    return exp(0.2 * gsl_ran_gaussian(g->hist, 1.0));
}

static struct rec *new_record(struct vehicle *v, long day, double odo,
                              enum rec_kind kind)
{
    struct rec *rc = &v->recs[v->nrec++];
    memset(rc, 0, sizeof(*rc));
    rc->day = day;
    rc->odo_km = odo;
    rc->kind = kind;
    return rc;
}

/* A BEV's routine service (synth.h): no engine, so no oil. */
static void add_bev_service(struct gen *g, struct vehicle *v, struct wear *w,
                            struct rec *rc, long day, double odo)
{
    const struct synth_params *p = g->p;
    const struct synth_make_info *m = &synth_makes[v->make];
    gsl_rng *r = g->hist;
    double keep = logistic(p->rotation_a + p->rotation_b * v->d);
    if (chance(r, keep))
        add_task(g, v, rc, SYNTH_TIRE_ROTATION);
    if (day >= w->cabin_day && chance(r, keep)) {
        add_task(g, v, rc, SYNTH_FILTERS);
        w->cabin_day = day + lround(m->bev_cabin_months * DAYS_PER_MONTH
                                    * jitter(g));
    }
    if (day >= w->fluid_day && chance(r, keep)) {
        add_task(g, v, rc, SYNTH_FLUIDS);
        w->fluid_day = day + lround(m->bev_fluid_months * DAYS_PER_MONTH
                                    * jitter(g));
    }
    if (odo >= w->brake_km) {
        add_task(g, v, rc, SYNTH_BRAKES);
        w->brake_km = odo + 2 * p->brake_km * jitter(g);
    }
    if (odo >= w->tire_km) {
        add_task(g, v, rc, SYNTH_TIRES);
        w->tire_km = odo + p->tire_km * jitter(g);
    }
    if (day >= w->battery_day) {
        add_task(g, v, rc, SYNTH_BATTERY);
        w->battery_day = day + lround(p->battery_years * DAYS_PER_YEAR
                                      * jitter(g));
    }
    double insp = rc->dealer ? p->inspection_dealer_p : p->inspection_owner_p;
    if (chance(r, insp) || rc->ntasks == 0)
        add_task(g, v, rc, SYNTH_INSPECTION);
    if (chance(r, p->wiper_p))
        add_task(g, v, rc, SYNTH_WIPERS);
    if (chance(r, p->other_p))
        add_task(g, v, rc, SYNTH_OTHER);
    if (rc->dealer)
        rc->cost_usd *= p->dealer_cost_factor;
}

static void add_service(struct gen *g, struct vehicle *v, struct wear *w,
                        long day, double odo)
{
    const struct synth_params *p = g->p;
    gsl_rng *r = g->hist;
    struct rec *rc = new_record(v, day, odo, REC_SERVICE);
    rc->dealer = chance(r, logistic(p->dealer_a + p->dealer_b * v->d));
    if (v->ptrain == SYNTH_BEV) {
        add_bev_service(g, v, w, rc, day, odo);
        return;
    }
    add_task(g, v, rc, SYNTH_OIL);
    if (chance(r, logistic(p->rotation_a + p->rotation_b * v->d)))
        add_task(g, v, rc, SYNTH_TIRE_ROTATION);
    if (chance(r, p->filter_p))
        add_task(g, v, rc, SYNTH_FILTERS);
    if (odo >= w->brake_km) {
        add_task(g, v, rc, SYNTH_BRAKES);
        w->brake_km = odo + p->brake_km * jitter(g);
    }
    if (odo >= w->tire_km) {
        add_task(g, v, rc, SYNTH_TIRES);
        w->tire_km = odo + p->tire_km * jitter(g);
    }
    if (day >= w->battery_day) {
        add_task(g, v, rc, SYNTH_BATTERY);
        w->battery_day = day + lround(p->battery_years * DAYS_PER_YEAR
                                      * jitter(g));
    }
    if (day >= w->fluid_day) {
        add_task(g, v, rc, SYNTH_FLUIDS);
        w->fluid_day = day + lround(p->fluid_years * DAYS_PER_YEAR
                                    * jitter(g));
    }
    double insp = rc->dealer ? p->inspection_dealer_p : p->inspection_owner_p;
    if (chance(r, insp))
        add_task(g, v, rc, SYNTH_INSPECTION);
    if (chance(r, p->wiper_p))
        add_task(g, v, rc, SYNTH_WIPERS);
    if (chance(r, p->other_p))
        add_task(g, v, rc, SYNTH_OTHER);
    if (rc->dealer)
        rc->cost_usd *= p->dealer_cost_factor;
}

/* A repair or recall record on a day strictly between two services. */
static void add_between(struct gen *g, struct vehicle *v, enum rec_kind kind,
                        long from, double odo_from, long to, double odo_to,
                        long end)
{
    const struct synth_params *p = g->p;
    if (end - from < 2)
        return;
    long day = from + 1
               + (long)gsl_rng_uniform_int(g->hist,
                                           (unsigned long)(end - from - 1));
    double odo = odo_from + (odo_to - odo_from) * (double)(day - from)
                            / (double)(to - from);
    struct rec *rc = new_record(v, day, odo, kind);
    if (kind == REC_RECALL) {
        rc->dealer = 1;
        add_task(g, v, rc, SYNTH_RECALL);
        return;
    }
    rc->dealer = chance(g->hist, logistic(p->dealer_a + p->dealer_b * v->d));
    add_task(g, v, rc, SYNTH_REPAIR);
    if (rc->dealer)
        rc->cost_usd *= p->dealer_cost_factor;
}

static void sort_records(struct vehicle *v)
{
    for (int i = 1; i < v->nrec; i++) {
        struct rec t = v->recs[i];
        int j = i;
        while (j > 0 && v->recs[j - 1].day > t.day) {
            v->recs[j] = v->recs[j - 1];
            j--;
        }
        v->recs[j] = t;
    }
}

/* Services from registration to the as-of day; see synth.h. */
static void draw_history(struct gen *g, struct vehicle *v)
{
    const struct synth_params *p = g->p;
    const struct synth_make_info *m = &synth_makes[v->make];
    gsl_rng *r = g->hist;
    double daily = v->annual_km / DAYS_PER_YEAR;
    double scale = exp(p->interval_d * v->d);
    int bev = v->ptrain == SYNTH_BEV;
    double by_time = (bev ? m->bev_rotation_months : m->oil_months)
                     * DAYS_PER_MONTH * scale;
    double by_km = (bev ? m->bev_rotation_km : m->oil_km) * scale / daily;
    double sigma = p->interval_sigma * exp(p->interval_sigma_d * v->d);
    struct wear w;
    w.brake_km = p->brake_km * jitter(g);
    w.tire_km = p->tire_km * jitter(g);
    w.battery_day = v->reg_day + lround(p->battery_years * DAYS_PER_YEAR
                                        * jitter(g));
    double fluid_days = bev ? m->bev_fluid_months * DAYS_PER_MONTH
                            : p->fluid_years * DAYS_PER_YEAR;
    w.fluid_day = v->reg_day + lround(fluid_days * jitter(g));
    w.cabin_day = v->reg_day + lround(m->bev_cabin_months * DAYS_PER_MONTH
                                      * jitter(g));
    long day = v->reg_day;
    double odo = 5 + 45 * gsl_rng_uniform(r);
    int first = 1;
    while (v->nrec <= MAX_RECORDS - 3) {
        double days = (by_time < by_km ? by_time : by_km)
                      * exp(sigma * gsl_ran_gaussian(r, 1.0));
        if (first)
            days *= p->first_service_share;
        else if (chance(r, logistic(p->skip_a + p->skip_b * v->d)))
            days *= 2;
        if (days < 14)
            days = 14;
        long next = day + lround(days);
        double next_odo = odo + daily * (double)(next - day)
                                * exp(p->km_segment_sigma
                                      * gsl_ran_gaussian(r, 1.0));
        long end = next < g->as_of ? next : g->as_of;
        if (chance(r, logistic(p->repair_a + p->repair_b * v->d)))
            add_between(g, v, REC_REPAIR, day, odo, next, next_odo, end);
        if (chance(r, p->recall_p))
            add_between(g, v, REC_RECALL, day, odo, next, next_odo, end);
        if (next >= g->as_of)
            break;
        add_service(g, v, &w, next, next_odo);
        day = next;
        odo = next_odo;
        first = 0;
    }
    sort_records(v);
    /* a used or late-connected vehicle: the earlier records are unseen */
    int kept = 0;
    for (int i = 0; i < v->nrec; i++) {
        if (v->recs[i].day >= v->start_day)
            v->recs[kept++] = v->recs[i];
    }
    v->nrec = kept;
}

/* Odometer faults and units: fills each record's reading. */
static void apply_odometer_faults(struct gen *g, struct vehicle *v)
{
    const struct synth_params *p = g->p;
    for (int i = 0; i < v->nrec; i++)
        v->recs[i].reading = v->recs[i].odo_km;
    if (v->want_rollback && v->nrec >= 2) {
        int k = 1 + (int)gsl_rng_uniform_int(g->hist,
                                             (unsigned long)(v->nrec - 1));
        double frac = p->rollback_min + (p->rollback_max - p->rollback_min)
                                        * gsl_rng_uniform(g->hist);
        double off = frac * v->recs[k].odo_km;
        for (int i = k; i < v->nrec; i++)
            v->recs[i].reading -= off;
        v->rollback = 1;
    }
    if (v->want_confusion && !v->imperial && v->nrec >= 2) {
        int k = (int)gsl_rng_uniform_int(g->hist, (unsigned long)v->nrec);
        v->recs[k].reading /= KM_PER_MILE;
        v->unit_confusion = 1;
    }
    for (int i = 0; v->imperial && i < v->nrec; i++)
        v->recs[i].reading /= KM_PER_MILE;
}

/* Order faults: some histories newest first, some with a swapped pair. */
static void apply_order_faults(struct gen *g, struct vehicle *v)
{
    const struct synth_params *p = g->p;
    if (v->nrec < 2)
        return;
    if (chance(g->hist, p->newest_first_share)) {
        for (int i = 0, j = v->nrec - 1; i < j; i++, j--) {
            struct rec t = v->recs[i];
            v->recs[i] = v->recs[j];
            v->recs[j] = t;
        }
    }
    if (chance(g->hist, p->swap_share)) {
        int i = (int)gsl_rng_uniform_int(g->hist,
                                         (unsigned long)(v->nrec - 1));
        struct rec t = v->recs[i];
        v->recs[i] = v->recs[i + 1];
        v->recs[i + 1] = t;
    }
}

static void draw_claims(struct gen *g, struct vehicle *v)
{
    const struct synth_params *p = g->p;
    gsl_rng *r = g->claim;
    double e = p->exposure_min
               + (p->exposure_max - p->exposure_min) * gsl_rng_uniform(r);
    /* the rounded value is the one written, so the one used */
    v->exposure = round(e * 10000) / 10000;
    double age = (double)(g->as_of - v->reg_day) / DAYS_PER_YEAR;
    v->lambda = p->freq_base
                * exp(p->beta_d * v->d
                      + p->beta_km * log(v->annual_km / p->km_median)
                      + p->beta_rollback * v->rollback
                      + p->beta_age * (age - 5) / 5);
    v->claims = gsl_ran_poisson(r, v->lambda * v->exposure);
    double scale = p->sev_scale * exp(p->sev_d * v->d);
    v->amount = 0;
    for (unsigned i = 0; i < v->claims; i++)
        v->amount += gsl_ran_gamma(r, p->sev_shape, scale);
}

/* ======================= rendering ======================= */

static void rb_printf(struct rbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void rb_printf(struct rbuf *b, const char *fmt, ...)
{
    if (b->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, sizeof(b->s) - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(b->s) - b->len) {
        b->overflow = 1;
        return;
    }
    b->len += (size_t)n;
}

/* A JSON string literal; the texts are UTF-8, so only ASCII is escaped. */
static void rb_json_string(struct rbuf *b, const char *s)
{
    rb_printf(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            rb_printf(b, "\\%c", *c);
        else if (*c < 0x20)
            rb_printf(b, "\\u%04x", *c);
        else
            rb_printf(b, "%c", *c);
    }
    rb_printf(b, "\"");
}

static void render_date(struct gen *g, struct rbuf *b, long day)
{
    const struct synth_params *p = g->p;
    gsl_rng *r = g->hist;
    double u = gsl_rng_uniform(r);
    if (u < p->date_null_p) {
        rb_printf(b, "null");
        return;
    }
    char ymd[11];
    eng_format_day(day, ymd);
    if (u < p->date_null_p + p->date_only_p) {
        rb_printf(b, "\"%s\"", ymd);
        return;
    }
    unsigned long hh = 7 + gsl_rng_uniform_int(r, 11);
    unsigned long mm = gsl_rng_uniform_int(r, 60);
    unsigned long ss = gsl_rng_uniform_int(r, 60);
    unsigned long ms = gsl_rng_uniform_int(r, 1000);
    rb_printf(b, "\"%sT%02lu:%02lu:%02lu.%03luZ\"", ymd, hh, mm, ss, ms);
}

static void render_cost(struct gen *g, struct rbuf *b, const struct vehicle *v,
                        const struct rec *rc)
{
    const struct synth_params *p = g->p;
    gsl_rng *r = g->hist;
    if (!synth_makes[v->make].gives_cost) {
        rb_printf(b, "{\"totalCost\":null,\"currency\":null}");
        return;
    }
    if (chance(r, p->cost_null_p)) {
        if (chance(r, 0.5))
            rb_printf(b, "null");
        else
            rb_printf(b, "{\"totalCost\":null,\"currency\":null}");
        return;
    }
    const char *cur = "USD";
    double rate = 1.0;
    if (chance(r, p->other_currency_p)) {
        int cad = chance(r, 0.5);
        cur = cad ? "CAD" : "EUR";
        rate = cad ? 1.36 : 0.92;
    }
    rb_printf(b, "{\"totalCost\":%.2f,\"currency\":\"%s\"}",
              rc->cost_usd * rate, cur);
}

static void render_record(struct gen *g, struct rbuf *b,
                          const struct vehicle *v, const struct rec *rc)
{
    const struct synth_params *p = g->p;
    gsl_rng *r = g->hist;

    double u = gsl_rng_uniform(r);
    unsigned long id = 10000000UL + gsl_rng_uniform_int(r, 90000000UL);
    if (u < p->id_null_p)
        rb_printf(b, "{\"serviceId\":null");
    else if (u < p->id_null_p + p->id_number_p)
        rb_printf(b, "{\"serviceId\":%lu", id);
    else
        rb_printf(b, "{\"serviceId\":\"%lu\"", id);

    u = gsl_rng_uniform(r);
    if (u < p->odo_null_p)
        rb_printf(b, ",\"odometerDistance\":null");
    else if (u < p->odo_null_p + p->odo_string_p)
        rb_printf(b, ",\"odometerDistance\":\"%.2f\"", rc->reading);
    else
        rb_printf(b, ",\"odometerDistance\":%.2f", rc->reading);

    rb_printf(b, ",\"serviceDate\":");
    render_date(g, b, rc->day);

    rb_printf(b, ",\"serviceTasks\":[");
    int ntasks = chance(r, p->tasks_empty_p) ? 0 : rc->ntasks;
    if (!synth_makes[v->make].gives_tasks)
        ntasks = 0;
    for (int i = 0; i < ntasks; i++) {
        const struct synth_task_text *t = &synth_task_texts[rc->text[i]];
        rb_printf(b, "%s{\"taskId\":", i ? "," : "");
        if (chance(r, p->task_id_null_p))
            rb_printf(b, "null");
        else
            rb_printf(b, "\"%d\"", 3000 + rc->text[i]);
        rb_printf(b, ",\"taskDescription\":");
        if (chance(r, p->task_desc_null_p))
            rb_printf(b, "null");
        else
            rb_json_string(b, t->text);
        rb_printf(b, "}");
    }
    rb_printf(b, "]");

    const char *src = rc->dealer ? "dealer" : "owner";
    u = gsl_rng_uniform(r);
    if (u < p->details_null_p)
        rb_printf(b, ",\"serviceDetails\":null");
    else if (u < p->details_null_p + p->details_object_p)
        rb_printf(b, ",\"serviceDetails\":{\"type\":\"source\","
                  "\"value\":\"%s\"}", src);
    else
        rb_printf(b, ",\"serviceDetails\":[{\"type\":\"source\","
                  "\"value\":\"%s\"}]", src);

    rb_printf(b, ",\"serviceCost\":");
    render_cost(g, b, v, rc);
    rb_printf(b, "}");
}

/* ======================= files ======================= */

struct out_file {
    const char *name;
    char *final;
    char *tmp;
    FILE *fp;
};

static int out_open(struct out_file *f, const char *dir, const char *name,
                    struct eng_err *err)
{
    f->name = name;
    size_t n = strlen(dir) + strlen(name) + 16;
    f->final = malloc(n);
    f->tmp = malloc(n);
    if (!f->final || !f->tmp)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    snprintf(f->final, n, "%s/%s", dir, name);
    snprintf(f->tmp, n, "%s/.%s.XXXXXX", dir, name);
    int fd = mkstemp(f->tmp);
    if (fd < 0) {
        int e = errno;
        f->tmp[0] = '\0';
        return eng_err_set(err, ENG_EIO, "cannot create a file in '%s': %s",
                           dir, strerror(e));
    }
    f->fp = fdopen(fd, "w");
    if (!f->fp || fchmod(fd, 0644) != 0) {
        int e = errno;
        if (!f->fp)
            close(fd);
        return eng_err_set(err, ENG_EIO, "cannot write '%s': %s", f->final,
                           strerror(e));
    }
    /* large writes: a fleet of a million vehicles is gigabytes */
    setvbuf(f->fp, NULL, _IOFBF, 1 << 18);
    return ENG_OK;
}

/* Flushes, syncs and closes the temporary file, then renames it. */
static int out_commit(struct out_file *f, struct eng_err *err)
{
    FILE *fp = f->fp;
    f->fp = NULL;
    int bad = ferror(fp) || fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    int e = errno;
    if (fclose(fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad)
        return eng_err_set(err, ENG_EIO, "cannot write '%s': %s", f->final,
                           strerror(e));
    if (rename(f->tmp, f->final) != 0)
        return eng_err_set(err, ENG_EIO, "cannot rename '%s' to '%s': %s",
                           f->tmp, f->final, strerror(errno));
    f->tmp[0] = '\0';
    return ENG_OK;
}

/* Closes and removes a temporary file that was not committed. */
static void out_discard(struct out_file *f)
{
    if (f->fp)
        fclose(f->fp);
    f->fp = NULL;
    if (f->tmp && f->tmp[0])
        unlink(f->tmp);
    free(f->tmp);
    free(f->final);
    f->tmp = NULL;
    f->final = NULL;
}

static int make_dirs(const char *dir, struct eng_err *err)
{
    char *path = strdup(dir);
    if (!path)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    int rc = ENG_OK;
    size_t len = strlen(path);
    for (size_t i = 1; i <= len && rc == ENG_OK; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char keep = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            rc = eng_err_set(err, ENG_EIO, "cannot create directory '%s': "
                             "%s", path, strerror(errno));
        path[i] = keep;
    }
    free(path);
    if (rc < 0)
        return rc;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return eng_err_set(err, ENG_EIO, "'%s' is not a directory", dir);
    return ENG_OK;
}

/* Makes the renames durable; best effort where directories cannot sync. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return;
    fsync(fd);
    close(fd);
}

/* ======================= the run ======================= */

enum { F_VEHICLES, F_HISTORIES, F_CLAIMS, F_TRUTH };

static const char *const file_names[N_FILES] = {
    "vehicles.csv", "histories.jsonl", "claims.csv", "truth.csv"
};

static const char *const file_headers[N_FILES] = {
    "vin,vehicle_id,policy_id,make,model_year,unit_system,user_id,"
    "access_token,refresh_token,expires_at,powertrain\n",
    NULL,
    "vin,claim_count,exposure_years,claim_amount\n",
    "vin,diligence,annual_km,rollback,unit_confusion,true_frequency,"
    "powertrain,history_from_new,high_mileage\n"
};

static int write_vehicle(struct gen *g, struct out_file *f,
                         struct synth_stats *st, struct eng_err *err)
{
    const struct vehicle *v = &g->v;
    const char *units = v->imperial ? "imperial" : "metric";
    const char *ptrain = synth_ptrain_name(v->ptrain);
    fprintf(f[F_VEHICLES].fp, "%s,%s,POL-%07ld,%s,%d,%s,%s,%s,%s,"
            "%sT00:00:00Z,%s\n", v->vin, v->id, v->index + 1,
            synth_makes[v->make].name, v->model_year, units, g->user.id,
            g->user.access, g->user.refresh, g->as_of_text,
            v->list_ptrain ? ptrain : "");

    FILE *h = f[F_HISTORIES].fp;
    fprintf(h, "{\"vin\":\"%s\",\"vehicle_id\":\"%s\",\"unit_system\":"
            "\"%s\",\"fetched_at\":\"%sT00:00:00Z\",", v->vin, v->id,
            units, g->as_of_text);
    if (v->api_ptrain)
        fprintf(h, "\"powertrain\":\"%s\",", ptrain);
    fputs("\"history\":[", h);
    struct rbuf *b = &g->rb;
    int written = 0;
    for (int i = 0; i < v->nrec; i++) {
        b->len = 0;
        b->overflow = 0;
        render_record(g, b, v, &v->recs[i]);
        if (b->overflow)
            return eng_err_set(err, ENG_ELIMIT, "record of vehicle %s "
                               "longer than %d bytes", v->vin, RECORD_BUF);
        int copies = 1 + chance(g->hist, g->p->duplicate_p);
        for (int c = 0; c < copies; c++) {
            fprintf(h, "%s%.*s", written ? "," : "", (int)b->len, b->s);
            written++;
        }
    }
    fputs("]}\n", h);

    fprintf(f[F_CLAIMS].fp, "%s,%u,%.4f,%.2f\n", v->vin, v->claims,
            v->exposure, v->amount);
    fprintf(f[F_TRUTH].fp, "%s,%.4f,%.0f,%d,%d,%.6f,%s,%d,%d\n", v->vin,
            v->d, v->annual_km, v->rollback, v->unit_confusion, v->lambda,
            ptrain, v->from_new, v->high_km);

    st->vehicles++;
    st->records += written;
    st->empty_histories += written == 0;
    st->imperial += v->imperial;
    st->rollbacks += v->rollback;
    st->unit_confusions += v->unit_confusion;
    st->claims += v->claims;
    st->late_starts += !v->from_new;
    st->high_mileage += v->high_km;
    st->by_ptrain[v->ptrain]++;
    return ENG_OK;
}

static void gen_release(struct gen *g)
{
    gsl_ran_discrete_free(g->make_pick);
    gsl_ran_discrete_free(g->lang_pick);
    gsl_ran_discrete_free(g->user_pick);
    gsl_rng_free(g->attr);
    gsl_rng_free(g->hist);
    gsl_rng_free(g->claim);
}

static int gen_init(struct gen *g, const struct synth_params *p,
                    unsigned long seed, long as_of, struct eng_err *err)
{
    memset(g, 0, sizeof(*g));
    g->p = p;
    g->as_of = as_of;
    int m, d;
    eng_civil_from_days(as_of, &g->as_of_year, &m, &d);
    eng_format_day(as_of, g->as_of_text);

    /*
     * One seeded stream gives the seeds of three others, so that tuning
     * the history faults does not change the vehicles or their claims.
     */
    gsl_rng *seeder = gsl_rng_alloc(gsl_rng_mt19937);
    g->attr = gsl_rng_alloc(gsl_rng_mt19937);
    g->hist = gsl_rng_alloc(gsl_rng_mt19937);
    g->claim = gsl_rng_alloc(gsl_rng_mt19937);
    g->make_pick = gsl_ran_discrete_preproc(SYNTH_N_MAKES, p->make_weight);
    g->lang_pick = gsl_ran_discrete_preproc(SYNTH_N_LANGS, p->lang_share);
    g->user_pick = gsl_ran_discrete_preproc(3, p->user_share);
    if (!seeder || !g->attr || !g->hist || !g->claim || !g->make_pick
        || !g->lang_pick || !g->user_pick) {
        gsl_rng_free(seeder);
        gen_release(g);
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    }
    gsl_rng_set(seeder, seed);
    gsl_rng_set(g->attr, gsl_rng_get(seeder));
    gsl_rng_set(g->hist, gsl_rng_get(seeder));
    gsl_rng_set(g->claim, gsl_rng_get(seeder));
    g->vin_offset = gsl_rng_get(seeder) % VIN_SPACE;
    gsl_rng_free(seeder);

    for (size_t i = synth_n_task_texts; i-- > 0;) {
        struct text_range *tr =
            &g->texts[synth_task_texts[i].kind][synth_task_texts[i].lang];
        tr->first = (int)i;
        tr->count++;
    }
    return ENG_OK;
}

int synth_fleet_write(const char *dir, const struct synth_params *p, long n,
                      unsigned long seed, long as_of_day,
                      struct synth_stats *stats, struct eng_err *err)
{
    if (n < 1 || n > SYNTH_MAX_VEHICLES)
        return eng_err_set(err, ENG_EUSAGE, "the number of vehicles must be "
                           "within 1..%ld", SYNTH_MAX_VEHICLES);
    int y, mo, d;
    eng_civil_from_days(as_of_day, &y, &mo, &d);
    if (y < SYNTH_MIN_YEAR || y > 2100)
        return eng_err_set(err, ENG_EUSAGE, "the as-of date must fall within "
                           "%d..2100", SYNTH_MIN_YEAR);
    int rc = synth_params_check(p, err);
    if (rc < 0)
        return rc;
    if (p->min_model_year >= y)
        return eng_err_set(err, ENG_EUSAGE, "min_model_year %d is not "
                           "before the as-of year %d", p->min_model_year, y);
    rc = make_dirs(dir, err);
    if (rc < 0)
        return rc;

    struct gen *g = malloc(sizeof(*g));
    if (!g)
        return eng_err_set(err, ENG_ENOMEM, "out of memory");
    rc = gen_init(g, p, seed, as_of_day, err);
    if (rc < 0) {
        free(g);
        return rc;
    }
    struct out_file files[N_FILES];
    memset(files, 0, sizeof(files));
    struct synth_stats st;
    memset(&st, 0, sizeof(st));

    for (int i = 0; i < N_FILES && rc == ENG_OK; i++) {
        rc = out_open(&files[i], dir, file_names[i], err);
        if (rc == ENG_OK && file_headers[i])
            fputs(file_headers[i], files[i].fp);
    }
    for (long i = 0; i < n && rc == ENG_OK; i++) {
        if (g->user.left == 0)
            st.users++;
        next_user(g);
        g->user.left--;
        draw_vehicle(g, &g->v, i);
        if (!g->v.no_history)
            draw_history(g, &g->v);
        apply_odometer_faults(g, &g->v);
        apply_order_faults(g, &g->v);
        draw_claims(g, &g->v);
        rc = write_vehicle(g, files, &st, err);
        /* a full disk shows here long before the end of a big fleet */
        for (int k = 0; rc == ENG_OK && i % 4096 == 4095 && k < N_FILES;
             k++) {
            if (ferror(files[k].fp))
                rc = eng_err_set(err, ENG_EIO, "cannot write '%s'",
                                 files[k].final);
        }
    }
    for (int i = 0; i < N_FILES && rc == ENG_OK; i++)
        rc = out_commit(&files[i], err);
    if (rc == ENG_OK)
        sync_dir(dir);
    for (int i = 0; i < N_FILES; i++)
        out_discard(&files[i]);
    gen_release(g);
    free(g);
    if (rc == ENG_OK && stats)
        *stats = st;
    return rc;
}
