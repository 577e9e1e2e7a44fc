/* test_loads_parse.c: table tests for loads_parse(): the list shapes seen in
 * real firmware (SIP41, P0S3, 69xx, 7925), line-end variants, every error and
 * every truncation. Must not depend on any module but loads_parse and numparse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/firmware/loads_parse.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NO_SIZE      (-1)
#define EXPECT_MAX   8

/* The shapes described in shared/design/sgn-format.md, "The .loads payload". */
static const char sip41_loads[] = "# SIP41.9-4-2SR3-1S.loads\n"
                                  "# Copyright (c) 2014 by the vendor.\n"
                                  "# All rights reserved.\n"
                                  "#\n"
                                  "#HARDWARE_COMP_1 1\n"
                                  "jar41sip.9-4-2ES26.sbn\n"
                                  "cnu41.9-4-2ES26.sbn\n"
                                  "apps41.9-4-2ES26.sbn\n"
                                  "dsp41.9-4-2ES26.sbn\n"
                                  "cvm41sip.9-4-2ES26.sbn\n";

static const char p0s3_loads[] = "P0S3-08-11-00.sbn\n"
                                 "P0S3-08-11-00.sb2\n"
                                 "LA_VERSION=PAS30831\n";

static const char sip69_loads[] = "# sip69xx.9-4-1-3SR3.loads\n"
                                  "sip69xx.9-4-1-3SR3.zz.sgn\n"
                                  "dsp69xx.9-4-1-3SR3.zz.sgn\n"
                                  "kern894x.9-4-1-3SR3.bin1.sgn\n";

static const char cp7925_loads[] =
    "#? HW_REV 0x0001\n"
    "#? SW_CAP 0x0003\n"
    "APPS-1.4.5.3.bin   2461696 0123456789abcdef0123456789ABCDEF\n"
    "CP7925G-1.4.5.3.bin\t 1048576\t9f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
    "GUI-1.4.5.3.bin 4194304\n"
    "#+ TNUX-1.4.5.3.bin 777 00000000000000000000000000000000\n";

struct expect_entry {
    const char *name;
    long long size; /* NO_SIZE when the line has no size column */
    bool extra;
    unsigned line;
};

struct loads_case {
    const char *what;
    const char *text;
    int rc;
    unsigned line; /* on error */
    unsigned directives, settings;
    struct expect_entry entries[EXPECT_MAX]; /* ends at a NULL name */
};

