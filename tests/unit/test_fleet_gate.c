/* test_fleet_gate.c: the fleet gate (db/model/fleet.c, docs/FLEET.md) as a
 * table: every gate state (ok, no_branch, never_reported, stale, lacks_load
 * with progress in words, quarantined and blocked at the branch, not_probed,
 * not_gated), stage_first from the enterprise and a site rule, probed hosts
 * fresh, stale and never probed; the want list; branch:NAME values. Pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "db/model/fleet.h"
#include "db/model/settings.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NOW          1765000000
#define NEW          "SIP78xx.14-2-1"
#define OLD          "SIP78xx.12-8-1"

static struct settings_model models[] = {
    {"Cisco 7841", 622, true, "SIP", NEW, false, ""},
    {"Cisco 8841", 683, true, "SIP", "SIP88xx.14-2-1", false, ""},
};

static struct settings_load loads[] = {
    {"SIP78xx.12-8-1", false, false, ""},
    {"SIP78xx.14-2-1", false, false, ""},
    {"SIP88xx.14-2-1", false, false, ""},
};

static struct settings_site site(const char *cidr, const char *server, enum settings_switch stage)
{
    struct settings_site s;
    char canon[64];
    const char *why = NULL;
    bool masked;

    memset(&s, 0, sizeof(s));
    assert_int_equal(settings_cidr_parse(cidr, &s, canon, sizeof(canon), &masked, &why), 0);
    snprintf(s.load_server, sizeof(s.load_server), "%s", server);
    s.stage_first = stage;
    return s;
}

static struct sockaddr_storage addr_of(const char *text)
{
    struct sockaddr_storage ss;

    assert_int_equal(settings_addr_parse(text, &ss), 0);
    return ss;
}

/* What a holder holds in a case: the new load's state (or none), the old
 * one's, and the progress of the new one. */
enum held { HELD_NONE = -1 };
struct holds {
    int new_state; /* enum fleet_state or HELD_NONE */
    int old_state;
    uint64_t files_have, files_total, bytes_have, bytes_total;
    int64_t eta_s;
};

struct gate_case {
    const char *name;
    const char *from;      /* the phone's address */
    const char *device_ls; /* the device's own load_server, NULL: inherit */
    struct holds berlin;   /* branch berlin-1, fresh unless age says */
    int64_t berlin_age;    /* seconds since its report */
    bool stage_first;      /* enterprise */
    bool probe;            /* enterprise probe_load_servers */
    int64_t probe_age;     /* -1: the host was never probed */
    struct holds host;     /* the probed host 10.3.0.5 */
    enum settings_gate_state state;
    const char *sends;
    const char *served;
    const char *why;       /* a part of the why text */
    const char *held_back; /* a part of held_back, or "" for none */
};

#define COMPLETE_NEW                                                                               \
    {                                                                                              \
        FLEET_COMPLETE, HELD_NONE, 5, 5, 105, 105, 0                                               \
    }
#define COMPLETE_BOTH                                                                              \
    {                                                                                              \
        FLEET_COMPLETE, FLEET_COMPLETE, 5, 5, 105, 105, 0                                          \
    }
#define STAGING_NEW                                                                                \
    {                                                                                              \
        FLEET_STAGING, FLEET_COMPLETE, 3, 5, 64, 105, 240                                          \
    }
#define NOTHING                                                                                    \
    {                                                                                              \
        HELD_NONE, HELD_NONE, 0, 0, 0, 0, 0                                                        \
    }

