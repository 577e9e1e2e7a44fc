/* jobs.c: the admin interface's background jobs (bundle imports, and
 * device tasks such as bulk changes and CSV imports): live progress in
 * memory under one mutex, the history in the jobs table, one worker thread
 * with its own data-dir handle running import_run() or the task. Never
 * parses bundles and never touches the HTTP side's database lock. */
#include "admin/jobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/catalog.h"
#include "db/datadir.h"
#include "db/db.h"
#include "db/jobrows.h"
#include "lib/log.h"
#include "server/firmware/import.h"
#include "server/resolve/genwatch.h"

#define JOBS_ACTOR_MAX 64
#define JOBS_PATH_MAX  4352
#define JOBS_NICE      19

enum job_stage { JOB_UPLOADING, JOB_QUEUED, JOB_RUNNING };

struct job {
    int64_t id;
    enum job_stage stage;
    char source[JOBS_SOURCE_MAX];
    char actor[JOBS_ACTOR_MAX];
    int64_t created_at;
    uint64_t expected, received; /* the upload */
    uint64_t bundle_size;
    struct import_progress prog; /* prog.phase points to static text */
    char bundle[JOBS_PATH_MAX];
    char approval[JOBS_PATH_MAX]; /* "" = none */
    bool replace;
    /* A task job (task != NULL): its work, argument and progress. */
    jobs_task_fn task;
    void (*task_free)(void *arg);
    void *task_arg;
    const char *task_phase; /* static text */
    size_t task_done, task_total;
    struct job *next;
};

/* What a running task reports its progress through. */
struct jobs_task_ctx {
    struct jobs *j;
    struct job *job;
};

struct jobs {
    struct datadir dd; /* the worker's own connection and blob store */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool started, stop;
    struct job *live; /* uploading, queued and running jobs */
    unsigned uploading;
    struct genwatch *watch; /* synced before a job is recorded ended; may be NULL */
};

/* ---- rows ---- */

static int row_finish(sqlite3 *db, int64_t id, bool ok, int64_t import_id, const char *report)
{
    return jobrows_finish(db, id, ok, import_id, report, (int64_t)time(NULL));
}

/* The report of a job that failed before its import ran. */
static char *report_failed(const char *source, const char *why)
{
    json_t *j = json_pack("{s:b, s:s, s:[], s:[], s:[{s:s, s:s}], s:[], s:[]}", "ok", 0, "source",
                          source, "loads", "files", "problems", "file", source, "message", why,
                          "warnings", "changes");
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    return text;
}

static char *report_interrupted(void *arg, const char *source)
{
    (void)arg;
    return report_failed(source, "interrupted: loadsd stopped before the import finished");
}

/* Jobs a stop or a crash interrupted end failed, with a report saying so. */
static int rows_recover(sqlite3 *db)
{
    int changed = 0;
    int rc = jobrows_recover(db, (int64_t)time(NULL), report_interrupted, NULL, &changed);

    if (changed > 0)
        log_warn("%d upload job(s) interrupted by a stop marked failed", changed);
    return rc;
}

/* ---- the live list (callers hold the lock) ---- */

static struct job *live_find(struct jobs *j, int64_t id)
{
    for (struct job *x = j->live; x != NULL; x = x->next)
        if (x->id == id)
            return x;
    return NULL;
}

static void live_unlink(struct jobs *j, struct job *job)
{
    for (struct job **p = &j->live; *p != NULL; p = &(*p)->next)
        if (*p == job) {
            *p = job->next;
            return;
        }
}

static unsigned live_count(const struct jobs *j)
{
    unsigned n = 0;

    for (const struct job *x = j->live; x != NULL; x = x->next)
        n++;
    return n;
}

/* The oldest queued job. */
static struct job *live_next(struct jobs *j)
{
    struct job *best = NULL;

    for (struct job *x = j->live; x != NULL; x = x->next)
        if (x->stage == JOB_QUEUED && (best == NULL || x->id < best->id))
            best = x;
    return best;
}

