/* peer_key.h: what a TFTP request counts against. Per-client limits key an
 * IPv4 address or an IPv6 /64 (one host owns a whole /64 and walks it at will);
 * the budget of unanswered transfers keys an IPv4 /24 or an IPv6 /64.
 * Pure: no sockets, no globals, no allocation. */
#ifndef LOADSD_PEER_KEY_H
#define LOADSD_PEER_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum peer_scope {
    PEER_SCOPE_CLIENT, /* IPv4 /32, IPv6 /64 */
    PEER_SCOPE_PREFIX, /* IPv4 /24, IPv6 /64 */
};

/* Compared and hashed as bytes: every field is a byte, so there is no padding. */
struct peer_key {
    uint8_t family;   /* 4 or 6; a v4-mapped IPv6 address is IPv4 */
    uint8_t bits;     /* prefix length kept */
    uint8_t addr[16]; /* the address, bits past the prefix zero (IPv4: first 4 bytes) */
};

#define PEER_KEY_TEXT_MAX 48 /* "ffff:ffff:ffff:ffff::/64" and the like */

/* The key of sa (AF_INET or AF_INET6) in a scope. 0, or -1 for another family. */
int peer_key_make(const struct sockaddr *sa, enum peer_scope scope, struct peer_key *out);
bool peer_key_equal(const struct peer_key *a, const struct peer_key *b);
/* "192.0.2.7", "192.0.2.0/24", "2001:db8::/64"; always NUL-terminated. */
void peer_key_format(const struct peer_key *k, char *out, size_t cap);

#endif
