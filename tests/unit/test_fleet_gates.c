/* test_fleet_gates.c: the fleet gate's outcome per device and the groups of
 * the dashboard's summary (db/model/fleet_gates.c) as tables: every gate
 * state to its outcome, outcome names and truncated ones, what loadServer
 * names, grouping by holder, outcome and reason (order, counts, examples),
 * and the cap on groups. Pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db/model/fleet_gates.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LACKS        "branch berlin-1 holds 3 of 5 files of SIP78xx.14-2-1, 61 %, ETA 4 min"

/* One device as fleet_resolve left it. */
struct dev {
    const char *mac, *load_server;
    enum settings_gate_state state;
    const char *sends, *why;
};

static void effective_of(const struct dev *d, struct settings_device *sd,
                         struct settings_effective *e)
{
    memset(sd, 0, sizeof(*sd));
    memset(e, 0, sizeof(*e));
    snprintf(sd->mac, sizeof(sd->mac), "%s", d->mac);
    e->device = sd;
    snprintf(e->load_server.value, sizeof(e->load_server.value), "%s", d->load_server);
    e->load_server_gate.state = d->state;
    snprintf(e->load_server_gate.sends, sizeof(e->load_server_gate.sends), "%s", d->sends);
    snprintf(e->load_server_gate.why, sizeof(e->load_server_gate.why), "%s", d->why);
}

/* ---- the outcome of each gate state ---- */

static const struct {
    struct dev d;
    enum fleet_outcome want;
} outcomes[] = {
    {{"0011223344A0", "", SETTINGS_GATE_NOT_GATED, "", "no load server"}, FLEET_OUTCOME_NONE},
    {{"0011223344A1", "10.0.0.9", SETTINGS_GATE_NOT_GATED, "10.0.0.9", "plain"},
     FLEET_OUTCOME_NONE},
    {{"0011223344A2", "branch:b", SETTINGS_GATE_OK, "10.7.0.5", "holds it"}, FLEET_OUTCOME_HOLDER},
    {{"0011223344A3", "branch:b", SETTINGS_GATE_NO_BRANCH, "", "not registered"},
     FLEET_OUTCOME_CENTRAL},
    {{"0011223344A4", "branch:b", SETTINGS_GATE_NEVER_REPORTED, "", "never"},
     FLEET_OUTCOME_CENTRAL},
    {{"0011223344A5", "branch:b", SETTINGS_GATE_STALE, "", "stale"}, FLEET_OUTCOME_CENTRAL},
    {{"0011223344A6", "branch:b", SETTINGS_GATE_LACKS_LOAD, "", LACKS}, FLEET_OUTCOME_CENTRAL},
    /* stage_first: the holder named while it lacks the target */
    {{"0011223344A7", "branch:b", SETTINGS_GATE_LACKS_LOAD, "10.7.0.5", LACKS},
     FLEET_OUTCOME_HELD_BACK},
    {{"0011223344A8", "10.0.0.9", SETTINGS_GATE_NOT_PROBED, "10.0.0.9", "not probed yet"},
     FLEET_OUTCOME_HOLDER},
    {{"0011223344A9", "10.0.0.9", SETTINGS_GATE_LACKS_LOAD, "", "lacks"}, FLEET_OUTCOME_CENTRAL},
};

static void test_outcome_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(outcomes); i++) {
        struct settings_device sd;
        struct settings_effective e;

        effective_of(&outcomes[i].d, &sd, &e);
        assert_int_equal(fleet_outcome_of(&e), outcomes[i].want);
    }
}

static const struct {
    const char *text;
    int rc;
    enum fleet_outcome want;
} names[] = {
    {"none", 0, FLEET_OUTCOME_NONE},
    {"holder", 0, FLEET_OUTCOME_HOLDER},
    {"central", 0, FLEET_OUTCOME_CENTRAL},
    {"held_back", 0, FLEET_OUTCOME_HELD_BACK},
    {"held_bac", -1, 0},
    {"h", -1, 0},
    {"", -1, 0},
    {"Central", -1, 0},
    {"central ", -1, 0},
    {"held_backs", -1, 0},
};