static void files_remove(struct job *job)
{
    if (job->bundle[0] != '\0' && unlink(job->bundle) != 0 && errno != ENOENT)
        log_warn("cannot remove spool file %s: %s", job->bundle, strerror(errno));
    if (job->approval[0] != '\0' && unlink(job->approval) != 0 && errno != ENOENT)
        log_warn("cannot remove spool file %s: %s", job->approval, strerror(errno));
    job->bundle[0] = job->approval[0] = '\0';
}

/* ---- progress ---- */

static const char *stage_state(enum job_stage s)
{
    return s == JOB_RUNNING ? "running" : "queued";
}

/* 0..100 over the import: storing (hashing) the files is most of the work,
 * measured against the bundle's size; checking and publishing follow. */
static unsigned import_percent(const struct job *job)
{
    const struct import_progress *p = &job->prog;
    uint64_t pct;

    if (job->stage != JOB_RUNNING || p->phase == NULL)
        return 0;
    if (strcmp(p->phase, "publishing") == 0)
        return 98;
    if (strcmp(p->phase, "checking") == 0)
        return 90 + (p->files_total ? 8u * p->files_checked / p->files_total : 0);
    pct = job->bundle_size ? p->bytes_read * 90 / job->bundle_size : 0;
    return pct > 89 ? 89 : (unsigned)pct;
}

static json_t *task_progress_json(const struct job *job)
{
    const char *phase = job->stage == JOB_QUEUED  ? "waiting"
                        : job->task_phase != NULL ? job->task_phase
                                                  : "starting";
    size_t pct = job->task_total ? job->task_done * 100 / job->task_total : 0;

    return json_pack("{s:s, s:I, s:I, s:i}", "phase", phase, "done", (json_int_t)job->task_done,
                     "total", (json_int_t)job->task_total, "percent", pct > 100 ? 100 : (int)pct);
}

static json_t *progress_json(const struct job *job)
{
    if (job->task != NULL)
        return task_progress_json(job);
    const struct import_progress *p = &job->prog;
    const char *phase = job->stage == JOB_UPLOADING ? "uploading"
                        : job->stage == JOB_QUEUED  ? "waiting"
                        : p->phase != NULL          ? p->phase
                                                    : "starting";
    unsigned up = job->stage != JOB_UPLOADING ? 100
                  : job->expected             ? (unsigned)(job->received * 100 / job->expected)
                                              : 0;

    return json_pack("{s:s, s:I, s:o, s:i, s:I, s:I, s:i, s:i, s:i, s:i}", "phase", phase,
                     "bytes_received", (json_int_t)job->received, "bytes_expected",
                     job->expected ? json_integer((json_int_t)job->expected) : json_null(),
                     "upload_percent", up > 100 ? 100 : (int)up, "bundle_size",
                     (json_int_t)job->bundle_size, "bytes_read", (json_int_t)p->bytes_read,
                     "files_stored", (int)p->files_stored, "files_checked", (int)p->files_checked,
                     "files_total", (int)p->files_total, "percent", (int)import_percent(job));
}

/* The worker's progress callback argument. */
struct progress_arg {
    struct jobs *j;
    struct job *job;
};

static void progress_update(void *arg, const struct import_progress *p)
{
    struct progress_arg *pa = arg;

    pthread_mutex_lock(&pa->j->lock);
    pa->job->prog = *p;
    pthread_mutex_unlock(&pa->j->lock);
}

/* ---- the worker ---- */

/* Before a job is recorded as ended: the daemon's snapshots hold what it
 * wrote, so whoever sees it done finds its devices or loads served. */
static void job_sync(struct jobs *j)
{
    if (j->watch != NULL && genwatch_sync(j->watch, GENWATCH_SYNC_MS) != 0)
        log_warn("jobs: the snapshots did not take the job's writes within %u ms",
                 GENWATCH_SYNC_MS);
}

