/* catalog_source.c: serves catalog files by name from an immutable snapshot
 * (only files of loads the signature policy allows now, none quarantined);
 * genwatch's thread rebuilds it when the generation moves and publishes it
 * in a snapshot holder; a request takes one reference (never one per packet).
 * A blob is hashed on its first read (and again whenever its inode, size,
 * mtime or ctime change) before a phone gets a byte of it. */
#include "server/resolve/catalog_source.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/blobstore.h"
#include "db/catalog.h"
#include "db/db.h"
#include "lib/clock.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "server/resolve/genwatch.h"
#include "server/resolve/inventory.h"
#include "server/resolve/load_index.h"
#include "server/resolve/load_use.h"
#include "server/resolve/snapshot.h"

struct snap_entry {
    char *name; /* folded */
    char hex[BLOB_HEX_LEN + 1];
    uint64_t size;
    bool unservable; /* quarantined, or no served load lists it */
};

struct catalog_snap {
    int64_t generation;
    struct snap_entry *v;
    size_t n, cap;
    char **served; /* folded names of the loads the policy serves now, sorted */
    size_t n_served, cap_served;
    const char *adding;       /* while building: the served load whose files are listed */
    struct load_index *loads; /* the manifests' view of the loads */
};

/* A blob that was hashed while it looked like this: served without a new
 * hash while it still does (bad: it did not match; refused). */
struct blob_mark {
    char hex[BLOB_HEX_LEN + 1]; /* "" = free slot */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    bool bad;
};

struct catalog_source {
    struct blobstore *bs;
    struct snapshot_holder *snaps; /* of struct catalog_snap, rebuilt by genwatch */
    pthread_mutex_t lock;          /* marks */
    struct blob_mark *marks;       /* open addressing by the hash's first bytes */
    size_t marks_n, marks_cap;
    void (*on_corrupt)(void *arg, const char *hex);
    void *corrupt_arg;
    struct load_use_table *use; /* when each load's .loads file was last served */
    struct inventory *inv;      /* the firmware inventory; NULL: none kept */
};

static void catalog_snap_free(void *data)
{
    struct catalog_snap *s = data;

    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].name);
    for (size_t i = 0; i < s->n_served; i++)
        free(s->served[i]);
    free(s->served);
    free(s->v);
    load_index_free(s->loads);
    free(s);
}

static int snap_add(void *arg, const struct catalog_file *f)
{
    struct catalog_snap *s = arg;
    struct snap_entry *e;
    char folded[CATALOG_NAME_MAX];

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;

        e = realloc(s->v, cap * sizeof(*e));
        if (e == NULL)
            return DB_ERROR;
        s->v = e;
        s->cap = cap;
    }
    e = &s->v[s->n];
    catalog_fold(f->name, folded, sizeof(folded));
    e->name = strdup(folded);
    if (e->name == NULL)
        return DB_ERROR;
    snprintf(e->hex, sizeof(e->hex), "%s", f->sha256);
    e->size = f->size;
    /* Not servable: the file fails its hash, or no load the policy serves
     * now lists it (its only trusted signer was removed, say). */
    e->unservable = strcmp(f->status, "ok") != 0 || s->adding == NULL;
    s->n++;
    return 0;
}

static int served_add(void *arg, const struct catalog_load *l)
{
    struct catalog_snap *s = arg;
    char folded[CATALOG_NAME_MAX], *copy;

    /* A quarantined file is refused on its own; the load's intact files
     * are still served (a phone finishing another load may need them). */
    if (!l->policy_ok)
        return 0;
    if (grow_array((void **)&s->served, &s->cap_served, s->n_served + 1, sizeof(*s->served), 16) !=
        0)
        return DB_ERROR;
    catalog_fold(l->name, folded, sizeof(folded));
    copy = strdup(folded);
    if (copy == NULL)
        return DB_ERROR;
    s->served[s->n_served++] = copy;
    return 0;
}

/* Every file, then the files of each served load again, marked servable:
 * after sorting, the servable entry of a name comes first (entry_cmp). */
static int snap_fill(sqlite3 *db, struct catalog_snap *s)
{
    int rc = catalog_loads_each(db, served_add, s);

    if (rc == DB_OK)
        rc = catalog_files_each(db, NULL, snap_add, s);
    for (size_t i = 0; rc == DB_OK && i < s->n_served; i++) {
        s->adding = s->served[i];
        rc = catalog_files_each(db, s->served[i], snap_add, s);
    }
    s->adding = NULL;
    return rc;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct snap_entry *)a)->name, ((const struct snap_entry *)b)->name);
}

/* Sorting order: by name, then servable before not (one entry per name
 * survives snap_dedup). */
static int entry_sort_cmp(const void *a, const void *b)
{
    const struct snap_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : (int)x->unservable - (int)y->unservable;
}

