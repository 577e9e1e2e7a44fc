/* files_server.c: the HTTP file service's daemons and connections: caps per
 * client and in all (503 past them), a watchdog that ends connections that
 * take too long to send a request head, the one log line per request, the
 * counters and the list of bodies in progress. What a request gets is decided
 * in files_respond.c; nothing here opens a file. */
#include "server/files/files_server.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "server/files/files_internal.h"
#include "server/files/files_request.h"
#include "server/tftp/peer_table.h"

#define FILES_THREADS_MAX  16
#define FILES_MEMORY_LIMIT (16 * 1024) /* per connection: request line and headers fit in it */
#define FILES_BACKLOG      4096
#define FILES_WATCHDOG_MS  500
#define FILES_DAEMONS_MAX  16
/* MHD's own cap sits above ours, so that the connections past ours are
 * accepted and told 503 instead of being dropped unanswered. */
#define FILES_OVER_HEADROOM(n) ((n) / 4 + 64)

struct files_server {
    struct MHD_Daemon *daemons[FILES_DAEMONS_MAX];
    unsigned n_daemons;
    pthread_mutex_t lock; /* conns and their listed fields, resolver, caps */
    struct files_conn *conns;
    struct resolver *resolver;
    unsigned max_connections, max_per_client, timeout_s;
    struct peer_table *peers;
    atomic_uint_fast64_t requests, status[6], bytes_sent, refused_busy, connections, active;
    pthread_t watchdog;
    pthread_cond_t wake;
    bool stopping, watchdog_started;
};

/* "192.0.2.7:1234", "[2001:db8::1]:1234"; a v4-mapped address as IPv4. */
static void peer_format(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN], port[8];
    socklen_t len =
        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    const char *h = host;

    if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, cap, "?");
        return;
    }
    if (strncmp(h, "::ffff:", 7) == 0 && strchr(h + 7, '.') != NULL)
        h += 7;
    snprintf(out, cap, strchr(h, ':') != NULL ? "[%s]:%s" : "%s:%s", h, port);
}

/* Body bytes the client has acknowledged on this connection (TCP_INFO), 0 if unknown. */
uint64_t files_conn_acked(const struct files_conn *c)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    memset(&ti, 0, sizeof(ti));
    if (c->fd < 0 || getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked))
        return 0;
    return ti.tcpi_bytes_acked;
}

/* ---- connections: caps and the list ---- */

static struct files_conn *conn_open(struct files_server *srv, struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct files_conn *c = calloc(1, sizeof(*c));
    struct peer_key key;
    uint64_t n = atomic_fetch_add(&srv->connections, 1) + 1;

    if (c == NULL)
        return NULL;
    c->srv = srv;
    c->fd = fi != NULL ? fi->connect_fd : -1;
    if (ci != NULL && ci->client_addr != NULL) {
        peer_format(ci->client_addr, c->peer, sizeof(c->peer));
        memcpy(&c->addr, ci->client_addr,
               ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                      : sizeof(struct sockaddr_in));
    }
    pthread_mutex_lock(&srv->lock);
    if (n > srv->max_connections)
        c->over = true;
    else if (peer_key_make((struct sockaddr *)&c->addr, PEER_SCOPE_CLIENT, &key) == 0 &&
             (c->pc = peer_table_acquire(srv->peers, &key, srv->max_per_client)) == NULL)
        c->over = true;
    atomic_store(&c->waiting_since_ms, clock_mono_ms());
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    pthread_mutex_unlock(&srv->lock);
    return c;
}

static void conn_close(struct files_server *srv, struct files_conn *c)
{
    pthread_mutex_lock(&srv->lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->body_active)
        atomic_fetch_sub(&srv->active, 1);
    pthread_mutex_unlock(&srv->lock);
    peer_table_release(srv->peers, c->pc);
    atomic_fetch_sub(&srv->connections, 1);
    free(c);
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct files_server *srv = cls;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = conn_open(srv, mc);
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context != NULL)
        conn_close(srv, *socket_context);
}

/* Slowloris: a connection that has not sent a whole request head within the
 * timeout (counted from its start, or from the end of its last request) is
 * shut down, however slowly it keeps trickling bytes. MHD closes it then. */
