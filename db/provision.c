/* provision.c: reads and writes of the provisioning rows and the snapshot
 * loader. Prepared statements only; every write audits itself; no
 * transaction policy here (callers begin and commit) and no file I/O. */
#include "db/provision.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/catalog.h"
#include "db/fleet.h"
#include "lib/numparse.h"

/* ---- small helpers ---- */

static void bind_opt_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s == NULL)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}

static void bind_folded(sqlite3_stmt *st, int idx, const char *name)
{
    char folded[SETTINGS_VALUE_MAX];

    catalog_fold(name, folded, sizeof(folded));
    sqlite3_bind_text(st, idx, folded, -1, SQLITE_TRANSIENT);
}

static void column_opt(sqlite3_stmt *st, int col, struct settings_opt *out)
{
    out->set = sqlite3_column_type(st, col) != SQLITE_NULL;
    db_column_text(st, col, out->value, sizeof(out->value));
}

static const char *opt_value(const struct settings_opt *o)
{
    return o->set ? o->value : NULL;
}

/* Steps a one-row query; DB_NOT_FOUND when it yields none. */
static int step_row(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int step = sqlite3_step(st);

    if (step == SQLITE_ROW)
        return DB_OK;
    return step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, what);
}

/* Steps a write; DB_NOT_FOUND when it changed nothing. Finalizes st. */
static int exec_changed(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc;

    if (st == NULL)
        return DB_ERROR;
    rc = db_check(db, sqlite3_step(st), what);
    if (rc == DB_OK && sqlite3_changes(db) == 0)
        rc = DB_NOT_FOUND;
    sqlite3_finalize(st);
    return rc;
}

/* A load_server value about to be written (NULL: inherit): DB_NO_BRANCH
 * when it is "branch:NAME" and no such branch is registered. */
static int branch_guard(sqlite3 *db, const char *value)
{
    const char *name = value != NULL ? settings_branch_name(value) : NULL;
    int rc = name != NULL ? fleet_branch_exists(db, name) : 1;

    return rc == 1 ? DB_OK : rc == 0 ? DB_NO_BRANCH : rc;
}

/* The same for a value that may be unchanged (a stored one stays). */
static int branch_guard_changed(sqlite3 *db, const struct settings_opt *before,
                                const struct settings_opt *after)
{
    if (after->set && (!before->set || strcmp(before->value, after->value) != 0))
        return branch_guard(db, after->value);
    return DB_OK;
}

/* Grows *arr (of size elements) to hold one more; -1 when memory is out. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    void *p;
    size_t want;

    if (n < *cap)
        return 0;
    want = *cap ? *cap * 2 : 16;
    p = realloc(*arr, want * size);
    if (p == NULL)
        return -1;
    memset((char *)p + *cap * size, 0, (want - *cap) * size);
    *arr = p;
    *cap = want;
    return 0;
}

/* ---- the snapshot ---- */

struct id_index {
    int64_t id;
    int index;
};

static int id_index_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct id_index *)a)->id, y = ((const struct id_index *)b)->id;

    return x < y ? -1 : x > y;
}

static int id_lookup(const struct id_index *ids, size_t n, int64_t id)
{
    struct id_index key = {id, -1};
    const struct id_index *hit = n ? bsearch(&key, ids, n, sizeof(key), id_index_cmp) : NULL;

    return hit ? hit->index : -1;
}

static void model_from_row(sqlite3_stmt *st, int col, struct settings_model *m)
{
    db_column_text(st, col, m->name, sizeof(m->name));
    m->device_type = (unsigned)sqlite3_column_int64(st, col + 1);
    m->pfs_capable = sqlite3_column_int(st, col + 2) != 0;
    db_column_text(st, col + 3, m->protocol, sizeof(m->protocol));
    db_column_text(st, col + 4, m->default_load, sizeof(m->default_load));
    m->dual = sqlite3_column_int(st, col + 5) != 0;
    db_column_text(st, col + 6, m->default_load_other, sizeof(m->default_load_other));
}

/* A model's columns, its default loads keyed by (model, protocol) from
 * model_loads: its own protocol's, then (dual models) the other's. */
#define MODEL_COLUMNS                                                                              \
    "name, device_type, pfs_capable, protocol,"                                                    \
    " (SELECT l.load FROM model_loads l WHERE l.model_id = models.id"                              \
    "  AND l.protocol = models.protocol), protocols = 'SIP SCCP',"                                 \
    " (SELECT l.load FROM model_loads l WHERE l.model_id = models.id"                              \
    "  AND l.protocol <> models.protocol AND models.protocols = 'SIP SCCP')"

static int snapshot_models(sqlite3 *db, struct settings_snapshot *s, struct id_index **ids)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id, " MODEL_COLUMNS " FROM models"
                                      " ORDER BY name_folded");
    size_t cap = 0, icap = 0;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&s->models, &cap, s->n_models, sizeof(*s->models)) != 0 ||
            grow((void **)ids, &icap, s->n_models, sizeof(**ids)) != 0) {
            rc = DB_ERROR;
            break;
        }
        (*ids)[s->n_models] = (struct id_index){sqlite3_column_int64(st, 0), (int)s->n_models};
        model_from_row(st, 1, &s->models[s->n_models++]);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "snapshot models");
    sqlite3_finalize(st);
    if (rc == DB_OK && s->n_models > 0)
        qsort(*ids, s->n_models, sizeof(**ids), id_index_cmp);
    return rc;
}

static int snapshot_profiles(sqlite3 *db, struct settings_snapshot *s, struct id_index **ids)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id, name, pfs, load_server, template"
                                      " FROM profiles ORDER BY name_folded");
    size_t cap = 0, icap = 0;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct settings_profile *p;
        const unsigned char *tpl;

        if (grow((void **)&s->profiles, &cap, s->n_profiles, sizeof(*s->profiles)) != 0 ||
            grow((void **)ids, &icap, s->n_profiles, sizeof(**ids)) != 0) {
            rc = DB_ERROR;
            break;
        }
        (*ids)[s->n_profiles] = (struct id_index){sqlite3_column_int64(st, 0), (int)s->n_profiles};
        p = &s->profiles[s->n_profiles++];
        db_column_text(st, 1, p->name, sizeof(p->name));
        column_opt(st, 2, &p->pfs);
        column_opt(st, 3, &p->load_server);
        tpl = sqlite3_column_text(st, 4);
        if (tpl != NULL && (p->template_xml = strdup((const char *)tpl)) == NULL)
            rc = DB_ERROR;
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "snapshot profiles");
    sqlite3_finalize(st);
    if (rc == DB_OK && s->n_profiles > 0)
        qsort(*ids, s->n_profiles, sizeof(**ids), id_index_cmp);
    return rc;
}

/* The devices' array at its final size, in the snapshot's read transaction:
 * one zeroed allocation (fresh pages from the kernel at 40,000 devices of
 * 1.3 KiB each), not doublings that copy and clear up to twice as much. */
static int devices_alloc(sqlite3 *db, struct settings_snapshot *s, size_t *cap)
{
    int64_t n = 0;
    int rc = db_int(db, "SELECT count(*) FROM devices", &n);

    if (rc != DB_OK || n <= 0)
        return rc;
    s->devices = calloc((size_t)n, sizeof(*s->devices));
    if (s->devices == NULL)
        return DB_ERROR;
    *cap = (size_t)n;
    return DB_OK;
}

