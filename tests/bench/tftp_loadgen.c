/* tftp_loadgen.c: a TFTP read-client load generator on loadsd's own codec
 * (RFC 1350/2347/2348/7440): one thread, one epoll set, thousands of transfers.
 * A benchmark tool: it keeps no received data and sends only to --server. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/log.h"
#include "lib/numparse.h"
#include "server/tftp/tftp_packet.h"

#define LOADGEN_TIMEOUT_MS_DEFAULT  1000
#define LOADGEN_RETRIES_DEFAULT     5
#define LOADGEN_MAX_SECONDS_DEFAULT 600
#define LOADGEN_COUNT_MAX           10000000
#define LOADGEN_CONCURRENCY_MAX     60000
#define LOADGEN_BATCH_MAX           64  /* datagrams per recvmmsg */
#define LOADGEN_EVENTS_MAX          256 /* epoll events per wait */
#define LOADGEN_TICK_MS_MAX         20  /* timer scan interval cap */
#define LOADGEN_FD_SPARE            32  /* descriptors besides the transfers */
#define LOADGEN_RCVBUF_MIN          (256 * 1024)
#define LOADGEN_ERR_MAX             192
#define LOADGEN_SHA256_LEN          32
#define LOADGEN_NS_PER_MS           UINT64_C(1000000)
#define LOADGEN_NS_PER_S            UINT64_C(1000000000)

/* Exit codes: every transfer verified, some failed, bad usage or setup. */
enum { LOADGEN_EXIT_OK = 0, LOADGEN_EXIT_FAILED = 1, LOADGEN_EXIT_USAGE = 2 };

struct loadgen_args {
    struct sockaddr_storage server;
    socklen_t server_len;
    const char *server_text;
    const char *file;
    uint64_t count;
    uint64_t concurrency;
    uint32_t blksize;    /* 0: not asked */
    uint32_t windowsize; /* 0: not asked */
    bool tsize;
    bool json;
    bool sha256;
    const char *expect_sha256;
    bool expect_size_set;
    uint64_t expect_size;
    uint64_t timeout_ms;
    uint64_t retries;
    uint64_t max_seconds;
};

enum xfer_state {
    XFER_IDLE,       /* slot free */
    XFER_WAIT_FIRST, /* RRQ sent, the server's TID not known yet */
    XFER_RECEIVING,  /* OACK acknowledged or DATA 1 seen */
};

struct xfer {
    int fd;
    enum xfer_state state;
    uint64_t id; /* 0 .. count-1, in start order */
    uint32_t blksize;
    uint32_t windowsize;
    uint16_t last_block; /* last block received in order; 0 before DATA 1 */
    uint32_t in_window;  /* in-order blocks since the last ACK */
    bool reack;          /* a gap or duplicate was seen in this batch */
    bool tsize_known;
    uint64_t tsize;
    uint64_t bytes;
    uint64_t start_ns;
    uint64_t deadline_ns;
    uint64_t retries;
    EVP_MD_CTX *md; /* transfer 0 only, when a digest is wanted */
};

struct loadgen_rx {
    uint8_t *buf;
    size_t slot_size; /* negotiated maximum + header + 1 to see oversized datagrams */
    struct mmsghdr msgs[LOADGEN_BATCH_MAX];
    struct iovec iov[LOADGEN_BATCH_MAX];
    struct sockaddr_storage from[LOADGEN_BATCH_MAX];
};

struct loadgen {
    struct loadgen_args a;
    int epfd;
    struct xfer *slots;
    uint64_t next_id;
    uint64_t active;
    uint64_t ok;
    uint64_t failed;
    uint64_t timeouts;     /* our retransmissions (RRQ or ACK) */
    uint64_t out_of_order; /* DATA that was not the next block: duplicates, gaps */
    uint64_t bytes_ok;
    uint64_t *lat_ns;
    uint64_t lat_n;
    uint64_t start_ns;
    uint64_t end_ns;
    uint8_t req[TFTP_REQUEST_MAX];
    size_t req_len;
    struct loadgen_rx rx;
    uint32_t neg_blksize; /* as negotiated by the first transfer that got so far */
    uint32_t neg_windowsize;
    bool neg_known;
    char first_error[LOADGEN_ERR_MAX];
    unsigned char digest[LOADGEN_SHA256_LEN];
    bool digest_done;
};

static uint64_t clock_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * LOADGEN_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void usage_print(FILE *f)
{
    fprintf(f, "usage: tftp_loadgen --server ADDR:PORT --file NAME --count N --concurrency C\n"
               "                    [--blksize B] [--windowsize W] [--tsize] [--timeout-ms T]\n"
               "                    [--retries R] [--max-seconds S] [--expect-size BYTES]\n"
               "                    [--sha256] [--expect-sha256 HEX] [--json]\n"
               "ADDR is IPv4 (127.0.0.1:69) or bracketed IPv6 ([::1]:69).\n");
}

