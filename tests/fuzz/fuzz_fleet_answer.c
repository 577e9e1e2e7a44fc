/* fuzz_fleet_answer.c: libFuzzer target for report_answer_parse() (a central's
 * answer to a branch's report). An accepted answer wants at most 4,096 unique
 * load names and has its figures in range, its want_tag safe in a quoted
 * header (or none, and no polling); a refusal leaves the answer empty and
 * says why in printable ASCII. Must not touch files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/model/settings.h"
#include "server/upstream/pull.h"
#include "server/upstream/report_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fleet_check(const struct report_answer *a)
{
    if (a->n_want > REPORT_WANT_MAX || (a->n_want > 0 && a->want == NULL))
        abort();
    if (!settings_name_valid(a->branch) || strlen(a->branch) > REPORT_BRANCH_NAME_MAX)
        abort();
    if (a->report_every_s < REPORT_EVERY_MIN_S || a->report_every_s > REPORT_EVERY_MAX_S ||
        a->max_age_s < 1 || a->max_age_s > REPORT_MAX_AGE_MAX_S)
        abort();
    if (a->want_tag[0] == '\0'
            ? a->want_poll_s != 0
            : a->want_poll_s < REPORT_WANT_POLL_MIN_S || a->want_poll_s > REPORT_WANT_POLL_MAX_S ||
                  strlen(a->want_tag) > REPORT_WANT_TAG_MAX ||
                  strpbrk(a->want_tag, "\" \r\n\t\\") != NULL)
        abort();
    for (size_t i = 0; i < a->n_want; i++) {
        if (!pull_load_name_ok(a->want[i]))
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(a->want[i], a->want[j]) == 0)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct report_answer a;
    char err[128];

    if (report_answer_parse((const char *)data, size, &a, err, sizeof(err)) != 0) {
        if (err[0] == '\0' || a.want != NULL || a.n_want != 0 || a.want_tag[0] != '\0')
            abort();
        for (const char *p = err; *p != '\0'; p++)
            if (*p < 0x20 || *p > 0x7e)
                abort();
        return 0;
    }
    fuzz_fleet_check(&a);
    report_answer_free(&a);
    return 0;
}