static void *watchdog_run(void *arg)
{
    struct files_server *srv = arg;
    struct timespec until;

    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping) {
        int64_t now = clock_mono_ms(), limit = (int64_t)srv->timeout_s * 1000;

        for (struct files_conn *c = srv->conns; c != NULL; c = c->next) {
            int64_t since = atomic_load(&c->waiting_since_ms);

            if (since > 0 && now - since > limit && !c->shut && c->fd >= 0) {
                c->shut = true;
                shutdown(c->fd, SHUT_RDWR);
                log_debug("http: %s sent no whole request in %u s: closed", c->peer,
                          srv->timeout_s);
            }
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += FILES_WATCHDOG_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&srv->wake, &srv->lock, &until);
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

/* ---- requests ---- */

struct resolver *files_server_resolver(struct files_server *srv)
{
    struct resolver *r;

    pthread_mutex_lock(&srv->lock);
    r = resolver_ref(srv->resolver);
    pthread_mutex_unlock(&srv->lock);
    return r;
}

void files_conn_body_begin(struct files_conn *c)
{
    pthread_mutex_lock(&c->srv->lock);
    c->body_active = true;
    pthread_mutex_unlock(&c->srv->lock);
    atomic_fetch_add(&c->srv->active, 1);
}

void files_conn_refused_busy(struct files_conn *c)
{
    atomic_fetch_add(&c->srv->refused_busy, 1);
}

static void request_begin(struct files_conn *c, const char *method, const char *url)
{
    atomic_store(&c->waiting_since_ms, 0);
    c->started_ms = clock_mono_ms();
    c->status = 0;
    c->body_len = 0;
    c->acked_base = files_conn_acked(c);
    snprintf(c->method, sizeof(c->method), "%.7s", method);
    log_clean(url, strlen(url), c->name, sizeof(c->name));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    const union MHD_ConnectionInfo *si =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct files_conn *c = si != NULL ? si->socket_context : NULL;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (c == NULL)
        return MHD_NO;
    if (*req_cls == NULL) {
        request_begin(c, method, url);
        *req_cls = c;
        /* Refusals go out at once and close the connection; an answer
         * queued on this first call would close it every time (libmicrohttpd
         * discards the request then), so a GET or HEAD waits for the next. */
        if (c->over ||
            (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0))
            return files_respond(c, mc, method, url);
        return MHD_YES;
    }
    if (*upload_data_size != 0) { /* a body we never asked for: dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (c->status != 0)
        return MHD_YES;
    return files_respond(c, mc, method, url);
}

/* The bytes of the body that went out: all of it when MHD finished it,
 * else as far as the client acknowledged (headers counted out roughly). */
static uint64_t body_sent(struct files_conn *c, enum MHD_RequestTerminationCode toe)
{
    uint64_t acked;

    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        return c->head ? 0 : c->body_len;
    acked = files_conn_acked(c) - c->acked_base;
    acked = acked > c->head_len ? acked - c->head_len : 0;
    return acked < c->body_len ? acked : c->body_len;
}

/* The firmware inventory: a file body (a 200 or 206 by name, not a blob or
 * a manifest) ended; complete when a 200's whole body went out. */
static void note_ended(struct files_server *srv, struct files_conn *c,
                       enum MHD_RequestTerminationCode toe)
{
    struct resolver *r;

    if (c->head || (c->status != 200 && c->status != 206))
        return;
    r = files_server_resolver(srv);
    resolver_transfer_ended(r, c->name, (const struct sockaddr *)&c->addr,
                            c->status == 200 && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    resolver_unref(r);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct files_server *srv = cls;
    struct files_conn *c = *req_cls;
    uint64_t sent, ms;

    (void)mc;
    if (c == NULL)
        return;
    *req_cls = NULL;
    sent = body_sent(c, toe);
    ms = (uint64_t)(clock_mono_ms() - c->started_ms);
    atomic_fetch_add(&srv->requests, 1);
    atomic_fetch_add(&srv->bytes_sent, sent);
    if (c->status >= 200 && c->status < 600)
        atomic_fetch_add(&srv->status[c->status / 100], 1);
    pthread_mutex_lock(&srv->lock);
    if (c->body_active)
        atomic_fetch_sub(&srv->active, 1);
    c->body_active = false;
    pthread_mutex_unlock(&srv->lock);
    if (c->by_name)
        note_ended(srv, c, toe);
    c->by_name = false;
    log_info("http %s \"%s\" from %s: %u, %llu bytes in %llu ms%s%s", c->method, c->name, c->peer,
             c->status, (unsigned long long)sent, (unsigned long long)ms, c->reason[0] ? ", " : "",
             c->reason);
    c->reason[0] = '\0';
    atomic_store(&c->waiting_since_ms, clock_mono_ms());
}

/* ---- the daemons ---- */

static void on_mhd_log(void *arg, const char *fmt, va_list ap)
{
    char raw[256], clean[LOG_CLEAN_MAX];
    int n = vsnprintf(raw, sizeof(raw), fmt, ap);

    (void)arg;
    if (n < 0)
        return;
    log_clean(raw, strnlen(raw, sizeof(raw)), clean, sizeof(clean));
    log_debug("http: libmicrohttpd: %s", clean);
}

static size_t on_unescape(void *cls, struct MHD_Connection *mc, char *s)
{
    (void)cls;
    (void)mc;
    return files_unescape(s);
}

static unsigned pool_size(unsigned threads)
{
    long n = threads > 0 ? (long)threads : sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        n = 1;
    return n > FILES_THREADS_MAX ? FILES_THREADS_MAX : (unsigned)n;
}

static int daemon_start(struct files_server *srv, const struct net_listen *l, unsigned threads)
{
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
    unsigned limit = srv->max_connections + FILES_OVER_HEADROOM(srv->max_connections);
    uint16_t port = 0;

    if (l->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l->addr;

        port = ntohs(sin6->sin6_port);
        flags |= IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    } else {
        port = ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
    }
    srv->daemons[srv->n_daemons] = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&l->addr, MHD_OPTION_THREAD_POOL_SIZE,
        pool_size(threads), MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
        srv->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)FILES_MEMORY_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)FILES_BACKLOG, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, srv, MHD_OPTION_END);
    if (srv->daemons[srv->n_daemons] == NULL) {
        log_error("HTTP file service: cannot listen on %s", l->text);
        return -1;
    }
    srv->n_daemons++;
    log_info("HTTP file service listening on %s", l->text);
    return 0;
}

static void caps_set(struct files_server *srv, const struct files_server_params *p)
{
    srv->max_connections = p->max_connections;
    srv->max_per_client = p->max_connections_per_client;
}

int files_server_start(struct files_server **out, const struct files_server_params *p)
{
    struct files_server *srv = calloc(1, sizeof(*srv));

    if (srv == NULL || p->listen_count > FILES_DAEMONS_MAX)
        goto fail;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->wake, NULL);
    caps_set(srv, p);
    srv->timeout_s = p->timeout_s > 0 ? p->timeout_s : 1;
    srv->resolver = resolver_ref(p->resolver);
    if (peer_table_new(&srv->peers) != 0)
        goto fail;
    if (pthread_create(&srv->watchdog, NULL, watchdog_run, srv) != 0)
        goto fail;
    srv->watchdog_started = true;
    for (unsigned i = 0; i < p->listen_count; i++) {
        if (daemon_start(srv, &p->listen[i], p->threads) != 0)
            goto fail;
    }
    *out = srv;
    return 0;
fail:
    if (srv == NULL)
        log_error("HTTP file service: out of memory");
    files_server_stop(srv);
    return -1;
}