static const struct loads_case loads_cases[] = {
    {"SIP41",
     sip41_loads,
     LOADS_OK,
     0,
     0,
     0,
     {{"jar41sip.9-4-2ES26.sbn", NO_SIZE, false, 6},
      {"cnu41.9-4-2ES26.sbn", NO_SIZE, false, 7},
      {"apps41.9-4-2ES26.sbn", NO_SIZE, false, 8},
      {"dsp41.9-4-2ES26.sbn", NO_SIZE, false, 9},
      {"cvm41sip.9-4-2ES26.sbn", NO_SIZE, false, 10}}},
    {"P0S3 with a setting",
     p0s3_loads,
     LOADS_OK,
     0,
     0,
     1,
     {{"P0S3-08-11-00.sbn", NO_SIZE, false, 1}, {"P0S3-08-11-00.sb2", NO_SIZE, false, 2}}},
    {"69xx signed names",
     sip69_loads,
     LOADS_OK,
     0,
     0,
     0,
     {{"sip69xx.9-4-1-3SR3.zz.sgn", NO_SIZE, false, 2},
      {"dsp69xx.9-4-1-3SR3.zz.sgn", NO_SIZE, false, 3},
      {"kern894x.9-4-1-3SR3.bin1.sgn", NO_SIZE, false, 4}}},
    {"7925 sizes, hashes, directives, extra",
     cp7925_loads,
     LOADS_OK,
     0,
     2,
     0,
     {{"APPS-1.4.5.3.bin", 2461696, false, 3},
      {"CP7925G-1.4.5.3.bin", 1048576, false, 4},
      {"GUI-1.4.5.3.bin", 4194304, false, 5},
      {"TNUX-1.4.5.3.bin", 777, true, 6}}},
    {"CRLF and trailing blanks",
     "# c \r\na.sbn  \r\nb.sbn\t\r\n  \r\n\r\nc.sbn 5 \t \r\n",
     LOADS_OK,
     0,
     0,
     0,
     {{"a.sbn", NO_SIZE, false, 2}, {"b.sbn", NO_SIZE, false, 3}, {"c.sbn", 5, false, 6}}},
    {"no final newline",
     "a.sbn\nb.sbn",
     LOADS_OK,
     0,
     0,
     0,
     {{"a.sbn", NO_SIZE, false, 1}, {"b.sbn", NO_SIZE, false, 2}}},
    {"no final newline after CR", "a.sbn\r", LOADS_OK, 0, 0, 0, {{"a.sbn", NO_SIZE, false, 1}}},
    {"leading blanks and indented comment",
     "  a.sbn\n\t# note\n   #? X 1\n",
     LOADS_OK,
     0,
     1,
     0,
     {{"a.sbn", NO_SIZE, false, 1}}},
    {"size 0 and 2^40",
     "a 0\nb 1099511627776\n",
     LOADS_OK,
     0,
     0,
     0,
     {{"a", 0, false, 1}, {"b", 1099511627776LL, false, 2}}},
    {"setting with spaces after", "K=V x y z\na\n", LOADS_OK, 0, 0, 1, {{"a", NO_SIZE, false, 2}}},
    {"extra without hash", "#+ x.bin 12\n", LOADS_OK, 0, 0, 0, {{"x.bin", 12, true, 1}}},
    {"extra without blank",
     "#+x.bin 12\na\n",
     LOADS_OK,
     0,
     0,
     0,
     {{"x.bin", 12, true, 1}, {"a", NO_SIZE, false, 2}}},
    {"non-ASCII name",
     "caf\xc3\xa9.sbn\n",
     LOADS_OK,
     0,
     0,
     0,
     {{"caf\xc3\xa9.sbn", NO_SIZE, false, 1}}},
    {"dots inside a name",
     "a..b\n.hidden\n",
     LOADS_OK,
     0,
     0,
     0,
     {{"a..b", NO_SIZE, false, 1}, {".hidden", NO_SIZE, false, 2}}},

    {"empty", "", LOADS_EMPTY, 0, 0, 0, {{NULL}}},
    {"only comments", "# a\n#? b\n#\n", LOADS_EMPTY, 0, 0, 0, {{NULL}}},
    {"only settings", "A=B\r\nC=D\r\n", LOADS_EMPTY, 0, 0, 0, {{NULL}}},
    {"only blank lines", "\r\n \n\t\n\n", LOADS_EMPTY, 0, 0, 0, {{NULL}}},
    {"size not a number", "a.sbn\nb.sbn 12x\n", LOADS_BAD_LINE, 2, 0, 0, {{NULL}}},
    {"size negative", "b.sbn -1\n", LOADS_BAD_LINE, 1, 0, 0, {{NULL}}},
    {"size hex", "b.sbn 0x10\n", LOADS_BAD_LINE, 1, 0, 0, {{NULL}}},
    {"size over 2^40", "b.sbn 1099511627777\n", LOADS_BAD_LINE, 1, 0, 0, {{NULL}}},
    {"size 21 digits", "b.sbn 000000000000000000001\n", LOADS_BAD_LINE, 1, 0, 0, {{NULL}}},
    {"hash 31 digits", "b 1 0123456789abcdef0123456789abcde\n", LOADS_BAD_LINE, 1, 0, 0, {{NULL}}},
    {"hash 33 digits",
     "b 1 0123456789abcdef0123456789abcdef0\n",
     LOADS_BAD_LINE,
     1,
     0,
     0,
     {{NULL}}},
    {"hash not hex", "b 1 0123456789abcdef0123456789abcdeg\n", LOADS_BAD_LINE, 1, 0, 0, {{NULL}}},
    {"four columns", "b 1 0123456789abcdef0123456789abcdef x\n", LOADS_BAD_LINE, 1, 0, 0, {{NULL}}},
    {"extra without size", "a\n#+ x.bin\n", LOADS_BAD_LINE, 2, 0, 0, {{NULL}}},
    {"extra alone", "#+\n", LOADS_BAD_LINE, 1, 0, 0, {{NULL}}},
    {"extra with four columns",
     "#+ x 1 0123456789abcdef0123456789abcdef y\n",
     LOADS_BAD_LINE,
     1,
     0,
     0,
     {{NULL}}},
    {"extra with a bad size", "#+ x one\n", LOADS_BAD_LINE, 1, 0, 0, {{NULL}}},
    {"slash", "a.sbn\r\nfirmware/b.sbn\r\n", LOADS_BAD_NAME, 2, 0, 0, {{NULL}}},
    {"backslash", "a\\b.sbn\n", LOADS_BAD_NAME, 1, 0, 0, {{NULL}}},
    {"dot", ".\n", LOADS_BAD_NAME, 1, 0, 0, {{NULL}}},
    {"dot dot", "a\n..\n", LOADS_BAD_NAME, 2, 0, 0, {{NULL}}},
    {"control byte",
     "a\x01"
     "b\n",
     LOADS_BAD_NAME,
     1,
     0,
     0,
     {{NULL}}},
    {"DEL byte", "ab\x7f\n", LOADS_BAD_NAME, 1, 0, 0, {{NULL}}},
    {"CR inside a name", "a\rb\n", LOADS_BAD_NAME, 1, 0, 0, {{NULL}}},
    {"extra with a slash", "#+ ../x 1\n", LOADS_BAD_NAME, 1, 0, 0, {{NULL}}},
    {"duplicate", "a.sbn\nb.sbn\na.sbn\n", LOADS_DUPLICATE, 3, 0, 0, {{NULL}}},
    {"duplicate in case", "Jar41.SBN\r\njar41.sbn\r\n", LOADS_DUPLICATE, 2, 0, 0, {{NULL}}},
    {"duplicate with extra", "a.bin 1\n#+ A.BIN 1\n", LOADS_DUPLICATE, 2, 0, 0, {{NULL}}},
};

