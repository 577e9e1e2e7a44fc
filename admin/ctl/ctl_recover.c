/* ctl_recover.c: loadsctl recover: the blobs no catalog file refers to (all
 * of them when catalog.db is lost), named from their signed headers where
 * they carry one; --rebuild imports the loads it can put together again,
 * --release lets gc remove the rest. Never deletes a blob itself. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/ctl/ctl.h"
#include "db/catalog.h"
#include "db/db.h"
#include "lib/grow.h"
#include "lib/sizes.h"
#include "server/firmware/import.h"
#include "server/firmware/loads_parse.h"
#include "server/firmware/sgn.h"

#define RECOVER_STAGING "spool/recover" /* links named after the blobs' headers */

struct orphan {
    char hex[BLOB_HEX_LEN + 1];
    uint64_t size;
    char name[SGN_TEXT_MAX]; /* from the signed header's tag 14, or "" */
    bool released;           /* gc removes it */
};

struct orphans {
    struct orphan *v;
    size_t n, cap;
    sqlite3 *db; /* NULL: no catalog, every blob is an orphan */
};

static int cmd_recover(struct ctl *c, int argc, char **argv);

bool ctl_runs_without_catalog(const struct ctl_command *cmd)
{
    return cmd->run == cmd_recover;
}

/* ---- finding and naming the orphans ---- */

static int orphan_add(void *arg, const char *hex, uint64_t size)
{
    struct orphans *l = arg;
    bool used = false, released = false;

    if (l->db != NULL && (catalog_blob_referenced(l->db, hex, &used) != DB_OK ||
                          catalog_blob_collectable(l->db, hex, &released) != DB_OK))
        return -EIO;
    if (used)
        return 0;
    if (grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v), 64) != 0)
        return -ENOMEM;
    memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
    snprintf(l->v[l->n].hex, sizeof(l->v[l->n].hex), "%s", hex);
    l->v[l->n].size = size;
    l->v[l->n].released = released;
    l->n++;
    return 0;
}

/* A name from a header becomes a file name in the staging directory. */
static bool name_usable(const char *name)
{
    return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL &&
           strchr(name, '\\') == NULL;
}

/* Reads the blob's signed header, if it has one; the file name in it (tag
 * 14) is the name the file was imported under. */
static void orphan_name(struct blobstore *bs, struct orphan *o, uint8_t *buf)
{
    struct sgn_header h;
    const char *why;
    int fd = -1;
    ssize_t n;

    if (blobstore_open_blob(bs, o->hex, &fd) != 0)
        return;
    n = pread(fd, buf, SGN_HEADER_MAX, 0);
    if (n > 0 && sgn_probe(buf, (size_t)n) &&
        sgn_parse(buf, (size_t)n, o->size, &h, &why) == SGN_OK && name_usable(h.filename))
        snprintf(o->name, sizeof(o->name), "%s", h.filename);
    close(fd);
}

static int orphans_collect(struct ctl *c, struct orphans *l)
{
    uint8_t *buf = malloc(SGN_HEADER_MAX);
    int rc = buf == NULL ? -ENOMEM : 0;

    memset(l, 0, sizeof(*l));
    l->db = c->dd.db;
    if (rc == 0)
        rc = blobstore_each(c->dd.bs, orphan_add, l);
    for (size_t i = 0; rc == 0 && i < l->n; i++)
        orphan_name(c->dd.bs, &l->v[i], buf);
    free(buf);
    return rc;
}

static const char *orphan_state(const struct orphan *o)
{
    return o->released ? "released (gc removes it)" : "orphan (kept)";
}

static int orphans_print(const struct ctl *c, const struct orphans *l)
{
    struct ctl_table *t;
    json_t *a;
    char size[32];

    if (c->json) {
        a = json_array();
        for (size_t i = 0; i < l->n; i++)
            json_array_append_new(a, json_pack("{s:s, s:I, s:s?, s:s}", "sha256", l->v[i].hex,
                                               "size", (json_int_t)l->v[i].size, "name",
                                               l->v[i].name[0] ? l->v[i].name : NULL, "state",
                                               l->v[i].released ? "released" : "orphan"));
        return ctl_print_json(a);
    }
    t = ctl_table_new(4, "SHA256", "SIZE", "NAME (signed header)", "STATE");
    for (size_t i = 0; i < l->n; i++)
        ctl_table_row(t, l->v[i].hex, ctl_size(l->v[i].size, size, sizeof(size)),
                      l->v[i].name[0] ? l->v[i].name : "-", orphan_state(&l->v[i]));
    ctl_table_print(t);
    printf("%zu blob(s) no catalog file refers to%s\n", l->n,
           c->dd.db == NULL ? " (there is no catalog)" : "");
    return CTL_OK;
}

