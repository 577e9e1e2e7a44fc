/* tftp_get.c: the branch's TFTP read as a state machine: the RRQ with its
 * options, the OACK checked against what was asked, DATA kept in order, ACKs
 * per window, resends on silence. Pure: no sockets, no files, no clock. */
#include "server/upstream/tftp_get.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

void tftp_get_params_default(struct tftp_get_params *p, uint64_t max_bytes)
{
    memset(p, 0, sizeof(*p));
    p->blksize = TFTP_GET_BLKSIZE_DEFAULT;
    p->windowsize = TFTP_GET_WINDOW_DEFAULT;
    p->max_bytes = max_bytes;
    p->timeout_ms = 1000;
    p->retries = 5;
}

static void action_clear(struct tftp_get_action *a)
{
    memset(a, 0, sizeof(*a));
}

/* Ends the transfer with status; why (printf-like) for the log. */
static int end(struct tftp_get *g, int status, const char *why)
{
    g->state = TFTP_GET_END;
    g->status = status;
    if (why != NULL)
        snprintf(g->why, sizeof(g->why), "%s", why);
    return status;
}

static void send_out(struct tftp_get *g, struct tftp_get_action *a, int len)
{
    if (len <= 0)
        return;
    g->out_len = (size_t)len;
    a->send = g->out;
    a->send_len = g->out_len;
    g->packets_out++;
}

/* Ends the transfer and tells the server why with an ERROR. */
static int refuse(struct tftp_get *g, struct tftp_get_action *a, uint16_t code, int status,
                  const char *why)
{
    send_out(g, a, tftp_packet_build_error(g->out, sizeof(g->out), code, why));
    return end(g, status, why);
}

static void arm(struct tftp_get *g, int64_t now_ms)
{
    g->deadline_ms = now_ms + g->rto_ms;
}

/* Progress was made: the silence timer starts over at its first length. */
static void progress_made(struct tftp_get *g, int64_t now_ms)
{
    g->resends = 0;
    g->rto_ms = g->p.timeout_ms;
    g->reacked = false;
    arm(g, now_ms);
}

static void send_ack(struct tftp_get *g, struct tftp_get_action *a, uint16_t block)
{
    send_out(g, a, tftp_packet_build_ack(g->out, sizeof(g->out), block));
    g->in_window = 0;
}

static bool params_ok(const struct tftp_get_params *p)
{
    return p->blksize >= TFTP_BLKSIZE_MIN && p->blksize <= TFTP_BLKSIZE_MAX &&
           p->windowsize >= TFTP_WINDOW_MIN && p->windowsize <= TFTP_GET_WINDOW_MAX &&
           p->timeout_ms >= TFTP_GET_RTO_MIN_MS && p->timeout_ms <= TFTP_GET_RTO_MAX_MS;
}

int tftp_get_start(struct tftp_get *g, const struct tftp_get_params *p, const char *name,
                   int64_t now_ms, struct tftp_get_action *a)
{
    struct tftp_options o = {.present = TFTP_OPT_TSIZE, .tsize = 0};
    int len;

    memset(g, 0, sizeof(*g));
    action_clear(a);
    g->p = *p;
    g->blksize = TFTP_BLKSIZE_DEFAULT; /* until an OACK says otherwise */
    g->windowsize = 1;
    g->rto_ms = p->timeout_ms;
    if (!params_ok(p))
        return end(g, TFTP_GET_FAILED, "bad transfer parameters");
    /* RFC 2347: options the server does not know are left out of its OACK;
     * one that knows none answers with DATA 1 (RFC 1350 lock-step, 512). */
    if (p->blksize != TFTP_BLKSIZE_DEFAULT) {
        o.present |= TFTP_OPT_BLKSIZE;
        o.blksize = p->blksize;
    }
    if (p->windowsize > 1) {
        o.present |= TFTP_OPT_WINDOWSIZE;
        o.windowsize = p->windowsize;
    }
    len = tftp_packet_build_request(g->rrq, sizeof(g->rrq), TFTP_OP_RRQ, name, TFTP_MODE_OCTET, &o);
    if (len <= 0 || name[0] == '\0')
        return end(g, TFTP_GET_FAILED, "the file name does not fit a TFTP request");
    g->rrq_len = (size_t)len;
    a->send = g->rrq;
    a->send_len = g->rrq_len;
    g->packets_out++;
    arm(g, now_ms);
    return TFTP_GET_GOING;
}

