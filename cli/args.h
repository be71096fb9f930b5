/* regimes CLI: strict argument scanning and number parsing (STYLE.md 18).
 *
 * Long options only, "--name VALUE" or "--name=VALUE". Every problem is reported as ONE line on
 * stderr, "<command>: <what is wrong>". The CLI uses the library's status codes (regimes/error.h)
 * throughout: bad usage or input is RG_EINVAL (or the library's RG_EDOM / RG_EFORMAT), a runtime
 * failure RG_EIO or RG_ENOMEM; cli_exit_code turns a status into the exit status in one place (main).
 * Nothing here does any mathematics. */
#ifndef REGIMES_CLI_ARGS_H
#define REGIMES_CLI_ARGS_H

#include <stddef.h>

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

#include "regimes/error.h"

/* Exit status of a status code (DESIGN.md): 0 for RG_OK, 2 for bad usage or input (RG_EINVAL, RG_EDOM,
 * RG_EFORMAT), 1 for a runtime failure (every other code). */
int cli_exit_code(int status);

/* One option of a subcommand. cli_scan fills value: NULL when absent, "" for a given switch. */
typedef struct {
    const char *name; /* "--gamma" */
    int has_arg;      /* 1: takes a value */
    const char *value;
} cli_opt;

/* The prefix of every message, e.g. "regimes theory" (the pointer is kept, not copied). */
void cli_set_command(const char *name);
const char *cli_command(void);

/* Print "<command>: <message>\n" on stderr; return RG_EINVAL (bad usage or input). */
int cli_usage(const char *fmt, ...) CLI_PRINTF(1, 2);
/* The same, returning RG_EIO: a runtime failure (an output error, MPI). Out of memory: cli_nomem. */
int cli_runtime(const char *fmt, ...) CLI_PRINTF(1, 2);
/* The same, returning RG_ENOMEM. */
int cli_nomem(const char *fmt, ...) CLI_PRINTF(1, 2);
/* Print "<command>: <rg_strerror_last()>\n" and return status (not RG_OK) unchanged. */
int cli_status(int status);

/* Scan argv[first .. argc) into opts[0 .. n): unknown option, positional argument, repeated option,
 * missing value (end of argv, or a value that starts with "--") or a value given to a switch each
 * give one line and RG_EINVAL. Returns RG_OK. */
int cli_scan(int argc, char **argv, int first, cli_opt *opts, size_t n);
/* The option named name in opts (it must exist). */
const cli_opt *cli_find(const cli_opt *opts, size_t n, const char *name);

/* A real interval; lo_open/hi_open make an end exclusive. Infinite ends print as "inf". */
typedef struct {
    double lo, hi;
    int lo_open, hi_open;
} cli_range;

/* Parse the whole string s as a finite double inside r. NaN, Inf, trailing characters, overflow
 * and underflow to 0 of a non-zero literal are rejected with
 *     "<command>: --gamma wants a number in (-1, 1), got 'x'"   and RG_EINVAL. */
int cli_parse_double(const char *flag, const char *s, cli_range r, double *out);
/* The same for a decimal integer in [lo, hi] (no sign, no spaces, no trailing characters). */
int cli_parse_size(const char *flag, const char *s, size_t lo, size_t hi, size_t *out);
/* *out = index of s in the NULL-terminated list words, or one line naming the choices and RG_EINVAL. */
/* "X1,X2,..." (each as cli_parse_double) into a new array *out (caller frees) of *n values. */
int cli_parse_list(const char *flag, const char *s, cli_range r, double **out, size_t *n);
int cli_parse_choice(const char *flag, const char *s, const char *const *words, int *out);

/* Input and output paths, checked before any work so that a typo costs one line and exit 2, not a
 * finished computation and exit 1. cli_check_input: path names a readable regular file ("--data: cannot
 * read 'x': No such file or directory"; a directory, FIFO or device is refused). cli_check_output_path:
 * path is absent or a regular file (a device such as /dev/null, a FIFO, a directory or a symbolic link is
 * refused: writers replace the file by renaming onto it). cli_check_output_file: that, and path's
 * directory exists, is a directory and is writable. */
int cli_check_input(const char *flag, const char *path);
int cli_check_output_path(const char *flag, const char *path);
int cli_check_output_file(const char *flag, const char *path);

#endif
