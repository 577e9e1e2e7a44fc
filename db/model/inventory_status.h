/* inventory_status.h: where each phone of the firmware inventory stands
 * (on its target load, pending, stuck) and the counts per site and model.
 * Pure: no I/O, no clock (time is passed in), no database. */
#ifndef LOADSD_INVENTORY_STATUS_H
#define LOADSD_INVENTORY_STATUS_H

#include <stddef.h>
#include <stdint.h>

#define INVENTORY_LOAD_MAX     256  /* a load name, NUL included */
#define INVENTORY_ADDR_MAX     46   /* INET6_ADDRSTRLEN: the text of an address */
#define INVENTORY_STUCK_S      1800 /* a load started this long ago and not finished: stuck */
#define INVENTORY_SETTLE_MAX_S 60   /* a phone fetches a new load within this of its config */

/* One phone's row. Times are Unix seconds; 0 = never. */
struct inventory_row {
    char mac[13];
    char addr[INVENTORY_ADDR_MAX];
    int64_t config_at;
    char config_load[INVENTORY_LOAD_MAX]; /* what its last config named; "" = none */
    char fw_load[INVENTORY_LOAD_MAX];     /* the last load it fetched files of; "" = none */
    unsigned files_done, files_total;     /* of fw_load: distinct files finished, all of them */
    int64_t fw_first, fw_last;            /* its first and last file of fw_load */
    char source[64];                      /* "central" or the branch that served it */
};

enum inventory_state {
    INVENTORY_NO_TARGET, /* its config names no load */
    INVENTORY_ON_TARGET, /* it fetched all of the load its config names, or needed none */
    INVENTORY_PENDING,   /* it has yet to fetch (all of) it */
    INVENTORY_STUCK,     /* it started the load over stuck_s ago and never finished */
};

/* Where a phone stands at now. On target: the last config named load L and
 * the phone fetched all of L; or it fetched no file of another load since
 * and the config is older than the settle time (min(stuck_s,
 * INVENTORY_SETTLE_MAX_S)): a phone whose load differs starts fetching at
 * once, so it runs L already. Stuck: it started fetching the named load
 * (or, named nothing newer, any load) over stuck_s ago and has not finished. */
enum inventory_state inventory_state_of(const struct inventory_row *r, int64_t now,
                                        int64_t stuck_s);
const char *inventory_state_name(enum inventory_state s); /* "on_target", ... */

struct inventory_count {
    const char *key; /* the site's or model's name (points into the caller's strings) */
    unsigned on_target, pending, stuck, no_target;
};

/* Adds one phone in state s to the count keyed key in counts (n of them,
 * at most cap; a new key is appended while there is room). 0, or -1 when a
 * new key finds no room. */
int inventory_count_add(struct inventory_count *counts, size_t *n, size_t cap, const char *key,
                        enum inventory_state s);

#endif
