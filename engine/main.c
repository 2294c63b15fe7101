/* svcscore — command-line entry point (the only file that prints or exits). */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_version.h>

#include "eng.h"

#define SVCSCORE_VERSION "0.1.0"

static void print_version(void)
{
    printf("svcscore %s\nlibcurl %s, cJSON %s, GSL %s\n", SVCSCORE_VERSION,
           curl_version_info(CURLVERSION_NOW)->version, cJSON_Version(),
           gsl_version);
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        print_version();
        return 0;
    }
    fprintf(stderr, "usage: svcscore <command> [options]\n");
    return 2;
}
