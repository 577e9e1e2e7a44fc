/* api_loads.c: /api/v1/loads: the catalog's loads with their files, removal
 * and "verify now" (a scrub of one load). Imports come through uploads;
 * this file never writes blobs. */
#include <string.h>

#include "admin/api.h"
#include "admin/catalog_json.h"
#include "admin/views.h"
#include "db/catalog.h"
#include "server/firmware/scrub.h"

static int loads_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list = json_array(), *usage = NULL;
    int rc = catalog_loads_each(rq->ctx->dd.db, catalog_json_append_load, list);

    if (rc == DB_OK)
        rc = view_loads_usage(rq->ctx->dd.db, &usage);
    if (rc != DB_OK) {
        json_decref(list);
        return api_error_db(rs, rc, "load list");
    }
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:o, s:o}", "loads", list, "usage", usage));
}

static int loads_get(struct api_request *rq, struct api_response *rs)
{
    struct catalog_load l;
    json_t *j;
    int rc = catalog_load_find(rq->ctx->dd.db, rq->args[0], &l);

    if (rc == DB_OK)
        rc = view_load(rq->ctx->dd.db, &l, &j);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "load");
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

static void verify_row(void *arg, const struct catalog_file *f, int result)
{
    json_array_append_new(arg, catalog_verify_file_json(f, result));
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
    return api_json(rs, MHD_HTTP_OK, catalog_verify_json(files, &t, &l));
}

const struct api_route api_loads_routes[] = {
    {"GET", "/api/v1/loads", 0, loads_list},
    {"GET", "/api/v1/loads/{}", 0, loads_get},
    {"DELETE", "/api/v1/loads/{}", 0, loads_remove},
    {"POST", "/api/v1/loads/{}/verify", 0, loads_verify},
    {NULL, NULL, 0, NULL},
};
