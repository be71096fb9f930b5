/* regimes CLI: processes (MPI) for experiments, or one process when MPI is absent or unused.
 *
 * Work is split by item (trajectory, clone pair, sweep point): rank r owns the contiguous slice
 * par_slice(n) of items 0 .. n-1. Every random number is addressed by its item's index (rng.h),
 * so an item's result does not depend on which rank computed it. Ranks fill their slice of a
 * full-size buffer, par_gather_* collects the slices on rank 0 in item order, and only rank 0
 * reduces and writes: the files are bit-identical for any number of ranks (and threads).
 *
 * MPI is initialised only when the process was started by mpirun/mpiexec (their environment
 * variables say so): a plain `regimes theory` pays nothing for it. Without RG_HAVE_MPI every call
 * is the one-process identity. */
#ifndef REGIMES_CLI_PAR_H
#define REGIMES_CLI_PAR_H

#include <stddef.h>

#include "regimes/experiment.h"

/* Start MPI if launched by mpirun. Returns 0, or -1 after one line on stderr. */
int par_init(int *argc, char ***argv);
void par_finalize(void);
int par_rank(void);
int par_size(void);
/* 1 when MPI was compiled in (reported by --version and meta.json). */
int par_compiled(void);

/* This rank's items [*lo, *hi) of n. */
void par_slice(size_t n, size_t *lo, size_t *hi);

/* buf holds n items of len elements on every rank, this rank's slice filled in. On return rank 0
 * holds all of them (other ranks' buffers are unchanged). Return 0, or -1 on an MPI failure. */
int par_gather_float(float *buf, size_t n, size_t len);
int par_gather_double(double *buf, size_t n, size_t len);
int par_gather_int(int *buf, size_t n, size_t len);
/* The same, and every rank ends with all items. */
int par_allgather_double(double *buf, size_t n, size_t len);

/* The largest status over ranks (every rank calls it): so all ranks fail or succeed together. */
int par_status(int st);

/* Use n OpenMP threads (0: the default) and check, under an address-space limit, that OpenBLAS's
 * per-thread work buffers fit (it spins forever when they do not). RG_OK, or RG_ENOMEM after one
 * line on stderr. */
int par_threads(unsigned n);

/* These hooks as the experiment layer's rg_exp_comm (experiment.h); NULL in one process. */
const rg_exp_comm *par_comm(void);

/* The 2-D rank grid of --shard-train S (docs/scale.md): the size ranks form size / S groups of S
 * consecutive ranks; the S ranks of a group hold one copy of the training set between them
 * (rg_score_emp_new_shard over par_shard_comm) and compute the same trajectories, which are split over
 * the groups (par_comm, par_slice and par_gather_* then run over the groups; par_status and par_rank
 * stay on all ranks, world rank 0 writes). Call once, before par_comm. 0, or -1 when S does not divide
 * the rank count (or MPI fails). S <= 1: nothing changes. */
int par_shard(int S);
/* The group's allgather for the sharded score, NULL without sharding; this rank in the group, its size. */
const rg_score_shard_comm *par_shard_comm(void);
int par_shard_rank(void);
int par_shard_size(void);
/* Seconds this rank spent inside the shard allgather (the communication share of a sharded run). */
double par_shard_seconds(void);
/* Every world rank's len doubles mine on rank 0, in rank order, into all (par_size() * len; read on rank
 * 0 only). Every rank calls it. 0, or -1 on an MPI failure. */
int par_gather_ranks_double(const double *mine, size_t len, double *all);

#endif
