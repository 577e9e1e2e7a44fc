/* scrub.c: re-hashes stored files and quarantines those that changed or went
 * missing, each in its own transaction so serving notices at once; checks
 * signatures no trusted certificate has been checked against yet. */
#include "server/firmware/scrub.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "server/firmware/sigcheck.h"

struct file_list {
    struct catalog_file *v;
    size_t n, cap;
};

static int collect(void *arg, const struct catalog_file *f)
{
    struct file_list *l = arg;

    if (grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v), 64) != 0)
        return DB_ERROR;
    l->v[l->n++] = *f;
    return 0;
}

static int quarantine(sqlite3 *db, struct blobstore *bs, const struct catalog_file *f,
                      const char *actor, int why)
{
    int rc, changed = 0;

    if (why == -EBADMSG)
        blobstore_quarantine(bs, f->sha256);
    rc = db_begin(db);
    if (rc == DB_OK)
        rc = catalog_file_set_status(db, f->sha256, "quarantined", &changed);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "file.quarantine", f->name, f->sha256,
                           why == -ENOENT ? "blob missing" : "content does not match its hash");
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    log_warn("quarantined %s (sha256 %s): %s", f->name, f->sha256,
             why == -ENOENT ? "its blob is missing" : "its content no longer matches");
    return rc;
}

/* The same bytes under several names sit once in the store: check each blob
 * once. The index of the first file with the same bytes, or i itself. */
static size_t first_with_blob(const struct file_list *l, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(l->v[j].sha256, l->v[i].sha256) == 0)
            return j;
    return i;
}

static int check_one(sqlite3 *db, struct blobstore *bs, const struct catalog_file *f, uint64_t rate,
                     const char *actor, struct scrub_totals *t)
{
    int result;

    if (strcmp(f->status, "ok") != 0) {
        t->already++;
        return 1;
    }
    result = blobstore_verify(bs, f->sha256, rate);
    t->checked++;
    if (result == 0) {
        t->ok++;
        t->bytes += f->size;
        catalog_file_checked(db, f->sha256);
    } else if (result == -EBADMSG || result == -ENOENT) {
        t->quarantined++;
        quarantine(db, bs, f, actor, result);
    } else {
        log_error("cannot check %s: %s", f->name, strerror(-result));
    }
    return result;
}

/* A whole-catalog run that finished leaves its totals in the settings table,
 * where the dashboard and /api/v1/stats find them. */
static void record_last_run(sqlite3 *db, const struct scrub_totals *t)
{
    char text[256];

    snprintf(text, sizeof(text),
             "{\"at\":%lld,\"checked\":%u,\"ok\":%u,\"quarantined\":%u,"
             "\"already_quarantined\":%u,\"bytes\":%llu}",
             (long long)time(NULL), t->checked, t->ok, t->quarantined, t->already,
             (unsigned long long)t->bytes);
    if (catalog_setting_set(db, "scrub_last_run", text) != DB_OK)
        log_warn("scrub: cannot record the run's totals");
}

int scrub_run(sqlite3 *db, struct blobstore *bs, const struct scrub_options *opt,
              struct scrub_totals *totals)
{
    const char *load = opt->load;
    struct file_list l = {0};
    struct catalog_load found;
    int *results = NULL;
    int rc = DB_OK;

    memset(totals, 0, sizeof(*totals));
    if (load != NULL)
        rc = catalog_load_find(db, load, &found);
    /* Statuses are derived from the checks on record: any signature not yet
     * checked against a trusted certificate (a catalog from before the
     * checks were recorded) is checked now. */
    if (rc == DB_OK && sigcheck_trusted(db, bs, &totals->signatures) != DB_OK)
        log_warn("scrub: cannot check signatures against the trust store");
    if (rc == DB_OK)
        rc = catalog_files_each(db, load, collect, &l);
    if (rc == DB_OK && l.n > 0 && (results = calloc(l.n, sizeof(*results))) == NULL)
        rc = DB_ERROR;
    for (size_t i = 0; rc == DB_OK && i < l.n; i++) {
        size_t first = first_with_blob(&l, i);

        if (opt->cancel != NULL && atomic_load(opt->cancel))
            break;
        results[i] =
            first == i ? check_one(db, bs, &l.v[i], opt->rate, opt->actor, totals) : results[first];
        if (opt->cb != NULL)
            opt->cb(opt->arg, &l.v[i], results[i]);
    }
    if (rc == DB_OK && load == NULL && !(opt->cancel != NULL && atomic_load(opt->cancel)))
        record_last_run(db, totals);
    free(results);
    free(l.v);
    return rc;
}

/* The first file (in name order) stored as hex and not yet quarantined. */
struct find_blob {
    const char *hex;
    struct catalog_file f;
    bool found;
};

static int find_blob(void *arg, const struct catalog_file *f)
{
    struct find_blob *fb = arg;

    if (!fb->found && strcmp(f->sha256, fb->hex) == 0 && strcmp(f->status, "ok") == 0) {
        fb->f = *f;
        fb->found = true;
    }
    return 0;
}

int scrub_recheck_blob(sqlite3 *db, struct blobstore *bs, const char *hex, const char *actor)
{
    struct find_blob fb = {.hex = hex};
    struct scrub_totals t = {0};
    int rc = catalog_files_each(db, NULL, find_blob, &fb);

    if (rc != DB_OK || !fb.found)
        return rc;
    return check_one(db, bs, &fb.f, 0, actor, &t) < 0 && t.quarantined == 0 ? DB_ERROR : DB_OK;
}
