/* test_inventory_addr.c: table tests for the inventory's transfers kept per
 * address when no config fetch names a MAC for it (what a branch reports as
 * its phones): loads, finished files, the bound and the snapshot's cap. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/resolve/inventory.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct sockaddr_in addr_of(const char *text)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(40000)};

    assert_int_equal(inet_pton(AF_INET, text, &sa.sin_addr), 1);
    return sa;
}

/* One transfer: from addr, file index of load (total files), whether it
 * finished; a second load the file also belongs to when shared is set. */
struct xfer {
    const char *addr;
    const char *load;
    unsigned index, total;
    bool complete;
    const char *shared;
    int64_t at;
};

static void note(struct inventory *inv, const struct xfer *x)
{
    struct sockaddr_in sa = addr_of(x->addr);
    struct inventory_hit hits[2] = {{x->load, x->index, x->total}, {x->shared, x->index, x->total}};

    inventory_note_file(inv, (const struct sockaddr *)&sa, hits, x->shared ? 2 : 1, x->complete,
                        x->at);
}

/* What the snapshot says of one address: "load:done/total@at", "" absent. */
static void row_of(struct inventory *inv, const char *addr, char *out, size_t cap)
{
    struct inventory_addr_row *rows;
    size_t n;

    assert_int_equal(inventory_addr_snapshot(inv, 1000, &rows, &n, NULL), 0);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].addr, addr) == 0)
            snprintf(out, cap, "%s:%u/%u@%lld", rows[i].load, rows[i].files_done,
                     rows[i].files_total, (long long)rows[i].at);
    free(rows);
}

static void test_addr_table(void **state)
{
    static const struct {
        const char *name;
        struct xfer x[5];
        size_t n;
        const char *addr, *want;
        uint64_t finished;
    } cases[] = {
        {"whole load",
         {{"10.0.0.1", "L1", 0, 3, true, NULL, 10},
          {"10.0.0.1", "L1", 1, 3, true, NULL, 11},
          {"10.0.0.1", "L1", 2, 3, true, NULL, 12}},
         3,
         "10.0.0.1",
         "L1:3/3@12",
         1},
        {"a file twice counts once",
         {{"10.0.0.1", "L1", 0, 2, true, NULL, 1}, {"10.0.0.1", "L1", 0, 2, true, NULL, 2}},
         2,
         "10.0.0.1",
         "L1:1/2@2",
         0},
        {"abandoned: not done",
         {{"10.0.0.1", "L1", 0, 2, false, NULL, 5}},
         1,
         "10.0.0.1",
         "L1:0/2@5",
         0},
        {"another load starts over",
         {{"10.0.0.1", "L1", 0, 2, true, NULL, 1}, {"10.0.0.1", "L2", 3, 4, true, NULL, 2}},
         2,
         "10.0.0.1",
         "L2:1/4@2",
         0},
        {"a shared file keeps the load",
         {{"10.0.0.1", "L2", 0, 2, true, NULL, 1}, {"10.0.0.1", "L1", 1, 2, true, "L2", 2}},
         2,
         "10.0.0.1",
         "L2:2/2@2",
         1},
        {"an index past the files told apart",
         {{"10.0.0.1", "L1", INVENTORY_FILES_MAX, 200, true, NULL, 1}},
         1,
         "10.0.0.1",
         "L1:0/200@1",
         0},
        {"another address apart", {{"10.0.0.1", "L1", 0, 1, true, NULL, 1}}, 1, "10.0.0.2", "", 1},
    };
    char got[INVENTORY_LOAD_MAX + 64];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct inventory *inv = inventory_new();

        assert_non_null(inv);
        for (size_t k = 0; k < cases[i].n; k++)
            note(inv, &cases[i].x[k]);
        row_of(inv, cases[i].addr, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name, got, cases[i].want);
        assert_int_equal(inventory_addr_finished(inv), cases[i].finished);
        inventory_free(inv);
    }
}

