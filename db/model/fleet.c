/* fleet.c: the fleet view's rules: holder and holding lookups, freshness,
 * progress in words. Pure: no database, no clock, no I/O; the only memory
 * it manages is a view's own (fleet_view_add, fleet_view_free). */
#include "db/model/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    if (total == 0)
        return 0;
    if (have >= total)
        return 100;
    /* Counts are at most 2^53: have * 100 fits in 64 bits. */
    return (unsigned)(have * 100 / total);
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
