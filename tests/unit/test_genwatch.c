/* test_genwatch.c: the one watcher thread against a real database: the first
 * rebuild runs on the caller, later ones on one thread for every source after
 * a commit moves the generation (the latency measured), a failed rebuild is
 * tried again, sources are added only before the start, a sync waits for a
 * pass that saw the caller's write, and freeing stops the thread at once. */
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "db/db.h"
#include "server/resolve/genwatch.h"
#include "tests/unit/testdir.h"

struct fixture {
    char dir[PATH_MAX];
    char path[PATH_MAX + 16];
};

/* A source that counts its rebuilds and notes the thread of the last one. */
struct counting {
    atomic_int rebuilds;
    atomic_int fail_next; /* rebuilds still to fail */
    pthread_t thread;
    int64_t generation; /* read by the last rebuild */
    atomic_int slow_ms; /* each rebuild takes this long first */
};

static int counting_rebuild(void *arg, sqlite3 *db)
{
    struct counting *c = arg;

    struct timespec slow = {0, (long)atomic_load(&c->slow_ms) * 1000000L};

    if (slow.tv_nsec > 0)
        nanosleep(&slow, NULL);
    if (atomic_load(&c->fail_next) > 0) {
        atomic_fetch_sub(&c->fail_next, 1);
        return -1;
    }
    c->thread = pthread_self();
    if (db_generation(db, &c->generation) != DB_OK)
        return -1;
    atomic_fetch_add(&c->rebuilds, 1);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Waits (at most limit_ms) until c has rebuilt want times; the time taken. */
static double wait_rebuilds(struct counting *c, int want, double limit_ms)
{
    double t0 = now_ms();
    struct timespec tick = {0, 2000000};

    while (atomic_load(&c->rebuilds) < want && now_ms() - t0 < limit_ms)
        nanosleep(&tick, NULL);
    return now_ms() - t0;
}

/* Moves the generation the way every writer does: a commit on a connection
 * of its own. */
static void bump_generation(const struct fixture *f)
{
    sqlite3 *db;

    assert_int_equal(db_open(f->path, &db), DB_OK);
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(db_commit(db), DB_OK);
    db_close(db);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || testdir_make("test_genwatch", f->dir) != 0)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/catalog.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    (void)testdir_remove(f->dir);
    free(f);
    return 0;
}

static void test_first_rebuild_on_caller(void **state)
{
    struct fixture *f = *state;
    struct counting a = {0}, bad = {0};
    struct genwatch *gw = NULL;

    assert_int_equal(genwatch_open(f->dir, GENWATCH_POLL_MS, &gw), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &a), 0);
    assert_int_equal(atomic_load(&a.rebuilds), 1);
    assert_true(pthread_equal(a.thread, pthread_self()));
    atomic_store(&bad.fail_next, 1);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &bad), -1); /* its first snapshot failed */
    genwatch_free(gw);
}

static void test_one_thread_serves_every_source(void **state)
{
    struct fixture *f = *state;
    struct counting a = {0}, b = {0};
    struct genwatch *gw = NULL;
    double ms_a, ms_b;

    assert_int_equal(genwatch_open(f->dir, GENWATCH_POLL_MS, &gw), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &a), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &b), 0);
    assert_int_equal(genwatch_start(gw), 0);
    for (int round = 2; round <= 4; round++) {
        bump_generation(f);
        ms_a = wait_rebuilds(&a, round, 5000);
        ms_b = wait_rebuilds(&b, round, 5000);
        print_message("round %d: rebuilt after %.0f ms and %.0f ms more\n", round, ms_a, ms_b);
        assert_int_equal(atomic_load(&a.rebuilds), round);
        assert_int_equal(atomic_load(&b.rebuilds), round);
        /* Within a poll (slack for a busy machine), both from one thread,
         * not the caller's, at the one generation that poll read. */
        assert_true(ms_a < 2 * GENWATCH_POLL_MS + 250);
        assert_true(pthread_equal(a.thread, b.thread));
        assert_false(pthread_equal(a.thread, pthread_self()));
        assert_int_equal(a.generation, b.generation);
    }
    genwatch_free(gw);
}

/* A source whose rebuild failed is tried again at the next poll though the
 * generation did not move again; the others are left alone. */
