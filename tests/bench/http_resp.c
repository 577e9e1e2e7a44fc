/* http_resp.c: HTTP/1.x response head parser and body framing (RFC 9112 sections
 * 4, 5 and 6) for phonesim's GET client. Pure: no sockets, no allocation, no globals. */
#include "tests/bench/http_resp.h"

#include <string.h>
#include <strings.h>

#include "lib/numparse.h"

/* Length of a line without its LF and an optional CR before it. */
static size_t line_len(const char *p, const char *lf)
{
    size_t n = (size_t)(lf - p);

    return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

/* "HTTP/1.1 200 OK": the version 1.0 or 1.1, three digits, then a space or the end. */
static int parse_status(const char *p, size_t n, struct http_resp *r)
{
    unsigned code = 0;

    if (n < 12 || (memcmp(p, "HTTP/1.1 ", 9) != 0 && memcmp(p, "HTTP/1.0 ", 9) != 0))
        return HTTP_RESP_BAD_STATUS;
    for (size_t i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return HTTP_RESP_BAD_STATUS;
        code = code * 10 + (unsigned)(p[i] - '0');
    }
    if (code < 100 || code > 599 || (n > 12 && p[12] != ' '))
        return HTTP_RESP_BAD_STATUS;
    for (size_t i = 12; i < n; i++)
        if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
            return HTTP_RESP_BAD_STATUS;
    r->status = code;
    return HTTP_RESP_OK;
}

static bool is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The value without the spaces and tabs around it. */
static void trim(const char **v, size_t *n)
{
    while (*n > 0 && (**v == ' ' || **v == '\t')) {
        (*v)++;
        (*n)--;
    }
    while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
        (*n)--;
}

static bool value_is(const char *v, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(v, want, n) == 0;
}

static int apply_length(const char *v, size_t n, struct http_resp *r)
{
    char num[24];
    uint64_t len;

    if (n == 0 || n >= sizeof(num))
        return HTTP_RESP_BAD_LENGTH;
    memcpy(num, v, n);
    num[n] = '\0';
    if (numparse_u64(num, 0, HTTP_RESP_LENGTH_MAX, &len) != 0)
        return HTTP_RESP_BAD_LENGTH;
    if (r->has_length && r->length != len)
        return HTTP_RESP_BAD_LENGTH; /* RFC 9112 6.3: differing lengths are unrecoverable */
    r->has_length = true;
    r->length = len;
    return HTTP_RESP_OK;
}

static int parse_header(const char *p, size_t n, struct http_resp *r)
{
    const char *colon = memchr(p, ':', n);
    const char *v;
    size_t name_len, vn;

    if (colon == NULL || colon == p)
        return HTTP_RESP_BAD_HEADER;
    name_len = (size_t)(colon - p);
    for (size_t i = 0; i < name_len; i++)
        if (!is_token_char(p[i]))
            return HTTP_RESP_BAD_HEADER;
    v = colon + 1;
    vn = n - name_len - 1;
    for (size_t i = 0; i < vn; i++)
        if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
            return HTTP_RESP_BAD_HEADER;
    trim(&v, &vn);
    if (value_is(p, name_len, "content-length"))
        return apply_length(v, vn, r);
    if (value_is(p, name_len, "transfer-encoding") && !value_is(v, vn, "identity"))
        r->chunked = true;
    if (value_is(p, name_len, "connection") && value_is(v, vn, "close"))
        r->close = true;
    return HTTP_RESP_OK;
}

int http_resp_parse_head(const char *buf, size_t len, struct http_resp *r, size_t *head_len)
{
    const char *p = buf, *end = buf + (len < HTTP_RESP_HEAD_MAX ? len : HTTP_RESP_HEAD_MAX);
    const char *lf;
    int rc;

    memset(r, 0, sizeof(*r));
    lf = memchr(p, '\n', (size_t)(end - p));
    if (lf == NULL)
        return len >= HTTP_RESP_HEAD_MAX ? HTTP_RESP_TOO_BIG : HTTP_RESP_MORE;
    rc = parse_status(p, line_len(p, lf), r);
    for (p = lf + 1; rc == HTTP_RESP_OK; p = lf + 1) {
        lf = memchr(p, '\n', (size_t)(end - p));
        if (lf == NULL)
            return len >= HTTP_RESP_HEAD_MAX ? HTTP_RESP_TOO_BIG : HTTP_RESP_MORE;
        if (line_len(p, lf) == 0) {
            *head_len = (size_t)(lf + 1 - buf);
            return HTTP_RESP_OK;
        }
        rc = parse_header(p, line_len(p, lf), r);
    }
    return rc;
}

const char *http_resp_strerror(int result)
{
    switch (result) {
    case HTTP_RESP_OK:
        return "ok";
    case HTTP_RESP_MORE:
        return "response head cut short";
    case HTTP_RESP_TOO_BIG:
        return "response head over 8192 bytes";
    case HTTP_RESP_BAD_STATUS:
        return "malformed status line";
    case HTTP_RESP_BAD_HEADER:
        return "malformed header line";
    case HTTP_RESP_BAD_LENGTH:
        return "bad Content-Length";
    default:
        return "unknown response error";
    }
}

void http_body_init(struct http_body *b, const struct http_resp *r)
{
    memset(b, 0, sizeof(*b));
    b->has_length = r->has_length;
    b->remaining = r->length;
}

size_t http_body_feed(struct http_body *b, size_t n, bool *done)
{
    size_t take = n;

    if (b->has_length && take > b->remaining)
        take = (size_t)b->remaining;
    if (b->has_length)
        b->remaining -= take;
    b->received += take;
    *done = b->has_length && b->remaining == 0;
    return take;
}

bool http_body_eof_ok(const struct http_body *b)
{
    return !b->has_length || b->remaining == 0;
}
