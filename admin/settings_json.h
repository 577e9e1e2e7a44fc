/* settings_json.h: the JSON shape of a device's effective settings and of a
 * device whose load is held back, the one shape the API and `loadsctl
 * --json` print. Builds values only; no I/O, no database. */
#ifndef LOADSD_SETTINGS_JSON_H
#define LOADSD_SETTINGS_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "db/model/settings.h"

/* {"mac","model","pfs_capable","profile","settings":{"peer_firmware_sharing":
 * {"value","level"},"load_server":{"value","level","site"?},"load":{"value",
 * "level","state","served","held_back"?}},"warnings":[...],
 * "load_server_gate":settings_gate_json,"stage_first":bool} */
json_t *settings_effective_json(const struct settings_effective *e);
/* {"state": "ok"|"no_branch"|..., "sends": HOST or "", "why": TEXT}
 * (docs/FLEET.md). */
json_t *settings_gate_json(const struct settings_gate *g);

/* True when the device's own load is not what its config names (missing,
 * quarantined or blocked): a problem to list. */
bool settings_load_problem(const struct settings_effective *e);

/* {"mac","model","load","level","problem","served","held_back"} */
json_t *settings_problem_json(const struct settings_effective *e);

#endif
