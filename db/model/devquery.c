/* devquery.c: the devices list's filters and sort over resolved devices
 * (devquery.h). Pure: no database, no allocation, no I/O; every value is
 * checked against a hard length limit before it is kept. */
#include "db/model/devquery.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/text.h"

const char *const devquery_filter_names[] = {"q",    "model",       "profile", "load",
                                             "site", "load_server", "gate",    NULL};

static const char *const column_names[DEVQUERY_COLUMNS] = {
    "mac",         "model", "profile", "description", "load", "peer_firmware_sharing",
    "load_server", "site"};

const char *devquery_column_name(enum devquery_column c)
{
    return (unsigned)c < DEVQUERY_COLUMNS ? column_names[c] : "";
}

const char *devquery_filter_get(const struct devquery *q, const char *name)
{
    const char *const slots[] = {q->q,    q->model,       q->profile, q->load,
                                 q->site, q->load_server, q->gate};

    _Static_assert(sizeof(slots) / sizeof(slots[0]) ==
                       sizeof(devquery_filter_names) / sizeof(devquery_filter_names[0]) - 1,
                   "a slot per filter name");
    for (size_t i = 0; devquery_filter_names[i] != NULL; i++)
        if (strcmp(devquery_filter_names[i], name) == 0)
            return slots[i];
    return NULL;
}

static char *filter_slot(struct devquery *q, const char *name)
{
    /* The slots are q's own members: writable where q is. */
    return (char *)devquery_filter_get(q, name);
}

/* A site filter: "none", or a prefix written canonical into out. */
static int site_value(const char *text, char *out, const char **why)
{
    struct settings_site site;
    char canon[DEVQUERY_TEXT_MAX];
    bool masked;

    if (strcasecmp(text, "none") == 0) {
        snprintf(out, DEVQUERY_TEXT_MAX, "none");
        return 0;
    }
    /* Parsed aside: a refusal leaves the filter as it was. */
    if (settings_cidr_parse(text, &site, canon, sizeof(canon), &masked, why) != 0)
        return -1;
    memcpy(out, canon, sizeof(canon));
    return 0;
}

int devquery_set(struct devquery *q, const char *name, const char *text, size_t len,
                 const char **why)
{
    char *slot = filter_slot(q, name);
    char value[DEVQUERY_TEXT_MAX];

    *why = "unknown filter";
    if (slot == NULL)
        return -1;
    *why = "a filter is at most 128 bytes of UTF-8 text without control characters";
    if (len >= DEVQUERY_TEXT_MAX || !text_valid(text, len))
        return -1;
    memcpy(value, text, len);
    value[len] = '\0';
    if (slot == q->site && value[0] != '\0')
        return site_value(value, slot, why);
    if (slot == q->gate && value[0] != '\0' &&
        fleet_outcome_parse(value, &(enum fleet_outcome){0}) != 0) {
        *why = "gate is none, holder, central or held_back";
        return -1;
    }
    memcpy(slot, value, len + 1);
    return 0;
}

int devquery_sort_parse(struct devquery *q, const char *text, size_t len, const char **why)
{
    bool desc = len > 0 && text[0] == '-';
    size_t off = desc ? 1 : 0;

    *why = "sort is a column (mac, model, profile, description, load, peer_firmware_sharing,"
           " load_server, site), with a leading - for descending";
    for (unsigned c = 0; c < DEVQUERY_COLUMNS; c++)
        if (len - off == strlen(column_names[c]) &&
            memcmp(text + off, column_names[c], len - off) == 0) {
            q->sort = (enum devquery_column)c;
            q->descending = desc;
            return 0;
        }
    return -1;
}

/* ---- rows ---- */

static const char *load_server_text(const struct settings_snapshot *s,
                                    const struct settings_effective *e)
{
    switch (e->load_server.level) {
    case SETTINGS_LEVEL_DEVICE:
        return e->device->load_server.value;
    case SETTINGS_LEVEL_PROFILE:
        return e->profile->load_server.value;
    case SETTINGS_LEVEL_SITE:
        return e->site->load_server;
    case SETTINGS_LEVEL_ENTERPRISE:
        return s->enterprise.load_server;
    default:
        return "";
    }
}

static const char *load_text(const struct settings_effective *e)
{
    if (e->load.level == SETTINGS_LEVEL_DEVICE)
        return e->device->load.value;
    if (e->load.level == SETTINGS_LEVEL_MODEL && e->model != NULL)
        return e->model->default_load;
    return "";
}

void devquery_row_from(const struct settings_snapshot *s, const struct fleet_view *fleet,
                       const struct settings_effective *e, struct devquery_row *row)
{
    memset(row, 0, sizeof(*row));
    row->dev = e->device;
    row->model = e->model ? e->model->name : "";
    row->profile = e->profile ? e->profile->name : "";
    row->load = load_text(e);
    row->load_level = e->load.level;
    row->pfs = strcmp(e->pfs.value, "on") == 0 ? "on" : "off";
    row->pfs_level = e->pfs.level;
    row->load_server = load_server_text(s, e);
    row->load_server_level = e->load_server.level;
    row->held_back = e->held_back[0] != '\0';
    /* served is the load, or the device's last complete one, or none. */
    row->served = !row->held_back ? row->load : e->served[0] ? e->device->last_load : "";
    row->load_state = e->load_state;
    row->site = e->site;
    row->outcome = fleet_outcome_of(e);
    row->sends = fleet_sends_of(fleet, e, row->load_server);
}

