/*
 * sc_policy — what a Smartcar response means: error envelopes, the retry
 * decision, backoff, headers.  Pure functions, see sc_policy.h.
 */
#include "sc_policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "jscan.h"

void sc_clean_token(const char *s, char *out, size_t n, int upper)
{
    size_t k = 0;
    for (; s && *s && k + 1 < n; s++) {
        char c = *s;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                   || (c >= '0' && c <= '9') || c == '_' || c == '.'
                   || c == '-';
        if (!keep)
            continue;
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        out[k++] = c;
    }
    if (n > 0)
        out[k] = '\0';
}

/* Printable ASCII only: descriptions end up in log lines. */
static void clean_text(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; s && *s && k + 1 < n; s++)
        out[k++] = *s >= 0x20 && *s < 0x7f ? *s : ' ';
    if (n > 0)
        out[k] = '\0';
}

struct cJSON *sc_json_parse(const char *body, size_t len)
{
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!o)
        return NULL;
    for (; end && end < body + len; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static const char *str_item(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long num_item(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1000)
        return (long)v->valuedouble;
    if (cJSON_IsString(v)) {
        char *end;
        long x = strtol(v->valuestring, &end, 10);
        if (end != v->valuestring && *end == '\0' && x >= 0 && x < 1000)
            return x;
    }
    return 0;
}

/* resolution: null, "RETRY_LATER", {"type": null}, {"type": "..."} */
static void read_resolution(const cJSON *o, struct sc_envelope *env)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "resolution");
    if (cJSON_IsString(r)) {
        sc_clean_token(r->valuestring, env->resolution,
                       sizeof(env->resolution), 1);
    } else if (cJSON_IsObject(r)) {
        sc_clean_token(str_item(r, "type"), env->resolution,
                       sizeof(env->resolution), 1);
    }
}

/* v1 error names and the v2 types they became. */
static const char *v1_type(const char *name)
{
    static const char *const map[][2] = {
        {"authentication_error", "AUTHENTICATION"},
        {"permission_error", "PERMISSION"},
        {"resource_not_found_error", "RESOURCE_NOT_FOUND"},
        {"validation_error", "VALIDATION"},
        {"rate_limiting_error", "RATE_LIMIT"},
        {"monthly_limit_exceeded", "BILLING"},
        {"server_error", "SERVER"},
        {"vehicle_state_error", "VEHICLE_STATE"},
        {"not_capable_error", "COMPATIBILITY"},
        {"smartcar_not_capable_error", "COMPATIBILITY"},
        {"vehicle_not_capable_error", "COMPATIBILITY"},
        {"gateway_timeout_error", "UPSTREAM"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(name, map[i][0]) == 0)
            return map[i][1];
    }
    return NULL;
}

static void read_v2(const cJSON *o, struct sc_envelope *env)
{
    env->shape = SC_SHAPE_V2;
    sc_clean_token(str_item(o, "type"), env->type, sizeof(env->type), 1);
    sc_clean_token(str_item(o, "code"), env->code, sizeof(env->code), 1);
    sc_clean_token(str_item(o, "requestId"), env->request_id,
                   sizeof(env->request_id), 0);
    clean_text(str_item(o, "description"), env->description,
               sizeof(env->description));
    env->status = num_item(o, "statusCode");
    read_resolution(o, env);
}

static void read_v3(const cJSON *o, struct sc_envelope *env)
{
    env->shape = SC_SHAPE_V3;
    const cJSON *e = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(o, "errors"), 0);
    sc_clean_token(str_item(o, "requestId"), env->request_id,
                   sizeof(env->request_id), 0);
    if (!cJSON_IsObject(e))
        return;
    sc_clean_token(str_item(e, "type"), env->type, sizeof(env->type), 1);
    sc_clean_token(str_item(e, "code"), env->code, sizeof(env->code), 1);
    const char *text = str_item(e, "detail");
    clean_text(text ? text : str_item(e, "title"), env->description,
               sizeof(env->description));
    env->status = num_item(e, "status");
    if (!env->request_id[0])
        sc_clean_token(str_item(e, "requestId"), env->request_id,
                       sizeof(env->request_id), 0);
    read_resolution(e, env);
}

