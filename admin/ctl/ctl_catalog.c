/* ctl_catalog.c: loadsctl's firmware catalog commands: init, import, loads,
 * show, files, remove, verify, gc and the trust store. Output only; the work
 * is done by import, scrub, catalog and datadir, the JSON shapes are
 * catalog_json.c's and views.c's (the API's). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "admin/auth.h"
#include "admin/catalog_json.h"
#include "admin/ctl/ctl.h"
#include "admin/views.h"
#include "db/catalog.h"
#include "db/db.h"
#include "db/provision.h"
#include "lib/numparse.h"
#include "server/firmware/import.h"
#include "server/firmware/scrub.h"
#include "server/firmware/trust.h"
#include "server/firmware/verify.h"

#define PEM_FILE_MAX VERIFY_PEM_MAX

/* getopt_long over a command's own arguments (argv[0] is its name). */
static const struct ctl_command *self(const char *name);

/* ---- init ---- */

/* --first-admin: on a data directory without users, creates "admin" and
 * prints its password to stdout alone (no file), so that a service manager
 * puts it in its journal and nowhere else. */
static int init_first_admin(struct ctl *c)
{
    char password[64];
    int rc = auth_bootstrap(c->dd.db, NULL, password, sizeof(password));

    if (rc == 1)
        printf("first run: created the admin user \"admin\" with password %s\n"
               "(change it on the admin page or with: loadsctl user passwd admin)\n",
               password);
    OPENSSL_cleanse(password, sizeof(password));
    return rc < 0 ? ctl_refuse("cannot create the first admin user") : CTL_OK;
}

static int cmd_init(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"first-admin", no_argument, NULL, 'a'}, {0}};
    bool first_admin = false;
    int o;

    ctl_opts_reset();
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o != 'a')
            return ctl_usage(self("init"));
        first_admin = true;
    }
    if (optind != argc)
        return ctl_usage(self("init"));
    if (first_admin && init_first_admin(c) != CTL_OK)
        return CTL_REFUSED;
    if (c->json)
        return ctl_print_json(json_pack("{s:s, s:i}", "data_dir", c->dd.path, "schema_version",
                                        db_schema_version(c->dd.db)));
    printf("data directory %s ready (schema version %d)\n", c->dd.path,
           db_schema_version(c->dd.db));
    return CTL_OK;
}

/* ---- import ---- */

static void print_problems(json_t *report)
{
    size_t i;
    json_t *p;

    json_array_foreach(json_object_get(report, "problems"), i, p)
        fprintf(stderr, "error: %s: %s\n", json_string_value(json_object_get(p, "file")),
                json_string_value(json_object_get(p, "message")));
    json_array_foreach(json_object_get(report, "warnings"), i, p)
        fprintf(stderr, "warning: %s: %s\n", json_string_value(json_object_get(p, "file")),
                json_string_value(json_object_get(p, "message")));
}

static void print_import(json_t *report)
{
    size_t i;
    json_t *l, *ch;

    json_array_foreach(json_object_get(report, "loads"), i, l)
        printf("imported %s: %s, %zu components\n", json_string_value(json_object_get(l, "name")),
               json_string_value(json_object_get(l, "status")),
               json_array_size(json_object_get(l, "components")));
    json_array_foreach(json_object_get(report, "changes"), i, ch)
        printf("%s %s\n", json_string_value(json_object_get(ch, "change")),
               json_string_value(json_object_get(ch, "file")));
}

static int cmd_import(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"approval", required_argument, NULL, 'a'}, {"replace", no_argument, NULL, 'r'}, {0}};
    struct import_options io = {.actor = c->actor, .replace_how = "import with --replace"};
    json_t *report = NULL;
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o == 'a')
            io.approval_path = optarg;
        else if (o == 'r')
            io.replace = true;
        else
            return ctl_usage(self("import"));
    }
    if (optind >= argc)
        return ctl_usage(self("import"));
    io.paths = (const char *const *)argv + optind;
    io.n_paths = (size_t)(argc - optind);
    if (datadir_lock(&c->dd, false, true) != 0)
        return ctl_refuse("cannot lock the data directory");
    rc = import_run(c->dd.db, c->dd.bs, &io, &report);
    datadir_unlock(&c->dd);
    if (!c->json)
        print_problems(report);
    if (c->json)
        ctl_print_json(json_incref(report));
    else if (rc == IMPORT_OK)
        print_import(report);
    json_decref(report);
    if (rc == IMPORT_OK)
        return CTL_OK;
    return ctl_refuse("import %s: nothing was published",
                      rc == IMPORT_REFUSED ? "refused" : "failed");
}

