/* pull.c: the pull-through engine: a table of loads wanted from upstream
 * (one entry, so one fetch, per load however many phones ask or stage it),
 * workers that fetch a load's manifest and blobs (or, from a tftp://
 * upstream, its .loads file and the files it lists) into the spool and
 * import it whole, keeping each entry's progress for the page and loadsctl. */
#include "server/upstream/pull.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "db/blobstore.h"
#include "db/catalog.h"
#include "db/datadir.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "server/firmware/import.h"
#include "server/upstream/fetch.h"
#include "server/upstream/manifest.h"
#include "server/upstream/pull_tftp.h"
#include "server/upstream/quota.h"
#include "server/upstream/url.h"

#define PULL_ABSENT_S      30 /* a load the upstream lacks is asked for again after this */
#define PULL_BACKOFF_MIN_S 2  /* after a failed pull; doubles per failure */
#define PULL_BACKOFF_MAX_S 300
#define PULL_SETTLE_S      10  /* after an import, the catalog serves it within a poll */
#define PULL_WANTED_S      300 /* a failed pull asked for this recently is retried unasked */
#define PULL_PATH_MAX      (PATH_MAX + RESOLVER_NAME_MAX + 64)
#define PULL_HELD_MAX      1024 /* clients remembered as held */
#define PULL_WINDOW_POLL_S 60   /* a worker waiting for the stage window looks again */
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
    bool staged;                /* asked for ahead of time, no phone waiting */
    char why[PULL_WHY_MAX];     /* the last failure */
    /* progress of the last run */
    int64_t started, finished;    /* Unix times */
    int64_t started_ms, ended_ms; /* monotonic, for the rate */
    unsigned files_done, files_total;
    uint64_t bytes_done, bytes_total, bytes_got;
    uint64_t file_base, got_base; /* before the file in flight */
};

/* A client (address and port: one TFTP request and its resends) told
 * nothing yet about a load being pulled. */
struct pull_held {
    struct sockaddr_storage peer;
    int64_t first_ms;
};

struct pull_engine {
    char upstream[UPSTREAM_BASE_MAX];
    bool tftp; /* a tftp:// upstream: tftp_opts says how to reach it */
    struct tftp_fetch_opts tftp_opts;
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
    uint64_t stage_rate;
    struct stage_window window;
    unsigned quota_mb;
    pull_progress_fn watch; /* pull_load_once's reader */
    void *watch_arg;
};

/* The progress callback's view of one pull. */
struct pull_ctx {
    struct pull_engine *e;
    struct pull_load *l;
};

/* What one pull did, for its log line. */
struct pull_result {
    int state; /* PULL_DONE, PULL_FAILED or PULL_ABSENT */
    char why[UPSTREAM_ERR_MAX + 64];
    unsigned files, fetched;
    uint64_t bytes_got;
    bool refused; /* the import refused the files (they are fetched again next time) */
};

static int64_t now_s(void)
{
    return clock_mono_ms() / 1000;
}

/* Seconds until the stage window opens, in local time (0: open). */
static unsigned window_wait(const struct stage_window *w)
{
    time_t t = time(NULL);
    struct tm tm;

    if (!w->set || localtime_r(&t, &tm) == NULL)
        return 0;
    return stage_window_wait(w, (unsigned)(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec));
}

bool pull_load_name_ok(const char *load)
{
    size_t n = strlen(load);

    if (n == 0 || n > RESOLVER_NAME_MAX - strlen(LOADS_SUFFIX) || load[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)load[i]) && load[i] != '.' && load[i] != '_' && load[i] != '-')
            return false;
    return true;
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
        if (l->staged) { /* a phone waits now: no window, no cap from the next file on */
            l->staged = false;
            pthread_cond_broadcast(&e->cond);
        }
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
    l->staged = false;
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
    int64_t now = clock_mono_ms();
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

/* A component from a tftp:// upstream. PULL_FILE_SKIP: not to import from
 * the spool: the catalog holds a sound file of that name (the import takes
 * it from there), or an optional extra the upstream lacks. */
