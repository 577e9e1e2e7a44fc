/* test_upstream_manifest.c: table tests for upstream_manifest_parse(): the
 * body a real central emits (files_manifest.c's shape), a load not served,
 * one refusal per rule of manifest.h, every truncation, the limits, and find. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/upstream/manifest.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ERR_CAP      160

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define H4 "44444444444444444444444444444444444444444444444444444444444444ab"
#define H5 "55555555555555555555555555555555555555555555555555555555555555cd"
#define H6 "66666666666666666666666666666666666666666666666666666666666666ef"

/* What files_manifest.c sends for a served load (json_dumps, JSON_COMPACT):
 * members in its order, the .loads file first, then by folded name. */
static const char real_body[] =
    "{\"name\":\"SIP41.9-4-2SR3-1S\",\"status\":\"verified\",\"served\":true,"
    "\"file_count\":6,\"total_bytes\":4202331,\"files\":["
    "{\"name\":\"SIP41.9-4-2SR3-1S.loads\",\"size\":187,\"sha256\":\"" H1 "\",\"role\":\"loads\"},"
    "{\"name\":\"apps41.9-4-2ES26.sbn\",\"size\":1048576,\"sha256\":\"" H2
    "\",\"role\":\"component\"},"
    "{\"name\":\"cnu41.9-4-2ES26.sbn\",\"size\":524288,\"sha256\":\"" H3
    "\",\"role\":\"component\"},"
    "{\"name\":\"cvm41sip.9-4-2ES26.sbn\",\"size\":2097152,\"sha256\":\"" H4
    "\",\"role\":\"component\"},"
    "{\"name\":\"dsp41.9-4-2ES26.sbn\",\"size\":262144,\"sha256\":\"" H5
    "\",\"role\":\"component\"},"
    "{\"name\":\"jar41sip.9-4-2ES26.sbn\",\"size\":269984,\"sha256\":\"" H6
    "\",\"role\":\"component\"}"
    "]}";

/* A small served load: HEAD(...) FL(...) "," FC(...) TAIL. */
#define HEAD(served, count, total)                                                                 \
    "{\"name\":\"sip69xx.9-4-1-3SR3\",\"status\":\"signed\",\"served\":" served                    \
    ",\"file_count\":" #count ",\"total_bytes\":" #total ",\"files\":["
#define FILE_J(name, size, hex, role)                                                              \
    "{\"name\":\"" name "\",\"size\":" #size ",\"sha256\":\"" hex "\",\"role\":\"" role "\"}"
#define FL           FILE_J("sip69xx.9-4-1-3SR3.loads", 100, H1, "loads")
#define FC(name, sz) FILE_J(name, sz, H2, "component")
#define TAIL         "]}"
#define GOOD         HEAD("true", 2, 150) FL "," FC("dsp69xx.9-4-1-3SR3.zz.sgn", 50) TAIL

struct expect_file {
    const char *name;
    uint64_t size;
    const char *sha256;
    bool is_loads;
};

struct good_case {
    const char *what, *body;
    const char *name, *status;
    bool served;
    unsigned file_count;
    uint64_t total_bytes;
    size_t n_files;
    struct expect_file files[6];
};

