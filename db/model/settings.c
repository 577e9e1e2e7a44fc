/* settings.c: the one resolver of firmware settings (device > profile > site
 * > enterprise; device load > model default), MAC, host, CIDR and value
 * checks. Pure: no database, no I/O, no allocation; callers own snapshots. */
#include "db/model/settings.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/numparse.h"
#include "lib/sorted.h"
#include "lib/text.h"

const char SETTINGS_WARN_PFS_INCAPABLE[] =
    "peer firmware sharing is on but this model cannot do it";
const char SETTINGS_WARN_LOAD_MISSING[] =
    "the load is not in the catalog: the phone would never finish its upgrade";
const char SETTINGS_WARN_LOAD_QUARANTINED[] =
    "the load is quarantined (a file fails its hash): it is not served";
const char SETTINGS_WARN_LOAD_BLOCKED[] =
    "the signature policy does not serve the load (or a signature fails): it is not served";
const char SETTINGS_WARN_NO_CM[] =
    "no CUCM address (enterprise cm_address): the config names an empty callManager, so the "
    "phone cannot register";

/* ---- MAC ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)toupper((unsigned char)c);
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Copies hex digits, allowing sep after every group of `group` digits. */
static int mac_collect(const char *in, size_t len, char sep, size_t group,
                       char out[SETTINGS_MAC_LEN + 1])
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (hexval(in[i]) >= 0 && n < SETTINGS_MAC_LEN) {
            out[n++] = (char)toupper((unsigned char)in[i]);
            continue;
        }
        /* A separator only between groups, never first or last. */
        if (sep == '\0' || in[i] != sep || n == 0 || n % group != 0 || n == SETTINGS_MAC_LEN ||
            i + 1 == len || in[i + 1] == sep)
            return -1;
    }
    out[n] = '\0';
    return n == SETTINGS_MAC_LEN ? 0 : -1;
}

_Static_assert(SETTINGS_NAME_MAX == 64 && SETTINGS_VALUE_MAX == 256,
               "SETTINGS_NAME_RULE and SETTINGS_TEXT_RULE name these limits");

bool settings_name_valid(const char *name)
{
    size_t len = strnlen(name, SETTINGS_NAME_MAX);

    /* No '/': a name is one segment of an API path (/api/v1/profiles/NAME). */
    return len > 0 && len < SETTINGS_NAME_MAX && name[0] != ' ' && name[len - 1] != ' ' &&
           memchr(name, '/', len) == NULL && text_valid(name, len);
}

bool settings_text_valid(const char *text)
{
    size_t len = strnlen(text, SETTINGS_VALUE_MAX);

    return len < SETTINGS_VALUE_MAX && text_valid(text, len);
}

int settings_mac_normalize(const char *in, char out[SETTINGS_MAC_LEN + 1])
{
    char tmp[SETTINGS_MAC_LEN + 1];
    size_t len;
    int rc = -1;

    if (in == NULL)
        return -1;
    if (strncasecmp(in, "SEP", 3) == 0)
        in += 3;
    len = strnlen(in, 32);
    if (len == 12)
        rc = mac_collect(in, len, '\0', 12, tmp);
    else if (len == 17 && (in[2] == ':' || in[2] == '-'))
        rc = mac_collect(in, len, in[2], 2, tmp);
    else if (len == 14 && in[4] == '.')
        rc = mac_collect(in, len, '.', 4, tmp);
    if (rc == 0)
        memcpy(out, tmp, sizeof(tmp));
    return rc;
}

/* ---- lookups ---- */

const struct settings_device *settings_find_device(const struct settings_snapshot *s,
                                                   const char *mac)
{
    char norm[SETTINGS_MAC_LEN + 1];
    bool found;
    size_t at;

    if (s == NULL || settings_mac_normalize(mac, norm) != 0)
        return NULL;
    at = sorted_find(s->devices, s->n_devices, sizeof(*s->devices),
                     offsetof(struct settings_device, mac), norm, &found);
    return found ? &s->devices[at] : NULL;
}

