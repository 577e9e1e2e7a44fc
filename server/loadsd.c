/* loadsd.c: the daemon's main: configuration, binding, dropping privileges,
 * signals (SIGTERM drains, SIGHUP reloads) and readiness. No protocol here. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/http.h"
#include "db/datadir.h"
#include "lib/log.h"
#include "server/config.h"
#include "server/files/files_server.h"
#include "server/resolve/catalog_source.h"
#include "server/resolve/cnf_source.h"
#include "server/resolve/genwatch.h"
#include "server/resolve/missing.h"
#include "server/resolve/resolver.h"
#include "server/scrubber.h"
#include "server/sdnotify.h"
#include "server/tftp/tftp_server.h"
#include "server/upstream/cnf_proxy.h"
#include "server/upstream/probe.h"
#include "server/upstream/pull.h"
#include "server/upstream/report.h"
#include "server/upstream/window.h"

/* What runs besides the TFTP server, built once at start. */
struct services {
    struct genwatch *watch; /* rebuilds both sources' snapshots */
    struct cnf_source *cnf;
    struct catalog_source *catalog;
    struct scrubber *scrubber;
    struct files_server *files;    /* the HTTP file service; NULL when off */
    struct pull_engine *pull;      /* pulls missing loads from the upstream; NULL when none */
    struct cnf_proxy *configs;     /* the upstream's phone configs; NULL unless upstream-configs */
    struct missing_table *missing; /* names asked for that no source has */
    struct fleet_reporter *reporter; /* reports to the central; NULL unless --central */
    struct prober *probe;            /* probes plain-host load servers when the setting is on */
};

#define EXIT_USAGE 2

/* File descriptors: one per TFTP transfer (its socket; the file is mapped and
 * closed), two per HTTP file service connection (its socket and its file),
 * and this many for everything else (listeners, epoll and wake-up
 * descriptors, the database, admin HTTP connections, the log, a file being
 * opened and mapped). */
#define FDS_PER_TRANSFER   1
#define FDS_PER_CONNECTION 2
#define FDS_RESERVED       512

/* Raises the soft open-file limit as far as users descriptors (and the
 * reserve) need: to the hard limit, or past it while still root (before
 * privileges are dropped). */
static void fd_limit_raise(rlim_t users)
{
    rlim_t want = users + FDS_RESERVED;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    if (rl.rlim_max < want) {
        struct rlimit up = {want, want};

        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            return;
    }
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
}

/* The transfers the open-file limit leaves room for, at most max_transfers:
 * past it, requests are refused as busy instead of failing for want of a
 * descriptor. Lowering a value the operator set is a warning; lowering the
 * default is not. */
static unsigned fd_limit_transfers(unsigned max_transfers)
{
    struct loadsd_config def;
    struct rlimit rl;
    rlim_t room, need = (rlim_t)max_transfers * FDS_PER_TRANSFER + FDS_RESERVED;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return max_transfers;
    room = rl.rlim_cur > FDS_RESERVED + FDS_PER_TRANSFER
               ? (rl.rlim_cur - FDS_RESERVED) / FDS_PER_TRANSFER
               : 1;
    if (room >= max_transfers)
        return max_transfers;
    config_defaults(&def);
    if (max_transfers == def.max_transfers)
        log_info("max-transfers lowered from the default %u to %llu to fit the open-file limit "
                 "of %llu (%u need %llu)",
                 max_transfers, (unsigned long long)room, (unsigned long long)rl.rlim_cur,
                 max_transfers, (unsigned long long)need);
    else
        log_warn("max-transfers %u lowered to %llu: the open-file limit is %llu (%u need %llu; "
                 "raise LimitNOFILE or ulimit -n)",
                 max_transfers, (unsigned long long)room, (unsigned long long)rl.rlim_cur,
                 max_transfers, (unsigned long long)need);
    return (unsigned)room;
}

/* Builds the name resolver: with upstream-configs on, the tftp:// upstream's
 * phone configs first (the central's role stays the central's); then the
 * generated config files, then the catalog, then the serve directory
 * (catalog files win on a name clash), then the upstream (a load nobody
 * here has is pulled). */
static int resolver_build(const struct loadsd_config *c, const struct services *sv,
                          struct resolver **out)
{
    struct resolver *r = resolver_new();
    int rc = -1;

