/* test_settings.c: the resolver over the full matrix of set/inherit at every
 * level, site rules with overlapping IPv4/IPv6 prefixes and IPv4-mapped
 * requesters, warnings, and the MAC, CIDR, host and value tables. Pure:
 * builds snapshots in memory, no database. */
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

#include "db/model/settings.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ---- */

static struct settings_model models[] = {
    {"Cisco 7961", 30018, true, "SIP", "SIP41.9-4-2SR3-1S", false, ""},
    {"Cisco 7961G-GE", 308, true, "SIP", "", false, ""},
    {"Cisco 7960", 7, false, "SIP", "P0S3-08-11-00", false, ""},
    {"Cisco 6921", 495, false, "SIP", "", false, ""},
};

static struct settings_load loads[] = {
    {"P0S3-08-11-00", false, false, ""},
    {"SIP41.9-4-2SR3-1S", false, false, ""},
    {"SIP45.9-4-2SR3-1S", true, false, ""},
};

static void opt(struct settings_opt *o, const char *v)
{
    o->set = v != NULL;
    snprintf(o->value, sizeof(o->value), "%s", v ? v : "");
}

static struct sockaddr_storage addr_of(const char *text)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
        ss.ss_family = AF_INET6;
    }
    return ss;
}

static struct settings_site site(const char *cidr, const char *server)
{
    struct settings_site s;
    char canon[64];
    const char *why = NULL;
    bool masked;

    memset(&s, 0, sizeof(s));
    snprintf(s.load_server, sizeof(s.load_server), "%s", server);
    assert_int_equal(settings_cidr_parse(cidr, &s, canon, sizeof(canon), &masked, &why), 0);
    assert_false(masked);
    assert_string_equal(s.load_server, server); /* parse leaves it alone */
    return s;
}

/* One device (model 0) in a snapshot with one profile and the given sites. */
struct world {
    struct settings_snapshot snap;
    struct settings_profile profile;
    struct settings_device device;
};

static void world_init(struct world *w)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->profile.name, sizeof(w->profile.name), "Branch");
    snprintf(w->device.mac, sizeof(w->device.mac), "001122AABBCC");
    snprintf(w->snap.enterprise.cm_address, sizeof(w->snap.enterprise.cm_address), "cm.example");
    w->device.model = 0;
    w->device.profile = 0;
    w->snap.models = models;
    w->snap.n_models = ARRAY_LEN(models);
    w->snap.profiles = &w->profile;
    w->snap.n_profiles = 1;
    w->snap.devices = &w->device;
    w->snap.n_devices = 1;
    w->snap.loads = loads;
    w->snap.n_loads = ARRAY_LEN(loads);
}

/* ---- peer_firmware_sharing: device x profile x enterprise ---- */

/* Profile states: 0 no profile, 1 profile inherits, 2 on, 3 off. */
static const char *const dev_pfs[] = {NULL, "on", "off"};
static const char *const prof_pfs[] = {NULL, NULL, "on", "off"};

static void test_pfs_matrix(void **state)
{
    struct world w;
    struct settings_effective e;
    unsigned cases = 0;

    (void)state;
    for (size_t d = 0; d < ARRAY_LEN(dev_pfs); d++)
        for (size_t p = 0; p < ARRAY_LEN(prof_pfs); p++)
            for (int ent = 0; ent < 2; ent++) {
                const char *want;
                enum settings_level level;

                world_init(&w);
                opt(&w.device.pfs, dev_pfs[d]);
                w.device.profile = p == 0 ? -1 : 0;
                opt(&w.profile.pfs, prof_pfs[p]);
                w.snap.enterprise.pfs = ent;
                /* The first level, in order, that says something. */
                if (dev_pfs[d] != NULL) {
                    want = dev_pfs[d];
                    level = SETTINGS_LEVEL_DEVICE;
                } else if (p >= 2) {
                    want = prof_pfs[p];
                    level = SETTINGS_LEVEL_PROFILE;
                } else {
                    want = ent ? "on" : "off";
                    level = SETTINGS_LEVEL_ENTERPRISE;
                }
                assert_int_equal(settings_resolve(&w.snap, "001122aabbcc", NULL, &e), 0);
                assert_string_equal(e.pfs.value, want);
                assert_int_equal(e.pfs.level, level);
                assert_ptr_equal(e.profile, p == 0 ? NULL : &w.profile);
                cases++;
            }
    assert_int_equal(cases, 24);
}

/* The scenario, written out: on at enterprise, off in the profile,
 * inherit on the device -> off from profile. */
static void test_pfs_scenario(void **state)
{
    struct world w;
    struct settings_effective e;

    (void)state;
    world_init(&w);
    w.snap.enterprise.pfs = true;
    opt(&w.profile.pfs, "off");
    opt(&w.device.pfs, NULL);
    assert_int_equal(settings_resolve(&w.snap, "00:11:22:AA:BB:CC", NULL, &e), 0);
    assert_string_equal(e.pfs.value, "off");
    assert_string_equal(settings_level_name(e.pfs.level), "profile");
}

/* ---- load_server: device x profile x site x enterprise ---- */

