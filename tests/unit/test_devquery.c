/* test_devquery.c: the devices list's filter values, sort parser, matching
 * and order: tables, every prefix of each input (truncated input is parsed
 * from len, never past it), over a snapshot built in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "db/model/devquery.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the sort parser ---- */

static const struct {
    const char *text;
    int rc;
    enum devquery_column col;
    bool desc;
} sorts[] = {
    {"mac", 0, DEVQUERY_MAC, false},
    {"-mac", 0, DEVQUERY_MAC, true},
    {"load", 0, DEVQUERY_LOAD, false},
    {"-load_server", 0, DEVQUERY_LOAD_SERVER, true},
    {"peer_firmware_sharing", 0, DEVQUERY_PFS, false},
    {"site", 0, DEVQUERY_SITE, false},
    {"description", 0, DEVQUERY_DESCRIPTION, false},
    {"", -1, 0, false},
    {"-", -1, 0, false},
    {"--mac", -1, 0, false},
    {"LOAD", -1, 0, false},
    {"load ", -1, 0, false},
    {"mac,load", -1, 0, false},
};

static void test_sort_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(sorts); i++) {
        struct devquery q = {0};
        const char *why = NULL;
        int rc = devquery_sort_parse(&q, sorts[i].text, strlen(sorts[i].text), &why);

        assert_int_equal(rc, sorts[i].rc);
        if (rc == 0) {
            assert_int_equal(q.sort, sorts[i].col);
            assert_int_equal(q.descending, sorts[i].desc);
        } else {
            assert_non_null(why);
        }
    }
}

/* Every prefix of every valid sort, from a heap copy of exactly that many
 * bytes (no NUL: ASan catches a read past len): only a prefix that is itself
 * a column parses, and a refusal leaves q unchanged. */
static void test_sort_truncated(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(sorts); i++) {
        size_t len = strlen(sorts[i].text);

        for (size_t cut = 0; cut < len; cut++) {
            struct devquery q = {.sort = DEVQUERY_SITE, .descending = true};
            char *copy = malloc(cut ? cut : 1);
            const char *why;
            bool known = false;

            memcpy(copy, sorts[i].text, cut);
            for (unsigned c = 0; c < DEVQUERY_COLUMNS; c++) {
                const char *n = devquery_column_name((enum devquery_column)c);
                size_t off = cut > 0 && copy[0] == '-';

                known |= cut - off == strlen(n) && memcmp(copy + off, n, cut - off) == 0;
            }
            if (devquery_sort_parse(&q, copy, cut, &why) == 0) {
                assert_true(known);
            } else {
                assert_false(known);
                assert_int_equal(q.sort, DEVQUERY_SITE);
                assert_true(q.descending);
            }
            free(copy);
        }
    }
}

/* ---- filter values ---- */

static const struct {
    const char *name, *text;
    int rc;
    const char *stored; /* what the slot holds after */
} filters[] = {
    {"q", "SEP0011", 0, "SEP0011"},
    {"q", "", 0, ""},
    {"model", "7961", 0, "7961"},
    {"profile", "none", 0, "none"},
    {"load", "SIP41.9-4-2SR3-1S", 0, "SIP41.9-4-2SR3-1S"},
    {"site", "10.1.2.77/24", 0, "10.1.2.0/24"},
    {"site", "none", 0, "none"},
    {"site", "2001:db8::1/32", 0, "2001:db8::/32"},
    {"site", "10.1.2.0/33", -1, NULL},
    {"site", "branch", -1, NULL},
    {"q", "tab\there", -1, NULL},
    {"q", "bad\xff", -1, NULL},
    {"color", "red", -1, NULL},
    {"load_server", "branch:berlin-1", 0, "branch:berlin-1"},
    {"load_server", "none", 0, "none"},
    {"gate", "central", 0, "central"},
    {"gate", "held_back", 0, "held_back"},
    {"gate", "", 0, ""},
    {"gate", "held_bac", -1, NULL},
    {"gate", "Central", -1, NULL},
    {"gate", "centrals", -1, NULL},
};

