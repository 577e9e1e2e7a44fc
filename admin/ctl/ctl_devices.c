/* ctl_devices.c: loadsctl's commands over many devices: `device list` with
 * the effective columns, filters and sort (devlist.c, as the API), `devices
 * import` (all or nothing, or --partial with a rejected-rows file),
 * `devices template`, and `devices set` / `devices delete` for every device
 * a search selects, in one transaction with one audit row (devtasks.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "admin/csv.h"
#include "admin/ctl/ctl.h"
#include "admin/devcsv.h"
#include "admin/devlist.h"
#include "admin/devtasks.h"
#include "db/db.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/numparse.h"

static const struct ctl_command *self(const char *name);

/* A filter option's value into q; a refusal names the option. */
static int filter_opt(struct devquery *q, const char *name, const char *opt, const char *value)
{
    const char *why;

    if (devquery_set(q, name, value, strlen(value), &why) == 0)
        return CTL_OK;
    return ctl_refuse("--%s: %s", opt, why);
}

/* ---- device list ---- */

static const char *level_shown(const char *value, enum settings_level level)
{
    static _Thread_local char buf[SETTINGS_VALUE_MAX + 32];

    snprintf(buf, sizeof(buf), "%s (%s)", value[0] ? value : "none", settings_level_name(level));
    return buf;
}

static void list_table(const struct devlist *l, size_t offset, size_t limit)
{
    struct ctl_table *t = ctl_table_new(7, "MAC", "MODEL", "PROFILE", "LOAD",
                                        "PEER_FIRMWARE_SHARING", "LOAD_SERVER", "DESCRIPTION");
    char load[SETTINGS_VALUE_MAX + 48], pfs[SETTINGS_VALUE_MAX + 32];

    for (size_t i = offset; i < l->n && i - offset < limit; i++) {
        const struct devquery_row *r = &l->rows[i];

        snprintf(load, sizeof(load), "%s%s", level_shown(r->load, r->load_level),
                 r->held_back ? " held back" : "");
        snprintf(pfs, sizeof(pfs), "%s", level_shown(r->pfs, r->pfs_level));
        ctl_table_row(t, r->dev->mac, r->model, r->profile[0] ? r->profile : "-", load, pfs,
                      level_shown(r->load_server, r->load_server_level), r->dev->description);
    }
    ctl_table_print(t);
}

static int cmd_device_list(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"search", required_argument, NULL, 'q'},
                                         {"model", required_argument, NULL, 'm'},
                                         {"profile", required_argument, NULL, 'p'},
                                         {"load", required_argument, NULL, 'l'},
                                         {"site", required_argument, NULL, 's'},
                                         {"sort", required_argument, NULL, 'S'},
                                         {"offset", required_argument, NULL, 'o'},
                                         {"limit", required_argument, NULL, 'n'},
                                         {0}};
    static const char *const names[128] = {
        ['q'] = "q", ['m'] = "model", ['p'] = "profile", ['l'] = "load", ['s'] = "site"};
    uint64_t offset = 0, limit = SIZE_MAX;
    struct devquery q = {0};
    struct devlist l;
    const char *why;
    int o, rc = CTL_OK;

    ctl_opts_reset();
    while (rc == CTL_OK && (o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o > 0 && o < 128 && names[o] != NULL)
            rc = filter_opt(&q, names[o], o == 'q' ? "search" : names[o], optarg);
        else if (o == 'S' && devquery_sort_parse(&q, optarg, strlen(optarg), &why) != 0)
            rc = ctl_refuse("--sort: %s", why);
        else if (o == 'o' && numparse_u64(optarg, 0, INT64_MAX, &offset) != 0)
            rc = ctl_usage(self("device list"));
        else if (o == 'n' && numparse_u64(optarg, 1, INT64_MAX, &limit) != 0)
            rc = ctl_usage(self("device list"));
        else if (o == '?')
            rc = ctl_usage(self("device list"));
    }
    if (rc != CTL_OK)
        return rc;
    if (optind != argc)
        return ctl_usage(self("device list"));
    if ((rc = devlist_open(c->dd.db, &q, &l)) != DB_OK) {
        devlist_close(&l);
        return ctl_refuse("cannot list devices");
    }
    if (c->json) {
        json_t *page = devlist_page_json(&l, (size_t)offset, (size_t)limit);

        rc = ctl_print_json(json_incref(json_object_get(page, "devices")));
        json_decref(page);
    } else {
        list_table(&l, (size_t)offset, (size_t)limit);
        rc = CTL_OK;
    }
    devlist_close(&l);
    return rc;
}