/* A task job: its report and file for the user, recorded when it ends. */
static void task_run(struct jobs *j, struct job *job)
{
    struct jobs_task_ctx tc = {j, job};
    json_t *report = NULL;
    char *rejected = NULL, *text;
    int rc;

    jobrows_running(j->dd.db, job->id, job->bundle_size);
    rc = job->task(j->dd.db, job->task_arg, &tc, &report, &rejected);
    text = report != NULL ? json_dumps(report, JSON_COMPACT)
                          : report_failed(job->source, "internal error (see the log)");
    if (rejected != NULL && jobrows_rejected_set(j->dd.db, job->id, rejected) != DB_OK)
        log_error("job %lld: cannot store its rejected rows", (long long)job->id);
    job_sync(j);
    if (row_finish(j->dd.db, job->id, rc == 0 && report != NULL, 0, text) != DB_OK)
        log_error("job %lld: cannot record its result", (long long)job->id);
    log_info("job %lld (%s): %s", (long long)job->id, job->source, rc == 0 ? "done" : "failed");
    free(text);
    free(rejected);
    json_decref(report);
}

void jobs_task_progress(struct jobs_task_ctx *tc, const char *phase, size_t done, size_t total)
{
    if (tc == NULL)
        return;
    pthread_mutex_lock(&tc->j->lock);
    tc->job->task_phase = phase;
    tc->job->task_done = done;
    tc->job->task_total = total;
    pthread_mutex_unlock(&tc->j->lock);
}

static void job_free(struct job *job)
{
    if (job->task_free != NULL)
        job->task_free(job->task_arg);
    free(job);
}

static void job_run(struct jobs *j, struct job *job)
{
    if (job->task != NULL) {
        task_run(j, job);
        return;
    }
    const char *paths[1] = {job->bundle};
    struct progress_arg pa = {j, job};
    struct import_options o = {
        .paths = paths,
        .n_paths = 1,
        .approval_path = job->approval[0] ? job->approval : NULL,
        .source = job->source,
        .actor = job->actor,
        .replace = job->replace,
        .replace_how = "upload it again with \"replace a load of the same name\" ticked "
                       "(API: ?replace=1)",
        .progress = progress_update,
        .progress_arg = &pa,
    };
    json_t *report = NULL;
    char *text;
    int rc = IMPORT_ERROR;

    jobrows_running(j->dd.db, job->id, job->bundle_size);
    if (datadir_lock(&j->dd, false, true) == 0) {
        rc = import_run(j->dd.db, j->dd.bs, &o, &report);
        datadir_unlock(&j->dd);
    } else {
        log_error("job %lld: cannot take the data directory lock", (long long)job->id);
    }
    text = report != NULL ? json_dumps(report, JSON_COMPACT)
                          : report_failed(job->source, "internal error (see the log)");
    job_sync(j);
    if (row_finish(j->dd.db, job->id, rc == IMPORT_OK,
                   (int64_t)json_integer_value(json_object_get(report, "import_id")),
                   text) != DB_OK)
        log_error("job %lld: cannot record its result", (long long)job->id);
    log_info("job %lld (%s): import %s", (long long)job->id, job->source,
             rc == IMPORT_OK ? "done" : "failed");
    free(text);
    json_decref(report);
    files_remove(job);
}

static void *worker(void *arg)
{
    struct jobs *j = arg;
    struct job *job;

    /* Imports hash gigabytes: they yield the CPU to TFTP transfers. */
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), JOBS_NICE) != 0)
        log_debug("import jobs: cannot lower the thread priority: %s", strerror(errno));
    for (;;) {
        pthread_mutex_lock(&j->lock);
        while (!j->stop && (job = live_next(j)) == NULL)
            pthread_cond_wait(&j->cond, &j->lock);
        if (j->stop) {
            pthread_mutex_unlock(&j->lock);
            break;
        }
        job->stage = JOB_RUNNING;
        pthread_mutex_unlock(&j->lock);
        job_run(j, job);
        pthread_mutex_lock(&j->lock);
        live_unlink(j, job);
        pthread_mutex_unlock(&j->lock);
        job_free(job);
    }
    return NULL;
}

/* ---- start and stop ---- */

/* spool/upload/: the uploads' own directory (datadir's cleaning of spool/
 * never reaches in, so a waiting job keeps its file); emptied at start. */
