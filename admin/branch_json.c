/* branch_json.c: branches and their holdings as JSON, for the API and
 * loadsctl alike. Builds values only. */
#include "admin/branch_json.h"

static json_t *last_report_json(const struct fleet_branch *b, int64_t now, int64_t max_age_s)
{
    if (b->received_at <= 0)
        return json_null();
    return json_pack("{s:I, s:I, s:b, s:s, s:I, s:I}", "received_at", (json_int_t)b->received_at,
                     "age_s", (json_int_t)(now - b->received_at), "fresh",
                     now - b->received_at <= max_age_s, "version", b->version, "free_bytes",
                     (json_int_t)b->free_bytes, "time", (json_int_t)b->reported_time);
}

json_t *branch_json(const struct fleet_branch *b, int64_t now, int64_t max_age_s)
{
    return json_pack("{s:s, s:s, s:I, s:o, s:I, s:I}", "name", b->name, "address", b->address,
                     "created_at", (json_int_t)b->created_at, "last_report",
                     last_report_json(b, now, max_age_s), "loads_complete",
                     (json_int_t)b->loads_complete, "loads_total", (json_int_t)b->loads_total);
}

json_t *branch_holding_json(const struct fleet_holding *x)
{
    json_t *eta = x->eta_s == FLEET_ETA_UNKNOWN ? json_null() : json_integer(x->eta_s);

    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:o}", "name", x->load, "state",
                     fleet_state_name(x->state), "files_have", (json_int_t)x->files_have,
                     "files_total", (json_int_t)x->files_total, "bytes_have",
                     (json_int_t)x->bytes_have, "bytes_total", (json_int_t)x->bytes_total,
                     "percent", (int)fleet_percent(x), "eta_s", eta);
}

json_t *branch_holdings_json(const struct fleet_holder *h)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && h != NULL && i < h->n_holdings; i++)
        json_array_append_new(a, branch_holding_json(&h->holdings[i]));
    return a;
}