    if (r == NULL)
        goto out;
    if (sv->configs != NULL && cnf_proxy_attach(sv->configs, r) != 0)
        goto out;
    resolver_set_missing(r, sv->missing);
    if (cnf_source_attach(sv->cnf, r) != 0 || catalog_source_attach(sv->catalog, r) != 0)
        goto out;
    if (c->serve_dir[0] != '\0' && resolver_add_serve_dir(r, c->serve_dir) != 0) {
        log_error("cannot serve directory %s: %s", c->serve_dir, strerror(errno));
        goto out;
    }
    if (sv->pull != NULL && pull_engine_attach(sv->pull, r) != 0)
        goto out;
    *out = r;
    r = NULL;
    rc = 0;
out:
    if (r != NULL)
        resolver_unref(r);
    return rc;
}

/* The descriptors transfers (TFTP) and connections (HTTP) need. */
static rlim_t fd_users(const struct loadsd_config *c)
{
    rlim_t conns = c->files_listen_count > 0 ? c->files_max_connections : 0;

    return (rlim_t)c->max_transfers * FDS_PER_TRANSFER + conns * FDS_PER_CONNECTION;
}

static void files_params_from_config(const struct loadsd_config *c, struct resolver *r,
                                     struct files_server_params *p)
{
    memset(p, 0, sizeof(*p));
    p->listen = c->files_listen;
    p->listen_count = c->files_listen_count;
    p->threads = c->threads;
    p->max_connections = c->files_max_connections;
    p->max_connections_per_client = c->files_max_connections_per_client;
    p->timeout_s = c->files_timeout;
    p->resolver = r;
}

static void params_from_config(const struct loadsd_config *c, struct resolver *r,
                               struct tftp_server_params *p)
{
    memset(p, 0, sizeof(*p));
    p->listen = c->tftp_listen;
    p->listen_count = c->tftp_listen_count;
    p->threads = c->threads;
    p->max_transfers = fd_limit_transfers(c->max_transfers);
    p->max_transfers_per_client = c->max_transfers_per_client;
    p->max_unacked = c->max_unacked;
    p->max_unacked_per_prefix = c->max_unacked_per_prefix;
    p->limits.blksize_max = c->max_blksize;
    p->limits.windowsize_max = c->max_windowsize;
    p->limits.rto_initial_ms = c->timeout_ms;
    p->limits.rto_min_ms = c->timeout_ms < 200 ? c->timeout_ms : 200;
    p->limits.rto_max_ms = c->timeout_ms * 8 > 10000 ? c->timeout_ms * 8 : 10000;
    p->limits.retries_max = c->retries;
    p->limits.rollover_to_one = c->rollover_to_one;
    p->resolver = r;
}

/* What loadsd (and loadsctl, and the admin interface) create in the data
 * directory while still root, relative to it; handed to the service user. */
static const char *const owned_paths[] = {
    ".",
    DATADIR_DAEMON_LOCK,
    ".lock",
    "catalog.db",
    "catalog.db-wal",
    "catalog.db-shm",
    "initial-admin-password",
    "spool",
    "spool/upload",
    "blobs",
    "blobs/sha256",
    "blobs/tmp",
    "blobs/quarantine",
    CNF_PROXY_DIR,
};

/* Hands name (in dirfd) to uid:gid when it is not theirs already: never
 * through a link, never a file with other names (a hard link to a file
 * outside). 1 when it changed an owner, 0 when there was nothing to do. */
static int chown_at(int dirfd, const char *name, uid_t uid, gid_t gid)
{
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode) ||
        (st.st_uid == uid && st.st_gid == gid) || (S_ISREG(st.st_mode) && st.st_nlink != 1))
        return 0;
    if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
        log_warn("cannot hand %s to the service user: %s", name, strerror(errno));
        return 0;
    }
    return 1;
}

/* Opens a directory below dirfd without following a link (a link put in
 * place of a directory by a compromised service user leads nowhere). */
static int subdir_open(int dirfd, const char *name)
{
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* rel is NAME or DIR/NAME: each component opened from the handle. */
static int chown_entry(int datafd, const char *rel, uid_t uid, gid_t gid)
{
    char parent[64];
    const char *slash = strrchr(rel, '/');
    int dirfd = datafd, rc;

    if (slash != NULL) {
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - rel), rel);
        dirfd = subdir_open(datafd, parent);
        if (dirfd < 0)
            return 0;
    }
    rc = chown_at(dirfd, slash ? slash + 1 : rel, uid, gid);
    if (dirfd != datafd)
        close(dirfd);
    return rc;
}