/* Parses len bytes from an exactly-sized heap copy, so ASan sees overreads. */
static int parse_copy(const char *src, size_t len, struct loads_list *list, unsigned *line,
                      const char **why)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, src, len);
    rc = loads_parse(copy, len, list, line, why);
    free(copy);
    return rc;
}

static void check_entries(const struct loads_case *t, const struct loads_list *list)
{
    size_t n = 0;

    for (; n < EXPECT_MAX && t->entries[n].name != NULL; n++) {
        const struct expect_entry *x = &t->entries[n];
        const struct loads_entry *e = &list->entries[n];

        assert_string_equal(e->name, x->name);
        assert_int_equal(e->has_size, x->size != NO_SIZE);
        if (x->size != NO_SIZE)
            assert_true(e->size == (uint64_t)x->size);
        assert_int_equal(e->extra, x->extra);
        assert_int_equal(e->line, x->line);
    }
    assert_int_equal(list->count, n);
    assert_int_equal(list->directives, t->directives);
    assert_int_equal(list->settings, t->settings);
}

static void test_loads_table(void **state)
{
    static struct loads_list list;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(loads_cases); i++) {
        const struct loads_case *t = &loads_cases[i];
        unsigned line = 999;
        const char *why = "unset";
        int rc;

        print_message("case %zu: %s\n", i, t->what);
        rc = parse_copy(t->text, strlen(t->text), &list, &line, &why);
        if (rc != t->rc)
            print_message("  got %d line %u (%s)\n", rc, line, why ? why : "-");
        assert_int_equal(rc, t->rc);
        assert_int_equal(line, t->line);
        if (rc == LOADS_OK) {
            assert_null(why);
            check_entries(t, &list);
        } else {
            assert_non_null(why);
            assert_true(strlen(why) > 0);
        }
    }
}

