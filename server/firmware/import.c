/* import.c: one bundle import: stream every file into the blob store, check
 * the bundle (names, headers, completeness, signatures, policy, conflicts),
 * then publish it in a single transaction. Until that commit nothing is
 * visible; a crash leaves at most unreferenced blobs, which gc removes. */
#include "server/firmware/import.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db/catalog.h"
#include "db/db.h"
#include "db/model/settings.h"
#include "db/model/sigstatus.h"
#include "lib/fileio.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "lib/sizes.h"
#include "server/firmware/loads_parse.h"
#include "server/firmware/sgn.h"
#include "server/firmware/sigcheck.h"
#include "server/firmware/unpack.h"
#include "server/firmware/verify.h"

#define COPY_CHUNK     (1u << 20)
#define LOADS_FILE_MAX (SGN_HEADER_MAX + LOADS_PAYLOAD_MAX) /* header + list */
#define APPROVAL_MAX   (64 * 1024)
#define TRUST_MAX      256

/* One file of the bundle, stored as a blob and waiting for publication. */
struct staged {
    char name[CATALOG_NAME_MAX];
    struct blob_info blob;
    bool has_header;
    struct sgn_header *hdr; /* when has_header and it parsed */
    const char *header_error;
    uint8_t *loads_data; /* the whole file, for .loads files */
    size_t loads_len;
    char signature[16]; /* verified | signed | none */
    char signer[CATALOG_TEXT_MAX];
    const char **checks; /* per vendor certificate: "ok", "not_signer" (or NULL) */
    bool listed;         /* a .loads of the bundle lists it */
    int64_t file_id;
};

/* A load found in the bundle: its .loads file and what it lists. */
struct load_plan {
    struct staged *loads_file;
    char name[CATALOG_NAME_MAX];
    char signature[16];
    char signer[CATALOG_TEXT_MAX];
    struct staged **parts; /* listed files from the bundle */
    size_t n_parts;
    int64_t *catalog_ids; /* listed files already in the catalog */
    size_t n_catalog;
    unsigned catalog_verified, catalog_unsigned; /* of those */
};

struct import_ctx {
    sqlite3 *db;
    struct blobstore *bs;
    const struct import_options *opt;
    struct staged *files;
    size_t n_files, cap_files;
    struct load_plan *loads;
    size_t n_loads;
    uint8_t *buf;  /* COPY_CHUNK */
    uint8_t *head; /* LOADS_FILE_MAX: the start of the current entry */
    char *vendor_pems[TRUST_MAX];
    char vendor_sha[TRUST_MAX][SHA256_HEX_BUF];
    size_t n_vendor;
    char *approval_pems[TRUST_MAX];
    size_t n_approval;
    char approved_by[CATALOG_TEXT_MAX];
    char approval_sha[SHA256_HEX_BUF]; /* the approving certificate's fingerprint */
    char policy[16];
    int64_t import_id;
    json_t *report, *problems, *warnings, *changes;
    struct import_progress prog;
    int store_error; /* a blob store failure (e.g. -ENOSPC): an error, not a refusal */
};

/* ---- test hook: SIGKILL at the Nth crash point (LOADSD_TEST_CRASHPOINT=N) ---- */

static void crashpoint(void)
{
    static long target = -1, seen;
    uint64_t v;

    if (target == -1) {
        const char *s = getenv("LOADSD_TEST_CRASHPOINT");

        target = s != NULL && numparse_u64(s, 1, 1000000, &v) == 0 ? (long)v : 0;
    }
    if (target > 0 && ++seen == target)
        raise(SIGKILL);
}

/* ---- report ---- */

static void problem(struct import_ctx *c, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct import_ctx *c, const char *file, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(c->problems, json_pack("{s:s, s:s}", "file", file, "message", msg));
}

static void warning(struct import_ctx *c, const char *file, const char *msg)
{
    json_array_append_new(c->warnings, json_pack("{s:s, s:s}", "file", file, "message", msg));
}

static void progress(struct import_ctx *c, const char *phase)
{
    c->prog.phase = phase;
    if (c->opt->progress != NULL)
        c->opt->progress(c->opt->progress_arg, &c->prog);
}

/* ---- staging: every entry streams into the blob store ---- */

static bool name_has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);

    return n > m && strcasecmp(name + n - m, suffix) == 0;
}

