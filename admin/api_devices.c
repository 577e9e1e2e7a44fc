/* api_devices.c: /api/v1/devices: the list with effective columns
 * (searched, filtered, sorted, paged: devlist.c), one device's row, its
 * effective settings (settings_resolve, the one resolver) and its rendered
 * SEP<MAC>.cnf.xml (cnf.h), bulk changes and removals and CSV imports as
 * jobs (devtasks.c), the CSV template and export, and the devices whose
 * load is missing or quarantined. Checks only; rows are db/'s, CSV is
 * devcsv.c's, the JSON shapes provision_json.c's and settings_json.c's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/api.h"
#include "admin/api_prov.h"
#include "admin/devcsv.h"
#include "admin/devlist.h"
#include "admin/devtasks.h"
#include "admin/jobs.h"
#include "admin/provision_json.h"
#include "admin/settings_json.h"
#include "admin/views.h"
#include "db/db.h"
#include "db/provision.h"
#include "server/cnf/cnf.h"

#define DEVICES_LIMIT_DEFAULT 50
#define EXPORT_CHUNK          65536

/* The MAC of the path: 400 naming "mac" when it is not one. */
static int path_mac(struct api_request *rq, struct api_response *rs, char mac[SETTINGS_MAC_LEN + 1])
{
    if (settings_mac_normalize(rq->args[0], mac) == 0)
        return 0;
    api_error_field(rs, "mac",
                    "not a MAC address (001122AABBCC, 00:11:22:aa:bb:cc, "
                    "0011.22aa.bbcc or SEP001122AABBCC)");
    return -1;
}

/* ---- listing ---- */

/* The filters of the query string (q, model, profile, load, site) and
 * sort into q. 0, or -1 with a 400 naming the argument. */
static int query_filters(struct api_request *rq, struct api_response *rs, struct devquery *q)
{
    const char *v, *why;

    memset(q, 0, sizeof(*q));
    for (size_t i = 0; devquery_filter_names[i] != NULL; i++) {
        const char *name = devquery_filter_names[i];

        if ((v = api_query(rq, name)) != NULL && devquery_set(q, name, v, strlen(v), &why) != 0)
            return api_error_field(rs, name, "%s", why), -1;
    }
    if ((v = api_query(rq, "sort")) != NULL && devquery_sort_parse(q, v, strlen(v), &why) != 0)
        return api_error_field(rs, "sort", "%s", why), -1;
    return 0;
}

/* The devices as their phones get them: one snapshot for the request. */
static int devices_list(struct api_request *rq, struct api_response *rs)
{
    uint64_t offset, limit;
    struct devquery q;
    struct devlist l;
    int rc;

    if (!api_query_u64(rq, rs, "offset", 0, INT64_MAX, 0, &offset) ||
        !api_query_u64(rq, rs, "limit", 1, PROVISION_PAGE_MAX, DEVICES_LIMIT_DEFAULT, &limit) ||
        query_filters(rq, rs, &q) != 0)
        return 0;
    rc = devlist_open(rq->ctx->dd.db, &q, &l);
    if (rc == DB_OK)
        api_json(rs, MHD_HTTP_OK, devlist_page_json(&l, (size_t)offset, (size_t)limit));
    else
        api_error_db(rs, rc, "device list");
    devlist_close(&l);
    return 0;
}

static int devices_get(struct api_request *rq, struct api_response *rs)
{
    char mac[SETTINGS_MAC_LEN + 1];
    struct provision_device d;
    int rc;

    if (path_mac(rq, rs, mac) != 0)
        return 0;
    rc = provision_device_get(rq->ctx->dd.db, mac, &d);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "device");
    return api_json(rs, MHD_HTTP_OK, provision_device_json(&d));
}

/* ---- writes ---- */

static const char *const device_members[] = {
    "mac",         "model", "profile", "description", "peer_firmware_sharing",
    "load_server", "load",  "force",   "protocol",    NULL};

static int model_member(struct api_request *rq, struct api_response *rs, const char *text,
                        struct provision_device *d)
{
    struct settings_model m;
    int rc = provision_model_find(rq->ctx->dd.db, text, &m);

