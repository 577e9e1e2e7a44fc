/* noise.h: the line budget for what a flood repeats (refusals, transfers
 * never answered): a few lines per window, then one summary with the totals.
 * Never decides what is refused or ended, never reads the clock itself. */
#ifndef LOADSD_TFTP_NOISE_H
#define LOADSD_TFTP_NOISE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/log.h"
#include "server/tftp/admission.h"

#define NOISE_WINDOW_MS 10000 /* lines per window, then a summary */
#define NOISE_BURST     10

/* Shared by all workers. */
struct noise {
    pthread_mutex_t lock;
    struct log_ratelimit limit;
    atomic_uint_fast64_t due; /* when the pending summary is due; 0 = none */
    struct admission *totals; /* what the summary reports */
};

void noise_init(struct noise *n, struct admission *totals);
void noise_fini(struct noise *n);
/* True when one more flood-prone line may be written now. */
bool noise_line_ok(struct noise *n, uint64_t now_ms);
/* From a worker loop: writes a summary that has come due. */
void noise_tick(struct noise *n, uint64_t now_ms);
/* When the next summary is due (for a worker's wait); 0 = none pending. */
uint64_t noise_due(struct noise *n);

#endif
