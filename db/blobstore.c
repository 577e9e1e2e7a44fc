/* blobstore.c: the content-addressed store data-dir/blobs/sha256/ab/cd/<hash>:
 * one-pass hash-and-copy into blobs/tmp, fsync, rename, fsync dir; verify; gc.
 * Never touches the database; never holds more than one 1 MiB buffer per call. */
#include "db/blobstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/fileio.h"

#define BLOB_CHUNK           (1024 * 1024) /* read/hash/write unit: bounds memory */
#define BLOB_DIR_MODE        0750
#define BLOB_FILE_MODE       0440
#define BLOB_TMP_MODE        0600
#define BLOB_TMP_MAX_AGE_SEC 60 /* older temp files are leftovers of crashed imports */
#define BLOB_RENAME_TRIES    3  /* a concurrent gc may prune a directory we just made */
#define BLOB_RAND_BYTES      16
#define BLOB_DIGEST_LEN      32

/* Immutable after blobstore_open(): one store can be shared between threads. */
struct blobstore {
    int dirfd;  /* O_PATH of data-dir/blobs: every operation is relative to it */
    char *root; /* absolute path of data-dir/blobs, for blobstore_path() */
};

/* The names of one blob, relative to data-dir/blobs. */
struct blob_names {
    char ab[sizeof "sha256/ab"];
    char cd[sizeof "sha256/ab/cd"];
    char file[sizeof "sha256/ab/cd/" + BLOB_HEX_LEN];
};

/* One blobstore_put_fd() call in progress. */
struct blob_put {
    int tmpfd;
    bool tmp_linked; /* tmp still names the temp file: unlink it at the end */
    char tmp[sizeof "tmp/put-" + 2 * BLOB_RAND_BYTES];
    unsigned char *buf;
    EVP_MD_CTX *md;
};

/* One blobstore_gc() or blobstore_each() call in progress (each: visit set,
 * nothing is removed). */
struct blob_gc {
    bool (*keep)(void *arg, const char *hex);
    int (*visit)(void *arg, const char *hex, uint64_t size);
    void *arg;
    char ab[3], cd[3]; /* the directories being walked, to check blob names */
    time_t now;
    unsigned removed;
};

typedef int (*blob_entry_fn)(struct blob_gc *gc, int dirfd, const char *name);

/* ---- names ---- */

static bool blob_is_hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool blobstore_valid_hex(const char *hex)
{
    if (hex == NULL)
        return false;
    for (size_t i = 0; i < BLOB_HEX_LEN; i++)
        if (!blob_is_hex_digit(hex[i]))
            return false;
    return hex[BLOB_HEX_LEN] == '\0';
}

static bool blob_is_hex_pair(const char *name)
{
    return blob_is_hex_digit(name[0]) && blob_is_hex_digit(name[1]) && name[2] == '\0';
}

