/* ctl_stage.c: loadsctl stage LOAD: pulls one load from the upstream into
 * this data directory now, in this process (the daemon's pull path, without
 * its workers), with progress on stderr and a summary at the end. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin/catalog_json.h"
#include "admin/ctl/ctl.h"
#include "db/catalog.h"
#include "lib/conffile.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "server/upstream/pull.h"
#include "server/upstream/quota.h"
#include "server/upstream/tftp_get.h"
#include "server/upstream/url.h"

#define STAGE_RATE_KBIT_MAX 100000000u /* as server/config.c's stage-rate */

struct stage_watch {
    time_t last; /* the last progress line */
};

static const char *eta_text(int64_t s, char *buf, size_t cap)
{
    if (s < 0)
        snprintf(buf, cap, "?");
    else
        snprintf(buf, cap, "%" PRId64 " s", s);
    return buf;
}

static void stage_line(const struct pull_entry *p, const char *what)
{
    char done[32], total[32], eta[32];

    fprintf(stderr, "%s %s: %u/%u files, %s of %s, %" PRIu64 " kbit/s, ETA %s\n", what, p->name,
            p->files_done, p->files_total, ctl_size(p->bytes_done, done, sizeof(done)),
            ctl_size(p->bytes_total, total, sizeof(total)), p->rate * 8 / 1000,
            eta_text(p->eta_s, eta, sizeof(eta)));
}

/* At most a line a second, and one as each file completes. */
static void stage_progress(void *arg, const struct pull_entry *p)
{
    static unsigned files_seen = UINT_MAX;
    struct stage_watch *w = arg;
    time_t now = time(NULL);

    if (now == w->last && p->files_done == files_seen)
        return;
    w->last = now;
    files_seen = p->files_done;
    stage_line(p, "staging");
}

/* The upstream: --upstream, else the config file's upstream; normalised. */
static int stage_upstream(const struct ctl *c, const char *given, char *out, size_t cap)
{
    char raw[UPSTREAM_BASE_MAX * 2], err[PATH_MAX + 128];
    int rc;

    if (given != NULL)
        snprintf(raw, sizeof(raw), "%s", given);
    else if ((rc = conffile_get(c->config, "upstream", raw, sizeof(raw), err, sizeof(err))) < 0)
        return ctl_refuse("cannot read the upstream from %s", err);
    else if (rc == 1 || raw[0] == '\0' || strcmp(raw, "none") == 0)
        return ctl_refuse("no upstream: give --upstream URL, or set upstream = URL in %s",
                          c->config);
    if (upstream_url_normalize(raw, out, cap, err, sizeof(err)) != 0)
        return ctl_refuse("upstream: %s", err);
    return CTL_OK;
}

/* --KEY N, else the config file's KEY, else 0: a number from 0 to max. */
static int stage_number(const struct ctl *c, const char *key, const char *given, uint64_t max,
                        uint64_t *out)
{
    char raw[32], err[PATH_MAX + 128];
    int rc = 0;

    *out = 0;
    if (given == NULL &&
        (rc = conffile_get(c->config, key, raw, sizeof(raw), err, sizeof(err))) < 0)
        return ctl_refuse("cannot read %s from %s", key, err);
    if ((given != NULL || rc == 0) && numparse_u64(given != NULL ? given : raw, 0, max, out) != 0)
        return ctl_refuse("%s: not a number from 0 to %" PRIu64, key, max);
    return CTL_OK;
}

static int stage_report(struct ctl *c, const struct pull_entry *p, const char *upstream)
{
    char got[32], total[32];
    struct catalog_load l;
    int64_t secs = p->finished - p->started;
    const char *status = catalog_load_find(c->dd.db, p->name, &l) == DB_OK ? l.status : "?";
    json_t *j;

    if (c->json) {
        j = catalog_stage_json(p);
        json_object_set_new(j, "upstream", json_string(upstream));
        json_object_set_new(j, "status", json_string(status));
        return ctl_print_json(j);
    }
    printf("staged %s from %s: %u file(s), %s, %s received in %" PRId64 " s (%" PRIu64
           " kbit/s); status %s\n",
           p->name, upstream, p->files_total, ctl_size(p->bytes_total, total, sizeof(total)),
           ctl_size(p->bytes_got, got, sizeof(got)), secs, p->rate * 8 / 1000, status);
    return CTL_OK;
}

