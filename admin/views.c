/* views.c: reads the rows of one document through db/ and builds it with
 * the *_json.c builders, for the API and loadsctl alike. Never writes,
 * never runs SQL of its own. */
#include "admin/views.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin/catalog_json.h"
#include "admin/devlist.h"
#include "admin/provision_json.h"
#include "admin/settings_json.h"
#include "db/db.h"
#include "db/provision.h"

/* Ends a read: DB_OK with *out = j, or rc (DB_ERROR when j is NULL) and
 * nothing. */
static int view_end(int rc, json_t *j, json_t **out)
{
    if (rc == DB_OK && j == NULL)
        rc = DB_ERROR;
    if (rc != DB_OK) {
        json_decref(j);
        j = NULL;
    }
    *out = j;
    return rc;
}

/* ---- models ---- */

struct model_list {
    sqlite3 *db;
    json_t *list;
};

static int model_row(void *arg, const struct settings_model *m)
{
    struct model_list *ml = arg;
    struct catalog_load l;
    const char *status = NULL;

    if (m->default_load[0] != '\0')
        status = catalog_load_find(ml->db, m->default_load, &l) == DB_OK ? l.status : "missing";
    return json_array_append_new(ml->list, provision_model_json(m, status)) == 0 ? 0 : DB_ERROR;
}

int view_models(sqlite3 *db, json_t **out)
{
    struct model_list ml = {db, json_array()};

    return view_end(ml.list ? provision_models_each(db, model_row, &ml) : DB_ERROR, ml.list, out);
}

/* ---- profiles ---- */

struct profile_pick {
    sqlite3 *db;
    const char *name; /* NULL: every profile, into list */
    json_t *list;
    json_t *found;
};

static json_t *profile_doc(sqlite3 *db, const struct settings_profile *p, unsigned devices)
{
    char *tmpl = NULL;
    bool custom = provision_profile_template_get(db, p->name, &tmpl) == DB_OK && tmpl != NULL;

    free(tmpl);
    return provision_profile_json(p, devices, custom);
}

static int profile_row(void *arg, const struct settings_profile *p, unsigned devices)
{
    struct profile_pick *pp = arg;

    if (pp->name == NULL)
        return json_array_append_new(pp->list, profile_doc(pp->db, p, devices)) == 0 ? 0 : DB_ERROR;
    if (strcasecmp(p->name, pp->name) != 0)
        return 0;
    pp->found = profile_doc(pp->db, p, devices);
    return 1; /* stop: found */
}

int view_profiles(sqlite3 *db, json_t **out)
{
    struct profile_pick pp = {db, NULL, json_array(), NULL};

    return view_end(pp.list ? provision_profiles_each(db, profile_row, &pp) : DB_ERROR, pp.list,
                    out);
}

int view_profile(sqlite3 *db, const char *name, json_t **out)
{
    struct profile_pick pp = {db, name, NULL, NULL};
    int rc = provision_profiles_each(db, profile_row, &pp);
    json_t *members = json_array();

    if (rc == 1 || rc == DB_OK)
        rc = pp.found != NULL ? DB_OK : DB_NOT_FOUND;
    if (rc == DB_OK)
        rc = members != NULL ? provision_profile_devices_each(db, name, VIEW_PROFILE_MEMBERS,
                                                              provision_json_append_device, members)
                             : DB_ERROR;
    if (rc == DB_OK) {
        json_object_set_new(pp.found, "members", members);
        members = NULL;
    }
    json_decref(members);
    return view_end(rc, pp.found, out);
}

/* ---- enterprise ---- */

int view_enterprise(sqlite3 *db, json_t **out)
{
    struct settings_enterprise e;
    char policy[32] = "signed";
    int rc = provision_enterprise_get(db, &e);

    if (rc == DB_OK)
        catalog_setting_get(db, "signature_policy", policy, sizeof(policy));
    return view_end(rc, rc == DB_OK ? provision_enterprise_json(&e, policy) : NULL, out);
}

/* ---- one load ---- */

/* How a device comes to a load: assigned, its model's default, or held on
 * it (its own load is not servable and this is its last complete one). */
static const char *load_way(const struct settings_effective *e, const char *load)
{
    if (strcasecmp(e->load.value, load) == 0)
        return e->load.level == SETTINGS_LEVEL_DEVICE ? "device" : "model_default";
    if (e->held_back[0] != '\0' && strcasecmp(e->served, load) == 0)
        return "held_back";
    return NULL;
}

