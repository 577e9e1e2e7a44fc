/* test_unpack.c: unpack_walk() on archives built here with libarchive's writer
 * (zip, tar, tgz, .cop.sgn behind a signed header written by a small TLV
 * writer, nested tars, loose files): what is walked, every refusal with its
 * enum and why text, the limits, and truncation at many lengths (ASan checks
 * crashes and leaks). Must not fix or mock unpack: only observe it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "server/firmware/unpack.h"
#include "tests/unit/testdir.h"

#define MIB          (UINT64_C(1) << 20)
#define REC_MAX      64
#define REC_KEEP     4096 /* bytes of each entry's contents kept for comparison */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum fmt { FMT_TAR, FMT_TGZ, FMT_ZIP };
enum kind { K_FILE, K_DIR, K_SYMLINK, K_HARDLINK, K_CHR, K_BLK, K_FIFO };

/* One entry to write. data NULL with len > 0: len zero bytes. */
struct spec {
    const char *path;
    const void *data;
    uint64_t len;
    enum kind kind;
    const char *target; /* symlink or hardlink target */
};

#define F(p, t)                                                                                    \
    {                                                                                              \
        (p), (t), sizeof(t) - 1, K_FILE, NULL                                                      \
    }
#define D(p)                                                                                       \
    {                                                                                              \
        (p), NULL, 0, K_DIR, NULL                                                                  \
    }
#define L(p, k, to)                                                                                \
    {                                                                                              \
        (p), NULL, 0, (k), (to)                                                                    \
    }
#define DEV(p, k)                                                                                  \
    {                                                                                              \
        (p), NULL, 0, (k), NULL                                                                    \
    }

/* What the walk handed to the callback. */
struct rec {
    char name[300];
    char path[600];
    uint64_t size;
    unsigned char data[REC_KEEP];
};

struct walkrec {
    struct rec r[REC_MAX];
    size_t n;        /* entries seen (all, even past REC_MAX) */
    long fail_at;    /* the callback refuses this entry (0-based), -1: never */
    bool skip_data;  /* the callback returns without reading */
    long read_error; /* the last negative read, 0 if none */
};

static char tmpdir[PATH_MAX];

/* ---- helpers: files ---- */

static void tpath(const char *name, char *out)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", tmpdir, name);

    assert_true(n > 0 && n < PATH_MAX);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    struct stat st;
    unsigned char *buf;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

/* ---- helpers: archives ---- */

static void write_entry(struct archive *a, const struct spec *s)
{
    static const unsigned char zeros[64 * 1024];
    struct archive_entry *e = archive_entry_new();
    static const mode_t types[] = {AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFREG,
                                   AE_IFCHR, AE_IFBLK, AE_IFIFO};
    int rc;

    assert_non_null(e);
    archive_entry_set_pathname(e, s->path);
    archive_entry_set_filetype(e, types[s->kind]);
    archive_entry_set_perm(e, s->kind == K_DIR ? 0755 : 0644);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (s->kind == K_FILE)
        archive_entry_set_size(e, (la_int64_t)s->len);
    if (s->kind == K_SYMLINK)
        archive_entry_set_symlink(e, s->target);
    if (s->kind == K_HARDLINK)
        archive_entry_set_hardlink(e, s->target);
    if (s->kind == K_CHR || s->kind == K_BLK)
        archive_entry_set_rdev(e, makedev(1, 3));
    rc = archive_write_header(a, e);
    /* A name that is not text in the locale is written as raw bytes, with a warning. */
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        fail_msg("archive_write_header: %s", archive_error_string(a));
    for (uint64_t done = 0; s->kind == K_FILE && done < s->len;) {
        size_t n = s->len - done > sizeof(zeros) ? sizeof(zeros) : (size_t)(s->len - done);
        const void *src = s->data != NULL ? (const unsigned char *)s->data + done : zeros;

        assert_int_equal(archive_write_data(a, src, n), (la_ssize_t)n);
        done += n;
    }
    archive_entry_free(e);
}

static void build(const char *path, enum fmt fmt, const struct spec *specs, size_t n)
{
    struct archive *a = archive_write_new();

    assert_non_null(a);
    if (fmt == FMT_ZIP) {
        assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
    } else {
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    }
    if (fmt == FMT_TGZ) {
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        assert_true(archive_write_set_filter_option(a, "gzip", "compression-level", "1") >=
                    ARCHIVE_WARN);
    }
    assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++)
        write_entry(a, &specs[i]);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* Builds an archive in a scratch file and returns its bytes. */
static unsigned char *build_mem(enum fmt fmt, const struct spec *specs, size_t n, size_t *len)
{
    char path[PATH_MAX];
    unsigned char *buf;

    tpath("scratch.archive", path);
    build(path, fmt, specs, n);
    buf = slurp(path, len);
    unlink(path);
    return buf;
}

/* ---- helpers: a signed header (sgn-format.md) ---- */

