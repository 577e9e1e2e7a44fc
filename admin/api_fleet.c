/* api_fleet.c: fleet control at the central (docs/FLEET.md): the branches'
 * own calls (/api/v1/fleet/report, /api/v1/fleet/want; a branch's token
 * only) and the branches as operators manage them (/api/v1/branches).
 * Rows through db/fleet; the JSON shapes in fleet_json.c. */
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "admin/api.h"
#include "admin/api_prov.h"
#include "admin/branch_json.h"
#include "admin/fleet_json.h"
#include "db/catalog.h"
#include "db/db.h"
#include "db/fleet.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "server/resolve/inventory.h"

#define FLEET_REPORT_EVERY_S  60  /* how often a branch reports (the answer says) */
#define FLEET_MAX_AGE_DEFAULT 300 /* fleet_max_age_s when the setting is unreadable */

_Static_assert(FLEET_REPORT_LOADS_MAX <= FLEET_LOADS_MAX, "a report the parser takes must store");
_Static_assert(FLEET_REPORT_BODY_MAX == API_BODY_LARGE_MAX, "the report's limit is the body's");

/* ---- refused fleet calls: audited, rate-limited ---- */

/* The slot of key, or the free or least recently logged one (whose pending
 * refusals are counted as dropped). */
static unsigned refused_slot(struct api_refused *t, const char *key)
{
    unsigned pick = 0;

    for (unsigned i = 0; i < API_REFUSED_SLOTS; i++) {
        if (strcmp(t->slot[i].key, key) == 0)
            return i;
        if (t->slot[i].key[0] == '\0' ||
            (t->slot[pick].key[0] != '\0' && t->slot[i].logged_at < t->slot[pick].logged_at))
            pick = i;
    }
    t->dropped += t->slot[pick].pending;
    snprintf(t->slot[pick].key, sizeof(t->slot[pick].key), "%s", key);
    t->slot[pick].logged_at = 0;
    t->slot[pick].pending = 0;
    return pick;
}

/* Counts one refusal of key at now. True when an audit row is due: then
 * *count is the refusals it stands for (this one included) and *dropped
 * those of addresses that fell out of the table since the last row. */
static bool refused_count(struct api_refused *t, const char *key, int64_t now, uint64_t *count,
                          uint64_t *dropped)
{
    unsigned i = refused_slot(t, key);

    t->slot[i].pending++;
    if (now - t->minute >= 60) {
        t->minute = now;
        t->rows = 0;
    }
    if (now - t->slot[i].logged_at < API_REFUSED_EVERY || t->rows >= API_REFUSED_ROWS)
        return false;
    t->rows++;
    *count = t->slot[i].pending;
    *dropped = t->dropped;
    t->slot[i].pending = 0;
    t->slot[i].logged_at = now;
    t->dropped = 0;
    return true;
}

void api_fleet_refused(struct api_context *ctx, const char *ip, int64_t now)
{
    char key[sizeof(ctx->refused.slot[0].key)], after[160];
    uint64_t count, dropped;

    auth_addr_key(ip, key, sizeof(key));
    if (!refused_count(&ctx->refused, key, now, &count, &dropped))
        return;
    snprintf(after, sizeof(after), "{\"addr\":\"%s\",\"refused\":%llu,\"others_unlogged\":%llu}",
             ip, (unsigned long long)count, (unsigned long long)dropped);
    if (catalog_audit(ctx->dd.db, "anonymous", "fleet.report.refused", ip, NULL, after) != DB_OK)
        log_warn("fleet: cannot audit a refused report from %s", ip);
}

/* ---- shared ---- */

static int64_t max_age_s(sqlite3 *db)
{
    char text[32];
    uint64_t v;

    if (catalog_setting_get(db, "fleet_max_age_s", text, sizeof(text)) != DB_OK ||
        numparse_u64(text, 1, INT64_MAX, &v) != 0)
        return FLEET_MAX_AGE_DEFAULT;
    return (int64_t)v;
}

/* The want-list poll period for the branches registered now (a count that
 * cannot be read: as for the most branches the report schedule allows). */