/* ---- --rebuild: each orphaned .loads with its orphaned components ---- */

static bool name_ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);

    return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

/* The orphan named like the entry; of several versions, the one whose size
 * the .loads gives. */
static const struct orphan *orphan_named(const struct orphans *l, const struct loads_entry *e)
{
    const struct orphan *found = NULL;

    for (size_t i = 0; i < l->n; i++) {
        if (strcasecmp(l->v[i].name, e->name) != 0)
            continue;
        if (found == NULL || (e->has_size && l->v[i].size == e->size))
            found = &l->v[i];
    }
    return found;
}

/* The component list of an orphaned .loads (header stripped). */
static int loads_list_read(struct blobstore *bs, const struct orphan *o, struct loads_list *list)
{
    size_t cap = SGN_HEADER_MAX + LOADS_PAYLOAD_MAX;
    uint8_t *buf = malloc(cap);
    struct sgn_header h;
    const char *why;
    unsigned line;
    int fd = -1, rc = -1;
    ssize_t n;

    if (buf == NULL || blobstore_open_blob(bs, o->hex, &fd) != 0)
        goto out;
    n = pread(fd, buf, cap, 0);
    if (n > 0 && sgn_parse(buf, (size_t)n, o->size, &h, &why) == SGN_OK &&
        loads_parse(buf + h.header_len, (size_t)n - h.header_len, list, &line, &why) == LOADS_OK)
        rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

static int stage_path(const struct ctl *c, const char *name, char *out, size_t cap)
{
    return (size_t)snprintf(out, cap, "%s/" RECOVER_STAGING "/%s", c->dd.path, name) < cap ? 0 : -1;
}

/* Links an orphan into the staging directory under its name (in place of
 * another version of the same name staged before). */
static int stage(const struct ctl *c, const struct orphan *o, char *to, size_t cap)
{
    char from[PATH_BUF];

    if (stage_path(c, o->name, to, cap) != 0 ||
        blobstore_path(c->dd.bs, o->hex, from, sizeof(from)) != 0)
        return -1;
    unlink(to);
    if (link(from, to) != 0) {
        fprintf(stderr, "loadsctl: cannot stage %s: %s\n", o->name, strerror(errno));
        return -1;
    }
    return 0;
}

static void print_rebuild(const char *loads, int rc, json_t *report)
{
    size_t i;
    json_t *p;

    if (rc == IMPORT_OK) {
        printf("rebuilt %s\n", loads);
        return;
    }
    printf("cannot rebuild %s:\n", loads);
    json_array_foreach(json_object_get(report, "problems"), i, p)
        printf("  %s: %s\n", json_string_value(json_object_get(p, "file")),
               json_string_value(json_object_get(p, "message")));
}

/* One import per orphaned .loads: it and the orphans it lists (a component
 * the catalog still holds is found there by the import itself). */
static int rebuild_one(struct ctl *c, const struct orphans *l, const struct orphan *o,
                       unsigned *rebuilt)
{
    struct loads_list *list = malloc(sizeof(*list));
    const char **paths = NULL;
    char(*staged)[4400] = NULL;
    struct import_options io = {.actor = c->actor, .source = o->name};
    json_t *report = NULL;
    bool listed = false;
    size_t n = 0;
    int rc = IMPORT_ERROR;

    if (list == NULL || loads_list_read(c->dd.bs, o, list) != 0)
        goto out;
    listed = true;
    paths = calloc(list->count + 1, sizeof(*paths));
    staged = calloc(list->count + 1, sizeof(*staged));
    if (paths == NULL || staged == NULL || stage(c, o, staged[n], sizeof(*staged)) != 0)
        goto out;
    paths[n] = staged[n];
    n++;
    for (size_t i = 0; i < list->count; i++) {
        const struct orphan *comp = orphan_named(l, &list->entries[i]);

        if (comp != NULL && stage(c, comp, staged[n], sizeof(*staged)) == 0) {
            paths[n] = staged[n];
            n++;
        }
    }
    io.paths = paths;
    io.n_paths = n;
    rc = import_run(c->dd.db, c->dd.bs, &io, &report);
    if (!c->json)
        print_rebuild(o->name, rc, report);
    if (rc == IMPORT_OK)
        (*rebuilt)++;
out:
    for (size_t i = 0; i < n; i++)
        unlink(staged[i]);
    if (!listed && !c->json)
        printf("cannot rebuild %s: its list of files cannot be read\n", o->name);
    json_decref(report);
    free(staged);
    free(paths);
    free(list);
    return rc;
}

static int rebuild(struct ctl *c, const struct orphans *l, unsigned *rebuilt)
{
    char dir[PATH_BUF];

    if (c->dd.db == NULL && datadir_create_catalog(&c->dd) != 0)
        return ctl_refuse("cannot create a new catalog in %s", c->dd.path);
    snprintf(dir, sizeof(dir), "%s/" RECOVER_STAGING, c->dd.path);
    if (datadir_lock(&c->dd, false, true) != 0)
        return ctl_refuse("cannot lock the data directory");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        datadir_unlock(&c->dd);
        return ctl_refuse("cannot create %s: %s", dir, strerror(errno));
    }
    for (size_t i = 0; i < l->n; i++)
        if (name_ends_with(l->v[i].name, ".loads"))
            rebuild_one(c, l, &l->v[i], rebuilt);
    rmdir(dir);
    datadir_unlock(&c->dd);
    return CTL_OK;
}

