/* test_catalog.c: db.c and catalog.c against a real SQLite file in a mkdtemp
 * dir: migrations, the generation counter, files, loads and their derived
 * status, pruning, trust anchors, imports, settings, audit (written and
 * read back), read transactions, a newer schema.
 * Must not reach past the database (no blob store, no import). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/catalog.h"
#include "db/db.h"
#include "db/jobrows.h"
#include "tests/unit/testdir.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define SHA_D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

struct fixture {
    char dir[PATH_MAX];
    char db_path[PATH_MAX + 16];
    sqlite3 *db;
};

/* ---- helpers ---- */

static int fx_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (fx == NULL || testdir_make("test_catalog", fx->dir) != 0)
        return -1;
    snprintf(fx->db_path, sizeof(fx->db_path), "%s/catalog.db", fx->dir);
    if (db_open(fx->db_path, &fx->db) != DB_OK)
        return -1;
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->db != NULL)
        db_close(fx->db);
    (void)testdir_remove(fx->dir);
    free(fx);
    return 0;
}

/* One integer from a query with an optional text parameter. */
static int64_t query_int(sqlite3 *db, const char *sql, const char *param)
{
    sqlite3_stmt *st = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (param != NULL)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void query_text(sqlite3 *db, const char *sql, int64_t param, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, param);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    db_column_text(st, 0, out, cap);
    sqlite3_finalize(st);
}

static int64_t generation(sqlite3 *db)
{
    int64_t g = -1;

    assert_int_equal(db_generation(db, &g), DB_OK);
    return g;
}

static int64_t put_file(sqlite3 *db, const char *name, const char *sha, uint64_t size)
{
    struct catalog_file f = {0};
    int64_t id = -1;

    snprintf(f.name, sizeof(f.name), "%s", name);
    snprintf(f.sha256, sizeof(f.sha256), "%s", sha);
    f.size = size;
    assert_int_equal(catalog_file_put(db, &f, &id), DB_OK);
    assert_true(id > 0);
    return id;
}

static int64_t put_load(sqlite3 *db, const char *name, const int64_t *ids, size_t n)
{
    struct catalog_load l = {0};
    int64_t id = -1;

    snprintf(l.name, sizeof(l.name), "%s", name);
    snprintf(l.signature, sizeof(l.signature), "unsigned");
    assert_int_equal(catalog_load_put(db, &l, ids[0], ids, n, &id), DB_OK);
    assert_true(id > 0);
    return id;
}

static int64_t count_rows(sqlite3 *db, const char *table_sql)
{
    return query_int(db, table_sql, NULL);
}

/* ---- db ---- */

static void test_open_migrates(void **state)
{
    struct fixture *fx = *state;
    int latest = db_migrations[db_migrations_count - 1].version;

    assert_true(db_migrations_count >= 1);
    assert_int_equal(db_schema_version(fx->db), latest);
    assert_int_equal(query_int(fx->db,
                               "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name"
                               " IN ('meta', 'settings', 'files', 'imports', 'loads',"
                               " 'load_files', 'trust', 'audit')",
                               NULL),
                     8);
    assert_int_equal(query_int(fx->db, "PRAGMA foreign_keys", NULL), 1);
    {
        sqlite3_stmt *st = db_prepare(fx->db, "PRAGMA journal_mode");
        char mode[16];

        assert_non_null(st);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        db_column_text(st, 0, mode, sizeof(mode));
        sqlite3_finalize(st);
        assert_string_equal(mode, "wal");
    }
    assert_int_equal(generation(fx->db), 1);
}

static void test_open_twice_is_noop(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *second = NULL;
    int latest = db_migrations[db_migrations_count - 1].version;

    assert_int_equal(catalog_setting_set(fx->db, "signature_policy", "any"), DB_OK);
    /* a second handle while the first is open, then a reopen */
    assert_int_equal(db_open(fx->db_path, &second), DB_OK);
    assert_int_equal(db_schema_version(second), latest);
    db_close(second);
    db_close(fx->db);
    fx->db = NULL;
    assert_int_equal(db_open(fx->db_path, &fx->db), DB_OK);
    assert_int_equal(db_schema_version(fx->db), latest);
    assert_int_equal(generation(fx->db), 1);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM meta WHERE key = 'generation'"), 1);
    {
        char v[16];

        /* the migration's default was not applied again */
        assert_int_equal(catalog_setting_get(fx->db, "signature_policy", v, sizeof(v)), DB_OK);
        assert_string_equal(v, "any");
    }
}

