/* sim_envelope — error bodies in the real API's shapes. */
#include "sim_envelope.h"

#define RETRY "RETRY_LATER"
#define REAUTH "REAUTHENTICATE"
#define SUPPORT "CONTACT_SUPPORT"
#define USER_WAIT "Your car is temporarily unable to connect to the app. " \
                  "Please be patient while we work to resolve this issue."

struct def {
    unsigned status;
    const char *type;
    const char *code;           /* NULL: JSON null */
    const char *name;
    const char *title;          /* v3 title: the HTTP reason */
    const char *description;
    const char *resolution;     /* NULL: {"type":null} */
    const char *user_message;   /* NULL: omitted */
    const char *doc;            /* page and anchor under the errors docs */
};

static const struct def defs[SIM_E_COUNT] = {
    [SIM_E_VALIDATION] = {
        400, "VALIDATION", "PARAMETER", "VALIDATION:PARAMETER",
        "Bad Request",
        "Your request contains a parameter that is missing or invalid.",
        NULL, NULL, "validation-errors#parameter"},
    [SIM_E_AUTHENTICATION] = {
        401, "AUTHENTICATION", NULL, "AUTHENTICATION",
        "Unauthorized",
        "The authorization header is missing or malformed, or it contains "
        "invalid or expired credentials.",
        REAUTH, NULL, "authentication-errors"},
    [SIM_E_PERMISSION] = {
        403, "PERMISSION", NULL, "PERMISSION", "Forbidden",
        "Your application does not have permission to access this "
        "vehicle or resource.",
        REAUTH, NULL, "permission-errors"},
    [SIM_E_NOT_FOUND] = {
        404, "RESOURCE_NOT_FOUND", "PATH", "RESOURCE_NOT_FOUND:PATH",
        "Not Found",
        "The requested resource does not exist. Check the path and the "
        "vehicle id.",
        NULL, NULL, "resource-not-found-errors#path"},
    [SIM_E_ASLEEP] = {
        409, "VEHICLE_STATE", "ASLEEP", "VEHICLE_STATE:ASLEEP", "Conflict",
        "The vehicle is in a sleep state and temporarily unable to perform "
        "your request.",
        RETRY, "Your car is asleep. Please try again later.",
        "vehicle-state-errors#asleep"},
    [SIM_E_RATE_APP] = {
        429, "RATE_LIMIT", "SMARTCAR_API", "RATE_LIMIT:SMARTCAR_API",
        "Too Many Requests",
        "Your application has exceeded its rate limit. Please retry your "
        "request in a few minutes.",
        RETRY, USER_WAIT, "rate-limit-errors#smartcar-api"},
    [SIM_E_RATE_VEHICLE] = {
        429, "RATE_LIMIT", "VEHICLE", "RATE_LIMIT:VEHICLE",
        "Too Many Requests",
        "You have reached the throttling rate limit for this vehicle. "
        "Please see the retry-after header (seconds) for when to retry the "
        "request.",
        RETRY, USER_WAIT, "rate-limit-errors#vehicle"},
    [SIM_E_BILLING] = {
        430, "BILLING", "VEHICLE_REQUEST_LIMIT",
        "BILLING:VEHICLE_REQUEST_LIMIT", "Billing Limit",
        "You have reached the monthly request limit for this vehicle on "
        "your plan.",
        SUPPORT, NULL, "billing-errors#vehicle-request-limit"},
    [SIM_E_SERVER] = {
        500, "SERVER", "INTERNAL", "SERVER:INTERNAL",
        "Internal Server Error",
        "An internal error has occurred. Our team has been notified and is "
        "working to resolve this issue.",
        RETRY, USER_WAIT, "server-errors#internal"},
    [SIM_E_COMPATIBILITY] = {
        501, "COMPATIBILITY", "MAKE_NOT_COMPATIBLE",
        "COMPATIBILITY:MAKE_NOT_COMPATIBLE", "Not Implemented",
        "This endpoint is not supported for the make of this vehicle.",
        NULL, "Your car does not support this feature.",
        "compatibility-errors#make-not-compatible"},
    [SIM_E_UPSTREAM] = {
        502, "UPSTREAM", "UNKNOWN_ISSUE", "UPSTREAM:UNKNOWN_ISSUE",
        "Bad Gateway",
        "An unknown error was returned by an upstream source of the "
        "vehicle.",
        RETRY, USER_WAIT, "upstream-errors#unknown-issue"},
};

