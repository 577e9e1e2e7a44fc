/* test_tftp_session.c: cmocka tests of the read-transfer state machine with a
 * fake clock (a number we advance) and a scripted client that loses, duplicates
 * and reorders DATA and ACK. Never opens a socket or reads the real clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "server/tftp/tftp_session.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define T0           UINT64_C(1000000) /* the fake clock starts here */

static const struct tftp_session_limits default_limits = {
    .blksize_max = 65464,
    .windowsize_max = 64,
    .rto_initial_ms = 1000,
    .rto_min_ms = 200,
    .rto_max_ms = 8000,
    .retries_max = 5,
    .rollover_to_one = false,
};

struct harness {
    struct tftp_session s;
    struct tftp_session_out out;
    struct tftp_session_limits lim;
    uint64_t now;
};

static void h_init(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    h->lim = default_limits;
    h->now = T0;
}

static struct tftp_options opts_make(unsigned bits, uint32_t blksize, uint32_t timeout,
                                     uint32_t windowsize)
{
    struct tftp_options o = {0};

    o.present = bits;
    o.blksize = blksize;
    o.timeout = timeout;
    o.windowsize = windowsize;
    return o;
}

static void h_start(struct harness *h, const struct tftp_options *asked, enum tftp_mode mode,
                    uint64_t size)
{
    struct tftp_options none = {0};

    tftp_session_start(&h->s, &h->lim, asked != NULL ? asked : &none, mode, size, h->now, &h->out);
}

static void h_ack(struct harness *h, uint64_t after_ms, uint16_t wire)
{
    h->now += after_ms;
    tftp_session_on_ack(&h->s, wire, h->now, &h->out);
}

/* Advances the clock to the deadline and fires the timer. */
static void h_timeout(struct harness *h)
{
    uint64_t d = tftp_session_deadline(&h->s);

    assert_true(d != 0);
    assert_true(d >= h->now);
    h->now = d;
    tftp_session_on_timeout(&h->s, h->now, &h->out);
}

static void expect_window(const struct harness *h, uint64_t first, uint64_t count)
{
    if (h->out.send_oack || h->out.send_first != first || h->out.send_count != count)
        fail_msg("want DATA %llu x%llu, got oack=%d first=%llu count=%llu",
                 (unsigned long long)first, (unsigned long long)count, h->out.send_oack,
                 (unsigned long long)h->out.send_first, (unsigned long long)h->out.send_count);
}

static void expect_none(const struct harness *h)
{
    assert_false(h->out.send_oack);
    assert_int_equal(h->out.send_count, 0);
    assert_int_equal(h->out.send_error, TFTP_FAIL_NONE);
}

static void expect_oack(const struct harness *h)
{
    assert_true(h->out.send_oack);
    assert_int_equal(h->out.send_count, 0);
}

static void expect_end(const struct harness *h, enum tftp_session_state state)
{
    assert_int_equal(tftp_session_get_state(&h->s), state);
    assert_int_equal(tftp_session_complete(&h->s), state == TFTP_SESSION_DONE);
    assert_true(tftp_session_finished(&h->s));
    assert_int_equal(tftp_session_deadline(&h->s), 0);
}

/* The wire number of absolute block b, computed independently of the session. */
static uint16_t wire_of(bool roll_to_one, uint64_t b)
{
    if (!roll_to_one || b <= 65535)
        return (uint16_t)(b & 0xffff);
    return (uint16_t)((b - 65536) % 65535 + 1);
}

static uint16_t h_wire(const struct harness *h, uint64_t b)
{
    uint16_t w = tftp_session_wire_block(&h->s, b);

    assert_int_equal(w, wire_of(h->lim.rollover_to_one, b));
    return w;
}

/* Starts with OACK and answers it with ACK 0. */
static void h_start_windowed(struct harness *h, uint32_t blksize, uint32_t window, uint64_t size)
{
    struct tftp_options o = opts_make(TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE, blksize, 0, window);

    h_start(h, &o, TFTP_MODE_OCTET, size);
    expect_oack(h);
    h_ack(h, 1, 0);
    assert_int_equal(h->s.state, TFTP_SESSION_SENDING);
}

/* ---- RFC 1350: no options ---- */

static void test_no_options_sends_data1(void **state)
{
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, NULL, TFTP_MODE_OCTET, 1000);
    expect_window(&h, 1, 1);
    assert_int_equal(tftp_session_accepted(&h.s)->present, 0);
    assert_int_equal(h.s.state, TFTP_SESSION_SENDING);
    assert_false(tftp_session_finished(&h.s));
    assert_int_equal(tftp_session_deadline(&h.s), T0 + 1000);
    assert_int_equal(tftp_session_block_len(&h.s, 1), 512);
    assert_int_equal(tftp_session_block_len(&h.s, 2), 1000 - 512);
}

static void run_lockstep(struct harness *h, uint64_t size, uint64_t blocks)
{
    for (uint64_t b = 1; b < blocks; b++) {
        expect_window(h, b, 1);
        assert_int_equal(tftp_session_block_len(&h->s, b), 512);
        /* A duplicate of the previous ACK changes nothing (Sorcerer's Apprentice). */
        h_ack(h, 3, h_wire(h, b - 1));
        expect_none(h);
        h_ack(h, 3, h_wire(h, b));
    }
    expect_window(h, blocks, 1);
    assert_int_equal(tftp_session_block_len(&h->s, blocks), size - (blocks - 1) * 512);
    h_ack(h, 3, h_wire(h, blocks));
    expect_none(h);
    expect_end(h, TFTP_SESSION_DONE);
    /* Nothing moves a finished session. */
    h_ack(h, 3, h_wire(h, blocks));
    expect_none(h);
    tftp_session_on_timeout(&h->s, h->now + 100000, &h->out);
    expect_none(h);
    expect_end(h, TFTP_SESSION_DONE);
}

static void test_lockstep_rfc1350(void **state)
{
    struct tftp_options w1 = opts_make(TFTP_OPT_WINDOWSIZE, 0, 0, 1);
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, NULL, TFTP_MODE_OCTET, 3 * 512 + 100);
    run_lockstep(&h, 3 * 512 + 100, 4);
    /* windowsize 1, negotiated, is the same protocol after the OACK. */
    h_init(&h);
    h_start(&h, &w1, TFTP_MODE_OCTET, 10 * 512 + 1);
    expect_oack(&h);
    assert_int_equal(tftp_session_accepted(&h.s)->windowsize, 1);
    h_ack(&h, 5, 0);
    run_lockstep(&h, 10 * 512 + 1, 11);
}

/* ---- negotiation (RFC 2347-2349, 7440) ---- */

struct nego_case {
    unsigned asked;
    uint32_t blksize, timeout, windowsize;
    uint64_t tsize;
    enum tftp_mode mode;
    uint32_t blksize_max; /* 0: the default limits */
    unsigned want;        /* bits of the OACK; 0: no OACK */
    uint32_t want_blksize, want_timeout, want_windowsize;
};

