/* test_blobstore.c: the blob store against a real file system in a mkdtemp
 * data dir: layout, hashes, dedup, verify, gc, error paths, ENOSPC on a tiny
 * tmpfs. Must not depend on any module but blobstore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "db/blobstore.h"
#include "tests/unit/testdir.h"

#define MIB       (1024 * 1024)
#define HEX_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define HEX_HELLO "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define HEX_WORLD "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7"
#define HEX_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* sha256sum of the 5 MiB pattern_fill() output, computed outside this test */
#define HEX_PATTERN_5M "03920e77e01368ab306df31a060d11ceeef72465e394f4ab7d486ead5e94b542"

struct fixture {
    char dir[PATH_MAX]; /* the data dir */
    struct blobstore *bs;
};

/* ---- helpers ---- */

static void pattern_fill(unsigned char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)((i * 31 + (i >> 13)) & 0xff);
}

/* An unlinked in-memory file holding bytes, positioned at offset 0. */
static int input_fd(const void *bytes, size_t len)
{
    int fd = memfd_create("blob-input", MFD_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static int put_bytes(struct blobstore *bs, const void *bytes, size_t len, struct blob_info *info)
{
    int fd = input_fd(bytes, len);
    int rc = blobstore_put_fd(bs, fd, info, NULL, NULL);

    close(fd);
    return rc;
}

static void fx_path(const struct fixture *fx, const char *rel, char *out)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", fx->dir, rel);

    assert_true(n > 0 && n < PATH_MAX);
}

static void blob_file(const struct fixture *fx, const char *hex, char *out)
{
    assert_int_equal(blobstore_path(fx->bs, hex, out, PATH_MAX), 0);
}

static unsigned nftw_files;

static int count_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)st;
    (void)ftw;
    if (type == FTW_F)
        nftw_files++;
    return 0;
}

/* Regular files (at any depth) under fx->dir/rel. */
static unsigned count_files(const struct fixture *fx, const char *rel)
{
    char path[PATH_MAX];

    fx_path(fx, rel, path);
    nftw_files = 0;
    assert_int_equal(nftw(path, count_one, 16, FTW_PHYS), 0);
    return nftw_files;
}

static bool exists(const struct fixture *fx, const char *rel)
{
    char path[PATH_MAX];
    struct stat st;

    fx_path(fx, rel, path);
    return lstat(path, &st) == 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* Makes the blob writable and flips the byte at offset. */
static void tamper(const char *path, off_t offset)
{
    unsigned char c;
    int fd;

    assert_int_equal(chmod(path, 0640), 0);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, offset), 1);
    c ^= 0x01;
    assert_int_equal(pwrite(fd, &c, 1, offset), 1);
    close(fd);
}

/* ---- fixture ---- */

static int fx_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);

    if (fx == NULL || testdir_make("test_blobstore", fx->dir) != 0)
        return -1;
    if (blobstore_open(fx->dir, &fx->bs) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fixture *fx = *state;
    char mnt[PATH_MAX];

    blobstore_close(fx->bs);
    fx_path(fx, "mnt", mnt);
    (void)umount2(mnt, MNT_DETACH); /* left mounted only when the ENOSPC test failed */
    (void)testdir_remove(fx->dir);
    free(fx);
    return 0;
}

/* ---- names ---- */

static void test_valid_hex(void **state)
{
    (void)state;
    assert_true(blobstore_valid_hex(HEX_ABC));
    assert_true(blobstore_valid_hex(HEX_EMPTY));
    assert_false(blobstore_valid_hex(NULL));
    assert_false(blobstore_valid_hex(""));
    assert_false(blobstore_valid_hex(HEX_ABC "0"));                     /* 65 */
    assert_false(blobstore_valid_hex(&HEX_ABC[1]));                     /* 63 */
    assert_false(blobstore_valid_hex("BA7816BF8F01CFEA414140DE5DAE2223" /* upper case */
                                     "B00361A396177A9CB410FF61F20015AD"));
    assert_false(
        blobstore_valid_hex("ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    assert_false(blobstore_valid_hex("../../../../../../../../../../../../../../etc/passwd"
                                     "/.../......"));
}

