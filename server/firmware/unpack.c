/* unpack.c: streams the regular files of a bundle to a callback through
 * libarchive, refusing links, devices, absolute paths and "..", and stopping
 * at the entry, size and compression-ratio limits. Writes nothing itself. */
#include "server/firmware/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/text.h"
#include "server/firmware/sgn.h"

#define READ_BLOCK (64 * 1024)

/* State shared by the outer bundle and any archive nested in it. */
struct walk {
    unpack_entry_fn cb;
    void *arg;
    char *why;
    size_t why_cap;
    uint64_t in_size;   /* the bundle file's size */
    uint64_t total_out; /* bytes of regular files handed out */
    unsigned entries;
};

struct unpack_stream {
    struct walk *walk;
    struct archive *a; /* NULL: a loose file read from fd */
    int fd;
    uint64_t entry_out;
    int error; /* sticky: a limit hit while the callback read */
};

static bool name_ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);

    return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

static int fail(struct walk *w, int rc, const char *path, const char *reason)
{
    char clean[LOG_CLEAN_MAX];

    log_clean(path ? path : "", SIZE_MAX, clean, sizeof(clean));
    snprintf(w->why, w->why_cap, "%s%s%s", clean[0] ? clean : "", clean[0] ? ": " : "", reason);
    return rc;
}

static int account(struct unpack_stream *s, size_t n)
{
    struct walk *w = s->walk;

    s->entry_out += n;
    w->total_out += n;
    if (s->entry_out > UNPACK_ENTRY_MAX)
        return UNPACK_LIMIT;
    if (w->total_out > UNPACK_TOTAL_MAX)
        return UNPACK_LIMIT;
    if (w->total_out > UNPACK_RATIO_FLOOR && w->total_out / UNPACK_RATIO_MAX > w->in_size)
        return UNPACK_LIMIT;
    return UNPACK_OK;
}

long unpack_stream_read(struct unpack_stream *s, void *buf, size_t cap)
{
    ssize_t n;
    int rc;

    if (s->error != UNPACK_OK)
        return s->error;
    n = s->a != NULL ? archive_read_data(s->a, buf, cap) : read(s->fd, buf, cap);
    if (n < 0) {
        s->error = s->a != NULL ? UNPACK_CORRUPT : UNPACK_IO;
        return s->error;
    }
    rc = account(s, (size_t)n);
    if (rc != UNPACK_OK) {
        s->error = rc;
        return rc;
    }
    return (long)n;
}

/* The file name phones will ask for: the last component of a safe path.
 * Refuses absolute paths, "..", and names no TFTP client could ask for. */
static int entry_name(const char *path, const char **name, const char **reason)
{
    const char *p = path, *last = path;

    if (path[0] == '/' || path[0] == '\\') {
        *reason = "absolute path";
        return UNPACK_UNSAFE;
    }
    /* The text rule every entry path shares: a name goes into reports,
     * the API and the web page. */
    if (!text_valid(path, strlen(path))) {
        *reason = "control character in the name, or it is not UTF-8 text";
        return UNPACK_UNSAFE;
    }
    for (; *p != '\0'; p++) {
        if ((p == path || p[-1] == '/' || p[-1] == '\\') && p[0] == '.' && p[1] == '.' &&
            (p[2] == '\0' || p[2] == '/' || p[2] == '\\')) {
            *reason = "path leaves the bundle (\"..\")";
            return UNPACK_UNSAFE;
        }
        if (*p == '/' || *p == '\\')
            last = p + 1;
    }
    if (*last == '\0' || strlen(last) > 255) {
        *reason = "empty or over-long file name";
        return UNPACK_UNSAFE;
    }
    /* "." names no file a phone could ask for (resolvers drop such parts). */
    if (strcmp(last, ".") == 0) {
        *reason = "\".\" is not a file name";
        return UNPACK_UNSAFE;
    }
    *name = last;
    return UNPACK_OK;
}

