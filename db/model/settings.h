/* settings.h: the provisioning model in memory (enterprise, models, common
 * phone profiles, devices, site rules) and the one resolver that answers, for
 * a device, every firmware setting with the level it came from. Pure: no
 * database, no HTTP, no sockets (db/provision.c loads a snapshot). */
#ifndef LOADSD_SETTINGS_H
#define LOADSD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SETTINGS_MAC_LEN   12  /* upper-case hex, no separators */
#define SETTINGS_NAME_MAX  64  /* model and profile names, NUL included */
#define SETTINGS_VALUE_MAX 256 /* load names, hosts, descriptions, NUL included */
#define SETTINGS_WARN_MAX  4
#define SETTINGS_WHY_MAX   (SETTINGS_VALUE_MAX + 128) /* why a load is not servable */
#define SETTINGS_HELD_MAX  (2 * SETTINGS_VALUE_MAX + SETTINGS_WHY_MAX + 128)

/* Where a value came from (shown as a badge: "off — from profile"). */
enum settings_level {
    SETTINGS_LEVEL_NONE, /* nothing sets it (load: no loadInformation) */
    SETTINGS_LEVEL_DEVICE,
    SETTINGS_LEVEL_PROFILE,
    SETTINGS_LEVEL_SITE,       /* load_server only */
    SETTINGS_LEVEL_ENTERPRISE, /* peer_firmware_sharing, load_server */
    SETTINGS_LEVEL_MODEL,      /* load only: the model's device default */
};

/* A value a level may leave unset ("inherit"). */
struct settings_opt {
    bool set;
    char value[SETTINGS_VALUE_MAX]; /* "on"/"off" for PFS; host or "" (none) for load server */
};

struct settings_enterprise {
    bool pfs;
    char load_server[SETTINGS_VALUE_MAX]; /* "" = none */
    char cm_address[SETTINGS_VALUE_MAX];
    /* Fleet control (docs/FLEET.md). */
    bool stage_first;        /* hold a new load back until the branch holds it */
    int64_t fleet_max_age_s; /* a report or probe older than this is stale */
    bool probe_load_servers; /* gate plain hosts on their probe results */
};

#define SETTINGS_FLEET_MAX_AGE_DEFAULT 300   /* s */
#define SETTINGS_FLEET_MAX_AGE_MIN     1     /* s */
#define SETTINGS_FLEET_MAX_AGE_MAX     86400 /* s: a day */

/* A load_server value naming a branch: "branch:NAME" (the prefix in any
 * case on input, stored lower case; NAME by settings_name_valid). */
#define SETTINGS_BRANCH_PREFIX     "branch:"
#define SETTINGS_BRANCH_PREFIX_LEN 7

struct settings_model {
    char name[SETTINGS_NAME_MAX]; /* "Cisco 7961" */
    unsigned device_type;         /* 30018 */
    bool pfs_capable;
    char protocol[8];                      /* "SIP" or "SCCP": what its devices run by default */
    char default_load[SETTINGS_VALUE_MAX]; /* for protocol; "" = none */
    bool dual;                             /* runs SIP and SCCP: a default load for each */
    char default_load_other[SETTINGS_VALUE_MAX]; /* dual: for the other protocol; "" = none */
};

struct settings_profile {
    char name[SETTINGS_NAME_MAX];
    struct settings_opt pfs;
    struct settings_opt load_server;
    const char *template_xml; /* uploaded template, NULL = the shipped default;
                                 owned by the snapshot */
};

struct settings_device {
    char mac[SETTINGS_MAC_LEN + 1];
    int model;   /* index into models */
    int profile; /* index into profiles, -1 = none */
    char description[SETTINGS_VALUE_MAX];
    struct settings_opt pfs;
    struct settings_opt load_server;
    struct settings_opt load;
    char protocol[8]; /* "SIP", "SCCP", or "" = its model's */
    /* The last load this device's config named while it was complete
     * (present, intact, allowed): where it is held when its own load is not.
     * "" = none recorded. */
    char last_load[SETTINGS_VALUE_MAX];
};

