/* phonesim.c: a fleet of simulated IP phones booting against a TFTP (and HTTP)
 * server: each asks for its trust lists and config, and upgrades when the load
 * differs (phone.c). One thread, one epoll set; a benchmark and test tool. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/phonesim.h"

#define SIM_EVENTS_MAX       256
#define SIM_TICK_MS          10
#define SIM_FD_SPARE         32
#define SIM_PHONES_MAX       100000
#define SIM_EXPECT_MAX       4096
#define SIM_EXPECT_TEXT_MAX  (1024 * 1024)
#define SIM_TIMELINE_DEFAULT 64
#define SIM_MAC_MAX          UINT64_C(0xffffffffffff)

enum { SIM_EXIT_OK = 0, SIM_EXIT_FAILED = 1, SIM_EXIT_USAGE = 2 };

static void usage_print(FILE *f)
{
    fprintf(
        f, "usage: phonesim --tftp-server ADDR:PORT [--phones N] [--model M | --mix M:N,...]\n"
           "                [--models FILE] [--mac-base MAC] [--current-load NAME]\n"
           "                [--source-base ADDR] [--boot-spread-ms MS] [--seed N]\n"
           "                [--load-server-port PORT] [--http-port PORT] [--reboot-s S]\n"
           "                [--restart-backoff-s S] [--max-seconds S] [--expect FILE]\n"
           "                [--json FILE] [--timeline-max N]\n"
           "Each phone boots like a real one: CTLSEP<MAC>.tlv, ITLSEP<MAC>.tlv (ITLFile.tlv\n"
           "when absent), SEP<MAC>.cnf.xml (else XMLDefault.cnf.xml), and when the load\n"
           "differs from --current-load (default OLD.0-0-0), <load>.loads and each component,\n"
           "from the config's loadServer when it names one. Models with http_first try\n"
           "HTTP on --http-port (6970) of the same server first for every file.\n"
           "Model table (--models FILE replaces or adds, one line each): name device_type\n"
           "protocol tftp_blksize tsize windowsize timeout_ms retries http_first reboot_s\n"
           "restart_backoff_s. Built in: 79xx plain RRQ, 512-byte lock-step, no HTTP (domain.md);\n"
           "78xx/88xx/89xx/99xx HTTP first, blksize 1428 and tsize (ASSUMPTION: not documented\n"
           "publicly); every timeout, retry, reboot and backoff value is an ASSUMPTION but\n"
           "89xx/99xx reboot (white paper: 1-2 min). tests/bench/README.md has the table.\n"
           "Exit 0 when every phone ends upgraded or no_change, 1 otherwise, 2 on bad usage.\n");
}

/* ---------- argument parsing ---------- */

enum {
    OPT_TFTP_SERVER = 1,
    OPT_PHONES,
    OPT_MODEL,
    OPT_MIX,
    OPT_MODELS,
    OPT_MAC_BASE,
    OPT_CURRENT_LOAD,
    OPT_SOURCE_BASE,
    OPT_BOOT_SPREAD,
    OPT_SEED,
    OPT_LS_PORT,
    OPT_HTTP_PORT,
    OPT_REBOOT,
    OPT_BACKOFF,
    OPT_MAX_SECONDS,
    OPT_EXPECT,
    OPT_JSON,
    OPT_TIMELINE_MAX,
    OPT_HELP,
};

static const struct option args_longopts[] = {
    {"tftp-server", required_argument, NULL, OPT_TFTP_SERVER},
    {"phones", required_argument, NULL, OPT_PHONES},
    {"model", required_argument, NULL, OPT_MODEL},
    {"mix", required_argument, NULL, OPT_MIX},
    {"models", required_argument, NULL, OPT_MODELS},
    {"mac-base", required_argument, NULL, OPT_MAC_BASE},
    {"current-load", required_argument, NULL, OPT_CURRENT_LOAD},
    {"source-base", required_argument, NULL, OPT_SOURCE_BASE},
    {"boot-spread-ms", required_argument, NULL, OPT_BOOT_SPREAD},
    {"seed", required_argument, NULL, OPT_SEED},
    {"load-server-port", required_argument, NULL, OPT_LS_PORT},
    {"http-port", required_argument, NULL, OPT_HTTP_PORT},
    {"reboot-s", required_argument, NULL, OPT_REBOOT},
    {"restart-backoff-s", required_argument, NULL, OPT_BACKOFF},
    {"max-seconds", required_argument, NULL, OPT_MAX_SECONDS},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"json", required_argument, NULL, OPT_JSON},
    {"timeline-max", required_argument, NULL, OPT_TIMELINE_MAX},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* A hex digit's value, -1 for anything else. */
