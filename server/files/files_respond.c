/* files_respond.c: what one GET or HEAD of the file service gets: the file
 * through the resolver (by name, or a catalog blob by hash) or a manifest of
 * the catalog's loads (JSON, files_manifest.c), then validators,
 * conditions and one Range decided before any response exists. A file's
 * body goes out from its open descriptor (sendfile), never through a buffer
 * of ours; only a manifest (a few kB of JSON) is sent from memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/files/files_internal.h"
#include "server/files/files_request.h"

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
/* A catalog file by name: a short life in a cache, since a name can leave
 * the catalog (a load removed, a file quarantined) while a blob's hash cannot change. */
#define CACHE_CATALOG_NAME "public, max-age=60"
#define CACHE_NONE         "no-cache"
/* A manifest: a cache keeps it 5 s, then revalidates it with If-None-Match
 * (its ETag is the body's hash, so an unchanged manifest costs a 304).
 * Not "no-cache" or max-age=0: nginx and Varnish store neither, so a cache
 * between a branch and its central would never answer a revalidation. */
#define CACHE_MANIFEST "public, max-age=5"
#define RETRY_AFTER_S  "5"
#define HEAD_OVERHEAD  64 /* status line, Date, Connection: an estimate */

/* What a request gets, decided before a response object is made. */
struct answer {
    unsigned status;
    struct resolver_file f;
    bool blob;
    uint64_t off, len;
    time_t mtime;
    char etag[FILES_ETAG_LEN + 1];          /* "" = none */
    char last_modified[FILES_DATE_LEN + 1]; /* "" = none */
    char content_range[96];                 /* "" = none */
    const char *cache_control;
    const char *content_type;
};

/* Internal results to HTTP, in one place: status and the log's reason. */
static const struct {
    int rc;
    unsigned status;
    const char *reason;
    const char *retry_after; /* seconds, or NULL */
} status_map[] = {
    {RESOLVER_NOT_FOUND, MHD_HTTP_NOT_FOUND, "not found", NULL},
    {RESOLVER_BAD_NAME, MHD_HTTP_BAD_REQUEST, "bad name", NULL},
    {RESOLVER_DENIED, MHD_HTTP_FORBIDDEN, "denied", NULL},
    {RESOLVER_UNAVAILABLE, MHD_HTTP_NOT_FOUND, "unavailable (quarantined or not served)", NULL},
    {RESOLVER_IO, MHD_HTTP_INTERNAL_SERVER_ERROR, "I/O error", NULL},
    {RESOLVER_PENDING, MHD_HTTP_SERVICE_UNAVAILABLE, "being fetched from upstream", "5"},
    {RESOLVER_HOLD, MHD_HTTP_SERVICE_UNAVAILABLE, "being fetched from upstream", "5"},
};

static const char *status_text(unsigned status)
{
    switch (status) {
    case MHD_HTTP_BAD_REQUEST:
        return "400 Bad Request\n";
    case MHD_HTTP_FORBIDDEN:
        return "403 Forbidden\n";
    case MHD_HTTP_NOT_FOUND:
        return "404 Not Found\n";
    case MHD_HTTP_METHOD_NOT_ALLOWED:
        return "405 Method Not Allowed\n";
    case MHD_HTTP_URI_TOO_LONG:
        return "414 URI Too Long\n";
    case MHD_HTTP_SERVICE_UNAVAILABLE:
        return "503 Service Unavailable\n";
    default:
        return "500 Internal Server Error\n";
    }
}

static enum MHD_Result queue(struct files_conn *c, struct MHD_Connection *mc, unsigned status,
                             struct MHD_Response *resp)
{
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    c->status = status;
    ret = MHD_queue_response(mc, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* An error with a short text body; extra is one more header or NULL. */
static enum MHD_Result send_error(struct files_conn *c, struct MHD_Connection *mc, unsigned status,
                                  const char *reason, const char *hname, const char *hvalue)
{
    const char *text = status_text(status);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);

    snprintf(c->reason, sizeof(c->reason), "%s", reason);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, CACHE_NONE);
    if (hname != NULL)
        MHD_add_response_header(resp, hname, hvalue);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return queue(c, mc, status, resp);
}

