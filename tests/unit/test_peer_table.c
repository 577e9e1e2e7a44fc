/* test_peer_table.c: SipHash-2-4 against the paper's test vectors, and the
 * shared table of counts per peer key: limits, release, many keys, and
 * workers acquiring and releasing at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "lib/siphash.h"
#include "server/tftp/peer_table.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Key 00 01 .. 0f, message 00 01 .. len-1 (the paper's Appendix A setting);
 * the values agree with OpenSSL's SIPHASH MAC (size 8). */
static void test_siphash_vectors(void **state)
{
    static const struct {
        size_t len;
        uint64_t want;
    } cases[] = {
        {0, UINT64_C(0x726fdb47dd0e0e31)},  {1, UINT64_C(0x74f839c593dc67fd)},
        {7, UINT64_C(0xab0200f58b01d137)},  {8, UINT64_C(0x93f5f5799a932462)},
        {15, UINT64_C(0xa129ca6149be45e5)}, {16, UINT64_C(0x3f2acc7f57c29bdb)},
        {63, UINT64_C(0x958a324ceb064572)},
    };
    uint8_t key[SIPHASH_KEY_LEN], msg[64];

    (void)state;
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)i;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (siphash24(key, msg, cases[i].len) != cases[i].want)
            fail_msg("len %zu: got %016llx", cases[i].len,
                     (unsigned long long)siphash24(key, msg, cases[i].len));
    /* Another key, another hash. */
    key[0] ^= 1;
    assert_true(siphash24(key, msg, 15) != UINT64_C(0xa129ca6149be45e5));
}

static struct peer_key key_n(uint32_t n)
{
    struct peer_key k;

    memset(&k, 0, sizeof(k));
    k.family = 4;
    k.bits = 32;
    memcpy(k.addr, &n, sizeof(n));
    return k;
}

static void test_peer_table_limit(void **state)
{
    struct peer_table *t;
    struct peer_count *held[3], *c;
    struct peer_key a = key_n(1), b = key_n(2);

    (void)state;
    assert_int_equal(peer_table_new(&t), 0);
    for (int i = 0; i < 3; i++)
        assert_non_null(held[i] = peer_table_acquire(t, &a, 3));
    assert_null(peer_table_acquire(t, &a, 3));
    assert_int_equal(peer_table_count(t, &a), 3);
    /* Another key has its own count; a higher limit lets one more in. */
    assert_non_null(c = peer_table_acquire(t, &b, 1));
    assert_null(peer_table_acquire(t, &b, 1));
    assert_int_equal(peer_table_count(t, &b), 1);
    peer_table_release(t, c);
    assert_int_equal(peer_table_count(t, &b), 0);
    assert_non_null(c = peer_table_acquire(t, &a, 4));
    assert_int_equal(peer_table_count(t, &a), 4);
    peer_table_release(t, c);
    /* A freed place is taken again. */
    peer_table_release(t, held[0]);
    assert_non_null(held[0] = peer_table_acquire(t, &a, 3));
    for (int i = 0; i < 3; i++)
        peer_table_release(t, held[i]);
    assert_int_equal(peer_table_count(t, &a), 0);
    /* Limit 0 never admits; releasing NULL does nothing. */
    assert_null(peer_table_acquire(t, &a, 0));
    peer_table_release(t, NULL);
    peer_table_free(t);
}

/* Far more keys than buckets: chains work, every count is its own. */
static void test_peer_table_many_keys(void **state)
{
    enum { N = 50000 };
    struct peer_count **held = calloc(N, sizeof(*held));
    struct peer_table *t;

    (void)state;
    assert_non_null(held);
    assert_int_equal(peer_table_new(&t), 0);
    for (uint32_t i = 0; i < N; i++) {
        struct peer_key k = key_n(i);

        assert_non_null(held[i] = peer_table_acquire(t, &k, 1));
    }
    for (uint32_t i = 0; i < N; i++) {
        struct peer_key k = key_n(i);

        assert_int_equal(peer_table_count(t, &k), 1);
        assert_null(peer_table_acquire(t, &k, 1));
    }
    for (uint32_t i = 0; i < N; i += 2)
        peer_table_release(t, held[i]);
    for (uint32_t i = 0; i < N; i++) {
        struct peer_key k = key_n(i);

        assert_int_equal(peer_table_count(t, &k), i % 2);
    }
    /* Left held on purpose: peer_table_free() frees what is still in it. */
    peer_table_free(t);
    free(held);
}

struct racer {
    struct peer_table *t;
    uint32_t base;
    unsigned over; /* acquisitions that went past the limit */
};

/* Each thread shares key 0 (limit 2) with the others and has keys of its own. */
static void *racer_main(void *arg)
{
    struct racer *r = arg;
    struct peer_key shared = key_n(0);

    for (uint32_t i = 0; i < 20000; i++) {
        struct peer_key own = key_n(r->base + i % 64);
        struct peer_count *a = peer_table_acquire(r->t, &shared, 2);
        struct peer_count *b = peer_table_acquire(r->t, &own, 1);

        if (peer_table_count(r->t, &shared) > 2)
            r->over++;
        peer_table_release(r->t, b);
        peer_table_release(r->t, a);
    }
    return NULL;
}

static void test_peer_table_threads(void **state)
{
    struct racer r[4];
    pthread_t th[4];
    struct peer_key shared = key_n(0);

    (void)state;
    memset(r, 0, sizeof(r));
    assert_int_equal(peer_table_new(&r[0].t), 0);
    for (int i = 0; i < 4; i++) {
        r[i].t = r[0].t;
        r[i].base = 1000 + 100 * (uint32_t)i;
        assert_int_equal(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].over, 0);
    }
    assert_int_equal(peer_table_count(r[0].t, &shared), 0);
    peer_table_free(r[0].t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_vectors),
        cmocka_unit_test(test_peer_table_limit),
        cmocka_unit_test(test_peer_table_many_keys),
        cmocka_unit_test(test_peer_table_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
