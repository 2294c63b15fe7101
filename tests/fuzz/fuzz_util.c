/*
 * fuzz_util — the helpers of fuzz.h, linked into every target.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* The scratch files made so far, removed at exit. */
static char made[4][256];

static void remove_scratch(void)
{
    for (int i = 0; i < 4; i++) {
        if (made[i][0])
            remove(made[i]);
    }
}

static void remember(const char *path)
{
    static int registered;
    for (int i = 0; i < 4; i++) {
        if (strcmp(made[i], path) == 0)
            return;
        if (!made[i][0]) {
            snprintf(made[i], sizeof(made[i]), "%s", path);
            break;
        }
    }
    if (!registered)
        registered = atexit(remove_scratch) == 0;
}

const char *fuzz_scratch(const char *suffix, const uint8_t *data,
                         size_t size)
{
    static char path[256];
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                      : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof(path), "%s/svcscore-fuzz-%ld%s", dir,
             (long)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    remember(path);
    return path;
}

int fuzz_csv_safe(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ',' || c == '"' || c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}
