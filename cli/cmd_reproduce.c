#define _POSIX_C_SOURCE 200809L
/* `regimes reproduce NAME`: a paper's experiment end to end, theory beside measurement, with plots
 * and report.md whose rows carry a verdict against a stated tolerance (MATH.md 8, 9). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/io.h"
#include "args.h"
#include "cli.h"
#include "par.h"
#include "run.h"

#define TOL_TS 0.10 /* issue tolerance: measured t_S within 10% of theory, or theory inside the interval */

typedef struct {
    FILE *md;
    int rows, pass;
} report;

static void row(report *r, const char *exp, const char *what, double th, double me, double lo, double hi,
                double tol_abs)
{
    int ok = isfinite(me) && isfinite(th) && (fabs(me - th) <= tol_abs || (lo <= th && th <= hi));
    fprintf(r->md, "| %s | %s | %.4g | %.4g | [%.4g, %.4g] | ±%.3g or theory in interval | %s |\n", exp, what, th, me,
            lo, hi, tol_abs, ok ? "pass" : "FAIL");
    r->rows++;
    r->pass += ok;
}

/* One clone experiment: argv built from words, files into dir/sub; summary into *s. */
static int clone_run(const char *dir, const char *sub, const char *extra, size_t pairs, uint64_t seed,
                     clone_summary *s)
{
    char out[1024], line[2048];
    snprintf(out, sizeof out, "%s/%s", dir, sub);
    snprintf(line, sizeof line, "clone %s --samples %zu --seed %llu --quiet --out %s", extra, pairs,
             (unsigned long long)seed, out);
    char *argv[64];
    int argc = 0;
    for (char *tok = strtok(line, " "); tok && argc < 63; tok = strtok(NULL, " ")) argv[argc++] = tok;
    argv[argc] = NULL;
    memset(s, 0, sizeof *s);
    return clone_main(argc, argv, s);
}

/* phi curves of several runs against their theories, one PNG. */
static int plot_phi(const char *dir, const char *name, const char *title, size_t n, const clone_summary *s,
                    const char *const *labels, size_t mode)
{
    rg_io_series ser[16];
    double buf[16][4][64];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 2 <= 16; i++) {
        size_t m = s[i].m < 64 ? s[i].m : 64, w = 1 + 4 * s[i].L;
        for (size_t j = 0; j < m; j++) {
            const double *rw = s[i].res + j * w;
            buf[k][0][j] = rw[0], buf[k][1][j] = rw[1 + 4 * mode], buf[k][2][j] = rw[2 + 4 * mode];
            buf[k][3][j] = rw[3 + 4 * mode], buf[k + 1][1][j] = rw[4 + 4 * mode];
        }
        ser[k] = (rg_io_series){ labels[2 * i], m, buf[k][0], buf[k][1], buf[k][2], buf[k][3], 1 };
        ser[k + 1] = (rg_io_series){ labels[2 * i + 1], m, buf[k][0], buf[k + 1][1], NULL, NULL, 0 };
        k += 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int st = rg_io_plot(path, title, "branch time t_b (forward, OU units)", "phi(t_b)", k, ser);
    return st ? cli_status(st) : CLI_OK;
}

static int speciation_gmm(const char *dir, size_t pairs, uint64_t seed, report *r)
{
    static const size_t D[3] = { 64, 256, 1024 };
    clone_summary s[3];
    char extra[256], sub[64];
    static char lab[6][64];
    const char *labels[6];
    int st = CLI_OK;
    size_t n = 0;
    for (size_t i = 0; i < 3 && !st; i++, n++) {
        snprintf(extra, sizeof extra, "--process ou --data gmm2 --dim %zu --sigma2 1", D[i]);
        snprintf(sub, sizeof sub, "speciation-gmm/d%zu", D[i]);
        st = clone_run(dir, sub, extra, pairs, seed, &s[i]);
        if (st) break;
        char what[64];
        snprintf(what, sizeof what, "t_S, d = %zu, \\|m\\|^2 = d", D[i]);
        row(r, "speciation-gmm", what, s[i].ts_theory[0], s[i].ts[0], s[i].ts_lo[0], s[i].ts_hi[0],
            TOL_TS * s[i].ts_theory[0]);
        snprintf(lab[2 * i], 64, "measured d = %zu", D[i]);
        snprintf(lab[2 * i + 1], 64, "theory d = %zu", D[i]);
        labels[2 * i] = lab[2 * i], labels[2 * i + 1] = lab[2 * i + 1];
    }
    if (!st) {
        st = plot_phi(dir, "speciation-gmm.png", "Cloning curves, two-class GMM (MATH.md 7.2)", n, s, labels, 0);
        fprintf(r->md, "\n![phi](speciation-gmm.png)\n\n");
    }
    for (size_t i = 0; i < n; i++) free(s[i].res);
    return st;
}