struct tw {
    uint8_t buf[1024];
    size_t len;
};

static void tw_tlv(struct tw *w, uint8_t tag, const void *value, size_t n)
{
    assert_true(w->len + 3 + n <= sizeof(w->buf));
    w->buf[w->len++] = tag;
    w->buf[w->len++] = (uint8_t)(n >> 8);
    w->buf[w->len++] = (uint8_t)n;
    if (n > 0)
        memcpy(w->buf + w->len, value, n);
    w->len += n;
}

static void tw_u8(struct tw *w, uint8_t tag, uint8_t v)
{
    tw_tlv(w, tag, &v, 1);
}

/* A container's head: tag and the length of the children that follow. */
static void tw_container(struct tw *w, uint8_t tag, size_t children)
{
    w->buf[w->len++] = tag;
    w->buf[w->len++] = (uint8_t)(children >> 8);
    w->buf[w->len++] = (uint8_t)children;
}

/* A well-formed header (SHA-256, 512-bit RSA slot, zero signature) naming file. */
static void sgn_header(struct tw *w, const char *file)
{
    static const uint8_t version[2] = {1, 0}, serial[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t sig[64];
    const char *subject = "CN=Test Signer;OU=unit;O=loadsd", *issuer = "CN=Test CA";
    size_t len_at;

    memset(w, 0, sizeof(*w));
    tw_tlv(w, 1, version, 2);
    len_at = w->len;
    tw_tlv(w, 2, "\0\0", 2);
    tw_container(w, 3, 3 + strlen(subject) + 1 + 3 + sizeof(serial) + 3 + strlen(issuer) + 1);
    tw_tlv(w, 4, subject, strlen(subject) + 1);
    tw_tlv(w, 5, serial, sizeof(serial));
    tw_tlv(w, 6, issuer, strlen(issuer) + 1);
    tw_container(w, 7, 4 + 3 + 4 + 4);
    tw_u8(w, 8, 2);
    tw_container(w, 9, 4 + 4);
    tw_u8(w, 10, 0);
    tw_u8(w, 11, 0);
    tw_tlv(w, 12, sig, sizeof(sig));
    tw_tlv(w, 14, file, strlen(file) + 1);
    while (w->len % 4 != 0)
        w->buf[w->len++] = 13;
    w->buf[len_at + 3] = (uint8_t)(w->len >> 8);
    w->buf[len_at + 4] = (uint8_t)w->len;
}

/* Writes header + body into path. */
static void write_cop(const char *path, const struct tw *hdr, const unsigned char *body, size_t len)
{
    unsigned char *all = malloc(hdr->len + len);

    assert_non_null(all);
    memcpy(all, hdr->buf, hdr->len);
    memcpy(all + hdr->len, body, len);
    write_bytes(path, all, hdr->len + len);
    free(all);
}

/* ---- the recording callback ---- */

static int record(void *arg, const struct unpack_entry *e, struct unpack_stream *s, char *why,
                  size_t why_cap)
{
    struct walkrec *w = arg;
    struct rec scratch, *r = w->n < REC_MAX ? &w->r[w->n] : &scratch;
    unsigned char buf[8192];
    long got;
    size_t idx = w->n++;

    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", e->name);
    snprintf(r->path, sizeof(r->path), "%s", e->path);
    if (w->fail_at >= 0 && (size_t)w->fail_at == idx) {
        snprintf(why, why_cap, "refused by the test at %s", e->name);
        return -1;
    }
    if (w->skip_data)
        return 0;
    while ((got = unpack_stream_read(s, buf, sizeof(buf))) > 0) {
        if (r->size < REC_KEEP) {
            size_t keep = REC_KEEP - (size_t)r->size;

            memcpy(r->data + r->size, buf, (size_t)got < keep ? (size_t)got : keep);
        }
        r->size += (uint64_t)got;
    }
    if (got < 0) {
        w->read_error = got;
        return -1;
    }
    return 0;
}

static int walk(const char *path, struct walkrec *w, char *why)
{
    memset(w, 0, sizeof(*w));
    w->fail_at = -1;
    return unpack_walk(path, record, w, why, UNPACK_WHY_MAX);
}

static const struct rec *find_rec(const struct walkrec *w, const char *name)
{
    for (size_t i = 0; i < w->n && i < REC_MAX; i++)
        if (strcmp(w->r[i].name, name) == 0)
            return &w->r[i];
    return NULL;
}

static void assert_rec(const struct walkrec *w, const char *name, const char *path,
                       const char *text)
{
    const struct rec *r = find_rec(w, name);

    if (r == NULL)
        fail_msg("%s was not walked", name);
    assert_string_equal(r->path, path);
    assert_int_equal(r->size, strlen(text));
    assert_memory_equal(r->data, text, strlen(text));
}

/* The reason a walk of path gives (a static buffer). */
static const char *why_of(const char *path)
{
    static char why[UNPACK_WHY_MAX];
    static struct walkrec w;

    (void)walk(path, &w, why);
    return why;
}

/* The walk of path is refused with rc, and why names the entry and the reason. */
static void assert_refused(const char *path, int rc, const char *entry, const char *reason)
{
    struct walkrec w;
    char why[UNPACK_WHY_MAX];

    assert_int_equal(walk(path, &w, why), rc);
    if (strstr(why, entry) == NULL || strstr(why, reason) == NULL)
        fail_msg("why \"%s\" should name \"%s\" and say \"%s\"", why, entry, reason);
}

static void refuse_one(enum fmt fmt, const struct spec *bad, int rc, const char *entry,
                       const char *reason)
{
    const struct spec specs[] = {F("ok.bin", "fine"), *bad, F("after.bin", "later")};
    char path[PATH_MAX];

    tpath(fmt == FMT_ZIP ? "refuse.zip" : fmt == FMT_TGZ ? "refuse.tgz" : "refuse.tar", path);
    build(path, fmt, specs, ARRAY_LEN(specs));
    assert_refused(path, rc, entry, reason);
    unlink(path);
}

/* ---- fixture ---- */

static int setup(void **state)
{
    (void)state;
    return testdir_make("test_unpack", tmpdir);
}

static int teardown(void **state)
{
    (void)state;
    (void)testdir_remove(tmpdir);
    return 0;
}

/* ---- what is walked ---- */

static const struct spec tree[] = {
    D("fw/"),
    D("fw/sub/"),
    F("fw/SIP41.loads", "jar41.sbn\ndsp41.sbn\n"),
    F("fw/sub/jar41.sbn", "JAR-BYTES"),
    F("dsp41.sbn", "DSP"),
    F("./dot.bin", "dot"),
    F("a/..name.bin", "two dots lead the name"),
    F("empty.bin", ""),
    F("__MACOSX/fw/._SIP41.loads", "resource fork"),
    F("fw/._jar41.sbn", "apple double"),
    F(".DS_Store", "finder"),
};

static void check_tree(const char *path)
{
    struct walkrec w;
    char why[UNPACK_WHY_MAX];

    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_string_equal(why, "");
    assert_int_equal(w.n, 6);
    assert_rec(&w, "SIP41.loads", "fw/SIP41.loads", "jar41.sbn\ndsp41.sbn\n");
    assert_rec(&w, "jar41.sbn", "fw/sub/jar41.sbn", "JAR-BYTES");
    assert_rec(&w, "dsp41.sbn", "dsp41.sbn", "DSP");
    assert_rec(&w, "dot.bin", "./dot.bin", "dot");
    assert_rec(&w, "..name.bin", "a/..name.bin", "two dots lead the name");
    assert_rec(&w, "empty.bin", "empty.bin", "");
    /* in bundle order */
    assert_string_equal(w.r[0].name, "SIP41.loads");
    assert_string_equal(w.r[5].name, "empty.bin");
}

static void test_walk_tar(void **state)
{
    char path[PATH_MAX];

    (void)state;
    tpath("bundle.tar", path);
    build(path, FMT_TAR, tree, ARRAY_LEN(tree));
    check_tree(path);
}

static void test_walk_tgz(void **state)
{
    char path[PATH_MAX], path2[PATH_MAX];
    size_t len;
    unsigned char *bytes;

    (void)state;
    tpath("bundle.tgz", path);
    build(path, FMT_TGZ, tree, ARRAY_LEN(tree));
    check_tree(path);
    /* the same bytes as .tar.gz, in upper case */
    bytes = slurp(path, &len);
    tpath("BUNDLE.TAR.GZ", path2);
    write_bytes(path2, bytes, len);
    free(bytes);
    check_tree(path2);
}

static void test_walk_zip(void **state)
{
    char path[PATH_MAX];

    (void)state;
    tpath("bundle.zip", path);
    build(path, FMT_ZIP, tree, ARRAY_LEN(tree));
    check_tree(path);
}

static void test_walk_inner_tar(void **state)
{
    const struct spec inner[] = {D("inner/"), F("inner/cnu41.sbn", "CNU"), F("apps41.sbn", "APPS")};
    size_t len;
    unsigned char *tar = build_mem(FMT_TAR, inner, ARRAY_LEN(inner), &len);
    const struct spec outer[] = {F("SIP41.loads", "cnu41.sbn\napps41.sbn\n"),
                                 {"payload/inner.tar", tar, len, K_FILE, NULL},
                                 F("last.bin", "LAST")};
    struct walkrec w;
    char path[PATH_MAX], why[UNPACK_WHY_MAX];

    (void)state;
    tpath("nested.tar.gz", path);
    build(path, FMT_TGZ, outer, ARRAY_LEN(outer));
    free(tar);
    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_int_equal(w.n, 4);
    assert_null(find_rec(&w, "inner.tar"));
    assert_rec(&w, "cnu41.sbn", "inner/cnu41.sbn", "CNU");
    assert_rec(&w, "apps41.sbn", "apps41.sbn", "APPS");
    assert_rec(&w, "last.bin", "last.bin", "LAST");
    assert_string_equal(w.r[3].name, "last.bin");
}

static void test_walk_nested_too_deep(void **state)
{
    const struct spec deepest[] = {F("x.bin", "X")};
    size_t len1, len2;
    unsigned char *t1 = build_mem(FMT_TAR, deepest, 1, &len1), *t2;
    const struct spec mid[] = {{"deep.tar", t1, len1, K_FILE, NULL}};
    char path[PATH_MAX];

    (void)state;
    t2 = build_mem(FMT_TAR, mid, 1, &len2);
    {
        const struct spec top[] = {{"mid.tgz", t2, len2, K_FILE, NULL}};

        tpath("deep.tgz", path);
        build(path, FMT_TGZ, top, 1);
    }
    free(t1);
    free(t2);
    assert_refused(path, UNPACK_LIMIT, "deep.tar", "archives nested too deep");
}

/* A nested ".tar" that is not a tar: corrupt, and why names that entry. */
static void test_walk_nested_garbage(void **state)
{
    const struct spec specs[] = {F("a.bin", "A"), F("fake.tar", "this is not a tar archive"),
                                 F("b.bin", "B")};
    char path[PATH_MAX];

    (void)state;
    tpath("garbage-inner.tgz", path);
    build(path, FMT_TGZ, specs, ARRAY_LEN(specs));
    assert_refused(path, UNPACK_CORRUPT, "fake.tar", "");
}

static void test_walk_cop_sgn(void **state)
{
    const struct spec inner[] = {F("cnu41.sbn", "CNU"), F("dsp41.sbn", "DSP")};
    size_t ilen, tlen;
    unsigned char *tar = build_mem(FMT_TAR, inner, ARRAY_LEN(inner), &ilen), *tgz;
    const struct spec body[] = {F("SIP41.loads", "cnu41.sbn\ndsp41.sbn\n"),
                                {"inner.tar", tar, ilen, K_FILE, NULL}};
    struct tw hdr;
    struct walkrec w;
    char path[PATH_MAX], why[UNPACK_WHY_MAX];

    (void)state;
    tgz = build_mem(FMT_TGZ, body, ARRAY_LEN(body), &tlen);
    free(tar);
    sgn_header(&hdr, "bundle.cop.sgn");
    assert_int_equal(hdr.len % 4, 0);
    tpath("bundle.cop.sgn", path);
    write_cop(path, &hdr, tgz, tlen);
    assert_int_equal(unpack_cop_header_len(path), (long)hdr.len);
    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_int_equal(w.n, 3);
    assert_rec(&w, "SIP41.loads", "SIP41.loads", "cnu41.sbn\ndsp41.sbn\n");
    assert_rec(&w, "cnu41.sbn", "cnu41.sbn", "CNU");
    assert_rec(&w, "dsp41.sbn", "dsp41.sbn", "DSP");

    /* the tgz without its header under a .cop.sgn name: refused */
    tpath("plain.cop.sgn", path);
    write_bytes(path, tgz, tlen);
    assert_int_equal(unpack_cop_header_len(path), 0);
    assert_refused(path, UNPACK_CORRUPT, "", "no valid signed header");
    assert_null(strstr(why_of(path), "plain.cop.sgn")); /* the caller names the bundle */

    /* a header that claims to run past the end of the file */
    hdr.buf[8] = 0xff;
    hdr.buf[9] = 0xfc;
    tpath("short.cop.sgn", path);
    write_cop(path, &hdr, tgz, 16);
    assert_int_equal(unpack_cop_header_len(path), UNPACK_CORRUPT);
    assert_refused(path, UNPACK_CORRUPT, "", "no valid signed header");
    free(tgz);
}

static void test_walk_loose(void **state)
{
    struct walkrec w;
    char path[PATH_MAX], why[UNPACK_WHY_MAX];

    (void)state;
    tpath("P0S3-08-11-00.sbn", path);
    write_bytes(path, "loose bytes", 11);
    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_int_equal(w.n, 1);
    assert_rec(&w, "P0S3-08-11-00.sbn", "P0S3-08-11-00.sbn", "loose bytes");
    assert_int_equal(unpack_cop_header_len(path), 0);

    /* an empty loose file is one empty entry */
    tpath("empty.loads", path);
    write_bytes(path, "", 0);
    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.r[0].size, 0);
}

