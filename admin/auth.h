/* auth.h: who may use the admin interface: users and their password hashes
 * (scrypt), sessions with CSRF tokens, API tokens, roles, login throttling.
 * Secrets are stored only hashed; never logs a password, session id or token. */
#ifndef LOADSD_AUTH_H
#define LOADSD_AUTH_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sizes.h"

#define AUTH_NAME_MAX          64   /* user and token names, NUL included */
#define AUTH_PASSWORD_MIN      8    /* bytes */
#define AUTH_PASSWORD_MAX      1024 /* bytes */
#define AUTH_PHC_MAX           256  /* "$scrypt$ln=15,r=8,p=1$SALT$HASH", NUL included */
#define AUTH_SECRET_TEXT       48   /* a base64url 256-bit secret (43) with a prefix, NUL */
#define AUTH_IP_MAX            64
#define AUTH_SESSION_IDLE      (30 * 60)   /* seconds without a request */
#define AUTH_SESSION_ABSOLUTE  (12 * 3600) /* seconds after login, whatever happens */
#define AUTH_THROTTLE_MAX      5           /* failed logins per user and address, per window */
#define AUTH_THROTTLE_ADDR_MAX 20          /* failed logins per address (any names), per window */
#define AUTH_THROTTLE_WINDOW   (15 * 60)   /* seconds */
#define AUTH_BACKOFF_AFTER     5           /* a user's failures (any address) before its backoff */
#define AUTH_BACKOFF_MAX       60          /* seconds: the longest backoff */
#define AUTH_BOOTSTRAP_FILE    "initial-admin-password"

/* scrypt cost: N = 2^ln. The defaults cost 32 MiB and ~0.1 s per login. */
#define AUTH_SCRYPT_LN     15
#define AUTH_SCRYPT_R      8
#define AUTH_SCRYPT_P      1
#define AUTH_SALT_LEN      32
#define AUTH_HASH_LEN      32
#define AUTH_SCRYPT_MAXMEM (64u * 1024 * 1024) /* a stored hash may not ask for more */

enum auth_result {
    AUTH_OK = 0,
    AUTH_ERROR = -1,  /* database or crypto failure (logged) */
    AUTH_DENIED = -2, /* wrong password, unknown or expired session or token */
    AUTH_THROTTLED = -3,
    AUTH_NOT_FOUND = -4,
    AUTH_CONFLICT = -5, /* the name exists, or the change would leave no admin */
    AUTH_INVALID = -6,  /* a malformed name, role, password or hash string */
};

enum auth_role { AUTH_ROLE_NONE = 0, AUTH_ROLE_VIEWER, AUTH_ROLE_ADMIN };

/* A parsed hash string "$scrypt$ln=L,r=R,p=P$SALT$HASH" (base64url, no padding). */
struct auth_phc {
    unsigned ln, r, p;
    uint8_t salt[64];
    size_t salt_len;
    uint8_t hash[64];
    size_t hash_len;
};

/* Who a request acts as, once authenticated. */
struct auth_principal {
    int64_t user_id;
    char user[AUTH_NAME_MAX];
    enum auth_role role;
    bool by_session;             /* cookie: state changes need the CSRF token */
    char csrf[AUTH_SECRET_TEXT]; /* the session's CSRF token */
};

struct auth_user {
    int64_t id;
    char name[AUTH_NAME_MAX];
    enum auth_role role;
    bool disabled;
    int64_t created_at;
};

struct auth_token_info {
    int64_t id;
    char user[AUTH_NAME_MAX];
    char name[AUTH_NAME_MAX];
    int64_t created_at;
    int64_t last_used; /* 0: never */
};

const char *auth_role_name(enum auth_role role);
enum auth_role auth_role_parse(const char *name); /* AUTH_ROLE_NONE when unknown */
/* A user or token name: 1-63 bytes of [A-Za-z0-9._@-], not starting with '-'. */
bool auth_name_valid(const char *name);

/* ---- password hashes (pure: no database) ---- */

/* Parses a hash string of at most len bytes; ranges checked. 0 or AUTH_INVALID. */
int auth_phc_parse(const char *s, size_t len, struct auth_phc *out);
int auth_phc_format(const struct auth_phc *phc, char *out, size_t cap);
/* Hashes password with a fresh random salt and the given cost. */
int auth_password_hash_cost(const char *password, unsigned ln, unsigned r, unsigned p, char *out,
                            size_t cap);
int auth_password_hash(const char *password, char *out, size_t cap);
/* 0 when password matches (constant-time compare), AUTH_DENIED when not,
 * AUTH_INVALID for a malformed hash string. */
int auth_password_verify(const char *password, const char *phc);
/* A random base64url text of 32 bytes (43 characters) after prefix. */
int auth_random_text(const char *prefix, char *out, size_t cap);
/* Lower-case hex SHA-256 of a secret (sessions and tokens are stored so). */
void auth_secret_hash(const char *secret, char out[SHA256_HEX_BUF]);
/* Constant-time equality of two NUL-terminated secrets. */
bool auth_secret_equal(const char *a, const char *b);

/* ---- branch tokens (docs/FLEET.md): "lsb_" + 43 base64url characters of
 * 32 random bytes; the central stores only the SHA-256 (db/fleet.h) ---- */
