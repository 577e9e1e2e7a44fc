/* test_csv.c: table tests for the CSV reader (quoting, line ends, blank
 * lines, BOM, every error with its line, every limit at and past its bound,
 * truncation at every length) and for field quoting with a round trip.
 * Depends on admin/csv only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/csv.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAXF         4
#define MAXR         3

struct csv_case {
    const char *what;
    const char *text;
    size_t len; /* 0: strlen(text) */
    int rc;     /* CSV_END when every record parses, else the error */
    unsigned err_line;
    size_t n_records; /* records before the end or the error */
    struct {
        unsigned line;
        size_t n;
        const char *f[MAXF];
    } rec[MAXR];
};

static const struct csv_case cases[] = {
    {"plain", "a,b,c\n", 0, CSV_END, 0, 1, {{1, 3, {"a", "b", "c"}}}},
    {"crlf", "a,b\r\nc,d\r\n", 0, CSV_END, 0, 2, {{1, 2, {"a", "b"}}, {2, 2, {"c", "d"}}}},
    {"no final newline", "a,b", 0, CSV_END, 0, 1, {{1, 2, {"a", "b"}}}},
    {"quoted comma", "\"a,b\",c\n", 0, CSV_END, 0, 1, {{1, 2, {"a,b", "c"}}}},
    {"doubled quote", "\"a\"\"b\"\n", 0, CSV_END, 0, 1, {{1, 1, {"a\"b"}}}},
    {"only quotes", "\"\"\"\"\n", 0, CSV_END, 0, 1, {{1, 1, {"\""}}}},
    {"multi-line field",
     "\"multi\nline\",x\nnext\n",
     0,
     CSV_END,
     0,
     2,
     {{1, 2, {"multi\nline", "x"}}, {3, 1, {"next"}}}},
    {"crlf inside quotes", "\"a\r\nb\"\r\n", 0, CSV_END, 0, 1, {{1, 1, {"a\r\nb"}}}},
    {"empty middle", "a,,c\n", 0, CSV_END, 0, 1, {{1, 3, {"a", "", "c"}}}},
    {"only a comma", ",\n", 0, CSV_END, 0, 1, {{1, 2, {"", ""}}}},
    {"trailing comma", "a,b,\n", 0, CSV_END, 0, 1, {{1, 3, {"a", "b", ""}}}},
    {"trailing comma at end", "a,", 0, CSV_END, 0, 1, {{1, 2, {"a", ""}}}},
    {"empty quoted", "\"\"\n", 0, CSV_END, 0, 1, {{1, 1, {""}}}},
    {"quoted last, no newline", "a,\"b\"", 0, CSV_END, 0, 1, {{1, 2, {"a", "b"}}}},
    {"blank lines skipped", "\n\r\na\n\n\nb\n", 0, CSV_END, 0, 2, {{3, 1, {"a"}}, {6, 1, {"b"}}}},
    {"bom", "\xef\xbb\xbfmac,model\n", 0, CSV_END, 0, 1, {{1, 2, {"mac", "model"}}}},
    {"spaces kept", " a , b \n", 0, CSV_END, 0, 1, {{1, 2, {" a ", " b "}}}},
    {"tab and utf-8", "a\tb,caf\xc3\xa9\n", 0, CSV_END, 0, 1, {{1, 2, {"a\tb", "caf\xc3\xa9"}}}},
    {"empty input", "", 0, CSV_END, 0, 0, {{0, 0, {NULL}}}},
    {"only blank lines", "\n\n\r\n", 0, CSV_END, 0, 0, {{0, 0, {NULL}}}},
    {"unterminated quote", "\"abc", 0, CSV_ERR_QUOTE, 1, 0, {{0, 0, {NULL}}}},
    {"unterminated on line 2", "a\nb,\"c\nd", 0, CSV_ERR_QUOTE, 2, 1, {{1, 1, {"a"}}}},
    {"quote inside plain", "ok\na\"b\n", 0, CSV_ERR_STRAY, 2, 1, {{1, 1, {"ok"}}}},
    {"text after quote", "\"a\"b\n", 0, CSV_ERR_STRAY, 1, 0, {{0, 0, {NULL}}}},
    {"space after quote", "\"a\" ,b\n", 0, CSV_ERR_STRAY, 1, 0, {{0, 0, {NULL}}}},
    {"nul byte", "a\0b\n", 4, CSV_ERR_CONTROL, 1, 0, {{0, 0, {NULL}}}},
    {"nul in quotes", "\"a\0b\"\n", 6, CSV_ERR_CONTROL, 1, 0, {{0, 0, {NULL}}}},
    {"lone cr", "a\rb\n", 0, CSV_ERR_CONTROL, 1, 0, {{0, 0, {NULL}}}},
    {"lone cr at end", "x\na\r", 0, CSV_ERR_CONTROL, 2, 1, {{1, 1, {"x"}}}},
    {"escape byte", "a\x1b[31m\n", 0, CSV_ERR_CONTROL, 1, 0, {{0, 0, {NULL}}}},
    {"del byte", "a\x7f\n", 0, CSV_ERR_CONTROL, 1, 0, {{0, 0, {NULL}}}},
};

