/* fleet.h: the fleet view (docs/FLEET.md): every holder the central knows
 * the contents of (a branch that reports, a host that was probed) with what
 * it holds, and the rules over it. Pure: no database, no sockets, no clock
 * (callers pass `now`); db/fleet.c reads a view, the probe adds to one. */
#ifndef LOADSD_FLEET_H
#define LOADSD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "db/model/settings.h"

#define FLEET_VERSION_MAX 64                  /* a branch's version text, NUL included */
#define FLEET_ETA_UNKNOWN (-1)                /* eta_s when the holder does not know */
#define FLEET_COUNT_MAX   (UINT64_C(1) << 53) /* counts in a report: 0..2^53 */

enum fleet_kind {
    FLEET_KIND_BRANCH, /* a loadsd that reports with its token */
    FLEET_KIND_PROBED, /* a plain TFTP server the central probed */
};

/* A holding's state, in the words of docs/FLEET.md. */
enum fleet_state {
    FLEET_COMPLETE,    /* every file present, intact, allowed */
    FLEET_STAGING,     /* being fetched */
    FLEET_INCOMPLETE,  /* files missing, nothing fetching */
    FLEET_QUARANTINED, /* a file failed its hash */
    FLEET_BLOCKED,     /* the holder's signature policy does not serve it */
};

/* One load at a holder. */
struct fleet_holding {
    char load[SETTINGS_VALUE_MAX];
    enum fleet_state state;
    uint64_t files_have, files_total;
    uint64_t bytes_have, bytes_total;
    int64_t eta_s; /* seconds, or FLEET_ETA_UNKNOWN */
};

/* A load server whose contents are known. name: a branch's name, or the
 * probed host as load_server values name it (also its address). */
struct fleet_holder {
    enum fleet_kind kind;
    char name[SETTINGS_VALUE_MAX];
    char address[SETTINGS_VALUE_MAX]; /* what phones are told */
    int64_t received_at;              /* the central's clock; 0 = never */
    /* Branches only (zero for probed hosts): the latest report's own. */
    char version[FLEET_VERSION_MAX];
    uint64_t free_bytes;
    int64_t reported_time;          /* the branch's clock, shown, never trusted */
    struct fleet_holding *holdings; /* sorted by load, ASCII case-insensitive */
    size_t n_holdings;
};

/* Every holder, sorted by kind then name (ASCII case-insensitive), and the
 * generation of the database's fleet rows it was read at. */
struct fleet_view {
    int64_t generation;
    struct fleet_holder *holders;
    size_t n_holders;
};

/* "complete", "staging", ... and back (exact, lower case). 0 or -1. */
const char *fleet_state_name(enum fleet_state st);
int fleet_state_parse(const char *text, enum fleet_state *out);

/* Sorts the holders and each one's holdings (after building or adding). */
void fleet_view_sort(struct fleet_view *v);
/* Appends a deep copy of h (unsorted until fleet_view_sort). 0 or -1 (no
 * memory; v unchanged). */
int fleet_view_add(struct fleet_view *v, const struct fleet_holder *h);
/* Whether a and b (sorted) name the same holders at the same addresses with
 * the same holdings, whatever their times: a rebuild that changed only
 * freshness. False when either is NULL. */
bool fleet_view_same_holdings(const struct fleet_view *a, const struct fleet_view *b);
/* Frees the holders, their holdings and v (NULL is fine). */
void fleet_view_free(struct fleet_view *v);

/* The holder of kind named name (any case), or NULL; v may be NULL. */
const struct fleet_holder *fleet_find(const struct fleet_view *v, enum fleet_kind kind,
                                      const char *name);
