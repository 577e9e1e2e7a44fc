/* testdir.h: a fresh temporary directory for a unit test's real files, and
 * its removal: one way for every test that needs a file system. */
#ifndef LOADSD_TESTDIR_H
#define LOADSD_TESTDIR_H

#include <limits.h>
#include <sqlite3.h>

/* Creates $TMPDIR/NAME.XXXXXX (TMPDIR unset: /tmp) and writes its resolved
 * path to dir. 0, or -1 with errno. */
int testdir_make(const char *name, char dir[PATH_MAX]);

/* Removes dir and everything below it (symbolic links are not followed).
 * 0, or -1 when something stayed. */
int testdir_remove(const char *dir);

/* A fresh catalog (every migration applied) in a fresh test directory:
 * the fixture of the tests of db/. */
struct testdb {
    char dir[PATH_MAX];
    char path[PATH_MAX + 16]; /* dir/catalog.db */
    sqlite3 *db;
};

/* A new testdb named after the test, its database open; NULL on failure. */
struct testdb *testdb_new(const char *name);
/* Closes the database and removes the directory (NULL is fine). */
void testdb_free(struct testdb *t);

#endif