static const char *const dev_ls[] = {NULL, "", "dev.example"};
static const char *const prof_ls[] = {NULL, NULL, "", "prof.example"};
static const char *const ent_ls[] = {"", "ent.example"};

static void test_load_server_matrix(void **state)
{
    struct world w;
    struct settings_site sites[1];
    struct settings_effective e;
    struct sockaddr_storage inside = addr_of("10.9.8.7"), outside = addr_of("192.0.2.1");
    unsigned cases = 0;

    (void)state;
    for (size_t d = 0; d < ARRAY_LEN(dev_ls); d++)
        for (size_t p = 0; p < ARRAY_LEN(prof_ls); p++)
            for (int s = 0; s < 3; s++) /* 0 no from, 1 from outside, 2 inside */
                for (size_t en = 0; en < ARRAY_LEN(ent_ls); en++) {
                    const struct sockaddr *from = s == 0   ? NULL
                                                  : s == 1 ? (struct sockaddr *)&outside
                                                           : (struct sockaddr *)&inside;
                    const char *want;
                    enum settings_level level;

                    world_init(&w);
                    sites[0] = site("10.0.0.0/8", "site.example");
                    w.snap.sites = sites;
                    w.snap.n_sites = 1;
                    opt(&w.device.load_server, dev_ls[d]);
                    w.device.profile = p == 0 ? -1 : 0;
                    opt(&w.profile.load_server, prof_ls[p]);
                    snprintf(w.snap.enterprise.load_server, sizeof(w.snap.enterprise.load_server),
                             "%s", ent_ls[en]);
                    if (dev_ls[d] != NULL) {
                        want = dev_ls[d];
                        level = SETTINGS_LEVEL_DEVICE;
                    } else if (p >= 2) {
                        want = prof_ls[p];
                        level = SETTINGS_LEVEL_PROFILE;
                    } else if (s == 2) {
                        want = "site.example";
                        level = SETTINGS_LEVEL_SITE;
                    } else {
                        want = ent_ls[en];
                        level = SETTINGS_LEVEL_ENTERPRISE;
                    }
                    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", from, &e), 0);
                    assert_string_equal(e.load_server.value, want);
                    assert_int_equal(e.load_server.level, level);
                    assert_ptr_equal(e.site, level == SETTINGS_LEVEL_SITE ? &sites[0] : NULL);
                    cases++;
                }
    assert_int_equal(cases, 72);
}

/* ---- load: device > model default > none ---- */

static void test_load_matrix(void **state)
{
    static const struct {
        const char *device; /* NULL inherit */
        int model;
        const char *want;
        enum settings_level level;
    } cases[] = {
        {NULL, 0, "SIP41.9-4-2SR3-1S", SETTINGS_LEVEL_MODEL},
        {NULL, 1, "", SETTINGS_LEVEL_NONE},
        {"P0S3-08-11-00", 0, "P0S3-08-11-00", SETTINGS_LEVEL_DEVICE},
        {"P0S3-08-11-00", 1, "P0S3-08-11-00", SETTINGS_LEVEL_DEVICE},
        {"", 0, "SIP41.9-4-2SR3-1S", SETTINGS_LEVEL_MODEL}, /* empty = inherit */
        {"", 1, "", SETTINGS_LEVEL_NONE},
    };
    struct world w;
    struct settings_effective e;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        world_init(&w);
        opt(&w.device.load, cases[i].device);
        w.device.model = cases[i].model;
        assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
        assert_string_equal(e.load.value, cases[i].want);
        assert_int_equal(e.load.level, cases[i].level);
        assert_int_equal(e.load_state, cases[i].want[0] ? SETTINGS_LOAD_OK : SETTINGS_LOAD_NONE);
        assert_int_equal(e.n_warnings, 0);
    }
}

/* ---- the load by protocol: (model, protocol) defaults ---- */

/* A dual model (SIP by default, runs SCCP too) and a SIP-only one: the
 * device's protocol (its own, else its model's) picks the model default. */
