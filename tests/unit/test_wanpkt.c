/* test_wanpkt.c: table tests for wanemu's packet surgery: the payload of
 * IPv4 UDP and TCP packets, refusals (truncated at every length, fragments,
 * IPv6, bad header lengths), and corruption that leaves every checksum valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/tools/wanpkt.h"

/* 198.18.0.1:40000 -> 198.19.0.1:69, "hello, branch"; the checksums (IP
 * 0x9c68, UDP 0x29f1) were computed apart from wanpkt, by Python's struct. */
static const uint8_t udp_pkt[] = {
    0x45, 0x00, 0x00, 0x29, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x9c, 0x68, 198,  18,
    0,    1,    198,  19,   0,    1,    0x9c, 0x40, 0x00, 0x45, 0x00, 0x15, 0x29, 0xf1,
    'h',  'e',  'l',  'l',  'o',  ',',  ' ',  'b',  'r',  'a',  'n',  'c',  'h',
};

/* A TCP segment with 12 bytes of options (data offset 8) and 10 payload
 * bytes; its checksums are set by the test (build_tcp) and then checked. */
#define TCP_PAYLOAD 10
#define TCP_LEN     (20 + 32 + TCP_PAYLOAD)

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The folded one's complement sum a receiver computes over a header with
 * its checksum in place: 0xffff means valid. Written apart from wanpkt. */
static unsigned fold_sum(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    unsigned long sum = 0;

    for (size_t i = 0; i < alen; i += 2)
        sum += (unsigned)a[i] << 8 | (i + 1 < alen ? a[i + 1] : 0);
    for (size_t i = 0; i < blen; i += 2)
        sum += (unsigned)b[i] << 8 | (i + 1 < blen ? b[i + 1] : 0);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (unsigned)sum;
}

static bool ip_valid(const uint8_t *pkt)
{
    return fold_sum(pkt, (size_t)(pkt[0] & 15) * 4, NULL, 0) == 0xffff;
}

