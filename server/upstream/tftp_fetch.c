/* tftp_fetch.c: the I/O under tftp_get.c: the UDP socket (replies only from
 * the upstream's host), the clock and its deadlines, the temporary file
 * renamed into place when whole. Blocks its caller: run it on a worker. */
#include "server/upstream/tftp_fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fileio.h"
#include "server/upstream/udp_peer.h"
#include "server/upstream/url.h"

#define TFTP_FETCH_NAP_MS      100 /* longest wait between looks at the stop flag */
#define TFTP_FETCH_PACE_MAX_MS 500 /* an ACK held for the pace: under a server's 1 s timer */
#define TFTP_FETCH_TELL_BYTES  (64 * 1024)

/* One transfer's I/O state. */
struct fetch_io {
    const struct tftp_fetch_opts *o;
    struct udp_peer peer;
    int fd;
    struct tftp_get g;
    uint8_t buf[TFTP_DATAGRAM_MAX + 1]; /* one more: a larger datagram shows as such */
    int64_t t0, told;
};

int tftp_fetch_opts_from_url(const char *base, uint32_t blksize, uint32_t windowsize,
                             uint64_t max_bytes, struct tftp_fetch_opts *o, char *err, size_t cap)
{
    memset(o, 0, sizeof(*o));
    if (upstream_url_tftp_split(base, o->host, sizeof(o->host), &o->port, err, cap) != 0)
        return -1;
    tftp_get_params_default(&o->get, max_bytes);
    if (blksize != 0)
        o->get.blksize = blksize;
    if (windowsize != 0)
        o->get.windowsize = windowsize;
    return 0;
}

/* The upstream's address and a socket of its family. 0, FETCH_FAILED
 * (it does not resolve) or FETCH_LOCAL. */
static int io_connect(struct fetch_io *io, char *err, size_t cap)
{
    char why[256];
    int rc = udp_peer_open(&io->peer, io->o->host, io->o->port, why, sizeof(why));

    if (rc == -1)
        snprintf(err, cap, "tftp://%s", why);
    else if (rc != 0)
        snprintf(err, cap, "%s", why);
    return rc == 0 ? 0 : rc == -1 ? FETCH_FAILED : FETCH_LOCAL;
}

/* Holds the ACK until the bytes so far are due at the pace (staged pulls);
 * never longer than TFTP_FETCH_PACE_MAX_MS, or the server resends. */
static void io_pace(struct fetch_io *io)
{
    const struct upstream_fetch_opts *fo = io->o->fo;
    int64_t due, wait;

    if (fo == NULL || fo->max_recv_bytes_per_s == 0)
        return;
    due = io->t0 + (int64_t)((double)io->g.bytes * 1000.0 / (double)fo->max_recv_bytes_per_s);
    wait = due - clock_mono_ms();
    if (wait > TFTP_FETCH_PACE_MAX_MS)
        wait = TFTP_FETCH_PACE_MAX_MS;
    if (wait > 0) {
        struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000};

        nanosleep(&ts, NULL);
    }
}

static void io_tell(struct fetch_io *io, bool always)
{
    const struct upstream_fetch_opts *fo = io->o->fo;

    if (fo == NULL || fo->progress == NULL)
        return;
    if (!always && io->g.bytes - (uint64_t)io->told < TFTP_FETCH_TELL_BYTES)
        return;
    io->told = (int64_t)io->g.bytes;
    fo->progress(fo->progress_arg, io->g.bytes, io->g.bytes);
}

/* Does what the state machine asked: keep bytes, send a packet. */
static int io_act(struct fetch_io *io, const struct tftp_get_action *a, uint16_t stranger,
                  char *err, size_t cap)
{
    struct sockaddr_storage to;

    if (a->data_len > 0) {
        if (lseek(io->fd, (off_t)a->data_off, SEEK_SET) < 0 ||
            fileio_write_all(io->fd, a->data, a->data_len) != 0) {
            snprintf(err, cap, "writing the temporary file: %s", strerror(errno));
            return FETCH_LOCAL;
        }
        io_tell(io, false);
    }
    if (a->send_len == 0)
        return 0;
    if (a->data_len > 0)
        io_pace(io);
    if (a->to_stranger)
        udp_peer_at_port(&io->peer, stranger, &to);
    else if (io->g.tid_known)
        udp_peer_at_port(&io->peer, io->g.tid, &to);
    else
        to = io->peer.addr;
    /* A lost send is a lost packet: the resend timer covers it. */
    (void)sendto(io->peer.sock, a->send, a->send_len, 0, (struct sockaddr *)&to, io->peer.len);
    return 0;
}

