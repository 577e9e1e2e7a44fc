/* views.h: the documents the admin API and `loadsctl --json` both print that
 * need more than one row: models with their default load's status, profiles
 * with their device count and template, the enterprise settings with the
 * signature policy, a load with its files and users, and what one phone gets
 * (its effective settings and config file). Reads through db/ and
 * builds with *_json.h; never writes, never runs SQL of its own. */
#ifndef LOADSD_VIEWS_H
#define LOADSD_VIEWS_H

#include <jansson.h>
#include <sqlite3.h>

#include "db/catalog.h"
#include "db/fleet.h"
#include "db/provision.h"
#include "server/cnf/cnf.h"

/* Each: DB_OK with *out a new reference, or a negative db_result and *out
 * NULL. */

/* [provision_model_json...] */
int view_models(sqlite3 *db, json_t **out);
/* [provision_profile_json...] */
int view_profiles(sqlite3 *db, json_t **out);
/* One profile, named without regard to case: DB_NOT_FOUND when none; with
 * "members": its devices in MAC order, the first VIEW_PROFILE_MEMBERS of
 * them ("devices" counts them all). */
#define VIEW_PROFILE_MEMBERS 1000
int view_profile(sqlite3 *db, const char *name, json_t **out);
/* provision_enterprise_json */
int view_enterprise(sqlite3 *db, json_t **out);
/* catalog_load_json with "file_list" (catalog_file_json...) and "used_by"
 * (null when it cannot be read): {"models": [names whose default it is],
 * "devices": [{"mac", "via"} for the first VIEW_LOAD_USERS_LISTED devices
 * that resolve to it], "devices_total", "counts": {"device",
 * "model_default", "held_back"}, "off_default": [{"mac", "model", "runs",
 * "via"} for the first VIEW_LOAD_USERS_LISTED devices whose model's default
 * it is but that run another load], "off_default_total"}; via is "device"
 * (assigned), "model_default" or "held_back" (its own load is not servable;
 * held on this one). */
#define VIEW_LOAD_USERS_LISTED 1000
int view_load(sqlite3 *db, const struct catalog_load *l, json_t **out);
/* {load name: {"devices": devices whose config names it, "off_default":
 * devices whose model's default it is that run another}} over every
 * device; loads nobody runs or defaults to are absent. */
int view_loads_usage(sqlite3 *db, json_t **out);

/* ---- what one phone gets ---- */

/* A device as its phone gets it: resolved for an address (the one given,
 * else the one its config was last asked from, else none: what a phone
 * outside every site rule gets), from one snapshot and the fleet view (the
 * gate at the time of opening; hosts the daemon probed are not in the
 * database's view), with the config file loadsd would serve it (the same
 * renderer). */
struct view_phone {
    struct settings_snapshot *snap;
    struct fleet_view *fleet; /* the database's fleet view, gated at the time of opening */
    struct settings_effective eff;
    struct cnf_buf config;
    int rendered; /* CNF_OK, or CNF_INVALID when the template fails its check */
    struct sockaddr_storage addr;
    const char *source;         /* "given", "last_request", or NULL: no address */
    struct provision_seen seen; /* the last request's address and time, when known */
};

/* from: NULL for the last request's address, "none" for no address, or an
 * address. DB_OK; VIEW_BAD_ADDRESS when from is not one; DB_NOT_FOUND for
 * an unknown device; or a negative db_result. Close it in every case. */
#define VIEW_BAD_ADDRESS (-100)
int view_phone_open(sqlite3 *db, const char *mac, const char *from, struct view_phone *out);
void view_phone_close(struct view_phone *p);
/* settings_effective_json with "from": {"address", "source", "seen_address",
 * "seen_at"} (address null when none). */
json_t *view_phone_json(const struct view_phone *p);
/* "as the phone at 10.1.2.3 gets it (its last request, 2026-12-01 10:00 UTC)"
 * for text output. */
void view_phone_describe(const struct view_phone *p, char *out, size_t cap);

#endif