static const struct nego_case nego_cases[] = {
    {TFTP_OPT_BLKSIZE, 1468, 0, 0, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_BLKSIZE, 1468, 0, 0},
    {TFTP_OPT_BLKSIZE, 8, 0, 0, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_BLKSIZE, 8, 0, 0},
    {TFTP_OPT_BLKSIZE, 65464, 0, 0, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_BLKSIZE, 65464, 0, 0},
    {TFTP_OPT_BLKSIZE, 65465, 0, 0, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_BLKSIZE, 65464, 0, 0},
    {TFTP_OPT_BLKSIZE, 100000, 0, 0, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_BLKSIZE, 65464, 0, 0},
    /* Clamped to what the path takes (limits.blksize_max). */
    {TFTP_OPT_BLKSIZE, 65464, 0, 0, 0, TFTP_MODE_OCTET, 1468, TFTP_OPT_BLKSIZE, 1468, 0, 0},
    {TFTP_OPT_BLKSIZE, 1024, 0, 0, 0, TFTP_MODE_OCTET, 1468, TFTP_OPT_BLKSIZE, 1024, 0, 0},
    /* A misconfigured cap never leads past RFC 2348. */
    {TFTP_OPT_BLKSIZE, 100000, 0, 0, 0, TFTP_MODE_OCTET, 90000, TFTP_OPT_BLKSIZE, 65464, 0, 0},
    /* timeout is echoed exactly. */
    {TFTP_OPT_TIMEOUT, 0, 1, 0, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_TIMEOUT, 512, 1, 0},
    {TFTP_OPT_TIMEOUT, 0, 255, 0, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_TIMEOUT, 512, 255, 0},
    /* windowsize clamped to windowsize_max (64). */
    {TFTP_OPT_WINDOWSIZE, 0, 0, 16, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_WINDOWSIZE, 512, 0, 16},
    {TFTP_OPT_WINDOWSIZE, 0, 0, 64, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_WINDOWSIZE, 512, 0, 64},
    {TFTP_OPT_WINDOWSIZE, 0, 0, 65535, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_WINDOWSIZE, 512, 0, 64},
    /* tsize: answered in octet, left out in netascii. */
    {TFTP_OPT_TSIZE, 0, 0, 0, 0, TFTP_MODE_OCTET, 0, TFTP_OPT_TSIZE, 512, 0, 0},
    {TFTP_OPT_TSIZE, 0, 0, 0, 99, TFTP_MODE_OCTET, 0, TFTP_OPT_TSIZE, 512, 0, 0},
    {TFTP_OPT_TSIZE, 0, 0, 0, 0, TFTP_MODE_NETASCII, 0, 0, 512, 0, 0},
    {TFTP_OPT_TSIZE | TFTP_OPT_BLKSIZE, 1024, 0, 0, 0, TFTP_MODE_NETASCII, 0, TFTP_OPT_BLKSIZE,
     1024, 0, 0},
    /* Everything at once. */
    {TFTP_OPT_BLKSIZE | TFTP_OPT_TIMEOUT | TFTP_OPT_TSIZE | TFTP_OPT_WINDOWSIZE, 1468, 3, 8, 0,
     TFTP_MODE_OCTET, 0, TFTP_OPT_BLKSIZE | TFTP_OPT_TIMEOUT | TFTP_OPT_TSIZE | TFTP_OPT_WINDOWSIZE,
     1468, 3, 8},
};

static void check_nego_case(const struct nego_case *c)
{
    struct tftp_options asked = opts_make(c->asked, c->blksize, c->timeout, c->windowsize);
    const struct tftp_options *acc;
    const uint64_t size = 123456;
    struct harness h;

    asked.tsize = c->tsize;
    h_init(&h);
    if (c->blksize_max != 0)
        h.lim.blksize_max = c->blksize_max;
    h_start(&h, &asked, c->mode, size);
    acc = tftp_session_accepted(&h.s);
    assert_int_equal(acc->present, c->want);
    if (c->want == 0) {
        /* Nothing accepted: DATA 1 straight away, at the default block size. */
        expect_window(&h, 1, 1);
        assert_int_equal(tftp_session_block_len(&h.s, 1), 512);
        return;
    }
    expect_oack(&h);
    assert_int_equal(h.s.state, TFTP_SESSION_OACK_SENT);
    if (c->want & TFTP_OPT_BLKSIZE)
        assert_int_equal(acc->blksize, c->want_blksize);
    if (c->want & TFTP_OPT_TIMEOUT)
        assert_int_equal(acc->timeout, c->want_timeout);
    if (c->want & TFTP_OPT_TSIZE)
        assert_int_equal(acc->tsize, size);
    if (c->want & TFTP_OPT_WINDOWSIZE)
        assert_int_equal(acc->windowsize, c->want_windowsize);
    /* The session works with what it answered. */
    assert_int_equal(tftp_session_block_len(&h.s, 1), c->want_blksize);
    h_ack(&h, 1, 0);
    expect_window(&h, 1, (c->want & TFTP_OPT_WINDOWSIZE) ? c->want_windowsize : 1);
}

static void test_negotiation_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(nego_cases); i++)
        check_nego_case(&nego_cases[i]);
}

static void test_negotiated_timeout_first_deadline(void **state)
{
    static const uint32_t secs[] = {1, 3, 255};
    struct harness h;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(secs); i++) {
        struct tftp_options o = opts_make(TFTP_OPT_TIMEOUT, 0, secs[i], 0);

        h_init(&h);
        h_start(&h, &o, TFTP_MODE_OCTET, 5000);
        expect_oack(&h);
        assert_int_equal(tftp_session_deadline(&h.s), T0 + secs[i] * 1000u);
        /* A negotiated timeout is used as is, not adapted to the RTT. */
        h_ack(&h, 40, 0);
        expect_window(&h, 1, 1);
        assert_int_equal(tftp_session_deadline(&h.s), h.now + secs[i] * 1000u);
        h_ack(&h, 40, 1);
        expect_window(&h, 2, 1);
        assert_int_equal(tftp_session_deadline(&h.s), h.now + secs[i] * 1000u);
    }
}

/* ---- after the OACK ---- */

static void test_oack_wait_for_ack0(void **state)
{
    struct tftp_options o = opts_make(TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE, 1024, 0, 4);
    static const uint16_t others[] = {1, 2, 4, 5, 65535};
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, &o, TFTP_MODE_OCTET, 100000);
    expect_oack(&h);
    assert_int_equal(tftp_session_deadline(&h.s), T0 + 1000);
    for (size_t i = 0; i < ARRAY_LEN(others); i++) {
        h_ack(&h, 1, others[i]);
        expect_none(&h);
        assert_int_equal(h.s.state, TFTP_SESSION_OACK_SENT);
    }
    /* The timer resends the OACK, not data. */
    h_timeout(&h);
    expect_oack(&h);
    assert_int_equal(h.s.state, TFTP_SESSION_OACK_SENT);
    h_ack(&h, 10, 0);
    expect_window(&h, 1, 4);
    /* A second ACK 0 is a duplicate. */
    h_ack(&h, 1, 0);
    expect_none(&h);
}

/* RFC 2347: a client may answer the OACK with ERROR 8 (the UEFI tsize probe). */
static void test_oack_then_error(void **state)
{
    struct tftp_options o = opts_make(TFTP_OPT_TSIZE, 0, 0, 0);
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, &o, TFTP_MODE_OCTET, 7777);
    expect_oack(&h);
    assert_int_equal(tftp_session_accepted(&h.s)->tsize, 7777);
    tftp_session_on_error(&h.s);
    expect_end(&h, TFTP_SESSION_PEER_ERROR);
    /* Quiet: nothing more goes out. */
    h_ack(&h, 1, 0);
    expect_none(&h);
    tftp_session_on_timeout(&h.s, h.now + 60000, &h.out);
    expect_none(&h);
    expect_end(&h, TFTP_SESSION_PEER_ERROR);
}

