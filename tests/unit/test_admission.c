/* test_admission.c: cmocka tests of admission with real peer tables: each
 * limit refuses with its own reason and holds nothing after, the unanswered
 * budget is given back on the first ACK and at the end, and a full budget is
 * made room for only at a flood's expense. Times are numbers passed in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "server/tftp/admission.h"
#include "server/tftp/wire_error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MANY         1000

struct fixture {
    struct admission a;
    struct admission_queue q;
    struct admission_limits lim;
    struct admission_ticket t[16];
    struct admission_ticket *evicted[16];
    size_t n_evicted;
};

/* The caller's side of an eviction: end the transfer, which releases it. */
static void on_evict(void *arg, struct admission_ticket *victim)
{
    struct fixture *fx = arg;

    fx->evicted[fx->n_evicted++] = victim;
    admission_release(&fx->a, &fx->q, victim);
}

static int setup(void **state)
{
    static struct fixture fx;

    memset(&fx, 0, sizeof(fx));
    assert_int_equal(admission_init(&fx.a), 0);
    fx.lim = (struct admission_limits){MANY, MANY, MANY, MANY};
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    admission_fini(&fx->a);
    return 0;
}

static struct sockaddr_in addr4(const char *ip)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(1234)};

    assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return sa;
}

/* Admits ticket i from ip at now; returns 0 or the refusal + 1 (negated). */
static int admit(struct fixture *fx, int i, const char *ip, uint64_t now)
{
    struct sockaddr_in sa = addr4(ip);
    enum admission_refusal why;

    if (admission_admit(&fx->a, &fx->q, &fx->lim, (const struct sockaddr *)&sa, now, &fx->t[i],
                        &why, on_evict, fx) == 0)
        return 0;
    return -(int)why - 1;
}

static void start(struct fixture *fx, int i, const char *ip, uint64_t now)
{
    assert_int_equal(admit(fx, i, ip, now), 0);
    admission_enqueue(&fx->q, &fx->t[i]);
}

static void expect_counts(struct fixture *fx, uint64_t active, uint64_t unacked)
{
    struct admission_stats st;

    admission_get_stats(&fx->a, &st);
    assert_int_equal(st.active, active);
    assert_int_equal(st.unacked, unacked);
}

static uint64_t refused(struct fixture *fx, enum admission_refusal why)
{
    struct admission_stats st;

    admission_get_stats(&fx->a, &st);
    return st.refused[why];
}

/* Each limit at 1 (the others wide open): the second request that meets it
 * is refused for that reason, counted, and holds nothing. */
static void test_each_limit(void **state)
{
    static const struct {
        const char *field;
        const char *second; /* the second request's address */
        enum admission_refusal why;
    } cases[] = {
        {"per_client", "10.0.1.1", ADMISSION_REFUSED_CLIENT},
        {"unacked_per_prefix", "10.0.1.2", ADMISSION_REFUSED_UNACKED_PREFIX},
        {"transfers", "10.0.2.1", ADMISSION_REFUSED_TRANSFERS},
        {"unacked", "10.0.2.1", ADMISSION_REFUSED_UNACKED},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fixture *fx;

        setup(state);
        fx = *state;
        if (strcmp(cases[i].field, "per_client") == 0)
            fx->lim.per_client = 1;
        else if (strcmp(cases[i].field, "unacked_per_prefix") == 0)
            fx->lim.unacked_per_prefix = 1;
        else if (strcmp(cases[i].field, "transfers") == 0)
            fx->lim.transfers = 1;
        else
            fx->lim.unacked = 1;
        start(fx, 0, "10.0.1.1", 1000);
        /* Too young to be evicted: the limit holds. */
        assert_int_equal(admit(fx, 1, cases[i].second, 1000 + ADMISSION_EVICT_MS - 1),
                         -(int)cases[i].why - 1);
        assert_int_equal(refused(fx, cases[i].why), 1);
        expect_counts(fx, 1, 1);
        assert_null(fx->t[1].client);
        assert_null(fx->t[1].prefix);
        assert_int_equal(fx->n_evicted, 0);
        admission_release(&fx->a, &fx->q, &fx->t[0]);
        expect_counts(fx, 0, 0);
        teardown(state);
    }
}

/* The first ACK gives back the unanswered places, not the client's. */
static void test_answered_and_release(void **state)
{
    struct fixture *fx = *state;
    struct admission_stats st;

    fx->lim.per_client = 1;
    fx->lim.unacked_per_prefix = 1;
    start(fx, 0, "10.0.1.1", 1000);
    expect_counts(fx, 1, 1);
    admission_answered(&fx->a, &fx->q, &fx->t[0]);
    expect_counts(fx, 1, 0);
    assert_null(fx->q.head);
    admission_answered(&fx->a, &fx->q, &fx->t[0]); /* twice: nothing */
    expect_counts(fx, 1, 0);
    /* Its prefix has room again; its client does not. */
    start(fx, 1, "10.0.1.2", 1001);
    /* The prefix is looked at first: full again. */
    assert_int_equal(admit(fx, 2, "10.0.1.1", 1002), -ADMISSION_REFUSED_UNACKED_PREFIX - 1);
    admission_answered(&fx->a, &fx->q, &fx->t[1]);
    assert_int_equal(admit(fx, 2, "10.0.1.1", 1002), -ADMISSION_REFUSED_CLIENT - 1);
    admission_release(&fx->a, &fx->q, &fx->t[0]);
    admission_release(&fx->a, &fx->q, &fx->t[1]);
    expect_counts(fx, 0, 0);
    admission_get_stats(&fx->a, &st);
    /* Both answered: none expired. */
    assert_int_equal(st.expired, 0);
    assert_int_equal(st.evicted, 0);
}