/* A switch a level may leave to the one above (zero: inherit). */
enum settings_switch { SETTINGS_INHERIT = 0, SETTINGS_OFF, SETTINGS_ON };

struct settings_site {
    int family;          /* AF_INET or AF_INET6 */
    uint8_t addr[16];    /* network address, host bits zero */
    unsigned prefix_len; /* 0..32 or 0..128 */
    char load_server[SETTINGS_VALUE_MAX];
    char name[SETTINGS_NAME_MAX]; /* "Branch Leeds"; "" = none (settings_name_valid otherwise) */
    enum settings_switch stage_first; /* SETTINGS_INHERIT: the enterprise's */
};

/* A load of the catalog as the warnings need it (the catalog's own status
 * lives in db/catalog.h). */
struct settings_load {
    char name[SETTINGS_VALUE_MAX];
    bool quarantined;           /* a file fails its hash or is missing */
    bool blocked;               /* the signature policy does not serve it, or a signature fails */
    char why[SETTINGS_WHY_MAX]; /* when not servable: "is quarantined (file X)" */
};

/* An immutable copy of the provisioning data; devices sorted by mac, loads
 * sorted by name without regard to case (ASCII). */
struct settings_snapshot {
    int64_t generation;
    struct settings_enterprise enterprise;
    struct settings_model *models;
    size_t n_models;
    struct settings_profile *profiles;
    size_t n_profiles;
    struct settings_device *devices;
    size_t n_devices;
    struct settings_site *sites;
    size_t n_sites;
    struct settings_load *loads;
    size_t n_loads;
};

struct settings_value {
    char value[SETTINGS_VALUE_MAX];
    enum settings_level level;
};

/* What the catalog says about the effective load. */
enum settings_load_state {
    SETTINGS_LOAD_NONE,        /* no load: the config file has no loadInformation */
    SETTINGS_LOAD_OK,          /* in the catalog, servable */
    SETTINGS_LOAD_MISSING,     /* not in the catalog: the phone would never upgrade */
    SETTINGS_LOAD_QUARANTINED, /* in the catalog but a file fails its hash */
    SETTINGS_LOAD_BLOCKED,     /* in the catalog, not served: the signature policy or a
                                  signature that fails against a trusted certificate */
};

/* The warnings settings_resolve() gives (static text). */
extern const char SETTINGS_WARN_PFS_INCAPABLE[];
extern const char SETTINGS_WARN_LOAD_MISSING[];
extern const char SETTINGS_WARN_LOAD_QUARANTINED[];
extern const char SETTINGS_WARN_LOAD_BLOCKED[];
extern const char SETTINGS_WARN_NO_CM[];

/* The fleet gate over the load server (docs/FLEET.md): whether the config
 * names it, and why. */
enum settings_gate_state {
    SETTINGS_GATE_NOT_GATED, /* a plain host (not probed) or none: named as configured */
    SETTINGS_GATE_OK,        /* the holder holds the served load complete (or none is served) */
    SETTINGS_GATE_NO_BRANCH, /* branch:NAME names no registered branch */
    SETTINGS_GATE_NEVER_REPORTED, /* the branch never reported */
    SETTINGS_GATE_STALE,          /* its latest report is older than fleet_max_age_s */
    SETTINGS_GATE_LACKS_LOAD,     /* it does not hold the load complete */
    SETTINGS_GATE_NOT_PROBED,     /* probe_load_servers on, the host not probed (or stale) */
};

struct settings_gate {
    enum settings_gate_state state;
    char sends[SETTINGS_VALUE_MAX];   /* what loadServer says: an address or "" */
    char why[2 * SETTINGS_VALUE_MAX]; /* "branch berlin-1 holds 3 of 5 files of ..." */
};

