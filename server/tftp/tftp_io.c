/* tftp_io.c: the TFTP server's sockets and threads: per-worker epoll loop,
 * SO_REUSEPORT listeners, one connected socket per transfer, windows sent with
 * sendmmsg from pread, a timer heap per worker. No protocol decisions here:
 * tftp_packet parses, tftp_session decides, the resolver finds the file. */
#include "server/tftp/tftp_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/grow.h"
#include "lib/log.h"
#include "server/tftp/peer_table.h"
#include "server/tftp/tftp_packet.h"
#include "server/tftp/wire_error.h"

#define BATCH_MSGS       64         /* datagrams per sendmmsg */
#define BATCH_BYTES      (1u << 20) /* file bytes read per batch */
#define READAHEAD_BYTES  8192       /* per transfer: small sends read this much at once */
#define EVENTS_MAX       256
#define RECV_BURST       64          /* requests read per wake-up, so no socket starves */
#define NETASCII_SRC_MAX (16u << 20) /* netascii is for config files, not firmware */
#define UNACKED_EVICT_MS 250   /* an unanswered transfer this old may make room for a new one */
#define EVICT_SCAN       8     /* oldest unanswered transfers looked at to find one */
#define NOISE_WINDOW_MS  10000 /* refusals and unanswered ends: lines per window, then a summary */
#define NOISE_BURST      10
#define GSO_SEGMENTS_MAX 64        /* the kernel's UDP_MAX_SEGMENTS */
#define GSO_BYTES_MAX    65000     /* one UDP datagram before segmentation, with room */
#define LISTEN_RCVBUF    (4 << 20) /* a burst of thousands of requests must not drop */
#define ADDR_TEXT_MAX    64

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

/* Why a request was refused at admission; each has its counter and text. */
enum refusal {
    REFUSED_TRANSFERS,
    REFUSED_CLIENT,
    REFUSED_UNACKED_PREFIX,
    REFUSED_UNACKED,
    REFUSED_KINDS,
};

static const char *const refusal_text[REFUSED_KINDS] = {
    [REFUSED_TRANSFERS] = "Server busy: too many transfers, try again later",
    [REFUSED_CLIENT] = "Server busy: too many transfers from this address",
    [REFUSED_UNACKED_PREFIX] = "Server busy: too many unanswered transfers from this network",
    [REFUSED_UNACKED] = "Server busy: too many unanswered transfers, try again later",
};

struct worker;

struct transfer {
    struct handle h;
    struct worker *w;
    struct tftp_session sess;
    int sock;
    int fd;
    size_t heap_idx;                /* SIZE_MAX when not in the timer heap */
    uint64_t tx_next, tx_end;       /* blocks still to put on the wire */
    uint64_t ra_off;                /* file offset of ra[0] */
    size_t ra_len;                  /* bytes valid in ra */
    bool want_out;                  /* EPOLLOUT registered */
    struct peer_count *client;      /* the per-client place, held to the end */
    struct peer_count *prefix;      /* the unanswered place of its prefix, until the first ACK */
    bool unacked;                   /* holds places in the unanswered budget */
    struct transfer *uprev, *unext; /* the worker's unanswered list, oldest first */
    uint64_t started_ms;
    uint64_t bytes_sent;
    atomic_uint_fast64_t acked_bytes; /* read by tftp_server_list_transfers */
    struct transfer *prev, *next;     /* the worker's list, under list_lock */
    char peer[ADDR_TEXT_MAX];
    char name[LOG_CLEAN_MAX];
    uint8_t ra[READAHEAD_BYTES]; /* lock-step: one pread per few blocks, not per block */
};

struct worker {
    struct tftp_server *srv;
    pthread_t thread;
    bool started;
    pthread_mutex_t list_lock; /* transfers: taken on start, end and listing only */
    struct transfer *transfers;
    int epfd;
    struct handle wake;
    int wakefd;
    struct listener *listeners;
    unsigned n_listeners;
    struct transfer **heap; /* min-heap on the session deadline */
    size_t heap_len, heap_cap;
    size_t active;
    struct transfer *unacked_head, *unacked_tail;
    struct transfer *dead; /* ended during this batch of events, freed after it */
    unsigned gen_seen;
    bool draining;
    /* Tunables copied from the server when its generation moves. */
    struct tftp_session_limits limits;
    unsigned max_transfers, max_per_client, max_unacked, max_unacked_prefix;
    struct resolver *resolver;
    /* Send scratch: no allocation per packet. */
    uint8_t *buf;
    struct mmsghdr msgs[BATCH_MSGS];
    struct iovec iov[BATCH_MSGS][2];
    uint8_t hdrs[BATCH_MSGS][TFTP_HEADER_LEN];
};

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h; glibc's netinet/udp.h has it from 2.28 */
#endif

struct tftp_server {
    struct worker *workers;
    unsigned n_workers;
    pthread_mutex_t lock; /* params, resolver, clients */
    struct tftp_server_params params;
    atomic_uint gen;
    atomic_bool stopping;
    atomic_uint_fast64_t stop_deadline_ms;
    atomic_uint_fast64_t active;
    atomic_uint_fast64_t unacked; /* transfers holding an unanswered place (may pass
                                     max_unacked by one per worker, see place_take) */
    struct peer_table *clients;   /* transfers per client */
    struct peer_table *prefixes;  /* unanswered transfers per prefix */
    atomic_uint_fast64_t st_requests, st_done, st_failed, st_errors, st_bytes;
    atomic_uint_fast64_t st_refused[REFUSED_KINDS], st_evicted, st_expired;
    /* Lines a flood can repeat (refusals, unanswered ends): rate-limited. */
    pthread_mutex_t noise_lock;
    struct log_ratelimit noise;
    atomic_uint_fast64_t noise_due; /* when the pending summary is due; 0 = none */
    atomic_bool gso_off;            /* the kernel refused UDP_SEGMENT once: sendmmsg only */
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- addresses ---- */

static void addr_v4_mapped(const struct in_addr *v4, struct in6_addr *out)
{
    memset(out, 0, sizeof(*out));
    out->s6_addr[10] = 0xff;
    out->s6_addr[11] = 0xff;
    memcpy(&out->s6_addr[12], v4, 4);
}

static void addr_format(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr_in6 *s6 = (const void *)sa;
    const struct sockaddr_in *s4 = (const void *)sa;

    if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, ntohs(s6->sin6_port));
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else {
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, ntohs(s4->sin_port));
    }
}

/* ---- lines a flood repeats ---- */

/* The summary of what the rate limit kept out of the log: how many in the
 * window that just closed, and the totals since start by kind. */
