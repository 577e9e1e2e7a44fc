/* test_auth.c: auth.c: the scrypt hash string (round trip, wrong password,
 * a table of malformed strings, truncation at every length, tampering),
 * users, sessions with an injected clock, CSRF, tokens, throttling windows,
 * the first-run admin, on a real SQLite file in a mkdtemp dir, and the KDF
 * thread (priority, one at a time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/auth.h"
#include "admin/kdf.h"
#include "db/db.h"
#include "db/fleet.h"
#include "lib/log.h"
#include "tests/unit/testdir.h"

#define T0 1800000000 /* the injected clock's start */

/* Cheap cost for the hash-string tests: 1 MiB per hash. */
#define LN_FAST 10

struct fixture {
    char dir[PATH_MAX];
    sqlite3 *db;
};

static int fx_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char path[PATH_MAX + 16];

    assert_non_null(fx);
    assert_int_equal(testdir_make("test_auth", fx->dir), 0);
    snprintf(path, sizeof(path), "%s/catalog.db", fx->dir);
    assert_int_equal(db_open(path, &fx->db), DB_OK);
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fixture *fx = *state;

    db_close(fx->db);
    (void)testdir_remove(fx->dir);
    free(fx);
    return 0;
}

/* ---- the hash string ---- */

static void test_hash_round_trip(void **state)
{
    char phc[AUTH_PHC_MAX], again[AUTH_PHC_MAX];
    struct auth_phc parsed;

    (void)state;
    assert_int_equal(auth_password_hash_cost("correct horse", LN_FAST, 8, 1, phc, sizeof(phc)),
                     AUTH_OK);
    assert_true(strncmp(phc, "$scrypt$ln=10,r=8,p=1$", 22) == 0);
    assert_int_equal(auth_password_verify("correct horse", phc), AUTH_OK);
    assert_int_equal(auth_password_verify("correct horsf", phc), AUTH_DENIED);
    assert_int_equal(auth_password_verify("", phc), AUTH_DENIED);
    /* parse and format are inverse */
    assert_int_equal(auth_phc_parse(phc, strlen(phc), &parsed), AUTH_OK);
    assert_int_equal(parsed.salt_len, AUTH_SALT_LEN);
    assert_int_equal(parsed.hash_len, AUTH_HASH_LEN);
    assert_int_equal(auth_phc_format(&parsed, again, sizeof(again)), AUTH_OK);
    assert_string_equal(phc, again);
    /* a fresh salt every time */
    assert_int_equal(auth_password_hash_cost("correct horse", LN_FAST, 8, 1, again, sizeof(again)),
                     AUTH_OK);
    assert_string_not_equal(phc, again);
}

static void test_hash_default_cost(void **state)
{
    char phc[AUTH_PHC_MAX];

    (void)state;
    assert_int_equal(auth_password_hash("s3cret-password", phc, sizeof(phc)), AUTH_OK);
    assert_true(strncmp(phc, "$scrypt$ln=15,r=8,p=1$", 22) == 0);
    assert_int_equal(auth_password_verify("s3cret-password", phc), AUTH_OK);
    assert_int_equal(auth_password_verify("s3cret-passwore", phc), AUTH_DENIED);
    /* costs out of range are refused before any work */
    assert_int_equal(auth_password_hash_cost("x", 9, 8, 1, phc, sizeof(phc)), AUTH_INVALID);
    assert_int_equal(auth_password_hash_cost("x", 18, 8, 1, phc, sizeof(phc)), AUTH_INVALID);
    assert_int_equal(auth_password_hash_cost("x", 10, 0, 1, phc, sizeof(phc)), AUTH_INVALID);
    assert_int_equal(auth_password_hash_cost("x", 10, 8, 0, phc, sizeof(phc)), AUTH_INVALID);
    /* too small an output buffer */
    assert_int_equal(auth_password_hash_cost("x", LN_FAST, 8, 1, phc, 40), AUTH_INVALID);
}

