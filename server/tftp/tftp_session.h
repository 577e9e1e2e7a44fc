/* tftp_session.h: the state machine of one read transfer (server side), and
 * the verdict on a request before one starts. Pure: events in (request, datagram,
 * timeout, what the I/O layer saw, with the time given by the caller), decisions
 * out (send OACK, send blocks a..b, send this ERROR, stop). Never touches a
 * socket, a file or the clock, never allocates; the I/O layer owns those. */
#ifndef LOADSD_TFTP_SESSION_H
#define LOADSD_TFTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "server/tftp/tftp_packet.h"
#include "server/tftp/wire_error.h"

/* Resends before the peer's first ACK: a request from a forged address earns
 * the first send and one resend, whatever retries_max allows a phone that answers. */
#define TFTP_SESSION_RESENDS_UNPROVEN 1

struct tftp_session_limits {
    uint32_t blksize_max;    /* min(configured cap, what fits the path MTU) */
    uint32_t windowsize_max; /* configured cap, 1..65535 */
    uint32_t rto_initial_ms; /* first timeout when the client negotiated none */
    uint32_t rto_min_ms;     /* bounds of the adaptive timeout */
    uint32_t rto_max_ms;     /* and of exponential backoff */
    uint32_t retries_max;    /* resends of one window (or OACK) before giving up */
    bool rollover_to_one;    /* after block 65535 comes 1 instead of 0 */
};

/* One field says where a transfer is: running (the first two) or how it
 * ended (the rest). tftp_session_finished() is true from TFTP_SESSION_DONE on. */
enum tftp_session_state {
    TFTP_SESSION_OACK_SENT,    /* waiting for ACK 0 */
    TFTP_SESSION_SENDING,      /* data windows in flight */
    TFTP_SESSION_DONE,         /* ended: the last block was acknowledged */
    TFTP_SESSION_PEER_ERROR,   /* ended: the client sent ERROR (8 after an OACK: a tsize probe) */
    TFTP_SESSION_TIMEOUT,      /* ended: retries exhausted */
    TFTP_SESSION_ILLEGAL,      /* ended: the client sent a packet other than ACK or ERROR */
    TFTP_SESSION_FILE_CHANGED, /* ended: the file gave fewer bytes than its size */
    TFTP_SESSION_IO_FAILED,    /* ended: the socket or the file failed (ICMP unreachable, ...) */
    TFTP_SESSION_SHUTDOWN,     /* ended: the server is stopping */
    TFTP_SESSION_EVICTED,      /* ended: never answered, its place went to a new request */
};

/* What the I/O layer saw happen to a transfer, besides datagrams and time. */
enum tftp_session_event {
    TFTP_EVENT_FILE_SHORT, /* a read of the file came up short (or failed with EIO) */
    TFTP_EVENT_IO_FAILED,  /* the socket or the file failed otherwise */
    TFTP_EVENT_SHUTDOWN,   /* the server is stopping and its grace time is over */
    TFTP_EVENT_EVICTED,    /* admission gave its unanswered place to a new request */
};

/* What the caller must do after an event. Blocks are absolute numbers (1 is
 * the first); tftp_session_wire_block() gives the 16-bit number to send. */
struct tftp_session_out {
    bool send_oack;      /* send tftp_session_accepted() as an OACK */
    uint64_t send_first; /* send blocks send_first .. send_first + send_count - 1 */
    uint64_t send_count;
    enum tftp_failure send_error; /* not TFTP_FAIL_NONE: send this ERROR (wire_error.h) */
};

/* What to do with a datagram that came to a listener, before any session. */
enum tftp_request_verdict {
    TFTP_REQUEST_READ,      /* a valid RRQ: start a transfer */
    TFTP_REQUEST_IGNORE,    /* an ERROR: never answered (RFC 1350 section 7) */
    TFTP_REQUEST_REFUSED,   /* a valid request this server never serves (WRQ) */
    TFTP_REQUEST_MALFORMED, /* does not parse */
};

