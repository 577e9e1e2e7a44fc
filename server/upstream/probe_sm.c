/* probe_sm.c: a probe is a read that stops at its first answer: the OACK's
 * tsize (RFC 2349) is the file's size, and ERROR 8 (RFC 2347: the client
 * refuses the options) ends the transfer before any DATA. Pure. */
#include "server/upstream/probe_sm.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

void probe_sm_params_default(struct probe_sm_params *p)
{
    p->blksize = 1468;
    p->timeout_ms = PROBE_SM_TIMEOUT_MS_DEFAULT;
    p->tries = PROBE_SM_TRIES_DEFAULT;
}

static int end(struct probe_sm *sm, int result, const char *why)
{
    sm->state = PROBE_SM_END;
    sm->result = result;
    snprintf(sm->why, sizeof(sm->why), "%s", why);
    return result;
}

static bool params_ok(const struct probe_sm_params *p)
{
    return p->blksize >= TFTP_BLKSIZE_MIN && p->blksize <= TFTP_BLKSIZE_MAX &&
           p->timeout_ms >= PROBE_SM_TIMEOUT_MS_MIN && p->timeout_ms <= PROBE_SM_TIMEOUT_MS_MAX &&
           p->tries >= 1 && p->tries <= PROBE_SM_TRIES_MAX;
}

static void send_request(struct probe_sm *sm, int64_t now_ms, struct probe_sm_action *a)
{
    a->send = sm->rrq;
    a->send_len = sm->rrq_len;
    a->to_tid = false;
    sm->sent++;
    sm->deadline_ms = now_ms + sm->p.timeout_ms;
}

int probe_sm_start(struct probe_sm *sm, const struct probe_sm_params *p, const char *name,
                   int64_t now_ms, struct probe_sm_action *a)
{
    struct tftp_options o = {.present = TFTP_OPT_TSIZE, .tsize = 0};
    int len;

    memset(sm, 0, sizeof(*sm));
    memset(a, 0, sizeof(*a));
    sm->p = *p;
    if (!params_ok(p))
        return end(sm, PROBE_SM_NO_ANSWER, "bad probe parameters");
    if (p->blksize != TFTP_BLKSIZE_DEFAULT) {
        o.present |= TFTP_OPT_BLKSIZE;
        o.blksize = p->blksize;
    }
    len =
        tftp_packet_build_request(sm->rrq, sizeof(sm->rrq), TFTP_OP_RRQ, name, TFTP_MODE_OCTET, &o);
    if (len <= 0 || name[0] == '\0')
        return end(sm, PROBE_SM_NO_ANSWER, "the file name does not fit a TFTP request");
    sm->rrq_len = (size_t)len;
    send_request(sm, now_ms, a);
    return PROBE_SM_GOING;
}

/* Ends the transfer the server started, so it sends (no more) DATA. */
static int stop_transfer(struct probe_sm *sm, struct probe_sm_action *a, uint16_t code,
                         const char *msg, int result, const char *why)
{
    int len = tftp_packet_build_error(sm->out, sizeof(sm->out), code, msg);

    if (len > 0) {
        a->send = sm->out;
        a->send_len = (size_t)len;
        a->to_tid = true;
    }
    return end(sm, result, why);
}

/* RFC 2347: an OACK names only options the server took; without tsize the
 * file is there but its size is not known. Either way ERROR 8 ends it. */
static int on_oack(struct probe_sm *sm, const struct tftp_options *o, struct probe_sm_action *a)
{
    char why[PROBE_SM_WHY_MAX];

    if (!(o->present & TFTP_OPT_TSIZE))
        return stop_transfer(sm, a, TFTP_ERR_OPTION, "probe only", PROBE_SM_UNSIZED,
                             "present; the server gave no size (no tsize in its OACK)");
    sm->size = o->tsize;
    snprintf(why, sizeof(why), "present, %" PRIu64 " bytes", o->tsize);
    return stop_transfer(sm, a, TFTP_ERR_OPTION, "probe only", PROBE_SM_SIZED, why);
}

/* RFC 1350: a server that knows no option answers with DATA 1; the
 * transfer is ended with ERROR 0 (no option was refused). */
static int on_data(struct probe_sm *sm, const struct tftp_packet *pkt, struct probe_sm_action *a)
{
    if (pkt->block != 1) {
        sm->ignored++;
        return PROBE_SM_GOING;
    }
    return stop_transfer(sm, a, TFTP_ERR_UNDEFINED, "probe only", PROBE_SM_UNSIZED,
                         "present; the server ignored tsize (answered with DATA)");
}

static int on_error(struct probe_sm *sm, const struct tftp_packet *pkt)
{
    char msg[LOG_CLEAN_MAX], why[PROBE_SM_WHY_MAX];

    if (pkt->error_code == TFTP_ERR_NOT_FOUND)
        return end(sm, PROBE_SM_MISSING, "missing (ERROR 1)");
    log_clean(pkt->error_msg, strlen(pkt->error_msg), msg, sizeof(msg));
    snprintf(why, sizeof(why), "refused: ERROR %u \"%.100s\"", pkt->error_code, msg);
    return end(sm, PROBE_SM_REFUSED, why);
}

int probe_sm_on_packet(struct probe_sm *sm, const uint8_t *buf, size_t len, uint16_t from_port,
                       struct probe_sm_action *a)
{
    struct tftp_packet pkt;

    memset(a, 0, sizeof(*a));
    if (sm->state == PROBE_SM_END)
        return sm->result;
    if (tftp_packet_parse(buf, len, &pkt) != TFTP_PARSE_OK) {
        sm->ignored++;
        return PROBE_SM_GOING;
    }
    sm->tid = from_port;
    switch (pkt.op) {
    case TFTP_OP_OACK:
        return on_oack(sm, &pkt.opts, a);
    case TFTP_OP_DATA:
        return on_data(sm, &pkt, a);
    case TFTP_OP_ERROR:
        return on_error(sm, &pkt);
    default:
        sm->ignored++;
        return PROBE_SM_GOING;
    }
}

int probe_sm_on_timer(struct probe_sm *sm, int64_t now_ms, struct probe_sm_action *a)
{
    char why[PROBE_SM_WHY_MAX];

    memset(a, 0, sizeof(*a));
    if (sm->state == PROBE_SM_END)
        return sm->result;
    if (now_ms < sm->deadline_ms)
        return PROBE_SM_GOING;
    if (sm->sent >= sm->p.tries) {
        snprintf(why, sizeof(why), "no answer to %u requests, %u ms apart", sm->sent,
                 sm->p.timeout_ms);
        return end(sm, PROBE_SM_NO_ANSWER, why);
    }
    send_request(sm, now_ms, a);
    return PROBE_SM_GOING;
}

int64_t probe_sm_deadline(const struct probe_sm *sm)
{
    return sm->deadline_ms;
}
