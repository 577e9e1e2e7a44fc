/* probe.c: the probes table: one result per (host, load), replaced in one
 * transaction that moves the fleet generation only when what a gate reads
 * changed (a re-probe that finds the same only refreshes probed_at). */
#include "db/probe.h"

#include <string.h>

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

static int fleet_generation_bump(sqlite3 *db)
{
    return db_exec_stmt(db, db_prepare(db, "UPDATE meta SET value = value + 1"
                                           " WHERE key = 'fleet_generation'"));
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
    if (rc == DB_OK && differs)
        rc = fleet_generation_bump(db);
    if (rc == DB_OK)
        rc = db_commit_untracked(db);
    else
        db_rollback(db);
    if (changed != NULL)
        *changed = rc == DB_OK && differs;
    return rc;
}

int probe_rows_each(sqlite3 *db, const char *host,
                    int (*cb)(void *arg, const struct probe_row *r), void *arg)
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

int probe_fleet_generation(sqlite3 *db, int64_t *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT value FROM meta WHERE key = 'fleet_generation'");
    int rc = DB_ERROR;

    if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = DB_OK;
    }
    sqlite3_finalize(st);
    return rc;
}
