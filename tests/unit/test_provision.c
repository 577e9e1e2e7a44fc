/* test_provision.c: db/provision.c and admin/devcsv.c on a real SQLite file
 * in a temp dir: the seeded models, the snapshot (order, indexes, loads and
 * their quarantine), writes with their audit rows, load-in-use, search and
 * paging, and a CSV import that fails leaving everything as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "admin/devcsv.h"
#include "db/catalog.h"
#include "db/db.h"
#include "db/model/settings.h"
#include "db/provision.h"
#include "tests/unit/testdir.h"

/* The fixture: a fresh catalog (tests/unit/testdir.h). */

static int setup(void **state)
{
    *state = testdb_new("test_provision");
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    testdb_free(*state);
    return 0;
}

static int64_t count_audit(sqlite3 *db, const char *action)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM audit WHERE action = ?1");
    int64_t n = -1;

    sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int64_t count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = db_prepare(db, sql);
    int64_t n = -1;

    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static struct provision_device dev(const char *mac, const char *model, const char *profile)
{
    struct provision_device d;

    memset(&d, 0, sizeof(d));
    snprintf(d.mac, sizeof(d.mac), "%s", mac);
    snprintf(d.model, sizeof(d.model), "%s", model);
    snprintf(d.profile, sizeof(d.profile), "%s", profile);
    return d;
}

/* A load in the catalog with one file (status ok or quarantined). */
static void add_load(sqlite3 *db, const char *name, char fill, bool quarantined)
{
    struct catalog_file file = {0};
    struct catalog_load l = {0};
    int64_t fid = 0, lid = 0;

    snprintf(file.name, sizeof(file.name), "%s.loads", name);
    memset(file.sha256, fill, 64);
    file.size = 10;
    snprintf(file.signature, sizeof(file.signature), "verified");
    assert_int_equal(catalog_file_put(db, &file, &fid), DB_OK);
    snprintf(l.name, sizeof(l.name), "%s", name);
    snprintf(l.signature, sizeof(l.signature), "verified");
    assert_int_equal(catalog_load_put(db, &l, fid, &fid, 1, &lid), DB_OK);
    if (quarantined)
        assert_int_equal(catalog_file_set_status(db, file.sha256, "quarantined", NULL), DB_OK);
}

static void test_seeded(void **state)
{
    struct testdb *f = *state;
    struct settings_snapshot *s = NULL;
    struct settings_model m;
    static const char *const no_pfs[] = {"7940", "7960", "7985", "7936", "7937", "7921", "7925",
                                         "7926", "6901", "6911", "6921", "6941", "6961", "6945"};

    assert_int_equal(provision_snapshot_load(f->db, &s), DB_OK);
    assert_int_equal(s->n_models, 45);
    for (size_t i = 1; i < s->n_models; i++)
        assert_true(strcasecmp(s->models[i - 1].name, s->models[i].name) < 0);
    assert_false(s->enterprise.pfs);
    assert_string_equal(s->enterprise.load_server, "");
    assert_int_equal(s->n_devices, 0);
    provision_snapshot_free(s);
    for (size_t i = 0; i < sizeof(no_pfs) / sizeof(no_pfs[0]); i++) {
        assert_int_equal(provision_model_find(f->db, no_pfs[i], &m), DB_OK);
        assert_false(m.pfs_capable);
    }
    assert_int_equal(provision_model_find(f->db, "7961", &m), DB_OK);
    assert_int_equal(m.device_type, 30018);
    assert_true(m.pfs_capable);
    assert_string_equal(m.protocol, "SIP");
    assert_int_equal(provision_model_find(f->db, "7941G-GE", &m), DB_OK);
    assert_int_equal(m.device_type, 309);
    assert_int_equal(provision_model_find(f->db, "1234", &m), DB_NOT_FOUND);
}

