/* devlist.c: the devices list with effective columns (devlist.h): one
 * snapshot, one fleet view, one read of the last-seen addresses, every
 * device resolved in memory through the fleet gate (no query per row).
 * Never writes. */
#include "admin/devlist.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/provision_json.h"
#include "db/devbulk.h"
#include "lib/grow.h"

struct seen_read {
    struct devlist *l;
    size_t cap;
};

static int seen_row(void *arg, const struct provision_seen *s)
{
    struct seen_read *r = arg;

    if (grow_array((void **)&r->l->seen_rows, &r->cap, r->l->n_seen + 1, sizeof(*r->l->seen_rows),
                   256) != 0)
        return DB_ERROR;
    r->l->seen_rows[r->l->n_seen++] = *s;
    return 0;
}

/* db_read's callback: the snapshot and the addresses, one state. */
static int read_all(sqlite3 *db, void *arg)
{
    struct devlist *l = arg;
    struct seen_read r = {l, 0};
    int rc = devbulk_snapshot_acquire(db, &l->snap);

    if (rc == DB_OK)
        rc = fleet_view_load(db, &l->fleet);
    return rc == DB_OK ? devbulk_seen_each(db, seen_row, &r) : rc;
}

/* Both lists are in MAC order: one merge gives each device its address. */
static int seen_join(struct devlist *l)
{
    size_t j = 0;

    l->seen = calloc(l->snap->n_devices ? l->snap->n_devices : 1, sizeof(*l->seen));
    if (l->seen == NULL)
        return DB_ERROR;
    for (size_t i = 0; i < l->snap->n_devices; i++) {
        while (j < l->n_seen && strcmp(l->seen_rows[j].mac, l->snap->devices[i].mac) < 0)
            j++;
        if (j < l->n_seen && strcmp(l->seen_rows[j].mac, l->snap->devices[i].mac) == 0)
            l->seen[i] = l->seen_rows[j].addr;
    }
    return DB_OK;
}

int devlist_resolve(const struct devlist *l, size_t i, struct settings_effective *e)
{
    struct sockaddr_storage addr;
    bool have = l->seen[i] != NULL && settings_addr_parse(l->seen[i], &addr) == 0;

    return fleet_resolve(l->snap, l->fleet, l->now, l->snap->devices[i].mac,
                         have ? (const struct sockaddr *)&addr : NULL, e);
}

static int resolve_filter(struct devlist *l, const struct devquery *q)
{
    static _Thread_local struct settings_effective e;

    l->rows = malloc((l->snap->n_devices ? l->snap->n_devices : 1) * sizeof(*l->rows));
    if (l->rows == NULL)
        return DB_ERROR;
    for (size_t i = 0; i < l->snap->n_devices; i++) {
        if (devlist_resolve(l, i, &e) != 0)
            continue;
        devquery_row_from(l->snap, l->fleet, &e, &l->rows[l->n]);
        if (devquery_match(q, &l->rows[l->n]))
            l->n++;
    }
    if (q->sort != DEVQUERY_MAC || q->descending)
        qsort_r(l->rows, l->n, sizeof(*l->rows), devquery_cmp, (void *)q);
    return DB_OK;
}

int devlist_read(sqlite3 *db, struct devlist *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    out->now = (int64_t)time(NULL);
    rc = db_read(db, read_all, out);
    return rc == DB_OK ? seen_join(out) : rc;
}

int devlist_open(sqlite3 *db, const struct devquery *q, struct devlist *out)
{
    int rc = devlist_read(db, out);

    return rc == DB_OK ? resolve_filter(out, q) : rc;
}

void devlist_close(struct devlist *l)
{
    devbulk_snapshot_release(l->snap);
    fleet_view_free(l->fleet);
    free(l->rows);
    free((void *)l->seen);
    free(l->seen_rows);
    memset(l, 0, sizeof(*l));
}

/* The stored row, as provision_device_json shows it. */
static void stored_row(const struct devquery_row *r, struct provision_device *d)
{
    memset(d, 0, sizeof(*d));
    memcpy(d->mac, r->dev->mac, sizeof(d->mac));
    snprintf(d->model, sizeof(d->model), "%s", r->model);
    snprintf(d->profile, sizeof(d->profile), "%s", r->profile);
    memcpy(d->description, r->dev->description, sizeof(d->description));
    d->pfs = r->dev->pfs;
    d->load_server = r->dev->load_server;
    d->load = r->dev->load;
    memcpy(d->protocol, r->dev->protocol, sizeof(d->protocol));
}

static json_t *value_json(const char *value, enum settings_level level)
{
    return json_pack("{s:s, s:s}", "value", value, "level", settings_level_name(level));
}

static json_t *effective_json(const struct devlist *l, const struct devquery_row *r)
{
    char cidr[DEVQUERY_TEXT_MAX];
    size_t i = (size_t)(r->dev - l->snap->devices);
    json_t *ls = value_json(r->load_server, r->load_server_level);

    if (r->site != NULL) {
        settings_cidr_format(r->site, cidr, sizeof(cidr));
        json_object_set_new(ls, "site", json_string(cidr));
    }
    json_object_set_new(ls, "sends", json_string(r->sends));
    json_object_set_new(ls, "gate", json_string(fleet_outcome_name(r->outcome)));
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:b}, s:o, s:o, s:s?}", "load", "value", r->load,
                     "level", settings_level_name(r->load_level), "state",
                     settings_load_state_name(r->load_state), "served", r->served, "held_back",
                     r->held_back, "peer_firmware_sharing", value_json(r->pfs, r->pfs_level),
                     "load_server", ls, "seen_address", l->seen[i]);
}

json_t *devlist_page_json(const struct devlist *l, size_t offset, size_t limit)
{
    json_t *list = json_array();
    struct provision_device d;

    for (size_t i = offset; list != NULL && i < l->n && i - offset < limit; i++) {
        json_t *row;

        stored_row(&l->rows[i], &d);
        row = provision_device_json(&d);
        if (row != NULL)
            json_object_set_new(row, "effective", effective_json(l, &l->rows[i]));
        json_array_append_new(list, row);
    }
    return json_pack("{s:o, s:I, s:I, s:I}", "devices", list, "total", (json_int_t)l->n, "offset",
                     (json_int_t)offset, "limit", (json_int_t)limit);
}
