/* devtasks.c: bulk device changes and CSV imports as jobs (devtasks.h):
 * selection against one snapshot inside the write transaction, the checks
 * there, one audit row. SQL is db/devbulk.c's and db/provision.c's. */
#include "admin/devtasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/devlist.h"
#include "db/catalog.h"
#include "db/db.h"
#include "lib/log.h"

#define AUDIT_MACS 50 /* MACs an audit row names */

/* ---- the selection ---- */

json_t *devtasks_bulk_selection(const struct devtasks_bulk *b)
{
    json_t *f;

    if (b->by_macs)
        return json_pack("{s:I}", "macs", (json_int_t)b->n_macs);
    f = json_object();
    for (size_t i = 0; devquery_filter_names[i] != NULL; i++) {
        const char *v = devquery_filter_get(&b->query, devquery_filter_names[i]);

        if (v[0] != '\0')
            json_object_set_new(f, devquery_filter_names[i], json_string(v));
    }
    return json_pack("{s:o}", "filter", f);
}

static json_t *opt_json(bool set, const struct settings_opt *o)
{
    return !set ? NULL : o->set ? json_string(o->value) : json_null();
}

/* What is set ({"load": "X", "profile": null, ...}; null: inherit/none). */
static json_t *change_json(const struct devtasks_bulk *b)
{
    const struct devbulk_change *c = &b->change;
    json_t *j = json_object();

    if (b->remove)
        return j;
    if (c->set_profile)
        json_object_set_new(j, "profile", c->profile[0] ? json_string(c->profile) : json_null());
    if (c->set_pfs)
        json_object_set_new(j, "peer_firmware_sharing", opt_json(true, &c->pfs));
    if (c->set_load_server)
        json_object_set_new(j, "load_server", opt_json(true, &c->load_server));
    if (c->set_load)
        json_object_set_new(j, "load", opt_json(true, &c->load));
    return j;
}

void devtasks_bulk_describe(const struct devtasks_bulk *b, char *out, size_t cap)
{
    json_t *sel = devtasks_bulk_selection(b), *set = change_json(b);
    char *s = json_dumps(sel, JSON_COMPACT), *c = json_dumps(set, JSON_COMPACT);

    if (b->remove)
        snprintf(out, cap, "remove devices %s", s ? s : "");
    else
        snprintf(out, cap, "set %s on devices %s", c ? c : "", s ? s : "");
    free(s);
    free(c);
    json_decref(sel);
    json_decref(set);
}

void devtasks_bulk_free(struct devtasks_bulk *b)
{
    if (b == NULL)
        return;
    free(b->macs);
    free(b);
}

/* ---- a bulk run ---- */

struct bulk_run {
    const struct devtasks_bulk *b;
    struct jobs_task_ctx *tc;
    struct devlist list;
    struct devbulk_change change; /* checked: names as the catalog spells them */
    const char **picked;          /* the selected devices' MACs */
    size_t n_picked;
    const char **changing; /* those that differ from the change */
    size_t n_changing;
    char why[DEVCSV_ERROR_TEXT];
};

static int row_by_mac(const void *key, const void *elem)
{
    return strcmp(key, ((const struct devquery_row *)elem)->dev->mac);
}

/* The devices selected: every matching row, or each MAC named. */
static int pick(struct bulk_run *r)
{
    const struct devtasks_bulk *b = r->b;
    size_t n = b->by_macs ? b->n_macs : r->list.n;

    r->picked = calloc(n ? n : 1, sizeof(*r->picked));
    if (r->picked == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct devquery_row *row = !b->by_macs ? &r->list.rows[i]
                                                     : bsearch(b->macs[i], r->list.rows, r->list.n,
                                                               sizeof(*r->list.rows), row_by_mac);

        if (row == NULL) {
            snprintf(r->why, sizeof(r->why), "no device %s", b->macs[i]);
            return -1;
        }
        r->picked[r->n_picked++] = row->dev->mac;
    }
    return 0;
}

/* The profile and load named exist (the load servable unless force), as
 * the snapshot the change is written against says. */
