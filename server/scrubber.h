/* scrubber.h: loadsd's background integrity check: a thread that re-hashes
 * every stored file at a set interval, throttled, quarantining what changed.
 * The checking itself is server/firmware/scrub.c; this only schedules it. */
#ifndef LOADSD_SCRUBBER_H
#define LOADSD_SCRUBBER_H

#include <stdint.h>

#define SCRUBBER_RECHECK_MAX 32 /* blobs waiting for a re-check; more are dropped */
struct scrubber;

/* Starts the thread (interval_s 0: never runs on its own). 0 or -1. */
int scrubber_start(const char *data_dir, unsigned interval_s, uint64_t rate_bytes,
                   struct scrubber **out);
/* Applies a new interval and rate (SIGHUP). */
void scrubber_update(struct scrubber *s, unsigned interval_s, uint64_t rate_bytes);
/* Asks for a run now (it starts as soon as the thread is free). */
void scrubber_kick(struct scrubber *s);
/* Asks for one blob to be re-checked now (a read found it changed); it is
 * quarantined if it does not match. Never blocks on the check itself. */
void scrubber_recheck(struct scrubber *s, const char *hex);
void scrubber_stop(struct scrubber *s);

#endif
