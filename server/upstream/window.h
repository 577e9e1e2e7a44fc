/* window.h: the stage window (--stage-window HH:MM-HH:MM): when staged pulls
 * may run, in local time, possibly across midnight. Pure: parse and test. */
#ifndef LOADSD_UPSTREAM_WINDOW_H
#define LOADSD_UPSTREAM_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

#define STAGE_WINDOW_TEXT_MAX 16 /* "HH:MM-HH:MM" and its NUL */
#define STAGE_DAY_S           86400u

struct stage_window {
    bool set;            /* false: any time */
    unsigned start, end; /* minutes after midnight, 0..1439; start != end */
};

/* "HH:MM-HH:MM" (two digits each: hours 00..23, minutes 00..59) into w, or
 * "none" (any time). The window opens at the first minute and closes at
 * the second; when the second is earlier it wraps midnight (22:00-06:00).
 * Equal times (10:00-10:00) are refused: an empty window and a whole day
 * read the same, and "none" already says the latter. 0, or -1 with a
 * reason in err. */
int stage_window_parse(const char *s, struct stage_window *w, char *err, size_t cap);

/* Seconds until w opens, counted from sec (seconds after midnight,
 * 0..86399): 0 when it is open at sec (start inclusive, end exclusive). */
unsigned stage_window_wait(const struct stage_window *w, unsigned sec);

/* "HH:MM-HH:MM", or "any time" when not set. */
const char *stage_window_format(const struct stage_window *w, char *out, size_t cap);

#endif