/* ---------- argument parsing ---------- */

static int args_parse_port(const char *text, uint16_t *port)
{
    uint64_t v;

    if (numparse_u64(text, 1, 65535, &v) != 0)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* "1.2.3.4:69" or "[::1]:69" into a socket address. */
static int args_parse_server(const char *text, struct loadgen_args *a)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(text, ':');
    size_t hlen;
    uint16_t port;

    if (colon == NULL || args_parse_port(colon + 1, &port) != 0)
        return -1;
    hlen = (size_t)(colon - text);
    if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->server;

        if (hlen - 2 >= sizeof(host))
            return -1;
        memcpy(host, text + 1, hlen - 2);
        host[hlen - 2] = '\0';
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        a->server_len = sizeof(*s6);
        return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -1;
    }
    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->server;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    a->server_len = sizeof(*s4);
    return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

static int args_number(const char *name, const char *text, uint64_t min, uint64_t max,
                       uint64_t *out)
{
    if (numparse_u64(text, min, max, out) == 0)
        return 0;
    fprintf(stderr, "tftp_loadgen: --%s wants a number from %llu to %llu\n", name,
            (unsigned long long)min, (unsigned long long)max);
    return -1;
}

enum {
    OPT_SERVER = 1,
    OPT_FILE,
    OPT_COUNT,
    OPT_CONCURRENCY,
    OPT_BLKSIZE,
    OPT_WINDOWSIZE,
    OPT_TSIZE,
    OPT_TIMEOUT_MS,
    OPT_RETRIES,
    OPT_MAX_SECONDS,
    OPT_EXPECT_SIZE,
    OPT_SHA256,
    OPT_EXPECT_SHA256,
    OPT_JSON,
    OPT_HELP,
};

static const struct option args_longopts[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"file", required_argument, NULL, OPT_FILE},
    {"count", required_argument, NULL, OPT_COUNT},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"blksize", required_argument, NULL, OPT_BLKSIZE},
    {"windowsize", required_argument, NULL, OPT_WINDOWSIZE},
    {"tsize", no_argument, NULL, OPT_TSIZE},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"max-seconds", required_argument, NULL, OPT_MAX_SECONDS},
    {"expect-size", required_argument, NULL, OPT_EXPECT_SIZE},
    {"sha256", no_argument, NULL, OPT_SHA256},
    {"expect-sha256", required_argument, NULL, OPT_EXPECT_SHA256},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int args_apply_number(int opt, const char *arg, struct loadgen_args *a)
{
    uint64_t v = 0;
    int rc = -1;

    switch (opt) {
    case OPT_COUNT:
        rc = args_number("count", arg, 1, LOADGEN_COUNT_MAX, &a->count);
        break;
    case OPT_CONCURRENCY:
        rc = args_number("concurrency", arg, 1, LOADGEN_CONCURRENCY_MAX, &a->concurrency);
        break;
    case OPT_BLKSIZE:
        rc = args_number("blksize", arg, TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX, &v);
        a->blksize = (uint32_t)v;
        break;
    case OPT_WINDOWSIZE:
        rc = args_number("windowsize", arg, TFTP_WINDOW_MIN, TFTP_WINDOW_MAX, &v);
        a->windowsize = (uint32_t)v;
        break;
    case OPT_TIMEOUT_MS:
        rc = args_number("timeout-ms", arg, 1, 600000, &a->timeout_ms);
        break;
    case OPT_RETRIES:
        rc = args_number("retries", arg, 0, 1000, &a->retries);
        break;
    case OPT_MAX_SECONDS:
        rc = args_number("max-seconds", arg, 1, 86400, &a->max_seconds);
        break;
    case OPT_EXPECT_SIZE:
        rc = args_number("expect-size", arg, 0, TFTP_TSIZE_MAX, &a->expect_size);
        a->expect_size_set = true;
        break;
    default:
        break;
    }
    return rc;
}

static int args_apply(int opt, const char *arg, struct loadgen_args *a)
{
    switch (opt) {
    case OPT_SERVER:
        a->server_text = arg;
        if (args_parse_server(arg, a) != 0) {
            fprintf(stderr, "tftp_loadgen: bad --server %s\n", arg);
            return -1;
        }
        return 0;
    case OPT_FILE:
        a->file = arg;
        return 0;
    case OPT_TSIZE:
        a->tsize = true;
        return 0;
    case OPT_SHA256:
        a->sha256 = true;
        return 0;
    case OPT_EXPECT_SHA256:
        a->expect_sha256 = arg;
        a->sha256 = true;
        return 0;
    case OPT_JSON:
        a->json = true;
        return 0;
    default:
        return args_apply_number(opt, arg, a);
    }
}