/* ---- devices import / template ---- */

static void import_report_print(const struct devcsv_report *rep, const char *path)
{
    char show[256];

    log_clean(path, SIZE_MAX, show, sizeof(show));
    for (size_t i = 0; i < rep->n_errors; i++) {
        if (rep->errors[i].line > 0)
            fprintf(stderr, "%s:%u: %s\n", show, rep->errors[i].line, rep->errors[i].text);
        else
            fprintf(stderr, "%s: %s\n", show, rep->errors[i].text);
    }
    if (rep->more_errors > 0)
        fprintf(stderr, "%s: ... and %u more error(s)\n", show, rep->more_errors);
}

/* The rejected rows to path (written whole: a temporary file renamed). */
static int rejected_write(const char *path, const char *csv)
{
    char tmp[4096];
    FILE *f;
    int rc = 0;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    if (fputs(csv, f) == EOF)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static int import_done(struct ctl *c, int rc, const struct devcsv_report *rep, const char *path,
                       const char *rejected, const char *rejected_path)
{
    if (rc == DEVCSV_INVALID) {
        import_report_print(rep, path);
        return ctl_refuse("nothing was imported: %zu error(s) in %u row(s)",
                          rep->n_errors + rep->more_errors, rep->rows);
    }
    if (rc != DEVCSV_OK)
        return ctl_refuse("nothing was imported: the database failed");
    if (rejected != NULL && rejected_path != NULL && rejected_write(rejected_path, rejected) != 0)
        return ctl_refuse("imported, but cannot write the rejected rows to %s: %s", rejected_path,
                          strerror(errno));
    if (c->json)
        return ctl_print_json(devtasks_csv_report(rc, rep));
    if (rep->rejected > 0)
        import_report_print(rep, path);
    printf("imported %u row(s): %u added, %u updated, %u unchanged", rep->rows - rep->rejected,
           rep->added, rep->updated, rep->unchanged);
    if (rep->rejected > 0)
        printf("; %u rejected%s%s", rep->rejected, rejected_path ? ", written to " : "",
               rejected_path ? rejected_path : "");
    printf("\n");
    return CTL_OK;
}

static int cmd_devices_import(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"partial", no_argument, NULL, 'p'},
                                         {"rejected", required_argument, NULL, 'r'},
                                         {0}};
    struct devcsv_options opt = {false, false};
    const char *rejected_path = NULL;
    struct devcsv_report *rep;
    char *data, *rejected = NULL;
    size_t len = 0;
    int o, err, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o == 'f')
            opt.force = true;
        else if (o == 'p')
            opt.partial = true;
        else if (o == 'r')
            rejected_path = optarg;
        else
            return ctl_usage(self("devices import"));
    }
    if (optind + 1 != argc || (rejected_path != NULL && !opt.partial))
        return ctl_usage(self("devices import"));
    data = ctl_read_file(argv[optind], CSV_INPUT_MAX, &len, &err);
    if (data == NULL)
        return ctl_refuse("cannot read %s: %s", argv[optind],
                          err == EFBIG ? "not a regular file, or too large" : strerror(err));
    rep = malloc(sizeof(*rep));
    rc = rep ? devcsv_import_opts(c->dd.db, c->actor, data, len, &opt, rep, &rejected) : DEVCSV_DB;
    free(data);
    rc = rep ? import_done(c, rc, rep, argv[optind], rejected, rejected_path)
             : ctl_refuse("out of memory");
    free(rejected);
    free(rep);
    return rc;
}

static int template_out(void *arg, const char *text, size_t len)
{
    return fwrite(text, 1, len, arg) == len ? 0 : -1;
}

static int cmd_devices_template(struct ctl *c, int argc, char **argv)
{
    (void)c;
    (void)argv;
    if (argc != 1)
        return ctl_usage(self("devices template"));
    return devcsv_template(template_out, stdout) == 0 ? CTL_OK : ctl_refuse("cannot write");
}

/* ---- devices set / delete ---- */

