/* test_fileio.c: fileio_write_all and fileio_read_fd/_file against real
 * pipes and files: short counts and EINTR (a timer signal without
 * SA_RESTART interrupts blocked calls), the size limit, empty and missing files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fileio.h"
#include "tests/unit/testdir.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Byte i of every test's data: not periodic in any small power of two. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)((i * 131u + i / 251u) & 0xff);
}

static unsigned char *pattern_buf(size_t n)
{
    unsigned char *b = malloc(n ? n : 1);

    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = pattern(i);
    return b;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the interrupting timer: SIGALRM every period, no SA_RESTART ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void timer_set(long usec)
{
    struct itimerval it = {{0, usec}, {0, usec}};
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read or write returns early */
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void timer_stop(void)
{
    struct itimerval off = {{0, 0}, {0, 0}};

    assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
}

/* Starts fn on a thread that never takes SIGALRM: the signal goes to the
 * test's own thread, the one blocked in fileio. */
static void thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t block, old;

    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
    assert_int_equal(pthread_create(t, NULL, fn, arg), 0);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

/* ---- reading files: the size limit, empty, missing ---- */

struct fixture {
    char dir[PATH_MAX];
    char path[PATH_MAX + 16]; /* dir/f */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || testdir_make("test_fileio", f->dir) != 0)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/f", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = testdir_remove(f->dir);

    free(f);
    return rc;
}

struct read_case {
    size_t size; /* bytes in the file */
    size_t max;
    int rc;
};

static const struct read_case read_cases[] = {
    {0, 0, 0},          /* empty file, no room: fine */
    {0, 100, 0},        /* empty file */
    {1, 0, -EFBIG},     /* one byte over a zero limit */
    {1, 1, 0},          /* exactly the limit */
    {99, 100, 0},       /* under */
    {100, 100, 0},      /* at */
    {101, 100, -EFBIG}, /* one over */
    {300, 100, -EFBIG}, /* far over */
    {4095, 1 << 20, 0}, /* around the first buffer's size */
    {4096, 1 << 20, 0},
    {4097, 1 << 20, 0},
    {4097, 4096, -EFBIG},
    {200000, 200000, 0}, /* several doublings, capped at the limit */
    {200001, 200000, -EFBIG},
};

static void write_file(const char *path, size_t size)
{
    unsigned char *b = pattern_buf(size);
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, size, fp), size);
    assert_int_equal(fclose(fp), 0);
    free(b);
}

static void test_read_table(void **state)
{
    const char *path = ((struct fixture *)*state)->path;

    for (size_t i = 0; i < ARRAY_LEN(read_cases); i++) {
        const struct read_case *c = &read_cases[i];
        char *buf = (char *)"untouched";
        size_t len = 12345;
        int rc;

        write_file(path, c->size);
        rc = fileio_read_file(path, c->max, &buf, &len);
        if (rc != c->rc)
            fail_msg("case %zu (%zu bytes, max %zu): rc %d, want %d", i, c->size, c->max, rc,
                     c->rc);
        if (rc != 0) {
            assert_string_equal(buf, "untouched"); /* nothing handed out */
            assert_int_equal(len, 12345);
            continue;
        }
        assert_int_equal(len, c->size);
        assert_int_equal(buf[len], '\0');
        for (size_t k = 0; k < len; k++)
            if ((unsigned char)buf[k] != pattern(k))
                fail_msg("case %zu: byte %zu differs", i, k);
        free(buf);
    }
}

static void test_read_missing_and_directory(void **state)
{
    const struct fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(fileio_read_file(f->path, 100, &buf, &len), -ENOENT); /* not made yet */
    assert_int_equal(fileio_read_file(f->dir, 100, &buf, &len), -EISDIR);
    assert_null(buf);
}

