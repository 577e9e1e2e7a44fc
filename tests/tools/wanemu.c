/* wanemu.c: a user-space WAN link between two network namespaces: reads IP
 * packets from a TUN device in each and writes them to the other's through
 * wanlink (rate, delay, queue, loss). One thread, one epoll set, absolute
 * timerfd deadlines; memory is allocated once, at start. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "tests/tools/wanlink.h"
#include "tests/tools/wanopts.h"

#define NETNS_DIR "/var/run/netns/"
/* Packets read from one TUN before the other side and the timers get a turn. */
#define READ_BATCH 64

struct wanemu {
    int tun[2]; /* [0] side a, [1] side b */
    int timer, sig, epoll;
    uint64_t armed_ns; /* the deadline the timer holds; 0: none */
    uint64_t start_ns;
    struct wanlink link[2]; /* [WANOPTS_DOWN] a->b, [WANOPTS_UP] b->a */
    const char *stats_path;
    uint8_t pkt[WANLINK_PKT_MAX];
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The MTU of ifname in the current namespace, or -1. */
static int if_mtu(const char *ifname)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int mtu = -1;

    if (s < 0)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
        mtu = ifr.ifr_mtu;
    close(s);
    return mtu;
}

/* Opens /dev/net/tun in the current namespace and attaches it to ifname. */
static int tun_attach(const char *ifname, int *mtu)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        fprintf(stderr, "wanemu: /dev/net/tun: %s\n", strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "wanemu: TUNSETIFF %s: %s\n", ifname, strerror(errno));
        close(fd);
        return -1;
    }
    *mtu = if_mtu(ifname);
    return fd;
}