/* sorted_find_by's order of the loads: their names in any case. */
static int load_cmp(const void *record, const void *key)
{
    return strcasecmp(((const struct settings_load *)record)->name, key);
}

const struct settings_load *settings_find_load(const struct settings_snapshot *s, const char *name)
{
    bool found;
    size_t at;

    if (s == NULL || name == NULL || name[0] == '\0')
        return NULL;
    at = sorted_find_by(s->loads, s->n_loads, sizeof(*s->loads), load_cmp, name, &found);
    return found ? &s->loads[at] : NULL;
}

enum settings_load_state settings_load_state_of(const struct settings_snapshot *s, const char *name)
{
    const struct settings_load *l;

    if (name == NULL || name[0] == '\0')
        return SETTINGS_LOAD_NONE;
    l = settings_find_load(s, name);
    if (l == NULL)
        return SETTINGS_LOAD_MISSING;
    if (l->quarantined)
        return SETTINGS_LOAD_QUARANTINED;
    return l->blocked ? SETTINGS_LOAD_BLOCKED : SETTINGS_LOAD_OK;
}

static const char *last_word(const char *name)
{
    const char *sp = strrchr(name, ' ');

    return sp ? sp + 1 : name;
}

int settings_find_model(const struct settings_model *models, size_t n, const char *text)
{
    int found = -1;

    if (text == NULL || text[0] == '\0')
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(models[i].name, text) == 0)
            return (int)i;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(last_word(models[i].name), text) != 0)
            continue;
        if (found >= 0)
            return -2;
        found = (int)i;
    }
    return found;
}

