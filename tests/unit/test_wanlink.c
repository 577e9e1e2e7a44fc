/* test_wanlink.c: table tests for the WAN link scheduler: departure and
 * arrival times, tail drop at the byte and packet limits, loss, the ring's
 * memory bound and wrap-around, delivery in order. Time is passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/tools/wanlink.h"

#define US 1000ull
#define MS 1000000ull
/* 8 Mbit/s: one byte takes exactly one microsecond. */
#define RATE_8M 8000000ull

struct offer {
    uint64_t at_ns;
    size_t len;
    enum wanlink_verdict verdict;
    uint64_t arrive_ns; /* when queued: when it is due at the far end */
};

struct link_case {
    const char *name;
    struct wanlink_params p;
    struct offer offers[8];
};

static const struct link_case cases[] = {
    {"serialised back to back, then idle",
     {.rate_bps = RATE_8M, .delay_ns = 10 * MS, .queue_packets = 1000},
     {{0, 1000, WANLINK_QUEUED, 1000 * US + 10 * MS},
      {0, 500, WANLINK_QUEUED, 1500 * US + 10 * MS},
      {200 * US, 100, WANLINK_QUEUED, 1600 * US + 10 * MS},
      {5 * MS, 100, WANLINK_QUEUED, 5100 * US + 10 * MS}}},
    {"384 kbit/s: a 1500-byte packet takes 31.25 ms",
     {.rate_bps = 384000, .delay_ns = 70 * MS, .queue_packets = 10},
     {{0, 1500, WANLINK_QUEUED, 31250 * US + 70 * MS},
      {1 * MS, 92, WANLINK_QUEUED, 31250 * US + 1916667 + 70 * MS}}},
    {"fractional delay, rounding up to the nanosecond",
     {.rate_bps = 3000000, .delay_ns = 500 * US, .queue_packets = 10},
     {{0, 1, WANLINK_QUEUED, 2667 + 500 * US}}},
    {"no rate: delay only, never a queue",
     {.rate_bps = 0, .delay_ns = 1 * MS, .queue_packets = 1},
     {{0, 1500, WANLINK_QUEUED, 1 * MS},
      {0, 1500, WANLINK_QUEUED, 1 * MS},
      {0, 1500, WANLINK_QUEUED, 1 * MS},
      {3, 60, WANLINK_QUEUED, 1 * MS + 3}}},
    {"byte limit: the packet on the wire does not count",
     {.rate_bps = RATE_8M, .queue_bytes = 1500},
     {{0, 1000, WANLINK_QUEUED, 1000 * US},
      {0, 1000, WANLINK_QUEUED, 2000 * US},
      {0, 600, WANLINK_DROP_QUEUE, 0},
      {0, 500, WANLINK_QUEUED, 2500 * US},
      {0, 1, WANLINK_DROP_QUEUE, 0},
      {1000 * US, 1000, WANLINK_QUEUED, 3500 * US}, /* the second went onto the wire */
      {1000 * US, 1, WANLINK_DROP_QUEUE, 0}}},
    {"packet limit",
     {.rate_bps = RATE_8M, .queue_packets = 2},
     {{0, 100, WANLINK_QUEUED, 100 * US},
      {0, 100, WANLINK_QUEUED, 200 * US},
      {0, 100, WANLINK_QUEUED, 300 * US},
      {0, 100, WANLINK_DROP_QUEUE, 0},
      {99 * US, 40, WANLINK_DROP_QUEUE, 0},
      {100 * US, 40, WANLINK_QUEUED, 340 * US}}},
    {"both limits: the first one reached drops",
     {.rate_bps = RATE_8M, .queue_bytes = 250, .queue_packets = 3},
     {{0, 100, WANLINK_QUEUED, 100 * US},
      {0, 100, WANLINK_QUEUED, 200 * US},
      {0, 100, WANLINK_QUEUED, 300 * US},
      {0, 100, WANLINK_DROP_QUEUE, 0},
      {0, 50, WANLINK_QUEUED, 350 * US},
      {0, 1, WANLINK_DROP_QUEUE, 0}}},
    {"a queue limit below one packet: only what goes onto the wire at once",
     {.rate_bps = RATE_8M, .queue_bytes = 10},
     {{0, 100, WANLINK_QUEUED, 100 * US},
      {50 * US, 100, WANLINK_DROP_QUEUE, 0},
      {100 * US, 100, WANLINK_QUEUED, 200 * US}}},
    {"certain loss",
     {.rate_bps = RATE_8M, .queue_packets = 10, .loss_ppb = 1000000000},
     {{0, 100, WANLINK_DROP_LOSS, 0}, {1, 100, WANLINK_DROP_LOSS, 0}}},
    {"empty and oversized packets",
     {.rate_bps = RATE_8M, .queue_packets = 10},
     {{0, 0, WANLINK_DROP_MEMORY, 0}, {0, WANLINK_PKT_MAX + 1, WANLINK_DROP_MEMORY, 0}}},
};