static void test_too_new_refused(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *raw = NULL, *db = (sqlite3 *)0x1;

    db_close(fx->db);
    fx->db = NULL;
    assert_int_equal(sqlite3_open(fx->db_path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(db_open(fx->db_path, &db), DB_TOO_NEW);
    assert_ptr_equal(db, (sqlite3 *)0x1); /* left alone on failure */
    /* the read-only reader still opens it, and sees the version */
    assert_int_equal(db_open_readonly(fx->db_path, &db), DB_OK);
    assert_int_equal(db_schema_version(db), 999);
    db_close(db);
}

static void test_open_garbage_file(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX + 32];
    sqlite3 *db = NULL;
    FILE *f;

    snprintf(path, sizeof(path), "%s/garbage.db", fx->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 512; i++)
        fputs("not a database ", f);
    fclose(f);
    assert_int_equal(db_open(path, &db), DB_ERROR);
    snprintf(path, sizeof(path), "%s/no/such/dir/x.db", fx->dir);
    assert_int_equal(db_open(path, &db), DB_ERROR);
}

static void test_generation(void **state)
{
    struct fixture *fx = *state;
    int64_t g0 = generation(fx->db);

    assert_int_equal(db_begin(fx->db), DB_OK);
    put_file(fx->db, "a.sbn", SHA_A, 1);
    assert_int_equal(db_commit(fx->db), DB_OK);
    assert_int_equal(generation(fx->db), g0 + 1);

    /* a rollback leaves both the rows and the counter */
    assert_int_equal(db_begin(fx->db), DB_OK);
    put_file(fx->db, "b.sbn", SHA_B, 2);
    db_rollback(fx->db);
    assert_int_equal(generation(fx->db), g0 + 1);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM files"), 1);

    /* every commit moves it, even an empty one */
    assert_int_equal(db_begin(fx->db), DB_OK);
    assert_int_equal(db_commit(fx->db), DB_OK);
    assert_int_equal(generation(fx->db), g0 + 2);

    /* another connection sees the counter move */
    {
        sqlite3 *reader = NULL;
        int64_t g = 0;

        assert_int_equal(db_open_readonly(fx->db_path, &reader), DB_OK);
        assert_int_equal(db_generation(reader, &g), DB_OK);
        assert_int_equal(g, g0 + 2);
        assert_int_equal(db_begin(fx->db), DB_OK);
        assert_int_equal(catalog_setting_set(fx->db, "k", "v"), DB_OK);
        assert_int_equal(db_commit(fx->db), DB_OK);
        assert_int_equal(db_generation(reader, &g), DB_OK);
        assert_int_equal(g, g0 + 3);
        db_close(reader);
    }
    /* a rollback outside a transaction is harmless */
    db_rollback(fx->db);
    assert_int_equal(generation(fx->db), g0 + 3);
}

/* ---- files ---- */

static void test_fold(void **state)
{
    char out[8];

    (void)state;
    catalog_fold("SIP41.Loads", out, sizeof(out));
    assert_string_equal(out, "sip41.l");
    catalog_fold("", out, sizeof(out));
    assert_string_equal(out, "");
    catalog_fold("ABC", out, 1);
    assert_string_equal(out, "");
}

static void test_file_put_find(void **state)
{
    struct fixture *fx = *state;
    struct catalog_file f = {0}, got;
    int64_t id, id2 = -1;
    int changed = -1;

    id = put_file(fx->db, "jar41.9-4-2ES26.sbn", SHA_A, 1234);
    assert_int_equal(catalog_file_find(fx->db, "JAR41.9-4-2es26.SBN", &got), DB_OK);
    assert_int_equal(got.id, id);
    assert_string_equal(got.name, "jar41.9-4-2ES26.sbn");
    assert_int_equal(got.size, 1234);
    assert_string_equal(got.sha256, SHA_A);
    assert_string_equal(got.status, "ok");
    assert_string_equal(got.signature, "none"); /* the default */
    assert_string_equal(got.signer, "");
    assert_int_equal(catalog_file_find(fx->db, "jar41.sbn", &got), DB_NOT_FOUND);

    /* quarantine it, then put new bytes under the name in other case */
    assert_int_equal(catalog_file_set_status(fx->db, SHA_A, "quarantined", &changed), DB_OK);
    assert_int_equal(changed, 1);
    snprintf(f.name, sizeof(f.name), "JAR41.9-4-2ES26.SBN");
    snprintf(f.sha256, sizeof(f.sha256), SHA_B);
    snprintf(f.signature, sizeof(f.signature), "signed");
    snprintf(f.signer, sizeof(f.signer), "CN=someSigner");
    f.size = 99;
    assert_int_equal(catalog_file_put(fx->db, &f, &id2), DB_OK);
    assert_int_equal(id2, id); /* RETURNING id on the update too */
    assert_int_equal(catalog_file_find(fx->db, "jar41.9-4-2es26.sbn", &got), DB_OK);
    assert_string_equal(got.name, "JAR41.9-4-2ES26.SBN");
    assert_string_equal(got.sha256, SHA_B);
    assert_int_equal(got.size, 99);
    assert_string_equal(got.status, "ok");
    assert_string_equal(got.signature, "signed");
    assert_string_equal(got.signer, "CN=someSigner");
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM files"), 1);

    /* a second name gets a second id */
    assert_true(put_file(fx->db, "dsp41.sbn", SHA_C, 5) != id);
}

static void test_file_put_constraints(void **state)
{
    struct fixture *fx = *state;
    struct catalog_file f = {0};
    int64_t id = 0;

    snprintf(f.name, sizeof(f.name), "short-hash.sbn");
    snprintf(f.sha256, sizeof(f.sha256), "abc");
    assert_int_equal(catalog_file_put(fx->db, &f, &id), DB_CONFLICT);
    snprintf(f.sha256, sizeof(f.sha256), SHA_A);
    snprintf(f.signature, sizeof(f.signature), "signed");
    snprintf(f.sig_hash, sizeof(f.sig_hash), "md5");
    assert_int_equal(catalog_file_put(fx->db, &f, &id), DB_CONFLICT);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM files"), 0);
}

static void test_file_set_status(void **state)
{
    struct fixture *fx = *state;
    int changed = -1;
    bool used = false;

    put_file(fx->db, "one.sbn", SHA_A, 1);
    put_file(fx->db, "same-bytes.sbn", SHA_A, 1);
    put_file(fx->db, "other.sbn", SHA_B, 2);
    assert_int_equal(catalog_file_set_status(fx->db, SHA_A, "quarantined", &changed), DB_OK);
    assert_int_equal(changed, 2);
    assert_int_equal(catalog_file_set_status(fx->db, SHA_A, "quarantined", &changed), DB_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(catalog_file_set_status(fx->db, SHA_C, "quarantined", &changed), DB_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM files WHERE status ="
                                        " 'quarantined' AND checked_at IS NOT NULL"),
                     2);
    assert_int_equal(catalog_file_set_status(fx->db, SHA_A, "ok", &changed), DB_OK);
    assert_int_equal(changed, 2);
    assert_int_equal(catalog_file_set_status(fx->db, SHA_B, "broken", NULL), DB_CONFLICT);
    assert_int_equal(catalog_file_checked(fx->db, SHA_B), DB_OK);
    assert_int_equal(
        query_int(fx->db, "SELECT checked_at IS NOT NULL FROM files WHERE sha256 = ?1", SHA_B), 1);
    assert_int_equal(catalog_blob_referenced(fx->db, SHA_B, &used), DB_OK);
    assert_true(used);
    assert_int_equal(catalog_blob_referenced(fx->db, SHA_D, &used), DB_OK);
    assert_false(used);
}

/* ---- loads ---- */

static int collect_names(void *arg, const struct catalog_file *f)
{
    char *out = arg;

    strcat(out, f->name);
    strcat(out, ";");
    return 0;
}

static int stop_at_first(void *arg, const struct catalog_file *f)
{
    (void)f;
    (*(int *)arg)++;
    return 42;
}

static void test_load_put_find(void **state)
{
    struct fixture *fx = *state;
    int64_t ids[3], lid, lid2;
    struct catalog_load l;
    char names[512] = "";
    int calls = 0, changed = 0;

    ids[0] = put_file(fx->db, "SIP41.loads", SHA_A, 100);
    ids[1] = put_file(fx->db, "jar41.sbn", SHA_B, 2000);
    ids[2] = put_file(fx->db, "apps41.sbn", SHA_C, 30000);
    lid = put_load(fx->db, "SIP41", ids, 3);
    assert_int_equal(catalog_load_find(fx->db, "sip41", &l), DB_OK);
    assert_int_equal(l.id, lid);
    assert_string_equal(l.name, "SIP41");
    assert_string_equal(l.signature, "unsigned");
    assert_string_equal(l.status, "unsigned");
    assert_string_equal(l.signer, "");
    assert_int_equal(l.file_count, 3);
    assert_int_equal(l.total_size, 32100);
    assert_true(l.created_at > 0);
    assert_int_equal(catalog_load_find(fx->db, "SIP42", &l), DB_NOT_FOUND);

    /* a load's files: the .loads file first, then by name */
    assert_int_equal(catalog_files_each(fx->db, "Sip41", collect_names, names), DB_OK);
    assert_string_equal(names, "SIP41.loads;apps41.sbn;jar41.sbn;");
    names[0] = '\0';
    assert_int_equal(catalog_files_each(fx->db, NULL, collect_names, names), DB_OK);
    assert_string_equal(names, "apps41.sbn;jar41.sbn;SIP41.loads;");
    assert_int_equal(catalog_files_each(fx->db, NULL, stop_at_first, &calls), 42);
    assert_int_equal(calls, 1);

    /* one quarantined file makes the load quarantined */
    assert_int_equal(catalog_file_set_status(fx->db, SHA_C, "quarantined", &changed), DB_OK);
    assert_int_equal(catalog_load_find(fx->db, "SIP41", &l), DB_OK);
    assert_string_equal(l.status, "quarantined");
    assert_string_equal(l.signature, "unsigned");
    assert_int_equal(catalog_file_set_status(fx->db, SHA_C, "ok", &changed), DB_OK);
    assert_int_equal(catalog_load_find(fx->db, "SIP41", &l), DB_OK);
    assert_string_equal(l.status, "unsigned");

    /* put again under another case: the same row, new links and fields; its
     * .loads file now has a signed header, jar41.sbn still none: partial */
    {
        struct catalog_load again = {0};
        struct catalog_file f = {0};

        snprintf(f.name, sizeof(f.name), "SIP41.loads");
        snprintf(f.sha256, sizeof(f.sha256), SHA_A);
        snprintf(f.signature, sizeof(f.signature), "signed");
        f.size = 100;
        assert_int_equal(catalog_file_put(fx->db, &f, &ids[0]), DB_OK);

        snprintf(again.name, sizeof(again.name), "sip41");
        snprintf(again.signature, sizeof(again.signature), "signed");
        snprintf(again.signer, sizeof(again.signer), "CN=someSigner");
        assert_int_equal(catalog_load_put(fx->db, &again, ids[0], ids, 2, &lid2), DB_OK);
    }
    assert_int_equal(lid2, lid);
    assert_int_equal(catalog_load_find(fx->db, "SIP41", &l), DB_OK);
    assert_string_equal(l.name, "sip41");
    assert_string_equal(l.status, "partial");
    assert_string_equal(l.culprit, "jar41.sbn");
    assert_string_equal(l.signer, "CN=someSigner");
    assert_int_equal(l.file_count, 2);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM loads"), 1);
}

static int count_loads(void *arg, const struct catalog_load *l)
{
    (void)l;
    (*(int *)arg)++;
    return 0;
}

static void test_load_remove_prunes(void **state)
{
    struct fixture *fx = *state;
    int64_t a[3], b[3];
    struct catalog_file f;
    struct catalog_load l;
    int n = 0, removed = -1;

    a[0] = put_file(fx->db, "A.loads", SHA_A, 1);
    a[1] = put_file(fx->db, "only-a.sbn", SHA_B, 2);
    a[2] = put_file(fx->db, "shared.sbn", SHA_C, 3);
    b[0] = put_file(fx->db, "B.loads", SHA_D, 4);
    b[1] = a[2];
    put_load(fx->db, "A", a, 3);
    put_load(fx->db, "B", b, 2);
    assert_int_equal(catalog_loads_each(fx->db, count_loads, &n), DB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(catalog_sig_check_put(fx->db, SHA_B, SHA_D, "ok"), DB_OK);
    assert_int_equal(catalog_sig_check_put(fx->db, SHA_C, SHA_D, "ok"), DB_OK);

    assert_int_equal(catalog_load_remove(fx->db, "a"), DB_OK);
    /* the checks of only-a.sbn's bytes go with it; the shared file's stay */
    assert_int_equal(
        count_rows(fx->db, "SELECT count(*) FROM sig_checks WHERE sha256 = '" SHA_B "'"), 0);
    assert_int_equal(
        count_rows(fx->db, "SELECT count(*) FROM sig_checks WHERE sha256 = '" SHA_C "'"), 1);
    assert_int_equal(catalog_load_find(fx->db, "A", &l), DB_NOT_FOUND);
    assert_int_equal(catalog_file_find(fx->db, "A.loads", &f), DB_NOT_FOUND);
    assert_int_equal(catalog_file_find(fx->db, "only-a.sbn", &f), DB_NOT_FOUND);
    assert_int_equal(catalog_file_find(fx->db, "shared.sbn", &f), DB_OK);
    assert_int_equal(catalog_file_find(fx->db, "B.loads", &f), DB_OK);
    assert_int_equal(catalog_load_find(fx->db, "B", &l), DB_OK);
    assert_int_equal(l.file_count, 2);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM load_files"), 2);
    assert_int_equal(catalog_load_remove(fx->db, "A"), DB_NOT_FOUND);

    /* a file no load lists is pruned on its own too */
    b[2] = put_file(fx->db, "stray.sbn", SHA_A, 9);
    (void)b[2];
    assert_int_equal(catalog_files_prune(fx->db, &removed), DB_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(catalog_load_remove(fx->db, "B"), DB_OK);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM files"), 0);
    n = 0;
    assert_int_equal(catalog_loads_each(fx->db, count_loads, &n), DB_OK);
    assert_int_equal(n, 0);
}

static void test_load_foreign_keys(void **state)
{
    struct fixture *fx = *state;
    struct catalog_load l = {0};
    int64_t ids[1] = {4242}, id = 0;

    snprintf(l.name, sizeof(l.name), "ghost");
    snprintf(l.signature, sizeof(l.signature), "unsigned");
    assert_int_equal(db_begin(fx->db), DB_OK);
    assert_int_equal(catalog_load_put(fx->db, &l, ids[0], ids, 1, &id), DB_CONFLICT);
    db_rollback(fx->db);
    snprintf(l.approval_cert, sizeof(l.approval_cert), "not-a-fingerprint");
    ids[0] = put_file(fx->db, "ghost.loads", SHA_A, 1);
    assert_int_equal(catalog_load_put(fx->db, &l, ids[0], ids, 1, &id), DB_CONFLICT);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM loads"), 0);
}

/* ---- trust ---- */

struct trust_seen {
    int n;
    char roles[64];
    char last_pem[64];
};

static int collect_trust(void *arg, const struct catalog_trust *t)
{
    struct trust_seen *s = arg;

    s->n++;
    strcat(s->roles, t->role);
    strcat(s->roles, ";");
    snprintf(s->last_pem, sizeof(s->last_pem), "%s", t->pem ? t->pem : "(null)");
    return 0;
}

/* A signed file (its header recorded) with the given bytes. */
static int64_t put_signed_file(sqlite3 *db, const char *name, const char *sha)
{
    struct catalog_file f = {0};
    int64_t id = -1;

    snprintf(f.name, sizeof(f.name), "%s", name);
    snprintf(f.sha256, sizeof(f.sha256), "%s", sha);
    snprintf(f.signature, sizeof(f.signature), "signed");
    snprintf(f.sig_hash, sizeof(f.sig_hash), "sha256");
    f.size = 10;
    assert_int_equal(catalog_file_put(db, &f, &id), DB_OK);
    return id;
}

static int64_t add_anchor(sqlite3 *db, const char *role, const char *sha)
{
    struct catalog_trust t = {0};
    int64_t id = 0;

    snprintf(t.role, sizeof(t.role), "%s", role);
    snprintf(t.subject, sizeof(t.subject), "CN=%s", role);
    snprintf(t.issuer, sizeof(t.issuer), "CN=%s", role);
    snprintf(t.serial, sizeof(t.serial), "01");
    snprintf(t.sha256, sizeof(t.sha256), "%s", sha);
    assert_int_equal(catalog_trust_add(db, &t, "PEM", &id), DB_OK);
    return id;
}

static void want_load(sqlite3 *db, const char *status, bool served, const char *culprit)
{
    struct catalog_load l;

    assert_int_equal(catalog_load_find(db, "SIP41", &l), DB_OK);
    assert_string_equal(l.status, status);
    assert_int_equal(l.served, served);
    assert_string_equal(l.culprit, culprit);
}

/* The status is derived on every read from the recorded checks and the trust
 * store as it is now: trusting, distrusting and the policy change it. */
static void test_load_status_follows_trust(void **state)
{
    struct fixture *fx = *state;
    struct catalog_statuses before;
    int64_t ids[2], vid, id;
    unsigned changed = 9;
    struct catalog_file f;

    ids[0] = put_signed_file(fx->db, "SIP41.loads", SHA_A);
    ids[1] = put_signed_file(fx->db, "jar41.sbn", SHA_B);
    put_load(fx->db, "SIP41", ids, 2);
    /* checks on record against certificate C; nobody trusts it yet */
    assert_int_equal(catalog_sig_check_put(fx->db, SHA_A, SHA_C, "ok"), DB_OK);
    assert_int_equal(catalog_sig_check_put(fx->db, SHA_B, SHA_C, "ok"), DB_OK);
    want_load(fx->db, "signed", true, "");
    assert_int_equal(catalog_statuses_get(fx->db, &before), DB_OK);
    vid = add_anchor(fx->db, "vendor", SHA_C);
    want_load(fx->db, "verified", true, "");
    assert_int_equal(catalog_file_find(fx->db, "JAR41.SBN", &f), DB_OK);
    assert_string_equal(f.signature, "verified");
    assert_string_equal(f.sig_hash, "sha256");
    /* the change is audited with the load that changed */
    assert_int_equal(catalog_statuses_audit(fx->db, "t", "trust.add", &before, &changed), DB_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM audit WHERE action ="
                                        " 'loads.reevaluate' AND after LIKE"
                                        " '%\"before\":\"signed\",\"after\":\"verified\"%'"),
                     1);
    assert_int_equal(catalog_statuses_audit(fx->db, "t", "again", &before, &changed), DB_OK);
    catalog_statuses_free(&before);
    /* policy verified: served only while verified */
    assert_int_equal(catalog_setting_set(fx->db, "signature_policy", "verified"), DB_OK);
    want_load(fx->db, "verified", true, "");
    assert_int_equal(catalog_trust_remove(fx->db, vid), DB_OK);
    want_load(fx->db, "signed", false, "");
    /* the same certificate under the approval role verifies nothing */
    add_anchor(fx->db, "approval", SHA_C);
    want_load(fx->db, "signed", false, "");
    /* a check that failed against a trusted certificate: invalid, never served */
    add_anchor(fx->db, "vendor", SHA_D);
    assert_int_equal(catalog_sig_check_put(fx->db, SHA_B, SHA_D, "bad"), DB_OK);
    assert_int_equal(catalog_setting_set(fx->db, "signature_policy", "any"), DB_OK);
    want_load(fx->db, "invalid", false, "jar41.sbn");
    assert_int_equal(catalog_file_find(fx->db, "jar41.sbn", &f), DB_OK);
    assert_string_equal(f.signature, "bad");
    /* an unsigned component: partial, named as the weakest file */
    assert_int_equal(catalog_sig_check_put(fx->db, SHA_B, SHA_D, "not_signer"), DB_OK);
    ids[1] = put_file(fx->db, "dsp41.sbn", SHA_B, 5);
    put_load(fx->db, "SIP41", ids, 2);
    want_load(fx->db, "partial", true, "dsp41.sbn");
    /* an approval by a certificate trusted now covers every file */
    {
        struct catalog_load l = {0};

        snprintf(l.name, sizeof(l.name), "SIP41");
        snprintf(l.signature, sizeof(l.signature), "verified");
        snprintf(l.approval_cert, sizeof(l.approval_cert), SHA_C);
        assert_int_equal(catalog_load_put(fx->db, &l, ids[0], ids, 2, &id), DB_OK);
    }
    want_load(fx->db, "verified", true, "");
}

static void test_trust(void **state)
{
    struct fixture *fx = *state;
    struct catalog_trust t = {0};
    struct trust_seen seen = {0};
    int64_t vid = 0, aid = 0, dup = 0;

    snprintf(t.role, sizeof(t.role), "vendor");
    snprintf(t.subject, sizeof(t.subject), "CN=Vendor");
    snprintf(t.issuer, sizeof(t.issuer), "CN=Vendor CA");
    snprintf(t.serial, sizeof(t.serial), "1234567890abcdef");
    snprintf(t.sha256, sizeof(t.sha256), SHA_A);
    t.not_after = 2000000000;
    assert_int_equal(catalog_trust_add(fx->db, &t, "PEM-VENDOR", &vid), DB_OK);
    snprintf(t.role, sizeof(t.role), "approval");
    snprintf(t.sha256, sizeof(t.sha256), SHA_B);
    assert_int_equal(catalog_trust_add(fx->db, &t, "PEM-APPROVAL", &aid), DB_OK);
    assert_true(vid > 0 && aid > vid);

    /* the same certificate twice */
    snprintf(t.sha256, sizeof(t.sha256), SHA_A);
    assert_int_equal(catalog_trust_add(fx->db, &t, "PEM-AGAIN", &dup), DB_CONFLICT);
    /* a role that is neither */
    snprintf(t.role, sizeof(t.role), "root");
    snprintf(t.sha256, sizeof(t.sha256), SHA_C);
    assert_int_equal(catalog_trust_add(fx->db, &t, "PEM", &dup), DB_CONFLICT);

    assert_int_equal(catalog_trust_each(fx->db, NULL, collect_trust, &seen), DB_OK);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.roles, "vendor;approval;");
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(catalog_trust_each(fx->db, "vendor", collect_trust, &seen), DB_OK);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.last_pem, "PEM-VENDOR");

    assert_int_equal(catalog_trust_remove(fx->db, vid), DB_OK);
    assert_int_equal(catalog_trust_remove(fx->db, vid), DB_NOT_FOUND);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(catalog_trust_each(fx->db, NULL, collect_trust, &seen), DB_OK);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.roles, "approval;");
    /* once removed, the certificate may be added again */
    snprintf(t.role, sizeof(t.role), "vendor");
    snprintf(t.sha256, sizeof(t.sha256), SHA_A);
    assert_int_equal(catalog_trust_add(fx->db, &t, "PEM-VENDOR", &dup), DB_OK);
}

