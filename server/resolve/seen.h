/* seen.h: the address each device's config file was last asked from, kept
 * in memory by the request path (a lookup under a mutex, no I/O) and written
 * to the database by genwatch's thread, only where it changed. */
#ifndef LOADSD_SEEN_H
#define LOADSD_SEEN_H

#include <sqlite3.h>
#include <stdint.h>
#include <sys/socket.h>

#define SEEN_DEVICES_MAX 262144 /* devices remembered; past it, new ones are not */
#define SEEN_FLUSH_MAX   512    /* rows written per flush */
#define SEEN_REFRESH_S   30     /* an unchanged address is written again this often, at most */

struct seen_table;

struct seen_table *seen_table_new(void);
void seen_table_free(struct seen_table *t);
/* Notes that mac's (12 upper-case hex digits) config was asked from from at
 * time now. Never blocks on I/O; cheap when the address is the one noted. */
void seen_table_note(struct seen_table *t, const char *mac, const struct sockaddr *from,
                     int64_t now);
/* Writes the changed addresses (at most SEEN_FLUSH_MAX; the rest next time)
 * in one transaction; on failure they stay to be written next time. For
 * genwatch's thread. */
void seen_table_flush(struct seen_table *t, sqlite3 *db);
/* The text of an address as the table keeps it: IPv4-mapped IPv6 as IPv4.
 * 0 or -1. */
int seen_addr_text(const struct sockaddr *sa, char *out, size_t cap);

#endif
