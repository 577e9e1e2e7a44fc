/* test_report_json.c: table tests for the fleet report's JSON (every member,
 * null ETA, refusals, the phones kept and left out), the central's answer (accepted forms, each bad
 * member, every truncation, the 4,096-load and 1 MiB limits), what counts as a change of holdings,
 * and the branch token file. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/upstream/report.h"
#include "server/upstream/report_json.h"
#include "tests/unit/testdir.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define GOOD_ANSWER                                                                                \
    "{\"branch\": \"berlin-1\", \"want\": [\"SIP78xx.14-2-1\", \"SIP88xx.14-2-1\"], "              \
    "\"report_every_s\": 60, \"max_age_s\": 300, \"want_tag\": \"dbd989d4ae69fb18\", "             \
    "\"want_poll_s\": 5}"
#define TAG_64         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ANSWER_WITH(m) "{\"branch\":\"b\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1," m "}"
/* From a central before want_tag: the branch does not poll it. */
#define OLD_ANSWER "{\"branch\":\"b\",\"want\":[\"A\"],\"report_every_s\":60,\"max_age_s\":300}"

static struct fleet_holding holding(const char *name, enum fleet_state s, uint64_t have,
                                    uint64_t total, int64_t eta)
{
    struct fleet_holding h = {.state = s,
                              .files_have = 3,
                              .files_total = 5,
                              .bytes_have = have,
                              .bytes_total = total,
                              .eta_s = eta};

    snprintf(h.load, sizeof(h.load), "%s", name);
    return h;
}

/* ---- the report ---- */

static void test_report_members(void **state)
{
    struct fleet_holding v[2] = {
        holding("SIP78xx.14-2-1", FLEET_STAGING, 64000000, 105000000, 240),
        holding("SIP88xx.14-2-1", FLEET_QUARANTINED, 10, 20, -1),
    };
    struct report_doc r = {"0.1.0", 1765000000, 52428800000ull, v, 2, NULL, 0};
    json_t *j, *l0, *l1;
    char *text;
    size_t len;

    (void)state;
    assert_int_equal(report_json_build(&r, &text, &len), 0);
    assert_int_equal(len, strlen(text));
    j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "version")), "0.1.0");
    assert_int_equal(json_integer_value(json_object_get(j, "time")), 1765000000);
    assert_int_equal(json_integer_value(json_object_get(j, "free_bytes")), 52428800000ll);
    assert_true(json_is_array(json_object_get(j, "phones")));
    assert_int_equal(json_array_size(json_object_get(j, "phones")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "loads")), 2);
    l0 = json_array_get(json_object_get(j, "loads"), 0);
    l1 = json_array_get(json_object_get(j, "loads"), 1);
    assert_string_equal(json_string_value(json_object_get(l0, "name")), "SIP78xx.14-2-1");
    assert_string_equal(json_string_value(json_object_get(l0, "state")), "staging");
    assert_int_equal(json_integer_value(json_object_get(l0, "files_have")), 3);
    assert_int_equal(json_integer_value(json_object_get(l0, "files_total")), 5);
    assert_int_equal(json_integer_value(json_object_get(l0, "bytes_have")), 64000000);
    assert_int_equal(json_integer_value(json_object_get(l0, "bytes_total")), 105000000);
    assert_int_equal(json_integer_value(json_object_get(l0, "eta_s")), 240);
    assert_string_equal(json_string_value(json_object_get(l1, "state")), "quarantined");
    assert_true(json_is_null(json_object_get(l1, "eta_s")));
    json_decref(j);
    free(text);
}

static void test_report_refuses(void **state)
{
    static const struct {
        const char *name;
        uint64_t bytes;
        int64_t eta;
        uint64_t free_bytes;
    } cases[] = {
        {"", 1, 0, 0},                              /* no name */
        {".hidden", 1, 0, 0},                       /* a dot first */
        {"a/b", 1, 0, 0},                           /* a folder */
        {"SIP78xx", ((uint64_t)1 << 53) + 1, 0, 0}, /* past 2^53 */
        {"SIP78xx", 1, -2, 0},                      /* a negative ETA */
        {"SIP78xx", 1, 0, ((uint64_t)1 << 53) + 1}, /* free space past 2^53 */
    };
    char *text = (char *)"x";
    size_t len = 1;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fleet_holding h =
            holding(cases[i].name, FLEET_COMPLETE, 1, cases[i].bytes, cases[i].eta);
        struct report_doc r = {"0.1.0", 1, cases[i].free_bytes, &h, 1, NULL, 0};

        assert_int_equal(report_json_build(&r, &text, &len), -1);
        assert_null(text);
        assert_int_equal(len, 0);
    }
}

