/* timers.h: a min-heap of deadlines, one per worker: which transfer's timer
 * fires next. The entry lives inside its owner; the heap only points at it.
 * Never reads the clock, never locks (one thread owns a heap), never frees an entry. */
#ifndef LOADSD_TFTP_TIMERS_H
#define LOADSD_TFTP_TIMERS_H

#include <stddef.h>
#include <stdint.h>

struct timer_entry {
    uint64_t due; /* ms; the key, kept here so a comparison reads no session */
    size_t idx;   /* place in the heap; SIZE_MAX when not in it */
};

struct timer_heap {
    struct timer_entry **v;
    size_t len, cap;
};

void timer_entry_init(struct timer_entry *e);
/* Puts e where deadline due belongs (due 0: takes it out). 0 or -ENOMEM. */
int timer_heap_set(struct timer_heap *h, struct timer_entry *e, uint64_t due);
/* Takes e out; nothing when it is not in. */
void timer_heap_remove(struct timer_heap *h, struct timer_entry *e);
/* The entry due first, or NULL when the heap is empty. */
struct timer_entry *timer_heap_first(const struct timer_heap *h);
void timer_heap_free(struct timer_heap *h);

#endif
