/* test_wanopts.c: table tests for wanemu's command line: sides, ranges of
 * every number, decimals, per-direction overrides in either order, defaults,
 * and the reasons given for usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/tools/wanopts.h"

struct decimal_case {
    const char *text;
    unsigned frac;
    uint64_t max;
    int rc;
    uint64_t value;
};

static const struct decimal_case decimals[] = {
    {"70", 6, 10000000000ull, 0, 70000000},
    {"0.5", 6, 10000000000ull, 0, 500000},
    {"0.000001", 6, 10000000000ull, 0, 1},
    {"0.0000001", 6, 10000000000ull, -1, 0}, /* too many decimals */
    {"10000", 6, 10000000000ull, 0, 10000000000ull},
    {"10000.000001", 6, 10000000000ull, -2, 0},
    {"10001", 6, 10000000000ull, -2, 0},
    {"99999999999999999", 6, 10000000000ull, -2, 0}, /* overflows when scaled */
    {"0.1", 9, 1000000000, 0, 100000000},
    {"1", 9, 1000000000, 0, 1000000000},
    {"1.000000001", 9, 1000000000, -2, 0},
    {"007", 0, 100, 0, 7},
    {"7.", 6, 100000000, -1, 0},
    {".5", 6, 100000000, -1, 0},
    {"1.2.3", 6, 100000000, -1, 0},
    {"", 6, 100000000, -1, 0},
    {"-1", 6, 100000000, -1, 0},
    {"1e3", 6, 100000000, -1, 0},
    {" 1", 6, 100000000, -1, 0},
    {"1.5", 0, 100, -1, 0},                         /* no decimals allowed */
    {"12345678901234567890", 0, UINT64_MAX, -1, 0}, /* 20 digits */
};

static void test_wanopts_decimal(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(decimals) / sizeof(decimals[0]); i++) {
        const struct decimal_case *t = &decimals[i];
        uint64_t v = 12345;
        int rc = wanopts_decimal(t->text, t->frac, t->max, &v);

        if (rc != t->rc)
            fail_msg("\"%s\": rc %d, expected %d", t->text, rc, t->rc);
        assert_int_equal(v, rc == 0 ? t->value : 12345); /* untouched on failure */
    }
}

struct parse_case {
    const char *args; /* space-separated */
    int rc;
    const char *err; /* a part of the reason, when rc < 0 */
    /* when rc == 0: the down and up parameters */
    struct wanlink_params down, up;
};

#define DEFQ  WANOPTS_QUEUE_PACKETS_DEFAULT
#define SIDES "--a c1:wan0 --b b1:wan0 "

static const struct parse_case parses[] = {
    {SIDES, 0, NULL, {.queue_packets = DEFQ}, {.queue_packets = DEFQ}},
    {SIDES "--rate-kbit 384 --delay-ms 70",
     0,
     NULL,
     {.rate_bps = 384000, .delay_ns = 70000000, .queue_packets = DEFQ},
     {.rate_bps = 384000, .delay_ns = 70000000, .queue_packets = DEFQ}},
    {SIDES "--down-rate-kbit 2000 --rate-kbit 384",
     0,
     NULL,
     {.rate_bps = 2000000, .queue_packets = DEFQ},
     {.rate_bps = 384000, .queue_packets = DEFQ}},
    {SIDES "--rate-kbit 384 --up-rate-kbit 128 --up-delay-ms 0.5 --delay-ms 20",
     0,
     NULL,
     {.rate_bps = 384000, .delay_ns = 20000000, .queue_packets = DEFQ},
     {.rate_bps = 128000, .delay_ns = 500000, .queue_packets = DEFQ}},
    {SIDES "--queue-bytes 32768 --up-queue-packets 10",
     0,
     NULL,
     {.queue_bytes = 32768},
     {.queue_bytes = 32768, .queue_packets = 10}},
    {SIDES "--down-queue-bytes 1500", 0, NULL, {.queue_bytes = 1500}, {.queue_packets = DEFQ}},
    {SIDES "--loss 0.1 --down-loss 0.25 --corrupt-down 5",
     0,
     NULL,
     {.loss_ppb = 250000000, .corrupt_every = 5, .queue_packets = DEFQ},
     {.loss_ppb = 100000000, .queue_packets = DEFQ}},
    {SIDES "--rate-kbit 10000000 --delay-ms 10000 --loss 1",
     0,
     NULL,
     {.rate_bps = 10000000000ull,
      .delay_ns = 10000000000ull,
      .loss_ppb = 1000000000,
      .queue_packets = DEFQ},
     {.rate_bps = 10000000000ull,
      .delay_ns = 10000000000ull,
      .loss_ppb = 1000000000,
      .queue_packets = DEFQ}},
    {SIDES "--rate-kbit 10000001", -1, "--rate-kbit: out of range", {0}, {0}},
    {SIDES "--up-rate-kbit 1.5", -1, "--rate-kbit: not a whole number", {0}, {0}},
    {SIDES "--delay-ms 10000.5", -1, "--delay-ms: out of range", {0}, {0}},
    {SIDES "--delay-ms 1,5", -1, "--delay-ms: not a decimal", {0}, {0}},
    {SIDES "--loss 1.1", -1, "--loss: out of range", {0}, {0}},
    {SIDES "--loss -0.1", -1, "--loss: not a decimal", {0}, {0}},
    {SIDES "--queue-bytes 0", -1, "--queue-bytes: out of range", {0}, {0}},
    {SIDES "--queue-bytes 268435457", -1, "--queue-bytes: out of range", {0}, {0}},
    {SIDES "--queue-packets 1000001", -1, "--queue-packets: out of range", {0}, {0}},
    {SIDES "--corrupt-down 0", -1, "--corrupt: out of range", {0}, {0}},
    {SIDES "--seed x", -1, "--seed", {0}, {0}},
    {SIDES "--rate-kbit", -1, "missing value", {0}, {0}},
    {SIDES "--bogus 1", -1, "unknown option", {0}, {0}},
    {SIDES "extra", -1, "unexpected argument", {0}, {0}},
    {"--a c1:wan0", -1, "both --a and --b", {0}, {0}},
    {"--a c1 --b b1:wan0", -1, "--a: expected NETNS:IFNAME", {0}, {0}},
    {"--a :wan0 --b b1:wan0", -1, "--a: bad namespace", {0}, {0}},
    {"--a ../x:wan0 --b b1:wan0", -1, "--a: bad namespace", {0}, {0}},
    {"--a ..:wan0 --b b1:wan0", -1, "--a: bad namespace", {0}, {0}},
    {"--a c1:wan0 --b b1:", -1, "--b: bad interface", {0}, {0}},
    {"--a c1:wan0 --b b1:a:b", -1, "--b: bad interface", {0}, {0}},
    {"--a c1:wan0 --b b1:0123456789abcdef", -1, "--b: bad interface", {0}, {0}},
    {"--a c1:wan0 --b b1:0123456789abcde",
     0,
     NULL,
     {.queue_packets = DEFQ},
     {.queue_packets = DEFQ}},
};

