/* api_audit.c: /api/v1/audit: the audit trail, newest first, paged by id
 * (?before=ID&limit=N) and filtered by actor or action prefix. Read only. */
#include <string.h>

#include "admin/api.h"
#include "admin/catalog_json.h"
#include "db/catalog.h"
#include "db/db.h"

#define AUDIT_LIMIT_DEFAULT 50
#define AUDIT_LIMIT_MAX     500

/* catalog_audit_each's callback: the page being listed. */
struct audit_page {
    json_t *list;
    int64_t last;
    uint64_t n;
};

static int audit_row(void *arg, const struct catalog_audit_entry *e)
{
    struct audit_page *p = arg;
    json_t *j = json_pack("{s:I, s:I}", "id", (json_int_t)e->id, "at", (json_int_t)e->at);
    static const char *const names[] = {"actor", "action", "object", "before", "after"};
    const char *const texts[] = {e->actor, e->action, e->object, e->before, e->after};

    for (int i = 0; j != NULL && i < 5; i++)
        json_object_set_new(j, names[i], catalog_text_json(texts[i]));
    p->last = e->id;
    p->n++;
    json_array_append_new(p->list, j);
    return 0;
}

static int audit_list(struct api_request *rq, struct api_response *rs)
{
    struct catalog_audit_query q = {.actor = api_query(rq, "actor"),
                                    .action_prefix = api_query(rq, "action")};
    struct audit_page p = {NULL, 0, 0};
    uint64_t limit, before;

    if (!api_query_u64(rq, rs, "limit", 1, AUDIT_LIMIT_MAX, AUDIT_LIMIT_DEFAULT, &limit) ||
        !api_query_u64(rq, rs, "before", 1, INT64_MAX, INT64_MAX, &before))
        return 0;
    q.before = (int64_t)before;
    q.limit = (unsigned)limit;
    p.list = json_array();
    if (catalog_audit_each(rq->ctx->dd.db, &q, audit_row, &p) != DB_OK) {
        json_decref(p.list);
        return api_error_db(rs, DB_ERROR, "audit");
    }
    return api_json(rs, MHD_HTTP_OK,
                    json_pack("{s:o, s:o}", "entries", p.list, "next_before",
                              p.n == limit && p.last > 1 ? json_integer(p.last) : json_null()));
}

const struct api_route api_audit_routes[] = {
    {"GET", "/api/v1/audit", 0, audit_list},
    {NULL, NULL, 0, NULL},
};