static bool l4_valid(const uint8_t *pkt, size_t seglen)
{
    uint8_t pseudo[12];
    size_t ihl = (size_t)(pkt[0] & 15) * 4;

    memcpy(pseudo, pkt + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = pkt[9];
    put16(pseudo + 10, (unsigned)seglen);
    return fold_sum(pseudo, sizeof(pseudo), pkt + ihl, seglen) == 0xffff;
}

static void build_tcp(uint8_t *p)
{
    memset(p, 0, TCP_LEN);
    p[0] = 0x45;
    put16(p + 2, TCP_LEN);
    p[8] = 64;
    p[9] = 6;
    memcpy(p + 12, (const uint8_t[]){198, 18, 0, 1, 198, 19, 0, 10}, 8);
    put16(p + 20, 80);
    put16(p + 22, 50000);
    p[32] = 8 << 4; /* data offset: 32 bytes */
    p[33] = 0x18;   /* PSH, ACK */
    put16(p + 34, 65535);
    memcpy(p + 40, (const uint8_t[]){1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, 12); /* NOP NOP TS */
    for (int i = 0; i < TCP_PAYLOAD; i++)
        p[52 + i] = (uint8_t)('A' + i);
    put16(p + 10, wanpkt_checksum(p, 20, 0));
    /* The TCP checksum the long way: sum with 0 in place, then complement. */
    put16(p + 36,
          0xffff - fold_sum((const uint8_t[]){198, 18, 0, 1, 198, 19, 0, 10, 0, 6, 0, TCP_LEN - 20},
                            12, p + 20, TCP_LEN - 20));
}

static void test_wanpkt_checksum_rfc1071(void **state)
{
    /* RFC 1071 section 3's example: the sum of these words is 0xddf2. */
    static const uint8_t words[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

    (void)state;
    assert_int_equal(wanpkt_checksum(words, sizeof(words), 0), 0xffff & ~0xddf2);
    assert_int_equal(wanpkt_checksum(words, 7, 0),
                     0xffff & ~(0xddf2 - 0xf7)); /* odd length: pad with 0 */
    assert_true(ip_valid(udp_pkt));
    assert_true(l4_valid(udp_pkt, sizeof(udp_pkt) - 20));
}

static void test_wanpkt_payload_found(void **state)
{
    uint8_t tcp[TCP_LEN + 3];
    size_t off = 0, plen = 0;

    (void)state;
    assert_int_equal(wanpkt_payload(udp_pkt, sizeof(udp_pkt), &off, &plen), 0);
    assert_int_equal(off, 28);
    assert_int_equal(plen, 13);
    build_tcp(tcp);
    assert_true(ip_valid(tcp));
    assert_true(l4_valid(tcp, TCP_LEN - 20));
    assert_int_equal(wanpkt_payload(tcp, TCP_LEN, &off, &plen), 0);
    assert_int_equal(off, 52);
    assert_int_equal(plen, TCP_PAYLOAD);
    /* Bytes after the IP total length (padding) are not payload. */
    assert_int_equal(wanpkt_payload(tcp, sizeof(tcp), &off, &plen), 0);
    assert_int_equal(plen, TCP_PAYLOAD);
}

/* Every length short of the whole packet is refused, and left unchanged. */
static void test_wanpkt_truncated(void **state)
{
    uint8_t tcp[TCP_LEN], copy[TCP_LEN];
    size_t off, plen;

    (void)state;
    build_tcp(tcp);
    for (size_t len = 0; len < sizeof(udp_pkt); len++) {
        uint8_t u[sizeof(udp_pkt)];

        memcpy(u, udp_pkt, sizeof(u));
        assert_int_equal(wanpkt_payload(u, len, &off, &plen), -1);
        assert_int_equal(wanpkt_corrupt(u, len), -1);
        assert_memory_equal(u, udp_pkt, sizeof(u));
    }
    for (size_t len = 0; len < TCP_LEN; len++) {
        memcpy(copy, tcp, sizeof(copy));
        assert_int_equal(wanpkt_corrupt(copy, len), -1);
        assert_memory_equal(copy, tcp, sizeof(copy));
    }
}

struct refusal {
    const char *what;
    size_t at;     /* byte to change in the UDP packet */
    uint8_t value; /* its new value */
};

static const struct refusal refusals[] = {
    {"IPv6 version", 0, 0x65},
    {"header length 16", 0, 0x44},
    {"header length past the total", 0, 0x4f},
    {"more fragments", 6, 0x20},
    {"fragment offset", 7, 0x01},
    {"ICMP", 9, 1},
    {"total length short of the header", 3, 19},
    {"UDP length 7", 25, 7},
    {"UDP length past the packet", 25, 0x16},
    {"UDP without payload", 25, 8},
};

static void test_wanpkt_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        uint8_t p[sizeof(udp_pkt)];
        size_t off, plen;

        memcpy(p, udp_pkt, sizeof(p));
        p[refusals[i].at] = refusals[i].value;
        if (wanpkt_payload(p, sizeof(p), &off, &plen) != -1)
            fail_msg("%s: not refused", refusals[i].what);
    }
}

static void test_wanpkt_tcp_bad_offset(void **state)
{
    uint8_t tcp[TCP_LEN];
    size_t off, plen;

    (void)state;
    build_tcp(tcp);
    tcp[32] = 4 << 4; /* data offset under 20 bytes */
    assert_int_equal(wanpkt_payload(tcp, TCP_LEN, &off, &plen), -1);
    tcp[32] = 15 << 4; /* 60 bytes: past the 42-byte segment's end */
    assert_int_equal(wanpkt_payload(tcp, TCP_LEN, &off, &plen), -1);
    put16(tcp + 2, 20 + 32); /* headers only: no payload */
    tcp[32] = 8 << 4;
    assert_int_equal(wanpkt_payload(tcp, TCP_LEN, &off, &plen), -1);
}

/* Exactly one payload byte differs afterwards, and every checksum is valid. */
/* csum_at: where the TCP or UDP checksum lies (it and the IP one may change). */
static void check_corrupted(const uint8_t *before, const uint8_t *after, size_t len, size_t off,
                            size_t plen, size_t seglen, size_t csum_at)
{
    size_t changed = 0, where = 0;

    for (size_t i = 0; i < len; i++)
        if (before[i] != after[i] && i != 10 && i != 11 && i != csum_at && i != csum_at + 1) {
            changed++;
            where = i;
        }
    assert_int_equal(changed, 1);
    assert_int_equal(where, off + plen / 2);
    assert_int_equal(after[where], before[where] ^ 0xff);
    assert_true(ip_valid(after));
    assert_true(l4_valid(after, seglen));
}

static void test_wanpkt_corrupt_udp(void **state)
{
    uint8_t p[sizeof(udp_pkt)];

    (void)state;
    memcpy(p, udp_pkt, sizeof(p));
    assert_int_equal(wanpkt_corrupt(p, sizeof(p)), 0);
    check_corrupted(udp_pkt, p, sizeof(p), 28, 13, sizeof(p) - 20, 26);
    assert_memory_not_equal(p + 26, udp_pkt + 26, 2); /* the UDP checksum moved */
}

/* IP bytes after the UDP datagram (its length says where it ends) are
 * neither payload nor covered by the UDP checksum. */
static void test_wanpkt_corrupt_udp_padded(void **state)
{
    uint8_t before[sizeof(udp_pkt) + 3], p[sizeof(udp_pkt) + 3];

    (void)state;
    memcpy(before, udp_pkt, sizeof(udp_pkt));
    memcpy(before + sizeof(udp_pkt), "pad", 3);
    put16(before + 2, sizeof(before));
    put16(before + 10, 0);
    put16(before + 10, wanpkt_checksum(before, 20, 0));
    memcpy(p, before, sizeof(p));
    assert_int_equal(wanpkt_corrupt(p, sizeof(p)), 0);
    check_corrupted(before, p, sizeof(p), 28, 13, sizeof(udp_pkt) - 20, 26);
}

static void test_wanpkt_corrupt_udp_no_checksum(void **state)
{
    uint8_t p[sizeof(udp_pkt)];

    (void)state;
    memcpy(p, udp_pkt, sizeof(p));
    p[26] = p[27] = 0; /* sent without a checksum */
    assert_int_equal(wanpkt_corrupt(p, sizeof(p)), 0);
    assert_int_equal(p[26], 0);
    assert_int_equal(p[27], 0);
    assert_int_equal(p[28 + 6], udp_pkt[28 + 6] ^ 0xff);
    assert_true(ip_valid(p));
}

static void test_wanpkt_corrupt_tcp(void **state)
{
    uint8_t before[TCP_LEN], p[TCP_LEN];

    (void)state;
    build_tcp(before);
    memcpy(p, before, sizeof(p));
    assert_int_equal(wanpkt_corrupt(p, sizeof(p)), 0);
    check_corrupted(before, p, sizeof(p), 52, TCP_PAYLOAD, TCP_LEN - 20, 36);
    /* Twice restores the payload, and the checksums with it. */
    assert_int_equal(wanpkt_corrupt(p, sizeof(p)), 0);
    assert_memory_equal(p, before, sizeof(p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wanpkt_checksum_rfc1071),
        cmocka_unit_test(test_wanpkt_payload_found),
        cmocka_unit_test(test_wanpkt_truncated),
        cmocka_unit_test(test_wanpkt_refusals),
        cmocka_unit_test(test_wanpkt_tcp_bad_offset),
        cmocka_unit_test(test_wanpkt_corrupt_udp),
        cmocka_unit_test(test_wanpkt_corrupt_udp_padded),
        cmocka_unit_test(test_wanpkt_corrupt_udp_no_checksum),
        cmocka_unit_test(test_wanpkt_corrupt_tcp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
