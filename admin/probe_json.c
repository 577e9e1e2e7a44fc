/* probe_json.c: the probes table as JSON, grouped by host, with freshness
 * against the enterprise's fleet_max_age_s (a stale result is shown, and
 * said to be stale: the gate ignores it). */
#include "admin/probe_json.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "admin/catalog_json.h"
#include "db/catalog.h"
#include "db/probe.h"
#include "lib/numparse.h"

#define PROBE_JSON_AGE_DEFAULT 300
#define PROBE_JSON_AGE_MAX     86400

struct probe_walk {
    json_t *hosts;
    json_t *host; /* the host being filled, in hosts */
    int64_t now;
    int64_t max_age;
};

static json_t *load_json(const struct probe_row *r, bool fresh)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:o}", "load", r->load, "state",
                     r->complete ? "complete" : "incomplete", "files_have",
                     (json_int_t)r->files_have, "files_total", (json_int_t)r->files_total,
                     "probed_at", (json_int_t)r->probed_at, "fresh", fresh, "why",
                     catalog_text_json(r->why));
}

static json_t *host_json(const char *host)
{
    return json_pack("{s:s, s:i, s:i, s:n, s:b, s:[]}", "host", host, "loads_complete", 0,
                     "loads_incomplete", 0, "probed_at", "fresh", 1, "loads");
}

/* Counts r into its host: the newest probe time, fresh only when every
 * load's result is. */
static void host_count(json_t *h, const struct probe_row *r, bool fresh)
{
    const char *key = r->complete ? "loads_complete" : "loads_incomplete";
    json_t *at = json_object_get(h, "probed_at");

    json_object_set_new(h, key, json_integer(json_integer_value(json_object_get(h, key)) + 1));
    if (!json_is_integer(at) || json_integer_value(at) < r->probed_at)
        json_object_set_new(h, "probed_at", json_integer(r->probed_at));
    if (!fresh)
        json_object_set_new(h, "fresh", json_false());
}

static int row_add(void *arg, const struct probe_row *r)
{
    struct probe_walk *w = arg;
    bool fresh = w->now - r->probed_at <= w->max_age;

    if (w->host == NULL ||
        strcasecmp(json_string_value(json_object_get(w->host, "host")), r->host) != 0) {
        w->host = host_json(r->host);
        if (w->host == NULL || json_array_append_new(w->hosts, w->host) != 0)
            return DB_ERROR;
    }
    if (json_array_append_new(json_object_get(w->host, "loads"), load_json(r, fresh)) != 0)
        return DB_ERROR;
    host_count(w->host, r, fresh);
    return 0;
}

static int64_t max_age_read(sqlite3 *db)
{
    char v[32];
    uint64_t age;

    if (catalog_setting_get(db, "fleet_max_age_s", v, sizeof(v)) == DB_OK &&
        numparse_u64(v, 1, PROBE_JSON_AGE_MAX, &age) == 0)
        return (int64_t)age;
    return PROBE_JSON_AGE_DEFAULT;
}

static bool enabled_read(sqlite3 *db)
{
    char v[8];

    return catalog_setting_get(db, "probe_load_servers", v, sizeof(v)) == DB_OK &&
           strcmp(v, "on") == 0;
}

int probe_json_hosts(sqlite3 *db, const char *host, int64_t now, json_t **out)
{
    struct probe_walk w = {json_array(), NULL, now, max_age_read(db)};
    int rc = w.hosts != NULL ? probe_rows_each(db, host, row_add, &w) : DB_ERROR;

    if (rc != DB_OK) {
        json_decref(w.hosts);
        return rc < 0 ? rc : DB_ERROR;
    }
    *out = json_pack("{s:b, s:I, s:o}", "enabled", enabled_read(db), "max_age_s",
                     (json_int_t)w.max_age, "hosts", w.hosts);
    return *out != NULL ? DB_OK : DB_ERROR;
}
