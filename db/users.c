/* users.c: the users, sessions, api_tokens and login_attempts tables.
 * Prepared statements only; never sees a secret in the clear. Nothing here
 * changes what phones are served: its commits leave the provisioning
 * generation alone (no snapshot rebuild for a login, a logout or a token). */
#include "db/users.h"

#include <stdio.h>
#include <string.h>

#include "db/catalog.h"

/* The audit record of a change. */
struct change {
    const char *actor, *action, *object, *before, *after;
};

/* Runs the prepared, bound statement st in a write transaction of its own
 * with the audit record c. need_change: no row changed is DB_NOT_FOUND.
 * rowid (or NULL): the row st inserted. */
static int tx_one(sqlite3 *db, sqlite3_stmt *st, bool need_change, const struct change *c,
                  int64_t *rowid)
{
    int rc;

    if (st == NULL)
        return DB_ERROR;
    rc = db_begin(db);
    if (rc != DB_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    rc = db_exec_stmt(db, st);
    if (rc == DB_OK && need_change && sqlite3_changes(db) == 0)
        rc = DB_NOT_FOUND;
    if (rc == DB_OK && rowid != NULL)
        *rowid = sqlite3_last_insert_rowid(db);
    if (rc == DB_OK)
        rc = catalog_audit(db, c->actor, c->action, c->object, c->before, c->after);
    if (rc == DB_OK)
        rc = db_commit_untracked(db);
    else
        db_rollback(db);
    return rc;
}

/* ---- users ---- */

int users_add(sqlite3 *db, const char *actor, const char *name, const char *role, const char *hash,
              int64_t now)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO users (name, role, password_hash, created_at)"
                                      " VALUES (?1, ?2, ?3, ?4)");
    struct change c = {actor, "user.add", name, NULL, role};

    if (st != NULL) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, role, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, now);
    }
    return tx_one(db, st, false, &c, NULL);
}

static int sessions_end(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM sessions WHERE user_id ="
                                      " (SELECT id FROM users WHERE name = ?1)");

    if (st != NULL)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    return db_exec_stmt(db, st);
}

int users_set_password(sqlite3 *db, const char *actor, const char *name, const char *hash)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE users SET password_hash = ?2 WHERE name = ?1");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
    rc = db_begin(db);
    if (rc != DB_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    rc = db_exec_stmt(db, st);
    if (rc == DB_OK && sqlite3_changes(db) == 0)
        rc = DB_NOT_FOUND;
    if (rc == DB_OK)
        rc = sessions_end(db, name);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "user.passwd", name, NULL, NULL);
    if (rc == DB_OK)
        rc = db_commit_untracked(db);
    else
        db_rollback(db);
    return rc;
}

/* Inside a transaction: would the change to name leave no enabled admin? */
static int last_admin_guard(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM users WHERE role = 'admin'"
                                      " AND disabled = 0 AND name != ?1");
    int rc = DB_ERROR;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        rc = sqlite3_column_int64(st, 0) > 0 ? DB_OK : DB_CONFLICT;
    sqlite3_finalize(st);
    return rc;
}

static bool is_admin(const char *role)
{
    return role != NULL && strcmp(role, "admin") == 0;
}

/* Gives u another role, or removes it (role NULL). */
static int user_write(sqlite3 *db, const struct users_user *u, const char *role)
{
    sqlite3_stmt *st = role == NULL ? db_prepare(db, "DELETE FROM users WHERE id = ?1")
                                    : db_prepare(db, "UPDATE users SET role = ?2 WHERE id = ?1");

    if (st != NULL) {
        sqlite3_bind_int64(st, 1, u->id);
        if (role != NULL)
            sqlite3_bind_text(st, 2, role, -1, SQLITE_TRANSIENT);
    }
    return db_exec_stmt(db, st);
}

/* Changes the role of name, or removes it (role NULL), in one transaction
 * that first checks an admin would remain. */
static int user_change(sqlite3 *db, const char *actor, const char *name, const char *role)
{
    struct users_user u;
    int rc = db_begin(db);

    if (rc != DB_OK)
        return rc;
    rc = users_find(db, name, &u, NULL, 0);
    if (rc == DB_OK && is_admin(u.role) && !is_admin(role))
        rc = last_admin_guard(db, name);
    if (rc == DB_OK)
        rc = user_write(db, &u, role);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, role == NULL ? "user.remove" : "user.role", name, u.role,
                           role);
    if (rc == DB_OK)
        rc = db_commit_untracked(db);
    else
        db_rollback(db);
    return rc;
}

int users_set_role(sqlite3 *db, const char *actor, const char *name, const char *role)
{
    return role != NULL ? user_change(db, actor, name, role) : DB_ERROR;
}

int users_remove(sqlite3 *db, const char *actor, const char *name)
{
    return user_change(db, actor, name, NULL);
}

/* Columns id, name, role, disabled, created_at from col 0. */
static void user_from_row(sqlite3_stmt *st, struct users_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(st, 0);
    db_column_text(st, 1, u->name, sizeof(u->name));
    db_column_text(st, 2, u->role, sizeof(u->role));
    u->disabled = sqlite3_column_int(st, 3) != 0;
    u->created_at = sqlite3_column_int64(st, 4);
}