static void test_protocol_load(void **state)
{
    static const struct {
        int model;          /* 0 dual, 1 SIP only */
        const char *proto;  /* the device's; "" = its model's */
        const char *device; /* its own load; NULL inherit */
        const char *sccp;   /* the dual model's SCCP default */
        const char *want;
        const char *want_proto;
        enum settings_level level;
    } cases[] = {
        {0, "", NULL, "SCCP41.9-4-2SR3-1S", "SIP41.9-4-2SR3-1S", "SIP", SETTINGS_LEVEL_MODEL},
        {0, "SIP", NULL, "SCCP41.9-4-2SR3-1S", "SIP41.9-4-2SR3-1S", "SIP", SETTINGS_LEVEL_MODEL},
        {0, "SCCP", NULL, "SCCP41.9-4-2SR3-1S", "SCCP41.9-4-2SR3-1S", "SCCP", SETTINGS_LEVEL_MODEL},
        {0, "SCCP", NULL, "", "", "SCCP", SETTINGS_LEVEL_NONE}, /* no SCCP default: none */
        {0, "SCCP", "P0S3-08-11-00", "SCCP41.9-4-2SR3-1S", "P0S3-08-11-00", "SCCP",
         SETTINGS_LEVEL_DEVICE}, /* its own load wins */
        {1, "", NULL, "SCCP41.9-4-2SR3-1S", "P0S3-08-11-00", "SIP", SETTINGS_LEVEL_MODEL},
        {1, "SCCP", NULL, "SCCP41.9-4-2SR3-1S", "", "SCCP",
         SETTINGS_LEVEL_NONE}, /* a protocol the model lacks has no default */
    };
    static struct settings_load both[] = {
        {"P0S3-08-11-00", false, false, ""},
        {"SCCP41.9-4-2SR3-1S", false, false, ""},
        {"SIP41.9-4-2SR3-1S", false, false, ""},
    };
    struct settings_model m[2] = {
        {"Cisco 7962", 404, true, "SIP", "SIP41.9-4-2SR3-1S", true, ""},
        {"Cisco 7960", 7, false, "SIP", "P0S3-08-11-00", false, "SCCP41.9-4-2SR3-1S"},
    };
    struct world w;
    struct settings_effective e;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        world_init(&w);
        w.snap.models = m;
        w.snap.n_models = 2;
        w.snap.loads = both;
        w.snap.n_loads = ARRAY_LEN(both);
        snprintf(m[0].default_load_other, sizeof(m[0].default_load_other), "%s", cases[i].sccp);
        w.device.model = cases[i].model;
        snprintf(w.device.protocol, sizeof(w.device.protocol), "%s", cases[i].proto);
        opt(&w.device.load, cases[i].device);
        assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
        assert_string_equal(e.load.value, cases[i].want);
        assert_int_equal(e.load.level, cases[i].level);
        assert_string_equal(e.protocol, cases[i].want_proto);
    }
}

/* settings_protocol_parse, settings_model_runs and settings_model_default
 * on their own, malformed and cut-short names included. */
static void test_protocol_rules(void **state)
{
    static const struct {
        const char *text;
        const char *want; /* NULL: refused */
    } parse[] = {
        {"SIP", "SIP"}, {"sccp", "SCCP"}, {"Sip", "SIP"}, {"", NULL},     {"SI", NULL},
        {"SCC", NULL},  {"SIPS", NULL},   {"H323", NULL}, {" SIP", NULL},
    };
    struct settings_model dual = {"Cisco 7962", 404, true, "SCCP", "SCCP1", true, "SIP1"};
    struct settings_model one = {"Cisco 8841", 683, true, "SIP", "sip88xx", false, "stale"};

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(parse); i++) {
        const char *got = settings_protocol_parse(parse[i].text);

        if (parse[i].want == NULL)
            assert_null(got);
        else
            assert_string_equal(got, parse[i].want);
    }
    assert_null(settings_protocol_parse(NULL));
    assert_true(settings_model_runs(&dual, "SIP") && settings_model_runs(&dual, "sccp"));
    assert_true(settings_model_runs(&one, "SIP"));
    assert_false(settings_model_runs(&one, "SCCP") || settings_model_runs(&one, "bogus"));
    assert_string_equal(settings_model_default(&dual, NULL), "SCCP1");
    assert_string_equal(settings_model_default(&dual, ""), "SCCP1");
    assert_string_equal(settings_model_default(&dual, "SCCP"), "SCCP1");
    assert_string_equal(settings_model_default(&dual, "sip"), "SIP1");
    assert_string_equal(settings_model_default(&one, "SIP"), "sip88xx");
    assert_string_equal(settings_model_default(&one, "SCCP"), ""); /* never its stale other */
    assert_string_equal(settings_model_default(&one, "bogus"), "");
}

/* settings_protocols_parse: a model's protocol set, every cut of "SIP SCCP"
 * included. */
static void test_protocols_parse(void **state)
{
    static const struct {
        const char *text;
        int rc;
        const char *first;
        bool dual;
    } cases[] = {
        {"SIP", 0, "SIP", false},          {"sccp", 0, "SCCP", false},
        {"SIP SCCP", 0, "SIP", true},      {"sccp sip", 0, "SCCP", true},
        {"SIP SIP", -1, NULL, false},      {"SCCP SCCP", -1, NULL, false},
        {"SIP  SCCP", -1, NULL, false},    {"SIP,SCCP", -1, NULL, false},
        {"SIP SCCP ", -1, NULL, false},    {" SIP", -1, NULL, false},
        {"SIP H323", -1, NULL, false},     {"", -1, NULL, false},
        {"SIP SCCP SIP", -1, NULL, false}, {"SIPSIPSIPSIP SCCP", -1, NULL, false},
    };
    const char *full = "SIP SCCP", *first = NULL;
    bool dual = false;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        first = NULL;
        assert_int_equal(settings_protocols_parse(cases[i].text, &first, &dual), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_string_equal(first, cases[i].first);
            assert_int_equal(dual, cases[i].dual);
        }
    }
    for (size_t n = 0; n < strlen(full); n++) {
        char cut[16];
        int want = n == 3 ? 0 : -1; /* "SIP" alone is a set; "SIP " and "SIP SC" are not */

        snprintf(cut, sizeof(cut), "%.*s", (int)n, full);
        assert_int_equal(settings_protocols_parse(cut, &first, &dual), want);
    }
    assert_int_equal(settings_protocols_parse(NULL, &first, &dual), -1);
}

