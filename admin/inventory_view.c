/* inventory_view.c: the firmware inventory's one JSON shape and counts, from
 * db/inventory.c's rows, the settings snapshot (a phone's model, site and load
 * server) and db/model/inventory_status.c's rules. No SQL of its own. */
#include "admin/inventory_view.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "db/inventory.h"
#include "db/model/settings.h"
#include "db/provision.h"
#include "lib/grow.h"

#define NO_SITE   "(no site)"
#define NO_MODEL  "(not a device now)"
#define MORE      "(more)"
#define NO_HOLDER "(none)"

struct rows_read {
    struct inventory_view *v;
    size_t cap;
};

static int row_take(void *arg, const struct inventory_row *r)
{
    struct rows_read *rr = arg;

    if (grow_array((void **)&rr->v->rows, &rr->cap, rr->v->n + 1, sizeof(*rr->v->rows), 64) != 0)
        return DB_ERROR;
    rr->v->rows[rr->v->n++] = *r;
    return 0;
}

/* The site rule the phone's address matches: its name, else its prefix. */
static const char *site_of(const struct inventory_view *v, const char *addr)
{
    struct sockaddr_storage sa;
    const struct settings_site *site;

    if (settings_addr_parse(addr, &sa) != 0 ||
        (site = settings_match_site(v->snap, (const struct sockaddr *)&sa)) == NULL)
        return NO_SITE;
    return v->site_keys[site - v->snap->sites];
}

static const char *model_of(const struct inventory_view *v, const char *mac)
{
    const struct settings_device *d = settings_find_device(v->snap, mac);

    return d != NULL && d->model >= 0 ? v->snap->models[d->model].name : NO_MODEL;
}

static int keys_make(struct inventory_view *v)
{
    v->site_keys = calloc(v->snap->n_sites + 1, sizeof(*v->site_keys));
    if (v->site_keys == NULL)
        return -1;
    for (size_t i = 0; i < v->snap->n_sites; i++) {
        if (v->snap->sites[i].name[0] != '\0')
            snprintf(v->site_keys[i], sizeof(v->site_keys[i]), "%s", v->snap->sites[i].name);
        else
            settings_cidr_format(&v->snap->sites[i], v->site_keys[i], sizeof(v->site_keys[i]));
    }
    return 0;
}

/* The phone's effective load server (the value, not the gate's outcome: the
 * phones a branch is meant to serve), or "" (none, or not a device now). */
static void holder_of(const struct inventory_view *v, const struct inventory_row *r,
                      char out[SETTINGS_VALUE_MAX])
{
    struct sockaddr_storage sa;
    struct settings_effective e;
    bool seen = settings_addr_parse(r->addr, &sa) == 0;

    out[0] = '\0';
    if (settings_resolve(v->snap, r->mac, seen ? (const struct sockaddr *)&sa : NULL, &e) == 0)
        snprintf(out, SETTINGS_VALUE_MAX, "%s", e.load_server.value);
}

/* The stable key of a load server value (v->holder_keys keeps each once, at
 * most INVENTORY_VIEW_KEYS_MAX - 1 of them; the rest count under MORE). */
static const char *holder_key(struct inventory_view *v, const char *value)
{
    if (value[0] == '\0')
        return NO_HOLDER;
    for (size_t k = 0; k < v->n_holder_keys; k++)
        if (strcasecmp(v->holder_keys[k], value) == 0)
            return v->holder_keys[k];
    if (v->n_holder_keys >= INVENTORY_VIEW_KEYS_MAX - 1)
        return MORE;
    snprintf(v->holder_keys[v->n_holder_keys], SETTINGS_VALUE_MAX, "%s", value);
    return v->holder_keys[v->n_holder_keys++];
}

/* Adds a phone to a count; past INVENTORY_VIEW_KEYS_MAX keys, under MORE
 * (the last place is kept for it). */
static void count(struct inventory_count *c, size_t *n, const char *key, enum inventory_state s)
{
    if (inventory_count_add(c, n, INVENTORY_VIEW_KEYS_MAX - 1, key, s) != 0)
        inventory_count_add(c, n, INVENTORY_VIEW_KEYS_MAX, MORE, s);
}

