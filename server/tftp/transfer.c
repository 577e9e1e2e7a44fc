/* transfer.c: one transfer's I/O: feeds its datagrams, timer and failures to
 * its session, sends what the session says, and ends it (counts, log line). */
#include "server/tftp/transfer.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/tftp/wire_error.h"

static void transfer_send_error(struct transfer *t, enum tftp_failure f)
{
    uint8_t pkt[4 + TFTP_ERRMSG_MAX];
    const char *msg;
    uint16_t code = tftp_wire_error(f, &msg);
    int len = tftp_packet_build_error(pkt, sizeof(pkt), code, msg);

    if (len > 0 && send(t->tx.sock, pkt, (size_t)len, MSG_DONTWAIT) >= 0)
        atomic_fetch_add(&t->w->srv->st_errors, 1);
}

static int transfer_send_oack(struct transfer *t)
{
    uint8_t pkt[TFTP_REQUEST_MAX];
    int len = tftp_packet_build_oack(pkt, sizeof(pkt), tftp_session_accepted(&t->sess));

    if (len < 0)
        return -EINVAL;
    if (send(t->tx.sock, pkt, (size_t)len, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
        errno != EWOULDBLOCK)
        return -errno;
    return 0;
}

static int transfer_set_out(struct transfer *t, bool want)
{
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = &t->h};

    if (t->want_out == want)
        return 0;
    t->want_out = want;
    return epoll_ctl(t->w->epfd, EPOLL_CTL_MOD, t->tx.sock, &ev) == 0 ? 0 : -errno;
}

/* Sends what is left of the blocks to send; on a full socket buffer, waits
 * for EPOLLOUT. 0, or a negative errno (see send_flush). */
static int transfer_flush(struct transfer *t)
{
    int rc = send_flush(&t->w->send, &t->tx, &t->sess);

    if (rc < 0)
        return rc;
    return transfer_set_out(t, rc == SEND_BLOCKED);
}

static void transfer_list_add(struct worker *w, struct transfer *t)
{
    pthread_mutex_lock(&w->list_lock);
    t->next = w->transfers;
    if (t->next != NULL)
        t->next->prev = t;
    w->transfers = t;
    pthread_mutex_unlock(&w->list_lock);
}

static void transfer_list_remove(struct worker *w, struct transfer *t)
{
    pthread_mutex_lock(&w->list_lock);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        w->transfers = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&w->list_lock);
}

static void transfer_end_log(struct transfer *t, bool ok, const char *why, uint64_t ms)
{
    if (ok)
        log_info("sent \"%s\" to %s: %llu bytes in %llu ms, blksize %u, window %u", t->name,
                 t->peer, (unsigned long long)t->sess.size, (unsigned long long)ms, t->sess.blksize,
                 t->sess.windowsize);
    else if (tftp_session_peer_proven(&t->sess) ||
             noise_line_ok(&t->w->srv->noise, engine_now_ms()))
        log_info("transfer of \"%s\" to %s ended: %s after %llu ms", t->name, t->peer, why,
                 (unsigned long long)ms);
}

/* Closes everything a transfer holds and logs its end (why: the I/O layer's
 * detail, or NULL for the session's reason); the memory stays. */
static void transfer_close(struct transfer *t, const char *why)
{
    struct worker *w = t->w;
    struct tftp_server *srv = w->srv;
    uint64_t ms = engine_now_ms() - t->ticket.started_ms;
    bool ok = tftp_session_complete(&t->sess);

    timer_heap_remove(&w->timers, &t->timer);
    transfer_list_remove(w, t);
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, t->tx.sock, NULL);
    close(t->tx.sock);
    filemap_release(&srv->files, &t->tx.file);
    admission_release(&srv->admission, &w->unacked, &t->ticket);
    atomic_fetch_add(ok ? &srv->st_done : &srv->st_failed, 1);
    /* The firmware inventory: which phone finished which file. */
    resolver_transfer_ended(w->resolver, t->name, (const struct sockaddr *)&t->peer_addr, ok);
    atomic_fetch_add(&srv->st_bytes, t->tx.bytes_sent);
    w->active--;
    /* A never-answered end is a line a flood repeats: rate-limited. */
    transfer_end_log(t, ok, why != NULL ? why : tftp_session_end_reason(&t->sess), ms);
}

static void transfer_end(struct transfer *t, const char *why)
{
    transfer_close(t, why);
    free(t);
}

/* The socket or the file failed (rc, a negative errno): the session decides
 * how that ends the transfer and whether the client is told. Returns false. */
