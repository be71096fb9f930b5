/* An output directory committed as a whole (io.h): DIR/manifest.sha256 lists the files of one run with
 * their SHA-256, in the format of sha256sum ("HEX  NAME\n", so `sha256sum -c` checks it too). Writers
 * remove it before they change any file and write it last; a directory without one was interrupted or
 * is being written, a directory whose files differ from it was changed afterwards. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/io.h"
#include "internal.h"

#define MANIFEST_MAX ((unsigned long long)1 << 20) /* bytes: some thousand files */

static int join(char *buf, size_t len, const char *dir, const char *name)
{
    int k = snprintf(buf, len, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= len) RG_FAIL(RG_EINVAL, "io: path too long: %s/%s", dir, name);
    return RG_OK;
}

/* A file name of the manifest: not empty, no '/', no newline or other control character, not . or .. */
static int name_ok(const char *s)
{
    if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c == '/' || *c < 0x20 || *c == 0x7f) return 0;
    return 1;
}

int rg_io_manifest_remove(const char *dir)
{
    if (!dir) RG_FAIL(RG_EINVAL, "rg_io_manifest_remove: dir is NULL");
    char path[4200];
    RG_TRY(join(path, sizeof path, dir, RG_IO_MANIFEST));
    RG_TRY(rg__check_output(path));
    if (remove(path) != 0 && errno != ENOENT) RG_FAIL(RG_EIO, "%s: cannot remove: %s", path, strerror(errno));
    return RG_OK;
}

int rg_io_manifest_write(const char *dir, const char *const *names, size_t n)
{
    if (!dir || (n && !names)) RG_FAIL(RG_EINVAL, "rg_io_manifest_write: NULL argument");
    char path[4200], hex[65];
    for (size_t i = 0; i < n; i++)
        if (!name_ok(names[i]) || !strcmp(names[i], RG_IO_MANIFEST))
            RG_FAIL(RG_EINVAL, "rg_io_manifest_write: '%s' is not a file name of the directory", names[i] ? names[i] : "(null)");
    RG_TRY(join(path, sizeof path, dir, RG_IO_MANIFEST));
    char *tmp;
    FILE *f;
    RG_TRY(rg__out_open(path, &tmp, &f));
    int st = RG_OK;
    for (size_t i = 0; i < n && st == RG_OK; i++) {
        st = join(path, sizeof path, dir, names[i]);
        if (st == RG_OK) st = rg_io_sha256_file(path, hex);
        if (st == RG_OK) fprintf(f, "%s  %s\n", hex, names[i]);
    }
    if (st != RG_OK) { /* keep the message of the file that failed */
        fclose(f);
        remove(tmp);
        free(tmp);
        return st;
    }
    RG_TRY(join(path, sizeof path, dir, RG_IO_MANIFEST));
    return rg__out_commit(f, !ferror(f), tmp, path);
}

/* One manifest line "HEX  NAME" (newline removed): the sum into hex, the name's offset into *name. */
static int parse_entry(char *line, char hex[65], char **name)
{
    for (int i = 0; i < 64; i++)
        if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f'))) return 0;
    if (line[64] != ' ' || line[65] != ' ' || !name_ok(line + 66)) return 0;
    memcpy(hex, line, 64);
    hex[64] = '\0';
    *name = line + 66;
    return 1;
}

int rg_io_manifest_check(const char *dir, size_t *n_files)
{
    if (!dir) RG_FAIL(RG_EINVAL, "rg_io_manifest_check: dir is NULL");
    if (n_files) *n_files = 0;
    char path[4200], line[4200], want[65], got[65], *name;
    RG_TRY(join(path, sizeof path, dir, RG_IO_MANIFEST));
    FILE *f;
    unsigned long long size;
    if (rg__open_regular(path, &f, &size) != RG_OK)
        RG_FAIL(RG_EIO, "%s: no readable %s: the directory is not committed (a run was interrupted or is still writing)",
                dir, RG_IO_MANIFEST);
    if (size > MANIFEST_MAX) {
        fclose(f);
        RG_FAIL(RG_EFORMAT, "%s: %llu bytes, more than a manifest of this tool holds", path, size);
    }
    size_t len, lineno = 0, count = 0;
    int r, st = RG_OK;
    while (st == RG_OK && (r = rg__text_line(f, line, sizeof line - 1, &len)) != 0) {
        lineno++;
        if (r < 0 || len < 67 || !parse_entry(line, want, &name))
            st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s:%zu: not a line 'SHA256  NAME'", path, lineno);
        else if ((st = join(path, sizeof path, dir, name)) == RG_OK) {
            if (rg_io_sha256_file(path, got) != RG_OK)
                st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: listed in %s but missing or unreadable", path, RG_IO_MANIFEST);
            else if (strcmp(want, got) != 0)
                st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: its sha256 differs from %s (changed after the run)",
                              path, RG_IO_MANIFEST);
            count++;
            (void)join(path, sizeof path, dir, RG_IO_MANIFEST);
        }
    }
    if (st == RG_OK && ferror(f)) st = rg__fail(RG_EIO, __FILE__, __LINE__, "%s: read error", path);
    fclose(f);
    if (st == RG_OK && n_files) *n_files = count;
    return st;
}