static int run_case(const char *text, size_t len, struct csv_record *rec, const struct csv_case *c,
                    bool check)
{
    struct csv_reader r;
    size_t n = 0;
    int rc;

    assert_int_equal(csv_init(&r, text, len), CSV_OK);
    while ((rc = csv_next(&r, rec)) == CSV_OK) {
        assert_true(rec->n_fields >= 1 && rec->n_fields <= CSV_COLUMNS_MAX);
        for (size_t i = 0; i < rec->n_fields; i++)
            assert_int_equal(strlen(rec->fields[i]), rec->lens[i]);
        if (check) {
            assert_true(n < c->n_records);
            assert_int_equal(rec->line, c->rec[n].line);
            assert_int_equal(rec->n_fields, c->rec[n].n);
            for (size_t i = 0; i < rec->n_fields; i++)
                assert_string_equal(rec->fields[i], c->rec[n].f[i]);
        }
        n++;
    }
    if (check) {
        assert_int_equal(n, c->n_records);
        if (rc != CSV_END)
            assert_int_equal(r.line, c->err_line);
    }
    if (rc == CSV_END)
        assert_int_equal(csv_next(&r, rec), CSV_END); /* stays at the end */
    return rc;
}

static void test_table(void **state)
{
    static struct csv_record rec;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct csv_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->text);

        print_message("case: %s\n", c->what);
        assert_int_equal(run_case(c->text, len, &rec, c, true), c->rc);
    }
}

/* Every prefix of every case: no crash, no read past the cut (ASan), and
 * only the errors a cut can cause. */
static void test_truncated(void **state)
{
    static struct csv_record rec;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct csv_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->text);

        for (size_t cut = 0; cut <= len; cut++) {
            char *copy = malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees overreads */
            int rc;

            assert_non_null(copy);
            memcpy(copy, c->text, cut);
            rc = run_case(copy, cut, &rec, c, false);
            if (c->rc == CSV_END)
                assert_true(rc == CSV_END || rc == CSV_ERR_QUOTE || rc == CSV_ERR_CONTROL);
            else
                assert_true(rc <= CSV_END);
            free(copy);
        }
    }
}

static char *repeat(char ch, size_t n, const char *tail)
{
    size_t t = strlen(tail);
    char *s = malloc(n + t + 1);

    assert_non_null(s);
    memset(s, ch, n);
    memcpy(s + n, tail, t + 1);
    return s;
}

static int parse_all(const char *text, size_t len, size_t *records)
{
    static struct csv_record rec;
    struct csv_reader r;
    int rc = csv_init(&r, text, len);

    *records = 0;
    while (rc == CSV_OK && (rc = csv_next(&r, &rec)) == CSV_OK)
        (*records)++;
    return rc;
}

