/* test_grow.c: grow_array doubles from its first size, keeps contents, and
 * refuses sizes whose byte count would overflow without touching the array. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lib/grow.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_and_keeps),
        cmocka_unit_test(test_overflow_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
