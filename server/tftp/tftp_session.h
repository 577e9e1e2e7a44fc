/* tftp_session.h: the state machine of one read transfer (server side).
 * Pure: events in (request, ACK, ERROR, timeout, with the time given by the
 * caller), decisions out (send OACK, send blocks a..b, stop). No sockets, no
 * clock, no allocation; the I/O layer owns the file and the socket. */
#ifndef LOADSD_TFTP_SESSION_H
#define LOADSD_TFTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "server/tftp/tftp_packet.h"

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

enum tftp_session_state {
    TFTP_SESSION_OACK_SENT, /* waiting for ACK 0 */
    TFTP_SESSION_SENDING,   /* data windows in flight */
    TFTP_SESSION_DONE,      /* the last block was acknowledged */
    TFTP_SESSION_FAILED,    /* peer error, or gave up after retries */
};

enum tftp_session_end {
    TFTP_END_NONE,       /* still running */
    TFTP_END_COMPLETE,   /* every block acknowledged */
    TFTP_END_PEER_ERROR, /* the client sent ERROR (e.g. 8 after an OACK: a tsize probe) */
    TFTP_END_TIMEOUT,    /* retries exhausted */
};

/* What the caller must do after an event. Blocks are absolute numbers (1 is
 * the first); tftp_session_wire_block() gives the 16-bit number to send. */
struct tftp_session_out {
    bool send_oack;      /* send tftp_session_accepted() as an OACK */
    uint64_t send_first; /* send blocks send_first .. send_first + send_count - 1 */
    uint64_t send_count;
};

/* Fields are private to tftp_session.c; the struct is public only so the
 * I/O layer can embed it without an allocation. */
struct tftp_session {
    struct tftp_session_limits lim;
    enum tftp_session_state state;
    enum tftp_session_end end;
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
void tftp_session_on_error(struct tftp_session *s);
/* Call when now_ms >= tftp_session_deadline(); earlier calls do nothing. */
void tftp_session_on_timeout(struct tftp_session *s, uint64_t now_ms, struct tftp_session_out *out);

/* 0 when the session has ended (no timer needed). */
uint64_t tftp_session_deadline(const struct tftp_session *s);
bool tftp_session_finished(const struct tftp_session *s);
/* True once the peer has sent a valid ACK (of the OACK or of data): it is
 * reachable at the address the request came from. */
bool tftp_session_peer_proven(const struct tftp_session *s);
const struct tftp_options *tftp_session_accepted(const struct tftp_session *s);

uint16_t tftp_session_wire_block(const struct tftp_session *s, uint64_t block);
uint64_t tftp_session_block_offset(const struct tftp_session *s, uint64_t block);
uint32_t tftp_session_block_len(const struct tftp_session *s, uint64_t block);

#endif
