/* manifest — OUT.manifest.json (manifest.h). */
#include "manifest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "out.h"

static void num(cJSON *o, const char *k, double v)
{
    cJSON_AddItemToObject(o, k, isfinite(v) ? cJSON_CreateNumber(v)
                                            : cJSON_CreateNull());
}

static void str(cJSON *o, const char *k, const char *v)
{
    cJSON_AddItemToObject(o, k, v ? cJSON_CreateString(v)
                                  : cJSON_CreateNull());
}

static void api(cJSON *o, const struct runsum *s)
{
    const struct sc_stats *a = &s->api;
    cJSON *p = cJSON_AddObjectToObject(o, "api");
    if (!p)
        return;
    num(p, "requests", (double)a->requests);
    num(p, "history_requests", (double)a->history_requests);
    num(p, "list_requests", (double)a->list_requests);
    num(p, "vin_requests", (double)a->vin_requests);
    num(p, "retries", (double)a->retries);
    cJSON *r = cJSON_AddObjectToObject(p, "retries_by_cause");
    if (r) {
        num(r, "rate_limit_vehicle", (double)a->retry_rate_vehicle);
        num(r, "rate_limit_app", (double)a->retry_rate_app);
        num(r, "server", (double)a->retry_server);
        num(r, "vehicle_state", (double)a->retry_vehicle_state);
        num(r, "retry_later", (double)a->retry_later);
        num(r, "network", (double)a->retry_network);
        num(r, "timeout", (double)a->retry_timeout);
        num(r, "bad_body", (double)a->retry_parse);
    }
    num(p, "refreshes", (double)a->refreshes);
    num(p, "refresh_failures", (double)a->refresh_failures);
    num(p, "paused_seconds", a->paused_seconds);
    num(p, "bytes", (double)a->bytes);
    num(p, "wire_bytes", (double)a->wire_bytes);
    num(p, "fetch_seconds", s->fetch_s);
    num(p, "rows_resumed", (double)s->resumed);
    num(p, "rows_fetched", (double)s->fetched);
}

char *manifest_json(const struct runsum *s, struct eng_err *err)
{
    const struct runsum_acc *r = &s->rows;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        goto nomem;
    num(o, "manifest_format", 1);
    str(o, "command", s->command);
    str(o, "svcscore_version", s->version);
    str(o, "model_id", s->model_id);
    str(o, "as_of", s->as_of[0] ? s->as_of : NULL);
    str(o, "started", s->started);
    num(o, "duration_seconds", s->duration_s);
    num(o, "exit_code", s->exit_code);
    str(o, "output", s->out_path);
    cJSON *in = cJSON_AddArrayToObject(o, "inputs");
    for (size_t i = 0; in && i < s->n_inputs; i++) {
        const struct runsum_input *p = &s->inputs[i];
        cJSON *e = cJSON_CreateObject();
        if (!e)
            goto nomem;
        cJSON_AddItemToArray(in, e);
        str(e, "role", p->role);
        str(e, "path", p->path);
        num(e, "bytes", p->size >= 0 ? (double)p->size : NAN);
        num(e, "mtime", p->size >= 0 ? (double)p->mtime : NAN);
        str(e, "fingerprint", p->fingerprint);
        str(e, "fingerprint_of", p->method);
    }
    num(o, "rows", (double)r->rows);
    num(o, "ok", (double)r->ok);
    num(o, "no_history", (double)r->no_history);
    num(o, "errors", (double)r->errors);
    cJSON *k = cJSON_AddObjectToObject(o, "errors_by_status");
    for (size_t i = 0; k && i < r->n_kinds; i++)
        num(k, r->kinds[i].name, (double)r->kinds[i].n);
    if (k && r->other_errors)
        num(k, "other", (double)r->other_errors);
    if (s->has_scores) {
        cJSON *b = cJSON_AddObjectToObject(o, "bands");
        for (int i = 0; b && i < 5; i++) {
            char name[2] = {(char)('A' + i), '\0'};
            num(b, name, (double)r->bands[i]);
        }
    }
    if (s->has_api)
        api(o, s);
    else
        cJSON_AddNullToObject(o, "api");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        goto nomem;
    return text;
nomem:
    cJSON_Delete(o);
    eng_err_set(err, ENG_ENOMEM, "out of memory for the manifest");
    return NULL;
}

int manifest_write(const char *path, const struct runsum *s,
                   struct eng_err *err)
{
    char *text = manifest_json(s, err);
    if (!text)
        return ENG_ENOMEM;
    struct out_file *f = out_open(path, err);
    int rc = f ? ENG_OK : ENG_EIO;
    if (rc == ENG_OK)
        rc = out_write(f, text, strlen(text), err);
    if (rc == ENG_OK)
        rc = out_write(f, "\n", 1, err);
    if (rc == ENG_OK)
        rc = out_commit(f, err);
    else
        out_abort(f);
    free(text);
    return rc;
}