void files_server_update(struct files_server *srv, const struct files_server_params *p)
{
    struct resolver *old;

    if (srv == NULL)
        return;
    pthread_mutex_lock(&srv->lock);
    caps_set(srv, p);
    old = srv->resolver;
    srv->resolver = resolver_ref(p->resolver);
    pthread_mutex_unlock(&srv->lock);
    resolver_unref(old);
}

void files_server_stop(struct files_server *srv)
{
    if (srv == NULL)
        return;
    for (unsigned i = 0; i < srv->n_daemons; i++)
        MHD_stop_daemon(srv->daemons[i]);
    if (srv->watchdog_started) {
        pthread_mutex_lock(&srv->lock);
        srv->stopping = true;
        pthread_cond_signal(&srv->wake);
        pthread_mutex_unlock(&srv->lock);
        pthread_join(srv->watchdog, NULL);
    }
    peer_table_free(srv->peers);
    resolver_unref(srv->resolver);
    pthread_cond_destroy(&srv->wake);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

void files_server_get_stats(struct files_server *srv, struct files_server_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (srv == NULL)
        return;
    out->requests = atomic_load(&srv->requests);
    for (int i = 0; i < 6; i++)
        out->status[i] = atomic_load(&srv->status[i]);
    out->bytes_sent = atomic_load(&srv->bytes_sent);
    out->refused_busy = atomic_load(&srv->refused_busy);
    out->connections = atomic_load(&srv->connections);
    out->transfers_active = atomic_load(&srv->active);
}

static void transfer_info(const struct files_conn *c, int64_t now, struct files_transfer_info *t)
{
    uint64_t acked = files_conn_acked(c) - c->acked_base;

    memset(t, 0, sizeof(*t));
    snprintf(t->peer, sizeof(t->peer), "%s", c->peer);
    snprintf(t->name, sizeof(t->name), "%s", c->name);
    t->size = c->body_len;
    acked = acked > c->head_len ? acked - c->head_len : 0;
    t->sent_bytes = acked < c->body_len ? acked : c->body_len;
    t->elapsed_ms = (uint64_t)(now - c->started_ms);
}

size_t files_server_list_transfers(struct files_server *srv, size_t max,
                                   void (*cb)(void *arg, const struct files_transfer_info *t),
                                   void *arg)
{
    struct files_transfer_info *v;
    size_t n = 0;
    int64_t now = clock_mono_ms();

    if (srv == NULL || max == 0)
        return 0;
    if (max > atomic_load(&srv->connections) + 1)
        max = atomic_load(&srv->connections) + 1;
    if ((v = calloc(max, sizeof(*v))) == NULL)
        return 0;
    pthread_mutex_lock(&srv->lock);
    for (struct files_conn *c = srv->conns; c != NULL && n < max; c = c->next) {
        if (c->body_active)
            transfer_info(c, now, &v[n++]);
    }
    pthread_mutex_unlock(&srv->lock);
    for (size_t i = 0; i < n; i++)
        cb(arg, &v[i]);
    free(v);
    return n;
}
