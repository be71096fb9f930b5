/* The metadata of a checkpoint (model.h): loading it, and a small reader of a JSON object's top-level
 * keys. Every input is bounded by its NUL terminator; nothing here recurses (nesting is counted). */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "regimes/error.h"
#include "regimes/io.h"

#define SIDECAR_MAX ((long)64 << 20) /* bytes of a FILE.json fallback */

int model_sidecar_path(char *buf, size_t len, const char *ckpt)
{
    int n = snprintf(buf, len, "%s.json", ckpt);
    if (n < 0 || (size_t)n >= len) return cli_usage("checkpoint path too long: '%s'", ckpt);
    return RG_OK;
}

void model_argv_free(int argc, char **argv)
{
    for (int i = 0; i < argc && argv; i++) free(argv[i]);
    free(argv);
}

/* ---- JSON scanning -------------------------------------------------------------------------------- */
static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

/* Past the JSON string at p (which starts with '"'), or NULL if it is not closed. */
static const char *skip_string(const char *p)
{
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && !*++p) return NULL;
    return *p == '"' ? p + 1 : NULL;
}

/* Past the JSON value at p (string, number, literal, array or object), or NULL if malformed. Nesting
 * is counted, not recursed into; strings inside are skipped whole. */
static const char *skip_value(const char *p)
{
    long depth = 0;
    p = ws(p);
    do {
        if (*p == '"') {
            if (!(p = skip_string(p))) return NULL;
        } else if (*p == '[' || *p == '{') {
            depth++, p++;
        } else if (*p == ']' || *p == '}') {
            if (--depth < 0) return NULL;
            p++;
        } else if (*p == ',' || *p == ':') {
            if (depth == 0) return NULL;
            p++;
        } else if (*p) {
            const char *q = p;
            while (*p && !strchr(" \n\t\r,:[]{}\"", *p)) p++;
            if (p == q) return NULL;
        } else {
            return NULL; /* the end inside a value */
        }
        p = ws(p);
    } while (depth > 0);
    return p;
}

/* The value of the top-level key of the JSON object text (after blanks), or NULL when the key is absent
 * or the object malformed before it. */
static const char *find_key(const char *text, const char *key)
{
    const char *p = ws(text);
    const size_t klen = strlen(key);
    if (*p++ != '{') return NULL;
    for (p = ws(p); *p == '"'; p = ws(p + 1)) {
        const char *k = p + 1, *e = skip_string(p);
        if (!e) return NULL;
        const int match = (size_t)(e - 1 - k) == klen && memcmp(k, key, klen) == 0;
        p = ws(e);
        if (*p++ != ':') return NULL;
        if (match) return ws(p);
        if (!(p = skip_value(p))) return NULL;
        if (*p != ',') return NULL;
    }
    return NULL;
}

/* The JSON string at *p into a new buffer (escapes \" \\ \/ \n \t \r \b \f and \u00XX, XX > 0, what
 * cli_json_str writes); *p moves past it. NULL if malformed. */
static char *json_string(const char **p)
{
    const char *s = *p, *end = *s == '"' ? skip_string(s) : NULL;
    if (!end) return NULL;
    char *out = malloc((size_t)(end - s)), *o = out;
    if (!out) return NULL;
    for (s++; *s != '"'; s++) {
        if (*s != '\\') {
            *o++ = *s;
            continue;
        }
        const char c = *++s, plain = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'f' ? '\f'
                                   : c == '"' || c == '\\' || c == '/' ? c : 0;
        if (plain) {
            *o++ = plain;
        } else if (*s == 'u' && s[1] == '0' && s[2] == '0' && s[3] && s[4]) {
            char hex[3] = { s[3], s[4], 0 }, *e;
            long v = strtol(hex, &e, 16);
            if (*e || v <= 0) break;
            *o++ = (char)v;
            s += 4;
        } else {
            break;
        }
    }
    if (*s != '"') {
        free(out);
        return NULL;
    }
    *o = 0;
    *p = s + 1;
    return out;
}

/* A finite decimal JSON number at *p; *p moves past it. */
static int json_number(const char **p, double *x)
{
    const size_t n = rg_io_real_len(*p);
    char *end;
    if (n == 0) return 0;
    *x = strtod(*p, &end);
    if (end != *p + n) return 0; /* "0x1p3": strtod reads hexadecimal, the decimal rule stops at the 0 */
    *p += n;
    return isfinite(*x);
}