#define PULL_FILE_SKIP 1
static int pull_file_tftp(struct pull_engine *e, struct datadir *dd, const struct upstream_file *f,
                          const char *path, const struct upstream_fetch_opts *fo,
                          struct pull_result *res, uint64_t *size)
{
    struct tftp_fetch_opts o = e->tftp_opts;
    struct catalog_file cf;
    struct stat st;
    uint64_t got = 0;
    int rc;

    if (!f->is_loads && catalog_file_find(dd->db, f->name, &cf) == DB_OK &&
        strcmp(cf.status, "ok") == 0 && strcmp(cf.signature, "bad") != 0) {
        *size = cf.size;
        return PULL_FILE_SKIP;
    }
    o.fo = fo;
    rc = pull_tftp_file(&o, f, path, &got, res->why, sizeof(res->why));
    res->bytes_got += got;
    res->fetched += got > 0;
    *size = rc == FETCH_OK && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (rc == FETCH_ABSENT && f->optional)
        return PULL_FILE_SKIP;
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
    res->refused = rc == IMPORT_REFUSED;
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

/* A copy of l as the page shows it (the lock held). */
static void entry_of(const struct pull_engine *e, const struct pull_load *l, int64_t now,
                     struct pull_entry *out)
{
    static const char *const names[] = {"queued", "running", "done", "failed", "absent"};
    int64_t ms = (l->state == PULL_RUNNING ? now : l->ended_ms) - l->started_ms;
    char shown[STAGE_WINDOW_TEXT_MAX];

    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", l->name);
    out->state = names[l->state];
    out->staged = l->staged;
    snprintf(out->why, sizeof(out->why), "%s", l->why);
    if (l->state == PULL_QUEUED && l->staged && window_wait(&e->window) > 0)
        snprintf(out->why, sizeof(out->why), "waiting for the stage window %s",
                 stage_window_format(&e->window, shown, sizeof(shown)));
    else if (l->state == PULL_QUEUED)
        out->why[0] = '\0';
    out->files_done = l->files_done;
    out->files_total = l->files_total;
    out->bytes_done = l->bytes_done;
    out->bytes_total = l->bytes_total;
    out->bytes_got = l->bytes_got;
    out->started = l->started;
    out->finished = l->state == PULL_RUNNING ? 0 : l->finished;
    out->rate = l->started_ms > 0 && ms > 0 ? l->bytes_got * 1000 / (uint64_t)ms : 0;
    out->eta_s = l->state == PULL_DONE ? 0 : -1;
    if (l->state == PULL_RUNNING && out->rate > 0 && l->bytes_total >= l->bytes_done)
        out->eta_s = (int64_t)((l->bytes_total - l->bytes_done + out->rate - 1) / out->rate);
}

/* Tells pull_load_once's reader (the lock not held: there are no workers). */
static void progress_tell(struct pull_engine *e, struct pull_load *l)
{
    struct pull_entry now;

    if (e->watch == NULL)
        return;
    pthread_mutex_lock(&e->lock);
    entry_of(e, l, clock_mono_ms(), &now);
    pthread_mutex_unlock(&e->lock);
    e->watch(e->watch_arg, &now);
}

/* fetch.c's callback as a blob grows. */
static void on_blob_progress(void *arg, uint64_t have, uint64_t got)
{
    struct pull_ctx *c = arg;

    pthread_mutex_lock(&c->e->lock);
    c->l->bytes_done = c->l->file_base + have;
    c->l->bytes_got = c->l->got_base + got;
    pthread_mutex_unlock(&c->e->lock);
    progress_tell(c->e, c->l);
}

/* Before file f: the base its progress counts from, and the cap (staged
 * pulls only: a pull a phone waits for is never slowed). */
static void file_begin(struct pull_engine *e, struct pull_load *l, struct upstream_fetch_opts *fo)
{
    pthread_mutex_lock(&e->lock);
    l->bytes_done = l->file_base;
    l->got_base = l->bytes_got;
    fo->max_recv_bytes_per_s = l->staged ? e->stage_rate : 0;
    pthread_mutex_unlock(&e->lock);
}

/* File f is in place with size bytes (f->size 0: not known before, from a
 * tftp:// upstream: the total grows by it). */
static void file_end(struct pull_engine *e, struct pull_load *l, const struct upstream_file *f,
                     uint64_t size)
{
    pthread_mutex_lock(&e->lock);
    l->files_done++;
    if (f->size == 0)
        l->bytes_total += size;
    l->file_base += size;
    l->bytes_done = l->file_base;
    pthread_mutex_unlock(&e->lock);
    progress_tell(e, l);
}

/* Fetches every file of m into dir, then imports them. */
static int pull_files(struct pull_engine *e, struct datadir *dd, struct pull_load *l,
                      const struct upstream_manifest *m, const char *dir,
                      struct upstream_fetch_opts *fo, struct pull_result *res)
{
    const char **paths = calloc(m->n_files, sizeof(*paths));
    char(*buf)[PULL_PATH_MAX] = calloc(m->n_files, sizeof(*buf));
    int state = PULL_FAILED, rc = FETCH_OK;
    uint64_t size;
    size_t n = 0;

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
        size = m->files[i].size;
        file_begin(e, l, fo);
        rc = e->tftp ? pull_file_tftp(e, dd, &m->files[i], buf[i], fo, res, &size)
                     : pull_file(e, dd, &m->files[i], buf[i], fo, res);
        res->files++;
        if (rc == FETCH_OK)
            paths[n++] = buf[i];
        if (rc == FETCH_OK || rc == PULL_FILE_SKIP) {
            rc = FETCH_OK;
            file_end(e, l, &m->files[i], size);
        }
    }
    if (atomic_load(&e->stop) && rc == FETCH_OK) {
        snprintf(res->why, sizeof(res->why), "stopped");
        rc = FETCH_FAILED;
    }
    if (rc == FETCH_OK)
        state = pull_import(e, dd, paths, n, res);
out:
    free(paths);
    free(buf);
    return state;
}

