/* timers.c: the per-worker timer heap: a binary min-heap on each entry's
 * deadline, each entry knowing its place so it can move or leave in O(log n). */
#include "server/tftp/timers.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/grow.h"

void timer_entry_init(struct timer_entry *e)
{
    e->due = 0;
    e->idx = SIZE_MAX;
}

static void heap_swap(struct timer_heap *h, size_t a, size_t b)
{
    struct timer_entry *e = h->v[a];

    h->v[a] = h->v[b];
    h->v[b] = e;
    h->v[a]->idx = a;
    h->v[b]->idx = b;
}

static void heap_sift(struct timer_heap *h, size_t i)
{
    while (i > 0 && h->v[i]->due < h->v[(i - 1) / 2]->due) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < h->len && h->v[l]->due < h->v[m]->due)
            m = l;
        if (r < h->len && h->v[r]->due < h->v[m]->due)
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

void timer_heap_remove(struct timer_heap *h, struct timer_entry *e)
{
    size_t i = e->idx;

    if (i == SIZE_MAX)
        return;
    e->idx = SIZE_MAX;
    if (--h->len == i)
        return;
    h->v[i] = h->v[h->len];
    h->v[i]->idx = i;
    heap_sift(h, i);
}

int timer_heap_set(struct timer_heap *h, struct timer_entry *e, uint64_t due)
{
    if (due == 0) {
        timer_heap_remove(h, e);
        e->due = 0;
        return 0;
    }
    if (e->idx == SIZE_MAX) {
        if (grow_array((void **)&h->v, &h->cap, h->len + 1, sizeof(*h->v), 64))
            return -ENOMEM;
        e->idx = h->len;
        h->v[h->len++] = e;
    }
    e->due = due;
    heap_sift(h, e->idx);
    return 0;
}

struct timer_entry *timer_heap_first(const struct timer_heap *h)
{
    return h->len > 0 ? h->v[0] : NULL;
}

void timer_heap_free(struct timer_heap *h)
{
    free(h->v);
    h->v = NULL;
    h->len = h->cap = 0;
}
