/* api_session.c: /api/v1/session: log in (sets the session cookie, returns
 * the CSRF token), who am I, log out. Never echoes a password; the session
 * id goes only into the HttpOnly cookie. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "admin/api.h"
#include "lib/log.h"

static void cookie_set(struct api_request *rq, struct api_response *rs, const char *value,
                       int max_age)
{
    snprintf(rs->set_cookie, sizeof(rs->set_cookie),
             "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", rq->ctx->cookie_name, value,
             max_age, rq->ctx->tls ? "; Secure" : "");
}

static json_t *session_json(const struct auth_principal *p, int64_t now)
{
    json_t *j = json_pack("{s:s, s:s, s:s}", "user", p->user, "role", auth_role_name(p->role),
                          "via", p->by_session ? "session" : "token");

    if (j != NULL && p->by_session) {
        json_object_set_new(j, "csrf_token", json_string(p->csrf));
        json_object_set_new(j, "idle_timeout", json_integer(AUTH_SESSION_IDLE));
        json_object_set_new(j, "expires_at", json_integer(now + AUTH_SESSION_ABSOLUTE));
    }
    return j;
}

static int login_refused(struct api_request *rq, struct api_response *rs, int rc, const char *user,
                         int64_t retry_after)
{
    char clean[LOG_CLEAN_MAX];

    /* A throttled try costs no KDF, so a flood of them is cheap: auth.c
     * logs and audits when a limit is reached, each refusal only at debug. */
    if (rc == AUTH_THROTTLED)
        log_debug("admin login throttled for \"%s\" from %s",
                  log_clean(user, strlen(user), clean, sizeof(clean)), rq->ip);
    else
        log_warn("admin login refused for \"%s\" from %s",
                 log_clean(user, strlen(user), clean, sizeof(clean)), rq->ip);
    if (rc == AUTH_THROTTLED) {
        rs->retry_after = retry_after > 0 ? retry_after : 1;
        return api_error(rs, MHD_HTTP_TOO_MANY_REQUESTS, "throttled",
                         "too many failed logins; try again in %lld s", (long long)retry_after);
    }
    if (rc == AUTH_DENIED)
        return api_error(rs, MHD_HTTP_UNAUTHORIZED, "bad_credentials",
                         "wrong user name or password");
    return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "login failed");
}

static int session_login(struct api_request *rq, struct api_response *rs)
{
    sqlite3 *db = rq->ctx->dd.db;
    json_t *body = api_body_object(rq, rs);
    struct auth_principal p;
    const char *user, *password;
    char id[AUTH_SECRET_TEXT];
    int64_t retry = 0;
    bool ok = false;
    int rc;

    if (body == NULL)
        return 0;
    user = api_member_string(body, "user", true, AUTH_NAME_MAX, rs, &ok);
    password = ok ? api_member_string(body, "password", true, AUTH_PASSWORD_MAX, rs, &ok) : NULL;
    if (!ok)
        goto out;
    rc = auth_login(db, user, password, rq->ip, rq->now, &p, &retry);
    if (rc != AUTH_OK) {
        login_refused(rq, rs, rc, user, retry);
        goto out;
    }
    auth_sessions_prune(db, rq->now);
    if (auth_session_create(db, &p, rq->ip, rq->now, id, sizeof(id)) != AUTH_OK) {
        api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot start a session");
        goto out;
    }
    cookie_set(rq, rs, id, AUTH_SESSION_ABSOLUTE);
    OPENSSL_cleanse(id, sizeof(id));
    log_info("admin login: %s from %s", p.user, rq->ip);
    api_json(rs, MHD_HTTP_OK, session_json(&p, rq->now));
out:
    json_decref(body);
    return 0;
}

static int session_get(struct api_request *rq, struct api_response *rs)
{
    return api_json(rs, MHD_HTTP_OK, session_json(&rq->who, rq->now));
}

static int session_logout(struct api_request *rq, struct api_response *rs)
{
    int rc;

    if (!rq->who.by_session || rq->session_id == NULL)
        return api_error(rs, MHD_HTTP_BAD_REQUEST, "not_a_session",
                         "an API token is not a session; remove the token instead");
    rc = auth_session_delete(rq->ctx->dd.db, rq->session_id, rq->who.user);
    if (rc != AUTH_OK && rc != AUTH_NOT_FOUND)
        return api_error_auth(rs, rc, "session");
    cookie_set(rq, rs, "", 0);
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:b}", "logged_out", 1));
}

const struct api_route api_session_routes[] = {
    {"POST", "/api/v1/session", API_PUBLIC, session_login},
    {"GET", "/api/v1/session", 0, session_get},
    {"DELETE", "/api/v1/session", API_ANY_ROLE, session_logout},
    {NULL, NULL, 0, NULL},
};