static struct staged *staged_find(struct import_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->n_files; i++)
        if (strcasecmp(c->files[i].name, name) == 0)
            return &c->files[i];
    return NULL;
}

static struct staged *staged_add(struct import_ctx *c, const char *name)
{
    struct staged *s;

    if (grow_array((void **)&c->files, &c->cap_files, c->n_files + 1, sizeof(*s), 32) != 0)
        return NULL;
    s = &c->files[c->n_files++];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->signature, sizeof(s->signature), "none");
    return s;
}

/* Looks at the start of a stored file: its signed header, and the whole of a
 * .loads file. */
static int staged_inspect(struct import_ctx *c, struct staged *s, size_t head_len)
{
    size_t avail = head_len < SGN_HEADER_MAX ? head_len : SGN_HEADER_MAX;

    s->has_header = sgn_probe(c->head, avail);
    if (s->has_header) {
        s->hdr = calloc(1, sizeof(*s->hdr));
        if (s->hdr == NULL)
            return -ENOMEM;
        if (sgn_parse(c->head, avail, s->blob.size, s->hdr, &s->header_error) != SGN_OK) {
            free(s->hdr);
            s->hdr = NULL;
        }
    }
    if (!name_has_suffix(s->name, ".loads"))
        return 0;
    if (s->blob.size > LOADS_FILE_MAX) {
        s->header_error = "too large for a .loads file";
        return 0;
    }
    s->loads_data = malloc(head_len ? head_len : 1);
    if (s->loads_data == NULL)
        return -ENOMEM;
    memcpy(s->loads_data, c->head, head_len);
    s->loads_len = head_len;
    return 0;
}

/* Stored by this catalog's import: recorded before the blob takes its name,
 * so gc may take it back once no file refers to it (the import refused, or
 * crashed, or a later import replaced it). */
static int blob_record(void *arg, const char *hex)
{
    return catalog_blob_release(arg, hex) == DB_OK ? 0 : -EIO;
}

/* Streams one entry into a blob, keeping its first bytes in c->head. */
static int stage_copy(struct import_ctx *c, struct unpack_stream *in, struct staged *s,
                      size_t *head_len, char *why, size_t why_cap)
{
    struct blob_writer *w = NULL;
    long n;
    int rc = blobstore_writer_open(c->bs, &w);

    *head_len = 0;
    while (rc == 0 && (n = unpack_stream_read(in, c->buf, COPY_CHUNK)) > 0) {
        size_t keep = LOADS_FILE_MAX - *head_len;

        if (keep > (size_t)n)
            keep = (size_t)n;
        memcpy(c->head + *head_len, c->buf, keep);
        *head_len += keep;
        rc = blobstore_writer_write(w, c->buf, (size_t)n);
        c->prog.bytes_read += (uint64_t)n;
        progress(c, "unpacking");
    }
    if (rc == 0 && n < 0)
        rc = -EIO; /* unpack says why; it takes precedence */
    if (rc != 0) {
        if (rc != -EIO)
            snprintf(why, why_cap, "%s: cannot store: %s", s->name, strerror(-rc));
        blobstore_writer_abort(w);
        return rc;
    }
    return blobstore_writer_commit_hook(w, &s->blob, blob_record, c->db);
}

static int stage_entry(void *arg, const struct unpack_entry *e, struct unpack_stream *in, char *why,
                       size_t why_cap)
{
    struct import_ctx *c = arg;
    struct staged *s, *dup = staged_find(c, e->name);
    size_t head_len;
    int rc;

    if (dup != NULL) {
        snprintf(why, why_cap,
                 "%s: the name appears twice in the bundle (as %s too; file"
                 " names are case-insensitive and folders do not count)",
                 e->path, dup->name);
        return -1;
    }
    s = staged_add(c, e->name);
    if (s == NULL)
        return -ENOMEM;
    rc = stage_copy(c, in, s, &head_len, why, why_cap);
    if (rc == 0)
        rc = staged_inspect(c, s, head_len);
    if (rc != 0) {
        if (rc != -EIO)
            c->store_error = rc;
        c->n_files--;
        return rc;
    }
    c->prog.files_stored++;
    crashpoint();
    return 0;
}

static const char *source_name(const struct import_options *opt);

/* The name a report gives paths[i]: the upload's own file name or the last
 * component, never a server path (such as the upload's spool file). */