static void test_snapshot_and_writes(void **state)
{
    struct testdb *f = *state;
    struct settings_snapshot *s = NULL;
    struct provision_device d;
    struct settings_site site = {0};
    struct settings_effective e;
    struct sockaddr_in from = {.sin_family = AF_INET};
    char canon[64];
    const char *why;
    bool masked;
    int64_t gen0, gen1;
    unsigned users;

    assert_int_equal(db_generation(f->db, &gen0), DB_OK);
    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(provision_profile_add(f->db, "tester", "Branch"), DB_OK);
    assert_int_equal(provision_profile_add(f->db, "tester", "branch"), DB_CONFLICT);
    assert_int_equal(provision_profile_set(f->db, "tester", "BRANCH", SETTINGS_KEY_PFS, "off"),
                     DB_OK);
    assert_int_equal(provision_enterprise_set(f->db, "tester", "peer_firmware_sharing", "on"),
                     DB_OK);
    d = dev("FFFFFFFFFFFF", "Cisco 7961", "Branch");
    assert_int_equal(provision_device_add(f->db, "tester", &d), DB_OK);
    assert_int_equal(provision_device_add(f->db, "tester", &d), DB_CONFLICT);
    d = dev("000000000001", "Cisco 7960", "");
    d.load.set = true;
    snprintf(d.load.value, sizeof(d.load.value), "p0s3-08-11-00");
    assert_int_equal(provision_device_add(f->db, "tester", &d), DB_OK);
    d = dev("000000000002", "Cisco 9999", "");
    assert_int_equal(provision_device_add(f->db, "tester", &d), DB_NOT_FOUND);
    d = dev("000000000002", "Cisco 7961", "Nowhere");
    assert_int_equal(provision_device_add(f->db, "tester", &d), DB_NOT_FOUND);
    snprintf(site.load_server, sizeof(site.load_server), "ls.example");
    assert_int_equal(settings_cidr_parse("10.1.0.0/16", &site, canon, sizeof(canon), &masked, &why),
                     0);
    assert_int_equal(provision_site_add(f->db, "tester", &site), DB_OK);
    assert_int_equal(provision_site_add(f->db, "tester", &site), DB_CONFLICT);
    add_load(f->db, "P0S3-08-11-00", 'a', false);
    add_load(f->db, "SIP41.9-4-2SR3-1S", 'b', true);
    assert_int_equal(db_commit(f->db), DB_OK);
    assert_int_equal(db_generation(f->db, &gen1), DB_OK);
    assert_true(gen1 > gen0);

    assert_int_equal(provision_snapshot_load(f->db, &s), DB_OK);
    assert_int_equal(s->generation, gen1);
    assert_true(s->enterprise.pfs);
    assert_int_equal(s->n_devices, 2);
    assert_string_equal(s->devices[0].mac, "000000000001");
    assert_string_equal(s->devices[1].mac, "FFFFFFFFFFFF");
    assert_string_equal(s->models[s->devices[0].model].name, "Cisco 7960");
    assert_int_equal(s->devices[0].profile, -1);
    assert_string_equal(s->profiles[s->devices[1].profile].name, "Branch");
    assert_true(s->profiles[0].pfs.set);
    assert_null(s->profiles[0].template_xml);
    assert_int_equal(s->n_sites, 1);
    assert_int_equal(s->sites[0].family, AF_INET);
    assert_int_equal(s->sites[0].prefix_len, 16);
    assert_int_equal(s->n_loads, 2);
    assert_false(settings_find_load(s, "p0s3-08-11-00")->quarantined);
    assert_true(settings_find_load(s, "SIP41.9-4-2SR3-1S")->quarantined);
    /* The resolver on the loaded snapshot. */
    inet_pton(AF_INET, "10.1.200.1", &from.sin_addr);
    assert_int_equal(settings_resolve(s, "ffff.ffff.ffff", (struct sockaddr *)&from, &e), 0);
    assert_string_equal(e.pfs.value, "off");
    assert_int_equal(e.pfs.level, SETTINGS_LEVEL_PROFILE);
    assert_string_equal(e.load_server.value, "ls.example");
    assert_int_equal(e.load_server.level, SETTINGS_LEVEL_SITE);
    assert_int_equal(settings_resolve(s, "000000000001", NULL, &e), 0);
    assert_int_equal(e.load_state, SETTINGS_LOAD_OK);
    /* PFS on (enterprise) for a 7960, and no CUCM address set. */
    assert_int_equal(e.n_warnings, 2);
    assert_ptr_equal(e.warnings[1], SETTINGS_WARN_NO_CM);
    provision_snapshot_free(s);

    /* Updates, refusals, removal, and the audit of each. */
    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(provision_profile_remove(f->db, "tester", "Branch", &users), DB_CONFLICT);
    assert_int_equal(users, 1);
    assert_int_equal(provision_device_get(f->db, "FFFFFFFFFFFF", &d), DB_OK);
    d.profile[0] = '\0';
    assert_int_equal(provision_device_update(f->db, "tester", &d), DB_OK);
    assert_int_equal(provision_device_update(f->db, "tester", &d), DB_OK); /* no change */
    assert_int_equal(provision_profile_remove(f->db, "tester", "Branch", &users), DB_OK);
    assert_int_equal(provision_site_remove(f->db, "tester", &site), DB_OK);
    assert_int_equal(provision_site_remove(f->db, "tester", &site), DB_NOT_FOUND);
    assert_int_equal(provision_device_remove(f->db, "tester", "FFFFFFFFFFFF"), DB_OK);
    assert_int_equal(provision_device_remove(f->db, "tester", "FFFFFFFFFFFF"), DB_NOT_FOUND);
    assert_int_equal(db_commit(f->db), DB_OK);
    assert_int_equal(count_audit(f->db, "device.add"), 2);
    assert_int_equal(count_audit(f->db, "device.set"), 1);
    assert_int_equal(count_audit(f->db, "device.remove"), 1);
    assert_int_equal(count_audit(f->db, "profile.add"), 1);
    assert_int_equal(count_audit(f->db, "profile.set"), 1);
    assert_int_equal(count_audit(f->db, "profile.remove"), 1);
    assert_int_equal(count_audit(f->db, "site.add"), 1);
    assert_int_equal(count_audit(f->db, "site.remove"), 1);
    assert_int_equal(count_audit(f->db, "enterprise.set"), 1);
}