static const struct good_case good_cases[] = {
    {"the real format, six files",
     real_body,
     "SIP41.9-4-2SR3-1S",
     "verified",
     true,
     6,
     4202331,
     6,
     {{"SIP41.9-4-2SR3-1S.loads", 187, H1, true},
      {"apps41.9-4-2ES26.sbn", 1048576, H2, false},
      {"cnu41.9-4-2ES26.sbn", 524288, H3, false},
      {"cvm41sip.9-4-2ES26.sbn", 2097152, H4, false},
      {"dsp41.9-4-2ES26.sbn", 262144, H5, false},
      {"jar41sip.9-4-2ES26.sbn", 269984, H6, false}}},
    {"not served: no files, the catalogue's totals kept",
     "{\"name\":\"SIP41.9-4-8\",\"status\":\"quarantined\",\"served\":false,"
     "\"file_count\":6,\"total_bytes\":4202331,\"files\":[]}",
     "SIP41.9-4-8",
     "quarantined",
     false,
     6,
     4202331,
     0,
     {{NULL, 0, NULL, false}}},
    {"the .loads file last moves first, the rest keep their order",
     HEAD("true", 3, 160) FC("b.sbn", 10) "," FC("a.sbn", 50) "," FL TAIL,
     "sip69xx.9-4-1-3SR3",
     "signed",
     true,
     3,
     160,
     3,
     {{"sip69xx.9-4-1-3SR3.loads", 100, H1, true},
      {"b.sbn", 10, H2, false},
      {"a.sbn", 50, H2, false}}},
    {"the .loads file's name in another case; unknown members ignored",
     "{\"name\":\"sip41.9-4-5sr1-1s\",\"status\":\"unsigned\",\"served\":true,\"extra\":[1,{}],"
     "\"file_count\":1,\"total_bytes\":0,\"files\":[{\"name\":\"SIP41.9-4-5SR1-1S.LOADS\","
     "\"size\":0,\"sha256\":\"" H1 "\",\"role\":\"loads\",\"mtime\":\"x\"}]}",
     "sip41.9-4-5sr1-1s",
     "unsigned",
     true,
     1,
     0,
     1,
     {{"SIP41.9-4-5SR1-1S.LOADS", 0, H1, true}}},
    {"a file of exactly UPSTREAM_FILE_SIZE_MAX",
     HEAD("true", 2, 4294967396) FL "," FC("big.bin", 4294967296) TAIL,
     "sip69xx.9-4-1-3SR3",
     "signed",
     true,
     2,
     4294967396,
     2,
     {{"sip69xx.9-4-1-3SR3.loads", 100, H1, true}, {"big.bin", 4294967296, H2, false}}},
};

static void assert_manifest(const struct good_case *c, const struct upstream_manifest *m)
{
    assert_string_equal(m->name, c->name);
    assert_string_equal(m->status, c->status);
    assert_int_equal(m->served, c->served);
    assert_int_equal(m->file_count, c->file_count);
    assert_int_equal(m->total_bytes, c->total_bytes);
    assert_int_equal(m->n_files, c->n_files);
    for (size_t i = 0; i < c->n_files; i++) {
        assert_string_equal(m->files[i].name, c->files[i].name);
        assert_int_equal(m->files[i].size, c->files[i].size);
        assert_string_equal(m->files[i].sha256, c->files[i].sha256);
        assert_int_equal(m->files[i].is_loads, c->files[i].is_loads);
    }
}

static void test_good_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(good_cases); i++) {
        struct upstream_manifest m;
        char err[ERR_CAP] = "untouched";
        int rc = upstream_manifest_parse(good_cases[i].body, strlen(good_cases[i].body), &m, err,
                                         sizeof(err));

        if (rc != 0)
            fail_msg("good case %zu (%s) refused: %s", i, good_cases[i].what, err);
        assert_manifest(&good_cases[i], &m);
        upstream_manifest_free(&m);
        assert_null(m.files);
        assert_int_equal(m.n_files, 0);
    }
}

struct bad_case {
    const char *body;
    const char *err; /* a substring of the reason */
};

