/* url.h: the upstream's base URL as an operator writes it (config, flag),
 * checked and normalised; and the URLs a branch builds from it. Pure. */
#ifndef LOADSD_UPSTREAM_URL_H
#define LOADSD_UPSTREAM_URL_H

#include <stdbool.h>
#include <stddef.h>

#define UPSTREAM_BASE_MAX 384 /* the normalised base, NUL included */

/* Checks base ("http://host[:port][/path]", https, or "tftp://host[:port]";
 * scheme and host in any case) and writes it to out (cap bytes) without a
 * trailing '/'. 0, or -1 with a reason in err: another scheme, no host,
 * user:password@ (secrets do not belong in a config line), a query or
 * fragment, a space or control byte, too long; for tftp://, a path or a
 * port outside 1..65535. */
int upstream_url_normalize(const char *base, char *out, size_t cap, char *err, size_t errcap);

/* base + "/" + kind + "/" + name, with every byte of name outside
 * [A-Za-z0-9._-] percent-encoded. 0, or -1 when it does not fit. */
int upstream_url_join(const char *base, const char *kind, const char *name, char *out, size_t cap);

/* A tftp:// base (any case). */
bool upstream_url_is_tftp(const char *base);

/* A plain http:// base (any case) whose host is not loopback (127.0.0.0/8
 * written as an IPv4 address, [::1], localhost): a branch token and what
 * it holds would cross the network in the clear. */
bool upstream_url_plain_remote(const char *base);

/* A tftp:// base's host (brackets of an IPv6 address dropped; hcap bytes)
 * and port (69 when none is given). 0, or -1 with a reason in err. */
int upstream_url_tftp_split(const char *base, char *host, size_t hcap, unsigned *port, char *err,
                            size_t errcap);

#endif
