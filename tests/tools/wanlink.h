/* wanlink.h: one direction of an emulated WAN link (rate, one-way delay,
 * tail-drop queue, random loss, optional corruption) as a pure scheduler over
 * a preallocated packet ring. No I/O and no clock: the caller passes time in. */
#ifndef LOADSD_WANLINK_H
#define LOADSD_WANLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest IP packet a TUN device hands over. */
#define WANLINK_PKT_MAX 65535u
/* The most memory one direction may hold (packet bytes and slots together). */
#define WANLINK_MEM_MAX (1024ull << 20)
/* How late the caller may deliver a packet (a timer that fires late, a busy
 * machine): the ring has room for this much more traffic in flight. */
#define WANLINK_LATE_NS 100000000ull
/* Packets in flight on a link without a rate limit are bounded by memory only. */
#define WANLINK_UNLIMITED_FLIGHT (16u << 20)
/* The smallest packet the slot count is sized for (an IPv4 header plus a TCP
 * header: a bare ACK). Smaller ones still pass while slots are left. */
#define WANLINK_SLOT_BYTES 40u

struct wanlink_params {
    uint64_t rate_bps;      /* bits per second; 0: no rate limit */
    uint64_t delay_ns;      /* one-way delay, added after serialisation */
    uint64_t queue_bytes;   /* limit on bytes waiting to be serialised; 0: none */
    uint64_t queue_packets; /* limit on packets waiting to be serialised; 0: none */
    uint32_t loss_ppb;      /* random loss in parts per 10^9 */
    uint64_t corrupt_every; /* corrupt every N-th packet with a TCP/UDP payload; 0: never */
};

struct wanlink_stats {
    uint64_t packets, bytes;           /* forwarded (counted by the caller once written) */
    uint64_t dropped_queue;            /* tail drop at the queue limit */
    uint64_t dropped_loss;             /* random loss */
    uint64_t dropped_memory;           /* the ring was full although the queue was not */
    uint64_t corrupted;                /* packets whose payload byte was flipped */
    uint64_t write_errors;             /* counted by the caller */
    uint64_t late_ns_sum, late_ns_max; /* delivery after the due time (the caller's) */
};

enum wanlink_verdict {
    WANLINK_QUEUED,
    WANLINK_DROP_LOSS,
    WANLINK_DROP_QUEUE,
    WANLINK_DROP_MEMORY,
};

struct wanlink_slot {
    uint64_t start_ns;  /* serialisation starts (waiting in the queue until then) */
    uint64_t arrive_ns; /* due at the far end */
    size_t off;         /* in the byte ring */
    uint32_t len;
};

struct wanlink {
    struct wanlink_params p;
    uint8_t *buf;
    size_t buf_size, tail; /* tail: where the next packet's bytes go */
    struct wanlink_slot *slots;
    size_t nslots, head, count; /* ring of slots, oldest at head */
    size_t waiting;             /* packets at the ring's end not yet started */
    uint64_t waiting_bytes;
    uint64_t link_free_ns; /* when the last accepted packet is serialised */
    uint64_t rng;
    uint64_t corrupt_seen;
    struct wanlink_stats st;
};

/* The ring size for params with packets of at most mtu bytes: the queue, one
 * packet being serialised, rate x (delay + WANLINK_LATE_NS) in flight. 0 and
 * *bytes and *slots set, or -1 when the total passes WANLINK_MEM_MAX. */
int wanlink_ring_size(const struct wanlink_params *p, unsigned mtu, size_t *bytes, size_t *slots);

/* Allocates the ring (wanlink_ring_size) and seeds the loss generator.
 * 0, -1 when the ring would pass the cap, -2 out of memory. */
int wanlink_init(struct wanlink *l, const struct wanlink_params *p, unsigned mtu, uint64_t seed);
void wanlink_free(struct wanlink *l);

/* One packet offered at now_ns: lost, tail-dropped, dropped for want of ring
 * space, or copied into the ring (corrupted when its turn has come). Time
 * must not go backwards between calls. */
enum wanlink_verdict wanlink_offer(struct wanlink *l, uint64_t now_ns, const uint8_t *pkt,
                                   size_t len);

/* When the oldest packet is due at the far end; UINT64_MAX when none waits. */
uint64_t wanlink_next_due(const struct wanlink *l);

/* The oldest packet when it is due at now_ns (true), left in the ring until
 * wanlink_pop(). */
bool wanlink_peek(const struct wanlink *l, uint64_t now_ns, const uint8_t **pkt, size_t *len);
void wanlink_pop(struct wanlink *l);

/* Bytes and packets waiting to be serialised at now_ns (what the limits count). */
uint64_t wanlink_backlog_bytes(struct wanlink *l, uint64_t now_ns);
size_t wanlink_backlog_packets(struct wanlink *l, uint64_t now_ns);

#endif