static const struct bad_case bad_cases[] = {
    /* not a JSON object, or not JSON at all */
    {"[]", "not a JSON object"},
    {"", "not JSON"},
    {"\"x\"", "not JSON"},
    {"nul", "not JSON"},
    {GOOD " x", "not JSON"},
    {"{\"name\":\"a\xff\"}", "not JSON"}, /* not UTF-8 */
    {"{\"name\":\"a\\u0000b\"}", "not JSON"},
    {"{\"name\":\"a\",\"name\":\"b\"}", "a member twice"},
    /* a missing member */
    {"{\"status\":\"signed\",\"served\":false,\"file_count\":0,\"total_bytes\":0,\"files\":[]}",
     "name: missing"},
    {"{\"name\":\"a\",\"served\":false,\"file_count\":0,\"total_bytes\":0,\"files\":[]}",
     "status: missing"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"file_count\":0,\"total_bytes\":0,\"files\":[]}",
     "served: missing"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"served\":false,\"total_bytes\":0,\"files\":[]}",
     "file_count: missing"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"served\":false,\"file_count\":0,\"files\":[]}",
     "total_bytes: missing"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"served\":false,\"file_count\":0,\"total_bytes\":0}",
     "files: missing"},
    {HEAD("true", 2, 150) FL ",{\"size\":50,\"sha256\":\"" H2 "\",\"role\":\"component\"}" TAIL,
     "files[1].name: missing"},
    {HEAD("true", 2, 150) FL ",{\"name\":\"x\",\"sha256\":\"" H2 "\",\"role\":\"component\"}" TAIL,
     "files[1].size: missing"},
    {HEAD("true", 2, 150) FL ",{\"name\":\"x\",\"size\":50,\"role\":\"component\"}" TAIL,
     "files[1].sha256: missing"},
    {HEAD("true", 2, 150) FL ",{\"name\":\"x\",\"size\":50,\"sha256\":\"" H2 "\"}" TAIL,
     "files[1].role: missing"},
    /* a mistyped member */
    {"{\"name\":5,\"status\":\"signed\",\"served\":false,\"file_count\":0,\"total_bytes\":0,"
     "\"files\":[]}",
     "name: not a string"},
    {"{\"name\":\"a\",\"status\":true,\"served\":false,\"file_count\":0,\"total_bytes\":0,"
     "\"files\":[]}",
     "status: not a string"},
    {"{\"name\":\"a\",\"status\":\"Signed\",\"served\":false,\"file_count\":0,\"total_bytes\":0,"
     "\"files\":[]}",
     "status: not a status word"},
    {"{\"name\":\"a\",\"status\":\"abcdefghijklmnop\",\"served\":false,\"file_count\":0,"
     "\"total_bytes\":0,\"files\":[]}",
     "status: not a status word"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"served\":\"yes\",\"file_count\":0,\"total_bytes\":0,"
     "\"files\":[]}",
     "served: not a boolean"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"served\":false,\"file_count\":\"1\",\"total_bytes\":"
     "0,"
     "\"files\":[]}",
     "file_count: not an integer"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"served\":false,\"file_count\":1.0,\"total_bytes\":0,"
     "\"files\":[]}",
     "file_count: not an integer"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"served\":false,\"file_count\":4294967296,"
     "\"total_bytes\":0,\"files\":[]}",
     "file_count: out of range"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"served\":false,\"file_count\":0,\"total_bytes\":-1,"
     "\"files\":[]}",
     "total_bytes: out of range"},
    {"{\"name\":\"a\",\"status\":\"signed\",\"served\":false,\"file_count\":0,\"total_bytes\":0,"
     "\"files\":{}}",
     "files: not an array"},
    {HEAD("true", 2, 150) FL ",7" TAIL, "files[1]: not an object"},
    {HEAD("true", 2, 150) FL ",{\"name\":[],\"size\":50,\"sha256\":\"" H2
                             "\",\"role\":\"component\"}" TAIL,
     "files[1].name: not a string"},
    {HEAD("true", 2, 150) FL "," FILE_J("x", "50", H2, "component") TAIL,
     "files[1].size: not an integer"},
    {HEAD("true", 2, 150) FL
     ",{\"name\":\"x\",\"size\":50,\"sha256\":7,\"role\":\"component\"}" TAIL,
     "files[1].sha256: not a string"},
    {HEAD("true", 2, 150) FL ",{\"name\":\"x\",\"size\":50,\"sha256\":\"" H2 "\",\"role\":1}" TAIL,
     "files[1].role: not a string"},
    /* names resolver_normalize() changes or refuses, or holding '/' */
    {HEAD("true", 2, 150) FL "," FC("/x.sbn", 50) TAIL, "files[1].name: not a plain file name"},
    {HEAD("true", 2, 150) FL "," FC("a\\\\x.sbn", 50) TAIL, "files[1].name: not a plain"},
    {HEAD("true", 2, 150) FL "," FC("a/./x.sbn", 50) TAIL, "files[1].name: not a plain"},
    {HEAD("true", 2, 150) FL "," FC("a/x.sbn", 50) TAIL, "files[1].name: not a plain"},
    {HEAD("true", 2, 150) FL "," FC("x.sbn/", 50) TAIL, "files[1].name: not a plain"},
    {HEAD("true", 2, 150) FL "," FC("..", 50) TAIL, "files[1].name: not a file name"},
    {HEAD("true", 2, 150) FL "," FC(".", 50) TAIL, "files[1].name: not a file name"},
    {HEAD("true", 2, 150) FL "," FC("", 50) TAIL, "files[1].name: not a file name"},
    {HEAD("true", 2, 150) FL "," FC("a\\u0001b", 50) TAIL, "files[1].name: not a file name"},
    {HEAD("true", 2, 150) FL "," FC("a\\u007fb", 50) TAIL, "files[1].name: not a file name"},
    {"{\"name\":\"../sip\",\"status\":\"signed\",\"served\":false,\"file_count\":0,"
     "\"total_bytes\":0,\"files\":[]}",
     "name: not a file name"},
    {"{\"name\":\"a/b\",\"status\":\"signed\",\"served\":false,\"file_count\":0,"
     "\"total_bytes\":0,\"files\":[]}",
     "name: not a plain file name"},
    /* a size over UPSTREAM_FILE_SIZE_MAX, or negative */
    {HEAD("true", 2, 4294967397) FL "," FC("big.bin", 4294967297) TAIL,
     "files[1].size: out of range"},
    {HEAD("true", 2, 99) FL "," FC("x.bin", -1) TAIL, "files[1].size: out of range"},
    /* a sha256 that is not 64 lowercase hex digits */
    {HEAD("true", 2, 150) FL
     "," FILE_J("x", 50, "22222222222222222222222222222222222222222222222222222222222222222",
                "component") TAIL,
     "files[1].sha256: not 64 lowercase hex digits"},
    {HEAD("true", 2, 150) FL
     "," FILE_J("x", 50, "ABCDEF2222222222222222222222222222222222222222222222222222222222",
                "component") TAIL,
     "files[1].sha256: not 64 lowercase hex digits"},
    {HEAD("true", 2, 150) FL
     "," FILE_J("x", 50, "222222222222222222222222222222222222222222222222222222222222222",
                "component") TAIL,
     "files[1].sha256: not 64 lowercase hex digits"},
    {HEAD("true", 2, 150) FL
     "," FILE_J("x", 50, "g222222222222222222222222222222222222222222222222222222222222222",
                "component") TAIL,
     "files[1].sha256: not 64 lowercase hex digits"},
    /* a role other than "loads" or "component" */
    {HEAD("true", 2, 150) FL "," FILE_J("x", 50, H2, "Component") TAIL, "files[1].role: neither"},
    {HEAD("true", 2, 150) FL "," FILE_J("x", 50, H2, "") TAIL, "files[1].role: neither"},
    /* two files with one name, ASCII case ignored */
    {HEAD("true", 3, 200) FL "," FC("dsp.sbn", 50) "," FC("DSP.SBN", 50) TAIL,
     "files[2].name: also files[1]'s"},
    {HEAD("true", 2, 200) FL "," FILE_J("SIP69XX.9-4-1-3SR3.LOADS", 100, H2, "component") TAIL,
     "files[1].name: also files[0]'s"},
    /* files while served is false */
    {HEAD("false", 2, 150) FL "," FC("x", 50) TAIL, "files: listed for a load not served"},
    /* a served load without exactly one "loads" file, or not NAME.loads */
    {HEAD("true", 0, 0) TAIL, "files: 0 with role \"loads\""},
    {HEAD("true", 1, 50) FC("x", 50) TAIL, "files: 0 with role \"loads\""},
    {HEAD("true", 2, 200) FL "," FILE_J("other.loads", 100, H2, "loads") TAIL,
     "files: 2 with role \"loads\""},
    {HEAD("true", 1, 100) FILE_J("sip69xx.9-4-1-3SR4.loads", 100, H1, "loads") TAIL,
     "files[0].name: not the load's name"},
    {HEAD("true", 1, 100) FILE_J("sip69xx.9-4-1-3SR3", 100, H1, "loads") TAIL,
     "files[0].name: not the load's name"},
    {HEAD("true", 1, 100) FILE_J("sip69xx.9-4-1-3SR3.loads.sgn", 100, H1, "loads") TAIL,
     "files[0].name: not the load's name"},
    /* a served load's totals other than its files' */
    {HEAD("true", 3, 150) FL "," FC("x", 50) TAIL, "file_count: 3, but 2 files"},
    {HEAD("true", 2, 151) FL "," FC("x", 50) TAIL, "total_bytes: not the sum"},
};

