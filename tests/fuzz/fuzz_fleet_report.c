/* fuzz_fleet_report.c: libFuzzer target for a branch's report parser
 * (admin/fleet_json.c), on a heap copy of exactly the input's size. A report
 * taken has every load named by the load-name rule, once (any case), in a known state,
 * have <= total, and within the limits; a refusal says why and leaves the
 * report empty. Must not touch files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/fleet_json.h"
#include "db/model/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_taken(const struct fleet_report_doc *r)
{
    if (r->n_loads > FLEET_REPORT_LOADS_MAX || r->n_phones > FLEET_REPORT_PHONES_MAX)
        abort();
    for (size_t i = 0; i < r->n_loads; i++) {
        const struct fleet_holding *l = &r->loads[i];

        if (!settings_load_name_valid(l->load) || fleet_state_name(l->state) == NULL ||
            l->files_have > l->files_total || l->bytes_have > l->bytes_total ||
            l->files_total > FLEET_COUNT_MAX || l->eta_s < FLEET_ETA_UNKNOWN)
            abort();
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(r->loads[k].load, l->load) == 0)
                abort();
    }
    for (size_t i = 0; i < r->n_phones; i++)
        if (memchr(r->phones[i].addr, '\0', sizeof(r->phones[i].addr)) == NULL ||
            !settings_load_name_valid(r->phones[i].load) ||
            r->phones[i].files_done > r->phones[i].files_total)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fleet_report_doc r;
    char why[FLEET_WHY_MAX];
    char *copy = malloc(size ? size : 1);

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (fleet_report_parse(copy, size, &r, why, sizeof(why)) == 0) {
        check_taken(&r);
    } else if (why[0] == '\0' || r.root != NULL || r.loads != NULL || r.phones != NULL) {
        abort();
    }
    fleet_report_doc_free(&r);
    free(copy);
    return 0;
}
