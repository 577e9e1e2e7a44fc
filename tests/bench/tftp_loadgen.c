/* tftp_loadgen.c: a TFTP read-client load generator on loadsd's own codec
 * (RFC 1350/2347/2348/7440): one thread, one epoll set, thousands of transfers.
 * A benchmark tool: it keeps no received data and sends only to --server. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/log.h"
#include "lib/numparse.h"
#include "server/tftp/tftp_packet.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/tftp_client.h"

#define LOADGEN_TIMEOUT_MS_DEFAULT  1000
#define LOADGEN_RETRIES_DEFAULT     5
#define LOADGEN_MAX_SECONDS_DEFAULT 600
#define LOADGEN_COUNT_MAX           10000000
#define LOADGEN_CONCURRENCY_MAX     60000
#define LOADGEN_EVENTS_MAX          256 /* epoll events per wait */
#define LOADGEN_TICK_MS_MAX         20  /* timer scan interval cap */
#define LOADGEN_FD_SPARE            32  /* descriptors besides the transfers */
#define LOADGEN_ERR_MAX             TFTPC_WHY_MAX
#define LOADGEN_SHA256_LEN          32
#define LOADGEN_NS_PER_MS           UINT64_C(1000000)
#define LOADGEN_NS_PER_S            UINT64_C(1000000000)

/* Exit codes: every transfer verified, some failed, bad usage or setup. */
enum { LOADGEN_EXIT_OK = 0, LOADGEN_EXIT_FAILED = 1, LOADGEN_EXIT_USAGE = 2 };

struct loadgen_args {
    struct sockaddr_storage server;
    socklen_t server_len;
    const char *server_text;
    const char *file;
    uint64_t count;
    uint64_t concurrency;
    struct tftpc_params tp; /* blksize, windowsize, tsize, timeout_ms, retries */
    bool json;
    bool sha256;
    const char *expect_sha256;
    bool expect_size_set;
    uint64_t expect_size;
    uint64_t max_seconds;
};

struct xfer {
    struct tftpc c; /* c.state == TFTPC_IDLE: slot free */
    uint64_t id;    /* 0 .. count-1, in start order */
    uint64_t start_ns;
    EVP_MD_CTX *md; /* transfer 0 only, when a digest is wanted */
};

struct loadgen {
    struct loadgen_args a;
    int epfd;
    struct xfer *slots;
    uint64_t next_id;
    uint64_t active;
    uint64_t ok;
    uint64_t failed;
    uint64_t bytes_ok;
    uint64_t *lat_ns;
    uint64_t lat_n;
    uint64_t start_ns;
    uint64_t end_ns;
    uint8_t req[TFTP_REQUEST_MAX];
    size_t req_len;
    struct tftpc_shared sh; /* the receive batch, timeouts and out-of-order counts */
    uint32_t neg_blksize;   /* as negotiated by the first transfer that got so far */
    uint32_t neg_windowsize;
    bool neg_known;
    char first_error[LOADGEN_ERR_MAX];
    unsigned char digest[LOADGEN_SHA256_LEN];
    bool digest_done;
};

static void usage_print(FILE *f)
{
    fprintf(f, "usage: tftp_loadgen --server ADDR:PORT --file NAME --count N --concurrency C\n"
               "                    [--blksize B] [--windowsize W] [--tsize] [--timeout-ms T]\n"
               "                    [--retries R] [--max-seconds S] [--expect-size BYTES]\n"
               "                    [--sha256] [--expect-sha256 HEX] [--json]\n"
               "ADDR is IPv4 (127.0.0.1:69) or bracketed IPv6 ([::1]:69).\n");
}

/* ---------- argument parsing ---------- */

enum {
    OPT_SERVER = 1,
    OPT_FILE,
    OPT_COUNT,
    OPT_CONCURRENCY,
    OPT_BLKSIZE,
    OPT_WINDOWSIZE,
    OPT_TSIZE,
    OPT_TIMEOUT_MS,
    OPT_RETRIES,
    OPT_MAX_SECONDS,
    OPT_EXPECT_SIZE,
    OPT_SHA256,
    OPT_EXPECT_SHA256,
    OPT_JSON,
    OPT_HELP,
};