static int spool_prepare(const char *data_dir)
{
    char path[JOBS_PATH_MAX];
    struct dirent *e;
    DIR *d;

    snprintf(path, sizeof(path), "%s/spool/upload", data_dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        log_error("cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    d = opendir(path);
    if (d == NULL) {
        log_error("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && unlinkat(dirfd(d), e->d_name, 0) == 0)
            log_info("removed upload left over from an earlier run: %s", e->d_name);
    closedir(d);
    return 0;
}

int jobs_start(const char *data_dir, struct genwatch *watch, struct jobs **out)
{
    struct jobs *j = calloc(1, sizeof(*j));
    int rc = -1;

    if (j == NULL)
        return -1;
    j->dd.lock_fd = -1;
    j->watch = watch;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    if (datadir_open(data_dir, &j->dd) != 0 || spool_prepare(data_dir) != 0 ||
        rows_recover(j->dd.db) != DB_OK)
        goto out;
    if (pthread_create(&j->thread, NULL, worker, j) != 0) {
        log_error("cannot start the import job thread");
        goto out;
    }
    j->started = true;
    *out = j;
    j = NULL;
    rc = 0;
out:
    if (j != NULL)
        jobs_stop(j);
    return rc;
}

void jobs_stop(struct jobs *j)
{
    struct job *job;
    char *text;

    if (j == NULL)
        return;
    pthread_mutex_lock(&j->lock);
    j->stop = true;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (j->started)
        pthread_join(j->thread, NULL);
    while ((job = j->live) != NULL) {
        j->live = job->next;
        text = report_failed(job->source, "loadsd stopped before the import ran");
        if (j->dd.db != NULL)
            row_finish(j->dd.db, job->id, false, 0, text);
        free(text);
        files_remove(job);
        job_free(job);
    }
    if (j->dd.db != NULL)
        datadir_close(&j->dd);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

/* ---- uploads ---- */

int jobs_upload_begin(struct jobs *j, sqlite3 *db, const char *source, const char *actor,
                      uint64_t expected, int64_t *id)
{
    struct job *job = calloc(1, sizeof(*job));
    int64_t now = (int64_t)time(NULL);
    int rc = JOBS_ERROR;

    if (job == NULL)
        return JOBS_ERROR;
    pthread_mutex_lock(&j->lock);
    if (j->uploading >= JOBS_UPLOADS_MAX || live_count(j) >= JOBS_QUEUE_MAX) {
        pthread_mutex_unlock(&j->lock);
        free(job);
        return JOBS_BUSY;
    }
    j->uploading++; /* reserved while the row is written */
    pthread_mutex_unlock(&j->lock);
    rc = jobrows_add(db, "import", source, actor, now, &job->id);
    pthread_mutex_lock(&j->lock);
    if (rc != DB_OK) {
        j->uploading--;
        pthread_mutex_unlock(&j->lock);
        free(job);
        return JOBS_ERROR;
    }
    job->stage = JOB_UPLOADING;
    snprintf(job->source, sizeof(job->source), "%s", source);
    snprintf(job->actor, sizeof(job->actor), "%s", actor);
    job->created_at = now;
    job->expected = expected;
    job->next = j->live;
    j->live = job;
    *id = job->id;
    pthread_mutex_unlock(&j->lock);
    return JOBS_OK;
}

void jobs_upload_progress(struct jobs *j, int64_t id, uint64_t received)
{
    struct job *job;

    pthread_mutex_lock(&j->lock);
    job = live_find(j, id);
    if (job != NULL && job->stage == JOB_UPLOADING)
        job->received = received;
    pthread_mutex_unlock(&j->lock);
}

int jobs_upload_name(struct jobs *j, sqlite3 *db, int64_t id, const char *source)
{
    char actor[sizeof(((struct job *)0)->actor)];
    struct job *job;

    pthread_mutex_lock(&j->lock);
    job = live_find(j, id);
    if (job != NULL) {
        snprintf(job->source, sizeof(job->source), "%s", source);
        snprintf(actor, sizeof(actor), "%s", job->actor);
    }
    pthread_mutex_unlock(&j->lock);
    if (job == NULL)
        return JOBS_NOT_FOUND;
    return jobrows_rename(db, id, source, actor) == DB_OK ? JOBS_OK : JOBS_ERROR;
}

int jobs_upload_done(struct jobs *j, int64_t id, const char *bundle, const char *approval,
                     bool replace)
{
    struct job *job;
    struct stat st;
    int rc = JOBS_NOT_FOUND;

    pthread_mutex_lock(&j->lock);
    job = live_find(j, id);
    if (job != NULL && job->stage == JOB_UPLOADING) {
        snprintf(job->bundle, sizeof(job->bundle), "%s", bundle);
        snprintf(job->approval, sizeof(job->approval), "%s", approval ? approval : "");
        job->bundle_size = stat(bundle, &st) == 0 ? (uint64_t)st.st_size : job->received;
        job->received = job->bundle_size;
        job->stage = JOB_QUEUED;
        job->replace = replace;
        j->uploading--;
        pthread_cond_signal(&j->cond);
        rc = JOBS_OK;
    }
    pthread_mutex_unlock(&j->lock);
    return rc;
}

void jobs_upload_fail(struct jobs *j, sqlite3 *db, int64_t id, const char *why)
{
    struct job *job;
    char *text;

    pthread_mutex_lock(&j->lock);
    job = live_find(j, id);
    if (job == NULL || job->stage != JOB_UPLOADING) {
        pthread_mutex_unlock(&j->lock);
        return;
    }
    live_unlink(j, job);
    j->uploading--;
    pthread_mutex_unlock(&j->lock);
    text = report_failed(job->source, why);
    if (row_finish(db, job->id, false, 0, text) != DB_OK)
        log_error("job %lld: cannot record its failure", (long long)job->id);
    if (catalog_audit(db, job->actor, "upload.fail", job->source, NULL, why) != DB_OK)
        log_warn("job %lld: cannot audit its failure", (long long)job->id);
    log_info("job %lld (%s): upload failed: %s", (long long)job->id, job->source, why);
    free(text);
    free(job);
}

/* ---- tasks ---- */

int jobs_task_submit(struct jobs *j, sqlite3 *db, const struct jobs_task *t, int64_t *id)
{
    struct job *job = calloc(1, sizeof(*job));
    int64_t now = (int64_t)time(NULL);
    int rc;

    rc = job != NULL ? JOBS_OK : JOBS_ERROR;
    if (rc == JOBS_OK) {
        pthread_mutex_lock(&j->lock);
        rc = live_count(j) >= JOBS_QUEUE_MAX ? JOBS_BUSY : JOBS_OK;
        pthread_mutex_unlock(&j->lock);
    }
    if (rc == JOBS_OK && jobrows_add(db, t->kind, t->source, t->actor, now, &job->id) != DB_OK)
        rc = JOBS_ERROR;
    if (rc != JOBS_OK) {
        free(job);
        if (t->free_arg != NULL)
            t->free_arg(t->arg);
        return rc;
    }
    job->stage = JOB_QUEUED;
    snprintf(job->source, sizeof(job->source), "%s", t->source);
    snprintf(job->actor, sizeof(job->actor), "%s", t->actor);
    job->created_at = now;
    job->bundle_size = t->size;
    job->task = t->run;
    job->task_free = t->free_arg;
    job->task_arg = t->arg;
    pthread_mutex_lock(&j->lock);
    job->next = j->live;
    j->live = job;
    *id = job->id;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    return JOBS_OK;
}

/* ---- reading ---- */

static json_t *text_json(const char *t)
{
    return t != NULL ? json_string(t) : json_null();
}

static json_t *int_json(bool set, int64_t v)
{
    return set ? json_integer((json_int_t)v) : json_null();
}

static json_t *row_json(const struct jobrow *r)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:I, s:o}", "id", (json_int_t)r->id,
                     "kind", text_json(r->kind), "source", text_json(r->source), "actor",
                     text_json(r->actor), "state", text_json(r->state), "size", (json_int_t)r->size,
                     "import_id", int_json(r->has_import_id, r->import_id), "created_at",
                     (json_int_t)r->created_at, "finished_at",
                     int_json(r->finished, r->finished_at));
}

/* A JSON text parsed, or null. */
static json_t *parsed(const char *t)
{
    json_t *v = t != NULL ? json_loads(t, 0, NULL) : NULL;

    return v != NULL ? v : json_null();
}

/* A live job's progress replaces the row's state (the row may lag). */
static void live_merge(struct jobs *j, json_t *row, int64_t id)
{
    struct job *job;

    pthread_mutex_lock(&j->lock);
    job = live_find(j, id);
    if (job != NULL) {
        json_object_set_new(row, "state", json_string(stage_state(job->stage)));
        json_object_set_new(row, "progress", progress_json(job));
    } else {
        json_object_set_new(row, "progress", json_null());
    }
    pthread_mutex_unlock(&j->lock);
}

/* jobrows_get's callback: the row with its report, or NULL. */
static int get_row(void *arg, const struct jobrow *r)
{
    json_t **row = arg;

    *row = row_json(r);
    if (*row != NULL)
        json_object_set_new(*row, "report", parsed(r->report));
    return 0;
}

int jobs_get(struct jobs *j, sqlite3 *db, int64_t id, json_t **out)
{
    json_t *row = NULL;
    int rc = jobrows_get(db, id, get_row, &row);

    if (rc == DB_NOT_FOUND)
        return JOBS_NOT_FOUND;
    if (rc != DB_OK || row == NULL)
        return JOBS_ERROR;
    live_merge(j, row, id);
    *out = row;
    return JOBS_OK;
}

/* jobrows_each's callback: the history being listed. */
struct list_walk {
    struct jobs *j;
    json_t *list;
    int64_t last;
    unsigned n;
};

static int list_row(void *arg, const struct jobrow *r)
{
    struct list_walk *w = arg;
    json_t *row = row_json(r);

    if (row == NULL)
        return JOBS_ERROR;
    w->last = r->id;
    w->n++;
    json_object_set_new(row, "summary",
                        !r->has_summary
                            ? json_null()
                            : json_pack("{s:b, s:o, s:I}", "ok", r->ok, "loads", parsed(r->loads),
                                        "problems", (json_int_t)r->problems));
    live_merge(w->j, row, r->id);
    json_array_append_new(w->list, row);
    return 0;
}

int jobs_list(struct jobs *j, sqlite3 *db, int64_t before, unsigned limit, json_t **out)
{
    struct list_walk w = {j, json_array(), 0, 0};

    if (w.list == NULL || jobrows_each(db, before, limit, list_row, &w) != DB_OK) {
        json_decref(w.list);
        return JOBS_ERROR;
    }
    *out = json_pack("{s:o, s:o}", "jobs", w.list, "next_before",
                     w.n == limit && w.last > 1 ? json_integer(w.last) : json_null());
    return *out != NULL ? JOBS_OK : JOBS_ERROR;
}

static bool name_byte_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '+' || c == '-';
}

void jobs_source_clean(const char *in, size_t len, char *out, size_t cap)
{
    size_t start = 0, n;

    if (cap == 0)
        return;
    for (size_t i = 0; i < len; i++)
        if (in[i] == '/' || in[i] == '\\')
            start = i + 1;
    while (start < len && in[start] == '.')
        start++;
    n = len - start;
    if (n > cap - 1)
        start += n - (cap - 1); /* keep the end: the suffix */
    n = 0;
    for (size_t i = start; i < len; i++)
        out[n++] = name_byte_ok((unsigned char)in[i]) ? in[i] : '_';
    out[n] = '\0';
    while (out[0] == '.') /* a cut may have left a leading dot */
        memmove(out, out + 1, strlen(out));
    if (out[0] == '\0')
        snprintf(out, cap, "%s", "bundle");
}

void jobs_counts(struct jobs *j, unsigned *uploading, unsigned *queued, unsigned *running)
{
    *uploading = *queued = *running = 0;
    if (j == NULL)
        return;
    pthread_mutex_lock(&j->lock);
    for (const struct job *x = j->live; x != NULL; x = x->next) {
        if (x->stage == JOB_UPLOADING)
            (*uploading)++;
        else if (x->stage == JOB_QUEUED)
            (*queued)++;
        else
            (*running)++;
    }
    pthread_mutex_unlock(&j->lock);
}