/* ---- warnings ---- */

static void test_warnings(void **state)
{
    struct world w;
    struct settings_effective e;

    (void)state;
    /* PFS on for a model that cannot share. */
    world_init(&w);
    w.device.model = 2; /* 7960 */
    w.snap.enterprise.pfs = true;
    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
    assert_int_equal(e.n_warnings, 1);
    assert_ptr_equal(e.warnings[0], SETTINGS_WARN_PFS_INCAPABLE);
    assert_string_equal(e.warnings[0], "peer firmware sharing is on but this model cannot do it");
    /* Off for the same model: nothing to say. */
    opt(&w.device.pfs, "off");
    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
    assert_int_equal(e.n_warnings, 0);
    /* A load the catalog lacks, and one it quarantined (any case). */
    world_init(&w);
    opt(&w.device.load, "SIP41.9-9-9");
    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
    assert_int_equal(e.load_state, SETTINGS_LOAD_MISSING);
    assert_int_equal(e.n_warnings, 1);
    assert_ptr_equal(e.warnings[0], SETTINGS_WARN_LOAD_MISSING);
    opt(&w.device.load, "sip45.9-4-2sr3-1s");
    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
    assert_int_equal(e.load_state, SETTINGS_LOAD_QUARANTINED);
    assert_ptr_equal(e.warnings[0], SETTINGS_WARN_LOAD_QUARANTINED);
    /* Both kinds at once. */
    w.device.model = 3;
    opt(&w.device.pfs, "on");
    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
    assert_int_equal(e.n_warnings, 2);
    /* A snapshot without loads: every named load is missing. */
    w.snap.loads = NULL;
    w.snap.n_loads = 0;
    opt(&w.device.load, NULL);
    w.device.model = 0;
    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
    assert_int_equal(e.load_state, SETTINGS_LOAD_MISSING);
    /* No CUCM address: the config's callManager would be empty. */
    world_init(&w);
    w.snap.enterprise.cm_address[0] = '\0';
    assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
    assert_int_equal(e.n_warnings, 1);
    assert_ptr_equal(e.warnings[0], SETTINGS_WARN_NO_CM);
}

/* ---- hold-back: a load that cannot be finished is never named ---- */

static struct settings_load hold_loads[] = {
    {"A", false, false, ""},
    {"B", true, false, "is quarantined (file dsp41.sbn)"},
    {"C", false, true, "is signed, and the signature policy \"verified\" does not serve it"},
    {"D", false, false, ""},
    {"E", true, false, "is quarantined (file e.sbn)"},
};

struct hold_case {
    const char *load;   /* the device's own load (NULL: the model default "D") */
    const char *last;   /* its last complete load recorded */
    const char *state;  /* load state */
    const char *served; /* what the config names */
    const char *held;   /* substring of held_back, or NULL: not held back */
};

static const struct hold_case hold_cases[] = {
    {"A", "", "ok", "A", NULL},
    {"a", "D", "ok", "a", NULL},
    {NULL, "A", "ok", "D", NULL},
    {"B", "A", "quarantined", "A",
     "held back: B is quarantined (file dsp41.sbn); the config names A, the last complete load"},
    {"B", "", "quarantined", "",
     "held back: B is quarantined (file dsp41.sbn); the config names no load"},
    {"B", "B", "quarantined", "", "the config names no load"},
    {"B", "E", "quarantined", "", "the config names no load"},
    {"B", "gone", "quarantined", "", "the config names no load"},
    {"C", "a", "blocked", "A",
     "C is signed, and the signature policy \"verified\" does not serve it"},
    {"Z", "D", "missing", "D", "held back: Z is not in the catalog; the config names D"},
};

static void test_hold_back(void **state)
{
    struct world w;
    struct settings_effective e;
    struct settings_model m = models[0];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(hold_cases); i++) {
        const struct hold_case *c = &hold_cases[i];

        world_init(&w);
        snprintf(m.default_load, sizeof(m.default_load), "D");
        w.snap.models = &m;
        w.snap.n_models = 1;
        w.snap.loads = hold_loads;
        w.snap.n_loads = ARRAY_LEN(hold_loads);
        opt(&w.device.load, c->load);
        snprintf(w.device.last_load, sizeof(w.device.last_load), "%s", c->last);
        assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", NULL, &e), 0);
        if (strcmp(settings_load_state_name(e.load_state), c->state) != 0 ||
            strcmp(e.served, c->served) != 0)
            fail_msg("case %zu: state %s served \"%s\", want %s \"%s\"", i,
                     settings_load_state_name(e.load_state), e.served, c->state, c->served);
        if (c->held == NULL ? e.held_back[0] != '\0' : strstr(e.held_back, c->held) == NULL)
            fail_msg("case %zu: held_back \"%s\", want \"%s\"", i, e.held_back,
                     c->held ? c->held : "");
    }
}

/* ---- site rules: longest prefix, IPv4 and IPv6 ---- */

