/* cnf_proxy.c: phone configs from a tftp:// upstream: a table of config
 * names (one fetch at a time per name, joined by every request that comes
 * while it runs), fetch threads that write the last good copy atomically
 * into data-dir/upstream-configs/, and the resolver source that answers a
 * request only from a fetch begun for it (or the copy, when that failed). */
#include "server/upstream/cnf_proxy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "server/cnf/cnf.h"
#include "server/upstream/tftp_fetch.h"
#include "server/upstream/url.h"

#define CNF_PROXY_ENTRIES   1024 /* names remembered; the oldest idle one goes */
#define CNF_PROXY_HELD      1024 /* clients remembered as waiting */
#define CNF_PROXY_THREADS   2
#define CNF_PROXY_NAME_MAX  32    /* "SEP" + 12 + ".cnf.xml", "XMLDefault.cnf.xml" */
#define CNF_PROXY_FORGET_MS 60000 /* a client's first try older than this is a new request */

enum entry_state { ENTRY_IDLE, ENTRY_QUEUED, ENTRY_RUNNING };
enum entry_result { RESULT_NONE, RESULT_OK, RESULT_ABSENT, RESULT_FAILED };

struct cnf_entry {
    char name[CNF_PROXY_NAME_MAX]; /* as asked: the upstream is asked so */
    char key[CNF_PROXY_NAME_MAX];  /* lower case: the copy's file name */
    enum entry_state state;
    enum entry_result result; /* of the last fetch */
    bool rerun;               /* a request came after this fetch began: fetch again */
    unsigned waiters;         /* requests waiting on it (it is not evicted) */
    int64_t started_ms, ended_ms, touched_ms;
    char why[UPSTREAM_ERR_MAX + 64]; /* the last fetch's failure */
};

/* A client waiting for a name, by its address: a TFTP resend comes from the
 * same port, an HTTP retry from another; forgotten once answered. */
struct cnf_held {
    struct sockaddr_storage peer;
    char key[CNF_PROXY_NAME_MAX];
    int64_t first_ms;
};

struct cnf_proxy {
    char dir[PATH_MAX];
    char upstream[UPSTREAM_BASE_MAX];
    struct tftp_fetch_opts o;
    struct upstream_fetch_opts fo; /* the stop flag for fetches in flight */
    atomic_bool fetch_stop;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a fetch ended, or one was queued */
    struct cnf_entry *entries[CNF_PROXY_ENTRIES];
    size_t n_entries;
    struct cnf_held held[CNF_PROXY_HELD]; /* a ring: the oldest is overwritten */
    size_t n_held, next_held;
    pthread_t threads[CNF_PROXY_THREADS];
    unsigned n_threads;
    bool stop;
};

/* ---- the table (the lock held) ---- */

static struct cnf_entry *entry_find(struct cnf_proxy *cp, const char *key)
{
    for (size_t i = 0; i < cp->n_entries; i++)
        if (strcmp(cp->entries[i]->key, key) == 0)
            return cp->entries[i];
    return NULL;
}

/* Room for one more: the idle entry nobody waits on, asked for longest ago. */
static bool entry_room(struct cnf_proxy *cp)
{
    size_t best = cp->n_entries;

    if (cp->n_entries < CNF_PROXY_ENTRIES)
        return true;
    for (size_t i = 0; i < cp->n_entries; i++) {
        const struct cnf_entry *e = cp->entries[i];

        if (e->state == ENTRY_IDLE && e->waiters == 0 &&
            (best == cp->n_entries || e->touched_ms < cp->entries[best]->touched_ms))
            best = i;
    }
    if (best == cp->n_entries)
        return false;
    free(cp->entries[best]);
    cp->entries[best] = cp->entries[--cp->n_entries];
    return true;
}

static struct cnf_entry *entry_get(struct cnf_proxy *cp, const char *name, const char *key,
                                   int64_t now)
{
    struct cnf_entry *e = entry_find(cp, key);

    if (e == NULL && entry_room(cp) && (e = calloc(1, sizeof(*e))) != NULL) {
        snprintf(e->name, sizeof(e->name), "%s", name);
        snprintf(e->key, sizeof(e->key), "%s", key);
        cp->entries[cp->n_entries++] = e;
    }
    if (e != NULL)
        e->touched_ms = now;
    return e;
}

