/* filemap.h: one shared read-only mapping per open file (device, inode, size,
 * mtime): every transfer of the same blob sends from the same pages, counted
 * by reference, unmapped a little after its last user; no transfer holds a
 * data buffer.
 * Never reads the mapped bytes itself: only the kernel does, through sendmsg
 * iovecs, so a file cut short under a mapping fails a send with EFAULT, never SIGBUS. */
#ifndef LOADSD_TFTP_FILEMAP_H
#define LOADSD_TFTP_FILEMAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define FILEMAP_BUCKETS  1024 /* chains stay short: distinct files in use, not transfers */
#define FILEMAP_IDLE_MAX 4    /* unused mappings kept for the next transfer, latest first */

struct filemap_entry;

/* The table, shared by all workers; locked on acquire and release only. */
struct filemap {
    pthread_mutex_t lock;
    struct filemap_entry *bucket[FILEMAP_BUCKETS];
    size_t entries;                   /* mappings alive, idle ones included */
    struct filemap_entry *idle_first; /* no reference left: most recent first */
    size_t idle;
};

/* What a transfer holds: the bytes (NULL for an empty file) and its entry. */
struct filemap_ref {
    const uint8_t *data;
    uint64_t size;
    struct filemap_entry *e;
};

void filemap_init(struct filemap *m);
/* Unmaps the idle mappings and frees the table; every reference must have
 * been released. */
void filemap_fini(struct filemap *m);
/* The first size bytes of the open file fd, shared with every other holder of
 * the same file. The caller may close fd afterwards. 0, or a negative errno:
 * -EIO when the file is shorter than size (it changed since it was opened). */
int filemap_acquire(struct filemap *m, int fd, uint64_t size, struct filemap_ref *out);
/* Gives the reference back (nothing for a cleared one). A mapping left
 * without a reference stays for the next transfer of the same file (mapping
 * and unmapping a file per transfer cost a windowed transfer a third of its
 * CPU) while it is among the FILEMAP_IDLE_MAX most recently idle. */
void filemap_release(struct filemap *m, struct filemap_ref *ref);
/* Mappings alive, idle ones included (for tests and statistics). */
size_t filemap_count(struct filemap *m);

#endif
