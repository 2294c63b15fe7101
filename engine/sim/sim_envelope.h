/*
 * sim_envelope — the bodies of the simulator's error answers, in the shapes
 * the real API uses:
 *   v2  {type, code, description, docURL, statusCode, requestId,
 *        resolution{type}, suggestedUserMessage?, detail?}
 *   v3  {errors:[{status, type, code, title, detail, links{about},
 *        resolution{type}, suggestedUserMessage?}]}
 *   v1  {error, message, code}
 *   OAuth {error, error_description}
 *   a text/html page from a proxy.
 * Each function appends to a sim_buf (whose failed flag reports memory
 * exhaustion) and cannot fail otherwise.
 */
#ifndef SIM_ENVELOPE_H
#define SIM_ENVELOPE_H

#include "sim_buf.h"

enum sim_error {
    SIM_E_VALIDATION,       /* 400 VALIDATION:PARAMETER */
    SIM_E_AUTHENTICATION,   /* 401 AUTHENTICATION:null */
    SIM_E_PERMISSION,       /* 403 PERMISSION:null */
    SIM_E_NOT_FOUND,        /* 404 RESOURCE_NOT_FOUND:PATH */
    SIM_E_ASLEEP,           /* 409 VEHICLE_STATE:ASLEEP */
    SIM_E_RATE_APP,         /* 429 RATE_LIMIT:SMARTCAR_API */
    SIM_E_RATE_VEHICLE,     /* 429 RATE_LIMIT:VEHICLE */
    SIM_E_BILLING,          /* 430 BILLING:VEHICLE_REQUEST_LIMIT */
    SIM_E_SERVER,           /* 500 SERVER:INTERNAL */
    SIM_E_COMPATIBILITY,    /* 501 COMPATIBILITY:MAKE_NOT_COMPATIBLE */
    SIM_E_UPSTREAM,         /* 502 UPSTREAM:UNKNOWN_ISSUE */
    SIM_E_COUNT
};

/* The HTTP status of an error; cannot fail. */
unsigned sim_envelope_status(enum sim_error e);

/* "TYPE:CODE" for logs; cannot fail. */
const char *sim_envelope_name(enum sim_error e);

/*
 * Appends the v2 envelope of e with request id rid.  field, when not NULL,
 * names the offending parameter of a validation error and message explains
 * it; they become the detail array (JSON-escaped).
 */
void sim_envelope_v2(struct sim_buf *b, enum sim_error e, const char *rid,
                     const char *field, const char *message);

/*
 * Appends the v3 envelope of e; with field given, message replaces the
 * standard text in detail.
 */
void sim_envelope_v3(struct sim_buf *b, enum sim_error e, const char *rid,
                     const char *field, const char *message);

/* Appends the v1 envelope of a sleeping vehicle (vehicle_state_error). */
void sim_envelope_v1_asleep(struct sim_buf *b);

/* Appends {"error": error, "error_description": description}. */
void sim_envelope_oauth(struct sim_buf *b, const char *error,
                        const char *description);

/* Appends the HTML page of a proxy's 502 Bad Gateway. */
void sim_envelope_html_502(struct sim_buf *b);

#endif
