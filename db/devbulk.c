/* devbulk.c: the statements of bulk device changes (devbulk.h) and the
 * read of every last-seen address. Never begins or ends a transaction and
 * never decides which devices: the caller does both. */
#include "db/devbulk.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/fleet.h"
#include "lib/sizes.h"

/* The profile's row id ("" : NULL, *found true). */
static int profile_id(sqlite3 *db, const char *name, sqlite3_int64 *id)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT id FROM profiles WHERE name = ?1");
    int rc, step;

    if (st == NULL)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    rc = step == SQLITE_ROW    ? DB_OK
         : step == SQLITE_DONE ? DB_NOT_FOUND
                               : db_check(db, step, "profile");
    if (rc == DB_OK)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static void bind_opt(sqlite3_stmt *st, int flag, int value, bool set, const struct settings_opt *o)
{
    sqlite3_bind_int(st, flag, set);
    if (set && o->set)
        sqlite3_bind_text(st, value, o->value, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, value);
}

/* ?1 mac; ?2/?3 profile; ?4/?5 pfs; ?6/?7 load_server; ?8/?9 load: each
 * column only when its flag is 1. */
static const char set_sql[] =
    "UPDATE devices SET profile_id = CASE WHEN ?2 THEN ?3 ELSE profile_id END,"
    " pfs = CASE WHEN ?4 THEN ?5 ELSE pfs END,"
    " load_server = CASE WHEN ?6 THEN ?7 ELSE load_server END,"
    " load = CASE WHEN ?8 THEN ?9 ELSE load END WHERE mac = ?1";

static int bind_change(sqlite3 *db, sqlite3_stmt *st, const struct devbulk_change *c)
{
    sqlite3_int64 id = 0;
    int rc = DB_OK;

    sqlite3_bind_int(st, 2, c->set_profile);
    if (c->set_profile && c->profile[0] != '\0')
        rc = profile_id(db, c->profile, &id);
    if (c->set_profile && c->profile[0] != '\0')
        sqlite3_bind_int64(st, 3, id);
    else
        sqlite3_bind_null(st, 3);
    bind_opt(st, 4, 5, c->set_pfs, &c->pfs);
    bind_opt(st, 6, 7, c->set_load_server, &c->load_server);
    bind_opt(st, 8, 9, c->set_load, &c->load);
    /* A branch named must be registered (docs/FLEET.md). */
    if (rc == DB_OK && c->set_load_server && c->load_server.set) {
        const char *branch = settings_branch_name(c->load_server.value);
        int exists = branch != NULL ? fleet_branch_exists(db, branch) : 1;

        rc = exists == 1 ? DB_OK : exists == 0 ? DB_NO_BRANCH : exists;
    }
    return rc;
}

/* Steps st once per MAC (bound as ?1); each must change one row. */
static int each_mac(sqlite3 *db, sqlite3_stmt *st, const char *const *macs, size_t n,
                    devbulk_progress_fn progress, void *arg, const char *what)
{
    int rc = DB_OK;

    for (size_t i = 0; rc == DB_OK && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, macs[i], -1, SQLITE_STATIC);
        rc = db_check(db, sqlite3_step(st), what);
        if (rc == DB_OK && sqlite3_changes(db) != 1)
            rc = DB_NOT_FOUND;
        if (progress != NULL && (i + 1) % DEVBULK_PROGRESS_EVERY == 0)
            progress(arg, i + 1);
    }
    if (progress != NULL && rc == DB_OK)
        progress(arg, n);
    return rc;
}

int devbulk_set(sqlite3 *db, const char *const *macs, size_t n, const struct devbulk_change *c,
                devbulk_progress_fn progress, void *arg)
{
    sqlite3_stmt *st = db_prepare(db, set_sql);
    int rc = st != NULL ? bind_change(db, st, c) : DB_ERROR;

    if (rc == DB_OK)
        rc = each_mac(db, st, macs, n, progress, arg, "bulk device change");
    sqlite3_finalize(st);
    return rc;
}

