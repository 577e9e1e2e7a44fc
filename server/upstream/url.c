/* url.c: the upstream's base URL: scheme, host and characters checked, the
 * trailing '/' dropped; names joined on with percent-encoding. Pure. */
#include "server/upstream/url.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int url_error(char *err, size_t cap, const char *why)
{
    if (err != NULL && cap > 0)
        snprintf(err, cap, "%s", why);
    return -1;
}

/* The length of the scheme prefix ("http://", "https://"), or 0. */
static size_t scheme_len(const char *s)
{
    if (strncasecmp(s, "http://", 7) == 0)
        return 7;
    if (strncasecmp(s, "https://", 8) == 0)
        return 8;
    return 0;
}

int upstream_url_normalize(const char *base, char *out, size_t cap, char *err, size_t errcap)
{
    size_t len, skip, host;

    if (base == NULL || (len = strlen(base)) == 0)
        return url_error(err, errcap, "empty");
    if (strncasecmp(base, "tftp://", 7) == 0)
        return url_error(err, errcap,
                         "tftp:// upstreams are not supported yet: give the "
                         "central loadsd's http:// or https:// file service");
    skip = scheme_len(base);
    if (skip == 0)
        return url_error(err, errcap, "must start with http:// or https://");
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
