/* Discrete noise schedules and their OU clock (docs/math.md 1.3, 11.1). Contracts: include/regimes/noise.h.
 *
 * Every constructor fills abar_k and t_k, then one check (noise_check_value) validates each step
 * against the one before: finite, in (0, 1), abar strictly decreasing, t strictly increasing. The
 * DDPM constructors keep the log of the product, so t_k = -1/2 sum_{j<=k} log(1 - beta_j) carries no
 * exp/log round trip (and RG_GRID_DDPM, which builds its grid from these t_k, keeps its bits). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/io.h"
#include "internal.h"
#include "noise_internal.h"

#define NOISE_PI 3.14159265358979323846
#define NOISE_COS_S 0.008        /* Nichol & Dhariwal's offset s */
#define NOISE_COS_BETA_MAX 0.999 /* their clip of beta */
#define NOISE_LINE_MAX 255       /* characters on one line of a schedule file */

struct rg_noise {
    size_t K;
    double *abar; /* (K) */
    double *t;    /* (K) -1/2 log abar */
};

static int noise_alloc(size_t K, const char *who, rg_noise **out)
{
    if (K < 1 || K > RG_NOISE_MAX_STEPS)
        RG_FAIL(RG_EINVAL, "%s: K = %zu steps, want 1 <= K <= %d", who, K, RG_NOISE_MAX_STEPS);
    rg_noise *s = malloc(sizeof *s);
    double *buf = malloc(2 * K * sizeof *buf);
    if (!s || !buf) {
        free(s);
        free(buf);
        RG_FAIL(RG_ENOMEM, "%s: out of memory for %zu steps", who, K);
    }
    s->K = K;
    s->abar = buf;
    s->t = buf + K;
    *out = s;
    return RG_OK;
}

void rg_noise_free(rg_noise *s)
{
    if (!s) return;
    free(s->abar);
    free(s);
}

/* Step k with abar a and time t after step k - 1 (a_prev, t_prev; ignored for k = 0). where: the
 * message prefix ("noise table", "PATH:LINE"). */
static int noise_check_value(const char *where, size_t k, double a, double t, double a_prev, double t_prev)
{
    if (!isfinite(a)) RG_FAIL(RG_EINVAL, "%s: abar[%zu] = %g is not finite", where, k, a);
    if (!(a > 0.0 && a < 1.0)) RG_FAIL(RG_EINVAL, "%s: abar[%zu] = %.17g is outside (0, 1)", where, k, a);
    if (k > 0 && !(a < a_prev))
        RG_FAIL(RG_EDOM, "%s: abar[%zu] = %.17g is not below abar[%zu] = %.17g (a schedule decreases strictly)",
                where, k, a, k - 1, a_prev);
    if (k > 0 && !(t > t_prev))
        RG_FAIL(RG_EDOM, "%s: abar[%zu] and abar[%zu] give the same time t = %.17g in double precision",
                where, k - 1, k, t);
    return RG_OK;
}

static int noise_check_all(const char *where, const rg_noise *s)
{
    for (size_t k = 0; k < s->K; k++)
        RG_TRY(noise_check_value(where, k, s->abar[k], s->t[k], k ? s->abar[k - 1] : 1.0, k ? s->t[k - 1] : 0.0));
    return RG_OK;
}

/* Fill abar and t from the running sums la_k = sum_{j<=k} log(1 - beta_j) held in s->t, then check. */
static int noise_finish(const char *where, rg_noise *s, rg_noise **out)
{
    int st = RG_OK;
    for (size_t k = 0; k < s->K; k++) {
        s->abar[k] = exp(s->t[k]);
        s->t[k] = -0.5 * s->t[k];
        if (st == RG_OK && s->abar[k] == 0.0)
            st = rg__fail(RG_EDOM, __FILE__, __LINE__, "%s: abar underflows to 0 at step %zu (t = %g)", where, k, s->t[k]);
    }
    if (st == RG_OK) st = noise_check_all(where, s);
    if (st != RG_OK) {
        rg_noise_free(s);
        return st;
    }
    *out = s;
    return RG_OK;
}

