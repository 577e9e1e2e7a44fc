/* catalog.h: rows of the firmware catalog: files, loads, trust anchors,
 * imports, settings and the audit trail. Prepared statements only; a caller
 * that needs several writes to land together wraps them in db_begin/db_commit. */
#ifndef LOADSD_CATALOG_H
#define LOADSD_CATALOG_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "lib/sizes.h"

#define CATALOG_NAME_MAX 256 /* file and load names, NUL included */
#define CATALOG_TEXT_MAX 256

struct catalog_file {
    int64_t id;
    char name[CATALOG_NAME_MAX];
    uint64_t size;
    char sha256[SHA256_HEX_BUF];
    char status[16]; /* ok | quarantined */
    /* Derived on every read from the stored checks and the trust store now:
     * verified (verifies against a trusted certificate), signed (a signed
     * header, signer not trusted), bad (fails against a trusted
     * certificate), none (no signed header). A write takes "none" or
     * anything else for "has a signed header". */
    char signature[16];
    char signer[CATALOG_TEXT_MAX];     /* the header's subject */
    char sig_serial[130];              /* the header's signer serial, hex */
    char sig_issuer[CATALOG_TEXT_MAX]; /* the header's issuer */
    char sig_hash[8];                  /* sha1 | sha256 | sha512, "" without header */
};

struct catalog_load {
    int64_t id;
    char name[CATALOG_NAME_MAX]; /* without ".loads" */
    /* Derived on every read (sigstatus.h) from the files' facts and the
     * trust store now: status verified | signed | partial | unsigned |
     * invalid | quarantined; signature: the same ignoring quarantine. */
    char status[16];
    char signature[16];
    bool served;     /* the signature policy now lets phones have it */
    bool policy_ok;  /* the same ignoring quarantine: its intact files may be served */
    char policy[16]; /* that policy */
    char culprit[CATALOG_NAME_MAX]; /* the weakest file (quarantined, bad, unsigned), or "" */
    char signer[CATALOG_TEXT_MAX];  /* the .loads file's signer */
    char approved_by[CATALOG_TEXT_MAX];
    char approval_cert[SHA256_HEX_BUF]; /* fingerprint of the approval certificate, or "" */
    int64_t created_at;
    int64_t import_id;
    char
        origin[CATALOG_TEXT_MAX]; /* its import's source: "upstream URL", or a bundle's file name */
    unsigned file_count;          /* the .loads file and its components */
    uint64_t total_size;
};

struct catalog_trust {
    int64_t id;
    char role[16]; /* vendor | approval */
    char subject[CATALOG_TEXT_MAX];
    char issuer[CATALOG_TEXT_MAX];
    char serial[130];
    char sha256[SHA256_HEX_BUF];
    int64_t not_after;
    const char *pem; /* valid only inside the callback */
};

/* Case folding for names (ASCII; the TFTP namespace is case-insensitive). */
void catalog_fold(const char *in, char *out, size_t cap);

/* Files. find: case-insensitive; 0 or DB_NOT_FOUND. */
int catalog_file_find(sqlite3 *db, const char *name, struct catalog_file *out);
/* Inserts f, or points an existing name at new bytes (status back to ok). */
int catalog_file_put(sqlite3 *db, const struct catalog_file *f, int64_t *id);
/* Marks every file with these bytes (quarantined or ok). Returns the count. */
int catalog_file_set_status(sqlite3 *db, const char *sha256, const char *status, int *changed);
int catalog_file_checked(sqlite3 *db, const char *sha256);
/* Every file (load_name NULL) or a load's files, by name. The callback
 * returns 0 to go on, anything else to stop (returned). */
int catalog_files_each(sqlite3 *db, const char *load_name,
                       int (*cb)(void *arg, const struct catalog_file *f), void *arg);
/* Files no load lists any more are removed (after a load's removal). */
int catalog_files_prune(sqlite3 *db, int *removed);
/* True when some file row refers to these bytes. */
int catalog_blob_referenced(sqlite3 *db, const char *sha256, bool *out);
/* True when gc may remove these bytes: this catalog once referenced them
 * (released_blobs, filled by triggers when a file row goes or changes its
 * bytes) and no file refers to them now. A blob never referenced is not. */
int catalog_blob_collectable(sqlite3 *db, const char *sha256, bool *out);
/* Records bytes gc may remove once no file refers to them: each blob an
 * import stores (published or not), and orphans released on purpose
 * (loadsctl recover --release). */
