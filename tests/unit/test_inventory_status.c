/* test_inventory_status.c: the firmware inventory: a phone's state from its
 * row (db/model/inventory_status.c, a table of cases at the edges of the
 * thresholds), the counts, and the in-memory table (server/resolve/
 * inventory.c) joining transfers to phones and written to a real database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "db/db.h"
#include "db/inventory.h"
#include "db/model/inventory_status.h"
#include "server/resolve/inventory.h"
#include "tests/unit/testdir.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NOW          100000
#define STUCK        1800

struct state_case {
    const char *what;
    int64_t config_at;
    const char *config_load, *fw_load;
    unsigned done, total;
    int64_t fw_first, fw_last;
    enum inventory_state want;
};

static const struct state_case state_cases[] = {
    {"no load named", NOW - 10, "", "L1", 3, 3, NOW - 5, NOW - 1, INVENTORY_NO_TARGET},
    {"fetched all of the named load", NOW - 100, "L1", "L1", 5, 5, NOW - 90, NOW - 50,
     INVENTORY_ON_TARGET},
    {"named load, case differs", NOW - 100, "SIP41.9", "sip41.9", 5, 5, NOW - 90, NOW - 50,
     INVENTORY_ON_TARGET},
    {"fetching the named load", NOW - 100, "L1", "L1", 2, 5, NOW - 90, NOW - 50, INVENTORY_PENDING},
    {"started one second short of stuck", NOW - 2000, "L1", "L1", 2, 5, NOW - STUCK + 1, NOW - 5,
     INVENTORY_PENDING},
    {"started exactly stuck_s ago", NOW - 2000, "L1", "L1", 2, 5, NOW - STUCK, NOW - 5,
     INVENTORY_STUCK},
    {"no file of the named load finished, started long ago", NOW - 4000, "L1", "L1", 0, 5,
     NOW - 3000, NOW - 3000, INVENTORY_STUCK},
    {"no firmware since the config, settled", NOW - 60, "L1", "", 0, 0, 0, 0, INVENTORY_ON_TARGET},
    {"no firmware since the config, not settled", NOW - 59, "L1", "", 0, 0, 0, 0,
     INVENTORY_PENDING},
    {"an old load finished before the config: runs the named one", NOW - 100, "L2", "L1", 5, 5,
     NOW - 9000, NOW - 8000, INVENTORY_ON_TARGET},
    {"another load fetched whole after the config", NOW - 100, "L2", "L1", 5, 5, NOW - 90, NOW - 50,
     INVENTORY_PENDING},
    {"another load, unfinished after the config, long ago", NOW - 5000, "L2", "L1", 1, 5,
     NOW - 4000, NOW - 3000, INVENTORY_STUCK},
    {"another load, unfinished after the config, recent", NOW - 100, "L2", "L1", 1, 5, NOW - 90,
     NOW - 50, INVENTORY_PENDING},
    {"a load of no files is never complete", NOW - 100, "L1", "L1", 0, 0, NOW - 90, NOW - 50,
     INVENTORY_PENDING},
};

static void test_states(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(state_cases); i++) {
        const struct state_case *c = &state_cases[i];
        struct inventory_row r = {.config_at = c->config_at,
                                  .files_done = c->done,
                                  .files_total = c->total,
                                  .fw_first = c->fw_first,
                                  .fw_last = c->fw_last};
        enum inventory_state got;

        snprintf(r.config_load, sizeof(r.config_load), "%s", c->config_load);
        snprintf(r.fw_load, sizeof(r.fw_load), "%s", c->fw_load);
        got = inventory_state_of(&r, NOW, STUCK);
        if (got != c->want)
            fail_msg("%s: got %s, want %s", c->what, inventory_state_name(got),
                     inventory_state_name(c->want));
    }
    /* a tiny threshold (the tests' option) settles as fast */
    {
        struct inventory_row r = {.config_at = NOW - 2};

        snprintf(r.config_load, sizeof(r.config_load), "L1");
        assert_int_equal(inventory_state_of(&r, NOW, 2), INVENTORY_ON_TARGET);
        assert_int_equal(inventory_state_of(&r, NOW, 3), INVENTORY_PENDING);
    }
}

static void test_counts(void **state)
{
    struct inventory_count c[2];
    size_t n = 0;

    (void)state;
    assert_int_equal(inventory_count_add(c, &n, 2, "berlin", INVENTORY_ON_TARGET), 0);
    assert_int_equal(inventory_count_add(c, &n, 2, "leeds", INVENTORY_STUCK), 0);
    assert_int_equal(inventory_count_add(c, &n, 2, "berlin", INVENTORY_PENDING), 0);
    assert_int_equal(inventory_count_add(c, &n, 2, "berlin", INVENTORY_NO_TARGET), 0);
    assert_int_equal(inventory_count_add(c, &n, 2, "paris", INVENTORY_PENDING), -1);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].key, "berlin");
    assert_int_equal(c[0].on_target + c[0].pending * 10 + c[0].stuck * 100 + c[0].no_target * 1000,
                     1011);
    assert_int_equal(c[1].stuck, 1);
    assert_string_equal(inventory_state_name(INVENTORY_STUCK), "stuck");
}

