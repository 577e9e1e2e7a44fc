/* sorted.h: arrays of records kept sorted by a key inside each record: the
 * binary search and the ordered insert that in-memory tables share. */
#ifndef LOADSD_SORTED_H
#define LOADSD_SORTED_H

#include <stdbool.h>
#include <stddef.h>

/* The index of the record whose key (the NUL-terminated string key_off bytes
 * into each size-byte record of v[0..n), sorted by strcmp) equals key, with
 * *found true; else where it would go, with *found false. */
size_t sorted_find(const void *v, size_t n, size_t size, size_t key_off, const char *key,
                   bool *found);

/* The same over any order: cmp(record, key) < 0, 0 or > 0 as the record
 * sorts before, with or after key (a compound key: a struct the caller
 * passes as key). */
size_t sorted_find_by(const void *v, size_t n, size_t size,
                      int (*cmp)(const void *record, const void *key), const void *key,
                      bool *found);

/* Makes room for a record at index i of *v (n records, capacity *cap, grown
 * by grow_array from first), moving the rest up one; the new record is
 * zeroed. 0, or -ENOMEM (nothing changed). */
int sorted_insert(void **v, size_t *cap, size_t n, size_t size, size_t i, size_t first);

#endif
