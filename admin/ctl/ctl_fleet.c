/* ctl_fleet.c: `loadsctl branch add|list|show|remove` (docs/FLEET.md): the
 * branches a central knows, with the token printed once at add (only its
 * SHA-256 is stored), their latest report and what each holds and must hold.
 * Writes only through db/fleet.h, one transaction each. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "admin/auth.h"
#include "admin/branch_json.h"
#include "admin/ctl/ctl.h"
#include "db/fleet.h"
#include "db/provision.h"

static const struct ctl_command *self(const char *name);

/* Branch writes move the fleet generation themselves (db/fleet.h): the
 * provisioning snapshot has nothing to rebuild. */
static int txn_end(struct ctl *c, int rc)
{
    if (rc == DB_OK)
        return db_commit_untracked(c->dd.db);
    db_rollback(c->dd.db);
    return rc;
}

/* The enterprise's fleet_max_age_s (its default when unreadable). */
static int64_t max_age(struct ctl *c)
{
    struct settings_enterprise e;

    if (provision_enterprise_get(c->dd.db, &e) != DB_OK)
        return SETTINGS_FLEET_MAX_AGE_DEFAULT;
    return e.fleet_max_age_s;
}

/* "12 s ago (fresh)", "40 min ago (stale)", "never". */
static void report_age(const struct fleet_branch *b, int64_t now, int64_t limit, char *out,
                       size_t cap)
{
    char d[24];

    if (b->received_at <= 0) {
        snprintf(out, cap, "never");
        return;
    }
    fleet_duration_text(now - b->received_at, d, sizeof(d));
    snprintf(out, cap, "%s ago (%s)", d, now - b->received_at <= limit ? "fresh" : "stale");
}

static int cmd_branch_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"address", required_argument, NULL, 'a'}, {0}};
    char token[AUTH_SECRET_TEXT], hash[SHA256_HEX_BUF];
    const char *address = NULL, *name;
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o != 'a')
            return ctl_usage(self("branch add"));
        address = optarg;
    }
    if (optind + 1 != argc || address == NULL)
        return ctl_usage(self("branch add"));
    name = argv[optind];
    if (!settings_name_valid(name))
        return ctl_refuse("branch name: %s", SETTINGS_NAME_RULE);
    if (!settings_host_valid(address))
        return ctl_refuse("--address is what phones are told: a host name or address");
    if (auth_branch_token_make(token, hash) != AUTH_OK)
        return ctl_refuse("cannot make a token (no randomness)");
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = fleet_branch_add(c->dd.db, c->actor, name, address, hash);
    rc = txn_end(c, rc);
    if (rc == DB_CONFLICT)
        rc = ctl_refuse("a branch named %s exists", name);
    else if (rc != DB_OK)
        rc = ctl_refuse("branch add: the database failed");
    else if (c->json)
        rc = ctl_print_json(
            json_pack("{s:s, s:s, s:s}", "name", name, "address", address, "token", token));
    else
        printf("branch %s added (phones are told %s)\ntoken %s\n"
               "(shown once: give it to the branch as --central-token-file)\n",
               name, address, token);
    OPENSSL_cleanse(token, sizeof(token));
    return rc;
}

struct list_ctx {
    struct ctl *c;
    void *out; /* json array or table */
    int64_t now, limit;
};

static int branch_row(void *arg, const struct fleet_branch *b)
{
    struct list_ctx *l = arg;
    char age[48], loads[48];

    if (l->c->json)
        return json_array_append_new(l->out, branch_json(b, l->now, l->limit));
    report_age(b, l->now, l->limit, age, sizeof(age));
    snprintf(loads, sizeof(loads), "%u/%u", b->loads_complete, b->loads_total);
    ctl_table_row(l->out, b->name, b->address, age, loads, b->version[0] ? b->version : "-");
    return 0;
}

static int cmd_branch_list(struct ctl *c, int argc, char **argv)
{
    struct list_ctx l = {c, NULL, (int64_t)time(NULL), max_age(c)};
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("branch list"));
    l.out = c->json ? (void *)json_array()
                    : (void *)ctl_table_new(5, "NAME", "ADDRESS", "LAST REPORT", "LOADS COMPLETE",
                                            "VERSION");
    if (l.out == NULL)
        return ctl_refuse("out of memory");
    rc = fleet_branches_each(c->dd.db, branch_row, &l);
    if (c->json)
        return rc == DB_OK ? ctl_print_json(l.out)
                           : (json_decref(l.out), ctl_refuse("cannot list branches"));
    ctl_table_print(l.out);
    return rc == DB_OK ? CTL_OK : ctl_refuse("cannot list branches");
}

/* One holding as a table row: LOAD STATE FILES % ETA. */
static void holding_row(struct ctl_table *t, const struct fleet_holding *x)
{
    char files[48], pct[8], eta[24] = "-";

    snprintf(files, sizeof(files), "%llu/%llu", (unsigned long long)x->files_have,
             (unsigned long long)x->files_total);
    snprintf(pct, sizeof(pct), "%u %%", fleet_percent(x));
    if (x->state == FLEET_STAGING && x->eta_s == FLEET_ETA_UNKNOWN)
        snprintf(eta, sizeof(eta), "unknown");
    else if (x->state == FLEET_STAGING)
        fleet_duration_text(x->eta_s, eta, sizeof(eta));
    ctl_table_row(t, x->load, fleet_state_name(x->state), files, pct, eta);
}

