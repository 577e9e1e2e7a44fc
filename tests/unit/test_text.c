/* test_text.c: text.c: the UTF-8 sequence table (every malformation RFC 3629
 * names), text_valid() on a table of inputs and on every prefix of valid
 * text (a cut inside a character is refused), and text_repair()'s output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/text.h"

/* ---- one sequence ---- */

struct seq_case {
    const char *in;
    size_t len;
    size_t want; /* 0: malformed */
    unsigned cp;
};

static const struct seq_case seq_cases[] = {
    {"A", 1, 1, 0x41},
    {"\x7f", 1, 1, 0x7f},
    {"\xc2\x80", 2, 2, 0x80},
    {"\xc3\xa9", 2, 2, 0xe9},
    {"\xdf\xbf", 2, 2, 0x7ff},
    {"\xe0\xa0\x80", 3, 3, 0x800},
    {"\xe2\x82\xac", 3, 3, 0x20ac},
    {"\xed\x9f\xbf", 3, 3, 0xd7ff},
    {"\xee\x80\x80", 3, 3, 0xe000},
    {"\xef\xbf\xbd", 3, 3, 0xfffd},
    {"\xf0\x90\x80\x80", 4, 4, 0x10000},
    {"\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff},
    /* malformed */
    {"\x80", 1, 0, 0},             /* a lone continuation byte */
    {"\xbf", 1, 0, 0},             /* another */
    {"\xc0\x80", 2, 0, 0},         /* overlong NUL */
    {"\xc1\xbf", 2, 0, 0},         /* overlong */
    {"\xe0\x80\x80", 3, 0, 0},     /* overlong */
    {"\xe0\x9f\xbf", 3, 0, 0},     /* overlong */
    {"\xf0\x8f\xbf\xbf", 4, 0, 0}, /* overlong */
    {"\xed\xa0\x80", 3, 0, 0},     /* surrogate D800 */
    {"\xed\xbf\xbf", 3, 0, 0},     /* surrogate DFFF */
    {"\xf4\x90\x80\x80", 4, 0, 0}, /* past U+10FFFF */
    {"\xf5\x80\x80\x80", 4, 0, 0}, /* bad lead */
    {"\xff", 1, 0, 0},
    {"\xfe", 1, 0, 0},
    {"\xc3(", 2, 0, 0},        /* bad continuation */
    {"\xe2\x82(", 3, 0, 0},    /* bad third byte */
    {"\xc3\xa9", 1, 0, 0},     /* cut short */
    {"\xe2\x82\xac", 2, 0, 0}, /* cut short */
    {"\xf0\x90\x80\x80", 3, 0, 0},
    {"", 0, 0, 0},
};

static void test_seq_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(seq_cases) / sizeof(seq_cases[0]); i++) {
        const struct seq_case *c = &seq_cases[i];
        unsigned cp = 0xdeadbeef;
        size_t n = text_utf8_seq((const unsigned char *)c->in, c->len, &cp);

        if (n != c->want)
            fail_msg("case %zu: length %zu, want %zu", i, n, c->want);
        if (n > 0 && cp != c->cp)
            fail_msg("case %zu: U+%04X, want U+%04X", i, cp, c->cp);
    }
}

/* ---- the input rule ---- */

struct valid_case {
    const char *in;
    size_t len; /* SIZE_MAX: strlen(in) */
    bool want;
};

static const struct valid_case valid_cases[] = {
    {"", SIZE_MAX, true},
    {"desk 12, floor 3", SIZE_MAX, true},
    {"Büro 3 — Empfang", SIZE_MAX, true},
    {"=HYPERLINK(\"x\")", SIZE_MAX, true}, /* text; CSV export defuses it, not input */
    {"emoji \xf0\x9f\x93\x9e", SIZE_MAX, true},
    {"only\xc3(bad", SIZE_MAX, false},
    {"cli\xff", SIZE_MAX, false},
    {"line\nbreak", SIZE_MAX, false},
    {"carriage\rreturn", SIZE_MAX, false},
    {"tab\there", SIZE_MAX, false},
    {"bell\a", SIZE_MAX, false},
    {"del\x7f", SIZE_MAX, false},
    {"c1 \xc2\x85 NEL", SIZE_MAX, false},
    {"c1 \xc2\x9f", SIZE_MAX, false},
    {"nbsp \xc2\xa0 ok", SIZE_MAX, true},
    {"nul\0hidden", 10, false},
    {"surrogate \xed\xa0\x80", SIZE_MAX, false},
    {"overlong slash \xc0\xaf", SIZE_MAX, false},
};

