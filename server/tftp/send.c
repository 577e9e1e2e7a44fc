/* send.c: DATA windows onto the wire: bytes by read-ahead or one pread per
 * batch, headers from the codec, one GSO datagram or one sendmmsg per batch. */
#include "server/tftp/send.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

#define GSO_SEGMENTS_MAX 64    /* the kernel's UDP_MAX_SEGMENTS */
#define GSO_BYTES_MAX    65000 /* one UDP datagram before segmentation, with room */

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h; glibc's netinet/udp.h has it from 2.28 */
#endif

int send_batch_init(struct send_batch *b, atomic_bool *gso_off)
{
    b->gso_off = gso_off;
    b->buf = malloc(SEND_BATCH_BYTES > TFTP_BLKSIZE_MAX ? SEND_BATCH_BYTES : TFTP_BLKSIZE_MAX);
    return b->buf != NULL ? 0 : -ENOMEM;
}

void send_batch_free(struct send_batch *b)
{
    free(b->buf);
    b->buf = NULL;
}

/* The want bytes at off, for a batch that fits the read-ahead buffer: served
 * from it when it holds them, else refilled with one pread from off. A lock-step
 * transfer (one block per ACK) so pays one pread per SEND_READAHEAD, not one
 * per block. Returns the bytes, or NULL with *err set (-EIO: the file shrank). */
static const uint8_t *readahead_get(struct send_stream *st, uint64_t off, size_t want, int *err)
{
    ssize_t got;

    if (off >= st->ra_off && off + want <= st->ra_off + st->ra_len)
        return st->ra + (off - st->ra_off);
    got = pread(st->fd, st->ra, sizeof(st->ra), (off_t)off);
    st->ra_off = off;
    st->ra_len = got > 0 ? (size_t)got : 0;
    if (got < 0 || (size_t)got < want) {
        *err = got < 0 ? -errno : -EIO;
        return NULL;
    }
    return st->ra;
}

/* The want bytes at off for a larger batch: one pread into the worker's
 * buffer. Returns them, or NULL with *err set (-EIO: the file shrank). */
static const uint8_t *batch_read(struct send_batch *b, const struct send_stream *st, uint64_t off,
                                 size_t want, int *err)
{
    ssize_t got = pread(st->fd, b->buf, want, (off_t)off);

    if (got < 0 || (size_t)got != want) {
        *err = got < 0 ? -errno : -EIO;
        return NULL;
    }
    return b->buf;
}

/* Reads the next batch of blocks (one pread at most) and points the messages
 * at it. Returns the number of messages, or a negative errno. */
static int batch_prepare(struct send_batch *b, struct send_stream *st, const struct tftp_session *s)
{
    uint32_t blk = s->blksize;
    uint64_t first = st->next, count = st->end - st->next;
    uint64_t max_blocks = SEND_BATCH_BYTES / blk ? SEND_BATCH_BYTES / blk : 1;
    uint64_t off = tftp_session_block_offset(s, first);
    const uint8_t *data = b->buf; /* a zero-length last block points here */
    size_t want = 0, pos = 0;
    int n, err = 0;

    if (count > SEND_BATCH_MSGS)
        count = SEND_BATCH_MSGS;
    if (count > max_blocks)
        count = max_blocks;
    for (uint64_t i = first; i < first + count; i++)
        want += tftp_session_block_len(s, i);
    if (want > 0) {
        data = want <= sizeof(st->ra) ? readahead_get(st, off, want, &err)
                                      : batch_read(b, st, off, want, &err);
        if (data == NULL)
            return err;
    }
    for (n = 0; n < (int)count; n++) {
        uint32_t len = tftp_session_block_len(s, first + (uint64_t)n);

        tftp_packet_data_header(b->hdrs[n], tftp_session_wire_block(s, first + (uint64_t)n));
        b->iov[n][0] = (struct iovec){b->hdrs[n], TFTP_HEADER_LEN};
        b->iov[n][1] = (struct iovec){(void *)(data + pos), len};
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

        if (n < 0)
            return n;
        sent = batch_send(b, st->sock, s->blksize, n);
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return SEND_BLOCKED;
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
