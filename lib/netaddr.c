/* netaddr.c: listen addresses as operators write them ("ADDR:PORT",
 * "[V6ADDR]:PORT", "*:PORT") parsed into socket addresses. Pure: binds nothing. */
#include "lib/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "lib/numparse.h"

static int listen_parse_port(const char *text, in_port_t *port)
{
    uint64_t v;

    if (numparse_u64(text, 1, 65535, &v) != 0)
        return -1;
    *port = htons((uint16_t)v);
    return 0;
}

static int listen_parse6(const char *text, struct net_listen *out)
{
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;
    const char *bracket = strchr(text, ']');
    char host[INET6_ADDRSTRLEN];
    size_t len;

    if (bracket == NULL || bracket[1] != ':')
        return -1;
    len = (size_t)(bracket - text - 1);
    if (len == 0 || len >= sizeof(host))
        return -1;
    memcpy(host, text + 1, len);
    host[len] = '\0';
    sin6->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1 ||
        listen_parse_port(bracket + 2, &sin6->sin6_port) != 0)
        return -1;
    out->len = sizeof(*sin6);
    return 0;
}

static int listen_parse4(const char *text, struct net_listen *out)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;
    const char *colon = strchr(text, ':');
    char host[INET_ADDRSTRLEN];
    size_t len;

    if (colon == NULL || strchr(colon + 1, ':') != NULL)
        return -1;
    len = (size_t)(colon - text);
    if (len == 0 || len >= sizeof(host))
        return -1;
    memcpy(host, text, len);
    host[len] = '\0';
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
        listen_parse_port(colon + 1, &sin->sin_port) != 0)
        return -1;
    out->len = sizeof(*sin);
    return 0;
}

int net_listen_parse(const char *text, struct net_listen *out)
{
    struct net_listen l;
    int rc = -1;

    if (text == NULL || out == NULL || strlen(text) >= sizeof(l.text))
        return -1;
    memset(&l, 0, sizeof(l));
    if (text[0] == '[') {
        rc = listen_parse6(text, &l);
    } else if (text[0] == '*' && text[1] == ':') {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l.addr;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_any;
        l.len = sizeof(*sin6);
        rc = listen_parse_port(text + 2, &sin6->sin6_port);
    } else {
        rc = listen_parse4(text, &l);
    }
    if (rc != 0)
        return -1;
    strcpy(l.text, text);
    *out = l;
    return 0;
}