static void test_walk_io_errors(void **state)
{
    struct walkrec w;
    char path[PATH_MAX], why[UNPACK_WHY_MAX];

    (void)state;
    tpath("missing.tgz", path);
    assert_int_equal(walk(path, &w, why), UNPACK_IO);
    assert_null(strstr(why, "missing.tgz")); /* the reason, not the server's path */
    assert_non_null(strstr(why, "No such file"));
    assert_int_equal(unpack_cop_header_len(path), UNPACK_IO);
    assert_int_equal(w.n, 0);
    tpath("adir.zip", path);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(walk(path, &w, why), UNPACK_IO);
    assert_non_null(strstr(why, "not a regular file"));
    /* bytes that are no archive at all */
    tpath("text.zip", path);
    write_bytes(path, "hello, not a zip file at all", 28);
    assert_int_equal(walk(path, &w, why), UNPACK_CORRUPT);
    assert_true(why[0] != '\0');
    assert_int_equal(w.n, 0);
}

/* ---- the callback's part ---- */

static void test_callback_refuses(void **state)
{
    const struct spec specs[] = {F("one.bin", "1"), F("two.bin", "2"), F("three.bin", "3")};
    struct walkrec w;
    char path[PATH_MAX], why[UNPACK_WHY_MAX];

    (void)state;
    tpath("cb.tar", path);
    build(path, FMT_TAR, specs, ARRAY_LEN(specs));
    memset(&w, 0, sizeof(w));
    w.fail_at = 1;
    assert_int_equal(unpack_walk(path, record, &w, why, sizeof(why)), UNPACK_CALLBACK);
    assert_string_equal(why, "refused by the test at two.bin");
    assert_int_equal(w.n, 2); /* stopped there */

    /* a loose file too */
    tpath("loose.sbn", path);
    write_bytes(path, "x", 1);
    memset(&w, 0, sizeof(w));
    w.fail_at = 0;
    assert_int_equal(unpack_walk(path, record, &w, why, sizeof(why)), UNPACK_CALLBACK);
    assert_string_equal(why, "refused by the test at loose.sbn");
}

