/* test_tftp_packet.c: table-driven cmocka tests of the TFTP wire codec:
 * every packet type, every option and its bounds, truncation at every length
 * (exact-size heap copies, so ASan sees any overread), builders, netascii.
 * Never opens a socket or a file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "server/tftp/tftp_packet.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PKT_CAP      2048
#define FIELDS_MAX   32

/* A packet written field by field; ends[i] is the offset just after field i's NUL. */
struct pkt {
    uint8_t b[PKT_CAP];
    size_t len;
    size_t ends[FIELDS_MAX];
    size_t nfields;
};

static void pkt_u16(struct pkt *p, uint16_t v)
{
    p->b[p->len++] = (uint8_t)(v >> 8);
    p->b[p->len++] = (uint8_t)(v & 0xff);
}

static void pkt_str(struct pkt *p, const char *s)
{
    size_t n = strlen(s) + 1;

    assert_true(p->len + n <= PKT_CAP);
    memcpy(p->b + p->len, s, n);
    p->len += n;
    assert_true(p->nfields < FIELDS_MAX);
    p->ends[p->nfields++] = p->len;
}

static void pkt_bytes(struct pkt *p, uint8_t byte, size_t n)
{
    assert_true(p->len + n <= PKT_CAP);
    memset(p->b + p->len, byte, n);
    p->len += n;
}

/* An opcode, then each string of the NULL-terminated list with its NUL. */
static void pkt_make(struct pkt *p, uint16_t op, const char *const *fields)
{
    memset(p, 0, sizeof(*p));
    pkt_u16(p, op);
    for (size_t i = 0; fields[i] != NULL; i++)
        pkt_str(p, fields[i]);
}

/* Parses from an exactly-sized heap copy, checking the parser wrote nothing. */
static int parse_request_copy(const uint8_t *src, size_t len, struct tftp_request *req,
                              uint8_t **keep)
{
    uint8_t *buf = malloc(len > 0 ? len : 1);
    int rc;

    assert_non_null(buf);
    memcpy(buf, src, len);
    rc = tftp_packet_parse_request(buf, len, req);
    assert_memory_equal(buf, src, len);
    if (keep != NULL)
        *keep = buf;
    else
        free(buf);
    return rc;
}

static int parse_copy(const uint8_t *src, size_t len, struct tftp_packet *pkt, uint8_t **keep)
{
    uint8_t *buf = malloc(len > 0 ? len : 1);
    int rc;

    assert_non_null(buf);
    memcpy(buf, src, len);
    rc = tftp_packet_parse(buf, len, pkt);
    if (keep != NULL)
        *keep = buf;
    else
        free(buf);
    return rc;
}

static unsigned bit_count(unsigned v)
{
    unsigned n = 0;

    for (; v != 0; v &= v - 1)
        n++;
    return n;
}

static uint64_t opt_value(const struct tftp_options *o, unsigned bit)
{
    switch (bit) {
    case TFTP_OPT_BLKSIZE:
        return o->blksize;
    case TFTP_OPT_TIMEOUT:
        return o->timeout;
    case TFTP_OPT_TSIZE:
        return o->tsize;
    default:
        return o->windowsize;
    }
}

static void assert_options_equal(const struct tftp_options *a, const struct tftp_options *b)
{
    assert_int_equal(a->present, b->present);
    if (a->present & TFTP_OPT_BLKSIZE)
        assert_int_equal(a->blksize, b->blksize);
    if (a->present & TFTP_OPT_TIMEOUT)
        assert_int_equal(a->timeout, b->timeout);
    if (a->present & TFTP_OPT_TSIZE)
        assert_int_equal(a->tsize, b->tsize);
    if (a->present & TFTP_OPT_WINDOWSIZE)
        assert_int_equal(a->windowsize, b->windowsize);
}

/* ---- requests: the basics ---- */

static void test_rrq_plain(void **state)
{
    struct tftp_request req;
    struct pkt p;
    uint8_t *buf;

    (void)state;
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"SIPDefault.cnf", "octet", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, &buf), TFTP_PARSE_OK);
    assert_int_equal(req.op, TFTP_OP_RRQ);
    assert_int_equal(req.mode, TFTP_MODE_OCTET);
    assert_int_equal(req.filename_len, 14);
    assert_string_equal(req.filename, "SIPDefault.cnf");
    /* The name points into the caller's buffer, not a copy. */
    assert_ptr_equal(req.filename, (const char *)buf + 2);
    assert_int_equal(req.opts.present, 0);
    free(buf);
}

static void test_wrq_plain(void **state)
{
    struct tftp_request req;
    struct pkt p;

    (void)state;
    pkt_make(&p, TFTP_OP_WRQ, (const char *const[]){"upload.bin", "netascii", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    assert_int_equal(req.op, TFTP_OP_WRQ);
    assert_int_equal(req.mode, TFTP_MODE_NETASCII);
    assert_int_equal(req.filename_len, 10);
}

struct mode_case {
    const char *mode;
    int rc;
    enum tftp_mode want;
};

static void test_request_modes(void **state)
{
    static const struct mode_case cases[] = {
        {"octet", TFTP_PARSE_OK, TFTP_MODE_OCTET},
        {"OCTET", TFTP_PARSE_OK, TFTP_MODE_OCTET},
        {"Octet", TFTP_PARSE_OK, TFTP_MODE_OCTET},
        {"netascii", TFTP_PARSE_OK, TFTP_MODE_NETASCII},
        {"NETASCII", TFTP_PARSE_OK, TFTP_MODE_NETASCII},
        {"NetAscii", TFTP_PARSE_OK, TFTP_MODE_NETASCII},
        {"mail", TFTP_PARSE_BAD_MODE, 0},
        {"MAIL", TFTP_PARSE_BAD_MODE, 0},
        {"binary", TFTP_PARSE_BAD_MODE, 0},
        {"octets", TFTP_PARSE_BAD_MODE, 0},
        {"octe", TFTP_PARSE_BAD_MODE, 0},
        {" octet", TFTP_PARSE_BAD_MODE, 0},
        {"", TFTP_PARSE_BAD_MODE, 0},
    };
    struct tftp_request req;
    struct pkt p;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", cases[i].mode, NULL});
        assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), cases[i].rc);
        if (cases[i].rc == TFTP_PARSE_OK)
            assert_int_equal(req.mode, cases[i].want);
    }
}

