/* bench_util.h: small helpers the benchmark programs (tftp_loadgen, phonesim)
 * share: the clock, the descriptor limit, a checked number option, an address as text. */
#ifndef LOADSD_BENCH_UTIL_H
#define LOADSD_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define BENCH_NS_PER_S UINT64_C(1000000000)

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Raises RLIMIT_NOFILE to need descriptors; 0 or a negative errno. */
int bench_raise_nofile(uint64_t need);

/* --name's text as a number in [min, max]; says so on stderr (as prog) when not. */
int bench_args_number(const char *prog, const char *name, const char *text, uint64_t min,
                      uint64_t max, uint64_t *out);

/* "ip:port" or "[ip6]:port". */
void bench_addr_text(const struct sockaddr *sa, char *buf, size_t cap);

#endif
