/* wanopts.c: parses wanemu's command line into two sides and two directions
 * of link parameters, with a range for every number. Pure: never opens,
 * prints or exits; the caller reports the reason it gets back. */
#include "tests/tools/wanopts.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/numparse.h"

const char wanopts_usage[] =
    "usage: wanemu --a NETNS:IFNAME --b NETNS:IFNAME [options]\n"
    "Forwards IP packets between two TUN devices in two network namespaces,\n"
    "emulating a WAN link each way (a->b is \"down\", b->a is \"up\").\n"
    "  --rate-kbit N      link rate in kbit/s, 0 = unlimited (default 0; max 10000000)\n"
    "  --delay-ms D       one-way delay in ms, decimals allowed (default 0; max 10000)\n"
    "  --queue-bytes N    tail-drop limit on bytes waiting to be serialised (max 268435456)\n"
    "  --queue-packets N  tail-drop limit on packets waiting (max 1000000; default 1000\n"
    "                     when no queue limit is given)\n"
    "  --loss P           random loss as a fraction, 0 to 1 (default 0)\n"
    "  --down-rate-kbit, --up-rate-kbit, --down-delay-ms, --up-delay-ms,\n"
    "  --down-queue-bytes, --up-queue-bytes, --down-queue-packets,\n"
    "  --up-queue-packets, --down-loss, --up-loss\n"
    "                     the same for one direction only (win over the above)\n"
    "  --corrupt-down N, --corrupt-up N\n"
    "                     flip one payload byte of every N-th TCP/UDP packet that\n"
    "                     direction, with valid checksums (default off)\n"
    "  --seed N           seed of the loss generator (default 1)\n"
    "  --stats FILE       JSON counters, written atomically when both TUNs are\n"
    "                     attached, on SIGUSR1, and on SIGTERM/SIGINT before exit\n"
    "  --realtime         run under SCHED_FIFO (priority 10), so that a busy machine\n"
    "                     does not delay packets past their due time\n"
    "  --help             this text\n";

enum kind { K_RATE, K_DELAY, K_QBYTES, K_QPACKETS, K_LOSS, K_CORRUPT, K_COUNT };
enum scope { S_BOTH, S_DOWN, S_UP, S_COUNT };
enum { OPT_A = 1000, OPT_B, OPT_STATS, OPT_SEED, OPT_REALTIME, OPT_HELP, OPT_PARAM = 2000 };

#define PARAM(k, s) (OPT_PARAM + (k)*S_COUNT + (s))

static const struct option long_opts[] = {
    {"a", required_argument, NULL, OPT_A},
    {"b", required_argument, NULL, OPT_B},
    {"stats", required_argument, NULL, OPT_STATS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"realtime", no_argument, NULL, OPT_REALTIME},
    {"help", no_argument, NULL, OPT_HELP},
    {"rate-kbit", required_argument, NULL, PARAM(K_RATE, S_BOTH)},
    {"down-rate-kbit", required_argument, NULL, PARAM(K_RATE, S_DOWN)},
    {"up-rate-kbit", required_argument, NULL, PARAM(K_RATE, S_UP)},
    {"delay-ms", required_argument, NULL, PARAM(K_DELAY, S_BOTH)},
    {"down-delay-ms", required_argument, NULL, PARAM(K_DELAY, S_DOWN)},
    {"up-delay-ms", required_argument, NULL, PARAM(K_DELAY, S_UP)},
    {"queue-bytes", required_argument, NULL, PARAM(K_QBYTES, S_BOTH)},
    {"down-queue-bytes", required_argument, NULL, PARAM(K_QBYTES, S_DOWN)},
    {"up-queue-bytes", required_argument, NULL, PARAM(K_QBYTES, S_UP)},
    {"queue-packets", required_argument, NULL, PARAM(K_QPACKETS, S_BOTH)},
    {"down-queue-packets", required_argument, NULL, PARAM(K_QPACKETS, S_DOWN)},
    {"up-queue-packets", required_argument, NULL, PARAM(K_QPACKETS, S_UP)},
    {"loss", required_argument, NULL, PARAM(K_LOSS, S_BOTH)},
    {"down-loss", required_argument, NULL, PARAM(K_LOSS, S_DOWN)},
    {"up-loss", required_argument, NULL, PARAM(K_LOSS, S_UP)},
    {"corrupt-down", required_argument, NULL, PARAM(K_CORRUPT, S_DOWN)},
    {"corrupt-up", required_argument, NULL, PARAM(K_CORRUPT, S_UP)},
    {NULL, 0, NULL, 0},
};

