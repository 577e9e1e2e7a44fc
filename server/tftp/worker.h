/* worker.h: one TFTP worker thread: its epoll set (listeners, transfer sockets,
 * a wake-up eventfd), its timer heap, its loop.
 * Never shares a transfer with another worker; never blocks but in epoll_wait. */
#ifndef LOADSD_TFTP_WORKER_H
#define LOADSD_TFTP_WORKER_H

#include "server/tftp/engine.h"

/* Sets w up for srv with its own listener per address of p. 0, or a negative
 * errno (w is then half set up: worker_destroy() it). */
int worker_init(struct worker *w, struct tftp_server *srv, const struct tftp_server_params *p);
void worker_destroy(struct worker *w);
/* The thread: runs until the server stops and its transfers end or run out of grace. */
void *worker_main(void *arg);
/* Makes w look at the server again (new parameters, stop). */
void worker_wake(struct worker *w);
/* Gives the request rq (received on listener number li of another worker)
 * to w, which starts its transfer. 0, or -ENOMEM (the caller keeps it). */
int worker_hand(struct worker *w, unsigned li, const struct listen_request *rq);

#endif
