/* catalog.c: reads and writes of the catalog's rows with prepared statements.
 * No transaction policy here (callers decide) and no file I/O. */
#include "db/catalog.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db/model/sigstatus.h"
#include "lib/grow.h"

void catalog_fold(const char *in, char *out, size_t cap)
{
    size_t i = 0;

    if (cap == 0)
        return;
    for (; in[i] != '\0' && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static void bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s == NULL || s[0] == '\0')
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}

static void bind_folded(sqlite3_stmt *st, int idx, const char *name)
{
    char folded[CATALOG_NAME_MAX];

    catalog_fold(name, folded, sizeof(folded));
    sqlite3_bind_text(st, idx, folded, -1, SQLITE_TRANSIENT);
}

/* ---- files ---- */

/* A signature check counts only while its certificate is a trusted vendor
 * certificate: removing one from the trust store takes its checks away. */
#define TRUSTED_CHECK(result)                                                                      \
    "EXISTS (SELECT 1 FROM sig_checks c JOIN trust t ON t.sha256 = c.cert_sha256"                  \
    " WHERE c.sha256 = f.sha256 AND t.role = 'vendor' AND c.result = '" result "')"
#define FILE_SIGNATURE                                                                             \
    "CASE WHEN f.signature = 'none' THEN 'none' WHEN " TRUSTED_CHECK(                              \
        "bad") " THEN 'bad'"                                                                       \
               " WHEN " TRUSTED_CHECK("ok") " THEN 'verified' ELSE 'signed' END"
#define FILE_COLUMNS                                                                               \
    "f.id, f.name, f.size, f.sha256, f.status, " FILE_SIGNATURE ", f.signer, f.sig_serial,"        \
    " f.sig_issuer, f.sig_hash"

static void file_from_row(sqlite3_stmt *st, struct catalog_file *f)
{
    f->id = sqlite3_column_int64(st, 0);
    db_column_text(st, 1, f->name, sizeof(f->name));
    f->size = (uint64_t)sqlite3_column_int64(st, 2);
    db_column_text(st, 3, f->sha256, sizeof(f->sha256));
    db_column_text(st, 4, f->status, sizeof(f->status));
    db_column_text(st, 5, f->signature, sizeof(f->signature));
    db_column_text(st, 6, f->signer, sizeof(f->signer));
    db_column_text(st, 7, f->sig_serial, sizeof(f->sig_serial));
    db_column_text(st, 8, f->sig_issuer, sizeof(f->sig_issuer));
    db_column_text(st, 9, f->sig_hash, sizeof(f->sig_hash));
}

int catalog_file_find(sqlite3 *db, const char *name, struct catalog_file *out)
{
    sqlite3_stmt *st =
        db_prepare(db, "SELECT " FILE_COLUMNS " FROM files f WHERE f.name_folded = ?1");
    int rc = DB_ERROR, step;

    if (st == NULL)
        return rc;
    bind_folded(st, 1, name);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        file_from_row(st, out);
        rc = DB_OK;
    } else {
        rc = step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, "find file");
    }
    sqlite3_finalize(st);
    return rc;
}

