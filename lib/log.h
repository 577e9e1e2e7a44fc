/* log.h: leveled logging to stderr (journald-friendly) with sanitised fields.
 * Never logs an untrusted string raw: pass it through log_clean() first. */
#ifndef LOADSD_LOG_H
#define LOADSD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Longest cleaned string log_clean() produces, NUL included. */
#define LOG_CLEAN_MAX 256

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn" or "error"; 0 on success, -1 otherwise. */
int log_parse_level(const char *name, enum log_level *out);

/* Sends every line to syslog(3) from now on (a detached daemon has no stderr). */
void log_use_syslog(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

/* Copies at most len bytes of untrusted input into out (cap bytes), escaping
 * every byte outside printable ASCII, backslash and double quote as \xNN;
 * stops at NUL; ends with "..." when truncated. Returns out. */
char *log_clean(const char *in, size_t len, char *out, size_t cap);

/* A line budget for events a flood can repeat thousands of times a second:
 * at most burst lines per window, the rest counted for one summary line when
 * the window ends. Pure (time passed in); the caller serialises access. */
struct log_ratelimit {
    uint64_t window_ms;
    unsigned burst;
    uint64_t start_ms; /* when the current window opened; 0 = none yet */
    unsigned shown;    /* lines given in this window */
    uint64_t hidden;   /* events without a line in this window */
};

void log_ratelimit_init(struct log_ratelimit *r, uint64_t window_ms, unsigned burst);
/* Closes the window once it is over: returns how many events it hid (the
 * caller logs them as one summary line when not 0), and how long it ran. */
uint64_t log_ratelimit_roll(struct log_ratelimit *r, uint64_t now_ms, uint64_t *span_ms);
/* One event now (call log_ratelimit_roll first): true when it gets its own line. */
bool log_ratelimit_take(struct log_ratelimit *r, uint64_t now_ms);
/* When the window with hidden events ends, so its summary is due; 0 = none. */
uint64_t log_ratelimit_due(const struct log_ratelimit *r);

#endif
