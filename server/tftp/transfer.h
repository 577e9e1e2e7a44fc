/* transfer.h: one transfer in a worker: carries out what its session decides
 * (OACK, DATA, ERROR, the timer) on its connected socket, and ends it.
 * Never decides anything about the protocol: every event goes to the session first. */
#ifndef LOADSD_TFTP_TRANSFER_H
#define LOADSD_TFTP_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "server/tftp/engine.h"

/* t is set up (session started, socket registered): lists it, makes it an
 * eviction candidate, and carries out the session's first decision. */
void transfer_begin(struct transfer *t, const struct tftp_session_out *out);
/* Carries out what the session decided, then re-arms the timer. Returns
 * false when the transfer has ended (and t is freed). */
bool transfer_apply(struct transfer *t, const struct tftp_session_out *out);
/* epoll reported events on the transfer's socket. */
void transfer_on_event(struct transfer *t, uint32_t events);
/* The transfer's deadline has passed. */
void transfer_on_timer(struct transfer *t, uint64_t now_ms);
/* The server stops: the session says goodbye and the transfer ends. */
void transfer_abort(struct transfer *t);
/* admission_evict_fn for a worker (arg): ends the transfer that holds victim;
 * its memory is freed after the current batch of events (worker_bury). */
void transfer_evict(void *arg, struct admission_ticket *victim);

#endif
