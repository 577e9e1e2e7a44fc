/* api_provision.c: the provisioning resources except devices: /models (and
 * their default loads), /enterprise, /profiles, /sites, plus the checks the
 * device resource shares (api_prov.h). Argument checking only; the rows
 * are db/provision.c's, which audits every write, the JSON shapes
 * provision_json.c's (documents of several rows: views.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin/api.h"
#include "admin/api_prov.h"
#include "admin/provision_json.h"
#include "admin/views.h"
#include "db/catalog.h"
#include "db/db.h"
#include "db/provision.h"

/* ---- shared checks (api_prov.h) ---- */

int prov_load_check(struct api_request *rq, struct api_response *rs, char name[SETTINGS_VALUE_MAX],
                    bool force)
{
    struct catalog_load l;
    int rc = catalog_load_find(rq->ctx->dd.db, name, &l);

    if (rc != DB_OK && rc != DB_NOT_FOUND) {
        api_error_db(rs, rc, "catalog");
        return -1;
    }
    if (rc == DB_OK)
        snprintf(name, SETTINGS_VALUE_MAX, "%s", l.name);
    if (force || (rc == DB_OK && strcmp(l.status, "quarantined") != 0))
        return 0;
    if (rc == DB_NOT_FOUND)
        api_error(rs, MHD_HTTP_CONFLICT, "load_missing",
                  "load %s is not in the catalog: phones would never finish the upgrade "
                  "(import it first, or send \"force\": true)",
                  name);
    else
        api_error(rs, MHD_HTTP_CONFLICT, "load_quarantined",
                  "load %s is quarantined and not served (send \"force\": true to assign it "
                  "anyway)",
                  name);
    json_object_set_new(rs->json, "field", json_string("load"));
    return -1;
}

int prov_opt_member(json_t *obj, const char *field, enum settings_key key, struct settings_opt *o,
                    struct api_response *rs)
{
    json_t *v = json_object_get(obj, field);
    const char *why = NULL, *text;

    if (v == NULL || json_is_null(v)) {
        o->set = false;
        o->value[0] = '\0';
        return 0;
    }
    if (key == SETTINGS_KEY_PFS && json_is_boolean(v))
        text = json_is_true(v) ? "on" : "off";
    else if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
        text = json_string_value(v);
    else
        return api_error_field(rs, field, "\"%s\" must be a string or null (inherit)", field), -1;
    if (settings_value_normalize(key, text, o->value, &why) != 0)
        return api_error_field(rs, field, "%s", why), -1;
    o->set = true;
    return 0;
}

int prov_force_member(json_t *obj, bool *force, struct api_response *rs)
{
    json_t *v = json_object_get(obj, "force");

    *force = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return api_error_field(rs, "force", "\"force\" is true or false"), -1;
    *force = json_is_true(v);
    return 0;
}

int prov_txn_end(struct api_request *rq, int rc)
{
    if (rc == DB_OK)
        return db_commit(rq->ctx->dd.db);
    db_rollback(rq->ctx->dd.db);
    return rc;
}

int prov_members_known(json_t *obj, const char *const *names, struct api_response *rs)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        bool known = false;

        for (size_t i = 0; names[i] != NULL && !known; i++)
            known = strcmp(key, names[i]) == 0;
        if (!known) {
            api_error_field(rs, key, "unknown member \"%.64s\"", key);
            return -1;
        }
    }
    return 0;
}

/* ---- models ---- */

static int models_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list;
    int rc = view_models(rq->ctx->dd.db, &list);

    if (rc != DB_OK)
        return api_error_db(rs, rc, "model list");
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:o}", "models", list));
}

static int model_find(struct api_request *rq, struct api_response *rs, const char *text,
                      struct settings_model *m)
{
    int rc = provision_model_find(rq->ctx->dd.db, text, m);

    if (rc == DB_CONFLICT)
        api_error_field(rs, "model", "\"%.64s\" matches several models: give the full name", text);
    else if (rc == DB_NOT_FOUND)
        api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no model \"%.64s\"", text);
    else if (rc != DB_OK)
        api_error_db(rs, rc, "model");
    return rc == DB_OK ? 0 : -1;
}

