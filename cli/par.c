/* regimes CLI: the MPI layer (par.h). */
#include "par.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"

#ifdef RG_HAVE_MPI
#include <mpi.h>
#include <limits.h>

static int g_on, g_rank, g_size = 1;
/* The 2-D grid of --shard-train S (docs/scale.md): ranks w = g S + s; g_scomm holds the S ranks of group g
 * (one copy of the training set, the same trajectories), g_tcomm the ranks with the same s across groups
 * (the trajectory split; world rank 0 is its rank 0). Without the flag g_tcomm is MPI_COMM_WORLD. */
static MPI_Comm g_tcomm = MPI_COMM_WORLD, g_scomm = MPI_COMM_NULL;
static int g_trank, g_tsize = 1, g_srank, g_ssize = 1;
static double g_shard_s; /* seconds inside the shard allgather */

int par_compiled(void) { return 1; }

static int launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE") ||
           getenv("MPI_LOCALNRANKS");
}

int par_init(int *argc, char ***argv)
{
    if (!launched_by_mpirun()) return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fputs("regimes: MPI_Init failed\n", stderr);
        return -1;
    }
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_trank = g_rank, g_tsize = g_size;
    /* Only rank 0 talks: the other ranks' stdout goes nowhere, their stderr keeps errors. */
    if (g_rank != 0 && !freopen("/dev/null", "w", stdout)) return -1;
    return 0;
}

void par_finalize(void)
{
    if (g_scomm != MPI_COMM_NULL) MPI_Comm_free(&g_scomm), MPI_Comm_free(&g_tcomm);
    g_scomm = MPI_COMM_NULL, g_tcomm = MPI_COMM_WORLD;
    if (g_on) MPI_Finalize();
    g_on = 0;
}

int par_rank(void) { return g_rank; }
int par_size(void) { return g_size; }

void par_slice(size_t n, size_t *lo, size_t *hi)
{
    size_t s = (size_t)g_tsize, r = (size_t)g_trank;
    *lo = n * r / s;
    *hi = n * (r + 1) / s;
}

/* Counts and displacements (in elements) of every rank's slice; NULL when too large for int. */
static int *layout(size_t n, size_t len)
{
    int *cd = malloc(2 * (size_t)g_tsize * sizeof *cd);
    if (!cd) return NULL;
    for (int r = 0; r < g_tsize; r++) {
        size_t lo = n * (size_t)r / (size_t)g_tsize, hi = n * (size_t)(r + 1) / (size_t)g_tsize;
        if (hi * len > (size_t)INT_MAX) {
            free(cd);
            return NULL;
        }
        cd[r] = (int)((hi - lo) * len);
        cd[g_tsize + r] = (int)(lo * len);
    }
    return cd;
}

static int gather(void *buf, size_t n, size_t len, MPI_Datatype type, int all)
{
    if (!g_on || g_tsize == 1) return 0;
    int *cd = layout(n, len);
    if (!cd) return -1;
    int rc;
    if (all)
        rc = MPI_Allgatherv(MPI_IN_PLACE, 0, type, buf, cd, cd + g_tsize, type, g_tcomm);
    else if (g_trank == 0)
        rc = MPI_Gatherv(MPI_IN_PLACE, 0, type, buf, cd, cd + g_tsize, type, 0, g_tcomm);
    else {
        int sz;
        MPI_Type_size(type, &sz);
        rc = MPI_Gatherv((char *)buf + (size_t)cd[g_tsize + g_trank] * (size_t)sz, cd[g_trank], type, NULL,
                         NULL, NULL, type, 0, g_tcomm);
    }
    free(cd);
    return rc == MPI_SUCCESS ? 0 : -1;
}

int par_gather_float(float *buf, size_t n, size_t len) { return gather(buf, n, len, MPI_FLOAT, 0); }
int par_gather_double(double *buf, size_t n, size_t len) { return gather(buf, n, len, MPI_DOUBLE, 0); }
int par_gather_int(int *buf, size_t n, size_t len) { return gather(buf, n, len, MPI_INT, 0); }
int par_allgather_double(double *buf, size_t n, size_t len) { return gather(buf, n, len, MPI_DOUBLE, 1); }