static void test_site_longest_prefix(void **state)
{
    /* Listed out of order on purpose. */
    struct settings_site sites[] = {
        site("10.1.2.0/24", "s24"),       site("2001:db8:1:2::5/128", "v128"),
        site("10.0.0.0/8", "s8"),         site("10.1.2.3/32", "s32"),
        site("2001:db8::/32", "v32"),     site("10.1.0.0/16", "s16"),
        site("2001:db8:1:2::/64", "v64"), site("10.1.2.128/25", "s25"),
        site("2001:db8:1::/48", "v48"),   site("2001:db8:8000::/33", "v33"),
    };
    static const struct {
        const char *from;
        const char *want; /* NULL: no rule */
    } cases[] = {
        {"10.1.2.3", "s32"},          {"10.1.2.4", "s24"},
        {"10.1.2.127", "s24"},        {"10.1.2.128", "s25"},
        {"10.1.2.255", "s25"},        {"10.1.3.1", "s16"},
        {"10.1.255.255", "s16"},      {"10.2.0.1", "s8"},
        {"10.255.255.255", "s8"},     {"11.0.0.1", NULL},
        {"9.255.255.255", NULL},      {"::ffff:10.1.2.3", "s32"}, /* IPv4-mapped: the IPv4 rules */
        {"::ffff:10.1.2.200", "s25"}, {"::ffff:10.7.0.1", "s8"},
        {"::ffff:11.0.0.1", NULL},    {"2001:db8:1:2::5", "v128"},
        {"2001:db8:1:2::6", "v64"},   {"2001:db8:1:3::1", "v48"},
        {"2001:db8:2::1", "v32"},     {"2001:db8:7fff::1", "v32"},
        {"2001:db8:8000::1", "v33"},  {"2001:db8:ffff::1", "v33"},
        {"2001:db9::1", NULL},        {"::1", NULL},
        {"::a01:203", NULL}, /* IPv4-compatible is not IPv4-mapped */
    };
    struct world w;

    (void)state;
    world_init(&w);
    w.snap.sites = sites;
    w.snap.n_sites = ARRAY_LEN(sites);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct sockaddr_storage ss = addr_of(cases[i].from);
        const struct settings_site *hit = settings_match_site(&w.snap, (struct sockaddr *)&ss);
        struct settings_effective e;

        if (cases[i].want == NULL) {
            assert_null(hit);
        } else {
            assert_non_null(hit);
            assert_string_equal(hit->load_server, cases[i].want);
        }
        /* The resolver uses the same rule when nothing above sets it. */
        assert_int_equal(settings_resolve(&w.snap, "001122AABBCC", (struct sockaddr *)&ss, &e), 0);
        assert_string_equal(e.load_server.value, cases[i].want ? cases[i].want : "");
    }
    /* A /0 catches the rest of its family only. */
    sites[0] = site("0.0.0.0/0", "any4");
    {
        struct sockaddr_storage v4 = addr_of("11.0.0.1"), v6 = addr_of("2001:db9::1");
        const struct settings_site *hit = settings_match_site(&w.snap, (struct sockaddr *)&v4);

        assert_non_null(hit);
        assert_string_equal(hit->load_server, "any4");
        assert_null(settings_match_site(&w.snap, (struct sockaddr *)&v6));
    }
    /* Unknown family, no from. */
    {
        struct sockaddr sa = {.sa_family = AF_UNIX};

        assert_null(settings_match_site(&w.snap, &sa));
        assert_null(settings_match_site(&w.snap, NULL));
    }
}

/* ---- lookups ---- */

static void test_find_device(void **state)
{
    struct settings_device devs[3];
    struct settings_snapshot snap = {0};
    struct settings_effective e;
    static const char *const macs[] = {"000000000001", "001122AABBCC", "FFFFFFFFFFFF"};

    (void)state;
    memset(devs, 0, sizeof(devs));
    for (size_t i = 0; i < 3; i++) {
        snprintf(devs[i].mac, sizeof(devs[i].mac), "%s", macs[i]);
        devs[i].profile = -1;
    }
    snap.devices = devs;
    snap.n_devices = 3;
    snap.models = models;
    snap.n_models = ARRAY_LEN(models);
    assert_ptr_equal(settings_find_device(&snap, "SEP001122aabbcc"), &devs[1]);
    assert_ptr_equal(settings_find_device(&snap, "00:00:00:00:00:01"), &devs[0]);
    assert_ptr_equal(settings_find_device(&snap, "ffff.ffff.ffff"), &devs[2]);
    assert_null(settings_find_device(&snap, "001122AABBCD"));
    assert_null(settings_find_device(&snap, "not a mac"));
    assert_int_equal(settings_resolve(&snap, "001122AABBCD", NULL, &e), -1);
    assert_null(e.device);
    snap.n_devices = 0;
    assert_null(settings_find_device(&snap, "001122AABBCC"));
}