/* The default of the device's model for the protocol it runs. */
static const char *device_default(const struct settings_effective *e)
{
    return e->model != NULL ? settings_model_default(e->model, e->protocol) : "";
}

/* Whether load is the default of the device's model for its protocol but
 * the device does not run it (its own load, or held back on another). */
static bool load_off_default(const struct settings_effective *e, const char *load)
{
    return strcasecmp(device_default(e), load) == 0 && load_way(e, load) == NULL;
}

/* {"mac", "model", "runs", "via"} of a device off its model's default. */
static json_t *off_default_json(const struct settings_effective *e)
{
    const char *runs = e->served[0] ? e->served : e->load.value;

    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "mac", e->device->mac, "model", e->model->name,
                     "protocol", e->protocol, "runs", runs, "via",
                     e->load.level == SETTINGS_LEVEL_DEVICE ? "device" : "held_back");
}

/* Every device that resolves to the load as its phone gets it (devlist: the
 * fleet gate's stage_first holds a new load back), by way, the first
 * VIEW_LOAD_USERS_LISTED of them listed; the models whose default it is; and
 * the devices of those models that run another load. */
static json_t *load_users_of(const struct devlist *l, const char *load)
{
    const struct settings_snapshot *s = l->snap;
    json_t *models = json_array(), *devices = json_array(), *off = json_array();
    json_int_t n[3] = {0, 0, 0}, total = 0, n_off = 0;
    static const char *const ways[3] = {"device", "model_default", "held_back"};

    for (size_t i = 0; i < s->n_models; i++)
        if (strcasecmp(settings_model_default(&s->models[i], "SIP"), load) == 0 ||
            strcasecmp(settings_model_default(&s->models[i], "SCCP"), load) == 0)
            json_array_append_new(models, json_string(s->models[i].name));
    for (size_t i = 0; i < s->n_devices; i++) {
        struct settings_effective e;
        const char *way;

        if (devlist_resolve(l, i, &e) != 0)
            continue;
        if (load_off_default(&e, load) && n_off++ < VIEW_LOAD_USERS_LISTED)
            json_array_append_new(off, off_default_json(&e));
        if ((way = load_way(&e, load)) == NULL)
            continue;
        for (unsigned w = 0; w < 3; w++)
            n[w] += strcmp(way, ways[w]) == 0;
        if (total++ < VIEW_LOAD_USERS_LISTED)
            json_array_append_new(devices,
                                  json_pack("{s:s, s:s}", "mac", s->devices[i].mac, "via", way));
    }
    return json_pack("{s:o, s:o, s:I, s:{s:I, s:I, s:I}, s:o, s:I}", "models", models, "devices",
                     devices, "devices_total", total, "counts", ways[0], n[0], ways[1], n[1],
                     ways[2], n[2], "off_default", off, "off_default_total", n_off);
}

/* Adds one to usage[load][key]. */
static void usage_add(json_t *usage, const char *load, const char *key)
{
    json_t *u = json_object_get(usage, load), *v;

    if (u == NULL) {
        u = json_pack("{s:I, s:I}", "devices", (json_int_t)0, "off_default", (json_int_t)0);
        if (u == NULL || json_object_set_new(usage, load, u) != 0)
            return;
    }
    v = json_object_get(u, key);
    json_integer_set(v, json_integer_value(v) + 1);
}

int view_loads_usage(sqlite3 *db, json_t **out)
{
    struct devlist l;
    json_t *usage = json_object();
    int rc = devlist_read(db, &l);

    if (usage == NULL)
        rc = DB_ERROR;
    for (size_t i = 0; rc == DB_OK && i < l.snap->n_devices; i++) {
        struct settings_effective e;
        const char *runs;

        if (devlist_resolve(&l, i, &e) != 0)
            continue;
        runs = e.served[0] ? e.served : e.load.value;
        if (runs[0] != '\0')
            usage_add(usage, runs, "devices");
        if (device_default(&e)[0] != '\0' && load_off_default(&e, device_default(&e)))
            usage_add(usage, device_default(&e), "off_default");
    }
    devlist_close(&l);
    return view_end(rc, usage, out);
}

/* Who uses the load: what a removal would leave without firmware; null
 * when it cannot be read. */
static json_t *load_users(sqlite3 *db, const char *name)
{
    struct devlist l;
    json_t *u = devlist_read(db, &l) == DB_OK ? load_users_of(&l, name) : NULL;

    devlist_close(&l);
    return u != NULL ? u : json_null();
}