static void blob_hex_encode(const unsigned char *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

/* hex must be valid (blobstore_valid_hex). */
static void blob_names_make(const char *hex, struct blob_names *n)
{
    snprintf(n->ab, sizeof n->ab, "sha256/%.2s", hex);
    snprintf(n->cd, sizeof n->cd, "sha256/%.2s/%.2s", hex, hex + 2);
    snprintf(n->file, sizeof n->file, "sha256/%.2s/%.2s/%s", hex, hex + 2, hex);
}

int blobstore_path(struct blobstore *bs, const char *hex, char *out, size_t cap)
{
    struct blob_names n;
    int len;

    if (cap > 0)
        out[0] = '\0';
    if (!blobstore_valid_hex(hex))
        return -EINVAL;
    blob_names_make(hex, &n);
    len = snprintf(out, cap, "%s/%s", bs->root, n.file);
    if (len < 0 || (size_t)len >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

/* ---- small I/O helpers: each returns 0 (or a count) or a negative errno ---- */

static ssize_t blob_read_chunk(int fd, unsigned char *buf, size_t cap)
{
    ssize_t n;

    do {
        n = read(fd, buf, cap);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* fsync of a directory needs a real descriptor: dirfd may be O_PATH. */
static int blob_fsync_dir(int dirfd, const char *rel)
{
    int rc, fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

/* Creates rel if missing; when it did, fsyncs parent so the entry is durable. */
static int blob_mkdir_durable(int dirfd, const char *rel, const char *parent)
{
    if (mkdirat(dirfd, rel, BLOB_DIR_MODE) == 0)
        return blob_fsync_dir(dirfd, parent);
    return errno == EEXIST ? 0 : -errno;
}

static int blob_digest_hex(EVP_MD_CTX *md, char *hex)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_DigestFinal_ex(md, digest, &len) != 1 || len != BLOB_DIGEST_LEN)
        return -EIO;
    blob_hex_encode(digest, len, hex);
    return 0;
}

/* ---- open / close ---- */

static int blob_root_path(const char *data_dir, char **root)
{
    char *abs = realpath(data_dir, NULL);
    int rc;

    if (abs == NULL)
        return -errno;
    rc = asprintf(root, "%s/blobs", abs) < 0 ? -ENOMEM : 0;
    if (rc != 0)
        *root = NULL; /* asprintf leaves it undefined */
    free(abs);
    return rc;
}

static int blob_open_dirs(struct blobstore *bs, const char *data_dir)
{
    int rc = -EIO, datafd = -1;

    if (mkdir(data_dir, BLOB_DIR_MODE) != 0 && errno != EEXIST) {
        rc = -errno;
        goto out;
    }
    datafd = open(data_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    rc = datafd < 0 ? -errno : blob_mkdir_durable(datafd, "blobs", ".");
    if (rc != 0)
        goto out;
    bs->dirfd = openat(datafd, "blobs", O_PATH | O_DIRECTORY | O_CLOEXEC);
    rc = bs->dirfd < 0 ? -errno : blob_mkdir_durable(bs->dirfd, "sha256", ".");
    if (rc == 0)
        rc = blob_mkdir_durable(bs->dirfd, "tmp", ".");
out:
    if (datafd >= 0)
        close(datafd);
    return rc;
}

int blobstore_open(const char *data_dir, struct blobstore **out)
{
    struct blobstore *bs = calloc(1, sizeof *bs);
    int rc = -ENOMEM;

    *out = NULL;
    if (bs == NULL)
        goto out;
    bs->dirfd = -1;
    rc = blob_open_dirs(bs, data_dir);
    if (rc == 0)
        rc = blob_root_path(data_dir, &bs->root);
    if (rc == 0) {
        *out = bs;
        bs = NULL;
    }
out:
    blobstore_close(bs);
    return rc;
}

void blobstore_close(struct blobstore *bs)
{
    if (bs == NULL)
        return;
    if (bs->dirfd >= 0)
        close(bs->dirfd);
    free(bs->root);
    free(bs);
}

int blobstore_open_blob(struct blobstore *bs, const char *hex, int *fd)
{
    struct blob_names n;
    int f;

    *fd = -1;
    if (!blobstore_valid_hex(hex))
        return -EINVAL;
    blob_names_make(hex, &n);
    f = openat(bs->dirfd, n.file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f < 0)
        return -errno;
    *fd = f;
    return 0;
}

/* ---- verify ---- */

/* Sleeps until done bytes since start fit under rate bytes per second. */
static void blob_throttle(const struct timespec *start, uint64_t done, uint64_t rate)
{
    struct timespec now, nap;
    double elapsed, wait;

    if (rate == 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    elapsed = (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
    wait = (double)done / (double)rate - elapsed;
    if (wait <= 0)
        return;
    nap.tv_sec = (time_t)wait;
    nap.tv_nsec = (long)((wait - (double)nap.tv_sec) * 1e9);
    while (nanosleep(&nap, &nap) != 0 && errno == EINTR)
        ;
}

static int blob_hash_fd(int fd, EVP_MD_CTX *md, unsigned char *buf, uint64_t rate, char *hex)
{
    struct timespec start;
    uint64_t done = 0;
    ssize_t n;

    clock_gettime(CLOCK_MONOTONIC, &start);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        return -EIO;
    while ((n = blob_read_chunk(fd, buf, BLOB_CHUNK)) > 0) {
        if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
            return -EIO;
        done += (uint64_t)n;
        blob_throttle(&start, done, rate);
    }
    return n < 0 ? (int)n : blob_digest_hex(md, hex);
}

/* Re-hashes blob hex with the caller's buffer and digest context. */
static int blob_verify_with(struct blobstore *bs, const char *hex, uint64_t rate,
                            unsigned char *buf, EVP_MD_CTX *md)
{
    char got[BLOB_HEX_LEN + 1];
    int fd = -1;
    int rc = blobstore_open_blob(bs, hex, &fd);

    if (rc != 0)
        goto out;
    rc = blob_hash_fd(fd, md, buf, rate, got);
    if (rc == 0 && strcmp(got, hex) != 0)
        rc = -EBADMSG;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

int blobstore_verify(struct blobstore *bs, const char *hex, uint64_t max_bytes_per_sec)
{
    unsigned char *buf = malloc(BLOB_CHUNK);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = -ENOMEM;

    if (buf == NULL || md == NULL)
        goto out;
    rc = blob_verify_with(bs, hex, max_bytes_per_sec, buf, md);
out:
    EVP_MD_CTX_free(md);
    free(buf);
    return rc;
}

int blobstore_verify_fd(int fd, const char *hex)
{
    unsigned char *buf = malloc(BLOB_CHUNK);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char got[BLOB_HEX_LEN + 1];
    int rc = -ENOMEM;

    if (buf == NULL || md == NULL)
        goto out;
    rc = lseek(fd, 0, SEEK_SET) == 0 ? blob_hash_fd(fd, md, buf, 0, got) : -errno;
    if (rc == 0 && strcmp(got, hex) != 0)
        rc = -EBADMSG;
    if (lseek(fd, 0, SEEK_SET) != 0 && rc == 0)
        rc = -errno;
out:
    EVP_MD_CTX_free(md);
    free(buf);
    return rc;
}

/* ---- put ---- */

static int blob_tmp_create(struct blobstore *bs, struct blob_put *put)
{
    unsigned char rnd[BLOB_RAND_BYTES];
    char name[2 * BLOB_RAND_BYTES + 1];

    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return errno != 0 ? -errno : -EIO;
    blob_hex_encode(rnd, sizeof rnd, name);
    snprintf(put->tmp, sizeof put->tmp, "tmp/put-%s", name);
    put->tmpfd = openat(bs->dirfd, put->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        BLOB_TMP_MODE);
    if (put->tmpfd < 0)
        return -errno;
    put->tmp_linked = true;
    return 0;
}

/* Mode first so that one fsync makes both data and mode durable; then drop
 * the written pages: an import must not push the served blobs out of cache. */
static int blob_tmp_seal(struct blob_put *put)
{
    if (fchmod(put->tmpfd, BLOB_FILE_MODE) != 0 || fsync(put->tmpfd) != 0)
        return -errno;
    (void)posix_fadvise(put->tmpfd, 0, 0, POSIX_FADV_DONTNEED);
    return 0;
}

/* 1 when the final name already holds these bytes, 0 when it is absent or
 * holds something else (a damaged copy, which the new one then replaces). */
static int blob_existing_matches(struct blobstore *bs, const struct blob_names *n,
                                 const struct blob_info *info, struct blob_put *put)
{
    struct stat st;
    int rc;

    if (fstatat(bs->dirfd, n->file, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != info->size)
        return 0;
    rc = blob_verify_with(bs, info->hex, 0, put->buf, put->md);
    if (rc == -EBADMSG || rc == -ENOENT)
        return 0;
    return rc == 0 ? 1 : rc;
}

static int blob_rename_into_place(struct blobstore *bs, struct blob_put *put,
                                  const struct blob_names *n)
{
    int rc = -ENOENT;

    for (int i = 0; i < BLOB_RENAME_TRIES && rc == -ENOENT; i++) {
        rc = blob_mkdir_durable(bs->dirfd, n->ab, "sha256");
        if (rc == 0)
            rc = blob_mkdir_durable(bs->dirfd, n->cd, n->ab);
        if (rc == 0 && renameat(bs->dirfd, put->tmp, bs->dirfd, n->file) != 0)
            rc = -errno;
    }
    if (rc != 0)
        return rc;
    put->tmp_linked = false;
    return blob_fsync_dir(bs->dirfd, n->cd);
}

static int blob_publish(struct blobstore *bs, struct blob_put *put, const struct blob_info *info)
{
    struct blob_names n;
    int rc;

    blob_names_make(info->hex, &n);
    rc = blob_existing_matches(bs, &n, info, put);
    if (rc != 0)
        return rc < 0 ? rc : 0; /* identical: the caller unlinks the copy */
    return blob_rename_into_place(bs, put, &n);
}

/* ---- writer: a put fed in pieces; put_fd is a writer fed from an fd ---- */

struct blob_writer {
    struct blobstore *bs;
    struct blob_put put;
    uint64_t size;
};

static void writer_free(struct blob_writer *w)
{
    if (w->put.tmpfd >= 0)
        close(w->put.tmpfd);
    if (w->put.tmp_linked)
        (void)unlinkat(w->bs->dirfd, w->put.tmp, 0);
    EVP_MD_CTX_free(w->put.md);
    free(w->put.buf);
    free(w);
}

int blobstore_writer_open(struct blobstore *bs, struct blob_writer **out)
{
    struct blob_writer *w = calloc(1, sizeof(*w));
    int rc = -ENOMEM;

    if (w == NULL)
        return rc;
    w->bs = bs;
    w->put.tmpfd = -1;
    w->put.buf = malloc(BLOB_CHUNK); /* for the re-hash of an existing copy */
    w->put.md = EVP_MD_CTX_new();
    if (w->put.buf == NULL || w->put.md == NULL)
        goto out;
    rc = EVP_DigestInit_ex(w->put.md, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
    if (rc == 0)
        rc = blob_tmp_create(bs, &w->put);
out:
    if (rc != 0)
        writer_free(w);
    else
        *out = w;
    return rc;
}

int blobstore_writer_write(struct blob_writer *w, const void *buf, size_t len)
{
    if (EVP_DigestUpdate(w->put.md, buf, len) != 1)
        return -EIO;
    w->size += len;
    return fileio_write_all(w->put.tmpfd, buf, len);
}

int blobstore_writer_commit(struct blob_writer *w, struct blob_info *info)
{
    return blobstore_writer_commit_hook(w, info, NULL, NULL);
}

int blobstore_writer_commit_hook(struct blob_writer *w, struct blob_info *info,
                                 int (*before_publish)(void *arg, const char *hex), void *arg)
{
    struct blob_info got = {.size = w->size};
    int rc = blob_digest_hex(w->put.md, got.hex);

    if (rc == 0)
        rc = blob_tmp_seal(&w->put);
    if (rc == 0 && before_publish != NULL)
        rc = before_publish(arg, got.hex);
    if (rc == 0)
        rc = blob_publish(w->bs, &w->put, &got);
    if (rc == 0)
        *info = got;
    writer_free(w);
    return rc;
}

void blobstore_writer_abort(struct blob_writer *w)
{
    if (w != NULL)
        writer_free(w);
}

int blobstore_put_fd(struct blobstore *bs, int fd, struct blob_info *info,
                     void (*progress)(void *arg, uint64_t done), void *arg)
{
    struct blob_writer *w = NULL;
    unsigned char *buf = malloc(BLOB_CHUNK);
    ssize_t n = 0;
    int rc = buf != NULL ? blobstore_writer_open(bs, &w) : -ENOMEM;

    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    while (rc == 0 && (n = blob_read_chunk(fd, buf, BLOB_CHUNK)) > 0) {
        rc = blobstore_writer_write(w, buf, (size_t)n);
        if (rc == 0 && progress != NULL)
            progress(arg, w->size);
    }
    if (rc == 0 && n < 0)
        rc = (int)n;
    if (rc == 0) {
        rc = blobstore_writer_commit(w, info);
        w = NULL;
    }
    blobstore_writer_abort(w);
    free(buf);
    return rc;
}

/* ---- quarantine ---- */

int blobstore_quarantine(struct blobstore *bs, const char *hex)
{
    struct blob_names n;
    char dest[sizeof "quarantine/" + BLOB_HEX_LEN + 24];

    if (!blobstore_valid_hex(hex))
        return -EINVAL;
    blob_names_make(hex, &n);
    if (mkdirat(bs->dirfd, "quarantine", BLOB_DIR_MODE) != 0 && errno != EEXIST)
        return -errno;
    snprintf(dest, sizeof(dest), "quarantine/%s.%lld", hex, (long long)time(NULL));
    if (renameat(bs->dirfd, n.file, bs->dirfd, dest) != 0)
        return -errno;
    return blob_fsync_dir(bs->dirfd, "quarantine");
}

/* ---- gc ---- */

/* Calls fn for every entry of directory rel (relative to parent) but . and .. */
static int blob_dir_each(int parent, const char *rel, blob_entry_fn fn, struct blob_gc *gc)
{
    int rc, fd = openat(parent, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    struct dirent *e;
    DIR *d = NULL;

    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    d = fdopendir(fd);
    rc = d == NULL ? -errno : 0;
    if (d == NULL)
        goto out;
    fd = -1; /* owned by d now */
    for (errno = 0; rc == 0 && (e = readdir(d)) != NULL; errno = 0) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            rc = fn(gc, dirfd(d), e->d_name);
    }
    if (rc == 0 && errno != 0)
        rc = -errno;
out:
    if (d != NULL)
        closedir(d);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Fails quietly when the directory still holds something (or is gone). */
static int blob_rmdir_if_empty(int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
        return 0;
    if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT)
        return 0;
    return -errno;
}

static int blob_visit_file(struct blob_gc *gc, int dirfd, const char *name)
{
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -errno;
    return S_ISREG(st.st_mode) ? gc->visit(gc->arg, name, (uint64_t)st.st_size) : 0;
}

static int blob_gc_file(struct blob_gc *gc, int dirfd, const char *name)
{
    if (!blobstore_valid_hex(name) || memcmp(name, gc->ab, 2) != 0 ||
        memcmp(name + 2, gc->cd, 2) != 0)
        return 0; /* not a blob of ours (or not in its place): leave it */
    if (gc->visit != NULL)
        return blob_visit_file(gc, dirfd, name);
    if (gc->keep(gc->arg, name))
        return 0;
    if (unlinkat(dirfd, name, 0) != 0)
        return errno == ENOENT || errno == EISDIR ? 0 : -errno;
    gc->removed++;
    return 0;
}

/* Walks one level of ab/cd directories, then removes it if it became empty. */
static int blob_gc_subdir(struct blob_gc *gc, int dirfd, const char *name, char *slot,
                          blob_entry_fn fn)
{
    int rc;

    if (!blob_is_hex_pair(name))
        return 0;
    memcpy(slot, name, 3);
    rc = blob_dir_each(dirfd, name, fn, gc);
    if (rc == -ENOTDIR || rc == -ELOOP || rc == -ENOENT)
        return 0; /* a file or a link where a directory should be: not ours */
    return rc != 0 || gc->visit != NULL ? rc : blob_rmdir_if_empty(dirfd, name);
}

static int blob_gc_cd(struct blob_gc *gc, int dirfd, const char *name)
{
    return blob_gc_subdir(gc, dirfd, name, gc->cd, blob_gc_file);
}

static int blob_gc_ab(struct blob_gc *gc, int dirfd, const char *name)
{
    return blob_gc_subdir(gc, dirfd, name, gc->ab, blob_gc_cd);
}

static int blob_gc_tmp_entry(struct blob_gc *gc, int dirfd, const char *name)
{
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISREG(st.st_mode) || st.st_mtim.tv_sec >= gc->now - BLOB_TMP_MAX_AGE_SEC)
        return 0;
    if (unlinkat(dirfd, name, 0) != 0)
        return errno == ENOENT ? 0 : -errno;
    gc->removed++;
    return 0;
}

int blobstore_gc(struct blobstore *bs, bool (*keep)(void *arg, const char *hex), void *arg,
                 unsigned *removed)
{
    struct blob_gc gc = {.keep = keep, .arg = arg, .now = time(NULL)};
    int rc = -EINVAL;

    if (keep != NULL)
        rc = blob_dir_each(bs->dirfd, "sha256", blob_gc_ab, &gc);
    if (rc == 0)
        rc = blob_dir_each(bs->dirfd, "tmp", blob_gc_tmp_entry, &gc);
    if (removed != NULL)
        *removed = gc.removed;
    return rc;
}

int blobstore_each(struct blobstore *bs, int (*visit)(void *arg, const char *hex, uint64_t size),
                   void *arg)
{
    struct blob_gc gc = {.visit = visit, .arg = arg};

    return blob_dir_each(bs->dirfd, "sha256", blob_gc_ab, &gc);
}