static void test_load_in_use(void **state)
{
    struct testdb *f = *state;
    struct provision_device d = dev("001122AABBCC", "Cisco 7961", "");
    char why[256];

    assert_int_equal(provision_load_in_use(f->db, "SIP41.9-4-2SR3-1S", why, sizeof(why)), 0);
    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(
        provision_model_set_default_load(f->db, "tester", "Cisco 7961", "SIP41.9-4-2SR3-1S"),
        DB_OK);
    assert_int_equal(
        provision_model_set_default_load(f->db, "tester", "Cisco 7965", "SIP41.9-4-2SR3-1S"),
        DB_OK);
    d.load.set = true;
    snprintf(d.load.value, sizeof(d.load.value), "SIP41.9-4-2SR3-1S");
    assert_int_equal(provision_device_add(f->db, "tester", &d), DB_OK);
    assert_int_equal(db_commit(f->db), DB_OK);
    /* Any case: load names are case-insensitive. */
    assert_int_equal(provision_load_in_use(f->db, "sip41.9-4-2sr3-1s", why, sizeof(why)), 1);
    assert_string_equal(why, "the default load of Cisco 7961, Cisco 7965; assigned to 1 "
                             "device(s)");
    /* A short buffer is truncated, never overrun. */
    assert_int_equal(provision_load_in_use(f->db, "SIP41.9-4-2SR3-1S", why, 10), 1);
    assert_int_equal(strlen(why), 9);
    assert_int_equal(provision_load_in_use(f->db, "SIP41.9-4-2SR3-2S", why, sizeof(why)), 0);
    assert_string_equal(why, "");
    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(provision_model_set_default_load(f->db, "tester", "Cisco 7961", NULL), DB_OK);
    assert_int_equal(provision_model_set_default_load(f->db, "tester", "Cisco 1", NULL),
                     DB_NOT_FOUND);
    assert_int_equal(db_commit(f->db), DB_OK);
    assert_int_equal(count_audit(f->db, "model.default_load"), 3);
}

