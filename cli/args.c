/* Strict argument scanning and number parsing for the regimes CLI (see args.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "regimes/error.h"
#include "regimes/io.h"
#include "args.h"

static const char *cli_cmd = "regimes";

void cli_set_command(const char *name) { cli_cmd = name; }
const char *cli_command(void) { return cli_cmd; }

static void vreport(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", cli_cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return RG_EINVAL;
}

int cli_runtime(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return RG_EIO;
}

int cli_nomem(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return RG_ENOMEM;
}

int cli_status(int status)
{
    const char *msg = rg_strerror_last();
    /* "regimes schedule: schedule: ..." would say the command twice: a library message that starts with
     * the command's own name drops it */
    const char *word = strrchr(cli_cmd, ' ');
    const size_t wl = word ? strlen(++word) : 0;
    if (wl && strncmp(msg, word, wl) == 0 && msg[wl] == ':' && msg[wl + 1] == ' ') msg += wl + 2;
    fprintf(stderr, "%s: %s\n", cli_cmd, msg[0] ? msg : rg_status_name(status));
    return status;
}

int cli_exit_code(int status)
{
    if (status == RG_OK) return 0;
    return status == RG_EINVAL || status == RG_EDOM || status == RG_EFORMAT ? 2 : 1;
}

/* Index of the option whose name is the first len characters of arg, or -1. */
static int lookup(const cli_opt *opts, size_t n, const char *arg, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, arg, len) == 0) return (int)i;
    return -1;
}

int cli_scan(int argc, char **argv, int first, cli_opt *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) opts[i].value = NULL;
    for (int a = first; a < argc; a++) {
        const char *arg = argv[a], *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return cli_usage("unexpected argument '%s' (options start with --; see --help)", arg);
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        int k = lookup(opts, n, arg, len);
        if (k < 0) return cli_usage("unknown option '%.*s' (see --help)", (int)len, arg);
        cli_opt *o = &opts[k];
        if (o->value) return cli_usage("%s given twice", o->name);
        if (!o->has_arg) {
            if (eq) return cli_usage("%s takes no value, got '%s'", o->name, eq + 1);
            o->value = "";
            continue;
        }
        const char *v = eq ? eq + 1 : (a + 1 < argc ? argv[++a] : NULL);
        if (!v || (!eq && strncmp(v, "--", 2) == 0)) return cli_usage("%s needs a value", o->name);
        o->value = v;
    }
    return RG_OK;
}

const cli_opt *cli_find(const cli_opt *opts, size_t n, const char *name)
{
    int k = lookup(opts, n, name, strlen(name));
    return k < 0 ? NULL : &opts[k];
}

static int in_range(double x, cli_range r)
{
    int lo_ok = r.lo_open ? x > r.lo : x >= r.lo;
    int hi_ok = r.hi_open ? x < r.hi : x <= r.hi;
    return lo_ok && hi_ok;
}

/* 1 if s holds a non-zero digit before any exponent: a literal that must not parse to 0. */
static int nonzero_literal(const char *s)
{
    for (; *s && *s != 'e' && *s != 'E'; s++)
        if (*s >= '1' && *s <= '9') return 1;
    return 0;
}

int cli_parse_double(const char *flag, const char *s, cli_range r, double *out)
{
    const size_t len = rg_io_real_len(s); /* decimal only, as in every text file (io.h) */
    errno = 0;
    double x = len ? strtod(s, NULL) : (double)NAN;
    int ok = len == strlen(s) && isfinite(x) && in_range(x, r);
    if (ok && errno == ERANGE && (x != 0.0 || nonzero_literal(s))) ok = 0; /* overflow / underflow */
    if (ok) {
        *out = x;
        return RG_OK;
    }
    return cli_usage("%s wants a number in %c%g, %g%c, got '%s'", flag, r.lo_open ? '(' : '[', r.lo, r.hi,
                     r.hi_open ? ')' : ']', s);
}

int cli_parse_size(const char *flag, const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end;
    int ok = s[0] >= '0' && s[0] <= '9';
    errno = 0;
    unsigned long long x = ok ? strtoull(s, &end, 10) : 0;
    ok = ok && *end == '\0' && errno != ERANGE && x >= lo && x <= hi;
    if (ok) {
        *out = (size_t)x;
        return RG_OK;
    }
    return cli_usage("%s wants an integer in [%zu, %zu], got '%s'", flag, lo, hi, s);
}

int cli_parse_choice(const char *flag, const char *s, const char *const *words, int *out)
{
    char list[256] = "";
    for (int i = 0; words[i]; i++) {
        if (strcmp(s, words[i]) == 0) {
            *out = i;
            return RG_OK;
        }
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? "|" : "", words[i]);
    }
    return cli_usage("%s wants one of %s, got '%s'", flag, list, s);
}

int cli_parse_list(const char *flag, const char *s, cli_range r, double **out, size_t *n_out)
{
    size_t n = 1;
    for (const char *c = s; *c; c++) n += *c == ',';
    double *v = malloc(n * sizeof *v);
    if (!v) return cli_nomem("%s: out of memory", flag);
    char buf[64];
    const char *item = s;
    for (size_t i = 0; i < n; i++) {
        const char *comma = strchr(item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen(item);
        if (len == 0 || len >= sizeof buf) {
            free(v);
            return cli_usage("%s wants a comma-separated list of numbers, got '%s'", flag, s);
        }
        memcpy(buf, item, len);
        buf[len] = '\0';
        if (cli_parse_double(flag, buf, r, &v[i])) {
            free(v);
            return RG_EINVAL;
        }
        item += len + 1;
    }
    *out = v;
    *n_out = n;
    return RG_OK;
}

static const char *kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
         : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symbolic link" : "not a plain file";
}

int cli_check_input(const char *flag, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || access(path, R_OK) != 0)
        return cli_usage("%s: cannot read '%s': %s", flag, path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return cli_usage("%s: '%s' is a directory, want a file", flag, path);
    if (!S_ISREG(sb.st_mode)) return cli_usage("%s: '%s' is %s, want a regular file", flag, path, kind(sb.st_mode));
    return RG_OK;
}

int cli_check_output_path(const char *flag, const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0 || S_ISREG(sb.st_mode)) return RG_OK; /* absent (the writer says why if it cannot) */
    if (S_ISDIR(sb.st_mode)) return cli_usage("%s: '%s' is a directory, want a file", flag, path);
    return cli_usage("%s: '%s' is %s, not a regular file: refusing to replace it", flag, path, kind(sb.st_mode));
}

int cli_check_output_file(const char *flag, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (path[0] == '\0' || (slash && slash[1] == '\0')) return cli_usage("%s wants a file name, got '%s'", flag, path);
    if (n >= sizeof dir) return cli_usage("%s: path too long", flag);
    if (!slash) strcpy(dir, ".");
    else if (n == 0) strcpy(dir, "/");
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    struct stat sb;
    if (cli_check_output_path(flag, path)) return RG_EINVAL;
    if (stat(dir, &sb) != 0) return cli_usage("%s: cannot use directory '%s': %s", flag, dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return cli_usage("%s: '%s' is not a directory", flag, dir);
    if (access(dir, W_OK | X_OK) != 0) return cli_usage("%s: directory '%s' is not writable", flag, dir);
    return RG_OK;
}
