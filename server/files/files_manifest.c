/* files_manifest.c: the bodies of the file service's manifests: the list of
 * the catalog's loads and one load with its files, as JSON built from the
 * resolver's loads (the catalog snapshot), and their entity tags. Only what
 * another server needs to fetch a load by hash: never devices, keys or
 * settings. Never touches a socket. */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/files/files_internal.h"
#include "server/files/files_request.h"

/* What the list says of each load, and one load's manifest before its files. */
static json_t *load_summary(const struct resolver_load *l)
{
    return json_pack("{s:s, s:s, s:b, s:I, s:I}", "name", l->name, "status", l->status, "served",
                     l->served, "file_count", (json_int_t)l->file_count, "total_bytes",
                     (json_int_t)l->total_bytes);
}

static json_t *file_json(const struct resolver_load_file *f)
{
    return json_pack("{s:s, s:I, s:s, s:s}", "name", f->name, "size", (json_int_t)f->size, "sha256",
                     f->sha256, "role", f->is_loads ? "loads" : "component");
}

/* resolver_load_cb for the list: appends the load's summary to arg. */
static int list_add(void *arg, const struct resolver_load *l)
{
    json_t *j = load_summary(l);

    return j != NULL && json_array_append_new(arg, j) == 0 ? RESOLVER_OK : RESOLVER_IO;
}

/* resolver_load_cb for one load: its manifest in *arg. A load that is not
 * served has an empty file list (the resolver offers none of its files). */
static int load_manifest(void *arg, const struct resolver_load *l)
{
    json_t **out = arg, *files = json_array(), *j = load_summary(l);
    int rc = RESOLVER_IO;

    if (j == NULL || files == NULL)
        goto out;
    for (size_t i = 0; i < l->n_files; i++) {
        if (json_array_append_new(files, file_json(&l->files[i])) != 0)
            goto out;
    }
    if (json_object_set(j, "files", files) != 0)
        goto out;
    *out = j;
    j = NULL;
    rc = RESOLVER_OK;
out:
    json_decref(files);
    json_decref(j);
    return rc;
}

static int dump(json_t *j, char **body, size_t *len)
{
    *body = json_dumps(j, JSON_COMPACT);
    if (*body == NULL)
        return RESOLVER_IO;
    *len = strlen(*body);
    return RESOLVER_OK;
}

int files_manifest_body(struct resolver *r, const char *name, char **body, size_t *len)
{
    json_t *j = NULL, *loads;
    int rc;

    if (name != NULL) {
        rc = resolver_loads_each(r, name, load_manifest, &j);
    } else {
        loads = json_array();
        rc = loads != NULL ? resolver_loads_each(r, NULL, list_add, loads) : RESOLVER_IO;
        j = json_pack("{s:o}", "loads", loads); /* takes loads, also on failure */
        if (j == NULL && rc == RESOLVER_OK)
            rc = RESOLVER_IO;
    }
    if (rc == RESOLVER_OK)
        rc = dump(j, body, len);
    json_decref(j);
    return rc;
}

int files_manifest_etag(const char *body, size_t len, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char hex[FILES_HEX_LEN + 1];

    if (EVP_Digest(body, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len * 2 != FILES_HEX_LEN)
        return -1;
    for (unsigned i = 0; i < md_len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[FILES_HEX_LEN] = '\0';
    files_etag_format(hex, out, cap);
    return 0;
}
