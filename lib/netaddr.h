/* netaddr.h: listen addresses as operators write them, parsed into socket
 * addresses for the TFTP engine, the admin interface and the file service. */
#ifndef LOADSD_NETADDR_H
#define LOADSD_NETADDR_H

#include <sys/socket.h>

struct net_listen {
    struct sockaddr_storage addr;
    socklen_t len;
    char text[64]; /* as given, e.g. "127.0.0.1:6969" or "[::1]:69" */
};

/* Parses "ADDR:PORT", "[V6ADDR]:PORT" or "*:PORT" (= [::]:PORT). 0 or -1. */
int net_listen_parse(const char *text, struct net_listen *out);

#endif