/* The read starts where the descriptor stands, not at the file's start. */
static void test_read_from_offset(void **state)
{
    const char *path = ((struct fixture *)*state)->path;
    char *buf = NULL;
    size_t len = 0;
    int fd;

    write_file(path, 1000);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(lseek(fd, 900, SEEK_SET), 900);
    assert_int_equal(fileio_read_fd(fd, 100, &buf, &len), 0);
    assert_int_equal(len, 100);
    assert_int_equal((unsigned char)buf[0], pattern(900));
    free(buf);
    close(fd);
}

/* ---- pipes: short counts and EINTR ---- */

struct pipe_peer {
    int fd;
    size_t n;    /* bytes to move */
    size_t step; /* at most this many per call */
    long pause_ms;
    size_t moved;
    int bad; /* a byte out of pattern */
};

/* Writes the pattern in small steps with pauses: the reader sees short reads
 * and waits (interrupted by the timer) between them. */
static void *slow_writer(void *arg)
{
    struct pipe_peer *p = arg;
    unsigned char *b = pattern_buf(p->n);

    while (p->moved < p->n) {
        size_t k = p->n - p->moved < p->step ? p->n - p->moved : p->step;
        ssize_t w = write(p->fd, b + p->moved, k);

        if (w <= 0)
            break;
        p->moved += (size_t)w;
        sleep_ms(p->pause_ms);
    }
    close(p->fd);
    free(b);
    return NULL;
}

/* Waits first (the writer blocks on a full pipe), then reads in small
 * steps with pauses, checking the pattern. */
static void *slow_reader(void *arg)
{
    struct pipe_peer *p = arg;
    unsigned char b[512];

    sleep_ms(30);
    for (;;) {
        ssize_t r = read(p->fd, b, p->step < sizeof(b) ? p->step : sizeof(b));

        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            p->bad |= b[i] != pattern(p->moved + (size_t)i);
        p->moved += (size_t)r;
        sleep_ms(p->pause_ms);
    }
    return NULL;
}

static void test_read_pipe_short_and_eintr(void **state)
{
    struct pipe_peer w = {.n = 20000, .step = 997, .pause_ms = 2};
    int fds[2];
    pthread_t t;
    char *buf = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    w.fd = fds[1];
    alarms = 0;
    timer_set(500);
    thread_start(&t, slow_writer, &w);
    assert_int_equal(fileio_read_fd(fds[0], w.n, &buf, &len), 0);
    timer_stop();
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(alarms > 0); /* the read was interrupted while it waited */
    assert_int_equal(len, w.n);
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)buf[k] != pattern(k))
            fail_msg("byte %zu differs", k);
    free(buf);
    close(fds[0]);
}

static void test_write_pipe_short_and_eintr(void **state)
{
    struct pipe_peer r = {.step = 509, .pause_ms = 1};
    size_t n = 256 * 1024;
    unsigned char *b = pattern_buf(n);
    int fds[2];
    pthread_t t;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    fcntl(fds[1], F_SETPIPE_SZ, 4096); /* the smallest pipe: many short writes */
    r.fd = fds[0];
    alarms = 0;
    timer_set(700);
    thread_start(&t, slow_reader, &r);
    assert_int_equal(fileio_write_all(fds[1], b, n), 0);
    timer_stop();
    close(fds[1]);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(alarms > 0); /* the write was interrupted while it waited */
    assert_int_equal(r.moved, n);
    assert_int_equal(r.bad, 0);
    close(fds[0]);
    free(b);
}

static void test_write_errors(void **state)
{
    static const char data[] = "abc";
    int fds[2];
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);

    (void)state;
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(fileio_write_all(fds[1], data, 0), 0);      /* nothing to write */
    assert_int_equal(fileio_write_all(fds[0], data, 3), -EBADF); /* the read end */
    close(fds[0]);
    assert_int_equal(fileio_write_all(fds[1], data, 3), -EPIPE); /* nobody reads */
    close(fds[1]);
    signal(SIGPIPE, old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_missing_and_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_from_offset, setup, teardown),
        cmocka_unit_test(test_read_pipe_short_and_eintr),
        cmocka_unit_test(test_write_pipe_short_and_eintr),
        cmocka_unit_test(test_write_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
