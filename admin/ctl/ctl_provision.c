/* ctl_provision.c: loadsctl's provisioning commands: models and their
 * default loads, enterprise settings, profiles, devices (one by one and as
 * CSV), site rules, and the effective settings of a device. Argument
 * checking and output only; the rows are db/provision.c's business, the
 * JSON shapes provision_json.c's, settings_json.c's and views.c's (the API's). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/csv.h"
#include "admin/ctl/ctl.h"
#include "admin/devcsv.h"
#include "admin/provision_json.h"
#include "admin/settings_json.h"
#include "admin/views.h"
#include "db/catalog.h"
#include "db/db.h"
#include "db/model/settings.h"
#include "db/provision.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "server/cnf/cnf.h"

static const struct ctl_command *self(const char *name);

/* Ends a write transaction: commit on success, roll back otherwise. */
static int txn_end(struct ctl *c, int rc)
{
    if (rc == DB_OK)
        return db_commit(c->dd.db);
    db_rollback(c->dd.db);
    return rc;
}

static const char *cleaned(const char *s, char *buf, size_t cap)
{
    return log_clean(s, SIZE_MAX, buf, cap);
}

static const char *opt_shown(const struct settings_opt *o)
{
    if (!o->set)
        return "inherit";
    return o->value[0] ? o->value : "none";
}

static int model_resolve(struct ctl *c, const char *text, struct settings_model *m)
{
    char show[96];
    int rc = provision_model_find(c->dd.db, text, m);

    if (rc == DB_NOT_FOUND)
        return ctl_refuse("unknown model \"%s\" (see loadsctl model list)",
                          cleaned(text, show, sizeof(show)));
    if (rc == DB_CONFLICT)
        return ctl_refuse("\"%s\" matches several models: give the full name",
                          cleaned(text, show, sizeof(show)));
    return rc == DB_OK ? CTL_OK : ctl_refuse("cannot read the models");
}

static int mac_parse(const char *text, char mac[SETTINGS_MAC_LEN + 1])
{
    char show[96];

    if (settings_mac_normalize(text, mac) != 0)
        return ctl_refuse("\"%s\" is not a MAC address (001122AABBCC, 00:11:22:aa:bb:cc, "
                          "0011.22aa.bbcc or SEP001122AABBCC)",
                          cleaned(text, show, sizeof(show)));
    return CTL_OK;
}

/* A load about to be assigned: must be in the catalog and servable, unless
 * forced. Writes the catalog's spelling into name. */
static int load_check(struct ctl *c, char name[SETTINGS_VALUE_MAX], bool force)
{
    struct catalog_load l;
    char show[96];
    int rc = catalog_load_find(c->dd.db, name, &l);

    cleaned(name, show, sizeof(show));
    if (rc == DB_OK && strcmp(l.status, "quarantined") != 0) {
        snprintf(name, SETTINGS_VALUE_MAX, "%s", l.name);
        return CTL_OK;
    }
    if (rc != DB_OK && rc != DB_NOT_FOUND)
        return ctl_refuse("cannot read the catalog");
    if (!force)
        return ctl_refuse(rc == DB_NOT_FOUND
                              ? "load %s is not in the catalog: phones would never finish the "
                                "upgrade (import it first, or use --force)"
                              : "load %s is quarantined and not served (use --force to assign "
                                "it anyway)",
                          show);
    fprintf(stderr, "loadsctl: warning: load %s is %s; assigned anyway (--force)\n", show,
            rc == DB_NOT_FOUND ? "not in the catalog" : "quarantined");
    if (rc == DB_OK)
        snprintf(name, SETTINGS_VALUE_MAX, "%s", l.name);
    return CTL_OK;
}

static int refuse_db(int rc, const char *what)
{
    if (rc == DB_NO_BRANCH)
        return ctl_refuse("%s: load_server names a branch that is not registered (loadsctl "
                          "branch list shows them; branch add NAME --address HOST registers one)",
                          what);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("%s: not found", what);
    if (rc == DB_CONFLICT)
        return ctl_refuse("%s: conflicts with what is stored", what);
    return ctl_refuse("%s: the database failed", what);
}

/* ---- models ---- */

/* Prints a view (views.h) that the read rc left in *j, as the API does. */
static int print_view(int rc, json_t **j, const char *what)
{
    return rc == DB_OK ? ctl_print_json(*j) : ctl_refuse("cannot read %s", what);
}

static int model_row(void *arg, const struct settings_model *m)
{
    const char *other = "";
    char type[16], runs[16];

    snprintf(type, sizeof(type), "%u", m->device_type);
    snprintf(runs, sizeof(runs), "%s", m->protocol);
    if (m->dual) {
        snprintf(runs, sizeof(runs), "%s %s", m->protocol,
                 strcmp(m->protocol, "SIP") == 0 ? "SCCP" : "SIP");
        other = m->default_load_other[0] ? m->default_load_other : "-";
    }
    ctl_table_row(arg, m->name, type, m->pfs_capable ? "yes" : "no", m->protocol, runs,
                  m->default_load[0] ? m->default_load : "-", other);
    return 0;
}

static int cmd_model_list(struct ctl *c, int argc, char **argv)
{
    struct ctl_table *out;
    json_t *j = NULL;
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("model list"));
    if (c->json)
        return print_view(view_models(c->dd.db, &j), &j, "the models");
    out = ctl_table_new(7, "MODEL", "TYPE", "PFS", "PROTOCOL", "RUNS", "DEFAULT LOAD",
                        "OTHER PROTOCOL'S");
    rc = provision_models_each(c->dd.db, model_row, out);
    ctl_table_print(out);
    return rc == DB_OK ? CTL_OK : ctl_refuse("cannot list models");
}

