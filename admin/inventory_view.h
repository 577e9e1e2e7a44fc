/* inventory_view.h: the firmware inventory as the API, /metrics and loadsctl
 * show it: every phone's row with its state, site, model and load server, and
 * the counts per site, per model and per load server. One shape, built in one place. */
#ifndef LOADSD_INVENTORY_VIEW_H
#define LOADSD_INVENTORY_VIEW_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "db/model/inventory_status.h"
#include "db/model/settings.h"

#define INVENTORY_VIEW_KEYS_MAX 4096 /* sites or models counted; the rest under "(more)" */

struct settings_snapshot;

struct inventory_view {
    int64_t now, stuck_s;
    struct settings_snapshot *snap;
    struct inventory_row *rows; /* MAC order */
    enum inventory_state *states;
    const char **site, **model; /* per row: a key into site_keys or a model's name */
    char (*site_keys)[80];      /* per site rule: its name, else its prefix */
    size_t n;
    struct inventory_count *sites, *models;
    size_t n_sites, n_models;
    /* per effective load server ("branch:NAME", a host, or "(none)"), from
     * each phone's device settings and last address as a config names it */
    char (*holder_keys)[SETTINGS_VALUE_MAX];
    size_t n_holder_keys;
    struct inventory_count *holders;
    size_t n_holders;
};

/* Reads the rows and the settings (one read each) and classifies them at
 * now with stuck_s. DB_OK or a DB_ error (v left empty). */
int inventory_view_read(sqlite3 *db, int64_t now, int64_t stuck_s, struct inventory_view *v);
void inventory_view_free(struct inventory_view *v);

/* {"now","stuck_after_s","total","offset","limit","counts":{"sites":[…],
 * "models":[…],"load_servers":[…],"all":{…}},"phones":[rows
 * offset..offset+limit)]}. */
json_t *inventory_view_json(const struct inventory_view *v, uint64_t offset, uint64_t limit);

#endif
