/* pull.c: the pull-through engine: a table of loads wanted from upstream
 * (one entry, so one fetch, per load however many phones ask), workers that
 * fetch a load's manifest and blobs into the spool and import it whole. */
#include "server/upstream/pull.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "db/blobstore.h"
#include "db/datadir.h"
#include "lib/log.h"
#include "server/firmware/import.h"
#include "server/upstream/fetch.h"
#include "server/upstream/manifest.h"
#include "server/upstream/url.h"

#define PULL_ABSENT_S      30 /* a load the upstream lacks is asked for again after this */
#define PULL_BACKOFF_MIN_S 2  /* after a failed pull; doubles per failure */
#define PULL_BACKOFF_MAX_S 300
#define PULL_SETTLE_S      10  /* after an import, the catalog serves it within a poll */
#define PULL_WANTED_S      300 /* a failed pull asked for this recently is retried unasked */
#define PULL_PATH_MAX      (PATH_MAX + RESOLVER_NAME_MAX + 64)
#define PULL_HELD_MAX      1024 /* clients remembered as held */
#define LOADS_SUFFIX       ".loads"

enum pull_state {
    PULL_QUEUED,
    PULL_RUNNING,
    PULL_DONE,   /* imported at done_at */
    PULL_FAILED, /* asked again from retry_at */
    PULL_ABSENT, /* the upstream lacks it or does not serve it; asked again from retry_at */
};

struct pull_load {
    char name[RESOLVER_NAME_MAX + 1]; /* the load, as the phone asked (case kept) */
    enum pull_state state;
    unsigned failures; /* in a row */
    int64_t retry_at;
    int64_t done_at;
    int64_t touched;            /* the last request for it: the oldest idle entry goes first */
    struct upstream_manifest m; /* while running, once known: its file names are pending */
};

/* A client (address and port: one TFTP request and its resends) told
 * nothing yet about a load being pulled. */
struct pull_held {
    struct sockaddr_storage peer;
    int64_t first_ms;
};

struct pull_engine {
    char upstream[UPSTREAM_BASE_MAX];
    char data_dir[PATH_MAX];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct pull_load *loads[PULL_LOADS_MAX];
    size_t n_loads;
    struct pull_held held[PULL_HELD_MAX]; /* a ring: the oldest is overwritten */
    size_t n_held, next_held;
    unsigned hold_ms;
    pthread_t threads[PULL_WORKERS_MAX];
    unsigned n_threads;
    atomic_bool stop;
};

/* What one pull did, for its log line. */
struct pull_result {
    int state; /* PULL_DONE, PULL_FAILED or PULL_ABSENT */
    char why[UPSTREAM_ERR_MAX + 64];
    unsigned files, fetched;
    uint64_t bytes_got;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_s(void)
{
    return now_ms() / 1000;
}

/* ---- the table (the lock held) ---- */

static struct pull_load *table_find(struct pull_engine *e, const char *name)
{
    for (size_t i = 0; i < e->n_loads; i++)
        if (strcasecmp(e->loads[i]->name, name) == 0)
            return e->loads[i];
    return NULL;
}

/* The entry idle longest, not queued or running; or NULL. */
static size_t table_victim(struct pull_engine *e)
{
    size_t best = e->n_loads;

    for (size_t i = 0; i < e->n_loads; i++) {
        const struct pull_load *l = e->loads[i];

        if (l->state == PULL_QUEUED || l->state == PULL_RUNNING)
            continue;
        if (best == e->n_loads || l->touched < e->loads[best]->touched)
            best = i;
    }
    return best;
}

static struct pull_load *table_add(struct pull_engine *e, const char *name, int64_t now)
{
    struct pull_load *l;

