/* filemap.c: the shared mappings of served files: a hash table of
 * (device, inode, size, mtime) -> mapping and its reference count, and the
 * few idle mappings kept for the next transfer. */
#include "server/tftp/filemap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

struct filemap_key {
    dev_t dev;
    ino_t ino;
    uint64_t size; /* bytes mapped: what the transfer was promised */
    int64_t mtime_sec;
    long mtime_nsec;
};

struct filemap_entry {
    struct filemap_key key;
    void *addr;
    unsigned long refs;
    size_t bucket;
    struct filemap_entry *next;
    struct filemap_entry *idle_prev, *idle_next; /* on the idle list when refs is 0 */
};

void filemap_init(struct filemap *m)
{
    pthread_mutex_init(&m->lock, NULL);
    for (size_t i = 0; i < FILEMAP_BUCKETS; i++)
        m->bucket[i] = NULL;
    m->entries = 0;
    m->idle_first = NULL;
    m->idle = 0;
}

static void entry_free(struct filemap_entry *e)
{
    munmap(e->addr, (size_t)e->key.size);
    free(e);
}

static void idle_unlink(struct filemap *m, struct filemap_entry *e)
{
    if (e->idle_prev != NULL)
        e->idle_prev->idle_next = e->idle_next;
    else
        m->idle_first = e->idle_next;
    if (e->idle_next != NULL)
        e->idle_next->idle_prev = e->idle_prev;
    e->idle_prev = e->idle_next = NULL;
    m->idle--;
}

static void table_unlink(struct filemap *m, struct filemap_entry *e)
{
    struct filemap_entry **p = &m->bucket[e->bucket];

    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    m->entries--;
}

void filemap_fini(struct filemap *m)
{
    while (m->idle_first != NULL) {
        struct filemap_entry *e = m->idle_first;

        idle_unlink(m, e);
        table_unlink(m, e);
        entry_free(e);
    }
    pthread_mutex_destroy(&m->lock);
}

static size_t key_bucket(const struct filemap_key *k)
{
    uint64_t h = (uint64_t)k->ino * 0x9e3779b97f4a7c15u ^ (uint64_t)k->dev ^ k->size;

    return (size_t)(h >> 32) % FILEMAP_BUCKETS;
}

static bool key_equal(const struct filemap_key *a, const struct filemap_key *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}

/* Who the file is, from fstat: -EIO when it is shorter than size. */
static int key_of(int fd, uint64_t size, struct filemap_key *k)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return -errno;
    if (st.st_size < 0 || (uint64_t)st.st_size < size)
        return -EIO;
    *k = (struct filemap_key){.dev = st.st_dev,
                              .ino = st.st_ino,
                              .size = size,
                              .mtime_sec = (int64_t)st.st_mtim.tv_sec,
                              .mtime_nsec = st.st_mtim.tv_nsec};
    return 0;
}

/* The entry for k with one more reference (taken off the idle list), or NULL. */
static struct filemap_entry *table_ref(struct filemap *m, const struct filemap_key *k, size_t b)
{
    for (struct filemap_entry *e = m->bucket[b]; e != NULL; e = e->next) {
        if (!key_equal(&e->key, k))
            continue;
        if (e->refs++ == 0)
            idle_unlink(m, e);
        return e;
    }
    return NULL;
}

/* A new entry mapping fd (outside the lock: mmap may take a while). */
static int entry_new(int fd, const struct filemap_key *k, struct filemap_entry **out)
{
    struct filemap_entry *e;
    void *addr;

    if (k->size > SIZE_MAX)
        return -EFBIG;
    addr = mmap(NULL, (size_t)k->size, PROT_READ, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED)
        return -errno;
    e = malloc(sizeof(*e));
    if (e == NULL) {
        munmap(addr, (size_t)k->size);
        return -ENOMEM;
    }
    *e = (struct filemap_entry){.key = *k, .addr = addr, .refs = 1, .bucket = key_bucket(k)};
    *out = e;
    return 0;
}

static void ref_set(struct filemap_ref *out, struct filemap_entry *e)
{
    out->data = e->addr;
    out->size = e->key.size;
    out->e = e;
}

/* Takes a reference to the entry for k, or adds fresh (refs 1) when none is
 * there yet; fresh is freed when another thread added one first. */
static struct filemap_entry *table_take(struct filemap *m, struct filemap_entry *fresh)
{
    struct filemap_entry *e;

    pthread_mutex_lock(&m->lock);
    e = table_ref(m, &fresh->key, fresh->bucket);
    if (e == NULL) {
        fresh->next = m->bucket[fresh->bucket];
        m->bucket[fresh->bucket] = fresh;
        m->entries++;
    }
    pthread_mutex_unlock(&m->lock);
    if (e == NULL)
        return fresh;
    entry_free(fresh);
    return e;
}

int filemap_acquire(struct filemap *m, int fd, uint64_t size, struct filemap_ref *out)
{
    struct filemap_key k;
    struct filemap_entry *e;
    int rc = key_of(fd, size, &k);

    *out = (struct filemap_ref){0};
    if (rc != 0 || size == 0)
        return rc; /* an empty file has no bytes to map */
    pthread_mutex_lock(&m->lock);
    e = table_ref(m, &k, key_bucket(&k));
    pthread_mutex_unlock(&m->lock);
    if (e == NULL) {
        rc = entry_new(fd, &k, &e);
        if (rc != 0)
            return rc;
        e = table_take(m, e);
    }
    ref_set(out, e);
    return 0;
}

/* Puts e, just left without a reference, first on the idle list; returns
 * the entry that no longer fits there (unlinked, to be freed), or NULL. */
static struct filemap_entry *idle_push(struct filemap *m, struct filemap_entry *e)
{
    struct filemap_entry *last = e;

    e->idle_prev = NULL;
    e->idle_next = m->idle_first;
    if (m->idle_first != NULL)
        m->idle_first->idle_prev = e;
    m->idle_first = e;
    m->idle++;
    if (m->idle <= FILEMAP_IDLE_MAX)
        return NULL;
    while (last->idle_next != NULL)
        last = last->idle_next;
    idle_unlink(m, last);
    table_unlink(m, last);
    return last;
}

void filemap_release(struct filemap *m, struct filemap_ref *ref)
{
    struct filemap_entry *e = ref->e, *old = NULL;

    *ref = (struct filemap_ref){0};
    if (e == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    if (--e->refs == 0)
        old = idle_push(m, e);
    pthread_mutex_unlock(&m->lock);
    if (old != NULL)
        entry_free(old);
}

size_t filemap_count(struct filemap *m)
{
    size_t n;

    pthread_mutex_lock(&m->lock);
    n = m->entries;
    pthread_mutex_unlock(&m->lock);
    return n;
}
