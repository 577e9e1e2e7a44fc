/* api_users.c: /api/v1/users: list, add, change role or password, remove
 * (admin only). The rules (names, the last admin, hashing, audit) are in
 * auth.c; this file only maps JSON to them. */
#include <string.h>

#include "admin/api.h"
#include "admin/users_json.h"

static int users_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list = json_array();

    if (auth_users_each(rq->ctx->dd.db, auth_json_append_user, list) != AUTH_OK) {
        json_decref(list);
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot list users");
    }
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:o}", "users", list));
}

/* The optional "role" member: AUTH_ROLE_NONE when absent; false on error. */
static bool role_member(json_t *body, bool required, struct api_response *rs, enum auth_role *role)
{
    bool ok;
    const char *text = api_member_string(body, "role", required, 16, rs, &ok);

    *role = AUTH_ROLE_NONE;
    if (!ok || text == NULL)
        return ok;
    *role = auth_role_parse(text);
    if (*role == AUTH_ROLE_NONE) {
        api_error_field(rs, "role", "\"role\" is admin or viewer");
        return false;
    }
    return true;
}

static bool password_member(json_t *body, bool required, struct api_response *rs, const char **out)
{
    bool ok;

    *out = api_member_string(body, "password", required, AUTH_PASSWORD_MAX, rs, &ok);
    if (ok && *out != NULL && strlen(*out) < AUTH_PASSWORD_MIN) {
        api_error_field(rs, "password", "\"password\" needs at least %d characters",
                        AUTH_PASSWORD_MIN);
        return false;
    }
    return ok;
}

static int users_add(struct api_request *rq, struct api_response *rs)
{
    json_t *body = api_body_object(rq, rs);
    enum auth_role role;
    const char *name, *password;
    bool ok = false;
    int rc;

    if (body == NULL)
        return 0;
    name = api_member_string(body, "name", true, AUTH_NAME_MAX, rs, &ok);
    if (ok && !auth_name_valid(name)) {
        api_error_field(rs, "name", "\"name\" is 1-63 characters of A-Z a-z 0-9 . _ @ -");
        ok = false;
    }
    if (ok && role_member(body, true, rs, &role) && password_member(body, true, rs, &password)) {
        rc = auth_user_add(rq->ctx->dd.db, api_actor(rq), name, role, password);
        if (rc == AUTH_OK)
            api_json(rs, MHD_HTTP_CREATED, auth_user_added_json(name, role));
        else
            api_error_auth(rs, rc, "user");
    }
    json_decref(body);
    return 0;
}

static int users_change(struct api_request *rq, struct api_response *rs)
{
    const char *name = rq->args[0], *password = NULL;
    json_t *body = api_body_object(rq, rs);
    enum auth_role role = AUTH_ROLE_NONE;
    int rc = AUTH_OK;

    if (body == NULL)
        return 0;
    if (!role_member(body, false, rs, &role) || !password_member(body, false, rs, &password))
        goto out;
    if (role == AUTH_ROLE_NONE && password == NULL) {
        api_error_field(rs, "role", "give \"role\", \"password\" or both");
        goto out;
    }
    if (role != AUTH_ROLE_NONE)
        rc = auth_user_set_role(rq->ctx->dd.db, api_actor(rq), name, role);
    if (rc == AUTH_OK && password != NULL)
        rc = auth_user_passwd(rq->ctx->dd.db, api_actor(rq), name, password);
    if (rc == AUTH_OK && password != NULL && strcmp(name, "admin") == 0)
        auth_bootstrap_forget(rq->ctx->dd.path);
    if (rc == AUTH_OK)
        api_json(rs, MHD_HTTP_OK,
                 auth_user_changed_json(name, role != AUTH_ROLE_NONE, password != NULL));
    else
        api_error_auth(rs, rc, "user");
out:
    json_decref(body);
    return 0;
}

static int users_remove(struct api_request *rq, struct api_response *rs)
{
    const char *name = rq->args[0];
    int rc = auth_user_remove(rq->ctx->dd.db, api_actor(rq), name);

    if (rc != AUTH_OK)
        return api_error_auth(rs, rc, "user");
    if (strcmp(name, "admin") == 0)
        auth_bootstrap_forget(rq->ctx->dd.path);
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:s}", "removed", name));
}

const struct api_route api_users_routes[] = {
    {"GET", "/api/v1/users", API_ADMIN_ONLY, users_list},
    {"POST", "/api/v1/users", API_ADMIN_ONLY, users_add},
    {"PATCH", "/api/v1/users/{}", API_ADMIN_ONLY, users_change},
    {"DELETE", "/api/v1/users/{}", API_ADMIN_ONLY, users_remove},
    {NULL, NULL, 0, NULL},
};
