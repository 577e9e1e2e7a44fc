/* test_log.c: log_clean() escaping and truncation table, log_parse_level(),
 * and the line format log_msg() writes to stderr (captured in a temp file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/log.h"

/* ---- log_clean ---- */

struct clean_case {
    const char *in;
    size_t len; /* SIZE_MAX: strlen(in) */
    size_t cap;
    const char *out;
};

#define ALL SIZE_MAX

static const struct clean_case clean_cases[] = {
    {"hello", ALL, 64, "hello"},
    {"", ALL, 64, ""},
    {"a b~", ALL, 64, "a b~"},
    {"tab\there", ALL, 64, "tab\\x09here"},
    {"nl\n", ALL, 64, "nl\\x0a"},
    {"\x1b[31mred", ALL, 64, "\\x1b[31mred"},
    {"del\x7f", ALL, 64, "del\\x7f"},
    {"back\\slash", ALL, 64, "back\\x5cslash"},
    {"say \"hi\"", ALL, 64, "say \\x22hi\\x22"},
    {"\xc3\xa9t\xc3\xa9", ALL, 64, "\\xc3\\xa9t\\xc3\\xa9"},
    {"\xff", ALL, 64, "\\xff"},
    {" ", ALL, 64, " "},
    /* len stops early; NUL stops early. */
    {"abcdef", 3, 64, "abc"},
    {"abc\0def", 7, 64, "abc"},
    {"abc", 0, 64, ""},
    /* Exact fits: no "..." when everything fits. */
    {"abcdefg", ALL, 8, "abcdefg"},
    {"abc\n", ALL, 8, "abc\\x0a"},
    /* Truncation: "..." and the NUL always fit. */
    {"abcdefgh", ALL, 8, "abcd..."},
    {"abcdefghijklmnop", ALL, 8, "abcd..."},
    {"\n\n\n", ALL, 8, "\\x0a..."},
    {"a\nbcdef", ALL, 8, "a..."},  /* never cuts an escape in half */
    {"ab\ncdef", ALL, 8, "ab..."}, /* "ab\x0a" is 6, then "..." would not fit */
    {"abcd\n", ALL, 8, "abcd..."},
    {"abcdefgh", ALL, 4, "..."},
    {"abc", ALL, 4, "abc"},
    {"abcd", ALL, 4, "..."},
    {"\n", ALL, 4, "..."},
    /* cap below 4: still NUL-terminated, never overflows. */
    {"abc", ALL, 3, ".."},
    {"ab", ALL, 3, "ab"},
    {"abc", ALL, 2, "."},
    {"a", ALL, 2, "a"},
    {"abc", ALL, 1, ""},
    {"", ALL, 1, ""},
};

static void test_log_clean_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(clean_cases) / sizeof(clean_cases[0]); i++) {
        const struct clean_case *t = &clean_cases[i];
        size_t len = t->len == ALL ? strlen(t->in) : t->len;
        char buf[80];
        char *ret;

        print_message("case %zu\n", i);
        memset(buf, 'Z', sizeof(buf));
        ret = log_clean(t->in, len, buf, t->cap);
        assert_ptr_equal(ret, buf);
        assert_string_equal(buf, t->out);
        assert_true(strlen(buf) < t->cap);
        for (size_t j = t->cap; j < sizeof(buf); j++)
            assert_int_equal(buf[j], 'Z'); /* nothing written past cap */
    }
}

static void test_log_clean_limits(void **state)
{
    char big[1000];
    char out[2 * LOG_CLEAN_MAX];
    char untouched = 'Q';

    (void)state;
    memset(big, 'x', sizeof(big));
    /* cap over LOG_CLEAN_MAX is clamped: the output never exceeds it. */
    log_clean(big, sizeof(big), out, sizeof(out));
    assert_int_equal(strlen(out), LOG_CLEAN_MAX - 1);
    assert_string_equal(out + LOG_CLEAN_MAX - 4, "...");
    /* cap 0 writes nothing; NULL input is an empty string. */
    assert_ptr_equal(log_clean("abc", 3, &untouched, 0), &untouched);
    assert_int_equal(untouched, 'Q');
    assert_string_equal(log_clean(NULL, 5, out, sizeof(out)), "");
    assert_null(log_clean("abc", 3, NULL, 10));
}

