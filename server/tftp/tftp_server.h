/* tftp_server.h: the TFTP server as the daemon and the admin side see it: open
 * (bind), start, reload, stop; counters and the list of transfers in progress.
 * Never exposes a worker, a socket or a session; makes no protocol decision. */
#ifndef LOADSD_TFTP_SERVER_H
#define LOADSD_TFTP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/netaddr.h"
#include "server/resolve/resolver.h"
#include "server/tftp/tftp_session.h"

struct tftp_server_params {
    const struct net_listen *listen;
    unsigned listen_count;
    unsigned threads;                  /* 0 = online CPUs */
    unsigned max_transfers;            /* across all workers */
    unsigned max_transfers_per_client; /* per client: IPv4 address, IPv6 /64 */
    unsigned max_unacked;              /* transfers never acknowledged yet, in all */
    unsigned max_unacked_per_prefix;   /* the same per IPv4 /24 or IPv6 /64 */
    struct tftp_session_limits limits; /* blksize_max here is the configured cap */
    struct resolver *resolver;         /* the server takes its own reference */
};

struct tftp_server_stats {
    uint64_t requests;
    uint64_t transfers_active;
    uint64_t transfers_done;
    uint64_t transfers_failed;
    uint64_t refused_busy;           /* the four below together */
    uint64_t refused_transfers;      /* at max_transfers */
    uint64_t refused_client;         /* at max_transfers_per_client */
    uint64_t refused_unacked;        /* at max_unacked, none old enough to make room */
    uint64_t refused_unacked_prefix; /* at max_unacked_per_prefix */
    uint64_t transfers_unacked;      /* running, never acknowledged yet */
    uint64_t unacked_evicted;        /* ended unanswered to make room for a new request */
    uint64_t unacked_expired;        /* ended without any ACK (timeout, ICMP, eviction) */
    uint64_t errors_sent;
    uint64_t bytes_sent; /* payload bytes of DATA, resends included */
};

/* One transfer in progress, as the admin interface shows it. */
struct tftp_transfer_info {
    char peer[64];        /* "10.1.2.3:1234" or "[2001:db8::1]:1234" */
    char name[256];       /* cleaned for display (log_clean) */
    uint64_t size;        /* bytes in the transfer */
    uint64_t acked_bytes; /* acknowledged by the client so far */
    uint64_t elapsed_ms;
    uint32_t blksize, windowsize;
};

struct tftp_server;

/* Binds every listener (one SO_REUSEPORT socket per worker per address), so
 * privileges can be dropped afterwards. 0, or a negative errno. */
int tftp_server_open(struct tftp_server **out, const struct tftp_server_params *p);
/* Starts the worker threads. 0, or a negative errno. */
int tftp_server_start(struct tftp_server *srv);
/* Applies new limits and a new resolver to new requests (SIGHUP); listen
 * addresses and the thread count keep their values until a restart. */
void tftp_server_update(struct tftp_server *srv, const struct tftp_server_params *p);
/* Stops accepting requests, lets transfers run for up to grace_ms, then ends
 * the rest and joins the workers. */
void tftp_server_stop(struct tftp_server *srv, unsigned grace_ms);
void tftp_server_free(struct tftp_server *srv);
void tftp_server_get_stats(struct tftp_server *srv, struct tftp_server_stats *out);
/* Calls cb for every transfer in progress (at most max of them); returns how
 * many. Safe from any thread: each worker's list is locked only while it is
 * copied, and on a transfer's start and end, never per packet. */
size_t tftp_server_list_transfers(struct tftp_server *srv, size_t max,
                                  void (*cb)(void *arg, const struct tftp_transfer_info *t),
                                  void *arg);

#endif