static const struct gate_case cases[] = {
    {"complete at the branch", "10.1.0.10", NULL, COMPLETE_NEW, 10, false, false, -1, NOTHING,
     SETTINGS_GATE_OK, "10.1.0.5", NEW, "branch berlin-1 holds " NEW " complete", ""},
    {"partial with percent and ETA", "10.1.0.10", NULL, STAGING_NEW, 10, false, false, -1, NOTHING,
     SETTINGS_GATE_LACKS_LOAD, "", NEW,
     "branch berlin-1 holds 3 of 5 files of " NEW ", 61 %, ETA 4 min", ""},
    {"partial, ETA unknown",
     "10.1.0.10",
     NULL,
     {FLEET_STAGING, HELD_NONE, 1, 4, 0, 0, -1},
     10,
     false,
     false,
     -1,
     NOTHING,
     SETTINGS_GATE_LACKS_LOAD,
     "",
     NEW,
     "holds 1 of 4 files of " NEW ", 25 %, ETA unknown",
     ""},
    {"incomplete, nothing fetching",
     "10.1.0.10",
     NULL,
     {FLEET_INCOMPLETE, HELD_NONE, 4, 5, 0, 0, 7},
     10,
     false,
     false,
     -1,
     NOTHING,
     SETTINGS_GATE_LACKS_LOAD,
     "",
     NEW,
     "holds 4 of 5 files of " NEW ", 80 %, nothing fetching",
     ""},
    {"does not hold it",
     "10.1.0.10",
     NULL,
     {HELD_NONE, FLEET_COMPLETE, 0, 0, 0, 0, 0},
     10,
     false,
     false,
     -1,
     NOTHING,
     SETTINGS_GATE_LACKS_LOAD,
     "",
     NEW,
     "branch berlin-1 does not hold " NEW,
     ""},
    {"quarantined at the branch",
     "10.1.0.10",
     NULL,
     {FLEET_QUARANTINED, HELD_NONE, 5, 5, 1, 1, 0},
     10,
     false,
     false,
     -1,
     NOTHING,
     SETTINGS_GATE_LACKS_LOAD,
     "",
     NEW,
     "holds " NEW " quarantined",
     ""},
    {"blocked at the branch",
     "10.1.0.10",
     NULL,
     {FLEET_BLOCKED, HELD_NONE, 5, 5, 1, 1, 0},
     10,
     false,
     false,
     -1,
     NOTHING,
     SETTINGS_GATE_LACKS_LOAD,
     "",
     NEW,
     "holds " NEW " blocked",
     ""},
    {"stale report", "10.1.0.10", NULL, COMPLETE_NEW, 720, false, false, -1, NOTHING,
     SETTINGS_GATE_STALE, "", NEW, "branch berlin-1 last reported 12 min ago (limit 5 min)", ""},
    {"exactly at the limit is fresh", "10.1.0.10", NULL, COMPLETE_NEW, 300, false, false, -1,
     NOTHING, SETTINGS_GATE_OK, "10.1.0.5", NEW, "complete", ""},
    {"never reported", "10.5.0.10", NULL, NOTHING, 10, false, false, -1, NOTHING,
     SETTINGS_GATE_NEVER_REPORTED, "", NEW, "branch quiet has never reported", ""},
    {"unknown branch", "10.2.0.10", NULL, COMPLETE_NEW, 10, false, false, -1, NOTHING,
     SETTINGS_GATE_NO_BRANCH, "", NEW, "branch ghost is not registered", ""},
    {"device names the branch", "192.0.2.1", "branch:Berlin-1", COMPLETE_NEW, 10, false, false, -1,
     NOTHING, SETTINGS_GATE_OK, "10.1.0.5", NEW, "complete", ""},
    {"no load server", "192.0.2.1", NULL, COMPLETE_NEW, 10, false, false, -1, NOTHING,
     SETTINGS_GATE_NOT_GATED, "", NEW, "no load server", ""},
    /* stage_first: held on the last complete load while the branch holds it. */
    {"stage first keeps the old load", "10.1.0.10", NULL, STAGING_NEW, 10, true, false, -1, NOTHING,
     SETTINGS_GATE_LACKS_LOAD, "10.1.0.5", OLD, "3 of 5 files",
     "waiting for branch berlin-1 to hold " NEW " (stage first)"},
    {"stage first, old load not there either",
     "10.1.0.10",
     NULL,
     {FLEET_STAGING, HELD_NONE, 3, 5, 64, 105, 240},
     10,
     true,
     false,
     -1,
     NOTHING,
     SETTINGS_GATE_LACKS_LOAD,
     "10.1.0.5",
     "",
     "3 of 5 files",
     "the config names no load"},
    {"stage first, complete: the new load", "10.1.0.10", NULL, COMPLETE_BOTH, 10, true, false, -1,
     NOTHING, SETTINGS_GATE_OK, "10.1.0.5", NEW, "complete", ""},
    {"stage first does not wait on a stale branch", "10.1.0.10", NULL, STAGING_NEW, 900, true,
     false, -1, NOTHING, SETTINGS_GATE_STALE, "", NEW, "last reported 15 min ago", ""},
    {"site rule turns stage first on", "10.4.0.10", NULL, STAGING_NEW, 10, false, false, -1,
     NOTHING, SETTINGS_GATE_LACKS_LOAD, "10.1.0.5", OLD, "3 of 5", "stage first"},
    {"site rule turns stage first off", "10.6.0.10", NULL, STAGING_NEW, 10, true, false, -1,
     NOTHING, SETTINGS_GATE_LACKS_LOAD, "", NEW, "3 of 5", ""},
    /* Plain hosts. */
    {"plain host, probing off", "10.3.0.10", NULL, NOTHING, 10, false, false, 5, NOTHING,
     SETTINGS_GATE_NOT_GATED, "10.3.0.5", NEW, "probe_load_servers is off", ""},
    {"plain host never probed", "10.3.0.10", NULL, NOTHING, 10, false, true, -1, NOTHING,
     SETTINGS_GATE_NOT_PROBED, "10.3.0.5", NEW, "not probed yet", ""},
    {"plain host probed, stale", "10.3.0.10", NULL, NOTHING, 10, false, true, 600, COMPLETE_NEW,
     SETTINGS_GATE_NOT_PROBED, "10.3.0.5", NEW,
     "not probed yet: the last probe of 10.3.0.5 was 10 min ago", ""},
    {"plain host probed, complete", "10.3.0.10", NULL, NOTHING, 10, false, true, 5, COMPLETE_NEW,
     SETTINGS_GATE_OK, "10.3.0.5", NEW, "load server 10.3.0.5 holds " NEW " complete", ""},
    {"plain host probed, incomplete",
     "10.3.0.10",
     NULL,
     NOTHING,
     10,
     false,
     true,
     5,
     {FLEET_INCOMPLETE, HELD_NONE, 4, 5, 0, 0, -1},
     SETTINGS_GATE_LACKS_LOAD,
     "",
     NEW,
     "load server 10.3.0.5 holds 4 of 5 files",
     ""},
};