static struct inventory_addr_row phone_row(const char *addr, const char *load, unsigned done,
                                           unsigned total, int64_t at)
{
    struct inventory_addr_row p = {.files_done = done, .files_total = total, .at = at};

    snprintf(p.addr, sizeof(p.addr), "%s", addr);
    snprintf(p.load, sizeof(p.load), "%s", load);
    return p;
}

/* The phones: the good ones as the contract shows them; a bad load name, no
 * files, more done than there are, or a negative time left out; over
 * REPORT_PHONES_MAX refused. */
static void test_report_phones(void **state)
{
    struct inventory_addr_row v[] = {
        phone_row("198.19.0.10", "SIP78xx.14-2-1", 5, 5, 1765000000),
        phone_row("2001:db8::7", "SIP88xx.14-2-1", 1, 4, 1765000001),
        phone_row("198.19.0.11", "a/b", 1, 4, 1),
        phone_row("198.19.0.12", "SIP78xx.14-2-1", 0, 0, 1),
        phone_row("198.19.0.13", "SIP78xx.14-2-1", 5, 4, 1),
        phone_row("198.19.0.14", "SIP78xx.14-2-1", 1, 4, -1),
    };
    struct report_doc r = {"0.1.0", 1, 0, NULL, 0, v, ARRAY_LEN(v)};
    json_t *j, *ph, *p0;
    char *text;
    size_t len;

    (void)state;
    assert_int_equal(report_json_build(&r, &text, &len), 0);
    j = json_loads(text, 0, NULL);
    assert_non_null(j);
    ph = json_object_get(j, "phones");
    assert_int_equal(json_array_size(ph), 2);
    p0 = json_array_get(ph, 0);
    assert_string_equal(json_string_value(json_object_get(p0, "addr")), "198.19.0.10");
    assert_string_equal(json_string_value(json_object_get(p0, "load")), "SIP78xx.14-2-1");
    assert_int_equal(json_integer_value(json_object_get(p0, "files_done")), 5);
    assert_int_equal(json_integer_value(json_object_get(p0, "files_total")), 5);
    assert_int_equal(json_integer_value(json_object_get(p0, "at")), 1765000000);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ph, 1), "addr")),
                        "2001:db8::7");
    json_decref(j);
    free(text);
    r.n_phones = REPORT_PHONES_MAX + 1; /* refused before any is read */
    assert_int_equal(report_json_build(&r, &text, &len), -1);
    assert_null(text);
}

/* ---- the answer ---- */