/* Files that are not firmware: macOS resource forks from re-zipped bundles. */
static bool entry_is_noise(const char *path, const char *name)
{
    return strncmp(path, "__MACOSX/", 9) == 0 || strncmp(name, "._", 2) == 0 ||
           strcmp(name, ".DS_Store") == 0;
}

static bool entry_is_nested(const char *name)
{
    return name_ends_with(name, ".tar") || name_ends_with(name, ".tar.gz") ||
           name_ends_with(name, ".tgz");
}

static int walk_archive(struct walk *w, struct archive *a, int depth);

/* An archive read from inside another one: its bytes come from the outer
 * archive's current entry. */
struct nested_source {
    struct archive *outer;
    char block[READ_BLOCK];
};

static la_ssize_t nested_read(struct archive *inner, void *data, const void **buf)
{
    struct nested_source *src = data;

    (void)inner;
    *buf = src->block;
    return archive_read_data(src->outer, src->block, sizeof(src->block));
}

static int walk_nested(struct walk *w, struct archive *outer, const char *path, int depth)
{
    struct nested_source *src = NULL;
    struct archive *inner = NULL;
    int rc = fail(w, UNPACK_LIMIT, path, "archives nested too deep");

    if (depth + 1 >= UNPACK_DEPTH_MAX)
        goto out;
    rc = fail(w, UNPACK_IO, path, "out of memory");
    src = malloc(sizeof(*src));
    inner = archive_read_new();
    if (src == NULL || inner == NULL)
        goto out;
    src->outer = outer;
    archive_read_support_filter_gzip(inner);
    archive_read_support_format_tar(inner);
    if (archive_read_open(inner, src, NULL, nested_read, NULL) != ARCHIVE_OK) {
        rc = fail(w, UNPACK_CORRUPT, path, archive_error_string(inner));
        goto out;
    }
    w->why[0] = '\0';
    rc = walk_archive(w, inner, depth + 1);
out:
    if (inner != NULL)
        archive_read_free(inner);
    free(src);
    return rc;
}

/* A header that declares more than the limits allow is refused on its word,
 * before a byte of the entry is read or written (the bytes are still counted
 * as they come, for entries whose size is not declared or is a lie). */
static bool declared_too_big(const struct walk *w, struct archive_entry *e)
{
    la_int64_t size;

    if (!archive_entry_size_is_set(e))
        return false;
    size = archive_entry_size(e);
    return size < 0 || (uint64_t)size > UNPACK_ENTRY_MAX ||
           (uint64_t)size > UNPACK_TOTAL_MAX - w->total_out;
}

static int walk_entry(struct walk *w, struct archive *a, struct archive_entry *e, int depth)
{
    const char *path = archive_entry_pathname(e), *name, *reason;
    struct unpack_stream s = {w, a, -1, 0, UNPACK_OK};
    struct unpack_entry ue;
    mode_t type = archive_entry_filetype(e);
    int rc;

    if (path == NULL)
        return fail(w, UNPACK_UNSAFE, "", "entry without a name");
    if (type == AE_IFDIR)
        return UNPACK_OK;
    if (type != AE_IFREG || archive_entry_hardlink(e) != NULL)
        return fail(w, UNPACK_UNSAFE, path, "not a regular file (link or device)");
    rc = entry_name(path, &name, &reason);
    if (rc != UNPACK_OK)
        return fail(w, rc, path, reason);
    if (++w->entries > UNPACK_ENTRIES_MAX)
        return fail(w, UNPACK_LIMIT, path, "too many files in the bundle");
    if (entry_is_noise(path, name))
        return UNPACK_OK;
    if (entry_is_nested(name))
        return walk_nested(w, a, path, depth);
    if (declared_too_big(w, e))
        return fail(w, UNPACK_LIMIT, path,
                    "declares a size over the limit (4 GiB a file, "
                    "16 GiB a bundle): refused before reading it");
    ue = (struct unpack_entry){name, path};
    rc = w->cb(w->arg, &ue, &s, w->why, w->why_cap);
    if (s.error == UNPACK_LIMIT)
        return fail(w, UNPACK_LIMIT, path, "size or compression ratio over the limit");
    if (s.error != UNPACK_OK)
        return fail(w, s.error, path,
                    archive_error_string(a) ? archive_error_string(a) : "unreadable entry");
    return rc < 0 ? UNPACK_CALLBACK : UNPACK_OK;
}