static const char *bundle_name(const struct import_options *opt, size_t i)
{
    const char *slash = strrchr(opt->paths[i], '/');

    if (i == 0)
        return source_name(opt);
    return slash ? slash + 1 : opt->paths[i];
}

static int stage_all(struct import_ctx *c)
{
    char why[UNPACK_WHY_MAX];

    for (size_t i = 0; i < c->opt->n_paths; i++) {
        int rc = unpack_walk(c->opt->paths[i], stage_entry, c, why, sizeof(why));

        if (rc != UNPACK_OK) {
            problem(c, bundle_name(c->opt, i), "%s", why[0] ? why : "cannot read the bundle");
            return c->store_error != 0 ? IMPORT_ERROR : IMPORT_REFUSED;
        }
    }
    c->prog.files_total = (unsigned)c->n_files;
    return IMPORT_OK;
}

/* ---- trust and policy ---- */

static int collect_pem(void *arg, const struct catalog_trust *t)
{
    struct import_ctx *c = arg;
    bool vendor = strcmp(t->role, "vendor") == 0;
    char **slot = vendor ? &c->vendor_pems[c->n_vendor] : &c->approval_pems[c->n_approval];
    size_t *n = vendor ? &c->n_vendor : &c->n_approval;

    if (*n >= TRUST_MAX || t->pem == NULL)
        return 0;
    *slot = strdup(t->pem);
    if (*slot == NULL)
        return DB_ERROR;
    if (vendor)
        snprintf(c->vendor_sha[*n], sizeof(c->vendor_sha[*n]), "%s", t->sha256);
    (*n)++;
    return 0;
}

static int load_trust(struct import_ctx *c)
{
    if (catalog_setting_get(c->db, "signature_policy", c->policy, sizeof(c->policy)) != DB_OK)
        snprintf(c->policy, sizeof(c->policy), "signed");
    return catalog_trust_each(c->db, NULL, collect_pem, c);
}

/* ---- checks ---- */

/* Checks the header against every trusted vendor certificate (the blob
 * opened once); the answers become facts at publication. */
static void check_signers(struct import_ctx *c, struct staged *s)
{
    int fd = -1;

    s->checks = calloc(c->n_vendor ? c->n_vendor : 1, sizeof(*s->checks));
    if (s->checks == NULL || blobstore_open_blob(c->bs, s->blob.hex, &fd) != 0) {
        problem(c, s->name, "cannot check the signature: out of memory or unreadable blob");
        goto out;
    }
    for (size_t i = 0; i < c->n_vendor; i++) {
        s->checks[i] = sigcheck_one(fd, s->blob.size, s->hdr, c->vendor_pems[i]);
        if (s->checks[i] == NULL || strcmp(s->checks[i], "bad") == 0) {
            problem(c, s->name, "signature check against the trusted certificate %.16s... failed",
                    c->vendor_sha[i]);
            goto out;
        }
        if (strcmp(s->checks[i], "ok") == 0)
            snprintf(s->signature, sizeof(s->signature), "verified");
    }
out:
    if (fd >= 0)
        close(fd);
}

/* Checks a file's signed header: well formed, names this file, and against
 * every trusted certificate that names its signer, the signature verifies. */
static void check_header(struct import_ctx *c, struct staged *s)
{
    if (!s->has_header)
        return;
    if (s->hdr == NULL) {
        problem(c, s->name, "malformed signed header: %s", s->header_error);
        return;
    }
    if (strcasecmp(s->hdr->filename, s->name) != 0) {
        problem(c, s->name, "its signed header names \"%s\", not this file", s->hdr->filename);
        return;
    }
    snprintf(s->signer, sizeof(s->signer), "%s", s->hdr->subject);
    snprintf(s->signature, sizeof(s->signature), "signed");
    check_signers(c, s);
}

