/* fleet_gates.c: the fleet gate's outcome per device and the groups the
 * dashboard shows (fleet_gates.h). Pure: no database, no clock; one sorted
 * array of groups found by binary search, so 40,000 devices cost a pass. */
#include "db/model/fleet_gates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/grow.h"

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

/* The group's key against (kind, holder, outcome, state, why). */
static int key_cmp(const struct fleet_gate_group *x, enum fleet_kind kind, const char *holder,
                   enum fleet_outcome outcome, const struct settings_gate *g)
{
    int c;

    if (x->kind != kind)
        return x->kind < kind ? -1 : 1;
    if ((c = strcasecmp(x->holder, holder)) != 0)
        return c;
    if (x->outcome != outcome)
        return x->outcome < outcome ? -1 : 1;
    if (x->state != g->state)
        return x->state < g->state ? -1 : 1;
    return strcmp(x->why, g->why);
}

/* Where the group is or would go; *found says which. */
static size_t group_pos(const struct fleet_gates *gs, enum fleet_kind kind, const char *holder,
                        enum fleet_outcome outcome, const struct settings_gate *g, bool *found)
{
    size_t lo = 0, hi = gs->n;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(&gs->v[mid], kind, holder, outcome, g);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A new group at at; NULL when out of memory. */
static struct fleet_gate_group *group_insert(struct fleet_gates *gs, size_t at,
                                             enum fleet_kind kind, const char *holder,
                                             enum fleet_outcome outcome,
                                             const struct settings_gate *g)
{
    struct fleet_gate_group *x;

    if (grow_array((void **)&gs->v, &gs->cap, gs->n + 1, sizeof(*gs->v), 16) != 0)
        return NULL;
    memmove(&gs->v[at + 1], &gs->v[at], (gs->n - at) * sizeof(*gs->v));
    gs->n++;
    x = &gs->v[at];
    memset(x, 0, sizeof(*x));
    x->kind = kind;
    snprintf(x->holder, sizeof(x->holder), "%s", holder);
    x->outcome = outcome;
    x->state = g->state;
    snprintf(x->why, sizeof(x->why), "%s", g->why);
    return x;
}

int fleet_gates_add(struct fleet_gates *gs, const struct settings_effective *e)
{
    enum fleet_outcome o = fleet_outcome_of(e);
    const char *branch = settings_branch_name(e->load_server.value);
    enum fleet_kind kind = branch != NULL ? FLEET_KIND_BRANCH : FLEET_KIND_PROBED;
    const char *holder = branch != NULL ? branch : e->load_server.value;
    struct fleet_gate_group *x = NULL;
    bool found = false;
    size_t at = 0;

    if (o != FLEET_OUTCOME_NONE)
        at = group_pos(gs, kind, holder, o, &e->load_server_gate, &found);
    if (found)
        x = &gs->v[at];
    else if (o != FLEET_OUTCOME_NONE && gs->n < FLEET_GATES_MAX &&
             (x = group_insert(gs, at, kind, holder, o, &e->load_server_gate)) == NULL)
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