/* The same list with LF, CRLF, trailing blanks, without its last newline. */
static size_t variant(const char *src, int kind, char *dst, size_t cap)
{
    size_t n = 0, len = strlen(src);

    for (size_t i = 0; i < len; i++) {
        assert_true(n + 4 < cap);
        if (src[i] == '\n' && kind == 1)
            dst[n++] = '\r';
        if (src[i] == '\n' && kind == 2) {
            dst[n++] = ' ';
            dst[n++] = '\t';
            dst[n++] = ' ';
        }
        dst[n++] = src[i];
    }
    if (kind == 3 && n > 0 && dst[n - 1] == '\n')
        n--;
    return n;
}

static void test_loads_line_ends(void **state)
{
    static struct loads_list base, other;
    const char *samples[] = {sip41_loads, p0s3_loads, sip69_loads, cp7925_loads};

    (void)state;
    for (size_t s = 0; s < ARRAY_LEN(samples); s++) {
        unsigned line = 0;
        const char *why = NULL;

        assert_int_equal(parse_copy(samples[s], strlen(samples[s]), &base, &line, &why), LOADS_OK);
        for (int kind = 1; kind <= 3; kind++) {
            char buf[2048];
            size_t n = variant(samples[s], kind, buf, sizeof(buf));

            print_message("sample %zu variant %d\n", s, kind);
            assert_int_equal(parse_copy(buf, n, &other, &line, &why), LOADS_OK);
            assert_int_equal(other.count, base.count);
            assert_int_equal(other.directives, base.directives);
            assert_int_equal(other.settings, base.settings);
            for (size_t i = 0; i < base.count; i++) {
                assert_string_equal(other.entries[i].name, base.entries[i].name);
                assert_int_equal(other.entries[i].has_size, base.entries[i].has_size);
                assert_true(other.entries[i].size == base.entries[i].size);
                assert_int_equal(other.entries[i].extra, base.entries[i].extra);
                assert_int_equal(other.entries[i].line, base.entries[i].line);
            }
        }
    }
}

/* A NUL anywhere, even in a comment, is refused. */
static void test_loads_nul(void **state)
{
    static const char *texts[] = {"a\0b\n", "a\n#\0\n", "a\nb 1\0\n", "a\n\0"};
    static const size_t lens[] = {4, 5, 6, 3};
    static const unsigned lines[] = {1, 2, 2, 2};
    static struct loads_list list;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
        unsigned line = 0;
        const char *why = NULL;

        assert_int_equal(parse_copy(texts[i], lens[i], &list, &line, &why), LOADS_BAD_LINE);
        assert_int_equal(line, lines[i]);
        assert_non_null(strstr(why, "NUL"));
    }
}

