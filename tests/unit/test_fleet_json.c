/* test_fleet_json.c: table tests for a branch's report parser (every member,
 * every refusal with the member it names, unknown keys, duplicates), its
 * limits at and past each bound, truncation at every length, and the
 * answer's shape. Depends on admin/fleet_json only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/fleet_json.h"

#define WANT_TAG_TWO "dbd989d4ae69fb18cf8048b8bd3281fe"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define LOAD_A                                                                                     \
    "{\"name\":\"SIP78xx.14-2-1\",\"state\":\"staging\",\"files_have\":3,\"files_total\":5,"       \
    "\"bytes_have\":64000000,\"bytes_total\":105000000,\"eta_s\":240}"
#define PHONE_A                                                                                    \
    "{\"addr\":\"198.19.0.10\",\"load\":\"SIP78xx.14-2-1\",\"files_done\":5,\"files_total\":5,"    \
    "\"at\":1765000000}"
#define HEAD "{\"version\":\"0.1.0\",\"time\":1765000000,"
#define GOOD HEAD "\"free_bytes\":52428800000,\"loads\":[" LOAD_A "],\"phones\":[" PHONE_A "]}"

struct fleet_case {
    const char *what;
    const char *text;
    int rc;
    const char *why; /* a prefix of the refusal's text, or NULL */
    size_t nloads, nphones;
};

