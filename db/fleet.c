/* fleet.c: branches, their reports and the fleet view in SQL. Prepared
 * statements only; a report is one transaction of its own (it decides
 * whether the fleet generation moves); never moves the provisioning
 * generation, so a report never rebuilds the settings snapshot. */
#include "db/fleet.h"
#include "db/probe.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/catalog.h"
#include "db/devbulk.h"
#include "db/provision.h"
#include "lib/grow.h"
#include "lib/sizes.h"
#include "lib/text.h"

#define BRANCH_COLUMNS                                                                             \
    "b.name, b.address, b.created_at, b.received_at, b.version, b.free_bytes,"                     \
    " b.reported_time, (SELECT count(*) FROM branch_loads l WHERE l.branch_id = b.id"              \
    " AND l.state = 'complete'), (SELECT count(*) FROM branch_loads l WHERE l.branch_id = b.id)"

static void bind_folded(sqlite3_stmt *st, int idx, const char *name)
{
    char folded[SETTINGS_VALUE_MAX];

    catalog_fold(name, folded, sizeof(folded));
    sqlite3_bind_text(st, idx, folded, -1, SQLITE_TRANSIENT);
}

static bool token_hash_valid(const char *h)
{
    size_t len = h ? strnlen(h, FLEET_TOKEN_HASH_LEN + 1) : 0;

    if (len != FLEET_TOKEN_HASH_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    return true;
}

/* ---- branches ---- */

int fleet_branch_add(sqlite3 *db, const char *actor, const char *name, const char *address,
                     const char *token_hash)
{
    sqlite3_stmt *st;
    json_t *j;
    char *after = NULL;
    int rc = DB_ERROR;

    if (!settings_name_valid(name) || !settings_host_valid(address) ||
        !token_hash_valid(token_hash))
        return DB_ERROR;
    st = db_prepare(db, "INSERT INTO branches (name, name_folded, address, token_hash,"
                        " created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    bind_folded(st, 2, name);
    sqlite3_bind_text(st, 3, address, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, token_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
    rc = db_exec_stmt(db, st);
    /* The token is never audited, not even its hash. */
    j = rc == DB_OK ? json_pack("{s:s}", "address", address) : NULL;
    after = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (rc == DB_OK)
        rc = after ? catalog_audit(db, actor, "branch.add", name, NULL, after) : DB_ERROR;
    if (rc == DB_OK)
        rc = db_fleet_bump(db);
    json_decref(j);
    free(after);
    return rc;
}

int fleet_branch_remove(sqlite3 *db, const char *actor, const char *name)
{
    struct fleet_branch b;
    sqlite3_stmt *st;
    int rc = fleet_branch_get(db, name, &b);

    if (rc != DB_OK)
        return rc;
    st = db_prepare(db, "DELETE FROM branches WHERE name_folded = ?1");
    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, name);
    rc = db_exec_stmt(db, st);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "branch.remove", b.name, b.address, NULL);
    if (rc == DB_OK)
        rc = db_fleet_bump(db);
    return rc;
}

int fleet_branch_set_address(sqlite3 *db, const char *actor, const char *name, const char *address)
{
    struct fleet_branch b;
    sqlite3_stmt *st;
    int rc;

    if (!settings_host_valid(address))
        return DB_ERROR;
    rc = fleet_branch_get(db, name, &b);
    if (rc != DB_OK || strcmp(b.address, address) == 0)
        return rc;
    st = db_prepare(db, "UPDATE branches SET address = ?2 WHERE name_folded = ?1");
    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, name);
    sqlite3_bind_text(st, 2, address, -1, SQLITE_TRANSIENT);
    rc = db_exec_stmt(db, st);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "branch.address", b.name, b.address, address);
    if (rc == DB_OK)
        rc = db_fleet_bump(db); /* the gate names the new address at once */
    return rc;
}

/* ---- reads ---- */

static void branch_from_row(sqlite3_stmt *st, struct fleet_branch *b)
{
    memset(b, 0, sizeof(*b));
    db_column_text(st, 0, b->name, sizeof(b->name));
    db_column_text(st, 1, b->address, sizeof(b->address));
    b->created_at = sqlite3_column_int64(st, 2);
    b->received_at = sqlite3_column_int64(st, 3); /* NULL reads as 0: never */
    db_column_text(st, 4, b->version, sizeof(b->version));
    b->free_bytes = (uint64_t)sqlite3_column_int64(st, 5);
    b->reported_time = sqlite3_column_int64(st, 6);
    b->loads_complete = (unsigned)sqlite3_column_int64(st, 7);
    b->loads_total = (unsigned)sqlite3_column_int64(st, 8);
}

