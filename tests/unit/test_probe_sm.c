/* test_probe_sm.c: the load-server probe's state machine driven by a table
 * of scripts (OACK with and without tsize, DATA from a server that ignores
 * options, ERROR 1 and others, silence and resends), and every truncation
 * and garbage datagram leaving it waiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/upstream/probe_sm.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SERVER       4242
#define MAXSTEPS     8

/* One step: a datagram (raw bytes, raw_len > 0) or a tick to at_ms. */
struct step {
    const char *raw;
    size_t raw_len;
    int64_t at_ms;
    int want;          /* result after the step */
    uint16_t want_op;  /* opcode sent, 0: nothing */
    uint16_t want_arg; /* ERROR code sent */
    bool want_tid;     /* sent to the answer's port */
};

struct script {
    const char *name;
    uint32_t blksize;
    uint64_t want_size;
    const char *want_why; /* a part of why at the end */
    struct step steps[MAXSTEPS];
};

#define PKT(s)  s, sizeof(s) - 1
#define TICK(t) NULL, 0, t

static const struct script scripts[] = {
    {"oack with tsize: sized, ERROR 8",
     1468,
     123456,
     "123456 bytes",
     {{PKT("\0\6tsize\0"
           "123456\0blksize\0"
           "1468\0"),
       0, PROBE_SM_SIZED, TFTP_OP_ERROR, 8, true}}},
    {"oack with tsize only, 512 asks no blksize",
     512,
     7,
     "7 bytes",
     {{PKT("\0\6tsize\0"
           "7\0"),
       0, PROBE_SM_SIZED, TFTP_OP_ERROR, 8, true}}},
    {"oack without tsize: present, unsized",
     1468,
     0,
     "no tsize",
     {{PKT("\0\6blksize\0"
           "1468\0"),
       0, PROBE_SM_UNSIZED, TFTP_OP_ERROR, 8, true}}},
    {"data 1 (options ignored): present, ERROR 0",
     1468,
     0,
     "ignored tsize",
     {{PKT("\0\3\0\1abcdef"), 0, PROBE_SM_UNSIZED, TFTP_OP_ERROR, 0, true}}},
    {"empty data 1 (empty file): present",
     1468,
     0,
     "DATA",
     {{PKT("\0\3\0\1"), 0, PROBE_SM_UNSIZED, TFTP_OP_ERROR, 0, true}}},
    {"error 1: missing",
     1468,
     0,
     "missing",
     {{PKT("\0\5\0\1File not found\0"), 0, PROBE_SM_MISSING, 0, 0, false}}},
    {"error 2: refused, the message cleaned",
     1468,
     0,
     "ERROR 2 \"Perm\\x1bdenied\"",
     {{PKT("\0\5\0\2Perm\x1b"
           "denied\0"),
       0, PROBE_SM_REFUSED, 0, 0, false}}},
    {"data 2 first, ack, rrq: ignored, then the oack",
     1468,
     9,
     "9 bytes",
     {{PKT("\0\3\0\2xx"), 0, PROBE_SM_GOING, 0, 0, false},
      {PKT("\0\4\0\1"), 0, PROBE_SM_GOING, 0, 0, false},
      {PKT("\0\1x\0octet\0"), 0, PROBE_SM_GOING, 0, 0, false},
      {PKT("\0\6tsize\0"
           "9\0"),
       0, PROBE_SM_SIZED, TFTP_OP_ERROR, 8, true}}},
    {"garbage: bad opcode, tsize out of range, no NUL",
     1468,
     0,
     "missing",
     {{PKT("\0\11zzzz"), 0, PROBE_SM_GOING, 0, 0, false},
      {PKT("\0\6tsize\0"
           "99999999999999999999\0"),
       0, PROBE_SM_GOING, 0, 0, false},
      {PKT("\0\6tsize\0"
           "12"),
       0, PROBE_SM_GOING, 0, 0, false},
      {PKT("\0\5\0\1gone\0"), 0, PROBE_SM_MISSING, 0, 0, false}}},
    {"silence: two resends, then no answer",
     1468,
     0,
     "no answer to 3 requests",
     {{TICK(1999), PROBE_SM_GOING, 0, 0, false},
      {TICK(2000), PROBE_SM_GOING, TFTP_OP_RRQ, 0, false},
      {TICK(4000), PROBE_SM_GOING, TFTP_OP_RRQ, 0, false},
      {TICK(5999), PROBE_SM_GOING, 0, 0, false},
      {TICK(6000), PROBE_SM_NO_ANSWER, 0, 0, false},
      {TICK(90000), PROBE_SM_NO_ANSWER, 0, 0, false}}},
    {"one resend then the answer",
     1468,
     1,
     "1 bytes",
     {{TICK(2000), PROBE_SM_GOING, TFTP_OP_RRQ, 0, false},
      {PKT("\0\6tsize\0"
           "1\0"),
       0, PROBE_SM_SIZED, TFTP_OP_ERROR, 8, true},
      {PKT("\0\6tsize\0"
           "5\0"),
       0, PROBE_SM_SIZED, 0, 0, false},
      {TICK(90000), PROBE_SM_SIZED, 0, 0, false}}},
};

