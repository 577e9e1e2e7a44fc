/* provision.h: rows of the provisioning model (models, enterprise settings,
 * profiles, devices, site rules) and the snapshot the resolver works on.
 * Prepared statements only. Every write records its own audit row; the
 * caller wraps writes in db_begin/db_commit so both land together. */
#ifndef LOADSD_PROVISION_H
#define LOADSD_PROVISION_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "db/model/settings.h"

#define PROVISION_PAGE_MAX     1000  /* rows per devices_each page */
#define PROVISION_TEMPLATE_MAX 65536 /* bytes of a profile template: CNF_TEMPLATE_MAX */

/* ---- the snapshot (one read transaction) ---- */

/* Loads every row into a new snapshot: models by name, profiles by name,
 * devices sorted by mac, sites, and the catalog's loads with their status
 * (for the warnings). 0, or a negative db_result. */
int provision_snapshot_load(sqlite3 *db, struct settings_snapshot **out);
void provision_snapshot_free(struct settings_snapshot *s);

/* Records, for every device of s whose config names its own load (servable
 * now, and let through by the fleet gate over fleet at now: with
 * stage_first a config may hold it back; site rules matched against each
 * device's last-seen address), that load as the device's last complete
 * one, in one transaction of its own when any changed (no audit:
 * bookkeeping of what phones were given). *changed (may be NULL) gets how
 * many. 0 or a negative db_result. */
struct fleet_view;
int provision_record_given(sqlite3 *db, const struct settings_snapshot *s,
                           const struct fleet_view *fleet, int64_t now, unsigned *changed);

/* ---- models ---- */

int provision_models_each(sqlite3 *db, int (*cb)(void *arg, const struct settings_model *m),
                          void *arg);
/* By name or unambiguous last word (settings_find_model). 0, DB_NOT_FOUND,
 * or DB_CONFLICT when the short form is ambiguous. */
int provision_model_find(sqlite3 *db, const char *text, struct settings_model *out);
int provision_model_add(sqlite3 *db, const char *actor, const struct settings_model *m);
/* load NULL or "": no default. The model is named exactly (as find gives it). */
/* The default of (model, protocol) ("SIP"/"SCCP"; NULL: the model's own),
 * load NULL or "" to clear; DB_CONFLICT when the model does not run it. */
int provision_model_set_protocol_load(sqlite3 *db, const char *actor, const char *model,
                                      const char *protocol, const char *load);
int provision_model_set_default_load(sqlite3 *db, const char *actor, const char *model,
                                     const char *load);

/* ---- enterprise (rows of the settings table) ---- */

int provision_enterprise_get(sqlite3 *db, struct settings_enterprise *out);
/* key: peer_firmware_sharing (on|off), load_server (host or ""), cm_address
 * (host or ""), signature_policy (signed|verified|any); value already
 * checked by provision_enterprise_check. */
int provision_enterprise_set(sqlite3 *db, const char *actor, const char *key, const char *value);
/* Checks and normalises a value for an enterprise key ("none" -> "").
 * 0, or -1 with *why. */
int provision_enterprise_check(const char *key, const char *in, char *out, size_t cap,
                               const char **why);

/* ---- profiles ---- */

int provision_profile_add(sqlite3 *db, const char *actor, const char *name);
int provision_profile_get(sqlite3 *db, const char *name, struct settings_profile *out);
/* value NULL: inherit. The value is already normalised. DB_NOT_FOUND. */
int provision_profile_set(sqlite3 *db, const char *actor, const char *name, enum settings_key key,
                          const char *value);
/* A new profile to with from's settings and template (one audit row,
 * profile.copy). DB_NOT_FOUND (from), DB_CONFLICT (to exists). */
int provision_profile_copy(sqlite3 *db, const char *actor, const char *from, const char *to);
/* Refused (DB_CONFLICT, *users set) while devices use the profile. */
int provision_profile_remove(sqlite3 *db, const char *actor, const char *name, unsigned *users);
/* The callback's profile has template_xml NULL (see template_get). */
int provision_profiles_each(sqlite3 *db,
                            int (*cb)(void *arg, const struct settings_profile *p,
                                      unsigned devices),
                            void *arg);
/* The uploaded template (malloc'd, caller frees) or *out NULL for none. */
int provision_profile_template_get(sqlite3 *db, const char *name, char **out);
/* text NULL: back to the shipped default. The caller has validated it. */
int provision_profile_template_set(sqlite3 *db, const char *actor, const char *name,
                                   const char *text);

/* ---- devices ---- */

/* A device row with its model and profile by name (for listings, export and
 * writes). A write names the model exactly and the profile exactly or "". */
struct provision_device {
    char mac[SETTINGS_MAC_LEN + 1];
    char model[SETTINGS_NAME_MAX];
    char profile[SETTINGS_NAME_MAX]; /* "" = none */
    char description[SETTINGS_VALUE_MAX];
    struct settings_opt pfs;
    struct settings_opt load_server;
    struct settings_opt load;
    char protocol[8]; /* "SIP", "SCCP", or "" = its model's */
};

