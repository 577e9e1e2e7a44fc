/* wanlink.c: one direction of an emulated WAN link: serialisation at a rate,
 * a one-way delay, a tail-drop queue and random loss over a preallocated ring.
 * Pure: no I/O, no clock, no allocation after wanlink_init(). */
#include "tests/tools/wanlink.h"

#include <stdlib.h>
#include <string.h>

#include "tests/tools/wanpkt.h"

/* The queue part of the ring: the byte limit, or the packet limit in packets
 * of mtu bytes, whichever is smaller; a link without a rate never queues. */
static uint64_t ring_queue_bytes(const struct wanlink_params *p, unsigned mtu)
{
    uint64_t q = UINT64_MAX;

    if (p->rate_bps == 0)
        return 0;
    if (p->queue_bytes)
        q = p->queue_bytes;
    if (p->queue_packets && p->queue_packets < WANLINK_MEM_MAX / mtu && p->queue_packets * mtu < q)
        q = p->queue_packets * mtu;
    return q;
}

/* Bytes in flight: rate x (delay + lateness), or a fixed amount without a rate. */
static uint64_t ring_flight_bytes(const struct wanlink_params *p)
{
    uint64_t ns = p->delay_ns + WANLINK_LATE_NS;

    if (p->rate_bps == 0)
        return WANLINK_UNLIMITED_FLIGHT;
    /* rate <= 10^10 and ns <= ~10^10 would overflow as a product: divide first. */
    return (p->rate_bps / 8) * (ns / 1000) / 1000000 + 1;
}

int wanlink_ring_size(const struct wanlink_params *p, unsigned mtu, size_t *bytes, size_t *slots)
{
    uint64_t q, total, nslots;

    if (mtu < WANLINK_SLOT_BYTES || mtu > WANLINK_PKT_MAX)
        return -1;
    q = ring_queue_bytes(p, mtu);
    if (q > WANLINK_MEM_MAX)
        return -1;
    total = q + 2ull * mtu + ring_flight_bytes(p);
    nslots = total / WANLINK_SLOT_BYTES + 2;
    if (total + nslots * sizeof(struct wanlink_slot) > WANLINK_MEM_MAX)
        return -1;
    *bytes = (size_t)total;
    *slots = (size_t)nslots;
    return 0;
}

/* splitmix64: a small, well-mixed generator; fixed seeds give fixed runs. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int wanlink_init(struct wanlink *l, const struct wanlink_params *p, unsigned mtu, uint64_t seed)
{
    size_t bytes, nslots;

    memset(l, 0, sizeof(*l));
    if (wanlink_ring_size(p, mtu, &bytes, &nslots) < 0)
        return -1;
    l->buf = malloc(bytes);
    l->slots = calloc(nslots, sizeof(*l->slots));
    if (!l->buf || !l->slots) {
        wanlink_free(l);
        return -2;
    }
    l->p = *p;
    l->buf_size = bytes;
    l->nslots = nslots;
    l->rng = seed;
    return 0;
}

void wanlink_free(struct wanlink *l)
{
    free(l->buf);
    free(l->slots);
    l->buf = NULL;
    l->slots = NULL;
}

static struct wanlink_slot *slot_at(const struct wanlink *l, size_t i)
{
    return &l->slots[(l->head + i) % l->nslots];
}

/* Packets whose serialisation has started by now leave the queue. */
static void settle(struct wanlink *l, uint64_t now_ns)
{
    while (l->waiting > 0) {
        struct wanlink_slot *s = slot_at(l, l->count - l->waiting);

        if (s->start_ns > now_ns)
            break;
        l->waiting--;
        l->waiting_bytes -= s->len;
    }
}

uint64_t wanlink_backlog_bytes(struct wanlink *l, uint64_t now_ns)
{
    settle(l, now_ns);
    return l->waiting_bytes;
}

size_t wanlink_backlog_packets(struct wanlink *l, uint64_t now_ns)
{
    settle(l, now_ns);
    return l->waiting;
}

static bool lost(struct wanlink *l)
{
    uint64_t r;

    if (l->p.loss_ppb == 0)
        return false;
    /* The top 32 bits scaled to [0, 10^9). */
    r = ((rng_next(&l->rng) >> 32) * 1000000000ull) >> 32;
    return r < l->p.loss_ppb;
}

