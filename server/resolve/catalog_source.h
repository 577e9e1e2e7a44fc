/* catalog_source.h: the catalog as a name resolver source: an immutable,
 * reference-counted snapshot (folded name -> blob) that a watcher thread
 * rebuilds when the catalog's generation moves, so imports, removals and
 * quarantines show at once without a restart. Each blob is hashed on its
 * first read (and after any change to its inode) before it is served; one
 * that does not match is refused and reported. Never writes the catalog. */
#ifndef LOADSD_CATALOG_SOURCE_H
#define LOADSD_CATALOG_SOURCE_H

#include <stdint.h>

#include "server/resolve/resolver.h"

#define CATALOG_SOURCE_POLL_MS 250

struct catalog_source;

/* Opens data_dir's catalog (already created by datadir_open) and blob store,
 * builds the first snapshot and starts the watcher. 0 or -1 (logged). */
int catalog_source_open(const char *data_dir, struct catalog_source **out);
/* Who hears of a blob that failed its check on a read (the scrubber, which
 * quarantines it); set before serving starts. */
void catalog_source_on_corrupt(struct catalog_source *cs, void (*fn)(void *arg, const char *hex),
                               void *arg);
/* Adds this source to a resolver; the catalog source must outlive it. */
int catalog_source_attach(struct catalog_source *cs, struct resolver *r);
/* The generation of the snapshot now served. */
int64_t catalog_source_generation(struct catalog_source *cs);
/* Stops the watcher and frees everything (after the TFTP server is freed). */
void catalog_source_free(struct catalog_source *cs);

#endif
