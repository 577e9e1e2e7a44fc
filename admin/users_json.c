/* users_json.c: users and API tokens as JSON objects, for the API and
 * loadsctl alike. Builds values only; never touches the database. */
#include "admin/users_json.h"

json_t *auth_user_json(const struct auth_user *u)
{
    return json_pack("{s:s, s:s, s:b, s:I}", "name", u->name, "role", auth_role_name(u->role),
                     "disabled", u->disabled, "created_at", (json_int_t)u->created_at);
}

json_t *auth_user_added_json(const char *name, enum auth_role role)
{
    return json_pack("{s:s, s:s}", "name", name, "role", auth_role_name(role));
}

json_t *auth_user_changed_json(const char *name, bool role_changed, bool password_changed)
{
    return json_pack("{s:s, s:b, s:b}", "name", name, "role_changed", role_changed,
                     "password_changed", password_changed);
}

json_t *auth_token_json(const struct auth_token_info *t)
{
    return json_pack("{s:I, s:s, s:s, s:I, s:o}", "id", (json_int_t)t->id, "user", t->user, "name",
                     t->name, "created_at", (json_int_t)t->created_at, "last_used",
                     t->last_used > 0 ? json_integer(t->last_used) : json_null());
}

json_t *auth_token_created_json(int64_t id, const char *user, const char *name, const char *token)
{
    return json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "user", user, "name", name,
                     "token", token);
}

int auth_json_append_user(void *arg, const struct auth_user *u)
{
    return json_array_append_new(arg, auth_user_json(u)) == 0 ? AUTH_OK : AUTH_ERROR;
}

int auth_json_append_token(void *arg, const struct auth_token_info *t)
{
    return json_array_append_new(arg, auth_token_json(t)) == 0 ? AUTH_OK : AUTH_ERROR;
}