static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "00:1B:54:00:00:01", "00-1b-54-00-00-01" or "001B54000001". */
static int args_mac(const char *text, uint64_t *out)
{
    uint64_t v = 0;
    unsigned digits = 0;

    for (const char *p = text; *p != '\0'; p++) {
        char c = *p;
        int d = hex_val(c);

        if (d < 0 && (c == ':' || c == '-') && digits % 2 == 0 && digits > 0)
            continue;
        if (d < 0 || ++digits > 12)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    if (digits != 12)
        return -1;
    *out = v;
    return 0;
}

static int args_source(const char *text, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, text, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
        ss->ss_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
        ss->ss_family = AF_INET6;
        return 0;
    }
    return -1;
}

static int args_apply_number(int opt, const char *arg, struct sim_args *a)
{
    switch (opt) {
    case OPT_PHONES:
        return bench_args_number("phonesim", "phones", arg, 1, SIM_PHONES_MAX, &a->phones);
    case OPT_BOOT_SPREAD:
        return bench_args_number("phonesim", "boot-spread-ms", arg, 0, 86400000,
                                 &a->boot_spread_ms);
    case OPT_SEED:
        return bench_args_number("phonesim", "seed", arg, 0, UINT64_MAX, &a->seed);
    case OPT_LS_PORT:
        return bench_args_number("phonesim", "load-server-port", arg, 1, 65535,
                                 &a->load_server_port);
    case OPT_HTTP_PORT:
        return bench_args_number("phonesim", "http-port", arg, 1, 65535, &a->http_port);
    case OPT_REBOOT:
        a->reboot_set = true;
        return bench_args_number("phonesim", "reboot-s", arg, 0, PHONE_MODEL_SECONDS_MAX,
                                 &a->reboot_s);
    case OPT_BACKOFF:
        a->backoff_set = true;
        return bench_args_number("phonesim", "restart-backoff-s", arg, 0, PHONE_MODEL_SECONDS_MAX,
                                 &a->backoff_s);
    case OPT_MAX_SECONDS:
        return bench_args_number("phonesim", "max-seconds", arg, 1, 7 * 86400, &a->max_seconds);
    case OPT_TIMELINE_MAX:
        return bench_args_number("phonesim", "timeline-max", arg, 0, 100000, &a->timeline_max);
    default:
        return -1;
    }
}

static int args_apply(int opt, const char *arg, struct sim_args *a)
{
    const char *bad = NULL;

    switch (opt) {
    case OPT_TFTP_SERVER:
        if (tftpc_parse_addr(arg, &a->tftp_server, &a->tftp_server_len) != 0)
            bad = "--tftp-server (ADDR:PORT, [IPv6]:PORT)";
        break;
    case OPT_MODEL:
        a->model = arg;
        break;
    case OPT_MIX:
        a->mix = arg;
        break;
    case OPT_MODELS:
        a->models_file = arg;
        break;
    case OPT_MAC_BASE:
        if (args_mac(arg, &a->mac_base) != 0)
            bad = "--mac-base (12 hex digits, ':' or '-' between pairs allowed)";
        break;
    case OPT_CURRENT_LOAD:
        a->current_load = arg;
        break;
    case OPT_SOURCE_BASE:
        a->has_source_base = args_source(arg, &a->source_base) == 0;
        if (!a->has_source_base)
            bad = "--source-base (an IPv4 or IPv6 address)";
        break;
    case OPT_EXPECT:
        a->expect_file = arg;
        break;
    case OPT_JSON:
        a->json_file = arg;
        break;
    default:
        return args_apply_number(opt, arg, a);
    }
    if (bad != NULL)
        fprintf(stderr, "phonesim: bad %s: %s\n", bad, arg);
    return bad == NULL ? 0 : -1;
}