int rg_noise_ddpm_linear(double b0, double b1, size_t K, rg_noise **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "ddpm-linear: out is NULL");
    *out = NULL;
    if (!(b0 > 0.0 && b0 <= b1 && b1 < 1.0))
        RG_FAIL(RG_EINVAL, "ddpm-linear: want 0 < b0 <= b1 < 1, got b0 = %g, b1 = %g", b0, b1);
    if (K < 2) RG_FAIL(RG_EINVAL, "ddpm-linear: K = %zu steps, want K >= 2", K);
    rg_noise *s;
    RG_TRY(noise_alloc(K, "ddpm-linear", &s));
    double la = 0.0;
    for (size_t j = 0; j < K; j++) {
        const double beta = b0 + (b1 - b0) * (double)j / (double)(K - 1);
        la += log1p(-beta);
        s->t[j] = la;
    }
    return noise_finish("ddpm-linear", s, out);
}

/* log(1 - beta_k) before the clip: 2 log(cos x1 / cos x0) with x = ((u + s)/(1 + s)) pi/2 at u = k/K and
 * (k+1)/K, x1 = x0 + d. The ratio is cos d - tan(x0) sin d, so its log is log1p(-2 sin^2(d/2) - tan(x0) sin d):
 * no cancellation (1 - cos x0/cos x1 would lose 1e-12 relative on the first betas, which are 4e-5).
 * -INFINITY once the ratio reaches 0 (x1 = pi/2, the last step), which the clip then replaces. */
static double cos_log_ratio(size_t k, size_t K)
{
    const double x0 = ((double)k / (double)K + NOISE_COS_S) / (1.0 + NOISE_COS_S) * NOISE_PI / 2.0;
    const double d = NOISE_PI / 2.0 / (1.0 + NOISE_COS_S) / (double)K, h = sin(d / 2.0);
    const double arg = -2.0 * h * h - tan(x0) * sin(d);
    return arg > -1.0 ? 2.0 * log1p(arg) : -(double)INFINITY;
}

int rg_noise_ddpm_cosine(size_t K, rg_noise **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "ddpm-cosine: out is NULL");
    *out = NULL;
    rg_noise *s;
    RG_TRY(noise_alloc(K, "ddpm-cosine", &s));
    const double log_min = log1p(-NOISE_COS_BETA_MAX); /* log(1 - 0.999): the clipped step */
    double la = 0.0;
    for (size_t k = 0; k < K; k++) {
        const double lr = cos_log_ratio(k, K);
        la += lr < log_min ? log_min : lr;
        s->t[k] = la;
    }
    return noise_finish("ddpm-cosine", s, out);
}

int rg_noise_table(size_t K, const double *abar, rg_noise **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "noise table: out is NULL");
    *out = NULL;
    if (!abar) RG_FAIL(RG_EINVAL, "noise table: abar is NULL");
    rg_noise *s;
    RG_TRY(noise_alloc(K, "noise table", &s));
    for (size_t k = 0; k < K; k++) {
        s->abar[k] = abar[k];
        s->t[k] = -0.5 * log(abar[k]);
    }
    int st = noise_check_all("noise table", s);
    if (st != RG_OK) {
        rg_noise_free(s);
        return st;
    }
    *out = s;
    return RG_OK;
}

/* ---- files --------------------------------------------------------------------------------------- */

/* Append v to the growing array (*a, *cap). */
static int noise_push(double **a, size_t *n, size_t *cap, double v, const char *path)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 1024;
        double *b = realloc(*a, nc * sizeof *b);
        if (!b) RG_FAIL(RG_ENOMEM, "%s: out of memory for %zu schedule values", path, nc);
        *a = b;
        *cap = nc;
    }
    (*a)[(*n)++] = v;
    return RG_OK;
}