int catalog_file_put(sqlite3 *db, const struct catalog_file *f, int64_t *id)
{
    sqlite3_stmt *st = db_prepare(
        db, "INSERT INTO files (name, name_folded, size, sha256, status, signature, signer,"
            " created_at, sig_serial, sig_issuer, sig_hash)"
            " VALUES (?1, ?2, ?3, ?4, 'ok', ?5, ?6, ?7, ?8, ?9, ?10)"
            " ON CONFLICT (name_folded) DO UPDATE SET name = excluded.name,"
            " size = excluded.size, sha256 = excluded.sha256, status = 'ok',"
            " signature = excluded.signature, signer = excluded.signer,"
            " sig_serial = excluded.sig_serial, sig_issuer = excluded.sig_issuer,"
            " sig_hash = excluded.sig_hash RETURNING id");
    bool header = f->signature[0] != '\0' && strcmp(f->signature, "none") != 0;
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, f->name, -1, SQLITE_TRANSIENT);
    bind_folded(st, 2, f->name);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)f->size);
    sqlite3_bind_text(st, 4, f->sha256, -1, SQLITE_TRANSIENT);
    /* What the import saw: a header or none; the rest is derived on read. */
    sqlite3_bind_text(st, 5, header ? "signed" : "none", -1, SQLITE_STATIC);
    bind_text(st, 6, f->signer);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
    bind_text(st, 8, header ? f->sig_serial : NULL);
    bind_text(st, 9, header ? f->sig_issuer : NULL);
    bind_text(st, 10, header ? f->sig_hash : NULL);
    step = sqlite3_step(st);
    rc = db_check(db, step, "store file");
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int catalog_file_set_status(sqlite3 *db, const char *sha256, const char *status, int *changed)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE files SET status = ?2, checked_at = ?3"
                                      " WHERE sha256 = ?1 AND status != ?2");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    rc = db_check(db, sqlite3_step(st), "set file status");
    if (changed != NULL)
        *changed = sqlite3_changes(db);
    sqlite3_finalize(st);
    return rc;
}

int catalog_file_checked(sqlite3 *db, const char *sha256)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE files SET checked_at = ?2 WHERE sha256 = ?1");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
    return db_exec_stmt(db, st);
}

int catalog_files_each(sqlite3 *db, const char *load_name,
                       int (*cb)(void *arg, const struct catalog_file *f), void *arg)
{
    sqlite3_stmt *st =
        load_name == NULL
            ? db_prepare(db, "SELECT " FILE_COLUMNS " FROM files f ORDER BY f.name_folded")
            : db_prepare(db, "SELECT " FILE_COLUMNS " FROM files f"
                             " JOIN load_files lf ON lf.file_id = f.id"
                             " JOIN loads l ON l.id = lf.load_id"
                             " WHERE l.name_folded = ?1"
                             " ORDER BY f.id = l.loads_file_id DESC, f.name_folded");
    struct catalog_file f;
    int rc = DB_OK, step = SQLITE_DONE;

    if (st == NULL)
        return DB_ERROR;
    if (load_name != NULL)
        bind_folded(st, 1, load_name);
    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        file_from_row(st, &f);
        rc = cb(arg, &f);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list files");
    sqlite3_finalize(st);
    return rc;
}

int catalog_files_prune(sqlite3 *db, int *removed)
{
    sqlite3_stmt *st =
        db_prepare(db, "DELETE FROM files WHERE id NOT IN (SELECT file_id FROM load_files)"
                       " AND id NOT IN (SELECT loads_file_id FROM loads)");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    rc = db_check(db, sqlite3_step(st), "prune files");
    if (removed != NULL)
        *removed = sqlite3_changes(db);
    sqlite3_finalize(st);
    /* Checks of bytes no file holds any more are facts nobody asks about. */
    if (rc == DB_OK)
        rc = db_exec_stmt(db, db_prepare(db, "DELETE FROM sig_checks WHERE sha256 NOT IN"
                                             " (SELECT sha256 FROM files)"));
    return rc;
}

int catalog_blob_referenced(sqlite3 *db, const char *sha256, bool *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM files WHERE sha256 = ?1 LIMIT 1");
    int step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    *out = step == SQLITE_ROW;
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? DB_OK : db_check(db, step, "blob ref");
}

int catalog_blob_collectable(sqlite3 *db, const char *sha256, bool *out)
{
    sqlite3_stmt *st =
        db_prepare(db, "SELECT EXISTS (SELECT 1 FROM released_blobs WHERE sha256 = ?1)"
                       " AND NOT EXISTS (SELECT 1 FROM files WHERE sha256 = ?1)");
    int step;

    *out = false;
    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? DB_OK : db_check(db, step, "blob collectable");
}

