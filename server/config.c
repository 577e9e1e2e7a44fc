/* config.c: loadsd's settings from defaults, the config file and the flags,
 * all driven by one table of keys (which also prints --help).
 * Pure parsing: reads files, never binds, resolves host names or starts anything. */
/* PACKAGE_VERSION comes from autoconf's config.h, which the build includes
 * first in every file (-include in AM_CPPFLAGS); "config.h" here is ours. */
#include "server/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conffile.h"
#include "lib/fileio.h"
#include "lib/numparse.h"
#include "server/tftp/tftp_packet.h"
#include "server/upstream/pull.h"
#include "server/upstream/quota.h"
#include "server/upstream/tftp_get.h"
#include "server/upstream/url.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define CONFIG_LINE_MAX    CONFFILE_LINE_MAX
#define CONFIG_FILE_MAX    CONFFILE_MAX
#define CONFIG_VALUE_SHOWN 48 /* bytes of a bad value quoted in an error */

enum config_kind {
    CONFIG_KIND_PATH,      /* the config file itself: flag only */
    CONFIG_KIND_LISTEN,    /* repeatable ADDR:PORT */
    CONFIG_KIND_STRING,    /* text into a char array */
    CONFIG_KIND_UINT,      /* unsigned in [min, max] */
    CONFIG_KIND_BOOL01,    /* "0" or "1" into a bool */
    CONFIG_KIND_FLAG,      /* no value on the command line; yes/no in the file */
    CONFIG_KIND_ONOFF,     /* on|off (or yes/no) into a bool; a value everywhere */
    CONFIG_KIND_LOG_LEVEL, /* debug|info|warn|error */
    CONFIG_KIND_URL,       /* the upstream's base URL, normalised */
    CONFIG_KIND_WINDOW,    /* HH:MM-HH:MM, checked; "none" clears it */
};

struct config_key {
    const char *name;
    enum config_kind kind;
    size_t offset; /* of the field in struct loadsd_config */
    size_t size;   /* of the field */
    unsigned min, max;
    const char *def; /* default as text, NULL for none */
    const char *arg; /* the value's name in --help */
    const char *help;
};

#define CONFIG_FIELD(f) offsetof(struct loadsd_config, f), sizeof(((struct loadsd_config *)0)->f)