#define SALT43 "c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHQ"
#define HASH43 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static const struct {
    const char *text;
    int want;
} phc_table[] = {
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$" HASH43, AUTH_OK},
    {"$scrypt$ln=10,r=1,p=1$" SALT43 "$" HASH43, AUTH_OK},
    {"$scrypt$ln=16,r=4,p=16$" SALT43 "$" HASH43, AUTH_OK},
    {"$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", AUTH_OK},
    {"", AUTH_INVALID},
    {"$scrypt$", AUTH_INVALID},
    {"$argon2id$v=19$m=65536,t=3,p=4$" SALT43 "$" HASH43, AUTH_INVALID},
    {"$SCRYPT$ln=15,r=8,p=1$" SALT43 "$" HASH43, AUTH_INVALID},
    {"$scrypt$ln=9,r=8,p=1$" SALT43 "$" HASH43, AUTH_INVALID},  /* cost too low */
    {"$scrypt$ln=21,r=8,p=1$" SALT43 "$" HASH43, AUTH_INVALID}, /* cost too high */
    {"$scrypt$ln=16,r=8,p=1$" SALT43 "$" HASH43, AUTH_INVALID}, /* 64 MiB: over the cap */
    {"$scrypt$ln=15,r=0,p=1$" SALT43 "$" HASH43, AUTH_INVALID},
    {"$scrypt$ln=15,r=8,p=0$" SALT43 "$" HASH43, AUTH_INVALID},
    {"$scrypt$ln=15,r=8,p=17$" SALT43 "$" HASH43, AUTH_INVALID},
    {"$scrypt$ln=015,r=8,p=1$" SALT43 "$" HASH43, AUTH_INVALID},     /* one text per value */
    {"$scrypt$ln=0000015,r=8,p=1$" SALT43 "$" HASH43, AUTH_INVALID}, /* too many digits */
    {"$scrypt$ln=-15,r=8,p=1$" SALT43 "$" HASH43, AUTH_INVALID},
    {"$scrypt$ln=+15,r=8,p=1$" SALT43 "$" HASH43, AUTH_INVALID},
    {"$scrypt$ln= 15,r=8,p=1$" SALT43 "$" HASH43, AUTH_INVALID},
    {"$scrypt$ln=15,p=1,r=8$" SALT43 "$" HASH43, AUTH_INVALID}, /* order is fixed */
    {"$scrypt$ln=15,r=8$" SALT43 "$" HASH43, AUTH_INVALID},
    {"$scrypt$ln=15,r=8,p=1" SALT43 "$" HASH43, AUTH_INVALID},
    {"$scrypt$ln=15,r=8,p=1$" SALT43 HASH43, AUTH_INVALID},
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$" HASH43 "$", AUTH_INVALID},
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$" HASH43 "A", AUTH_OK},       /* 44 chars: 33 bytes */
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$" HASH43 "AA", AUTH_INVALID}, /* 45: length 1 mod 4 */
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$AAAAAAAAAAAAAAAAAAAAAB", AUTH_INVALID}, /* bits left */
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$AAAAAAAAAAAAAAAAAAA", AUTH_INVALID},    /* 14 bytes */
    {"$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAA$" HASH43, AUTH_INVALID},       /* short salt */
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$" HASH43 HASH43 HASH43, AUTH_INVALID},  /* 96 bytes */
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$AAAA+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", AUTH_INVALID},
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$AAAA=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", AUTH_INVALID},
    {"$scrypt$ln=15,r=8,p=1$$" HASH43, AUTH_INVALID},
    {"$scrypt$ln=15,r=8,p=1$" SALT43 "$", AUTH_INVALID},
};

static void test_phc_table(void **state)
{
    struct auth_phc phc;

    (void)state;
    for (size_t i = 0; i < sizeof(phc_table) / sizeof(phc_table[0]); i++) {
        int rc = auth_phc_parse(phc_table[i].text, strlen(phc_table[i].text), &phc);

        if (rc != phc_table[i].want)
            fail_msg("row %zu (%s): got %d, want %d", i, phc_table[i].text, rc, phc_table[i].want);
    }
    assert_int_equal(auth_phc_parse(NULL, 10, &phc), AUTH_INVALID);
}

/* Every proper prefix of a valid string is refused (and never read past). */
static void test_phc_truncated(void **state)
{
    static const char full[] = "$scrypt$ln=15,r=8,p=1$" SALT43 "$" HASH43;
    struct auth_phc phc;

    (void)state;
    for (size_t len = 0; len < sizeof(full) - 1; len++) {
        char *copy = malloc(len + 1);

        assert_non_null(copy);
        memcpy(copy, full, len);
        copy[len] = '\0';
        /* Cut inside the hash after 22 or more of its characters, it is a
         * shorter hash (16 bytes or more), valid unless the length is 1 mod 4. */
        size_t hash_at = sizeof(full) - 1 - 43;

        if (len >= hash_at + 22 && (len - hash_at) % 4 != 1) {
            free(copy);
            continue;
        }
        if (auth_phc_parse(copy, len, &phc) != AUTH_INVALID)
            fail_msg("prefix of %zu bytes accepted", len);
        /* the length bound alone must stop the parser too */
        if (auth_phc_parse(full, len, &phc) != AUTH_INVALID)
            fail_msg("bounded prefix of %zu bytes accepted", len);
        free(copy);
    }
    assert_int_equal(auth_phc_parse(full, sizeof(full) - 1, &phc), AUTH_OK);
}

/* Changing any one character never lets a password through. */
static void test_phc_tampered(void **state)
{
    char phc[AUTH_PHC_MAX], t[AUTH_PHC_MAX];

    (void)state;
    assert_int_equal(auth_password_hash_cost("tamper-proof", LN_FAST, 1, 1, phc, sizeof(phc)),
                     AUTH_OK);
    for (size_t i = 0; phc[i] != '\0'; i++) {
        strcpy(t, phc);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        if (auth_password_verify("tamper-proof", t) == AUTH_OK) {
            /* only "ln=10" -> ln=1A... cannot parse; a salt or hash change must fail */
            fail_msg("changed byte %zu still verifies: %s", i, t);
        }
    }
}