#define DOC_BASE "https://smartcar.com/docs/errors/api-errors/"

unsigned sim_envelope_status(enum sim_error e)
{
    return defs[e].status;
}

const char *sim_envelope_name(enum sim_error e)
{
    return defs[e].name;
}

static void add_detail(struct sim_buf *b, const char *field,
                       const char *message)
{
    sim_buf_puts(b, ",\"detail\":[{\"field\":[");
    sim_buf_json_cstr(b, field);
    sim_buf_puts(b, "],\"message\":");
    sim_buf_json_cstr(b, message ? message : "invalid");
    sim_buf_puts(b, "}]");
}

void sim_envelope_v2(struct sim_buf *b, enum sim_error e, const char *rid,
                     const char *field, const char *message)
{
    const struct def *d = &defs[e];
    sim_buf_puts(b, "{\"type\":");
    sim_buf_json_cstr(b, d->type);
    sim_buf_puts(b, ",\"code\":");
    sim_buf_json_cstr(b, d->code);
    sim_buf_puts(b, ",\"description\":");
    sim_buf_json_cstr(b, d->description);
    sim_buf_printf(b, ",\"docURL\":\"" DOC_BASE "%s\"", d->doc);
    sim_buf_printf(b, ",\"statusCode\":%u,\"requestId\":", d->status);
    sim_buf_json_cstr(b, rid);
    sim_buf_puts(b, ",\"resolution\":{\"type\":");
    sim_buf_json_cstr(b, d->resolution);
    sim_buf_puts(b, "}");
    if (d->user_message) {
        sim_buf_puts(b, ",\"suggestedUserMessage\":");
        sim_buf_json_cstr(b, d->user_message);
    }
    if (field)
        add_detail(b, field, message);
    sim_buf_puts(b, "}");
}

void sim_envelope_v3(struct sim_buf *b, enum sim_error e, const char *rid,
                     const char *field, const char *message)
{
    const struct def *d = &defs[e];
    sim_buf_printf(b, "{\"errors\":[{\"status\":\"%u\",\"type\":",
                   d->status);
    sim_buf_json_cstr(b, d->type);
    sim_buf_puts(b, ",\"code\":");
    sim_buf_json_cstr(b, d->code);
    sim_buf_puts(b, ",\"title\":");
    sim_buf_json_cstr(b, d->title);
    sim_buf_puts(b, ",\"detail\":");
    sim_buf_json_cstr(b, field && message ? message : d->description);
    sim_buf_printf(b, ",\"links\":{\"about\":\"" DOC_BASE "v3/%s\"}",
                   d->doc);
    sim_buf_puts(b, ",\"resolution\":{\"type\":");
    sim_buf_json_cstr(b, d->resolution);
    sim_buf_puts(b, "}");
    if (d->user_message) {
        sim_buf_puts(b, ",\"suggestedUserMessage\":");
        sim_buf_json_cstr(b, d->user_message);
    }
    sim_buf_puts(b, ",\"requestId\":");
    sim_buf_json_cstr(b, rid);
    sim_buf_puts(b, "}]}");
}

void sim_envelope_v1_asleep(struct sim_buf *b)
{
    sim_buf_puts(b, "{\"error\":\"vehicle_state_error\",\"message\":"
                    "\"Vehicle is asleep and cannot be reached.\","
                    "\"code\":\"VS_000\"}");
}

void sim_envelope_oauth(struct sim_buf *b, const char *error,
                        const char *description)
{
    sim_buf_puts(b, "{\"error\":");
    sim_buf_json_cstr(b, error);
    sim_buf_puts(b, ",\"error_description\":");
    sim_buf_json_cstr(b, description);
    sim_buf_puts(b, "}");
}

void sim_envelope_html_502(struct sim_buf *b)
{
    sim_buf_puts(b, "<html>\r\n<head><title>502 Bad Gateway</title></head>"
                    "\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
                    "</center>\r\n<hr><center>proxy</center>\r\n</body>"
                    "\r\n</html>\r\n");
}
