/* datadir.h: the data directory both loadsd and loadsctl work on:
 * catalog.db, blobs/, spool/. Opening creates, migrates and recovers it,
 * and refuses a directory whose blobs have lost their catalog. */
#ifndef LOADSD_DATADIR_H
#define LOADSD_DATADIR_H

#include <sqlite3.h>
#include <stdbool.h>

#include "db/blobstore.h"
#include "lib/sizes.h"

#define DATADIR_DEFAULT LOCALSTATEDIR "/lib/loadsd"

struct datadir {
    char path[DIR_BUF];
    sqlite3 *db;
    struct blobstore *bs;
    int lock_fd; /* data-dir/.lock: imports hold it shared, gc exclusive */
};

#define DATADIR_DAEMON_LOCK "loadsd.lock" /* one loadsd per data directory */
#define DATADIR_DIR_MODE    0750
#define DATADIR_DB_MODE     0600 /* catalog.db, -wal, -shm: password hashes, sessions */

/* Creates what is missing (directories 0750, catalog.db 0600), tightens the
 * modes of the directory and the database files, opens and migrates the
 * catalog, and, when no import is running (the lock is free), marks imports
 * a crash interrupted as failed and removes their spool and temporary blob
 * files. Refuses (-1, logged) a directory that holds blobs but no catalog
 * (catalog.db missing, empty, or without a schema): a new catalog must not
 * start over blobs it knows nothing about. 0, or -1 with the reason logged. */
int datadir_open(const char *path, struct datadir *dd);
/* The same for loadsctl recover: a directory with blobs and no catalog is
 * opened with dd->db NULL (nothing created), so the blobs can be listed. */
int datadir_open_recovering(const char *path, struct datadir *dd);
void datadir_close(struct datadir *dd);
/* Creates data-dir/catalog.db (0600) and opens it, for a directory opened by
 * datadir_open_recovering without one. 0 or -1 (logged). */
int datadir_create_catalog(struct datadir *dd);

/* Imports share the lock; gc needs it alone, so it never removes a blob an
 * import has stored but not yet published. wait=false: -EWOULDBLOCK if held. */
int datadir_lock(struct datadir *dd, bool exclusive, bool wait);
void datadir_unlock(struct datadir *dd);

struct datadir_gc_totals {
    unsigned removed; /* released blobs (and stale temp files) removed */
    unsigned orphans; /* blobs kept although no file refers to them: never
                       * referenced by this catalog (see loadsctl recover) */
};

/* Removes the blobs this catalog once referenced and no longer does (under
 * the exclusive lock); a blob it never referenced is kept and counted. */
int datadir_gc(struct datadir *dd, struct datadir_gc_totals *t, bool wait);

/* loadsd's own lock: exclusive, held for the daemon's life, on
 * data-dir/loadsd.lock (created 0640 if missing; nothing else is touched).
 * 0 and *fd; -EWOULDBLOCK when another process holds it, with its PID in
 * *holder (0 when unknown); another negative errno on error. */
int datadir_daemon_lock(const char *path, int *fd, long *holder);
/* Writes the calling process's PID into the lock file (after a fork). */
void datadir_daemon_lock_mark(int fd);

#endif