static int64_t want_poll_s(sqlite3 *db)
{
    size_t n;

    if (fleet_branch_count(db, &n) != DB_OK)
        return FLEET_REPORT_EVERY_S;
    return fleet_want_poll_s(n, FLEET_REPORT_EVERY_S);
}

/* The branch named in the path: 0, or -1 with a 404 in rs. */
static int path_branch(struct api_request *rq, struct api_response *rs, struct fleet_branch *b)
{
    int rc = fleet_branch_get(rq->ctx->dd.db, rq->args[0], b);

    if (rc != DB_OK)
        api_error_db(rs, rc, "branch");
    return rc == DB_OK ? 0 : -1;
}

/* ---- the branches' calls ---- */

/* A report's phones as the inventory took them. */
struct phones_merged {
    size_t joined;  /* joined to a MAC through its config fetch */
    size_t unknown; /* an address no config fetch came from (or came from since) */
};

/* The answer to a branch: what it must hold, with its tag (as the ETag
 * too); after a report (m not NULL) also how its phones joined. */
static int answer_want(struct api_request *rq, struct api_response *rs,
                       const struct fleet_want *want, const char *tag,
                       const struct phones_merged *m)
{
    struct fleet_answer a = {.branch = rq->who.branch,
                             .want = want,
                             .want_tag = tag,
                             .report_every_s = FLEET_REPORT_EVERY_S,
                             .want_poll_s = want_poll_s(rq->ctx->dd.db),
                             .max_age_s = max_age_s(rq->ctx->dd.db)};
    json_t *j = fleet_answer_json(&a);

    if (j != NULL && m != NULL)
        json_object_set_new(j, "phones",
                            json_pack("{s:I, s:I}", "joined", (json_int_t)m->joined, "unknown",
                                      (json_int_t)m->unknown));
    snprintf(rs->etag, sizeof(rs->etag), "\"%s\"", tag);
    return api_json(rs, MHD_HTTP_OK, j);
}

/* The branch's want list from the cached index (db/fleet.c) and its tag:
 * 0, or -1 with a 500 in rs. */
static int want_now(struct api_request *rq, struct api_response *rs, struct fleet_want *want,
                    char tag[FLEET_WANT_TAG_BUF])
{
    if (fleet_want_load(rq->ctx->dd.db, FLEET_KIND_BRANCH, rq->who.branch, want) != DB_OK ||
        fleet_want_tag(want, tag) != 0) {
        fleet_want_free(want);
        api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot read the want list");
        return -1;
    }
    return 0;
}

/* Each phone of the report into the firmware inventory, named by the
 * branch; one that cannot be joined to a MAC is counted, not refused. */
static void phones_merge(struct inventory *inv, const struct fleet_report_doc *doc,
                         const char *branch, struct phones_merged *m)
{
    for (size_t i = 0; i < doc->n_phones; i++) {
        const struct fleet_report_phone *p = &doc->phones[i];

        if (p->files_total <= UINT_MAX &&
            inventory_merge(inv, p->addr, p->load, (unsigned)p->files_done,
                            (unsigned)p->files_total, p->at, branch) == 0)
            m->joined++;
        else
            m->unknown++;
    }
}

/* The parser's refusal as an answer: 413 for a limit, else 400. */
static int report_refused(struct api_response *rs, int rc, const char *why)
{
    if (rc == FLEET_JSON_TOO_LARGE)
        return api_error(rs, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "%s", why);
    if (rc == FLEET_JSON_MALFORMED)
        return api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_json", "%s", why);
    return api_error(rs, MHD_HTTP_BAD_REQUEST, "invalid", "%s", why);
}

