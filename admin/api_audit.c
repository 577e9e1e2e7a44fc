/* api_audit.c: /api/v1/audit: the audit trail, newest first, paged by id
 * (?before=ID&limit=N) and filtered by actor or action prefix. Read only. */
#include <string.h>

#include "admin/api.h"
#include "db/db.h"
#include "lib/log.h"

#define AUDIT_LIMIT_DEFAULT 50
#define AUDIT_LIMIT_MAX     500
#define AUDIT_TEXT_MAX      4096

/* A column as a JSON string (null for NULL); bytes that are not UTF-8 are
 * escaped rather than dropping the row. */
static json_t *column_json(sqlite3_stmt *st, int col)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    char clean[LOG_CLEAN_MAX];
    json_t *j;

    if (text == NULL)
        return json_null();
    j = json_stringn(text, strnlen(text, AUDIT_TEXT_MAX));
    return j != NULL ? j : json_string(log_clean(text, strlen(text), clean, sizeof(clean)));
}

static json_t *audit_row(sqlite3_stmt *st)
{
    json_t *j = json_pack("{s:I, s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0), "at",
                          (json_int_t)sqlite3_column_int64(st, 1));
    static const char *const names[] = {"actor", "action", "object", "before", "after"};

    for (int i = 0; j != NULL && i < 5; i++)
        json_object_set_new(j, names[i], column_json(st, i + 2));
    return j;
}

static int audit_list(struct api_request *rq, struct api_response *rs)
{
    const char *actor = api_query(rq, "actor"), *action = api_query(rq, "action");
    uint64_t limit, before;
    sqlite3_stmt *st;
    json_t *list;
    int64_t last = 0;
    int n = 0, step;

    if (!api_query_u64(rq, rs, "limit", 1, AUDIT_LIMIT_MAX, AUDIT_LIMIT_DEFAULT, &limit) ||
        !api_query_u64(rq, rs, "before", 1, INT64_MAX, INT64_MAX, &before))
        return 0;
    st = db_prepare(rq->ctx->dd.db, "SELECT id, at, actor, action, object, before, after FROM audit"
                                    " WHERE id < ?1 AND (?2 IS NULL OR actor = ?2)"
                                    " AND (?3 IS NULL OR substr(action, 1, length(?3)) = ?3)"
                                    " ORDER BY id DESC LIMIT ?4");
    if (st == NULL)
        return api_error_db(rs, DB_ERROR, "audit");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)before);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    list = json_array();
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        last = sqlite3_column_int64(st, 0);
        json_array_append_new(list, audit_row(st));
        n++;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        json_decref(list);
        return api_error_db(rs, DB_ERROR, "audit");
    }
    return api_json(rs, MHD_HTTP_OK,
                    json_pack("{s:o, s:o}", "entries", list, "next_before",
                              (uint64_t)n == limit && last > 1 ? json_integer(last) : json_null()));
}

const struct api_route api_audit_routes[] = {
    {"GET", "/api/v1/audit", 0, audit_list},
    {NULL, NULL, 0, NULL},
};