static const char *slot_of(const struct devquery *q, const char *name)
{
    return strcmp(name, "q") == 0             ? q->q
           : strcmp(name, "model") == 0       ? q->model
           : strcmp(name, "profile") == 0     ? q->profile
           : strcmp(name, "load") == 0        ? q->load
           : strcmp(name, "load_server") == 0 ? q->load_server
           : strcmp(name, "gate") == 0        ? q->gate
                                              : q->site;
}

static void test_filter_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(filters); i++) {
        struct devquery q = {0};
        const char *why = NULL;
        int rc = devquery_set(&q, filters[i].name, filters[i].text, strlen(filters[i].text), &why);

        assert_int_equal(rc, filters[i].rc);
        if (rc == 0)
            assert_string_equal(slot_of(&q, filters[i].name), filters[i].stored);
        else
            assert_non_null(why);
    }
}

static void test_filter_limits(void **state)
{
    char text[DEVQUERY_TEXT_MAX + 1];
    struct devquery q = {0};
    const char *why;

    (void)state;
    memset(text, 'a', sizeof(text));
    assert_int_equal(devquery_set(&q, "q", text, DEVQUERY_TEXT_MAX - 1, &why), 0);
    assert_int_equal(strlen(q.q), DEVQUERY_TEXT_MAX - 1);
    assert_int_equal(devquery_set(&q, "q", text, DEVQUERY_TEXT_MAX, &why), -1);
    /* A value cut short is taken as it is, never read past len. */
    assert_int_equal(devquery_set(&q, "model", "Cisco 7961", 5, &why), 0);
    assert_string_equal(q.model, "Cisco");
}

/* ---- matching and order over a snapshot ---- */

static struct settings_model models[] = {
    {"Cisco 7961", 30018, true, "SIP", "SIP41.9-4-2SR3-1S", false, ""},
    {"Cisco 8845", 36217, true, "SIP", "", false, ""},
};
static struct settings_profile profiles[] = {
    {"branch", {true, "on"}, {true, "10.0.0.9"}, NULL},
};
static struct settings_load loads[] = {
    {"SIP41.9-4-2SR3-1S", false, false, ""},
    {"sip88xx.14-2-1", false, false, ""},
};
static struct settings_device devices[] = {
    {"001122AABB01", 0, -1, "reception desk", {false, ""}, {false, ""}, {false, ""}, "", ""},
    {"001122AABB02", 0, 0, "lab", {false, ""}, {false, ""}, {true, "sip88xx.14-2-1"}, "", ""},
    {"001122AABB03", 1, -1, "Desk 3", {true, "off"}, {true, "10.7.7.7"}, {false, ""}, "", ""},
};
static struct settings_site sites[1];
static struct settings_snapshot snap = {
    .generation = 1,
    .enterprise = {true, "10.0.0.5", "cm.example"},
    .models = models,
    .n_models = 2,
    .profiles = profiles,
    .n_profiles = 1,
    .devices = devices,
    .n_devices = 3,
    .sites = sites,
    .n_sites = 1,
    .loads = loads,
    .n_loads = 2,
};

static struct devquery_row rows[3];

static int setup(void **state)
{
    struct sockaddr_in in = {.sin_family = AF_INET};
    bool masked;
    char canon[64];
    const char *why;

    (void)state;
    assert_int_equal(
        settings_cidr_parse("192.0.2.0/24", &sites[0], canon, sizeof(canon), &masked, &why), 0);
    snprintf(sites[0].load_server, sizeof(sites[0].load_server), "192.0.2.9");
    inet_pton(AF_INET, "192.0.2.50", &in.sin_addr);
    for (size_t i = 0; i < 3; i++) {
        struct settings_effective e;

        /* Device 1 asks from inside the site rule; the others from nowhere. */
        assert_int_equal(settings_resolve(&snap, devices[i].mac,
                                          i == 0 ? (const struct sockaddr *)&in : NULL, &e),
                         0);
        devquery_row_from(&snap, NULL, &e, &rows[i]);
    }
    return 0;
}

