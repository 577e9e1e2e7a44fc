/* test_resolver.c: resolver_normalize() table, the source chain and its
 * refcount, and the serve-dir source in a mkdtemp
 * root (case folding, symlinks in and out, non-regular files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include <cmocka.h>

#include "server/resolve/resolver.h"
#include "tests/unit/testdir.h"

/* ---- resolver_normalize ---- */

struct norm_case {
    const char *in;
    int rc;
    const char *out;
};

static const struct norm_case norm_cases[] = {
    {"a", RESOLVER_OK, "a"},
    {"SEP001122334455.cnf.xml", RESOLVER_OK, "SEP001122334455.cnf.xml"},
    {"/a/b", RESOLVER_OK, "a/b"},
    {"///a", RESOLVER_OK, "a"},
    {"a\\b", RESOLVER_OK, "a/b"},
    {"\\a\\b", RESOLVER_OK, "a/b"},
    {"a//b", RESOLVER_OK, "a/b"},
    {"a\\/\\b", RESOLVER_OK, "a/b"},
    {"./a/./b", RESOLVER_OK, "a/b"},
    {"a/b/", RESOLVER_OK, "a/b"},
    {"a/.", RESOLVER_OK, "a"},
    {".a", RESOLVER_OK, ".a"},
    {"a..", RESOLVER_OK, "a.."},
    {"...", RESOLVER_OK, "..."},
    {"..a/b", RESOLVER_OK, "..a/b"},
    {"a b", RESOLVER_OK, "a b"},
    {"caf\xc3\xa9.txt", RESOLVER_OK, "caf\xc3\xa9.txt"},
    {"\xff\x80", RESOLVER_OK, "\xff\x80"},
    {"~", RESOLVER_OK, "~"},
    {"..", RESOLVER_BAD_NAME, ""},
    {"../x", RESOLVER_BAD_NAME, ""},
    {"..\\x", RESOLVER_BAD_NAME, ""},
    {"a/../../x", RESOLVER_BAD_NAME, ""},
    {"a/../b", RESOLVER_BAD_NAME, ""}, /* even one that would stay inside */
    {"a/..", RESOLVER_BAD_NAME, ""},
    {"/../etc/passwd", RESOLVER_BAD_NAME, ""},
    {"a\\..\\b", RESOLVER_BAD_NAME, ""},
    {"a\x01"
     "b",
     RESOLVER_BAD_NAME, ""},
    {"a\x1f", RESOLVER_BAD_NAME, ""},
    {"a\nb", RESOLVER_BAD_NAME, ""},
    {"a\tb", RESOLVER_BAD_NAME, ""},
    {"a\x7f", RESOLVER_BAD_NAME, ""},
    {"", RESOLVER_BAD_NAME, ""},
    {"/", RESOLVER_BAD_NAME, ""},
    {"\\", RESOLVER_BAD_NAME, ""},
    {".", RESOLVER_BAD_NAME, ""},
    {"./", RESOLVER_BAD_NAME, ""},
    {"/././/", RESOLVER_BAD_NAME, ""},
};

static void test_normalize_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
        char out[RESOLVER_NAME_MAX + 1];

        print_message("case %zu\n", i);
        memset(out, 'Z', sizeof(out));
        assert_int_equal(resolver_normalize(norm_cases[i].in, out, sizeof(out)), norm_cases[i].rc);
        assert_string_equal(out, norm_cases[i].out);
    }
}