static int model_default_load(struct api_request *rq, struct api_response *rs)
{
    static const char *const known[] = {"load", "force", "protocol", NULL};
    json_t *body = api_body_object(rq, rs);
    char load[SETTINGS_VALUE_MAX] = "";
    struct settings_model m;
    const char *text, *why, *protocol = NULL, *p;
    bool force, ok;
    int rc = -1;

    if (body == NULL)
        return 0;
    if (prov_members_known(body, known, rs) != 0 || prov_force_member(body, &force, rs) != 0)
        goto out;
    if (json_object_get(body, "load") == NULL) {
        api_error_field(rs, "load", "\"load\" is required (a load name, or null for none)");
        goto out;
    }
    text = api_member_string(body, "load", false, SETTINGS_VALUE_MAX - 1, rs, &ok);
    if (!ok || model_find(rq, rs, rq->args[0], &m) != 0)
        goto out;
    p = api_member_string(body, "protocol", false, 8, rs, &ok);
    if (!ok)
        goto out;
    if (p != NULL && (protocol = settings_protocol_parse(p)) == NULL) {
        api_error_field(rs, "protocol", "\"protocol\" is SIP or SCCP");
        goto out;
    }
    if (protocol != NULL && !settings_model_runs(&m, protocol)) {
        api_error_field(rs, "protocol", "%s runs %s only", m.name, m.protocol);
        goto out;
    }
    if (text != NULL && strcasecmp(text, "none") != 0 && text[0] != '\0') {
        if (settings_value_normalize(SETTINGS_KEY_LOAD, text, load, &why) != 0) {
            api_error_field(rs, "load", "%s", why);
            goto out;
        }
        if (prov_load_check(rq, rs, load, force) != 0)
            goto out;
    }
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_model_set_protocol_load(rq->ctx->dd.db, api_actor(rq), m.name, protocol,
                                               load);
    rc = prov_txn_end(rq, rc);
    if (rc != DB_OK)
        api_error_db(rs, rc, "model");
    else
        api_json(rs, MHD_HTTP_OK,
                 provision_default_load_json(m.name, protocol ? protocol : m.protocol, load,
                                             settings_model_default(&m, protocol)));
out:
    json_decref(body);
    return 0;
}

/* ---- enterprise ---- */

static const char *const enterprise_keys[] = {"peer_firmware_sharing", "load_server", "cm_address",
                                              "signature_policy", NULL};

static int enterprise_get(struct api_request *rq, struct api_response *rs)
{
    json_t *j;
    int rc = view_enterprise(rq->ctx->dd.db, &j);

    if (rc != DB_OK)
        return api_error_db(rs, rc, "enterprise settings");
    return api_json(rs, MHD_HTTP_OK, j);
}

/* One member's value as text: PFS may be a boolean, hosts may be null. */
static const char *enterprise_text(json_t *v)
{
    if (json_is_null(v))
        return "none";
    if (json_is_boolean(v))
        return json_is_true(v) ? "on" : "off";
    if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
        return json_string_value(v);
    return NULL;
}

static int enterprise_put(struct api_request *rq, struct api_response *rs)
{
    char values[4][SETTINGS_VALUE_MAX];
    json_t *body = api_body_object(rq, rs), *v;
    const char *text, *why;
    bool present[4] = {false};
    int rc = DB_OK;

    if (body == NULL)
        return 0;
    if (prov_members_known(body, enterprise_keys, rs) != 0)
        goto out;
    if (json_object_size(body) == 0) {
        api_error(rs, MHD_HTTP_BAD_REQUEST, "invalid", "give at least one setting");
        goto out;
    }
    for (int i = 0; i < 4; i++) {
        v = json_object_get(body, enterprise_keys[i]);
        if (v == NULL)
            continue;
        text = enterprise_text(v);
        if (text == NULL || (json_is_null(v) && i != 1 && i != 2)) {
            api_error_field(rs, enterprise_keys[i], "\"%s\" has the wrong type",
                            enterprise_keys[i]);
            goto out;
        }
        if (provision_enterprise_check(enterprise_keys[i], text, values[i], sizeof(values[i]),
                                       &why) != 0) {
            api_error_field(rs, enterprise_keys[i], "%s", why);
            goto out;
        }
        present[i] = true;
    }
    rc = db_begin(rq->ctx->dd.db);
    for (int i = 0; i < 4 && rc == DB_OK; i++)
        if (present[i])
            rc = provision_enterprise_set(rq->ctx->dd.db, api_actor(rq), enterprise_keys[i],
                                          values[i]);
    rc = prov_txn_end(rq, rc);
    if (rc != DB_OK)
        api_error_db(rs, rc, "enterprise settings");
    else
        enterprise_get(rq, rs);
out:
    json_decref(body);
    return 0;
}

