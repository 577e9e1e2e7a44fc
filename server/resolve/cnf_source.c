/* cnf_source.c: serves SEP<MAC>.cnf.xml and XMLDefault.cnf.xml rendered per
 * request from an immutable provisioning snapshot (rebuilt by genwatch's
 * thread when the generation moves, published in a snapshot holder) and the
 * fleet view (its own holder, rebuilt when the fleet generation moves: a
 * branch's report never rebuilds the settings), through a sealed memfd. A
 * request takes one reference of each; rendering runs without any lock.
 * Its writes, on genwatch's ticks: after a rebuild, each device's last
 * complete load given; the addresses phones asked from (seen.c). */
#include "server/resolve/cnf_source.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/fleet.h"
#include "db/provision.h"
#include "lib/clock.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "server/cnf/cnf.h"
#include "server/resolve/genwatch.h"
#include "server/resolve/inventory.h"
#include "server/resolve/seen.h"
#include "server/resolve/snapshot.h"

struct cnf_source {
    struct snapshot_holder *snaps; /* of struct settings_snapshot, rebuilt by genwatch */
    struct snapshot_holder *fleet; /* of struct fleet_view, rebuilt on the fleet generation */
    struct seen_table *seen;       /* where each device's config was last asked from */
    struct inventory *inv;         /* the firmware inventory: each config fetch, its load */
    bool given_due;                /* record_given at the next tick (genwatch's thread only) */
};

static void snap_free(void *data)
{
    provision_snapshot_free(data);
}

static void fleet_free(void *data)
{
    fleet_view_free(data);
}

/* The rendered bytes in a sealed memfd, positioned at 0. */
static int memfd_from(const char *name, const struct cnf_buf *b, struct resolver_file *out)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd < 0)
        return RESOLVER_IO;
    if (fileio_write_all(fd, b->data, b->len) != 0) {
        close(fd);
        return RESOLVER_IO;
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return RESOLVER_IO;
    }
    out->fd = fd;
    out->size = b->len;
    out->source = "generated config";
    out->generated = true;
    return RESOLVER_OK;
}

/* Renders the file a request names, or says why not; mac gets the
 * device's MAC ("" for XMLDefault), named the load its config names. */
static int source_render(const struct settings_snapshot *s, const struct fleet_view *fleet,
                         const char *name, const struct sockaddr *client, struct cnf_buf *b,
                         char mac[SETTINGS_MAC_LEN + 1], char named[SETTINGS_VALUE_MAX])
{
    int rc;

    mac[0] = '\0';
    switch (cnf_name_parse(name, mac)) {
    case CNF_NAME_DEFAULT:
        rc = cnf_render_default(s, b);
        mac[0] = '\0';
        break;
    case CNF_NAME_DEVICE:
        rc = cnf_render_mac_named(s, fleet, (int64_t)time(NULL), mac, client, b, named);
        if (rc == CNF_INVALID)
            log_error("SEP%s.cnf.xml: its profile's template fails the check; not served", mac);
        break;
    default:
        return RESOLVER_NOT_FOUND;
    }
    if (rc == CNF_UNKNOWN)
        return RESOLVER_NOT_FOUND;
    if (rc == CNF_INVALID)
        return RESOLVER_UNAVAILABLE;
    return rc == CNF_OK ? RESOLVER_OK : RESOLVER_IO;
}

static int source_open(void *ctx, const char *name, const struct sockaddr *client,
                       struct resolver_file *out)
{
    struct cnf_source *cs = ctx;
    struct snapshot *sn = snapshot_acquire(cs->snaps), *fl = snapshot_acquire(cs->fleet);
    struct cnf_buf b = {0};
    char mac[SETTINGS_MAC_LEN + 1] = "", named[SETTINGS_VALUE_MAX] = "";
    int rc = RESOLVER_NOT_FOUND;

    if (sn == NULL || fl == NULL)
        goto out;
    rc = source_render(snapshot_data(sn), snapshot_data(fl), name, client, &b, mac, named);
    if (rc == RESOLVER_OK)
        rc = memfd_from(name, &b, out);
    if (rc == RESOLVER_OK && mac[0] != '\0') {
        seen_table_note(cs->seen, mac, client, (int64_t)time(NULL));
        inventory_note_config(cs->inv, mac, client, named, (int64_t)time(NULL));
    }
out:
    cnf_buf_free(&b);
    snapshot_release(fl);
    snapshot_release(sn);
    return rc;
}

/* Remembers what the configs name now, what each phone is given: to hold
 * the phone there if that load stops being servable. The write moves the
 * generation once more; the next rebuild finds nothing new. */