/* A load of one file of size bytes, imported from source. */
static void add_imported(sqlite3 *db, const char *name, char fill, uint64_t size,
                         const char *source)
{
    struct catalog_file file = {0};
    struct catalog_load l = {0};
    int64_t fid = 0, lid = 0;

    snprintf(file.name, sizeof(file.name), "%s.loads", name);
    memset(file.sha256, fill, 64);
    file.size = size;
    snprintf(file.signature, sizeof(file.signature), "verified");
    assert_int_equal(catalog_file_put(db, &file, &fid), DB_OK);
    snprintf(l.name, sizeof(l.name), "%s", name);
    snprintf(l.signature, sizeof(l.signature), "verified");
    assert_int_equal(catalog_import_start(db, source, "tester", &l.import_id), DB_OK);
    assert_int_equal(catalog_load_put(db, &l, fid, &fid, 1, &lid), DB_OK);
}

/* The quota's recency: a load's last use, else its import; later uses win,
 * and a removed load's use goes with it. */
static void test_pulled_loads_by_use(void **state)
{
    struct testdb *f = *state;
    struct provision_pulled *v = NULL;
    struct catalog_use use[2] = {{"LOADA", 0}, {"loada", 0}};
    size_t n = 0;
    int64_t t0;

    assert_int_equal(db_begin(f->db), DB_OK);
    add_imported(f->db, "LoadA", 'a', 100, "upstream http://central:6970/");
    add_imported(f->db, "LoadB", 'b', 200, "upstream http://central:6970/");
    assert_int_equal(db_commit(f->db), DB_OK);
    assert_int_equal(provision_pulled_loads(f->db, &v, &n), DB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "LoadA"); /* no use yet: by import */
    t0 = v[0].at;
    free(v);
    use[0].at = t0 + 100;
    use[1].at = t0 + 50; /* an older use of the same load (any case) does not win */
    assert_int_equal(catalog_loads_used(f->db, use, 2), DB_OK);
    assert_int_equal(catalog_loads_used(f->db, use, 0), DB_OK);
    assert_int_equal(provision_pulled_loads(f->db, &v, &n), DB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "LoadB");
    assert_string_equal(v[1].name, "LoadA");
    assert_int_equal(v[1].at, t0 + 100);
    free(v);
    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(catalog_load_remove(f->db, "loadA"), DB_OK);
    assert_int_equal(db_commit(f->db), DB_OK);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM load_used"), 0);
}

