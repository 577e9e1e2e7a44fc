/* send.h: puts a run of DATA blocks on a transfer's socket: points iovecs at
 * their bytes in the file's shared mapping (no copy in user space, no buffer
 * per transfer), writes the headers, and sends one GSO datagram or one
 * sendmmsg per batch.
 * Never chooses which blocks go out (the session does), never waits, never
 * touches epoll: a full socket buffer is reported to the caller. */
#ifndef LOADSD_TFTP_SEND_H
#define LOADSD_TFTP_SEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "server/tftp/filemap.h"
#include "server/tftp/tftp_session.h"

#define SEND_BATCH_MSGS 64 /* datagrams per sendmmsg */

/* One worker's scratch: no allocation per packet. */
struct send_batch {
    struct mmsghdr msgs[SEND_BATCH_MSGS];
    struct iovec iov[SEND_BATCH_MSGS][2];
    uint8_t hdrs[SEND_BATCH_MSGS][TFTP_HEADER_LEN];
    atomic_bool *gso_off; /* shared: the kernel refused UDP_SEGMENT once, sendmmsg only */
};

/* One transfer's outgoing side. */
struct send_stream {
    int sock;                /* connected to the client */
    struct filemap_ref file; /* the bytes: read by the kernel only (filemap.h) */
    uint64_t next, end;      /* blocks still to put on the wire: next .. end - 1 */
    uint64_t bytes_sent;     /* payload bytes, resends included */
};

enum { SEND_DONE = 0, SEND_BLOCKED = 1 };

void send_batch_init(struct send_batch *b, atomic_bool *gso_off);
/* Sends blocks st->next .. st->end - 1 of session s, a batch at a time.
 * SEND_DONE when all went out, SEND_BLOCKED when the socket buffer is full
 * (st->next says where to go on), or a negative errno: -EIO when the file
 * was cut short under its mapping (the kernel's copy failed), another when
 * the socket failed (-ECONNREFUSED: the client's port is closed). */
int send_flush(struct send_batch *b, struct send_stream *st, const struct tftp_session *s);

#endif