/* --protocol (the one its devices run by default) against --protocols (what
 * it runs): the default is one it runs; alone, --protocols names it. */
static int model_protocols_apply(struct settings_model *m, const char *protocol,
                                 const char *protocols)
{
    const char *first = NULL;
    bool dual = false;

    if (protocols != NULL && settings_protocols_parse(protocols, &first, &dual) != 0)
        return ctl_refuse("--protocols is SIP, SCCP or \"SIP SCCP\"");
    if (protocols != NULL && !dual && protocol != NULL && strcmp(protocol, first) != 0)
        return ctl_refuse("--protocol %s is not one --protocols %s names", protocol, first);
    if (protocol == NULL)
        protocol = first != NULL ? first : "SIP";
    snprintf(m->protocol, sizeof(m->protocol), "%s", protocol);
    m->dual = dual;
    return CTL_OK;
}

static int cmd_model_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"device-type", required_argument, NULL, 't'},
                                         {"protocol", required_argument, NULL, 'p'},
                                         {"protocols", required_argument, NULL, 'P'},
                                         {"no-pfs", no_argument, NULL, 'n'},
                                         {0}};
    struct settings_model m = {.pfs_capable = true};
    const char *protocol = NULL, *protocols = NULL;
    uint64_t type = 0;
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o == 't' && numparse_u64(optarg, 1, UINT32_MAX, &type) == 0)
            continue;
        if (o == 'p' && (protocol = settings_protocol_parse(optarg)) == NULL)
            return ctl_refuse("--protocol is SIP or SCCP");
        if (o == 'P')
            protocols = optarg;
        else if (o == 'n')
            m.pfs_capable = false;
        else if (o != 'p')
            return ctl_usage(self("model add"));
    }
    if (optind + 1 != argc || type == 0)
        return ctl_usage(self("model add"));
    if (!settings_name_valid(argv[optind]))
        return ctl_refuse("a model name is %s", SETTINGS_NAME_RULE);
    if ((rc = model_protocols_apply(&m, protocol, protocols)) != CTL_OK)
        return rc;
    snprintf(m.name, sizeof(m.name), "%s", argv[optind]);
    m.device_type = (unsigned)type;
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_model_add(c->dd.db, c->actor, &m);
    rc = txn_end(c, rc);
    if (rc == DB_CONFLICT)
        return ctl_refuse("a model with this name or device type exists");
    if (rc != DB_OK)
        return refuse_db(rc, "model add");
    if (c->json)
        return ctl_print_json(
            json_pack("{s:s, s:I, s:s, s:o}", "added", m.name, "device_type",
                      (json_int_t)m.device_type, "protocol", m.protocol, "protocols",
                      m.dual ? json_pack("[s, s]", "SIP", "SCCP") : json_pack("[s]", m.protocol)));
    printf("added model %s (device type %u, %s%s)\n", m.name, m.device_type, m.protocol,
           m.dual ? "; runs SIP and SCCP" : "");
    return CTL_OK;
}

static int cmd_default_load_set(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'}, {"protocol", required_argument, NULL, 'p'}, {0}};
    struct settings_model m;
    char load[SETTINGS_VALUE_MAX] = "";
    const char *why, *protocol = NULL, *was;
    bool force = false;
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o == 'f')
            force = true;
        else if (o == 'p' && (protocol = settings_protocol_parse(optarg)) == NULL)
            return ctl_refuse("--protocol is SIP or SCCP");
        else if (o != 'p')
            return ctl_usage(self("default-load set"));
    }
    if (optind + 2 != argc)
        return ctl_usage(self("default-load set"));
    if ((rc = model_resolve(c, argv[optind], &m)) != CTL_OK)
        return rc;
    if (protocol != NULL && !settings_model_runs(&m, protocol))
        return ctl_refuse("%s runs %s only", m.name, m.protocol);
    was = settings_model_default(&m, protocol);
    if (strcasecmp(argv[optind + 1], "none") != 0) {
        if (settings_value_normalize(SETTINGS_KEY_LOAD, argv[optind + 1], load, &why) != 0)
            return ctl_refuse("%s", why);
        if ((rc = load_check(c, load, force)) != CTL_OK)
            return rc;
    }
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_model_set_protocol_load(c->dd.db, c->actor, m.name, protocol, load);
    rc = txn_end(c, rc);
    if (rc != DB_OK)
        return refuse_db(rc, "default-load set");
    if (c->json)
        return ctl_print_json(
            provision_default_load_json(m.name, protocol ? protocol : m.protocol, load, was));
    printf("%s%s%s: default load %s (was %s)\n", m.name, protocol ? " " : "",
           protocol ? protocol : "", load[0] ? load : "none", was[0] ? was : "none");
    return CTL_OK;
}

/* ---- enterprise ---- */

static int cmd_enterprise_show(struct ctl *c, int argc, char **argv)
{
    struct settings_enterprise e;
    char policy[32] = "signed";
    json_t *j = NULL;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("enterprise show"));
    if (c->json)
        return print_view(view_enterprise(c->dd.db, &j), &j, "the enterprise settings");
    if (provision_enterprise_get(c->dd.db, &e) != DB_OK)
        return ctl_refuse("cannot read the enterprise settings");
    catalog_setting_get(c->dd.db, "signature_policy", policy, sizeof(policy));
    printf("peer_firmware_sharing  %s\nload_server            %s\ncm_address             %s\n"
           "signature_policy       %s\nstage_first            %s\nfleet_max_age_s        %lld\n"
           "probe_load_servers     %s\n",
           e.pfs ? "on" : "off", e.load_server[0] ? e.load_server : "none",
           e.cm_address[0] ? e.cm_address : "none", policy, e.stage_first ? "on" : "off",
           (long long)e.fleet_max_age_s, e.probe_load_servers ? "on" : "off");
    return CTL_OK;
}

