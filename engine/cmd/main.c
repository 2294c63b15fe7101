/* svcscore — command-line entry point: dispatches to the cmd_*() functions. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_version.h>

#include "cli.h"
#include "version.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"score", cmd_score, "histories (files or the API) -> scores CSV"},
    {"fetch", cmd_fetch, "pull histories from the API into a JSONL bundle"},
    {"features", cmd_features, "histories -> features CSV"},
    {"train", cmd_train, "features + claims -> fitted GLM model file"},
    {"evaluate", cmd_evaluate, "model + labelled data -> Gini, lift, deviance"},
    {"rating-table", cmd_rating, "model -> rating table CSV for pricing"},
    {"explain", cmd_explain, "one vehicle -> a readable maintenance report"},
    {"synth", cmd_synth, "a synthetic fleet with known ground truth"},
    {"store", cmd_store, "the history store: import, export, merge, runs"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
    fprintf(f, "usage: svcscore <command> [options]\n"
               "       svcscore --version | --help\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'svcscore <command> --help' describes a command.\n"
               "--allow-core-dumps (before or after the command) lets a "
               "crash leave a core\nfile; it may then hold tokens and the "
               "client secret.\n");
}

static void print_version(void)
{
    printf("svcscore %s (model format %d)\n", SVCSCORE_VERSION,
           SVCSCORE_MODEL_FORMAT);
    printf("libcurl %s, cJSON %s, GSL %s\n",
           curl_version_info(CURLVERSION_NOW)->version, cJSON_Version(),
           gsl_version);
}

static int run(int argc, char **argv);

/*
 * A core file of this process would hold every token in flight, the client
 * secret and the Basic authorization header: none is written unless the
 * user asks (--allow-core-dumps, taken out of argv here).  PR_SET_DUMPABLE
 * 0 also keeps other processes of the same user from ptrace-attaching.
 */
static int no_core_dumps(int argc, char **argv)
{
    int allow = 0;
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--allow-core-dumps") == 0)
            allow = 1;
        else
            argv[n++] = argv[i];
    }
    argv[n] = NULL;
    if (!allow) {
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_CORE, &rl);
        prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
    }
    return n;
}

int main(int argc, char **argv)
{
    argc = no_core_dumps(argc, argv);
    /* GSL's default handler aborts; every GSL status is checked instead. */
    gsl_set_error_handler_off();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "svcscore: error: cannot initialise libcurl\n");
        return CLI_FAIL;
    }
    int status = run(argc, argv);
    curl_global_cleanup();
    return status;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) {
        print_version();
        return CLI_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    cli_fail(CLI_USAGE, "unknown command '%s'", argv[1]);
    print_usage(stderr);
    return CLI_USAGE;
}