static int snapshot_devices(sqlite3 *db, struct settings_snapshot *s,
                            const struct id_index *model_ids, const struct id_index *profile_ids)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT mac, model_id, profile_id, description, pfs,"
                                      " load_server, load, last_load, coalesce(protocol, '')"
                                      " FROM devices ORDER BY mac");
    size_t cap = 0;
    int rc = st ? devices_alloc(db, s, &cap) : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct settings_device *d;

        if (grow((void **)&s->devices, &cap, s->n_devices, sizeof(*s->devices)) != 0) {
            rc = DB_ERROR;
            break;
        }
        d = &s->devices[s->n_devices++];
        db_column_text(st, 0, d->mac, sizeof(d->mac));
        d->model = id_lookup(model_ids, s->n_models, sqlite3_column_int64(st, 1));
        d->profile = sqlite3_column_type(st, 2) == SQLITE_NULL
                         ? -1
                         : id_lookup(profile_ids, s->n_profiles, sqlite3_column_int64(st, 2));
        db_column_text(st, 3, d->description, sizeof(d->description));
        column_opt(st, 4, &d->pfs);
        column_opt(st, 5, &d->load_server);
        column_opt(st, 6, &d->load);
        db_column_text(st, 7, d->last_load, sizeof(d->last_load));
        db_column_text(st, 8, d->protocol, sizeof(d->protocol));
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "snapshot devices");
    sqlite3_finalize(st);
    return rc;
}

static void site_from_row(sqlite3_stmt *st, int col, struct settings_site *site)
{
    int bytes = sqlite3_column_bytes(st, col + 1);
    const void *blob = sqlite3_column_blob(st, col + 1);

    site->family = sqlite3_column_int(st, col) == 4 ? AF_INET : AF_INET6;
    memset(site->addr, 0, sizeof(site->addr));
    if (blob != NULL && bytes > 0 && (size_t)bytes <= sizeof(site->addr))
        memcpy(site->addr, blob, (size_t)bytes);
    site->prefix_len = (unsigned)sqlite3_column_int(st, col + 2);
    db_column_text(st, col + 3, site->load_server, sizeof(site->load_server));
    db_column_text(st, col + 4, site->name, sizeof(site->name));
    if (sqlite3_column_type(st, col + 5) == SQLITE_NULL)
        site->stage_first = SETTINGS_INHERIT;
    else
        site->stage_first = sqlite3_column_int(st, col + 5) ? SETTINGS_ON : SETTINGS_OFF;
}

#define SITE_SELECT                                                                                \
    "SELECT family, addr, prefix_len, load_server, name, stage_first FROM sites"                   \
    " ORDER BY family, addr, prefix_len"

static int snapshot_sites(sqlite3 *db, struct settings_snapshot *s)
{
    sqlite3_stmt *st = db_prepare(db, SITE_SELECT);
    size_t cap = 0;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&s->sites, &cap, s->n_sites, sizeof(*s->sites)) != 0) {
            rc = DB_ERROR;
            break;
        }
        site_from_row(st, 0, &s->sites[s->n_sites++]);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "snapshot sites");
    sqlite3_finalize(st);
    return rc;
}

static int load_cmp(const void *a, const void *b)
{
    return strcasecmp(((const struct settings_load *)a)->name,
                      ((const struct settings_load *)b)->name);
}

/* Why a load is not servable, in words for "held back: LOAD <why>". */
static void load_why(const struct catalog_load *l, char *out, size_t cap)
{
    char file[CATALOG_NAME_MAX + 16] = "";

    if (l->culprit[0] != '\0')
        snprintf(file, sizeof(file), " (file %s)", l->culprit);
    if (strcmp(l->status, "quarantined") == 0)
        snprintf(out, cap, "is quarantined%s", file);
    else if (strcmp(l->status, "invalid") == 0)
        snprintf(out, cap, "has a signature that fails against a trusted certificate%s", file);
    else
        snprintf(out, cap, "is %s%s, and the signature policy \"%s\" does not serve it", l->status,
                 file, l->policy);
}

struct loads_fill {
    struct settings_snapshot *s;
    size_t cap;
};

static int load_add(void *arg, const struct catalog_load *cl)
{
    struct loads_fill *lf = arg;
    struct settings_snapshot *s = lf->s;
    struct settings_load *l;

    if (grow((void **)&s->loads, &lf->cap, s->n_loads, sizeof(*s->loads)) != 0)
        return DB_ERROR;
    l = &s->loads[s->n_loads++];
    memset(l, 0, sizeof(*l));
    snprintf(l->name, sizeof(l->name), "%s", cl->name);
    l->quarantined = strcmp(cl->status, "quarantined") == 0;
    l->blocked = !cl->served && !l->quarantined;
    if (!cl->served)
        load_why(cl, l->why, sizeof(l->why));
    return 0;
}

static int snapshot_loads(sqlite3 *db, struct settings_snapshot *s)
{
    struct loads_fill lf = {s, 0};
    int rc = catalog_loads_each(db, load_add, &lf);

    if (rc == DB_OK && s->n_loads > 1)
        qsort(s->loads, s->n_loads, sizeof(*s->loads), load_cmp);
    return rc;
}

static int snapshot_read(sqlite3 *db, struct settings_snapshot *s)
{
    struct id_index *model_ids = NULL, *profile_ids = NULL;
    int rc = db_generation(db, &s->generation);

    if (rc == DB_OK)
        rc = provision_enterprise_get(db, &s->enterprise);
    if (rc == DB_OK)
        rc = snapshot_models(db, s, &model_ids);
    if (rc == DB_OK)
        rc = snapshot_profiles(db, s, &profile_ids);
    if (rc == DB_OK)
        rc = snapshot_devices(db, s, model_ids, profile_ids);
    if (rc == DB_OK)
        rc = snapshot_sites(db, s);
    if (rc == DB_OK)
        rc = snapshot_loads(db, s);
    free(model_ids);
    free(profile_ids);
    return rc;
}

/* db_read's callback. */
static int snapshot_read_tx(sqlite3 *db, void *arg)
{
    return snapshot_read(db, arg);
}

int provision_snapshot_load(sqlite3 *db, struct settings_snapshot **out)
{
    struct settings_snapshot *s = calloc(1, sizeof(*s));
    int rc = s ? DB_OK : DB_ERROR;

    /* One read transaction: every table from the same committed state. */
    if (rc == DB_OK)
        rc = db_read(db, snapshot_read_tx, s);
    if (rc != DB_OK) {
        provision_snapshot_free(s);
        return rc;
    }
    *out = s;
    return DB_OK;
}

static int record_one(sqlite3 *db, const char *mac, const char *load)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE devices SET last_load = ?2 WHERE mac = ?1");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, mac, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, load, -1, SQLITE_TRANSIENT);
    return db_exec_stmt(db, st);
}

int provision_record_given(sqlite3 *db, const struct settings_snapshot *s,
                           const struct fleet_view *fleet, int64_t now, unsigned *changed)
{
    struct fleet_seen *seen = NULL;
    size_t n_seen = 0;
    unsigned n = 0;
    int rc = fleet_seen_load(db, &seen, &n_seen);
    bool open = false;

    for (size_t i = 0; rc == DB_OK && i < s->n_devices; i++) {
        const struct settings_device *d = &s->devices[i];
        const struct fleet_seen *at = fleet_seen_find(seen, n_seen, d->mac);
        struct settings_effective e;

        if (fleet_resolve(s, fleet, now, d->mac, at ? (const struct sockaddr *)&at->addr : NULL,
                          &e) != 0 ||
            e.load_state != SETTINGS_LOAD_OK || strcmp(e.served, d->last_load) == 0 ||
            strcasecmp(e.served, e.load.value) != 0)
            continue;
        if (!open && (rc = db_begin(db)) == DB_OK)
            open = true;
        if (rc == DB_OK)
            rc = record_one(db, d->mac, e.served);
        n += rc == DB_OK;
    }
    if (open && rc == DB_OK)
        rc = db_commit(db);
    else if (open)
        db_rollback(db);
    if (changed != NULL)
        *changed = rc == DB_OK ? n : 0;
    free(seen);
    return rc;
}

