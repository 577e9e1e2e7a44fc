/* scrub.h: re-hashing stored files; a blob that no longer matches its hash,
 * or is missing, is quarantined: moved aside, its file and load marked, never
 * served again until the same bytes are imported again. */
#ifndef LOADSD_SCRUB_H
#define LOADSD_SCRUB_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>

#include "db/blobstore.h"
#include "db/catalog.h"

struct scrub_totals {
    unsigned checked; /* blobs re-hashed */
    unsigned ok;
    unsigned quarantined; /* newly quarantined by this run */
    unsigned already;     /* files that were quarantined before */
    unsigned signatures;  /* signed files checked against a trusted certificate anew */
    uint64_t bytes;
};

/* Per-file result: 0 ok, -EBADMSG mismatch, -ENOENT missing, 1 was already
 * quarantined, another negative errno: could not check (I/O). */
typedef void (*scrub_file_fn)(void *arg, const struct catalog_file *f, int result);

struct scrub_options {
    const char *load;          /* one load's files, or NULL for the whole catalog */
    uint64_t rate;             /* bytes per second at most, 0: no limit */
    const char *actor;         /* for the audit trail */
    const atomic_bool *cancel; /* checked between files; NULL: never */
    scrub_file_fn cb;          /* per-file result, or NULL */
    void *arg;
};

/* Checks the files. 0, DB_NOT_FOUND for an unknown load, or another negative
 * db_result. A cancelled run returns 0 with what it checked so far. */
int scrub_run(sqlite3 *db, struct blobstore *bs, const struct scrub_options *opt,
              struct scrub_totals *totals);

/* Re-hashes the blob hex (one that the server found changed on a read) and,
 * on a mismatch, quarantines every file stored as it, like a scrub would.
 * 0 or a negative db_result. */
int scrub_recheck_blob(sqlite3 *db, struct blobstore *bs, const char *hex, const char *actor);

#endif
