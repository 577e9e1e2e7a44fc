/* test_files_request.c: table tests for the HTTP file service's pure request
 * rules: path escapes, the path's kind (names, blobs, manifests), Range (RFC 9110 section 14),
 * entity tags, If-Range and HTTP dates, each with truncated and malformed input. */
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
    const char *arg; /* the hex or load name filled, when not NULL */
};

static const struct target_case target_cases[] = {
    {"/SEP001122334455.cnf.xml", FILES_TARGET_NAME, NULL},
    {"/blobs", FILES_TARGET_NAME, NULL},
    {"/blobs/sha256/" HEX_A, FILES_TARGET_BLOB, HEX_A},
    {"/blobs/sha256/" HEX_A "0", FILES_TARGET_NONE, NULL},
    {"/blobs/sha256/0123456789abcdef", FILES_TARGET_NONE, NULL}, /* truncated */
    {"/blobs/sha256/", FILES_TARGET_NONE, NULL},
    {"/blobs/sha256/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     FILES_TARGET_NONE, NULL},
    {"/blobs/sha256/" HEX_A "/", FILES_TARGET_NONE, NULL},
    {"/blobs/md5/x", FILES_TARGET_NONE, NULL},
    {"/blobs/", FILES_TARGET_NONE, NULL},
    {"/Blobs/sha256/" HEX_A, FILES_TARGET_NAME, NULL},
    /* manifests */
    {"/manifests/v1/loads", FILES_TARGET_LOADS, NULL},
    {"/manifests/v1/loads/SIP41.9-4-2SR3-1S", FILES_TARGET_LOAD, "SIP41.9-4-2SR3-1S"},
    {"/manifests/v1/loads/sip41.9-4-2sr3-1s.LOADS", FILES_TARGET_LOAD, "sip41.9-4-2sr3-1s.LOADS"},
    {"/manifests/v1/loads/a b", FILES_TARGET_LOAD, "a b"},
    {"/manifests/v1/loads/", FILES_TARGET_BAD_LOAD, NULL}, /* an empty name */
    {"/manifests/v1/loads/a/b", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/a\\b", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/..", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/.", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/a\x7f", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/SIP41/", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loadsx", FILES_TARGET_NONE, NULL},
    {"/manifests/v2/loads", FILES_TARGET_NONE, NULL},
    {"/manifests/", FILES_TARGET_NONE, NULL},
    {"/manifests", FILES_TARGET_NAME, NULL},
    {"/Manifests/v1/loads", FILES_TARGET_NAME, NULL},
};

static void test_target_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(target_cases) / sizeof(target_cases[0]); i++) {
        char arg[FILES_ARG_MAX] = "";

        assert_int_equal(files_target_parse(target_cases[i].path, arg), target_cases[i].kind);
        if (target_cases[i].arg != NULL)
            assert_string_equal(arg, target_cases[i].arg);
    }
}

/* The path as it comes off the wire: escapes first, then the kind. An
 * escaped slash or NUL never makes a load name of another shape. */
static const struct target_case escaped_cases[] = {
    {"/manifests/v1/loads/a%2Fb", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/a%2fb", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/a%5Cb", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/a%00b", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/%00", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/%2E%2E", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/%0a", FILES_TARGET_BAD_LOAD, NULL},
    {"/manifests/v1/loads/SIP%34%31", FILES_TARGET_LOAD, "SIP41"},
    {"/manifests/v1/loads/a%2", FILES_TARGET_LOAD, "a%2"}, /* a lone '%' stays */
    {"/manifests%2Fv1%2Floads", FILES_TARGET_LOADS, NULL},
};

static void test_target_escaped(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(escaped_cases) / sizeof(escaped_cases[0]); i++) {
        char path[64], arg[FILES_ARG_MAX] = "";

        snprintf(path, sizeof(path), "%s", escaped_cases[i].path);
        files_unescape(path);
        assert_int_equal(files_target_parse(path, arg), escaped_cases[i].kind);
        if (escaped_cases[i].arg != NULL)
            assert_string_equal(arg, escaped_cases[i].arg);
    }
}

/* Every prefix of a load's manifest path: a name, 404, the list, an empty
 * (refused) name, then the load under ever longer names. */
static void test_target_truncated(void **state)
{
    static const char full[] = "/manifests/v1/loads/SIP41.loads";
    size_t man = strlen(FILES_MANIFESTS), list = strlen(FILES_LOADS_LIST);

    (void)state;
    for (size_t n = 0; n <= strlen(full); n++) {
        char path[sizeof(full)], arg[FILES_ARG_MAX] = "";
        enum files_target want = n < man         ? FILES_TARGET_NAME
                                 : n < list      ? FILES_TARGET_NONE
                                 : n == list     ? FILES_TARGET_LOADS
                                 : n == list + 1 ? FILES_TARGET_BAD_LOAD
                                                 : FILES_TARGET_LOAD;

        memcpy(path, full, n);
        path[n] = '\0';
        assert_int_equal(files_target_parse(path, arg), want);
        if (want == FILES_TARGET_LOAD) {
            assert_int_equal(strlen(arg), n - list - 1);
            assert_memory_equal(arg, full + list + 1, n - list - 1);
        }
    }
}

/* A load name of FILES_LOAD_NAME_MAX bytes is one; a byte more is refused. */
static void test_target_long_name(void **state)
{
    char path[sizeof(FILES_LOADS_LIST) + FILES_LOAD_NAME_MAX + 2], arg[FILES_ARG_MAX];
    size_t list = strlen(FILES_LOADS_LIST);

    (void)state;
    memcpy(path, FILES_LOADS_LIST "/", list + 1);
    memset(path + list + 1, 'a', FILES_LOAD_NAME_MAX);
    path[list + 1 + FILES_LOAD_NAME_MAX] = '\0';
    assert_int_equal(files_target_parse(path, arg), FILES_TARGET_LOAD);
    assert_int_equal(strlen(arg), FILES_LOAD_NAME_MAX);
    path[list + 1 + FILES_LOAD_NAME_MAX] = 'a';
    path[list + 2 + FILES_LOAD_NAME_MAX] = '\0';
    assert_int_equal(files_target_parse(path, arg), FILES_TARGET_BAD_LOAD);
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
        cmocka_unit_test(test_unescape_table),   cmocka_unit_test(test_target_table),
        cmocka_unit_test(test_target_escaped),   cmocka_unit_test(test_target_truncated),
        cmocka_unit_test(test_target_long_name), cmocka_unit_test(test_range_table),
        cmocka_unit_test(test_etag_table),       cmocka_unit_test(test_date_table),
        cmocka_unit_test(test_if_range),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
