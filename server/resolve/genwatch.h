/* genwatch.h: the one thread that keeps every snapshot source current (the
 * catalog files, the generated configs): it polls the catalog database's
 * generation counter and, when it moved, has each source rebuild its
 * snapshot from one database connection; runs the ticks (bookkeeping writes)
 * on the same thread. Never writes itself (a rebuild or tick may). */
#ifndef LOADSD_GENWATCH_H
#define LOADSD_GENWATCH_H

#include <sqlite3.h>
#include <stdint.h>

#define GENWATCH_POLL_MS     250 /* imports, removals, quarantines show within this */
#define GENWATCH_SOURCES_MAX 4
#define GENWATCH_SYNC_MS     2000 /* longest a writer waits for genwatch_sync */

struct genwatch;

/* Opens data_dir's database (already created by datadir_open); no thread
 * yet. 0, or -1 (logged). */
int genwatch_open(const char *data_dir, unsigned poll_ms, struct genwatch **out);
/* Adds a source: rebuild(arg, db) builds and publishes its snapshot at the
 * current generation, 0 on success. It runs once now, on the caller's thread
 * (the first snapshot; -1 when it fails), then on the watcher's whenever the
 * generation differs from the one of the source's last successful rebuild.
 * Only before genwatch_start. 0 or -1. */
int genwatch_add(struct genwatch *gw, int (*rebuild)(void *arg, sqlite3 *db), void *arg);
/* genwatch_add for a source that follows another counter (db_fleet_generation:
 * the fleet view, rebuilt when a report changed what a branch holds). */
int genwatch_add_counted(struct genwatch *gw, int (*counter)(sqlite3 *db, int64_t *out),
                         int (*rebuild)(void *arg, sqlite3 *db), void *arg);
/* Adds a tick: tick(arg, db) runs on every poll on the watcher's thread
 * (after the rebuilds), and once more in genwatch_free after the thread has
 * stopped. Only before genwatch_start. 0 or -1. */
int genwatch_add_tick(struct genwatch *gw, void (*tick)(void *arg, sqlite3 *db), void *arg);
/* Starts the watcher thread. 0 or -1 (logged). */
int genwatch_start(struct genwatch *gw);
/* Read-your-writes for a writer in this process: wakes the watcher and
 * waits until the rebuilds of a pass that began after this call are done, so
 * every source serves what was committed before the call (the pass's ticks
 * may still run). 0; -1 when timeout_ms passed first, or the thread is not
 * running (or stopping). Any thread. */
int genwatch_sync(struct genwatch *gw, unsigned timeout_ms);
/* Stops the thread (if started), closes the database, frees gw (NULL is
 * fine); the sources may be freed after this. */
void genwatch_free(struct genwatch *gw);

#endif
