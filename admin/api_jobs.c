/* api_jobs.c: /api/v1/jobs: background import jobs (uploads), newest first,
 * paged by id (?before=ID&limit=N), and one job with its live progress or
 * final report. Read only; jobs.c owns the rows. */
#include <stdint.h>

#include "admin/api.h"
#include "admin/jobs.h"
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

const struct api_route api_jobs_routes[] = {
    {"GET", "/api/v1/jobs", 0, jobs_index},
    {"GET", "/api/v1/jobs/{}", 0, jobs_one},
    {NULL, NULL, 0, NULL},
};
