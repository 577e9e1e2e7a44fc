/* test_probe.c: the load-server probe's storage and targets on a real
 * SQLite file: a result stored moves the fleet generation (a refresh too)
 * and the provisioning one never, and says whether it changed; results no device needs go; the
 * fleet view gets each probed host (its oldest result's time) with its
 * holdings; probe_targets takes plain hosts only (not branch:NAME, not
 * none), site rules by last-seen address, sorted and unique in any case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "db/db.h"
#include "db/fleet.h"
#include "db/probe.h"
#include "db/provision.h"
#include "server/upstream/probe.h"
#include "tests/unit/testdir.h"

/* The fixture: a fresh catalog (tests/unit/testdir.h). */

static int setup(void **state)
{
    *state = testdb_new("test_probe");
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    testdb_free(*state);
    return 0;
}

static struct probe_row row(const char *host, const char *load, unsigned have, unsigned total,
                            int64_t at)
{
    struct probe_row r;

    memset(&r, 0, sizeof(r));
    snprintf(r.host, sizeof(r.host), "%s", host);
    snprintf(r.load, sizeof(r.load), "%s", load);
    r.files_have = have;
    r.files_total = total;
    r.complete = have == total;
    r.probed_at = at;
    if (!r.complete)
        snprintf(r.why, sizeof(r.why), "holds %u of %u files", have, total);
    return r;
}

/* Stores r; whether the result changed, checking that the fleet
 * generation moved (a refresh too: probed_at is the host's freshness) and
 * the provisioning one did not. */
static bool put_moves(sqlite3 *db, const struct probe_row *r)
{
    int64_t g0, g1, f0, f1;
    bool changed;

    assert_int_equal(db_generation(db, &g0), DB_OK);
    assert_int_equal(db_fleet_generation(db, &f0), DB_OK);
    assert_int_equal(probe_row_put(db, r, &changed), DB_OK);
    assert_int_equal(db_generation(db, &g1), DB_OK);
    assert_int_equal(db_fleet_generation(db, &f1), DB_OK);
    assert_int_equal(g1, g0);
    assert_true(f1 > f0);
    return changed;
}

static bool keep_ls1(void *arg, const char *host, const char *load)
{
    (void)arg;
    (void)load;
    return strcasecmp(host, "ls1.example") == 0;
}

