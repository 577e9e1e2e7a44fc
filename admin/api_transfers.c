/* api_transfers.c: /api/v1/transfers: the TFTP transfers in progress, as
 * the engine lists them (client, file, size, acknowledged bytes, percentage,
 * elapsed time, rate). Read only; never slows a transfer (the engine copies
 * its list under a per-worker lock, never per packet). */
#include "admin/api.h"
#include "server/tftp/tftp_server.h"

#define TRANSFERS_MAX 10000

static void transfer_row(void *arg, const struct tftp_transfer_info *t)
{
    uint64_t pct = t->size ? t->acked_bytes * 100 / t->size : 100;
    uint64_t rate = t->elapsed_ms ? t->acked_bytes * 1000 / t->elapsed_ms : 0;

    json_array_append_new(arg,
                          json_pack("{s:s, s:s, s:I, s:I, s:i, s:I, s:I, s:i, s:i}", "client",
                                    t->peer, "file", t->name, "size", (json_int_t)t->size,
                                    "acked_bytes", (json_int_t)t->acked_bytes, "percent",
                                    (int)(pct > 100 ? 100 : pct), "elapsed_ms",
                                    (json_int_t)t->elapsed_ms, "bytes_per_second", (json_int_t)rate,
                                    "blksize", (int)t->blksize, "windowsize", (int)t->windowsize));
}

static int transfers_list(struct api_request *rq, struct api_response *rs)
{
    json_t *list = json_array();
    size_t n = 0;

    if (list == NULL)
        return -1;
    if (rq->ctx->tftp != NULL)
        n = tftp_server_list_transfers(rq->ctx->tftp, TRANSFERS_MAX, transfer_row, list);
    return api_json(rs, MHD_HTTP_OK,
                    json_pack("{s:o, s:I}", "transfers", list, "count", (json_int_t)n));
}

const struct api_route api_transfers_routes[] = {
    {"GET", "/api/v1/transfers", 0, transfers_list},
    {NULL, NULL, 0, NULL},
};
