/* render_bench.c: renders per second of SEP<MAC>.cnf.xml (resolve + render,
 * and optionally + memfd as loadsd serves it) over a hand-built snapshot of
 * N devices, single thread. Not part of make check; touches no files. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/numparse.h"
#include "server/cnf/cnf.h"

#define BENCH_MODELS   8
#define BENCH_PROFILES 4
#define BENCH_SITES    64

struct bench_opts {
    uint64_t devices;
    uint64_t renders;
    int memfd;
};

static void bench_models(struct settings_snapshot *s)
{
    static const struct {
        const char *name;
        unsigned type;
        const char *proto, *load;
    } m[BENCH_MODELS] = {
        {"Cisco 7941", 115, "SCCP", "SCCP41.9-4-2SR3-1S"},
        {"Cisco 7942", 434, "SIP", "SIP42.9-4-2SR3-1S"},
        {"Cisco 7945", 435, "SIP", "SIP45.9-4-2SR3-1S"},
        {"Cisco 7961", 30018, "SCCP", "SCCP41.9-4-2SR2-2S"},
        {"Cisco 7962", 404, "SIP", "SIP42.9-4-2SR3-1S"},
        {"Cisco 7965", 436, "SIP", "SIP45.9-4-2SR3-1S"},
        {"Cisco 8845", 36224, "SIP", "sip8845_65.14-1-1MN-79"},
        {"Cisco 7960", 7, "SCCP", ""},
    };

    s->models = calloc(BENCH_MODELS, sizeof(*s->models));
    s->n_models = BENCH_MODELS;
    for (size_t i = 0; i < BENCH_MODELS; i++) {
        snprintf(s->models[i].name, sizeof(s->models[i].name), "%s", m[i].name);
        s->models[i].device_type = m[i].type;
        s->models[i].pfs_capable = i != 7;
        snprintf(s->models[i].protocol, sizeof(s->models[i].protocol), "%s", m[i].proto);
        snprintf(s->models[i].default_load, sizeof(s->models[i].default_load), "%s", m[i].load);
    }
}

static void bench_profiles_sites(struct settings_snapshot *s)
{
    s->profiles = calloc(BENCH_PROFILES, sizeof(*s->profiles));
    s->n_profiles = BENCH_PROFILES;
    for (size_t i = 0; i < BENCH_PROFILES; i++) {
        snprintf(s->profiles[i].name, sizeof(s->profiles[i].name), "branch-%zu", i);
        s->profiles[i].pfs.set = i % 2 == 0;
        snprintf(s->profiles[i].pfs.value, sizeof(s->profiles[i].pfs.value), "on");
    }
    s->sites = calloc(BENCH_SITES, sizeof(*s->sites));
    s->n_sites = BENCH_SITES;
    for (size_t i = 0; i < BENCH_SITES; i++) {
        s->sites[i].family = AF_INET;
        s->sites[i].addr[0] = 10;
        s->sites[i].addr[1] = (uint8_t)i;
        s->sites[i].prefix_len = 16;
        snprintf(s->sites[i].load_server, sizeof(s->sites[i].load_server), "ls%zu.example", i);
    }
}

/* N devices, MACs ascending (the snapshot's order), every third one with
 * settings of its own. */
static void bench_devices(struct settings_snapshot *s, size_t n)
{
    s->devices = calloc(n, sizeof(*s->devices));
    s->n_devices = n;
    for (size_t i = 0; i < n; i++) {
        struct settings_device *d = &s->devices[i];

        snprintf(d->mac, sizeof(d->mac), "0011%08X", (unsigned)i);
        d->model = (int)(i % BENCH_MODELS);
        d->profile = (int)(i % (BENCH_PROFILES + 1)) - 1;
        snprintf(d->description, sizeof(d->description), "Phone %zu, floor %zu & co", i, i % 9);
        if (i % 3 == 0) {
            d->load.set = true;
            snprintf(d->load.value, sizeof(d->load.value), "SIP45.9-4-2SR4-3S");
            d->load_server.set = true;
            snprintf(d->load_server.value, sizeof(d->load_server.value), "10.20.%zu.5", i % 250);
        }
    }
    snprintf(s->enterprise.cm_address, sizeof(s->enterprise.cm_address), "cucm1.example");
    snprintf(s->enterprise.load_server, sizeof(s->enterprise.load_server), "ls.example");
}

/* One request's work as loadsd does it with --memfd: the bytes in a memfd. */
static int bench_memfd(const struct cnf_buf *b)
{
    int fd = memfd_create("bench", MFD_CLOEXEC);
    int ok = fd >= 0 && write(fd, b->data, b->len) == (ssize_t)b->len;

    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int bench_parse(int argc, char **argv, struct bench_opts *o)
{
    o->devices = 10000;
    o->renders = 200000;
    o->memfd = 0;
    for (int i = 1; i < argc; i++) {
        int rc = 0;

        if (strcmp(argv[i], "--memfd") == 0)
            o->memfd = 1;
        else if (strcmp(argv[i], "--devices") == 0 && i + 1 < argc)
            rc = numparse_u64(argv[++i], 1, 10000000, &o->devices);
        else if (strcmp(argv[i], "--renders") == 0 && i + 1 < argc)
            rc = numparse_u64(argv[++i], 1, UINT64_C(1) << 40, &o->renders);
        else
            rc = -1;
        if (rc != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct settings_snapshot s = {0};
    struct cnf_buf b = {0};
    struct sockaddr_in from = {.sin_family = AF_INET};
    struct bench_opts o;
    size_t bytes = 0;
    double t0, dt;

    if (bench_parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: render_bench [--devices N] [--renders N] [--memfd]\n");
        return 2;
    }
    bench_models(&s);
    bench_profiles_sites(&s);
    bench_devices(&s, (size_t)o.devices);
    t0 = now_s();
    for (uint64_t i = 0; i < o.renders; i++) {
        const struct settings_device *d = &s.devices[(i * 7919) % o.devices];

        from.sin_addr.s_addr = htonl(0x0a000000u | (uint32_t)((i % 80) << 16) | 0x0101u);
        if (cnf_render_mac(&s, NULL, 0, d->mac, (struct sockaddr *)&from, &b) != CNF_OK ||
            (o.memfd && bench_memfd(&b) != 0)) {
            fprintf(stderr, "render_bench: render %llu failed\n", (unsigned long long)i);
            return 1;
        }
        bytes += b.len;
    }
    dt = now_s() - t0;
    printf("devices %llu, renders %llu%s: %.3f s, %.0f renders/s, %.1f us each, "
           "%.0f bytes average\n",
           (unsigned long long)o.devices, (unsigned long long)o.renders,
           o.memfd ? " (with memfd)" : "", dt, (double)o.renders / dt, dt * 1e6 / (double)o.renders,
           (double)bytes / (double)o.renders);
    cnf_buf_free(&b);
    free(s.models);
    free(s.profiles);
    free(s.sites);
    free(s.devices);
    return 0;
}
