/* pull.h: pull-through from the upstream: a phone's request for a load this
 * branch lacks starts one verified fetch of the whole load, then an import. */
#ifndef LOADSD_UPSTREAM_PULL_H
#define LOADSD_UPSTREAM_PULL_H

#include <stdint.h>

#include "server/resolve/resolver.h"

#define PULL_WORKERS_MAX 16
#define PULL_LOADS_MAX   256 /* loads remembered (in flight, failed, absent) */

struct pull_params {
    const char *upstream; /* normalised base URL (upstream_url_normalize) */
    const char *data_dir;
    unsigned workers; /* loads fetched at once, 1..PULL_WORKERS_MAX */
    unsigned hold_ms; /* a client's request for a load being pulled goes
                         unanswered this long from its first try (0: never) */
};

struct pull_engine;

/* Starts the workers (idle until a request misses). 0, or -1 (logged). */
int pull_engine_start(const struct pull_params *p, struct pull_engine **out);

/* Stops the fetches in flight (their files stay for a resume) and frees. */
void pull_engine_stop(struct pull_engine *e);

/* Adds the engine to r as its last source: a request no earlier source has.
 * NAME.loads starts (or joins) a pull of load NAME and answers
 * RESOLVER_PENDING until that load is imported, verified and served by the
 * catalog (RESOLVER_HOLD instead for hold_ms from a client's first try: a
 * TFTP client's resends are then served as soon as the load is there); a
 * name of a load being pulled answers the same; a
 * load the upstream lacks or does not serve answers RESOLVER_NOT_FOUND (and
 * is asked again after a while). The engine must outlive r. */
int pull_engine_attach(struct pull_engine *e, struct resolver *r);

#endif
