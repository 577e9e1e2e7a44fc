/* test_wire_error.c: cmocka tests of the one table of TFTP ERRORs: every
 * failure has a code and a text that goes out whole, and the codec's and the
 * resolver's results map to the ERROR a client has always received. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "server/resolve/resolver.h"
#include "server/tftp/tftp_packet.h"
#include "server/tftp/wire_error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Every row: a code RFC 1350/2347 defines (0-8), a text that survives the
 * trip through the codec unchanged, and no two failures with the same text
 * (a client's report then names the one cause). */
static void test_every_row_goes_out_whole(void **state)
{
    uint8_t buf[4 + TFTP_ERRMSG_MAX];
    const char *texts[TFTP_FAIL_KINDS];
    struct tftp_packet pkt;

    (void)state;
    for (int f = TFTP_FAIL_NONE + 1; f < TFTP_FAIL_KINDS; f++) {
        const char *msg = NULL;
        uint16_t code = tftp_wire_error((enum tftp_failure)f, &msg);
        int len;

        assert_true(code <= TFTP_ERR_OPTION);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0 && strlen(msg) < TFTP_ERRMSG_MAX);
        len = tftp_packet_build_error(buf, sizeof(buf), code, msg);
        assert_true(len > 0);
        assert_int_equal(tftp_packet_parse(buf, (size_t)len, &pkt), TFTP_PARSE_OK);
        assert_int_equal(pkt.op, TFTP_OP_ERROR);
        assert_int_equal(pkt.error_code, code);
        assert_string_equal(pkt.error_msg, msg);
        texts[f] = msg;
        for (int g = TFTP_FAIL_NONE + 1; g < f; g++)
            if (strcmp(texts[g], msg) == 0)
                fail_msg("failures %d and %d share the text \"%s\"", g, f, msg);
    }
}

/* The ERRORs clients see, pinned: a change here is a change on the wire. */
static void test_table(void **state)
{
    static const struct {
        enum tftp_failure f;
        uint16_t code;
        const char *msg;
    } cases[] = {
        {TFTP_FAIL_UPLOAD, TFTP_ERR_ACCESS,
         "Access violation: this server does not accept uploads"},
        {TFTP_FAIL_ILLEGAL_OP, TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation"},
        {TFTP_FAIL_FILE_CHANGED, TFTP_ERR_UNDEFINED, "File changed while being sent"},
        {TFTP_FAIL_SHUTDOWN, TFTP_ERR_UNDEFINED, "Server shutting down"},
        {TFTP_FAIL_BUSY_TRANSFERS, TFTP_ERR_UNDEFINED,
         "Server busy: too many transfers, try again later"},
        {TFTP_FAIL_BUSY_CLIENT, TFTP_ERR_UNDEFINED,
         "Server busy: too many transfers from this address"},
        {TFTP_FAIL_BUSY_UNACKED_PREFIX, TFTP_ERR_UNDEFINED,
         "Server busy: too many unanswered transfers from this network"},
        {TFTP_FAIL_BUSY_UNACKED, TFTP_ERR_UNDEFINED,
         "Server busy: too many unanswered transfers, try again later"},
        {TFTP_FAIL_INTERNAL, TFTP_ERR_UNDEFINED, "Internal error"},
        /* Out of range, and "none" asked for a text: the internal error. */
        {TFTP_FAIL_NONE, TFTP_ERR_UNDEFINED, "Internal error"},
        {TFTP_FAIL_KINDS, TFTP_ERR_UNDEFINED, "Internal error"},
        {(enum tftp_failure) - 1, TFTP_ERR_UNDEFINED, "Internal error"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *msg = NULL;

        assert_int_equal(tftp_wire_error(cases[i].f, &msg), cases[i].code);
        assert_string_equal(msg, cases[i].msg);
    }
    assert_int_equal(tftp_wire_error(TFTP_FAIL_NOT_FOUND, NULL), TFTP_ERR_NOT_FOUND);
}

static void test_parse_results(void **state)
{
    static const struct {
        int result;
        uint16_t code;
        const char *msg;
    } cases[] = {
        {TFTP_PARSE_TRUNCATED, TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation: malformed packet"},
        {TFTP_PARSE_TOO_LONG, TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation: request too long"},
        {TFTP_PARSE_BAD_OPCODE, TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation"},
        {TFTP_PARSE_BAD_MODE, TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation: unsupported mode"},
        {TFTP_PARSE_EMPTY_NAME, TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation: empty file name"},
        {TFTP_PARSE_BAD_OPTION, TFTP_ERR_OPTION, "Option negotiation failed: bad option value"},
        {TFTP_PARSE_DUP_OPTION, TFTP_ERR_OPTION, "Option negotiation failed: duplicate option"},
        {TFTP_PARSE_NO_SPACE, TFTP_ERR_UNDEFINED, "Undefined error"},
        {-99, TFTP_ERR_UNDEFINED, "Undefined error"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *msg = NULL;

        assert_int_equal(tftp_wire_error(tftp_failure_of_parse(cases[i].result), &msg),
                         cases[i].code);
        assert_string_equal(msg, cases[i].msg);
    }
}

static void test_resolver_results(void **state)
{
    static const struct {
        int result;
        enum tftp_failure f;
    } cases[] = {
        {RESOLVER_NOT_FOUND, TFTP_FAIL_NOT_FOUND},
        {RESOLVER_BAD_NAME, TFTP_FAIL_BAD_NAME},
        {RESOLVER_DENIED, TFTP_FAIL_DENIED},
        {RESOLVER_UNAVAILABLE, TFTP_FAIL_UNAVAILABLE},
        {RESOLVER_PENDING, TFTP_FAIL_PENDING},
        {RESOLVER_HOLD, TFTP_FAIL_HOLD},
        {RESOLVER_IO, TFTP_FAIL_INTERNAL},
        {RESOLVER_OK, TFTP_FAIL_INTERNAL},
        {-99, TFTP_FAIL_INTERNAL},
    };

    (void)state;
    /* Only a held request goes unanswered. */
    assert_true(tftp_failure_silent(TFTP_FAIL_HOLD));
    assert_false(tftp_failure_silent(TFTP_FAIL_PENDING));
    assert_false(tftp_failure_silent(TFTP_FAIL_NOT_FOUND));
    assert_false(tftp_failure_silent(TFTP_FAIL_NONE));
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *a = NULL, *b = NULL;

        assert_int_equal(tftp_failure_of_resolver(cases[i].result), cases[i].f);
        /* tftp_wire_error_for is the same map, through the table. */
        assert_int_equal(tftp_wire_error_for(cases[i].result, &a), tftp_wire_error(cases[i].f, &b));
        assert_string_equal(a, b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_goes_out_whole),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_parse_results),
        cmocka_unit_test(test_resolver_results),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
