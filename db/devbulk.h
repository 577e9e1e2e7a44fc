/* devbulk.h: the statements of a bulk device change (one setting for many
 * devices, or their removal) and the read of every device's last-seen
 * address. Prepared statements, each prepared once per call; the caller
 * holds the transaction (db_begin) and writes the one audit row. */
#ifndef LOADSD_DEVBULK_H
#define LOADSD_DEVBULK_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"
#include "db/model/settings.h"
#include "db/provision.h"

/* What a bulk change sets; a member whose flag is false stays as it is. */
struct devbulk_change {
    bool set_profile, set_pfs, set_load_server, set_load;
    char profile[SETTINGS_NAME_MAX];            /* exactly as stored; "" = none */
    struct settings_opt pfs, load_server, load; /* set false: inherit */
};

/* Called every DEVBULK_PROGRESS_EVERY rows with how many are done. */
#define DEVBULK_PROGRESS_EVERY 256
typedef void (*devbulk_progress_fn)(void *arg, size_t done);

/* Applies c to each MAC (existing devices); DB_NOT_FOUND when a MAC or the
 * profile is gone. 0 or a negative db_result. */
int devbulk_set(sqlite3 *db, const char *const *macs, size_t n, const struct devbulk_change *c,
                devbulk_progress_fn progress, void *arg);
/* Removes each MAC's device (DB_NOT_FOUND when one is gone). */
int devbulk_delete(sqlite3 *db, const char *const *macs, size_t n, devbulk_progress_fn progress,
                   void *arg);
/* The provisioning snapshot for the current generation, shared: the last
 * one read is kept (one per process) and handed out again while the
 * generation has not moved (a snapshot is immutable, and a generation names
 * one committed state). Call inside a read or write transaction, so the
 * generation and the rows are one state. 0 or a negative db_result;
 * release what it gives. */
int devbulk_snapshot_acquire(sqlite3 *db, const struct settings_snapshot **out);
void devbulk_snapshot_release(const struct settings_snapshot *s);

/* Every device_seen row, in MAC order. cb returns 0 to go on. */
int devbulk_seen_each(sqlite3 *db, int (*cb)(void *arg, const struct provision_seen *s), void *arg);

#endif
