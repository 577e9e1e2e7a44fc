/* genwatch.h: a thread that polls the catalog database's generation counter
 * and has a snapshot rebuilt when it moves: the shared machinery of the
 * snapshot sources (catalog files, generated configs). Never writes. */
#ifndef LOADSD_GENWATCH_H
#define LOADSD_GENWATCH_H

#include <sqlite3.h>

struct genwatch;

/* Opens db_path, calls rebuild(arg, db) once before returning, then from the
 * thread every poll_ms whenever the generation differs from the one of the
 * last successful rebuild (which returns 0). 0, or -1 (logged). */
int genwatch_start(const char *db_path, unsigned poll_ms, int (*rebuild)(void *arg, sqlite3 *db),
                   void *arg, struct genwatch **out);
/* Stops the thread, closes the database, frees gw (NULL is fine). */
void genwatch_stop(struct genwatch *gw);

#endif
