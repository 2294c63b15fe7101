/* svcscore rating-table — a model file -> rating table CSV (README.md,
 * The model: rating table). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "cli.h"
#include "model.h"
#include "out.h"
#include "rating.h"

static const char usage[] =
    "usage: svcscore rating-table --model M --out FILE.csv\n"
    "\n"
    "Writes the model as a rating table: each categorical input's levels,\n"
    "each numeric input's bins at its training deciles, each interaction's\n"
    "cells, with the relativity to the base and the training exposure; the\n"
    "intercept and the base risk on rows of their own.  A vehicle's model\n"
    "relativity is the base risk's times its row of every input.\n"
    "\noptions:\n"
    "  --model FILE   the model file (default: models/default.json)\n"
    "  --out FILE     the CSV to write (default: stdout)\n"
    "  --help         this text\n";

int cmd_rating(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *model_path = NULL, *out_path = "-";
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (opt == 'm') {
            model_path = optarg;
        } else if (opt == 'o') {
            out_path = optarg;
        } else {
            return cli_usage_opt(usage, opt);
        }
    }
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    struct model *m = NULL;
    if (cli_load_model(model_path, &m) != CLI_OK)
        return CLI_FAIL;
    struct eng_err err = {0};
    struct rating_row *rows = NULL;
    size_t n = 0;
    struct buf b;
    buf_init(&b, (size_t)1 << 30);
    int status = CLI_FAIL;
    int rc = rating_build(m, &rows, &n, &err);
    if (rc == ENG_OK)
        rc = rating_csv(m, rows, n, &b, &err);
    if (rc < 0) {
        status = cli_fail(rc == ENG_EUSAGE ? CLI_USAGE : CLI_FAIL, "%s",
                          err.msg);
        goto out;
    }
    struct out_file *o = out_open(out_path, &err);
    rc = o ? out_write(o, b.data, b.len, &err) : ENG_EIO;
    if (o && rc < 0)
        out_abort(o);
    else if (o)
        rc = out_commit(o, &err);
    if (rc < 0) {
        status = cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    fprintf(stderr, "svcscore: rating-table: %zu rows of model %s\n", n,
            model_id(m));
    status = CLI_OK;
out:
    buf_release(&b);
    free(rows);
    model_free(m);
    return status;
}