/* blobs/sha256/ab/cd/<hash>: depth levels below dirfd, each level opened
 * from its parent's handle. */
static void chown_tree(int dirfd, int depth, uid_t uid, gid_t gid)
{
    struct dirent *e;
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        int sub;

        if (e->d_name[0] == '.')
            continue;
        chown_at(dirfd, e->d_name, uid, gid);
        if (depth > 0 && (sub = subdir_open(dirfd, e->d_name)) >= 0) {
            chown_tree(sub, depth - 1, uid, gid);
            close(sub);
        }
    }
    closedir(d);
}

/* Hands what loadsd creates in the data directory to the service user, and
 * nothing else. Only on the first hand-over (the directory itself was not
 * the user's yet) are the blobs that loadsctl stored as root handed over
 * too; later, blobs are written as the user (by loadsd after the drop, or
 * by loadsctl as the directory's owner), so no start walks the store. */
static void data_dir_hand_over(const char *data_dir, uid_t uid, gid_t gid)
{
    int datafd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), first, fd;

    if (datafd < 0) {
        log_warn("cannot open %s: %s", data_dir, strerror(errno));
        return;
    }
    first = chown_at(datafd, ".", uid, gid);
    for (size_t i = 1; i < sizeof(owned_paths) / sizeof(owned_paths[0]); i++)
        chown_entry(datafd, owned_paths[i], uid, gid);
    fd = first ? openat(datafd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
               : -1;
    if (fd >= 0) {
        chown_tree(fd, 2, uid, gid);
        close(fd);
    }
    close(datafd);
}

/* Drops root for good: supplementary groups, group, then user; and checks
 * that root cannot be regained. What loadsd made in the data directory
 * becomes the user's. */
static int privileges_drop(const char *user, const char *data_dir)
{
    struct passwd *pw = getpwnam(user);

    if (pw == NULL) {
        log_error("unknown user %s", user);
        return -1;
    }
    data_dir_hand_over(data_dir, pw->pw_uid, pw->pw_gid);
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        log_error("cannot become user %s: %s", user, strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        log_error("could regain root after dropping to %s: refusing to run", user);
        return -1;
    }
    log_info("running as user %s (uid %u)", user, (unsigned)pw->pw_uid);
    return 0;
}

/* Without --foreground: detach, and let the parent exit only once the child
 * is ready (its exit status then says whether start-up worked). Returns the
 * pipe the child writes "ready" to, or -1 in the foreground. */
static int daemon_detach(void)
{
    int fds[2], devnull;
    pid_t pid;
    char ok = 0;

    if (pipe2(fds, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
        perror("loadsd: fork");
        exit(EXIT_FAILURE);
    }
    if (pid > 0) {
        close(fds[1]);
        exit(read(fds[0], &ok, 1) == 1 && ok == 'R' ? EXIT_SUCCESS : EXIT_FAILURE);
    }
    close(fds[0]);
    setsid();
    if (chdir("/") != 0)
        log_warn("chdir /: %s", strerror(errno));
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        close(devnull);
    }
    log_use_syslog();
    return fds[1];
}

static void daemon_ready(int fd)
{
    if (fd < 0)
        return;
    if (write(fd, "R", 1) != 1)
        log_warn("cannot tell the parent we are ready: %s", strerror(errno));
    close(fd);
    dup2(STDOUT_FILENO, STDERR_FILENO); /* stderr to /dev/null from now on */
}

/* Reads the branch token --central-token-file names into token (cap bytes),
 * warning when others may read it. 0, or -1 with a reason in err. */
static int central_token(const struct loadsd_config *c, char *token, size_t cap, char *err,
                         size_t errlen)
{
    bool loose = false;

    if (fleet_token_read(c->central_token_file, token, cap, &loose, err, errlen) != 0)
        return -1;
    if (loose)
        log_warn("central-token-file %s is readable by its group or others: chmod 600 it",
                 c->central_token_file);
    return 0;
}

/* The reporter's settings from c (the token already read). */
static struct fleet_reporter_params central_params(const struct loadsd_config *c, const char *token,
                                                   const struct services *sv)
{
    struct fleet_reporter_params p = {c->central,  c->central_ca, token,
                                      c->data_dir, sv->pull,      cnf_source_inventory(sv->cnf)};

    return p;
}

/* Reports to the central when --central is set; warns about plain HTTP
 * off this host. 0, or -1 (logged). */
