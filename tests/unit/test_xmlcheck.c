/* test_xmlcheck.c: the XML well-formedness checker on its own: a table of
 * documents (each verdict cross-checked with xmllint unless stricter on
 * purpose), every truncation of a document with every feature, the depth
 * and attribute limits, and the hooks (what they are told, and their refusals).
 * Needs xmllint (libxml2-utils); touches nothing but its own temp files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/cnf/xmlcheck.h"
#include "tests/unit/xmllint.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Checks exactly len bytes in a heap copy of their own: ASan catches a read
 * past them. */
static int check_copy(const char *text, size_t len, const struct xmlcheck_hooks *hooks,
                      const char **why)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, text, len);
    rc = xmlcheck_document(copy, len, hooks, why);
    free(copy);
    return rc;
}

/* ---- plain XML ---- */

struct plain_case {
    const char *what;
    const char *text;
    const char *why; /* NULL: accepted; else part of the reason */
    bool strict;     /* stricter than XML on purpose (or xmllint cannot tell): no cross-check */
};

static const struct plain_case plain_cases[] = {
    {"minimal", "<d/>", NULL, false},
    {"declaration, comments, PI, CDATA, refs",
     "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\" standalone='yes'?>\n<!-- c -->\n"
     "<?app data?><d a=\"&amp;&#65;&#x42;\" b='\"'><x><![CDATA[<&>]]>&lt;&gt;&quot;&apos;"
     "&#x10FFFF;</x><y/><z /></d>\n<!-- end -->\n",
     NULL, false},
    {"lower-case encoding", "<?xml version='1.0' encoding='utf-8'?><d/>", NULL, false},
    {"prefixed names", "<d xsi:type=\"x\"><a:b>t</a:b></d>", NULL, false},
    {"braces are text", "<d a='{{X}}'>{{LOAD}} }}{{</d>", NULL, false},
    {"UTF-8 text", "<d>\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80</d>", NULL, false},
    {"any root name", "<Default><x/></Default>", NULL, false},
    {"empty", "", "empty", false},
    {"whitespace only", " \n", "no root", false},
    {"two roots", "<d></d><d/>", "more than one root", false},
    {"text after root", "<d></d>x", "outside the root", false},
    {"text before root", "x<d></d>", "outside the root", false},
    {"unclosed", "<d><a>", "unclosed", false},
    {"mismatched", "<d><a></b></d>", "does not match", false},
    {"stray end tag", "<d></d></a>", "does not match", false},
    {"end tag first", "</d>", "does not match", false},
    {"unterminated end tag", "<d></d", "unterminated end tag", false},
    {"unterminated start tag", "<d a='1'", "unterminated start tag", false},
    {"unquoted attribute", "<d a=1/>", "not quoted", false},
    {"attribute without value", "<d a/>", "expected '='", false},
    {"duplicate attribute", "<d a='1' a=\"2\"/>", "duplicate", false},
    {"attributes not spaced", "<d a='1'b='2'/>", "space before", false},
    {"< in attribute", "<d a='<'/>", "'<' in an attribute", false},
    {"unterminated attribute", "<d a='x></d>", "'<' in an attribute", false},
    {"attribute cut short", "<d a='x", "unterminated attribute", false},
    {"bare ampersand", "<d>a & b</d>", "unknown entity", false},
    {"custom entity", "<d>&nbsp;</d>", "unknown entity", false},
    {"entity without ;", "<d>&amp</d>", "unknown entity", false},
    {"charref zero", "<d>&#0;</d>", "character reference", false},
    {"charref control", "<d>&#x1;</d>", "character reference", false},
    {"charref surrogate", "<d>&#xD800;</d>", "character reference", false},
    {"charref too big", "<d>&#x110000;</d>", "character reference", false},
    {"charref huge", "<d>&#99999999999999999999;</d>", "out of range", false},
    {"charref empty", "<d>&#;</d>", "character reference", false},
    {"charref bad digit", "<d>&#12a;</d>", "character reference", false},
    {"charref cut short", "<d>&#65", "bad character reference", false},
    {"DOCTYPE", "<!DOCTYPE d><d/>", "DOCTYPE", true},
    {"entity declaration", "<!DOCTYPE d [<!ENTITY x \"y\">]><d/>", "DOCTYPE", true},
    {"]]> in text", "<d>a]]>b</d>", "]]>", false},
    {"-- in comment", "<d><!-- a -- b --></d>", "--", false},
    {"unterminated comment", "<d><!-- x </d>", "unterminated comment", false},
    {"unterminated CDATA", "<d><![CDATA[ x </d>", "unterminated CDATA", false},
    {"CDATA outside root", "<![CDATA[x]]><d/>", "CDATA outside", false},
    {"late XML declaration", " <?xml version=\"1.0\"?><d/>", "very start", false},
    {"XML declaration in the root", "<d><?xml version=\"1.0\"?></d>", "very start", false},
    {"bad version", "<?xml version=\"2.0\"?><d/>", "XML declaration", true},
    {"no version", "<?xml encoding=\"UTF-8\"?><d/>", "no version", false},
    {"other encoding", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><d/>", "UTF-8 only", true},
    {"junk in declaration", "<?xml version=\"1.0\" foo=\"1\"?><d/>", "XML declaration", false},
    {"unterminated PI", "<d><?app x</d>", "unterminated processing", false},
    {"PI target run into data", "<d><?app\x01?></d>", "", false},
    {"namespace declaration", "<d xmlns=\"urn:x\"/>", "namespace", true},
    {"prefixed namespace declaration", "<d xmlns:a=\"urn:x\"/>", "namespace", true},
    {"bad name", "<d><1a/></d>", "expected a name", false},
    {"name with two colons", "<d><a:b:c/></d>", "", true},
    {"control byte", "<d>\x01</d>", "not UTF-8", false},
    {"DEL", "<d>\x7f</d>", "not UTF-8", true},
    {"invalid UTF-8", "<d>\xff</d>", "not UTF-8", false},
    {"overlong UTF-8", "<d>\xc0\xaf</d>", "not UTF-8", false},
    {"UTF-8 surrogate", "<d>\xed\xa0\x80</d>", "not UTF-8", false},
    {"U+FFFE", "<d>\xef\xbf\xbe</d>", "not UTF-8", false},
    {"truncated UTF-8", "<d></d>\xe2\x82", "not UTF-8", false},
};

static void test_plain_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(plain_cases); i++) {
        const struct plain_case *c = &plain_cases[i];
        const char *why = "unset";
        int rc = check_copy(c->text, strlen(c->text), NULL, &why);
        int st;

        if ((rc == XMLCHECK_OK) != (c->why == NULL))
            fail_msg("%s: rc %d (%s)", c->what, rc, why ? why : "-");
        if (rc == XMLCHECK_OK && why != NULL)
            fail_msg("%s: accepted with a reason", c->what);
        if (rc != XMLCHECK_OK && (why == NULL || strstr(why, c->why) == NULL))
            fail_msg("%s: reason \"%s\", want \"%s\"", c->what, why ? why : "(null)", c->why);
        if (c->strict || c->text[0] == '\0')
            continue;
        st = xmllint_status(c->text, strlen(c->text));
        assert_true(st >= 0); /* xmllint ran */
        if ((st == 0) != (rc == XMLCHECK_OK))
            fail_msg("%s: xmllint says %d, the checker %d", c->what, st, rc);
    }
}

