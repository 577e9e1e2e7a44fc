/* probe_json.h: the JSON shape of the load-server probe's results, the one
 * shape GET /api/v1/probes and `loadsctl probe list|show --json` print
 * (docs/API.md). Reads the probes table; writes nothing. */
#ifndef LOADSD_PROBE_JSON_H
#define LOADSD_PROBE_JSON_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

/* {"enabled": bool, "max_age_s": N, "hosts": [{"host", "loads_complete",
 * "loads_incomplete", "probed_at", "fresh", "loads": [{"load", "state",
 * "files_have", "files_total", "probed_at", "fresh", "why"}]}]}: every
 * probed host (host NULL) or one (any case); fresh: probed at most
 * max_age_s before now (the host: its oldest load). 0 with *out set, or a
 * negative db_result. */
int probe_json_hosts(sqlite3 *db, const char *host, int64_t now, json_t **out);

#endif