static int args_check(struct loadgen_args *a)
{
    if (a->server_len == 0 || a->file == NULL || a->count == 0 || a->concurrency == 0) {
        fprintf(stderr, "tftp_loadgen: --server, --file, --count and --concurrency are required\n");
        return -1;
    }
    if (a->expect_sha256 != NULL && strlen(a->expect_sha256) != 2 * LOADGEN_SHA256_LEN) {
        fprintf(stderr, "tftp_loadgen: --expect-sha256 wants 64 hex digits\n");
        return -1;
    }
    if (a->concurrency > a->count)
        a->concurrency = a->count;
    return 0;
}

/* 0, 1 for --help, or -1 for a usage error. */
static int args_parse(int argc, char **argv, struct loadgen_args *a)
{
    int opt;

    memset(a, 0, sizeof(*a));
    a->timeout_ms = LOADGEN_TIMEOUT_MS_DEFAULT;
    a->retries = LOADGEN_RETRIES_DEFAULT;
    a->max_seconds = LOADGEN_MAX_SECONDS_DEFAULT;
    while ((opt = getopt_long(argc, argv, "", args_longopts, NULL)) != -1) {
        if (opt == OPT_HELP)
            return 1;
        if (opt == '?' || args_apply(opt, optarg, a) != 0)
            return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "tftp_loadgen: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    return args_check(a);
}

/* ---------- setup ---------- */

/* Each transfer holds one socket: make room for all of them at once. */
static int loadgen_raise_nofile(uint64_t need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    if (rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max < need)
        rl.rlim_max = need; /* only root may raise the hard limit */
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    return 0;
}

static int loadgen_build_request(struct loadgen *lg)
{
    struct tftp_options o;
    int n;

    memset(&o, 0, sizeof(o));
    if (lg->a.blksize != 0) {
        o.present |= TFTP_OPT_BLKSIZE;
        o.blksize = lg->a.blksize;
    }
    if (lg->a.windowsize != 0) {
        o.present |= TFTP_OPT_WINDOWSIZE;
        o.windowsize = lg->a.windowsize;
    }
    if (lg->a.tsize)
        o.present |= TFTP_OPT_TSIZE; /* value 0: "tell me the size" (RFC 2349) */
    n = tftp_packet_build_request(lg->req, sizeof(lg->req), TFTP_OP_RRQ, lg->a.file,
                                  TFTP_MODE_OCTET, &o);
    if (n < 0)
        return n;
    lg->req_len = (size_t)n;
    return 0;
}

static int loadgen_alloc_rx(struct loadgen_rx *rx, uint32_t blksize)
{
    uint32_t blk = blksize > TFTP_BLKSIZE_DEFAULT ? blksize : TFTP_BLKSIZE_DEFAULT;

    rx->slot_size = (size_t)blk + TFTP_HEADER_LEN + 1;
    rx->buf = malloc(rx->slot_size * LOADGEN_BATCH_MAX);
    if (rx->buf == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < LOADGEN_BATCH_MAX; i++) {
        rx->iov[i].iov_base = rx->buf + i * rx->slot_size;
        rx->iov[i].iov_len = rx->slot_size;
    }
    return 0;
}

static int loadgen_init(struct loadgen *lg)
{
    int rc = -ENOMEM;

    lg->epfd = -1;
    lg->slots = calloc(lg->a.concurrency, sizeof(*lg->slots));
    lg->lat_ns = calloc(lg->a.count, sizeof(*lg->lat_ns));
    if (lg->slots == NULL || lg->lat_ns == NULL)
        goto out;
    for (uint64_t i = 0; i < lg->a.concurrency; i++)
        lg->slots[i].fd = -1;
    rc = loadgen_alloc_rx(&lg->rx, lg->a.blksize);
    if (rc == 0)
        rc = loadgen_build_request(lg);
    if (rc == 0)
        rc = loadgen_raise_nofile(lg->a.concurrency + LOADGEN_FD_SPARE);
    if (rc != 0)
        goto out;
    lg->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (lg->epfd < 0)
        rc = -errno;
out:
    return rc;
}

static void loadgen_free(struct loadgen *lg)
{
    if (lg->epfd >= 0)
        close(lg->epfd);
    if (lg->slots != NULL)
        for (uint64_t i = 0; i < lg->a.concurrency; i++) {
            if (lg->slots[i].fd >= 0)
                close(lg->slots[i].fd);
            EVP_MD_CTX_free(lg->slots[i].md);
        }
    free(lg->slots);
    free(lg->lat_ns);
    free(lg->rx.buf);
}

/* ---------- one transfer ---------- */

static void xfer_note_error(struct loadgen *lg, const struct xfer *x, const char *what)
{
    if (lg->first_error[0] != '\0')
        return;
    snprintf(lg->first_error, sizeof(lg->first_error), "transfer %llu: %s",
             (unsigned long long)x->id, what);
}

static int xfer_check_digest(struct loadgen *lg, struct xfer *x)
{
    char hex[2 * LOADGEN_SHA256_LEN + 1];
    unsigned int len = 0;

    if (x->md == NULL)
        return 0;
    if (EVP_DigestFinal_ex(x->md, lg->digest, &len) != 1 || len != LOADGEN_SHA256_LEN)
        return -1;
    lg->digest_done = true;
    if (lg->a.expect_sha256 == NULL)
        return 0;
    for (unsigned i = 0; i < LOADGEN_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", lg->digest[i]);
    return strcasecmp(hex, lg->a.expect_sha256) == 0 ? 0 : -1;
}

/* The checks a finished transfer must pass; NULL when it passes. */
static const char *xfer_verify(struct loadgen *lg, struct xfer *x)
{
    if (lg->a.expect_size_set && x->bytes != lg->a.expect_size)
        return "size differs from --expect-size";
    if (x->tsize_known && x->bytes != x->tsize)
        return "size differs from the tsize in the OACK";
    if (xfer_check_digest(lg, x) != 0)
        return "SHA-256 differs from --expect-sha256";
    return NULL;
}

static void xfer_close(struct loadgen *lg, struct xfer *x)
{
    if (x->fd >= 0)
        close(x->fd); /* also leaves the epoll set */
    x->fd = -1;
    EVP_MD_CTX_free(x->md);
    x->md = NULL;
    x->state = XFER_IDLE;
    lg->active--;
}

/* Ends a transfer: why == NULL means it received everything. */
static void xfer_end(struct loadgen *lg, struct xfer *x, const char *why)
{
    uint64_t now = clock_now_ns();

    if (why == NULL)
        why = xfer_verify(lg, x);
    if (why == NULL) {
        lg->ok++;
        lg->bytes_ok += x->bytes;
        lg->lat_ns[lg->lat_n++] = now - x->start_ns;
    } else {
        lg->failed++;
        xfer_note_error(lg, x, why);
    }
    lg->end_ns = now;
    xfer_close(lg, x);
}

/* A datagram the kernel would not take (full queue, a firewall drop) is a
 * lost packet like any other: the timers recover it. Other errors are fatal. */
static int send_result(ssize_t sent, size_t want)
{
    if (sent == (ssize_t)want)
        return 0;
    if (sent >= 0)
        return -EMSGSIZE;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EPERM ||
        errno == EINTR)
        return 0;
    return -errno;
}

static int xfer_send_ack(struct xfer *x, uint16_t block)
{
    uint8_t pkt[TFTP_HEADER_LEN];
    int n = tftp_packet_build_ack(pkt, sizeof(pkt), block);

    if (n < 0)
        return n;
    if (send_result(send(x->fd, pkt, (size_t)n, 0), (size_t)n) != 0)
        return -errno;
    x->in_window = 0;
    x->reack = false;
    return 0;
}

/* Tells the server why we stop (RFC 1350: an error packet ends a transfer). */
static void xfer_send_error(struct xfer *x, uint16_t code, const char *msg)
{
    uint8_t pkt[TFTP_HEADER_LEN + TFTP_ERRMSG_MAX];
    int n = tftp_packet_build_error(pkt, sizeof(pkt), code, msg);

    if (n > 0)
        (void)send(x->fd, pkt, (size_t)n, 0);
}

static int xfer_send_request(struct loadgen *lg, struct xfer *x)
{
    ssize_t n = sendto(x->fd, lg->req, lg->req_len, 0, (const struct sockaddr *)&lg->a.server,
                       lg->a.server_len);

    return send_result(n, lg->req_len);
}

static void xfer_arm_timer(struct loadgen *lg, struct xfer *x, uint64_t now)
{
    x->deadline_ns = now + lg->a.timeout_ms * LOADGEN_NS_PER_MS;
}

/* A window needs room in the socket's receive queue, or loopback drops. */
static void xfer_size_rcvbuf(const struct loadgen *lg, int fd)
{
    uint64_t want;
    int v;

    if (lg->a.windowsize <= 1)
        return;
    want = (uint64_t)lg->a.windowsize * (lg->rx.slot_size + 512) * 2;
    if (want < LOADGEN_RCVBUF_MIN)
        want = LOADGEN_RCVBUF_MIN;
    if (want > INT32_MAX / 2)
        want = INT32_MAX / 2;
    v = (int)want;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

static int xfer_open_socket(struct loadgen *lg, struct xfer *x, uint32_t slot)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = slot};
    int rc;

    x->fd = socket(lg->a.server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (x->fd < 0)
        return -errno;
    xfer_size_rcvbuf(lg, x->fd);
    rc = epoll_ctl(lg->epfd, EPOLL_CTL_ADD, x->fd, &ev);
    return rc == 0 ? 0 : -errno;
}

static int xfer_start(struct loadgen *lg, struct xfer *x, uint32_t slot, uint64_t id)
{
    int rc;

    memset(x, 0, sizeof(*x));
    x->fd = -1;
    x->id = id;
    x->state = XFER_WAIT_FIRST;
    x->blksize = TFTP_BLKSIZE_DEFAULT;
    x->windowsize = 1;
    x->start_ns = clock_now_ns();
    xfer_arm_timer(lg, x, x->start_ns);
    lg->active++;
    rc = xfer_open_socket(lg, x, slot);
    if (rc == 0 && id == 0 && lg->a.sha256) {
        x->md = EVP_MD_CTX_new();
        if (x->md == NULL || EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1)
            rc = -ENOMEM;
    }
    if (rc == 0)
        rc = xfer_send_request(lg, x);
    return rc;
}

/* Starts the next transfers in a free slot until one is under way. */
static void loadgen_fill_slot(struct loadgen *lg, uint32_t slot)
{
    struct xfer *x = &lg->slots[slot];

    while (lg->next_id < lg->a.count) {
        uint64_t id = lg->next_id++;
        int rc = xfer_start(lg, x, slot, id);

        if (rc == 0)
            return;
        xfer_end(lg, x, strerror(-rc));
    }
}

static bool addr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* The server's TID is the source port of its first reply: from now on the
 * socket talks to that port only, and the kernel drops strangers. */
static int xfer_lock_peer(struct loadgen *lg, struct xfer *x, const struct sockaddr_storage *from,
                          socklen_t from_len)
{
    if (!addr_same_host(from, &lg->a.server))
        return 1; /* not our server: ignore */
    if (connect(x->fd, (const struct sockaddr *)from, from_len) != 0)
        return -errno;
    return 0;
}

static void loadgen_note_negotiated(struct loadgen *lg, const struct xfer *x)
{
    if (lg->neg_known)
        return;
    lg->neg_known = true;
    lg->neg_blksize = x->blksize;
    lg->neg_windowsize = x->windowsize;
}

/* RFC 2347: an OACK holds only options we asked for, each no larger than asked. */
static const char *xfer_apply_oack(struct loadgen *lg, struct xfer *x, const struct tftp_options *o)
{
    unsigned asked = (lg->a.blksize ? TFTP_OPT_BLKSIZE : 0) |
                     (lg->a.windowsize ? TFTP_OPT_WINDOWSIZE : 0) |
                     (lg->a.tsize ? TFTP_OPT_TSIZE : 0);

    if ((o->present & ~asked) != 0)
        return "OACK carries an option we did not ask for";
    if (o->present & TFTP_OPT_BLKSIZE) {
        if (o->blksize > lg->a.blksize)
            return "OACK blksize larger than asked";
        x->blksize = o->blksize;
    }
    if (o->present & TFTP_OPT_WINDOWSIZE) {
        if (o->windowsize > lg->a.windowsize)
            return "OACK windowsize larger than asked";
        x->windowsize = o->windowsize;
    }
    if (o->present & TFTP_OPT_TSIZE) {
        x->tsize_known = true;
        x->tsize = o->tsize;
    }
    loadgen_note_negotiated(lg, x);
    return NULL;
}

/* Returns NULL to go on, "" when the transfer completed, else why it failed. */
static const char *xfer_on_oack(struct loadgen *lg, struct xfer *x, const struct tftp_packet *p)
{
    const char *why;

    if (x->state == XFER_RECEIVING) {
        /* Our ACK 0 was lost and the OACK came again: answer it again. */
        if (x->last_block == 0 && x->bytes == 0)
            x->reack = true;
        return NULL;
    }
    why = xfer_apply_oack(lg, x, &p->opts);
    if (why != NULL) {
        xfer_send_error(x, TFTP_ERR_OPTION, why);
        return why;
    }
    x->state = XFER_RECEIVING;
    if (xfer_send_ack(x, 0) != 0)
        return "send ACK 0 failed";
    xfer_arm_timer(lg, x, clock_now_ns());
    return NULL;
}

/* An in-order block; ACK at the end of each window and at the short last block. */
static const char *xfer_accept_block(struct loadgen *lg, struct xfer *x,
                                     const struct tftp_packet *p)
{
    x->bytes += p->data_len;
    if (x->md != NULL && EVP_DigestUpdate(x->md, p->data, p->data_len) != 1)
        return "digest update failed";
    x->last_block = p->block;
    x->in_window++;
    x->retries = 0;
    xfer_arm_timer(lg, x, clock_now_ns());
    if (p->data_len < x->blksize) {
        if (xfer_send_ack(x, p->block) != 0)
            return "send final ACK failed";
        return "";
    }
    if (x->in_window >= x->windowsize && xfer_send_ack(x, p->block) != 0)
        return "send ACK failed";
    return NULL;
}

static const char *xfer_on_data(struct loadgen *lg, struct xfer *x, const struct tftp_packet *p)
{
    if (x->state == XFER_WAIT_FIRST) {
        /* No option accepted (or none asked): RFC 1350 defaults. */
        x->state = XFER_RECEIVING;
        loadgen_note_negotiated(lg, x);
    }
    if (p->data_len > x->blksize) {
        xfer_send_error(x, TFTP_ERR_ILLEGAL_OP, "block larger than blksize");
        return "DATA larger than the negotiated blksize";
    }
    /* Block numbers wrap at 65535 to 0 (RFC 1350 as practised); compare mod 2^16. */
    if (p->block != (uint16_t)(x->last_block + 1)) {
        x->reack = true; /* gap or duplicate: re-ACK the last in-order block */
        lg->out_of_order++;
        return NULL;
    }
    return xfer_accept_block(lg, x, p);
}

static const char *xfer_on_error_packet(const struct tftp_packet *p, char *buf, size_t cap)
{
    char clean[TFTP_ERRMSG_MAX]; /* room enough in why_buf for the prefix */

    log_clean(p->error_msg, strlen(p->error_msg), clean, sizeof(clean));
    snprintf(buf, cap, "server ERROR %u: %s", (unsigned)p->error_code, clean);
    return buf;
}

/* One datagram; same return convention as xfer_on_oack. */
static const char *xfer_on_datagram(struct loadgen *lg, struct xfer *x, const uint8_t *buf,
                                    size_t len, char *why_buf, size_t why_cap)
{
    struct tftp_packet p;

    if (tftp_packet_parse(buf, len, &p) != TFTP_PARSE_OK) {
        xfer_send_error(x, TFTP_ERR_ILLEGAL_OP, "malformed packet");
        return "malformed packet from the server";
    }
    switch (p.op) {
    case TFTP_OP_DATA:
        return xfer_on_data(lg, x, &p);
    case TFTP_OP_OACK:
        return xfer_on_oack(lg, x, &p);
    case TFTP_OP_ERROR:
        return xfer_on_error_packet(&p, why_buf, why_cap);
    default:
        xfer_send_error(x, TFTP_ERR_ILLEGAL_OP, "unexpected opcode");
        return "unexpected opcode from the server";
    }
}

/* Handles what one recvmmsg returned; stops at the end of the transfer. */
static const char *xfer_on_batch(struct loadgen *lg, struct xfer *x, int n, char *why_buf,
                                 size_t why_cap)
{
    const char *why = NULL;

    for (int i = 0; i < n && why == NULL; i++) {
        struct mmsghdr *m = &lg->rx.msgs[i];

        if (x->state == XFER_WAIT_FIRST) {
            int rc = xfer_lock_peer(lg, x, &lg->rx.from[i], m->msg_hdr.msg_namelen);

            if (rc > 0)
                continue;
            if (rc < 0)
                return "connect to the server's TID failed";
        }
        why = xfer_on_datagram(lg, x, lg->rx.iov[i].iov_base, m->msg_len, why_buf, why_cap);
    }
    if (why == NULL && x->reack && xfer_send_ack(x, x->last_block) != 0)
        why = "send ACK failed";
    return why;
}

static void rx_prepare(struct loadgen_rx *rx, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct msghdr *h = &rx->msgs[i].msg_hdr;

        memset(h, 0, sizeof(*h));
        h->msg_name = &rx->from[i];
        h->msg_namelen = sizeof(rx->from[i]);
        h->msg_iov = &rx->iov[i];
        h->msg_iovlen = 1;
    }
}

