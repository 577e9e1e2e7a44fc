/* ctl.h: what loadsctl's command files share: the open data directory, output
 * in tables or JSON, and the exit codes (0 done, 1 refused, 2 usage). */
#ifndef LOADSD_CTL_H
#define LOADSD_CTL_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/datadir.h"

#define CTL_OK      0
#define CTL_REFUSED 1
#define CTL_USAGE   2

struct ctl {
    struct datadir dd;
    bool json;
    char actor[96];     /* the operating-system user, for the audit trail */
    const char *config; /* loadsd's config file (--config, else the default path) */
};

struct ctl_command {
    const char *name; /* "import", or "trust add" */
    const char *usage;
    int (*run)(struct ctl *c, int argc, char **argv);
};

extern const struct ctl_command ctl_catalog_commands[];
extern const struct ctl_command ctl_provision_commands[];
/* device list, devices import/template/set/delete (admin/ctl/ctl_devices.c). */
extern const struct ctl_command ctl_devices_commands[];
extern const struct ctl_command ctl_users_commands[];
extern const struct ctl_command ctl_recover_commands[];
/* stage LOAD (admin/ctl/ctl_stage.c): one pull from the upstream, now. */
extern const struct ctl_command ctl_stage_commands[];
/* branch add|list|show|remove (admin/ctl/ctl_fleet.c): fleet control. */
extern const struct ctl_command ctl_fleet_commands[];
/* probe list, probe show HOST (admin/ctl/ctl_probe.c): the load-server probe's results. */
extern const struct ctl_command ctl_probe_commands[];
/* inventory (admin/ctl/ctl_inventory.c): the firmware inventory. */
extern const struct ctl_command ctl_inventory_commands[];
/* True for the commands that run on a data directory whose catalog is lost
 * (admin/ctl/ctl_recover.c): they get dd.db NULL there instead of a refusal. */
bool ctl_runs_without_catalog(const struct ctl_command *cmd);
/* render MAC [--from IP] (admin/ctl/ctl_render.c): the config file a phone would get. */
int ctl_render(struct ctl *c, int argc, char **argv);

/* Prints "loadsctl: ..." on stderr; returns CTL_REFUSED. */
int ctl_refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the usage line on stderr; returns CTL_USAGE. */
int ctl_usage(const struct ctl_command *cmd);
/* Prints v as JSON on stdout and releases it; returns CTL_OK. */
int ctl_print_json(json_t *v);

/* getopt_long over a subcommand's arguments (long options only). */
int ctl_next_opt(int argc, char **argv, const struct option *opts);
/* Readies getopt for the next argument vector (GNU: optind 0). */
void ctl_opts_reset(void);

/* A plain text table: columns padded to the widest cell. */
struct ctl_table;
struct ctl_table *ctl_table_new(unsigned columns, ...);
void ctl_table_row(struct ctl_table *t, ...);
void ctl_table_print(struct ctl_table *t);

/* Reads a regular file of at most max bytes into a NUL-terminated buffer
 * (the caller frees it); NULL with *err = an errno value (EFBIG when larger). */
char *ctl_read_file(const char *path, size_t max, size_t *len, int *err);
/* Formats a byte count as "7.1 MB". */
const char *ctl_size(uint64_t bytes, char *buf, size_t cap);
/* Formats a Unix time as "2026-11-21 20:30" (UTC). */
const char *ctl_time(int64_t t, char *buf, size_t cap);

#endif