/* Splits args at spaces into argv (argv[0] is "wanemu"); returns argc. */
static int split(const char *args, char *buf, size_t cap, char **argv, int max)
{
    int argc = 0;
    char *save = NULL;

    snprintf(buf, cap, "%s", args);
    argv[argc++] = (char *)"wanemu";
    for (char *t = strtok_r(buf, " ", &save); t && argc < max - 1; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    return argc;
}

static void check_params(const char *args, const char *dir, const struct wanlink_params *got,
                         const struct wanlink_params *want)
{
    if (got->rate_bps != want->rate_bps || got->delay_ns != want->delay_ns ||
        got->queue_bytes != want->queue_bytes || got->queue_packets != want->queue_packets ||
        got->loss_ppb != want->loss_ppb || got->corrupt_every != want->corrupt_every)
        fail_msg("\"%s\" %s: rate %llu delay %llu qb %llu qp %llu loss %u corrupt %llu", args, dir,
                 (unsigned long long)got->rate_bps, (unsigned long long)got->delay_ns,
                 (unsigned long long)got->queue_bytes, (unsigned long long)got->queue_packets,
                 got->loss_ppb, (unsigned long long)got->corrupt_every);
}

static void test_wanopts_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parses) / sizeof(parses[0]); i++) {
        const struct parse_case *t = &parses[i];
        char buf[512], err[256] = "";
        char *argv[32];
        struct wanopts o;
        int argc = split(t->args, buf, sizeof(buf), argv, 32);
        int rc = wanopts_parse(argc, argv, &o, err, sizeof(err));

        if (rc != t->rc)
            fail_msg("\"%s\": rc %d, expected %d (%s)", t->args, rc, t->rc, err);
        if (rc < 0) {
            if (!strstr(err, t->err))
                fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", t->args, err, t->err);
            continue;
        }
        check_params(t->args, "down", &o.dir[WANOPTS_DOWN], &t->down);
        check_params(t->args, "up", &o.dir[WANOPTS_UP], &t->up);
    }
}

static void test_wanopts_sides_and_flags(void **state)
{
    char buf[512], err[256];
    char *argv[32];
    struct wanopts o;
    int argc = split("--a ls1c:wan0 --b ls1b:tun7 --stats /tmp/s.json --seed 42 --realtime", buf,
                     sizeof(buf), argv, 32);

    (void)state;
    assert_int_equal(wanopts_parse(argc, argv, &o, err, sizeof(err)), 0);
    assert_string_equal(o.a.netns, "ls1c");
    assert_string_equal(o.a.ifname, "wan0");
    assert_string_equal(o.b.netns, "ls1b");
    assert_string_equal(o.b.ifname, "tun7");
    assert_string_equal(o.stats_path, "/tmp/s.json");
    assert_int_equal(o.seed, 42);
    assert_true(o.realtime);
    assert_false(o.help);
    /* --help needs nothing else; a second parse starts afresh. */
    argc = split("--help", buf, sizeof(buf), argv, 32);
    assert_int_equal(wanopts_parse(argc, argv, &o, err, sizeof(err)), 0);
    assert_true(o.help);
    assert_null(o.stats_path);
    assert_int_equal(o.seed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wanopts_decimal),
        cmocka_unit_test(test_wanopts_parse),
        cmocka_unit_test(test_wanopts_sides_and_flags),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
