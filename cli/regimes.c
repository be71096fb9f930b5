/* regimes: command-line entry point. Subcommand dispatch, --help, --version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "par.h"

static const char USAGE[] =
"usage: regimes <command> [flags]\n"
"\n"
"Dynamical regimes of diffusion models with linear forward processes dz = -A(t) z dt + sqrt(2) dW.\n"
"\n"
"Commands\n"
"  theory    predicted speciation, collapse, synchronization gap, relaxation rate and horizon for\n"
"            one process and Gaussian-mixture data (regimes theory --help)\n"
"  sample    reverse-time samples with the exact score (regimes sample --help)\n"
"  clone     cloning curves phi(t), measured speciation times and gap (regimes clone --help)\n"
"  collapse  measured collapse with the exact empirical score (regimes collapse --help)\n"
"  reproduce a paper's experiment with plots and report.md (regimes reproduce --help)\n"
"  demo      the theory for a few documented example processes, one screen\n"
"  schedule  design a piecewise-constant coupling gamma(t) that closes or sets the gmm4\n"
"            synchronization gap (regimes schedule --help)\n"
"  train     train a digit classifier or a time-conditioned score network in C (regimes train --help)\n"
"\n"
"Flags\n"
"  --help    this text      --version   version and build type\n"
"\n"
"Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input (one line on stderr).\n"
"Documentation: docs/cli.md.\n";

static int dispatch(int argc, char **argv)
{
    cli_set_command("regimes");
    if (argc < 2) return cli_usage("missing command (theory, sample, clone, collapse, reproduce, schedule, train, demo; see regimes --help)");
    const char *cmd = argv[1];
    const int info = !strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help") || !strcmp(cmd, "--version");
    if (info && argc > 2) return cli_usage("unexpected argument '%s' after %s", argv[2], cmd);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return RG_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("regimes %s (%s build, %s)\n", RG_VERSION, RG_BUILD_FLAGS, par_compiled() ? "MPI" : "no MPI");
        return RG_OK;
    }
    if (strcmp(cmd, "theory") == 0) return cmd_theory(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0) return cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "sample") == 0) return cmd_sample(argc - 1, argv + 1);
    if (strcmp(cmd, "clone") == 0) return cmd_clone(argc - 1, argv + 1);
    if (strcmp(cmd, "collapse") == 0) return cmd_collapse(argc - 1, argv + 1);
    if (strcmp(cmd, "reproduce") == 0) return cmd_reproduce(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "schedule") == 0) return cmd_schedule(argc - 1, argv + 1);
    return cli_usage("unknown command '%s' (commands: theory, sample, clone, collapse, reproduce, schedule, train, demo; see regimes --help)", cmd);
}

int main(int argc, char **argv)
{
    if (par_init(&argc, &argv) != 0) return cli_exit_code(RG_EIO);
    int st = dispatch(argc, argv);
    par_finalize();
    if (st == RG_ENOMEM) { /* OpenBLAS's exit handler joins its worker threads, and one that is still
                              retrying a failed buffer allocation never returns (par_threads) */
        fflush(NULL);
        _Exit(cli_exit_code(st));
    }
    return cli_exit_code(st);
}
