/* datadir.h: the data directory both loadsd and loadsctl work on:
 * catalog.db, blobs/, spool/. Opening creates, migrates and recovers it. */
#ifndef LOADSD_DATADIR_H
#define LOADSD_DATADIR_H

#include <sqlite3.h>
#include <stdbool.h>

#include "blobstore.h"

#define DATADIR_DEFAULT LOCALSTATEDIR "/lib/loadsd"

struct datadir {
    char path[4096];
    sqlite3 *db;
    struct blobstore *bs;
    int lock_fd; /* data-dir/.lock: imports hold it shared, gc exclusive */
};

/* Creates what is missing (mode 0750), opens and migrates the catalog, and,
 * when no import is running (the lock is free), marks imports a crash
 * interrupted as failed and removes their spool and temporary blob files.
 * 0, or -1 with the reason logged. */
int datadir_open(const char *path, struct datadir *dd);
void datadir_close(struct datadir *dd);

/* Imports share the lock; gc needs it alone, so it never removes a blob an
 * import has stored but not yet published. wait=false: -EWOULDBLOCK if held. */
int datadir_lock(struct datadir *dd, bool exclusive, bool wait);
void datadir_unlock(struct datadir *dd);

/* Removes blobs no file refers to (under the exclusive lock). */
int datadir_gc(struct datadir *dd, unsigned *removed, bool wait);

#endif
