/* catalog_json.h: the JSON shape of catalog rows (loads, files, trust
 * anchors) and of a verify run, the one shape both the admin API and
 * `loadsctl --json` print (docs/API.md). Builds values only; no I/O, no
 * database. */
#ifndef LOADSD_CATALOG_JSON_H
#define LOADSD_CATALOG_JSON_H

#include <jansson.h>

#include "db/catalog.h"
#include "server/firmware/scrub.h"
#include "server/firmware/verify.h"
#include "server/upstream/pull.h"

/* A stored text as a JSON string (null for NULL): up to 4096 bytes as they
 * are when they are UTF-8, else cleaned as for the log, never dropping the
 * object it goes into. */
json_t *catalog_text_json(const char *text);

json_t *catalog_load_json(const struct catalog_load *l);
json_t *catalog_file_json(const struct catalog_file *f);
json_t *catalog_trust_json(const struct catalog_trust *t);

/* {"id","role","subject","sha256","loads_changed"}: an anchor just added. */
json_t *catalog_trust_added_json(int64_t id, const char *role, const struct verify_cert_info *info,
                                 unsigned loads_changed);
/* {"removed": id, "loads_changed"} */
json_t *catalog_trust_removed_json(int64_t id, unsigned loads_changed);

/* A verified file's result (scrub_file_fn's) as a word: "ok",
 * "quarantined_before", "quarantined_mismatch", "quarantined_missing" or
 * "not_checked". */
const char *catalog_verify_word(int result);
/* {"name","sha256","result"} */
json_t *catalog_verify_file_json(const struct catalog_file *f, int result);
/* {"files","checked","ok","quarantined","already_quarantined",
 * "signatures_checked","bytes","load"?}: a verify run; takes the reference
 * to files; "load" (its status derived after the run) when l is not NULL. */
json_t *catalog_verify_json(json_t *files, const struct scrub_totals *t,
                            const struct catalog_load *l);

/* Callbacks for catalog_*_each that append to a JSON array (arg). */
/* {"load","state","staged","why","files_done","files_total","bytes_done",
 * "bytes_total","bytes_got","started","finished","rate","eta_s"}: a pull
 * from the upstream (stage); times null when none, eta_s null unknown. */
json_t *catalog_stage_json(const struct pull_entry *p);

int catalog_json_append_load(void *arg, const struct catalog_load *l);
int catalog_json_append_file(void *arg, const struct catalog_file *f);
int catalog_json_append_trust(void *arg, const struct catalog_trust *t);

#endif