/* 0, 1 for --help, or -1 for a usage error. */
static int args_parse(int argc, char **argv, struct sim_args *a)
{
    int opt;

    memset(a, 0, sizeof(*a));
    a->mac_base = UINT64_C(0x001B54000001);
    a->current_load = "OLD.0-0-0";
    a->http_port = 6970;
    a->max_seconds = 600;
    a->timeline_max = SIM_TIMELINE_DEFAULT;
    while ((opt = getopt_long(argc, argv, "", args_longopts, NULL)) != -1) {
        if (opt == OPT_HELP)
            return 1;
        if (opt == '?' || args_apply(opt, optarg, a) != 0)
            return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "phonesim: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    if (a->tftp_server_len == 0) {
        fprintf(stderr, "phonesim: --tftp-server is required\n");
        return -1;
    }
    if (a->model != NULL && a->mix != NULL) {
        fprintf(stderr, "phonesim: --model and --mix exclude each other\n");
        return -1;
    }
    return 0;
}

/* ---------- servers ---------- */

int sim_server_add(struct sim *s, const struct sockaddr *sa, socklen_t len)
{
    struct sim_server *sv;

    for (uint32_t i = 0; i < s->n_servers; i++)
        if (s->servers[i].len == len && memcmp(&s->servers[i].ss, sa, len) == 0)
            return (int)i;
    if (s->n_servers >= SIM_SERVERS_MAX)
        return -1;
    sv = &s->servers[s->n_servers];
    memset(sv, 0, sizeof(*sv));
    memcpy(&sv->ss, sa, len);
    sv->len = len;
    bench_addr_text((const struct sockaddr *)&sv->ss, sv->text, sizeof(sv->text));
    return (int)s->n_servers++;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
}

/* The TFTP server and the HTTP side of it: servers 0 and 1. */
static int servers_init(struct sim *s)
{
    struct sockaddr_storage h = s->a.tftp_server;

    if (sim_server_add(s, (const struct sockaddr *)&s->a.tftp_server, s->a.tftp_server_len) != 0)
        return -1;
    set_port(&h, (uint16_t)s->a.http_port);
    if (memcmp(&h, &s->a.tftp_server, s->a.tftp_server_len) == 0)
        set_port(&h, 0); /* same port: keep two entries all the same */
    return sim_server_add(s, (const struct sockaddr *)&h, s->a.tftp_server_len) == 1 ? 0 : -1;
}

/* "host", "host:port", "[v6]" or "[v6]:port" into host and port (0: none). */
static int ls_split(const char *text, char *host, size_t cap, uint64_t *port)
{
    const char *colon = strrchr(text, ':');
    size_t hl = strlen(text);

    *port = 0;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');

        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return -1;
        if (close[1] == ':' && numparse_u64(close + 2, 1, 65535, port) != 0)
            return -1;
        hl = (size_t)(close - text - 1);
        text++;
    } else if (colon != NULL && strchr(text, ':') == colon) {
        if (numparse_u64(colon + 1, 1, 65535, port) != 0)
            return -1;
        hl = (size_t)(colon - text);
    }
    if (hl == 0 || hl >= cap)
        return -1;
    memcpy(host, text, hl);
    host[hl] = '\0';
    return 0;
}

/* Resolves a load server: TFTP on --load-server-port, else its own port, else
 * 69; HTTP on --http-port of the same address. */
static void ls_resolve(struct sim *s, struct sim_ls *l)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
    struct sockaddr_storage ss;
    char host[SIM_LOAD_MAX + 1];
    uint64_t port;

    l->tftp = l->http = -1;
    if (ls_split(l->host, host, sizeof(host), &port) != 0 ||
        getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL || res->ai_addrlen > sizeof(ss))
        goto out;
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, res->ai_addr, res->ai_addrlen);
    port = s->a.load_server_port != 0 ? s->a.load_server_port : port != 0 ? port : 69;
    set_port(&ss, (uint16_t)port);
    l->tftp = sim_server_add(s, (const struct sockaddr *)&ss, res->ai_addrlen);
    set_port(&ss, (uint16_t)s->a.http_port);
    l->http = sim_server_add(s, (const struct sockaddr *)&ss, res->ai_addrlen);
    if (l->http < 0)
        l->tftp = -1;