/* Every proper prefix of a document with every feature is refused but those
 * that end after the root's end tag; the reason is always set. */
static void test_truncated(void **state)
{
    static const char doc[] =
        "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- head -->\n<?app x?>\n"
        "<d a=\"&amp;&#65;\" b='v'><x:y>t&lt;\xc3\xa9</x:y><![CDATA[<&>]]><e/><f /></d>\n";
    size_t len = strlen(doc), closed = (size_t)(strstr(doc, "</d>") - doc) + strlen("</d>");

    (void)state;
    for (size_t n = 0; n <= len; n++) {
        const char *why = NULL;
        int rc = check_copy(doc, n, NULL, &why);

        if ((rc == XMLCHECK_OK) != (n >= closed))
            fail_msg("prefix of %zu bytes: rc %d (%s)", n, rc, why ? why : "-");
        if (rc != XMLCHECK_OK)
            assert_non_null(why);
    }
}

/* XMLCHECK_DEPTH_MAX open elements pass, one more does not. */
static void test_depth_limit(void **state)
{
    char t[1024];

    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        int depth = XMLCHECK_DEPTH_MAX + extra;
        size_t n = 0;
        const char *why = NULL;

        for (int i = 0; i < depth; i++)
            n += (size_t)snprintf(t + n, sizeof(t) - n, "<a>");
        for (int i = 0; i < depth; i++)
            n += (size_t)snprintf(t + n, sizeof(t) - n, "</a>");
        assert_true(n < sizeof(t));
        assert_int_equal(xmlcheck_document(t, n, NULL, &why), extra ? XMLCHECK_INVALID : 0);
        if (extra)
            assert_non_null(strstr(why, "deeply"));
    }
}