static const struct config_key config_keys[] = {
    {"config", CONFIG_KIND_PATH, CONFIG_FIELD(config_path), 0, 0, CONFIG_DEFAULT_PATH, "FILE",
     "read settings from FILE"},
    {"tftp-listen", CONFIG_KIND_LISTEN, CONFIG_FIELD(tftp_listen), 0, CONFIG_LISTEN_MAX, "[::]:69",
     "ADDR:PORT", "TFTP address, repeatable (*:69 = [::]:69)"},
    {"data-dir", CONFIG_KIND_STRING, CONFIG_FIELD(data_dir), 0, 0, LOCALSTATEDIR "/lib/loadsd",
     "DIR", "catalog, blobs and spool (created at start)"},
    {"serve-dir", CONFIG_KIND_STRING, CONFIG_FIELD(serve_dir), 0, 0, NULL, "DIR",
     "also serve DIR read-only, like a TFTP root"},
    {"threads", CONFIG_KIND_UINT, CONFIG_FIELD(threads), 0, 256, "0", "N",
     "TFTP worker threads, 0 = one per online CPU"},
    {"max-transfers", CONFIG_KIND_UINT, CONFIG_FIELD(max_transfers), 1, 100000, "10000", "N",
     "concurrent transfers in all"},
    {"max-transfers-per-client", CONFIG_KIND_UINT, CONFIG_FIELD(max_transfers_per_client), 1, 10000,
     "64", "N", "concurrent transfers per client (IPv4 address, IPv6 /64)"},
    {"max-unacked", CONFIG_KIND_UINT, CONFIG_FIELD(max_unacked), 1, 100000, "1000", "N",
     "transfers not yet acknowledged, in all"},
    {"max-unacked-per-prefix", CONFIG_KIND_UINT, CONFIG_FIELD(max_unacked_per_prefix), 1, 100000,
     "64", "N", "transfers not yet acknowledged per IPv4 /24 or IPv6 /64"},
    {"rollover", CONFIG_KIND_BOOL01, CONFIG_FIELD(rollover_to_one), 0, 1, "0", "0|1",
     "block number after 65535: 0 or 1"},
    {"foreground", CONFIG_KIND_FLAG, CONFIG_FIELD(foreground), 0, 1, "no", NULL,
     "stay in the foreground (in the file: yes or no)"},
    {"log-level", CONFIG_KIND_LOG_LEVEL, CONFIG_FIELD(log_level), 0, 0, "info", "LEVEL",
     "debug, info, warn or error"},
    {"user", CONFIG_KIND_STRING, CONFIG_FIELD(user), 0, 0, NULL, "NAME",
     "user to run as once sockets are bound"},
    {"max-blksize", CONFIG_KIND_UINT, CONFIG_FIELD(max_blksize), TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX,
     "65464", "N", "largest blksize granted (RFC 2348)"},
    {"max-windowsize", CONFIG_KIND_UINT, CONFIG_FIELD(max_windowsize), TFTP_WINDOW_MIN,
     TFTP_WINDOW_MAX, "64", "N", "largest windowsize granted (RFC 7440)"},
    {"retries", CONFIG_KIND_UINT, CONFIG_FIELD(retries), 1, 20, "5", "N",
     "resends before a transfer is given up"},
    {"timeout-ms", CONFIG_KIND_UINT, CONFIG_FIELD(timeout_ms), 100, 60000, "1000", "MS",
     "first resend timeout when none is negotiated"},
    {"grace-period", CONFIG_KIND_UINT, CONFIG_FIELD(grace_seconds), 0, 3600, "10", "SECONDS",
     "on SIGTERM, time transfers get to finish"},
    {"scrub-interval", CONFIG_KIND_UINT, CONFIG_FIELD(scrub_interval), 0, 31536000, "86400",
     "SECONDS", "re-hash every stored file this often, 0 = never"},
    {"scrub-rate", CONFIG_KIND_UINT, CONFIG_FIELD(scrub_rate_mb), 0, 100000, "50", "MB/S",
     "read at most this fast while scrubbing, 0 = no limit"},
    {"admin-listen", CONFIG_KIND_STRING, CONFIG_FIELD(admin_listen), 0, 0, "[::]:8443", "ADDR:PORT",
     "admin web interface and API, \"none\" = off"},
    {"admin-cert", CONFIG_KIND_STRING, CONFIG_FIELD(admin_cert), 0, 0, NULL, "FILE",
     "PEM certificate for HTTPS on the admin interface"},
    {"admin-key", CONFIG_KIND_STRING, CONFIG_FIELD(admin_key), 0, 0, NULL, "FILE",
     "PEM private key for --admin-cert"},
    {"admin-insecure-http", CONFIG_KIND_FLAG, CONFIG_FIELD(admin_insecure_http), 0, 1, "no", NULL,
     "allow plain HTTP on a non-loopback admin address"},
    {"web-root", CONFIG_KIND_STRING, CONFIG_FIELD(web_root), 0, 0, NULL, "DIR",
     "the admin web page's files (default: installed, else the source tree's)"},
    {"upload-max-mb", CONFIG_KIND_UINT, CONFIG_FIELD(upload_max_mb), 1, 65536, "2048", "MB",
     "largest firmware bundle the admin interface accepts as an upload"},
    {"inventory-stuck-s", CONFIG_KIND_UINT, CONFIG_FIELD(inventory_stuck_s), 1, 604800, "1800",
     "SECONDS",
     "firmware inventory: a phone that started a load this long ago and has not "
     "finished it is stuck (tests use a few seconds)"},
    {"files-listen", CONFIG_KIND_LISTEN, CONFIG_FIELD(files_listen), 0, CONFIG_LISTEN_MAX,
     "[::]:6970", "ADDR:PORT", "HTTP file service address, repeatable, \"none\" = off"},
    {"files-max-connections", CONFIG_KIND_UINT, CONFIG_FIELD(files_max_connections), 1, 100000,
     "4096", "N", "HTTP file service connections in all (more get 503)"},
    {"files-max-connections-per-client", CONFIG_KIND_UINT,
     CONFIG_FIELD(files_max_connections_per_client), 1, 100000, "64", "N",
     "HTTP file service connections per client (IPv4 address, IPv6 /64)"},
    {"files-timeout", CONFIG_KIND_UINT, CONFIG_FIELD(files_timeout), 1, 3600, "30", "SECONDS",
     "HTTP file service: idle time, and the time a request head may take"},
    {"upstream", CONFIG_KIND_URL, CONFIG_FIELD(upstream), 0, 0, NULL, "URL",
     "a central loadsd's file service (http://central:6970) or a TFTP server (tftp://host) to "
     "pull missing loads from"},
    {"upstream-tftp-blksize", CONFIG_KIND_UINT, CONFIG_FIELD(upstream_tftp_blksize),
     TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX, "1468", "N",
     "tftp:// upstream: blksize asked for (512 = none asked)"},
    {"upstream-tftp-windowsize", CONFIG_KIND_UINT, CONFIG_FIELD(upstream_tftp_windowsize), 1,
     TFTP_GET_WINDOW_MAX, "16", "N", "tftp:// upstream: windowsize asked for (1 = lock-step)"},
    {"upstream-configs", CONFIG_KIND_ONOFF, CONFIG_FIELD(upstream_configs), 0, 1, "off", "on|off",
     "tftp:// upstream: serve its SEP<MAC>.cnf.xml and XMLDefault.cnf.xml, fetched per request "
     "(the last good copy when it is unreachable)"},
    {"upstream-pulls", CONFIG_KIND_UINT, CONFIG_FIELD(upstream_pulls), 1, PULL_WORKERS_MAX, "2",
     "N", "loads pulled from the upstream at once"},
    {"upstream-hold-ms", CONFIG_KIND_UINT, CONFIG_FIELD(upstream_hold_ms), 0, 60000, "8000", "MS",
     "a TFTP request for a load being pulled goes unanswered this long (its resends may be "
     "served)"},
    {"upstream-quota-mb", CONFIG_KIND_UINT, CONFIG_FIELD(upstream_quota_mb), 0, PULL_QUOTA_MB_MAX,
     "0", "MB",
     "loads pulled from the upstream kept at most (the least recently pulled not in use go), "
     "0 = no quota"},
    {"stage-rate", CONFIG_KIND_UINT, CONFIG_FIELD(stage_rate_kbit), 0, 100000000, "0", "KBIT",
     "kbit/s staged pulls receive at most (not pulls a phone waits for), 0 = no cap"},
    {"probe-rate", CONFIG_KIND_UINT, CONFIG_FIELD(probe_rate), 1, 1000, "20", "N",
     "probe_load_servers on: TFTP requests per second the load-server probe sends at most"},
    {"probe-port", CONFIG_KIND_UINT, CONFIG_FIELD(probe_port), 1, 65535, "69", "PORT",
     "the UDP port probed load servers are asked on (phones always use 69; another is for "
     "tests)"},
    {"stage-window", CONFIG_KIND_WINDOW, CONFIG_FIELD(stage_window), 0, 0, NULL, "HH:MM-HH:MM",
     "staged pulls start only inside this local time window (may wrap midnight)"},
    {"central", CONFIG_KIND_URL, CONFIG_FIELD(central), 0, 0, NULL, "URL",
     "report to this central loadsd's admin API (https://central:8443) what this branch holds, "
     "and stage what it wants"},
    {"central-ca", CONFIG_KIND_STRING, CONFIG_FIELD(central_ca), 0, 0, NULL, "FILE",
     "PEM CA bundle the central's certificate is verified against (default: the system's)"},
    {"central-token-file", CONFIG_KIND_STRING, CONFIG_FIELD(central_token_file), 0, 0, NULL, "FILE",
     "this branch's token for --central, one line (loadsctl branch add prints it)"},
};