    if (rc == DB_NOT_FOUND)
        return api_error_field(rs, "model", "unknown model \"%.64s\"", text), -1;
    if (rc == DB_CONFLICT)
        return api_error_field(rs, "model", "\"%.64s\" matches several models", text), -1;
    if (rc != DB_OK)
        return api_error_db(rs, rc, "model"), -1;
    snprintf(d->model, sizeof(d->model), "%s", m.name);
    return 0;
}

static int profile_member(struct api_request *rq, struct api_response *rs, json_t *v,
                          struct provision_device *d)
{
    struct settings_profile p;
    const char *text;
    int rc;

    if (json_is_null(v)) {
        d->profile[0] = '\0';
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) >= SETTINGS_NAME_MAX)
        return api_error_field(rs, "profile", "\"profile\" is a profile name or null"), -1;
    text = json_string_value(v);
    if (text[0] == '\0' || strcasecmp(text, "none") == 0) {
        d->profile[0] = '\0';
        return 0;
    }
    rc = provision_profile_get(rq->ctx->dd.db, text, &p);
    if (rc == DB_NOT_FOUND)
        return api_error_field(rs, "profile", "no profile named \"%.64s\"", text), -1;
    if (rc != DB_OK)
        return api_error_db(rs, rc, "profile"), -1;
    snprintf(d->profile, sizeof(d->profile), "%s", p.name);
    return 0;
}

/* "protocol": "SIP", "SCCP" or null (the model's); the device's model must
 * run it, also when only the model changed. */
static int protocol_member(struct api_request *rq, struct api_response *rs, json_t *body,
                           struct provision_device *d)
{
    json_t *v = json_object_get(body, "protocol");
    struct settings_model m;
    const char *p;

    if (v != NULL && !json_is_null(v)) {
        p = json_is_string(v) ? settings_protocol_parse(json_string_value(v)) : NULL;
        if (p == NULL)
            return api_error_field(rs, "protocol", "\"protocol\" is SIP, SCCP or null"), -1;
        snprintf(d->protocol, sizeof(d->protocol), "%s", p);
    } else if (v != NULL) {
        d->protocol[0] = '\0';
    }
    if (d->protocol[0] == '\0' || provision_model_find(rq->ctx->dd.db, d->model, &m) != DB_OK ||
        settings_model_runs(&m, d->protocol))
        return 0;
    return api_error_field(rs, "protocol", "%s runs %s only", m.name, m.protocol), -1;
}

/* Applies the members present in body to d (absent: unchanged; null:
 * inherit / none). */
static int device_apply(struct api_request *rq, struct api_response *rs, json_t *body,
                        struct provision_device *d)
{
    json_t *v;
    const char *text;
    bool force, ok;

    if (prov_force_member(body, &force, rs) != 0)
        return -1;
    if ((v = json_object_get(body, "model")) != NULL) {
        text = api_member_string(body, "model", true, SETTINGS_NAME_MAX - 1, rs, &ok);
        if (!ok || model_member(rq, rs, text, d) != 0)
            return -1;
    }
    if ((v = json_object_get(body, "profile")) != NULL && profile_member(rq, rs, v, d) != 0)
        return -1;
    if ((v = json_object_get(body, "description")) != NULL) {
        text = api_member_string(body, "description", false, SETTINGS_VALUE_MAX - 1, rs, &ok);
        if (!ok)
            return -1;
        if (text != NULL && !settings_text_valid(text))
            return api_error_field(rs, "description", "a description is %s", SETTINGS_TEXT_RULE),
                   -1;
        snprintf(d->description, sizeof(d->description), "%s", text ? text : "");
    }
    if (json_object_get(body, "peer_firmware_sharing") != NULL &&
        prov_opt_member(body, "peer_firmware_sharing", SETTINGS_KEY_PFS, &d->pfs, rs) != 0)
        return -1;
    if (json_object_get(body, "load_server") != NULL &&
        prov_opt_member(body, "load_server", SETTINGS_KEY_LOAD_SERVER, &d->load_server, rs) != 0)
        return -1;
    if (json_object_get(body, "load") != NULL) {
        if (prov_opt_member(body, "load", SETTINGS_KEY_LOAD, &d->load, rs) != 0)
            return -1;
        if (d->load.set && prov_load_check(rq, rs, d->load.value, force) != 0)
            return -1;
    }
    return protocol_member(rq, rs, body, d);
}