static int cmd_enterprise_set(struct ctl *c, int argc, char **argv)
{
    char value[SETTINGS_VALUE_MAX];
    const char *why;
    json_t *j = NULL;
    int rc;

    if (argc != 3)
        return ctl_usage(self("enterprise set"));
    if (provision_enterprise_check(argv[1], argv[2], value, sizeof(value), &why) != 0)
        return ctl_refuse("%s", why);
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_enterprise_set(c->dd.db, c->actor, argv[1], value);
    rc = txn_end(c, rc);
    if (rc != DB_OK)
        return refuse_db(rc, "enterprise set");
    if (c->json)
        return print_view(view_enterprise(c->dd.db, &j), &j, "the enterprise settings");
    printf("enterprise %s = %s\n", argv[1], value[0] ? value : "none");
    return CTL_OK;
}

/* ---- profiles ---- */

static int cmd_profile_add(struct ctl *c, int argc, char **argv)
{
    json_t *j = NULL;
    int rc;

    if (argc != 2)
        return ctl_usage(self("profile add"));
    if (!settings_name_valid(argv[1]) || strcasecmp(argv[1], "none") == 0 ||
        strcasecmp(argv[1], "inherit") == 0)
        return ctl_refuse("a profile name is %s (not none or inherit)", SETTINGS_NAME_RULE);
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_profile_add(c->dd.db, c->actor, argv[1]);
    rc = txn_end(c, rc);
    if (rc == DB_CONFLICT)
        return ctl_refuse("a profile named %s exists", argv[1]);
    if (rc != DB_OK)
        return refuse_db(rc, "profile add");
    if (c->json)
        return print_view(view_profile(c->dd.db, argv[1], &j), &j, "the profile");
    printf("added profile %s (every setting inherits)\n", argv[1]);
    return CTL_OK;
}

/* profile copy FROM NEW: a new profile with FROM's settings and template. */
static int cmd_profile_copy(struct ctl *c, int argc, char **argv)
{
    char show[96];
    json_t *j = NULL;
    int rc;

    if (argc != 3)
        return ctl_usage(self("profile copy"));
    if (!settings_name_valid(argv[2]) || strcasecmp(argv[2], "none") == 0 ||
        strcasecmp(argv[2], "inherit") == 0)
        return ctl_refuse("a profile name is %s (not none or inherit)", SETTINGS_NAME_RULE);
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_profile_copy(c->dd.db, c->actor, argv[1], argv[2]);
    rc = txn_end(c, rc);
    if (rc == DB_CONFLICT)
        return ctl_refuse("a profile named %s exists", argv[2]);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no profile named %s", cleaned(argv[1], show, sizeof(show)));
    if (rc != DB_OK)
        return refuse_db(rc, "profile copy");
    if (c->json)
        return print_view(view_profile(c->dd.db, argv[2], &j), &j, "the profile");
    printf("copied profile %s to %s\n", argv[1], argv[2]);
    return CTL_OK;
}

static int cmd_profile_set(struct ctl *c, int argc, char **argv)
{
    char value[SETTINGS_VALUE_MAX], show[96];
    enum settings_key key;
    const char *why;
    bool inherit;
    json_t *j = NULL;
    int rc;

    if (argc != 4)
        return ctl_usage(self("profile set"));
    if (settings_key_parse(argv[2], &key) != 0 || key == SETTINGS_KEY_LOAD)
        return ctl_refuse("a profile sets peer_firmware_sharing or load_server");
    inherit = strcmp(argv[3], "inherit") == 0;
    if (!inherit && settings_value_normalize(key, argv[3], value, &why) != 0)
        return ctl_refuse("%s", why);
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_profile_set(c->dd.db, c->actor, argv[1], key, inherit ? NULL : value);
    rc = txn_end(c, rc);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no profile named %s", cleaned(argv[1], show, sizeof(show)));
    if (rc != DB_OK)
        return refuse_db(rc, "profile set");
    if (c->json)
        return print_view(view_profile(c->dd.db, argv[1], &j), &j, "the profile");
    printf("profile %s: %s = %s\n", argv[1], argv[2],
           inherit    ? "inherit"
           : value[0] ? value
                      : "none");
    return CTL_OK;
}

static int profile_row(void *arg, const struct settings_profile *p, unsigned devices)
{
    char n[16];

    snprintf(n, sizeof(n), "%u", devices);
    ctl_table_row(arg, p->name, opt_shown(&p->pfs), opt_shown(&p->load_server), n);
    return 0;
}

static int cmd_profile_list(struct ctl *c, int argc, char **argv)
{
    struct ctl_table *out;
    json_t *j = NULL;
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("profile list"));
    if (c->json)
        return print_view(view_profiles(c->dd.db, &j), &j, "the profiles");
    out = ctl_table_new(4, "PROFILE", "PEER_FIRMWARE_SHARING", "LOAD_SERVER", "DEVICES");
    rc = provision_profiles_each(c->dd.db, profile_row, out);
    ctl_table_print(out);
    return rc == DB_OK ? CTL_OK : ctl_refuse("cannot list profiles");
}

