/* tftp_client.c: one TFTP read transfer as a client, for the benchmark programs:
 * RRQ with options, OACK checks, DATA/ACK lock-step or windowed, resends, TID locking.
 * Never blocks, never reads a clock: the caller passes the time in. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "tests/bench/tftp_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/numparse.h"

#define TFTPC_RCVBUF_MIN (256 * 1024)

static int parse_port(const char *text, uint16_t *port)
{
    uint64_t v;

    if (numparse_u64(text, 1, 65535, &v) != 0)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

static int parse_addr6(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    *len = sizeof(*s6);
    return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -1;
}

int tftpc_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(text, ':');
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    size_t hlen;
    uint16_t port;

    if (colon == NULL || parse_port(colon + 1, &port) != 0)
        return -1;
    hlen = (size_t)(colon - text);
    if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
        if (hlen - 2 >= sizeof(host))
            return -1;
        memcpy(host, text + 1, hlen - 2);
        host[hlen - 2] = '\0';
        return parse_addr6(host, port, ss, len);
    }
    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    memset(ss, 0, sizeof(*ss));
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    *len = sizeof(*s4);
    return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

int tftpc_shared_init(struct tftpc_shared *sh, uint32_t max_blksize)
{
    uint32_t blk = max_blksize > TFTP_BLKSIZE_DEFAULT ? max_blksize : TFTP_BLKSIZE_DEFAULT;

    memset(sh, 0, sizeof(*sh));
    sh->slot_size = (size_t)blk + TFTP_HEADER_LEN + 1;
    sh->buf = malloc(sh->slot_size * TFTPC_BATCH_MAX);
    if (sh->buf == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < TFTPC_BATCH_MAX; i++) {
        sh->iov[i].iov_base = sh->buf + i * sh->slot_size;
        sh->iov[i].iov_len = sh->slot_size;
    }
    return 0;
}

void tftpc_shared_free(struct tftpc_shared *sh)
{
    free(sh->buf);
    sh->buf = NULL;
}

int tftpc_build_request(uint8_t *buf, size_t cap, const char *name, const struct tftpc_params *p)
{
    struct tftp_options o;

    memset(&o, 0, sizeof(o));
    if (p->blksize != 0) {
        o.present |= TFTP_OPT_BLKSIZE;
        o.blksize = p->blksize;
    }
    if (p->windowsize != 0) {
        o.present |= TFTP_OPT_WINDOWSIZE;
        o.windowsize = p->windowsize;
    }
    if (p->tsize)
        o.present |= TFTP_OPT_TSIZE; /* value 0: "tell me the size" (RFC 2349) */
    return tftp_packet_build_request(buf, cap, TFTP_OP_RRQ, name, TFTP_MODE_OCTET, &o);
}

