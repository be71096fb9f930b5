/* `regimes theory`: flags -> process + data -> the predicted regimes (docs/math.md 7; data sets 11.2). */
#include <stdio.h>

#include "regimes/error.h"
#include "args.h"
#include "cli.h"
#include "opts.h"
#include "source.h"

int cmd_theory(int argc, char **argv)
{
    cli_set_command("regimes theory");
    cli_args a;
    cli_env e;
    int st = opts_parse(argc, argv, CMD_THEORY, 0, 0, &a);
    if (!st && a.help) theory_print_help(stdout);
    if (st || a.help) return st;
    st = env_open(&a, 0, &e);
    if (!st) st = a.json ? theory_print_json(&e, stdout) : theory_print_table(&e, stdout);
    if (!st && (fflush(stdout) != 0 || ferror(stdout))) st = cli_runtime("cannot write the output");
    env_close(&e);
    opts_free(&a);
    return st;
}