static void test_request_empty_name(void **state)
{
    struct tftp_request req;
    struct pkt p;

    (void)state;
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"", "octet", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_EMPTY_NAME);
    pkt_make(&p, TFTP_OP_WRQ, (const char *const[]){"", "netascii", "blksize", "512", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_EMPTY_NAME);
}

static void test_request_bad_opcodes(void **state)
{
    static const uint16_t ops[] = {0, TFTP_OP_DATA, TFTP_OP_ACK, TFTP_OP_ERROR, TFTP_OP_OACK,
                                   7, 0x0100,       0xffff};
    struct tftp_request req;
    struct pkt p;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
        pkt_make(&p, ops[i], (const char *const[]){"f", "octet", NULL});
        assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_BAD_OPCODE);
    }
}

/* RFC 2347: the whole request, options included, is at most 512 bytes. */
static void test_request_length_limit(void **state)
{
    char name[600];
    struct tftp_request req;
    struct pkt p;

    (void)state;
    /* 2 (opcode) + name + 1 + 6 ("octet\0") = 512 for a 503-byte name. */
    memset(name, 'a', sizeof(name));
    name[503] = '\0';
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){name, "octet", NULL});
    assert_int_equal(p.len, TFTP_REQUEST_MAX);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    assert_int_equal(req.filename_len, 503);

    name[503] = 'a';
    name[504] = '\0';
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){name, "octet", NULL});
    assert_int_equal(p.len, TFTP_REQUEST_MAX + 1);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_TOO_LONG);

    /* With options: exactly 512 passes, one byte more does not. */
    name[503 - 13] = '\0'; /* "blksize\0" "1468\0" is 13 bytes */
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){name, "octet", "blksize", "1468", NULL});
    assert_int_equal(p.len, TFTP_REQUEST_MAX);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    assert_int_equal(req.opts.blksize, 1468);
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){name, "octet", "blksize", "14680", NULL});
    assert_int_equal(p.len, TFTP_REQUEST_MAX + 1);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_TOO_LONG);

    /* Padding counts towards the limit too. */
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", NULL});
    pkt_bytes(&p, 0, TFTP_REQUEST_MAX - p.len);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    pkt_bytes(&p, 0, 1);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_TOO_LONG);
    /* A huge datagram is refused without being read. */
    pkt_bytes(&p, 'x', 1000);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_TOO_LONG);
}

/* Some boot ROMs pad their requests with NULs; that is tolerated. */
static void test_request_padding(void **state)
{
    struct tftp_request req;
    struct pkt p;

    (void)state;
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", NULL});
    pkt_bytes(&p, 0, 1);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    pkt_bytes(&p, 0, 100);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    assert_int_equal(req.opts.present, 0);

    pkt_make(&p, TFTP_OP_RRQ,
             (const char *const[]){"f", "octet", "blksize", "1024", "tsize", "0", NULL});
    pkt_bytes(&p, 0, 37);
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    assert_int_equal(req.opts.present, TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE);
    assert_int_equal(req.opts.blksize, 1024);

    /* Padding followed by something else is not padding. */
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", NULL});
    pkt_bytes(&p, 0, 3);
    pkt_bytes(&p, 'x', 1);
    assert_int_not_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
}

static void test_request_malformed(void **state)
{
    struct tftp_request req;
    struct pkt p;
    int rc;

    (void)state;
    /* A name without its value. */
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", "blksize", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_TRUNCATED);
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", "tsize", "0", "blksize", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_TRUNCATED);
    /* An unknown option's missing value is truncation too. */
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", "foo", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_TRUNCATED);
    /* Missing final NULs. */
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len - 1, &req, NULL), TFTP_PARSE_TRUNCATED);
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_TRUNCATED);
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_TRUNCATED);
    assert_int_equal(parse_request_copy(p.b, 1, &req, NULL), TFTP_PARSE_TRUNCATED);
    assert_int_equal(parse_request_copy(p.b, 0, &req, NULL), TFTP_PARSE_TRUNCATED);
    /* An option with an empty name is malformed (4 or 8, never accepted). */
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", "", "512", NULL});
    rc = parse_request_copy(p.b, p.len, &req, NULL);
    assert_true(rc == TFTP_PARSE_BAD_OPTION || rc == TFTP_PARSE_TRUNCATED);
}

/* ---- options ---- */

struct opt_case {
    const char *name;
    const char *value;
    int rc;
    unsigned bit; /* 0: ignored (unknown) */
    uint64_t want;
};