/* A reason is one line of printable ASCII (safe to log as it is). */
static void assert_safe_reason(const char *err)
{
    assert_true(err[0] != '\0');
    for (const char *p = err; *p != '\0'; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
}

static void assert_refused(const char *body, size_t len, const char *want, const char *what)
{
    struct upstream_manifest m;
    char err[ERR_CAP] = "";
    int rc = upstream_manifest_parse(body, len, &m, err, sizeof(err));

    if (rc != -1)
        fail_msg("%s: accepted (rc %d)", what, rc);
    if (want != NULL && strstr(err, want) == NULL)
        fail_msg("%s: reason \"%s\", want \"%s\"", what, err, want);
    assert_safe_reason(err);
    assert_null(m.files);
    assert_int_equal(m.n_files, 0);
    upstream_manifest_free(&m); /* harmless on what a refusal left */
}

static void test_bad_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
        char what[32];

        snprintf(what, sizeof(what), "bad case %zu", i);
        assert_refused(bad_cases[i].body, strlen(bad_cases[i].body), bad_cases[i].err, what);
    }
}

/* Every cut of valid bodies is refused cleanly. */
static void test_truncation(void **state)
{
    static const char *const bodies[] = {real_body, GOOD, good_cases[1].body};

    (void)state;
    for (size_t b = 0; b < ARRAY_LEN(bodies); b++) {
        size_t len = strlen(bodies[b]);

        for (size_t cut = 0; cut < len; cut++) {
            char *copy = malloc(cut + 1); /* exactly cut bytes: ASan sees a read past them */
            char what[48];

            assert_non_null(copy);
            memcpy(copy, bodies[b], cut);
            snprintf(what, sizeof(what), "body %zu cut at %zu", b, cut);
            assert_refused(copy, cut, NULL, what);
            free(copy);
        }
    }
}

