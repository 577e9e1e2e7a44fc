/* devlist.h: the devices list as the phones get it: one snapshot, the fleet
 * view and every last-seen address read once, each device resolved from its
 * own address through the fleet gate (fleet_resolve, as the renderer does),
 * filtered and sorted by a devquery, then a page as JSON. For the API,
 * loadsctl, the bulk tasks and every count of what phones get (stats, load
 * usage, the gates summary). Reads only, through db/. */
#ifndef LOADSD_DEVLIST_H
#define LOADSD_DEVLIST_H

#include <jansson.h>
#include <sqlite3.h>

#include "db/fleet.h"
#include "db/model/devquery.h"
#include "db/provision.h"

struct devlist {
    const struct settings_snapshot *snap; /* shared (devbulk_snapshot_acquire) */
    struct devquery_row *rows;            /* the matching devices, in the query's order */
    size_t n;
    const char **seen; /* per snapshot device: its last-seen address, or NULL */
    struct provision_seen *seen_rows;
    size_t n_seen;
    struct fleet_view *fleet; /* the database's, read with the snapshot */
    int64_t now;              /* the gate's time */
};

/* Reads, resolves, filters and sorts (one read transaction). DB_OK or a
 * negative db_result; close it in every case. */
int devlist_open(sqlite3 *db, const struct devquery *q, struct devlist *out);
void devlist_close(struct devlist *l);
/* Reads the snapshot, fleet view and addresses only (no rows): for a pass
 * over every device with devlist_resolve. DB_OK or a negative db_result;
 * close it in every case. */
int devlist_read(sqlite3 *db, struct devlist *out);
/* Snapshot device i as its phone gets it (fleet_resolve at l->now from its
 * last-seen address). 0, or -1. */
int devlist_resolve(const struct devlist *l, size_t i, struct settings_effective *e);
/* {"devices": [row...], "total", "offset", "limit"}; a row is
 * provision_device_json with "effective": {"load": {"value", "level",
 * "state", "served", "held_back"}, "peer_firmware_sharing": {"value",
 * "level"}, "load_server": {"value", "level", "site", "sends", "gate"},
 * "seen_address"}. */
json_t *devlist_page_json(const struct devlist *l, size_t offset, size_t limit);

#endif