static const struct opt_case opt_cases[] = {
    /* blksize, RFC 2348: 8..65464; larger asks are kept (clamped when answered). */
    {"blksize", "7", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "0", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "8", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 8},
    {"blksize", "512", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 512},
    {"blksize", "1468", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 1468},
    {"blksize", "65464", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 65464},
    {"blksize", "65465", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 65465},
    {"blksize", "100000", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 100000},
    {"blksize", "0001468", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 1468},
    {"blksize", "4294967295", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 4294967295u},
    {"blksize", "4294967296", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "99999999999999999999999", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "abc", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "512abc", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "+512", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "-512", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", " 512", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "512 ", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "5 12", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "0x200", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"blksize", "1e3", TFTP_PARSE_BAD_OPTION, 0, 0},
    /* timeout, RFC 2349: 1..255 seconds. */
    {"timeout", "0", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"timeout", "1", TFTP_PARSE_OK, TFTP_OPT_TIMEOUT, 1},
    {"timeout", "255", TFTP_PARSE_OK, TFTP_OPT_TIMEOUT, 255},
    {"timeout", "256", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"timeout", "", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"timeout", "+5", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"timeout", "5s", TFTP_PARSE_BAD_OPTION, 0, 0},
    /* tsize, RFC 2349: any size; ours tops out at TFTP_TSIZE_MAX. */
    {"tsize", "0", TFTP_PARSE_OK, TFTP_OPT_TSIZE, 0},
    {"tsize", "34603008", TFTP_PARSE_OK, TFTP_OPT_TSIZE, 34603008},
    {"tsize", "281474976710655", TFTP_PARSE_OK, TFTP_OPT_TSIZE, TFTP_TSIZE_MAX},
    {"tsize", "281474976710656", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"tsize", "18446744073709551615", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"tsize", "18446744073709551616", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"tsize", "", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"tsize", "-1", TFTP_PARSE_BAD_OPTION, 0, 0},
    /* windowsize, RFC 7440: 1..65535. */
    {"windowsize", "0", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"windowsize", "1", TFTP_PARSE_OK, TFTP_OPT_WINDOWSIZE, 1},
    {"windowsize", "16", TFTP_PARSE_OK, TFTP_OPT_WINDOWSIZE, 16},
    {"windowsize", "65535", TFTP_PARSE_OK, TFTP_OPT_WINDOWSIZE, 65535},
    {"windowsize", "65536", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"windowsize", "", TFTP_PARSE_BAD_OPTION, 0, 0},
    {"windowsize", " 8", TFTP_PARSE_BAD_OPTION, 0, 0},
    /* Option names are case-insensitive (RFC 2347). */
    {"BLKSIZE", "1024", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 1024},
    {"BlkSize", "1024", TFTP_PARSE_OK, TFTP_OPT_BLKSIZE, 1024},
    {"TIMEOUT", "3", TFTP_PARSE_OK, TFTP_OPT_TIMEOUT, 3},
    {"TSize", "0", TFTP_PARSE_OK, TFTP_OPT_TSIZE, 0},
    {"WINDOWSIZE", "8", TFTP_PARSE_OK, TFTP_OPT_WINDOWSIZE, 8},
    {"BLKSIZE", "7", TFTP_PARSE_BAD_OPTION, 0, 0},
    /* Unknown options are ignored, whatever their value. */
    {"multicast", "", TFTP_PARSE_OK, 0, 0},
    {"rollover", "1", TFTP_PARSE_OK, 0, 0},
    {"blksize2", "2048", TFTP_PARSE_OK, 0, 0},
    {"blksiz", "7", TFTP_PARSE_OK, 0, 0},
    {"utimeout", "garbage", TFTP_PARSE_OK, 0, 0},
    {"tsize ", "5", TFTP_PARSE_OK, 0, 0},
};

static void check_opt_case(const struct opt_case *c, int rc, const struct tftp_options *o)
{
    if (rc != c->rc)
        fail_msg("%s=\"%s\": got %d, want %d", c->name, c->value, rc, c->rc);
    if (rc != TFTP_PARSE_OK)
        return;
    assert_int_equal(o->present, c->bit);
    if (c->bit != 0 && opt_value(o, c->bit) != c->want)
        fail_msg("%s=\"%s\": value %llu", c->name, c->value,
                 (unsigned long long)opt_value(o, c->bit));
}

static void test_option_table_request(void **state)
{
    struct tftp_request req;
    struct pkt p;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(opt_cases); i++) {
        const struct opt_case *c = &opt_cases[i];
        int rc;

        pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", c->name, c->value, NULL});
        rc = parse_request_copy(p.b, p.len, &req, NULL);
        if (strcmp(c->name, "tsize") == 0 && c->rc != TFTP_PARSE_OK) {
            /* In a request a tsize that is no number just asks for the size;
             * an empty one asks for nothing (test_request_tsize_values). */
            assert_int_equal(rc, TFTP_PARSE_OK);
            assert_int_equal(req.opts.present, c->value[0] != '\0' ? TFTP_OPT_TSIZE : 0);
            assert_int_equal(req.opts.tsize, 0);
            continue;
        }
        check_opt_case(c, rc, &req.opts);
    }
}

/* In a request tsize only asks for the size (RFC 2349: the client sends "0"):
 * any non-empty value asks; an empty value is treated as absent, so the
 * request is served without tsize instead of being refused. */
static void test_request_tsize_values(void **state)
{
    static const struct {
        const char *value;
        unsigned present;
    } cases[] = {
        {"0", TFTP_OPT_TSIZE},  {"34603008", TFTP_OPT_TSIZE}, {"281474976710656", TFTP_OPT_TSIZE},
        {"-1", TFTP_OPT_TSIZE}, {"enable", TFTP_OPT_TSIZE},   {"", 0},
    };
    struct tftp_request req;
    struct pkt p;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        pkt_make(
            &p, TFTP_OP_RRQ,
            (const char *const[]){"f", "octet", "blksize", "1468", "tsize", cases[i].value, NULL});
        assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
        if (req.opts.present != (TFTP_OPT_BLKSIZE | cases[i].present))
            fail_msg("tsize \"%s\": options 0x%x", cases[i].value, req.opts.present);
    }
    /* An empty tsize is not a first tsize: a real one after it is no duplicate. */
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", "tsize", "", "tsize", "0", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    assert_int_equal(req.opts.present, TFTP_OPT_TSIZE);
}

/* Found by fuzz_tftp_request (corpus/rrq_tsize_empty): an empty tsize was read
 * as "0", so the request built again from the parse came out one byte longer
 * than the one received. Parsed, rebuilt and parsed again it must stay the
 * same request, never longer. */