int settings_find_profile(const struct settings_profile *profiles, size_t n, const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(profiles[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---- keys and values ---- */

static const char *const key_names[] = {
    [SETTINGS_KEY_PFS] = "peer_firmware_sharing",
    [SETTINGS_KEY_LOAD_SERVER] = "load_server",
    [SETTINGS_KEY_LOAD] = "load",
};

int settings_key_parse(const char *name, enum settings_key *out)
{
    for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
        if (name != NULL && strcmp(name, key_names[i]) == 0) {
            *out = (enum settings_key)i;
            return 0;
        }
    return -1;
}

const char *settings_key_name(enum settings_key key)
{
    return (unsigned)key < sizeof(key_names) / sizeof(key_names[0]) ? key_names[key] : "?";
}

bool settings_host_valid(const char *host)
{
    size_t len = host ? strnlen(host, 254) : 0;
    unsigned char a6[16];

    if (len == 0 || len > 253)
        return false;
    if (strchr(host, ':') != NULL)
        return inet_pton(AF_INET6, host, a6) == 1;
    if (host[0] == '-' || host[0] == '.' || host[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)host[i];

        if (!isalnum(c) && c != '-' && c != '.' && c != '_')
            return false;
        if (c == '.' && host[i + 1] == '.')
            return false;
    }
    return true;
}

bool settings_load_name_valid(const char *name)
{
    size_t len = strnlen(name, SETTINGS_VALUE_MAX);

    if (len == 0 || len >= SETTINGS_VALUE_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\' || c == '<' || c == '>' || c == '&' ||
            c == '"' || c == '\'')
            return false;
    }
    return true;
}

static int pfs_normalize(const char *in, char out[SETTINGS_VALUE_MAX])
{
    static const char *const on[] = {"on", "1", "yes", "true"};
    static const char *const off[] = {"off", "0", "no", "false"};

    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        if (strcasecmp(in, on[i]) == 0) {
            strcpy(out, "on");
            return 0;
        }
        if (strcasecmp(in, off[i]) == 0) {
            strcpy(out, "off");
            return 0;
        }
    }
    return -1;
}

int settings_value_normalize(enum settings_key key, const char *in, char out[SETTINGS_VALUE_MAX],
                             const char **why)
{
    int rc = -1;

    *why = NULL;
    if (in == NULL || strnlen(in, SETTINGS_VALUE_MAX) >= SETTINGS_VALUE_MAX) {
        *why = "the value is too long";
        return -1;
    }
    switch (key) {
    case SETTINGS_KEY_PFS:
        rc = pfs_normalize(in, out);
        if (rc != 0)
            *why = "peer_firmware_sharing is on or off";
        break;
    case SETTINGS_KEY_LOAD_SERVER:
        if (strcasecmp(in, "none") == 0 || in[0] == '\0') {
            out[0] = '\0';
            rc = 0;
        } else if (strncasecmp(in, SETTINGS_BRANCH_PREFIX, SETTINGS_BRANCH_PREFIX_LEN) == 0) {
            rc = settings_name_valid(in + SETTINGS_BRANCH_PREFIX_LEN) ? 0 : -1;
            if (rc == 0)
                snprintf(out, SETTINGS_VALUE_MAX, "%s%s", SETTINGS_BRANCH_PREFIX,
                         in + SETTINGS_BRANCH_PREFIX_LEN);
            else
                *why = "branch:NAME names a branch: " SETTINGS_NAME_RULE;
        } else if (settings_host_valid(in)) {
            snprintf(out, SETTINGS_VALUE_MAX, "%s", in);
            rc = 0;
        } else {
            *why = "load_server is a host name or address, branch:NAME, or none";
        }
        break;
    case SETTINGS_KEY_LOAD:
        if (settings_load_name_valid(in)) {
            snprintf(out, SETTINGS_VALUE_MAX, "%s", in);
            rc = 0;
        } else {
            *why = "not a load name (printable, no spaces, slashes or markup characters)";
        }
        break;
    default:
        *why = "unknown setting";
    }
    return rc;
}

/* ---- CIDR and site rules ---- */

static void prefix_mask(uint8_t *addr, size_t bytes, unsigned prefix_len, bool *changed)
{
    for (size_t i = 0; i < bytes; i++) {
        unsigned keep = prefix_len >= (i + 1) * 8 ? 8 : prefix_len > i * 8 ? prefix_len - i * 8 : 0;
        uint8_t mask = keep == 0 ? 0 : (uint8_t)(0xffu << (8 - keep));

        if ((addr[i] & (uint8_t)~mask) != 0)
            *changed = true;
        addr[i] &= mask;
    }
}

static bool is_v4_mapped(const uint8_t a[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    return memcmp(a, prefix, sizeof(prefix)) == 0;
}

void settings_cidr_format(const struct settings_site *site, char *out, size_t cap)
{
    char addr[INET6_ADDRSTRLEN];

    if (inet_ntop(site->family, site->addr, addr, sizeof(addr)) == NULL)
        snprintf(addr, sizeof(addr), "?");
    snprintf(out, cap, "%s/%u", addr, site->prefix_len);
}

int settings_cidr_parse(const char *text, struct settings_site *out, char *canon, size_t canon_cap,
                        bool *masked, const char **why)
{
    char addr[INET6_ADDRSTRLEN + 1];
    const char *slash = text ? strchr(text, '/') : NULL;
    size_t alen = slash ? (size_t)(slash - text) : (text ? strnlen(text, sizeof(addr)) : 0);
    struct settings_site s = {0};
    uint64_t plen;

    *masked = false;
    *why = "not an address or prefix (10.1.0.0/16, 2001:db8::/32)";
    if (alen == 0 || alen >= sizeof(addr))
        return -1;
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, s.addr) == 1) {
        s.family = AF_INET;
    } else if (inet_pton(AF_INET6, addr, s.addr) == 1) {
        s.family = AF_INET6;
        if (is_v4_mapped(s.addr)) {
            *why = "IPv4-mapped IPv6 prefix: write it as an IPv4 prefix";
            return -1;
        }
    } else {
        return -1;
    }
    plen = s.family == AF_INET ? 32 : 128;
    if (slash != NULL && numparse_u64(slash + 1, 0, plen, &plen) != 0) {
        *why = s.family == AF_INET ? "the prefix length is 0..32" : "the prefix length is 0..128";
        return -1;
    }
    s.prefix_len = (unsigned)plen;
    prefix_mask(s.addr, s.family == AF_INET ? 4 : 16, s.prefix_len, masked);
    /* out->load_server is the caller's: only the prefix is written. */
    out->family = s.family;
    memcpy(out->addr, s.addr, sizeof(out->addr));
    out->prefix_len = s.prefix_len;
    settings_cidr_format(out, canon, canon_cap);
    *why = NULL;
    return 0;
}

