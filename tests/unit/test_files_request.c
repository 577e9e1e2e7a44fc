/* test_files_request.c: table tests for the HTTP file service's pure request
 * rules: path escapes, the path's kind, Range (RFC 9110 section 14), entity
 * tags, If-Range and HTTP dates, each with truncated and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/files/files_request.h"

#define HEX_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct unescape_case {
    const char *in, *out;
};

static const struct unescape_case unescape_cases[] = {
    {"/SEP001122334455.cnf.xml", "/SEP001122334455.cnf.xml"},
    {"/a%20b", "/a b"},
    {"/a%2fb", "/a/b"},
    {"/a%2Fb", "/a/b"},
    {"/a%00b", "/a\x7f"
               "b"}, /* NUL never truncates the name */
    {"/a%0ab", "/a\x7f"
               "b"},
    {"/a%7fb", "/a\x7f"
               "b"},
    {"/a\x01"
     "b",
     "/a\x7f"
     "b"},
    {"/%2e%2e/x", "/../x"},
    {"/a%", "/a%"}, /* truncated escapes stay literal */
    {"/a%4", "/a%4"},
    {"/a%zz", "/a%zz"},
    {"/a%%41", "/a%A"},
    {"", ""},
};

static void test_unescape_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(unescape_cases) / sizeof(unescape_cases[0]); i++) {
        char buf[64];
        size_t n;

        snprintf(buf, sizeof(buf), "%s", unescape_cases[i].in);
        n = files_unescape(buf);
        assert_string_equal(buf, unescape_cases[i].out);
        assert_int_equal(n, strlen(unescape_cases[i].out));
    }
}

struct target_case {
    const char *path;
    enum files_target kind;
};

static const struct target_case target_cases[] = {
    {"/SEP001122334455.cnf.xml", FILES_TARGET_NAME},
    {"/blobs", FILES_TARGET_NAME},
    {"/blobs/sha256/" HEX_A, FILES_TARGET_BLOB},
    {"/blobs/sha256/" HEX_A "0", FILES_TARGET_NONE},
    {"/blobs/sha256/0123456789abcdef", FILES_TARGET_NONE}, /* truncated */
    {"/blobs/sha256/", FILES_TARGET_NONE},
    {"/blobs/sha256/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     FILES_TARGET_NONE},
    {"/blobs/sha256/" HEX_A "/", FILES_TARGET_NONE},
    {"/blobs/md5/x", FILES_TARGET_NONE},
    {"/blobs/", FILES_TARGET_NONE},
    {"/Blobs/sha256/" HEX_A, FILES_TARGET_NAME},
};

static void test_target_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(target_cases) / sizeof(target_cases[0]); i++) {
        char hex[FILES_HEX_LEN + 1] = "";

        assert_int_equal(files_target_parse(target_cases[i].path, hex), target_cases[i].kind);
        if (target_cases[i].kind == FILES_TARGET_BLOB)
            assert_string_equal(hex, HEX_A);
    }
}

struct range_case {
    const char *hdr;
    uint64_t size;
    enum files_range_result rc;
    uint64_t first, last;
};

#define GIB5 (5ull << 30)

static const struct range_case range_cases[] = {
    {NULL, 100, FILES_RANGE_WHOLE, 0, 0},
    {"bytes=0-9", 100, FILES_RANGE_ONE, 0, 9},
    {"bytes=10-", 100, FILES_RANGE_ONE, 10, 99},
    {"bytes=-10", 100, FILES_RANGE_ONE, 90, 99},
    {"bytes=-1000", 100, FILES_RANGE_ONE, 0, 99},
    {"bytes=90-1000", 100, FILES_RANGE_ONE, 90, 99},
    {"bytes=99-99", 100, FILES_RANGE_ONE, 99, 99},
    {"Bytes = 1-2", 100, FILES_RANGE_ONE, 1, 2},
    {"bytes=100-", 100, FILES_RANGE_NOT_SATISFIABLE, 0, 0},
    {"bytes=200-300", 100, FILES_RANGE_NOT_SATISFIABLE, 0, 0},
    {"bytes=-0", 100, FILES_RANGE_NOT_SATISFIABLE, 0, 0},
    {"bytes=0-", 0, FILES_RANGE_NOT_SATISFIABLE, 0, 0},
    {"bytes=-5", 0, FILES_RANGE_NOT_SATISFIABLE, 0, 0},
    {"bytes=5-4", 100, FILES_RANGE_WHOLE, 0, 0}, /* invalid: ignored */
    {"bytes=0-1,5-6", 100, FILES_RANGE_WHOLE, 0, 0},
    {"bytes=", 100, FILES_RANGE_WHOLE, 0, 0},
    {"bytes=-", 100, FILES_RANGE_WHOLE, 0, 0},
    {"bytes=1", 100, FILES_RANGE_WHOLE, 0, 0}, /* truncated */
    {"bytes", 100, FILES_RANGE_WHOLE, 0, 0},
    {"byte", 100, FILES_RANGE_WHOLE, 0, 0},
    {"items=0-1", 100, FILES_RANGE_WHOLE, 0, 0},
    {"bytes=0-1x", 100, FILES_RANGE_WHOLE, 0, 0},
    {"bytes=a-1", 100, FILES_RANGE_WHOLE, 0, 0},
    {"bytes=99999999999999999999-", 100, FILES_RANGE_WHOLE, 0, 0}, /* 20 digits */
    {"bytes=9999999999999999999-", 100, FILES_RANGE_NOT_SATISFIABLE, 0, 0},
    {"bytes=4294967296-", GIB5, FILES_RANGE_ONE, 4294967296ull, GIB5 - 1},
    {"bytes=5368709000-5368709119", GIB5, FILES_RANGE_ONE, 5368709000ull, 5368709119ull},
    {"bytes=-100", GIB5, FILES_RANGE_ONE, GIB5 - 100, GIB5 - 1},
};