static int devices_add(struct api_request *rq, struct api_response *rs)
{
    json_t *body = api_body_object(rq, rs);
    struct provision_device d;
    const char *text;
    bool ok;
    int rc;

    if (body == NULL)
        return 0;
    memset(&d, 0, sizeof(d));
    if (prov_members_known(body, device_members, rs) != 0)
        goto out;
    text = api_member_string(body, "mac", true, 64, rs, &ok);
    if (!ok)
        goto out;
    if (settings_mac_normalize(text, d.mac) != 0) {
        api_error_field(rs, "mac", "not a MAC address");
        goto out;
    }
    if (json_object_get(body, "model") == NULL) {
        api_error_field(rs, "model", "\"model\" is required");
        goto out;
    }
    if (device_apply(rq, rs, body, &d) != 0)
        goto out;
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_device_add(rq->ctx->dd.db, api_actor(rq), &d);
    rc = prov_txn_end(rq, rc);
    if (rc == DB_CONFLICT) {
        /* "mac" lets a client lead to the device (the page links it). */
        api_error(rs, MHD_HTTP_CONFLICT, "conflict", "device %s exists already", d.mac);
        json_object_set_new(rs->json, "mac", json_string(d.mac));
    } else if (rc != DB_OK)
        api_error_db(rs, rc, "device");
    else
        api_json(rs, MHD_HTTP_CREATED, provision_device_json(&d));
out:
    json_decref(body);
    return 0;
}

static int devices_put(struct api_request *rq, struct api_response *rs)
{
    json_t *body = api_body_object(rq, rs);
    char mac[SETTINGS_MAC_LEN + 1];
    struct provision_device d;
    int rc = DB_ERROR;

    if (body == NULL)
        return 0;
    if (path_mac(rq, rs, mac) != 0 || prov_members_known(body, device_members, rs) != 0)
        goto out;
    if (json_object_get(body, "mac") != NULL) {
        api_error_field(rs, "mac", "the MAC is the device's name: remove it and add another");
        goto out;
    }
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_device_get(rq->ctx->dd.db, mac, &d);
    if (rc != DB_OK) {
        prov_txn_end(rq, rc);
        api_error_db(rs, rc, "device");
        goto out;
    }
    if (device_apply(rq, rs, body, &d) != 0) {
        prov_txn_end(rq, DB_ERROR);
        goto out;
    }
    rc = prov_txn_end(rq, provision_device_update(rq->ctx->dd.db, api_actor(rq), &d));
    if (rc != DB_OK)
        api_error_db(rs, rc, "device");
    else
        api_json(rs, MHD_HTTP_OK, provision_device_json(&d));
out:
    json_decref(body);
    return 0;
}

static int devices_remove(struct api_request *rq, struct api_response *rs)
{
    char mac[SETTINGS_MAC_LEN + 1];
    int rc;

    if (path_mac(rq, rs, mac) != 0)
        return 0;
    rc = db_begin(rq->ctx->dd.db);
    if (rc == DB_OK)
        rc = provision_device_remove(rq->ctx->dd.db, api_actor(rq), mac);
    rc = prov_txn_end(rq, rc);
    if (rc != DB_OK)
        return api_error_db(rs, rc, "device");
    return api_json(rs, MHD_HTTP_OK, json_pack("{s:s}", "removed", mac));
}

/* ---- effective settings and the rendered config ---- */

/* Opens what the phone of the path's MAC gets, for ?from=IP (absent: the
 * address its config was last asked from; "none": no address). 0, or -1
 * with the error in rs (p closed). */
static int phone_open(struct api_request *rq, struct api_response *rs, struct view_phone *p)
{
    char mac[SETTINGS_MAC_LEN + 1];
    int rc;

    memset(p, 0, sizeof(*p));
    if (path_mac(rq, rs, mac) != 0)
        return -1;
    rc = view_phone_open(rq->ctx->dd.db, mac, api_query(rq, "from"), p);
    if (rc == DB_OK)
        return 0;
    view_phone_close(p);
    if (rc == VIEW_BAD_ADDRESS)
        api_error_field(rs, "from", "\"from\" is an IPv4 or IPv6 address, or none");
    else if (rc == DB_NOT_FOUND)
        api_error(rs, MHD_HTTP_NOT_FOUND, "not_found",
                  "no device %s (an unknown phone gets XMLDefault.cnf.xml)", mac);
    else
        api_error_db(rs, rc, "provisioning data");
    return -1;
}

