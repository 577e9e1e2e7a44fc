/* test_import.c: import_run() end to end in a mkdtemp data dir (datadir_open):
 * unsigned bundles built here (loose files, tar, tgz with libarchive) against
 * the signature policy, completeness, size columns, conflicts and --replace,
 * healing, disk full on a tiny tmpfs, progress. Real modules only, no mocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "db/catalog.h"
#include "db/datadir.h"
#include "db/db.h"
#include "server/firmware/import.h"
#include "tests/unit/testdir.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SIP_LOADS    "# SIP41 test load\r\njar41.sbn\r\ndsp41.sbn\r\n"
#define JAR_BYTES    "JAR-BYTES"      /* 9 bytes */
#define DSP_BYTES    "DSP41 firmware" /* 14 bytes */

struct fixture {
    char dir[PATH_MAX];
    char data[PATH_MAX + 16];
    char mnt[PATH_MAX + 16];
    struct datadir dd;
    bool open;
};

struct member {
    const char *path;
    const char *text;
};

struct progress_log {
    unsigned calls;
    uint64_t last_bytes;
    bool went_back;
    unsigned phases; /* bit 0 unpacking, 1 checking, 2 publishing */
    unsigned files_total;
};

/* ---- helpers ---- */

static int fx_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (fx == NULL || testdir_make("test_import", fx->dir) != 0)
        return -1;
    snprintf(fx->data, sizeof(fx->data), "%s/data", fx->dir);
    snprintf(fx->mnt, sizeof(fx->mnt), "%s/mnt", fx->dir);
    if (datadir_open(fx->data, &fx->dd) != 0)
        return -1;
    fx->open = true;
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->open)
        datadir_close(&fx->dd);
    (void)umount2(fx->mnt, MNT_DETACH); /* mounted only by the disk-full test */
    (void)testdir_remove(fx->dir);
    free(fx);
    return 0;
}

static void in_path(const struct fixture *fx, const char *name, char *out)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", fx->dir, name);

    assert_true(n > 0 && n < PATH_MAX);
}