/* Enters side's namespace, attaches its TUN, and comes back to home. */
static int side_attach(const struct wanopts_side *side, int home, int *mtu)
{
    char path[sizeof(NETNS_DIR) + WANOPTS_NETNS_MAX];
    int ns, fd = -1;

    snprintf(path, sizeof(path), NETNS_DIR "%s", side->netns);
    ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) {
        fprintf(stderr, "wanemu: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (setns(ns, CLONE_NEWNET) < 0)
        fprintf(stderr, "wanemu: setns %s: %s\n", path, strerror(errno));
    else
        fd = tun_attach(side->ifname, mtu);
    close(ns);
    if (setns(home, CLONE_NEWNET) < 0) {
        fprintf(stderr, "wanemu: setns back: %s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void json_dir(FILE *f, const char *name, const struct wanlink_stats *s)
{
    fprintf(
        f,
        "\"%s\":{\"packets\":%llu,\"bytes\":%llu,\"dropped_queue\":%llu,\"dropped_loss\":%llu,"
        "\"corrupted\":%llu,\"dropped_memory\":%llu,\"write_errors\":%llu,\"late_us_mean\":%.1f,"
        "\"late_us_max\":%.1f}",
        name, (unsigned long long)s->packets, (unsigned long long)s->bytes,
        (unsigned long long)s->dropped_queue, (unsigned long long)s->dropped_loss,
        (unsigned long long)s->corrupted, (unsigned long long)s->dropped_memory,
        (unsigned long long)s->write_errors,
        s->packets ? (double)s->late_ns_sum / (double)s->packets / 1e3 : 0.0,
        (double)s->late_ns_max / 1e3);
}

static double cpu_seconds(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The counters as one JSON object, written to a temporary file beside the
 * target and renamed over it, so a reader sees the old file or the new one. */
static int stats_write(const struct wanemu *w)
{
    char tmp[4096], body[1024];
    FILE *f;
    int fd, rc = -1;

    if (!w->stats_path)
        return 0;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", w->stats_path) >= (int)sizeof(tmp))
        return -1;
    f = fmemopen(body, sizeof(body), "w");
    if (!f)
        return -1;
    fputc('{', f);
    json_dir(f, "down", &w->link[WANOPTS_DOWN].st);
    fputc(',', f);
    json_dir(f, "up", &w->link[WANOPTS_UP].st);
    fprintf(f, ",\"elapsed_s\":%.6f,\"cpu_s\":%.6f}\n", (double)(now_ns() - w->start_ns) / 1e9,
            cpu_seconds());
    fclose(f);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto out;
    rc = fileio_write_all(fd, body, strlen(body));
    if (close(fd) < 0 || rc < 0 || rename(tmp, w->stats_path) < 0)
        rc = -1;
out:
    if (rc < 0)
        fprintf(stderr, "wanemu: cannot write %s: %s\n", w->stats_path, strerror(errno));
    return rc;
}

/* Reads what side's TUN holds (at most READ_BATCH packets) into its link. */
static void side_read(struct wanemu *w, int side)
{
    struct wanlink *l = &w->link[side == 0 ? WANOPTS_DOWN : WANOPTS_UP];

    for (int i = 0; i < READ_BATCH; i++) {
        ssize_t n = read(w->tun[side], w->pkt, sizeof(w->pkt));

        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                fprintf(stderr, "wanemu: read: %s\n", strerror(errno));
            return;
        }
        wanlink_offer(l, now_ns(), w->pkt, (size_t)n);
    }
}

/* Writes every packet due by now to the far side's TUN. */
static void link_deliver(struct wanemu *w, int dir, uint64_t now)
{
    struct wanlink *l = &w->link[dir];
    int fd = w->tun[dir == WANOPTS_DOWN ? 1 : 0];
    const uint8_t *pkt;
    size_t len;

    while (wanlink_peek(l, now, &pkt, &len)) {
        uint64_t late = now - wanlink_next_due(l);

        l->st.late_ns_sum += late;
        if (late > l->st.late_ns_max)
            l->st.late_ns_max = late;
        if (write(fd, pkt, len) == (ssize_t)len) {
            l->st.packets++;
            l->st.bytes += len;
        } else {
            l->st.write_errors++;
        }
        wanlink_pop(l);
    }
}

/* Delivers what is due, then sets the timer to the next packet's arrival. */
static int deliver_and_arm(struct wanemu *w)
{
    uint64_t due, now = now_ns();
    struct itimerspec its;

    link_deliver(w, WANOPTS_DOWN, now);
    link_deliver(w, WANOPTS_UP, now);
    due = wanlink_next_due(&w->link[WANOPTS_DOWN]);
    if (wanlink_next_due(&w->link[WANOPTS_UP]) < due)
        due = wanlink_next_due(&w->link[WANOPTS_UP]);
    if (due == UINT64_MAX)
        due = 0;
    if (due == w->armed_ns)
        return 0;
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = (time_t)(due / 1000000000ull);
    its.it_value.tv_nsec = (long)(due % 1000000000ull);
    if (timerfd_settime(w->timer, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        fprintf(stderr, "wanemu: timerfd_settime: %s\n", strerror(errno));
        return -1;
    }
    w->armed_ns = due;
    return 0;
}

/* A signal: SIGUSR1 writes the stats; SIGTERM and SIGINT end the loop (1). */
static int on_signal(struct wanemu *w)
{
    struct signalfd_siginfo si;

    while (read(w->sig, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            return 1;
        stats_write(w);
    }
    return 0;
}

static int loop_run(struct wanemu *w)
{
    struct epoll_event ev[4];

    for (;;) {
        int n = epoll_wait(w->epoll, ev, 4, -1);

        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "wanemu: epoll_wait: %s\n", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++) {
            int fd = ev[i].data.fd;
            uint64_t ticks;

            if (fd == w->sig && on_signal(w))
                return 0;
            if (fd == w->timer && read(w->timer, &ticks, sizeof(ticks)) > 0)
                w->armed_ns = 0;
            if (fd == w->tun[0] || fd == w->tun[1])
                side_read(w, fd == w->tun[0] ? 0 : 1);
        }
        if (deliver_and_arm(w) < 0)
            return -1;
    }
}

static int watch(struct wanemu *w, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

    return epoll_ctl(w->epoll, EPOLL_CTL_ADD, fd, &ev);
}

/* Signals as events: SIGUSR1 for stats, SIGTERM and SIGINT to stop. */
static int signals_open(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int links_init(struct wanemu *w, const struct wanopts *o, int mtu)
{
    for (int d = WANOPTS_DOWN; d <= WANOPTS_UP; d++) {
        /* Different streams per direction from the one seed. */
        int rc =
            wanlink_init(&w->link[d], &o->dir[d], (unsigned)mtu, o->seed ^ (d ? 0x5bd1e995u : 0));

        if (rc < 0) {
            fprintf(
                stderr,
                "wanemu: the %s link needs more than %llu MiB (lower the queue, rate or delay)%s\n",
                d == WANOPTS_DOWN ? "down" : "up", WANLINK_MEM_MAX >> 20,
                rc == -2 ? ": out of memory" : "");
            return -1;
        }
    }
    return 0;
}

static int wanemu_open(struct wanemu *w, const struct wanopts *o)
{
    int mtu_a = -1, mtu_b = -1, home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

    if (home < 0) {
        fprintf(stderr, "wanemu: /proc/self/ns/net: %s\n", strerror(errno));
        return -1;
    }
    w->tun[0] = side_attach(&o->a, home, &mtu_a);
    w->tun[1] = w->tun[0] < 0 ? -1 : side_attach(&o->b, home, &mtu_b);
    close(home);
    if (w->tun[1] < 0)
        return -1;
    if (links_init(w, o, mtu_a > mtu_b ? mtu_a : mtu_b > 0 ? mtu_b : 1500) < 0)
        return -1;
    w->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    w->sig = signals_open();
    w->epoll = epoll_create1(EPOLL_CLOEXEC);
    if (w->timer < 0 || w->sig < 0 || w->epoll < 0 || watch(w, w->tun[0]) < 0 ||
        watch(w, w->tun[1]) < 0 || watch(w, w->timer) < 0 || watch(w, w->sig) < 0) {
        fprintf(stderr, "wanemu: setting up the event loop: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static void wanemu_close(struct wanemu *w)
{
    int fds[] = {w->tun[0], w->tun[1], w->timer, w->sig, w->epoll};

    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    wanlink_free(&w->link[0]);
    wanlink_free(&w->link[1]);
}

int main(int argc, char **argv)
{
    static struct wanemu w = {.tun = {-1, -1}, .timer = -1, .sig = -1, .epoll = -1};
    struct wanopts o;
    char err[256];
    int rc = 1;

    if (wanopts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "wanemu: %s\n", err);
        return 2;
    }
    if (o.help) {
        fputs(wanopts_usage, stdout);
        return 0;
    }
    /* Timers fire within a microsecond, not the default 50 us slack. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    if (o.realtime &&
        sched_setscheduler(0, SCHED_FIFO,
                           &(struct sched_param){.sched_priority = WANOPTS_RT_PRIORITY}) < 0) {
        fprintf(stderr, "wanemu: --realtime: sched_setscheduler: %s\n", strerror(errno));
        goto out;
    }
    w.stats_path = o.stats_path;
    if (wanemu_open(&w, &o) < 0)
        goto out;
    w.start_ns = now_ns();
    if (stats_write(&w) < 0 || loop_run(&w) < 0)
        goto out;
    rc = stats_write(&w) < 0 ? 1 : 0;
out:
    wanemu_close(&w);
    return rc;
}