static void run_case(const struct link_case *c)
{
    struct wanlink l;
    uint8_t pkt[WANLINK_PKT_MAX + 1];
    uint64_t want_arrivals[8];
    size_t queued = 0, drops[4] = {0};

    memset(pkt, 0, sizeof(pkt));
    assert_int_equal(wanlink_init(&l, &c->p, 1500, 1), 0);
    for (size_t i = 0; i < 8 && (c->offers[i].len || c->offers[i].verdict); i++) {
        const struct offer *o = &c->offers[i];
        enum wanlink_verdict v = wanlink_offer(&l, o->at_ns, pkt, o->len);

        if (v != o->verdict)
            fail_msg("%s: offer %zu: verdict %d, expected %d", c->name, i, v, o->verdict);
        if (v == WANLINK_QUEUED)
            want_arrivals[queued++] = o->arrive_ns;
        drops[v]++;
    }
    assert_int_equal(l.st.dropped_queue, drops[WANLINK_DROP_QUEUE]);
    assert_int_equal(l.st.dropped_loss, drops[WANLINK_DROP_LOSS]);
    assert_int_equal(l.st.dropped_memory, drops[WANLINK_DROP_MEMORY]);
    for (size_t i = 0; i < queued; i++) {
        const uint8_t *got;
        size_t len;

        if (wanlink_next_due(&l) != want_arrivals[i])
            fail_msg("%s: packet %zu due at %llu, expected %llu", c->name, i,
                     (unsigned long long)wanlink_next_due(&l),
                     (unsigned long long)want_arrivals[i]);
        assert_false(wanlink_peek(&l, want_arrivals[i] - 1, &got, &len));
        assert_true(wanlink_peek(&l, want_arrivals[i], &got, &len));
        wanlink_pop(&l);
    }
    assert_int_equal(wanlink_next_due(&l), UINT64_MAX);
    wanlink_free(&l);
}

static void test_wanlink_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

/* The backlog the limits count: bytes and packets whose serialisation has
 * not started, going down as time passes and as packets are delivered. */
