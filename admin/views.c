/* views.c: reads the rows of one document through db/ and builds it with
 * the *_json.c builders, for the API and loadsctl alike. Never writes,
 * never runs SQL of its own. */
#include "admin/views.h"

#include <stdlib.h>
#include <strings.h>

#include "admin/catalog_json.h"
#include "admin/provision_json.h"
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

    if (rc == 1 || rc == DB_OK)
        rc = pp.found != NULL ? DB_OK : DB_NOT_FOUND;
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

static void add_name(void *arg, const char *name)
{
    json_array_append_new(json_object_get(arg, "models"), json_string(name));
}

static void add_mac(void *arg, const char *mac)
{
    json_array_append_new(json_object_get(arg, "devices"), json_string(mac));
}

/* Which model defaults and devices name the load: what a removal would
 * leave without firmware; null when they cannot be read. */
static json_t *load_users(sqlite3 *db, const char *name)
{
    json_t *u = json_pack("{s:[], s:[]}", "models", "devices");
    int64_t total = 0;

    if (u == NULL || provision_load_users(db, name, add_name, add_mac, u, VIEW_LOAD_USERS_LISTED,
                                          &total) != DB_OK) {
        json_decref(u);
        return json_null();
    }
    json_object_set_new(u, "devices_total", json_integer(total));
    return u;
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