static void read_v1_or_oauth(const cJSON *o, const char *name,
                             struct sc_envelope *env)
{
    const char *desc = str_item(o, "error_description");
    const char *message = str_item(o, "message");
    if (desc || !message) {
        env->shape = SC_SHAPE_OAUTH;
        snprintf(env->type, sizeof(env->type), "AUTHENTICATION");
        sc_clean_token(name, env->code, sizeof(env->code), 1);
        clean_text(desc, env->description, sizeof(env->description));
        return;
    }
    env->shape = SC_SHAPE_V1;
    const char *t = v1_type(name);
    if (t) {
        snprintf(env->type, sizeof(env->type), "%s", t);
    } else {
        sc_clean_token(name, env->type, sizeof(env->type), 1);
    }
    sc_clean_token(str_item(o, "code"), env->code, sizeof(env->code), 1);
    clean_text(message, env->description, sizeof(env->description));
    sc_clean_token(str_item(o, "requestId"), env->request_id,
                   sizeof(env->request_id), 0);
}

void sc_parse_envelope(const char *body, size_t len, const char *content_type,
                       struct sc_envelope *env)
{
    memset(env, 0, sizeof(*env));
    if (!body || len == 0) {
        env->shape = SC_SHAPE_NONE;
        return;
    }
    env->shape = SC_SHAPE_TEXT;
    if (content_type && *content_type && !strstr(content_type, "json")
        && !strstr(content_type, "JSON"))
        return;
    cJSON *o = sc_json_parse(body, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return;
    }
    const char *name = str_item(o, "error");
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o, "errors")))
        read_v3(o, env);
    else if (str_item(o, "type"))
        read_v2(o, env);
    else if (name)
        read_v1_or_oauth(o, name, env);
    cJSON_Delete(o);
}

static const char *type_of_status(long st)
{
    switch (st) {
    case 400: return "VALIDATION";
    case 401: return "AUTHENTICATION";
    case 403: return "PERMISSION";
    case 404: return "RESOURCE_NOT_FOUND";
    case 409: return "VEHICLE_STATE";
    case 429: return "RATE_LIMIT";
    case 430: return "BILLING";
    case 500: return "SERVER";
    case 501: return "COMPATIBILITY";
    case 502: return "UPSTREAM";
    case 503: return "SERVER";
    case 504: return "SERVER";
    default: return NULL;
    }
}

void sc_error_status(const struct sc_envelope *env, long http_status,
                     char *out, size_t n)
{
    if (env && env->type[0]) {
        if (env->code[0])
            snprintf(out, n, "error:%s:%s", env->type, env->code);
        else
            snprintf(out, n, "error:%s", env->type);
        return;
    }
    const char *t = type_of_status(http_status);
    if (t)
        snprintf(out, n, "error:%s:HTTP_%ld", t, http_status);
    else
        snprintf(out, n, "error:HTTP:%ld", http_status);
}

