/* api_trust.c: /api/v1/trust: the certificates signatures are checked
 * against (vendor) and that approve bundles (approval). Certificates are
 * parsed by verify.c; this file never trusts a PEM it could not parse. A
 * change re-evaluates every load (trust.c): the answer counts those changed. */
#include <stdio.h>
#include <string.h>

#include "admin/api.h"
#include "admin/catalog_json.h"
#include "db/catalog.h"
#include "lib/numparse.h"
#include "server/firmware/trust.h"
#include "server/firmware/verify.h"

static int trust_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list = json_array();
    int rc = catalog_trust_each(rq->ctx->dd.db, NULL, catalog_json_append_trust, list);

    if (rc != DB_OK) {
        json_decref(list);
        return api_error_db(rs, rc, "trust store");
    }
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:o}", "trust", list));
}

static int trust_post(struct api_request *rq, struct api_response *rs)
{
    json_t *body = api_body_object(rq, rs);
    struct verify_cert_info info;
    const char *pem, *role = NULL;
    int64_t id = 0;
    unsigned changed = 0;
    bool ok = false;
    int rc;

    if (body == NULL)
        return 0;
    pem = api_member_string(body, "pem", true, VERIFY_PEM_MAX, rs, &ok);
    if (ok)
        role = api_member_string(body, "role", false, 16, rs, &ok);
    if (!ok)
        goto out;
    if (role == NULL)
        role = "vendor";
    if (strcmp(role, "vendor") != 0 && strcmp(role, "approval") != 0) {
        api_error_field(rs, "role", "\"role\" is vendor or approval");
        goto out;
    }
    rc = verify_cert_info(pem, strlen(pem), &info);
    if (rc != VERIFY_OK) {
        api_error_field(rs, "pem", "%s", verify_strerror(rc));
        goto out;
    }
    rc = trust_add(rq->ctx->dd.db, rq->ctx->dd.bs, api_actor(rq), &info, role, pem, &id, &changed);
    if (rc == DB_CONFLICT)
        api_error(rs, MHD_HTTP_CONFLICT, "conflict", "this certificate is already trusted");
    else if (rc != DB_OK)
        api_error_db(rs, rc, "trust anchor");
    else
        api_json(rs, MHD_HTTP_CREATED, catalog_trust_added_json(id, role, &info, changed));
out:
    json_decref(body);
    return 0;
}

static int trust_delete(struct api_request *rq, struct api_response *rs)
{
    unsigned changed = 0;
    uint64_t id;
    int rc;

    if (numparse_u64(rq->args[0], 1, INT64_MAX, &id) != 0)
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such trust anchor");
    rc = trust_remove(rq->ctx->dd.db, api_actor(rq), (int64_t)id, &changed);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "trust anchor");
    return api_json(rs, MHD_HTTP_OK, catalog_trust_removed_json((int64_t)id, changed));
}

const struct api_route api_trust_routes[] = {
    {"GET", "/api/v1/trust", 0, trust_list},
    {"POST", "/api/v1/trust", 0, trust_post},
    {"DELETE", "/api/v1/trust/{}", 0, trust_delete},
    {NULL, NULL, 0, NULL},
};