static void noise_summary(struct tftp_server *srv, uint64_t hidden, uint64_t span_ms)
{
    log_info("flood guard: %llu refusals and unanswered transfers in the last %llu s had no line "
             "of their own; since start: refused %llu at max-unacked-per-prefix, %llu at "
             "max-unacked, %llu at max-transfers-per-client, %llu at max-transfers; %llu "
             "transfers never answered, %llu of them ended early to make room",
             (unsigned long long)hidden, (unsigned long long)(span_ms / 1000),
             (unsigned long long)atomic_load(&srv->st_refused[REFUSED_UNACKED_PREFIX]),
             (unsigned long long)atomic_load(&srv->st_refused[REFUSED_UNACKED]),
             (unsigned long long)atomic_load(&srv->st_refused[REFUSED_CLIENT]),
             (unsigned long long)atomic_load(&srv->st_refused[REFUSED_TRANSFERS]),
             (unsigned long long)atomic_load(&srv->st_expired),
             (unsigned long long)atomic_load(&srv->st_evicted));
}

/* Closes the limiter's window when it is over (logging its summary); with
 * take, also counts one event. Returns whether that event gets a line. */
static bool noise_step(struct tftp_server *srv, uint64_t now, bool take)
{
    uint64_t hidden, span;
    bool show = false;

    pthread_mutex_lock(&srv->noise_lock);
    hidden = log_ratelimit_roll(&srv->noise, now, &span);
    if (take)
        show = log_ratelimit_take(&srv->noise, now);
    atomic_store(&srv->noise_due, log_ratelimit_due(&srv->noise));
    pthread_mutex_unlock(&srv->noise_lock);
    if (hidden > 0)
        noise_summary(srv, hidden, span);
    return show;
}

/* True when one more flood-prone line may be written now. */
static bool noise_line_ok(struct tftp_server *srv)
{
    return noise_step(srv, now_ms(), true);
}

/* From the worker loop: writes a summary that has come due. */
static void noise_tick(struct tftp_server *srv, uint64_t now)
{
    uint64_t due = atomic_load(&srv->noise_due);

    if (due != 0 && now >= due)
        noise_step(srv, now, false);
}

/* ---- timer heap ---- */

static uint64_t heap_key(const struct transfer *t)
{
    return tftp_session_deadline(&t->sess);
}

static void heap_swap(struct worker *w, size_t a, size_t b)
{
    struct transfer *t = w->heap[a];

    w->heap[a] = w->heap[b];
    w->heap[b] = t;
    w->heap[a]->heap_idx = a;
    w->heap[b]->heap_idx = b;
}