struct settings_effective {
    const struct settings_device *device;
    const struct settings_model *model;
    const struct settings_profile *profile; /* NULL when none */
    struct settings_value pfs;              /* "on" / "off" */
    struct settings_value load_server;      /* host, or "" = none */
    struct settings_value load;             /* load name, or "" = none */
    const char *protocol; /* what the device runs: its own, else its model's ("" unknown) */
    /* What the config names (loadInformation): the load when it is servable;
     * else the device's last complete load when that still is, else "" */
    char served[SETTINGS_VALUE_MAX];
    char held_back[SETTINGS_HELD_MAX];       /* why it is held back, or "" */
    const char *warnings[SETTINGS_WARN_MAX]; /* static English text */
    size_t n_warnings;
    const struct settings_site *site; /* the matching site rule, or NULL */
    enum settings_load_state load_state;
    /* What loadServer names. settings_resolve: the configured host, or ""
     * for none and for a branch (the gate is fleet_resolve's). */
    struct settings_gate load_server_gate;
    bool stage_first; /* effective: the matching site rule's, else the enterprise's */
};

/* The protocols: "SIP" or "SCCP" (any case) into its stored form; NULL for
 * anything else. */
const char *settings_protocol_parse(const char *text);
/* The protocols a model runs: "SIP", "SCCP", or both separated by one space
 * in either order ("SIP SCCP"), any case. 0 with *first the first one named
 * (stored form) and *dual whether both are; -1 for anything else (empty, a
 * name twice, other separators, over 16 bytes). */
int settings_protocols_parse(const char *text, const char **first, bool *dual);
/* Whether the model runs protocol ("SIP" or "SCCP"). */
bool settings_model_runs(const struct settings_model *m, const char *protocol);
/* The model's default load for protocol ("" or NULL: the model's own):
 * the one keyed by (model, protocol); "" when none is set or the model does
 * not run that protocol. Never NULL. */
const char *settings_model_default(const struct settings_model *m, const char *protocol);

/* Model and profile names: 1..63 bytes of text (text_valid: UTF-8, no
 * control character), no space at either end, no '/'. */
bool settings_name_valid(const char *name);
/* Descriptions and other free text: at most SETTINGS_VALUE_MAX - 1 bytes of
 * text (text_valid: UTF-8, no control character, CR and LF included). */
bool settings_text_valid(const char *text);
/* A load name, the one rule for settings and imports alike: 1..255 bytes of
 * printable ASCII without spaces, '/', '\\' or markup characters (<>&"'),
 * not "." or "..". */
bool settings_load_name_valid(const char *name);
/* The rules above in words, for refusals (settings.c checks the numbers). */
#define SETTINGS_NAME_RULE                                                                         \
    "1 to 63 bytes of UTF-8 text without control characters or '/', and no space at either end"
#define SETTINGS_TEXT_RULE                                                                         \
    "at most 255 bytes of UTF-8 text without control characters (CR, LF and tab included)"

/* Normalises a MAC ("00:11:22:aa:bb:cc", "0011.22AA.BBCC", "SEP001122AABBCC",
 * any case) into 12 upper-case hex digits. 0 or -1. */
int settings_mac_normalize(const char *in, char out[SETTINGS_MAC_LEN + 1]);

/* The device by MAC (normalised), or NULL. */
const struct settings_device *settings_find_device(const struct settings_snapshot *s,
                                                   const char *mac);

/* Resolves every setting of a device: peer_firmware_sharing: device > profile
 * > enterprise; load_server: device > profile > site rule (longest prefix
 * matching from, when from is not NULL) > enterprise; load: device > model
 * default. Warns when the enterprise has no CUCM address. Never advertises what cannot be finished:
 * when that load is not servable (missing, quarantined, blocked), served is the device's last
 * complete load if it still is, else none, and held_back says why. 0, or -1
 * for an unknown MAC. */
