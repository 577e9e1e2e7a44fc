/* jobrows.c: the jobs table: a job's row from queued to done or failed,
 * and the history read back. Prepared statements only. Nothing a phone is
 * served reads a job's row: its commits leave the provisioning generation. */
#include "db/jobrows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/catalog.h"
#include "lib/grow.h"

static int row_insert(sqlite3 *db, const char *kind, const char *source, const char *actor,
                      int64_t now, int64_t *id)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO jobs (kind, source, actor, state, created_at)"
                                      " VALUES (?4, ?1, ?2, 'queued', ?3) RETURNING id");
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    rc = db_check(db, step, "add job");
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int jobrows_add(sqlite3 *db, const char *kind, const char *source, const char *actor, int64_t now,
                int64_t *id)
{
    int rc = db_begin(db);

    if (rc == DB_OK)
        rc = row_insert(db, kind, source, actor, now, id);
    if (rc == DB_OK)
        rc = db_commit_untracked(db);
    else
        db_rollback(db);
    return rc;
}

int jobrows_rename(sqlite3 *db, int64_t id, const char *source, const char *actor)
{
    char job[32];
    int rc = db_begin(db);

    if (rc == DB_OK) {
        sqlite3_stmt *st = db_prepare(db, "UPDATE jobs SET source = ?2 WHERE id = ?1");

        if (st != NULL) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, source, -1, SQLITE_TRANSIENT);
        }
        rc = db_exec_stmt(db, st);
    }
    snprintf(job, sizeof(job), "job %lld", (long long)id);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "upload.start", source, NULL, job);
    if (rc == DB_OK)
        rc = db_commit_untracked(db);
    else
        db_rollback(db);
    return rc;
}

int jobrows_running(sqlite3 *db, int64_t id, uint64_t size)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE jobs SET state = 'running', size = ?2 WHERE id = ?1");

    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
    }
    return db_exec_stmt(db, st);
}

int jobrows_finish(sqlite3 *db, int64_t id, bool ok, int64_t import_id, const char *report,
                   int64_t now)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE jobs SET state = ?2, import_id = ?3, report = ?4,"
                                      " finished_at = ?5 WHERE id = ?1");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, ok ? "done" : "failed", -1, SQLITE_STATIC);
    if (import_id > 0)
        sqlite3_bind_int64(st, 3, import_id);
    sqlite3_bind_text(st, 4, report, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now);
    return db_exec_stmt(db, st);
}

struct unfinished {
    int64_t id;
    char source[1024]; /* an upload name or a path; longer ones are cut in the report only */
};

/* The unfinished jobs, read before any is changed. */
static int unfinished_read(sqlite3 *db, struct unfinished **v, size_t *n)
{
    sqlite3_stmt *st =
        db_prepare(db, "SELECT id, source FROM jobs WHERE state IN ('queued', 'running')");
    size_t cap = 0;
    int rc = DB_OK, step = SQLITE_DONE;

    if (st == NULL)
        return DB_ERROR;
    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow_array((void **)v, &cap, *n + 1, sizeof(**v), 8) != 0) {
            rc = DB_ERROR;
            break;
        }
        (*v)[*n].id = sqlite3_column_int64(st, 0);
        db_column_text(st, 1, (*v)[*n].source, sizeof((*v)[*n].source));
        (*n)++;
    }
    if (rc == DB_OK && step != SQLITE_DONE)
        rc = DB_ERROR;
    sqlite3_finalize(st);
    return rc;
}

int jobrows_recover(sqlite3 *db, int64_t now, char *(*report)(void *arg, const char *source),
                    void *arg, int *changed)
{
    struct unfinished *v = NULL;
    size_t n = 0;
    int rc = db_begin(db);

    *changed = 0;
    if (rc != DB_OK)
        return rc;
    rc = unfinished_read(db, &v, &n);
    for (size_t i = 0; rc == DB_OK && i < n; i++) {
        char *text = report(arg, v[i].source);

        rc = text != NULL ? jobrows_finish(db, v[i].id, false, 0, text, now) : DB_ERROR;
        free(text);
    }
    rc = rc == DB_OK ? db_commit_untracked(db) : rc;
    if (rc != DB_OK)
        db_rollback(db);
    else
        *changed = (int)n;
    free(v);
    return rc;
}

/* ---- reading ---- */

static const char *column_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

/* Columns: id, kind, source, actor, state, size, import_id, created_at,
 * finished_at, then the report (or its summary) from col 9. */
#define JOB_COLUMNS "id, kind, source, actor, state, size, import_id, created_at, finished_at"

static void row_read(sqlite3_stmt *st, struct jobrow *r)
{
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    r->kind = column_text(st, 1);
    r->source = column_text(st, 2);
    r->actor = column_text(st, 3);
    r->state = column_text(st, 4);
    r->size = sqlite3_column_int64(st, 5);
    r->has_import_id = sqlite3_column_type(st, 6) != SQLITE_NULL;
    r->import_id = sqlite3_column_int64(st, 6);
    r->created_at = sqlite3_column_int64(st, 7);
    r->finished = sqlite3_column_type(st, 8) != SQLITE_NULL;
    r->finished_at = sqlite3_column_int64(st, 8);
}

int jobrows_get(sqlite3 *db, int64_t id, int (*cb)(void *arg, const struct jobrow *r), void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " JOB_COLUMNS ", report FROM jobs WHERE id = ?1");
    struct jobrow r;
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    rc = step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, "read job");
    if (step == SQLITE_ROW) {
        row_read(st, &r);
        r.report = column_text(st, 9);
        rc = cb(arg, &r);
    }
    sqlite3_finalize(st);
    return rc;
}

static void summary_read(sqlite3_stmt *st, struct jobrow *r)
{
    r->has_summary = sqlite3_column_type(st, 9) != SQLITE_NULL;
    r->ok = sqlite3_column_int(st, 9) != 0;
    r->loads = column_text(st, 10);
    r->problems = sqlite3_column_int64(st, 11);
}

int jobrows_each(sqlite3 *db, int64_t before, unsigned limit,
                 int (*cb)(void *arg, const struct jobrow *r), void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT " JOB_COLUMNS ", json_extract(report, '$.ok'),"
                                      " (SELECT json_group_array(json_extract(value, '$.name'))"
                                      "  FROM json_each(report, '$.loads')),"
                                      " json_array_length(report, '$.problems') FROM jobs"
                                      " WHERE id < ?1 ORDER BY id DESC LIMIT ?2");
    struct jobrow r;
    int rc = DB_OK, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int64(st, 2, limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        row_read(st, &r);
        summary_read(st, &r);
        rc = cb(arg, &r);
        if (rc != 0)
            break;
    }
    if (rc == DB_OK && step != SQLITE_DONE)
        rc = db_check(db, step, "list jobs");
    sqlite3_finalize(st);
    return rc;
}

int jobrows_rejected_set(sqlite3 *db, int64_t id, const char *csv)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE jobs SET rejected_csv = ?2 WHERE id = ?1");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, csv, -1, SQLITE_TRANSIENT);
    return db_exec_stmt(db, st);
}

int jobrows_rejected_get(sqlite3 *db, int64_t id, char **out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT rejected_csv FROM jobs WHERE id = ?1");
    const char *text;
    int rc, step;

    *out = NULL;
    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    rc = step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, "read a job's rejected rows");
    text = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (step == SQLITE_ROW && text == NULL)
        rc = DB_NOT_FOUND;
    if (text != NULL && (*out = strdup(text)) == NULL)
        rc = DB_ERROR;
    sqlite3_finalize(st);
    return rc;
}
