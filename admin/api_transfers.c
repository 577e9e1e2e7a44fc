/* api_transfers.c: /api/v1/transfers: the transfers in progress, TFTP and
 * HTTP side by side, as each engine lists them (protocol, client, file, size,
 * acknowledged bytes, percentage, elapsed time, rate). Read only; never slows
 * a transfer (each engine copies its list under a lock taken on a transfer's
 * start and end, never per packet). */
#include "admin/api.h"
#include "server/files/files_server.h"
#include "server/tftp/tftp_server.h"

#define TRANSFERS_MAX 10000

/* The fields both protocols have; acked is what the client acknowledged. */
static json_t *transfer_common(const char *protocol, const char *peer, const char *name,
                               uint64_t size, uint64_t acked, uint64_t elapsed_ms)
{
    uint64_t pct = size ? acked * 100 / size : 100;
    uint64_t rate = elapsed_ms ? acked * 1000 / elapsed_ms : 0;

    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:I, s:I}", "protocol", protocol, "client",
                     peer, "file", name, "size", (json_int_t)size, "acked_bytes", (json_int_t)acked,
                     "percent", (int)(pct > 100 ? 100 : pct), "elapsed_ms", (json_int_t)elapsed_ms,
                     "bytes_per_second", (json_int_t)rate);
}

static void transfer_row(void *arg, const struct tftp_transfer_info *t)
{
    json_t *row = transfer_common("tftp", t->peer, t->name, t->size, t->acked_bytes, t->elapsed_ms);

    if (row == NULL)
        return;
    json_object_set_new(row, "blksize", json_integer(t->blksize));
    json_object_set_new(row, "windowsize", json_integer(t->windowsize));
    json_array_append_new(arg, row);
}

/* An HTTP body: no block or window size (null). */
static void http_row(void *arg, const struct files_transfer_info *t)
{
    json_t *row = transfer_common("http", t->peer, t->name, t->size, t->sent_bytes, t->elapsed_ms);

    if (row == NULL)
        return;
    json_object_set_new(row, "blksize", json_null());
    json_object_set_new(row, "windowsize", json_null());
    json_array_append_new(arg, row);
}

static int transfers_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list = json_array();
    size_t n = 0;

    if (list == NULL)
        return -1;
    if (rq->ctx->tftp != NULL)
        n = tftp_server_list_transfers(rq->ctx->tftp, TRANSFERS_MAX, transfer_row, list);
    if (rq->ctx->files != NULL && n < TRANSFERS_MAX)
        n += files_server_list_transfers(rq->ctx->files, TRANSFERS_MAX - n, http_row, list);
    return api_json(rs, MHD_HTTP_OK,
                    json_pack("{s:o, s:I}", "transfers", list, "count", (json_int_t)n));
}

const struct api_route api_transfers_routes[] = {
    {"GET", "/api/v1/transfers", 0, transfers_list},
    {NULL, NULL, 0, NULL},
};
