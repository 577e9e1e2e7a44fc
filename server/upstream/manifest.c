/* manifest.c: parses and checks a central loadsd's load manifest (the JSON of
 * files_manifest.c) before a branch trusts any of it. Pure: no I/O, no logging;
 * its error texts never carry a byte of the input. */
#include "server/upstream/manifest.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/blobstore.h"
#include "lib/text.h"

#define LOADS_SUFFIX ".loads"

/* Where a member lies, for the error text: "name" or "files[3].name". */
struct where {
    const char *member;
    long index; /* -1: a member of the manifest itself */
};

static int fail_at(char *err, size_t cap, struct where w, const char *why)
{
    if (w.index < 0)
        return text_fail(err, cap, "%s: %s", w.member, why);
    return text_fail(err, cap, "files[%ld].%s: %s", w.index, w.member, why);
}

/* ASCII case ignored, whatever the locale (the catalog folds names so). */
static int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;

        if (ca >= 'A' && ca <= 'Z')
            ca += 'a' - 'A';
        if (cb >= 'A' && cb <= 'Z')
            cb += 'a' - 'A';
        if (ca != cb || ca == '\0')
            return ca - cb;
    }
}

/* The string member key of obj, or NULL with err set. */
static const char *get_string(json_t *obj, struct where w, char *err, size_t cap)
{
    json_t *v = json_object_get(obj, w.member);

    if (v == NULL)
        fail_at(err, cap, w, "missing");
    else if (!json_is_string(v))
        fail_at(err, cap, w, "not a string");
    else if (strlen(json_string_value(v)) != json_string_length(v))
        fail_at(err, cap, w, "holds a NUL");
    else
        return json_string_value(v);
    return NULL;
}

/* The integer member of obj, in 0..max. */
static int get_uint(json_t *obj, struct where w, uint64_t max, uint64_t *out, char *err, size_t cap)
{
    json_t *v = json_object_get(obj, w.member);
    json_int_t n;

    if (v == NULL)
        return fail_at(err, cap, w, "missing");
    if (!json_is_integer(v))
        return fail_at(err, cap, w, "not an integer");
    n = json_integer_value(v);
    if (n < 0 || (uint64_t)n > max)
        return fail_at(err, cap, w, "out of range");
    *out = (uint64_t)n;
    return 0;
}

/* A name the branch may store and serve as it is: resolver_normalize()
 * leaves it unchanged and it names no folder. */
static int copy_name(const char *in, struct where w, char out[RESOLVER_NAME_MAX + 1], char *err,
                     size_t cap)
{
    if (resolver_normalize(in, out, RESOLVER_NAME_MAX + 1) != RESOLVER_OK)
        return fail_at(err, cap, w, "not a file name");
    if (strcmp(in, out) != 0 || strchr(out, '/') != NULL)
        return fail_at(err, cap, w, "not a plain file name");
    return 0;
}

/* Statuses are short lowercase words (verified, signed, ...): safe to log. */
static int copy_status(const char *in, struct where w, char out[UPSTREAM_STATUS_MAX + 1], char *err,
                       size_t cap)
{
    size_t n = strlen(in);

    if (n == 0 || n > UPSTREAM_STATUS_MAX || strspn(in, "abcdefghijklmnopqrstuvwxyz") != n)
        return fail_at(err, cap, w, "not a status word");
    memcpy(out, in, n + 1);
    return 0;
}

static int parse_head(json_t *root, struct upstream_manifest *m, char *err, size_t cap)
{
    const struct where wn = {"name", -1}, ws = {"status", -1};
    json_t *served = json_object_get(root, "served");
    const char *s;
    uint64_t count;

    s = get_string(root, wn, err, cap);
    if (s == NULL || copy_name(s, wn, m->name, err, cap) != 0)
        return -1;
    s = get_string(root, ws, err, cap);
    if (s == NULL || copy_status(s, ws, m->status, err, cap) != 0)
        return -1;
    if (served == NULL)
        return text_fail(err, cap, "served: missing");
    if (!json_is_boolean(served))
        return text_fail(err, cap, "served: not a boolean");
    m->served = json_is_true(served);
    if (get_uint(root, (struct where){"file_count", -1}, UINT_MAX, &count, err, cap) != 0 ||
        get_uint(root, (struct where){"total_bytes", -1}, INT64_MAX, &m->total_bytes, err, cap) !=
            0)
        return -1;
    m->file_count = (unsigned)count;
    return 0;
}

static int parse_file(json_t *obj, long i, struct upstream_file *f, char *err, size_t cap)
{
    const char *name, *sha, *role;

    if (!json_is_object(obj))
        return text_fail(err, cap, "files[%ld]: not an object", i);
    name = get_string(obj, (struct where){"name", i}, err, cap);
    if (name == NULL || copy_name(name, (struct where){"name", i}, f->name, err, cap) != 0)
        return -1;
    if (get_uint(obj, (struct where){"size", i}, UPSTREAM_FILE_SIZE_MAX, &f->size, err, cap) != 0)
        return -1;
    sha = get_string(obj, (struct where){"sha256", i}, err, cap);
    if (sha == NULL)
        return -1;
    if (!blobstore_valid_hex(sha))
        return text_fail(err, cap, "files[%ld].sha256: not 64 lowercase hex digits", i);
    memcpy(f->sha256, sha, RESOLVER_HEX_LEN + 1);
    role = get_string(obj, (struct where){"role", i}, err, cap);
    if (role == NULL)
        return -1;
    if (strcmp(role, "loads") != 0 && strcmp(role, "component") != 0)
        return text_fail(err, cap, "files[%ld].role: neither \"loads\" nor \"component\"", i);
    f->is_loads = strcmp(role, "loads") == 0;
    return 0;
}