int catalog_blob_release(sqlite3 *db, const char *sha256);
/* Forgets releases older than before: a gc that started then has removed
 * those blobs, or they are referenced again. */
int catalog_released_prune(sqlite3 *db, int64_t before);

/* Loads. */
int catalog_load_find(sqlite3 *db, const char *name, struct catalog_load *out);
/* Inserts or replaces the load l (by name), listing file_ids[0..n). */
int catalog_load_put(sqlite3 *db, const struct catalog_load *l, int64_t loads_file_id,
                     const int64_t *file_ids, size_t n, int64_t *id);
int catalog_load_remove(sqlite3 *db, const char *name);

/* A load's .loads file was served at `at` (Unix time): the upstream quota's
 * recency. */
struct catalog_use {
    char name[CATALOG_NAME_MAX];
    int64_t at;
};
/* Records when each load was last used (later times win), in one
 * transaction that does not move the generation. 0 or a negative db_result;
 * nothing is written on failure. */
int catalog_loads_used(sqlite3 *db, const struct catalog_use *v, size_t n);
int catalog_loads_each(sqlite3 *db, int (*cb)(void *arg, const struct catalog_load *l), void *arg);

/* Every load's status and whether it is served, to compare before and after
 * a change of the trust store or the policy. */
struct catalog_status {
    char name[CATALOG_NAME_MAX];
    char status[16];
    bool served;
};
struct catalog_statuses {
    struct catalog_status *v;
    size_t n, cap;
};
int catalog_statuses_get(sqlite3 *db, struct catalog_statuses *out);
void catalog_statuses_free(struct catalog_statuses *s);
/* Compares the loads now with before and, when one changed, records one
 * audit row (action "loads.reevaluate", object cause, after: a JSON array
 * of {"load","before","after","served"}). *changed (may be NULL) gets how
 * many changed. Inside the caller's transaction. */
int catalog_statuses_audit(sqlite3 *db, const char *actor, const char *cause,
                           const struct catalog_statuses *before, unsigned *changed);

/* Signature checks: result ok | bad | not_signer of the file bytes sha256
 * against the certificate cert_sha256 (insert or replace). */
int catalog_sig_check_put(sqlite3 *db, const char *sha256, const char *cert_sha256,
                          const char *result);

/* Files with a signed header not yet checked against the certificate
 * cert_sha256 (one per distinct bytes): the callback gets name, sha256 and
 * size filled. */
int catalog_sig_unchecked_each(sqlite3 *db, const char *cert_sha256,
                               int (*cb)(void *arg, const struct catalog_file *f), void *arg);

/* Trust anchors. */
int catalog_trust_add(sqlite3 *db, const struct catalog_trust *t, const char *pem, int64_t *id);
int catalog_trust_remove(sqlite3 *db, int64_t id);
/* role NULL: every anchor. */
int catalog_trust_each(sqlite3 *db, const char *role,
                       int (*cb)(void *arg, const struct catalog_trust *t), void *arg);

/* Imports (jobs). state: queued | running | done | failed. */
int catalog_import_start(sqlite3 *db, const char *source, const char *actor, int64_t *id);
int catalog_import_finish(sqlite3 *db, int64_t id, const char *state, const char *report_json);
/* Imports left "running" by a crash become "failed". */
int catalog_imports_recover(sqlite3 *db, int *changed);

/* Settings (key/value text). */
int catalog_setting_get(sqlite3 *db, const char *key, char *out, size_t cap);
int catalog_setting_set(sqlite3 *db, const char *key, const char *value);

/* One audit record; before/after may be NULL. */
int catalog_audit(sqlite3 *db, const char *actor, const char *action, const char *object,
                  const char *before, const char *after);

/* An audit record as read; the texts are valid only inside the callback
 * and NULL where the column is. */
struct catalog_audit_entry {
    int64_t id;
    int64_t at;
    const char *actor, *action, *object, *before, *after;
};

/* Which records catalog_audit_each reads: ids below before, newest first,
 * at most limit; actor (exact) and action_prefix NULL: any. */
struct catalog_audit_query {
    int64_t before;
    const char *actor;
    const char *action_prefix;
    unsigned limit;
};

/* The callback returns 0 to go on, anything else to stop (returned). */
int catalog_audit_each(sqlite3 *db, const struct catalog_audit_query *q,
                       int (*cb)(void *arg, const struct catalog_audit_entry *e), void *arg);
/* How many records of action there are, and when the newest was (*last_at
 * 0 when there is none). */
int catalog_audit_count(sqlite3 *db, const char *action, int64_t *count, int64_t *last_at);

#endif