out:
    if (res != NULL)
        freeaddrinfo(res);
}

/* The index of a load server (resolved once for every phone naming it); -1
 * when the list is full. */
int sim_ls_lookup(struct sim *s, const char *host)
{
    struct sim_ls *n;

    for (uint32_t i = 0; i < s->n_ls; i++)
        if (strcasecmp(s->ls[i].host, host) == 0)
            return (int)i;
    if (s->n_ls >= SIM_SERVERS_MAX)
        return -1;
    n = realloc(s->ls, (s->n_ls + 1) * sizeof(*n));
    if (n == NULL)
        return -1;
    s->ls = n;
    n[s->n_ls].host = strdup(host);
    if (n[s->n_ls].host == NULL)
        return -1;
    ls_resolve(s, &n[s->n_ls]);
    return (int)s->n_ls++;
}

/* ---------- --expect and --models files ---------- */

static int hex_sha(const char *hex, uint8_t *out)
{
    for (unsigned i = 0; i < SIM_SHA256_LEN; i++) {
        unsigned v = 0;

        for (unsigned j = 0; j < 2; j++) {
            int d = hex_val(hex[2 * i + j]);

            if (d < 0)
                return -1;
            v = v << 4 | (unsigned)d;
        }
        out[i] = (uint8_t)v;
    }
    return hex[2 * SIM_SHA256_LEN] == '\0' ? 0 : -1;
}

/* One "NAME SHA256" line (blank and '#' lines skipped). */
static int expect_line(struct sim *s, char *line)
{
    char *name = strtok(line, " \t\r"), *hex = strtok(NULL, " \t\r");
    struct expect_entry *e;

    if (name == NULL || name[0] == '#')
        return 0;
    if (hex == NULL || strtok(NULL, " \t\r") != NULL || s->n_expect >= SIM_EXPECT_MAX)
        return -1;
    e = &s->expect[s->n_expect];
    if (hex_sha(hex, e->sha) != 0 || (e->name = strdup(name)) == NULL)
        return -1;
    s->n_expect++;
    return 0;
}

static int expect_load(struct sim *s)
{
    char *text = NULL, *save = NULL;
    size_t len = 0;
    unsigned n = 0;
    int rc = fileio_read_file(s->a.expect_file, SIM_EXPECT_TEXT_MAX, &text, &len);

    if (rc != 0) {
        fprintf(stderr, "phonesim: cannot read --expect %s: %s\n", s->a.expect_file, strerror(-rc));
        return -1;
    }
    s->expect = calloc(SIM_EXPECT_MAX, sizeof(*s->expect));
    rc = s->expect == NULL ? -1 : 0;
    for (char *l = strtok_r(text, "\n", &save); l != NULL && rc == 0;
         l = strtok_r(NULL, "\n", &save)) {
        n++;
        rc = expect_line(s, l);
        if (rc != 0)
            fprintf(stderr, "phonesim: --expect %s line %u: want NAME SHA256 (64 hex digits)\n",
                    s->a.expect_file, n);
    }
    free(text);
    return rc;
}

static int models_load(struct sim *s)
{
    char *text = NULL;
    size_t len = 0;
    unsigned line = 0;
    const char *why = NULL;
    int rc;

    phone_models_builtin(&s->models);
    if (s->a.models_file == NULL)
        return 0;
    rc = fileio_read_file(s->a.models_file, PHONE_MODEL_TEXT_MAX, &text, &len);
    if (rc != 0) {
        fprintf(stderr, "phonesim: cannot read --models %s: %s\n", s->a.models_file, strerror(-rc));
        return -1;
    }
    rc = phone_models_parse(text, len, &s->models, &line, &why);
    if (rc != 0)
        fprintf(stderr, "phonesim: --models %s line %u: %s\n", s->a.models_file, line, why);
    free(text);
    return rc;
}