static void test_failed_rebuild_retried(void **state)
{
    struct fixture *f = *state;
    struct counting a = {0}, b = {0};
    struct genwatch *gw = NULL;
    struct timespec settle = {0, 150 * 1000000L};

    assert_int_equal(genwatch_open(f->dir, 20, &gw), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &a), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &b), 0);
    atomic_store(&b.fail_next, 3);
    assert_int_equal(genwatch_start(gw), 0);
    bump_generation(f);
    wait_rebuilds(&b, 2, 5000);
    nanosleep(&settle, NULL);
    assert_int_equal(atomic_load(&b.rebuilds), 2); /* after three failed tries */
    assert_int_equal(atomic_load(&b.fail_next), 0);
    assert_int_equal(atomic_load(&a.rebuilds), 2); /* once for the one move */
    genwatch_free(gw);
}

static void test_add_only_before_start(void **state)
{
    struct fixture *f = *state;
    struct counting c[GENWATCH_SOURCES_MAX + 1] = {0};
    struct genwatch *gw = NULL;

    assert_int_equal(genwatch_open(f->dir, GENWATCH_POLL_MS, &gw), 0);
    for (int i = 0; i < GENWATCH_SOURCES_MAX; i++)
        assert_int_equal(genwatch_add(gw, counting_rebuild, &c[i]), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &c[GENWATCH_SOURCES_MAX]), -1);
    genwatch_free(gw);
    assert_int_equal(genwatch_open(f->dir, GENWATCH_POLL_MS, &gw), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &c[0]), 0);
    assert_int_equal(genwatch_start(gw), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &c[1]), -1);
    genwatch_free(gw);
    genwatch_free(NULL);
}

/* Freeing wakes the thread: no wait for the rest of a long poll interval. */
static void test_free_stops_at_once(void **state)
{
    struct fixture *f = *state;
    struct counting a = {0};
    struct genwatch *gw = NULL;
    double t0;

    assert_int_equal(genwatch_open(f->dir, 60000, &gw), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &a), 0);
    assert_int_equal(genwatch_start(gw), 0);
    t0 = now_ms();
    genwatch_free(gw);
    assert_true(now_ms() - t0 < 1000);
}

/* The generation a new connection reads now. */
static int64_t generation_now(const struct fixture *f)
{
    sqlite3 *db;
    int64_t gen = -1;

    assert_int_equal(db_open(f->path, &db), DB_OK);
    assert_int_equal(db_generation(db, &gen), DB_OK);
    db_close(db);
    return gen;
}

/* Read-your-writes: with a poll interval of a minute, a sync wakes the
 * watcher and returns once a pass that saw the commit made before it has
 * rebuilt; a sync before the start, or one that outlasts its limit, says so. */
static void test_sync_reads_your_write(void **state)
{
    struct fixture *f = *state;
    struct counting a = {0};
    struct genwatch *gw = NULL;
    double t0, ms;

    assert_int_equal(genwatch_sync(NULL, 100), -1);
    assert_int_equal(genwatch_open(f->dir, 60000, &gw), 0);
    assert_int_equal(genwatch_add(gw, counting_rebuild, &a), 0);
    assert_int_equal(genwatch_sync(gw, 100), -1); /* no thread yet */
    assert_int_equal(genwatch_start(gw), 0);
    for (int round = 2; round <= 4; round++) {
        bump_generation(f);
        t0 = now_ms();
        assert_int_equal(genwatch_sync(gw, 5000), 0);
        ms = now_ms() - t0;
        print_message("round %d: synced after %.1f ms\n", round, ms);
        assert_int_equal(atomic_load(&a.rebuilds), round); /* no waiting */
        assert_int_equal(a.generation, generation_now(f));
        assert_true(ms < 5000);
    }
    assert_int_equal(genwatch_sync(gw, 5000), 0); /* nothing moved: a pass, no rebuild */
    assert_int_equal(atomic_load(&a.rebuilds), 4);
    atomic_store(&a.slow_ms, 400);
    bump_generation(f);
    assert_int_equal(genwatch_sync(gw, 50), -1); /* the rebuild takes longer */
    assert_int_equal(genwatch_sync(gw, 5000), 0);
    assert_int_equal(atomic_load(&a.rebuilds), 5);
    genwatch_free(gw);
}

static void test_open_missing_dir(void **state)
{
    struct fixture *f = *state;
    char missing[PATH_MAX + 16];
    struct genwatch *gw = NULL;

    snprintf(missing, sizeof(missing), "%s/no/such/dir", f->dir);
    assert_int_equal(genwatch_open(missing, GENWATCH_POLL_MS, &gw), -1);
    assert_null(gw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_rebuild_on_caller, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_thread_serves_every_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_rebuild_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_only_before_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_stops_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_reads_your_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_dir, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