static void test_path(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], want[PATH_MAX], tiny[16];

    fx_path(fx, "blobs/sha256/ba/78/" HEX_ABC, want);
    assert_int_equal(blobstore_path(fx->bs, HEX_ABC, path, sizeof path), 0);
    assert_string_equal(path, want);
    assert_int_equal(blobstore_path(fx->bs, HEX_ABC, path, strlen(want)), -ENAMETOOLONG);
    assert_int_equal(blobstore_path(fx->bs, HEX_ABC, tiny, sizeof tiny), -ENAMETOOLONG);
    assert_string_equal(tiny, "");
    assert_int_equal(blobstore_path(fx->bs, "../x", path, sizeof path), -EINVAL);
}

/* ---- open ---- */

static void test_open_creates_dirs(void **state)
{
    struct fixture *fx = *state;
    const char *dirs[] = {"blobs", "blobs/sha256", "blobs/tmp"};
    struct blobstore *again = NULL;
    char path[PATH_MAX];
    struct stat st;

    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        fx_path(fx, dirs[i], path);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0750);
    }
    assert_int_equal(blobstore_open(fx->dir, &again), 0); /* existing store */
    blobstore_close(again);

    fx_path(fx, "no/such/parent", path);
    assert_int_equal(blobstore_open(path, &again), -ENOENT);
    assert_null(again);
    fx_path(fx, "plain", path);
    write_file(path, "x");
    assert_int_equal(blobstore_open(path, &again), -ENOTDIR);
    assert_null(again);
    blobstore_close(NULL);
}

/* ---- put ---- */

static void test_put_small(void **state)
{
    struct fixture *fx = *state;
    struct blob_info info;
    char path[PATH_MAX], want[PATH_MAX], got[8] = {0};
    struct stat st;
    int fd = -1;

    assert_int_equal(put_bytes(fx->bs, "abc", 3, &info), 0);
    assert_string_equal(info.hex, HEX_ABC);
    assert_int_equal(info.size, 3);

    blob_file(fx, info.hex, path);
    fx_path(fx, "blobs/sha256/ba/78/" HEX_ABC, want);
    assert_string_equal(path, want);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0440);
    assert_int_equal(st.st_size, 3);
    assert_int_equal(count_files(fx, "blobs/sha256"), 1);
    assert_int_equal(count_files(fx, "blobs/tmp"), 0);

    assert_int_equal(blobstore_open_blob(fx->bs, info.hex, &fd), 0);
    assert_int_equal(read(fd, got, sizeof got), 3);
    assert_string_equal(got, "abc");
    assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    close(fd);
}

static void test_put_empty(void **state)
{
    struct fixture *fx = *state;
    struct blob_info info;

    assert_int_equal(put_bytes(fx->bs, "", 0, &info), 0);
    assert_string_equal(info.hex, HEX_EMPTY);
    assert_int_equal(info.size, 0);
    assert_true(exists(fx, "blobs/sha256/e3/b0/" HEX_EMPTY));
    assert_int_equal(blobstore_verify(fx->bs, HEX_EMPTY, 0), 0);
}

struct progress_log {
    unsigned calls;
    uint64_t last;
    bool increasing;
};

static void progress_record(void *arg, uint64_t done)
{
    struct progress_log *log = arg;

    if (done <= log->last)
        log->increasing = false;
    log->last = done;
    log->calls++;
}

static void test_put_5mib_known_hash(void **state)
{
    struct fixture *fx = *state;
    const size_t len = 5 * MIB;
    unsigned char *bytes = malloc(len), digest[EVP_MAX_MD_SIZE];
    struct progress_log log = {.increasing = true};
    struct blob_info info;
    unsigned digest_len = 0;
    char oneshot[BLOB_HEX_LEN + 1];
    int fd;

    assert_non_null(bytes);
    pattern_fill(bytes, len);
    fd = input_fd(bytes, len);
    assert_int_equal(blobstore_put_fd(fx->bs, fd, &info, progress_record, &log), 0);
    close(fd);
    assert_string_equal(info.hex, HEX_PATTERN_5M);
    assert_int_equal(info.size, len);

    /* the same hash, computed another way: one EVP_Digest over the whole buffer */
    assert_int_equal(EVP_Digest(bytes, len, digest, &digest_len, EVP_sha256(), NULL), 1);
    assert_int_equal(digest_len, 32);
    for (unsigned i = 0; i < digest_len; i++)
        snprintf(oneshot + 2 * i, 3, "%02x", digest[i]);
    assert_string_equal(info.hex, oneshot);

    assert_true(log.increasing);
    assert_int_equal(log.calls, 5); /* one per 1 MiB chunk */
    assert_int_equal(log.last, len);
    assert_true(exists(fx, "blobs/sha256/03/92/" HEX_PATTERN_5M));
    assert_int_equal(count_files(fx, "blobs/tmp"), 0);
    assert_int_equal(blobstore_verify(fx->bs, info.hex, 0), 0);
    free(bytes);
}