static void snap_dedup(struct catalog_snap *s)
{
    size_t out = 0;

    for (size_t i = 0; i < s->n; i++) {
        if (out > 0 && strcmp(s->v[out - 1].name, s->v[i].name) == 0) {
            free(s->v[i].name);
            continue;
        }
        s->v[out++] = s->v[i];
    }
    s->n = out;
}

/* db_read's callback: the generation, then every file. */
static int snap_read(sqlite3 *db, void *arg)
{
    struct catalog_snap *s = arg;
    int rc = db_generation(db, &s->generation);

    if (rc == DB_OK)
        rc = snap_fill(db, s);
    return rc == DB_OK ? load_index_build(db, &s->loads) : rc;
}

/* Reads every file of the catalog at one generation (one read transaction). */
static struct catalog_snap *snap_build(sqlite3 *db)
{
    struct catalog_snap *s = calloc(1, sizeof(*s));
    int rc;

    if (s == NULL)
        return NULL;
    rc = db_read(db, snap_read, s);
    if (rc != DB_OK) {
        catalog_snap_free(s);
        return NULL;
    }
    if (s->n > 1) { /* qsort(NULL, 0, ...) is undefined */
        qsort(s->v, s->n, sizeof(*s->v), entry_sort_cmp);
        snap_dedup(s);
    }
    return s;
}

/* ---- verified marks ---- */

