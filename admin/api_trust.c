/* api_trust.c: /api/v1/trust: the certificates signatures are checked
 * against (vendor) and that approve bundles (approval). Certificates are
 * parsed by verify.c; this file never trusts a PEM it could not parse. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "catalog_json.h"
#include "numparse.h"
#include "verify.h"

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

/* Stores the parsed certificate with its audit record in one transaction. */
static int trust_store(sqlite3 *db, const char *actor, const struct verify_cert_info *info,
                       const char *role, const char *pem, int64_t *id)
{
    struct catalog_trust t;
    int rc;

    memset(&t, 0, sizeof(t));
    snprintf(t.role, sizeof(t.role), "%s", role);
    snprintf(t.subject, sizeof(t.subject), "%s", info->subject);
    snprintf(t.issuer, sizeof(t.issuer), "%s", info->issuer);
    snprintf(t.serial, sizeof(t.serial), "%s", info->serial_hex);
    snprintf(t.sha256, sizeof(t.sha256), "%s", info->sha256_hex);
    t.not_after = info->not_after;
    rc = db_begin(db);
    if (rc == DB_OK)
        rc = catalog_trust_add(db, &t, pem, id);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "trust.add", info->subject, NULL, role);
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    return rc;
}

static int trust_add(struct api_request *rq, struct api_response *rs)
{
    json_t *body = api_body_object(rq, rs);
    struct verify_cert_info info;
    const char *pem, *role = NULL;
    int64_t id = 0;
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
    rc = trust_store(rq->ctx->dd.db, api_actor(rq), &info, role, pem, &id);
    if (rc == DB_CONFLICT)
        api_error(rs, MHD_HTTP_CONFLICT, "conflict", "this certificate is already trusted");
    else if (rc != DB_OK)
        api_error_db(rs, rc, "trust anchor");
    else
        api_json(rs, MHD_HTTP_CREATED,
                 json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "role", role, "subject",
                           info.subject, "sha256", info.sha256_hex));
out:
    json_decref(body);
    return 0;
}

static int trust_remove(struct api_request *rq, struct api_response *rs)
{
    sqlite3 *db = rq->ctx->dd.db;
    uint64_t id;
    int rc;

    if (numparse_u64(rq->args[0], 1, INT64_MAX, &id) != 0)
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such trust anchor");
    rc = db_begin(db);
    if (rc == DB_OK)
        rc = catalog_trust_remove(db, (int64_t)id);
    if (rc == DB_OK)
        rc = catalog_audit(db, api_actor(rq), "trust.remove", rq->args[0], NULL, NULL);
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "trust anchor");
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:I}", "removed", (json_int_t)id));
}

const struct api_route api_trust_routes[] = {
    {"GET", "/api/v1/trust", 0, trust_list},
    {"POST", "/api/v1/trust", 0, trust_add},
    {"DELETE", "/api/v1/trust/{}", 0, trust_remove},
    {NULL, NULL, 0, NULL},
};