static int cmd_stage(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"upstream", required_argument, NULL, 'u'},
                                         {"stage-rate", required_argument, NULL, 'r'},
                                         {"upstream-quota-mb", required_argument, NULL, 'q'},
                                         {"upstream-tftp-blksize", required_argument, NULL, 'b'},
                                         {"upstream-tftp-windowsize", required_argument, NULL, 'w'},
                                         {0}};
    const char *given = NULL, *rate_given = NULL, *quota_given = NULL, *blk_given = NULL,
               *win_given = NULL;
    uint64_t kbit, quota_mb, blksize, windowsize;
    char upstream[UPSTREAM_BASE_MAX];
    struct stage_watch w = {0};
    struct pull_once po = {.data_dir = c->dd.path, .progress = stage_progress, .arg = &w};
    struct pull_entry p;
    struct catalog_load l;
    int o;

    optind = 0;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'u')
            given = optarg;
        else if (o == 'r')
            rate_given = optarg;
        else if (o == 'q')
            quota_given = optarg;
        else if (o == 'b')
            blk_given = optarg;
        else if (o == 'w')
            win_given = optarg;
        else
            return ctl_usage(&ctl_stage_commands[0]);
    }
    if (optind + 1 != argc)
        return ctl_usage(&ctl_stage_commands[0]);
    if (!pull_load_name_ok(argv[optind]))
        return ctl_refuse("stage: \"%s\" is not a load name (A-Z a-z 0-9 . _ -)", argv[optind]);
    if (catalog_load_find(c->dd.db, argv[optind], &l) == DB_OK)
        return ctl_refuse("stage: %s is in the catalog already (%s)", l.name, l.status);
    if (stage_upstream(c, given, upstream, sizeof(upstream)) != CTL_OK ||
        stage_number(c, "stage-rate", rate_given, STAGE_RATE_KBIT_MAX, &kbit) != CTL_OK ||
        stage_number(c, "upstream-quota-mb", quota_given, PULL_QUOTA_MB_MAX, &quota_mb) != CTL_OK ||
        stage_number(c, "upstream-tftp-blksize", blk_given, TFTP_BLKSIZE_MAX, &blksize) != CTL_OK ||
        stage_number(c, "upstream-tftp-windowsize", win_given, TFTP_GET_WINDOW_MAX, &windowsize) !=
            CTL_OK)
        return CTL_REFUSED;
    po.upstream = upstream;
    po.rate = kbit * 125; /* kbit/s to bytes/s */
    po.quota_mb = (unsigned)quota_mb;
    po.tftp_blksize = (unsigned)blksize; /* 0: the default */
    po.tftp_windowsize = (unsigned)windowsize;
    if (pull_load_once(&po, argv[optind], &p) != 0)
        return ctl_refuse("stage %s: %s: %s", argv[optind], p.state, p.why);
    stage_line(&p, "staged");
    if (catalog_audit(c->dd.db, c->actor, "stage", p.name, NULL, upstream) != DB_OK)
        fprintf(stderr, "loadsctl: warning: the audit record of this stage was not written\n");
    return stage_report(c, &p, upstream);
}

const struct ctl_command ctl_stage_commands[] = {
    {"stage",
     "LOAD [--upstream URL] [--stage-rate KBIT] [--upstream-quota-mb MB] "
     "[--upstream-tftp-blksize N] [--upstream-tftp-windowsize N]",
     cmd_stage},
    {NULL, NULL, NULL},
};
