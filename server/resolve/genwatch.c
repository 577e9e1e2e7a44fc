/* genwatch.c: one thread for every snapshot source, waking every poll
 * interval (or at once for a sync) to read each source's generation and
 * rebuild each source whose last rebuild is older; stops at once when asked
 * (a condition variable, not a sleep). */
#include "server/resolve/genwatch.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "db/db.h"
#include "lib/log.h"
#include "lib/sizes.h"

struct genwatch_source {
    int (*counter)(sqlite3 *db, int64_t *out); /* which generation it follows */
    int (*rebuild)(void *arg, sqlite3 *db);
    void *arg;
    int64_t built; /* generation before its last successful rebuild */
};

struct genwatch_tick {
    void (*tick)(void *arg, sqlite3 *db);
    void *arg;
};

struct genwatch {
    sqlite3 *db;
    unsigned poll_ms;
    struct genwatch_source sources[GENWATCH_SOURCES_MAX];
    unsigned n_sources;
    struct genwatch_tick ticks[GENWATCH_SOURCES_MAX];
    unsigned n_ticks;
    pthread_mutex_t lock; /* stop, hurry, the pass counts */
    pthread_cond_t wake;
    pthread_cond_t passed; /* a pass ended */
    bool stop;
    bool hurry;            /* a sync asked for a pass now */
    uint64_t passes_begun; /* passes that read the counters */
    uint64_t passes_ended; /* passes whose rebuilds are done (their ticks may run on) */
    bool running;
    pthread_t thread;
};

static void genwatch_ticks(struct genwatch *gw)
{
    for (unsigned i = 0; i < gw->n_ticks; i++)
        gw->ticks[i].tick(gw->ticks[i].arg, gw->db);
}

/* Rebuilds each source the generation moved past. A source's rebuild may
 * write (and so move the generation again): the next poll rebuilds once more,
 * finding nothing new to write. */
static void genwatch_rebuild(struct genwatch *gw)
{
    for (unsigned i = 0; i < gw->n_sources; i++) {
        struct genwatch_source *src = &gw->sources[i];
        int64_t gen;

        if (src->counter(gw->db, &gen) == DB_OK && gen != src->built &&
            src->rebuild(src->arg, gw->db) == 0)
            src->built = gen;
    }
}

static void deadline_in_ms(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_nsec += (long)ms * 1000000L;
    ts->tv_sec += ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
}

static void *genwatch_main(void *arg)
{
    struct genwatch *gw = arg;
    struct timespec until;

    pthread_mutex_lock(&gw->lock);
    while (!gw->stop) {
        if (!gw->hurry) {
            deadline_in_ms(&until, gw->poll_ms);
            pthread_cond_timedwait(&gw->wake, &gw->lock, &until);
            if (gw->stop)
                break;
        }
        gw->hurry = false;
        gw->passes_begun++;
        pthread_mutex_unlock(&gw->lock);
        genwatch_rebuild(gw);
        pthread_mutex_lock(&gw->lock);
        gw->passes_ended++; /* what is served is current: a sync need not wait for the ticks */
        pthread_cond_broadcast(&gw->passed);
        pthread_mutex_unlock(&gw->lock);
        genwatch_ticks(gw);
        pthread_mutex_lock(&gw->lock);
    }
    pthread_cond_broadcast(&gw->passed); /* syncs still waiting give up */
    pthread_mutex_unlock(&gw->lock);
    return NULL;
}

int genwatch_sync(struct genwatch *gw, unsigned timeout_ms)
{
    struct timespec until;
    uint64_t want;
    int rc = -1;

    if (gw == NULL || !gw->running)
        return -1;
    deadline_in_ms(&until, timeout_ms);
    pthread_mutex_lock(&gw->lock);
    /* A pass already begun may have read the counters before the caller's
     * commit: only one that begins after this call counts. */
    want = gw->passes_begun + 1;
    gw->hurry = true;
    pthread_cond_signal(&gw->wake);
    while (!gw->stop && gw->passes_ended < want)
        if (pthread_cond_timedwait(&gw->passed, &gw->lock, &until) == ETIMEDOUT)
            break;
    if (gw->passes_ended >= want)
        rc = 0;
    pthread_mutex_unlock(&gw->lock);
    return rc;
}

int genwatch_open(const char *data_dir, unsigned poll_ms, struct genwatch **out)
{
    struct genwatch *gw = calloc(1, sizeof(*gw));
    char path[PATH_BUF];

    if (gw == NULL)
        return -1;
    gw->poll_ms = poll_ms;
    pthread_mutex_init(&gw->lock, NULL);
    pthread_cond_init(&gw->wake, NULL);
    pthread_cond_init(&gw->passed, NULL);
    snprintf(path, sizeof(path), "%s/catalog.db", data_dir);
    if (db_open(path, &gw->db) != DB_OK) {
        log_error("cannot watch the catalog in %s", data_dir);
        genwatch_free(gw);
        return -1;
    }
    *out = gw;
    return 0;
}

int genwatch_add_counted(struct genwatch *gw, int (*counter)(sqlite3 *db, int64_t *out),
                         int (*rebuild)(void *arg, sqlite3 *db), void *arg)
{
    struct genwatch_source src = {counter, rebuild, arg, -1};

    if (gw->running || gw->n_sources == GENWATCH_SOURCES_MAX)
        return -1;
    if (counter(gw->db, &src.built) != DB_OK || rebuild(arg, gw->db) != 0)
        return -1;
    gw->sources[gw->n_sources++] = src;
    return 0;
}

int genwatch_add(struct genwatch *gw, int (*rebuild)(void *arg, sqlite3 *db), void *arg)
{
    return genwatch_add_counted(gw, db_generation, rebuild, arg);
}

int genwatch_add_tick(struct genwatch *gw, void (*tick)(void *arg, sqlite3 *db), void *arg)
{
    if (gw->running || gw->n_ticks == GENWATCH_SOURCES_MAX)
        return -1;
    gw->ticks[gw->n_ticks++] = (struct genwatch_tick){tick, arg};
    return 0;
}

int genwatch_start(struct genwatch *gw)
{
    if (pthread_create(&gw->thread, NULL, genwatch_main, gw) != 0) {
        log_error("cannot start the catalog watcher thread");
        return -1;
    }
    gw->running = true;
    return 0;
}

void genwatch_free(struct genwatch *gw)
{
    if (gw == NULL)
        return;
    if (gw->running) {
        pthread_mutex_lock(&gw->lock);
        gw->stop = true;
        pthread_cond_signal(&gw->wake);
        pthread_mutex_unlock(&gw->lock);
        pthread_join(gw->thread, NULL);
    }
    if (gw->db != NULL) {
        genwatch_ticks(gw); /* the last bookkeeping */
        db_close(gw->db);
    }
    pthread_cond_destroy(&gw->wake);
    pthread_cond_destroy(&gw->passed);
    pthread_mutex_destroy(&gw->lock);
    free(gw);
}