static int cmd_profile_remove(struct ctl *c, int argc, char **argv)
{
    char show[96];
    unsigned users = 0;
    int rc;

    if (argc != 2)
        return ctl_usage(self("profile remove"));
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_profile_remove(c->dd.db, c->actor, argv[1], &users);
    rc = txn_end(c, rc);
    cleaned(argv[1], show, sizeof(show));
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no profile named %s", show);
    if (rc == DB_CONFLICT)
        return ctl_refuse("profile %s is used by %u device(s): move them to another profile "
                          "first",
                          show, users);
    if (rc != DB_OK)
        return refuse_db(rc, "profile remove");
    if (c->json)
        return ctl_print_json(json_pack("{s:s}", "removed", argv[1]));
    printf("removed profile %s\n", show);
    return CTL_OK;
}

/* A per-profile template replaces the shipped default for that profile's
 * devices; it is checked (well-formed XML, required elements) before it is
 * stored, so a phone never gets a broken config. */
static int cmd_profile_template(struct ctl *c, int argc, char **argv)
{
    char show[96], *text = NULL;
    const char *why = NULL;
    size_t len = 0;
    int rc, err = 0;

    if (argc != 3)
        return ctl_usage(self("profile template"));
    cleaned(argv[1], show, sizeof(show));
    if (strcmp(argv[2], "default") != 0) {
        text = ctl_read_file(argv[2], CNF_TEMPLATE_MAX, &len, &err);
        if (text == NULL)
            return ctl_refuse("cannot read %s: %s", argv[2],
                              err == EFBIG ? "over the 64 KiB template limit" : strerror(err));
        if (cnf_template_check(text, len, &why) != 0) {
            free(text);
            return ctl_refuse("%s is not a usable template: %s", argv[2], why);
        }
    }
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_profile_template_set(c->dd.db, c->actor, argv[1], text);
    rc = txn_end(c, rc);
    free(text);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no profile named %s", show);
    if (rc != DB_OK)
        return refuse_db(rc, "profile template");
    if (c->json)
        return ctl_print_json(json_pack("{s:s, s:b}", "profile", argv[1], "custom", text != NULL));
    printf("profile %s: %s template\n", show, strcmp(argv[2], "default") ? "custom" : "default");
    return CTL_OK;
}

/* ---- devices ---- */

static int profile_resolve(struct ctl *c, const char *text, char out[SETTINGS_NAME_MAX])
{
    struct settings_profile p;
    char show[96];
    int rc;

    if (strcasecmp(text, "none") == 0 || strcmp(text, "inherit") == 0 || text[0] == '\0') {
        out[0] = '\0';
        return CTL_OK;
    }
    rc = provision_profile_get(c->dd.db, text, &p);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no profile named %s (see loadsctl profile list)",
                          cleaned(text, show, sizeof(show)));
    if (rc != DB_OK)
        return ctl_refuse("cannot read the profiles");
    snprintf(out, SETTINGS_NAME_MAX, "%s", p.name);
    return CTL_OK;
}

static int cmd_device_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"profile", required_argument, NULL, 'p'},
                                         {"description", required_argument, NULL, 'd'},
                                         {0}};
    struct provision_device d = {0};
    struct settings_model m;
    const char *model = NULL, *profile = NULL, *description = "";
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o == 'm')
            model = optarg;
        else if (o == 'p')
            profile = optarg;
        else if (o == 'd')
            description = optarg;
        else
            return ctl_usage(self("device add"));
    }
    if (optind + 1 != argc || model == NULL)
        return ctl_usage(self("device add"));
    if ((rc = mac_parse(argv[optind], d.mac)) != CTL_OK ||
        (rc = model_resolve(c, model, &m)) != CTL_OK ||
        (profile && (rc = profile_resolve(c, profile, d.profile)) != CTL_OK))
        return rc;
    if (!settings_text_valid(description))
        return ctl_refuse("a description is %s", SETTINGS_TEXT_RULE);
    snprintf(d.model, sizeof(d.model), "%s", m.name);
    snprintf(d.description, sizeof(d.description), "%s", description);
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_device_add(c->dd.db, c->actor, &d);
    rc = txn_end(c, rc);
    if (rc == DB_CONFLICT)
        return ctl_refuse("device %s exists (change it with loadsctl device set)", d.mac);
    if (rc != DB_OK)
        return refuse_db(rc, "device add");
    if (c->json)
        return ctl_print_json(provision_device_json(&d));
    printf("added device %s (%s%s%s)\n", d.mac, d.model, d.profile[0] ? ", profile " : "",
           d.profile);
    return CTL_OK;
}

/* The device's protocol: SIP or SCCP, which its model must run; NULL: its
 * model's. */
static int protocol_apply(struct ctl *c, struct provision_device *d, const char *value)
{
    struct settings_model m;
    const char *p = value != NULL ? settings_protocol_parse(value) : "";

    if (p == NULL)
        return ctl_refuse("a protocol is SIP, SCCP or inherit (the model's)");
    if (p[0] != '\0' && provision_model_find(c->dd.db, d->model, &m) == DB_OK &&
        !settings_model_runs(&m, p))
        return ctl_refuse("%s runs %s only", m.name, m.protocol);
    snprintf(d->protocol, sizeof(d->protocol), "%s", p);
    return CTL_OK;
}