static void test_wanlink_backlog(void **state)
{
    struct wanlink_params p = {.rate_bps = RATE_8M, .delay_ns = 1 * MS, .queue_packets = 100};
    struct wanlink l;
    uint8_t pkt[1000] = {0};

    (void)state;
    assert_int_equal(wanlink_init(&l, &p, 1500, 1), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(wanlink_offer(&l, 0, pkt, 1000), WANLINK_QUEUED);
    assert_int_equal(wanlink_backlog_packets(&l, 0), 3);
    assert_int_equal(wanlink_backlog_bytes(&l, 0), 3000);
    assert_int_equal(wanlink_backlog_packets(&l, 999 * US), 3);
    assert_int_equal(wanlink_backlog_packets(&l, 1000 * US), 2);
    assert_int_equal(wanlink_backlog_bytes(&l, 3000 * US), 0);
    wanlink_free(&l);
}

/* Loss 0.1 over 100000 packets: within 5 standard deviations of 10000
 * (sd 94.9); the same seed gives the same count, another seed another. */
static unsigned lost_of(uint64_t seed)
{
    struct wanlink_params p = {.loss_ppb = 100000000};
    struct wanlink l;
    uint8_t pkt[40] = {0};
    unsigned lost = 0;

    assert_int_equal(wanlink_init(&l, &p, 1500, seed), 0);
    for (int i = 0; i < 100000; i++) {
        const uint8_t *got;
        size_t len;

        lost += wanlink_offer(&l, (uint64_t)i, pkt, sizeof(pkt)) == WANLINK_DROP_LOSS;
        while (wanlink_peek(&l, (uint64_t)i, &got, &len))
            wanlink_pop(&l);
    }
    assert_int_equal(l.st.dropped_loss, lost);
    wanlink_free(&l);
    return lost;
}

static void test_wanlink_loss(void **state)
{
    unsigned a = lost_of(7);

    (void)state;
    assert_in_range(a, 10000 - 475, 10000 + 475);
    assert_int_equal(lost_of(7), a);
    assert_int_not_equal(lost_of(8), a);
}

/* Packets of many sizes through a ring that wraps many times come out in
 * order, byte for byte, none dropped: one offered every `every` ns, the far
 * end looking every `step` ns. */
static void run_wraps(const struct wanlink_params *p, uint64_t every, uint64_t step)
{
    struct wanlink l;
    uint8_t pkt[1500];
    uint64_t now = 0, sent = 0, got_n = 0;

    assert_int_equal(wanlink_init(&l, p, 1500, 1), 0);
    while (got_n < 20000) {
        const uint8_t *got;
        size_t len, want = 40 + (size_t)(sent * 97 % 1461);

        memset(pkt, (int)(sent & 0xff), want);
        if (sent < 20000 && now % every == 0 && wanlink_offer(&l, now, pkt, want) == WANLINK_QUEUED)
            sent++;
        while (wanlink_peek(&l, now, &got, &len)) {
            assert_int_equal(len, 40 + (size_t)(got_n * 97 % 1461));
            for (size_t i = 0; i < len; i++)
                assert_int_equal(got[i], got_n & 0xff);
            wanlink_pop(&l);
            got_n++;
        }
        now += step;
    }
    assert_int_equal(sent, 20000);
    assert_int_equal(l.st.dropped_queue + l.st.dropped_memory, 0);
    wanlink_free(&l);
}

static void test_wanlink_ring_wraps(void **state)
{
    /* A 2.5 MB ring at 200 Mbit/s; an 8.5 KB one at 80 kbit/s, where a
     * packet rarely fits before the end. */
    struct wanlink_params fast = {.rate_bps = 200000000, .delay_ns = 2 * MS, .queue_packets = 50};
    struct wanlink_params slow = {.rate_bps = 80000, .queue_packets = 3};
    size_t bytes, slots;

    (void)state;
    run_wraps(&fast, 50 * US, 50 * US);
    assert_int_equal(wanlink_ring_size(&slow, 1500, &bytes, &slots), 0);
    assert_true(bytes < 9000);
    run_wraps(&slow, 100 * MS, 10 * MS);
}

/* A caller that falls behind fills the ring: offers then fail for memory,
 * never overwrite a packet not yet delivered, and succeed again once
 * packets are taken out, wherever the free space lies. */
static void test_wanlink_ring_full(void **state)
{
    struct wanlink_params p = {.rate_bps = 80000, .queue_packets = 3};
    struct wanlink l;
    uint8_t pkt[1500];
    uint64_t now = 0, sent = 0, got_n = 0, full = 0;

    (void)state;
    assert_int_equal(wanlink_init(&l, &p, 1500, 1), 0);
    for (int round = 0; round < 300; round++) {
        const uint8_t *got;
        size_t len, want = 40 + (size_t)(sent * 389 % 1461);
        enum wanlink_verdict v;

        memset(pkt, (int)(sent & 0xff), want);
        while ((v = wanlink_offer(&l, now, pkt, want)) == WANLINK_QUEUED) {
            now += want * 100000ull; /* its serialisation time: no queue */
            want = 40 + (size_t)(++sent * 389 % 1461);
            memset(pkt, (int)(sent & 0xff), want);
        }
        assert_int_equal(v, WANLINK_DROP_MEMORY);
        full++;
        for (int k = 0; k <= round % 4 && wanlink_peek(&l, UINT64_MAX - 1, &got, &len); k++) {
            assert_int_equal(len, 40 + (size_t)(got_n * 389 % 1461));
            for (size_t i = 0; i < len; i++)
                assert_int_equal(got[i], got_n & 0xff);
            wanlink_pop(&l);
            got_n++;
        }
    }
    assert_int_equal(l.st.dropped_memory, full);
    assert_true(got_n > 200);
    wanlink_free(&l);
}

/* Without a rate, packets in flight are bounded by memory: 64 KiB packets
 * held for 10 s fill WANLINK_UNLIMITED_FLIGHT and the rest are dropped. */
static void test_wanlink_memory_bound(void **state)
{
    struct wanlink_params p = {.delay_ns = 10000 * MS, .queue_packets = 1};
    static uint8_t pkt[WANLINK_PKT_MAX];
    struct wanlink l;
    unsigned queued = 0;

    (void)state;
    assert_int_equal(wanlink_init(&l, &p, 1500, 1), 0);
    for (int i = 0; i < 400; i++)
        queued += wanlink_offer(&l, (uint64_t)i, pkt, sizeof(pkt)) == WANLINK_QUEUED;
    assert_in_range(queued, WANLINK_UNLIMITED_FLIGHT / WANLINK_PKT_MAX - 1,
                    (WANLINK_UNLIMITED_FLIGHT + 3000) / WANLINK_PKT_MAX);
    assert_int_equal(l.st.dropped_memory, 400 - queued);
    wanlink_free(&l);
}

struct size_case {
    struct wanlink_params p;
    unsigned mtu;
    int rc;
    size_t min_bytes; /* at least: queue + one packet + rate x (delay + lateness) */
};

static const struct size_case sizes[] = {
    {{.rate_bps = 384000, .delay_ns = 70 * MS, .queue_bytes = 32768}, 1500, 0, 32768 + 1500 + 8160},
    {{.rate_bps = 100000000, .delay_ns = 10 * MS, .queue_bytes = 375000},
     1500,
     0,
     375000 + 1500 + 1375000},
    {{.rate_bps = 100000000, .delay_ns = 10 * MS, .queue_packets = 100},
     1500,
     0,
     150000 + 1500 + 1375000},
    {{.rate_bps = 0, .delay_ns = 10 * MS, .queue_packets = 100}, 1500, 0, WANLINK_UNLIMITED_FLIGHT},
    /* 10 Gbit/s for 10 s is 12.5 GB in flight: over the cap. */
    {{.rate_bps = 10000000000ull, .delay_ns = 10000 * MS, .queue_packets = 100}, 1500, -1, 0},
    {{.rate_bps = 1000000000ull, .delay_ns = 10 * MS, .queue_bytes = 2000ull << 20}, 1500, -1, 0},
    {{.rate_bps = 384000, .queue_packets = 10}, 39, -1, 0},
    {{.rate_bps = 384000, .queue_packets = 10}, 65536, -1, 0},
};

static void test_wanlink_ring_size(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t bytes = 0, slots = 0;
        int rc = wanlink_ring_size(&sizes[i].p, sizes[i].mtu, &bytes, &slots);

        assert_int_equal(rc, sizes[i].rc);
        if (rc == 0) {
            assert_true(bytes >= sizes[i].min_bytes);
            assert_true(bytes <= sizes[i].min_bytes + 2 * 1500 + 1);
            assert_true(slots >= bytes / WANLINK_SLOT_BYTES);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wanlink_table),     cmocka_unit_test(test_wanlink_backlog),
        cmocka_unit_test(test_wanlink_loss),      cmocka_unit_test(test_wanlink_ring_wraps),
        cmocka_unit_test(test_wanlink_ring_full), cmocka_unit_test(test_wanlink_memory_bound),
        cmocka_unit_test(test_wanlink_ring_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