static void xfer_on_readable(struct loadgen *lg, uint32_t slot)
{
    struct xfer *x = &lg->slots[slot];
    char why_buf[LOADGEN_ERR_MAX];
    const char *why;
    unsigned want = x->windowsize < LOADGEN_BATCH_MAX ? x->windowsize : LOADGEN_BATCH_MAX;
    int n;

    if (x->state == XFER_IDLE)
        return; /* ended earlier in this round of events */
    if (want < 2)
        want = 2; /* an OACK may change the window size mid-batch: keep it cheap */
    rx_prepare(&lg->rx, want);
    n = recvmmsg(x->fd, lg->rx.msgs, want, MSG_DONTWAIT, NULL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        why = errno == ECONNREFUSED ? "connection refused (server socket closed)" : "recv failed";
    } else {
        why = xfer_on_batch(lg, x, n, why_buf, sizeof(why_buf));
    }
    if (why == NULL)
        return;
    xfer_end(lg, x, why[0] == '\0' ? NULL : why);
    loadgen_fill_slot(lg, slot);
}

/* Our own retransmission: the RRQ again, or the last ACK again. */
static const char *xfer_on_timeout(struct loadgen *lg, struct xfer *x, uint64_t now)
{
    if (x->retries >= lg->a.retries)
        return x->state == XFER_WAIT_FIRST ? "no answer to the RRQ" : "timed out";
    x->retries++;
    lg->timeouts++;
    xfer_arm_timer(lg, x, now);
    if (x->state == XFER_WAIT_FIRST)
        return xfer_send_request(lg, x) == 0 ? NULL : "resend RRQ failed";
    return xfer_send_ack(x, x->last_block) == 0 ? NULL : "resend ACK failed";
}

