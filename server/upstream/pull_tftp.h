/* pull_tftp.h: a load from a tftp:// upstream, for pull.c: no hashes are
 * known in advance, so its .loads file is fetched and read for the names
 * of the files to fetch; each file comes by name into the spool. The
 * import (server/firmware) checks every signed header afterwards. */
#ifndef LOADSD_UPSTREAM_PULL_TFTP_H
#define LOADSD_UPSTREAM_PULL_TFTP_H

#include <stddef.h>
#include <stdint.h>

#include "server/upstream/manifest.h"
#include "server/upstream/tftp_fetch.h"

/* Fetches LOAD.loads into dir (replacing what an earlier try left) and lists
 * it and the files it names in m, the .loads file first with its size, each
 * component with the size the list gives (0 when it gives none). FETCH_OK
 * (free m with upstream_manifest_free), FETCH_ABSENT (the upstream has no
 * LOAD.loads), FETCH_FAILED (also: a list that does not parse) or
 * FETCH_LOCAL; why says what, safe to log. *got: bytes received. */
int pull_tftp_list(const struct tftp_fetch_opts *o, const char *load, const char *dir,
                   struct upstream_manifest *m, uint64_t *got, char *why, size_t cap);

/* Makes path hold component f: kept when an earlier try left it whole (of
 * the listed size, when the list gives one), else fetched. FETCH_* result;
 * FETCH_ABSENT for a file the upstream lacks. */
int pull_tftp_file(const struct tftp_fetch_opts *o, const struct upstream_file *f, const char *path,
                   uint64_t *got, char *why, size_t cap);

#endif
