/* request.c: one request, from the listener to a running transfer: judged,
 * admitted, its file opened and mapped (netascii encoded), its socket connected. */
#include "server/tftp/request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "server/tftp/transfer.h"
#include "server/tftp/wire_error.h"
#include "server/tftp/worker.h"

#define RECV_BURST       64          /* requests read per wake-up, so no socket starves */
#define NETASCII_SRC_MAX (16u << 20) /* netascii is for config files, not firmware */

/* Netascii is served from an encoded copy in memory (a memfd), so blocks stay
 * addressable by offset and resends need no re-encoding. */
static int netascii_copy(int fd, uint64_t size, int *out_fd, uint64_t *out_size)
{
    uint8_t in[16384], enc[2 * sizeof(in)];
    int m = -1, rc = -EFBIG;
    uint64_t total = 0;
    ssize_t n;

    if (size > NETASCII_SRC_MAX)
        goto out;
    m = memfd_create("loadsd-netascii", MFD_CLOEXEC);
    rc = -errno;
    if (m < 0)
        goto out;
    while ((n = read(fd, in, sizeof(in))) > 0) {
        size_t e = tftp_netascii_encode(in, (size_t)n, enc);

        rc = fileio_write_all(m, enc, e);
        if (rc != 0)
            goto out;
        total += e;
    }
    rc = n < 0 ? -errno : 0;
out:
    if (rc == 0) {
        *out_fd = m;
        *out_size = total;
    } else if (m >= 0) {
        close(m);
    }
    return rc;
}

/* Opens the requested file through the resolver (netascii: an encoded copy)
 * and takes its shared mapping; no descriptor stays open. RESOLVER_OK, or
 * another resolver result. */
static int request_open_file(struct transfer *t, struct resolver *r, const char *name,
                             const struct listen_request *rq, enum tftp_mode mode, uint64_t *size)
{
    struct resolver_file f;
    int rc = resolver_open(r, name, (const struct sockaddr *)&rq->peer, &f);
    int fd;

    if (rc != RESOLVER_OK)
        return rc;
    fd = f.fd;
    *size = f.size;
    if (mode == TFTP_MODE_NETASCII) {
        rc = netascii_copy(f.fd, f.size, &fd, size);
        close(f.fd);
        if (rc != 0)
            return RESOLVER_IO;
    }
    rc = filemap_acquire(&t->w->srv->files, fd, *size, &t->tx.file);
    close(fd);
    return rc == 0 ? RESOLVER_OK : RESOLVER_IO;
}

/* Answers a request with an ERROR, from the address it came to. */
static void request_answer(struct worker *w, struct listener *l, const struct listen_request *rq,
                           uint16_t code, const char *msg)
{
    if (listen_send_error(l->fd, rq, code, msg) == 0)
        atomic_fetch_add(&w->srv->st_errors, 1);
}

/* Refuses a request with the ERROR for f. The line is rate-limited: a flood
 * of requests must not become a flood of log lines. */
static void request_reject(struct worker *w, struct listener *l, const struct listen_request *rq,
                           const char *peer, const char *name, enum tftp_failure f)
{
    const char *msg;
    uint16_t code = tftp_wire_error(f, &msg);

    if (tftp_failure_silent(f)) {
        log_debug("held \"%s\" from %s: %s (no answer; the client resends)", name, peer, msg);
        return;
    }
    if (noise_line_ok(&w->srv->noise, engine_now_ms()))
        log_info("refused \"%s\" from %s: error %u, %s", name, peer, code, msg);
    request_answer(w, l, rq, code, msg);
}

/* The transfer socket, registered with epoll; its path MTU caps blksize.
 * 0, or -1 (the client has had its ERROR where one is due). */
static int request_connect(struct worker *w, struct listener *l, const struct listen_request *rq,
                           struct transfer *t, struct tftp_session_limits *lim)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &t->h};
    uint32_t mtu_blk;
    const char *msg;
    uint16_t code;

    t->tx.sock = listen_transfer_socket(rq);
    if (t->tx.sock < 0) {
        log_warn("no transfer socket for %s: %s", t->peer, strerror(-t->tx.sock));
        code = tftp_wire_error(TFTP_FAIL_INTERNAL, &msg);
        request_answer(w, l, rq, code, msg);
        return -1;
    }
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, t->tx.sock, &ev) != 0)
        return -1;
    mtu_blk = listen_path_blksize(t->tx.sock, (const struct sockaddr *)&rq->peer);
    if (mtu_blk < lim->blksize_max)
        lim->blksize_max = mtu_blk;
    return 0;
}

