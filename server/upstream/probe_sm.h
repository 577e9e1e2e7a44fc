/* probe_sm.h: one TFTP probe of a file on a load server, a pure state
 * machine: an RRQ asking tsize (RFC 2349), the first answer read and the
 * transfer ended at once, so the server sends no file. Never touches a
 * socket or the clock: probe.c does the I/O. */
#ifndef LOADSD_UPSTREAM_PROBE_SM_H
#define LOADSD_UPSTREAM_PROBE_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/tftp/tftp_packet.h"

#define PROBE_SM_TIMEOUT_MS_DEFAULT 2000
#define PROBE_SM_TRIES_DEFAULT      3
#define PROBE_SM_TRIES_MAX          10
#define PROBE_SM_TIMEOUT_MS_MIN     50
#define PROBE_SM_TIMEOUT_MS_MAX     30000
#define PROBE_SM_WHY_MAX            160

struct probe_sm_params {
    uint32_t blksize;    /* asked for with tsize (8..65464); 512 asks none */
    unsigned timeout_ms; /* silence before the request is sent again */
    unsigned tries;      /* requests sent in all before "no answer" (1..10) */
};

enum probe_sm_result {
    PROBE_SM_GOING = 0,
    PROBE_SM_SIZED = 1,     /* present; tsize gave its size */
    PROBE_SM_UNSIZED = 2,   /* present; the server gave no size (ignored tsize) */
    PROBE_SM_MISSING = -1,  /* ERROR 1 */
    PROBE_SM_REFUSED = -2,  /* another ERROR (access, ...): not servable there */
    PROBE_SM_NO_ANSWER = -3 /* every try went unanswered, or the request cannot be built */
};

/* What an event asks of the caller: send send_len bytes, to the server's
 * well-known port (the request) or, when to_tid, to the port the answer
 * came from (the ERROR that ends the transfer). */
struct probe_sm_action {
    const uint8_t *send;
    size_t send_len;
    bool to_tid;
};

enum probe_sm_state { PROBE_SM_WAIT, PROBE_SM_END };

struct probe_sm {
    struct probe_sm_params p;
    enum probe_sm_state state;
    int result;    /* enum probe_sm_result once state is PROBE_SM_END */
    uint64_t size; /* PROBE_SM_SIZED */
    uint16_t tid;  /* the port the answer came from */
    uint8_t rrq[TFTP_REQUEST_MAX];
    size_t rrq_len;
    uint8_t out[TFTP_REQUEST_MAX]; /* the ERROR that ends the transfer */
    unsigned sent;                 /* requests sent */
    unsigned ignored;              /* datagrams that were no answer */
    int64_t deadline_ms;
    char why[PROBE_SM_WHY_MAX]; /* printable ASCII */
};

/* 1468, 2000 ms, 3 tries. */
void probe_sm_params_default(struct probe_sm_params *p);

/* Starts the probe of name; a->send is the request. PROBE_SM_GOING, or
 * PROBE_SM_NO_ANSWER with why (bad params, a name that does not fit). */
int probe_sm_start(struct probe_sm *sm, const struct probe_sm_params *p, const char *name,
                   int64_t now_ms, struct probe_sm_action *a);

/* A datagram from the server's host, from its port from_port. Garbage,
 * truncated and unexpected packets are counted and change nothing. */
int probe_sm_on_packet(struct probe_sm *sm, const uint8_t *buf, size_t len, uint16_t from_port,
                       struct probe_sm_action *a);

/* Time passed: at the deadline, the request again or "no answer". */
int probe_sm_on_timer(struct probe_sm *sm, int64_t now_ms, struct probe_sm_action *a);

int64_t probe_sm_deadline(const struct probe_sm *sm);

#endif
