/* sigcheck.c: re-checks stored files' signed headers against a certificate:
 * reads each blob's header (sgn.c), asks verify.c, keeps the answers in
 * memory, then records them in one short transaction. */
#include "server/firmware/sigcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/catalog.h"
#include "db/db.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "lib/sizes.h"
#include "server/firmware/sgn.h"
#include "server/firmware/verify.h"

struct pending {
    struct catalog_file *v;
    size_t n, cap;
    const char **result; /* per file: "ok", "bad", "not_signer" or NULL */
};

static int collect(void *arg, const struct catalog_file *f)
{
    struct pending *p = arg;

    if (grow_array((void **)&p->v, &p->cap, p->n + 1, sizeof(*p->v), 64) != 0)
        return DB_ERROR;
    p->v[p->n++] = *f;
    return 0;
}

const char *sigcheck_one(int fd, uint64_t size, const struct sgn_header *h, const char *cert_pem)
{
    size_t len = strlen(cert_pem);
    int rc;

    if (!verify_sgn_is_signer(h, cert_pem, len))
        return "not_signer";
    rc = verify_sgn_signature(fd, size, h, cert_pem, len);
    if (rc == VERIFY_IO)
        return NULL;
    /* A signer the certificate names whose signature cannot be checked
     * (an unsupported digest, a key of another size) is not verified. */
    return rc == VERIFY_OK ? "ok" : "bad";
}

/* Reads the header of one blob and checks it; NULL when it cannot be read. */
static const char *check_blob(struct blobstore *bs, const struct catalog_file *f, const char *pem,
                              uint8_t *buf)
{
    struct sgn_header *h = calloc(1, sizeof(*h));
    const char *why, *result = NULL;
    ssize_t n = -1;
    int fd = -1;

    if (h != NULL && blobstore_open_blob(bs, f->sha256, &fd) == 0)
        n = pread(fd, buf, SGN_HEADER_MAX, 0);
    if (n > 0 && sgn_parse(buf, (size_t)n, f->size, h, &why) == SGN_OK)
        result = sigcheck_one(fd, f->size, h, pem);
    else if (n > 0)
        log_warn("%s: its signed header no longer parses: %s", f->name, why);
    if (fd >= 0)
        close(fd);
    free(h);
    return result;
}

static int record(sqlite3 *db, const struct pending *p, const char *cert_sha256)
{
    int rc = db_begin(db);

    for (size_t i = 0; rc == DB_OK && i < p->n; i++)
        if (p->result[i] != NULL)
            rc = catalog_sig_check_put(db, p->v[i].sha256, cert_sha256, p->result[i]);
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    return rc;
}

int sigcheck_cert(sqlite3 *db, struct blobstore *bs, const char *pem, const char *cert_sha256,
                  unsigned *checked)
{
    struct pending p = {0};
    uint8_t *buf = NULL;
    int rc = catalog_sig_unchecked_each(db, cert_sha256, collect, &p);

    if (checked != NULL)
        *checked = 0;
    if (rc != DB_OK || p.n == 0)
        goto out;
    rc = DB_ERROR;
    p.result = calloc(p.n, sizeof(*p.result));
    buf = malloc(SGN_HEADER_MAX);
    if (p.result == NULL || buf == NULL)
        goto out;
    for (size_t i = 0; i < p.n; i++)
        p.result[i] = check_blob(bs, &p.v[i], pem, buf);
    rc = record(db, &p, cert_sha256);
    if (rc == DB_OK && checked != NULL)
        *checked = (unsigned)p.n;
out:
    free(buf);
    free(p.result);
    free(p.v);
    return rc;
}

struct cert_list {
    char **pem;
    char (*sha)[SHA256_HEX_BUF];
    size_t n, cap_pem, cap_sha;
};

static int collect_cert(void *arg, const struct catalog_trust *t)
{
    struct cert_list *l = arg;

    if (t->pem == NULL)
        return 0;
    if (grow_array((void **)&l->pem, &l->cap_pem, l->n + 1, sizeof(*l->pem), 8) != 0 ||
        grow_array((void **)&l->sha, &l->cap_sha, l->n + 1, sizeof(*l->sha), 8) != 0)
        return DB_ERROR;
    l->pem[l->n] = strdup(t->pem);
    if (l->pem[l->n] == NULL)
        return DB_ERROR;
    snprintf(l->sha[l->n], sizeof(l->sha[l->n]), "%s", t->sha256);
    l->n++;
    return 0;
}

int sigcheck_trusted(sqlite3 *db, struct blobstore *bs, unsigned *checked)
{
    struct cert_list l = {0};
    unsigned one;
    int rc = catalog_trust_each(db, "vendor", collect_cert, &l);

    if (checked != NULL)
        *checked = 0;
    for (size_t i = 0; rc == DB_OK && i < l.n; i++) {
        rc = sigcheck_cert(db, bs, l.pem[i], l.sha[i], &one);
        if (rc == DB_OK && checked != NULL)
            *checked += one;
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.pem[i]);
    free(l.pem);
    free(l.sha);
    return rc;
}
