/* http.c: the admin HTTP(S) server: libmicrohttpd setup, the router (one
 * table of route tables), authentication and authorisation before any body
 * is read, body limits, security headers on every response, static files.
 * Handlers live in api_*.c; this file never touches a resource's rows. */
#include "admin/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/api.h"
#include "admin/jobs.h"
#include "admin/kdf.h"
#include "admin/webroot.h"
#include "db/model/inventory_status.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/numparse.h"
#include "server/resolve/genwatch.h"

#define HTTP_THREADS_MIN  2
#define HTTP_THREADS_MAX  4
#define HTTP_CONN_LIMIT   256
#define HTTP_PER_IP_LIMIT 64
#define HTTP_TIMEOUT_S    30
/* Headers and buffers per connection. Not more: libmicrohttpd maps a larger
 * pool per connection and zeroes it, and the unmapping at close stops every
 * CPU the process runs on (perf: most of a short API call's CPU; 1.75 ms a
 * branch's want-list poll at 128 KiB, 0.59 ms at 32 KiB: docs/PERFORMANCE.md). */
#define HTTP_MEMORY_LIMIT (32 * 1024)
#define HTTP_ACTIVE_MAX   64 /* requests in flight before 503 */
#define HTTP_PEM_MAX      (1024 * 1024)
#define HTTP_COOKIE       "loadsd_session"
#define HTTP_COOKIE_TLS   "__Host-loadsd_session"
#define HTTP_ALLOW_MAX    64
#define HTTP_DRAIN_MAX    (16 * 1024 * 1024) /* body dropped after an early answer */
#define HTTP_NICE         19 /* admin threads yield the CPU to the TFTP workers (not the KDF: kdf.h) */

static const char http_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/* Every resource: add its table here (and its file to Makefile.am). */
static const struct api_route *const route_tables[] = {
    api_session_routes, api_users_routes,     api_tokens_routes,  api_loads_routes,
    api_trust_routes,   api_audit_routes,     api_stats_routes,   api_uploads_routes,
    api_jobs_routes,    api_provision_routes, api_devices_routes, api_transfers_routes,
    api_stage_routes,   api_fleet_routes,     api_probe_routes,   api_inventory_routes,
};

struct admin_http {
    struct MHD_Daemon *daemon;
    struct api_context ctx;
    struct webroot *web;
    atomic_uint active;
    char *cert, *key; /* PEM, kept until stop */
    size_t cert_len, key_len;
    struct genwatch *watch; /* the daemon's snapshots; NULL: none */
};

/* One request's state, in *req_cls from the first call to the completed
 * callback. */
struct req {
    struct admin_http *h;
    const struct api_route *route;
    struct api_request rq;
    char path[API_PATH_MAX];
    char *body;
    size_t body_len, body_cap;
    bool too_large;
    bool counted;
    size_t body_max;  /* API_BODY_MAX, or API_CSV_MAX for text/csv routes */
    bool stream;      /* an API_STREAM route past its BEGIN */
    bool stream_done; /* the handler answered early: the rest is dropped */
    bool refused;     /* refused before its body: the body is dropped */
    bool deferred;    /* that answer waits for the body's end (in early) */
    uint64_t drained; /* bytes dropped since */
    struct api_response early;
};

/* ---- routes ---- */

/* The next segment of s after a '/': its start and length; NULL at the end. */
static const char *segment_next(const char *s, size_t *len)
{
    const char *e;

    if (*s != '/')
        return NULL;
    s++;
    e = strchr(s, '/');
    *len = e != NULL ? (size_t)(e - s) : strlen(s);
    return s;
}

int api_route_match(const char *pattern, const char *path, char *buf, size_t cap, const char **args,
                    unsigned *nargs)
{
    size_t ends[API_ARGS_MAX], plen, qlen, len = strlen(path);
    const char *p = pattern, *ps;
    char *q = buf, *qs;
    unsigned n = 0;

    if (len >= cap || path[0] != '/')
        return -1;
    memcpy(buf, path, len + 1);
    while (*p != '\0' || *q != '\0') {
        ps = segment_next(p, &plen);
        qs = (char *)segment_next(q, &qlen);
        if (ps == NULL || qs == NULL)
            return -1;
        if (plen == 2 && ps[0] == '{' && ps[1] == '}') {
            if (qlen == 0 || n >= API_ARGS_MAX)
                return -1;
            args[n] = qs;
            ends[n++] = (size_t)(qs - buf) + qlen;
        } else if (plen != qlen || memcmp(ps, qs, plen) != 0) {
            return -1;
        }
        p = ps + plen;
        q = qs + qlen;
    }
    for (unsigned i = 0; i < n; i++)
        buf[ends[i]] = '\0';
    *nargs = n;
    return 0;
}

