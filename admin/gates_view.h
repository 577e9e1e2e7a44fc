/* gates_view.h: GET /api/v1/fleet/gates' one JSON shape: every device as
 * its phone gets it (devlist), the gated ones grouped by holder, outcome and
 * the gate's reason (db/model/fleet_gates). Reads only, through db/. */
#ifndef LOADSD_GATES_VIEW_H
#define LOADSD_GATES_VIEW_H

#include <jansson.h>
#include <sqlite3.h>

/* {"devices", "totals": {"holder", "central", "held_back", "not_gated"},
 * "groups": [{"kind", "holder", "address", "outcome", "state", "why",
 * "text", "devices", "examples", "filter": {"load_server", "gate"}}],
 * "groups_left_out"}. DB_OK or a negative db_result (*out NULL). */
int gates_view_read(sqlite3 *db, json_t **out);

#endif