static void test_pulled_loads(void **state)
{
    static const struct {
        const char *name;
        uint64_t size;
        bool protected;
    } want[] = {{"LoadA", 100, false},
                {"LoadB", 200, true},
                {"LoadD", 400, true},
                {"LoadE", 500, true}}; /* oldest first; C, F and G not from an upstream */
    struct testdb *f = *state;
    struct provision_device d = dev("001122AABBCC", "Cisco 7961", "");
    struct provision_pulled *v = NULL;
    size_t n = 99;

    assert_int_equal(provision_pulled_loads(f->db, &v, &n), DB_OK);
    assert_null(v);
    assert_int_equal(n, 0);
    assert_int_equal(db_begin(f->db), DB_OK);
    add_imported(f->db, "LoadA", 'a', 100, "upstream http://central:6970/");
    add_imported(f->db, "LoadB", 'b', 200, "upstream http://central:6970/");
    add_imported(f->db, "LoadC", 'c', 300, "/srv/bundles/LoadC.zip"); /* by hand */
    add_imported(f->db, "LoadD", 'd', 400, "upstream http://other:6970/");
    add_imported(f->db, "LoadE", 'e', 500, "upstream http://central:6970/");
    add_imported(f->db, "LoadF", 'f', 600, "upstreamish"); /* not "upstream " */
    add_imported(f->db, "LoadG", '0', 700, "upload LoadG.zip");
    d.load.set = true;
    snprintf(d.load.value, sizeof(d.load.value), "loadb"); /* any case */
    assert_int_equal(provision_device_add(f->db, "tester", &d), DB_OK);
    assert_int_equal(provision_model_set_default_load(f->db, "tester", "Cisco 7965", "LOADD"),
                     DB_OK);
    assert_int_equal(db_commit(f->db), DB_OK);
    assert_int_equal(
        sqlite3_exec(f->db, "UPDATE devices SET last_load = 'loade'", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(provision_pulled_loads(f->db, &v, &n), DB_OK);
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(v[i].name, want[i].name);
        assert_int_equal(v[i].size, want[i].size);
        assert_int_equal(v[i].protected, want[i].protected);
        assert_true(v[i].at > 0);
    }
    free(v);
    assert_int_equal(provision_load_protected(f->db, "loada"), 0);
    assert_int_equal(provision_load_protected(f->db, "LOADB"), 1);
    assert_int_equal(provision_load_protected(f->db, "LoadD"), 1);
    assert_int_equal(provision_load_protected(f->db, "LoadE"), 1);
    assert_int_equal(provision_load_protected(f->db, "NoSuchLoad"), 0);
}

static int collect_mac(void *arg, const struct provision_device *d)
{
    char *out = arg;

    strcat(out, d->mac);
    strcat(out, " ");
    return 0;
}

static void test_search_and_paging(void **state)
{
    struct testdb *f = *state;
    struct provision_device d;
    char got[512];
    int64_t n = 0;

    assert_int_equal(db_begin(f->db), DB_OK);
    for (int i = 0; i < 5; i++) {
        char mac[16];

        snprintf(mac, sizeof(mac), "0011223344%02X", i);
        d = dev(mac, i % 2 ? "Cisco 8841" : "Cisco 7961", "");
        snprintf(d.description, sizeof(d.description), "%s %d", i < 2 ? "50%_off" : "desk", i);
        assert_int_equal(provision_device_add(f->db, "tester", &d), DB_OK);
    }
    assert_int_equal(db_commit(f->db), DB_OK);
    got[0] = '\0';
    assert_int_equal(provision_devices_each(f->db, NULL, 1, 2, collect_mac, got), DB_OK);
    assert_string_equal(got, "001122334401 001122334402 ");
    got[0] = '\0';
    assert_int_equal(provision_devices_each(f->db, "8841", 0, 0, collect_mac, got), DB_OK);
    assert_string_equal(got, "001122334401 001122334403 ");
    got[0] = '\0';
    /* % and _ are literal; the MAC matches with separators and any case. */
    assert_int_equal(provision_devices_each(f->db, "%_", 0, 0, collect_mac, got), DB_OK);
    assert_string_equal(got, "001122334400 001122334401 ");
    got[0] = '\0';
    assert_int_equal(provision_devices_each(f->db, "33:44:0", 0, 0, collect_mac, got), DB_OK);
    assert_int_equal(strlen(got), 5 * 13);
    assert_int_equal(provision_devices_count(f->db, "DESK", &n), DB_OK);
    assert_int_equal(n, 3);
    assert_int_equal(provision_devices_count(f->db, NULL, &n), DB_OK);
    assert_int_equal(n, 5);
}

static int export_collect(void *arg, const char *text, size_t len)
{
    char *out = arg;
    size_t have = strlen(out);

    if (have + len >= 4096)
        return -1;
    memcpy(out + have, text, len);
    out[have + len] = '\0';
    return 0;
}

static void test_csv_all_or_nothing(void **state)
{
    struct testdb *f = *state;
    static struct devcsv_report rep;
    static const char good[] = "mac,model,description,peer_firmware_sharing,load_server\n"
                               "00:11:22:33:44:55,7961,\"a, b\",on,none\n"
                               "001122334456,Cisco 7965,,,\n";
    static const char bad[] = "MAC,Model,Description\n"
                              "001122334457,7961,fine\n"
                              "001122334455,7961,changed\n"
                              "0011223344,7961,short mac\n"
                              "001122334457,6921,dup\n";
    char before[4096] = "", after[4096] = "";
    int64_t g0, g1;

    assert_int_equal(devcsv_import(f->db, "tester", good, strlen(good), false, &rep), DEVCSV_OK);
    assert_int_equal(rep.added, 2);
    assert_int_equal(devcsv_export(f->db, false, export_collect, before), 0);
    assert_string_equal(before, "mac,model,profile,description,load,peer_firmware_sharing,"
                                "load_server\r\n"
                                "001122334455,Cisco 7961,,\"a, b\",,on,none\r\n"
                                "001122334456,Cisco 7965,,,,,\r\n");
    assert_int_equal(db_generation(f->db, &g0), DB_OK);
    assert_int_equal(devcsv_import(f->db, "tester", bad, strlen(bad), false, &rep), DEVCSV_INVALID);
    assert_int_equal(rep.n_errors, 2);
    assert_int_equal(rep.errors[0].line, 4);
    assert_non_null(strstr(rep.errors[0].text, "bad MAC"));
    assert_int_equal(rep.errors[1].line, 5);
    assert_non_null(strstr(rep.errors[1].text, "already on line 2"));
    assert_int_equal(rep.added + rep.updated, 0);
    assert_int_equal(db_generation(f->db, &g1), DB_OK);
    assert_int_equal(g0, g1);
    assert_int_equal(devcsv_export(f->db, false, export_collect, after), 0);
    assert_string_equal(before, after);
    /* Header problems. */
    assert_int_equal(devcsv_import(f->db, "tester", "mac,colour\n1,2\n", 15, false, &rep),
                     DEVCSV_INVALID);
    assert_int_equal(rep.n_errors, 2); /* unknown column, no model column */
    assert_int_equal(devcsv_import(f->db, "tester", "", 0, false, &rep), DEVCSV_INVALID);
    assert_int_equal(devcsv_import(f->db, "tester", "mac,model\n", 10, false, &rep),
                     DEVCSV_INVALID);
}

/* One text rule for CSV as for the API: invalid UTF-8 and control
 * characters (CR and LF too, though a quoted CSV field may hold them) are
 * refused with the line and the column. */
static void test_csv_text_rule(void **state)
{
    struct testdb *f = *state;
    static struct devcsv_report rep;
    static const struct {
        const char *csv, *column;
    } bad[] = {
        {"mac,model,profile,description\nAABBCC000001,7961,,\"only\xc3(bad\"\n", "description"},
        {"mac,model,profile,description\nAABBCC000001,7961,,cli\xff\n", "description"},
        {"mac,model,profile,description\nAABBCC000001,7961,,\"two\nlines\"\n", "description"},
        {"mac,model,profile,description\nAABBCC000001,7961,,\"cr\rhere\"\n", "description"},
        {"mac,model,profile,description\nAABBCC000001,7961,,\"tab\there\"\n", "description"},
        {"mac,model,profile,description\nAABBCC000001,7961,\"p\r\n\",x\n", "profile"},
        {"mac,model\nAABBCC000001,79\xc3\n", "model"},
    };
    static const char good[] = "mac,model,description\nAABBCC000001,7961,B\xc3\xbcro\n";
    char want[64];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            devcsv_import(f->db, "tester", bad[i].csv, strlen(bad[i].csv), false, &rep),
            DEVCSV_INVALID);
        assert_int_equal(rep.n_errors, 1);
        assert_int_equal(rep.errors[0].line, 2);
        snprintf(want, sizeof(want), "bad %s: it must be UTF-8 text", bad[i].column);
        if (strstr(rep.errors[0].text, want) == NULL)
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, rep.errors[0].text, want);
    }
    /* UTF-8 text itself is welcome */
    assert_int_equal(devcsv_import(f->db, "tester", good, strlen(good), false, &rep), DEVCSV_OK);
    assert_int_equal(rep.added, 1);
}

