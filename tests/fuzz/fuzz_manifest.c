/* fuzz_manifest.c: libFuzzer target for upstream_manifest_parse(). Checks
 * that an accepted manifest holds only what a branch may fetch and serve as
 * it is, and that a refusal says why in printable ASCII; must not touch files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/upstream/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_manifest_plain_name(const char *name)
{
    char norm[RESOLVER_NAME_MAX + 1];

    return resolver_normalize(name, norm, sizeof(norm)) == RESOLVER_OK && strcmp(norm, name) == 0 &&
           strchr(name, '/') == NULL;
}

static bool fuzz_manifest_hex(const char *hex)
{
    return strlen(hex) == RESOLVER_HEX_LEN && strspn(hex, "0123456789abcdef") == RESOLVER_HEX_LEN;
}

static void fuzz_manifest_check(const struct upstream_manifest *m)
{
    uint64_t sum = 0;

    if (m->n_files > UPSTREAM_MANIFEST_FILES_MAX || !fuzz_manifest_plain_name(m->name))
        abort();
    if (!m->served && m->n_files != 0)
        abort();
    if (m->served && (m->n_files == 0 || !m->files[0].is_loads || m->file_count != m->n_files))
        abort();
    for (size_t i = 0; i < m->n_files; i++) {
        const struct upstream_file *f = &m->files[i];

        if (!fuzz_manifest_plain_name(f->name) || !fuzz_manifest_hex(f->sha256) ||
            f->size > UPSTREAM_FILE_SIZE_MAX || (i > 0 && f->is_loads))
            abort();
        if (upstream_manifest_find(m, f->name) != f)
            abort(); /* names are unique, ASCII case ignored */
        sum += f->size;
    }
    if (m->served && sum != m->total_bytes)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct upstream_manifest m;
    char err[128];

    if (upstream_manifest_parse((const char *)data, size, &m, err, sizeof(err)) != 0) {
        if (err[0] == '\0' || m.files != NULL || m.n_files != 0)
            abort();
        for (const char *p = err; *p != '\0'; p++)
            if (*p < 0x20 || *p > 0x7e)
                abort();
        return 0;
    }
    fuzz_manifest_check(&m);
    upstream_manifest_free(&m);
    return 0;
}
