/*
 * fuzz_model — a model file (model_load), then scoring with it.
 *
 * Invariants: a refused file fails with a code model.h names; a loaded
 * model scores any vehicle (features missing, zero, small, huge, negative)
 * in 1..999 with a band A..E and at most MODEL_MAX_REASONS reasons, each
 * more than MODEL_REASON_MIN_POINTS below the baseline, largest first,
 * NUL-terminated; model_score_of() stays in 1..999 for any relativity;
 * a saved model loads again and scores every vehicle the same.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feat.h"
#include "fuzz.h"
#include "model.h"

#define N_VECS 5

static void vectors(struct feat_vec *v, const uint8_t *data, size_t size)
{
    static const double fill[] = {0, 1, -1, 1e9};
    for (int k = 0; k < N_VECS; k++) {
        memset(&v[k], 0, sizeof(v[k]));
        for (int i = 0; i < FEAT_COUNT; i++) {
            if (k == 0) {
                v[k].v[i] = NAN;
            } else if (k < 4) {
                v[k].v[i] = fill[k];
            } else {
                /* a mix taken from the input's bytes */
                uint8_t b = size ? data[(size_t)i * 7 % size] : 0;
                v[k].v[i] = b % 5 == 0 ? NAN : (double)(b % 37) * 0.5;
            }
        }
        v[k].first_day = v[k].last_day = 19000;
        v[k].last_km = k == 0 ? NAN : 50000;
        snprintf(v[k].currency, sizeof(v[k].currency), "%s",
                 k % 2 ? "EUR" : "");
    }
}

static void check_result(const struct model_result *r)
{
    FUZZ_CHECK(r->score >= 1 && r->score <= 999);
    FUZZ_CHECK(r->band >= 'A' && r->band <= 'E');
    FUZZ_CHECK(r->n_reasons >= 0 && r->n_reasons <= MODEL_MAX_REASONS);
    for (int k = 0; k < r->n_reasons; k++) {
        FUZZ_CHECK(r->reasons[k].points > MODEL_REASON_MIN_POINTS);
        FUZZ_CHECK(k == 0 || r->reasons[k].points <= r->reasons[k - 1].points);
        FUZZ_CHECK(memchr(r->reasons[k].text, '\0', MODEL_REASON_LEN));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eng_err err = {0};
    struct model *m = model_load(fuzz_scratch(".json", data, size), &err);
    if (!m) {
        FUZZ_CHECK(err.code == ENG_EIO || err.code == ENG_ELIMIT
                   || err.code == ENG_EJSON || err.code == ENG_EDATA
                   || err.code == ENG_ENOMEM);
        FUZZ_CHECK(err.msg[0]);
        return 0;
    }
    FUZZ_CHECK(memchr(model_id(m), '\0', 24));
    FUZZ_CHECK(model_mean_frequency(m) > 0);
    static const double rel[] = {0, 1e-300, 0.5, 1, 2, 1e300, INFINITY, NAN,
                                 -1};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        int s = model_score_of(m, rel[i]);
        FUZZ_CHECK(s >= 1 && s <= 999);
    }
    struct feat_vec v[N_VECS];
    vectors(v, data, size);
    struct model_result res[N_VECS][2];
    static const char *const makes[2] = {NULL, "TOYOTA"};
    for (int k = 0; k < N_VECS; k++) {
        for (int j = 0; j < 2; j++) {
            model_score(m, &v[k], makes[j], &res[k][j]);
            check_result(&res[k][j]);
            double eta = model_eta(m, &v[k], makes[j]);
            FUZZ_CHECK(eta == res[k][j].eta
                       || (isnan(eta) && isnan(res[k][j].eta)));
        }
    }

    /* what it saves, it loads again, and scores the same */
    const char *path = fuzz_scratch(".saved.json", NULL, 0);
    char saved[256];
    snprintf(saved, sizeof(saved), "%s", path);
    FUZZ_CHECK(model_save(m, saved, &err) == ENG_OK);
    struct model *m2 = model_load(saved, &err);
    FUZZ_CHECK(m2 != NULL);
    FUZZ_CHECK(strcmp(model_id(m), model_id(m2)) == 0);
    for (int k = 0; k < N_VECS; k++) {
        for (int j = 0; j < 2; j++) {
            struct model_result r2;
            model_score(m2, &v[k], makes[j], &r2);
            FUZZ_CHECK(r2.score == res[k][j].score);
            FUZZ_CHECK(r2.band == res[k][j].band);
            FUZZ_CHECK(r2.n_reasons == res[k][j].n_reasons);
        }
    }
    remove(saved);
    model_free(m2);
    model_free(m);
    return 0;
}
