/* test_fleet.c: db/fleet.c on a real SQLite file in a temp dir: branches
 * (add, refusals, remove, lookup by name and token hash), reports (holdings
 * replaced as a whole; the fleet generation moves with every report and
 * the provisioning one never; a bad report stores nothing), the view, the
 * fleet's enterprise keys and branch:NAME refused while not registered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db.h"
#include "db/fleet.h"
#include "db/model/fleet.h"
#include "db/provision.h"
#include "tests/unit/testdir.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* The fixture: a fresh catalog (tests/unit/testdir.h). */

static int setup(void **state)
{
    *state = testdb_new("test_fleet");
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    testdb_free(*state);
    return 0;
}

static int64_t count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = db_prepare(db, sql);
    int64_t n = -1;

    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int add(sqlite3 *db, const char *name, const char *address, const char *hash)
{
    int rc = db_begin(db);

    if (rc == DB_OK)
        rc = fleet_branch_add(db, "admin", name, address, hash);
    if (rc == DB_OK)
        return db_commit_untracked(db);
    db_rollback(db);
    return rc;
}

static void gens(sqlite3 *db, int64_t *prov, int64_t *fleet)
{
    assert_int_equal(db_generation(db, prov), DB_OK);
    assert_int_equal(db_fleet_generation(db, fleet), DB_OK);
}

static void test_branch_add_remove(void **state)
{
    struct testdb *f = *state;
    struct fleet_branch b;
    int64_t p0, f0, p1, f1;

    gens(f->db, &p0, &f0);
    assert_int_equal(add(f->db, "Berlin-1", "10.1.0.5", HASH_A), DB_OK);
    gens(f->db, &p1, &f1);
    assert_int_equal(p1, p0);
    assert_int_equal(f1, f0 + 1);
    /* The name is unique without regard to case; so is the hash. */
    assert_int_equal(add(f->db, "berlin-1", "10.1.0.6", HASH_B), DB_CONFLICT);
    assert_int_equal(add(f->db, "leeds", "10.2.0.5", HASH_A), DB_CONFLICT);
    /* The rules: name, host, a lower-case hex SHA-256. */
    assert_int_equal(add(f->db, "a/b", "10.2.0.5", HASH_B), DB_ERROR);
    assert_int_equal(add(f->db, "leeds", "bad host!", HASH_B), DB_ERROR);
    assert_int_equal(add(f->db, "leeds", "10.2.0.5", "ABCD"), DB_ERROR);
    assert_int_equal(fleet_branch_get(f->db, "BERLIN-1", &b), DB_OK);
    assert_string_equal(b.name, "Berlin-1");
    assert_string_equal(b.address, "10.1.0.5");
    assert_int_equal(b.received_at, 0);
    assert_int_equal(fleet_branch_by_token(f->db, HASH_A, &b), DB_OK);
    assert_string_equal(b.name, "Berlin-1");
    assert_int_equal(fleet_branch_by_token(f->db, HASH_B, &b), DB_NOT_FOUND);
    assert_int_equal(fleet_branch_by_token(f->db, "short", &b), DB_NOT_FOUND);
    assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action = 'branch.add'"), 1);
    /* The token's hash is in no audit row. */
    assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE after LIKE '%aaaaaaaa%'"), 0);

    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(fleet_branch_remove(f->db, "admin", "berlin-1"), DB_OK);
    assert_int_equal(db_commit_untracked(f->db), DB_OK);
    assert_int_equal(fleet_branch_by_token(f->db, HASH_A, &b), DB_NOT_FOUND);
    assert_int_equal(fleet_branch_exists(f->db, "Berlin-1"), 0);
    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(fleet_branch_remove(f->db, "admin", "berlin-1"), DB_NOT_FOUND);
    db_rollback(f->db);
}

static struct fleet_holding holding(const char *load, enum fleet_state st, uint64_t fh, uint64_t ft,
                                    int64_t eta)
{
    struct fleet_holding x = {.state = st,
                              .files_have = fh,
                              .files_total = ft,
                              .bytes_have = fh * 1000,
                              .bytes_total = ft * 1000,
                              .eta_s = eta};

    snprintf(x.load, sizeof(x.load), "%s", load);
    return x;
}