static void test_request_tsize_empty_roundtrip(void **state)
{
    static const char wire[] = "\0\1S$EP0011223344S$EP001122334455.cnf.xml\0octet\0"
                               "blksize\0"
                               "1468\0timeout\0"
                               "3\0tsize\0";
    size_t len = sizeof(wire); /* the final NUL ends the empty tsize value */
    uint8_t out[TFTP_REQUEST_MAX], *keep;
    struct tftp_request req, again;
    int n;

    (void)state;
    assert_int_equal(parse_request_copy((const uint8_t *)wire, len, &req, &keep), TFTP_PARSE_OK);
    assert_int_equal(req.opts.present, TFTP_OPT_BLKSIZE | TFTP_OPT_TIMEOUT);
    assert_int_equal(req.opts.blksize, 1468);
    assert_int_equal(req.opts.timeout, 3);
    n = tftp_packet_build_request(out, sizeof(out), req.op, req.filename, req.mode, &req.opts);
    assert_true(n > 0 && (size_t)n <= len);
    assert_int_equal(tftp_packet_parse_request(out, (size_t)n, &again), TFTP_PARSE_OK);
    assert_int_equal(again.opts.present, req.opts.present);
    assert_int_equal(again.filename_len, req.filename_len);
    free(keep);
}

/* atftp 0.8 writes "tsize enable" (its documented --option syntax). */
static void test_request_tsize_enable(void **state)
{
    struct tftp_request req;
    struct tftp_packet pkt;
    struct pkt p;

    (void)state;
    pkt_make(&p, TFTP_OP_RRQ, (const char *const[]){"f", "octet", "tsize", "enable", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    assert_int_equal(req.opts.present, TFTP_OPT_TSIZE);
    /* An OACK's tsize is the real size: there it must be a number. */
    pkt_make(&p, TFTP_OP_OACK, (const char *const[]){"tsize", "enable", NULL});
    assert_int_equal(parse_copy(p.b, p.len, &pkt, NULL), TFTP_PARSE_BAD_OPTION);
}

/* An OACK carries the same options with the same rules. */
static void test_option_table_oack(void **state)
{
    struct tftp_packet pkt;
    struct pkt p;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(opt_cases); i++) {
        const struct opt_case *c = &opt_cases[i];
        int rc;

        pkt_make(&p, TFTP_OP_OACK, (const char *const[]){c->name, c->value, NULL});
        rc = parse_copy(p.b, p.len, &pkt, NULL);
        check_opt_case(c, rc, &pkt.opts);
        if (rc == TFTP_PARSE_OK)
            assert_int_equal(pkt.op, TFTP_OP_OACK);
    }
}

static void test_options_all_together(void **state)
{
    struct tftp_request req;
    struct pkt p;

    (void)state;
    pkt_make(&p, TFTP_OP_RRQ,
             (const char *const[]){"f", "octet", "multicast", "", "blksize", "1468", "TIMEOUT", "3",
                                   "foo", "bar", "tsize", "0", "windowsize", "16", NULL});
    assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), TFTP_PARSE_OK);
    assert_int_equal(req.opts.present,
                     TFTP_OPT_BLKSIZE | TFTP_OPT_TIMEOUT | TFTP_OPT_TSIZE | TFTP_OPT_WINDOWSIZE);
    assert_int_equal(req.opts.blksize, 1468);
    assert_int_equal(req.opts.timeout, 3);
    assert_int_equal(req.opts.tsize, 0);
    assert_int_equal(req.opts.windowsize, 16);
}

struct dup_case {
    const char *fields[9];
    int rc;
};

static void test_options_duplicated(void **state)
{
    static const struct dup_case cases[] = {
        {{"f", "octet", "blksize", "512", "blksize", "512", NULL}, TFTP_PARSE_DUP_OPTION},
        {{"f", "octet", "blksize", "512", "BLKSIZE", "1024", NULL}, TFTP_PARSE_DUP_OPTION},
        {{"f", "octet", "tsize", "0", "blksize", "8", "TSize", "0", NULL}, TFTP_PARSE_DUP_OPTION},
        {{"f", "octet", "timeout", "1", "timeout", "2", NULL}, TFTP_PARSE_DUP_OPTION},
        {{"f", "octet", "windowsize", "4", "WindowSize", "4", NULL}, TFTP_PARSE_DUP_OPTION},
        /* A repeated unknown option is still unknown, hence ignored. */
        {{"f", "octet", "foo", "1", "foo", "2", NULL}, TFTP_PARSE_OK},
    };
    struct tftp_request req;
    struct tftp_packet pkt;
    struct pkt p;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        pkt_make(&p, TFTP_OP_RRQ, cases[i].fields);
        assert_int_equal(parse_request_copy(p.b, p.len, &req, NULL), cases[i].rc);
        /* The same pairs in an OACK. */
        pkt_make(&p, TFTP_OP_OACK, cases[i].fields + 2);
        assert_int_equal(parse_copy(p.b, p.len, &pkt, NULL), cases[i].rc);
    }
}

/* ---- DATA, ACK, ERROR, OACK ---- */

static void test_parse_data(void **state)
{
    static uint8_t big[TFTP_DATAGRAM_MAX + 1];
    struct tftp_packet pkt;
    uint8_t *buf;
    const uint8_t d[] = {0, 3, 0xff, 0xfe, 'a', 0, 'b'};

    (void)state;
    assert_int_equal(parse_copy(d, sizeof(d), &pkt, &buf), TFTP_PARSE_OK);
    assert_int_equal(pkt.op, TFTP_OP_DATA);
    assert_int_equal(pkt.block, 0xfffe);
    assert_int_equal(pkt.data_len, 3);
    assert_ptr_equal(pkt.data, buf + 4);
    free(buf);
    /* An empty DATA: the last block of a multiple-of-blksize file. */
    assert_int_equal(parse_copy(d, 4, &pkt, NULL), TFTP_PARSE_OK);
    assert_int_equal(pkt.data_len, 0);
    /* The largest DATA is 4 + 65464 bytes. */
    big[1] = TFTP_OP_DATA;
    assert_int_equal(parse_copy(big, TFTP_DATAGRAM_MAX, &pkt, NULL), TFTP_PARSE_OK);
    assert_int_equal(pkt.data_len, TFTP_BLKSIZE_MAX);
    assert_int_equal(parse_copy(big, TFTP_DATAGRAM_MAX + 1, &pkt, NULL), TFTP_PARSE_TOO_LONG);
}