static void test_normalize_lengths(void **state)
{
    char in[600];
    char out[600];

    (void)state;
    /* RESOLVER_NAME_MAX bytes pass, one more does not. */
    memset(in, 'n', RESOLVER_NAME_MAX);
    in[RESOLVER_NAME_MAX] = '\0';
    assert_int_equal(resolver_normalize(in, out, sizeof(out)), RESOLVER_OK);
    assert_int_equal(strlen(out), RESOLVER_NAME_MAX);
    in[RESOLVER_NAME_MAX] = 'n';
    in[RESOLVER_NAME_MAX + 1] = '\0';
    assert_int_equal(resolver_normalize(in, out, sizeof(out)), RESOLVER_BAD_NAME);
    /* Long input that collapses below the limit is fine. */
    memset(in, '/', 500);
    strcpy(in + 500, "x/./y");
    assert_int_equal(resolver_normalize(in, out, sizeof(out)), RESOLVER_OK);
    assert_string_equal(out, "x/y");
    /* The separator counts towards the limit. */
    memset(in, 'n', RESOLVER_NAME_MAX - 1);
    strcpy(in + RESOLVER_NAME_MAX - 1, "/x");
    assert_int_equal(resolver_normalize(in, out, sizeof(out)), RESOLVER_BAD_NAME);
    /* cap: "a/b" needs 4 bytes. */
    assert_int_equal(resolver_normalize("/a/b", out, 4), RESOLVER_OK);
    assert_string_equal(out, "a/b");
    assert_int_equal(resolver_normalize("/a/b", out, 3), RESOLVER_BAD_NAME);
    assert_string_equal(out, "");
    assert_int_equal(resolver_normalize("a", out, 1), RESOLVER_BAD_NAME);
    assert_int_equal(resolver_normalize("a", out, 0), RESOLVER_BAD_NAME);
    assert_int_equal(resolver_normalize("a", NULL, 10), RESOLVER_BAD_NAME);
    assert_int_equal(resolver_normalize(NULL, out, sizeof(out)), RESOLVER_BAD_NAME);
}

/* ---- the chain with fake sources ---- */

struct fake_source {
    int result;    /* what open() answers */
    int calls;     /* open() calls */
    int destroyed; /* destroy() calls */
    char last[RESOLVER_NAME_MAX + 1];
};

static int fake_open(void *ctx, const char *name, const struct sockaddr *client,
                     struct resolver_file *out)
{
    struct fake_source *f = ctx;

    (void)client;
    f->calls++;
    snprintf(f->last, sizeof(f->last), "%s", name);
    if (f->result == RESOLVER_OK) {
        out->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        out->size = 1234;
    }
    return f->result;
}

static void fake_destroy(void *ctx)
{
    struct fake_source *f = ctx;

    f->destroyed++;
}

static void add_fake(struct resolver *r, const char *name, struct fake_source *f)
{
    struct resolver_source src = {name, fake_open, fake_destroy, f};

    assert_int_equal(resolver_add_source(r, &src), 0);
}

static void test_chain_order(void **state)
{
    struct fake_source first = {RESOLVER_NOT_FOUND, 0, 0, ""};
    struct fake_source second = {RESOLVER_OK, 0, 0, ""};
    struct fake_source third = {RESOLVER_OK, 0, 0, ""};
    struct resolver *r = resolver_new();
    struct resolver_file file;

    (void)state;
    assert_non_null(r);
    add_fake(r, "first", &first);
    add_fake(r, "second", &second);
    add_fake(r, "third", &third);
    assert_int_equal(resolver_open(r, "\\Dir//file.bin", NULL, &file), RESOLVER_OK);
    assert_int_equal(first.calls, 1);
    assert_int_equal(second.calls, 1);
    assert_int_equal(third.calls, 0);
    assert_string_equal(first.last, "Dir/file.bin"); /* sources get the normalised name */
    assert_string_equal(second.last, "Dir/file.bin");
    assert_string_equal(file.source, "second"); /* filled in from the source's name */
    assert_true(file.size == 1234);
    assert_true(file.fd >= 0);
    close(file.fd);

    /* A result other than NOT_FOUND stops the chain. */
    second.result = RESOLVER_UNAVAILABLE;
    assert_int_equal(resolver_open(r, "x", NULL, &file), RESOLVER_UNAVAILABLE);
    assert_int_equal(third.calls, 0);
    assert_int_equal(file.fd, -1);

    /* All NOT_FOUND: NOT_FOUND. */
    second.result = RESOLVER_NOT_FOUND;
    third.result = RESOLVER_NOT_FOUND;
    assert_int_equal(resolver_open(r, "x", NULL, &file), RESOLVER_NOT_FOUND);
    assert_int_equal(third.calls, 1);

    /* A bad name never reaches a source. */
    assert_int_equal(resolver_open(r, "../x", NULL, &file), RESOLVER_BAD_NAME);
    assert_int_equal(first.calls, 3);
    resolver_unref(r);
    assert_int_equal(first.destroyed, 1);
    assert_int_equal(second.destroyed, 1);
    assert_int_equal(third.destroyed, 1);
}