static void loadgen_scan_timers(struct loadgen *lg, uint64_t now)
{
    for (uint32_t s = 0; s < lg->a.concurrency; s++) {
        struct xfer *x = &lg->slots[s];
        const char *why;

        if (x->state == XFER_IDLE || now < x->deadline_ns)
            continue;
        why = xfer_on_timeout(lg, x, now);
        if (why == NULL)
            continue;
        xfer_end(lg, x, why);
        loadgen_fill_slot(lg, s);
    }
}

static void loadgen_abort_all(struct loadgen *lg, const char *why)
{
    for (uint32_t s = 0; s < lg->a.concurrency; s++)
        if (lg->slots[s].state != XFER_IDLE)
            xfer_end(lg, &lg->slots[s], why);
    /* Transfers never started count as failed too. */
    lg->failed += lg->a.count - lg->next_id;
    lg->next_id = lg->a.count;
}

static int loadgen_tick_ms(const struct loadgen *lg)
{
    uint64_t t = lg->a.timeout_ms / 4;

    if (t > LOADGEN_TICK_MS_MAX)
        t = LOADGEN_TICK_MS_MAX;
    return t == 0 ? 1 : (int)t;
}

static int loadgen_run(struct loadgen *lg)
{
    struct epoll_event ev[LOADGEN_EVENTS_MAX];
    int tick = loadgen_tick_ms(lg);
    uint64_t stop_ns, next_scan;

    lg->start_ns = clock_now_ns();
    lg->end_ns = lg->start_ns;
    stop_ns = lg->start_ns + lg->a.max_seconds * LOADGEN_NS_PER_S;
    next_scan = lg->start_ns + (uint64_t)tick * LOADGEN_NS_PER_MS;
    for (uint32_t s = 0; s < lg->a.concurrency; s++)
        loadgen_fill_slot(lg, s);
    while (lg->active > 0) {
        int n = epoll_wait(lg->epfd, ev, LOADGEN_EVENTS_MAX, tick);
        uint64_t now;

        if (n < 0 && errno != EINTR)
            return -errno;
        for (int i = 0; i < n; i++)
            xfer_on_readable(lg, ev[i].data.u32);
        now = clock_now_ns();
        if (now >= stop_ns) {
            loadgen_abort_all(lg, "--max-seconds reached");
            break;
        }
        if (now >= next_scan) {
            loadgen_scan_timers(lg, now);
            next_scan = now + (uint64_t)tick * LOADGEN_NS_PER_MS;
        }
    }
    return 0;
}