static int change_check(struct bulk_run *r)
{
    const struct settings_snapshot *s = r->list.snap;
    struct devbulk_change *c = &r->change;
    enum settings_load_state st;
    int idx;

    *c = r->b->change;
    if (c->set_profile && c->profile[0] != '\0') {
        idx = settings_find_profile(s->profiles, s->n_profiles, c->profile);
        if (idx < 0)
            return snprintf(r->why, sizeof(r->why), "no profile named \"%s\"", c->profile), -1;
        snprintf(c->profile, sizeof(c->profile), "%s", s->profiles[idx].name);
    }
    if (!c->set_load || !c->load.set)
        return 0;
    st = settings_load_state_of(s, c->load.value);
    if (!r->b->force && st == SETTINGS_LOAD_MISSING)
        return snprintf(r->why, sizeof(r->why),
                        "load \"%s\" is not in the catalog (import it first, or force)",
                        c->load.value),
               -1;
    if (!r->b->force && st == SETTINGS_LOAD_QUARANTINED)
        return snprintf(r->why, sizeof(r->why), "load \"%s\" is quarantined (or force)",
                        c->load.value),
               -1;
    if (st != SETTINGS_LOAD_MISSING) /* the catalog's spelling */
        snprintf(c->load.value, sizeof(c->load.value), "%s",
                 settings_find_load(s, c->load.value)->name);
    return 0;
}

static bool opt_differs(bool set, const struct settings_opt *want, const struct settings_opt *have)
{
    return set && (want->set != have->set || (want->set && strcmp(want->value, have->value) != 0));
}

/* Would the change alter this device's row? */
static bool row_differs(const struct bulk_run *r, const struct settings_device *d)
{
    const struct devbulk_change *c = &r->change;
    const char *profile = d->profile >= 0 ? r->list.snap->profiles[d->profile].name : "";

    return (c->set_profile && strcmp(c->profile, profile) != 0) ||
           opt_differs(c->set_pfs, &c->pfs, &d->pfs) ||
           opt_differs(c->set_load_server, &c->load_server, &d->load_server) ||
           opt_differs(c->set_load, &c->load, &d->load);
}

static int pick_changing(struct bulk_run *r)
{
    r->changing = calloc(r->n_picked ? r->n_picked : 1, sizeof(*r->changing));
    if (r->changing == NULL)
        return -1;
    for (size_t i = 0; i < r->n_picked; i++) {
        const struct settings_device *d = settings_find_device(r->list.snap, r->picked[i]);

        if (r->b->remove || (d != NULL && row_differs(r, d)))
            r->changing[r->n_changing++] = r->picked[i];
    }
    return 0;
}

static void progress(void *arg, size_t done)
{
    struct bulk_run *r = arg;

    jobs_task_progress(r->tc, "writing", done, r->n_changing);
}

static json_t *report_of(const struct bulk_run *r, bool ok)
{
    json_t *j =
        json_pack("{s:b, s:s, s:I, s:I, s:o, s:o, s:b, s:[]}", "ok", ok, "action",
                  r->b->remove ? "delete" : "set", "matched", (json_int_t)r->n_picked, "changed",
                  (json_int_t)(ok ? r->n_changing : 0), "selection", devtasks_bulk_selection(r->b),
                  "set", change_json(r->b), "force", r->b->force, "loads");

    if (j != NULL)
        json_object_set_new(j, "problems",
                            ok ? json_array() : json_pack("[{s:s}]", "message", r->why));
    return j;
}

/* The one audit row: selection, change, counts, the first MACs. */
static int bulk_audit(sqlite3 *db, const struct bulk_run *r)
{
    json_t *j = report_of(r, true), *macs = json_array();
    char object[64], *text;
    int rc;

    for (size_t i = 0; i < r->n_changing && i < AUDIT_MACS; i++)
        json_array_append_new(macs, json_string(r->changing[i]));
    json_object_del(j, "loads");
    json_object_del(j, "problems");
    json_object_del(j, "ok");
    json_object_set_new(j, "macs", macs);
    text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(object, sizeof(object), "%zu devices", r->n_changing);
    rc = text != NULL ? catalog_audit(db, r->b->actor,
                                      r->b->remove ? "device.bulk_delete" : "device.bulk_set",
                                      object, NULL, text)
                      : DB_ERROR;
    free(text);
    json_decref(j);
    return rc;
}

/* Inside the transaction: select, check, write, audit. */
static int bulk_body(sqlite3 *db, struct bulk_run *r)
{
    struct devquery all = {0};
    int rc;

    jobs_task_progress(r->tc, "selecting", 0, 0);
    rc = devlist_open(db, r->b->by_macs ? &all : &r->b->query, &r->list);
    if (rc != DB_OK)
        return snprintf(r->why, sizeof(r->why), "the database failed"), rc;
    if (pick(r) != 0 || change_check(r) != 0 || pick_changing(r) != 0)
        return r->why[0] ? -1 : (snprintf(r->why, sizeof(r->why), "out of memory"), -1);
    rc = r->b->remove ? devbulk_delete(db, r->changing, r->n_changing, progress, r)
                      : devbulk_set(db, r->changing, r->n_changing, &r->change, progress, r);
    if (rc == DB_OK && r->n_changing > 0)
        rc = bulk_audit(db, r);
    if (rc != DB_OK)
        snprintf(r->why, sizeof(r->why), "%s",
                 rc == DB_NOT_FOUND   ? "a device or profile went away meanwhile"
                 : rc == DB_NO_BRANCH ? "load_server names a branch that is not registered"
                                      : "the database failed");
    return rc;
}