static struct fleet_holding holding(const char *load, int state, const struct holds *h)
{
    struct fleet_holding x = {.state = (enum fleet_state)state,
                              .files_have = h->files_have,
                              .files_total = h->files_total,
                              .bytes_have = h->bytes_have,
                              .bytes_total = h->bytes_total,
                              .eta_s = h->eta_s};

    snprintf(x.load, sizeof(x.load), "%s", load);
    return x;
}

/* A holder holding what h says. */
static void add_holder(struct fleet_view *v, enum fleet_kind kind, const char *name,
                       const char *address, int64_t age, const struct holds *h)
{
    struct fleet_holding x[2];
    struct fleet_holder hd = {.kind = kind, .received_at = age < 0 ? 0 : NOW - age, .holdings = x};

    snprintf(hd.name, sizeof(hd.name), "%s", name);
    snprintf(hd.address, sizeof(hd.address), "%s", address);
    if (h->new_state != HELD_NONE)
        x[hd.n_holdings++] = holding(NEW, h->new_state, h);
    if (h->old_state != HELD_NONE) {
        struct holds done = {h->old_state, HELD_NONE, 5, 5, 100, 100, 0};

        x[hd.n_holdings++] = holding("sip78XX.12-8-1", h->old_state, &done); /* any case */
    }
    assert_int_equal(fleet_view_add(v, &hd), 0);
}

struct world {
    struct settings_snapshot snap;
    struct settings_site sites[6];
    struct settings_device device;
};