static int plan_add_part(struct import_ctx *c, struct load_plan *p, const struct loads_entry *e)
{
    struct staged *s = staged_find(c, e->name);
    struct catalog_file f;

    if (s != NULL) {
        if (e->has_size && e->size != s->blob.size)
            problem(c, p->loads_file->name, "lists %s with %llu bytes, but the file has %llu",
                    e->name, (unsigned long long)e->size, (unsigned long long)s->blob.size);
        s->listed = true;
        p->parts[p->n_parts++] = s;
        return 0;
    }
    if (catalog_file_find(c->db, e->name, &f) == DB_OK) {
        if (strcmp(f.status, "ok") != 0)
            problem(c, p->loads_file->name, "lists %s, which is in the catalog but quarantined",
                    e->name);
        if (strcmp(f.signature, "bad") == 0)
            problem(c, p->loads_file->name,
                    "lists %s, which is in the catalog with a signature that fails against"
                    " a trusted certificate",
                    e->name);
        p->catalog_verified += strcmp(f.signature, "verified") == 0;
        p->catalog_unsigned += strcmp(f.signature, "none") == 0;
        p->catalog_ids[p->n_catalog++] = f.id;
        return 0;
    }
    if (e->extra)
        return 0; /* "#+" lines name optional extras */
    problem(c, p->loads_file->name, "lists %s, which is not in the bundle", e->name);
    return 0;
}

static int plan_load(struct import_ctx *c, struct staged *s, struct load_plan *p)
{
    struct loads_list *list = malloc(sizeof(*list));
    size_t off = s->hdr != NULL ? s->hdr->header_len : 0;
    const char *why;
    unsigned line;
    int rc = -ENOMEM;

    memset(p, 0, sizeof(*p));
    p->loads_file = s;
    snprintf(p->name, sizeof(p->name), "%.*s", (int)(strlen(s->name) - strlen(".loads")), s->name);
    if (list == NULL)
        goto out;
    rc = 0;
    /* One name rule: a load the settings could never assign stays out. */
    if (!settings_load_name_valid(p->name)) {
        problem(c, s->name,
                "\"%s\" is not a load name (printable ASCII without spaces, slashes or"
                " markup characters)",
                p->name);
        goto out;
    }
    if (s->loads_data == NULL || (s->has_header && s->hdr == NULL))
        goto out; /* already reported */
    if (loads_parse(s->loads_data + off, s->loads_len - off, list, &line, &why) != LOADS_OK) {
        problem(c, s->name, "line %u: %s", line, why);
        goto out;
    }
    p->parts = calloc(list->count, sizeof(*p->parts));
    p->catalog_ids = calloc(list->count, sizeof(*p->catalog_ids));
    if (p->parts == NULL || p->catalog_ids == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < list->count && rc == 0; i++)
        rc = plan_add_part(c, p, &list->entries[i]);
out:
    free(list);
    return rc;
}

/* The facts of a planned load, as catalog.c counts them for a stored one. */
static void plan_facts(const struct import_ctx *c, const struct load_plan *p,
                       struct sigstatus_facts *f, const char **unsigned_name)
{
    const struct staged *s = p->loads_file;

    memset(f, 0, sizeof(*f));
    *unsigned_name = NULL;
    f->files = (unsigned)(1 + p->n_parts + p->n_catalog);
    f->loads_signed = s->has_header;
    f->approved = c->approved_by[0] != '\0';
    f->verified = p->catalog_verified + (strcmp(s->signature, "verified") == 0);
    f->unsigned_ = p->catalog_unsigned + !s->has_header;
    for (size_t i = 0; i < p->n_parts; i++) {
        f->verified += strcmp(p->parts[i]->signature, "verified") == 0;
        if (!p->parts[i]->has_header) {
            f->unsigned_++;
            if (*unsigned_name == NULL)
                *unsigned_name = p->parts[i]->name;
        }
    }
}

/* The status a load gets (the weakest file decides), and whether the policy
 * lets it in. */
static void plan_status(struct import_ctx *c, struct load_plan *p)
{
    struct staged *s = p->loads_file;
    struct sigstatus_facts facts;
    const char *unsigned_name, *st;

    plan_facts(c, p, &facts, &unsigned_name);
    st = sigstatus_name(sigstatus_derive(&facts));
    snprintf(p->signature, sizeof(p->signature), "%s", st);
    snprintf(p->signer, sizeof(p->signer), "%s", s->signer);
    if (sigstatus_allowed(sigstatus_derive(&facts), c->policy))
        return;
    if (strcmp(st, "unsigned") == 0 && strcmp(c->policy, "signed") == 0)
        problem(c, s->name,
                "the signature policy is \"signed\", and this .loads file has no"
                " signed header");
    else if (strcmp(st, "partial") == 0)
        problem(c, s->name,
                "the signature policy is \"%s\", and this load is partial: %s (and maybe"
                " more) has no signed header, so it cannot be verified (import with an"
                " approval signature)",
                c->policy, unsigned_name ? unsigned_name : "a component in the catalog");
    else
        problem(c, s->name,
                "the signature policy is \"%s\", and this load is %s (add the"
                " signer's certificate to the trust store, or import with an approval"
                " signature)",
                c->policy, st);
}

