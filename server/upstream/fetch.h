/* fetch.h: the branch's HTTP(S) client for its upstream (libcurl): a bounded
 * JSON GET, and a blob fetched into a file, hash-checked, resumed by Range. */
#ifndef LOADSD_UPSTREAM_FETCH_H
#define LOADSD_UPSTREAM_FETCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPSTREAM_URL_MAX 512
#define UPSTREAM_ERR_MAX 160

enum upstream_fetch_result {
    FETCH_OK = 0,
    FETCH_ABSENT = -1,  /* the upstream answered 404: it does not have it */
    FETCH_FAILED = -2,  /* unreachable, timed out, another status, too big, stopped */
    FETCH_CORRUPT = -3, /* the bytes do not match the expected size or SHA-256 */
    FETCH_LOCAL = -4,   /* a local I/O error (disk full, permissions) */
};

struct upstream_fetch_opts {
    long connect_timeout_s;        /* default 10 */
    long stall_timeout_s;          /* abort when under 1 byte/s for this long; default 60 */
    uint64_t max_recv_bytes_per_s; /* a blob's bytes/s at most (paced as written); 0: no cap */
    long total_timeout_s;          /* the whole request at most; 0: no limit */
    const char *ca_file;           /* CA bundle for https (PEM); NULL or "": the system's */
    const atomic_bool *stop;       /* set: give up at the next callback */
    /* upstream_fetch_blob: called as the file grows, with the bytes it
     * holds (resumed ones included) and those received by this call; once
     * before the GET with what a resume kept. NULL: none. */
    void (*progress)(void *arg, uint64_t have, uint64_t got);
    void *progress_arg;
};

/* Once per process, before any thread fetches. 0 or -1 (logged). */
int upstream_fetch_global_init(void);

/* GETs url into a malloc'd buffer (*body, *len; NUL-terminated for
 * convenience). Answers over max bytes fail. FETCH_OK only for 200. */
int upstream_fetch_bytes(const char *url, size_t max, const struct upstream_fetch_opts *o,
                         char **body, size_t *len, char *err, size_t cap);

/* POSTs body (len bytes of JSON) to url with "Authorization: Bearer
 * bearer" and reads the answer (at most max bytes) into *answer (malloc'd,
 * NUL-terminated, kept whatever the status so the caller can read an error
 * body; NULL when none came) and its HTTP status into *status (0: none).
 * FETCH_OK only for 200; else FETCH_FAILED with a reason in err. */
int upstream_fetch_post(const char *url, const char *bearer, const char *body, size_t len,
                        size_t max, const struct upstream_fetch_opts *o, long *status,
                        char **answer, size_t *alen, char *err, size_t cap);

/* GETs url as upstream_fetch_post POSTs, with "If-None-Match: \"etag\""
 * (etag: 1..64 bytes without a quote or a control character). FETCH_OK for
 * 200, and for 304 (*status says which; no answer then). */
int upstream_fetch_get_tagged(const char *url, const char *bearer, const char *etag, size_t max,
                              const struct upstream_fetch_opts *o, long *status, char **answer,
                              size_t *alen, char *err, size_t cap);

/* Makes path hold the blob url names: size bytes whose SHA-256 is sha256
 * (lowercase hex). Bytes already in path are kept when they can be the
 * start of it (asked for the rest with Range: a restart or a broken link
 * resumes), hashed again, and checked with the rest. *got: bytes received
 * now. On FETCH_CORRUPT path is removed (the next try starts over). */
int upstream_fetch_blob(const char *url, const char *path, uint64_t size, const char *sha256,
                        const struct upstream_fetch_opts *o, uint64_t *got, char *err, size_t cap);

#endif
