/* http_get.c: one non-blocking HTTP/1.1 GET in the caller's epoll loop: connect,
 * one request with Connection: close, the head through http_resp, the body by
 * Content-Length or until the close. Never blocks, never reads a clock. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "tests/bench/http_get.h"

#include "tests/bench/bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int http_get_build_request(char *buf, size_t cap, const char *name, const char *host)
{
    char path[3 * HTTP_GET_NAME_MAX + 1];
    size_t n = 0;
    int len;

    if (strlen(name) > HTTP_GET_NAME_MAX)
        return -1;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        if (unreserved(*p))
            path[n++] = (char)*p;
        else
            n += (size_t)snprintf(path + n, 4, "%%%02X", *p);
    }
    path[n] = '\0';
    len = snprintf(buf, cap,
                   "GET /%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: loadsd-phonesim\r\n"
                   "Connection: close\r\n\r\n",
                   path, host);
    return len > 0 && (size_t)len < cap ? len : -1;
}

static int open_socket(const struct sockaddr *server, const struct sockaddr *bind_addr,
                       socklen_t bind_len)
{
    int fd = socket(server->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc;

    if (fd < 0)
        return -errno;
    if (bind_addr != NULL && bind(fd, bind_addr, bind_len) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int http_get_start(struct http_get *g, int epfd, uint64_t tag, const struct sockaddr *server,
                   socklen_t server_len, const struct sockaddr *bind_addr, socklen_t bind_len,
                   const char *name, uint64_t idle_ns, uint64_t now_ns)
{
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u64 = tag};
    char host[INET6_ADDRSTRLEN + 8];
    int n, rc = -ENOMEM;

    g->fd = -1;
    g->state = HG_IDLE;
    g->buf = malloc(HTTP_RESP_HEAD_MAX);
    if (g->buf == NULL)
        goto out;
    bench_addr_text(server, host, sizeof(host));
    n = http_get_build_request(g->buf, HTTP_RESP_HEAD_MAX, name, host);
    rc = -ENAMETOOLONG;
    if (n < 0)
        goto out;
    g->len = (size_t)n;
    rc = g->fd = open_socket(server, bind_addr, bind_len);
    if (rc < 0)
        goto out;
    rc = 0;
    if (connect(g->fd, server, server_len) != 0 && errno != EINPROGRESS)
        rc = -errno;
    if (rc == 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, g->fd, &ev) != 0)
        rc = -errno;
out:
    if (rc != 0) {
        http_get_close(g);
        return rc;
    }
    g->epfd = epfd;
    g->tag = tag;
    g->state = HG_CONNECTING;
    g->fail = HG_FAIL_NONE;
    g->bytes = 0;
    g->idle_ns = idle_ns;
    g->deadline_ns = now_ns + idle_ns;
    return 0;
}

void http_get_close(struct http_get *g)
{
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    free(g->buf);
    g->buf = NULL;
    g->state = HG_IDLE;
}

/* Ends the GET: why = prefix followed by detail. */
static enum http_get_step failed(struct http_get *g, enum http_get_fail f, char *why,
                                 size_t why_cap, const char *prefix, const char *detail)
{
    g->fail = f;
    snprintf(why, why_cap, "%s%s", prefix, detail);
    return HG_FAILED;
}

/* The connection is up (or refused): send the whole request at once; it is
 * far smaller than a fresh socket's send buffer. */
static enum http_get_step on_connected(struct http_get *g, char *why, size_t why_cap)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = g->tag};
    int err = 0;
    socklen_t len = sizeof(err);
    ssize_t n;

    if (getsockopt(g->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err != 0)
        return failed(g, HG_FAIL_CONNECT, why, why_cap, "HTTP connect: ", strerror(err));
    n = send(g->fd, g->buf, g->len, MSG_NOSIGNAL);
    if (n != (ssize_t)g->len)
        return failed(g, HG_FAIL_CONNECT, why, why_cap,
                      "HTTP send: ", n < 0 ? strerror(errno) : "short write");
    if (epoll_ctl(g->epfd, EPOLL_CTL_MOD, g->fd, &ev) != 0)
        return failed(g, HG_FAIL_ERROR, why, why_cap, "epoll: ", strerror(errno));
    g->len = 0;
    g->state = HG_HEAD;
    return HG_GOING;
}