/* ---- --release: the administrator's decision that the orphans may go ---- */

static int release_all(struct ctl *c, const struct orphans *l)
{
    int rc;

    if (c->dd.db == NULL)
        return ctl_refuse("there is no catalog to release them from: restore catalog.db, or "
                          "recover --rebuild first");
    rc = db_begin(c->dd.db);
    for (size_t i = 0; rc == DB_OK && i < l->n; i++)
        rc = catalog_blob_release(c->dd.db, l->v[i].hex);
    if (rc == DB_OK)
        rc = catalog_audit(c->dd.db, c->actor, "blob.release", "orphaned blobs", NULL, NULL);
    rc = rc == DB_OK ? db_commit(c->dd.db) : (db_rollback(c->dd.db), rc);
    if (rc != DB_OK)
        return ctl_refuse("cannot release the orphaned blobs");
    if (!c->json)
        printf("released %zu orphaned blob(s): the next gc removes them\n", l->n);
    return CTL_OK;
}

static int cmd_recover(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"rebuild", no_argument, NULL, 'b'}, {"release", no_argument, NULL, 'r'}, {0}};
    struct orphans l;
    unsigned rebuilt = 0;
    int o, mode = 0, rc;

    optind = 0;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((o != 'b' && o != 'r') || mode != 0)
            return ctl_usage(&ctl_recover_commands[0]);
        mode = o;
    }
    if (optind != argc)
        return ctl_usage(&ctl_recover_commands[0]);
    rc = orphans_collect(c, &l);
    if (rc != 0) {
        free(l.v);
        return ctl_refuse("cannot list the blob store: %s", strerror(-rc));
    }
    if (mode == 'b' && (rc = rebuild(c, &l, &rebuilt)) == CTL_OK) {
        free(l.v);
        if (!c->json)
            printf("rebuilt %u load(s); what is left:\n", rebuilt);
        rc = orphans_collect(c, &l);
        if (rc != 0) {
            free(l.v);
            return ctl_refuse("cannot list the blob store: %s", strerror(-rc));
        }
    }
    if (mode == 'r')
        rc = release_all(c, &l);
    if (rc == 0 && mode != 'r')
        rc = orphans_print(c, &l);
    free(l.v);
    return rc;
}

const struct ctl_command ctl_recover_commands[] = {
    {"recover", "[--rebuild | --release]", cmd_recover},
    {NULL, NULL, NULL},
};
