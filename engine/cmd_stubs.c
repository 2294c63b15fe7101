/* Commands not built yet: each says so plainly and fails. */
#include "cli.h"

#define NOT_YET(fn, name)                                                  \
    int fn(int argc, char **argv)                                          \
    {                                                                      \
        (void)argc;                                                        \
        (void)argv;                                                        \
        return cli_fail(CLI_FAIL, "'%s' is not available yet", name);      \
    }

NOT_YET(cmd_fetch, "fetch")