static const struct option args_longopts[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"file", required_argument, NULL, OPT_FILE},
    {"count", required_argument, NULL, OPT_COUNT},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"blksize", required_argument, NULL, OPT_BLKSIZE},
    {"windowsize", required_argument, NULL, OPT_WINDOWSIZE},
    {"tsize", no_argument, NULL, OPT_TSIZE},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"max-seconds", required_argument, NULL, OPT_MAX_SECONDS},
    {"expect-size", required_argument, NULL, OPT_EXPECT_SIZE},
    {"sha256", no_argument, NULL, OPT_SHA256},
    {"expect-sha256", required_argument, NULL, OPT_EXPECT_SHA256},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int args_apply_number(int opt, const char *arg, struct loadgen_args *a)
{
    uint64_t v = 0;
    int rc = -1;

    switch (opt) {
    case OPT_COUNT:
        rc = bench_args_number("tftp_loadgen", "count", arg, 1, LOADGEN_COUNT_MAX, &a->count);
        break;
    case OPT_CONCURRENCY:
        rc = bench_args_number("tftp_loadgen", "concurrency", arg, 1, LOADGEN_CONCURRENCY_MAX,
                               &a->concurrency);
        break;
    case OPT_BLKSIZE:
        rc = bench_args_number("tftp_loadgen", "blksize", arg, TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX,
                               &v);
        a->tp.blksize = (uint32_t)v;
        break;
    case OPT_WINDOWSIZE:
        rc = bench_args_number("tftp_loadgen", "windowsize", arg, TFTP_WINDOW_MIN, TFTP_WINDOW_MAX,
                               &v);
        a->tp.windowsize = (uint32_t)v;
        break;
    case OPT_TIMEOUT_MS:
        rc = bench_args_number("tftp_loadgen", "timeout-ms", arg, 1, 600000, &a->tp.timeout_ms);
        break;
    case OPT_RETRIES:
        rc = bench_args_number("tftp_loadgen", "retries", arg, 0, 1000, &a->tp.retries);
        break;
    case OPT_MAX_SECONDS:
        rc = bench_args_number("tftp_loadgen", "max-seconds", arg, 1, 86400, &a->max_seconds);
        break;
    case OPT_EXPECT_SIZE:
        rc = bench_args_number("tftp_loadgen", "expect-size", arg, 0, TFTP_TSIZE_MAX,
                               &a->expect_size);
        a->expect_size_set = true;
        break;
    default:
        break;
    }
    return rc;
}

static int args_apply(int opt, const char *arg, struct loadgen_args *a)
{
    switch (opt) {
    case OPT_SERVER:
        a->server_text = arg;
        if (tftpc_parse_addr(arg, &a->server, &a->server_len) != 0) {
            fprintf(stderr, "tftp_loadgen: bad --server %s\n", arg);
            return -1;
        }
        return 0;
    case OPT_FILE:
        a->file = arg;
        return 0;
    case OPT_TSIZE:
        a->tp.tsize = true;
        return 0;
    case OPT_SHA256:
        a->sha256 = true;
        return 0;
    case OPT_EXPECT_SHA256:
        a->expect_sha256 = arg;
        a->sha256 = true;
        return 0;
    case OPT_JSON:
        a->json = true;
        return 0;
    default:
        return args_apply_number(opt, arg, a);
    }
}

static int args_check(struct loadgen_args *a)
{
    if (a->server_len == 0 || a->file == NULL || a->count == 0 || a->concurrency == 0) {
        fprintf(stderr, "tftp_loadgen: --server, --file, --count and --concurrency are required\n");
        return -1;
    }
    if (a->expect_sha256 != NULL && strlen(a->expect_sha256) != 2 * LOADGEN_SHA256_LEN) {
        fprintf(stderr, "tftp_loadgen: --expect-sha256 wants 64 hex digits\n");
        return -1;
    }
    if (a->concurrency > a->count)
        a->concurrency = a->count;
    return 0;
}