int catalog_blob_release(sqlite3 *db, const char *sha256)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT OR REPLACE INTO released_blobs (sha256, released_at)"
                                      " VALUES (?1, ?2)");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
    return db_exec_stmt(db, st);
}

int catalog_released_prune(sqlite3 *db, int64_t before)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM released_blobs WHERE released_at < ?1");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, before);
    return db_exec_stmt(db, st);
}

/* ---- loads ---- */

/* A load's facts, one row per load: its files counted by what is known about
 * them now (sigstatus.h turns them into the status), the policy, and the
 * weakest file. The statement is LOAD_SELECT [WHERE ...] LOAD_GROUP. */
#define FILE_RANK                                                                                  \
    "CASE WHEN f.status = 'quarantined' THEN 0 WHEN " TRUSTED_CHECK(                               \
        "bad") " THEN 1"                                                                           \
               " WHEN f.signature = 'none' THEN 2 ELSE 3 END"
#define LOAD_SELECT                                                                                \
    "SELECT l.id, l.name, l.signer, l.approved_by, l.created_at, l.import_id,"                     \
    " count(f.id), coalesce(sum(f.size), 0), sum(f.status = 'quarantined'),"                       \
    " sum(" TRUSTED_CHECK("bad") "), sum(" TRUSTED_CHECK(                                          \
        "ok") "), sum(f.signature = 'none'),"                                                      \
              " (SELECT lf2.signature != 'none' FROM files lf2 WHERE lf2.id = l.loads_file_id),"   \
              " EXISTS (SELECT 1 FROM trust t WHERE t.role = 'approval' AND t.sha256 = "           \
              "l.approval_cert),"                                                                  \
              " (SELECT value FROM settings WHERE key = 'signature_policy'),"                      \
              " (SELECT f.name FROM load_files lf JOIN files f ON f.id = lf.file_id"               \
              "  WHERE lf.load_id = l.id AND " FILE_RANK " < 3 ORDER BY " FILE_RANK                \
              ", f.name_folded"                                                                    \
              "  LIMIT 1), l.approval_cert,"                                                       \
              " (SELECT i.source FROM imports i WHERE i.id = l.import_id)"                         \
              " FROM loads l LEFT JOIN load_files lf ON lf.load_id = l.id"                         \
              " LEFT JOIN files f ON f.id = lf.file_id"
#define LOAD_GROUP " GROUP BY l.id"

static void load_from_row(sqlite3_stmt *st, struct catalog_load *l)
{
    struct sigstatus_facts facts = {0};
    enum sigstatus status;

    l->id = sqlite3_column_int64(st, 0);
    db_column_text(st, 1, l->name, sizeof(l->name));
    db_column_text(st, 2, l->signer, sizeof(l->signer));
    db_column_text(st, 3, l->approved_by, sizeof(l->approved_by));
    l->created_at = sqlite3_column_int64(st, 4);
    l->import_id = sqlite3_column_int64(st, 5);
    l->file_count = (unsigned)sqlite3_column_int(st, 6);
    l->total_size = (uint64_t)sqlite3_column_int64(st, 7);
    facts.files = l->file_count;
    facts.quarantined = (unsigned)sqlite3_column_int(st, 8);
    facts.bad = (unsigned)sqlite3_column_int(st, 9);
    facts.verified = (unsigned)sqlite3_column_int(st, 10);
    facts.unsigned_ = (unsigned)sqlite3_column_int(st, 11);
    facts.loads_signed = sqlite3_column_int(st, 12) != 0;
    facts.approved = sqlite3_column_int(st, 13) != 0;
    db_column_text(st, 14, l->policy, sizeof(l->policy));
    if (l->policy[0] == '\0')
        snprintf(l->policy, sizeof(l->policy), "signed");
    db_column_text(st, 15, l->culprit, sizeof(l->culprit));
    db_column_text(st, 16, l->approval_cert, sizeof(l->approval_cert));
    db_column_text(st, 17, l->origin, sizeof(l->origin));
    status = sigstatus_derive(&facts);
    snprintf(l->status, sizeof(l->status), "%s", sigstatus_name(status));
    l->served = sigstatus_allowed(status, l->policy);
    facts.quarantined = 0;
    snprintf(l->signature, sizeof(l->signature), "%s", sigstatus_name(sigstatus_derive(&facts)));
    l->policy_ok = sigstatus_allowed(sigstatus_derive(&facts), l->policy);
    if (status == SIGSTATUS_VERIFIED || status == SIGSTATUS_SIGNED)
        l->culprit[0] = '\0';
}

