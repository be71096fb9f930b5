/* regimes: dynamical regimes of diffusion models. Umbrella header: include this one.
 * Modules: error (status codes), linalg (dense algebra), rng (Philox streams), process (forward
 * processes and exact moments), nonrev (LNP optimal non-reversible drift), data (mixtures, training
 * sets, .npy), theory (speciation, collapse, gaps). */
#ifndef REGIMES_REGIMES_H
#define REGIMES_REGIMES_H

#include "regimes/error.h"
#include "regimes/linalg.h"
#include "regimes/rng.h"
#include "regimes/process.h"
#include "regimes/nonrev.h"
#include "regimes/data.h"
#include "regimes/theory.h"
#include "regimes/nn.h"
#include "regimes/schedule.h"

#endif
