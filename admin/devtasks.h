/* devtasks.h: the device work that runs as a job: a bulk change (one or
 * more settings for every device selected by a search or by MAC) or
 * removal, in one transaction with one audit row; and a CSV import (all or
 * nothing, or partial with a rejected-rows file). The API queues them
 * (jobs.h), loadsctl runs them at once; both get the same report. */
#ifndef LOADSD_DEVTASKS_H
#define LOADSD_DEVTASKS_H

#include <jansson.h>
#include <sqlite3.h>

#include "admin/devcsv.h"
#include "admin/jobs.h"
#include "db/devbulk.h"
#include "db/model/devquery.h"

#define DEVTASKS_MACS_MAX  100000 /* MACs one bulk request may name */
#define DEVTASKS_ACTOR_MAX 96     /* as struct ctl's actor */

/* One bulk change or removal. */
struct devtasks_bulk {
    bool remove;
    bool by_macs;          /* the devices named (macs), else every one query selects */
    struct devquery query; /* its sort is ignored */
    char (*macs)[SETTINGS_MAC_LEN + 1];
    size_t n_macs;
    struct devbulk_change change; /* a profile named as given; checked when it runs */
    bool force;                   /* accept a load the catalog lacks or has quarantined */
    char actor[DEVTASKS_ACTOR_MAX];
};

/* Runs it in one write transaction: selects against a fresh snapshot,
 * checks the profile and load there (a refusal changes nothing), writes
 * the devices that differ, and one audit row ("device.bulk_set" or
 * "device.bulk_delete": the selection, what was set, matched and changed
 * counts, the first MACs). 0 or -1; *report in both cases ({"ok",
 * "action", "matched", "changed", "selection", "set", "loads",
 * "problems": [{"message"}]}). tc may be NULL. */
int devtasks_bulk_run(sqlite3 *db, const struct devtasks_bulk *b, struct jobs_task_ctx *tc,
                      json_t **report);
/* The selection as JSON ({"filter": {...}} or {"macs": n}), for reports. */
json_t *devtasks_bulk_selection(const struct devtasks_bulk *b);
/* A short description for the jobs list ("set load on devices matching
 * q=desk"). */
void devtasks_bulk_describe(const struct devtasks_bulk *b, char *out, size_t cap);
void devtasks_bulk_free(struct devtasks_bulk *b);

/* A CSV import's report: {"ok", "rows", "added", "updated", "unchanged",
 * "rejected", "errors": [{"line", "message"}], "more_errors", "loads",
 * "problems"} (problems: the errors again, for the jobs list). */
json_t *devtasks_csv_report(int rc, const struct devcsv_report *rep);

/* Queues a bulk change (the job owns b, malloc'd, from here on). */
int devtasks_bulk_submit(struct jobs *j, sqlite3 *db, struct devtasks_bulk *b, int64_t *id);
/* Queues a CSV import of data (copied). */
int devtasks_csv_submit(struct jobs *j, sqlite3 *db, const char *actor, const char *data,
                        size_t len, const struct devcsv_options *o, int64_t *id);

#endif