int devtasks_bulk_run(sqlite3 *db, const struct devtasks_bulk *b, struct jobs_task_ctx *tc,
                      json_t **report)
{
    struct bulk_run r = {.b = b, .tc = tc};
    int rc = db_begin(db);

    if (rc != DB_OK)
        snprintf(r.why, sizeof(r.why), "the database is busy");
    if (rc == DB_OK)
        rc = bulk_body(db, &r);
    if (rc == DB_OK) {
        jobs_task_progress(tc, "committing", r.n_changing, r.n_changing);
        rc = db_commit(db);
        if (rc != DB_OK)
            snprintf(r.why, sizeof(r.why), "the database failed");
    } else {
        db_rollback(db); /* nothing when no transaction is open */
    }
    *report = report_of(&r, rc == DB_OK);
    devlist_close(&r.list);
    free(r.picked);
    free(r.changing);
    return rc == DB_OK ? 0 : -1;
}

/* ---- as jobs ---- */

static int bulk_task(sqlite3 *db, void *arg, struct jobs_task_ctx *tc, json_t **report,
                     char **rejected)
{
    *rejected = NULL;
    return devtasks_bulk_run(db, arg, tc, report);
}

static void bulk_free(void *arg)
{
    devtasks_bulk_free(arg);
}

int devtasks_bulk_submit(struct jobs *j, sqlite3 *db, struct devtasks_bulk *b, int64_t *id)
{
    char source[JOBS_SOURCE_MAX];
    struct jobs_task t = {
        .kind = b->remove ? "devices.delete" : "devices.set",
        .source = source,
        .actor = b->actor,
        .run = bulk_task,
        .free_arg = bulk_free,
        .arg = b,
    };

    devtasks_bulk_describe(b, source, sizeof(source));
    return jobs_task_submit(j, db, &t, id);
}

json_t *devtasks_csv_report(int rc, const struct devcsv_report *rep)
{
    json_t *errors = json_array();

    for (size_t i = 0; i < rep->n_errors; i++)
        json_array_append_new(errors, json_pack("{s:i, s:s}", "line", (int)rep->errors[i].line,
                                                "message", rep->errors[i].text));
    return json_pack("{s:b, s:i, s:i, s:i, s:i, s:i, s:O, s:i, s:[], s:o}", "ok", rc == DEVCSV_OK,
                     "rows", (int)rep->rows, "added", (int)rep->added, "updated", (int)rep->updated,
                     "unchanged", (int)rep->unchanged, "rejected", (int)rep->rejected, "errors",
                     errors, "more_errors", (int)rep->more_errors, "loads", "problems", errors);
}

struct csv_job {
    char *data;
    size_t len;
    struct devcsv_options o;
    char actor[DEVTASKS_ACTOR_MAX];
};

static int csv_task(sqlite3 *db, void *arg, struct jobs_task_ctx *tc, json_t **report,
                    char **rejected)
{
    struct csv_job *c = arg;
    struct devcsv_report *rep = malloc(sizeof(*rep));
    int rc;

    if (rep == NULL)
        return -1;
    jobs_task_progress(tc, "importing", 0, 0);
    rc = devcsv_import_opts(db, c->actor, c->data, c->len, &c->o, rep, rejected);
    *report = devtasks_csv_report(rc, rep);
    if (rc == DEVCSV_DB)
        json_object_set_new(
            *report, "problems",
            json_pack("[{s:s}]", "message", "nothing was imported: the database failed"));
    free(rep);
    return rc == DEVCSV_OK ? 0 : -1;
}

static void csv_free(void *arg)
{
    struct csv_job *c = arg;

    if (c != NULL)
        free(c->data);
    free(c);
}

int devtasks_csv_submit(struct jobs *j, sqlite3 *db, const char *actor, const char *data,
                        size_t len, const struct devcsv_options *o, int64_t *id)
{
    struct csv_job *c = calloc(1, sizeof(*c));
    struct jobs_task t = {
        .kind = "devices.csv",
        .source = o->partial ? "devices.csv (partial)" : "devices.csv",
        .actor = actor,
        .size = len,
        .run = csv_task,
        .free_arg = csv_free,
        .arg = c,
    };

    if (c == NULL || (c->data = malloc(len + 1)) == NULL) {
        free(c);
        return JOBS_ERROR;
    }
    memcpy(c->data, data, len);
    c->data[len] = '\0';
    c->len = len;
    c->o = *o;
    snprintf(c->actor, sizeof(c->actor), "%s", actor);
    return jobs_task_submit(j, db, &t, id);
}