/* ---- matching ---- */

static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does hay contain needle, ASCII case folded? */
static bool contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay != '\0'; hay++) {
        size_t i = 0;

        while (i < n && hay[i] != '\0' && fold(hay[i]) == fold(needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The search as MAC digits: "SEP0011", "00:11:22", "0011.22" -> "0011",
 * "001122"; "" when it is not one. */
static void mac_part(const char *q, char out[DEVQUERY_TEXT_MAX])
{
    size_t n = 0;

    if (strncasecmp(q, "SEP", 3) == 0)
        q += 3;
    for (; *q != '\0'; q++) {
        if (*q == ':' || *q == '-' || *q == '.')
            continue;
        if (!is_hex(*q)) {
            out[0] = '\0';
            return;
        }
        out[n++] = *q;
    }
    out[n] = '\0';
}

static bool search_match(const char *q, const struct devquery_row *r)
{
    char mac[DEVQUERY_TEXT_MAX];

    if (q[0] == '\0')
        return true;
    mac_part(q, mac);
    if (mac[0] != '\0' && contains(r->dev->mac, mac))
        return true;
    return contains(r->dev->description, q) || contains(r->model, q) || contains(r->profile, q) ||
           contains(r->load, q);
}

/* A model filter names the model, or its last word ("7961"). */
static bool model_match(const char *f, const char *model)
{
    size_t n = strlen(f), m = strlen(model);

    if (strcasecmp(f, model) == 0)
        return true;
    return n < m && model[m - n - 1] == ' ' && strcasecmp(model + m - n, f) == 0;
}

/* A profile or load filter: "none" for none, else the name. */
static bool name_match(const char *f, const char *value)
{
    if (strcasecmp(f, "none") == 0)
        return value[0] == '\0';
    return strcasecmp(f, value) == 0;
}

static bool site_match(const char *f, const struct settings_site *site)
{
    char cidr[DEVQUERY_TEXT_MAX];

    if (strcmp(f, "none") == 0)
        return site == NULL;
    if (site == NULL)
        return false;
    settings_cidr_format(site, cidr, sizeof(cidr));
    return strcmp(f, cidr) == 0;
}

bool devquery_match(const struct devquery *q, const struct devquery_row *row)
{
    return search_match(q->q, row) && (q->model[0] == '\0' || model_match(q->model, row->model)) &&
           (q->profile[0] == '\0' || name_match(q->profile, row->profile)) &&
           (q->load[0] == '\0' || name_match(q->load, row->load)) &&
           (q->site[0] == '\0' || site_match(q->site, row->site)) &&
           (q->load_server[0] == '\0' || name_match(q->load_server, row->load_server)) &&
           (q->gate[0] == '\0' || strcmp(q->gate, fleet_outcome_name(row->outcome)) == 0);
}

/* ---- order ---- */

/* Two site rules: none first, then IPv4 before IPv6, by address and length. */
static int site_cmp(const struct settings_site *a, const struct settings_site *b)
{
    int c;

    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    if (a->family != b->family)
        return a->family == AF_INET ? -1 : 1;
    c = memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
    return c != 0 ? c : (a->prefix_len > b->prefix_len) - (a->prefix_len < b->prefix_len);
}

static int column_cmp(enum devquery_column col, const struct devquery_row *a,
                      const struct devquery_row *b)
{
    int c;

    switch (col) {
    case DEVQUERY_MODEL:
        return strcasecmp(a->model, b->model);
    case DEVQUERY_PROFILE:
        return strcasecmp(a->profile, b->profile);
    case DEVQUERY_DESCRIPTION:
        return strcasecmp(a->dev->description, b->dev->description);
    case DEVQUERY_LOAD: /* what the config names first, then the target */
        return (c = strcasecmp(a->served, b->served)) != 0 ? c : strcasecmp(a->load, b->load);
    case DEVQUERY_PFS:
        return strcmp(a->pfs, b->pfs);
    case DEVQUERY_LOAD_SERVER: /* what loadServer names first, then the value */
        return (c = strcasecmp(a->sends, b->sends)) != 0
                   ? c
                   : strcasecmp(a->load_server, b->load_server);
    case DEVQUERY_SITE:
        return site_cmp(a->site, b->site);
    default:
        return 0;
    }
}

int devquery_cmp(const void *a, const void *b, void *arg)
{
    const struct devquery *q = arg;
    const struct devquery_row *x = a, *y = b;
    int c = column_cmp(q->sort, x, y);

    if (c == 0)
        c = strcmp(x->dev->mac, y->dev->mac);
    return q->descending ? -c : c;
}
