/* trust.h: adding and removing trust anchors, for the API and loadsctl
 * alike: the new certificate's checks against the stored files first, then
 * one transaction with the anchor, its audit record and the audit of every
 * load whose derived status changed with it (and the generation bump). */
#ifndef LOADSD_TRUST_H
#define LOADSD_TRUST_H

#include <sqlite3.h>
#include <stdint.h>

#include "db/blobstore.h"
#include "server/firmware/verify.h"

/* Adds pem (already parsed into info) with role "vendor" or "approval".
 * *id gets the anchor's id, *changed how many loads changed status or
 * served flag. 0, DB_CONFLICT when it is trusted already, or another
 * negative db_result. */
int trust_add(sqlite3 *db, struct blobstore *bs, const char *actor,
              const struct verify_cert_info *info, const char *role, const char *pem, int64_t *id,
              unsigned *changed);

/* Removes anchor id. 0, DB_NOT_FOUND, or another negative db_result. */
int trust_remove(sqlite3 *db, const char *actor, int64_t id, unsigned *changed);

#endif