static void world_init(struct world *w, const struct gate_case *c)
{
    memset(w, 0, sizeof(*w));
    w->sites[0] = site("10.1.0.0/16", "branch:berlin-1", SETTINGS_INHERIT);
    w->sites[1] = site("10.2.0.0/16", "branch:ghost", SETTINGS_INHERIT);
    w->sites[2] = site("10.3.0.0/16", "10.3.0.5", SETTINGS_INHERIT);
    w->sites[3] = site("10.4.0.0/16", "branch:berlin-1", SETTINGS_ON);
    w->sites[4] = site("10.5.0.0/16", "branch:quiet", SETTINGS_INHERIT);
    w->sites[5] = site("10.6.0.0/16", "branch:berlin-1", SETTINGS_OFF);
    snprintf(w->device.mac, sizeof(w->device.mac), "001122AABBCC");
    w->device.model = 0;
    w->device.profile = -1;
    snprintf(w->device.last_load, sizeof(w->device.last_load), "%s", OLD);
    w->device.load_server.set = c->device_ls != NULL;
    snprintf(w->device.load_server.value, sizeof(w->device.load_server.value), "%s",
             c->device_ls ? c->device_ls : "");
    w->snap.models = models;
    w->snap.n_models = ARRAY_LEN(models);
    w->snap.devices = &w->device;
    w->snap.n_devices = 1;
    w->snap.sites = w->sites;
    w->snap.n_sites = ARRAY_LEN(w->sites);
    w->snap.loads = loads;
    w->snap.n_loads = ARRAY_LEN(loads);
    w->snap.enterprise.fleet_max_age_s = 300;
    w->snap.enterprise.stage_first = c->stage_first;
    w->snap.enterprise.probe_load_servers = c->probe;
    snprintf(w->snap.enterprise.cm_address, sizeof(w->snap.enterprise.cm_address), "cm");
}

static struct fleet_view *view_for(const struct gate_case *c)
{
    struct fleet_view *v = calloc(1, sizeof(*v));
    const struct holds none = NOTHING;

    assert_non_null(v);
    add_holder(v, FLEET_KIND_BRANCH, "berlin-1", "10.1.0.5", c->berlin_age, &c->berlin);
    add_holder(v, FLEET_KIND_BRANCH, "quiet", "10.5.0.5", -1, &none);
    if (c->probe_age >= 0)
        add_holder(v, FLEET_KIND_PROBED, "10.3.0.5", "10.3.0.5", c->probe_age, &c->host);
    fleet_view_sort(v);
    return v;
}

static void test_gate_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct gate_case *c = &cases[i];
        struct sockaddr_storage from = addr_of(c->from);
        struct fleet_view *v = view_for(c);
        struct settings_effective e;
        struct world w;

        world_init(&w, c);
        print_message("case: %s\n", c->name);
        assert_int_equal(
            fleet_resolve(&w.snap, v, NOW, "001122aabbcc", (struct sockaddr *)&from, &e), 0);
        assert_string_equal(settings_gate_state_name(e.load_server_gate.state),
                            settings_gate_state_name(c->state));
        assert_string_equal(e.load_server_gate.sends, c->sends);
        assert_string_equal(e.served, c->served);
        if (strstr(e.load_server_gate.why, c->why) == NULL)
            fail_msg("%s: why \"%s\" lacks \"%s\"", c->name, e.load_server_gate.why, c->why);
        if (c->held_back[0] == '\0')
            assert_string_equal(e.held_back, "");
        else if (strstr(e.held_back, c->held_back) == NULL)
            fail_msg("%s: held_back \"%s\" lacks \"%s\"", c->name, e.held_back, c->held_back);
        fleet_view_free(v);
    }
}