/* The first 16 hex digits of a SHA-256: already uniformly spread. */
static size_t mark_hash(const char *hex)
{
    size_t h = 0;

    for (int i = 0; i < 16; i++)
        h = h * 16 + (size_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    return h;
}

static size_t mark_slot(const struct blob_mark *v, size_t cap, const char *hex)
{
    size_t i = mark_hash(hex) & (cap - 1);

    while (v[i].hex[0] != '\0' && strcmp(v[i].hex, hex) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static bool mark_same(const struct blob_mark *m, const struct stat *st)
{
    return m->dev == st->st_dev && m->ino == st->st_ino && m->size == st->st_size &&
           m->mtime.tv_sec == st->st_mtim.tv_sec && m->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           m->ctime.tv_sec == st->st_ctim.tv_sec && m->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Doubles the table (cap a power of two, at most half full). Lock held. */
static int marks_grow(struct catalog_source *cs)
{
    size_t cap = cs->marks_cap ? cs->marks_cap * 2 : 1024;
    struct blob_mark *v = calloc(cap, sizeof(*v));

    if (v == NULL)
        return -1;
    for (size_t i = 0; i < cs->marks_cap; i++)
        if (cs->marks[i].hex[0] != '\0')
            v[mark_slot(v, cap, cs->marks[i].hex)] = cs->marks[i];
    free(cs->marks);
    cs->marks = v;
    cs->marks_cap = cap;
    return 0;
}

/* -1: no mark for this state of the blob; 0: verified; 1: known bad. */
static int mark_lookup(struct catalog_source *cs, const char *hex, const struct stat *st)
{
    const struct blob_mark *m;
    int rc = -1;

    pthread_mutex_lock(&cs->lock);
    if (cs->marks_cap > 0) {
        m = &cs->marks[mark_slot(cs->marks, cs->marks_cap, hex)];
        if (m->hex[0] != '\0' && mark_same(m, st))
            rc = m->bad ? 1 : 0;
    }
    pthread_mutex_unlock(&cs->lock);
    return rc;
}

static void mark_store(struct catalog_source *cs, const char *hex, const struct stat *st, bool bad)
{
    struct blob_mark *m;

    pthread_mutex_lock(&cs->lock);
    if (2 * (cs->marks_n + 1) > cs->marks_cap && marks_grow(cs) != 0)
        goto out; /* no mark: the next read hashes again */
    m = &cs->marks[mark_slot(cs->marks, cs->marks_cap, hex)];
    if (m->hex[0] == '\0')
        cs->marks_n++;
    snprintf(m->hex, sizeof(m->hex), "%s", hex);
    m->dev = st->st_dev;
    m->ino = st->st_ino;
    m->size = st->st_size;
    m->mtime = st->st_mtim;
    m->ctime = st->st_ctim;
    m->bad = bad;
out:
    pthread_mutex_unlock(&cs->lock);
}

/* The blob behind fd is the one named e->hex, checked once per state of its
 * inode: RESOLVER_OK, RESOLVER_UNAVAILABLE when it does not match (then
 * handed to the scrubber, which quarantines it), or RESOLVER_IO. */
static int blob_check(struct catalog_source *cs, const struct snap_entry *e, int fd)
{
    int64_t t0, t1;
    struct stat st;
    int known, rc;

    if (fstat(fd, &st) != 0)
        return RESOLVER_IO;
    known = mark_lookup(cs, e->hex, &st);
    if (known >= 0)
        return known == 0 ? RESOLVER_OK : RESOLVER_UNAVAILABLE;
    t0 = clock_mono_ns();
    rc = (uint64_t)st.st_size != e->size ? -EBADMSG : blobstore_verify_fd(fd, e->hex);
    t1 = clock_mono_ns();
    if (rc != 0 && rc != -EBADMSG) {
        log_error("catalog file %s: cannot check blob %s: %s", e->name, e->hex, strerror(-rc));
        return RESOLVER_IO;
    }
    mark_store(cs, e->hex, &st, rc != 0);
    if (rc == 0) {
        log_debug("catalog file %s: blob hashed on its first read, %llu bytes in %.1f ms", e->name,
                  (unsigned long long)st.st_size, (double)(t1 - t0) / 1e6);
        return RESOLVER_OK;
    }
    log_error("catalog file %s: blob %s no longer matches its hash: not served, to quarantine",
              e->name, e->hex);
    if (cs->on_corrupt != NULL)
        cs->on_corrupt(cs->corrupt_arg, e->hex);
    return RESOLVER_UNAVAILABLE;
}

/* Opens the blob of a servable entry, checked (blob_check). */
static int entry_open(struct catalog_source *cs, const struct snap_entry *e,
                      struct resolver_file *out)
{
    int fd, rc = blobstore_open_blob(cs->bs, e->hex, &fd);

    if (rc == 0 && (rc = blob_check(cs, e, fd)) != RESOLVER_OK) {
        close(fd);
    } else if (rc == 0) {
        out->fd = fd;
        out->size = e->size;
        out->source = "catalog";
        snprintf(out->sha256, sizeof(out->sha256), "%s", e->hex);
        rc = RESOLVER_OK;
    } else {
        log_error("catalog file %s: blob %s cannot be opened: %s", e->name, e->hex, strerror(-rc));
        rc = rc == -ENOENT ? RESOLVER_UNAVAILABLE : RESOLVER_IO;
    }
    return rc;
}

/* A served NAME.loads is a use of load NAME (the upstream quota's recency). */
static void note_use(struct catalog_source *cs, const char *folded)
{
    static const char ext[] = ".loads";
    size_t n = strlen(folded), k = sizeof(ext) - 1;
    char load[CATALOG_NAME_MAX];

    if (n <= k || n - k >= sizeof(load) || strcmp(folded + n - k, ext) != 0)
        return;
    memcpy(load, folded, n - k);
    load[n - k] = '\0';
    load_use_note(cs->use, load, (int64_t)time(NULL));
}

static int source_open(void *ctx, const char *name, const struct sockaddr *client,
                       struct resolver_file *out)
{
    struct catalog_source *cs = ctx;
    struct snapshot *sn = snapshot_acquire(cs->snaps);
    const struct catalog_snap *s;
    struct snap_entry key = {0};
    const struct snap_entry *e;
    char folded[CATALOG_NAME_MAX];
    int rc = RESOLVER_NOT_FOUND;

    (void)client;
    if (sn == NULL)
        return rc;
    s = snapshot_data(sn);
    catalog_fold(name, folded, sizeof(folded));
    key.name = folded;
    e = s->n > 0 ? bsearch(&key, s->v, s->n, sizeof(*s->v), entry_cmp) : NULL;
    if (e != NULL && e->unservable)
        rc = RESOLVER_UNAVAILABLE;
    else if (e != NULL)
        rc = entry_open(cs, e, out);
    if (rc == RESOLVER_OK)
        note_use(cs, folded);
    snapshot_release(sn);
    return rc;
}

/* A blob by its hash (the HTTP file service's /blobs/sha256/<hex>): served
 * when some servable file has it, refused when only unservable ones do.
 * A scan of the snapshot: one pass, no index to keep. */
static int blob_open(void *ctx, const char *hex, struct resolver_file *out)
{
    struct catalog_source *cs = ctx;
    struct snapshot *sn = snapshot_acquire(cs->snaps);
    const struct catalog_snap *s;
    const struct snap_entry *found = NULL;
    int rc = RESOLVER_NOT_FOUND;

    if (sn == NULL)
        return rc;
    s = snapshot_data(sn);
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].hex, hex) != 0)
            continue;
        rc = RESOLVER_UNAVAILABLE;
        if (!s->v[i].unservable) {
            found = &s->v[i];
            break;
        }
    }
    if (found != NULL)
        rc = entry_open(cs, found, out);
    snapshot_release(sn);
    return rc;
}

