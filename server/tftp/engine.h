/* engine.h: the types the TFTP engine's files share (server, worker, listener,
 * transfer) and the clock they read. Internal to server/tftp: never included
 * from outside it (the public face is tftp_server.h); declares no behaviour. */
#ifndef LOADSD_TFTP_ENGINE_H
#define LOADSD_TFTP_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/log.h"
#include "server/resolve/resolver.h"
#include "server/tftp/admission.h"
#include "server/tftp/filemap.h"
#include "server/tftp/listen.h"
#include "server/tftp/noise.h"
#include "server/tftp/send.h"
#include "server/tftp/steer.h"
#include "server/tftp/tftp_server.h"
#include "server/tftp/tftp_session.h"
#include "server/tftp/timers.h"

/* HANDLE_DEAD: a transfer ended by another handle's event (eviction) while
 * events for it may still wait in the batch epoll_wait returned. */
enum handle_kind { HANDLE_LISTENER, HANDLE_TRANSFER, HANDLE_WAKE, HANDLE_DEAD };

/* The first member of everything registered with epoll. */
struct handle {
    enum handle_kind kind;
};

struct listener {
    struct handle h;
    int fd;
    int family;
};

struct worker;

struct transfer {
    struct handle h;
    struct worker *w;
    struct tftp_session sess;
    struct send_stream tx;            /* socket, mapped file, blocks still to send */
    struct timer_entry timer;         /* at the session's deadline */
    struct admission_ticket ticket;   /* its places under the limits */
    bool want_out;                    /* EPOLLOUT registered */
    atomic_uint_fast64_t acked_bytes; /* read by tftp_server_list_transfers */
    struct transfer *prev, *next;     /* the worker's list, under list_lock */
    struct transfer *dead_next;       /* the worker's list of the evicted, freed after a batch */
    char peer[ADDR_TEXT_MAX];
    char name[LOG_CLEAN_MAX];
    struct sockaddr_storage peer_addr; /* for the resolver's transfer-ended hook */
};

struct handoff;

struct worker {
    struct tftp_server *srv;
    unsigned index;
    pthread_t thread;
    bool started;
    pthread_mutex_t list_lock; /* transfers: taken on start, end and listing only */
    struct transfer *transfers;
    int epfd;
    struct handle wake;
    int wakefd;
    struct listener *listeners;
    unsigned n_listeners;
    struct timer_heap timers;
    size_t active;
    struct admission_queue unacked; /* its unanswered transfers, oldest first */
    struct transfer *dead;          /* ended during this batch of events, freed after it */
    unsigned gen_seen;
    bool draining;
    /* Tunables copied from the server when its generation moves. */
    struct tftp_session_limits limits;
    struct admission_limits admit;
    struct resolver *resolver;
    struct send_batch send;
    /* Steering (steer.h): what other workers read to choose one. */
    struct steer_meter meter;
    atomic_uint busy;          /* meter.busy, permille */
    atomic_uint active_seen;   /* active, as of the last loop */
    pthread_mutex_t hand_lock; /* requests other workers steered here */
    struct handoff *hand, *hand_tail;
};

struct tftp_server {
    struct worker *workers;
    unsigned n_workers;
    pthread_mutex_t lock; /* params, resolver */
    struct tftp_server_params params;
    atomic_uint gen;
    atomic_bool stopping;
    atomic_uint_fast64_t stop_deadline_ms;
    struct admission admission;
    atomic_uint_fast64_t st_requests, st_done, st_failed, st_errors, st_bytes;
    struct noise noise; /* lines a flood can repeat (refusals, unanswered ends) */
    atomic_bool gso_off;
    struct filemap files; /* the served files' shared mappings */
};

static inline uint64_t engine_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t engine_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