static void test_chain_empty_and_full(void **state)
{
    struct fake_source f[9];
    struct resolver *r = resolver_new();
    struct resolver_file file;
    struct resolver_source nil = {"nil", NULL, NULL, NULL};

    (void)state;
    memset(f, 0, sizeof(f));
    assert_int_equal(resolver_open(r, "x", NULL, &file), RESOLVER_NOT_FOUND);
    assert_int_equal(resolver_add_source(r, &nil), -1); /* no open() */
    for (int i = 0; i < 8; i++) {
        f[i].result = RESOLVER_NOT_FOUND;
        add_fake(r, "f", &f[i]);
    }
    {
        struct resolver_source ninth = {"ninth", fake_open, fake_destroy, &f[8]};

        assert_int_equal(resolver_add_source(r, &ninth), -1);
    }
    assert_int_equal(resolver_open(r, "x", NULL, &file), RESOLVER_NOT_FOUND);
    for (int i = 0; i < 8; i++)
        assert_int_equal(f[i].calls, 1);
    resolver_unref(r);
    for (int i = 0; i < 8; i++)
        assert_int_equal(f[i].destroyed, 1);
    assert_int_equal(f[8].destroyed, 0); /* refused: still the caller's */
    resolver_unref(NULL);
    assert_null(resolver_ref(NULL));
}

static void test_refcount(void **state)
{
    struct fake_source f = {RESOLVER_NOT_FOUND, 0, 0, ""};
    struct resolver *r = resolver_new();

    (void)state;
    add_fake(r, "f", &f);
    assert_ptr_equal(resolver_ref(r), r);
    assert_ptr_equal(resolver_ref(r), r);
    resolver_unref(r);
    resolver_unref(r);
    assert_int_equal(f.destroyed, 0);
    resolver_unref(r);
    assert_int_equal(f.destroyed, 1);
}

/* ---- serve-dir ---- */

struct root {
    char path[PATH_MAX];
    int have_device; /* mknod worked (root outside a restricted container) */
};

/* Leaves a bound AF_UNIX socket file behind (the fd is closed). */
static int make_socket(const char *dir, const char *name)
{
    struct sockaddr_un addr;
    size_t dl = strlen(dir), nl = strlen(name);
    int fd, rc;

    memset(&addr, 0, sizeof(addr));
    if (dl + 1 + nl >= sizeof(addr.sun_path))
        return -1; /* a socket's path has 107 bytes at most */
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, dir, dl);
    addr.sun_path[dl] = '/';
    memcpy(addr.sun_path + dl + 1, name, nl + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    close(fd);
    return rc;
}

static void write_file(const char *dir, const char *name, const char *content)
{
    char path[PATH_MAX + 64];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
}

