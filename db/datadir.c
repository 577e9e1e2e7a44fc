/* datadir.c: creating, opening and recovering the data directory, the lock
 * that keeps gc from removing blobs an import has not yet published, and the
 * one that keeps a second loadsd out. Never removes a blob the catalog did
 * not release. */
#include "db/datadir.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/catalog.h"
#include "db/db.h"
#include "lib/log.h"
#include "lib/sizes.h"

static int mkdir_p(const char *path)
{
    char tmp[DIR_BUF];

    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, DATADIR_DIR_MODE) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, DATADIR_DIR_MODE) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Removes the regular files of dir (relative to the data directory). */
static unsigned remove_files(const char *path, const char *dir)
{
    char full[PATH_BUF];
    struct dirent *e;
    struct stat st;
    unsigned n = 0;
    DIR *d;

    snprintf(full, sizeof(full), "%s/%s", path, dir);
    d = opendir(full);
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* What a crash of an import leaves: its row still "running", its temporary
 * blob and spool files. Only when no import holds the lock (an import in
 * progress in another process must keep its row and files), and the links
 * an interrupted loadsctl recover --rebuild staged. */
static void recover_leftovers(struct datadir *dd)
{
    unsigned files;
    int changed = 0;

    if (datadir_lock(dd, true, false) != 0) {
        log_debug("an import is running in %s: leaving its files", dd->path);
        return;
    }
    if (catalog_imports_recover(dd->db, &changed) == DB_OK && changed > 0)
        log_warn("%d import(s) were interrupted before publishing; marked failed", changed);
    files = remove_files(dd->path, "spool") + remove_files(dd->path, "blobs/tmp") +
            remove_files(dd->path, "spool/recover"); /* loadsctl recover --rebuild's links */
    if (files > 0)
        log_info("removed %u file(s) left by interrupted imports", files);
    datadir_unlock(dd);
}

/* Takes group write and every "other" bit off path (relative to dirfd) when
 * it has them; a missing file is fine. */
static void mode_tighten(int dirfd, const char *name, mode_t keep)
{
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode) ||
        (st.st_mode & 07777 & ~keep) == 0)
        return;
    if (fchmodat(dirfd, name, st.st_mode & keep, 0) != 0)
        log_warn("cannot tighten the mode of %s: %s", name, strerror(errno));
    else
        log_info("tightened the mode of %s to %04o", name, (unsigned)(st.st_mode & keep));
}

/* The directory 0750 at most, the database files 0600 (they hold password
 * hashes, sessions and the audit trail); catalog.db is created 0600 before
 * SQLite opens it, and SQLite gives -wal and -shm the mode of catalog.db. */
static int modes_tighten(const char *path)
{
    static const char *const db_files[] = {"catalog.db", "catalog.db-wal", "catalog.db-shm"};
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    mode_tighten(fd, ".", DATADIR_DIR_MODE);
    for (size_t i = 0; i < sizeof(db_files) / sizeof(db_files[0]); i++)
        mode_tighten(fd, db_files[i], DATADIR_DB_MODE);
    close(fd);
    return 0;
}

/* True when path/catalog.db is missing, empty, or holds no schema yet. */
static bool catalog_is_new(const char *path)
{
    char db_path[PATH_BUF];
    struct stat st;
    sqlite3 *db = NULL;
    bool fresh = true;

    snprintf(db_path, sizeof(db_path), "%s/catalog.db", path);
    if (stat(db_path, &st) != 0 || st.st_size == 0)
        return true;
    if (db_open_readonly(db_path, &db) == DB_OK)
        fresh = db_schema_version(db) == 0;
    else
        fresh = false; /* unreadable is not new: db_open reports it */
    if (db != NULL)
        db_close(db);
    return fresh;
}

static int count_blob(void *arg, const char *hex, uint64_t size)
{
    (void)hex;
    (void)size;
    (*(unsigned *)arg)++;
    return 0;
}

/* Blobs and no catalog: refused, so that no new catalog (and no gc of it)
 * ever starts over them. */
static int orphans_refuse(struct datadir *dd)
{
    unsigned n = 0;

    if (blobstore_each(dd->bs, count_blob, &n) != 0 || n == 0)
        return 0;
    log_error("%s holds %u stored blob(s) but no catalog (catalog.db is missing or empty): "
              "refusing to start a new catalog over them. \"loadsctl --data-dir %s recover\" "
              "lists them (--rebuild imports what it can); or restore catalog.db from a backup, "
              "or move blobs/ away to start afresh",
              dd->path, n, dd->path);
    return -1;
}

int datadir_create_catalog(struct datadir *dd)
{
    char sub[PATH_BUF];
    int fd;

    snprintf(sub, sizeof(sub), "%s/catalog.db", dd->path);
    /* Only a file that does not exist yet is opened here: closing a
     * descriptor of a database that SQLite has open in this process would
     * drop its POSIX locks (the admin interface opens the data directory
     * while the catalog source and the jobs hold connections). */
    fd = open(sub, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, DATADIR_DB_MODE);
    if (fd < 0 && errno != EEXIST) {
        log_error("cannot create %s: %s", sub, strerror(errno));
        return -1;
    }
    if (fd >= 0)
        close(fd);
    if (modes_tighten(dd->path) != 0 || db_open(sub, &dd->db) != DB_OK)
        return -1;
    recover_leftovers(dd);
    return 0;
}