static bool prefix_matches(const struct settings_site *site, const uint8_t *addr)
{
    unsigned full = site->prefix_len / 8, rest = site->prefix_len % 8;

    if (memcmp(site->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((site->addr[full] ^ addr[full]) & (uint8_t)(0xffu << (8 - rest))) == 0;
}

/* The address of from as (family, bytes); IPv4-mapped IPv6 becomes IPv4. */
static int from_address(const struct sockaddr *from, int *family, uint8_t addr[16])
{
    if (from->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)from;

        memcpy(addr, &in->sin_addr, 4);
        *family = AF_INET;
        return 0;
    }
    if (from->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)from;

        memcpy(addr, &in6->sin6_addr, 16);
        *family = AF_INET6;
        if (is_v4_mapped(addr)) {
            memmove(addr, addr + 12, 4);
            *family = AF_INET;
        }
        return 0;
    }
    return -1;
}

int settings_addr_parse(const char *text, struct sockaddr_storage *out)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(text);

    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return 0;
    }
    if (n >= 2 && n < sizeof(buf) && text[0] == '[' && text[n - 1] == ']') {
        memcpy(buf, text + 1, n - 2);
        buf[n - 2] = '\0';
        text = buf;
    }
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        return 0;
    }
    memset(out, 0, sizeof(*out));
    return -1;
}

const struct settings_site *settings_match_site(const struct settings_snapshot *s,
                                                const struct sockaddr *from)
{
    const struct settings_site *best = NULL;
    uint8_t addr[16];
    int family;

    if (s == NULL || from == NULL || from_address(from, &family, addr) != 0)
        return NULL;
    for (size_t i = 0; i < s->n_sites; i++) {
        const struct settings_site *site = &s->sites[i];

        if (site->family != family || !prefix_matches(site, addr))
            continue;
        if (best == NULL || site->prefix_len > best->prefix_len)
            best = site;
    }
    return best;
}

/* ---- the resolver ---- */

static void value_set(struct settings_value *v, const char *value, enum settings_level level)
{
    snprintf(v->value, sizeof(v->value), "%s", value);
    v->level = level;
}

static void warn(struct settings_effective *out, const char *text)
{
    if (out->n_warnings < SETTINGS_WARN_MAX)
        out->warnings[out->n_warnings++] = text;
}

static void resolve_pfs(const struct settings_snapshot *s, struct settings_effective *out)
{
    const struct settings_device *d = out->device;

    if (d->pfs.set)
        value_set(&out->pfs, d->pfs.value, SETTINGS_LEVEL_DEVICE);
    else if (out->profile != NULL && out->profile->pfs.set)
        value_set(&out->pfs, out->profile->pfs.value, SETTINGS_LEVEL_PROFILE);
    else
        value_set(&out->pfs, s->enterprise.pfs ? "on" : "off", SETTINGS_LEVEL_ENTERPRISE);
    if (strcmp(out->pfs.value, "on") == 0 && out->model != NULL && !out->model->pfs_capable)
        warn(out, SETTINGS_WARN_PFS_INCAPABLE);
}

const char *settings_branch_name(const char *load_server)
{
    if (load_server == NULL ||
        strncasecmp(load_server, SETTINGS_BRANCH_PREFIX, SETTINGS_BRANCH_PREFIX_LEN) != 0)
        return NULL;
    return load_server + SETTINGS_BRANCH_PREFIX_LEN;
}

/* Without the fleet view: a plain host is named as configured; a branch is
 * named only by the gate (fleet_resolve), never as "branch:NAME". */
static void gate_default(struct settings_effective *out)
{
    struct settings_gate *g = &out->load_server_gate;

    g->state = SETTINGS_GATE_NOT_GATED;
    if (settings_branch_name(out->load_server.value) == NULL)
        snprintf(g->sends, sizeof(g->sends), "%s", out->load_server.value);
    else
        snprintf(g->why, sizeof(g->why), "the fleet view was not consulted");
}

