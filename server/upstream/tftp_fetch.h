/* tftp_fetch.h: the branch's TFTP client for a tftp:// upstream: one file by
 * name into a temporary file, renamed into place only when whole; a size
 * limit, resends with bounds, a time limit, the stop flag. tftp_get.c
 * speaks the protocol; this does the socket, the clock and the file. */
#ifndef LOADSD_UPSTREAM_TFTP_FETCH_H
#define LOADSD_UPSTREAM_TFTP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/upstream/fetch.h"
#include "server/upstream/tftp_get.h"

#define TFTP_FETCH_HOST_MAX 256

struct tftp_fetch_opts {
    char host[TFTP_FETCH_HOST_MAX]; /* a name or an address, as in the tftp:// URL */
    unsigned port;
    struct tftp_get_params get;
    unsigned total_ms; /* the whole transfer at most; 0: only the resends bound it */
    const struct upstream_fetch_opts *fo; /* stop flag, progress, pace; may be NULL */
};

/* What one transfer did, for the log and the benchmark. */
struct tftp_fetch_stats {
    uint64_t bytes;
    uint64_t packets_in, packets_out, resends;
    uint32_t blksize, windowsize; /* as granted */
    bool oack;                    /* the server answered the options */
    int64_t ms;
};

/* Fills o from a normalised tftp:// base and the transfer settings (512 and
 * 1 ask for no option: lock-step as RFC 1350). 0, or -1 with a reason. */
int tftp_fetch_opts_from_url(const char *base, uint32_t blksize, uint32_t windowsize,
                             uint64_t max_bytes, struct tftp_fetch_opts *o, char *err, size_t cap);

/* Reads name from the upstream into path (replaced only when the whole file
 * came; a part never lands there). *got: bytes received (may be NULL); st
 * may be NULL. FETCH_OK, FETCH_ABSENT (ERROR 1), FETCH_FAILED (no answer,
 * another ERROR, over the size limit, the time limit, stopped) or
 * FETCH_LOCAL; err says why, safe to log. */
int tftp_fetch_file(const struct tftp_fetch_opts *o, const char *name, const char *path,
                    uint64_t *got, struct tftp_fetch_stats *st, char *err, size_t cap);

#endif
