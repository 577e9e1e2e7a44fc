/* snapshot.c: publish / acquire / release of an immutable snapshot: the
 * pointer swap and the reference taken under one mutex, the count atomic, so
 * the last of the writer and readers to let go frees it. Nothing else. */
#include "server/resolve/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct snapshot {
    atomic_int refs; /* the holder's (while current) and each reader's */
    void *data;
    void (*free_data)(void *data);
};

struct snapshot_holder {
    pthread_mutex_t lock; /* cur, and taking a reference to it */
    struct snapshot *cur;
    void (*free_data)(void *data);
};

struct snapshot_holder *snapshot_holder_new(void (*free_data)(void *data))
{
    struct snapshot_holder *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    h->free_data = free_data;
    return h;
}

void snapshot_holder_free(struct snapshot_holder *h)
{
    if (h == NULL)
        return;
    snapshot_release(h->cur);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

int snapshot_publish(struct snapshot_holder *h, void *data)
{
    struct snapshot *s = malloc(sizeof(*s)), *old;

    if (s == NULL) {
        h->free_data(data);
        return -ENOMEM;
    }
    atomic_init(&s->refs, 1);
    s->data = data;
    s->free_data = h->free_data;
    pthread_mutex_lock(&h->lock);
    old = h->cur;
    h->cur = s;
    pthread_mutex_unlock(&h->lock);
    snapshot_release(old); /* outside the lock: freeing may take a while */
    return 0;
}

struct snapshot *snapshot_acquire(struct snapshot_holder *h)
{
    struct snapshot *s;

    pthread_mutex_lock(&h->lock);
    s = h->cur;
    if (s != NULL)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&h->lock);
    return s;
}

const void *snapshot_data(const struct snapshot *s)
{
    return s->data;
}

void snapshot_release(struct snapshot *s)
{
    if (s == NULL || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    s->free_data(s->data);
    free(s);
}
