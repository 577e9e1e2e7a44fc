/* api_jobs.c: /api/v1/jobs: background jobs (uploads, bulk device changes,
 * CSV imports), newest first, paged by id (?before=ID&limit=N), one job
 * with its live progress or final report, and a partial CSV import's
 * rejected rows. Read only; jobs.c owns the rows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/api.h"
#include "admin/jobs.h"
#include "db/jobrows.h"
#include "lib/numparse.h"

#define JOBS_LIMIT_DEFAULT 50

static int jobs_index(struct api_request *rq, struct api_response *rs)
{
    uint64_t limit, before;
    json_t *out = NULL;

    if (!api_query_u64(rq, rs, "limit", 1, JOBS_LIST_MAX, JOBS_LIMIT_DEFAULT, &limit) ||
        !api_query_u64(rq, rs, "before", 1, INT64_MAX, INT64_MAX, &before))
        return 0;
    if (jobs_list(rq->ctx->jobs, rq->ctx->dd.db, (int64_t)before, (unsigned)limit, &out) != JOBS_OK)
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot list jobs");
    return api_json(rs, MHD_HTTP_OK, out);
}

static int jobs_one(struct api_request *rq, struct api_response *rs)
{
    json_t *out = NULL;
    uint64_t id;
    int rc;

    if (numparse_u64(rq->args[0], 1, INT64_MAX, &id) != 0)
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such job");
    rc = jobs_get(rq->ctx->jobs, rq->ctx->dd.db, (int64_t)id, &out);
    if (rc == JOBS_NOT_FOUND)
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such job");
    if (rc != JOBS_OK)
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot read the job");
    return api_json(rs, MHD_HTTP_OK, out);
}

/* The rejected rows of a partial CSV import, as CSV. */
static int jobs_rejected(struct api_request *rq, struct api_response *rs)
{
    char *csv = NULL;
    uint64_t id;
    int rc;

    if (numparse_u64(rq->args[0], 1, INT64_MAX, &id) != 0)
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such job");
    rc = jobrows_rejected_get(rq->ctx->dd.db, (int64_t)id, &csv);
    if (rc == DB_NOT_FOUND)
        return api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "this job rejected no rows");
    if (rc != DB_OK)
        return api_error_db(rs, rc, "job");
    rs->status = MHD_HTTP_OK;
    rs->text = csv;
    rs->text_len = strlen(csv);
    rs->content_type = "text/csv; charset=utf-8";
    return 0;
}

const struct api_route api_jobs_routes[] = {
    {"GET", "/api/v1/jobs", 0, jobs_index},
    {"GET", "/api/v1/jobs/{}", 0, jobs_one},
    {"GET", "/api/v1/jobs/{}/rejected.csv", 0, jobs_rejected},
    {NULL, NULL, 0, NULL},
};
