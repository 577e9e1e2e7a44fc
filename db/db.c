/* db.c: opening and migrating the catalog database, transactions and the
 * generation counter. Every statement is prepared; no SQL is built from text. */
#include "db/db.h"

#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/text.h"

int db_check(sqlite3 *db, int rc, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
        return DB_OK;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return DB_CONFLICT;
    log_error("database: %s: %s", what, sqlite3_errmsg(db));
    return DB_ERROR;
}

int db_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = db_prepare(db, sql);
    int rc = DB_ERROR, step;

    *out = 0;
    if (st == NULL)
        return DB_ERROR;
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = DB_OK;
    } else if (db_check(db, step, sql) == DB_OK) {
        log_error("database: %s: no row", sql);
    }
    sqlite3_finalize(st);
    return rc;
}

sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("database: cannot prepare statement: %s", sqlite3_errmsg(db));
        return NULL;
    }
    return st;
}

int db_exec_stmt(sqlite3 *db, sqlite3_stmt *st)
{
    int rc;

    if (st == NULL)
        return DB_ERROR;
    rc = db_check(db, sqlite3_step(st), "statement");
    sqlite3_finalize(st);
    return rc;
}

static int exec_static(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

    if (rc != SQLITE_OK) {
        log_error("database: %s", err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        return (rc & 0xff) == SQLITE_CONSTRAINT ? DB_CONFLICT : DB_ERROR;
    }
    return DB_OK;
}

int db_schema_version(sqlite3 *db)
{
    sqlite3_stmt *st = db_prepare(db, "PRAGMA user_version");
    int v = -1;

    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int set_schema_version(sqlite3 *db, int version)
{
    char sql[64];

    /* PRAGMA takes no bound parameters; version is our own integer. */
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
    return exec_static(db, sql);
}

/* Applies each missing migration in its own transaction, with its version. */
static int migrate(sqlite3 *db)
{
    int current = db_schema_version(db), rc = DB_OK;
    int latest = db_migrations[db_migrations_count - 1].version;

    if (current < 0)
        return DB_ERROR;
    if (current > latest) {
        log_error("database schema version %d is newer than this program (%d)", current, latest);
        return DB_TOO_NEW;
    }
    for (unsigned i = 0; i < db_migrations_count && rc == DB_OK; i++) {
        const struct db_migration *m = &db_migrations[i];

        if (m->version <= current)
            continue;
        rc = exec_static(db, "BEGIN IMMEDIATE");
        if (rc == DB_OK)
            rc = db_schema_version(db) >= m->version ? DB_OK : exec_static(db, m->sql);
        if (rc == DB_OK)
            rc = set_schema_version(db, m->version);
        if (rc == DB_OK)
            rc = exec_static(db, "COMMIT");
        if (rc != DB_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            log_error("database migration %s failed", m->name);
        } else {
            log_debug("database migrated to %s", m->name);
        }
    }
    return rc;
}

static int open_common(const char *path, int flags, sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        log_error("cannot open database %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return DB_ERROR;
    }
    sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    *out = db;
    return DB_OK;
}

int db_open(const char *path, sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc = open_common(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db);

    if (rc != DB_OK)
        return rc;
    /* WAL: readers never block the writer; synchronous=FULL: a commit
     * survives power loss, which publication relies on. */
    rc = exec_static(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                         "PRAGMA foreign_keys = ON;");
    if (rc == DB_OK)
        rc = migrate(db);
    if (rc != DB_OK) {
        sqlite3_close(db);
        return rc;
    }
    *out = db;
    return DB_OK;
}

int db_open_readonly(const char *path, sqlite3 **out)
{
    return open_common(path, SQLITE_OPEN_READONLY, out);
}

void db_close(sqlite3 *db)
{
    sqlite3_close(db);
}

int db_begin(sqlite3 *db)
{
    return exec_static(db, "BEGIN IMMEDIATE");
}

int db_commit(sqlite3 *db)
{
    int rc = exec_static(db, "UPDATE meta SET value = value + 1 WHERE key = 'generation'");

    if (rc == DB_OK)
        rc = exec_static(db, "COMMIT");
    if (rc != DB_OK)
        db_rollback(db);
    return rc;
}

int db_commit_untracked(sqlite3 *db)
{
    int rc = exec_static(db, "COMMIT");

    if (rc != DB_OK)
        db_rollback(db);
    return rc;
}

void db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int db_read(sqlite3 *db, int (*fn)(sqlite3 *db, void *arg), void *arg)
{
    int rc;

    if (!sqlite3_get_autocommit(db))
        return fn(db, arg);
    rc = exec_static(db, "BEGIN");
    if (rc != DB_OK)
        return rc;
    rc = fn(db, arg);
    if (!sqlite3_get_autocommit(db))
        exec_static(db, "COMMIT");
    return rc;
}

/* A counter of meta; DB_ERROR when the row is missing. */
static int meta_counter(sqlite3 *db, const char *key, int64_t *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT value FROM meta WHERE key = ?1");
    int rc = DB_ERROR;

    if (st != NULL) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = DB_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int db_generation(sqlite3 *db, int64_t *out)
{
    return meta_counter(db, "generation", out);
}

int db_fleet_generation(sqlite3 *db, int64_t *out)
{
    return meta_counter(db, "fleet_generation", out);
}

int db_fleet_bump(sqlite3 *db)
{
    return exec_static(db, "UPDATE meta SET value = value + 1 WHERE key = 'fleet_generation'");
}

void db_column_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, col);

    /* Repaired, not trusted: rows written before the text rule (or by
     * hand) may hold bytes that are not UTF-8, and no reader may fail on
     * them. A cut never splits a character. */
    text_repair(t != NULL ? t : "", t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0, out,
                cap);
}