static void test_valid_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
        const struct valid_case *c = &valid_cases[i];
        size_t len = c->len == SIZE_MAX ? strlen(c->in) : c->len;

        if (text_valid(c->in, len) != c->want)
            fail_msg("case %zu (\"%s\"): %d, want %d", i, c->in, !c->want, c->want);
    }
}

/* Every prefix of valid text is valid exactly when it ends between
 * characters: a cut inside one is refused. */
static void test_valid_truncated(void **state)
{
    static const char text[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\x9e"
                               "z";
    static const bool boundary[] = {1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1};

    (void)state;
    assert_int_equal(sizeof(boundary), sizeof(text));
    for (size_t len = 0; len < sizeof(text); len++)
        if (text_valid(text, len) != boundary[len])
            fail_msg("prefix of %zu bytes: %d", len, !boundary[len]);
}

/* ---- the output repair ---- */

struct repair_case {
    const char *in;
    size_t cap;
    const char *out;
};

static const struct repair_case repair_cases[] = {
    {"plain", 64, "plain"},
    {"only\xc3(bad", 64, "only\xef\xbf\xbd(bad"},
    {"cli\xff", 64, "cli\xef\xbf\xbd"},
    {"\xff\xfe", 64, "\xef\xbf\xbd\xef\xbf\xbd"},
    {"line\nbreak", 64, "line\nbreak"}, /* controls are the output's to escape */
    {"\xed\xa0\x80", 64, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"ab\xe2\x82\xac", 5, "ab"}, /* a cut never splits a character */
    {"ab\xe2\x82\xac", 6, "ab\xe2\x82\xac"},
    {"ab\xff", 5, "ab"}, /* nor the replacement */
    {"abc", 1, ""},
    {"", 1, ""},
};

static void test_repair_table(void **state)
{
    char out[64];

    (void)state;
    for (size_t i = 0; i < sizeof(repair_cases) / sizeof(repair_cases[0]); i++) {
        const struct repair_case *c = &repair_cases[i];
        size_t n = text_repair(c->in, strlen(c->in), out, c->cap);

        if (strcmp(out, c->out) != 0 || n != strlen(c->out))
            fail_msg("case %zu: \"%s\" (%zu), want \"%s\"", i, out, n, c->out);
    }
}

/* Whatever goes in, what comes out is well-formed UTF-8. */
static void test_repair_always_utf8(void **state)
{
    unsigned char in[4];
    char out[16];
    size_t n;

    (void)state;
    for (unsigned v = 0; v < 1u << 16; v++) {
        in[0] = (unsigned char)(v >> 8);
        in[1] = (unsigned char)v;
        in[2] = (unsigned char)(0x80 + (v % 64));
        in[3] = (unsigned char)(v % 251);
        n = text_repair((const char *)in, sizeof(in), out, sizeof(out));
        for (size_t i = 0; i < n;) {
            unsigned cp;
            size_t k = text_utf8_seq((const unsigned char *)out + i, n - i, &cp);

            if (k == 0)
                fail_msg("input %02x%02x%02x%02x: malformed output", in[0], in[1], in[2], in[3]);
            i += k;
        }
    }
}

/* text_format: cut at cap, never inside a UTF-8 character. */
static void test_format_cut(void **state)
{
    static const struct {
        size_t cap;
        const char *want;
    } rows[] = {
        {1, ""},
        {4, "abc"},
        {5, "abc"},
        {6, "abc\xc3\xa9"},
        {7, "abc\xc3\xa9"},
        {8, "abc\xc3\xa9"},
        {9, "abc\xc3\xa9\xe2\x82\xac"},
        {64, "abc\xc3\xa9\xe2\x82\xac!"},
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        memset(buf, 'x', sizeof(buf));
        text_format(buf, rows[i].cap, "%s%s", "abc\xc3\xa9", "\xe2\x82\xac!");
        assert_string_equal(buf, rows[i].want);
        assert_true(text_valid(buf, strlen(buf)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_table),          cmocka_unit_test(test_valid_table),
        cmocka_unit_test(test_valid_truncated),    cmocka_unit_test(test_repair_table),
        cmocka_unit_test(test_repair_always_utf8), cmocka_unit_test(test_format_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