static int devices_effective(struct api_request *rq, struct api_response *rs)
{
    struct view_phone p;

    if (phone_open(rq, rs, &p) != 0)
        return 0;
    api_json(rs, MHD_HTTP_OK, view_phone_json(&p));
    view_phone_close(&p);
    return 0;
}

/* The config file the phone gets (?from as for effective). */
static int devices_config(struct api_request *rq, struct api_response *rs)
{
    struct view_phone p;

    if (phone_open(rq, rs, &p) != 0)
        return 0;
    if (p.rendered == CNF_INVALID) {
        api_error(rs, MHD_HTTP_CONFLICT, "bad_template",
                  "the profile's template does not pass the checks: fix or remove it");
    } else {
        rs->status = MHD_HTTP_OK;
        rs->text = p.config.data; /* the response owns the buffer now */
        rs->text_len = p.config.len;
        rs->content_type = "application/xml; charset=utf-8";
        p.config.data = NULL;
        p.config.len = 0;
    }
    view_phone_close(&p);
    return 0;
}

/* ---- problems: devices held back (their load missing, quarantined or blocked) ---- */

static int devices_problems(struct api_request *rq, struct api_response *rs)
{
    struct devlist l;
    json_t *list = json_array();
    int rc = devlist_read(rq->ctx->dd.db, &l);

    for (size_t i = 0; rc == DB_OK && i < l.snap->n_devices; i++) {
        struct settings_effective e;

        if (devlist_resolve(&l, i, &e) != 0 || !settings_load_problem(&e))
            continue;
        json_array_append_new(list, settings_problem_json(&e));
    }
    devlist_close(&l);
    if (rc != DB_OK) {
        json_decref(list);
        return api_error_db(rs, rc, "provisioning data");
    }
    return api_json(
        rs, MHD_HTTP_OK,
        json_pack("{s:o, s:I}", "devices", list, "count", (json_int_t)json_array_size(list)));
}

/* ---- bulk changes and removals: one job each ---- */

static const char *const bulk_members[] = {"action", "filter", "macs", "set", "force", NULL};
static const char *const bulk_set_members[] = {"profile", "peer_firmware_sharing", "load_server",
                                               "load", NULL};

/* "filter": {"q", "model", ...} into b->query. */
static int bulk_filter(json_t *f, struct devtasks_bulk *b, struct api_response *rs)
{
    const char *key, *why;
    json_t *v;

    if (!json_is_object(f))
        return api_error_field(rs, "filter", "\"filter\" is an object of filters"), -1;
    json_object_foreach(f, key, v)
    {
        if (!json_is_string(v) ||
            devquery_set(&b->query, key, json_string_value(v), json_string_length(v), &why) != 0)
            return api_error_field(rs, "filter", "filter \"%.32s\": %s", key,
                                   json_is_string(v) ? why : "a string"),
                   -1;
    }
    return 0;
}

static int mac_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* "macs": [...] into b->macs, normalised, sorted, each once. */
static int bulk_macs(json_t *list, struct devtasks_bulk *b, struct api_response *rs)
{
    size_t n = json_array_size(list), k = 0;

    if (!json_is_array(list) || n == 0 || n > DEVTASKS_MACS_MAX)
        return api_error_field(rs, "macs", "\"macs\" is a list of 1 to %d MAC addresses",
                               DEVTASKS_MACS_MAX),
               -1;
    b->macs = calloc(n, sizeof(*b->macs));
    if (b->macs == NULL)
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory"), -1;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(list, i);

        if (!json_is_string(v) || settings_mac_normalize(json_string_value(v), b->macs[i]) != 0)
            return api_error_field(rs, "macs", "item %zu is not a MAC address", i), -1;
    }
    qsort(b->macs, n, sizeof(*b->macs), mac_cmp);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(b->macs[k - 1], b->macs[i]) != 0)
            memmove(b->macs[k++], b->macs[i], sizeof(*b->macs));
    b->n_macs = k;
    b->by_macs = true;
    return 0;
}