/* XMLCHECK_ATTRS_MAX attributes on one element pass, one more does not. */
static void test_attr_limit(void **state)
{
    char t[1024];

    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = (size_t)snprintf(t, sizeof(t), "<e");
        const char *why = NULL;

        for (int i = 0; i < XMLCHECK_ATTRS_MAX + extra; i++)
            n += (size_t)snprintf(t + n, sizeof(t) - n, " a%d='%d'", i, i);
        n += (size_t)snprintf(t + n, sizeof(t) - n, "/>");
        assert_true(n < sizeof(t));
        assert_int_equal(xmlcheck_document(t, n, NULL, &why), extra ? XMLCHECK_INVALID : 0);
        if (extra)
            assert_non_null(strstr(why, "too many attributes"));
    }
}

/* ---- the hooks ---- */

/* What the hooks were told, as text: "E:a/b" for an element, "T:a/b:NAME"
 * for a placeholder in text, "A:a:NAME" in an attribute value. */
struct hook_log {
    char text[512];
};

static void log_path(struct hook_log *l, const struct xmlcheck_name *path, unsigned depth)
{
    size_t n = strlen(l->text);

    for (unsigned i = 0; i < depth; i++)
        n += (size_t)snprintf(l->text + n, sizeof(l->text) - n, "%s%.*s", i ? "/" : "",
                              (int)path[i].n, path[i].p);
}

/* Refuses an element named "bad". */
static int on_element(void *arg, const struct xmlcheck_name *path, unsigned depth, const char **why)
{
    struct hook_log *l = arg;

    strncat(l->text, "E:", sizeof(l->text) - strlen(l->text) - 1);
    log_path(l, path, depth);
    strncat(l->text, ";", sizeof(l->text) - strlen(l->text) - 1);
    if (xmlcheck_name_is(&path[depth - 1], "bad"))
        return *why = "no bad elements", XMLCHECK_INVALID;
    return XMLCHECK_OK;
}

/* Takes "{{" upper-case letters "}}"; refuses anything else. */
static int on_placeholder(void *arg, const char *p, size_t avail, const struct xmlcheck_name *path,
                          unsigned depth, bool in_text, size_t *len, const char **why)
{
    struct hook_log *l = arg;
    size_t k = 2;

    while (k < avail && p[k] >= 'A' && p[k] <= 'Z')
        k++;
    if (k == 2 || avail - k < 2 || p[k] != '}' || p[k + 1] != '}')
        return *why = "not a placeholder", XMLCHECK_INVALID;
    *len = k + 2;
    strncat(l->text, in_text ? "T:" : "A:", sizeof(l->text) - strlen(l->text) - 1);
    log_path(l, path, depth);
    snprintf(l->text + strlen(l->text), sizeof(l->text) - strlen(l->text), ":%.*s;", (int)(k - 2),
             p + 2);
    return XMLCHECK_OK;
}

struct hook_case {
    const char *text;
    const char *why; /* NULL: accepted */
    const char *log; /* what the hooks were told */
};