/* ---- the server's answers ---- */

/* RFC 2347: the OACK may grant less than asked, never more, and nothing
 * that was not asked; RFC 2349: the size it gives must fit. */
static int on_oack(struct tftp_get *g, const struct tftp_options *o, int64_t now_ms,
                   struct tftp_get_action *a)
{
    char why[TFTP_GET_WHY_MAX];

    if (o->present & TFTP_OPT_BLKSIZE) {
        if (g->p.blksize == TFTP_BLKSIZE_DEFAULT || o->blksize > g->p.blksize)
            return refuse(g, a, TFTP_ERR_OPTION, TFTP_GET_FAILED, "blksize not as asked");
        g->blksize = o->blksize;
    }
    if (o->present & TFTP_OPT_WINDOWSIZE) {
        if (g->p.windowsize == 1 || o->windowsize > g->p.windowsize)
            return refuse(g, a, TFTP_ERR_OPTION, TFTP_GET_FAILED, "windowsize not as asked");
        g->windowsize = o->windowsize;
    }
    if (o->present & TFTP_OPT_TIMEOUT)
        return refuse(g, a, TFTP_ERR_OPTION, TFTP_GET_FAILED, "timeout was not asked for");
    if (o->present & TFTP_OPT_TSIZE) {
        if (o->tsize > g->p.max_bytes) {
            snprintf(why, sizeof(why), "tsize %" PRIu64 " is over the limit of %" PRIu64 " bytes",
                     o->tsize, g->p.max_bytes);
            /* RFC 2349: a client that cannot take the size says so with ERROR 3. */
            return refuse(g, a, TFTP_ERR_DISK_FULL, TFTP_GET_TOO_BIG, why);
        }
        g->tsize_known = true;
        g->tsize = o->tsize;
    }
    g->state = TFTP_GET_RECEIVING;
    send_ack(g, a, 0);
    progress_made(g, now_ms);
    return TFTP_GET_GOING;
}

static int on_error(struct tftp_get *g, const struct tftp_packet *pkt)
{
    char msg[LOG_CLEAN_MAX], why[TFTP_GET_WHY_MAX];

    log_clean(pkt->error_msg, strlen(pkt->error_msg), msg, sizeof(msg));
    snprintf(why, sizeof(why), "the server answered ERROR %u \"%.100s\"", pkt->error_code, msg);
    /* No answer goes back to an ERROR (RFC 1350 section 7). */
    return end(g, pkt->error_code == TFTP_ERR_NOT_FOUND ? TFTP_GET_ABSENT : TFTP_GET_FAILED, why);
}

/* The last block: the size it ends at must be the one tsize gave. */
static int finish(struct tftp_get *g, struct tftp_get_action *a)
{
    char why[TFTP_GET_WHY_MAX];

    send_ack(g, a, g->last_block);
    if (g->tsize_known && g->bytes != g->tsize) {
        snprintf(why, sizeof(why), "%" PRIu64 " bytes received, tsize said %" PRIu64, g->bytes,
                 g->tsize);
        return end(g, TFTP_GET_FAILED, why);
    }
    return end(g, TFTP_GET_DONE, "");
}

/* DATA that is not the next block: a duplicate (the server went back) or a
 * gap (a block lost). RFC 7440 section 4: the receiver acknowledges the
 * last block it has in order, so the sender resumes from there; once per
 * gap, or a window of strays would draw a window of ACKs. */
static int on_stray_data(struct tftp_get *g, struct tftp_get_action *a)
{
    if (!g->reacked) {
        g->reacked = true;
        send_ack(g, a, g->last_block);
    }
    return TFTP_GET_GOING;
}

static int on_data(struct tftp_get *g, const struct tftp_packet *pkt, int64_t now_ms,
                   struct tftp_get_action *a)
{
    uint16_t want = (uint16_t)(g->last_block + 1); /* rolls over past 65535, as servers do */

