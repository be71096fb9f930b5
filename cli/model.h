/* regimes CLI: the metadata of a trained checkpoint. `regimes train --out FILE` stores, inside FILE
 * (rg_nn_save_meta), a JSON object: what was trained on which data, the measured figures (final loss,
 * training and test accuracy), and for a score network the `regimes theory` process flags it was
 * trained under ("process_argv", including the --dim that was filled in), its training mean ("mean")
 * and time range ("t_max"). FILE.json beside it is a copy for people and tools, written after FILE
 * when training ends. `regimes sample --model FILE` reads the copy inside FILE, so the model and its
 * description cannot disagree; checkpoints written before the metadata was embedded (versions 1, 2)
 * fall back to FILE.json. The parsers below read a JSON object's top-level keys and treat every
 * value as data: process_argv is parsed as process flags only, never spliced into a command line. */
#ifndef REGIMES_CLI_MODEL_H
#define REGIMES_CLI_MODEL_H

#include <stddef.h>

#include "regimes/nn.h"

/* FILE.json for the checkpoint path ckpt into buf (len bytes). RG_OK, or one line and RG_EINVAL
 * when it does not fit. */
int model_sidecar_path(char *buf, size_t len, const char *ckpt);

/* The network in ckpt (flag names it in messages) and its metadata text (*meta, malloc'ed), from the
 * checkpoint or, for a version 1 or 2 file, from FILE.json (a regular file of at most 64 MiB). RG_OK, or
 * one line and RG_EINVAL (nothing to free then). */
int model_load(const char *flag, const char *ckpt, rg_nn_model **m, char **meta);

/* The "process_argv" string array of the metadata: *argv (malloc'ed, *argc strings, each malloc'ed;
 * free with model_argv_free). RG_OK, or one line naming `what` and RG_EINVAL (no such key, malformed). */
int model_meta_process_argv(const char *meta, const char *what, int *argc, char ***argv);
void model_argv_free(int argc, char **argv);

/* A finite number stored under the top-level key into *out (RG_OK), or RG_EINVAL silently when the key
 * is absent, null or not a finite decimal number. */
int model_meta_number(const char *meta, const char *key, double *out);

/* The per-coordinate mean (N numbers) that `regimes train --centre on` subtracted from the training
 * data, key "mean": *mean (malloc'ed) or NULL when the key is absent or null. RG_OK, or one line naming
 * `what` and RG_EINVAL (not an array of N finite numbers). */
int model_meta_mean(const char *meta, const char *what, size_t N, double **mean);

#endif