static void test_outcome_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        enum fleet_outcome o = FLEET_OUTCOMES;

        assert_int_equal(fleet_outcome_parse(names[i].text, &o), names[i].rc);
        if (names[i].rc == 0) {
            assert_int_equal(o, names[i].want);
            assert_string_equal(fleet_outcome_name(o), names[i].text);
        } else {
            assert_int_equal(o, FLEET_OUTCOMES); /* untouched */
        }
    }
    assert_string_equal(fleet_outcome_name(FLEET_OUTCOMES), "");
}

/* ---- what loadServer names ---- */

static void test_sends(void **state)
{
    struct fleet_holder h = {.kind = FLEET_KIND_BRANCH, .name = "berlin-1", .address = "10.77.0.5"};
    struct fleet_view v = {.holders = &h, .n_holders = 1};
    const struct {
        struct dev d;
        const struct fleet_view *fleet;
        const char *want;
    } t[] = {
        {{"0011223344B0", "branch:BERLIN-1", SETTINGS_GATE_OK, "10.77.0.5", ""}, &v, "10.77.0.5"},
        {{"0011223344B1", "branch:berlin-1", SETTINGS_GATE_LACKS_LOAD, "", ""}, &v, ""},
        {{"0011223344B2", "branch:gone", SETTINGS_GATE_OK, "x", ""}, &v, ""},
        {{"0011223344B3", "10.0.0.9", SETTINGS_GATE_NOT_GATED, "10.0.0.9", ""}, NULL, "configured"},
        {{"0011223344B4", "", SETTINGS_GATE_NOT_GATED, "", ""}, NULL, ""},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        struct settings_device sd;
        struct settings_effective e;

        effective_of(&t[i].d, &sd, &e);
        assert_string_equal(fleet_sends_of(t[i].fleet, &e, "configured"), t[i].want);
    }
}

/* ---- groups ---- */

static const struct dev fleet_devs[] = {
    {"0011223344C5", "branch:berlin-1", SETTINGS_GATE_LACKS_LOAD, "", LACKS},
    {"0011223344C1", "branch:berlin-1", SETTINGS_GATE_LACKS_LOAD, "", LACKS},
    {"0011223344C2", "branch:Berlin-1", SETTINGS_GATE_LACKS_LOAD, "", LACKS},
    {"0011223344C3", "branch:berlin-1", SETTINGS_GATE_LACKS_LOAD, "", LACKS},
    {"0011223344C4", "branch:berlin-1", SETTINGS_GATE_LACKS_LOAD, "10.77.0.5", LACKS},
    {"0011223344C6", "branch:berlin-1", SETTINGS_GATE_OK, "10.77.0.5", "holds OLD complete"},
    {"0011223344C7", "branch:amsterdam", SETTINGS_GATE_STALE, "", "last reported 12 min ago"},
    {"0011223344C8", "10.0.0.9", SETTINGS_GATE_LACKS_LOAD, "", "load server 10.0.0.9 lacks"},
    {"0011223344C9", "", SETTINGS_GATE_NOT_GATED, "", "none"},
    {"0011223344CA", "10.0.0.8", SETTINGS_GATE_NOT_GATED, "10.0.0.8", "plain"},
};

