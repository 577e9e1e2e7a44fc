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
