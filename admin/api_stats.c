/* api_stats.c: /api/v1/stats (JSON) and /metrics (Prometheus text): TFTP and HTTP
 * counters, loads by status, quarantined files. Read only; the TFTP numbers
 * are atomics the workers keep, so reading them never slows a transfer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/api.h"
#include "admin/devlist.h"
#include "admin/inventory_view.h"
#include "admin/jobs.h"
#include "db/catalog.h"
#include "db/provision.h"
#include "lib/text.h"
#include "server/files/files_server.h"
#include "server/resolve/missing.h"
#include "server/tftp/tftp_server.h"

#define METRICS_MAX       131072
#define METRICS_SITES_MAX 256 /* sites with inventory gauges; the rest are left out */
#define MISSING_TOP_STATS 10  /* names in /api/v1/stats; the endpoint gives them all */

struct catalog_counts {
    int64_t verified, signed_, partial, unsigned_, invalid, quarantined; /* loads */
    int64_t not_served; /* loads the signature policy does not serve now */
    int64_t files, files_quarantined;
};

static int count_load(void *arg, const struct catalog_load *l)
{
    struct catalog_counts *c = arg;

    if (strcmp(l->status, "quarantined") == 0)
        c->quarantined++;
    else if (strcmp(l->status, "verified") == 0)
        c->verified++;
    else if (strcmp(l->status, "signed") == 0)
        c->signed_++;
    else if (strcmp(l->status, "partial") == 0)
        c->partial++;
    else if (strcmp(l->status, "invalid") == 0)
        c->invalid++;
    else
        c->unsigned_++;
    c->not_served += !l->served;
    return 0;
}

static int count_file(void *arg, const struct catalog_file *f)
{
    struct catalog_counts *c = arg;

    c->files++;
    if (strcmp(f->status, "quarantined") == 0)
        c->files_quarantined++;
    return 0;
}

static int counts_read(struct api_request *rq, struct catalog_counts *c,
                       struct tftp_server_stats *st)
{
    int rc;

    memset(c, 0, sizeof(*c));
    memset(st, 0, sizeof(*st));
    if (rq->ctx->tftp != NULL)
        tftp_server_get_stats(rq->ctx->tftp, st);
    rc = catalog_loads_each(rq->ctx->dd.db, count_load, c);
    if (rc == DB_OK)
        rc = catalog_files_each(rq->ctx->dd.db, NULL, count_file, c);
    return rc;
}

/* The TFTP counters, loads and files by status, uptime. */
static json_t *stats_body(struct api_request *rq, const struct catalog_counts *c,
                          const struct tftp_server_stats *st)
{
    return json_pack(
        "{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
        " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I}, s:I}",
        "tftp", "requests", (json_int_t)st->requests, "transfers_active",
        (json_int_t)st->transfers_active, "transfers_done", (json_int_t)st->transfers_done,
        "transfers_failed", (json_int_t)st->transfers_failed, "refused_busy",
        (json_int_t)st->refused_busy, "errors_sent", (json_int_t)st->errors_sent, "bytes_sent",
        (json_int_t)st->bytes_sent, "loads", "verified", (json_int_t)c->verified, "signed",
        (json_int_t)c->signed_, "partial", (json_int_t)c->partial, "unsigned",
        (json_int_t)c->unsigned_, "invalid", (json_int_t)c->invalid, "quarantined",
        (json_int_t)c->quarantined, "not_served", (json_int_t)c->not_served, "files", "total",
        (json_int_t)c->files, "quarantined", (json_int_t)c->files_quarantined, "uptime_seconds",
        (json_int_t)(rq->now - rq->ctx->started));
}

/* Devices in all, those held back (their effective load missing,
 * quarantined or blocked by the signature policy) and what the fleet gate
 * made of their load servers: each resolved as its phone gets it (devlist:
 * its last-seen address, the fleet view). */
