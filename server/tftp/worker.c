/* worker.c: a worker's epoll loop: dispatches listener, transfer and wake-up
 * events, starts the requests steered to it, fires due timers, meters how
 * busy it is, drains on stop. */
#include "server/tftp/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server/tftp/request.h"
#include "server/tftp/transfer.h"

#define EVENTS_MAX 256

/* A request another worker received and steered here. */
struct handoff {
    struct handoff *next;
    unsigned listener;
    struct listen_request rq;
};

static void worker_refresh(struct worker *w)
{
    struct tftp_server *srv = w->srv;
    unsigned gen = atomic_load(&srv->gen);
    struct resolver *old;

    if (gen == w->gen_seen)
        return;
    pthread_mutex_lock(&srv->lock);
    w->limits = srv->params.limits;
    w->admit = (struct admission_limits){
        .transfers = srv->params.max_transfers,
        .per_client = srv->params.max_transfers_per_client,
        .unacked = srv->params.max_unacked,
        .unacked_per_prefix = srv->params.max_unacked_per_prefix,
    };
    old = w->resolver;
    w->resolver = resolver_ref(srv->params.resolver);
    w->gen_seen = gen;
    pthread_mutex_unlock(&srv->lock);
    if (old != NULL)
        resolver_unref(old);
}

static void worker_close_listeners(struct worker *w)
{
    for (unsigned i = 0; i < w->n_listeners; i++) {
        if (w->listeners[i].fd < 0)
            continue;
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->listeners[i].fd, NULL);
        close(w->listeners[i].fd);
        w->listeners[i].fd = -1;
    }
}

static struct handoff *worker_take_handoffs(struct worker *w)
{
    struct handoff *h;

    pthread_mutex_lock(&w->hand_lock);
    h = w->hand;
    w->hand = w->hand_tail = NULL;
    pthread_mutex_unlock(&w->hand_lock);
    return h;
}

/* Starts the transfers steered here (none while draining: dropped, the
 * client asks again and finds the server gone). */
static void worker_run_handoffs(struct worker *w)
{
    struct handoff *h = worker_take_handoffs(w);

    while (h != NULL) {
        struct handoff *next = h->next;

        if (!w->draining && h->listener < w->n_listeners && w->listeners[h->listener].fd >= 0)
            request_on_handoff(w, &w->listeners[h->listener], &h->rq);
        free(h);
        h = next;
    }
}

static void worker_on_wake(struct worker *w)
{
    uint64_t v;

    if (read(w->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        log_debug("wake read: %s", strerror(errno));
    worker_refresh(w);
    if (atomic_load(&w->srv->stopping) && !w->draining) {
        w->draining = true;
        worker_close_listeners(w);
    }
    worker_run_handoffs(w);
}

static struct transfer *transfer_of_timer(struct timer_entry *e)
{
    return (struct transfer *)((char *)e - offsetof(struct transfer, timer));
}

static void worker_run_timers(struct worker *w)
{
    uint64_t now = engine_now_ms();
    struct timer_entry *e;

    while ((e = timer_heap_first(&w->timers)) != NULL && e->due <= now)
        transfer_on_timer(transfer_of_timer(e), now);
}

static int worker_wait_ms(struct worker *w)
{
    struct timer_entry *first = timer_heap_first(&w->timers);
    uint64_t now = engine_now_ms(), next = UINT64_MAX, noise = noise_due(&w->srv->noise);

    if (first != NULL)
        next = first->due;
    if (noise != 0 && noise < next)
        next = noise;
    if (w->draining) {
        uint64_t d = atomic_load(&w->srv->stop_deadline_ms);

        if (d < next)
            next = d;
    }
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}

/* Frees the transfers ended by another handle's event in the last batch. */
static void worker_bury(struct worker *w)
{
    while (w->dead != NULL) {
        struct transfer *t = w->dead;

        w->dead = t->dead_next;
        free(t);
    }
}

static void worker_dispatch(struct worker *w, struct epoll_event *ev)
{
    struct handle *h = ev->data.ptr;

    switch (h->kind) {
    case HANDLE_LISTENER:
        request_on_listener(w, (struct listener *)h);
        break;
    case HANDLE_TRANSFER:
        transfer_on_event((struct transfer *)h, ev->events);
        break;
    case HANDLE_WAKE:
        worker_on_wake(w);
        break;
    case HANDLE_DEAD:
        break;
    }
}

static void worker_abort_all(struct worker *w)
{
    struct timer_entry *e;

    while ((e = timer_heap_first(&w->timers)) != NULL)
        transfer_abort(transfer_of_timer(e));
}

void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[EVENTS_MAX];

    worker_refresh(w);
    steer_meter_init(&w->meter, engine_now_ns());
    for (;;) {
        uint64_t t0 = engine_now_ns();
        int n = epoll_wait(w->epfd, evs, EVENTS_MAX, worker_wait_ms(w));

        atomic_store_explicit(&w->busy, steer_meter_wait(&w->meter, t0, engine_now_ns()),
                              memory_order_relaxed);
        for (int i = 0; i < n; i++)
            worker_dispatch(w, &evs[i]);
        worker_bury(w);
        worker_run_timers(w);
        atomic_store_explicit(&w->active_seen, (unsigned)w->active, memory_order_relaxed);
        noise_tick(&w->srv->noise, engine_now_ms());
        if (w->draining &&
            (w->active == 0 || engine_now_ms() >= atomic_load(&w->srv->stop_deadline_ms)))
            break;
    }
    worker_abort_all(w);
    return NULL;
}

static int worker_add(struct worker *w, int fd, struct handle *h)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h};

    return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