int catalog_load_find(sqlite3 *db, const char *name, struct catalog_load *out)
{
    sqlite3_stmt *st = db_prepare(db, LOAD_SELECT " WHERE l.name_folded = ?1" LOAD_GROUP);
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, name);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        load_from_row(st, out);
        rc = DB_OK;
    } else {
        rc = step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, "find load");
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_link_files(sqlite3 *db, int64_t load_id, const int64_t *file_ids, size_t n)
{
    sqlite3_stmt *del = db_prepare(db, "DELETE FROM load_files WHERE load_id = ?1");
    sqlite3_stmt *ins = db_prepare(db, "INSERT OR IGNORE INTO load_files (load_id, file_id)"
                                       " VALUES (?1, ?2)");
    int rc = del && ins ? DB_OK : DB_ERROR;

    if (rc == DB_OK) {
        sqlite3_bind_int64(del, 1, load_id);
        rc = db_check(db, sqlite3_step(del), "unlink load files");
    }
    for (size_t i = 0; rc == DB_OK && i < n; i++) {
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, load_id);
        sqlite3_bind_int64(ins, 2, file_ids[i]);
        rc = db_check(db, sqlite3_step(ins), "link load file");
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    return rc;
}

int catalog_load_put(sqlite3 *db, const struct catalog_load *l, int64_t loads_file_id,
                     const int64_t *file_ids, size_t n, int64_t *id)
{
    sqlite3_stmt *st =
        db_prepare(db, "INSERT INTO loads (name, name_folded, loads_file_id, signature, signer,"
                       " approved_by, import_id, created_at, approval_cert)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                       " ON CONFLICT (name_folded) DO UPDATE SET name = excluded.name,"
                       " loads_file_id = excluded.loads_file_id, signature = excluded.signature,"
                       " signer = excluded.signer, approved_by = excluded.approved_by,"
                       " import_id = excluded.import_id, approval_cert = excluded.approval_cert"
                       " RETURNING id");
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, l->name, -1, SQLITE_TRANSIENT);
    bind_folded(st, 2, l->name);
    sqlite3_bind_int64(st, 3, loads_file_id);
    /* The column keeps what the .loads file's own header was at import. */
    sqlite3_bind_text(st, 4, strcmp(l->signature, "unsigned") == 0 ? "unsigned" : "signed", -1,
                      SQLITE_STATIC);
    bind_text(st, 5, l->signer);
    bind_text(st, 6, l->approved_by);
    if (l->import_id > 0)
        sqlite3_bind_int64(st, 7, l->import_id);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
    bind_text(st, 9, l->approval_cert);
    step = sqlite3_step(st);
    rc = db_check(db, step, "store load");
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == DB_OK)
        rc = load_link_files(db, *id, file_ids, n);
    return rc;
}

/* A removed load's use goes with it (a load of that name pulled again
 * starts from its import). */
static int load_used_forget(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM load_used WHERE name_folded = ?1");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, name);
    rc = db_check(db, sqlite3_step(st), "forget a load's use");
    sqlite3_finalize(st);
    return rc;
}

int catalog_load_remove(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM loads WHERE name_folded = ?1");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, name);
    rc = db_check(db, sqlite3_step(st), "remove load");
    if (rc == DB_OK && sqlite3_changes(db) == 0)
        rc = DB_NOT_FOUND;
    sqlite3_finalize(st);
    if (rc == DB_OK)
        rc = load_used_forget(db, name);
    if (rc == DB_OK)
        rc = catalog_files_prune(db, NULL);
    return rc;
}