/* "profile": a name, or null/"" for none; checked to exist now (and again
 * when the job runs). */
static int bulk_profile(struct api_request *rq, struct api_response *rs, json_t *v,
                        struct devbulk_change *c)
{
    struct provision_device d;

    memset(&d, 0, sizeof(d));
    if (profile_member(rq, rs, v, &d) != 0)
        return -1;
    c->set_profile = true;
    snprintf(c->profile, sizeof(c->profile), "%s", d.profile);
    return 0;
}

/* "set": {...}: at least one member; the load checked now as a single
 * device's would be (409 unless force). */
static int bulk_set(struct api_request *rq, struct api_response *rs, json_t *set,
                    struct devtasks_bulk *b)
{
    struct devbulk_change *c = &b->change;
    json_t *v;

    if (!json_is_object(set) || json_object_size(set) == 0)
        return api_error_field(rs, "set", "\"set\" names what to set: %s",
                               "profile, peer_firmware_sharing, load_server or load"),
               -1;
    if (prov_members_known(set, bulk_set_members, rs) != 0)
        return -1;
    if ((v = json_object_get(set, "profile")) != NULL && bulk_profile(rq, rs, v, c) != 0)
        return -1;
    if ((c->set_pfs = json_object_get(set, "peer_firmware_sharing") != NULL) &&
        prov_opt_member(set, "peer_firmware_sharing", SETTINGS_KEY_PFS, &c->pfs, rs) != 0)
        return -1;
    if ((c->set_load_server = json_object_get(set, "load_server") != NULL) &&
        prov_opt_member(set, "load_server", SETTINGS_KEY_LOAD_SERVER, &c->load_server, rs) != 0)
        return -1;
    if ((c->set_load = json_object_get(set, "load") != NULL) &&
        prov_opt_member(set, "load", SETTINGS_KEY_LOAD, &c->load, rs) != 0)
        return -1;
    if (c->set_load && c->load.set && prov_load_check(rq, rs, c->load.value, b->force) != 0)
        return -1;
    return 0;
}

static int bulk_parse(struct api_request *rq, struct api_response *rs, json_t *body,
                      struct devtasks_bulk *b)
{
    json_t *filter = json_object_get(body, "filter"), *macs = json_object_get(body, "macs");
    const char *action;
    bool ok;

    if (prov_members_known(body, bulk_members, rs) != 0 ||
        prov_force_member(body, &b->force, rs) != 0)
        return -1;
    action = api_member_string(body, "action", true, 16, rs, &ok);
    if (!ok)
        return -1;
    if (strcmp(action, "set") != 0 && strcmp(action, "delete") != 0)
        return api_error_field(rs, "action", "\"action\" is \"set\" or \"delete\""), -1;
    b->remove = strcmp(action, "delete") == 0;
    if ((filter == NULL) == (macs == NULL))
        return api_error_field(rs, "filter",
                               "give either \"filter\" (every device matching it) or \"macs\""),
               -1;
    if (filter != NULL ? bulk_filter(filter, b, rs) != 0 : bulk_macs(macs, b, rs) != 0)
        return -1;
    if (b->remove && json_object_get(body, "set") != NULL)
        return api_error_field(rs, "set", "a removal sets nothing"), -1;
    if (!b->remove && bulk_set(rq, rs, json_object_get(body, "set"), b) != 0)
        return -1;
    snprintf(b->actor, sizeof(b->actor), "%s", api_actor(rq));
    return 0;
}

/* 202 {"id": job}: a job answers the rest (GET /jobs/ID). */
static int job_accepted(struct api_response *rs, int rc, int64_t id)
{
    if (rc == JOBS_BUSY) {
        rs->retry_after = 5;
        return api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                         "too many jobs wait: try again shortly");
    }
    if (rc != JOBS_OK)
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot queue the job");
    return api_json(rs, MHD_HTTP_ACCEPTED, json_pack("{s:I}", "id", (json_int_t)id));
}

