/* fleet.h: the rows of fleet control (docs/FLEET.md): branches (name,
 * address, the SHA-256 of their token, their latest report) and what each
 * holds; reading the fleet view. Prepared statements only; writes audit
 * themselves and move the fleet generation, never the provisioning one. */
#ifndef LOADSD_DB_FLEET_H
#define LOADSD_DB_FLEET_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "db/model/fleet.h"
#include "db/model/settings.h"

#define FLEET_TOKEN_HASH_LEN 64   /* lower-case hex SHA-256 */
#define FLEET_LOADS_MAX      4096 /* holdings in one report */

/* A branch as listings show it. */
struct fleet_branch {
    char name[SETTINGS_NAME_MAX];
    char address[SETTINGS_VALUE_MAX];
    int64_t created_at;
    int64_t received_at; /* the central's clock; 0 = never reported */
    char version[FLEET_VERSION_MAX];
    uint64_t free_bytes;
    int64_t reported_time;   /* the branch's own clock */
    unsigned loads_complete; /* holdings complete */
    unsigned loads_total;    /* holdings */
};

/* A branch's report as the central stores it. */
struct fleet_report {
    char version[FLEET_VERSION_MAX];
    int64_t time; /* the branch's clock */
    uint64_t free_bytes;
    const struct fleet_holding *loads; /* any order; names unique (any case) */
    size_t n_loads;
};

/* ---- branches (the caller holds the write transaction: db_begin, then
 * db_commit or db_commit_untracked; each write moves the fleet
 * generation itself) ---- */

/* name: settings_name_valid; address: settings_host_valid; token_hash:
 * FLEET_TOKEN_HASH_LEN lower-case hex digits (the caller makes the token).
 * DB_CONFLICT when the name (any case) or the hash exists; DB_ERROR for a
 * value that breaks the rules. Audited "branch.add". */
int fleet_branch_add(sqlite3 *db, const char *actor, const char *name, const char *address,
                     const char *token_hash);
/* Removes the branch (any case) and its holdings: its token stops working.
 * DB_NOT_FOUND. Audited "branch.remove". */
int fleet_branch_remove(sqlite3 *db, const char *actor, const char *name);
/* What phones are told for the branch (any case) from now on: address is
 * settings_host_valid, else DB_ERROR. DB_NOT_FOUND. Audited
 * "branch.address" (nothing when it is the same). */
int fleet_branch_set_address(sqlite3 *db, const char *actor, const char *name, const char *address);

/* ---- reads ---- */

/* Every branch by name. cb returns 0 to go on. */
int fleet_branches_each(sqlite3 *db, int (*cb)(void *arg, const struct fleet_branch *b), void *arg);
/* By name (any case): 0 or DB_NOT_FOUND. */
int fleet_branch_get(sqlite3 *db, const char *name, struct fleet_branch *out);
/* The branch whose token hashes to token_hash: 0 or DB_NOT_FOUND. */
int fleet_branch_by_token(sqlite3 *db, const char *token_hash, struct fleet_branch *out);
/* Whether a branch is named name (any case): 1, 0, or a negative db_result. */
int fleet_branch_exists(sqlite3 *db, const char *name);
/* How many branches are registered. DB_OK or an error. */
int fleet_branch_count(sqlite3 *db, size_t *n);

/* For a load_server value about to be written: 0 when it names no branch
 * or a registered one; DB_NOT_FOUND with why (for people) when
 * "branch:NAME" names none; or a negative db_result. */
int fleet_load_server_check(sqlite3 *db, const char *value, char *why, size_t cap);

/* ---- reports ---- */

/* Stores branch's report received at now (the central's clock), in one
 * transaction of its own: received_at, version, free space and time always;
 * the holdings replaced as a whole when they differ from the stored ones
 * (and an audit row "branch.holdings" written when a load came, went or
 * changed state). The fleet generation moves with every report: the
 * daemon's view must see the new received_at, or a branch that keeps
 * reporting the same holdings would look stale there after
 * fleet_max_age_s (the rebuild is cheap; the provisioning generation never
 * moves). *changed (may be
 * NULL) says whether the holdings changed. DB_NOT_FOUND (no such branch),
 * DB_CONFLICT (a load name twice, or a value out of range: nothing
 * stored), or 0. */
int fleet_report_store(sqlite3 *db, const char *branch, const struct fleet_report *r, int64_t now,
                       bool *changed);

/* ---- the view ---- */

/* Every branch with its holdings, sorted, at the fleet generation (one read
 * transaction). Free with fleet_view_free. 0 or a negative db_result. */
int fleet_view_load(sqlite3 *db, struct fleet_view **out);

/* ---- what a holder must hold ---- */

/* Every device's last-seen address (fleet_seen, sorted by MAC; rows whose
 * address does not parse are left out). *out malloc'd (NULL when n is 0).
 * 0 or a negative db_result. */
int fleet_seen_load(sqlite3 *db, struct fleet_seen **out, size_t *n);
/* The want list of the holder (kind, name) from the current provisioning
 * snapshot and last-seen addresses, in one read transaction (fleet_want_of).
 * Free with fleet_want_free. 0 or a negative db_result. */
int fleet_want_load(sqlite3 *db, enum fleet_kind kind, const char *name, struct fleet_want *out);

#endif
