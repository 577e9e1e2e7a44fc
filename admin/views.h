/* views.h: the documents the admin API and `loadsctl --json` both print that
 * need more than one row: models with their default load's status, profiles
 * with their device count and template, the enterprise settings with the
 * signature policy, a load with its files and users. Reads through db/ and
 * builds with *_json.h; never writes, never runs SQL of its own. */
#ifndef LOADSD_VIEWS_H
#define LOADSD_VIEWS_H

#include <jansson.h>
#include <sqlite3.h>

#include "db/catalog.h"

/* Each: DB_OK with *out a new reference, or a negative db_result and *out
 * NULL. */

/* [provision_model_json...] */
int view_models(sqlite3 *db, json_t **out);
/* [provision_profile_json...] */
int view_profiles(sqlite3 *db, json_t **out);
/* One profile, named without regard to case: DB_NOT_FOUND when none. */
int view_profile(sqlite3 *db, const char *name, json_t **out);
/* provision_enterprise_json */
int view_enterprise(sqlite3 *db, json_t **out);
/* catalog_load_json with "file_list" (catalog_file_json...) and "used_by"
 * (null when it cannot be read):
 * {"models": [names whose default it is], "devices": [the first
 * VIEW_LOAD_USERS_LISTED MACs assigned it directly], "devices_total"}. */
#define VIEW_LOAD_USERS_LISTED 1000
int view_load(sqlite3 *db, const struct catalog_load *l, json_t **out);

#endif
