/* grow.h: growing a heap array by doubling, with the size arithmetic checked
 * for overflow: the one place loadsd's growable arrays get their memory. */
#ifndef LOADSD_GROW_H
#define LOADSD_GROW_H

#include <stddef.h>

/* Makes room for at least need elements of elem bytes in *arr (capacity in
 * *cap, in elements), doubling from first. 0, or -ENOMEM (arr untouched). */
int grow_array(void **arr, size_t *cap, size_t need, size_t elem, size_t first);

#endif
