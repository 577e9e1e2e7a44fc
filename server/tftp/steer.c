/* steer.c: the choice of worker for a new transfer, and the busy meter it
 * reads; plain arithmetic on numbers the workers publish. */
#include "server/tftp/steer.h"

unsigned steer_pick(const struct steer_load *l, unsigned n)
{
    unsigned best = 0;

    for (unsigned i = 0; i < n; i++)
        if (l[i].busy < STEER_BUSY_OPEN)
            return i;
    for (unsigned i = 1; i < n; i++)
        if (l[i].busy < l[best].busy || (l[i].busy == l[best].busy && l[i].active < l[best].active))
            best = i;
    return best;
}

void steer_meter_init(struct steer_meter *m, uint64_t now_ns)
{
    *m = (struct steer_meter){.window_start = now_ns};
}

unsigned steer_meter_wait(struct steer_meter *m, uint64_t wait_start, uint64_t wait_end)
{
    uint64_t span, busy;

    if (wait_start < m->window_start || wait_end < wait_start)
        return m->busy; /* a clock that went back: nothing to learn */
    m->idle += wait_end - wait_start;
    span = wait_end - m->window_start;
    if (span < STEER_WINDOW_NS)
        return m->busy;
    busy = m->idle >= span ? 0 : (span - m->idle) * 1000 / span;
    /* A long sleep is news in full: the load is gone, not halved. */
    m->busy =
        wait_end - wait_start >= STEER_WINDOW_NS ? (unsigned)busy : (m->busy + (unsigned)busy) / 2;
    m->window_start = wait_end;
    m->idle = 0;
    return m->busy;
}