static int report(sqlite3 *db, const char *branch, const struct fleet_holding *loads, size_t n,
                  int64_t now, bool *changed)
{
    struct fleet_report r = {
        .version = "0.1.0", .time = 1765000000, .free_bytes = 5000, .loads = loads, .n_loads = n};

    return fleet_report_store(db, branch, &r, now, changed);
}

static void test_report_replace_and_generations(void **state)
{
    struct testdb *f = *state;
    struct fleet_holding h1[] = {
        holding("SIP78xx.14-2-1", FLEET_STAGING, 3, 5, 240),
        holding("SIP88xx.14-2-1", FLEET_COMPLETE, 4, 4, FLEET_ETA_UNKNOWN),
    };
    struct fleet_holding h2[] = {holding("SIP78xx.14-2-1", FLEET_COMPLETE, 5, 5, 0)};
    struct fleet_branch b;
    int64_t p0, f0, p1, f1;
    bool changed = false;

    assert_int_equal(add(f->db, "berlin-1", "10.1.0.5", HASH_A), DB_OK);
    assert_int_equal(report(f->db, "nobody", h1, 2, 100, &changed), DB_NOT_FOUND);
    gens(f->db, &p0, &f0);
    assert_int_equal(report(f->db, "Berlin-1", h1, 2, 1000, &changed), DB_OK);
    assert_true(changed);
    gens(f->db, &p1, &f1);
    assert_int_equal(p1, p0); /* never the provisioning generation */
    assert_int_equal(f1, f0 + 1);
    assert_int_equal(fleet_branch_get(f->db, "berlin-1", &b), DB_OK);
    assert_int_equal(b.received_at, 1000);
    assert_int_equal(b.reported_time, 1765000000);
    assert_string_equal(b.version, "0.1.0");
    assert_int_equal(b.loads_total, 2);
    assert_int_equal(b.loads_complete, 1);
    assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action = 'branch.holdings'"),
                     1);

    /* The same holdings (in another order): nothing held changes, but the
     * fleet generation moves, so that the daemon's view sees the report's
     * time (else the branch would look stale there); never the
     * provisioning generation. */
    struct fleet_holding h1r[] = {h1[1], h1[0]};
    assert_int_equal(report(f->db, "berlin-1", h1r, 2, 1060, &changed), DB_OK);
    assert_false(changed);
    gens(f->db, &p0, &f0);
    assert_int_equal(p0, p1);
    assert_int_equal(f0, f1 + 1);
    assert_int_equal(fleet_branch_get(f->db, "berlin-1", &b), DB_OK);
    assert_int_equal(b.received_at, 1060);

    /* Progress only: the generation moves (the gate's words change), no audit. */
    h1r[1].bytes_have += 500;
    assert_int_equal(report(f->db, "berlin-1", h1r, 2, 1120, &changed), DB_OK);
    assert_true(changed);
    gens(f->db, &p1, &f1);
    assert_int_equal(f1, f0 + 1);
    assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action = 'branch.holdings'"),
                     1);

    /* A report replaces the holdings as a whole. */
    assert_int_equal(report(f->db, "berlin-1", h2, 1, 1180, &changed), DB_OK);
    assert_true(changed);
    assert_int_equal(count(f->db, "SELECT count(*) FROM branch_loads"), 1);
    assert_int_equal(count(f->db, "SELECT count(*) FROM branch_loads WHERE state = 'complete'"
                                  " AND load = 'SIP78xx.14-2-1'"),
                     1);
    assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action = 'branch.holdings'"
                                  " AND actor = 'branch:berlin-1'"),
                     2);
    /* An empty report empties them. */
    assert_int_equal(report(f->db, "berlin-1", NULL, 0, 1240, &changed), DB_OK);
    assert_true(changed);
    assert_int_equal(count(f->db, "SELECT count(*) FROM branch_loads"), 0);
}

/* A report that breaks a rule stores nothing at all: not the holdings, not
 * the time it came. */
