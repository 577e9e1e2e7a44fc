/* ctl_inventory.c: loadsctl inventory: the firmware inventory (what each
 * phone fetched last and where it stands) with the counts per site and per
 * model, as GET /api/v1/fleet/inventory shows them. Read only. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "admin/ctl/ctl.h"
#include "admin/inventory_view.h"
#include "db/db.h"
#include "lib/conffile.h"
#include "lib/numparse.h"

#define STUCK_S_MAX 604800 /* as server/config.c's inventory-stuck-s */

/* --stuck-s N, else loadsd's config file's inventory-stuck-s, else 1800. */
static int stuck_after(const struct ctl *c, const char *given, uint64_t *out)
{
    char raw[32], err[PATH_MAX + 128];
    int rc = 0;

    *out = INVENTORY_STUCK_S;
    if (given == NULL &&
        (rc = conffile_get(c->config, "inventory-stuck-s", raw, sizeof(raw), err, sizeof(err))) < 0)
        return ctl_refuse("cannot read inventory-stuck-s from %s", err);
    if ((given != NULL || rc == 0) &&
        numparse_u64(given != NULL ? given : raw, 1, STUCK_S_MAX, out) != 0)
        return ctl_refuse("inventory-stuck-s: not a number from 1 to %d", STUCK_S_MAX);
    return CTL_OK;
}

static void counts_print(const char *title, const struct inventory_count *c, size_t n)
{
    struct ctl_table *t = ctl_table_new(5, title, "ON TARGET", "PENDING", "STUCK", "NO LOAD");

    for (size_t i = 0; i < n; i++) {
        char v[4][16];

        snprintf(v[0], sizeof(v[0]), "%u", c[i].on_target);
        snprintf(v[1], sizeof(v[1]), "%u", c[i].pending);
        snprintf(v[2], sizeof(v[2]), "%u", c[i].stuck);
        snprintf(v[3], sizeof(v[3]), "%u", c[i].no_target);
        ctl_table_row(t, c[i].key, v[0], v[1], v[2], v[3]);
    }
    ctl_table_print(t);
}

static void phones_print(const struct inventory_view *v)
{
    struct ctl_table *t =
        ctl_table_new(7, "MAC", "ADDRESS", "STATE", "CONFIG NAMES", "FETCHED", "FILES", "LAST");

    for (size_t i = 0; i < v->n; i++) {
        const struct inventory_row *r = &v->rows[i];
        char files[32], last[32];

        snprintf(files, sizeof(files), "%u/%u", r->files_done, r->files_total);
        ctl_table_row(t, r->mac, r->addr, inventory_state_name(v->states[i]),
                      r->config_load[0] ? r->config_load : "-", r->fw_load[0] ? r->fw_load : "-",
                      files, r->fw_last ? ctl_time(r->fw_last, last, sizeof(last)) : "-");
    }
    ctl_table_print(t);
}

static int cmd_inventory(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"stuck-s", required_argument, NULL, 's'}, {0}};
    const char *given = NULL;
    struct inventory_view v;
    uint64_t stuck_s;
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o != 's')
            return ctl_usage(&ctl_inventory_commands[0]);
        given = optarg;
    }
    if (optind != argc)
        return ctl_usage(&ctl_inventory_commands[0]);
    if ((rc = stuck_after(c, given, &stuck_s)) != CTL_OK)
        return rc;
    if (inventory_view_read(c->dd.db, (int64_t)time(NULL), (int64_t)stuck_s, &v) != DB_OK)
        return ctl_refuse("cannot read the firmware inventory");
    if (c->json) {
        rc = ctl_print_json(inventory_view_json(&v, 0, v.n > 0 ? v.n : 1));
    } else {
        counts_print("SITE", v.sites, v.n_sites);
        printf("\n");
        counts_print("MODEL", v.models, v.n_models);
        printf("\n");
        phones_print(&v);
        rc = CTL_OK;
    }
    inventory_view_free(&v);
    return rc;
}

const struct ctl_command ctl_inventory_commands[] = {
    {"inventory", "[--stuck-s N]", cmd_inventory},
    {NULL, NULL, NULL},
};