static const struct fleet_case cases[] = {
    {"the contract's example", GOOD, 0, NULL, 1, 1},
    {"no phones", HEAD "\"loads\":[]}", 0, NULL, 0, 0},
    {"empty phones", HEAD "\"loads\":[],\"phones\":[]}", 0, NULL, 0, 0},
    {"unknown keys ignored",
     HEAD "\"extra\":{\"x\":[1,2]},\"loads\":[{\"name\":\"L1\","
          "\"state\":\"complete\",\"files_have\":1,\"files_total\":1,\"colour\":\"red\"}]}",
     0, NULL, 1, 0},
    {"eta null",
     HEAD "\"loads\":[{\"name\":\"L1\",\"state\":\"staging\",\"files_have\":0,"
          "\"files_total\":2,\"eta_s\":null}]}",
     0, NULL, 1, 0},
    {"ipv6 phone",
     HEAD "\"loads\":[],\"phones\":[{\"addr\":\"2001:DB8::0:1\",\"load\":\"L\","
          "\"files_done\":0,\"files_total\":1,\"at\":0}]}",
     0, NULL, 0, 1},
    {"count at 2^53",
     HEAD "\"loads\":[{\"name\":\"L1\",\"state\":\"complete\","
          "\"files_have\":1,\"files_total\":1,\"bytes_have\":9007199254740992,"
          "\"bytes_total\":9007199254740992}]}",
     0, NULL, 1, 0},
    {"empty body", "", FLEET_JSON_MALFORMED, "malformed JSON", 0, 0},
    {"an array", "[]", FLEET_JSON_MALFORMED, "the report must be a JSON object", 0, 0},
    {"trailing bytes", GOOD "x", FLEET_JSON_MALFORMED, "malformed JSON", 0, 0},
    {"duplicate member", HEAD "\"time\":1,\"loads\":[]}", FLEET_JSON_MALFORMED, "malformed", 0, 0},
    {"no version", "{\"time\":1,\"loads\":[]}", FLEET_JSON_INVALID, "version: required", 0, 0},
    {"version a number", "{\"version\":1,\"time\":1,\"loads\":[]}", FLEET_JSON_INVALID,
     "version: not a string", 0, 0},
    {"version with a space", "{\"version\":\"0 1\",\"time\":1,\"loads\":[]}", FLEET_JSON_INVALID,
     "version: printable", 0, 0},
    {"version empty", "{\"version\":\"\",\"time\":1,\"loads\":[]}", FLEET_JSON_INVALID,
     "version: 1 to 63", 0, 0},
    {"no time", "{\"version\":\"1\",\"loads\":[]}", FLEET_JSON_INVALID, "time: required", 0, 0},
    {"negative time", "{\"version\":\"1\",\"time\":-1,\"loads\":[]}", FLEET_JSON_INVALID,
     "time: out of range", 0, 0},
    {"time a real", "{\"version\":\"1\",\"time\":1.5,\"loads\":[]}", FLEET_JSON_INVALID,
     "time: not a whole number", 0, 0},
    {"free bytes over 2^53", HEAD "\"free_bytes\":9007199254740993,\"loads\":[]}",
     FLEET_JSON_INVALID, "free_bytes: out of range", 0, 0},
    {"no loads", HEAD "\"phones\":[]}", FLEET_JSON_INVALID, "loads: required", 0, 0},
    {"loads an object", HEAD "\"loads\":{}}", FLEET_JSON_INVALID, "loads: not an array", 0, 0},
    {"load not an object", HEAD "\"loads\":[" LOAD_A ",7]}", FLEET_JSON_INVALID,
     "loads[1]: not an object", 0, 0},
    {"load name with a slash",
     HEAD "\"loads\":[{\"name\":\"a/b\",\"state\":\"complete\","
          "\"files_have\":1,\"files_total\":1}]}",
     FLEET_JSON_INVALID, "loads[0].name: not a load name", 0, 0},
    {"load name with markup",
     HEAD "\"loads\":[{\"name\":\"<b>\",\"state\":\"complete\","
          "\"files_have\":1,\"files_total\":1}]}",
     FLEET_JSON_INVALID, "loads[0].name: not a load name", 0, 0},
    {"load name with a NUL",
     HEAD "\"loads\":[{\"name\":\"a\\u0000b\",\"state\":\"complete\","
          "\"files_have\":1,\"files_total\":1}]}",
     FLEET_JSON_MALFORMED, "malformed JSON", 0, 0},
    {"unknown state",
     HEAD "\"loads\":[{\"name\":\"L\",\"state\":\"great\",\"files_have\":1,"
          "\"files_total\":1}]}",
     FLEET_JSON_INVALID, "loads[0].state: not one of", 0, 0},
    {"no files_total",
     HEAD "\"loads\":[{\"name\":\"L\",\"state\":\"complete\","
          "\"files_have\":1}]}",
     FLEET_JSON_INVALID, "loads[0].files_total: required", 0, 0},
    {"have over total",
     HEAD "\"loads\":[{\"name\":\"L\",\"state\":\"complete\","
          "\"files_have\":6,\"files_total\":5}]}",
     FLEET_JSON_INVALID, "loads[0].files_have: more than files_total", 0, 0},
    {"bytes over total",
     HEAD "\"loads\":[{\"name\":\"L\",\"state\":\"staging\",\"files_have\":1,"
          "\"files_total\":5,\"bytes_have\":2,\"bytes_total\":1}]}",
     FLEET_JSON_INVALID, "loads[0].bytes_have: more than bytes_total", 0, 0},
    {"eta a string",
     HEAD "\"loads\":[{\"name\":\"L\",\"state\":\"staging\",\"files_have\":1,"
          "\"files_total\":5,\"eta_s\":\"soon\"}]}",
     FLEET_JSON_INVALID, "loads[0].eta_s: not a whole number", 0, 0},
    {"duplicate load",
     HEAD "\"loads\":[" LOAD_A ",{\"name\":\"X\",\"state\":\"complete\","
          "\"files_have\":1,\"files_total\":1}," LOAD_A "]}",
     FLEET_JSON_INVALID, "loads: SIP78xx.14-2-1 is named twice", 0, 0},
    {"duplicate load in another case",
     HEAD "\"loads\":[{\"name\":\"abc\",\"state\":\"complete\","
          "\"files_have\":1,\"files_total\":1},{\"name\":\"ABC\",\"state\":\"staging\","
          "\"files_have\":0,\"files_total\":1}]}",
     FLEET_JSON_INVALID, "loads: ", 0, 0},
    {"phones an object", HEAD "\"loads\":[],\"phones\":{}}", FLEET_JSON_INVALID,
     "phones: not an array", 0, 0},
    {"phone bad address",
     HEAD "\"loads\":[],\"phones\":[{\"addr\":\"198.19.0.300\","
          "\"load\":\"L\",\"files_done\":0,\"files_total\":1,\"at\":0}]}",
     FLEET_JSON_INVALID, "phones[0].addr: not an IPv4 or IPv6 address", 0, 0},
    {"phone host name",
     HEAD "\"loads\":[],\"phones\":[{\"addr\":\"phone.example\","
          "\"load\":\"L\",\"files_done\":0,\"files_total\":1,\"at\":0}]}",
     FLEET_JSON_INVALID, "phones[0].addr: not an IPv4", 0, 0},
    {"phone no load",
     HEAD "\"loads\":[],\"phones\":[{\"addr\":\"10.0.0.1\","
          "\"files_done\":0,\"files_total\":1,\"at\":0}]}",
     FLEET_JSON_INVALID, "phones[0].load: required", 0, 0},
    {"phone done over total",
     HEAD "\"loads\":[],\"phones\":[" PHONE_A ",{\"addr\":\"10.0.0.1\","
          "\"load\":\"L\",\"files_done\":2,\"files_total\":1,\"at\":0}]}",
     FLEET_JSON_INVALID, "phones[1].files_done: more than files_total", 0, 0},
    {"phone no time",
     HEAD "\"loads\":[],\"phones\":[{\"addr\":\"10.0.0.1\",\"load\":\"L\","
          "\"files_done\":0,\"files_total\":1}]}",
     FLEET_JSON_INVALID, "phones[0].at: required", 0, 0},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct fleet_case *c = &cases[i];
        struct fleet_report_doc r;
        char why[FLEET_WHY_MAX];
        int rc = fleet_report_parse(c->text, strlen(c->text), &r, why, sizeof(why));

        if (rc != c->rc || (c->why != NULL && strncmp(why, c->why, strlen(c->why)) != 0))
            fail_msg("%s: rc %d (want %d), why \"%s\" (want \"%s\")", c->what, rc, c->rc, why,
                     c->why != NULL ? c->why : "");
        assert_int_equal(r.n_loads, c->nloads);
        assert_int_equal(r.n_phones, c->nphones);
        if (rc != 0)
            assert_null(r.root);
        fleet_report_doc_free(&r);
    }
}

