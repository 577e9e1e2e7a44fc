/* uring_ref.c: a benchmark reference, the least a lock-step TFTP sender can do:
 * one thread, one io_uring, files held in memory. Not a server; see below. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/numparse.h"
#include "server/tftp/tftp_packet.h"

/* What it leaves out, so that what is left is the bare cost of the protocol's
 * happy path: no timers and no retransmission (a lost packet stalls that
 * transfer), no limits, no logging, no file reads while sending (a file of
 * --root is read into memory at its first request and kept), windowsize not
 * offered (lock-step only). What it keeps: a connected socket per transfer, the
 * blksize and tsize options, block numbers modulo 65536. Every receive and send
 * of every transfer goes through one io_uring, submitted and reaped in batches:
 * no syscall per packet. It answers whatever reaches its port: run it on
 * loopback in a namespace only. */
#define RING_ENTRIES 4096
#define CQ_ENTRIES   65536
#define FILE_MAX     (256u << 20)
#define FILES_MAX    16
#define ACK_BUF      64

/* A file of --root, read whole at its first request. */
struct file {
    char name[256];
    uint8_t *data;
    size_t size;
};

struct xfer {
    int sock;
    const struct file *f;
    uint32_t blksize;
    uint64_t last; /* the final block, counted from 1 */
    uint64_t sent; /* the block in flight; 0 while the OACK is */
    uint8_t ack[ACK_BUF];
    uint8_t hdr[TFTP_HEADER_LEN];
    struct iovec iov[2];
    struct msghdr mh;
};

struct listener {
    int fd;
    struct sockaddr_storage peer;
    uint8_t buf[TFTP_REQUEST_MAX + 1];
    struct iovec iov;
    struct msghdr mh;
};

struct ref {
    struct io_uring ring;
    struct listener l;
    int root;
    struct file files[FILES_MAX];
    unsigned n_files;
};

#define UD_LISTENER 0u
#define UD_SEND_BIT 1u

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static struct io_uring_sqe *sqe_get(struct ref *r)
{
    struct io_uring_sqe *s = io_uring_get_sqe(&r->ring);

    if (s == NULL) {
        io_uring_submit(&r->ring);
        s = io_uring_get_sqe(&r->ring);
    }
    return s;
}

static void arm_listener(struct ref *r)
{
    struct listener *l = &r->l;
    struct io_uring_sqe *s = sqe_get(r);

    l->iov = (struct iovec){l->buf, sizeof(l->buf)};
    l->mh = (struct msghdr){
        .msg_name = &l->peer, .msg_namelen = sizeof(l->peer), .msg_iov = &l->iov, .msg_iovlen = 1};
    io_uring_prep_recvmsg(s, l->fd, &l->mh, 0);
    io_uring_sqe_set_data64(s, UD_LISTENER);
}

static void arm_recv(struct ref *r, struct xfer *x)
{
    struct io_uring_sqe *s = sqe_get(r);

    io_uring_prep_recv(s, x->sock, x->ack, sizeof(x->ack), 0);
    io_uring_sqe_set_data64(s, (uint64_t)(uintptr_t)x);
}

/* Queues DATA block b (from 1) of the in-memory file, header and payload in
 * two iovecs: no copy in user space. */
static void send_block(struct ref *r, struct xfer *x, uint64_t b)
{
    uint64_t off = (b - 1) * x->blksize;
    size_t size = x->f->size;
    size_t len = off >= size ? 0 : size - off < x->blksize ? size - off : x->blksize;
    struct io_uring_sqe *s = sqe_get(r);

    tftp_packet_data_header(x->hdr, (uint16_t)b);
    x->iov[0] = (struct iovec){x->hdr, TFTP_HEADER_LEN};
    x->iov[1] = (struct iovec){x->f->data + (len ? off : 0), len};
    x->mh = (struct msghdr){.msg_iov = x->iov, .msg_iovlen = 2};
    io_uring_prep_sendmsg(s, x->sock, &x->mh, 0);
    s->flags |= IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(s, (uint64_t)(uintptr_t)x | UD_SEND_BIT);
    x->sent = b;
}

static void xfer_free(struct xfer *x)
{
    close(x->sock);
    free(x);
}

/* A socket connected to the requester (IPv4, as the listener). */
static int xfer_socket(const struct ref *r)
{
    int fd = socket(r->l.peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&r->l.peer, r->l.mh.msg_namelen) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int load_file(int dirfd, const char *name, struct file *f)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t got = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = -1;

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > FILE_MAX)
        goto out;
    buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    if (buf == NULL)
        goto out;
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

        if (k <= 0)
            goto out;
        got += (size_t)k;
    }
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->data = buf;
    f->size = got;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The file a request names: a plain name in --root (no "/", no leading
 * "."), read at its first request. NULL when there is none. */
static const struct file *file_get(struct ref *r, const char *name)
{
    if (strchr(name, '/') != NULL || name[0] == '.' || strlen(name) >= sizeof(r->files[0].name))
        return NULL;
    for (unsigned i = 0; i < r->n_files; i++)
        if (strcmp(r->files[i].name, name) == 0)
            return &r->files[i];
    if (r->n_files == FILES_MAX || load_file(r->root, name, &r->files[r->n_files]) < 0)
        return NULL;
    return &r->files[r->n_files++];
}