static void test_parse_ack(void **state)
{
    static const uint16_t blocks[] = {0, 1, 255, 256, 65535};
    struct tftp_packet pkt;
    uint8_t b[8];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(blocks); i++) {
        assert_int_equal(tftp_packet_build_ack(b, sizeof(b), blocks[i]), 4);
        assert_int_equal(b[0], 0);
        assert_int_equal(b[1], TFTP_OP_ACK);
        assert_int_equal(parse_copy(b, 4, &pkt, NULL), TFTP_PARSE_OK);
        assert_int_equal(pkt.op, TFTP_OP_ACK);
        assert_int_equal(pkt.block, blocks[i]);
    }
    /* Trailing bytes after the block number are ignored. */
    memcpy(b + 4, "junk", 4);
    assert_int_equal(parse_copy(b, 8, &pkt, NULL), TFTP_PARSE_OK);
    assert_int_equal(pkt.block, 65535);
}

static void test_parse_error(void **state)
{
    char msg[300];
    struct tftp_packet pkt;
    struct pkt p;

    (void)state;
    memset(&p, 0, sizeof(p));
    pkt_u16(&p, TFTP_OP_ERROR);
    pkt_u16(&p, TFTP_ERR_OPTION);
    pkt_str(&p, "tsize probe");
    assert_int_equal(parse_copy(p.b, p.len, &pkt, NULL), TFTP_PARSE_OK);
    assert_int_equal(pkt.op, TFTP_OP_ERROR);
    assert_int_equal(pkt.error_code, TFTP_ERR_OPTION);
    assert_string_equal(pkt.error_msg, "tsize probe");
    /* No message, no NUL: still an ERROR with an empty text. */
    assert_int_equal(parse_copy(p.b, 4, &pkt, NULL), TFTP_PARSE_OK);
    assert_string_equal(pkt.error_msg, "");
    /* Missing NUL: what is there is kept. */
    assert_int_equal(parse_copy(p.b, p.len - 1, &pkt, NULL), TFTP_PARSE_OK);
    assert_string_equal(pkt.error_msg, "tsize probe");
    /* A long message is cut to TFTP_ERRMSG_MAX - 1 characters. */
    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    memset(&p, 0, sizeof(p));
    pkt_u16(&p, TFTP_OP_ERROR);
    pkt_u16(&p, 0xffff);
    pkt_str(&p, msg);
    assert_int_equal(parse_copy(p.b, p.len, &pkt, NULL), TFTP_PARSE_OK);
    assert_int_equal(pkt.error_code, 0xffff);
    assert_int_equal(strlen(pkt.error_msg), TFTP_ERRMSG_MAX - 1);
}

static void test_parse_oack(void **state)
{
    struct tftp_packet pkt;
    struct pkt p;

    (void)state;
    pkt_make(&p, TFTP_OP_OACK, (const char *const[]){"blksize", "1428", "tsize", "1048576", NULL});
    assert_int_equal(parse_copy(p.b, p.len, &pkt, NULL), TFTP_PARSE_OK);
    assert_int_equal(pkt.op, TFTP_OP_OACK);
    assert_int_equal(pkt.opts.present, TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE);
    assert_int_equal(pkt.opts.blksize, 1428);
    assert_int_equal(pkt.opts.tsize, 1048576);
    pkt_make(&p, TFTP_OP_OACK, (const char *const[]){"blksize", NULL});
    assert_int_equal(parse_copy(p.b, p.len, &pkt, NULL), TFTP_PARSE_TRUNCATED);
    /* An OACK is no bigger than a request. */
    pkt_make(&p, TFTP_OP_OACK, (const char *const[]){"blksize", "1428", NULL});
    pkt_bytes(&p, 0, TFTP_REQUEST_MAX - p.len);
    assert_int_equal(parse_copy(p.b, p.len, &pkt, NULL), TFTP_PARSE_OK);
    pkt_bytes(&p, 0, 1);
    assert_int_equal(parse_copy(p.b, p.len, &pkt, NULL), TFTP_PARSE_TOO_LONG);
}

static void test_parse_bad_opcodes(void **state)
{
    static const uint16_t ops[] = {0, TFTP_OP_RRQ, TFTP_OP_WRQ, 7, 8, 0x0300, 0xffff};
    struct tftp_packet pkt;
    struct pkt p;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
        pkt_make(&p, ops[i], (const char *const[]){"f", "octet", NULL});
        assert_int_equal(parse_copy(p.b, p.len, &pkt, NULL), TFTP_PARSE_BAD_OPCODE);
    }
    assert_int_equal(parse_copy(p.b, 1, &pkt, NULL), TFTP_PARSE_TRUNCATED);
    assert_int_equal(parse_copy(p.b, 0, &pkt, NULL), TFTP_PARSE_TRUNCATED);
}

/* ---- truncation at every length ---- */

/* Bits of the known options whose value ends at or before off. */
static unsigned bits_before(const struct pkt *p, size_t first_opt_field, size_t off)
{
    struct tftp_options o;
    unsigned bits = 0;

    for (size_t f = first_opt_field; f + 1 < p->nfields; f += 2) {
        const char *name = (const char *)p->b + (f == 0 ? 2 : p->ends[f - 1]);

        if (p->ends[f + 1] > off)
            break;
        /* Reuse the parser's own notion of the name through a one-pair OACK. */
        {
            struct tftp_packet pkt;
            struct pkt one;

            pkt_make(&one, TFTP_OP_OACK,
                     (const char *const[]){name, (const char *)p->b + p->ends[f], NULL});
            assert_int_equal(tftp_packet_parse(one.b, one.len, &pkt), TFTP_PARSE_OK);
            o = pkt.opts;
        }
        bits |= o.present;
    }
    return bits;
}