static int devices_read(struct api_request *rq, json_t **out)
{
    struct devlist l;
    int64_t missing = 0, quarantined = 0, blocked = 0, gate[FLEET_OUTCOMES] = {0};
    int rc = devlist_read(rq->ctx->dd.db, &l);

    for (size_t i = 0; rc == DB_OK && i < l.snap->n_devices; i++) {
        struct settings_effective e;

        if (devlist_resolve(&l, i, &e) != 0)
            continue;
        missing += e.load_state == SETTINGS_LOAD_MISSING;
        quarantined += e.load_state == SETTINGS_LOAD_QUARANTINED;
        blocked += e.load_state == SETTINGS_LOAD_BLOCKED;
        gate[fleet_outcome_of(&e)]++;
    }
    if (rc == DB_OK)
        *out = json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}}", "total", (json_int_t)l.snap->n_devices,
            "problems", (json_int_t)(missing + quarantined + blocked), "load_missing",
            (json_int_t)missing, "load_quarantined", (json_int_t)quarantined, "load_blocked",
            (json_int_t)blocked, "fleet_gate", "holder", (json_int_t)gate[FLEET_OUTCOME_HOLDER],
            "central", (json_int_t)gate[FLEET_OUTCOME_CENTRAL], "held_back",
            (json_int_t)gate[FLEET_OUTCOME_HELD_BACK]);
    devlist_close(&l);
    return rc;
}

/* The totals of the last whole-catalog scrub (background or loadsctl
 * verify), or null when none has run yet. */
static json_t *scrub_last_run(struct api_request *rq)
{
    char text[256];
    json_t *v = NULL;

    if (catalog_setting_get(rq->ctx->dd.db, "scrub_last_run", text, sizeof(text)) == DB_OK)
        v = json_loads(text, 0, NULL);
    return v != NULL ? v : json_null();
}

/* What scrubbing found: the last run's totals and the newest quarantine. */
static json_t *scrub_read(struct api_request *rq, const struct catalog_counts *c)
{
    int64_t n = 0, at = 0;
    json_t *last = json_null();

    if (catalog_audit_count(rq->ctx->dd.db, "file.quarantine", &n, &at) == DB_OK && n > 0) {
        json_decref(last);
        last = json_integer(at);
    }
    return json_pack("{s:o, s:I, s:I, s:o}", "last_quarantine_at", last, "quarantines_recorded",
                     (json_int_t)n, "files_quarantined", (json_int_t)c->files_quarantined,
                     "last_run", scrub_last_run(rq));
}

/* The HTTP file service's counters (zeros when it is off). */
static json_t *http_stats(struct api_request *rq)
{
    struct files_server_stats st;

    files_server_get_stats(rq->ctx->files, &st);
    return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "enabled",
                     rq->ctx->files != NULL, "requests", (json_int_t)st.requests, "responses_2xx",
                     (json_int_t)st.status[2], "responses_3xx", (json_int_t)st.status[3],
                     "responses_4xx", (json_int_t)st.status[4], "responses_5xx",
                     (json_int_t)st.status[5], "refused_busy", (json_int_t)st.refused_busy,
                     "connections", (json_int_t)st.connections, "transfers_active",
                     (json_int_t)st.transfers_active, "bytes_sent", (json_int_t)st.bytes_sent);
}

/* The names phones asked for that no source has: the totals and the top
 * names (cap of them), most asked-for first. Names are stored as asked:
 * repaired into UTF-8 before they go into JSON. */
static json_t *missing_json(struct api_request *rq, size_t cap)
{
    struct missing_name *top = calloc(cap, sizeof(*top));
    struct missing_stats st;
    size_t n = missing_table_top(rq->ctx->missing, top, top != NULL ? cap : 0, &st);
    json_t *list = json_array();

    for (size_t i = 0; i < n && list != NULL; i++) {
        char name[MISSING_NAME_MAX * 3 + 1];

        text_repair(top[i].name, strlen(top[i].name), name, sizeof(name));
        json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:s?}", "name", name, "count",
                                              (json_int_t)top[i].count, "last_at",
                                              (json_int_t)top[i].last_at, "last_from",
                                              top[i].last_from[0] ? top[i].last_from : NULL));
    }
    free(top);
    return json_pack("{s:b, s:I, s:I, s:I, s:I, s:o}", "kept", rq->ctx->missing != NULL, "requests",
                     (json_int_t)st.requests, "names", (json_int_t)st.names, "names_max",
                     (json_int_t)MISSING_NAMES_MAX, "evicted", (json_int_t)st.evicted, "top",
                     list != NULL ? list : json_array());
}