void provision_snapshot_free(struct settings_snapshot *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_profiles; i++)
        free((void *)s->profiles[i].template_xml);
    free(s->models);
    free(s->profiles);
    free(s->devices);
    free(s->sites);
    free(s->loads);
    free(s);
}

/* ---- models ---- */

int provision_models_each(sqlite3 *db, int (*cb)(void *arg, const struct settings_model *m),
                          void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " MODEL_COLUMNS " FROM models"
                                      " ORDER BY name_folded");
    struct settings_model m;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&m, 0, sizeof(m));
        model_from_row(st, 0, &m);
        rc = cb(arg, &m);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list models");
    sqlite3_finalize(st);
    return rc;
}

struct model_list {
    struct settings_model *items;
    size_t n, cap;
};

static int model_collect(void *arg, const struct settings_model *m)
{
    struct model_list *l = arg;

    if (grow((void **)&l->items, &l->cap, l->n, sizeof(*l->items)) != 0)
        return DB_ERROR;
    l->items[l->n++] = *m;
    return 0;
}

int provision_model_find(sqlite3 *db, const char *text, struct settings_model *out)
{
    struct model_list l = {0};
    int rc = provision_models_each(db, model_collect, &l), idx = -1;

    if (rc == DB_OK) {
        idx = settings_find_model(l.items, l.n, text);
        rc = idx >= 0 ? DB_OK : idx == -2 ? DB_CONFLICT : DB_NOT_FOUND;
    }
    if (rc == DB_OK)
        *out = l.items[idx];
    free(l.items);
    return rc;
}

/* Sets (load) or clears (NULL) the default of (model, protocol). */
static int model_load_put(sqlite3 *db, const char *model, const char *protocol, const char *load)
{
    sqlite3_stmt *st =
        load != NULL
            ? db_prepare(db, "INSERT INTO model_loads (model_id, protocol, load)"
                             " SELECT id, ?2, ?3 FROM models WHERE name_folded = ?1"
                             " ON CONFLICT (model_id, protocol) DO UPDATE SET load = excluded.load")
            : db_prepare(db, "DELETE FROM model_loads WHERE protocol = ?2 AND model_id ="
                             " (SELECT id FROM models WHERE name_folded = ?1)");

    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, model);
    sqlite3_bind_text(st, 2, protocol, -1, SQLITE_TRANSIENT);
    if (load != NULL)
        sqlite3_bind_text(st, 3, load, -1, SQLITE_TRANSIENT);
    return db_exec_stmt(db, st);
}

int provision_model_add(sqlite3 *db, const char *actor, const struct settings_model *m)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO models (name, name_folded, device_type,"
                                      " pfs_capable, protocol, protocols)"
                                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    const char *protocol = m->protocol[0] ? m->protocol : "SIP";
    char after[SETTINGS_VALUE_MAX];
    int rc;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, m->name, -1, SQLITE_TRANSIENT);
    bind_folded(st, 2, m->name);
    sqlite3_bind_int64(st, 3, m->device_type);
    sqlite3_bind_int(st, 4, m->pfs_capable);
    sqlite3_bind_text(st, 5, protocol, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, m->dual ? "SIP SCCP" : protocol, -1, SQLITE_TRANSIENT);
    rc = db_exec_stmt(db, st);
    if (rc == DB_OK && m->default_load[0] != '\0')
        rc = model_load_put(db, m->name, protocol, m->default_load);
    snprintf(after, sizeof(after), "device type %u, %s%s, %s", m->device_type, protocol,
             m->dual ? " (runs SIP and SCCP)" : "", m->pfs_capable ? "PFS" : "no PFS");
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "model.add", m->name, NULL, after);
    return rc;
}

int provision_model_set_default_load(sqlite3 *db, const char *actor, const char *model,
                                     const char *load)
{
    return provision_model_set_protocol_load(db, actor, model, NULL, load);
}

int provision_model_set_protocol_load(sqlite3 *db, const char *actor, const char *model,
                                      const char *protocol, const char *load)
{
    sqlite3_stmt *get = db_prepare(db, "SELECT protocol, protocols = 'SIP SCCP', (SELECT load"
                                       " FROM model_loads WHERE model_id = models.id"
                                       " AND protocol = coalesce(?2, models.protocol))"
                                       " FROM models WHERE name_folded = ?1");
    char before[SETTINGS_VALUE_MAX] = "", own[8] = "", object[SETTINGS_NAME_MAX + 8];
    bool has_load = load != NULL && load[0] != '\0', dual = false;
    int rc = get ? DB_OK : DB_ERROR;

    if (rc == DB_OK) {
        bind_folded(get, 1, model);
        bind_opt_text(get, 2, protocol);
        rc = step_row(db, get, "find model");
        if (rc == DB_OK) {
            db_column_text(get, 0, own, sizeof(own));
            dual = sqlite3_column_int(get, 1) != 0;
            db_column_text(get, 2, before, sizeof(before));
        }
    }
    sqlite3_finalize(get);
    if (protocol == NULL)
        protocol = own;
    if (rc == DB_OK && strcmp(protocol, own) != 0 && !dual)
        rc = DB_CONFLICT; /* the model does not run that protocol */
    if (rc == DB_OK)
        rc = model_load_put(db, model, protocol, has_load ? load : NULL);
    /* The model's own protocol is the model; the other one is named. */
    snprintf(object, sizeof(object), "%s%s%s", model, strcmp(protocol, own) ? " " : "",
             strcmp(protocol, own) ? protocol : "");
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "model.default_load", object, before[0] ? before : "none",
                           has_load ? load : "none");
    return rc;
}

/* ---- enterprise ---- */

/* The fleet settings (docs/FLEET.md); a missing or broken row is its default. */
static int enterprise_fleet_get(sqlite3 *db, struct settings_enterprise *out)
{
    char stage[8] = "off", age[24] = "", probe[8] = "off";
    uint64_t secs = SETTINGS_FLEET_MAX_AGE_DEFAULT;
    int rc = catalog_setting_get(db, "stage_first", stage, sizeof(stage));

    if (rc == DB_OK || rc == DB_NOT_FOUND)
        rc = catalog_setting_get(db, "fleet_max_age_s", age, sizeof(age));
    if (rc == DB_OK || rc == DB_NOT_FOUND)
        rc = catalog_setting_get(db, "probe_load_servers", probe, sizeof(probe));
    if (numparse_u64(age, SETTINGS_FLEET_MAX_AGE_MIN, SETTINGS_FLEET_MAX_AGE_MAX, &secs) != 0)
        secs = SETTINGS_FLEET_MAX_AGE_DEFAULT;
    out->stage_first = strcmp(stage, "on") == 0;
    out->fleet_max_age_s = (int64_t)secs;
    out->probe_load_servers = strcmp(probe, "on") == 0;
    return rc;
}