enum bulk_opt {
    OPT_MAC = 1,
    OPT_ALL,
    OPT_FORCE,
    OPT_SEARCH,
    OPT_WHERE_MODEL,
    OPT_WHERE_PROFILE,
    OPT_WHERE_LOAD,
    OPT_WHERE_SITE,
    OPT_LOAD,
    OPT_PROFILE,
    OPT_PFS,
    OPT_LOAD_SERVER
};

static const struct option bulk_opts[] = {
    {"mac", required_argument, NULL, OPT_MAC},
    {"all", no_argument, NULL, OPT_ALL},
    {"force", no_argument, NULL, OPT_FORCE},
    {"search", required_argument, NULL, OPT_SEARCH},
    {"where-model", required_argument, NULL, OPT_WHERE_MODEL},
    {"where-profile", required_argument, NULL, OPT_WHERE_PROFILE},
    {"where-load", required_argument, NULL, OPT_WHERE_LOAD},
    {"where-site", required_argument, NULL, OPT_WHERE_SITE},
    {"load", required_argument, NULL, OPT_LOAD},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"pfs", required_argument, NULL, OPT_PFS},
    {"load-server", required_argument, NULL, OPT_LOAD_SERVER},
    {0},
};

static int add_mac(struct devtasks_bulk *b, const char *text)
{
    void *grown;

    if (b->n_macs >= DEVTASKS_MACS_MAX)
        return ctl_refuse("at most %d --mac", DEVTASKS_MACS_MAX);
    grown = realloc(b->macs, (b->n_macs + 1) * sizeof(*b->macs));
    if (grown == NULL)
        return ctl_refuse("out of memory");
    b->macs = grown;
    if (settings_mac_normalize(text, b->macs[b->n_macs]) != 0)
        return ctl_refuse("--mac: not a MAC address: %s", text);
    b->n_macs++;
    b->by_macs = true;
    return CTL_OK;
}

/* --load/--pfs/--load-server VALUE|inherit into o. */
static int value_opt(const char *opt, enum settings_key key, const char *text, bool *flag,
                     struct settings_opt *o)
{
    const char *why;

    *flag = true;
    o->set = strcasecmp(text, "inherit") != 0;
    if (!o->set)
        return CTL_OK;
    if (settings_value_normalize(key, text, o->value, &why) != 0)
        return ctl_refuse("--%s: %s", opt, why);
    return CTL_OK;
}

static int bulk_opt(struct devtasks_bulk *b, int o, const char *arg, bool *all)
{
    static const char *const where[] = {[OPT_SEARCH] = "q",
                                        [OPT_WHERE_MODEL] = "model",
                                        [OPT_WHERE_PROFILE] = "profile",
                                        [OPT_WHERE_LOAD] = "load",
                                        [OPT_WHERE_SITE] = "site"};
    struct devbulk_change *c = &b->change;

    switch (o) {
    case OPT_MAC:
        return add_mac(b, arg);
    case OPT_ALL:
        *all = true;
        return CTL_OK;
    case OPT_FORCE:
        b->force = true;
        return CTL_OK;
    case OPT_SEARCH:
    case OPT_WHERE_MODEL:
    case OPT_WHERE_PROFILE:
    case OPT_WHERE_LOAD:
    case OPT_WHERE_SITE:
        return filter_opt(&b->query, where[o], bulk_opts[o - 1].name, arg);
    case OPT_PROFILE:
        c->set_profile = true;
        snprintf(c->profile, sizeof(c->profile), "%s", strcasecmp(arg, "none") == 0 ? "" : arg);
        return strlen(arg) < sizeof(c->profile) ? CTL_OK : ctl_refuse("--profile: too long");
    case OPT_LOAD:
        return value_opt("load", SETTINGS_KEY_LOAD, arg, &c->set_load, &c->load);
    case OPT_PFS:
        return value_opt("pfs", SETTINGS_KEY_PFS, arg, &c->set_pfs, &c->pfs);
    case OPT_LOAD_SERVER:
        return value_opt("load-server", SETTINGS_KEY_LOAD_SERVER, arg, &c->set_load_server,
                         &c->load_server);
    default:
        return CTL_USAGE;
    }
}

static bool query_empty(const struct devquery *q)
{
    return !q->q[0] && !q->model[0] && !q->profile[0] && !q->load[0] && !q->site[0];
}

/* The selection is one of: --mac..., filters, --all (never nothing: a
 * forgotten --search must not change every device). */