/* GET /api/v1/missing-names: every name kept, most asked-for first. */
static int missing_get(struct api_request *rq, struct api_response *rs)
{
    return api_json(rs, MHD_HTTP_OK, missing_json(rq, MISSING_NAMES_MAX));
}

static int stats_get(struct api_request *rq, struct api_response *rs)
{
    struct tftp_server_stats st;
    struct catalog_counts c;
    unsigned up, queued, running;
    json_t *devices = NULL, *body;
    int rc = counts_read(rq, &c, &st);

    if (rc == DB_OK)
        rc = devices_read(rq, &devices);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "stats");
    jobs_counts(rq->ctx->jobs, &up, &queued, &running);
    body = stats_body(rq, &c, &st);
    if (body != NULL) {
        json_object_set_new(body, "devices", devices);
        json_object_set_new(body, "jobs",
                            json_pack("{s:i, s:i, s:i}", "uploading", (int)up, "queued",
                                      (int)queued, "running", (int)running));
        json_object_set_new(body, "scrub", scrub_read(rq, &c));
        json_object_set_new(body, "http", http_stats(rq));
        json_object_set_new(body, "missing_names", missing_json(rq, MISSING_TOP_STATS));
    } else {
        json_decref(devices);
    }
    return api_json(rs, MHD_HTTP_OK, body);
}

/* Appends one "# HELP / # TYPE / value" block. */
static void metric(char *buf, size_t cap, size_t *pos, const char *name, const char *type,
                   const char *help, const char *labels, unsigned long long value)
{
    int n;

    if (*pos >= cap)
        return;
    if (help != NULL)
        n = snprintf(buf + *pos, cap - *pos, "# HELP %s %s\n# TYPE %s %s\n%s%s %llu\n", name, help,
                     name, type, name, labels, value);
    else
        n = snprintf(buf + *pos, cap - *pos, "%s%s %llu\n", name, labels, value);
    if (n > 0)
        *pos += (size_t)n;
}

/* Refusals by the limit that refused, and the budget of unanswered transfers. */
static void tftp_refusal_metrics(char *buf, size_t *pos, const struct tftp_server_stats *st)
{
    metric(buf, METRICS_MAX, pos, "loadsd_tftp_refused_total", "counter",
           "TFTP requests refused, by the limit that refused them",
           "{limit=\"max_unacked_per_prefix\"}", st->refused_unacked_prefix);
    metric(buf, METRICS_MAX, pos, "loadsd_tftp_refused_total", "counter", NULL,
           "{limit=\"max_unacked\"}", st->refused_unacked);
    metric(buf, METRICS_MAX, pos, "loadsd_tftp_refused_total", "counter", NULL,
           "{limit=\"max_transfers_per_client\"}", st->refused_client);
    metric(buf, METRICS_MAX, pos, "loadsd_tftp_refused_total", "counter", NULL,
           "{limit=\"max_transfers\"}", st->refused_transfers);
    metric(buf, METRICS_MAX, pos, "loadsd_tftp_transfers_unacked", "gauge",
           "TFTP transfers in progress that the client has not acknowledged yet", "",
           st->transfers_unacked);
    metric(buf, METRICS_MAX, pos, "loadsd_tftp_unacked_ended_total", "counter",
           "TFTP transfers that ended without any acknowledgement", "{how=\"expired\"}",
           st->unacked_expired - st->unacked_evicted);
    metric(buf, METRICS_MAX, pos, "loadsd_tftp_unacked_ended_total", "counter", NULL,
           "{how=\"evicted\"}", st->unacked_evicted);
}

