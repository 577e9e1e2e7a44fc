/* scrubber.c: the thread that runs scrub_run() every interval, with its own
 * database connection and blob store handle; stops promptly on request. */
#include "server/scrubber.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/blobstore.h"
#include "db/db.h"
#include "lib/log.h"
#include "lib/sizes.h"
#include "server/firmware/scrub.h"

struct scrubber {
    char data_dir[DIR_BUF];
    pthread_mutex_t lock;
    pthread_cond_t wake;
    unsigned interval_s;
    uint64_t rate;
    bool stop, kicked;
    char recheck[SCRUBBER_RECHECK_MAX][BLOB_HEX_LEN + 1]; /* under lock */
    unsigned n_recheck;
    atomic_bool cancel; /* stop a run in progress */
    pthread_t thread;
};

static void scrub_once(struct scrubber *s, uint64_t rate)
{
    char path[PATH_BUF];
    struct scrub_totals t;
    struct blobstore *bs = NULL;
    sqlite3 *db = NULL;

    snprintf(path, sizeof(path), "%s/catalog.db", s->data_dir);
    if (db_open(path, &db) != DB_OK || blobstore_open(s->data_dir, &bs) != 0) {
        log_error("scrub: cannot open the data directory");
    } else {
        struct scrub_options so = {NULL, rate, "loadsd scrub", &s->cancel, NULL, NULL};

        if (scrub_run(db, bs, &so, &t) == DB_OK)
            log_info("scrub: %u blobs checked, %u ok, %u quarantined now, %u before", t.checked,
                     t.ok, t.quarantined, t.already);
    }
    if (bs != NULL)
        blobstore_close(bs);
    if (db != NULL)
        db_close(db);
}

/* Re-checks the blobs a read found changed, one connection for all. */
static void recheck_all(struct scrubber *s, char (*hex)[BLOB_HEX_LEN + 1], unsigned n)
{
    char path[PATH_BUF];
    struct blobstore *bs = NULL;
    sqlite3 *db = NULL;

    snprintf(path, sizeof(path), "%s/catalog.db", s->data_dir);
    if (db_open(path, &db) != DB_OK || blobstore_open(s->data_dir, &bs) != 0)
        log_error("re-check: cannot open the data directory");
    else
        for (unsigned i = 0; i < n; i++)
            scrub_recheck_blob(db, bs, hex[i], "loadsd read check");
    if (bs != NULL)
        blobstore_close(bs);
    if (db != NULL)
        db_close(db);
}

void scrubber_recheck(struct scrubber *s, const char *hex)
{
    pthread_mutex_lock(&s->lock);
    for (unsigned i = 0; i < s->n_recheck; i++)
        if (strcmp(s->recheck[i], hex) == 0)
            goto out;
    if (s->n_recheck < SCRUBBER_RECHECK_MAX) {
        snprintf(s->recheck[s->n_recheck++], BLOB_HEX_LEN + 1, "%s", hex);
        pthread_cond_signal(&s->wake);
    }
out:
    pthread_mutex_unlock(&s->lock);
}

/* With the lock held: takes the queued re-checks and runs them unlocked. */
static void recheck_queued(struct scrubber *s)
{
    char hex[SCRUBBER_RECHECK_MAX][BLOB_HEX_LEN + 1];
    unsigned n = s->n_recheck;

    memcpy(hex, s->recheck, sizeof(hex));
    s->n_recheck = 0;
    pthread_mutex_unlock(&s->lock);
    recheck_all(s, hex, n);
    pthread_mutex_lock(&s->lock);
}

static void deadline_in(struct timespec *ts, unsigned seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += seconds;
}

static void *scrubber_main(void *arg)
{
    struct scrubber *s = arg;
    struct timespec next;

    pthread_mutex_lock(&s->lock);
    deadline_in(&next, s->interval_s);
    while (!s->stop) {
        int rc = 0;

        if (!s->kicked && s->n_recheck == 0)
            rc = s->interval_s == 0 ? pthread_cond_wait(&s->wake, &s->lock)
                                    : pthread_cond_timedwait(&s->wake, &s->lock, &next);
        if (s->stop)
            break;
        if (s->n_recheck > 0) {
            recheck_queued(s);
            continue;
        }
        if (!s->kicked && rc == 0)
            continue; /* an update: wait again with the new interval */
        s->kicked = false;
        pthread_mutex_unlock(&s->lock);
        scrub_once(s, s->rate);
        pthread_mutex_lock(&s->lock);
        deadline_in(&next, s->interval_s);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int scrubber_start(const char *data_dir, unsigned interval_s, uint64_t rate_bytes,
                   struct scrubber **out)
{
    struct scrubber *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return -1;
    snprintf(s->data_dir, sizeof(s->data_dir), "%s", data_dir);
    s->interval_s = interval_s;
    s->rate = rate_bytes;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->thread, NULL, scrubber_main, s) != 0) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void scrubber_update(struct scrubber *s, unsigned interval_s, uint64_t rate_bytes)
{
    pthread_mutex_lock(&s->lock);
    s->interval_s = interval_s;
    s->rate = rate_bytes;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void scrubber_kick(struct scrubber *s)
{
    pthread_mutex_lock(&s->lock);
    s->kicked = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void scrubber_stop(struct scrubber *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->cancel, true);
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
