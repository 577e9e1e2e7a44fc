/* noise.c: rate-limits the log lines a flood of requests would repeat, and
 * writes the summary of what it held back when its window closes. */
#include "server/tftp/noise.h"

void noise_init(struct noise *n, struct admission *totals)
{
    pthread_mutex_init(&n->lock, NULL);
    log_ratelimit_init(&n->limit, NOISE_WINDOW_MS, NOISE_BURST);
    atomic_store(&n->due, 0);
    n->totals = totals;
}

void noise_fini(struct noise *n)
{
    pthread_mutex_destroy(&n->lock);
}

/* The summary of what the rate limit kept out of the log: how many in the
 * window that just closed, and the totals since start by kind. */
static void noise_summary(struct noise *n, uint64_t hidden, uint64_t span_ms)
{
    struct admission_stats st;

    admission_get_stats(n->totals, &st);
    log_info("flood guard: %llu refusals and unanswered transfers in the last %llu s had no line "
             "of their own; since start: refused %llu at max-unacked-per-prefix, %llu at "
             "max-unacked, %llu at max-transfers-per-client, %llu at max-transfers; %llu "
             "transfers never answered, %llu of them ended early to make room",
             (unsigned long long)hidden, (unsigned long long)(span_ms / 1000),
             (unsigned long long)st.refused[ADMISSION_REFUSED_UNACKED_PREFIX],
             (unsigned long long)st.refused[ADMISSION_REFUSED_UNACKED],
             (unsigned long long)st.refused[ADMISSION_REFUSED_CLIENT],
             (unsigned long long)st.refused[ADMISSION_REFUSED_TRANSFERS],
             (unsigned long long)st.expired, (unsigned long long)st.evicted);
}

/* Closes the limiter's window when it is over (logging its summary); with
 * take, also counts one event. Returns whether that event gets a line. */
static bool noise_step(struct noise *n, uint64_t now, bool take)
{
    uint64_t hidden, span;
    bool show = false;

    pthread_mutex_lock(&n->lock);
    hidden = log_ratelimit_roll(&n->limit, now, &span);
    if (take)
        show = log_ratelimit_take(&n->limit, now);
    atomic_store(&n->due, log_ratelimit_due(&n->limit));
    pthread_mutex_unlock(&n->lock);
    if (hidden > 0)
        noise_summary(n, hidden, span);
    return show;
}

bool noise_line_ok(struct noise *n, uint64_t now_ms)
{
    return noise_step(n, now_ms, true);
}

void noise_tick(struct noise *n, uint64_t now_ms)
{
    uint64_t due = atomic_load(&n->due);

    if (due != 0 && now_ms >= due)
        noise_step(n, now_ms, false);
}

uint64_t noise_due(struct noise *n)
{
    return atomic_load(&n->due);
}
