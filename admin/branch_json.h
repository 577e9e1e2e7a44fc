/* branch_json.h: the JSON shape of a branch and of what it holds
 * (docs/FLEET.md), the one shape the API and `loadsctl --json` print.
 * Builds values only; no I/O, no database. */
#ifndef LOADSD_BRANCH_JSON_H
#define LOADSD_BRANCH_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "db/fleet.h"
#include "db/model/fleet.h"

/* {"name", "address", "created_at", "last_report": null or {"received_at",
 * "age_s", "fresh", "version", "free_bytes", "time"}, "loads_complete",
 * "loads_total"}; fresh by max_age_s at now. */
json_t *branch_json(const struct fleet_branch *b, int64_t now, int64_t max_age_s);
/* {"name", "state", "files_have", "files_total", "bytes_have",
 * "bytes_total", "percent", "eta_s" (null: unknown)} */
json_t *branch_holding_json(const struct fleet_holding *x);
/* [branch_holding_json...] of h (NULL: []). */
json_t *branch_holdings_json(const struct fleet_holder *h);

#endif
