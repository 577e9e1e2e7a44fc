/* resolver.c: requested name -> open file, through an ordered chain of sources,
 * and the serve-dir source (a classic TFTP root, case-insensitive).
 * Never touches a socket; never opens anything outside a serve root. */
#include "server/resolve/resolver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "server/resolve/missing.h"

#define RESOLVER_SOURCES_MAX 8

struct resolver {
    atomic_uint refs;
    unsigned count;
    struct resolver_source sources[RESOLVER_SOURCES_MAX];
    resolver_blob_fn blob_open; /* NULL: no source answers blobs by hash */
    void *blob_ctx;
    resolver_loads_fn loads_each; /* NULL: no source answers manifests */
    void *loads_ctx;
    struct missing_table *missing; /* names no source has; NULL: not counted */
    resolver_ended_fn ended;       /* NULL: transfer ends are not told */
    void *ended_ctx;
};

/* ---- names ---- */

static int resolver_is_separator(unsigned char c)
{
    return c == '/' || c == '\\';
}

/* Appends the component [comp, comp + len) to out; 0 or RESOLVER_BAD_NAME. */
static int resolver_append_component(const unsigned char *comp, size_t len, char *out, size_t cap,
                                     size_t *pos)
{
    size_t need = len + (*pos > 0 ? 1 : 0);

    if (len == 0 || (len == 1 && comp[0] == '.'))
        return 0;
    if (len == 2 && comp[0] == '.' && comp[1] == '.')
        return RESOLVER_BAD_NAME;
    for (size_t i = 0; i < len; i++) {
        if (comp[i] < 0x20 || comp[i] == 0x7f)
            return RESOLVER_BAD_NAME;
    }
    if (*pos + need > RESOLVER_NAME_MAX || *pos + need >= cap)
        return RESOLVER_BAD_NAME;
    if (*pos > 0)
        out[(*pos)++] = '/';
    memcpy(out + *pos, comp, len);
    *pos += len;
    return 0;
}

int resolver_normalize(const char *in, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t pos = 0;
    int rc = RESOLVER_BAD_NAME;

    if (out == NULL || cap == 0)
        return RESOLVER_BAD_NAME;
    out[0] = '\0';
    if (in == NULL)
        return RESOLVER_BAD_NAME;
    while (*p != '\0') {
        const unsigned char *comp = p;

        while (*p != '\0' && !resolver_is_separator(*p))
            p++;
        if (resolver_append_component(comp, (size_t)(p - comp), out, cap, &pos) != 0)
            goto out;
        while (resolver_is_separator(*p))
            p++;
    }
    if (pos == 0)
        goto out;
    rc = RESOLVER_OK;
out:
    out[rc == RESOLVER_OK ? pos : 0] = '\0';
    return rc;
}

/* ---- the chain ---- */

struct resolver *resolver_new(void)
{
    struct resolver *r = calloc(1, sizeof(*r));

    if (r != NULL)
        atomic_init(&r->refs, 1);
    return r;
}

/* On failure nothing is taken: the caller still owns src->ctx. */
int resolver_add_source(struct resolver *r, const struct resolver_source *src)
{
    if (r == NULL || src == NULL || src->open == NULL || r->count >= RESOLVER_SOURCES_MAX)
        return -1;
    r->sources[r->count++] = *src;
    return 0;
}

struct resolver *resolver_ref(struct resolver *r)
{
    if (r != NULL)
        atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    return r;
}