int provision_enterprise_get(sqlite3 *db, struct settings_enterprise *out)
{
    char pfs[8] = "off";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = catalog_setting_get(db, "peer_firmware_sharing", pfs, sizeof(pfs));
    if (rc == DB_OK || rc == DB_NOT_FOUND)
        rc = catalog_setting_get(db, "load_server", out->load_server, sizeof(out->load_server));
    if (rc == DB_OK || rc == DB_NOT_FOUND)
        rc = catalog_setting_get(db, "cm_address", out->cm_address, sizeof(out->cm_address));
    out->pfs = strcmp(pfs, "on") == 0;
    if (rc == DB_OK || rc == DB_NOT_FOUND)
        rc = enterprise_fleet_get(db, out);
    return rc == DB_NOT_FOUND ? DB_OK : rc;
}

int provision_enterprise_check(const char *key, const char *in, char *out, size_t cap,
                               const char **why)
{
    char v[SETTINGS_VALUE_MAX];
    int rc = -1;

    *why = "unknown key (peer_firmware_sharing, load_server, cm_address, signature_policy,"
           " stage_first, fleet_max_age_s, probe_load_servers)";
    if (strcmp(key, "peer_firmware_sharing") == 0) {
        rc = settings_value_normalize(SETTINGS_KEY_PFS, in, v, why);
    } else if (strcmp(key, "stage_first") == 0 || strcmp(key, "probe_load_servers") == 0) {
        /* on/off as peer_firmware_sharing takes them. */
        rc = settings_value_normalize(SETTINGS_KEY_PFS, in, v, why);
        if (rc != 0)
            *why = strcmp(key, "stage_first") == 0 ? "stage_first is on or off"
                                                   : "probe_load_servers is on or off";
    } else if (strcmp(key, "fleet_max_age_s") == 0) {
        uint64_t secs = 0;

        rc = numparse_u64(in, SETTINGS_FLEET_MAX_AGE_MIN, SETTINGS_FLEET_MAX_AGE_MAX, &secs) == 0
                 ? 0
                 : -1;
        *why = rc == 0 ? NULL : "fleet_max_age_s is a number of seconds, 1 to 86400";
        snprintf(v, sizeof(v), "%llu", (unsigned long long)secs);
    } else if (strcmp(key, "load_server") == 0) {
        rc = settings_value_normalize(SETTINGS_KEY_LOAD_SERVER, in, v, why);
    } else if (strcmp(key, "cm_address") == 0) {
        /* Same shape as a load server: a host, or none. */
        rc = settings_value_normalize(SETTINGS_KEY_LOAD_SERVER, in, v, why);
        if (rc == 0 && settings_branch_name(v) != NULL)
            rc = -1; /* a branch is a load server, never a call manager */
        if (rc != 0)
            *why = "cm_address is a host name or address, or none";
    } else if (strcmp(key, "signature_policy") == 0) {
        rc = strcmp(in, "signed") == 0 || strcmp(in, "verified") == 0 || strcmp(in, "any") == 0
                 ? 0
                 : -1;
        *why = rc == 0 ? NULL : "signature_policy is signed, verified or any";
        snprintf(v, sizeof(v), "%s", in);
    }
    if (rc == 0 && (size_t)snprintf(out, cap, "%s", v) >= cap) {
        *why = "the value is too long";
        rc = -1;
    }
    return rc;
}

int provision_enterprise_set(sqlite3 *db, const char *actor, const char *key, const char *value)
{
    char before[SETTINGS_VALUE_MAX] = "";
    struct catalog_statuses loads = {0};
    bool policy = strcmp(key, "signature_policy") == 0;
    int rc = strcmp(key, "load_server") == 0 ? branch_guard(db, value) : DB_OK;

    if (rc == DB_OK)
        rc = catalog_setting_get(db, key, before, sizeof(before));

    /* The policy decides which loads are served: record which changed. */
    if (policy && (rc == DB_OK || rc == DB_NOT_FOUND))
        rc = catalog_statuses_get(db, &loads);
    if (rc == DB_OK || rc == DB_NOT_FOUND)
        rc = catalog_setting_set(db, key, value);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "enterprise.set", key, before, value);
    if (rc == DB_OK && policy)
        rc = catalog_statuses_audit(db, actor, "signature_policy", &loads, NULL);
    catalog_statuses_free(&loads);
    return rc;
}

/* ---- profiles ---- */

int provision_profile_add(sqlite3 *db, const char *actor, const char *name)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO profiles (name, name_folded) VALUES (?1, ?2)");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    bind_folded(st, 2, name);
    rc = db_exec_stmt(db, st);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "profile.add", name, NULL, "{}");
    return rc;
}

int provision_profile_get(sqlite3 *db, const char *name, struct settings_profile *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT name, pfs, load_server FROM profiles"
                                      " WHERE name_folded = ?1");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    memset(out, 0, sizeof(*out));
    bind_folded(st, 1, name);
    rc = step_row(db, st, "find profile");
    if (rc == DB_OK) {
        db_column_text(st, 0, out->name, sizeof(out->name));
        column_opt(st, 1, &out->pfs);
        column_opt(st, 2, &out->load_server);
    }
    sqlite3_finalize(st);
    return rc;
}

static const char *opt_text(const struct settings_opt *o)
{
    if (!o->set)
        return "inherit";
    return o->value[0] ? o->value : "none";
}

int provision_profile_set(sqlite3 *db, const char *actor, const char *name, enum settings_key key,
                          const char *value)
{
    struct settings_profile p;
    const struct settings_opt *before;
    sqlite3_stmt *st = NULL;
    char object[SETTINGS_NAME_MAX + 32];
    int rc = provision_profile_get(db, name, &p);

    if (rc == DB_OK && key == SETTINGS_KEY_LOAD_SERVER)
        rc = branch_guard(db, value);
    if (rc != DB_OK)
        return rc;
    if (key == SETTINGS_KEY_PFS)
        st = db_prepare(db, "UPDATE profiles SET pfs = ?2 WHERE name_folded = ?1");
    else if (key == SETTINGS_KEY_LOAD_SERVER)
        st = db_prepare(db, "UPDATE profiles SET load_server = ?2 WHERE name_folded = ?1");
    else
        return DB_CONFLICT; /* profiles carry no load */
    if (st != NULL) {
        bind_folded(st, 1, name);
        bind_opt_text(st, 2, value);
    }
    rc = exec_changed(db, st, "set profile");
    before = key == SETTINGS_KEY_PFS ? &p.pfs : &p.load_server;
    snprintf(object, sizeof(object), "%s %s", p.name, settings_key_name(key));
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "profile.set", object, opt_text(before),
                           value == NULL ? "inherit"
                           : value[0]    ? value
                                         : "none");
    return rc;
}

int provision_profile_copy(sqlite3 *db, const char *actor, const char *from, const char *to)
{
    struct settings_profile p;
    sqlite3_stmt *st;
    int rc = provision_profile_get(db, from, &p);

    if (rc != DB_OK)
        return rc;
    st = db_prepare(db, "INSERT INTO profiles (name, name_folded, pfs, load_server, template)"
                        " SELECT ?2, ?3, pfs, load_server, template FROM profiles"
                        " WHERE name_folded = ?1");
    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, from);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_TRANSIENT);
    bind_folded(st, 3, to);
    rc = db_exec_stmt(db, st);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "profile.copy", to, p.name, to);
    return rc;
}

