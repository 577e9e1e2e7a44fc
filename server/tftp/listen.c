/* listen.c: the TFTP listeners (SO_REUSEPORT, one per worker per address),
 * requests received with their local address, and each transfer's connected socket. */
#include "server/tftp/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void set_v6only(int s, const struct net_listen *cl)
{
    const struct sockaddr_in6 *a = (const void *)&cl->addr;
    int v6only = IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) ? 0 : 1;

    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
}

int listen_probe(const struct net_listen *cl)
{
    int family = cl->addr.ss_family, rc = 0;
    int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (s < 0)
        return -errno;
    if (family == AF_INET6)
        set_v6only(s, cl);
    if (bind(s, (const struct sockaddr *)&cl->addr, cl->len) != 0)
        rc = -errno;
    close(s);
    return rc;
}

int listen_open(const struct net_listen *cl)
{
    int one = 1, rcvbuf = LISTEN_RCVBUF, s, rc;
    int family = cl->addr.ss_family;

    s = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    /* A fleet rebooting at once sends thousands of requests in a burst; the
     * default buffer (~208 KiB) drops them. FORCE works as root, before the
     * privilege drop; otherwise the kernel caps the plain request. */
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (family == AF_INET6) {
        set_v6only(s, cl);
        /* Dual-stack: IPv4 requests are reported as v4-mapped addresses. */
        setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    } else {
        setsockopt(s, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    }
    if (bind(s, (const struct sockaddr *)&cl->addr, cl->len) != 0) {
        rc = -errno;
        close(s);
        return rc;
    }
    return s;
}

static void addr_v4_mapped(const struct in_addr *v4, struct in6_addr *out)
{
    memset(out, 0, sizeof(*out));
    out->s6_addr[10] = 0xff;
    out->s6_addr[11] = 0xff;
    memcpy(&out->s6_addr[12], v4, 4);
}

/* Notes the address a request came to, and makes the stored pktinfo send
 * an ERROR back from that address by the routing table: the interface it
 * arrived on is not always the way back (an address on the WAN side asked
 * from the LAN lands "on" the WAN interface), so the interface is kept only
 * where the address needs it (IPv6 link-local). */
static void local_from_cmsg(struct msghdr *m, struct listen_request *rq, int family)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            struct sockaddr_in *sin = (struct sockaddr_in *)&rq->local;

            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            sin->sin_family = AF_INET;
            sin->sin_addr = pi.ipi_addr;
            rq->local_len = sizeof(*sin);
            pi.ipi_ifindex = 0;
            pi.ipi_spec_dst = pi.ipi_addr;
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&rq->local;

            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            sin6->sin6_family = AF_INET6;
            sin6->sin6_addr = pi.ipi6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
                sin6->sin6_scope_id = pi.ipi6_ifindex;
            else
                pi.ipi6_ifindex = 0;
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
            rq->local_len = sizeof(*sin6);
        }
    }
    /* An IPv4 request on a dual-stack socket: the transfer socket is IPv6 too. */
    if (family == AF_INET6 && rq->local.ss_family == AF_INET) {
        struct in_addr v4 = ((struct sockaddr_in *)&rq->local)->sin_addr;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&rq->local;

        memset(v6, 0, sizeof(*v6));
        v6->sin6_family = AF_INET6;
        addr_v4_mapped(&v4, &v6->sin6_addr);
        rq->local_len = sizeof(*v6);
    }
}

int listen_recv(int fd, int family, struct listen_request *rq)
{
    struct iovec iov = {rq->buf, sizeof(rq->buf)};
    struct msghdr m = {.msg_name = &rq->peer,
                       .msg_namelen = sizeof(rq->peer),
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = rq->ctl.b,
                       .msg_controllen = sizeof(rq->ctl.b)};
    ssize_t n;

    memset(&rq->local, 0, sizeof(rq->local));
    rq->local_len = 0;
    n = recvmsg(fd, &m, MSG_DONTWAIT);
    if (n < 0)
        return -1;
    rq->len = (size_t)n;
    rq->truncated = (m.msg_flags & MSG_TRUNC) != 0;
    rq->peer_len = m.msg_namelen;
    rq->ctl_len = m.msg_controllen;
    local_from_cmsg(&m, rq, family);
    return 0;
}

int listen_send_error(int fd, const struct listen_request *rq, uint16_t code, const char *msg)
{
    uint8_t pkt[4 + TFTP_ERRMSG_MAX];
    int len = tftp_packet_build_error(pkt, sizeof(pkt), code, msg);
    struct iovec iov = {pkt, (size_t)len};
    /* The pktinfo as received: the reply leaves from the address asked. */
    struct msghdr m = {.msg_name = (void *)&rq->peer,
                       .msg_namelen = rq->peer_len,
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = rq->ctl_len > 0 ? (void *)rq->ctl.b : NULL,
                       .msg_controllen = rq->ctl_len};

    if (len <= 0 || sendmsg(fd, &m, MSG_DONTWAIT) < 0)
        return -1;
    return 0;
}

int listen_transfer_socket(const struct listen_request *rq)
{
    int family = rq->peer.ss_family, one = 1, zero = 0;
    int s = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = -errno;

    if (s < 0)
        return rc;
    if (family == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if ((rq->local_len > 0 && bind(s, (const struct sockaddr *)&rq->local, rq->local_len) != 0) ||
        connect(s, (const struct sockaddr *)&rq->peer, rq->peer_len) != 0) {
        rc = -errno;
        close(s);
        return rc;
    }
    return s;
}

uint32_t listen_path_blksize(int sock, const struct sockaddr *peer)
{
    const struct sockaddr_in6 *s6 = (const void *)peer;
    bool v4 = peer->sa_family == AF_INET || IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
    int mtu = 0, overhead = (v4 ? 20 : 40) + 8 + TFTP_HEADER_LEN;
    socklen_t len = sizeof(mtu);
    int rc = v4 ? getsockopt(sock, IPPROTO_IP, IP_MTU, &mtu, &len)
                : getsockopt(sock, IPPROTO_IPV6, IPV6_MTU, &mtu, &len);

    if (rc != 0 || mtu - overhead < TFTP_BLKSIZE_MIN)
        return TFTP_BLKSIZE_MAX;
    return (uint32_t)(mtu - overhead);
}

void listen_format_addr(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr_in6 *s6 = (const void *)sa;
    const struct sockaddr_in *s4 = (const void *)sa;

    if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, ntohs(s6->sin6_port));
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else {
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, ntohs(s4->sin_port));
    }
}