static void test_error_while_sending(void **state)
{
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, NULL, TFTP_MODE_OCTET, 5000);
    h_ack(&h, 5, 1);
    expect_window(&h, 2, 1);
    tftp_session_on_error(&h.s);
    expect_end(&h, TFTP_SESSION_PEER_ERROR);
    h_ack(&h, 5, 2);
    expect_none(&h);
    /* An ERROR after the end changes nothing. */
    h_init(&h);
    h_start(&h, NULL, TFTP_MODE_OCTET, 10);
    h_ack(&h, 5, 1);
    expect_end(&h, TFTP_SESSION_DONE);
    tftp_session_on_error(&h.s);
    expect_end(&h, TFTP_SESSION_DONE);
}

/* ---- the final block ---- */

struct last_case {
    uint32_t blksize;
    uint64_t size;
    uint64_t blocks;
    uint32_t last_len;
};

static void test_final_block(void **state)
{
    static const struct last_case cases[] = {
        {512, 0, 1, 0},         {512, 1, 1, 1},
        {512, 511, 1, 511},     {512, 512, 2, 0},
        {512, 513, 2, 1},       {512, 1024, 3, 0},
        {1468, 1468 * 3, 4, 0}, {1468, 1468 * 3 + 7, 4, 7},
        {8, 8, 2, 0},           {65464, 65463, 1, 65463},
    };
    struct harness h;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct last_case *c = &cases[i];
        uint64_t total = 0;

        h_init(&h);
        if (c->blksize == 512)
            h_start(&h, NULL, TFTP_MODE_OCTET, c->size);
        else
            h_start_windowed(&h, c->blksize, 1, c->size);
        for (uint64_t b = 1; b <= c->blocks; b++) {
            uint32_t len = tftp_session_block_len(&h.s, b);

            expect_window(&h, b, 1);
            assert_int_equal(tftp_session_block_offset(&h.s, b), (b - 1) * c->blksize);
            assert_int_equal(len, b < c->blocks ? c->blksize : c->last_len);
            total += len;
            h_ack(&h, 2, h_wire(&h, b));
        }
        expect_end(&h, TFTP_SESSION_DONE);
        assert_int_equal(total, c->size);
    }
}

static void test_final_block_in_window(void **state)
{
    struct harness h;

    (void)state;
    /* 3 full blocks and the empty fourth go out in one window. */
    h_init(&h);
    h_start_windowed(&h, 512, 16, 3 * 512);
    expect_window(&h, 1, 4);
    assert_int_equal(tftp_session_block_len(&h.s, 4), 0);
    /* An ACK of a full block is a partial ACK, not the end. */
    h_ack(&h, 2, 3);
    expect_window(&h, 4, 1);
    assert_false(tftp_session_finished(&h.s));
    h_ack(&h, 2, 4);
    expect_end(&h, TFTP_SESSION_DONE);
}

/* ---- windows (RFC 7440) ---- */

static void test_windows_100_blocks(void **state)
{
    const uint64_t size = 512 * 99 + 100; /* block 100 carries 100 bytes */
    struct harness h;
    uint64_t first = 1;

    (void)state;
    h_init(&h);
    h_start_windowed(&h, 512, 16, size);
    while (first + 15 < 100) {
        expect_window(&h, first, 16);
        h_ack(&h, 20, h_wire(&h, first + 15));
        first += 16;
    }
    expect_window(&h, 97, 4);
    assert_int_equal(tftp_session_block_len(&h.s, 100), 100);
    /* Blocks past the end were never sent: ACKs of them are bogus. */
    h_ack(&h, 1, 101);
    expect_none(&h);
    h_ack(&h, 1, 112);
    expect_none(&h);
    assert_false(tftp_session_finished(&h.s));
    h_ack(&h, 20, 100);
    expect_none(&h);
    expect_end(&h, TFTP_SESSION_DONE);
}

static void test_window_partial_ack(void **state)
{
    struct harness h;

    (void)state;
    h_init(&h);
    h_start_windowed(&h, 512, 16, 512 * 200);
    expect_window(&h, 1, 16);
    /* The client saw 1..5 and a gap: the window restarts at 6. */
    h_ack(&h, 20, 5);
    expect_window(&h, 6, 16);
    h_ack(&h, 20, 21);
    expect_window(&h, 22, 16);
    /* ACK of the first block of the window. */
    h_ack(&h, 20, 22);
    expect_window(&h, 23, 16);
}

/* A DATA is lost: the client re-ACKs the last block it got in order. */
static void test_window_data_loss(void **state)
{
    struct harness h;

    (void)state;
    h_init(&h);
    h_start_windowed(&h, 512, 16, 512 * 200);
    expect_window(&h, 1, 16);
    /* DATA 7 dropped: 8 arrives out of order, the client ACKs 6. */
    h_ack(&h, 20, 6);
    expect_window(&h, 7, 16);
    /* The rest of the old window (9..16) makes the client repeat ACK 6. */
    h_ack(&h, 1, 6);
    expect_none(&h);
    h_ack(&h, 20, 22);
    expect_window(&h, 23, 16);
    /* The first block of a window lost: the client can only repeat ACK 22;
     * that is a duplicate and only the timer recovers. */
    h_ack(&h, 20, 22);
    expect_none(&h);
    h_timeout(&h);
    expect_window(&h, 23, 16);
}

/* No Sorcerer's Apprentice: a duplicate ACK never makes the server send. */
static void test_duplicate_acks(void **state)
{
    static const uint32_t windows[] = {1, 4, 16, 64};
    struct harness h;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(windows); i++) {
        uint64_t w = windows[i];

        h_init(&h);
        h_start_windowed(&h, 512, (uint32_t)w, 512 * 10000);
        expect_window(&h, 1, w);
        for (uint64_t k = 1; k <= 20; k++) {
            uint64_t deadline;

            h_ack(&h, 10, h_wire(&h, k * w));
            expect_window(&h, k * w + 1, w);
            deadline = tftp_session_deadline(&h.s);
            for (int d = 0; d < 3; d++) {
                h_ack(&h, 1, h_wire(&h, k * w));
                assert_int_equal(h.out.send_count, 0);
                assert_false(h.out.send_oack);
                /* Nor do they push the timer back. */
                assert_int_equal(tftp_session_deadline(&h.s), deadline);
            }
        }
    }
}

/* Reordered ACKs: an older one after a newer one is ignored; one beyond what
 * was sent is bogus. */
static void test_reordered_acks(void **state)
{
    struct harness h;

    (void)state;
    h_init(&h);
    h_start_windowed(&h, 512, 16, 512 * 200);
    expect_window(&h, 1, 16);
    h_ack(&h, 20, 16);
    expect_window(&h, 17, 16);
    h_ack(&h, 1, 5);
    expect_none(&h);
    h_ack(&h, 1, 0);
    expect_none(&h);
    h_ack(&h, 20, 20);
    expect_window(&h, 21, 16);
    h_ack(&h, 1, 16);
    expect_none(&h);
    h_ack(&h, 1, 19);
    expect_none(&h);
    /* Not yet sent: 37 and far beyond. */
    h_ack(&h, 1, 37);
    expect_none(&h);
    h_ack(&h, 1, 40000);
    expect_none(&h);
    h_ack(&h, 1, 65535);
    expect_none(&h);
    h_ack(&h, 20, 36);
    expect_window(&h, 37, 16);
}

/* ---- timeouts ---- */

