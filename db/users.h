/* users.h: rows of the admin interface's users, login sessions, API tokens
 * and failed-login counters. Holds only hashes, never a password, session id
 * or token; each audited change is one transaction with its audit record. */
#ifndef LOADSD_USERS_H
#define LOADSD_USERS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define USERS_NAME_MAX 64 /* user and token names, NUL included */
#define USERS_ROLE_MAX 16 /* admin | viewer */
#define USERS_CSRF_MAX 48 /* a session's CSRF token, NUL included */

struct users_user {
    int64_t id;
    char name[USERS_NAME_MAX];
    char role[USERS_ROLE_MAX];
    bool disabled;
    int64_t created_at;
};

/* A session or API token found by the hash of its secret, with its user
 * (user.created_at is not read). */
struct users_secret {
    struct users_user user;
    int64_t id;                /* tokens: the token's id */
    char csrf[USERS_CSRF_MAX]; /* sessions: the CSRF token */
    int64_t last_seen;         /* sessions: last_seen; tokens: last_used (0: never) */
    int64_t expires;           /* sessions: the absolute end */
};

/* A new session: what it stores. ip NULL is stored as "-". */
struct users_session_new {
    const char *id_hash;
    int64_t user_id;
    const char *user; /* the user's name: actor and object of the audit */
    const char *csrf;
    const char *ip;
    int64_t created_at;
    int64_t expires;
};

struct users_token {
    int64_t id;
    char user[USERS_NAME_MAX];
    char name[USERS_NAME_MAX];
    int64_t created_at;
    int64_t last_used; /* 0: never */
};

/* A failed-login counter as stored; all zero when there is none. */
struct users_attempts {
    int64_t count;
    int64_t window_start;
    int64_t last_at;
};

/* Results: 0 or a negative db_result; DB_CONFLICT for a name that exists or
 * a change that would leave no enabled admin; DB_NOT_FOUND. */

/* ---- users ---- */

int users_add(sqlite3 *db, const char *actor, const char *name, const char *role, const char *hash,
              int64_t now);
/* Sets the password hash and ends every session of the user. */
int users_set_password(sqlite3 *db, const char *actor, const char *name, const char *hash);
int users_set_role(sqlite3 *db, const char *actor, const char *name, const char *role);
int users_remove(sqlite3 *db, const char *actor, const char *name);
/* The user, and its password hash into hash (cap bytes) unless hash is NULL. */
int users_find(sqlite3 *db, const char *name, struct users_user *out, char *hash, size_t cap);
/* By name; the callback returns 0 to go on, anything else to stop (returned). */
int users_each(sqlite3 *db, int (*cb)(void *arg, const struct users_user *u), void *arg);
int users_count(sqlite3 *db, int64_t *out);

/* ---- sessions ---- */

/* Audited as the user's "session.login" from ip. */
int users_session_add(sqlite3 *db, const struct users_session_new *s);
int users_session_find(sqlite3 *db, const char *id_hash, struct users_secret *out);
int users_session_touch(sqlite3 *db, const char *id_hash, int64_t now);
/* Removes an expired session (not audited). */
int users_session_drop(sqlite3 *db, const char *id_hash);
/* Logout: removes the session, audited as actor's "session.logout". */
int users_session_logout(sqlite3 *db, const char *id_hash, const char *actor);
/* Removes sessions past expires or idle for idle seconds, and failed-login
 * counters whose window (seconds) has ended; *removed: the sessions. */
int users_prune(sqlite3 *db, int64_t now, int64_t idle, int64_t window, int *removed);

/* ---- API tokens ---- */

/* A token named name for user u (audited as "USER/NAME"); *id: its row. */
int users_token_add(sqlite3 *db, const char *actor, const struct users_user *u, const char *name,
                    const char *token_hash, int64_t now, int64_t *id);
int users_token_find(sqlite3 *db, const char *token_hash, struct users_secret *out);
int users_token_touch(sqlite3 *db, int64_t id, int64_t now);
int users_token_remove(sqlite3 *db, const char *actor, int64_t id);
/* By id; the callback as for users_each. */
int users_tokens_each(sqlite3 *db, int (*cb)(void *arg, const struct users_token *t), void *arg);

/* ---- failed-login counters (the rules that read them are auth's) ---- */

int users_attempts_get(sqlite3 *db, const char *key, struct users_attempts *out);
/* Counts one failure at now: a counter whose window (seconds) has passed
 * starts again at 1. *count: the count after it. */
int users_attempts_add(sqlite3 *db, const char *key, int64_t now, int64_t window, int64_t *count);
int users_attempts_reset(sqlite3 *db, const char *key);

#endif
