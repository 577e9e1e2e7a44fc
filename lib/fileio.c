/* fileio.c: write-all and read-whole-file loops (short counts, EINTR, a hard
 * limit on what a read may hold). Nothing else: no logging, no policy. */
#include "lib/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define FILEIO_FIRST_CAP 4096 /* bytes; doubled as a read needs, up to max + 1 */

int fileio_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Room for one more byte and the NUL after len bytes: the capacity doubles
 * from FILEIO_FIRST_CAP but never past max + 2 (max bytes, one more to see
 * that the file holds more, the NUL). */
static int read_room(char **buf, size_t *cap, size_t len, size_t max)
{
    size_t want = *cap > 0 ? *cap * 2 : FILEIO_FIRST_CAP;
    char *v;

    if (len + 2 <= *cap)
        return 0;
    if (want > max + 2 || want < *cap)
        want = max + 2;
    v = realloc(*buf, want);
    if (v == NULL)
        return -ENOMEM;
    *buf = v;
    *cap = want;
    return 0;
}

int fileio_read_fd(int fd, size_t max, char **buf, size_t *len)
{
    char *b = NULL;
    size_t cap = 0, got = 0;
    int rc;

    if (max > SIZE_MAX - 2)
        return -EINVAL;
    for (;;) {
        ssize_t n;

        rc = read_room(&b, &cap, got, max);
        if (rc != 0)
            goto out;
        n = read(fd, b + got, cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > max) {
            rc = -EFBIG;
            goto out;
        }
    }
    b[got] = '\0';
    *buf = b;
    *len = got;
    b = NULL;
    rc = 0;
out:
    free(b);
    return rc;
}

int fileio_read_file(const char *path, size_t max, char **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    int rc;

    if (fd < 0)
        return -errno;
    rc = fileio_read_fd(fd, max, buf, len);
    close(fd);
    return rc;
}
