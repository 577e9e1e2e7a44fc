/* snapshot.h: the holder of a resolver source's current immutable snapshot,
 * shared by the catalog and config sources: a watcher publishes a new one,
 * requests acquire a counted reference (one short mutex hold per request,
 * never per packet) and release it; the last release frees it. Never looks
 * inside a snapshot, never blocks a reader on a rebuild. */
#ifndef LOADSD_SNAPSHOT_H
#define LOADSD_SNAPSHOT_H

struct snapshot_holder;
struct snapshot; /* one published version and its references */

/* A holder with no snapshot yet; free_data frees what is published in it.
 * NULL when out of memory. */
struct snapshot_holder *snapshot_holder_new(void (*free_data)(void *data));
/* Drops the holder's reference to the current snapshot (freed now unless a
 * reader still holds it) and frees the holder; no acquire may run any more.
 * NULL is fine. */
void snapshot_holder_free(struct snapshot_holder *h);

/* Makes data (never NULL) the current snapshot; the one it replaces is freed
 * once its last reader releases it. The holder owns data from here on, also
 * on failure (freed then). 0, or -ENOMEM (the old snapshot stays current). */
int snapshot_publish(struct snapshot_holder *h, void *data);

/* The current snapshot with a reference taken, or NULL before the first
 * publish. Its data stays valid and unchanged until snapshot_release. */
struct snapshot *snapshot_acquire(struct snapshot_holder *h);
const void *snapshot_data(const struct snapshot *s);
/* Drops a reference from snapshot_acquire (NULL is fine). */
void snapshot_release(struct snapshot *s);

#endif