static void heap_sift(struct worker *w, size_t i)
{
    while (i > 0 && heap_key(w->heap[i]) < heap_key(w->heap[(i - 1) / 2])) {
        heap_swap(w, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < w->heap_len && heap_key(w->heap[l]) < heap_key(w->heap[m]))
            m = l;
        if (r < w->heap_len && heap_key(w->heap[r]) < heap_key(w->heap[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(w, i, m);
        i = m;
    }
}

static void heap_remove(struct worker *w, struct transfer *t)
{
    size_t i = t->heap_idx;

    if (i == SIZE_MAX)
        return;
    t->heap_idx = SIZE_MAX;
    if (--w->heap_len == i)
        return;
    w->heap[i] = w->heap[w->heap_len];
    w->heap[i]->heap_idx = i;
    heap_sift(w, i);
}

/* Puts t where its (new) deadline belongs; 0 or -ENOMEM. */
static int heap_update(struct worker *w, struct transfer *t)
{
    if (heap_key(t) == 0) {
        heap_remove(w, t);
        return 0;
    }
    if (t->heap_idx == SIZE_MAX) {
        if (grow_array((void **)&w->heap, &w->heap_cap, w->heap_len + 1, sizeof(*w->heap), 64))
            return -ENOMEM;
        t->heap_idx = w->heap_len;
        w->heap[w->heap_len++] = t;
    }
    heap_sift(w, t->heap_idx);
    return 0;
}

/* ---- sending ---- */

/* Sends an ERROR from a listener, with the source address the request was
 * sent to (multi-homed hosts), so the client accepts it. */
static void listener_send_error(struct worker *w, struct listener *l, const struct msghdr *req,
                                uint16_t code, const char *msg)
{
    uint8_t pkt[4 + TFTP_ERRMSG_MAX];
    int len = tftp_packet_build_error(pkt, sizeof(pkt), code, msg);
    struct iovec iov = {pkt, (size_t)len};
    struct msghdr m = *req;

    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_flags = 0;
    if (len > 0 && sendmsg(l->fd, &m, MSG_DONTWAIT) >= 0)
        atomic_fetch_add(&w->srv->st_errors, 1);
}

static int transfer_send_error(struct transfer *t, uint16_t code, const char *msg)
{
    uint8_t pkt[4 + TFTP_ERRMSG_MAX];
    int len = tftp_packet_build_error(pkt, sizeof(pkt), code, msg);

    if (len > 0 && send(t->sock, pkt, (size_t)len, MSG_DONTWAIT) >= 0)
        atomic_fetch_add(&t->w->srv->st_errors, 1);
    return 0;
}

static int transfer_send_oack(struct transfer *t)
{
    uint8_t pkt[TFTP_REQUEST_MAX];
    int len = tftp_packet_build_oack(pkt, sizeof(pkt), tftp_session_accepted(&t->sess));

    if (len < 0)
        return -EINVAL;
    if (send(t->sock, pkt, (size_t)len, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
        errno != EWOULDBLOCK)
        return -errno;
    return 0;
}

static int transfer_set_out(struct transfer *t, bool want)
{
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = &t->h};

    if (t->want_out == want)
        return 0;
    t->want_out = want;
    return epoll_ctl(t->w->epfd, EPOLL_CTL_MOD, t->sock, &ev) == 0 ? 0 : -errno;
}

/* The want bytes at off, for a batch that fits the read-ahead buffer: served
 * from it when it holds them, else refilled with one pread from off. A lock-step
 * transfer (one block per ACK) so pays one pread per READAHEAD_BYTES, not one
 * per block. Returns the bytes, or NULL with *err set (-EIO: the file shrank). */
static const uint8_t *readahead_get(struct transfer *t, uint64_t off, size_t want, int *err)
{
    ssize_t got;

    if (off >= t->ra_off && off + want <= t->ra_off + t->ra_len)
        return t->ra + (off - t->ra_off);
    got = pread(t->fd, t->ra, sizeof(t->ra), (off_t)off);
    t->ra_off = off;
    t->ra_len = got > 0 ? (size_t)got : 0;
    if (got < 0 || (size_t)got < want) {
        *err = got < 0 ? -errno : -EIO;
        return NULL;
    }
    return t->ra;
}

/* The want bytes at off for a larger batch: one pread into the worker's
 * buffer. Returns them, or NULL with *err set (-EIO: the file shrank). */
static const uint8_t *batch_read(struct transfer *t, uint64_t off, size_t want, int *err)
{
    ssize_t got = pread(t->fd, t->w->buf, want, (off_t)off);

    if (got < 0 || (size_t)got != want) {
        *err = got < 0 ? -errno : -EIO;
        return NULL;
    }
    return t->w->buf;
}

/* Reads the next batch of blocks (one pread at most) and points the messages
 * at it. Returns the number of messages, or a negative errno. */
static int batch_prepare(struct transfer *t)
{
    struct worker *w = t->w;
    uint32_t blk = t->sess.blksize;
    uint64_t first = t->tx_next, count = t->tx_end - t->tx_next;
    uint64_t max_blocks = BATCH_BYTES / blk ? BATCH_BYTES / blk : 1;
    uint64_t off = tftp_session_block_offset(&t->sess, first);
    const uint8_t *data = w->buf; /* a zero-length last block points here */
    size_t want = 0, pos = 0;
    int n, err = 0;

    if (count > BATCH_MSGS)
        count = BATCH_MSGS;
    if (count > max_blocks)
        count = max_blocks;
    for (uint64_t b = first; b < first + count; b++)
        want += tftp_session_block_len(&t->sess, b);
    if (want > 0) {
        data = want <= sizeof(t->ra) ? readahead_get(t, off, want, &err)
                                     : batch_read(t, off, want, &err);
        if (data == NULL)
            return err;
    }
    for (n = 0; n < (int)count; n++) {
        uint32_t len = tftp_session_block_len(&t->sess, first + (uint64_t)n);

        tftp_packet_data_header(w->hdrs[n], tftp_session_wire_block(&t->sess, first + (uint64_t)n));
        w->iov[n][0] = (struct iovec){w->hdrs[n], TFTP_HEADER_LEN};
        w->iov[n][1] = (struct iovec){(void *)(data + pos), len};
        memset(&w->msgs[n], 0, sizeof(w->msgs[n]));
        w->msgs[n].msg_hdr.msg_iov = w->iov[n];
        w->msgs[n].msg_hdr.msg_iovlen = 2;
        pos += len;
    }
    return n;
}

/* How many of the n prepared blocks can go out as one GSO datagram: every
 * segment (header + block) must have the same size but the last, and the
 * whole must fit one UDP datagram. 0 or 1: not worth it. */
static int gso_blocks(const struct transfer *t, int n)
{
    size_t seg = TFTP_HEADER_LEN + t->sess.blksize;
    int max = (int)(GSO_BYTES_MAX / seg);

    if (atomic_load_explicit(&t->w->srv->gso_off, memory_order_relaxed))
        return 0;
    if (max > GSO_SEGMENTS_MAX)
        max = GSO_SEGMENTS_MAX;
    return n < max ? n : max;
}

/* Sends the first k prepared blocks as one datagram that the kernel cuts into
 * k DATA packets (UDP generic segmentation offload): one pass through the
 * UDP stack per window instead of one per block. Returns k, or -1 with errno. */
static int send_gso(struct transfer *t, int k)
{
    struct worker *w = t->w;
    struct iovec iov[2 * GSO_SEGMENTS_MAX];
    union {
        char b[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl;
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)(2 * k)};
    struct cmsghdr *c;
    uint16_t seg = (uint16_t)(TFTP_HEADER_LEN + t->sess.blksize);

    for (int i = 0; i < k; i++) {
        iov[2 * i] = w->iov[i][0];
        iov[2 * i + 1] = w->iov[i][1];
    }
    memset(&ctl, 0, sizeof(ctl));
    m.msg_control = ctl.b;
    m.msg_controllen = sizeof(ctl.b);
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_UDP; /* SOL_UDP */
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(seg));
    memcpy(CMSG_DATA(c), &seg, sizeof(seg));
    return sendmsg(t->sock, &m, MSG_DONTWAIT) < 0 ? -1 : k;
}

/* Sends the first n prepared blocks: one GSO datagram when it can, else one
 * sendmmsg. Returns how many went out, or -1 with errno. */
static int batch_send(struct transfer *t, int n)
{
    int k = gso_blocks(t, n), sent;

    if (k >= 2) {
        sent = send_gso(t, k);
        if (sent >= 0 ||
            (errno != EIO && errno != EINVAL && errno != ENOPROTOOPT && errno != EOPNOTSUPP))
            return sent;
        /* No segmentation here (old kernel, odd device): never ask again. */
        if (!atomic_exchange(&t->w->srv->gso_off, true))
            log_info("UDP segmentation offload unavailable (%s): sending DATA one by one",
                     strerror(errno));
    }
    return sendmmsg(t->sock, t->w->msgs, (unsigned)n, MSG_DONTWAIT);
}

/* Puts blocks tx_next..tx_end-1 on the wire, a batch at a time; on a full
 * socket buffer it waits for EPOLLOUT. 0, or a negative errno (peer gone). */
static int transfer_flush(struct transfer *t)
{
    while (t->tx_next < t->tx_end) {
        int n = batch_prepare(t), sent;

        if (n < 0)
            return n;
        sent = batch_send(t, n);
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return transfer_set_out(t, true);
        if (sent < 0)
            return -errno;
        for (int i = 0; i < sent; i++)
            t->bytes_sent += t->w->iov[i][1].iov_len;
        t->tx_next += (uint64_t)sent;
        if (sent < n)
            return transfer_set_out(t, true);
    }
    return transfer_set_out(t, false);
}

/* ---- transfer life ---- */

static void transfer_list_add(struct worker *w, struct transfer *t)
{
    pthread_mutex_lock(&w->list_lock);
    t->next = w->transfers;
    if (t->next != NULL)
        t->next->prev = t;
    w->transfers = t;
    pthread_mutex_unlock(&w->list_lock);
}

static void transfer_list_remove(struct worker *w, struct transfer *t)
{
    pthread_mutex_lock(&w->list_lock);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        w->transfers = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&w->list_lock);
}

/* ---- the budget of unanswered transfers ---- */

/* Appends t (fully set up, holding unanswered places) to its worker's list. */
static void unacked_link(struct worker *w, struct transfer *t)
{
    t->unext = NULL;
    t->uprev = w->unacked_tail;
    if (w->unacked_tail != NULL)
        w->unacked_tail->unext = t;
    else
        w->unacked_head = t;
    w->unacked_tail = t;
}

static void unacked_unlink(struct worker *w, struct transfer *t)
{
    if (t->uprev != NULL)
        t->uprev->unext = t->unext;
    else
        w->unacked_head = t->unext;
    if (t->unext != NULL)
        t->unext->uprev = t->uprev;
    else
        w->unacked_tail = t->uprev;
    t->uprev = t->unext = NULL;
}

/* Gives back the unanswered places (prefix and total) of a transfer not on
 * the worker's list yet: a request refused or failed while being set up. */
static void unacked_give_back(struct tftp_server *srv, struct transfer *t)
{
    peer_table_release(srv->prefixes, t->prefix);
    t->prefix = NULL;
    if (t->unacked)
        atomic_fetch_sub(&srv->unacked, 1);
    t->unacked = false;
}

/* Once the peer has answered, or when the transfer ends: the transfer leaves
 * the unanswered budget and the worker's list. */
static void unacked_release(struct transfer *t)
{
    if (!t->unacked)
        return;
    unacked_unlink(t->w, t);
    unacked_give_back(t->w->srv, t);
}

static void transfer_end_log(struct transfer *t, bool ok, const char *why, uint64_t ms)
{
    if (ok)
        log_info("sent \"%s\" to %s: %llu bytes in %llu ms, blksize %u, window %u", t->name,
                 t->peer, (unsigned long long)t->sess.size, (unsigned long long)ms, t->sess.blksize,
                 t->sess.windowsize);
    else if (tftp_session_peer_proven(&t->sess) || noise_line_ok(t->w->srv))
        log_info("transfer of \"%s\" to %s ended: %s after %llu ms", t->name, t->peer, why,
                 (unsigned long long)ms);
}

/* Closes everything a transfer holds and logs its end; the memory stays. */
static void transfer_close(struct transfer *t, const char *why)
{
    struct worker *w = t->w;
    struct tftp_server *srv = w->srv;
    uint64_t ms = now_ms() - t->started_ms;
    bool ok = t->sess.end == TFTP_END_COMPLETE;

    heap_remove(w, t);
    transfer_list_remove(w, t);
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, t->sock, NULL);
    close(t->sock);
    close(t->fd);
    if (t->unacked)
        atomic_fetch_add(&srv->st_expired, 1);
    unacked_release(t);
    peer_table_release(srv->clients, t->client);
    atomic_fetch_sub(&srv->active, 1);
    atomic_fetch_add(ok ? &srv->st_done : &srv->st_failed, 1);
    atomic_fetch_add(&srv->st_bytes, t->bytes_sent);
    w->active--;
    /* A never-answered end is a line a flood repeats: rate-limited. */
    transfer_end_log(t, ok, why, ms);
}