/* A served load with n files: the .loads file and n - 1 components of 1 byte. */
static char *body_with_files(size_t n, size_t pad_to)
{
    size_t cap = 256 + n * 160 + pad_to, len;
    char *s = malloc(cap);

    assert_non_null(s);
    len = (size_t)snprintf(
        s, cap,
        "{\"name\":\"big\",\"status\":\"verified\",\"served\":true,"
        "\"file_count\":%zu,\"total_bytes\":%zu,\"files\":[" FILE_J("big.loads", 1, H1, "loads"),
        n, n);
    for (size_t i = 1; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                ",{\"name\":\"c%04zu.sbn\",\"size\":1,\"sha256\":\"" H2
                                "\",\"role\":\"component\"}",
                                i);
    len += (size_t)snprintf(s + len, cap - len, "]}");
    while (len < pad_to)
        s[len++] = ' ';
    s[len] = '\0';
    return s;
}

static void test_limits(void **state)
{
    struct upstream_manifest m;
    char err[ERR_CAP];
    char *s;

    (void)state;
    s = body_with_files(UPSTREAM_MANIFEST_FILES_MAX, 0);
    assert_int_equal(upstream_manifest_parse(s, strlen(s), &m, err, sizeof(err)), 0);
    assert_int_equal(m.n_files, UPSTREAM_MANIFEST_FILES_MAX);
    assert_true(m.files[0].is_loads);
    upstream_manifest_free(&m);
    free(s);

    s = body_with_files(UPSTREAM_MANIFEST_FILES_MAX + 1, 0);
    assert_refused(s, strlen(s), "files: over 512", "513 files");
    free(s);

    /* The size limit holds before parsing: a valid body, padded with spaces. */
    s = body_with_files(2, UPSTREAM_MANIFEST_BODY_MAX);
    assert_int_equal(strlen(s), UPSTREAM_MANIFEST_BODY_MAX);
    assert_int_equal(upstream_manifest_parse(s, strlen(s), &m, err, sizeof(err)), 0);
    upstream_manifest_free(&m);
    free(s);
    s = body_with_files(2, UPSTREAM_MANIFEST_BODY_MAX + 1);
    assert_refused(s, strlen(s), "body over 1048576 bytes", "body one byte over");
    free(s);
}