/* An RRQ: answer with an OACK when blksize or tsize was asked, else DATA 1.
 * Anything else, or a name it cannot serve, gets no answer at all. */
static void on_request(struct ref *r, size_t len)
{
    struct tftp_request req;
    struct tftp_options acc = {0};
    uint8_t oack[TFTP_REQUEST_MAX];
    const struct file *f;
    struct xfer *x;
    int n;

    if (tftp_packet_parse_request(r->l.buf, len, &req) != TFTP_PARSE_OK || req.op != TFTP_OP_RRQ ||
        req.mode != TFTP_MODE_OCTET || (f = file_get(r, req.filename)) == NULL)
        return;
    x = calloc(1, sizeof(*x));
    if (x == NULL)
        return;
    x->f = f;
    x->sock = xfer_socket(r);
    if (x->sock < 0) {
        free(x);
        return;
    }
    x->blksize = TFTP_BLKSIZE_DEFAULT;
    if (req.opts.present & TFTP_OPT_BLKSIZE) {
        x->blksize = req.opts.blksize > TFTP_BLKSIZE_MAX ? TFTP_BLKSIZE_MAX : req.opts.blksize;
        acc.present |= TFTP_OPT_BLKSIZE;
        acc.blksize = x->blksize;
    }
    if (req.opts.present & TFTP_OPT_TSIZE) {
        acc.present |= TFTP_OPT_TSIZE;
        acc.tsize = f->size;
    }
    x->last = f->size / x->blksize + 1;
    n = acc.present ? tftp_packet_build_oack(oack, sizeof(oack), &acc) : 0;
    if (n > 0 && send(x->sock, oack, (size_t)n, MSG_DONTWAIT) == n)
        x->sent = 0;
    else
        send_block(r, x, 1);
    arm_recv(r, x);
}

/* An ACK on a transfer socket: the next block, or the end. */
static void on_ack(struct ref *r, struct xfer *x, int res)
{
    struct tftp_packet pkt;

    if (res < 0 || tftp_packet_parse(x->ack, (size_t)res, &pkt) != TFTP_PARSE_OK ||
        pkt.op != TFTP_OP_ACK) {
        xfer_free(x);
        return;
    }
    if (pkt.block != (uint16_t)x->sent) {
        arm_recv(r, x); /* a duplicate: no Sorcerer's Apprentice */
        return;
    }
    if (x->sent == x->last) {
        xfer_free(x);
        return;
    }
    send_block(r, x, x->sent + 1);
    arm_recv(r, x);
}

static void reap(struct ref *r)
{
    struct io_uring_cqe *c;
    unsigned head, n = 0;

    io_uring_for_each_cqe(&r->ring, head, c)
    {
        uint64_t ud = c->user_data;

        n++;
        if (ud == UD_LISTENER) {
            if (c->res > 0)
                on_request(r, (size_t)c->res);
            arm_listener(r);
        } else if (!(ud & UD_SEND_BIT)) {
            on_ack(r, (struct xfer *)(uintptr_t)ud, c->res);
        }
        /* A failed send: its transfer stalls, as a lost packet would. */
    }
    io_uring_cq_advance(&r->ring, n);
}

static int listen_on(struct ref *r, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

    r->l.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (r->l.fd < 0)
        return -1;
    return bind(r->l.fd, (struct sockaddr *)&a, sizeof(a));
}

static int ring_open(struct ref *r)
{
    struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE, .cq_entries = CQ_ENTRIES};

#ifdef IORING_SETUP_DEFER_TASKRUN
    p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
#endif
    return io_uring_queue_init_params(RING_ENTRIES, &r->ring, &p);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"port", required_argument, NULL, 'p'},
                                       {"root", required_argument, NULL, 'r'},
                                       {NULL, 0, NULL, 0}};
    struct ref r = {0};
    const char *root = NULL;
    uint64_t port = 0;
    int c, rc;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'p' && numparse_u64(optarg, 1, 65535, &port) == 0)
            continue;
        if (c == 'r') {
            root = optarg;
            continue;
        }
        goto usage;
    }
    if (root == NULL || port == 0 || optind != argc)
        goto usage;
    r.root = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r.root < 0) {
        fprintf(stderr, "uring_ref: %s: %s\n", root, strerror(errno));
        return 1;
    }
    if (listen_on(&r, (uint16_t)port) < 0) {
        fprintf(stderr, "uring_ref: port %u: %s\n", (unsigned)port, strerror(errno));
        return 1;
    }
    rc = ring_open(&r);
    if (rc < 0) {
        fprintf(stderr, "uring_ref: io_uring: %s\n", strerror(-rc));
        return 1;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    arm_listener(&r);
    while (!stop) {
        rc = io_uring_submit_and_wait(&r.ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            fprintf(stderr, "uring_ref: io_uring_enter: %s\n", strerror(-rc));
            return 1;
        }
        reap(&r);
    }
    return 0;
usage:
    fprintf(stderr, "usage: uring_ref --port PORT --root DIR\n"
                    "A benchmark reference, not a server: lock-step RRQs only for plain names\n"
                    "in DIR (up to 16 files of 256 MiB, held in memory), no retransmission.\n"
                    "Loopback in a namespace only.\n");
    return 2;
}