/* A window needs room in the socket's receive queue, or loopback drops. */
static void tftpc_size_rcvbuf(int fd, const struct tftpc_params *p, const struct tftpc_shared *sh)
{
    uint64_t want;
    int v;

    if (p->windowsize <= 1)
        return;
    want = (uint64_t)p->windowsize * (sh->slot_size + 512) * 2;
    if (want < TFTPC_RCVBUF_MIN)
        want = TFTPC_RCVBUF_MIN;
    if (want > INT32_MAX / 2)
        want = INT32_MAX / 2;
    v = (int)want;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

int tftpc_socket(int family, const struct sockaddr *bind_addr, socklen_t bind_len,
                 const struct tftpc_params *p, const struct tftpc_shared *sh)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc;

    if (fd < 0)
        return -errno;
    tftpc_size_rcvbuf(fd, p, sh);
    if (bind_addr != NULL && bind(fd, bind_addr, bind_len) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* A datagram the kernel would not take (full queue, a firewall drop) is a
 * lost packet like any other: the timers recover it. Other errors are fatal. */
static int send_result(ssize_t sent, size_t want)
{
    if (sent == (ssize_t)want)
        return 0;
    if (sent >= 0)
        return -EMSGSIZE;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EPERM ||
        errno == EINTR)
        return 0;
    return -errno;
}

static int tftpc_send_ack(struct tftpc *c, uint16_t block)
{
    uint8_t pkt[TFTP_HEADER_LEN];
    int n = tftp_packet_build_ack(pkt, sizeof(pkt), block);

    if (n < 0)
        return n;
    if (send_result(send(c->fd, pkt, (size_t)n, 0), (size_t)n) != 0)
        return -errno;
    c->in_window = 0;
    c->reack = false;
    return 0;
}

/* Tells the server why we stop (RFC 1350: an error packet ends a transfer). */
static void tftpc_send_error(struct tftpc *c, uint16_t code, const char *msg)
{
    uint8_t pkt[TFTP_HEADER_LEN + TFTP_ERRMSG_MAX];
    int n = tftp_packet_build_error(pkt, sizeof(pkt), code, msg);

    if (n > 0)
        (void)send(c->fd, pkt, (size_t)n, 0);
}

static int tftpc_send_request(struct tftpc *c)
{
    ssize_t n = sendto(c->fd, c->req, c->req_len, 0, c->server, c->server_len);

    return send_result(n, c->req_len);
}

static void tftpc_arm_timer(struct tftpc *c, uint64_t now_ns)
{
    c->deadline_ns = now_ns + c->p->timeout_ms * TFTPC_NS_PER_MS;
}

int tftpc_start(struct tftpc *c, int fd, const struct tftpc_params *p,
                const struct sockaddr *server, socklen_t server_len, const uint8_t *req,
                size_t req_len, uint64_t now_ns)
{
    tftpc_sink_fn sink = c->sink;
    void *sink_arg = c->sink_arg;

    memset(c, 0, sizeof(*c));
    c->sink = sink;
    c->sink_arg = sink_arg;
    c->fd = fd;
    c->p = p;
    c->server = server;
    c->server_len = server_len;
    c->req = req;
    c->req_len = req_len;
    c->state = TFTPC_WAIT_FIRST;
    c->blksize = TFTP_BLKSIZE_DEFAULT;
    c->windowsize = 1;
    tftpc_arm_timer(c, now_ns);
    return tftpc_send_request(c);
}

void tftpc_close(struct tftpc *c)
{
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->state = TFTPC_IDLE;
}

const char *tftpc_check_tsize(const struct tftpc *c)
{
    if (c->tsize_known && c->bytes != c->tsize)
        return "size differs from the tsize in the OACK";
    return NULL;
}

static bool addr_same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* The server's TID is the source port of its first reply: from now on the
 * socket talks to that port only, and the kernel drops strangers. */
static int tftpc_lock_peer(struct tftpc *c, const struct sockaddr_storage *from, socklen_t from_len)
{
    if (!addr_same_host(from, c->server))
        return 1; /* not our server: ignore */
    if (connect(c->fd, (const struct sockaddr *)from, from_len) != 0)
        return -errno;
    return 0;
}

/* RFC 2347: an OACK holds only options we asked for, each no larger than asked. */
static const char *tftpc_apply_oack(struct tftpc *c, const struct tftp_options *o)
{
    unsigned asked = (c->p->blksize ? TFTP_OPT_BLKSIZE : 0) |
                     (c->p->windowsize ? TFTP_OPT_WINDOWSIZE : 0) |
                     (c->p->tsize ? TFTP_OPT_TSIZE : 0);

    if ((o->present & ~asked) != 0)
        return "OACK carries an option we did not ask for";
    if (o->present & TFTP_OPT_BLKSIZE) {
        if (o->blksize > c->p->blksize)
            return "OACK blksize larger than asked";
        c->blksize = o->blksize;
    }
    if (o->present & TFTP_OPT_WINDOWSIZE) {
        if (o->windowsize > c->p->windowsize)
            return "OACK windowsize larger than asked";
        c->windowsize = o->windowsize;
    }
    if (o->present & TFTP_OPT_TSIZE) {
        c->tsize_known = true;
        c->tsize = o->tsize;
    }
    return NULL;
}

/* Returns NULL to go on, "" when the transfer completed, else why it failed. */
static const char *tftpc_on_oack(struct tftpc *c, const struct tftp_packet *pk, uint64_t now_ns)
{
    const char *why;

    if (c->state == TFTPC_RECEIVING) {
        /* Our ACK 0 was lost and the OACK came again: answer it again. */
        if (c->last_block == 0 && c->bytes == 0)
            c->reack = true;
        return NULL;
    }
    why = tftpc_apply_oack(c, &pk->opts);
    if (why != NULL) {
        tftpc_send_error(c, TFTP_ERR_OPTION, why);
        return why;
    }
    c->state = TFTPC_RECEIVING;
    if (tftpc_send_ack(c, 0) != 0)
        return "send ACK 0 failed";
    tftpc_arm_timer(c, now_ns);
    return NULL;
}

/* An in-order block; ACK at the end of each window and at the short last block. */
static const char *tftpc_accept_block(struct tftpc *c, const struct tftp_packet *pk,
                                      uint64_t now_ns)
{
    c->bytes += pk->data_len;
    if (c->sink != NULL && c->sink(c->sink_arg, pk->data, pk->data_len) != 0) {
        tftpc_send_error(c, TFTP_ERR_UNDEFINED, "receiver refused the data");
        return "receiver refused the data";
    }
    c->last_block = pk->block;
    c->in_window++;
    c->retries = 0;
    tftpc_arm_timer(c, now_ns);
    if (pk->data_len < c->blksize) {
        if (tftpc_send_ack(c, pk->block) != 0)
            return "send final ACK failed";
        return "";
    }
    if (c->in_window >= c->windowsize && tftpc_send_ack(c, pk->block) != 0)
        return "send ACK failed";
    return NULL;
}

static const char *tftpc_on_data(struct tftpc *c, struct tftpc_shared *sh,
                                 const struct tftp_packet *pk, uint64_t now_ns)
{
    if (c->state == TFTPC_WAIT_FIRST)
        c->state = TFTPC_RECEIVING; /* no option accepted (or none asked): RFC 1350 defaults */
    if (pk->data_len > c->blksize) {
        tftpc_send_error(c, TFTP_ERR_ILLEGAL_OP, "block larger than blksize");
        return "DATA larger than the negotiated blksize";
    }
    /* Block numbers wrap at 65535 to 0 (RFC 1350 as practised); compare mod 2^16. */
    if (pk->block != (uint16_t)(c->last_block + 1)) {
        c->reack = true; /* gap or duplicate: re-ACK the last in-order block */
        sh->out_of_order++;
        return NULL;
    }
    return tftpc_accept_block(c, pk, now_ns);
}

static const char *tftpc_on_error_packet(struct tftpc *c, const struct tftp_packet *pk, char *buf,
                                         size_t cap)
{
    char clean[TFTP_ERRMSG_MAX]; /* room enough in why_buf for the prefix */

    c->fail = pk->error_code == TFTP_ERR_NOT_FOUND ? TFTPC_FAIL_NOT_FOUND : TFTPC_FAIL_ERROR;
    log_clean(pk->error_msg, strlen(pk->error_msg), clean, sizeof(clean));
    snprintf(buf, cap, "server ERROR %u: %s", (unsigned)pk->error_code, clean);
    return buf;
}

/* One datagram; same return convention as tftpc_on_oack. */
static const char *tftpc_on_datagram(struct tftpc *c, struct tftpc_shared *sh, const uint8_t *buf,
                                     size_t len, uint64_t now_ns, char *why_buf, size_t why_cap)
{
    struct tftp_packet pk;

    if (tftp_packet_parse(buf, len, &pk) != TFTP_PARSE_OK) {
        tftpc_send_error(c, TFTP_ERR_ILLEGAL_OP, "malformed packet");
        return "malformed packet from the server";
    }
    switch (pk.op) {
    case TFTP_OP_DATA:
        return tftpc_on_data(c, sh, &pk, now_ns);
    case TFTP_OP_OACK:
        return tftpc_on_oack(c, &pk, now_ns);
    case TFTP_OP_ERROR:
        return tftpc_on_error_packet(c, &pk, why_buf, why_cap);
    default:
        tftpc_send_error(c, TFTP_ERR_ILLEGAL_OP, "unexpected opcode");
        return "unexpected opcode from the server";
    }
}

/* Handles what one recvmmsg returned; stops at the end of the transfer. */
static const char *tftpc_on_batch(struct tftpc *c, struct tftpc_shared *sh, int n, uint64_t now_ns,
                                  char *why_buf, size_t why_cap)
{
    const char *why = NULL;

    for (int i = 0; i < n && why == NULL; i++) {
        struct mmsghdr *m = &sh->msgs[i];

        if (c->state == TFTPC_WAIT_FIRST) {
            int rc = tftpc_lock_peer(c, &sh->from[i], m->msg_hdr.msg_namelen);

            if (rc > 0)
                continue;
            if (rc < 0)
                return "connect to the server's TID failed";
        }
        why = tftpc_on_datagram(c, sh, sh->iov[i].iov_base, m->msg_len, now_ns, why_buf, why_cap);
    }
    if (why == NULL && c->reack && tftpc_send_ack(c, c->last_block) != 0)
        why = "send ACK failed";
    return why;
}

static void rx_prepare(struct tftpc_shared *sh, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct msghdr *h = &sh->msgs[i].msg_hdr;

        memset(h, 0, sizeof(*h));
        h->msg_name = &sh->from[i];
        h->msg_namelen = sizeof(sh->from[i]);
        h->msg_iov = &sh->iov[i];
        h->msg_iovlen = 1;
    }
}

