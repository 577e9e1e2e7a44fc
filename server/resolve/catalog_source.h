/* catalog_source.h: the catalog as a name resolver source: an immutable,
 * reference-counted snapshot (folded name -> blob, in a snapshot holder) that
 * genwatch's thread rebuilds when the catalog's generation moves, so imports,
 * removals and quarantines show within GENWATCH_POLL_MS without a restart.
 * Each blob is hashed on its first read (and after any change to its inode)
 * before it is served; one that does not match is refused and reported.
 * Never writes the catalog. */
#ifndef LOADSD_CATALOG_SOURCE_H
#define LOADSD_CATALOG_SOURCE_H

#include "server/resolve/genwatch.h"
#include "server/resolve/resolver.h"

struct catalog_source;

/* Opens data_dir's blob store, builds the first snapshot from gw's database
 * and has gw rebuild it from then on (before genwatch_start). 0 or -1 (logged). */
int catalog_source_open(const char *data_dir, struct genwatch *gw, struct catalog_source **out);
/* Who hears of a blob that failed its check on a read (the scrubber, which
 * quarantines it); set before serving starts. */
void catalog_source_on_corrupt(struct catalog_source *cs, void (*fn)(void *arg, const char *hex),
                               void *arg);
/* Where the ends of transfers of served loads' files go (the firmware
 * inventory, which must outlive the source); set before serving starts. */
struct inventory;
void catalog_source_set_inventory(struct catalog_source *cs, struct inventory *inv);
/* Adds this source to a resolver (its files, blobs, manifests and the
 * transfer-ended hook); the catalog source must outlive it. */
int catalog_source_attach(struct catalog_source *cs, struct resolver *r);
/* Frees everything (after the TFTP server and genwatch are freed). */
void catalog_source_free(struct catalog_source *cs);

#endif