static uint16_t op_of(const struct probe_sm_action *a)
{
    return a->send_len >= 2 ? (uint16_t)(a->send[0] << 8 | a->send[1]) : 0;
}

static void check_sent(const struct step *st, const struct probe_sm_action *a)
{
    assert_int_equal(op_of(a), st->want_op);
    if (st->want_op == TFTP_OP_ERROR)
        assert_int_equal(a->send[2] << 8 | a->send[3], st->want_arg);
    if (st->want_op != 0)
        assert_int_equal(a->to_tid, st->want_tid);
}

static void run_script(const struct script *sc)
{
    struct probe_sm_params p;
    struct probe_sm sm;
    struct probe_sm_action a;
    struct tftp_request req;
    int rc;

    probe_sm_params_default(&p);
    p.blksize = sc->blksize;
    assert_int_equal(probe_sm_start(&sm, &p, "SIP78xx.14-2-1.loads", 0, &a), PROBE_SM_GOING);
    assert_int_equal(tftp_packet_parse_request(a.send, a.send_len, &req), TFTP_PARSE_OK);
    assert_string_equal(req.filename, "SIP78xx.14-2-1.loads");
    assert_true(req.opts.present & TFTP_OPT_TSIZE);
    assert_int_equal(!!(req.opts.present & TFTP_OPT_BLKSIZE), sc->blksize != 512);
    for (size_t i = 0; i < MAXSTEPS && (sc->steps[i].raw || sc->steps[i].at_ms); i++) {
        const struct step *st = &sc->steps[i];

        if (st->raw != NULL)
            rc = probe_sm_on_packet(&sm, (const uint8_t *)st->raw, st->raw_len, SERVER, &a);
        else
            rc = probe_sm_on_timer(&sm, st->at_ms, &a);
        assert_int_equal(rc, st->want);
        check_sent(st, &a);
    }
    assert_int_equal(sm.size, sc->want_size);
    assert_non_null(strstr(sm.why, sc->want_why));
}

static void test_scripts(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(scripts); i++) {
        print_message("  %s\n", scripts[i].name);
        run_script(&scripts[i]);
    }
}

/* Every prefix of a valid answer shorter than a whole packet is ignored:
 * the machine still waits, sends nothing, and takes the whole one after. */
static void test_truncated(void **state)
{
    static const char oack[] = "\0\6tsize\0"
                               "4096\0";
    static const char err[] = "\0\5\0\1nope\0";
    struct probe_sm_params p;
    struct probe_sm sm;
    struct probe_sm_action a;

    (void)state;
    probe_sm_params_default(&p);
    probe_sm_start(&sm, &p, "a.bin", 0, &a);
    for (size_t n = 0; n < sizeof(oack) - 1; n++) {
        /* "\0\6tsize\0" + "4096" without its NUL is truncated too. */
        assert_int_equal(probe_sm_on_packet(&sm, (const uint8_t *)oack, n, SERVER, &a),
                         n == 2 ? PROBE_SM_UNSIZED : PROBE_SM_GOING);
        if (n == 2) /* a bare OACK names no option: present, unsized */
            probe_sm_start(&sm, &p, "a.bin", 0, &a);
        else
            assert_int_equal(a.send_len, 0);
    }
    /* An ERROR shorter than its code is nothing; from its code on, the
     * codec keeps what message there is (servers that leave out the NUL). */
    for (size_t n = 0; n < 4; n++)
        assert_int_equal(probe_sm_on_packet(&sm, (const uint8_t *)err, n, SERVER, &a),
                         PROBE_SM_GOING);
    assert_int_equal(probe_sm_on_packet(&sm, (const uint8_t *)oack, sizeof(oack) - 1, SERVER, &a),
                     PROBE_SM_SIZED);
    assert_int_equal(sm.size, 4096);
    assert_int_equal(sm.tid, SERVER);
}

static void test_bad_start(void **state)
{
    struct probe_sm_params p;
    struct probe_sm sm;
    struct probe_sm_action a;
    char name[600];

    (void)state;
    probe_sm_params_default(&p);
    assert_int_equal(probe_sm_start(&sm, &p, "", 0, &a), PROBE_SM_NO_ANSWER);
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(probe_sm_start(&sm, &p, name, 0, &a), PROBE_SM_NO_ANSWER);
    assert_int_equal(a.send_len, 0);
    p.tries = 0;
    assert_int_equal(probe_sm_start(&sm, &p, "x", 0, &a), PROBE_SM_NO_ANSWER);
    probe_sm_params_default(&p);
    p.timeout_ms = 10;
    assert_int_equal(probe_sm_start(&sm, &p, "x", 0, &a), PROBE_SM_NO_ANSWER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_start),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
