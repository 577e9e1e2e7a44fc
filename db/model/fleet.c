/* fleet.c: the fleet view's rules: holder and holding lookups, freshness,
 * progress in words. Pure: no database, no clock, no I/O; the only memory
 * it manages is a view's own (fleet_view_add, fleet_view_free). */
#include "db/model/fleet.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/grow.h"
#include "lib/sorted.h"
#include "lib/text.h"

static const char *const state_names[] = {
    [FLEET_COMPLETE] = "complete",     [FLEET_STAGING] = "staging",
    [FLEET_INCOMPLETE] = "incomplete", [FLEET_QUARANTINED] = "quarantined",
    [FLEET_BLOCKED] = "blocked",
};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *fleet_state_name(enum fleet_state st)
{
    return (unsigned)st < N_STATES ? state_names[st] : "?";
}

int fleet_state_parse(const char *text, enum fleet_state *out)
{
    for (size_t i = 0; text != NULL && i < N_STATES; i++)
        if (strcmp(text, state_names[i]) == 0) {
            *out = (enum fleet_state)i;
            return 0;
        }
    return -1;
}

/* ---- building a view ---- */

static int holder_cmp(const void *a, const void *b)
{
    const struct fleet_holder *x = a, *y = b;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcasecmp(x->name, y->name);
}

static int holding_cmp(const void *a, const void *b)
{
    return strcasecmp(((const struct fleet_holding *)a)->load,
                      ((const struct fleet_holding *)b)->load);
}

void fleet_view_sort(struct fleet_view *v)
{
    if (v->n_holders > 1)
        qsort(v->holders, v->n_holders, sizeof(*v->holders), holder_cmp);
    for (size_t i = 0; i < v->n_holders; i++)
        if (v->holders[i].n_holdings > 1)
            qsort(v->holders[i].holdings, v->holders[i].n_holdings, sizeof(*v->holders[i].holdings),
                  holding_cmp);
}

int fleet_view_add(struct fleet_view *v, const struct fleet_holder *h)
{
    struct fleet_holder *grown = realloc(v->holders, (v->n_holders + 1) * sizeof(*grown));
    struct fleet_holder *to;

    if (grown == NULL)
        return -1;
    v->holders = grown;
    to = &v->holders[v->n_holders];
    *to = *h;
    to->holdings = NULL;
    if (h->n_holdings > 0) {
        to->holdings = malloc(h->n_holdings * sizeof(*to->holdings));
        if (to->holdings == NULL)
            return -1;
        memcpy(to->holdings, h->holdings, h->n_holdings * sizeof(*to->holdings));
    }
    v->n_holders++;
    return 0;
}

void fleet_view_free(struct fleet_view *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n_holders; i++)
        free(v->holders[i].holdings);
    free(v->holders);
    free(v);
}

static bool holding_same(const struct fleet_holding *x, const struct fleet_holding *y)
{
    return strcmp(x->load, y->load) == 0 && x->state == y->state &&
           x->files_have == y->files_have && x->files_total == y->files_total &&
           x->bytes_have == y->bytes_have && x->bytes_total == y->bytes_total &&
           x->eta_s == y->eta_s;
}

static bool holder_same(const struct fleet_holder *x, const struct fleet_holder *y)
{
    if (x->kind != y->kind || strcmp(x->name, y->name) != 0 ||
        strcmp(x->address, y->address) != 0 || x->n_holdings != y->n_holdings)
        return false;
    for (size_t i = 0; i < x->n_holdings; i++)
        if (!holding_same(&x->holdings[i], &y->holdings[i]))
            return false;
    return true;
}

bool fleet_view_same_holdings(const struct fleet_view *a, const struct fleet_view *b)
{
    if (a == NULL || b == NULL || a->n_holders != b->n_holders)
        return false;
    for (size_t i = 0; i < a->n_holders; i++)
        if (!holder_same(&a->holders[i], &b->holders[i]))
            return false;
    return true;
}

/* ---- lookups ---- */

const struct fleet_holder *fleet_find(const struct fleet_view *v, enum fleet_kind kind,
                                      const char *name)
{
    struct fleet_holder key;

    if (v == NULL || v->n_holders == 0 || name == NULL)
        return NULL;
    key.kind = kind;
    snprintf(key.name, sizeof(key.name), "%s", name);
    return bsearch(&key, v->holders, v->n_holders, sizeof(key), holder_cmp);
}

