/* gates_view.c: the fleet gates summary (gates_view.h): one pass over every
 * device resolved as its phone gets it, grouped by fleet_gates_add, then
 * one JSON document. Never writes, never runs SQL of its own. */
#include "admin/gates_view.h"

#include <stdio.h>

#include "admin/devlist.h"
#include "db/db.h"
#include "db/model/fleet_gates.h"
#include "lib/text.h"

/* "berlin-1: 12 phone(s) fetch from the central: WHY". */
static void group_text(const struct fleet_gate_group *x, char *out, size_t cap)
{
    static const char *const says[FLEET_OUTCOMES] = {"", "fetch from it", "fetch from the central",
                                                     "wait for their new load there (stage first)"};

    text_format(out, cap, "%s: %llu phone(s) %s: %s", x->holder, (unsigned long long)x->devices,
                says[x->outcome], x->why);
}

/* The load_server value the group's devices have, for the devices list's
 * filter: "branch:NAME" or the host. */
static void group_value(const struct fleet_gate_group *x, char *out, size_t cap)
{
    text_format(out, cap, "%s%s", x->kind == FLEET_KIND_BRANCH ? "branch:" : "", x->holder);
}

static json_t *group_json(const struct fleet_gate_group *x, const struct fleet_view *fleet)
{
    const struct fleet_holder *h = fleet_find(fleet, x->kind, x->holder);
    char text[4 * SETTINGS_VALUE_MAX], value[SETTINGS_VALUE_MAX + 8];
    json_t *ex = json_array();

    for (size_t i = 0; ex != NULL && i < x->n_examples; i++)
        json_array_append_new(ex, json_string(x->examples[i]));
    group_text(x, text, sizeof(text));
    group_value(x, value, sizeof(value));
    return json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:I, s:o, s:{s:s, s:s}}", "kind",
                     x->kind == FLEET_KIND_BRANCH ? "branch" : "host", "holder", x->holder,
                     "address", h != NULL ? h->address : NULL, "outcome",
                     fleet_outcome_name(x->outcome), "state", settings_gate_state_name(x->state),
                     "why", x->why, "text", text, "devices", (json_int_t)x->devices, "examples",
                     ex != NULL ? ex : json_array(), "filter", "load_server", value, "gate",
                     fleet_outcome_name(x->outcome));
}

static json_t *gates_json(const struct fleet_gates *g, const struct devlist *l)
{
    json_t *groups = json_array();

    for (size_t i = 0; groups != NULL && i < g->n; i++)
        json_array_append_new(groups, group_json(&g->v[i], l->fleet));
    return json_pack(
        "{s:I, s:{s:I, s:I, s:I, s:I}, s:o, s:I}", "devices", (json_int_t)l->snap->n_devices,
        "totals", "holder", (json_int_t)g->totals[FLEET_OUTCOME_HOLDER], "central",
        (json_int_t)g->totals[FLEET_OUTCOME_CENTRAL], "held_back",
        (json_int_t)g->totals[FLEET_OUTCOME_HELD_BACK], "not_gated",
        (json_int_t)g->totals[FLEET_OUTCOME_NONE], "groups", groups != NULL ? groups : json_array(),
        "groups_left_out", (json_int_t)g->left_out);
}

int gates_view_read(sqlite3 *db, json_t **out)
{
    struct fleet_gates g = {0};
    struct devlist l;
    int rc = devlist_read(db, &l);

    *out = NULL;
    for (size_t i = 0; rc == DB_OK && i < l.snap->n_devices; i++) {
        struct settings_effective e;

        if (devlist_resolve(&l, i, &e) == 0 && fleet_gates_add(&g, &e) != 0)
            rc = DB_ERROR;
    }
    if (rc == DB_OK && (*out = gates_json(&g, &l)) == NULL)
        rc = DB_ERROR;
    fleet_gates_free(&g);
    devlist_close(&l);
    return rc;
}
