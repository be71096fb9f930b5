/* The sidecar FILE.json of a checkpoint: path and the process_argv reader (model.h). */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int model_sidecar_path(char *buf, size_t len, const char *ckpt)
{
    int n = snprintf(buf, len, "%s.json", ckpt);
    if (n < 0 || (size_t)n >= len) return cli_usage("checkpoint path too long: '%s'", ckpt);
    return CLI_OK;
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
    if (!v) return cli_runtime("out of memory");
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
    return CLI_OK;
}

int model_read_process_argv(const char *ckpt, int *argc, char ***argv)
{
    char path[4096];
    *argc = 0;
    *argv = NULL;
    if (model_sidecar_path(path, sizeof path, ckpt)) return CLI_USAGE;
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
    int st = parse_array(buf, path, argc, argv);
    free(buf);
    return st;
}