const struct fleet_holder *fleet_find_branch(const struct fleet_view *v, const char *name)
{
    return fleet_find(v, FLEET_KIND_BRANCH, name);
}

const struct fleet_holder *fleet_find_host(const struct fleet_view *v, const char *host)
{
    return fleet_find(v, FLEET_KIND_PROBED, host);
}

const struct fleet_holding *fleet_find_holding(const struct fleet_holder *h, const char *load)
{
    struct fleet_holding key;

    if (h == NULL || h->n_holdings == 0 || load == NULL)
        return NULL;
    snprintf(key.load, sizeof(key.load), "%s", load);
    return bsearch(&key, h->holdings, h->n_holdings, sizeof(key), holding_cmp);
}

bool fleet_fresh(const struct fleet_holder *h, int64_t now, int64_t max_age_s)
{
    /* A report "from the future" (the clock was set back) counts as fresh:
     * received_at is the central's own clock, so only a clock step makes it. */
    return h != NULL && h->received_at > 0 && now - h->received_at <= max_age_s;
}

size_t fleet_complete_count(const struct fleet_holder *h)
{
    size_t n = 0;

    for (size_t i = 0; h != NULL && i < h->n_holdings; i++)
        n += h->holdings[i].state == FLEET_COMPLETE;
    return n;
}

/* ---- in words ---- */

static unsigned ratio_percent(uint64_t have, uint64_t total)
{
    uint64_t pct;

    if (total == 0)
        return 0;
    if (have >= total)
        return 100;
    /* Counts are at most 2^53: have * 100 fits in 64 bits. Rounded to the
     * nearest, but never 100 before the last byte. */
    pct = (have * 100 + total / 2) / total;
    return pct >= 100 ? 99 : (unsigned)pct;
}

unsigned fleet_percent(const struct fleet_holding *x)
{
    if (x->bytes_total > 0)
        return ratio_percent(x->bytes_have, x->bytes_total);
    return ratio_percent(x->files_have, x->files_total);
}

void fleet_duration_text(int64_t seconds, char *out, size_t cap)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 120)
        snprintf(out, cap, "%lld s", (long long)seconds);
    else if (seconds < 120 * 60)
        snprintf(out, cap, "%lld min", (long long)((seconds + 59) / 60));
    else if (seconds < 48 * 3600)
        snprintf(out, cap, "%lld h", (long long)(seconds / 3600));
    else
        snprintf(out, cap, "%lld d", (long long)(seconds / 86400));
}

/* ---- the gate ---- */

/* "branch berlin-1" or "load server 10.1.0.5". */
static void holder_label(const struct fleet_holder *h, char *out, size_t cap)
{
    text_format(out, cap, "%s %s", h->kind == FLEET_KIND_BRANCH ? "branch" : "load server",
                h->name);
}

static void gate_set(struct settings_gate *g, enum settings_gate_state st, const char *sends)
{
    g->state = st;
    text_format(g->sends, sizeof(g->sends), "%s", sends);
}

/* Why h does not hold load complete, in words. */
static void lacks_text(const struct fleet_holder *h, const char *load, char *out, size_t cap)
{
    const struct fleet_holding *x = fleet_find_holding(h, load);
    char who[SETTINGS_VALUE_MAX + 16], eta[32];

    holder_label(h, who, sizeof(who));
    if (x == NULL) {
        text_format(out, cap, "%s does not hold %s", who, load);
    } else if (x->state == FLEET_QUARANTINED) {
        text_format(out, cap, "%s holds %s quarantined (a file fails its hash)", who, x->load);
    } else if (x->state == FLEET_BLOCKED) {
        text_format(out, cap, "%s holds %s blocked (its signature policy does not serve it)", who,
                    x->load);
    } else {
        if (x->state != FLEET_STAGING)
            text_format(eta, sizeof(eta), "nothing fetching");
        else if (x->eta_s == FLEET_ETA_UNKNOWN)
            text_format(eta, sizeof(eta), "ETA unknown");
        else {
            char d[24];

            fleet_duration_text(x->eta_s, d, sizeof(d));
            text_format(eta, sizeof(eta), "ETA %s", d);
        }
        /* "complete" at the holder but below its own totals cannot reach here. */
        text_format(out, cap, "%s holds %llu of %llu files of %s, %u %%, %s", who,
                    (unsigned long long)x->files_have, (unsigned long long)x->files_total, x->load,
                    fleet_percent(x), eta);
    }
}

