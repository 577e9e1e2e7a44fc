/* probe.c: the probe thread: reads which plain-host load servers devices
 * are pointed at and which loads they need, probes each load's files there
 * with probe_sm.c (one host at a time, at most `rate` requests a second,
 * each (host, load) again after fleet_max_age_s / 2) and stores the result.
 * Its own database connection; never sends a phone anything. */
#include "server/upstream/probe.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/catalog.h"
#include "db/fleet.h"
#include "db/probe.h"
#include "db/provision.h"
#include "lib/clock.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "lib/sizes.h"
#include "server/upstream/probe_sm.h"
#include "server/upstream/udp_peer.h"

#define PROBE_IDLE_MS     1000 /* between rounds */
#define PROBE_NAP_MS      100  /* longest wait between looks at the stop flag */
#define PROBE_FILES_MAX   4096 /* a load's files probed at most */
#define PROBE_MAX_AGE_MAX 86400

struct prober {
    struct probe_params p;
    char data_dir[DIR_BUF];
    atomic_bool stop;
    pthread_t thread;
    sqlite3 *db;
    int64_t next_send_ms; /* the pace: no request before this */
    struct settings_snapshot *snap;
    int64_t snap_generation;
    struct probe_target *targets;
    size_t n_targets;
};

/* One file of a load as the catalog has it. */
struct probe_file {
    char name[CATALOG_NAME_MAX];
    uint64_t size;
};

struct probe_files {
    struct probe_file *v;
    size_t n, cap;
};

static void nap_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

    if (ms > 0)
        nanosleep(&ts, NULL);
}

/* ---- the targets (pure) ---- */

static int target_cmp(const void *a, const void *b)
{
    const struct probe_target *x = a, *y = b;
    int c = strcasecmp(x->host, y->host);

    return c != 0 ? c : strcasecmp(x->load, y->load);
}

static int target_add(struct probe_target **v, size_t *n, size_t *cap, const char *host,
                      const char *load)
{
    if (load[0] == '\0')
        return 0;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct probe_target *nv = realloc(*v, ncap * sizeof(*nv));

        if (nv == NULL)
            return -1;
        *v = nv;
        *cap = ncap;
    }
    snprintf((*v)[*n].host, sizeof((*v)[*n].host), "%s", host);
    snprintf((*v)[*n].load, sizeof((*v)[*n].load), "%s", load);
    (*n)++;
    return 0;
}

/* A value a probe can ask: a host, not "branch:NAME" and not none. */
static bool plain_host(const char *value)
{
    return value[0] != '\0' && strncmp(value, "branch:", 7) != 0 && settings_host_valid(value);
}

/* Adds every load of w at host. */
static int targets_add_list(struct probe_target **v, size_t *n, size_t *cap, const char *host,
                            const struct fleet_want *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (target_add(v, n, cap, host, w->loads[i]) != 0)
            return -1;
    return 0;
}

int probe_targets(const struct fleet_want_index *x, struct probe_target **out, size_t *n)
{
    struct probe_target *v = NULL;
    size_t cap = 0, k = 0, w = 0;

    for (size_t i = 0; i < x->n; i++) {
        const struct fleet_want_entry *e = &x->v[i];

        if (e->kind != FLEET_KIND_PROBED || !plain_host(e->name))
            continue;
        if (targets_add_list(&v, &k, &cap, e->name, &e->want) != 0 ||
            targets_add_list(&v, &k, &cap, e->name, &e->named) != 0) {
            free(v);
            return -1;
        }
    }
    if (k > 0)
        qsort(v, k, sizeof(*v), target_cmp);
    for (size_t i = 0; i < k; i++)
        if (w == 0 || target_cmp(&v[w - 1], &v[i]) != 0)
            v[w++] = v[i];
    *out = v;
    *n = w;
    return 0;
}

/* ---- one file ---- */

/* Waits for the pace: requests at most p.rate a second, overall. */
static void pace(struct prober *pr)
{
    int64_t now = clock_mono_ms();

    if (pr->next_send_ms > now)
        nap_ms(pr->next_send_ms - now);
    /* Evenly spaced, no burst: an idle spell earns no credit. */
    now = clock_mono_ms();
    pr->next_send_ms =
        (pr->next_send_ms > now ? pr->next_send_ms : now) + 1000 / (pr->p.rate ? pr->p.rate : 1);
}

