/* genwatch.c: one thread per snapshot source, waking every poll interval to
 * compare the catalog's generation with the last one rebuilt; stops at once
 * when asked (a condition variable, not a sleep). */
#include "server/resolve/genwatch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "db/db.h"
#include "lib/log.h"

struct genwatch {
    sqlite3 *db;
    unsigned poll_ms;
    int (*rebuild)(void *arg, sqlite3 *db);
    void *arg;
    int64_t built; /* generation of the last successful rebuild */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    bool running;
    pthread_t thread;
};

/* Rebuilds when the generation moved. */
static void genwatch_check(struct genwatch *gw)
{
    int64_t gen;

    if (db_generation(gw->db, &gen) != DB_OK || gen == gw->built)
        return;
    if (gw->rebuild(gw->arg, gw->db) == 0)
        gw->built = gen;
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
        deadline_in_ms(&until, gw->poll_ms);
        pthread_cond_timedwait(&gw->wake, &gw->lock, &until);
        if (gw->stop)
            break;
        pthread_mutex_unlock(&gw->lock);
        genwatch_check(gw);
        pthread_mutex_lock(&gw->lock);
    }
    pthread_mutex_unlock(&gw->lock);
    return NULL;
}

int genwatch_start(const char *db_path, unsigned poll_ms, int (*rebuild)(void *arg, sqlite3 *db),
                   void *arg, struct genwatch **out)
{
    struct genwatch *gw = calloc(1, sizeof(*gw));

    if (gw == NULL)
        return -1;
    gw->poll_ms = poll_ms;
    gw->rebuild = rebuild;
    gw->arg = arg;
    gw->built = -1;
    pthread_mutex_init(&gw->lock, NULL);
    pthread_cond_init(&gw->wake, NULL);
    if (db_open(db_path, &gw->db) != DB_OK || db_generation(gw->db, &gw->built) != DB_OK ||
        rebuild(arg, gw->db) != 0)
        goto fail;
    if (pthread_create(&gw->thread, NULL, genwatch_main, gw) != 0)
        goto fail;
    gw->running = true;
    *out = gw;
    return 0;
fail:
    genwatch_stop(gw);
    return -1;
}

void genwatch_stop(struct genwatch *gw)
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
    if (gw->db != NULL)
        db_close(gw->db);
    pthread_cond_destroy(&gw->wake);
    pthread_mutex_destroy(&gw->lock);
    free(gw);
}