/* ---------- the fleet ---------- */

/* xorshift64*: the boot spread, the same for the same --seed. */
static uint64_t rng_next(uint64_t *st)
{
    uint64_t x = *st;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * UINT64_C(2685821657736338717);
}

/* Phone i's source address: --source-base plus i. */
static void phone_source(const struct sim_args *a, uint32_t i, struct phone *ph)
{
    ph->bind_addr = a->source_base;
    if (a->source_base.ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ph->bind_addr;

        s4->sin_addr.s_addr = htonl(ntohl(s4->sin_addr.s_addr) + i);
        ph->bind_len = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ph->bind_addr;
        unsigned carry = i;

        for (int b = 15; b >= 0 && carry != 0; b--) {
            carry += s6->sin6_addr.s6_addr[b];
            s6->sin6_addr.s6_addr[b] = (uint8_t)carry;
            carry >>= 8;
        }
        ph->bind_len = sizeof(*s6);
    }
    ph->bound = true;
}

/* The models of the fleet in order: --mix, else --model (default 7965) for all. */
static int fleet_models(struct sim *s, const struct phone_model **out)
{
    struct phone_mix_entry mix[PHONE_MIX_MAX];
    size_t n = 1, k = 0;
    uint64_t total = 0;
    const char *why = NULL;

    if (s->a.mix != NULL && phone_mix_parse(s->a.mix, mix, &n, &total, &why) != 0) {
        fprintf(stderr, "phonesim: bad --mix: %s\n", why);
        return -1;
    }
    if (s->a.mix == NULL) {
        snprintf(mix[0].name, sizeof(mix[0].name), "%s", s->a.model ? s->a.model : "7965");
        mix[0].count = (uint32_t)(s->a.phones ? s->a.phones : 1);
        total = mix[0].count;
    }
    if (s->a.phones != 0 && total != s->a.phones) {
        fprintf(stderr, "phonesim: --mix adds up to %llu phones, --phones says %llu\n",
                (unsigned long long)total, (unsigned long long)s->a.phones);
        return -1;
    }
    if (total > SIM_PHONES_MAX) {
        fprintf(stderr, "phonesim: more than %u phones\n", SIM_PHONES_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct phone_model *m = phone_models_find(&s->models, mix[i].name);

        if (m == NULL) {
            fprintf(stderr, "phonesim: no model %s in the table\n", mix[i].name);
            return -1;
        }
        for (uint32_t j = 0; j < mix[i].count; j++)
            out[k++] = m;
    }
    s->n_phones = (uint32_t)total;
    return 0;
}

static void params_init(struct sim *s)
{
    for (size_t i = 0; i < s->models.n; i++) {
        const struct phone_model *m = &s->models.m[i];

        s->tp[i].blksize = m->blksize;
        s->tp[i].windowsize = m->windowsize;
        s->tp[i].tsize = m->tsize;
        s->tp[i].timeout_ms = m->timeout_ms;
        s->tp[i].retries = m->retries;
    }
}

static uint32_t max_blksize(const struct sim *s)
{
    uint32_t b = TFTP_BLKSIZE_DEFAULT;

    for (size_t i = 0; i < s->models.n; i++)
        if (s->models.m[i].blksize > b)
            b = s->models.m[i].blksize;
    return b;
}

static int fleet_init(struct sim *s)
{
    const struct phone_model **models = calloc(SIM_PHONES_MAX, sizeof(*models));
    uint64_t rng = s->a.seed * 2 + 1; /* never 0 */
    int rc = -1;

    if (models == NULL || fleet_models(s, models) != 0)
        goto out;
    params_init(s);
    s->phones = calloc(s->n_phones, sizeof(*s->phones));
    if (s->phones == NULL)
        goto out;
    for (uint32_t i = 0; i < s->n_phones; i++) {
        struct phone *ph = &s->phones[i];
        uint64_t spread = s->a.boot_spread_ms ? rng_next(&rng) % (s->a.boot_spread_ms + 1) : 0;

        if (phone_init(ph, i, s->start_ns + spread * SIM_NS_PER_MS) != 0)
            goto out;
        ph->model = models[i];
        ph->tp = &s->tp[models[i] - s->models.m];
        snprintf(ph->mac, sizeof(ph->mac), "%012llX",
                 (unsigned long long)((s->a.mac_base + i) & SIM_MAC_MAX));
        if (s->a.has_source_base)
            phone_source(&s->a, i, ph);
    }
    s->active = s->n_phones;
    rc = 0;
out:
    free(models);
    return rc;
}

static int sim_init(struct sim *s)
{
    s->epfd = -1;
    s->start_ns = bench_now_ns();
    if (models_load(s) != 0 || (s->a.expect_file != NULL && expect_load(s) != 0))
        return SIM_EXIT_USAGE;
    if (servers_init(s) != 0 || fleet_init(s) != 0)
        return SIM_EXIT_USAGE;
    s->scratch = malloc(SIM_SCRATCH);
    if (s->scratch == NULL || tftpc_shared_init(&s->sh, max_blksize(s)) != 0 ||
        bench_raise_nofile(s->n_phones + SIM_FD_SPARE) != 0)
        return SIM_EXIT_USAGE;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    return s->epfd < 0 ? SIM_EXIT_USAGE : 0;
}

static void sim_free(struct sim *s)
{
    for (uint32_t i = 0; s->phones != NULL && i < s->n_phones; i++)
        phone_free(&s->phones[i]);
    free(s->phones);
    for (uint32_t i = 0; i < s->n_ls; i++)
        free(s->ls[i].host);
    free(s->ls);
    for (uint32_t i = 0; i < s->n_expect; i++)
        free(s->expect[i].name);
    free(s->expect);
    free(s->scratch);
    tftpc_shared_free(&s->sh);
    if (s->epfd >= 0)
        close(s->epfd);
}

/* ---------- the loop ---------- */

static void sim_on_events(struct sim *s, const struct epoll_event *ev, int n, uint64_t now)
{
    for (int i = 0; i < n; i++) {
        uint32_t idx = (uint32_t)ev[i].data.u64;
        uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);

        if (idx < s->n_phones && s->phones[idx].gen == gen)
            phone_on_event(s, &s->phones[idx], ev[i].events, now);
    }
}

