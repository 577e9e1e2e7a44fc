/* api_uploads.c: POST /api/v1/uploads: a multipart/form-data bundle (field
 * "file", optional detached CMS "approval") streamed through MHD's post
 * processor into spool files and handed to a background import job. Never
 * holds a bundle in memory; never imports on the HTTP thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "admin/api.h"
#include "admin/jobs.h"
#include "db/db.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/numparse.h"

#define UPLOAD_APPROVAL_MAX (64 * 1024) /* a detached CMS signature */
#define UPLOAD_OVERHEAD     (64 * 1024) /* multipart headers and boundaries */
#define UPLOAD_PP_BUFFER    (64 * 1024) /* the post processor's buffer */
#define UPLOAD_PATH_MAX     4352
#define UPLOAD_WHY_MAX      200

/* What the post processor has shown of one field's part so far. */
struct part {
    bool seen;
    unsigned run;                   /* the post-processor run of the latest call at offset 0 */
    char filename[JOBS_SOURCE_MAX]; /* as the first call gave it (cleaned) */
};

struct upload {
    struct MHD_PostProcessor *pp;
    struct api_context *ctx;
    int64_t job; /* 0: none reserved */
    int fd, afd;
    char path[UPLOAD_PATH_MAX], apath[UPLOAD_PATH_MAX]; /* "" = not created */
    uint64_t received, approval_len, body;
    unsigned runs; /* MHD_post_process calls so far */
    struct part file_part, approval_part;
    bool have_file, replace, handed_over;
    /* the first refusal: answered at once, recorded in the job */
    unsigned status;
    const char *code;
    const char *field;
    char why[UPLOAD_WHY_MAX];
};

static void refuse(struct upload *up, unsigned status, const char *code, const char *field,
                   const char *why)
{
    if (up->status != 0)
        return;
    up->status = status;
    up->code = code;
    up->field = field;
    snprintf(up->why, sizeof(up->why), "%s", why);
}

/* spool/upload/<16 hex>-<name>: new, 0600, the name's suffix kept. */
static int spool_create(const struct api_context *ctx, const char *name, char *path, size_t cap)
{
    unsigned char rnd[8];
    char hex[17];
    int fd;

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -1;
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    if ((size_t)snprintf(path, cap, "%s/spool/upload/%s-%s", ctx->dd.path, hex, name) >= cap)
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        log_error("cannot create spool file %s: %s", path, strerror(errno));
        path[0] = '\0';
    }
    return fd;
}

/* Does this call start a second part of the field? MHD calls once with no
 * bytes for an empty part, and may also call so at the start of a part
 * whose bytes have not arrived yet; both at offset 0. So a call at offset 0
 * after bytes arrived is a second part, and so is one after an empty call
 * when the file name differs or when it comes in the same post-processor
 * run (MHD only calls again for the same part once more data came). Only
 * an empty part followed by one of the same name in a later run passes:
 * what is stored is then exactly that second part. */
static bool part_again(struct upload *up, struct part *pt, const char *filename, uint64_t off,
                       uint64_t had)
{
    char name[JOBS_SOURCE_MAX];
    bool again;

    jobs_source_clean(filename ? filename : "", filename ? strlen(filename) : 0, name,
                      sizeof(name));
    if (!pt->seen) {
        pt->seen = true;
        pt->run = up->runs;
        snprintf(pt->filename, sizeof(pt->filename), "%s", name);
        return false;
    }
    if (off != 0)
        return false;
    again = had > 0 || pt->run == up->runs || strcmp(pt->filename, name) != 0;
    pt->run = up->runs;
    return again;
}

/* The first bytes of "file": the job gets its name, the spool file is made. */
static int file_open(struct upload *up, const char *filename)
{
    char name[JOBS_SOURCE_MAX];
    int rc;

    jobs_source_clean(filename ? filename : "", filename ? strlen(filename) : 0, name,
                      sizeof(name));
    up->fd = spool_create(up->ctx, name, up->path, sizeof(up->path));
    if (up->fd < 0) {
        refuse(up, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", NULL,
               "cannot create the spool file");
        return -1;
    }
    pthread_mutex_lock(&up->ctx->db_lock);
    rc = jobs_upload_name(up->ctx->jobs, up->ctx->dd.db, up->job, name);
    pthread_mutex_unlock(&up->ctx->db_lock);
    if (rc != JOBS_OK)
        log_warn("upload job %lld: cannot record the file name", (long long)up->job);
    up->have_file = true;
    return 0;
}

