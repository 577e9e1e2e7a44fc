/* quota.c: the upstream disk quota: removes pulled loads, used longest
 * ago first, through the catalog's own removal (audited, blobs released).
 * Runs in the thread that pulled; holds no lock of the pull engine. */
#include "server/upstream/quota.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/catalog.h"
#include "db/provision.h"
#include "lib/log.h"

#define QUOTA_SHOWN_MAX 1024 /* bytes of the names the warning lists */

/* Removes load in one transaction, unless a device was given or assigned
 * it since the list was read. 1 removed, 0 kept, or a negative db_result. */
static int quota_remove(sqlite3 *db, const char *load, unsigned quota_mb)
{
    struct catalog_load l;
    char why[64];
    int rc = db_begin(db), used = 0;

    if (rc == DB_OK && (used = provision_load_protected(db, load)) < 0)
        rc = used;
    if (rc == DB_OK && used == 0)
        rc = catalog_load_find(db, load, &l);
    if (rc == DB_OK && used == 0)
        rc = catalog_load_remove(db, l.name);
    snprintf(why, sizeof(why), "upstream quota %u MB", quota_mb);
    if (rc == DB_OK && used == 0)
        rc = catalog_audit(db, "upstream", "load.remove", l.name, l.status, why);
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    if (rc != DB_OK)
        return rc;
    return used == 0 ? 1 : 0;
}

static bool quota_may_go(const struct provision_pulled *p, const char *keep)
{
    return !p->protected && strcasecmp(p->name, keep) != 0;
}

/* The warning: every pulled load left, with its size. */
static void quota_warn(const struct provision_pulled *v, size_t n, const bool *gone, uint64_t total,
                       uint64_t quota)
{
    char shown[QUOTA_SHOWN_MAX], name[LOG_CLEAN_MAX];
    size_t used = 0;

    shown[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof(shown); i++) {
        if (gone[i])
            continue;
        log_clean(v[i].name, strlen(v[i].name), name, sizeof(name));
        used += (size_t)snprintf(shown + used, sizeof(shown) - used, "%s%s %" PRIu64 " bytes",
                                 used ? ", " : "", name, v[i].size);
    }
    log_warn("upstream quota %" PRIu64 " MB exceeded: the pulled loads left total %" PRIu64
             " bytes, and each is in use or just pulled, so all are kept: %s",
             quota / 1000000, total, shown);
}

/* Removes what may go, oldest first, until total fits. */
static unsigned quota_evict(sqlite3 *db, const struct provision_pulled *v, size_t n, bool *gone,
                            uint64_t *total, unsigned quota_mb, const char *keep)
{
    uint64_t quota = (uint64_t)quota_mb * 1000000u, before;
    char name[LOG_CLEAN_MAX];
    unsigned removed = 0;

    for (size_t i = 0; i<n && * total> quota; i++) {
        if (!quota_may_go(&v[i], keep) || quota_remove(db, v[i].name, quota_mb) != 1)
            continue;
        gone[i] = true;
        before = *total;
        *total -= v[i].size;
        removed++;
        log_clean(v[i].name, strlen(v[i].name), name, sizeof(name));
        log_info("upstream quota: removed load %s (%" PRIu64 " bytes, used longest ago, in use "
                 "by no device): quota %u MB, pulled loads %" PRIu64 " -> %" PRIu64 " bytes",
                 name, v[i].size, quota_mb, before, *total);
    }
    return removed;
}

int pull_quota_enforce(struct datadir *dd, unsigned quota_mb, const char *keep)
{
    uint64_t quota = (uint64_t)quota_mb * 1000000u, total = 0;
    struct provision_pulled *v = NULL;
    struct datadir_gc_totals t;
    unsigned removed = 0;
    bool *gone = NULL;
    size_t n = 0;

    if (quota_mb == 0)
        return 0;
    if (provision_pulled_loads(dd->db, &v, &n) != DB_OK) {
        log_warn("upstream quota: cannot list the pulled loads; nothing removed");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        total += v[i].size;
    if (total > quota && (gone = calloc(n, sizeof(*gone))) != NULL)
        removed = quota_evict(dd->db, v, n, gone, &total, quota_mb, keep);
    if (total > quota && gone != NULL)
        quota_warn(v, n, gone, total, quota);
    /* The disk is what the quota is for: collect the released blobs now
     * unless an import holds the lock (then the next gc does). */
    if (removed > 0 && datadir_gc(dd, &t, false) == 0 && t.removed > 0)
        log_info("upstream quota: removed %u released blob(s)", t.removed);
    free(gone);
    free(v);
    return (int)removed;
}