int users_find(sqlite3 *db, const char *name, struct users_user *out, char *hash, size_t cap)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id, name, role, disabled, created_at,"
                                      " password_hash FROM users WHERE name = ?1");
    int rc = DB_ERROR, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        user_from_row(st, out);
        if (hash != NULL)
            db_column_text(st, 5, hash, cap);
        rc = DB_OK;
    } else if (step == SQLITE_DONE) {
        rc = DB_NOT_FOUND;
    } else {
        rc = db_check(db, step, "find user");
    }
    sqlite3_finalize(st);
    return rc;
}

int users_each(sqlite3 *db, int (*cb)(void *arg, const struct users_user *u), void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id, name, role, disabled, created_at FROM users"
                                      " ORDER BY name");
    struct users_user u;
    int rc = DB_OK, step;

    if (st == NULL)
        return DB_ERROR;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        user_from_row(st, &u);
        rc = cb(arg, &u);
        if (rc != 0)
            break;
    }
    if (rc == DB_OK && step != SQLITE_DONE)
        rc = db_check(db, step, "list users");
    sqlite3_finalize(st);
    return rc;
}

int users_count(sqlite3 *db, int64_t *out)
{
    return db_int(db, "SELECT count(*) FROM users", out);
}

/* ---- sessions and tokens: found by the hash of their secret ---- */

/* Runs sql (one parameter: the hash) and reads the user's columns id,
 * name, role, disabled, then with more() the secret's own from col 4. */
static int secret_find(sqlite3 *db, const char *sql, const char *hash, struct users_secret *out,
                       void (*more)(sqlite3_stmt *st, struct users_secret *out))
{
    sqlite3_stmt *st = db_prepare(db, sql);
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    rc = step == SQLITE_ROW    ? DB_OK
         : step == SQLITE_DONE ? DB_NOT_FOUND
                               : db_check(db, step, "find a session or token");
    if (rc == DB_OK) {
        memset(out, 0, sizeof(*out));
        out->user.id = sqlite3_column_int64(st, 0);
        db_column_text(st, 1, out->user.name, sizeof(out->user.name));
        db_column_text(st, 2, out->user.role, sizeof(out->user.role));
        out->user.disabled = sqlite3_column_int(st, 3) != 0;
        more(st, out);
    }
    sqlite3_finalize(st);
    return rc;
}

static void session_more(sqlite3_stmt *st, struct users_secret *out)
{
    db_column_text(st, 4, out->csrf, sizeof(out->csrf));
    out->last_seen = sqlite3_column_int64(st, 5);
    out->expires = sqlite3_column_int64(st, 6);
}

static void token_more(sqlite3_stmt *st, struct users_secret *out)
{
    out->id = sqlite3_column_int64(st, 4);
    out->last_seen = sqlite3_column_int64(st, 5);
}

/* ---- sessions ---- */

int users_session_add(sqlite3 *db, const struct users_session_new *s)
{
    sqlite3_stmt *st =
        db_prepare(db, "INSERT INTO sessions (id_hash, user_id, csrf, created_at,"
                       " last_seen, expires, ip) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)");
    struct change c = {s->user, "session.login", s->user, NULL, s->ip};

    if (st != NULL) {
        sqlite3_bind_text(st, 1, s->id_hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, s->user_id);
        sqlite3_bind_text(st, 3, s->csrf, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, s->created_at);
        sqlite3_bind_int64(st, 5, s->expires);
        sqlite3_bind_text(st, 6, s->ip != NULL ? s->ip : "-", -1, SQLITE_TRANSIENT);
    }
    return tx_one(db, st, false, &c, NULL);
}

int users_session_find(sqlite3 *db, const char *id_hash, struct users_secret *out)
{
    return secret_find(db,
                       "SELECT u.id, u.name, u.role, u.disabled, s.csrf, s.last_seen, s.expires"
                       " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1",
                       id_hash, out, session_more);
}

int users_session_touch(sqlite3 *db, const char *id_hash, int64_t now)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE sessions SET last_seen = ?2 WHERE id_hash = ?1");

    if (st != NULL) {
        sqlite3_bind_text(st, 1, id_hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
    }
    return db_exec_stmt(db, st);
}

static sqlite3_stmt *session_delete(sqlite3 *db, const char *id_hash)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM sessions WHERE id_hash = ?1");

    if (st != NULL)
        sqlite3_bind_text(st, 1, id_hash, -1, SQLITE_TRANSIENT);
    return st;
}

int users_session_drop(sqlite3 *db, const char *id_hash)
{
    return db_exec_stmt(db, session_delete(db, id_hash));
}

int users_session_logout(sqlite3 *db, const char *id_hash, const char *actor)
{
    struct change c = {actor, "session.logout", actor, NULL, NULL};

    return tx_one(db, session_delete(db, id_hash), true, &c, NULL);
}

