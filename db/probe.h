/* probe.h: rows of the probes table: what the central's probes found at
 * each plain-host load server, per load. Prepared statements only; a write
 * moves the fleet generation, never the provisioning one (the gate reads
 * the fleet view, rebuilt cheaply; the settings snapshot is not). */
#ifndef LOADSD_DB_PROBE_H
#define LOADSD_DB_PROBE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "db/model/fleet.h"

#define PROBE_HOST_MAX 254 /* settings_host_valid: 1..253 bytes, NUL included */
#define PROBE_LOAD_MAX 256
#define PROBE_WHY_MAX  256

struct probe_row {
    char host[PROBE_HOST_MAX];
    char load[PROBE_LOAD_MAX];
    bool complete;           /* every file answered with the catalog's size */
    unsigned files_have;     /* files that answered with the catalog's size */
    unsigned files_total;    /* the .loads file and its components */
    int64_t probed_at;       /* Unix time */
    char why[PROBE_WHY_MAX]; /* why not complete ("" when it is), printable */
};

/* Stores r as the latest result of (host, load) in one transaction that
 * moves the fleet generation (probed_at is the host's freshness in the
 * view); *changed (may be NULL) says whether the state, counts or why
 * differ from the stored ones (or none was). 0 or a negative db_result. */
int probe_row_put(sqlite3 *db, const struct probe_row *r, bool *changed);
/* The stored result of (host, load): 0 or DB_NOT_FOUND. */
int probe_row_get(sqlite3 *db, const char *host, const char *load, struct probe_row *out);
/* Every result (host NULL) or one host's, by host then load. The callback
 * returns 0 to go on, anything else to stop (returned). */
int probe_rows_each(sqlite3 *db, const char *host, int (*cb)(void *arg, const struct probe_row *r),
                    void *arg);
/* Removes, in one transaction, every result keep() says no to (a (host,
 * load) no device needs any more), moving the fleet generation when one
 * went; *removed (may be NULL) gets how many. 0 or a negative db_result. */
int probe_rows_retain(sqlite3 *db, bool (*keep)(void *arg, const char *host, const char *load),
                      void *arg, unsigned *removed);
/* Adds every probed host to v as a FLEET_KIND_PROBED holder: name and
 * address the host, received_at its oldest result's probed_at (one stale
 * result makes the host stale), a holding per result (complete or
 * incomplete; bytes 0, ETA unknown). Inside the caller's read transaction
 * (fleet_view_load's). Unsorted: the caller sorts. 0 or a negative
 * db_result. */
int probe_view_add(sqlite3 *db, struct fleet_view *v);

#endif
