/* devquery.h: the devices list's filters and order over resolved devices:
 * a search (SEP name, MAC, description, model, profile, load), filters on
 * the effective model, profile, load, site, load server value and the fleet
 * gate's outcome, and a sort column. Pure: no
 * database, no allocation; the rows point into one settings snapshot. */
#ifndef LOADSD_DEVQUERY_H
#define LOADSD_DEVQUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "db/model/fleet_gates.h"
#include "db/model/settings.h"

#define DEVQUERY_TEXT_MAX 129 /* bytes of a search or filter value, NUL included */

enum devquery_column {
    DEVQUERY_MAC,
    DEVQUERY_MODEL,
    DEVQUERY_PROFILE,
    DEVQUERY_DESCRIPTION,
    DEVQUERY_LOAD,
    DEVQUERY_PFS,
    DEVQUERY_LOAD_SERVER,
    DEVQUERY_SITE,
    DEVQUERY_COLUMNS
};

/* What selects devices: every text "" = any. profile and load "none" mean
 * none; site is a canonical CIDR or "none" (no rule matches). */
struct devquery {
    char q[DEVQUERY_TEXT_MAX];
    char model[DEVQUERY_TEXT_MAX];
    char profile[DEVQUERY_TEXT_MAX];
    char load[DEVQUERY_TEXT_MAX];
    char site[DEVQUERY_TEXT_MAX];
    char load_server[DEVQUERY_TEXT_MAX]; /* the configured value (any case), or "none" */
    char gate[DEVQUERY_TEXT_MAX];        /* a fleet_outcome_name */
    enum devquery_column sort;
    bool descending;
};

/* One device as its phone gets it; every pointer into the snapshot or
 * static text, valid while the snapshot is. */
struct devquery_row {
    const struct settings_device *dev;
    const char *model, *profile; /* profile "" = none */
    const char *load, *pfs, *load_server;
    enum settings_level load_level, pfs_level, load_server_level;
    const char *served; /* what the config names ("" = none) */
    bool held_back;     /* served differs from load: its load is not servable */
    enum settings_load_state load_state;
    const struct settings_site *site; /* the matching rule, or NULL */
    const char *sends;                /* what loadServer names (fleet gate), "" = none */
    enum fleet_outcome outcome;       /* what the fleet gate made of the load server */
};

/* The filter names the query string uses, in a table (NULL-terminated):
 * "q", "model", "profile", "load", "site", "load_server", "gate". */
extern const char *const devquery_filter_names[];

/* The value of filter name (one of devquery_filter_names) in q, or NULL. */
const char *devquery_filter_get(const struct devquery *q, const char *name);
/* Sets filter name (one of devquery_filter_names) from text of len bytes:
 * at most DEVQUERY_TEXT_MAX - 1 bytes of text (text_valid); a site is
 * parsed and stored canonical. 0, or -1 with *why (static text). */
int devquery_set(struct devquery *q, const char *name, const char *text, size_t len,
                 const char **why);
/* "load" or "-load" (descending), any column name of devquery_column_name,
 * len bytes. 0, or -1 with *why. */
int devquery_sort_parse(struct devquery *q, const char *text, size_t len, const char **why);
/* "mac", "model", "profile", "description", "load", "peer_firmware_sharing",
 * "load_server", "site". */
const char *devquery_column_name(enum devquery_column c);

/* Fills row from a device's effective settings (e, fleet_resolve'd on s
 * and fleet; fleet NULL for none). */
void devquery_row_from(const struct settings_snapshot *s, const struct fleet_view *fleet,
                       const struct settings_effective *e, struct devquery_row *row);
/* Does the row pass every filter of q? */
bool devquery_match(const struct devquery *q, const struct devquery_row *row);
/* Order of two rows by q's column (then by MAC), for qsort_r. */
int devquery_cmp(const void *a, const void *b, void *q);

#endif