static const struct {
    enum fleet_kind kind;
    const char *holder;
    enum fleet_outcome outcome;
    const char *why;
    uint64_t devices;
    const char *examples[FLEET_GATES_EXAMPLES];
} fleet_want[] = {
    {FLEET_KIND_BRANCH,
     "amsterdam",
     FLEET_OUTCOME_CENTRAL,
     "last reported 12 min ago",
     1,
     {"0011223344C7"}},
    {FLEET_KIND_BRANCH,
     "berlin-1",
     FLEET_OUTCOME_HOLDER,
     "holds OLD complete",
     1,
     {"0011223344C6"}},
    {FLEET_KIND_BRANCH,
     "berlin-1",
     FLEET_OUTCOME_CENTRAL,
     LACKS,
     4,
     {"0011223344C5", "0011223344C1", "0011223344C2"}},
    {FLEET_KIND_BRANCH, "berlin-1", FLEET_OUTCOME_HELD_BACK, LACKS, 1, {"0011223344C4"}},
    {FLEET_KIND_PROBED,
     "10.0.0.9",
     FLEET_OUTCOME_CENTRAL,
     "load server 10.0.0.9 lacks",
     1,
     {"0011223344C8"}},
};

static void test_groups(void **state)
{
    struct fleet_gates g = {0};

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(fleet_devs); i++) {
        struct settings_device sd;
        struct settings_effective e;

        effective_of(&fleet_devs[i], &sd, &e);
        assert_int_equal(fleet_gates_add(&g, &e), 0);
    }
    assert_int_equal(g.n, ARRAY_LEN(fleet_want));
    for (size_t i = 0; i < g.n; i++) {
        const struct fleet_gate_group *x = &g.v[i];

        assert_int_equal(x->kind, fleet_want[i].kind);
        assert_string_equal(x->holder, fleet_want[i].holder);
        assert_int_equal(x->outcome, fleet_want[i].outcome);
        assert_string_equal(x->why, fleet_want[i].why);
        assert_int_equal(x->devices, fleet_want[i].devices);
        for (size_t k = 0; k < FLEET_GATES_EXAMPLES; k++) {
            if (fleet_want[i].examples[k] == NULL) {
                assert_int_equal(x->n_examples, k);
                break;
            }
            assert_string_equal(x->examples[k], fleet_want[i].examples[k]);
        }
    }
    assert_int_equal(g.totals[FLEET_OUTCOME_NONE], 2);
    assert_int_equal(g.totals[FLEET_OUTCOME_HOLDER], 1);
    assert_int_equal(g.totals[FLEET_OUTCOME_CENTRAL], 6);
    assert_int_equal(g.totals[FLEET_OUTCOME_HELD_BACK], 1);
    assert_int_equal(g.left_out, 0);
    fleet_gates_free(&g);
    assert_null(g.v);
}

/* Past FLEET_GATES_MAX groups a gated device is counted, not grouped. */
static void test_group_cap(void **state)
{
    struct fleet_gates g = {0};
    struct settings_device sd;
    struct settings_effective e;
    char why[32];

    (void)state;
    for (unsigned i = 0; i < FLEET_GATES_MAX + 2; i++) {
        snprintf(why, sizeof(why), "reason %u", i);
        effective_of(&(struct dev){"0011223344D0", "branch:b", SETTINGS_GATE_STALE, "", why}, &sd,
                     &e);
        assert_int_equal(fleet_gates_add(&g, &e), 0);
    }
    /* an existing group still counts */
    effective_of(&(struct dev){"0011223344D1", "branch:b", SETTINGS_GATE_STALE, "", "reason 7"},
                 &sd, &e);
    assert_int_equal(fleet_gates_add(&g, &e), 0);
    assert_int_equal(g.n, FLEET_GATES_MAX);
    assert_int_equal(g.left_out, 2);
    assert_int_equal(g.totals[FLEET_OUTCOME_CENTRAL], FLEET_GATES_MAX + 3);
    for (size_t i = 1; i < g.n; i++) /* sorted by reason within one holder */
        assert_true(strcmp(g.v[i - 1].why, g.v[i].why) < 0);
    fleet_gates_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcome_table), cmocka_unit_test(test_outcome_names),
        cmocka_unit_test(test_sends),         cmocka_unit_test(test_groups),
        cmocka_unit_test(test_group_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
