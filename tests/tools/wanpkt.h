/* wanpkt.h: just enough IPv4 for wanemu's fault injection: find a TCP or UDP
 * payload, flip one of its bytes, and make every checksum valid again. Pure. */
#ifndef LOADSD_WANPKT_H
#define LOADSD_WANPKT_H

#include <stddef.h>
#include <stdint.h>

/* The offset and length of the transport payload of an unfragmented IPv4
 * TCP or UDP packet held whole in pkt[0..len) (header lengths and the IP and
 * UDP length fields all within len); 0, or -1 for anything else, including
 * an empty payload, a fragment, IPv6 and a truncated packet. */
int wanpkt_payload(const uint8_t *pkt, size_t len, size_t *off, size_t *plen);

/* Flips every bit of the payload's middle byte, then recomputes the IPv4
 * header checksum and the TCP or UDP checksum (a UDP checksum of 0, "none",
 * stays 0). 0, or -1 (nothing changed) when wanpkt_payload() refuses pkt. */
int wanpkt_corrupt(uint8_t *pkt, size_t len);

/* The Internet checksum (RFC 1071) of data, continuing from sum (0 to start):
 * the one's complement of the folded one's complement sum. */
uint16_t wanpkt_checksum(const uint8_t *data, size_t len, uint32_t sum);

#endif