/* One branch by a one-row query bound to key. */
static int branch_one(sqlite3 *db, const char *sql, const char *key, bool fold,
                      struct fleet_branch *out)
{
    sqlite3_stmt *st = db_prepare(db, sql);
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    if (fold)
        bind_folded(st, 1, key);
    else
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        branch_from_row(st, out);
        rc = DB_OK;
    } else {
        rc = step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, "find branch");
    }
    sqlite3_finalize(st);
    return rc;
}

int fleet_branch_get(sqlite3 *db, const char *name, struct fleet_branch *out)
{
    return branch_one(db, "SELECT " BRANCH_COLUMNS " FROM branches b WHERE b.name_folded = ?1",
                      name, true, out);
}

int fleet_branch_by_token(sqlite3 *db, const char *token_hash, struct fleet_branch *out)
{
    if (!token_hash_valid(token_hash))
        return DB_NOT_FOUND;
    return branch_one(db, "SELECT " BRANCH_COLUMNS " FROM branches b WHERE b.token_hash = ?1",
                      token_hash, false, out);
}

int fleet_branch_exists(sqlite3 *db, const char *name)
{
    struct fleet_branch b;
    int rc = fleet_branch_get(db, name, &b);

    return rc == DB_OK ? 1 : rc == DB_NOT_FOUND ? 0 : rc;
}

int fleet_branch_count(sqlite3 *db, size_t *n)
{
    int64_t v = 0;
    int rc = db_int(db, "SELECT count(*) FROM branches", &v);

    *n = (size_t)v;
    return rc;
}

int fleet_load_server_check(sqlite3 *db, const char *value, char *why, size_t cap)
{
    const char *name = settings_branch_name(value);
    int rc = name != NULL ? fleet_branch_exists(db, name) : 1;

    if (rc == 0) {
        text_format(why, cap,
                    "no branch %s is registered (loadsctl branch add %s --address HOST"
                    " registers one)",
                    name, name);
        return DB_NOT_FOUND;
    }
    return rc == 1 ? DB_OK : rc;
}

int fleet_branches_each(sqlite3 *db, int (*cb)(void *arg, const struct fleet_branch *b), void *arg)
{
    sqlite3_stmt *st =
        db_prepare(db, "SELECT " BRANCH_COLUMNS " FROM branches b ORDER BY b.name_folded");
    struct fleet_branch b;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        branch_from_row(st, &b);
        rc = cb(arg, &b);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list branches");
    sqlite3_finalize(st);
    return rc;
}

/* ---- holdings ---- */

static void holding_from_row(sqlite3_stmt *st, int col, struct fleet_holding *x)
{
    char state[16];

    memset(x, 0, sizeof(*x));
    db_column_text(st, col, x->load, sizeof(x->load));
    db_column_text(st, col + 1, state, sizeof(state));
    if (fleet_state_parse(state, &x->state) != 0)
        x->state = FLEET_INCOMPLETE; /* the schema allows no other; never trust more */
    x->files_have = (uint64_t)sqlite3_column_int64(st, col + 2);
    x->files_total = (uint64_t)sqlite3_column_int64(st, col + 3);
    x->bytes_have = (uint64_t)sqlite3_column_int64(st, col + 4);
    x->bytes_total = (uint64_t)sqlite3_column_int64(st, col + 5);
    x->eta_s = sqlite3_column_type(st, col + 6) == SQLITE_NULL ? FLEET_ETA_UNKNOWN
                                                               : sqlite3_column_int64(st, col + 6);
}

/* A growable list of holdings. */
struct holdings {
    struct fleet_holding *v;
    size_t n, cap;
};

static int holdings_push(struct holdings *h, const struct fleet_holding *x)
{
    if (grow_array((void **)&h->v, &h->cap, h->n + 1, sizeof(*h->v), 16) != 0)
        return DB_ERROR;
    h->v[h->n++] = *x;
    return DB_OK;
}

static int holding_cmp(const void *a, const void *b)
{
    return strcasecmp(((const struct fleet_holding *)a)->load,
                      ((const struct fleet_holding *)b)->load);
}

/* The stored holdings of branch id, sorted by load. */
static int holdings_read(sqlite3 *db, int64_t id, struct holdings *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT load, state, files_have, files_total, bytes_have,"
                                      " bytes_total, eta_s FROM branch_loads WHERE branch_id = ?1");
    struct fleet_holding x;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    if (st != NULL)
        sqlite3_bind_int64(st, 1, id);
    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        holding_from_row(st, 0, &x);
        rc = holdings_push(out, &x);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "read holdings");
    sqlite3_finalize(st);
    if (rc == DB_OK && out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), holding_cmp);
    return rc;
}