/* ---------- report ---------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in milliseconds; 0 without samples. */
static double report_percentile_ms(const uint64_t *sorted, uint64_t n, unsigned pct)
{
    uint64_t rank;

    if (n == 0)
        return 0.0;
    rank = (n * pct + 99) / 100;
    if (rank == 0)
        rank = 1;
    return (double)sorted[rank - 1] / (double)LOADGEN_NS_PER_MS;
}

struct report {
    double wall_s;
    double mb_s;
    double p50_ms;
    double p99_ms;
    double cpu_s;
    char sha[2 * LOADGEN_SHA256_LEN + 1];
};

static double timeval_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void report_compute(struct loadgen *lg, struct report *r)
{
    struct rusage ru;

    memset(r, 0, sizeof(*r));
    r->wall_s = (double)(lg->end_ns - lg->start_ns) / (double)LOADGEN_NS_PER_S;
    if (r->wall_s > 0)
        r->mb_s = (double)lg->bytes_ok / 1e6 / r->wall_s;
    qsort(lg->lat_ns, lg->lat_n, sizeof(*lg->lat_ns), cmp_u64);
    r->p50_ms = report_percentile_ms(lg->lat_ns, lg->lat_n, 50);
    r->p99_ms = report_percentile_ms(lg->lat_ns, lg->lat_n, 99);
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        r->cpu_s = timeval_s(&ru.ru_utime) + timeval_s(&ru.ru_stime);
    if (lg->digest_done)
        for (unsigned i = 0; i < LOADGEN_SHA256_LEN; i++)
            snprintf(r->sha + 2 * i, 3, "%02x", lg->digest[i]);
}