static void test_limits(void **state)
{
    size_t n;
    char *s;
    char *buf;
    size_t at;

    (void)state;
    /* A field at the limit and one past it, plain and quoted. */
    s = repeat('x', CSV_FIELD_MAX, "\n");
    assert_int_equal(parse_all(s, strlen(s), &n), CSV_END);
    assert_int_equal(n, 1);
    free(s);
    s = repeat('x', CSV_FIELD_MAX + 1, "\n");
    assert_int_equal(parse_all(s, strlen(s), &n), CSV_ERR_FIELD);
    free(s);
    s = repeat('"', 2 * CSV_FIELD_MAX + 2, "\n"); /* "" escapes: 4096 quotes inside */
    assert_int_equal(parse_all(s, strlen(s), &n), CSV_END);
    free(s);
    s = repeat('"', 2 * CSV_FIELD_MAX + 4, "\n");
    assert_int_equal(parse_all(s, strlen(s), &n), CSV_ERR_FIELD);
    free(s);

    /* Columns: 64 fine, 65 refused. */
    buf = malloc(4 * CSV_COLUMNS_MAX + 8);
    assert_non_null(buf);
    at = 0;
    for (int i = 0; i < CSV_COLUMNS_MAX; i++)
        at += (size_t)sprintf(buf + at, "%s%c", i ? "," : "", 'a');
    strcpy(buf + at, "\n");
    assert_int_equal(parse_all(buf, strlen(buf), &n), CSV_END);
    strcpy(buf + at, ",a\n");
    assert_int_equal(parse_all(buf, strlen(buf), &n), CSV_ERR_COLUMNS);
    strcpy(buf + at, ",\n"); /* an empty 65th field counts too */
    assert_int_equal(parse_all(buf, strlen(buf), &n), CSV_ERR_COLUMNS);
    free(buf);

    /* A record too long in total: 16 full fields plus their NULs. */
    buf = malloc(17 * (CSV_FIELD_MAX + 1) + 2);
    assert_non_null(buf);
    at = 0;
    for (int i = 0; i < 16; i++) {
        if (i)
            buf[at++] = ',';
        memset(buf + at, 'y', CSV_FIELD_MAX);
        at += CSV_FIELD_MAX;
    }
    memcpy(buf + at, "\n", 2);
    assert_int_equal(parse_all(buf, strlen(buf), &n), CSV_ERR_RECORD);
    /* 15 full fields and a short one fit. */
    memcpy(buf + at - CSV_FIELD_MAX + 100, "\n", 2);
    assert_int_equal(parse_all(buf, strlen(buf), &n), CSV_END);
    /* 15 full and a 16th that leaves no room for its NUL: refused, no overflow. */
    memset(buf + at - CSV_FIELD_MAX, 'y', CSV_FIELD_MAX);
    memcpy(buf + at - 16, ",\n", 3);
    assert_int_equal(parse_all(buf, strlen(buf), &n), CSV_ERR_RECORD);
    free(buf);

    /* Rows: CSV_ROWS_MAX fine, one more refused. */
    buf = malloc(2 * (CSV_ROWS_MAX + 1) + 1);
    assert_non_null(buf);
    for (size_t i = 0; i <= CSV_ROWS_MAX; i++)
        memcpy(buf + 2 * i, "x\n", 2);
    assert_int_equal(parse_all(buf, 2 * CSV_ROWS_MAX, &n), CSV_END);
    assert_int_equal(n, CSV_ROWS_MAX);
    assert_int_equal(parse_all(buf, 2 * (CSV_ROWS_MAX + 1), &n), CSV_ERR_ROWS);
    assert_int_equal(n, CSV_ROWS_MAX);
    free(buf);

    /* The whole input: refused before a byte is read. */
    {
        struct csv_reader r;

        assert_int_equal(csv_init(&r, "", (size_t)CSV_INPUT_MAX + 1), CSV_ERR_TOO_LARGE);
        assert_int_equal(csv_init(&r, "", 0), CSV_OK);
    }
}

static void test_strerror(void **state)
{
    (void)state;
    for (int rc = CSV_END; rc >= CSV_ERR_TOO_LARGE; rc--)
        assert_string_not_equal(csv_strerror(rc), "unknown CSV error");
    assert_string_equal(csv_strerror(-99), "unknown CSV error");
}