static bool holding_same(const struct fleet_holding *a, const struct fleet_holding *b)
{
    return strcmp(a->load, b->load) == 0 && a->state == b->state &&
           a->files_have == b->files_have && a->files_total == b->files_total &&
           a->bytes_have == b->bytes_have && a->bytes_total == b->bytes_total &&
           a->eta_s == b->eta_s;
}

static bool holdings_same(const struct holdings *a, const struct holdings *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!holding_same(&a->v[i], &b->v[i]))
            return false;
    return true;
}

/* Whether a load came, went or changed state (progress alone is no event). */
static bool holdings_states_differ(const struct holdings *a, const struct holdings *b)
{
    if (a->n != b->n)
        return true;
    for (size_t i = 0; i < a->n; i++)
        if (strcasecmp(a->v[i].load, b->v[i].load) != 0 || a->v[i].state != b->v[i].state)
            return true;
    return false;
}

static bool holding_valid(const struct fleet_holding *x)
{
    return settings_load_name_valid(x->load) && (unsigned)x->state <= FLEET_BLOCKED &&
           x->files_have <= FLEET_COUNT_MAX && x->files_total <= FLEET_COUNT_MAX &&
           x->bytes_have <= FLEET_COUNT_MAX && x->bytes_total <= FLEET_COUNT_MAX &&
           x->eta_s >= FLEET_ETA_UNKNOWN && x->eta_s <= (int64_t)FLEET_COUNT_MAX;
}

/* The report's holdings, checked and sorted; DB_CONFLICT when one breaks a
 * rule or a load is named twice. */
static int holdings_from_report(const struct fleet_report *r, struct holdings *out)
{
    int rc = r->n_loads <= FLEET_LOADS_MAX ? DB_OK : DB_CONFLICT;

    for (size_t i = 0; rc == DB_OK && i < r->n_loads; i++)
        rc = holding_valid(&r->loads[i]) ? holdings_push(out, &r->loads[i]) : DB_CONFLICT;
    if (rc == DB_OK && out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), holding_cmp);
    for (size_t i = 1; rc == DB_OK && i < out->n; i++)
        if (strcasecmp(out->v[i - 1].load, out->v[i].load) == 0)
            rc = DB_CONFLICT;
    return rc;
}

static int holding_insert(sqlite3 *db, sqlite3_stmt *st, int64_t id, const struct fleet_holding *x)
{
    int rc;

    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, x->load, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, fleet_state_name(x->state), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)x->files_have);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)x->files_total);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)x->bytes_have);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)x->bytes_total);
    if (x->eta_s == FLEET_ETA_UNKNOWN)
        sqlite3_bind_null(st, 8);
    else
        sqlite3_bind_int64(st, 8, x->eta_s);
    rc = db_check(db, sqlite3_step(st), "store holding");
    return rc;
}

static int holdings_replace(sqlite3 *db, int64_t id, const struct holdings *h)
{
    sqlite3_stmt *del = db_prepare(db, "DELETE FROM branch_loads WHERE branch_id = ?1");
    sqlite3_stmt *ins = db_prepare(db, "INSERT INTO branch_loads (branch_id, load, state,"
                                       " files_have, files_total, bytes_have, bytes_total, eta_s)"
                                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    int rc = del && ins ? DB_OK : DB_ERROR;

    if (rc == DB_OK) {
        sqlite3_bind_int64(del, 1, id);
        rc = db_check(db, sqlite3_step(del), "clear holdings");
    }
    for (size_t i = 0; rc == DB_OK && i < h->n; i++)
        rc = holding_insert(db, ins, id, &h->v[i]);
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    return rc;
}

/* The audit text of holdings: {"complete": N, "loads": {"NAME": "state"...}}
 * (at most 64 named, the rest counted). NULL on failure; free() it. */
static char *holdings_audit_text(const struct holdings *h)
{
    json_t *loads = json_object(), *j;
    size_t complete = 0;
    char *text;

    for (size_t i = 0; i < h->n; i++) {
        complete += h->v[i].state == FLEET_COMPLETE;
        if (i < 64)
            json_object_set_new(loads, h->v[i].load, json_string(fleet_state_name(h->v[i].state)));
    }
    j = json_pack("{s:I, s:I, s:o}", "complete", (json_int_t)complete, "total", (json_int_t)h->n,
                  "loads", loads);
    text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return text;
}

static int report_audit(sqlite3 *db, const char *branch, const struct holdings *before,
                        const struct holdings *after)
{
    char *b = holdings_audit_text(before), *a = holdings_audit_text(after);
    char actor[SETTINGS_NAME_MAX + 8];
    int rc;

    /* The actor is the branch itself, as its token authenticated it. */
    snprintf(actor, sizeof(actor), "branch:%s", branch);
    rc = a && b ? catalog_audit(db, actor, "branch.holdings", branch, b, a) : DB_ERROR;

    free(b);
    free(a);
    return rc;
}

static int report_meta_put(sqlite3 *db, int64_t id, const struct fleet_report *r, int64_t now)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE branches SET received_at = ?2, version = ?3,"
                                      " free_bytes = ?4, reported_time = ?5 WHERE id = ?1");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, r->version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)r->free_bytes);
    sqlite3_bind_int64(st, 5, r->time);
    return db_exec_stmt(db, st);
}

