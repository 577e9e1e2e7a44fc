/* testdir.h: a fresh temporary directory for a unit test's real files, and
 * its removal: one way for every test that needs a file system. */
#ifndef LOADSD_TESTDIR_H
#define LOADSD_TESTDIR_H

#include <limits.h>

/* Creates $TMPDIR/NAME.XXXXXX (TMPDIR unset: /tmp) and writes its resolved
 * path to dir. 0, or -1 with errno. */
int testdir_make(const char *name, char dir[PATH_MAX]);

/* Removes dir and everything below it (symbolic links are not followed).
 * 0, or -1 when something stayed. */
int testdir_remove(const char *dir);

#endif
