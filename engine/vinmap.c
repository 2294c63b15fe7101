/* vinmap — VIN -> fixed-size value, open addressing. */
#include "vinmap.h"

#include <stdlib.h>
#include <string.h>

#define VINMAP_MIN_CAP 64

struct vinmap {
    char (*key)[VINMAP_KEY_MAX + 1];   /* "" = empty slot */
    unsigned char *val;                /* cap * size bytes */
    size_t size;
    size_t cap;                        /* a power of two */
    size_t n;
};

/* The slot of key, or the empty slot where it would go. */
static size_t probe(const struct vinmap *m, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)eng_fnv(ENG_FNV_BASIS, key, len) & mask;
    while (m->key[i][0] && strcmp(m->key[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

static int grow(struct vinmap *m, size_t cap)
{
    struct vinmap next = *m;
    next.cap = cap;
    next.key = calloc(cap, sizeof(*next.key));
    next.val = calloc(cap, m->size);
    if (!next.key || !next.val) {
        free(next.key);
        free(next.val);
        return ENG_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->key[i][0])
            continue;
        size_t j = probe(&next, m->key[i], strlen(m->key[i]));
        memcpy(next.key[j], m->key[i], sizeof(next.key[j]));
        memcpy(next.val + j * m->size, m->val + i * m->size, m->size);
    }
    free(m->key);
    free(m->val);
    *m = next;
    return ENG_OK;
}

struct vinmap *vinmap_new(size_t value_size, struct eng_err *err)
{
    struct vinmap *m = calloc(1, sizeof(*m));
    if (m) {
        m->size = value_size ? value_size : 1;
        if (grow(m, VINMAP_MIN_CAP) == ENG_OK)
            return m;
        free(m);
    }
    eng_err_set(err, ENG_ENOMEM, "out of memory");
    return NULL;
}

void vinmap_free(struct vinmap *m)
{
    if (!m)
        return;
    free(m->key);
    free(m->val);
    free(m);
}

void *vinmap_get(const struct vinmap *m, const char *vin)
{
    size_t len = strlen(vin);
    if (len == 0 || len > VINMAP_KEY_MAX)
        return NULL;
    size_t i = probe(m, vin, len);
    return m->key[i][0] ? m->val + i * m->size : NULL;
}

void *vinmap_put(struct vinmap *m, const char *vin, int *added,
                 struct eng_err *err)
{
    size_t len = strlen(vin);
    if (len == 0 || len > VINMAP_KEY_MAX) {
        eng_err_set(err, ENG_EDATA, "'%.40s' cannot be a VIN (%zu "
                    "characters)", vin, len);
        return NULL;
    }
    size_t i = probe(m, vin, len);
    if (m->key[i][0]) {
        if (added)
            *added = 0;
        return m->val + i * m->size;
    }
    if (2 * (m->n + 1) > m->cap) {
        if (grow(m, m->cap * 2) < 0) {
            eng_err_set(err, ENG_ENOMEM, "out of memory");
            return NULL;
        }
        i = probe(m, vin, len);
    }
    memcpy(m->key[i], vin, len + 1);
    m->n++;
    if (added)
        *added = 1;
    return m->val + i * m->size;
}

size_t vinmap_count(const struct vinmap *m)
{
    return m->n;
}