    if (pkt->data_len > g->blksize)
        return refuse(g, a, TFTP_ERR_ILLEGAL_OP, TFTP_GET_FAILED, "DATA larger than blksize");
    if (pkt->block != want)
        return on_stray_data(g, a);
    if (pkt->data_len > g->p.max_bytes - g->bytes)
        return refuse(g, a, TFTP_ERR_DISK_FULL, TFTP_GET_TOO_BIG, "the file is over the limit");
    g->state = TFTP_GET_RECEIVING;
    a->data = pkt->data;
    a->data_len = pkt->data_len;
    a->data_off = g->bytes;
    g->bytes += pkt->data_len;
    g->last_block = pkt->block;
    g->in_window++;
    progress_made(g, now_ms);
    if (pkt->data_len < g->blksize)
        return finish(g, a);
    if (g->in_window >= g->windowsize)
        send_ack(g, a, g->last_block);
    return TFTP_GET_GOING;
}

/* The first answer fixes the server's transfer port (RFC 1350 section 4);
 * a packet from another port gets ERROR 5 and changes nothing. */
static bool from_server(struct tftp_get *g, uint16_t from_port, const struct tftp_packet *pkt,
                        struct tftp_get_action *a)
{
    int len;

    if (!g->tid_known) {
        g->tid_known = true;
        g->tid = from_port;
        return true;
    }
    if (from_port == g->tid)
        return true;
    g->ignored++;
    if (pkt->op != TFTP_OP_ERROR) {
        len = tftp_packet_build_error(g->out, sizeof(g->out), TFTP_ERR_UNKNOWN_TID,
                                      "Unknown transfer ID");
        if (len > 0) {
            a->send = g->out;
            a->send_len = (size_t)len;
            a->to_stranger = true;
            g->packets_out++;
        }
    }
    return false;
}

int tftp_get_on_packet(struct tftp_get *g, const uint8_t *buf, size_t len, uint16_t from_port,
                       int64_t now_ms, struct tftp_get_action *a)
{
    struct tftp_packet pkt;

    action_clear(a);
    if (g->state == TFTP_GET_END)
        return g->status;
    if (tftp_packet_parse(buf, len, &pkt) != TFTP_PARSE_OK || pkt.op == TFTP_OP_ACK) {
        g->ignored++;
        return TFTP_GET_GOING;
    }
    if (!from_server(g, from_port, &pkt, a))
        return TFTP_GET_GOING;
    g->packets_in++;
    switch (pkt.op) {
    case TFTP_OP_ERROR:
        return on_error(g, &pkt);
    case TFTP_OP_OACK:
        if (g->state == TFTP_GET_WAIT_FIRST)
            return on_oack(g, &pkt.opts, now_ms, a);
        if (g->last_block == 0) /* our ACK 0 was lost: the server sent its OACK again */
            send_ack(g, a, 0);
        return TFTP_GET_GOING;
    default:
        return on_data(g, &pkt, now_ms, a);
    }
}

int tftp_get_on_timer(struct tftp_get *g, int64_t now_ms, struct tftp_get_action *a)
{
    char why[TFTP_GET_WHY_MAX];

    action_clear(a);
    if (g->state == TFTP_GET_END)
        return g->status;
    if (now_ms < g->deadline_ms)
        return TFTP_GET_GOING;
    if (g->resends >= g->p.retries) {
        snprintf(why, sizeof(why), "no answer after %u resends (%s)", g->resends,
                 g->state == TFTP_GET_WAIT_FIRST ? "to the request" : "in the transfer");
        return end(g, TFTP_GET_FAILED, why);
    }
    g->resends++;
    g->resends_total++;
    g->rto_ms = g->rto_ms * 2 < TFTP_GET_RTO_MAX_MS ? g->rto_ms * 2 : TFTP_GET_RTO_MAX_MS;
    if (g->state == TFTP_GET_WAIT_FIRST) {
        a->send = g->rrq;
        a->send_len = g->rrq_len;
        g->packets_out++;
    } else {
        /* Silence inside a window too: the ACK of what we have makes the
         * server resend the rest (RFC 7440 section 4). */
        send_ack(g, a, g->last_block);
        g->reacked = true;
    }
    arm(g, now_ms);
    return TFTP_GET_GOING;
}

int64_t tftp_get_deadline(const struct tftp_get *g)
{
    return g->deadline_ms;
}