static const struct hook_case hook_cases[] = {
    {"<a x='{{P}}'><b>{{Q}}x{{R}}</b><c/></a>", NULL, "E:a;A:a:P;E:a/b;T:a/b:Q;T:a/b:R;E:a/c;"},
    {"<a>{{Q}}<b y=\"z{{P}}\"/>{{R}}</a>", NULL, "E:a;T:a:Q;E:a/b;A:a/b:P;T:a:R;"},
    {"<a>{ {x} }</a>", NULL, "E:a;"},
    {"<a><bad/><b/></a>", "no bad elements", "E:a;E:a/bad;"},
    {"<bad>{{Q}}</bad>", "no bad elements", "E:bad;"},
    {"<a>{{q}}</a>", "not a placeholder", "E:a;"},
    {"<a>{{Q}</a>", "not a placeholder", "E:a;"},
    {"<a>{{Q", "not a placeholder", "E:a;"},
    {"<a>{{Q}}", "unclosed", "E:a;T:a:Q;"},
    {"<a x='{{Q'/>", "not a placeholder", "E:a;"},
    {"<a><!-- {{Q}} --></a>", "outside text", "E:a;"},
    {"<a><![CDATA[{{Q}}]]></a>", "outside text", "E:a;"},
    {"<a><?pi {{Q}}?></a>", "outside text", "E:a;"},
    {"{{Q}}<a/>", "outside the root", ""},
};

static void test_hooks_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(hook_cases); i++) {
        const struct hook_case *c = &hook_cases[i];
        struct hook_log l = {""};
        const struct xmlcheck_hooks hooks = {on_element, on_placeholder, &l};
        const char *why = "unset";
        int rc = check_copy(c->text, strlen(c->text), &hooks, &why);

        if ((rc == XMLCHECK_OK) != (c->why == NULL))
            fail_msg("%s: rc %d (%s)", c->text, rc, why ? why : "-");
        if (rc != XMLCHECK_OK && (why == NULL || strstr(why, c->why) == NULL))
            fail_msg("%s: reason \"%s\", want \"%s\"", c->text, why ? why : "(null)", c->why);
        if (strcmp(l.text, c->log) != 0)
            fail_msg("%s: hooks told \"%s\", want \"%s\"", c->text, l.text, c->log);
    }
}

/* Every truncation of a document with placeholders: the hook is never given
 * bytes past the end (ASan), and only the whole document passes. */
static void test_hooks_truncated(void **state)
{
    static const char doc[] = "<a x='{{P}}'><b>{{Q}}</b></a>";
    size_t len = strlen(doc);

    (void)state;
    for (size_t n = 0; n <= len; n++) {
        struct hook_log l = {""};
        const struct xmlcheck_hooks hooks = {on_element, on_placeholder, &l};
        const char *why = NULL;

        assert_int_equal(check_copy(doc, n, &hooks, &why) == XMLCHECK_OK, n == len);
        if (n < len)
            assert_non_null(why);
    }
}

static void test_char_len(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        size_t want;
    } cases[] = {
        {"a", 1, 1},
        {"\t", 1, 1},
        {"\x01", 1, 0},
        {"\x7f", 1, 0},
        {"\xc3\xa9", 2, 2},
        {"\xc3", 1, 0},
        {"\xe2\x82\xac", 3, 3},
        {"\xe2\x82\xac", 2, 0},
        {"\xef\xbf\xbf", 3, 0},
        {"\xf4\x8f\xbf\xbf", 4, 4},
        {"\xf4\x90\x80\x80", 4, 0},
        {"\xc2\x80", 2, 2},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const unsigned char *p = (const unsigned char *)cases[i].bytes;

        if (xmlcheck_char_len(p, p + cases[i].len) != cases[i].want)
            fail_msg("case %zu: got %zu, want %zu", i, xmlcheck_char_len(p, p + cases[i].len),
                     cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_table), cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_depth_limit), cmocka_unit_test(test_attr_limit),
        cmocka_unit_test(test_hooks_table), cmocka_unit_test(test_hooks_truncated),
        cmocka_unit_test(test_char_len),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