int users_prune(sqlite3 *db, int64_t now, int64_t idle, int64_t window, int *removed)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM sessions WHERE expires <= ?1"
                                      " OR last_seen <= ?1 - ?2");
    int rc;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, idle);
    rc = db_exec_stmt(db, st);
    if (rc != DB_OK)
        return rc;
    *removed = sqlite3_changes(db);
    st = db_prepare(db, "DELETE FROM login_attempts WHERE window_start <= ?1 - ?2");
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, window);
    }
    return db_exec_stmt(db, st);
}

/* ---- API tokens ---- */

int users_token_add(sqlite3 *db, const char *actor, const struct users_user *u, const char *name,
                    const char *token_hash, int64_t now, int64_t *id)
{
    sqlite3_stmt *st = db_prepare(db, "INSERT INTO api_tokens (token_hash, user_id, name,"
                                      " created_at) VALUES (?1, ?2, ?3, ?4)");
    char object[2 * USERS_NAME_MAX + 2];
    struct change c = {actor, "token.add", object, NULL, NULL};

    snprintf(object, sizeof(object), "%s/%s", u->name, name);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, u->id);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, now);
    }
    return tx_one(db, st, false, &c, id);
}

int users_token_find(sqlite3 *db, const char *token_hash, struct users_secret *out)
{
    return secret_find(db,
                       "SELECT u.id, u.name, u.role, u.disabled, t.id, t.last_used"
                       " FROM api_tokens t JOIN users u ON u.id = t.user_id"
                       " WHERE t.token_hash = ?1",
                       token_hash, out, token_more);
}

int users_token_touch(sqlite3 *db, int64_t id, int64_t now)
{
    sqlite3_stmt *st = db_prepare(db, "UPDATE api_tokens SET last_used = ?2 WHERE id = ?1");

    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
    }
    return db_exec_stmt(db, st);
}

int users_token_remove(sqlite3 *db, const char *actor, int64_t id)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM api_tokens WHERE id = ?1");
    char object[24];
    struct change c = {actor, "token.remove", object, NULL, NULL};

    snprintf(object, sizeof(object), "%lld", (long long)id);
    if (st != NULL)
        sqlite3_bind_int64(st, 1, id);
    return tx_one(db, st, true, &c, NULL);
}

int users_tokens_each(sqlite3 *db, int (*cb)(void *arg, const struct users_token *t), void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT t.id, u.name, t.name, t.created_at, t.last_used"
                                      " FROM api_tokens t JOIN users u ON u.id = t.user_id"
                                      " ORDER BY t.id");
    struct users_token t;
    int rc = DB_OK, step;

    if (st == NULL)
        return DB_ERROR;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&t, 0, sizeof(t));
        t.id = sqlite3_column_int64(st, 0);
        db_column_text(st, 1, t.user, sizeof(t.user));
        db_column_text(st, 2, t.name, sizeof(t.name));
        t.created_at = sqlite3_column_int64(st, 3);
        t.last_used = sqlite3_column_int64(st, 4);
        rc = cb(arg, &t);
        if (rc != 0)
            break;
    }
    if (rc == DB_OK && step != SQLITE_DONE)
        rc = db_check(db, step, "list tokens");
    sqlite3_finalize(st);
    return rc;
}

/* ---- failed-login counters ---- */

int users_attempts_get(sqlite3 *db, const char *key, struct users_attempts *out)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT count, window_start, last_at FROM login_attempts"
                                      " WHERE key = ?1");
    int rc = DB_ERROR, step;

    memset(out, 0, sizeof(*out));
    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->count = sqlite3_column_int64(st, 0);
        out->window_start = sqlite3_column_int64(st, 1);
        out->last_at = sqlite3_column_int64(st, 2);
    }
    rc = db_check(db, step, "read login attempts");
    sqlite3_finalize(st);
    return rc;
}

int users_attempts_add(sqlite3 *db, const char *key, int64_t now, int64_t window, int64_t *count)
{
    /* SET expressions all see the old row, so the CASEs agree. */
    sqlite3_stmt *st = db_prepare(
        db, "INSERT INTO login_attempts (key, count, window_start, last_at) VALUES (?1, 1, ?2, ?2)"
            " ON CONFLICT (key) DO UPDATE SET"
            " count = CASE WHEN ?2 - window_start >= ?3 OR ?2 < window_start"
            " THEN 1 ELSE count + 1 END,"
            " window_start = CASE WHEN ?2 - window_start >= ?3 OR ?2 < window_start"
            " THEN ?2 ELSE window_start END,"
            " last_at = ?2"
            " RETURNING count");
    int rc = DB_ERROR, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, window);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        rc = DB_OK;
    } else {
        rc = db_check(db, step, "count a failed login");
        rc = rc == DB_OK ? DB_ERROR : rc; /* no row back */
    }
    if (sqlite3_finalize(st) != SQLITE_OK)
        rc = DB_ERROR;
    return rc;
}

int users_attempts_reset(sqlite3 *db, const char *key)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM login_attempts WHERE key = ?1");

    if (st != NULL)
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    return db_exec_stmt(db, st);
}