static bool holds_complete(const struct fleet_holder *h, const char *load)
{
    const struct fleet_holding *x = fleet_find_holding(h, load);

    return x != NULL && x->state == FLEET_COMPLETE;
}

/* stage_first: the target is named only once h holds it; until then the
 * device keeps its last complete load where h holds that, else none. */
static void stage_first_hold(const struct settings_snapshot *s, const struct fleet_holder *h,
                             struct settings_effective *e)
{
    const char *last = e->device->last_load;
    const struct settings_load *l = settings_find_load(s, last);

    if (last[0] != '\0' && strcasecmp(last, e->load.value) != 0 && l != NULL &&
        settings_load_state_of(s, last) == SETTINGS_LOAD_OK && holds_complete(h, last))
        text_format(e->served, sizeof(e->served), "%s", l->name);
    else
        e->served[0] = '\0';
    /* What is served now is held there (or nothing is): name the holder. */
    text_format(e->load_server_gate.sends, sizeof(e->load_server_gate.sends), "%s", h->address);
    text_format(e->held_back, sizeof(e->held_back),
                "waiting for %s %s to hold %s (stage first); the config names %s",
                h->kind == FLEET_KIND_BRANCH ? "branch" : "load server", h->name, e->load.value,
                e->served[0] ? e->served : "no load");
}

/* The gate over a fresh holder: the served load held complete, or none. */
static void gate_holdings(const struct settings_snapshot *s, const struct fleet_holder *h,
                          struct settings_effective *e)
{
    struct settings_gate *g = &e->load_server_gate;
    char who[SETTINGS_VALUE_MAX + 16];

    holder_label(h, who, sizeof(who));
    if (e->served[0] == '\0') {
        gate_set(g, SETTINGS_GATE_OK, h->address);
        text_format(g->why, sizeof(g->why), "no load named: nothing to gate at %s", who);
        return;
    }
    if (holds_complete(h, e->served)) {
        gate_set(g, SETTINGS_GATE_OK, h->address);
        text_format(g->why, sizeof(g->why), "%s holds %s complete", who, e->served);
        return;
    }
    gate_set(g, SETTINGS_GATE_LACKS_LOAD, "");
    lacks_text(h, e->served, g->why, sizeof(g->why));
    /* Only the target itself waits; a load already held back is not. */
    if (e->stage_first && strcasecmp(e->served, e->load.value) == 0)
        stage_first_hold(s, h, e);
}

static void age_text(int64_t now, const struct fleet_holder *h, int64_t max_age, char *out,
                     size_t cap)
{
    char ago[24], limit[24];

    fleet_duration_text(now - h->received_at, ago, sizeof(ago));
    fleet_duration_text(max_age, limit, sizeof(limit));
    text_format(out, cap, "%s ago (limit %s)", ago, limit);
}

static void gate_branch(const struct settings_snapshot *s, const struct fleet_view *v, int64_t now,
                        const char *name, struct settings_effective *e)
{
    const struct fleet_holder *h = fleet_find_branch(v, name);
    struct settings_gate *g = &e->load_server_gate;
    char age[64];

    if (h == NULL) {
        gate_set(g, SETTINGS_GATE_NO_BRANCH, "");
        text_format(g->why, sizeof(g->why), "branch %s is not registered", name);
    } else if (h->received_at <= 0) {
        gate_set(g, SETTINGS_GATE_NEVER_REPORTED, "");
        text_format(g->why, sizeof(g->why), "branch %s has never reported", h->name);
    } else if (!fleet_fresh(h, now, s->enterprise.fleet_max_age_s)) {
        gate_set(g, SETTINGS_GATE_STALE, "");
        age_text(now, h, s->enterprise.fleet_max_age_s, age, sizeof(age));
        text_format(g->why, sizeof(g->why), "branch %s last reported %s", h->name, age);
    } else {
        gate_holdings(s, h, e);
    }
}