static bool queue_full(struct wanlink *l, uint64_t now_ns, size_t len)
{
    settle(l, now_ns);
    if (l->p.rate_bps == 0 || l->link_free_ns <= now_ns)
        return false; /* goes onto the wire at once: never waits */
    if (l->p.queue_packets && l->waiting + 1 > l->p.queue_packets)
        return true;
    return l->p.queue_bytes && l->waiting_bytes + len > l->p.queue_bytes;
}

/* Where len bytes fit in the byte ring, or SIZE_MAX. Packets are contiguous:
 * one that does not fit before the end starts again at 0. */
static size_t ring_place(const struct wanlink *l, size_t len)
{
    size_t head_off;

    if (l->count == l->nslots)
        return SIZE_MAX;
    if (l->count == 0)
        return len <= l->buf_size ? 0 : SIZE_MAX;
    head_off = slot_at(l, 0)->off;
    if (l->tail > head_off) { /* not wrapped: room at the end, then before head */
        if (l->buf_size - l->tail >= len)
            return l->tail;
        return len <= head_off ? 0 : SIZE_MAX;
    }
    return head_off - l->tail >= len ? l->tail : SIZE_MAX;
}

/* Serialisation time of len bytes, rounded up to the next nanosecond. */
static uint64_t ser_ns(const struct wanlink *l, size_t len)
{
    if (l->p.rate_bps == 0)
        return 0;
    return ((uint64_t)len * 8000000000ull + l->p.rate_bps - 1) / l->p.rate_bps;
}

static void maybe_corrupt(struct wanlink *l, uint8_t *pkt, size_t len)
{
    size_t off, plen;

    if (l->p.corrupt_every == 0 || wanpkt_payload(pkt, len, &off, &plen) < 0)
        return;
    if (++l->corrupt_seen % l->p.corrupt_every == 0 && wanpkt_corrupt(pkt, len) == 0)
        l->st.corrupted++;
}

static void enqueue(struct wanlink *l, uint64_t now_ns, size_t off, const uint8_t *pkt, size_t len)
{
    struct wanlink_slot *s = slot_at(l, l->count);
    uint64_t start = l->link_free_ns > now_ns ? l->link_free_ns : now_ns;

    memcpy(l->buf + off, pkt, len);
    maybe_corrupt(l, l->buf + off, len);
    s->off = off;
    s->len = (uint32_t)len;
    s->start_ns = start;
    l->link_free_ns = start + ser_ns(l, len);
    s->arrive_ns = l->link_free_ns + l->p.delay_ns;
    l->tail = off + len;
    l->count++;
    if (start > now_ns) {
        l->waiting++;
        l->waiting_bytes += len;
    }
}

enum wanlink_verdict wanlink_offer(struct wanlink *l, uint64_t now_ns, const uint8_t *pkt,
                                   size_t len)
{
    size_t off;

    if (lost(l)) {
        l->st.dropped_loss++;
        return WANLINK_DROP_LOSS;
    }
    if (queue_full(l, now_ns, len)) {
        l->st.dropped_queue++;
        return WANLINK_DROP_QUEUE;
    }
    off = len == 0 || len > WANLINK_PKT_MAX ? SIZE_MAX : ring_place(l, len);
    if (off == SIZE_MAX) {
        l->st.dropped_memory++;
        return WANLINK_DROP_MEMORY;
    }
    enqueue(l, now_ns, off, pkt, len);
    return WANLINK_QUEUED;
}

uint64_t wanlink_next_due(const struct wanlink *l)
{
    return l->count ? slot_at(l, 0)->arrive_ns : UINT64_MAX;
}

bool wanlink_peek(const struct wanlink *l, uint64_t now_ns, const uint8_t **pkt, size_t *len)
{
    const struct wanlink_slot *s;

    if (l->count == 0)
        return false;
    s = slot_at(l, 0);
    if (s->arrive_ns > now_ns)
        return false;
    *pkt = l->buf + s->off;
    *len = s->len;
    return true;
}

void wanlink_pop(struct wanlink *l)
{
    struct wanlink_slot *s;

    if (l->count == 0)
        return;
    s = slot_at(l, 0);
    if (l->waiting == l->count) { /* delivered, so its serialisation has started */
        l->waiting--;
        l->waiting_bytes -= s->len;
    }
    l->head = (l->head + 1) % l->nslots;
    l->count--;
    if (l->count == 0)
        l->tail = 0;
}