static void test_rows(void **state)
{
    (void)state;
    assert_string_equal(rows[0].load, "SIP41.9-4-2SR3-1S");
    assert_int_equal(rows[0].load_level, SETTINGS_LEVEL_MODEL);
    assert_string_equal(rows[0].load_server, "192.0.2.9");
    assert_int_equal(rows[0].load_server_level, SETTINGS_LEVEL_SITE);
    assert_string_equal(rows[0].pfs, "on");
    assert_int_equal(rows[0].pfs_level, SETTINGS_LEVEL_ENTERPRISE);
    assert_string_equal(rows[1].load, "sip88xx.14-2-1");
    assert_int_equal(rows[1].load_level, SETTINGS_LEVEL_DEVICE);
    assert_string_equal(rows[1].load_server, "10.0.0.9");
    assert_int_equal(rows[1].load_server_level, SETTINGS_LEVEL_PROFILE);
    assert_string_equal(rows[2].load, "");
    assert_int_equal(rows[2].load_level, SETTINGS_LEVEL_NONE);
    assert_string_equal(rows[2].pfs, "off");
    assert_int_equal(rows[2].pfs_level, SETTINGS_LEVEL_DEVICE);
    assert_false(rows[2].held_back);
}

static const struct {
    const char *name, *value;
    const char *want; /* which rows match: "1" for each that does */
} matches[] = {
    {"q", "", "111"},
    {"q", "SEP001122AABB02", "010"},
    {"q", "sep001122aabb0", "111"},
    {"q", "00:11:22:aa:bb:03", "001"},
    {"q", "desk", "101"},
    {"q", "8845", "001"},
    {"q", "branch", "010"},
    {"q", "sip88xx", "010"},
    {"q", "nothing-like-it", "000"},
    {"model", "7961", "110"},
    {"model", "cisco 8845", "001"},
    {"model", "961", "000"},
    {"profile", "none", "101"},
    {"profile", "BRANCH", "010"},
    {"load", "none", "001"},
    {"load", "sip41.9-4-2sr3-1s", "100"},
    {"site", "192.0.2.0/24", "100"},
    {"site", "none", "011"},
    {"site", "10.0.0.0/8", "000"},
    {"load_server", "10.0.0.9", "010"},
    {"load_server", "192.0.2.9", "100"},
    {"load_server", "none", "000"},
    {"gate", "none", "111"},
    {"gate", "central", "000"},
};

static void test_match_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(matches); i++) {
        struct devquery q = {0};
        const char *why;
        char got[4] = "";

        assert_int_equal(
            devquery_set(&q, matches[i].name, matches[i].value, strlen(matches[i].value), &why), 0);
        for (size_t r = 0; r < 3; r++)
            got[r] = devquery_match(&q, &rows[r]) ? '1' : '0';
        if (strcmp(got, matches[i].want) != 0)
            fail_msg("%s=%s: got %s, want %s", matches[i].name, matches[i].value, got,
                     matches[i].want);
    }
}

static const struct {
    const char *sort;
    const char *order; /* the last MAC digits in order */
} orders[] = {
    {"mac", "123"},         {"-mac", "321"},        {"load", "312"},
    {"-load", "213"},       {"load_server", "231"}, {"site", "231"},
    {"description", "321"}, {"profile", "132"},     {"peer_firmware_sharing", "312"},
};

static void test_sort_order(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(orders); i++) {
        struct devquery q = {0};
        struct devquery_row v[3];
        const char *why;
        char got[4] = "";

        assert_int_equal(devquery_sort_parse(&q, orders[i].sort, strlen(orders[i].sort), &why), 0);
        memcpy(v, rows, sizeof(v));
        qsort_r(v, 3, sizeof(v[0]), devquery_cmp, &q);
        for (size_t r = 0; r < 3; r++)
            got[r] = v[r].dev->mac[11];
        if (strcmp(got, orders[i].order) != 0)
            fail_msg("sort %s: got %s, want %s", orders[i].sort, got, orders[i].order);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_table),   cmocka_unit_test(test_sort_truncated),
        cmocka_unit_test(test_filter_table), cmocka_unit_test(test_filter_limits),
        cmocka_unit_test(test_rows),         cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_sort_order),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