static int fleet_report(struct api_request *rq, struct api_response *rs)
{
    struct fleet_report_doc doc;
    struct fleet_report r;
    char why[FLEET_WHY_MAX];
    bool changed = false;
    struct phones_merged merged = {0, 0};
    struct fleet_want want = {0};
    char tag[FLEET_WANT_TAG_BUF];
    int rc =
        fleet_report_parse(rq->body != NULL ? rq->body : "", rq->body_len, &doc, why, sizeof(why));

    if (rc != FLEET_JSON_OK)
        return report_refused(rs, rc, why);
    memset(&r, 0, sizeof(r));
    memcpy(r.version, doc.version, sizeof(r.version));
    r.time = doc.time;
    r.free_bytes = doc.free_bytes;
    r.loads = doc.loads;
    r.n_loads = doc.n_loads;
    phones_merge(rq->ctx->inventory, &doc, rq->who.branch, &merged);
    rc = fleet_report_store(rq->ctx->dd.db, rq->who.branch, &r, rq->now, &changed);
    fleet_report_doc_free(&doc);
    if (rc == DB_CONFLICT)
        return api_error(rs, MHD_HTTP_BAD_REQUEST, "invalid", "the report breaks a rule");
    if (rc != DB_OK)
        return api_error_db(rs, rc, "branch");
    if (want_now(rq, rs, &want, tag) == 0)
        answer_want(rq, rs, &want, tag, &merged);
    fleet_want_free(&want);
    return 0;
}

/* A branch's poll between reports (docs/FLEET.md): 304 while its tag
 * (If-None-Match) still names the list, which costs a lookup in the cached
 * want index and no other read; else the whole answer. */
static int fleet_want(struct api_request *rq, struct api_response *rs)
{
    struct fleet_want want = {0};
    char tag[FLEET_WANT_TAG_BUF];

    if (want_now(rq, rs, &want, tag) != 0)
        return 0;
    if (fleet_etag_matches(api_header(rq, "If-None-Match"), tag)) {
        rs->status = MHD_HTTP_NOT_MODIFIED;
        snprintf(rs->etag, sizeof(rs->etag), "\"%s\"", tag);
    } else {
        answer_want(rq, rs, &want, tag, NULL);
    }
    fleet_want_free(&want);
    return 0;
}

/* ---- branches (operators) ---- */

struct branches_walk {
    json_t *list;
    int64_t now, max_age;
};

static int branches_one(void *arg, const struct fleet_branch *b)
{
    struct branches_walk *w = arg;

    return json_array_append_new(w->list, branch_json(b, w->now, w->max_age));
}

static int branches_list(struct api_request *rq, struct api_response *rs)
{
    struct branches_walk w = {json_array(), rq->now, max_age_s(rq->ctx->dd.db)};
    int rc = w.list != NULL ? fleet_branches_each(rq->ctx->dd.db, branches_one, &w) : DB_ERROR;

    if (rc != DB_OK) {
        json_decref(w.list);
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot list branches");
    }
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:o}", "branches", w.list));
}

/* A branch with its holdings and what it must hold, as `loadsctl --json
 * branch show` prints it. */
static int branches_show(struct api_request *rq, struct api_response *rs)
{
    struct fleet_view *view = NULL;
    struct fleet_want want = {0};
    struct fleet_branch b;
    int rc;

    if (path_branch(rq, rs, &b) != 0)
        return 0;
    rc = fleet_view_load(rq->ctx->dd.db, &view);
    if (rc == DB_OK)
        rc = fleet_want_load(rq->ctx->dd.db, FLEET_KIND_BRANCH, b.name, &want);
    if (rc == DB_OK)
        api_json(rs, MHD_HTTP_OK,
                 branch_detail_json(&b, fleet_find_branch(view, b.name), &want, rq->now,
                                    max_age_s(rq->ctx->dd.db)));
    else
        api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot read branch %s", b.name);
    fleet_want_free(&want);
    fleet_view_free(view);
    return 0;
}

/* "address" from the body: a host name or address; NULL with a 400. */
static const char *body_address(json_t *body, struct api_response *rs)
{
    bool ok = false;
    const char *address = api_member_string(body, "address", true, 253, rs, &ok);

    if (ok && !settings_host_valid(address)) {
        api_error_field(rs, "address", "\"address\" is a host name or an IPv4 or IPv6 address");
        return NULL;
    }
    return ok ? address : NULL;
}