static void test_secrets(void **state)
{
    char a[AUTH_SECRET_TEXT], b[AUTH_SECRET_TEXT], h[65];

    (void)state;
    assert_int_equal(auth_random_text("lsd_", a, sizeof(a)), AUTH_OK);
    assert_int_equal(auth_random_text("lsd_", b, sizeof(b)), AUTH_OK);
    assert_int_equal(strlen(a), 47);
    assert_string_not_equal(a, b);
    assert_true(strspn(a + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
                43);
    assert_int_equal(auth_random_text("", a, 20), AUTH_ERROR);
    assert_true(auth_secret_equal("abc", "abc"));
    assert_false(auth_secret_equal("abc", "abd"));
    assert_false(auth_secret_equal("abc", "abcd"));
    assert_false(auth_secret_equal("", ""));
    assert_false(auth_secret_equal(NULL, "abc"));
    auth_secret_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_names_roles(void **state)
{
    char long_name[80];

    (void)state;
    assert_true(auth_name_valid("admin"));
    assert_true(auth_name_valid("jane.doe@example_1-x"));
    assert_false(auth_name_valid(""));
    assert_false(auth_name_valid("-x"));
    assert_false(auth_name_valid("a b"));
    assert_false(auth_name_valid("a/b"));
    assert_false(auth_name_valid("caf\xc3\xa9"));
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_false(auth_name_valid(long_name));
    long_name[63] = '\0';
    assert_true(auth_name_valid(long_name));
    long_name[63] = 'a';
    long_name[64] = '\0';
    assert_false(auth_name_valid(long_name));
    assert_int_equal(auth_role_parse("admin"), AUTH_ROLE_ADMIN);
    assert_int_equal(auth_role_parse("viewer"), AUTH_ROLE_VIEWER);
    assert_int_equal(auth_role_parse("root"), AUTH_ROLE_NONE);
    assert_int_equal(auth_role_parse(NULL), AUTH_ROLE_NONE);
}

static void test_allowed(void **state)
{
    struct auth_principal admin = {.role = AUTH_ROLE_ADMIN};
    struct auth_principal viewer = {.role = AUTH_ROLE_VIEWER};
    struct auth_principal none = {.role = AUTH_ROLE_NONE};
    struct auth_principal branch = {.role = AUTH_ROLE_BRANCH};

    (void)state;
    assert_false(auth_allowed(&branch, false, false)); /* a branch reads nothing */
    assert_false(auth_allowed(&branch, true, false));
    assert_string_equal(auth_role_name(AUTH_ROLE_BRANCH), "branch");
    assert_int_equal(auth_role_parse("branch"), AUTH_ROLE_NONE); /* never a user's */
    assert_true(auth_allowed(&admin, true, true));
    assert_true(auth_allowed(&admin, false, false));
    assert_true(auth_allowed(&viewer, false, false));
    assert_false(auth_allowed(&viewer, true, false));
    assert_false(auth_allowed(&viewer, false, true));
    assert_false(auth_allowed(&none, false, false));
}

static void test_csrf(void **state)
{
    struct auth_principal s = {.role = AUTH_ROLE_ADMIN, .by_session = true};
    struct auth_principal t = {.role = AUTH_ROLE_ADMIN, .by_session = false};

    (void)state;
    snprintf(s.csrf, sizeof(s.csrf), "TTPFig_LrKn56-2IPndLzr_45ybqX0kGx8zHaBhm8ME");
    assert_true(auth_csrf_ok(&s, "TTPFig_LrKn56-2IPndLzr_45ybqX0kGx8zHaBhm8ME"));
    assert_false(auth_csrf_ok(&s, "TTPFig_LrKn56-2IPndLzr_45ybqX0kGx8zHaBhm8MF"));
    assert_false(auth_csrf_ok(&s, "TTPFig_LrKn56-2IPndLzr_45ybqX0kGx8zHaBhm8M"));
    assert_false(auth_csrf_ok(&s, ""));
    assert_false(auth_csrf_ok(&s, NULL));
    assert_true(auth_csrf_ok(&t, NULL)); /* bearer tokens need no CSRF token */
}

/* ---- throttling ---- */

static void test_throttle_rule(void **state)
{
    const int64_t M = AUTH_THROTTLE_MAX;
    int64_t retry = 0;

    (void)state;
    assert_int_equal(auth_throttle_rule(0, M, T0, T0, &retry), AUTH_OK);
    assert_int_equal(auth_throttle_rule(M - 1, M, T0, T0 + 10, &retry), AUTH_OK);
    assert_int_equal(auth_throttle_rule(M, M, T0, T0 + 10, &retry), AUTH_THROTTLED);
    assert_int_equal(retry, AUTH_THROTTLE_WINDOW - 10);
    assert_int_equal(auth_throttle_rule(M, M, T0, T0 + AUTH_THROTTLE_WINDOW - 1, &retry),
                     AUTH_THROTTLED);
    assert_int_equal(retry, 1);
    assert_int_equal(auth_throttle_rule(M, M, T0, T0 + AUTH_THROTTLE_WINDOW, &retry), AUTH_OK);
    /* a clock that went back does not lock anyone out */
    assert_int_equal(auth_throttle_rule(M, M, T0, T0 - 5, &retry), AUTH_OK);
    /* the per-address limit is its own */
    assert_int_equal(auth_throttle_rule(M, AUTH_THROTTLE_ADDR_MAX, T0, T0, &retry), AUTH_OK);
}

static void test_backoff_rule(void **state)
{
    static const struct {
        int64_t count, since_last, wait;
    } cases[] = {
        {0, 0, 0},
        {AUTH_BACKOFF_AFTER - 1, 0, 0},
        {AUTH_BACKOFF_AFTER, 0, 1},
        {AUTH_BACKOFF_AFTER, 1, 0},
        {AUTH_BACKOFF_AFTER + 1, 0, 2},
        {AUTH_BACKOFF_AFTER + 1, 1, 1},
        {AUTH_BACKOFF_AFTER + 3, 2, 6},
        {AUTH_BACKOFF_AFTER + 6, 0, AUTH_BACKOFF_MAX},
        {AUTH_BACKOFF_AFTER + 1000, 0, AUTH_BACKOFF_MAX},
        {AUTH_BACKOFF_AFTER + 1000, AUTH_BACKOFF_MAX, 0},
        {AUTH_BACKOFF_AFTER + 3, -5, 0}, /* the clock went back */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(auth_backoff_rule(cases[i].count, T0, T0 + cases[i].since_last),
                         cases[i].wait);
}

static void test_throttle_db(void **state)
{
    struct fixture *fx = *state;
    struct auth_throttle t;
    int64_t n = 0;

    for (int i = 0; i < AUTH_THROTTLE_MAX; i++) {
        assert_int_equal(auth_throttle_fail(fx->db, "addr:192.0.2.1", T0 + i, &n), AUTH_OK);
        assert_int_equal(n, i + 1);
    }
    assert_int_equal(auth_throttle_get(fx->db, "addr:192.0.2.1", T0 + 100, &t), AUTH_OK);
    assert_int_equal(t.count, AUTH_THROTTLE_MAX);
    assert_int_equal(t.window_start, T0);
    assert_int_equal(t.last_at, T0 + AUTH_THROTTLE_MAX - 1);
    assert_int_equal(auth_throttle_get(fx->db, "addr:192.0.2.2", T0 + 100, &t), AUTH_OK);
    assert_int_equal(t.count, 0);
    /* a past window counts as none, and a new one starts counting from one */
    assert_int_equal(auth_throttle_get(fx->db, "addr:192.0.2.1", T0 + AUTH_THROTTLE_WINDOW, &t),
                     AUTH_OK);
    assert_int_equal(t.count, 0);
    assert_int_equal(auth_throttle_fail(fx->db, "addr:192.0.2.1", T0 + AUTH_THROTTLE_WINDOW, &n),
                     AUTH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(auth_throttle_reset(fx->db, "addr:192.0.2.1"), AUTH_OK);
    assert_int_equal(auth_throttle_get(fx->db, "addr:192.0.2.1", T0 + AUTH_THROTTLE_WINDOW, &t),
                     AUTH_OK);
    assert_int_equal(t.count, 0);
}

static void test_addr_key(void **state)
{
    static const struct {
        const char *ip, *key;
    } cases[] = {
        {"192.0.2.1", "addr:192.0.2.1"},
        {"2001:db8:1:2:3:4:5:6", "addr:2001:db8:1:2::/64"},
        {"2001:db8:1:2::99", "addr:2001:db8:1:2::/64"},
        {"::1", "addr:::/64"},
        {"", "addr:-"},
        {NULL, "addr:-"},
        {"not-an-address", "addr:not-an-address"},
    };
    char key[AUTH_IP_MAX + 16];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        auth_addr_key(cases[i].ip, key, sizeof(key));
        assert_string_equal(key, cases[i].key);
    }
}

/* ---- users, login, sessions, tokens ---- */

static void test_users(void **state)
{
    struct fixture *fx = *state;
    struct auth_user u;
    int64_t n = -1;

    assert_int_equal(auth_user_add(fx->db, "test", "alice", AUTH_ROLE_ADMIN, "alice-password"),
                     AUTH_OK);
    assert_int_equal(auth_user_add(fx->db, "test", "alice", AUTH_ROLE_VIEWER, "other-password"),
                     AUTH_CONFLICT);
    assert_int_equal(auth_user_add(fx->db, "test", "bob", AUTH_ROLE_VIEWER, "short"), AUTH_INVALID);
    assert_int_equal(auth_user_add(fx->db, "test", "b b", AUTH_ROLE_VIEWER, "long-enough"),
                     AUTH_INVALID);
    assert_int_equal(auth_user_add(fx->db, "test", "bob", AUTH_ROLE_NONE, "long-enough"),
                     AUTH_INVALID);
    assert_int_equal(auth_user_find(fx->db, "alice", &u), AUTH_OK);
    assert_int_equal(u.role, AUTH_ROLE_ADMIN);
    assert_int_equal(auth_user_find(fx->db, "nobody", &u), AUTH_NOT_FOUND);
    /* the last admin can be neither removed nor demoted */
    assert_int_equal(auth_user_remove(fx->db, "test", "alice"), AUTH_CONFLICT);
    assert_int_equal(auth_user_set_role(fx->db, "test", "alice", AUTH_ROLE_VIEWER), AUTH_CONFLICT);
    assert_int_equal(auth_user_add(fx->db, "test", "carol", AUTH_ROLE_ADMIN, "carol-password"),
                     AUTH_OK);
    assert_int_equal(auth_user_set_role(fx->db, "test", "alice", AUTH_ROLE_VIEWER), AUTH_OK);
    assert_int_equal(auth_user_remove(fx->db, "test", "alice"), AUTH_OK);
    assert_int_equal(auth_user_remove(fx->db, "test", "alice"), AUTH_NOT_FOUND);
    assert_int_equal(auth_user_passwd(fx->db, "test", "alice", "new-password"), AUTH_NOT_FOUND);
    assert_int_equal(auth_user_count(fx->db, &n), AUTH_OK);
    assert_int_equal(n, 1);
}

static int64_t audit_count(sqlite3 *db, const char *action)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE action = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_login_and_throttle(void **state)
{
    struct fixture *fx = *state;
    struct auth_principal p;
    int64_t retry = 0;

    assert_int_equal(auth_user_add(fx->db, "test", "dave", AUTH_ROLE_VIEWER, "dave-password"),
                     AUTH_OK);
    assert_int_equal(auth_login(fx->db, "dave", "dave-password", "192.0.2.9", T0, &p, &retry),
                     AUTH_OK);
    assert_string_equal(p.user, "dave");
    assert_int_equal(p.role, AUTH_ROLE_VIEWER);
    assert_false(p.by_session);
    assert_int_equal(auth_login(fx->db, "nobody", "whatever-pw", "192.0.2.9", T0, &p, &retry),
                     AUTH_DENIED);
    assert_int_equal(auth_login(fx->db, "dave", NULL, "192.0.2.9", T0, &p, &retry), AUTH_DENIED);
    /* a flood of wrong passwords from one address throttles that address... */
    for (int i = 0; i < 40; i++)
        assert_int_equal(
            auth_login(fx->db, "dave", "wrong-password", "198.51.100.1", T0 + i, &p, &retry),
            i < AUTH_THROTTLE_MAX ? AUTH_DENIED : AUTH_THROTTLED);
    assert_int_equal(
        auth_login(fx->db, "dave", "dave-password", "198.51.100.1", T0 + 60, &p, &retry),
        AUTH_THROTTLED);
    assert_int_equal(retry, AUTH_THROTTLE_WINDOW - 60);
    assert_int_equal(audit_count(fx->db, "login.throttle"), 2); /* pair, then user backoff */
    /* ...and does not keep the right password out from another address */
    assert_int_equal(
        auth_login(fx->db, "dave", "dave-password", "203.0.113.1", T0 + 60, &p, &retry), AUTH_OK);
    /* the window passes: the flooding address may try again */
    assert_int_equal(auth_login(fx->db, "dave", "dave-password", "198.51.100.1",
                                T0 + AUTH_THROTTLE_WINDOW, &p, &retry),
                     AUTH_OK);
}

/* Failures from many addresses put the user in a short backoff that only
 * addresses which failed for it wait out. */
static void test_login_backoff(void **state)
{
    struct fixture *fx = *state;
    struct auth_principal p;
    int64_t retry = 0;
    char ip[32];

    assert_int_equal(auth_user_add(fx->db, "test", "dave", AUTH_ROLE_VIEWER, "dave-password"),
                     AUTH_OK);
    for (int i = 0; i < AUTH_BACKOFF_AFTER + 3; i++) {
        snprintf(ip, sizeof(ip), "198.51.100.%d", i);
        assert_int_equal(auth_login(fx->db, "dave", "wrong-password", ip, T0, &p, &retry),
                         AUTH_DENIED);
    }
    /* 198.51.100.0 failed before: it waits 2^3 s from the last failure */
    assert_int_equal(
        auth_login(fx->db, "dave", "dave-password", "198.51.100.0", T0 + 1, &p, &retry),
        AUTH_THROTTLED);
    assert_int_equal(retry, 7);
    /* a fresh address passes at once */
    assert_int_equal(auth_login(fx->db, "dave", "dave-password", "203.0.113.7", T0 + 1, &p, &retry),
                     AUTH_OK);
    /* success ends the backoff */
    assert_int_equal(
        auth_login(fx->db, "dave", "dave-password", "198.51.100.1", T0 + 2, &p, &retry), AUTH_OK);
}

static void test_login_per_address(void **state)
{
    struct fixture *fx = *state;
    struct auth_principal p;
    int64_t retry = 0;
    char user[32], ip[64];

    assert_int_equal(auth_user_add(fx->db, "test", "dave", AUTH_ROLE_VIEWER, "dave-password"),
                     AUTH_OK);
    /* failures against many names throttle the address */
    for (int i = 0; i < AUTH_THROTTLE_ADDR_MAX; i++) {
        snprintf(user, sizeof(user), "guess%d", i);
        assert_int_equal(
            auth_login(fx->db, user, "wrong-password", "192.0.2.66", T0 + 2000, &p, &retry),
            AUTH_DENIED);
    }
    assert_int_equal(
        auth_login(fx->db, "dave", "dave-password", "192.0.2.66", T0 + 2001, &p, &retry),
        AUTH_THROTTLED);
    assert_int_equal(
        auth_login(fx->db, "dave", "dave-password", "192.0.2.67", T0 + 2001, &p, &retry), AUTH_OK);
    /* the hosts of one IPv6 /64 count as one address */
    for (int i = 0; i < AUTH_THROTTLE_MAX; i++) {
        snprintf(ip, sizeof(ip), "2001:db8:1:2::%x", i + 1);
        assert_int_equal(auth_login(fx->db, "dave", "wrong-password", ip, T0 + 3000, &p, &retry),
                         AUTH_DENIED);
    }
    assert_int_equal(
        auth_login(fx->db, "dave", "dave-password", "2001:db8:1:2::beef", T0 + 3001, &p, &retry),
        AUTH_THROTTLED);
    assert_int_equal(
        auth_login(fx->db, "dave", "dave-password", "2001:db8:1:3::1", T0 + 3001, &p, &retry),
        AUTH_OK);
    /* an unknown name is counted like a known one */
    for (int i = 0; i < AUTH_THROTTLE_MAX; i++)
        assert_int_equal(
            auth_login(fx->db, "nobody", "wrong-password", "192.0.2.80", T0 + 4000, &p, &retry),
            AUTH_DENIED);
    assert_int_equal(
        auth_login(fx->db, "nobody", "wrong-password", "192.0.2.80", T0 + 4001, &p, &retry),
        AUTH_THROTTLED);
}

/* ---- login timing: an unknown user costs what a wrong password costs ---- */

static void test_dummy_hash(void **state)
{
    struct auth_phc phc;
    const char *dummy = auth_dummy_phc();

    (void)state;
    assert_int_equal(auth_phc_parse(dummy, strlen(dummy), &phc), AUTH_OK);
    assert_int_equal(phc.ln, AUTH_SCRYPT_LN);
    assert_int_equal(phc.r, AUTH_SCRYPT_R);
    assert_int_equal(phc.p, AUTH_SCRYPT_P);
    assert_int_equal(phc.salt_len, AUTH_SALT_LEN);
    assert_int_equal(phc.hash_len, AUTH_HASH_LEN);
    assert_string_equal(dummy, auth_dummy_phc()); /* made once */
    assert_int_equal(auth_password_verify("any password", dummy), AUTH_DENIED);
}

#define TIMING_SAMPLES 7

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Medians of interleaved samples, each from its own address (no throttle).
 * The bound is generous on purpose (tests/bench/login_timing.sh holds the
 * 20 % one): before the fix an unknown user answered ~80 times faster. */
static void test_login_timing(void **state)
{
    struct fixture *fx = *state;
    double known[TIMING_SAMPLES], unknown[TIMING_SAMPLES], t;
    struct auth_principal p;
    int64_t retry = 0;
    char ip[32];

    assert_int_equal(auth_user_add(fx->db, "test", "frank", AUTH_ROLE_VIEWER, "frank-password"),
                     AUTH_OK);
    for (int i = 0; i < TIMING_SAMPLES; i++) {
        snprintf(ip, sizeof(ip), "198.51.100.%d", i);
        t = now_s();
        assert_int_equal(auth_login(fx->db, "frank", "wrong-password", ip, T0, &p, &retry),
                         AUTH_DENIED);
        known[i] = now_s() - t;
        snprintf(ip, sizeof(ip), "203.0.113.%d", i);
        t = now_s();
        assert_int_equal(auth_login(fx->db, "nobody", "wrong-password", ip, T0, &p, &retry),
                         AUTH_DENIED);
        unknown[i] = now_s() - t;
    }
    qsort(known, TIMING_SAMPLES, sizeof(double), by_value);
    qsort(unknown, TIMING_SAMPLES, sizeof(double), by_value);
    print_message("login medians: wrong password %.1f ms, unknown user %.1f ms\n",
                  known[TIMING_SAMPLES / 2] * 1e3, unknown[TIMING_SAMPLES / 2] * 1e3);
    assert_true(unknown[TIMING_SAMPLES / 2] > known[TIMING_SAMPLES / 2] / 2);
    assert_true(unknown[TIMING_SAMPLES / 2] < known[TIMING_SAMPLES / 2] * 2);
}

static void test_sessions(void **state)
{
    struct fixture *fx = *state;
    struct auth_principal p, q;
    char id[AUTH_SECRET_TEXT], id2[AUTH_SECRET_TEXT];
    int64_t retry = 0, t;

    assert_int_equal(auth_user_add(fx->db, "test", "erin", AUTH_ROLE_ADMIN, "erin-password"),
                     AUTH_OK);
    assert_int_equal(auth_login(fx->db, "erin", "erin-password", "::1", T0, &p, &retry), AUTH_OK);
    assert_int_equal(auth_session_create(fx->db, &p, "::1", T0, id, sizeof(id)), AUTH_OK);
    assert_int_equal(strlen(id), 43);
    assert_true(p.by_session);
    assert_int_equal(strlen(p.csrf), 43);
    assert_int_equal(auth_session_check(fx->db, id, T0 + 5, &q), AUTH_OK);
    assert_string_equal(q.user, "erin");
    assert_string_equal(q.csrf, p.csrf);
    assert_true(q.by_session);
    assert_true(auth_csrf_ok(&q, p.csrf));
    /* malformed and unknown ids */
    assert_int_equal(auth_session_check(fx->db, "x", T0, &q), AUTH_DENIED);
    assert_int_equal(auth_session_check(fx->db, "", T0, &q), AUTH_DENIED);
    id[0] = id[0] == 'A' ? 'B' : 'A';
    assert_int_equal(auth_session_check(fx->db, id, T0, &q), AUTH_DENIED);

    /* idle expiry: 30 minutes without a request */
    assert_int_equal(auth_session_create(fx->db, &p, "::1", T0, id, sizeof(id)), AUTH_OK);
    assert_int_equal(auth_session_check(fx->db, id, T0 + AUTH_SESSION_IDLE - 1, &q), AUTH_OK);
    assert_int_equal(auth_session_check(fx->db, id, T0 + 2 * AUTH_SESSION_IDLE - 1, &q),
                     AUTH_DENIED);
    /* deleted: even an earlier clock does not bring it back */
    assert_int_equal(auth_session_check(fx->db, id, T0 + 1, &q), AUTH_DENIED);

    /* absolute expiry: active every 20 minutes, still over after 12 h */
    assert_int_equal(auth_session_create(fx->db, &p, "::1", T0, id2, sizeof(id2)), AUTH_OK);
    for (t = T0 + 1200; t < T0 + AUTH_SESSION_ABSOLUTE; t += 1200)
        assert_int_equal(auth_session_check(fx->db, id2, t, &q), AUTH_OK);
    assert_int_equal(auth_session_check(fx->db, id2, T0 + AUTH_SESSION_ABSOLUTE, &q), AUTH_DENIED);

    /* logout */
    assert_int_equal(auth_session_create(fx->db, &p, "::1", T0, id, sizeof(id)), AUTH_OK);
    assert_int_equal(auth_session_delete(fx->db, id, "erin"), AUTH_OK);
    assert_int_equal(auth_session_check(fx->db, id, T0 + 1, &q), AUTH_DENIED);
    assert_int_equal(auth_session_delete(fx->db, id, "erin"), AUTH_NOT_FOUND);

    /* a password change logs every session out */
    assert_int_equal(auth_session_create(fx->db, &p, "::1", T0, id, sizeof(id)), AUTH_OK);
    assert_int_equal(auth_user_passwd(fx->db, "test", "erin", "erin-password-2"), AUTH_OK);
    assert_int_equal(auth_session_check(fx->db, id, T0 + 1, &q), AUTH_DENIED);
    assert_int_equal(auth_sessions_prune(fx->db, T0 + AUTH_SESSION_ABSOLUTE + 1), 0);
}

/* Accounts change nothing a phone is served: users, logins, logouts,
 * passwords and tokens leave the provisioning generation where it was, so
 * none of them rebuilds the daemon's snapshots (or holds an admin write's
 * answer for one). */
static void test_accounts_leave_generation(void **state)
{
    struct fixture *fx = *state;
    struct auth_principal p;
    char id[AUTH_SECRET_TEXT], token[AUTH_SECRET_TEXT];
    int64_t before = 0, after = 0, retry = 0, tid = 0;

    assert_int_equal(db_generation(fx->db, &before), DB_OK);
    assert_int_equal(auth_user_add(fx->db, "test", "gina", AUTH_ROLE_ADMIN, "gina-password"),
                     AUTH_OK);
    assert_int_equal(auth_login(fx->db, "gina", "gina-password", "::1", T0, &p, &retry), AUTH_OK);
    assert_int_equal(auth_session_create(fx->db, &p, "::1", T0, id, sizeof(id)), AUTH_OK);
    assert_int_equal(auth_session_delete(fx->db, id, "gina"), AUTH_OK);
    assert_int_equal(auth_token_create(fx->db, "test", "gina", "ci", token, sizeof(token), &tid),
                     AUTH_OK);
    assert_int_equal(auth_token_remove(fx->db, "test", tid), AUTH_OK);
    assert_int_equal(auth_user_passwd(fx->db, "test", "gina", "gina-password-2"), AUTH_OK);
    assert_int_equal(db_generation(fx->db, &after), DB_OK);
    assert_int_equal(after, before);
}

static void test_tokens(void **state)
{
    struct fixture *fx = *state;
    struct auth_principal q;
    char token[AUTH_SECRET_TEXT];
    int64_t id = 0;

    assert_int_equal(auth_user_add(fx->db, "test", "frank", AUTH_ROLE_VIEWER, "frank-password"),
                     AUTH_OK);
    assert_int_equal(auth_token_create(fx->db, "test", "frank", "ci", token, sizeof(token), &id),
                     AUTH_OK);
    assert_true(strncmp(token, "lsd_", 4) == 0);
    assert_true(id > 0);
    assert_int_equal(auth_token_check(fx->db, token, T0, &q), AUTH_OK);
    assert_string_equal(q.user, "frank");
    assert_int_equal(q.role, AUTH_ROLE_VIEWER);
    assert_false(q.by_session);
    token[10] = token[10] == 'x' ? 'y' : 'x';
    assert_int_equal(auth_token_check(fx->db, token, T0, &q), AUTH_DENIED);
    assert_int_equal(auth_token_check(fx->db, "lsd_short", T0, &q), AUTH_DENIED);
    assert_int_equal(auth_token_create(fx->db, "test", "nobody", "ci", token, sizeof(token), &id),
                     AUTH_NOT_FOUND);
    assert_int_equal(auth_token_remove(fx->db, "test", id), AUTH_OK);
    assert_int_equal(auth_token_remove(fx->db, "test", id), AUTH_NOT_FOUND);
}

/* A branch token: made only by auth_branch_token_make, stored hashed (by
 * db/fleet), its principal "branch:NAME"; a changed, short or user token
 * is no branch's. */
static void test_branch_tokens(void **state)
{
    struct fixture *fx = *state;
    char token[AUTH_SECRET_TEXT], hash[SHA256_HEX_BUF], again[SHA256_HEX_BUF];
    struct auth_principal q;

    assert_int_equal(auth_branch_token_make(token, hash), AUTH_OK);
    assert_int_equal(strlen(token), 4 + 43);
    assert_true(auth_branch_token_well_formed(token));
    auth_secret_hash(token, again);
    assert_string_equal(hash, again);
    assert_int_equal(auth_branch_check(fx->db, token, &q), AUTH_DENIED); /* not registered */
    assert_int_equal(db_begin(fx->db), DB_OK);
    assert_int_equal(fleet_branch_add(fx->db, "test", "berlin-1", "198.51.100.7", hash), DB_OK);
    assert_int_equal(db_commit(fx->db), DB_OK);
    assert_int_equal(auth_branch_check(fx->db, token, &q), AUTH_OK);
    assert_string_equal(q.user, "branch:berlin-1");
    assert_string_equal(q.branch, "berlin-1");
    assert_int_equal(q.role, AUTH_ROLE_BRANCH);
    assert_false(q.by_session);
    token[10] = token[10] == 'x' ? 'y' : 'x';
    assert_int_equal(auth_branch_check(fx->db, token, &q), AUTH_DENIED);
    assert_int_equal(q.role, AUTH_ROLE_NONE);
    assert_int_equal(auth_branch_check(fx->db, "lsb_short", &q), AUTH_DENIED);
    assert_int_equal(auth_branch_check(fx->db, hash, &q), AUTH_DENIED); /* the hash is no token */
}

static void test_bootstrap(void **state)
{
    struct fixture *fx = *state;
    char password[64], path[PATH_MAX + 32], line[64];
    struct auth_principal p;
    struct stat st;
    int64_t retry = 0;
    FILE *f;

    assert_int_equal(auth_bootstrap(fx->db, fx->dir, password, sizeof(password)), 1);
    snprintf(path, sizeof(path), "%s/%s", fx->dir, AUTH_BOOTSTRAP_FILE);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    assert_string_equal(line, password);
    assert_int_equal(auth_login(fx->db, "admin", password, "::1", T0, &p, &retry), AUTH_OK);
    assert_int_equal(p.role, AUTH_ROLE_ADMIN);
    /* users exist now: nothing happens */
    assert_int_equal(auth_bootstrap(fx->db, fx->dir, password, sizeof(password)), 0);
    auth_bootstrap_forget(fx->dir);
    assert_int_not_equal(stat(path, &st), 0);
}

/* ---- the KDF thread ---- */

static struct {
    pthread_mutex_t lock;
    int inside, most_inside;
} kdf_seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct kdf_probe {
    pid_t tid; /* the thread fn ran on */
    int nice;  /* its nice value */
};

static int kdf_probe_run(void *arg)
{
    struct kdf_probe *pr = arg;
    struct timespec pause = {.tv_nsec = 20 * 1000 * 1000};

    pthread_mutex_lock(&kdf_seen.lock);
    kdf_seen.inside++;
    if (kdf_seen.inside > kdf_seen.most_inside)
        kdf_seen.most_inside = kdf_seen.inside;
    pthread_mutex_unlock(&kdf_seen.lock);
    pr->tid = gettid();
    pr->nice = getpriority(PRIO_PROCESS, (id_t)pr->tid);
    nanosleep(&pause, NULL); /* long enough for the callers to overlap */
    pthread_mutex_lock(&kdf_seen.lock);
    kdf_seen.inside--;
    pthread_mutex_unlock(&kdf_seen.lock);
    return 7;
}

struct kdf_caller {
    pid_t tid;
    int rc, hash_rc, verify_rc;
    struct kdf_probe probe;
};

/* An admin thread: at nice 19, then a probe and a real hash through kdf_run. */
static void *kdf_caller_main(void *arg)
{
    struct kdf_caller *c = arg;
    char phc[AUTH_PHC_MAX];

    c->tid = gettid();
    setpriority(PRIO_PROCESS, (id_t)c->tid, 19);
    c->rc = kdf_run(kdf_probe_run, &c->probe);
    c->hash_rc = auth_password_hash_cost("kdf thread pw", LN_FAST, 8, 1, phc, sizeof(phc));
    c->verify_rc = c->hash_rc == AUTH_OK ? auth_password_verify("kdf thread pw", phc) : -1;
    return NULL;
}

static void test_kdf_thread(void **state)
{
    int start_nice = getpriority(PRIO_PROCESS, (id_t)gettid());
    struct kdf_caller callers[4] = {0};
    pthread_t threads[4];
    struct kdf_probe inline_probe = {0};

    (void)state;
    assert_int_equal(kdf_worker_start(), 0);
    assert_int_equal(kdf_worker_start(), 0); /* started once */
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, kdf_caller_main, &callers[i]), 0);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(callers[i].rc, 7);
        assert_int_equal(callers[i].hash_rc, AUTH_OK);
        assert_int_equal(callers[i].verify_rc, AUTH_OK);
        /* run elsewhere, at the priority the thread was started with */
        assert_int_not_equal(callers[i].probe.tid, callers[i].tid);
        assert_int_equal(callers[i].probe.tid, callers[0].probe.tid);
        if (start_nice < 19)
            assert_int_equal(callers[i].probe.nice, start_nice);
    }
    assert_int_equal(kdf_seen.most_inside, 1); /* one at a time */
    kdf_worker_stop();
    kdf_worker_stop(); /* stopped once */
    assert_int_equal(kdf_run(kdf_probe_run, &inline_probe), 7);
    assert_int_equal(inline_probe.tid, gettid()); /* stopped: on the caller's thread */
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_round_trip),
        cmocka_unit_test(test_hash_default_cost),
        cmocka_unit_test(test_phc_table),
        cmocka_unit_test(test_phc_truncated),
        cmocka_unit_test(test_phc_tampered),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_names_roles),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_throttle_rule),
        cmocka_unit_test(test_backoff_rule),
        FX_TEST(test_throttle_db),
        cmocka_unit_test(test_addr_key),
        FX_TEST(test_users),
        FX_TEST(test_login_and_throttle),
        FX_TEST(test_login_backoff),
        FX_TEST(test_login_per_address),
        cmocka_unit_test(test_dummy_hash),
        cmocka_unit_test(test_kdf_thread),
        FX_TEST(test_login_timing),
        FX_TEST(test_sessions),
        FX_TEST(test_accounts_leave_generation),
        FX_TEST(test_tokens),
        FX_TEST(test_branch_tokens),
        FX_TEST(test_bootstrap),
    };

    log_set_level(LOG_LEVEL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
