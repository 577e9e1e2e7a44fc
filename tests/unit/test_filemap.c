/* test_filemap.c: cmocka tests of the shared file mappings: a table of steps
 * (acquire a file at a size, release a reference, change the file) checked
 * against the mappings alive and which references share one; real files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/tftp/filemap.h"
#include "tests/unit/testdir.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define REFS         8

enum op {
    ACQUIRE, /* ref = file "a"'s first size bytes: want rc, want shared_with (-1: a new mapping) */
    RELEASE, /* ref given back */
    REPLACE, /* a new file renamed over "a", len bytes */
    CUT,     /* "a" truncated in place to len bytes */
    TOUCH,   /* "a"'s mtime moved */
};

struct step {
    enum op op;
    int ref;
    uint64_t len;
    int rc;
    int shared_with;
    size_t alive; /* mappings alive afterwards */
};

struct fixture {
    char dir[PATH_MAX];
    char path[PATH_MAX + 8];
    struct filemap m;
    struct filemap_ref refs[REFS];
};

static void write_file(const char *path, uint64_t len)
{
    char tmp[PATH_MAX + 16];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.new", path);
    f = fopen(tmp, "wb");
    assert_non_null(f);
    for (uint64_t i = 0; i < len; i++)
        fputc((int)(i * 7 % 251), f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void do_acquire(struct fixture *fx, const struct step *s)
{
    int fd = open(fx->path, O_RDONLY | O_CLOEXEC);
    int rc;

    assert_true(fd >= 0);
    rc = filemap_acquire(&fx->m, fd, s->len, &fx->refs[s->ref]);
    close(fd); /* the mapping outlives the descriptor */
    assert_int_equal(rc, s->rc);
    if (rc != 0 || s->len == 0) {
        assert_null(fx->refs[s->ref].data);
        return;
    }
    assert_int_equal(fx->refs[s->ref].size, s->len);
    /* The bytes are the file's (read here only because the test keeps the file whole). */
    assert_int_equal(fx->refs[s->ref].data[s->len - 1], (int)((s->len - 1) * 7 % 251));
    if (s->shared_with >= 0)
        assert_ptr_equal(fx->refs[s->ref].data, fx->refs[s->shared_with].data);
    for (int i = 0; s->shared_with < 0 && i < REFS; i++)
        if (i != s->ref && fx->refs[i].data != NULL)
            assert_ptr_not_equal(fx->refs[s->ref].data, fx->refs[i].data);
}

static void do_touch(const char *path)
{
    struct timespec ts[2] = {{.tv_sec = 1000000, .tv_nsec = 0}, {.tv_sec = 1000000, .tv_nsec = 0}};

    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void run_steps(const struct step *steps, size_t n)
{
    struct fixture fx = {0};

    assert_int_equal(testdir_make("test_filemap", fx.dir), 0);
    snprintf(fx.path, sizeof(fx.path), "%s/a", fx.dir);
    write_file(fx.path, 10000);
    filemap_init(&fx.m);
    for (size_t i = 0; i < n; i++) {
        const struct step *s = &steps[i];

        if (s->op == ACQUIRE)
            do_acquire(&fx, s);
        else if (s->op == RELEASE)
            filemap_release(&fx.m, &fx.refs[s->ref]);
        else if (s->op == REPLACE)
            write_file(fx.path, s->len);
        else if (s->op == CUT)
            assert_int_equal(truncate(fx.path, (off_t)s->len), 0);
        else
            do_touch(fx.path);
        assert_int_equal(filemap_count(&fx.m), s->alive);
    }
    for (int i = 0; i < REFS; i++)
        filemap_release(&fx.m, &fx.refs[i]);
    assert_true(filemap_count(&fx.m) <= FILEMAP_IDLE_MAX); /* the rest: unmapped by fini */
    filemap_fini(&fx.m);
    assert_int_equal(testdir_remove(fx.dir), 0);
}

static const struct step shared[] = {
    {ACQUIRE, 0, 10000, 0, -1, 1}, {ACQUIRE, 1, 10000, 0, 0, 1}, /* one mapping for both */
    {RELEASE, 0, 0, 0, 0, 1},      {ACQUIRE, 2, 10000, 0, 1, 1},
    {RELEASE, 1, 0, 0, 0, 1},      {RELEASE, 2, 0, 0, 0, 1}, /* idle, kept */
    {RELEASE, 2, 0, 0, 0, 1},                                /* twice: nothing */
    {ACQUIRE, 3, 10000, 0, -1, 1}, /* the idle one again, no new mapping */
};
static const struct step idle_cap[] = {
    {ACQUIRE, 0, 1000, 0, -1, 1}, {ACQUIRE, 1, 2000, 0, -1, 2}, {ACQUIRE, 2, 3000, 0, -1, 3},
    {ACQUIRE, 3, 4000, 0, -1, 4}, {ACQUIRE, 4, 5000, 0, -1, 5}, {ACQUIRE, 5, 6000, 0, -1, 6},
    {RELEASE, 0, 0, 0, 0, 6},     {RELEASE, 1, 0, 0, 0, 6},     {RELEASE, 2, 0, 0, 0, 6},
    {RELEASE, 3, 0, 0, 0, 6},     {RELEASE, 4, 0, 0, 0, 5},     /* a fifth idle: the oldest goes */
    {RELEASE, 5, 0, 0, 0, 4},     {ACQUIRE, 6, 1000, 0, -1, 5}, /* 1000 was unmapped: anew */
    {ACQUIRE, 7, 6000, 0, -1, 5}, /* 6000 still idle: taken back, none new */
};
static const struct step sizes[] = {
    {ACQUIRE, 0, 10000, 0, -1, 1},
    {ACQUIRE, 1, 4096, 0, -1, 2}, /* other size: its own */
    {ACQUIRE, 2, 4096, 0, 1, 2},
    {ACQUIRE, 3, 0, 0, -1, 2}, /* empty: nothing mapped */
};
static const struct step changed[] = {
    {ACQUIRE, 0, 10000, 0, -1, 1}, {REPLACE, 0, 10000, 0, 0, 1}, /* renamed over: a new inode */
    {ACQUIRE, 1, 10000, 0, -1, 2}, {TOUCH, 0, 0, 0, 0, 2},       /* written in place: a new mtime */
    {ACQUIRE, 2, 10000, 0, -1, 3}, {RELEASE, 0, 0, 0, 0, 3}, /* the replaced file's mapping: idle */
};
static const struct step short_file[] = {
    {ACQUIRE, 0, 10001, -EIO, -1, 0}, /* shorter than promised */
    {CUT, 0, 100, 0, 0, 0},
    {ACQUIRE, 0, 10000, -EIO, -1, 0}, /* cut short since */
    {ACQUIRE, 1, 100, 0, -1, 1},
};

static void test_shared(void **state)
{
    (void)state;
    run_steps(shared, ARRAY_LEN(shared));
}

static void test_sizes(void **state)
{
    (void)state;
    run_steps(sizes, ARRAY_LEN(sizes));
}

static void test_changed(void **state)
{
    (void)state;
    run_steps(changed, ARRAY_LEN(changed));
}

static void test_idle_cap(void **state)
{
    (void)state;
    run_steps(idle_cap, ARRAY_LEN(idle_cap));
}

static void test_short(void **state)
{
    (void)state;
    run_steps(short_file, ARRAY_LEN(short_file));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared),  cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_changed), cmocka_unit_test(test_idle_cap),
        cmocka_unit_test(test_short),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