/* 0, 1 for --help, or -1 for a usage error. */
static int args_parse(int argc, char **argv, struct loadgen_args *a)
{
    int opt;

    memset(a, 0, sizeof(*a));
    a->tp.timeout_ms = LOADGEN_TIMEOUT_MS_DEFAULT;
    a->tp.retries = LOADGEN_RETRIES_DEFAULT;
    a->max_seconds = LOADGEN_MAX_SECONDS_DEFAULT;
    while ((opt = getopt_long(argc, argv, "", args_longopts, NULL)) != -1) {
        if (opt == OPT_HELP)
            return 1;
        if (opt == '?' || args_apply(opt, optarg, a) != 0)
            return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "tftp_loadgen: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    return args_check(a);
}

/* ---------- setup ---------- */

static int loadgen_build_request(struct loadgen *lg)
{
    int n = tftpc_build_request(lg->req, sizeof(lg->req), lg->a.file, &lg->a.tp);

    if (n < 0)
        return n;
    lg->req_len = (size_t)n;
    return 0;
}

static int loadgen_init(struct loadgen *lg)
{
    int rc = -ENOMEM;

    lg->epfd = -1;
    lg->slots = calloc(lg->a.concurrency, sizeof(*lg->slots));
    lg->lat_ns = calloc(lg->a.count, sizeof(*lg->lat_ns));
    if (lg->slots == NULL || lg->lat_ns == NULL)
        goto out;
    for (uint64_t i = 0; i < lg->a.concurrency; i++)
        lg->slots[i].c.fd = -1;
    rc = tftpc_shared_init(&lg->sh, lg->a.tp.blksize);
    if (rc == 0)
        rc = loadgen_build_request(lg);
    if (rc == 0)
        rc = bench_raise_nofile(lg->a.concurrency + LOADGEN_FD_SPARE);
    if (rc != 0)
        goto out;
    lg->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (lg->epfd < 0)
        rc = -errno;
out:
    return rc;
}

static void loadgen_free(struct loadgen *lg)
{
    if (lg->epfd >= 0)
        close(lg->epfd);
    if (lg->slots != NULL)
        for (uint64_t i = 0; i < lg->a.concurrency; i++) {
            tftpc_close(&lg->slots[i].c);
            EVP_MD_CTX_free(lg->slots[i].md);
        }
    free(lg->slots);
    free(lg->lat_ns);
    tftpc_shared_free(&lg->sh);
}

/* ---------- one transfer ---------- */

static void xfer_note_error(struct loadgen *lg, const struct xfer *x, const char *what)
{
    if (lg->first_error[0] != '\0')
        return;
    snprintf(lg->first_error, sizeof(lg->first_error), "transfer %llu: %s",
             (unsigned long long)x->id, what);
}

static int xfer_check_digest(struct loadgen *lg, struct xfer *x)
{
    char hex[2 * LOADGEN_SHA256_LEN + 1];
    unsigned int len = 0;

    if (x->md == NULL)
        return 0;
    if (EVP_DigestFinal_ex(x->md, lg->digest, &len) != 1 || len != LOADGEN_SHA256_LEN)
        return -1;
    lg->digest_done = true;
    if (lg->a.expect_sha256 == NULL)
        return 0;
    for (unsigned i = 0; i < LOADGEN_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", lg->digest[i]);
    return strcasecmp(hex, lg->a.expect_sha256) == 0 ? 0 : -1;
}

/* The checks a finished transfer must pass; NULL when it passes. */
static const char *xfer_verify(struct loadgen *lg, struct xfer *x)
{
    const char *why;

    if (lg->a.expect_size_set && x->c.bytes != lg->a.expect_size)
        return "size differs from --expect-size";
    why = tftpc_check_tsize(&x->c);
    if (why != NULL)
        return why;
    if (xfer_check_digest(lg, x) != 0)
        return "SHA-256 differs from --expect-sha256";
    return NULL;
}

static void xfer_close(struct loadgen *lg, struct xfer *x)
{
    tftpc_close(&x->c);
    EVP_MD_CTX_free(x->md);
    x->md = NULL;
    lg->active--;
}

/* Ends a transfer: why == NULL means it received everything. */
static void xfer_end(struct loadgen *lg, struct xfer *x, const char *why)
{
    uint64_t now = bench_now_ns();

    if (why == NULL)
        why = xfer_verify(lg, x);
    if (why == NULL) {
        lg->ok++;
        lg->bytes_ok += x->c.bytes;
        lg->lat_ns[lg->lat_n++] = now - x->start_ns;
    } else {
        lg->failed++;
        xfer_note_error(lg, x, why);
    }
    lg->end_ns = now;
    xfer_close(lg, x);
}

static int xfer_digest_sink(void *arg, const uint8_t *data, size_t len)
{
    return EVP_DigestUpdate((EVP_MD_CTX *)arg, data, len) == 1 ? 0 : -1;
}

static int xfer_start(struct loadgen *lg, struct xfer *x, uint32_t slot, uint64_t id)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = slot};
    int fd, rc = 0;

    memset(x, 0, sizeof(*x));
    x->c.fd = -1;
    x->id = id;
    x->start_ns = bench_now_ns();
    lg->active++;
    if (id == 0 && lg->a.sha256) {
        x->md = EVP_MD_CTX_new();
        if (x->md == NULL || EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1)
            return -ENOMEM;
        x->c.sink = xfer_digest_sink;
        x->c.sink_arg = x->md;
    }
    fd = tftpc_socket(lg->a.server.ss_family, NULL, 0, &lg->a.tp, &lg->sh);
    if (fd < 0)
        return fd;
    if (epoll_ctl(lg->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        rc = -errno;
    if (rc == 0)
        rc = tftpc_start(&x->c, fd, &lg->a.tp, (const struct sockaddr *)&lg->a.server,
                         lg->a.server_len, lg->req, lg->req_len, x->start_ns);
    x->c.fd = fd; /* closed by xfer_end on failure too */
    return rc;
}

/* Starts the next transfers in a free slot until one is under way. */
static void loadgen_fill_slot(struct loadgen *lg, uint32_t slot)
{
    struct xfer *x = &lg->slots[slot];

    while (lg->next_id < lg->a.count) {
        uint64_t id = lg->next_id++;
        int rc = xfer_start(lg, x, slot, id);

        if (rc == 0)
            return;
        xfer_end(lg, x, strerror(-rc));
    }
}

static void loadgen_note_negotiated(struct loadgen *lg, const struct xfer *x)
{
    if (lg->neg_known || x->c.state != TFTPC_RECEIVING)
        return;
    lg->neg_known = true;
    lg->neg_blksize = x->c.blksize;
    lg->neg_windowsize = x->c.windowsize;
}

/* Ends the slot's transfer when a step finished it, and starts the next. */
static void xfer_after_step(struct loadgen *lg, uint32_t slot, enum tftpc_step st, const char *why)
{
    struct xfer *x = &lg->slots[slot];

    loadgen_note_negotiated(lg, x);
    if (st == TFTPC_GOING)
        return;
    xfer_end(lg, x, st == TFTPC_DONE ? NULL : why);
    loadgen_fill_slot(lg, slot);
}

static void xfer_on_readable(struct loadgen *lg, uint32_t slot)
{
    struct xfer *x = &lg->slots[slot];
    char why[LOADGEN_ERR_MAX];
    enum tftpc_step st;

    if (x->c.state == TFTPC_IDLE)
        return; /* ended earlier in this round of events */
    st = tftpc_on_readable(&x->c, &lg->sh, bench_now_ns(), why, sizeof(why));
    xfer_after_step(lg, slot, st, why);
}

static void loadgen_scan_timers(struct loadgen *lg, uint64_t now)
{
    for (uint32_t s = 0; s < lg->a.concurrency; s++) {
        struct xfer *x = &lg->slots[s];
        char why[LOADGEN_ERR_MAX];

        if (x->c.state == TFTPC_IDLE || now < x->c.deadline_ns)
            continue;
        xfer_after_step(lg, s, tftpc_on_timeout(&x->c, &lg->sh, now, why, sizeof(why)), why);
    }
}

static void loadgen_abort_all(struct loadgen *lg, const char *why)
{
    for (uint32_t s = 0; s < lg->a.concurrency; s++)
        if (lg->slots[s].c.state != TFTPC_IDLE)
            xfer_end(lg, &lg->slots[s], why);
    /* Transfers never started count as failed too. */
    lg->failed += lg->a.count - lg->next_id;
    lg->next_id = lg->a.count;
}

static int loadgen_tick_ms(const struct loadgen *lg)
{
    uint64_t t = lg->a.tp.timeout_ms / 4;

    if (t > LOADGEN_TICK_MS_MAX)
        t = LOADGEN_TICK_MS_MAX;
    return t == 0 ? 1 : (int)t;
}

static int loadgen_run(struct loadgen *lg)
{
    struct epoll_event ev[LOADGEN_EVENTS_MAX];
    int tick = loadgen_tick_ms(lg);
    uint64_t stop_ns, next_scan;

    lg->start_ns = bench_now_ns();
    lg->end_ns = lg->start_ns;
    stop_ns = lg->start_ns + lg->a.max_seconds * LOADGEN_NS_PER_S;
    next_scan = lg->start_ns + (uint64_t)tick * LOADGEN_NS_PER_MS;
    for (uint32_t s = 0; s < lg->a.concurrency; s++)
        loadgen_fill_slot(lg, s);
    while (lg->active > 0) {
        int n = epoll_wait(lg->epfd, ev, LOADGEN_EVENTS_MAX, tick);
        uint64_t now;

        if (n < 0 && errno != EINTR)
            return -errno;
        for (int i = 0; i < n; i++)
            xfer_on_readable(lg, ev[i].data.u32);
        now = bench_now_ns();
        if (now >= stop_ns) {
            loadgen_abort_all(lg, "--max-seconds reached");
            break;
        }
        if (now >= next_scan) {
            loadgen_scan_timers(lg, now);
            next_scan = now + (uint64_t)tick * LOADGEN_NS_PER_MS;
        }
    }
    return 0;
}
/* ---------- report ---------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in milliseconds; 0 without samples. */
static double report_percentile_ms(const uint64_t *sorted, uint64_t n, unsigned pct)
{
    uint64_t rank;

    if (n == 0)
        return 0.0;
    rank = (n * pct + 99) / 100;
    if (rank == 0)
        rank = 1;
    return (double)sorted[rank - 1] / (double)LOADGEN_NS_PER_MS;
}

struct report {
    double wall_s;
    double mb_s;
    double p50_ms;
    double p99_ms;
    double cpu_s;
    char sha[2 * LOADGEN_SHA256_LEN + 1];
};

static double timeval_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void report_compute(struct loadgen *lg, struct report *r)
{
    struct rusage ru;

    memset(r, 0, sizeof(*r));
    r->wall_s = (double)(lg->end_ns - lg->start_ns) / (double)LOADGEN_NS_PER_S;
    if (r->wall_s > 0)
        r->mb_s = (double)lg->bytes_ok / 1e6 / r->wall_s;
    qsort(lg->lat_ns, lg->lat_n, sizeof(*lg->lat_ns), cmp_u64);
    r->p50_ms = report_percentile_ms(lg->lat_ns, lg->lat_n, 50);
    r->p99_ms = report_percentile_ms(lg->lat_ns, lg->lat_n, 99);
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        r->cpu_s = timeval_s(&ru.ru_utime) + timeval_s(&ru.ru_stime);
    if (lg->digest_done)
        for (unsigned i = 0; i < LOADGEN_SHA256_LEN; i++)
            snprintf(r->sha + 2 * i, 3, "%02x", lg->digest[i]);
}

/* Prints s as a JSON string (s is already printable ASCII from log_clean). */
static void json_put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
            fputc(*s, f);
    }
    fputc('"', f);
}

