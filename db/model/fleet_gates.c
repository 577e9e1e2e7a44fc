/* fleet_gates.c: the fleet gate's outcome per device and the groups the
 * dashboard shows (fleet_gates.h). Pure: no database, no clock; one sorted
 * array of groups found by binary search, so 40,000 devices cost a pass. */
#include "db/model/fleet_gates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/sorted.h"

static const char *const outcome_names[FLEET_OUTCOMES] = {"none", "holder", "central", "held_back"};

const char *fleet_outcome_name(enum fleet_outcome o)
{
    return (unsigned)o < FLEET_OUTCOMES ? outcome_names[o] : "";
}

int fleet_outcome_parse(const char *text, enum fleet_outcome *out)
{
    for (unsigned i = 0; i < FLEET_OUTCOMES; i++)
        if (strcmp(text, outcome_names[i]) == 0) {
            *out = (enum fleet_outcome)i;
            return 0;
        }
    return -1;
}

enum fleet_outcome fleet_outcome_of(const struct settings_effective *e)
{
    const struct settings_gate *g = &e->load_server_gate;

    if (g->state == SETTINGS_GATE_NOT_GATED)
        return FLEET_OUTCOME_NONE;
    /* Only stage_first names the holder while it lacks the target. */
    if (g->state == SETTINGS_GATE_LACKS_LOAD && g->sends[0] != '\0')
        return FLEET_OUTCOME_HELD_BACK;
    return g->sends[0] != '\0' ? FLEET_OUTCOME_HOLDER : FLEET_OUTCOME_CENTRAL;
}

const char *fleet_sends_of(const struct fleet_view *fleet, const struct settings_effective *e,
                           const char *configured)
{
    const char *branch = settings_branch_name(e->load_server.value);
    const struct fleet_holder *h;

    if (e->load_server_gate.sends[0] == '\0')
        return "";
    if (branch == NULL)
        return configured;
    h = fleet_find_branch(fleet, branch);
    return h != NULL ? h->address : "";
}

/* A group's key: (kind, holder in any case, outcome, state, why). */
struct group_key {
    enum fleet_kind kind;
    const char *holder;
    enum fleet_outcome outcome;
    const struct settings_gate *gate;
};

/* sorted_find_by's order of the groups. */
static int key_cmp(const void *record, const void *key)
{
    const struct fleet_gate_group *x = record;
    const struct group_key *k = key;
    int c;

    if (x->kind != k->kind)
        return x->kind < k->kind ? -1 : 1;
    if ((c = strcasecmp(x->holder, k->holder)) != 0)
        return c;
    if (x->outcome != k->outcome)
        return x->outcome < k->outcome ? -1 : 1;
    if (x->state != k->gate->state)
        return x->state < k->gate->state ? -1 : 1;
    return strcmp(x->why, k->gate->why);
}

/* A new group at at; NULL when out of memory. */
static struct fleet_gate_group *group_insert(struct fleet_gates *gs, size_t at,
                                             const struct group_key *k)
{
    struct fleet_gate_group *x;

    if (sorted_insert((void **)&gs->v, &gs->cap, gs->n, sizeof(*gs->v), at, 16) != 0)
        return NULL;
    gs->n++;
    x = &gs->v[at];
    x->kind = k->kind;
    snprintf(x->holder, sizeof(x->holder), "%s", k->holder);
    x->outcome = k->outcome;
    x->state = k->gate->state;
    snprintf(x->why, sizeof(x->why), "%s", k->gate->why);
    return x;
}

int fleet_gates_add(struct fleet_gates *gs, const struct settings_effective *e)
{
    enum fleet_outcome o = fleet_outcome_of(e);
    const char *branch = settings_branch_name(e->load_server.value);
    struct group_key k = {branch != NULL ? FLEET_KIND_BRANCH : FLEET_KIND_PROBED,
                          branch != NULL ? branch : e->load_server.value, o, &e->load_server_gate};
    struct fleet_gate_group *x = NULL;
    bool found = false;
    size_t at = 0;

    if (o != FLEET_OUTCOME_NONE)
        at = sorted_find_by(gs->v, gs->n, sizeof(*gs->v), key_cmp, &k, &found);
    if (found)
        x = &gs->v[at];
    else if (o != FLEET_OUTCOME_NONE && gs->n < FLEET_GATES_MAX &&
             (x = group_insert(gs, at, &k)) == NULL)
        return -1;
    gs->totals[o]++;
    if (o == FLEET_OUTCOME_NONE)
        return 0;
    if (x == NULL) {
        gs->left_out++; /* over FLEET_GATES_MAX groups */
        return 0;
    }
    if (x->n_examples < FLEET_GATES_EXAMPLES)
        snprintf(x->examples[x->n_examples++], sizeof(x->examples[0]), "%s", e->device->mac);
    x->devices++;
    return 0;
}

void fleet_gates_free(struct fleet_gates *gs)
{
    free(gs->v);
    memset(gs, 0, sizeof(*gs));
}
