/* api_tokens.c: /api/v1/tokens: API bearer tokens (admin only). A new
 * token's text is in the creating response once and never again: only its
 * SHA-256 is stored. */
#include <openssl/crypto.h>
#include <stdint.h>

#include "admin/api.h"
#include "admin/users_json.h"
#include "lib/numparse.h"

static int tokens_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list = json_array();

    if (auth_tokens_each(rq->ctx->dd.db, auth_json_append_token, list) != AUTH_OK) {
        json_decref(list);
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot list tokens");
    }
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:o}", "tokens", list));
}

static int tokens_add(struct api_request *rq, struct api_response *rs)
{
    json_t *body = api_body_object(rq, rs);
    char token[AUTH_SECRET_TEXT];
    const char *name, *user = NULL;
    int64_t id = 0;
    bool ok = false;
    int rc;

    if (body == NULL)
        return 0;
    name = api_member_string(body, "name", true, AUTH_NAME_MAX, rs, &ok);
    if (ok && !auth_name_valid(name)) {
        api_error_field(rs, "name", "\"name\" is 1-63 characters of A-Z a-z 0-9 . _ @ -");
        ok = false;
    }
    if (ok)
        user = api_member_string(body, "user", false, AUTH_NAME_MAX, rs, &ok);
    if (ok) {
        if (user == NULL)
            user = rq->who.user;
        rc =
            auth_token_create(rq->ctx->dd.db, api_actor(rq), user, name, token, sizeof(token), &id);
        if (rc == AUTH_OK)
            api_json(rs, MHD_HTTP_CREATED, auth_token_created_json(id, user, name, token));
        else
            api_error_auth(rs, rc, "user");
        OPENSSL_cleanse(token, sizeof(token));
    }
    json_decref(body);
    return 0;
}

static int tokens_remove(struct api_request *rq, struct api_response *rs)
{
    uint64_t id;
    int rc;

    if (numparse_u64(rq->args[0], 1, INT64_MAX, &id) != 0)
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such token");
    rc = auth_token_remove(rq->ctx->dd.db, api_actor(rq), (int64_t)id);
    if (rc != AUTH_OK)
        return api_error_auth(rs, rc, "token");
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:I}", "removed", (json_int_t)id));
}

const struct api_route api_tokens_routes[] = {
    {"GET", "/api/v1/tokens", API_ADMIN_ONLY, tokens_list},
    {"POST", "/api/v1/tokens", API_ADMIN_ONLY, tokens_add},
    {"DELETE", "/api/v1/tokens/{}", API_ADMIN_ONLY, tokens_remove},
    {NULL, NULL, 0, NULL},
};
