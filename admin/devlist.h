/* devlist.h: the devices list as the phones get it: one snapshot and every
 * last-seen address read once, each device resolved from its own address,
 * filtered and sorted by a devquery, then a page as JSON. For the API,
 * loadsctl and the bulk tasks alike. Reads only, through db/. */
#ifndef LOADSD_DEVLIST_H
#define LOADSD_DEVLIST_H

#include <jansson.h>
#include <sqlite3.h>

#include "db/model/devquery.h"
#include "db/provision.h"

struct devlist {
    const struct settings_snapshot *snap; /* shared (devbulk_snapshot_acquire) */
    struct devquery_row *rows;            /* the matching devices, in the query's order */
    size_t n;
    const char **seen; /* per snapshot device: its last-seen address, or NULL */
    struct provision_seen *seen_rows;
    size_t n_seen;
};

/* Reads, resolves, filters and sorts (one read transaction). DB_OK or a
 * negative db_result; close it in every case. */
int devlist_open(sqlite3 *db, const struct devquery *q, struct devlist *out);
void devlist_close(struct devlist *l);
/* {"devices": [row...], "total", "offset", "limit"}; a row is
 * provision_device_json with "effective": {"load": {"value", "level",
 * "state", "served", "held_back"}, "peer_firmware_sharing": {"value",
 * "level"}, "load_server": {"value", "level", "site"}, "seen_address"}. */
json_t *devlist_page_json(const struct devlist *l, size_t offset, size_t limit);

#endif