static json_t *want_json(const struct fleet_want *w)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < w->n; i++)
        json_array_append_new(a, json_string(w->loads[i]));
    return a;
}

static void branch_show_text(const struct fleet_branch *b, const struct fleet_holder *h,
                             const struct fleet_want *w, int64_t now, int64_t limit)
{
    struct ctl_table *t;
    char age[48], size[32];

    report_age(b, now, limit, age, sizeof(age));
    printf("branch       %s\naddress      %s\nlast report  %s\n", b->name, b->address, age);
    if (b->received_at > 0)
        printf("version      %s\nfree space   %s\n", b->version[0] ? b->version : "-",
               ctl_size(b->free_bytes, size, sizeof(size)));
    printf("must hold    ");
    for (size_t i = 0; i < w->n; i++)
        printf("%s%s", i ? " " : "", w->loads[i]);
    printf("%s\n", w->n ? "" : "nothing (no device's load server is this branch)");
    if (h == NULL || h->n_holdings == 0) {
        printf("holds        nothing reported\n");
        return;
    }
    /* ctl_table_print frees the table. */
    t = ctl_table_new(5, "LOAD", "STATE", "FILES", "DONE", "ETA");
    for (size_t i = 0; t != NULL && i < h->n_holdings; i++)
        holding_row(t, &h->holdings[i]);
    if (t != NULL)
        ctl_table_print(t);
}

static int branch_show_print(struct ctl *c, const struct fleet_branch *b,
                             const struct fleet_holder *h, const struct fleet_want *w)
{
    int64_t now = (int64_t)time(NULL), limit = max_age(c);
    json_t *j;

    if (!c->json) {
        branch_show_text(b, h, w, now, limit);
        return CTL_OK;
    }
    j = branch_json(b, now, limit);
    if (j == NULL)
        return ctl_refuse("out of memory");
    json_object_set_new(j, "loads", branch_holdings_json(h));
    json_object_set_new(j, "want", want_json(w));
    return ctl_print_json(j);
}

static int cmd_branch_show(struct ctl *c, int argc, char **argv)
{
    struct fleet_view *v = NULL;
    struct fleet_want w = {0};
    struct fleet_branch b;
    int rc;

    if (argc != 2)
        return ctl_usage(self("branch show"));
    rc = fleet_branch_get(c->dd.db, argv[1], &b);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no branch %s (branch list shows them)", argv[1]);
    if (rc == DB_OK)
        rc = fleet_view_load(c->dd.db, &v);
    if (rc == DB_OK)
        rc = fleet_want_load(c->dd.db, FLEET_KIND_BRANCH, b.name, &w);
    if (rc == DB_OK)
        rc = branch_show_print(c, &b, fleet_find_branch(v, b.name), &w);
    else
        rc = ctl_refuse("cannot read branch %s", argv[1]);
    fleet_want_free(&w);
    fleet_view_free(v);
    return rc;
}

static int cmd_branch_remove(struct ctl *c, int argc, char **argv)
{
    int rc;

    if (argc != 2)
        return ctl_usage(self("branch remove"));
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = fleet_branch_remove(c->dd.db, c->actor, argv[1]);
    rc = txn_end(c, rc);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no branch %s (branch list shows them)", argv[1]);
    if (rc != DB_OK)
        return ctl_refuse("branch remove: the database failed");
    if (c->json)
        return ctl_print_json(json_pack("{s:s}", "removed", argv[1]));
    printf("removed branch %s: its token no longer works; phones whose load server is "
           "branch:%s get no loadServer\n",
           argv[1], argv[1]);
    return CTL_OK;
}

static int cmd_branch_set(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"address", required_argument, NULL, 'a'}, {0}};
    const char *address = NULL;
    int o, rc;

    ctl_opts_reset();
    while ((o = ctl_next_opt(argc, argv, opts)) != -1) {
        if (o != 'a')
            return ctl_usage(self("branch set"));
        address = optarg;
    }
    if (optind + 1 != argc || address == NULL)
        return ctl_usage(self("branch set"));
    if (!settings_host_valid(address))
        return ctl_refuse("--address is what phones are told: a host name or address");
    rc = db_begin(c->dd.db);
    if (rc == DB_OK)
        rc = fleet_branch_set_address(c->dd.db, c->actor, argv[optind], address);
    rc = txn_end(c, rc);
    if (rc == DB_NOT_FOUND)
        return ctl_refuse("no branch %s (branch list shows them)", argv[optind]);
    if (rc != DB_OK)
        return ctl_refuse("branch set: the database failed");
    if (c->json)
        return ctl_print_json(json_pack("{s:s, s:s}", "name", argv[optind], "address", address));
    printf("branch %s: phones are told %s\n", argv[optind], address);
    return CTL_OK;
}

const struct ctl_command ctl_fleet_commands[] = {
    {"branch add", "NAME --address HOST", cmd_branch_add},
    {"branch set", "NAME --address HOST", cmd_branch_set},
    {"branch list", "", cmd_branch_list},
    {"branch show", "NAME", cmd_branch_show},
    {"branch remove", "NAME", cmd_branch_remove},
    {NULL, NULL, NULL},
};

static const struct ctl_command *self(const char *name)
{
    for (const struct ctl_command *c = ctl_fleet_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return &ctl_fleet_commands[0];
}