static int sim_run(struct sim *s)
{
    struct epoll_event ev[SIM_EVENTS_MAX];
    uint64_t now = bench_now_ns(), stop_ns;

    /* Time 0 is the end of the setup: the boot times move with it. */
    for (uint32_t i = 0; i < s->n_phones; i++)
        s->phones[i].wake_ns += now - s->start_ns;
    s->start_ns = now;
    stop_ns = now + s->a.max_seconds * SIM_NS_PER_S;

    while (s->active > 0 && now < stop_ns) {
        int n = epoll_wait(s->epfd, ev, SIM_EVENTS_MAX, SIM_TICK_MS);

        if (n < 0 && errno != EINTR)
            return -errno;
        now = bench_now_ns();
        sim_on_events(s, ev, n, now);
        for (uint32_t i = 0; i < s->n_phones; i++)
            phone_on_timer(s, &s->phones[i], now);
    }
    for (uint32_t i = 0; i < s->n_phones; i++)
        phone_end_run(s, &s->phones[i], now);
    s->end_ns = now;
    return 0;
}

/* ---------- the report ---------- */

static const char *outcome_name(enum sim_outcome o)
{
    static const char *names[] = {"none", "upgraded", "no_change", "stuck", "no_config"};

    return names[o];
}

static const char *result_name(unsigned r)
{
    static const char *names[] = {"ok", "not_found", "error", "timeout", "mismatch"};

    return r < 5 ? names[r] : "error";
}