/* ---- imports, settings, audit ---- */

static void test_imports(void **state)
{
    struct fixture *fx = *state;
    int64_t a = 0, b = 0, c = 0;
    int changed = -1;
    char text[512];

    assert_int_equal(catalog_import_start(fx->db, "bundle.tgz", "admin", &a), DB_OK);
    assert_int_equal(catalog_import_start(fx->db, "other.zip", "admin", &b), DB_OK);
    assert_int_equal(catalog_import_start(fx->db, "third.tar", "cli", &c), DB_OK);
    assert_true(a > 0 && b > a && c > b);
    query_text(fx->db, "SELECT state FROM imports WHERE id = ?1", a, text, sizeof(text));
    assert_string_equal(text, "running");

    assert_int_equal(catalog_import_finish(fx->db, b, "done", "{\"ok\":true}"), DB_OK);
    assert_int_equal(catalog_import_finish(fx->db, c, "failed", NULL), DB_OK);
    query_text(fx->db, "SELECT state || ' ' || report FROM imports WHERE id = ?1", b, text,
               sizeof(text));
    assert_string_equal(text, "done {\"ok\":true}");
    assert_int_equal(query_int(fx->db,
                               "SELECT report IS NULL AND finished_at IS NOT NULL FROM"
                               " imports WHERE state = 'failed'",
                               NULL),
                     1);
    assert_int_equal(catalog_import_finish(fx->db, c, "exploded", NULL), DB_CONFLICT);

    /* a crash left a running: recovery marks it failed, once */
    assert_int_equal(catalog_imports_recover(fx->db, &changed), DB_OK);
    assert_int_equal(changed, 1);
    query_text(fx->db, "SELECT state FROM imports WHERE id = ?1", a, text, sizeof(text));
    assert_string_equal(text, "failed");
    query_text(fx->db, "SELECT report FROM imports WHERE id = ?1", a, text, sizeof(text));
    assert_non_null(strstr(text, "\"ok\":false"));
    assert_non_null(strstr(text, "interrupted"));
    query_text(fx->db, "SELECT state FROM imports WHERE id = ?1", b, text, sizeof(text));
    assert_string_equal(text, "done");
    assert_int_equal(catalog_imports_recover(fx->db, &changed), DB_OK);
    assert_int_equal(changed, 0);
}