static void test_report_atomic(void **state)
{
    struct testdb *f = *state;
    struct fleet_holding good[] = {holding("SIP78xx.14-2-1", FLEET_COMPLETE, 5, 5, 0)};
    struct fleet_holding twice[] = {holding("A.1", FLEET_COMPLETE, 1, 1, 0),
                                    holding("a.1", FLEET_STAGING, 0, 1, 9)};
    struct fleet_holding badname[] = {holding("B.1", FLEET_COMPLETE, 1, 1, 0),
                                      holding("x/y", FLEET_COMPLETE, 1, 1, 0)};
    struct fleet_holding huge[] = {holding("C.1", FLEET_COMPLETE, 1, 1, 0)};
    const struct {
        const struct fleet_holding *loads;
        size_t n;
    } bad[] = {{twice, 2}, {badname, 2}, {huge, 1}};
    struct fleet_branch b;
    int64_t p0, f0, p1, f1;
    bool changed = true;

    huge[0].bytes_have = FLEET_COUNT_MAX + 1;
    assert_int_equal(add(f->db, "berlin-1", "10.1.0.5", HASH_A), DB_OK);
    assert_int_equal(report(f->db, "berlin-1", good, 1, 500, &changed), DB_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gens(f->db, &p0, &f0);
        assert_int_equal(report(f->db, "berlin-1", bad[i].loads, bad[i].n, 900, &changed),
                         DB_CONFLICT);
        assert_false(changed);
        gens(f->db, &p1, &f1);
        assert_int_equal(p1, p0);
        assert_int_equal(f1, f0);
        assert_int_equal(fleet_branch_get(f->db, "berlin-1", &b), DB_OK);
        assert_int_equal(b.received_at, 500);
        assert_int_equal(count(f->db, "SELECT count(*) FROM branch_loads WHERE"
                                      " load = 'SIP78xx.14-2-1' AND state = 'complete'"),
                         1);
        assert_int_equal(count(f->db, "SELECT count(*) FROM branch_loads"), 1);
    }
}

static void test_view(void **state)
{
    struct testdb *f = *state;
    struct fleet_holding h[] = {holding("b.2", FLEET_QUARANTINED, 1, 2, FLEET_ETA_UNKNOWN),
                                holding("A.1", FLEET_COMPLETE, 1, 1, 0)};
    struct fleet_view *v = NULL;
    const struct fleet_holder *x;
    const struct fleet_holding *y;
    int64_t fg;

    assert_int_equal(add(f->db, "zeta", "10.9.0.1", HASH_B), DB_OK);
    assert_int_equal(add(f->db, "Alpha", "alpha.example", HASH_A), DB_OK);
    assert_int_equal(report(f->db, "alpha", h, 2, 42, NULL), DB_OK);
    assert_int_equal(fleet_view_load(f->db, &v), DB_OK);
    assert_int_equal(db_fleet_generation(f->db, &fg), DB_OK);
    assert_int_equal(v->generation, fg);
    assert_int_equal(v->n_holders, 2);
    assert_string_equal(v->holders[0].name, "Alpha");
    assert_string_equal(v->holders[1].name, "zeta");
    x = fleet_find_branch(v, "ALPHA");
    assert_non_null(x);
    assert_int_equal(x->kind, FLEET_KIND_BRANCH);
    assert_string_equal(x->address, "alpha.example");
    assert_int_equal(x->received_at, 42);
    assert_int_equal(x->n_holdings, 2);
    assert_string_equal(x->holdings[0].load, "A.1");
    y = fleet_find_holding(x, "B.2");
    assert_non_null(y);
    assert_int_equal(y->state, FLEET_QUARANTINED);
    assert_int_equal(y->eta_s, FLEET_ETA_UNKNOWN);
    assert_int_equal(fleet_complete_count(x), 1);
    assert_null(fleet_find_branch(v, "nobody"));
    assert_null(fleet_find_host(v, "alpha")); /* a branch is no probed host */
    x = fleet_find_branch(v, "zeta");
    assert_int_equal(x->received_at, 0);
    assert_false(fleet_fresh(x, 100, 300));

    /* A report that changes only the time: a new view, the same holdings
     * (the daemon then skips its pass over every device); progress is a
     * change. */
    struct fleet_view *w = NULL, *u = NULL;
    struct fleet_holding hr[] = {h[1], h[0]};
    assert_int_equal(report(f->db, "alpha", hr, 2, 99, NULL), DB_OK);
    assert_int_equal(fleet_view_load(f->db, &w), DB_OK);
    assert_true(w->generation > v->generation);
    assert_int_equal(fleet_find_branch(w, "alpha")->received_at, 99);
    assert_true(fleet_view_same_holdings(v, w));
    hr[1].files_have = 2;
    assert_int_equal(report(f->db, "alpha", hr, 2, 120, NULL), DB_OK);
    assert_int_equal(fleet_view_load(f->db, &u), DB_OK);
    assert_false(fleet_view_same_holdings(w, u));
    assert_false(fleet_view_same_holdings(NULL, u));
    fleet_view_free(u);
    fleet_view_free(w);
    fleet_view_free(v);
}