static enum MHD_Result send_refusal(struct files_conn *c, struct MHD_Connection *mc, int rc,
                                    bool listing)
{
    if (listing)
        return send_error(c, mc, MHD_HTTP_NOT_FOUND, "no listings", NULL, NULL);
    for (size_t i = 0; i < sizeof(status_map) / sizeof(status_map[0]); i++) {
        if (status_map[i].rc == rc)
            return send_error(c, mc, status_map[i].status, status_map[i].reason,
                              status_map[i].retry_after != NULL ? MHD_HTTP_HEADER_RETRY_AFTER
                                                                : NULL,
                              status_map[i].retry_after);
    }
    return send_error(c, mc, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", NULL, NULL);
}

/* The resolver's answer for a path: a name, or a blob by hash. */
static int open_target(struct files_conn *c, const char *path, enum files_target kind,
                       const char *hex, struct answer *a)
{
    struct resolver *r = files_server_resolver(c->srv);
    int rc;

    switch (kind) {
    case FILES_TARGET_BLOB:
        a->blob = true;
        rc = resolver_open_blob(r, hex, &a->f);
        break;
    case FILES_TARGET_NAME:
        rc = resolver_open(r, path, (const struct sockaddr *)&c->addr, &a->f);
        break;
    default:
        rc = RESOLVER_NOT_FOUND;
        break;
    }
    resolver_unref(r);
    return rc;
}

static bool name_is_xml(const char *path)
{
    size_t n = strlen(path);

    return n >= 4 && strcasecmp(path + n - 4, ".xml") == 0;
}

/* Validators and caching rules: a catalog file has a strong ETag (its
 * verified hash); a generated config has no validator and is never cached. */
static void describe(struct answer *a, const char *path)
{
    struct stat st;

    if (a->f.sha256[0] != '\0')
        files_etag_format(a->f.sha256, a->etag, sizeof(a->etag));
    if (!a->f.generated && fstat(a->f.fd, &st) == 0) {
        a->mtime = st.st_mtime;
        files_date_format(a->mtime, a->last_modified, sizeof(a->last_modified));
    }
    if (a->blob)
        a->cache_control = CACHE_IMMUTABLE;
    else if (a->f.sha256[0] != '\0')
        a->cache_control = CACHE_CATALOG_NAME;
    else
        a->cache_control = CACHE_NONE;
    a->content_type =
        !a->blob && (a->f.generated || name_is_xml(path)) ? "text/xml" : "application/octet-stream";
}

/* RFC 9110 section 13.2.2: If-None-Match first; If-Modified-Since only without it. */
static bool not_modified(struct MHD_Connection *mc, const struct answer *a)
{
    const char *inm =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *ims =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    time_t t;

    if (inm != NULL)
        return a->etag[0] != '\0' && files_etag_listed(inm, a->etag);
    return ims != NULL && a->last_modified[0] != '\0' && files_date_parse(ims, &t) == 0 &&
           a->mtime <= t;
}

/* 304, 416, 206 or 200, with the part of the file to send. */
static void decide(struct files_conn *c, struct MHD_Connection *mc, struct answer *a)
{
    const char *range = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    const char *if_range =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE);
    struct files_range r;

    a->status = MHD_HTTP_OK;
    a->off = 0;
    a->len = a->f.size;
    if (not_modified(mc, a)) {
        a->status = MHD_HTTP_NOT_MODIFIED;
        a->len = 0;
        return;
    }
    if (c->head || range == NULL ||
        !files_if_range_holds(if_range, a->etag[0] ? a->etag : NULL, a->mtime))
        return;
    switch (files_range_parse(range, a->f.size, &r)) {
    case FILES_RANGE_ONE:
        a->status = MHD_HTTP_PARTIAL_CONTENT;
        a->off = r.first;
        a->len = r.last - r.first + 1;
        snprintf(a->content_range, sizeof(a->content_range), "bytes %llu-%llu/%llu",
                 (unsigned long long)r.first, (unsigned long long)r.last,
                 (unsigned long long)a->f.size);
        break;
    case FILES_RANGE_NOT_SATISFIABLE:
        a->status = MHD_HTTP_RANGE_NOT_SATISFIABLE;
        a->len = 0;
        snprintf(a->content_range, sizeof(a->content_range), "bytes */%llu",
                 (unsigned long long)a->f.size);
        break;
    default:
        break;
    }
}

/* The body: the descriptor itself (MHD sends it with sendfile and closes
 * it), or nothing. Takes the descriptor in every case. */
static struct MHD_Response *body_response(struct answer *a)
{
    struct MHD_Response *resp = NULL;

    if (a->len > 0 && (a->status == MHD_HTTP_OK || a->status == MHD_HTTP_PARTIAL_CONTENT)) {
        resp = MHD_create_response_from_fd_at_offset64(a->len, a->f.fd, a->off);
        if (resp != NULL)
            return resp;
    } else {
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    close(a->f.fd);
    a->f.fd = -1;
    return resp;
}

static void add_header(struct MHD_Response *resp, const char *name, const char *value,
                       uint64_t *bytes)
{
    if (value == NULL || value[0] == '\0')
        return;
    MHD_add_response_header(resp, name, value);
    *bytes += strlen(name) + strlen(value) + 4;
}

static enum MHD_Result send_file(struct files_conn *c, struct MHD_Connection *mc, struct answer *a)
{
    struct MHD_Response *resp = body_response(a);
    uint64_t head = HEAD_OVERHEAD;
    char length[24];