/* A callback that leaves the data unread still sees every entry. */
static void test_callback_skips_data(void **state)
{
    const struct spec specs[] = {F("one.bin", "11111111"), F("two.bin", "2"), F("three.bin", "")};
    enum fmt fmts[] = {FMT_TAR, FMT_TGZ, FMT_ZIP};
    const char *names[] = {"skip.tar", "skip.tgz", "skip.zip"};
    struct walkrec w;
    char path[PATH_MAX], why[UNPACK_WHY_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(fmts); i++) {
        tpath(names[i], path);
        build(path, fmts[i], specs, ARRAY_LEN(specs));
        memset(&w, 0, sizeof(w));
        w.fail_at = -1;
        w.skip_data = true;
        assert_int_equal(unpack_walk(path, record, &w, why, sizeof(why)), UNPACK_OK);
        assert_int_equal(w.n, 3);
        assert_string_equal(w.r[2].name, "three.bin");
    }
}

/* ---- refusals ---- */

static void test_refuse_paths(void **state)
{
    static const struct {
        struct spec bad;
        const char *entry, *reason;
    } cases[] = {
        {F("/etc/passwd", "root"), "/etc/passwd", "absolute path"},
        {F("../evil.bin", "x"), "../evil.bin", "(\"..\")"},
        {F("a/../b.bin", "x"), "a/../b.bin", "(\"..\")"},
        {F("a/b/..", "x"), "a/b/..", "(\"..\")"},
        /* why is log_clean()ed: a backslash shows as \x5c */
        {F("\\abs.bin", "x"), "\\x5cabs.bin", "absolute path"},
        {F("a\\..\\b.bin", "x"), "a\\x5c..\\x5cb.bin", "(\"..\")"},
        {F("..\\up.bin", "x"), "..\\x5cup.bin", "(\"..\")"},
        {F("dir\\", "x"), "dir\\x5c", "empty or over-long file name"},
        {F("bad\001name.bin", "x"), "name.bin", "control character in the name"},
        {F("tab\tname.bin", "x"), "name.bin", "control character in the name"},
        {F("del\177name.bin", "x"), "name.bin", "control character in the name"},
        {F("new\nline.bin", "x"), "line.bin", "control character in the name"},
        {F("only\303(bad.bin", "x"), "(bad.bin", "not UTF-8 text"},
        {F("cli\377.bin", "x"), ".bin", "not UTF-8 text"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        refuse_one(FMT_TAR, &cases[i].bad, UNPACK_UNSAFE, cases[i].entry, cases[i].reason);
    /* the same through zip and tgz */
    refuse_one(FMT_ZIP, &cases[0].bad, UNPACK_UNSAFE, "/etc/passwd", "absolute path");
    refuse_one(FMT_ZIP, &cases[2].bad, UNPACK_UNSAFE, "a/../b.bin", "(\"..\")");
    refuse_one(FMT_TGZ, &cases[1].bad, UNPACK_UNSAFE, "../evil.bin", "(\"..\")");
}

/* "." is a name no TFTP client can ask for (the resolver drops "."
 * components), so a regular file called "." or "a/." must be refused like
 * the other bad names instead of being published as ".". */
static void test_refuse_dot_name(void **state)
{
    static const struct spec dot = F(".", "x"), adot = F("fw/.", "x");

    (void)state;
    refuse_one(FMT_TAR, &dot, UNPACK_UNSAFE, ".", "");
    refuse_one(FMT_TAR, &adot, UNPACK_UNSAFE, "fw/.", "");
}

/* Backslashes separate folders too: the name is the last part. */
static void test_backslash_flattens(void **state)
{
    const struct spec specs[] = {F("win\\dir\\file.bin", "W")};
    struct walkrec w;
    char path[PATH_MAX], why[UNPACK_WHY_MAX];

    (void)state;
    tpath("backslash.tar", path);
    build(path, FMT_TAR, specs, 1);
    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_int_equal(w.n, 1);
    assert_rec(&w, "file.bin", "win\\dir\\file.bin", "W");
}

static void test_refuse_links_devices(void **state)
{
    static const struct spec bad[] = {
        L("link.bin", K_SYMLINK, "/etc/passwd"),
        L("rel-link.bin", K_SYMLINK, "ok.bin"),
        L("hard.bin", K_HARDLINK, "ok.bin"),
        DEV("tty.dev", K_CHR),
        DEV("disk.dev", K_BLK),
        DEV("pipe.fifo", K_FIFO),
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        refuse_one(FMT_TAR, &bad[i], UNPACK_UNSAFE, bad[i].path, "not a regular file");
    refuse_one(FMT_TGZ, &bad[0], UNPACK_UNSAFE, "link.bin", "not a regular file");
    refuse_one(FMT_ZIP, &bad[0], UNPACK_UNSAFE, "link.bin", "not a regular file");
}

static void test_name_length(void **state)
{
    char name[300], path[PATH_MAX], why[UNPACK_WHY_MAX];
    struct spec s = {name, "x", 1, K_FILE, NULL};
    struct walkrec w;

    (void)state;
    memset(name, 'n', 255);
    name[255] = '\0';
    tpath("name255.tar", path);
    build(path, FMT_TAR, &s, 1);
    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_int_equal(w.n, 1);
    assert_int_equal(strlen(w.r[0].name), 255);

    memset(name, 'n', 256);
    name[256] = '\0';
    refuse_one(FMT_TAR, &s, UNPACK_UNSAFE, "nnnnnnnn", "empty or over-long file name");
    /* a long path is fine when its last part is short */
    memset(name, 'd', 280);
    memcpy(name + 280, "/short.bin", 11);
    tpath("longpath.tar", path);
    build(path, FMT_TAR, &s, 1);
    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_string_equal(w.r[0].name, "short.bin");
}

/* ---- limits ---- */

static void build_many(const char *path, unsigned n)
{
    struct spec *specs = calloc(n, sizeof(*specs));
    char *names = malloc((size_t)n * 16);

    assert_non_null(specs);
    assert_non_null(names);
    for (unsigned i = 0; i < n; i++) {
        snprintf(names + (size_t)i * 16, 16, "f%05u.bin", i);
        specs[i] = (struct spec){names + (size_t)i * 16, "", 0, K_FILE, NULL};
    }
    build(path, FMT_TGZ, specs, n);
    free(specs);
    free(names);
}

static void test_limit_entries(void **state)
{
    struct walkrec w;
    char path[PATH_MAX], why[UNPACK_WHY_MAX];

    (void)state;
    tpath("many.tgz", path);
    build_many(path, UNPACK_ENTRIES_MAX);
    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_int_equal(w.n, UNPACK_ENTRIES_MAX);
    tpath("toomany.tgz", path);
    build_many(path, UNPACK_ENTRIES_MAX + 1);
    assert_int_equal(walk(path, &w, why), UNPACK_LIMIT);
    assert_int_equal(w.n, UNPACK_ENTRIES_MAX);
    assert_non_null(strstr(why, "f10000.bin"));
    assert_non_null(strstr(why, "too many files"));
}

static void test_limit_ratio(void **state)
{
    const struct spec bomb[] = {F("SIP.loads", "zeros.bin\n"),
                                {"zeros.bin", NULL, 70 * MIB, K_FILE, NULL},
                                F("after.bin", "A")};
    const struct spec fine[] = {{"zeros8.bin", NULL, 8 * MIB, K_FILE, NULL}};
    struct walkrec w;
    char path[PATH_MAX], why[UNPACK_WHY_MAX];
    struct stat st;

    (void)state;
    tpath("bomb.tgz", path);
    build(path, FMT_TGZ, bomb, ARRAY_LEN(bomb));
    assert_int_equal(stat(path, &st), 0);
    assert_true((uint64_t)st.st_size * UNPACK_RATIO_MAX < 70 * MIB);
    assert_int_equal(walk(path, &w, why), UNPACK_LIMIT);
    assert_int_equal(w.n, 2);
    assert_true(w.read_error == UNPACK_LIMIT);
    /* it stopped just past the floor, not at the end of the entry */
    assert_true(w.r[1].size <= UNPACK_RATIO_FLOOR);
    assert_non_null(strstr(why, "zeros.bin"));
    assert_non_null(strstr(why, "compression ratio"));

    /* under the floor a small bundle may compress as well as it likes */
    tpath("fine.tgz", path);
    build(path, FMT_TGZ, fine, 1);
    assert_int_equal(walk(path, &w, why), UNPACK_OK);
    assert_int_equal(w.r[0].size, 8 * MIB);
}

/* ---- sizes declared in headers ---- */

#define TAR_BLOCK 512

enum size_field { SIZE_OCTAL, SIZE_BASE256, SIZE_PAX };

/* A ustar header for a regular file (or a pax 'x' header); the size field
 * holds size in octal, or in GNU base-256 (high bit set), or 0 (pax). */
static void tar_header(unsigned char *h, const char *name, char type, uint64_t size,
                       enum size_field how)
{
    unsigned sum = 0;

    memset(h, 0, TAR_BLOCK);
    snprintf((char *)h, 100, "%s", name);
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    if (how == SIZE_BASE256) {
        h[124] = 0x80;
        for (int i = 0; i < 8; i++)
            h[135 - i] = (unsigned char)(size >> (8 * i));
    } else {
        snprintf((char *)h + 124, 12, "%011llo",
                 (unsigned long long)(how == SIZE_OCTAL ? size : 0));
    }
    memcpy(h + 136, "00000000000", 12);
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    for (int i = 0; i < TAR_BLOCK; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
}

/* ok.bin (4 bytes), then big.bin declaring size (how), followed by only
 * 64 KiB of data and the end: the rest of the declared bytes never come. */
static void write_declared(const char *path, uint64_t size, enum size_field how)
{
    size_t cap = 8 * TAR_BLOCK + 64 * 1024, n = 0;
    unsigned char *buf = calloc(1, cap);
    char pax[64];
    int len;

    assert_non_null(buf);
    tar_header(buf + n, "ok.bin", '0', 4, SIZE_OCTAL);
    memcpy(buf + n + TAR_BLOCK, "fine", 4);
    n += 2 * TAR_BLOCK;
    if (how == SIZE_PAX) {
        len = snprintf(pax, sizeof(pax), "xx size=%llu\n", (unsigned long long)size);
        snprintf(pax, sizeof(pax), "%d size=%llu\n", len, (unsigned long long)size);
        tar_header(buf + n, "PaxHeader/big.bin", 'x', strlen(pax), SIZE_OCTAL);
        memcpy(buf + n + TAR_BLOCK, pax, strlen(pax));
        n += 2 * TAR_BLOCK;
    }
    tar_header(buf + n, "big.bin", '0', size, how);
    n += TAR_BLOCK;
    memset(buf + n, 'x', 64 * 1024);
    n += 64 * 1024;
    write_bytes(path, buf, n);
    free(buf);
}

/* A member declaring 16 GiB (or just over 4 GiB) is refused on its header:
 * the callback never sees it, so nothing of it is written anywhere. */
static void test_refuse_declared_size(void **state)
{
    static const struct {
        uint64_t size;
        enum size_field how;
    } cases[] = {
        {UINT64_C(16) << 30, SIZE_BASE256},
        {UINT64_C(16) << 30, SIZE_PAX},
        {UNPACK_ENTRY_MAX + 1, SIZE_OCTAL},
    };
    char path[PATH_MAX];

    (void)state;
    tpath("declared.tar", path);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct walkrec w;
        char why[UNPACK_WHY_MAX];

        write_declared(path, cases[i].size, cases[i].how);
        assert_int_equal(walk(path, &w, why), UNPACK_LIMIT);
        assert_int_equal(w.n, 1); /* ok.bin only: big.bin never reached the callback */
        if (strstr(why, "big.bin") == NULL || strstr(why, "declares a size") == NULL)
            fail_msg("case %zu: why \"%s\"", i, why);
    }
    unlink(path);
}

/* ---- truncated archives ---- */

static const struct spec small[] = {
    D("dir/"),
    F("dir/SIP41.loads", "jar41.sbn\r\ndsp41.sbn\r\n"),
    F("jar41.sbn", "JAR JAR JAR JAR JAR JAR JAR JAR JAR JAR JAR JAR JAR JAR JAR"),
    F("dsp41.sbn", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
};

struct trunc_counts {
    unsigned errors, shorter, complete;
};

/* Walks the first len bytes of bytes as a file named name; the walk fails
 * with a reason or hands out a prefix of the full walk, entries intact. */
static void walk_prefix(const char *name, const unsigned char *bytes, size_t len,
                        const struct walkrec *full, struct trunc_counts *counts)
{
    struct walkrec *w = malloc(sizeof(*w));
    char path[PATH_MAX], why[UNPACK_WHY_MAX];
    int rc;

    assert_non_null(w);
    tpath(name, path);
    write_bytes(path, bytes, len);
    rc = walk(path, w, why);
    if (rc < UNPACK_CALLBACK || rc > UNPACK_OK)
        fail_msg("%s cut at %zu: result %d is no unpack_result", name, len, rc);
    if (rc != UNPACK_OK) {
        if (why[0] == '\0')
            fail_msg("%s cut at %zu: result %d without a reason", name, len, rc);
        counts->errors++;
        free(w);
        return;
    }
    if (w->n > full->n)
        fail_msg("%s cut at %zu: %zu entries, more than the %zu of the whole", name, len, w->n,
                 full->n);
    for (size_t i = 0; i < w->n; i++) {
        if (strcmp(w->r[i].name, full->r[i].name) != 0 || w->r[i].size != full->r[i].size ||
            memcmp(w->r[i].data, full->r[i].data, (size_t)full->r[i].size) != 0)
            fail_msg("%s cut at %zu: entry %s differs from the whole archive's and the walk "
                     "succeeded",
                     name, len, w->r[i].name);
    }
    if (w->n < full->n)
        counts->shorter++;
    else
        counts->complete++;
    free(w);
}

static void truncate_all(enum fmt fmt, const char *name, size_t step)
{
    struct walkrec *full = malloc(sizeof(*full));
    struct trunc_counts counts = {0, 0, 0};
    char path[PATH_MAX], why[UNPACK_WHY_MAX];
    unsigned char *bytes;
    size_t len;

    assert_non_null(full);
    tpath(name, path);
    build(path, fmt, small, ARRAY_LEN(small));
    bytes = slurp(path, &len);
    assert_int_equal(walk(path, full, why), UNPACK_OK);
    assert_int_equal(full->n, 3);
    for (size_t cut = 0; cut < len; cut += step)
        walk_prefix(name, bytes, cut, full, &counts);
    walk_prefix(name, bytes, len - 1, full, &counts);
    print_message("%s: %zu bytes, cut every %zu: %u refused, %u shorter walks, %u complete\n", name,
                  len, step, counts.errors, counts.shorter, counts.complete);
    /* a cut inside the data of any entry must be noticed */
    assert_true(counts.errors > 0);
    free(bytes);
    free(full);
}

static void test_truncated_tar(void **state)
{
    (void)state;
    truncate_all(FMT_TAR, "cut.tar", 1);
}

static void test_truncated_tgz(void **state)
{
    (void)state;
    truncate_all(FMT_TGZ, "cut.tgz", 7);
}

static void test_truncated_zip(void **state)
{
    (void)state;
    truncate_all(FMT_ZIP, "cut.zip", 7);
}

static void test_truncated_cop_sgn(void **state)
{
    struct walkrec *full = malloc(sizeof(*full));
    struct trunc_counts counts = {0, 0, 0};
    char path[PATH_MAX], why[UNPACK_WHY_MAX];
    unsigned char *tgz, *all;
    struct tw hdr;
    size_t tlen;

    (void)state;
    assert_non_null(full);
    tgz = build_mem(FMT_TGZ, small, ARRAY_LEN(small), &tlen);
    sgn_header(&hdr, "cut.cop.sgn");
    tpath("cut.cop.sgn", path);
    write_cop(path, &hdr, tgz, tlen);
    free(tgz);
    all = slurp(path, &tlen);
    assert_int_equal(walk(path, full, why), UNPACK_OK);
    assert_int_equal(full->n, 3);
    for (size_t cut = 0; cut < tlen; cut += 3)
        walk_prefix("cut.cop.sgn", all, cut, full, &counts);
    print_message("cut.cop.sgn: %zu bytes: %u refused, %u shorter, %u complete\n", tlen,
                  counts.errors, counts.shorter, counts.complete);
    assert_true(counts.errors > 0);
    free(all);
    free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_tar),
        cmocka_unit_test(test_walk_tgz),
        cmocka_unit_test(test_walk_zip),
        cmocka_unit_test(test_walk_inner_tar),
        cmocka_unit_test(test_walk_nested_too_deep),
        cmocka_unit_test(test_walk_nested_garbage),
        cmocka_unit_test(test_walk_cop_sgn),
        cmocka_unit_test(test_walk_loose),
        cmocka_unit_test(test_walk_io_errors),
        cmocka_unit_test(test_callback_refuses),
        cmocka_unit_test(test_callback_skips_data),
        cmocka_unit_test(test_refuse_paths),
        cmocka_unit_test(test_refuse_dot_name),
        cmocka_unit_test(test_backslash_flattens),
        cmocka_unit_test(test_refuse_links_devices),
        cmocka_unit_test(test_name_length),
        cmocka_unit_test(test_limit_entries),
        cmocka_unit_test(test_limit_ratio),
        cmocka_unit_test(test_refuse_declared_size),
        cmocka_unit_test(test_truncated_tar),
        cmocka_unit_test(test_truncated_tgz),
        cmocka_unit_test(test_truncated_zip),
        cmocka_unit_test(test_truncated_cop_sgn),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