static int branch_id(sqlite3 *db, const char *name, int64_t *id, char *exact, size_t cap)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id, name FROM branches WHERE name_folded = ?1");
    int rc = st ? DB_OK : DB_ERROR, step;

    if (rc != DB_OK)
        return rc;
    bind_folded(st, 1, name);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        db_column_text(st, 1, exact, cap);
    } else {
        rc = step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, "find branch");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Inside the report's transaction. */
static int report_apply(sqlite3 *db, const char *branch, const struct fleet_report *r, int64_t now,
                        const struct holdings *next, bool *changed)
{
    struct holdings before = {0};
    char name[SETTINGS_NAME_MAX];
    int64_t id = 0;
    int rc = branch_id(db, branch, &id, name, sizeof(name));

    if (rc == DB_OK)
        rc = holdings_read(db, id, &before);
    *changed = rc == DB_OK && !holdings_same(&before, next);
    if (rc == DB_OK && *changed)
        rc = holdings_replace(db, id, next);
    if (rc == DB_OK && *changed && holdings_states_differ(&before, next))
        rc = report_audit(db, name, &before, next);
    if (rc == DB_OK)
        rc = db_fleet_bump(db); /* every report: freshness is in the view */
    if (rc == DB_OK)
        rc = report_meta_put(db, id, r, now);
    free(before.v);
    return rc;
}

int fleet_report_store(sqlite3 *db, const char *branch, const struct fleet_report *r, int64_t now,
                       bool *changed)
{
    struct holdings next = {0};
    bool diff = false;
    int rc = DB_OK;

    if (r->free_bytes > FLEET_COUNT_MAX ||
        strnlen(r->version, FLEET_VERSION_MAX) >= FLEET_VERSION_MAX)
        rc = DB_CONFLICT;
    if (rc == DB_OK)
        rc = holdings_from_report(r, &next);
    if (rc == DB_OK)
        rc = db_begin(db);
    if (rc == DB_OK) {
        rc = report_apply(db, branch, r, now, &next, &diff);
        /* The provisioning generation never moves for a report. */
        if (rc == DB_OK)
            rc = db_commit_untracked(db);
        else
            db_rollback(db);
    }
    free(next.v);
    if (changed != NULL)
        *changed = rc == DB_OK && diff;
    return rc;
}

/* ---- the view ---- */

static int view_branches(sqlite3 *db, struct fleet_view *v, int64_t **ids)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id, name, address, received_at, version,"
                                      " free_bytes, reported_time FROM branches ORDER BY id");
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;
    size_t cap = 0;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct fleet_holder h = {.kind = FLEET_KIND_BRANCH};

        if (v->n_holders == cap) {
            size_t want = cap ? cap * 2 : 16;
            struct fleet_holder *p = realloc(v->holders, want * sizeof(*p));
            int64_t *q = realloc(*ids, want * sizeof(*q));

            if (p != NULL)
                v->holders = p;
            if (q != NULL)
                *ids = q;
            if (p == NULL || q == NULL) {
                rc = DB_ERROR;
                break;
            }
            cap = want;
        }
        (*ids)[v->n_holders] = sqlite3_column_int64(st, 0);
        db_column_text(st, 1, h.name, sizeof(h.name));
        db_column_text(st, 2, h.address, sizeof(h.address));
        h.received_at = sqlite3_column_int64(st, 3);
        db_column_text(st, 4, h.version, sizeof(h.version));
        h.free_bytes = (uint64_t)sqlite3_column_int64(st, 5);
        h.reported_time = sqlite3_column_int64(st, 6);
        v->holders[v->n_holders++] = h;
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "read branches");
    sqlite3_finalize(st);
    return rc;
}

