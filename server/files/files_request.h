/* files_request.h: the HTTP file service's request rules as pure functions of
 * strings: the path's escapes and its kind, Range, validators, HTTP dates.
 * No sockets, no files, no globals, no allocation. */
#ifndef LOADSD_FILES_REQUEST_H
#define LOADSD_FILES_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FILES_PATH_MAX      1024 /* bytes of a decoded request path; longer gets 414 */
#define FILES_HEX_LEN       64   /* a SHA-256 in hex */
#define FILES_DATE_LEN      29   /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define FILES_BLOB_PREFIX   "/blobs/sha256/"
#define FILES_MANIFESTS     "/manifests/"             /* every path under it is a manifest or 404 */
#define FILES_LOADS_LIST    "/manifests/v1/loads"     /* the list; "/<name>" after it: one load */
#define FILES_LOAD_NAME_MAX 255                       /* bytes of a load name in a manifest path */
#define FILES_ARG_MAX       (FILES_LOAD_NAME_MAX + 1) /* files_target_parse's arg buffer */
#define FILES_ETAG_PREFIX   "\"sha256-"
#define FILES_ETAG_LEN      (sizeof(FILES_ETAG_PREFIX) - 1 + FILES_HEX_LEN + 1)

/* Decodes %XX escapes in place (the path only: the query string never gets
 * here). A decoded byte below 0x20 or 0x7f (NUL included) becomes 0x7f, which
 * the resolver refuses, so "a%00b" cannot turn into "a". A '%' not followed by
 * two hex digits stays as it is. Returns the new length. */
size_t files_unescape(char *s);

enum files_target {
    FILES_TARGET_NAME = 0,     /* a file name for the resolver */
    FILES_TARGET_BLOB = 1,     /* /blobs/sha256/<64 lowercase hex>: arg gets the hex */
    FILES_TARGET_NONE = 2,     /* anything else under /blobs/ or /manifests/: 404 */
    FILES_TARGET_LOADS = 3,    /* /manifests/v1/loads: the list of loads */
    FILES_TARGET_LOAD = 4,     /* /manifests/v1/loads/<name>: arg gets the name */
    FILES_TARGET_BAD_LOAD = 5, /* a load name that cannot be one: 400 */
};

/* The kind of a decoded path; arg (FILES_ARG_MAX bytes) gets a blob's hex
 * or a load's name as requested. A load name is refused (BAD_LOAD) when it
 * is empty, ".", "..", over FILES_LOAD_NAME_MAX bytes, or holds a '/', a
 * '\\' or a control byte (files_unescape turned those into 0x7f). */
enum files_target files_target_parse(const char *path, char *arg);

struct files_range {
    uint64_t first, last; /* inclusive, last < size */
};

enum files_range_result {
    FILES_RANGE_WHOLE = 0,           /* no Range, a malformed one, or several: 200 */
    FILES_RANGE_ONE = 1,             /* one satisfiable range: 206, out filled */
    FILES_RANGE_NOT_SATISFIABLE = 2, /* 416 */
};

/* RFC 9110 section 14.2: "bytes=A-B", "bytes=A-" or "bytes=-N" against a
 * representation of size bytes. hdr may be NULL. */
enum files_range_result files_range_parse(const char *hdr, uint64_t size, struct files_range *out);

/* The strong ETag of a catalog blob: "\"sha256-<hex>\"" (FILES_ETAG_LEN + 1 bytes). */
void files_etag_format(const char *hex, char *out, size_t cap);

/* If-None-Match (RFC 9110 section 13.1.2): true when hdr is "*" or lists
 * etag, compared weakly (a W/ prefix on either side is ignored). */
bool files_etag_listed(const char *hdr, const char *etag);

/* If-Range (RFC 9110 section 13.1.5): true when the range may be sent: hdr is
 * etag exactly (strong comparison; etag may be NULL when there is none), or an
 * HTTP date equal to mtime. */
bool files_if_range_holds(const char *hdr, const char *etag, time_t mtime);

/* IMF-fixdate (RFC 9110 section 5.6.7) of t, in out (FILES_DATE_LEN + 1 bytes). */
void files_date_format(time_t t, char *out, size_t cap);
/* Parses an IMF-fixdate; 0 and *out, or -1. */
int files_date_parse(const char *s, time_t *out);

#endif
