/* test_upstream_url.c: table tests for the upstream's base URL (accepted and
 * normalised, or refused with a reason, every truncation) and for joining
 * names onto it with percent-encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/upstream/url.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void test_normalize_accepts(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"http://central:6970", "http://central:6970"},
        {"http://central:6970/", "http://central:6970"},
        {"HTTPS://Central.example.org///", "HTTPS://Central.example.org"},
        {"http://10.1.2.3:6970/loadsd/", "http://10.1.2.3:6970/loadsd"},
        {"http://[2001:db8::1]:6970", "http://[2001:db8::1]:6970"},
        {"https://c", "https://c"},
        {"tftp://cucm", "tftp://cucm"},
        {"TFTP://10.0.0.1:6969/", "TFTP://10.0.0.1:6969"},
        {"tftp://[::1]:69", "tftp://[::1]:69"},
    };
    char out[UPSTREAM_BASE_MAX], err[160];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        err[0] = '\0';
        assert_int_equal(upstream_url_normalize(cases[i].in, out, sizeof(out), err, sizeof(err)),
                         0);
        assert_string_equal(out, cases[i].out);
        assert_string_equal(err, "");
    }
}

static void test_normalize_refuses(void **state)
{
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"", "empty"},
        {"tftp://cucm/firmware", "a tftp:// upstream has no path"},
        {"tftp://cucm:0", "has a bad port"},
        {"tftp://cucm:65536", "has a bad port"},
        {"tftp://cucm:123456", "has a bad port"},
        {"tftp://cucm:", "has a bad port"},
        {"tftp://cucm:6x", "has a bad port"},
        {"tftp://cucm:-1", "has a bad port"},
        {"tftp://:69", "has no host"},
        {"tftp://[]:69", "has a bad [IPv6] host"},
        {"tftp://[::1", "has a bad [IPv6] host"},
        {"tftp://[::1]x", "has a bad [IPv6] host"},
        {"tftp://u@cucm", "holds a user name or password"},
        {"ftp://central", "must start with http://, https:// or tftp://"},
        {"central:6970", "must start with http://, https:// or tftp://"},
        {"http://", "has no host"},
        {"http:///x", "has no host"},
        {"http://:6970", "has no host"},
        {"http://user:pw@central", "holds a user name or password"},
        {"http://central/x?y=1", "holds a query or a fragment"},
        {"http://central/#top", "holds a query or a fragment"},
        {"http://cent ral", "holds a space, a control or a non-ASCII byte"},
        {"http://central\n", "holds a space, a control or a non-ASCII byte"},
        {"http://centr\xc3\xa4l", "holds a space, a control or a non-ASCII byte"},
    };
    char out[UPSTREAM_BASE_MAX], err[160];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        err[0] = '\0';
        assert_int_equal(upstream_url_normalize(cases[i].in, out, sizeof(out), err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, cases[i].why));
    }
}

/* Too long for the base or for out; every cut of a good URL either is a
 * good URL of its own or is refused, never out of bounds. */
static void test_normalize_lengths(void **state)
{
    char in[UPSTREAM_BASE_MAX + 32], out[UPSTREAM_BASE_MAX], small[12], err[160];
    const char *good = "https://central.example.org:6970/loadsd/";

    (void)state;
    memset(in, 'a', sizeof(in) - 1);
    memcpy(in, "http://", 7);
    in[sizeof(in) - 1] = '\0';
    assert_int_equal(upstream_url_normalize(in, out, sizeof(out), err, sizeof(err)), -1);
    assert_string_equal(err, "too long");
    assert_int_equal(
        upstream_url_normalize("http://central:6970", small, sizeof(small), err, sizeof(err)), -1);
    for (size_t n = 0; n <= strlen(good); n++) {
        char cut[64];
        int rc;

        memcpy(cut, good, n);
        cut[n] = '\0';
        rc = upstream_url_normalize(cut, out, sizeof(out), err, sizeof(err));
        assert_int_equal(rc, n >= strlen("https://c") ? 0 : -1);
        if (rc == 0)
            assert_true(strlen(out) <= n);
    }
}

