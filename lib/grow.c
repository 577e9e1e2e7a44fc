/* grow.c: doubling growth for heap arrays, overflow-checked. No other
 * allocation policy lives here. */
#include "lib/grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int grow_array(void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    size_t n = *cap ? *cap : first;
    void *grown;

    if (need <= *cap)
        return 0;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return -ENOMEM;
        n *= 2;
    }
    if (elem != 0 && n > SIZE_MAX / elem)
        return -ENOMEM;
    grown = realloc(*arr, n * elem);
    if (grown == NULL)
        return -ENOMEM;
    *arr = grown;
    *cap = n;
    return 0;
}
