/* regimes io: files the command line writes, written atomically.
 *
 * Every writer goes to "path.tmp", checks every write and the close, then renames it onto path; on
 * any failure the temporary file is removed and RG_EIO names the path and the reason. A reader
 * therefore sees either the old file or the complete new one, never half of it.
 *
 * CSV: one header line of column names (with units in brackets, e.g. "t_b [time]"), then rows of
 * numbers printed with %.17g (round-trip exact), NaN as "nan", +-Inf as "inf"/"-inf".
 * PNG grids (libpng): 8-bit grayscale, n images of h x w floats (row-major, image k at img + k h w)
 * tiled cols per row, image k at tile (k / cols, k % cols); rows = ceil(n / cols) (cols > n is
 * taken as n); 1-pixel black separators between tiles, empty tiles of the last row black. A value v
 * becomes round(255 clamp((v - lo) / (hi - lo), 0, 1)); NaN becomes 0.
 * Plots: rg_io_plot writes a gnuplot script and its data next to the target and runs gnuplot
 * (pngcairo) on them: the one place in the library that starts a process. RG_EIO when gnuplot is
 * missing or fails; the PNG appears only when gnuplot succeeded. */
#ifndef REGIMES_IO_H
#define REGIMES_IO_H

#include <stddef.h>

/* data: (nrow, ncol) row-major doubles; header: ncol names (no commas or newlines). */
int rg_io_csv_write(const char *path, size_t ncol, const char *const *header, size_t nrow, const double *data);

/* Write len bytes of text to path atomically. */
int rg_io_text_write(const char *path, const char *text, size_t len);

/* PNG grid of n images (h, w) into path, cols tiles per row, gray levels from [lo, hi] (above).
 * RG_EINVAL (NULL, zero sizes, !(lo < hi), infinite bounds, more than 100000 pixels a side),
 * RG_ENOMEM, RG_EIO. */
int rg_io_png_grid(const char *path, size_t n, size_t h, size_t w, const float *img, size_t cols, float lo, float hi);

/* SHA-256 (FIPS 180-4) as 64 lowercase hex digits and a NUL. rg_io_sha256_file reads a regular file
 * (RG_EIO for anything else: a FIFO is refused, not waited on). */
void rg_io_sha256(const void *data, size_t len, char hex[65]);
int rg_io_sha256_file(const char *path, char hex[65]);

/* An output directory committed as a whole. DIR/manifest.sha256 lists the files of one run, one line
 * "SHA256  NAME" each (the format of sha256sum: `cd DIR && sha256sum -c manifest.sha256` checks it too).
 * A writer calls rg_io_manifest_remove before it changes any file of DIR and rg_io_manifest_write after
 * the last one, so a directory without a manifest was interrupted (or is being written) and one whose
 * files differ from it was changed afterwards. Names are plain file names of DIR (no '/').
 * rg_io_manifest_check: every listed file present with its sum; *n_files (or NULL): how many. RG_EIO
 * when there is no manifest, RG_EFORMAT naming the first file that differs or a malformed line. */
#define RG_IO_MANIFEST "manifest.sha256"
int rg_io_manifest_remove(const char *dir);
int rg_io_manifest_write(const char *dir, const char *const *names, size_t n);
int rg_io_manifest_check(const char *dir, size_t *n_files);

/* Numbers in text. rg_io_real_len: the length of the decimal real number at the start of s, 0 when s
 * does not start with one. Decimal is the one syntax regimes reads, in files and on the command line:
 * an optional sign, digits with an optional decimal point (at least one digit), an optional exponent
 * e[+-]digits. No hexadecimal (0x1p3), no inf or nan words, no leading blanks.
 * rg_io_matrix_read / rg_io_vector_read: a text file of whitespace-separated numbers, a square matrix
 * (lines of n numbers, n lines; *A (n x n) row-major) or n numbers in any layout (*v); blank lines and
 * lines starting with '#' are skipped, every number decimal and finite. Sizes are bounded by max_n (the
 * dimension, 1 .. 2^20): at most max_n rows (or numbers), lines of at most 64 max_n + 4096 characters,
 * and a file of at most 64 max_n^2 + 1 MiB bytes (64 max_n + 1 MiB for a vector), refused from its size
 * before it is read. path must be a regular file (a FIFO or a device is refused, never waited on).
 * The array is malloc'ed; the caller frees it. RG_EFORMAT "PATH:LINE: ..." (a NUL byte, a number that is
 * not decimal or not finite, a ragged or non-square matrix, too many rows), RG_EIO, RG_ENOMEM. */
size_t rg_io_real_len(const char *s);
int rg_io_matrix_read(const char *path, size_t max_n, size_t *n, double **A);
int rg_io_vector_read(const char *path, size_t max_n, size_t *n, double **v);

/* One curve of a plot: n points (x, y); lo/hi (n) an error band drawn as error bars, or NULL. */
typedef struct {
    const char *label;
    size_t n;
    const double *x, *y, *lo, *hi;
    int points; /* 1: points (with error bars when lo/hi), 0: a line */
} rg_io_series;

/* A PNG (800 x 500, pngcairo) of n series with a title and axis labels. */
int rg_io_plot(const char *png_path, const char *title, const char *xlabel, const char *ylabel, size_t n_series,
               const rg_io_series *series);

#endif
