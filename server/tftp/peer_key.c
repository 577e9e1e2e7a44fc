/* peer_key.c: a peer's address cut to the prefix a limit counts (IPv4 /32 or
 * /24, IPv6 /64), with v4-mapped IPv6 taken as the IPv4 it carries.
 * Pure: no sockets, no globals, no allocation. */
#include "server/tftp/peer_key.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void key_set(struct peer_key *k, uint8_t family, uint8_t bits, const uint8_t *addr,
                    size_t len)
{
    memset(k, 0, sizeof(*k));
    k->family = family;
    k->bits = bits;
    memcpy(k->addr, addr, len);
    for (size_t i = 0; i < len; i++) {
        unsigned keep = bits > 8 * i ? bits - 8 * (unsigned)i : 0;

        if (keep < 8)
            k->addr[i] &= (uint8_t)(0xff00u >> keep);
    }
}

int peer_key_make(const struct sockaddr *sa, enum peer_scope scope, struct peer_key *out)
{
    const struct sockaddr_in6 *s6 = (const void *)sa;
    const struct sockaddr_in *s4 = (const void *)sa;
    uint8_t v4_bits = scope == PEER_SCOPE_CLIENT ? 32 : 24;

    if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        key_set(out, 4, v4_bits, &s6->sin6_addr.s6_addr[12], 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        key_set(out, 6, 64, s6->sin6_addr.s6_addr, 16);
        return 0;
    }
    if (sa->sa_family == AF_INET) {
        key_set(out, 4, v4_bits, (const uint8_t *)&s4->sin_addr, 4);
        return 0;
    }
    memset(out, 0, sizeof(*out));
    return -1;
}

bool peer_key_equal(const struct peer_key *a, const struct peer_key *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

void peer_key_format(const struct peer_key *k, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";

    if (cap == 0)
        return;
    inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->addr, host, sizeof(host));
    if (k->family == 4 && k->bits == 32)
        snprintf(out, cap, "%s", host);
    else
        snprintf(out, cap, "%s/%u", host, k->bits);
}
