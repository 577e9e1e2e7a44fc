/* url.c: the upstream's base URL: scheme, host and characters checked, the
 * trailing '/' dropped; names joined on with percent-encoding; a tftp://
 * base split into host and port. Pure. */
#include "server/upstream/url.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int url_error(char *err, size_t cap, const char *why)
{
    if (err != NULL && cap > 0)
        snprintf(err, cap, "%s", why);
    return -1;
}

/* The length of the scheme prefix ("http://", "https://", "tftp://"), or 0. */
static size_t scheme_len(const char *s)
{
    if (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "tftp://", 7) == 0)
        return 7;
    if (strncasecmp(s, "https://", 8) == 0)
        return 8;
    return 0;
}

bool upstream_url_is_tftp(const char *base)
{
    return base != NULL && strncasecmp(base, "tftp://", 7) == 0;
}

/* Whether the host that starts at h (up to ':', '/' or the end) is loopback. */
static bool host_is_loopback(const char *h)
{
    size_t n = strcspn(h, "/");
    const char *colon;

    if (n >= 5 && strncmp(h, "[::1]", 5) == 0)
        return n == 5 || h[5] == ':';
    colon = memchr(h, ':', n);
    if (colon != NULL)
        n = (size_t)(colon - h);
    if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
        return true;
    if (n < 7 || strncmp(h, "127.", 4) != 0)
        return false;
    for (size_t i = 4, dots = 1; i < n; i++) {
        if (h[i] == '.' && ++dots > 3)
            return false;
        if (h[i] != '.' && (h[i] < '0' || h[i] > '9'))
            return false;
    }
    return true;
}

bool upstream_url_plain_remote(const char *base)
{
    return base != NULL && strncasecmp(base, "http://", 7) == 0 && !host_is_loopback(base + 7);
}

/* A tftp:// base's authority: host (a name, an IPv4 address or [IPv6]) and
 * an optional port 1..65535; nothing after it. 0 or -1 with a reason. */
static int tftp_authority(const char *auth, size_t len, char *host, size_t hcap, unsigned *port,
                          char *err, size_t errcap)
{
    const char *colon = NULL, *end = auth + len;
    size_t hlen;
    unsigned long p = 69;
    char *stop;

    if (len > 0 && auth[0] == '[') {
        const char *close = memchr(auth, ']', len);

        if (close == NULL || close == auth + 1)
            return url_error(err, errcap, "has a bad [IPv6] host");
        hlen = (size_t)(close - auth) - 1;
        if (close + 1 < end && close[1] != ':')
            return url_error(err, errcap, "has a bad [IPv6] host");
        colon = close + 1 < end ? close + 1 : NULL;
        auth++;
    } else {
        colon = memchr(auth, ':', len);
        hlen = colon != NULL ? (size_t)(colon - auth) : len;
    }
    if (colon != NULL) {
        if (colon + 1 == end || colon + 6 < end || colon[1] < '0' || colon[1] > '9')
            return url_error(err, errcap, "has a bad port (1 to 65535)");
        p = strtoul(colon + 1, &stop, 10);
        if (stop != end || p == 0 || p > 65535)
            return url_error(err, errcap, "has a bad port (1 to 65535)");
    }
    if (hlen == 0 || hlen >= hcap)
        return url_error(err, errcap, hlen == 0 ? "has no host" : "too long");
    memcpy(host, auth, hlen);
    host[hlen] = '\0';
    *port = (unsigned)p;
    return 0;
}

int upstream_url_tftp_split(const char *base, char *host, size_t hcap, unsigned *port, char *err,
                            size_t errcap)
{
    const char *auth;
    size_t len;

    if (!upstream_url_is_tftp(base))
        return url_error(err, errcap, "not a tftp:// URL");
    auth = base + 7;
    len = strlen(auth);
    while (len > 0 && auth[len - 1] == '/')
        len--;
    if (memchr(auth, '/', len) != NULL)
        return url_error(err, errcap,
                         "a tftp:// upstream has no path: files are asked for by name "
                         "from the server's root");
    return tftp_authority(auth, len, host, hcap, port, err, errcap);
}

int upstream_url_normalize(const char *base, char *out, size_t cap, char *err, size_t errcap)
{
    size_t len, skip, host;

    if (base == NULL || (len = strlen(base)) == 0)
        return url_error(err, errcap, "empty");
    skip = scheme_len(base);
    if (skip == 0)
        return url_error(err, errcap, "must start with http://, https:// or tftp://");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)base[i];

        if (ch <= 0x20 || ch >= 0x7f)
            return url_error(err, errcap, "holds a space, a control or a non-ASCII byte");
        if (ch == '?' || ch == '#')
            return url_error(err, errcap, "holds a query or a fragment");
    }
    host = strcspn(base + skip, "/");
    if (memchr(base + skip, '@', host) != NULL)
        return url_error(err, errcap, "holds a user name or password");
    if (host == 0 || base[skip] == ':')
        return url_error(err, errcap, "has no host");
    while (len > skip + host && base[len - 1] == '/')
        len--;
    if (len >= cap || len >= UPSTREAM_BASE_MAX)
        return url_error(err, errcap, "too long");
    memcpy(out, base, len);
    out[len] = '\0';
    if (upstream_url_is_tftp(out)) {
        char name[UPSTREAM_BASE_MAX];
        unsigned port;

        if (upstream_url_tftp_split(out, name, sizeof(name), &port, err, errcap) != 0)
            return -1;
    }
    return 0;
}

static bool url_plain(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

int upstream_url_join(const char *base, const char *kind, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s/", base, kind);
    size_t pos;

    if (n < 0 || (size_t)n >= cap)
        return -1;
    pos = (size_t)n;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        size_t need = url_plain(*p) ? 1 : 3;

        if (pos + need + 1 > cap)
            return -1;
        if (need == 1)
            out[pos++] = (char)*p;
        else
            pos += (size_t)snprintf(out + pos, cap - pos, "%%%02X", *p);
    }
    out[pos] = '\0';
    return 0;
}