static int central_start(const struct loadsd_config *c, struct services *sv)
{
    char token[REPORT_TOKEN_MAX + 1], err[512];
    struct fleet_reporter_params p;
    int rc;

    if (c->central[0] == '\0')
        return 0;
    if (central_token(c, token, sizeof(token), err, sizeof(err)) != 0) {
        log_error("central-token-file: %s", err);
        return -1;
    }
    if (upstream_url_plain_remote(c->central))
        log_warn("central %s is plain http:// to another host: this branch's token and reports "
                 "cross the network in the clear (use https:// and --central-ca)",
                 c->central);
    if (sv->pull == NULL)
        log_warn("central %s: no --upstream, so the loads it wants cannot be staged here",
                 c->central);
    p = central_params(c, token, sv);
    rc = fleet_reporter_start(&p, &sv->reporter);
    explicit_bzero(token, sizeof(token));
    if (rc == 0)
        log_info("reporting to the central %s", c->central);
    return rc;
}

/* SIGHUP: a running reporter takes the new central, CA and token; adding
 * or removing --central takes a restart. */
static void central_reload(const struct loadsd_config *c, const struct services *sv)
{
    char token[REPORT_TOKEN_MAX + 1], err[512];
    struct fleet_reporter_params p;

    if ((c->central[0] != '\0') != (sv->reporter != NULL)) {
        log_warn("central: %s reporting takes a restart", sv->reporter ? "stopping" : "starting");
        return;
    }
    if (sv->reporter == NULL)
        return;
    if (central_token(c, token, sizeof(token), err, sizeof(err)) != 0) {
        log_error("central-token-file: %s: keeping the token read before", err);
        return;
    }
    p = central_params(c, token, sv);
    fleet_reporter_update(sv->reporter, &p);
    explicit_bzero(token, sizeof(token));
}

/* SIGHUP: read the configuration again and apply what can change live. */
static void reload(struct tftp_server *srv, const struct services *sv, int argc, char **argv)
{
    struct loadsd_config *c = malloc(sizeof(*c));
    struct files_server_params fp;
    struct tftp_server_params p;
    struct resolver *r = NULL;
    char err[512];

    sdnotify_send("RELOADING=1");
    if (c == NULL || config_load(c, argc, argv, err, sizeof(err)) != 0) {
        log_error("reload failed, keeping the running configuration: %s",
                  c == NULL ? "out of memory" : err);
        goto out;
    }
    if (resolver_build(c, sv, &r) != 0) {
        log_error("reload failed, keeping the running configuration");
        goto out;
    }
    log_set_level(c->log_level);
    fd_limit_raise(fd_users(c));
    params_from_config(c, r, &p);
    tftp_server_update(srv, &p);
    files_params_from_config(c, r, &fp);
    files_server_update(sv->files, &fp);
    scrubber_update(sv->scrubber, c->scrub_interval, (uint64_t)c->scrub_rate_mb * 1000000u);
    central_reload(c, sv);
    log_info("configuration reloaded (listen addresses and threads change on restart)");
out:
    if (r != NULL)
        resolver_unref(r);
    free(c);
    sdnotify_send("READY=1");
}

/* Waits for signals until SIGTERM or SIGINT. */
static void signal_loop(struct tftp_server *srv, const struct services *sv, const sigset_t *set,
                        int argc, char **argv)
{
    for (;;) {
        int sig = sigwaitinfo(set, NULL);

        if (sig == SIGHUP) {
            reload(srv, sv, argc, argv);
        } else if (sig == SIGTERM || sig == SIGINT) {
            log_info("signal %d: no new transfers, draining", sig);
            return;
        }
    }
}

/* A read found a blob changed: the scrubber re-checks and quarantines it. */
static void recheck_blob(void *arg, const char *hex)
{
    scrubber_recheck(arg, hex);
}

/* The load-server probe's thread: idle until the enterprise setting
 * probe_load_servers is on (it reads the setting itself, each round). */
static int probe_start(const struct loadsd_config *c, struct services *sv)
{
    struct probe_params pp = {
        .data_dir = c->data_dir,
        .rate = c->probe_rate,
        .port = c->probe_port,
    };

    return prober_start(&pp, &sv->probe);
}

/* Opens (creating and migrating) the data directory, removes the blobs the
 * catalog released, and starts serving the catalog. */
