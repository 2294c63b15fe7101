/*
 * bench-glm — times glm_fit() on a simulated Poisson frequency model with
 * an exposure offset, and checks that it recovers the coefficients.
 *
 *   bin/bench-glm [--rows N] [--threads T] [--seed S] [--csv FILE]
 *
 * Simulates N rows (default 1,000,000) x 20 columns: an intercept and 19
 * features (correlated normals, a three-level factor, binary flags, a model
 * year around 2019 that the fit must centre, log-normal mileage), exposure
 * uniform on [0.1, 1] years, claims ~ Poisson(exposure exp(x beta)).  Fits
 * three times and prints rows, columns, iterations, the median wall time,
 * max |beta_hat - beta| / SE and the coefficients.  --csv FILE also writes
 * the simulated data (features, exposure, claims; %.17g, so the values are
 * exact) for a comparison with R:
 *   d <- read.csv(FILE); glm(claims ~ . - exposure + offset(log(exposure)),
 *                            family = poisson, data = d)
 * This is a standalone program, not a unit test.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "glm.h"

#define P 20

static const char *const NAMES[P] = {
    "intercept", "n1", "n2", "n3", "n4", "n5", "region_b", "region_c",
    "urban", "garage", "diesel", "model_year", "u1", "u2", "u3", "u4",
    "log_km", "log_value", "dealer_share", "late_service"
};

static const double BETA[P] = {
    38.0, 0.10, -0.08, 0.05, 0.12, -0.03, 0.15, -0.10, 0.20, -0.12, 0.07,
    -0.02, 0.25, -0.15, 0.0, 0.05, 0.30, -0.05, -0.40, 0.35
};

struct sim {
    size_t n;
    double *x;
    double *y;
    double *expo;
    double *off;
};

static void sim_free(struct sim *s)
{
    free(s->off);
    free(s->expo);
    free(s->y);
    free(s->x);
}

static int simulate(struct sim *s, size_t n, unsigned long seed)
{
    s->n = n;
    s->x = malloc(n * P * sizeof(double));
    s->y = malloc(n * sizeof(double));
    s->expo = malloc(n * sizeof(double));
    s->off = malloc(n * sizeof(double));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s->x || !s->y || !s->expo || !s->off || !r) {
        gsl_rng_free(r);
        return -1;
    }
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < n; i++) {
        double *x = s->x + i * P;
        double z1 = gsl_ran_gaussian_ziggurat(r, 1.0);
        double z2 = gsl_ran_gaussian_ziggurat(r, 1.0);
        double z3 = gsl_ran_gaussian_ziggurat(r, 1.0);
        x[0] = 1.0;
        x[1] = z1;
        x[2] = 0.7 * z1 + sqrt(1.0 - 0.49) * z2;       /* corr 0.7 */
        x[3] = 0.5 * z1 + 0.5 * z2 + sqrt(0.5) * z3;
        x[4] = gsl_ran_gaussian_ziggurat(r, 1.0);
        x[5] = gsl_ran_gaussian_ziggurat(r, 2.0);
        double reg = gsl_rng_uniform(r);               /* 3-level factor */
        x[6] = reg >= 0.5 && reg < 0.8;
        x[7] = reg >= 0.8;
        x[8] = gsl_rng_uniform(r) < 0.3;
        x[9] = gsl_rng_uniform(r) < 0.6;
        x[10] = gsl_rng_uniform(r) < 0.2 + 0.2 * (x[8] > 0);
        x[11] = 2015.0 + (double)gsl_rng_uniform_int(r, 10);
        x[12] = gsl_rng_uniform(r);
        x[13] = gsl_rng_uniform(r);
        x[14] = gsl_rng_uniform(r);
        x[15] = x[12] * x[13];
        x[16] = -0.2 + gsl_ran_gaussian_ziggurat(r, 0.4); /* log(km/16700) */
        x[17] = gsl_ran_gaussian_ziggurat(r, 0.5) + 0.3 * z1;
        x[18] = gsl_rng_uniform(r) * (0.5 + 0.5 * x[9]);
        x[19] = gsl_rng_uniform(r) < 0.1;
        double expo = 0.1 + 0.9 * gsl_rng_uniform(r);
        double eta = log(expo);
        for (int j = 0; j < P; j++)
            eta += BETA[j] * x[j];
        s->expo[i] = expo;
        s->off[i] = log(expo);
        s->y[i] = (double)gsl_ran_poisson(r, exp(eta));
    }
    gsl_rng_free(r);
    return 0;
}

