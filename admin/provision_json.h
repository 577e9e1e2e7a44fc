/* provision_json.h: the JSON shape of the provisioning rows (devices,
 * models, profiles, enterprise settings, site rules, a CSV import's totals),
 * the one shape both the admin API and `loadsctl --json` print (docs/API.md).
 * Builds values only; no I/O, no database. */
#ifndef LOADSD_PROVISION_JSON_H
#define LOADSD_PROVISION_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "admin/devcsv.h"
#include "db/model/settings.h"
#include "db/provision.h"

/* {"mac","model","profile","description","peer_firmware_sharing",
 * "load_server","load"}: null for no profile and for an inherited value. */
json_t *provision_device_json(const struct provision_device *d);

/* {"name","device_type","pfs_capable","protocol","default_load",
 * "default_load_status"}: the load's status in the catalog, "missing" when
 * it is not there; both null when the model has no default load. */
json_t *provision_model_json(const struct settings_model *m, const char *default_load_status);

/* {"model","protocol","default_load","previous"}: after a default-load change; null
 * for none. */
json_t *provision_default_load_json(const char *model, const char *protocol, const char *load,
                                    const char *previous);

/* {"name","peer_firmware_sharing","load_server","devices","custom_template"} */
json_t *provision_profile_json(const struct settings_profile *p, unsigned devices,
                               bool custom_template);

/* {"peer_firmware_sharing":"on"|"off","load_server","cm_address",
 * "signature_policy"}: null for no host. */
json_t *provision_enterprise_json(const struct settings_enterprise *e, const char *policy);

/* {"cidr","load_server"} */
json_t *provision_site_json(const struct settings_site *s);

/* A new rule: the row (the prefix as stored), "entered" (as given) and
 * "host_bits_cleared" (the prefix given had them). */
json_t *provision_site_added_json(const struct settings_site *s, const char *entered,
                                  bool host_bits_cleared);

/* {"rows","added","updated","unchanged"}: what an import changed. */
json_t *provision_import_json(const struct devcsv_report *rep);

/* Callbacks for provision_*_each that append to a JSON array (arg). */
int provision_json_append_device(void *arg, const struct provision_device *d);
int provision_json_append_site(void *arg, const struct settings_site *s);

#endif
