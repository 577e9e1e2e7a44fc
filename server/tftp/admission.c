/* admission.c: counts transfers per client, per prefix and in all, admits or
 * refuses a request, and picks the unanswered transfer that makes room. */
#include "server/tftp/admission.h"

#include <stddef.h>

#include "server/tftp/peer_key.h"

int admission_init(struct admission *a)
{
    int rc = peer_table_new(&a->clients);

    if (rc == 0)
        rc = peer_table_new(&a->prefixes);
    return rc;
}

void admission_fini(struct admission *a)
{
    peer_table_free(a->clients);
    peer_table_free(a->prefixes);
    a->clients = a->prefixes = NULL;
}

static void queue_unlink(struct admission_queue *q, struct admission_ticket *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        q->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        q->tail = t->prev;
    t->prev = t->next = NULL;
}

void admission_enqueue(struct admission_queue *q, struct admission_ticket *t)
{
    t->next = NULL;
    t->prev = q->tail;
    if (q->tail != NULL)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
}

/* Gives back the unanswered places (prefix and total) of a ticket not in a
 * queue: a request refused or failed while being set up. */
static void unacked_give_back(struct admission *a, struct admission_ticket *t)
{
    peer_table_release(a->prefixes, t->prefix);
    t->prefix = NULL;
    if (t->unacked)
        atomic_fetch_sub(&a->unacked, 1);
    t->unacked = false;
}

void admission_answered(struct admission *a, struct admission_queue *q, struct admission_ticket *t)
{
    if (!t->unacked)
        return;
    queue_unlink(q, t);
    unacked_give_back(a, t);
}

void admission_release(struct admission *a, struct admission_queue *q, struct admission_ticket *t)
{
    if (t->unacked)
        atomic_fetch_add(&a->expired, 1);
    admission_answered(a, q, t);
    peer_table_release(a->clients, t->client);
    t->client = NULL;
    atomic_fetch_sub(&a->active, 1);
}

void admission_undo(struct admission *a, struct admission_ticket *t)
{
    unacked_give_back(a, t);
    peer_table_release(a->clients, t->client);
    t->client = NULL;
    atomic_fetch_sub(&a->active, 1);
}

/* When the unanswered budget is full, the transfer that makes room for a
 * new request whose prefix then holds mine unanswered transfers: among the
 * queue's ADMISSION_EVICT_SCAN oldest that have waited ADMISSION_EVICT_MS (a
 * phone that answers at all answers long before), the one whose prefix holds
 * the most, and only if that is more than mine. So a flood only displaces
 * itself, and a request from a network with nothing outstanding always finds
 * room. NULL: none. */
static struct admission_ticket *victim_pick(struct admission *a, const struct admission_queue *q,
                                            uint64_t now, unsigned mine)
{
    struct admission_ticket *best = NULL;
    unsigned best_n = mine, i = 0;

    for (struct admission_ticket *t = q->head; t != NULL && i < ADMISSION_EVICT_SCAN;
         t = t->next, i++) {
        unsigned n;

        if (now - t->started_ms < ADMISSION_EVICT_MS)
            break; /* the queue is oldest first */
        n = peer_table_held(a->prefixes, t->prefix);
        if (n > best_n) {
            best = t;
            best_n = n;
        }
    }
    return best;
}

/* One more under a shared limit (all transfers, or all unanswered ones) for
 * t, which holds its prefix place already. When the limit is reached, an
 * unanswered transfer makes room if fairness allows (victim_pick); the place
 * it frees is taken even if another worker got there first, so a limit may
 * be passed by one per worker. */
