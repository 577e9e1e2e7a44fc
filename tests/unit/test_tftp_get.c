/* test_tftp_get.c: the branch's TFTP read state machine driven by scripts of
 * datagrams and clock ticks (OACK subsets, lock-step, windows with gaps and
 * duplicates, rollover, errors, strangers, resends, limits), and every
 * truncation and garbage datagram leaving it where it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/upstream/tftp_get.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SERVER       4242 /* the server's transfer port */
#define MAXSTEPS     24

/* One step: a datagram (op != 0) or a tick of the clock to at_ms. */
struct step {
    uint16_t op; /* TFTP_OP_*; 0: the timer at at_ms */
    uint16_t block;
    uint16_t len;     /* DATA payload bytes; ERROR code */
    const char *text; /* OACK options "name=value,..."; ERROR message */
    uint16_t port;    /* 0: SERVER */
    int64_t at_ms;
    int want;            /* status after the step */
    uint16_t want_op;    /* opcode sent, 0: nothing */
    uint16_t want_block; /* ACK block or ERROR code sent */
    size_t want_data;    /* bytes to keep */
};

struct script {
    const char *name;
    uint32_t blksize, windowsize;
    uint64_t max;
    struct step steps[MAXSTEPS];
};

/* Builds the datagram of a step into buf; its length. */
static size_t build(const struct step *s, uint8_t *buf, size_t cap)
{
    size_t n = 2;
    char opts[256], *save = NULL;

    buf[0] = 0;
    buf[1] = (uint8_t)s->op;
    if (s->op == TFTP_OP_DATA || s->op == TFTP_OP_ACK) {
        buf[2] = (uint8_t)(s->block >> 8);
        buf[3] = (uint8_t)s->block;
        memset(buf + 4, 'x', s->len);
        return 4 + (s->op == TFTP_OP_DATA ? s->len : 0);
    }
    if (s->op == TFTP_OP_ERROR) {
        buf[2] = (uint8_t)(s->len >> 8);
        buf[3] = (uint8_t)s->len;
        snprintf((char *)buf + 4, cap - 4, "%s", s->text);
        return 4 + strlen(s->text) + 1;
    }
    snprintf(opts, sizeof(opts), "%s", s->text ? s->text : "");
    for (char *kv = strtok_r(opts, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');

        *eq = '\0';
        n += (size_t)snprintf((char *)buf + n, cap - n, "%s", kv) + 1;
        n += (size_t)snprintf((char *)buf + n, cap - n, "%s", eq + 1) + 1;
    }
    return n;
}

static void check_action(const struct script *sc, size_t i, const struct tftp_get_action *a)
{
    const struct step *s = &sc->steps[i];

    if (s->want_op == TFTP_OP_RRQ) {
        assert_true(a->send_len > 4 && a->send[1] == TFTP_OP_RRQ);
    } else if (s->want_op == 0) {
        if (a->send_len != 0)
            fail_msg("%s step %zu: sent opcode %u, expected nothing", sc->name, i, a->send[1]);
        assert_int_equal(a->send_len, 0);
    } else {
        assert_true(a->send_len >= 4);
        if (a->send[1] != s->want_op || ((a->send[2] << 8) | a->send[3]) != s->want_block)
            fail_msg("%s step %zu: sent op %u block/code %u, expected %u %u", sc->name, i,
                     a->send[1], (a->send[2] << 8) | a->send[3], s->want_op, s->want_block);
    }
    assert_int_equal(a->data_len, s->want_data);
    assert_int_equal(a->to_stranger, s->port != 0 && s->port != SERVER);
}

static void run_script(const struct script *sc)
{
    struct tftp_get_params p;
    struct tftp_get g;
    struct tftp_get_action a;
    uint8_t buf[TFTP_DATAGRAM_MAX];

    tftp_get_params_default(&p, sc->max ? sc->max : 1 << 20);
    p.blksize = sc->blksize ? sc->blksize : 512;
    p.windowsize = sc->windowsize ? sc->windowsize : 1;
    assert_int_equal(tftp_get_start(&g, &p, "f.bin", 0, &a), TFTP_GET_GOING);
    assert_int_equal(a.send[1], TFTP_OP_RRQ);
    for (size_t i = 0; i < MAXSTEPS && (sc->steps[i].op != 0 || sc->steps[i].at_ms != 0); i++) {
        const struct step *s = &sc->steps[i];
        int rc;

        if (s->op == 0) {
            rc = tftp_get_on_timer(&g, s->at_ms, &a);
        } else {
            size_t n = build(s, buf, sizeof(buf));

            rc = tftp_get_on_packet(&g, buf, n, s->port ? s->port : SERVER, s->at_ms, &a);
        }
        if (rc != s->want)
            fail_msg("%s step %zu: status %d, expected %d (%s)", sc->name, i, rc, s->want, g.why);
        check_action(sc, i, &a);
    }
}

/* A step is {WHAT, status, SENDS(...) or NOTHING(...)}. */
#define D(b, n)            TFTP_OP_DATA, b, n, NULL, 0, 0
#define OACK(t)            TFTP_OP_OACK, 0, 0, t, 0, 0
#define ERR(c, t)          TFTP_OP_ERROR, 0, c, t, 0, 0
#define TICK(ms)           0, 0, 0, NULL, 0, ms
#define GOING              TFTP_GET_GOING
#define ACK                TFTP_OP_ACK
#define SENDS(op, b, kept) op, b, kept
#define NOTHING(kept)      0, 0, kept

static const struct script scripts[] = {
    {"lock-step, no OACK (RFC 1350)",
     512,
     1,
     0,
     {{D(1, 512), GOING, SENDS(ACK, 1, 512)},
      {D(1, 512), GOING, SENDS(ACK, 1, 0)}, /* our ACK was lost: again, once */
      {D(2, 512), GOING, SENDS(ACK, 2, 512)},
      {D(3, 0), TFTP_GET_DONE, SENDS(ACK, 3, 0)}}},
    {"asked 1468/16, the server knows no option: DATA 1 of 512",
     1468,
     16,
     0,
     {{D(1, 512), GOING, SENDS(ACK, 1, 512)}, {D(2, 100), TFTP_GET_DONE, SENDS(ACK, 2, 100)}}},
    {"OACK grants less: blksize 1024, windowsize 2, tsize",
     1468,
     16,
     0,
     {{OACK("blksize=1024,windowsize=2,tsize=2100"), GOING, SENDS(ACK, 0, 0)},
      {D(1, 1024), GOING, NOTHING(1024)},
      {D(2, 1024), GOING, SENDS(ACK, 2, 1024)},
      {D(3, 52), TFTP_GET_DONE, SENDS(ACK, 3, 52)}}},
    {"OACK again after our ACK 0 was lost",
     1468,
     4,
     0,
     {{OACK("blksize=1468"), GOING, SENDS(ACK, 0, 0)},
      {OACK("blksize=1468"), GOING, SENDS(ACK, 0, 0)},
      {D(1, 5), TFTP_GET_DONE, SENDS(ACK, 1, 5)}}},
    {"a gap in a window: one ACK of the last in order, then the rest",
     512,
     4,
     0,
     {{OACK("windowsize=4"), GOING, SENDS(ACK, 0, 0)},
      {D(1, 512), GOING, NOTHING(512)},
      {D(3, 512), GOING, SENDS(ACK, 1, 0)},
      {D(4, 512), GOING, NOTHING(0)},
      {D(2, 512), GOING, NOTHING(512)},
      {D(3, 512), GOING, NOTHING(512)},
      {D(4, 512), GOING, NOTHING(512)},
      {D(5, 512), GOING, SENDS(ACK, 5, 512)},
      {D(6, 1), TFTP_GET_DONE, SENDS(ACK, 6, 1)}}},
    {"tsize not what came",
     512,
     1,
     0,
     {{OACK("tsize=600"), GOING, SENDS(ACK, 0, 0)},
      {D(1, 512), GOING, SENDS(ACK, 1, 512)},
      {D(2, 10), TFTP_GET_FAILED, SENDS(ACK, 2, 10)}}},
    {"OACK blksize over the asked",
     1024,
     1,
     0,
     {{OACK("blksize=1468"), TFTP_GET_FAILED, SENDS(TFTP_OP_ERROR, TFTP_ERR_OPTION, 0)}}},
    {"OACK blksize not asked",
     512,
     1,
     0,
     {{OACK("blksize=1024"), TFTP_GET_FAILED, SENDS(TFTP_OP_ERROR, TFTP_ERR_OPTION, 0)}}},
    {"OACK windowsize not asked",
     1468,
     1,
     0,
     {{OACK("windowsize=8"), TFTP_GET_FAILED, SENDS(TFTP_OP_ERROR, TFTP_ERR_OPTION, 0)}}},
    {"OACK windowsize over the asked",
     1468,
     8,
     0,
     {{OACK("windowsize=9"), TFTP_GET_FAILED, SENDS(TFTP_OP_ERROR, TFTP_ERR_OPTION, 0)}}},
    {"OACK timeout never asked",
     1468,
     8,
     0,
     {{OACK("timeout=3"), TFTP_GET_FAILED, SENDS(TFTP_OP_ERROR, TFTP_ERR_OPTION, 0)}}},
    {"tsize over the limit: ERROR 3 (RFC 2349)",
     1468,
     8,
     1000,
     {{OACK("tsize=1001"), TFTP_GET_TOO_BIG, SENDS(TFTP_OP_ERROR, TFTP_ERR_DISK_FULL, 0)}}},
    {"bytes over the limit without tsize",
     512,
     1,
     1000,
     {{D(1, 512), GOING, SENDS(ACK, 1, 512)},
      {D(2, 512), TFTP_GET_TOO_BIG, SENDS(TFTP_OP_ERROR, TFTP_ERR_DISK_FULL, 0)}}},
    {"DATA larger than the blksize granted",
     1468,
     1,
     0,
     {{OACK("blksize=600"), GOING, SENDS(ACK, 0, 0)},
      {D(1, 601), TFTP_GET_FAILED, SENDS(TFTP_OP_ERROR, TFTP_ERR_ILLEGAL_OP, 0)}}},
    {"ERROR 1: absent", 1468, 16, 0, {{ERR(1, "File not found"), TFTP_GET_ABSENT, NOTHING(0)}}},
    {"ERROR 2 with control bytes: failed",
     1468,
     16,
     0,
     {{ERR(2, "no\x1b[31m access"), TFTP_GET_FAILED, NOTHING(0)}}},
    {"an ERROR mid-transfer",
     512,
     1,
     0,
     {{D(1, 512), GOING, SENDS(ACK, 1, 512)}, {ERR(0, "gone"), TFTP_GET_FAILED, NOTHING(0)}}},
    {"a stranger gets ERROR 5, the transfer goes on",
     512,
     1,
     0,
     {{D(1, 512), GOING, SENDS(ACK, 1, 512)},
      {TFTP_OP_DATA, 2, 512, NULL, 999, 0, GOING, SENDS(TFTP_OP_ERROR, TFTP_ERR_UNKNOWN_TID, 0)},
      {D(2, 3), TFTP_GET_DONE, SENDS(ACK, 2, 3)}}},
    {"an ACK from the server is ignored",
     512,
     1,
     0,
     {{TFTP_OP_ACK, 1, 0, NULL, 0, 0, GOING, NOTHING(0)},
      {D(1, 0), TFTP_GET_DONE, SENDS(ACK, 1, 0)}}},
    {"silence: the RRQ again at 1 s, 3 s, then given up",
     1468,
     16,
     0,
     {{TICK(999), GOING, NOTHING(0)},
      {TICK(1000), GOING, SENDS(TFTP_OP_RRQ, 0, 0)},
      {TICK(2999), GOING, NOTHING(0)},
      {TICK(3000), GOING, SENDS(TFTP_OP_RRQ, 0, 0)},
      {TICK(7000), GOING, SENDS(TFTP_OP_RRQ, 0, 0)},
      {TICK(15000), GOING, SENDS(TFTP_OP_RRQ, 0, 0)},
      {TICK(23000), GOING, SENDS(TFTP_OP_RRQ, 0, 0)},
      {TICK(31000), TFTP_GET_FAILED, NOTHING(0)}}},
    {"silence mid-window: the ACK of what came, and progress resets the timer",
     512,
     4,
     0,
     {{OACK("windowsize=4"), GOING, SENDS(ACK, 0, 0)},
      {D(1, 512), GOING, NOTHING(512)},
      {TICK(1000), GOING, SENDS(ACK, 1, 0)},
      {D(3, 512), GOING, NOTHING(0)}, /* acked already for this gap */
      {TFTP_OP_DATA, 2, 512, NULL, 0, 1500, GOING, NOTHING(512)},
      {TICK(2499), GOING, NOTHING(0)},
      {TICK(2500), GOING, SENDS(ACK, 2, 0)},
      {D(3, 7), TFTP_GET_DONE, SENDS(ACK, 3, 7)}}},
};

static void test_scripts(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(scripts); i++)
        run_script(&scripts[i]);
}