const char *sc_curl_code_name(int code)
{
    switch ((CURLcode)code) {
    case CURLE_OK: return "OK";
    case CURLE_UNSUPPORTED_PROTOCOL: return "UNSUPPORTED_PROTOCOL";
    case CURLE_URL_MALFORMAT: return "URL_MALFORMAT";
    case CURLE_COULDNT_RESOLVE_PROXY: return "COULDNT_RESOLVE_PROXY";
    case CURLE_COULDNT_RESOLVE_HOST: return "COULDNT_RESOLVE_HOST";
    case CURLE_COULDNT_CONNECT: return "COULDNT_CONNECT";
    case CURLE_WEIRD_SERVER_REPLY: return "WEIRD_SERVER_REPLY";
    case CURLE_HTTP2: return "HTTP2";
    case CURLE_PARTIAL_FILE: return "PARTIAL_FILE";
    case CURLE_WRITE_ERROR: return "WRITE_ERROR";
    case CURLE_READ_ERROR: return "READ_ERROR";
    case CURLE_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
    case CURLE_OPERATION_TIMEDOUT: return "OPERATION_TIMEDOUT";
    case CURLE_RANGE_ERROR: return "RANGE_ERROR";
    case CURLE_SSL_CONNECT_ERROR: return "SSL_CONNECT_ERROR";
    case CURLE_TOO_MANY_REDIRECTS: return "TOO_MANY_REDIRECTS";
    case CURLE_GOT_NOTHING: return "GOT_NOTHING";
    case CURLE_SEND_ERROR: return "SEND_ERROR";
    case CURLE_RECV_ERROR: return "RECV_ERROR";
    case CURLE_PEER_FAILED_VERIFICATION: return "PEER_FAILED_VERIFICATION";
    case CURLE_SSL_CERTPROBLEM: return "SSL_CERTPROBLEM";
    case CURLE_SSL_CIPHER: return "SSL_CIPHER";
    case CURLE_SSL_CACERT_BADFILE: return "SSL_CACERT_BADFILE";
    case CURLE_BAD_CONTENT_ENCODING: return "BAD_CONTENT_ENCODING";
    case CURLE_FILESIZE_EXCEEDED: return "FILESIZE_EXCEEDED";
    case CURLE_HTTP2_STREAM: return "HTTP2_STREAM";
    case CURLE_HTTP3: return "HTTP3";
    case CURLE_QUIC_CONNECT_ERROR: return "QUIC_CONNECT_ERROR";
    case CURLE_ABORTED_BY_CALLBACK: return "ABORTED_BY_CALLBACK";
    default: return "OTHER";
    }
}

/* Transport errors that the same request would meet again. */
static int curl_permanent(int code)
{
    switch ((CURLcode)code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_TOO_MANY_REDIRECTS:
        return 1;
    default:
        return 0;
    }
}

static int type_is(const struct sc_envelope *env, const char *t)
{
    return strcmp(env->type, t) == 0;
}

static void set(struct sc_decision *d, enum sc_verdict v, enum sc_cause c)
{
    d->verdict = v;
    d->cause = c;
}