static void write_text(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

/* Writes loose files into a fresh folder; paths[i] gets each file's path. */
static void write_loose(const struct fixture *fx, const char *folder, const struct member *m,
                        size_t n, char paths[][PATH_MAX])
{
    char dir[PATH_MAX];

    in_path(fx, folder, dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    for (size_t i = 0; i < n; i++) {
        assert_true(snprintf(paths[i], PATH_MAX, "%s/%s", dir, m[i].path) < PATH_MAX);
        write_text(paths[i], m[i].text, strlen(m[i].text));
    }
}

static void write_tar(const char *path, bool gzip, const struct member *m, size_t n)
{
    struct archive *a = archive_write_new();

    assert_non_null(a);
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (gzip)
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        size_t len = strlen(m[i].text);

        archive_entry_set_pathname(e, m[i].path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, m[i].text, len), (la_ssize_t)len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static void on_progress(void *arg, const struct import_progress *p)
{
    struct progress_log *log = arg;

    log->calls++;
    if (p->bytes_read < log->last_bytes)
        log->went_back = true;
    log->last_bytes = p->bytes_read;
    if (strcmp(p->phase, "unpacking") == 0)
        log->phases |= 1;
    else if (strcmp(p->phase, "checking") == 0)
        log->phases |= 2;
    else if (strcmp(p->phase, "publishing") == 0)
        log->phases |= 4;
    log->files_total = p->files_total;
}

static int run(struct fixture *fx, const char *const *paths, size_t n, bool replace,
               struct progress_log *log, json_t **report)
{
    struct import_options opt = {0};

    opt.paths = paths;
    opt.n_paths = n;
    opt.actor = "unit-test";
    opt.replace = replace;
    opt.replace_how = "import with --replace"; /* what loadsctl says */
    if (log != NULL) {
        memset(log, 0, sizeof(*log));
        opt.progress = on_progress;
        opt.progress_arg = log;
    }
    return import_run(fx->dd.db, fx->dd.bs, &opt, report);
}

/* The three files of the test load, loose, in folder; paths out. */
static void loose_bundle(struct fixture *fx, const char *folder, const char *loads_text,
                         const char *jar_text, char paths[3][PATH_MAX])
{
    const struct member m[] = {
        {"SIP41.loads", loads_text}, {"jar41.sbn", jar_text}, {"dsp41.sbn", DSP_BYTES}};

    write_loose(fx, folder, m, ARRAY_LEN(m), paths);
}

static int import_loose(struct fixture *fx, const char *folder, const char *loads_text,
                        const char *jar_text, bool replace, json_t **report)
{
    char paths[3][PATH_MAX];
    const char *p[3] = {paths[0], paths[1], paths[2]};

    loose_bundle(fx, folder, loads_text, jar_text, paths);
    return run(fx, p, 3, replace, NULL, report);
}

static void set_policy(struct fixture *fx, const char *policy)
{
    assert_int_equal(catalog_setting_set(fx->dd.db, "signature_policy", policy), DB_OK);
}

static int64_t count(struct fixture *fx, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(fx->dd.db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int64_t generation(struct fixture *fx)
{
    int64_t g = -1;

    assert_int_equal(db_generation(fx->dd.db, &g), DB_OK);
    return g;
}

/* The report has a problem about file whose message contains text. */
static void assert_problem(json_t *report, const char *file, const char *text)
{
    json_t *problems = json_object_get(report, "problems"), *p;
    size_t i;

    assert_true(json_is_array(problems));
    json_array_foreach(problems, i, p)
    {
        const char *f = json_string_value(json_object_get(p, "file"));
        const char *m = json_string_value(json_object_get(p, "message"));

        if (f != NULL && m != NULL && strcmp(f, file) == 0 && strstr(m, text) != NULL)
            return;
    }
    {
        char *dump = json_dumps(report, JSON_COMPACT);

        print_error("report: %s\n", dump ? dump : "?");
        free(dump);
    }
    fail_msg("no problem about %s saying \"%s\"", file, text);
}

static json_t *find_change(json_t *report, const char *file, const char *change)
{
    json_t *changes = json_object_get(report, "changes"), *c;
    size_t i;

    json_array_foreach(changes, i, c)
    {
        const char *f = json_string_value(json_object_get(c, "file"));
        const char *k = json_string_value(json_object_get(c, "change"));

        if (f != NULL && k != NULL && strcmp(f, file) == 0 && strcmp(k, change) == 0)
            return c;
    }
    return NULL;
}

static void assert_ok_report(json_t *report)
{
    if (!json_is_true(json_object_get(report, "ok"))) {
        char *dump = json_dumps(report, JSON_COMPACT);

        print_error("report: %s\n", dump ? dump : "?");
        free(dump);
        fail_msg("the report is not ok");
    }
    assert_int_equal(json_array_size(json_object_get(report, "problems")), 0);
}

/* The blob of a catalog file exists and holds text. */
static void assert_blob(struct fixture *fx, const char *name, const char *text)
{
    struct catalog_file f;
    char buf[256];
    ssize_t n;
    int fd = -1;

    assert_int_equal(catalog_file_find(fx->dd.db, name, &f), DB_OK);
    assert_int_equal(f.size, strlen(text));
    assert_int_equal(blobstore_open_blob(fx->dd.bs, f.sha256, &fd), 0);
    n = read(fd, buf, sizeof(buf));
    close(fd);
    assert_int_equal(n, (ssize_t)strlen(text));
    assert_memory_equal(buf, text, strlen(text));
}

static void last_import_state(struct fixture *fx, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;

    assert_int_equal(sqlite3_prepare_v2(fx->dd.db,
                                        "SELECT state FROM imports ORDER BY id DESC LIMIT 1", -1,
                                        &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    db_column_text(st, 0, out, cap);
    sqlite3_finalize(st);
}

/* ---- the policy ---- */

static void test_policy_signed_refuses_unsigned(void **state)
{
    struct fixture *fx = *state;
    json_t *report = NULL;
    int64_t g = generation(fx);
    char st[16];

    assert_int_equal(import_loose(fx, "in", SIP_LOADS, JAR_BYTES, false, &report), IMPORT_REFUSED);
    assert_false(json_is_true(json_object_get(report, "ok")));
    assert_problem(report, "SIP41.loads", "signature policy is \"signed\"");
    assert_true(json_integer_value(json_object_get(report, "import_id")) > 0);
    json_decref(report);
    assert_int_equal(count(fx, "SELECT count(*) FROM loads"), 0);
    assert_int_equal(count(fx, "SELECT count(*) FROM files"), 0);
    assert_int_equal(generation(fx), g);
    last_import_state(fx, st, sizeof(st));
    assert_string_equal(st, "failed");
}

static void test_policy_verified_refuses_unsigned(void **state)
{
    struct fixture *fx = *state;
    json_t *report = NULL;

    set_policy(fx, "verified");
    assert_int_equal(import_loose(fx, "in", SIP_LOADS, JAR_BYTES, false, &report), IMPORT_REFUSED);
    assert_problem(report, "SIP41.loads", "signature policy is \"verified\"");
    json_decref(report);
    assert_int_equal(count(fx, "SELECT count(*) FROM loads"), 0);
}

static void test_policy_any_publishes_loose(void **state)
{
    struct fixture *fx = *state;
    char paths[3][PATH_MAX], st[16];
    const char *p[3] = {paths[0], paths[1], paths[2]};
    struct progress_log log;
    json_t *report = NULL, *load, *files;
    struct catalog_load l;
    int64_t g;

    set_policy(fx, "any");
    g = generation(fx);
    loose_bundle(fx, "in", SIP_LOADS, JAR_BYTES, paths);
    assert_int_equal(run(fx, p, 3, false, &log, &report), IMPORT_OK);
    assert_ok_report(report);
    load = json_array_get(json_object_get(report, "loads"), 0);
    assert_string_equal(json_string_value(json_object_get(load, "name")), "SIP41");
    assert_string_equal(json_string_value(json_object_get(load, "status")), "unsigned");
    assert_int_equal(json_array_size(json_object_get(load, "components")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(load, "components"), 0)),
                        "jar41.sbn");
    files = json_object_get(report, "files");
    assert_int_equal(json_array_size(files), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *f = json_array_get(files, i);

        assert_int_equal(strlen(json_string_value(json_object_get(f, "sha256"))), 64);
        assert_string_equal(json_string_value(json_object_get(f, "signature")), "none");
    }
    json_decref(report);

    assert_int_equal(catalog_load_find(fx->dd.db, "sip41", &l), DB_OK);
    assert_string_equal(l.status, "unsigned");
    assert_int_equal(l.file_count, 3);
    assert_int_equal(l.total_size, strlen(SIP_LOADS) + strlen(JAR_BYTES) + strlen(DSP_BYTES));
    assert_true(l.import_id > 0);
    assert_blob(fx, "SIP41.loads", SIP_LOADS);
    assert_blob(fx, "JAR41.SBN", JAR_BYTES);
    assert_blob(fx, "dsp41.sbn", DSP_BYTES);
    assert_int_equal(generation(fx), g + 1); /* one transaction */
    last_import_state(fx, st, sizeof(st));
    assert_string_equal(st, "done");
    assert_int_equal(count(fx, "SELECT count(*) FROM audit WHERE action = 'load.import' AND"
                               " object = 'SIP41' AND actor = 'unit-test'"),
                     1);

    /* progress: growing bytes, every phase, the file count */
    assert_true(log.calls >= 3);
    assert_false(log.went_back);
    assert_int_equal(log.last_bytes, strlen(SIP_LOADS) + strlen(JAR_BYTES) + strlen(DSP_BYTES));
    assert_int_equal(log.phases, 7);
    assert_int_equal(log.files_total, 3);
}

static void test_tar_bundle(void **state)
{
    struct fixture *fx = *state;
    const struct member m[] = {{"SIP41/SIP41.loads", SIP_LOADS},
                               {"SIP41/parts/jar41.sbn", JAR_BYTES},
                               {"dsp41.sbn", DSP_BYTES},
                               {"README.txt", "not listed"}};
    char path[PATH_MAX];
    const char *p[1] = {path};
    json_t *report = NULL, *w;
    struct catalog_file f;

    set_policy(fx, "any");
    in_path(fx, "bundle.tar", path);
    write_tar(path, false, m, ARRAY_LEN(m));
    assert_int_equal(run(fx, p, 1, false, NULL, &report), IMPORT_OK);
    assert_ok_report(report);
    assert_string_equal(json_string_value(json_object_get(report, "source")), "bundle.tar");
    /* the unlisted file is a warning and is not published */
    w = json_array_get(json_object_get(report, "warnings"), 0);
    assert_string_equal(json_string_value(json_object_get(w, "file")), "README.txt");
    assert_non_null(strstr(json_string_value(json_object_get(w, "message")), "not listed"));
    json_decref(report);
    assert_int_equal(catalog_file_find(fx->dd.db, "README.txt", &f), DB_NOT_FOUND);
    assert_blob(fx, "jar41.sbn", JAR_BYTES);
    assert_int_equal(count(fx, "SELECT count(*) FROM files"), 3);
}

static void test_tgz_second_load_shares_catalog_file(void **state)
{
    struct fixture *fx = *state;
    const struct member m[] = {{"SIP42.loads", "jar41.sbn\ncvm42.sbn\n"}, {"cvm42.sbn", "CVM42"}};
    char path[PATH_MAX];
    const char *p[1] = {path};
    json_t *report = NULL;
    struct catalog_load l;

    set_policy(fx, "any");
    assert_int_equal(import_loose(fx, "first", SIP_LOADS, JAR_BYTES, false, &report), IMPORT_OK);
    json_decref(report);
    /* jar41.sbn is not in this bundle, but the catalog has it */
    in_path(fx, "second.tgz", path);
    write_tar(path, true, m, ARRAY_LEN(m));
    assert_int_equal(run(fx, p, 1, false, NULL, &report), IMPORT_OK);
    assert_ok_report(report);
    json_decref(report);
    assert_int_equal(catalog_load_find(fx->dd.db, "SIP42", &l), DB_OK);
    assert_int_equal(l.file_count, 3);
    assert_int_equal(count(fx, "SELECT count(*) FROM files"), 5);
    /* removing the first load keeps the shared file */
    assert_int_equal(catalog_load_remove(fx->dd.db, "SIP41"), DB_OK);
    assert_blob(fx, "jar41.sbn", JAR_BYTES);
}

/* ---- refusals ---- */

static void test_missing_component(void **state)
{
    struct fixture *fx = *state;
    const struct member m[] = {{"SIP43.loads", "jar43.sbn\ncvm43.sbn\n"}, {"jar43.sbn", "J43"}};
    char path[PATH_MAX];
    const char *p[1] = {path};
    json_t *report = NULL;
    int64_t loads, files, g;

    set_policy(fx, "any");
    assert_int_equal(import_loose(fx, "first", SIP_LOADS, JAR_BYTES, false, &report), IMPORT_OK);
    json_decref(report);
    loads = count(fx, "SELECT count(*) FROM loads");
    files = count(fx, "SELECT count(*) FROM files");
    g = generation(fx);

    in_path(fx, "missing.tgz", path);
    write_tar(path, true, m, ARRAY_LEN(m));
    assert_int_equal(run(fx, p, 1, false, NULL, &report), IMPORT_REFUSED);
    assert_problem(report, "SIP43.loads", "lists cvm43.sbn, which is not in the bundle");
    assert_int_equal(json_array_size(json_object_get(report, "loads")), 0);
    json_decref(report);
    assert_int_equal(count(fx, "SELECT count(*) FROM loads"), loads);
    assert_int_equal(count(fx, "SELECT count(*) FROM files"), files);
    assert_int_equal(generation(fx), g);
}

static void test_size_column(void **state)
{
    struct fixture *fx = *state;
    json_t *report = NULL;

    set_policy(fx, "any");
    assert_int_equal(
        import_loose(fx, "bad", "jar41.sbn 123\ndsp41.sbn\n", JAR_BYTES, false, &report),
        IMPORT_REFUSED);
    assert_problem(report, "SIP41.loads", "lists jar41.sbn with 123 bytes, but the file has 9");
    json_decref(report);
    assert_int_equal(count(fx, "SELECT count(*) FROM files"), 0);
    /* the right size (and a hash column, which is not checked) is fine */
    assert_int_equal(import_loose(fx, "good",
                                  "jar41.sbn 9 0123456789abcdef0123456789abcdef\r\ndsp41.sbn 14\n",
                                  JAR_BYTES, false, &report),
                     IMPORT_OK);
    assert_ok_report(report);
    json_decref(report);
}

static void test_bundle_without_loads(void **state)
{
    struct fixture *fx = *state;
    const struct member m[] = {{"jar41.sbn", JAR_BYTES}};
    char path[PATH_MAX];
    const char *p[1] = {path};
    json_t *report = NULL;

    set_policy(fx, "any");
    in_path(fx, "noloads.tar", path);
    write_tar(path, false, m, 1);
    assert_int_equal(run(fx, p, 1, false, NULL, &report), IMPORT_REFUSED);
    assert_problem(report, "noloads.tar", "no .loads file");
    json_decref(report);
}

static void test_duplicate_names(void **state)
{
    struct fixture *fx = *state;
    const struct member m[] = {{"SIP41.loads", SIP_LOADS},
                               {"a/jar41.sbn", JAR_BYTES},
                               {"b/JAR41.SBN", "other"},
                               {"dsp41.sbn", DSP_BYTES}};
    char path[PATH_MAX];
    const char *p[1] = {path};
    json_t *report = NULL;

    set_policy(fx, "any");
    in_path(fx, "dups.tar", path);
    write_tar(path, false, m, ARRAY_LEN(m));
    assert_int_equal(run(fx, p, 1, false, NULL, &report), IMPORT_REFUSED);
    assert_problem(report, "dups.tar", "appears twice"); /* the bundle's name, not its path */
    json_decref(report);
    assert_int_equal(count(fx, "SELECT count(*) FROM files"), 0);
}

static void test_unsafe_bundle(void **state)
{
    struct fixture *fx = *state;
    const struct member m[] = {{"SIP41.loads", SIP_LOADS}, {"../jar41.sbn", JAR_BYTES}};
    char path[PATH_MAX];
    const char *p[1] = {path};
    json_t *report = NULL;

    set_policy(fx, "any");
    in_path(fx, "slip.tgz", path);
    write_tar(path, true, m, ARRAY_LEN(m));
    assert_int_equal(run(fx, p, 1, false, NULL, &report), IMPORT_REFUSED);
    assert_problem(report, "slip.tgz", "path leaves the bundle");
    json_decref(report);
}

/* An upload is imported from its spool file: the report names the file the
 * user uploaded, and no problem shows a server path. */
static void test_report_names_upload(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], *dump;
    const char *p[1] = {path};
    struct import_options opt = {.paths = p, .n_paths = 1, .source = "fw.zip", .actor = "t"};
    json_t *report = NULL;

    in_path(fx, "0123456789abcdef-fw.zip", path);
    write_text(path, "this is no zip file", 19);
    assert_int_equal(import_run(fx->dd.db, fx->dd.bs, &opt, &report), IMPORT_REFUSED);
    assert_problem(report, "fw.zip", "");
    dump = json_dumps(report, JSON_COMPACT);
    assert_non_null(dump);
    if (strstr(dump, fx->dir) != NULL || strstr(dump, "0123456789abcdef") != NULL)
        fail_msg("the report shows the spool file: %s", dump);
    free(dump);
    json_decref(report);
    /* nor for a .cop.sgn without its header, refused before libarchive */
    in_path(fx, "0123456789abcdef-fw.cop.sgn", path);
    write_text(path, "no header", 9);
    opt.source = "fw.cop.sgn";
    assert_int_equal(import_run(fx->dd.db, fx->dd.bs, &opt, &report), IMPORT_REFUSED);
    assert_problem(report, "fw.cop.sgn", "no valid signed header");
    dump = json_dumps(report, JSON_COMPACT);
    assert_non_null(dump);
    if (strstr(dump, fx->dir) != NULL)
        fail_msg("the report shows the spool file: %s", dump);
    free(dump);
    json_decref(report);
}

/* One name rule: a load name the settings would refuse is refused here. */
static void test_load_name_rule(void **state)
{
    struct fixture *fx = *state;
    static const char *const names[] = {"SIP41.<b>BOLD.loads", "SIP41&x.loads", "SIP 41.loads",
                                        "SIP41\"q.loads"};
    char path[PATH_MAX];
    const char *p[1] = {path};
    json_t *report = NULL;

    set_policy(fx, "any");
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        const struct member m[] = {{names[i], "jar41.sbn\n"}, {"jar41.sbn", JAR_BYTES}};

        in_path(fx, i % 2 ? "bad.tgz" : "bad.tar", path);
        unlink(path);
        write_tar(path, i % 2, m, ARRAY_LEN(m));
        assert_int_equal(run(fx, p, 1, false, NULL, &report), IMPORT_REFUSED);
        assert_problem(report, names[i], "is not a load name");
        json_decref(report);
    }
    assert_int_equal(count(fx, "SELECT count(*) FROM loads"), 0);
}

/* ---- conflicts and healing ---- */

static void test_conflict_and_replace(void **state)
{
    struct fixture *fx = *state;
    struct catalog_file before, after;
    json_t *report = NULL, *change;

    set_policy(fx, "any");
    assert_int_equal(import_loose(fx, "v1", SIP_LOADS, JAR_BYTES, false, &report), IMPORT_OK);
    json_decref(report);
    assert_int_equal(catalog_file_find(fx->dd.db, "jar41.sbn", &before), DB_OK);

    assert_int_equal(import_loose(fx, "v2", SIP_LOADS, "JAR-BYTES-v2", false, &report),
                     IMPORT_REFUSED);
    assert_problem(report, "jar41.sbn", "already in the catalog with other bytes");
    assert_problem(report, "jar41.sbn", "import with --replace to overwrite it");
    json_decref(report);
    /* The refusal is audited, with the file and the reason. */
    assert_int_equal(count(fx, "SELECT count(*) FROM audit WHERE action = 'import.fail'"
                               " AND after LIKE 'jar41.sbn: already in the catalog%'"),
                     1);
    assert_blob(fx, "jar41.sbn", JAR_BYTES);

    assert_int_equal(import_loose(fx, "v3", SIP_LOADS, "JAR-BYTES-v2", true, &report), IMPORT_OK);
    assert_ok_report(report);
    change = find_change(report, "jar41.sbn", "replaced");
    assert_non_null(change);
    assert_string_equal(json_string_value(json_object_get(change, "old_sha256")), before.sha256);
    assert_int_equal(catalog_file_find(fx->dd.db, "jar41.sbn", &after), DB_OK);
    assert_string_equal(json_string_value(json_object_get(change, "new_sha256")), after.sha256);
    assert_int_equal(after.id, before.id);
    assert_null(find_change(report, "dsp41.sbn", "replaced")); /* same bytes: no change */
    json_decref(report);
    assert_blob(fx, "jar41.sbn", "JAR-BYTES-v2");
    assert_int_equal(count(fx, "SELECT count(*) FROM audit WHERE action = 'file.replace' AND"
                               " object = 'jar41.sbn'"),
                     1);
}

static void test_reimport_heals_quarantine(void **state)
{
    struct fixture *fx = *state;
    struct catalog_file f;
    struct catalog_load l;
    json_t *report = NULL;
    int changed = 0;

    set_policy(fx, "any");
    assert_int_equal(import_loose(fx, "v1", SIP_LOADS, JAR_BYTES, false, &report), IMPORT_OK);
    json_decref(report);
    assert_int_equal(catalog_file_find(fx->dd.db, "dsp41.sbn", &f), DB_OK);
    assert_int_equal(catalog_file_set_status(fx->dd.db, f.sha256, "quarantined", &changed), DB_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(catalog_load_find(fx->dd.db, "SIP41", &l), DB_OK);
    assert_string_equal(l.status, "quarantined");

    assert_int_equal(import_loose(fx, "v2", SIP_LOADS, JAR_BYTES, false, &report), IMPORT_OK);
    assert_ok_report(report);
    assert_non_null(find_change(report, "dsp41.sbn", "healed"));
    assert_null(find_change(report, "jar41.sbn", "healed"));
    json_decref(report);
    assert_int_equal(catalog_file_find(fx->dd.db, "dsp41.sbn", &f), DB_OK);
    assert_string_equal(f.status, "ok");
    assert_int_equal(catalog_load_find(fx->dd.db, "SIP41", &l), DB_OK);
    assert_string_equal(l.status, "unsigned");
}

/* ---- disk full ---- */

static void test_disk_full(void **state)
{
    struct fixture *fx = *state;
    char data[PATH_MAX + 32], paths[3][PATH_MAX], tmpdir_path[PATH_MAX + 48];
    const char *p[3] = {paths[0], paths[1], paths[2]};
    char *big = malloc(3u << 20);
    struct datadir dd;
    struct import_options opt = {0};
    json_t *report = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    assert_non_null(big);
    assert_int_equal(mkdir(fx->mnt, 0755), 0);
    if (mount("tmpfs", fx->mnt, "tmpfs", 0, "size=2m") != 0) {
        free(big);
        skip(); /* needs CAP_SYS_ADMIN */
    }
    snprintf(data, sizeof(data), "%s/data", fx->mnt);
    assert_int_equal(datadir_open(data, &dd), 0);
    assert_int_equal(catalog_setting_set(dd.db, "signature_policy", "any"), DB_OK);
    memset(big, 'D', 3u << 20);
    big[(3u << 20) - 1] = '\0';
    loose_bundle(fx, "in", SIP_LOADS, JAR_BYTES, paths);
    write_text(paths[2], big, (3u << 20) - 1); /* dsp41.sbn: 3 MiB into 2 */
    free(big);

    opt.paths = p;
    opt.n_paths = 3;
    opt.actor = "unit-test";
    rc = import_run(dd.db, dd.bs, &opt, &report);
    assert_int_equal(rc, IMPORT_ERROR);
    assert_false(json_is_true(json_object_get(report, "ok")));
    assert_true(json_array_size(json_object_get(report, "problems")) > 0);
    {
        char *dump = json_dumps(report, JSON_COMPACT);

        assert_non_null(dump);
        assert_non_null(strstr(dump, "dsp41.sbn"));
        assert_non_null(strstr(dump, "No space left"));
        free(dump);
    }
    json_decref(report);
    assert_int_equal(sqlite3_prepare_v2(dd.db,
                                        "SELECT (SELECT count(*) FROM loads) +"
                                        " (SELECT count(*) FROM files)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    /* the half-written blob is gone */
    snprintf(tmpdir_path, sizeof(tmpdir_path), "%s/blobs/tmp", data);
    {
        unsigned n = 0;
        DIR *d = opendir(tmpdir_path);
        struct dirent *e;

        if (d != NULL) {
            while ((e = readdir(d)) != NULL)
                n += e->d_name[0] != '.';
            closedir(d);
        }
        assert_int_equal(n, 0);
    }
    datadir_close(&dd);
    assert_int_equal(umount(fx->mnt), 0);
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_policy_signed_refuses_unsigned),
        FX_TEST(test_policy_verified_refuses_unsigned),
        FX_TEST(test_policy_any_publishes_loose),
        FX_TEST(test_tar_bundle),
        FX_TEST(test_tgz_second_load_shares_catalog_file),
        FX_TEST(test_missing_component),
        FX_TEST(test_size_column),
        FX_TEST(test_bundle_without_loads),
        FX_TEST(test_duplicate_names),
        FX_TEST(test_unsafe_bundle),
        FX_TEST(test_report_names_upload),
        FX_TEST(test_load_name_rule),
        FX_TEST(test_conflict_and_replace),
        FX_TEST(test_reimport_heals_quarantine),
        FX_TEST(test_disk_full),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