static void test_settings(void **state)
{
    struct fixture *fx = *state;
    char v[32], tiny[4];
    int64_t before = count_rows(fx->db, "SELECT count(*) FROM settings");

    assert_int_equal(catalog_setting_get(fx->db, "signature_policy", v, sizeof(v)), DB_OK);
    assert_string_equal(v, "signed"); /* the migration's default */
    assert_int_equal(catalog_setting_set(fx->db, "signature_policy", "any"), DB_OK);
    assert_int_equal(catalog_setting_get(fx->db, "signature_policy", v, sizeof(v)), DB_OK);
    assert_string_equal(v, "any");
    assert_int_equal(catalog_setting_get(fx->db, "nope", v, sizeof(v)), DB_NOT_FOUND);
    assert_int_equal(catalog_setting_set(fx->db, "long", "abcdefgh"), DB_OK);
    assert_int_equal(catalog_setting_get(fx->db, "long", tiny, sizeof(tiny)), DB_OK);
    assert_string_equal(tiny, "abc");
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM settings"), before + 1);
}

static void test_audit(void **state)
{
    struct fixture *fx = *state;
    char text[256];

    assert_int_equal(catalog_audit(fx->db, "admin", "load.import", "SIP41", NULL, "unsigned"),
                     DB_OK);
    assert_int_equal(catalog_audit(fx->db, "cli", "file.replace", "jar41.sbn", SHA_A, SHA_B),
                     DB_OK);
    assert_int_equal(catalog_audit(fx->db, "cli", "trust.add", "CN=x", "", NULL), DB_OK);
    assert_int_equal(count_rows(fx->db, "SELECT count(*) FROM audit"), 3);
    query_text(fx->db,
               "SELECT actor || '|' || action || '|' || object || '|' ||"
               " coalesce(before, 'NULL') || '|' || after FROM audit WHERE id = ?1",
               1, text, sizeof(text));
    assert_string_equal(text, "admin|load.import|SIP41|NULL|unsigned");
    query_text(fx->db, "SELECT before || '>' || after FROM audit WHERE id = ?1", 2, text,
               sizeof(text));
    assert_string_equal(text, SHA_A ">" SHA_B);
    /* "" is stored as NULL, like an absent value */
    assert_int_equal(
        query_int(fx->db, "SELECT before IS NULL AND after IS NULL FROM audit WHERE id = 3", NULL),
        1);
    assert_int_equal(query_int(fx->db, "SELECT min(at) > 0 FROM audit", NULL), 1);
}