/* What each kind of value accepts, in the unit its option names. */
struct kind_rule {
    const char *what;
    unsigned frac_digits; /* 0: an integer */
    uint64_t min, max;    /* scaled by 10^frac_digits */
    const char *range;
};

static const struct kind_rule rules[K_COUNT] = {
    [K_RATE] = {"rate-kbit", 0, 0, WANOPTS_RATE_KBIT_MAX, "0 to 10000000"},
    [K_DELAY] = {"delay-ms", 6, 0, WANOPTS_DELAY_NS_MAX, "0 to 10000, at most 6 decimals"},
    [K_QBYTES] = {"queue-bytes", 0, 1, WANOPTS_QUEUE_BYTES_MAX, "1 to 268435456"},
    [K_QPACKETS] = {"queue-packets", 0, 1, WANOPTS_QUEUE_PACKETS_MAX, "1 to 1000000"},
    [K_LOSS] = {"loss", 9, 0, 1000000000ull, "0 to 1, at most 9 decimals"},
    [K_CORRUPT] = {"corrupt", 0, 1, WANOPTS_CORRUPT_MAX, "1 to 1000000000"},
};

struct parsed {
    uint64_t v[K_COUNT][S_COUNT];
    bool set[K_COUNT][S_COUNT];
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int wanopts_decimal(const char *s, unsigned frac_digits, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    unsigned frac = 0, digits = 0;
    bool point = false;

    for (; *s; s++) {
        if (*s == '.' && !point && digits > 0) {
            point = true;
            continue;
        }
        if (*s < '0' || *s > '9' || (point && ++frac > frac_digits) || ++digits > 19)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (digits == 0 || (point && frac == 0))
        return -1;
    for (; frac < frac_digits; frac++) {
        if (v > max / 10)
            return -2;
        v *= 10;
    }
    if (v > max)
        return -2;
    *out = v;
    return 0;
}

static int parse_value(enum kind k, const char *arg, uint64_t *out, char *err, size_t errlen)
{
    const struct kind_rule *r = &rules[k];
    int rc = wanopts_decimal(arg, r->frac_digits, r->max, out);

    if (rc == 0 && *out < r->min)
        rc = -2;
    if (rc == -1)
        return fail(err, errlen, "--%s: not a %s number (%s)", r->what,
                    r->frac_digits ? "decimal" : "whole", r->range);
    if (rc < 0)
        return fail(err, errlen, "--%s: out of range (%s)", r->what, r->range);
    return 0;
}

static bool name_ok(const char *s, size_t len, size_t max, const char *bad)
{
    if (len == 0 || len >= max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || strchr(bad, s[i]))
            return false;
    return !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

/* "NETNS:IFNAME": a namespace name under /var/run/netns and a device name. */
static int parse_side(const char *opt, const char *arg, struct wanopts_side *side, char *err,
                      size_t errlen)
{
    const char *colon = strchr(arg, ':');
    size_t nslen, iflen;

    if (!colon)
        return fail(err, errlen, "--%s: expected NETNS:IFNAME", opt);
    nslen = (size_t)(colon - arg);
    iflen = strlen(colon + 1);
    if (!name_ok(arg, nslen, WANOPTS_NETNS_MAX, "/"))
        return fail(err, errlen, "--%s: bad namespace name (1 to %d printable characters, no '/')",
                    opt, WANOPTS_NETNS_MAX - 1);
    if (!name_ok(colon + 1, iflen, WANOPTS_IFNAME_MAX, "/:"))
        return fail(err, errlen,
                    "--%s: bad interface name (1 to %d printable characters, no '/' or ':')", opt,
                    WANOPTS_IFNAME_MAX - 1);
    memcpy(side->netns, arg, nslen);
    side->netns[nslen] = '\0';
    memcpy(side->ifname, colon + 1, iflen + 1);
    return 0;
}

/* The value for one direction: its own, else the one for both, else def. */
static uint64_t pick(const struct parsed *p, enum kind k, enum scope s, uint64_t def)
{
    if (p->set[k][s])
        return p->v[k][s];
    return p->set[k][S_BOTH] ? p->v[k][S_BOTH] : def;
}

static void resolve(const struct parsed *p, struct wanopts *o)
{
    for (int d = WANOPTS_DOWN; d <= WANOPTS_UP; d++) {
        enum scope s = d == WANOPTS_DOWN ? S_DOWN : S_UP;
        struct wanlink_params *w = &o->dir[d];

        w->rate_bps = pick(p, K_RATE, s, 0) * 1000;
        w->delay_ns = pick(p, K_DELAY, s, 0);
        w->queue_bytes = pick(p, K_QBYTES, s, 0);
        w->queue_packets = pick(p, K_QPACKETS, s, 0);
        if (w->queue_bytes == 0 && w->queue_packets == 0)
            w->queue_packets = WANOPTS_QUEUE_PACKETS_DEFAULT;
        w->loss_ppb = (uint32_t)pick(p, K_LOSS, s, 0);
        w->corrupt_every = pick(p, K_CORRUPT, s, 0);
    }
}

static int parse_one(int c, const char *arg, struct wanopts *o, struct parsed *p, char *err,
                     size_t errlen)
{
    switch (c) {
    case OPT_A:
        return parse_side("a", arg, &o->a, err, errlen);
    case OPT_B:
        return parse_side("b", arg, &o->b, err, errlen);
    case OPT_STATS:
        if (*arg == '\0')
            return fail(err, errlen, "--stats: empty file name");
        o->stats_path = arg;
        return 0;
    case OPT_SEED:
        if (numparse_u64(arg, 0, UINT64_MAX, &o->seed) < 0)
            return fail(err, errlen, "--seed: not a whole number (0 to 18446744073709551615)");
        return 0;
    case OPT_REALTIME:
        o->realtime = true;
        return 0;
    case OPT_HELP:
        o->help = true;
        return 0;
    default:
        break;
    }
    if (c < OPT_PARAM || c >= PARAM(K_COUNT, 0))
        return fail(err, errlen, "unknown option (see --help)");
    c -= OPT_PARAM;
    if (parse_value(c / S_COUNT, arg, &p->v[c / S_COUNT][c % S_COUNT], err, errlen) < 0)
        return -1;
    p->set[c / S_COUNT][c % S_COUNT] = true;
    return 0;
}

int wanopts_parse(int argc, char **argv, struct wanopts *o, char *err, size_t errlen)
{
    struct parsed p;
    int c;

    memset(o, 0, sizeof(*o));
    memset(&p, 0, sizeof(p));
    o->seed = 1;
    optind = 0; /* glibc: a full reset, so the parser can run again */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        if (c == '?' || c == ':')
            return fail(err, errlen, "unknown option or missing value (see --help)");
        if (parse_one(c, optarg, o, &p, err, errlen) < 0)
            return -1;
    }
    if (o->help)
        return 0;
    if (optind < argc)
        return fail(err, errlen, "unexpected argument (see --help)");
    if (!o->a.netns[0] || !o->b.netns[0])
        return fail(err, errlen, "both --a and --b are required (see --help)");
    resolve(&p, o);
    return 0;
}
