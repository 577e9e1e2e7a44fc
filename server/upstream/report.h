/* report.h: a branch's reporter thread (docs/FLEET.md, "The branch side"):
 * tells the central what this branch holds, on a schedule and soon after a
 * change, asks between reports whether the want list moved (when the
 * central tags it), and stages through the pull engine the loads the
 * central wants. */
#ifndef LOADSD_UPSTREAM_REPORT_H
#define LOADSD_UPSTREAM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/resolve/inventory.h"
#include "server/upstream/pull.h"
#include "server/upstream/report_json.h"
#include "server/upstream/url.h"

#define REPORT_TOKEN_MAX       256 /* bytes of a branch token, NUL excluded */
#define REPORT_WHY_MAX         256
#define REPORT_FIRST_EVERY_S   60 /* the schedule before the central's first answer */
#define REPORT_CHANGE_DELAY_S  2  /* a change is reported this soon (the contract: within 5 s) */
#define REPORT_BACKOFF_FIRST_S 5  /* a central that does not answer: 5 s, doubling */

struct fleet_reporter;

struct fleet_reporter_params {
    const char *central;      /* the central's admin API, normalised (upstream_url_normalize) */
    const char *ca_file;      /* PEM CA bundle for https; "" or NULL: the system's */
    const char *token;        /* this branch's token */
    const char *data_dir;     /* the catalog the holdings are read from */
    struct pull_engine *pull; /* stages what the central wants; NULL: no upstream */
    struct inventory *inv;    /* what phones fetched here, reported as phones; NULL: none */
};

/* How reporting stands, for the admin interface. */
struct fleet_reporter_status {
    char central[UPSTREAM_BASE_MAX];
    char branch[REPORT_BRANCH_NAME_MAX + 1]; /* the name the central answered with; "" */
    int64_t last_sent;                       /* Unix time of the latest report sent; 0: none */
    int64_t last_ok;                         /* of the latest one answered; 0: none */
    int64_t failing_since;                   /* the first failure since the last answer; 0 */
    char why[REPORT_WHY_MAX];                /* that failure, sanitised; "" when answering */
    unsigned report_every_s;                 /* the schedule now */
    unsigned want_poll_s;                    /* the want list polled this often; 0: not */
    size_t held, wanted;                     /* loads in the latest report and answer */
};

/* Reads a branch token from path: one line (a final newline dropped) of
 * 1..REPORT_TOKEN_MAX printable ASCII bytes without a space. *loose: the
 * file is readable by its group or others. 0, or -1 with a reason in err. */
int fleet_token_read(const char *path, char *out, size_t cap, bool *loose, char *err,
                     size_t errcap);

/* Starts the thread; its first report goes at once. 0, or -1 (logged). */
int fleet_reporter_start(const struct fleet_reporter_params *p, struct fleet_reporter **out);

/* A reload: the central, CA and token change, and a report goes at once. */
void fleet_reporter_update(struct fleet_reporter *r, const struct fleet_reporter_params *p);

/* Stops the thread (a report in flight is abandoned) and frees. NULL: no-op. */
void fleet_reporter_stop(struct fleet_reporter *r);

void fleet_reporter_get(struct fleet_reporter *r, struct fleet_reporter_status *out);

#endif