/* catalog_audit_each's callback: "id:actor:action" of each entry, ' '
 * apart; stops (1) after stop entries when stop is not 0. */
struct audit_seen {
    char text[256];
    unsigned n, stop;
};

static int collect_audit(void *arg, const struct catalog_audit_entry *e)
{
    struct audit_seen *a = arg;
    size_t n = strlen(a->text);

    snprintf(a->text + n, sizeof(a->text) - n, "%s%lld:%s:%s", n ? " " : "", (long long)e->id,
             e->actor, e->action);
    return ++a->n == a->stop;
}

#define AUDIT_ALL                                                                                  \
    "5:cli:file.quarantine 4:bob:user.add 3:cli:file.quarantine 2:admin:user.role "                \
    "1:admin:user.add"

/* ---- jobs interrupted by a stop ---- */

static char *interrupted_report(void *arg, const char *source)
{
    char *text = malloc(256);

    (*(int *)arg)++;
    if (text != NULL)
        snprintf(text, 256, "{\"ok\":false,\"source\":\"%s\"}", source);
    return text;
}

static char *no_report(void *arg, const char *source)
{
    (void)arg;
    (void)source;
    return NULL;
}

struct job_seen {
    char state[16];
    char report[256];
};

static int job_read(void *arg, const struct jobrow *r)
{
    struct job_seen *seen = arg;

    snprintf(seen->state, sizeof(seen->state), "%s", r->state != NULL ? r->state : "");
    snprintf(seen->report, sizeof(seen->report), "%s", r->report != NULL ? r->report : "");
    return 0;
}