/* Parse the values of f, each checked against the previous one as it is read. */
static int noise_parse(FILE *f, const char *path, size_t max_steps, double **vals, size_t *n)
{
    char buf[NOISE_LINE_MAX + 1], where[600];
    size_t len, line = 0, cap = 0;
    double t_prev = 0.0;
    int r;
    while ((r = rg__text_line(f, buf, NOISE_LINE_MAX, &len)) != 0) {
        line++;
        if (r == -1) RG_FAIL(RG_EFORMAT, "%s:%zu: NUL byte: not a text file", path, line);
        if (r == -2) RG_FAIL(RG_EFORMAT, "%s:%zu: line longer than %d characters", path, line, NOISE_LINE_MAX);
        const char *p = buf;
        while (rg__is_blank(*p)) p++;
        if (*p == '\0' || *p == '#') continue;
        const size_t k = rg_io_real_len(p); /* decimal only, as every text input (io.h) */
        const double a = k ? strtod(p, NULL) : (double)NAN;
        const char *q = p + k;
        while (rg__is_blank(*q)) q++;
        if (k == 0 || *q != '\0')
            RG_FAIL(RG_EFORMAT, "%s:%zu: want one number (abar) per line, got '%.40s'", path, line, p);
        if (*n == max_steps)
            RG_FAIL(RG_EFORMAT, "%s:%zu: more than %zu schedule values", path, line, max_steps);
        double t = -0.5 * log(a);
        snprintf(where, sizeof where, "%s:%zu", path, line);
        RG_TRY(noise_check_value(where, *n, a, t, *n ? (*vals)[*n - 1] : 1.0, t_prev));
        RG_TRY(noise_push(vals, n, &cap, a, path));
        t_prev = t;
    }
    if (ferror(f)) RG_FAIL(RG_EIO, "%s: read error after line %zu", path, line);
    if (*n == 0) RG_FAIL(RG_EFORMAT, "%s: no schedule values (one abar per line)", path);
    return RG_OK;
}

int rg_noise_read(const char *path, rg_noise **out) { return rg__noise_read_max(path, RG_NOISE_MAX_STEPS, out); }

int rg__noise_read_max(const char *path, size_t max_steps, rg_noise **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_noise_read: out is NULL");
    *out = NULL;
    if (!path) RG_FAIL(RG_EINVAL, "rg_noise_read: path is NULL");
    FILE *f;
    RG_TRY(rg__open_regular(path, &f, NULL));
    double *vals = NULL;
    size_t n = 0;
    int st = noise_parse(f, path, max_steps, &vals, &n);
    fclose(f);
    if (st == RG_OK) st = rg_noise_table(n, vals, out); /* cannot fail on checked values, but may on memory */
    free(vals);
    return st;
}

/* ---- queries ------------------------------------------------------------------------------------- */

size_t rg_noise_steps(const rg_noise *s) { return s ? s->K : 0; }

double rg_noise_abar(const rg_noise *s, size_t k) { return s && k < s->K ? s->abar[k] : (double)NAN; }

double rg_noise_time(const rg_noise *s, size_t k) { return s && k < s->K ? s->t[k] : (double)NAN; }

int rg_noise_step(const rg_noise *s, double t, size_t *k)
{
    if (!s || !k) RG_FAIL(RG_EINVAL, "rg_noise_step: NULL argument");
    if (isnan(t)) RG_FAIL(RG_EDOM, "noise schedule: time is NaN");
    if (t > s->t[s->K - 1])
        RG_FAIL(RG_EDOM, "noise schedule: t = %.17g is beyond the last step (t_%zu = %.17g)", t, s->K - 1,
                s->t[s->K - 1]);
    size_t lo = 0, hi = s->K - 1; /* invariant: t_hi >= t; the answer is in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->t[mid] >= t) hi = mid;
        else lo = mid + 1;
    }
    *k = lo;
    return RG_OK;
}