/* Without the fleet view the configured host is named, a branch never. */
static void test_resolve_without_view(void **state)
{
    const struct gate_case *c = &cases[0];
    struct sockaddr_storage from = addr_of("10.3.0.10");
    struct settings_effective e;
    struct world w;

    (void)state;
    world_init(&w, c);
    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", (struct sockaddr *)&from, &e), 0);
    assert_string_equal(e.load_server_gate.sends, "10.3.0.5");
    from = addr_of("10.1.0.10");
    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", (struct sockaddr *)&from, &e), 0);
    assert_string_equal(e.load_server.value, "branch:berlin-1");
    assert_string_equal(e.load_server_gate.sends, "");
    /* fleet_resolve with no view: no branch is known. */
    assert_int_equal(
        fleet_resolve(&w.snap, NULL, NOW, "001122AABBCC", (struct sockaddr *)&from, &e), 0);
    assert_int_equal(e.load_server_gate.state, SETTINGS_GATE_NO_BRANCH);
    assert_int_equal(fleet_resolve(&w.snap, NULL, NOW, "FFFFFFFFFFFF", NULL, &e), -1);
}

/* The want list: the target (not held-back) loads of the devices whose load
 * server is the holder, site rules matched at each one's last address. */
static void test_want(void **state)
{
    struct settings_device devs[5];
    struct fleet_seen seen[4];
    struct fleet_want want;
    struct world w;
    const char *macs[] = {"000000000001", "000000000002", "000000000003", "000000000004",
                          "000000000005"};

    (void)state;
    world_init(&w, &cases[0]);
    memset(devs, 0, sizeof(devs));
    for (size_t i = 0; i < ARRAY_LEN(devs); i++) {
        snprintf(devs[i].mac, sizeof(devs[i].mac), "%s", macs[i]);
        devs[i].profile = -1;
    }
    devs[1].model = 1;       /* 8841: its own default */
    devs[2].load.set = true; /* its own load, missing centrally */
    snprintf(devs[2].load.value, sizeof(devs[2].load.value), "sip78xx.14-2-1");
    devs[3].load_server.set = true; /* names the branch itself */
    snprintf(devs[3].load_server.value, sizeof(devs[3].load_server.value), "BRANCH:berlin-1");
    devs[3].load.set = true;
    snprintf(devs[3].load.value, sizeof(devs[3].load.value), "SIP78xx.99-9-9");
    /* Not in the catalog: held back, its config names its last load. */
    snprintf(devs[3].last_load, sizeof(devs[3].last_load), "%s", OLD);
    /* devs[4]: seen elsewhere: not berlin's. */
    w.snap.devices = devs;
    w.snap.n_devices = ARRAY_LEN(devs);
    for (size_t i = 0; i < ARRAY_LEN(seen); i++)
        snprintf(seen[i].mac, sizeof(seen[i].mac), "%s", macs[i == 3 ? 4 : i]);
    seen[0].addr = addr_of("10.1.2.3");
    seen[1].addr = addr_of("10.4.0.7");
    seen[2].addr = addr_of("10.6.9.9");
    seen[3].addr = addr_of("10.3.0.9"); /* 000000000005: the plain host */
    assert_int_equal(
        fleet_want_of(&w.snap, seen, ARRAY_LEN(seen), FLEET_KIND_BRANCH, "Berlin-1", &want), 0);
    assert_int_equal(want.n, 3);
    assert_string_equal(want.loads[0], NEW);
    assert_string_equal(want.loads[1], "SIP78xx.99-9-9");
    assert_string_equal(want.loads[2], "SIP88xx.14-2-1");
    fleet_want_free(&want);
    assert_int_equal(
        fleet_want_of(&w.snap, seen, ARRAY_LEN(seen), FLEET_KIND_PROBED, "10.3.0.5", &want), 0);
    assert_int_equal(want.n, 1);
    assert_string_equal(want.loads[0], NEW);
    fleet_want_free(&want);
    assert_int_equal(
        fleet_want_of(&w.snap, seen, ARRAY_LEN(seen), FLEET_KIND_BRANCH, "ghost", &want), 0);
    assert_int_equal(want.n, 0);
    fleet_want_free(&want);

    /* The index holds every holder's list from one pass: the branch first
     * (kinds in order), its loads as above, each once. */
    struct fleet_want_index x;
    assert_int_equal(fleet_want_index_build(&w.snap, seen, ARRAY_LEN(seen), &x), 0);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.v[0].kind, FLEET_KIND_BRANCH);
    assert_string_equal(x.v[1].name, "10.3.0.5");
    assert_int_equal(fleet_want_index_get(&x, FLEET_KIND_BRANCH, "BERLIN-1", &want), 0);
    assert_int_equal(want.n, 3);
    assert_string_equal(want.loads[1], "SIP78xx.99-9-9");
    fleet_want_free(&want);
    /* What the configs name now apart from the targets: the held-back
     * device's last load (what a probed host's gate asks about). */
    assert_int_equal(x.v[0].named.n, 1);
    assert_string_equal(x.v[0].named.loads[0], OLD);
    assert_int_equal(x.v[1].named.n, 0);
    assert_int_equal(fleet_want_index_get(&x, FLEET_KIND_PROBED, "berlin-1", &want), 0);
    assert_int_equal(want.n, 0); /* a branch's name is no host */
    fleet_want_free(&want);
    fleet_want_index_free(&x);
}