int devbulk_delete(sqlite3 *db, const char *const *macs, size_t n, devbulk_progress_fn progress,
                   void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "DELETE FROM devices WHERE mac = ?1");
    int rc = st != NULL ? DB_OK : DB_ERROR;

    if (rc == DB_OK)
        rc = each_mac(db, st, macs, n, progress, arg, "bulk device removal");
    sqlite3_finalize(st);
    return rc;
}

int devbulk_seen_each(sqlite3 *db, int (*cb)(void *arg, const struct provision_seen *s), void *arg)
{
    sqlite3_stmt *st = db_prepare(db, "SELECT mac, addr, since FROM device_seen ORDER BY mac");
    struct provision_seen s;
    int rc = st != NULL ? DB_OK : DB_ERROR, step = SQLITE_DONE;

    while (rc == DB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        db_column_text(st, 0, s.mac, sizeof(s.mac));
        db_column_text(st, 1, s.addr, sizeof(s.addr));
        s.at = sqlite3_column_int64(st, 2);
        rc = cb(arg, &s);
    }
    if (rc == DB_OK && st != NULL)
        rc = db_check(db, step, "read where devices were seen");
    sqlite3_finalize(st);
    return rc;
}

/* ---- the shared snapshot ---- */

struct snap_ref {
    struct settings_snapshot *snap;
    unsigned refs; /* holders, the cache included */
    char path[PATH_BUF];
    struct snap_ref *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap_ref *live;  /* every snapshot handed out and not yet released */
static struct snap_ref *cache; /* the newest one read (in live) */

/* Drops one hold (the lock held); the last frees it. */
static void ref_drop(struct snap_ref *r)
{
    if (r == NULL || --r->refs > 0)
        return;
    for (struct snap_ref **p = &live; *p != NULL; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    provision_snapshot_free(r->snap);
    free(r);
}

/* The cached snapshot when it is of this database and generation, held. */
static struct settings_snapshot *cache_find(const char *path, int64_t gen)
{
    struct settings_snapshot *s = NULL;

    pthread_mutex_lock(&cache_lock);
    if (cache != NULL && cache->snap->generation == gen && strcmp(cache->path, path) == 0) {
        cache->refs++;
        s = cache->snap;
    }
    pthread_mutex_unlock(&cache_lock);
    return s;
}

/* snap becomes the cache, held by the caller too. */
static int cache_store(struct settings_snapshot *snap, const char *path)
{
    struct snap_ref *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return DB_ERROR;
    r->snap = snap;
    r->refs = 2; /* the caller and the cache */
    snprintf(r->path, sizeof(r->path), "%s", path);
    pthread_mutex_lock(&cache_lock);
    r->next = live;
    live = r;
    if (cache != NULL)
        ref_drop(cache);
    cache = r;
    pthread_mutex_unlock(&cache_lock);
    return DB_OK;
}

int devbulk_snapshot_acquire(sqlite3 *db, const struct settings_snapshot **out)
{
    const char *path = sqlite3_db_filename(db, "main");
    struct settings_snapshot *snap;
    int64_t gen;
    int rc = db_generation(db, &gen);

    if (rc != DB_OK)
        return rc;
    if (path == NULL)
        path = "";
    snap = cache_find(path, gen);
    if (snap == NULL) {
        rc = provision_snapshot_load(db, &snap);
        if (rc == DB_OK && (rc = cache_store(snap, path)) != DB_OK)
            provision_snapshot_free(snap);
    }
    if (rc == DB_OK)
        *out = snap;
    return rc;
}

void devbulk_snapshot_release(const struct settings_snapshot *s)
{
    pthread_mutex_lock(&cache_lock);
    for (struct snap_ref *r = live; s != NULL && r != NULL; r = r->next)
        if (r->snap == s) {
            ref_drop(r);
            break;
        }
    pthread_mutex_unlock(&cache_lock);
}