/* Fields are private to tftp_session.c; the struct is public only so the
 * I/O layer can embed it without an allocation. */
struct tftp_session {
    struct tftp_session_limits lim;
    enum tftp_session_state state;
    struct tftp_options accepted; /* what the OACK carries */
    uint64_t size;                /* bytes in the transfer (after netascii encoding) */
    uint32_t blksize;
    uint32_t windowsize;
    uint64_t last_block; /* the final (short or empty) block */
    uint64_t acked;      /* highest block acknowledged; 0 = none (or the OACK) */
    uint64_t sent;       /* highest block sent in the current window */
    uint64_t deadline_ms;
    uint64_t window_sent_ms; /* when the current window (or OACK) went out */
    bool window_resent;      /* Karn: no RTT sample from a resent window */
    bool peer_proven;        /* the peer has sent a valid ACK */
    bool timeout_fixed;      /* timeout negotiated: no adaptation */
    uint32_t retries;
    uint32_t rto_ms;
    uint32_t srtt_ms, rttvar_ms; /* RFC 6298, scaled by 8 and 4; 0 = no sample */
};

/* Starts a transfer of size bytes for a request with the given options.
 * Negotiation (RFC 2347): only asked-for and acceptable options are answered;
 * tsize is dropped in netascii; with nothing accepted, DATA 1 goes out at once. */
void tftp_session_start(struct tftp_session *s, const struct tftp_session_limits *lim,
                        const struct tftp_options *asked, enum tftp_mode mode, uint64_t size,
                        uint64_t now_ms, struct tftp_session_out *out);
void tftp_session_on_ack(struct tftp_session *s, uint16_t block, uint64_t now_ms,
                         struct tftp_session_out *out);
/* The client sent ERROR. */
void tftp_session_on_error(struct tftp_session *s);
/* A datagram from the client (the I/O layer's socket is connected to it):
 * parsed here into *pkt (which the caller may log); ACK and ERROR are the
 * events above, anything else ends the transfer with ERROR 4 (RFC 1350). */
void tftp_session_on_datagram(struct tftp_session *s, const uint8_t *buf, size_t len,
                              uint64_t now_ms, struct tftp_packet *pkt,
                              struct tftp_session_out *out);
/* Something the I/O layer saw: the session ends and says which ERROR, if any, goes out. */
void tftp_session_on_event(struct tftp_session *s, enum tftp_session_event ev,
                           struct tftp_session_out *out);
/* Call when now_ms >= tftp_session_deadline(); earlier calls do nothing. */
void tftp_session_on_timeout(struct tftp_session *s, uint64_t now_ms, struct tftp_session_out *out);

/* 0 when the session has ended (no timer needed). */
uint64_t tftp_session_deadline(const struct tftp_session *s);
bool tftp_session_finished(const struct tftp_session *s);
enum tftp_session_state tftp_session_get_state(const struct tftp_session *s);
/* True when every block was acknowledged. */
bool tftp_session_complete(const struct tftp_session *s);
/* Why the transfer ended, for the log ("complete", "client stopped answering"). */
const char *tftp_session_end_reason(const struct tftp_session *s);
/* True once the peer has sent a valid ACK (of the OACK or of data): it is
 * reachable at the address the request came from. */
bool tftp_session_peer_proven(const struct tftp_session *s);
const struct tftp_options *tftp_session_accepted(const struct tftp_session *s);

/* Judges a datagram that came to a listener (truncated: it did not fit the
 * receive buffer). READ and REFUSED fill *req (pointing into buf); REFUSED
 * and MALFORMED set *fail to the ERROR the sender gets. */
enum tftp_request_verdict tftp_session_judge_request(const uint8_t *buf, size_t len, bool truncated,
                                                     struct tftp_request *req,
                                                     enum tftp_failure *fail);

uint16_t tftp_session_wire_block(const struct tftp_session *s, uint64_t block);
uint64_t tftp_session_block_offset(const struct tftp_session *s, uint64_t block);
uint32_t tftp_session_block_len(const struct tftp_session *s, uint64_t block);

#endif