static bool is_boundary(const struct pkt *p, size_t first_opt_field, size_t off)
{
    if (first_opt_field == 0 && off == 2)
        return true; /* an OACK with no options */
    for (size_t f = first_opt_field; f < p->nfields; f++)
        if (p->ends[f] == off && (f - first_opt_field) % 2 == 1)
            return true;
    return first_opt_field > 0 && off == p->ends[first_opt_field - 1];
}

static void check_request_prefixes(const struct pkt *p)
{
    struct tftp_request full, req;

    assert_int_equal(parse_request_copy(p->b, p->len, &full, NULL), TFTP_PARSE_OK);
    for (size_t n = 0; n < p->len; n++) {
        int rc = parse_request_copy(p->b, n, &req, NULL);

        if (rc != TFTP_PARSE_OK)
            continue;
        /* Only a prefix that ends on a name/value boundary is a valid request. */
        if (!is_boundary(p, 2, n))
            fail_msg("prefix %zu of %zu parsed", n, p->len);
        assert_true(bit_count(req.opts.present) < bit_count(full.opts.present));
        assert_int_equal(req.opts.present, bits_before(p, 2, n));
    }
}

static void test_truncated_requests(void **state)
{
    static const char *const reqs[][12] = {
        {"f", "octet", NULL},
        {"SEP001122334455.cnf.xml", "netascii", NULL},
        {"f", "octet", "blksize", "1468", NULL},
        {"f", "octet", "tsize", "0", NULL},
        {"f", "octet", "timeout", "255", NULL},
        {"f", "octet", "windowsize", "65535", NULL},
        {"term.cfg", "OCTET", "blksize", "1468", "timeout", "3", "tsize", "0", "windowsize", "16",
         NULL},
    };
    struct pkt p;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(reqs); i++) {
        pkt_make(&p, TFTP_OP_RRQ, reqs[i]);
        check_request_prefixes(&p);
        pkt_make(&p, TFTP_OP_WRQ, reqs[i]);
        check_request_prefixes(&p);
    }
}

static void test_truncated_packets(void **state)
{
    struct tftp_packet full, pkt;
    struct pkt p;

    (void)state;
    /* DATA: any prefix of 4 bytes or more is a shorter DATA. */
    memset(&p, 0, sizeof(p));
    pkt_u16(&p, TFTP_OP_DATA);
    pkt_u16(&p, 7);
    pkt_bytes(&p, 0xab, 40);
    for (size_t n = 0; n < p.len; n++) {
        int rc = parse_copy(p.b, n, &pkt, NULL);

        if (n < TFTP_HEADER_LEN) {
            assert_int_equal(rc, TFTP_PARSE_TRUNCATED);
        } else {
            assert_int_equal(rc, TFTP_PARSE_OK);
            assert_int_equal(pkt.data_len, n - TFTP_HEADER_LEN);
        }
    }
    /* ACK: every prefix is truncated. */
    assert_int_equal(tftp_packet_build_ack(p.b, sizeof(p.b), 9), 4);
    for (size_t n = 0; n < 4; n++)
        assert_int_equal(parse_copy(p.b, n, &pkt, NULL), TFTP_PARSE_TRUNCATED);
    /* ERROR: the code is needed; the text may be cut. */
    p.len = (size_t)tftp_packet_build_error(p.b, sizeof(p.b), 1, "File not found");
    for (size_t n = 0; n < p.len; n++) {
        int rc = parse_copy(p.b, n, &pkt, NULL);

        if (n < 4) {
            assert_int_equal(rc, TFTP_PARSE_TRUNCATED);
        } else {
            assert_int_equal(rc, TFTP_PARSE_OK);
            assert_int_equal(strlen(pkt.error_msg), n - 4);
            assert_memory_equal(pkt.error_msg, "File not found", n - 4);
        }
    }
    /* OACK: valid only on pair boundaries, with fewer options. */
    pkt_make(&p, TFTP_OP_OACK,
             (const char *const[]){"blksize", "65464", "timeout", "1", "tsize", "281474976710655",
                                   "windowsize", "64", NULL});
    assert_int_equal(parse_copy(p.b, p.len, &full, NULL), TFTP_PARSE_OK);
    for (size_t n = 0; n < p.len; n++) {
        int rc = parse_copy(p.b, n, &pkt, NULL);

        if (rc != TFTP_PARSE_OK)
            continue;
        if (!is_boundary(&p, 0, n))
            fail_msg("OACK prefix %zu of %zu parsed", n, p.len);
        assert_true(bit_count(pkt.opts.present) < bit_count(full.opts.present));
        assert_int_equal(pkt.opts.present, bits_before(&p, 0, n));
    }
}

/* ---- builders ---- */

/* Builds into exactly-sized heap buffers of every capacity below the length. */
typedef int (*build_fn)(uint8_t *buf, size_t cap, const void *arg);

static void check_no_space_below(build_fn fn, const void *arg, int len)
{
    for (size_t cap = 0; cap < (size_t)len; cap++) {
        uint8_t *buf = malloc(cap > 0 ? cap : 1);

        assert_non_null(buf);
        assert_int_equal(fn(buf, cap, arg), TFTP_PARSE_NO_SPACE);
        free(buf);
    }
    {
        uint8_t *buf = malloc((size_t)len);

        assert_non_null(buf);
        assert_int_equal(fn(buf, (size_t)len, arg), len);
        free(buf);
    }
}

struct req_args {
    enum tftp_opcode op;
    const char *name;
    enum tftp_mode mode;
    struct tftp_options opts;
};

static int build_req_fn(uint8_t *buf, size_t cap, const void *arg)
{
    const struct req_args *a = arg;

    return tftp_packet_build_request(buf, cap, a->op, a->name, a->mode, &a->opts);
}

static int build_oack_fn(uint8_t *buf, size_t cap, const void *arg)
{
    return tftp_packet_build_oack(buf, cap, arg);
}

