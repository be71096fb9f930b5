/* regimes CLI: what experiments leave on disk and print. JSON objects are built in memory once and
 * go both to DIR/summary.json and, with --json, to stdout (the same bytes); meta.json records the
 * resolved parameters and the identity of every input; CSV files carry a step column beside every
 * time column when a noise schedule is given. Every file is written atomically (io.h). */
#ifndef REGIMES_CLI_OUT_H
#define REGIMES_CLI_OUT_H

#include <stddef.h>
#include <stdio.h>

#include "source.h"

/* JSON pieces: a number with round-trip precision (null for NaN and Inf), an escaped string. */
void cli_json_num(FILE *f, double x);
void cli_json_str(FILE *f, const char *s);

/* A JSON object being written into memory; keys are separated automatically. */
typedef struct {
    FILE *f;
    char *buf;
    size_t len;
    int depth, comma[8];
} json;

int j_open(json *j);                              /* "{"; RG_ENOMEM */
void j_key(json *j, const char *key);             /* "key": (the caller writes the value) */
void j_num(json *j, const char *key, double x);
void j_int(json *j, const char *key, long long x);
void j_str(json *j, const char *key, const char *s); /* NULL: null */
void j_bool(json *j, const char *key, int x);
void j_nums(json *j, const char *key, size_t n, const double *x);
/* key: t and, with a schedule, key_step: its step (null beyond the schedule). */
void j_time(json *j, const cli_env *e, const char *key, double t);
void j_times(json *j, const cli_env *e, const char *key, size_t n, const double *t);
void j_obj(json *j, const char *key);             /* "key": { (key NULL: an array element) */
void j_arr(json *j, const char *key);             /* "key": [ */
void j_end(json *j, char close);                  /* } or ] */
/* Close the object: the text in j->buf (NUL-terminated, j->len bytes, "\n" ended). RG_ENOMEM. */
int j_close(json *j);
void j_free(json *j);

/* DIR/summary.json from j's text, and the same text on stdout with --json. */
int out_summary(const cli_args *a, const char *dir, const json *j);

/* meta.json: tool, version, build, command, argv, the process and data (input files with their
 * sha256), schedule, grid (kind, points, T, t_end), the horizon and the signal kappa(T) left at T with
 * its warning flag, seed, samples, method, threads, ranks, wall time,
 * and the command's own keys, written by extra(j, ctx) (or NULL). */
typedef struct {
    double T, t_end;
    const double *grid;
    size_t n_grid;
    double kappa_T;    /* the class signal left at T (docs/math.md 6.2) */
} out_grid;
int out_meta(const char *dir, const char *cmd, int argc, char **argv, const cli_env *e, const out_grid *g,
             double wall, void (*extra)(json *j, const void *ctx), const void *ctx);

/* The process and data objects of summary.json and meta.json. */
void out_process(json *j, const cli_env *e);
void out_data(json *j, const cli_env *e);

/* DIR/name as CSV (io.h) of nrow rows of ncol columns; time_col[c] = 1 marks a column of forward times,
 * which gets a "<name>_step [step]" column after it when e has a schedule (-1 beyond it). */
int out_csv(const cli_env *e, const char *dir, const char *name, size_t ncol, const char *const *header,
            const int *time_col, size_t nrow, const double *data);

#endif