static void make_path(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

static int root_setup(void **state)
{
    struct root *rt = calloc(1, sizeof(*rt));
    char p[PATH_MAX + 64];

    if (rt == NULL)
        return -1;
    if (testdir_make("test_resolver", rt->path) != 0)
        return -1;
    write_file(rt->path, "hello.txt", "hello\n");
    write_file(rt->path, "empty.bin", "");
    make_path(p, sizeof(p), rt->path, "Dir");
    if (mkdir(p, 0755) != 0)
        return -1;
    write_file(rt->path, "Dir/Jar41SIP.sbn", "jar41 firmware");
    make_path(p, sizeof(p), rt->path, "Dir/Sub");
    if (mkdir(p, 0755) != 0)
        return -1;
    write_file(rt->path, "Dir/Sub/Deep.LOADS", "deep");
    write_file(rt->path, "TWIN.bin", "upper");
    write_file(rt->path, "twin.bin", "lower");
    write_file(rt->path, "Twin.bin", "mixed");
    make_path(p, sizeof(p), rt->path, "passwd-link");
    if (symlink("/etc/passwd", p) != 0)
        return -1;
    make_path(p, sizeof(p), rt->path, "up-link");
    if (symlink("../../../../../../../etc/passwd", p) != 0)
        return -1;
    make_path(p, sizeof(p), rt->path, "Out-Dir");
    if (symlink("/etc", p) != 0)
        return -1;
    make_path(p, sizeof(p), rt->path, "inside-link");
    if (symlink("Dir/Jar41SIP.sbn", p) != 0)
        return -1;
    make_path(p, sizeof(p), rt->path, "proc-link");
    if (symlink("/proc/self/root/etc/passwd", p) != 0)
        return -1;
    make_path(p, sizeof(p), rt->path, "fifo");
    if (mkfifo(p, 0644) != 0)
        return -1;
    make_path(p, sizeof(p), rt->path, "dev-link");
    if (symlink("/dev/null", p) != 0)
        return -1;
    if (make_socket(rt->path, "socket") != 0)
        return -1;
    make_path(p, sizeof(p), rt->path, "null");
    rt->have_device = mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0;
    *state = rt;
    return 0;
}

static int root_teardown(void **state)
{
    struct root *rt = *state;
    int rc = testdir_remove(rt->path);

    free(rt);
    return rc == 0 ? 0 : -1;
}

/* Opens name through a fresh serve-dir resolver; checks content if given. */
static int serve_open(const struct root *rt, const char *name, const char *want)
{
    struct resolver *r = resolver_new();
    struct resolver_file file;
    int rc;

    assert_int_equal(resolver_add_serve_dir(r, rt->path), 0);
    rc = resolver_open(r, name, NULL, &file);
    if (rc == RESOLVER_OK) {
        char buf[128];
        ssize_t n = read(file.fd, buf, sizeof(buf) - 1);

        assert_true(n >= 0);
        buf[n] = '\0';
        assert_string_equal(file.source, "serve-dir");
        assert_true(file.size == (uint64_t)n);
        if (want != NULL)
            assert_string_equal(buf, want);
        assert_true(fcntl(file.fd, F_GETFD) & FD_CLOEXEC);
        close(file.fd);
    } else {
        assert_int_equal(file.fd, -1);
    }
    resolver_unref(r);
    return rc;
}

static void test_serve_dir_found(void **state)
{
    const struct root *rt = *state;

    assert_int_equal(serve_open(rt, "hello.txt", "hello\n"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "/hello.txt", "hello\n"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "empty.bin", ""), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "Dir/Jar41SIP.sbn", "jar41 firmware"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "\\Dir\\Jar41SIP.sbn", "jar41 firmware"), RESOLVER_OK);
}

static void test_serve_dir_case(void **state)
{
    const struct root *rt = *state;

    assert_int_equal(serve_open(rt, "HELLO.TXT", "hello\n"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "dir/jar41sip.SBN", "jar41 firmware"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "Dir/jar41sip.sbn", "jar41 firmware"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "DIR/Jar41SIP.sbn", "jar41 firmware"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "dir/sub/deep.loads", "deep"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "INSIDE-LINK", "jar41 firmware"), RESOLVER_OK);
    /* An exact spelling wins; else the smallest (strcmp) spelling, whatever
     * the directory order. */
    assert_int_equal(serve_open(rt, "twin.bin", "lower"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "Twin.bin", "mixed"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "TWIN.BIN", "upper"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "twin.BIN", "upper"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "dir/jar41sip.sbn.x", NULL), RESOLVER_NOT_FOUND);
    assert_int_equal(serve_open(rt, "dir/jar41sip", NULL), RESOLVER_NOT_FOUND);
}

static void test_serve_dir_symlinks(void **state)
{
    const struct root *rt = *state;

    assert_int_equal(serve_open(rt, "inside-link", "jar41 firmware"), RESOLVER_OK);
    assert_int_equal(serve_open(rt, "passwd-link", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "PASSWD-LINK", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "up-link", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "proc-link", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "Out-Dir/passwd", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "out-dir/passwd", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "out-dir/PASSWD", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "dev-link", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "../etc/passwd", NULL), RESOLVER_BAD_NAME);
}