static bool method_is(const char *method, const char *want)
{
    if (strcmp(method, want) == 0)
        return true;
    return strcmp(method, "HEAD") == 0 && strcmp(want, "GET") == 0;
}

static bool method_writes(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Finds the route for method and url; on a path that exists under other
 * methods, fills allow and returns NULL. */
static const struct api_route *route_find(struct req *r, const char *url, const char *method,
                                          char *allow, size_t allow_cap)
{
    char scratch[API_PATH_MAX];
    const char *args[API_ARGS_MAX];
    unsigned nargs;

    allow[0] = '\0';
    for (size_t t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++)
        for (const struct api_route *rt = route_tables[t]; rt->method != NULL; rt++) {
            if (!method_is(method, rt->method)) {
                if (api_route_match(rt->pattern, url, scratch, sizeof(scratch), args, &nargs) ==
                        0 &&
                    strlen(allow) + strlen(rt->method) + 3 < allow_cap)
                    snprintf(allow + strlen(allow), allow_cap - strlen(allow), "%s%s",
                             allow[0] ? ", " : "", rt->method);
                continue;
            }
            if (api_route_match(rt->pattern, url, r->path, sizeof(r->path), r->rq.args,
                                &r->rq.nargs) == 0)
                return rt;
        }
    return NULL;
}

/* ---- responses ---- */

static void headers_security(struct admin_http *h, struct MHD_Response *resp, bool api)
{
    MHD_add_response_header(resp, "Content-Security-Policy", http_csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cache-Control", api ? "no-store" : "no-cache");
    if (h->ctx.tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

/* A 304 to an API call: its ETag, no body; releases what rs holds. */
static enum MHD_Result send_not_modified(struct admin_http *h, struct MHD_Connection *conn,
                                         struct api_response *rs, char *text)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    free(text);
    json_decref(rs->json);
    rs->json = NULL;
    if (resp == NULL)
        return MHD_NO;
    headers_security(h, resp, true);
    if (rs->etag[0] != '\0')
        MHD_add_response_header(resp, "ETag", rs->etag);
    ret = MHD_queue_response(conn, MHD_HTTP_NOT_MODIFIED, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Sends rs (JSON or text) and releases what it holds. */
static enum MHD_Result send_response(struct admin_http *h, struct MHD_Connection *conn,
                                     struct api_response *rs, const char *allow)
{
    struct MHD_Response *resp;
    char *text = rs->text;
    size_t len = rs->text_len;
    const char *type = rs->content_type;
    enum MHD_Result ret;
    char retry[24];

    rs->text = NULL;
    if (rs->status == MHD_HTTP_NOT_MODIFIED) /* RFC 9110 section 15.4.5: no content */
        return send_not_modified(h, conn, rs, text);
    if (text == NULL && rs->json != NULL) {
        text = json_dumps(rs->json, JSON_COMPACT);
        len = text != NULL ? strlen(text) : 0;
        type = "application/json";
    }
    json_decref(rs->json);
    rs->json = NULL;
    if (text == NULL) {
        static const char fallback[] = "{\"error\":\"internal\",\"detail\":\"no response\"}";

        text = strdup(fallback);
        len = text != NULL ? strlen(text) : 0;
        type = "application/json";
        rs->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type != NULL ? type : "text/plain");
    headers_security(h, resp, true);
    if (rs->set_cookie[0] != '\0')
        MHD_add_response_header(resp, "Set-Cookie", rs->set_cookie);
    if (rs->retry_after > 0) {
        snprintf(retry, sizeof(retry), "%lld", (long long)rs->retry_after);
        MHD_add_response_header(resp, "Retry-After", retry);
    }
    if (rs->etag[0] != '\0')
        MHD_add_response_header(resp, "ETag", rs->etag);
    if (rs->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"loadsd\"");
    if (allow != NULL && allow[0] != '\0')
        MHD_add_response_header(resp, "Allow", allow);
    ret = MHD_queue_response(conn, rs->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_error(struct admin_http *h, struct MHD_Connection *conn,
                                  unsigned status, const char *code, const char *detail,
                                  const char *allow)
{
    struct api_response rs;

    memset(&rs, 0, sizeof(rs));
    api_error(&rs, status, code, "%s", detail);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        rs.retry_after = 1;
    return send_response(h, conn, &rs, allow);
}

/* ---- static files ---- */

static enum MHD_Result send_static(struct req *r, const char *url, const char *method)
{
    struct admin_http *h = r->h;
    struct MHD_Connection *conn = r->rq.conn;
    struct webroot_file f;
    struct MHD_Response *resp;
    const char *inm;
    enum MHD_Result ret;
    int rc;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                          "static files are read-only", "GET, HEAD");
    rc = h->web != NULL ? webroot_lookup(h->web, url, &f) : WEBROOT_NOT_FOUND;
    if (rc == WEBROOT_BAD_PATH)
        return send_error(h, conn, MHD_HTTP_BAD_REQUEST, "bad_path", "invalid file name", NULL);
    if (rc != WEBROOT_OK)
        return send_error(h, conn, MHD_HTTP_NOT_FOUND, "not_found", "no such file", NULL);
    inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    if (inm != NULL && strcmp(inm, f.etag) == 0) {
        close(f.fd);
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_fd64(f.size, f.fd); /* owns fd now */
        inm = NULL;
    }
    if (resp == NULL)
        return MHD_NO;
    if (inm == NULL)
        MHD_add_response_header(resp, "Content-Type", f.content_type);
    MHD_add_response_header(resp, "ETag", f.etag);
    headers_security(h, resp, false);
    ret = MHD_queue_response(conn, inm != NULL ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- authentication ---- */

/* Fills r->rq.who from a bearer token or the session cookie. 0, or an HTTP
 * status to refuse with. Called under the database lock. */
static int authenticate(struct req *r)
{
    struct api_request *rq = &r->rq;
    const char *authz = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
    sqlite3 *db = rq->ctx->dd.db;
    int rc;

    if (authz != NULL) {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return MHD_HTTP_UNAUTHORIZED;
        if (auth_branch_token_well_formed(authz + 7))
            rc = auth_branch_check(db, authz + 7, &rq->who);
        else
            rc = auth_token_check(db, authz + 7, rq->now, &rq->who);
    } else {
        rq->session_id =
            MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, rq->ctx->cookie_name);
        if (rq->session_id == NULL)
            return MHD_HTTP_UNAUTHORIZED;
        rc = auth_session_check(db, rq->session_id, rq->now, &rq->who);
    }
    if (rc == AUTH_ERROR)
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    if (rc != AUTH_OK)
        return MHD_HTTP_UNAUTHORIZED;
    rq->authenticated = true;
    return 0;
}

/* Who may do what: 0, or the status and error code to refuse with. */
static int authorize(struct req *r, const char **code, const char **detail)
{
    struct api_request *rq = &r->rq;
    bool write = method_writes(rq->method);
    const char *token;

    if (r->route->flags & API_PUBLIC)
        return 0;
    if ((rq->who.role == AUTH_ROLE_BRANCH) != ((r->route->flags & API_BRANCH) != 0)) {
        *code = "forbidden";
        *detail = rq->who.role == AUTH_ROLE_BRANCH
                      ? "a branch's token may only make the fleet calls"
                      : "only a branch's token may make this call";
        return MHD_HTTP_FORBIDDEN;
    }
    if (r->route->flags & API_BRANCH)
        return 0; /* a bearer token: no CSRF */
    if (write && !(r->route->flags & API_ANY_ROLE) &&
        !auth_allowed(&rq->who, true, r->route->flags & API_ADMIN_ONLY)) {
        *code = "forbidden";
        *detail = "this needs the admin role";
        return MHD_HTTP_FORBIDDEN;
    }
    if (!write && !auth_allowed(&rq->who, false, r->route->flags & API_ADMIN_ONLY)) {
        *code = "forbidden";
        *detail = "this needs the admin role";
        return MHD_HTTP_FORBIDDEN;
    }
    token = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    if (write && !auth_csrf_ok(&rq->who, token)) {
        *code = "csrf";
        *detail = "missing or wrong X-CSRF-Token header";
        return MHD_HTTP_FORBIDDEN;
    }
    return 0;
}

/* ---- the request ---- */

static void client_ip(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

    snprintf(out, cap, "-");
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)cap);
    }
}

/* The refusal's words for a body over max bytes. */
static const char *body_too_large(size_t max)
{
    if (max == API_CSV_MAX)
        return "the request body is larger than 32 MiB";
    if (max == API_BODY_LARGE_MAX)
        return "the request body is larger than 4 MiB";
    return "the request body is larger than 1 MiB";
}

/* Content-Length over the limit, or a body that is not JSON: refused
 * before reading it. 0 or a status. */
static int check_body_headers(struct req *r, const char **code, const char **detail)
{
    struct MHD_Connection *conn = r->rq.conn;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    bool csv = r->route->flags & API_BODY_CSV;
    const char *want = csv ? "text/csv" : "application/json";
    size_t wlen = strlen(want);
    uint64_t len = 0;

    r->body_max = csv                                  ? API_CSV_MAX
                  : (r->route->flags & API_BODY_LARGE) ? API_BODY_LARGE_MAX
                                                       : API_BODY_MAX;
    if (r->route->flags & API_STREAM)
        return 0; /* the handler checks its own body */
    if (cl != NULL && numparse_u64(cl, 0, UINT64_MAX, &len) == 0 && len > r->body_max) {
        *code = "too_large";
        *detail = body_too_large(r->body_max);
        return MHD_HTTP_CONTENT_TOO_LARGE;
    }
    if ((len > 0 || te != NULL) && (ct == NULL || strncasecmp(ct, want, wlen) != 0 ||
                                    (ct[wlen] != '\0' && ct[wlen] != ';' && ct[wlen] != ' '))) {
        *code = "unsupported_media_type";
        *detail = csv ? "this request body is text/csv" : "request bodies are application/json";
        return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    return 0;
}

/* Runs a streaming route's handler for one stage; a response it sets is
 * queued at once. MHD_NO when the connection must close. */
static enum MHD_Result stream_stage(struct req *r, enum api_stage stage, const char *data,
                                    size_t len)
{
    struct admin_http *h = r->h;
    struct api_response rs;
    bool lock = stage != API_STAGE_DATA;
    int rc;

    memset(&rs, 0, sizeof(rs));
    r->rq.stage = stage;
    r->rq.chunk = data;
    r->rq.chunk_len = len;
    if (lock)
        pthread_mutex_lock(&h->ctx.db_lock);
    rc = r->route->fn(&r->rq, &rs);
    if (lock)
        pthread_mutex_unlock(&h->ctx.db_lock);
    r->rq.chunk = NULL;
    if (stage == API_STAGE_CLEANUP) {
        json_decref(rs.json);
        free(rs.text);
        return MHD_YES;
    }
    if (rc != 0 && rs.status == 0 && rs.json == NULL && rs.text == NULL)
        api_error(&rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "the request failed");
    if (rs.status == 0 && rs.json == NULL && rs.text == NULL)
        return MHD_YES; /* go on */
    r->stream_done = true;
    if (stage == API_STAGE_DATA) {
        /* MHD takes no response while a body arrives: it goes out once the
         * rest is dropped (or the connection closes past HTTP_DRAIN_MAX). */
        r->early = rs;
        r->deferred = true;
        return MHD_YES;
    }
    return send_response(h, r->rq.conn, &rs, NULL);
}

/* A refusal before any body byte is read. A body the client sends at once
 * (a known length up to HTTP_DRAIN_MAX, no "Expect: 100-continue") is read
 * and dropped first, and the answer goes out at its end: answering now and
 * closing with the body unread makes the kernel reset the connection, and
 * the client may lose the answer to the reset. Any other request is
 * answered at once (a client that waits for 100 Continue sends nothing). */
static enum MHD_Result refuse(struct req *r, unsigned status, const char *code, const char *detail)
{
    struct MHD_Connection *conn = r->rq.conn;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *ex = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
    uint64_t len = 0;

    if (cl == NULL || numparse_u64(cl, 0, HTTP_DRAIN_MAX, &len) != 0 || len == 0 || ex != NULL)
        return send_error(r->h, conn, status, code, detail, NULL);
    memset(&r->early, 0, sizeof(r->early));
    api_error(&r->early, status, code, "%s", detail);
    r->refused = true;
    r->deferred = true;
    return MHD_YES;
}

/* The first call: route, limits, authentication and authorisation, before
 * any body byte is read. */
static enum MHD_Result api_begin(struct req *r, const char *url, const char *method)
{
    struct admin_http *h = r->h;
    struct MHD_Connection *conn = r->rq.conn;
    char allow[HTTP_ALLOW_MAX];
    const char *code = NULL, *detail = NULL;
    int status;

    r->route = route_find(r, url, method, allow, sizeof(allow));
    if (r->route == NULL && allow[0] != '\0')
        return send_error(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                          "this resource does not take that method", allow);
    if (r->route == NULL)
        return send_error(h, conn, MHD_HTTP_NOT_FOUND, "not_found", "no such resource", NULL);
    status = check_body_headers(r, &code, &detail);
    if (status != 0)
        return refuse(r, (unsigned)status, code, detail);
    if (r->route->flags & API_PUBLIC)
        return MHD_YES;
    pthread_mutex_lock(&h->ctx.db_lock);
    status = authenticate(r);
    if (status == MHD_HTTP_UNAUTHORIZED && (r->route->flags & API_BRANCH))
        api_fleet_refused(&h->ctx, r->rq.ip, r->rq.now);
    pthread_mutex_unlock(&h->ctx.db_lock);
    if (status == MHD_HTTP_UNAUTHORIZED && (r->route->flags & API_BRANCH))
        return refuse(r, MHD_HTTP_UNAUTHORIZED, "bad_token", "unknown or revoked branch token");
    if (status == MHD_HTTP_UNAUTHORIZED)
        return refuse(r, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                      "log in, or send a valid API token");
    if (status != 0)
        return refuse(r, (unsigned)status, "internal", "authentication failed");
    status = authorize(r, &code, &detail);
    if (status != 0)
        return refuse(r, (unsigned)status, code, detail);
    if (r->route->flags & API_STREAM) {
        r->stream = true;
        return stream_stage(r, API_STAGE_BEGIN, NULL, 0);
    }
    return MHD_YES;
}

static void body_append(struct req *r, const char *data, size_t size)
{
    char *grown;
    size_t cap;

    if (r->too_large)
        return;
    if (size > r->body_max - r->body_len) {
        r->too_large = true;
        free(r->body);
        r->body = NULL;
        r->body_len = 0;
        return;
    }
    if (r->body_len + size + 1 > r->body_cap) {
        cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + size + 1)
            cap *= 2;
        grown = realloc(r->body, cap);
        if (grown == NULL) {
            r->too_large = true;
            return;
        }
        r->body = grown;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, size);
    r->body_len += size;
    r->body[r->body_len] = '\0';
}

/* Read-your-writes: a person's (or a token's) write that succeeded is
 * answered once the daemon serves it, so a phone that asks right after gets
 * the new config. A branch's report need not wait (nobody reads it back at
 * once), and neither does a refused write. Outside the database lock. */
static void write_sync(struct req *r, unsigned status)
{
    if (r->h->watch == NULL || !method_writes(r->rq.method) || status < 200 || status > 299 ||
        r->rq.who.role == AUTH_ROLE_BRANCH)
        return;
    if (genwatch_sync(r->h->watch, GENWATCH_SYNC_MS) != 0)
        log_warn("admin http: %s %s answered before the daemon took it (over %u ms)", r->rq.method,
                 r->route->pattern, GENWATCH_SYNC_MS);
}

/* The last call: the body is complete; run the handler. */
static enum MHD_Result api_finish(struct req *r)
{
    struct admin_http *h = r->h;
    struct api_response rs;
    int rc;

    if (r->deferred) {
        r->deferred = false;
        return send_response(h, r->rq.conn, &r->early, NULL);
    }
    if (r->stream)
        return r->stream_done ? MHD_YES : stream_stage(r, API_STAGE_END, NULL, 0);
    if (r->too_large)
        return send_error(h, r->rq.conn, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                          body_too_large(r->body_max), NULL);
    memset(&rs, 0, sizeof(rs));
    r->rq.body = r->body;
    r->rq.body_len = r->body_len;
    pthread_mutex_lock(&h->ctx.db_lock);
    rc = r->route->fn(&r->rq, &rs);
    pthread_mutex_unlock(&h->ctx.db_lock);
    if ((rc != 0 || rs.status == 0) && rs.json == NULL && rs.text == NULL)
        api_error(&rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "the request failed");
    write_sync(r, rs.status);
    return send_response(h, r->rq.conn, &rs, NULL);
}

/* Lowers the calling MHD thread's priority once: a flood of admin requests
 * must not take the CPU from TFTP transfers. */
static void thread_nice(void)
{
    static _Thread_local bool niced;

    if (niced)
        return;
    niced = true;
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), HTTP_NICE) != 0)
        log_debug("admin http: cannot lower the thread priority: %s", strerror(errno));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct admin_http *h = cls;
    struct req *r = *req_cls;

    (void)version;
    if (r == NULL) {
        thread_nice();
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return MHD_NO;
        *req_cls = r;
        r->h = h;
        r->rq.ctx = &h->ctx;
        r->rq.conn = conn;
        r->rq.method = method;
        r->rq.now = (int64_t)time(NULL);
        client_ip(conn, r->rq.ip, sizeof(r->rq.ip));
        r->counted = true;
        if (atomic_fetch_add(&h->active, 1) >= HTTP_ACTIVE_MAX)
            return send_error(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                              "too many requests at once; try again", NULL);
        if (strncmp(url, "/api/", 5) != 0 && strcmp(url, "/metrics") != 0)
            return send_static(r, url, method);
        return api_begin(r, url, method);
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        if (r->stream && !r->stream_done)
            return stream_stage(r, API_STAGE_DATA, upload_data, n);
        if ((r->stream || r->refused) && (r->drained += n) > HTTP_DRAIN_MAX)
            return MHD_NO; /* closes the connection */
        if (!r->stream && !r->refused)
            body_append(r, upload_data, n);
        return MHD_YES;
    }
    return api_finish(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct admin_http *h = cls;
    struct req *r = *req_cls;

    (void)conn;
    (void)toe;
    if (r == NULL)
        return;
    if (r->counted)
        atomic_fetch_sub(&h->active, 1);
    if (r->stream)
        stream_stage(r, API_STAGE_CLEANUP, NULL, 0);
    json_decref(r->early.json);
    free(r->early.text);
    free(r->body);
    free(r);
    *req_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256], clean[LOG_CLEAN_MAX];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_warn("admin http: %s", log_clean(msg, n, clean, sizeof(clean)));
}

/* ---- start and stop ---- */

bool admin_http_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

static char *read_pem(const char *path, size_t *len)
{
    char *buf = NULL;
    int rc = fileio_read_file(path, HTTP_PEM_MAX, &buf, len);

    if (rc == 0 && *len > 0)
        return buf;
    log_error("cannot read %s: %s", path,
              rc == 0        ? "empty"
              : rc == -EFBIG ? "over 1 MiB"
                             : strerror(-rc));
    free(buf);
    return NULL;
}

static const char *web_root_pick(const char *configured)
{
    struct stat st;

    if (configured != NULL && configured[0] != '\0')
        return configured;
    if (stat(PKGDATADIR "/web", &st) == 0 && S_ISDIR(st.st_mode))
        return PKGDATADIR "/web";
#ifdef LOADSD_SOURCE_WEB
    return LOADSD_SOURCE_WEB;
#else
    return PKGDATADIR "/web";
#endif
}

/* Prints the first admin's password once, where the operator sees it. */
static int bootstrap(struct admin_http *h, const char *data_dir)
{
    char password[64];
    int rc = auth_bootstrap(h->ctx.dd.db, data_dir, password, sizeof(password));

    if (rc == 1) {
        fprintf(stderr,
                "loadsd: first run: created the admin user \"admin\" with password %s\n"
                "loadsd: (also in %s/%s until the password is changed)\n",
                password, data_dir, AUTH_BOOTSTRAP_FILE);
        log_info("created the first admin user \"admin\"");
    }
    OPENSSL_cleanse(password, sizeof(password));
    return rc < 0 ? -1 : 0;
}

static unsigned pool_size(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < HTTP_THREADS_MIN)
        return HTTP_THREADS_MIN;
    return n > HTTP_THREADS_MAX ? HTTP_THREADS_MAX : (unsigned)n;
}