static void transfer_end(struct transfer *t, const char *why)
{
    transfer_close(t, why);
    free(t);
}

static const char *end_reason(const struct transfer *t)
{
    switch (t->sess.end) {
    case TFTP_END_PEER_ERROR:
        return "client sent an error";
    case TFTP_END_TIMEOUT:
        return "client stopped answering";
    default:
        return "complete";
    }
}

/* Carries out what the session decided, then re-arms the timer. Returns
 * false when the transfer has ended (and t is freed). */
static bool transfer_apply(struct transfer *t, const struct tftp_session_out *out)
{
    int rc = 0;

    if (out->send_oack)
        rc = transfer_send_oack(t);
    if (rc == 0 && out->send_count > 0) {
        t->tx_next = out->send_first;
        t->tx_end = out->send_first + out->send_count;
        rc = transfer_flush(t);
    }
    if (rc == -EIO)
        transfer_send_error(t, TFTP_ERR_UNDEFINED, "File changed while being sent");
    if (rc == 0)
        rc = heap_update(t->w, t);
    if (rc != 0)
        transfer_end(t, rc == -ECONNREFUSED ? "client port closed" : strerror(-rc));
    else if (tftp_session_finished(&t->sess))
        transfer_end(t, end_reason(t));
    else
        return true;
    return false;
}

/* A datagram on a transfer socket: the socket is connected, so it comes from
 * the client's address and port (the kernel drops all others). Returns false
 * when the transfer has ended (and t is freed). */
static bool transfer_on_packet(struct transfer *t, const uint8_t *buf, size_t len)
{
    struct tftp_packet pkt;
    struct tftp_session_out out = {0};
    char msg[LOG_CLEAN_MAX];

    if (tftp_packet_parse(buf, len, &pkt) != TFTP_PARSE_OK ||
        (pkt.op != TFTP_OP_ACK && pkt.op != TFTP_OP_ERROR)) {
        transfer_send_error(t, TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation");
        tftp_session_on_error(&t->sess);
        transfer_end(t, "client sent an illegal packet");
        return false;
    }
    if (pkt.op == TFTP_OP_ERROR) {
        log_debug("client %s sent error %u \"%s\"", t->peer, pkt.error_code,
                  log_clean(pkt.error_msg, sizeof(pkt.error_msg), msg, sizeof(msg)));
        tftp_session_on_error(&t->sess);
        return transfer_apply(t, &out);
    }
    tftp_session_on_ack(&t->sess, pkt.block, now_ms(), &out);
    atomic_store_explicit(&t->acked_bytes, t->sess.acked * t->sess.blksize, memory_order_relaxed);
    /* The peer answers from where the request came: no longer a suspect. */
    if (tftp_session_peer_proven(&t->sess))
        unacked_release(t);
    return transfer_apply(t, &out);
}

static void transfer_on_event(struct transfer *t, uint32_t events)
{
    uint8_t buf[TFTP_REQUEST_MAX];
    ssize_t n;

    if (events & EPOLLOUT) {
        int rc = transfer_flush(t);

        if (rc != 0) {
            transfer_end(t, strerror(-rc));
            return;
        }
    }
    if (!(events & (EPOLLIN | EPOLLERR)))
        return;
    /* One datagram per wake-up: a transfer rarely has more than one ACK
     * queued, and epoll (level-triggered) reports the socket again if so. */
    n = recv(t->sock, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n < 0) {
        /* ICMP port unreachable: the client is gone. */
        tftp_session_on_error(&t->sess);
        transfer_end(t, errno == ECONNREFUSED ? "client port closed" : strerror(errno));
        return;
    }
    transfer_on_packet(t, buf, (size_t)n);
}

/* ---- new requests ---- */

/* Who sent a request and the local address it arrived on (IP_PKTINFO). */
struct request_meta {
    struct sockaddr_storage peer;
    socklen_t peer_len;
    struct sockaddr_storage local;
    socklen_t local_len;
};

static void meta_from_cmsg(struct msghdr *m, struct request_meta *rm, int family)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            struct sockaddr_in *sin = (struct sockaddr_in *)&rm->local;

            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            sin->sin_family = AF_INET;
            sin->sin_addr = pi.ipi_addr;
            rm->local_len = sizeof(*sin);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&rm->local;

            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            sin6->sin6_family = AF_INET6;
            sin6->sin6_addr = pi.ipi6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
                sin6->sin6_scope_id = pi.ipi6_ifindex;
            rm->local_len = sizeof(*sin6);
        }
    }
    /* An IPv4 request on a dual-stack socket: the transfer socket is IPv6 too. */
    if (family == AF_INET6 && rm->local.ss_family == AF_INET) {
        struct in_addr v4 = ((struct sockaddr_in *)&rm->local)->sin_addr;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&rm->local;

        memset(v6, 0, sizeof(*v6));
        v6->sin6_family = AF_INET6;
        addr_v4_mapped(&v4, &v6->sin6_addr);
        rm->local_len = sizeof(*v6);
    }
}