/*
 * --factors: the rating-factor design.  20 input columns: 18 numeric
 * (n1..n18: normals, uniforms, a skewed mileage), two categorical factors
 * of 20 levels each (f1, f2: L01..L20, L01 the base, unequal shares) and
 * the interaction n1:f1, as R's model matrix of
 *   claims ~ n1 + ... + n18 + f1 + f2 + n1:f1 + offset(log(exposure))
 * builds it: 1 + 18 + 19 + 19 + 19 = 76 design columns.
 */
#define NF 18
#define NLEV 20
#define PF (1 + NF + 3 * (NLEV - 1))

static unsigned char *g_f1, *g_f2;   /* the factors' levels, 0-based */

static double level_effect(int which, int k)
{
    return k == 0 ? 0.0 : (which ? -0.01 : 0.015) * (double)k
                          * (k % 2 ? 1.0 : -0.5);
}

static int pick_level(gsl_rng *r)
{
    /* shares falling with the level: L01 the most frequent */
    double u = gsl_rng_uniform(r);
    int k = (int)(NLEV * u * u);
    return k < NLEV ? k : NLEV - 1;
}

static int simulate_factors(struct sim *s, size_t n, unsigned long seed)
{
    s->n = n;
    s->x = calloc(n * PF, sizeof(double));
    s->y = malloc(n * sizeof(double));
    s->expo = malloc(n * sizeof(double));
    s->off = malloc(n * sizeof(double));
    g_f1 = malloc(n);
    g_f2 = malloc(n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s->x || !s->y || !s->expo || !s->off || !g_f1 || !g_f2 || !r) {
        gsl_rng_free(r);
        return -1;
    }
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < n; i++) {
        double *x = s->x + i * PF;
        x[0] = 1.0;
        double eta = -2.0;
        for (int j = 1; j <= NF; j++) {
            double v = j <= 8 ? gsl_ran_gaussian_ziggurat(r, 1.0)
                       : j <= 16 ? gsl_rng_uniform(r)
                       : gsl_ran_gaussian_ziggurat(r, 0.5) - 0.2;
            x[j] = v;
            eta += 0.02 * (double)((j % 5) - 2) * v;
        }
        int a = pick_level(r), b = pick_level(r);
        g_f1[i] = (unsigned char)a;
        g_f2[i] = (unsigned char)b;
        if (a > 0) {
            x[NF + a] = 1.0;
            x[NF + 2 * (NLEV - 1) + a] = x[1];
        }
        if (b > 0)
            x[NF + (NLEV - 1) + b] = 1.0;
        eta += level_effect(0, a) + level_effect(1, b)
               + 0.01 * (double)(a % 3) * x[1];
        double expo = 0.1 + 0.9 * gsl_rng_uniform(r);
        s->expo[i] = expo;
        s->off[i] = log(expo);
        s->y[i] = (double)gsl_ran_poisson(r, expo * exp(eta));
    }
    gsl_rng_free(r);
    return 0;
}

static void factor_name(int j, char *out, size_t n)
{
    if (j == 0)
        snprintf(out, n, "(Intercept)");
    else if (j <= NF)
        snprintf(out, n, "n%d", j);
    else if (j <= NF + NLEV - 1)
        snprintf(out, n, "f1L%02d", j - NF + 1);
    else if (j <= NF + 2 * (NLEV - 1))
        snprintf(out, n, "f2L%02d", j - NF - (NLEV - 1) + 1);
    else
        snprintf(out, n, "n1:f1L%02d", j - NF - 2 * (NLEV - 1) + 1);
}

static int write_csv_factors(const struct sim *s, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int j = 1; j <= NF; j++)
        fprintf(f, "n%d,", j);
    fprintf(f, "f1,f2,exposure,claims\n");
    for (size_t i = 0; i < s->n; i++) {
        const double *x = s->x + i * PF;
        for (int j = 1; j <= NF; j++)
            fprintf(f, "%.17g,", x[j]);
        fprintf(f, "L%02d,L%02d,%.17g,%.17g\n", g_f1[i] + 1, g_f2[i] + 1,
                s->expo[i], s->y[i]);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return -1;
    return 0;
}

