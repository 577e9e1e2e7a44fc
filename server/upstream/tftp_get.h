/* tftp_get.h: one TFTP read (RRQ) as the branch's client, a pure state
 * machine of datagrams and time (RFC 1350, 2347, 2348, 2349, 7440). Never
 * touches a socket, a file or the clock: it says what to send and which
 * bytes to keep; tftp_fetch.c does the I/O. */
#ifndef LOADSD_UPSTREAM_TFTP_GET_H
#define LOADSD_UPSTREAM_TFTP_GET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/tftp/tftp_packet.h"

#define TFTP_GET_BLKSIZE_DEFAULT 1468 /* an Ethernet frame's worth after IP/UDP/TFTP headers */
#define TFTP_GET_WINDOW_DEFAULT  16
#define TFTP_GET_WINDOW_MAX      64 /* more only fills the WAN's queue */
#define TFTP_GET_RTO_MIN_MS      200
#define TFTP_GET_RTO_MAX_MS      8000
#define TFTP_GET_WHY_MAX         160

struct tftp_get_params {
    uint32_t blksize;    /* asked for (8..65464); 512 asks nothing (RFC 1350's size) */
    uint32_t windowsize; /* asked for (1..TFTP_GET_WINDOW_MAX); 1 asks nothing (lock-step) */
    uint64_t max_bytes;  /* a larger file (tsize or bytes) is refused */
    unsigned timeout_ms; /* silence before the first resend; doubles per resend */
    unsigned retries;    /* resends in a row before the transfer fails */
};

enum tftp_get_status {
    TFTP_GET_GOING = 0,
    TFTP_GET_DONE = 1,     /* every byte received, the last ACK sent */
    TFTP_GET_ABSENT = -1,  /* ERROR 1: the server has no such file */
    TFTP_GET_FAILED = -2,  /* another ERROR, a broken exchange, or the retries are spent */
    TFTP_GET_TOO_BIG = -3, /* over max_bytes (the server is told with ERROR 3) */
};

/* What one event asks of the caller, in this order: keep data (data_len
 * bytes at offset data_off of the file; the file grows in order), then send
 * the packet (send_len > 0) to the server's transfer port, or, when
 * to_stranger, to the port the event's datagram came from (ERROR 5). */
struct tftp_get_action {
    const uint8_t *data;
    size_t data_len;
    uint64_t data_off;
    const uint8_t *send;
    size_t send_len;
    bool to_stranger;
};

enum tftp_get_state { TFTP_GET_WAIT_FIRST, TFTP_GET_RECEIVING, TFTP_GET_END };

struct tftp_get {
    struct tftp_get_params p;
    enum tftp_get_state state;
    int status; /* enum tftp_get_status once state is TFTP_GET_END */
    uint8_t rrq[TFTP_REQUEST_MAX];
    size_t rrq_len;
    uint8_t out[TFTP_REQUEST_MAX]; /* the last ACK or ERROR */
    size_t out_len;
    bool tid_known;
    uint16_t tid;        /* the server's transfer port, from its first answer */
    uint32_t blksize;    /* granted */
    uint32_t windowsize; /* granted */
    bool tsize_known;
    uint64_t tsize;
    uint16_t last_block; /* the last block received in order (0 before DATA 1) */
    uint64_t bytes;      /* received in order */
    uint32_t in_window;  /* in-order blocks since the last ACK */
    bool reacked;        /* an ACK went out for a gap or duplicate since the last progress */
    unsigned resends;    /* in a row */
    unsigned rto_ms;
    int64_t deadline_ms;
    /* counters, for the log and the benchmark */
    uint64_t packets_in, packets_out, resends_total, ignored;
    char why[TFTP_GET_WHY_MAX]; /* why it failed, printable ASCII only */
};

/* Fills p with the defaults (1468, 16, 1000 ms, 5 resends) and max_bytes. */
void tftp_get_params_default(struct tftp_get_params *p, uint64_t max_bytes);

/* Starts a read of name (octet mode); a->send is the RRQ for the server's
 * well-known port. TFTP_GET_GOING, or TFTP_GET_FAILED (a name too long for
 * a request, bad params). */
int tftp_get_start(struct tftp_get *g, const struct tftp_get_params *p, const char *name,
                   int64_t now_ms, struct tftp_get_action *a);

/* A datagram from the server's host, from its port from_port. Garbage,
 * truncated or stray packets are ignored (counted) and change nothing. */
int tftp_get_on_packet(struct tftp_get *g, const uint8_t *buf, size_t len, uint16_t from_port,
                       int64_t now_ms, struct tftp_get_action *a);

/* The deadline passed (now_ms >= tftp_get_deadline): a resend, or the end. */
int tftp_get_on_timer(struct tftp_get *g, int64_t now_ms, struct tftp_get_action *a);

/* When tftp_get_on_timer is due (monotonic ms). */
int64_t tftp_get_deadline(const struct tftp_get *g);

#endif