/* ---- the keys regimes reads -------------------------------------------------------------------------- */
int model_meta_process_argv(const char *meta, const char *what, int *argc, char ***argv)
{
    *argc = 0;
    *argv = NULL;
    const char *p = find_key(meta, "process_argv");
    if (!p) return cli_usage("%s: no \"process_argv\" (not a score network of regimes train)", what);
    if (*p != '[') return cli_usage("%s: \"process_argv\" is not an array of strings", what);
    p++;
    int n = 0, cap = 8, ok = 1;
    char **v = malloc((size_t)cap * sizeof *v);
    if (!v) return cli_nomem("out of memory");
    for (p = ws(p); ok && *p != ']'; p = ws(p)) {
        if (n > 0 && *p != ',') { /* never step past the terminating NUL */
            ok = 0;
            break;
        }
        p = ws(p + (n > 0));
        char *s = json_string(&p);
        if (s && n == cap && n < (1 << 20)) {
            char **nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (nv) v = nv;
            else cap /= 2;
        }
        if (!s || n == cap) {
            free(s);
            ok = 0;
            break;
        }
        v[n++] = s;
    }
    if (!ok || *p != ']') {
        model_argv_free(n, v);
        return cli_usage("%s: \"process_argv\" is not an array of strings", what);
    }
    *argc = n;
    *argv = v;
    return RG_OK;
}

int model_meta_number(const char *meta, const char *key, double *out)
{
    const char *p = find_key(meta, key);
    double x;
    if (!p || !json_number(&p, &x)) return RG_EINVAL;
    *out = x;
    return RG_OK;
}

int model_meta_mean(const char *meta, const char *what, size_t N, double **mean)
{
    *mean = NULL;
    const char *p = find_key(meta, "mean");
    if (!p || strncmp(p, "null", 4) == 0) return RG_OK;
    double *m = malloc((N ? N : 1) * sizeof *m);
    size_t n = 0;
    int ok = m && *p == '[';
    for (p = ok ? ws(p + 1) : p; ok && *p != ']'; p = ws(p)) {
        if (n > 0 && *p != ',') ok = 0; /* never step past the terminating NUL */
        if (ok) p = ws(p + (n > 0));
        if (ok && (n == N || !json_number(&p, &m[n++]))) ok = 0;
    }
    if (!ok || n != N) {
        free(m);
        return cli_usage("%s: \"mean\" is not an array of %zu finite numbers", what, N);
    }
    *mean = m;
    return RG_OK;
}

/* ---- loading ------------------------------------------------------------------------------------------ */
/* FILE.json of ckpt: a regular file, read whole (at most SIDECAR_MAX bytes). */
static int read_sidecar(const char *flag, const char *ckpt, char **text)
{
    char path[4096];
    *text = NULL;
    if (model_sidecar_path(path, sizeof path, ckpt)) return RG_EINVAL;
    if (cli_check_input(flag, path)) return RG_EINVAL;
    FILE *f = fopen(path, "rb");
    if (!f) return cli_usage("%s: cannot read '%s': %s", flag, path, strerror(errno));
    char *buf = malloc((size_t)SIDECAR_MAX + 1);
    size_t len = buf ? fread(buf, 1, (size_t)SIDECAR_MAX + 1, f) : 0;
    const int err = ferror(f);
    fclose(f);
    if (!buf) return cli_nomem("out of memory for '%s'", path);
    if (err || len > (size_t)SIDECAR_MAX || memchr(buf, 0, len)) {
        free(buf);
        return cli_usage("%s: '%s' is not a sidecar of regimes train (unreadable, too large or not text)", flag, path);
    }
    buf[len] = 0;
    *text = buf;
    return RG_OK;
}

int model_load(const char *flag, const char *ckpt, rg_nn_model **m, char **meta)
{
    size_t len = 0;
    *m = NULL;
    *meta = NULL;
    if (cli_check_input(flag, ckpt)) return RG_EINVAL;
    if (rg_nn_load_meta(ckpt, m, meta, &len)) return cli_usage("%s: %s", flag, rg_strerror_last());
    int st = *meta ? RG_OK : read_sidecar(flag, ckpt, meta); /* versions 1 and 2: the file beside it */
    if (st) rg_nn_model_free(*m), *m = NULL;
    return st;
}