/* The example's values, each where it belongs. */
static void test_values(void **state)
{
    struct fleet_report_doc r;
    char why[FLEET_WHY_MAX];

    (void)state;
    assert_int_equal(fleet_report_parse(GOOD, strlen(GOOD), &r, why, sizeof(why)), 0);
    assert_string_equal(r.version, "0.1.0");
    assert_int_equal(r.time, 1765000000);
    assert_int_equal(r.free_bytes, 52428800000LL);
    assert_string_equal(r.loads[0].load, "SIP78xx.14-2-1");
    assert_int_equal(r.loads[0].state, FLEET_STAGING);
    assert_int_equal(r.loads[0].files_have, 3);
    assert_int_equal(r.loads[0].files_total, 5);
    assert_int_equal(r.loads[0].bytes_have, 64000000);
    assert_int_equal(r.loads[0].bytes_total, 105000000);
    assert_int_equal(r.loads[0].eta_s, 240);
    assert_string_equal(r.phones[0].addr, "198.19.0.10");
    assert_string_equal(r.phones[0].load, "SIP78xx.14-2-1");
    assert_int_equal(r.phones[0].files_done, 5);
    assert_int_equal(r.phones[0].at, 1765000000);
    fleet_report_doc_free(&r);
    /* absent: free_bytes 0 and eta_s unknown; an IPv6 address normalised */
    {
        const char *t = HEAD "\"loads\":[{\"name\":\"L\",\"state\":\"complete\",\"files_have\":1,"
                             "\"files_total\":1}],\"phones\":[{\"addr\":\"2001:DB8:0::1\","
                             "\"load\":\"L\",\"files_done\":1,\"files_total\":1,\"at\":3}]}";

        assert_int_equal(fleet_report_parse(t, strlen(t), &r, why, sizeof(why)), 0);
        assert_int_equal(r.free_bytes, 0);
        assert_int_equal(r.loads[0].state, FLEET_COMPLETE);
        assert_int_equal(r.loads[0].eta_s, FLEET_ETA_UNKNOWN);
        assert_string_equal(r.phones[0].addr, "2001:db8::1");
        fleet_report_doc_free(&r);
    }
}

