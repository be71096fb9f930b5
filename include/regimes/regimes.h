/* regimes: dynamical regimes of diffusion models. Umbrella header: include this one.
 * Modules (docs/library.md): error (status codes), linalg (dense algebra), rng (Philox streams),
 * process (forward processes and exact moments), nonrev (LNP optimal non-reversible drift), data
 * (mixtures, training sets, .npy), theory (speciation, collapse, gaps), score (exact mixture and
 * empirical scores), sampler (reverse-time integrators, grids, cloning), measure (docs/math.md 8
 * estimators), io (atomic CSV/text, plots), mnist (IDX files, MNIST preprocessing, paired images),
 * nn (MLP classifier and score network), schedule (coupling-schedule design), noise (DDPM noise
 * schedules and their OU clock), experiment (clone, sample, collapse, decay and the theory report as
 * library calls). */
#ifndef REGIMES_REGIMES_H
#define REGIMES_REGIMES_H

#include "regimes/error.h"
#include "regimes/linalg.h"
#include "regimes/rng.h"
#include "regimes/process.h"
#include "regimes/nonrev.h"
#include "regimes/data.h"
#include "regimes/theory.h"
#include "regimes/score.h"
#include "regimes/sampler.h"
#include "regimes/measure.h"
#include "regimes/io.h"
#include "regimes/mnist.h"
#include "regimes/nn.h"
#include "regimes/schedule.h"
#include "regimes/noise.h"
#include "regimes/experiment.h"

#endif
