/* probe.c: the probes table: one result per (host, load), replaced in one
 * transaction that moves the fleet generation (a re-probe that finds the
 * same still moves the host's time, which the gate's freshness reads). */
#include "db/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/grow.h"

#define PROBE_COLUMNS "host, load, state, files_have, files_total, probed_at, why"

static void row_from_stmt(sqlite3_stmt *st, struct probe_row *r)
{
    char state[16];

    db_column_text(st, 0, r->host, sizeof(r->host));
    db_column_text(st, 1, r->load, sizeof(r->load));
    db_column_text(st, 2, state, sizeof(state));
    r->complete = strcmp(state, "complete") == 0;
    r->files_have = (unsigned)sqlite3_column_int64(st, 3);
    r->files_total = (unsigned)sqlite3_column_int64(st, 4);
    r->probed_at = sqlite3_column_int64(st, 5);
    db_column_text(st, 6, r->why, sizeof(r->why));
}

int probe_row_get(sqlite3 *db, const char *host, const char *load, struct probe_row *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " PROBE_COLUMNS " FROM probes"
                                      " WHERE host = ?1 AND load = ?2");
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, load, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    rc = step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, "read a probe result");
    if (step == SQLITE_ROW)
        row_from_stmt(st, out);
    sqlite3_finalize(st);
    return rc;
}

static bool same_result(const struct probe_row *a, const struct probe_row *b)
{
    return a->complete == b->complete && a->files_have == b->files_have &&
           a->files_total == b->files_total && strcmp(a->why, b->why) == 0;
}

static int row_write(sqlite3 *db, const struct probe_row *r)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT OR REPLACE INTO probes (" PROBE_COLUMNS ")"
                                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");

    if (st != NULL) {
        sqlite3_bind_text(st, 1, r->host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, r->load, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, r->complete ? "complete" : "incomplete", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, r->files_have);
        sqlite3_bind_int64(st, 5, r->files_total);
        sqlite3_bind_int64(st, 6, r->probed_at);
        sqlite3_bind_text(st, 7, r->why, -1, SQLITE_TRANSIENT);
    }
    return db_exec_stmt(db, st);
}

int probe_row_put(sqlite3 *db, const struct probe_row *r, bool *changed)
{
    struct probe_row old;
    bool differs = false;
    int rc = db_begin(db);

    if (rc != DB_OK)
        return rc;
    rc = probe_row_get(db, r->host, r->load, &old);
    if (rc == DB_OK || rc == DB_NOT_FOUND) {
        differs = rc == DB_NOT_FOUND || !same_result(&old, r);
        rc = row_write(db, r);
    }
    /* Always: the host's time (its oldest result's) is what the gate's
     * freshness reads, and loadsd's fleet view is rebuilt only when the
     * fleet generation moves. Once per (host, load) per fleet_max_age_s / 2
     * besides the changes: a cheap rebuild, never a settings one. */
    if (rc == DB_OK)
        rc = db_fleet_bump(db);
    if (rc == DB_OK)
        rc = db_commit_untracked(db);
    else
        db_rollback(db);
    if (changed != NULL)
        *changed = rc == DB_OK && differs;
    return rc;
}

int probe_rows_each(sqlite3 *db, const char *host, int (*cb)(void *arg, const struct probe_row *r),
                    void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " PROBE_COLUMNS " FROM probes"
                                      " WHERE ?1 IS NULL OR host = ?1 ORDER BY host, load");
    struct probe_row r;
    int rc = DB_OK, step = SQLITE_DONE;

    if (st == NULL)
        return DB_ERROR;
    if (host != NULL)
        sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        row_from_stmt(st, &r);
        rc = cb(arg, &r);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list probe results");
    sqlite3_finalize(st);
    return rc;
}

/* The rows keep() refuses, collected first (no delete while reading). */
struct probe_drop {
    bool (*keep)(void *arg, const char *host, const char *load);
    void *arg;
    struct probe_row *v;
    size_t n, cap;
};

static int drop_collect(void *arg, const struct probe_row *r)
{
    struct probe_drop *d = arg;

    if (d->keep(d->arg, r->host, r->load))
        return 0;
    if (grow_array((void **)&d->v, &d->cap, d->n + 1, sizeof(*d->v), 16) != 0)
        return DB_ERROR;
    d->v[d->n++] = *r;
    return 0;
}

static int row_delete(sqlite3 *db, const struct probe_row *r)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM probes WHERE host = ?1 AND load = ?2");

    if (st != NULL) {
        sqlite3_bind_text(st, 1, r->host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, r->load, -1, SQLITE_TRANSIENT);
    }
    return db_exec_stmt(db, st);
}

int probe_rows_retain(sqlite3 *db, bool (*keep)(void *arg, const char *host, const char *load),
                      void *arg, unsigned *removed)
{
    struct probe_drop d = {keep, arg, NULL, 0, 0};
    int rc = db_begin(db);

    if (rc != DB_OK)
        return rc;
    rc = probe_rows_each(db, NULL, drop_collect, &d);
    for (size_t i = 0; rc == DB_OK && i < d.n; i++)
        rc = row_delete(db, &d.v[i]);
    if (rc == DB_OK && d.n > 0)
        rc = db_fleet_bump(db);
    if (rc == DB_OK)
        rc = db_commit_untracked(db);
    else
        db_rollback(db);
    if (removed != NULL)
        *removed = rc == DB_OK ? (unsigned)d.n : 0;
    free(d.v);
    return rc;
}

/* ---- the fleet view ---- */

static int holding_add(struct fleet_holder *h, const struct probe_row *r)
{
    struct fleet_holding *nv = realloc(h->holdings, (h->n_holdings + 1) * sizeof(*nv));
    struct fleet_holding *x;

    if (nv == NULL)
        return DB_ERROR;
    h->holdings = nv;
    x = &nv[h->n_holdings++];
    memset(x, 0, sizeof(*x));
    snprintf(x->load, sizeof(x->load), "%s", r->load);
    x->state = r->complete ? FLEET_COMPLETE : FLEET_INCOMPLETE;
    x->files_have = r->files_have;
    x->files_total = r->files_total;
    x->eta_s = FLEET_ETA_UNKNOWN;
    return 0;
}

/* Hands the host being built to the view (fleet_view_add copies it). */
static int host_flush(struct fleet_view *v, struct fleet_holder *h)
{
    int rc = 0;

    if (h->name[0] != '\0' && fleet_view_add(v, h) != 0)
        rc = DB_ERROR;
    free(h->holdings);
    memset(h, 0, sizeof(*h));
    return rc;
}

struct probe_view_walk {
    struct fleet_view *v;
    struct fleet_holder h; /* the host being built (rows come by host) */
};

static int view_row(void *arg, const struct probe_row *r)
{
    struct probe_view_walk *w = arg;

    if (strcasecmp(w->h.name, r->host) != 0) {
        if (host_flush(w->v, &w->h) != 0)
            return DB_ERROR;
        w->h.kind = FLEET_KIND_PROBED;
        snprintf(w->h.name, sizeof(w->h.name), "%s", r->host);
        snprintf(w->h.address, sizeof(w->h.address), "%s", r->host);
        w->h.received_at = r->probed_at;
    }
    if (r->probed_at < w->h.received_at)
        w->h.received_at = r->probed_at;
    return holding_add(&w->h, r);
}

int probe_view_add(sqlite3 *db, struct fleet_view *v)
{
    struct probe_view_walk w = {.v = v};
    int rc = probe_rows_each(db, NULL, view_row, &w);

    if (rc == DB_OK)
        return host_flush(v, &w.h);
    free(w.h.holdings);
    return rc;
}
