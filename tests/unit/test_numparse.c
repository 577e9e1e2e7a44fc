/* test_numparse.c: table tests for numparse_u64(): digits only, 20 digits at
 * most, range and overflow give -2. Must not depend on any other module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "lib/numparse.h"

struct numparse_case {
    const char *text;
    uint64_t min, max;
    int rc;
    uint64_t value; /* when rc == 0 */
};

static const struct numparse_case numparse_cases[] = {
    {"0", 0, 10, 0, 0},
    {"7", 0, 10, 0, 7},
    {"10", 0, 10, 0, 10},
    {"11", 0, 10, -2, 0},
    {"4", 5, 10, -2, 0},
    {"5", 5, 10, 0, 5},
    {"007", 0, 10, 0, 7},
    {"65535", 1, 65535, 0, 65535},
    {"65536", 1, 65535, -2, 0},
    {"0", 1, 65535, -2, 0},
    {"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
    {"18446744073709551614", 0, UINT64_MAX, 0, UINT64_MAX - 1},
    {"18446744073709551616", 0, UINT64_MAX, -2, 0},  /* UINT64_MAX + 1 */
    {"18446744073709551620", 0, UINT64_MAX, -2, 0},  /* overflow in the last digit */
    {"99999999999999999999", 0, UINT64_MAX, -2, 0},  /* 20 digits, overflow */
    {"00000000000000000001", 0, UINT64_MAX, 0, 1},   /* 20 digits with zeros */
    {"000000000000000000001", 0, UINT64_MAX, -1, 0}, /* 21 digits */
    {"100000000000000000000", 0, UINT64_MAX, -1, 0}, /* 21 digits */
    {"", 0, 10, -1, 0},
    {"-1", 0, 10, -1, 0},
    {"+1", 0, 10, -1, 0},
    {" 1", 0, 10, -1, 0},
    {"1 ", 0, 10, -1, 0},
    {"1x", 0, 10, -1, 0},
    {"x1", 0, 10, -1, 0},
    {"0x10", 0, 100, -1, 0},
    {"1.5", 0, 10, -1, 0},
    {"1e3", 0, 10000, -1, 0},
    {"\t5", 0, 10, -1, 0},
    {"5\n", 0, 10, -1, 0},
    {"١", 0, 10, -1, 0}, /* a non-ASCII digit */
};

static void test_numparse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(numparse_cases) / sizeof(numparse_cases[0]); i++) {
        const struct numparse_case *t = &numparse_cases[i];
        uint64_t value = 12345;
        int rc = numparse_u64(t->text, t->min, t->max, &value);

        print_message("case %zu: \"%s\"\n", i, t->text);
        assert_int_equal(rc, t->rc);
        if (rc == 0)
            assert_true(value == t->value);
        else
            assert_true(value == 12345); /* untouched on failure */
    }
}

static void test_numparse_null(void **state)
{
    uint64_t value = 0;

    (void)state;
    assert_int_equal(numparse_u64(NULL, 0, 10, &value), -1);
    assert_int_equal(numparse_u64("3", 0, 10, NULL), 0);
}

static void test_numparse_every_bound(void **state)
{
    (void)state;
    /* Every value from 0 to 1000 against [100, 900]. */
    for (uint64_t v = 0; v <= 1000; v++) {
        char text[8];
        uint64_t out = 0;
        int rc;

        snprintf(text, sizeof(text), "%u", (unsigned)v);
        rc = numparse_u64(text, 100, 900, &out);
        if (v < 100 || v > 900) {
            assert_int_equal(rc, -2);
        } else {
            assert_int_equal(rc, 0);
            assert_true(out == v);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numparse_table),
        cmocka_unit_test(test_numparse_null),
        cmocka_unit_test(test_numparse_every_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