/* An address a config fetch named a MAC for is the phone's, not kept per address. */
static void test_known_phone_apart(void **state)
{
    struct inventory *inv = inventory_new();
    struct sockaddr_in sa = addr_of("10.0.0.9");
    struct xfer x = {"10.0.0.9", "L1", 0, 1, true, NULL, 3};
    struct inventory_addr_row *rows;
    size_t n;

    (void)state;
    inventory_note_config(inv, "001122AABBCC", (const struct sockaddr *)&sa, "L1", 1);
    note(inv, &x);
    assert_int_equal(inventory_addr_snapshot(inv, 10, &rows, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
    assert_int_equal(inventory_merge(inv, "10.0.0.9", "L1", 1, 1, 3, "berlin-1"), 0);
    assert_int_equal(inventory_merge(inv, "10.0.0.8", "L1", 1, 1, 3, "berlin-1"), -1);
    inventory_free(inv);
}

/* Newest first; a cap below the rows takes the newest; none is NULL. */
static void test_snapshot_cap(void **state)
{
    static const size_t caps[] = {0, 1, 2, 3, 4};
    struct inventory *inv = inventory_new();
    struct inventory_addr_row *rows;
    size_t n;
    uint64_t finished = 99;

    (void)state;
    assert_int_equal(inventory_addr_snapshot(inv, 10, &rows, &n, &finished), 0);
    assert_null(rows);
    assert_int_equal(n, 0);
    assert_int_equal(finished, 0);
    note(inv, &(struct xfer){"10.0.0.2", "L1", 0, 1, true, NULL, 20});
    note(inv, &(struct xfer){"10.0.0.1", "L1", 0, 1, false, NULL, 30});
    note(inv, &(struct xfer){"10.0.0.3", "L1", 0, 1, true, NULL, 10});
    for (size_t i = 0; i < ARRAY_LEN(caps); i++) {
        assert_int_equal(inventory_addr_snapshot(inv, caps[i], &rows, &n, &finished), 0);
        assert_int_equal(n, caps[i] < 3 ? caps[i] : 3);
        assert_int_equal(finished, 2);
        if (n >= 1)
            assert_string_equal(rows[0].addr, "10.0.0.1");
        if (n >= 2)
            assert_string_equal(rows[1].addr, "10.0.0.2");
        if (n >= 3)
            assert_string_equal(rows[2].addr, "10.0.0.3");
        free(rows);
    }
    inventory_free(inv);
}

/* INVENTORY_STRANGERS_MAX addresses are kept; one more drops the oldest. */
static void test_bound(void **state)
{
    struct inventory *inv = inventory_new();
    struct inventory_addr_row *rows;
    size_t n;
    char a[32], b[32];
    bool has_first = false, has_last = false;

    (void)state;
    /* 10.1xx.1xx.1xx: text order is number order, so each lands at the end. */
    for (unsigned i = 0; i <= INVENTORY_STRANGERS_MAX; i++) {
        snprintf(a, sizeof(a), "10.%u.%u.%u", 100 + i / 10000, 100 + i / 100 % 100, 100 + i % 100);
        note(inv, &(struct xfer){a, "L1", 0, 2, true, NULL, 1000 + i});
        if (i == 0)
            snprintf(b, sizeof(b), "%s", a);
    }
    assert_int_equal(inventory_addr_snapshot(inv, (size_t)-1, &rows, &n, NULL), 0);
    assert_int_equal(n, INVENTORY_STRANGERS_MAX);
    for (size_t i = 0; i < n; i++) {
        has_first |= strcmp(rows[i].addr, b) == 0;
        has_last |= strcmp(rows[i].addr, a) == 0;
    }
    assert_false(has_first);
    assert_true(has_last);
    assert_string_equal(rows[0].addr, a);
    free(rows);
    inventory_free(inv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_table),
        cmocka_unit_test(test_known_phone_apart),
        cmocka_unit_test(test_snapshot_cap),
        cmocka_unit_test(test_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