/* The spool directory held by this process alone (loadsctl stage and the
 * daemon share it): its descriptor, or -1 with res->why set. */
static int spool_claim(const char *dir, struct pull_result *res)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(res->why, sizeof(res->why), "cannot open the spool directory: %s",
                 strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(res->why, sizeof(res->why),
                 "another process (loadsd or loadsctl stage) is pulling this load now");
        close(fd);
        return -1;
    }
    return fd;
}

/* The load's list is known: its file names are pending from now on. */
static void list_known(struct pull_engine *e, struct pull_load *l,
                       const struct upstream_manifest *m)
{
    pthread_mutex_lock(&e->lock);
    l->m = *m;
    l->files_total = (unsigned)m->n_files;
    l->bytes_total = m->total_bytes;
    pthread_mutex_unlock(&e->lock);
    progress_tell(e, l);
}

/* A load from a tftp:// upstream: the .loads file into the spool, read,
 * then every file it lists, then the import. A refused import empties the
 * spool (the next try fetches every file again); a failed fetch keeps the
 * files that came whole. */
static void pull_one_tftp(struct pull_engine *e, struct datadir *dd, struct pull_load *l,
                          const char *load, struct pull_result *res)
{
    struct pull_ctx ctx = {e, l};
    struct upstream_fetch_opts fo = {
        .stop = &e->stop, .progress = on_blob_progress, .progress_arg = &ctx};
    struct tftp_fetch_opts o = e->tftp_opts;
    struct upstream_manifest m = {0};
    char dir[PULL_PATH_MAX];
    uint64_t got = 0;
    int fd, rc;

    res->state = PULL_FAILED;
    if (spool_dir(e, load, dir, sizeof(dir)) != 0) {
        snprintf(res->why, sizeof(res->why), "cannot create the spool directory: %s",
                 strerror(errno));
        return;
    }
    fd = spool_claim(dir, res);
    if (fd < 0)
        return;
    o.fo = &fo;
    file_begin(e, l, &fo);
    rc = pull_tftp_list(&o, load, dir, &m, &got, res->why, sizeof(res->why));
    res->bytes_got += got;
    res->fetched++;
    if (rc == FETCH_OK) {
        list_known(e, l, &m);
        res->state = pull_files(e, dd, l, &m, dir, &fo, res);
    } else if (rc == FETCH_ABSENT) {
        res->state = PULL_ABSENT;
    }
    if (res->state == PULL_DONE || res->refused || rc == FETCH_ABSENT)
        spool_clear(dir);
    close(fd);
}