/* Reads what is there and feeds it to the state machine. */
static int io_receive(struct fetch_io *io, char *err, size_t cap)
{
    struct tftp_get_action a;
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(io->peer.sock, io->buf, sizeof(io->buf), MSG_DONTWAIT,
                         (struct sockaddr *)&from, &flen);
    int port, rc;

    if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED))
        return 0;
    if (n < 0) {
        snprintf(err, cap, "receiving: %s", strerror(errno));
        return FETCH_FAILED;
    }
    port = udp_peer_port_of(&io->peer, &from);
    if (port < 0)
        return 0; /* not the upstream's host: not ours to answer */
    tftp_get_on_packet(&io->g, io->buf, (size_t)n, (uint16_t)port, clock_mono_ms(), &a);
    rc = io_act(io, &a, (uint16_t)port, err, cap);
    return rc;
}

static int status_to_fetch(int st)
{
    switch (st) {
    case TFTP_GET_DONE:
        return FETCH_OK;
    case TFTP_GET_ABSENT:
        return FETCH_ABSENT;
    default:
        return FETCH_FAILED;
    }
}

/* Runs the exchange to its end: a FETCH_* result. */
static int io_run(struct fetch_io *io, const char *name, char *err, size_t cap)
{
    const struct upstream_fetch_opts *fo = io->o->fo;
    struct tftp_get_action a;
    int64_t now = clock_mono_ms(), limit = io->o->total_ms ? now + io->o->total_ms : INT64_MAX;
    int rc;

    io->t0 = now;
    tftp_get_start(&io->g, &io->o->get, name, now, &a);
    if ((rc = io_act(io, &a, 0, err, cap)) != 0)
        return rc;
    while (io->g.state != TFTP_GET_END) {
        struct pollfd pfd = {.fd = io->peer.sock, .events = POLLIN};
        int64_t wait = tftp_get_deadline(&io->g) - now;

        if (fo != NULL && fo->stop != NULL && atomic_load(fo->stop)) {
            snprintf(err, cap, "stopped");
            return FETCH_FAILED;
        }
        if (now >= limit) {
            snprintf(err, cap, "%s within %u ms", io->g.packets_in ? "not done" : "no answer",
                     io->o->total_ms);
            return FETCH_FAILED;
        }
        wait = wait < 0 ? 0 : wait > TFTP_FETCH_NAP_MS ? TFTP_FETCH_NAP_MS : wait;
        if (poll(&pfd, 1, (int)wait) > 0 && (rc = io_receive(io, err, cap)) != 0)
            return rc;
        now = clock_mono_ms();
        if (io->g.state != TFTP_GET_END && now >= tftp_get_deadline(&io->g)) {
            tftp_get_on_timer(&io->g, now, &a);
            if ((rc = io_act(io, &a, 0, err, cap)) != 0)
                return rc;
        }
    }
    if (io->g.status != TFTP_GET_DONE)
        snprintf(err, cap, "%s", io->g.why);
    return status_to_fetch(io->g.status);
}

static void stats_of(const struct fetch_io *io, struct tftp_fetch_stats *st)
{
    if (st == NULL)
        return;
    st->bytes = io->g.bytes;
    st->packets_in = io->g.packets_in;
    st->packets_out = io->g.packets_out;
    st->resends = io->g.resends_total;
    st->blksize = io->g.blksize;
    st->windowsize = io->g.windowsize;
    st->oack = io->g.tsize_known || io->g.blksize != TFTP_BLKSIZE_DEFAULT || io->g.windowsize > 1;
    st->ms = clock_mono_ms() - io->t0;
}

/* The file is whole: on disk, then in place under its name. */
static int io_commit(struct fetch_io *io, const char *tmp, const char *path, char *err, size_t cap)
{
    if (fsync(io->fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, cap, "keeping %s: %s", path, strerror(errno));
        return FETCH_LOCAL;
    }
    return FETCH_OK;
}

int tftp_fetch_file(const struct tftp_fetch_opts *o, const char *name, const char *path,
                    uint64_t *got, struct tftp_fetch_stats *st, char *err, size_t cap)
{
    struct fetch_io *io = calloc(1, sizeof(*io));
    char tmp[4096 + 16];
    int rc = FETCH_LOCAL;

    if (got != NULL)
        *got = 0;
    if (io == NULL) {
        snprintf(err, cap, "out of memory");
        return FETCH_LOCAL;
    }
    io->o = o;
    io->peer.sock = io->fd = -1;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp)) {
        snprintf(err, cap, "the path is too long");
        goto out;
    }
    io->fd = mkostemp(tmp, O_CLOEXEC);
    if (io->fd < 0) {
        snprintf(err, cap, "a temporary file beside %s: %s", path, strerror(errno));
        goto out;
    }
    rc = io_connect(io, err, cap);
    if (rc == 0)
        rc = io_run(io, name, err, cap);
    io_tell(io, true);
    if (rc == FETCH_OK)
        rc = io_commit(io, tmp, path, err, cap);
    if (rc != FETCH_OK)
        unlink(tmp);
    stats_of(io, st);
    if (got != NULL)
        *got = io->g.bytes;
out:
    if (io->fd >= 0)
        close(io->fd);
    udp_peer_close(&io->peer);
    free(io);
    return rc;
}
