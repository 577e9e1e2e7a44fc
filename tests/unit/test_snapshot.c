/* test_snapshot.c: the snapshot holder: nothing before the first publish, a
 * replaced snapshot lives until its last reader lets go, publish hands its
 * data over even when it fails, and readers on several threads acquiring
 * while a writer publishes always see a whole, live snapshot, never an
 * older one than before (run under ASan, which catches a use after free). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/resolve/snapshot.h"

#define READERS  4
#define VERSIONS 20000
#define PAYLOAD  64 /* words: a torn or freed snapshot shows as a wrong one */

struct version {
    uint64_t n;
    uint64_t words[PAYLOAD]; /* each n ^ its index */
};

static atomic_uint freed;

static void version_free(void *data)
{
    struct version *v = data;

    memset(v, 0xa5, sizeof(*v)); /* a later reader would see garbage, ASan a use after free */
    free(v);
    atomic_fetch_add(&freed, 1);
}

static struct version *version_new(uint64_t n)
{
    struct version *v = malloc(sizeof(*v));

    assert_non_null(v);
    v->n = n;
    for (size_t i = 0; i < PAYLOAD; i++)
        v->words[i] = n ^ i;
    return v;
}

static bool version_whole(const struct version *v)
{
    for (size_t i = 0; i < PAYLOAD; i++)
        if (v->words[i] != (v->n ^ i))
            return false;
    return true;
}

static void test_empty(void **state)
{
    struct snapshot_holder *h = snapshot_holder_new(version_free);

    (void)state;
    assert_non_null(h);
    assert_null(snapshot_acquire(h));
    snapshot_release(NULL);
    snapshot_holder_free(h);
    snapshot_holder_free(NULL);
}

/* A replaced snapshot is freed when its last reader releases it, not before;
 * the current one when the holder goes, unless a reader still holds it. */
static void test_lifetime(void **state)
{
    struct snapshot_holder *h = snapshot_holder_new(version_free);
    struct snapshot *a1, *a2, *b;

    (void)state;
    atomic_store(&freed, 0);
    assert_int_equal(snapshot_publish(h, version_new(1)), 0);
    a1 = snapshot_acquire(h);
    a2 = snapshot_acquire(h);
    assert_ptr_equal(a1, a2);
    assert_int_equal(((const struct version *)snapshot_data(a1))->n, 1);
    assert_int_equal(snapshot_publish(h, version_new(2)), 0);
    assert_int_equal(atomic_load(&freed), 0); /* two readers hold version 1 */
    b = snapshot_acquire(h);
    assert_int_equal(((const struct version *)snapshot_data(b))->n, 2);
    assert_true(version_whole(snapshot_data(a1)));
    snapshot_release(a1);
    assert_int_equal(atomic_load(&freed), 0);
    snapshot_release(a2);
    assert_int_equal(atomic_load(&freed), 1); /* the last reader of 1 let go */
    snapshot_holder_free(h);
    assert_int_equal(atomic_load(&freed), 1); /* b still holds version 2 */
    assert_true(version_whole(snapshot_data(b)));
    snapshot_release(b);
    assert_int_equal(atomic_load(&freed), 2);
}

struct reader {
    struct snapshot_holder *h;
    atomic_bool *done;
    atomic_int *reading; /* readers that have read once */
    unsigned long reads;
    int bad; /* torn, or older than one seen before */
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    uint64_t last = 0;

    do {
        struct snapshot *s = snapshot_acquire(r->h);
        const struct version *v = snapshot_data(s);

        if (!version_whole(v) || v->n < last)
            r->bad++;
        last = v->n;
        if (r->reads++ == 0)
            atomic_fetch_add(r->reading, 1);
        snapshot_release(s);
    } while (!atomic_load(r->done));
    return NULL;
}

static void test_readers_while_publishing(void **state)
{
    struct snapshot_holder *h = snapshot_holder_new(version_free);
    struct reader readers[READERS];
    pthread_t threads[READERS];
    atomic_bool done;
    atomic_int reading;

    (void)state;
    atomic_store(&freed, 0);
    atomic_init(&done, false);
    atomic_init(&reading, 0);
    assert_int_equal(snapshot_publish(h, version_new(1)), 0);
    for (int i = 0; i < READERS; i++) {
        readers[i] = (struct reader){h, &done, &reading, 0, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, reader_main, &readers[i]), 0);
    }
    /* Publish while every reader reads: on a loaded machine a thread may
     * not run at all before the publishing ends otherwise. */
    while (atomic_load(&reading) < READERS)
        sched_yield();
    for (uint64_t n = 2; n <= VERSIONS; n++)
        assert_int_equal(snapshot_publish(h, version_new(n)), 0);
    atomic_store(&done, true);
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(readers[i].bad, 0);
        assert_true(readers[i].reads > 0);
    }
    assert_int_equal(atomic_load(&freed), VERSIONS - 1); /* all but the current one */
    snapshot_holder_free(h);
    assert_int_equal(atomic_load(&freed), VERSIONS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_lifetime),
        cmocka_unit_test(test_readers_while_publishing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
