/* ctl_probe.c: loadsctl probe list | probe show HOST: what the central's
 * load-server probe found (probe_load_servers on), per plain-host load
 * server and load; --json prints GET /api/v1/probes' shape. Read only. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin/ctl/ctl.h"
#include "admin/probe_json.h"
#include "db/db.h"

static const struct ctl_command *self(const char *name);

static const char *json_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? s : "";
}

static const char *when_text(json_t *o, char *buf, size_t cap)
{
    json_t *at = json_object_get(o, "probed_at");

    ctl_time(json_is_integer(at) ? (int64_t)json_integer_value(at) : 0, buf, cap);
    if (!json_is_true(json_object_get(o, "fresh")))
        strncat(buf, " (stale)", cap - strlen(buf) - 1);
    return buf;
}

static void hosts_table(json_t *hosts)
{
    struct ctl_table *t = ctl_table_new(4, "HOST", "COMPLETE", "INCOMPLETE", "LAST PROBED");
    char ok[16], bad[16], when[48];
    size_t i;
    json_t *h;

    json_array_foreach(hosts, i, h)
    {
        snprintf(ok, sizeof(ok), "%lld",
                 (long long)json_integer_value(json_object_get(h, "loads_complete")));
        snprintf(bad, sizeof(bad), "%lld",
                 (long long)json_integer_value(json_object_get(h, "loads_incomplete")));
        ctl_table_row(t, json_str(h, "host"), ok, bad, when_text(h, when, sizeof(when)));
    }
    ctl_table_print(t);
}

static void loads_table(json_t *loads)
{
    struct ctl_table *t = ctl_table_new(5, "LOAD", "STATE", "FILES", "PROBED", "WHY");
    char files[32], when[48];
    size_t i;
    json_t *l;

    json_array_foreach(loads, i, l)
    {
        snprintf(files, sizeof(files), "%lld/%lld",
                 (long long)json_integer_value(json_object_get(l, "files_have")),
                 (long long)json_integer_value(json_object_get(l, "files_total")));
        ctl_table_row(t, json_str(l, "load"), json_str(l, "state"), files,
                      when_text(l, when, sizeof(when)), json_str(l, "why"));
    }
    ctl_table_print(t);
}

static int cmd_probe_list(struct ctl *c, int argc, char **argv)
{
    json_t *j = NULL;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("probe list"));
    if (probe_json_hosts(c->dd.db, NULL, (int64_t)time(NULL), &j) != DB_OK)
        return ctl_refuse("cannot read the probe results");
    if (c->json)
        return ctl_print_json(j);
    if (!json_is_true(json_object_get(j, "enabled")))
        printf("probe_load_servers is off: these results are not refreshed\n");
    hosts_table(json_object_get(j, "hosts"));
    json_decref(j);
    return CTL_OK;
}

static int cmd_probe_show(struct ctl *c, int argc, char **argv)
{
    json_t *j = NULL, *h;

    if (argc != 2)
        return ctl_usage(self("probe show"));
    if (probe_json_hosts(c->dd.db, argv[1], (int64_t)time(NULL), &j) != DB_OK)
        return ctl_refuse("cannot read the probe results");
    h = json_array_get(json_object_get(j, "hosts"), 0);
    if (h == NULL) {
        json_decref(j);
        return ctl_refuse("no probe result for %s", argv[1]);
    }
    if (c->json)
        return ctl_print_json(j);
    loads_table(json_object_get(h, "loads"));
    json_decref(j);
    return CTL_OK;
}

const struct ctl_command ctl_probe_commands[] = {
    {"probe list", "", cmd_probe_list},
    {"probe show", "HOST", cmd_probe_show},
    {NULL, NULL, NULL},
};

static const struct ctl_command *self(const char *name)
{
    for (const struct ctl_command *c = ctl_probe_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}