/* A load from another loadsd: its manifest, then each blob by hash. */
static void pull_one_http(struct pull_engine *e, struct datadir *dd, struct pull_load *l,
                          const char *load, struct pull_result *res)
{
    struct pull_ctx ctx = {e, l};
    struct upstream_fetch_opts fo = {
        .stop = &e->stop, .progress = on_blob_progress, .progress_arg = &ctx};
    struct upstream_manifest m = {0};
    char dir[PULL_PATH_MAX];
    int fd;

    res->state = pull_manifest(e, load, &m, &fo, res);
    if (res->state != PULL_DONE)
        return;
    list_known(e, l, &m);
    if (spool_dir(e, m.name, dir, sizeof(dir)) != 0) {
        snprintf(res->why, sizeof(res->why), "cannot create the spool directory: %s",
                 strerror(errno));
        res->state = PULL_FAILED;
        return;
    }
    fd = spool_claim(dir, res);
    if (fd < 0) {
        res->state = PULL_FAILED;
        return;
    }
    res->state = pull_files(e, dd, l, &m, dir, &fo, res);
    if (res->state == PULL_DONE)
        spool_clear(dir); /* kept otherwise: the next try resumes */
    close(fd);
}

static void pull_one(struct pull_engine *e, struct datadir *dd, struct pull_load *l,
                     const char *load, struct pull_result *res)
{
    if (e->tftp)
        pull_one_tftp(e, dd, l, load, res);
    else
        pull_one_http(e, dd, l, load, res);
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
    l->finished = (int64_t)time(NULL);
    l->ended_ms = clock_mono_ms();
    snprintf(l->why, sizeof(l->why), "%s", res->state == PULL_DONE ? "" : res->why);
    if (res->state == PULL_DONE) {
        l->failures = 0;
        l->done_at = now;
        log_info("pulled load %s from %s: %u file(s), %u fetched, %" PRIu64 " bytes in %" PRId64
                 " s%s",
                 name, e->upstream, res->files, res->fetched, res->bytes_got, now - started,
                 l->staged ? " (staged)" : "");
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

/* The next load to pull: any a phone waits for; a staged one only inside
 * the stage window and while no other staged pull runs (so the stage rate
 * caps staging as a whole); then one that failed, whose backoff is over and
 * that phones still want (the branch retries by itself). *hold: seconds
 * until a held staged one may go. */
static struct pull_load *next_queued(struct pull_engine *e, unsigned *hold)
{
    unsigned wait = window_wait(&e->window);
    bool staging = false, held = false;
    int64_t now = now_s();

    *hold = 0;
    for (size_t i = 0; i < e->n_loads; i++)
        if (e->loads[i]->state == PULL_RUNNING && e->loads[i]->staged)
            staging = true;
    for (size_t i = 0; i < e->n_loads; i++) {
        struct pull_load *l = e->loads[i];

        if (l->state != PULL_QUEUED)
            continue;
        if (!l->staged)
            return l;
        if (wait == 0 && !staging)
            return l;
        held = true;
    }
    for (size_t i = 0; i < e->n_loads; i++) {
        struct pull_load *l = e->loads[i];

        if (l->state != PULL_FAILED || now < l->retry_at || now - l->touched >= PULL_WANTED_S)
            continue;
        if (!l->staged || (wait == 0 && !staging))
            return l;
    }
    if (held && !staging)
        *hold = wait < PULL_WINDOW_POLL_S ? wait : PULL_WINDOW_POLL_S;
    return NULL;
}

/* Sleeps until told, for hold seconds when a staged load waits on the
 * window, else for a second (a backoff may have ended). */
static void worker_wait(struct pull_engine *e, unsigned hold)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += hold > 0 ? hold : 1;
    pthread_cond_timedwait(&e->cond, &e->lock, &until);
}

/* A run begins: its progress starts from nothing (the lock held). */
static void run_begin(struct pull_load *l)
{
    l->state = PULL_RUNNING;
    l->why[0] = '\0';
    l->started = (int64_t)time(NULL);
    l->finished = 0;
    l->started_ms = clock_mono_ms();
    l->files_done = l->files_total = 0;
    l->bytes_done = l->bytes_total = l->bytes_got = 0;
    l->file_base = l->got_base = 0;
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
        unsigned hold;
        struct pull_load *l = next_queued(e, &hold);
        struct pull_result res = {0};
        int64_t started = now_s();

        if (l == NULL) {
            worker_wait(e, hold);
            continue;
        }
        run_begin(l);
        snprintf(load, sizeof(load), "%s", l->name);
        pthread_mutex_unlock(&e->lock);
        pull_one(e, &dd, l, load, &res);
        pthread_mutex_lock(&e->lock);
        pull_finish(e, l, &res, started);
        if (res.state == PULL_DONE && e->quota_mb > 0) {
            pthread_mutex_unlock(&e->lock);
            pull_quota_enforce(&dd, e->quota_mb, load);
            pthread_mutex_lock(&e->lock);
        }
    }
    pthread_mutex_unlock(&e->lock);
    datadir_close(&dd);
    return NULL;
}

