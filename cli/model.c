/* The sidecar FILE.json of a checkpoint: path and the process_argv reader (model.h). */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "regimes/error.h"

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

/* One JSON string at *p (after optional blanks) into a new buffer; *p moves past it. NULL if
 * malformed. Escapes: \" \\ \/ and \u00XX (what cli_json_str writes). */
static char *json_string(const char **p)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
    if (*s != '"') return NULL;
    s++;
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out) return NULL;
    while (*s && *s != '"') {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++;
        if (*s == '"' || *s == '\\' || *s == '/') *o++ = *s++;
        else if (*s == 'u' && strncmp(s + 1, "00", 2) == 0 && s[3] && s[4]) {
            char hex[3] = { s[3], s[4], 0 }, *end;
            long v = strtol(hex, &end, 16);
            if (*end || v <= 0) break;
            *o++ = (char)v;
            s += 5;
        } else
            break;
    }
    if (*s != '"') {
        free(out);
        return NULL;
    }
    *o = 0;
    *p = s + 1;
    return out;
}

static int parse_array(const char *text, const char *path, int *argc, char ***argv)
{
    const char *p = strstr(text, "\"process_argv\"");
    if (!p) return cli_usage("%s: no \"process_argv\" (not a score-network sidecar of regimes train)", path);
    p += strlen("\"process_argv\"");
    while (*p == ' ') p++;
    if (*p++ != ':') return cli_usage("%s: malformed process_argv", path);
    while (*p == ' ') p++;
    if (*p++ != '[') return cli_usage("%s: malformed process_argv", path);
    int n = 0, cap = 8;
    char **v = malloc((size_t)cap * sizeof *v);
    if (!v) return cli_nomem("out of memory");
    for (;;) {
        while (*p == ' ' || *p == '\n') p++;
        if (*p == ']') break;
        if (n > 0) {
            if (*p++ != ',') break;
        }
        char *s = json_string(&p);
        if (!s) break;
        if (n == cap) {
            char **nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!nv) {
                free(s);
                break;
            }
            v = nv;
        }
        v[n++] = s;
    }
    if (*p != ']') {
        model_argv_free(n, v);
        return cli_usage("%s: malformed process_argv", path);
    }
    *argc = n;
    *argv = v;
    return RG_OK;
}

/* The sidecar's text (malloc'ed) into *text, its path into path (4096). */
static int read_sidecar(const char *ckpt, char *path, char **text)
{
    *text = NULL;
    if (model_sidecar_path(path, 4096, ckpt)) return RG_EINVAL;
    FILE *f = fopen(path, "rb");
    if (!f) return cli_usage("cannot read the checkpoint's sidecar '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!nb || cap > (1u << 24)) {
                free(nb ? nb : buf);
                fclose(f);
                return cli_usage("%s: too large for a sidecar", path);
            }
            buf = nb;
        }
        buf[len++] = (char)c;
    }
    int err = ferror(f);
    fclose(f);
    if (err || !buf) {
        free(buf);
        return cli_usage("cannot read the checkpoint's sidecar '%s'", path);
    }
    buf[len] = 0;
    *text = buf;
    return RG_OK;
}

int model_read_process_argv(const char *ckpt, int *argc, char ***argv)
{
    char path[4096], *text;
    *argc = 0;
    *argv = NULL;
    int st = read_sidecar(ckpt, path, &text);
    if (st) return st;
    st = parse_array(text, path, argc, argv);
    free(text);
    return st;
}

int model_read_number(const char *ckpt, const char *key, double *out)
{
    char path[4096], *text, pat[128];
    if (read_sidecar(ckpt, path, &text)) return RG_EINVAL;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    int st = RG_EINVAL;
    if (p) {
        char *end;
        double v = strtod(p + strlen(pat), &end);
        if (end != p + strlen(pat)) {
            *out = v;
            st = RG_OK;
        }
    }
    free(text);
    return st;
}

int model_read_mean(const char *ckpt, size_t N, double **mean)
{
    char path[4096], *text;
    *mean = NULL;
    if (read_sidecar(ckpt, path, &text)) return RG_EINVAL;
    const char *p = strstr(text, "\"mean\":");
    int st = RG_OK;
    if (p) {
        p += 7;
        while (*p == ' ') p++;
        if (strncmp(p, "null", 4) != 0) {
            double *m = malloc((N ? N : 1) * sizeof *m);
            size_t n = 0;
            int ok = m && *p++ == '[';
            while (ok) {
                char *end;
                double v = strtod(p, &end);
                if (end == p || n >= N || !isfinite(v)) {
                    ok = 0;
                    break;
                }
                m[n++] = v;
                for (p = end; *p == ' '; p++) continue;
                if (*p == ']') break;
                ok = *p++ == ',';
            }
            if (!ok || n != N) {
                free(m);
                st = cli_usage("%s: \"mean\" is not an array of %zu finite numbers", path, N);
            } else
                *mean = m;
        }
    }
    free(text);
    return st;
}