/* Applies "KEY VALUE|inherit" to d. */
static int device_apply(struct ctl *c, struct provision_device *d, const char *key,
                        const char *value, bool force)
{
    bool inherit = strcmp(value, "inherit") == 0;
    struct settings_model m;
    struct settings_opt *o = NULL;
    enum settings_key k;
    const char *why;
    int rc;

    if (strcmp(key, "model") == 0) {
        if ((rc = model_resolve(c, value, &m)) != CTL_OK)
            return rc;
        if (d->protocol[0] != '\0' && !settings_model_runs(&m, d->protocol))
            return ctl_refuse("%s runs %s only: set protocol inherit first", m.name, m.protocol);
        snprintf(d->model, sizeof(d->model), "%s", m.name);
        return CTL_OK;
    }
    if (strcmp(key, "profile") == 0)
        return profile_resolve(c, value, d->profile);
    if (strcmp(key, "protocol") == 0)
        return protocol_apply(c, d, inherit ? NULL : value);
    if (strcmp(key, "description") == 0) {
        if (!settings_text_valid(value))
            return ctl_refuse("a description is %s", SETTINGS_TEXT_RULE);
        snprintf(d->description, sizeof(d->description), "%s", inherit ? "" : value);
        return CTL_OK;
    }
    if (settings_key_parse(key, &k) != 0)
        return ctl_refuse("unknown key %s (peer_firmware_sharing, load_server, load, model, "
                          "profile, protocol, description)",
                          key);
    o = k == SETTINGS_KEY_PFS           ? &d->pfs
        : k == SETTINGS_KEY_LOAD_SERVER ? &d->load_server
                                        : &d->load;
    if (inherit) {
        o->set = false;
        o->value[0] = '\0';
        return CTL_OK;
    }
    if (settings_value_normalize(k, value, o->value, &why) != 0)
        return ctl_refuse("%s", why);
    o->set = true;
    return k == SETTINGS_KEY_LOAD ? load_check(c, o->value, force) : CTL_OK;
}

static int cmd_device_set(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
    struct provision_device d;
    char mac[SETTINGS_MAC_LEN + 1];
    bool force = false;
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o != 'f')
            return ctl_usage(self("device set"));
        force = true;
    }
    if (optind + 3 != argc)
        return ctl_usage(self("device set"));
    if ((rc = mac_parse(argv[optind], mac)) != CTL_OK)
        return rc;
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_device_get(c->dd.db, mac, &d);
    if (rc == DB_NOT_FOUND) {
        db_rollback(c->dd.db);
        return ctl_refuse("no device %s (add it with loadsctl device add)", mac);
    }
    if (rc == DB_OK && device_apply(c, &d, argv[optind + 1], argv[optind + 2], force) != CTL_OK) {
        db_rollback(c->dd.db);
        return CTL_REFUSED; /* device_apply said why */
    }
    if (rc == DB_OK)
        rc = provision_device_update(c->dd.db, c->actor, &d);
    rc = txn_end(c, rc);
    if (rc != DB_OK)
        return refuse_db(rc, "device set");
    if (c->json)
        return ctl_print_json(provision_device_json(&d));
    printf("device %s: %s = %s\n", d.mac, argv[optind + 1], argv[optind + 2]);
    return CTL_OK;
}

static void device_print(const struct provision_device *d)
{
    printf("mac                    %s\nmodel                  %s\nprofile                %s\n"
           "description            %s\npeer_firmware_sharing  %s\nload_server            %s\n"
           "load                   %s\nprotocol               %s\n",
           d->mac, d->model, d->profile[0] ? d->profile : "none", d->description,
           opt_shown(&d->pfs), opt_shown(&d->load_server), opt_shown(&d->load),
           d->protocol[0] ? d->protocol : "inherit (the model's)");
}

static int cmd_device_show(struct ctl *c, int argc, char **argv)
{
    struct provision_device d;
    char mac[SETTINGS_MAC_LEN + 1];
    int rc;

    if (argc != 2)
        return ctl_usage(self("device show"));
    if ((rc = mac_parse(argv[1], mac)) != CTL_OK)
        return rc;
    rc = provision_device_get(c->dd.db, mac, &d);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no device %s", mac);
    if (rc != DB_OK)
        return refuse_db(rc, "device show");
    if (c->json)
        return ctl_print_json(provision_device_json(&d));
    device_print(&d);
    printf("(loadsctl effective %s shows what the phone gets)\n", d.mac);
    return CTL_OK;
}

static int cmd_device_remove(struct ctl *c, int argc, char **argv)
{
    char mac[SETTINGS_MAC_LEN + 1];
    int rc;

    if (argc != 2)
        return ctl_usage(self("device remove"));
    if ((rc = mac_parse(argv[1], mac)) != CTL_OK)
        return rc;
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_device_remove(c->dd.db, c->actor, mac);
    rc = txn_end(c, rc);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no device %s", mac);
    if (rc != DB_OK)
        return refuse_db(rc, "device remove");
    if (c->json)
        return ctl_print_json(json_pack("{s:s}", "removed", mac));
    printf("removed device %s\n", mac);
    return CTL_OK;
}

/* ---- devices export / problems (list, import and bulk changes: ctl_devices.c) ---- */

static int export_out(void *arg, const char *text, size_t len)
{
    return fwrite(text, 1, len, arg) == len ? 0 : -1;
}

static int cmd_devices_export(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"safe", no_argument, NULL, 's'}, {0}};
    bool safe = false;
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o != 's')
            return ctl_usage(self("devices export"));
        safe = true;
    }
    if (optind != argc)
        return ctl_usage(self("devices export"));
    rc = devcsv_export(c->dd.db, safe, export_out, stdout);
    if (fflush(stdout) != 0 || rc != 0)
        return ctl_refuse("export failed");
    return CTL_OK;
}