/* The HTTP file service, and the requests and bytes of both protocols. */
static void http_metrics(struct api_request *rq, char *buf, size_t *pos,
                         const struct tftp_server_stats *tst)
{
    static const char *const classes[] = {
        "", "", "{class=\"2xx\"}", "{class=\"3xx\"}", "{class=\"4xx\"}", "{class=\"5xx\"}"};
    struct files_server_stats st;

    files_server_get_stats(rq->ctx->files, &st); /* zeros when the service is off */
    for (int i = 2; i <= 5; i++)
        metric(buf, METRICS_MAX, pos, "loadsd_http_responses_total", "counter",
               i == 2 ? "HTTP file service responses by status class" : NULL, classes[i],
               st.status[i]);
    metric(buf, METRICS_MAX, pos, "loadsd_http_refused_busy_total", "counter",
           "HTTP file service requests refused (503) at a connection cap", "", st.refused_busy);
    metric(buf, METRICS_MAX, pos, "loadsd_http_connections", "gauge",
           "HTTP file service connections open", "", st.connections);
    metric(buf, METRICS_MAX, pos, "loadsd_http_transfers_active", "gauge",
           "HTTP file service response bodies in progress", "", st.transfers_active);
    metric(buf, METRICS_MAX, pos, "loadsd_requests_total", "counter", "File requests by protocol",
           "{protocol=\"tftp\"}", tst->requests);
    metric(buf, METRICS_MAX, pos, "loadsd_requests_total", "counter", NULL, "{protocol=\"http\"}",
           st.requests);
    metric(buf, METRICS_MAX, pos, "loadsd_sent_bytes_total", "counter",
           "File bytes sent by protocol (TFTP: DATA payload, resends included; HTTP: bodies)",
           "{protocol=\"tftp\"}", tst->bytes_sent);
    metric(buf, METRICS_MAX, pos, "loadsd_sent_bytes_total", "counter", NULL, "{protocol=\"http\"}",
           st.bytes_sent);
}

/* Requests for names no source has, and the names kept (no name as a
 * label: a phone's typo must not become a time series). */
static void missing_metrics(struct api_request *rq, char *buf, size_t *pos)
{
    struct missing_stats st;

    missing_table_top(rq->ctx->missing, NULL, 0, &st);
    metric(buf, METRICS_MAX, pos, "loadsd_missing_requests_total", "counter",
           "Requests (TFTP and HTTP) for a name no source has", "", st.requests);
    metric(buf, METRICS_MAX, pos, "loadsd_missing_names", "gauge",
           "Distinct names asked for and not found, kept in the table", "", st.names);
}

/* A site's name as a label value: \ " and newlines escaped. */
static void label_escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;

    for (; *in != '\0' && o + 3 < cap; in++) {
        if (*in == '\\' || *in == '"' || *in == '\n')
            out[o++] = '\\';
        out[o++] = *in == '\n' ? 'n' : *in;
    }
    out[o] = '\0';
}

/* One inventory gauge family, a sample per site. */
static void inventory_family(char *buf, size_t *pos, const struct inventory_view *v,
                             const char *name, const char *help, size_t which)
{
    for (size_t i = 0; i < v->n_sites && i < METRICS_SITES_MAX; i++) {
        const struct inventory_count *c = &v->sites[i];
        unsigned vals[3] = {c->on_target, c->pending, c->stuck};
        char site[200], labels[240];

        label_escape(c->key, site, sizeof(site));
        snprintf(labels, sizeof(labels), "{site=\"%s\"}", site);
        metric(buf, METRICS_MAX, pos, name, "gauge", i == 0 ? help : NULL, labels, vals[which]);
    }
}

/* The firmware inventory by site: on target, pending, stuck. */
static void inventory_metrics(struct api_request *rq, char *buf, size_t *pos)
{
    struct inventory_view v;

    if (inventory_view_read(rq->ctx->dd.db, rq->now, rq->ctx->inventory_stuck_s, &v) != DB_OK)
        return;
    inventory_family(buf, pos, &v, "loadsd_phones_on_target",
                     "Phones whose last config named a load they fetched whole or run", 0);
    inventory_family(buf, pos, &v, "loadsd_phones_pending",
                     "Phones yet to fetch all of the load their config names", 1);
    inventory_family(buf, pos, &v, "loadsd_phones_stuck",
                     "Phones that started a load longer ago than inventory-stuck-s and never "
                     "finished it",
                     2);
    inventory_view_free(&v);
}

