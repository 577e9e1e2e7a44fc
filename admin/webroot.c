/* webroot.c: static files for the admin interface from one directory.
 * Every open goes through openat2 with RESOLVE_BENEATH, so neither ".." nor
 * a symlink can reach outside the root. Never writes, never follows /proc links. */
#include "admin/webroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct webroot {
    int fd;
};

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

int webroot_open(const char *dir, struct webroot **out)
{
    struct webroot *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return WEBROOT_ERROR;
    w->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (w->fd < 0) {
        free(w);
        return WEBROOT_ERROR;
    }
    *out = w;
    return WEBROOT_OK;
}

void webroot_close(struct webroot *w)
{
    if (w == NULL)
        return;
    close(w->fd);
    free(w);
}

/* Checks one segment [s, s + len) and appends it; 0 or WEBROOT_BAD_PATH. */
static int append_segment(const char *s, size_t len, char *out, size_t cap, size_t *pos)
{
    if (len == 0 || (len == 1 && s[0] == '.'))
        return WEBROOT_OK;
    if (s[0] == '.') /* "..", and hidden files such as .htaccess or .git */
        return WEBROOT_BAD_PATH;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f || c == '\\' || c == ':')
            return WEBROOT_BAD_PATH;
    }
    if (*pos + len + 2 > cap)
        return WEBROOT_BAD_PATH;
    if (*pos > 0)
        out[(*pos)++] = '/';
    memcpy(out + *pos, s, len);
    *pos += len;
    out[*pos] = '\0';
    return WEBROOT_OK;
}

int webroot_normalize(const char *url, char *out, size_t cap)
{
    static const char index_html[] = "index.html";
    size_t pos = 0, len;
    const char *s;

    if (url == NULL || out == NULL || cap < sizeof(index_html) || url[0] != '/')
        return WEBROOT_BAD_PATH;
    out[0] = '\0';
    len = strnlen(url, WEBROOT_PATH_MAX + 1);
    if (len > WEBROOT_PATH_MAX)
        return WEBROOT_BAD_PATH;
    for (s = url; *s != '\0';) {
        const char *slash = strchr(s, '/');
        size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);

        if (append_segment(s, n, out, cap, &pos) != WEBROOT_OK)
            return WEBROOT_BAD_PATH;
        s += n + (slash != NULL ? 1 : 0);
    }
    if (len > 0 && url[len - 1] == '/')
        return append_segment(index_html, sizeof(index_html) - 1, out, cap, &pos);
    return WEBROOT_OK;
}

const char *webroot_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (dot != NULL && strchr(dot, '/') == NULL)
        for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
            if (strcasecmp(dot, content_types[i].ext) == 0)
                return content_types[i].type;
    return "application/octet-stream";
}

static int open_beneath(int root, const char *path)
{
    struct open_how how;

    memset(&how, 0, sizeof(how));
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

int webroot_lookup(struct webroot *w, const char *url, struct webroot_file *out)
{
    char rel[WEBROOT_PATH_MAX];
    struct stat st;
    int fd, rc = WEBROOT_NOT_FOUND;

    if (webroot_normalize(url, rel, sizeof(rel)) != WEBROOT_OK)
        return WEBROOT_BAD_PATH;
    fd = open_beneath(w->fd, rel);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR || errno == EXDEV || errno == ELOOP ||
                       errno == EACCES
                   ? WEBROOT_NOT_FOUND
                   : WEBROOT_ERROR;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > WEBROOT_FILE_MAX)
        goto out;
    /* Back to blocking reads: O_NONBLOCK only kept a FIFO from hanging open. */
    if (fcntl(fd, F_SETFL, 0) != 0)
        goto out;
    out->fd = fd;
    out->size = (uint64_t)st.st_size;
    snprintf(out->etag, sizeof(out->etag), "\"%llx-%llx-%lx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
    out->content_type = webroot_content_type(rel);
    fd = -1;
    rc = WEBROOT_OK;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}
