/* fileio.h: the two loops every file write and whole-file read needs: all of
 * a buffer written despite short writes and EINTR, and a whole file read
 * under a hard size limit. Never logs, never allocates past the limit. */
#ifndef LOADSD_FILEIO_H
#define LOADSD_FILEIO_H

#include <stddef.h>

/* Writes all len bytes of buf to fd, again after a short write or EINTR.
 * 0, or a negative errno (-EIO when write() makes no progress). */
int fileio_write_all(int fd, const void *buf, size_t len);

/* Reads fd from where it stands to its end, at most max bytes, into a new
 * NUL-terminated buffer (*buf, freed by the caller; *len excludes the NUL),
 * again after a short read or EINTR. 0, -EFBIG when fd holds more than max
 * bytes, -ENOMEM, -EINVAL for a max near SIZE_MAX, or the negative errno of
 * read(); *buf and *len are untouched on failure. */
int fileio_read_fd(int fd, size_t max, char **buf, size_t *len);

/* fileio_read_fd on the file at path (opened read-only, close-on-exec, never
 * as a controlling terminal), or the negative errno of open(). */
int fileio_read_file(const char *path, size_t max, char **buf, size_t *len);

#endif