static int services_start(const struct loadsd_config *c, struct services *sv)
{
    struct datadir_gc_totals t;
    struct datadir dd;
    int rc;

    if (datadir_open(c->data_dir, &dd) != 0)
        return -1;
    rc = datadir_gc(&dd, &t, false);
    if (rc == 0 && t.removed > 0)
        log_info("removed %u released blob(s) from %s", t.removed, c->data_dir);
    if (rc == 0 && t.orphans > 0)
        log_warn("%u blob(s) in %s belong to no catalog file and were never released by this "
                 "catalog: kept (loadsctl recover lists them)",
                 t.orphans, c->data_dir);
    datadir_close(&dd);
    sv->missing = missing_table_new();
    if (sv->missing == NULL)
        return -1;
    /* One watcher thread keeps both sources current. */
    if (genwatch_open(c->data_dir, GENWATCH_POLL_MS, &sv->watch) != 0 ||
        catalog_source_open(c->data_dir, sv->watch, &sv->catalog) != 0 ||
        cnf_source_open(sv->watch, &sv->cnf) != 0 || genwatch_start(sv->watch) != 0)
        return -1;
    catalog_source_set_inventory(sv->catalog, cnf_source_inventory(sv->cnf));
    if (scrubber_start(c->data_dir, c->scrub_interval, (uint64_t)c->scrub_rate_mb * 1000000u,
                       &sv->scrubber) != 0)
        return -1;
    catalog_source_on_corrupt(sv->catalog, recheck_blob, sv->scrubber);
    if (probe_start(c, sv) != 0)
        return -1;
    if (c->upstream[0] != '\0') {
        struct pull_params pp = {
            .upstream = c->upstream,
            .data_dir = c->data_dir,
            .workers = c->upstream_pulls,
            .hold_ms = c->upstream_hold_ms,
            .stage_rate = (uint64_t)c->stage_rate_kbit * 125, /* kbit/s to bytes/s */
            .quota_mb = c->upstream_quota_mb,
            .tftp_blksize = c->upstream_tftp_blksize,
            .tftp_windowsize = c->upstream_tftp_windowsize,
        };
        char why[160];

        if (stage_window_parse(c->stage_window[0] ? c->stage_window : "none", &pp.window, why,
                               sizeof(why)) != 0) {
            log_error("stage-window: %s", why);
            return -1;
        }
        if (pull_engine_start(&pp, &sv->pull) != 0)
            return -1;
    }
    if (c->upstream_configs) {
        struct cnf_proxy_params cp = {
            .upstream = c->upstream,
            .data_dir = c->data_dir,
            .tftp_blksize = c->upstream_tftp_blksize,
            .tftp_windowsize = c->upstream_tftp_windowsize,
        };

        if (cnf_proxy_start(&cp, &sv->configs) != 0)
            return -1;
    }
    return central_start(c, sv);
}

static void services_stop(struct services *sv)
{
    fleet_reporter_stop(sv->reporter); /* before the pull engine it stages through */
    pull_engine_stop(sv->pull);        /* no resolver uses it any more */
    prober_stop(sv->probe);
    cnf_proxy_stop(sv->configs);
    scrubber_stop(sv->scrubber);
    genwatch_free(sv->watch); /* no rebuild runs past here */
    catalog_source_free(sv->catalog);
    cnf_source_free(sv->cnf);
    missing_table_free(sv->missing); /* the resolvers using it are gone */
}

/* The admin interface, unless admin-listen is "none"; a refused plain-HTTP
 * address leaves it off (logged) and the rest of loadsd running. */
static int admin_start(const struct loadsd_config *c, struct tftp_server *srv,
                       const struct services *sv, struct admin_http **out)
{
    struct admin_http_params ap = {
        .listen = c->admin_listen,
        .cert_path = c->admin_cert,
        .key_path = c->admin_key,
        .insecure_http = c->admin_insecure_http,
        .web_root = c->web_root,
        .data_dir = c->data_dir,
        .tftp = srv,
        .files = sv->files,
        .pull = sv->pull,
        .reporter = sv->reporter,
        .missing = sv->missing,
        .upload_max_mb = c->upload_max_mb,
        .inventory_stuck_s = c->inventory_stuck_s,
        .inventory = cnf_source_inventory(sv->cnf),
        .watch = sv->watch,
    };

    if (strcmp(c->admin_listen, "none") == 0)
        return 0;
    return admin_http_start(&ap, out) < 0 ? -1 : 0;
}

/* One loadsd per data directory: a second one stops here, having changed
 * nothing, and says which process holds it. The lock is held (the
 * descriptor stays open, across the fork too) until loadsd exits. */