/* Sends what the machine asked: the request (paced) or the ERROR that ends
 * the server's transfer, to its transfer port. */
static void act(struct prober *pr, const struct udp_peer *peer, const struct probe_sm *sm,
                const struct probe_sm_action *a)
{
    struct sockaddr_storage to = peer->addr;

    if (a->send_len == 0)
        return;
    if (a->to_tid)
        udp_peer_at_port(peer, sm->tid, &to);
    else
        pace(pr);
    /* A lost send is a lost packet: the resend covers the request; the
     * server's own timeout ends a transfer whose ERROR was lost. */
    (void)sendto(peer->sock, a->send, a->send_len, 0, (struct sockaddr *)&to, peer->len);
}

static void receive(struct prober *pr, const struct udp_peer *peer, struct probe_sm *sm)
{
    uint8_t buf[TFTP_DATAGRAM_MAX + 1];
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    struct probe_sm_action a;
    ssize_t n =
        recvfrom(peer->sock, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
    int port;

    if (n < 0)
        return;
    port = udp_peer_port_of(peer, &from);
    if (port < 0)
        return; /* not the load server: not ours to answer */
    probe_sm_on_packet(sm, buf, (size_t)n, (uint16_t)port, &a);
    act(pr, peer, sm, &a);
}

/* Probes name at host: a probe_sm_result; sm->why and sm->size tell more.
 * A fresh socket per file, so a late answer to an earlier probe is not
 * taken for this one's. */
static int probe_file(struct prober *pr, const char *host, const char *name, struct probe_sm *sm)
{
    struct probe_sm_params sp;
    struct probe_sm_action a;
    struct udp_peer peer;
    char err[PROBE_SM_WHY_MAX];
    int rc = udp_peer_open(&peer, host, pr->p.port, err, sizeof(err));

    if (rc != 0) {
        memset(sm, 0, sizeof(*sm));
        sm->result = PROBE_SM_NO_ANSWER;
        snprintf(sm->why, sizeof(sm->why), "%s", err);
        return PROBE_SM_NO_ANSWER;
    }
    probe_sm_params_default(&sp);
    if (pr->p.timeout_ms != 0)
        sp.timeout_ms = pr->p.timeout_ms;
    if (pr->p.tries != 0)
        sp.tries = pr->p.tries;
    probe_sm_start(sm, &sp, name, clock_mono_ms(), &a);
    act(pr, &peer, sm, &a);
    while (sm->state != PROBE_SM_END && !atomic_load(&pr->stop)) {
        struct pollfd pfd = {.fd = peer.sock, .events = POLLIN};
        int64_t wait = probe_sm_deadline(sm) - clock_mono_ms();

        wait = wait < 0 ? 0 : wait > PROBE_NAP_MS ? PROBE_NAP_MS : wait;
        if (poll(&pfd, 1, (int)wait) > 0)
            receive(pr, &peer, sm);
        if (sm->state != PROBE_SM_END) {
            probe_sm_on_timer(sm, clock_mono_ms(), &a);
            act(pr, &peer, sm, &a);
        }
    }
    udp_peer_close(&peer);
    return sm->state == PROBE_SM_END ? sm->result : PROBE_SM_NO_ANSWER;
}

/* ---- one load at one host ---- */

static int file_add(void *arg, const struct catalog_file *f)
{
    struct probe_files *fs = arg;

    if (fs->n == PROBE_FILES_MAX)
        return 1;
    if (grow_array((void **)&fs->v, &fs->cap, fs->n + 1, sizeof(*fs->v), 16) != 0)
        return DB_ERROR;
    snprintf(fs->v[fs->n].name, sizeof(fs->v[fs->n].name), "%s", f->name);
    fs->v[fs->n].size = f->size;
    fs->n++;
    return 0;
}

/* What the files' answers add up to, as the row's why. */
struct probe_tally {
    unsigned missing, wrong_size, unsized, refused;
    char first[PROBE_WHY_MAX]; /* the first file's trouble */
};

static void tally_note(struct probe_tally *t, const char *name, const char *what)
{
    char clean[LOG_CLEAN_MAX];

    if (t->first[0] != '\0')
        return;
    log_clean(name, strlen(name), clean, sizeof(clean));
    snprintf(t->first, sizeof(t->first), "%.120s %.120s", clean, what);
}

/* One file's answer into the tally; true when it counts as held. */
static bool tally_add(struct probe_tally *t, const struct probe_file *f, const struct probe_sm *sm)
{
    char what[PROBE_SM_WHY_MAX];

    switch (sm->result) {
    case PROBE_SM_SIZED:
        if (sm->size == f->size)
            return true;
        t->wrong_size++;
        snprintf(what, sizeof(what), "is %" PRIu64 " bytes there, %" PRIu64 " in the catalog",
                 sm->size, f->size);
        tally_note(t, f->name, what);
        return false;
    case PROBE_SM_UNSIZED:
        t->unsized++;
        tally_note(t, f->name, "is there, size not verifiable (the server gives no tsize)");
        return false;
    case PROBE_SM_MISSING:
        t->missing++;
        tally_note(t, f->name, "is missing");
        return false;
    default:
        t->refused++;
        tally_note(t, f->name, sm->why);
        return false;
    }
}

static void row_why(struct probe_row *r, const struct probe_tally *t)
{
    if (r->complete)
        r->why[0] = '\0';
    else
        snprintf(r->why, sizeof(r->why),
                 "holds %u of %u files (%u missing, %u of another size, %u unverified, %u "
                 "refused); %.120s",
                 r->files_have, r->files_total, t->missing, t->wrong_size, t->unsized, t->refused,
                 t->first);
}

/* Probes every file of load at host into r. The first file (.loads) not
 * answering at all ends it: the host is down, its other files need not be
 * asked. */
static void probe_load(struct prober *pr, const char *host, const struct probe_files *fs,
                       struct probe_row *r)
{
    struct probe_tally t = {0};
    struct probe_sm sm;

    r->files_total = (unsigned)fs->n;
    for (size_t i = 0; i < fs->n && !atomic_load(&pr->stop); i++) {
        int rc = probe_file(pr, host, fs->v[i].name, &sm);

        if (rc == PROBE_SM_NO_ANSWER) {
            snprintf(r->why, sizeof(r->why), "no answer from %.100s:%u (%.100s)", host, pr->p.port,
                     sm.why);
            r->complete = false;
            return;
        }
        if (tally_add(&t, &fs->v[i], &sm))
            r->files_have++;
    }
    r->complete = fs->n > 0 && r->files_have == r->files_total;
    row_why(r, &t);
}

/* Probes target t and stores the result; a load the catalog does not have
 * is stored incomplete (its files are not known). */
static void probe_target(struct prober *pr, const struct probe_target *t)
{
    struct probe_files fs = {0};
    struct probe_row r = {0};
    bool changed = false;
    int rc;

    snprintf(r.host, sizeof(r.host), "%.253s", t->host);
    snprintf(r.load, sizeof(r.load), "%s", t->load);
    rc = catalog_files_each(pr->db, t->load, file_add, &fs);
    if (rc != DB_OK) {
        free(fs.v);
        return;
    }
    if (fs.n == 0)
        snprintf(r.why, sizeof(r.why),
                 "the central's catalog does not have %.120s: its files are "
                 "not known",
                 t->load);
    else
        probe_load(pr, t->host, &fs, &r);
    free(fs.v);
    if (atomic_load(&pr->stop))
        return;
    r.probed_at = (int64_t)time(NULL);
    if (probe_row_put(pr->db, &r, &changed) == DB_OK && changed)
        log_info("probe: %s at %s: %s (%u of %u files)%s%s", r.load, r.host,
                 r.complete ? "complete" : "incomplete", r.files_have, r.files_total,
                 r.why[0] ? ": " : "", r.why);
}

/* ---- the rounds ---- */

/* The enterprise settings the probe reads: on/off and the age results
 * stay fresh (a missing or unreadable value: off, 300 s). */
static bool settings_read(struct prober *pr, unsigned *max_age_s)
{
    char v[32];
    uint64_t age;

    *max_age_s = PROBE_MAX_AGE_DEFAULT_S;
    if (catalog_setting_get(pr->db, "fleet_max_age_s", v, sizeof(v)) == DB_OK &&
        numparse_u64(v, 1, PROBE_MAX_AGE_MAX, &age) == 0)
        *max_age_s = (unsigned)age;
    return catalog_setting_get(pr->db, "probe_load_servers", v, sizeof(v)) == DB_OK &&
           strcmp(v, "on") == 0;
}

/* The devices' last-seen addresses, for the site rules. */
/* The targets of the snapshot, with every device's last-seen address. */
static int targets_rebuild(struct prober *pr)
{
    struct fleet_seen *seen = NULL;
    struct fleet_want_index x;
    size_t n_seen = 0;
    int rc;

    free(pr->targets);
    pr->targets = NULL;
    pr->n_targets = 0;
    if (fleet_seen_load(pr->db, &seen, &n_seen) != DB_OK)
        return -1;
    rc = fleet_want_index_build(pr->snap, seen, n_seen, &x);
    free(seen);
    if (rc != 0)
        return -1;
    rc = probe_targets(&x, &pr->targets, &pr->n_targets);
    fleet_want_index_free(&x);
    return rc;
}

/* probe_rows_retain's test: (host, load) is still a target. */
static bool still_wanted(void *arg, const char *host, const char *load)
{
    const struct prober *pr = arg;
    struct probe_target key;

    snprintf(key.host, sizeof(key.host), "%s", host);
    snprintf(key.load, sizeof(key.load), "%s", load);
    return pr->n_targets > 0 &&
           bsearch(&key, pr->targets, pr->n_targets, sizeof(key), target_cmp) != NULL;
}

/* A new snapshot and new targets when the provisioning generation moved;
 * results no device needs any more go (they would make their host look
 * stale for ever). */
static int snapshot_refresh(struct prober *pr)
{
    struct settings_snapshot *s = NULL;
    int64_t gen;

    if (db_generation(pr->db, &gen) != DB_OK)
        return -1;
    if (pr->snap != NULL && gen == pr->snap_generation)
        return 0;
    if (provision_snapshot_load(pr->db, &s) != DB_OK)
        return -1;
    provision_snapshot_free(pr->snap);
    pr->snap = s;
    pr->snap_generation = gen;
    if (targets_rebuild(pr) != 0)
        return -1;
    return probe_rows_retain(pr->db, still_wanted, pr, NULL) == DB_OK ? 0 : -1;
}

/* Whether (host, load) was probed less than max_age_s / 2 ago. */
static bool recent(struct prober *pr, const struct probe_target *t, unsigned max_age_s)
{
    struct probe_row r;

    return probe_row_get(pr->db, t->host, t->load, &r) == DB_OK &&
           (int64_t)time(NULL) - r.probed_at < (int64_t)(max_age_s / 2);
}

/* Probes what is due, host by host (the targets are sorted by host). */
static void round_run(struct prober *pr)
{
    unsigned max_age_s;

    if (!settings_read(pr, &max_age_s) || snapshot_refresh(pr) != 0)
        return;
    for (size_t i = 0; i < pr->n_targets && !atomic_load(&pr->stop); i++)
        if (!recent(pr, &pr->targets[i], max_age_s))
            probe_target(pr, &pr->targets[i]);
}

static void *prober_main(void *arg)
{
    struct prober *pr = arg;
    char path[PATH_BUF];

    snprintf(path, sizeof(path), "%s/catalog.db", pr->data_dir);
    while (!atomic_load(&pr->stop)) {
        if (pr->db == NULL && db_open(path, &pr->db) != DB_OK) {
            log_error("probe: cannot open %s", path);
            pr->db = NULL;
        }
        if (pr->db != NULL)
            round_run(pr);
        for (int64_t t = 0; t < PROBE_IDLE_MS && !atomic_load(&pr->stop); t += PROBE_NAP_MS)
            nap_ms(PROBE_NAP_MS);
    }
    return NULL;
}

int prober_start(const struct probe_params *p, struct prober **out)
{
    struct prober *pr = calloc(1, sizeof(*pr));

    if (pr == NULL)
        return -1;
    pr->p = *p;
    snprintf(pr->data_dir, sizeof(pr->data_dir), "%s", p->data_dir);
    pr->p.data_dir = pr->data_dir;
    if (pthread_create(&pr->thread, NULL, prober_main, pr) != 0) {
        free(pr);
        return -1;
    }
    *out = pr;
    return 0;
}

void prober_stop(struct prober *pr)
{
    if (pr == NULL)
        return;
    atomic_store(&pr->stop, true);
    pthread_join(pr->thread, NULL);
    provision_snapshot_free(pr->snap);
    free(pr->targets);
    if (pr->db != NULL)
        db_close(pr->db);
    free(pr);
}