static void report_print_json(const struct loadgen *lg, const struct report *r)
{
    char clean[LOG_CLEAN_MAX];

    printf("{\"server\":");
    json_put_string(stdout,
                    log_clean(lg->a.server_text, strlen(lg->a.server_text), clean, sizeof(clean)));
    printf(",\"file\":");
    json_put_string(stdout, log_clean(lg->a.file, strlen(lg->a.file), clean, sizeof(clean)));
    printf(",\"count\":%llu,\"concurrency\":%llu,\"blksize\":%u,\"windowsize\":%u,"
           "\"ok\":%llu,\"failed\":%llu,\"bytes\":%llu,\"wall_s\":%.6f,\"mb_per_s\":%.3f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"client_cpu_s\":%.3f,\"timeouts\":%llu,"
           "\"out_of_order\":%llu",
           (unsigned long long)lg->a.count, (unsigned long long)lg->a.concurrency, lg->neg_blksize,
           lg->neg_windowsize, (unsigned long long)lg->ok, (unsigned long long)lg->failed,
           (unsigned long long)lg->bytes_ok, r->wall_s, r->mb_s, r->p50_ms, r->p99_ms, r->cpu_s,
           (unsigned long long)lg->sh.timeouts, (unsigned long long)lg->sh.out_of_order);
    printf(",\"sha256\":");
    if (r->sha[0] != '\0')
        json_put_string(stdout, r->sha);
    else
        printf("null");
    printf(",\"first_error\":");
    json_put_string(stdout, lg->first_error);
    printf("}\n");
}

