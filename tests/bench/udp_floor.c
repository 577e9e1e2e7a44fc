/* udp_floor.c: the kernel's own CPU cost of one lock-step TFTP block on loopback
 * (send one DATA datagram, receive one ACK), the floor under any UDP server:
 * in bursts with no wake-up, and (--lockstep) truly in lock-step, wake-ups paid. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/numparse.h"

/* The server side of a lock-step block is one DATA datagram sent and one ACK
 * received. udp_floor times exactly that, and nothing else: datagrams go in
 * bursts of BURST with sendmmsg/recvmmsg of BATCH (no syscall per datagram),
 * and nobody ever sleeps on a socket (so no wake-ups are paid). The client's
 * half runs in a child on the other CPU ("cross", as in the benchmark, where
 * loadsd and tftp_loadgen run at once on a 2-CPU machine) or in the same thread
 * ("same": hot caches, no cross-CPU traffic, a floor no real pair reaches).
 * On loopback the sender also pays the receive path of what it sends. */
#define BURST  1024
#define BATCH  64
#define RCVBUF (64 << 20)

#define LS_EVENTS 64 /* epoll events per wake-up, either side */

struct floor_opts {
    unsigned data_len, ack_len, blksize;
    unsigned rounds;
    unsigned streams; /* lock-step: transfers at once (0: not measured) */
    unsigned blocks;  /* lock-step: blocks in all, over the streams */
};

/* One direction of a transfer: a connected sender and a bound receiver. */
struct pair {
    int tx, rx;
};

/* Commands to the client's half, over a pipe; it answers with one byte. */
enum peer_cmd { PEER_SEND = 'S', PEER_RECV = 'R', PEER_QUIT = 'Q' };

struct peer {
    pid_t pid; /* 0: the client's half runs inline, in this thread */
    int cmd, ans;
};

struct cost {
    double send_ns, recv_ns; /* per datagram, server side */
};

static double thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void pair_close(struct pair *p)
{
    if (p->tx >= 0)
        close(p->tx);
    if (p->rx >= 0)
        close(p->rx);
    p->tx = p->rx = -1;
}

/* A bound receiver on 127.0.0.1 with room for a whole burst, and a sender
 * connected to it, as a TFTP transfer socket is. 0, or -1 with errno. */