static void resolve_load_server(const struct settings_snapshot *s, const struct sockaddr *from,
                                struct settings_effective *out)
{
    const struct settings_device *d = out->device;

    out->site = settings_match_site(s, from);
    /* stage_first follows the address's rule whatever decided the server. */
    if (out->site != NULL && out->site->stage_first != SETTINGS_INHERIT)
        out->stage_first = out->site->stage_first == SETTINGS_ON;
    else
        out->stage_first = s->enterprise.stage_first;
    if (d->load_server.set)
        value_set(&out->load_server, d->load_server.value, SETTINGS_LEVEL_DEVICE);
    else if (out->profile != NULL && out->profile->load_server.set)
        value_set(&out->load_server, out->profile->load_server.value, SETTINGS_LEVEL_PROFILE);
    else if (out->site != NULL)
        value_set(&out->load_server, out->site->load_server, SETTINGS_LEVEL_SITE);
    else
        value_set(&out->load_server, s->enterprise.load_server, SETTINGS_LEVEL_ENTERPRISE);
    if (out->load_server.level != SETTINGS_LEVEL_SITE)
        out->site = NULL; /* only a rule that decided is reported */
    gate_default(out);
}

const char *settings_protocol_parse(const char *text)
{
    if (text == NULL)
        return NULL;
    if (strcasecmp(text, "SIP") == 0)
        return "SIP";
    if (strcasecmp(text, "SCCP") == 0)
        return "SCCP";
    return NULL;
}

int settings_protocols_parse(const char *text, const char **first, bool *dual)
{
    char one[8], two[8];
    const char *space, *a, *b;
    size_t n;

    if (text == NULL || strlen(text) > 16)
        return -1;
    space = strchr(text, ' ');
    n = space != NULL ? (size_t)(space - text) : strlen(text);
    if (n >= sizeof(one) || (space != NULL && strlen(space + 1) >= sizeof(two)))
        return -1;
    snprintf(one, sizeof(one), "%.*s", (int)n, text);
    snprintf(two, sizeof(two), "%s", space != NULL ? space + 1 : "");
    a = settings_protocol_parse(one);
    b = space != NULL ? settings_protocol_parse(two) : NULL;
    if (a == NULL || (space != NULL && (b == NULL || b == a)))
        return -1;
    *first = a;
    *dual = b != NULL;
    return 0;
}

bool settings_model_runs(const struct settings_model *m, const char *protocol)
{
    const char *p = settings_protocol_parse(protocol);

    return p != NULL && (m->dual || strcmp(m->protocol, p) == 0);
}

const char *settings_model_default(const struct settings_model *m, const char *protocol)
{
    if (protocol == NULL || protocol[0] == '\0' || strcasecmp(protocol, m->protocol) == 0)
        return m->default_load;
    return settings_model_runs(m, protocol) ? m->default_load_other : "";
}

static void resolve_load(const struct settings_snapshot *s, struct settings_effective *out)
{
    const struct settings_device *d = out->device;
    const char *def;

    out->protocol = d->protocol[0] ? d->protocol : out->model ? out->model->protocol : "";
    def = out->model != NULL ? settings_model_default(out->model, out->protocol) : "";
    if (d->load.set && d->load.value[0] != '\0')
        value_set(&out->load, d->load.value, SETTINGS_LEVEL_DEVICE);
    else if (def[0] != '\0')
        value_set(&out->load, def, SETTINGS_LEVEL_MODEL);
    else
        value_set(&out->load, "", SETTINGS_LEVEL_NONE);
    out->load_state = settings_load_state_of(s, out->load.value);
    if (out->load_state == SETTINGS_LOAD_MISSING)
        warn(out, SETTINGS_WARN_LOAD_MISSING);
    else if (out->load_state == SETTINGS_LOAD_QUARANTINED)
        warn(out, SETTINGS_WARN_LOAD_QUARANTINED);
    else if (out->load_state == SETTINGS_LOAD_BLOCKED)
        warn(out, SETTINGS_WARN_LOAD_BLOCKED);
}

