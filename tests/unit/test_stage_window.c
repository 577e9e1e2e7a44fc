/* test_stage_window.c: table tests for the stage window: accepted forms,
 * every truncation and bad value refused, and the seconds a staged pull
 * waits at times inside, outside and around a window that wraps midnight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/upstream/window.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HM(h, m)     ((h)*3600u + (m)*60u)

static void test_parse_accepts(void **state)
{
    static const struct {
        const char *in;
        int set;
        unsigned start, end;
        const char *shown;
    } cases[] = {
        {"22:00-06:00", 1, 1320, 360, "22:00-06:00"},
        {"00:00-23:59", 1, 0, 1439, "00:00-23:59"},
        {"09:30-17:45", 1, 570, 1065, "09:30-17:45"},
        {"23:59-00:00", 1, 1439, 0, "23:59-00:00"},
        {"none", 0, 0, 0, "any time"},
    };
    struct stage_window w;
    char err[160], shown[STAGE_WINDOW_TEXT_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(stage_window_parse(cases[i].in, &w, err, sizeof(err)), 0);
        assert_int_equal(w.set, cases[i].set);
        assert_int_equal(w.start, cases[i].start);
        assert_int_equal(w.end, cases[i].end);
        assert_string_equal(stage_window_format(&w, shown, sizeof(shown)), cases[i].shown);
    }
}

static void test_parse_refuses(void **state)
{
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"", "not HH:MM-HH:MM"},
        {"25:00-01:00", "a time is not HH:MM"},
        {"01:00-24:00", "a time is not HH:MM"},
        {"01:60-02:00", "a time is not HH:MM"},
        {"1:00-2", "not HH:MM-HH:MM"},
        {"1:00-02:00", "not HH:MM-HH:MM"},
        {"01:00-02:000", "not HH:MM-HH:MM"},
        {"01:00 02:00", "not HH:MM-HH:MM"},
        {"01-00-02:00", "a time is not HH:MM"},
        {"0a:00-02:00", "a time is not HH:MM"},
        {"+1:00-02:00", "a time is not HH:MM"},
        {"10:00-10:00", "opens and closes at the same minute"},
        {"NONE", "not HH:MM-HH:MM"},
    };
    const char *whole = "22:00-06:00";
    struct stage_window w;
    char err[160], cut[16];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        err[0] = '\0';
        assert_int_equal(stage_window_parse(cases[i].in, &w, err, sizeof(err)), -1);
        assert_false(w.set);
        assert_non_null(strstr(err, cases[i].why));
    }
    /* Every truncation of a good window is refused. */
    for (size_t n = 0; n < strlen(whole); n++) {
        memcpy(cut, whole, n);
        cut[n] = '\0';
        assert_int_equal(stage_window_parse(cut, &w, err, sizeof(err)), -1);
    }
}

static void test_wait(void **state)
{
    static const struct {
        const char *window;
        unsigned at, wait;
    } cases[] = {
        {"none", HM(12, 0), 0},
        {"22:00-06:00", HM(23, 0), 0},
        {"22:00-06:00", HM(0, 0), 0},
        {"22:00-06:00", HM(5, 59) + 59, 0},
        {"22:00-06:00", HM(6, 0), HM(16, 0)},
        {"22:00-06:00", HM(21, 59) + 30, 30},
        {"22:00-06:00", HM(22, 0), 0},
        {"09:00-17:00", HM(8, 0), HM(1, 0)},
        {"09:00-17:00", HM(17, 0), HM(16, 0)},
        {"09:00-17:00", HM(23, 59) + 59, HM(9, 0) + 1},
        {"09:00-17:00", HM(12, 0), 0},
        {"23:59-00:00", HM(23, 59) + 10, 0},
        {"23:59-00:00", HM(0, 0), HM(23, 59)},
        {"09:00-17:00", STAGE_DAY_S + HM(8, 0), HM(1, 0)}, /* past a day: wraps */
    };
    struct stage_window w;
    char err[160];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(stage_window_parse(cases[i].window, &w, err, sizeof(err)), 0);
        assert_int_equal(stage_window_wait(&w, cases[i].at), cases[i].wait);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_wait),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