static int check_approval(struct import_ctx *c)
{
    char *sig = NULL;
    size_t n = 0;
    int rc;

    if (c->opt->approval_path == NULL)
        return 0;
    if (fileio_read_file(c->opt->approval_path, APPROVAL_MAX, &sig, &n) != 0 || n == 0) {
        problem(c, c->opt->approval_path, "cannot read the approval signature (or over 64 KiB)");
        free(sig);
        return 0;
    }
    rc = verify_cms_detached(c->opt->paths[0], (const uint8_t *)sig, n,
                             (const char *const *)c->approval_pems, c->n_approval, c->approved_by,
                             sizeof(c->approved_by), c->approval_sha);
    free(sig);
    if (rc != VERIFY_OK) {
        c->approved_by[0] = '\0';
        problem(c, c->opt->approval_path,
                "the approval signature does not verify against the"
                " trust store's approval certificates: %s",
                verify_strerror(rc));
    }
    return 0;
}

static int check_all(struct import_ctx *c)
{
    size_t n_loads = 0;
    int rc = check_approval(c);

    progress(c, "checking");
    for (size_t i = 0; i < c->n_files; i++) {
        check_header(c, &c->files[i]);
        c->prog.files_checked++;
        progress(c, "checking");
        n_loads += name_has_suffix(c->files[i].name, ".loads");
    }
    if (n_loads == 0) {
        problem(c, source_name(c->opt), "the bundle holds no .loads file");
        return 0;
    }
    c->loads = calloc(n_loads, sizeof(*c->loads));
    if (c->loads == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_files && rc == 0; i++) {
        struct staged *s = &c->files[i];

        if (!name_has_suffix(s->name, ".loads"))
            continue;
        s->listed = true;
        if (s->loads_data == NULL) {
            problem(c, s->name, "%s", s->header_error ? s->header_error : "unreadable");
            continue;
        }
        rc = plan_load(c, s, &c->loads[c->n_loads]);
        plan_status(c, &c->loads[c->n_loads++]);
    }
    for (size_t i = 0; i < c->n_files; i++)
        if (!c->files[i].listed)
            warning(c, c->files[i].name,
                    "not listed by any .loads file of the bundle: not"
                    " published");
    return rc;
}

/* ---- publication (inside the transaction) ---- */

/* A name already in the catalog with other bytes is a conflict, unless the
 * import may replace it; the same bytes of a quarantined file heal it. */
static void check_conflict(struct import_ctx *c, struct staged *s)
{
    struct catalog_file old;

    if (catalog_file_find(c->db, s->name, &old) != DB_OK)
        return;
    if (strcmp(old.sha256, s->blob.hex) == 0) {
        if (strcmp(old.status, "ok") != 0)
            json_array_append_new(c->changes, json_pack("{s:s, s:s, s:s}", "file", s->name,
                                                        "change", "healed", "sha256", s->blob.hex));
        return;
    }
    if (!c->opt->replace) {
        problem(c, s->name,
                "already in the catalog with other bytes (sha256 %.16s..., now"
                " %.16s...): %s to overwrite it",
                old.sha256, s->blob.hex,
                c->opt->replace_how != NULL ? c->opt->replace_how : "allow replacing");
        return;
    }
    json_array_append_new(c->changes,
                          json_pack("{s:s, s:s, s:s, s:s}", "file", s->name, "change", "replaced",
                                    "old_sha256", old.sha256, "new_sha256", s->blob.hex));
    catalog_audit(c->db, c->opt->actor, "file.replace", s->name, old.sha256, s->blob.hex);
}