/* n body bytes at p: to the sink, up to Content-Length. */
static enum http_get_step take_body(struct http_get *g, const uint8_t *p, size_t n, char *why,
                                    size_t why_cap)
{
    bool done = false;
    size_t take = http_body_feed(&g->body, n, &done);

    g->bytes += take;
    if (take > 0 && g->sink != NULL && g->sink(g->sink_arg, p, take) != 0)
        return failed(g, HG_FAIL_ERROR, why, why_cap, "", "receiver refused the data");
    return done ? HG_DONE : HG_GOING;
}

static enum http_get_step head_complete(struct http_get *g, size_t head_len, char *why,
                                        size_t why_cap)
{
    char code[8];

    snprintf(code, sizeof(code), "%u", g->resp.status);
    if (g->resp.status != 200)
        return failed(g, HG_FAIL_STATUS, why, why_cap, "HTTP status ", code);
    if (g->resp.chunked)
        return failed(g, HG_FAIL_ERROR, why, why_cap, "", "HTTP chunked body (not read)");
    http_body_init(&g->body, &g->resp);
    g->state = HG_BODY;
    if (g->body.has_length && g->body.remaining == 0)
        return HG_DONE;
    return take_body(g, (const uint8_t *)g->buf + head_len, g->len - head_len, why, why_cap);
}

static enum http_get_step on_head_bytes(struct http_get *g, char *why, size_t why_cap)
{
    ssize_t n = recv(g->fd, g->buf + g->len, HTTP_RESP_HEAD_MAX - g->len, 0);
    size_t head_len = 0;
    int rc;

    if (n < 0)
        return errno == EAGAIN || errno == EINTR
                   ? HG_GOING
                   : failed(g, HG_FAIL_CONNECT, why, why_cap, "HTTP recv: ", strerror(errno));
    if (n == 0)
        return failed(g, HG_FAIL_ERROR, why, why_cap, "", "HTTP closed before the head ended");
    g->len += (size_t)n;
    rc = http_resp_parse_head(g->buf, g->len, &g->resp, &head_len);
    if (rc == HTTP_RESP_MORE)
        return HG_GOING;
    if (rc != HTTP_RESP_OK)
        return failed(g, HG_FAIL_ERROR, why, why_cap, "HTTP ", http_resp_strerror(rc));
    return head_complete(g, head_len, why, why_cap);
}

static enum http_get_step on_body_bytes(struct http_get *g, uint8_t *scratch, size_t cap, char *why,
                                        size_t why_cap)
{
    ssize_t n = recv(g->fd, scratch, cap, 0);

    if (n < 0)
        return errno == EAGAIN || errno == EINTR
                   ? HG_GOING
                   : failed(g, HG_FAIL_ERROR, why, why_cap, "HTTP recv: ", strerror(errno));
    if (n == 0)
        return http_body_eof_ok(&g->body)
                   ? HG_DONE
                   : failed(g, HG_FAIL_ERROR, why, why_cap, "", "HTTP body cut short");
    return take_body(g, scratch, (size_t)n, why, why_cap);
}

enum http_get_step http_get_on_event(struct http_get *g, uint32_t events, uint8_t *scratch,
                                     size_t scratch_cap, uint64_t now_ns, char *why, size_t why_cap)
{
    enum http_get_step st = HG_GOING;

    if (g->state == HG_IDLE)
        return HG_GOING;
    g->deadline_ns = now_ns + g->idle_ns;
    if (g->state == HG_CONNECTING) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
            return HG_GOING;
        st = on_connected(g, why, why_cap);
        if (st != HG_GOING)
            return st;
        return HG_GOING; /* a reply comes as a later event */
    }
    if (g->state == HG_HEAD)
        return on_head_bytes(g, why, why_cap);
    return on_body_bytes(g, scratch, scratch_cap, why, why_cap);
}

enum http_get_step http_get_on_timer(struct http_get *g, uint64_t now_ns, char *why, size_t why_cap)
{
    if (g->state == HG_IDLE || now_ns < g->deadline_ns)
        return HG_GOING;
    return failed(g, HG_FAIL_TIMEOUT, why, why_cap, "",
                  g->state == HG_CONNECTING ? "HTTP connect timed out" : "HTTP timed out");
}
