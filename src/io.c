/* Atomic CSV, text and PNG grid files, gnuplot plots (io.h). */
#define _POSIX_C_SOURCE 200809L
#include "regimes/io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <png.h>

#include "regimes/error.h"
#include "internal.h"

static void put_num(FILE *f, double x)
{
    if (isnan(x)) fputs("nan", f);
    else if (isinf(x)) fputs(x > 0 ? "inf" : "-inf", f);
    else fprintf(f, "%.17g", x);
}

int rg_io_csv_write(const char *path, size_t ncol, const char *const *header, size_t nrow, const double *data)
{
    if (!path || !header || ncol == 0 || (nrow && !data)) RG_FAIL(RG_EINVAL, "io: csv needs a path, >= 1 column and data");
    for (size_t j = 0; j < ncol; j++)
        if (!header[j] || strpbrk(header[j], ",\n\r")) RG_FAIL(RG_EINVAL, "io: csv column %zu has no name or a comma", j);
    char *tmp;
    FILE *f;
    RG_TRY(rg__out_open(path, &tmp, &f));
    for (size_t j = 0; j < ncol; j++) fprintf(f, "%s%s", j ? "," : "", header[j]);
    fputc('\n', f);
    for (size_t i = 0; i < nrow; i++) {
        for (size_t j = 0; j < ncol; j++) {
            if (j) fputc(',', f);
            put_num(f, data[i * ncol + j]);
        }
        fputc('\n', f);
    }
    return rg__out_commit(f, !ferror(f), tmp, path);
}

int rg_io_text_write(const char *path, const char *text, size_t len)
{
    if (!path || (len && !text)) RG_FAIL(RG_EINVAL, "io: text needs a path");
    char *tmp;
    FILE *f;
    RG_TRY(rg__out_open(path, &tmp, &f));
    int ok = fwrite(text, 1, len, f) == len;
    return rg__out_commit(f, ok, tmp, path);
}

/* A gnuplot string literal: single quotes, a quote doubled. */
/* ---- PNG grids ---- */

/* Tile k's pixels into the 8-bit canvas px (W wide). */
static void png_tile(unsigned char *px, size_t W, size_t k, size_t cols, size_t h, size_t w, const float *img,
                     float lo, float hi)
{
    const size_t R = k / cols, C = k % cols;
    const double span = (double)hi - (double)lo;
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++) {
            double v = ((double)img[(k * h + y) * w + x] - (double)lo) / span;
            v = isnan(v) ? 0.0 : fmin(fmax(v, 0.0), 1.0);
            px[(R * (h + 1) + y) * W + C * (w + 1) + x] = (unsigned char)lround(255.0 * v);
        }
}

/* Encode the canvas into f; 1 on success (libpng reports errors by longjmp). */
static int png_encode(FILE *f, unsigned char *px, png_bytep *rowp, size_t W, size_t H)
{
    volatile int ok = 0; /* read after a longjmp */
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    for (size_t y = 0; y < H; y++) rowp[y] = px + y * W;
    if (png && info && !setjmp(png_jmpbuf(png))) {
        png_init_io(png, f);
        png_set_IHDR(png, info, (png_uint_32)W, (png_uint_32)H, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        png_write_image(png, rowp);
        png_write_end(png, NULL);
        ok = 1;
    }
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    return ok;
}

int rg_io_png_grid(const char *path, size_t n, size_t h, size_t w, const float *img, size_t cols, float lo, float hi)
{
    if (!path || !img || n == 0 || h == 0 || w == 0 || cols == 0)
        RG_FAIL(RG_EINVAL, "io: png grid needs a path, >= 1 image of >= 1 x 1 pixels and >= 1 column");
    if (!(hi > lo) || isinf(lo) || isinf(hi)) RG_FAIL(RG_EINVAL, "io: png grid needs finite lo < hi (got %g, %g)", (double)lo, (double)hi);
    if (cols > n) cols = n;
    const size_t rows = (n + cols - 1) / cols;
    if (h > 100000 / rows || w > 100000 / cols) RG_FAIL(RG_EINVAL, "io: png grid of %zu x %zu tiles of %zu x %zu is too large", rows, cols, h, w);
    const size_t W = cols * w + (cols - 1), H = rows * h + (rows - 1);
    unsigned char *px = calloc(W * H, 1);
    png_bytep *rowp = malloc(H * sizeof *rowp);
    if (!px || !rowp) {
        free(px);
        free(rowp);
        RG_FAIL(RG_ENOMEM, "io: png grid of %zu x %zu pixels", W, H);
    }
    for (size_t k = 0; k < n; k++) png_tile(px, W, k, cols, h, w, img, lo, hi);
    char *tmp;
    FILE *f;
    int st = rg__out_open(path, &tmp, &f);
    if (st == RG_OK) st = rg__out_commit(f, png_encode(f, px, rowp, W, H), tmp, path);
    free(px);
    free(rowp);
    return st;
}

/* ---- gnuplot ---- */

static int tmp_name(char *buf, size_t len, const char *path, const char *suffix)
{
    int n = snprintf(buf, len, "%s%s", path, suffix);
    if (n < 0 || (size_t)n >= len) RG_FAIL(RG_EINVAL, "io: path too long: %s", path);
    return RG_OK;
}

static void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '\'') fputc('\'', f);
        if (*s != '\n') fputc(*s, f);
    }
    fputc('\'', f);
}