static int load_used_one(sqlite3 *db, const struct catalog_use *u)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO load_used (name_folded, used_at) VALUES (?1, ?2)"
                                      " ON CONFLICT (name_folded) DO UPDATE"
                                      " SET used_at = max(used_at, excluded.used_at)");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    bind_folded(st, 1, u->name);
    sqlite3_bind_int64(st, 2, u->at);
    rc = db_check(db, sqlite3_step(st), "record a load's use");
    sqlite3_finalize(st);
    return rc;
}

int catalog_loads_used(sqlite3 *db, const struct catalog_use *v, size_t n)
{
    int rc = n > 0 ? db_begin(db) : DB_OK;

    for (size_t i = 0; rc == DB_OK && i < n; i++)
        rc = load_used_one(db, &v[i]);
    if (n > 0 && rc == DB_OK)
        return db_commit_untracked(db);
    if (n > 0)
        db_rollback(db);
    return rc;
}

int catalog_loads_each(sqlite3 *db, int (*cb)(void *arg, const struct catalog_load *l), void *arg)
{
    sqlite3_stmt *st = db_prepare(db, LOAD_SELECT LOAD_GROUP " ORDER BY l.name_folded");
    struct catalog_load l;
    int rc = DB_OK, step = SQLITE_DONE;

    if (st == NULL)
        return DB_ERROR;
    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        load_from_row(st, &l);
        rc = cb(arg, &l);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list loads");
    sqlite3_finalize(st);
    return rc;
}

/* ---- statuses before and after a change ---- */

static int status_collect(void *arg, const struct catalog_load *l)
{
    struct catalog_statuses *s = arg;
    struct catalog_status *e;

    if (grow_array((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v), 32) != 0)
        return DB_ERROR;
    e = &s->v[s->n++];
    snprintf(e->name, sizeof(e->name), "%s", l->name);
    snprintf(e->status, sizeof(e->status), "%s", l->status);
    e->served = l->served;
    return 0;
}

int catalog_statuses_get(sqlite3 *db, struct catalog_statuses *out)
{
    memset(out, 0, sizeof(*out));
    return catalog_loads_each(db, status_collect, out);
}