static int profile_users(sqlite3 *db, const char *name, unsigned *users)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM devices d JOIN profiles p"
                                      " ON p.id = d.profile_id WHERE p.name_folded = ?1");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, name);
    rc = step_row(db, st, "profile users");
    if (rc == DB_OK)
        *users = (unsigned)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int provision_profile_remove(sqlite3 *db, const char *actor, const char *name, unsigned *users)
{
    struct settings_profile p;
    int rc = provision_profile_get(db, name, &p);

    *users = 0;
    if (rc == DB_OK)
        rc = profile_users(db, name, users);
    if (rc == DB_OK && *users > 0)
        rc = DB_CONFLICT;
    if (rc == DB_OK) {
        sqlite3_stmt *st = db_prepare(db, "DELETE FROM profiles WHERE name_folded = ?1");

        if (st != NULL)
            bind_folded(st, 1, name);
        rc = exec_changed(db, st, "remove profile");
    }
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "profile.remove", p.name, NULL, NULL);
    return rc;
}

int provision_profiles_each(sqlite3 *db,
                            int (*cb)(void *arg, const struct settings_profile *p,
                                      unsigned devices),
                            void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT p.name, p.pfs, p.load_server,"
                                      " (SELECT count(*) FROM devices d"
                                      "  WHERE d.profile_id = p.id)"
                                      " FROM profiles p ORDER BY p.name_folded");
    struct settings_profile p;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&p, 0, sizeof(p));
        db_column_text(st, 0, p.name, sizeof(p.name));
        column_opt(st, 1, &p.pfs);
        column_opt(st, 2, &p.load_server);
        rc = cb(arg, &p, (unsigned)sqlite3_column_int64(st, 3));
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list profiles");
    sqlite3_finalize(st);
    return rc;
}

int provision_profile_template_get(sqlite3 *db, const char *name, char **out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT template FROM profiles WHERE name_folded = ?1");
    const unsigned char *t;
    int rc;

    *out = NULL;
    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, name);
    rc = step_row(db, st, "profile template");
    if (rc == DB_OK && (t = sqlite3_column_text(st, 0)) != NULL &&
        (*out = strdup((const char *)t)) == NULL)
        rc = DB_ERROR;
    sqlite3_finalize(st);
    return rc;
}

int provision_profile_template_set(sqlite3 *db, const char *actor, const char *name,
                                   const char *text)
{
    sqlite3_stmt *st;
    char after[64];
    int rc;

    if (text != NULL && strlen(text) > PROVISION_TEMPLATE_MAX)
        return DB_CONFLICT;
    st = db_prepare(db, "UPDATE profiles SET template = ?2 WHERE name_folded = ?1");
    if (st != NULL) {
        bind_folded(st, 1, name);
        bind_opt_text(st, 2, text);
    }
    rc = exec_changed(db, st, "set profile template");
    if (text != NULL)
        snprintf(after, sizeof(after), "%zu bytes", strlen(text));
    else
        snprintf(after, sizeof(after), "default");
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "profile.template", name, NULL, after);
    return rc;
}

/* ---- devices ---- */

#define DEVICE_SELECT                                                                              \
    "SELECT d.mac, m.name, p.name, d.description, d.pfs, d.load_server, d.load,"                   \
    " coalesce(d.protocol, '')"                                                                    \
    " FROM devices d JOIN models m ON m.id = d.model_id"                                           \
    " LEFT JOIN profiles p ON p.id = d.profile_id"

static void device_from_row(sqlite3_stmt *st, struct provision_device *d)
{
    memset(d, 0, sizeof(*d));
    db_column_text(st, 0, d->mac, sizeof(d->mac));
    db_column_text(st, 1, d->model, sizeof(d->model));
    db_column_text(st, 2, d->profile, sizeof(d->profile));
    db_column_text(st, 3, d->description, sizeof(d->description));
    column_opt(st, 4, &d->pfs);
    column_opt(st, 5, &d->load_server);
    column_opt(st, 6, &d->load);
    db_column_text(st, 7, d->protocol, sizeof(d->protocol));
}

void provision_device_describe(const struct provision_device *d, char *out, size_t cap)
{
    json_t *j = json_pack("{s:s, s:s?, s:s, s:s?, s:s?, s:s?, s:s?}", "model", d->model, "profile",
                          d->profile[0] ? d->profile : NULL, "description", d->description,
                          "peer_firmware_sharing", opt_value(&d->pfs), "load_server",
                          opt_value(&d->load_server), "load", opt_value(&d->load), "protocol",
                          d->protocol[0] ? d->protocol : NULL);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

    snprintf(out, cap, "%s", text ? text : "{}");
    free(text);
    json_decref(j);
}

int provision_device_get(sqlite3 *db, const char *mac, struct provision_device *out)
{
    sqlite3_stmt *st = db_prepare(db, DEVICE_SELECT " WHERE d.mac = ?1");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, mac, -1, SQLITE_TRANSIENT);
    rc = step_row(db, st, "find device");
    if (rc == DB_OK)
        device_from_row(st, out);
    sqlite3_finalize(st);
    return rc;
}

/* The model and profile a write names must exist. */
static int device_refs_check(sqlite3 *db, const struct provision_device *d)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT (SELECT count(*) FROM models"
                                      " WHERE name_folded = ?1),"
                                      " ?2 IS NULL OR (SELECT count(*) FROM profiles"
                                      " WHERE name_folded = ?2)");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, d->model);
    if (d->profile[0])
        bind_folded(st, 2, d->profile);
    rc = step_row(db, st, "device references");
    if (rc == DB_OK && (sqlite3_column_int(st, 0) == 0 || sqlite3_column_int(st, 1) == 0))
        rc = DB_NOT_FOUND;
    sqlite3_finalize(st);
    return rc;
}

/* ?1 mac ?2 model ?3 profile ?4 description ?5 pfs ?6 load_server ?7 load */
static void device_bind(sqlite3_stmt *st, const struct provision_device *d)
{
    sqlite3_bind_text(st, 1, d->mac, -1, SQLITE_TRANSIENT);
    bind_folded(st, 2, d->model);
    if (d->profile[0])
        bind_folded(st, 3, d->profile);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, d->description, -1, SQLITE_TRANSIENT);
    bind_opt_text(st, 5, opt_value(&d->pfs));
    bind_opt_text(st, 6, opt_value(&d->load_server));
    bind_opt_text(st, 7, opt_value(&d->load));
}

#define DEVICE_VALUES                                                                              \
    " VALUES (?1, (SELECT id FROM models WHERE name_folded = ?2),"                                 \
    " (SELECT id FROM profiles WHERE name_folded = ?3), ?4, ?5, ?6, ?7)"

static const char device_upsert_sql[] =
    "INSERT INTO devices (mac, model_id, profile_id, description, pfs, load_server, "
    "load)" DEVICE_VALUES " ON CONFLICT (mac) DO UPDATE SET model_id = excluded.model_id,"
    " profile_id = excluded.profile_id, description = excluded.description,"
    " pfs = excluded.pfs, load_server = excluded.load_server, load = excluded.load";

/* The device's protocol ("" = its model's), written apart from the row the
 * CSV import shares: an import leaves a device's protocol as it is. */
static int device_protocol_put(sqlite3 *db, const struct provision_device *d)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE devices SET protocol = ?2 WHERE mac = ?1");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, d->mac, -1, SQLITE_TRANSIENT);
    bind_opt_text(st, 2, d->protocol[0] ? d->protocol : NULL);
    return db_exec_stmt(db, st);
}

