/* load_use.c: the loads' last use: a sorted array under one mutex, noted when
 * the catalog serves a .loads file, flushed through db/catalog.c. */
#include "server/resolve/load_use.h"

#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/catalog.h"
#include "db/db.h"
#include "lib/log.h"
#include "lib/sorted.h"

struct use_entry {
    char name[CATALOG_NAME_MAX]; /* folded */
    int64_t used;                /* last asked for */
    int64_t written;             /* the use last written; 0: none */
    int64_t wrote_at;            /* when it was written */
};

struct load_use_table {
    pthread_mutex_t lock;
    struct use_entry *v; /* sorted by name */
    size_t n, cap;
    struct catalog_use flush[LOAD_USE_FLUSH]; /* the flushing thread's copy */
};

struct load_use_table *load_use_new(void)
{
    struct load_use_table *t = calloc(1, sizeof(*t));

    if (t != NULL && pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        t = NULL;
    }
    return t;
}

void load_use_free(struct load_use_table *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->v);
    free(t);
}

/* The index of name, or where it would go (*found false). */
static size_t use_find(const struct load_use_table *t, const char *name, bool *found)
{
    return sorted_find(t->v, t->n, sizeof(*t->v), offsetof(struct use_entry, name), name, found);
}

/* The entry for name, added when there is room; NULL when there is none. */
static struct use_entry *use_entry(struct load_use_table *t, const char *name)
{
    bool found;
    size_t i = use_find(t, name, &found);

    if (found)
        return &t->v[i];
    if (t->n >= LOAD_USE_MAX ||
        sorted_insert((void **)&t->v, &t->cap, t->n, sizeof(*t->v), i, 64) != 0)
        return NULL;
    snprintf(t->v[i].name, sizeof(t->v[i].name), "%s", name);
    t->n++;
    return &t->v[i];
}

void load_use_note(struct load_use_table *t, const char *load, int64_t now)
{
    char folded[CATALOG_NAME_MAX];
    struct use_entry *e;

    catalog_fold(load, folded, sizeof(folded));
    pthread_mutex_lock(&t->lock);
    e = use_entry(t, folded);
    if (e != NULL && now > e->used)
        e->used = now;
    pthread_mutex_unlock(&t->lock);
}

static bool use_due(const struct use_entry *e, int64_t now)
{
    return e->used > e->written && (e->written == 0 || now - e->wrote_at >= LOAD_USE_WRITE_S);
}

void load_use_flush(struct load_use_table *t, sqlite3 *db)
{
    int64_t now = (int64_t)time(NULL);
    size_t n = 0;

    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n && n < LOAD_USE_FLUSH; i++) {
        if (!use_due(&t->v[i], now))
            continue;
        snprintf(t->flush[n].name, sizeof(t->flush[n].name), "%s", t->v[i].name);
        t->flush[n++].at = t->v[i].used;
    }
    pthread_mutex_unlock(&t->lock);
    if (n == 0)
        return;
    if (catalog_loads_used(db, t->flush, n) != DB_OK) {
        log_warn("cannot record when %zu load(s) were last used; trying again later", n);
        return;
    }
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < n; i++) {
        bool found;
        size_t k = use_find(t, t->flush[i].name, &found);

        if (found && t->flush[i].at > t->v[k].written) {
            t->v[k].written = t->flush[i].at;
            t->v[k].wrote_at = now;
        }
    }
    pthread_mutex_unlock(&t->lock);
}