/* Limits: payload size, entry count, line length, name length. */
static void test_loads_limits(void **state)
{
    static struct loads_list list;
    static char buf[LOADS_PAYLOAD_MAX + 2];
    unsigned line = 0;
    const char *why = NULL;
    size_t n = 0;

    (void)state;
    /* LOADS_ENTRIES_MAX names fit, one more does not */
    for (unsigned i = 0; i < LOADS_ENTRIES_MAX; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "f%u.sbn\r\n", i);
    assert_int_equal(loads_parse((const uint8_t *)buf, n, &list, &line, &why), LOADS_OK);
    assert_int_equal(list.count, LOADS_ENTRIES_MAX);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "one-more.sbn\r\n");
    assert_int_equal(loads_parse((const uint8_t *)buf, n, &list, &line, &why), LOADS_TOO_MANY);
    assert_int_equal(line, LOADS_ENTRIES_MAX + 1);

    /* the whole payload: a comment of LOADS_PAYLOAD_MAX bytes is too big for a line
     * anyway, so use many short comments and one name */
    memset(buf, '\n', sizeof(buf));
    memcpy(buf, "a\n", 2);
    assert_int_equal(loads_parse((const uint8_t *)buf, LOADS_PAYLOAD_MAX, &list, &line, &why),
                     LOADS_OK);
    assert_int_equal(loads_parse((const uint8_t *)buf, LOADS_PAYLOAD_MAX + 1, &list, &line, &why),
                     LOADS_TOO_BIG);
    assert_int_equal(line, 0);

    /* a line of LOADS_LINE_MAX bytes fits (its CR is not counted), one more does not */
    memset(buf, ' ', LOADS_LINE_MAX + 1);
    buf[0] = '#';
    memcpy(buf + LOADS_LINE_MAX, "\r\na\n", 4);
    assert_int_equal(loads_parse((const uint8_t *)buf, LOADS_LINE_MAX + 4, &list, &line, &why),
                     LOADS_OK);
    buf[LOADS_LINE_MAX] = ' ';
    memcpy(buf + LOADS_LINE_MAX + 1, "\na\n", 3);
    assert_int_equal(loads_parse((const uint8_t *)buf, LOADS_LINE_MAX + 4, &list, &line, &why),
                     LOADS_BAD_LINE);
    assert_int_equal(line, 1);
    assert_non_null(strstr(why, "too long"));

    /* names of LOADS_NAME_MAX bytes fit, one more does not */
    memset(buf, 'n', LOADS_NAME_MAX + 1);
    buf[LOADS_NAME_MAX] = '\n';
    assert_int_equal(loads_parse((const uint8_t *)buf, LOADS_NAME_MAX + 1, &list, &line, &why),
                     LOADS_OK);
    assert_int_equal(strlen(list.entries[0].name), LOADS_NAME_MAX);
    buf[LOADS_NAME_MAX] = 'n';
    buf[LOADS_NAME_MAX + 1] = '\n';
    assert_int_equal(loads_parse((const uint8_t *)buf, LOADS_NAME_MAX + 2, &list, &line, &why),
                     LOADS_BAD_NAME);
}

static void test_loads_null_outputs(void **state)
{
    static struct loads_list list;

    (void)state;
    assert_int_equal(loads_parse((const uint8_t *)"a\n", 2, &list, NULL, NULL), LOADS_OK);
    assert_int_equal(loads_parse((const uint8_t *)"/\n", 2, &list, NULL, NULL), LOADS_BAD_NAME);
    assert_int_equal(loads_parse(NULL, 0, &list, NULL, NULL), LOADS_EMPTY);
}

/* Every prefix of every sample: no crash, and what is accepted agrees with
 * the full list except maybe the last name, which may be cut short. */
static void test_loads_truncation(void **state)
{
    static struct loads_list full, part;
    const char *samples[] = {sip41_loads, p0s3_loads, sip69_loads, cp7925_loads};

    (void)state;
    for (size_t s = 0; s < ARRAY_LEN(samples); s++) {
        size_t len = strlen(samples[s]);

        assert_int_equal(parse_copy(samples[s], len, &full, NULL, NULL), LOADS_OK);
        for (size_t n = 0; n <= len; n++) {
            unsigned line = 0;
            const char *why = NULL;
            int rc = parse_copy(samples[s], n, &part, &line, &why);

            if (rc != LOADS_OK) {
                assert_true(rc == LOADS_EMPTY || rc == LOADS_BAD_LINE);
                assert_non_null(why);
                continue;
            }
            /* a cut KEY=VALUE line ("LA_VERS") reads as one more name */
            assert_true(part.count >= 1 && part.count <= full.count + 1);
            for (size_t i = 0; i + 1 < part.count; i++)
                assert_string_equal(part.entries[i].name, full.entries[i].name);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_table),        cmocka_unit_test(test_loads_line_ends),
        cmocka_unit_test(test_loads_nul),          cmocka_unit_test(test_loads_limits),
        cmocka_unit_test(test_loads_null_outputs), cmocka_unit_test(test_loads_truncation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