/* A phone told to fetch a load it cannot finish aborts and starts over at
 * every reset: hold it on its last complete load, or name none. */
static void resolve_served(const struct settings_snapshot *s, struct settings_effective *out)
{
    const struct settings_load *l = settings_find_load(s, out->load.value);
    const char *last = out->device->last_load;
    char why[SETTINGS_VALUE_MAX + SETTINGS_WHY_MAX + 8];

    if (out->load_state == SETTINGS_LOAD_OK || out->load_state == SETTINGS_LOAD_NONE) {
        snprintf(out->served, sizeof(out->served), "%s", out->load.value);
        return;
    }
    if (l != NULL && l->why[0] != '\0')
        snprintf(why, sizeof(why), "%s %s", out->load.value, l->why);
    else
        snprintf(why, sizeof(why), "%s is not in the catalog", out->load.value);
    if (last[0] != '\0' && strcasecmp(last, out->load.value) != 0 &&
        settings_load_state_of(s, last) == SETTINGS_LOAD_OK) {
        snprintf(out->served, sizeof(out->served), "%s", settings_find_load(s, last)->name);
        snprintf(out->held_back, sizeof(out->held_back),
                 "held back: %s; the config names %s, the last complete load this device"
                 " was given",
                 why, out->served);
    } else {
        out->served[0] = '\0';
        snprintf(out->held_back, sizeof(out->held_back), "held back: %s; the config names no load",
                 why);
    }
}

int settings_resolve(const struct settings_snapshot *s, const char *mac,
                     const struct sockaddr *from, struct settings_effective *out)
{
    const struct settings_device *d = settings_find_device(s, mac);

    memset(out, 0, sizeof(*out));
    if (d == NULL)
        return -1;
    out->device = d;
    if (d->model >= 0 && (size_t)d->model < s->n_models)
        out->model = &s->models[d->model];
    if (d->profile >= 0 && (size_t)d->profile < s->n_profiles)
        out->profile = &s->profiles[d->profile];
    resolve_pfs(s, out);
    resolve_load_server(s, from, out);
    resolve_load(s, out);
    resolve_served(s, out);
    if (s->enterprise.cm_address[0] == '\0')
        warn(out, SETTINGS_WARN_NO_CM);
    return 0;
}

const char *settings_gate_state_name(enum settings_gate_state st)
{
    switch (st) {
    case SETTINGS_GATE_OK:
        return "ok";
    case SETTINGS_GATE_NO_BRANCH:
        return "no_branch";
    case SETTINGS_GATE_NEVER_REPORTED:
        return "never_reported";
    case SETTINGS_GATE_STALE:
        return "stale";
    case SETTINGS_GATE_LACKS_LOAD:
        return "lacks_load";
    case SETTINGS_GATE_NOT_PROBED:
        return "not_probed";
    case SETTINGS_GATE_NOT_GATED:
    default:
        return "not_gated";
    }
}

const char *settings_level_name(enum settings_level level)
{
    switch (level) {
    case SETTINGS_LEVEL_DEVICE:
        return "device";
    case SETTINGS_LEVEL_PROFILE:
        return "profile";
    case SETTINGS_LEVEL_SITE:
        return "site";
    case SETTINGS_LEVEL_ENTERPRISE:
        return "enterprise";
    case SETTINGS_LEVEL_MODEL:
        return "model default";
    case SETTINGS_LEVEL_NONE:
    default:
        return "none";
    }
}

const char *settings_load_state_name(enum settings_load_state st)
{
    switch (st) {
    case SETTINGS_LOAD_OK:
        return "ok";
    case SETTINGS_LOAD_MISSING:
        return "missing";
    case SETTINGS_LOAD_QUARANTINED:
        return "quarantined";
    case SETTINGS_LOAD_BLOCKED:
        return "blocked";
    case SETTINGS_LOAD_NONE:
    default:
        return "none";
    }
}