static void test_timeout_backoff_and_give_up(void **state)
{
    /* RFC 6298 for one sample R = 600: SRTT 600, RTTVAR 300, RTO 600 + 4 * 300. */
    static const uint64_t rtos[] = {3600, 7200, 8000, 8000, 8000};
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, NULL, TFTP_MODE_OCTET, 512 * 10);
    h_ack(&h, 600, 1);
    expect_window(&h, 2, 1);
    assert_int_equal(tftp_session_deadline(&h.s), h.now + 1800);
    /* Calls before the deadline do nothing. */
    tftp_session_on_timeout(&h.s, tftp_session_deadline(&h.s) - 1, &h.out);
    expect_none(&h);
    for (size_t i = 0; i < ARRAY_LEN(rtos); i++) {
        h_timeout(&h);
        expect_window(&h, 2, 1);
        assert_int_equal(tftp_session_deadline(&h.s), h.now + rtos[i]);
    }
    /* retries_max (5) resends done: the next timeout gives up. */
    h_timeout(&h);
    expect_none(&h);
    expect_end(&h, TFTP_SESSION_TIMEOUT);
}

static void test_timeout_resends_from_acked(void **state)
{
    struct harness h;

    (void)state;
    h_init(&h);
    h_start_windowed(&h, 512, 16, 512 * 200);
    h_ack(&h, 20, 16);
    expect_window(&h, 17, 16);
    h_ack(&h, 20, 20);
    expect_window(&h, 21, 16);
    h_timeout(&h);
    expect_window(&h, 21, 16);
    h_timeout(&h);
    expect_window(&h, 21, 16);
    /* Progress resets the retry count: five more timeouts are allowed. */
    h_ack(&h, 20, 36);
    expect_window(&h, 37, 16);
    for (int i = 0; i < 5; i++) {
        h_timeout(&h);
        expect_window(&h, 37, 16);
    }
    h_timeout(&h);
    expect_end(&h, TFTP_SESSION_TIMEOUT);
}

/* A peer that never answered gets the first send and one resend, however
 * many retries_max allows (a request from a forged address is a poor amplifier). */
static void test_give_up_unproven(void **state)
{
    struct tftp_options o = opts_make(TFTP_OPT_BLKSIZE, 1468, 0, 0);
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, NULL, TFTP_MODE_OCTET, 512 * 10);
    expect_window(&h, 1, 1);
    assert_false(tftp_session_peer_proven(&h.s));
    h_timeout(&h);
    expect_window(&h, 1, 1);
    assert_int_equal(tftp_session_deadline(&h.s), h.now + 2000);
    h_timeout(&h);
    expect_none(&h);
    expect_end(&h, TFTP_SESSION_TIMEOUT);
    /* The same with an OACK nobody answers. */
    h_init(&h);
    h_start(&h, &o, TFTP_MODE_OCTET, 512 * 10);
    expect_oack(&h);
    h_timeout(&h);
    expect_oack(&h);
    h_timeout(&h);
    expect_none(&h);
    expect_end(&h, TFTP_SESSION_TIMEOUT);
    /* Once ACK 0 has come, the full retries_max applies. */
    h_init(&h);
    h_start(&h, &o, TFTP_MODE_OCTET, 1468 * 10);
    expect_oack(&h);
    h_ack(&h, 10, 0);
    assert_true(tftp_session_peer_proven(&h.s));
    expect_window(&h, 1, 1);
    for (int i = 0; i < 5; i++) {
        h_timeout(&h);
        expect_window(&h, 1, 1);
    }
    h_timeout(&h);
    expect_end(&h, TFTP_SESSION_TIMEOUT);
}

/* With a negotiated timeout T: deadline T first, then doubling up to rto_max;
 * a T above rto_max is never shortened. */
static void test_negotiated_timeout_backoff(void **state)
{
    struct tftp_options t1 = opts_make(TFTP_OPT_TIMEOUT, 0, 1, 0);
    struct tftp_options t20 = opts_make(TFTP_OPT_TIMEOUT, 0, 20, 0);
    static const uint64_t rtos[] = {2000, 4000, 8000, 8000, 8000};
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, &t1, TFTP_MODE_OCTET, 512 * 10);
    h_ack(&h, 50, 0);
    expect_window(&h, 1, 1);
    assert_int_equal(tftp_session_deadline(&h.s), h.now + 1000);
    for (size_t i = 0; i < ARRAY_LEN(rtos); i++) {
        h_timeout(&h);
        expect_window(&h, 1, 1);
        assert_int_equal(tftp_session_deadline(&h.s), h.now + rtos[i]);
    }
    h_init(&h);
    h_start(&h, &t20, TFTP_MODE_OCTET, 512 * 10);
    assert_int_equal(tftp_session_deadline(&h.s), T0 + 20000);
    h_ack(&h, 50, 0);
    for (int i = 0; i < 5; i++) {
        h_timeout(&h);
        expect_window(&h, 1, 1);
        assert_int_equal(tftp_session_deadline(&h.s), h.now + 20000);
    }
}

/* RFC 2349: the timeout is how long to wait before retransmitting. Backoff
 * applies to resends of the same window; once the client acknowledges new
 * data, a fresh window is again given exactly T seconds. */
static void test_negotiated_timeout_restored_after_loss(void **state)
{
    struct tftp_options t2 = opts_make(TFTP_OPT_TIMEOUT, 0, 2, 0);
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, &t2, TFTP_MODE_OCTET, 512 * 10);
    h_ack(&h, 50, 0);
    expect_window(&h, 1, 1);
    h_timeout(&h);
    expect_window(&h, 1, 1);
    assert_int_equal(tftp_session_deadline(&h.s), h.now + 4000);
    h_ack(&h, 50, 1);
    expect_window(&h, 2, 1);
    h_ack(&h, 50, 2);
    expect_window(&h, 3, 1);
    if (tftp_session_deadline(&h.s) != h.now + 2000)
        fail_msg("a fresh window after recovery waits %llu ms, the negotiated timeout is 2000",
                 (unsigned long long)(tftp_session_deadline(&h.s) - h.now));
}

/* ---- rollover ---- */

/* Lock-step over 65535 and past the second wrap, checking every wire number. */
static void check_rollover_lockstep(bool to_one, uint64_t blocks)
{
    struct harness h;

    h_init(&h);
    h.lim.rollover_to_one = to_one;
    h_start_windowed(&h, 8, 1, 8 * (blocks - 1) + 3);
    for (uint64_t b = 1; b <= blocks; b++) {
        uint16_t w = h_wire(&h, b);

        if (h.out.send_first != b || h.out.send_count != 1)
            fail_msg("block %llu: got %llu x%llu", (unsigned long long)b,
                     (unsigned long long)h.out.send_first, (unsigned long long)h.out.send_count);
        if (b == 65535 || b == (to_one ? 131070 : 131071))
            assert_int_equal(w, 65535);
        if (b == 65536 || b == (to_one ? 131071 : 131072))
            assert_int_equal(w, to_one ? 1 : 0);
        if (b == 65537)
            assert_int_equal(w, to_one ? 2 : 1);
        /* The previous block's ACK, repeated, is still a duplicate. */
        h_ack(&h, 0, h_wire(&h, b - 1));
        assert_int_equal(h.out.send_count, 0);
        h_ack(&h, 1, w);
    }
    expect_end(&h, TFTP_SESSION_DONE);
    assert_int_equal(tftp_session_block_len(&h.s, blocks), 3);
    assert_int_equal(tftp_session_block_offset(&h.s, blocks), 8 * (blocks - 1));
}

static void test_rollover_lockstep(void **state)
{
    (void)state;
    check_rollover_lockstep(false, 70000);
    check_rollover_lockstep(true, 70000);
    check_rollover_lockstep(false, 140000);
    check_rollover_lockstep(true, 140000);
}

