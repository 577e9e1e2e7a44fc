/* jobs.h: background jobs of the admin interface (an uploaded bundle
 * becomes an import job; a bulk device change or a CSV import a task job):
 * a queue, one worker thread running import_run() (under the shared
 * data-dir lock) or the task on its own database connection, live progress
 * in memory, the history in the jobs table. Never parses a bundle itself
 * and never takes the admin interface's database lock. */
#ifndef LOADSD_JOBS_H
#define LOADSD_JOBS_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#define JOBS_UPLOADS_MAX 2   /* uploads receiving at once */
#define JOBS_QUEUE_MAX   8   /* jobs uploading or waiting for the worker */
#define JOBS_SOURCE_MAX  128 /* bytes of a job's source (file) name, NUL included */
#define JOBS_LIST_MAX    200 /* rows per page of the history */

enum jobs_result {
    JOBS_OK = 0,
    JOBS_ERROR = -1,    /* the database or memory failed */
    JOBS_BUSY = -2,     /* JOBS_UPLOADS_MAX uploads run, or the queue is full */
    JOBS_NOT_FOUND = -3 /* no such job */
};

struct jobs;
struct genwatch;

/* Opens a database connection and blob store of its own on data_dir, marks
 * jobs a stop or crash left queued or running as failed, starts the worker.
 * A job is recorded as ended only once watch (NULL: none) has synced, so
 * what it wrote is served by then. 0 or -1 (logged). */
int jobs_start(const char *data_dir, struct genwatch *watch, struct jobs **out);
/* Lets the running import finish, fails the queued ones (their spool files
 * are removed), joins the worker. NULL is fine. */
void jobs_stop(struct jobs *j);

/* An upload starts: a queued job (phase "uploading") in db, the caller's
 * connection, audited in the same transaction. expected: the request's
 * length when known, else 0. JOBS_BUSY when too many run or wait. */
int jobs_upload_begin(struct jobs *j, sqlite3 *db, const char *source, const char *actor,
                      uint64_t expected, int64_t *id);
/* The bundle's (cleaned) file name, once the body says it. */
int jobs_upload_name(struct jobs *j, sqlite3 *db, int64_t id, const char *source);
/* Bytes of the bundle received so far (no database access). */
void jobs_upload_progress(struct jobs *j, int64_t id, uint64_t received);
/* The upload is complete: the import of bundle (with the detached approval
 * signature, or NULL) is queued. The job owns both files from here on and
 * removes them when it ends. */
int jobs_upload_done(struct jobs *j, int64_t id, const char *bundle, const char *approval,
                     bool replace);
/* The upload failed (why: static or caller-owned text): the job ends
 * failed with a report naming why. */
void jobs_upload_fail(struct jobs *j, sqlite3 *db, int64_t id, const char *why);

/* ---- task jobs ---- */

struct jobs_task_ctx;
/* A task's work, on the worker's connection: 0 with *report (a new JSON
 * object with at least "ok", "loads" and "problems" for the history's
 * summary) and optionally *rejected (malloc'd CSV for the user), or -1
 * (failed; *report may still say why). arg is the task's. */
typedef int (*jobs_task_fn)(sqlite3 *db, void *arg, struct jobs_task_ctx *tc, json_t **report,
                            char **rejected);
struct jobs_task {
    const char *kind;   /* "devices.set", "devices.delete", "devices.csv" */
    const char *source; /* what it works on, shown in the history */
    const char *actor;
    uint64_t size; /* bytes of its input, 0 when none */
    jobs_task_fn run;
    void (*free_arg)(void *arg); /* called once the job ends (or never ran) */
    void *arg;
};
/* Queues the task (its row in db, the caller's connection). The job owns
 * arg from here on, also when this fails (freed then). JOBS_BUSY when the
 * queue is full. */
int jobs_task_submit(struct jobs *j, sqlite3 *db, const struct jobs_task *t, int64_t *id);
/* A running task's progress: its phase (static text), done of total. tc
 * may be NULL (a task run outside a job, by loadsctl). */
void jobs_task_progress(struct jobs_task_ctx *tc, const char *phase, size_t done, size_t total);

/* One job: {id, kind, state, source, actor, size, import_id, created_at,
 * finished_at, progress, report}: progress from memory while it is live,
 * report once it ended. JOBS_NOT_FOUND. */
int jobs_get(struct jobs *j, sqlite3 *db, int64_t id, json_t **out);
/* The history, newest first: jobs with id < before, at most limit; each row
 * without the full report but with its summary (ok, loads, problem count).
 * {"jobs": [...], "next_before": ID|null}. */
int jobs_list(struct jobs *j, sqlite3 *db, int64_t before, unsigned limit, json_t **out);

/* A client's file name as a spool and source name: the last path component,
 * bytes outside [A-Za-z0-9._+-] as '_', no leading dots, at most cap - 1
 * bytes keeping the end (the suffix decides the archive type); "bundle"
 * when nothing is left. Pure. */
void jobs_source_clean(const char *in, size_t len, char *out, size_t cap);

/* Live counters for /stats: uploads receiving, jobs queued or running. */
void jobs_counts(struct jobs *j, unsigned *uploading, unsigned *queued, unsigned *running);

#endif
