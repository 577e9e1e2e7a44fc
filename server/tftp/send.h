/* send.h: puts a run of DATA blocks on a transfer's socket: reads their bytes
 * (a small read-ahead per transfer, or one pread per batch), writes the headers,
 * and sends them as one GSO datagram or one sendmmsg per batch.
 * Never chooses which blocks go out (the session does), never waits, never
 * touches epoll: a full socket buffer is reported to the caller. */
#ifndef LOADSD_TFTP_SEND_H
#define LOADSD_TFTP_SEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "server/tftp/tftp_session.h"

#define SEND_BATCH_MSGS  64         /* datagrams per sendmmsg */
#define SEND_BATCH_BYTES (1u << 20) /* file bytes read per batch */
#define SEND_READAHEAD   8192       /* per transfer: small sends read this much at once */

/* One worker's scratch: no allocation per packet. */
struct send_batch {
    uint8_t *buf; /* SEND_BATCH_BYTES */
    struct mmsghdr msgs[SEND_BATCH_MSGS];
    struct iovec iov[SEND_BATCH_MSGS][2];
    uint8_t hdrs[SEND_BATCH_MSGS][TFTP_HEADER_LEN];
    atomic_bool *gso_off; /* shared: the kernel refused UDP_SEGMENT once, sendmmsg only */
};

/* One transfer's outgoing side. */
struct send_stream {
    int sock;                   /* connected to the client */
    int fd;                     /* the file, read with pread */
    uint64_t next, end;         /* blocks still to put on the wire: next .. end - 1 */
    uint64_t bytes_sent;        /* payload bytes, resends included */
    uint64_t ra_off;            /* file offset of ra[0] */
    size_t ra_len;              /* bytes valid in ra */
    uint8_t ra[SEND_READAHEAD]; /* lock-step: one pread per few blocks, not per block */
};

enum { SEND_DONE = 0, SEND_BLOCKED = 1 };

/* 0, or -ENOMEM. */
int send_batch_init(struct send_batch *b, atomic_bool *gso_off);
void send_batch_free(struct send_batch *b);
/* Sends blocks st->next .. st->end - 1 of session s, a batch at a time.
 * SEND_DONE when all went out, SEND_BLOCKED when the socket buffer is full
 * (st->next says where to go on), or a negative errno: -EIO when the file
 * gave fewer bytes than the session expects (it changed), another when the
 * socket or the file failed (-ECONNREFUSED: the client's port is closed). */
int send_flush(struct send_batch *b, struct send_stream *st, const struct tftp_session *s);

#endif
