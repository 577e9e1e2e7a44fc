/* fleet_gates.h: which phones the fleet gate sends to their holder, which
 * fetch from the central and which wait for a new load (stage_first), and
 * why, grouped for the dashboard (docs/FLEET.md). Pure: over devices that
 * fleet_resolve already resolved; no database, no clock. */
#ifndef LOADSD_FLEET_GATES_H
#define LOADSD_FLEET_GATES_H

#include <stddef.h>
#include <stdint.h>

#include "db/model/fleet.h"
#include "db/model/settings.h"

#define FLEET_GATES_EXAMPLES 3    /* device MACs kept per group */
#define FLEET_GATES_MAX      4096 /* groups kept; the rest only counted */

/* What the gate made of a device's load server. */
enum fleet_outcome {
    FLEET_OUTCOME_NONE,      /* not gated: no load server, or a plain host named as configured */
    FLEET_OUTCOME_HOLDER,    /* loadServer names the holder (it holds the served load) */
    FLEET_OUTCOME_CENTRAL,   /* no loadServer: the phone fetches from the central */
    FLEET_OUTCOME_HELD_BACK, /* stage_first: the new load waits until the holder has it */
    FLEET_OUTCOMES
};

/* "none", "holder", "central", "held_back" and back (exact). 0 or -1. */
const char *fleet_outcome_name(enum fleet_outcome o);
int fleet_outcome_parse(const char *text, enum fleet_outcome *out);
/* The outcome of e (fleet_resolve'd; a plain settings_resolve gives NONE). */
enum fleet_outcome fleet_outcome_of(const struct settings_effective *e);
/* What loadServer names for e, as text that lives as long as fleet and the
 * snapshot: the branch's address in fleet, the configured host (configured:
 * the load_server value as the snapshot holds it), or "". */
const char *fleet_sends_of(const struct fleet_view *fleet, const struct settings_effective *e,
                           const char *configured);

/* Devices of one holder with one outcome for one reason. */
struct fleet_gate_group {
    enum fleet_kind kind;
    char holder[SETTINGS_VALUE_MAX]; /* the branch's name, or the host */
    enum fleet_outcome outcome;
    enum settings_gate_state state;
    char why[2 * SETTINGS_VALUE_MAX]; /* the gate's words */
    uint64_t devices;
    char examples[FLEET_GATES_EXAMPLES][SETTINGS_MAC_LEN + 1]; /* the first MACs added */
    size_t n_examples;
};

/* Groups sorted by kind, holder (ASCII, any case), outcome, state, why. */
struct fleet_gates {
    struct fleet_gate_group *v;
    size_t n, cap;
    uint64_t totals[FLEET_OUTCOMES]; /* every device added, by outcome */
    uint64_t left_out;               /* gated devices in no group (over FLEET_GATES_MAX) */
};

/* Counts e (fleet_resolve'd) in its group; a device not gated only in
 * totals[FLEET_OUTCOME_NONE]. 0, or -1 (no memory; g as it was). */
int fleet_gates_add(struct fleet_gates *g, const struct settings_effective *e);
void fleet_gates_free(struct fleet_gates *g);

#endif
