/* regimes CLI: the sidecar of a trained checkpoint. `regimes train --out FILE` writes FILE (the
 * nn checkpoint, nn.h) and FILE.json: what was trained on which data, the measured figures (final
 * loss, training and test accuracy), and for a score network the `regimes theory` process flags
 * it was trained under ("process_argv", including the --dim that was filled in). `regimes sample
 * --model FILE` reads process_argv back so that sampling runs under the checkpoint's process. */
#ifndef REGIMES_CLI_MODEL_H
#define REGIMES_CLI_MODEL_H

#include <stddef.h>


/* FILE.json for the checkpoint path ckpt into buf (len bytes). RG_OK, or one line and RG_EINVAL
 * when it does not fit. */
int model_sidecar_path(char *buf, size_t len, const char *ckpt);

/* The "process_argv" string array of ckpt's sidecar: *argv (malloc'ed, *argc strings, each
 * malloc'ed; free with model_argv_free). RG_OK, or one line and RG_EINVAL (missing or unreadable
 * sidecar, no such key, malformed array). */
int model_read_process_argv(const char *ckpt, int *argc, char ***argv);
void model_argv_free(int argc, char **argv);

/* A number stored under "key" in ckpt's sidecar into *out (RG_OK), or RG_EINVAL: silently when
 * the key is absent or null, with one line when the sidecar cannot be read. */
int model_read_number(const char *ckpt, const char *key, double *out);

/* The per-coordinate mean (N numbers) that `regimes train --centre on` subtracted from the training
 * data, from ckpt's sidecar key "mean": *mean (malloc'ed) or NULL when the key is absent or null.
 * RG_OK, or one line and RG_EINVAL (unreadable sidecar, malformed array, not N numbers). */
int model_read_mean(const char *ckpt, size_t N, double **mean);

#endif
