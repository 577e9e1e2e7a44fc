/* udp_peer.h: the UDP side a TFTP client needs, shared by the branch's
 * fetch and the central's probe: the server's address and a socket of its
 * family, which host and port a reply came from, and the port to answer.
 * No protocol here. */
#ifndef LOADSD_UPSTREAM_UDP_PEER_H
#define LOADSD_UPSTREAM_UDP_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct udp_peer {
    struct sockaddr_storage addr; /* the server's well-known port */
    socklen_t len;
    int sock; /* -1 when none */
};

/* Resolves host (a name or an address) and opens a UDP socket of its
 * family. 0, -1 (the host does not resolve; err says why, safe to log) or
 * -2 (no socket: err says why). */
int udp_peer_open(struct udp_peer *p, const char *host, unsigned port, char *err, size_t cap);
void udp_peer_close(struct udp_peer *p);
/* The source port of from when it is the server's host, else -1. */
int udp_peer_port_of(const struct udp_peer *p, const struct sockaddr_storage *from);
/* The server's address with port port. */
void udp_peer_at_port(const struct udp_peer *p, uint16_t port, struct sockaddr_storage *out);

#endif