static int file_data(struct upload *up, const char *filename, uint64_t off, const char *data,
                     size_t size)
{
    if (part_again(up, &up->file_part, filename, off, up->received)) {
        refuse(up, MHD_HTTP_BAD_REQUEST, "invalid", "file",
               "one bundle per upload: a second \"file\" part");
        return -1;
    }
    if (!up->have_file && file_open(up, filename) != 0)
        return -1;
    if (size > up->ctx->upload_max - up->received) {
        char why[UPLOAD_WHY_MAX];

        snprintf(why, sizeof(why), "the bundle is larger than the limit of %llu MiB",
                 (unsigned long long)(up->ctx->upload_max >> 20));
        refuse(up, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "file", why);
        return -1;
    }
    if (size > 0 && fileio_write_all(up->fd, data, size) != 0) {
        log_error("cannot write spool file %s: %s", up->path, strerror(errno));
        refuse(up, MHD_HTTP_INSUFFICIENT_STORAGE, "no_space", NULL,
               "cannot store the upload (disk full?)");
        return -1;
    }
    up->received += size;
    jobs_upload_progress(up->ctx->jobs, up->job, up->received);
    return 0;
}

static int approval_data(struct upload *up, const char *filename, uint64_t off, const char *data,
                         size_t size)
{
    if (part_again(up, &up->approval_part, filename, off, up->approval_len)) {
        refuse(up, MHD_HTTP_BAD_REQUEST, "invalid", "approval", "one approval signature only");
        return -1;
    }
    if (up->apath[0] == '\0') {
        up->afd = spool_create(up->ctx, "approval.p7s", up->apath, sizeof(up->apath));
        if (up->afd < 0) {
            refuse(up, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", NULL,
                   "cannot create the spool file");
            return -1;
        }
    }
    if (size > UPLOAD_APPROVAL_MAX - up->approval_len) {
        refuse(up, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "approval",
               "the approval signature is larger than 64 KiB");
        return -1;
    }
    if (size > 0 && fileio_write_all(up->afd, data, size) != 0) {
        refuse(up, MHD_HTTP_INSUFFICIENT_STORAGE, "no_space", NULL,
               "cannot store the upload (disk full?)");
        return -1;
    }
    up->approval_len += size;
    return 0;
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
    struct upload *up = cls;

    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    if (up->status != 0)
        return MHD_NO;
    if (strcmp(key, "file") == 0)
        return file_data(up, filename, off, data, size) == 0 ? MHD_YES : MHD_NO;
    if (strcmp(key, "approval") == 0)
        return approval_data(up, filename, off, data, size) == 0 ? MHD_YES : MHD_NO;
    return MHD_YES; /* other fields are ignored */
}

/* ---- the stages ---- */

static int respond_refusal(struct upload *up, struct api_response *rs)
{
    if (up->field != NULL && up->status == MHD_HTTP_BAD_REQUEST)
        return api_error_field(rs, up->field, "%s", up->why);
    return api_error(rs, up->status, up->code, "%s", up->why);
}

/* Bytes free for the spool (what an unprivileged writer may use), or
 * UINT64_MAX when it cannot be told. */
static uint64_t spool_free(const struct api_context *ctx)
{
    char path[UPLOAD_PATH_MAX];
    struct statvfs sv;

    snprintf(path, sizeof(path), "%s/spool/upload", ctx->dd.path);
    if (statvfs(path, &sv) != 0)
        return UINT64_MAX;
    return (uint64_t)sv.f_bavail * sv.f_frsize;
}

static bool is_multipart(const char *ct)
{
    return ct != NULL && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

static int upload_begin(struct api_request *rq, struct api_response *rs)
{
    struct upload *up;
    const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Type");
    const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Length");
    uint64_t len = 0, replace;
    int rc;

    if (!is_multipart(ct))
        return api_error(rs, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                         "an upload is multipart/form-data with the bundle in the field "
                         "\"file\"");
    if (!api_query_u64(rq, rs, "replace", 0, 1, 0, &replace))
        return 0;
    if (cl != NULL && numparse_u64(cl, 0, UINT64_MAX, &len) == 0 &&
        len > rq->ctx->upload_max + UPLOAD_APPROVAL_MAX + UPLOAD_OVERHEAD)
        return api_error(rs, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                         "the bundle is larger than the limit of %llu MiB",
                         (unsigned long long)(rq->ctx->upload_max >> 20));
    /* A body that cannot fit is refused before it is sent (the client waits
     * for "100 Continue"): answering 507 half-way through a large upload
     * means dropping the connection on the rest of it. */
    if (len > 0 && len > spool_free(rq->ctx))
        return api_error(rs, MHD_HTTP_INSUFFICIENT_STORAGE, "no_space",
                         "the upload needs %llu MB and the spool has %llu MB free",
                         (unsigned long long)(len / 1000000),
                         (unsigned long long)(spool_free(rq->ctx) / 1000000));
    up = calloc(1, sizeof(*up));
    if (up == NULL)
        return -1;
    up->ctx = rq->ctx;
    up->fd = up->afd = -1;
    up->replace = replace != 0;
    rq->stream = up;
    rc = jobs_upload_begin(rq->ctx->jobs, rq->ctx->dd.db, "upload", api_actor(rq), len, &up->job);
    if (rc == JOBS_BUSY) {
        rs->retry_after = 5;
        return api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                         "%d uploads are running or too many imports wait; try again later",
                         JOBS_UPLOADS_MAX);
    }
    if (rc != JOBS_OK)
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot start a job");
    up->pp = MHD_create_post_processor(rq->conn, UPLOAD_PP_BUFFER, on_field, up);
    if (up->pp == NULL) {
        refuse(up, MHD_HTTP_BAD_REQUEST, "bad_multipart", NULL,
               "the multipart/form-data header has no usable boundary");
        return respond_refusal(up, rs);
    }
    return 0;
}