/* What the header says about its signer and digest, for the file's row. */
static void header_facts(const struct sgn_header *h, struct catalog_file *f)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = h->serial_len < SGN_SERIAL_MAX ? h->serial_len : SGN_SERIAL_MAX;

    if (2 * n >= sizeof(f->sig_serial))
        n = (sizeof(f->sig_serial) - 1) / 2;
    for (size_t i = 0; i < n; i++) {
        f->sig_serial[2 * i] = digits[h->serial[i] >> 4];
        f->sig_serial[2 * i + 1] = digits[h->serial[i] & 0x0f];
    }
    f->sig_serial[2 * n] = '\0';
    snprintf(f->sig_issuer, sizeof(f->sig_issuer), "%s", h->issuer);
    snprintf(f->sig_hash, sizeof(f->sig_hash), "%s", sgn_hash_name(h->hash));
}

static int publish_files(struct import_ctx *c)
{
    json_t *files = json_object_get(c->report, "files");
    int rc = DB_OK;

    for (size_t i = 0; i < c->n_files && rc == DB_OK; i++) {
        struct staged *s = &c->files[i];
        struct catalog_file f = {0};

        if (!s->listed)
            continue;
        snprintf(f.name, sizeof(f.name), "%s", s->name);
        snprintf(f.sha256, sizeof(f.sha256), "%s", s->blob.hex);
        snprintf(f.signature, sizeof(f.signature), "%s", s->signature);
        snprintf(f.signer, sizeof(f.signer), "%s", s->signer);
        if (s->hdr != NULL)
            header_facts(s->hdr, &f);
        f.size = s->blob.size;
        rc = catalog_file_put(c->db, &f, &s->file_id);
        for (size_t k = 0; rc == DB_OK && s->checks != NULL && k < c->n_vendor; k++)
            if (s->checks[k] != NULL)
                rc = catalog_sig_check_put(c->db, s->blob.hex, c->vendor_sha[k], s->checks[k]);
        json_array_append_new(files, json_pack("{s:s, s:I, s:s, s:s, s:s}", "name", s->name, "size",
                                               (json_int_t)s->blob.size, "sha256", s->blob.hex,
                                               "signature", s->signature, "signer", s->signer));
        crashpoint();
    }
    return rc;
}

static int publish_load(struct import_ctx *c, struct load_plan *p)
{
    size_t n = p->n_parts + p->n_catalog + 1;
    int64_t *ids = calloc(n, sizeof(*ids)), load_id;
    struct catalog_load l = {0};
    json_t *names = json_array();
    int rc = DB_ERROR;

    if (ids == NULL || names == NULL)
        goto out;
    ids[0] = p->loads_file->file_id;
    for (size_t i = 0; i < p->n_parts; i++) {
        ids[1 + i] = p->parts[i]->file_id;
        json_array_append_new(names, json_string(p->parts[i]->name));
    }
    memcpy(ids + 1 + p->n_parts, p->catalog_ids, p->n_catalog * sizeof(*ids));
    snprintf(l.name, sizeof(l.name), "%s", p->name);
    snprintf(l.signature, sizeof(l.signature), "%s", p->signature);
    snprintf(l.signer, sizeof(l.signer), "%s", p->signer);
    snprintf(l.approved_by, sizeof(l.approved_by), "%s", c->approved_by);
    snprintf(l.approval_cert, sizeof(l.approval_cert), "%s", c->approval_sha);
    l.import_id = c->import_id;
    rc = catalog_load_put(c->db, &l, ids[0], ids, n, &load_id);
    if (rc == DB_OK)
        rc = catalog_audit(c->db, c->opt->actor, "load.import", p->name, NULL, p->signature);
    json_array_append_new(json_object_get(c->report, "loads"),
                          json_pack("{s:s, s:s, s:s, s:s, s:O}", "name", p->name, "status",
                                    p->signature, "signer", p->signer, "approved_by",
                                    c->approved_by, "components", names));
    crashpoint();
out:
    json_decref(names);
    free(ids);
    return rc;
}