static int build_error_fn(uint8_t *buf, size_t cap, const void *arg)
{
    return tftp_packet_build_error(buf, cap, TFTP_ERR_NOT_FOUND, arg);
}

static int build_ack_fn(uint8_t *buf, size_t cap, const void *arg)
{
    (void)arg;
    return tftp_packet_build_ack(buf, cap, 0x1234);
}

/* Every subset of the options, at bound values. */
static struct tftp_options options_subset(unsigned bits, unsigned variant)
{
    struct tftp_options o = {0};

    o.present = bits;
    o.blksize = variant == 0 ? TFTP_BLKSIZE_MIN : TFTP_BLKSIZE_MAX;
    o.timeout = variant == 0 ? TFTP_TIMEOUT_MIN : TFTP_TIMEOUT_MAX;
    o.tsize = variant == 0 ? 0 : TFTP_TSIZE_MAX;
    o.windowsize = variant == 0 ? TFTP_WINDOW_MIN : TFTP_WINDOW_MAX;
    return o;
}

static void test_build_request_roundtrip(void **state)
{
    static const enum tftp_opcode ops[] = {TFTP_OP_RRQ, TFTP_OP_WRQ};
    static const enum tftp_mode modes[] = {TFTP_MODE_OCTET, TFTP_MODE_NETASCII};
    uint8_t buf[TFTP_REQUEST_MAX], *copy;
    struct tftp_request req;

    (void)state;
    for (unsigned bits = 0; bits < 16; bits++)
        for (unsigned v = 0; v < 2; v++)
            for (size_t o = 0; o < 2; o++)
                for (size_t m = 0; m < 2; m++) {
                    struct req_args a = {ops[o], "dir/File.bin", modes[m], options_subset(bits, v)};
                    int len = build_req_fn(buf, sizeof(buf), &a);

                    assert_true(len > 0);
                    assert_int_equal(parse_request_copy(buf, (size_t)len, &req, &copy),
                                     TFTP_PARSE_OK);
                    assert_int_equal(req.op, ops[o]);
                    assert_int_equal(req.mode, modes[m]);
                    assert_string_equal(req.filename, "dir/File.bin");
                    free(copy);
                    assert_options_equal(&req.opts, &a.opts);
                    check_no_space_below(build_req_fn, &a, len);
                }
    /* Without options (NULL). */
    assert_int_equal(
        tftp_packet_build_request(buf, sizeof(buf), TFTP_OP_RRQ, "x", TFTP_MODE_OCTET, NULL), 10);
    assert_memory_equal(buf, "\0\1x\0octet\0", 10);
}

static void test_build_request_too_long(void **state)
{
    static uint8_t buf[PKT_CAP];
    char name[600];
    struct tftp_request req;

    (void)state;
    memset(name, 'n', sizeof(name));
    name[503] = '\0';
    assert_int_equal(
        tftp_packet_build_request(buf, sizeof(buf), TFTP_OP_RRQ, name, TFTP_MODE_OCTET, NULL),
        TFTP_REQUEST_MAX);
    assert_int_equal(tftp_packet_parse_request(buf, TFTP_REQUEST_MAX, &req), TFTP_PARSE_OK);
    name[503] = 'n';
    name[504] = '\0';
    /* Room in the buffer, but not a valid request any more. */
    assert_int_equal(
        tftp_packet_build_request(buf, sizeof(buf), TFTP_OP_RRQ, name, TFTP_MODE_OCTET, NULL),
        TFTP_PARSE_NO_SPACE);
}

static void test_build_oack_roundtrip(void **state)
{
    uint8_t buf[TFTP_REQUEST_MAX];
    struct tftp_packet pkt;

    (void)state;
    for (unsigned bits = 0; bits < 16; bits++)
        for (unsigned v = 0; v < 2; v++) {
            struct tftp_options o = options_subset(bits, v);
            int len = tftp_packet_build_oack(buf, sizeof(buf), &o);

            assert_true(len >= 2);
            assert_int_equal(buf[0], 0);
            assert_int_equal(buf[1], TFTP_OP_OACK);
            assert_int_equal(parse_copy(buf, (size_t)len, &pkt, NULL), TFTP_PARSE_OK);
            assert_int_equal(pkt.op, TFTP_OP_OACK);
            assert_options_equal(&pkt.opts, &o);
            check_no_space_below(build_oack_fn, &o, len);
        }
}

static void test_build_oack_bytes(void **state)
{
    static const uint8_t want[] = "\0\6blksize\0"
                                  "1468\0tsize\0"
                                  "0\0";
    struct tftp_options o = {.present = TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE, .blksize = 1468};
    uint8_t buf[64];

    (void)state;
    assert_int_equal(tftp_packet_build_oack(buf, sizeof(buf), &o), sizeof(want) - 1);
    assert_memory_equal(buf, want, sizeof(want) - 1);
}

static void test_build_error(void **state)
{
    char msg[TFTP_ERRMSG_MAX + 100];
    uint8_t buf[TFTP_ERRMSG_MAX + 200];
    struct tftp_packet pkt;
    int len;

    (void)state;
    len = tftp_packet_build_error(buf, sizeof(buf), TFTP_ERR_ACCESS, "Access violation");
    assert_int_equal(len, 4 + 16 + 1);
    assert_memory_equal(buf, "\0\5\0\2Access violation\0", (size_t)len);
    check_no_space_below(build_error_fn, "File not found", 4 + 14 + 1);
    /* Empty message. */
    assert_int_equal(tftp_packet_build_error(buf, sizeof(buf), 0, ""), 5);
    assert_int_equal(buf[4], 0);
    /* Lengths around the cut at TFTP_ERRMSG_MAX - 1 characters. */
    for (size_t n = TFTP_ERRMSG_MAX - 3; n < TFTP_ERRMSG_MAX + 100; n++) {
        size_t kept = n < TFTP_ERRMSG_MAX - 1 ? n : TFTP_ERRMSG_MAX - 1;

        memset(msg, 'e', n);
        msg[n] = '\0';
        len = tftp_packet_build_error(buf, sizeof(buf), TFTP_ERR_UNDEFINED, msg);
        assert_int_equal(len, (int)(4 + kept + 1));
        assert_int_equal(buf[len - 1], 0);
        assert_int_equal(parse_copy(buf, (size_t)len, &pkt, NULL), TFTP_PARSE_OK);
        assert_int_equal(strlen(pkt.error_msg), kept);
        check_no_space_below(build_error_fn, msg, len);
    }
}