static void test_answer_accepts(void **state)
{
    static const struct {
        const char *in;
        const char *branch;
        size_t n_want;
        const char *first;
        unsigned every, age;
        const char *tag;
        unsigned poll;
    } cases[] = {
        {GOOD_ANSWER, "berlin-1", 2, "SIP78xx.14-2-1", 60, 300, "dbd989d4ae69fb18", 5},
        {OLD_ANSWER, "b", 1, "A", 60, 300, "", 0},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":10,\"max_age_s\":1}", "b", 0, NULL, 10,
         1, "", 0},
        {"{\"max_age_s\":604800,\"report_every_s\":3600,\"want\":[\"A\",\"A\",\"B\"],"
         "\"branch\":\"Branch Leeds\",\"new\":{\"x\":[1]}}",
         "Branch Leeds", 2, "A", 3600, 604800, "", 0},
        /* a tag without want_poll_s: the default; want_poll_s alone: ignored */
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1,\"want_tag\":\"x\"}",
         "b", 0, NULL, 60, 1, "x", REPORT_WANT_POLL_DEF_S},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1,\"want_poll_s\":-1}",
         "b", 0, NULL, 60, 1, "", 0},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1,"
         "\"want_tag\":\"" TAG_64 "\",\"want_poll_s\":1}",
         "b", 0, NULL, 60, 1, TAG_64, 1},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1,"
         "\"want_tag\":\"W/a.b:c+d=e_f-\",\"want_poll_s\":3600}",
         "b", 0, NULL, 60, 1, "W/a.b:c+d=e_f-", 3600},
    };
    struct report_answer a;
    char err[160];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(
            report_answer_parse(cases[i].in, strlen(cases[i].in), &a, err, sizeof(err)), 0);
        assert_string_equal(a.branch, cases[i].branch);
        assert_int_equal(a.n_want, cases[i].n_want);
        if (cases[i].first != NULL)
            assert_string_equal(a.want[0], cases[i].first);
        assert_int_equal(a.report_every_s, cases[i].every);
        assert_int_equal(a.max_age_s, cases[i].age);
        assert_string_equal(a.want_tag, cases[i].tag);
        assert_int_equal(a.want_poll_s, cases[i].poll);
        report_answer_free(&a);
    }
}

static void test_answer_refuses(void **state)
{
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"", "not a JSON object"},
        {"[]", "not a JSON object"},
        {"{\"branch\":\"b\",\"branch\":\"c\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1}",
         "not a JSON object"},
        {"{\"want\":[],\"report_every_s\":60,\"max_age_s\":1}", "branch: missing"},
        {"{\"branch\":7,\"want\":[],\"report_every_s\":60,\"max_age_s\":1}",
         "branch: not a string"},
        {"{\"branch\":\"\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1}",
         "not a branch name"},
        {"{\"branch\":\"a/b\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1}",
         "not a branch name"},
        {"{\"branch\":\"a\\u0001\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1}",
         "not a branch name"},
        {"{\"branch\":\"a\\u0000b\",\"want\":[],\"report_every_s\":60,\"max_age_s\":1}",
         "not a JSON object"}, /* a NUL in a string: refused by the reader */
        {"{\"branch\":\"b\",\"report_every_s\":60,\"max_age_s\":1}", "want: missing"},
        {"{\"branch\":\"b\",\"want\":\"A\",\"report_every_s\":60,\"max_age_s\":1}",
         "want: not a list"},
        {"{\"branch\":\"b\",\"want\":[1],\"report_every_s\":60,\"max_age_s\":1}",
         "want[0]: not a string"},
        {"{\"branch\":\"b\",\"want\":[\"A\",\"../x\"],\"report_every_s\":60,\"max_age_s\":1}",
         "want[1]: not a load name"},
        {"{\"branch\":\"b\",\"want\":[\".x\"],\"report_every_s\":60,\"max_age_s\":1}",
         "want[0]: not a load name"},
        {"{\"branch\":\"b\",\"want\":[\"a b\"],\"report_every_s\":60,\"max_age_s\":1}",
         "want[0]: not a load name"},
        {"{\"branch\":\"b\",\"want\":[],\"max_age_s\":1}", "report_every_s: missing"},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":9,\"max_age_s\":1}",
         "report_every_s: out of range 10..3600"},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":3601,\"max_age_s\":1}",
         "report_every_s: out of range"},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":60.5,\"max_age_s\":1}",
         "report_every_s: not an integer"},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":60}", "max_age_s: missing"},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":60,\"max_age_s\":0}",
         "max_age_s: out of range"},
        {"{\"branch\":\"b\",\"want\":[],\"report_every_s\":60,\"max_age_s\":-5}",
         "max_age_s: out of range"},
        {ANSWER_WITH("\"want_tag\":5"), "want_tag: not a string"},
        {ANSWER_WITH("\"want_tag\":null"), "want_tag: not a string"},
        {ANSWER_WITH("\"want_tag\":\"\""), "want_tag: not 1..64"},
        {ANSWER_WITH("\"want_tag\":\"" TAG_64 "x\""), "want_tag: not 1..64"},
        {ANSWER_WITH("\"want_tag\":\"a\\\"b\""), "want_tag: not 1..64"},
        {ANSWER_WITH("\"want_tag\":\"a b\""), "want_tag: not 1..64"},
        {ANSWER_WITH("\"want_tag\":\"a\\r\\nX: y\""), "want_tag: not 1..64"},
        {ANSWER_WITH("\"want_tag\":\"a\\u00e9\""), "want_tag: not 1..64"},
        {ANSWER_WITH("\"want_tag\":\"a\",\"want_poll_s\":0"), "want_poll_s: out of range 1..3600"},
        {ANSWER_WITH("\"want_tag\":\"a\",\"want_poll_s\":3601"), "want_poll_s: out of range"},
        {ANSWER_WITH("\"want_tag\":\"a\",\"want_poll_s\":\"5\""), "want_poll_s: not an integer"},
        {ANSWER_WITH("\"want_tag\":\"a\",\"want_poll_s\":null"), "want_poll_s: not an integer"},
    };
    struct report_answer a;
    char err[160];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        err[0] = '\0';
        assert_int_equal(
            report_answer_parse(cases[i].in, strlen(cases[i].in), &a, err, sizeof(err)), -1);
        assert_null(a.want);
        assert_int_equal(a.n_want, 0);
        assert_string_equal(a.want_tag, "");
        if (strstr(err, cases[i].why) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].why);
    }
}