static void test_range_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
        const struct range_case *k = &range_cases[i];
        struct files_range r = {0, 0};

        assert_int_equal(files_range_parse(k->hdr, k->size, &r), k->rc);
        if (k->rc == FILES_RANGE_ONE) {
            assert_true(r.first == k->first);
            assert_true(r.last == k->last);
        }
    }
}

#define ETAG "\"sha256-" HEX_A "\""

struct etag_case {
    const char *hdr;
    bool listed;
};

static const struct etag_case etag_cases[] = {
    {ETAG, true},
    {"W/" ETAG, true},
    {"*", true},
    {"\"x\", " ETAG, true},
    {"\"x\"," ETAG ",\"y\"", true},
    {"\"x\"", false},
    {"\"sha256-" HEX_A, false}, /* truncated: no closing quote */
    {"sha256-" HEX_A, false},
    {"", false},
    {", ,", false},
};

static void test_etag_table(void **state)
{
    char etag[FILES_ETAG_LEN + 1];

    (void)state;
    files_etag_format(HEX_A, etag, sizeof(etag));
    assert_string_equal(etag, ETAG);
    for (size_t i = 0; i < sizeof(etag_cases) / sizeof(etag_cases[0]); i++)
        assert_int_equal(files_etag_listed(etag_cases[i].hdr, etag), etag_cases[i].listed);
    assert_false(files_etag_listed(NULL, etag));
    assert_false(files_etag_listed("*", NULL));
}

struct date_case {
    const char *text;
    int rc;
    time_t t;
};

static const struct date_case date_cases[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 0, 784111777},
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0, 0},
    {"Sun, 06 Nov 1994 08:49:37 UTC", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37 GM", -1, 0}, /* truncated */
    {"Sun, 06 Nov 1994 08:49", -1, 0},
    {"Sunday, 06-Nov-94 08:49:37 GMT", -1, 0},
    {"Sun, 06 Foo 1994 08:49:37 GMT", -1, 0},
    {"Sun, 32 Nov 1994 08:49:37 GMT", -1, 0},
    {"Sun, 06 Nov 1994 24:49:37 GMT", -1, 0},
    {"Sun, 06 Nov 19x4 08:49:37 GMT", -1, 0},
    {"", -1, 0},
};

static void test_date_table(void **state)
{
    char buf[FILES_DATE_LEN + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
        time_t t = -1;

        assert_int_equal(files_date_parse(date_cases[i].text, &t), date_cases[i].rc);
        if (date_cases[i].rc == 0) {
            assert_true(t == date_cases[i].t);
            files_date_format(t, buf, sizeof(buf));
            assert_string_equal(buf, date_cases[i].text);
        }
    }
    assert_int_equal(files_date_parse(NULL, &(time_t){0}), -1);
}

static void test_if_range(void **state)
{
    (void)state;
    assert_true(files_if_range_holds(NULL, ETAG, 5));
    assert_true(files_if_range_holds(ETAG, ETAG, 5));
    assert_false(files_if_range_holds("W/" ETAG, ETAG, 5)); /* weak never holds */
    assert_false(files_if_range_holds("\"other\"", ETAG, 5));
    assert_false(files_if_range_holds(ETAG, NULL, 5));
    assert_true(files_if_range_holds("Sun, 06 Nov 1994 08:49:37 GMT", NULL, 784111777));
    assert_false(files_if_range_holds("Sun, 06 Nov 1994 08:49:38 GMT", NULL, 784111777));
    assert_false(files_if_range_holds("garbage", ETAG, 784111777));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unescape_table), cmocka_unit_test(test_target_table),
        cmocka_unit_test(test_range_table),    cmocka_unit_test(test_etag_table),
        cmocka_unit_test(test_date_table),     cmocka_unit_test(test_if_range),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