/* A request whose client first asked at first is answered by a fetch that
 * ended after that and began at most CNF_PROXY_JOIN_MS before: one in
 * flight is joined, one that had ended is never reused. */
static bool entry_answers(const struct cnf_entry *e, int64_t first)
{
    return e->state == ENTRY_IDLE && e->result != RESULT_NONE && e->ended_ms >= first &&
           e->started_ms >= first - CNF_PROXY_JOIN_MS;
}

/* Makes sure a fetch that answers first will run. */
static void entry_want(struct cnf_proxy *cp, struct cnf_entry *e, int64_t first)
{
    if (e->state == ENTRY_IDLE) {
        e->state = ENTRY_QUEUED;
        pthread_cond_broadcast(&cp->cond);
    } else if (e->state == ENTRY_RUNNING && e->started_ms < first - CNF_PROXY_JOIN_MS) {
        e->rerun = true;
    }
}

/* ---- waiting clients (the lock held) ---- */

static bool same_address(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
    return a->sa_family == AF_INET6 &&
           memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
}

static struct cnf_held *held_find(struct cnf_proxy *cp, const struct sockaddr *client,
                                  const char *key)
{
    for (size_t i = 0; i < cp->n_held; i++)
        if (same_address(client, &cp->held[i].peer) && strcmp(cp->held[i].key, key) == 0)
            return &cp->held[i];
    return NULL;
}