/* Every proper prefix of a valid report is refused and leaves nothing. */
static void test_truncated(void **state)
{
    const char *t = GOOD;
    size_t len = strlen(t);

    (void)state;
    for (size_t n = 0; n < len; n++) {
        struct fleet_report_doc r;
        char why[FLEET_WHY_MAX];
        char *copy = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past them */

        assert_non_null(copy);
        memcpy(copy, t, n);
        if (fleet_report_parse(copy, n, &r, why, sizeof(why)) == 0)
            fail_msg("a prefix of %zu bytes was taken", n);
        assert_null(r.root);
        assert_null(r.loads);
        assert_int_equal(r.n_loads, 0);
        assert_true(why[0] != '\0');
        free(copy);
    }
}

/* A report of n loads (names L0000...) and m phones, padded with spaces to
 * at least pad bytes. */
static char *report_make(size_t n, size_t m, size_t pad, size_t *len)
{
    size_t cap = 64 + n * 96 + m * 112 + pad;
    char *s = malloc(cap);
    size_t o;

    assert_non_null(s);
    o = (size_t)snprintf(s, cap, "%s\"loads\":[", HEAD);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, cap - o,
                              "%s{\"name\":\"L%05zu\",\"state\":\"complete\",\"files_have\":1,"
                              "\"files_total\":1}",
                              i ? "," : "", i);
    o += (size_t)snprintf(s + o, cap - o, "],\"phones\":[");
    for (size_t i = 0; i < m; i++)
        o += (size_t)snprintf(s + o, cap - o,
                              "%s{\"addr\":\"10.%zu.%zu.1\",\"load\":\"L\",\"files_done\":0,"
                              "\"files_total\":1,\"at\":0}",
                              i ? "," : "", (i >> 8) & 255, i & 255);
    o += (size_t)snprintf(s + o, cap - o, "]}");
    while (o < pad)
        s[o++] = ' ';
    *len = o;
    return s;
}

static int parse_made(size_t n, size_t m, size_t pad, struct fleet_report_doc *r, char *why)
{
    size_t len;
    char *s = report_make(n, m, pad, &len);
    int rc = fleet_report_parse(s, len, r, why, FLEET_WHY_MAX);

    free(s);
    return rc;
}

static void test_limits(void **state)
{
    struct fleet_report_doc r;
    char why[FLEET_WHY_MAX];

    (void)state;
    assert_int_equal(parse_made(FLEET_REPORT_LOADS_MAX, 0, 0, &r, why), 0);
    assert_int_equal(r.n_loads, FLEET_REPORT_LOADS_MAX);
    fleet_report_doc_free(&r);
    assert_int_equal(parse_made(FLEET_REPORT_LOADS_MAX + 1, 0, 0, &r, why), FLEET_JSON_TOO_LARGE);
    assert_string_equal(why, "loads: more than 4096 entries");
    /* exactly 4 MiB (padded with spaces) is taken, a byte more is not */
    assert_int_equal(parse_made(1, 0, FLEET_REPORT_BODY_MAX, &r, why), 0);
    fleet_report_doc_free(&r);
    assert_int_equal(parse_made(1, 0, FLEET_REPORT_BODY_MAX + 1, &r, why), FLEET_JSON_TOO_LARGE);
    assert_string_equal(why, "the report is larger than 4 MiB");
    /* 100,000 phones do not fit in 4 MiB: the size refuses them first */
    assert_int_equal(parse_made(0, FLEET_REPORT_PHONES_MAX + 1, 0, &r, why), FLEET_JSON_TOO_LARGE);
    assert_null(r.root);
    assert_int_equal(parse_made(0, 30000, 0, &r, why), 0);
    assert_int_equal(r.n_phones, 30000);
    fleet_report_doc_free(&r);
}

static void test_answer(void **state)
{
    char loads[2][SETTINGS_VALUE_MAX] = {"SCCP41.9-4", "SIP78xx.14-2-1"};
    struct fleet_want want = {loads, 2}, none = {NULL, 0};
    struct fleet_answer a = {"berlin-1", &want, "0123abcd", 60, 5, 300};
    struct fleet_answer old = {"b", &none, NULL, 1, 5, 2};
    json_t *j;
    char *text;

    (void)state;
    j = fleet_answer_json(&a);
    assert_non_null(j);
    text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"branch\":\"berlin-1\",\"max_age_s\":300,\"report_every_s\":60,"
                              "\"want\":[\"SCCP41.9-4\",\"SIP78xx.14-2-1\"],"
                              "\"want_poll_s\":5,\"want_tag\":\"0123abcd\"}");
    free(text);
    json_decref(j);
    j = fleet_answer_json(&old); /* no tag: the answer an older branch knows */
    text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text,
                        "{\"branch\":\"b\",\"max_age_s\":2,\"report_every_s\":1,\"want\":[]}");
    free(text);
    json_decref(j);
}

