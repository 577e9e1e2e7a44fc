/* udp_peer.c: a TFTP client's server address and socket: replies are taken
 * only from the server's host (any port: the server answers from a port of
 * its own, RFC 1350 section 4). */
#include "server/upstream/udp_peer.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int udp_peer_open(struct udp_peer *p, const char *host, unsigned port, char *err, size_t cap)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
    char port_text[8];
    int rc;

    memset(p, 0, sizeof(*p));
    p->sock = -1;
    snprintf(port_text, sizeof(port_text), "%u", port);
    rc = getaddrinfo(host, port_text, &hints, &res);
    if (rc != 0 || res == NULL || res->ai_addrlen > sizeof(p->addr)) {
        snprintf(err, cap, "%s:%u: %s", host, port, rc != 0 ? gai_strerror(rc) : "no address");
        if (res != NULL)
            freeaddrinfo(res);
        return -1;
    }
    memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
    p->len = res->ai_addrlen;
    p->sock = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    freeaddrinfo(res);
    if (p->sock < 0) {
        snprintf(err, cap, "UDP socket: %s", strerror(errno));
        return -2;
    }
    return 0;
}

void udp_peer_close(struct udp_peer *p)
{
    if (p->sock >= 0)
        close(p->sock);
    p->sock = -1;
}

int udp_peer_port_of(const struct udp_peer *p, const struct sockaddr_storage *from)
{
    if (from->ss_family != p->addr.ss_family)
        return -1;
    if (from->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)from, *b = (const void *)&p->addr;

        return a->sin_addr.s_addr == b->sin_addr.s_addr ? ntohs(a->sin_port) : -1;
    }
    if (from->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)from, *b = (const void *)&p->addr;

        return memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0 ? ntohs(a->sin6_port)
                                                                               : -1;
    }
    return -1;
}

void udp_peer_at_port(const struct udp_peer *p, uint16_t port, struct sockaddr_storage *out)
{
    *out = p->addr;
    if (out->ss_family == AF_INET)
        ((struct sockaddr_in *)out)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)out)->sin6_port = htons(port);
}