static int tls_load(struct admin_http *h, const struct admin_http_params *p)
{
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        log_error("this libmicrohttpd has no TLS support");
        return -1;
    }
    h->cert = read_pem(p->cert_path, &h->cert_len);
    h->key = h->cert != NULL ? read_pem(p->key_path, &h->key_len) : NULL;
    return h->key != NULL ? 0 : -1;
}

static int daemon_start(struct admin_http *h, const struct net_listen *l)
{
    /* epoll, not select: a short API call (a branch's poll) costs 17 % less
     * CPU (docs/PERFORMANCE.md), and no FD_SETSIZE ceiling. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l->addr;
    uint16_t port =
        ntohs(l->addr.ss_family == AF_INET6 ? sin6->sin6_port
                                            : ((const struct sockaddr_in *)&l->addr)->sin_port);

    if (l->addr.ss_family == AF_INET6)
        flags |= IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    if (h->cert != NULL)
        flags |= MHD_USE_TLS;
    h->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&l->addr, MHD_OPTION_THREAD_POOL_SIZE,
        pool_size(), MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_LIMIT,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        /* Without TLS the list ends here: MHD stops at the first END. */
        h->cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
        MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
    if (h->daemon == NULL) {
        log_error("cannot start the admin interface on %s", l->text);
        return -1;
    }
    return 0;
}

