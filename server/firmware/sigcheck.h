/* sigcheck.h: checks the signed headers of stored files against trusted
 * certificates (reading the blobs) and records each result as a fact
 * (sig_checks): for a certificate just added, and for every trusted one at
 * a verify. Statuses are derived from these facts on read (catalog.c). */
#ifndef LOADSD_SIGCHECK_H
#define LOADSD_SIGCHECK_H

#include <sqlite3.h>
#include <stdint.h>

#include "db/blobstore.h"
#include "server/firmware/sgn.h"

/* Checks every stored file with a signed header that has no result yet
 * against the certificate pem (fingerprint cert_sha256), then records the
 * results in one transaction of its own (call it outside a transaction).
 * *checked (may be NULL) gets how many files were checked. 0 or a negative
 * db_result. */
int sigcheck_cert(sqlite3 *db, struct blobstore *bs, const char *pem, const char *cert_sha256,
                  unsigned *checked);

/* The same for every vendor certificate of the trust store. */
int sigcheck_trusted(sqlite3 *db, struct blobstore *bs, unsigned *checked);

/* The result word a check of header h against cert_pem gives, from the file
 * read through fd (size bytes): "ok", "bad" or "not_signer"; NULL when the
 * file could not be read (no fact: try again later). */
const char *sigcheck_one(int fd, uint64_t size, const struct sgn_header *h, const char *cert_pem);

#endif