static int multimodal_gmm(const char *dir, size_t pairs, uint64_t seed, report *r)
{
    static const char *const CFG[][2] = {
        { "gamma-0.5", "--gamma -0.5" },  { "gamma0", "--gamma 0" },     { "gamma0.25", "--gamma 0.25" },
        { "gamma0.5", "--gamma 0.5" },    { "gamma0.75", "--gamma 0.75" },
        { "aniso-a", "--gamma-xy 0.6 --gamma-yx 0.2" }, { "aniso-b", "--rate-x 1.5 --rate-y 0.8 --gamma-xy 0.3 --gamma-yx 0.3" },
        { "schedule", "--schedule piecewise:1:0,inf:0.6" },
    };
    enum { NC = sizeof CFG / sizeof CFG[0] };
    int st = CLI_OK;
    double gx[NC], gm[NC], glo[NC], ghi[NC], gth[NC];
    size_t ng = 0;
    for (size_t i = 0; i < NC && !st; i++) {
        char extra[256], sub[96];
        snprintf(extra, sizeof extra, "--process coupled --data gmm4 --dim 128 --mc2 25 --md2 9 --sigma2 1 %s", CFG[i][1]);
        snprintf(sub, sizeof sub, "multimodal-gmm/%s", CFG[i][0]);
        clone_summary s;
        st = clone_run(dir, sub, extra, pairs, seed, &s);
        if (st) break;
        static const char *const MODE[2] = { "common", "difference" };
        for (size_t l = 0; l < 2; l++) {
            char what[96];
            snprintf(what, sizeof what, "t_S %s, %s", MODE[l], CFG[i][0]);
            row(r, "multimodal-gmm", what, s.ts_theory[l], s.ts[l], s.ts_lo[l], s.ts_hi[l], TOL_TS * s.ts_theory[l]);
        }
        char what[96];
        snprintf(what, sizeof what, "gap, %s", CFG[i][0]);
        /* The gap is a difference of two times: 10% of the later time as its tolerance. */
        row(r, "multimodal-gmm", what, s.gap_theory, s.gap, s.gap_lo, s.gap_hi, TOL_TS * fmax(s.ts_theory[0], s.ts_theory[1]));
        if (i < 5) {
            gx[ng] = (double[]){ -0.5, 0, 0.25, 0.5, 0.75 }[i];
            gm[ng] = s.gap, glo[ng] = s.gap_lo, ghi[ng] = s.gap_hi, gth[ng] = s.gap_theory;
            ng++;
        }
        free(s.res);
    }
    if (!st && ng) {
        rg_io_series ser[2] = { { "measured gap", ng, gx, gm, glo, ghi, 1 }, { "theory", ng, gx, gth, NULL, NULL, 0 } };
        char path[4096];
        snprintf(path, sizeof path, "%s/multimodal-gmm.png", dir);
        int s2 = rg_io_plot(path, "Synchronization gap against gamma (cross-drive)", "gamma", "t_S(common) - t_S(difference)", 2, ser);
        if (s2) st = cli_status(s2);
        fprintf(r->md, "\n![gap](multimodal-gmm.png)\n\n");
    }
    return st;
}

static const char *const NAMES[] = { "speciation-gmm", "multimodal-gmm", NULL };

int cmd_reproduce(int argc, char **argv)
{
    cli_set_command("regimes reproduce");
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        fputs("usage: regimes reproduce NAME [--out DIR] [--samples N] [--seed S]\n"
              "\n"
              "NAME: speciation-gmm   two-class GMM, d = 64, 256, 1024: phi(t_b) and t_S against theory\n"
              "      multimodal-gmm   4-component GMM (d = 128, |m_c|^2 = 25, |m_d|^2 = 9): t_S per mode and the\n"
              "                       gap for cross-drive gamma in {-0.5, 0, 0.25, 0.5, 0.75}, two anisotropic\n"
              "                       couplings and one schedule\n"
              "Writes DIR/NAME/... (phi.csv, meta.json per run), DIR/NAME.png and DIR/report.md: a row per\n"
              "quantity with theory, measurement, its 95% interval and a verdict (pass when within 10% of\n"
              "theory or the theory lies inside the interval). Defaults: --out results/reproduce,\n"
              "--samples 400 clone pairs per branch time, --seed 1. Exit 0 even when a row fails (the\n"
              "report says so); 2 for bad usage.\n", stdout);
        return CLI_OK;
    }
    if (argc < 2 || strncmp(argv[1], "--", 2) == 0) return cli_usage("missing NAME (speciation-gmm, multimodal-gmm)");
    int which;
    if (cli_parse_choice("NAME", argv[1], NAMES, &which)) return CLI_USAGE;
    cli_opt v[3] = { { "--out", 1, NULL }, { "--samples", 1, NULL }, { "--seed", 1, NULL } };
    if (cli_scan(argc, argv, 2, v, 3)) return CLI_USAGE;
    size_t pairs = 400, seed = 1;
    if (v[1].value && cli_parse_size("--samples", v[1].value, 10, 1000000, &pairs)) return CLI_USAGE;
    if (v[2].value && cli_parse_size("--seed", v[2].value, 0, (size_t)-1, &seed)) return CLI_USAGE;
    const char *dir = v[0].value ? v[0].value : "results/reproduce";
    int st = par_rank() == 0 ? run_outdir(dir) : CLI_OK;
    if ((st = par_status(st))) return st;
    double t0 = run_now();
    char *text = NULL;
    size_t len = 0;
    report r = { open_memstream(&text, &len), 0, 0 };
    if (!r.md) return cli_runtime("out of memory");
    fprintf(r.md, "# regimes reproduce %s\n\n`regimes reproduce %s --samples %zu --seed %zu --out %s`\n\n", NAMES[which],
            NAMES[which], pairs, seed, dir);
    fputs("| experiment | quantity | theory | measured | 95% interval | tolerance | verdict |\n|---|---|---|---|---|---|---|\n", r.md);
    st = which == 0 ? speciation_gmm(dir, pairs, seed, &r) : multimodal_gmm(dir, pairs, seed, &r);
    fprintf(r.md, "\n%d of %d rows pass. Wall time %.0f s, %d rank(s).\n", r.pass, r.rows, run_now() - t0, par_size());
    fclose(r.md);
    cli_set_command("regimes reproduce");
    if (!st && par_rank() == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/report.md", dir);
        int s = rg_io_text_write(path, text, len);
        if (s) st = cli_status(s);
        else printf("%s: %d of %d rows pass (%s)\n", NAMES[which], r.pass, r.rows, path);
    }
    free(text);
    return st;
}