/* When this client first asked for key (now, for a new request). */
static int64_t held_first(struct cnf_proxy *cp, const struct sockaddr *client, const char *key,
                          int64_t now)
{
    struct cnf_held *h;

    if (client == NULL || (client->sa_family != AF_INET && client->sa_family != AF_INET6))
        return now;
    h = held_find(cp, client, key);
    if (h != NULL && now - h->first_ms < CNF_PROXY_FORGET_MS)
        return h->first_ms;
    if (h == NULL) {
        h = &cp->held[cp->next_held];
        cp->next_held = (cp->next_held + 1) % CNF_PROXY_HELD;
        if (cp->n_held < CNF_PROXY_HELD)
            cp->n_held++;
    }
    memset(h, 0, sizeof(*h));
    memcpy(&h->peer, client,
           client->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    snprintf(h->key, sizeof(h->key), "%s", key);
    h->first_ms = now;
    return now;
}

static void held_forget(struct cnf_proxy *cp, const struct sockaddr *client, const char *key)
{
    struct cnf_held *h = client != NULL ? held_find(cp, client, key) : NULL;

    if (h != NULL)
        h->key[0] = '\0';
}

/* ---- the fetch threads ---- */

static void copy_path(const struct cnf_proxy *cp, const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", cp->dir, key);
}

/* One fetch of e's name into its copy; the result, the lock not held. */
static enum entry_result fetch_one(struct cnf_proxy *cp, const char *name, const char *key,
                                   char *why, size_t cap)
{
    char path[PATH_MAX + CNF_PROXY_NAME_MAX], err[UPSTREAM_ERR_MAX];
    int rc;

    copy_path(cp, key, path, sizeof(path));
    rc = tftp_fetch_file(&cp->o, name, path, NULL, NULL, err, sizeof(err));
    if (rc == FETCH_OK)
        return RESULT_OK;
    snprintf(why, cap, "%s", err);
    if (rc != FETCH_ABSENT)
        return RESULT_FAILED;
    if (unlink(path) == 0) /* the upstream dropped it: so does the branch */
        log_info("upstream %s has no %s any more: its last good copy is removed", cp->upstream,
                 name);
    return RESULT_ABSENT;
}

static struct cnf_entry *next_queued(struct cnf_proxy *cp)
{
    for (size_t i = 0; i < cp->n_entries; i++)
        if (cp->entries[i]->state == ENTRY_QUEUED)
            return cp->entries[i];
    return NULL;
}

static void *cnf_worker(void *arg)
{
    struct cnf_proxy *cp = arg;
    char name[CNF_PROXY_NAME_MAX], key[CNF_PROXY_NAME_MAX],
        why[sizeof(((struct cnf_entry *)0)->why)];

    pthread_mutex_lock(&cp->lock);
    while (!cp->stop) {
        struct cnf_entry *e = next_queued(cp);
        enum entry_result r;

        if (e == NULL) {
            pthread_cond_wait(&cp->cond, &cp->lock);
            continue;
        }
        e->state = ENTRY_RUNNING;
        e->rerun = false;
        e->started_ms = clock_mono_ms();
        e->waiters++; /* kept in the table while it runs */
        snprintf(name, sizeof(name), "%s", e->name);
        snprintf(key, sizeof(key), "%s", e->key);
        pthread_mutex_unlock(&cp->lock);
        why[0] = '\0';
        r = fetch_one(cp, name, key, why, sizeof(why));
        pthread_mutex_lock(&cp->lock);
        e->waiters--;
        e->result = r;
        e->ended_ms = clock_mono_ms();
        snprintf(e->why, sizeof(e->why), "%s", why);
        e->state = e->rerun ? ENTRY_QUEUED : ENTRY_IDLE;
        pthread_cond_broadcast(&cp->cond);
    }
    pthread_mutex_unlock(&cp->lock);
    return NULL;
}

/* ---- the resolver source ---- */

static int open_copy(const struct cnf_proxy *cp, const char *key, struct resolver_file *out)
{
    char path[PATH_MAX + CNF_PROXY_NAME_MAX];
    struct stat st;
    int fd;

    copy_path(cp, key, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? RESOLVER_NOT_FOUND : RESOLVER_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return RESOLVER_IO;
    }
    memset(out, 0, sizeof(*out));
    out->fd = fd;
    out->size = (uint64_t)st.st_size;
    out->source = "upstream config";
    out->generated = true; /* fetched for this request: never cached */
    return RESOLVER_OK;
}

/* A fetch ended for this request: its answer. */
static int answer(struct cnf_proxy *cp, const char *name, const char *key, enum entry_result r,
                  const char *why, struct resolver_file *out)
{
    char shown[LOG_CLEAN_MAX];
    int rc;

    if (r == RESULT_ABSENT)
        return RESOLVER_NOT_FOUND;
    rc = open_copy(cp, key, out);
    if (r == RESULT_OK)
        return rc;
    log_clean(why, strlen(why), shown, sizeof(shown));
    if (rc == RESOLVER_OK)
        log_warn("upstream %s unreachable for %s (%s): serving its last good copy", cp->upstream,
                 name, shown);
    else
        log_warn("upstream %s unreachable for %s (%s) and no copy is kept: the branch's own "
                 "config answers",
                 cp->upstream, name, shown);
    return rc;
}

/* Waits (the lock held) until e answers first, up to CNF_PROXY_WAIT_MS. */
static void wait_for(struct cnf_proxy *cp, struct cnf_entry *e, int64_t first)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += (long)CNF_PROXY_WAIT_MS * 1000000;
    until.tv_sec += until.tv_nsec / 1000000000;
    until.tv_nsec %= 1000000000;
    e->waiters++;
    while (!entry_answers(e, first) && !cp->stop &&
           pthread_cond_timedwait(&cp->cond, &cp->lock, &until) == 0)
        ;
    e->waiters--;
}

static int source_open(void *ctx, const char *name, const struct sockaddr *client,
                       struct resolver_file *out)
{
    struct cnf_proxy *cp = ctx;
    char mac[SETTINGS_MAC_LEN + 1], key[CNF_PROXY_NAME_MAX],
        why[sizeof(((struct cnf_entry *)0)->why)];
    struct cnf_entry *e;
    enum entry_result r;
    size_t len = strlen(name);
    int64_t now = clock_mono_ms(), first;

