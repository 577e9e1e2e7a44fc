/* clock.c: the monotonic clock in milliseconds and nanoseconds, one place
 * for the conversion every timer and duration uses. */
#include "lib/clock.h"

#include <time.h>

int64_t clock_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_mono_ms(void)
{
    return clock_mono_ns() / 1000000;
}
