/* jobrows.h: rows of the jobs table: the admin interface's background
 * import jobs, their state, size and final report. Never runs a job and
 * keeps no live progress (admin/jobs.c does both). */
#ifndef LOADSD_JOBROWS_H
#define LOADSD_JOBROWS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* A row as read; the texts are valid only inside the callback. */
struct jobrow {
    int64_t id;
    const char *kind, *source, *actor, *state; /* NULL where the column is */
    int64_t size;
    bool has_import_id;
    int64_t import_id;
    int64_t created_at;
    bool finished;
    int64_t finished_at;
    const char *report; /* jobrows_get: the report (JSON text), or NULL */
    /* jobrows_each: the report's summary; has_summary false without one */
    bool has_summary;
    bool ok;
    const char *loads; /* a JSON array of the report's load names */
    int64_t problems;
};

/* A queued job of kind ("import", "devices.set", "devices.delete",
 * "devices.csv") from source by actor. 0 or a negative db_result. */
int jobrows_add(sqlite3 *db, const char *kind, const char *source, const char *actor, int64_t now,
                int64_t *id);
/* The job's file name, once known, audited ("upload.start" with the name)
 * in the same transaction. 0 or a negative db_result. */
int jobrows_rename(sqlite3 *db, int64_t id, const char *source, const char *actor);
int jobrows_running(sqlite3 *db, int64_t id, uint64_t size);
/* The job ended (done when ok, else failed) with its report (JSON text);
 * import_id 0: none. */
int jobrows_finish(sqlite3 *db, int64_t id, bool ok, int64_t import_id, const char *report,
                   int64_t now);
/* Jobs left queued or running end failed, each with the report
 * report(arg, source) gives (malloc'd JSON text, freed here), all in one
 * transaction. *changed: how many. */
int jobrows_recover(sqlite3 *db, int64_t now, char *(*report)(void *arg, const char *source),
                    void *arg, int *changed);
/* One job, with its report. DB_NOT_FOUND; else cb's result. */
int jobrows_get(sqlite3 *db, int64_t id, int (*cb)(void *arg, const struct jobrow *r), void *arg);
/* Jobs with id < before, newest first, at most limit, with the summary of
 * their report. The callback returns 0 to go on, anything else to stop
 * (returned). */
int jobrows_each(sqlite3 *db, int64_t before, unsigned limit,
                 int (*cb)(void *arg, const struct jobrow *r), void *arg);

/* A job's file for the user: a partial CSV import's rejected rows (CSV). */
int jobrows_rejected_set(sqlite3 *db, int64_t id, const char *csv);
/* That file (malloc'd, caller frees); DB_NOT_FOUND when the job has none. */
int jobrows_rejected_get(sqlite3 *db, int64_t id, char **out);

#endif
