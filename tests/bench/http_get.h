/* http_get.h: one HTTP/1.1 GET as a non-blocking client inside the caller's
 * epoll loop (connect, send, head, body by Content-Length or close), for phonesim.
 * Never blocks; the caller passes the time in and owns the loop. */
#ifndef LOADSD_BENCH_HTTP_GET_H
#define LOADSD_BENCH_HTTP_GET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tests/bench/http_resp.h"

#define HTTP_GET_NAME_MAX 255 /* a file name in the request path */

enum http_get_state { HG_IDLE, HG_CONNECTING, HG_HEAD, HG_BODY };
enum http_get_step { HG_GOING = 0, HG_DONE = 1, HG_FAILED = -1 };
/* Why a GET failed: the caller falls back to TFTP on any of them. */
enum http_get_fail {
    HG_FAIL_NONE,
    HG_FAIL_CONNECT,
    HG_FAIL_STATUS,
    HG_FAIL_TIMEOUT,
    HG_FAIL_ERROR
};

/* Receives each piece of the body; nonzero stops the GET. */
typedef int (*http_get_sink_fn)(void *arg, const uint8_t *data, size_t len);

struct http_get {
    int fd;
    int epfd;
    uint64_t tag; /* epoll data of fd */
    enum http_get_state state;
    enum http_get_fail fail;
    char *buf; /* HTTP_RESP_HEAD_MAX bytes while connecting or reading the head */
    size_t len;
    struct http_resp resp;
    struct http_body body;
    uint64_t idle_ns; /* the longest silence allowed */
    uint64_t deadline_ns;
    uint64_t bytes; /* body bytes received */
    http_get_sink_fn sink;
    void *sink_arg;
};

/* Starts GET /name to server (bound to bind_addr when given) and adds the socket
 * to epfd with tag. 0, or a negative errno (nothing left open). */
int http_get_start(struct http_get *g, int epfd, uint64_t tag, const struct sockaddr *server,
                   socklen_t server_len, const struct sockaddr *bind_addr, socklen_t bind_len,
                   const char *name, uint64_t idle_ns, uint64_t now_ns);

/* The socket reported events; scratch is room for reading the body. */
enum http_get_step http_get_on_event(struct http_get *g, uint32_t events, uint8_t *scratch,
                                     size_t scratch_cap, uint64_t now_ns, char *why,
                                     size_t why_cap);

/* Fails the GET when now_ns is past its deadline. */
enum http_get_step http_get_on_timer(struct http_get *g, uint64_t now_ns, char *why,
                                     size_t why_cap);

void http_get_close(struct http_get *g);

/* The request for name into buf: "GET /name HTTP/1.1" with name's bytes outside
 * RFC 3986's unreserved set percent-encoded. Its length, or -1 when it does not fit. */
int http_get_build_request(char *buf, size_t cap, const char *name, const char *host);

#endif
