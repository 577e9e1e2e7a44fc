/* db.h: the catalog database: SQLite in WAL mode with a busy timeout and
 * foreign keys, migrations applied in one transaction each, write
 * transactions that bump the generation counter readers poll. */
#ifndef LOADSD_DB_H
#define LOADSD_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define DB_BUSY_TIMEOUT_MS 10000

struct db_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct db_migration db_migrations[];
extern const unsigned db_migrations_count;

/* Results: 0, or one of these. */
enum db_result {
    DB_OK = 0,
    DB_ERROR = -1,     /* SQLite failed; the message went to the log */
    DB_NOT_FOUND = -2, /* no such row */
    DB_CONFLICT = -3,  /* a constraint would be broken */
    DB_TOO_NEW = -4,   /* the file's schema is newer than this program */
    DB_NO_BRANCH = -5, /* a load_server value names no registered branch (docs/FLEET.md) */
};

/* Opens (creating) path, sets WAL, busy timeout and foreign keys, and applies
 * missing migrations. 0, or a negative db_result. */
int db_open(const char *path, sqlite3 **out);
void db_close(sqlite3 *db);
/* Opens read-only without migrating (for the server's snapshot reader). */
int db_open_readonly(const char *path, sqlite3 **out);

/* BEGIN IMMEDIATE (a writer waits for the busy timeout, then fails). */
int db_begin(sqlite3 *db);
/* Bumps the generation and commits. */
int db_commit(sqlite3 *db);
/* Commits without moving the generation: for bookkeeping that no snapshot
 * reads (where phones were seen from), so readers do not rebuild for it. */
int db_commit_untracked(sqlite3 *db);
void db_rollback(sqlite3 *db);
/* Runs fn in one read transaction, so that everything it reads is one
 * committed state (inside a transaction already open: in that one). fn's
 * result, or a negative db_result when the transaction cannot begin. */
int db_read(sqlite3 *db, int (*fn)(sqlite3 *db, void *arg), void *arg);

/* The generation counter: every committed write moves it. */
int db_generation(sqlite3 *db, int64_t *out);
/* The fleet generation (docs/FLEET.md): moved by branch writes and by
 * reports whose holdings changed, never by db_commit; the fleet view is
 * rebuilt when it moves. db_fleet_bump moves it inside the caller's write
 * transaction. */
int db_fleet_generation(sqlite3 *db, int64_t *out);
int db_fleet_bump(sqlite3 *db);
int db_schema_version(sqlite3 *db);

/* Prepares sql (a static string) or logs why not. NULL on error. */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);
/* Steps a statement that returns no row; finalizes it. 0 or DB_ERROR/DB_CONFLICT. */
int db_exec_stmt(sqlite3 *db, sqlite3_stmt *st);
/* Maps an SQLite result code to a db_result, logging the error. */
int db_check(sqlite3 *db, int rc, const char *what);
/* The first column of the one row sql (a static string, no parameters)
 * returns, such as a count(*). 0 or DB_ERROR (logged; *out is 0). */
int db_int(sqlite3 *db, const char *sql, int64_t *out);

/* Reads a TEXT column into out (cap bytes), "" for NULL, as well-formed UTF-8
 * (text_repair: a byte that is not becomes U+FFFD); truncates safely. */
void db_column_text(sqlite3_stmt *st, int col, char *out, size_t cap);

#endif