static int bulk_args(struct devtasks_bulk *b, int argc, char **argv, const char *cmd)
{
    bool all = false;
    int o, rc = CTL_OK;

    ctl_opts_reset();
    while (rc == CTL_OK && (o = ctl_next_opt(argc, argv, bulk_opts)) != -1)
        rc = o == '?' ? CTL_USAGE : bulk_opt(b, o, optarg, &all);
    if (rc == CTL_USAGE || optind != argc)
        return ctl_usage(self(cmd));
    if (rc != CTL_OK)
        return rc;
    if ((b->by_macs ? 1 : 0) + (all ? 1 : 0) + (query_empty(&b->query) ? 0 : 1) != 1)
        return ctl_refuse("select the devices with --mac, with --search/--where-*, or with --all "
                          "(one of the three)");
    if (b->remove != !(b->change.set_load || b->change.set_profile || b->change.set_pfs ||
                       b->change.set_load_server))
        return b->remove ? ctl_refuse("devices delete sets nothing")
                         : ctl_refuse("say what to set: --load, --profile, --pfs or --load-server");
    return CTL_OK;
}

static int mac_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void macs_unique(struct devtasks_bulk *b)
{
    size_t k = 0;

    if (b->n_macs == 0)
        return;
    qsort(b->macs, b->n_macs, sizeof(*b->macs), mac_cmp);
    for (size_t i = 0; i < b->n_macs; i++)
        if (k == 0 || strcmp(b->macs[k - 1], b->macs[i]) != 0)
            memmove(b->macs[k++], b->macs[i], sizeof(*b->macs));
    b->n_macs = k;
}

static int bulk_print(struct ctl *c, int rc, json_t *report)
{
    json_t *problems = json_object_get(report, "problems");
    const char *why = json_string_value(json_object_get(json_array_get(problems, 0), "message"));

    if (rc != 0) {
        rc = ctl_refuse("nothing changed: %s", why ? why : "the database failed");
        json_decref(report);
        return rc;
    }
    if (c->json)
        return ctl_print_json(report);
    printf("%s: %lld device(s) matched, %lld changed\n",
           json_string_value(json_object_get(report, "action")),
           (long long)json_integer_value(json_object_get(report, "matched")),
           (long long)json_integer_value(json_object_get(report, "changed")));
    json_decref(report);
    return CTL_OK;
}

static int bulk_cmd(struct ctl *c, int argc, char **argv, bool remove, const char *cmd)
{
    struct devtasks_bulk *b = calloc(1, sizeof(*b));
    json_t *report = NULL;
    int rc;

    if (b == NULL)
        return ctl_refuse("out of memory");
    b->remove = remove;
    snprintf(b->actor, sizeof(b->actor), "%s", c->actor);
    rc = bulk_args(b, argc, argv, cmd);
    if (rc == CTL_OK) {
        macs_unique(b);
        rc = devtasks_bulk_run(c->dd.db, b, NULL, &report);
        rc = bulk_print(c, rc, report);
    }
    devtasks_bulk_free(b);
    return rc;
}

static int cmd_devices_set(struct ctl *c, int argc, char **argv)
{
    return bulk_cmd(c, argc, argv, false, "devices set");
}

static int cmd_devices_delete(struct ctl *c, int argc, char **argv)
{
    return bulk_cmd(c, argc, argv, true, "devices delete");
}

#define SELECT_USAGE                                                                               \
    "(--mac MAC... | --search TEXT [--where-model M] [--where-profile P|none]"                     \
    " [--where-load L|none] [--where-site CIDR|none] | --all)"

const struct ctl_command ctl_devices_commands[] = {
    {"device list",
     "[--search TEXT] [--model M] [--profile P|none] [--load L|none] [--site CIDR|none] "
     "[--sort [-]COLUMN] [--offset N] [--limit N]",
     cmd_device_list},
    {"devices import", "FILE.csv [--force] [--partial [--rejected OUT.csv]]", cmd_devices_import},
    {"devices template", "", cmd_devices_template},
    {"devices set",
     SELECT_USAGE " [--load L|inherit] [--profile P|none] [--pfs on|off|inherit]"
                  " [--load-server HOST|none|inherit] [--force]",
     cmd_devices_set},
    {"devices delete", SELECT_USAGE, cmd_devices_delete},
    {NULL, NULL, NULL},
};

static const struct ctl_command *self(const char *name)
{
    for (const struct ctl_command *c = ctl_devices_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return &ctl_devices_commands[0];
}