static void test_format(void **state)
{
    static const struct {
        const char *in, *out;
    } fmt[] = {
        {"abc", "abc"},
        {"", ""},
        {"a,b", "\"a,b\""},
        {"a\"b", "\"a\"\"b\""},
        {"\"", "\"\"\"\""},
        {"line\nbreak", "\"line\nbreak\""},
        {"cr\r", "\"cr\r\""},
        {" lead", "\" lead\""},
        {"trail ", "\"trail \""},
        {"in side", "in side"},
        {"Cisco 7961", "Cisco 7961"},
    };
    char out[64];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(fmt); i++) {
        assert_int_equal(csv_format_field(fmt[i].in, out, sizeof(out)), strlen(fmt[i].out));
        assert_string_equal(out, fmt[i].out);
        /* Too small: a NUL-terminated prefix, the full length returned. */
        for (size_t cap = 1; cap <= strlen(fmt[i].out); cap++) {
            assert_int_equal(csv_format_field(fmt[i].in, out, cap), strlen(fmt[i].out));
            assert_int_equal(strlen(out), cap - 1);
            assert_memory_equal(out, fmt[i].out, cap - 1);
        }
    }
    assert_int_equal(csv_format_field("abc", NULL, 0), 3);
}

/* The spreadsheet-safe form (OWASP "CSV Injection"): always quoted, and a
 * field that a spreadsheet would run gets a leading '. */
static void test_format_safe(void **state)
{
    static const struct {
        const char *in, *out;
    } fmt[] = {
        {"abc", "\"abc\""},
        {"", "\"\""},
        {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
        {"+1", "\"'+1\""},
        {"-2+3", "\"'-2+3\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\tx", "\"'\tx\""},
        {"\rx", "\"'\rx\""},
        {"a=b", "\"a=b\""}, /* only a leading one runs */
        {" =x", "\" =x\""},
        {"'quoted", "\"'quoted\""},
    };
    char out[64];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(fmt); i++) {
        assert_int_equal(csv_format_field_safe(fmt[i].in, out, sizeof(out)), strlen(fmt[i].out));
        assert_string_equal(out, fmt[i].out);
        for (size_t cap = 1; cap <= strlen(fmt[i].out); cap++) {
            assert_int_equal(csv_format_field_safe(fmt[i].in, out, cap), strlen(fmt[i].out));
            assert_memory_equal(out, fmt[i].out, cap - 1);
        }
    }
    /* the plain form leaves them as they are: it must read back exactly */
    assert_int_equal(csv_format_field("=1+1", out, sizeof(out)), 4);
    assert_string_equal(out, "=1+1");
}

/* Formatting then parsing gives the fields back. */
static void test_round_trip(void **state)
{
    static const char *const fields[] = {
        "plain", "", "a,b", "say \"hi\"", "two\nlines", " spaced ", "crlf\r\nend", "\"", "last"};
    static struct csv_record rec;
    struct csv_reader r;
    char line[512], f[128];
    size_t at = 0;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        size_t n = csv_format_field(fields[i], f, sizeof(f));

        assert_true(n < sizeof(f));
        at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s", i ? "," : "", f);
    }
    at += (size_t)snprintf(line + at, sizeof(line) - at, "\r\nnext\r\n");
    assert_int_equal(csv_init(&r, line, at), CSV_OK);
    assert_int_equal(csv_next(&r, &rec), CSV_OK);
    assert_int_equal(rec.n_fields, ARRAY_LEN(fields));
    for (size_t i = 0; i < ARRAY_LEN(fields); i++)
        assert_string_equal(rec.fields[i], fields[i]);
    assert_int_equal(csv_next(&r, &rec), CSV_OK);
    assert_int_equal(rec.line, 4); /* two fields held a newline */
    assert_string_equal(rec.fields[0], "next");
    assert_int_equal(csv_next(&r, &rec), CSV_END);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),      cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_limits),     cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_format),     cmocka_unit_test(test_format_safe),
        cmocka_unit_test(test_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
