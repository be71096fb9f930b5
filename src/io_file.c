/* Opening files safely (internal.h): inputs must be regular files, outputs absent or regular files.
 *
 * Inputs: a FIFO named as input would block the reader forever on open() or read(), a device such as
 * /dev/zero would be read until memory runs out, a directory gives confusing errors later. So: stat()
 * first (no open of a device at all), then open() with O_NONBLOCK (a FIFO swapped in after the stat
 * cannot block the open) and fstat() the descriptor that will be read, so the check and the read
 * concern the same file.
 *
 * Outputs: every writer of the library writes PATH.tmp and renames it onto PATH. rename() replaces
 * whatever PATH is, so PATH is checked first (lstat: absent or a regular file; a device such as
 * /dev/null, a FIFO, a directory or a symbolic link is refused and nothing is created), and PATH.tmp is
 * created exclusively without following links (O_CREAT | O_EXCL | O_NOFOLLOW): a regular PATH.tmp left
 * by a killed run is replaced, anything else there is refused. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char *file_kind(mode_t m)
{
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISDIR(m)) return "a directory";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISLNK(m)) return "a symbolic link";
    return "not a plain file";
}

int rg__open_regular(const char *path, FILE **out, unsigned long long *size)
{
    struct stat sb;
    *out = NULL;
    if (stat(path, &sb) != 0) RG_FAIL(RG_EIO, "%s: cannot open for reading: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) RG_FAIL(RG_EIO, "%s: is not a regular file (%s)", path, file_kind(sb.st_mode));
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) RG_FAIL(RG_EIO, "%s: cannot open for reading: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        RG_FAIL(RG_EIO, "%s: is not a regular file (it changed while being opened)", path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK); /* plain blocking reads from here on */
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        RG_FAIL(RG_EIO, "%s: cannot open for reading: %s", path, strerror(errno));
    }
    *out = f;
    if (size) *size = (unsigned long long)sb.st_size;
    return RG_OK;
}

int rg__check_output(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT) return RG_OK;
        RG_FAIL(RG_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode))
        RG_FAIL(RG_EINVAL, "%s: exists and is %s, not a regular file: refusing to replace it", path, file_kind(sb.st_mode));
    return RG_OK;
}

int rg__create_scratch(const char *tmp, FILE **f)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            if ((*f = fdopen(fd, "wb"))) return RG_OK;
            int e = errno;
            close(fd);
            remove(tmp);
            RG_FAIL(RG_EIO, "%s: cannot open for writing: %s", tmp, strerror(e));
        }
        if (errno != EEXIST || attempt) break;
        struct stat sb;
        if (lstat(tmp, &sb) != 0 || !S_ISREG(sb.st_mode))
            RG_FAIL(RG_EINVAL, "%s: exists and is %s, not a regular file: refusing to replace it", tmp,
                    lstat(tmp, &sb) == 0 ? file_kind(sb.st_mode) : "unreadable");
        if (unlink(tmp) != 0) break;
    }
    RG_FAIL(RG_EIO, "%s: cannot create: %s", tmp, strerror(errno));
}

int rg__out_open(const char *path, char **tmp, FILE **f)
{
    *tmp = NULL;
    *f = NULL;
    if (!path || !*path) RG_FAIL(RG_EINVAL, "io: an output needs a path");
    RG_TRY(rg__check_output(path));
    const size_t len = strlen(path);
    if (!(*tmp = malloc(len + 5))) RG_FAIL(RG_ENOMEM, "%s: out of memory", path);
    memcpy(*tmp, path, len);
    memcpy(*tmp + len, ".tmp", 5); /* the same directory: the rename below is atomic */
    int st = rg__create_scratch(*tmp, f);
    if (st != RG_OK) {
        free(*tmp);
        *tmp = NULL;
    }
    return st;
}

int rg__out_commit(FILE *f, int ok, char *tmp, const char *path)
{
    int e = ok ? 0 : errno, st = RG_OK;
    if (f && fclose(f) != 0 && ok) ok = 0, e = errno;
    if (ok && (st = rg__check_output(path)) != RG_OK) ok = 0; /* swapped for a device meanwhile */
    if (ok && rename(tmp, path) != 0) ok = 0, e = errno;
    if (!ok) remove(tmp);
    free(tmp);
    if (st != RG_OK) return st;
    if (!ok) RG_FAIL(RG_EIO, "%s: cannot write: %s", path, e ? strerror(e) : "write error");
    return RG_OK;
}

int rg__text_line(FILE *f, char *buf, size_t cap, size_t *len)
{
    int c, any = 0;
    *len = 0;
    while ((c = getc(f)) != EOF) {
        any = 1;
        if (c == '\n') break;
        if (c == '\0') return -1;
        if (*len == cap) return -2;
        buf[(*len)++] = (char)c;
    }
    buf[*len] = '\0';
    return any;
}
