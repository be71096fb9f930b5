/* Where the real MNIST files are, for the tests that use them (test_mnist, test_train): the
 * RG_MNIST_DIR environment variable, else the compile-time RG_MNIST_DIR, else data/mnist of the
 * source tree (scripts/get-mnist.sh; make check fetches it). Tests skip when the files are absent. */
#ifndef RG_TEST_MNIST_H
#define RG_TEST_MNIST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RG_TEST_STR_(x) #x
#define RG_TEST_STR(x) RG_TEST_STR_(x)

/* The MNIST directory; buf of 4096. */
static inline const char *rg_test_mnist_dir(char *buf)
{
    const char *e = getenv("RG_MNIST_DIR");
    if (e && *e) return e;
#ifdef RG_MNIST_DIR
    (void)buf;
    return RG_TEST_STR(RG_MNIST_DIR);
#else
    const char *me = __FILE__, *cut = strstr(me, "tests/rg_test_mnist.h");
    if (!cut) return "data/mnist";
    snprintf(buf, 4096, "%.*sdata/mnist", (int)(cut - me), me);
    return buf;
#endif
}

/* 1 when dir holds the four idx files, each plain or ".gz". */
static inline int rg_test_mnist_present(const char *dir)
{
    static const char *names[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
    char p[4200];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (access(p, R_OK) != 0) {
            snprintf(p, sizeof p, "%s/%s.gz", dir, names[i]);
            if (access(p, R_OK) != 0) return 0;
        }
    }
    return 1;
}

#endif
