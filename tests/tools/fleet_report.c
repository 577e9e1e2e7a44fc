/* fleet_report.c: stores one branch report in a data directory's catalog
 * through db/fleet.c's fleet_report_store (the function the central's
 * report call uses), for tests that need a branch to have reported.
 * Usage: fleet_report DATA_DIR BRANCH [LOAD:STATE:HAVE/TOTAL[:ETA_S]]...
 * (HAVE/TOTAL counts files; bytes are taken as the same numbers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "db/fleet.h"
#include "lib/numparse.h"

#define ARG_MAX 512

/* "SIP78xx.14-2-1:staging:3/5:240" into x. 0 or -1. */
static int holding_parse(const char *arg, struct fleet_holding *x)
{
    char buf[ARG_MAX], *load, *state, *files, *eta, *slash;
    uint64_t have, total, secs = 0;

    if (strlen(arg) >= sizeof(buf))
        return -1;
    memcpy(buf, arg, strlen(arg) + 1);
    load = strtok(buf, ":");
    state = strtok(NULL, ":");
    files = strtok(NULL, ":");
    eta = strtok(NULL, ":");
    slash = files != NULL ? strchr(files, '/') : NULL;
    if (load == NULL || state == NULL || slash == NULL)
        return -1;
    *slash = '\0';
    memset(x, 0, sizeof(*x));
    if (snprintf(x->load, sizeof(x->load), "%s", load) >= (int)sizeof(x->load) ||
        fleet_state_parse(state, &x->state) != 0 ||
        numparse_u64(files, 0, FLEET_COUNT_MAX, &have) != 0 ||
        numparse_u64(slash + 1, 0, FLEET_COUNT_MAX, &total) != 0 ||
        (eta != NULL && numparse_u64(eta, 0, FLEET_COUNT_MAX, &secs) != 0))
        return -1;
    x->files_have = x->bytes_have = have;
    x->files_total = x->bytes_total = total;
    x->eta_s = eta != NULL ? (int64_t)secs : FLEET_ETA_UNKNOWN;
    return 0;
}

int main(int argc, char **argv)
{
    struct fleet_holding loads[64];
    struct fleet_report r = {.version = "test", .loads = loads};
    char path[4096];
    sqlite3 *db = NULL;
    bool changed = false;
    int rc;

    if (argc < 3 || argc - 3 > (int)(sizeof(loads) / sizeof(loads[0]))) {
        fprintf(stderr, "usage: fleet_report DATA_DIR BRANCH [LOAD:STATE:HAVE/TOTAL[:ETA]]...\n");
        return 2;
    }
    for (int i = 3; i < argc; i++)
        if (holding_parse(argv[i], &loads[r.n_loads++]) != 0) {
            fprintf(stderr, "fleet_report: bad holding %s\n", argv[i]);
            return 2;
        }
    r.time = (int64_t)time(NULL);
    snprintf(path, sizeof(path), "%s/catalog.db", argv[1]);
    if (db_open(path, &db) != DB_OK)
        return 1;
    rc = fleet_report_store(db, argv[2], &r, (int64_t)time(NULL), &changed);
    db_close(db);
    if (rc != DB_OK) {
        fprintf(stderr, "fleet_report: not stored (%d)\n", rc);
        return 1;
    }
    printf("%s\n", changed ? "changed" : "unchanged");
    return 0;
}