/* Largest blksize whose DATA fits the path MTU of the connected socket; no
 * limit when the kernel cannot say (the client's ask then rules). */
static uint32_t path_blksize(int sock, const struct sockaddr *peer)
{
    const struct sockaddr_in6 *s6 = (const void *)peer;
    bool v4 = peer->sa_family == AF_INET || IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
    int mtu = 0, overhead = (v4 ? 20 : 40) + 8 + TFTP_HEADER_LEN;
    socklen_t len = sizeof(mtu);
    int rc = v4 ? getsockopt(sock, IPPROTO_IP, IP_MTU, &mtu, &len)
                : getsockopt(sock, IPPROTO_IPV6, IPV6_MTU, &mtu, &len);

    if (rc != 0 || mtu - overhead < TFTP_BLKSIZE_MIN)
        return TFTP_BLKSIZE_MAX;
    return (uint32_t)(mtu - overhead);
}

/* A UDP socket for one transfer: bound to the address the request came to,
 * connected to the client; its port is the server's transfer ID. */
static int transfer_socket(const struct request_meta *rm)
{
    int family = rm->peer.ss_family, one = 1, zero = 0;
    int s = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = -errno;

    if (s < 0)
        return rc;
    if (family == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if ((rm->local_len > 0 && bind(s, (const struct sockaddr *)&rm->local, rm->local_len) != 0) ||
        connect(s, (const struct sockaddr *)&rm->peer, rm->peer_len) != 0) {
        rc = -errno;
        close(s);
        return rc;
    }
    return s;
}

/* Netascii is served from an encoded copy in memory (a memfd), so blocks stay
 * addressable by offset and resends need no re-encoding. */
static int netascii_copy(int fd, uint64_t size, int *out_fd, uint64_t *out_size)
{
    uint8_t in[16384], enc[2 * sizeof(in)];
    int m = -1, rc = -EFBIG;
    uint64_t total = 0;
    ssize_t n;

    if (size > NETASCII_SRC_MAX)
        goto out;
    m = memfd_create("loadsd-netascii", MFD_CLOEXEC);
    rc = -errno;
    if (m < 0)
        goto out;
    while ((n = read(fd, in, sizeof(in))) > 0) {
        size_t e = tftp_netascii_encode(in, (size_t)n, enc);

        if (write(m, enc, e) != (ssize_t)e) {
            rc = -EIO;
            goto out;
        }
        total += e;
    }
    rc = n < 0 ? -errno : 0;
out:
    if (rc == 0) {
        *out_fd = m;
        *out_size = total;
    } else if (m >= 0) {
        close(m);
    }
    return rc;
}

/* Refuses a request with an ERROR. The line is rate-limited: a flood of
 * requests must not become a flood of log lines. */
static void reject(struct worker *w, struct listener *l, struct msghdr *m, const char *peer,
                   const char *name, uint16_t code, const char *msg)
{
    if (noise_line_ok(w->srv))
        log_info("refused \"%s\" from %s: error %u, %s", name, peer, code, msg);
    listener_send_error(w, l, m, code, msg);
}

/* When the unanswered budget is full, the transfer that makes room for a
 * new request whose prefix then holds mine unanswered transfers: among this
 * worker's EVICT_SCAN oldest that have waited UNACKED_EVICT_MS (a phone that
 * answers at all answers long before), the one whose prefix holds the most,
 * and only if that is more than mine. So a flood only displaces itself, and a
 * request from a network with nothing outstanding always finds room. NULL: none. */
static struct transfer *unacked_victim(struct worker *w, uint64_t now, unsigned mine)
{
    struct transfer *best = NULL;
    unsigned best_n = mine, i = 0;

    for (struct transfer *t = w->unacked_head; t != NULL && i < EVICT_SCAN; t = t->unext, i++) {
        unsigned n;

        if (now - t->started_ms < UNACKED_EVICT_MS)
            break; /* the list is oldest first */
        n = peer_table_held(w->srv->prefixes, t->prefix);
        if (n > best_n) {
            best = t;
            best_n = n;
        }
    }
    return best;
}

/* Ends an unanswered transfer quietly (its peer never answered: an ERROR
 * would only be more traffic toward a perhaps forged address). */
static void unacked_evict(struct worker *w, struct transfer *t)
{
    tftp_session_on_error(&t->sess);
    transfer_close(t, "never answered, its place was needed for a new request");
    /* After transfer_close counted it as expired: evicted <= expired always. */
    atomic_fetch_add(&w->srv->st_evicted, 1);
    /* Its socket may have an event further down this batch: freed after it. */
    t->h.kind = HANDLE_DEAD;
    t->unext = w->dead;
    w->dead = t;
}

/* One more under a shared limit (all transfers, or all unanswered ones) for
 * t, which holds its prefix place already. When the limit is reached, an
 * unanswered transfer makes room if fairness allows (unacked_victim); the
 * place it frees is taken even if another worker got there first, so a
 * limit may be passed by one per worker. */
static bool place_take(struct worker *w, struct transfer *t, atomic_uint_fast64_t *counter,
                       unsigned max)
{
    struct transfer *victim;

    if (atomic_fetch_add(counter, 1) < max)
        return true;
    atomic_fetch_sub(counter, 1);
    victim = unacked_victim(w, t->started_ms, peer_table_held(w->srv->prefixes, t->prefix));
    if (victim == NULL)
        return false;
    unacked_evict(w, victim);
    atomic_fetch_add(counter, 1);
    return true;
}

/* Admission, in the order that spends least on a flood: the unanswered
 * budget of the request's prefix, the transfers of its client, all
 * transfers, the unanswered budget in all (the last two may end an
 * unanswered transfer to make room). 0, or -1 with the refusal in *why; on
 * refusal nothing is held. */
static int admit(struct worker *w, struct transfer *t, const struct request_meta *rm,
                 enum refusal *why)
{
    struct tftp_server *srv = w->srv;
    const struct sockaddr *sa = (const struct sockaddr *)&rm->peer;
    struct peer_key prefix, client;

    *why = REFUSED_CLIENT; /* an address of no family we know: never reached */
    if (peer_key_make(sa, PEER_SCOPE_PREFIX, &prefix) != 0 ||
        peer_key_make(sa, PEER_SCOPE_CLIENT, &client) != 0)
        return -1;
    t->started_ms = now_ms();
    t->prefix = peer_table_acquire(srv->prefixes, &prefix, w->max_unacked_prefix);
    if (t->prefix == NULL) {
        *why = REFUSED_UNACKED_PREFIX;
        return -1;
    }
    t->client = peer_table_acquire(srv->clients, &client, w->max_per_client);
    if (t->client == NULL)
        goto undo;
    *why = REFUSED_TRANSFERS;
    if (!place_take(w, t, &srv->active, w->max_transfers))
        goto undo;
    *why = REFUSED_UNACKED;
    t->unacked = place_take(w, t, &srv->unacked, w->max_unacked);
    if (t->unacked)
        return 0;
    atomic_fetch_sub(&srv->active, 1);
undo:
    peer_table_release(srv->clients, t->client);
    t->client = NULL;
    unacked_give_back(srv, t);
    return -1;
}

/* Gives back what admit() took, for a request that failed before it started. */
static void admit_undo(struct tftp_server *srv, struct transfer *t)
{
    unacked_give_back(srv, t);
    peer_table_release(srv->clients, t->client);
    t->client = NULL;
    atomic_fetch_sub(&srv->active, 1);
}

static int transfer_open_file(struct transfer *t, struct resolver *r, const char *name,
                              const struct request_meta *rm, enum tftp_mode mode, uint64_t *size)
{
    struct resolver_file f;
    int rc = resolver_open(r, name, (const struct sockaddr *)&rm->peer, &f);
    int enc;

    if (rc != RESOLVER_OK)
        return rc;
    *size = f.size;
    t->fd = f.fd;
    if (mode != TFTP_MODE_NETASCII)
        return 0;
    rc = netascii_copy(f.fd, f.size, &enc, size);
    close(f.fd);
    t->fd = -1;
    if (rc != 0)
        return RESOLVER_IO;
    t->fd = enc;
    return 0;
}

/* The refusal of a request at admission: counted, answered, logged at a limited rate. */
static void request_refuse(struct worker *w, struct listener *l, struct msghdr *m,
                           const struct transfer *t, enum refusal why)
{
    atomic_fetch_add(&w->srv->st_refused[why], 1);
    reject(w, l, m, t->peer, t->name, TFTP_ERR_UNDEFINED, refusal_text[why]);
}

/* The transfer socket, registered with epoll; its path MTU caps blksize.
 * 0, or -1 (the client has had its ERROR where one is due). */
static int transfer_connect(struct worker *w, struct listener *l, struct msghdr *m,
                            struct transfer *t, const struct request_meta *rm,
                            struct tftp_session_limits *lim)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &t->h};
    uint32_t mtu_blk;

    t->sock = transfer_socket(rm);
    if (t->sock < 0) {
        log_warn("no transfer socket for %s: %s", t->peer, strerror(-t->sock));
        listener_send_error(w, l, m, TFTP_ERR_UNDEFINED, "Internal error");
        return -1;
    }
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, t->sock, &ev) != 0)
        return -1;
    mtu_blk = path_blksize(t->sock, (const struct sockaddr *)&rm->peer);
    if (mtu_blk < lim->blksize_max)
        lim->blksize_max = mtu_blk;
    return 0;
}

