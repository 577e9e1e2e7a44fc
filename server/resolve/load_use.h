/* load_use.h: when each load's .loads file was last served, kept in memory by
 * the request path and written by genwatch's thread, to within 5 s. */
#ifndef LOADSD_LOAD_USE_H
#define LOADSD_LOAD_USE_H

#include <sqlite3.h>
#include <stdint.h>

#define LOAD_USE_MAX     4096 /* loads remembered; past it, new ones are not */
#define LOAD_USE_FLUSH   256  /* rows written per flush */
#define LOAD_USE_WRITE_S 5    /* a load's use is written again this often, at most */

struct load_use_table;

struct load_use_table *load_use_new(void);
void load_use_free(struct load_use_table *t);
/* Notes that load (its name, any case, without ".loads") was asked for at
 * time now. A lookup under a mutex; never blocks on I/O. */
void load_use_note(struct load_use_table *t, const char *load, int64_t now);
/* Writes the uses not yet written (a load's first use at once, a later one
 * once LOAD_USE_WRITE_S has passed since the load's last write), at most
 * LOAD_USE_FLUSH, in one transaction; on failure they stay for the next
 * time. For genwatch's thread. */
void load_use_flush(struct load_use_table *t, sqlite3 *db);

#endif
