/* sdnotify.h: tell systemd (Type=notify) that loadsd is ready or stopping.
 * A no-op when NOTIFY_SOCKET is unset; never fails the caller. */
#ifndef LOADSD_SDNOTIFY_H
#define LOADSD_SDNOTIFY_H

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET. 0, or -1 if it could not. */
int sdnotify_send(const char *state);

#endif
