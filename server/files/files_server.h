/* files_server.h: the HTTP file service (port 6970): GET and HEAD of the names
 * TFTP serves, through the same resolver, and catalog blobs by hash. Its own
 * libmicrohttpd daemons and threads; never shares the admin interface's
 * authentication, cookies or threads, never reads a body into memory. */
#ifndef LOADSD_FILES_SERVER_H
#define LOADSD_FILES_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/netaddr.h"
#include "server/resolve/resolver.h"

struct files_server_params {
    const struct net_listen *listen;
    unsigned listen_count;
    unsigned threads;                    /* per address; 0 = online CPUs (at most 16) */
    unsigned max_connections;            /* across all addresses; more get 503 */
    unsigned max_connections_per_client; /* per IPv4 address or IPv6 /64 */
    unsigned timeout_s;                  /* idle connection, and the time a request head may take */
    struct resolver *resolver;           /* the server takes its own reference */
};

struct files_server_stats {
    uint64_t requests;  /* answered, every status */
    uint64_t status[6]; /* by class: [2] = 2xx ... [5] = 5xx; [0], [1] unused */
    uint64_t
        bytes_sent; /* body bytes (whole responses; an interrupted one as far as acknowledged) */
    uint64_t refused_busy; /* 503 at a connection cap */
    uint64_t connections;  /* open now */
    uint64_t transfers_active;
};

/* One response body going out, as the admin interface shows it. */
struct files_transfer_info {
    char peer[64];       /* "10.1.2.3:1234" or "[2001:db8::1]:1234" */
    char name[256];      /* the request path, cleaned for display (log_clean) */
    uint64_t size;       /* body bytes of the response */
    uint64_t sent_bytes; /* acknowledged by the client so far (TCP_INFO) */
    uint64_t elapsed_ms;
};

struct files_server;

/* Binds every address and starts the threads (before privileges are
 * dropped). 0, or -1 (logged). */
int files_server_start(struct files_server **out, const struct files_server_params *p);
/* Applies a new resolver and new caps to new requests and connections (SIGHUP). */
void files_server_update(struct files_server *srv, const struct files_server_params *p);
/* Stops accepting, ends every connection and frees the server. NULL does nothing. */
void files_server_stop(struct files_server *srv);
void files_server_get_stats(struct files_server *srv, struct files_server_stats *out);
/* Calls cb for every response body in progress (at most max); returns how many. */
size_t files_server_list_transfers(struct files_server *srv, size_t max,
                                   void (*cb)(void *arg, const struct files_transfer_info *t),
                                   void *arg);

#endif
