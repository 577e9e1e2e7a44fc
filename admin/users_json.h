/* users_json.h: the JSON shape of users and API tokens, the one shape both
 * the admin API and `loadsctl --json` print (docs/API.md). Builds values
 * only; no I/O, no database, never a password or a stored token hash. */
#ifndef LOADSD_USERS_JSON_H
#define LOADSD_USERS_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "admin/auth.h"

/* {"name","role","disabled","created_at"} */
json_t *auth_user_json(const struct auth_user *u);

/* {"name","role"}: a user just added. */
json_t *auth_user_added_json(const char *name, enum auth_role role);

/* {"name","role_changed","password_changed"}: a user just changed. */
json_t *auth_user_changed_json(const char *name, bool role_changed, bool password_changed);

/* {"id","user","name","created_at","last_used"}: last_used null when never. */
json_t *auth_token_json(const struct auth_token_info *t);

/* {"id","user","name","token"}: a token just made, its text shown this once. */
json_t *auth_token_created_json(int64_t id, const char *user, const char *name, const char *token);

/* Callbacks for auth_users_each / auth_tokens_each that append to a JSON
 * array (arg). */
int auth_json_append_user(void *arg, const struct auth_user *u);
int auth_json_append_token(void *arg, const struct auth_token_info *t);

#endif
