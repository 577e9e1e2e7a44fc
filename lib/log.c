/* log.c: leveled logging to stderr, one write(2) per line so threads never
 * interleave, plus log_clean() for untrusted text. Never allocates, never
 * blocks on a lock, never logs a line longer than LOG_LINE_MAX. */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"

#define LOG_LINE_MAX 1024 /* one line, newline included */
#define LOG_ELLIPSIS "..."

static atomic_int log_threshold = LOG_LEVEL_INFO;
static atomic_bool log_syslog;

static const struct {
    const char *word;
    const char *priority; /* syslog priority for journald, RFC 5424 numbers */
    int syslog_priority;
} log_levels[] = {
    [LOG_LEVEL_DEBUG] = {"debug", "<7>", LOG_DEBUG},
    [LOG_LEVEL_INFO] = {"info", "<6>", LOG_INFO},
    [LOG_LEVEL_WARN] = {"warn", "<4>", LOG_WARNING},
    [LOG_LEVEL_ERROR] = {"error", "<3>", LOG_ERR},
};

#define LOG_LEVEL_COUNT (sizeof(log_levels) / sizeof(log_levels[0]))

void log_set_level(enum log_level level)
{
    if ((unsigned)level < LOG_LEVEL_COUNT)
        atomic_store_explicit(&log_threshold, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

int log_parse_level(const char *name, enum log_level *out)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < LOG_LEVEL_COUNT; i++) {
        if (strcmp(name, log_levels[i].word) == 0) {
            if (out != NULL)
                *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_use_syslog(void)
{
    openlog("loadsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    atomic_store(&log_syslog, true);
}

/* Writes the line prefix into buf; returns its length. */
static size_t log_format_prefix(char *buf, size_t cap, enum log_level level)
{
    struct timespec now;
    struct tm tm;
    int n;

    if (atomic_load_explicit(&log_syslog, memory_order_relaxed))
        return 0; /* syslog stamps and ranks the line itself */

    /* Under systemd, journald stamps the line itself and reads the priority. */
    if (getenv("JOURNAL_STREAM") != NULL) {
        n = snprintf(buf, cap, "%s", log_levels[level].priority);
        return n < 0 ? 0 : (size_t)n;
    }
    if (clock_gettime(CLOCK_REALTIME, &now) != 0 || gmtime_r(&now.tv_sec, &tm) == NULL) {
        memset(&tm, 0, sizeof(tm));
        now.tv_nsec = 0;
    }
    n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 now.tv_nsec / 1000000L, log_levels[level].word);
    return n < 0 ? 0 : (size_t)n;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    size_t room = sizeof(line) - 1; /* keep one byte for the newline */
    size_t len;
    int saved_errno = errno;
    va_list ap;
    int n;

    if ((unsigned)level >= LOG_LEVEL_COUNT || (int)level < (int)log_get_level())
        return;
    len = log_format_prefix(line, room, level);
    if (len >= room)
        len = room - 1;
    va_start(ap, fmt);
    n = vsnprintf(line + len, room - len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n >= room - len) {
        len = room;
        memcpy(line + len - strlen(LOG_ELLIPSIS), LOG_ELLIPSIS, strlen(LOG_ELLIPSIS));
    } else if (n > 0) {
        len += (size_t)n;
    }
    line[len] = '\0';
    if (atomic_load_explicit(&log_syslog, memory_order_relaxed)) {
        syslog(log_levels[level].syslog_priority, "%s", line);
    } else {
        line[len++] = '\n';
        (void)fileio_write_all(STDERR_FILENO, line, len); /* nowhere to report a failure */
    }
    errno = saved_errno;
}

/* Bytes a log_clean() output needs for c: 1, or 4 for "\xNN". */
static size_t log_clean_width(unsigned char c)
{
    return (c < 0x20 || c > 0x7e || c == '\\' || c == '"') ? 4 : 1;
}

static void log_clean_put(unsigned char c, char *dst)
{
    static const char hex[] = "0123456789abcdef";

    if (log_clean_width(c) == 1) {
        dst[0] = (char)c;
        return;
    }
    dst[0] = '\\';
    dst[1] = 'x';
    dst[2] = hex[c >> 4];
    dst[3] = hex[c & 0x0f];
}

/* Ends a truncated output: "..." at the last escape boundary it fits after. */
static void log_clean_truncate(char *out, size_t cap, size_t keep)
{
    size_t dots = strlen(LOG_ELLIPSIS);

    if (cap - 1 < dots) { /* too small even for "...": as many dots as fit */
        dots = cap - 1;
        keep = 0;
    }
    memcpy(out + keep, LOG_ELLIPSIS, dots);
    out[keep + dots] = '\0';
}

char *log_clean(const char *in, size_t len, char *out, size_t cap)
{
    size_t pos = 0;  /* bytes written to out */
    size_t keep = 0; /* a boundary after which "..." and the NUL still fit */
    size_t i;

    if (out == NULL || cap == 0)
        return out;
    if (cap > LOG_CLEAN_MAX)
        cap = LOG_CLEAN_MAX;
    for (i = 0; in != NULL && i < len && in[i] != '\0'; i++) {
        unsigned char c = (unsigned char)in[i];
        size_t width = log_clean_width(c);

        if (pos + width > cap - 1) {
            log_clean_truncate(out, cap, keep);
            return out;
        }
        log_clean_put(c, out + pos);
        pos += width;
        if (pos + strlen(LOG_ELLIPSIS) <= cap - 1)
            keep = pos;
    }
    out[pos] = '\0';
    return out;
}

void log_ratelimit_init(struct log_ratelimit *r, uint64_t window_ms, unsigned burst)
{
    memset(r, 0, sizeof(*r));
    r->window_ms = window_ms;
    r->burst = burst;
}

uint64_t log_ratelimit_roll(struct log_ratelimit *r, uint64_t now_ms, uint64_t *span_ms)
{
    uint64_t hidden = r->hidden;

    *span_ms = 0;
    if (r->start_ms == 0 || now_ms < r->start_ms + r->window_ms)
        return 0;
    *span_ms = now_ms - r->start_ms;
    r->start_ms = 0;
    r->shown = 0;
    r->hidden = 0;
    return hidden;
}

bool log_ratelimit_take(struct log_ratelimit *r, uint64_t now_ms)
{
    if (r->start_ms == 0)
        r->start_ms = now_ms > 0 ? now_ms : 1;
    if (r->shown < r->burst) {
        r->shown++;
        return true;
    }
    r->hidden++;
    return false;
}

uint64_t log_ratelimit_due(const struct log_ratelimit *r)
{
    return r->hidden > 0 ? r->start_ms + r->window_ms : 0;
}