/* Every byte value: printable ASCII but \ and " stays, the rest is \xNN. */
static void test_log_clean_every_byte(void **state)
{
    (void)state;
    for (int c = 1; c < 256; c++) {
        char in[1] = {(char)c};
        char out[16];
        char want[16];

        if (c >= 0x20 && c <= 0x7e && c != '\\' && c != '"')
            snprintf(want, sizeof(want), "%c", c);
        else
            snprintf(want, sizeof(want), "\\x%02x", c);
        log_clean(in, 1, out, sizeof(out));
        assert_string_equal(out, want);
    }
}

/* ---- levels ---- */

static void test_log_parse_level(void **state)
{
    static const struct {
        const char *name;
        int rc;
        enum log_level level;
    } cases[] = {
        {"debug", 0, LOG_LEVEL_DEBUG},
        {"info", 0, LOG_LEVEL_INFO},
        {"warn", 0, LOG_LEVEL_WARN},
        {"error", 0, LOG_LEVEL_ERROR},
        {"", -1, 0},
        {"Info", -1, 0},
        {"INFO", -1, 0},
        {"warning", -1, 0},
        {"inf", -1, 0},
        {"info ", -1, 0},
        {"err", -1, 0},
        {"3", -1, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum log_level level = (enum log_level)99;
        int rc = log_parse_level(cases[i].name, &level);

        print_message("case \"%s\"\n", cases[i].name);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            assert_int_equal(level, cases[i].level);
        else
            assert_int_equal(level, 99);
    }
    assert_int_equal(log_parse_level(NULL, NULL), -1);
}

static void test_log_set_level(void **state)
{
    (void)state;
    log_set_level(LOG_LEVEL_ERROR);
    assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
    log_set_level((enum log_level)42); /* ignored */
    assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
    log_set_level(LOG_LEVEL_DEBUG);
    assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
    log_set_level(LOG_LEVEL_INFO);
}

/* ---- log_msg output ---- */

/* Runs fn with stderr redirected; returns what it wrote (static buffer). */
static const char *capture_stderr(void (*fn)(void))
{
    static char buf[4096];
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    assert_non_null(tmp);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn();
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    n = fread(buf, 1, sizeof(buf) - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

static void emit_info(void)
{
    log_info("hello %d", 42);
}

static void emit_all_levels(void)
{
    log_debug("d");
    log_info("i");
    log_warn("w");
    log_error("e");
}

static void emit_long(void)
{
    char text[3000];

    memset(text, 'y', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    log_error("%s", text);
}

static int is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return 1;
}

static void test_log_msg_timestamp(void **state)
{
    const char *out;

    (void)state;
    unsetenv("JOURNAL_STREAM");
    log_set_level(LOG_LEVEL_INFO);
    out = capture_stderr(emit_info);
    /* 2026-11-21T20:30:00.123Z info: hello 42\n */
    assert_int_equal(strlen(out), 24 + strlen(" info: hello 42\n"));
    assert_true(is_digits(out, 4) && out[4] == '-' && is_digits(out + 5, 2) && out[7] == '-');
    assert_true(is_digits(out + 8, 2) && out[10] == 'T' && is_digits(out + 11, 2));
    assert_true(out[13] == ':' && is_digits(out + 14, 2) && out[16] == ':');
    assert_true(is_digits(out + 17, 2) && out[19] == '.' && is_digits(out + 20, 3));
    assert_true(out[23] == 'Z');
    assert_string_equal(out + 24, " info: hello 42\n");
}

static void test_log_msg_journal(void **state)
{
    (void)state;
    setenv("JOURNAL_STREAM", "8:12345", 1);
    log_set_level(LOG_LEVEL_DEBUG);
    assert_string_equal(capture_stderr(emit_all_levels), "<7>d\n<6>i\n<4>w\n<3>e\n");
    log_set_level(LOG_LEVEL_WARN);
    assert_string_equal(capture_stderr(emit_all_levels), "<4>w\n<3>e\n");
    log_set_level(LOG_LEVEL_ERROR);
    assert_string_equal(capture_stderr(emit_all_levels), "<3>e\n");
    assert_string_equal(capture_stderr(emit_info), "");
    log_set_level(LOG_LEVEL_INFO);
    unsetenv("JOURNAL_STREAM");
}

static void test_log_msg_truncated(void **state)
{
    const char *out;
    size_t len;

    (void)state;
    setenv("JOURNAL_STREAM", "8:12345", 1);
    out = capture_stderr(emit_long);
    len = strlen(out);
    assert_int_equal(len, 1024); /* one line of LOG_LINE_MAX bytes */
    assert_memory_equal(out, "<3>yyy", 6);
    assert_string_equal(out + len - 4, "...\n");
    unsetenv("JOURNAL_STREAM");
    out = capture_stderr(emit_long);
    assert_int_equal(strlen(out), 1024);
    assert_string_equal(out + 1020, "...\n");
}

/* The line budget for flood events: a script of (time, action) steps, each
 * with what it must answer. Window 10 s, burst 3. */
enum rl_action { RL_TAKE, RL_ROLL, RL_DUE };

struct rl_step {
    uint64_t t;
    enum rl_action act;
    uint64_t want;      /* TAKE: 1 shown / 0 hidden; ROLL: hidden count; DUE: due time */
    uint64_t want_span; /* ROLL: the window's length */
};

static void test_log_ratelimit_script(void **state)
{
    static const struct rl_step steps[] = {
        {1000, RL_ROLL, 0, 0}, /* nothing yet: no summary */
        {1000, RL_DUE, 0, 0},
        {1000, RL_TAKE, 1, 0},
        {1001, RL_TAKE, 1, 0},
        {1002, RL_TAKE, 1, 0},
        {1002, RL_DUE, 0, 0}, /* three shown, none hidden: no summary due */
        {1003, RL_TAKE, 0, 0},
        {5000, RL_TAKE, 0, 0},
        {5000, RL_DUE, 11000, 0},
        {10999, RL_ROLL, 0, 0}, /* not over yet */
        {11000, RL_TAKE, 0, 0}, /* a late event still counts in the old window */
        {11000, RL_ROLL, 3, 10000},
        {11000, RL_DUE, 0, 0},
        {11000, RL_ROLL, 0, 0}, /* summarised once only */
        {20000, RL_TAKE, 1, 0}, /* a new window opens with the next event */
        {29999, RL_ROLL, 0, 0},
        {30000, RL_ROLL, 0, 0}, /* over, but nothing hidden: no summary */
        {30000, RL_TAKE, 1, 0},
    };
    struct log_ratelimit r;
    uint64_t span;

    (void)state;
    log_ratelimit_init(&r, 10000, 3);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        const struct rl_step *st = &steps[i];
        uint64_t got = 0;

        span = 0;
        if (st->act == RL_TAKE)
            got = log_ratelimit_take(&r, st->t) ? 1 : 0;
        else if (st->act == RL_ROLL)
            got = log_ratelimit_roll(&r, st->t, &span);
        else
            got = log_ratelimit_due(&r);
        if (got != st->want || (st->act == RL_ROLL && got != 0 && span != st->want_span))
            fail_msg("step %zu (t=%llu): got %llu span %llu", i, (unsigned long long)st->t,
                     (unsigned long long)got, (unsigned long long)span);
    }
}

/* A flood of a million events in one window gives burst lines, and one count. */
static void test_log_ratelimit_flood(void **state)
{
    struct log_ratelimit r;
    uint64_t shown = 0, span;

    (void)state;
    log_ratelimit_init(&r, 10000, 5);
    for (uint64_t i = 0; i < 1000000; i++)
        shown += log_ratelimit_take(&r, 1 + i / 1000) ? 1 : 0;
    assert_int_equal(shown, 5);
    assert_int_equal(log_ratelimit_roll(&r, 10001, &span), 1000000 - 5);
    assert_int_equal(span, 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_clean_table),      cmocka_unit_test(test_log_clean_limits),
        cmocka_unit_test(test_log_clean_every_byte), cmocka_unit_test(test_log_parse_level),
        cmocka_unit_test(test_log_set_level),        cmocka_unit_test(test_log_msg_timestamp),
        cmocka_unit_test(test_log_msg_journal),      cmocka_unit_test(test_log_msg_truncated),
        cmocka_unit_test(test_log_ratelimit_script), cmocka_unit_test(test_log_ratelimit_flood),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