/* ---- profiles ---- */

static int profiles_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list;
    int rc = view_profiles(rq->ctx->dd.db, &list);

    if (rc != DB_OK)
        return api_error_db(rs, rc, "profile list");
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:o}", "profiles", list));
}

static int profile_show(struct api_request *rq, struct api_response *rs, const char *name,
                        unsigned status)
{
    json_t *j;
    int rc = view_profile(rq->ctx->dd.db, name, &j);

    if (rc == DB_NOT_FOUND)
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such profile");
    if (rc != DB_OK)
        return api_error_db(rs, rc, "profile");
    return api_json(rs, status, j);
}

static int profiles_get(struct api_request *rq, struct api_response *rs)
{
    return profile_show(rq, rs, rq->args[0], MHD_HTTP_OK);
}

/* The settings members of a profile body, checked: which are present. */
static int profile_settings(json_t *body, struct settings_opt *pfs, struct settings_opt *ls,
                            bool present[2], struct api_response *rs)
{
    present[0] = json_object_get(body, "peer_firmware_sharing") != NULL;
    present[1] = json_object_get(body, "load_server") != NULL;
    if (prov_opt_member(body, "peer_firmware_sharing", SETTINGS_KEY_PFS, pfs, rs) != 0 ||
        prov_opt_member(body, "load_server", SETTINGS_KEY_LOAD_SERVER, ls, rs) != 0)
        return -1;
    return 0;
}

static int profile_apply(struct api_request *rq, const char *name, const struct settings_opt *pfs,
                         const struct settings_opt *ls, const bool present[2])
{
    sqlite3 *db = rq->ctx->dd.db;
    int rc = DB_OK;

    if (present[0])
        rc = provision_profile_set(db, api_actor(rq), name, SETTINGS_KEY_PFS,
                                   pfs->set ? pfs->value : NULL);
    if (rc == DB_OK && present[1])
        rc = provision_profile_set(db, api_actor(rq), name, SETTINGS_KEY_LOAD_SERVER,
                                   ls->set ? ls->value : NULL);
    return rc;
}

/* A 409 "conflict" about one member: "<what> exists", with its field. */
static void conflict_on(struct api_response *rs, const char *field, const char *what)
{
    api_error(rs, MHD_HTTP_CONFLICT, "conflict", "%s exists", what);
    if (rs->json != NULL)
        json_object_set_new(rs->json, "field", json_string(field));
}

/* A new profile's name from body's "name", checked; NULL answered. */
static const char *profile_new_name(json_t *body, struct api_response *rs)
{
    bool ok;
    const char *name = api_member_string(body, "name", true, SETTINGS_NAME_MAX - 1, rs, &ok);

    if (!ok)
        return NULL;
    if (!settings_name_valid(name) || strcasecmp(name, "none") == 0 ||
        strcasecmp(name, "inherit") == 0) {
        api_error_field(rs, "name", "a profile name is %s (not none or inherit)",
                        SETTINGS_NAME_RULE);
        return NULL;
    }
    return name;
}

/* POST /api/v1/profiles/{name}/copy {"name": new}: a new profile with the
 * same settings and template, no devices. */