/* ---- the in-memory table, written to a real database ---- */

/* The fixture: a fresh catalog (tests/unit/testdir.h). */

static int setup(void **state)
{
    *state = testdb_new("test_inventory");
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    testdb_free(*state);
    return 0;
}

static struct sockaddr_in v4(const char *text)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};

    inet_pton(AF_INET, text, &sa.sin_addr);
    return sa;
}

struct found {
    struct inventory_row rows[8];
    size_t n;
};

static int keep(void *arg, const struct inventory_row *r)
{
    struct found *f = arg;

    if (f->n < ARRAY_LEN(f->rows))
        f->rows[f->n++] = *r;
    return 0;
}

static void read_rows(sqlite3 *db, struct found *out)
{
    memset(out, 0, sizeof(*out));
    assert_int_equal(inventory_rows_each(db, keep, out), DB_OK);
}

static void test_table(void **state)
{
    struct testdb *f = *state;
    struct inventory *inv = inventory_new();
    struct sockaddr_in a = v4("10.1.0.5"), b = v4("10.1.0.6"), stranger = v4("10.9.9.9");
    struct inventory_hit l1[3] = {{"L1", 0, 3}, {"L1", 1, 3}, {"L1", 2, 3}};
    struct inventory_hit shared[2] = {{"L0", 4, 5}, {"L1", 2, 3}};
    struct found got;

    assert_non_null(inv);
    inventory_note_config(inv, "00112233AA01", (struct sockaddr *)&a, "L1", 1000);
    inventory_note_config(inv, "00112233AA02", (struct sockaddr *)&b, "L1", 1000);
    /* A's load: every file finished, one twice, the last a file two loads share */
    inventory_note_file(inv, (struct sockaddr *)&a, &l1[0], 1, true, 1001);
    inventory_note_file(inv, (struct sockaddr *)&a, &l1[1], 1, true, 1002);
    inventory_note_file(inv, (struct sockaddr *)&a, &l1[1], 1, true, 1003);
    inventory_note_file(inv, (struct sockaddr *)&a, shared, 2, true, 1004);
    /* B: one file finished, one abandoned */
    inventory_note_file(inv, (struct sockaddr *)&b, &l1[0], 1, true, 1001);
    inventory_note_file(inv, (struct sockaddr *)&b, &l1[1], 1, false, 1002);
    /* a client no config came from is no phone we know */
    inventory_note_file(inv, (struct sockaddr *)&stranger, &l1[0], 1, true, 1001);
    assert_int_equal(inventory_merge(inv, "10.9.9.9", "L1", 1, 3, 1001, "berlin-1"), -1);
    assert_int_equal(inventory_merge(inv, "10.1.0.6", "L1", 4, 3, 1001, "berlin-1"), -1);
    inventory_flush(inv, f->db, 2000);
    read_rows(f->db, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.rows[0].mac, "00112233AA01");
    assert_string_equal(got.rows[0].fw_load, "L1");
    assert_int_equal(got.rows[0].files_done, 3);
    assert_int_equal(got.rows[0].files_total, 3);
    assert_int_equal(got.rows[0].fw_first, 1001);
    assert_int_equal(got.rows[0].fw_last, 1004);
    assert_int_equal(inventory_state_of(&got.rows[0], 2000, STUCK), INVENTORY_ON_TARGET);
    assert_int_equal(got.rows[1].files_done, 1);
    assert_int_equal(inventory_state_of(&got.rows[1], 2000, STUCK), INVENTORY_PENDING);
    assert_int_equal(inventory_state_of(&got.rows[1], 1001 + STUCK, STUCK), INVENTORY_STUCK);

    /* a branch's report of B; written only INVENTORY_WRITE_S after the last write */
    assert_int_equal(inventory_merge(inv, "10.1.0.6", "L1", 3, 3, 2001, "berlin-1"), 0);
    inventory_flush(inv, f->db, 2000 + INVENTORY_WRITE_S - 1);
    read_rows(f->db, &got);
    assert_int_equal(got.rows[1].files_done, 1);
    inventory_flush(inv, f->db, 2000 + INVENTORY_WRITE_S);
    read_rows(f->db, &got);
    assert_int_equal(got.rows[1].files_done, 3);
    assert_string_equal(got.rows[1].source, "berlin-1");

    /* A moves to B's address: B's transfers are not A's, A's old address joins nobody */
    inventory_note_config(inv, "00112233AA01", (struct sockaddr *)&b, "L2", 3000);
    inventory_note_file(inv, (struct sockaddr *)&a, &l1[0], 1, true, 3001);
    inventory_flush(inv, f->db, 4000);
    read_rows(f->db, &got);
    assert_string_equal(got.rows[0].addr, "10.1.0.6");
    assert_string_equal(got.rows[0].config_load, "L2");
    assert_int_equal(got.rows[0].fw_last, 1004);
    inventory_free(inv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_counts),
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