static void report_print_text(const struct loadgen *lg, const struct report *r)
{
    printf("transfers:   %llu ok, %llu failed (of %llu, %llu at a time)\n",
           (unsigned long long)lg->ok, (unsigned long long)lg->failed,
           (unsigned long long)lg->a.count, (unsigned long long)lg->a.concurrency);
    printf("negotiated:  blksize %u, windowsize %u\n", lg->neg_blksize, lg->neg_windowsize);
    printf("wall time:   %.3f s\n", r->wall_s);
    printf("throughput:  %.2f MB/s (%llu bytes, MB = 10^6 bytes)\n", r->mb_s,
           (unsigned long long)lg->bytes_ok);
    printf("latency:     p50 %.2f ms, p99 %.2f ms\n", r->p50_ms, r->p99_ms);
    printf("client cpu:  %.3f s\n", r->cpu_s);
    printf("anomalies:   %llu client timeouts, %llu out-of-order blocks\n",
           (unsigned long long)lg->sh.timeouts, (unsigned long long)lg->sh.out_of_order);
    if (r->sha[0] != '\0')
        printf("sha256[0]:   %s\n", r->sha);
    if (lg->first_error[0] != '\0')
        printf("first error: %s\n", lg->first_error);
}

int main(int argc, char **argv)
{
    struct loadgen lg;
    struct report r;
    int rc;

    memset(&lg, 0, sizeof(lg));
    rc = args_parse(argc, argv, &lg.a);
    if (rc != 0) {
        usage_print(rc > 0 ? stdout : stderr);
        return rc > 0 ? LOADGEN_EXIT_OK : LOADGEN_EXIT_USAGE;
    }
    rc = loadgen_init(&lg);
    if (rc == 0)
        rc = loadgen_run(&lg);
    if (rc != 0) {
        fprintf(stderr, "tftp_loadgen: %s\n", strerror(-rc));
        loadgen_free(&lg);
        return LOADGEN_EXIT_USAGE;
    }
    report_compute(&lg, &r);
    if (lg.a.json)
        report_print_json(&lg, &r);
    else
        report_print_text(&lg, &r);
    loadgen_free(&lg);
    return lg.failed == 0 && lg.ok == lg.a.count ? LOADGEN_EXIT_OK : LOADGEN_EXIT_FAILED;
}
