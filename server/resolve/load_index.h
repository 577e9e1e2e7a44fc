/* load_index.h: the catalog's loads as the file service's manifests see
 * them (name, status, whether served, and a served load's files with their
 * hashes), read in the catalog snapshot's transaction and kept with it.
 * Immutable once built; nothing about devices, keys or settings. */
#ifndef LOADSD_LOAD_INDEX_H
#define LOADSD_LOAD_INDEX_H

#include <sqlite3.h>

#include "server/resolve/resolver.h"

struct load_index;

/* Reads every load (inside the caller's read transaction); DB_OK and *out,
 * or a DB_ error. */
int load_index_build(sqlite3 *db, struct load_index **out);
void load_index_free(struct load_index *ix); /* NULL is fine */

/* resolver_loads_fn over the index: name NULL walks every load in folded
 * name order; otherwise the one load of that name (case-insensitive, a
 * ".loads" suffix dropped), or RESOLVER_NOT_FOUND. */
int load_index_walk(const struct load_index *ix, const char *name, resolver_load_cb cb, void *arg);

#endif