static int metrics_get(struct api_request *rq, struct api_response *rs)
{
    struct tftp_server_stats st;
    struct catalog_counts c;
    char *buf;
    size_t pos = 0;
    int rc = counts_read(rq, &c, &st);

    if (rc != DB_OK)
        return api_error_db(rs, rc, "metrics");
    buf = malloc(METRICS_MAX);
    if (buf == NULL)
        return api_error_db(rs, DB_ERROR, "metrics");
    metric(buf, METRICS_MAX, &pos, "loadsd_tftp_requests_total", "counter",
           "TFTP read requests received", "", st.requests);
    metric(buf, METRICS_MAX, &pos, "loadsd_tftp_transfers_active", "gauge",
           "TFTP transfers in progress", "", st.transfers_active);
    metric(buf, METRICS_MAX, &pos, "loadsd_tftp_transfers_total", "counter",
           "TFTP transfers finished", "{result=\"done\"}", st.transfers_done);
    metric(buf, METRICS_MAX, &pos, "loadsd_tftp_transfers_total", "counter", NULL,
           "{result=\"failed\"}", st.transfers_failed);
    metric(buf, METRICS_MAX, &pos, "loadsd_tftp_refused_busy_total", "counter",
           "TFTP requests refused at the transfer limits", "", st.refused_busy);
    tftp_refusal_metrics(buf, &pos, &st);
    http_metrics(rq, buf, &pos, &st);
    metric(buf, METRICS_MAX, &pos, "loadsd_tftp_errors_sent_total", "counter",
           "TFTP ERROR packets sent", "", st.errors_sent);
    metric(buf, METRICS_MAX, &pos, "loadsd_tftp_sent_bytes_total", "counter",
           "TFTP DATA payload bytes sent, resends included", "", st.bytes_sent);
    metric(buf, METRICS_MAX, &pos, "loadsd_loads", "gauge", "Loads in the catalog by status",
           "{status=\"verified\"}", (unsigned long long)c.verified);
    metric(buf, METRICS_MAX, &pos, "loadsd_loads", "gauge", NULL, "{status=\"signed\"}",
           (unsigned long long)c.signed_);
    metric(buf, METRICS_MAX, &pos, "loadsd_loads", "gauge", NULL, "{status=\"partial\"}",
           (unsigned long long)c.partial);
    metric(buf, METRICS_MAX, &pos, "loadsd_loads", "gauge", NULL, "{status=\"unsigned\"}",
           (unsigned long long)c.unsigned_);
    metric(buf, METRICS_MAX, &pos, "loadsd_loads", "gauge", NULL, "{status=\"invalid\"}",
           (unsigned long long)c.invalid);
    metric(buf, METRICS_MAX, &pos, "loadsd_loads", "gauge", NULL, "{status=\"quarantined\"}",
           (unsigned long long)c.quarantined);
    metric(buf, METRICS_MAX, &pos, "loadsd_loads_not_served", "gauge",
           "Loads the signature policy does not serve now", "", (unsigned long long)c.not_served);
    missing_metrics(rq, buf, &pos);
    metric(buf, METRICS_MAX, &pos, "loadsd_files", "gauge", "Files in the catalog", "",
           (unsigned long long)c.files);
    metric(buf, METRICS_MAX, &pos, "loadsd_files_quarantined", "gauge",
           "Files quarantined: no longer matching their hash", "",
           (unsigned long long)c.files_quarantined);
    inventory_metrics(rq, buf, &pos);
    rs->status = MHD_HTTP_OK;
    rs->text = buf;
    rs->text_len = pos < METRICS_MAX ? pos : METRICS_MAX - 1;
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return 0;
}

const struct api_route api_stats_routes[] = {
    {"GET", "/api/v1/stats", 0, stats_get},
    {"GET", "/api/v1/missing-names", 0, missing_get},
    {"GET", "/metrics", 0, metrics_get},
    {NULL, NULL, 0, NULL},
};