/* A JSON string; bytes outside printable ASCII as \u00XX. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static double secs(uint64_t ns)
{
    return (double)ns / (double)SIM_NS_PER_S;
}

static void json_entry(FILE *f, const struct sim *s, const struct tl_entry *e)
{
    fprintf(f, "{\"t_s\":%.6f,\"name\":", secs(e->t_ns));
    json_str(f, e->name != NULL ? e->name : "");
    fprintf(f, ",\"server\":");
    json_str(f, s->servers[e->server].text);
    fprintf(f, ",\"proto\":\"%s\",\"result\":\"%s\",\"bytes\":%llu,\"sha256\":",
            e->proto == PROTO_HTTP ? "http" : "tftp", result_name(e->result),
            (unsigned long long)e->bytes);
    if (e->has_sha) {
        fputc('"', f);
        for (unsigned i = 0; i < SIM_SHA256_LEN; i++)
            fprintf(f, "%02x", e->sha[i]);
        fputc('"', f);
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ",\"dur_s\":%.6f", secs(e->dur_ns));
    if (e->error != NULL) {
        fprintf(f, ",\"error\":");
        json_str(f, e->error);
    }
    fputc('}', f);
}

static const char *phone_load(const struct sim *s, const struct phone *ph)
{
    if (ph->outcome == OUT_UPGRADED || ph->outcome == OUT_NO_CHANGE)
        return ph->load;
    return s->a.current_load;
}

static void json_phone(FILE *f, const struct sim *s, const struct phone *ph)
{
    char addr[INET6_ADDRSTRLEN];

    fprintf(f, "{\"mac\":\"%s\",\"model\":", ph->mac);
    json_str(f, ph->model->name);
    fprintf(f, ",\"addr\":");
    if (ph->bound) {
        const void *a =
            ph->bind_addr.ss_family == AF_INET
                ? (const void *)&((const struct sockaddr_in *)&ph->bind_addr)->sin_addr
                : (const void *)&((const struct sockaddr_in6 *)&ph->bind_addr)->sin6_addr;

        inet_ntop(ph->bind_addr.ss_family, a, addr, sizeof(addr));
        json_str(f, addr);
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ",\"outcome\":\"%s\",\"load\":", outcome_name(ph->outcome));
    json_str(f, phone_load(s, ph));
    if (ph->outcome == OUT_UPGRADED || ph->outcome == OUT_NO_CHANGE)
        fprintf(f, ",\"t_done_s\":%.6f", secs(ph->t_done_ns));
    else
        fprintf(f, ",\"t_done_s\":null");
    fprintf(f, ",\"bytes\":%llu,\"restarts\":%u,\"last_error\":", (unsigned long long)ph->bytes,
            ph->backoff_count);
    json_str(f, ph->last_error);
    fprintf(f, ",\"timeline_dropped\":%u,\"timeline\":[", ph->tl_dropped);
    for (uint32_t i = 0; i < ph->tl_n; i++) {
        if (i > 0)
            fputc(',', f);
        json_entry(f, s, &ph->tl[i]);
    }
    fprintf(f, "]}");
}

struct totals {
    uint32_t n[5]; /* by outcome */
    uint64_t bytes;
    bool any_upgraded;
    uint64_t first_ns, last_ns;
};

static void totals_of(const struct sim *s, struct totals *t)
{
    memset(t, 0, sizeof(*t));
    for (uint32_t i = 0; i < s->n_phones; i++) {
        const struct phone *ph = &s->phones[i];

        t->n[ph->outcome]++;
        t->bytes += ph->bytes;
        if (ph->outcome != OUT_UPGRADED)
            continue;
        if (!t->any_upgraded || ph->t_done_ns < t->first_ns)
            t->first_ns = ph->t_done_ns;
        if (!t->any_upgraded || ph->t_done_ns > t->last_ns)
            t->last_ns = ph->t_done_ns;
        t->any_upgraded = true;
    }
}

/* The time the last phone was upgraded, null when any is stuck or has no config. */
static void json_time(FILE *f, bool known, uint64_t ns)
{
    if (known)
        fprintf(f, "%.6f", secs(ns));
    else
        fprintf(f, "null");
}

