/* pull.h: pull-through from the upstream: a phone's request for a load this
 * branch lacks, or a stage request ahead of time, starts one verified fetch
 * of the whole load, then an import; with progress for the page and loadsctl.
 * The upstream is another loadsd (http(s)://: a manifest, blobs by hash) or
 * any TFTP server (tftp://: the .loads file, then its files by name). */
#ifndef LOADSD_UPSTREAM_PULL_H
#define LOADSD_UPSTREAM_PULL_H

#include <stdbool.h>
#include <stdint.h>

#include "server/resolve/resolver.h"
#include "server/upstream/window.h"

#define PULL_WORKERS_MAX 16
#define PULL_LOADS_MAX   256 /* loads remembered (in flight, failed, absent) */

struct pull_params {
    const char *upstream; /* normalised base URL (upstream_url_normalize) */
    const char *data_dir;
    unsigned workers;           /* loads fetched at once, 1..PULL_WORKERS_MAX */
    unsigned hold_ms;           /* a client's request for a load being pulled goes
                                   unanswered this long from its first try (0: never) */
    uint64_t stage_rate;        /* bytes/s a staged pull receives at most; 0: no cap */
    struct stage_window window; /* when staged pulls may start; unset: any time */
    unsigned quota_mb; /* pulled loads kept at most, in MB (pull_quota_enforce); 0: no quota */
    /* A tftp:// upstream: what each transfer asks for (0: the defaults,
     * 1468 and 16; 512 and 1: lock-step as RFC 1350, no option asked). */
    unsigned tftp_blksize, tftp_windowsize;
};

#define PULL_WHY_MAX 256

/* One load of the table as it stands (a copy: no lock held by the reader). */
struct pull_entry {
    char name[RESOLVER_NAME_MAX + 1];
    const char *state;      /* "queued", "running", "done", "failed" or "absent" (static text) */
    bool staged;            /* asked for ahead of time; false once a phone waits for it */
    char why[PULL_WHY_MAX]; /* why it waits, or the last failure; "" otherwise */
    unsigned files_done, files_total;
    uint64_t bytes_done, bytes_total; /* of the load's files in place (resumed ones too) */
    uint64_t bytes_got;               /* received from the upstream by this run */
    int64_t started, finished;        /* Unix times of the last run; 0: none, or running */
    uint64_t rate;                    /* bytes/s received over the run so far */
    int64_t eta_s;                    /* seconds left at that rate; -1 unknown */
};

typedef void (*pull_progress_fn)(void *arg, const struct pull_entry *now);

struct pull_engine;

/* A name a load may have here: 1..RESOLVER_NAME_MAX - 6 bytes of
 * [A-Za-z0-9._-], not starting with '.'. */
bool pull_load_name_ok(const char *load);

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

/* Queues a pull of load ahead of time (no phone waiting): the same table
 * entry a phone's request uses, so a request during staging joins it (and
 * lifts the stage rate cap and window from then on). A staged pull starts
 * only inside the stage window, one staged pull at a time, and receives at
 * most stage_rate bytes/s. A load queued or running already is left as it
 * is. 0, or -1 with a reason in err (a bad name, the table full). */
int pull_engine_stage(struct pull_engine *e, const char *load, char *err, size_t cap);

/* A copy of every entry (*out malloc'd, n entries; NULL and 0 when none),
 * or of one: 0, or -1 (out of memory; no such load). */
int pull_engine_list(struct pull_engine *e, struct pull_entry **out, size_t *n);
int pull_engine_entry(struct pull_engine *e, const char *load, struct pull_entry *out);

/* The settings it runs with. */
const char *pull_engine_upstream(const struct pull_engine *e);
uint64_t pull_engine_stage_rate(const struct pull_engine *e);
struct stage_window pull_engine_window(const struct pull_engine *e);

/* One staged pull of load, in the calling thread, with no engine running
 * (loadsctl stage): the same fetch, check and import. progress (may be
 * NULL) is called as bytes arrive. 0 when imported, else -1; out (may be
 * NULL) holds the end state, its why and figures either way. */
struct pull_once {
    const char *upstream; /* normalised base URL */
    const char *data_dir;
    uint64_t rate;                          /* bytes/s at most; 0: no cap */
    unsigned quota_mb;                      /* as pull_params */
    unsigned tftp_blksize, tftp_windowsize; /* as pull_params */
    pull_progress_fn progress;
    void *arg;
};
int pull_load_once(const struct pull_once *p, const char *load, struct pull_entry *out);

#endif
