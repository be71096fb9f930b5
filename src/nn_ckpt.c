/* nn checkpoints: model and optimiser state in one little-endian file, written atomically, read
 * with every field checked. Layout (nn.h): magic "RGNNCKPT", u32 version, architecture, u64 nparams,
 * float params, u32 has_opt, [optimiser], [u64 meta_len, meta bytes], u64 FNV-1a checksum of
 * everything before it. Version 2 appends f64 sigma_data2 to the architecture and u32 t_log after
 * t_max; version 1 files (neither field) load as plain networks with uniform times. Version 3 adds the
 * metadata (text without NUL, e.g. the JSON of regimes train) just before the checksum, so that a
 * model and what describes it are one file, written by one rename. Parameters and Adam moments must be
 * finite: the writer refuses to store a diverged model, the reader refuses to load one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nn_internal.h"

static const char MAGIC[8] = { 'R', 'G', 'N', 'N', 'C', 'K', 'P', 'T' };

/* This format stores host words; we build only on little-endian hosts (checked at run time). */
static int little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- writer ------------------------------------------------------------------------------------- */

typedef struct { FILE *f; uint64_t h; int bad; } wr;

static void put(wr *w, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) w->h = (w->h ^ c[i]) * 0x100000001b3ull;
    if (fwrite(p, 1, n, w->f) != n) w->bad = 1;
}
static void put_u32(wr *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(wr *w, uint64_t v) { put(w, &v, 8); }
static void put_f64(wr *w, double v) { put(w, &v, 8); }

int rg_nn_save(const char *path, const rg_nn_model *m, const rg_nn_trainer *tr)
{
    return rg_nn_save_meta(path, m, tr, NULL, 0);
}

int rg_nn_save_meta(const char *path, const rg_nn_model *m, const rg_nn_trainer *tr, const char *meta, size_t meta_len)
{
    if (!path || !m || (meta_len && !meta)) RG_FAIL(RG_EINVAL, "rg_nn_save: NULL argument");
    if (meta_len && memchr(meta, '\0', meta_len)) RG_FAIL(RG_EINVAL, "rg_nn_save: the metadata holds a NUL byte");
    const size_t bad = rg__first_nonfinite_f(m->p, m->nparams);
    if (bad < m->nparams)
        RG_FAIL(RG_EDOM, "%s: not written: parameter %zu is %g (a diverged model is never saved)", path, bad,
                (double)m->p[bad]);
    if (tr && rg_nn__trainer_model(tr) != m)
        RG_FAIL(RG_EINVAL, "rg_nn_save: the trainer belongs to another model");
    if (!little_endian()) RG_FAIL(RG_EIO, "rg_nn_save: checkpoints need a little-endian host");
    char *tmp;
    wr w = { NULL, 0xcbf29ce484222325ull, 0 };
    RG_TRY(rg__out_open(path, &tmp, &w.f));
    const rg_nn_arch *a = &m->a;
    put(&w, MAGIC, 8);
    put_u32(&w, RG_NN_CKPT_VERSION);
    put_u32(&w, (uint32_t)a->task);
    put_u32(&w, (uint32_t)a->act);
    put_u64(&w, a->n_in);
    put_u64(&w, a->n_out);
    put_u64(&w, a->n_hidden);
    for (size_t l = 0; l < RG_NN_MAX_HIDDEN; l++) put_u64(&w, l < a->n_hidden ? a->hidden[l] : 0);
    put_u64(&w, a->t_embed);
    put_f64(&w, a->sigma_data2);
    put_u64(&w, m->nparams);
    put(&w, m->p, m->nparams * sizeof *m->p);
    put_u32(&w, tr ? 1u : 0u);
    if (tr) {
        rg_nn__opt_view v;
        rg_nn__trainer_view(tr, &v);
        put_u64(&w, v.c.batch);
        put_u64(&w, v.c.epochs);
        put_u64(&w, v.c.warmup);
        put_u64(&w, v.c.step_every);
        put_u32(&w, (uint32_t)v.c.lr_kind);
        put_f64(&w, v.c.lr);
        put_f64(&w, v.c.lr_min);
        put_f64(&w, v.c.step_gamma);
        put_f64(&w, v.c.beta1);
        put_f64(&w, v.c.beta2);
        put_f64(&w, v.c.adam_eps);
        put_f64(&w, v.c.t_min);
        put_f64(&w, v.c.t_max);
        put_u32(&w, (uint32_t)v.c.t_log);
        put_u64(&w, v.c.seed);
        put_u64(&w, v.P);
        put_u64(&w, v.step);
        put(&w, v.m, m->nparams * sizeof *v.m);
        put(&w, v.v, m->nparams * sizeof *v.v);
    }
    put_u64(&w, meta_len);
    if (meta_len) put(&w, meta, meta_len);
    uint64_t h = w.h;
    put_u64(&w, h);
    return rg__out_commit(w.f, !(w.bad | ferror(w.f)), tmp, path);
}

/* ---- reader ------------------------------------------------------------------------------------- */

typedef struct { const unsigned char *p; size_t n, at; const char *path; } rd;

static int take(rd *r, void *out, size_t n, const char *what)
{
    if (r->n - r->at < n)
        RG_FAIL(RG_EFORMAT, "%s: truncated checkpoint (ends inside %s at byte %zu)", r->path, what, r->n);
    memcpy(out, r->p + r->at, n);
    r->at += n;
    return RG_OK;
}

typedef struct {
    rg_nn_arch a;
    uint64_t nparams;
    const float *params;
    int has_opt;
    rg_nn_train_config c;
    uint64_t P, step;
    const float *m, *v;
    const char *meta; /* version 3: the metadata (meta_len bytes, no NUL), else NULL */
    uint64_t meta_len;
} ckpt;

static int read_u64(rd *r, uint64_t *v, const char *what) { return take(r, v, 8, what); }

/* Parameters the (checked) architecture needs: the layout of nn.c, in 64 bits (at most ~2^43). */
static uint64_t arch_nparams(const rg_nn_arch *a)
{
    uint64_t n = 0, in = a->n_in + a->t_embed;
    for (size_t l = 0; l <= a->n_hidden; l++) {
        uint64_t out = l < a->n_hidden ? a->hidden[l] : a->n_out;
        n += in * out + out;
        in = out;
    }
    return n;
}

/* Parameters and Adam moments are finite (memcpy: the buffer's floats need not be aligned for the check). */
static int check_finite(const char *path, const ckpt *k)
{
    static const char *const what[3] = { "parameter", "Adam first moment", "Adam second moment" };
    const float *arr[3] = { k->params, k->m, k->v };
    for (int a = 0; a < (k->has_opt ? 3 : 1); a++)
        for (uint64_t i = 0; i < k->nparams; i++) {
            float x;
            memcpy(&x, arr[a] + i, sizeof x);
            if (!isfinite(x))
                RG_FAIL(RG_EFORMAT, "%s: %s %llu is %g: a diverged model (refused; retrain with a smaller --lr)", path,
                        what[a], (unsigned long long)i, (double)x);
        }
    return RG_OK;
}

static int parse(rd *r, ckpt *k)
{
    char magic[8];
    uint32_t ver = 0, task = 0, act = 0, has = 0;
    uint64_t u[4 + RG_NN_MAX_HIDDEN];
    if (r->n < 8 || memcmp(r->p, MAGIC, 8) != 0)
        RG_FAIL(RG_EFORMAT, "%s: not a regimes nn checkpoint (bad magic)", r->path);
    RG_TRY(take(r, magic, 8, "the magic"));
    RG_TRY(take(r, &ver, 4, "the version"));
    if (ver < 1 || ver > RG_NN_CKPT_VERSION)
        RG_FAIL(RG_EFORMAT, "%s: checkpoint version %u, this build reads versions 1 to %u", r->path, ver,
                RG_NN_CKPT_VERSION);
    RG_TRY(take(r, &task, 4, "the architecture"));
    RG_TRY(take(r, &act, 4, "the architecture"));
    for (size_t i = 0; i < 3 + RG_NN_MAX_HIDDEN + 1; i++) RG_TRY(read_u64(r, &u[i], "the architecture"));
    memset(&k->a, 0, sizeof k->a);
    k->a.task = (rg_nn_task)task;
    k->a.act = (rg_nn_act)act;
    k->a.n_in = (size_t)u[0];
    k->a.n_out = (size_t)u[1];
    k->a.n_hidden = (size_t)u[2];
    for (size_t l = 0; l < RG_NN_MAX_HIDDEN; l++) k->a.hidden[l] = (size_t)u[3 + l];
    k->a.t_embed = (size_t)u[3 + RG_NN_MAX_HIDDEN];
    if (ver >= 2) RG_TRY(take(r, &k->a.sigma_data2, 8, "the architecture"));
    if (task > 1 || act > 1 || u[2] > RG_NN_MAX_HIDDEN || rg_nn_arch_check(&k->a))
        RG_FAIL(RG_EFORMAT, "%s: invalid architecture in checkpoint (%s)", r->path,
                task > 1 || act > 1 || u[2] > RG_NN_MAX_HIDDEN ? "bad enum or depth" : rg_nn_arch_check(&k->a));
    RG_TRY(read_u64(r, &k->nparams, "the parameter count"));
    /* Before anything is allocated: a forged header must not make the loader build a 4 TB model. */
    if (k->nparams != arch_nparams(&k->a))
        RG_FAIL(RG_EFORMAT, "%s: %llu parameters, the architecture needs %llu", r->path,
                (unsigned long long)k->nparams, (unsigned long long)arch_nparams(&k->a));
    if (k->nparams > (r->n - r->at) / 4)
        RG_FAIL(RG_EFORMAT, "%s: truncated checkpoint (%llu parameters announced)", r->path, (unsigned long long)k->nparams);
    k->params = (const float *)(const void *)(r->p + r->at);
    r->at += k->nparams * 4;
    RG_TRY(take(r, &has, 4, "the optimiser flag"));
    if (has > 1) RG_FAIL(RG_EFORMAT, "%s: corrupted checkpoint (optimiser flag %u)", r->path, has);
    k->has_opt = (int)has;
    if (has) {
        uint64_t b[4];
        uint32_t kind;
        double f[8];
        for (int i = 0; i < 4; i++) RG_TRY(read_u64(r, &b[i], "the optimiser state"));
        RG_TRY(take(r, &kind, 4, "the optimiser state"));
        for (int i = 0; i < 8; i++) RG_TRY(take(r, &f[i], 8, "the optimiser state"));
        k->c = (rg_nn_train_config){ .batch = (size_t)b[0], .epochs = (size_t)b[1], .warmup = (size_t)b[2],
                                     .step_every = (size_t)b[3], .lr_kind = (rg_nn_lr_kind)kind, .lr = f[0],
                                     .lr_min = f[1], .step_gamma = f[2], .beta1 = f[3], .beta2 = f[4],
                                     .adam_eps = f[5], .t_min = f[6], .t_max = f[7] };
        uint32_t tlog = 0;
        if (ver >= 2) RG_TRY(take(r, &tlog, 4, "the optimiser state"));
        k->c.t_log = (int)(tlog > 1 ? 2 : tlog);   /* 2: rejected by rg_nn_train_check below */
        RG_TRY(read_u64(r, &k->c.seed, "the optimiser state"));
        RG_TRY(read_u64(r, &k->P, "the optimiser state"));
        RG_TRY(read_u64(r, &k->step, "the optimiser state"));
        if (kind > 2 || rg_nn_train_check(&k->c))
            RG_FAIL(RG_EFORMAT, "%s: invalid training configuration in checkpoint", r->path);
        if (k->nparams > (r->n - r->at) / 8)
            RG_FAIL(RG_EFORMAT, "%s: truncated checkpoint (ends inside the Adam moments)", r->path);
        k->m = (const float *)(const void *)(r->p + r->at);
        k->v = k->m + k->nparams;
        r->at += k->nparams * 8;
    }
    k->meta = NULL, k->meta_len = 0;
    if (ver >= 3) {
        RG_TRY(read_u64(r, &k->meta_len, "the metadata length"));
        if (k->meta_len > r->n - r->at)
            RG_FAIL(RG_EFORMAT, "%s: truncated checkpoint (%llu bytes of metadata announced)", r->path,
                    (unsigned long long)k->meta_len);
        k->meta = (const char *)(const void *)(r->p + r->at);
        r->at += k->meta_len;
    }
    uint64_t h = 0xcbf29ce484222325ull, want;
    for (size_t i = 0; i < r->at; i++) h = (h ^ r->p[i]) * 0x100000001b3ull;
    RG_TRY(read_u64(r, &want, "the checksum"));
    if (r->at != r->n) RG_FAIL(RG_EFORMAT, "%s: %zu trailing bytes after the checkpoint", r->path, r->n - r->at);
    if (h != want) RG_FAIL(RG_EFORMAT, "%s: checksum mismatch (corrupted checkpoint)", r->path);
    if (k->meta_len && memchr(k->meta, '\0', k->meta_len))
        RG_FAIL(RG_EFORMAT, "%s: the metadata holds a NUL byte (not text)", r->path);
    return check_finite(r->path, k);
}

/* Read the whole file into *buf (8-byte aligned by malloc): a regular file only (a FIFO or a device such
 * as /dev/zero is refused before anything is read), exactly as many bytes as it holds. */
static int slurp(const char *path, unsigned char **buf, size_t *n)
{
    FILE *f;
    unsigned long long size;
    RG_TRY(rg__open_regular(path, &f, &size));
    unsigned char *b = size < SIZE_MAX ? malloc(size ? (size_t)size : 1) : NULL;
    if (!b) {
        fclose(f);
        RG_FAIL(RG_ENOMEM, "%s: out of memory for a checkpoint of %llu bytes", path, size);
    }
    size_t len = fread(b, 1, (size_t)size, f);
    int err = ferror(f), more = getc(f) != EOF;
    fclose(f);
    if (err || len != size || more) {
        free(b);
        RG_FAIL(RG_EIO, "%s: read error (the file changed while being read?)", path);
    }
    *buf = b;
    *n = len;
    return RG_OK;
}

static int load_ckpt(const char *path, unsigned char **buf, ckpt *k)
{
    if (!little_endian()) RG_FAIL(RG_EIO, "%s: checkpoints need a little-endian host", path);
    size_t n = 0;
    RG_TRY(slurp(path, buf, &n));
    rd r = { *buf, n, 0, path };
    int st = parse(&r, k);
    if (st != RG_OK) { free(*buf); *buf = NULL; }
    return st;
}

int rg_nn_load(const char *path, rg_nn_model **out) { return rg_nn_load_meta(path, out, NULL, NULL); }

int rg_nn_load_meta(const char *path, rg_nn_model **out, char **meta, size_t *meta_len)
{
    if (!path || !out || (meta && !meta_len)) RG_FAIL(RG_EINVAL, "rg_nn_load: NULL argument");
    *out = NULL;
    if (meta) *meta = NULL, *meta_len = 0;
    unsigned char *buf = NULL;
    ckpt k;
    RG_TRY(load_ckpt(path, &buf, &k));
    rg_nn_model *m = NULL;
    int st = rg_nn_model_new(&k.a, 0, &m);
    if (st == RG_OK && m->nparams != k.nparams) {
        size_t want = m->nparams;
        rg_nn_model_free(m);
        free(buf);
        RG_FAIL(RG_EFORMAT, "%s: %llu parameters, the architecture needs %zu", path,
                (unsigned long long)k.nparams, want);
    }
    if (st == RG_OK) memcpy(m->p, k.params, m->nparams * sizeof *m->p);
    if (st == RG_OK && meta && k.meta_len) {
        if (!(*meta = malloc((size_t)k.meta_len + 1))) {
            rg_nn_model_free(m);
            free(buf);
            RG_FAIL(RG_ENOMEM, "%s: out of memory for %llu bytes of metadata", path, (unsigned long long)k.meta_len);
        }
        memcpy(*meta, k.meta, (size_t)k.meta_len);
        (*meta)[k.meta_len] = '\0';
        *meta_len = (size_t)k.meta_len;
    }
    free(buf);
    if (st == RG_OK) *out = m;
    return st;
}

int rg_nn_trainer_restore(rg_nn_trainer *tr, const char *path)
{
    if (!tr || !path) RG_FAIL(RG_EINVAL, "rg_nn_trainer_restore: NULL argument");
    unsigned char *buf = NULL;
    ckpt k;
    RG_TRY(load_ckpt(path, &buf, &k));
    const rg_nn_model *m = rg_nn__trainer_model(tr);
    rg_nn__opt_view v;
    rg_nn__trainer_view(tr, &v);
    const char *why = NULL;
    if (!k.has_opt) why = "it holds no optimiser state";
    else if (!rg_nn__arch_equal(&k.a, &m->a) || k.nparams != m->nparams) why = "its architecture differs";
    else if (k.c.batch != v.c.batch) why = "its batch size differs";
    else if (k.c.seed != v.c.seed) why = "its training seed differs";
    else if (k.P != v.P) why = "its training-set size differs";
    if (why) {
        free(buf);
        RG_FAIL(RG_EFORMAT, "%s: cannot resume this training: %s", path, why);
    }
    rg_nn__trainer_set(tr, k.step, k.params, k.m, k.v);
    free(buf);
    return RG_OK;
}