/* A window of 16 spanning the wrap: 65530..65545. */
static void check_rollover_window(bool to_one)
{
    struct harness h;

    h_init(&h);
    h.lim.rollover_to_one = to_one;
    h_start_windowed(&h, 8, 16, 8 * 100000);
    for (uint64_t k = 1; k * 16 <= 65520; k++)
        h_ack(&h, 1, h_wire(&h, k * 16));
    expect_window(&h, 65521, 16);
    h_ack(&h, 1, h_wire(&h, 65529));
    expect_window(&h, 65530, 16);
    /* Older ACKs from before the wrap, and ACKs not sent yet, are ignored. */
    h_ack(&h, 1, 65529);
    expect_none(&h);
    h_ack(&h, 1, 65000);
    expect_none(&h);
    h_ack(&h, 1, h_wire(&h, 65546));
    expect_none(&h);
    /* A partial ACK of the block right after the wrap. */
    h_ack(&h, 1, h_wire(&h, 65536));
    expect_window(&h, 65537, 16);
    h_ack(&h, 1, h_wire(&h, 65535));
    expect_none(&h);
    if (to_one) {
        h_ack(&h, 1, 0); /* 0 is never a block number after the wrap */
        expect_none(&h);
    }
    /* The whole window, across the wrap. */
    h_ack(&h, 1, h_wire(&h, 65552));
    expect_window(&h, 65553, 16);
    h_timeout(&h);
    expect_window(&h, 65553, 16);
    h_ack(&h, 1, h_wire(&h, 65568));
    expect_window(&h, 65569, 16);
}

static void test_rollover_window(void **state)
{
    (void)state;
    check_rollover_window(false);
    check_rollover_window(true);
}

/* ---- block offsets and lengths ---- */

static void test_block_offset_len(void **state)
{
    const uint64_t big = UINT64_C(5000000000); /* past 4 GiB */
    struct harness h;

    (void)state;
    h_init(&h);
    h_start_windowed(&h, 1468, 1, 10000);
    assert_int_equal(tftp_session_block_offset(&h.s, 1), 0);
    assert_int_equal(tftp_session_block_len(&h.s, 1), 1468);
    assert_int_equal(tftp_session_block_offset(&h.s, 6), 5 * 1468);
    assert_int_equal(tftp_session_block_len(&h.s, 6), 1468);
    assert_int_equal(tftp_session_block_offset(&h.s, 7), 6 * 1468);
    assert_int_equal(tftp_session_block_len(&h.s, 7), 10000 - 6 * 1468);
    h_init(&h);
    h_start_windowed(&h, 65464, 1, big);
    assert_int_equal(tftp_session_block_offset(&h.s, 70000), UINT64_C(69999) * 65464);
    assert_int_equal(tftp_session_block_len(&h.s, 70000), 65464);
    assert_int_equal(tftp_session_block_len(&h.s, big / 65464 + 1), big % 65464);
}

/* ---- RTT adaptation (RFC 6298) and Karn's rule ---- */

struct rtt_ref {
    double srtt, rttvar;
    bool have;
};

static double rtt_ref_sample(struct rtt_ref *r, double sample, const struct tftp_session_limits *l)
{
    double rto, var;

    if (!r->have) {
        r->srtt = sample;
        r->rttvar = sample / 2;
        r->have = true;
    } else {
        r->rttvar =
            0.75 * r->rttvar + 0.25 * (r->srtt > sample ? r->srtt - sample : sample - r->srtt);
        r->srtt = 0.875 * r->srtt + 0.125 * sample;
    }
    var = 4 * r->rttvar > 10 ? 4 * r->rttvar : 10;
    if (var < l->rto_min_ms)
        var = l->rto_min_ms;
    rto = r->srtt + var;
    if (rto < l->rto_min_ms)
        rto = l->rto_min_ms;
    if (rto > l->rto_max_ms)
        rto = l->rto_max_ms;
    return rto;
}

/* Sends windows of 16 whose ACKs come rtts[i] ms later; after each, the RTO
 * (the next deadline minus now) must be within max(5 ms, 10%) of RFC 6298. */
static void check_rtt(uint32_t rto_min, const uint64_t *rtts, size_t n)
{
    struct rtt_ref ref = {0};
    struct harness h;
    uint64_t next = 1;

    h_init(&h);
    h.lim.rto_min_ms = rto_min;
    h_start_windowed(&h, 1468, 16, UINT64_C(1468) * 16 * 1000);
    /* The ACK 0 of the OACK (1 ms) is no sample for windows: the first
     * window's RTO is the initial one. */
    assert_int_equal(tftp_session_deadline(&h.s) - h.now, h.lim.rto_initial_ms);
    for (size_t i = 0; i < n; i++) {
        double want, slack;
        uint64_t got;

        expect_window(&h, next, 16);
        next += 16;
        h_ack(&h, rtts[i], h_wire(&h, next - 1));
        want = rtt_ref_sample(&ref, (double)rtts[i], &h.lim);
        slack = want / 10 > 5 ? want / 10 : 5;
        got = tftp_session_deadline(&h.s) - h.now;
        if ((double)got < want - slack || (double)got > want + slack)
            fail_msg("window %zu: rto %llu ms, RFC 6298 gives %.1f ms", i, (unsigned long long)got,
                     want);
    }
}

#define RTT_WINDOWS 40

/* 50 ms round trips: the RTO settles at 50 + rto_min (the variance term's
 * floor). */
static void test_rtt_floor(void **state)
{
    uint64_t rtts[RTT_WINDOWS];

    (void)state;
    for (size_t i = 0; i < RTT_WINDOWS; i++)
        rtts[i] = 50;
    check_rtt(200, rtts, RTT_WINDOWS);
}

/* With a low floor the estimator shows: a steady 50 ms path gives SRTT 50,
 * RTTVAR near 0, so an RTO near 50 + max(G, 4 * RTTVAR, rto_min) = 70. */
static void test_rtt_converges(void **state)
{
    uint64_t rtts[RTT_WINDOWS];

    (void)state;
    for (size_t i = 0; i < RTT_WINDOWS; i++)
        rtts[i] = 50;
    check_rtt(20, rtts, RTT_WINDOWS);
}

/* A slow, jittery path. */
static void test_rtt_jitter(void **state)
{
    uint64_t rtts[RTT_WINDOWS];

    (void)state;
    for (size_t i = 0; i < RTT_WINDOWS; i++)
        rtts[i] = 400 + (i % 3) * 150;
    check_rtt(200, rtts, RTT_WINDOWS);
}

/* A steady slow link (a 16-block window takes 600 ms to cross): RTTVAR
 * decays to nothing, yet the RTO keeps rto_min above SRTT, so an ACK queued
 * 100 ms behind another flow's packets resends nothing. (With the variance
 * term unfloored the RTO settled at 610 ms and the window went twice.) */
static void test_rtt_steady_slow(void **state)
{
    struct harness h;
    uint64_t next = 1;

    (void)state;
    h_init(&h);
    h_start_windowed(&h, 1468, 16, UINT64_C(1468) * 16 * 1000);
    for (int i = 0; i < RTT_WINDOWS; i++) {
        expect_window(&h, next, 16);
        next += 16;
        h_ack(&h, 600, h_wire(&h, next - 1));
    }
    assert_true(tftp_session_deadline(&h.s) - h.now >= 780); /* SRTT ~597 + 200 */
    expect_window(&h, next, 16);
    next += 16;
    h_ack(&h, 700, h_wire(&h, next - 1));
    expect_window(&h, next, 16);
}

