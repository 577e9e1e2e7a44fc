/* peer_table.c: a chained hash table of counts per peer key, split into shards
 * (a mutex and 256 buckets each) so workers admitting different peers rarely
 * meet on a lock; SipHash with a per-process random key picks shard and bucket.
 * Allocates one entry per distinct key in use, never per packet. */
#include "server/tftp/peer_table.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/siphash.h"

#define PEER_SHARDS        64
#define PEER_SHARD_BUCKETS 256

struct peer_count {
    struct peer_key key;
    unsigned count;
    uint64_t hash;
    struct peer_count *next;
};

/* Cache-line aligned: two workers on neighbouring shards do not share a line. */
struct peer_shard {
    alignas(64) pthread_mutex_t lock;
    struct peer_count *buckets[PEER_SHARD_BUCKETS];
};

struct peer_table {
    uint8_t key[SIPHASH_KEY_LEN];
    struct peer_shard shards[PEER_SHARDS];
};

static uint64_t key_hash(const struct peer_table *t, const struct peer_key *k)
{
    return siphash24(t->key, k, sizeof(*k));
}

static struct peer_shard *hash_shard(struct peer_table *t, uint64_t h)
{
    return &t->shards[h % PEER_SHARDS];
}

static struct peer_count **hash_bucket(struct peer_table *t, uint64_t h)
{
    return &hash_shard(t, h)->buckets[(h / PEER_SHARDS) % PEER_SHARD_BUCKETS];
}

int peer_table_new(struct peer_table **out)
{
    struct peer_table *t = aligned_alloc(64, sizeof(*t));
    int rc = -ENOMEM;

    if (t == NULL)
        return rc;
    memset(t, 0, sizeof(*t));
    if (getrandom(t->key, sizeof(t->key), 0) != (ssize_t)sizeof(t->key)) {
        rc = -EIO;
        goto out;
    }
    for (size_t i = 0; i < PEER_SHARDS; i++)
        pthread_mutex_init(&t->shards[i].lock, NULL);
    *out = t;
    t = NULL;
    rc = 0;
out:
    free(t);
    return rc;
}

void peer_table_free(struct peer_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < PEER_SHARDS; i++) {
        for (size_t b = 0; b < PEER_SHARD_BUCKETS; b++) {
            while (t->shards[i].buckets[b] != NULL) {
                struct peer_count *c = t->shards[i].buckets[b];

                t->shards[i].buckets[b] = c->next;
                free(c);
            }
        }
        pthread_mutex_destroy(&t->shards[i].lock);
    }
    free(t);
}

static struct peer_count *bucket_find(struct peer_count *head, const struct peer_key *key)
{
    while (head != NULL && !peer_key_equal(&head->key, key))
        head = head->next;
    return head;
}

struct peer_count *peer_table_acquire(struct peer_table *t, const struct peer_key *key,
                                      unsigned max)
{
    uint64_t h = key_hash(t, key);
    struct peer_shard *s = hash_shard(t, h);
    struct peer_count **head = hash_bucket(t, h), *c;

    pthread_mutex_lock(&s->lock);
    c = bucket_find(*head, key);
    if (c == NULL && max > 0 && (c = calloc(1, sizeof(*c))) != NULL) {
        c->key = *key;
        c->hash = h;
        c->next = *head;
        *head = c;
    }
    if (c != NULL && c->count < max)
        c->count++;
    else
        c = NULL;
    pthread_mutex_unlock(&s->lock);
    return c;
}

void peer_table_release(struct peer_table *t, struct peer_count *c)
{
    struct peer_shard *s;
    struct peer_count **pp;

    if (c == NULL)
        return;
    s = hash_shard(t, c->hash);
    pthread_mutex_lock(&s->lock);
    if (--c->count == 0) {
        for (pp = hash_bucket(t, c->hash); *pp != c; pp = &(*pp)->next)
            ;
        *pp = c->next;
        free(c);
    }
    pthread_mutex_unlock(&s->lock);
}

unsigned peer_table_held(struct peer_table *t, const struct peer_count *c)
{
    struct peer_shard *s;
    unsigned n;

    if (c == NULL)
        return 0;
    s = hash_shard(t, c->hash);
    pthread_mutex_lock(&s->lock);
    n = c->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

unsigned peer_table_count(struct peer_table *t, const struct peer_key *key)
{
    uint64_t h = key_hash(t, key);
    struct peer_shard *s = hash_shard(t, h);
    struct peer_count *c;
    unsigned n;

    pthread_mutex_lock(&s->lock);
    c = bucket_find(*hash_bucket(t, h), key);
    n = c != NULL ? c->count : 0;
    pthread_mutex_unlock(&s->lock);
    return n;
}