/* A plain host: gated only with probe_load_servers on and fresh results. */
static void gate_host(const struct settings_snapshot *s, const struct fleet_view *v, int64_t now,
                      const char *host, struct settings_effective *e)
{
    const struct fleet_holder *h = fleet_find_host(v, host);
    struct settings_gate *g = &e->load_server_gate;
    char age[64];

    if (!s->enterprise.probe_load_servers) {
        gate_set(g, SETTINGS_GATE_NOT_GATED, host);
        text_format(g->why, sizeof(g->why),
                    "a plain host, named as configured (probe_load_servers"
                    " is off)");
    } else if (h == NULL || h->received_at <= 0) {
        gate_set(g, SETTINGS_GATE_NOT_PROBED, host);
        text_format(g->why, sizeof(g->why), "not probed yet: %s is named as configured", host);
    } else if (!fleet_fresh(h, now, s->enterprise.fleet_max_age_s)) {
        gate_set(g, SETTINGS_GATE_NOT_PROBED, host);
        age_text(now, h, s->enterprise.fleet_max_age_s, age, sizeof(age));
        text_format(g->why, sizeof(g->why),
                    "not probed yet: the last probe of %s was %s; named as configured", host, age);
    } else {
        gate_holdings(s, h, e);
    }
}

int fleet_resolve(const struct settings_snapshot *s, const struct fleet_view *fleet, int64_t now,
                  const char *mac, const struct sockaddr *from, struct settings_effective *out)
{
    const char *ls, *branch;

    if (settings_resolve(s, mac, from, out) != 0)
        return -1;
    memset(&out->load_server_gate, 0, sizeof(out->load_server_gate));
    ls = out->load_server.value;
    branch = settings_branch_name(ls);
    if (ls[0] == '\0') {
        gate_set(&out->load_server_gate, SETTINGS_GATE_NOT_GATED, "");
        text_format(out->load_server_gate.why, sizeof(out->load_server_gate.why),
                    "no load server: the phone fetches its firmware from the TFTP server");
    } else if (branch != NULL) {
        gate_branch(s, fleet, now, branch, out);
    } else {
        gate_host(s, fleet, now, ls, out);
    }
    return 0;
}

/* ---- the want list ---- */

const struct fleet_seen *fleet_seen_find(const struct fleet_seen *seen, size_t n, const char *mac)
{
    bool found;
    size_t at = sorted_find(seen, n, sizeof(*seen), offsetof(struct fleet_seen, mac), mac, &found);

    return found ? &seen[at] : NULL;
}

static int want_cmp(const void *a, const void *b)
{
    return strcasecmp(a, b);
}

static int want_push(struct fleet_want *w, size_t *cap, const char *load)
{
    if (grow_array((void **)&w->loads, cap, w->n + 1, sizeof(*w->loads), 16) != 0)
        return -1;
    snprintf(w->loads[w->n++], SETTINGS_VALUE_MAX, "%s", load);
    return 0;
}

/* Sorts and drops repeats (any case: the first spelling stays). */
static void want_unique(struct fleet_want *w)
{
    size_t k = 0;

    if (w->n > 1)
        qsort(w->loads, w->n, sizeof(*w->loads), want_cmp);
    for (size_t i = 0; i < w->n; i++)
        if (k == 0 || strcasecmp(w->loads[k - 1], w->loads[i]) != 0)
            memmove(w->loads[k++], w->loads[i], SETTINGS_VALUE_MAX);
    w->n = k;
}

/* An entry's key: (kind, name in any case). */
struct entry_key {
    enum fleet_kind kind;
    const char *name;
};

/* sorted_find_by's order of the index. */
static int entry_cmp(const void *record, const void *key)
{
    const struct fleet_want_entry *m = record;
    const struct entry_key *k = key;

    return m->kind != k->kind ? (m->kind < k->kind ? -1 : 1) : strcasecmp(m->name, k->name);
}

/* Where the entry of (kind, name) is or would go in x; *found says which. */
static size_t entry_pos(const struct fleet_want_index *x, enum fleet_kind kind, const char *name,
                        bool *found)
{
    struct entry_key k = {kind, name};

    return sorted_find_by(x->v, x->n, sizeof(*x->v), entry_cmp, &k, found);
}

/* The entry of (kind, name), added (empty) when there is none; NULL when
 * out of memory. */