/* The reason is cut to cap and always terminated; no err at all is fine. */
static void test_err_cap(void **state)
{
    struct upstream_manifest m;
    char err[8];

    (void)state;
    memset(err, 'x', sizeof(err));
    assert_int_equal(upstream_manifest_parse("[]", 2, &m, err, sizeof(err)), -1);
    assert_string_equal(err, "not a J");
    assert_int_equal(upstream_manifest_parse("[]", 2, &m, NULL, 0), -1);
    assert_int_equal(upstream_manifest_parse(NULL, 0, &m, err, sizeof(err)), -1);
    assert_int_equal(upstream_manifest_parse(GOOD, strlen(GOOD), &m, NULL, 0), 0);
    upstream_manifest_free(&m);
    upstream_manifest_free(NULL);
}

static void test_find(void **state)
{
    struct upstream_manifest m;
    char err[ERR_CAP];
    const struct upstream_file *f;

    (void)state;
    assert_int_equal(upstream_manifest_parse(real_body, strlen(real_body), &m, err, sizeof(err)),
                     0);
    f = upstream_manifest_find(&m, "CVM41SIP.9-4-2es26.SBN");
    assert_non_null(f);
    assert_string_equal(f->name, "cvm41sip.9-4-2ES26.sbn");
    assert_string_equal(f->sha256, H4);
    f = upstream_manifest_find(&m, "sip41.9-4-2sr3-1s.loads");
    assert_non_null(f);
    assert_true(f->is_loads);
    assert_ptr_equal(f, &m.files[0]);
    assert_null(upstream_manifest_find(&m, "cvm41sip.9-4-2ES26"));
    assert_null(upstream_manifest_find(&m, "cvm41sip.9-4-2ES26.sbnx"));
    assert_null(upstream_manifest_find(&m, ""));
    assert_null(upstream_manifest_find(&m, NULL));
    assert_null(upstream_manifest_find(NULL, "x"));
    upstream_manifest_free(&m);
    assert_null(upstream_manifest_find(&m, "apps41.9-4-2ES26.sbn"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_table), cmocka_unit_test(test_bad_table),
        cmocka_unit_test(test_truncation), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_err_cap),    cmocka_unit_test(test_find),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