static int write_csv(const struct sim *s, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int j = 1; j < P; j++)
        fprintf(f, "%s,", NAMES[j]);
    fprintf(f, "exposure,claims\n");
    for (size_t i = 0; i < s->n; i++) {
        const double *x = s->x + i * P;
        for (int j = 1; j < P; j++)
            fprintf(f, "%.17g,", x[j]);
        fprintf(f, "%.17g,%.17g\n", s->expo[i], s->y[i]);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return -1;
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static int usage(void)
{
    fprintf(stderr, "usage: bench-glm [--rows N] [--threads T] [--seed S] "
            "[--csv FILE] [--factors]\n");
    return 2;
}

int main(int argc, char **argv)
{
    size_t rows = 1000000;
    int threads = 1;
    unsigned long seed = 20240601;
    const char *csv = NULL;
    int factors = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--factors") == 0) {
            factors = 1;
            continue;
        }
        if (a + 1 >= argc)
            return usage();
        char *end = NULL;
        errno = 0;
        if (strcmp(argv[a], "--rows") == 0)
            rows = strtoul(argv[++a], &end, 10);
        else if (strcmp(argv[a], "--threads") == 0)
            threads = (int)strtol(argv[++a], &end, 10);
        else if (strcmp(argv[a], "--seed") == 0)
            seed = strtoul(argv[++a], &end, 10);
        else if (strcmp(argv[a], "--csv") == 0)
            csv = argv[++a];
        else
            return usage();
        if (end && (*end || errno))
            return usage();
    }
    if (rows < 1000 || threads < 1)
        return usage();
    gsl_set_error_handler_off();

    struct sim s = {0};
    int p = factors ? PF : P;
    if ((factors ? simulate_factors(&s, rows, seed)
                 : simulate(&s, rows, seed)) < 0) {
        fprintf(stderr, "bench-glm: out of memory\n");
        sim_free(&s);
        return 1;
    }
    if (csv && (factors ? write_csv_factors(&s, csv)
                        : write_csv(&s, csv)) < 0) {
        fprintf(stderr, "bench-glm: cannot write '%s'\n", csv);
        sim_free(&s);
        return 1;
    }

    struct glm_data d = {s.x, s.y, s.off, NULL, s.n, (size_t)p};
    struct glm_options o;
    glm_options_init(&o, GLM_POISSON);
    o.threads = threads;
    double secs[3];
    struct glm_result *res = NULL;
    for (int k = 0; k < 3; k++) {
        struct eng_err err = {0};
        glm_result_free(res);
        double t0 = now_seconds();
        res = glm_fit(&d, &o, &err);
        secs[k] = now_seconds() - t0;
        if (!res) {
            fprintf(stderr, "bench-glm: %s\n", err.msg);
            sim_free(&s);
            return 1;
        }
    }
    qsort(secs, 3, sizeof(secs[0]), cmp_double);

    if (factors) {
        printf("rows          %zu\n", s.n);
        printf("cols          %d (20 inputs: 18 numeric, 2 factors of %d "
               "levels, n1:f1)\n", p, NLEV);
        printf("threads       %d\n", threads);
        printf("iterations    %d\n", res->iterations);
        printf("seconds       %.3f (median of 3: %.3f %.3f %.3f)\n",
               secs[1], secs[0], secs[1], secs[2]);
        printf("deviance      %.6f\n", res->deviance);
        for (int j = 0; j < p; j++) {
            char name[32];
            factor_name(j, name, sizeof(name));
            printf("coef %s %.12g\n", name, res->coef[j]);
        }
        glm_result_free(res);
        sim_free(&s);
        free(g_f1);
        free(g_f2);
        return 0;
    }
    double worst = 0.0;
    for (int j = 0; j < P; j++) {
        double dz = fabs(res->coef[j] - BETA[j]) / res->se[j];
        if (dz > worst)
            worst = dz;
    }
    double claims = 0.0;
    for (size_t i = 0; i < s.n; i++)
        claims += s.y[i];
    printf("rows          %zu\n", s.n);
    printf("cols          %d\n", P);
    printf("claims        %.0f\n", claims);
    printf("threads       %d\n", threads);
    printf("iterations    %d\n", res->iterations);
    printf("seconds       %.3f (median of 3: %.3f %.3f %.3f)\n", secs[1],
           secs[0], secs[1], secs[2]);
    printf("max_abs_z     %.3f (max |beta_hat - beta| / SE)\n", worst);
    printf("deviance      %.6f\n", res->deviance);
    printf("null_deviance %.6f\n", res->null_deviance);
    printf("aic           %.4f\n", res->aic);
    printf("%-13s %12s %20s %12s\n", "column", "true", "estimate", "se");
    for (int j = 0; j < P; j++)
        printf("%-13s %12.6f %20.14g %12.8f\n", NAMES[j], BETA[j],
               res->coef[j], res->se[j]);
    glm_result_free(res);
    sim_free(&s);
    return 0;
}
