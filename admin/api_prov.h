/* api_prov.h: what the provisioning resources (api_provision.c,
 * api_devices.c) share: checks of names and values, the load check before
 * an assignment (names and text: settings.h), and the transaction wrapper.
 * Internal to the admin API; no routes here. */
#ifndef LOADSD_API_PROV_H
#define LOADSD_API_PROV_H

#include <stdbool.h>

#include "admin/api.h"
#include "db/model/settings.h"

/* A load about to be assigned (name, normalised) must be in the catalog and
 * not quarantined, unless force; the catalog's spelling replaces name. 0, or
 * -1 with a 409 (or 500) in rs. */
int prov_load_check(struct api_request *rq, struct api_response *rs, char name[SETTINGS_VALUE_MAX],
                    bool force);
/* A value member for key (string; for PFS also true/false), checked and
 * normalised into o (null: inherit). 0, or -1 with a 400 naming the field. */
int prov_opt_member(json_t *obj, const char *field, enum settings_key key, struct settings_opt *o,
                    struct api_response *rs);
/* "force": absent or a boolean. 0, or -1 with a 400. */
int prov_force_member(json_t *obj, bool *force, struct api_response *rs);
/* Ends a write transaction begun with db_begin: commit when rc is DB_OK,
 * roll back otherwise. Returns the final db_result. */
int prov_txn_end(struct api_request *rq, int rc);
/* Every member of obj is one of the names (NULL-terminated)? 0, or -1 with
 * a 400 naming the first unknown member. */
int prov_members_known(json_t *obj, const char *const *names, struct api_response *rs);

#endif
