/* metrics — Prometheus text format, written atomically. */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

/* Takes b back to len bytes, keeping its NUL (a failed append's undo). */
static void cut(struct buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

static int name_ok(const char *s, int colon)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                    || *p == '_' || (colon && *p == ':');
        int digit = *p >= '0' && *p <= '9';
        if (!alpha && !(digit && p != s))
            return 0;
    }
    return 1;
}

/* Help text escapes backslash and newline; label values also quotes. */
static int escaped(struct buf *b, const char *s, int quotes,
                   struct eng_err *err)
{
    int rc = ENG_OK;
    for (const char *p = s ? s : ""; rc == ENG_OK && *p; p++) {
        if (*p == '\\')
            rc = buf_adds(b, "\\\\", err);
        else if (*p == '\n')
            rc = buf_adds(b, "\\n", err);
        else if (*p == '"' && quotes)
            rc = buf_adds(b, "\\\"", err);
        else
            rc = buf_add(b, p, 1, err);
    }
    return rc;
}

int metrics_family(struct buf *b, const char *name, const char *type,
                   const char *help, struct eng_err *err)
{
    if (!name_ok(name, 1) || !name_ok(type, 0))
        return eng_err_set(err, ENG_EUSAGE, "invalid metric name '%s'",
                           name ? name : "");
    size_t start = b->len;
    int rc = buf_printf(b, err, "# HELP %s ", name);
    if (rc == ENG_OK)
        rc = escaped(b, help, 0, err);
    if (rc == ENG_OK)
        rc = buf_printf(b, err, "\n# TYPE %s %s\n", name, type);
    if (rc < 0)
        cut(b, start);
    return rc;
}

int metrics_sample(struct buf *b, const char *name, const char *label,
                   const char *value, double v, struct eng_err *err)
{
    if (!name_ok(name, 1))
        return eng_err_set(err, ENG_EUSAGE, "invalid metric name '%s'",
                           name ? name : "");
    if (label && !name_ok(label, 0))
        return eng_err_set(err, ENG_EUSAGE, "invalid label name '%s'",
                           label);
    size_t start = b->len;
    int rc = buf_adds(b, name, err);
    if (rc == ENG_OK && label) {
        rc = buf_printf(b, err, "{%s=\"", label);
        if (rc == ENG_OK)
            rc = escaped(b, value, 1, err);
        if (rc == ENG_OK)
            rc = buf_adds(b, "\"}", err);
    }
    if (rc == ENG_OK) {
        if (isnan(v))
            rc = buf_adds(b, " NaN\n", err);
        else if (isinf(v))
            rc = buf_adds(b, v > 0 ? " +Inf\n" : " -Inf\n", err);
        else if (v == floor(v) && fabs(v) <= 9007199254740992.0)
            rc = buf_printf(b, err, " %.0f\n", v);
        else
            rc = buf_printf(b, err, " %.17g\n", v);
    }
    if (rc < 0)
        cut(b, start);
    return rc;
}

int metrics_write(const char *path, const struct buf *b, struct eng_err *err)
{
    struct out_file *o = out_open(path, err);
    if (!o)
        return err ? err->code : ENG_EIO;
    int rc = out_write(o, b->data ? b->data : "", b->len, err);
    if (rc < 0) {
        out_abort(o);
        return rc;
    }
    return out_commit(o, err);
}

int metrics_read_value(const char *path, const char *name, double *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = strlen(name);
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, name, n) != 0 || line[n] != ' ')
            continue;
        char *end;
        double v = strtod(line + n + 1, &end);
        if (end != line + n + 1 && (*end == '\n' || *end == ' '
                                    || *end == '\0') && isfinite(v)) {
            *out = v;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static long tally_find(const struct metrics_tally *t, const char *k)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->e[i].key, k) == 0)
            return (long)i;
    }
    return -1;
}

void metrics_tally_add(struct metrics_tally *t, const char *key,
                       unsigned long count)
{
    const char *k = key && strlen(key) < METRICS_KEY_LEN ? key : "other";
    long i = tally_find(t, k);
    if (i < 0 && t->n + 1 >= METRICS_TALLY_MAX) {
        /* the last slot is kept for "other" */
        k = "other";
        i = tally_find(t, k);
    }
    if (i < 0) {
        i = (long)t->n++;
        snprintf(t->e[i].key, METRICS_KEY_LEN, "%s", k);
        t->e[i].count = 0;
    }
    t->e[i].count += count;
}

void metrics_error_type(const char *status, char *out, size_t n)
{
    if (n == 0)
        return;
    out[0] = '\0';
    if (!status || strncmp(status, "error", 5) != 0)
        return;
    const char *p = status[5] == ':' ? status + 6 : status + 5;
    size_t len = strcspn(p, ":");
    if (len == 0) {
        snprintf(out, n, "UNKNOWN");
        return;
    }
    if (len >= n)
        len = n - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}
