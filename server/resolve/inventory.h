/* inventory.h: the central's firmware inventory in memory: per phone (MAC),
 * its last config fetch (when, the load it named) and the files of the last
 * load it fetched. Noted by the request path (a lookup under a mutex, no
 * I/O), written to the database by genwatch's tick at most every 5 s. */
#ifndef LOADSD_INVENTORY_H
#define LOADSD_INVENTORY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "db/model/inventory_status.h"

#define INVENTORY_PHONES_MAX 262144 /* phones remembered; past it, new ones are not */
#define INVENTORY_FLUSH_MAX  512    /* rows written per flush */
#define INVENTORY_WRITE_S    5      /* a phone's row is written at most this often */
#define INVENTORY_FILES_MAX  128    /* files of a load told apart; a bigger load never completes */
#define INVENTORY_STRANGERS_MAX                                                                    \
    100000 /* addresses with no known MAC kept; past it the oldest goes */

struct inventory;

/* One load a finished (or abandoned) file belongs to: the load's name, the
 * file's place in the load's file list and how many files the load has. */
struct inventory_hit {
    const char *load;
    unsigned index, total;
};

struct inventory *inventory_new(void);
void inventory_free(struct inventory *inv);

/* The phone mac (12 upper-case hex digits) fetched its config from client at
 * now; the config named load ("" none). Its address joins its file
 * transfers to it from now on. */
void inventory_note_config(struct inventory *inv, const char *mac, const struct sockaddr *client,
                           const char *load, int64_t now);

/* A transfer of a file to client ended at now, finished to its last byte
 * (complete) or not; hits: the loads the file belongs to (n of them). The
 * phone's current load is kept when it is among them (a shared file), else
 * the first becomes its current load (its finished files start over). A
 * client no config fetch came from is not a phone we know: ignored. */
void inventory_note_file(struct inventory *inv, const struct sockaddr *client,
                         const struct inventory_hit *hits, size_t n, bool complete, int64_t now);

/* What a branch reports of one phone's fetches there (docs/FLEET.md, the
 * report's phones): the phone at addr (its text) fetched files_done of the
 * files_total files of load; at its time. Joined to a MAC like a transfer;
 * source names the branch. 0, or -1 when addr is no phone we know or the
 * values are out of range. */
int inventory_merge(struct inventory *inv, const char *addr, const char *load, unsigned files_done,
                    unsigned files_total, int64_t at, const char *source);

/* What the files fetched from one address with no known MAC came to (a
 * branch's phones fetch their configs from the central): the last load it
 * fetched files of, how many of them finished, and when its last transfer
 * ended. A branch reports these as its phones (docs/FLEET.md). */
struct inventory_addr_row {
    char addr[INVENTORY_ADDR_MAX];
    char load[INVENTORY_LOAD_MAX];
    unsigned files_done, files_total;
    int64_t at;
};

/* A copy of at most max of those rows, newest first (malloc'd, *n of them;
 * NULL when none). *finished (may be NULL): how many times an address
 * finished its load's last file so far, to tell a new finish. 0, or -1
 * (out of memory, *rows NULL). */
int inventory_addr_snapshot(struct inventory *inv, size_t max, struct inventory_addr_row **rows,
                            size_t *n, uint64_t *finished);

/* How many times an address with no known MAC finished its load so far. */
uint64_t inventory_addr_finished(struct inventory *inv);

/* Writes the rows changed and not written in the last INVENTORY_WRITE_S
 * (at most INVENTORY_FLUSH_MAX) in one transaction; on failure they stay for
 * the next time. For genwatch's tick. */
void inventory_flush(struct inventory *inv, sqlite3 *db, int64_t now);

#endif
