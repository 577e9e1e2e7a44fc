/* fleet_json.c: a branch's report parsed with hard limits (size, loads,
 * phones, names, addresses, counts), and the central's answer built.
 * Pure: no database, no socket, no clock; never logs what it parses. */
#include "admin/fleet_json.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/branch_json.h"
#include "db/model/settings.h"

/* The parser's state: the error text, and where in the report it is. */
struct parse {
    char *why;
    size_t why_cap;
};

static int fail(struct parse *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parse *p, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (p->why_cap > 0)
        vsnprintf(p->why, p->why_cap, fmt, ap);
    va_end(ap);
    return rc;
}

/* A member that is a whole number in 0..FLEET_COUNT_MAX. Absent (or null
 * when nullable): *out = def, 0. */
static int member_count(struct parse *p, json_t *obj, const char *where, const char *key,
                        bool required, int64_t def, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    json_int_t n;

    if (v == NULL || json_is_null(v)) {
        if (required)
            return fail(p, FLEET_JSON_INVALID, "%s%s: required", where, key);
        *out = (uint64_t)def;
        return 0;
    }
    if (!json_is_integer(v))
        return fail(p, FLEET_JSON_INVALID, "%s%s: not a whole number", where, key);
    n = json_integer_value(v);
    if (n < 0 || (uint64_t)n > FLEET_COUNT_MAX)
        return fail(p, FLEET_JSON_INVALID, "%s%s: out of range 0..2^53", where, key);
    *out = (uint64_t)n;
    return 0;
}

/* A string member without a NUL inside; NULL with why filled when it is
 * missing or not a string. */
static const char *member_string(struct parse *p, json_t *obj, const char *where, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL || !json_is_string(v)) {
        fail(p, FLEET_JSON_INVALID, "%s%s: %s", where, key,
             v == NULL ? "required" : "not a string");
        return NULL;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        fail(p, FLEET_JSON_INVALID, "%s%s: holds a NUL", where, key);
        return NULL;
    }
    return json_string_value(v);
}

static const char *load_name(struct parse *p, json_t *obj, const char *where, const char *key)
{
    const char *s = member_string(p, obj, where, key);

    if (s != NULL && !settings_load_name_valid(s)) {
        fail(p, FLEET_JSON_INVALID, "%s%s: not a load name", where, key);
        return NULL;
    }
    return s;
}

/* A part is at most its whole: files and bytes alike. */
static int pair_check(struct parse *p, const char *where, const char *part, const char *whole,
                      uint64_t have, uint64_t total)
{
    if (have > total)
        return fail(p, FLEET_JSON_INVALID, "%s%s: more than %s", where, part, whole);
    return 0;
}

static int load_parse(struct parse *p, json_t *obj, size_t i, void *out)
{
    struct fleet_holding *l = out;
    const char *name, *state;
    char where[32];
    uint64_t eta;

    snprintf(where, sizeof(where), "loads[%zu].", i);
    if (!json_is_object(obj))
        return fail(p, FLEET_JSON_INVALID, "loads[%zu]: not an object", i);
    name = load_name(p, obj, where, "name");
    state = name != NULL ? member_string(p, obj, where, "state") : NULL;
    if (state == NULL)
        return FLEET_JSON_INVALID;
    snprintf(l->load, sizeof(l->load), "%s", name); /* fits: the load-name rule */
    if (fleet_state_parse(state, &l->state) != 0)
        return fail(p, FLEET_JSON_INVALID,
                    "%sstate: not one of complete, staging, incomplete, quarantined, blocked",
                    where);
    if (member_count(p, obj, where, "files_have", true, 0, &l->files_have) != 0 ||
        member_count(p, obj, where, "files_total", true, 0, &l->files_total) != 0 ||
        member_count(p, obj, where, "bytes_have", false, 0, &l->bytes_have) != 0 ||
        member_count(p, obj, where, "bytes_total", false, 0, &l->bytes_total) != 0 ||
        member_count(p, obj, where, "eta_s", false, -1, &eta) != 0)
        return FLEET_JSON_INVALID;
    l->eta_s = eta == UINT64_MAX ? FLEET_ETA_UNKNOWN : (int64_t)eta;
    if (pair_check(p, where, "files_have", "files_total", l->files_have, l->files_total) != 0 ||
        pair_check(p, where, "bytes_have", "bytes_total", l->bytes_have, l->bytes_total) != 0)
        return FLEET_JSON_INVALID;
    return 0;
}

/* An IPv4 or IPv6 address in its normal text form. */
static int addr_parse(struct parse *p, const char *where, const char *s, char *out, size_t cap)
{
    unsigned char buf[sizeof(struct in6_addr)];
    int af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

    if (inet_pton(af, s, buf) != 1 || inet_ntop(af, buf, out, (socklen_t)cap) == NULL)
        return fail(p, FLEET_JSON_INVALID, "%saddr: not an IPv4 or IPv6 address", where);
    return 0;
}