/* The request: what is asked for, and nothing when 512 and 1. */
static void test_request(void **state)
{
    static const struct {
        uint32_t blksize, windowsize;
        const char *name, *value, *lacks;
    } cases[] = {
        {1468, 16, "blksize", "1468", "timeout"},   {1468, 16, "windowsize", "16", "timeout"},
        {512, 1, "tsize", "0", "blksize"},          {512, 1, "f.bin", "octet", "windowsize"},
        {1024, 1, "blksize", "1024", "windowsize"},
    };
    char pair[64];
    size_t n;
    struct tftp_get_params p;
    struct tftp_get g;
    struct tftp_get_action a;
    char name[TFTP_REQUEST_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        tftp_get_params_default(&p, 1000);
        p.blksize = cases[i].blksize;
        p.windowsize = cases[i].windowsize;
        assert_int_equal(tftp_get_start(&g, &p, "f.bin", 0, &a), TFTP_GET_GOING);
        n = (size_t)snprintf(pair, sizeof(pair), "%s", cases[i].name) + 1;
        n += (size_t)snprintf(pair + n, sizeof(pair) - n, "%s", cases[i].value) + 1;
        assert_non_null(memmem(a.send, a.send_len, pair, n));
        if (cases[i].lacks != NULL)
            assert_null(memmem(a.send, a.send_len, cases[i].lacks, strlen(cases[i].lacks)));
    }
    /* A name that does not fit a request, bad parameters: refused at once. */
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    tftp_get_params_default(&p, 1000);
    assert_int_equal(tftp_get_start(&g, &p, name, 0, &a), TFTP_GET_FAILED);
    assert_int_equal(tftp_get_start(&g, &p, "", 0, &a), TFTP_GET_FAILED);
    p.windowsize = 0;
    assert_int_equal(tftp_get_start(&g, &p, "x", 0, &a), TFTP_GET_FAILED);
    tftp_get_params_default(&p, 1000);
    p.blksize = 7;
    assert_int_equal(tftp_get_start(&g, &p, "x", 0, &a), TFTP_GET_FAILED);
}