static void test_put_from_offset(void **state)
{
    struct fixture *fx = *state;
    struct blob_info info;
    int fd = input_fd("HEADERabc", 9);

    assert_int_equal(lseek(fd, 6, SEEK_SET), 6);
    assert_int_equal(blobstore_put_fd(fx->bs, fd, &info, NULL, NULL), 0);
    close(fd);
    assert_string_equal(info.hex, HEX_ABC);
    assert_int_equal(info.size, 3);
}

static void test_put_dedup(void **state)
{
    struct fixture *fx = *state;
    struct blob_info a, b;
    char path[PATH_MAX];
    struct stat st1, st2;

    assert_int_equal(put_bytes(fx->bs, "hello", 5, &a), 0);
    blob_file(fx, a.hex, path);
    assert_int_equal(stat(path, &st1), 0);
    assert_int_equal(put_bytes(fx->bs, "hello", 5, &b), 0);
    assert_string_equal(a.hex, HEX_HELLO);
    assert_string_equal(b.hex, a.hex);
    assert_int_equal(b.size, 5);
    assert_int_equal(count_files(fx, "blobs/sha256"), 1);
    assert_int_equal(count_files(fx, "blobs/tmp"), 0);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st1.st_ino, st2.st_ino); /* the existing blob was kept */
}

/* A damaged blob of the right size is not a duplicate: putting the bytes
 * again replaces it (importing the bundle again heals it). */
static void test_put_heals_damaged_blob(void **state)
{
    struct fixture *fx = *state;
    struct blob_info info;
    char path[PATH_MAX];
    struct stat st;

    assert_int_equal(put_bytes(fx->bs, "world", 5, &info), 0);
    blob_file(fx, info.hex, path);
    tamper(path, 2);
    assert_int_equal(blobstore_verify(fx->bs, HEX_WORLD, 0), -EBADMSG);
    assert_int_equal(put_bytes(fx->bs, "world", 5, &info), 0);
    assert_int_equal(blobstore_verify(fx->bs, HEX_WORLD, 0), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0440);
    assert_int_equal(count_files(fx, "blobs/sha256"), 1);
    assert_int_equal(count_files(fx, "blobs/tmp"), 0);
}

static void test_put_read_error(void **state)
{
    struct fixture *fx = *state;
    struct blob_info info = {.size = 77};
    int dirfd = open(fx->dir, O_RDONLY | O_DIRECTORY);
    int closed;

    assert_true(dirfd >= 0);
    assert_int_equal(blobstore_put_fd(fx->bs, dirfd, &info, NULL, NULL), -EISDIR);
    closed = dup2(dirfd, 900);
    assert_int_equal(closed, 900);
    close(closed);
    close(dirfd);
    assert_int_equal(blobstore_put_fd(fx->bs, closed, &info, NULL, NULL), -EBADF);
    assert_int_equal(info.size, 77); /* untouched on failure */
    assert_int_equal(count_files(fx, "blobs/tmp"), 0);
    assert_int_equal(count_files(fx, "blobs/sha256"), 0);
}

