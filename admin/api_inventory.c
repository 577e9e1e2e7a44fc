/* api_inventory.c: GET /api/v1/fleet/inventory: the firmware inventory
 * (each phone's last config and firmware fetch, its state) paged, and the
 * counts per site and per model; GET /api/v1/fleet/gates: which phones the
 * fleet gate sends to their holder, to the central, or holds back, and why.
 * Read only; a viewer may read them. */
#include "admin/api.h"
#include "admin/gates_view.h"
#include "admin/inventory_view.h"
#include "db/db.h"

#define INVENTORY_PAGE_DEFAULT 100
#define INVENTORY_PAGE_MAX     1000

static int inventory_get(struct api_request *rq, struct api_response *rs)
{
    struct inventory_view v;
    uint64_t offset, limit;
    json_t *body;
    int rc;

    if (!api_query_u64(rq, rs, "offset", 0, UINT32_MAX, 0, &offset) ||
        !api_query_u64(rq, rs, "limit", 1, INVENTORY_PAGE_MAX, INVENTORY_PAGE_DEFAULT, &limit))
        return 0;
    rc = inventory_view_read(rq->ctx->dd.db, rq->now, rq->ctx->inventory_stuck_s, &v);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "firmware inventory");
    body = inventory_view_json(&v, offset, limit);
    inventory_view_free(&v);
    if (body == NULL)
        return api_error_db(rs, DB_ERROR, "firmware inventory");
    return api_json(rs, MHD_HTTP_OK, body);
}

static int gates_get(struct api_request *rq, struct api_response *rs)
{
    json_t *body;
    int rc = gates_view_read(rq->ctx->dd.db, &body);

    if (rc != DB_OK)
        return api_error_db(rs, rc, "fleet gates");
    return api_json(rs, MHD_HTTP_OK, body);
}

const struct api_route api_inventory_routes[] = {
    {"GET", "/api/v1/fleet/inventory", 0, inventory_get},
    {"GET", "/api/v1/fleet/gates", 0, gates_get},
    {NULL, NULL, 0, NULL},
};