/* Block numbers roll over past 65535 to 0, as tftpd-hpa and loadsd send them. */
static void test_rollover(void **state)
{
    struct tftp_get_params p;
    struct tftp_get g;
    struct tftp_get_action a;
    uint8_t d[4 + 8] = {0, TFTP_OP_DATA};

    (void)state;
    tftp_get_params_default(&p, UINT64_MAX);
    p.blksize = 8;
    p.windowsize = 1;
    tftp_get_start(&g, &p, "big", 0, &a);
    assert_int_equal(tftp_get_on_packet(&g,
                                        (const uint8_t *)"\0\6blksize\0"
                                                         "8",
                                        12, SERVER, 0, &a),
                     TFTP_GET_GOING);
    for (uint32_t b = 1; b <= 65537; b++) {
        d[2] = (uint8_t)(b >> 8 & 0xff);
        d[3] = (uint8_t)(b & 0xff);
        assert_int_equal(tftp_get_on_packet(&g, d, sizeof(d), SERVER, 0, &a), TFTP_GET_GOING);
        assert_int_equal(a.data_len, 8);
        assert_int_equal(a.data_off, (uint64_t)(b - 1) * 8);
    }
    assert_int_equal(tftp_get_on_packet(&g, d, 4, SERVER, 0, &a), TFTP_GET_GOING); /* a dup */
    d[3] = 2;
    assert_int_equal(tftp_get_on_packet(&g, d, 4, SERVER, 0, &a), TFTP_GET_DONE);
    assert_int_equal(g.bytes, (uint64_t)65537 * 8);
}