/* The tag: the first 128 bits of SHA-256("SCCP41.9-4\nSIP78xx.14-2-1\n")
 * (printf ... | sha256sum); every list another tag, the empty one too. */
static void test_want_tag(void **state)
{
    char loads[3][SETTINGS_VALUE_MAX] = {"SCCP41.9-4", "SIP78xx.14-2-1", "SIP88xx.14-2-1"};
    struct fleet_want two = {loads, 2}, one = {loads, 1}, three = {loads, 3}, none = {NULL, 0};
    char t2[FLEET_WANT_TAG_BUF], t1[FLEET_WANT_TAG_BUF], t3[FLEET_WANT_TAG_BUF],
        t0[FLEET_WANT_TAG_BUF], again[FLEET_WANT_TAG_BUF];

    (void)state;
    assert_int_equal(fleet_want_tag(&two, t2), 0);
    assert_string_equal(t2, WANT_TAG_TWO);
    assert_int_equal(fleet_want_tag(&one, t1), 0);
    assert_int_equal(fleet_want_tag(&three, t3), 0);
    assert_int_equal(fleet_want_tag(&none, t0), 0);
    assert_int_equal(fleet_want_tag(NULL, again), 0);
    assert_string_equal(t0, again);
    assert_string_equal(t0, "e3b0c44298fc1c149afbf4c8996fb924"); /* SHA-256 of nothing */
    assert_int_equal(strlen(t1), FLEET_WANT_TAG_LEN);
    assert_string_not_equal(t1, t2);
    assert_string_not_equal(t2, t3);
    assert_string_not_equal(t1, t0);
    assert_int_equal(fleet_want_tag(&two, again), 0);
    assert_string_equal(t2, again);
}

/* If-None-Match as RFC 9110 section 13.1.2 has it, and what is not. */
static void test_etag_matches(void **state)
{
    static const struct {
        const char *value;
        bool match;
    } inm[] = {
        {"\"abc\"", true},
        {"W/\"abc\"", true},
        {"\"x\", \"abc\"", true},
        {" \"x\" ,W/\"abc\" ", true},
        {"*", true},
        {" *", true},
        {"\"abcd\"", false},
        {"\"ab\"", false},
        {"\"ABC\"", false},
        {"abc", false},
        {"\"abc", false},
        {"\"\"", false},
        {"", false},
        {"W/abc", false},
        {"w/\"abc\"", false},
        {"\"x\" junk \"abc\"", false}, /* malformed from "junk" on */
        {"\"abc\" junk", true},        /* ... but the tags before it count */
    };
    char big[FLEET_INM_MAX + 8];

    (void)state;
    for (size_t i = 0; i < sizeof(inm) / sizeof(inm[0]); i++) {
        char msg[80];

        snprintf(msg, sizeof(msg), "case %zu: %s", i, inm[i].value);
        if (fleet_etag_matches(inm[i].value, "abc") != inm[i].match)
            fail_msg("%s", msg);
    }
    assert_false(fleet_etag_matches(NULL, "abc"));
    /* Every cut of a matching value short of its closing quote matches nothing. */
    for (size_t n = 0; n < strlen("W/\"abc\""); n++) {
        char cut[16];

        snprintf(cut, sizeof(cut), "%.*s", (int)n, "W/\"abc\"");
        assert_false(fleet_etag_matches(cut, "abc"));
    }
    /* Over the limit: refused whole, even with the tag at its start. */
    memset(big, ' ', sizeof(big));
    memcpy(big, "\"abc\"", 5);
    big[FLEET_INM_MAX + 1] = '\0';
    assert_false(fleet_etag_matches(big, "abc"));
    big[FLEET_INM_MAX] = '\0';
    assert_true(fleet_etag_matches(big, "abc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),        cmocka_unit_test(test_values),
        cmocka_unit_test(test_truncated),    cmocka_unit_test(test_limits),
        cmocka_unit_test(test_answer),       cmocka_unit_test(test_want_tag),
        cmocka_unit_test(test_etag_matches),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