static int phone_parse(struct parse *p, json_t *obj, size_t i, void *out)
{
    struct fleet_report_phone *ph = out;
    char where[32];
    const char *addr;
    uint64_t at;

    snprintf(where, sizeof(where), "phones[%zu].", i);
    if (!json_is_object(obj))
        return fail(p, FLEET_JSON_INVALID, "phones[%zu]: not an object", i);
    addr = member_string(p, obj, where, "addr");
    if (addr == NULL || addr_parse(p, where, addr, ph->addr, sizeof(ph->addr)) != 0)
        return FLEET_JSON_INVALID;
    ph->load = load_name(p, obj, where, "load");
    if (ph->load == NULL ||
        member_count(p, obj, where, "files_done", true, 0, &ph->files_done) != 0 ||
        member_count(p, obj, where, "files_total", true, 0, &ph->files_total) != 0 ||
        member_count(p, obj, where, "at", true, 0, &at) != 0)
        return FLEET_JSON_INVALID;
    ph->at = (int64_t)at;
    return pair_check(p, where, "files_done", "files_total", ph->files_done, ph->files_total) != 0
               ? FLEET_JSON_INVALID
               : 0;
}

/* The array member key, at most max elements; absent is an empty array
 * unless required. */
static int array_get(struct parse *p, json_t *root, const char *key, bool required, size_t max,
                     json_t **out)
{
    json_t *v = json_object_get(root, key);

    *out = NULL;
    if (v == NULL && !required)
        return 0;
    if (v == NULL || !json_is_array(v))
        return fail(p, FLEET_JSON_INVALID, "%s: %s", key, v == NULL ? "required" : "not an array");
    if (json_array_size(v) > max)
        return fail(p, FLEET_JSON_TOO_LARGE, "%s: more than %zu entries", key, max);
    *out = v;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcasecmp((*(const struct fleet_holding *const *)a)->load,
                      (*(const struct fleet_holding *const *)b)->load);
}

/* A load named twice (any case, as the catalog compares them): the report
 * would not say which holding is true. */
static int loads_unique(struct parse *p, struct fleet_report_doc *r)
{
    const struct fleet_holding **by_name;
    int rc = 0;

    if (r->n_loads < 2)
        return 0;
    by_name = malloc(r->n_loads * sizeof(*by_name));
    if (by_name == NULL)
        return fail(p, FLEET_JSON_TOO_LARGE, "out of memory");
    for (size_t i = 0; i < r->n_loads; i++)
        by_name[i] = &r->loads[i];
    qsort(by_name, r->n_loads, sizeof(*by_name), name_cmp);
    for (size_t i = 1; i < r->n_loads && rc == 0; i++)
        if (strcasecmp(by_name[i - 1]->load, by_name[i]->load) == 0)
            rc = fail(p, FLEET_JSON_INVALID, "loads: %s is named twice", by_name[i]->load);
    free(by_name);
    return rc;
}

/* One element of an array member, parsed into out. */
typedef int (*element_fn)(struct parse *p, json_t *obj, size_t i, void *out);

/* Every element of arr into a new array of elements of size bytes (*out,
 * *n as far as they parsed; NULL and 0 for an empty one). */