static bool place_take(struct admission *a, struct admission_queue *q, struct admission_ticket *t,
                       atomic_uint_fast64_t *counter, unsigned max, admission_evict_fn *evict,
                       void *arg)
{
    struct admission_ticket *victim;

    if (atomic_fetch_add(counter, 1) < max)
        return true;
    atomic_fetch_sub(counter, 1);
    victim = victim_pick(a, q, t->started_ms, peer_table_held(a->prefixes, t->prefix));
    if (victim == NULL)
        return false;
    evict(arg, victim);
    /* After the release counted it as expired: evicted <= expired always. */
    atomic_fetch_add(&a->evicted, 1);
    atomic_fetch_add(counter, 1);
    return true;
}

/* In the order that spends least on a flood: the unanswered budget of the
 * request's prefix, the places of its client, all transfers, the unanswered
 * budget in all (the last two may end an unanswered transfer to make room). */
static int admit_places(struct admission *a, struct admission_queue *q,
                        const struct admission_limits *lim, const struct peer_key *prefix,
                        const struct peer_key *client, struct admission_ticket *t,
                        enum admission_refusal *why, admission_evict_fn *evict, void *arg)
{
    t->prefix = peer_table_acquire(a->prefixes, prefix, lim->unacked_per_prefix);
    if (t->prefix == NULL) {
        *why = ADMISSION_REFUSED_UNACKED_PREFIX;
        return -1;
    }
    *why = ADMISSION_REFUSED_CLIENT;
    t->client = peer_table_acquire(a->clients, client, lim->per_client);
    if (t->client == NULL)
        goto undo;
    *why = ADMISSION_REFUSED_TRANSFERS;
    if (!place_take(a, q, t, &a->active, lim->transfers, evict, arg))
        goto undo;
    *why = ADMISSION_REFUSED_UNACKED;
    t->unacked = place_take(a, q, t, &a->unacked, lim->unacked, evict, arg);
    if (t->unacked)
        return 0;
    atomic_fetch_sub(&a->active, 1);
undo:
    peer_table_release(a->clients, t->client);
    t->client = NULL;
    unacked_give_back(a, t);
    return -1;
}

int admission_admit(struct admission *a, struct admission_queue *q,
                    const struct admission_limits *lim, const struct sockaddr *peer,
                    uint64_t now_ms, struct admission_ticket *t, enum admission_refusal *why,
                    admission_evict_fn *evict, void *arg)
{
    struct peer_key prefix, client;
    int rc = -1;

    *t = (struct admission_ticket){.started_ms = now_ms};
    *why = ADMISSION_REFUSED_CLIENT; /* an address of no family we know: never reached */
    if (peer_key_make(peer, PEER_SCOPE_PREFIX, &prefix) == 0 &&
        peer_key_make(peer, PEER_SCOPE_CLIENT, &client) == 0)
        rc = admit_places(a, q, lim, &prefix, &client, t, why, evict, arg);
    if (rc != 0)
        atomic_fetch_add(&a->refused[*why], 1);
    return rc;
}

void admission_get_stats(struct admission *a, struct admission_stats *out)
{
    out->active = atomic_load(&a->active);
    out->unacked = atomic_load(&a->unacked);
    for (int i = 0; i < ADMISSION_REFUSALS; i++)
        out->refused[i] = atomic_load(&a->refused[i]);
    /* Evicted first: each eviction counts as expired before it counts as evicted. */
    out->evicted = atomic_load(&a->evicted);
    out->expired = atomic_load(&a->expired);
}

enum tftp_failure admission_failure(enum admission_refusal why)
{
    static const enum tftp_failure map[ADMISSION_REFUSALS] = {
        [ADMISSION_REFUSED_TRANSFERS] = TFTP_FAIL_BUSY_TRANSFERS,
        [ADMISSION_REFUSED_CLIENT] = TFTP_FAIL_BUSY_CLIENT,
        [ADMISSION_REFUSED_UNACKED_PREFIX] = TFTP_FAIL_BUSY_UNACKED_PREFIX,
        [ADMISSION_REFUSED_UNACKED] = TFTP_FAIL_BUSY_UNACKED,
    };

    return (unsigned)why < ADMISSION_REFUSALS ? map[why] : TFTP_FAIL_INTERNAL;
}