/* Every truncation of a good answer (with a tag, and without) is refused
 * and leaves it empty. */
static void test_answer_truncated(void **state)
{
    const char *const wholes[] = {GOOD_ANSWER, OLD_ANSWER};
    struct report_answer a;
    char err[160];

    (void)state;
    for (size_t w = 0; w < ARRAY_LEN(wholes); w++)
        for (size_t n = 0; n < strlen(wholes[w]); n++) {
            assert_int_equal(report_answer_parse(wholes[w], n, &a, err, sizeof(err)), -1);
            assert_null(a.want);
            assert_int_equal(a.n_want, 0);
            assert_string_equal(a.branch, "");
            assert_string_equal(a.want_tag, "");
            assert_int_equal(a.want_poll_s, 0);
        }
}

/* An answer wanting n loads L0..L(n-1), padded with spaces to pad bytes. */
static char *answer_of(size_t n, size_t pad, size_t *len)
{
    size_t cap = n * 16 + pad + 128, at = 0;
    char *s = malloc(cap);

    assert_non_null(s);
    at += (size_t)snprintf(s + at, cap - at,
                           "{\"branch\":\"b\",\"report_every_s\":60,"
                           "\"max_age_s\":300,\"want\":[");
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, cap - at, "%s\"L%zu\"", i > 0 ? "," : "", i);
    at += (size_t)snprintf(s + at, cap - at, "]}");
    while (at < pad)
        s[at++] = ' ';
    *len = at;
    return s;
}