/* The want-list poll period: 5 s up to 500 branches, then stretched so
 * that all together ask at most 100 times a second, never past the report
 * schedule. */
static void test_want_poll(void **state)
{
    static const struct {
        size_t branches;
        unsigned every, want;
    } polls[] = {
        {0, 60, 5},     {1, 60, 5},       {500, 60, 5}, {501, 60, 6},           {1000, 60, 10},
        {5999, 60, 60}, {100000, 60, 60}, {1000, 8, 8}, {SIZE_MAX / 2, 60, 60}, {10, 3, 3},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(polls); i++)
        assert_int_equal(fleet_want_poll_s(polls[i].branches, polls[i].every), polls[i].want);
}

/* branch:NAME as a load_server value. */
static void test_branch_values(void **state)
{
    static const struct {
        const char *in, *out; /* out NULL: refused */
    } rows[] = {
        {"branch:berlin-1", "branch:berlin-1"},
        {"Branch:Leeds North", "branch:Leeds North"},
        {"BRANCH:x", "branch:x"},
        {"branch:", NULL},
        {"branch: lead", NULL},
        {"branch:a/b", NULL},
        {"branch:0123456789012345678901234567890123456789012345678901234567890123", NULL},
        {"branch:\x01", NULL},
        {"branchx", "branchx"}, /* a host name */
    };
    char out[SETTINGS_VALUE_MAX];
    const char *why;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        int rc = settings_value_normalize(SETTINGS_KEY_LOAD_SERVER, rows[i].in, out, &why);

        if (rows[i].out == NULL) {
            assert_int_equal(rc, -1);
            assert_non_null(why);
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(out, rows[i].out);
        }
    }
    assert_string_equal(settings_branch_name("branch:x"), "x");
    assert_null(settings_branch_name("10.1.0.5"));
}

static void test_words(void **state)
{
    static const struct {
        int64_t s;
        const char *text;
    } rows[] = {{0, "0 s"},     {59, "59 s"},      {119, "119 s"}, {120, "2 min"},  {121, "3 min"},
                {240, "4 min"}, {7199, "120 min"}, {7200, "2 h"},  {172800, "2 d"}, {-5, "0 s"}};
    struct fleet_holding x = {.files_have = 1, .files_total = 3};
    char buf[32];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        fleet_duration_text(rows[i].s, buf, sizeof(buf));
        assert_string_equal(buf, rows[i].text);
    }
    assert_int_equal(fleet_percent(&x), 33); /* no bytes: by files */
    x.bytes_total = 1000;
    x.bytes_have = 999; /* 99.9: not 100 before the last byte */
    assert_int_equal(fleet_percent(&x), 99);
    x.bytes_have = 605; /* rounded to the nearest */
    assert_int_equal(fleet_percent(&x), 61);
    x.bytes_have = 2000; /* more than the total: capped */
    assert_int_equal(fleet_percent(&x), 100);
    x.bytes_total = x.bytes_have = FLEET_COUNT_MAX;
    assert_int_equal(fleet_percent(&x), 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_table),    cmocka_unit_test(test_resolve_without_view),
        cmocka_unit_test(test_want),          cmocka_unit_test(test_want_poll),
        cmocka_unit_test(test_branch_values), cmocka_unit_test(test_words),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
