/* kdf.c: the KDF thread: callers hand it one job at a time and wait, so a
 * login costs the same wall time on a busy host as on an idle one. */
#include "admin/kdf.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "lib/log.h"

struct kdf_job {
    int (*fn)(void *arg);
    void *arg;
    int rc;
    bool done;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    struct kdf_job *job; /* the one handed over, not yet done */
    bool running;        /* the thread takes jobs */
    bool stopping;
} kdf = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *kdf_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&kdf.lock);
    for (;;) {
        struct kdf_job *j;

        while (kdf.job == NULL && !kdf.stopping)
            pthread_cond_wait(&kdf.cond, &kdf.lock);
        j = kdf.job;
        if (j == NULL)
            break;
        pthread_mutex_unlock(&kdf.lock);
        j->rc = j->fn(j->arg);
        pthread_mutex_lock(&kdf.lock);
        j->done = true;
        kdf.job = NULL;
        pthread_cond_broadcast(&kdf.cond);
    }
    pthread_mutex_unlock(&kdf.lock);
    return NULL;
}

int kdf_worker_start(void)
{
    int rc = -1, err;

    pthread_mutex_lock(&kdf.lock);
    if (kdf.running) {
        rc = 0;
        goto out;
    }
    kdf.stopping = false;
    err = pthread_create(&kdf.thread, NULL, kdf_main, NULL);
    if (err != 0) {
        log_error("cannot start the password hashing thread: %s", strerror(err));
        goto out;
    }
    kdf.running = true;
    rc = 0;
out:
    pthread_mutex_unlock(&kdf.lock);
    return rc;
}

void kdf_worker_stop(void)
{
    pthread_t thread;

    pthread_mutex_lock(&kdf.lock);
    if (!kdf.running || kdf.stopping) {
        pthread_mutex_unlock(&kdf.lock);
        return;
    }
    kdf.stopping = true;
    thread = kdf.thread;
    pthread_cond_broadcast(&kdf.cond);
    pthread_mutex_unlock(&kdf.lock);
    pthread_join(thread, NULL);
    pthread_mutex_lock(&kdf.lock);
    kdf.running = false;
    kdf.stopping = false;
    pthread_cond_broadcast(&kdf.cond); /* callers waiting for the slot run inline */
    pthread_mutex_unlock(&kdf.lock);
}

int kdf_run(int (*fn)(void *arg), void *arg)
{
    struct kdf_job j = {.fn = fn, .arg = arg};

    pthread_mutex_lock(&kdf.lock);
    while (kdf.running && !kdf.stopping && kdf.job != NULL)
        pthread_cond_wait(&kdf.cond, &kdf.lock);
    if (!kdf.running || kdf.stopping) {
        pthread_mutex_unlock(&kdf.lock);
        return fn(arg);
    }
    kdf.job = &j;
    pthread_cond_broadcast(&kdf.cond);
    while (!j.done)
        pthread_cond_wait(&kdf.cond, &kdf.lock);
    pthread_mutex_unlock(&kdf.lock);
    return j.rc;
}
