/* datadir.c: creating, opening and recovering the data directory, and the
 * lock that keeps gc from removing blobs an import has not yet published. */
#include "datadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "db.h"
#include "log.h"

static int mkdir_p(const char *path)
{
    char tmp[4096];

    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Removes the regular files of dir (relative to the data directory). */
static unsigned remove_files(const char *path, const char *dir)
{
    char full[4200];
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
 * progress in another process must keep its row and files). */
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
    files = remove_files(dd->path, "spool") + remove_files(dd->path, "blobs/tmp");
    if (files > 0)
        log_info("removed %u file(s) left by interrupted imports", files);
    datadir_unlock(dd);
}

static int open_parts(struct datadir *dd)
{
    char sub[4200];
    int rc;

    snprintf(sub, sizeof(sub), "%s/spool", dd->path);
    rc = mkdir_p(sub);
    if (rc != 0) {
        log_error("cannot create %s: %s", sub, strerror(-rc));
        return -1;
    }
    snprintf(sub, sizeof(sub), "%s/.lock", dd->path);
    dd->lock_fd = open(sub, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    snprintf(sub, sizeof(sub), "%s/catalog.db", dd->path);
    if (dd->lock_fd < 0 || db_open(sub, &dd->db) != DB_OK)
        return -1;
    rc = blobstore_open(dd->path, &dd->bs);
    if (rc != 0) {
        log_error("cannot open the blob store in %s: %s", dd->path, strerror(-rc));
        return -1;
    }
    recover_leftovers(dd);
    return 0;
}

int datadir_open(const char *path, struct datadir *dd)
{
    memset(dd, 0, sizeof(*dd));
    dd->lock_fd = -1;
    if (snprintf(dd->path, sizeof(dd->path), "%s", path) >= (int)sizeof(dd->path)) {
        log_error("data directory path too long");
        return -1;
    }
    if (open_parts(dd) != 0) {
        datadir_close(dd);
        return -1;
    }
    return 0;
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

static bool blob_in_use(void *arg, const char *hex)
{
    bool used = true; /* on a database error, keep the blob */

    catalog_blob_referenced(arg, hex, &used);
    return used;
}

int datadir_gc(struct datadir *dd, unsigned *removed, bool wait)
{
    int rc = datadir_lock(dd, true, wait);

    if (rc != 0)
        return rc;
    rc = blobstore_gc(dd->bs, blob_in_use, dd->db, removed);
    datadir_unlock(dd);
    return rc;
}