/* Every cut of an OACK, and datagrams of garbage, leave the state as it
 * was; DATA shorter than its header too. */
static void test_truncated_and_garbage(void **state)
{
    static const uint8_t oack[] = "\0\6blksize\0"
                                  "1024\0windowsize\0"
                                  "4\0tsize\0"
                                  "99";
    static const struct {
        const char *b;
        size_t len;
    } garbage[] = {
        {"", 0},
        {"\0", 1},
        {"\0\0\0\1", 4},        /* opcode 0 */
        {"\0\11\0\1", 4},       /* opcode 9 */
        {"\377\377\0\1", 4},    /* opcode 65535 */
        {"\0\1a\0octet\0", 10}, /* an RRQ to a client */
        {"\0\2a\0octet\0", 10}, /* a WRQ */
        {"\0\3\0", 3},          /* DATA without its block */
        {"\0\5\0", 3},          /* ERROR without its code */
        {"\0\4\0\1", 4},        /* an ACK */
        {"\0\6blksize", 9},     /* an option without its end */
        {"\0\6blksize\0"
         "abc\0",
         14}, /* not a number */
        {"\0\6blksize\0"
         "7\0",
         12}, /* under RFC 2348's 8 */
        {"\0\6tsize\0"
         "1\0tsize\0"
         "2\0",
         18}, /* twice */
        {"\0\6windowsize\0"
         "0\0",
         15}, /* under RFC 7440's 1 */
    };
    struct tftp_get_params p;
    struct tftp_get g, before;
    struct tftp_get_action a;
    int rc;

    (void)state;
    tftp_get_params_default(&p, 1000);
    tftp_get_start(&g, &p, "f", 0, &a);
    for (size_t i = 0; i < ARRAY_LEN(garbage); i++) {
        before = g;
        assert_int_equal(
            tftp_get_on_packet(&g, (const uint8_t *)garbage[i].b, garbage[i].len, SERVER, 5, &a),
            TFTP_GET_GOING);
        assert_int_equal(a.send_len, 0);
        assert_int_equal(a.data_len, 0);
        assert_int_equal(g.state, before.state);
        assert_int_equal(g.tid_known, before.tid_known);
    }
    for (size_t n = 0; n < sizeof(oack); n++) {
        before = g;
        rc = tftp_get_on_packet(&g, oack, n, SERVER, 5, &a);
        if (g.state != before.state) { /* a cut at an option's end is a shorter, valid OACK */
            assert_int_equal(rc, TFTP_GET_GOING);
            assert_int_equal(a.send[1], TFTP_OP_ACK);
            g = before;
            continue;
        }
        assert_int_equal(rc, TFTP_GET_GOING);
        assert_int_equal(a.send_len, 0);
    }
    assert_int_equal(tftp_get_on_packet(&g, oack, sizeof(oack), SERVER, 5, &a), TFTP_GET_GOING);
    assert_int_equal(g.blksize, 1024);
    assert_int_equal(g.windowsize, 4);
    assert_true(g.tsize_known);
    assert_int_equal(g.tsize, 99);
    /* After the end, nothing moves it. */
    g.state = TFTP_GET_END;
    g.status = TFTP_GET_DONE;
    assert_int_equal(tftp_get_on_packet(&g, oack, sizeof(oack), SERVER, 5, &a), TFTP_GET_DONE);
    assert_int_equal(tftp_get_on_timer(&g, 1000000, &a), TFTP_GET_DONE);
    assert_int_equal(a.send_len, 0);
}

/* An ERROR's text reaches the log cleaned: no control byte survives. */
static void test_error_text_clean(void **state)
{
    static const uint8_t e[] = "\0\5\0\2bad\x1b[2J\nline\x7f";
    struct tftp_get_params p;
    struct tftp_get g;
    struct tftp_get_action a;

    (void)state;
    tftp_get_params_default(&p, 1000);
    tftp_get_start(&g, &p, "f", 0, &a);
    assert_int_equal(tftp_get_on_packet(&g, e, sizeof(e) - 1, SERVER, 0, &a), TFTP_GET_FAILED);
    for (const char *c = g.why; *c != '\0'; c++)
        assert_true(*c >= 0x20 && *c < 0x7f);
    assert_non_null(strstr(g.why, "ERROR 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),          cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_rollover),         cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_error_text_clean),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