#define CONFIG_KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

static void config_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void config_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Finds a key by name; "_" matches "-". */
static const struct config_key *config_find_key(const char *name, size_t len)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const char *k = config_keys[i].name;
        size_t j = 0;

        if (strlen(k) != len)
            continue;
        while (j < len && (name[j] == k[j] || (name[j] == '_' && k[j] == '-')))
            j++;
        if (j == len)
            return &config_keys[i];
    }
    return NULL;
}

/* ---- setting one key ---- */

static int config_parse_yes_no(const char *value, bool *out)
{
    static const char *const yes[] = {"yes", "1", "true"};
    static const char *const no[] = {"no", "0", "false"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(value, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(value, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int config_parse_on_off(const char *value, bool *out)
{
    if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
        *out = value[1] == 'n';
        return 0;
    }
    return config_parse_yes_no(value, out);
}

static int config_set_uint(const struct config_key *k, void *field, const char *value, char *err,
                           size_t errlen)
{
    char shown[CONFIG_VALUE_SHOWN];
    uint64_t v;
    int rc = numparse_u64(value, k->min, k->max, &v);

    if (rc == 0) {
        if (k->kind == CONFIG_KIND_BOOL01)
            *(bool *)field = v != 0;
        else
            *(unsigned *)field = (unsigned)v;
        return 0;
    }
    log_clean(value, strlen(value), shown, sizeof(shown));
    if (rc == -2)
        config_error(err, errlen, "%s: \"%s\" is out of range %u..%u", k->name, shown, k->min,
                     k->max);
    else
        config_error(err, errlen, "%s: \"%s\" is not a number", k->name, shown);
    return -1;
}

/* The list and its count a listen key fills. */
static unsigned *config_listen_count(struct loadsd_config *c, const struct config_key *k)
{
    return k->offset == offsetof(struct loadsd_config, files_listen) ? &c->files_listen_count
                                                                     : &c->tftp_listen_count;
}

/* Bit of a listen key in the "first seen" mask (its first use replaces the list). */
static unsigned config_listen_bit(const struct config_key *k)
{
    return k->offset == offsetof(struct loadsd_config, files_listen) ? 2u : 1u;
}

static int config_set_listen(const struct config_key *k, struct loadsd_config *c, const char *value,
                             char *err, size_t errlen)
{
    struct net_listen *list = (struct net_listen *)((char *)c + k->offset);
    unsigned *count = config_listen_count(c, k);
    char shown[CONFIG_VALUE_SHOWN];

    if (strcmp(value, "none") == 0 && list == c->files_listen)
        return 0; /* the file service off: an empty list */
    if (*count >= CONFIG_LISTEN_MAX) {
        config_error(err, errlen, "%s: at most %d addresses", k->name, CONFIG_LISTEN_MAX);
        return -1;
    }
    if (net_listen_parse(value, &list[*count]) != 0) {
        log_clean(value, strlen(value), shown, sizeof(shown));
        config_error(err, errlen,
                     "%s: \"%s\" is not ADDR:PORT, [V6ADDR]:PORT or *:PORT (numeric, port "
                     "1..65535)",
                     k->name, shown);
        return -1;
    }
    (*count)++;
    return 0;
}

static int config_set_text(const struct config_key *k, char *field, const char *value, char *err,
                           size_t errlen)
{
    size_t len = strlen(value);

    if (len >= k->size) {
        config_error(err, errlen, "%s: longer than %zu bytes", k->name, k->size - 1);
        return -1;
    }
    memcpy(field, value, len + 1);
    return 0;
}

/* "" or "none" clears it. */
static int config_set_url(const struct config_key *k, char *field, const char *value, char *err,
                          size_t errlen)
{
    char why[160], shown[CONFIG_VALUE_SHOWN];

    if (value[0] == '\0' || strcmp(value, "none") == 0) {
        field[0] = '\0';
        return 0;
    }
    if (upstream_url_normalize(value, field, k->size, why, sizeof(why)) == 0)
        return 0;
    log_clean(value, strlen(value), shown, sizeof(shown));
    config_error(err, errlen, "%s: \"%s\": %s", k->name, shown, why);
    return -1;
}

/* "none" clears it. */
static int config_set_window(const struct config_key *k, char *field, const char *value, char *err,
                             size_t errlen)
{
    char why[160], shown[CONFIG_VALUE_SHOWN];
    struct stage_window w;

    if (stage_window_parse(value, &w, why, sizeof(why)) == 0) {
        snprintf(field, k->size, "%s", w.set ? value : "");
        return 0;
    }
    log_clean(value, strlen(value), shown, sizeof(shown));
    config_error(err, errlen, "%s: \"%s\": %s", k->name, shown, why);
    return -1;
}

static int config_set_value(struct loadsd_config *c, const struct config_key *k, const char *value,
                            char *err, size_t errlen)
{
    char shown[CONFIG_VALUE_SHOWN];
    void *field = (char *)c + k->offset;

    switch (k->kind) {
    case CONFIG_KIND_PATH:
    case CONFIG_KIND_STRING:
        return config_set_text(k, field, value, err, errlen);
    case CONFIG_KIND_LISTEN:
        return config_set_listen(k, c, value, err, errlen);
    case CONFIG_KIND_URL:
        return config_set_url(k, field, value, err, errlen);
    case CONFIG_KIND_WINDOW:
        return config_set_window(k, field, value, err, errlen);
    case CONFIG_KIND_UINT:
    case CONFIG_KIND_BOOL01:
        return config_set_uint(k, field, value, err, errlen);
    case CONFIG_KIND_FLAG:
        if (config_parse_yes_no(value, field) == 0)
            return 0;
        break;
    case CONFIG_KIND_ONOFF:
        if (config_parse_on_off(value, field) == 0)
            return 0;
        break;
    case CONFIG_KIND_LOG_LEVEL:
        if (log_parse_level(value, field) == 0)
            return 0;
        break;
    }
    log_clean(value, strlen(value), shown, sizeof(shown));
    config_error(err, errlen, "%s: \"%s\" is not one of %s", k->name, shown,
                 k->kind == CONFIG_KIND_FLAG    ? "yes, no, true, false, 1, 0"
                 : k->kind == CONFIG_KIND_ONOFF ? "on, off"
                                                : "debug, info, warn, error");
    return -1;
}

int config_set(struct loadsd_config *c, const char *key, const char *value, char *err,
               size_t errlen)
{
    const struct config_key *k;
    char shown[CONFIG_VALUE_SHOWN];

    if (c == NULL || key == NULL) {
        config_error(err, errlen, "no key");
        return -1;
    }
    k = config_find_key(key, strlen(key));
    if (k == NULL) {
        log_clean(key, strlen(key), shown, sizeof(shown));
        config_error(err, errlen, "unknown setting \"%s\"", shown);
        return -1;
    }
    if (value == NULL && k->kind == CONFIG_KIND_FLAG)
        value = "yes";
    if (value == NULL) {
        config_error(err, errlen, "%s: needs a value", k->name);
        return -1;
    }
    return config_set_value(c, k, value, err, errlen);
}

void config_defaults(struct loadsd_config *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        if (config_keys[i].def != NULL)
            config_set_value(c, &config_keys[i], config_keys[i].def, NULL, 0);
    }
}

/* ---- the config file ---- */

/* Reads the whole file (at most CONFIG_FILE_MAX bytes) into a NUL-terminated
 * buffer the caller frees. 0, 1 when missing and allowed to be, -1 on error. */
static int config_read_file(const char *path, bool must_exist, char **buf_out, size_t *len_out,
                            char *err, size_t errlen)
{
    int rc = fileio_read_file(path, CONFIG_FILE_MAX, buf_out, len_out);

    if (rc == -ENOENT && !must_exist)
        return 1;
    if (rc == -EFBIG)
        config_error(err, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
    else if (rc != 0)
        config_error(err, errlen, "%s: %s", path, strerror(-rc));
    return rc == 0 ? 0 : -1;
}

/* Parses one line (NUL-terminated, no newline) and applies it. *listen_seen
 * tracks the file's first tftp-listen and files-listen, each of which
 * replaces the defaults' list. */
static int config_apply_line(struct loadsd_config *c, char *line, size_t len, unsigned *listen_seen,
                             char *msg, size_t msglen)
{
    const struct config_key *k;
    const char *why = NULL;
    char *key, *value;
    int rc = conffile_split(line, len, &key, &value, &why);

    if (rc <= 0) {
        if (rc < 0)
            config_error(msg, msglen, "%s", why);
        return rc;
    }
    k = config_find_key(key, strlen(key));
    if (k != NULL && k->kind == CONFIG_KIND_PATH) {
        config_error(msg, msglen, "%s: only on the command line", k->name);
        return -1;
    }
    if (k != NULL && k->kind == CONFIG_KIND_LISTEN && !(*listen_seen & config_listen_bit(k))) {
        *config_listen_count(c, k) = 0;
        *listen_seen |= config_listen_bit(k);
    }
    return config_set(c, key, value, msg, msglen);
}

int config_load_file(struct loadsd_config *c, const char *path, bool must_exist, char *err,
                     size_t errlen)
{
    char msg[256];
    char *buf = NULL;
    unsigned listen_seen = 0;
    size_t len = 0;
    size_t lineno = 0;
    char *line;
    int rc = -1;

    if (c == NULL || path == NULL) {
        config_error(err, errlen, "no config file");
        return -1;
    }
    rc = config_read_file(path, must_exist, &buf, &len, err, errlen);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    rc = -1;
    for (line = buf; line < buf + len;) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        char *end = nl != NULL ? nl : buf + len;

        lineno++;
        if ((size_t)(end - line) > CONFIG_LINE_MAX) {
            config_error(err, errlen, "%s:%zu: line longer than %d bytes", path, lineno,
                         CONFIG_LINE_MAX);
            goto out;
        }
        if (config_apply_line(c, line, (size_t)(end - line), &listen_seen, msg, sizeof(msg)) != 0) {
            config_error(err, errlen, "%s:%zu: %s", path, lineno, msg);
            goto out;
        }
        line = end + 1;
    }
    rc = 0;
out:
    free(buf);
    return rc;
}

/* ---- the command line ---- */

/* One parsed flag: its key, and its value (NULL for a bare --foreground). */
struct config_flag {
    const struct config_key *key;
    const char *value;
};

enum { CONFIG_ARG_HELP = 1, CONFIG_ARG_VERSION = 2 };

/* Parses argv[*i] (and maybe argv[*i + 1]) into flag, advancing *i.
 * 0, CONFIG_ARG_HELP, CONFIG_ARG_VERSION, or -1 with a message. */
static int config_next_flag(int argc, char **argv, int *i, struct config_flag *flag, char *err,
                            size_t errlen)
{
    char shown[CONFIG_VALUE_SHOWN];
    const char *arg = argv[*i];
    const char *eq;
    size_t name_len;

    (*i)++;
    if (strcmp(arg, "--help") == 0)
        return CONFIG_ARG_HELP;
    if (strcmp(arg, "--version") == 0)
        return CONFIG_ARG_VERSION;
    log_clean(arg, strlen(arg), shown, sizeof(shown));
    if (strncmp(arg, "--", 2) != 0) {
        config_error(err, errlen, "unexpected argument \"%s\" (try --help)", shown);
        return -1;
    }
    arg += 2;
    eq = strchr(arg, '=');
    name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    flag->key = config_find_key(arg, name_len);
    if (flag->key == NULL) {
        config_error(err, errlen, "unknown option \"%s\" (try --help)", shown);
        return -1;
    }
    flag->value = eq != NULL ? eq + 1 : NULL;
    if (flag->value == NULL && flag->key->kind != CONFIG_KIND_FLAG) {
        if (*i >= argc) {
            config_error(err, errlen, "--%s needs a value", flag->key->name);
            return -1;
        }
        flag->value = argv[(*i)++];
    }
    return 0;
}

/* The "(range, default X)" line under a key's help text, or "". */
static void config_help_note(const struct config_key *k, char *buf, size_t cap)
{
    bool ranged = k->kind == CONFIG_KIND_UINT || k->kind == CONFIG_KIND_BOOL01;

    buf[0] = '\0';
    if (ranged && k->def != NULL)
        snprintf(buf, cap, "(%u..%u, default %s)", k->min, k->max, k->def);
    else if (k->def != NULL)
        snprintf(buf, cap, "(default %s)", k->def);
}

static void config_print_help(void)
{
    printf("Usage: loadsd [OPTION]...\n"
           "Serve IP phone firmware and configuration over TFTP.\n"
           "Every option but --config can also be set as \"key = value\" in the\n"
           "config file; options given here win.\n\n");
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const struct config_key *k = &config_keys[i];
        char left[64];
        char note[96];

        snprintf(left, sizeof(left), "--%s%s%s", k->name, k->arg != NULL ? " " : "",
                 k->arg != NULL ? k->arg : "");
        config_help_note(k, note, sizeof(note));
        printf("  %-30s %s\n", left, k->help);
        if (note[0] != '\0')
            printf("  %-30s %s\n", "", note);
    }
    printf("  %-30s %s\n  %-30s %s\n", "--help", "print this help and exit", "--version",
           "print the version and exit");
}

/* First pass: checks the arguments and finds --config; stops at --help or
 * --version (like getopt-based programs, which act on them when seen). */
static int config_scan_args(int argc, char **argv, const char **config_path, char *err,
                            size_t errlen)
{
    struct config_flag flag;
    int i = 1;

    while (i < argc) {
        int rc = config_next_flag(argc, argv, &i, &flag, err, errlen);

        if (rc != 0)
            return rc;
        if (flag.key->kind == CONFIG_KIND_PATH)
            *config_path = flag.value;
    }
    return 0;
}

/* Second pass: applies the flags; the first --tftp-listen (or --files-listen)
 * replaces its list. */
static int config_apply_args(struct loadsd_config *c, int argc, char **argv, char *err,
                             size_t errlen)
{
    struct config_flag flag;
    unsigned listen_seen = 0;
    char msg[256];
    int i = 1;

    while (i < argc) {
        int rc = config_next_flag(argc, argv, &i, &flag, err, errlen);

        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (flag.key->kind == CONFIG_KIND_LISTEN && !(listen_seen & config_listen_bit(flag.key))) {
            *config_listen_count(c, flag.key) = 0;
            listen_seen |= config_listen_bit(flag.key);
        }
        if (config_set_value(c, flag.key, flag.value != NULL ? flag.value : "yes", msg,
                             sizeof(msg)) != 0) {
            config_error(err, errlen, "--%s", msg);
            return -1;
        }
    }
    return 0;
}

/* Settings that only make sense together. */
static int config_check(const struct loadsd_config *c, char *err, size_t errlen)
{
    if (c->upstream_configs && !upstream_url_is_tftp(c->upstream)) {
        config_error(err, errlen,
                     "upstream-configs: \"on\" needs a tftp:// upstream (a central loadsd's "
                     "configs are its own)");
        return -1;
    }
    if (c->central[0] != '\0' && upstream_url_is_tftp(c->central)) {
        config_error(err, errlen, "central: the central's admin API is http:// or https://");
        return -1;
    }
    if (c->central[0] != '\0' && c->central_token_file[0] == '\0') {
        config_error(err, errlen,
                     "central: needs central-token-file (the token loadsctl branch add printed "
                     "at the central)");
        return -1;
    }
    return 0;
}

int config_load(struct loadsd_config *c, int argc, char **argv, char *err, size_t errlen)
{
    const char *path = NULL;
    int rc;

    if (c == NULL || (argc > 0 && argv == NULL)) {
        config_error(err, errlen, "no arguments");
        return -1;
    }
    config_defaults(c);
    rc = config_scan_args(argc, argv, &path, err, errlen);
    if (rc == CONFIG_ARG_HELP)
        config_print_help();
    if (rc == CONFIG_ARG_VERSION)
        printf("loadsd " PACKAGE_VERSION "\n");
    if (rc != 0)
        return rc > 0 ? 1 : -1;
    if (config_load_file(c, path != NULL ? path : CONFIG_DEFAULT_PATH, path != NULL, err, errlen) !=
        0)
        return -1;
    if (config_apply_args(c, argc, argv, err, errlen) != 0)
        return -1;
    return config_check(c, err, errlen);
}
