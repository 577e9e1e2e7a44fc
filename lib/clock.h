/* clock.h: the monotonic clock in the units the daemon counts time in
 * (deadlines, timeouts, durations in logs); never the wall clock. */
#ifndef LOADSD_CLOCK_H
#define LOADSD_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t clock_mono_ms(void);
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t clock_mono_ns(void);

#endif