static int cmd_devices_problems(struct ctl *c, int argc, char **argv)
{
    struct settings_snapshot *s = NULL;
    struct ctl_table *t = NULL;
    json_t *arr = NULL;
    unsigned problems = 0;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("devices problems"));
    if (provision_snapshot_load(c->dd.db, &s) != DB_OK)
        return ctl_refuse("cannot read the provisioning data");
    if (c->json)
        arr = json_array();
    for (size_t i = 0; i < s->n_devices; i++) {
        struct settings_effective e;

        if (settings_resolve(s, s->devices[i].mac, NULL, &e) != 0 || !settings_load_problem(&e))
            continue;
        problems++;
        if (arr != NULL) {
            json_array_append_new(arr, settings_problem_json(&e));
            continue;
        }
        if (t == NULL)
            t = ctl_table_new(6, "MAC", "MODEL", "LOAD", "FROM", "PROBLEM", "SERVED");
        ctl_table_row(t, e.device->mac, e.model ? e.model->name : "?", e.load.value,
                      settings_level_name(e.load.level),
                      e.load_state == SETTINGS_LOAD_MISSING       ? "not in the catalog"
                      : e.load_state == SETTINGS_LOAD_QUARANTINED ? "quarantined"
                                                                  : "not allowed",
                      e.served[0] ? e.served : "none");
    }
    provision_snapshot_free(s);
    if (arr != NULL)
        ctl_print_json(arr);
    else if (t != NULL)
        ctl_table_print(t);
    else
        printf("every device's load is in the catalog and servable\n");
    if (problems > 0)
        return ctl_refuse("%u device(s) would not get their load", problems);
    return CTL_OK;
}

/* ---- site rules ---- */

/* A prefix into site; *masked: the text had host bits set (cleared). */
static int site_parse(const char *text, struct settings_site *site, bool quiet, bool *masked)
{
    char canon[INET6_ADDRSTRLEN + 8], show[96];
    const char *why;

    if (settings_cidr_parse(text, site, canon, sizeof(canon), masked, &why) != 0)
        return ctl_refuse("%s: %s", cleaned(text, show, sizeof(show)), why);
    if (*masked && !quiet)
        fprintf(stderr, "loadsctl: note: %s has host bits set; using %s\n",
                cleaned(text, show, sizeof(show)), canon);
    return CTL_OK;
}

/* --name's value into site->name ("" clears it). */
static int site_name_opt(const char *name, struct settings_site *site)
{
    char show[96];

    if (name[0] != '\0' && !settings_name_valid(name))
        return ctl_refuse("site name %s: 1 to 63 characters of text, no '/' and no space at "
                          "either end",
                          cleaned(name, show, sizeof(show)));
    snprintf(site->name, sizeof(site->name), "%s", name);
    return CTL_OK;
}

/* --load-server's value into site->load_server. */
static int site_server_opt(const char *server, struct settings_site *site)
{
    const char *why;

    if (settings_value_normalize(SETTINGS_KEY_LOAD_SERVER, server, site->load_server, &why) != 0)
        return ctl_refuse("%s", why);
    if (site->load_server[0] == '\0')
        return ctl_refuse("a site rule names a load server");
    return CTL_OK;
}

/* --stage-first on|off|inherit into site->stage_first. */
static int site_stage_opt(const char *text, struct settings_site *site)
{
    char v[SETTINGS_VALUE_MAX];
    const char *why;

    if (strcasecmp(text, "inherit") == 0) {
        site->stage_first = SETTINGS_INHERIT;
        return CTL_OK;
    }
    if (settings_value_normalize(SETTINGS_KEY_PFS, text, v, &why) != 0)
        return ctl_refuse("--stage-first is on, off or inherit");
    site->stage_first = strcmp(v, "on") == 0 ? SETTINGS_ON : SETTINGS_OFF;
    return CTL_OK;
}

/* --branch NAME is --load-server branch:NAME. */
static const char *site_branch_server(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s", SETTINGS_BRANCH_PREFIX, name);
    return buf;
}

/* What site set changes besides the prefix. */
struct site_given {
    bool named, staged;
};

/* The options site add and site set share: --load-server (or --branch),
 * --name, --stage-first and (site set) --cidr, applied to site in that
 * order. */
static int site_opts(int argc, char **argv, const char *cmd, struct settings_site *site,
                     const char **server, const char **newcidr, struct site_given *given)
{
    static const struct option opts[] = {{"load-server", required_argument, NULL, 'l'},
                                         {"branch", required_argument, NULL, 'b'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"stage-first", required_argument, NULL, 's'},
                                         {"cidr", required_argument, NULL, 'c'},
                                         {0}};
    static char branch[SETTINGS_VALUE_MAX + SETTINGS_BRANCH_PREFIX_LEN];
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if ((o == 'l' || o == 'b') && *server != NULL)
            return ctl_refuse("--load-server and --branch name one load server: give one");
        if (o == 'l')
            *server = optarg;
        else if (o == 'b')
            *server = site_branch_server(optarg, branch, sizeof(branch));
        else if (o == 's' && (rc = site_stage_opt(optarg, site)) != CTL_OK)
            return rc;
        else if (o == 's')
            given->staged = true;
        else if (o == 'n' && (rc = site_name_opt(optarg, site)) != CTL_OK)
            return rc;
        else if (o == 'n')
            given->named = true;
        else if (o == 'c' && newcidr != NULL)
            *newcidr = optarg;
        else
            return ctl_usage(self(cmd));
    }
    if (optind + 1 != argc)
        return ctl_usage(self(cmd));
    return *server != NULL ? site_server_opt(*server, site) : CTL_OK;
}