/* A full disk: -ENOSPC, and neither a temp file nor a blob is left. */
static void test_put_enospc(void **state)
{
    struct fixture *fx = *state;
    const size_t len = 2 * MIB;
    unsigned char *bytes = malloc(len);
    struct blobstore *small = NULL;
    struct blob_info info;
    struct statvfs before, after;
    char mnt[PATH_MAX];
    int fd;

    assert_non_null(bytes);
    fx_path(fx, "mnt", mnt);
    assert_int_equal(mkdir(mnt, 0700), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        free(bytes);
        skip(); /* needs root (CAP_SYS_ADMIN) */
    }
    assert_int_equal(blobstore_open(mnt, &small), 0);
    assert_int_equal(statvfs(mnt, &before), 0);
    pattern_fill(bytes, len);
    fd = input_fd(bytes, len);
    assert_int_equal(blobstore_put_fd(small, fd, &info, NULL, NULL), -ENOSPC);
    close(fd);
    assert_int_equal(count_files(fx, "mnt/blobs/tmp"), 0);
    assert_int_equal(count_files(fx, "mnt/blobs/sha256"), 0);
    assert_int_equal(statvfs(mnt, &after), 0);
    assert_int_equal(after.f_bfree, before.f_bfree);
    blobstore_close(small);
    assert_int_equal(umount(mnt), 0);
    free(bytes);
}

/* ---- open_blob and verify ---- */

