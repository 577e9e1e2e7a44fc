/* test_grow.c: grow_array doubles from its first size, keeps contents, and
 * refuses sizes whose byte count would overflow without touching the array;
 * sorted_find and sorted_insert keep records in key order; sorted_find_by
 * searches by any order. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "lib/grow.h"
#include "lib/sorted.h"

static void test_doubles_and_keeps(void **state)
{
    int *v = NULL;
    size_t cap = 0;

    (void)state;
    assert_int_equal(grow_array((void **)&v, &cap, 1, sizeof(*v), 4), 0);
    assert_int_equal(cap, 4);
    for (int i = 0; i < 4; i++)
        v[i] = i * 10;
    assert_int_equal(grow_array((void **)&v, &cap, 4, sizeof(*v), 4), 0);
    assert_int_equal(cap, 4); /* enough already: no change */
    assert_int_equal(grow_array((void **)&v, &cap, 5, sizeof(*v), 4), 0);
    assert_int_equal(cap, 8);
    assert_int_equal(grow_array((void **)&v, &cap, 33, sizeof(*v), 4), 0);
    assert_int_equal(cap, 64);
    for (int i = 0; i < 4; i++)
        assert_int_equal(v[i], i * 10);
    free(v);
}

static void test_overflow_refused(void **state)
{
    char *v = NULL;
    size_t cap = 0;

    (void)state;
    assert_int_equal(grow_array((void **)&v, &cap, SIZE_MAX, 1, 16), -ENOMEM);
    assert_null(v);
    assert_int_equal(cap, 0);
    assert_int_equal(grow_array((void **)&v, &cap, SIZE_MAX / 4, 8, 16), -ENOMEM);
    assert_null(v);
    assert_int_equal(grow_array((void **)&v, &cap, 3, 1, 16), 0);
    assert_int_equal(cap, 16);
    assert_int_equal(grow_array((void **)&v, &cap, SIZE_MAX / 2 + 2, 1, 16), -ENOMEM);
    assert_int_equal(cap, 16); /* unchanged on failure */
    free(v);
}

struct rec {
    int payload;
    char key[8];
};

/* Inserting keys in any order leaves them sorted, found, with their payload;
 * a key already there is found, not added. */
static void test_sorted_insert_find(void **state)
{
    static const char *keys[] = {"m", "c", "x", "a", "m", "zz", "b", "", "c"};
    static const char *want[] = {"", "a", "b", "c", "m", "x", "zz"};
    struct rec *v = NULL;
    size_t n = 0, cap = 0, i;
    bool found;

    (void)state;
    assert_int_equal(sorted_find(v, 0, sizeof(*v), offsetof(struct rec, key), "a", &found), 0);
    assert_false(found);
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        i = sorted_find(v, n, sizeof(*v), offsetof(struct rec, key), keys[k], &found);
        if (found)
            continue;
        assert_int_equal(sorted_insert((void **)&v, &cap, n, sizeof(*v), i, 2), 0);
        assert_int_equal(v[i].payload, 0); /* zeroed */
        assert_string_equal(v[i].key, "");
        strcpy(v[i].key, keys[k]);
        v[i].payload = (int)k + 1;
        n++;
    }
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (i = 0; i < n; i++) {
        assert_string_equal(v[i].key, want[i]);
        assert_int_equal(sorted_find(v, n, sizeof(*v), offsetof(struct rec, key), want[i], &found),
                         i);
        assert_true(found);
    }
    assert_int_equal(v[3].payload, 2); /* "c": its first insert's */
    assert_int_equal(sorted_find(v, n, sizeof(*v), offsetof(struct rec, key), "d", &found), 4);
    assert_false(found);
    assert_int_equal(sorted_find(v, n, sizeof(*v), offsetof(struct rec, key), "zzz", &found), n);
    assert_false(found);
    free(v);
}

/* A compound order (payload, then key in any case) through sorted_find_by:
 * every record found where it is, absent keys where they would go. */
struct rec_key {
    int payload;
    const char *key;
};

static int rec_cmp(const void *record, const void *key)
{
    const struct rec *r = record;
    const struct rec_key *k = key;

    return r->payload != k->payload ? (r->payload < k->payload ? -1 : 1)
                                    : strcasecmp(r->key, k->key);
}

static void test_sorted_find_by(void **state)
{
    static const struct rec v[] = {{1, "a"}, {1, "B"}, {2, ""}, {2, "a"}, {5, "z"}};
    static const struct {
        struct rec_key key;
        size_t at;
        bool found;
    } cases[] = {
        {{1, "a"}, 0, true},  {{1, "b"}, 1, true},  {{2, ""}, 2, true},    {{2, "A"}, 3, true},
        {{5, "Z"}, 4, true},  {{0, "a"}, 0, false}, {{1, "ab"}, 1, false}, {{1, "c"}, 2, false},
        {{3, "a"}, 4, false}, {{9, ""}, 5, false},
    };
    bool found;

    (void)state;
    assert_int_equal(sorted_find_by(NULL, 0, sizeof(v[0]), rec_cmp, &cases[0].key, &found), 0);
    assert_false(found);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(sorted_find_by(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), rec_cmp,
                                        &cases[i].key, &found),
                         cases[i].at);
        assert_int_equal(found, cases[i].found);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_and_keeps),
        cmocka_unit_test(test_overflow_refused),
        cmocka_unit_test(test_sorted_insert_find),
        cmocka_unit_test(test_sorted_find_by),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