static void request_start(struct worker *w, struct listener *l, struct msghdr *m,
                          const struct request_meta *rm, const struct tftp_request *req)
{
    struct transfer *t = calloc(1, sizeof(*t));
    struct tftp_session_limits lim = w->limits;
    struct tftp_session_out out;
    enum refusal why;
    const char *msg;
    uint64_t size;
    int rc;

    if (t == NULL)
        return;
    t->h.kind = HANDLE_TRANSFER;
    t->w = w;
    t->heap_idx = SIZE_MAX;
    t->sock = t->fd = -1;
    addr_format((const struct sockaddr *)&rm->peer, t->peer, sizeof(t->peer));
    log_clean(req->filename, req->filename_len, t->name, sizeof(t->name));
    if (admit(w, t, rm, &why) != 0) {
        request_refuse(w, l, m, t, why);
        free(t);
        return;
    }
    rc = transfer_open_file(t, w->resolver, req->filename, rm, req->mode, &size);
    if (rc != 0) {
        uint16_t code = tftp_wire_error_for(rc, &msg);

        reject(w, l, m, t->peer, t->name, code, msg);
        goto fail;
    }
    if (transfer_connect(w, l, m, t, rm, &lim) != 0)
        goto fail;
    w->active++;
    /* The end line says all of it; this one is for debugging (a flood
     * would otherwise write one per request). */
    log_debug("RRQ \"%s\" from %s (%s, %llu bytes)", t->name, t->peer,
              req->mode == TFTP_MODE_NETASCII ? "netascii" : "octet", (unsigned long long)size);
    tftp_session_start(&t->sess, &lim, &req->opts, req->mode, size, t->started_ms, &out);
    /* Listed once its session is set up: the lister reads size and sizes;
     * eviction may end it from now on. */
    transfer_list_add(w, t);
    unacked_link(w, t);
    transfer_apply(t, &out);
    return;
fail:
    if (t->sock >= 0)
        close(t->sock);
    if (t->fd >= 0)
        close(t->fd);
    admit_undo(w->srv, t);
    free(t);
}

static void request_handle(struct worker *w, struct listener *l, struct msghdr *m,
                           const uint8_t *buf, size_t len, const struct request_meta *rm)
{
    struct tftp_request req;
    char peer[ADDR_TEXT_MAX], name[LOG_CLEAN_MAX];
    const char *msg;
    uint16_t code;
    int rc = (m->msg_flags & MSG_TRUNC) ? TFTP_PARSE_TOO_LONG
                                        : tftp_packet_parse_request(buf, len, &req);

    /* An ERROR is never answered (RFC 1350 section 7): no error ping-pong
     * with a client that reports our own error back to port 69. */
    if (len >= 2 && buf[0] == 0 && buf[1] == TFTP_OP_ERROR)
        return;
    atomic_fetch_add(&w->srv->st_requests, 1);
    if (rc == TFTP_PARSE_OK && req.op == TFTP_OP_RRQ) {
        request_start(w, l, m, rm, &req);
        return;
    }
    addr_format((const struct sockaddr *)&rm->peer, peer, sizeof(peer));
    if (rc == TFTP_PARSE_OK) {
        /* This appliance never accepts files over TFTP. */
        log_clean(req.filename, req.filename_len, name, sizeof(name));
        reject(w, l, m, peer, name, TFTP_ERR_ACCESS,
               "Access violation: this server does not accept uploads");
        return;
    }
    code = tftp_packet_wire_error(rc, &msg);
    if (noise_line_ok(w->srv))
        log_info("malformed request from %s (%zu bytes): %s", peer, len, msg);
    listener_send_error(w, l, m, code, msg);
}

