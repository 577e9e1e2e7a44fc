/* tftp_session.c: one read transfer as a state machine: option negotiation
 * (RFC 2347-2349), windows (RFC 7440), block rollover, retransmission, how
 * it ends; and the verdict on a request before one starts.
 * Pure: never touches a socket, a file or the clock; times come in as arguments. */
#include "server/tftp/tftp_session.h"

#include <string.h>

#define BLOCK_CYCLE     UINT64_C(65536)
#define RTO_GRANULARITY 10 /* ms: the clock granularity G of RFC 6298 */

static void out_clear(struct tftp_session_out *out)
{
    memset(out, 0, sizeof(*out));
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint32_t clamp_u32(uint32_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* RFC 2347 section "Negotiation": answer only what was asked and is acceptable. */
static void negotiate(struct tftp_session *s, const struct tftp_options *asked, enum tftp_mode mode)
{
    struct tftp_options *acc = &s->accepted;
    uint32_t blk_cap = clamp_u32(s->lim.blksize_max, TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX);
    uint32_t win_cap = clamp_u32(s->lim.windowsize_max, TFTP_WINDOW_MIN, TFTP_WINDOW_MAX);

    memset(acc, 0, sizeof(*acc));
    s->blksize = TFTP_BLKSIZE_DEFAULT;
    s->windowsize = 1;
    if (asked->present & TFTP_OPT_BLKSIZE) {
        /* RFC 2348: the answer may be smaller than the ask, never larger. */
        acc->present |= TFTP_OPT_BLKSIZE;
        acc->blksize = min_u32(asked->blksize, blk_cap);
        s->blksize = acc->blksize;
    }
    if (asked->present & TFTP_OPT_TIMEOUT) {
        /* RFC 2349: echoed exactly. */
        acc->present |= TFTP_OPT_TIMEOUT;
        acc->timeout = asked->timeout;
    }
    if ((asked->present & TFTP_OPT_TSIZE) && mode == TFTP_MODE_OCTET) {
        /* The netascii size is only known after encoding and clients disagree
         * on what it means, so tsize is not answered there. */
        acc->present |= TFTP_OPT_TSIZE;
        acc->tsize = s->size;
    }
    if (asked->present & TFTP_OPT_WINDOWSIZE) {
        /* With rollover to 1 there are only 65535 block numbers: a window
         * that long would end on the number the previous one ended on. */
        if (s->lim.rollover_to_one && win_cap > 65534)
            win_cap = 65534;
        acc->present |= TFTP_OPT_WINDOWSIZE;
        acc->windowsize = min_u32(asked->windowsize, win_cap);
        s->windowsize = acc->windowsize;
    }
}

static void timer_arm(struct tftp_session *s, uint64_t now_ms)
{
    s->deadline_ms = now_ms + s->rto_ms;
}

/* Sends the window that starts at first; the caller sets window_resent. */
static void send_window(struct tftp_session *s, uint64_t first, uint64_t now_ms,
                        struct tftp_session_out *out)
{
    uint64_t last = first + s->windowsize - 1;

    if (last > s->last_block)
        last = s->last_block;
    out->send_first = first;
    out->send_count = last - first + 1;
    s->sent = last;
    s->window_sent_ms = now_ms;
    timer_arm(s, now_ms);
}

void tftp_session_start(struct tftp_session *s, const struct tftp_session_limits *lim,
                        const struct tftp_options *asked, enum tftp_mode mode, uint64_t size,
                        uint64_t now_ms, struct tftp_session_out *out)
{
    memset(s, 0, sizeof(*s));
    out_clear(out);
    s->lim = *lim;
    s->size = size;
    negotiate(s, asked, mode);
    /* The final block is short, and empty when size is a multiple of blksize. */
    s->last_block = size / s->blksize + 1;
    s->timeout_fixed = (s->accepted.present & TFTP_OPT_TIMEOUT) != 0;
    s->rto_ms = s->timeout_fixed ? s->accepted.timeout * 1000u : lim->rto_initial_ms;
    if (s->accepted.present != 0) {
        s->state = TFTP_SESSION_OACK_SENT;
        out->send_oack = true;
        s->window_sent_ms = now_ms;
        timer_arm(s, now_ms);
        return;
    }
    s->state = TFTP_SESSION_SENDING;
    send_window(s, 1, now_ms, out);
}

/* RFC 6298 estimators in fixed point (srtt scaled by 8, rttvar by 4, as
 * TCP stacks keep them, so integer division does not bias them), fed only
 * with samples from windows sent once (Karn's algorithm). */
static void rtt_sample(struct tftp_session *s, uint64_t now_ms)
{
    uint32_t r = (uint32_t)(now_ms - s->window_sent_ms);
    uint32_t var;
    int32_t err;

    if (s->window_resent || s->timeout_fixed)
        return;
    if (s->srtt_ms == 0) {
        s->srtt_ms = (r > 0 ? r : 1) * 8;
        s->rttvar_ms = r / 2 * 4;
    } else {
        err = (int32_t)r - (int32_t)(s->srtt_ms >> 3);
        s->srtt_ms = (uint32_t)((int32_t)s->srtt_ms + err); /* srtt += err / 8 */
        if (err < 0)
            err = -err;
        /* rttvar += (|err| - rttvar) / 4 */
        s->rttvar_ms = (uint32_t)((int32_t)s->rttvar_ms + err - (int32_t)(s->rttvar_ms >> 2));
    }
    /* rttvar_ms holds 4 * rttvar already. Its term never falls below
     * rto_min (as Linux's TCP does): on a steady slow link rttvar decays to
     * nothing, and an RTO a few ms above a 600 ms window time resends the
     * whole window whenever one ACK is queued behind another flow. */
    var = s->rttvar_ms > RTO_GRANULARITY ? s->rttvar_ms : RTO_GRANULARITY;
    if (var < s->lim.rto_min_ms)
        var = s->lim.rto_min_ms;
    s->rto_ms = clamp_u32((s->srtt_ms >> 3) + var, s->lim.rto_min_ms, s->lim.rto_max_ms);
}

/* New data was acknowledged: a backed-off negotiated timeout returns to the
 * value the client asked for (RFC 2349: how long to wait before a resend). */
static void progress_made(struct tftp_session *s)
{
    s->retries = 0;
    if (s->timeout_fixed)
        s->rto_ms = s->accepted.timeout * 1000u;
}

/* The 16-bit number of absolute block b. With rollover to 0 the numbers run
 * ..., 65535, 0, 1, ...; with rollover to 1 (some old clients) they skip 0. */
uint16_t tftp_session_wire_block(const struct tftp_session *s, uint64_t block)
{
    if (!s->lim.rollover_to_one || block <= 65535)
        return (uint16_t)(block % BLOCK_CYCLE);
    return (uint16_t)((block - 1) % 65535 + 1);
}

/* Maps an ACKed wire number to the absolute block it acknowledges, counting
 * forward from the last acknowledged block, modulo the cycle (so comparisons
 * work across the wrap, inside windows too). False if it lies outside what
 * is in flight: an old or bogus ACK. */
static bool ack_to_block(const struct tftp_session *s, uint16_t wire, uint64_t *block)
{
    uint64_t cycle = s->lim.rollover_to_one && s->sent > 65535 ? 65535 : BLOCK_CYCLE;
    uint64_t from = tftp_session_wire_block(s, s->acked) % cycle;
    uint64_t dist;

    if (s->lim.rollover_to_one && s->sent > 65535 && wire == 0)
        return false; /* 0 is never sent after the wrap in this mode */
    dist = ((uint64_t)wire % cycle + cycle - from) % cycle;
    if (dist > s->sent - s->acked)
        return false;
    *block = s->acked + dist;
    return true;
}

/* Ends the transfer: state says how; no timer from now on. */
static void finish(struct tftp_session *s, enum tftp_session_state state)
{
    s->state = state;
    s->deadline_ms = 0;
}

static void on_ack_sending(struct tftp_session *s, uint16_t wire, uint64_t now_ms,
                           struct tftp_session_out *out)
{
    uint64_t block;

    /* No Sorcerer's Apprentice: a duplicate or stale ACK changes nothing; only
     * the timer resends. */
    if (!ack_to_block(s, wire, &block) || block == s->acked)
        return;
    s->peer_proven = true;
    s->acked = block;
    progress_made(s);
    if (block == s->sent)
        rtt_sample(s, now_ms);
    if (block == s->last_block) {
        finish(s, TFTP_SESSION_DONE);
        return;
    }
    /* RFC 7440 section 4: an ACK of block n starts the next window at n + 1,
     * whether the window was complete or the client saw a gap. */
    s->window_resent = false;
    send_window(s, block + 1, now_ms, out);
}

void tftp_session_on_ack(struct tftp_session *s, uint16_t block, uint64_t now_ms,
                         struct tftp_session_out *out)
{
    out_clear(out);
    switch (s->state) {
    case TFTP_SESSION_OACK_SENT:
        if (block != 0)
            return; /* only ACK 0 answers an OACK */
        s->peer_proven = true;
        progress_made(s);
        /* The OACK and its ACK are two small packets: their round trip says
         * nothing of a window's time on the wire (16 blocks take 500 ms at
         * 384 kbit/s), so a window's first RTO stays the initial one. */
        if (s->windowsize == 1)
            rtt_sample(s, now_ms);
        s->state = TFTP_SESSION_SENDING;
        s->window_resent = false;
        send_window(s, 1, now_ms, out);
        return;
    case TFTP_SESSION_SENDING:
        on_ack_sending(s, block, now_ms, out);
        return;
    default:
        return;
    }
}

void tftp_session_on_error(struct tftp_session *s)
{
    if (!tftp_session_finished(s))
        finish(s, TFTP_SESSION_PEER_ERROR);
}

void tftp_session_on_datagram(struct tftp_session *s, const uint8_t *buf, size_t len,
                              uint64_t now_ms, struct tftp_packet *pkt,
                              struct tftp_session_out *out)
{
    int rc = tftp_packet_parse(buf, len, pkt);

    out_clear(out);
    if (rc == TFTP_PARSE_OK && pkt->op == TFTP_OP_ACK) {
        tftp_session_on_ack(s, pkt->block, now_ms, out);
    } else if (rc == TFTP_PARSE_OK && pkt->op == TFTP_OP_ERROR) {
        tftp_session_on_error(s);
    } else if (!tftp_session_finished(s)) {
        /* Only ACK and ERROR come to a sender (RFC 1350 section 5). */
        finish(s, TFTP_SESSION_ILLEGAL);
        out->send_error = TFTP_FAIL_ILLEGAL_OP;
    }
}

/* How each event the I/O layer reports ends a transfer, and what the client is told. */
static const struct {
    enum tftp_session_state state;
    enum tftp_failure error;
} event_ends[] = {
    [TFTP_EVENT_FILE_SHORT] = {TFTP_SESSION_FILE_CHANGED, TFTP_FAIL_FILE_CHANGED},
    [TFTP_EVENT_IO_FAILED] = {TFTP_SESSION_IO_FAILED, TFTP_FAIL_NONE},
    [TFTP_EVENT_SHUTDOWN] = {TFTP_SESSION_SHUTDOWN, TFTP_FAIL_SHUTDOWN},
    /* Never answered: an ERROR would only be more traffic toward a perhaps
     * forged address. */
    [TFTP_EVENT_EVICTED] = {TFTP_SESSION_EVICTED, TFTP_FAIL_NONE},
};

void tftp_session_on_event(struct tftp_session *s, enum tftp_session_event ev,
                           struct tftp_session_out *out)
{
    out_clear(out);
    if (tftp_session_finished(s) || (unsigned)ev >= sizeof(event_ends) / sizeof(event_ends[0]))
        return;
    finish(s, event_ends[ev].state);
    out->send_error = event_ends[ev].error;
}

enum tftp_request_verdict tftp_session_judge_request(const uint8_t *buf, size_t len, bool truncated,
                                                     struct tftp_request *req,
                                                     enum tftp_failure *fail)
{
    int rc;

    /* An ERROR is never answered (RFC 1350 section 7): no error ping-pong
     * with a client that reports our own error back to port 69. */
    if (tftp_packet_opcode(buf, len) == TFTP_OP_ERROR)
        return TFTP_REQUEST_IGNORE;
    rc = truncated ? TFTP_PARSE_TOO_LONG : tftp_packet_parse_request(buf, len, req);
    if (rc != TFTP_PARSE_OK) {
        *fail = tftp_failure_of_parse(rc);
        return TFTP_REQUEST_MALFORMED;
    }
    if (req->op == TFTP_OP_RRQ)
        return TFTP_REQUEST_READ;
    /* This appliance never accepts files over TFTP. */
    *fail = TFTP_FAIL_UPLOAD;
    return TFTP_REQUEST_REFUSED;
}

static uint32_t retries_allowed(const struct tftp_session *s)
{
    /* A peer that never answered may be a forged address: give it little. */
    return s->peer_proven ? s->lim.retries_max
                          : min_u32(s->lim.retries_max, TFTP_SESSION_RESENDS_UNPROVEN);
}

void tftp_session_on_timeout(struct tftp_session *s, uint64_t now_ms, struct tftp_session_out *out)
{
    uint32_t backoff_cap;

    out_clear(out);
    if (s->deadline_ms == 0 || now_ms < s->deadline_ms)
        return;
    if (s->retries >= retries_allowed(s)) {
        finish(s, TFTP_SESSION_TIMEOUT);
        return;
    }
    s->retries++;
    /* Exponential backoff, bounded; a negotiated timeout is the floor. */
    backoff_cap = s->timeout_fixed ? s->accepted.timeout * 1000u : s->lim.rto_max_ms;
    if (backoff_cap < s->lim.rto_max_ms)
        backoff_cap = s->lim.rto_max_ms;
    s->rto_ms = min_u32(s->rto_ms * 2, backoff_cap);
    s->window_resent = true;
    if (s->state == TFTP_SESSION_OACK_SENT) {
        out->send_oack = true;
        s->window_sent_ms = now_ms;
        timer_arm(s, now_ms);
        return;
    }
    /* A timeout resends from the first unacknowledged block. */
    send_window(s, s->acked + 1, now_ms, out);
}

uint64_t tftp_session_deadline(const struct tftp_session *s)
{
    return s->deadline_ms;
}

bool tftp_session_finished(const struct tftp_session *s)
{
    return s->state >= TFTP_SESSION_DONE;
}

enum tftp_session_state tftp_session_get_state(const struct tftp_session *s)
{
    return s->state;
}

bool tftp_session_complete(const struct tftp_session *s)
{
    return s->state == TFTP_SESSION_DONE;
}

const char *tftp_session_end_reason(const struct tftp_session *s)
{
    static const char *const reasons[] = {
        [TFTP_SESSION_OACK_SENT] = "running",
        [TFTP_SESSION_SENDING] = "running",
        [TFTP_SESSION_DONE] = "complete",
        [TFTP_SESSION_PEER_ERROR] = "client sent an error",
        [TFTP_SESSION_TIMEOUT] = "client stopped answering",
        [TFTP_SESSION_ILLEGAL] = "client sent an illegal packet",
        [TFTP_SESSION_FILE_CHANGED] = "file changed while being sent",
        [TFTP_SESSION_IO_FAILED] = "I/O error",
        [TFTP_SESSION_SHUTDOWN] = "server shutting down",
        [TFTP_SESSION_EVICTED] = "never answered, its place was needed for a new request",
    };

    return reasons[s->state];
}

bool tftp_session_peer_proven(const struct tftp_session *s)
{
    return s->peer_proven;
}

const struct tftp_options *tftp_session_accepted(const struct tftp_session *s)
{
    return &s->accepted;
}

uint64_t tftp_session_block_offset(const struct tftp_session *s, uint64_t block)
{
    return (block - 1) * s->blksize;
}

uint32_t tftp_session_block_len(const struct tftp_session *s, uint64_t block)
{
    uint64_t off = tftp_session_block_offset(s, block);

    if (off >= s->size)
        return 0;
    return s->size - off < s->blksize ? (uint32_t)(s->size - off) : s->blksize;
}
