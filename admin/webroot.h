/* webroot.h: the admin interface's static files (web/): request paths
 * normalised and refused when they leave the root, opened with openat2
 * RESOLVE_BENEATH, with a Content-Type and an ETag. Never writes. */
#ifndef LOADSD_WEBROOT_H
#define LOADSD_WEBROOT_H

#include <stddef.h>
#include <stdint.h>

#define WEBROOT_PATH_MAX 256         /* a normalised relative path, NUL included */
#define WEBROOT_FILE_MAX (16u << 20) /* a static file larger than this is refused */

enum webroot_result {
    WEBROOT_OK = 0,
    WEBROOT_BAD_PATH = -1,  /* "..", a hidden or control character, too long: 400 */
    WEBROOT_NOT_FOUND = -2, /* missing, not a regular file, or outside the root: 404 */
    WEBROOT_ERROR = -3,
};

struct webroot;

struct webroot_file {
    int fd; /* the caller owns it */
    uint64_t size;
    char etag[64]; /* quoted */
    const char *content_type;
};

/* Opens dir as the root. 0 or WEBROOT_ERROR (errno set). */
int webroot_open(const char *dir, struct webroot **out);
void webroot_close(struct webroot *w);

/* Turns a request path ("/", "/css/app.css") into a relative path under the
 * root: "/" and names ending in "/" get "index.html"; empty and "."
 * segments are dropped; "..", segments starting with ".", backslashes and
 * control bytes are refused. Pure. 0 or WEBROOT_BAD_PATH. */
int webroot_normalize(const char *url, char *out, size_t cap);
/* The Content-Type for a file name, by its extension. */
const char *webroot_content_type(const char *name);
/* Normalises url and opens the file beneath the root (no symlink escapes). */
int webroot_lookup(struct webroot *w, const char *url, struct webroot_file *out);

#endif
