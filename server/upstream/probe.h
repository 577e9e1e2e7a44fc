/* probe.h: the central's load-server probe (issue 15): with the enterprise
 * setting probe_load_servers on, one thread asks each plain-host load
 * server that devices are pointed at, with TFTP tsize probes, whether it
 * holds each load those devices need whole, and stores the results (db/probe.h)
 * for the gate. Rate-limited; one host at a time; never fetches a file. */
#ifndef LOADSD_UPSTREAM_PROBE_H
#define LOADSD_UPSTREAM_PROBE_H

#include <stddef.h>

#include "db/model/fleet.h"
#include "db/model/settings.h"

#define PROBE_MAX_AGE_DEFAULT_S 300 /* fleet_max_age_s when the setting is absent */

struct probe_params {
    const char *data_dir;
    unsigned rate;       /* requests per second at most, overall (resends included) */
    unsigned port;       /* the port asked: 69, another only in tests */
    unsigned timeout_ms; /* 0: PROBE_SM_TIMEOUT_MS_DEFAULT */
    unsigned tries;      /* 0: PROBE_SM_TRIES_DEFAULT */
};

/* One (host, load) a probe must answer for. */
struct probe_target {
    char host[SETTINGS_VALUE_MAX];
    char load[SETTINGS_VALUE_MAX];
};

/* The (host, load) pairs to probe, from the want index (one pass over the
 * devices, db/model/fleet.c): for every probed holder that is a plain host
 * (not "branch:NAME", not none), its devices' effective loads and the loads
 * their configs name now. Sorted by host then load, unique
 * (case-insensitive). *out malloc'd. 0 or -1 (memory). Pure. */
int probe_targets(const struct fleet_want_index *x, struct probe_target **out, size_t *n);

struct prober;

/* Starts the thread. 0 or -1. */
int prober_start(const struct probe_params *p, struct prober **out);
/* Stops it promptly (a probe in flight is abandoned) and frees it. NULL: nothing. */
void prober_stop(struct prober *pr);

#endif
