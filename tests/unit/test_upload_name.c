/* test_upload_name.c: jobs_source_clean turns a client's upload file name
 * into a safe spool and source name: table cases, every truncation of the
 * input, and every output capacity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/jobs.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *in;
    size_t cap;
    const char *want;
} cases[] = {
    {"cmterm-7941_7961-sip.9-4-2SR3-1.zip", 256, "cmterm-7941_7961-sip.9-4-2SR3-1.zip"},
    {"C:\\Users\\me\\Downloads\\fw.tgz", 256, "fw.tgz"},
    {"../../etc/passwd", 256, "passwd"},
    {"/abs/path/b.tar.gz", 256, "b.tar.gz"},
    {"..hidden.zip", 256, "hidden.zip"},
    {".", 256, "bundle"},
    {"..", 256, "bundle"},
    {"", 256, "bundle"},
    {"dir/", 256, "bundle"},
    {"a b;c$(x).zip", 256, "a_b_c__x_.zip"},
    {"caf\xc3\xa9.tar", 256, "caf__.tar"},
    {"ctl\x01\x7f.zip", 256, "ctl__.zip"},
    /* Too long: the end is kept, since the suffix decides the archive type. */
    {"abcdefghij.cop.sgn", 12, "hij.cop.sgn"},
    {"abcdef.zip", 5, "zip"}, /* the cut left ".zip": the dot goes */
    {"abc.zip", 2, "p"},
    {"abc.zip", 1, ""},
};

static void test_table(void **state)
{
    char out[256];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        memset(out, 'X', sizeof(out));
        jobs_source_clean(cases[i].in, strlen(cases[i].in), out, cases[i].cap);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("\"%s\" cap %zu: got \"%s\", want \"%s\"", cases[i].in, cases[i].cap, out,
                     cases[i].want);
    }
}

/* Whatever the input, the output is a safe name within its capacity. */
static void check_safe(const char *out, size_t cap)
{
    size_t n = strlen(out);

    assert_true(n < cap);
    if (cap > 1)
        assert_true(n > 0);
    assert_true(out[0] != '.');
    for (size_t i = 0; i < n; i++)
        assert_non_null(
            strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", out[i]));
}

static void test_every_prefix_and_capacity(void **state)
{
    static const char in[] = "..\\x/../fw \xff\x01.9-4-2SR3-1.cop.sgn";
    char out[64];

    (void)state;
    for (size_t len = 0; len <= sizeof(in) - 1; len++) {
        /* Only len bytes are read: a copy of exactly that size, for ASan. */
        char *prefix = malloc(len ? len : 1);

        assert_non_null(prefix);
        memcpy(prefix, in, len);
        for (size_t cap = 1; cap <= sizeof(out); cap++) {
            jobs_source_clean(prefix, len, out, cap);
            check_safe(out, cap);
        }
        free(prefix);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_every_prefix_and_capacity),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