void catalog_statuses_free(struct catalog_statuses *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static const struct catalog_status *status_find(const struct catalog_statuses *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

/* The loads whose status or served flag differs, as a JSON array. */
static json_t *status_diff(const struct catalog_statuses *before,
                           const struct catalog_statuses *after)
{
    json_t *list = json_array();

    for (size_t i = 0; list != NULL && i < after->n; i++) {
        const struct catalog_status *a = &after->v[i], *b = status_find(before, a->name);

        if (b != NULL && strcmp(a->status, b->status) == 0 && a->served == b->served)
            continue;
        json_array_append_new(list, json_pack("{s:s, s:s?, s:s, s:b}", "load", a->name, "before",
                                              b ? b->status : NULL, "after", a->status, "served",
                                              a->served));
    }
    return list;
}

int catalog_statuses_audit(sqlite3 *db, const char *actor, const char *cause,
                           const struct catalog_statuses *before, unsigned *changed)
{
    struct catalog_statuses after;
    json_t *diff = NULL;
    char *text = NULL;
    int rc = catalog_statuses_get(db, &after);

    if (rc == DB_OK && (diff = status_diff(before, &after)) == NULL)
        rc = DB_ERROR;
    if (changed != NULL)
        *changed = rc == DB_OK ? (unsigned)json_array_size(diff) : 0;
    if (rc == DB_OK && json_array_size(diff) > 0) {
        text = json_dumps(diff, JSON_COMPACT);
        rc = text ? catalog_audit(db, actor, "loads.reevaluate", cause, NULL, text) : DB_ERROR;
    }
    free(text);
    json_decref(diff);
    catalog_statuses_free(&after);
    return rc;
}

/* ---- signature checks ---- */

int catalog_sig_check_put(sqlite3 *db, const char *sha256, const char *cert_sha256,
                          const char *result)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT OR REPLACE INTO sig_checks (sha256, cert_sha256,"
                                      " result, checked_at) VALUES (?1, ?2, ?3, ?4)");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, cert_sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, result, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
    return db_exec_stmt(db, st);
}

int catalog_sig_unchecked_each(sqlite3 *db, const char *cert_sha256,
                               int (*cb)(void *arg, const struct catalog_file *f), void *arg)
{
    sqlite3_stmt *st = db_prepare(
        db, "SELECT min(f.name), f.sha256, f.size FROM files f WHERE f.signature != 'none'"
            " AND f.status = 'ok' AND NOT EXISTS (SELECT 1 FROM sig_checks c"
            " WHERE c.sha256 = f.sha256 AND c.cert_sha256 = ?1) GROUP BY f.sha256");
    struct catalog_file f;
    int rc = DB_OK, step = SQLITE_DONE;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, cert_sha256, -1, SQLITE_TRANSIENT);
    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&f, 0, sizeof(f));
        db_column_text(st, 0, f.name, sizeof(f.name));
        db_column_text(st, 1, f.sha256, sizeof(f.sha256));
        f.size = (uint64_t)sqlite3_column_int64(st, 2);
        rc = cb(arg, &f);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list unchecked signatures");
    sqlite3_finalize(st);
    return rc;
}

/* ---- trust ---- */

int catalog_trust_add(sqlite3 *db, const struct catalog_trust *t, const char *pem, int64_t *id)
{
    sqlite3_stmt *st = db_prepare(
        db, "INSERT INTO trust (role, subject, issuer, serial, sha256, not_after, pem, added_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id");
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, t->role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, t->subject, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, t->issuer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, t->serial, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, t->sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, t->not_after);
    sqlite3_bind_text(st, 7, pem, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
    step = sqlite3_step(st);
    rc = db_check(db, step, "add trust anchor");
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int catalog_trust_remove(sqlite3 *db, int64_t id)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM trust WHERE id = ?1");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    rc = db_check(db, sqlite3_step(st), "remove trust anchor");
    if (rc == DB_OK && sqlite3_changes(db) == 0)
        rc = DB_NOT_FOUND;
    sqlite3_finalize(st);
    return rc;
}

int catalog_trust_each(sqlite3 *db, const char *role,
                       int (*cb)(void *arg, const struct catalog_trust *t), void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id, role, subject, issuer, serial, sha256,"
                                      " not_after, pem FROM trust"
                                      " WHERE ?1 IS NULL OR role = ?1 ORDER BY id");
    struct catalog_trust t;
    int rc = DB_OK, step = SQLITE_DONE;

    if (st == NULL)
        return DB_ERROR;
    bind_text(st, 1, role);
    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        t.id = sqlite3_column_int64(st, 0);
        db_column_text(st, 1, t.role, sizeof(t.role));
        db_column_text(st, 2, t.subject, sizeof(t.subject));
        db_column_text(st, 3, t.issuer, sizeof(t.issuer));
        db_column_text(st, 4, t.serial, sizeof(t.serial));
        db_column_text(st, 5, t.sha256, sizeof(t.sha256));
        t.not_after = sqlite3_column_int64(st, 6);
        t.pem = (const char *)sqlite3_column_text(st, 7);
        rc = cb(arg, &t);
    }
    if (rc == DB_OK)
        rc = db_check(db, step, "list trust anchors");
    sqlite3_finalize(st);
    return rc;
}

/* ---- imports ---- */

