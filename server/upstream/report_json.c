/* report_json.c: the fleet report's JSON built from plain structs, and the
 * central's answer checked member by member. Pure: no I/O, no logging, no
 * clock; the answer's bytes never reach an error text. */
#include "server/upstream/report_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/model/settings.h"
#include "lib/text.h"
#include "server/upstream/pull.h"

/* ---- the report ---- */

static bool counts_ok(const struct fleet_holding *h)
{
    return h->files_have <= FLEET_COUNT_MAX && h->files_total <= FLEET_COUNT_MAX &&
           h->bytes_have <= FLEET_COUNT_MAX && h->bytes_total <= FLEET_COUNT_MAX &&
           h->eta_s >= FLEET_ETA_UNKNOWN && h->eta_s <= (int64_t)FLEET_COUNT_MAX;
}

static json_t *holding_json(const struct fleet_holding *h)
{
    if (!pull_load_name_ok(h->load) || !counts_ok(h))
        return NULL;
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "name", h->load, "state",
                     fleet_state_name(h->state), "files_have", (json_int_t)h->files_have,
                     "files_total", (json_int_t)h->files_total, "bytes_have",
                     (json_int_t)h->bytes_have, "bytes_total", (json_int_t)h->bytes_total, "eta_s",
                     h->eta_s < 0 ? json_null() : json_integer(h->eta_s));
}

/* The phones worth telling (see report_json_build), appended to arr. */
static int phones_json(const struct report_doc *r, json_t *arr)
{
    for (size_t i = 0; i < r->n_phones; i++) {
        const struct inventory_addr_row *p = &r->phones[i];

        if (!pull_load_name_ok(p->load) || p->files_total == 0 || p->files_done > p->files_total ||
            p->at < 0)
            continue;
        if (json_array_append_new(
                arr, json_pack("{s:s, s:s, s:I, s:I, s:I}", "addr", p->addr, "load", p->load,
                               "files_done", (json_int_t)p->files_done, "files_total",
                               (json_int_t)p->files_total, "at", (json_int_t)p->at)) != 0)
            return -1;
    }
    return 0;
}

int report_json_build(const struct report_doc *r, char **out, size_t *len)
{
    json_t *loads = json_array(), *phones = json_array(), *root = NULL;
    int rc = -1;

    *out = NULL;
    *len = 0;
    if (loads == NULL || phones == NULL || r->free_bytes > FLEET_COUNT_MAX ||
        r->n_phones > REPORT_PHONES_MAX)
        goto out;
    for (size_t i = 0; i < r->n_loads; i++)
        if (json_array_append_new(loads, holding_json(&r->loads[i])) != 0)
            goto out;
    if (phones_json(r, phones) != 0)
        goto out;
    root =
        json_pack("{s:s, s:I, s:I, s:O, s:O}", "version", r->version, "time", (json_int_t)r->time,
                  "free_bytes", (json_int_t)r->free_bytes, "loads", loads, "phones", phones);
    if (root == NULL || (*out = json_dumps(root, JSON_COMPACT)) == NULL)
        goto out;
    *len = strlen(*out);
    rc = 0;
out:
    json_decref(loads);
    json_decref(phones);
    json_decref(root);
    return rc;
}

/* ---- the answer ---- */

/* The integer member key of obj in min..max. */
static int get_range(json_t *obj, const char *key, unsigned min, unsigned max, unsigned *out,
                     char *err, size_t cap)
{
    json_t *v = json_object_get(obj, key);
    json_int_t n;

    if (v == NULL)
        return text_fail(err, cap, "%s: missing", key);
    if (!json_is_integer(v))
        return text_fail(err, cap, "%s: not an integer", key);
    n = json_integer_value(v);
    if (n < (json_int_t)min || n > (json_int_t)max)
        return text_fail(err, cap, "%s: out of range %u..%u", key, min, max);
    *out = (unsigned)n;
    return 0;
}

static int get_branch(json_t *root, struct report_answer *a, char *err, size_t cap)
{
    json_t *v = json_object_get(root, "branch");
    const char *s;

    if (v == NULL)
        return text_fail(err, cap, "branch: missing");
    if (!json_is_string(v))
        return text_fail(err, cap, "branch: not a string");
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v) || !settings_name_valid(s) ||
        strlen(s) > REPORT_BRANCH_NAME_MAX)
        return text_fail(err, cap, "branch: not a branch name");
    memcpy(a->branch, s, strlen(s) + 1);
    return 0;
}

/* Whether name is among the first n of v (ASCII case kept: loads are
 * named as the catalog names them). */
static bool want_has(const struct report_answer *a, const char *name)
{
    for (size_t i = 0; i < a->n_want; i++)
        if (strcmp(a->want[i], name) == 0)
            return true;
    return false;
}