void sc_decide(const struct sc_outcome *o, struct sc_decision *d)
{
    static const struct sc_envelope none;
    const struct sc_envelope *env = o->env ? o->env : &none;
    long st = o->http_status;

    memset(d, 0, sizeof(*d));
    d->delay = -1;
    if (o->too_big) {
        set(d, SC_V_FAIL, SC_CAUSE_NONE);
        snprintf(d->status, sizeof(d->status), "error:LIMIT:BODY_SIZE");
        return;
    }
    if (o->curl_code != CURLE_OK) {
        if (o->curl_code == CURLE_OPERATION_TIMEDOUT) {
            set(d, SC_V_RETRY, SC_CAUSE_TIMEOUT);
            snprintf(d->status, sizeof(d->status), "error:TIMEOUT");
            return;
        }
        set(d, curl_permanent(o->curl_code) ? SC_V_FAIL : SC_V_RETRY,
            SC_CAUSE_NETWORK);
        snprintf(d->status, sizeof(d->status), "error:NETWORK:%s",
                 sc_curl_code_name(o->curl_code));
        return;
    }
    if (st >= 200 && st < 300) {
        set(d, SC_V_OK, SC_CAUSE_NONE);
        snprintf(d->status, sizeof(d->status), "ok");
        return;
    }
    sc_error_status(env, st, d->status, sizeof(d->status));

    if (o->token_endpoint && (st == 400 || st == 401)) {
        set(d, SC_V_FAIL, SC_CAUSE_NONE);
        snprintf(d->status, sizeof(d->status), "error:AUTHENTICATION:%s",
                 strcmp(env->code, "INVALID_CLIENT") == 0 ? "INVALID_CLIENT"
                                                          : "REFRESH_FAILED");
        return;
    }
    if (st == 401 || type_is(env, "AUTHENTICATION")) {
        set(d, o->token_endpoint ? SC_V_FAIL : SC_V_REAUTH, SC_CAUSE_AUTH);
        return;
    }
    if (st == 429 || type_is(env, "RATE_LIMIT")) {
        d->delay = o->retry_after;
        if (strcmp(env->code, "SMARTCAR_API") == 0)
            set(d, SC_V_PAUSE, SC_CAUSE_RATE_APP);
        else if (o->retry_after >= 0)
            set(d, SC_V_RETRY_AFTER, SC_CAUSE_RATE_VEHICLE);
        else
            set(d, SC_V_RETRY, SC_CAUSE_RATE_VEHICLE);
        return;
    }
    if (type_is(env, "VALIDATION") || type_is(env, "PERMISSION")
        || type_is(env, "BILLING") || type_is(env, "COMPATIBILITY")
        || type_is(env, "RESOURCE_NOT_FOUND")
        || type_is(env, "CONNECTED_SERVICES_ACCOUNT") || st == 400
        || st == 403 || st == 404 || st == 430 || st == 501) {
        set(d, SC_V_FAIL, SC_CAUSE_NONE);
        return;
    }
    if (st == 409 || type_is(env, "VEHICLE_STATE")) {
        set(d, SC_V_RETRY, SC_CAUSE_VEHICLE_STATE);
        return;
    }
    if (st >= 500 || st == 408 || type_is(env, "UPSTREAM")
        || type_is(env, "SERVER")) {
        set(d, SC_V_RETRY, SC_CAUSE_SERVER);
        return;
    }
    if (strcmp(env->resolution, "RETRY_LATER") == 0) {
        set(d, SC_V_RETRY, SC_CAUSE_RETRY_LATER);
        return;
    }
    set(d, SC_V_FAIL, SC_CAUSE_NONE);
}

const char *sc_cause_name(enum sc_cause c)
{
    static const char *const names[SC_CAUSE_COUNT] = {
        "none", "rate_vehicle", "rate_app", "server", "vehicle_state",
        "retry_later", "network", "timeout", "parse", "auth",
    };
    return c >= 0 && c < SC_CAUSE_COUNT ? names[c] : "none";
}

uint64_t sc_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double sc_backoff(double base, double cap, int attempt, uint64_t *rng)
{
    if (attempt < 1)
        attempt = 1;
    double ceiling = attempt > 60 ? cap : base * ldexp(1.0, attempt - 1);
    if (ceiling > cap)
        ceiling = cap;
    double u = (double)(sc_rand(rng) >> 11) / 9007199254740992.0;
    return u * ceiling;
}

double sc_parse_retry_after(const char *v, long long now)
{
    if (!v || !*v)
        return -1;
    char *end;
    double s = strtod(v, &end);
    if (end != v) {
        while (*end == ' ')
            end++;
        if (*end != '\0' || !(s >= 0))
            return -1;
        /* a huge wait is still a wait: the caller's cap refuses it */
        return s < SC_RETRY_AFTER_MAX ? s : SC_RETRY_AFTER_MAX;
    }
    time_t t = curl_getdate(v, NULL);
    if (t == (time_t)-1)
        return -1;
    if ((long long)t <= now)
        return 0;
    double d = (double)((long long)t - now);
    return d < SC_RETRY_AFTER_MAX ? d : SC_RETRY_AFTER_MAX;
}

int sc_header_value(const char *line, size_t len, const char *name,
                    char *out, size_t n)
{
    size_t k = strlen(name);
    if (len <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return 0;
    const char *v = line + k + 1;
    const char *e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '
                     || e[-1] == '\t'))
        e--;
    size_t m = (size_t)(e - v);
    if (n == 0)
        return 1;
    if (m > n - 1)
        m = n - 1;
    memcpy(out, v, m);
    out[m] = '\0';
    return 1;
}