static int worker_listen(struct worker *w, const struct tftp_server_params *p)
{
    w->listeners = calloc(p->listen_count, sizeof(*w->listeners));
    if (w->listeners == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < p->listen_count; i++)
        w->listeners[i].fd = -1;
    for (unsigned i = 0; i < p->listen_count; i++) {
        struct listener *l = &w->listeners[i];
        int fd = listen_open(&p->listen[i]), rc;

        if (fd < 0) {
            log_error("cannot listen on %s: %s", p->listen[i].text, strerror(-fd));
            return fd;
        }
        *l = (struct listener){
            .h.kind = HANDLE_LISTENER, .fd = fd, .family = p->listen[i].addr.ss_family};
        w->n_listeners = i + 1;
        rc = worker_add(w, fd, &l->h);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int worker_init(struct worker *w, struct tftp_server *srv, const struct tftp_server_params *p)
{
    int rc;

    w->srv = srv;
    w->wakefd = -1;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0)
        return -errno;
    w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wakefd < 0)
        return -errno;
    w->wake.kind = HANDLE_WAKE;
    rc = worker_add(w, w->wakefd, &w->wake);
    send_batch_init(&w->send, &srv->gso_off);
    if (rc == 0)
        rc = worker_listen(w, p);
    return rc;
}

void worker_destroy(struct worker *w)
{
    for (struct handoff *h = worker_take_handoffs(w), *next; h != NULL; h = next) {
        next = h->next;
        free(h);
    }
    pthread_mutex_destroy(&w->hand_lock);
    pthread_mutex_destroy(&w->list_lock);
    worker_close_listeners(w);
    if (w->epfd >= 0)
        close(w->epfd);
    if (w->wakefd >= 0)
        close(w->wakefd);
    if (w->resolver != NULL)
        resolver_unref(w->resolver);
    free(w->listeners);
    timer_heap_free(&w->timers);
}

int worker_hand(struct worker *w, unsigned li, const struct listen_request *rq)
{
    struct handoff *h = malloc(sizeof(*h));

    if (h == NULL)
        return -ENOMEM;
    h->next = NULL;
    h->listener = li;
    h->rq = *rq;
    pthread_mutex_lock(&w->hand_lock);
    if (w->hand_tail != NULL)
        w->hand_tail->next = h;
    else
        w->hand = h;
    w->hand_tail = h;
    pthread_mutex_unlock(&w->hand_lock);
    worker_wake(w);
    return 0;
}

void worker_wake(struct worker *w)
{
    uint64_t one = 1;

    if (write(w->wakefd, &one, sizeof(one)) < 0)
        log_debug("wake write: %s", strerror(errno));
}
