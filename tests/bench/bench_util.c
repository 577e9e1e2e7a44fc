/* bench_util.c: helpers shared by the benchmark programs: the clock, the
 * descriptor limit, number options, addresses as text. No state of their own. */
#include "tests/bench/bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "lib/numparse.h"

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * BENCH_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Each transfer holds one socket: make room for all of them at once. */
int bench_raise_nofile(uint64_t need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    if (rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max < need)
        rl.rlim_max = need; /* only root may raise the hard limit */
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    return 0;
}

int bench_args_number(const char *prog, const char *name, const char *text, uint64_t min,
                      uint64_t max, uint64_t *out)
{
    if (numparse_u64(text, min, max, out) == 0)
        return 0;
    fprintf(stderr, "%s: --%s wants a number from %llu to %llu\n", prog, name,
            (unsigned long long)min, (unsigned long long)max);
    return -1;
}

void bench_addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, cap, "[%s]:%u", ip, (unsigned)ntohs(s6->sin6_port));
        return;
    }
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
    snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(((const struct sockaddr_in *)sa)->sin_port));
}