int provision_device_get(sqlite3 *db, const char *mac, struct provision_device *out);
/* Inserts (DB_CONFLICT when the MAC exists; DB_NOT_FOUND for an unknown
 * model or profile). */
int provision_device_add(sqlite3 *db, const char *actor, const struct provision_device *d);
/* Replaces the device's row (DB_NOT_FOUND when absent or the model/profile
 * is unknown). */
int provision_device_update(sqlite3 *db, const char *actor, const struct provision_device *d);
int provision_device_remove(sqlite3 *db, const char *actor, const char *mac);
/* The CSV import, in one write transaction: loads the snapshot inside it,
 * lets check() turn the snapshot into rows (what was checked is what the
 * rows are written against), then adds or updates every row (one prepared
 * statement set for all), counting what was added and what changed, and
 * writes one audit row for the whole import ("device.import": the counts
 * and the first MACs of each kind; none when nothing changed). check
 * returns 0 with *rows and *n set, or anything else (returned as is) to
 * write nothing. Else 0 or a negative db_result. */
int provision_devices_import(sqlite3 *db, const char *actor,
                             int (*check)(void *arg, const struct settings_snapshot *snap,
                                          const struct provision_device **rows, size_t *n),
                             void *arg, unsigned *added, unsigned *updated);
/* Devices in MAC order whose mac, description, model or profile contains
 * search (any case; NULL or "": all), from offset, at most limit (0: all). */
int provision_devices_each(sqlite3 *db, const char *search, int64_t offset, int64_t limit,
                           int (*cb)(void *arg, const struct provision_device *d), void *arg);
int provision_devices_count(sqlite3 *db, const char *search, int64_t *out);
/* The devices of profile name (any case) in MAC order, at most limit (0:
 * all). */
int provision_profile_devices_each(sqlite3 *db, const char *name, int64_t limit,
                                   int (*cb)(void *arg, const struct provision_device *d),
                                   void *arg);
/* The audit text of a device (JSON object, compact). */
void provision_device_describe(const struct provision_device *d, char *out, size_t cap);

/* ---- where phones were seen from ---- */

#define PROVISION_ADDR_MAX 46 /* INET6_ADDRSTRLEN: the text of an address */

/* A device's config file was asked for from addr ("10.1.2.3", "2001:db8::5")
 * at time at. */
struct provision_seen {
    char mac[SETTINGS_MAC_LEN + 1];
    char addr[PROVISION_ADDR_MAX];
    int64_t at;
};

/* Records each row in one transaction that leaves the generation alone (no
 * snapshot reads it; no audit): a device's row changes only when its
 * address did, and rows of devices that no longer exist are skipped. 0 or a
 * negative db_result. */
int provision_seen_record(sqlite3 *db, const struct provision_seen *rows, size_t n);
/* The address mac's config was last asked from and since when; DB_NOT_FOUND
 * when never. */
int provision_seen_get(sqlite3 *db, const char *mac, struct provision_seen *out);

/* ---- site rules ---- */

/* site as settings_cidr_parse made it, with load_server set. DB_CONFLICT
 * when the prefix exists. */
int provision_site_add(sqlite3 *db, const char *actor, const struct settings_site *site);
int provision_sites_each(sqlite3 *db, int (*cb)(void *arg, const struct settings_site *s),
                         void *arg);
/* By prefix (parsed and canonical); DB_NOT_FOUND. */
/* The stored rule whose prefix is site's, into out; DB_NOT_FOUND. */
int provision_site_find(sqlite3 *db, const struct settings_site *site, struct settings_site *out);
/* Changes the rule whose prefix is old's to site (prefix, load server and
 * name), audited as site.set with both as JSON. DB_NOT_FOUND, DB_CONFLICT
 * (site's prefix is another rule's). */
int provision_site_update(sqlite3 *db, const char *actor, const struct settings_site *old,
                          const struct settings_site *site);
int provision_site_remove(sqlite3 *db, const char *actor, const struct settings_site *site);

/* ---- the catalog's side ---- */

/* 1 when a model default or a device names the load (any case), with why
 * ("default of Cisco 7961 and 12 devices"); 0 when not; or a negative
 * db_result. */
int provision_load_in_use(sqlite3 *db, const char *load, char *why, size_t cap);

/* A load imported from an upstream (its import's source begins "upstream "),
 * as the upstream disk quota sees it. */
struct provision_pulled {
    char name[SETTINGS_VALUE_MAX];
    uint64_t size;  /* its files' bytes */
    int64_t at;     /* when a phone last asked for it, else when it was
                       imported (the later): the quota's recency */
    bool protected; /* see provision_load_protected */
};
/* Every such load, used (or imported) longest ago first (*out malloc'd, NULL when n
 * is 0). 0 or a negative db_result. */
int provision_pulled_loads(sqlite3 *db, struct provision_pulled **out, size_t *n);
/* 1 when a model default, a device's own load or the last load a device
 * was given names load (any case); 0 when none; or a negative db_result. */
int provision_load_protected(sqlite3 *db, const char *load);

#endif