/* Round trips past rto_max: the RTO stays at rto_max. */
static void test_rtt_cap(void **state)
{
    static const uint64_t rtts[] = {5000, 5000, 5000, 9000, 9000};

    (void)state;
    check_rtt(200, rtts, ARRAY_LEN(rtts));
}

/* Karn: the ACK of a resent window is no sample; the backed-off RTO stays
 * until a window sent once is acknowledged. */
static void test_rtt_karn(void **state)
{
    struct harness h;
    uint64_t rto;

    (void)state;
    h_init(&h);
    h.lim.rto_min_ms = 20;
    h_start_windowed(&h, 1468, 16, UINT64_C(1468) * 16 * 100);
    for (uint64_t k = 1; k <= 20; k++)
        h_ack(&h, 50, h_wire(&h, k * 16));
    rto = tftp_session_deadline(&h.s) - h.now;
    assert_true(rto < 200);
    h_timeout(&h);
    expect_window(&h, 321, 16);
    assert_int_equal(tftp_session_deadline(&h.s) - h.now, 2 * rto);
    /* The ACK comes 5 ms after the resend (the original was slow): no sample. */
    h_ack(&h, 5, h_wire(&h, 336));
    expect_window(&h, 337, 16);
    assert_int_equal(tftp_session_deadline(&h.s) - h.now, 2 * rto);
    /* The next window, sent once, is sampled again. */
    h_ack(&h, 50, h_wire(&h, 352));
    assert_true(tftp_session_deadline(&h.s) - h.now < 2 * rto);
    assert_true(tftp_session_deadline(&h.s) - h.now >= 50);
    /* The OACK too: a resent OACK's ACK 0 is no sample. */
    h_init(&h);
    h.lim.rto_min_ms = 20;
    {
        struct tftp_options o = opts_make(TFTP_OPT_BLKSIZE, 1468, 0, 0);

        h_start(&h, &o, TFTP_MODE_OCTET, 100000);
        h_timeout(&h);
        expect_oack(&h);
        h_ack(&h, 5, 0);
        expect_window(&h, 1, 1);
        assert_int_equal(tftp_session_deadline(&h.s) - h.now, 2000);
    }
}

/* ---- a scripted client over a scripted network ---- */

enum pkt_kind { PK_DATA, PK_ACK };

struct net_pkt {
    enum pkt_kind kind;
    uint64_t block;  /* DATA: absolute (the test's bookkeeping) */
    uint16_t wire;   /* on the wire */
    uint32_t len;    /* DATA payload */
    uint64_t offset; /* DATA: where the payload comes from */
    bool copy;       /* a duplicate made by the network */
};

#define NET_MAX 4096

struct net {
    struct net_pkt q[NET_MAX];
    size_t head, tail;
    uint64_t rng;
    unsigned drop_pct, dup_pct, swap_pct;
};

/* The receiver of RFC 7440: ACK at the end of each window and at the last
 * block; on a gap, ACK the last block received in order, once; old data (a
 * resend after a lost ACK) is answered the same way, but only when the client
 * has seen no progress for CLIENT_REACK_MS (its own timer), so that network
 * duplicates and overlapping windows do not each restart the window. */
#define CLIENT_REACK_MS 100

struct client {
    bool roll_to_one;
    uint32_t blksize, window;
    uint16_t last_wire; /* last block received in order */
    uint64_t got;       /* blocks received in order */
    uint64_t bytes;
    uint32_t in_window;
    bool gap_acked;
    uint64_t progress_ms; /* when the last in-order block or re-ACK happened */
    bool done;
};

static uint32_t net_rand(struct net *n)
{
    n->rng = n->rng * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (uint32_t)(n->rng >> 33);
}

static void net_push(struct net *n, const struct net_pkt *p)
{
    assert_true(n->tail - n->head < NET_MAX);
    n->q[n->tail++ % NET_MAX] = *p;
}

/* Sends through the lossy network: drop, duplicate, or swap with the previous. */
static void net_send(struct net *n, struct net_pkt p)
{
    if (net_rand(n) % 100 < n->drop_pct)
        return;
    net_push(n, &p);
    if (n->tail - n->head >= 2 && net_rand(n) % 100 < n->swap_pct) {
        struct net_pkt *a = &n->q[(n->tail - 2) % NET_MAX], *b = &n->q[(n->tail - 1) % NET_MAX];
        struct net_pkt t = *a;

        *a = *b;
        *b = t;
    }
    if (net_rand(n) % 100 < n->dup_pct) {
        p.copy = true;
        net_push(n, &p);
    }
}

static void client_ack(struct net *n, uint16_t wire)
{
    struct net_pkt a = {PK_ACK, 0, wire, 0, 0, false};

    net_send(n, a);
}

/* Is wire ahead of the next expected block (a gap), rather than old data? */
static bool client_is_gap(const struct client *c, uint16_t wire, uint16_t expect)
{
    return (uint16_t)(wire - expect) < c->window;
}

static void client_on_data(struct client *c, struct net *n, const struct net_pkt *d, uint64_t now)
{
    uint16_t expect = (uint16_t)(c->last_wire + 1);

    if (c->roll_to_one && c->got >= 65535 && expect == 0)
        expect = 1;
    if (c->done || d->wire != expect) {
        bool gap = !c->done && client_is_gap(c, d->wire, expect);

        if ((gap && !c->gap_acked) || now - c->progress_ms >= CLIENT_REACK_MS) {
            client_ack(n, c->last_wire);
            c->gap_acked = c->gap_acked || gap;
            c->progress_ms = now;
            c->in_window = 0;
        }
        return;
    }
    /* In order: it must be the next piece of the file. */
    assert_int_equal(d->block, c->got + 1);
    assert_int_equal(d->offset, c->bytes);
    c->got++;
    c->bytes += d->len;
    c->last_wire = d->wire;
    c->gap_acked = false;
    c->progress_ms = now;
    if (d->len < c->blksize)
        c->done = true;
    if (c->done || ++c->in_window == c->window) {
        c->in_window = 0;
        client_ack(n, d->wire);
    }
}

static void sim_send_out(struct harness *h, struct net *n)
{
    for (uint64_t b = h->out.send_first; b < h->out.send_first + h->out.send_count; b++) {
        struct net_pkt d = {PK_DATA,
                            b,
                            tftp_session_wire_block(&h->s, b),
                            tftp_session_block_len(&h->s, b),
                            tftp_session_block_offset(&h->s, b),
                            false};

        assert_int_equal(d.wire, wire_of(h->lim.rollover_to_one, b));
        assert_true(d.len <= tftp_session_accepted(&h->s)->blksize);
        net_send(n, d);
    }
}

struct sim_case {
    uint32_t blksize, window;
    uint64_t size;
    bool roll_to_one;
    unsigned drop_pct, dup_pct, swap_pct;
};