static void test_answer_limits(void **state)
{
    struct report_answer a;
    char err[160];
    size_t len;
    char *s;

    (void)state;
    s = answer_of(REPORT_WANT_MAX, 0, &len);
    assert_int_equal(report_answer_parse(s, len, &a, err, sizeof(err)), 0);
    assert_int_equal(a.n_want, REPORT_WANT_MAX);
    assert_string_equal(a.want[REPORT_WANT_MAX - 1], "L4095");
    report_answer_free(&a);
    free(s);
    s = answer_of(REPORT_WANT_MAX + 1, 0, &len);
    assert_int_equal(report_answer_parse(s, len, &a, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than 4096 loads"));
    free(s);
    s = answer_of(1, REPORT_ANSWER_MAX, &len);
    assert_int_equal(report_answer_parse(s, len, &a, err, sizeof(err)), 0);
    report_answer_free(&a);
    free(s);
    s = answer_of(1, REPORT_ANSWER_MAX + 1, &len);
    assert_int_equal(report_answer_parse(s, len, &a, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "over 1048576 bytes"));
    free(s);
}

/* ---- what counts as a change ---- */

static void test_holdings_changed(void **state)
{
    static const struct {
        const char *name;
        enum fleet_state s;
        uint64_t have;
        int changed;
    } cases[] = {
        {"A", FLEET_STAGING, 100, 0},  /* the same */
        {"A", FLEET_STAGING, 199, 0},  /* 9.9 % on: not yet */
        {"A", FLEET_STAGING, 200, 1},  /* 10 % on */
        {"A", FLEET_STAGING, 99, 0},   /* a byte back */
        {"A", FLEET_STAGING, 0, 1},    /* 10 % back (a restart) */
        {"A", FLEET_COMPLETE, 100, 1}, /* another state */
        {"B", FLEET_STAGING, 100, 1},  /* another load */
    };
    struct fleet_holding was = holding("A", FLEET_STAGING, 100, 1000, 5);

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fleet_holding now = holding(cases[i].name, cases[i].s, cases[i].have, 1000, 7);

        assert_int_equal(report_holdings_changed(&was, 1, &now, 1), cases[i].changed);
    }
    assert_true(report_holdings_changed(&was, 1, &was, 0));
    {
        struct fleet_holding sized = holding("A", FLEET_STAGING, 100, 2000, 5);

        assert_true(report_holdings_changed(&was, 1, &sized, 1)); /* the whole learnt */
    }
    assert_false(report_holdings_changed(NULL, 0, NULL, 0));
}

static void test_holdings_sort(void **state)
{
    struct fleet_holding v[3] = {holding("C", FLEET_COMPLETE, 1, 1, -1),
                                 holding("A", FLEET_COMPLETE, 1, 1, -1),
                                 holding("B", FLEET_COMPLETE, 1, 1, -1)};

    (void)state;
    report_holdings_sort(v, 3);
    assert_string_equal(v[0].load, "A");
    assert_string_equal(v[1].load, "B");
    assert_string_equal(v[2].load, "C");
}

/* ---- the token file ---- */

static void test_token_file(void **state)
{
    static const struct {
        const char *content;
        int mode, rc;
        const char *token_or_why;
        int loose;
    } cases[] = {
        {"abc.DEF_123-x\n", 0600, 0, "abc.DEF_123-x", 0},
        {"abc\r\n", 0640, 0, "abc", 1},
        {"abc", 0604, 0, "abc", 1},
        {"", 0600, -1, "is empty", 0},
        {"\n", 0600, -1, "is empty", 0},
        {"a b\n", 0600, -1, "not one line", 0},
        {"abc\ndef\n", 0600, -1, "not one line", 0},
        {NULL, 0, -1, "cannot read", 0},
    };
    char dir[PATH_MAX], path[PATH_MAX + 16], tok[REPORT_TOKEN_MAX + 1], err[512];
    bool loose;

    (void)state;
    assert_int_equal(testdir_make("test_report_json", dir), 0);
    snprintf(path, sizeof(path), "%s/token", dir);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        FILE *f;

        unlink(path);
        if (cases[i].content != NULL) {
            f = fopen(path, "w");
            assert_non_null(f);
            fputs(cases[i].content, f);
            fclose(f);
            chmod(path, (mode_t)cases[i].mode);
        }
        err[0] = '\0';
        assert_int_equal(fleet_token_read(path, tok, sizeof(tok), &loose, err, sizeof(err)),
                         cases[i].rc);
        if (cases[i].rc == 0) {
            assert_string_equal(tok, cases[i].token_or_why);
            assert_int_equal(loose, cases[i].loose);
        } else if (strstr(err, cases[i].token_or_why) == NULL) {
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].token_or_why);
        }
    }
    /* One byte over the limit. */
    {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        for (int i = 0; i <= REPORT_TOKEN_MAX; i++)
            fputc('a', f);
        fclose(f);
        assert_int_equal(fleet_token_read(path, tok, sizeof(tok), &loose, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "longer than"));
    }
    assert_int_equal(testdir_remove(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_members), cmocka_unit_test(test_report_refuses),
        cmocka_unit_test(test_report_phones),  cmocka_unit_test(test_answer_accepts),
        cmocka_unit_test(test_answer_refuses), cmocka_unit_test(test_answer_truncated),
        cmocka_unit_test(test_answer_limits),  cmocka_unit_test(test_holdings_changed),
        cmocka_unit_test(test_holdings_sort),  cmocka_unit_test(test_token_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