static int profiles_copy(struct api_request *rq, struct api_response *rs)
{
    static const char *const known[] = {"name", NULL};
    json_t *body = api_body_object(rq, rs);
    char what[SETTINGS_NAME_MAX + 32];
    const char *name;
    int rc;

    if (body == NULL)
        return 0;
    if (prov_members_known(body, known, rs) != 0 || (name = profile_new_name(body, rs)) == NULL)
        goto out;
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_profile_copy(rq->ctx->dd.db, api_actor(rq), rq->args[0], name);
    rc = prov_txn_end(rq, rc);
    if (rc == DB_CONFLICT) {
        snprintf(what, sizeof(what), "a profile named %s", name);
        conflict_on(rs, "name", what);
    } else if (rc == DB_NOT_FOUND)
        api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such profile");
    else if (rc != DB_OK)
        api_error_db(rs, rc, "profile");
    else
        profile_show(rq, rs, name, MHD_HTTP_CREATED);
out:
    json_decref(body);
    return 0;
}

static int profiles_add(struct api_request *rq, struct api_response *rs)
{
    static const char *const known[] = {"name", "peer_firmware_sharing", "load_server", NULL};
    json_t *body = api_body_object(rq, rs);
    struct settings_opt pfs, ls;
    const char *name;
    bool present[2];
    int rc;

    if (body == NULL)
        return 0;
    if (prov_members_known(body, known, rs) != 0)
        goto out;
    if ((name = profile_new_name(body, rs)) == NULL)
        goto out;
    if (profile_settings(body, &pfs, &ls, present, rs) != 0)
        goto out;
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_profile_add(rq->ctx->dd.db, api_actor(rq), name);
    if (rc == DB_OK)
        rc = profile_apply(rq, name, &pfs, &ls, present);
    rc = prov_txn_end(rq, rc);
    if (rc == DB_CONFLICT)
        api_error(rs, MHD_HTTP_CONFLICT, "conflict", "a profile with this name exists");
    else if (rc != DB_OK)
        api_error_db(rs, rc, "profile");
    else
        profile_show(rq, rs, name, MHD_HTTP_CREATED);
out:
    json_decref(body);
    return 0;
}

static int profiles_put(struct api_request *rq, struct api_response *rs)
{
    static const char *const known[] = {"peer_firmware_sharing", "load_server", NULL};
    json_t *body = api_body_object(rq, rs);
    struct settings_profile p;
    struct settings_opt pfs, ls;
    bool present[2];
    int rc;

    if (body == NULL)
        return 0;
    if (prov_members_known(body, known, rs) != 0 ||
        profile_settings(body, &pfs, &ls, present, rs) != 0)
        goto out;
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_profile_get(rq->ctx->dd.db, rq->args[0], &p);
    if (rc == DB_OK)
        rc = profile_apply(rq, p.name, &pfs, &ls, present);
    rc = prov_txn_end(rq, rc);
    if (rc != DB_OK)
        api_error_db(rs, rc, "profile");
    else
        profile_show(rq, rs, p.name, MHD_HTTP_OK);
out:
    json_decref(body);
    return 0;
}

static int profiles_remove(struct api_request *rq, struct api_response *rs)
{
    struct settings_profile p;
    unsigned users = 0;
    int rc = db_begin(rq->ctx->dd.db);

    if (rc == DB_OK)
        rc = provision_profile_get(rq->ctx->dd.db, rq->args[0], &p);
    if (rc == DB_OK)
        rc = provision_profile_remove(rq->ctx->dd.db, api_actor(rq), p.name, &users);
    rc = prov_txn_end(rq, rc);
    if (rc == DB_CONFLICT)
        return api_error(rs, MHD_HTTP_CONFLICT, "in_use",
                         "the profile is used by %u device(s): move them to another profile "
                         "first",
                         users);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "profile");
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:s}", "removed", p.name));
}

/* ---- site rules ---- */

static int sites_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list = json_array();
    int rc = provision_sites_each(rq->ctx->dd.db, provision_json_append_site, list);

    if (rc != DB_OK) {
        json_decref(list);
        return api_error_db(rs, rc, "site list");
    }
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:o}", "sites", list));
}