static int view_read(sqlite3 *db, void *arg)
{
    struct fleet_view *v = arg;
    int64_t *ids = NULL;
    int rc = db_fleet_generation(db, &v->generation);

    if (rc == DB_OK)
        rc = view_branches(db, v, &ids);
    for (size_t i = 0; rc == DB_OK && i < v->n_holders; i++) {
        struct holdings h = {0};

        rc = holdings_read(db, ids[i], &h);
        v->holders[i].holdings = h.v;
        v->holders[i].n_holdings = h.n;
    }
    free(ids);
    if (rc == DB_OK)
        rc = probe_view_add(db, v); /* the probed hosts (db/probe.c) */
    if (rc == DB_OK)
        fleet_view_sort(v);
    return rc;
}

int fleet_view_load(sqlite3 *db, struct fleet_view **out)
{
    struct fleet_view *v = calloc(1, sizeof(*v));
    int rc = v ? db_read(db, view_read, v) : DB_ERROR;

    if (rc != DB_OK) {
        fleet_view_free(v);
        return rc;
    }
    *out = v;
    return DB_OK;
}

/* ---- what a holder must hold ---- */

struct seen_list {
    struct fleet_seen *v;
    size_t n, cap;
};

static int seen_add(void *arg, const struct provision_seen *row)
{
    struct seen_list *l = arg;
    struct fleet_seen x;

    if (settings_addr_parse(row->addr, &x.addr) != 0)
        return 0; /* an address that does not parse matches no rule */
    memcpy(x.mac, row->mac, sizeof(x.mac));
    if (grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v), 256) != 0)
        return DB_ERROR;
    l->v[l->n++] = x;
    return 0;
}

int fleet_seen_load(sqlite3 *db, struct fleet_seen **out, size_t *n)
{
    struct seen_list l = {0};
    int rc = devbulk_seen_each(db, seen_add, &l);

    if (rc != DB_OK) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    return DB_OK;
}

struct want_args {
    enum fleet_kind kind;
    const char *name;
    struct fleet_want *out;
};

/* Every holder's want list, kept per process for the settings generation it
 * was built at and at most FLEET_WANT_TTL_S (the last-seen addresses move
 * without a generation): a report costs a lookup, not a pass over every
 * device. */
#define FLEET_WANT_TTL_S 10
static pthread_mutex_t want_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char path[PATH_BUF];
    int64_t generation;
    int64_t built_at;
    bool valid;
    struct fleet_want_index index;
} want_cache;

static int want_rebuild(sqlite3 *db, const struct settings_snapshot *s, const char *path,
                        int64_t now)
{
    struct fleet_seen *seen = NULL;
    size_t n = 0;
    int rc = fleet_seen_load(db, &seen, &n);

    if (want_cache.valid)
        fleet_want_index_free(&want_cache.index);
    want_cache.valid = false;
    if (rc == DB_OK && fleet_want_index_build(s, seen, n, &want_cache.index) != 0)
        rc = DB_ERROR;
    free(seen);
    if (rc != DB_OK)
        return rc;
    snprintf(want_cache.path, sizeof(want_cache.path), "%s", path);
    want_cache.generation = s->generation;
    want_cache.built_at = now;
    want_cache.valid = true;
    return DB_OK;
}

static int want_read(sqlite3 *db, void *arg)
{
    struct want_args *a = arg;
    const struct settings_snapshot *s = NULL;
    const char *path = sqlite3_db_filename(db, "main");
    int64_t now = (int64_t)time(NULL);
    int rc = devbulk_snapshot_acquire(db, &s);

    if (rc != DB_OK)
        return rc;
    pthread_mutex_lock(&want_lock);
    if (!want_cache.valid || want_cache.generation != s->generation ||
        strcmp(want_cache.path, path != NULL ? path : "") != 0 ||
        now - want_cache.built_at >= FLEET_WANT_TTL_S || now < want_cache.built_at)
        rc = want_rebuild(db, s, path != NULL ? path : "", now);
    if (rc == DB_OK && fleet_want_index_get(&want_cache.index, a->kind, a->name, a->out) != 0)
        rc = DB_ERROR;
    pthread_mutex_unlock(&want_lock);
    devbulk_snapshot_release(s);
    return rc;
}

int fleet_want_load(sqlite3 *db, enum fleet_kind kind, const char *name, struct fleet_want *out)
{
    struct want_args a = {kind, name, out};

    memset(out, 0, sizeof(*out));
    return db_read(db, want_read, &a);
}
