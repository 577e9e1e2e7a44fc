/* url.h: the upstream's base URL as an operator writes it (config, flag),
 * checked and normalised; and the URLs a branch builds from it. Pure. */
#ifndef LOADSD_UPSTREAM_URL_H
#define LOADSD_UPSTREAM_URL_H

#include <stddef.h>

#define UPSTREAM_BASE_MAX 384 /* the normalised base, NUL included */

/* Checks base ("http://host[:port][/path]" or https; scheme and host in any
 * case) and writes it to out (cap bytes) without a trailing '/'. 0, or -1
 * with a reason in err: another scheme (tftp:// is named as not supported
 * yet), no host, user:password@ (secrets do not belong in a config line),
 * a query or fragment, a space or control byte, too long. */
int upstream_url_normalize(const char *base, char *out, size_t cap, char *err, size_t errcap);

/* base + "/" + kind + "/" + name, with every byte of name outside
 * [A-Za-z0-9._-] percent-encoded. 0, or -1 when it does not fit. */
int upstream_url_join(const char *base, const char *kind, const char *name, char *out, size_t cap);

#endif