static int publish(struct import_ctx *c)
{
    char *text = NULL;
    int rc = db_begin(c->db);

    crashpoint();
    for (size_t i = 0; rc == DB_OK && i < c->n_files; i++)
        if (c->files[i].listed)
            check_conflict(c, &c->files[i]);
    if (rc == DB_OK && json_array_size(c->problems) > 0) {
        db_rollback(c->db);
        return IMPORT_REFUSED;
    }
    progress(c, "publishing");
    if (rc == DB_OK)
        rc = publish_files(c);
    for (size_t i = 0; rc == DB_OK && i < c->n_loads; i++)
        rc = publish_load(c, &c->loads[i]);
    json_object_set_new(c->report, "ok", json_true());
    text = json_dumps(c->report, JSON_COMPACT);
    if (rc == DB_OK)
        rc = catalog_import_finish(c->db, c->import_id, "done", text);
    crashpoint();
    if (rc == DB_OK)
        rc = db_commit(c->db);
    else
        db_rollback(c->db);
    free(text);
    crashpoint();
    if (rc != DB_OK)
        json_object_set_new(c->report, "ok", json_false());
    return rc == DB_OK ? IMPORT_OK : IMPORT_ERROR;
}

/* ---- the whole run ---- */

static void ctx_free(struct import_ctx *c)
{
    for (size_t i = 0; i < c->n_files; i++) {
        free(c->files[i].hdr);
        free(c->files[i].loads_data);
        free(c->files[i].checks);
    }
    for (size_t i = 0; i < c->n_loads; i++) {
        free(c->loads[i].parts);
        free(c->loads[i].catalog_ids);
    }
    for (size_t i = 0; i < c->n_vendor; i++)
        free(c->vendor_pems[i]);
    for (size_t i = 0; i < c->n_approval; i++)
        free(c->approval_pems[i]);
    free(c->loads);
    free(c->files);
    free(c->buf);
    free(c->head);
}

static const char *source_name(const struct import_options *opt)
{
    const char *slash;

    if (opt->source != NULL)
        return opt->source;
    slash = strrchr(opt->paths[0], '/');
    return slash ? slash + 1 : opt->paths[0];
}

static int import_body(struct import_ctx *c)
{
    int rc = load_trust(c) == DB_OK ? IMPORT_OK : IMPORT_ERROR;

    if (rc == IMPORT_OK)
        rc = stage_all(c);
    if (rc == IMPORT_OK && check_all(c) != 0)
        rc = IMPORT_ERROR;
    if (rc == IMPORT_OK && json_array_size(c->problems) > 0)
        rc = IMPORT_REFUSED;
    if (rc == IMPORT_OK)
        rc = publish(c);
    return rc;
}

/* A failed import is audited too ("import.fail": its source and first
 * problem), from the CLI and uploads alike. */
static void import_audit_failure(struct import_ctx *c)
{
    json_t *first = json_array_get(c->problems, 0);
    const char *file = json_string_value(json_object_get(first, "file"));
    const char *msg = json_string_value(json_object_get(first, "message"));
    char why[600];

    snprintf(why, sizeof(why), "%s: %s", file != NULL ? file : "?", msg != NULL ? msg : "?");
    if (catalog_audit(c->db, c->opt->actor, "import.fail", source_name(c->opt), NULL, why) != DB_OK)
        log_warn("cannot audit a failed import");
}

int import_run(sqlite3 *db, struct blobstore *bs, const struct import_options *opt, json_t **report)
{
    struct import_ctx c = {.db = db, .bs = bs, .opt = opt};
    char *text;
    int rc = IMPORT_ERROR;

    c.report = json_pack("{s:b, s:s, s:[], s:[], s:[], s:[], s:[]}", "ok", 0, "source",
                         source_name(opt), "loads", "files", "problems", "warnings", "changes");
    *report = c.report;
    if (c.report == NULL)
        return IMPORT_ERROR;
    c.problems = json_object_get(c.report, "problems");
    c.warnings = json_object_get(c.report, "warnings");
    c.changes = json_object_get(c.report, "changes");
    c.buf = malloc(COPY_CHUNK);
    c.head = malloc(LOADS_FILE_MAX);
    if (c.buf != NULL && c.head != NULL && opt->n_paths > 0 &&
        catalog_import_start(db, source_name(opt), opt->actor, &c.import_id) == DB_OK) {
        json_object_set_new(c.report, "import_id", json_integer(c.import_id));
        crashpoint();
        rc = import_body(&c);
    }
    if (rc != IMPORT_OK && c.import_id > 0) {
        if (json_array_size(c.problems) == 0)
            problem(&c, source_name(opt), "internal error (see the log)");
        text = json_dumps(c.report, JSON_COMPACT);
        catalog_import_finish(db, c.import_id, "failed", text);
        free(text);
        import_audit_failure(&c);
    }
    ctx_free(&c);
    return rc;
}
