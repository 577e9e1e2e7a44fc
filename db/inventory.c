/* inventory.c: SQL for the firmware inventory (phone_inventory, migration
 * 017). No policy here: db/model/inventory_status.c says what a row means. */
#include "db/inventory.h"

#include <string.h>

#include "db/db.h"

static int record_one(sqlite3 *db, const struct inventory_row *r)
{
    sqlite3_stmt *st = db_prepare(
        db, "INSERT OR REPLACE INTO phone_inventory (mac, addr, config_at, config_load, fw_load,"
            " files_done, files_total, fw_first, fw_last, source)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, r->mac, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->addr, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, r->config_at);
    sqlite3_bind_text(st, 4, r->config_load, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, r->fw_load, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, r->files_done);
    sqlite3_bind_int64(st, 7, r->files_total);
    sqlite3_bind_int64(st, 8, r->fw_first);
    sqlite3_bind_int64(st, 9, r->fw_last);
    sqlite3_bind_text(st, 10, r->source[0] ? r->source : "central", -1, SQLITE_TRANSIENT);
    return db_exec_stmt(db, st);
}

int inventory_record(sqlite3 *db, const struct inventory_row *rows, size_t n)
{
    int rc = n > 0 ? db_begin(db) : DB_OK;

    for (size_t i = 0; rc == DB_OK && i < n; i++)
        rc = record_one(db, &rows[i]);
    if (n > 0 && rc == DB_OK)
        return db_commit_untracked(db);
    if (n > 0)
        db_rollback(db);
    return rc;
}

static void row_from(sqlite3_stmt *st, struct inventory_row *r)
{
    memset(r, 0, sizeof(*r));
    db_column_text(st, 0, r->mac, sizeof(r->mac));
    db_column_text(st, 1, r->addr, sizeof(r->addr));
    r->config_at = sqlite3_column_int64(st, 2);
    db_column_text(st, 3, r->config_load, sizeof(r->config_load));
    db_column_text(st, 4, r->fw_load, sizeof(r->fw_load));
    r->files_done = (unsigned)sqlite3_column_int64(st, 5);
    r->files_total = (unsigned)sqlite3_column_int64(st, 6);
    r->fw_first = sqlite3_column_int64(st, 7);
    r->fw_last = sqlite3_column_int64(st, 8);
    db_column_text(st, 9, r->source, sizeof(r->source));
}

int inventory_rows_each(sqlite3 *db, int (*cb)(void *arg, const struct inventory_row *r), void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT mac, addr, config_at, config_load, fw_load,"
                                      " files_done, files_total, fw_first, fw_last, source"
                                      " FROM phone_inventory ORDER BY mac");
    struct inventory_row r;
    int rc = st ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        row_from(st, &r);
        rc = cb(arg, &r);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "read the firmware inventory");
    sqlite3_finalize(st);
    return rc;
}