/* ---- loads, show, files ---- */

static int load_row(void *arg, const struct catalog_load *l)
{
    char size[32], when[32], files[16];

    if (json_is_array((json_t *)arg))
        return catalog_json_append_load(arg, l);
    snprintf(files, sizeof(files), "%u", l->file_count);
    ctl_table_row(arg, l->name, l->status, l->served ? "yes" : "no", files,
                  ctl_size(l->total_size, size, sizeof(size)),
                  ctl_time(l->created_at, when, sizeof(when)),
                  l->approved_by[0] ? l->approved_by : l->signer);
    return 0;
}

static int cmd_loads(struct ctl *c, int argc, char **argv)
{
    void *out;
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("loads"));
    out = c->json ? (void *)json_array()
                  : (void *)ctl_table_new(7, "LOAD", "STATUS", "SERVED", "FILES", "SIZE",
                                          "IMPORTED", "SIGNER");
    rc = catalog_loads_each(c->dd.db, load_row, out);
    if (c->json)
        return rc == DB_OK ? ctl_print_json(out) : ctl_refuse("cannot list loads");
    ctl_table_print(out);
    return rc == DB_OK ? CTL_OK : CTL_REFUSED;
}

static int file_row(void *arg, const struct catalog_file *f)
{
    char size[32];

    if (json_is_array((json_t *)arg))
        return catalog_json_append_file(arg, f);
    ctl_table_row(arg, f->name, ctl_size(f->size, size, sizeof(size)), f->status, f->signature,
                  f->sha256);
    return 0;
}

static int list_files(struct ctl *c, const char *load)
{
    void *out = c->json ? (void *)json_array()
                        : (void *)ctl_table_new(5, "FILE", "SIZE", "STATUS", "SIGNATURE", "SHA256");
    int rc = catalog_files_each(c->dd.db, load, file_row, out);

    if (c->json)
        return rc == DB_OK ? ctl_print_json(out) : ctl_refuse("cannot list files");
    ctl_table_print(out);
    return rc == DB_OK ? CTL_OK : CTL_REFUSED;
}

static int cmd_files(struct ctl *c, int argc, char **argv)
{
    struct catalog_load l;

    if (argc > 2)
        return ctl_usage(self("files"));
    if (argc == 2 && catalog_load_find(c->dd.db, argv[1], &l) != DB_OK)
        return ctl_refuse("no load named %s", argv[1]);
    return list_files(c, argc == 2 ? argv[1] : NULL);
}

static int cmd_show(struct ctl *c, int argc, char **argv)
{
    struct catalog_load l;
    char size[32], when[32];
    json_t *j;

    if (argc != 2)
        return ctl_usage(self("show"));
    if (catalog_load_find(c->dd.db, argv[1], &l) != DB_OK)
        return ctl_refuse("no load named %s", argv[1]);
    if (c->json)
        return view_load(c->dd.db, &l, &j) == DB_OK ? ctl_print_json(j)
                                                    : ctl_refuse("cannot read load %s", l.name);
    printf("load:        %s\nstatus:      %s%s%s\nserved:      %s (signature policy %s)\n"
           "signature:   %s\nsigner:      %s\n"
           "approved by: %s\nfiles:       %u (%s)\nimported:    %s (import %lld)\n\n",
           l.name, l.status, l.culprit[0] ? ", weakest file " : "", l.culprit,
           l.served ? "yes" : "NO", l.policy, l.signature, l.signer[0] ? l.signer : "-",
           l.approved_by[0] ? l.approved_by : "-", l.file_count,
           ctl_size(l.total_size, size, sizeof(size)), ctl_time(l.created_at, when, sizeof(when)),
           (long long)l.import_id);
    return list_files(c, l.name);
}

/* ---- remove, verify, gc ---- */