static void test_serve_dir_not_regular(void **state)
{
    const struct root *rt = *state;

    assert_int_equal(serve_open(rt, "Dir", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "dir/sub", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "fifo", NULL), RESOLVER_DENIED); /* never blocks */
    assert_int_equal(serve_open(rt, "FIFO", NULL), RESOLVER_DENIED);
    assert_int_equal(serve_open(rt, "socket", NULL), RESOLVER_DENIED);
    if (rt->have_device)
        assert_int_equal(serve_open(rt, "null", NULL), RESOLVER_DENIED);
    else
        print_message("mknod refused here: device case not run\n");
}

static void test_serve_dir_missing(void **state)
{
    const struct root *rt = *state;

    assert_int_equal(serve_open(rt, "missing.bin", NULL), RESOLVER_NOT_FOUND);
    assert_int_equal(serve_open(rt, "nodir/x", NULL), RESOLVER_NOT_FOUND);
    assert_int_equal(serve_open(rt, "hello.txt/x", NULL), RESOLVER_NOT_FOUND);
    assert_int_equal(serve_open(rt, "dir/nothing", NULL), RESOLVER_NOT_FOUND);
}

/* A catalog-like source first that says NOT_FOUND, then the serve dir. */
static void test_serve_dir_chain(void **state)
{
    const struct root *rt = *state;
    struct fake_source first = {RESOLVER_NOT_FOUND, 0, 0, ""};
    struct resolver *r = resolver_new();
    struct resolver_file file;

    add_fake(r, "catalog", &first);
    assert_int_equal(resolver_add_serve_dir(r, rt->path), 0);
    assert_int_equal(resolver_open(r, "dir/JAR41SIP.sbn", NULL, &file), RESOLVER_OK);
    assert_string_equal(file.source, "serve-dir");
    assert_true(file.size == strlen("jar41 firmware"));
    close(file.fd);
    assert_int_equal(first.calls, 1);
    assert_string_equal(first.last, "dir/JAR41SIP.sbn");
    /* A first source that answers wins over the directory. */
    first.result = RESOLVER_OK;
    assert_int_equal(resolver_open(r, "hello.txt", NULL, &file), RESOLVER_OK);
    assert_string_equal(file.source, "catalog");
    close(file.fd);
    resolver_unref(r);
    assert_int_equal(first.destroyed, 1);
}

static int count_fds(void)
{
    int n = 0;

    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

/* Every outcome, found or not, leaves no descriptor behind. */
static void test_serve_dir_no_fd_leak(void **state)
{
    static const char *const names[] = {
        "hello.txt",   "dir/jar41sip.SBN", "dir/sub/deep.loads",
        "passwd-link", "out-dir/passwd",   "Dir",
        "fifo",        "socket",           "missing",
        "dir/missing", "twin.BIN",         "hello.txt/x",
    };
    const struct root *rt = *state;
    int before = count_fds();

    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            serve_open(rt, names[i], NULL);
    }
    assert_int_equal(count_fds(), before);
}

static void test_serve_dir_bad_root(void **state)
{
    const struct root *rt = *state;
    struct resolver *r = resolver_new();
    char p[PATH_MAX + 64];

    assert_int_equal(resolver_add_serve_dir(r, "/nonexistent/loadsd-test"), -1);
    make_path(p, sizeof(p), rt->path, "hello.txt");
    assert_int_equal(resolver_add_serve_dir(r, p), -1); /* not a directory */
    assert_int_equal(resolver_add_serve_dir(r, ""), -1);
    resolver_unref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_table),
        cmocka_unit_test(test_normalize_lengths),
        cmocka_unit_test(test_chain_order),
        cmocka_unit_test(test_chain_empty_and_full),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_serve_dir_found),
        cmocka_unit_test(test_serve_dir_case),
        cmocka_unit_test(test_serve_dir_symlinks),
        cmocka_unit_test(test_serve_dir_not_regular),
        cmocka_unit_test(test_serve_dir_missing),
        cmocka_unit_test(test_serve_dir_chain),
        cmocka_unit_test(test_serve_dir_no_fd_leak),
        cmocka_unit_test(test_serve_dir_bad_root),
    };

    return cmocka_run_group_tests(tests, root_setup, root_teardown);
}