int settings_resolve(const struct settings_snapshot *s, const char *mac,
                     const struct sockaddr *from, struct settings_effective *out);

/* "ok", "no_branch", "never_reported", "stale", "lacks_load", "not_probed",
 * "not_gated". */
const char *settings_gate_state_name(enum settings_gate_state st);
/* The NAME of a "branch:NAME" load_server value (any case prefix), or NULL
 * for anything else. */
const char *settings_branch_name(const char *load_server);

/* Short name of a level for output: "device", "profile", "site",
 * "enterprise", "model default", "none". */
const char *settings_level_name(enum settings_level level);
/* Name of a load state for output: "ok", "missing", "quarantined",
 * "blocked", "none". */
const char *settings_load_state_name(enum settings_load_state st);

/* ---- added with db/provision.c: lookups and value checks shared by
 * loadsctl, the CSV import and (later) the admin API. Pure as well. ---- */

/* The setting keys a profile or device may set. */
enum settings_key {
    SETTINGS_KEY_PFS,         /* "peer_firmware_sharing" */
    SETTINGS_KEY_LOAD_SERVER, /* "load_server" */
    SETTINGS_KEY_LOAD,        /* "load" (devices only) */
};

/* "peer_firmware_sharing", "load_server", "load" -> key. 0 or -1. */
int settings_key_parse(const char *name, enum settings_key *out);
const char *settings_key_name(enum settings_key key);

/* Checks and normalises a value for key: PFS "on"/"off" (also 1/0, yes/no,
 * true/false, any case) -> "on"/"off"; load_server a host name or address,
 * "branch:NAME" (the prefix lower-cased; whether NAME is registered is the
 * writer's check), or "none" -> ""; load a load name (printable, no '/', '\\' or spaces).
 * 0, or -1 with *why set to static text. */
int settings_value_normalize(enum settings_key key, const char *in, char out[SETTINGS_VALUE_MAX],
                             const char **why);

/* A host name or address (IPv4, IPv6, DNS name), 1..253 bytes. */
bool settings_host_valid(const char *host);

/* The catalog entry of a load (case-insensitive), or NULL. */
const struct settings_load *settings_find_load(const struct settings_snapshot *s, const char *name);
/* SETTINGS_LOAD_NONE for "" else OK / MISSING / QUARANTINED / BLOCKED. */
enum settings_load_state settings_load_state_of(const struct settings_snapshot *s,
                                                const char *name);

/* A model by name ("Cisco 7961", any case) or by its last word ("7961",
 * "7941G-GE") when only one model ends so. Index, -1 when none matches, -2
 * when the last word is ambiguous. */
int settings_find_model(const struct settings_model *models, size_t n, const char *text);
/* A profile by name (any case): index or -1. */
int settings_find_profile(const struct settings_profile *profiles, size_t n, const char *name);

/* Parses "10.1.0.0/16", "2001:db8::/32" or a bare address (/32, /128).
 * Host bits that are set are cleared and *masked says so. The canonical
 * text ("10.1.0.0/16") goes to canon. IPv4-mapped IPv6 rules are refused
 * (write them as IPv4). Writes family, addr and prefix_len only. 0 or -1
 * with *why. */
int settings_cidr_parse(const char *text, struct settings_site *out, char *canon, size_t canon_cap,
                        bool *masked, const char **why);
/* The canonical text of a site rule's prefix. */
void settings_cidr_format(const struct settings_site *site, char *out, size_t cap);

/* "10.1.2.3", "2001:db8::5" or "[2001:db8::5]" into a socket address (port
 * 0): the address a phone asks from, for settings_resolve. 0 or -1. */
int settings_addr_parse(const char *text, struct sockaddr_storage *out);

/* The longest-prefix site rule matching from (IPv4-mapped IPv6 addresses
 * match IPv4 rules), or NULL. */
const struct settings_site *settings_match_site(const struct settings_snapshot *s,
                                                const struct sockaddr *from);

#endif
