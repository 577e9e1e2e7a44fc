/* settings_json.c: effective settings and held-back devices as JSON, for
 * the API and loadsctl alike. Builds values only. */
#include "admin/settings_json.h"

#include <arpa/inet.h>

static json_t *value_json(const struct settings_value *v)
{
    return json_pack("{s:s, s:s}", "value", v->value, "level", settings_level_name(v->level));
}

static json_t *load_json(const struct settings_effective *e)
{
    json_t *ld = value_json(&e->load);

    if (ld == NULL)
        return NULL;
    json_object_set_new(ld, "state", json_string(settings_load_state_name(e->load_state)));
    json_object_set_new(ld, "served", json_string(e->served));
    if (e->held_back[0] != '\0')
        json_object_set_new(ld, "held_back", json_string(e->held_back));
    return ld;
}

json_t *settings_effective_json(const struct settings_effective *e)
{
    char cidr[INET6_ADDRSTRLEN + 8];
    json_t *ls = value_json(&e->load_server), *warn = json_array();

    if (e->site != NULL && ls != NULL) {
        settings_cidr_format(e->site, cidr, sizeof(cidr));
        json_object_set_new(ls, "site", json_string(cidr));
    }
    for (size_t i = 0; warn != NULL && i < e->n_warnings; i++)
        json_array_append_new(warn, json_string(e->warnings[i]));
    return json_pack("{s:s, s:s, s:b, s:s?, s:s, s:{s:o, s:o, s:o}, s:o, s:o, s:b}", "mac",
                     e->device->mac, "model", e->model ? e->model->name : "", "pfs_capable",
                     e->model ? e->model->pfs_capable : 0, "profile",
                     e->profile ? e->profile->name : NULL, "protocol",
                     e->protocol ? e->protocol : "", "settings", "peer_firmware_sharing",
                     value_json(&e->pfs), "load_server", ls, "load", load_json(e), "warnings", warn,
                     "load_server_gate", settings_gate_json(&e->load_server_gate), "stage_first",
                     e->stage_first);
}

json_t *settings_gate_json(const struct settings_gate *g)
{
    return json_pack("{s:s, s:s, s:s}", "state", settings_gate_state_name(g->state), "sends",
                     g->sends, "why", g->why);
}

bool settings_load_problem(const struct settings_effective *e)
{
    return e->load_state == SETTINGS_LOAD_MISSING || e->load_state == SETTINGS_LOAD_QUARANTINED ||
           e->load_state == SETTINGS_LOAD_BLOCKED;
}

json_t *settings_problem_json(const struct settings_effective *e)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "mac", e->device->mac, "model",
                     e->model ? e->model->name : "", "load", e->load.value, "level",
                     settings_level_name(e->load.level), "problem",
                     settings_load_state_name(e->load_state), "served", e->served, "held_back",
                     e->held_back);
}