static int classify(struct inventory_view *v)
{
    v->states = calloc(v->n + 1, sizeof(*v->states));
    v->site = calloc(v->n + 1, sizeof(*v->site));
    v->model = calloc(v->n + 1, sizeof(*v->model));
    v->sites = calloc(INVENTORY_VIEW_KEYS_MAX, sizeof(*v->sites));
    v->models = calloc(INVENTORY_VIEW_KEYS_MAX, sizeof(*v->models));
    v->holders = calloc(INVENTORY_VIEW_KEYS_MAX, sizeof(*v->holders));
    v->holder_keys = calloc(INVENTORY_VIEW_KEYS_MAX, sizeof(*v->holder_keys));
    if (v->states == NULL || v->site == NULL || v->model == NULL || v->sites == NULL ||
        v->models == NULL || v->holders == NULL || v->holder_keys == NULL || keys_make(v) != 0)
        return DB_ERROR;
    for (size_t i = 0; i < v->n; i++) {
        char holder[SETTINGS_VALUE_MAX];

        v->states[i] = inventory_state_of(&v->rows[i], v->now, v->stuck_s);
        holder_of(v, &v->rows[i], holder);
        count(v->holders, &v->n_holders, holder_key(v, holder), v->states[i]);
        v->site[i] = site_of(v, v->rows[i].addr);
        v->model[i] = model_of(v, v->rows[i].mac);
        count(v->sites, &v->n_sites, v->site[i], v->states[i]);
        count(v->models, &v->n_models, v->model[i], v->states[i]);
    }
    return DB_OK;
}

int inventory_view_read(sqlite3 *db, int64_t now, int64_t stuck_s, struct inventory_view *v)
{
    struct rows_read rr = {v, 0};
    int rc;

    memset(v, 0, sizeof(*v));
    v->now = now;
    v->stuck_s = stuck_s;
    rc = provision_snapshot_load(db, &v->snap);
    if (rc == DB_OK)
        rc = inventory_rows_each(db, row_take, &rr);
    if (rc == DB_OK)
        rc = classify(v);
    if (rc != DB_OK)
        inventory_view_free(v);
    return rc;
}

void inventory_view_free(struct inventory_view *v)
{
    provision_snapshot_free(v->snap);
    free(v->rows);
    free(v->states);
    free(v->site);
    free(v->model);
    free(v->site_keys);
    free(v->sites);
    free(v->models);
    free(v->holders);
    free(v->holder_keys);
    memset(v, 0, sizeof(*v));
}

static json_t *count_json(const struct inventory_count *c, const char *key_name)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I}", key_name, c->key, "on_target",
                     (json_int_t)c->on_target, "pending", (json_int_t)c->pending, "stuck",
                     (json_int_t)c->stuck, "no_target", (json_int_t)c->no_target);
}

static json_t *counts_json(const struct inventory_count *c, size_t n, const char *key_name)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, count_json(&c[i], key_name));
    return a;
}

static json_t *phone_json(const struct inventory_view *v, size_t i)
{
    const struct inventory_row *r = &v->rows[i];
    char holder[SETTINGS_VALUE_MAX];

    holder_of(v, r, holder);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s?, s:s, s:{s:I, s:s?}, s:{s:s?, s:I, s:I, s:b, s:I, s:I}, s:s}",
        "mac", r->mac, "address", r->addr, "site", v->site[i], "model", v->model[i], "load_server",
        holder[0] ? holder : NULL, "state", inventory_state_name(v->states[i]), "config", "at",
        (json_int_t)r->config_at, "load", r->config_load[0] ? r->config_load : NULL, "firmware",
        "load", r->fw_load[0] ? r->fw_load : NULL, "files_done", (json_int_t)r->files_done,
        "files_total", (json_int_t)r->files_total, "complete",
        r->files_total > 0 && r->files_done >= r->files_total, "first", (json_int_t)r->fw_first,
        "last", (json_int_t)r->fw_last, "source", r->source);
}

json_t *inventory_view_json(const struct inventory_view *v, uint64_t offset, uint64_t limit)
{
    struct inventory_count all = {.key = "all"};
    json_t *phones = json_array();

    for (size_t i = 0; i < v->n; i++) {
        size_t one = 1;

        inventory_count_add(&all, &one, 1, "all", v->states[i]);
        if (phones != NULL && i >= offset && i - offset < limit)
            json_array_append_new(phones, phone_json(v, i));
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:{s:o, s:o, s:o, s:o}, s:o}", "now",
                     (json_int_t)v->now, "stuck_after_s", (json_int_t)v->stuck_s, "total",
                     (json_int_t)v->n, "offset", (json_int_t)offset, "limit", (json_int_t)limit,
                     "counts", "sites", counts_json(v->sites, v->n_sites, "site"), "models",
                     counts_json(v->models, v->n_models, "model"), "load_servers",
                     counts_json(v->holders, v->n_holders, "load_server"), "all",
                     count_json(&all, "key"), "phones", phones != NULL ? phones : json_array());
}
