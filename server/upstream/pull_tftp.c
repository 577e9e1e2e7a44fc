/* pull_tftp.c: a load's files from a tftp:// upstream: its .loads file
 * fetched, its signed header skipped and its list parsed (server/firmware's
 * parsers), then each listed file fetched by name. Checks no signature: the
 * import does, against this branch's trust store, before anything is served. */
#include "server/upstream/pull_tftp.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "server/firmware/loads_parse.h"
#include "server/firmware/sgn.h"

#define PULL_TFTP_LOADS_MAX (SGN_HEADER_MAX + LOADS_PAYLOAD_MAX) /* as the import reads it */
#define PULL_TFTP_PATH_MAX  (PATH_MAX + 64)

/* One fetch, its failure told with the (cleaned) name. */
static int fetch_named(const struct tftp_fetch_opts *o, const char *name, uint64_t max,
                       const char *path, uint64_t *got, char *why, size_t cap)
{
    struct tftp_fetch_opts one = *o;
    char err[UPSTREAM_ERR_MAX], shown[LOG_CLEAN_MAX];
    int rc;

    one.get.max_bytes = max;
    rc = tftp_fetch_file(&one, name, path, got, NULL, err, sizeof(err));
    if (rc != FETCH_OK)
        snprintf(why, cap, "tftp://%s:%u %s: %s", o->host, o->port,
                 log_clean(name, strlen(name), shown, sizeof(shown)), err);
    return rc;
}

/* The list inside a .loads file (after its signed header, when it has one). */
static int list_read(const char *path, const char *name, struct loads_list *list, char *why,
                     size_t cap)
{
    struct sgn_header hdr;
    const char *what = NULL;
    char *buf = NULL, shown[LOG_CLEAN_MAX];
    size_t len = 0, off = 0;
    unsigned line = 0;
    int rc = FETCH_FAILED;

    log_clean(name, strlen(name), shown, sizeof(shown));
    if (fileio_read_file(path, PULL_TFTP_LOADS_MAX, &buf, &len) != 0) {
        snprintf(why, cap, "%s: unreadable or over %u bytes", shown, PULL_TFTP_LOADS_MAX);
        return FETCH_LOCAL;
    }
    if (sgn_probe((const uint8_t *)buf, len)) {
        if (sgn_parse((const uint8_t *)buf, len, len, &hdr, &what) != SGN_OK) {
            snprintf(why, cap, "%s: malformed signed header: %s", shown, what);
            goto out;
        }
        off = hdr.header_len;
    }
    if (loads_parse((const uint8_t *)buf + off, len - off, list, &line, &what) != LOADS_OK) {
        snprintf(why, cap, "%s refused: line %u: %s", shown, line, what);
        goto out;
    }
    rc = FETCH_OK;
out:
    free(buf);
    return rc;
}

/* The manifest of a load as its list names it: the .loads file first. */
static int list_to_manifest(const char *load, uint64_t loads_size, const struct loads_list *list,
                            struct upstream_manifest *m)
{
    memset(m, 0, sizeof(*m));
    m->files = calloc(list->count + 1, sizeof(*m->files));
    if (m->files == NULL)
        return FETCH_LOCAL;
    snprintf(m->name, sizeof(m->name), "%s", load);
    snprintf(m->status, sizeof(m->status), "unknown");
    m->served = true;
    snprintf(m->files[0].name, sizeof(m->files[0].name), "%s.loads", load);
    m->files[0].size = loads_size;
    m->files[0].is_loads = true;
    m->total_bytes = loads_size;
    for (size_t i = 0; i < list->count; i++) {
        struct upstream_file *f = &m->files[i + 1];

        snprintf(f->name, sizeof(f->name), "%s", list->entries[i].name);
        f->size = list->entries[i].has_size ? list->entries[i].size : 0;
        f->optional = list->entries[i].extra;
        m->total_bytes += f->size;
    }
    m->n_files = list->count + 1;
    m->file_count = (unsigned)m->n_files;
    return FETCH_OK;
}

int pull_tftp_list(const struct tftp_fetch_opts *o, const char *load, const char *dir,
                   struct upstream_manifest *m, uint64_t *got, char *why, size_t cap)
{
    char name[RESOLVER_NAME_MAX + 1], path[PULL_TFTP_PATH_MAX];
    struct loads_list *list = NULL;
    struct stat st;
    int rc;

    memset(m, 0, sizeof(*m));
    *got = 0;
    if ((size_t)snprintf(name, sizeof(name), "%s.loads", load) >= sizeof(name) ||
        (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        snprintf(why, cap, "the load's name is too long");
        return FETCH_ABSENT;
    }
    rc = fetch_named(o, name, PULL_TFTP_LOADS_MAX, path, got, why, cap);
    if (rc != FETCH_OK)
        return rc;
    list = malloc(sizeof(*list));
    if (list == NULL || stat(path, &st) != 0) {
        snprintf(why, cap, "%s: %s", path, list == NULL ? "out of memory" : strerror(errno));
        free(list);
        return FETCH_LOCAL;
    }
    rc = list_read(path, name, list, why, cap);
    if (rc == FETCH_OK)
        rc = list_to_manifest(load, (uint64_t)st.st_size, list, m);
    free(list);
    return rc;
}

int pull_tftp_file(const struct tftp_fetch_opts *o, const struct upstream_file *f, const char *path,
                   uint64_t *got, char *why, size_t cap)
{
    struct stat st;

    *got = 0;
    /* A file lands here only whole (renamed in), and the spool is emptied
     * after an import refused it: what an earlier try left is the file. */
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        (f->size == 0 || (uint64_t)st.st_size == f->size))
        return FETCH_OK;
    return fetch_named(o, f->name,
                       f->size > 0 && f->size < UPSTREAM_FILE_SIZE_MAX ? f->size
                                                                       : UPSTREAM_FILE_SIZE_MAX,
                       path, got, why, cap);
}