static struct fleet_want_entry *entry_get(struct fleet_want_index *x, enum fleet_kind kind,
                                          const char *name)
{
    bool found;
    size_t at = entry_pos(x, kind, name, &found);

    if (found)
        return &x->v[at];
    if (sorted_insert((void **)&x->v, &x->cap, x->n, sizeof(*x->v), at, 16) != 0)
        return NULL;
    x->n++;
    x->v[at].kind = kind;
    snprintf(x->v[at].name, sizeof(x->v[at].name), "%s", name);
    return &x->v[at];
}

/* Adds load to w unless it is there (any case): a holder wants a handful
 * of loads, so a look through them beats a sort per device. */
static int list_add(struct fleet_want *w, size_t *cap, const char *load)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcasecmp(w->loads[i], load) == 0)
            return 0;
    return want_push(w, cap, load);
}

/* Device eff's target, and the load its config names when that differs. */
static int entry_add(struct fleet_want_entry *e, const struct settings_effective *eff)
{
    if (list_add(&e->want, &e->cap, eff->load.value) != 0)
        return -1;
    if (eff->served[0] == '\0' || strcasecmp(eff->served, eff->load.value) == 0)
        return 0;
    return list_add(&e->named, &e->named_cap, eff->served);
}

int fleet_want_index_build(const struct settings_snapshot *s, const struct fleet_seen *seen,
                           size_t n_seen, struct fleet_want_index *out)
{
    int rc = 0;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; rc == 0 && i < s->n_devices; i++) {
        const struct fleet_seen *at = fleet_seen_find(seen, n_seen, s->devices[i].mac);
        struct fleet_want_entry *e;
        struct settings_effective eff;
        const char *ls, *branch;

        if (settings_resolve(s, s->devices[i].mac, at ? (const struct sockaddr *)&at->addr : NULL,
                             &eff) != 0 ||
            eff.load_server.value[0] == '\0' || eff.load.value[0] == '\0')
            continue;
        ls = eff.load_server.value;
        branch = settings_branch_name(ls);
        e = branch != NULL ? entry_get(out, FLEET_KIND_BRANCH, branch)
                           : entry_get(out, FLEET_KIND_PROBED, ls);
        rc = e != NULL ? entry_add(e, &eff) : -1;
    }
    if (rc != 0) {
        fleet_want_index_free(out);
        return -1;
    }
    for (size_t i = 0; i < out->n; i++) {
        want_unique(&out->v[i].want);
        want_unique(&out->v[i].named);
    }
    return 0;
}

int fleet_want_index_get(const struct fleet_want_index *x, enum fleet_kind kind, const char *name,
                         struct fleet_want *out)
{
    bool found;
    size_t at = entry_pos(x, kind, name, &found);
    const struct fleet_want *w = found ? &x->v[at].want : NULL;

    memset(out, 0, sizeof(*out));
    if (w == NULL || w->n == 0)
        return 0;
    out->loads = malloc(w->n * sizeof(*out->loads));
    if (out->loads == NULL)
        return -1;
    memcpy(out->loads, w->loads, w->n * sizeof(*out->loads));
    out->n = w->n;
    return 0;
}

void fleet_want_index_free(struct fleet_want_index *x)
{
    for (size_t i = 0; i < x->n; i++) {
        fleet_want_free(&x->v[i].want);
        fleet_want_free(&x->v[i].named);
    }
    free(x->v);
    memset(x, 0, sizeof(*x));
}

int fleet_want_of(const struct settings_snapshot *s, const struct fleet_seen *seen, size_t n_seen,
                  enum fleet_kind kind, const char *name, struct fleet_want *out)
{
    struct fleet_want_index x;
    int rc = fleet_want_index_build(s, seen, n_seen, &x);

    memset(out, 0, sizeof(*out));
    if (rc == 0)
        rc = fleet_want_index_get(&x, kind, name, out);
    fleet_want_index_free(&x);
    return rc;
}

unsigned fleet_want_poll_s(size_t n_branches, unsigned every_s)
{
    size_t spread = (n_branches + FLEET_WANT_POLLS_PER_S_MAX - 1) / FLEET_WANT_POLLS_PER_S_MAX;
    size_t poll = spread > FLEET_WANT_POLL_MIN_S ? spread : FLEET_WANT_POLL_MIN_S;

    return poll < every_s ? (unsigned)poll : every_s;
}

void fleet_want_free(struct fleet_want *w)
{
    free(w->loads);
    w->loads = NULL;
    w->n = 0;
}