/* A tftp:// base into host and port (69 when none is given). */
static void test_tftp_split(void **state)
{
    static const struct {
        const char *in, *host;
        unsigned port;
    } cases[] = {
        {"tftp://cucm", "cucm", 69},
        {"tftp://cucm/", "cucm", 69},
        {"TFTP://10.0.0.1:6969", "10.0.0.1", 6969},
        {"tftp://[2001:db8::1]", "2001:db8::1", 69},
        {"tftp://[::1]:1", "::1", 1},
        {"tftp://h:65535", "h", 65535},
    };
    char host[64], tiny[4], err[160];
    unsigned port = 0;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(
            upstream_url_tftp_split(cases[i].in, host, sizeof(host), &port, err, sizeof(err)), 0);
        assert_string_equal(host, cases[i].host);
        assert_int_equal(port, cases[i].port);
    }
    assert_int_equal(
        upstream_url_tftp_split("http://c", host, sizeof(host), &port, err, sizeof(err)), -1);
    assert_int_equal(
        upstream_url_tftp_split("tftp://central", tiny, sizeof(tiny), &port, err, sizeof(err)), -1);
    assert_string_equal(err, "too long");
    assert_true(upstream_url_is_tftp("Tftp://x"));
    assert_false(upstream_url_is_tftp("http://x"));
    assert_false(upstream_url_is_tftp(NULL));
}

static void test_plain_remote(void **state)
{
    static const struct {
        const char *base;
        bool plain_remote;
    } cases[] = {
        {"http://central:8443", true},
        {"http://10.0.0.1", true},
        {"HTTP://Central.example/api", true},
        {"http://127.0.0.1:8443", false},
        {"http://127.1.2.3", false},
        {"http://127.0.0.1.evil.example", true},
        {"http://127.example", true},
        {"http://[::1]:8443", false},
        {"http://[::1]", false},
        {"http://[::1x]", true},
        {"http://localhost:8443/x", false},
        {"http://localhost.evil", true},
        {"https://central:8443", false},
        {"tftp://central", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (upstream_url_plain_remote(cases[i].base) != cases[i].plain_remote)
            fail_msg("%s: expected %d", cases[i].base, cases[i].plain_remote);
}

static void test_join(void **state)
{
    static const struct {
        const char *kind, *name, *out;
    } cases[] = {
        {"manifests/v1/loads", "SIP41.9-4-2SR3-1S",
         "http://c:6970/manifests/v1/loads/SIP41.9-4-2SR3-1S"},
        {"manifests/v1/loads", "a b/c%", "http://c:6970/manifests/v1/loads/a%20b%2Fc%25"},
        {"blobs/sha256", "ab12", "http://c:6970/blobs/sha256/ab12"},
        {"x", "\xc3\xa4?#", "http://c:6970/x/%C3%A4%3F%23"},
    };
    char out[128], tiny[24];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(
            upstream_url_join("http://c:6970", cases[i].kind, cases[i].name, out, sizeof(out)), 0);
        assert_string_equal(out, cases[i].out);
    }
    /* Does not fit: refused, never cut. */
    assert_int_equal(upstream_url_join("http://c:6970", "x", "abcdefgh", tiny, sizeof(tiny)), -1);
    assert_int_equal(upstream_url_join("http://c:6970", "x", "abc", tiny, sizeof(tiny)), 0);
    assert_int_equal(upstream_url_join("http://c:6970", "x", "abcdefg", tiny, sizeof(tiny)), 0);
    assert_string_equal(tiny, "http://c:6970/x/abcdefg");
    assert_int_equal(upstream_url_join("http://c:6970", "x", "abcdef\x01", tiny, sizeof(tiny)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_accepts),
        cmocka_unit_test(test_normalize_refuses),
        cmocka_unit_test(test_normalize_lengths),
        cmocka_unit_test(test_tftp_split),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_plain_remote),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