/* The upstream e pulls from; for tftp://, how each transfer goes. 0 or -1. */
static int engine_upstream(struct pull_engine *e, const char *upstream, unsigned blksize,
                           unsigned windowsize, char *why, size_t cap)
{
    snprintf(e->upstream, sizeof(e->upstream), "%s", upstream);
    e->tftp = upstream_url_is_tftp(upstream);
    if (!e->tftp)
        return 0;
    return tftp_fetch_opts_from_url(upstream, blksize, windowsize, UPSTREAM_FILE_SIZE_MAX,
                                    &e->tftp_opts, why, cap);
}

int pull_engine_start(const struct pull_params *p, struct pull_engine **out)
{
    struct pull_engine *e = calloc(1, sizeof(*e));
    unsigned n = p->workers ? p->workers : 2;
    char win[STAGE_WINDOW_TEXT_MAX], why[UPSTREAM_ERR_MAX];
    pthread_condattr_t ca;

    if (e == NULL)
        return -1;
    if (engine_upstream(e, p->upstream, p->tftp_blksize, p->tftp_windowsize, why, sizeof(why)) !=
        0) {
        log_error("upstream %s: %s", p->upstream, why);
        free(e);
        return -1;
    }
    snprintf(e->data_dir, sizeof(e->data_dir), "%s", p->data_dir);
    e->hold_ms = p->hold_ms;
    e->stage_rate = p->stage_rate;
    e->window = p->window;
    e->quota_mb = p->quota_mb;
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
    if (e->tftp)
        log_info("upstream %s: TFTP asking blksize %u, windowsize %u (512 and 1: no option, "
                 "lock-step)",
                 e->upstream, e->tftp_opts.get.blksize, e->tftp_opts.get.windowsize);
    if (e->quota_mb > 0)
        log_info("upstream quota: pulled loads kept to %u MB", e->quota_mb);
    if (e->stage_rate > 0 || e->window.set)
        log_info("staged pulls: at most %" PRIu64 " kbit/s (0: no cap), started %s",
                 e->stage_rate / 125, stage_window_format(&e->window, win, sizeof(win)));
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

/* ---- staging and progress ---- */

int pull_engine_stage(struct pull_engine *e, const char *load, char *err, size_t cap)
{
    struct pull_load *l;
    int rc = 0;

    if (!pull_load_name_ok(load)) {
        snprintf(err, cap, "not a load name (1 to %zu bytes of A-Z a-z 0-9 . _ -)",
                 (size_t)RESOLVER_NAME_MAX - strlen(LOADS_SUFFIX));
        return -1;
    }
    pthread_mutex_lock(&e->lock);
    l = table_find(e, load);
    if (l == NULL && (l = table_add(e, load, now_s())) != NULL)
        l->staged = true;
    if (l == NULL) {
        snprintf(err, cap, "%d loads are being pulled already: try again later", PULL_LOADS_MAX);
        rc = -1;
    } else if (l->state != PULL_QUEUED && l->state != PULL_RUNNING) {
        l->touched = now_s();
        l->state = PULL_QUEUED;
        l->staged = true;
    }
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int pull_engine_list(struct pull_engine *e, struct pull_entry **out, size_t *n)
{
    int64_t ms = clock_mono_ms();

    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&e->lock);
    if (e->n_loads > 0 && (*out = calloc(e->n_loads, sizeof(**out))) == NULL) {
        pthread_mutex_unlock(&e->lock);
        return -1;
    }
    for (size_t i = 0; i < e->n_loads; i++)
        entry_of(e, e->loads[i], ms, &(*out)[i]);
    *n = e->n_loads;
    pthread_mutex_unlock(&e->lock);
    return 0;
}

int pull_engine_entry(struct pull_engine *e, const char *load, struct pull_entry *out)
{
    struct pull_load *l;

    pthread_mutex_lock(&e->lock);
    l = table_find(e, load);
    if (l != NULL)
        entry_of(e, l, clock_mono_ms(), out);
    pthread_mutex_unlock(&e->lock);
    return l != NULL ? 0 : -1;
}

const char *pull_engine_upstream(const struct pull_engine *e)
{
    return e->upstream;
}

uint64_t pull_engine_stage_rate(const struct pull_engine *e)
{
    return e->stage_rate;
}

struct stage_window pull_engine_window(const struct pull_engine *e)
{
    return e->window;
}

/* ---- one pull without workers (loadsctl stage) ---- */

int pull_load_once(const struct pull_once *p, const char *load, struct pull_entry *out)
{
    struct pull_engine *e = calloc(1, sizeof(*e));
    struct datadir dd = {.lock_fd = -1};
    struct pull_result res = {.state = PULL_FAILED};
    struct pull_load *l = NULL;
    int rc = -1;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
        snprintf(out->name, sizeof(out->name), "%s", load);
        out->state = "failed";
    }
    if (e == NULL)
        return -1;
    snprintf(e->data_dir, sizeof(e->data_dir), "%s", p->data_dir);
    e->stage_rate = p->rate;
    e->watch = p->progress;
    e->watch_arg = p->arg;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->cond, NULL);
    if (engine_upstream(e, p->upstream, p->tftp_blksize, p->tftp_windowsize, res.why,
                        sizeof(res.why)) != 0 ||
        !pull_load_name_ok(load)) {
        if (res.why[0] == '\0')
            snprintf(res.why, sizeof(res.why), "not a load name");
    } else if (upstream_fetch_global_init() != 0)
        snprintf(res.why, sizeof(res.why), "cannot initialise the HTTP client");
    else if (datadir_open(e->data_dir, &dd) != 0)
        snprintf(res.why, sizeof(res.why), "cannot open the data directory");
    else if ((l = table_add(e, load, now_s())) == NULL)
        snprintf(res.why, sizeof(res.why), "out of memory");
    if (l != NULL) {
        l->staged = true;
        run_begin(l);
        pull_one(e, &dd, l, load, &res);
        upstream_manifest_free(&l->m);
        l->state = (enum pull_state)res.state;
        l->finished = (int64_t)time(NULL);
        l->ended_ms = clock_mono_ms();
        snprintf(l->why, sizeof(l->why), "%s", res.state == PULL_DONE ? "" : res.why);
        rc = res.state == PULL_DONE ? 0 : -1;
        if (rc == 0)
            pull_quota_enforce(&dd, p->quota_mb, load);
        if (out != NULL)
            entry_of(e, l, l->ended_ms, out);
    } else if (out != NULL) {
        snprintf(out->why, sizeof(out->why), "%s", res.why);
    }
    datadir_close(&dd);
    pull_engine_stop(e);
    return rc;
}
