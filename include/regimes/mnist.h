/* regimes mnist: IDX files, MNIST / Fashion-MNIST training sets, and paired MNIST (docs/math.md 10).
 *
 * IDX (docs/math.md 10.1): a big-endian uint32 magic, big-endian uint32 dimensions, then uint8 data,
 * row-major. Images: magic 2051 (0x00000803), dims {n, rows, cols}; labels: magic 2049
 * (0x00000801), dims {n}, every value <= 9. The file size must be exactly header + product of the
 * dims: a short file or trailing bytes is RG_EFORMAT naming the file and the problem. Files are read
 * with zlib's gzopen/gzread, so a path may be plain or gzip-compressed (.gz or not: the content
 * decides). Limits: n <= RG_MNIST_MAX_N, rows, cols in 1..RG_MNIST_MAX_SIDE.
 *
 * Where the files are: rg_mnist_load takes a directory holding the four files
 *     train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte
 * each either plain or with a ".gz" suffix (the plain name is tried first). MNIST: data/mnist/ as
 * unpacked by scripts/get-mnist.sh (sha256 sums of docs/math.md 10.1). Fashion-MNIST: Debian's
 * dataset-fashion-mnist installs the gzipped files in RG_MNIST_FASHION_DIR. The library never reads
 * the environment: callers (CLI, tests) choose the directory (tests use RG_MNIST_DIR, see
 * docs/library.md, section mnist).
 *
 * Preprocessing (docs/math.md 10.2, the parent paper), rg_mnist_select:
 *   1. split: training (60000) or test (10000) images;
 *   2. classes: a list of labels (e.g. {1, 8}); the first n_per_class images of each class in file
 *      order (the parent: the first 5000 ones and the first 5000 eights, P = 10000), or all of them
 *      (n_per_class = 0). Rows are grouped by class in the order the list gives, file order within
 *      a class. No random subset: the parent's selection is the first n, and it is reproducible
 *      without a seed;
 *   3. pixels x/255 in [0, 1] (float32, computed as (float)(u / 255.0));
 *   4. optional per-pixel centring with the mean over the selected set (accumulated in double);
 *      never standardised. Zero-padding to 32x32 is omitted: it does not change the spectrum.
 * Lambda = lambda_max(Xc^T Xc / (P - 1)) is then rg_data_covariance_top (data.h): digits 1 & 8,
 * first 5000 + 5000 training images gives 7.668 (docs/math.md 9.2, 10.2).
 *
 * Paired MNIST (docs/math.md 10.3), rg_mnist_pairs: P pairs (x, y) of distinct images of classes a, b
 * (two classes c0, c1, e.g. 1 and 8), with exact counts
 *     n_00 = n_11 = round(rho P / 2),  n_01 = n_10 = (P - 2 n_00) / 2     (P even, rho in [0, 1]),
 * where pair k is of type (0,0) for k < n_00, (1,1) for the next n_11, (0,1) for the next n_01, then
 * (1,0). Images of class c are a permutation (seeded, stream RG_STREAM_PAIRS) of the first P images
 * of that class in the split, dealt in order: x of the pairs first, then y, so each image is used at
 * most once. The permutation is a Fisher-Yates shuffle: for i = m-1 .. 1, j = rg_rng_index(r,
 * traj = class label, step = 0, index = m-1-i, i+1). Rows are (2, 784) row-major, x then y, as the
 * coupled process stores its state (process.h); pixels /255, then, if centred, one per-pixel mean
 * pooled over all 2P images is subtracted from x and y alike. labels[k] = 10 a + b (the digits of
 * x and y, e.g. 18 for x a one and y an eight). u = (x + y)/sqrt 2 and v = (x - y)/sqrt 2:
 * rg_mnist_pair_spectra gives Lambda_c = lambda_max(Cov u) and Lambda_d = lambda_max(Cov v), 1/(P-1).
 *
 * Ownership: every rg_mnist_* / rg_data_set out-pointer is allocated here and owned by the caller
 * (rg_mnist_free, rg_data_set_free); *out is NULL on failure. Errors: RG_EINVAL (arguments),
 * RG_EIO (cannot open / read), RG_EFORMAT (not IDX, sizes, truncated, trailing bytes, label > 9,
 * images and labels disagree), RG_ENOMEM, RG_EDOM (not enough images of a class).
 *
 * Omitted on purpose: writing IDX; other IDX element types (only uint8); downloading anything
 * (scripts/get-mnist.sh does that); 32x32 padding; augmentation.
 */
