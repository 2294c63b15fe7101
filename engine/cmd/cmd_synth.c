/* svcscore synth — write a synthetic fleet with known ground truth. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "eng.h"
#include "synth.h"

#define DEFAULT_SEED 42
#define DEFAULT_AS_OF "2026-06-30"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: svcscore synth --vehicles N --out DIR [options]\n"
        "\n"
        "Writes a synthetic fleet into DIR (created if missing):\n"
        "vehicles.csv, histories.jsonl, claims.csv, truth.csv.\n"
        "The same options give byte-identical files.\n"
        "\n"
        "  --vehicles N          number of vehicles (1..%ld)\n"
        "  --out DIR             output directory\n"
        "  --seed S              random seed, 0..4294967295 (default %d)\n"
        "  --as-of YYYY-MM-DD    end of the histories and token expiry\n"
        "                        (default %s)\n"
        "  --imperial-share X    share of vehicles reporting miles\n"
        "                        (default 0.05)\n"
        "  --help                this text\n",
        SYNTH_MAX_VEHICLES, DEFAULT_SEED, DEFAULT_AS_OF);
}

int cmd_synth(int argc, char **argv)
{
    static const struct option opts[] = {
        {"vehicles", required_argument, NULL, 'n'},
        {"out", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 's'},
        {"as-of", required_argument, NULL, 'a'},
        {"imperial-share", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    struct synth_params params;
    synth_params_default(&params);
    long n = -1;
    long seed = DEFAULT_SEED;
    const char *out = NULL;
    const char *as_of_text = DEFAULT_AS_OF;

    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'n':
            if (cli_parse_long(optarg, 1, SYNTH_MAX_VEHICLES, &n) < 0)
                return cli_fail(CLI_USAGE, "--vehicles must be a whole "
                                "number within 1..%ld", SYNTH_MAX_VEHICLES);
            break;
        case 'o':
            out = optarg;
            break;
        case 's':
            if (cli_parse_long(optarg, 0, 4294967295L, &seed) < 0)
                return cli_fail(CLI_USAGE, "--seed must be a whole number "
                                "within 0..4294967295");
            break;
        case 'a':
            as_of_text = optarg;
            break;
        case 'i':
            if (cli_parse_double(optarg, 0, 1, &params.imperial_share) < 0)
                return cli_fail(CLI_USAGE, "--imperial-share must be a "
                                "number within 0..1");
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        case ':':
            return cli_fail(CLI_USAGE, "option '%s' needs a value",
                            argv[optind - 1]);
        default:
            return cli_fail(CLI_USAGE, "unknown option '%s' (see 'svcscore "
                            "synth --help')", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (n < 0 || !out || !*out) {
        usage(stderr);
        return cli_fail(CLI_USAGE, "--vehicles and --out are required");
    }

    struct eng_err err = {0};
    long as_of;
    if (eng_parse_day(as_of_text, SYNTH_MIN_YEAR, 2100, &as_of, &err) < 0
        || strlen(as_of_text) != 10)
        return cli_fail(CLI_USAGE, "--as-of must be a date YYYY-MM-DD within "
                        "%d..2100", SYNTH_MIN_YEAR);

    struct synth_stats st;
    if (synth_fleet_write(out, &params, n, (unsigned long)seed, as_of, &st,
                          &err) < 0)
        return cli_fail(err.code == ENG_EUSAGE ? CLI_USAGE : CLI_FAIL, "%s",
                        err.msg);
    fprintf(stderr, "synth: %ld vehicles (%ld users), %ld service records, "
            "%ld empty histories, %ld rollbacks, %ld claims -> %s\n",
            st.vehicles, st.users, st.records, st.empty_histories,
            st.rollbacks, st.claims, out);
    fprintf(stderr, "synth: mix: %ld histories starting mid-life, %ld "
            "high-mileage; %ld ICE, %ld HEV, %ld PHEV, %ld BEV\n",
            st.late_starts, st.high_mileage, st.by_ptrain[SYNTH_ICE],
            st.by_ptrain[SYNTH_HEV], st.by_ptrain[SYNTH_PHEV],
            st.by_ptrain[SYNTH_BEV]);
    return CLI_OK;
}
