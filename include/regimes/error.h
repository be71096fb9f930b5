/* regimes: status codes and the last error message.
 *
 * Every library function that can fail returns an int status: RG_OK (0) or one of the codes below,
 * and leaves a one-line message naming the problem, readable with rg_strerror_last() on the same
 * thread. The library never prints, exits or reads the environment; the CLI turns a status into an
 * exit code (RG_EINVAL, RG_EDOM, RG_EFORMAT: bad input, exit 2; others: runtime failure, exit 1). */
#ifndef REGIMES_ERROR_H
#define REGIMES_ERROR_H

enum {
    RG_OK = 0,
    RG_EINVAL,  /* a bad argument: wrong size, NaN, out of range */
    RG_ENOMEM,  /* allocation failed */
    RG_EIO,     /* a file could not be read or written */
    RG_EDOM,    /* mathematically invalid input: not SPD, not antisymmetric, unstable drift */
    RG_EFORMAT, /* a file has the wrong format */
    RG_ENOCONV  /* an iteration did not converge */
};

/* This thread's last error message ("" if none). Valid until the next failing call. */
const char *rg_strerror_last(void);

/* Short name of a status code ("RG_EDOM", ...). */
const char *rg_status_name(int status);

#endif