static int elements_parse(struct parse *p, json_t *arr, size_t size, element_fn one, void **out,
                          size_t *n)
{
    char *all;
    int rc;

    if (arr == NULL || json_array_size(arr) == 0)
        return 0;
    all = calloc(json_array_size(arr), size);
    if (all == NULL)
        return fail(p, FLEET_JSON_TOO_LARGE, "out of memory");
    *out = all;
    for (*n = 0; *n < json_array_size(arr); (*n)++) {
        rc = one(p, json_array_get(arr, *n), *n, all + *n * size);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int loads_parse(struct parse *p, struct fleet_report_doc *r)
{
    json_t *arr;
    int rc = array_get(p, r->root, "loads", true, FLEET_REPORT_LOADS_MAX, &arr);

    if (rc == 0)
        rc = elements_parse(p, arr, sizeof(*r->loads), load_parse, (void **)&r->loads, &r->n_loads);
    return rc != 0 ? rc : loads_unique(p, r);
}

static int phones_parse(struct parse *p, struct fleet_report_doc *r)
{
    json_t *arr;
    int rc = array_get(p, r->root, "phones", false, FLEET_REPORT_PHONES_MAX, &arr);

    if (rc == 0)
        rc = elements_parse(p, arr, sizeof(*r->phones), phone_parse, (void **)&r->phones,
                            &r->n_phones);
    return rc;
}

/* "version": printable ASCII, 1..FLEET_VERSION_MAX - 1 bytes. */
static int version_parse(struct parse *p, struct fleet_report_doc *r)
{
    const char *v = member_string(p, r->root, "", "version");
    size_t len;

    if (v == NULL)
        return FLEET_JSON_INVALID;
    len = strlen(v);
    if (len == 0 || len >= FLEET_VERSION_MAX)
        return fail(p, FLEET_JSON_INVALID, "version: 1 to %d bytes", FLEET_VERSION_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
            return fail(p, FLEET_JSON_INVALID, "version: printable ASCII without spaces");
    memcpy(r->version, v, len + 1);
    return 0;
}

static int root_load(struct parse *p, const char *buf, size_t len, struct fleet_report_doc *r)
{
    json_error_t err;

    if (len > FLEET_REPORT_BODY_MAX)
        return fail(p, FLEET_JSON_TOO_LARGE, "the report is larger than 4 MiB");
    r->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (r->root == NULL)
        return fail(p, FLEET_JSON_MALFORMED, "malformed JSON at line %d column %d", err.line,
                    err.column);
    if (!json_is_object(r->root))
        return fail(p, FLEET_JSON_MALFORMED, "the report must be a JSON object");
    return 0;
}

int fleet_report_parse(const char *buf, size_t len, struct fleet_report_doc *out, char *why,
                       size_t why_cap)
{
    struct parse p = {why, why_cap};
    uint64_t time;
    int rc;

    memset(out, 0, sizeof(*out));
    if (why_cap > 0)
        why[0] = '\0';
    rc = root_load(&p, buf, len, out);
    if (rc == 0)
        rc = version_parse(&p, out);
    if (rc == 0)
        rc = member_count(&p, out->root, "", "time", true, 0, &time);
    if (rc == 0)
        rc = member_count(&p, out->root, "", "free_bytes", false, 0, &out->free_bytes);
    if (rc == 0)
        rc = loads_parse(&p, out);
    if (rc == 0)
        rc = phones_parse(&p, out);
    if (rc != 0) {
        fleet_report_doc_free(out);
        return rc;
    }
    out->time = (int64_t)time;
    return 0;
}

void fleet_report_doc_free(struct fleet_report_doc *r)
{
    free(r->loads);
    free(r->phones);
    json_decref(r->root);
    memset(r, 0, sizeof(*r));
}

/* ---- the answer, and its tag ---- */

int fleet_want_tag(const struct fleet_want *want, char out[FLEET_WANT_TAG_BUF])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int rc = -1;

    out[0] = '\0';
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto out;
    for (size_t i = 0; want != NULL && i < want->n; i++)
        if (EVP_DigestUpdate(md, want->loads[i], strlen(want->loads[i])) != 1 ||
            EVP_DigestUpdate(md, "\n", 1) != 1)
            goto out;
    if (EVP_DigestFinal_ex(md, digest, &len) != 1 || len < FLEET_WANT_TAG_LEN / 2)
        goto out;
    for (unsigned i = 0; i < FLEET_WANT_TAG_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    return rc;
}

/* One entity tag at *p (after optional whitespace and commas): true with
 * its opaque part [*start, *start + *len) and *p past it; false at the end
 * or where the value is malformed. */
static bool etag_next(const char **p, const char **start, size_t *len)
{
    const char *s = *p, *close;

    s += strspn(s, " \t,");
    if (s[0] == 'W' && s[1] == '/')
        s += 2;
    if (*s != '"' || (close = strchr(s + 1, '"')) == NULL)
        return false;
    *start = s + 1;
    *len = (size_t)(close - s - 1);
    *p = close + 1;
    return true;
}

bool fleet_etag_matches(const char *value, const char *tag)
{
    const char *p = value, *start;
    size_t len, tag_len = strlen(tag);

    if (value == NULL || strnlen(value, FLEET_INM_MAX + 1) > FLEET_INM_MAX)
        return false;
    if (value[strspn(value, " \t")] == '*')
        return true; /* any representation: there always is one */
    while (etag_next(&p, &start, &len))
        if (len == tag_len && memcmp(start, tag, len) == 0)
            return true;
    return false;
}

json_t *fleet_answer_json(const struct fleet_answer *a)
{
    json_t *j = json_pack("{s:s, s:o, s:I, s:I}", "branch", a->branch, "want",
                          branch_want_json(a->want), "report_every_s",
                          (json_int_t)a->report_every_s, "max_age_s", (json_int_t)a->max_age_s);

    if (j != NULL && a->want_tag != NULL &&
        (json_object_set_new(j, "want_tag", json_string(a->want_tag)) != 0 ||
         json_object_set_new(j, "want_poll_s", json_integer(a->want_poll_s)) != 0)) {
        json_decref(j);
        return NULL;
    }
    return j;
}