static bool transfer_fail(struct transfer *t, int rc)
{
    struct tftp_session_out out;

    tftp_session_on_event(&t->sess, rc == -EIO ? TFTP_EVENT_FILE_SHORT : TFTP_EVENT_IO_FAILED,
                          &out);
    if (out.send_error != TFTP_FAIL_NONE)
        transfer_send_error(t, out.send_error);
    if (rc == -EIO)
        transfer_end(t, NULL);
    else
        transfer_end(t, rc == -ECONNREFUSED ? "client port closed" : strerror(-rc));
    return false;
}

bool transfer_apply(struct transfer *t, const struct tftp_session_out *out)
{
    int rc = 0;

    if (out->send_error != TFTP_FAIL_NONE)
        transfer_send_error(t, out->send_error);
    if (out->send_oack)
        rc = transfer_send_oack(t);
    if (rc == 0 && out->send_count > 0) {
        t->tx.next = out->send_first;
        t->tx.end = out->send_first + out->send_count;
        rc = transfer_flush(t);
    }
    if (rc == 0)
        rc = timer_heap_set(&t->w->timers, &t->timer, tftp_session_deadline(&t->sess));
    if (rc != 0)
        return transfer_fail(t, rc);
    if (!tftp_session_finished(&t->sess))
        return true;
    transfer_end(t, NULL);
    return false;
}

void transfer_begin(struct transfer *t, const struct tftp_session_out *out)
{
    /* Listed once its session is set up: the lister reads size and sizes;
     * eviction may end it from now on. */
    transfer_list_add(t->w, t);
    admission_enqueue(&t->w->unacked, &t->ticket);
    transfer_apply(t, out);
}

/* A datagram on a transfer socket: the socket is connected, so it comes from
 * the client's address and port (the kernel drops all others). */
static void transfer_on_datagram(struct transfer *t, const uint8_t *buf, size_t len)
{
    struct tftp_packet pkt;
    struct tftp_session_out out;
    char msg[LOG_CLEAN_MAX];

    tftp_session_on_datagram(&t->sess, buf, len, engine_now_ms(), &pkt, &out);
    if (tftp_session_get_state(&t->sess) == TFTP_SESSION_PEER_ERROR)
        log_debug("client %s sent error %u \"%s\"", t->peer, pkt.error_code,
                  log_clean(pkt.error_msg, sizeof(pkt.error_msg), msg, sizeof(msg)));
    atomic_store_explicit(&t->acked_bytes, t->sess.acked * t->sess.blksize, memory_order_relaxed);
    /* The peer answers from where the request came: no longer a suspect. */
    if (tftp_session_peer_proven(&t->sess))
        admission_answered(&t->w->srv->admission, &t->w->unacked, &t->ticket);
    transfer_apply(t, &out);
}

void transfer_on_event(struct transfer *t, uint32_t events)
{
    uint8_t buf[TFTP_REQUEST_MAX];
    ssize_t n;

    if (events & EPOLLOUT) {
        int rc = transfer_flush(t);

        if (rc != 0) {
            transfer_fail(t, rc);
            return;
        }
    }
    if (!(events & (EPOLLIN | EPOLLERR)))
        return;
    /* One datagram per wake-up: a transfer rarely has more than one ACK
     * queued, and epoll (level-triggered) reports the socket again if so. */
    n = recv(t->tx.sock, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n < 0) {
        /* ICMP port unreachable: the client is gone. */
        transfer_fail(t, -errno);
        return;
    }
    transfer_on_datagram(t, buf, (size_t)n);
}

void transfer_on_timer(struct transfer *t, uint64_t now_ms)
{
    struct tftp_session_out out;

    tftp_session_on_timeout(&t->sess, now_ms, &out);
    if (out.send_count > 0 || out.send_oack)
        log_debug("resend to %s from block %llu", t->peer, (unsigned long long)out.send_first);
    transfer_apply(t, &out);
}

void transfer_abort(struct transfer *t)
{
    struct tftp_session_out out;

    tftp_session_on_event(&t->sess, TFTP_EVENT_SHUTDOWN, &out);
    transfer_apply(t, &out);
}

void transfer_evict(void *arg, struct admission_ticket *victim)
{
    struct worker *w = arg;
    struct transfer *t = (struct transfer *)((char *)victim - offsetof(struct transfer, ticket));
    struct tftp_session_out out;

    tftp_session_on_event(&t->sess, TFTP_EVENT_EVICTED, &out);
    if (out.send_error != TFTP_FAIL_NONE)
        transfer_send_error(t, out.send_error);
    transfer_close(t, NULL);
    /* Its socket may have an event further down this batch: freed after it. */
    t->h.kind = HANDLE_DEAD;
    t->dead_next = w->dead;
    w->dead = t;
}
