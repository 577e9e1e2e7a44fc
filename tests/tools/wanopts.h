/* wanopts.h: wanemu's command line: which namespaces and TUN devices to join,
 * and each direction's link parameters, range-checked. Pure (no I/O). */
#ifndef LOADSD_WANOPTS_H
#define LOADSD_WANOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/tools/wanlink.h"

#define WANOPTS_NETNS_MAX         64             /* a name under /var/run/netns, NUL included */
#define WANOPTS_IFNAME_MAX        16             /* IFNAMSIZ */
#define WANOPTS_RATE_KBIT_MAX     10000000ull    /* 10 Gbit/s */
#define WANOPTS_DELAY_NS_MAX      10000000000ull /* 10 s */
#define WANOPTS_QUEUE_BYTES_MAX   (256ull << 20)
#define WANOPTS_QUEUE_PACKETS_MAX 1000000ull
#define WANOPTS_CORRUPT_MAX       1000000000ull
/* Linux's default txqueuelen, when no queue limit is given. */
#define WANOPTS_QUEUE_PACKETS_DEFAULT 1000
/* The SCHED_FIFO priority --realtime asks for: above every normal task, low
 * among real-time ones. */
#define WANOPTS_RT_PRIORITY 10

enum { WANOPTS_DOWN, WANOPTS_UP }; /* a->b is down (central to branch) */

struct wanopts_side {
    char netns[WANOPTS_NETNS_MAX];
    char ifname[WANOPTS_IFNAME_MAX];
};

struct wanopts {
    struct wanopts_side a, b;
    const char *stats_path; /* NULL: none */
    uint64_t seed;
    struct wanlink_params dir[2];
    bool realtime; /* run under SCHED_FIFO */
    bool help;
};

/* Parses argv (getopt_long; resets optind) into o. Options without a
 * direction set both; --down-* and --up-* win over them in any order.
 * 0, or -1 with a one-line reason in err (a usage error). */
int wanopts_parse(int argc, char **argv, struct wanopts *o, char *err, size_t errlen);

/* A decimal number with at most frac_digits digits after an optional point,
 * scaled by 10^frac_digits ("0.5" with 6 digits is 500000), at most max.
 * 0, -1 malformed (also too many decimals), -2 out of range. */
int wanopts_decimal(const char *s, unsigned frac_digits, uint64_t max, uint64_t *out);

/* The usage text. */
extern const char wanopts_usage[];

#endif