    if (resp == NULL)
        return send_error(c, mc, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL, NULL);
    add_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes", &head);
    add_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, a->cache_control, &head);
    add_header(resp, MHD_HTTP_HEADER_ETAG, a->etag, &head);
    add_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, a->last_modified, &head);
    add_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, a->content_range, &head);
    if (a->status != MHD_HTTP_NOT_MODIFIED)
        add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type, &head);
    snprintf(length, sizeof(length), "%llu", (unsigned long long)a->len);
    head += strlen("Content-Length") + strlen(length) + 4;
    c->head_len = head;
    c->body_len = a->len;
    if (!c->head && a->len > 0)
        files_conn_body_begin(c);
    return queue(c, mc, a->status, resp);
}

/* ---- manifests ---- */

/* A manifest's refusal: JSON, never cached. */
static enum MHD_Result send_json_error(struct files_conn *c, struct MHD_Connection *mc,
                                       unsigned status, const char *reason)
{
    char body[96];
    struct MHD_Response *resp;
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", reason);

    snprintf(c->reason, sizeof(c->reason), "%s", reason);
    resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, CACHE_NONE);
    return queue(c, mc, status, resp);
}

/* 200 with the body (MHD leaves it out for HEAD), or 304 when
 * If-None-Match lists its tag. Takes body. */
static enum MHD_Result send_manifest_body(struct files_conn *c, struct MHD_Connection *mc,
                                          char *body, size_t len)
{
    const char *inm =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    char etag[FILES_ETAG_LEN + 1] = "";
    struct MHD_Response *resp;
    unsigned status = MHD_HTTP_OK;
    uint64_t head = HEAD_OVERHEAD;

    if (files_manifest_etag(body, len, etag, sizeof(etag)) == 0 && files_etag_listed(inm, etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
        free(body);
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        len = 0;
    } else {
        resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
        if (resp == NULL)
            free(body);
    }
    if (resp == NULL)
        return send_error(c, mc, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL, NULL);
    add_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, CACHE_MANIFEST, &head);
    add_header(resp, MHD_HTTP_HEADER_ETAG, etag, &head);
    if (status == MHD_HTTP_OK)
        add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json", &head);
    c->head_len = head;
    c->body_len = len;
    return queue(c, mc, status, resp);
}

/* GET or HEAD of /manifests/...: the list, one load, or a JSON refusal. */
static enum MHD_Result send_manifest(struct files_conn *c, struct MHD_Connection *mc,
                                     enum files_target kind, const char *name)
{
    struct resolver *r;
    char *body = NULL;
    size_t len = 0;
    int rc;

    if (kind == FILES_TARGET_BAD_LOAD)
        return send_json_error(c, mc, MHD_HTTP_BAD_REQUEST, "bad load name");
    if (kind == FILES_TARGET_NONE)
        return send_json_error(c, mc, MHD_HTTP_NOT_FOUND, "not found");
    r = files_server_resolver(c->srv);
    rc = files_manifest_body(r, kind == FILES_TARGET_LOAD ? name : NULL, &body, &len);
    resolver_unref(r);
    if (rc == RESOLVER_NOT_FOUND)
        return send_json_error(c, mc, MHD_HTTP_NOT_FOUND, "no such load");
    if (rc != RESOLVER_OK)
        return send_json_error(c, mc, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal");
    return send_manifest_body(c, mc, body, len);
}

enum MHD_Result files_respond(struct files_conn *c, struct MHD_Connection *mc, const char *method,
                              const char *path)
{
    struct answer a;
    enum files_target kind;
    char arg[FILES_ARG_MAX];
    int rc;

    memset(&a, 0, sizeof(a));
    a.f.fd = -1;
    c->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    c->reason[0] = '\0';
    if (c->over) {
        files_conn_refused_busy(c);
        return send_error(c, mc, MHD_HTTP_SERVICE_UNAVAILABLE, "over a connection cap",
                          MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
    }
    if (!c->head && strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return send_error(c, mc, MHD_HTTP_METHOD_NOT_ALLOWED, "method", MHD_HTTP_HEADER_ALLOW,
                          "GET, HEAD");
    if (strlen(path) > FILES_PATH_MAX)
        return send_error(c, mc, MHD_HTTP_URI_TOO_LONG, "path too long", NULL, NULL);
    kind = files_target_parse(path, arg);
    if (strncmp(path, FILES_MANIFESTS, sizeof(FILES_MANIFESTS) - 1) == 0)
        return send_manifest(c, mc, kind, arg);
    rc = open_target(c, path, kind, arg, &a);
    if (rc != RESOLVER_OK)
        return send_refusal(c, mc, rc, strspn(path, "/") == strlen(path));
    describe(&a, path);
    decide(c, mc, &a);
    c->by_name = kind == FILES_TARGET_NAME;
    return send_file(c, mc, &a);
}
