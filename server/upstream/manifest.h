/* manifest.h: a central loadsd's load manifest (GET /manifests/v1/loads/NAME
 * on its file service), parsed and checked before a branch trusts a byte of it. */
#ifndef LOADSD_UPSTREAM_MANIFEST_H
#define LOADSD_UPSTREAM_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/resolve/resolver.h"

#define UPSTREAM_MANIFEST_BODY_MAX  (1024 * 1024)       /* bytes of JSON a branch reads */
#define UPSTREAM_MANIFEST_FILES_MAX 512                 /* files in one load */
#define UPSTREAM_FILE_SIZE_MAX      ((uint64_t)4 << 30) /* one file */
#define UPSTREAM_STATUS_MAX         15

struct upstream_file {
    char name[RESOLVER_NAME_MAX + 1]; /* as the central names it: no '/' or '\' */
    uint64_t size;
    char sha256[RESOLVER_HEX_LEN + 1]; /* lowercase hex */
    bool is_loads;                     /* role "loads": the load's own list */
    bool optional; /* tftp:// only: a "#+" extra of the list, the load is whole without it */
};

struct upstream_manifest {
    char name[RESOLVER_NAME_MAX + 1]; /* the load's name, without ".loads" */
    char status[UPSTREAM_STATUS_MAX + 1];
    bool served;          /* the central serves it; when false, n_files is 0 */
    unsigned file_count;  /* as catalogued at the central (served or not) */
    uint64_t total_bytes; /* likewise; for a served load, the sum of the sizes */
    size_t n_files;
    struct upstream_file *files; /* n_files, the ".loads" file first */
};

/* Parses one manifest body (len bytes, not NUL-terminated). 0, or -1 with a
 * one-line reason in err (cap bytes; safe to log: no bytes of the input
 * beyond printable ASCII). On success the caller frees with
 * upstream_manifest_free(); on failure *out holds nothing to free.
 * Refused: not a JSON object; body over UPSTREAM_MANIFEST_BODY_MAX; a missing
 * or mistyped member; a name that resolver_normalize() changes or refuses, or
 * holding '/'; a size over UPSTREAM_FILE_SIZE_MAX; a sha256 that is not 64
 * lowercase hex digits; a role other than "loads" or "component"; more than
 * UPSTREAM_MANIFEST_FILES_MAX files; two files with one name (ASCII case
 * ignored); files while served is false; a served load without exactly one
 * "loads" file, or whose "loads" file is not NAME.loads (case ignored);
 * for a served load, file_count other than the number of files or
 * total_bytes other than the sum of their sizes. Unknown members are ignored. */
int upstream_manifest_parse(const char *body, size_t len, struct upstream_manifest *out, char *err,
                            size_t cap);

void upstream_manifest_free(struct upstream_manifest *m);

/* The file of m named name (ASCII case ignored), or NULL. */
const struct upstream_file *upstream_manifest_find(const struct upstream_manifest *m,
                                                   const char *name);

#endif
