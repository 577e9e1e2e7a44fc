/* test_sigstatus.c: the status rules of a load (the weakest file decides)
 * and the signature policy, as tables of facts and expected answers. Pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db/model/sigstatus.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct derive_case {
    const char *what;
    struct sigstatus_facts
        facts; /* files, quarantined, bad, verified, unsigned_, loads_signed, approved */
    const char *want;
};

static const struct derive_case derive_cases[] = {
    {"every file verified", {6, 0, 0, 6, 0, true, false}, "verified"},
    {"one component not verified", {6, 0, 0, 5, 0, true, false}, "signed"},
    {"nothing verified, all signed", {6, 0, 0, 0, 0, true, false}, "signed"},
    {"two of five components without header", {6, 0, 0, 4, 2, true, false}, "partial"},
    {"one without header, none verified", {6, 0, 0, 0, 1, true, false}, "partial"},
    {"the .loads file without header", {6, 0, 0, 5, 1, false, false}, "unsigned"},
    {"no header anywhere", {6, 0, 0, 0, 6, false, false}, "unsigned"},
    {"approved: unsigned components do not matter", {6, 0, 0, 0, 2, true, true}, "verified"},
    {"approved: an unsigned .loads file neither", {6, 0, 0, 0, 6, false, true}, "verified"},
    {"a bad signature beats verified files", {6, 0, 1, 5, 0, true, false}, "invalid"},
    {"a bad signature beats an approval", {6, 0, 1, 0, 0, true, true}, "invalid"},
    {"quarantine beats everything", {6, 1, 1, 6, 0, true, true}, "quarantined"},
    {"quarantined and unsigned", {2, 2, 0, 0, 2, false, false}, "quarantined"},
    {"no files at all is never verified", {0, 0, 0, 0, 0, true, false}, "signed"},
    {"the .loads file alone, verified", {1, 0, 0, 1, 0, true, false}, "verified"},
};

static void test_derive(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(derive_cases); i++) {
        const struct derive_case *c = &derive_cases[i];
        const char *got = sigstatus_name(sigstatus_derive(&c->facts));

        if (strcmp(got, c->want) != 0)
            fail_msg("%s: got %s, want %s", c->what, got, c->want);
    }
}

struct policy_case {
    enum sigstatus status;
    bool signed_, verified, any, unknown; /* allowed under each policy */
};

static const struct policy_case policy_cases[] = {
    {SIGSTATUS_VERIFIED, true, true, true, true},
    {SIGSTATUS_SIGNED, true, false, true, false},
    {SIGSTATUS_PARTIAL, true, false, true, false},
    {SIGSTATUS_UNSIGNED, false, false, true, false},
    {SIGSTATUS_INVALID, false, false, false, false},
    {SIGSTATUS_QUARANTINED, false, false, false, false},
};

static void test_policy(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(policy_cases); i++) {
        const struct policy_case *c = &policy_cases[i];
        const char *name = sigstatus_name(c->status);

        if (sigstatus_allowed(c->status, "signed") != c->signed_ ||
            sigstatus_allowed(c->status, "verified") != c->verified ||
            sigstatus_allowed(c->status, "any") != c->any)
            fail_msg("%s: wrong answer under signed, verified or any", name);
        /* an unknown, truncated or missing policy fails closed */
        if (sigstatus_allowed(c->status, "sign") != c->unknown ||
            sigstatus_allowed(c->status, "") != c->unknown ||
            sigstatus_allowed(c->status, "VERIFIED") != c->unknown ||
            sigstatus_allowed(c->status, NULL) != c->unknown)
            fail_msg("%s: an unknown policy is not read as verified", name);
    }
}

static void test_names(void **state)
{
    static const char *const want[] = {"verified", "signed",  "partial",
                                       "unsigned", "invalid", "quarantined"};

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(want); i++)
        assert_string_equal(sigstatus_name((enum sigstatus)i), want[i]);
    assert_string_equal(sigstatus_name((enum sigstatus)99), "invalid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
