/* missing.c: the bounded table of names asked for and not found: a fixed
 * array under one mutex, a linear scan (256 names), the least asked-for and
 * oldest name evicted when full. Never allocates after creation. */
#include "server/resolve/missing.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "server/resolve/seen.h"

struct missing_table {
    pthread_mutex_t lock;
    struct missing_name items[MISSING_NAMES_MAX];
    size_t n;
    uint64_t requests, evicted;
};

struct missing_table *missing_table_new(void)
{
    struct missing_table *t = calloc(1, sizeof(*t));

    if (t != NULL && pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        t = NULL;
    }
    return t;
}

void missing_table_free(struct missing_table *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Whether a ranks before b: more requests, then the later one. */
static bool missing_before(const struct missing_name *a, const struct missing_name *b)
{
    if (a->count != b->count)
        return a->count > b->count;
    return a->last_at > b->last_at;
}

/* The entry for name: the one there, a free one, or the last-ranked one
 * emptied. Under the lock. */
static struct missing_name *missing_slot(struct missing_table *t, const char *name)
{
    struct missing_name *victim;

    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->items[i].name, name) == 0)
            return &t->items[i];
    }
    if (t->n < MISSING_NAMES_MAX) {
        victim = &t->items[t->n++];
    } else {
        victim = &t->items[0];
        for (size_t i = 1; i < t->n; i++) {
            if (missing_before(victim, &t->items[i]))
                victim = &t->items[i];
        }
        t->evicted++;
    }
    memset(victim, 0, sizeof(*victim));
    strncpy(victim->name, name, MISSING_NAME_MAX);
    return victim;
}

void missing_table_note(struct missing_table *t, const char *name, const struct sockaddr *from,
                        int64_t now)
{
    char addr[MISSING_ADDR_MAX] = "";
    struct missing_name *e;

    if (t == NULL || name == NULL || name[0] == '\0')
        return;
    if (from == NULL || seen_addr_text(from, addr, sizeof(addr)) != 0)
        addr[0] = '\0';
    pthread_mutex_lock(&t->lock);
    t->requests++;
    e = missing_slot(t, name);
    e->count++;
    e->last_at = now;
    memcpy(e->last_from, addr, sizeof(addr));
    pthread_mutex_unlock(&t->lock);
}

/* Inserts e into top[0..*n) (cap places) in rank order. */
static void missing_insert(struct missing_name *top, size_t cap, size_t *n,
                           const struct missing_name *e)
{
    size_t at = *n;

    while (at > 0 && missing_before(e, &top[at - 1]))
        at--;
    if (at >= cap)
        return;
    if (*n < cap)
        (*n)++;
    memmove(&top[at + 1], &top[at], (*n - 1 - at) * sizeof(*top));
    top[at] = *e;
}

size_t missing_table_top(struct missing_table *t, struct missing_name *top, size_t cap,
                         struct missing_stats *st)
{
    size_t n = 0;

    if (st != NULL)
        memset(st, 0, sizeof(*st));
    if (t == NULL)
        return 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n && top != NULL; i++)
        missing_insert(top, cap, &n, &t->items[i]);
    if (st != NULL) {
        st->requests = t->requests;
        st->evicted = t->evicted;
        st->names = t->n;
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}
