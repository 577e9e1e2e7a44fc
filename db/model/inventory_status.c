/* inventory_status.c: the firmware inventory's states and counts, from rows
 * alone. Pure: no I/O, no clock, no database. */
#include "db/model/inventory_status.h"

#include <strings.h>
#include <string.h>

static int64_t settle_s(int64_t stuck_s)
{
    return stuck_s < INVENTORY_SETTLE_MAX_S ? stuck_s : INVENTORY_SETTLE_MAX_S;
}

/* The phone fetched all of its last load. */
static int fetched_all(const struct inventory_row *r)
{
    return r->fw_load[0] != '\0' && r->files_total > 0 && r->files_done >= r->files_total;
}

enum inventory_state inventory_state_of(const struct inventory_row *r, int64_t now, int64_t stuck_s)
{
    int same = r->fw_load[0] != '\0' && strcasecmp(r->fw_load, r->config_load) == 0;

    if (r->config_load[0] == '\0')
        return INVENTORY_NO_TARGET;
    if (same && fetched_all(r))
        return INVENTORY_ON_TARGET;
    if (same)
        return now - r->fw_first >= stuck_s ? INVENTORY_STUCK : INVENTORY_PENDING;
    /* Another load, not finished, fetched after the config: stuck on it. */
    if (r->fw_load[0] != '\0' && !fetched_all(r) && r->fw_last >= r->config_at &&
        now - r->fw_first >= stuck_s)
        return INVENTORY_STUCK;
    if (r->fw_last < r->config_at && now - r->config_at >= settle_s(stuck_s))
        return INVENTORY_ON_TARGET;
    return INVENTORY_PENDING;
}

const char *inventory_state_name(enum inventory_state s)
{
    switch (s) {
    case INVENTORY_ON_TARGET:
        return "on_target";
    case INVENTORY_PENDING:
        return "pending";
    case INVENTORY_STUCK:
        return "stuck";
    default:
        return "no_target";
    }
}

int inventory_count_add(struct inventory_count *counts, size_t *n, size_t cap, const char *key,
                        enum inventory_state s)
{
    struct inventory_count *c = NULL;

    for (size_t i = 0; i < *n && c == NULL; i++)
        if (strcmp(counts[i].key, key) == 0)
            c = &counts[i];
    if (c == NULL && *n >= cap)
        return -1;
    if (c == NULL) {
        c = &counts[(*n)++];
        memset(c, 0, sizeof(*c));
        c->key = key;
    }
    if (s == INVENTORY_ON_TARGET)
        c->on_target++;
    else if (s == INVENTORY_PENDING)
        c->pending++;
    else if (s == INVENTORY_STUCK)
        c->stuck++;
    else
        c->no_target++;
    return 0;
}