/* The branch named name, or NULL. */
const struct fleet_holder *fleet_find_branch(const struct fleet_view *v, const char *name);
/* The probed host (as a load_server value names it), or NULL. */
const struct fleet_holder *fleet_find_host(const struct fleet_view *v, const char *host);
/* h's holding of load (any case), or NULL. */
const struct fleet_holding *fleet_find_holding(const struct fleet_holder *h, const char *load);
/* Whether h's latest report or probe is at most max_age_s old at now. */
bool fleet_fresh(const struct fleet_holder *h, int64_t now, int64_t max_age_s);
/* Loads complete at h. */
size_t fleet_complete_count(const struct fleet_holder *h);

/* Percent done of a holding (bytes, else files), 0..100: rounded to the
 * nearest, 100 only when all is there. */
unsigned fleet_percent(const struct fleet_holding *x);
/* A duration for people: "40 s", "12 min", "3 h", "2 d". */
void fleet_duration_text(int64_t seconds, char *out, size_t cap);

/* ---- the gate ---- */

/* settings_resolve, then the gate (docs/FLEET.md) over its load server with
 * the holders of fleet (NULL: none known) at now: load_server_gate says what
 * loadServer names and why; with stage_first, a load the branch does not
 * hold yet is held back (served, held_back). 0, or -1 for an unknown MAC. */
int fleet_resolve(const struct settings_snapshot *s, const struct fleet_view *fleet, int64_t now,
                  const char *mac, const struct sockaddr *from, struct settings_effective *out);

/* ---- the want list ---- */

/* Where a device's config was last asked from (sorted by mac). */
struct fleet_seen {
    char mac[SETTINGS_MAC_LEN + 1];
    struct sockaddr_storage addr;
};

/* The row of mac in seen (sorted by mac), or NULL. */
const struct fleet_seen *fleet_seen_find(const struct fleet_seen *seen, size_t n, const char *mac);

/* Load names, sorted (ASCII case-insensitive) and unique. */
struct fleet_want {
    char (*loads)[SETTINGS_VALUE_MAX];
    size_t n;
};

/* The effective (target) loads of every device of s whose effective load
 * server is the holder (kind, name): "branch:NAME" for a branch, the host
 * for a probed one; site rules matched against each device's address in
 * seen (by MAC; a device not there matches none). 0 or -1 (no memory). */
int fleet_want_of(const struct settings_snapshot *s, const struct fleet_seen *seen, size_t n_seen,
                  enum fleet_kind kind, const char *name, struct fleet_want *out);
void fleet_want_free(struct fleet_want *w);

/* How often each of n_branches branches should ask whether its want list
 * moved, in seconds: FLEET_WANT_POLL_MIN_S, stretched so that all of them
 * together ask at most FLEET_WANT_POLLS_PER_S_MAX times a second (the
 * central's cost stays flat however many branches it has), never above
 * every_s (the report schedule, which tells the list anyway). */
#define FLEET_WANT_POLL_MIN_S      5
#define FLEET_WANT_POLLS_PER_S_MAX 100
unsigned fleet_want_poll_s(size_t n_branches, unsigned every_s);

/* Every holder's want list from one pass over the devices (a central with
 * 1,000 branches answers each report from it instead of resolving every
 * device per report). */
struct fleet_want_entry {
    enum fleet_kind kind;
    char name[SETTINGS_VALUE_MAX]; /* the branch's name, or the host */
    struct fleet_want want;        /* the targets */
    size_t cap;
    struct fleet_want named; /* loads its configs name now that are not a
                              * target (a held-back load's last servable);
                              * what the gate of a probed host asks about */
    size_t named_cap;
};
struct fleet_want_index {
    struct fleet_want_entry *v; /* sorted by kind, then name (ASCII, any case) */
    size_t n, cap;
};
/* 0, or -1 (no memory; out empty). */
int fleet_want_index_build(const struct settings_snapshot *s, const struct fleet_seen *seen,
                           size_t n_seen, struct fleet_want_index *out);
/* A copy of the holder's list (empty when it wants nothing). 0 or -1. */
int fleet_want_index_get(const struct fleet_want_index *x, enum fleet_kind kind, const char *name,
                         struct fleet_want *out);
void fleet_want_index_free(struct fleet_want_index *x);

#endif