int rg_io_plot(const char *png_path, const char *title, const char *xlabel, const char *ylabel, size_t n_series,
               const rg_io_series *series)
{
    if (!png_path || !series || n_series == 0) RG_FAIL(RG_EINVAL, "io: a plot needs a path and >= 1 series");
    for (size_t k = 0; k < n_series; k++)
        if (!series[k].x || !series[k].y || series[k].n == 0 || (!series[k].lo != !series[k].hi))
            RG_FAIL(RG_EINVAL, "io: plot series %zu has no points or half an error band", k);
    char dat[4200], gp[4200], png_tmp[4200];
    RG_TRY(tmp_name(dat, sizeof dat, png_path, ".dat.tmp"));
    RG_TRY(tmp_name(gp, sizeof gp, png_path, ".gp.tmp"));
    RG_TRY(tmp_name(png_tmp, sizeof png_tmp, png_path, ".tmp"));
    if (strpbrk(png_path, "'\"\n")) RG_FAIL(RG_EINVAL, "io: plot path has a quote or newline: %s", png_path);
    RG_TRY(rg__check_output(png_path));
    FILE *d, *g, *p;
    RG_TRY(rg__create_scratch(dat, &d));
    for (size_t k = 0; k < n_series; k++) { /* one gnuplot data block per series */
        for (size_t i = 0; i < series[k].n; i++) {
            put_num(d, series[k].x[i]), fputc(' ', d), put_num(d, series[k].y[i]);
            if (series[k].lo) fputc(' ', d), put_num(d, series[k].lo[i]), fputc(' ', d), put_num(d, series[k].hi[i]);
            fputc('\n', d);
        }
        fputs("\n\n", d);
    }
    int ok = !ferror(d);
    if (fclose(d) != 0 || !ok) {
        remove(dat);
        RG_FAIL(RG_EIO, "io: cannot write %s", dat);
    }
    int st = rg__create_scratch(gp, &g);
    if (st == RG_OK) { /* gnuplot writes the PNG into a regular file we created, never through a link */
        st = rg__create_scratch(png_tmp, &p);
        if (st == RG_OK) fclose(p);
        else fclose(g), remove(gp);
    }
    if (st != RG_OK) {
        remove(dat);
        return st;
    }
    fputs("set terminal pngcairo size 800,500 font 'sans,10'\nset output ", g);
    gp_str(g, png_tmp);
    fputs("\nset title ", g), gp_str(g, title);
    fputs("\nset xlabel ", g), gp_str(g, xlabel);
    fputs("\nset ylabel ", g), gp_str(g, ylabel);
    fputs("\nset key outside right top\nset grid\nplot ", g);
    for (size_t k = 0; k < n_series; k++) {
        fputs(k ? ", " : "", g);
        gp_str(g, dat);
        fprintf(g, " index %zu using 1:2%s with %s title ", k, series[k].lo ? ":3:4" : "",
                series[k].lo ? "yerrorbars" : series[k].points ? "points pt 7 ps 0.8" : "lines lw 2");
        gp_str(g, series[k].label);
    }
    fputc('\n', g);
    ok = !ferror(g);
    if (fclose(g) != 0 || !ok) {
        remove(dat), remove(gp), remove(png_tmp);
        RG_FAIL(RG_EIO, "io: cannot write %s", gp);
    }
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "gnuplot '%s' >/dev/null 2>&1", gp);
    int rc = system(cmd);
    remove(dat);
    remove(gp);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        remove(png_tmp);
        RG_FAIL(RG_EIO, "io: gnuplot failed for %s (is gnuplot installed?)", png_path);
    }
    char *tmp = malloc(strlen(png_tmp) + 1);
    if (!tmp) {
        remove(png_tmp);
        RG_FAIL(RG_ENOMEM, "%s: out of memory", png_path);
    }
    strcpy(tmp, png_tmp);
    return rg__out_commit(NULL, 1, tmp, png_path);
}