static void test_undo(void **state)
{
    struct fixture *fx = *state;

    fx->lim.per_client = 1;
    assert_int_equal(admit(fx, 0, "10.0.1.1", 1000), 0);
    expect_counts(fx, 1, 1);
    admission_undo(&fx->a, &fx->t[0]);
    expect_counts(fx, 0, 0);
    /* The client's place is free again. */
    start(fx, 1, "10.0.1.1", 1001);
    admission_release(&fx->a, &fx->q, &fx->t[1]);
}

/* A full unanswered budget: a flood's oldest transfer, old enough, makes room
 * for a network with fewer outstanding; never for the flood itself, never
 * a transfer younger than ADMISSION_EVICT_MS. */
static void test_eviction(void **state)
{
    struct fixture *fx = *state;
    struct admission_stats st;

    fx->lim.unacked = 3;
    start(fx, 0, "10.0.1.1", 1000); /* the flood: 10.0.1.0/24 */
    start(fx, 1, "10.0.1.2", 1001);
    start(fx, 2, "10.0.2.1", 1002); /* one from elsewhere */
    /* Too young. */
    assert_int_equal(admit(fx, 3, "10.0.3.1", 1000 + ADMISSION_EVICT_MS - 1),
                     -ADMISSION_REFUSED_UNACKED - 1);
    /* The flood itself finds no room: its prefix would hold 3, no other holds more. */
    assert_int_equal(admit(fx, 3, "10.0.1.3", 2000), -ADMISSION_REFUSED_UNACKED - 1);
    assert_int_equal(fx->n_evicted, 0);
    /* A new network: the flood's oldest goes. */
    assert_int_equal(admit(fx, 3, "10.0.3.1", 2000), 0);
    admission_enqueue(&fx->q, &fx->t[3]);
    assert_int_equal(fx->n_evicted, 1);
    assert_ptr_equal(fx->evicted[0], &fx->t[0]);
    admission_get_stats(&fx->a, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.unacked, 3);
    assert_int_equal(st.active, 3);
    /* Now the flood and 10.0.2.0/24 hold one each: a fourth network finds no
     * prefix holding more than its own would (1). */
    assert_int_equal(admit(fx, 4, "10.0.4.1", 3000), -ADMISSION_REFUSED_UNACKED - 1);
    for (int i = 1; i < 4; i++)
        admission_release(&fx->a, &fx->q, &fx->t[i]);
    expect_counts(fx, 0, 0);
}

/* At max-transfers, an unanswered transfer of a flood makes room too. */
static void test_eviction_at_max_transfers(void **state)
{
    struct fixture *fx = *state;

    fx->lim.transfers = 2;
    start(fx, 0, "10.0.1.1", 1000);
    start(fx, 1, "10.0.1.2", 1001);
    /* An answered transfer is never a victim. */
    admission_answered(&fx->a, &fx->q, &fx->t[0]);
    assert_int_equal(admit(fx, 2, "10.0.2.1", 2000), -ADMISSION_REFUSED_TRANSFERS - 1);
    fx->lim.transfers = 3;
    start(fx, 3, "10.0.1.3", 1002);
    assert_int_equal(admit(fx, 2, "10.0.2.1", 2000), 0);
    assert_int_equal(fx->n_evicted, 1);
    assert_ptr_equal(fx->evicted[0], &fx->t[1]);
    expect_counts(fx, 3, 2);
    assert_int_equal(refused(fx, ADMISSION_REFUSED_TRANSFERS), 1);
    admission_enqueue(&fx->q, &fx->t[2]);
    admission_release(&fx->a, &fx->q, &fx->t[0]);
    admission_release(&fx->a, &fx->q, &fx->t[2]);
    admission_release(&fx->a, &fx->q, &fx->t[3]);
    expect_counts(fx, 0, 0);
}

/* Each refusal has its own ERROR, and it is a busy one (code 0). */
static void test_failure(void **state)
{
    const char *texts[ADMISSION_REFUSALS];

    (void)state;
    for (int i = 0; i < ADMISSION_REFUSALS; i++) {
        enum tftp_failure f = admission_failure((enum admission_refusal)i);

        assert_int_equal(tftp_wire_error(f, &texts[i]), 0);
        assert_true(strncmp(texts[i], "Server busy", 11) == 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(texts[i], texts[j]);
    }
    assert_int_equal(admission_failure(ADMISSION_REFUSALS), TFTP_FAIL_INTERNAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_limit),
        cmocka_unit_test_setup_teardown(test_answered_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_at_max_transfers, setup, teardown),
        cmocka_unit_test(test_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