#define AUTH_BRANCH_TOKEN_PREFIX "lsb_"
/* A new token into token (AUTH_SECRET_TEXT bytes) and its hash. */
int auth_branch_token_make(char token[AUTH_SECRET_TEXT], char hash[SHA256_HEX_BUF]);
/* Whether text has a branch token's shape (check before hashing a bearer). */
bool auth_branch_token_well_formed(const char *text);

/* ---- users (each change is one transaction with its audit record) ---- */

int auth_user_add(sqlite3 *db, const char *actor, const char *name, enum auth_role role,
                  const char *password);
int auth_user_passwd(sqlite3 *db, const char *actor, const char *name, const char *password);
int auth_user_set_role(sqlite3 *db, const char *actor, const char *name, enum auth_role role);
/* Refuses (AUTH_CONFLICT) to remove the last enabled admin. */
int auth_user_remove(sqlite3 *db, const char *actor, const char *name);
int auth_user_find(sqlite3 *db, const char *name, struct auth_user *out);
int auth_users_each(sqlite3 *db, int (*cb)(void *arg, const struct auth_user *u), void *arg);
int auth_user_count(sqlite3 *db, int64_t *out);

/* First run: when no user exists, creates "admin" with a random password,
 * written to password and, unless data_dir is NULL, to
 * data_dir/initial-admin-password (mode 0600).
 * 1 when created, 0 when users existed already, or a negative auth_result. */
int auth_bootstrap(sqlite3 *db, const char *data_dir, char *password, size_t cap);
/* Removes the initial password file (after the admin's password changed). */
void auth_bootstrap_forget(const char *data_dir);

/* ---- login, sessions, CSRF ---- */

/* Checks name and password with throttling (see below).
 * 0 with *out filled, AUTH_DENIED, or AUTH_THROTTLED with *retry_after.
 * An unknown user costs as much as a known one and is counted the same. */
int auth_login(sqlite3 *db, const char *name, const char *password, const char *ip, int64_t now,
               struct auth_principal *out, int64_t *retry_after);
/* The well-formed hash string an unknown user is checked against: the
 * default cost, a random salt, made once. */
const char *auth_dummy_phc(void);
/* Starts a session: a new id (the cookie's value, 43 characters) and CSRF
 * token (in p->csrf); only the id's SHA-256 is stored. Audited. */
int auth_session_create(sqlite3 *db, struct auth_principal *p, const char *ip, int64_t now,
                        char *id, size_t cap);
/* The session's principal; expired sessions (idle or absolute) are deleted
 * and answer AUTH_DENIED. Refreshes last_seen. */
int auth_session_check(sqlite3 *db, const char *id, int64_t now, struct auth_principal *out);
/* Logout. Audited; 0 or AUTH_NOT_FOUND. */
int auth_session_delete(sqlite3 *db, const char *id, const char *actor);
/* Removes expired sessions; returns how many. */
int auth_sessions_prune(sqlite3 *db, int64_t now);
/* A state-changing request by session must carry the session's token. */
bool auth_csrf_ok(const struct auth_principal *p, const char *header);
/* May p do this? Writes need the admin role. */
bool auth_allowed(const struct auth_principal *p, bool write, bool admin_only);

/* ---- throttling ----
 * Failed logins are counted in fixed windows of AUTH_THROTTLE_WINDOW under
 * three keys: "pair:NAME@addr:ADDR" (AUTH_THROTTLE_MAX failures throttle
 * that user from that address), "addr:ADDR" (AUTH_THROTTLE_ADDR_MAX
 * failures throttle the address for every name) and "user:NAME" (past
 * AUTH_BACKOFF_AFTER failures from anywhere, an address that has already
 * failed for the user waits a short backoff; an address that has not,
 * passes). So nobody can lock a user out from addresses they do not hold.
 * An IPv6 address counts as its /64. */

struct auth_throttle {
    int64_t count; /* failures in the current window (0 once it has passed) */
    int64_t window_start;
    int64_t last_at; /* the latest failure */
};

/* Pure rule: AUTH_THROTTLED with *retry_after when count failures inside the
 * window starting at window_start have reached max. */
int auth_throttle_rule(int64_t count, int64_t max, int64_t window_start, int64_t now,
                       int64_t *retry_after);
/* Pure rule: seconds a user with count failures, the latest at last_at,
 * still has to wait (1, 2, 4 ... AUTH_BACKOFF_MAX s past AUTH_BACKOFF_AFTER). */
int64_t auth_backoff_rule(int64_t count, int64_t last_at, int64_t now);
int auth_throttle_get(sqlite3 *db, const char *key, int64_t now, struct auth_throttle *out);
/* Counts a failure under key; *count is the window's count after it. */
int auth_throttle_fail(sqlite3 *db, const char *key, int64_t now, int64_t *count);
int auth_throttle_reset(sqlite3 *db, const char *key);
/* "addr:192.0.2.1", "addr:2001:db8:1:2::/64". */
void auth_addr_key(const char *ip, char *out, size_t cap);

/* ---- API tokens ("lsd_" + 43 characters; only the SHA-256 is stored) ---- */

/* Creates a token for user; the token text is written once to token. */
int auth_token_create(sqlite3 *db, const char *actor, const char *user, const char *name,
                      char *token, size_t cap, int64_t *id);
int auth_token_check(sqlite3 *db, const char *token, int64_t now, struct auth_principal *out);
int auth_token_remove(sqlite3 *db, const char *actor, int64_t id);
int auth_tokens_each(sqlite3 *db, int (*cb)(void *arg, const struct auth_token_info *t), void *arg);

#endif
