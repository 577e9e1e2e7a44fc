/* blobstore.h: the content-addressed store data-dir/blobs/sha256/ab/cd/<hash>.
 * Blobs are written once (temp file, fsync, rename, fsync dir) and read-only
 * afterwards; identical bytes are stored once. Never touches the database. */
#ifndef LOADSD_BLOBSTORE_H
#define LOADSD_BLOBSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sizes.h"

#define BLOB_HEX_LEN SHA256_HEX_LEN /* SHA-256 in lower-case hex */

struct blobstore;

struct blob_info {
    char hex[BLOB_HEX_LEN + 1];
    uint64_t size;
};

/* Opens (creating blobs/sha256 and blobs/tmp as needed) the store under
 * data_dir. 0 or a negative errno. */
int blobstore_open(const char *data_dir, struct blobstore **out);
void blobstore_close(struct blobstore *bs);

/* Copies fd from its current offset to EOF into the store, hashing in the same
 * pass; returns 0 with info filled (existing identical blob: kept, the copy
 * discarded), or a negative errno (-ENOSPC on a full disk: nothing is left
 * behind). progress, when not NULL, is called with the bytes copied so far. */
int blobstore_put_fd(struct blobstore *bs, int fd, struct blob_info *info,
                     void (*progress)(void *arg, uint64_t done), void *arg);

/* Streaming form of put (archive entries arrive in pieces): open, write any
 * number of times, then commit (which frees the writer and gives info) or
 * abort (which frees it and leaves nothing behind). */
struct blob_writer;
int blobstore_writer_open(struct blobstore *bs, struct blob_writer **out);
int blobstore_writer_write(struct blob_writer *w, const void *buf, size_t len);
int blobstore_writer_commit(struct blob_writer *w, struct blob_info *info);
void blobstore_writer_abort(struct blob_writer *w);
/* commit, with before_publish(arg, hex) called once the hash is known and
 * before the blob takes its name (a non-zero return aborts with it): the
 * caller records the blob first, so a crash never leaves one unrecorded. */
int blobstore_writer_commit_hook(struct blob_writer *w, struct blob_info *info,
                                 int (*before_publish)(void *arg, const char *hex), void *arg);

/* Moves a blob that failed its check to blobs/quarantine/ (kept as evidence,
 * never served); a later put of the right bytes stores them afresh. */
int blobstore_quarantine(struct blobstore *bs, const char *hex);

/* Opens a blob read-only. 0 and *fd, or a negative errno (-ENOENT). */
int blobstore_open_blob(struct blobstore *bs, const char *hex, int *fd);
/* Writes the blob's path into out. 0, or -ENAMETOOLONG. */
int blobstore_path(struct blobstore *bs, const char *hex, char *out, size_t cap);
bool blobstore_valid_hex(const char *hex);

/* Re-hashes a blob. 0 if it matches its name, -EBADMSG if not, -ENOENT if
 * missing, another negative errno on I/O error. max_bytes_per_sec (0 = no
 * limit) throttles the reads. */
int blobstore_verify(struct blobstore *bs, const char *hex, uint64_t max_bytes_per_sec);
/* Hashes an open blob (from offset 0, which it is left at) against hex:
 * 0, -EBADMSG on a mismatch, another negative errno on I/O error. */
int blobstore_verify_fd(int fd, const char *hex);

/* Removes every blob for which keep(arg, hex) is false, and stale temp files
 * older than a minute; counts what it removed. 0 or a negative errno. */
int blobstore_gc(struct blobstore *bs, bool (*keep)(void *arg, const char *hex), void *arg,
                 unsigned *removed);

/* Calls visit for every blob in the store (name and size), touching
 * nothing; a non-zero return from visit stops the walk and is returned. */
int blobstore_each(struct blobstore *bs, int (*visit)(void *arg, const char *hex, uint64_t size),
                   void *arg);

#endif