/* A refusal naming the branch that is not registered. */
static int site_no_branch(const char *load_server)
{
    const char *name = settings_branch_name(load_server);

    return ctl_refuse("no branch %s is registered (loadsctl branch add %s --address HOST "
                      "registers one)",
                      name ? name : "?", name ? name : "NAME");
}

static int cmd_site_add(struct ctl *c, int argc, char **argv)
{
    struct settings_site site = {0};
    struct site_given given = {0};
    const char *server = NULL;
    char cidr[INET6_ADDRSTRLEN + 8];
    bool masked = false;
    int rc;

    if ((rc = site_opts(argc, argv, "site add", &site, &server, NULL, &given)) != CTL_OK)
        return rc;
    if (server == NULL)
        return ctl_usage(self("site add"));
    if ((rc = site_parse(argv[optind], &site, c->json, &masked)) != CTL_OK)
        return rc;
    settings_cidr_format(&site, cidr, sizeof(cidr));
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_site_add(c->dd.db, c->actor, &site);
    rc = txn_end(c, rc);
    if (rc == DB_CONFLICT)
        return ctl_refuse("a rule for %s exists (site set changes it)", cidr);
    if (rc == DB_NO_BRANCH)
        return site_no_branch(site.load_server);
    if (rc != DB_OK)
        return refuse_db(rc, "site add");
    if (c->json)
        return ctl_print_json(provision_site_added_json(&site, argv[optind], masked));
    printf("site %s -> load server %s\n", cidr, site.load_server);
    return CTL_OK;
}

/* site set CIDR [--cidr NEW] [--load-server HOST] [--name NAME]: the rest
 * stays as stored. */
static int cmd_site_set(struct ctl *c, int argc, char **argv)
{
    struct settings_site old = {0}, site, given = {0};
    struct site_given what = {0};
    const char *server = NULL, *newcidr = NULL;
    char cidr[INET6_ADDRSTRLEN + 8];
    bool masked = false;
    int rc;

    if ((rc = site_opts(argc, argv, "site set", &given, &server, &newcidr, &what)) != CTL_OK)
        return rc;
    if ((rc = site_parse(argv[optind], &old, true, &masked)) != CTL_OK)
        return rc;
    settings_cidr_format(&old, cidr, sizeof(cidr));
    rc = provision_site_find(c->dd.db, &old, &site);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no site rule for %s", cidr);
    if (rc != DB_OK)
        return refuse_db(rc, "site set");
    if (newcidr != NULL && (rc = site_parse(newcidr, &site, c->json, &masked)) != CTL_OK)
        return rc;
    if (server != NULL)
        memcpy(site.load_server, given.load_server, sizeof(site.load_server));
    if (what.named)
        memcpy(site.name, given.name, sizeof(site.name));
    if (what.staged)
        site.stage_first = given.stage_first;
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_site_update(c->dd.db, c->actor, &old, &site);
    rc = txn_end(c, rc);
    settings_cidr_format(&site, cidr, sizeof(cidr));
    if (rc == DB_CONFLICT)
        return ctl_refuse("a rule for %s exists", cidr);
    if (rc == DB_NO_BRANCH)
        return site_no_branch(site.load_server);
    if (rc != DB_OK)
        return refuse_db(rc, "site set");
    if (c->json)
        return ctl_print_json(provision_site_json(&site));
    printf("site %s%s%s -> load server %s\n", cidr, site.name[0] ? " " : "", site.name,
           site.load_server);
    return CTL_OK;
}

static int site_row(void *arg, const struct settings_site *s)
{
    char cidr[INET6_ADDRSTRLEN + 8];

    if (json_is_array((json_t *)arg))
        return provision_json_append_site(arg, s);
    settings_cidr_format(s, cidr, sizeof(cidr));
    ctl_table_row(arg, cidr, s->load_server, s->name,
                  s->stage_first == SETTINGS_ON    ? "on"
                  : s->stage_first == SETTINGS_OFF ? "off"
                                                   : "inherit");
    return 0;
}

static int cmd_site_list(struct ctl *c, int argc, char **argv)
{
    void *out;
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("site list"));
    out = c->json ? (void *)json_array()
                  : (void *)ctl_table_new(4, "PREFIX", "LOAD SERVER", "NAME", "STAGE FIRST");
    rc = provision_sites_each(c->dd.db, site_row, out);
    if (c->json)
        return rc == DB_OK ? ctl_print_json(out) : ctl_refuse("cannot list site rules");
    ctl_table_print(out);
    return rc == DB_OK ? CTL_OK : ctl_refuse("cannot list site rules");
}

static int cmd_site_remove(struct ctl *c, int argc, char **argv)
{
    struct settings_site site = {0};
    char cidr[INET6_ADDRSTRLEN + 8];
    bool masked;
    int rc;

    if (argc != 2)
        return ctl_usage(self("site remove"));
    if ((rc = site_parse(argv[1], &site, true, &masked)) != CTL_OK)
        return rc;
    settings_cidr_format(&site, cidr, sizeof(cidr));
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = provision_site_remove(c->dd.db, c->actor, &site);
    rc = txn_end(c, rc);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no site rule for %s", cidr);
    if (rc != DB_OK)
        return refuse_db(rc, "site remove");
    if (c->json)
        return ctl_print_json(json_pack("{s:s}", "removed", cidr));
    printf("removed site rule %s\n", cidr);
    return CTL_OK;
}

