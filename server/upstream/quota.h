/* quota.h: the upstream disk quota: after a pull, the loads pulled from the
 * upstream and used longest ago go until their total fits, never one in use. */
#ifndef LOADSD_UPSTREAM_QUOTA_H
#define LOADSD_UPSTREAM_QUOTA_H

#include <stdint.h>

#include "db/datadir.h"

#define PULL_QUOTA_MB_MAX 16777216u /* 16 TB */

/* When the loads imported from an upstream total more than quota_mb MB
 * (10^6 bytes; 0: no quota), removes them, used longest ago first (their
 * .loads file last served, or their import when later) until they fit: each in a transaction of its
 * own, audited as actor "upstream", its blobs released and collected when the data directory's lock
 * is free (else at the next gc). Never removes keep (the load just pulled), a load a device is
 * given or assigned, or a load imported by hand. Logs a line per removed load, and a warning when
 * what is left still does not fit. Returns how many loads it removed, or -1. */
int pull_quota_enforce(struct datadir *dd, unsigned quota_mb, const char *keep);

#endif
