/* test_peer_key.c: which addresses share a per-client limit (IPv4 address,
 * IPv6 /64) and an unanswered-transfer budget (IPv4 /24, IPv6 /64), v4-mapped
 * IPv6 taken as IPv4; the text a summary line shows for a key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "server/tftp/peer_key.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A sockaddr from text: AF_INET6 when it has a ':'. */
static socklen_t sa_make(const char *text, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(text, ':') != NULL) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(1234);
        assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
        return sizeof(*s6);
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

    s4->sin_family = AF_INET;
    s4->sin_port = htons(4321);
    assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
    return sizeof(*s4);
}

static void key_of(const char *text, enum peer_scope scope, struct peer_key *k)
{
    struct sockaddr_storage ss;

    sa_make(text, &ss);
    assert_int_equal(peer_key_make((const struct sockaddr *)&ss, scope, k), 0);
}

struct pair_case {
    const char *a, *b;
    bool same_client; /* one per-client limit */
    bool same_prefix; /* one unanswered budget */
};

static const struct pair_case pair_cases[] = {
    /* IPv4: the client is the address, the prefix its /24. */
    {"192.0.2.7", "192.0.2.7", true, true},
    {"192.0.2.7", "192.0.2.8", false, true},
    {"192.0.2.0", "192.0.2.255", false, true},
    {"192.0.2.7", "192.0.3.7", false, false},
    {"10.0.0.1", "11.0.0.1", false, false},
    /* IPv6: one /64 is one client and one prefix, whatever the interface ID. */
    {"2001:db8:1:2::1", "2001:db8:1:2::1", true, true},
    {"2001:db8:1:2::1", "2001:db8:1:2::2", true, true},
    {"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true, true},
    {"2001:db8:1:2:8000::", "2001:db8:1:2:7fff::", true, true},
    {"2001:db8:1:2::1", "2001:db8:1:3::1", false, false},
    {"2001:db8:1:2::1", "2001:db9:1:2::1", false, false},
    {"fe80::1", "fe80::2", true, true},
    {"::1", "::2", true, true},
    /* v4-mapped IPv6 (a dual-stack listener) is the IPv4 address it carries. */
    {"::ffff:192.0.2.7", "192.0.2.7", true, true},
    {"::ffff:192.0.2.7", "::ffff:192.0.2.8", false, true},
    {"::ffff:192.0.2.7", "192.0.3.7", false, false},
    /* ... and never the same as an IPv6 /64 that holds the same bytes. */
    {"::ffff:192.0.2.7", "::1", false, false},
    {"0.0.0.0", "::", false, false},
};

static void test_peer_key_pairs(void **state)
{
    struct peer_key ca, cb, pa, pb;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(pair_cases); i++) {
        const struct pair_case *c = &pair_cases[i];

        key_of(c->a, PEER_SCOPE_CLIENT, &ca);
        key_of(c->b, PEER_SCOPE_CLIENT, &cb);
        key_of(c->a, PEER_SCOPE_PREFIX, &pa);
        key_of(c->b, PEER_SCOPE_PREFIX, &pb);
        if (peer_key_equal(&ca, &cb) != c->same_client)
            fail_msg("%s vs %s: same client %d, want %d", c->a, c->b, !c->same_client,
                     c->same_client);
        if (peer_key_equal(&pa, &pb) != c->same_prefix)
            fail_msg("%s vs %s: same prefix %d, want %d", c->a, c->b, !c->same_prefix,
                     c->same_prefix);
    }
}

struct text_case {
    const char *addr;
    enum peer_scope scope;
    const char *want;
};

static void test_peer_key_format(void **state)
{
    static const struct text_case cases[] = {
        {"192.0.2.7", PEER_SCOPE_CLIENT, "192.0.2.7"},
        {"192.0.2.7", PEER_SCOPE_PREFIX, "192.0.2.0/24"},
        {"::ffff:192.0.2.7", PEER_SCOPE_CLIENT, "192.0.2.7"},
        {"::ffff:192.0.2.7", PEER_SCOPE_PREFIX, "192.0.2.0/24"},
        {"2001:db8:1:2:3:4:5:6", PEER_SCOPE_CLIENT, "2001:db8:1:2::/64"},
        {"2001:db8:1:2:3:4:5:6", PEER_SCOPE_PREFIX, "2001:db8:1:2::/64"},
        {"::1", PEER_SCOPE_CLIENT, "::/64"},
    };
    struct peer_key k;
    char out[PEER_KEY_TEXT_MAX], small[6];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        key_of(cases[i].addr, cases[i].scope, &k);
        peer_key_format(&k, out, sizeof(out));
        assert_string_equal(out, cases[i].want);
    }
    /* A short buffer is cut, never overrun. */
    key_of("192.0.2.7", PEER_SCOPE_PREFIX, &k);
    peer_key_format(&k, small, sizeof(small));
    assert_string_equal(small, "192.0");
}

/* The bytes past the prefix are zero, so the key never carries the host part. */
static void test_peer_key_masks(void **state)
{
    static const uint8_t v6_want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2};
    static const uint8_t v4_want[16] = {192, 0, 2, 0};
    struct peer_key k;

    (void)state;
    key_of("2001:db8:1:2:aaaa:bbbb:cccc:dddd", PEER_SCOPE_CLIENT, &k);
    assert_int_equal(k.family, 6);
    assert_int_equal(k.bits, 64);
    assert_memory_equal(k.addr, v6_want, 16);
    key_of("192.0.2.77", PEER_SCOPE_PREFIX, &k);
    assert_int_equal(k.family, 4);
    assert_int_equal(k.bits, 24);
    assert_memory_equal(k.addr, v4_want, 16);
}

static void test_peer_key_other_family(void **state)
{
    struct sockaddr_storage ss;
    struct peer_key k;

    (void)state;
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNIX;
    assert_int_equal(peer_key_make((const struct sockaddr *)&ss, PEER_SCOPE_CLIENT, &k), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_key_pairs),
        cmocka_unit_test(test_peer_key_format),
        cmocka_unit_test(test_peer_key_masks),
        cmocka_unit_test(test_peer_key_other_family),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