static void json_report(FILE *f, const struct sim *s, const struct totals *t)
{
    bool all_done = t->n[OUT_STUCK] == 0 && t->n[OUT_NO_CONFIG] == 0;

    fprintf(f, "{\"phones\":[");
    for (uint32_t i = 0; i < s->n_phones; i++) {
        if (i > 0)
            fprintf(f, ",\n");
        json_phone(f, s, &s->phones[i]);
    }
    fprintf(f,
            "],\n\"phones_total\":%u,\"upgraded\":%u,\"no_change\":%u,\"stuck\":%u,"
            "\"no_config\":%u,\"all_upgraded_s\":",
            s->n_phones, t->n[OUT_UPGRADED], t->n[OUT_NO_CHANGE], t->n[OUT_STUCK],
            t->n[OUT_NO_CONFIG]);
    json_time(f, all_done && t->any_upgraded, t->last_ns);
    fprintf(f, ",\"first_upgraded_s\":");
    json_time(f, t->any_upgraded, t->first_ns);
    fprintf(f, ",\"bytes_total\":%llu,\"wall_s\":%.6f}\n", (unsigned long long)t->bytes,
            secs(s->end_ns - s->start_ns));
}

/* Written beside the target and renamed over it: a reader sees all or nothing. */
static int json_write(const struct sim *s, const struct totals *t)
{
    char tmp[4096];
    FILE *f;
    int rc;

    snprintf(tmp, sizeof(tmp), "%s.tmp", s->a.json_file);
    f = fopen(tmp, "w");
    if (f == NULL)
        return -errno;
    json_report(f, s, t);
    rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, s->a.json_file) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static void text_report(const struct sim *s, const struct totals *t)
{
    struct rusage ru;
    unsigned shown = 0;

    printf("phones:      %u (%u upgraded, %u no_change, %u stuck, %u no_config)\n", s->n_phones,
           t->n[OUT_UPGRADED], t->n[OUT_NO_CHANGE], t->n[OUT_STUCK], t->n[OUT_NO_CONFIG]);
    if (t->any_upgraded)
        printf("upgraded:    first at %.3f s, last at %.3f s%s\n", secs(t->first_ns),
               secs(t->last_ns), t->n[OUT_STUCK] + t->n[OUT_NO_CONFIG] ? " (not all phones)" : "");
    printf("bytes:       %llu\n", (unsigned long long)t->bytes);
    printf("wall time:   %.3f s\n", secs(s->end_ns - s->start_ns));
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        printf("max RSS:     %ld KiB\n", ru.ru_maxrss);
    for (uint32_t i = 0; i < s->n_phones && shown < 10; i++) {
        const struct phone *ph = &s->phones[i];
        char clean[LOG_CLEAN_MAX];

        if (ph->outcome != OUT_STUCK && ph->outcome != OUT_NO_CONFIG)
            continue;
        printf("%s %s: %s\n", ph->mac, outcome_name(ph->outcome),
               log_clean(ph->last_error, strlen(ph->last_error), clean, sizeof(clean)));
        shown++;
    }
}

int main(int argc, char **argv)
{
    static struct sim s; /* a few tens of KiB of tables */
    struct totals t;
    int rc;

    rc = args_parse(argc, argv, &s.a);
    if (rc != 0) {
        usage_print(rc > 0 ? stdout : stderr);
        return rc > 0 ? SIM_EXIT_OK : SIM_EXIT_USAGE;
    }
    rc = sim_init(&s);
    if (rc == 0)
        rc = sim_run(&s) == 0 ? 0 : SIM_EXIT_USAGE;
    if (rc != 0) {
        fprintf(stderr, "phonesim: setup failed\n");
        sim_free(&s);
        return rc;
    }
    totals_of(&s, &t);
    text_report(&s, &t);
    if (s.a.json_file != NULL && json_write(&s, &t) != 0) {
        fprintf(stderr, "phonesim: cannot write %s\n", s.a.json_file);
        rc = SIM_EXIT_USAGE;
    }
    sim_free(&s);
    if (rc == 0)
        rc = t.n[OUT_STUCK] + t.n[OUT_NO_CONFIG] == 0 ? SIM_EXIT_OK : SIM_EXIT_FAILED;
    return rc;
}