static int data_dir_claim(const char *data_dir, int *fd)
{
    long holder = 0;
    int rc = datadir_daemon_lock(data_dir, fd, &holder);

    if (rc == -EWOULDBLOCK && holder > 0)
        log_error("the data directory %s is in use by another loadsd (PID %ld): stop that one "
                  "first, or give this one its own --data-dir",
                  data_dir, holder);
    else if (rc == -EWOULDBLOCK)
        log_error("the data directory %s is in use by another loadsd: stop that one first, "
                  "or give this one its own --data-dir",
                  data_dir);
    else if (rc != 0)
        log_error("cannot lock the data directory %s: %s", data_dir, strerror(-rc));
    return rc;
}

static int run(const struct loadsd_config *c, int argc, char **argv)
{
    struct admin_http *admin = NULL;
    struct tftp_server *srv = NULL;
    struct files_server_params fp;
    struct tftp_server_params p;
    struct tftp_server_stats st;
    struct services sv = {0};
    struct resolver *r = NULL;
    sigset_t set;
    int rc = EXIT_FAILURE, ready_fd = -1, lock_fd;

    /* Before anything reads or changes the data directory. */
    if (data_dir_claim(c->data_dir, &lock_fd) != 0)
        return EXIT_FAILURE;

    /* Signals are taken synchronously by the main thread only. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!c->foreground)
        ready_fd = daemon_detach();
    datadir_daemon_lock_mark(lock_fd); /* the PID that holds it, after the fork */
    fd_limit_raise(fd_users(c));
    if (services_start(c, &sv) != 0 || resolver_build(c, &sv, &r) != 0)
        goto out;
    params_from_config(c, r, &p);
    if (tftp_server_open(&srv, &p) != 0)
        goto out;
    files_params_from_config(c, r, &fp);
    if (fp.listen_count > 0 && files_server_start(&sv.files, &fp) != 0)
        goto out;
    if (admin_start(c, srv, &sv, &admin) != 0)
        goto out;
    if (c->user[0] != '\0' && privileges_drop(c->user, c->data_dir) != 0)
        goto out;
    if (tftp_server_start(srv) != 0) {
        log_error("cannot start worker threads");
        goto out;
    }
    for (unsigned i = 0; i < c->tftp_listen_count; i++)
        log_info("TFTP listening on %s", c->tftp_listen[i].text);
    log_info("ready: catalog in %s%s%s", c->data_dir, c->serve_dir[0] ? ", serving " : "",
             c->serve_dir);
    sdnotify_send("READY=1");
    daemon_ready(ready_fd);
    ready_fd = -1;
    signal_loop(srv, &sv, &set, argc, argv);
    sdnotify_send("STOPPING=1");
    admin_http_stop(admin);
    admin = NULL;
    files_server_stop(sv.files); /* HTTP clients resume with Range elsewhere or later */
    sv.files = NULL;
    tftp_server_stop(srv, c->grace_seconds * 1000u);
    tftp_server_get_stats(srv, &st);
    log_info("stopped: %llu requests, %llu transfers complete, %llu failed, %llu bytes sent",
             (unsigned long long)st.requests, (unsigned long long)st.transfers_done,
             (unsigned long long)st.transfers_failed, (unsigned long long)st.bytes_sent);
    rc = EXIT_SUCCESS;
out:
    if (ready_fd >= 0)
        close(ready_fd);
    admin_http_stop(admin);
    files_server_stop(sv.files);
    tftp_server_free(srv);
    if (r != NULL)
        resolver_unref(r);
    services_stop(&sv);
    close(lock_fd);
    return rc;
}

int main(int argc, char **argv)
{
    static struct loadsd_config c;
    char err[512];
    int rc = config_load(&c, argc, argv, err, sizeof(err));

    if (rc == 1)
        return EXIT_SUCCESS;
    if (rc != 0) {
        fprintf(stderr, "loadsd: %s\n", err);
        return EXIT_USAGE;
    }
    log_set_level(c.log_level);
    if (c.central[0] != '\0') {
        char token[REPORT_TOKEN_MAX + 1];
        bool loose;

        /* Refused before anything starts: a branch that cannot report. */
        rc = fleet_token_read(c.central_token_file, token, sizeof(token), &loose, err, sizeof(err));
        explicit_bzero(token, sizeof(token));
        if (rc != 0) {
            fprintf(stderr, "loadsd: central-token-file: %s\n", err);
            return EXIT_USAGE;
        }
    }
    umask(027); /* nothing loadsd creates is for other users */
    return run(&c, argc, argv);
}
