/* libFuzzer harness for the nn checkpoint readers (include/regimes/nn.h): rg_nn_load, and
 * rg_nn_trainer_restore into a small score-network trainer built once (the architecture of the seed
 * corpus: n_in 3, t_embed 2, one hidden layer of 4, batch 2, P 4, seed 1). */
#include "fuzz_common.h"
#include "regimes/nn.h"
#include "regimes/process.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rg_nn_trainer *trainer(void)
{
    static rg_nn_trainer *tr;
    static rg_nn_model *m;
    static rg_process *p;
    static float X[12];
    if (tr) return tr;
    size_t hid[1] = { 4 };
    rg_nn_arch a = rg_nn_score_arch(3, 2, 1, hid);
    rg_nn_train_config c = rg_nn_train_defaults();
    c.batch = 2;
    c.epochs = 1;
    c.warmup = 0;
    c.seed = 1;
    for (int i = 0; i < 12; i++) X[i] = 1.0f;
    if (rg_process_ou(3, &p) || rg_nn_model_new(&a, 1, &m)) abort();
    rg_nn_data d = { .P = 4, .X = X, .labels = NULL, .process = p };
    if (rg_nn_trainer_new(m, &c, &d, &tr)) abort();
    return tr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    rg_nn_model *m = NULL;
    if (rg_nn_load(path, &m) == 0 && !m) abort();
    rg_nn_model_free(m);
    (void)rg_nn_trainer_restore(trainer(), path);
    return 0;
}