static void listener_on_event(struct worker *w, struct listener *l)
{
    uint8_t buf[TFTP_REQUEST_MAX + 1];
    union {
        char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctl;

    for (int i = 0; i < RECV_BURST && !w->draining; i++) {
        struct request_meta rm = {0};
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr m = {.msg_name = &rm.peer,
                           .msg_namelen = sizeof(rm.peer),
                           .msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = ctl.b,
                           .msg_controllen = sizeof(ctl.b)};
        ssize_t n = recvmsg(l->fd, &m, MSG_DONTWAIT);

        if (n < 0)
            return;
        rm.peer_len = m.msg_namelen;
        meta_from_cmsg(&m, &rm, l->family);
        /* Keep the pktinfo so errors leave from the address asked. */
        request_handle(w, l, &m, buf, (size_t)n, &rm);
    }
}

/* ---- worker loop ---- */

static void worker_refresh(struct worker *w)
{
    struct tftp_server *srv = w->srv;
    unsigned gen = atomic_load(&srv->gen);
    struct resolver *old;

    if (gen == w->gen_seen)
        return;
    pthread_mutex_lock(&srv->lock);
    w->limits = srv->params.limits;
    w->max_transfers = srv->params.max_transfers;
    w->max_per_client = srv->params.max_transfers_per_client;
    w->max_unacked = srv->params.max_unacked;
    w->max_unacked_prefix = srv->params.max_unacked_per_prefix;
    old = w->resolver;
    w->resolver = resolver_ref(srv->params.resolver);
    w->gen_seen = gen;
    pthread_mutex_unlock(&srv->lock);
    if (old != NULL)
        resolver_unref(old);
}

static void worker_close_listeners(struct worker *w)
{
    for (unsigned i = 0; i < w->n_listeners; i++) {
        if (w->listeners[i].fd < 0)
            continue;
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->listeners[i].fd, NULL);
        close(w->listeners[i].fd);
        w->listeners[i].fd = -1;
    }
}

static void worker_on_wake(struct worker *w)
{
    uint64_t v;

    if (read(w->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        log_debug("wake read: %s", strerror(errno));
    worker_refresh(w);
    if (atomic_load(&w->srv->stopping) && !w->draining) {
        w->draining = true;
        worker_close_listeners(w);
    }
}

static void worker_run_timers(struct worker *w)
{
    uint64_t now = now_ms();

    while (w->heap_len > 0 && heap_key(w->heap[0]) <= now) {
        struct transfer *t = w->heap[0];
        struct tftp_session_out out;

        tftp_session_on_timeout(&t->sess, now, &out);
        if (out.send_count > 0 || out.send_oack)
            log_debug("resend to %s from block %llu", t->peer, (unsigned long long)out.send_first);
        transfer_apply(t, &out);
    }
}

static int worker_wait_ms(struct worker *w)
{
    uint64_t now = now_ms(), next = UINT64_MAX, noise = atomic_load(&w->srv->noise_due);

    if (w->heap_len > 0)
        next = heap_key(w->heap[0]);
    if (noise != 0 && noise < next)
        next = noise;
    if (w->draining) {
        uint64_t d = atomic_load(&w->srv->stop_deadline_ms);

        if (d < next)
            next = d;
    }
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}

/* Frees the transfers ended by another handle's event in the last batch. */
static void worker_bury(struct worker *w)
{
    while (w->dead != NULL) {
        struct transfer *t = w->dead;

        w->dead = t->unext;
        free(t);
    }
}

static void worker_dispatch(struct worker *w, struct epoll_event *ev)
{
    struct handle *h = ev->data.ptr;

    switch (h->kind) {
    case HANDLE_LISTENER:
        listener_on_event(w, (struct listener *)h);
        break;
    case HANDLE_TRANSFER:
        transfer_on_event((struct transfer *)h, ev->events);
        break;
    case HANDLE_WAKE:
        worker_on_wake(w);
        break;
    case HANDLE_DEAD:
        break;
    }
}

static void worker_abort_all(struct worker *w)
{
    while (w->heap_len > 0) {
        struct transfer *t = w->heap[0];

        transfer_send_error(t, TFTP_ERR_UNDEFINED, "Server shutting down");
        tftp_session_on_error(&t->sess);
        transfer_end(t, "server shutting down");
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[EVENTS_MAX];

    worker_refresh(w);
    for (;;) {
        int n = epoll_wait(w->epfd, evs, EVENTS_MAX, worker_wait_ms(w));

        for (int i = 0; i < n; i++)
            worker_dispatch(w, &evs[i]);
        worker_bury(w);
        worker_run_timers(w);
        noise_tick(w->srv, now_ms());
        if (w->draining && (w->active == 0 || now_ms() >= atomic_load(&w->srv->stop_deadline_ms)))
            break;
    }
    worker_abort_all(w);
    return NULL;
}

/* ---- setup ---- */

static int listener_open(struct listener *l, const struct net_listen *cl)
{
    int one = 1, zero = 0, rcvbuf = LISTEN_RCVBUF, s, rc;
    int family = cl->addr.ss_family;

    s = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    /* A fleet rebooting at once sends thousands of requests in a burst; the
     * default buffer (~208 KiB) drops them. FORCE works as root, before the
     * privilege drop; otherwise the kernel caps the plain request. */
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)&cl->addr;
        int v6only = IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) ? 0 : 1;

        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, v6only ? &one : &zero, sizeof(int));
        /* Dual-stack: IPv4 requests are reported as v4-mapped addresses. */
        setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    } else {
        setsockopt(s, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    }
    if (bind(s, (const struct sockaddr *)&cl->addr, cl->len) != 0) {
        rc = -errno;
        close(s);
        return rc;
    }
    l->h.kind = HANDLE_LISTENER;
    l->fd = s;
    l->family = family;
    return 0;
}

/* SO_REUSEPORT would let a second loadsd of the same user share the port
 * and silently split requests: first bind without it, alone, to find out. */
static int listen_probe(const struct net_listen *cl)
{
    int family = cl->addr.ss_family, zero = 0, one = 1, rc = 0;
    int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (s < 0)
        return -errno;
    if (family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)&cl->addr;

        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY,
                   IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) ? &zero : &one, sizeof(int));
    }
    if (bind(s, (const struct sockaddr *)&cl->addr, cl->len) != 0)
        rc = -errno;
    close(s);
    return rc;
}

static int worker_init(struct worker *w, struct tftp_server *srv,
                       const struct tftp_server_params *p)
{
    struct epoll_event ev;
    int rc;

    w->srv = srv;
    w->wakefd = -1;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0)
        return -errno;
    w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wakefd < 0)
        return -errno;
    w->wake.kind = HANDLE_WAKE;
    ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &w->wake};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) != 0)
        return -errno;
    w->buf = malloc(BATCH_BYTES > TFTP_BLKSIZE_MAX ? BATCH_BYTES : TFTP_BLKSIZE_MAX);
    w->listeners = calloc(p->listen_count, sizeof(*w->listeners));
    if (w->buf == NULL || w->listeners == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < p->listen_count; i++)
        w->listeners[i].fd = -1;
    for (unsigned i = 0; i < p->listen_count; i++) {
        rc = listener_open(&w->listeners[i], &p->listen[i]);
        if (rc != 0) {
            log_error("cannot listen on %s: %s", p->listen[i].text, strerror(-rc));
            return rc;
        }
        w->n_listeners = i + 1;
        ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &w->listeners[i].h};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->listeners[i].fd, &ev) != 0)
            return -errno;
    }
    return 0;
}

