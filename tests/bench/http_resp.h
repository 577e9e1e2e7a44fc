/* http_resp.h: the head and body framing of an HTTP/1.x response, for phonesim's
 * GET client. Pure functions of bytes: no sockets, no allocation. */
#ifndef LOADSD_BENCH_HTTP_RESP_H
#define LOADSD_BENCH_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_RESP_HEAD_MAX   8192                     /* status line and headers together */
#define HTTP_RESP_LENGTH_MAX UINT64_C(0xffffffffffff) /* 256 TiB: far past any firmware */

struct http_resp {
    unsigned status; /* 100..599 */
    bool has_length;
    uint64_t length; /* Content-Length */
    bool chunked;    /* a Transfer-Encoding other than identity: we do not decode it */
    bool close;      /* Connection: close */
};

enum http_resp_result {
    HTTP_RESP_OK = 0,          /* the head is complete */
    HTTP_RESP_MORE = 1,        /* no blank line yet: feed more */
    HTTP_RESP_TOO_BIG = -1,    /* no end of head within HTTP_RESP_HEAD_MAX */
    HTTP_RESP_BAD_STATUS = -2, /* not "HTTP/1.0|1.1 NNN reason" */
    HTTP_RESP_BAD_HEADER = -3, /* a line without a colon, a bad name, a control byte */
    HTTP_RESP_BAD_LENGTH = -4, /* Content-Length not a number in range, or two that differ */
};

/* Parses the head at the start of buf. On HTTP_RESP_OK *head_len counts the
 * bytes up to and including the blank line; the body follows. Lines end in
 * CRLF or a bare LF. */
int http_resp_parse_head(const char *buf, size_t len, struct http_resp *r, size_t *head_len);

/* Words for a result, for a phone's timeline. */
const char *http_resp_strerror(int result);

/* Where the body ends: after Content-Length bytes, or at the close. */
struct http_body {
    bool has_length;
    uint64_t remaining; /* with a length */
    uint64_t received;
};

void http_body_init(struct http_body *b, const struct http_resp *r);

/* n more bytes arrived; returns how many of them belong to the body (bytes
 * past Content-Length do not) and sets *done when the body is complete. */
size_t http_body_feed(struct http_body *b, size_t n, bool *done);

/* The peer closed: true when that ends a whole body (close-delimited, or
 * every byte of Content-Length received). */
bool http_body_eof_ok(const struct http_body *b);

#endif