/* Rows written before the text rule (here: by hand) never make a reader
 * fail: the text comes back as well-formed UTF-8. */
static void test_stored_bad_bytes(void **state)
{
    struct testdb *f = *state;
    struct provision_device d = dev("AABBCC000002", "Cisco 7961", "");
    char out[4096] = "";

    assert_int_equal(provision_device_add(f->db, "tester", &d), DB_OK);
    assert_int_equal(
        sqlite3_exec(f->db,
                     "UPDATE devices SET description = CAST(X'6f6e6c79c328626164' AS TEXT)"
                     " WHERE mac = 'AABBCC000002'",
                     NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(provision_device_get(f->db, "AABBCC000002", &d), DB_OK);
    assert_string_equal(d.description, "only\xef\xbf\xbd(bad");
    assert_int_equal(devcsv_export(f->db, false, export_collect, out), 0);
    assert_non_null(strstr(out, "AABBCC000002,Cisco 7961,,only\xef\xbf\xbd(bad,,,\r\n"));
}

/* Export then import is an exact round trip, whatever the text holds;
 * the spreadsheet-safe export defuses formulas instead. */
static void test_csv_round_trip(void **state)
{
    struct testdb *f = *state;
    static struct devcsv_report rep;
    static const char *const descriptions[] = {
        "=HYPERLINK(\"http://evil.example/\",\"click\")",
        "+1 555 0100",
        "-2",
        "@SUM(A1:A9)",
        " spaces at both ends ",
        "quote \" and, comma",
        "B\xc3\xbcro 3 \xe2\x80\x94 Empfang",
        "'already quoted",
        "",
    };
    char first[4096] = "", again[4096] = "", safe[4096] = "";
    struct provision_device d;

    for (size_t i = 0; i < sizeof(descriptions) / sizeof(descriptions[0]); i++) {
        char mac[13];

        snprintf(mac, sizeof(mac), "AABBCC0000%02zu", i);
        d = dev(mac, "Cisco 7961", "");
        snprintf(d.description, sizeof(d.description), "%s", descriptions[i]);
        d.pfs.set = i % 2 == 0;
        snprintf(d.pfs.value, sizeof(d.pfs.value), "%s", d.pfs.set ? "on" : "");
        assert_int_equal(provision_device_add(f->db, "tester", &d), DB_OK);
    }
    assert_int_equal(devcsv_export(f->db, false, export_collect, first), 0);
    /* read back: nothing changes, and the next export is the same bytes */
    assert_int_equal(devcsv_import(f->db, "tester", first, strlen(first), false, &rep), DEVCSV_OK);
    assert_int_equal(rep.unchanged, sizeof(descriptions) / sizeof(descriptions[0]));
    assert_int_equal(rep.added + rep.updated, 0);
    assert_int_equal(devcsv_export(f->db, false, export_collect, again), 0);
    assert_string_equal(first, again);
    assert_non_null(strstr(first, ",\"=HYPERLINK(\"\"http")); /* as stored */
    assert_non_null(strstr(first, ",+1 555 0100,"));
    /* the spreadsheet-safe export: every cell quoted, formulas shown as text */
    assert_int_equal(devcsv_export(f->db, true, export_collect, safe), 0);
    assert_non_null(strstr(safe, "\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\")\""));
    assert_non_null(strstr(safe, "\"'+1 555 0100\""));
    assert_non_null(strstr(safe, "\"'-2\""));
    assert_non_null(strstr(safe, "\"'@SUM(A1:A9)\""));
    assert_non_null(strstr(safe, "\"AABBCC000006\",\"Cisco 7961\",\"\",\"B\xc3\xbcro"));
    assert_null(strstr(safe, ",=")); /* no cell starts a formula */
    assert_null(strstr(safe, ",\"="));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seeded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_and_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pulled_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pulled_loads_by_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_text_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_bad_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_round_trip, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
