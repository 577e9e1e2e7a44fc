/* import.h: importing a firmware bundle: unpack, store every file in the blob
 * store (hashed in the same pass), check completeness, names, signatures and
 * conflicts, then publish everything in one transaction, or nothing. */
#ifndef LOADSD_IMPORT_H
#define LOADSD_IMPORT_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/blobstore.h"

enum import_result {
    IMPORT_OK = 0,
    IMPORT_REFUSED = -1, /* the bundle failed a check: the report lists the problems */
    IMPORT_ERROR = -2,   /* an internal or I/O error (e.g. disk full): nothing published */
};

struct import_progress {
    const char *phase;   /* "unpacking", "checking", "publishing" */
    uint64_t bytes_read; /* of file contents stored so far */
    unsigned files_stored;
    unsigned files_checked;
    unsigned files_total; /* known once unpacking is done */
};

struct import_options {
    const char *const *paths; /* one bundle, or loose files that belong together */
    size_t n_paths;
    const char *approval_path; /* detached DER CMS signature over paths[0], or NULL */
    const char *source;        /* name for the report (an upload's file name), or NULL */
    const char *actor;         /* who imports, for the audit trail */
    bool replace;              /* allow new bytes under an existing file name */
    /* How the caller's user allows that, for the conflict's message ("import
     * with --replace"); NULL: "allow replacing". */
    const char *replace_how;
    void (*progress)(void *arg, const struct import_progress *p);
    void *progress_arg;
};

/* Runs one import. *report (always set, the caller frees it with json_decref)
 * says what happened: {"ok", "import_id", "loads": [...], "files": [...],
 * "problems": [{"file", "message"}], "warnings": [...], "changes": [...]}. */
int import_run(sqlite3 *db, struct blobstore *bs, const struct import_options *opt,
               json_t **report);

#endif
