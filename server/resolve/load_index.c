/* load_index.c: builds the manifests' view of the catalog's loads: every
 * load with its derived status, and the files of each load the policy
 * serves now (a load that is not served offers none). Never writes. */
#include "server/resolve/load_index.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/catalog.h"
#include "db/db.h"
#include "lib/grow.h"

#define LOADS_SUFFIX ".loads"

struct load_rec {
    char name[CATALOG_NAME_MAX];
    char folded[CATALOG_NAME_MAX];
    char status[16];
    bool served;
    unsigned file_count;
    uint64_t total_bytes;
    struct resolver_load_file *files; /* names owned */
    size_t n_files, cap_files;
};

struct load_index {
    struct load_rec *v;
    size_t n, cap;
};

static void rec_clear(struct load_rec *r)
{
    for (size_t i = 0; i < r->n_files; i++)
        free((char *)r->files[i].name);
    free(r->files);
}

void load_index_free(struct load_index *ix)
{
    if (ix == NULL)
        return;
    for (size_t i = 0; i < ix->n; i++)
        rec_clear(&ix->v[i]);
    free(ix->v);
    free(ix);
}

static int load_add(void *arg, const struct catalog_load *l)
{
    struct load_index *ix = arg;
    struct load_rec *r;

    if (grow_array((void **)&ix->v, &ix->cap, ix->n + 1, sizeof(*ix->v), 16) != 0)
        return DB_ERROR;
    r = &ix->v[ix->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", l->name);
    catalog_fold(l->name, r->folded, sizeof(r->folded));
    snprintf(r->status, sizeof(r->status), "%s", l->status);
    r->served = l->served;
    r->file_count = l->file_count;
    r->total_bytes = l->total_size;
    return DB_OK;
}

/* The .loads file is the load's name with the suffix (catalog_import names it). */
static bool is_loads_file(const struct load_rec *r, const char *file_name)
{
    char folded[CATALOG_NAME_MAX];
    size_t n = strlen(r->folded);

    catalog_fold(file_name, folded, sizeof(folded));
    return strncmp(folded, r->folded, n) == 0 && strcmp(folded + n, LOADS_SUFFIX) == 0;
}

static int file_add(void *arg, const struct catalog_file *f)
{
    struct load_rec *r = arg;
    struct resolver_load_file *o;

    if (grow_array((void **)&r->files, &r->cap_files, r->n_files + 1, sizeof(*r->files), 8) != 0)
        return DB_ERROR;
    o = &r->files[r->n_files];
    o->name = strdup(f->name);
    if (o->name == NULL)
        return DB_ERROR;
    o->size = f->size;
    snprintf(o->sha256, sizeof(o->sha256), "%s", f->sha256);
    o->is_loads = is_loads_file(r, f->name);
    r->n_files++;
    return DB_OK;
}

static int rec_cmp(const void *a, const void *b)
{
    return strcmp(((const struct load_rec *)a)->folded, ((const struct load_rec *)b)->folded);
}

int load_index_build(sqlite3 *db, struct load_index **out)
{
    struct load_index *ix = calloc(1, sizeof(*ix));
    int rc = ix != NULL ? catalog_loads_each(db, load_add, ix) : DB_ERROR;

    for (size_t i = 0; rc == DB_OK && i < ix->n; i++) {
        if (ix->v[i].served)
            rc = catalog_files_each(db, ix->v[i].name, file_add, &ix->v[i]);
    }
    if (rc != DB_OK) {
        load_index_free(ix);
        return rc;
    }
    if (ix->n > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(ix->v, ix->n, sizeof(*ix->v), rec_cmp);
    *out = ix;
    return DB_OK;
}

static int rec_visit(const struct load_rec *r, resolver_load_cb cb, void *arg)
{
    struct resolver_load l = {
        .name = r->name,
        .status = r->status,
        .served = r->served,
        .file_count = r->file_count,
        .total_bytes = r->total_bytes,
        .files = r->files,
        .n_files = r->n_files,
    };

    return cb(arg, &l);
}

int load_index_walk(const struct load_index *ix, const char *name, resolver_load_cb cb, void *arg)
{
    struct load_rec key;
    const struct load_rec *r;
    size_t n;
    int rc = RESOLVER_OK;

    if (name == NULL) {
        for (size_t i = 0; rc == RESOLVER_OK && i < ix->n; i++)
            rc = rec_visit(&ix->v[i], cb, arg);
        return rc;
    }
    catalog_fold(name, key.folded, sizeof(key.folded));
    n = strlen(key.folded);
    if (n > strlen(LOADS_SUFFIX) &&
        strcmp(key.folded + n - strlen(LOADS_SUFFIX), LOADS_SUFFIX) == 0)
        key.folded[n - strlen(LOADS_SUFFIX)] = '\0';
    r = ix->n > 0 ? bsearch(&key, ix->v, ix->n, sizeof(*ix->v), rec_cmp) : NULL;
    return r != NULL ? rec_visit(r, cb, arg) : RESOLVER_NOT_FOUND;
}
