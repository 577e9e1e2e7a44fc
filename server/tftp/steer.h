/* steer.h: which worker takes a new transfer. Light load stays on the first
 * workers (the others sleep, and a worker with many transfers wakes once for
 * many ACKs); the next worker is opened only when those are busy. Also each
 * worker's busy meter: the share of its time spent outside epoll_wait.
 * Pure: never reads the clock, never locks, never touches a worker. */
#ifndef LOADSD_TFTP_STEER_H
#define LOADSD_TFTP_STEER_H

#include <stdint.h>

#define STEER_BUSY_OPEN 500      /* permille: below this a worker takes more */
#define STEER_WINDOW_NS 20000000 /* the meter's window: 20 ms */

/* What the steering sees of one worker. */
struct steer_load {
    unsigned busy;   /* permille, from its meter */
    unsigned active; /* transfers it runs */
};

/* The worker for a new transfer among n (n >= 1): the first whose busy is
 * under STEER_BUSY_OPEN; when all are busy, the least busy (ties: the one
 * with fewer transfers, then the first). */
unsigned steer_pick(const struct steer_load *l, unsigned n);

/* A worker's busy meter, fed with the start and end of every wait. */
struct steer_meter {
    uint64_t window_start; /* ns */
    uint64_t idle;         /* ns waited in this window */
    unsigned busy;         /* permille, smoothed over windows */
};

void steer_meter_init(struct steer_meter *m, uint64_t now_ns);
/* One wait from wait_start to wait_end (ns, monotonic): when the window is
 * over, the busy share of it is blended into m->busy (half old, half new;
 * a window of sleep counts in full). Returns m->busy. */
unsigned steer_meter_wait(struct steer_meter *m, uint64_t wait_start, uint64_t wait_end);

#endif