/* Queued and running jobs end failed with the caller's report, in one
 * transaction; finished ones are untouched; a report that cannot be built
 * changes nothing. */
static void test_jobs_recover(void **state)
{
    struct fixture *fx = *state;
    int64_t queued, running, done;
    struct job_seen seen;
    int calls = 0, changed = -1;

    assert_int_equal(jobrows_add(fx->db, "import", "a.zip", "admin", 100, &queued), DB_OK);
    assert_int_equal(jobrows_add(fx->db, "import", "b.zip", "admin", 101, &running), DB_OK);
    assert_int_equal(jobrows_running(fx->db, running, 42), DB_OK);
    assert_int_equal(jobrows_add(fx->db, "import", "c.zip", "admin", 102, &done), DB_OK);
    assert_int_equal(jobrows_finish(fx->db, done, true, 0, "{\"ok\":true}", 103), DB_OK);

    assert_int_not_equal(jobrows_recover(fx->db, 200, no_report, NULL, &changed), DB_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(jobrows_get(fx->db, queued, job_read, &seen), 0);
    assert_string_equal(seen.state, "queued");

    assert_int_equal(jobrows_recover(fx->db, 200, interrupted_report, &calls, &changed), DB_OK);
    assert_int_equal(changed, 2);
    assert_int_equal(calls, 2);
    assert_int_equal(jobrows_get(fx->db, queued, job_read, &seen), 0);
    assert_string_equal(seen.state, "failed");
    assert_string_equal(seen.report, "{\"ok\":false,\"source\":\"a.zip\"}");
    assert_int_equal(jobrows_get(fx->db, running, job_read, &seen), 0);
    assert_string_equal(seen.state, "failed");
    assert_string_equal(seen.report, "{\"ok\":false,\"source\":\"b.zip\"}");
    assert_int_equal(jobrows_get(fx->db, done, job_read, &seen), 0);
    assert_string_equal(seen.state, "done");
    assert_string_equal(seen.report, "{\"ok\":true}");

    assert_int_equal(jobrows_recover(fx->db, 300, interrupted_report, &calls, &changed), DB_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(calls, 2);
}

/* A job's row is not served to phones: adding, renaming, running, finishing
 * and recovering jobs leave the provisioning generation where it was (each
 * move would rebuild the snapshots, and a write's sync would wait for it). */
static void test_jobs_leave_generation(void **state)
{
    struct fixture *fx = *state;
    int64_t before = 0, after = 0, a = 0, b = 0;
    int calls = 0, changed = 0;

    assert_int_equal(db_generation(fx->db, &before), DB_OK);
    assert_int_equal(jobrows_add(fx->db, "import", "a.zip", "admin", 100, &a), DB_OK);
    assert_int_equal(jobrows_rename(fx->db, a, "a2.zip", "admin"), DB_OK);
    assert_int_equal(jobrows_running(fx->db, a, 42), DB_OK);
    assert_int_equal(jobrows_finish(fx->db, a, true, 0, "{\"ok\":true}", 101), DB_OK);
    assert_int_equal(jobrows_add(fx->db, "import", "b.zip", "admin", 102, &b), DB_OK);
    assert_int_equal(jobrows_recover(fx->db, 200, interrupted_report, &calls, &changed), DB_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(db_generation(fx->db, &after), DB_OK);
    assert_int_equal(after, before);
}

static void test_audit_read(void **state)
{
    static const struct {
        struct catalog_audit_query q;
        unsigned stop;
        int rc;
        const char *want;
    } cases[] = {
        {{INT64_MAX, NULL, NULL, 50}, 0, DB_OK, AUDIT_ALL},
        {{INT64_MAX, NULL, NULL, 2}, 0, DB_OK, "5:cli:file.quarantine 4:bob:user.add"},
        {{4, NULL, NULL, 2}, 0, DB_OK, "3:cli:file.quarantine 2:admin:user.role"},
        {{INT64_MAX, "admin", NULL, 50}, 0, DB_OK, "2:admin:user.role 1:admin:user.add"},
        {{INT64_MAX, NULL, "user.", 50},
         0,
         DB_OK,
         "4:bob:user.add 2:admin:user.role 1:admin:user.add"},
        {{INT64_MAX, "bob", "user.", 50}, 0, DB_OK, "4:bob:user.add"},
        {{INT64_MAX, "", NULL, 50}, 0, DB_OK, ""},        /* an empty actor is nobody */
        {{INT64_MAX, NULL, "", 50}, 0, DB_OK, AUDIT_ALL}, /* an empty prefix is every action */
        {{1, NULL, NULL, 50}, 0, DB_OK, ""},
        {{INT64_MAX, "admin", "file.", 50}, 0, DB_OK, ""},
        {{INT64_MAX, "cli", NULL, 50}, 1, 1, "5:cli:file.quarantine"}, /* the callback stops */
    };
    struct fixture *fx = *state;
    struct audit_seen seen;
    int64_t count, at;

    assert_int_equal(catalog_audit_count(fx->db, "file.quarantine", &count, &at), DB_OK);
    assert_true(count == 0 && at == 0);
    assert_int_equal(catalog_audit(fx->db, "admin", "user.add", "bob", NULL, "viewer"), DB_OK);
    assert_int_equal(catalog_audit(fx->db, "admin", "user.role", "bob", "viewer", "admin"), DB_OK);
    assert_int_equal(catalog_audit(fx->db, "cli", "file.quarantine", "a.sbn", NULL, NULL), DB_OK);
    assert_int_equal(catalog_audit(fx->db, "bob", "user.add", "carol", NULL, "viewer"), DB_OK);
    assert_int_equal(catalog_audit(fx->db, "cli", "file.quarantine", "b.sbn", NULL, NULL), DB_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&seen, 0, sizeof(seen));
        seen.stop = cases[i].stop;
        assert_int_equal(catalog_audit_each(fx->db, &cases[i].q, collect_audit, &seen),
                         cases[i].rc);
        assert_string_equal(seen.text, cases[i].want);
    }
    assert_int_equal(catalog_audit_count(fx->db, "file.quarantine", &count, &at), DB_OK);
    assert_int_equal(count, 2);
    assert_int_equal(at, query_int(fx->db, "SELECT at FROM audit WHERE id = 5", NULL));
    assert_int_equal(catalog_audit_count(fx->db, "file.", &count, &at), DB_OK); /* exact action */
    assert_true(count == 0 && at == 0);
}

/* db_read's callback: is it inside a transaction, and what it reads. */
static int read_in_txn(sqlite3 *db, void *arg)
{
    int64_t *g = arg;

    assert_int_equal(sqlite3_get_autocommit(db), 0);
    return db_generation(db, g) == DB_OK ? 7 : DB_ERROR;
}

static void test_db_read(void **state)
{
    struct fixture *fx = *state;
    int64_t g = 0, g0 = generation(fx->db);

    /* Its own read transaction, ended after; fn's result comes back. */
    assert_int_equal(db_read(fx->db, read_in_txn, &g), 7);
    assert_int_equal(g, g0);
    assert_int_not_equal(sqlite3_get_autocommit(fx->db), 0);
    /* Inside a write transaction: runs in it and leaves it open. */
    assert_int_equal(db_begin(fx->db), DB_OK);
    assert_int_equal(db_read(fx->db, read_in_txn, &g), 7);
    assert_int_equal(sqlite3_get_autocommit(fx->db), 0);
    assert_int_equal(db_commit(fx->db), DB_OK);
    assert_int_equal(generation(fx->db), g0 + 1);
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_open_migrates),
        FX_TEST(test_open_twice_is_noop),
        FX_TEST(test_too_new_refused),
        FX_TEST(test_open_garbage_file),
        FX_TEST(test_generation),
        cmocka_unit_test(test_fold),
        FX_TEST(test_file_put_find),
        FX_TEST(test_file_put_constraints),
        FX_TEST(test_file_set_status),
        FX_TEST(test_load_put_find),
        FX_TEST(test_load_remove_prunes),
        FX_TEST(test_load_foreign_keys),
        FX_TEST(test_trust),
        FX_TEST(test_load_status_follows_trust),
        FX_TEST(test_imports),
        FX_TEST(test_settings),
        FX_TEST(test_audit),
        FX_TEST(test_audit_read),
        FX_TEST(test_jobs_recover),
        FX_TEST(test_jobs_leave_generation),
        FX_TEST(test_db_read),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