static int pair_open(struct pair *p)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int big = RCVBUF;

    p->rx = socket(AF_INET, SOCK_DGRAM, 0);
    p->tx = socket(AF_INET, SOCK_DGRAM, 0);
    if (p->rx < 0 || p->tx < 0)
        goto fail;
    if (setsockopt(p->rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0 &&
        setsockopt(p->rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) < 0)
        goto fail;
    if (setsockopt(p->tx, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
        (void)setsockopt(p->tx, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    if (bind(p->rx, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(p->rx, (struct sockaddr *)&a, &alen) < 0 ||
        connect(p->tx, (struct sockaddr *)&a, sizeof(a)) < 0)
        goto fail;
    return 0;
fail:
    pair_close(p);
    return -1;
}

static void msgs_point(struct mmsghdr *m, struct iovec *iov, uint8_t *buf, size_t len)
{
    for (unsigned i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){buf + (size_t)i * len, len};
        memset(&m[i], 0, sizeof(m[i]));
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
    }
}

/* Sends (or, with recv, reads back) n datagrams of len bytes on fd, in
 * batches. Returns how many went through. buf holds BATCH * len bytes. */
static unsigned burst(int fd, bool recv, uint8_t *buf, size_t len, unsigned n)
{
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    unsigned done = 0;

    msgs_point(m, iov, buf, len);
    while (done < n) {
        unsigned k = n - done < BATCH ? n - done : BATCH;
        int r = recv ? recvmmsg(fd, m, k, MSG_DONTWAIT, NULL) : sendmmsg(fd, m, k, MSG_DONTWAIT);

        if (r <= 0)
            break;
        done += (unsigned)r;
    }
    return done;
}

/* The client's half of one round: send BURST ACKs (PEER_SEND) or drain BURST
 * DATA datagrams. true when all of them went through. */
static bool client_half(char c, const struct pair *data, const struct pair *ack, uint8_t *buf,
                        const struct floor_opts *o)
{
    unsigned n = c == PEER_SEND ? burst(ack->tx, false, buf, o->ack_len, BURST)
                                : burst(data->rx, true, buf, o->data_len, BURST);

    return n == BURST;
}

/* The client's half in the child: pinned to the other CPU, it sends or drains
 * BURST datagrams per command and answers with how it went. */
static void peer_serve(int cmd, int ans, const struct pair *data, const struct pair *ack,
                       uint8_t *buf, const struct floor_opts *o)
{
    char c;

    while (read(cmd, &c, 1) == 1 && c != PEER_QUIT) {
        char a = client_half(c, data, ack, buf, o) ? 'y' : 'n';

        if (write(ans, &a, 1) != 1)
            break;
    }
}

static int pin_cpu(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

/* Starts the client's half on CPU 1 (this thread moves to CPU 0). 0, or -1. */
static int peer_start(struct peer *pe, const struct pair *data, const struct pair *ack,
                      uint8_t *buf, const struct floor_opts *o)
{
    int down[2], up[2];

    if (pipe(down) < 0)
        return -1;
    if (pipe(up) < 0) {
        close(down[0]);
        close(down[1]);
        return -1;
    }
    pe->pid = fork();
    if (pe->pid == 0) {
        close(down[1]);
        close(up[0]);
        (void)pin_cpu(1);
        peer_serve(down[0], up[1], data, ack, buf, o);
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    pe->cmd = down[1];
    pe->ans = up[0];
    if (pe->pid < 0 || pin_cpu(0) < 0) {
        close(pe->cmd);
        close(pe->ans);
        return -1;
    }
    return 0;
}

static void peer_stop(struct peer *pe)
{
    char q = PEER_QUIT;

    if (pe->pid <= 0)
        return;
    (void)!write(pe->cmd, &q, 1);
    close(pe->cmd);
    close(pe->ans);
    waitpid(pe->pid, NULL, 0);
}

/* Has the client's half send the ACKs or drain the DATA. true when all went. */
static bool peer_do(const struct peer *pe, char c, const struct pair *data, const struct pair *ack,
                    uint8_t *buf, const struct floor_opts *o)
{
    char a;

    if (pe->pid == 0)
        return client_half(c, data, ack, buf, o);
    return write(pe->cmd, &c, 1) == 1 && read(pe->ans, &a, 1) == 1 && a == 'y';
}

/* Times the server's half (send DATA, receive ACK) over o->rounds bursts, the
 * client's half inline or in a child on the other CPU. 0, or -1. */
static int measure(const struct floor_opts *o, bool cross, struct cost *out)
{
    struct pair data = {-1, -1}, ack = {-1, -1};
    struct peer pe = {0};
    size_t len = o->data_len > o->ack_len ? o->data_len : o->ack_len;
    uint8_t *buf = calloc(BATCH, len), *peer_buf = calloc(BATCH, len);
    double send_ns = 0, recv_ns = 0;
    int rc = -1;

    if (buf == NULL || peer_buf == NULL || pair_open(&data) < 0 || pair_open(&ack) < 0 ||
        (cross && peer_start(&pe, &data, &ack, peer_buf, o) < 0)) {
        fprintf(stderr, "udp_floor: setup: %s\n", strerror(errno));
        goto out;
    }
    for (unsigned r = 0; r <= o->rounds; r++) {
        double t0, t1, t2, t3;

        t0 = thread_cpu_ns();
        if (burst(data.tx, false, buf, o->data_len, BURST) != BURST)
            goto lost;
        t1 = thread_cpu_ns();
        if (!peer_do(&pe, PEER_RECV, &data, &ack, peer_buf, o) ||
            !peer_do(&pe, PEER_SEND, &data, &ack, peer_buf, o))
            goto lost;
        t2 = thread_cpu_ns();
        if (burst(ack.rx, true, buf, o->ack_len, BURST) != BURST)
            goto lost;
        t3 = thread_cpu_ns();
        if (r == 0)
            continue; /* warm-up: caches, slabs, the route */
        send_ns += t1 - t0;
        recv_ns += t3 - t2;
    }
    out->send_ns = send_ns / ((double)o->rounds * BURST);
    out->recv_ns = recv_ns / ((double)o->rounds * BURST);
    rc = 0;
    goto out;
lost:
    fprintf(stderr, "udp_floor: a burst did not get through whole (receive buffer too small?)\n");
out:
    peer_stop(&pe);
    pair_close(&data);
    pair_close(&ack);
    free(buf);
    free(peer_buf);
    return rc;
}

/* ---- lock-step: what the burst floor leaves out ----
 * A lock-step server cannot batch: the next ACK comes only after this DATA.
 * Each block costs it a wake-up, a receive and a send on the transfer's own
 * socket (RFC 1350: one port per transfer). Here one thread does only that:
 * epoll over o->streams connected sockets, per ready socket one recv and one
 * send, against a client process on the other CPU that answers each DATA
 * with an ACK the same way. Its thread CPU per MB is the least any lock-step
 * server with a readiness interface pays at that concurrency. */

struct ls_side {
    int ep;
    int *fd;        /* o->streams connected sockets */
    unsigned *left; /* server: DATA still to send; client: DATA still to read */
    uint8_t *buf;
};

static void ls_free(struct ls_side *sd, unsigned n)
{
    for (unsigned i = 0; sd->fd != NULL && i < n; i++)
        if (sd->fd[i] >= 0)
            close(sd->fd[i]);
    if (sd->ep >= 0)
        close(sd->ep);
    free(sd->fd);
    free(sd->left);
    free(sd->buf);
}

/* n pairs of sockets connected to each other on 127.0.0.1, each end with its
 * side's epoll. 0, or -1 with errno. */
static int ls_open(struct ls_side *srv, struct ls_side *cli, const struct floor_opts *o)
{
    unsigned n = o->streams;
    size_t len = o->data_len > o->ack_len ? o->data_len : o->ack_len;
    struct ls_side *sides[2] = {srv, cli};

    for (unsigned k = 0; k < 2; k++) {
        *sides[k] = (struct ls_side){.ep = epoll_create1(0)};
        sides[k]->fd = malloc(n * sizeof(int));
        sides[k]->left = calloc(n, sizeof(unsigned));
        sides[k]->buf = calloc(1, len);
        if (sides[k]->ep < 0 || sides[k]->fd == NULL || sides[k]->left == NULL ||
            sides[k]->buf == NULL)
            return -1;
        for (unsigned i = 0; i < n; i++)
            sides[k]->fd[i] = -1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct sockaddr_in a[2];
        socklen_t alen = sizeof(a[0]);

        for (unsigned k = 0; k < 2; k++) {
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};

            a[k] = (struct sockaddr_in){.sin_family = AF_INET,
                                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            sides[k]->fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
            if (sides[k]->fd[i] < 0 ||
                bind(sides[k]->fd[i], (struct sockaddr *)&a[k], sizeof(a[k])) < 0 ||
                getsockname(sides[k]->fd[i], (struct sockaddr *)&a[k], &alen) < 0 ||
                epoll_ctl(sides[k]->ep, EPOLL_CTL_ADD, sides[k]->fd[i], &ev) < 0)
                return -1;
        }
        if (connect(srv->fd[i], (struct sockaddr *)&a[1], sizeof(a[1])) < 0 ||
            connect(cli->fd[i], (struct sockaddr *)&a[0], sizeof(a[0])) < 0)
            return -1;
    }
    return 0;
}

/* Runs one side until every stream is done: the server sends the first DATA
 * of each stream, then one DATA per ACK while it has blocks left; the client
 * answers each DATA with an ACK. 0, or -1 (a stream stalled 5 s: lost). */
static int ls_run(struct ls_side *sd, bool server, unsigned per_stream, const struct floor_opts *o)
{
    struct epoll_event ev[LS_EVENTS];
    unsigned n = o->streams, active = n;
    size_t out = server ? o->data_len : o->ack_len, in = server ? o->ack_len : o->data_len;

    for (unsigned i = 0; i < n; i++) {
        sd->left[i] = per_stream;
        if (server && send(sd->fd[i], sd->buf, out, 0) == (ssize_t)out)
            sd->left[i]--;
    }
    while (active > 0) {
        int k = epoll_wait(sd->ep, ev, LS_EVENTS, 5000);

        if (k <= 0)
            return -1;
        for (int e = 0; e < k; e++) {
            unsigned i = ev[e].data.u32;

            if (recv(sd->fd[i], sd->buf, in, 0) < 0)
                continue;
            if (server && sd->left[i] == 0) {
                active--; /* the last block's ACK */
                continue;
            }
            if (send(sd->fd[i], sd->buf, out, 0) != (ssize_t)out)
                return -1;
            if (--sd->left[i] == 0 && !server)
                active--;
        }
    }
    return 0;
}

/* The server thread's CPU per block, lock-step, o->streams at once: a warm-up
 * pass, then o->blocks blocks; the client in a child on the other CPU. */
static int measure_lockstep(const struct floor_opts *o, double *ns_per_block)
{
    struct ls_side srv = {.ep = -1}, cli = {.ep = -1};
    unsigned per_stream = (o->blocks + o->streams - 1) / o->streams;
    pid_t pid = -1;
    int status, rc = -1;
    double t0 = 0;

    if (ls_open(&srv, &cli, o) < 0) {
        fprintf(stderr, "udp_floor: lock-step setup: %s\n", strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid == 0) {
        (void)pin_cpu(1);
        _exit(ls_run(&cli, false, per_stream / 10 + 1, o) == 0 &&
                      ls_run(&cli, false, per_stream, o) == 0
                  ? 0
                  : 1);
    }
    if (pid < 0 || pin_cpu(0) < 0 || ls_run(&srv, true, per_stream / 10 + 1, o) != 0)
        goto lost;
    t0 = thread_cpu_ns();
    if (ls_run(&srv, true, per_stream, o) != 0)
        goto lost;
    *ns_per_block = (thread_cpu_ns() - t0) / ((double)per_stream * o->streams);
    rc = 0;
    goto out;
lost:
    fprintf(stderr, "udp_floor: a lock-step stream stalled\n");
out:
    if (pid > 0) {
        if (rc != 0)
            kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            rc = -1;
    }
    ls_free(&srv, o->streams);
    ls_free(&cli, o->streams);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: udp_floor [--blksize 8..8192] [--ack-bytes N] [--rounds R]\n"
               "                 [--lockstep STREAMS] [--blocks N]\n"
               "Prints, as one JSON object, the kernel CPU a server spends per lock-step\n"
               "TFTP block on loopback (one DATA of 4 + B bytes sent, one ACK of N bytes\n"
               "received) in microseconds and in ms per MB (10^6 bytes): with the client's\n"
               "half in the same thread (same_cpu) and on the other CPU (cross_cpu), in\n"
               "bursts with no wake-up. With --lockstep also (lockstep) the CPU of one\n"
               "thread serving STREAMS lock-step transfers at once, one socket each, with\n"
               "epoll (wake-ups included), N blocks in all (default 20000).\n");
}

static int parse_opts(int argc, char **argv, struct floor_opts *o)
{
    static const struct option lo[] = {{"blksize", required_argument, NULL, 'b'},
                                       {"ack-bytes", required_argument, NULL, 'a'},
                                       {"rounds", required_argument, NULL, 'r'},
                                       {"lockstep", required_argument, NULL, 'l'},
                                       {"blocks", required_argument, NULL, 'n'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    uint64_t v;
    int c;

    *o = (struct floor_opts){.blksize = 1468, .ack_len = 4, .rounds = 200, .blocks = 20000};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (numparse_u64(optarg, 8, 8192, &v) != 0)
                goto bad;
            o->blksize = (unsigned)v;
            break;
        case 'a':
            if (numparse_u64(optarg, 4, 512, &v) != 0)
                goto bad;
            o->ack_len = (unsigned)v;
            break;
        case 'r':
            if (numparse_u64(optarg, 1, 100000, &v) != 0)
                goto bad;
            o->rounds = (unsigned)v;
            break;
        case 'l':
            if (numparse_u64(optarg, 1, 10000, &v) != 0)
                goto bad;
            o->streams = (unsigned)v;
            break;
        case 'n':
            if (numparse_u64(optarg, 1, 10000000, &v) != 0)
                goto bad;
            o->blocks = (unsigned)v;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            goto bad;
        }
    }
    if (optind == argc) {
        o->data_len = 4 + o->blksize;
        return 0;
    }
bad:
    usage(stderr);
    return -1;
}

static void print_floor(const char *mode, const struct floor_opts *o, const struct cost *c)
{
    double per_block_ns = c->send_ns + c->recv_ns;

    printf("\"%s\":{\"data_send_us\":%.3f,\"ack_recv_us\":%.3f,\"server_us_per_block\":%.3f,"
           "\"server_ms_per_mb\":%.3f}",
           mode, c->send_ns / 1e3, c->recv_ns / 1e3, per_block_ns / 1e3,
           per_block_ns * (1e6 / (double)o->blksize) / 1e6);
}

int main(int argc, char **argv)
{
    struct floor_opts o;
    struct cost same, cross;
    bool two_cpus = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
    double ls_ns = 0;

    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    if (measure(&o, false, &same) != 0 || (two_cpus && measure(&o, true, &cross) != 0))
        return 1;
    if (o.streams > 0 && two_cpus && measure_lockstep(&o, &ls_ns) != 0)
        return 1;
    printf("{\"blksize\":%u,", o.blksize);
    print_floor("same_cpu", &o, &same);
    if (two_cpus) {
        printf(",");
        print_floor("cross_cpu", &o, &cross);
    }
    if (ls_ns > 0)
        printf(",\"lockstep\":{\"streams\":%u,\"server_us_per_block\":%.3f,"
               "\"server_ms_per_mb\":%.3f}",
               o.streams, ls_ns / 1e3, ls_ns * (1e6 / (double)o.blksize) / 1e6);
    printf("}\n");
    return 0;
}