int par_status(int st)
{
    if (!g_on || g_size == 1) return st;
    int out = st;
    MPI_Allreduce(&st, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return out;
}

static int comm_gather(void *ctx, rg_exp_type type, void *buf, size_t n, size_t len, int all)
{
    (void)ctx;
    const MPI_Datatype t = type == RG_EXP_INT ? MPI_INT : type == RG_EXP_FLOAT ? MPI_FLOAT : MPI_DOUBLE;
    return gather(buf, n, len, t, all) == 0 ? RG_OK : RG_EIO; /* the library names the failure */
}

static int hook_gather(void *ctx, rg_exp_type type, void *buf, size_t n, size_t len)
{
    return comm_gather(ctx, type, buf, n, len, 0);
}

static int hook_allgather(void *ctx, rg_exp_type type, void *buf, size_t n, size_t len)
{
    return comm_gather(ctx, type, buf, n, len, 1);
}

static int hook_agree(void *ctx, int st)
{
    (void)ctx;
    return par_status(st);
}

const rg_exp_comm *par_comm(void)
{
    static rg_exp_comm c;
    if (!g_on || g_tsize == 1) return NULL;
    c = (rg_exp_comm){ .rank = g_trank, .size = g_tsize, .gather = hook_gather, .allgather = hook_allgather,
                       .agree = hook_agree };
    return &c;
}

int par_shard(int S)
{
    if (S <= 1 || g_scomm != MPI_COMM_NULL) return 0;
    if (!g_on || g_size % S) return -1;
    if (MPI_Comm_split(MPI_COMM_WORLD, g_rank / S, g_rank % S, &g_scomm) != MPI_SUCCESS ||
        MPI_Comm_split(MPI_COMM_WORLD, g_rank % S, g_rank / S, &g_tcomm) != MPI_SUCCESS)
        return -1;
    MPI_Comm_rank(g_scomm, &g_srank), MPI_Comm_size(g_scomm, &g_ssize);
    MPI_Comm_rank(g_tcomm, &g_trank), MPI_Comm_size(g_tcomm, &g_tsize);
    return 0;
}

static int hook_shard(void *ctx, const void *send, void *recv, size_t bytes)
{
    (void)ctx;
    if (bytes > (size_t)INT_MAX) return RG_EIO;
    const double t0 = MPI_Wtime();
    const int rc = MPI_Allgather(send, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE, g_scomm);
    g_shard_s += MPI_Wtime() - t0;
    return rc == MPI_SUCCESS ? RG_OK : RG_EIO;
}

const rg_score_shard_comm *par_shard_comm(void)
{
    static rg_score_shard_comm c;
    if (g_scomm == MPI_COMM_NULL) return NULL;
    c = (rg_score_shard_comm){ .rank = g_srank, .size = g_ssize, .allgather = hook_shard };
    return &c;
}

int par_shard_rank(void) { return g_srank; }
int par_shard_size(void) { return g_ssize; }
double par_shard_seconds(void) { return g_shard_s; }

int par_gather_ranks_double(const double *mine, size_t len, double *all)
{
    if (!g_on || g_size == 1) return memcpy(all, mine, len * sizeof *all), 0;
    if (len > (size_t)INT_MAX) return -1;
    return MPI_Gather(mine, (int)len, MPI_DOUBLE, all, (int)len, MPI_DOUBLE, 0, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

#else /* one process */

const rg_exp_comm *par_comm(void) { return NULL; }
int par_shard(int S) { return S <= 1 ? 0 : -1; }
const rg_score_shard_comm *par_shard_comm(void) { return NULL; }
int par_shard_rank(void) { return 0; }
int par_shard_size(void) { return 1; }
double par_shard_seconds(void) { return 0.0; }
int par_gather_ranks_double(const double *mine, size_t len, double *all)
{
    return memcpy(all, mine, len * sizeof *all), 0;
}

int par_compiled(void) { return 0; }
int par_init(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }
void par_finalize(void) {}
int par_rank(void) { return 0; }
int par_size(void) { return 1; }
void par_slice(size_t n, size_t *lo, size_t *hi) { *lo = 0; *hi = n; }
int par_gather_float(float *buf, size_t n, size_t len) { (void)buf; (void)n; (void)len; return 0; }
int par_gather_double(double *buf, size_t n, size_t len) { (void)buf; (void)n; (void)len; return 0; }
int par_gather_int(int *buf, size_t n, size_t len) { (void)buf; (void)n; (void)len; return 0; }
int par_allgather_double(double *buf, size_t n, size_t len) { (void)buf; (void)n; (void)len; return 0; }
int par_status(int st) { return st; }

#endif

/* ---- threads and the address space ----------------------------------------------------------- */

#include <sys/resource.h>
#include <cblas.h>
#include <omp.h>

#include "args.h"

/* OpenBLAS (Debian 12's build) takes a 128 MiB work buffer (BUFFER_SIZE) for each thread that
 * runs a level-3 or LAPACK call, and when the allocation fails it retries forever at 100% CPU
 * (blas_memory_alloc). Such a thread also reserves a 64 MiB glibc malloc arena and an 8 MiB stack.
 * So under an address-space limit (ulimit -v) that space is checked before any work: one
 * allocation of all of it, plus headroom, released at once. */
enum { PAR_THREAD_MIB = 128 + 64 + 8, PAR_HEADROOM_MIB = 64 };

int par_threads(unsigned n)
{
    if (n) omp_set_num_threads((int)n);
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return RG_OK;
    int t = omp_get_max_threads(), b = openblas_get_num_threads();
    const size_t threads = (size_t)(t > b ? t : b), mib = threads * PAR_THREAD_MIB + PAR_HEADROOM_MIB;
    void *volatile probe = malloc(mib << 20); /* volatile: the compiler may not drop the pair */
    if (probe) {
        free(probe);
        return RG_OK;
    }
    return cli_nomem("out of memory: %zu thread(s) need %zu MiB more address space (OpenBLAS work buffers) than the "
                     "limit of %llu MiB leaves free (ulimit -v); raise the limit or lower --threads",
                     threads, mib, (unsigned long long)(rl.rlim_cur >> 20));
}
