/* api_probe.c: /api/v1/probes: what the central's load-server probe found,
 * per plain-host load server and load (admin/probe_json.c's shape). Read
 * only: the probe thread (server/upstream/probe.c) writes the results. */
#include "admin/api.h"
#include "admin/probe_json.h"
#include "db/db.h"

static int probes_list(struct api_request *rq, struct api_response *rs)
{
    json_t *j = NULL;
    int rc = probe_json_hosts(rq->ctx->dd.db, NULL, rq->now, &j);

    return rc == DB_OK ? api_json(rs, MHD_HTTP_OK, j) : api_error_db(rs, rc, "probe results");
}

/* One host: 404 when it has no result. */
static int probes_host(struct api_request *rq, struct api_response *rs)
{
    json_t *j = NULL;
    int rc = probe_json_hosts(rq->ctx->dd.db, rq->args[0], rq->now, &j);

    if (rc == DB_OK && json_array_size(json_object_get(j, "hosts")) == 0) {
        json_decref(j);
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no probe result for that host");
    }
    return rc == DB_OK ? api_json(rs, MHD_HTTP_OK, j) : api_error_db(rs, rc, "probe results");
}

const struct api_route api_probe_routes[] = {
    {"GET", "/api/v1/probes", 0, probes_list},
    {"GET", "/api/v1/probes/{}", 0, probes_host},
    {NULL, NULL, 0, NULL},
};
