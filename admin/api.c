/* api.c: helpers every API resource uses: JSON error bodies with the right
 * status, the request body as a JSON object, query arguments. No routes and
 * no database access here. */
#include "admin/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "lib/log.h"
#include "lib/numparse.h"

/* {"error": code, "detail": detail}; a detail that is not UTF-8 is escaped. */
static json_t *error_body(const char *code, const char *detail)
{
    char clean[API_DETAIL_MAX];
    json_t *j = json_pack("{s:s, s:s}", "error", code, "detail", detail);

    if (j == NULL)
        j = json_pack("{s:s, s:s}", "error", code, "detail",
                      log_clean(detail, strlen(detail), clean, sizeof(clean)));
    return j;
}

/* Replaces whatever rs held with an error of status and code, its detail
 * formatted from fmt and ap. */
static void error_set(struct api_response *rs, unsigned status, const char *code, const char *fmt,
                      va_list ap)
{
    char detail[API_DETAIL_MAX];

    vsnprintf(detail, sizeof(detail), fmt, ap);
    json_decref(rs->json);
    rs->status = status;
    rs->json = error_body(code, detail);
}

int api_error(struct api_response *rs, unsigned status, const char *code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_set(rs, status, code, fmt, ap);
    va_end(ap);
    return 0;
}

int api_error_field(struct api_response *rs, const char *field, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_set(rs, MHD_HTTP_BAD_REQUEST, "invalid", fmt, ap);
    va_end(ap);
    if (rs->json != NULL)
        json_object_set_new(rs->json, "field", json_string(field));
    return 0;
}

int api_json(struct api_response *rs, unsigned status, json_t *body)
{
    json_decref(rs->json);
    rs->json = body;
    rs->status = body != NULL ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
    if (body == NULL)
        rs->json = error_body("internal", "cannot build the response");
    return 0;
}

int api_error_auth(struct api_response *rs, int rc, const char *what)
{
    switch (rc) {
    case AUTH_NOT_FOUND:
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such %s", what);
    case AUTH_CONFLICT:
        return api_error(rs, MHD_HTTP_CONFLICT, "conflict",
                         "%s: the name exists, or no admin would be left", what);
    case AUTH_INVALID:
        return api_error(rs, MHD_HTTP_BAD_REQUEST, "invalid", "invalid %s", what);
    case AUTH_DENIED:
        return api_error(rs, MHD_HTTP_UNAUTHORIZED, "unauthorized", "%s refused", what);
    default:
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "%s failed", what);
    }
}

int api_error_db(struct api_response *rs, int rc, const char *what)
{
    switch (rc) {
    case DB_NOT_FOUND:
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such %s", what);
    case DB_CONFLICT:
        return api_error(rs, MHD_HTTP_CONFLICT, "conflict", "%s already exists or is in use", what);
    case DB_NO_BRANCH:
        /* A value rule (docs/FLEET.md), refused as the other field checks are. */
        return api_error_field(rs, "load_server",
                               "load_server names a branch that is not registered (register"
                               " it first: POST /api/v1/branches)");
    default:
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "%s failed", what);
    }
}

json_t *api_body_object(struct api_request *rq, struct api_response *rs)
{
    json_error_t err;
    json_t *j;

    if (rq->body == NULL || rq->body_len == 0) {
        api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_json", "a JSON object body is required");
        return NULL;
    }
    j = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        char clean[128];

        api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_json", "malformed JSON at line %d column %d: %s",
                  err.line, err.column,
                  log_clean(err.text, strlen(err.text), clean, sizeof(clean)));
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

const char *api_member_string(json_t *obj, const char *key, bool required, size_t max,
                              struct api_response *rs, bool *ok)
{
    json_t *v = json_object_get(obj, key);

    *ok = false;
    if (v == NULL || json_is_null(v)) {
        if (required)
            api_error_field(rs, key, "\"%s\" is required", key);
        else
            *ok = true;
        return NULL;
    }
    if (!json_is_string(v)) {
        api_error_field(rs, key, "\"%s\" must be a string", key);
        return NULL;
    }
    if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
        api_error_field(rs, key, "\"%s\" is longer than %zu bytes or holds a NUL", key, max);
        return NULL;
    }
    *ok = true;
    return json_string_value(v);
}

const char *api_query(struct api_request *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *api_header(struct api_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

bool api_query_u64(struct api_request *rq, struct api_response *rs, const char *key, uint64_t min,
                   uint64_t max, uint64_t def, uint64_t *out)
{
    const char *v = api_query(rq, key);

    if (v == NULL) {
        *out = def;
        return true;
    }
    if (numparse_u64(v, min, max, out) != 0) {
        api_error_field(rs, key, "\"%s\" must be a number in %llu..%llu", key,
                        (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    return true;
}

const char *api_actor(const struct api_request *rq)
{
    return rq->authenticated ? rq->who.user : "anonymous";
}
