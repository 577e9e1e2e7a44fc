/* catalog_json.h: the JSON shape of catalog rows (loads, files, trust
 * anchors), the one shape both the admin API and `loadsctl --json` print.
 * Builds values only; no I/O, no database. */
#ifndef LOADSD_CATALOG_JSON_H
#define LOADSD_CATALOG_JSON_H

#include <jansson.h>

#include "db/catalog.h"

json_t *catalog_load_json(const struct catalog_load *l);
json_t *catalog_file_json(const struct catalog_file *f);
json_t *catalog_trust_json(const struct catalog_trust *t);

/* Callbacks for catalog_*_each that append to a JSON array (arg). */
int catalog_json_append_load(void *arg, const struct catalog_load *l);
int catalog_json_append_file(void *arg, const struct catalog_file *f);
int catalog_json_append_trust(void *arg, const struct catalog_trust *t);

#endif