static int listen_check(const struct admin_http_params *p, struct net_listen *l, bool tls)
{
    if (net_listen_parse(p->listen, l) != 0) {
        log_error("admin-listen: \"%s\" is not ADDR:PORT", p->listen);
        return -1;
    }
    if (!tls && !p->insecure_http && !admin_http_is_loopback((const struct sockaddr *)&l->addr)) {
        log_error("admin interface off: plain HTTP on %s, which is not a loopback address; "
                  "give --admin-cert and --admin-key, listen on 127.0.0.1, or pass "
                  "--admin-insecure-http",
                  l->text);
        return 1;
    }
    return 0;
}

int admin_http_start(const struct admin_http_params *p, struct admin_http **out)
{
    bool tls = p->cert_path != NULL && p->cert_path[0] != '\0';
    struct admin_http *h = NULL;
    struct net_listen l;
    const char *web;
    int rc;

    if (tls != (p->key_path != NULL && p->key_path[0] != '\0')) {
        log_error("admin-cert and admin-key go together");
        return -1;
    }
    rc = listen_check(p, &l, tls);
    if (rc != 0)
        return rc;
    rc = -1;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return -1;
    pthread_mutex_init(&h->ctx.db_lock, NULL);
    h->ctx.tls = tls;
    h->ctx.tftp = p->tftp;
    h->ctx.files = p->files;
    h->ctx.pull = p->pull;
    h->ctx.reporter = p->reporter;
    h->ctx.missing = p->missing;
    h->ctx.inventory = p->inventory;
    h->watch = p->watch;
    h->ctx.started = (int64_t)time(NULL);
    h->ctx.upload_max = (uint64_t)(p->upload_max_mb ? p->upload_max_mb : 2048) << 20;
    h->ctx.inventory_stuck_s = p->inventory_stuck_s ? p->inventory_stuck_s : INVENTORY_STUCK_S;
    h->ctx.dd.lock_fd = -1;
    snprintf(h->ctx.cookie_name, sizeof(h->ctx.cookie_name), "%s",
             tls ? HTTP_COOKIE_TLS : HTTP_COOKIE);
    if (datadir_open(p->data_dir, &h->ctx.dd) != 0)
        goto out;
    if (bootstrap(h, p->data_dir) != 0)
        goto out;
    auth_sessions_prune(h->ctx.dd.db, h->ctx.started);
    if (jobs_start(p->data_dir, p->watch, &h->ctx.jobs) != 0)
        goto out;
    web = web_root_pick(p->web_root);
    if (webroot_open(web, &h->web) != WEBROOT_OK)
        log_warn("admin interface: no web page (cannot open %s: %s)", web, strerror(errno));
    if (tls && tls_load(h, p) != 0)
        goto out;
    /* Here, at the daemon's priority: the admin threads drop to nice 19. */
    if (kdf_worker_start() != 0)
        goto out;
    if (daemon_start(h, &l) != 0)
        goto out;
    log_info("admin interface on %s://%s", tls ? "https" : "http", l.text);
    *out = h;
    h = NULL;
    rc = 0;
out:
    if (h != NULL)
        admin_http_stop(h);
    return rc;
}

void admin_http_stop(struct admin_http *h)
{
    if (h == NULL)
        return;
    if (h->daemon != NULL)
        MHD_stop_daemon(h->daemon);
    jobs_stop(h->ctx.jobs); /* after the daemon: no upload can still submit */
    kdf_worker_stop();
    webroot_close(h->web);
    if (h->ctx.dd.db != NULL)
        datadir_close(&h->ctx.dd);
    if (h->key != NULL)
        OPENSSL_cleanse(h->key, h->key_len);
    free(h->key);
    free(h->cert);
    pthread_mutex_destroy(&h->ctx.db_lock);
    free(h);
}