static struct transfer *transfer_new(struct worker *w, const struct listen_request *rq,
                                     const struct tftp_request *req)
{
    struct transfer *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->h.kind = HANDLE_TRANSFER;
    t->w = w;
    timer_entry_init(&t->timer);
    t->tx.sock = -1;
    listen_format_addr((const struct sockaddr *)&rq->peer, t->peer, sizeof(t->peer));
    memcpy(&t->peer_addr, &rq->peer, sizeof(t->peer_addr));
    log_clean(req->filename, req->filename_len, t->name, sizeof(t->name));
    return t;
}

static void request_start(struct worker *w, struct listener *l, const struct listen_request *rq,
                          const struct tftp_request *req)
{
    struct transfer *t = transfer_new(w, rq, req);
    struct tftp_session_limits lim = w->limits;
    struct tftp_session_out out;
    enum admission_refusal why;
    uint64_t size;
    int rc;

    if (t == NULL)
        return;
    if (admission_admit(&w->srv->admission, &w->unacked, &w->admit,
                        (const struct sockaddr *)&rq->peer, engine_now_ms(), &t->ticket, &why,
                        transfer_evict, w) != 0) {
        request_reject(w, l, rq, t->peer, t->name, admission_failure(why));
        free(t);
        return;
    }
    rc = request_open_file(t, w->resolver, req->filename, rq, req->mode, &size);
    if (rc != RESOLVER_OK) {
        request_reject(w, l, rq, t->peer, t->name, tftp_failure_of_resolver(rc));
        goto fail;
    }
    if (request_connect(w, l, rq, t, &lim) != 0)
        goto fail;
    w->active++;
    /* The end line says all of it; this one is for debugging (a flood
     * would otherwise write one per request). */
    log_debug("RRQ \"%s\" from %s (%s, %llu bytes)", t->name, t->peer,
              req->mode == TFTP_MODE_NETASCII ? "netascii" : "octet", (unsigned long long)size);
    tftp_session_start(&t->sess, &lim, &req->opts, req->mode, size, t->ticket.started_ms, &out);
    transfer_begin(t, &out);
    return;
fail:
    if (t->tx.sock >= 0)
        close(t->tx.sock);
    filemap_release(&w->srv->files, &t->tx.file);
    admission_undo(&w->srv->admission, &t->ticket);
    free(t);
}

/* The worker that should start this transfer (steer.h); w itself when the
 * request cannot be handed over. True when another worker has it now. */
static bool request_steer(struct worker *w, struct listener *l, const struct listen_request *rq)
{
    struct tftp_server *srv = w->srv;
    struct steer_load load[256];
    unsigned n = srv->n_workers < 256 ? srv->n_workers : 256, to;

    if (n < 2)
        return false;
    for (unsigned i = 0; i < n; i++)
        load[i] = (struct steer_load){
            .busy = atomic_load_explicit(&srv->workers[i].busy, memory_order_relaxed),
            .active = atomic_load_explicit(&srv->workers[i].active_seen, memory_order_relaxed)};
    to = steer_pick(load, n);
    if (to == w->index)
        return false;
    return worker_hand(&srv->workers[to], (unsigned)(l - w->listeners), rq) == 0;
}

static void request_handle(struct worker *w, struct listener *l, const struct listen_request *rq,
                           bool steered)
{
    struct tftp_request req;
    enum tftp_failure fail = TFTP_FAIL_NONE;
    enum tftp_request_verdict v =
        tftp_session_judge_request(rq->buf, rq->len, rq->truncated, &req, &fail);
    char peer[ADDR_TEXT_MAX], name[LOG_CLEAN_MAX];
    const char *msg;
    uint16_t code;

    if (v == TFTP_REQUEST_IGNORE)
        return;
    if (!steered)
        atomic_fetch_add(&w->srv->st_requests, 1);
    if (v == TFTP_REQUEST_READ) {
        if (steered || !request_steer(w, l, rq))
            request_start(w, l, rq, &req);
        return;
    }
    listen_format_addr((const struct sockaddr *)&rq->peer, peer, sizeof(peer));
    if (v == TFTP_REQUEST_REFUSED) {
        log_clean(req.filename, req.filename_len, name, sizeof(name));
        request_reject(w, l, rq, peer, name, fail);
        return;
    }
    code = tftp_wire_error(fail, &msg);
    if (noise_line_ok(&w->srv->noise, engine_now_ms()))
        log_info("malformed request from %s (%zu bytes): %s", peer, rq->len, msg);
    request_answer(w, l, rq, code, msg);
}

void request_on_listener(struct worker *w, struct listener *l)
{
    struct listen_request rq;

    for (int i = 0; i < RECV_BURST && !w->draining; i++) {
        if (listen_recv(l->fd, l->family, &rq) != 0)
            return;
        request_handle(w, l, &rq, false);
    }
}

void request_on_handoff(struct worker *w, struct listener *l, const struct listen_request *rq)
{
    request_handle(w, l, rq, true);
}