static void record_given(sqlite3 *db, struct cnf_source *cs)
{
    struct snapshot *sn = snapshot_acquire(cs->snaps), *fl = snapshot_acquire(cs->fleet);
    unsigned given = 0;
    int64_t t0 = clock_mono_ms();

    /* Before the first fleet view (the first settings rebuild): later. */
    if (sn != NULL && fl != NULL) {
        if (provision_record_given(db, snapshot_data(sn), snapshot_data(fl), (int64_t)time(NULL),
                                   &given) != DB_OK)
            log_warn("cannot record the loads the phones' configs name");
        else
            log_debug("recorded the load %u device(s) are given now (%lld ms)", given,
                      (long long)(clock_mono_ms() - t0));
    }
    snapshot_release(fl);
    snapshot_release(sn);
}

/* genwatch's tick, after the rebuilds (so after a sync's wait): the loads
 * the configs name now, when a rebuild changed them; the changed request
 * addresses and inventory rows. */
static void tick(void *arg, sqlite3 *db)
{
    struct cnf_source *cs = arg;

    if (cs->given_due) {
        cs->given_due = false;
        record_given(db, cs);
    }
    seen_table_flush(cs->seen, db);
    inventory_flush(cs->inv, db, (int64_t)time(NULL));
}

/* genwatch's callback: a new snapshot at the current generation. */
static int rebuild(void *arg, sqlite3 *db)
{
    struct cnf_source *cs = arg;
    struct settings_snapshot *s = NULL;
    int64_t t0 = clock_mono_ms();

    if (provision_snapshot_load(db, &s) != DB_OK)
        return -1;
    log_info("config snapshot generation %lld: %zu devices, %zu profiles, %zu site rules "
             "(read in %lld ms)",
             (long long)s->generation, s->n_devices, s->n_profiles, s->n_sites,
             (long long)(clock_mono_ms() - t0));
    if (snapshot_publish(cs->snaps, s) != 0)
        return -1;
    cs->given_due = true;
    return 0;
}

/* Whether stage_first is on anywhere: only then can the fleet view change
 * the load a config names (the gate alone changes loadServer only). */
static bool stage_first_anywhere(struct cnf_source *cs)
{
    struct snapshot *sn = snapshot_acquire(cs->snaps);
    const struct settings_snapshot *s = sn ? snapshot_data(sn) : NULL;
    bool on = s != NULL && s->enterprise.stage_first;

    for (size_t i = 0; s != NULL && !on && i < s->n_sites; i++)
        on = s->sites[i].stage_first == SETTINGS_ON;
    snapshot_release(sn);
    return on;
}

/* genwatch's callback for the fleet generation (every branch report moves
 * it): a new fleet view. Cheap: the branches and their holdings only. */
static int rebuild_fleet(void *arg, sqlite3 *db)
{
    struct cnf_source *cs = arg;
    struct fleet_view *v = NULL;
    struct snapshot *old;
    bool same;

    if (fleet_view_load(db, &v) != DB_OK)
        return -1;
    old = snapshot_acquire(cs->fleet);
    same = old != NULL && fleet_view_same_holdings(snapshot_data(old), v);
    snapshot_release(old);
    log_debug("fleet view generation %lld: %zu holder(s)%s", (long long)v->generation, v->n_holders,
              same ? ", holdings unchanged" : "");
    if (snapshot_publish(cs->fleet, v) != 0)
        return -1;
    /* With stage_first, what a config names follows the holdings too; a
     * report that changed only the time (most of them), or any report
     * without stage_first, needs no pass over every device. */
    if (!same && stage_first_anywhere(cs))
        cs->given_due = true;
    return 0;
}

int cnf_source_open(struct genwatch *gw, struct cnf_source **out)
{
    struct cnf_source *cs = calloc(1, sizeof(*cs));

    if (cs == NULL)
        return -1;
    cs->snaps = snapshot_holder_new(snap_free);
    cs->fleet = snapshot_holder_new(fleet_free);
    cs->seen = seen_table_new();
    cs->inv = inventory_new();
    /* The fleet view first: what the configs name (recorded at the first
     * tick after the settings' first rebuild) depends on the gate. */
    if (cs->snaps == NULL || cs->fleet == NULL || cs->seen == NULL || cs->inv == NULL ||
        genwatch_add_counted(gw, db_fleet_generation, rebuild_fleet, cs) != 0 ||
        genwatch_add(gw, rebuild, cs) != 0 || genwatch_add_tick(gw, tick, cs) != 0) {
        log_error("cannot serve generated config files");
        cnf_source_free(cs);
        return -1;
    }
    *out = cs;
    return 0;
}

int cnf_source_attach(struct cnf_source *cs, struct resolver *r)
{
    struct resolver_source src = {"generated config", source_open, NULL, cs};

    return resolver_add_source(r, &src);
}

struct inventory *cnf_source_inventory(struct cnf_source *cs)
{
    return cs->inv;
}

void cnf_source_free(struct cnf_source *cs)
{
    if (cs == NULL)
        return;
    snapshot_holder_free(cs->snaps);
    snapshot_holder_free(cs->fleet);
    seen_table_free(cs->seen);
    inventory_free(cs->inv);
    free(cs);
}