/* The loads, for the file service's manifests (resolver_loads_fn). */
static int loads_each(void *ctx, const char *name, resolver_load_cb cb, void *arg)
{
    struct catalog_source *cs = ctx;
    struct snapshot *sn = snapshot_acquire(cs->snaps);
    int rc;

    if (sn == NULL)
        return name == NULL ? RESOLVER_OK : RESOLVER_NOT_FOUND;
    rc = load_index_walk(((const struct catalog_snap *)snapshot_data(sn))->loads, name, cb, arg);
    snapshot_release(sn);
    return rc;
}

/* The loads a finished file belongs to, for the inventory (at most
 * ENDED_HITS_MAX; their names copied, as the walk's are only lent). */
#define ENDED_HITS_MAX 4
struct ended_walk {
    const char *name;
    struct inventory_hit hits[ENDED_HITS_MAX];
    char loads[ENDED_HITS_MAX][INVENTORY_LOAD_MAX];
    size_t n;
};

static int ended_load(void *arg, const struct resolver_load *l)
{
    struct ended_walk *w = arg;

    for (size_t i = 0; i < l->n_files && w->n < ENDED_HITS_MAX; i++) {
        if (strcasecmp(l->files[i].name, w->name) != 0 || strlen(l->name) >= INVENTORY_LOAD_MAX)
            continue;
        snprintf(w->loads[w->n], sizeof(w->loads[w->n]), "%s", l->name);
        w->hits[w->n] = (struct inventory_hit){w->loads[w->n], (unsigned)i, (unsigned)l->n_files};
        w->n++;
        break;
    }
    return 0;
}

/* resolver_ended_fn: a transfer of name ended; when the file belongs to a
 * served load, the inventory hears which phone got how far. */
static void transfer_ended(void *ctx, const char *name, const struct sockaddr *client,
                           bool complete)
{
    struct catalog_source *cs = ctx;
    struct ended_walk w = {.name = name};
    struct snapshot *sn;

    if (cs->inv == NULL || (sn = snapshot_acquire(cs->snaps)) == NULL)
        return;
    load_index_walk(((const struct catalog_snap *)snapshot_data(sn))->loads, NULL, ended_load, &w);
    snapshot_release(sn);
    if (w.n > 0)
        inventory_note_file(cs->inv, client, w.hits, w.n, complete, (int64_t)time(NULL));
}

void catalog_source_set_inventory(struct catalog_source *cs, struct inventory *inv)
{
    cs->inv = inv;
}

/* genwatch's tick: the loads' new uses to the database. */
static void flush_use(void *arg, sqlite3 *db)
{
    load_use_flush(((struct catalog_source *)arg)->use, db);
}

/* genwatch's callback: a new snapshot at the current generation. */
static int rebuild(void *arg, sqlite3 *db)
{
    struct catalog_source *cs = arg;
    struct catalog_snap *s = snap_build(db);
    int64_t generation;
    size_t n, n_served;

    if (s == NULL)
        return -1;
    generation = s->generation;
    n = s->n;
    n_served = s->n_served;
    if (snapshot_publish(cs->snaps, s) != 0)
        return -1;
    log_info("catalog snapshot generation %lld: %zu files, %zu loads served", (long long)generation,
             n, n_served);
    return 0;
}

int catalog_source_open(const char *data_dir, struct genwatch *gw, struct catalog_source **out)
{
    struct catalog_source *cs = calloc(1, sizeof(*cs));

    if (cs == NULL)
        return -1;
    pthread_mutex_init(&cs->lock, NULL);
    cs->snaps = snapshot_holder_new(catalog_snap_free);
    cs->use = load_use_new();
    if (cs->snaps == NULL || cs->use == NULL || blobstore_open(data_dir, &cs->bs) != 0 ||
        genwatch_add(gw, rebuild, cs) != 0 || genwatch_add_tick(gw, flush_use, cs) != 0)
        goto fail;
    *out = cs;
    return 0;
fail:
    log_error("cannot serve the catalog in %s", data_dir);
    catalog_source_free(cs);
    return -1;
}

void catalog_source_on_corrupt(struct catalog_source *cs, void (*fn)(void *arg, const char *hex),
                               void *arg)
{
    cs->on_corrupt = fn;
    cs->corrupt_arg = arg;
}

int catalog_source_attach(struct catalog_source *cs, struct resolver *r)
{
    struct resolver_source src = {"catalog", source_open, NULL, cs};

    if (resolver_add_source(r, &src) != 0)
        return -1;
    resolver_set_blob_source(r, blob_open, cs);
    resolver_set_loads_source(r, loads_each, cs);
    resolver_set_ended_hook(r, transfer_ended, cs);
    return 0;
}

void catalog_source_free(struct catalog_source *cs)
{
    if (cs == NULL)
        return;
    snapshot_holder_free(cs->snaps);
    if (cs->bs != NULL)
        blobstore_close(cs->bs);
    free(cs->marks);
    load_use_free(cs->use);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}
