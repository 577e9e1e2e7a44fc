/* window.c: the stage window's text form and the "how long until it opens"
 * rule staged pulls wait on. No clock here: the caller gives the time. */
#include "server/upstream/window.h"

#include <stdio.h>
#include <string.h>

/* "HH:MM" at s (exactly five bytes) into minutes after midnight; -1 if not. */
static int clock_parse(const char *s)
{
    unsigned h, m;

    for (int i = 0; i < 5; i++)
        if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
            return -1;
    h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    return (int)(h * 60 + m);
}

int stage_window_parse(const char *s, struct stage_window *w, char *err, size_t cap)
{
    int a, b;

    memset(w, 0, sizeof(*w));
    if (s == NULL || strcmp(s, "none") == 0)
        return 0;
    if (strlen(s) != 11 || s[5] != '-') {
        snprintf(err, cap, "not HH:MM-HH:MM (two digits each, e.g. 22:00-06:00), or none");
        return -1;
    }
    a = clock_parse(s);
    b = clock_parse(s + 6);
    if (a < 0 || b < 0) {
        snprintf(err, cap, "a time is not HH:MM between 00:00 and 23:59");
        return -1;
    }
    if (a == b) {
        snprintf(err, cap,
                 "the window opens and closes at the same minute; for any time, "
                 "leave it out or say none");
        return -1;
    }
    w->set = true;
    w->start = (unsigned)a;
    w->end = (unsigned)b;
    return 0;
}

unsigned stage_window_wait(const struct stage_window *w, unsigned sec)
{
    unsigned start = w->start * 60, end = w->end * 60;
    bool open;

    if (!w->set)
        return 0;
    sec %= STAGE_DAY_S;
    open = start < end ? sec >= start && sec < end : sec >= start || sec < end;
    if (open)
        return 0;
    return start > sec ? start - sec : STAGE_DAY_S - sec + start;
}

const char *stage_window_format(const struct stage_window *w, char *out, size_t cap)
{
    if (!w->set)
        snprintf(out, cap, "any time");
    else
        snprintf(out, cap, "%02u:%02u-%02u:%02u", w->start / 60, w->start % 60, w->end / 60,
                 w->end % 60);
    return out;
}
