/* testdir.c: a fresh temporary directory for a unit test's real files, and
 * its removal: one way for every test that needs a file system. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "tests/unit/testdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "db/db.h"

int testdir_make(const char *name, char dir[PATH_MAX])
{
    const char *tmp = getenv("TMPDIR");
    char templ[PATH_MAX];
    int n =
        snprintf(templ, sizeof(templ), "%s/%s.XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp", name);

    if (n < 0 || (size_t)n >= sizeof(templ)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (mkdtemp(templ) == NULL || realpath(templ, dir) == NULL)
        return -1;
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int testdir_remove(const char *dir)
{
    return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct testdb *testdb_new(const char *name)
{
    struct testdb *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    if (testdir_make(name, t->dir) != 0) {
        free(t);
        return NULL;
    }
    snprintf(t->path, sizeof(t->path), "%s/catalog.db", t->dir);
    if (db_open(t->path, &t->db) != DB_OK) {
        testdb_free(t);
        return NULL;
    }
    return t;
}

void testdb_free(struct testdb *t)
{
    if (t == NULL)
        return;
    db_close(t->db);
    (void)testdir_remove(t->dir);
    free(t);
}
