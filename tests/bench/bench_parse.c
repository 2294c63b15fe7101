/*
 * bench-parse — the parse-only baseline of 'make bench': reads a JSONL
 * bundle line by line and parses each line with cJSON, nothing else.
 * Prints lines, bytes and seconds on one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench-parse FILE.jsonl\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t lines = 0, bytes = 0, bad = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        cJSON *root = cJSON_ParseWithLength(line, (size_t)n);
        if (!root)
            bad++;
        cJSON_Delete(root);
        lines++;
        bytes += (size_t)n;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(line);
    fclose(f);
    double s = (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("lines %zu bytes %zu seconds %.3f unparsed %zu\n", lines, bytes,
           s, bad);
    return 0;
}
