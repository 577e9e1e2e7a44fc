/* test_timers.c: cmocka tests of the timer heap: scripted and pseudo-random
 * sets, moves and removals checked against a plain array that is searched
 * every step. Never reads the clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "server/tftp/timers.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define N            200

/* The smallest due among the entries in the heap (0 when none). */
static uint64_t min_due(const struct timer_entry *e, size_t n)
{
    uint64_t best = 0;

    for (size_t i = 0; i < n; i++)
        if (e[i].idx != SIZE_MAX && (best == 0 || e[i].due < best))
            best = e[i].due;
    return best;
}

/* The heap property and the back-pointers, everywhere. */
static void check_heap(const struct timer_heap *h)
{
    for (size_t i = 0; i < h->len; i++) {
        assert_int_equal(h->v[i]->idx, i);
        assert_true(h->v[i]->due != 0);
        if (i > 0)
            assert_true(h->v[(i - 1) / 2]->due <= h->v[i]->due);
    }
}

static void test_script(void **state)
{
    struct timer_heap h = {0};
    struct timer_entry e[4];
    static const struct {
        int entry;
        uint64_t due; /* 0: take out */
        int first;    /* the entry expected first afterwards, -1 none */
    } steps[] = {
        {0, 50, 0}, {1, 20, 1}, {2, 30, 1}, {1, 60, 2}, /* a later deadline moves down */
        {3, 10, 3}, {3, 0, 2},  {2, 0, 0},  {0, 0, 1},  /* removal from the top */
        {1, 0, -1}, {1, 0, -1},                         /* removal twice is harmless */
        {2, 5, 2},  {2, 70, 2},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(e); i++)
        timer_entry_init(&e[i]);
    for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
        struct timer_entry *first;

        assert_int_equal(timer_heap_set(&h, &e[steps[i].entry], steps[i].due), 0);
        check_heap(&h);
        first = timer_heap_first(&h);
        if (steps[i].first < 0)
            assert_null(first);
        else
            assert_ptr_equal(first, &e[steps[i].first]);
    }
    assert_int_equal(e[1].idx, SIZE_MAX);
    timer_heap_remove(&h, &e[1]); /* not in: nothing */
    timer_heap_remove(&h, &e[2]);
    assert_null(timer_heap_first(&h));
    timer_heap_free(&h);
}

static void test_random(void **state)
{
    struct timer_heap h = {0};
    struct timer_entry e[N];
    uint32_t x = 12345;

    (void)state;
    for (size_t i = 0; i < N; i++)
        timer_entry_init(&e[i]);
    for (int step = 0; step < 20000; step++) {
        size_t k;
        uint64_t due;
        struct timer_entry *first;

        x = x * 1103515245u + 12345u;
        k = (x >> 8) % N;
        due = (x >> 20) % 8 == 0 ? 0 : 1 + (x >> 4) % 1000; /* some removals, many ties */
        if ((x >> 16) % 16 == 0)
            timer_heap_remove(&h, &e[k]);
        else
            assert_int_equal(timer_heap_set(&h, &e[k], due), 0);
        check_heap(&h);
        first = timer_heap_first(&h);
        if (first == NULL)
            assert_int_equal(min_due(e, N), 0);
        else
            assert_int_equal(first->due, min_due(e, N));
    }
    /* Draining in order. */
    for (uint64_t last = 0; timer_heap_first(&h) != NULL;) {
        struct timer_entry *first = timer_heap_first(&h);

        assert_true(first->due >= last);
        last = first->due;
        timer_heap_remove(&h, first);
        check_heap(&h);
    }
    timer_heap_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script),
        cmocka_unit_test(test_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