static void test_find_model(void **state)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"Cisco 7961", 0},     {"cisco 7961", 0},   {"7961", 0}, {"7961g-ge", 1}, {"7961G-GE", 1},
        {"Cisco 7961G-GE", 1}, {"6921", 3},         {"796", -1}, {"7962", -1},    {"", -1},
        {"Cisco", -1},         {"Cisco 7961 ", -1},
    };
    struct settings_model twins[] = {{"Cisco 7961", 1, true, "SIP", "", false, ""},
                                     {"Acme 7961", 2, true, "SIP", "", false, ""}};

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_int_equal(settings_find_model(models, ARRAY_LEN(models), cases[i].text),
                         cases[i].want);
    assert_int_equal(settings_find_model(twins, 2, "7961"), -2);
    assert_int_equal(settings_find_model(twins, 2, "Acme 7961"), 1);
    assert_int_equal(settings_find_model(models, ARRAY_LEN(models), NULL), -1);
}

static void test_find_profile_and_load(void **state)
{
    struct settings_profile profs[2] = {{.name = "Branch"}, {.name = "HQ"}};
    struct settings_snapshot snap = {.loads = loads, .n_loads = ARRAY_LEN(loads)};

    (void)state;
    assert_int_equal(settings_find_profile(profs, 2, "hq"), 1);
    assert_int_equal(settings_find_profile(profs, 2, "BRANCH"), 0);
    assert_int_equal(settings_find_profile(profs, 2, "Lab"), -1);
    assert_int_equal(settings_find_profile(profs, 2, NULL), -1);
    for (size_t i = 0; i < ARRAY_LEN(loads); i++)
        assert_ptr_equal(settings_find_load(&snap, loads[i].name), &loads[i]);
    assert_ptr_equal(settings_find_load(&snap, "p0s3-08-11-00"), &loads[0]);
    assert_null(settings_find_load(&snap, "P0S3-08-11-01"));
    assert_null(settings_find_load(&snap, ""));
    assert_int_equal(settings_load_state_of(&snap, ""), SETTINGS_LOAD_NONE);
    assert_int_equal(settings_load_state_of(&snap, "SIP41.9-4-2SR3-1S"), SETTINGS_LOAD_OK);
    assert_int_equal(settings_load_state_of(&snap, "SIP45.9-4-2SR3-1S"), SETTINGS_LOAD_QUARANTINED);
    assert_int_equal(settings_load_state_of(&snap, "nope"), SETTINGS_LOAD_MISSING);
}

/* ---- MAC normalisation ---- */

static void test_mac_table(void **state)
{
    static const struct {
        const char *in;
        const char *want; /* NULL: refused */
    } cases[] = {
        {"001122aabbcc", "001122AABBCC"},
        {"001122AABBCC", "001122AABBCC"},
        {"00:11:22:aa:bb:cc", "001122AABBCC"},
        {"00-11-22-AA-BB-CC", "001122AABBCC"},
        {"0011.22aa.bbcc", "001122AABBCC"},
        {"SEP001122AABBCC", "001122AABBCC"},
        {"sep001122aabbcc", "001122AABBCC"},
        {"SEP00:11:22:AA:BB:CC", "001122AABBCC"},
        {"ffffffffffff", "FFFFFFFFFFFF"},
        {"", NULL},
        {"SEP", NULL},
        {"001122aabbc", NULL},
        {"001122aabbccd", NULL},
        {"00112233445g", NULL},
        {" 001122aabbcc", NULL},
        {"001122aabbcc ", NULL},
        {"00:11:22:aa:bb:c", NULL},
        {"00:11:22:aa:bbcc", NULL},
        {"00:11-22:aa:bb:cc", NULL},
        {"00:11:22:aa:bb:cc:", NULL},
        {":0:11:22:aa:bb:cc", NULL},
        {"0:011:22:aa:bb:cc", NULL},
        {"00::1:22:aa:bb:cc", NULL},
        {"0011.22aa.bbc", NULL},
        {"00112.2aab.bcc", NULL},
        {"0011.22aa-bbcc", NULL},
        {"0011:22aa:bbcc", NULL},
        {"00 11 22 aa bb cc", NULL},
        {"SEP001122AABBCC.cnf.xml", NULL},
        {"0x001122aabbcc", NULL},
    };
    char out[SETTINGS_MAC_LEN + 1];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        memset(out, 'x', sizeof(out));
        if (cases[i].want == NULL) {
            assert_int_equal(settings_mac_normalize(cases[i].in, out), -1);
        } else {
            assert_int_equal(settings_mac_normalize(cases[i].in, out), 0);
            assert_string_equal(out, cases[i].want);
        }
    }
    assert_int_equal(settings_mac_normalize(NULL, out), -1);
}

/* Every truncation of the accepted shapes is refused (only the whole is a MAC). */
static void test_mac_truncated(void **state)
{
    static const char *const whole[] = {"00:11:22:aa:bb:cc", "0011.22aa.bbcc", "SEP001122AABBCC",
                                        "001122aabbcc"};
    char buf[32], out[SETTINGS_MAC_LEN + 1];

    (void)state;
    for (size_t w = 0; w < ARRAY_LEN(whole); w++) {
        size_t n = strlen(whole[w]);

        for (size_t len = 0; len < n; len++) {
            memcpy(buf, whole[w], len);
            buf[len] = '\0';
            assert_int_equal(settings_mac_normalize(buf, out), -1);
        }
        assert_int_equal(settings_mac_normalize(whole[w], out), 0);
    }
}

/* ---- CIDR ---- */