int provision_device_add(sqlite3 *db, const char *actor, const struct provision_device *d)
{
    char after[1024];
    int rc = device_refs_check(db, d);

    if (rc == DB_OK && d->load_server.set)
        rc = branch_guard(db, d->load_server.value);
    if (rc == DB_OK) {
        sqlite3_stmt *st = db_prepare(db, "INSERT INTO devices (mac, model_id, profile_id,"
                                          " description, pfs, load_server, load)" DEVICE_VALUES);

        if (st != NULL)
            device_bind(st, d);
        rc = db_exec_stmt(db, st);
    }
    if (rc == DB_OK)
        rc = device_protocol_put(db, d);
    provision_device_describe(d, after, sizeof(after));
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "device.add", d->mac, NULL, after);
    return rc;
}

int provision_device_update(sqlite3 *db, const char *actor, const struct provision_device *d)
{
    struct provision_device old;
    char before[1024], after[1024];
    int rc = provision_device_get(db, d->mac, &old);

    if (rc == DB_OK)
        rc = device_refs_check(db, d);
    if (rc == DB_OK)
        rc = branch_guard_changed(db, &old.load_server, &d->load_server);
    if (rc == DB_OK) {
        sqlite3_stmt *st = db_prepare(db, device_upsert_sql);

        if (st != NULL)
            device_bind(st, d);
        rc = db_exec_stmt(db, st);
    }
    if (rc == DB_OK)
        rc = device_protocol_put(db, d);
    provision_device_describe(&old, before, sizeof(before));
    provision_device_describe(d, after, sizeof(after));
    if (rc == DB_OK && strcmp(before, after) != 0)
        rc = catalog_audit(db, actor, "device.set", d->mac, before, after);
    return rc;
}

int provision_device_remove(sqlite3 *db, const char *actor, const char *mac)
{
    struct provision_device old;
    char before[1024];
    int rc = provision_device_get(db, mac, &old);

    if (rc == DB_OK) {
        sqlite3_stmt *st = db_prepare(db, "DELETE FROM devices WHERE mac = ?1");

        if (st != NULL)
            sqlite3_bind_text(st, 1, mac, -1, SQLITE_TRANSIENT);
        rc = exec_changed(db, st, "remove device");
    }
    if (rc == DB_OK) {
        provision_device_describe(&old, before, sizeof(before));
        rc = catalog_audit(db, actor, "device.remove", mac, before, NULL);
    }
    return rc;
}

/* ---- where phones were seen from ---- */

static int seen_one(sqlite3 *db, const struct provision_seen *r)
{
    /* The WHERE of the SELECT also keeps the upsert's grammar unambiguous. */
    sqlite3_stmt *st = db_prepare(
        db, "INSERT INTO device_seen (mac, addr, since)"
            " SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM devices WHERE mac = ?1)"
            " ON CONFLICT (mac) DO UPDATE SET addr = excluded.addr, since = excluded.since"
            " WHERE addr != excluded.addr");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, r->mac, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->addr, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, r->at);
    return db_exec_stmt(db, st);
}

int provision_seen_record(sqlite3 *db, const struct provision_seen *rows, size_t n)
{
    int rc = n > 0 ? db_begin(db) : DB_OK;

    for (size_t i = 0; rc == DB_OK && i < n; i++)
        rc = seen_one(db, &rows[i]);
    if (n > 0 && rc == DB_OK)
        return db_commit_untracked(db);
    if (n > 0)
        db_rollback(db);
    return rc;
}

int provision_seen_get(sqlite3 *db, const char *mac, struct provision_seen *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT addr, since FROM device_seen WHERE mac = ?1");
    int rc = DB_ERROR, step;

    if (st == NULL)
        return DB_ERROR;
    memset(out, 0, sizeof(*out));
    sqlite3_bind_text(st, 1, mac, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(out->mac, sizeof(out->mac), "%s", mac);
        db_column_text(st, 0, out->addr, sizeof(out->addr));
        out->at = sqlite3_column_int64(st, 1);
        rc = DB_OK;
    } else {
        rc =
            step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, "read where a device was seen");
    }
    sqlite3_finalize(st);
    return rc;
}

static bool opt_same(const struct settings_opt *a, const struct settings_opt *b)
{
    return a->set == b->set && (!a->set || strcmp(a->value, b->value) == 0);
}

/* Equal as stored: model and profile names compare without regard to case. */
static bool device_same(const struct provision_device *a, const struct provision_device *b)
{
    return strcasecmp(a->model, b->model) == 0 && strcasecmp(a->profile, b->profile) == 0 &&
           strcmp(a->description, b->description) == 0 && opt_same(&a->pfs, &b->pfs) &&
           opt_same(&a->load_server, &b->load_server) && opt_same(&a->load, &b->load);
}

#define IMPORT_AUDIT_MACS 50 /* MACs named per list in an import's audit row */

/* What a CSV import changed, for its one audit row. */
struct import_tally {
    unsigned added, updated;
    json_t *added_macs, *updated_macs; /* the first IMPORT_AUDIT_MACS of each */
};

/* One row of the import with the statements prepared once; no audit row of
 * its own (the import writes one for all). */
static int device_put_one(sqlite3 *db, sqlite3_stmt *get, sqlite3_stmt *put,
                          const struct provision_device *d, struct import_tally *t)
{
    struct provision_device old;
    bool existed;
    int rc;

    sqlite3_reset(get);
    sqlite3_bind_text(get, 1, d->mac, -1, SQLITE_TRANSIENT);
    rc = step_row(db, get, "find device");
    existed = rc == DB_OK;
    if (existed)
        device_from_row(get, &old);
    if (rc != DB_OK && rc != DB_NOT_FOUND)
        return rc;
    if (existed && device_same(&old, d))
        return DB_OK; /* unchanged: no write */
    rc = existed              ? branch_guard_changed(db, &old.load_server, &d->load_server)
         : d->load_server.set ? branch_guard(db, d->load_server.value)
                              : DB_OK;
    if (rc != DB_OK)
        return rc;
    sqlite3_reset(put);
    device_bind(put, d);
    rc = db_check(db, sqlite3_step(put), "store device");
    if (rc != DB_OK)
        return rc;
    if ((existed ? t->updated : t->added) < IMPORT_AUDIT_MACS)
        json_array_append_new(existed ? t->updated_macs : t->added_macs, json_string(d->mac));
    (*(existed ? &t->updated : &t->added))++;
    return DB_OK;
}

static int devices_put_many(sqlite3 *db, const struct provision_device *rows, size_t n,
                            struct import_tally *t)
{
    sqlite3_stmt *get = db_prepare(db, DEVICE_SELECT " WHERE d.mac = ?1");
    sqlite3_stmt *put = db_prepare(db, device_upsert_sql);
    int rc = get && put ? DB_OK : DB_ERROR;

    for (size_t i = 0; rc == DB_OK && i < n; i++)
        rc = device_put_one(db, get, put, &rows[i], t);
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    return rc;
}

/* The import's one audit row: counts and the first MACs added and changed. */
static int import_audit(sqlite3 *db, const char *actor, size_t rows, const struct import_tally *t)
{
    json_t *j = json_pack("{s:I, s:i, s:i, s:I, s:O, s:O}", "rows", (json_int_t)rows, "added",
                          (int)t->added, "updated", (int)t->updated, "unchanged",
                          (json_int_t)(rows - t->added - t->updated), "added_macs", t->added_macs,
                          "updated_macs", t->updated_macs);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    char object[64];
    int rc;

    snprintf(object, sizeof(object), "%zu rows", rows);
    rc = text != NULL ? catalog_audit(db, actor, "device.import", object, NULL, text) : DB_ERROR;
    free(text);
    json_decref(j);
    return rc;
}