/* Turns a handler's answer into a step; a failure's text lands in why_buf. */
static enum tftpc_step tftpc_step_of(struct tftpc *c, const char *why, char *why_buf,
                                     size_t why_cap)
{
    if (why == NULL)
        return TFTPC_GOING;
    if (why[0] == '\0')
        return TFTPC_DONE;
    if (why != why_buf)
        snprintf(why_buf, why_cap, "%s", why);
    if (c->fail == TFTPC_FAIL_NONE)
        c->fail = TFTPC_FAIL_ERROR;
    return TFTPC_FAILED;
}

enum tftpc_step tftpc_on_readable(struct tftpc *c, struct tftpc_shared *sh, uint64_t now_ns,
                                  char *why_buf, size_t why_cap)
{
    unsigned want = c->windowsize < TFTPC_BATCH_MAX ? c->windowsize : TFTPC_BATCH_MAX;
    const char *why;
    int n;

    if (c->state == TFTPC_IDLE)
        return TFTPC_GOING; /* ended earlier in this round of events */
    if (want < 2)
        want = 2; /* an OACK may change the window size mid-batch: keep it cheap */
    rx_prepare(sh, want);
    n = recvmmsg(c->fd, sh->msgs, want, MSG_DONTWAIT, NULL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return TFTPC_GOING;
        why = errno == ECONNREFUSED ? "connection refused (server socket closed)" : "recv failed";
    } else {
        why = tftpc_on_batch(c, sh, n, now_ns, why_buf, why_cap);
    }
    return tftpc_step_of(c, why, why_buf, why_cap);
}

/* Our own retransmission: the RRQ again, or the last ACK again. */
enum tftpc_step tftpc_on_timeout(struct tftpc *c, struct tftpc_shared *sh, uint64_t now_ns,
                                 char *why_buf, size_t why_cap)
{
    const char *why = NULL;

    if (c->retries >= c->p->retries) {
        c->fail = TFTPC_FAIL_TIMEOUT;
        why = c->state == TFTPC_WAIT_FIRST ? "no answer to the RRQ" : "timed out";
        return tftpc_step_of(c, why, why_buf, why_cap);
    }
    c->retries++;
    sh->timeouts++;
    tftpc_arm_timer(c, now_ns);
    if (c->state == TFTPC_WAIT_FIRST)
        why = tftpc_send_request(c) == 0 ? NULL : "resend RRQ failed";
    else
        why = tftpc_send_ack(c, c->last_block) == 0 ? NULL : "resend ACK failed";
    return tftpc_step_of(c, why, why_buf, why_cap);
}