static int cmd_remove(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
    struct catalog_load l;
    char why[256];
    bool force = false;
    int o, rc, used = 0;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o != 'f')
            return ctl_usage(self("remove"));
        force = true;
    }
    if (optind + 1 != argc)
        return ctl_usage(self("remove"));
    if (catalog_load_find(c->dd.db, argv[optind], &l) != DB_OK)
        return ctl_refuse("no load named %s", argv[optind]);
    rc = db_begin(c->dd.db);
    /* Phones told to run a load that is gone never finish their upgrade. */
    if (rc == DB_OK && (used = provision_load_in_use(c->dd.db, l.name, why, sizeof(why))) < 0)
        rc = used;
    if (rc == DB_OK && used > 0 && !force) {
        db_rollback(c->dd.db);
        return ctl_refuse("%s is in use (%s): change those first, or use --force", l.name, why);
    }
    if (rc == DB_OK && used > 0)
        fprintf(stderr, "loadsctl: warning: %s was in use (%s); see loadsctl devices problems\n",
                l.name, why);
    if (rc == DB_OK)
        rc = catalog_load_remove(c->dd.db, l.name);
    if (rc == DB_OK)
        rc = catalog_audit(c->dd.db, c->actor, "load.remove", l.name, l.status, NULL);
    if (rc == DB_OK)
        rc = db_commit(c->dd.db);
    else
        db_rollback(c->dd.db);
    if (rc != DB_OK)
        return ctl_refuse("cannot remove %s", l.name);
    if (!c->json)
        printf("removed %s (its blobs go at the next gc)\n", l.name);
    return c->json ? ctl_print_json(json_pack("{s:s}", "removed", l.name)) : CTL_OK;
}

/* The text of a verified file's result (JSON: catalog_verify_word). */
static const char *verify_text(int result)
{
    switch (result) {
    case 0:
        return "ok";
    case 1:
        return "quarantined (before)";
    case -EBADMSG:
        return "QUARANTINED: content does not match";
    case -ENOENT:
        return "QUARANTINED: blob missing";
    default:
        return "could not check";
    }
}

static void verify_row(void *arg, const struct catalog_file *f, int result)
{
    if (arg != NULL)
        json_array_append_new(arg, catalog_verify_file_json(f, result));
    else
        printf("%-40s %s\n", f->name, verify_text(result));
}

/* After a verify: the status of the loads checked, derived now. */
static int verify_load_print(void *arg, const struct catalog_load *l)
{
    (void)arg;
    printf("load %s: %s%s\n", l->name, l->status, l->served ? "" : " (not served)");
    return 0;
}

static void verify_loads_print(const struct ctl *c, const char *name)
{
    struct catalog_load l;

    if (name == NULL)
        catalog_loads_each(c->dd.db, verify_load_print, NULL);
    else if (catalog_load_find(c->dd.db, name, &l) == DB_OK)
        verify_load_print(NULL, &l);
}

/* The API's verify answer (catalog_verify_json, "load" derived now) for one
 * load; for every load, "loads": each as derived now. Takes files. */
static json_t *verify_json(const struct ctl *c, json_t *files, const struct scrub_totals *t,
                           const char *name)
{
    struct catalog_load l;
    json_t *j, *list;

    if (name != NULL)
        return catalog_verify_json(files, t,
                                   catalog_load_find(c->dd.db, name, &l) == DB_OK ? &l : NULL);
    j = catalog_verify_json(files, t, NULL);
    list = json_array();
    catalog_loads_each(c->dd.db, catalog_json_append_load, list);
    json_object_set_new(j, "loads", list);
    return j;
}

static int cmd_verify(struct ctl *c, int argc, char **argv)
{
    struct scrub_totals t;
    json_t *out = c->json ? json_array() : NULL;
    const char *name = argc == 2 ? argv[1] : NULL;
    int rc;

    if (argc > 2) {
        json_decref(out);
        return ctl_usage(self("verify"));
    }
    struct scrub_options so = {name, 0, c->actor, NULL, verify_row, out};

    rc = scrub_run(c->dd.db, c->dd.bs, &so, &t);
    if (rc == DB_NOT_FOUND) {
        json_decref(out);
        return ctl_refuse("no load named %s", argv[1]);
    }
    if (c->json) {
        ctl_print_json(verify_json(c, out, &t, name));
    } else {
        printf("checked %u blobs: %u ok, %u newly quarantined, %u quarantined before; %u"
               " signature(s) checked against the trust store\n",
               t.checked, t.ok, t.quarantined, t.already, t.signatures);
        verify_loads_print(c, name);
    }
    if (rc != DB_OK)
        return ctl_refuse("verification failed");
    return t.quarantined + t.already > 0 ? CTL_REFUSED : CTL_OK;
}

static int cmd_gc(struct ctl *c, int argc, char **argv)
{
    struct datadir_gc_totals t;
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("gc"));
    rc = datadir_gc(&c->dd, &t, false);
    if (rc == -EWOULDBLOCK)
        return ctl_refuse("an import is running; try again when it is done");
    if (rc != 0)
        return ctl_refuse("gc failed: %s", strerror(-rc));
    if (c->json)
        return ctl_print_json(json_pack("{s:i, s:i}", "removed", t.removed, "orphans", t.orphans));
    printf("removed %u released blob(s)\n", t.removed);
    if (t.orphans > 0)
        printf("kept %u orphaned blob(s) this catalog never referenced (see loadsctl recover)\n",
               t.orphans);
    return CTL_OK;
}

