/* config.h: loadsd's settings from the config file and the command line.
 * Pure parsing (files are read, nothing is bound or started); flags win. */
#ifndef LOADSD_CONFIG_H
#define LOADSD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/conffile.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "server/upstream/url.h"
#include "server/upstream/window.h"

#define CONFIG_LISTEN_MAX   16
#define CONFIG_DEFAULT_PATH CONFFILE_DEFAULT_PATH

struct loadsd_config {
    char config_path[PATH_MAX];
    struct net_listen tftp_listen[CONFIG_LISTEN_MAX];
    unsigned tftp_listen_count;
    char data_dir[PATH_MAX];  /* catalog, blobs, spool */
    char serve_dir[PATH_MAX]; /* "" = none */
    unsigned threads;         /* 0 = online CPUs */
    unsigned max_transfers;
    unsigned max_transfers_per_client; /* per IPv4 address or IPv6 /64 */
    unsigned max_unacked;              /* transfers never acknowledged yet, in all */
    unsigned max_unacked_per_prefix;   /* the same per IPv4 /24 or IPv6 /64 */
    bool rollover_to_one;
    bool foreground;
    enum log_level log_level;
    char user[64];              /* "" = keep the current user */
    unsigned max_blksize;       /* 8..65464 */
    unsigned max_windowsize;    /* 1..65535 */
    unsigned retries;           /* resends before giving up, 1..20 */
    unsigned timeout_ms;        /* first timeout without a negotiated one, 100..60000 */
    unsigned grace_seconds;     /* SIGTERM: how long transfers may finish, 0..3600 */
    unsigned scrub_interval;    /* seconds between background re-hashes, 0 = off */
    unsigned scrub_rate_mb;     /* MB/s the scrub may read, 0 = no limit */
    char admin_listen[64];      /* admin interface "ADDR:PORT", or "none" */
    char admin_cert[PATH_MAX];  /* PEM certificate (with admin_key: HTTPS) */
    char admin_key[PATH_MAX];   /* PEM private key */
    bool admin_insecure_http;   /* plain HTTP allowed on a non-loopback address */
    char web_root[PATH_MAX];    /* the web page's files; "" = installed, else the source tree's */
    unsigned upload_max_mb;     /* largest firmware bundle uploaded through the admin API */
    unsigned inventory_stuck_s; /* the firmware inventory's "stuck" threshold */
    struct net_listen files_listen[CONFIG_LISTEN_MAX]; /* HTTP file service; none = off */
    unsigned files_listen_count;
    unsigned files_max_connections;            /* in all; more get 503 */
    unsigned files_max_connections_per_client; /* per IPv4 address or IPv6 /64 */
    unsigned files_timeout;                    /* seconds idle, and for a request head */
    char upstream[UPSTREAM_BASE_MAX];          /* "" = none; else normalised base URL */
    unsigned upstream_tftp_blksize;            /* tftp:// upstream: asked for; 512 = none */
    unsigned upstream_tftp_windowsize;         /* tftp:// upstream: asked for; 1 = lock-step */
    bool upstream_configs;      /* tftp:// upstream: its phone configs win over ours */
    unsigned upstream_pulls;    /* loads pulled at once */
    unsigned upstream_hold_ms;  /* a TFTP request for a load being pulled: unanswered so long */
    unsigned upstream_quota_mb; /* pulled loads kept at most; 0 = no quota */
    unsigned stage_rate_kbit;   /* staged pulls' cap; 0 = none */
    char stage_window[STAGE_WINDOW_TEXT_MAX]; /* "HH:MM-HH:MM"; "" = any time */
    char central[UPSTREAM_BASE_MAX];          /* the central's admin API; "" = no reports */
    char central_ca[PATH_MAX];                /* CA bundle for it; "" = the system's CAs */
    char central_token_file[PATH_MAX];        /* this branch's token, one line */
    unsigned probe_rate;                      /* load-server probe: requests per second at most */
    unsigned probe_port; /* load-server probe: the port asked (69; tests another) */
};

void config_defaults(struct loadsd_config *c);

/* Sets one key (the long flag name without "--"; "_" accepted for "-").
 * Repeatable keys (tftp-listen, files-listen) append; files-listen "none" adds nothing. 0, or -1
 * with a message in err. */
int config_set(struct loadsd_config *c, const char *key, const char *value, char *err,
               size_t errlen);

/* Reads "key = value" lines ('#' comments, blank lines). A missing file is an
 * error only when must_exist. 0, or -1 with "FILE:LINE: reason" in err. */
int config_load_file(struct loadsd_config *c, const char *path, bool must_exist, char *err,
                     size_t errlen);

/* The whole load: defaults, then the config file (--config or the default
 * path), then the flags, which win (a flag's tftp-listen or files-listen replaces the file's list).
 * Returns 0; 1 when --help or --version was printed to stdout; -1 on an error
 * (message in err). Called again with the same argv on SIGHUP. */
int config_load(struct loadsd_config *c, int argc, char **argv, char *err, size_t errlen);

#endif
