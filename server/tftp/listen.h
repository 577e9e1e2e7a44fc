/* listen.h: the UDP sockets a request meets: SO_REUSEPORT listeners (and the
 * probe that no other server holds the port), a request received with the
 * address it came to, an ERROR sent back from that address, and the socket a
 * transfer gets, bound to it and connected to the client.
 * Never parses a packet, never decides what to answer. */
#ifndef LOADSD_TFTP_LISTEN_H
#define LOADSD_TFTP_LISTEN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/netaddr.h"
#include "server/tftp/tftp_packet.h"

#define LISTEN_RCVBUF (4 << 20) /* a burst of thousands of requests must not drop */
#define ADDR_TEXT_MAX 64

/* One datagram received on a listener: who sent it, the local address it
 * came to (IP_PKTINFO), and that control data as received, so an ERROR
 * leaves from the address the client asked (multi-homed hosts). */
struct listen_request {
    uint8_t buf[TFTP_REQUEST_MAX + 1];
    size_t len;
    bool truncated; /* longer than buf */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    struct sockaddr_storage local;
    socklen_t local_len; /* 0: unknown */
    union {
        char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctl;
    size_t ctl_len;
};

/* SO_REUSEPORT would let a second loadsd of the same user share the port
 * and silently split requests: first bind without it, alone, to find out.
 * 0, or a negative errno. */
int listen_probe(const struct net_listen *cl);
/* One SO_REUSEPORT listener (non-blocking): its descriptor, or a negative errno. */
int listen_open(const struct net_listen *cl);
/* The next datagram on listener fd (of family): 0, or -1 when none is waiting. */
int listen_recv(int fd, int family, struct listen_request *rq);
/* Sends an ERROR to rq's sender from the address rq came to: 0, or -1. */
int listen_send_error(int fd, const struct listen_request *rq, uint16_t code, const char *msg);
/* A UDP socket for one transfer: bound to the address rq came to, connected
 * to its sender; its port is the server's transfer ID. Its descriptor, or a
 * negative errno. */
int listen_transfer_socket(const struct listen_request *rq);
/* Largest blksize whose DATA fits the path MTU of the connected socket;
 * TFTP_BLKSIZE_MAX when the kernel cannot say (the client's ask then rules). */
uint32_t listen_path_blksize(int sock, const struct sockaddr *peer);
/* "10.1.2.3:1234" or "[2001:db8::1]:1234"; a v4-mapped address as IPv4. */
void listen_format_addr(const struct sockaddr *sa, char *out, size_t cap);

#endif