static void test_cidr_table(void **state)
{
    static const struct {
        const char *in;
        const char *canon; /* NULL: refused */
        bool masked;
    } cases[] = {
        {"10.0.0.0/8", "10.0.0.0/8", false},
        {"10.1.2.3/16", "10.1.0.0/16", true},
        {"10.1.2.3", "10.1.2.3/32", false},
        {"10.1.2.3/32", "10.1.2.3/32", false},
        {"10.1.2.255/25", "10.1.2.128/25", true},
        {"0.0.0.0/0", "0.0.0.0/0", false},
        {"1.2.3.4/0", "0.0.0.0/0", true},
        {"2001:db8::/32", "2001:db8::/32", false},
        {"2001:DB8::1/32", "2001:db8::/32", true},
        {"2001:db8:1:2::5", "2001:db8:1:2::5/128", false},
        {"2001:db8:ffff::/33", "2001:db8:8000::/33", true},
        {"::/0", "::/0", false},
        {"10.0.0.0/33", NULL, false},
        {"2001:db8::/129", NULL, false},
        {"10.0.0.0/", NULL, false},
        {"/8", NULL, false},
        {"10.0.0.0/-1", NULL, false},
        {"10.0.0.0/8/8", NULL, false},
        {"10.0.0/8", NULL, false},
        {"10.0.0.256/8", NULL, false},
        {"foo/8", NULL, false},
        {"", NULL, false},
        {"::ffff:10.0.0.0/104", NULL, false},
        {"10.0.0.0 /8", NULL, false},
        {"2001:db8:1:2:3:4:5:6:7/64", NULL, false},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct settings_site s = {0};
        char canon[64] = "";
        const char *why = NULL;
        bool masked = !cases[i].masked;
        int rc = settings_cidr_parse(cases[i].in, &s, canon, sizeof(canon), &masked, &why);

        if (cases[i].canon == NULL) {
            assert_int_equal(rc, -1);
            assert_non_null(why);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_null(why);
        assert_string_equal(canon, cases[i].canon);
        assert_int_equal(masked, cases[i].masked);
        settings_cidr_format(&s, canon, sizeof(canon));
        assert_string_equal(canon, cases[i].canon);
    }
}

static void test_cidr_truncated(void **state)
{
    static const char whole[] = "2001:db8:1:2::5/128";
    char buf[sizeof(whole)], canon[64];

    (void)state;
    for (size_t len = 0; len <= strlen(whole); len++) {
        struct settings_site s = {0};
        const char *why = NULL;
        bool masked;
        int rc;

        memcpy(buf, whole, len);
        buf[len] = '\0';
        rc = settings_cidr_parse(buf, &s, canon, sizeof(canon), &masked, &why);
        /* "2001:db8:1:2::", "2001:db8:1:2::5", ".../1" and ".../12" are
         * valid too; every other prefix must fail. */
        if (rc == 0)
            assert_true(len == 14 || len == 15 || len >= strlen(whole) - 2);
        else
            assert_non_null(why);
    }
}

/* ---- keys, values, hosts ---- */

static void test_values(void **state)
{
    static const struct {
        enum settings_key key;
        const char *in;
        const char *want; /* NULL: refused */
    } cases[] = {
        {SETTINGS_KEY_PFS, "on", "on"},
        {SETTINGS_KEY_PFS, "OFF", "off"},
        {SETTINGS_KEY_PFS, "1", "on"},
        {SETTINGS_KEY_PFS, "0", "off"},
        {SETTINGS_KEY_PFS, "yes", "on"},
        {SETTINGS_KEY_PFS, "False", "off"},
        {SETTINGS_KEY_PFS, "", NULL},
        {SETTINGS_KEY_PFS, "maybe", NULL},
        {SETTINGS_KEY_PFS, "inherit", NULL},
        {SETTINGS_KEY_LOAD_SERVER, "none", ""},
        {SETTINGS_KEY_LOAD_SERVER, "NONE", ""},
        {SETTINGS_KEY_LOAD_SERVER, "", ""},
        {SETTINGS_KEY_LOAD_SERVER, "10.20.0.5", "10.20.0.5"},
        {SETTINGS_KEY_LOAD_SERVER, "tftp.branch-1.example", "tftp.branch-1.example"},
        {SETTINGS_KEY_LOAD_SERVER, "2001:db8::5", "2001:db8::5"},
        {SETTINGS_KEY_LOAD_SERVER, "2001:db8::5::1", NULL},
        {SETTINGS_KEY_LOAD_SERVER, "-bad.example", NULL},
        {SETTINGS_KEY_LOAD_SERVER, "a..b", NULL},
        {SETTINGS_KEY_LOAD_SERVER, "host name", NULL},
        {SETTINGS_KEY_LOAD_SERVER, "<x>", NULL},
        {SETTINGS_KEY_LOAD, "SIP41.9-4-2SR3-1S", "SIP41.9-4-2SR3-1S"},
        {SETTINGS_KEY_LOAD, "", NULL},
        {SETTINGS_KEY_LOAD, "..", NULL},
        {SETTINGS_KEY_LOAD, "a/b", NULL},
        {SETTINGS_KEY_LOAD, "a b", NULL},
        {SETTINGS_KEY_LOAD, "a<b", NULL},
        {SETTINGS_KEY_LOAD, "caf\xc3\xa9", NULL},
    };
    char out[SETTINGS_VALUE_MAX], longest[SETTINGS_VALUE_MAX + 1];
    const char *why;
    enum settings_key k;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int rc = settings_value_normalize(cases[i].key, cases[i].in, out, &why);

        if (cases[i].want == NULL) {
            assert_int_equal(rc, -1);
            assert_non_null(why);
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(out, cases[i].want);
        }
    }
    memset(longest, 'a', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    assert_int_equal(settings_value_normalize(SETTINGS_KEY_LOAD, longest, out, &why), -1);
    longest[SETTINGS_VALUE_MAX - 1] = '\0'; /* 255 bytes: fits */
    assert_int_equal(settings_value_normalize(SETTINGS_KEY_LOAD, longest, out, &why), 0);
    assert_int_equal(settings_value_normalize(SETTINGS_KEY_LOAD_SERVER, longest, out, &why), -1);
    assert_int_equal(settings_key_parse("peer_firmware_sharing", &k), 0);
    assert_int_equal(k, SETTINGS_KEY_PFS);
    assert_int_equal(settings_key_parse("load_server", &k), 0);
    assert_int_equal(k, SETTINGS_KEY_LOAD_SERVER);
    assert_int_equal(settings_key_parse("load", &k), 0);
    assert_int_equal(k, SETTINGS_KEY_LOAD);
    assert_int_equal(settings_key_parse("pfs", &k), -1);
    assert_int_equal(settings_key_parse(NULL, &k), -1);
    assert_string_equal(settings_key_name(SETTINGS_KEY_LOAD_SERVER), "load_server");
}

static void test_level_names(void **state)
{
    (void)state;
    assert_string_equal(settings_level_name(SETTINGS_LEVEL_DEVICE), "device");
    assert_string_equal(settings_level_name(SETTINGS_LEVEL_PROFILE), "profile");
    assert_string_equal(settings_level_name(SETTINGS_LEVEL_SITE), "site");
    assert_string_equal(settings_level_name(SETTINGS_LEVEL_ENTERPRISE), "enterprise");
    assert_string_equal(settings_level_name(SETTINGS_LEVEL_MODEL), "model default");
    assert_string_equal(settings_level_name(SETTINGS_LEVEL_NONE), "none");
}

/* Names and free text: the one check the API and loadsctl both use. */
static void test_name_text_valid(void **state)
{
    static const struct {
        const char *s;
        bool name, text;
    } cases[] = {
        {"CP-8845", true, true},
        {"Branch phones", true, true},
        {"", false, true},
        {" lead", false, true},
        {"trail ", false, true},
        {" ", false, true},
        {"tab\there", false, false},
        {"nl\n", false, false},
        {"del\x7f", false, false},
        {"\x1f", false, false},
        {"caf\xc3\xa9", true, true}, /* UTF-8 bytes are not control
                                        characters */
        /* one text rule (text_valid): well-formed UTF-8, no C0, DEL or C1 control */
        {"only\xc3(bad", false, false},
        {"cli\xff", false, false},
        {"cr\rlf", false, false},
        {"nel\xc2\x85", false, false},
        {"\xed\xa0\x80", false, false},
        /* a name is one segment of an API path */
        {"a/b", false, true},
        {"/", false, true},
        {"a\\b", true, true},
    };
    char buf[SETTINGS_VALUE_MAX + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(settings_name_valid(cases[i].s), cases[i].name);
        assert_int_equal(settings_text_valid(cases[i].s), cases[i].text);
    }
    /* lengths: a name has 63 bytes at most, a text 255 */
    memset(buf, 'a', sizeof(buf));
    buf[SETTINGS_NAME_MAX - 1] = '\0';
    assert_true(settings_name_valid(buf));
    buf[SETTINGS_NAME_MAX - 1] = 'a';
    buf[SETTINGS_NAME_MAX] = '\0';
    assert_false(settings_name_valid(buf));
    memset(buf, 'a', sizeof(buf));
    buf[SETTINGS_VALUE_MAX - 1] = '\0';
    assert_true(settings_text_valid(buf));
    buf[SETTINGS_VALUE_MAX - 1] = 'a';
    buf[SETTINGS_VALUE_MAX] = '\0';
    assert_false(settings_text_valid(buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pfs_matrix),
        cmocka_unit_test(test_pfs_scenario),
        cmocka_unit_test(test_load_server_matrix),
        cmocka_unit_test(test_load_matrix),
        cmocka_unit_test(test_protocol_load),
        cmocka_unit_test(test_protocol_rules),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_hold_back),
        cmocka_unit_test(test_site_longest_prefix),
        cmocka_unit_test(test_find_device),
        cmocka_unit_test(test_find_model),
        cmocka_unit_test(test_find_profile_and_load),
        cmocka_unit_test(test_mac_table),
        cmocka_unit_test(test_mac_truncated),
        cmocka_unit_test(test_cidr_table),
        cmocka_unit_test(test_cidr_truncated),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_protocols_parse),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_name_text_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
