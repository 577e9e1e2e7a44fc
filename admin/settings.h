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
};

struct settings_model {
    char name[SETTINGS_NAME_MAX]; /* "Cisco 7961" */
    unsigned device_type;         /* 30018 */
    bool pfs_capable;
    char protocol[8];                      /* "SIP" or "SCCP" */
    char default_load[SETTINGS_VALUE_MAX]; /* "" = none */
};

struct settings_profile {
    char name[SETTINGS_NAME_MAX];
    struct settings_opt pfs;
    struct settings_opt load_server;
};

struct settings_device {
    char mac[SETTINGS_MAC_LEN + 1];
    int model;   /* index into models */
    int profile; /* index into profiles, -1 = none */
    char description[SETTINGS_VALUE_MAX];
    struct settings_opt pfs;
    struct settings_opt load_server;
    struct settings_opt load;
};

struct settings_site {
    int family;          /* AF_INET or AF_INET6 */
    uint8_t addr[16];    /* network address, host bits zero */
    unsigned prefix_len; /* 0..32 or 0..128 */
    char load_server[SETTINGS_VALUE_MAX];
};

/* An immutable copy of the provisioning data; devices sorted by mac. */
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
};

struct settings_value {
    char value[SETTINGS_VALUE_MAX];
    enum settings_level level;
};

struct settings_effective {
    const struct settings_device *device;
    const struct settings_model *model;
    const struct settings_profile *profile;  /* NULL when none */
    struct settings_value pfs;               /* "on" / "off" */
    struct settings_value load_server;       /* host, or "" = none */
    struct settings_value load;              /* load name, or "" = none */
    const char *warnings[SETTINGS_WARN_MAX]; /* static English text */
    size_t n_warnings;
};

/* Normalises a MAC ("00:11:22:aa:bb:cc", "0011.22AA.BBCC", "SEP001122AABBCC",
 * any case) into 12 upper-case hex digits. 0 or -1. */
int settings_mac_normalize(const char *in, char out[SETTINGS_MAC_LEN + 1]);

/* The device by MAC (normalised), or NULL. */
const struct settings_device *settings_find_device(const struct settings_snapshot *s,
                                                   const char *mac);

/* Resolves every setting of a device: peer_firmware_sharing: device > profile
 * > enterprise; load_server: device > profile > site rule (longest prefix
 * matching from, when from is not NULL) > enterprise; load: device > model
 * default. 0, or -1 for an unknown MAC. */
int settings_resolve(const struct settings_snapshot *s, const char *mac,
                     const struct sockaddr *from, struct settings_effective *out);

/* Short name of a level for output: "device", "profile", "site",
 * "enterprise", "model default", "none". */
const char *settings_level_name(enum settings_level level);

#endif
