/*
 * fuzz_envelope — an API answer as the client sees it: the status line and
 * header lines (SC-Request-Id, SC-Unit-System, Retry-After, Content-Type)
 * up to an empty line, then the body, read as an error envelope
 * (sc_parse_envelope), turned into a row status (sc_error_status) and a
 * retry decision (sc_decide), and judged as a history (sc_history_records).
 *
 * Invariants: header values have no surrounding blanks and fit their
 * buffers; cleaned ids keep only [A-Za-z0-9_.-]; a Retry-After means -1
 * or a non-negative number of seconds (under 1e7 when given as seconds);
 * the envelope's type, code, request id and resolution are safe tokens
 * (type and code upper case), its description printable ASCII, its status
 * 0..999, its shape NONE exactly for an empty body; every status string
 * starts with "error:" (or is "ok" for a 2xx), fits SC_STATUS_LEN and
 * holds no comma, quote or line break; the verdict and cause are known
 * values, and a wait is asked for only with a delay the server gave.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/sc_internal.h"
#include "fuzz.h"

static int safe_token(const char *s, size_t cap, int upper)
{
    if (!memchr(s, '\0', cap))
        return 0;
    for (; *s; s++) {
        char c = *s;
        int ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                 || c == '_' || c == '.' || c == '-'
                 || (!upper && c >= 'a' && c <= 'z');
        if (!ok)
            return 0;
    }
    return 1;
}

static void check_status(const char *st)
{
    FUZZ_CHECK(memchr(st, '\0', SC_STATUS_LEN));
    FUZZ_CHECK(strncmp(st, "error:", 6) == 0 || strcmp(st, "ok") == 0);
    FUZZ_CHECK(fuzz_csv_safe(st));
}

/* One header line as the client's header callback handles it. */
static void header(const char *line, size_t len, char *retry, char *ctype,
                   char *request_id, char *unit)
{
    char v[96];
    /* libcurl refuses a header line with a NUL byte ("Nul byte in
     * header") before the callback sees it */
    if (memchr(line, '\0', len))
        return;
    if (sc_header_value(line, len, "sc-request-id", v, sizeof(v))) {
        sc_clean_token(v, request_id, 72, 0);
        FUZZ_CHECK(safe_token(request_id, 72, 0));
    } else if (sc_header_value(line, len, "sc-unit-system", v, sizeof(v))) {
        sc_clean_token(v, unit, 16, 0);
        FUZZ_CHECK(safe_token(unit, 16, 0));
    } else if (sc_header_value(line, len, "retry-after", retry, 64)) {
        /* kept raw */
    } else if (sc_header_value(line, len, "content-type", ctype, 128)) {
        /* kept raw */
    } else {
        return;
    }
    const char *vals[] = {retry, ctype};
    const size_t caps[] = {64, 128};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(vals[i]);
        FUZZ_CHECK(n < caps[i]);
        /* a value cut to its buffer may end where a blank was */
        if (n == 0 || n == caps[i] - 1)
            continue;
        char a = vals[i][0], z = vals[i][n - 1];
        FUZZ_CHECK(a != ' ' && a != '\t');
        FUZZ_CHECK(z != ' ' && z != '\t' && z != '\r' && z != '\n');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    long http = 0;
    char retry[64] = "", ctype[128] = "", request_id[72] = "", unit[16] = "";
    int token_endpoint = size % 2;
    int first = 1;
    /* the head: lines up to an empty one */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (len <= 2 && (p[0] == '\n' || (p[0] == '\r' && len == 2))) {
            p += len;
            break;
        }
        if (first && len >= 12 && strncmp(p, "HTTP/", 5) == 0) {
            const char *sp = memchr(p, ' ', len);
            for (const char *q = sp ? sp + 1 : end;
                 q < p + len && q < sp + 4 && *q >= '0' && *q <= '9'; q++)
                http = http * 10 + (*q - '0');
        } else {
            header(p, len, retry, ctype, request_id, unit);
        }
        first = 0;
        p += len;
    }
    const char *body = p;
    size_t blen = (size_t)(end - p);

    double ra = sc_parse_retry_after(retry, 1700000000);
    FUZZ_CHECK(ra == -1 || ra >= 0);
    FUZZ_CHECK(ra <= SC_RETRY_AFTER_MAX);

    struct sc_envelope env;
    memset(&env, 0x55, sizeof(env));
    sc_parse_envelope(blen ? body : NULL, blen, ctype[0] ? ctype : NULL,
                      &env);
    FUZZ_CHECK((env.shape == SC_SHAPE_NONE) == (blen == 0));
    FUZZ_CHECK(env.shape >= SC_SHAPE_NONE && env.shape <= SC_SHAPE_TEXT);
    FUZZ_CHECK(safe_token(env.type, sizeof(env.type), 1));
    FUZZ_CHECK(safe_token(env.code, sizeof(env.code), 1));
    FUZZ_CHECK(safe_token(env.request_id, sizeof(env.request_id), 0));
    FUZZ_CHECK(safe_token(env.resolution, sizeof(env.resolution), 1));
    FUZZ_CHECK(memchr(env.description, '\0', sizeof(env.description)));
    for (const char *d = env.description; *d; d++)
        FUZZ_CHECK(*d >= 0x20 && *d < 0x7f);
    FUZZ_CHECK(env.status >= 0 && env.status < 1000);
    if (env.shape == SC_SHAPE_NONE || env.shape == SC_SHAPE_TEXT)
        FUZZ_CHECK(!env.type[0] && !env.code[0]);

    char st[SC_STATUS_LEN];
    sc_error_status(&env, http, st, sizeof(st));
    check_status(st);
    FUZZ_CHECK(strncmp(st, "error:", 6) == 0);

    struct sc_outcome o = {0};
    o.http_status = http;
    o.env = &env;
    o.retry_after = ra;
    o.token_endpoint = token_endpoint;
    struct sc_decision d;
    sc_decide(&o, &d);
    FUZZ_CHECK(d.verdict >= SC_V_OK && d.verdict <= SC_V_REAUTH);
    FUZZ_CHECK(d.cause >= SC_CAUSE_NONE && d.cause < SC_CAUSE_COUNT);
    check_status(d.status);
    FUZZ_CHECK((d.verdict == SC_V_OK) == (http >= 200 && http < 300));
    if (d.verdict == SC_V_RETRY_AFTER)
        FUZZ_CHECK(d.delay >= 0 && d.delay == ra);
    if (d.verdict != SC_V_RETRY_AFTER && d.verdict != SC_V_PAUSE
        && d.cause != SC_CAUSE_RATE_VEHICLE)
        FUZZ_CHECK(d.delay == -1);
    if (token_endpoint)
        FUZZ_CHECK(d.verdict != SC_V_REAUTH);
    FUZZ_CHECK(strcmp(sc_cause_name(d.cause), "") != 0);

    long count = -7;
    int h = sc_history_records(body, blen, &count);
    FUZZ_CHECK(h == -1 || h == 0 || h == 1);
    if (h == 1)
        FUZZ_CHECK(count >= 0 && (size_t)count <= blen);
    else
        FUZZ_CHECK(count == -7);
    return 0;
}