static int walk_archive(struct walk *w, struct archive *a, int depth)
{
    struct archive_entry *e;
    int rc = UNPACK_OK, r;

    while (rc == UNPACK_OK && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
        if (r < ARCHIVE_WARN)
            return fail(w, UNPACK_CORRUPT, "", archive_error_string(a));
        rc = walk_entry(w, a, e, depth);
    }
    return rc;
}

static void archive_support_for(struct archive *a, const char *path)
{
    if (name_ends_with(path, ".zip")) {
        archive_read_support_format_zip(a);
        return;
    }
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
}

long unpack_cop_header_len(const char *path)
{
    uint8_t head[SGN_HEADER_MAX];
    struct sgn_header h;
    struct stat st;
    const char *why;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    long rc = UNPACK_IO;

    if (fd < 0)
        return rc;
    if (fstat(fd, &st) == 0 && (n = pread(fd, head, sizeof(head), 0)) >= 0) {
        if (!sgn_probe(head, (size_t)n))
            rc = 0;
        else
            rc = sgn_parse(head, (size_t)n, (uint64_t)st.st_size, &h, &why) == SGN_OK
                     ? (long)h.header_len
                     : UNPACK_CORRUPT;
    }
    close(fd);
    return rc;
}

static int walk_loose(struct walk *w, int fd, const char *path)
{
    struct unpack_stream s = {w, NULL, fd, 0, UNPACK_OK};
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    struct unpack_entry ue = {name, name};
    int rc;

    w->entries = 1;
    if (w->in_size > UNPACK_ENTRY_MAX)
        return fail(w, UNPACK_LIMIT, path, "over the size limit (4 GiB a file)");
    rc = w->cb(w->arg, &ue, &s, w->why, w->why_cap);
    if (s.error != UNPACK_OK)
        return fail(w, s.error, NULL,
                    s.error == UNPACK_LIMIT ? "over the size limit" : "read error");
    return rc < 0 ? UNPACK_CALLBACK : UNPACK_OK;
}

static int walk_bundle(struct walk *w, int fd, const char *path)
{
    struct archive *a;
    long skip = 0;
    int rc;

    if (name_ends_with(path, ".cop.sgn")) {
        skip = unpack_cop_header_len(path);
        if (skip <= 0)
            return fail(w, UNPACK_CORRUPT, NULL, "no valid signed header on the .cop.sgn");
        if (lseek(fd, skip, SEEK_SET) != skip)
            return fail(w, UNPACK_IO, NULL, "cannot skip the signed header");
    }
    a = archive_read_new();
    if (a == NULL)
        return fail(w, UNPACK_IO, NULL, "out of memory");
    archive_support_for(a, path);
    if (archive_read_open_fd(a, fd, READ_BLOCK) != ARCHIVE_OK)
        rc = fail(w, UNPACK_CORRUPT, NULL, archive_error_string(a));
    else
        rc = walk_archive(w, a, 0);
    archive_read_free(a);
    return rc;
}

static bool path_is_archive(const char *path)
{
    return name_ends_with(path, ".zip") || name_ends_with(path, ".tar") ||
           name_ends_with(path, ".tar.gz") || name_ends_with(path, ".tgz") ||
           name_ends_with(path, ".cop.sgn");
}

int unpack_walk(const char *path, unpack_entry_fn cb, void *arg, char *why, size_t why_cap)
{
    struct walk w = {cb, arg, why, why_cap, 0, 0, 0};
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    why[0] = '\0';
    if (fd < 0)
        return fail(&w, UNPACK_IO, NULL, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(&w, UNPACK_IO, NULL, "not a regular file");
    }
    w.in_size = (uint64_t)st.st_size;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    rc = path_is_archive(path) ? walk_bundle(&w, fd, path) : walk_loose(&w, fd, path);
    close(fd);
    return rc;
}
