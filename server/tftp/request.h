/* request.h: what a worker does with the datagrams on a listener: the session
 * judges each, admission admits, the resolver opens the file, a transfer starts;
 * a refusal gets the ERROR the session or admission chose.
 * Never parses a packet or picks an ERROR itself, never sends DATA. */
#ifndef LOADSD_TFTP_REQUEST_H
#define LOADSD_TFTP_REQUEST_H

#include "server/tftp/engine.h"

/* Reads up to a burst of requests from listener l (fewer when draining); a
 * read request may be steered to another worker (steer.h). */
void request_on_listener(struct worker *w, struct listener *l);
/* A read request another worker steered to w, l its listener for the same
 * address: judged again and started here. */
void request_on_handoff(struct worker *w, struct listener *l, const struct listen_request *rq);

#endif