    if (len >= sizeof(key) || cnf_name_parse(name, mac) == CNF_NAME_OTHER)
        return RESOLVER_NOT_FOUND;
    for (size_t i = 0; i <= len; i++)
        key[i] = (char)tolower((unsigned char)name[i]);
    pthread_mutex_lock(&cp->lock);
    e = entry_get(cp, name, key, now);
    if (e == NULL) {
        pthread_mutex_unlock(&cp->lock);
        return RESOLVER_NOT_FOUND; /* every name busy: the branch's own config */
    }
    first = held_first(cp, client, key, now);
    if (!entry_answers(e, first)) {
        entry_want(cp, e, first);
        wait_for(cp, e, first);
    }
    if (!entry_answers(e, first)) {
        pthread_mutex_unlock(&cp->lock);
        return RESOLVER_HOLD;
    }
    held_forget(cp, client, key);
    r = e->result;
    snprintf(why, sizeof(why), "%s", e->why);
    pthread_mutex_unlock(&cp->lock);
    return answer(cp, name, key, r, why, out);
}

int cnf_proxy_attach(struct cnf_proxy *cp, struct resolver *r)
{
    struct resolver_source src = {"upstream-configs", source_open, NULL, cp};

    return resolver_add_source(r, &src);
}

/* ---- start and stop ---- */

static int proxy_init(struct cnf_proxy *cp, const struct cnf_proxy_params *p)
{
    char why[UPSTREAM_ERR_MAX];
    pthread_condattr_t ca;

    snprintf(cp->upstream, sizeof(cp->upstream), "%s", p->upstream);
    if ((size_t)snprintf(cp->dir, sizeof(cp->dir), "%s/%s", p->data_dir, CNF_PROXY_DIR) >=
            sizeof(cp->dir) ||
        (mkdir(cp->dir, 0700) != 0 && errno != EEXIST)) {
        log_error("upstream configs: cannot create %s/%s", p->data_dir, CNF_PROXY_DIR);
        return -1;
    }
    if (tftp_fetch_opts_from_url(p->upstream, p->tftp_blksize, p->tftp_windowsize,
                                 CNF_PROXY_FILE_MAX, &cp->o, why, sizeof(why)) != 0) {
        log_error("upstream-configs: %s: %s", p->upstream, why);
        return -1;
    }
    cp->o.total_ms = CNF_PROXY_FETCH_MS;
    cp->fo.stop = &cp->fetch_stop;
    cp->o.fo = &cp->fo;
    cp->o.get.timeout_ms = 500; /* a small file on a link that answers in well under that */
    cp->o.get.retries = 3;
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&cp->cond, &ca) != 0)
        return -1;
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&cp->lock, NULL);
    return 0;
}

int cnf_proxy_start(const struct cnf_proxy_params *p, struct cnf_proxy **out)
{
    struct cnf_proxy *cp = calloc(1, sizeof(*cp));

    if (cp == NULL)
        return -1;
    if (proxy_init(cp, p) != 0) {
        free(cp);
        return -1;
    }
    for (; cp->n_threads < CNF_PROXY_THREADS; cp->n_threads++)
        if (pthread_create(&cp->threads[cp->n_threads], NULL, cnf_worker, cp) != 0) {
            log_error("cannot start the upstream config threads");
            cnf_proxy_stop(cp);
            return -1;
        }
    log_info("upstream %s: its SEP<MAC>.cnf.xml and XMLDefault.cnf.xml win over ours, fetched "
             "per request (last good copies in %s)",
             cp->upstream, cp->dir);
    *out = cp;
    return 0;
}

void cnf_proxy_stop(struct cnf_proxy *cp)
{
    if (cp == NULL)
        return;
    pthread_mutex_lock(&cp->lock);
    cp->stop = true;
    atomic_store(&cp->fetch_stop, true);
    pthread_cond_broadcast(&cp->cond);
    pthread_mutex_unlock(&cp->lock);
    for (unsigned i = 0; i < cp->n_threads; i++)
        pthread_join(cp->threads[i], NULL);
    for (size_t i = 0; i < cp->n_entries; i++)
        free(cp->entries[i]);
    pthread_cond_destroy(&cp->cond);
    pthread_mutex_destroy(&cp->lock);
    free(cp);
}