/* The fleet's enterprise keys, and branch:NAME refused on write while no
 * such branch is registered. */
/* db_int, the one-number query behind the counts (branches, users, the
 * snapshot's devices): the number, or an error with 0 for a query that
 * fails or yields no row. */
static void test_db_int(void **state)
{
    sqlite3 *db = ((struct testdb *)*state)->db;
    int64_t n = -1;
    size_t branches = 9;

    assert_int_equal(db_int(db, "SELECT count(*) FROM branches", &n), DB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(add(db, "Berlin-1", "10.1.0.5", HASH_A), DB_OK);
    assert_int_equal(add(db, "Paris-2", "10.2.0.5", HASH_B), DB_OK);
    assert_int_equal(db_int(db, "SELECT count(*) FROM branches", &n), DB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(fleet_branch_count(db, &branches), DB_OK);
    assert_int_equal(branches, 2);
    n = -1;
    assert_int_equal(db_int(db, "SELECT 7 WHERE 0", &n), DB_ERROR);
    assert_int_equal(n, 0);
    n = -1;
    assert_int_equal(db_int(db, "SELECT count(*) FROM no_such_table", &n), DB_ERROR);
    assert_int_equal(n, 0);
}

static void test_values(void **state)
{
    static const struct {
        const char *key, *in, *out; /* out NULL: refused */
    } rows[] = {
        {"stage_first", "yes", "on"},
        {"stage_first", "maybe", NULL},
        {"probe_load_servers", "0", "off"},
        {"fleet_max_age_s", "300", "300"},
        {"fleet_max_age_s", "0", NULL},
        {"fleet_max_age_s", "86400", "86400"},
        {"fleet_max_age_s", "86401", NULL},
        {"fleet_max_age_s", "5m", NULL},
        {"load_server", "Branch:x", "branch:x"},
        {"cm_address", "branch:x", NULL},
    };
    struct testdb *f = *state;
    struct settings_site site = {0};
    char out[SETTINGS_VALUE_MAX], why[256];
    const char *w;
    bool masked;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int rc = provision_enterprise_check(rows[i].key, rows[i].in, out, sizeof(out), &w);

        assert_int_equal(rc, rows[i].out ? 0 : -1);
        if (rows[i].out)
            assert_string_equal(out, rows[i].out);
    }
    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(provision_profile_add(f->db, "admin", "lab"), DB_OK);
    assert_int_equal(
        provision_profile_set(f->db, "admin", "lab", SETTINGS_KEY_LOAD_SERVER, "branch:leeds"),
        DB_NO_BRANCH);
    assert_int_equal(provision_enterprise_set(f->db, "admin", "load_server", "branch:leeds"),
                     DB_NO_BRANCH);
    assert_int_equal(settings_cidr_parse("10.1.0.0/16", &site, out, sizeof(out), &masked, &w), 0);
    snprintf(site.load_server, sizeof(site.load_server), "branch:leeds");
    assert_int_equal(provision_site_add(f->db, "admin", &site), DB_NO_BRANCH);
    assert_int_equal(fleet_load_server_check(f->db, "branch:leeds", why, sizeof(why)),
                     DB_NOT_FOUND);
    assert_non_null(strstr(why, "no branch leeds is registered"));
    assert_int_equal(fleet_load_server_check(f->db, "10.1.0.5", why, sizeof(why)), DB_OK);
    assert_int_equal(fleet_branch_add(f->db, "admin", "Leeds", "10.1.0.5", HASH_A), DB_OK);
    assert_int_equal(
        provision_profile_set(f->db, "admin", "lab", SETTINGS_KEY_LOAD_SERVER, "branch:leeds"),
        DB_OK);
    assert_int_equal(provision_site_add(f->db, "admin", &site), DB_OK);
    assert_int_equal(fleet_load_server_check(f->db, "branch:LEEDS", why, sizeof(why)), DB_OK);
    db_rollback(f->db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_branch_add_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_replace_and_generations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_db_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