static void test_build_ack_and_data_header(void **state)
{
    uint8_t hdr[TFTP_HEADER_LEN];
    struct tftp_packet pkt;

    (void)state;
    check_no_space_below(build_ack_fn, NULL, 4);
    tftp_packet_data_header(hdr, 0xbeef);
    assert_memory_equal(hdr, "\0\3\xbe\xef", 4);
    assert_int_equal(parse_copy(hdr, sizeof(hdr), &pkt, NULL), TFTP_PARSE_OK);
    assert_int_equal(pkt.op, TFTP_OP_DATA);
    assert_int_equal(pkt.block, 0xbeef);
    tftp_packet_data_header(hdr, 0);
    assert_memory_equal(hdr, "\0\3\0\0", 4);
}

/* ---- opcode ---- */

static void test_opcode(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        uint16_t op;
    } cases[] = {
        {"", 0, 0},      {"\0", 1, 0},        {"\0\5", 2, TFTP_OP_ERROR},
        {"\0\1x", 3, 1}, {"\1\2", 2, 0x0102}, {"\0\4\0\1", 4, TFTP_OP_ACK},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_int_equal(tftp_packet_opcode((const uint8_t *)cases[i].bytes, cases[i].len),
                         cases[i].op);
}

/* ---- netascii ---- */

struct ascii_case {
    const char *in;
    size_t in_len;
    const char *out;
    size_t out_len;
};

#define AC(in, out)                                                                                \
    {                                                                                              \
        in, sizeof(in) - 1, out, sizeof(out) - 1                                                   \
    }

static void check_netascii(const uint8_t *in, size_t in_len, const uint8_t *want, size_t want_len)
{
    uint8_t *dst = malloc(2 * in_len > 0 ? 2 * in_len : 1);
    size_t n;

    assert_non_null(dst);
    assert_int_equal(tftp_netascii_size(in, in_len), want_len);
    n = tftp_netascii_encode(in, in_len, dst);
    assert_int_equal(n, want_len);
    assert_memory_equal(dst, want, want_len);
    /* Encoding stops and resumes at any byte. */
    for (size_t cut = 0; cut <= in_len; cut++) {
        size_t a = tftp_netascii_encode(in, cut, dst);
        size_t b = tftp_netascii_encode(in + cut, in_len - cut, dst + a);

        assert_int_equal(a + b, want_len);
        assert_memory_equal(dst, want, want_len);
    }
    free(dst);
}

static void test_netascii(void **state)
{
    static const struct ascii_case cases[] = {
        AC("", ""),
        AC("a", "a"),
        AC("\n", "\r\n"),
        AC("\r", "\r\0"),
        AC("\r\n", "\r\0\r\n"),
        AC("\n\r", "\r\n\r\0"),
        AC("\0", "\0"),
        AC("line1\nline2\n", "line1\r\nline2\r\n"),
        AC("a\r\nb", "a\r\0\r\nb"),
        AC("\n\n\n", "\r\n\r\n\r\n"),
        AC("\x80\xff\x0d\x0a\x00\x7f", "\x80\xff\x0d\x00\x0d\x0a\x00\x7f"),
    };
    uint8_t all[256], want[258];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        check_netascii((const uint8_t *)cases[i].in, cases[i].in_len, (const uint8_t *)cases[i].out,
                       cases[i].out_len);
    /* Every byte value: only CR and LF grow. */
    for (size_t i = 0, n = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
        if (i == '\n')
            want[n++] = '\r';
        want[n++] = (uint8_t)i;
        if (i == '\r')
            want[n++] = '\0';
    }
    check_netascii(all, sizeof(all), want, sizeof(want));
    /* The worst case doubles. */
    memset(all, '\n', sizeof(all));
    assert_int_equal(tftp_netascii_size(all, sizeof(all)), 2 * sizeof(all));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rrq_plain),
        cmocka_unit_test(test_wrq_plain),
        cmocka_unit_test(test_request_modes),
        cmocka_unit_test(test_request_empty_name),
        cmocka_unit_test(test_request_bad_opcodes),
        cmocka_unit_test(test_request_length_limit),
        cmocka_unit_test(test_request_padding),
        cmocka_unit_test(test_request_malformed),
        cmocka_unit_test(test_option_table_request),
        cmocka_unit_test(test_request_tsize_enable),
        cmocka_unit_test(test_request_tsize_values),
        cmocka_unit_test(test_request_tsize_empty_roundtrip),
        cmocka_unit_test(test_option_table_oack),
        cmocka_unit_test(test_options_all_together),
        cmocka_unit_test(test_options_duplicated),
        cmocka_unit_test(test_parse_data),
        cmocka_unit_test(test_parse_ack),
        cmocka_unit_test(test_parse_error),
        cmocka_unit_test(test_parse_oack),
        cmocka_unit_test(test_parse_bad_opcodes),
        cmocka_unit_test(test_truncated_requests),
        cmocka_unit_test(test_truncated_packets),
        cmocka_unit_test(test_build_request_roundtrip),
        cmocka_unit_test(test_build_request_too_long),
        cmocka_unit_test(test_build_oack_roundtrip),
        cmocka_unit_test(test_build_oack_bytes),
        cmocka_unit_test(test_build_error),
        cmocka_unit_test(test_build_ack_and_data_header),
        cmocka_unit_test(test_opcode),
        cmocka_unit_test(test_netascii),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