/* Two files with one name (ASCII case ignored): at most 512, so pairwise. */
static int check_unique(const struct upstream_manifest *m, char *err, size_t cap)
{
    for (size_t i = 1; i < m->n_files; i++)
        for (size_t j = 0; j < i; j++)
            if (ascii_casecmp(m->files[i].name, m->files[j].name) == 0)
                return text_fail(err, cap, "files[%zu].name: also files[%zu]'s", i, j);
    return 0;
}

static int parse_files(json_t *root, struct upstream_manifest *m, char *err, size_t cap)
{
    json_t *files = json_object_get(root, "files");
    size_t n;

    if (files == NULL)
        return text_fail(err, cap, "files: missing");
    if (!json_is_array(files))
        return text_fail(err, cap, "files: not an array");
    n = json_array_size(files);
    if (n > UPSTREAM_MANIFEST_FILES_MAX)
        return text_fail(err, cap, "files: over %d", UPSTREAM_MANIFEST_FILES_MAX);
    if (n > 0 && !m->served)
        return text_fail(err, cap, "files: listed for a load not served");
    if (n == 0)
        return 0;
    m->files = calloc(n, sizeof(*m->files));
    if (m->files == NULL)
        return text_fail(err, cap, "out of memory");
    for (; m->n_files < n; m->n_files++)
        if (parse_file(json_array_get(files, m->n_files), (long)m->n_files, &m->files[m->n_files],
                       err, cap) != 0)
            return -1;
    return check_unique(m, err, cap);
}

/* A served load has exactly one "loads" file, NAME.loads; it moves to the front. */
static int place_loads_file(struct upstream_manifest *m, char *err, size_t cap)
{
    char want[RESOLVER_NAME_MAX + sizeof(LOADS_SUFFIX)];
    size_t at = m->n_files, found = 0;
    struct upstream_file loads;

    for (size_t i = 0; i < m->n_files; i++)
        if (m->files[i].is_loads) {
            at = i;
            found++;
        }
    if (found != 1)
        return text_fail(err, cap, "files: %zu with role \"loads\", not 1", found);
    snprintf(want, sizeof(want), "%s%s", m->name, LOADS_SUFFIX);
    if (ascii_casecmp(m->files[at].name, want) != 0)
        return text_fail(err, cap, "files[%zu].name: not the load's name with \".loads\"", at);
    loads = m->files[at];
    memmove(&m->files[1], &m->files[0], at * sizeof(*m->files));
    m->files[0] = loads;
    return 0;
}

/* A served load's totals describe exactly the files listed. */
static int check_totals(const struct upstream_manifest *m, char *err, size_t cap)
{
    uint64_t sum = 0;

    if (m->file_count != m->n_files)
        return text_fail(err, cap, "file_count: %u, but %zu files", m->file_count, m->n_files);
    for (size_t i = 0; i < m->n_files; i++)
        sum += m->files[i].size; /* at most 512 * 4 GiB: no overflow */
    if (sum != m->total_bytes)
        return text_fail(err, cap, "total_bytes: not the sum of the files' sizes");
    return 0;
}

static int parse_root(json_t *root, struct upstream_manifest *m, char *err, size_t cap)
{
    if (!json_is_object(root))
        return text_fail(err, cap, "not a JSON object");
    if (parse_head(root, m, err, cap) != 0 || parse_files(root, m, err, cap) != 0)
        return -1;
    if (!m->served)
        return 0;
    if (place_loads_file(m, err, cap) != 0)
        return -1;
    return check_totals(m, err, cap);
}

int upstream_manifest_parse(const char *body, size_t len, struct upstream_manifest *out, char *err,
                            size_t cap)
{
    struct upstream_manifest m = {0};
    json_error_t jerr;
    json_t *root = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (err != NULL && cap > 0)
        err[0] = '\0';
    if (body == NULL) {
        text_fail(err, cap, "no body");
        goto out;
    }
    if (len > UPSTREAM_MANIFEST_BODY_MAX) {
        text_fail(err, cap, "body over %d bytes", UPSTREAM_MANIFEST_BODY_MAX);
        goto out;
    }
    /* jansson's own message may quote the input: only its position is kept. */
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        text_fail(err, cap, "%s (line %d, column %d)",
                  json_error_code(&jerr) == json_error_duplicate_key ? "a member twice"
                                                                     : "not JSON",
                  jerr.line, jerr.column);
        goto out;
    }
    if (parse_root(root, &m, err, cap) != 0)
        goto out;
    *out = m;
    m.files = NULL;
    rc = 0;
out:
    free(m.files);
    json_decref(root);
    return rc;
}

void upstream_manifest_free(struct upstream_manifest *m)
{
    if (m == NULL)
        return;
    free(m->files);
    memset(m, 0, sizeof(*m));
}

const struct upstream_file *upstream_manifest_find(const struct upstream_manifest *m,
                                                   const char *name)
{
    if (m == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < m->n_files; i++)
        if (ascii_casecmp(m->files[i].name, name) == 0)
            return &m->files[i];
    return NULL;
}