static void test_open_blob_errors(void **state)
{
    struct fixture *fx = *state;
    char link[PATH_MAX];
    int fd = 5;

    assert_int_equal(blobstore_open_blob(fx->bs, HEX_WORLD, &fd), -ENOENT);
    assert_int_equal(fd, -1);
    assert_int_equal(blobstore_open_blob(fx->bs, "../../etc/passwd", &fd), -EINVAL);

    /* a symbolic link in place of a blob is never followed */
    fx_path(fx, "blobs/sha256/48", link);
    assert_int_equal(mkdir(link, 0750), 0);
    fx_path(fx, "blobs/sha256/48/6e", link);
    assert_int_equal(mkdir(link, 0750), 0);
    fx_path(fx, "blobs/sha256/48/6e/" HEX_WORLD, link);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    assert_int_equal(blobstore_open_blob(fx->bs, HEX_WORLD, &fd), -ELOOP);
    assert_int_equal(fd, -1);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void test_verify(void **state)
{
    struct fixture *fx = *state;
    const size_t len = 3 * MIB;
    unsigned char *bytes = malloc(len);
    struct blob_info info;
    struct timespec start;
    char path[PATH_MAX];

    assert_non_null(bytes);
    pattern_fill(bytes, len);
    assert_int_equal(put_bytes(fx->bs, bytes, len, &info), 0);
    free(bytes);
    assert_int_equal(blobstore_verify(fx->bs, info.hex, 0), 0);

    /* 3 MiB at 12 MiB/s cannot take less than a quarter of a second */
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(blobstore_verify(fx->bs, info.hex, 12 * MIB), 0);
    assert_true(seconds_since(&start) >= 0.25);

    blob_file(fx, info.hex, path);
    tamper(path, (off_t)len - 1);
    assert_int_equal(blobstore_verify(fx->bs, info.hex, 0), -EBADMSG);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(blobstore_verify(fx->bs, info.hex, 0), -ENOENT);
    assert_int_equal(blobstore_verify(fx->bs, HEX_HELLO, 0), -ENOENT);
    assert_int_equal(blobstore_verify(fx->bs, "abc", 0), -EINVAL);
}

/* ---- gc ---- */

static bool keep_only(void *arg, const char *hex)
{
    return strcmp(hex, arg) == 0;
}

static bool keep_all(void *arg, const char *hex)
{
    (void)arg;
    (void)hex;
    return true;
}

static void set_age(const struct fixture *fx, const char *rel, time_t age)
{
    struct timespec times[2] = {{.tv_sec = time(NULL) - age}, {.tv_sec = time(NULL) - age}};
    char path[PATH_MAX];

    fx_path(fx, rel, path);
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void test_gc(void **state)
{
    struct fixture *fx = *state;
    struct blob_info info;
    char path[PATH_MAX], fake[PATH_MAX], misplaced[PATH_MAX], misplaced2[PATH_MAX];
    unsigned removed = 99;

    /* a blob by name only, beside ba/78 in the same ab directory */
    snprintf(fake, sizeof fake, "blobs/sha256/ba/00/ba00%s", &HEX_ABC[4]);

    assert_int_equal(put_bytes(fx->bs, "abc", 3, &info), 0);
    assert_int_equal(put_bytes(fx->bs, "hello", 5, &info), 0);
    assert_int_equal(put_bytes(fx->bs, "world", 5, &info), 0);
    fx_path(fx, "blobs/sha256/ba/00", path);
    assert_int_equal(mkdir(path, 0750), 0);
    fx_path(fx, fake, path);
    write_file(path, "fake");
    /* things gc must leave alone: not blob names, or not in their place */
    fx_path(fx, "blobs/sha256/README", path);
    write_file(path, "not a blob");
    fx_path(fx, "blobs/sha256/ba/78/notes.txt", path);
    write_file(path, "not a blob");
    fx_path(fx, "blobs/sha256/ba/78/" HEX_ABC ".bak", path);
    write_file(path, "not a blob");
    fx_path(fx, "blobs/sha256/ba/78/" HEX_HELLO, path);
    write_file(path, "misplaced");
    snprintf(misplaced, sizeof misplaced, "blobs/sha256/ba/78/ba00%s", &HEX_ABC[4]);
    fx_path(fx, misplaced, path);
    write_file(path, "misplaced");
    snprintf(misplaced2, sizeof misplaced2, "blobs/sha256/ba/78/0078%s", &HEX_ABC[4]);
    fx_path(fx, misplaced2, path);
    write_file(path, "misplaced");
    fx_path(fx, "blobs/sha256/XY", path);
    assert_int_equal(mkdir(path, 0750), 0);
    /* temp files: one left by a crash long ago, one of an import in progress */
    fx_path(fx, "blobs/tmp/put-old", path);
    write_file(path, "partial");
    set_age(fx, "blobs/tmp/put-old", 120);
    fx_path(fx, "blobs/tmp/put-new", path);
    write_file(path, "partial");

    assert_int_equal(blobstore_gc(fx->bs, keep_only, HEX_ABC, &removed), 0);
    assert_int_equal(removed, 4); /* hello, world, the fake, put-old */
    assert_true(exists(fx, "blobs/sha256/ba/78/" HEX_ABC));
    assert_false(exists(fx, "blobs/sha256/2c")); /* emptied: pruned */
    assert_false(exists(fx, "blobs/sha256/48"));
    assert_false(exists(fx, "blobs/sha256/ba/00"));
    assert_true(exists(fx, "blobs/sha256/README"));
    assert_true(exists(fx, "blobs/sha256/ba/78/notes.txt"));
    assert_true(exists(fx, "blobs/sha256/ba/78/" HEX_ABC ".bak"));
    assert_true(exists(fx, "blobs/sha256/ba/78/" HEX_HELLO));
    assert_true(exists(fx, misplaced));
    assert_true(exists(fx, misplaced2));
    assert_true(exists(fx, "blobs/sha256/XY"));
    assert_false(exists(fx, "blobs/tmp/put-old"));
    assert_true(exists(fx, "blobs/tmp/put-new"));
    assert_int_equal(blobstore_verify(fx->bs, HEX_ABC, 0), 0);

    assert_int_equal(blobstore_gc(fx->bs, keep_all, NULL, &removed), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(blobstore_gc(fx->bs, NULL, NULL, &removed), -EINVAL);
}

static void test_gc_then_put(void **state)
{
    struct fixture *fx = *state;
    struct blob_info info;
    unsigned removed = 0;

    assert_int_equal(put_bytes(fx->bs, "abc", 3, &info), 0);
    assert_int_equal(blobstore_gc(fx->bs, keep_only, HEX_HELLO, &removed), 0);
    assert_int_equal(removed, 1);
    assert_false(exists(fx, "blobs/sha256/ba"));
    assert_int_equal(count_files(fx, "blobs"), 0);
    /* the pruned directories come back with the next put */
    assert_int_equal(put_bytes(fx->bs, "abc", 3, &info), 0);
    assert_int_equal(blobstore_verify(fx->bs, HEX_ABC, 0), 0);
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_hex),
        FX_TEST(test_path),
        FX_TEST(test_open_creates_dirs),
        FX_TEST(test_put_small),
        FX_TEST(test_put_empty),
        FX_TEST(test_put_5mib_known_hash),
        FX_TEST(test_put_from_offset),
        FX_TEST(test_put_dedup),
        FX_TEST(test_put_heals_damaged_blob),
        FX_TEST(test_put_read_error),
        FX_TEST(test_put_enospc),
        FX_TEST(test_open_blob_errors),
        FX_TEST(test_verify),
        FX_TEST(test_gc),
        FX_TEST(test_gc_then_put),
    };

    umask(022);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