/* ---- effective ---- */

static void effective_text(const struct view_phone *p)
{
    const struct settings_effective *e = &p->eff;
    char who[256];
    char cidr[INET6_ADDRSTRLEN + 8], from[INET6_ADDRSTRLEN + 16] = "";

    if (e->site != NULL) {
        settings_cidr_format(e->site, cidr, sizeof(cidr));
        snprintf(from, sizeof(from), " %s", cidr);
    }
    printf("device                 %s\nmodel                  %s%s\nprofile                %s\n",
           e->device->mac, e->model ? e->model->name : "?",
           e->model && !e->model->pfs_capable ? " (cannot do peer firmware sharing)" : "",
           e->profile ? e->profile->name : "none");
    printf("peer_firmware_sharing  %-20s from %s\n", e->pfs.value,
           settings_level_name(e->pfs.level));
    printf("load_server            %-20s from %s%s\n",
           e->load_server.value[0] ? e->load_server.value : "none",
           settings_level_name(e->load_server.level), from);
    if (e->load.level == SETTINGS_LEVEL_NONE)
        printf("load                   %-20s no device load, no model default: the config "
               "file has no loadInformation\n",
               "none");
    else
        printf("load                   %-20s from %s\n", e->load.value,
               settings_level_name(e->load.level));
    if (e->held_back[0] != '\0')
        printf("served                 %-20s %s\n", e->served[0] ? e->served : "none",
               e->held_back);
    printf("loadServer             %-20s %s%s%s\n",
           e->load_server_gate.sends[0] ? e->load_server_gate.sends : "none",
           settings_gate_state_name(e->load_server_gate.state),
           e->load_server_gate.why[0] ? ": " : "", e->load_server_gate.why);
    for (size_t i = 0; i < e->n_warnings; i++)
        printf("warning: %s\n", e->warnings[i]);
    view_phone_describe(p, who, sizeof(who));
    printf("(%s)\n", who);
}

static int cmd_effective(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'}, {0}};
    struct view_phone p;
    const char *from = NULL;
    char mac[SETTINGS_MAC_LEN + 1];
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o != 'f')
            return ctl_usage(self("effective"));
        from = optarg;
    }
    if (optind + 1 != argc)
        return ctl_usage(self("effective"));
    if ((rc = mac_parse(argv[optind], mac)) != CTL_OK)
        return rc;
    rc = view_phone_open(c->dd.db, mac, from, &p);
    if (rc == VIEW_BAD_ADDRESS)
        rc = ctl_refuse("--from takes an IPv4 or IPv6 address, or none");
    else if (rc == DB_NOT_FOUND)
        rc = ctl_refuse("no device %s (an unknown phone gets XMLDefault.cnf.xml)", mac);
    else if (rc != DB_OK)
        rc = ctl_refuse("cannot read the provisioning data");
    else if (c->json)
        rc = ctl_print_json(view_phone_json(&p));
    else
        effective_text(&p), rc = CTL_OK;
    view_phone_close(&p);
    return rc;
}

const struct ctl_command ctl_provision_commands[] = {
    {"model list", "", cmd_model_list},
    {"model add",
     "NAME --device-type N [--protocols SIP|SCCP|'SIP SCCP'] [--protocol SIP|SCCP] [--no-pfs]",
     cmd_model_add},
    {"default-load set", "MODEL LOAD|none [--protocol SIP|SCCP] [--force]", cmd_default_load_set},
    {"enterprise show", "", cmd_enterprise_show},
    {"enterprise set",
     "peer_firmware_sharing on|off | load_server HOST|branch:NAME|none | cm_address HOST|none"
     " | signature_policy signed|verified|any | stage_first on|off | fleet_max_age_s SECONDS"
     " | probe_load_servers on|off",
     cmd_enterprise_set},
    {"profile add", "NAME", cmd_profile_add},
    {"profile copy", "FROM NEW", cmd_profile_copy},
    {"profile set", "NAME peer_firmware_sharing|load_server VALUE|inherit", cmd_profile_set},
    {"profile list", "", cmd_profile_list},
    {"profile remove", "NAME", cmd_profile_remove},
    {"profile template", "NAME FILE.xml|default", cmd_profile_template},
    {"device add", "MAC --model MODEL [--profile NAME] [--description TEXT]", cmd_device_add},
    {"device set",
     "MAC peer_firmware_sharing|load_server|load|model|profile|protocol|description VALUE|inherit "
     "[--force]",
     cmd_device_set},
    {"device show", "MAC", cmd_device_show},
    {"device remove", "MAC", cmd_device_remove},
    {"devices export", "[--safe]", cmd_devices_export},
    {"devices problems", "", cmd_devices_problems},
    {"site add",
     "CIDR --load-server HOST|--branch NAME [--name NAME] [--stage-first on|off|inherit]",
     cmd_site_add},
    {"site set",
     "CIDR [--cidr NEW] [--load-server HOST|--branch NAME] [--name NAME]"
     " [--stage-first on|off|inherit]",
     cmd_site_set},
    {"site list", "", cmd_site_list},
    {"site remove", "CIDR", cmd_site_remove},
    {"effective", "MAC [--from IP|none]", cmd_effective},
    /* render: see cnf.h */
    {"render", "MAC|XMLDefault.cnf.xml [--from IP|none]", ctl_render},
    {NULL, NULL, NULL},
};

static const struct ctl_command *self(const char *name)
{
    for (const struct ctl_command *c = ctl_provision_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return &ctl_provision_commands[0];
}