/* name (optional: "" clears it) into site->name; 0 or -1 with the answer set. */
static int site_name_member(json_t *body, struct settings_site *site, struct api_response *rs)
{
    bool ok;
    const char *name = api_member_string(body, "name", false, SETTINGS_NAME_MAX - 1, rs, &ok);

    if (!ok)
        return -1;
    if (name == NULL)
        return 0;
    if (name[0] != '\0' && !settings_name_valid(name)) {
        api_error_field(rs, "name", "%s",
                        "a site name is 1 to 63 characters of text, no '/' "
                        "and no space at either end");
        return -1;
    }
    snprintf(site->name, sizeof(site->name), "%s", name);
    return 0;
}

/* "stage_first": "on", "off" or "inherit" (null: inherit); absent keeps
 * what site has. Then the name. 0 or -1 with the answer set. */
static int site_more_members(json_t *body, struct settings_site *site, struct api_response *rs)
{
    json_t *v = json_object_get(body, "stage_first");
    const char *t = json_is_string(v) ? json_string_value(v) : NULL;

    if (v != NULL && json_is_null(v))
        site->stage_first = SETTINGS_INHERIT;
    else if (v != NULL && t != NULL && strcmp(t, "inherit") == 0)
        site->stage_first = SETTINGS_INHERIT;
    else if (v != NULL && t != NULL && (strcmp(t, "on") == 0 || strcmp(t, "off") == 0))
        site->stage_first = strcmp(t, "on") == 0 ? SETTINGS_ON : SETTINGS_OFF;
    else if (v != NULL)
        return api_error_field(rs, "stage_first", "stage_first is \"on\", \"off\" or \"inherit\""),
               -1;
    return site_name_member(body, site, rs);
}

/* cidr and load_server (each required, or optional keeping what site has)
 * into site; *masked: host bits were cleared. 0 or -1 with the answer set. */
static int site_members(json_t *body, bool required, struct settings_site *site, bool *masked,
                        struct api_response *rs)
{
    char cidr[INET6_ADDRSTRLEN + 8];
    const char *text, *server, *why;
    bool ok;

    text = api_member_string(body, "cidr", required, 64, rs, &ok);
    if (!ok)
        return -1;
    server = api_member_string(body, "load_server", required, SETTINGS_VALUE_MAX - 1, rs, &ok);
    if (!ok)
        return -1;
    if (text != NULL && settings_cidr_parse(text, site, cidr, sizeof(cidr), masked, &why) != 0) {
        api_error_field(rs, "cidr", "%s", why);
        return -1;
    }
    if (server == NULL)
        return site_more_members(body, site, rs);
    if (settings_value_normalize(SETTINGS_KEY_LOAD_SERVER, server, site->load_server, &why) != 0)
        site->load_server[0] = '\0';
    else if (site->load_server[0] == '\0')
        why = "a site rule names a load server";
    if (site->load_server[0] == '\0') {
        api_error_field(rs, "load_server", "%s", why);
        return -1;
    }
    return site_more_members(body, site, rs);
}

static int sites_add(struct api_request *rq, struct api_response *rs)
{
    static const char *const known[] = {"cidr", "load_server", "name", "stage_first", NULL};
    json_t *body = api_body_object(rq, rs);
    struct settings_site site;
    char cidr[INET6_ADDRSTRLEN + 8];
    bool masked = false;
    int rc;

    if (body == NULL)
        return 0;
    memset(&site, 0, sizeof(site));
    if (prov_members_known(body, known, rs) != 0 || site_members(body, true, &site, &masked, rs))
        goto out;
    settings_cidr_format(&site, cidr, sizeof(cidr));
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_site_add(rq->ctx->dd.db, api_actor(rq), &site);
    rc = prov_txn_end(rq, rc);
    if (rc == DB_CONFLICT)
        api_error(rs, MHD_HTTP_CONFLICT, "conflict", "a rule for %s exists (edit or remove it)",
                  cidr);
    else if (rc != DB_OK)
        api_error_db(rs, rc, "site rule");
    else
        api_json(rs, MHD_HTTP_CREATED,
                 provision_site_added_json(&site, json_string_value(json_object_get(body, "cidr")),
                                           masked));
out:
    json_decref(body);
    return 0;
}

