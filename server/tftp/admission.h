/* admission.h: whether a new request may start a transfer: the limits on all
 * transfers, per client, and on transfers never answered (in all and per
 * prefix), and which unanswered transfer makes room when they are full.
 * Never touches a socket, a file or the clock, never logs, never ends a
 * transfer itself: the caller's evict callback does. */
#ifndef LOADSD_TFTP_ADMISSION_H
#define LOADSD_TFTP_ADMISSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/tftp/peer_table.h"
#include "server/tftp/wire_error.h"

#define ADMISSION_EVICT_MS   250 /* an unanswered transfer this old may make room for a new one */
#define ADMISSION_EVICT_SCAN 8   /* oldest unanswered transfers looked at to find one */

struct admission_limits {
    unsigned transfers;          /* across all workers */
    unsigned per_client;         /* per IPv4 address, IPv6 /64 */
    unsigned unacked;            /* transfers never acknowledged yet, in all */
    unsigned unacked_per_prefix; /* the same per IPv4 /24 or IPv6 /64 */
};

/* Why a request was refused; each has its counter and its ERROR. */
enum admission_refusal {
    ADMISSION_REFUSED_TRANSFERS,
    ADMISSION_REFUSED_CLIENT,
    ADMISSION_REFUSED_UNACKED_PREFIX,
    ADMISSION_REFUSED_UNACKED,
    ADMISSION_REFUSALS,
};

/* The places one transfer holds, embedded in it. */
struct admission_ticket {
    struct peer_count *client; /* its client's place, to the end */
    struct peer_count *prefix; /* its prefix's unanswered place, until the first ACK */
    bool unacked;              /* holds a place in the unanswered budget */
    uint64_t started_ms;
    struct admission_ticket *prev, *next; /* the queue, oldest first */
};

/* The unanswered transfers of one worker, oldest first: eviction candidates.
 * Used by its worker's thread only. */
struct admission_queue {
    struct admission_ticket *head, *tail;
};

/* Shared by all workers: the counts are atomic, the tables lock themselves. */
struct admission {
    struct peer_table *clients;  /* transfers per client */
    struct peer_table *prefixes; /* unanswered transfers per prefix */
    atomic_uint_fast64_t active;
    atomic_uint_fast64_t unacked; /* may pass the limit by one per worker (see admission.c) */
    atomic_uint_fast64_t refused[ADMISSION_REFUSALS], evicted, expired;
};

struct admission_stats {
    uint64_t active, unacked;
    uint64_t refused[ADMISSION_REFUSALS];
    uint64_t evicted; /* ended unanswered to make room for a new request */
    uint64_t expired; /* ended without any ACK (timeout, ICMP, eviction) */
};

/* Ends the transfer that holds victim (its session, socket, log line), which
 * must call admission_release() on it before returning. */
typedef void admission_evict_fn(void *arg, struct admission_ticket *victim);

/* 0, or a negative errno. */
int admission_init(struct admission *a);
void admission_fini(struct admission *a);

/* Admits a request from peer at now_ms into t: 0, or -1 with the refusal in
 * *why (counted; nothing held). Full limits may evict one transfer of q. */
int admission_admit(struct admission *a, struct admission_queue *q,
                    const struct admission_limits *lim, const struct sockaddr *peer,
                    uint64_t now_ms, struct admission_ticket *t, enum admission_refusal *why,
                    admission_evict_fn *evict, void *arg);
/* Gives back what admission_admit() took, for a request that never started. */
void admission_undo(struct admission *a, struct admission_ticket *t);
/* The transfer has started: from now on it may be evicted. */
void admission_enqueue(struct admission_queue *q, struct admission_ticket *t);
/* The peer answered: the transfer leaves the unanswered budget. */
void admission_answered(struct admission *a, struct admission_queue *q, struct admission_ticket *t);
/* The transfer (enqueued) has ended: every place goes back. */
void admission_release(struct admission *a, struct admission_queue *q, struct admission_ticket *t);

void admission_get_stats(struct admission *a, struct admission_stats *out);
/* The ERROR a refused request gets. */
enum tftp_failure admission_failure(enum admission_refusal why);

#endif