static int open_parts(struct datadir *dd, bool recovering)
{
    char sub[PATH_BUF];
    int rc;

    snprintf(sub, sizeof(sub), "%s/spool", dd->path);
    rc = mkdir_p(sub);
    if (rc != 0) {
        log_error("cannot create %s: %s", sub, strerror(-rc));
        return -1;
    }
    snprintf(sub, sizeof(sub), "%s/.lock", dd->path);
    dd->lock_fd = open(sub, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (dd->lock_fd < 0) {
        log_error("cannot open %s: %s", sub, strerror(errno));
        return -1;
    }
    rc = blobstore_open(dd->path, &dd->bs);
    if (rc != 0) {
        log_error("cannot open the blob store in %s: %s", dd->path, strerror(-rc));
        return -1;
    }
    if (catalog_is_new(dd->path)) {
        if (recovering)
            return 0; /* dd->db stays NULL: nothing is created */
        if (orphans_refuse(dd) != 0)
            return -1;
    }
    return datadir_create_catalog(dd);
}

static int open_mode(const char *path, struct datadir *dd, bool recovering)
{
    memset(dd, 0, sizeof(*dd));
    dd->lock_fd = -1;
    if (snprintf(dd->path, sizeof(dd->path), "%s", path) >= (int)sizeof(dd->path)) {
        log_error("data directory path too long");
        return -1;
    }
    if (open_parts(dd, recovering) != 0) {
        datadir_close(dd);
        return -1;
    }
    return 0;
}

int datadir_open(const char *path, struct datadir *dd)
{
    return open_mode(path, dd, false);
}

int datadir_open_recovering(const char *path, struct datadir *dd)
{
    return open_mode(path, dd, true);
}

void datadir_close(struct datadir *dd)
{
    if (dd->bs != NULL)
        blobstore_close(dd->bs);
    if (dd->db != NULL)
        db_close(dd->db);
    if (dd->lock_fd >= 0)
        close(dd->lock_fd);
    dd->bs = NULL;
    dd->db = NULL;
    dd->lock_fd = -1;
}

int datadir_lock(struct datadir *dd, bool exclusive, bool wait)
{
    int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);

    while (flock(dd->lock_fd, op) != 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

void datadir_unlock(struct datadir *dd)
{
    flock(dd->lock_fd, LOCK_UN);
}

struct gc_arg {
    sqlite3 *db;
    unsigned orphans;
};

static bool blob_keep(void *arg, const char *hex)
{
    struct gc_arg *g = arg;
    bool collectable = false, used = true; /* on a database error, keep the blob */

    if (catalog_blob_collectable(g->db, hex, &collectable) != DB_OK || !collectable) {
        if (catalog_blob_referenced(g->db, hex, &used) == DB_OK && !used)
            g->orphans++;
        return true;
    }
    return false;
}

int datadir_gc(struct datadir *dd, struct datadir_gc_totals *t, bool wait)
{
    struct gc_arg g = {dd->db, 0};
    int64_t started = (int64_t)time(NULL);
    int rc;

    memset(t, 0, sizeof(*t));
    if (dd->db == NULL)
        return -EINVAL;
    rc = datadir_lock(dd, true, wait);
    if (rc != 0)
        return rc;
    rc = blobstore_gc(dd->bs, blob_keep, &g, &t->removed);
    if (rc == 0 && catalog_released_prune(dd->db, started) != DB_OK)
        log_warn("gc: cannot forget the blobs it removed (they are gone all the same)");
    datadir_unlock(dd);
    t->orphans = g.orphans;
    return rc;
}

/* ---- one daemon per data directory ---- */

static long lock_holder(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    long pid;
    char *end;

    if (n <= 0)
        return 0;
    text[n] = '\0';
    pid = strtol(text, &end, 10);
    return end != text && pid > 0 ? pid : 0;
}

int datadir_daemon_lock(const char *path, int *fd, long *holder)
{
    char sub[PATH_BUF];
    int rc, f;

    *fd = -1;
    *holder = 0;
    rc = mkdir_p(path);
    if (rc != 0)
        return rc;
    snprintf(sub, sizeof(sub), "%s/" DATADIR_DAEMON_LOCK, path);
    f = open(sub, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (f < 0)
        return -errno;
    while ((rc = flock(f, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        rc = -errno;
        if (rc == -EWOULDBLOCK)
            *holder = lock_holder(f);
        close(f);
        return rc;
    }
    *fd = f;
    return 0;
}

void datadir_daemon_lock_mark(int fd)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n)
        log_warn("cannot write the PID into %s: %s", DATADIR_DAEMON_LOCK, strerror(errno));
}