int provision_devices_import(sqlite3 *db, const char *actor,
                             int (*check)(void *arg, const struct settings_snapshot *snap,
                                          const struct provision_device **rows, size_t *n),
                             void *arg, unsigned *added, unsigned *updated)
{
    struct settings_snapshot *snap = NULL;
    const struct provision_device *rows = NULL;
    struct import_tally t = {0, 0, json_array(), json_array()};
    size_t n = 0;
    int rc = t.added_macs && t.updated_macs ? db_begin(db) : DB_ERROR;

    if (rc == DB_OK)
        rc = provision_snapshot_load(db, &snap);
    if (rc == DB_OK)
        rc = check(arg, snap, &rows, &n);
    if (rc == DB_OK)
        rc = devices_put_many(db, rows, n, &t);
    if (rc == DB_OK && t.added + t.updated > 0)
        rc = import_audit(db, actor, n, &t);
    provision_snapshot_free(snap);
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    *added = t.added;
    *updated = t.updated;
    json_decref(t.added_macs);
    json_decref(t.updated_macs);
    return rc;
}

/* "%text%" for LIKE with %, _ and \ escaped; mac: the same without MAC
 * separators, so "00:11:22" finds 001122AABBCC. */
static void like_patterns(const char *search, char *any, char *mac, size_t cap)
{
    size_t a = 0, m = 0;

    any[a++] = '%';
    mac[m++] = '%';
    for (const char *p = search; *p != '\0' && a + 4 < cap; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            any[a++] = '\\';
        any[a++] = *p;
        if (*p != ':' && *p != '-' && *p != '.' && m + 4 < cap) {
            if (*p == '%' || *p == '_' || *p == '\\')
                mac[m++] = '\\';
            mac[m++] = *p;
        }
    }
    any[a++] = '%';
    mac[m++] = '%';
    any[a] = mac[m] = '\0';
}

#define DEVICE_WHERE                                                                               \
    " WHERE ?1 IS NULL OR d.mac LIKE ?2 ESCAPE '\\' OR d.description LIKE ?1 ESCAPE '\\'"          \
    " OR m.name LIKE ?1 ESCAPE '\\' OR p.name LIKE ?1 ESCAPE '\\'"

static void bind_search(sqlite3_stmt *st, const char *search)
{
    char any[2 * SETTINGS_VALUE_MAX], mac[2 * SETTINGS_VALUE_MAX];

    if (search == NULL || search[0] == '\0') {
        sqlite3_bind_null(st, 1);
        sqlite3_bind_null(st, 2);
        return;
    }
    like_patterns(search, any, mac, sizeof(any));
    sqlite3_bind_text(st, 1, any, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, mac, -1, SQLITE_TRANSIENT);
}

int provision_profile_devices_each(sqlite3 *db, const char *name, int64_t limit,
                                   int (*cb)(void *arg, const struct provision_device *d),
                                   void *arg)
{
    sqlite3_stmt *st =
        db_prepare(db, DEVICE_SELECT " WHERE p.name_folded = ?1 ORDER BY d.mac LIMIT ?2");
    struct provision_device d;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    if (st != NULL) {
        bind_folded(st, 1, name);
        sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    }
    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        device_from_row(st, &d);
        rc = cb(arg, &d);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "profile devices");
    sqlite3_finalize(st);
    return rc;
}

int provision_devices_each(sqlite3 *db, const char *search, int64_t offset, int64_t limit,
                           int (*cb)(void *arg, const struct provision_device *d), void *arg)
{
    sqlite3_stmt *st =
        db_prepare(db, DEVICE_SELECT DEVICE_WHERE " ORDER BY d.mac LIMIT ?3 OFFSET ?4");
    struct provision_device d;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    if (st == NULL)
        return rc;
    bind_search(st, search);
    sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1);
    sqlite3_bind_int64(st, 4, offset > 0 ? offset : 0);
    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        device_from_row(st, &d);
        rc = cb(arg, &d);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list devices");
    sqlite3_finalize(st);
    return rc;
}

int provision_devices_count(sqlite3 *db, const char *search, int64_t *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM devices d JOIN models m"
                                      " ON m.id = d.model_id LEFT JOIN profiles p"
                                      " ON p.id = d.profile_id" DEVICE_WHERE);
    int rc;

    if (st == NULL)
        return DB_ERROR;
    bind_search(st, search);
    rc = step_row(db, st, "count devices");
    if (rc == DB_OK)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* ---- site rules ---- */

/* A switch column: NULL inherits, 0 off, 1 on. */
static void bind_switch(sqlite3_stmt *st, int idx, enum settings_switch v)
{
    if (v == SETTINGS_INHERIT)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_int(st, idx, v == SETTINGS_ON);
}

static const char *switch_name(enum settings_switch v)
{
    return v == SETTINGS_ON ? "on" : v == SETTINGS_OFF ? "off" : "inherit";
}

static void bind_site_prefix(sqlite3_stmt *st, int idx, const struct settings_site *site)
{
    sqlite3_bind_int(st, idx, site->family == AF_INET ? 4 : 6);
    sqlite3_bind_blob(st, idx + 1, site->addr, site->family == AF_INET ? 4 : 16, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, idx + 2, (int)site->prefix_len);
}

int provision_site_add(sqlite3 *db, const char *actor, const struct settings_site *site)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO sites (family, addr, prefix_len, cidr,"
                                      " load_server, name, stage_first)"
                                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    char cidr[INET6_ADDRSTRLEN + 8];
    int rc = branch_guard(db, site->load_server);

    if (rc != DB_OK || st == NULL) {
        sqlite3_finalize(st);
        return rc != DB_OK ? rc : DB_ERROR;
    }
    settings_cidr_format(site, cidr, sizeof(cidr));
    bind_site_prefix(st, 1, site);
    sqlite3_bind_text(st, 4, cidr, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, site->load_server, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, site->name, -1, SQLITE_TRANSIENT);
    bind_switch(st, 7, site->stage_first);
    rc = db_exec_stmt(db, st);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "site.add", cidr, NULL, site->load_server);
    return rc;
}

/* A site rule as its audit rows show it. NULL on failure (freed by free()). */
static char *site_audit_text(const struct settings_site *site)
{
    char cidr[INET6_ADDRSTRLEN + 8];
    json_t *j;
    char *text;

    settings_cidr_format(site, cidr, sizeof(cidr));
    j = json_pack("{s:s, s:s, s:s, s:s}", "cidr", cidr, "load_server", site->load_server, "name",
                  site->name, "stage_first", switch_name(site->stage_first));
    text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return text;
}

int provision_site_find(sqlite3 *db, const struct settings_site *site, struct settings_site *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT family, addr, prefix_len, load_server, name,"
                                      " stage_first FROM sites WHERE family = ?1 AND addr = ?2"
                                      " AND prefix_len = ?3");
    int rc = st ? DB_OK : DB_ERROR;

    if (rc == DB_OK) {
        bind_site_prefix(st, 1, site);
        rc = step_row(db, st, "find site");
        if (rc == DB_OK)
            site_from_row(st, 0, out);
    }
    sqlite3_finalize(st);
    return rc;
}