void resolver_unref(struct resolver *r)
{
    if (r == NULL || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (unsigned i = 0; i < r->count; i++) {
        if (r->sources[i].destroy != NULL)
            r->sources[i].destroy(r->sources[i].ctx);
    }
    free(r);
}

static void resolver_file_clear(struct resolver_file *out)
{
    out->fd = -1;
    out->size = 0;
    out->source = NULL;
    out->sha256[0] = '\0';
    out->generated = false;
}

int resolver_open(struct resolver *r, const char *requested, const struct sockaddr *client,
                  struct resolver_file *out)
{
    char name[RESOLVER_NAME_MAX + 1];
    int rc;

    if (out == NULL)
        return RESOLVER_IO;
    resolver_file_clear(out);
    rc = resolver_normalize(requested, name, sizeof(name));
    if (rc != RESOLVER_OK)
        return rc;
    if (r == NULL)
        return RESOLVER_NOT_FOUND;
    for (unsigned i = 0; i < r->count; i++) {
        const struct resolver_source *src = &r->sources[i];

        rc = src->open(src->ctx, name, client, out);
        if (rc == RESOLVER_NOT_FOUND)
            continue;
        if (rc == RESOLVER_OK && out->source == NULL)
            out->source = src->name;
        return rc;
    }
    missing_table_note(r->missing, name, client, (int64_t)time(NULL));
    return RESOLVER_NOT_FOUND;
}

void resolver_set_missing(struct resolver *r, struct missing_table *t)
{
    r->missing = t;
}

void resolver_set_blob_source(struct resolver *r, resolver_blob_fn fn, void *ctx)
{
    r->blob_open = fn;
    r->blob_ctx = ctx;
}

int resolver_open_blob(struct resolver *r, const char *hex, struct resolver_file *out)
{
    if (out == NULL)
        return RESOLVER_IO;
    resolver_file_clear(out);
    if (r == NULL || r->blob_open == NULL)
        return RESOLVER_NOT_FOUND;
    return r->blob_open(r->blob_ctx, hex, out);
}

void resolver_set_ended_hook(struct resolver *r, resolver_ended_fn fn, void *ctx)
{
    r->ended = fn;
    r->ended_ctx = ctx;
}

void resolver_transfer_ended(struct resolver *r, const char *name, const struct sockaddr *client,
                             bool complete)
{
    char norm[RESOLVER_NAME_MAX + 1];

    if (r == NULL || r->ended == NULL || client == NULL ||
        resolver_normalize(name, norm, sizeof(norm)) != RESOLVER_OK)
        return;
    r->ended(r->ended_ctx, norm, client, complete);
}

void resolver_set_loads_source(struct resolver *r, resolver_loads_fn fn, void *ctx)
{
    r->loads_each = fn;
    r->loads_ctx = ctx;
}

int resolver_loads_each(struct resolver *r, const char *name, resolver_load_cb cb, void *arg)
{
    if (r == NULL || r->loads_each == NULL)
        return name == NULL ? RESOLVER_OK : RESOLVER_NOT_FOUND;
    return r->loads_each(r->loads_ctx, name, cb, arg);
}

/* ---- the serve-dir source ---- */

#define SERVE_DIR_NAME "serve-dir"

struct serve_dir {
    int root_fd; /* O_PATH directory every lookup stays beneath */
};

/* openat2(2) beneath root: symlinks may not leave it, "/proc" magic links
 * are refused, and ".." can never climb above it. -1 and errno on failure. */
static int serve_dir_openat(int root_fd, const char *path, uint64_t flags)
{
    struct open_how how;

    memset(&how, 0, sizeof(how));
    how.flags = flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

static int serve_dir_map_errno(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        return RESOLVER_NOT_FOUND;
    case EACCES:
    case EPERM:
    case ELOOP:
    case EXDEV:
    case ENXIO:  /* a socket, or a device without a driver */
    case ENODEV: /* a device */
        return RESOLVER_DENIED;
    default:
        return RESOLVER_IO;
    }
}

static int serve_dir_ascii_equal(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char x = (unsigned char)a[i];
        unsigned char y = (unsigned char)b[i];

        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

/* Looks in directory dir (a path beneath the root, "." for the root) for an
 * entry equal to comp[0..len) ignoring ASCII case, and overwrites comp with
 * its real spelling. Of several matches the smallest (strcmp) wins, so the
 * choice does not depend on readdir order. 0, or -1 and errno. */
static int serve_dir_find_case(int root_fd, const char *dir, char *comp, size_t len)
{
    char best[RESOLVER_NAME_MAX + 1] = "";
    struct dirent *de;
    DIR *d = NULL;
    int fd;
    int rc = -1;

    fd = serve_dir_openat(root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        goto out;
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        if (strlen(de->d_name) != len || !serve_dir_ascii_equal(de->d_name, comp, len))
            continue;
        if (best[0] == '\0' || strcmp(de->d_name, best) < 0)
            memcpy(best, de->d_name, len + 1);
    }
    if (best[0] == '\0') {
        errno = ENOENT;
        goto out;
    }
    memcpy(comp, best, len);
    rc = 0;
out:
    if (d != NULL) {
        int saved = errno;

        closedir(d);
        errno = saved;
    }
    return rc;
}

/* Rewrites path (a normalised name) component by component to the spelling
 * found on disk. Each prefix is tried exactly first, so only components whose
 * case differs cost a directory scan. 0, or -1 and errno. */
static int serve_dir_fold_case(int root_fd, char *path)
{
    char parent[RESOLVER_NAME_MAX + 1];
    char *comp = path;

    for (;;) {
        char *end = strchr(comp, '/');
        size_t len = end != NULL ? (size_t)(end - comp) : strlen(comp);
        int fd;

        if (end != NULL)
            *end = '\0';
        fd = serve_dir_openat(root_fd, path, O_PATH | O_CLOEXEC);
        if (fd >= 0) {
            close(fd);
        } else if (errno != ENOENT) {
            return -1;
        } else {
            size_t parent_len = comp == path ? 0 : (size_t)(comp - path) - 1;

            memcpy(parent, parent_len > 0 ? path : ".", parent_len > 0 ? parent_len : 1);
            parent[parent_len > 0 ? parent_len : 1] = '\0';
            if (serve_dir_find_case(root_fd, parent, comp, len) != 0)
                return -1;
        }
        if (end == NULL)
            return 0;
        *end = '/';
        comp = end + 1;
    }
}

/* Opens name (normalised, beneath the root), exactly or else ignoring case. */
static int serve_dir_open_path(int root_fd, const char *name)
{
    const uint64_t flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
    char folded[RESOLVER_NAME_MAX + 1];
    int fd;

    fd = serve_dir_openat(root_fd, name, flags);
    if (fd >= 0 || errno != ENOENT)
        return fd;
    if (strlen(name) >= sizeof(folded)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(folded, name);
    if (serve_dir_fold_case(root_fd, folded) != 0)
        return -1;
    return serve_dir_openat(root_fd, folded, flags);
}

static int serve_dir_open(void *ctx, const char *name, const struct sockaddr *client,
                          struct resolver_file *out)
{
    const struct serve_dir *sd = ctx;
    struct stat st;
    int fd;
    int rc;

    (void)client;
    fd = serve_dir_open_path(sd->root_fd, name);
    if (fd < 0)
        return serve_dir_map_errno(errno);
    rc = RESOLVER_IO;
    if (fstat(fd, &st) != 0)
        goto out;
    rc = RESOLVER_DENIED;
    if (!S_ISREG(st.st_mode))
        goto out; /* a directory, FIFO, device or socket is never served */
    out->fd = fd;
    out->size = (uint64_t)st.st_size;
    out->source = SERVE_DIR_NAME;
    fd = -1;
    rc = RESOLVER_OK;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

static void serve_dir_destroy(void *ctx)
{
    struct serve_dir *sd = ctx;

    if (sd == NULL)
        return;
    if (sd->root_fd >= 0)
        close(sd->root_fd);
    free(sd);
}

/* Fails (-1, errno set) when dir cannot be opened or the kernel lacks
 * openat2(2): serving without RESOLVE_BENEATH is never an option. */
int resolver_add_serve_dir(struct resolver *r, const char *dir)
{
    struct resolver_source src;
    struct serve_dir *sd = NULL;
    int probe;
    int saved;
    int rc = -1;

    if (r == NULL || dir == NULL || dir[0] == '\0') {
        errno = EINVAL;
        goto out;
    }
    sd = malloc(sizeof(*sd));
    if (sd == NULL)
        goto out;
    sd->root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (sd->root_fd < 0)
        goto out;
    probe = serve_dir_openat(sd->root_fd, ".", O_PATH | O_CLOEXEC);
    if (probe < 0)
        goto out;
    close(probe);
    src.name = SERVE_DIR_NAME;
    src.open = serve_dir_open;
    src.destroy = serve_dir_destroy;
    src.ctx = sd;
    if (resolver_add_source(r, &src) != 0) {
        errno = ENOSPC;
        goto out;
    }
    sd = NULL;
    rc = 0;
out:
    saved = errno;
    serve_dir_destroy(sd);
    errno = saved;
    return rc;
}