static int devices_bulk(struct api_request *rq, struct api_response *rs)
{
    json_t *body = api_body_object(rq, rs);
    struct devtasks_bulk *b;
    int64_t id = 0;
    int rc;

    if (body == NULL)
        return 0;
    b = calloc(1, sizeof(*b));
    if (b == NULL || bulk_parse(rq, rs, body, b) != 0) {
        if (b == NULL)
            api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
        devtasks_bulk_free(b);
        json_decref(body);
        return 0;
    }
    json_decref(body);
    rc = devtasks_bulk_submit(rq->ctx->jobs, rq->ctx->dd.db, b, &id);
    return job_accepted(rs, rc, id);
}

/* ---- CSV ---- */

/* ?force=1: loads the catalog lacks; ?partial=1: import the good rows and
 * keep the others, with reasons, as the job's rejected-rows file. */
static int devices_import(struct api_request *rq, struct api_response *rs)
{
    struct devcsv_options o;
    uint64_t force, partial;
    int64_t id = 0;
    int rc;

    if (!api_query_u64(rq, rs, "force", 0, 1, 0, &force) ||
        !api_query_u64(rq, rs, "partial", 0, 1, 0, &partial))
        return 0;
    if (rq->body == NULL || rq->body_len == 0)
        return api_error(rs, MHD_HTTP_BAD_REQUEST, "invalid", "the CSV body is empty");
    o.force = force != 0;
    o.partial = partial != 0;
    rc = devtasks_csv_submit(rq->ctx->jobs, rq->ctx->dd.db, api_actor(rq), rq->body, rq->body_len,
                             &o, &id);
    return job_accepted(rs, rc, id);
}

struct export_buf {
    char *data;
    size_t len, cap;
};

static int export_out(void *arg, const char *text, size_t len)
{
    struct export_buf *b = arg;
    size_t cap = b->cap ? b->cap : EXPORT_CHUNK;
    char *grown;

    if (len > SIZE_MAX / 2 - b->len)
        return -1;
    while (cap < b->len + len + 1)
        cap *= 2;
    if (cap != b->cap) {
        grown = realloc(b->data, cap);
        if (grown == NULL)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

/* The CSV template: the header and an example row. */
static int devices_template(struct api_request *rq, struct api_response *rs)
{
    struct export_buf b = {0};

    (void)rq;
    if (devcsv_template(export_out, &b) != 0 || b.data == NULL) {
        free(b.data);
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
    }
    rs->status = MHD_HTTP_OK;
    rs->text = b.data;
    rs->text_len = b.len;
    rs->content_type = "text/csv; charset=utf-8";
    return 0;
}

/* ?safe=1: for spreadsheets, formulas defused (see devcsv_export). */
static int devices_export(struct api_request *rq, struct api_response *rs)
{
    struct export_buf b = {0};
    uint64_t safe;

    if (!api_query_u64(rq, rs, "safe", 0, 1, 0, &safe))
        return 0;
    if (devcsv_export(rq->ctx->dd.db, safe != 0, export_out, &b) != 0 || b.data == NULL) {
        free(b.data);
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "export failed");
    }
    rs->status = MHD_HTTP_OK;
    rs->text = b.data;
    rs->text_len = b.len;
    rs->content_type = "text/csv; charset=utf-8";
    return 0;
}

const struct api_route api_devices_routes[] = {
    {"GET", "/api/v1/devices", 0, devices_list},
    {"POST", "/api/v1/devices", 0, devices_add},
    {"GET", "/api/v1/devices/problems", 0, devices_problems},
    {"GET", "/api/v1/devices/export", 0, devices_export},
    {"GET", "/api/v1/devices/template", 0, devices_template},
    {"POST", "/api/v1/devices/bulk", 0, devices_bulk},
    {"POST", "/api/v1/devices/import", API_BODY_CSV, devices_import},
    {"GET", "/api/v1/devices/{}", 0, devices_get},
    {"PUT", "/api/v1/devices/{}", 0, devices_put},
    {"DELETE", "/api/v1/devices/{}", 0, devices_remove},
    {"GET", "/api/v1/devices/{}/effective", 0, devices_effective},
    {"GET", "/api/v1/devices/{}/config", 0, devices_config},
    {NULL, NULL, 0, NULL},
};