static void test_rows(void **state)
{
    struct testdb *f = *state;
    struct probe_row r = row("ls1.example", "SIP41.9-4-2SR3-1S", 4, 5, 1000), got;
    struct fleet_view *v = NULL;
    const struct fleet_holder *h;
    unsigned removed;

    assert_true(put_moves(f->db, &r)); /* new */
    r.probed_at = 1100;
    assert_false(put_moves(f->db, &r)); /* the same, later */
    assert_int_equal(probe_row_get(f->db, "LS1.EXAMPLE", "sip41.9-4-2sr3-1s", &got), DB_OK);
    assert_int_equal(got.probed_at, 1100);
    assert_string_equal(got.why, "holds 4 of 5 files");
    r = row("ls1.example", "SIP41.9-4-2SR3-1S", 5, 5, 1200);
    assert_true(put_moves(f->db, &r)); /* complete now */
    r = row("ls1.example", "SIP42.9-4-2SR3-1S", 0, 6, 900);
    assert_true(put_moves(f->db, &r));
    r = row("ls2.example", "SIP41.9-4-2SR3-1S", 1, 5, 1300);
    assert_true(put_moves(f->db, &r));
    r = row("ls2.example", "x", 6, 5, 1300); /* more than the total: refused */
    assert_int_equal(probe_row_put(f->db, &r, NULL), DB_CONFLICT);
    assert_int_equal(probe_row_get(f->db, "nowhere", "x", &got), DB_NOT_FOUND);

    assert_int_equal(fleet_view_load(f->db, &v), DB_OK);
    assert_int_equal(v->n_holders, 2);
    h = fleet_find_host(v, "LS1.example");
    assert_non_null(h);
    assert_int_equal(h->kind, FLEET_KIND_PROBED);
    assert_string_equal(h->address, "ls1.example");
    assert_int_equal(h->received_at, 900); /* its oldest result */
    assert_int_equal(h->n_holdings, 2);
    assert_int_equal(fleet_find_holding(h, "sip41.9-4-2sr3-1s")->state, FLEET_COMPLETE);
    assert_int_equal(fleet_find_holding(h, "SIP42.9-4-2SR3-1S")->state, FLEET_INCOMPLETE);
    assert_int_equal(fleet_find_holding(h, "SIP42.9-4-2SR3-1S")->files_total, 6);
    assert_true(fleet_fresh(h, 1000, 300));
    assert_false(fleet_fresh(h, 1201, 300));
    fleet_view_free(v);

    assert_int_equal(probe_rows_retain(f->db, keep_ls1, NULL, &removed), DB_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(probe_row_get(f->db, "ls2.example", "SIP41.9-4-2SR3-1S", &got), DB_NOT_FOUND);
    assert_int_equal(fleet_view_load(f->db, &v), DB_OK);
    assert_int_equal(v->n_holders, 1);
    fleet_view_free(v);
}

static struct provision_device dev(const char *mac, const char *load, const char *server)
{
    struct provision_device d;

    memset(&d, 0, sizeof(d));
    snprintf(d.mac, sizeof(d.mac), "%s", mac);
    snprintf(d.model, sizeof(d.model), "Cisco 7961");
    if (load != NULL) {
        d.load.set = true;
        snprintf(d.load.value, sizeof(d.load.value), "%s", load);
    }
    if (server != NULL) {
        d.load_server.set = true;
        snprintf(d.load_server.value, sizeof(d.load_server.value), "%s", server);
    }
    return d;
}

static void test_targets(void **state)
{
    struct testdb *f = *state;
    const struct provision_device devs[] = {
        dev("000000000001", "L1", "ls1.example"),
        dev("000000000002", "L2", "branch:leeds"), /* a branch reports, is not probed */
        dev("000000000003", "L3", ""),             /* none */
        dev("000000000004", "l1", "LS1.EXAMPLE"),  /* the same, in another case */
        dev("000000000005", "L5", NULL),           /* the site rule's, when seen there */
        dev("000000000006", NULL, "ls0.example"),  /* no load: nothing to probe */
        dev("000000000007", "L0", "ls1.example"),
    };
    struct settings_site site = {0};
    struct settings_snapshot *s = NULL;
    struct sockaddr_in *at;
    struct fleet_seen seen[1];
    struct fleet_want_index x;
    struct probe_target *t = NULL;
    const char *why;
    char canon[64];
    bool masked;
    size_t n;

    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(
        fleet_branch_add(f->db, "tester", "leeds", "leeds.example",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        DB_OK);
    for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
        assert_int_equal(provision_device_add(f->db, "tester", &devs[i]), DB_OK);
    snprintf(site.load_server, sizeof(site.load_server), "ls9.example");
    assert_int_equal(settings_cidr_parse("10.1.0.0/16", &site, canon, sizeof(canon), &masked, &why),
                     0);
    assert_int_equal(provision_site_add(f->db, "tester", &site), DB_OK);
    assert_int_equal(db_commit(f->db), DB_OK);
    assert_int_equal(provision_snapshot_load(f->db, &s), DB_OK);
    assert_int_equal(s->n_devices, 7);

    /* Not seen anywhere: the site rule does not match device 5. */
    assert_int_equal(fleet_want_index_build(s, NULL, 0, &x), 0);
    assert_int_equal(probe_targets(&x, &t, &n), 0);
    fleet_want_index_free(&x);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].host, "ls1.example");
    assert_string_equal(t[0].load, "L0");
    assert_string_equal(t[1].load, "L1");
    free(t);

    /* Seen in 10.1.0.0/16: ls9.example must hold L5. */
    memset(seen, 0, sizeof(seen));
    snprintf(seen[0].mac, sizeof(seen[0].mac), "000000000005");
    at = (struct sockaddr_in *)&seen[0].addr;
    at->sin_family = AF_INET;
    inet_pton(AF_INET, "10.1.2.3", &at->sin_addr);
    assert_int_equal(fleet_want_index_build(s, seen, 1, &x), 0);
    assert_int_equal(probe_targets(&x, &t, &n), 0);
    fleet_want_index_free(&x);
    assert_int_equal(n, 3);
    assert_string_equal(t[2].host, "ls9.example");
    assert_string_equal(t[2].load, "L5");
    free(t);
    provision_snapshot_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