/* The rule a path names ("10.1.0.0%2F16" decodes to two segments; an IPv6
 * prefix stays one), into site and its canonical text; 0 or -1 answered. */
static int site_from_path(struct api_request *rq, struct settings_site *site, char *cidr,
                          size_t cap, struct api_response *rs)
{
    char text[128];
    const char *why;
    bool masked;

    memset(site, 0, sizeof(*site));
    if (rq->nargs == 2)
        snprintf(text, sizeof(text), "%.60s/%.8s", rq->args[0], rq->args[1]);
    else
        snprintf(text, sizeof(text), "%.100s", rq->args[0]);
    if (settings_cidr_parse(text, site, cidr, cap, &masked, &why) != 0) {
        api_error_field(rs, "cidr", "%s", why);
        return -1;
    }
    return 0;
}

/* PUT /api/v1/sites/{prefix}: any of cidr, load_server and name; the rest
 * stays as stored. */
static int sites_put(struct api_request *rq, struct api_response *rs)
{
    static const char *const known[] = {"cidr", "load_server", "name", "stage_first", NULL};
    struct settings_site old, site;
    char cidr[INET6_ADDRSTRLEN + 8], what[INET6_ADDRSTRLEN + 32];
    json_t *body;
    bool masked = false;
    int rc;

    if (site_from_path(rq, &old, cidr, sizeof(cidr), rs) != 0)
        return 0;
    body = api_body_object(rq, rs);
    if (body == NULL)
        return 0;
    rc = provision_site_find(rq->ctx->dd.db, &old, &site);
    if (rc != DB_OK) {
        api_error_db(rs, rc, "site rule");
        goto out;
    }
    if (prov_members_known(body, known, rs) != 0 || site_members(body, false, &site, &masked, rs))
        goto out;
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_site_update(rq->ctx->dd.db, api_actor(rq), &old, &site);
    rc = prov_txn_end(rq, rc);
    settings_cidr_format(&site, cidr, sizeof(cidr));
    if (rc == DB_CONFLICT) {
        snprintf(what, sizeof(what), "a rule for %s", cidr);
        conflict_on(rs, "cidr", what);
    } else if (rc != DB_OK)
        api_error_db(rs, rc, "site rule");
    else
        api_json(rs, MHD_HTTP_OK, provision_site_added_json(&site, cidr, masked));
out:
    json_decref(body);
    return 0;
}

static int sites_remove(struct api_request *rq, struct api_response *rs)
{
    struct settings_site site;
    char cidr[INET6_ADDRSTRLEN + 8];
    int rc;

    if (site_from_path(rq, &site, cidr, sizeof(cidr), rs) != 0)
        return 0;
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_site_remove(rq->ctx->dd.db, api_actor(rq), &site);
    rc = prov_txn_end(rq, rc);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "site rule");
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:s}", "removed", cidr));
}

const struct api_route api_provision_routes[] = {
    {"GET", "/api/v1/models", 0, models_list},
    {"PUT", "/api/v1/models/{}/default-load", 0, model_default_load},
    {"GET", "/api/v1/enterprise", 0, enterprise_get},
    {"PUT", "/api/v1/enterprise", 0, enterprise_put},
    {"GET", "/api/v1/profiles", 0, profiles_list},
    {"POST", "/api/v1/profiles", 0, profiles_add},
    {"GET", "/api/v1/profiles/{}", 0, profiles_get},
    {"PUT", "/api/v1/profiles/{}", 0, profiles_put},
    {"DELETE", "/api/v1/profiles/{}", 0, profiles_remove},
    {"POST", "/api/v1/profiles/{}/copy", 0, profiles_copy},
    {"GET", "/api/v1/sites", 0, sites_list},
    {"POST", "/api/v1/sites", 0, sites_add},
    {"PUT", "/api/v1/sites/{}", 0, sites_put},
    {"PUT", "/api/v1/sites/{}/{}", 0, sites_put},
    {"DELETE", "/api/v1/sites/{}", 0, sites_remove},
    {"DELETE", "/api/v1/sites/{}/{}", 0, sites_remove},
    {NULL, NULL, 0, NULL},
};