static void worker_destroy(struct worker *w)
{
    pthread_mutex_destroy(&w->list_lock);
    worker_close_listeners(w);
    if (w->epfd >= 0)
        close(w->epfd);
    if (w->wakefd >= 0)
        close(w->wakefd);
    if (w->resolver != NULL)
        resolver_unref(w->resolver);
    free(w->listeners);
    free(w->heap);
    free(w->buf);
}

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned)n : 1;
}

static void params_store(struct tftp_server *srv, const struct tftp_server_params *p)
{
    struct resolver *old = srv->params.resolver;

    srv->params = *p;
    srv->params.listen = NULL;
    srv->params.resolver = resolver_ref(p->resolver);
    if (old != NULL)
        resolver_unref(old);
}

int tftp_server_open(struct tftp_server **out, const struct tftp_server_params *p)
{
    struct tftp_server *srv = calloc(1, sizeof(*srv));
    int rc = -ENOMEM;

    if (srv == NULL)
        return rc;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_mutex_init(&srv->noise_lock, NULL);
    log_ratelimit_init(&srv->noise, NOISE_WINDOW_MS, NOISE_BURST);
    params_store(srv, p);
    rc = peer_table_new(&srv->clients);
    if (rc == 0)
        rc = peer_table_new(&srv->prefixes);
    if (rc != 0)
        goto out;
    rc = -ENOMEM;
    atomic_store(&srv->gen, 1);
    srv->n_workers = p->threads ? p->threads : online_cpus();
    srv->workers = calloc(srv->n_workers, sizeof(*srv->workers));
    if (srv->workers == NULL)
        goto out;
    for (unsigned i = 0; i < srv->n_workers; i++) {
        srv->workers[i].epfd = -1;
        pthread_mutex_init(&srv->workers[i].list_lock, NULL);
    }
    for (unsigned i = 0; i < p->listen_count; i++) {
        rc = listen_probe(&p->listen[i]);
        if (rc != 0) {
            log_error("cannot listen on %s: %s%s", p->listen[i].text, strerror(-rc),
                      rc == -EADDRINUSE ? " (is another TFTP server running?)" : "");
            goto out;
        }
    }
    for (unsigned i = 0; i < srv->n_workers; i++) {
        rc = worker_init(&srv->workers[i], srv, p);
        if (rc != 0)
            goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        tftp_server_free(srv);
    else
        *out = srv;
    return rc;
}

int tftp_server_start(struct tftp_server *srv)
{
    for (unsigned i = 0; i < srv->n_workers; i++) {
        int rc = pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);

        if (rc != 0)
            return -rc;
        srv->workers[i].started = true;
    }
    return 0;
}

static void server_wake_all(struct tftp_server *srv)
{
    uint64_t one = 1;

    for (unsigned i = 0; i < srv->n_workers; i++)
        if (write(srv->workers[i].wakefd, &one, sizeof(one)) < 0)
            log_debug("wake write: %s", strerror(errno));
}

void tftp_server_update(struct tftp_server *srv, const struct tftp_server_params *p)
{
    pthread_mutex_lock(&srv->lock);
    params_store(srv, p);
    atomic_fetch_add(&srv->gen, 1);
    pthread_mutex_unlock(&srv->lock);
    server_wake_all(srv);
}

void tftp_server_stop(struct tftp_server *srv, unsigned grace_ms)
{
    atomic_store(&srv->stop_deadline_ms, now_ms() + grace_ms);
    atomic_store(&srv->stopping, true);
    server_wake_all(srv);
    for (unsigned i = 0; i < srv->n_workers; i++) {
        if (srv->workers[i].started)
            pthread_join(srv->workers[i].thread, NULL);
        srv->workers[i].started = false;
    }
}

void tftp_server_free(struct tftp_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->workers != NULL) {
        for (unsigned i = 0; i < srv->n_workers; i++)
            worker_destroy(&srv->workers[i]);
        free(srv->workers);
    }
    if (srv->params.resolver != NULL)
        resolver_unref(srv->params.resolver);
    peer_table_free(srv->clients);
    peer_table_free(srv->prefixes);
    pthread_mutex_destroy(&srv->noise_lock);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

void tftp_server_get_stats(struct tftp_server *srv, struct tftp_server_stats *out)
{
    out->requests = atomic_load(&srv->st_requests);
    out->transfers_active = atomic_load(&srv->active);
    out->transfers_done = atomic_load(&srv->st_done);
    out->transfers_failed = atomic_load(&srv->st_failed);
    out->refused_transfers = atomic_load(&srv->st_refused[REFUSED_TRANSFERS]);
    out->refused_client = atomic_load(&srv->st_refused[REFUSED_CLIENT]);
    out->refused_unacked = atomic_load(&srv->st_refused[REFUSED_UNACKED]);
    out->refused_unacked_prefix = atomic_load(&srv->st_refused[REFUSED_UNACKED_PREFIX]);
    out->refused_busy = out->refused_transfers + out->refused_client + out->refused_unacked +
                        out->refused_unacked_prefix;
    out->transfers_unacked = atomic_load(&srv->unacked);
    /* Evicted first: each eviction counts as expired before it counts as evicted. */
    out->unacked_evicted = atomic_load(&srv->st_evicted);
    out->unacked_expired = atomic_load(&srv->st_expired);
    out->errors_sent = atomic_load(&srv->st_errors);
    out->bytes_sent = atomic_load(&srv->st_bytes);
}

static void transfer_info(const struct transfer *t, uint64_t now, struct tftp_transfer_info *out)
{
    uint64_t acked = atomic_load_explicit(&t->acked_bytes, memory_order_relaxed);

    memset(out, 0, sizeof(*out));
    snprintf(out->peer, sizeof(out->peer), "%s", t->peer);
    snprintf(out->name, sizeof(out->name), "%s", t->name);
    out->size = t->sess.size;
    out->acked_bytes = acked < out->size ? acked : out->size;
    out->elapsed_ms = now - t->started_ms;
    out->blksize = t->sess.blksize;
    out->windowsize = t->sess.windowsize;
}

size_t tftp_server_list_transfers(struct tftp_server *srv, size_t max,
                                  void (*cb)(void *arg, const struct tftp_transfer_info *t),
                                  void *arg)
{
    struct tftp_transfer_info info;
    uint64_t now = now_ms();
    size_t n = 0;

    for (unsigned i = 0; i < srv->n_workers && n < max; i++) {
        struct worker *w = &srv->workers[i];

        pthread_mutex_lock(&w->list_lock);
        for (const struct transfer *t = w->transfers; t != NULL && n < max; t = t->next, n++) {
            transfer_info(t, now, &info);
            cb(arg, &info);
        }
        pthread_mutex_unlock(&w->list_lock);
    }
    return n;
}