    if (e->n_loads == PULL_LOADS_MAX) {
        size_t v = table_victim(e);

        if (v == e->n_loads)
            return NULL;
        upstream_manifest_free(&e->loads[v]->m);
        free(e->loads[v]);
        e->loads[v] = e->loads[--e->n_loads];
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    snprintf(l->name, sizeof(l->name), "%s", name);
    l->touched = now;
    l->state = PULL_QUEUED;
    e->loads[e->n_loads++] = l;
    return l;
}

/* A name some pull in flight will bring. */
static bool table_pending_file(struct pull_engine *e, const char *name)
{
    for (size_t i = 0; i < e->n_loads; i++) {
        const struct pull_load *l = e->loads[i];

        if ((l->state == PULL_QUEUED || l->state == PULL_RUNNING) &&
            upstream_manifest_find(&l->m, name) != NULL)
            return true;
    }
    return false;
}

/* A request for load name: start, join or refuse its pull. */
static int table_want(struct pull_engine *e, const char *name, int64_t now)
{
    struct pull_load *l = table_find(e, name);
    bool again;

    if (l == NULL) {
        l = table_add(e, name, now);
        if (l == NULL)
            return RESOLVER_NOT_FOUND; /* every entry busy: the phone asks again */
        pthread_cond_broadcast(&e->cond);
        return RESOLVER_PENDING;
    }
    l->touched = now;
    switch (l->state) {
    case PULL_QUEUED:
    case PULL_RUNNING:
        return RESOLVER_PENDING;
    case PULL_DONE:
        /* Served by the catalog within a poll; if it still is not after
         * that, it was removed here: fetch it again. */
        again = now - l->done_at >= PULL_SETTLE_S;
        break;
    default:
        again = now >= l->retry_at;
        if (!again)
            return l->state == PULL_ABSENT ? RESOLVER_NOT_FOUND : RESOLVER_PENDING;
        break;
    }
    if (!again)
        return RESOLVER_PENDING;
    l->state = PULL_QUEUED;
    pthread_cond_broadcast(&e->cond);
    return RESOLVER_PENDING;
}

/* ---- holding a request (the lock held) ---- */

static bool same_peer(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET)
        return memcmp(a, b, sizeof(struct sockaddr_in)) == 0;
    return a->sa_family == AF_INET6 && memcmp(a, b, sizeof(struct sockaddr_in6)) == 0;
}

/* PENDING for a client: held (no answer) for hold_ms from its first try,
 * then answered. A TFTP client resends its request every second or two;
 * a resend that finds the load imported is served at once, where an
 * answer would have sent the phone into its restart backoff. */
static int hold_or_answer(struct pull_engine *e, const struct sockaddr *client)
{
    int64_t now = now_ms();
    struct pull_held *h;

    if (client == NULL || e->hold_ms == 0 ||
        (client->sa_family != AF_INET && client->sa_family != AF_INET6))
        return RESOLVER_PENDING;
    for (size_t i = 0; i < e->n_held; i++)
        if (same_peer(client, &e->held[i].peer))
            return now - e->held[i].first_ms < (int64_t)e->hold_ms ? RESOLVER_HOLD
                                                                   : RESOLVER_PENDING;
    h = &e->held[e->next_held];
    e->next_held = (e->next_held + 1) % PULL_HELD_MAX;
    if (e->n_held < PULL_HELD_MAX)
        e->n_held++;
    memset(&h->peer, 0, sizeof(h->peer));
    memcpy(&h->peer, client,
           client->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    h->first_ms = now;
    return RESOLVER_HOLD;
}

/* ---- the resolver source ---- */

static int source_open(void *ctx, const char *name, const struct sockaddr *client,
                       struct resolver_file *out)
{
    struct pull_engine *e = ctx;
    size_t len = strlen(name), sl = strlen(LOADS_SUFFIX);
    char load[RESOLVER_NAME_MAX + 1];
    int rc = RESOLVER_NOT_FOUND;

    (void)out;
    if (strchr(name, '/') != NULL)
        return RESOLVER_NOT_FOUND;
    pthread_mutex_lock(&e->lock);
    if (len > sl && strcasecmp(name + len - sl, LOADS_SUFFIX) == 0) {
        memcpy(load, name, len - sl);
        load[len - sl] = '\0';
        rc = table_want(e, load, now_s());
    } else if (table_pending_file(e, name)) {
        rc = RESOLVER_PENDING;
    }
    if (rc == RESOLVER_PENDING)
        rc = hold_or_answer(e, client);
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int pull_engine_attach(struct pull_engine *e, struct resolver *r)
{
    struct resolver_source src = {"upstream", source_open, NULL, e};

    return resolver_add_source(r, &src);
}

/* ---- one pull ---- */

static void spool_clear(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
    rmdir(dir);
}

/* The spool directory of a load: data-dir/spool/pull/NAME (created). */
static int spool_dir(const struct pull_engine *e, const char *load, char *out, size_t cap)
{
    char parent[PULL_PATH_MAX];

    snprintf(parent, sizeof(parent), "%s/spool/pull", e->data_dir);
    if (mkdir(parent, 0700) != 0 && errno != EEXIST)
        return -1;
    if ((size_t)snprintf(out, cap, "%s/%s", parent, load) >= cap)
        return -1;
    return mkdir(out, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Gets the manifest; PULL_DONE when it names a load to fetch. */
static int pull_manifest(struct pull_engine *e, const char *load, struct upstream_manifest *m,
                         const struct upstream_fetch_opts *fo, struct pull_result *res)
{
    char url[UPSTREAM_URL_MAX], err[UPSTREAM_ERR_MAX], shown[UPSTREAM_STATUS_MAX * 4 + 4];
    char *body = NULL;
    size_t len = 0;
    int rc;

    if (upstream_url_join(e->upstream, "manifests/v1/loads", load, url, sizeof(url)) != 0) {
        snprintf(res->why, sizeof(res->why), "the load's name is too long for a URL");
        return PULL_ABSENT;
    }
    rc = upstream_fetch_bytes(url, UPSTREAM_MANIFEST_BODY_MAX, fo, &body, &len, err, sizeof(err));
    if (rc != FETCH_OK) {
        snprintf(res->why, sizeof(res->why), "manifest: %s", err);
        return rc == FETCH_ABSENT ? PULL_ABSENT : PULL_FAILED;
    }
    rc = upstream_manifest_parse(body, len, m, err, sizeof(err));
    free(body);
    if (rc != 0) {
        snprintf(res->why, sizeof(res->why), "manifest refused: %s", err);
        return PULL_FAILED;
    }
    if (!m->served || strcasecmp(m->name, load) != 0) {
        log_clean(m->status, strlen(m->status), shown, sizeof(shown));
        snprintf(res->why, sizeof(res->why), "the upstream does not serve it (status %s)", shown);
        upstream_manifest_free(m);
        return PULL_ABSENT;
    }
    return PULL_DONE;
}

/* One file into the spool: a hard link to a blob held here already, or
 * fetched by hash. FETCH_* result. */
static int pull_file(struct pull_engine *e, struct datadir *dd, const struct upstream_file *f,
                     const char *path, const struct upstream_fetch_opts *fo,
                     struct pull_result *res)
{
    char url[UPSTREAM_URL_MAX], blob[PULL_PATH_MAX], err[UPSTREAM_ERR_MAX];
    uint64_t got = 0;
    struct stat st;
    int rc;

    if (blobstore_path(dd->bs, f->sha256, blob, sizeof(blob)) == 0 && stat(blob, &st) == 0 &&
        (uint64_t)st.st_size == f->size && (unlink(path) == 0 || errno == ENOENT) &&
        link(blob, path) == 0)
        return FETCH_OK; /* import hashes it again */
    if (upstream_url_join(e->upstream, "blobs/sha256", f->sha256, url, sizeof(url)) != 0)
        return FETCH_FAILED;
    rc = upstream_fetch_blob(url, path, f->size, f->sha256, fo, &got, err, sizeof(err));
    res->bytes_got += got;
    res->fetched++;
    if (rc != FETCH_OK)
        snprintf(res->why, sizeof(res->why), "%s", err);
    return rc;
}

/* Imports the spooled files as one load (all or nothing). */
static int pull_import(struct pull_engine *e, struct datadir *dd, const char *const *paths,
                       size_t n, struct pull_result *res)
{
    char source[UPSTREAM_BASE_MAX + 16];
    struct import_options o = {
        .paths = paths,
        .n_paths = n,
        .source = source,
        .actor = "upstream",
        .replace = false,
    };
    json_t *report = NULL, *problem;
    int rc = IMPORT_ERROR;

    snprintf(source, sizeof(source), "upstream %s", e->upstream);
    if (datadir_lock(dd, false, true) == 0) {
        rc = import_run(dd->db, dd->bs, &o, &report);
        datadir_unlock(dd);
    }
    if (rc != IMPORT_OK) {
        problem = json_array_get(json_object_get(report, "problems"), 0);
        snprintf(res->why, sizeof(res->why), "import refused: %s: %s",
                 json_string_value(json_object_get(problem, "file"))
                     ? json_string_value(json_object_get(problem, "file"))
                     : "-",
                 json_string_value(json_object_get(problem, "message"))
                     ? json_string_value(json_object_get(problem, "message"))
                     : "internal error (see the log)");
    }
    json_decref(report);
    return rc == IMPORT_OK ? PULL_DONE : PULL_FAILED;
}

/* Fetches every file of m into dir, then imports them. */
static int pull_files(struct pull_engine *e, struct datadir *dd, const struct upstream_manifest *m,
                      const char *dir, const struct upstream_fetch_opts *fo,
                      struct pull_result *res)
{
    const char **paths = calloc(m->n_files, sizeof(*paths));
    char(*buf)[PULL_PATH_MAX] = calloc(m->n_files, sizeof(*buf));
    int state = PULL_FAILED, rc = FETCH_OK;

    if (paths == NULL || buf == NULL) {
        snprintf(res->why, sizeof(res->why), "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m->n_files && rc == FETCH_OK && !atomic_load(&e->stop); i++) {
        if ((size_t)snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, m->files[i].name) >=
            sizeof(buf[i])) {
            snprintf(res->why, sizeof(res->why), "the spool path is too long");
            rc = FETCH_LOCAL;
            break;
        }
        paths[i] = buf[i];
        rc = pull_file(e, dd, &m->files[i], buf[i], fo, res);
        res->files++;
    }
    if (atomic_load(&e->stop) && rc == FETCH_OK) {
        snprintf(res->why, sizeof(res->why), "stopped");
        rc = FETCH_FAILED;
    }
    if (rc == FETCH_OK)
        state = pull_import(e, dd, paths, m->n_files, res);
out:
    free(paths);
    free(buf);
    return state;
}

static void pull_one(struct pull_engine *e, struct datadir *dd, struct pull_load *l,
                     const char *load, struct pull_result *res)
{
    struct upstream_fetch_opts fo = {.stop = &e->stop};
    struct upstream_manifest m = {0};
    char dir[PULL_PATH_MAX];

    res->state = pull_manifest(e, load, &m, &fo, res);
    if (res->state != PULL_DONE)
        return;
    pthread_mutex_lock(&e->lock); /* its file names are pending from now on */
    l->m = m;
    pthread_mutex_unlock(&e->lock);
    if (spool_dir(e, m.name, dir, sizeof(dir)) != 0) {
        snprintf(res->why, sizeof(res->why), "cannot create the spool directory: %s",
                 strerror(errno));
        res->state = PULL_FAILED;
        return;
    }
    res->state = pull_files(e, dd, &m, dir, &fo, res);
    if (res->state == PULL_DONE)
        spool_clear(dir); /* kept otherwise: the next try resumes */
}

/* ---- the workers ---- */

static void pull_finish(struct pull_engine *e, struct pull_load *l, const struct pull_result *res,
                        int64_t started)
{
    int64_t now = now_s();
    char name[LOG_CLEAN_MAX];
    unsigned shift;

    upstream_manifest_free(&l->m);
    log_clean(l->name, strlen(l->name), name, sizeof(name));
    l->state = (enum pull_state)res->state;
    if (res->state == PULL_DONE) {
        l->failures = 0;
        l->done_at = now;
        log_info("pulled load %s from %s: %u file(s), %u fetched, %" PRIu64 " bytes in %" PRId64
                 " s",
                 name, e->upstream, res->files, res->fetched, res->bytes_got, now - started);
    } else if (res->state == PULL_ABSENT) {
        l->retry_at = now + PULL_ABSENT_S;
        log_info("not pulled: load %s: %s", name, res->why);
    } else {
        shift = l->failures < 8 ? l->failures : 8;
        l->failures++;
        l->retry_at = now + ((PULL_BACKOFF_MIN_S << shift) < PULL_BACKOFF_MAX_S
                                 ? (PULL_BACKOFF_MIN_S << shift)
                                 : PULL_BACKOFF_MAX_S);
        log_warn("pull of load %s failed (%u in a row; again from %" PRId64 " s): %s", name,
                 l->failures, l->retry_at - now, res->why);
    }
    pthread_cond_broadcast(&e->cond);
}

/* The next load to pull: one queued, or one that failed, whose backoff is
 * over and that phones still want (the branch retries by itself). */
static struct pull_load *next_queued(struct pull_engine *e)
{
    int64_t now = now_s();

    for (size_t i = 0; i < e->n_loads; i++)
        if (e->loads[i]->state == PULL_QUEUED)
            return e->loads[i];
    for (size_t i = 0; i < e->n_loads; i++) {
        struct pull_load *l = e->loads[i];

        if (l->state == PULL_FAILED && now >= l->retry_at && now - l->touched < PULL_WANTED_S)
            return l;
    }
    return NULL;
}

/* Waits for work: a new request, a stop, or a second passing (a backoff
 * may have ended). The lock held. */
static void worker_wait(struct pull_engine *e)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 1;
    pthread_cond_timedwait(&e->cond, &e->lock, &until);
}

static void *pull_worker(void *arg)
{
    struct pull_engine *e = arg;
    struct datadir dd = {.lock_fd = -1};
    char load[RESOLVER_NAME_MAX + 1];

    if (datadir_open(e->data_dir, &dd) != 0) {
        log_error("upstream pulls: cannot open the data directory %s", e->data_dir);
        return NULL;
    }
    pthread_mutex_lock(&e->lock);
    while (!atomic_load(&e->stop)) {
        struct pull_load *l = next_queued(e);
        struct pull_result res = {0};
        int64_t started = now_s();

        if (l == NULL) {
            worker_wait(e);
            continue;
        }
        l->state = PULL_RUNNING;
        snprintf(load, sizeof(load), "%s", l->name);
        pthread_mutex_unlock(&e->lock);
        pull_one(e, &dd, l, load, &res);
        pthread_mutex_lock(&e->lock);
        pull_finish(e, l, &res, started);
    }
    pthread_mutex_unlock(&e->lock);
    datadir_close(&dd);
    return NULL;
}

int pull_engine_start(const struct pull_params *p, struct pull_engine **out)
{
    struct pull_engine *e = calloc(1, sizeof(*e));
    unsigned n = p->workers ? p->workers : 2;
    pthread_condattr_t ca;

    if (e == NULL)
        return -1;
    snprintf(e->upstream, sizeof(e->upstream), "%s", p->upstream);
    snprintf(e->data_dir, sizeof(e->data_dir), "%s", p->data_dir);
    e->hold_ms = p->hold_ms;
    pthread_mutex_init(&e->lock, NULL);
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&e->cond, &ca) != 0) {
        pthread_mutex_destroy(&e->lock);
        free(e);
        return -1;
    }
    pthread_condattr_destroy(&ca);
    if (upstream_fetch_global_init() != 0)
        goto fail;
    for (; e->n_threads < n && e->n_threads < PULL_WORKERS_MAX; e->n_threads++)
        if (pthread_create(&e->threads[e->n_threads], NULL, pull_worker, e) != 0) {
            log_error("cannot start the upstream pull threads");
            goto fail;
        }
    log_info("upstream %s: pulling loads on demand (%u at once)", e->upstream, e->n_threads);
    *out = e;
    return 0;
fail:
    pull_engine_stop(e);
    return -1;
}

void pull_engine_stop(struct pull_engine *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->lock);
    atomic_store(&e->stop, true);
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    for (unsigned i = 0; i < e->n_threads; i++)
        pthread_join(e->threads[i], NULL);
    for (size_t i = 0; i < e->n_loads; i++) {
        upstream_manifest_free(&e->loads[i]->m);
        free(e->loads[i]);
    }
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->lock);
    free(e);
}