static void sim_run(const struct sim_case *sc, uint64_t seed)
{
    static struct net n;
    struct tftp_options o =
        opts_make(TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE, sc->blksize, 0, sc->window);
    struct client c = {sc->roll_to_one, sc->blksize, sc->window, 0, 0, 0, 0, false, 0, false};
    struct harness h;
    uint64_t sends = 0, steps = 0;

    memset(&n, 0, sizeof(n));
    n.rng = seed;
    n.drop_pct = sc->drop_pct;
    n.dup_pct = sc->dup_pct;
    n.swap_pct = sc->swap_pct;
    h_init(&h);
    h.lim.rollover_to_one = sc->roll_to_one;
    h.lim.retries_max = 30; /* the loss here is random: give up only when it is absurd */
    h_start(&h, &o, TFTP_MODE_OCTET, sc->size);
    expect_oack(&h);
    h_ack(&h, 1, 0); /* the OACK exchange is covered elsewhere */
    while (!tftp_session_finished(&h.s)) {
        assert_true(++steps < 10000000);
        sim_send_out(&h, &n);
        sends += h.out.send_count;
        memset(&h.out, 0, sizeof(h.out));
        if (n.head == n.tail || h.now >= tftp_session_deadline(&h.s)) {
            if (h.now < tftp_session_deadline(&h.s))
                h.now = tftp_session_deadline(&h.s);
            tftp_session_on_timeout(&h.s, h.now, &h.out);
            continue;
        }
        {
            struct net_pkt p = n.q[n.head++ % NET_MAX];

            h.now += 1;
            if (p.kind == PK_DATA) {
                client_on_data(&c, &n, &p, h.now);
                continue;
            }
            tftp_session_on_ack(&h.s, p.wire, h.now, &h.out);
            /* A network duplicate of an ACK never causes a send. */
            if (p.copy)
                assert_int_equal(h.out.send_count, 0);
        }
    }
    expect_end(&h, TFTP_SESSION_DONE);
    assert_true(c.done);
    assert_int_equal(c.bytes, sc->size);
    assert_int_equal(c.got, sc->size / sc->blksize + 1);
    /* Without trouble on the network, each block goes out once; loss costs
     * resends, but not without bound. */
    if (sc->drop_pct == 0 && sc->dup_pct == 0 && sc->swap_pct == 0)
        assert_int_equal(sends, c.got);
    assert_true(sends <= 8 * c.got + 4 * sc->window);
}

static void test_scripted_network(void **state)
{
    static const struct sim_case cases[] = {
        {512, 1, 512 * 300, false, 0, 0, 0},      {512, 1, 512 * 300 + 1, false, 10, 10, 10},
        {512, 4, 512 * 300, false, 5, 5, 5},      {1468, 16, 1468 * 500 + 3, false, 3, 3, 3},
        {1468, 16, 1468 * 500, false, 10, 5, 20}, {1468, 64, 1468 * 2000, false, 2, 2, 2},
        {8, 16, 8 * 70000 + 5, false, 1, 1, 1},   {8, 16, 8 * 70000 + 5, true, 1, 1, 1},
        {8, 1, 8 * 66000, true, 1, 1, 1},         {8, 64, 8 * 140000, true, 1, 1, 1},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        for (uint64_t seed = 1; seed <= 5; seed++)
            sim_run(&cases[i], seed * 7919 + i);
}

/* Rollover to 1 leaves 65535 block numbers, so a window of 65535 blocks needs
 * care: its last ACK carries the same number as the ACK before it. A clean
 * transfer must still finish, in both rollover modes. */
static void check_largest_window(bool to_one)
{
    struct harness h;
    int rounds = 0;

    h_init(&h);
    h.lim.rollover_to_one = to_one;
    h.lim.windowsize_max = 65535;
    h_start_windowed(&h, 8, 65535, UINT64_C(8) * 300000);
    /* Rollover to 1 caps the window one short of the cycle. */
    uint64_t window = tftp_session_accepted(&h.s)->windowsize;
    assert_int_equal(window, to_one ? 65534 : 65535);
    while (!tftp_session_finished(&h.s) && rounds++ < 20) {
        uint64_t last = h.out.send_first + h.out.send_count - 1;

        assert_int_equal(h.out.send_count, last == 300001 ? 300001 - h.out.send_first + 1 : window);
        h_ack(&h, 5, h_wire(&h, last));
        if (!tftp_session_finished(&h.s) && h.out.send_count == 0)
            fail_msg("rollover %d: the ACK of block %llu (wire %u) was ignored: stalled", to_one,
                     (unsigned long long)last, h_wire(&h, last));
        if (!tftp_session_finished(&h.s))
            assert_int_equal(h.out.send_first, last + 1);
    }
    expect_end(&h, TFTP_SESSION_DONE);
}

static void test_rollover_largest_window(void **state)
{
    (void)state;
    check_largest_window(false);
    check_largest_window(true);
}

/* ---- datagrams, events and requests: the decisions the I/O layer used to make ---- */

/* A literal and its length without the final NUL. */
#define BYTES(lit) lit, sizeof(lit) - 1

/* Feeds raw bytes as a datagram from the client. */
static void h_datagram(struct harness *h, const char *bytes, size_t len)
{
    struct tftp_packet pkt;

    tftp_session_on_datagram(&h->s, (const uint8_t *)bytes, len, h->now, &pkt, &h->out);
}

/* Whatever reaches a sender but an ACK or an ERROR ends it with ERROR 4,
 * truncated ACKs and ERRORs included. */
static void test_datagram_illegal(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
        {BYTES("")},                         /* empty */
        {BYTES("\0")},                       /* half an opcode */
        {BYTES("\0\4\0")},                   /* ACK cut short */
        {BYTES("\0\5\0")},                   /* ERROR cut short */
        {BYTES("\0\3\0\1data")},             /* DATA: we never receive files */
        {BYTES("\0\1f\0octet\0")},           /* an RRQ on the transfer's port */
        {BYTES("\0\2f\0octet\0")},           /* a WRQ */
        {BYTES("\0\6blksize\0\61\60\60\0")}, /* an OACK */
        {BYTES("\0\7\0\1")},                 /* no such opcode */
        {BYTES("\xff\xff\0\1")},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct harness h;
        const char *msg;

        h_init(&h);
        h_start(&h, NULL, TFTP_MODE_OCTET, 5000);
        h_datagram(&h, cases[i].bytes, cases[i].len);
        expect_end(&h, TFTP_SESSION_ILLEGAL);
        assert_int_equal(h.out.send_error, TFTP_FAIL_ILLEGAL_OP);
        assert_int_equal(h.out.send_count, 0);
        assert_int_equal(tftp_wire_error(h.out.send_error, &msg), TFTP_ERR_ILLEGAL_OP);
        assert_string_equal(tftp_session_end_reason(&h.s), "client sent an illegal packet");
        /* Once ended, a datagram changes nothing and sends nothing. */
        h_datagram(&h, cases[i].bytes, cases[i].len);
        expect_none(&h);
        expect_end(&h, TFTP_SESSION_ILLEGAL);
    }
}

/* An ACK as bytes is the ACK event; an ERROR as bytes is the peer's error,
 * never answered; extra bytes after an ACK's block number are ignored. */
static void test_datagram_ack_and_error(void **state)
{
    struct harness h;

    (void)state;
    h_init(&h);
    h_start(&h, NULL, TFTP_MODE_OCTET, 1500);
    expect_window(&h, 1, 1);
    h_datagram(&h, BYTES("\0\4\0\1"));
    expect_window(&h, 2, 1);
    assert_true(tftp_session_peer_proven(&h.s));
    h_datagram(&h, BYTES("\0\4\0\1")); /* a duplicate: nothing */
    expect_none(&h);
    h_datagram(&h, BYTES("\0\4\0\2junk"));
    expect_window(&h, 3, 1);
    h_datagram(&h, BYTES("\0\5\0\3Disk full\0"));
    expect_none(&h);
    expect_end(&h, TFTP_SESSION_PEER_ERROR);
    assert_string_equal(tftp_session_end_reason(&h.s), "client sent an error");
    /* An ERROR without its text still counts (4 bytes). */
    h_init(&h);
    h_start(&h, NULL, TFTP_MODE_OCTET, 10);
    h_datagram(&h, BYTES("\0\5\0\0"));
    expect_none(&h);
    expect_end(&h, TFTP_SESSION_PEER_ERROR);
}

