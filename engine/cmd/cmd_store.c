/* svcscore store — the history store: import, export, merge, runs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hist.h"
#include "store.h"
#include "task.h"

static const char usage[] =
    "usage: svcscore store import --store FILE --histories BUNDLE [options]\n"
    "       svcscore store export --store FILE --out BUNDLE "
    "[--vehicles FILE]\n"
    "       svcscore store merge --store OUT IN1 [IN2 ...]\n"
    "       svcscore store runs --store FILE\n"
    "\n"
    "The history store is one SQLite file (README: History store).\n"
    "  import   adds a JSONL bundle's vehicles, records (each stored once)\n"
    "           and fetches; running it again adds nothing twice\n"
    "  export   writes the stored histories as a JSONL bundle (all\n"
    "           vehicles, or those of --vehicles in its order)\n"
    "  merge    adds the vehicles, records, fetches and runs of other\n"
    "           stores (shards) to OUT\n"
    "  runs     lists the recorded runs\n"
    "\noptions:\n"
    "  --store FILE         the store (import and merge create it)\n"
    "  --histories BUNDLE   import: the bundle, - for stdin\n"
    "  --out BUNDLE         export: the bundle, - for stdout\n"
    "  --vehicles FILE      export: only these vehicles, in this order\n"
    "  --data-dir DIR       import: taxonomy (default: found beside the\n"
    "                       program, else the installed copy)\n"
    "  --max-body BYTES     import: cap on one history (default 8 MiB)\n"
    "  --max-records N      import: cap on records of one history\n"
    "                       (default 10000)\n"
    "  --help               this text\n";

enum {
    OPT_STORE = CLI_OPT_FIRST_FREE
};

struct store_opts {
    const char *store;
    struct cli_common c;
};

static int import(const struct store_opts *o)
{
    if (!o->c.histories)
        return cli_fail(CLI_USAGE, "store import needs --histories");
    struct task_map *tasks = NULL;
    struct task_sched_table *sched = NULL;
    if (cli_load_taxonomy(o->c.data_dir, &tasks, &sched) < 0)
        return CLI_FAIL;
    struct eng_err err = {0};
    int status = CLI_FAIL;
    struct store *s = store_open(o->store, 0, &err);
    if (!s) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    struct hist_limits lim;
    hist_limits_default(&lim);
    lim.max_body = (size_t)o->c.max_body;
    lim.max_records = (size_t)o->c.max_records;
    struct store_import_stats st;
    if (store_import(s, o->c.histories, &lim, tasks, sched, &st, &err) < 0) {
        cli_fail(CLI_FAIL, "%s", err.msg);
        goto out;
    }
    fprintf(stderr, "svcscore: store import: %zu lines, %zu vehicles "
            "(%zu with a failed status), %zu records (%zu new), %zu "
            "fetches already imported, %zu lines without a VIN, %zu "
            "blank\n", st.lines, st.vehicles, st.failed, st.records,
            st.added, st.dup_fetches, st.skipped, st.blank);
    status = CLI_OK;
out:
    store_close(s);
    task_map_free(tasks);
    task_sched_free(sched);
    return status;
}

static int export(const struct store_opts *o)
{
    if (!o->c.out)
        return cli_fail(CLI_USAGE, "store export needs --out");
    struct eng_err err = {0};
    struct store *s = store_open(o->store, STORE_READONLY, &err);
    if (!s)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    struct store_export_stats st;
    int rc = store_export(s, o->c.out, o->c.vehicles, &st, &err);
    store_close(s);
    if (rc < 0)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    fprintf(stderr, "svcscore: store export: %zu vehicles, %zu listed but "
            "not in the store\n", st.vehicles, st.missing);
    if (st.mixed)
        cli_warn("%zu vehicles have records in more than one unit system "
                 "or shape; their lines use the last fetch's", st.mixed);
    return CLI_OK;
}

static int merge(const struct store_opts *o, int argc, char **argv)
{
    if (argc == 0)
        return cli_fail(CLI_USAGE, "store merge needs stores to merge");
    struct eng_err err = {0};
    struct store *s = store_open(o->store, 0, &err);
    if (!s)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    int status = CLI_OK;
    for (int i = 0; i < argc && status == CLI_OK; i++) {
        struct store_merge_in_stats st;
        if (store_merge_from(s, argv[i], &st, &err) < 0) {
            status = cli_fail(CLI_FAIL, "%s", err.msg);
            break;
        }
        fprintf(stderr, "svcscore: store merge: '%s': %zu vehicles, %zu "
                "new records, %zu new fetches, %zu new runs\n", argv[i],
                st.vehicles, st.records_added, st.fetches_added,
                st.runs_added);
    }
    store_close(s);
    return status;
}

static int runs(const struct store_opts *o)
{
    struct eng_err err = {0};
    struct store *s = store_open(o->store, STORE_READONLY, &err);
    if (!s)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    printf("id,started_at,ended_at,model_id,as_of,rows,ok,no_history,"
           "errors,exit_code\n");
    long long after = 0;
    struct store_run_info r;
    int rc;
    while ((rc = store_next_run(s, &after, &r, &err)) == 1) {
        printf("%lld,%s,%s,%s,%s,%zu,%zu,%zu,%zu,", r.id, r.started_at,
               r.ended_at, r.model_id, r.as_of, r.rows, r.ok, r.no_history,
               r.errors);
        if (r.exit_code >= 0)
            printf("%d", r.exit_code);
        printf("\n");
    }
    store_close(s);
    if (rc < 0)
        return cli_fail(CLI_FAIL, "%s", err.msg);
    return CLI_OK;
}

int cmd_store(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"store", required_argument, NULL, OPT_STORE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *sub = argv[1];
    struct store_opts o = {0};
    cli_common_init(&o.c);
    o.c.out = NULL;
    int opt;
    optind = 1;
    argc--;
    argv++;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int used = cli_common_opt(&o.c, opt, optarg);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        if (opt == OPT_STORE) {
            o.store = optarg;
        } else {
            return cli_usage_opt(usage, opt);
        }
    }
    if (!o.store)
        return cli_fail(CLI_USAGE, "store %s needs --store", sub);
    if (strcmp(sub, "merge") == 0)
        return merge(&o, argc - optind, argv + optind);
    if (optind < argc)
        return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (strcmp(sub, "import") == 0)
        return import(&o);
    if (strcmp(sub, "export") == 0)
        return export(&o);
    if (strcmp(sub, "runs") == 0)
        return runs(&o);
    fputs(usage, stderr);
    return cli_fail(CLI_USAGE, "unknown store command '%s'", sub);
}
