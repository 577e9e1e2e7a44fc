/* server.c: the TFTP server's life (open, start, update, stop, free) over its
 * workers, and what it reports: counters and the transfers in progress. */
#include "server/tftp/tftp_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/tftp/engine.h"
#include "server/tftp/worker.h"

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned)n : 1;
}

static void params_store(struct tftp_server *srv, const struct tftp_server_params *p)
{
    struct resolver *old = srv->params.resolver;

    srv->params = *p;
    srv->params.listen = NULL;
    srv->params.resolver = resolver_ref(p->resolver);
    if (old != NULL)
        resolver_unref(old);
}

/* Every address must be free to us alone before any worker binds it. */
static int server_probe(const struct tftp_server_params *p)
{
    for (unsigned i = 0; i < p->listen_count; i++) {
        int rc = listen_probe(&p->listen[i]);

        if (rc != 0) {
            log_error("cannot listen on %s: %s%s", p->listen[i].text, strerror(-rc),
                      rc == -EADDRINUSE ? " (is another TFTP server running?)" : "");
            return rc;
        }
    }
    return 0;
}

static int server_workers(struct tftp_server *srv, const struct tftp_server_params *p)
{
    srv->n_workers = p->threads ? p->threads : online_cpus();
    srv->workers = calloc(srv->n_workers, sizeof(*srv->workers));
    if (srv->workers == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < srv->n_workers; i++) {
        srv->workers[i].epfd = -1;
        srv->workers[i].index = i;
        pthread_mutex_init(&srv->workers[i].list_lock, NULL);
        pthread_mutex_init(&srv->workers[i].hand_lock, NULL);
    }
    return 0;
}

int tftp_server_open(struct tftp_server **out, const struct tftp_server_params *p)
{
    struct tftp_server *srv = calloc(1, sizeof(*srv));
    int rc = -ENOMEM;

    if (srv == NULL)
        return rc;
    pthread_mutex_init(&srv->lock, NULL);
    noise_init(&srv->noise, &srv->admission);
    filemap_init(&srv->files);
    params_store(srv, p);
    atomic_store(&srv->gen, 1);
    rc = admission_init(&srv->admission);
    if (rc == 0)
        rc = server_workers(srv, p);
    if (rc == 0)
        rc = server_probe(p);
    for (unsigned i = 0; rc == 0 && i < srv->n_workers; i++)
        rc = worker_init(&srv->workers[i], srv, p);
    if (rc != 0)
        tftp_server_free(srv);
    else
        *out = srv;
    return rc;
}

int tftp_server_start(struct tftp_server *srv)
{
    for (unsigned i = 0; i < srv->n_workers; i++) {
        int rc = pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);

        if (rc != 0)
            return -rc;
        srv->workers[i].started = true;
    }
    return 0;
}

static void server_wake_all(struct tftp_server *srv)
{
    for (unsigned i = 0; i < srv->n_workers; i++)
        worker_wake(&srv->workers[i]);
}

void tftp_server_update(struct tftp_server *srv, const struct tftp_server_params *p)
{
    pthread_mutex_lock(&srv->lock);
    params_store(srv, p);
    atomic_fetch_add(&srv->gen, 1);
    pthread_mutex_unlock(&srv->lock);
    server_wake_all(srv);
}

void tftp_server_stop(struct tftp_server *srv, unsigned grace_ms)
{
    atomic_store(&srv->stop_deadline_ms, engine_now_ms() + grace_ms);
    atomic_store(&srv->stopping, true);
    server_wake_all(srv);
    for (unsigned i = 0; i < srv->n_workers; i++) {
        if (srv->workers[i].started)
            pthread_join(srv->workers[i].thread, NULL);
        srv->workers[i].started = false;
    }
}

void tftp_server_free(struct tftp_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->workers != NULL) {
        for (unsigned i = 0; i < srv->n_workers; i++)
            worker_destroy(&srv->workers[i]);
        free(srv->workers);
    }
    if (srv->params.resolver != NULL)
        resolver_unref(srv->params.resolver);
    admission_fini(&srv->admission);
    noise_fini(&srv->noise);
    filemap_fini(&srv->files);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

void tftp_server_get_stats(struct tftp_server *srv, struct tftp_server_stats *out)
{
    struct admission_stats a;

    admission_get_stats(&srv->admission, &a);
    out->requests = atomic_load(&srv->st_requests);
    out->transfers_active = a.active;
    out->transfers_done = atomic_load(&srv->st_done);
    out->transfers_failed = atomic_load(&srv->st_failed);
    out->refused_transfers = a.refused[ADMISSION_REFUSED_TRANSFERS];
    out->refused_client = a.refused[ADMISSION_REFUSED_CLIENT];
    out->refused_unacked = a.refused[ADMISSION_REFUSED_UNACKED];
    out->refused_unacked_prefix = a.refused[ADMISSION_REFUSED_UNACKED_PREFIX];
    out->refused_busy = out->refused_transfers + out->refused_client + out->refused_unacked +
                        out->refused_unacked_prefix;
    out->transfers_unacked = a.unacked;
    out->unacked_evicted = a.evicted;
    out->unacked_expired = a.expired;
    out->errors_sent = atomic_load(&srv->st_errors);
    out->bytes_sent = atomic_load(&srv->st_bytes);
}

static void transfer_info(const struct transfer *t, uint64_t now, struct tftp_transfer_info *out)
{
    uint64_t acked = atomic_load_explicit(&t->acked_bytes, memory_order_relaxed);

    memset(out, 0, sizeof(*out));
    snprintf(out->peer, sizeof(out->peer), "%s", t->peer);
    snprintf(out->name, sizeof(out->name), "%s", t->name);
    out->size = t->sess.size;
    out->acked_bytes = acked < out->size ? acked : out->size;
    out->elapsed_ms = now - t->ticket.started_ms;
    out->blksize = t->sess.blksize;
    out->windowsize = t->sess.windowsize;
}

size_t tftp_server_list_transfers(struct tftp_server *srv, size_t max,
                                  void (*cb)(void *arg, const struct tftp_transfer_info *t),
                                  void *arg)
{
    struct tftp_transfer_info info;
    uint64_t now = engine_now_ms();
    size_t n = 0;

    for (unsigned i = 0; i < srv->n_workers && n < max; i++) {
        struct worker *w = &srv->workers[i];

        pthread_mutex_lock(&w->list_lock);
        for (const struct transfer *t = w->transfers; t != NULL && n < max; t = t->next, n++) {
            transfer_info(t, now, &info);
            cb(arg, &info);
        }
        pthread_mutex_unlock(&w->list_lock);
    }
    return n;
}
