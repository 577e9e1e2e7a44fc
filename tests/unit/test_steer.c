/* test_steer.c: cmocka tests of the steering policy (which worker takes a new
 * transfer) and of the busy meter, driven by tables and a scripted clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/tftp/steer.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MS           1000000ull

static void test_pick(void **state)
{
    static const struct {
        const char *what;
        unsigned n;
        struct steer_load l[4];
        unsigned want;
    } cases[] = {
        {"one worker", 1, {{999, 50}}, 0},
        {"light: the first", 4, {{100, 40}, {0, 0}, {0, 0}, {0, 0}}, 0},
        {"first busy: the next", 4, {{700, 400}, {10, 3}, {0, 0}, {0, 0}}, 1},
        {"just under the mark", 2, {{STEER_BUSY_OPEN - 1, 9}, {0, 0}}, 0},
        {"at the mark", 2, {{STEER_BUSY_OPEN, 9}, {0, 0}}, 1},
        {"first two busy", 4, {{900, 1}, {800, 1}, {300, 0}, {0, 0}}, 2},
        {"all busy: least busy", 3, {{900, 10}, {700, 90}, {800, 5}}, 1},
        {"all busy, tie: fewer transfers", 3, {{900, 10}, {900, 5}, {900, 7}}, 1},
        {"all busy, full tie: the first", 2, {{950, 5}, {950, 5}}, 0},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        unsigned got = steer_pick(cases[i].l, cases[i].n);

        if (got != cases[i].want)
            fail_msg("%s: picked %u, want %u", cases[i].what, got, cases[i].want);
    }
}

static void test_meter(void **state)
{
    /* Waits (start, end in ms from 1000) and the busy share after each. */
    static const struct {
        uint64_t start, end;
        unsigned want;
    } steps[] = {
        {1005, 1006, 0},                      /* window (20 ms) not over: nothing yet */
        {1019, 1020, 450},                    /* 20 ms, 2 idle: 900, blended with 0 -> 450 */
        {1020, 1020, 450}, {1040, 1040, 725}, /* 20 ms all busy: (450 + 1000) / 2 */
        {1040, 1100, 0},                      /* a sleep longer than a window: counts in full */
        {1110, 1111, 0},   {1125, 1125, 480}, /* 25 ms, 1 idle: 960, blended with 0 -> 480 */
        {1124, 1130, 480}, /* before the window began (a clock gone back): ignored */
    };
    struct steer_meter m;

    (void)state;
    steer_meter_init(&m, 1000 * MS);
    for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
        unsigned got = steer_meter_wait(&m, steps[i].start * MS, steps[i].end * MS);

        if (got != steps[i].want)
            fail_msg("step %zu: busy %u, want %u", i, got, steps[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_meter),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
