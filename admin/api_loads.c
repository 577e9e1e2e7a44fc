/* api_loads.c: /api/v1/loads: the catalog's loads with their files, removal
 * and "verify now" (a scrub of one load). Imports come through uploads;
 * this file never writes blobs. */
#include <errno.h>
#include <string.h>

#include "admin/api.h"
#include "admin/catalog_json.h"
#include "db/catalog.h"
#include "db/provision.h"
#include "server/firmware/scrub.h"

static int loads_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list = json_array();
    int rc = catalog_loads_each(rq->ctx->dd.db, catalog_json_append_load, list);

    if (rc != DB_OK) {
        json_decref(list);
        return api_error_db(rs, rc, "load list");
    }
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:o}", "loads", list));
}

#define LOAD_USERS_LISTED 1000 /* devices listed by MAC; the total is always given */

static void add_name(void *arg, const char *name)
{
    json_array_append_new(json_object_get(arg, "models"), json_string(name));
}

static void add_mac(void *arg, const char *mac)
{
    json_array_append_new(json_object_get(arg, "devices"), json_string(mac));
}

/* Which model defaults and devices name the load: what a removal would
 * leave without firmware. */
static json_t *load_users(sqlite3 *db, const char *name)
{
    json_t *u = json_pack("{s:[], s:[]}", "models", "devices");
    int64_t total = 0;

    if (u == NULL ||
        provision_load_users(db, name, add_name, add_mac, u, LOAD_USERS_LISTED, &total) != DB_OK) {
        json_decref(u);
        return json_null();
    }
    json_object_set_new(u, "devices_total", json_integer(total));
    return u;
}

static int loads_get(struct api_request *rq, struct api_response *rs)
{
    struct catalog_load l;
    json_t *j, *files;
    int rc = catalog_load_find(rq->ctx->dd.db, rq->args[0], &l);

    if (rc != DB_OK)
        return api_error_db(rs, rc, "load");
    files = json_array();
    rc = catalog_files_each(rq->ctx->dd.db, l.name, catalog_json_append_file, files);
    j = catalog_load_json(&l);
    if (rc != DB_OK || j == NULL) {
        json_decref(files);
        json_decref(j);
        return api_error_db(rs, DB_ERROR, "load");
    }
    json_object_set_new(j, "file_list", files);
    json_object_set_new(j, "used_by", load_users(rq->ctx->dd.db, l.name));
    return api_json(rs, MHD_HTTP_OK, j);
}

static int loads_remove(struct api_request *rq, struct api_response *rs)
{
    sqlite3 *db = rq->ctx->dd.db;
    struct catalog_load l;
    uint64_t force;
    int rc;

    /* force=1 is the API's "remove --force"; the catalog has no refusal
     * that it overrides yet, so both remove the load. */
    if (!api_query_u64(rq, rs, "force", 0, 1, 0, &force))
        return 0;
    rc = catalog_load_find(db, rq->args[0], &l);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "load");
    rc = db_begin(db);
    if (rc == DB_OK)
        rc = catalog_load_remove(db, l.name);
    if (rc == DB_OK)
        rc = catalog_audit(db, api_actor(rq), "load.remove", l.name, l.status, NULL);
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "load");
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:s}", "removed", l.name));
}

static const char *verify_word(int result)
{
    switch (result) {
    case 0:
        return "ok";
    case 1:
        return "quarantined_before";
    case -EBADMSG:
        return "quarantined_mismatch";
    case -ENOENT:
        return "quarantined_missing";
    default:
        return "not_checked";
    }
}

static void verify_row(void *arg, const struct catalog_file *f, int result)
{
    json_array_append_new(arg, json_pack("{s:s, s:s, s:s}", "name", f->name, "sha256", f->sha256,
                                         "result", verify_word(result)));
}

static int loads_verify(struct api_request *rq, struct api_response *rs)
{
    json_t *files = json_array();
    struct scrub_totals t;
    struct catalog_load l;
    struct scrub_options so = {
        .load = rq->args[0], .actor = api_actor(rq), .cb = verify_row, .arg = files};
    int rc;

    memset(&t, 0, sizeof(t));
    rc = scrub_run(rq->ctx->dd.db, rq->ctx->dd.bs, &so, &t);
    if (rc != DB_OK) {
        json_decref(files);
        return api_error_db(rs, rc, "load");
    }
    /* The status as derived now, after the checks: what the page shows. */
    rc = catalog_load_find(rq->ctx->dd.db, rq->args[0], &l);
    if (rc != DB_OK) {
        json_decref(files);
        return api_error_db(rs, rc, "load");
    }
    return api_json(rs, MHD_HTTP_OK,
                    json_pack("{s:o, s:i, s:i, s:i, s:i, s:i, s:I, s:o}", "files", files, "checked",
                              t.checked, "ok", t.ok, "quarantined", t.quarantined,
                              "already_quarantined", t.already, "signatures_checked", t.signatures,
                              "bytes", (json_int_t)t.bytes, "load", catalog_load_json(&l)));
}

const struct api_route api_loads_routes[] = {
    {"GET", "/api/v1/loads", 0, loads_list},
    {"GET", "/api/v1/loads/{}", 0, loads_get},
    {"DELETE", "/api/v1/loads/{}", 0, loads_remove},
    {"POST", "/api/v1/loads/{}/verify", 0, loads_verify},
    {NULL, NULL, 0, NULL},
};