/* Prints s as a JSON string (s is already printable ASCII from log_clean). */
static void json_put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
            fputc(*s, f);
    }
    fputc('"', f);
}

static void report_print_json(const struct loadgen *lg, const struct report *r)
{
    char clean[LOG_CLEAN_MAX];

    printf("{\"server\":");
    json_put_string(stdout,
                    log_clean(lg->a.server_text, strlen(lg->a.server_text), clean, sizeof(clean)));
    printf(",\"file\":");
    json_put_string(stdout, log_clean(lg->a.file, strlen(lg->a.file), clean, sizeof(clean)));
    printf(",\"count\":%llu,\"concurrency\":%llu,\"blksize\":%u,\"windowsize\":%u,"
           "\"ok\":%llu,\"failed\":%llu,\"bytes\":%llu,\"wall_s\":%.6f,\"mb_per_s\":%.3f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"client_cpu_s\":%.3f,\"timeouts\":%llu,"
           "\"out_of_order\":%llu",
           (unsigned long long)lg->a.count, (unsigned long long)lg->a.concurrency, lg->neg_blksize,
           lg->neg_windowsize, (unsigned long long)lg->ok, (unsigned long long)lg->failed,
           (unsigned long long)lg->bytes_ok, r->wall_s, r->mb_s, r->p50_ms, r->p99_ms, r->cpu_s,
           (unsigned long long)lg->timeouts, (unsigned long long)lg->out_of_order);
    printf(",\"sha256\":");
    if (r->sha[0] != '\0')
        json_put_string(stdout, r->sha);
    else
        printf("null");
    printf(",\"first_error\":");
    json_put_string(stdout, lg->first_error);
    printf("}\n");
}