int provision_site_update(sqlite3 *db, const char *actor, const struct settings_site *old,
                          const struct settings_site *site)
{
    struct settings_site before;
    char cidr[INET6_ADDRSTRLEN + 8], *b = NULL, *a = NULL;
    sqlite3_stmt *st;
    int rc = provision_site_find(db, old, &before);

    if (rc == DB_OK && strcmp(before.load_server, site->load_server) != 0)
        rc = branch_guard(db, site->load_server);
    if (rc != DB_OK)
        return rc;
    st = db_prepare(db, "UPDATE sites SET family = ?4, addr = ?5, prefix_len = ?6, cidr = ?7,"
                        " load_server = ?8, name = ?9, stage_first = ?10"
                        " WHERE family = ?1 AND addr = ?2 AND prefix_len = ?3");
    settings_cidr_format(site, cidr, sizeof(cidr));
    if (st != NULL) {
        bind_site_prefix(st, 1, old);
        bind_site_prefix(st, 4, site);
        sqlite3_bind_text(st, 7, cidr, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, site->load_server, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 9, site->name, -1, SQLITE_TRANSIENT);
        bind_switch(st, 10, site->stage_first);
    }
    rc = exec_changed(db, st, "update site");
    if (rc == DB_OK) {
        b = site_audit_text(&before);
        a = site_audit_text(site);
        rc = a && b ? catalog_audit(db, actor, "site.set", cidr, b, a) : DB_ERROR;
    }
    free(b);
    free(a);
    return rc;
}

int provision_sites_each(sqlite3 *db, int (*cb)(void *arg, const struct settings_site *s),
                         void *arg)
{
    sqlite3_stmt *st = db_prepare(db, SITE_SELECT);
    struct settings_site site;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        site_from_row(st, 0, &site);
        rc = cb(arg, &site);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list sites");
    sqlite3_finalize(st);
    return rc;
}

int provision_site_remove(sqlite3 *db, const char *actor, const struct settings_site *site)
{
    sqlite3_stmt *get = db_prepare(db, "SELECT load_server FROM sites"
                                       " WHERE family = ?1 AND addr = ?2 AND prefix_len = ?3");
    char before[SETTINGS_VALUE_MAX] = "", cidr[INET6_ADDRSTRLEN + 8];
    int rc = get ? DB_OK : DB_ERROR;

    if (rc == DB_OK) {
        bind_site_prefix(get, 1, site);
        rc = step_row(db, get, "find site");
        if (rc == DB_OK)
            db_column_text(get, 0, before, sizeof(before));
    }
    sqlite3_finalize(get);
    if (rc == DB_OK) {
        sqlite3_stmt *st = db_prepare(db, "DELETE FROM sites"
                                          " WHERE family = ?1 AND addr = ?2 AND prefix_len = ?3");

        if (st != NULL)
            bind_site_prefix(st, 1, site);
        rc = exec_changed(db, st, "remove site");
    }
    settings_cidr_format(site, cidr, sizeof(cidr));
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "site.remove", cidr, before, NULL);
    return rc;
}

/* ---- the catalog's side ---- */

int provision_load_in_use(sqlite3 *db, const char *load, char *why, size_t cap)
{
    sqlite3_stmt *models = db_prepare(db, "SELECT DISTINCT m.name, m.name_folded FROM models m"
                                          " JOIN model_loads l ON l.model_id = m.id"
                                          " WHERE l.load = ?1 ORDER BY m.name_folded");
    sqlite3_stmt *devices = db_prepare(db, "SELECT count(*) FROM devices WHERE load = ?1");
    size_t used = 0;
    int rc = models && devices ? DB_OK : DB_ERROR, step = SQLITE_DONE, n_models = 0;
    int64_t n_devices = 0;

    if (cap > 0)
        why[0] = '\0';
    if (rc == DB_OK) {
        sqlite3_bind_text(models, 1, load, -1, SQLITE_TRANSIENT);
        while ((step = sqlite3_step(models)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(models, 0);

            if (n_models++ < 3 && used < cap)
                used += (size_t)snprintf(why + used, cap - used, "%s%s",
                                         n_models == 1 ? "the default load of " : ", ",
                                         name ? name : "?");
        }
        rc = db_check(db, step, "load users (models)");
    }
    if (rc == DB_OK && n_models > 3 && used < cap)
        used += (size_t)snprintf(why + used, cap - used, " and %d more", n_models - 3);
    if (rc == DB_OK) {
        sqlite3_bind_text(devices, 1, load, -1, SQLITE_TRANSIENT);
        rc = step_row(db, devices, "load users (devices)");
        if (rc == DB_OK)
            n_devices = sqlite3_column_int64(devices, 0);
    }
    if (rc == DB_OK && n_devices > 0 && used < cap)
        snprintf(why + used, cap - used, "%sassigned to %lld device(s)", n_models ? "; " : "",
                 (long long)n_devices);
    sqlite3_finalize(models);
    sqlite3_finalize(devices);
    if (rc != DB_OK)
        return rc;
    return n_models > 0 || n_devices > 0 ? 1 : 0;
}

/* Whether the load named by the SQL expression X is one devices are given
 * or assigned (the columns compare without case). */
#define LOAD_PROTECTED(X)                                                                          \
    "(EXISTS (SELECT 1 FROM model_loads ml WHERE ml.load = " X ")"                                 \
    " OR EXISTS (SELECT 1 FROM devices d WHERE d.load = " X " OR d.last_load = " X "))"

static int pulled_grow(struct provision_pulled **v, size_t n, size_t *cap)
{
    struct provision_pulled *bigger;

    if (n < *cap)
        return DB_OK;
    bigger = realloc(*v, (*cap ? *cap * 2 : 16) * sizeof(**v));
    if (bigger == NULL)
        return DB_ERROR;
    *v = bigger;
    *cap = *cap ? *cap * 2 : 16;
    return DB_OK;
}

int provision_pulled_loads(sqlite3 *db, struct provision_pulled **out, size_t *n)
{
    sqlite3_stmt *st = db_prepare(
        db, "SELECT l.name, (SELECT coalesce(sum(f.size), 0) FROM load_files lf"
            " JOIN files f ON f.id = lf.file_id WHERE lf.load_id = l.id),"
            " max(l.created_at, coalesce(u.used_at, 0)) AS recent, " LOAD_PROTECTED(
                "l.name") " FROM loads l JOIN imports i ON i.id = l.import_id"
                          " LEFT JOIN load_used u ON u.name_folded = l.name_folded"
                          " WHERE substr(i.source, 1, 9) = 'upstream ' ORDER BY recent, l.id");
    struct provision_pulled *v = NULL;
    size_t cap = 0, count = 0;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = pulled_grow(&v, count, &cap);
        if (rc != DB_OK)
            break;
        db_column_text(st, 0, v[count].name, sizeof(v[count].name));
        v[count].size = (uint64_t)sqlite3_column_int64(st, 1);
        v[count].at = sqlite3_column_int64(st, 2);
        v[count].protected = sqlite3_column_int(st, 3) != 0;
        count++;
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "pulled loads");
    sqlite3_finalize(st);
    if (rc != DB_OK) {
        free(v);
        v = NULL;
        count = 0;
    }
    *out = v;
    *n = count;
    return rc;
}

int provision_load_protected(sqlite3 *db, const char *load)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " LOAD_PROTECTED("?1"));
    int rc;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, load, -1, SQLITE_TRANSIENT);
    rc = step_row(db, st, "load protected");
    if (rc == DB_OK)
        rc = sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    return rc;
}