static int upload_data(struct api_request *rq, struct api_response *rs)
{
    struct upload *up = rq->stream;

    up->body += rq->chunk_len;
    if (up->body > rq->ctx->upload_max + UPLOAD_APPROVAL_MAX + UPLOAD_OVERHEAD) {
        char why[UPLOAD_WHY_MAX];

        snprintf(why, sizeof(why), "the bundle is larger than the limit of %llu MiB",
                 (unsigned long long)(rq->ctx->upload_max >> 20));
        refuse(up, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "file", why);
    } else {
        up->runs++;
        if (MHD_post_process(up->pp, rq->chunk, rq->chunk_len) != MHD_YES && up->status == 0)
            refuse(up, MHD_HTTP_BAD_REQUEST, "bad_multipart", NULL,
                   "the multipart/form-data body is malformed");
    }
    return up->status != 0 ? respond_refusal(up, rs) : 0;
}

static void files_close(struct upload *up)
{
    if (up->fd >= 0 && close(up->fd) != 0 && up->status == 0)
        refuse(up, MHD_HTTP_INSUFFICIENT_STORAGE, "no_space", NULL,
               "cannot store the upload (disk full?)");
    if (up->afd >= 0 && close(up->afd) != 0 && up->status == 0)
        refuse(up, MHD_HTTP_INSUFFICIENT_STORAGE, "no_space", NULL,
               "cannot store the upload (disk full?)");
    up->fd = up->afd = -1;
}

static int upload_end(struct api_request *rq, struct api_response *rs)
{
    struct upload *up = rq->stream;
    enum MHD_Result ok = MHD_destroy_post_processor(up->pp);

    up->pp = NULL;
    if (ok != MHD_YES && up->status == 0)
        refuse(up, MHD_HTTP_BAD_REQUEST, "bad_multipart", NULL,
               "the multipart/form-data body ended early or is malformed");
    files_close(up);
    if (up->status == 0 && !up->have_file)
        refuse(up, MHD_HTTP_BAD_REQUEST, "invalid", "file", "\"file\" (the bundle) is required");
    if (up->status == 0 && up->apath[0] != '\0' && up->approval_len == 0)
        refuse(up, MHD_HTTP_BAD_REQUEST, "invalid", "approval", "the approval signature is empty");
    if (up->status != 0)
        return respond_refusal(up, rs);
    if (jobs_upload_done(rq->ctx->jobs, up->job, up->path, up->apath[0] ? up->apath : NULL,
                         up->replace) != JOBS_OK)
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "the job went away");
    up->handed_over = true;
    return api_json(rs, MHD_HTTP_ACCEPTED,
                    json_pack("{s:I, s:s, s:I}", "id", (json_int_t)up->job, "state", "queued",
                              "size", (json_int_t)up->received));
}

/* Always last: whatever was not handed to the job goes. */
static int upload_cleanup(struct api_request *rq)
{
    struct upload *up = rq->stream;

    if (up == NULL)
        return 0;
    if (up->pp != NULL)
        MHD_destroy_post_processor(up->pp);
    files_close(up);
    if (!up->handed_over) {
        if (up->path[0] != '\0')
            unlink(up->path);
        if (up->apath[0] != '\0')
            unlink(up->apath);
        if (up->job > 0)
            jobs_upload_fail(rq->ctx->jobs, rq->ctx->dd.db, up->job,
                             up->status != 0 ? up->why : "the upload was interrupted");
    }
    free(up);
    rq->stream = NULL;
    return 0;
}

static int uploads_post(struct api_request *rq, struct api_response *rs)
{
    switch (rq->stage) {
    case API_STAGE_BEGIN:
        return upload_begin(rq, rs);
    case API_STAGE_DATA:
        return upload_data(rq, rs);
    case API_STAGE_END:
        return upload_end(rq, rs);
    case API_STAGE_CLEANUP:
        return upload_cleanup(rq);
    case API_STAGE_WHOLE:
    default:
        return -1;
    }
}

const struct api_route api_uploads_routes[] = {
    {"POST", "/api/v1/uploads", API_STREAM, uploads_post},
    {NULL, NULL, 0, NULL},
};