/* One write in its own transaction. */
static int branch_txn(struct api_request *rq, int rc)
{
    if (rc == DB_OK)
        return db_commit(rq->ctx->dd.db);
    db_rollback(rq->ctx->dd.db);
    return rc;
}

static int branches_add_named(struct api_request *rq, struct api_response *rs, const char *name,
                              const char *address)
{
    char token[AUTH_SECRET_TEXT], hash[SHA256_HEX_BUF];
    int rc = auth_branch_token_make(token, hash);

    if (rc != AUTH_OK)
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot make a token");
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = branch_txn(rq, fleet_branch_add(rq->ctx->dd.db, api_actor(rq), name, address, hash));
    if (rc == DB_CONFLICT)
        api_error(rs, MHD_HTTP_CONFLICT, "conflict", "branch %s exists already", name);
    else if (rc != DB_OK)
        api_error_db(rs, rc, "branch");
    else
        api_json(rs, MHD_HTTP_CREATED, branch_created_json(name, address, token));
    OPENSSL_cleanse(token, sizeof(token));
    return 0;
}

static int branches_add(struct api_request *rq, struct api_response *rs)
{
    static const char *const known[] = {"name", "address", NULL};
    json_t *body = api_body_object(rq, rs);
    const char *name = NULL, *address = NULL;
    bool ok = false;

    if (body == NULL)
        return 0;
    if (prov_members_known(body, known, rs) == 0)
        name = api_member_string(body, "name", true, SETTINGS_NAME_MAX, rs, &ok);
    if (ok && !settings_name_valid(name)) {
        api_error_field(rs, "name", "\"name\" is %s", SETTINGS_NAME_RULE);
        ok = false;
    }
    if (ok)
        address = body_address(body, rs);
    if (address != NULL)
        branches_add_named(rq, rs, name, address);
    json_decref(body);
    return 0;
}

/* PUT {"address": HOST}: what phones are told for the branch from now on. */
static int branches_put(struct api_request *rq, struct api_response *rs)
{
    static const char *const known[] = {"address", NULL};
    json_t *body = api_body_object(rq, rs);
    const char *address = NULL;
    struct fleet_branch b;
    int rc;

    if (body == NULL)
        return 0;
    if (path_branch(rq, rs, &b) == 0 && prov_members_known(body, known, rs) == 0)
        address = body_address(body, rs);
    if (address != NULL) {
        rc = db_begin(rq->ctx->dd.db);
        if (rc == DB_OK)
            rc = branch_txn(
                rq, fleet_branch_set_address(rq->ctx->dd.db, api_actor(rq), b.name, address));
        if (rc != DB_OK)
            api_error_db(rs, rc, "branch");
        else if (fleet_branch_get(rq->ctx->dd.db, b.name, &b) == DB_OK)
            api_json(rs, MHD_HTTP_OK, branch_json(&b, rq->now, max_age_s(rq->ctx->dd.db)));
        else
            api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot read branch %s",
                      b.name);
    }
    json_decref(body);
    return 0;
}

static int branches_remove(struct api_request *rq, struct api_response *rs)
{
    struct fleet_branch b;
    int rc;

    if (path_branch(rq, rs, &b) != 0)
        return 0;
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = branch_txn(rq, fleet_branch_remove(rq->ctx->dd.db, api_actor(rq), b.name));
    if (rc != DB_OK)
        return api_error_db(rs, rc, "branch");
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:s}", "removed", b.name));
}

const struct api_route api_fleet_routes[] = {
    {"POST", "/api/v1/fleet/report", API_BRANCH | API_BODY_LARGE, fleet_report},
    {"GET", "/api/v1/fleet/want", API_BRANCH, fleet_want},
    {"GET", "/api/v1/branches", 0, branches_list},
    {"POST", "/api/v1/branches", 0, branches_add},
    {"GET", "/api/v1/branches/{}", 0, branches_show},
    {"PUT", "/api/v1/branches/{}", 0, branches_put},
    {"DELETE", "/api/v1/branches/{}", 0, branches_remove},
    {NULL, NULL, 0, NULL},
};
