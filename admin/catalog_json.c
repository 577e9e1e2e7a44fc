/* catalog_json.c: catalog rows as JSON objects, for the API and loadsctl
 * alike. Builds values only; never touches the database or a socket. */
#include "admin/catalog_json.h"

#include <errno.h>
#include <string.h>

#include "lib/log.h"

#define CATALOG_JSON_TEXT_MAX 4096

json_t *catalog_text_json(const char *text)
{
    char clean[LOG_CLEAN_MAX];
    json_t *j;

    if (text == NULL)
        return json_null();
    j = json_stringn(text, strnlen(text, CATALOG_JSON_TEXT_MAX));
    return j != NULL ? j : json_string(log_clean(text, strlen(text), clean, sizeof(clean)));
}

json_t *catalog_load_json(const struct catalog_load *l)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s?, s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "name",
                     l->name, "status", l->status, "signature", l->signature, "served", l->served,
                     "policy", l->policy, "weakest_file", l->culprit[0] ? l->culprit : NULL,
                     "signer", l->signer, "approved_by", l->approved_by, "files",
                     (json_int_t)l->file_count, "size", (json_int_t)l->total_size, "created_at",
                     (json_int_t)l->created_at, "import_id", (json_int_t)l->import_id, "origin",
                     catalog_text_json(l->origin));
}

json_t *catalog_file_json(const struct catalog_file *f)
{
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "name", f->name, "size",
                     (json_int_t)f->size, "sha256", f->sha256, "status", f->status, "signature",
                     f->signature, "signer", f->signer, "signer_serial", f->sig_serial, "hash",
                     f->sig_hash);
}

json_t *catalog_trust_json(const struct catalog_trust *t)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "id", (json_int_t)t->id, "role",
                     t->role, "subject", t->subject, "issuer", t->issuer, "serial", t->serial,
                     "sha256", t->sha256, "not_after", (json_int_t)t->not_after);
}

json_t *catalog_trust_added_json(int64_t id, const char *role, const struct verify_cert_info *info,
                                 unsigned loads_changed)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:i}", "id", (json_int_t)id, "role", role, "subject",
                     info->subject, "sha256", info->sha256_hex, "loads_changed",
                     (int)loads_changed);
}

json_t *catalog_trust_removed_json(int64_t id, unsigned loads_changed)
{
    return json_pack("{s:I, s:i}", "removed", (json_int_t)id, "loads_changed", (int)loads_changed);
}

const char *catalog_verify_word(int result)
{
    switch (result) {
    case 0:
        return "ok";
    case 1:
        return "quarantined_before";
    case -EBADMSG:
        return "quarantined_mismatch";
    case -ENOENT:
        return "quarantined_missing";
    default:
        return "not_checked";
    }
}

json_t *catalog_verify_file_json(const struct catalog_file *f, int result)
{
    return json_pack("{s:s, s:s, s:s}", "name", f->name, "sha256", f->sha256, "result",
                     catalog_verify_word(result));
}

json_t *catalog_verify_json(json_t *files, const struct scrub_totals *t,
                            const struct catalog_load *l)
{
    json_t *j = json_pack("{s:o, s:i, s:i, s:i, s:i, s:i, s:I}", "files", files, "checked",
                          (int)t->checked, "ok", (int)t->ok, "quarantined", (int)t->quarantined,
                          "already_quarantined", (int)t->already, "signatures_checked",
                          (int)t->signatures, "bytes", (json_int_t)t->bytes);

    if (j != NULL && l != NULL)
        json_object_set_new(j, "load", catalog_load_json(l));
    return j;
}

int catalog_json_append_load(void *arg, const struct catalog_load *l)
{
    return json_array_append_new(arg, catalog_load_json(l)) == 0 ? 0 : DB_ERROR;
}

int catalog_json_append_file(void *arg, const struct catalog_file *f)
{
    return json_array_append_new(arg, catalog_file_json(f)) == 0 ? 0 : DB_ERROR;
}

int catalog_json_append_trust(void *arg, const struct catalog_trust *t)
{
    return json_array_append_new(arg, catalog_trust_json(t)) == 0 ? 0 : DB_ERROR;
}

json_t *catalog_stage_json(const struct pull_entry *p)
{
    char why[LOG_CLEAN_MAX];

    log_clean(p->why, strlen(p->why), why, sizeof(why));
    return json_pack(
        "{s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:o}", "load", p->name,
        "state", p->state, "staged", p->staged, "why", why, "files_done", (json_int_t)p->files_done,
        "files_total", (json_int_t)p->files_total, "bytes_done", (json_int_t)p->bytes_done,
        "bytes_total", (json_int_t)p->bytes_total, "bytes_got", (json_int_t)p->bytes_got, "started",
        p->started > 0 ? json_integer(p->started) : json_null(), "finished",
        p->finished > 0 ? json_integer(p->finished) : json_null(), "rate", (json_int_t)p->rate,
        "eta_s", p->eta_s >= 0 ? json_integer(p->eta_s) : json_null());
}