static int get_want(json_t *root, struct report_answer *a, char *err, size_t cap)
{
    json_t *v = json_object_get(root, "want"), *item;
    size_t i;

    if (v == NULL)
        return text_fail(err, cap, "want: missing");
    if (!json_is_array(v))
        return text_fail(err, cap, "want: not a list");
    if (json_array_size(v) > REPORT_WANT_MAX)
        return text_fail(err, cap, "want: more than %d loads", REPORT_WANT_MAX);
    if (json_array_size(v) > 0 && (a->want = calloc(json_array_size(v), sizeof(*a->want))) == NULL)
        return text_fail(err, cap, "want: out of memory");
    json_array_foreach(v, i, item)
    {
        const char *s = json_is_string(item) ? json_string_value(item) : NULL;

        if (s == NULL)
            return text_fail(err, cap, "want[%zu]: not a string", i);
        if (strlen(s) != json_string_length(item) || !pull_load_name_ok(s))
            return text_fail(err, cap, "want[%zu]: not a load name", i);
        if (!want_has(a, s))
            memcpy(a->want[a->n_want++], s, strlen(s) + 1);
    }
    return 0;
}

/* The optional want_tag, and want_poll_s with it (docs/FLEET.md, "The
 * branch side": a central without them is not polled). */
static int get_tag(json_t *root, struct report_answer *a, char *err, size_t cap)
{
    static const char tag_chars[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ._:+/=-";
    json_t *v = json_object_get(root, "want_tag");
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);

    if (v == NULL)
        return 0;
    if (s == NULL)
        return text_fail(err, cap, "want_tag: not a string");
    if (len == 0 || len > REPORT_WANT_TAG_MAX || strspn(s, tag_chars) != len)
        return text_fail(err, cap, "want_tag: not 1..%d letters, digits or ._:+/=-",
                         REPORT_WANT_TAG_MAX);
    memcpy(a->want_tag, s, len + 1);
    a->want_poll_s = REPORT_WANT_POLL_DEF_S;
    if (json_object_get(root, "want_poll_s") == NULL)
        return 0;
    return get_range(root, "want_poll_s", REPORT_WANT_POLL_MIN_S, REPORT_WANT_POLL_MAX_S,
                     &a->want_poll_s, err, cap);
}

int report_answer_parse(const char *buf, size_t len, struct report_answer *a, char *err, size_t cap)
{
    json_error_t je;
    json_t *root = NULL;
    int rc = -1;

    memset(a, 0, sizeof(*a));
    if (len > REPORT_ANSWER_MAX) {
        text_fail(err, cap, "the answer is over %d bytes", REPORT_ANSWER_MAX);
        goto out;
    }
    root = len > 0 ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (root == NULL || !json_is_object(root)) {
        text_fail(err, cap, "the answer is not a JSON object");
        goto out;
    }
    if (get_branch(root, a, err, cap) != 0 || get_want(root, a, err, cap) != 0 ||
        get_range(root, "report_every_s", REPORT_EVERY_MIN_S, REPORT_EVERY_MAX_S,
                  &a->report_every_s, err, cap) != 0 ||
        get_range(root, "max_age_s", 1, REPORT_MAX_AGE_MAX_S, &a->max_age_s, err, cap) != 0 ||
        get_tag(root, a, err, cap) != 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        report_answer_free(a);
    return rc;
}

void report_answer_free(struct report_answer *a)
{
    free(a->want);
    memset(a, 0, sizeof(*a));
}

/* ---- what changed ---- */

static int holding_cmp(const void *x, const void *y)
{
    return strcmp(((const struct fleet_holding *)x)->load, ((const struct fleet_holding *)y)->load);
}

void report_holdings_sort(struct fleet_holding *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), holding_cmp);
}

/* Whether the bytes held moved by a tenth of the whole or more (or the
 * whole itself changed, as when a pull learns its size). */
static bool moved_a_tenth(const struct fleet_holding *a, const struct fleet_holding *b)
{
    uint64_t d = a->bytes_have > b->bytes_have ? a->bytes_have - b->bytes_have
                                               : b->bytes_have - a->bytes_have;

    if (a->bytes_total != b->bytes_total)
        return true;
    return a->bytes_total > 0 && (double)d * 10.0 >= (double)a->bytes_total;
}

bool report_holdings_changed(const struct fleet_holding *a, size_t na,
                             const struct fleet_holding *b, size_t nb)
{
    if (na != nb)
        return true;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].load, b[i].load) != 0 || a[i].state != b[i].state ||
            a[i].files_total != b[i].files_total || moved_a_tenth(&a[i], &b[i]))
            return true;
    return false;
}
