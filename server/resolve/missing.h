/* missing.h: the names phones asked for that no source has (the most common
 * misconfiguration), counted in a bounded in-memory table with the last time
 * and address; the resolver notes them, the admin API and /metrics read them. */
#ifndef LOADSD_MISSING_H
#define LOADSD_MISSING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define MISSING_NAMES_MAX 256 /* names kept; past it the least asked-for, oldest goes */
#define MISSING_NAME_MAX  255 /* a normalised name (RESOLVER_NAME_MAX) */
#define MISSING_ADDR_MAX  64  /* an address's text, NUL included */

struct missing_name {
    char name[MISSING_NAME_MAX + 1];
    uint64_t count;                   /* requests for it since it entered the table */
    int64_t last_at;                  /* unix seconds of the last request */
    char last_from[MISSING_ADDR_MAX]; /* the last requester's address, "" unknown */
};

struct missing_stats {
    uint64_t requests; /* every request for a missing name since start */
    uint64_t evicted;  /* names that left the full table */
    size_t names;      /* names in the table now */
};

struct missing_table;

struct missing_table *missing_table_new(void);
void missing_table_free(struct missing_table *t);
/* Notes one request for name (normalised, NUL-terminated; longer than
 * MISSING_NAME_MAX is cut) from from (may be NULL) at now. A NULL table does
 * nothing. Takes a mutex; never blocks on I/O. */
void missing_table_note(struct missing_table *t, const char *name, const struct sockaddr *from,
                        int64_t now);
/* The counters, and up to cap names into top (may be NULL with cap 0), most
 * asked-for first (ties: the latest first). Returns the names written. */
size_t missing_table_top(struct missing_table *t, struct missing_name *top, size_t cap,
                         struct missing_stats *st);

#endif