#ifndef REGIMES_MNIST_H
#define REGIMES_MNIST_H

#include <stddef.h>
#include <stdint.h>
#include "regimes/data.h"
#include "regimes/rng.h"

#define RG_MNIST_MAGIC_IMAGES 2051u
#define RG_MNIST_MAGIC_LABELS 2049u
#define RG_MNIST_MAX_N 10000000u  /* sanity bound on the count of an IDX file */
#define RG_MNIST_MAX_SIDE 4096u   /* sanity bound on rows and cols */
#define RG_MNIST_FASHION_DIR "/usr/share/datasets/fashion-mnist" /* Debian dataset-fashion-mnist */

/* Raw uint8 images and/or labels as stored in IDX files. */
typedef struct {
    size_t n;              /* number of items */
    size_t rows, cols;     /* image size (28 x 28); 0 x 0 when only labels are held */
    uint8_t *pixels;       /* (n, rows * cols) row-major, owned; NULL when only labels */
    uint8_t *labels;       /* (n) values 0..9, owned; NULL when only images */
} rg_mnist_raw;

void rg_mnist_free(rg_mnist_raw *m); /* NULL is a no-op; frees the struct too */

/* Parse an IDX image (magic 2051) or label (magic 2049) file held in memory (uncompressed).
 * Exactly one of the two kinds: images read into pixels (labels NULL), labels into labels
 * (pixels NULL). `name` names the source in messages. The fuzz harness drives these. */
int rg_mnist_parse_images(const void *buf, size_t len, const char *name, rg_mnist_raw **out);
int rg_mnist_parse_labels(const void *buf, size_t len, const char *name, rg_mnist_raw **out);

/* Read an IDX image / label file, plain or gzip (zlib detects it), then parse as above. */
int rg_mnist_read_images(const char *path, rg_mnist_raw **out);
int rg_mnist_read_labels(const char *path, rg_mnist_raw **out);

/* Read an image file and its label file into one rg_mnist_raw (pixels and labels). The counts must
 * agree (RG_EFORMAT otherwise). */
int rg_mnist_read_pair(const char *images_path, const char *labels_path, rg_mnist_raw **out);

typedef enum { RG_MNIST_TRAIN = 0, RG_MNIST_TEST = 1 } rg_mnist_split;

/* Load one split from dir (the four file names above, plain or ".gz"): MNIST from data/mnist,
 * Fashion-MNIST from RG_MNIST_FASHION_DIR. Images must be 28 x 28. */
int rg_mnist_load(const char *dir, rg_mnist_split split, rg_mnist_raw **out);

/* Preprocessing (top of file). classes: (n_classes) distinct labels 0..9, n_classes >= 1;
 * n_per_class: images per class (the first ones in file order), 0 for all; center: 1 to subtract the
 * per-pixel mean of the selection (mean: (rows*cols) out, or NULL), 0 to keep x/255.
 * *out: (P, rows*cols) float32 with labels = the digit of each row. RG_EDOM if a class has fewer
 * than n_per_class images, RG_EINVAL for bad arguments. */
int rg_mnist_select(const rg_mnist_raw *m, const int *classes, size_t n_classes, size_t n_per_class,
                    int center, double *mean, rg_data_set **out);

/* Pixels /255 of every image, optionally centred: rg_mnist_select over all ten classes but in file
 * order (row i is image i). */
int rg_mnist_to_set(const rg_mnist_raw *m, int center, double *mean, rg_data_set **out);

/* Paired MNIST (docs/math.md 10.3, top of file). classes: the two digits {c0, c1} (distinct); P >= 2
 * even; rho in [0, 1]; r: the seed, stream RG_STREAM_PAIRS by convention (any stream is accepted).
 * Needs P images of each class in m (RG_EDOM otherwise). *out: (P, 2 * rows * cols) with labels
 * 10 a + b. mean: (rows*cols) pooled mean out, or NULL. */
int rg_mnist_pairs(const rg_mnist_raw *m, const int classes[2], size_t P, double rho, rg_rng r,
                   int center, double *mean, rg_data_set **out);

/* Lambda_c, Lambda_d of a paired set: top eigenvalues of the 1/(P-1) covariances of
 * u = (x + y)/sqrt 2 and v = (x - y)/sqrt 2 (rows of s are (x, y), N = 2 d). Either out may be
 * NULL. RG_EINVAL (N odd, P < 2), RG_ENOMEM, RG_ENOCONV. */
int rg_mnist_pair_spectra(const rg_data_set *s, double *lambda_c, double *lambda_d);

#endif