/* ---- trust ---- */

static int cmd_trust_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'}, {0}};
    struct verify_cert_info info;
    const char *role = "vendor";
    char *pem;
    size_t len;
    int64_t id = 0;
    unsigned changed = 0;
    int o, rc, err;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o != 'r' || (strcmp(optarg, "vendor") != 0 && strcmp(optarg, "approval") != 0))
            return ctl_usage(self("trust add"));
        role = optarg;
    }
    if (optind + 1 != argc)
        return ctl_usage(self("trust add"));
    pem = ctl_read_file(argv[optind], PEM_FILE_MAX, &len, &err);
    if (pem == NULL)
        return ctl_refuse("cannot read %s: %s", argv[optind],
                          err == EFBIG ? "larger than a certificate can be" : strerror(err));
    rc = verify_cert_info(pem, len, &info);
    if (rc != VERIFY_OK) {
        free(pem);
        return ctl_refuse("%s: %s", argv[optind], verify_strerror(rc));
    }
    rc = trust_add(c->dd.db, c->dd.bs, c->actor, &info, role, pem, &id, &changed);
    free(pem);
    if (rc == DB_CONFLICT)
        return ctl_refuse("this certificate is already in the trust store");
    if (rc != DB_OK)
        return ctl_refuse("cannot add the certificate");
    if (c->json)
        return ctl_print_json(catalog_trust_added_json(id, role, &info, changed));
    printf("added trust anchor %lld (%s): %s\n%u load(s) changed status (loadsctl loads)\n",
           (long long)id, role, info.subject, changed);
    return CTL_OK;
}

static int trust_row(void *arg, const struct catalog_trust *t)
{
    char id[24], when[32];

    if (json_is_array((json_t *)arg))
        return catalog_json_append_trust(arg, t);
    snprintf(id, sizeof(id), "%lld", (long long)t->id);
    ctl_table_row(arg, id, t->role, t->subject, t->serial,
                  ctl_time(t->not_after, when, sizeof(when)));
    return 0;
}

static int cmd_trust_list(struct ctl *c, int argc, char **argv)
{
    void *out;
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("trust list"));
    out = c->json ? (void *)json_array()
                  : (void *)ctl_table_new(5, "ID", "ROLE", "SUBJECT", "SERIAL", "EXPIRES");
    rc = catalog_trust_each(c->dd.db, NULL, trust_row, out);
    if (c->json)
        return rc == DB_OK ? ctl_print_json(out) : ctl_refuse("cannot list the trust store");
    ctl_table_print(out);
    return rc == DB_OK ? CTL_OK : CTL_REFUSED;
}

static int cmd_trust_remove(struct ctl *c, int argc, char **argv)
{
    unsigned changed = 0;
    uint64_t id;
    int rc;

    if (argc != 2 || numparse_u64(argv[1], 1, INT64_MAX, &id) != 0)
        return ctl_usage(self("trust remove"));
    rc = trust_remove(c->dd.db, c->actor, (int64_t)id, &changed);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no trust anchor %s", argv[1]);
    if (rc != DB_OK)
        return ctl_refuse("cannot remove trust anchor %s", argv[1]);
    if (!c->json)
        printf("removed trust anchor %s\n%u load(s) changed status (loadsctl loads)\n", argv[1],
               changed);
    return c->json ? ctl_print_json(catalog_trust_removed_json((int64_t)id, changed)) : CTL_OK;
}

const struct ctl_command ctl_catalog_commands[] = {
    {"init", "[--first-admin]", cmd_init},
    {"import", "FILE... [--approval SIG.p7s] [--replace]", cmd_import},
    {"loads", "", cmd_loads},
    {"show", "LOAD", cmd_show},
    {"files", "[LOAD]", cmd_files},
    {"remove", "LOAD [--force]", cmd_remove},
    {"verify", "[LOAD]", cmd_verify},
    {"gc", "", cmd_gc},
    {"trust add", "CERT.pem [--role vendor|approval]", cmd_trust_add},
    {"trust list", "", cmd_trust_list},
    {"trust remove", "ID", cmd_trust_remove},
    {NULL, NULL, NULL},
};

static const struct ctl_command *self(const char *name)
{
    for (const struct ctl_command *c = ctl_catalog_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return &ctl_catalog_commands[0];
}
