/* wanpkt.c: finds the TCP or UDP payload of an IPv4 packet and corrupts one
 * byte of it with valid checksums (RFC 791, 768, 793, 1071). Pure: bytes in,
 * bytes out; never reads past len. */
#include "tests/tools/wanpkt.h"

#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define UDP_HDR_LEN  8
#define TCP_HDR_MIN  20

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The one's complement sum of data in 16-bit big-endian words, not folded. */
static uint32_t sum_words(const uint8_t *data, size_t len, uint32_t sum)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += get16(data + i);
        if (sum > 0xffff0000u)
            sum = (sum & 0xffff) + (sum >> 16);
    }
    if (len & 1)
        sum += (uint32_t)data[len - 1] << 8;
    return sum;
}

uint16_t wanpkt_checksum(const uint8_t *data, size_t len, uint32_t sum)
{
    sum = sum_words(data, len, sum);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The IPv4 header length and total length when pkt holds a whole, unfragmented
 * IPv4 packet; -1 otherwise. */
static int ipv4_lengths(const uint8_t *pkt, size_t len, size_t *ihl, size_t *total)
{
    if (len < 20 || pkt[0] >> 4 != 4)
        return -1;
    *ihl = (size_t)(pkt[0] & 0x0f) * 4;
    *total = get16(pkt + 2);
    if (*ihl < 20 || *total < *ihl || *total > len)
        return -1;
    if (get16(pkt + 6) & 0x3fff) /* MF set or a fragment offset */
        return -1;
    return 0;
}

/* The transport header length of a whole segment seg[0..seglen), or -1. */
static int l4_header(uint8_t proto, const uint8_t *seg, size_t seglen, size_t *hlen, size_t *plen)
{
    if (proto == IP_PROTO_UDP) {
        size_t ulen;

        if (seglen < UDP_HDR_LEN)
            return -1;
        ulen = get16(seg + 4);
        if (ulen < UDP_HDR_LEN || ulen > seglen)
            return -1;
        *hlen = UDP_HDR_LEN;
        *plen = ulen - UDP_HDR_LEN;
        return 0;
    }
    if (proto == IP_PROTO_TCP) {
        if (seglen < TCP_HDR_MIN)
            return -1;
        *hlen = (size_t)(seg[12] >> 4) * 4;
        if (*hlen < TCP_HDR_MIN || *hlen > seglen)
            return -1;
        *plen = seglen - *hlen;
        return 0;
    }
    return -1;
}

int wanpkt_payload(const uint8_t *pkt, size_t len, size_t *off, size_t *plen)
{
    size_t ihl, total, hlen, n;

    if (ipv4_lengths(pkt, len, &ihl, &total) < 0)
        return -1;
    if (l4_header(pkt[9], pkt + ihl, total - ihl, &hlen, &n) < 0 || n == 0)
        return -1;
    *off = ihl + hlen;
    *plen = n;
    return 0;
}

/* The TCP or UDP checksum over the IPv4 pseudo-header and seg[0..seglen). */
static uint16_t l4_checksum(const uint8_t *ip, const uint8_t *seg, size_t seglen)
{
    uint8_t pseudo[12];

    for (int i = 0; i < 8; i++)
        pseudo[i] = ip[12 + i]; /* source and destination address */
    pseudo[8] = 0;
    pseudo[9] = ip[9];
    put16(pseudo + 10, (unsigned)seglen);
    return wanpkt_checksum(seg, seglen, sum_words(pseudo, sizeof(pseudo), 0));
}

static void fix_l4_checksum(uint8_t *pkt, size_t ihl, size_t seglen)
{
    uint8_t *seg = pkt + ihl;
    size_t at = pkt[9] == IP_PROTO_UDP ? 6 : 16;
    uint16_t c;

    if (pkt[9] == IP_PROTO_UDP) {
        seglen = get16(seg + 4); /* the UDP length, not what follows it */
        if (get16(seg + 6) == 0)
            return; /* sent without a checksum: leave it without */
    }
    put16(seg + at, 0);
    c = l4_checksum(pkt, seg, seglen);
    if (pkt[9] == IP_PROTO_UDP && c == 0)
        c = 0xffff; /* RFC 768: a computed 0 is sent as all ones */
    put16(seg + at, c);
}

int wanpkt_corrupt(uint8_t *pkt, size_t len)
{
    size_t off, plen, ihl, total;

    if (wanpkt_payload(pkt, len, &off, &plen) < 0)
        return -1;
    ipv4_lengths(pkt, len, &ihl, &total);
    pkt[off + plen / 2] ^= 0xff;
    put16(pkt + 10, 0);
    put16(pkt + 10, wanpkt_checksum(pkt, ihl, 0));
    fix_l4_checksum(pkt, ihl, total - ihl);
    return 0;
}