int catalog_import_start(sqlite3 *db, const char *source, const char *actor, int64_t *id)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO imports (source, actor, state, started_at)"
                                      " VALUES (?1, ?2, 'running', ?3) RETURNING id");
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    step = sqlite3_step(st);
    rc = db_check(db, step, "start import");
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int catalog_import_finish(sqlite3 *db, int64_t id, const char *state, const char *report_json)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE imports SET state = ?2, report = ?3,"
                                      " finished_at = ?4 WHERE id = ?1");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
    bind_text(st, 3, report_json);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
    return db_exec_stmt(db, st);
}

int catalog_imports_recover(sqlite3 *db, int *changed)
{
    sqlite3_stmt *st =
        db_prepare(db, "UPDATE imports SET state = 'failed', finished_at = ?1,"
                       " report = '{\"ok\":false,\"problems\":[{\"file\":\"\",\"message\":"
                       "\"interrupted (the import process stopped before publishing)\"}]}'"
                       " WHERE state IN ('running', 'queued')");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
    rc = db_check(db, sqlite3_step(st), "recover imports");
    if (changed != NULL)
        *changed = sqlite3_changes(db);
    sqlite3_finalize(st);
    return rc;
}

/* ---- settings and audit ---- */

int catalog_setting_get(sqlite3 *db, const char *key, char *out, size_t cap)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT value FROM settings WHERE key = ?1");
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        db_column_text(st, 0, out, cap);
        rc = DB_OK;
    } else {
        rc = step == SQLITE_DONE ? DB_NOT_FOUND : db_check(db, step, "read setting");
    }
    sqlite3_finalize(st);
    return rc;
}

int catalog_setting_set(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO settings (key, value) VALUES (?1, ?2)"
                                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    return db_exec_stmt(db, st);
}

int catalog_audit(sqlite3 *db, const char *actor, const char *action, const char *object,
                  const char *before, const char *after)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO audit (at, actor, action, object, before,"
                                      " after) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, object, -1, SQLITE_TRANSIENT);
    bind_text(st, 5, before);
    bind_text(st, 6, after);
    return db_exec_stmt(db, st);
}

static const char *column_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

static void audit_from_row(sqlite3_stmt *st, struct catalog_audit_entry *e)
{
    e->id = sqlite3_column_int64(st, 0);
    e->at = sqlite3_column_int64(st, 1);
    e->actor = column_text(st, 2);
    e->action = column_text(st, 3);
    e->object = column_text(st, 4);
    e->before = column_text(st, 5);
    e->after = column_text(st, 6);
}

int catalog_audit_each(sqlite3 *db, const struct catalog_audit_query *q,
                       int (*cb)(void *arg, const struct catalog_audit_entry *e), void *arg)
{
    sqlite3_stmt *st =
        db_prepare(db, "SELECT id, at, actor, action, object, before, after FROM audit"
                       " WHERE id < ?1 AND (?2 IS NULL OR actor = ?2)"
                       " AND (?3 IS NULL OR substr(action, 1, length(?3)) = ?3)"
                       " ORDER BY id DESC LIMIT ?4");
    struct catalog_audit_entry e;
    int rc = DB_OK, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, q->before);
    sqlite3_bind_text(st, 2, q->actor, -1, SQLITE_TRANSIENT); /* NULL binds NULL: any */
    sqlite3_bind_text(st, 3, q->action_prefix, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)q->limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        audit_from_row(st, &e);
        rc = cb(arg, &e);
        if (rc != 0)
            break;
    }
    if (rc == DB_OK && step != SQLITE_DONE)
        rc = db_check(db, step, "read the audit trail");
    sqlite3_finalize(st);
    return rc;
}

int catalog_audit_count(sqlite3 *db, const char *action, int64_t *count, int64_t *last_at)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT max(at), count(*) FROM audit WHERE action = ?1");
    int rc = DB_ERROR;

    *count = *last_at = 0;
    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, action, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *last_at = sqlite3_column_int64(st, 0);
        *count = sqlite3_column_int64(st, 1);
        rc = DB_OK;
    }
    sqlite3_finalize(st);
    return rc;
}