/* What the I/O layer reports: each ends the transfer its own way, with the
 * ERROR (if any) the session chose; after the end, nothing. */
static void test_events(void **state)
{
    static const struct {
        enum tftp_session_event ev;
        enum tftp_session_state end;
        enum tftp_failure error;
        const char *reason;
    } cases[] = {
        {TFTP_EVENT_FILE_SHORT, TFTP_SESSION_FILE_CHANGED, TFTP_FAIL_FILE_CHANGED,
         "file changed while being sent"},
        {TFTP_EVENT_IO_FAILED, TFTP_SESSION_IO_FAILED, TFTP_FAIL_NONE, "I/O error"},
        {TFTP_EVENT_SHUTDOWN, TFTP_SESSION_SHUTDOWN, TFTP_FAIL_SHUTDOWN, "server shutting down"},
        {TFTP_EVENT_EVICTED, TFTP_SESSION_EVICTED, TFTP_FAIL_NONE,
         "never answered, its place was needed for a new request"},
    };
    struct tftp_options o = opts_make(TFTP_OPT_TSIZE, 0, 0, 0);

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        for (int oack = 0; oack < 2; oack++) {
            struct harness h;

            h_init(&h);
            h_start(&h, oack ? &o : NULL, TFTP_MODE_OCTET, 100000);
            tftp_session_on_event(&h.s, cases[i].ev, &h.out);
            expect_end(&h, cases[i].end);
            assert_int_equal(h.out.send_error, cases[i].error);
            assert_false(h.out.send_oack);
            assert_int_equal(h.out.send_count, 0);
            assert_string_equal(tftp_session_end_reason(&h.s), cases[i].reason);
            /* A second event, an ACK, a timeout: nothing. */
            tftp_session_on_event(&h.s, TFTP_EVENT_SHUTDOWN, &h.out);
            expect_none(&h);
            h_ack(&h, 1, 0);
            expect_none(&h);
            tftp_session_on_timeout(&h.s, h.now + 60000, &h.out);
            expect_none(&h);
            expect_end(&h, cases[i].end);
        }
    }
    /* After a complete transfer, a shutdown changes nothing. */
    {
        struct harness h;

        h_init(&h);
        h_start(&h, NULL, TFTP_MODE_OCTET, 10);
        h_ack(&h, 1, 1);
        expect_end(&h, TFTP_SESSION_DONE);
        tftp_session_on_event(&h.s, TFTP_EVENT_SHUTDOWN, &h.out);
        expect_none(&h);
        expect_end(&h, TFTP_SESSION_DONE);
        assert_string_equal(tftp_session_end_reason(&h.s), "complete");
    }
}

/* The listener's verdicts: an ERROR is never answered (even cut short or too
 * long), a valid RRQ is read, a valid WRQ refused with ERROR 2, anything
 * else malformed with the codec's reason. */
static void test_judge_request(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        bool truncated;
        enum tftp_request_verdict v;
        enum tftp_failure fail;
    } cases[] = {
        {BYTES("\0\1f.bin\0octet\0"), false, TFTP_REQUEST_READ, TFTP_FAIL_NONE},
        {BYTES("\0\1f.bin\0netascii\0blksize\0\61\64\66\70\0"), false, TFTP_REQUEST_READ,
         TFTP_FAIL_NONE},
        {BYTES("\0\2f.bin\0octet\0"), false, TFTP_REQUEST_REFUSED, TFTP_FAIL_UPLOAD},
        {BYTES("\0\5\0\1nope\0"), false, TFTP_REQUEST_IGNORE, TFTP_FAIL_NONE},
        {BYTES("\0\5"), false, TFTP_REQUEST_IGNORE, TFTP_FAIL_NONE},
        {BYTES("\0\5\0\1"), true, TFTP_REQUEST_IGNORE, TFTP_FAIL_NONE},
        {BYTES("\0\1f.bin\0octet\0"), true, TFTP_REQUEST_MALFORMED, TFTP_FAIL_TOO_LONG},
        {BYTES("\0\1f.bin\0octet"), false, TFTP_REQUEST_MALFORMED, TFTP_FAIL_MALFORMED},
        {BYTES("\0\1\0octet\0"), false, TFTP_REQUEST_MALFORMED, TFTP_FAIL_EMPTY_NAME},
        {BYTES("\0\1f\0mail\0"), false, TFTP_REQUEST_MALFORMED, TFTP_FAIL_BAD_MODE},
        {BYTES("\0\1f\0octet\0blksize\0\61\0"), false, TFTP_REQUEST_MALFORMED,
         TFTP_FAIL_BAD_OPTION},
        {BYTES("\0\4\0\1"), false, TFTP_REQUEST_MALFORMED, TFTP_FAIL_ILLEGAL_OP},
        {BYTES("\0"), false, TFTP_REQUEST_MALFORMED, TFTP_FAIL_MALFORMED},
        {BYTES(""), false, TFTP_REQUEST_MALFORMED, TFTP_FAIL_MALFORMED},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct tftp_request req;
        enum tftp_failure fail = TFTP_FAIL_NONE;
        enum tftp_request_verdict v = tftp_session_judge_request(
            (const uint8_t *)cases[i].bytes, cases[i].len, cases[i].truncated, &req, &fail);

        if (v != cases[i].v || fail != cases[i].fail)
            fail_msg("case %zu: verdict %d fail %d, want %d %d", i, v, fail, cases[i].v,
                     cases[i].fail);
        if (v == TFTP_REQUEST_READ || v == TFTP_REQUEST_REFUSED)
            assert_string_equal(req.filename, "f.bin");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_options_sends_data1),
        cmocka_unit_test(test_lockstep_rfc1350),
        cmocka_unit_test(test_negotiation_table),
        cmocka_unit_test(test_negotiated_timeout_first_deadline),
        cmocka_unit_test(test_oack_wait_for_ack0),
        cmocka_unit_test(test_oack_then_error),
        cmocka_unit_test(test_error_while_sending),
        cmocka_unit_test(test_final_block),
        cmocka_unit_test(test_final_block_in_window),
        cmocka_unit_test(test_windows_100_blocks),
        cmocka_unit_test(test_window_partial_ack),
        cmocka_unit_test(test_window_data_loss),
        cmocka_unit_test(test_duplicate_acks),
        cmocka_unit_test(test_reordered_acks),
        cmocka_unit_test(test_timeout_backoff_and_give_up),
        cmocka_unit_test(test_timeout_resends_from_acked),
        cmocka_unit_test(test_give_up_unproven),
        cmocka_unit_test(test_negotiated_timeout_backoff),
        cmocka_unit_test(test_negotiated_timeout_restored_after_loss),
        cmocka_unit_test(test_rollover_lockstep),
        cmocka_unit_test(test_rollover_window),
        cmocka_unit_test(test_block_offset_len),
        cmocka_unit_test(test_rtt_floor),
        cmocka_unit_test(test_rtt_converges),
        cmocka_unit_test(test_rtt_jitter),
        cmocka_unit_test(test_rtt_cap),
        cmocka_unit_test(test_rtt_steady_slow),
        cmocka_unit_test(test_rtt_karn),
        cmocka_unit_test(test_scripted_network),
        cmocka_unit_test(test_rollover_largest_window),
        cmocka_unit_test(test_datagram_illegal),
        cmocka_unit_test(test_datagram_ack_and_error),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_judge_request),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
