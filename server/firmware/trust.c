/* trust.c: trust anchor changes and the re-evaluation that goes with them.
 * Loads' statuses are derived on read, so the change itself re-evaluates
 * them; this file records which changed, in the same transaction. */
#include "server/firmware/trust.h"

#include <stdio.h>
#include <string.h>

#include "db/catalog.h"
#include "db/db.h"
#include "server/firmware/sigcheck.h"

static int trust_end(sqlite3 *db, int rc)
{
    if (rc == DB_OK)
        return db_commit(db);
    db_rollback(db);
    return rc;
}

int trust_add(sqlite3 *db, struct blobstore *bs, const char *actor,
              const struct verify_cert_info *info, const char *role, const char *pem, int64_t *id,
              unsigned *changed)
{
    struct catalog_statuses before = {0};
    struct catalog_trust t;
    char cause[CATALOG_TEXT_MAX + 16];
    int rc = DB_OK;

    memset(&t, 0, sizeof(t));
    snprintf(t.role, sizeof(t.role), "%s", role);
    snprintf(t.subject, sizeof(t.subject), "%s", info->subject);
    snprintf(t.issuer, sizeof(t.issuer), "%s", info->issuer);
    snprintf(t.serial, sizeof(t.serial), "%s", info->serial_hex);
    snprintf(t.sha256, sizeof(t.sha256), "%s", info->sha256_hex);
    t.not_after = info->not_after;
    *changed = 0;
    /* The checks read blobs: before the transaction, which stays short. */
    if (strcmp(role, "vendor") == 0)
        rc = sigcheck_cert(db, bs, pem, info->sha256_hex, NULL);
    if (rc == DB_OK)
        rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    rc = catalog_statuses_get(db, &before);
    if (rc == DB_OK)
        rc = catalog_trust_add(db, &t, pem, id);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "trust.add", info->subject, NULL, role);
    snprintf(cause, sizeof(cause), "trust.add %s", info->subject);
    if (rc == DB_OK)
        rc = catalog_statuses_audit(db, actor, cause, &before, changed);
    catalog_statuses_free(&before);
    return trust_end(db, rc);
}

int trust_remove(sqlite3 *db, const char *actor, int64_t id, unsigned *changed)
{
    struct catalog_statuses before = {0};
    char object[24], cause[48];
    int rc = db_begin(db);

    *changed = 0;
    if (rc != DB_OK)
        return rc;
    snprintf(object, sizeof(object), "%lld", (long long)id);
    snprintf(cause, sizeof(cause), "trust.remove %lld", (long long)id);
    rc = catalog_statuses_get(db, &before);
    if (rc == DB_OK)
        rc = catalog_trust_remove(db, id);
    if (rc == DB_OK)
        rc = catalog_audit(db, actor, "trust.remove", object, NULL, NULL);
    if (rc == DB_OK)
        rc = catalog_statuses_audit(db, actor, cause, &before, changed);
    catalog_statuses_free(&before);
    return trust_end(db, rc);
}
