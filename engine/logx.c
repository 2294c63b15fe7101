/* logx — log and progress lines, formatted (never printed) here. */
#include "logx.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Takes b back to len bytes, keeping its NUL (a failed append's undo). */
static void cut(struct buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

const char *logx_level_name(enum logx_level level)
{
    switch (level) {
    case LOGX_DEBUG: return "debug";
    case LOGX_WARN: return "warning";
    case LOGX_ERROR: return "error";
    default: return "info";
    }
}

void logx_timestamp(double t, char out[LOGX_TS_LEN])
{
    if (!isfinite(t) || t < 0)
        t = 0;
    time_t secs = (time_t)t;
    unsigned ms = (unsigned)((t - (double)secs) * 1000.0) % 1000u;
    struct tm tm;
    if (!gmtime_r(&secs, &tm))
        memset(&tm, 0, sizeof(tm));
    char day[16];
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    snprintf(out, LOGX_TS_LEN, "%.10sT%02u:%02u:%02u.%03uZ", day,
             (unsigned)tm.tm_hour % 24u, (unsigned)tm.tm_min % 60u,
             (unsigned)tm.tm_sec % 61u, ms);
}

int logx_json_str(struct buf *b, const char *s, struct eng_err *err)
{
    size_t start = b->len;
    int rc = buf_add(b, "\"", 1, err);
    for (const unsigned char *p = (const unsigned char *)s;
         rc == ENG_OK && p && *p; p++) {
        switch (*p) {
        case '"': rc = buf_adds(b, "\\\"", err); break;
        case '\\': rc = buf_adds(b, "\\\\", err); break;
        case '\n': rc = buf_adds(b, "\\n", err); break;
        case '\r': rc = buf_adds(b, "\\r", err); break;
        case '\t': rc = buf_adds(b, "\\t", err); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                rc = buf_printf(b, err, "\\u%04x", *p);
            else
                rc = buf_add(b, p, 1, err);
        }
    }
    if (rc == ENG_OK)
        rc = buf_add(b, "\"", 1, err);
    if (rc < 0)
        cut(b, start);
    return rc;
}

/* A number JSON can hold: finite, printed compactly; null otherwise. */
static int json_num(struct buf *b, double v, struct eng_err *err)
{
    if (!isfinite(v))
        return buf_adds(b, "null", err);
    return buf_printf(b, err, "%.6g", v);
}

static int add_fields(struct buf *b, const struct logx_field *f, size_t n,
                      struct eng_err *err)
{
    int rc = ENG_OK;
    for (size_t i = 0; rc == ENG_OK && i < n; i++) {
        rc = buf_printf(b, err, ",\"%s\":", f[i].key);
        if (rc < 0)
            break;
        switch (f[i].type) {
        case LOGX_STR:
            rc = f[i].s ? logx_json_str(b, f[i].s, err)
                        : buf_adds(b, "null", err);
            break;
        case LOGX_INT:
            rc = buf_printf(b, err, "%lld", f[i].i);
            break;
        case LOGX_NUM:
            rc = json_num(b, f[i].d, err);
            break;
        }
    }
    return rc;
}

int logx_line(struct buf *b, enum logx_format fmt, double t,
              enum logx_level level, const char *event, const char *msg,
              const struct logx_field *fields, size_t n,
              struct eng_err *err)
{
    char ts[LOGX_TS_LEN];
    logx_timestamp(t, ts);
    size_t start = b->len;
    int rc;
    if (fmt == LOGX_TEXT) {
        rc = buf_printf(b, err, "%s svcscore: ", ts);
        if (rc == ENG_OK && level >= LOGX_WARN)
            rc = buf_printf(b, err, "%s: ", logx_level_name(level));
        if (rc == ENG_OK && msg) {
            /* one line per entry, whatever the message holds */
            size_t m = b->len;
            rc = buf_adds(b, msg, err);
            for (size_t i = m; rc == ENG_OK && i < b->len; i++) {
                if (b->data[i] == '\n' || b->data[i] == '\r')
                    b->data[i] = ' ';
            }
        }
    } else {
        rc = buf_printf(b, err, "{\"ts\":\"%s\",\"level\":\"%s\","
                        "\"event\":", ts, logx_level_name(level));
        if (rc == ENG_OK)
            rc = logx_json_str(b, event ? event : "log", err);
        if (rc == ENG_OK && msg) {
            rc = buf_adds(b, ",\"msg\":", err);
            if (rc == ENG_OK)
                rc = logx_json_str(b, msg, err);
        }
        if (rc == ENG_OK)
            rc = add_fields(b, fields, n, err);
        if (rc == ENG_OK)
            rc = buf_adds(b, "}", err);
    }
    if (rc == ENG_OK)
        rc = buf_adds(b, "\n", err);
    if (rc < 0)
        cut(b, start);
    return rc;
}

double logx_rate(const struct logx_progress *p)
{
    if (p->elapsed <= 0 || p->done < p->start)
        return 0;
    return (double)(p->done - p->start) / p->elapsed;
}

double logx_eta(const struct logx_progress *p)
{
    double rate = logx_rate(p);
    if (!p->total || rate <= 0)
        return -1;
    if (p->done >= p->total)
        return 0;
    return (double)(p->total - p->done) / rate;
}

void logx_duration(double s, char *out, size_t n)
{
    if (s < 0 || !isfinite(s)) {
        snprintf(out, n, "?");
        return;
    }
    long v = (long)(s + 0.5);
    if (v < 60)
        snprintf(out, n, "%lds", v);
    else if (v < 3600)
        snprintf(out, n, "%ldm%02lds", v / 60, v % 60);
    else
        snprintf(out, n, "%ldh%02ldm", v / 3600, (v % 3600) / 60);
}

/* The figures shared by the line and terminal forms. */
static int figures(struct buf *b, const struct logx_progress *p, int final,
                   struct eng_err *err)
{
    int rc;
    if (p->total)
        rc = buf_printf(b, err, "%s: %zu/%zu rows (%.0f%%)", p->command,
                        p->done, p->total,
                        100.0 * (double)p->done / (double)p->total);
    else
        rc = buf_printf(b, err, "%s: %zu rows", p->command, p->done);
    if (rc == ENG_OK)
        rc = buf_printf(b, err, ", %zu ok, %zu errors, %.1f rows/s", p->ok,
                        p->errors, logx_rate(p));
    if (rc == ENG_OK && p->has_api)
        rc = buf_printf(b, err, ", %.1f requests/s, %lu token rotations",
                        p->elapsed > 0 ? (double)p->requests / p->elapsed
                                       : 0.0, p->rotations);
    char d[32];
    if (rc == ENG_OK && final) {
        logx_duration(p->elapsed, d, sizeof(d));
        rc = buf_printf(b, err, ", done in %s", d);
    } else if (rc == ENG_OK) {
        logx_duration(logx_eta(p), d, sizeof(d));
        rc = buf_printf(b, err, ", ETA %s", d);
    }
    return rc;
}

int logx_progress_line(struct buf *b, enum logx_format fmt, double t,
                       const struct logx_progress *p, int final,
                       struct eng_err *err)
{
    struct buf msg;
    buf_init(&msg, 1024);
    int rc = figures(&msg, p, final, err);
    if (rc == ENG_OK) {
        struct logx_field f[] = {
            {"command", LOGX_STR, p->command, 0, 0},
            {"done", LOGX_INT, NULL, (long long)p->done, 0},
            {"total", LOGX_INT, NULL, (long long)p->total, 0},
            {"ok", LOGX_INT, NULL, (long long)p->ok, 0},
            {"errors", LOGX_INT, NULL, (long long)p->errors, 0},
            {"rows_per_second", LOGX_NUM, NULL, 0, logx_rate(p)},
            {"eta_seconds", LOGX_NUM, NULL, 0,
             final ? 0.0 : logx_eta(p) < 0 ? NAN : logx_eta(p)},
            {"elapsed_seconds", LOGX_NUM, NULL, 0, p->elapsed},
            {"requests", LOGX_INT, NULL, (long long)p->requests, 0},
            {"token_rotations", LOGX_INT, NULL, (long long)p->rotations, 0},
        };
        size_t n = sizeof(f) / sizeof(f[0]);
        if (!p->has_api)
            n -= 2;
        rc = logx_line(b, fmt, t, LOGX_INFO, final ? "finished" : "progress",
                       msg.data, f, n, err);
    }
    buf_release(&msg);
    return rc;
}

int logx_progress_tty(struct buf *b, const struct logx_progress *p,
                      struct eng_err *err)
{
    size_t start = b->len;
    int rc = buf_adds(b, "\r", err);
    if (rc == ENG_OK)
        rc = figures(b, p, 0, err);
    if (rc == ENG_OK)
        rc = buf_adds(b, "\033[K", err);
    if (rc < 0)
        cut(b, start);
    return rc;
}