int view_load(sqlite3 *db, const struct catalog_load *l, json_t **out)
{
    json_t *j = catalog_load_json(l), *files = json_array();
    int rc =
        j && files ? catalog_files_each(db, l->name, catalog_json_append_file, files) : DB_ERROR;

    if (rc == DB_OK) {
        json_object_set_new(j, "file_list", files);
        json_object_set_new(j, "used_by", load_users(db, l->name));
        files = NULL;
    }
    json_decref(files);
    return view_end(rc, j, out);
}

/* ---- what one phone gets ---- */

/* The address to resolve for: given, last request, or none. */
static int phone_address(sqlite3 *db, const char *mac, const char *from, struct view_phone *p)
{
    int rc = provision_seen_get(db, mac, &p->seen);

    if (rc != DB_OK && rc != DB_NOT_FOUND)
        return rc;
    if (from != NULL && strcasecmp(from, "none") == 0)
        return DB_OK;
    if (from != NULL) {
        if (settings_addr_parse(from, &p->addr) != 0)
            return VIEW_BAD_ADDRESS;
        p->source = "given";
        return DB_OK;
    }
    if (rc == DB_OK && settings_addr_parse(p->seen.addr, &p->addr) == 0)
        p->source = "last_request";
    return DB_OK;
}

int view_phone_open(sqlite3 *db, const char *mac, const char *from, struct view_phone *out)
{
    const struct sockaddr *at;
    int64_t now = (int64_t)time(NULL);
    int rc;

    memset(out, 0, sizeof(*out));
    rc = phone_address(db, mac, from, out);
    if (rc == DB_OK)
        rc = provision_snapshot_load(db, &out->snap);
    if (rc == DB_OK)
        rc = fleet_view_load(db, &out->fleet);
    if (rc != DB_OK)
        return rc;
    at = out->source ? (struct sockaddr *)&out->addr : NULL;
    if (fleet_resolve(out->snap, out->fleet, now, mac, at, &out->eff) != 0)
        return DB_NOT_FOUND;
    out->rendered = cnf_render_mac(out->snap, out->fleet, now, mac, at, &out->config);
    return out->rendered == CNF_OK || out->rendered == CNF_INVALID ? DB_OK : DB_ERROR;
}

void view_phone_close(struct view_phone *p)
{
    cnf_buf_free(&p->config);
    provision_snapshot_free(p->snap);
    fleet_view_free(p->fleet);
    memset(p, 0, sizeof(*p));
}

/* The address resolved for, as text ("" when none). */
static void phone_addr_text(const struct view_phone *p, char *out, size_t cap)
{
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&p->addr;
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&p->addr;

    out[0] = '\0';
    if (p->source != NULL && p->addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &v4->sin_addr, out, (socklen_t)cap);
    else if (p->source != NULL)
        inet_ntop(AF_INET6, &v6->sin6_addr, out, (socklen_t)cap);
}

json_t *view_phone_json(const struct view_phone *p)
{
    char addr[PROVISION_ADDR_MAX];
    json_t *j = settings_effective_json(&p->eff);

    phone_addr_text(p, addr, sizeof(addr));
    if (j != NULL)
        json_object_set_new(j, "from",
                            json_pack("{s:s?, s:s?, s:s?, s:I}", "address", addr[0] ? addr : NULL,
                                      "source", p->source, "seen_address",
                                      p->seen.addr[0] ? p->seen.addr : NULL, "seen_at",
                                      (json_int_t)p->seen.at));
    return j;
}

void view_phone_describe(const struct view_phone *p, char *out, size_t cap)
{
    char addr[PROVISION_ADDR_MAX], when[32] = "";
    time_t t = (time_t)p->seen.at;
    struct tm tm;

    phone_addr_text(p, addr, sizeof(addr));
    if (p->seen.at > 0 && gmtime_r(&t, &tm) != NULL)
        strftime(when, sizeof(when), ", since %Y-%m-%d %H:%M UTC", &tm);
    if (p->source == NULL)
        snprintf(out, cap, "as a phone outside every site rule gets it%s",
                 p->seen.addr[0] ? "" : " (no request from this phone seen yet)");
    else if (strcmp(p->source, "given") == 0)
        snprintf(out, cap, "as a phone at %s gets it", addr);
    else
        snprintf(out, cap, "as the phone gets it at %s (its last request%s)", addr, when);
}
