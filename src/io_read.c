/* Opening an input file safely (internal.h): refuse anything but a regular file before reading it.
 * A FIFO named as input would block the reader forever on open() or read(); a directory or a device
 * gives confusing errors, or side effects, later. So: stat() first (no open of a device at all), then
 * open() with O_NONBLOCK (a FIFO swapped in after the stat cannot block the open) and fstat() the
 * descriptor that will be read, so the check and the read concern the same file. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
