/* send.c: DATA windows onto the wire: iovecs into the file's shared mapping,
 * headers from the codec, one GSO datagram or one sendmmsg per batch. */
#include "server/tftp/send.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#include "lib/log.h"

#define GSO_SEGMENTS_MAX 64    /* the kernel's UDP_MAX_SEGMENTS */
#define GSO_BYTES_MAX    65000 /* one UDP datagram before segmentation, with room */

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h; glibc's netinet/udp.h has it from 2.28 */
#endif

void send_batch_init(struct send_batch *b, atomic_bool *gso_off)
{
    b->gso_off = gso_off;
}

/* Points the messages at the next batch of blocks in the file's mapping.
 * Returns the number of messages. */
static int batch_prepare(struct send_batch *b, struct send_stream *st, const struct tftp_session *s)
{
    static const uint8_t none[1]; /* a zero-length last block points here */
    uint64_t first = st->next, count = st->end - st->next;
    uint64_t off = tftp_session_block_offset(s, first);
    const uint8_t *data = st->file.data != NULL ? st->file.data + off : none;
    size_t pos = 0;
    int n;

    if (count > SEND_BATCH_MSGS)
        count = SEND_BATCH_MSGS;
    for (n = 0; n < (int)count; n++) {
        uint32_t len = tftp_session_block_len(s, first + (uint64_t)n);

        tftp_packet_data_header(b->hdrs[n], tftp_session_wire_block(s, first + (uint64_t)n));
        b->iov[n][0] = (struct iovec){b->hdrs[n], TFTP_HEADER_LEN};
        b->iov[n][1] = (struct iovec){(void *)(len > 0 ? data + pos : none), len};
        memset(&b->msgs[n], 0, sizeof(b->msgs[n]));
        b->msgs[n].msg_hdr.msg_iov = b->iov[n];
        b->msgs[n].msg_hdr.msg_iovlen = 2;
        pos += len;
    }
    return n;
}

/* How many of the n prepared blocks can go out as one GSO datagram: every
 * segment (header + block) must have the same size but the last, and the
 * whole must fit one UDP datagram. 0 or 1: not worth it. */
static int gso_blocks(const struct send_batch *b, uint32_t blksize, int n)
{
    size_t seg = TFTP_HEADER_LEN + blksize;
    int max = (int)(GSO_BYTES_MAX / seg);

    if (atomic_load_explicit(b->gso_off, memory_order_relaxed))
        return 0;
    if (max > GSO_SEGMENTS_MAX)
        max = GSO_SEGMENTS_MAX;
    return n < max ? n : max;
}

/* Sends the first k prepared blocks as one datagram that the kernel cuts into
 * k DATA packets (UDP generic segmentation offload): one pass through the
 * UDP stack per window instead of one per block. Returns k, or -1 with errno. */
static int send_gso(const struct send_batch *b, int sock, uint32_t blksize, int k)
{
    struct iovec iov[2 * GSO_SEGMENTS_MAX];
    union {
        char b[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl;
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)(2 * k)};
    struct cmsghdr *c;
    uint16_t seg = (uint16_t)(TFTP_HEADER_LEN + blksize);

    for (int i = 0; i < k; i++) {
        iov[2 * i] = b->iov[i][0];
        iov[2 * i + 1] = b->iov[i][1];
    }
    memset(&ctl, 0, sizeof(ctl));
    m.msg_control = ctl.b;
    m.msg_controllen = sizeof(ctl.b);
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_UDP; /* SOL_UDP */
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(seg));
    memcpy(CMSG_DATA(c), &seg, sizeof(seg));
    return sendmsg(sock, &m, MSG_DONTWAIT) < 0 ? -1 : k;
}

/* Sends the first n prepared blocks: one GSO datagram when it can, else one
 * sendmmsg. Returns how many went out, or -1 with errno. */
static int batch_send(struct send_batch *b, int sock, uint32_t blksize, int n)
{
    int k = gso_blocks(b, blksize, n), sent;

    if (k >= 2) {
        sent = send_gso(b, sock, blksize, k);
        if (sent >= 0 ||
            (errno != EIO && errno != EINVAL && errno != ENOPROTOOPT && errno != EOPNOTSUPP))
            return sent;
        /* No segmentation here (old kernel, odd device): never ask again. */
        if (!atomic_exchange(b->gso_off, true))
            log_info("UDP segmentation offload unavailable (%s): sending DATA one by one",
                     strerror(errno));
    }
    return sendmmsg(sock, b->msgs, (unsigned)n, MSG_DONTWAIT);
}

int send_flush(struct send_batch *b, struct send_stream *st, const struct tftp_session *s)
{
    while (st->next < st->end) {
        int n = batch_prepare(b, st, s), sent;

        sent = batch_send(b, st->sock, s->blksize, n);
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return SEND_BLOCKED;
        /* The kernel could not copy from the mapping: the file was cut
         * short under it (the pages past its new end are gone). */
        if (sent < 0 && errno == EFAULT)
            return -EIO;
        if (sent < 0)
            return -errno;
        for (int i = 0; i < sent; i++)
            st->bytes_sent += b->iov[i][1].iov_len;
        st->next += (uint64_t)sent;
        if (sent < n)
            return SEND_BLOCKED;
    }
    return SEND_DONE;
}