char *sc_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(3 * strlen(s) + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
                    || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
                    || *p == '.' || *p == '~';
        if (plain) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/*
 * The service-history counter: one strict pass of the scanner over the
 * body, keeping nothing but counts.  The records' array is found as the
 * first member of each name would find it in a tree: "serviceHistory",
 * else values_of(body), where values_of(X) is X.values when an array,
 * else, when X.data is an object, values_of(X.data), else
 * values_of(X.data.attributes) when that is an object.
 */
struct hr_found {
    int found;
    long n;
};

/* Counts the elements of the array the scanner stands on; 0 or -1. */
static int hr_count(struct js *s, long *n)
{
    long k = 0;
    if (js_array_begin(s) < 0)
        return -1;
    int r;
    while ((r = js_array_next(s)) == 1) {
        if (js_skip(s) < 0)
            return -1;
        k++;
    }
    if (r < 0)
        return -1;
    *n = k;
    return 0;
}

enum hr_key { HR_OTHER, HR_VALUES, HR_DATA, HR_ATTRS, HR_SH, HR_KEYS };

static enum hr_key hr_key_of(const char *key, int top)
{
    if (strcmp(key, "values") == 0)
        return HR_VALUES;
    if (strcmp(key, "data") == 0)
        return HR_DATA;
    if (strcmp(key, "attributes") == 0)
        return HR_ATTRS;
    if (top && strcmp(key, "serviceHistory") == 0)
        return HR_SH;
    return HR_OTHER;
}

/*
 * Reads the object the scanner stands on: *vof gets values_of() of it,
 * *aof values_of() of its "attributes" when that is an object, and *sh
 * (when not NULL) its "serviceHistory" array.  0 or -1.
 */
static int hr_object(struct js *s, struct hr_found *vof,
                     struct hr_found *aof, struct hr_found *sh)
{
    struct hr_found vals = {0, 0}, dv = {0, 0}, da = {0, 0}, unused;
    int seen[HR_KEYS] = {0};
    char key[16];
    aof->found = 0;
    if (js_object_begin(s) < 0)
        return -1;
    int r;
    while ((r = js_object_next(s, key, sizeof(key))) == 1) {
        enum js_type t = js_peek(s);
        enum hr_key k = hr_key_of(key, sh != NULL);
        int first = k != HR_OTHER && !seen[k];
        seen[k] = 1;
        int rc;
        if (first && t == JS_ARRAY && k == HR_VALUES) {
            rc = hr_count(s, &vals.n);
            vals.found = 1;
        } else if (first && t == JS_ARRAY && k == HR_SH) {
            rc = hr_count(s, &sh->n);
            sh->found = 1;
        } else if (first && t == JS_OBJECT && k == HR_DATA) {
            rc = hr_object(s, &dv, &da, NULL);
        } else if (first && t == JS_OBJECT && k == HR_ATTRS) {
            rc = hr_object(s, aof, &unused, NULL);
        } else {
            rc = js_skip(s);
        }
        if (rc < 0)
            return -1;
    }
    if (r < 0)
        return -1;
    *vof = vals.found ? vals : dv.found ? dv : da;
    return 0;
}

int sc_history_records(const char *body, size_t len, long *count)
{
    struct js s;
    js_init(&s, body ? body : "", body ? len : 0);
    struct hr_found res = {0, 0};
    enum js_type t = js_peek(&s);
    int rc = 0;
    if (t == JS_ARRAY) {
        rc = hr_count(&s, &res.n);
        res.found = 1;
    } else if (t == JS_OBJECT) {
        struct hr_found vof, aof, sh = {0, 0};
        rc = hr_object(&s, &vof, &aof, &sh);
        res = sh.found ? sh : vof;
    } else {
        rc = js_skip(&s);
    }
    if (rc < 0 || js_finish(&s) < 0)
        return -1;
    if (!res.found)
        return 0;
    *count = res.n;
    return 1;
}