static void report_print_text(const struct loadgen *lg, const struct report *r)
{
    printf("transfers:   %llu ok, %llu failed (of %llu, %llu at a time)\n",
           (unsigned long long)lg->ok, (unsigned long long)lg->failed,
           (unsigned long long)lg->a.count, (unsigned long long)lg->a.concurrency);
    printf("negotiated:  blksize %u, windowsize %u\n", lg->neg_blksize, lg->neg_windowsize);
    printf("wall time:   %.3f s\n", r->wall_s);
    printf("throughput:  %.2f MB/s (%llu bytes, MB = 10^6 bytes)\n", r->mb_s,
           (unsigned long long)lg->bytes_ok);
    printf("latency:     p50 %.2f ms, p99 %.2f ms\n", r->p50_ms, r->p99_ms);
    printf("client cpu:  %.3f s\n", r->cpu_s);
    printf("anomalies:   %llu client timeouts, %llu out-of-order blocks\n",
           (unsigned long long)lg->timeouts, (unsigned long long)lg->out_of_order);
    if (r->sha[0] != '\0')
        printf("sha256[0]:   %s\n", r->sha);
    if (lg->first_error[0] != '\0')
        printf("first error: %s\n", lg->first_error);
}

int main(int argc, char **argv)
{
    struct loadgen lg;
    struct report r;
    int rc;

    memset(&lg, 0, sizeof(lg));
    rc = args_parse(argc, argv, &lg.a);
    if (rc != 0) {
        usage_print(rc > 0 ? stdout : stderr);
        return rc > 0 ? LOADGEN_EXIT_OK : LOADGEN_EXIT_USAGE;
    }
    rc = loadgen_init(&lg);
    if (rc == 0)
        rc = loadgen_run(&lg);
    if (rc != 0) {
        fprintf(stderr, "tftp_loadgen: %s\n", strerror(-rc));
        loadgen_free(&lg);
        return LOADGEN_EXIT_USAGE;
    }
    report_compute(&lg, &r);
    if (lg.a.json)
        report_print_json(&lg, &r);
    else
        report_print_text(&lg, &r);
    loadgen_free(&lg);
    return lg.failed == 0 && lg.ok == lg.a.count ? LOADGEN_EXIT_OK : LOADGEN_EXIT_FAILED;
}
