/*
 * fuzz_gzip — a gzip answer body as the client decodes it
 * (sc_xfer_on_body with Content-Encoding: gzip), arriving in pieces.
 *
 * The first two bytes choose the decoded-size cap (256 B .. 64 KiB) and
 * the piece size; the rest is the body.  Invariants: the body never
 * passes the cap and is NUL-terminated; the outcome (whole, too big, or
 * refused) and a whole body's bytes do not depend on how the bytes were
 * cut (which of "damaged" and "cut short" a refused body gets may: zlib
 * finds some damage only once it has more input); a body that zlib
 * decodes whole within the cap ends with exactly zlib's bytes; one it
 * cannot decode never counts as whole; the decoders go back to the pool.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/sc_internal.h"
#include "fuzz.h"

enum { REFUSED, WHOLE, TOO_BIG };

struct outcome {
    char *body;
    size_t len;
    int enc, too_big, stopped, held;
    int verdict;                /* what the client makes of it at the end */
};

static void feed(size_t cap, const uint8_t *data, size_t size, size_t piece,
                 struct outcome *o)
{
    struct sc_client sc;
    struct sc_slot s;
    memset(&sc, 0, sizeof(sc));
    memset(&s, 0, sizeof(s));
    sc.cfg.max_body = cap;
    s.sc = &sc;
    s.enc = SC_ENC_GZIP;
    memset(o, 0, sizeof(*o));
    char *copy = fuzz_strndup(data, size);
    for (size_t at = 0; at < size && !o->stopped; at += piece) {
        size_t k = size - at < piece ? size - at : piece;
        if (sc_xfer_on_body(copy + at, 1, k, &s) != k)
            o->stopped = 1;
        FUZZ_CHECK(s.body.len <= cap);
        FUZZ_CHECK(!s.body.p || s.body.p[s.body.len] == '\0');
    }
    free(copy);
    o->enc = s.enc;
    o->too_big = s.too_big;
    o->held = s.inf != NULL;
    o->verdict = s.too_big ? TOO_BIG
                 : sc_xfer_body_result(&s, CURLE_OK) == CURLE_OK ? WHOLE
                 : REFUSED;
    o->len = s.body.len;
    o->body = s.body.p;
    s.body.p = NULL;
    sc_xfer_reset(&s);          /* gives a held decoder back */
    FUZZ_CHECK(s.inf == NULL);
    FUZZ_CHECK(!o->held || sc.inflaters != NULL);
    sc_xfer_free_inflaters(&sc);
    FUZZ_CHECK(sc.inflaters == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t cap = (size_t)256 << (data[0] % 9);     /* 256 B .. 64 KiB */
    size_t piece = 1 + data[1] * 7u;
    data += 2;
    size -= 2;

    struct outcome whole, cut;
    feed(cap, data, size, size ? size : 1, &whole);
    feed(cap, data, size, piece, &cut);
    int v = whole.verdict;
    FUZZ_CHECK(v == cut.verdict);
    if (v == WHOLE) {
        FUZZ_CHECK(whole.len == cut.len);
        FUZZ_CHECK(whole.len == 0
                   || memcmp(whole.body, cut.body, whole.len) == 0);
    }
    FUZZ_CHECK(!whole.too_big || whole.stopped);
    FUZZ_CHECK(!cut.too_big || cut.stopped);
    FUZZ_CHECK(whole.enc != SC_ENC_DONE || !whole.held);

    /* zlib's own one-shot decode of the same bytes, one byte past the cap */
    unsigned char *ref = malloc(cap + 1);
    FUZZ_CHECK(ref != NULL);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    FUZZ_CHECK(inflateInit2(&zs, 15 + 16) == Z_OK);
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)size;
    zs.next_out = ref;
    zs.avail_out = (uInt)(cap + 1);
    int zrc = inflate(&zs, Z_FINISH);
    size_t rlen = zs.total_out;
    int ended_whole = zrc == Z_STREAM_END && zs.avail_in == 0;
    inflateEnd(&zs);
    if (ended_whole && rlen <= cap && size > 0) {
        /* a good body within the cap: ended, and exactly zlib's bytes */
        FUZZ_CHECK(whole.enc == SC_ENC_DONE);
        FUZZ_CHECK(v == WHOLE);
        FUZZ_CHECK(whole.len == rlen);
        FUZZ_CHECK(rlen == 0 || memcmp(whole.body, ref, rlen) == 0);
    }
    if (zrc != Z_STREAM_END && zrc != Z_BUF_ERROR && zrc != Z_OK)
        FUZZ_CHECK(v != WHOLE || size == 0);    /* damage never ends well */
    if (!ended_whole && size > 0)
        FUZZ_CHECK(v != WHOLE);     /* nor does a stream that never ends */
    if (rlen > cap)
        FUZZ_CHECK(v != WHOLE);
    free(ref);
    free(whole.body);
    free(cut.body);
    return 0;
}
